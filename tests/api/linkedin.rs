//! LinkedIn end to end: gRPC to start, a browser through the sandbox's
//! authorization page and our real HTTP callback, sync, settings, disconnect.

use std::time::Duration;

use nextke_integrations::{
    config::Config,
    domain::linkedin::jobs as li_jobs,
    proto::{
        self, integration_service_client::IntegrationServiceClient, DisconnectLinkedInRequest,
        GetIntegrationStatusRequest, GetLinkedInProfileRequest, ListActivityRequest,
        StartLinkedInAuthRequest, SyncLinkedInProfileRequest, UpdateLinkedInSettingsRequest,
    },
};
use nextke_sandbox::{
    linkedin::{LinkedInSandbox, LinkedInSandboxConfig, EEA_MEMBER_SUB, US_MEMBER_SUB},
    oauth_server::{Consent, PkceMode},
    SandboxHandle, SandboxServer,
};
use reqwest::StatusCode;
use secrecy::SecretString;
use tonic::transport::Channel;

use crate::{
    db_tests,
    helpers::{authed, fresh_database, spawn_app_with, sql, test_config, token, Backend, TestApp},
};

/// The app, a LinkedIn sandbox serving both LinkedIn hosts, and a stand-in
/// frontend where the browser lands after the callback.
pub struct Li {
    pub app: TestApp,
    pub sandbox: LinkedInSandbox,
    pub handle: SandboxHandle,
    _front: SandboxHandle,
}

