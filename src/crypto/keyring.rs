//! The keyring: named 256-bit keys, the first one primary, used to seal and open secrets.

use std::fmt;

use base64::{engine::general_purpose::STANDARD, Engine as _};
use chacha20poly1305::{
    aead::{Aead, KeyInit, Payload},
    XChaCha20Poly1305, XNonce,
};
use rand::{rngs::OsRng, RngCore};
use secrecy::SecretString;
use zeroize::Zeroizing;

use super::error::{CryptoError, KeyringError};
use super::sealed::{header, Aad, SealedParts, NONCE_LEN};

/// Length of every key in bytes.
pub const KEY_LEN: usize = 32;
/// Longest accepted key id.
pub const MAX_KID_LEN: usize = 16;

/// One key of the ring; the cipher zeroizes its key copy on drop.
#[derive(Clone)]
struct KeyEntry {
    kid: String,
    cipher: XChaCha20Poly1305,
}

/// Encryption keys by id; the first is the primary that seals, all of them open.
///
/// Rotation: put the new key first and keep the old one after it, so old rows still
/// open; a rewrap job then moves rows to the primary with [`Keyring::rewrap`].
/// `Debug` shows key ids only.
#[derive(Clone)]
pub struct Keyring {
    /// Never empty; index 0 is the primary.
    keys: Vec<KeyEntry>,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("kids", &self.kids().collect::<Vec<_>>())
            .field("keys", &"[REDACTED]")
            .finish()
    }
}

impl std::str::FromStr for Keyring {
    type Err = KeyringError;

    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        Self::parse(spec)
    }
}

