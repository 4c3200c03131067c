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
//! - `admin`: `POST /__sandbox/faults` to flip switches of a running server with curl.
//! - this file: [`SandboxRunConfig`], [`sandbox_specs`], [`start_all`] and [`run`],
//!   every simulation at once for the `sandbox` command and `demo`.
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
pub mod hold;
pub mod linkedin;
pub mod log;
pub mod microsoft;
pub mod oauth_server;
pub mod server;
pub mod smtp;
pub mod whatsapp;

pub use after_store::{AfterStore, AfterStoreFault};
pub use echo::EchoFormat;
pub use faults::{FaultKind, Faults, RetryAfter};
pub use google::{GoogleAccount, GoogleRateLimit, GoogleSandbox, GoogleSandboxConfig};
pub use hold::Hold;
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
}

impl SandboxRunConfig {
    /// The default configuration with the servers on consecutive ports from
    /// `first` (generic OAuth on `first`, LinkedIn on the next port).
    pub fn from_first_addr(first: SocketAddr) -> Self {
        let next = SocketAddr::new(first.ip(), first.port().saturating_add(1));
        Self {
            oauth_addr: first,
            linkedin_addr: if first.port() == 0 { first } else { next },
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
        }
    }
}

/// One sandbox server to start: a name for the logs, an address, the server.
pub struct SandboxSpec {
    /// Short name shown in logs (`"oauth"`, `"linkedin"`, ...).
    pub name: &'static str,
    /// Where to listen.
    pub addr: SocketAddr,
    /// The server, admin routes included.
    pub server: SandboxServer,
}

/// Every sandbox [`run`] starts, built from the configuration. New provider
/// sandboxes are added here.
pub fn sandbox_specs(config: &SandboxRunConfig) -> Vec<SandboxSpec> {
    let oauth = OAuthServer::new(config.oauth.clone());
    let linkedin = LinkedInSandbox::new(config.linkedin.clone());
    vec![
        SandboxSpec {
            name: "oauth",
            addr: config.oauth_addr,
            server: SandboxServer::new(oauth.router())
                .named("oauth")
                .with_admin_routes(),
        },
        SandboxSpec {
            name: "linkedin",
            addr: config.linkedin_addr,
            server: linkedin.server(),
        },
    ]
}

/// Bind and start every spec; on error, servers already started are stopped.
pub async fn start_all(specs: Vec<SandboxSpec>) -> std::io::Result<Vec<SandboxHandle>> {
    let mut handles = Vec::with_capacity(specs.len());
    for spec in specs {
        let handle = spec.server.named(spec.name).bind(spec.addr).await?;
        tracing::info!(
            sandbox = spec.name,
            base_url = %handle.base_url(),
            admin = %handle.url("/__sandbox/faults"),
            "sandbox listening"
        );
        handles.push(handle);
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
        let config = SandboxRunConfig {
            oauth_addr: addr,
            linkedin_addr,
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
}
