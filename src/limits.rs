//! Lengths of caller-supplied values, one set for every layer: the verifier
//! checks identity claims against them, the gRPC converters check request
//! fields, and they match the columns of `migration/` (a PostgreSQL test reads
//! the schema and compares).
//!
//! Lengths count characters (Unicode scalar values), as `varchar(n)` does.

/// Longest `sub` (user id): the `user_id` columns are `varchar(128)`.
pub const USER_ID_MAX: usize = 128;
/// Longest organization id: the `organization_id` columns are `varchar(128)`.
pub const ORG_ID_MAX: usize = 128;
/// Most organizations one token may list in its `orgs` claim.
pub const ORGS_MAX: usize = 256;
/// Longest job kind: `jobs.kind` is `varchar(64)`.
pub const JOB_KIND_MAX: usize = 64;
/// Longest page token; the service writes tokens of at most 52 characters.
pub const PAGE_TOKEN_MAX: usize = 64;

/// Why a caller-supplied string is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextProblem {
    /// It is empty.
    Empty,
    /// It has more than the allowed number of characters.
    TooLong(usize),
    /// It holds a control character (NUL, newline, escape, DEL, C1 ...).
    ControlCharacter,
}

impl TextProblem {
    /// A lowercase description without the value, for error messages.
    pub fn describe(self) -> String {
        match self {
            Self::Empty => "must not be empty".to_owned(),
            Self::TooLong(max) => format!("must be at most {max} characters"),
            Self::ControlCharacter => "must not contain control characters".to_owned(),
        }
    }
}

/// Checks a non-empty value of at most `max` characters without control characters.
pub fn check(value: &str, max: usize) -> Result<(), TextProblem> {
    if value.is_empty() {
        return Err(TextProblem::Empty);
    }
    if value.chars().any(char::is_control) {
        return Err(TextProblem::ControlCharacter);
    }
    if value.chars().count() > max {
        return Err(TextProblem::TooLong(max));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_counts_characters_and_refuses_control_characters() {
        assert_eq!(check("", 4), Err(TextProblem::Empty));
        assert_eq!(check("abcd", 4), Ok(()));
        assert_eq!(check("ééèè", 4), Ok(()), "characters, not bytes");
        assert_eq!(check("abcde", 4), Err(TextProblem::TooLong(4)));
        for bad in ["a\0b", "a\nb", "\u{1b}[1m", "a\u{7f}", "a\u{85}"] {
            assert_eq!(
                check(bad, 16),
                Err(TextProblem::ControlCharacter),
                "{bad:?}"
            );
        }
    }
}
