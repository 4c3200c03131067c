//! Lever's webhooks as the service receives them. NOT verified in Lever's
//! own pages; at least four independent receivers agree on: `POST`, JSON
//! body `{"token": "<unique per delivery>", "triggeredAt": <epoch ms
//! number>, "event", "signature": "<64 hex>", "data": {...}}`, `signature`
//! = hex(HMAC-SHA256(key = the webhook's signature token, message = `token`
//! followed immediately by the decimal digits of `triggeredAt`)). The
//! signature does NOT cover `data`, so a receiver must treat `data` as a
//! hint, reject reused tokens and stale `triggeredAt`. `data` fields
//! (third-party): `opportunityId`, `candidateId`, `contactId`, plus
//! `applicationId`, `postingId` (applicationCreated) and `fromStageId`,
//! `toStageId` (candidateStageChange).

use std::time::Duration;

use serde_json::Value;

use super::data::now_ms;
use crate::webhook::{hmac_sha256_hex, post, WebhookSendError};

/// `hex(HMAC-SHA256(signature_token, token + triggeredAt))`.
pub fn lever_signature(signature_token: &str, token: &str, triggered_at: i64) -> String {
    let message = format!("{token}{triggered_at}");
    hmac_sha256_hex(signature_token.as_bytes(), message.as_bytes())
}

/// One webhook event before signing.
#[derive(Debug, Clone, PartialEq)]
pub struct LeverWebhook {
    /// `event` (`applicationCreated`, `candidateStageChange`, ...).
    pub event: String,
    /// `data`.
    pub data: Value,
    /// `token`: unique per delivery.
    pub token: String,
    /// `triggeredAt`, epoch milliseconds.
    pub triggered_at: i64,
}

impl LeverWebhook {
    /// An event with a fresh token, triggered now.
    pub fn new(event: &str, data: Value) -> Self {
        Self {
            event: event.to_owned(),
            data,
            token: format!("{:032x}", rand::random::<u128>()),
            triggered_at: now_ms(),
        }
    }

    /// The same event triggered `age` ago (signed validly, but stale).
    pub fn stale(mut self, age: Duration) -> Self {
        self.triggered_at -= i64::try_from(age.as_millis()).unwrap_or(i64::MAX);
        self
    }

    /// The same event reusing the token of an earlier delivery (a replay
    /// with a valid signature).
    pub fn reusing_token(mut self, earlier: &SignedLeverDelivery) -> Self {
        self.token = earlier.token.clone();
        self
    }

    /// Sign with the webhook's signature token (pass a wrong one to forge).
    pub fn sign(&self, signature_token: &str) -> SignedLeverDelivery {
        let signature = lever_signature(signature_token, &self.token, self.triggered_at);
        SignedLeverDelivery {
            body: body(self, &signature),
            headers: vec![("Content-Type".to_owned(), "application/json".to_owned())],
            token: self.token.clone(),
            triggered_at: self.triggered_at,
            signature,
            webhook: self.clone(),
        }
    }
}

fn body(hook: &LeverWebhook, signature: &str) -> Vec<u8> {
    let s = |v: &str| Value::String(v.to_owned()).to_string();
    format!(
        "{{\"token\":{},\"triggeredAt\":{},\"event\":{},\"signature\":{},\"data\":{}}}",
        s(&hook.token),
        hook.triggered_at,
        s(&hook.event),
        s(signature),
        hook.data
    )
    .into_bytes()
}

/// One delivery: the bytes the service receives.
#[derive(Debug, Clone, PartialEq)]
pub struct SignedLeverDelivery {
    /// The raw body.
    pub body: Vec<u8>,
    /// Headers.
    pub headers: Vec<(String, String)>,
    /// `token` in the body.
    pub token: String,
    /// `triggeredAt` in the body.
    pub triggered_at: i64,
    /// `signature` in the body.
    pub signature: String,
    /// The event it was built from.
    pub webhook: LeverWebhook,
}

impl SignedLeverDelivery {
    /// `data` replaced after signing: the signature still verifies (it does
    /// not cover `data`), which is why a receiver must refetch.
    pub fn with_data(mut self, data: Value) -> Self {
        self.webhook.data = data;
        self.body = body(&self.webhook, &self.signature);
        self
    }

    /// `signature` replaced by `value`.
    pub fn with_signature(mut self, value: &str) -> Self {
        self.signature = value.to_owned();
        self.body = body(&self.webhook, value);
        self
    }

    /// POST it to `url`; the answer's status.
    pub async fn send(&self, url: &str) -> Result<u16, WebhookSendError> {
        send(url, self).await
    }
}

/// POST a delivery to `url` as signed; the answer's status.
pub async fn send(url: &str, delivery: &SignedLeverDelivery) -> Result<u16, WebhookSendError> {
    post(url, &delivery.headers, &delivery.body).await
}
