//! `nextke-sandbox`: simulated providers for Next_KE Integrations, real HTTP
//! servers on loopback speaking each provider's API shape, used by the service's
//! tests, `demo`, `bench` and `sandbox` commands. No test ever calls a real
//! provider.
//!
//! This crate does not depend on the service crate (`nextke-integrations`) or
//! `migration`, so the compiler enforces that it shares no types with the
//! service's `providers/` clients: its request and response shapes are written
//! from the providers' documentation on their own, so a wrong field name in a
//! client fails a test instead of being mirrored here.
//!
//! # Layout
//! - [`server`]: [`SandboxServer`] serves any axum `Router` on a given listener
//!   and returns a [`SandboxHandle`] (address, faults, request log, shutdown).
//! - [`faults`]: [`Faults`], switches for latency, 5xx, 429 with `Retry-After`,
//!   dropped connections and a rate limit, applied before the router.
//! - [`echo`]: the echoing failure (`Faults::echo_credentials_next`), an error
//!   answer carrying the request's bearer token and form secrets.
//! - [`hold`]: [`Hold`], one request's answer held until a test releases it.
//! - [`log`]: [`RequestLog`], every request received, for assertions.
//! - [`oauth_server`]: [`OAuthServer`], a generic OAuth 2.0 + PKCE authorization server.
//! - [`linkedin`]: [`LinkedInSandbox`], Sign In with LinkedIn (OIDC) and the
//!   Member Data Portability snapshot API.
//! - [`google`]: [`GoogleSandbox`], Google OAuth (`/o/oauth2/v2/auth`, `/token`,
//!   `/revoke`), OIDC userinfo and Calendar v3 (calendarList, events, freeBusy).
//! - [`microsoft`]: [`MicrosoftSandbox`], the identity platform
//!   (`/{tenant}/oauth2/v2.0/*`, rotating refresh tokens) and Graph v1.0
//!   (`me`, `calendars`, `events`, `calendar/getSchedule`).
//! - [`whatsapp`]: [`WhatsAppSandbox`], the Cloud API's template send.
//! - [`greenhouse`]: [`GreenhouseSandbox`], Harvest v3 (`/token`, `/v3/jobs`,
//!   `/v3/job_posts`, candidates, applications, attachments; cursor
//!   pagination, a fixed-window rate limit), the Job Board API
//!   (`/v1/boards/...`, apply) and signed webhooks ([`GreenhouseWebhook`]).
//! - [`lever`]: [`LeverSandbox`], the Data API (`/v1/postings`, users,
//!   stages, archive reasons, opportunities; `limit`/`offset` pages, a
//!   token-bucket rate limit), the public Postings API (`/v0/postings`,
//!   apply) and signed webhooks ([`LeverWebhook`]).
//! - [`smtp`]: [`SmtpSink`], a plain (no TLS) SMTP server keeping every message.
//! - [`after_store`]: [`AfterStoreFault`], "store the write, then time out or
//!   drop the connection", used by the calendar sandboxes.
//! - [`webhook`]: HMAC-SHA256 hex and posting a signed body, for the ATS webhooks.
//! - [`multipart`]: a small `multipart/form-data` reader and writer.
//! - `page_faults`, `request`: page-numbered faults and request readers the ATS sandboxes share.
//! - `admin`: `POST /__sandbox/faults` to flip switches of a running server with curl.
//! - this file: [`SandboxRunConfig`], [`sandbox_specs`], [`start_all`] and [`run`],
//!   every simulation at once for the `sandbox` command and `demo`. Default
//!   ports: OAuth 50100, LinkedIn 50101, Google 50102, Microsoft 50103,
//!   WhatsApp 50104, SMTP 50105, Greenhouse 50106, Lever 50107.
//!
//! # Adding a provider sandbox
//! Write a module (`src/<provider>/mod.rs`, with its routes in files of their
//! own, as [`linkedin`]) returning an axum `Router` (its OAuth part can be an
//! [`OAuthServer`] with provider paths), add its address to
//! [`SandboxRunConfig`], and push one [`SandboxSpec`] in [`sandbox_specs`].
//! Its shapes come from the provider's documentation, never from the service's
//! code; add a dependency here only when a simulation needs it.

use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};

pub mod admin;
pub mod after_store;
pub mod echo;
pub mod faults;
pub mod google;
pub mod greenhouse;
pub mod hold;
pub mod lever;
pub mod linkedin;
pub mod log;
pub mod microsoft;
pub mod multipart;
pub mod oauth_server;
pub(crate) mod page_faults;
pub(crate) mod request;
pub mod server;
pub mod smtp;
pub mod webhook;
pub mod whatsapp;

