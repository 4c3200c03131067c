//! Tests of Greenhouse webhook building, signing, forging and sending.

use std::sync::Arc;

use axum::body::Bytes;
use axum::http::HeaderMap;
use parking_lot::Mutex;
use serde_json::{json, Value};

use super::tests::fixture;
use super::webhooks::{escape_json, send};
use super::*;
use crate::webhook::rfc2104_hmac_sha256;

const SECRET: &str = "whsec-greenhouse-sandbox";

/// What a correct receiver does: HMAC over the raw bytes, exact comparison.
fn verifies(d: &SignedDelivery, secret: &str) -> bool {
    let expected = format!("sha256 {}", rfc2104_hmac_sha256(secret.as_bytes(), &d.body));
    d.signature() == Some(expected.as_str())
}

#[test]
fn signature_is_hmac_of_the_raw_escaped_body() {
    let hook = GreenhouseWebhook::new(
        "job_post_updated",
        json!({"id": 1, "content": "<p>Zürich & co — 🚀</p>"}),
    );
    let d = hook.sign(SECRET);
    let text = String::from_utf8(d.body.clone()).unwrap();
    assert!(text.is_ascii());
    assert!(
        text.contains(r"\u003cp\u003eZ\u00fcrich \u0026 co \u2014 \ud83d\ude80\u003c/p\u003e"),
        "{text}"
    );
    let parsed: Value = serde_json::from_slice(&d.body).unwrap();
    assert_eq!(parsed["payload"]["content"], "<p>Zürich & co — 🚀</p>");
    assert_eq!(parsed["action"], "job_post_updated");
    assert!(verifies(&d, SECRET));
    let sig = d.signature().unwrap();
    let hex = sig.strip_prefix("sha256 ").unwrap();
    assert!(
        hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    );
    assert_eq!(d.header("content-type"), Some("application/json"));
    assert_eq!(d.header("Greenhouse-Event-ID"), Some(d.event_id.as_str()));
    assert_ne!(
        hook.sign(SECRET).event_id,
        d.event_id,
        "unique per delivery"
    );
    assert_eq!(escape_json(r#"{"a":"plain"}"#), r#"{"a":"plain"}"#);
}

#[test]
fn forged_deliveries_fail_verification() {
    let d = GreenhouseWebhook::ping(7).sign(SECRET);
    assert!(verifies(&d, SECRET));
    assert!(!verifies(
        &GreenhouseWebhook::ping(7).sign("other-secret"),
        SECRET
    ));
    let forged = [
        d.clone().tampered(),
        d.clone().reformatted(),
        d.clone().empty_signature(),
        d.clone().truncated_signature(),
        d.clone().uppercase_signature(),
        d.clone().without_prefix(),
        d.clone().with_prefix("sha1 "),
        d.clone().without_signature(),
    ];
    for f in &forged {
        assert!(!verifies(f, SECRET), "{:?}", f.signature());
    }
    let reformatted: Value = serde_json::from_slice(&forged[1].body).unwrap();
    assert_eq!(
        reformatted,
        serde_json::from_slice::<Value>(&d.body).unwrap()
    );
    assert_eq!(forged[2].signature(), Some("sha256 "));
    assert_eq!(forged[3].signature().unwrap().len(), "sha256 ".len() + 63);
}

#[tokio::test]
async fn payload_shapes_follow_the_documented_examples() {
    let fx = fixture(GreenhouseSandboxConfig::default()).await;
    let job_id = generate::JOB_ID_BASE + 6;
    let post_id = generate::POST_ID_BASE + 6;
    let created = fx.gh.job_webhook("job_created", job_id).unwrap();
    assert_eq!(created.payload["job"]["id"], job_id);
    assert_eq!(created.payload["job"]["job_post_id"], post_id);
    assert_eq!(
        created.payload["job"]["offices"][0]["location"],
        "Zürich, Switzerland"
    );
    assert!(created.payload["job"]["hiring_team"]["recruiters"][0]["user_id"].is_u64());
    let deleted = fx.gh.job_webhook("job_deleted", job_id).unwrap();
    assert_eq!(
        deleted.payload,
        json!({"job": {"id": job_id, "name": "Customer Success Manager"}})
    );
    let flat = fx.gh.job_post_webhook("job_post_created", post_id).unwrap();
    assert_eq!(
        (flat.payload["id"].as_u64(), flat.payload["job_id"].as_u64()),
        (Some(post_id), Some(job_id))
    );
    assert!(flat.payload["location"].is_string());
    let nested = fx.gh.job_post_webhook("job_post_deleted", post_id).unwrap();
    assert_eq!(nested.payload["job_post"]["id"], post_id);
    assert!(nested.payload.get("id").is_none());

    let token = fx.token().await;
    let http = &fx.http;
    let c: Value = http
        .post(fx.sb.url("/v3/candidates"))
        .bearer_auth(&token)
        .json(
            &json!({"first_name": "Ada", "last_name": "L", "applications": [{"job_id": job_id}],
                      "email_addresses": [{"value": "ada@example.com", "type": "personal"}]}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let aid = c["application_ids"][0].as_u64().unwrap();
    let app = fx.gh.application_webhook_json(aid).unwrap();
    let new = GreenhouseWebhook::new_candidate_application(app);
    assert_eq!(new.payload["application"]["candidate"]["id"], c["id"]);
    assert_eq!(
        new.payload["application"]["jobs"][0]["job_post_id"],
        post_id
    );
    let hire = GreenhouseWebhook::hire_candidate(fx.gh.hire(aid).unwrap());
    let a = &hire.payload["application"];
    assert!(a.get("status").is_none() && a.get("current_stage").is_none());
    assert!(a["offer"]["id"].is_u64() && a["jobs"][0]["id"] == job_id);
    let reject = GreenhouseWebhook::reject_candidate(fx.gh.reject(aid).unwrap());
    assert_eq!(reject.payload["application"]["status"], "rejected");
    let unreject = GreenhouseWebhook::unreject_candidate(fx.gh.unreject(aid).unwrap());
    assert!(unreject.payload["application"]["rejected_at"].is_null());
    let stage = GreenhouseWebhook::candidate_stage_change(fx.gh.set_stage(aid, "offer").unwrap());
    assert_eq!(
        stage.payload["application"]["current_stage"]["name"],
        "Offer"
    );
}

#[tokio::test]
async fn send_posts_the_exact_bytes_and_headers() {
    type Seen = Arc<Mutex<Vec<(HeaderMap, Bytes)>>>;
    let seen: Seen = Arc::default();
    let keep = seen.clone();
    let router = axum::Router::new().route(
        "/hooks/greenhouse",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let keep = keep.clone();
            async move {
                keep.lock().push((headers, body));
                "ok"
            }
        }),
    );
    let sb = SandboxServer::new(router)
        .bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let d = GreenhouseWebhook::new(
        "job_updated",
        json!({"job": {"id": 1, "notes": "<b>x</b>"}}),
    )
    .sign(SECRET);
    let status = send(&sb.url("/hooks/greenhouse"), &d).await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(d.send(&sb.url("/nope")).await.unwrap(), 404);
    let seen = seen.lock();
    let (headers, body) = &seen[0];
    assert_eq!(body.as_ref(), d.body.as_slice());
    assert_eq!(headers["signature"], d.signature().unwrap());
    assert_eq!(headers["greenhouse-event-id"], d.event_id.as_str());
    assert_eq!(headers["content-type"], "application/json");
    let sig = headers["signature"].to_str().unwrap();
    assert_eq!(
        sig,
        format!("sha256 {}", rfc2104_hmac_sha256(SECRET.as_bytes(), body))
    );
}
