//! ATS integrations through `AtsService`: created with good and with bad
//! credentials (checked against the sandbox Greenhouse and Lever), never
//! showing a secret, listed, changed, rotated and deleted by the
//! organization's admin only; a member is refused, another organization's
//! admin sees nothing.

use nextke_integrations::proto::{self, Provider};
use prost_types::FieldMask;
use tonic::Code;

use crate::{
    ats_rig::{
        admin, default_ats, greenhouse_credentials, lever_credentials, settings, ADMIN, ORG,
    },
    db_tests,
    helpers::{authed, token, Backend},
};

async fn greenhouse_with_good_and_bad_credentials(backend: Backend) {
    let ats = default_ats(backend).await;
    // a wrong client secret is refused by Greenhouse: FAILED_PRECONDITION, nothing stored
    let mut bad = greenhouse_credentials();
    if let Some(proto::ats_credentials::Credentials::Greenhouse(g)) = &mut bad.credentials {
        g.client_secret = "wrong-secret-value-123".to_owned();
    }
    let err = ats
        .create_as(&admin(), ORG, Provider::Greenhouse, bad)
        .await
        .expect_err("refused");
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    assert!(err.message().contains("greenhouse"), "{}", err.message());
    assert!(!err.message().contains("wrong-secret-value-123"));
    let mut client = ats.client().await;
    let listed = client
        .list_ats_integrations(authed(
            proto::ListAtsIntegrationsRequest {
                organization_id: ORG.into(),
            },
            &admin(),
        ))
        .await
        .expect("list")
        .into_inner();
    assert!(listed.integrations.is_empty(), "nothing stored");

    // the right ones: checked, sealed, answered with the webhook URL and a secret shown once
    let created = ats.connect(Provider::Greenhouse).await;
    let integration = created.integration.expect("integration");
    assert_eq!(created.webhook_secret.len(), 64, "a generated secret");
    assert!(created
        .webhook_secret
        .bytes()
        .all(|b| b.is_ascii_hexdigit()));
    assert!(
        integration.webhook_url.ends_with(&format!(
            "/api/v1/integrations/ats/webhook/{}",
            integration.id
        )),
        "{}",
        integration.webhook_url
    );
    assert_eq!(integration.state(), proto::ConnectionState::Connected);
    let summary = integration.credentials.clone().expect("summary");
    assert_eq!(
        summary.client_id,
        nextke_sandbox::greenhouse::DEFAULT_CLIENT_ID
    );
    assert!(summary.has_job_board_api_key);
    let fetched = client
        .get_ats_integration(authed(
            proto::GetAtsIntegrationRequest {
                integration_id: integration.id.clone(),
            },
            &admin(),
        ))
        .await
        .expect("get")
        .into_inner()
        .integration
        .expect("integration");
    let shown = format!("{fetched:?}");
    for secret in [
        nextke_sandbox::greenhouse::DEFAULT_CLIENT_SECRET,
        nextke_sandbox::greenhouse::DEFAULT_BOARD_API_KEY,
        created.webhook_secret.as_str(),
    ] {
        assert!(!shown.contains(secret), "a secret shown: {shown}");
    }
    // a second Greenhouse integration of the organization is ALREADY_EXISTS
    let again = ats
        .create_as(
            &admin(),
            ORG,
            Provider::Greenhouse,
            greenhouse_credentials(),
        )
        .await
        .expect_err("second");
    assert_eq!(again.code(), Code::AlreadyExists);
    ats.app.stop().await;
}

async fn lever_with_good_and_bad_keys(backend: Backend) {
    let ats = default_ats(backend).await;
    let mut bad = lever_credentials("t");
    if let Some(proto::ats_credentials::Credentials::Lever(l)) = &mut bad.credentials {
        l.api_key = "not-a-lever-key-987".to_owned();
    }
    let err = ats
        .create_as(&admin(), ORG, Provider::Lever, bad)
        .await
        .expect_err("refused");
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    assert!(!err.message().contains("not-a-lever-key-987"));
    let created = ats.connect(Provider::Lever).await;
    assert!(created.webhook_secret.is_empty(), "lever chooses its token");
    let integration = created.integration.expect("integration");
    assert_eq!(integration.provider(), Provider::Lever);
    let summary = integration.credentials.expect("summary");
    assert_eq!(
        summary.user_id,
        nextke_sandbox::lever::DEFAULT_USER_IDS[0],
        "the first user the key sees creates candidates"
    );
    ats.app.stop().await;
}

