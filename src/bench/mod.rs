//! `nextke-integrations bench`: the foundation's performance targets, measured
//! in one process against a baseline measured in the same run, because the
//! machine is shared and noisy and only ratios travel.
//!
//! # Layout
//! - [`database`]: a throw-away PostgreSQL database and its seed rows.
//! - [`targets`]: the real application and a bare tonic server answering
//!   `grpc.health.v1.Health/Check`, both on loopback ports.
//! - [`load`]: the driver (closed and open loop) and its latency record.
//! - [`idle`]: resident memory of an idle `serve` child process.
//! - [`report`]: the table and the JSON line.
//! - [`ats`]: `bench ats`, job syncs against a COPY, webhook ingest against
//!   a bare verifying handler, and Lever's budget.
//! - [`reminders`]: `bench reminders`, reminders all due at once on every
//!   channel, and `CreateEvent` against the Google sandbox.
//! - [`jobs`]: `bench jobs`, the job engine against bare claim-and-complete
//!   SQL; [`jobs_lag`]: lag of due jobs while the prune sweep empties a
//!   large table; [`jobs_report`]: their table and JSON line.

pub mod ats;
pub mod database;
pub mod idle;
pub mod jobs;
pub mod jobs_lag;
pub mod jobs_report;
pub mod linkedin;
pub mod load;
pub mod reminders;
pub mod report;
pub mod targets;

use std::{sync::Arc, time::Duration};

use anyhow::Context;
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use clap::{Args, Subcommand};
use rand::RngCore;
use secrecy::SecretString;
use tonic::transport::Channel;

use self::{
    database::{BenchDatabase, Caller, CALLER_ROWS},
    load::{Call, Outcome, Pace, Shape},
    report::{Report, Row},
};
use crate::{
    auth::{JwtSigner, OrgMembership, OrgRole},
    config::Config,
    context::AppContext,
    crypto::Keyring,
    secrets,
    store::credentials,
};

/// The PostgreSQL server used when neither `--postgres-url` nor a postgres
/// `DATABASE_URL` is given.
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// The user the benchmark calls as.
const CALLER_USER: &str = "bench-caller";
/// The organization that user administers.
const CALLER_ORG: &str = "bench-caller-org";

/// Settings of `bench`: a suite, the server's when none is named (so
/// `bench --concurrency 32` keeps working).
#[derive(Clone, Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BenchArgs {
    /// Which benchmark to run.
    #[command(subcommand)]
    pub suite: Option<Suite>,
    /// The server benchmark's settings when no suite is named.
    #[command(flatten)]
    pub server: ServerArgs,
}

/// The benchmarks of `bench`.
#[derive(Clone, Debug, Subcommand)]
pub enum Suite {
    /// The gRPC server against a bare tonic server (the default).
    Server(ServerArgs),
    /// The job engine against bare claim-and-complete SQL, and the lag of
    /// due jobs while the prune sweep runs on a large table.
    Jobs(jobs::JobsArgs),
    /// Connected users synced by the engine against a rate-limited sandbox LinkedIn.
    Linkedin(linkedin::LinkedInArgs),
    /// Reminders all due at once on email, WhatsApp and in-app, and
    /// `CreateEvent` against the Google sandbox.
    Reminders(reminders::RemindersArgs),
    /// ATS: 100,000 Greenhouse jobs synced and re-synced, webhook ingest, and
    /// a Lever sync under its rate budget.
    Ats(ats::AtsArgs),
}

/// Settings of `bench server`.
#[derive(Clone, Debug, Args)]
pub struct ServerArgs {
    /// PostgreSQL server to create the throw-away `bench_*` database on
    /// (default: `DATABASE_URL` if it is postgres, else the local test server).
    #[arg(long, env = "BENCH_POSTGRES_URL")]
    pub postgres_url: Option<String>,
    /// Calls in flight.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// HTTP/2 connections per server the calls share.
    #[arg(long, default_value_t = 4)]
    pub connections: usize,
    /// Seconds recorded per run.
    #[arg(long, default_value_t = 5.0)]
    pub duration: f64,
    /// Seconds of warm-up before each run's recording.
    #[arg(long, default_value_t = 1.0)]
    pub warmup: f64,
    /// Rounds of alternating baseline and real maximum-rate runs; the best of each counts.
    #[arg(long, default_value_t = 2)]
    pub rounds: usize,
    /// Other users seeded with connections of their own (four rows each).
    #[arg(long, default_value_t = 100)]
    pub other_users: usize,
    /// Seconds the idle server rests after becoming ready before it is measured.
    #[arg(long, default_value_t = 2.0)]
    pub idle_settle: f64,
    /// Also measure the parts of a status call on their own: the real server's
    /// unauthenticated health check, the domain call without gRPC, token verification.
    #[arg(long)]
    pub breakdown: bool,
}

