//! The webhook endpoint's refusals and limits, per provider: every way a
//! signature can be wrong is 401 (with an activity row that holds the body's
//! hash, not the body), an oversize body 413, an unknown or malformed
//! integration 404, a replay accepted once, a stale or reused Lever token
//! refused, and a rotated secret accepted inside its grace period only.

use nextke_integrations::proto::{self, Provider};
use nextke_sandbox::{
    greenhouse::{GreenhouseSandboxConfig, GreenhouseWebhook},
    lever::{LeverSandboxConfig, LeverWebhook},
};

use crate::{
    ats_rig::{admin, ats, default_ats, greenhouse_credentials, lever_credentials, Ats},
    db_tests,
    helpers::{authed, token, Backend},
};

const LEVER_TOKEN: &str = "lever-signature-token";

fn url(ats: &Ats, integration_id: &str) -> String {
    format!(
        "{}/api/v1/integrations/ats/webhook/{integration_id}",
        ats.app.base_url
    )
}

async fn count(ats: &Ats, sql: &str) -> i64 {
    ats.count(sql).await
}

fn ping() -> GreenhouseWebhook {
    GreenhouseWebhook::ping(7)
}

async fn greenhouse_signatures_and_limits(backend: Backend) {
    let ats = default_ats(backend).await;
    let created = ats.connect(Provider::Greenhouse).await;
    let id = created.integration.expect("integration").id;
    let secret = created.webhook_secret;
    let to = url(&ats, &id);
    // another organization's integration and its secret
    let other = ats
        .create_as(
            &token("eve", &[("globex", "admin")]),
            "globex",
            Provider::Greenhouse,
            greenhouse_credentials(),
        )
        .await
        .expect("other org");
    let good = ping().sign(&secret);
    let right = good.signature().expect("signature").to_owned();
    let digest = right.trim_start_matches("sha256 ").to_owned();
    let forged = [
        ("tampered body", good.clone().tampered()),
        ("wrong secret", ping().sign("not-the-secret")),
        (
            "another integration's secret",
            ping().sign(&other.webhook_secret),
        ),
        ("empty signature", good.clone().empty_signature()),
        ("truncated signature", good.clone().truncated_signature()),
        (
            "a prefix of the right one",
            good.clone()
                .with_signature(&format!("sha256 {}", &digest[..32])),
        ),
        ("upper-case hex", good.clone().uppercase_signature()),
        ("no algorithm", good.clone().without_prefix()),
        ("no signature", good.clone().without_signature()),
        ("re-serialized body", good.clone().reformatted()),
    ];
    for (what, delivery) in &forged {
        assert_eq!(delivery.send(&to).await.expect("send"), 401, "{what}");
    }
    assert_eq!(
        count(&ats, "SELECT COUNT(*) AS n FROM webhook_deliveries").await,
        0,
        "nothing forged is stored"
    );
    let rejected = count(
        &ats,
        "SELECT COUNT(*) AS n FROM integration_activity_logs WHERE activity = 'webhook.reject' AND message LIKE '%sha256%'",
    )
    .await;
    assert_eq!(
        rejected,
        forged.len() as i64,
        "an activity row each, with the body's hash"
    );
    assert_eq!(
        count(
            &ats,
            "SELECT COUNT(*) AS n FROM integration_activity_logs WHERE message LIKE '%tampered%'"
        )
        .await,
        0,
        "no body stored"
    );
    // the right one, then its replay: stored once
    assert_eq!(good.send(&to).await.expect("send"), 200, "the ping");
    assert_eq!(good.send(&to).await.expect("send"), 200, "the replay");
    assert_eq!(
        count(&ats, "SELECT COUNT(*) AS n FROM webhook_deliveries").await,
        1
    );
    // limits: an oversize body, unknown and malformed integrations
    let mut big = GreenhouseWebhook::new(
        "job_updated",
        serde_json::json!({"job": {"id": 1, "notes": "x".repeat(1024 * 1024)}}),
    )
    .sign(&secret);
    big.body.truncate(1024 * 1024 + 10);
    assert_eq!(big.send(&to).await.expect("send"), 413);
    let unknown = url(&ats, "0192f0e0-0000-7000-8000-000000000000");
    assert_eq!(good.send(&unknown).await.expect("send"), 404);
    assert_eq!(good.send(&url(&ats, "not-an-id")).await.expect("send"), 404);
    ats.app.stop().await;
}