async fn members_and_other_organizations_are_refused(backend: Backend) {
    let ats = default_ats(backend).await;
    let created = ats.connect(Provider::Greenhouse).await;
    let id = created.integration.expect("integration").id;
    let member = token("bob", &[(ORG, "member")]);
    let stranger = token("eve", &[("globex", "admin")]);
    let mut client = ats.client().await;

    let as_member = ats
        .create_as(&member, ORG, Provider::Lever, lever_credentials("t"))
        .await
        .expect_err("member");
    assert_eq!(as_member.code(), Code::PermissionDenied);
    let as_stranger = ats
        .create_as(&stranger, ORG, Provider::Lever, lever_credentials("t"))
        .await
        .expect_err("stranger");
    assert_eq!(as_stranger.code(), Code::NotFound);

    for (who, code) in [
        (&member, Code::PermissionDenied),
        (&stranger, Code::NotFound),
    ] {
        let get = client
            .get_ats_integration(authed(
                proto::GetAtsIntegrationRequest {
                    integration_id: id.clone(),
                },
                who,
            ))
            .await
            .expect_err("get");
        assert_eq!(get.code(), code);
        let rotate = client
            .rotate_ats_webhook_secret(authed(
                proto::RotateAtsWebhookSecretRequest {
                    integration_id: id.clone(),
                    webhook_secret: String::new(),
                },
                who,
            ))
            .await
            .expect_err("rotate");
        assert_eq!(rotate.code(), code);
        let delete = client
            .delete_ats_integration(authed(
                proto::DeleteAtsIntegrationRequest {
                    integration_id: id.clone(),
                },
                who,
            ))
            .await
            .expect_err("delete");
        assert_eq!(delete.code(), code);
        let runs = client
            .list_ats_sync_runs(authed(
                proto::ListAtsSyncRunsRequest {
                    integration_id: id.clone(),
                    page_size: 0,
                    page_token: String::new(),
                },
                who,
            ))
            .await
            .expect_err("runs");
        assert_eq!(runs.code(), code);
    }
    let list = client
        .list_ats_integrations(authed(
            proto::ListAtsIntegrationsRequest {
                organization_id: ORG.into(),
            },
            &stranger,
        ))
        .await
        .expect_err("list");
    assert_eq!(list.code(), Code::NotFound);
    // an unknown id is NOT_FOUND too, for the admin
    let unknown = client
        .get_ats_integration(authed(
            proto::GetAtsIntegrationRequest {
                integration_id: "0192f0e0-0000-7000-8000-000000000000".into(),
            },
            &admin(),
        ))
        .await
        .expect_err("unknown");
    assert_eq!(unknown.code(), Code::NotFound);
    ats.app.stop().await;
}

async fn bad_input_names_its_field(backend: Backend) {
    let ats = default_ats(backend).await;
    let mut client = ats.client().await;
    let request = |provider: Provider, credentials, settings| proto::CreateAtsIntegrationRequest {
        organization_id: ORG.into(),
        provider: provider.into(),
        credentials: Some(credentials),
        settings: Some(settings),
    };
    let mut bad_user = greenhouse_credentials();
    if let Some(proto::ats_credentials::Credentials::Greenhouse(g)) = &mut bad_user.credentials {
        g.user_id = "ada@example.com".into();
    }
    let cases = [
        (
            request(Provider::Unspecified, greenhouse_credentials(), settings()),
            "provider",
        ),
        (
            request(Provider::Google, greenhouse_credentials(), settings()),
            "provider",
        ),
        (
            request(Provider::Lever, greenhouse_credentials(), settings()),
            "credentials",
        ),
        (
            request(Provider::Greenhouse, bad_user, settings()),
            "credentials.greenhouse.user_id",
        ),
        (
            request(
                Provider::Greenhouse,
                greenhouse_credentials(),
                proto::AtsSettings {
                    sync_interval_minutes: 5,
                    ..settings()
                },
            ),
            "settings.sync_interval_minutes",
        ),
        (
            request(
                Provider::Greenhouse,
                greenhouse_credentials(),
                proto::AtsSettings {
                    webhook_events: vec!["job updated; drop".into()],
                    ..settings()
                },
            ),
            "settings.webhook_events",
        ),
    ];
    for (message, field) in cases {
        let err = client
            .create_ats_integration(authed(message, &admin()))
            .await
            .expect_err(field);
        assert_eq!(err.code(), Code::InvalidArgument, "{field}: {err:?}");
        assert!(err.message().contains(field), "{field}: {}", err.message());
    }
    ats.app.stop().await;
}

