//! Building and running the application: one listener serving gRPC, grpc-web
//! and the HTTP shim, stopped by a shutdown future.

use std::{future::Future, sync::Arc, time::Duration};

use axum::{middleware, Router};
use tokio::net::TcpListener;
use tonic_web::GrpcWebLayer;

use crate::store::connection_cache::ConnectionCache;
use crate::{
    config::{Config, SmtpTlsMode},
    context::{AppContext, Senders},
    delivery::{
        email::{EmailSettings, Mailer, SmtpTls},
        SendSlots,
    },
    domain::{
        notifications::{NotificationHub, WatchLimits},
        sweeps,
    },
    grpc, http,
    jobs::{
        start_scheduler, Gate, JobMetrics, Registry, SchedulerHandle, WorkerConfig, WorkerPool,
    },
    metrics::Metrics,
    oauth::OAuthCore,
    providers::{
        http::OutboundHttp,
        whatsapp::{WhatsAppClient, WhatsAppSettings},
    },
    secrets,
    server::{self, ServeSettings},
    store,
};

/// A built application, bound to its listener, not yet serving.
pub struct Application {
    listener: TcpListener,
    router: Router,
    ctx: Arc<AppContext>,
}

impl Application {
    /// Binds `LISTEN_ADDR` and builds everything.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(config.listen_addr).await?;
        Self::build_with_listener(config, listener).await
    }

    /// Builds everything on an already-bound listener (tests bind port 0).
    pub async fn build_with_listener(
        config: Config,
        listener: TcpListener,
    ) -> anyhow::Result<Self> {
        let ctx = Arc::new(build_context(config).await?);
        let router = build_router(ctx.clone()).await?;
        Ok(Self {
            listener,
            router,
            ctx,
        })
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// The shared context (database, keyring, metrics...).
    pub fn context(&self) -> Arc<AppContext> {
        self.ctx.clone()
    }

    /// Serves until `shutdown` completes, then drains in-flight requests.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        tracing::info!(addr = ?self.listener.local_addr().ok(), "serving grpc, grpc-web and http");
        let engine = match Engine::start(self.ctx.clone()).await {
            Ok(engine) => engine,
            Err(err) => return Err(std::io::Error::other(format!("{err:#}"))),
        };
        let settings = ServeSettings::from_config(&self.ctx.config);
        let served = server::serve(
            self.listener,
            self.router,
            settings,
            &self.ctx.metrics,
            shutdown,
        )
        .await;
        engine.shutdown().await;
        served
    }
}

/// The worker pool's gate: a job whose kind names a provider waits while that
/// provider's circuit is open in `outbound`, without spending an attempt.
pub fn circuit_gate(outbound: OutboundHttp) -> Gate {
    Arc::new(move |provider: &str| outbound.circuit_wait(provider))
}

/// The background engine of one process: its worker pool and scheduler, each
/// only when enabled.
pub struct Engine {
    pool: Option<WorkerPool>,
    scheduler: Option<SchedulerHandle>,
}

impl Engine {
    /// Starts the worker pool and the scheduler the configuration enables.
    pub async fn start(ctx: Arc<AppContext>) -> anyhow::Result<Self> {
        let settings = &ctx.config.jobs;
        let scheduler = if settings.scheduler_enabled {
            let mut schedules = sweeps::schedules(&ctx.config);
            if ctx.config.linkedin.enable_linkedin_integration {
                schedules.extend(crate::domain::linkedin::jobs::schedules(&ctx));
            }
            if ctx.config.ats.enable_ats_integration {
                schedules.extend(crate::domain::ats::schedule::schedules(&ctx));
            }
            Some(start_scheduler(ctx.db.clone(), schedules).await?)
        } else {
            None
        };
        let pool = settings.workers_enabled.then(|| {
            let mut registry = Registry::new();
            sweeps::register(&mut registry, ctx.clone());
            crate::domain::linkedin::jobs::register(&mut registry, ctx.clone());
            crate::domain::calendar::register(&mut registry, ctx.clone());
            crate::domain::ats::register(&mut registry, ctx.clone());
            WorkerPool::start(
                ctx.db.clone(),
                &registry,
                WorkerConfig {
                    poll_interval: Duration::from_millis(settings.job_poll_interval_ms.max(10)),
                    shutdown_grace: Duration::from_secs(settings.job_shutdown_grace_secs),
                    reap_interval: (settings.lease() / 2).max(Duration::from_secs(1)),
                    stats_interval: Some(Duration::from_millis(
                        settings.job_stats_interval_ms.max(100),
                    )),
                    ..WorkerConfig::default()
                },
                Some(ctx.job_metrics.clone()),
                Some(circuit_gate(ctx.outbound.clone())),
            )
        });
        Ok(Self { pool, scheduler })
    }

    /// Stops the scheduler, then drains the worker pool.
    pub async fn shutdown(self) {
        if let Some(scheduler) = self.scheduler {
            scheduler.shutdown().await;
        }
        if let Some(pool) = self.pool {
            pool.shutdown().await;
        }
    }
}

