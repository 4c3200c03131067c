//! What the providers' webhook simulations share: HMAC-SHA256 in lowercase
//! hex, and delivering a signed body to the service over HTTP.
//!
//! Each provider's own module ([`crate::greenhouse::webhooks`],
//! [`crate::lever::webhooks`]) builds its body and headers; this file only
//! signs bytes and posts them unchanged.

use std::sync::OnceLock;
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// `hex(HMAC-SHA256(key, message))`, 64 lowercase hex digits.
pub fn hmac_sha256_hex(key: &[u8], message: &[u8]) -> String {
    // HMAC takes a key of any length, so this cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("hmac accepts any key length");
    mac.update(message);
    hex::encode(mac.finalize().into_bytes())
}

/// A webhook could not be delivered (no HTTP answer at all).
#[derive(Debug, thiserror::Error)]
#[error("webhook delivery failed")]
pub struct WebhookSendError(#[from] reqwest::Error);

fn client() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("a plain HTTP client builds")
    })
}

/// POST `body` to `url` with exactly these headers; the answer's status.
pub(crate) async fn post(
    url: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> Result<u16, WebhookSendError> {
    let mut req = client().post(url).body(body.to_vec());
    for (name, value) in headers {
        req = req.header(name.as_str(), value.as_str());
    }
    let resp = req.send().await?;
    Ok(resp.status().as_u16())
}

/// HMAC-SHA256 written out from RFC 2104 with `sha2` alone, so tests check
/// signatures independently of the `hmac` crate the sandbox signs with.
#[cfg(test)]
pub(crate) fn rfc2104_hmac_sha256(key: &[u8], msg: &[u8]) -> String {
    use sha2::Digest;
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let ipad: Vec<u8> = k.iter().map(|b| b ^ 0x36).collect();
    let opad: Vec<u8> = k.iter().map(|b| b ^ 0x5c).collect();
    let inner = Sha256::new()
        .chain_update(&ipad)
        .chain_update(msg)
        .finalize();
    let outer = Sha256::new()
        .chain_update(&opad)
        .chain_update(inner)
        .finalize();
    outer.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn independent_hmac_agrees() {
        let long_key = [7u8; 100];
        for key in [&b"k"[..], &long_key[..]] {
            assert_eq!(
                rfc2104_hmac_sha256(key, b"msg"),
                hmac_sha256_hex(key, b"msg")
            );
        }
    }

    #[test]
    fn rfc_4231_case_2() {
        assert_eq!(
            hmac_sha256_hex(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
