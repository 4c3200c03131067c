//! Tests of Lever webhook building, signing, forging and sending.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use parking_lot::Mutex;
use serde_json::{json, Value};

use super::tests::fixture;
use super::webhooks::{lever_signature, send};
use super::*;
use crate::webhook::rfc2104_hmac_sha256;

const SIGNATURE_TOKEN: &str = "lever-signature-token-for-candidateStageChange";

/// What a correct receiver does: HMAC of `token` + `triggeredAt` digits
/// from the parsed body, compared with `signature`.
fn verifies(body: &[u8], signature_token: &str) -> bool {
    let v: Value = serde_json::from_slice(body).unwrap();
    let message = format!("{}{}", v["token"].as_str().unwrap(), v["triggeredAt"]);
    v["signature"].as_str()
        == Some(&rfc2104_hmac_sha256(
            signature_token.as_bytes(),
            message.as_bytes(),
        ))
}

#[test]
fn body_and_signature_follow_the_receivers() {
    let hook = LeverWebhook::new(
        "candidateStageChange",
        json!({"opportunityId": "o1", "candidateId": "o1", "contactId": "c1",
               "fromStageId": "s1", "toStageId": "s2"}),
    );
    let d = hook.sign(SIGNATURE_TOKEN);
    let text = String::from_utf8(d.body.clone()).unwrap();
    assert!(text.starts_with(r#"{"token":""#), "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert!(v["triggeredAt"].is_i64(), "a JSON number");
    assert_eq!(v["event"], "candidateStageChange");
    assert_eq!(v["data"]["toStageId"], "s2");
    assert_eq!(v["signature"].as_str().unwrap().len(), 64);
    assert!(verifies(&d.body, SIGNATURE_TOKEN));
    assert_eq!(
        d.signature,
        lever_signature(SIGNATURE_TOKEN, &d.token, d.triggered_at)
    );
    assert_ne!(
        LeverWebhook::new("x", json!({})).token,
        hook.token,
        "unique per delivery"
    );
    assert!(d
        .headers
        .iter()
        .any(|(k, v)| k == "Content-Type" && v == "application/json"));
}

#[test]
fn forgeries() {
    let hook = LeverWebhook::new("applicationCreated", json!({"opportunityId": "o1"}));
    let good = hook.sign(SIGNATURE_TOKEN);
    // A wrong signature token.
    assert!(!verifies(&hook.sign("another-token").body, SIGNATURE_TOKEN));
    assert!(!verifies(
        &good.clone().with_signature(&"0".repeat(64)).body,
        SIGNATURE_TOKEN
    ));
    // Stale: validly signed, triggeredAt an hour ago.
    let stale = hook
        .clone()
        .stale(Duration::from_secs(3600))
        .sign(SIGNATURE_TOKEN);
    assert!(verifies(&stale.body, SIGNATURE_TOKEN));
    assert!(stale.triggered_at <= good.triggered_at - 3_600_000);
    // Altered data: the signature still verifies, the data is different.
    let altered = good
        .clone()
        .with_data(json!({"opportunityId": "someone-else"}));
    assert!(verifies(&altered.body, SIGNATURE_TOKEN));
    let v: Value = serde_json::from_slice(&altered.body).unwrap();
    assert_eq!(v["data"]["opportunityId"], "someone-else");
    // Reused token: a second, validly signed delivery with the same token.
    let replay = LeverWebhook::new("applicationCreated", json!({"opportunityId": "o1"}))
        .reusing_token(&good)
        .sign(SIGNATURE_TOKEN);
    assert!(verifies(&replay.body, SIGNATURE_TOKEN));
    assert_eq!(replay.token, good.token);
}

#[tokio::test]
async fn sandbox_moves_build_webhooks_and_send_delivers_them() {
    let fx = fixture(LeverSandboxConfig::default()).await;
    let posting = generate::posting_id(6);
    let resp = fx
        .http
        .post(fx.sb.url(&format!(
            "/v1/opportunities?perform_as={}",
            DEFAULT_USER_IDS[0]
        )))
        .basic_auth(DEFAULT_API_KEY, Some(""))
        .json(&json!({"name": "Ada", "emails": ["ada@example.com"], "postings": [posting]}))
        .send()
        .await
        .unwrap();
    let o: Value = resp.json().await.unwrap();
    let id = o["data"]["id"].as_str().unwrap();
    let created = fx.lv.application_created_webhook(id).unwrap();
    assert_eq!(created.data["postingId"], posting.as_str());
    assert_eq!(created.data["applicationId"], o["data"]["applications"][0]);
    assert_eq!(created.data["contactId"], o["data"]["contact"]);
    let moved = fx.lv.move_stage(id, STAGES[2].0).unwrap();
    assert_eq!(
        (
            moved.data["fromStageId"].as_str(),
            moved.data["toStageId"].as_str()
        ),
        (Some(STAGES[0].0), Some(STAGES[2].0))
    );
    assert!(fx.lv.move_stage(id, "no-such-stage").is_none());
    let deleted = fx.lv.delete_opportunity(id).unwrap();
    assert_eq!(deleted.event, "candidateDeleted");
    assert!(fx.lv.opportunity(id).is_none());

    let seen: Arc<Mutex<Vec<Bytes>>> = Arc::default();
    let keep = seen.clone();
    let router = axum::Router::new().route(
        "/hooks/lever",
        axum::routing::post(move |body: Bytes| {
            let keep = keep.clone();
            async move {
                keep.lock().push(body);
                "ok"
            }
        }),
    );
    let receiver = SandboxServer::new(router)
        .bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let d = moved.sign(SIGNATURE_TOKEN);
    assert_eq!(send(&receiver.url("/hooks/lever"), &d).await.unwrap(), 200);
    assert_eq!(d.send(&receiver.url("/elsewhere")).await.unwrap(), 404);
    assert_eq!(seen.lock()[0].as_ref(), d.body.as_slice());
}