pub use after_store::{AfterStore, AfterStoreFault};
pub use echo::EchoFormat;
pub use faults::{FaultKind, Faults, RetryAfter};
pub use google::{GoogleAccount, GoogleRateLimit, GoogleSandbox, GoogleSandboxConfig};
pub use greenhouse::{
    GreenhouseBoard, GreenhouseClient, GreenhouseSandbox, GreenhouseSandboxConfig,
    GreenhouseWebhook,
};
pub use hold::Hold;
pub use lever::{LeverSandbox, LeverSandboxConfig, LeverUser, LeverWebhook};
pub use linkedin::{LinkedInSandbox, LinkedInSandboxConfig, SandboxMember};
pub use log::{RecordedRequest, RequestLog};
pub use microsoft::{MicrosoftAccount, MicrosoftSandbox, MicrosoftSandboxConfig};
pub use oauth_server::{
    pkce_s256, random_token, AccessTokenStatus, ClientAuth, Consent, OAuthClient, OAuthServer,
    OAuthServerConfig, PkceMode, RedirectUris, RefreshTokenRule, TokenInfo,
};
pub use server::{SandboxHandle, SandboxServer, ADMIN_PREFIX};
pub use smtp::{ReceivedMail, SmtpSink, SmtpSinkConfig};
pub use whatsapp::{ApprovedTemplate, ReceivedWhatsApp, WhatsAppSandbox, WhatsAppSandboxConfig};

/// Default address of the generic OAuth sandbox started by [`run`].
pub const DEFAULT_OAUTH_ADDR: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 50100);

/// Default address of the LinkedIn sandbox started by [`run`].
pub const DEFAULT_LINKEDIN_ADDR: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 50101);

/// Default address of the Google sandbox started by [`run`].
pub const DEFAULT_GOOGLE_ADDR: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 50102);
/// Default address of the Microsoft sandbox started by [`run`].
pub const DEFAULT_MICROSOFT_ADDR: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 50103);
/// Default address of the WhatsApp sandbox started by [`run`].
pub const DEFAULT_WHATSAPP_ADDR: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 50104);
/// Default address of the SMTP sink started by [`run`].
pub const DEFAULT_SMTP_ADDR: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 50105);
/// Default address of the Greenhouse sandbox started by [`run`].
pub const DEFAULT_GREENHOUSE_ADDR: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 50106);
/// Default address of the Lever sandbox started by [`run`].
pub const DEFAULT_LEVER_ADDR: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 50107);

/// What [`run`] starts and where.
#[derive(Debug, Clone)]
pub struct SandboxRunConfig {
    /// Address of the generic OAuth server (default `127.0.0.1:50100`).
    pub oauth_addr: SocketAddr,
    /// Its configuration.
    pub oauth: OAuthServerConfig,
    /// Address of the LinkedIn sandbox (default `127.0.0.1:50101`).
    pub linkedin_addr: SocketAddr,
    /// Its configuration.
    pub linkedin: LinkedInSandboxConfig,
    /// Address of the Google sandbox (default `127.0.0.1:50102`).
    pub google_addr: SocketAddr,
    /// Its configuration.
    pub google: GoogleSandboxConfig,
    /// Address of the Microsoft sandbox (default `127.0.0.1:50103`).
    pub microsoft_addr: SocketAddr,
    /// Its configuration.
    pub microsoft: MicrosoftSandboxConfig,
    /// Address of the WhatsApp sandbox (default `127.0.0.1:50104`).
    pub whatsapp_addr: SocketAddr,
    /// Its configuration.
    pub whatsapp: WhatsAppSandboxConfig,
    /// Address of the SMTP sink (default `127.0.0.1:50105`).
    pub smtp_addr: SocketAddr,
    /// Its configuration.
    pub smtp: SmtpSinkConfig,
    /// Address of the Greenhouse sandbox (default `127.0.0.1:50106`).
    pub greenhouse_addr: SocketAddr,
    /// Its configuration.
    pub greenhouse: GreenhouseSandboxConfig,
    /// Address of the Lever sandbox (default `127.0.0.1:50107`).
    pub lever_addr: SocketAddr,
    /// Its configuration.
    pub lever: LeverSandboxConfig,
}

