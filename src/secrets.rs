//! Resolving the secrets the server runs with: configured ones first, then (in
//! development only) ones generated into the local development-secrets file.
//! In production a missing secret stops start-up with a clear message.

use std::{str::FromStr, time::Duration};

use anyhow::{bail, Context};
use secrecy::{ExposeSecret, SecretString};

use crate::{
    auth::{JwtAlgorithm, JwtConfig, JwtVerifier},
    config::Config,
    crypto::Keyring,
    dev_secrets::DevSecrets,
    providers::http::OutboundConfig,
};

/// What the server verifies tokens and seals secrets with.
pub struct ResolvedSecrets {
    /// The keyring for secrets at rest.
    pub keyring: Keyring,
    /// Caller-token verification.
    pub jwt: JwtVerifier,
}

/// Resolves the keyring and the JWT verifier.
pub fn resolve(config: &Config) -> anyhow::Result<ResolvedSecrets> {
    let jwt_config = jwt_config(config)?;
    let jwt = JwtVerifier::new(&jwt_config).context("invalid jwt settings")?;
    let keyring = keyring(config)?;
    Ok(ResolvedSecrets { keyring, jwt })
}

/// The keyring from `ENCRYPTION_KEYS`, or in development from the local file.
pub fn keyring(config: &Config) -> anyhow::Result<Keyring> {
    if let Some(spec) = &config.encryption_keys {
        return Keyring::parse(spec.expose_secret()).context("invalid ENCRYPTION_KEYS");
    }
    if config.is_production() {
        bail!("ENCRYPTION_KEYS is required in production (kid:base64-32-byte-key,...)");
    }
    let dev = dev_secrets(config)?;
    Keyring::parse(dev.encryption_keys.expose_secret())
        .context("invalid encryption keys in the development-secrets file")
}

/// JWT settings from the environment, or in development an HS256 secret from the local file.
pub fn jwt_config(config: &Config) -> anyhow::Result<JwtConfig> {
    let algorithm = config
        .jwt_algorithm
        .as_deref()
        .map(JwtAlgorithm::from_str)
        .transpose()
        .context("invalid JWT_ALGORITHM")?;
    let mut jwt = if let Some(path) = &config.jwt_public_key_file {
        let pem = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read JWT_PUBLIC_KEY_FILE {}", path.display()))?;
        let algorithm = match algorithm {
            Some(JwtAlgorithm::Hs256) => {
                bail!("JWT_ALGORITHM=HS256 cannot be used with JWT_PUBLIC_KEY_FILE")
            }
            Some(a) => a,
            None => infer_public_key_algorithm(&pem),
        };
        JwtConfig::public_key(algorithm, pem, &config.jwt_issuer, &config.jwt_audience)
    } else if let Some(secret) = &config.jwt_secret {
        if matches!(algorithm, Some(a) if a != JwtAlgorithm::Hs256) {
            bail!("JWT_SECRET only works with HS256; set JWT_PUBLIC_KEY_FILE for RS256 or EdDSA");
        }
        JwtConfig::hs256(secret.clone(), &config.jwt_issuer, &config.jwt_audience)
    } else if config.is_production() {
        bail!("JWT_SECRET or JWT_PUBLIC_KEY_FILE is required in production");
    } else {
        let dev = dev_secrets(config)?;
        JwtConfig::hs256(dev.jwt_secret, &config.jwt_issuer, &config.jwt_audience)
    };
    if let Some(path) = &config.jwt_private_key_file {
        let pem = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read JWT_PRIVATE_KEY_FILE {}", path.display()))?;
        jwt = jwt.with_private_key_pem(SecretString::from(pem));
    }
    Ok(jwt.with_max_ttl_secs(config.jwt_max_ttl_secs))
}

/// RSA keys are far longer than Ed25519 ones; `JWT_ALGORITHM` settles any doubt.
fn infer_public_key_algorithm(pem: &str) -> JwtAlgorithm {
    if pem.len() > 200 {
        JwtAlgorithm::Rs256
    } else {
        JwtAlgorithm::EdDsa
    }
}

