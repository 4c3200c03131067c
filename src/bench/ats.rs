//! `bench ats`: the ATS machinery on a fresh PostgreSQL database against the
//! sandbox Greenhouse and Lever, each figure beside a baseline of the same
//! run:
//!
//! - the first sync of 100,000 Greenhouse jobs, against a `COPY` of the same
//!   rows into a table like `job_posts` (targets: ≤ 10 s, ≥ 25% of the
//!   copy's rows per second);
//! - a re-sync of the same unchanged jobs (targets: zero rows written, ≤ 30%
//!   of the first sync's time);
//! - webhook ingest (verified, stored, enqueued) at 64 concurrent senders
//!   with 10% replays, against a bare axum handler that only verifies the
//!   HMAC and answers 200 (targets: ≥ 5,000/s, ≥ 25% of the baseline, p99 ≤
//!   50 ms, every delivery processed exactly once);
//! - a Lever sync against a sandbox limited to 10 requests a second with
//!   bursts of 20 (targets: ≥ 95% of the budget used, no 429).

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use axum::{body::Bytes, http::HeaderMap, routing::post, Router};
use clap::Args;
use futures::{stream, StreamExt};
use sea_orm::{ConnectionTrait, Statement};

use super::{admin_url, database::BenchDatabase, random_secret, reminders::quantile};
use crate::{
    auth::{Identity, OrgMembership, OrgRole},
    config::Config,
    context::AppContext,
    crypto::Keyring,
    domain::ats::{
        check::{CredentialsInput, GreenhouseInput, LeverInput},
        integrations::{self, Settings},
        schedule, sync, webhook_events,
    },
    jobs::{Registry, WorkerConfig, WorkerPool},
    providers::ats::{greenhouse_webhook, signature::sign_hex},
    vocab::SyncTrigger,
};
use nextke_sandbox::{
    greenhouse::{self, GreenhouseSandbox, GreenhouseSandboxConfig},
    lever::{self, LeverSandbox, LeverSandboxConfig},
};

/// Settings of `bench ats`.
#[derive(Clone, Debug, Args)]
pub struct AtsArgs {
    /// PostgreSQL server to create the throw-away `bench_*` database on.
    #[arg(long, env = "BENCH_POSTGRES_URL")]
    pub postgres_url: Option<String>,
    /// Greenhouse jobs synced.
    #[arg(long, default_value_t = 100_000)]
    pub jobs: usize,
    /// Bytes of each generated job post's description.
    #[arg(long, default_value_t = 600)]
    pub content_bytes: usize,
    /// Concurrent webhook senders.
    #[arg(long, default_value_t = 64)]
    pub senders: usize,
    /// Seconds of webhook sending per run.
    #[arg(long, default_value_t = 5.0)]
    pub webhook_secs: f64,
    /// Lever postings synced under the 10-per-second budget (a request per 100).
    #[arg(long, default_value_t = 20_000)]
    pub lever_postings: usize,
}

const ORG: &str = "bench-org";

fn admin() -> Identity {
    Identity {
        user_id: "bench-admin".to_owned(),
        orgs: vec![OrgMembership::new(ORG, OrgRole::Admin)],
        service: false,
    }
}

/// Runs the benchmark and prints its findings.
pub async fn run(args: AtsArgs, base: Config) -> anyhow::Result<()> {
    let database = BenchDatabase::create(&admin_url(args.postgres_url.as_deref(), &base)).await?;
    eprintln!("bench: created database {}", database.name());
    let result = run_on(&args, base, &database.url).await;
    match database.drop_database().await {
        Ok(()) => eprintln!("bench: dropped the database"),
        Err(err) => eprintln!("bench: warning: {err:#}"),
    }
    result
}

async fn loopback() -> anyhow::Result<tokio::net::TcpListener> {
    Ok(tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?)
}

async fn scalar(ctx: &AppContext, sql: &str) -> anyhow::Result<i64> {
    let row = ctx
        .db
        .query_one(Statement::from_string(ctx.db.get_database_backend(), sql))
        .await?
        .ok_or_else(|| anyhow::anyhow!("no row"))?;
    Ok(row.try_get_by_index(0)?)
}

