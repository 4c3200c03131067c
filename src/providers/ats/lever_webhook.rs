//! Lever's webhooks: the JSON body `{token, triggeredAt, event, signature,
//! data}` carries its own signature, the hex HMAC-SHA256 of `token`
//! immediately followed by the digits of `triggeredAt`, under the webhook's
//! signature token (shown in Lever's webhook settings). It does not cover
//! `data`, so `data` is a hint only: the opportunity is read from Lever's API
//! before anything changes. The shape and the signed string come from
//! third-party receivers that agree with each other (Lever's own reference
//! could not be read; see `docs/providers/lever.md`).
//!
//! A delivery is refused when its signature does not match, when
//! `triggeredAt` is more than [`MAX_AGE`] from now (either way), or (by the
//! caller, which keeps the tokens) when its `token` was seen with another body.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::signature::{decode_lower_hex, matches_any};

/// How far `triggeredAt` may be from now.
pub const MAX_AGE: chrono::Duration = chrono::Duration::minutes(5);

/// Why a delivery was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Not a JSON object with a string `token`, a `triggeredAt`, an `event`
    /// and a `signature`.
    Malformed,
    /// `signature` is not 64 lower-case hex digits.
    MalformedSignature,
    /// No secret of the integration made the signature.
    BadSignature,
    /// `triggeredAt` is more than five minutes away from now.
    Stale,
}

impl Refusal {
    /// A short, secret-free reason for the activity row.
    pub fn reason(self) -> &'static str {
        match self {
            Refusal::Malformed => "not a lever webhook body",
            Refusal::MalformedSignature => "malformed signature",
            Refusal::BadSignature => "signature does not match",
            Refusal::Stale => "triggeredAt too old or in the future",
        }
    }
}

/// What a delivery's `data` hints at (every field optional).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LeverHint {
    pub opportunity_id: Option<String>,
    pub application_id: Option<String>,
    pub posting_id: Option<String>,
    pub to_stage_id: Option<String>,
}

/// A verified delivery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeverDelivery {
    /// Unique per delivery: the dedupe key.
    pub token: String,
    pub triggered_at: DateTime<Utc>,
    /// `applicationCreated`, `candidateStageChange`, ...
    pub event: String,
    pub hint: LeverHint,
}

fn short(value: Option<&Value>, max: usize) -> Option<String> {
    let text = value?.as_str()?;
    (!text.is_empty() && text.len() <= max).then(|| text.to_owned())
}

/// Checks a raw body against each of `secrets` at `now`.
pub fn verify(
    body: &[u8],
    secrets: &[&[u8]],
    now: DateTime<Utc>,
) -> Result<LeverDelivery, Refusal> {
    let value: Value = serde_json::from_slice(body).map_err(|_| Refusal::Malformed)?;
    let token = short(value.get("token"), 256).ok_or(Refusal::Malformed)?;
    let event = short(value.get("event"), 128).ok_or(Refusal::Malformed)?;
    // the digits as sent: a number's own text, or a string verbatim
    let triggered = match value.get("triggeredAt") {
        Some(Value::Number(n)) if n.is_u64() => n.to_string(),
        Some(Value::String(s)) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            s.clone()
        }
        _ => return Err(Refusal::Malformed),
    };
    let signature = value
        .get("signature")
        .and_then(Value::as_str)
        .ok_or(Refusal::Malformed)?;
    let signature = decode_lower_hex(signature.as_bytes()).ok_or(Refusal::MalformedSignature)?;
    if !matches_any(
        &signature,
        &[token.as_bytes(), triggered.as_bytes()],
        secrets,
    ) {
        return Err(Refusal::BadSignature);
    }
    let triggered_at = triggered
        .parse::<i64>()
        .ok()
        .and_then(DateTime::<Utc>::from_timestamp_millis)
        .ok_or(Refusal::Stale)?;
    if (now - triggered_at).abs() > MAX_AGE {
        return Err(Refusal::Stale);
    }
    let data = value.get("data");
    let field = |name: &str| short(data.and_then(|d| d.get(name)), 128);
    Ok(LeverDelivery {
        token,
        triggered_at,
        event,
        hint: LeverHint {
            opportunity_id: field("opportunityId").or_else(|| field("candidateId")),
            application_id: field("applicationId"),
            posting_id: field("postingId"),
            to_stage_id: field("toStageId"),
        },
    })
}

/// The event and hint of a stored body, verified when it was received.
pub fn read(body: &[u8]) -> Option<(String, LeverHint)> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let event = short(value.get("event"), 128)?;
    let data = value.get("data");
    let field = |name: &str| short(data.and_then(|d| d.get(name)), 128);
    Some((
        event,
        LeverHint {
            opportunity_id: field("opportunityId").or_else(|| field("candidateId")),
            application_id: field("applicationId"),
            posting_id: field("postingId"),
            to_stage_id: field("toStageId"),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::super::signature::sign_hex;
    use super::*;

    fn body(token: &str, at: i64, secret: &[u8], data: &str) -> Vec<u8> {
        let signature = sign_hex(secret, &[token.as_bytes(), at.to_string().as_bytes()]);
        format!(
            r#"{{"token":"{token}","triggeredAt":{at},"event":"candidateStageChange","signature":"{signature}","data":{data}}}"#
        )
        .into_bytes()
    }

    #[test]
    fn the_signature_covers_token_and_time_but_not_data() {
        let now = Utc::now();
        let at = now.timestamp_millis() - 1_000;
        let good = body(
            "t1",
            at,
            b"sig-token",
            r#"{"opportunityId":"opp-1","toStageId":"s2"}"#,
        );
        let delivery = verify(&good, &[b"sig-token"], now).unwrap();
        assert_eq!(delivery.token, "t1");
        assert_eq!(delivery.hint.opportunity_id.as_deref(), Some("opp-1"));
        assert_eq!(delivery.hint.to_stage_id.as_deref(), Some("s2"));
        // data altered under a valid signature still verifies: it is a hint only
        let altered = body("t1", at, b"sig-token", r#"{"opportunityId":"opp-2"}"#);
        assert!(verify(&altered, &[b"sig-token"], now).is_ok());
        assert_eq!(verify(&good, &[b"other"], now), Err(Refusal::BadSignature));
        let forged = String::from_utf8(good.clone())
            .unwrap()
            .replace("\"t1\"", "\"t2\"");
        assert_eq!(
            verify(forged.as_bytes(), &[b"sig-token"], now),
            Err(Refusal::BadSignature)
        );
        let upper = String::from_utf8(good.clone()).unwrap();
        let sig = sign_hex(b"sig-token", &[b"t1", at.to_string().as_bytes()]);
        let upper = upper.replace(&sig, &sig.to_uppercase());
        assert_eq!(
            verify(upper.as_bytes(), &[b"sig-token"], now),
            Err(Refusal::MalformedSignature)
        );
        assert_eq!(verify(b"{}", &[b"sig-token"], now), Err(Refusal::Malformed));
        assert_eq!(
            verify(b"not json", &[b"sig-token"], now),
            Err(Refusal::Malformed)
        );
    }

    #[test]
    fn an_old_or_future_trigger_time_is_stale() {
        let now = Utc::now();
        for at in [
            now.timestamp_millis() - 6 * 60_000,
            now.timestamp_millis() + 6 * 60_000,
        ] {
            let b = body("t", at, b"k", "{}");
            assert_eq!(verify(&b, &[b"k"], now), Err(Refusal::Stale));
        }
        let b = body("t", now.timestamp_millis() - 4 * 60_000, b"k", "{}");
        assert!(verify(&b, &[b"k"], now).is_ok());
    }
}