impl SandboxRunConfig {
    /// The default configuration with the servers on consecutive ports from
    /// `first`: generic OAuth, LinkedIn, Google, Microsoft, WhatsApp, SMTP,
    /// Greenhouse, Lever (port 0: every server on any free port).
    pub fn from_first_addr(first: SocketAddr) -> Self {
        let nth = |n: u16| {
            if first.port() == 0 {
                first
            } else {
                SocketAddr::new(first.ip(), first.port().saturating_add(n))
            }
        };
        Self {
            oauth_addr: first,
            linkedin_addr: nth(1),
            google_addr: nth(2),
            microsoft_addr: nth(3),
            whatsapp_addr: nth(4),
            smtp_addr: nth(5),
            greenhouse_addr: nth(6),
            lever_addr: nth(7),
            ..Self::default()
        }
    }
}

impl Default for SandboxRunConfig {
    fn default() -> Self {
        Self {
            oauth_addr: DEFAULT_OAUTH_ADDR,
            oauth: OAuthServerConfig::default(),
            linkedin_addr: DEFAULT_LINKEDIN_ADDR,
            linkedin: LinkedInSandboxConfig::default(),
            google_addr: DEFAULT_GOOGLE_ADDR,
            google: GoogleSandboxConfig::default(),
            microsoft_addr: DEFAULT_MICROSOFT_ADDR,
            microsoft: MicrosoftSandboxConfig::default(),
            whatsapp_addr: DEFAULT_WHATSAPP_ADDR,
            whatsapp: WhatsAppSandboxConfig::default(),
            smtp_addr: DEFAULT_SMTP_ADDR,
            smtp: SmtpSinkConfig::default(),
            greenhouse_addr: DEFAULT_GREENHOUSE_ADDR,
            greenhouse: GreenhouseSandboxConfig::default(),
            lever_addr: DEFAULT_LEVER_ADDR,
            lever: LeverSandboxConfig::default(),
        }
    }
}

/// One sandbox server to start: a name for the logs, an address, the server.
pub struct SandboxSpec {
    /// Short name shown in logs (`"oauth"`, `"linkedin"`, ...).
    pub name: &'static str,
    /// Where to listen.
    pub addr: SocketAddr,
    /// The server (HTTP ones with their admin routes).
    pub server: SpecServer,
}

/// What a [`SandboxSpec`] starts.
pub enum SpecServer {
    /// An HTTP sandbox.
    Http(SandboxServer),
    /// The SMTP sink.
    Smtp(SmtpSinkConfig),
}

impl From<SandboxServer> for SpecServer {
    fn from(server: SandboxServer) -> Self {
        SpecServer::Http(server)
    }
}

/// A sandbox started by [`start_all`].
#[derive(Debug)]
pub enum RunningSandbox {
    /// An HTTP sandbox.
    Http(SandboxHandle),
    /// The SMTP sink.
    Smtp(SmtpSink),
}

impl RunningSandbox {
    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        match self {
            RunningSandbox::Http(h) => h.addr,
            RunningSandbox::Smtp(s) => s.addr,
        }
    }

    /// The HTTP handle, if this is an HTTP sandbox.
    pub fn http(&self) -> Option<&SandboxHandle> {
        match self {
            RunningSandbox::Http(h) => Some(h),
            RunningSandbox::Smtp(_) => None,
        }
    }

    /// Stop it and wait until its listener is closed.
    pub async fn shutdown(self) {
        match self {
            RunningSandbox::Http(h) => h.shutdown().await,
            RunningSandbox::Smtp(s) => s.shutdown().await,
        }
    }
}

/// Every sandbox [`run`] starts, built from the configuration. New provider
/// sandboxes are added here.
pub fn sandbox_specs(config: &SandboxRunConfig) -> Vec<SandboxSpec> {
    let oauth = OAuthServer::new(config.oauth.clone());
    let linkedin = LinkedInSandbox::new(config.linkedin.clone());
    let google = GoogleSandbox::new(config.google.clone());
    let microsoft = MicrosoftSandbox::new(config.microsoft.clone());
    let whatsapp = WhatsAppSandbox::new(config.whatsapp.clone());
    let greenhouse = GreenhouseSandbox::new(config.greenhouse.clone());
    let lever = LeverSandbox::new(config.lever.clone());
    vec![
        SandboxSpec {
            name: "oauth",
            addr: config.oauth_addr,
            server: SandboxServer::new(oauth.router())
                .named("oauth")
                .with_admin_routes()
                .into(),
        },
        SandboxSpec {
            name: "linkedin",
            addr: config.linkedin_addr,
            server: linkedin.server().into(),
        },
        SandboxSpec {
            name: "google",
            addr: config.google_addr,
            server: google.server().into(),
        },
        SandboxSpec {
            name: "microsoft",
            addr: config.microsoft_addr,
            server: microsoft.server().into(),
        },
        SandboxSpec {
            name: "whatsapp",
            addr: config.whatsapp_addr,
            server: whatsapp.server().into(),
        },
        SandboxSpec {
            name: "greenhouse",
            addr: config.greenhouse_addr,
            server: greenhouse.server().into(),
        },
        SandboxSpec {
            name: "lever",
            addr: config.lever_addr,
            server: lever.server().into(),
        },
        SandboxSpec {
            name: "smtp",
            addr: config.smtp_addr,
            server: SpecServer::Smtp(config.smtp.clone()),
        },
    ]
}