async fn run_on(args: &AtsArgs, base: Config, url: &str) -> anyhow::Result<()> {
    eprintln!("bench: generating {} greenhouse jobs", args.jobs);
    let (greenhouse, greenhouse_handle) = GreenhouseSandbox::start_with(
        GreenhouseSandboxConfig {
            jobs: 0,
            rate_limit: 10_000_000,
            ..GreenhouseSandboxConfig::default()
        },
        loopback().await?,
    )?;
    greenhouse.seed_jobs(args.jobs, args.content_bytes);
    let (lever_sandbox, lever_handle) = LeverSandbox::start_with(
        LeverSandboxConfig {
            postings: 0,
            ..LeverSandboxConfig::default()
        },
        loopback().await?,
    )?;
    lever_sandbox.seed_postings(args.lever_postings);

    let (_, keys) = Keyring::generate("bench")?;
    let mut config = base;
    config.database_url = url.to_owned();
    config.database_max_connections = 32;
    config.jwt_secret = Some(random_secret());
    config.jwt_public_key_file = None;
    config.jwt_private_key_file = None;
    config.jwt_algorithm = None;
    config.encryption_keys = Some(keys);
    config.jobs.workers_enabled = false;
    config.jobs.scheduler_enabled = false;
    let a = &mut config.ats;
    a.greenhouse_auth_base_url = greenhouse_handle.base_url();
    a.greenhouse_harvest_base_url = greenhouse_handle.base_url();
    a.greenhouse_boards_base_url = greenhouse_handle.base_url();
    a.lever_api_base_url = lever_handle.base_url();
    a.lever_eu_api_base_url = lever_handle.base_url();
    a.greenhouse_page_size = 500;
    config.outbound.outbound_timeout_ms = 30_000;

    let (server, ctx) = super::targets::start_real(config.clone()).await?;
    let settings = Settings {
        sync_jobs: true,
        sync_applications: true,
        webhook_events: Vec::new(),
        sync_interval_minutes: 0,
    };
    let created = integrations::create(
        &ctx,
        &admin(),
        ORG,
        Some(crate::vocab::Provider::Greenhouse),
        Some(CredentialsInput::Greenhouse(GreenhouseInput {
            client_id: greenhouse::DEFAULT_CLIENT_ID.to_owned(),
            client_secret: greenhouse::DEFAULT_CLIENT_SECRET.to_owned().into(),
            user_id: greenhouse::DEFAULT_USER_ID.to_string(),
            job_board_token: String::new(),
            job_board_api_key: None,
        })),
        settings.clone(),
    )
    .await?;
    let integration = crate::store::ats_integrations::find(&ctx.db, &created.integration.id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no integration"))?;

    // 1. the first sync, and a COPY of the same rows
    eprintln!("bench: first sync");
    let started = Instant::now();
    let first = sync::run(&ctx, &integration, SyncTrigger::Manual, None).await?;
    let first_secs = started.elapsed().as_secs_f64();
    let copy_secs = copy_baseline(&ctx).await?;
    let rows = scalar(&ctx, "SELECT COUNT(*) FROM job_posts").await?;

    // 2. the re-sync of the same jobs
    eprintln!("bench: re-sync");
    let before = chrono::Utc::now();
    let started = Instant::now();
    let again = sync::run(&ctx, &integration, SyncTrigger::Manual, None).await?;
    let resync_secs = started.elapsed().as_secs_f64();
    let written = scalar(
        &ctx,
        &format!(
            "SELECT (SELECT COUNT(*) FROM job_posts WHERE updated_at >= '{0}') + (SELECT COUNT(*) FROM ats_job_syncs WHERE updated_at >= '{0}')",
            before.to_rfc3339()
        ),
    )
    .await?;

    // 3. webhook ingest, against a bare verifying handler
    let secret = created
        .webhook_secret
        .as_ref()
        .map(|s| secrecy::ExposeSecret::expose_secret(s).to_owned())
        .unwrap_or_default();
    let real_url = format!(
        "http://127.0.0.1:{}/api/v1/integrations/ats/webhook/{}",
        server.port, integration.id
    );
    let (bare_port, bare_stop) = bare_handler(secret.clone()).await?;
    let bare_url = format!("http://127.0.0.1:{bare_port}/hook");
    eprintln!("bench: webhooks, bare handler");
    let bare = send_webhooks(args, &bare_url, &secret, 0).await?;
    eprintln!("bench: webhooks, the service");
    let real = send_webhooks(args, &real_url, &secret, 1).await?;
    let _ = bare_stop.send(());
    // process what was stored
    let mut registry = Registry::new();
    webhook_events::register(&mut registry, ctx.clone());
    schedule::register(&mut registry, ctx.clone());
    let pool = WorkerPool::start(
        ctx.db.clone(),
        &registry,
        WorkerConfig {
            poll_interval: Duration::from_millis(100),
            stats_interval: None,
            ..WorkerConfig::default()
        },
        None,
        None,
    );
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let pending = scalar(
            &ctx,
            "SELECT COUNT(*) FROM webhook_deliveries WHERE state = 'pending'",
        )
        .await?;
        if pending == 0 || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    pool.shutdown().await;
    let stored = scalar(&ctx, "SELECT COUNT(*) FROM webhook_deliveries").await?;
    let settled = scalar(
        &ctx,
        "SELECT COUNT(*) FROM webhook_deliveries WHERE state <> 'pending'",
    )
    .await?;
    let jobs = scalar(&ctx, "SELECT COUNT(*) FROM jobs WHERE kind = 'ats.webhook'").await?;
    let once = stored == real.unique as i64 && settled == stored && jobs == stored;

    // 4. Lever under its budget
    let lever = integrations::create(
        &ctx,
        &admin(),
        ORG,
        Some(crate::vocab::Provider::Lever),
        Some(CredentialsInput::Lever(LeverInput {
            api_key: lever::DEFAULT_API_KEY.to_owned().into(),
            perform_as: String::new(),
            eu_region: false,
            webhook_signature_token: None,
        })),
        settings,
    )
    .await?;
    let lever_row = crate::store::ats_integrations::find(&ctx.db, &lever.integration.id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no integration"))?;
    eprintln!("bench: lever sync under 10/s, burst 20");
    let before_requests = lever_sandbox.data_api_requests();
    let started = Instant::now();
    let lever_run = sync::run(&ctx, &lever_row, SyncTrigger::Manual, None).await?;
    let lever_secs = started.elapsed().as_secs_f64();
    let lever_requests = lever_sandbox.data_api_requests() - before_requests;
    // Lever's own budget: a burst of 20, then 10 a second
    let budget = 20.0 + 10.0 * lever_secs;
    let used = lever_requests as f64 / budget;
    let limited = lever_sandbox.rate_limited_count();
    server.stop().await;

    let copy_rate = rows as f64 / copy_secs.max(1e-9);
    let sync_rate = first.created as f64 / first_secs.max(1e-9);
    println!(
        "nextke-integrations bench ats: {} greenhouse jobs ({} bytes of description each), {} webhook senders, {} lever postings",
        args.jobs, args.content_bytes, args.senders, args.lever_postings
    );
    println!("{:<56}{:>14}{:>14}", "run", "measured", "baseline");
    println!(
        "{:<56}{:>14}{:>14}",
        "first sync: jobs created / pages",
        format!("{} / {}", first.created, first.pages_fetched),
        ""
    );
    println!(
        "{:<56}{:>14.2}{:>14.2}",
        "first sync vs COPY of its rows, s", first_secs, copy_secs
    );
    println!(
        "{:<56}{:>14.0}{:>14.0}",
        "rows per second", sync_rate, copy_rate
    );
    println!(
        "{:<56}{:>14}{:>14}",
        "re-sync: unchanged / rows written",
        format!("{} / {}", again.unchanged, written),
        ""
    );
    println!(
        "{:<56}{:>14.2}{:>14.2}",
        "re-sync vs first sync, s", resync_secs, first_secs
    );
    println!(
        "{:<56}{:>14.0}{:>14.0}",
        "webhooks per second (service vs bare HMAC handler)", real.rate, bare.rate
    );
    println!(
        "{:<56}{:>14.1}{:>14.1}",
        "webhook answer p99, ms", real.p99_ms, bare.p99_ms
    );
    println!(
        "{:<56}{:>14}{:>14}",
        "webhooks sent / replays / non-2xx",
        format!("{} / {} / {}", real.sent, real.replays, real.failed),
        ""
    );
    println!(
        "{:<56}{:>14}{:>14}",
        "deliveries stored / settled / jobs",
        format!("{stored} / {settled} / {jobs}"),
        ""
    );
    println!(
        "{:<56}{:>14}{:>14}",
        "lever: postings / requests / s",
        format!(
            "{} / {} / {:.1}",
            lever_run.created, lever_requests, lever_secs
        ),
        ""
    );
    println!();
    println!("{:<56}{:>14}{:>14}", "target", "measured", "limit");
    let verdict = |ok: bool| if ok { "PASS" } else { "FAIL" };
    let rows_out = [
        (
            "first sync, s",
            format!("{first_secs:.2}"),
            "<= 10",
            first_secs <= 10.0,
        ),
        (
            "first sync rows/s / COPY rows/s",
            format!("{:.2}", sync_rate / copy_rate.max(1e-9)),
            ">= 0.25",
            sync_rate / copy_rate.max(1e-9) >= 0.25,
        ),
        (
            "re-sync rows written",
            written.to_string(),
            "0",
            written == 0,
        ),
        (
            "re-sync time / first sync time",
            format!("{:.2}", resync_secs / first_secs.max(1e-9)),
            "<= 0.30",
            resync_secs / first_secs.max(1e-9) <= 0.30,
        ),
        (
            "webhooks per second",
            format!("{:.0}", real.rate),
            ">= 5000",
            real.rate >= 5000.0,
        ),
        (
            "webhooks / bare handler",
            format!("{:.2}", real.rate / bare.rate.max(1e-9)),
            ">= 0.25",
            real.rate / bare.rate.max(1e-9) >= 0.25,
        ),
        (
            "webhook p99, ms",
            format!("{:.1}", real.p99_ms),
            "<= 50",
            real.p99_ms <= 50.0,
        ),
        (
            "every delivery processed exactly once",
            if once { "yes" } else { "no" }.to_owned(),
            "yes",
            once,
        ),
        (
            "lever budget used",
            format!("{:.2}", used),
            ">= 0.95",
            used >= 0.95,
        ),
        ("lever 429 answers", limited.to_string(), "0", limited == 0),
    ];
    for (name, value, limit, ok) in &rows_out {
        println!("{name:<56}{value:>14}{limit:>14}   {}", verdict(*ok));
    }
    println!(
        "{}",
        serde_json::json!({
            "bench": "nextke-integrations ats",
            "jobs": args.jobs,
            "first_sync_s": first_secs,
            "copy_s": copy_secs,
            "sync_rows_per_s": sync_rate,
            "copy_rows_per_s": copy_rate,
            "resync_s": resync_secs,
            "resync_rows_written": written,
            "webhooks_per_s": real.rate,
            "bare_per_s": bare.rate,
            "webhook_p99_ms": real.p99_ms,
            "bare_p99_ms": bare.p99_ms,
            "exactly_once": once,
            "lever_budget_used": used,
            "lever_429": limited,
            "pass": rows_out.iter().all(|r| r.3),
        })
    );
    drop((greenhouse_handle, lever_handle));
    Ok(())
}

/// Seconds of a `COPY` of the synced rows into a table like `job_posts`.
async fn copy_baseline(ctx: &AppContext) -> anyhow::Result<f64> {
    let pool = ctx.db.get_postgres_connection_pool();
    let mut conn = pool.acquire().await?;
    sea_orm::sqlx::query("CREATE TABLE job_posts_copy (LIKE job_posts INCLUDING ALL)")
        .execute(&mut *conn)
        .await?;
    let mut out = conn.copy_out_raw("COPY job_posts TO STDOUT").await?;
    let mut data = Vec::new();
    while let Some(chunk) = out.next().await {
        data.extend_from_slice(&chunk?);
    }
    drop(out);
    let started = Instant::now();
    let mut copy = conn.copy_in_raw("COPY job_posts_copy FROM STDIN").await?;
    copy.send(data).await?;
    copy.finish().await?;
    Ok(started.elapsed().as_secs_f64())
}

/// A bare axum handler that verifies the Greenhouse signature and answers 200.
async fn bare_handler(secret: String) -> anyhow::Result<(u16, tokio::sync::oneshot::Sender<()>)> {
    let secret = Arc::new(secret);
    let app = Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: Bytes| {
            let secret = secret.clone();
            async move {
                let signature = headers.get("signature").map(|v| v.as_bytes());
                match greenhouse_webhook::verify(&body, signature, &[secret.as_bytes()]) {
                    Ok(()) => axum::http::StatusCode::OK,
                    Err(_) => axum::http::StatusCode::UNAUTHORIZED,
                }
            }
        }),
    );
    let listener = loopback().await?;
    let port = listener.local_addr()?.port();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await;
    });
    Ok((port, stop))
}

