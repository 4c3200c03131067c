//! The calendar test rig: the real server with sandbox Google, Microsoft and
//! WhatsApp on loopback, a real SMTP server (the sandbox's sink), and a
//! frontend page the OAuth callback lands on.

use std::time::Duration;

use nextke_integrations::{
    config::{Config, SmtpTlsMode},
    proto::{
        self, calendar_service_client::CalendarServiceClient, CreateEventRequest,
        StartCalendarAuthRequest,
    },
};
use nextke_sandbox::{
    ApprovedTemplate, GoogleSandbox, GoogleSandboxConfig, MicrosoftSandbox, MicrosoftSandboxConfig,
    SandboxHandle, SandboxServer, SmtpSink, SmtpSinkConfig, WhatsAppSandbox, WhatsAppSandboxConfig,
};
use secrecy::SecretString;
use tonic::transport::Channel;

use crate::helpers::{
    authed, fresh_database, spawn_app_with, test_config, token, Backend, TestApp,
};

/// The WhatsApp template the rig registers (four body parameters).
pub const TEMPLATE: &str = "event_reminder";
/// The WhatsApp access token the sandbox accepts.
pub const WHATSAPP_TOKEN: &str = "sandbox-whatsapp-token";
/// The business phone number id the sandbox knows.
pub const PHONE_NUMBER_ID: &str = "106540352242922";

/// Google, Microsoft, WhatsApp and SMTP sandboxes beside a running server.
pub struct Cal {
    pub app: TestApp,
    pub google: GoogleSandbox,
    pub google_handle: SandboxHandle,
    pub microsoft: MicrosoftSandbox,
    pub microsoft_handle: SandboxHandle,
    pub whatsapp: WhatsAppSandbox,
    _whatsapp_handle: SandboxHandle,
    pub smtp: SmtpSink,
    _front: SandboxHandle,
    config: Config,
}

async fn listener() -> tokio::net::TcpListener {
    tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind")
}

/// The sandboxes and the configuration pointing at them, for a database.
pub struct Parts {
    pub google: (GoogleSandbox, SandboxHandle),
    pub microsoft: (MicrosoftSandbox, SandboxHandle),
    pub whatsapp: (WhatsAppSandbox, SandboxHandle),
    pub smtp: SmtpSink,
    pub front: SandboxHandle,
    pub config: Config,
}

/// Starts the sandboxes and writes the configuration for `database_url`.
pub async fn parts(database_url: &str) -> Parts {
    let google_config = GoogleSandboxConfig {
        store_then_timeout_delay: Duration::from_secs(3),
        ..GoogleSandboxConfig::default()
    };
    let google_id = google_config.client_id.clone();
    let google_secret = google_config.client_secret.clone();
    let google = GoogleSandbox::start_with(google_config, listener().await).expect("google");
    let microsoft_config = MicrosoftSandboxConfig {
        store_then_timeout_delay: Duration::from_secs(3),
        ..MicrosoftSandboxConfig::default()
    };
    let ms_id = microsoft_config.client_id.clone();
    let ms_secret = microsoft_config.client_secret.clone();
    let microsoft =
        MicrosoftSandbox::start_with(microsoft_config, listener().await).expect("microsoft");
    let whatsapp = WhatsAppSandbox::start_with(
        WhatsAppSandboxConfig {
            access_tokens: vec![WHATSAPP_TOKEN.to_owned()],
            phone_number_ids: vec![PHONE_NUMBER_ID.to_owned()],
            templates: vec![ApprovedTemplate::new(TEMPLATE, "en", 4)],
            allowed_recipients: None,
        },
        listener().await,
    )
    .expect("whatsapp");
    let smtp = SmtpSink::start(SmtpSinkConfig::default(), listener().await).expect("smtp");
    let landing = axum::Router::new().route("/settings", axum::routing::get(|| async { "landed" }));
    let front = SandboxServer::new(landing)
        .start(listener().await)
        .expect("frontend");
    let front_url = front.base_url();

    let mut config = test_config(database_url);
    let p = &mut config.providers;
    p.google_oauth_base_url = google.1.base_url();
    p.google_token_base_url = google.1.base_url();
    p.google_api_base_url = google.1.base_url();
    p.google_userinfo_base_url = google.1.base_url();
    p.google_client_id = google_id;
    p.google_client_secret = Some(SecretString::from(google_secret));
    p.microsoft_oauth_base_url = microsoft.1.base_url();
    p.microsoft_api_base_url = microsoft.1.base_url();
    p.microsoft_client_id = ms_id;
    p.microsoft_client_secret = Some(SecretString::from(ms_secret));
    let c = &mut config.calendar;
    c.calendar_success_redirect = format!("{front_url}/settings?calendar=connected");
    c.calendar_failure_redirect = format!("{front_url}/settings?calendar=failed");
    c.smtp_host = Some("127.0.0.1".to_owned());
    c.smtp_port = Some(smtp.addr.port());
    c.smtp_tls = SmtpTlsMode::None;
    c.smtp_from = "Next_KE <reminders@next.ke>".to_owned();
    c.whatsapp_api_base_url = whatsapp.1.base_url();
    c.whatsapp_phone_number_id = Some(PHONE_NUMBER_ID.to_owned());
    c.whatsapp_access_token = Some(SecretString::from(WHATSAPP_TOKEN));
    c.whatsapp_template = TEMPLATE.to_owned();
    c.reminder_retry_ms = 300;
    c.notification_poll_ms = 200;
    config.outbound.outbound_timeout_ms = 1_000;
    Parts {
        google,
        microsoft,
        whatsapp,
        smtp,
        front,
        config,
    }
}

