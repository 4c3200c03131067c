//! The HMAC-SHA256 checks both ATS providers' webhooks use: constant-time,
//! length-checked, on bytes given exactly as received.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Length of an HMAC-SHA256 in hex.
pub const HEX_LEN: usize = 64;

/// The 32 bytes of a signature written as exactly 64 lower-case hex digits;
/// anything else (empty, short, long, upper-case, not hex) is `None`.
pub fn decode_lower_hex(text: &[u8]) -> Option<[u8; 32]> {
    if text.len() != HEX_LEN {
        return None;
    }
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let mut out = [0u8; 32];
    for (i, pair) in text.chunks_exact(2).enumerate() {
        out[i] = (digit(pair[0])? << 4) | digit(pair[1])?;
    }
    Some(out)
}

/// Whether `signature` is the HMAC-SHA256 of the concatenated `parts` under
/// one of `secrets` (the current secret, and the previous one during a
/// rotation's grace period). Compared in constant time.
pub fn matches_any(signature: &[u8; 32], parts: &[&[u8]], secrets: &[&[u8]]) -> bool {
    let mut found = false;
    for secret in secrets {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
            continue;
        };
        for part in parts {
            mac.update(part);
        }
        // `verify_slice` compares in constant time; every secret is tried
        found |= mac.verify_slice(signature).is_ok();
    }
    found
}

/// The lower-case hex HMAC-SHA256 of the concatenated `parts` (what a
/// provider would send; used by tests and the benchmark's senders).
pub fn sign_hex(secret: &[u8], parts: &[&[u8]]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("hmac takes any key length");
    for part in parts {
        mac.update(part);
    }
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_64_lower_case_hex_digits_decode() {
        let good = sign_hex(b"k", &[b"body"]);
        assert!(decode_lower_hex(good.as_bytes()).is_some());
        assert!(decode_lower_hex(b"").is_none());
        assert!(decode_lower_hex(&good.as_bytes()[..63]).is_none());
        assert!(decode_lower_hex(format!("{good}0").as_bytes()).is_none());
        assert!(decode_lower_hex(good.to_uppercase().as_bytes()).is_none());
        assert!(decode_lower_hex(&[b'g'; 64]).is_none());
    }

    #[test]
    fn a_signature_matches_its_secret_and_parts_only() {
        let sig = decode_lower_hex(sign_hex(b"secret", &[b"tok", b"123"]).as_bytes()).unwrap();
        assert!(matches_any(&sig, &[b"tok", b"123"], &[b"secret"]));
        assert!(matches_any(&sig, &[b"tok123"], &[b"other", b"secret"]));
        assert!(!matches_any(&sig, &[b"tok", b"124"], &[b"secret"]));
        assert!(!matches_any(&sig, &[b"tok", b"123"], &[b"other"]));
        assert!(!matches_any(&sig, &[b"tok", b"123"], &[]));
    }
}