/// Runs the chosen benchmark and prints its findings; a missed target is
/// reported, not an error.
pub async fn run(args: BenchArgs, base: Config) -> anyhow::Result<()> {
    match args.suite {
        None => run_server(args.server, base).await,
        Some(Suite::Server(server)) => run_server(server, base).await,
        Some(Suite::Jobs(jobs)) => jobs::run(jobs, base).await,
        Some(Suite::Linkedin(args)) => linkedin::run(args, base).await,
        Some(Suite::Reminders(args)) => reminders::run(args, base).await,
        Some(Suite::Ats(args)) => ats::run(args, base).await,
    }
}

/// The server the throw-away database is created on: the flag, else
/// `DATABASE_URL` if it is postgres, else the local test server.
pub fn admin_url(flag: Option<&str>, base: &Config) -> String {
    match flag {
        Some(url) => url.to_owned(),
        None if base.is_postgres() => base.database_url.clone(),
        None => DEFAULT_POSTGRES_URL.to_owned(),
    }
}

async fn run_server(args: ServerArgs, base: Config) -> anyhow::Result<()> {
    let admin_url = admin_url(args.postgres_url.as_deref(), &base);
    let database = BenchDatabase::create(&admin_url).await?;
    eprintln!("bench: created database {}", database.name());
    let result = run_on(&args, base, &database.url).await;
    match database.drop_database().await {
        Ok(()) => eprintln!("bench: dropped the database"),
        Err(err) => eprintln!("bench: warning: {err:#}"),
    }
    result?.print();
    Ok(())
}

async fn run_on(args: &ServerArgs, base: Config, database_url: &str) -> anyhow::Result<Report> {
    let jwt_secret = random_secret();
    let (_, encryption_keys) = Keyring::generate("bench")?;
    let mut config = base;
    config.database_url = database_url.to_owned();
    config.jwt_secret = Some(jwt_secret.clone());
    config.jwt_public_key_file = None;
    config.jwt_private_key_file = None;
    config.jwt_algorithm = None;
    config.encryption_keys = Some(encryption_keys.clone());

    let (real, ctx) = targets::start_real(config.clone()).await?;
    let caller = Caller {
        user_id: CALLER_USER.to_owned(),
        org_id: CALLER_ORG.to_owned(),
    };
    database::seed(&ctx.oauth, &caller, args.other_users).await?;
    let signer = JwtSigner::new(&secrets::jwt_config(&config)?)?;
    let token = signer.mint(
        &caller.user_id,
        &[OrgMembership::new(&caller.org_id, OrgRole::Admin)],
        false,
        Duration::from_secs(3600),
    )?;
    let baseline = targets::start_baseline().await?;

    let measured = measure_from_outside(args, baseline.port, real.port, &token).await;
    let measured = match measured {
        Ok(mut report) if args.breakdown => {
            breakdown(args, real.port, ctx, &token).await.map(|rows| {
                report.rows.extend(rows);
                report
            })
        }
        other => other,
    };
    baseline.stop().await;
    real.stop().await;
    let mut report = measured?;

    eprintln!("bench: measuring an idle server");
    report.idle_rss_mib = idle::measure(idle::IdleServer {
        database_url,
        jwt_secret: &jwt_secret,
        encryption_keys: &encryption_keys,
        settle: Duration::from_secs_f64(args.idle_settle.max(0.0)),
    })
    .await
    .map_err(|err| format!("{err:#}"));
    Ok(report)
}

/// Runs [`measure`] on a client runtime of its own (one thread), as a caller
/// in another process would: the servers' runtime schedules only server work,
/// and the client's tasks never queue in front of a server's.
async fn measure_from_outside(
    args: &ServerArgs,
    baseline_port: u16,
    real_port: u16,
    token: &str,
) -> anyhow::Result<Report> {
    let args = args.clone();
    let token = token.to_owned();
    tokio::task::spawn_blocking(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
            .block_on(measure(&args, baseline_port, real_port, &token))
    })
    .await
    .context("the client runtime panicked")?
}