/// Connects, migrates and assembles the shared context.
pub async fn build_context(config: Config) -> anyhow::Result<AppContext> {
    let secrets = secrets::resolve(&config)?;
    let db = store::connect(&config.database_url, config.database_max_connections).await?;
    store::migrate(&db).await?;
    let metrics = Metrics::new();
    let job_metrics = JobMetrics::new(&metrics);
    let outbound = OutboundHttp::new(secrets::outbound_config(&config), metrics.clone())?;
    let connections = if config.is_postgres() {
        ConnectionCache::listening(&db)
    } else {
        ConnectionCache::disabled()
    };
    let keyring = Arc::new(secrets.keyring);
    let oauth = OAuthCore::new(db.clone(), keyring.clone(), outbound.clone())
        .with_flow_limits(config.flows.limits());
    let notifications = Arc::new(NotificationHub::new(WatchLimits {
        per_user: config.calendar.notification_streams_per_user.max(1),
        total: config.calendar.notification_streams_max.max(1),
        lifetime: Duration::from_secs(config.calendar.notification_stream_lifetime_secs.max(1)),
        poll: Duration::from_millis(config.calendar.notification_poll_ms.max(50)),
    }));
    let senders = build_senders(&config, &outbound)?;
    Ok(AppContext {
        notifications,
        senders,
        ats_intake: Arc::default(),
        config: Arc::new(config),
        db,
        keyring,
        oauth,
        connections,
        jwt: Arc::new(secrets.jwt),
        metrics,
        job_metrics,
        outbound,
    })
}

/// The reminder channels the configuration sets up, each skipped with one
/// log line when it is not.
fn build_senders(config: &Config, outbound: &OutboundHttp) -> anyhow::Result<Senders> {
    let calendar = &config.calendar;
    let mailer = match &calendar.smtp_host {
        Some(host) => {
            let tls = match calendar.smtp_tls {
                SmtpTlsMode::None => SmtpTls::None,
                SmtpTlsMode::Starttls => SmtpTls::StartTls,
                SmtpTlsMode::Tls => SmtpTls::Tls,
            };
            let port = calendar.smtp_port.unwrap_or(match tls {
                SmtpTls::None => 25,
                SmtpTls::StartTls => 587,
                SmtpTls::Tls => 465,
            });
            let from = calendar.smtp_from.parse().map_err(|_| {
                anyhow::anyhow!(
                    "SMTP_FROM is not a mailbox such as `Next_KE <reminders@example.com>`"
                )
            })?;
            let mut settings = EmailSettings::new(host.clone(), port, from, tls);
            settings.username = calendar.smtp_username.clone();
            settings.password = calendar.smtp_password.clone();
            settings.pool_size = calendar.smtp_pool_size.max(1);
            Some(Mailer::new(&settings).map_err(|e| anyhow::anyhow!("SMTP settings: {e}"))?)
        }
        None => {
            tracing::info!("email reminders off: SMTP_HOST is not set");
            None
        }
    };
    let whatsapp = match (
        &calendar.whatsapp_phone_number_id,
        &calendar.whatsapp_access_token,
    ) {
        (Some(phone_number_id), Some(token)) => Some(WhatsAppClient::new(
            outbound.clone(),
            WhatsAppSettings {
                api_base: url::Url::parse(&calendar.whatsapp_api_base_url)
                    .map_err(|_| anyhow::anyhow!("WHATSAPP_API_BASE_URL is not a URL"))?,
                api_version: calendar.whatsapp_api_version.clone(),
                phone_number_id: phone_number_id.clone(),
                access_token: token.clone(),
                template: calendar.whatsapp_template.clone(),
                template_language: calendar.whatsapp_template_language.clone(),
            },
        )),
        _ => {
            tracing::info!(
                "WhatsApp reminders off: WHATSAPP_PHONE_NUMBER_ID and WHATSAPP_ACCESS_TOKEN are not both set"
            );
            None
        }
    };
    let whatsapp_slots = whatsapp.as_ref().map(|_| {
        Arc::new(SendSlots::new(
            calendar.whatsapp_rate_limit_rps.max(1),
            Duration::from_secs(calendar.reminder_max_early_secs),
        ))
    });
    Ok(Senders {
        mailer,
        whatsapp,
        whatsapp_slots,
    })
}

/// gRPC (with grpc-web and CORS) and the shim on one router, every request
/// traced (a span, `x-request-id`) and metered once: gRPC calls by the gRPC
/// meter, the rest by the HTTP one.
pub async fn build_router(ctx: Arc<AppContext>) -> anyhow::Result<Router> {
    let methods = grpc::methods::MethodSet::served()?;
    let meter = grpc::meter::Meter::new(ctx.metrics.clone(), methods.clone());
    let observer = http::observe::Observer::new(ctx.metrics.clone(), methods);
    let grpc = grpc::router(ctx.clone())
        .await?
        // inside grpc-web: the meter sees native gRPC trailers
        .route_layer(middleware::from_fn_with_state(meter, grpc::meter::record))
        // route_layer: only gRPC paths get grpc-web and CORS, so plain HTTP
        // to unknown paths is a 404, not grpc-web's 400
        .route_layer(GrpcWebLayer::new())
        .route_layer(http::observe::cors(&ctx.config.cors_allowed_origins));
    Ok(http::router(ctx.clone())
        .merge(grpc)
        .fallback(grpc::fallback::unknown_path)
        .layer(middleware::from_fn_with_state(
            observer,
            http::observe::record,
        )))
}

/// Completes on ctrl-c or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %err, "cannot listen for ctrl-c");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sig) => {
                sig.recv().await;
            }
            Err(err) => {
                tracing::warn!(error = %err, "cannot listen for sigterm");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
