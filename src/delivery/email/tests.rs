use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::TcpListener,
};

use super::*;

fn from() -> Mailbox {
    "Next_KE <reminders@nextke.example>".parse().unwrap()
}

fn email(ics: Option<String>) -> ReminderEmail {
    ReminderEmail {
        to: "Ada <ada@example.com>".parse().unwrap(),
        subject: "Reminder: interview tomorrow".to_owned(),
        text: "Your interview starts tomorrow at 09:00.".to_owned(),
        html: "<p>Your interview starts tomorrow at <b>09:00</b>.</p>".to_owned(),
        ics,
        message_id: "<reminder-0190f1c2-1440@nextke.example>".to_owned(),
    }
}

fn ics() -> String {
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:PUBLISH\r\nBEGIN:VEVENT\r\nUID:abc\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
        .to_owned()
}

/// The value of the first header `name` (case-insensitive) in `text`.
fn header<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    text.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.eq_ignore_ascii_case(name).then(|| value.trim())
    })
}

/// The boundary parameter of a multipart content type.
fn boundary(content_type: &str) -> String {
    content_type
        .split(';')
        .find_map(|p| p.trim().strip_prefix("boundary="))
        .unwrap()
        .trim_matches('"')
        .to_owned()
}

/// The parts between `--boundary` lines.
fn parts<'a>(body: &'a str, boundary: &str) -> Vec<&'a str> {
    let open = format!("--{boundary}");
    body.split(open.as_str())
        .skip(1)
        .filter(|p| !p.starts_with("--"))
        .collect()
}

#[test]
fn reminder_email_is_mixed_alternative_plus_ics() {
    let message = reminder_email(&from(), email(Some(ics()))).unwrap();
    let text = String::from_utf8(message.formatted()).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    assert_eq!(
        header(head, "Message-ID"),
        Some("<reminder-0190f1c2-1440@nextke.example>")
    );
    assert_eq!(
        header(head, "Subject"),
        Some("Reminder: interview tomorrow")
    );
    assert!(header(head, "From")
        .unwrap()
        .contains("reminders@nextke.example"));
    assert!(header(head, "To").unwrap().contains("ada@example.com"));
    assert_eq!(header(head, "MIME-Version"), Some("1.0"));
    // the content type may be folded onto the next line
    let mixed_type = head
        .replace("\r\n ", " ")
        .lines()
        .find_map(|l| l.strip_prefix("Content-Type: ").map(str::to_owned))
        .unwrap();
    assert!(mixed_type.starts_with("multipart/mixed"), "{mixed_type}");
    let outer = parts(body, &boundary(&mixed_type));
    assert_eq!(outer.len(), 2, "alternative + attachment");

    let alternative = outer[0].replace("\r\n ", " ");
    let alt_type = header(&alternative, "Content-Type").unwrap();
    assert!(alt_type.starts_with("multipart/alternative"), "{alt_type}");
    let inner = parts(&alternative, &boundary(alt_type));
    assert_eq!(inner.len(), 2);
    assert!(header(inner[0], "Content-Type")
        .unwrap()
        .starts_with("text/plain"));
    assert!(inner[0].contains("Your interview starts tomorrow at 09:00."));
    assert!(header(inner[1], "Content-Type")
        .unwrap()
        .starts_with("text/html"));
    assert!(inner[1].contains("<b>09:00</b>"));

    let attachment = outer[1].replace("\r\n ", " ");
    let ics_type = header(&attachment, "Content-Type").unwrap();
    assert!(ics_type.starts_with("text/calendar"), "{ics_type}");
    assert!(ics_type.contains("method=PUBLISH"), "{ics_type}");
    let disposition = header(&attachment, "Content-Disposition").unwrap();
    assert!(disposition.starts_with("attachment"), "{disposition}");
    assert!(disposition.contains("invite.ics"), "{disposition}");
    assert!(attachment.contains("BEGIN:VCALENDAR"), "{attachment}");
}

#[test]
fn without_ics_there_is_no_attachment() {
    let message = reminder_email(&from(), email(None)).unwrap();
    let text = String::from_utf8(message.formatted()).unwrap();
    assert!(!text.contains("text/calendar"));
    assert!(text.contains("multipart/alternative"));
}

