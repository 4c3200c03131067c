//! Nobody sees another user's or another organization's data.

use nextke_integrations::{
    domain::types::{ActivityName, ActivityStatus, Provider},
    oauth::{ConnectionOwner, TokenSet},
    proto::{GetIntegrationStatusRequest, ListActivityRequest},
};
use secrecy::SecretString;

use crate::{
    activity::seed,
    db_tests,
    helpers::{authed, spawn_app, token, Backend, TestApp},
};

async fn connect(app: &TestApp, provider: Provider, owner: ConnectionOwner) -> String {
    let tokens = TokenSet {
        access_token: SecretString::from(format!("access-{}", uuid::Uuid::new_v4())),
        refresh_token: Some(SecretString::from("refresh".to_owned())),
        expires_at: Some(chrono::Utc::now() + chrono::Duration::hours(1)),
        refresh_expires_at: None,
        scopes: None,
    };
    app.ctx
        .oauth
        .save_connection(provider, &owner, Some("acct"), &tokens, &[])
        .await
        .expect("save connection")
}

async fn users_and_organizations_see_only_their_own(backend: Backend) {
    let app = spawn_app(backend).await;
    seed(
        &app,
        Provider::LinkedIn,
        ActivityName::ProfileSync,
        ActivityStatus::Success,
        Some("alice"),
        None,
    )
    .await;
    seed(
        &app,
        Provider::Greenhouse,
        ActivityName::JobsSync,
        ActivityStatus::Success,
        Some("alice"),
        Some("acme"),
    )
    .await;
    seed(
        &app,
        Provider::Lever,
        ActivityName::JobsSync,
        ActivityStatus::Success,
        None,
        Some("acme"),
    )
    .await;
    seed(
        &app,
        Provider::Lever,
        ActivityName::JobsSync,
        ActivityStatus::Success,
        None,
        Some("globex"),
    )
    .await;
    connect(
        &app,
        Provider::LinkedIn,
        ConnectionOwner::User {
            user_id: "alice".into(),
        },
    )
    .await;
    connect(
        &app,
        Provider::Google,
        ConnectionOwner::User {
            user_id: "alice".into(),
        },
    )
    .await;
    connect(
        &app,
        Provider::Greenhouse,
        ConnectionOwner::Organization {
            org_id: "acme".into(),
            user_id: "alice".into(),
        },
    )
    .await;

    let mut client = app.integration().await;
    let alice = token("alice", &[("acme", "admin")]);
    let bob = token("bob", &[("acme", "member")]);
    let mallory = token("mallory", &[("globex", "admin")]);

    // alice: her own rows plus acme's ATS rows
    let list = client
        .list_activity(authed(ListActivityRequest::default(), &alice))
        .await
        .expect("alice list")
        .into_inner();
    assert_eq!(list.activities.len(), 3);
    assert!(list
        .activities
        .iter()
        .all(|a| a.organization_id != "globex"));
    let status = client
        .get_integration_status(authed(GetIntegrationStatusRequest {}, &alice))
        .await
        .expect("alice status")
        .into_inner();
    assert_eq!(
        (
            status.linkedin.len(),
            status.calendars.len(),
            status.ats.len()
        ),
        (1, 1, 1)
    );
    assert_eq!(status.ats[0].organization_id, "acme");

    // bob, a member of acme: nothing of alice's, no ATS connections
    let list = client
        .list_activity(authed(ListActivityRequest::default(), &bob))
        .await
        .expect("bob list")
        .into_inner();
    assert!(list.activities.is_empty());
    let status = client
        .get_integration_status(authed(GetIntegrationStatusRequest {}, &bob))
        .await
        .expect("bob status")
        .into_inner();
    assert!(status.linkedin.is_empty() && status.calendars.is_empty() && status.ats.is_empty());
    let denied = client
        .list_activity(authed(
            ListActivityRequest {
                organization_id: "acme".into(),
                ..Default::default()
            },
            &bob,
        ))
        .await
        .expect_err("member may not read org activity");
    assert_eq!(denied.code(), tonic::Code::PermissionDenied);

    // mallory, admin elsewhere: acme does not exist for her
    let hidden = client
        .list_activity(authed(
            ListActivityRequest {
                organization_id: "acme".into(),
                ..Default::default()
            },
            &mallory,
        ))
        .await
        .expect_err("other org");
    assert_eq!(hidden.code(), tonic::Code::NotFound);
    let own = client
        .list_activity(authed(
            ListActivityRequest {
                organization_id: "globex".into(),
                ..Default::default()
            },
            &mallory,
        ))
        .await
        .expect("own org")
        .into_inner();
    assert_eq!(own.activities.len(), 1);
    let status = client
        .get_integration_status(authed(GetIntegrationStatusRequest {}, &mallory))
        .await
        .expect("mallory status")
        .into_inner();
    assert!(status.ats.is_empty());
    app.stop().await;
}

/// The overview is cached per owner on PostgreSQL; a change made anywhere
/// (another replica, or SQL by hand) shows at once.
async fn status_sees_changes_made_elsewhere(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = connect(
        &app,
        Provider::Google,
        ConnectionOwner::User {
            user_id: "carol".into(),
        },
    )
    .await;
    let mut client = app.integration().await;
    let carol = token("carol", &[]);
    let read = |mut client: nextke_integrations::proto::integration_service_client::IntegrationServiceClient<tonic::transport::Channel>| {
        let carol = carol.clone();
        async move {
            client
                .get_integration_status(authed(GetIntegrationStatusRequest {}, &carol))
                .await
                .expect("status")
                .into_inner()
        }
    };
    let before = read(client.clone()).await;
    assert_eq!(before.calendars.len(), 1);
    assert_eq!(
        before.calendars[0].state(),
        nextke_integrations::proto::ConnectionState::Connected
    );
    // warm the cache, then change the row behind the service's back
    read(client.clone()).await;
    crate::helpers::sql(
        &app,
        &format!("UPDATE oauth_credentials SET state = 'error', last_error = 'changed elsewhere' WHERE id = '{id}'"),
    )
    .await;
    let started = std::time::Instant::now();
    loop {
        let now = read(client.clone()).await;
        if now.calendars[0].state() == nextke_integrations::proto::ConnectionState::Error {
            assert_eq!(now.calendars[0].last_error, "changed elsewhere");
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(2),
            "stale status"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    crate::helpers::sql(
        &app,
        &format!("DELETE FROM oauth_credentials WHERE id = '{id}'"),
    )
    .await;
    let started = std::time::Instant::now();
    while !read(client.clone()).await.calendars.is_empty() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(2),
            "deleted connection still shown"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let _ = client
        .get_integration_status(authed(GetIntegrationStatusRequest {}, &carol))
        .await;
    app.stop().await;
}

db_tests!(
    users_and_organizations_see_only_their_own,
    status_sees_changes_made_elsewhere,
);