fn dev_secrets(config: &Config) -> anyhow::Result<DevSecrets> {
    let (secrets, created) = DevSecrets::load_or_create(&config.dev_secrets_file)
        .context("cannot load or create the development-secrets file")?;
    if created {
        tracing::warn!(
            path = %config.dev_secrets_file.display(),
            "generated development secrets (jwt secret and encryption key); set JWT_SECRET and ENCRYPTION_KEYS in production"
        );
    }
    Ok(secrets)
}

/// Outbound client settings from the configuration.
pub fn outbound_config(config: &Config) -> OutboundConfig {
    let mut outbound = OutboundConfig::default();
    outbound.defaults.request_timeout = config.outbound.timeout();
    outbound.defaults.retry.max_attempts = config.outbound.outbound_max_attempts.max(1);
    outbound.defaults.retry.max_retry_after = Duration::from_secs(120);
    // LinkedIn's limits are per app: one budget for all members, paced evenly
    // with a burst of a twentieth of a second's worth, which lets the pacing
    // catch up on timer overshoot; no second ever sees more than rps + burst
    let rps = config.linkedin.linkedin_rate_limit_rps.max(1);
    let outbound = outbound.with_provider(crate::providers::linkedin::PROVIDER, |p| {
        p.budget.requests = rps;
        p.budget.per = Duration::from_secs(1);
        p.budget.burst = (rps / 20).max(1);
        p.budget.max_wait = Duration::from_secs(30);
    });
    // WhatsApp's throughput is per business number: one budget for every recipient
    let rps = config.calendar.whatsapp_rate_limit_rps.max(1);
    let outbound = outbound.with_provider(crate::providers::whatsapp::PROVIDER, |p| {
        p.budget.requests = rps;
        p.budget.per = Duration::from_secs(1);
        p.budget.burst = (rps / 20).max(1);
        p.budget.max_wait = Duration::from_secs(10);
    });
    // Greenhouse announces its budget in X-RateLimit-* headers, which pause
    // a connection's key when spent (providers/greenhouse.rs): no fixed rate
    let outbound = outbound.with_provider(crate::providers::greenhouse::PROVIDER, |p| {
        p.budget.requests = 1_000;
        p.budget.per = Duration::from_secs(1);
        p.budget.burst = 100;
        p.budget.max_wait = Duration::from_secs(60);
    });
    // Lever's limit is per API key (the budget's credential key): its steady
    // rate with a burst below its own, so no 429 is ever earned
    let ats = &config.ats;
    outbound.with_provider(crate::providers::lever::PROVIDER, |p| {
        p.budget.requests = ats.lever_rate_limit_rps.max(1);
        p.budget.per = Duration::from_secs(1);
        p.budget.burst = ats.lever_rate_limit_burst.max(1);
        p.budget.max_wait = Duration::from_secs(60);
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::AppEnv;

    fn config() -> Config {
        let mut config = Config::from_env().expect("defaults");
        config.jwt_secret = None;
        config.jwt_public_key_file = None;
        config.encryption_keys = None;
        config.dev_secrets_file =
            std::env::temp_dir().join(format!("nextke-dev-{}.json", uuid::Uuid::new_v4().simple()));
        config
    }

    #[test]
    fn production_refuses_to_start_without_secrets() {
        let mut prod = config();
        prod.app_env = AppEnv::Production;
        let err = resolve(&prod).err().expect("no jwt setting");
        assert!(format!("{err:#}").contains("JWT_SECRET"), "{err:#}");
        prod.jwt_secret = Some(SecretString::from("x".repeat(40)));
        let err = resolve(&prod).err().expect("no encryption key");
        assert!(format!("{err:#}").contains("ENCRYPTION_KEYS"), "{err:#}");
        assert!(
            !prod.dev_secrets_file.exists(),
            "production never writes dev secrets"
        );
    }

    #[test]
    fn development_generates_and_reuses_local_secrets() {
        let dev = config();
        let first = resolve(&dev).expect("generated");
        assert!(dev.dev_secrets_file.exists());
        let second = resolve(&dev).expect("reused");
        // the same key: what one sealed, the other opens
        let aad = crate::crypto::Aad::new("t", "c", "r", "o");
        let sealed = first.keyring.seal(b"secret", &aad).expect("seal");
        assert_eq!(
            &second.keyring.open(&sealed, &aad).expect("open")[..],
            b"secret"
        );
        let _ = std::fs::remove_file(&dev.dev_secrets_file);
    }
}