/// A rig on a fresh database; `edit` changes the configuration first.
pub async fn cal(backend: Backend, edit: impl FnOnce(&mut Config)) -> Cal {
    let database_url = fresh_database(backend).await;
    let mut parts = parts(&database_url).await;
    edit(&mut parts.config);
    let app = spawn_app_with(backend, parts.config.clone()).await;
    Cal {
        config: parts.config,
        app,
        google: parts.google.0,
        google_handle: parts.google.1,
        microsoft: parts.microsoft.0,
        microsoft_handle: parts.microsoft.1,
        whatsapp: parts.whatsapp.0,
        _whatsapp_handle: parts.whatsapp.1,
        smtp: parts.smtp,
        _front: parts.front,
    }
}

/// A rig whose background workers run (reminders, pushes).
pub async fn cal_with_workers(backend: Backend) -> Cal {
    cal(backend, |c| {
        c.jobs.workers_enabled = true;
        c.jobs.job_poll_interval_ms = 50;
    })
    .await
}

/// A browser that follows every redirect.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .expect("browser")
}

impl Cal {
    /// Stops the server and starts another on the same database and
    /// sandboxes, with `edit` applied to the configuration.
    pub async fn restart(mut self, edit: impl FnOnce(&mut Config)) -> Cal {
        let backend = self.app.backend;
        edit(&mut self.config);
        let fresh = spawn_app_with(backend, self.config.clone()).await;
        let old = std::mem::replace(&mut self.app, fresh);
        old.stop().await;
        self
    }

    pub async fn client(&self) -> CalendarServiceClient<Channel> {
        CalendarServiceClient::new(self.app.channel().await)
    }

    /// StartCalendarAuth, then a browser follows every redirect; where it landed.
    pub async fn connect(&self, user: &str, provider: proto::Provider) -> url::Url {
        let started = self
            .client()
            .await
            .start_calendar_auth(authed(
                StartCalendarAuthRequest {
                    provider: provider.into(),
                },
                &token(user, &[]),
            ))
            .await
            .expect("start")
            .into_inner();
        browser()
            .get(&started.authorization_url)
            .send()
            .await
            .expect("browse")
            .url()
            .clone()
    }

    /// Connects `user` to `provider` and answers the integration's id.
    pub async fn connected(&self, user: &str, provider: proto::Provider) -> String {
        let landed = self.connect(user, provider).await;
        assert!(
            landed.as_str().contains("calendar=connected"),
            "landed on {landed}"
        );
        let list = self.integrations(user).await;
        list.into_iter()
            .find(|i| i.provider() == provider)
            .map(|i| i.id)
            .expect("the integration is listed")
    }

    pub async fn integrations(&self, user: &str) -> Vec<proto::CalendarIntegration> {
        self.client()
            .await
            .list_calendar_integrations(authed(
                proto::ListCalendarIntegrationsRequest {},
                &token(user, &[]),
            ))
            .await
            .expect("list")
            .into_inner()
            .integrations
    }