async fn rotate(ats: &Ats, id: &str, given: &str) -> String {
    ats.client()
        .await
        .rotate_ats_webhook_secret(authed(
            proto::RotateAtsWebhookSecretRequest {
                integration_id: id.to_owned(),
                webhook_secret: given.to_owned(),
            },
            &admin(),
        ))
        .await
        .expect("rotate")
        .into_inner()
        .webhook_secret
}

async fn a_rotated_secret_verifies_only_in_its_grace_period(backend: Backend) {
    for (grace_hours, old_status) in [(24, 200), (0, 401)] {
        let ats = ats(
            backend,
            GreenhouseSandboxConfig::default(),
            LeverSandboxConfig::default(),
            |c| c.ats.ats_webhook_secret_grace_hours = grace_hours,
        )
        .await;
        let created = ats.connect(Provider::Greenhouse).await;
        let id = created.integration.expect("integration").id;
        let old = created.webhook_secret;
        let new = rotate(&ats, &id, "").await;
        let to = url(&ats, &id);
        assert_eq!(
            ping().sign(&new).send(&to).await.expect("send"),
            200,
            "the new secret"
        );
        assert_eq!(
            ping().sign(&old).send(&to).await.expect("send"),
            old_status,
            "the old secret with a grace of {grace_hours} h"
        );
        // Lever: the new signature token is given, the old one in its grace
        let lever = ats.connect(Provider::Lever).await;
        let lever_id = lever.integration.expect("integration").id;
        rotate(&ats, &lever_id, "lever-token-2").await;
        let to = url(&ats, &lever_id);
        let hook = || LeverWebhook::new("candidateStageChange", serde_json::json!({}));
        assert_eq!(
            hook().sign("lever-token-2").send(&to).await.expect("send"),
            200
        );
        assert_eq!(
            hook().sign(LEVER_TOKEN).send(&to).await.expect("send"),
            old_status
        );
        ats.app.stop().await;
    }
}

async fn lever_stale_reused_and_forged_tokens(backend: Backend) {
    let ats = default_ats(backend).await;
    let created = ats
        .create_as(
            &admin(),
            crate::ats_rig::ORG,
            Provider::Lever,
            lever_credentials(LEVER_TOKEN),
        )
        .await
        .expect("lever");
    let id = created.integration.expect("integration").id;
    let to = url(&ats, &id);
    let data = serde_json::json!({"opportunityId": "opp-1"});
    let good = LeverWebhook::new("candidateStageChange", data.clone()).sign(LEVER_TOKEN);
    assert_eq!(good.send(&to).await.expect("send"), 200);
    // the same delivery again: a duplicate, accepted once
    assert_eq!(good.send(&to).await.expect("send"), 200);
    let stale = LeverWebhook::new("candidateStageChange", data.clone())
        .stale(std::time::Duration::from_secs(6 * 60))
        .sign(LEVER_TOKEN);
    assert_eq!(
        stale.send(&to).await.expect("send"),
        401,
        "stale triggeredAt"
    );
    let reused = LeverWebhook::new(
        "candidateHired",
        serde_json::json!({"opportunityId": "opp-2"}),
    )
    .reusing_token(&good)
    .sign(LEVER_TOKEN);
    assert_eq!(reused.send(&to).await.expect("send"), 401, "a reused token");
    let wrong = LeverWebhook::new("candidateStageChange", data).sign("not-the-token");
    assert_eq!(wrong.send(&to).await.expect("send"), 401, "another token");
    assert_eq!(
        count(&ats, "SELECT COUNT(*) AS n FROM webhook_deliveries").await,
        1
    );
    ats.app.stop().await;
}

db_tests!(
    greenhouse_signatures_and_limits,
    a_rotated_secret_verifies_only_in_its_grace_period,
    lever_stale_reused_and_forged_tokens,
);