/// Bind and start every spec; on error, servers already started are stopped.
pub async fn start_all(specs: Vec<SandboxSpec>) -> std::io::Result<Vec<RunningSandbox>> {
    let mut handles = Vec::with_capacity(specs.len());
    for spec in specs {
        match spec.server {
            SpecServer::Http(server) => {
                let handle = server.named(spec.name).bind(spec.addr).await?;
                tracing::info!(
                    sandbox = spec.name,
                    base_url = %handle.base_url(),
                    admin = %handle.url("/__sandbox/faults"),
                    "sandbox listening"
                );
                handles.push(RunningSandbox::Http(handle));
            }
            SpecServer::Smtp(config) => {
                let sink = SmtpSink::bind(config, spec.addr).await?;
                tracing::info!(sandbox = spec.name, url = %sink.url(), "sandbox listening (plain SMTP, no TLS)");
                handles.push(RunningSandbox::Smtp(sink));
            }
        }
    }
    Ok(handles)
}

/// Run the sandboxes until `shutdown` completes.
pub async fn run(
    config: SandboxRunConfig,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let handles = start_all(sandbox_specs(&config)).await?;
    shutdown.await;
    tracing::info!("sandbox shutting down");
    for handle in handles {
        handle.shutdown().await;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn run_serves_oauth_and_admin_until_shutdown() {
        // Find a free port, then let `run` bind it.
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let probe2 = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = probe.local_addr().unwrap();
        let linkedin_addr = probe2.local_addr().unwrap();
        drop((probe, probe2));
        let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let config = SandboxRunConfig {
            oauth_addr: addr,
            linkedin_addr,
            google_addr: any,
            microsoft_addr: any,
            whatsapp_addr: any,
            smtp_addr: any,
            greenhouse_addr: any,
            lever_addr: any,
            ..SandboxRunConfig::default()
        };
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(run(config, async {
            let _ = rx.await;
        }));
        let client = reqwest::Client::new();
        let admin = format!("http://{addr}/__sandbox/faults");
        let mut ok = false;
        for _ in 0..50 {
            if let Ok(resp) = client
                .post(&admin)
                .json(&serde_json::json!({"fail_next": {"n": 1, "status": 503}}))
                .send()
                .await
            {
                assert_eq!(resp.status(), 200);
                ok = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert!(ok, "sandbox did not start");
        let resp = client
            .post(format!("http://{addr}/token"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 503);
        let counters: serde_json::Value = client
            .get(&admin)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(counters["failed"], 1);
        let resp = client
            .get(format!("http://{linkedin_addr}/v2/userinfo"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 401);

        tx.send(()).unwrap();
        task.await.unwrap().unwrap();
        assert!(tokio::net::TcpStream::connect(addr).await.is_err());
        assert!(tokio::net::TcpStream::connect(linkedin_addr).await.is_err());
    }

    #[tokio::test]
    async fn specs_include_greenhouse_and_lever() {
        let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let config = SandboxRunConfig::from_first_addr(any);
        let running = start_all(sandbox_specs(&config)).await.unwrap();
        let http = |name: &str| {
            running
                .iter()
                .filter_map(RunningSandbox::http)
                .find(|h| h.name() == name)
                .map(|h| h.base_url())
                .unwrap()
        };
        let client = reqwest::Client::new();
        let board = format!(
            "{}/v1/boards/{}",
            http("greenhouse"),
            greenhouse::DEFAULT_BOARD_TOKEN
        );
        assert_eq!(client.get(board).send().await.unwrap().status(), 200);
        let stages = format!("{}/v1/stages", http("lever"));
        assert_eq!(client.get(stages).send().await.unwrap().status(), 401);
        for sandbox in running {
            sandbox.shutdown().await;
        }
    }
}