    pub async fn create(
        &self,
        user: &str,
        request: CreateEventRequest,
    ) -> Result<proto::Event, tonic::Status> {
        self.client()
            .await
            .create_event(authed(request, &token(user, &[])))
            .await
            .map(|r| r.into_inner().event.expect("event"))
    }

    pub async fn get(&self, user: &str, event_id: &str) -> Result<proto::Event, tonic::Status> {
        self.client()
            .await
            .get_event(authed(
                proto::GetEventRequest {
                    event_id: event_id.to_owned(),
                },
                &token(user, &[]),
            ))
            .await
            .map(|r| r.into_inner().event.expect("event"))
    }

    pub async fn update(
        &self,
        user: &str,
        event_id: &str,
        event: proto::Event,
        paths: &[&str],
    ) -> Result<proto::Event, tonic::Status> {
        self.client()
            .await
            .update_event(authed(
                proto::UpdateEventRequest {
                    event_id: event_id.to_owned(),
                    event: Some(event),
                    update_mask: Some(prost_types::FieldMask {
                        paths: paths.iter().map(|p| (*p).to_owned()).collect(),
                    }),
                    notify_attendees: false,
                },
                &token(user, &[]),
            ))
            .await
            .map(|r| r.into_inner().event.expect("event"))
    }

    pub async fn cancel(
        &self,
        user: &str,
        event_id: &str,
    ) -> Result<proto::CancelEventResponse, tonic::Status> {
        self.client()
            .await
            .cancel_event(authed(
                proto::CancelEventRequest {
                    event_id: event_id.to_owned(),
                    notify_attendees: false,
                },
                &token(user, &[]),
            ))
            .await
            .map(|r| r.into_inner())
    }

    pub async fn set_preferences(&self, user: &str, preferences: proto::ReminderPreferences) {
        self.client()
            .await
            .update_reminder_preferences(authed(
                proto::UpdateReminderPreferencesRequest {
                    preferences: Some(preferences),
                    update_mask: None,
                },
                &token(user, &[]),
            ))
            .await
            .expect("preferences");
    }

    /// Every channel on, with addresses.
    pub async fn all_channels(&self, user: &str) {
        self.set_preferences(
            user,
            proto::ReminderPreferences {
                channels: vec![
                    proto::ReminderChannel::Email.into(),
                    proto::ReminderChannel::Whatsapp.into(),
                    proto::ReminderChannel::InApp.into(),
                ],
                email: format!("{user}@example.com"),
                whatsapp_number: "+254712345678".to_owned(),
                default_reminder_minutes: vec![15, 60],
                email_reconnect_notices: true,
            },
        )
        .await;
    }

    pub async fn notifications(&self, user: &str) -> Vec<proto::Notification> {
        self.client()
            .await
            .list_notifications(authed(
                proto::ListNotificationsRequest::default(),
                &token(user, &[]),
            ))
            .await
            .expect("notifications")
            .into_inner()
            .notifications
    }

    /// One number from SQL.
    pub async fn count(&self, sql: &str) -> i64 {
        #[derive(sea_orm::FromQueryResult)]
        struct N {
            n: i64,
        }
        use sea_orm::{ConnectionTrait, FromQueryResult};
        N::find_by_statement(sea_orm::Statement::from_string(
            self.app.ctx.db.get_database_backend(),
            sql.to_owned(),
        ))
        .one(&self.app.ctx.db)
        .await
        .expect("count")
        .map(|r| r.n)
        .unwrap_or(0)
    }
}

/// An interview request in `zone` from `start` for an hour.
pub fn interview(
    title: &str,
    start: chrono::DateTime<chrono::Utc>,
    zone: &str,
) -> CreateEventRequest {
    CreateEventRequest {
        event_type: proto::EventType::Interview.into(),
        title: title.to_owned(),
        description: "Second round with the platform team".to_owned(),
        start_time: Some(ts(start)),
        end_time: Some(ts(start + chrono::Duration::hours(1))),
        time_zone: zone.to_owned(),
        location: "Acme HQ, Nairobi".to_owned(),
        meeting_url: "https://meet.example.com/abc-defg".to_owned(),
        attendees: vec![proto::Attendee {
            email: "recruiter@acme.example".to_owned(),
            name: "Rita Recruiter".to_owned(),
            optional: false,
        }],
        ..Default::default()
    }
}

pub fn ts(t: chrono::DateTime<chrono::Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: 0,
    }
}

/// Waits until `check` holds, up to `limit`.
pub async fn eventually<F, Fut>(limit: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if check().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