async fn settings_change_the_secret_rotates_and_a_delete_closes(backend: Backend) {
    let ats = default_ats(backend).await;
    let created = ats.connect(Provider::Greenhouse).await;
    let id = created.integration.expect("integration").id;
    let mut client = ats.client().await;
    let updated = client
        .update_ats_integration(authed(
            proto::UpdateAtsIntegrationRequest {
                integration_id: id.clone(),
                settings: Some(proto::AtsSettings {
                    sync_interval_minutes: 60,
                    webhook_events: vec!["job_updated".into()],
                    sync_jobs: false,
                    ..settings()
                }),
                credentials: None,
                update_mask: Some(FieldMask {
                    paths: vec![
                        "settings.sync_interval_minutes".into(),
                        "settings.webhook_events".into(),
                    ],
                }),
            },
            &admin(),
        ))
        .await
        .expect("update")
        .into_inner()
        .integration
        .expect("integration");
    let s = updated.settings.expect("settings");
    assert_eq!(s.sync_interval_minutes, 60);
    assert_eq!(s.webhook_events, vec!["job_updated".to_owned()]);
    assert!(s.sync_jobs, "a path not in the mask is kept");
    let unknown_path = client
        .update_ats_integration(authed(
            proto::UpdateAtsIntegrationRequest {
                integration_id: id.clone(),
                settings: None,
                credentials: None,
                update_mask: Some(FieldMask {
                    paths: vec!["organization_id".into()],
                }),
            },
            &admin(),
        ))
        .await
        .expect_err("unknown path");
    assert_eq!(unknown_path.code(), Code::InvalidArgument);

    let rotated = client
        .rotate_ats_webhook_secret(authed(
            proto::RotateAtsWebhookSecretRequest {
                integration_id: id.clone(),
                webhook_secret: String::new(),
            },
            &admin(),
        ))
        .await
        .expect("rotate")
        .into_inner();
    assert_eq!(rotated.webhook_secret.len(), 64);
    assert_ne!(rotated.webhook_secret, created.webhook_secret);
    let until = rotated.previous_valid_until.expect("until").seconds;
    let in_hours = (until - chrono::Utc::now().timestamp()) as f64 / 3600.0;
    assert!((23.9..=24.1).contains(&in_hours), "{in_hours}");

    let deleted = client
        .delete_ats_integration(authed(
            proto::DeleteAtsIntegrationRequest {
                integration_id: id.clone(),
            },
            &admin(),
        ))
        .await
        .expect("delete")
        .into_inner();
    assert_eq!(deleted.job_posts_closed, 0, "nothing synced yet");
    let gone = client
        .get_ats_integration(authed(
            proto::GetAtsIntegrationRequest { integration_id: id },
            &admin(),
        ))
        .await
        .expect_err("gone");
    assert_eq!(gone.code(), Code::NotFound);
    let _ = ADMIN;
    ats.app.stop().await;
}

db_tests!(
    greenhouse_with_good_and_bad_credentials,
    lever_with_good_and_bad_keys,
    members_and_other_organizations_are_refused,
    bad_input_names_its_field,
    settings_change_the_secret_rotates_and_a_delete_closes,
);