#[test]
fn message_ids_must_be_angle_bracketed_addr_specs() {
    for bad in [
        "reminder@nextke.example",
        "<no-at>",
        "<a@b@c>",
        "<a b@c>",
        "<@c>",
        "<a@>",
        "<a@c>\r\nBcc: x@y",
    ] {
        let mut e = email(None);
        e.message_id = bad.to_owned();
        assert!(reminder_email(&from(), e).is_err(), "{bad:?}");
    }
}

#[test]
fn a_mailer_is_built_outside_a_runtime_too() {
    // the pool connects on the first send, inside the runtime that sends
    let settings = EmailSettings::new("smtp.example.com", 587, from(), SmtpTls::StartTls);
    assert!(Mailer::new(&settings).is_ok());
}

#[tokio::test]
async fn settings_debug_hides_the_password_and_pairs_are_checked() {
    let mut settings = EmailSettings::new("smtp.example.com", 587, from(), SmtpTls::StartTls);
    settings.username = Some("mailer".to_owned());
    settings.password = Some(SecretString::from("hunter2-smtp-pass"));
    assert!(!format!("{settings:?}").contains("hunter2"));
    let mailer = Mailer::new(&settings).unwrap();
    assert!(!format!("{mailer:?}").contains("hunter2"));
    settings.password = None;
    assert_eq!(
        Mailer::new(&settings).unwrap_err(),
        DeliveryError::Settings("smtp user name and password go together")
    );
}

/// A one-connection SMTP server that refuses `MAIL FROM` with `reply`
/// (or accepts everything when `reply` is `None`).
async fn smtp_sink(reply: Option<&'static str>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let Ok((stream, _)) = listener.accept().await else {
            return;
        };
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read).lines();
        let _ = write.write_all(b"220 sink ESMTP\r\n").await;
        let mut in_data = false;
        while let Ok(Some(line)) = lines.next_line().await {
            let answer: &[u8] = if in_data {
                if line == "." {
                    in_data = false;
                    b"250 queued\r\n"
                } else {
                    continue;
                }
            } else {
                let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
                match verb.as_str() {
                    "EHLO" | "HELO" => b"250 sink\r\n",
                    "MAIL" => match reply {
                        Some(reply) => reply.as_bytes(),
                        None => b"250 ok\r\n",
                    },
                    "RCPT" => b"250 ok\r\n",
                    "DATA" => {
                        in_data = true;
                        b"354 go ahead\r\n"
                    }
                    "QUIT" => {
                        let _ = write.write_all(b"221 bye\r\n").await;
                        return;
                    }
                    _ => b"250 ok\r\n",
                }
            };
            if write.write_all(answer).await.is_err() {
                return;
            }
        }
    });
    port
}

fn mailer_on(port: u16) -> Mailer {
    let mut settings = EmailSettings::new("127.0.0.1", port, from(), SmtpTls::None);
    settings.timeout = Duration::from_secs(5);
    Mailer::new(&settings).unwrap()
}

#[tokio::test]
async fn sends_and_classifies_smtp_replies() {
    let port = smtp_sink(None).await;
    let mailer = mailer_on(port);
    let message = mailer.reminder_email(email(Some(ics()))).unwrap();
    mailer.send(message).await.unwrap();

    let port = smtp_sink(Some("451 4.3.0 try again later secret-detail\r\n")).await;
    let mailer = mailer_on(port);
    let err = mailer
        .send(mailer.reminder_email(email(None)).unwrap())
        .await
        .unwrap_err();
    assert_eq!(err, DeliveryError::Transient { code: 451 });
    assert!(err.is_retryable());
    assert!(!err.to_string().contains("secret-detail"));

    let port = smtp_sink(Some("550 5.7.1 relaying denied\r\n")).await;
    let mailer = mailer_on(port);
    let err = mailer
        .send(mailer.reminder_email(email(None)).unwrap())
        .await
        .unwrap_err();
    assert_eq!(err, DeliveryError::Permanent { code: 550 });
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn a_refused_connection_is_retryable() {
    // bind then drop: nothing listens on the port any more
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap().port()
    };
    let mailer = mailer_on(port);
    let err = mailer
        .send(mailer.reminder_email(email(None)).unwrap())
        .await
        .unwrap_err();
    assert_eq!(err, DeliveryError::Connection);
    assert!(err.is_retryable());
}
