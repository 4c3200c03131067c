//! Development secrets for a newcomer who configures nothing.
//!
//! On first start the service writes a JSON file (mode 0600 on unix) holding a random
//! HS256 secret and a one-key encryption keyring; later starts read the same file, so
//! development tokens and sealed rows survive restarts. An existing file is never
//! overwritten. Production configures `JWT_SECRET` / `ENCRYPTION_KEYS` instead.

use std::fs::{self, OpenOptions};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use base64::{engine::general_purpose::STANDARD, Engine as _};
use rand::{rngs::OsRng, RngCore};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::auth::jwt::MIN_HS256_SECRET_LEN;
use crate::crypto::{Keyring, KeyringError};

/// Key id of the encryption key in a freshly created file.
pub const DEV_KID: &str = "dev1";
/// Random bytes in a generated JWT secret (base64 encoded in the file).
const SECRET_BYTES: usize = 32;

/// Secrets read from or written to the development secrets file; `Debug` redacts them.
#[derive(Debug, Clone)]
pub struct DevSecrets {
    /// HS256 shared secret for verifying and minting development tokens.
    pub jwt_secret: SecretString,
    /// Keyring specification (`dev1:base64key`) for secrets at rest.
    pub encryption_keys: SecretString,
}

/// Why the development secrets file could not be used; never includes its contents.
#[derive(Debug, thiserror::Error)]
pub enum DevSecretsError {
    /// The file exists but could not be read.
    #[error("could not read development secrets file {path}")]
    Read {
        /// Path of the file.
        path: PathBuf,
        /// The underlying io error.
        #[source]
        source: io::Error,
    },
    /// The file (or its directory) could not be created.
    #[error("could not write development secrets file {path}")]
    Write {
        /// Path of the file being written.
        path: PathBuf,
        /// The underlying io error.
        #[source]
        source: io::Error,
    },
    /// The file is not JSON with string fields `jwt_secret` and `encryption_keys`.
    #[error("development secrets file {path} is not valid json (line {line}, column {column})")]
    Parse {
        /// Path of the file.
        path: PathBuf,
        /// Line of the syntax or type error.
        line: usize,
        /// Column of the syntax or type error.
        column: usize,
    },
    /// The JWT secret in the file is shorter than 32 bytes.
    #[error("development secrets file {path} has a jwt_secret shorter than 32 bytes")]
    WeakJwtSecret {
        /// Path of the file.
        path: PathBuf,
    },
    /// The keyring specification in the file does not parse.
    #[error("development secrets file {path} has an invalid encryption_keys keyring")]
    Keyring {
        /// Path of the file.
        path: PathBuf,
        /// Why the keyring was rejected (secret-free).
        #[source]
        source: KeyringError,
    },
}

/// On-disk shape of the file.
#[derive(Serialize, Deserialize)]
struct DevSecretsFile {
    jwt_secret: String,
    encryption_keys: String,
}

impl DevSecrets {
    /// Reads `path`, or creates it atomically with fresh random secrets if it does not exist.
    /// Returns the secrets and whether the file was created by this call.
    pub fn load_or_create(path: &Path) -> Result<(Self, bool), DevSecretsError> {
        match fs::read_to_string(path) {
            Ok(text) => Ok((Self::parse(path, &Zeroizing::new(text))?, false)),
            Err(err) if err.kind() == io::ErrorKind::NotFound => Self::create(path),
            Err(source) => Err(DevSecretsError::Read {
                path: path.to_owned(),
                source,
            }),
        }
    }

    /// Parses the encryption keyring held in the file.
    pub fn keyring(&self) -> Result<Keyring, KeyringError> {
        Keyring::parse(self.encryption_keys.expose_secret())
    }

    fn parse(path: &Path, text: &str) -> Result<Self, DevSecretsError> {
        warn_if_shared(path);
        let file: DevSecretsFile =
            serde_json::from_str(text).map_err(|err| DevSecretsError::Parse {
                path: path.to_owned(),
                line: err.line(),
                column: err.column(),
            })?;
        let secrets = Self {
            jwt_secret: SecretString::from(file.jwt_secret),
            encryption_keys: SecretString::from(file.encryption_keys),
        };
        if secrets.jwt_secret.expose_secret().len() < MIN_HS256_SECRET_LEN {
            return Err(DevSecretsError::WeakJwtSecret {
                path: path.to_owned(),
            });
        }
        secrets
            .keyring()
            .map_err(|source| DevSecretsError::Keyring {
                path: path.to_owned(),
                source,
            })?;
        Ok(secrets)
    }

