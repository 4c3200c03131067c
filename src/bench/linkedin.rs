//! `bench linkedin`: connected users synced by the background engine against
//! the sandbox LinkedIn, which answers 429 beyond its per-second limit. The
//! targets: no 429 at all, and a total time within 1.1 times the least the
//! limit allows (requests made / limit).

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use chrono::Utc;
use clap::Args;
use futures::{stream, StreamExt, TryStreamExt};
use secrecy::SecretString;

use super::{admin_url, database::BenchDatabase, jobs::scalar_i64};
use crate::{
    config::Config,
    domain::{
        linkedin::{self, profile::Capability, settings::Frequency, PORTABILITY_SCOPE},
        types::Provider,
    },
    jobs::{Registry, WorkerConfig, WorkerPool},
    oauth::{ConnectionOwner, TokenSet},
    startup::build_context,
    store::linkedin_profiles::{self, ProfileRow},
};
use nextke_sandbox::linkedin::{LinkedInSandbox, LinkedInSandboxConfig, SandboxMember};

/// Settings of `bench linkedin`.
#[derive(Clone, Debug, Args)]
pub struct LinkedInArgs {
    /// PostgreSQL server to create the throw-away `bench_*` database on.
    #[arg(long, env = "BENCH_POSTGRES_URL")]
    pub postgres_url: Option<String>,
    /// Connected users to sync.
    #[arg(long, default_value_t = 10_000)]
    pub users: usize,
    /// The sandbox provider's limit: requests per second before it answers 429.
    #[arg(long, default_value_t = 200)]
    pub provider_limit: u32,
    /// `LINKEDIN_RATE_LIMIT_RPS` of the service under test: with its burst of
    /// a twentieth, 188/s never sends more than 197 in any second.
    #[arg(long, default_value_t = 188)]
    pub client_rps: u32,
    /// `LINKEDIN_SYNC_CONCURRENCY` of the service under test.
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,
    /// Share of users (percent) whose connection has the portability API.
    #[arg(long, default_value_t = 10)]
    pub portability_percent: usize,
}

/// Runs the benchmark and prints its findings.
pub async fn run(args: LinkedInArgs, base: Config) -> anyhow::Result<()> {
    let database = BenchDatabase::create(&admin_url(args.postgres_url.as_deref(), &base)).await?;
    eprintln!("bench: created database {}", database.name());
    let result = run_on(&args, base, &database.url).await;
    match database.drop_database().await {
        Ok(()) => eprintln!("bench: dropped the database"),
        Err(err) => eprintln!("bench: warning: {err:#}"),
    }
    result
}

