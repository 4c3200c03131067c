//! What of a provider's answer may be kept: its error code when it is a short
//! machine code ([`provider_code`]), and free text only after [`redact`], for
//! debug logs.
//!
//! A provider, or a proxy before it, may echo the request's credentials in an
//! error body or header (`Bearer ...`, `access_token=...`, the refresh token of
//! a token request). Errors, `last_error` columns, activity rows and RPC
//! answers therefore never carry provider text; debug logs get it redacted.

/// The longest provider error code kept.
pub const MAX_CODE_CHARS: usize = 64;
/// The longest redacted text kept for a debug log.
pub const MAX_REDACTED_CHARS: usize = 300;
/// What replaces anything token-shaped.
pub const REDACTED: &str = "[redacted]";

/// A provider's error code from a JSON error body, if it is a short machine
/// code: `error` (OAuth, RFC 6749 §5.2), else `code`, else LinkedIn's numeric
/// `serviceErrorCode`. Kept only when it matches `^[a-z0-9_.]{1,64}$` and
/// does not look like a credential; anything else is dropped.
pub fn provider_code(body: &[u8]) -> Option<String> {
    let value = serde_json::from_slice::<serde_json::Value>(body).ok()?;
    let text = |v: Option<&serde_json::Value>| match v {
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    [
        text(value.get("error")),
        text(value.get("code")),
        text(value.get("serviceErrorCode")),
    ]
    .into_iter()
    .flatten()
    .find(|code| is_safe_code(code))
}

/// Whether `code` may be kept as a provider's error code: 1 to 64 of
/// `[a-z0-9_.]`, and no part of it long or mixed enough to be a credential
/// (a lowercase hex token matches the character class, so the class alone is
/// not enough).
pub fn is_safe_code(code: &str) -> bool {
    let chars_ok = !code.is_empty()
        && code.len() <= MAX_CODE_CHARS
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.');
    chars_ok
        && code.split(['_', '.']).all(|part| {
            let digits = part.bytes().filter(u8::is_ascii_digit).count();
            let mixed = digits > 0 && digits < part.len();
            part.len() <= 16 && !(mixed && part.len() >= 8) && digits <= 6
        })
}

/// Provider text made fit for a debug log: control characters become spaces,
/// anything token-shaped becomes [`REDACTED`], and the result is cut to
/// [`MAX_REDACTED_CHARS`].
///
/// Token-shaped: the value after `Bearer`/`Basic`; the value after a key that
/// names a secret (`access_token=`, `"refresh_token": "`, `client_secret:`,
/// `code=`, `password`, `api_key`, `assertion`, ...); any run of
/// base64url/hex/JWT characters (`[A-Za-z0-9_\-+/.~]`) of 20 or more
/// characters that holds a digit, or of 32 or more.
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_REDACTED_CHARS + 16));
    let mut previous_word = String::new();
    let mut separator = String::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        if is_run_char(c) {
            let mut run = String::new();
            while let Some(&c) = chars.peek() {
                if !is_run_char(c) {
                    break;
                }
                run.push(c);
                chars.next();
            }
            let after_key = names_secret(&previous_word) && is_assignment(&separator);
            let after_scheme = is_auth_scheme(&previous_word) && is_blank(&separator);
            if after_key || after_scheme || looks_like_token(&run) {
                out.push_str(REDACTED);
            } else {
                out.push_str(&run);
            }
            previous_word = run;
            separator.clear();
        } else {
            chars.next();
            let c = if c.is_control() { ' ' } else { c };
            separator.push(c);
            out.push(c);
        }
        if out.chars().count() > MAX_REDACTED_CHARS {
            break;
        }
    }
    if out.chars().count() > MAX_REDACTED_CHARS {
        out = out.chars().take(MAX_REDACTED_CHARS).collect();
        out.push('…');
    }
    out
}

/// [`redact`], after replacing every one of `known` (the secrets the request
/// carried, see [`secrets_of_request`]) wherever it appears: a short secret
/// echoed in free text has no shape to be found by.
pub fn redact_known(text: &str, known: &[String]) -> String {
    let mut text = text.to_owned();
    for secret in known.iter().filter(|s| s.len() >= 4) {
        text = text.replace(secret.as_str(), REDACTED);
    }
    redact(&text)
}

/// The secrets a request carries: the credentials of its `Authorization`
/// header, and the values of query and form fields whose names name a secret
/// (`client_secret`, `refresh_token`, `code`, `code_verifier`, `token`, ...).
pub fn secrets_of_request(request: &reqwest::Request) -> Vec<String> {
    let mut secrets = Vec::new();
    for (name, value) in request.headers() {
        let Ok(value) = value.to_str() else { continue };
        if name == reqwest::header::AUTHORIZATION {
            let credentials = value.split_once(' ').map_or(value, |(_, c)| c);
            secrets.push(credentials.trim().to_owned());
        } else if names_secret(name.as_str()) {
            secrets.push(value.to_owned());
        }
    }
    let secret_pairs = |pairs: url::form_urlencoded::Parse<'_>| {
        pairs
            .filter(|(key, value)| names_secret(key) && !value.is_empty())
            .map(|(_, value)| value.into_owned())
            .collect::<Vec<_>>()
    };
    secrets.extend(secret_pairs(request.url().query_pairs()));
    if let Some(body) = request.body().and_then(|b| b.as_bytes()) {
        secrets.extend(secret_pairs(url::form_urlencoded::parse(body)));
    }
    secrets.retain(|s| !s.is_empty());
    secrets
}

