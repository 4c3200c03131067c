//! Page tokens: opaque to callers, and accepted only in the exact form the
//! service writes (URL-safe base64 without padding of `<prefix>:<key>`).
//!
//! A token is decoded, its key parsed, the token written again from the parsed
//! key and compared with what the caller sent: padding, other base64 forms,
//! trailing data, other spellings of the same key (`+5`, `007`, an upper-case
//! uuid) are all refused as `INVALID_ARGUMENT page_token`.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};

use crate::{
    error::{AppError, Result},
    limits::PAGE_TOKEN_MAX,
};

/// Page size when the caller sets none.
pub const DEFAULT_PAGE_SIZE: u32 = 50;
/// Largest page a caller may ask for.
pub const MAX_PAGE_SIZE: u32 = 500;

/// The page size a caller asked for: 0 is the default, above the maximum is
/// `INVALID_ARGUMENT page_size`.
pub fn page_size(requested: u32) -> Result<u32> {
    match requested {
        0 => Ok(DEFAULT_PAGE_SIZE),
        n if n > MAX_PAGE_SIZE => Err(AppError::invalid(
            "page_size",
            format!("must be at most {MAX_PAGE_SIZE}"),
        )),
        n => Ok(n),
    }
}

/// The token of a page that ends at `key`, under `prefix` (e.g. `a1`).
pub fn encode(prefix: &str, key: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{prefix}:{key}"))
}

/// The key of a token written by [`encode`] with the same `prefix`, where
/// `parse` turns the key text into its value and `canonical` writes it back.
pub fn decode<T>(
    prefix: &str,
    token: &str,
    parse: impl FnOnce(&str) -> Option<T>,
    canonical: impl FnOnce(&T) -> String,
) -> Result<T> {
    let bad = || AppError::invalid("page_token", "not a token from a previous page");
    if token.len() > PAGE_TOKEN_MAX {
        return Err(bad());
    }
    let raw = URL_SAFE_NO_PAD.decode(token).map_err(|_| bad())?;
    let text = std::str::from_utf8(&raw).map_err(|_| bad())?;
    let key = text
        .strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix(':'))
        .ok_or_else(bad)?;
    let value = parse(key).ok_or_else(bad)?;
    if encode(prefix, &canonical(&value)) != token {
        return Err(bad());
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(token: &str) -> Result<i64> {
        decode(
            "j1",
            token,
            |k| k.parse().ok().filter(|id| *id > 0),
            i64::to_string,
        )
    }

    fn activity(token: &str) -> Result<String> {
        decode(
            "a1",
            token,
            |k| uuid::Uuid::parse_str(k).ok(),
            |u| u.hyphenated().to_string(),
        )
        .map(|u| u.to_string())
    }

    #[test]
    fn only_the_written_form_is_accepted() {
        assert_eq!(job(&encode("j1", "42")).unwrap(), 42);
        let id = uuid::Uuid::now_v7().to_string();
        assert_eq!(activity(&encode("a1", &id)).unwrap(), id);
        let longest = encode("a1", &id);
        assert!(longest.len() <= PAGE_TOKEN_MAX, "{}", longest.len());

        let padded = URL_SAFE_NO_PAD.encode("j1:42") + "=";
        let standard = base64::engine::general_purpose::STANDARD.encode("j1:42?>");
        let upper = encode("a1", &id.to_uppercase());
        let simple = encode("a1", &id.replace('-', ""));
        for bad in [
            padded,
            standard,
            encode("j1", "+42"),
            encode("j1", "042"),
            encode("j1", "-1"),
            encode("j1", "0"),
            encode("j1", "42 "),
            URL_SAFE_NO_PAD.encode("j1:42\0"),
            encode("a1", "42"),
            "j1:42".to_owned(),
            "A".repeat(PAGE_TOKEN_MAX + 4),
        ] {
            assert!(job(&bad).is_err(), "{bad}");
        }
        for bad in [
            upper,
            simple,
            encode("j1", &id),
            encode("a1", &format!("{{{id}}}")),
        ] {
            assert!(activity(&bad).is_err(), "{bad}");
        }
    }
}