pub async fn li(
    backend: Backend,
    edit_sandbox: impl FnOnce(&mut LinkedInSandboxConfig),
    edit_config: impl FnOnce(&mut Config),
) -> Li {
    let mut sandbox_config = LinkedInSandboxConfig {
        pkce: PkceMode::Required,
        ..LinkedInSandboxConfig::default()
    };
    edit_sandbox(&mut sandbox_config);
    let client_id = sandbox_config.client_id.clone();
    let client_secret = sandbox_config.client_secret.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let (sandbox, handle) = LinkedInSandbox::start_with(sandbox_config, listener).expect("sandbox");

    let landing = axum::Router::new().route("/settings", axum::routing::get(|| async { "landed" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let front_handle = SandboxServer::new(landing)
        .start(listener)
        .expect("frontend");
    let front = front_handle.base_url();

    let mut config = test_config(&fresh_database(backend).await);
    config.providers.linkedin_oauth_base_url = handle.base_url();
    config.providers.linkedin_api_base_url = handle.base_url();
    config.providers.linkedin_client_id = client_id;
    config.providers.linkedin_client_secret = Some(SecretString::from(client_secret));
    config.linkedin.linkedin_success_redirect = format!("{front}/settings?linkedin=connected");
    config.linkedin.linkedin_failure_redirect = format!("{front}/settings?linkedin=failed");
    config.linkedin.linkedin_rate_limit_rps = 1000;
    edit_config(&mut config);
    let app = spawn_app_with(backend, config).await;
    Li {
        app,
        sandbox,
        handle,
        _front: front_handle,
    }
}

/// A rig with the portability API on and the EEA member logged in at LinkedIn.
pub async fn eea_rig(backend: Backend) -> Li {
    let li = li(
        backend,
        |_| {},
        |c| c.linkedin.linkedin_portability_enabled = true,
    )
    .await;
    li.sandbox.set_member(EEA_MEMBER_SUB);
    li
}

impl Li {
    pub async fn client(&self) -> IntegrationServiceClient<Channel> {
        self.app.integration().await
    }

    /// StartLinkedInAuth for `user`.
    pub async fn start(&self, user: &str) -> proto::StartLinkedInAuthResponse {
        self.client()
            .await
            .start_linked_in_auth(authed(StartLinkedInAuthRequest {}, &token(user, &[])))
            .await
            .expect("start")
            .into_inner()
    }

    /// UpdateLinkedInSettings for `user`.
    pub async fn settings(
        &self,
        user: &str,
        request: UpdateLinkedInSettingsRequest,
    ) -> Result<proto::UpdateLinkedInSettingsResponse, tonic::Status> {
        self.client()
            .await
            .update_linked_in_settings(authed(request, &token(user, &[])))
            .await
            .map(|r| r.into_inner())
    }

    /// The LinkedIn connections GetIntegrationStatus shows `user`.
    pub async fn status(&self, user: &str) -> Vec<proto::ConnectionStatus> {
        self.client()
            .await
            .get_integration_status(authed(GetIntegrationStatusRequest {}, &token(user, &[])))
            .await
            .expect("status")
            .into_inner()
            .linkedin
    }

    /// StartLinkedInAuth for `user`, then a browser follows every redirect;
    /// returns where it landed.
    pub async fn connect(&self, user: &str) -> url::Url {
        let started = self.start(user).await;
        browser()
            .get(&started.authorization_url)
            .send()
            .await
            .expect("browse")
            .url()
            .clone()
    }

    pub async fn profile(
        &self,
        user: &str,
    ) -> Result<proto::GetLinkedInProfileResponse, tonic::Status> {
        self.client()
            .await
            .get_linked_in_profile(authed(GetLinkedInProfileRequest {}, &token(user, &[])))
            .await
            .map(|r| r.into_inner())
    }

    pub async fn sync(
        &self,
        user: &str,
    ) -> Result<proto::SyncLinkedInProfileResponse, tonic::Status> {
        self.client()
            .await
            .sync_linked_in_profile(authed(SyncLinkedInProfileRequest {}, &token(user, &[])))
            .await
            .map(|r| r.into_inner())
    }

    /// Lets the next manual sync through.
    pub async fn forget_manual_sync(&self) {
        sql(
            &self.app,
            "UPDATE linkedin_profiles SET last_manual_sync_at = NULL",
        )
        .await;
    }

    pub async fn count(&self, table: &str, condition: &str) -> i64 {
        #[derive(sea_orm::FromQueryResult)]
        struct N {
            n: i64,
        }
        use sea_orm::{ConnectionTrait, FromQueryResult};
        N::find_by_statement(sea_orm::Statement::from_string(
            self.app.ctx.db.get_database_backend(),
            format!("SELECT COUNT(*) AS n FROM {table} WHERE {condition}"),
        ))
        .one(&self.app.ctx.db)
        .await
        .expect("count")
        .map(|r| r.n)
        .unwrap_or(0)
    }
}

/// A browser that keeps cookies but follows no redirect, so a test can walk
/// a flow one hop at a time.
pub fn stepping_browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("browser")
}

/// Where a redirect answer sends the browser.
pub fn location(response: &reqwest::Response) -> url::Url {
    assert!(
        response.status().is_redirection(),
        "expected a redirect, got {}",
        response.status()
    );
    url::Url::parse(
        response.headers()["location"]
            .to_str()
            .expect("ascii location"),
    )
    .expect("location url")
}

/// One hop: GET `url` in `browser` and answer where it is sent.
pub async fn hop(browser: &reqwest::Client, url: &str) -> url::Url {
    location(&browser.get(url).send().await.expect("request"))
}

impl Li {
    /// StartLinkedInAuth for `user`, then `browser` opens the start page and
    /// consents at the sandbox; answers the provider's authorization URL and
    /// the callback URL the sandbox sent the browser to (not yet opened).
    pub async fn to_callback(&self, user: &str, browser: &reqwest::Client) -> (url::Url, url::Url) {
        let started = self.start(user).await;
        let provider = hop(browser, &started.authorization_url).await;
        let callback = hop(browser, provider.as_str()).await;
        assert!(callback.as_str().starts_with(&self.app.base_url));
        (provider, callback)
    }
}

/// A browser: follows redirects, keeps cookies.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .expect("browser")
}

/// The LinkedIn state `GetIntegrationStatus` shows once it equals `expected`
/// (a change made in SQL reaches the per-owner cache by notification).
async fn status_becomes(li: &Li, user: &str, expected: proto::ConnectionState) {
    let started = std::time::Instant::now();
    loop {
        let status = li.status(user).await;
        if status.first().map(|c| c.state()) == Some(expected) {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "status never became {expected:?}: {status:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub fn query(url: &url::Url, key: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

fn sections(list: &[i32]) -> Vec<proto::LinkedInSection> {
    list.iter()
        .map(|s| proto::LinkedInSection::try_from(*s).expect("known section"))
        .collect()
}

async fn connect_and_sync_an_openid_member(backend: Backend) {
    let li = li(backend, |_| {}, |_| {}).await;
    li.sandbox.set_member(US_MEMBER_SUB);
    let landed = li.connect("ada").await;
    assert_eq!(landed.path(), "/settings");
    assert_eq!(
        query(&landed, "linkedin").as_deref(),
        Some("connected"),
        "{landed}"
    );
    assert!(!landed.as_str().contains("token"), "no token in any URL");

    let member = li.sandbox.member(US_MEMBER_SUB).expect("member");
    let view = li.profile("ada").await.expect("profile");
    assert_eq!(view.state(), proto::ConnectionState::Connected);
    assert_eq!(view.capability(), proto::LinkedInCapability::OpenidConnect);
    let profile = view.profile.clone().expect("profile");
    assert_eq!(profile.given_name, member.given_name);
    assert_eq!(profile.family_name, member.family_name);
    assert_eq!(profile.email, member.email.clone().unwrap_or_default());
    assert_eq!(
        profile.locale,
        format!("{}_{}", member.locale.language, member.locale.country)
    );
    assert!(
        profile.headline.is_empty() && profile.experience.is_empty(),
        "oidc gives no more"
    );
    assert!(view.last_synced_at.is_some() && view.next_sync_at.is_some());
    assert_eq!(view.frequency(), proto::SyncFrequency::Weekly);
    let available = sections(&view.available_sections);
    assert!(available.contains(&proto::LinkedInSection::Name));
    assert!(!available.contains(&proto::LinkedInSection::Experience));
    assert!(sections(&view.missing_sections).contains(&proto::LinkedInSection::Headline));
    assert!(view.completeness_percent > 0 && view.completeness_percent < 100);

    let mut client = li.client().await;
    let status = client
        .get_integration_status(authed(GetIntegrationStatusRequest {}, &token("ada", &[])))
        .await
        .expect("status")
        .into_inner();
    assert_eq!(status.linkedin.len(), 1);
    assert_eq!(
        status.linkedin[0].state(),
        proto::ConnectionState::Connected
    );
    let activity = client
        .list_activity(authed(ListActivityRequest::default(), &token("ada", &[])))
        .await
        .expect("activity")
        .into_inner();
    assert!(activity
        .activities
        .iter()
        .any(|a| a.activity == "oauth.connect" && a.status() == proto::ActivityStatus::Success));
    // another user sees nothing of it
    assert_eq!(
        li.profile("bob").await.expect_err("bob").code(),
        tonic::Code::NotFound
    );
    li.app.stop().await;
}

async fn portability_member_syncs_sections_and_changes(backend: Backend) {
    let li = eea_rig(backend).await;
    let landed = li.connect("eve").await;
    assert_eq!(
        query(&landed, "linkedin").as_deref(),
        Some("connected"),
        "{landed}"
    );
    let member = li.sandbox.member(EEA_MEMBER_SUB).expect("member");
    let view = li.profile("eve").await.expect("profile");
    assert_eq!(
        view.capability(),
        proto::LinkedInCapability::MemberDataPortability
    );
    let profile = view.profile.clone().expect("profile");
    assert_eq!(profile.headline, member.profile.headline);
    assert_eq!(profile.industry, member.profile.industry);
    assert_eq!(profile.location, member.profile.geo_location);
    assert_eq!(profile.experience.len(), member.positions.len());
    assert_eq!(
        profile.experience[0].company_name,
        member.positions[0].company_name
    );
    assert_eq!(profile.education.len(), member.education.len());
    assert_eq!(profile.skills.len(), member.skills.len());
    let endorsed = member
        .endorsements
        .iter()
        .filter(|e| e.skill_name == member.skills[0])
        .count();
    assert_eq!(profile.skills[0].endorsement_count, Some(endorsed as i32));

    // a change at LinkedIn shows up as exactly that change
    li.sandbox.update_member(EEA_MEMBER_SUB, |m| {
        m.profile.headline = "Staff Engineer".to_owned()
    });
    let report = li.sync("eve").await.expect("sync");
    assert_eq!(
        sections(&report.changed_sections),
        vec![proto::LinkedInSection::Headline]
    );
    assert_eq!(
        li.profile("eve")
            .await
            .expect("profile")
            .profile
            .expect("p")
            .headline,
        "Staff Engineer"
    );
    // nothing changed: nothing reported
    li.forget_manual_sync().await;
    let report = li.sync("eve").await.expect("sync");
    assert!(report.changed_sections.is_empty());
    li.app.stop().await;
}

async fn consent_denied_stores_nothing(backend: Backend) {
    let li = li(backend, |_| {}, |_| {}).await;
    li.sandbox.oauth().set_consent(Consent::Deny);
    let landed = li.connect("ada").await;
    assert_eq!(query(&landed, "linkedin").as_deref(), Some("failed"));
    assert_eq!(query(&landed, "error").as_deref(), Some("access_denied"));
    assert_eq!(
        li.profile("ada").await.expect_err("none").code(),
        tonic::Code::NotFound
    );
    assert_eq!(li.count("oauth_credentials", "1 = 1").await, 0);
    li.app.stop().await;
}

async fn state_replay_expiry_and_owner(backend: Backend) {
    let li = li(backend, |_| {}, |_| {}).await;
    // walk the redirects by hand to capture the callback URL
    let ada = stepping_browser();
    let (_, callback) = li.to_callback("ada", &ada).await;
    let landed = hop(&ada, callback.as_str()).await;
    assert_eq!(query(&landed, "linkedin").as_deref(), Some("connected"));
    // the same callback again: the state was single use
    let replay = hop(&ada, callback.as_str()).await;
    assert_eq!(query(&replay, "error").as_deref(), Some("invalid_state"));
    // a made-up state
    let forged = browser()
        .get(format!(
            "{}/api/v1/integrations/linkedin/callback?code=x&state=forged",
            li.app.base_url
        ))
        .send()
        .await
        .expect("forged")
        .url()
        .clone();
    assert_eq!(query(&forged, "error").as_deref(), Some("invalid_state"));

    // an expired state
    let started = li.start("bob").await;
    sql(
        &li.app,
        "UPDATE oauth_states SET expires_at = '2000-01-01 00:00:00+00:00'",
    )
    .await;
    let landed = browser()
        .get(&started.authorization_url)
        .send()
        .await
        .expect("browse")
        .url()
        .clone();
    assert_eq!(query(&landed, "error").as_deref(), Some("invalid_state"));
    assert_eq!(
        li.profile("bob").await.expect_err("none").code(),
        tonic::Code::NotFound
    );

    // ada's state completed in carol's browser still connects ada, never carol
    let started = li.start("ada").await;
    let landed = browser()
        .get(&started.authorization_url)
        .send()
        .await
        .expect("browse")
        .url()
        .clone();
    assert_eq!(query(&landed, "linkedin").as_deref(), Some("connected"));
    assert_eq!(
        li.profile("carol").await.expect_err("none").code(),
        tonic::Code::NotFound
    );
    // a calendar flow's state is not a LinkedIn state
    li.app.stop().await;
}

async fn pkce_is_checked_by_the_sandbox(backend: Backend) {
    // the sandbox requires PKCE: without it the authorization request fails
    let li_required = li(backend, |_| {}, |c| c.linkedin.linkedin_pkce = false).await;
    let landed = li_required.connect("ada").await;
    assert_ne!(
        query(&landed, "linkedin").as_deref(),
        Some("connected"),
        "{landed}"
    );
    li_required.app.stop().await;
    // LinkedIn web apps without PKCE: the flow works with PKCE off
    let li_web = li(
        backend,
        |s| s.pkce = PkceMode::Rejected,
        |c| c.linkedin.linkedin_pkce = false,
    )
    .await;
    let landed = li_web.connect("ada").await;
    assert_eq!(
        query(&landed, "linkedin").as_deref(),
        Some("connected"),
        "{landed}"
    );
    let exchange = li_web
        .handle
        .log
        .matching(http::Method::POST, "/oauth/v2/accessToken");
    assert!(exchange[0].form_field("code_verifier").is_none());
    li_web.app.stop().await;
}

async fn privacy_toggles_delete_and_never_store(backend: Backend) {
    let li = eea_rig(backend).await;
    li.connect("eve").await;
    assert!(!li
        .profile("eve")
        .await
        .expect("p")
        .profile
        .expect("p")
        .skills
        .is_empty());
    let updated = li
        .settings(
            "eve",
            UpdateLinkedInSettingsRequest {
                sync_skills: Some(false),
                sync_picture: Some(false),
                ..Default::default()
            },
        )
        .await
        .expect("update");
    let deleted = sections(&updated.deleted_sections);
    assert!(
        deleted.contains(&proto::LinkedInSection::Skills)
            && deleted.contains(&proto::LinkedInSection::Picture)
    );
    assert_eq!(
        li.count("linkedin_profiles", "skills IS NULL").await,
        1,
        "deleted at once"
    );
    let view = li.profile("eve").await.expect("profile");
    let profile = view.profile.expect("p");
    assert!(profile.skills.is_empty() && profile.picture_url.is_empty());
    assert!(!view.privacy.expect("privacy").sync_skills);

    // the next sync neither asks LinkedIn for skills nor stores them
    li.handle.log.clear();
    li.forget_manual_sync().await;
    li.sync("eve").await.expect("sync");
    let asked_skills = li.handle.log.requests().iter().any(|r| {
        r.path == "/rest/memberSnapshotData"
            && r.query.as_deref().is_some_and(|q| q.contains("SKILLS"))
    });
    assert!(!asked_skills, "a switched-off section is not fetched");
    assert_eq!(li.count("linkedin_profiles", "skills IS NULL").await, 1);
    let profile = li.profile("eve").await.expect("p").profile.expect("p");
    assert!(profile.skills.is_empty() && profile.picture_url.is_empty());
    li.app.stop().await;
}

async fn frequency_schedules_and_the_sweep_enqueues_due_syncs(backend: Backend) {
    let li = li(
        backend,
        |_| {},
        |c| {
            c.jobs.workers_enabled = true;
            c.jobs.job_poll_interval_ms = 50;
        },
    )
    .await;
    li.connect("ada").await;
    let now = chrono::Utc::now().timestamp();
    let daily = li
        .settings(
            "ada",
            UpdateLinkedInSettingsRequest {
                frequency: proto::SyncFrequency::Daily.into(),
                ..Default::default()
            },
        )
        .await
        .expect("daily");
    let next = daily.next_sync_at.expect("next").seconds - now;
    assert!(
        (77_760..=95_040).contains(&next),
        "a day give or take 10%: {next}"
    );
    let manual = li
        .settings(
            "ada",
            UpdateLinkedInSettingsRequest {
                frequency: proto::SyncFrequency::Manual.into(),
                ..Default::default()
            },
        )
        .await
        .expect("manual");
    assert!(manual.next_sync_at.is_none());
    let bad = li
        .settings(
            "ada",
            UpdateLinkedInSettingsRequest {
                frequency: 42,
                ..Default::default()
            },
        )
        .await
        .expect_err("unknown frequency");
    assert_eq!(bad.code(), tonic::Code::InvalidArgument);

    // a due weekly sync is enqueued by the sweep and run by the workers
    li.settings(
        "ada",
        UpdateLinkedInSettingsRequest {
            frequency: proto::SyncFrequency::Weekly.into(),
            ..Default::default()
        },
    )
    .await
    .expect("weekly");
    sql(&li.app, "UPDATE linkedin_profiles SET next_sync_at = '2000-01-01 00:00:00+00:00', last_synced_at = '2000-01-01 00:00:00+00:00'").await;
    let enqueued = li_jobs::sweep(&li.app.ctx).await.expect("sweep");
    assert_eq!(enqueued, 1);
    assert_eq!(
        li_jobs::sweep(&li.app.ctx).await.expect("sweep again"),
        0,
        "not twice"
    );
    let started = std::time::Instant::now();
    loop {
        let view = li.profile("ada").await.expect("profile");
        let synced = view.last_synced_at.expect("synced").seconds;
        if synced > now - 5 {
            let next = view.next_sync_at.expect("next").seconds - now;
            assert!(
                (544_320..=665_280).contains(&next),
                "a week give or take 10%: {next}"
            );
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "scheduled sync did not run"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    li.app.stop().await;
}

async fn manual_sync_is_throttled(backend: Backend) {
    let li = li(backend, |_| {}, |_| {}).await;
    li.connect("ada").await;
    li.sync("ada").await.expect("first manual sync");
    let throttled = li.sync("ada").await.expect_err("second within a minute");
    assert_eq!(throttled.code(), tonic::Code::ResourceExhausted);
    assert!(throttled.metadata().get("retry-after").is_some());
    assert!(throttled.message().contains("try again at"));
    li.forget_manual_sync().await;
    li.sync("ada").await.expect("allowed again");
    li.app.stop().await;
}

async fn unauthorized_at_linkedin_needs_reauth(backend: Backend) {
    let li = li(backend, |_| {}, |_| {}).await;
    li.connect("ada").await;
    li.sandbox
        .oauth()
        .revoke_all_for_subject(&li.sandbox.config().members[0].sub);
    let err = li.sync("ada").await.expect_err("refused");
    assert_eq!(err.code(), tonic::Code::FailedPrecondition);
    let view = li.profile("ada").await.expect("profile");
    assert_eq!(view.state(), proto::ConnectionState::NeedsReauth);
    let status = li.status("ada").await;
    assert_eq!(status[0].state(), proto::ConnectionState::NeedsReauth);
    li.app.stop().await;
}

async fn disconnect_deletes_everything_but_the_audit_row(backend: Backend) {
    let li = eea_rig(backend).await;
    li.connect("eve").await;
    let member = li.sandbox.member(EEA_MEMBER_SUB).expect("member");
    let reply = li
        .client()
        .await
        .disconnect_linked_in(authed(DisconnectLinkedInRequest {}, &token("eve", &[])))
        .await
        .expect("disconnect")
        .into_inner();
    assert!(reply.revoked_at_provider);
    assert_eq!(
        li.handle.log.count(http::Method::POST, "/oauth/v2/revoke"),
        1
    );
    assert_eq!(
        li.profile("eve").await.expect_err("gone").code(),
        tonic::Code::NotFound
    );
    assert_eq!(li.count("linkedin_profiles", "1 = 1").await, 0);
    assert_eq!(li.count("oauth_credentials", "1 = 1").await, 0);
    assert_eq!(
        li.count("jobs", "state = 'pending' AND kind = 'linkedin.sync'")
            .await,
        0
    );
    let activity = li
        .client()
        .await
        .list_activity(authed(ListActivityRequest::default(), &token("eve", &[])))
        .await
        .expect("activity")
        .into_inner();
    let audit = activity
        .activities
        .iter()
        .find(|a| a.activity == "oauth.disconnect")
        .expect("audit row kept");
    for personal in [
        &member.given_name,
        &member.family_name,
        &member.profile.headline,
    ] {
        assert!(
            !audit.message.contains(personal.as_str()),
            "{}",
            audit.message
        );
    }
    if let Some(email) = &member.email {
        assert!(!audit.message.contains(email.as_str()));
    }
    li.app.stop().await;
}

async fn provider_503_then_success_with_backoff(backend: Backend) {
    let li = li(backend, |_| {}, |_| {}).await;
    li.connect("ada").await;
    li.handle.faults.set_path_prefix(Some("/v2/userinfo"));
    li.handle
        .faults
        .fail_next(2, StatusCode::SERVICE_UNAVAILABLE);
    li.handle.log.clear();
    li.sync("ada").await.expect("succeeds after retries");
    assert_eq!(li.handle.log.count(http::Method::GET, "/v2/userinfo"), 3);
    assert_eq!(li.handle.faults.failed_count(), 2);
    li.app.stop().await;
}

async fn flag_off_refuses_everything(backend: Backend) {
    let li = li(
        backend,
        |_| {},
        |c| c.linkedin.enable_linkedin_integration = false,
    )
    .await;
    let mut client = li.client().await;
    let t = token("ada", &[]);
    let codes = [
        client
            .start_linked_in_auth(authed(StartLinkedInAuthRequest {}, &t))
            .await
            .err(),
        client
            .get_linked_in_profile(authed(GetLinkedInProfileRequest {}, &t))
            .await
            .err(),
        client
            .update_linked_in_settings(authed(UpdateLinkedInSettingsRequest::default(), &t))
            .await
            .err(),
        client
            .sync_linked_in_profile(authed(SyncLinkedInProfileRequest {}, &t))
            .await
            .err(),
        client
            .disconnect_linked_in(authed(DisconnectLinkedInRequest {}, &t))
            .await
            .err(),
    ];
    for status in codes {
        let status = status.expect("refused");
        assert_eq!(status.code(), tonic::Code::FailedPrecondition);
        assert!(
            status.message().contains("ENABLE_LINKEDIN_INTEGRATION"),
            "{}",
            status.message()
        );
    }
    assert_eq!(li_jobs::sweep(&li.app.ctx).await.expect("sweep"), 0);
    let landed = browser()
        .get(format!(
            "{}/api/v1/integrations/linkedin/callback?code=x&state=y",
            li.app.base_url
        ))
        .send()
        .await
        .expect("callback")
        .url()
        .clone();
    assert_eq!(query(&landed, "error").as_deref(), Some("disabled"));
    li.app.stop().await;
}

async fn expiring_and_expired_tokens(backend: Backend) {
    let li = li(backend, |_| {}, |_| {}).await;
    li.connect("ada").await;
    let in_three_days =
        (chrono::Utc::now() + chrono::Duration::days(3)).format("%Y-%m-%d %H:%M:%S+00:00");
    sql(
        &li.app,
        &format!("UPDATE oauth_credentials SET token_expires_at = '{in_three_days}'"),
    )
    .await;
    status_becomes(&li, "ada", proto::ConnectionState::Expiring).await;
    li_jobs::sweep(&li.app.ctx).await.expect("sweep");
    li_jobs::sweep(&li.app.ctx).await.expect("sweep again");
    let warned = li
        .count("integration_activity_logs", "activity = 'token.expiring'")
        .await;
    assert_eq!(warned, 1, "told once");
    assert_eq!(
        li.count("oauth_credentials", "expiry_warned_at IS NOT NULL")
            .await,
        1,
        "the mark is the connection's"
    );
    li.connect("ada").await;
    assert_eq!(
        li.count("oauth_credentials", "expiry_warned_at IS NOT NULL")
            .await,
        0,
        "a reconnect arms the next warning"
    );
    sql(
        &li.app,
        "UPDATE oauth_credentials SET token_expires_at = '2000-01-01 00:00:00+00:00'",
    )
    .await;
    status_becomes(&li, "ada", proto::ConnectionState::NeedsReauth).await;
    li.forget_manual_sync().await;
    assert_eq!(
        li.sync("ada").await.expect_err("expired").code(),
        tonic::Code::FailedPrecondition
    );
    li.app.stop().await;
}

async fn issuer_on_the_callback_is_checked(backend: Backend) {
    // a server that sends iss (RFC 9207) on its own origin: accepted
    let li_ok = li(backend, |_| {}, |_| {}).await;
    let base = li_ok.handle.base_url();
    li_ok
        .sandbox
        .oauth()
        .set_callback_issuer(Some(format!("{base}/oauth")));
    let landed = li_ok.connect("ada").await;
    assert_eq!(
        query(&landed, "linkedin").as_deref(),
        Some("connected"),
        "{landed}"
    );
    // an issuer on another origin: a mix-up, refused
    li_ok
        .sandbox
        .oauth()
        .set_callback_issuer(Some("https://evil.example/oauth".to_owned()));
    let landed = li_ok.connect("bob").await;
    assert_eq!(query(&landed, "error").as_deref(), Some("invalid_issuer"));
    assert_eq!(
        li_ok.profile("bob").await.expect_err("none").code(),
        tonic::Code::NotFound
    );
    li_ok.app.stop().await;
}

db_tests!(
    connect_and_sync_an_openid_member,
    portability_member_syncs_sections_and_changes,
    consent_denied_stores_nothing,
    state_replay_expiry_and_owner,
    pkce_is_checked_by_the_sandbox,
    privacy_toggles_delete_and_never_store,
    frequency_schedules_and_the_sweep_enqueues_due_syncs,
    manual_sync_is_throttled,
    unauthorized_at_linkedin_needs_reauth,
    disconnect_deletes_everything_but_the_audit_row,
    provider_503_then_success_with_backoff,
    flag_off_refuses_everything,
    expiring_and_expired_tokens,
    issuer_on_the_callback_is_checked,
);
