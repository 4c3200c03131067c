//! Job descriptions made safe to show: the provider's HTML cleaned to an
//! allow-list (ammonia's: no scripts, styles, event handlers, forms or
//! foreign markup; links get `rel="noopener noreferrer"`), and its text.

/// Longest plain text kept, in characters.
const MAX_TEXT: usize = 64 * 1024;

/// A description, sanitized, and as plain text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CleanDescription {
    pub html: String,
    pub text: String,
}

/// Entity-escaped HTML (Greenhouse's Job Board serves `&lt;p&gt;`) is
/// unescaped first; HTML with tags of its own is taken as it is.
fn unescaped(html: &str) -> std::borrow::Cow<'_, str> {
    if !html.contains('<') && html.contains("&lt;") {
        std::borrow::Cow::Owned(
            html.replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&#39;", "'")
                .replace("&amp;", "&"),
        )
    } else {
        std::borrow::Cow::Borrowed(html)
    }
}

/// Cleans `html` and extracts its text.
pub fn clean(html: &str) -> CleanDescription {
    if html.trim().is_empty() {
        return CleanDescription {
            html: String::new(),
            text: String::new(),
        };
    }
    let html = ammonia::clean(&unescaped(html));
    let text = html2text::from_read(html.as_bytes(), 10_000)
        .unwrap_or_default()
        .trim()
        .chars()
        .take(MAX_TEXT)
        .collect();
    CleanDescription { html, text }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_handlers_and_styles_go_text_stays() {
        let dirty = r#"<p onclick="steal()">Build <b>APIs</b></p><script>alert(1)</script><style>p{}</style><a href="javascript:x()">x</a><img src=x onerror=alert(1)>"#;
        let clean = clean(dirty);
        for bad in ["script", "onclick", "onerror", "javascript:", "style"] {
            assert!(!clean.html.contains(bad), "{bad} in {}", clean.html);
        }
        assert!(clean.html.contains("<b>APIs</b>"), "{}", clean.html);
        assert!(
            clean.text.contains("Build") && clean.text.contains("APIs"),
            "{}",
            clean.text
        );
        assert!(!clean.text.contains("alert"), "{}", clean.text);
    }

    #[test]
    fn entity_escaped_html_is_read_as_html() {
        let clean = clean("&lt;p&gt;Hello &amp;amp; welcome&lt;/p&gt;");
        assert_eq!(clean.html, "<p>Hello &amp; welcome</p>");
        assert_eq!(clean.text, "Hello & welcome");
        assert_eq!(super::clean("  ").html, "");
    }
}
