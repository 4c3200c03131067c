//! Secrets at rest: XChaCha20-Poly1305 with a keyring and row-bound associated data.
//!
//! # Layout
//! - [`keyring`]: the [`Keyring`] (key ids and keys, first one primary), parsed from
//!   `ENCRYPTION_KEYS=kid:base64key,...`, with `seal`, `open` and `rewrap`.
//! - [`sealed`]: the sealed byte format and the [`Aad`] that binds a ciphertext to its row.
//! - [`error`]: [`CryptoError`] and [`KeyringError`], neither of which ever carries
//!   plaintext or key material.

pub mod error;
pub mod keyring;
pub mod sealed;

pub use error::{CryptoError, KeyringError};
pub use keyring::Keyring;
pub use sealed::{Aad, SEALED_VERSION};
/// Re-exported so callers can name the type [`Keyring::open`] returns.
pub use zeroize::Zeroizing;