/// Checks a key id: 1 to 16 characters of `[A-Za-z0-9_-]`.
fn valid_kid(kid: &str) -> bool {
    (1..=MAX_KID_LEN).contains(&kid.len())
        && kid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl Keyring {
    /// Parses `kid1:base64key,kid2:base64key` (standard base64 of 32 bytes each; the first
    /// entry is the primary). Errors name the key id or entry position, never the key.
    pub fn parse(spec: &str) -> Result<Self, KeyringError> {
        let mut keys: Vec<KeyEntry> = Vec::new();
        let entries = spec.split(',').map(str::trim).filter(|e| !e.is_empty());
        for (index, entry) in entries.enumerate() {
            let position = index + 1;
            let (kid, encoded) = entry
                .split_once(':')
                .ok_or(KeyringError::MissingSeparator { position })?;
            let kid = kid.trim();
            if !valid_kid(kid) {
                return Err(KeyringError::InvalidKid { position });
            }
            if keys.iter().any(|k| k.kid == kid) {
                return Err(KeyringError::DuplicateKid {
                    kid: kid.to_owned(),
                });
            }
            let bytes = Zeroizing::new(STANDARD.decode(encoded.trim()).map_err(|_| {
                KeyringError::BadBase64 {
                    kid: kid.to_owned(),
                }
            })?);
            let wrong_length = || KeyringError::WrongLength {
                kid: kid.to_owned(),
                len: bytes.len(),
            };
            if bytes.len() != KEY_LEN {
                return Err(wrong_length());
            }
            let cipher = XChaCha20Poly1305::new_from_slice(&bytes).map_err(|_| wrong_length())?;
            keys.push(KeyEntry {
                kid: kid.to_owned(),
                cipher,
            });
        }
        if keys.is_empty() {
            return Err(KeyringError::Empty);
        }
        Ok(Self { keys })
    }

    /// Creates a ring with one fresh random key named `kid` and returns it with its
    /// specification (`kid:base64key`), which is secret and so wrapped.
    pub fn generate(kid: &str) -> Result<(Self, SecretString), KeyringError> {
        if !valid_kid(kid) {
            return Err(KeyringError::InvalidKid { position: 1 });
        }
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        OsRng.fill_bytes(key.as_mut());
        let spec = Zeroizing::new(format!("{kid}:{}", STANDARD.encode(key.as_ref())));
        let ring = Self::parse(&spec)?;
        Ok((ring, SecretString::from(spec.to_string())))
    }

    /// Id of the key that seals new values.
    pub fn primary_kid(&self) -> &str {
        // `keys` is never empty: `parse` rejects an empty specification.
        self.keys
            .first()
            .map(|k| k.kid.as_str())
            .unwrap_or_default()
    }

    /// All key ids, primary first.
    pub fn kids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|k| k.kid.as_str())
    }

    fn entry(&self, kid: &str) -> Option<&KeyEntry> {
        self.keys.iter().find(|k| k.kid == kid)
    }

    /// Seals `plaintext` with the primary key, bound to `aad`, with a random 192-bit nonce.
    pub fn seal(&self, plaintext: &[u8], aad: &Aad<'_>) -> Result<Vec<u8>, CryptoError> {
        let primary = self
            .keys
            .first()
            .ok_or(CryptoError::UnknownKeyId { kid: String::new() })?;
        let header = header(&primary.kid);
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);
        let aad_bytes = aad.encode(&header);
        let ciphertext = primary
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: &aad_bytes,
                },
            )
            .map_err(|_| CryptoError::PlaintextTooLarge)?;
        let mut out = Vec::with_capacity(header.len() + NONCE_LEN + ciphertext.len());
        out.extend_from_slice(&header);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        Ok(out)
    }

    /// Opens a sealed value with whichever key of the ring sealed it, checking it belongs at `aad`.
    pub fn open(&self, sealed: &[u8], aad: &Aad<'_>) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let parts = SealedParts::parse(sealed)?;
        let entry = self
            .entry(parts.kid)
            .ok_or_else(|| CryptoError::UnknownKeyId {
                kid: parts.kid.to_owned(),
            })?;
        let aad_bytes = aad.encode(parts.header);
        entry
            .cipher
            .decrypt(
                XNonce::from_slice(parts.nonce),
                Payload {
                    msg: parts.ciphertext,
                    aad: &aad_bytes,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| CryptoError::AuthenticationFailed)
    }

    /// Opens a sealed utf-8 secret (an access token, an api key) as a [`SecretString`].
    pub fn open_string(&self, sealed: &[u8], aad: &Aad<'_>) -> Result<SecretString, CryptoError> {
        let mut bytes = self.open(sealed, aad)?;
        match String::from_utf8(std::mem::take(&mut *bytes)) {
            Ok(text) => Ok(SecretString::from(text)),
            Err(err) => {
                // Dropping through `Zeroizing` wipes the bytes we could not use.
                drop(Zeroizing::new(err.into_bytes()));
                Err(CryptoError::NotUtf8)
            }
        }
    }

    /// Key id a sealed value was sealed with, or `None` if it is malformed.
    pub fn kid_of(sealed: &[u8]) -> Option<&str> {
        SealedParts::parse(sealed).ok().map(|p| p.kid)
    }

    /// Whether a well-formed sealed value was sealed with a key other than the primary.
    ///
    /// Malformed values answer `false`: rewrapping cannot repair them.
    pub fn needs_rewrap(&self, sealed: &[u8]) -> bool {
        Self::kid_of(sealed).is_some_and(|kid| kid != self.primary_kid())
    }

    /// Opens a value with its (possibly old) key and seals it again with the primary key.
    pub fn rewrap(&self, sealed: &[u8], aad: &Aad<'_>) -> Result<Vec<u8>, CryptoError> {
        let plaintext = self.open(sealed, aad)?;
        self.seal(&plaintext, aad)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    const AAD: Aad<'static> = Aad {
        table: "integration_connections",
        column: "access_token",
        row_id: "row-1",
        owner: "user-1",
    };

    fn key_b64(byte: u8) -> String {
        STANDARD.encode([byte; KEY_LEN])
    }

    fn ring(spec: &[(&str, u8)]) -> Keyring {
        let spec: Vec<String> = spec
            .iter()
            .map(|(kid, b)| format!("{kid}:{}", key_b64(*b)))
            .collect();
        Keyring::parse(&spec.join(",")).expect("valid keyring")
    }

    #[test]
    fn round_trip() {
        let ring = ring(&[("k1", 1)]);
        let sealed = ring.seal(b"secret token", &AAD).expect("seal");
        assert_eq!(sealed[0], 1);
        assert_eq!(Keyring::kid_of(&sealed), Some("k1"));
        assert_eq!(
            &ring.open(&sealed, &AAD).expect("open")[..],
            b"secret token"
        );
        assert_eq!(
            ring.open_string(&sealed, &AAD)
                .expect("open string")
                .expose_secret(),
            "secret token"
        );
        // Random nonces: sealing twice gives different bytes.
        assert_ne!(sealed, ring.seal(b"secret token", &AAD).expect("seal"));
    }

    #[test]
    fn empty_plaintext_round_trips() {
        let ring = ring(&[("k1", 1)]);
        let sealed = ring.seal(b"", &AAD).expect("seal");
        assert!(ring.open(&sealed, &AAD).expect("open").is_empty());
    }

    #[test]
    fn moved_ciphertext_does_not_open() {
        let ring = ring(&[("k1", 1)]);
        let sealed = ring.seal(b"secret", &AAD).expect("seal");
        let moved = [
            Aad {
                row_id: "row-2",
                ..AAD
            },
            Aad {
                column: "refresh_token",
                ..AAD
            },
            Aad {
                table: "ats_configs",
                ..AAD
            },
            Aad {
                owner: "user-2",
                ..AAD
            },
        ];
        for aad in moved {
            assert_eq!(
                ring.open(&sealed, &aad).err(),
                Some(CryptoError::AuthenticationFailed),
                "{aad:?}"
            );
        }
    }

    #[test]
    fn tampered_byte_fails() {
        let ring = ring(&[("k1", 1)]);
        let sealed = ring.seal(b"secret", &AAD).expect("seal");
        for index in 0..sealed.len() {
            let mut tampered = sealed.clone();
            tampered[index] ^= 0x01;
            assert!(ring.open(&tampered, &AAD).is_err(), "byte {index}");
        }
        assert_eq!(
            ring.open(&sealed[..sealed.len() - 1], &AAD).err(),
            Some(CryptoError::AuthenticationFailed)
        );
        assert_eq!(
            ring.open(&sealed[..10], &AAD).err(),
            Some(CryptoError::Malformed)
        );
    }

    #[test]
    fn unknown_kid_and_version() {
        let old = ring(&[("old", 1)]);
        let other = ring(&[("new", 2)]);
        let sealed = old.seal(b"secret", &AAD).expect("seal");
        assert_eq!(
            other.open(&sealed, &AAD).err(),
            Some(CryptoError::UnknownKeyId { kid: "old".into() })
        );
        let mut v2 = sealed.clone();
        v2[0] = 2;
        assert_eq!(
            old.open(&v2, &AAD).err(),
            Some(CryptoError::UnsupportedVersion(2))
        );
    }

    #[test]
    fn rotation_keeps_old_key_and_rewrap_moves_to_primary() {
        let before = ring(&[("old", 1)]);
        let sealed = before.seal(b"secret", &AAD).expect("seal");
        let after = ring(&[("new", 2), ("old", 1)]);
        assert_eq!(after.primary_kid(), "new");
        assert_eq!(&after.open(&sealed, &AAD).expect("open")[..], b"secret");
        assert!(after.needs_rewrap(&sealed));
        assert!(!before.needs_rewrap(&sealed));
        assert!(!after.needs_rewrap(b"garbage"));

        let rewrapped = after.rewrap(&sealed, &AAD).expect("rewrap");
        assert_eq!(Keyring::kid_of(&rewrapped), Some("new"));
        assert!(!after.needs_rewrap(&rewrapped));
        assert_eq!(&after.open(&rewrapped, &AAD).expect("open")[..], b"secret");
        // The rewrapped value no longer needs the old key.
        let only_new = ring(&[("new", 2)]);
        assert_eq!(
            &only_new.open(&rewrapped, &AAD).expect("open")[..],
            b"secret"
        );
        // Rewrap still checks the row binding.
        assert!(after.rewrap(&sealed, &Aad { row_id: "x", ..AAD }).is_err());
    }

    #[test]
    fn swapping_kid_to_another_key_fails() {
        let ring = ring(&[("aa", 1), ("bb", 2)]);
        let mut sealed = ring.seal(b"secret", &AAD).expect("seal");
        sealed[2..4].copy_from_slice(b"bb");
        assert_eq!(
            ring.open(&sealed, &AAD).err(),
            Some(CryptoError::AuthenticationFailed)
        );
    }

    #[test]
    fn parse_errors_name_the_kid_but_never_the_key() {
        let key = key_b64(7);
        let cases = [
            ("".to_owned(), KeyringError::Empty),
            (" , ".to_owned(), KeyringError::Empty),
            (key.clone(), KeyringError::MissingSeparator { position: 1 }),
            (
                format!("{key}:k1"),
                KeyringError::InvalidKid { position: 1 },
            ),
            (
                format!("k1:{key},bad kid:{key}"),
                KeyringError::InvalidKid { position: 2 },
            ),
            (
                format!("k1:{key},k1:{}", key_b64(8)),
                KeyringError::DuplicateKid { kid: "k1".into() },
            ),
            (
                "k1:not*base64".to_owned(),
                KeyringError::BadBase64 { kid: "k1".into() },
            ),
            (
                format!("k1:{}", STANDARD.encode([1u8; 16])),
                KeyringError::WrongLength {
                    kid: "k1".into(),
                    len: 16,
                },
            ),
            (
                format!("abcdefghijklmnopq:{key}"),
                KeyringError::InvalidKid { position: 1 },
            ),
        ];
        for (spec, expected) in cases {
            let err = Keyring::parse(&spec).expect_err(&spec);
            assert_eq!(err, expected);
            assert!(!err.to_string().contains(&key), "{err}");
        }
        let ring = Keyring::parse(&format!(" k_1-A : {key} , k2:{}", key_b64(9))).expect("ok");
        assert_eq!(ring.kids().collect::<Vec<_>>(), ["k_1-A", "k2"]);
    }

    #[test]
    fn generate_and_debug_does_not_print_keys() {
        let (ring, spec) = Keyring::generate("dev1").expect("generate");
        assert_eq!(ring.primary_kid(), "dev1");
        let key = spec
            .expose_secret()
            .strip_prefix("dev1:")
            .expect("prefix")
            .to_owned();
        assert_eq!(STANDARD.decode(&key).expect("base64").len(), KEY_LEN);
        let reparsed: Keyring = spec.expose_secret().parse().expect("parse");
        let sealed = ring.seal(b"x", &AAD).expect("seal");
        assert_eq!(&reparsed.open(&sealed, &AAD).expect("open")[..], b"x");

        let debug = format!("{ring:?} {spec:?}");
        assert!(debug.contains("dev1"));
        assert!(!debug.contains(&key), "{debug}");
        assert!(Keyring::generate("no spaces").is_err());
    }
}
