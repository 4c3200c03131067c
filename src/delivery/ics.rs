//! An iCalendar (RFC 5545) object of one event, for the `.ics` attachment of
//! reminder emails: `VCALENDAR` (`METHOD:PUBLISH`) with one `VEVENT`, times
//! in UTC, TEXT values escaped (§3.3.11) and content lines folded at 75
//! octets (§3.1) without splitting a UTF-8 character; lines end in CRLF.

use chrono::{DateTime, Utc};

/// The product id of objects we make (RFC 5545 §3.7.3).
pub const PRODID: &str = "-//Next_KE//Integrations//EN";
/// The longest content line, in octets, before folding.
const MAX_LINE_OCTETS: usize = 75;

/// One event to render.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IcsEvent {
    /// `UID`: our event id, stable across updates so calendars replace the
    /// event instead of adding another.
    pub uid: String,
    /// `DTSTAMP`: when this version of the object was made.
    pub stamp: DateTime<Utc>,
    /// `SEQUENCE`: 0 first, higher for each revision.
    pub sequence: u32,
    /// `DTSTART`.
    pub start: DateTime<Utc>,
    /// `DTEND`.
    pub end: DateTime<Utc>,
    /// `SUMMARY`.
    pub summary: String,
    /// `DESCRIPTION`, when any.
    pub description: Option<String>,
    /// `LOCATION`, when any.
    pub location: Option<String>,
    /// `URL` (the meeting link), when any.
    pub url: Option<String>,
}

/// The event as an iCalendar object.
pub fn render(event: &IcsEvent) -> String {
    let mut lines: Vec<String> = vec![
        "BEGIN:VCALENDAR".into(),
        "VERSION:2.0".into(),
        format!("PRODID:{PRODID}"),
        "CALSCALE:GREGORIAN".into(),
        "METHOD:PUBLISH".into(),
        "BEGIN:VEVENT".into(),
        format!("UID:{}", escape_text(&event.uid)),
        format!("DTSTAMP:{}", utc(event.stamp)),
        format!("SEQUENCE:{}", event.sequence),
        format!("DTSTART:{}", utc(event.start)),
        format!("DTEND:{}", utc(event.end)),
        format!("SUMMARY:{}", escape_text(&event.summary)),
    ];
    fn text(value: &Option<String>) -> Option<&str> {
        value.as_deref().filter(|v| !v.is_empty())
    }
    if let Some(description) = text(&event.description) {
        lines.push(format!("DESCRIPTION:{}", escape_text(description)));
    }
    if let Some(location) = text(&event.location) {
        lines.push(format!("LOCATION:{}", escape_text(location)));
    }
    if let Some(url) = text(&event.url) {
        // a URI value is not TEXT-escaped; it may hold no control characters
        let url: String = url.chars().filter(|c| !c.is_control()).collect();
        lines.push(format!("URL:{url}"));
    }
    lines.push("END:VEVENT".into());
    lines.push("END:VCALENDAR".into());
    let mut out = String::new();
    for line in lines {
        out.push_str(&fold(&line));
        out.push_str("\r\n");
    }
    out
}

/// A UTC DATE-TIME (`19980119T070000Z`, RFC 5545 §3.3.5 form 2).
fn utc(at: DateTime<Utc>) -> String {
    at.format("%Y%m%dT%H%M%SZ").to_string()
}

/// TEXT escaping (RFC 5545 §3.3.11): `\` `;` `,` are backslash-escaped, a
/// line break becomes `\n`; other control characters are dropped.
pub fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            c if c.is_control() && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

/// Folds one content line (RFC 5545 §3.1): no physical line longer than 75
/// octets, continuation lines start with one space (which counts toward
/// their 75), and a UTF-8 character is never split.
pub fn fold(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + line.len() / MAX_LINE_OCTETS * 3);
    let mut used = 0;
    for c in line.chars() {
        let len = c.len_utf8();
        if used + len > MAX_LINE_OCTETS {
            out.push_str("\r\n ");
            used = 1;
        }
        out.push(c);
        used += len;
    }
    out
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn event() -> IcsEvent {
        IcsEvent {
            uid: "0190f1c2-7b3a-7c4e-9d2f-1a2b3c4d5e6f".to_owned(),
            stamp: Utc.with_ymd_and_hms(2027, 3, 20, 12, 0, 0).unwrap(),
            sequence: 0,
            start: Utc.with_ymd_and_hms(2027, 3, 29, 7, 0, 0).unwrap(),
            end: Utc.with_ymd_and_hms(2027, 3, 29, 7, 45, 0).unwrap(),
            summary: "Interview; round 2, backend".to_owned(),
            description: Some("Bring C:\\notes\nand a pen".to_owned()),
            location: None,
            url: Some("https://meet.nextke.example/r/abc?x=1,2;3".to_owned()),
        }
    }

    #[test]
    fn renders_one_utc_event() {
        let ics = render(&event());
        let expected = "BEGIN:VCALENDAR\r\n\
            VERSION:2.0\r\n\
            PRODID:-//Next_KE//Integrations//EN\r\n\
            CALSCALE:GREGORIAN\r\n\
            METHOD:PUBLISH\r\n\
            BEGIN:VEVENT\r\n\
            UID:0190f1c2-7b3a-7c4e-9d2f-1a2b3c4d5e6f\r\n\
            DTSTAMP:20270320T120000Z\r\n\
            SEQUENCE:0\r\n\
            DTSTART:20270329T070000Z\r\n\
            DTEND:20270329T074500Z\r\n\
            SUMMARY:Interview\\; round 2\\, backend\r\n\
            DESCRIPTION:Bring C:\\\\notes\\nand a pen\r\n\
            URL:https://meet.nextke.example/r/abc?x=1,2;3\r\n\
            END:VEVENT\r\n\
            END:VCALENDAR\r\n";
        assert_eq!(ics, expected);
    }

    #[test]
    fn text_escaping() {
        assert_eq!(escape_text(r"a\b;c,d"), r"a\\b\;c\,d");
        assert_eq!(
            escape_text("one\r\ntwo\nthree\rfour"),
            r"one\ntwo\nthree\nfour"
        );
        assert_eq!(escape_text("bell\u{7}tab\t"), "belltab\t");
        assert_eq!(escape_text("Grüße: ok"), "Grüße: ok");
    }

    #[test]
    fn long_lines_fold_at_75_octets_without_splitting_characters() {
        let mut event = event();
        event.description = Some("Zürich → Köln ✓ ".repeat(20));
        let ics = render(&event);
        for physical in ics.split("\r\n") {
            assert!(
                physical.len() <= 75,
                "{} octets: {physical:?}",
                physical.len()
            );
        }
        // unfolding gives the logical line back
        let unfolded = ics.replace("\r\n ", "");
        let line = unfolded
            .split("\r\n")
            .find(|l| l.starts_with("DESCRIPTION:"))
            .unwrap();
        assert_eq!(
            line,
            format!(
                "DESCRIPTION:{}",
                escape_text(event.description.as_deref().unwrap())
            )
        );
        // exactly 75 octets stays one line, 76 folds
        let exact = "X".repeat(75);
        assert_eq!(fold(&exact), exact);
        assert_eq!(fold(&"X".repeat(76)), format!("{}\r\n X", "X".repeat(75)));
        // a 3-octet character that would cross the boundary moves whole
        let crossing = format!("{}€", "X".repeat(74));
        assert_eq!(fold(&crossing), format!("{}\r\n €", "X".repeat(74)));
    }
}