async fn run_on(args: &LinkedInArgs, base: Config, url: &str) -> anyhow::Result<()> {
    let sandbox_config = LinkedInSandboxConfig::default().with_generated_members();
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    let (sandbox, handle) = LinkedInSandbox::start_with(sandbox_config.clone(), listener)?;
    handle
        .faults
        .set_rate_limit(Some((args.provider_limit, Duration::from_secs(1))));

    let mut config = base;
    config.database_url = url.to_owned();
    config.database_max_connections = 16;
    config.jobs.workers_enabled = false;
    config.jobs.scheduler_enabled = false;
    config.providers.linkedin_oauth_base_url = handle.base_url();
    config.providers.linkedin_api_base_url = handle.base_url();
    config.providers.linkedin_client_id = sandbox_config.client_id.clone();
    config.providers.linkedin_client_secret =
        Some(SecretString::from(sandbox_config.client_secret.clone()));
    config.linkedin.linkedin_rate_limit_rps = args.client_rps;
    config.linkedin.linkedin_sync_concurrency = args.concurrency;
    config.linkedin.linkedin_portability_enabled = true;
    config.linkedin.linkedin_sync_batch = args.users as u64;
    let ctx = Arc::new(build_context(config).await?);

    eprintln!("bench: connecting {} users", args.users);
    let seeded = Instant::now();
    let long_ago = Utc::now() - chrono::Duration::days(30);
    stream::iter(0..args.users)
        .map(|i| {
            let ctx = ctx.clone();
            let sandbox = sandbox.clone();
            let client_id = sandbox_config.client_id.clone();
            let portability = i % 100 < args.portability_percent;
            async move {
                let member = SandboxMember::generated(i);
                let mut scopes = vec!["openid", "profile", "email"];
                if portability {
                    scopes.push(PORTABILITY_SCOPE);
                }
                let token = sandbox
                    .oauth()
                    .mint_access_token(&member.sub, &client_id, &scopes);
                let user = format!("bench-user-{i}");
                let tokens = TokenSet {
                    access_token: SecretString::from(token),
                    refresh_token: None,
                    expires_at: Some(Utc::now() + chrono::Duration::days(60)),
                    refresh_expires_at: None,
                    scopes: Some(scopes.iter().map(|s| (*s).to_owned()).collect()),
                };
                let connection_id = ctx
                    .oauth
                    .save_connection(
                        Provider::LinkedIn,
                        &ConnectionOwner::User {
                            user_id: user.clone(),
                        },
                        Some(&member.sub),
                        &tokens,
                        &[],
                    )
                    .await?;
                let capability = if portability {
                    Capability::Portability
                } else {
                    Capability::OpenIdConnect
                };
                linkedin_profiles::insert_if_absent(
                    &ctx.db,
                    ProfileRow {
                        user_id: user,
                        connection_id,
                        capability: capability.as_str().to_owned(),
                        sync_picture: true,
                        sync_experience: true,
                        sync_education: true,
                        sync_skills: true,
                        frequency: Frequency::Daily.as_str().to_owned(),
                        basic: serde_json::json!({}),
                        experience: None,
                        education: None,
                        skills: None,
                        sections_synced_at: serde_json::json!({}),
                        last_synced_at: Some(long_ago),
                        last_changed_at: None,
                        next_sync_at: Some(long_ago),
                        last_manual_sync_at: None,
                        created_at: long_ago,
                        updated_at: long_ago,
                    },
                )
                .await?;
                anyhow::Ok(())
            }
        })
        .buffer_unordered(16)
        .try_collect::<Vec<()>>()
        .await?;
    eprintln!(
        "bench: connected in {:.1} s; syncing",
        seeded.elapsed().as_secs_f64()
    );

    handle.log.clear();
    handle.faults.reset_counters();
    let mut registry = Registry::new();
    linkedin::jobs::register(&mut registry, ctx.clone());
    let pool = WorkerPool::start(
        ctx.db.clone(),
        &registry,
        WorkerConfig {
            poll_interval: Duration::from_millis(20),
            stats_interval: None,
            ..WorkerConfig::default()
        },
        None,
        Some(crate::startup::circuit_gate(ctx.outbound.clone())),
    );
    let started_at = Utc::now();
    let started = Instant::now();
    let enqueued = linkedin::jobs::sweep(&ctx).await?;
    let done_sql = format!(
        "SELECT COUNT(*) FROM linkedin_profiles WHERE last_synced_at >= '{}'",
        started_at.format("%Y-%m-%d %H:%M:%S%.6f+00:00")
    );
    loop {
        let done = scalar_i64(&ctx.db, &done_sql).await?;
        if done >= args.users as i64 {
            break;
        }
        if started.elapsed() > Duration::from_secs(1800) {
            anyhow::bail!(
                "only {done} of {} users synced after 30 minutes",
                args.users
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    pool.shutdown().await;
    let requests = handle.log.len();
    let throttled = handle.faults.rate_limited_count();
    let ideal = requests as f64 / f64::from(args.provider_limit);
    let ratio = elapsed / ideal;
    let failed_jobs = scalar_i64(&ctx.db, "SELECT COUNT(*) FROM jobs WHERE state = 'dead'").await?;

    println!("nextke-integrations bench linkedin: {} users, sandbox limit {}/s, client budget {}/s, {} syncs at once", args.users, args.provider_limit, args.client_rps, args.concurrency);
    println!("{:<44}{:>14}", "syncs enqueued by the sweep", enqueued);
    println!("{:<44}{:>14}", "requests to linkedin", requests);
    println!("{:<44}{:>14.1}", "total time, s", elapsed);
    println!("{:<44}{:>14.1}", "least time the limit allows, s", ideal);
    println!(
        "{:<44}{:>14.0}",
        "achieved requests per second",
        requests as f64 / elapsed
    );
    println!("{:<44}{:>14}", "dead jobs", failed_jobs);
    println!("{:<52}{:>10}{:>12}", "target", "measured", "limit");
    let pass_429 = throttled == 0;
    let pass_time = ratio <= 1.1;
    println!(
        "{:<52}{:>10}{:>12}   {}",
        "429 answers from linkedin",
        throttled,
        "0",
        if pass_429 { "PASS" } else { "FAIL" }
    );
    println!(
        "{:<52}{:>10.3}{:>12}   {}",
        "total time / (requests / limit)",
        ratio,
        "<= 1.1",
        if pass_time { "PASS" } else { "FAIL" }
    );
    println!(
        "{}",
        serde_json::json!({
            "bench": "nextke-integrations linkedin",
            "users": args.users,
            "requests": requests,
            "elapsed_s": elapsed,
            "ideal_s": ideal,
            "ratio": ratio,
            "throttled": throttled,
            "dead_jobs": failed_jobs,
            "pass": {"no_429": pass_429, "time": pass_time, "all": pass_429 && pass_time},
        })
    );
    ctx.db.clone().close().await?;
    Ok(())
}
