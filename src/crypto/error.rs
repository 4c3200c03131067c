//! Errors of the secrets-at-rest layer; messages never contain plaintext or keys.

/// Why a sealed value could not be produced or opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// The sealed value names a key id that is not in the keyring.
    #[error("unknown encryption key id {kid:?}")]
    UnknownKeyId {
        /// The key id found in the sealed value (not secret).
        kid: String,
    },
    /// The sealed value is too short or its header is inconsistent.
    #[error("sealed value is malformed")]
    Malformed,
    /// The sealed value uses a format version this build does not know.
    #[error("unsupported sealed format version {0}")]
    UnsupportedVersion(u8),
    /// The tag did not verify: the value was tampered with or moved to another row.
    #[error("sealed value failed authentication")]
    AuthenticationFailed,
    /// The plaintext exceeds what the cipher can encrypt in one message.
    #[error("plaintext too large to seal")]
    PlaintextTooLarge,
    /// The opened plaintext was expected to be text but is not valid utf-8.
    #[error("opened value is not valid utf-8")]
    NotUtf8,
}

/// Why a keyring specification (`kid:base64key,...`) was rejected.
///
/// Variants name the key id or the position of the entry, never the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyringError {
    /// The specification holds no key at all.
    #[error("encryption keyring is empty")]
    Empty,
    /// An entry is not of the form `kid:base64key`.
    #[error("encryption keyring entry {position} is not of the form kid:base64key")]
    MissingSeparator {
        /// 1-based position of the entry in the list.
        position: usize,
    },
    /// A key id is empty, longer than 16 characters or uses characters outside `[A-Za-z0-9_-]`.
    #[error("encryption keyring entry {position} has an invalid key id (1 to 16 characters of A-Z a-z 0-9 _ -)")]
    InvalidKid {
        /// 1-based position of the entry in the list.
        position: usize,
    },
    /// The same key id appears twice.
    #[error("encryption key id {kid:?} appears more than once")]
    DuplicateKid {
        /// The repeated key id.
        kid: String,
    },
    /// The key is not valid standard base64.
    #[error("encryption key {kid:?} is not valid base64")]
    BadBase64 {
        /// The key id whose key failed to decode.
        kid: String,
    },
    /// The key does not decode to exactly 32 bytes.
    #[error("encryption key {kid:?} must be 32 bytes, got {len}")]
    WrongLength {
        /// The key id whose key has the wrong length.
        kid: String,
        /// The decoded length in bytes.
        len: usize,
    },
}
