//! The sealed byte format and the associated data that binds a ciphertext to its row.
//!
//! Format: `[version = 1][kid length u8][kid bytes][24-byte nonce][ciphertext + 16-byte tag]`.

use super::error::CryptoError;

/// Current sealed format version, the first byte of every sealed value.
pub const SEALED_VERSION: u8 = 1;
/// Length of the XChaCha20 nonce in bytes (192 bits).
pub const NONCE_LEN: usize = 24;
/// Length of the Poly1305 tag in bytes.
pub const TAG_LEN: usize = 16;
/// Domain separation tag at the start of the associated data.
const AAD_DOMAIN: &[u8] = b"nextke.sealed.v1";

/// Where a sealed value lives: it only opens at the same table, column, row and owner.
///
/// Copying a ciphertext to another row (or another user's row) makes it fail to open,
/// so a database-level mix-up or a malicious row swap cannot leak a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Aad<'a> {
    /// Table name, e.g. `integration_connections`.
    pub table: &'a str,
    /// Column name, e.g. `access_token`.
    pub column: &'a str,
    /// Primary key of the row, as text.
    pub row_id: &'a str,
    /// The user or organization that owns the row.
    pub owner: &'a str,
}

impl<'a> Aad<'a> {
    /// Binds a value to `table`.`column` of row `row_id` owned by `owner`.
    pub fn new(table: &'a str, column: &'a str, row_id: &'a str, owner: &'a str) -> Self {
        Self {
            table,
            column,
            row_id,
            owner,
        }
    }

    /// Encodes the header and fields unambiguously: every field is length-prefixed
    /// (u32 big endian), so `("ab", "c")` and `("a", "bc")` differ.
    pub(crate) fn encode(&self, header: &[u8]) -> Vec<u8> {
        let fields = [
            AAD_DOMAIN,
            header,
            self.table.as_bytes(),
            self.column.as_bytes(),
            self.row_id.as_bytes(),
            self.owner.as_bytes(),
        ];
        let len = fields.iter().map(|f| 4 + f.len()).sum();
        let mut out = Vec::with_capacity(len);
        for field in fields {
            // Fields longer than u32::MAX cannot be built from in-memory strings in practice;
            // saturate rather than panic, the encoding stays deterministic.
            let n = u32::try_from(field.len()).unwrap_or(u32::MAX);
            out.extend_from_slice(&n.to_be_bytes());
            out.extend_from_slice(field);
        }
        out
    }
}

/// A sealed value split into its parts, borrowing from the input.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SealedParts<'s> {
    /// Version byte, key id length and key id: authenticated as part of the associated data.
    pub header: &'s [u8],
    /// Key id that sealed the value.
    pub kid: &'s str,
    /// The 24-byte nonce.
    pub nonce: &'s [u8],
    /// Ciphertext followed by the tag.
    pub ciphertext: &'s [u8],
}

impl<'s> SealedParts<'s> {
    /// Splits a sealed value, checking the version and the lengths.
    pub fn parse(sealed: &'s [u8]) -> Result<Self, CryptoError> {
        let (&version, rest) = sealed.split_first().ok_or(CryptoError::Malformed)?;
        if version != SEALED_VERSION {
            return Err(CryptoError::UnsupportedVersion(version));
        }
        let (&kid_len, rest) = rest.split_first().ok_or(CryptoError::Malformed)?;
        let kid_len = usize::from(kid_len);
        if kid_len == 0 || rest.len() < kid_len + NONCE_LEN + TAG_LEN {
            return Err(CryptoError::Malformed);
        }
        let (kid, rest) = rest.split_at(kid_len);
        let kid = std::str::from_utf8(kid).map_err(|_| CryptoError::Malformed)?;
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        Ok(Self {
            header: &sealed[..2 + kid_len],
            kid,
            nonce,
            ciphertext,
        })
    }
}

/// Builds the header `[version][kid length][kid]`; `kid` is at most 16 bytes (checked by the keyring).
pub(crate) fn header(kid: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(2 + kid.len());
    out.push(SEALED_VERSION);
    out.push(u8::try_from(kid.len()).unwrap_or(u8::MAX));
    out.extend_from_slice(kid.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aad_encoding_is_unambiguous() {
        let a = Aad::new("ab", "c", "1", "u").encode(b"h");
        let b = Aad::new("a", "bc", "1", "u").encode(b"h");
        assert_ne!(a, b);
    }

    #[test]
    fn parse_rejects_short_and_unknown_version() {
        assert_eq!(SealedParts::parse(&[]).err(), Some(CryptoError::Malformed));
        assert_eq!(
            SealedParts::parse(&[2, 1, b'a']).err(),
            Some(CryptoError::UnsupportedVersion(2))
        );
        assert_eq!(
            SealedParts::parse(&[1, 4, b'a']).err(),
            Some(CryptoError::Malformed)
        );
    }
}