async fn measure(
    args: &ServerArgs,
    baseline_port: u16,
    real_port: u16,
    token: &str,
) -> anyhow::Result<Report> {
    let shape = shape(args);
    let health = Call::HealthCheck;
    let status = Call::integration_status(token)?;
    let baseline_channels = load::connect(baseline_port, args.connections).await?;
    let real_channels = load::connect(real_port, args.connections).await?;
    check(&baseline_channels, &health, 0).await?;
    check(&real_channels, &status, CALLER_ROWS).await?;

    let mut rows = Vec::new();
    let mut best_baseline = Outcome::default();
    let mut best_real = Outcome::default();
    for round in 1..=args.rounds.max(1) {
        eprintln!("bench: round {round}: maximum rate");
        let b = load::drive(&baseline_channels, &health, shape, Pace::Closed).await?;
        rows.push(Row::new(
            format!("baseline Health/Check, max, round {round}"),
            &b,
        ));
        let r = load::drive(&real_channels, &status, shape, Pace::Closed).await?;
        rows.push(Row::new(
            format!("real GetIntegrationStatus, max, round {round}"),
            &r,
        ));
        if b.rps() > best_baseline.rps() {
            best_baseline = b;
        }
        if r.rps() > best_real.rps() {
            best_real = r;
        }
    }

    let half_rate = best_real.rps() / 2.0;
    eprintln!("bench: open loop at {half_rate:.0}/s");
    let open = Pace::Open { rate: half_rate };
    let b = load::drive(&baseline_channels, &health, shape, open).await?;
    rows.push(Row::new("baseline Health/Check, half real rate", &b));
    let r = load::drive(&real_channels, &status, shape, open).await?;
    let real_half = Row::new("real GetIntegrationStatus, half rate", &r);
    rows.push(real_half.clone());

    Ok(Report {
        setup: format!(
            "{} in flight over {} connections per server, {:.1} s recorded after {:.1} s warm-up",
            args.concurrency, args.connections, args.duration, args.warmup
        ),
        rows,
        baseline_rps: best_baseline.rps(),
        real_rps: best_real.rps(),
        real_half,
        half_rate,
        idle_rss_mib: Err("not measured".to_owned()),
    })
}

/// Closed-loop runs of the parts of a status call on their own.
async fn breakdown(
    args: &ServerArgs,
    real_port: u16,
    ctx: Arc<AppContext>,
    token: &str,
) -> anyhow::Result<Vec<Row>> {
    let shape = shape(args);
    let channels = load::connect(real_port, args.connections).await?;
    let identity = Arc::new(ctx.jwt.verify(token)?);
    let parts = [
        (
            "real Health/Check (router, layers; no auth/db)",
            Call::HealthCheck,
        ),
        (
            "in-process status::overview (db, no grpc)",
            Call::Overview {
                ctx: ctx.clone(),
                identity,
            },
        ),
        (
            "in-process raw sqlx, same rows (no orm)",
            Call::RawQuery {
                pool: ctx.db.get_postgres_connection_pool().clone(),
                owners: Arc::from(vec![
                    credentials::user_owner(CALLER_USER).key(),
                    credentials::org_owner(CALLER_ORG).key(),
                ]),
            },
        ),
        (
            "in-process jwt verify (no grpc, no db)",
            Call::VerifyToken {
                verifier: ctx.jwt.clone(),
                token: Arc::from(token),
            },
        ),
    ];
    let mut rows = Vec::new();
    for (name, call) in parts {
        eprintln!("bench: breakdown: {name}");
        let outcome = load::drive(&channels, &call, shape, Pace::Closed).await?;
        rows.push(Row::new(name, &outcome));
    }
    Ok(rows)
}

fn shape(args: &ServerArgs) -> Shape {
    Shape {
        concurrency: args.concurrency,
        warmup: Duration::from_secs_f64(args.warmup.max(0.0)),
        duration: Duration::from_secs_f64(args.duration.max(0.1)),
    }
}

/// One call on each connection before any load: the target answers, and the
/// real server shows the caller's seeded connections.
async fn check(channels: &[Channel], call: &Call, rows: usize) -> anyhow::Result<()> {
    for channel in channels {
        let got = call
            .client(channel.clone())
            .call()
            .await
            .context("the target refused the benchmark call")?;
        anyhow::ensure!(
            got == rows,
            "expected {rows} connections in the answer, got {got}"
        );
    }
    Ok(())
}

fn random_secret() -> SecretString {
    let mut bytes = [0u8; 48];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    SecretString::from(URL_SAFE_NO_PAD.encode(bytes))
}
