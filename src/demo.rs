//! `nextke-integrations demo`: the whole service against sandbox providers on
//! loopback, so a newcomer sees every flow work with no credentials.

use std::{future::Future, net::SocketAddr, time::Duration};

use secrecy::SecretString;

use crate::{
    auth::{JwtSigner, OrgMembership, OrgRole},
    config::Config,
    secrets,
    startup::Application,
};
use nextke_sandbox::{
    linkedin::{LinkedInSandbox, LinkedInSandboxConfig},
    oauth_server::{
        OAuthClient, OAuthServer, OAuthServerConfig, PkceMode, DEFAULT_CLIENT_ID,
        DEFAULT_CLIENT_SECRET,
    },
    SandboxHandle, SandboxServer,
};

/// One sandbox authorization server on a provider's real paths.
async fn oauth_sandbox(
    name: &'static str,
    authorize: String,
    token: String,
    revoke: String,
) -> anyhow::Result<SandboxHandle> {
    let server = OAuthServer::new(OAuthServerConfig {
        authorize_path: authorize,
        token_path: token,
        revoke_path: revoke,
        clients: vec![OAuthClient::new(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)],
        ..OAuthServerConfig::default()
    });
    let addr: SocketAddr = ([127, 0, 0, 1], 0).into();
    let handle = SandboxServer::new(server.router())
        .named(name)
        .with_admin_routes()
        .bind(addr)
        .await?;
    tracing::info!(sandbox = name, base_url = %handle.base_url(), "sandbox provider listening");
    Ok(handle)
}

/// Starts the sandbox providers, points the configuration at them, prints a
/// development token, and serves until `shutdown`.
pub async fn run(
    mut config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    // LinkedIn: its OAuth host and API host in one sandbox, with members
    let (_linkedin_sandbox, linkedin) = LinkedInSandbox::start_with(
        LinkedInSandboxConfig {
            pkce: PkceMode::Required,
            ..LinkedInSandboxConfig::default()
        },
        tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?,
    )?;
    tracing::info!(sandbox = "linkedin", base_url = %linkedin.base_url(), "sandbox provider listening");
    let google = oauth_sandbox(
        "google",
        "/o/oauth2/v2/auth".into(),
        "/token".into(),
        "/revoke".into(),
    )
    .await?;
    let tenant = config.providers.microsoft_tenant.clone();
    let microsoft = oauth_sandbox(
        "microsoft",
        format!("/{tenant}/oauth2/v2.0/authorize"),
        format!("/{tenant}/oauth2/v2.0/token"),
        format!("/{tenant}/oauth2/v2.0/logout"),
    )
    .await?;

    let client_secret = || Some(SecretString::from(DEFAULT_CLIENT_SECRET));
    let p = &mut config.providers;
    p.linkedin_oauth_base_url = linkedin.base_url();
    p.linkedin_api_base_url = linkedin.base_url();
    p.linkedin_client_id = DEFAULT_CLIENT_ID.to_owned();
    p.linkedin_client_secret = client_secret();
    p.google_oauth_base_url = google.base_url();
    p.google_token_base_url = google.base_url();
    p.google_api_base_url = google.base_url();
    p.google_client_id = DEFAULT_CLIENT_ID.to_owned();
    p.google_client_secret = client_secret();
    p.microsoft_oauth_base_url = microsoft.base_url();
    p.microsoft_api_base_url = microsoft.base_url();
    p.microsoft_client_id = DEFAULT_CLIENT_ID.to_owned();
    p.microsoft_client_secret = client_secret();

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
    println!("  token for demo-user (admin of demo-org), valid 24 h:");
    println!("  export TOKEN={token}");
    println!(
        "  grpcurl -plaintext -H \"authorization: Bearer $TOKEN\" {} nextke.integrations.v1.IntegrationService/GetIntegrationStatus",
        config.listen_addr
    );
    app.run_until_stopped(shutdown).await?;
    drop((linkedin, google, microsoft));
    Ok(())
}