struct Sent {
    rate: f64,
    p99_ms: f64,
    sent: u64,
    replays: u64,
    unique: u64,
    failed: u64,
}

/// Sends signed deliveries from `args.senders` tasks for `args.webhook_secs`;
/// every tenth is a replay of the sender's previous one.
async fn send_webhooks(args: &AtsArgs, url: &str, secret: &str, run: u64) -> anyhow::Result<Sent> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.senders)
        .build()?;
    let until = Instant::now() + Duration::from_secs_f64(args.webhook_secs);
    let counter = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let results = stream::iter(0..args.senders)
        .map(|sender| {
            let client = client.clone();
            let counter = counter.clone();
            let url = url.to_owned();
            let secret = secret.to_owned();
            async move {
                let mut latencies = Vec::new();
                let (mut sent, mut replays, mut unique, mut failed) = (0u64, 0u64, 0u64, 0u64);
                let mut last: Option<(String, Vec<u8>, String)> = None;
                while Instant::now() < until {
                    let (event_id, body, signature) = match &last {
                        Some(previous) if sent % 10 == 9 => {
                            replays += 1;
                            previous.clone()
                        }
                        _ => {
                            let n = counter.fetch_add(1, Ordering::Relaxed);
                            let body = format!(
                                r#"{{"action":"ping","payload":{{"web_hook_id":{n},"sender":{sender},"run":{run}}}}}"#
                            )
                            .into_bytes();
                            let signature = format!("sha256 {}", sign_hex(secret.as_bytes(), &[&body]));
                            unique += 1;
                            (format!("bench-{run}-{n}"), body, signature)
                        }
                    };
                    let at = Instant::now();
                    let answer = client
                        .post(&url)
                        .header("content-type", "application/json")
                        .header("greenhouse-event-id", &event_id)
                        .header("signature", &signature)
                        .body(body.clone())
                        .send()
                        .await;
                    latencies.push(at.elapsed().as_secs_f64() * 1000.0);
                    match answer {
                        Ok(r) if r.status().is_success() => {}
                        _ => failed += 1,
                    }
                    sent += 1;
                    last = Some((event_id, body, signature));
                }
                (latencies, sent, replays, unique, failed)
            }
        })
        .buffer_unordered(args.senders)
        .collect::<Vec<_>>()
        .await;
    let elapsed = started.elapsed().as_secs_f64();
    let mut latencies = Vec::new();
    let (mut sent, mut replays, mut unique, mut failed) = (0, 0, 0, 0);
    for (l, s, r, u, f) in results {
        latencies.extend(l);
        sent += s;
        replays += r;
        unique += u;
        failed += f;
    }
    latencies.sort_by(f64::total_cmp);
    Ok(Sent {
        rate: sent as f64 / elapsed.max(1e-9),
        p99_ms: quantile(&latencies, 0.99),
        sent,
        replays,
        unique,
        failed,
    })
}
