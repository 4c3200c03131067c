//! The query an authorization server sends the browser back with
//! (RFC 6749 §4.1.2 and §4.1.2.1, RFC 9207's `iss`), parsed strictly: a
//! parameter we read that comes twice, or that does not decode, makes the
//! whole callback an `invalid_request`, never a guess at which value counts.

use percent_encoding::percent_decode_str;

/// Longest callback query accepted, in bytes.
pub const MAX_CALLBACK_QUERY_BYTES: usize = 8 * 1024;

/// What the provider sent back. Parameters we do not read are ignored
/// (providers add their own, such as Google's `scope` and `authuser`).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CallbackParams {
    /// The authorization code.
    pub code: Option<String>,
    /// The state we issued.
    pub state: Option<String>,
    /// The provider's error code, when the user or the server refused.
    pub error: Option<String>,
    /// The provider's free text about `error`; never shown or stored verbatim.
    pub error_description: Option<String>,
    /// RFC 9207 issuer identification.
    pub iss: Option<String>,
}

/// Why a callback query was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallbackQueryError {
    /// Longer than [`MAX_CALLBACK_QUERY_BYTES`].
    #[error("callback query too long")]
    TooLong,
    /// A parameter we read came more than once.
    #[error("duplicated callback parameter {0}")]
    Duplicated(&'static str),
    /// A parameter we read is not valid percent-encoded utf-8 text.
    #[error("malformed callback parameter {0}")]
    Malformed(&'static str),
}

const NAMES: [&str; 5] = ["code", "state", "error", "error_description", "iss"];

impl CallbackParams {
    /// Parses the raw query (without the `?`); `None` is an empty query.
    pub fn parse_query(raw: Option<&str>) -> Result<Self, CallbackQueryError> {
        let raw = raw.unwrap_or("");
        if raw.len() > MAX_CALLBACK_QUERY_BYTES {
            return Err(CallbackQueryError::TooLong);
        }
        let mut params = Self::default();
        for pair in raw.split('&').filter(|p| !p.is_empty()) {
            let (raw_name, raw_value) = pair.split_once('=').unwrap_or((pair, ""));
            // names we read are plain ascii: compare them decoded, so `%73tate`
            // cannot slip a second state past the duplicate check
            let Ok(name) = decode(raw_name) else {
                continue;
            };
            let Some(known) = NAMES.iter().copied().find(|n| *n == name) else {
                continue;
            };
            let value = decode(raw_value).map_err(|()| CallbackQueryError::Malformed(known))?;
            let slot = match known {
                "code" => &mut params.code,
                "state" => &mut params.state,
                "error" => &mut params.error,
                "error_description" => &mut params.error_description,
                _ => &mut params.iss,
            };
            if slot.replace(value).is_some() {
                return Err(CallbackQueryError::Duplicated(known));
            }
        }
        Ok(params)
    }
}

/// `application/x-www-form-urlencoded` decoding that refuses what a lenient
/// decoder would pass through: a `%` not followed by two hex digits, bytes
/// that are not utf-8, and control characters.
fn decode(raw: &str) -> Result<String, ()> {
    let bytes = raw.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'%'
            && !(bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
        {
            return Err(());
        }
    }
    let spaced = raw.replace('+', " ");
    let text = percent_decode_str(&spaced)
        .decode_utf8()
        .map_err(|_| ())?
        .into_owned();
    if text.chars().any(char::is_control) {
        return Err(());
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_parameters_and_ignores_others() {
        let p = CallbackParams::parse_query(Some(
            "code=abc%2Fd&state=s+1&scope=x&authuser=0&iss=https%3A%2F%2Fwww.linkedin.com%2Foauth",
        ))
        .unwrap();
        assert_eq!(p.code.as_deref(), Some("abc/d"));
        assert_eq!(p.state.as_deref(), Some("s 1"));
        assert_eq!(p.iss.as_deref(), Some("https://www.linkedin.com/oauth"));
        assert_eq!(p.error, None);
        assert_eq!(
            CallbackParams::parse_query(None).unwrap(),
            CallbackParams::default()
        );
    }

    #[test]
    fn refuses_duplicates_even_when_encoded() {
        for q in [
            "state=a&state=b",
            "code=a&code=a",
            "state=a&%73tate=b",
            "error=x&error=y",
            "iss=a&iss=",
        ] {
            assert!(
                matches!(
                    CallbackParams::parse_query(Some(q)),
                    Err(CallbackQueryError::Duplicated(_))
                ),
                "{q}"
            );
        }
    }

    #[test]
    fn refuses_malformed_values() {
        for q in [
            "state=%ZZ",
            "state=%4",
            "code=%FF%FE",
            "state=a%00b",
            "error_description=line%0Abreak",
        ] {
            assert!(
                matches!(
                    CallbackParams::parse_query(Some(q)),
                    Err(CallbackQueryError::Malformed(_))
                ),
                "{q}"
            );
        }
        let long = format!("state={}", "a".repeat(MAX_CALLBACK_QUERY_BYTES));
        assert_eq!(
            CallbackParams::parse_query(Some(&long)),
            Err(CallbackQueryError::TooLong)
        );
    }
}
