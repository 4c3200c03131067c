//! `nextke-integrations demo`: the whole service against sandbox providers on
//! loopback, so a newcomer sees every flow work with no credentials.
//!
//! It starts sandbox LinkedIn, Google, Microsoft and WhatsApp and an SMTP sink,
//! serves, then plays the demo user once: connects Google Calendar and Outlook
//! through the real OAuth callback, sets reminders on every channel, and
//! creates an interview in each calendar (whose 15-minute reminders go out a
//! minute later, to the sinks); then, as the demo organization's admin,
//! connects sandbox Greenhouse and Lever, syncs their jobs, applies to a post
//! and moves the application with a signed webhook ([`crate::demo_ats`]).

use std::{future::Future, net::SocketAddr, time::Duration};

use secrecy::SecretString;
use tokio::net::TcpListener;

use crate::{
    auth::{JwtSigner, OrgMembership, OrgRole},
    config::{Config, SmtpTlsMode},
    proto::{self, calendar_service_client::CalendarServiceClient},
    secrets,
    startup::Application,
};
use nextke_sandbox::{
    linkedin::{LinkedInSandbox, LinkedInSandboxConfig},
    oauth_server::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET},
    ApprovedTemplate, GoogleSandbox, GoogleSandboxConfig, MicrosoftSandbox, MicrosoftSandboxConfig,
    PkceMode, SmtpSink, SmtpSinkConfig, WhatsAppSandbox, WhatsAppSandboxConfig,
};

/// The demo's WhatsApp credentials (the sandbox's).
const WHATSAPP_TOKEN: &str = "sandbox-whatsapp-token";
const WHATSAPP_PHONE_NUMBER_ID: &str = "106540352242922";

async fn loopback() -> anyhow::Result<TcpListener> {
    Ok(TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?)
}

/// Starts the sandbox providers, points the configuration at them, prints a
/// development token, connects the demo user's calendars, and serves until
/// `shutdown`.
pub async fn run(
    mut config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let (_linkedin_sandbox, linkedin) = LinkedInSandbox::start_with(
        LinkedInSandboxConfig {
            pkce: PkceMode::Required,
            ..LinkedInSandboxConfig::default()
        },
        loopback().await?,
    )?;
    let (_google_sandbox, google) =
        GoogleSandbox::start_with(GoogleSandboxConfig::default(), loopback().await?)?;
    let (_microsoft_sandbox, microsoft) =
        MicrosoftSandbox::start_with(MicrosoftSandboxConfig::default(), loopback().await?)?;
    let (whatsapp_sandbox, whatsapp) = WhatsAppSandbox::start_with(
        WhatsAppSandboxConfig {
            templates: vec![ApprovedTemplate::new(
                &config.calendar.whatsapp_template,
                &config.calendar.whatsapp_template_language,
                4,
            )],
            ..WhatsAppSandboxConfig::default()
        },
        loopback().await?,
    )?;
    let smtp = SmtpSink::start(SmtpSinkConfig::default(), loopback().await?)?;
    let ats = crate::demo_ats::start(&mut config).await?;
    for (name, url) in [
        ("greenhouse", ats.greenhouse_handle.base_url()),
        ("lever", ats.lever_handle.base_url()),
        ("linkedin", linkedin.base_url()),
        ("google", google.base_url()),
        ("microsoft", microsoft.base_url()),
        ("whatsapp", whatsapp.base_url()),
        ("smtp", smtp.url()),
    ] {
        tracing::info!(sandbox = name, base_url = %url, "sandbox provider listening");
    }

    let client_secret = || Some(SecretString::from(DEFAULT_CLIENT_SECRET));
    let p = &mut config.providers;
    p.linkedin_oauth_base_url = linkedin.base_url();
    p.linkedin_api_base_url = linkedin.base_url();
    p.linkedin_client_id = DEFAULT_CLIENT_ID.to_owned();
    p.linkedin_client_secret = client_secret();
    p.google_oauth_base_url = google.base_url();
    p.google_token_base_url = google.base_url();
    p.google_api_base_url = google.base_url();
    p.google_userinfo_base_url = google.base_url();
    p.google_client_id = DEFAULT_CLIENT_ID.to_owned();
    p.google_client_secret = client_secret();
    p.microsoft_oauth_base_url = microsoft.base_url();
    p.microsoft_api_base_url = microsoft.base_url();
    p.microsoft_client_id = DEFAULT_CLIENT_ID.to_owned();
    p.microsoft_client_secret = client_secret();
    let c = &mut config.calendar;
    c.smtp_host = Some("127.0.0.1".to_owned());
    c.smtp_port = Some(smtp.addr.port());
    c.smtp_tls = SmtpTlsMode::None;
    c.whatsapp_api_base_url = whatsapp.base_url();
    c.whatsapp_phone_number_id = Some(WHATSAPP_PHONE_NUMBER_ID.to_owned());
    c.whatsapp_access_token = Some(SecretString::from(WHATSAPP_TOKEN));

    config.linkedin.linkedin_portability_enabled = true;
    config.linkedin.linkedin_pkce = true;
    let app = Application::build(config.clone()).await?;
    let signer = JwtSigner::new(&secrets::jwt_config(&config)?)?;
    let token = signer.mint(
        "demo-user",
        &[OrgMembership::new("demo-org", OrgRole::Admin)],
        false,
        Duration::from_secs(24 * 3600),
    )?;
    println!("next_ke integrations demo on {}", config.public_base());
    println!("  sandbox linkedin:  {}", linkedin.base_url());
    println!("  sandbox google:    {}", google.base_url());
    println!("  sandbox microsoft: {}", microsoft.base_url());
    println!("  sandbox whatsapp:  {}", whatsapp.base_url());
    println!("  smtp sink:         {}", smtp.url());
    println!("  token for demo-user (admin of demo-org), valid 24 h:");
    println!("  export TOKEN={token}");
    println!(
        "  grpcurl -plaintext -H \"authorization: Bearer $TOKEN\" {} nextke.integrations.v1.CalendarService/ListEvents",
        config.listen_addr
    );
    let served = tokio::spawn(app.run_until_stopped(shutdown));
    if let Err(err) = play(&config, &token).await {
        println!("  demo walk-through failed: {err:#}");
    }
    if let Err(err) = crate::demo_ats::play(&config, &ats, "demo-org", &token).await {
        println!("  ats walk-through failed: {err:#}");
    }
    served.await??;
    let mails = smtp.count();
    let messages = whatsapp_sandbox.count();
    println!("  reminders delivered: {mails} emails, {messages} WhatsApp messages");
    drop((linkedin, google, microsoft, whatsapp));
    smtp.shutdown().await;
    Ok(())
}