    /// Writes a temporary file with mode 0600, then hard-links it to `path`, which fails
    /// rather than overwrites if another process created `path` meanwhile.
    fn create(path: &Path) -> Result<(Self, bool), DevSecretsError> {
        let write_err = |source| DevSecretsError::Write {
            path: path.to_owned(),
            source,
        };
        let mut secret = Zeroizing::new([0u8; SECRET_BYTES]);
        OsRng.fill_bytes(secret.as_mut());
        let jwt_secret = STANDARD.encode(secret.as_ref());
        let (_, keys) = Keyring::generate(DEV_KID).map_err(|source| DevSecretsError::Keyring {
            path: path.to_owned(),
            source,
        })?;
        let file = DevSecretsFile {
            jwt_secret,
            encryption_keys: keys.expose_secret().to_owned(),
        };
        let json = Zeroizing::new(
            serde_json::to_string_pretty(&file)
                .map_err(|err| write_err(io::Error::other(err.to_string())))?,
        );
        let secrets = Self {
            jwt_secret: SecretString::from(file.jwt_secret),
            encryption_keys: SecretString::from(file.encryption_keys),
        };

        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
            _ => PathBuf::from("."),
        };
        fs::create_dir_all(&dir).map_err(write_err)?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "dev-secrets".to_owned());
        let tmp = dir.join(format!(".{name}.{}.tmp", uuid::Uuid::new_v4()));
        let linked = write_private(&tmp, json.as_bytes()).and_then(|()| fs::hard_link(&tmp, path));
        // The temporary name is gone either way; a failure to remove it is harmless.
        let _ = fs::remove_file(&tmp);
        match linked {
            Ok(()) => {
                tracing::info!(path = %path.display(), "created development secrets file");
                Ok((secrets, true))
            }
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {
                let text = fs::read_to_string(path).map_err(|source| DevSecretsError::Read {
                    path: path.to_owned(),
                    source,
                })?;
                Ok((Self::parse(path, &Zeroizing::new(text))?, false))
            }
            Err(source) => Err(write_err(source)),
        }
    }
}

/// Creates `path` (which must not exist) readable by the owner only, and syncs it.
fn write_private(path: &Path, contents: &[u8]) -> io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

/// Warns when group or others may read the file (unix only).
fn warn_if_shared(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        if let Ok(meta) = fs::metadata(path) {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                tracing::warn!(
                    path = %path.display(),
                    mode = format_args!("{mode:o}").to_string(),
                    "development secrets file is readable by other users"
                );
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_path(name: &str) -> (PathBuf, PathBuf) {
        let dir = std::env::temp_dir().join(format!("nextke-dev-secrets-{}", uuid::Uuid::new_v4()));
        (dir.join("nested").join(name), dir)
    }

    #[test]
    fn creates_then_reads_without_overwriting() {
        let (path, dir) = temp_path("dev-secrets.json");
        let (first, created) = DevSecrets::load_or_create(&path).expect("create");
        assert!(created);
        assert!(first.jwt_secret.expose_secret().len() >= MIN_HS256_SECRET_LEN);
        let ring = first.keyring().expect("keyring");
        assert_eq!(ring.primary_kid(), DEV_KID);

        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = fs::metadata(&path).expect("metadata").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }

        let (second, created) = DevSecrets::load_or_create(&path).expect("load");
        assert!(!created);
        assert_eq!(
            first.jwt_secret.expose_secret(),
            second.jwt_secret.expose_secret()
        );
        assert_eq!(
            first.encryption_keys.expose_secret(),
            second.encryption_keys.expose_secret()
        );
        // Only the file itself is left behind, no temporary files.
        let entries = fs::read_dir(path.parent().expect("parent"))
            .expect("read dir")
            .count();
        assert_eq!(entries, 1);

        let debug = format!("{second:?}");
        assert!(!debug.contains(second.jwt_secret.expose_secret()));
        fs::remove_dir_all(dir).expect("cleanup");
    }

    #[test]
    fn existing_file_is_read_as_is() {
        let (path, dir) = temp_path("dev.json");
        fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        let key = STANDARD.encode([5u8; 32]);
        let contents = format!(
            r#"{{"jwt_secret": "a-hand-written-secret-of-32-bytes-or-more", "encryption_keys": "mine:{key}"}}"#
        );
        fs::write(&path, &contents).expect("write");
        let (secrets, created) = DevSecrets::load_or_create(&path).expect("load");
        assert!(!created);
        assert_eq!(secrets.keyring().expect("keyring").primary_kid(), "mine");
        assert_eq!(fs::read_to_string(&path).expect("read"), contents);
        fs::remove_dir_all(dir).expect("cleanup");
    }

    #[test]
    fn invalid_files_are_rejected_without_echoing_secrets() {
        let (path, dir) = temp_path("bad.json");
        fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        let cases = [
            r#"{"jwt_secret": 12345678901234567890, "encryption_keys": "x"}"#.to_owned(),
            r#"{"jwt_secret": "short-secret-value", "encryption_keys": "k:AAAA"}"#.to_owned(),
            r#"{"jwt_secret": "a-hand-written-secret-of-32-bytes-or-more", "encryption_keys": "k:c2VjcmV0LWtleQ=="}"#.to_owned(),
            "not json".to_owned(),
        ];
        for contents in cases {
            fs::write(&path, &contents).expect("write");
            let err = DevSecrets::load_or_create(&path).expect_err(&contents);
            let message = err.to_string();
            for secret in [
                "12345678901234567890",
                "short-secret-value",
                "c2VjcmV0LWtleQ==",
            ] {
                assert!(!message.contains(secret), "{message}");
            }
            // Never overwritten.
            assert_eq!(fs::read_to_string(&path).expect("read"), contents);
        }
        fs::remove_dir_all(dir).expect("cleanup");
    }
}
