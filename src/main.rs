//! `nextke-integrations`: thin entry point; the application lives in the library.

use std::process::ExitCode;

use clap::Parser;
use nextke_integrations::{
    auth::{JwtSigner, OrgMembership, OrgRole},
    bench,
    cli::{Cli, Command},
    demo, secrets,
    startup::{build_context, shutdown_signal, Application},
    store, telemetry,
};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init(cli.config.log_format);
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = cli.config;
    match cli.command {
        Command::Serve => {
            let app = Application::build(config).await?;
            app.run_until_stopped(shutdown_signal()).await?;
        }
        Command::Demo => demo::run(config, shutdown_signal()).await?,
        Command::Migrate => {
            let db = store::connect(&config.database_url, 2).await?;
            store::migrate(&db).await?;
            tracing::info!("migrations applied");
        }
        Command::Token {
            user,
            orgs,
            service,
            ttl,
        } => {
            let memberships = orgs
                .iter()
                .map(|spec| parse_membership(spec))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let signer = JwtSigner::new(&secrets::jwt_config(&config)?)?;
            let token = signer.mint(
                &user,
                &memberships,
                service,
                std::time::Duration::from_secs(ttl),
            )?;
            println!("{token}");
        }
        Command::Sandbox { listen } => {
            nextke_sandbox::run(
                nextke_sandbox::SandboxRunConfig::from_first_addr(listen),
                shutdown_signal(),
            )
            .await?;
        }
        Command::Rewrap => {
            let ctx = build_context(config).await?;
            let moved = ctx.oauth.rewrap_all().await?;
            tracing::info!(rows = moved, "re-sealed with the primary key");
        }
        Command::Bench(args) => bench::run(args, config).await?,
    }
    Ok(())
}

fn parse_membership(spec: &str) -> anyhow::Result<OrgMembership> {
    let (org, role) = spec
        .rsplit_once(':')
        .ok_or_else(|| anyhow::anyhow!("--org takes ORG:admin or ORG:member, got {spec:?}"))?;
    let role = match role {
        "admin" => OrgRole::Admin,
        "member" => OrgRole::Member,
        other => anyhow::bail!("unknown role {other:?}: use admin or member"),
    };
    if org.is_empty() {
        anyhow::bail!("--org needs an organization id before the colon");
    }
    Ok(OrgMembership::new(org, role))
}