fn authed<T>(message: T, token: &str) -> anyhow::Result<tonic::Request<T>> {
    let mut request = tonic::Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse()?);
    Ok(request)
}

/// The demo user connects both calendars and books an interview in each.
async fn play(config: &Config, token: &str) -> anyhow::Result<()> {
    let endpoint = format!("http://{}", config.listen_addr);
    let mut client = None;
    for _ in 0..50 {
        match CalendarServiceClient::connect(endpoint.clone()).await {
            Ok(c) => {
                client = Some(c);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    let mut client = client.ok_or_else(|| anyhow::anyhow!("the server did not come up"))?;
    // a browser that stops at the frontend's page (not running in the demo)
    let landing = config.calendar.calendar_success_redirect.clone();
    let failure = config.calendar.calendar_failure_redirect.clone();
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::custom(move |attempt| {
            let url = attempt.url().as_str();
            if url.starts_with(&landing) || url.starts_with(&failure) {
                attempt.stop()
            } else {
                attempt.follow()
            }
        }))
        .build()?;
    client
        .update_reminder_preferences(authed(
            proto::UpdateReminderPreferencesRequest {
                preferences: Some(proto::ReminderPreferences {
                    channels: vec![
                        proto::ReminderChannel::Email.into(),
                        proto::ReminderChannel::Whatsapp.into(),
                        proto::ReminderChannel::InApp.into(),
                    ],
                    email: "demo-user@example.com".to_owned(),
                    whatsapp_number: "+254700000001".to_owned(),
                    default_reminder_minutes: vec![15, 60],
                    email_reconnect_notices: true,
                }),
                update_mask: None,
            },
            token,
        )?)
        .await?;
    for provider in [proto::Provider::Google, proto::Provider::Microsoft] {
        let started = client
            .start_calendar_auth(authed(
                proto::StartCalendarAuthRequest {
                    provider: provider.into(),
                },
                token,
            )?)
            .await?
            .into_inner();
        let answer = browser.get(&started.authorization_url).send().await?;
        let landed = answer
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        println!("  connected {}: {landed}", provider.as_str_name());
    }
    let integrations = client
        .list_calendar_integrations(authed(proto::ListCalendarIntegrationsRequest {}, token)?)
        .await?
        .into_inner()
        .integrations;
    let start = chrono::Utc::now() + chrono::Duration::minutes(16);
    for integration in integrations {
        let event = client
            .create_event(authed(
                proto::CreateEventRequest {
                    event_type: proto::EventType::Interview.into(),
                    title: "Interview: Backend engineer at Acme".to_owned(),
                    description: "Second round with the platform team".to_owned(),
                    start_time: Some(prost_types::Timestamp {
                        seconds: start.timestamp(),
                        nanos: 0,
                    }),
                    end_time: Some(prost_types::Timestamp {
                        seconds: (start + chrono::Duration::hours(1)).timestamp(),
                        nanos: 0,
                    }),
                    time_zone: "Africa/Nairobi".to_owned(),
                    location: "Acme HQ, Nairobi".to_owned(),
                    meeting_url: "https://meet.example.com/acme-backend".to_owned(),
                    reminder_minutes: vec![15, 60],
                    integration_id: integration.id.clone(),
                    request_id: format!("demo-{}", integration.id),
                    ..Default::default()
                },
                token,
            )?)
            .await?
            .into_inner()
            .event
            .unwrap_or_default();
        println!(
            "  interview in {} ({}): event {} = provider event {} ({:?}); its 15-minute reminders go out in about a minute",
            integration.account_email,
            integration.provider().as_str_name(),
            event.id,
            event.provider_event_id,
            event.sync_state(),
        );
    }
    Ok(())
}