fn is_run_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+' | '/' | '.' | '~')
}

fn looks_like_token(run: &str) -> bool {
    let len = run.chars().count();
    (len >= 20 && run.bytes().any(|b| b.is_ascii_digit())) || len >= 32
}

fn names_secret(word: &str) -> bool {
    let word = word.to_ascii_lowercase();
    [
        "token",
        "secret",
        "password",
        "passwd",
        "code",
        "key",
        "assertion",
        "verifier",
        "authorization",
        "signature",
        "credential",
        "cookie",
        "session",
    ]
    .iter()
    .any(|name| word.contains(name))
}

fn is_auth_scheme(word: &str) -> bool {
    word.eq_ignore_ascii_case("bearer") || word.eq_ignore_ascii_case("basic")
}

/// `=`, `:` or `=>`, with quotes and blanks around.
fn is_assignment(separator: &str) -> bool {
    separator.contains(['=', ':'])
        && separator
            .chars()
            .all(|c| matches!(c, '=' | ':' | '>' | '"' | '\'' | ' ' | '\t'))
}

fn is_blank(separator: &str) -> bool {
    !separator.is_empty() && separator.chars().all(|c| c == ' ' || c == '\t')
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "AQV8x1_nJ-3kLmq0PzR7tYwE2sD9fGhJkLzXcVbNm";

    #[test]
    fn bearer_values_and_secret_keys_are_redacted() {
        for text in [
            format!("invalid token: Bearer {TOKEN}"),
            format!("authorization: bearer {TOKEN}"),
            format!("access_token={TOKEN}&x=1"),
            format!(r#"{{"refresh_token": "{TOKEN}"}}"#),
            format!("client_secret: '{TOKEN}'"),
            format!("{TOKEN} was refused"),
        ] {
            let redacted = redact(&text);
            assert!(!redacted.contains(TOKEN), "{redacted}");
            assert!(redacted.contains(REDACTED), "{redacted}");
        }
        // short secrets after a key or a scheme are caught too
        assert_eq!(redact("code=abc123"), "code=[redacted]");
        assert_eq!(redact("Bearer abc"), "Bearer [redacted]");
        assert_eq!(redact("password = hunter2"), "password = [redacted]");
    }

    #[test]
    fn the_request_own_secrets_are_redacted_whatever_their_shape() {
        let request = reqwest::Client::new()
            .post("https://example.test/token?api_key=k3y-v4lue&page=2")
            .bearer_auth("short")
            .form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", "rt-1"),
                ("client_secret", "sandbox-secret"),
            ])
            .build()
            .unwrap();
        let known = secrets_of_request(&request);
        assert_eq!(known, ["short", "k3y-v4lue", "rt-1", "sandbox-secret"]);
        let echoed =
            "refused short, rt-1 and sandbox-secret for k3y-v4lue (grant refresh_token, page 2)";
        assert_eq!(
            redact_known(echoed, &known),
            "refused [redacted], [redacted] and [redacted] for [redacted] (grant refresh_token, page 2)"
        );
    }

    #[test]
    fn jwt_and_hex_runs_are_redacted() {
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
        let hex = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        let redacted = redact(&format!("bad jwt {jwt} and hash {hex}"));
        assert_eq!(redacted, "bad jwt [redacted] and hash [redacted]");
    }

    #[test]
    fn ordinary_text_is_kept_and_cut() {
        assert_eq!(
            redact("The token used in the request has expired"),
            "The token used in the request has expired"
        );
        assert_eq!(redact("invalid_grant\n"), "invalid_grant ");
        let long = "word ".repeat(200);
        let cut = redact(&long);
        assert_eq!(cut.chars().count(), MAX_REDACTED_CHARS + 1);
        assert!(cut.ends_with('…'));
    }

    #[test]
    fn only_short_machine_codes_are_kept() {
        for (body, code) in [
            (
                r#"{"error":"invalid_grant","error_description":"x"}"#,
                Some("invalid_grant"),
            ),
            (
                r#"{"error":"unauthorized_scope_error"}"#,
                Some("unauthorized_scope_error"),
            ),
            (
                r#"{"status":401,"serviceErrorCode":65601,"code":"REVOKED_ACCESS_TOKEN"}"#,
                Some("65601"),
            ),
            (
                r#"{"error":{"code":403,"message":"Rate Limit Exceeded"}}"#,
                None,
            ),
            (r#"{"message":"title is required"}"#, None),
            (r#"{"error":"Invalid access token"}"#, None),
            ("<html>invalid_grant</html>", None),
        ] {
            assert_eq!(provider_code(body.as_bytes()).as_deref(), code, "{body}");
        }
        // token-shaped values never pass, even in the allowed characters
        let hex = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        for code in [
            hex,
            &hex[..40],
            "ab12cd34ef56",
            "abcdefghijklmnopq",
            "12345678",
            &TOKEN.to_lowercase(),
            "",
        ] {
            assert!(!is_safe_code(code), "{code}");
        }
        for code in ["invalid_grant", "access_denied", "65600", "rate.limit_v2"] {
            assert!(is_safe_code(code), "{code}");
        }
    }
}
