//! `bench reminders`: on PostgreSQL, with local sandboxes and a local SMTP
//! server, events whose reminders all fall due at the same instant on every
//! channel (email, WhatsApp, in-app), delivered by the background engine; and
//! `CreateEvent` against the Google sandbox at 50 concurrent callers against
//! a bare call to the sandbox measured in the same run.
//!
//! Targets: every delivery exactly once (counted at the SMTP server, the
//! WhatsApp sandbox and the notifications table), p99 lateness after the due
//! instant at most 5 s, the maximum at most 60 s.

use std::{
    collections::HashSet,
    sync::Arc,
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use clap::Args;
use futures::{stream, StreamExt, TryStreamExt};
use sea_orm::{ConnectionTrait, Statement};
use secrecy::SecretString;

use super::{admin_url, database::BenchDatabase, jobs::scalar_i64, random_secret, targets};
use crate::{
    auth::{Identity, JwtSigner},
    config::{Config, SmtpTlsMode},
    crypto::Keyring,
    domain::{
        calendar::{self, events, preferences},
        types::Provider,
    },
    jobs::{Registry, WorkerConfig, WorkerPool},
    oauth::{ConnectionOwner, TokenSet},
    proto::{self, calendar_service_client::CalendarServiceClient},
    secrets,
    startup::build_context,
    store::calendar_integrations::{self, IntegrationRow},
};
use nextke_sandbox::{
    ApprovedTemplate, GoogleSandbox, GoogleSandboxConfig, SmtpSink, SmtpSinkConfig,
    WhatsAppSandbox, WhatsAppSandboxConfig,
};

const WHATSAPP_TOKEN: &str = "sandbox-whatsapp-token";
const PHONE_NUMBER_ID: &str = "106540352242922";
const TEMPLATE: &str = "event_reminder";

/// Settings of `bench reminders`.
#[derive(Clone, Debug, Args)]
pub struct RemindersArgs {
    /// PostgreSQL server to create the throw-away `bench_*` database on.
    #[arg(long, env = "BENCH_POSTGRES_URL")]
    pub postgres_url: Option<String>,
    /// Events, each with one reminder on three channels.
    #[arg(long, default_value_t = 10_000)]
    pub events: usize,
    /// Users the events belong to.
    #[arg(long, default_value_t = 1_000)]
    pub users: usize,
    /// `REMINDER_CONCURRENCY` of the service under test.
    #[arg(long, default_value_t = 32_768)]
    pub concurrency: usize,
    /// `DATABASE_MAX_CONNECTIONS` of the service under test.
    #[arg(long, default_value_t = 32)]
    pub db_connections: u32,
    /// `SMTP_POOL_SIZE` of the service under test.
    #[arg(long, default_value_t = 32)]
    pub smtp_pool: u32,
    /// Concurrent `CreateEvent` callers.
    #[arg(long, default_value_t = 50)]
    pub callers: usize,
    /// Seconds of `CreateEvent` (and of bare sandbox calls) recorded.
    #[arg(long, default_value_t = 5.0)]
    pub create_secs: f64,
    /// Calls per second of each `CreateEvent` caller (Google allows a user 600
    /// a minute, which the service's per-connection budget keeps to).
    #[arg(long, default_value_t = 8.0)]
    pub caller_rate: f64,
    /// `WHATSAPP_RATE_LIMIT_RPS` of the service under test (1,000: Meta's
    /// upgraded throughput tier).
    #[arg(long, default_value_t = 1000)]
    pub whatsapp_rps: u32,
    /// `REMINDER_LEAD_SECS` of the service under test.
    #[arg(long, default_value_t = 30)]
    pub lead_secs: u64,
    /// `REMINDER_MAX_EARLY_SECS` of the service under test.
    #[arg(long, default_value_t = 10)]
    pub max_early_secs: u64,
}

/// Runs the benchmark and prints its findings.
pub async fn run(args: RemindersArgs, base: Config) -> anyhow::Result<()> {
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

/// The number in `bench-user-<n>`.
fn users_index(user_id: &str) -> usize {
    user_id
        .rsplit('-')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// The `q` quantile of sorted values (nearest rank).
pub(super) fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

async fn run_on(args: &RemindersArgs, base: Config, url: &str) -> anyhow::Result<()> {
    let google_config = GoogleSandboxConfig::default();
    let (google, google_handle) =
        GoogleSandbox::start_with(google_config.clone(), loopback().await?)?;
    let (whatsapp, whatsapp_handle) = WhatsAppSandbox::start_with(
        WhatsAppSandboxConfig {
            templates: vec![ApprovedTemplate::new(TEMPLATE, "en", 4)],
            ..WhatsAppSandboxConfig::default()
        },
        loopback().await?,
    )?;
    let smtp = SmtpSink::start(
        SmtpSinkConfig {
            max_connections: 256,
            ..SmtpSinkConfig::default()
        },
        loopback().await?,
    )?;

    let (_, keys) = Keyring::generate("bench")?;
    let mut config = base;
    config.database_url = url.to_owned();
    config.database_max_connections = args.db_connections.max(2);
    config.jwt_secret = Some(random_secret());
    config.jwt_public_key_file = None;
    config.jwt_private_key_file = None;
    config.jwt_algorithm = None;
    config.encryption_keys = Some(keys);
    config.jobs.workers_enabled = false;
    config.jobs.scheduler_enabled = false;
    let p = &mut config.providers;
    p.google_oauth_base_url = google_handle.base_url();
    p.google_token_base_url = google_handle.base_url();
    p.google_api_base_url = google_handle.base_url();
    p.google_userinfo_base_url = google_handle.base_url();
    p.google_client_id = google_config.client_id.clone();
    p.google_client_secret = Some(SecretString::from(google_config.client_secret.clone()));
    let c = &mut config.calendar;
    c.smtp_host = Some("127.0.0.1".to_owned());
    c.smtp_port = Some(smtp.addr.port());
    c.smtp_tls = SmtpTlsMode::None;
    c.smtp_pool_size = args.smtp_pool;
    c.whatsapp_api_base_url = whatsapp_handle.base_url();
    c.whatsapp_phone_number_id = Some(PHONE_NUMBER_ID.to_owned());
    c.whatsapp_access_token = Some(SecretString::from(WHATSAPP_TOKEN));
    c.whatsapp_template = TEMPLATE.to_owned();
    c.reminder_concurrency = args.concurrency;
    c.reminder_retry_ms = 500;
    c.reminder_lead_secs = args.lead_secs;
    c.reminder_max_early_secs = args.max_early_secs;
    // a number upgraded to Meta's higher throughput tier
    c.whatsapp_rate_limit_rps = args.whatsapp_rps;
    config.outbound.outbound_timeout_ms = 10_000;

    let create = create_events(args, config.clone(), &google, &google_handle).await?;

    // the reminders: every event's one reminder due at the same instant `due`
    let ctx = Arc::new(build_context(config.clone()).await?);
    let users: Vec<Identity> = (0..args.users.max(1))
        .map(|i| Identity {
            user_id: format!("bench-user-{i}"),
            orgs: Vec::new(),
            service: false,
        })
        .collect();
    for user in &users {
        preferences::update(
            &ctx,
            user,
            preferences::PreferencesUpdate {
                channels: Some(calendar::event::Channel::ALL.to_vec()),
                email: Some(format!("{}@example.com", user.user_id)),
                whatsapp_number: Some(format!("+2547{:08}", users_index(&user.user_id))),
                default_reminder_minutes: None,
                email_reconnect_notices: None,
            },
        )
        .await?;
    }
    // time to seed, then the reminder falls due
    let seed_secs = (args.events as f64 / 400.0).ceil() as i64 + 10;
    let due: DateTime<Utc> = Utc::now() + chrono::Duration::seconds(seed_secs);
    let due = DateTime::<Utc>::from_timestamp(due.timestamp(), 0).unwrap_or(due);
    let start = due + chrono::Duration::minutes(1);
    eprintln!("bench: seeding {} events due at {due}", args.events);
    let seeded = Instant::now();
    stream::iter(0..args.events)
        .map(|i| {
            let ctx = ctx.clone();
            let user = users[i % users.len()].clone();
            async move {
                events::create(
                    &ctx,
                    &user,
                    events::NewEvent {
                        event_type: Some(calendar::event::EventType::Interview),
                        title: format!("Interview {i}"),
                        start: Some(start),
                        end: Some(start + chrono::Duration::hours(1)),
                        time_zone: "Africa/Nairobi".to_owned(),
                        location: "Acme HQ, Nairobi".to_owned(),
                        reminder_minutes: vec![1],
                        ..Default::default()
                    },
                )
                .await?;
                anyhow::Ok(())
            }
        })
        .buffer_unordered(16)
        .try_collect::<Vec<()>>()
        .await?;
    let seed_time = seeded.elapsed().as_secs_f64();
    eprintln!("bench: seeded in {seed_time:.1} s");
    anyhow::ensure!(
        Utc::now() < due,
        "seeding took longer than planned ({seed_time:.1} s); lower --events"
    );

    let mut registry = Registry::new();
    calendar::register(&mut registry, ctx.clone());
    let pool = WorkerPool::start(
        ctx.db.clone(),
        &registry,
        WorkerConfig {
            poll_interval: Duration::from_millis(500),
            stats_interval: None,
            ..WorkerConfig::default()
        },
        None,
        Some(crate::startup::circuit_gate(ctx.outbound.clone())),
    );
    let expected = (args.events * 3) as i64;
    let deadline = Instant::now() + Duration::from_secs(seed_secs as u64 + 180);
    let delivered = loop {
        let n = scalar_i64(&ctx.db, "SELECT COUNT(*) FROM reminder_deliveries").await?;
        if n >= expected || Instant::now() > deadline {
            break n;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    // a moment more, so a duplicate would show
    tokio::time::sleep(Duration::from_secs(2)).await;
    pool.shutdown().await;

    let rows = ctx
        .db
        .query_all(Statement::from_string(
            ctx.db.get_database_backend(),
            "SELECT channel, due_at, delivered_at FROM reminder_deliveries",
        ))
        .await?;
    let mut lateness = Vec::with_capacity(rows.len());
    let mut by_channel: std::collections::BTreeMap<String, Vec<f64>> = Default::default();
    for row in rows {
        let channel: String = row.try_get_by_index(0)?;
        let due_at: DateTime<Utc> = row.try_get_by_index(1)?;
        let at: DateTime<Utc> = row.try_get_by_index(2)?;
        let late = (at - due_at).num_milliseconds() as f64 / 1000.0;
        lateness.push(late);
        by_channel.entry(channel).or_default().push(late);
    }
    lateness.sort_by(f64::total_cmp);
    for list in by_channel.values_mut() {
        list.sort_by(f64::total_cmp);
    }
    let mails = smtp.messages();
    let message_ids: HashSet<String> = mails
        .iter()
        .filter_map(|m| m.message_id().map(str::to_owned))
        .collect();
    let sent = whatsapp.received();
    let whatsapp_events: HashSet<String> = sent
        .iter()
        .filter_map(|m| m.parameters.first().cloned())
        .collect();
    let notifications = scalar_i64(&ctx.db, "SELECT COUNT(*) FROM notifications").await?;
    let distinct_notifications = scalar_i64(
        &ctx.db,
        "SELECT COUNT(DISTINCT event_id) FROM notifications",
    )
    .await?;
    let dead = scalar_i64(&ctx.db, "SELECT COUNT(*) FROM jobs WHERE state = 'dead'").await?;
    let n = args.events;
    let once = mails.len() == n
        && message_ids.len() == n
        && sent.len() == n
        && whatsapp_events.len() == n
        && notifications == n as i64
        && distinct_notifications == n as i64
        && delivered == expected;
    let p50 = quantile(&lateness, 0.50);
    let p99 = quantile(&lateness, 0.99);
    let max = lateness.last().copied().unwrap_or(0.0);
    let earliest = lateness.first().copied().unwrap_or(0.0);
    let early = lateness.iter().filter(|l| **l < 0.0).count();

    println!(
        "nextke-integrations bench reminders: {n} events of {} users, one reminder each on 3 channels, all due at the same instant; {} reminders held at once, claimed {} s ahead, WhatsApp at {}/s up to {} s early, SMTP pool {}",
        users.len(),
        args.concurrency,
        args.lead_secs,
        args.whatsapp_rps,
        args.max_early_secs,
        args.smtp_pool
    );
    println!("{:<52}{:>12}", "deliveries recorded", delivered);
    println!(
        "{:<52}{:>12}",
        "emails at the SMTP server (distinct Message-IDs)",
        format!("{} ({})", mails.len(), message_ids.len())
    );
    println!(
        "{:<52}{:>12}",
        "WhatsApp messages (distinct events)",
        format!("{} ({})", sent.len(), whatsapp_events.len())
    );
    println!(
        "{:<52}{:>12}",
        "in-app notifications (distinct events)",
        format!("{notifications} ({distinct_notifications})")
    );
    println!("{:<52}{:>12}", "dead jobs", dead);
    println!("{:<52}{:>12.2}", "lateness p50, s", p50);
    println!(
        "{:<52}{:>12}",
        "sent before the instant (earliest, s)",
        format!("{early} ({earliest:.1})")
    );
    for (channel, list) in &by_channel {
        println!(
            "{:<52}{:>12}",
            format!("  {channel}: p50 / p99 / max, s"),
            format!(
                "{:.1} / {:.1} / {:.1}",
                quantile(list, 0.5),
                quantile(list, 0.99),
                list.last().copied().unwrap_or(0.0)
            )
        );
    }
    println!(
        "{:<52}{:>12.0}",
        "deliveries per second (first sent to last)",
        delivered as f64 / (max - earliest.min(0.0)).max(0.001)
    );
    println!();
    println!("{:<52}{:>12}{:>12}", "run", "p50 ms", "p99 ms");
    println!(
        "{:<52}{:>12.1}{:>12.1}",
        format!(
            "bare sandbox insert, {} callers at {}/s",
            args.callers, args.caller_rate
        ),
        create.bare_p50,
        create.bare_p99
    );
    println!(
        "{:<52}{:>12.1}{:>12.1}",
        format!(
            "CreateEvent on Google, {} callers at {}/s",
            args.callers, args.caller_rate
        ),
        create.rpc_p50,
        create.rpc_p99
    );
    println!();
    println!("{:<52}{:>12}{:>12}", "target", "measured", "limit");
    let verdict = |ok: bool| if ok { "PASS" } else { "FAIL" };
    println!(
        "{:<52}{:>12}{:>12}   {}",
        "every delivery exactly once",
        if once { "yes" } else { "no" },
        "yes",
        verdict(once)
    );
    println!(
        "{:<52}{:>12.2}{:>12}   {}",
        "lateness p99, s",
        p99,
        "<= 5",
        verdict(p99 <= 5.0)
    );
    println!(
        "{:<52}{:>12.2}{:>12}   {}",
        "lateness max, s",
        max,
        "<= 60",
        verdict(max <= 60.0)
    );
    println!(
        "{:<52}{:>12.2}",
        "CreateEvent p99 / bare sandbox p99",
        create.rpc_p99 / create.bare_p99.max(0.001)
    );
    println!(
        "{}",
        serde_json::json!({
            "bench": "nextke-integrations reminders",
            "events": n,
            "deliveries": delivered,
            "exactly_once": once,
            "emails": mails.len(),
            "whatsapp": sent.len(),
            "notifications": notifications,
            "dead_jobs": dead,
            "lateness_p50_s": p50,
            "lateness_p99_s": p99,
            "lateness_max_s": max,
            "early": early,
            "earliest_s": earliest,
            "seed_s": seed_time,
            "create_event_p50_ms": create.rpc_p50,
            "create_event_p99_ms": create.rpc_p99,
            "create_event_calls": create.rpc_calls,
            "bare_p50_ms": create.bare_p50,
            "bare_p99_ms": create.bare_p99,
            "pass": {"once": once, "p99": p99 <= 5.0, "max": max <= 60.0, "all": once && p99 <= 5.0 && max <= 60.0},
        })
    );
    ctx.db.clone().close().await?;
    smtp.shutdown().await;
    Ok(())
}

/// `CreateEvent` latencies at the Google sandbox, and a bare insert's.
struct CreateFigures {
    rpc_p50: f64,
    rpc_p99: f64,
    rpc_calls: usize,
    bare_p50: f64,
    bare_p99: f64,
}

async fn create_events(
    args: &RemindersArgs,
    config: Config,
    google: &GoogleSandbox,
    google_handle: &nextke_sandbox::SandboxHandle,
) -> anyhow::Result<CreateFigures> {
    let (real, ctx) = targets::start_real(config.clone()).await?;
    let signer = JwtSigner::new(&secrets::jwt_config(&config)?)?;
    let email = nextke_sandbox::google::DEFAULT_EMAIL;
    let scopes = [
        nextke_sandbox::google::SCOPE_EVENTS,
        nextke_sandbox::google::SCOPE_CALENDAR_READONLY,
    ];
    // one connected Google account per caller, as after the OAuth callback
    let mut tokens = Vec::with_capacity(args.callers);
    let mut bare_tokens = Vec::with_capacity(args.callers);
    for i in 0..args.callers {
        let user = format!("bench-caller-{i}");
        let access = google
            .mint_token(email, &scopes)
            .ok_or_else(|| anyhow::anyhow!("the sandbox has no {email}"))?;
        let connection_id = ctx
            .oauth
            .save_connection(
                Provider::Google,
                &ConnectionOwner::User {
                    user_id: user.clone(),
                },
                Some(email),
                &TokenSet {
                    access_token: SecretString::from(access),
                    refresh_token: None,
                    expires_at: Some(Utc::now() + chrono::Duration::hours(1)),
                    refresh_expires_at: None,
                    scopes: Some(scopes.iter().map(|s| (*s).to_owned()).collect()),
                },
                &[],
            )
            .await?;
        let now = Utc::now();
        calendar_integrations::upsert(
            &ctx.db,
            IntegrationRow {
                connection_id,
                user_id: user.clone(),
                provider: Provider::Google,
                account_email: email.to_owned(),
                calendars: serde_json::json!([{"id": email, "name": email, "primary": true}]),
                default_calendar_id: email.to_owned(),
                is_default: true,
                created_at: now,
                updated_at: now,
            },
        )
        .await?;
        tokens.push(signer.mint(&user, &[], false, Duration::from_secs(3600))?);
        bare_tokens.push(google.mint_token(email, &scopes).unwrap_or_default());
    }
    let window = Duration::from_secs_f64(args.create_secs.max(1.0));
    let spacing = Duration::from_secs_f64(1.0 / args.caller_rate.max(0.1));

    // the bare call: the same insert straight at the sandbox
    let http = reqwest::Client::new();
    let insert_url = format!(
        "{}/calendar/v3/calendars/primary/events",
        google_handle.base_url()
    );
    let bare_tokens = Arc::new(bare_tokens);
    let bare = drive(args.callers, window, spacing, move |i, n| {
        let http = http.clone();
        let url = insert_url.clone();
        let token = bare_tokens[i].clone();
        async move {
            let start = Utc::now() + chrono::Duration::days(3);
            let body = serde_json::json!({
                "summary": format!("bare {i}-{n}"),
                "start": {"dateTime": start.to_rfc3339(), "timeZone": "Africa/Nairobi"},
                "end": {"dateTime": (start + chrono::Duration::hours(1)).to_rfc3339(), "timeZone": "Africa/Nairobi"},
            });
            let answer = http.post(&url).bearer_auth(token).json(&body).send().await?;
            anyhow::ensure!(answer.status().is_success(), "sandbox answered {}", answer.status());
            Ok(())
        }
    })
    .await?;

    let channel =
        tonic::transport::Endpoint::from_shared(format!("http://127.0.0.1:{}", real.port))?
            .connect()
            .await?;
    let tokens = Arc::new(tokens);
    let rpc = drive(args.callers, window, spacing, move |i, n| {
        let mut client = CalendarServiceClient::new(channel.clone());
        let token = tokens[i].clone();
        async move {
            let start = Utc::now() + chrono::Duration::days(3);
            let ts = |t: DateTime<Utc>| prost_types::Timestamp {
                seconds: t.timestamp(),
                nanos: 0,
            };
            let mut request = tonic::Request::new(proto::CreateEventRequest {
                event_type: proto::EventType::Interview.into(),
                title: format!("Interview {i}-{n}"),
                start_time: Some(ts(start)),
                end_time: Some(ts(start + chrono::Duration::hours(1))),
                time_zone: "Africa/Nairobi".to_owned(),
                reminder_minutes: vec![15, 60],
                ..Default::default()
            });
            request
                .metadata_mut()
                .insert("authorization", format!("Bearer {token}").parse()?);
            let event = client
                .create_event(request)
                .await?
                .into_inner()
                .event
                .unwrap_or_default();
            anyhow::ensure!(
                event.sync_state() == proto::EventSyncState::Synced,
                "not synced: {}",
                event.sync_error
            );
            Ok(())
        }
    })
    .await?;
    real.stop().await;
    Ok(CreateFigures {
        rpc_p50: quantile(&rpc, 0.5),
        rpc_p99: quantile(&rpc, 0.99),
        rpc_calls: rpc.len(),
        bare_p50: quantile(&bare, 0.5),
        bare_p99: quantile(&bare, 0.99),
    })
}

/// Runs `callers` loops of `call(caller, n)`, each call at least `spacing`
/// after the caller's previous one began, for `window` after a second of
/// warm-up; answers the recorded latencies in ms, sorted.
async fn drive<F, Fut>(
    callers: usize,
    window: Duration,
    spacing: Duration,
    call: F,
) -> anyhow::Result<Vec<f64>>
where
    F: Fn(usize, usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send,
{
    let warm_until = Instant::now() + Duration::from_secs(1);
    let stop_at = warm_until + window;
    let mut tasks = tokio::task::JoinSet::new();
    for caller in 0..callers {
        let call = call.clone();
        tasks.spawn(async move {
            let mut latencies = Vec::new();
            let mut n = 0;
            // callers start spread over one spacing
            let offset = spacing.mul_f64(caller as f64 / callers.max(1) as f64);
            let mut next = tokio::time::Instant::now() + offset;
            while Instant::now() < stop_at {
                tokio::time::sleep_until(next).await;
                next += spacing;
                let began = Instant::now();
                call(caller, n).await?;
                if began >= warm_until {
                    latencies.push(began.elapsed().as_secs_f64() * 1000.0);
                }
                n += 1;
            }
            anyhow::Ok(latencies)
        });
    }
    let mut all = Vec::new();
    while let Some(done) = tasks.join_next().await {
        all.extend(done??);
    }
    all.sort_by(f64::total_cmp);
    Ok(all)
}
