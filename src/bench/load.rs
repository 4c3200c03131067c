//! The load driver: many calls in flight over a few HTTP/2 connections,
//! either as fast as answers come (closed loop) or paced at a fixed rate
//! (open loop), with every latency recorded.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::Context;
use tokio::task::JoinSet;
use tonic::{
    metadata::{Ascii, MetadataValue},
    transport::{Channel, Endpoint},
    Request,
};
use tonic_health::pb::{health_client::HealthClient, HealthCheckRequest};

use crate::{
    auth::{Identity, JwtVerifier},
    context::AppContext,
    domain::status,
    proto::{integration_service_client::IntegrationServiceClient, GetIntegrationStatusRequest},
};

/// Opens `count` separate HTTP/2 connections to a loopback port.
pub async fn connect(port: u16, count: usize) -> anyhow::Result<Vec<Channel>> {
    let endpoint = Endpoint::from_shared(format!("http://127.0.0.1:{port}"))?
        .tcp_nodelay(true)
        .connect_timeout(Duration::from_secs(5));
    let mut channels = Vec::with_capacity(count);
    for _ in 0..count.max(1) {
        // each `connect` dials its own connection
        channels.push(
            endpoint
                .connect()
                .await
                .context("cannot connect to target")?,
        );
    }
    Ok(channels)
}

/// The call the driver repeats.
#[derive(Clone)]
pub enum Call {
    /// `grpc.health.v1.Health/Check`: the baseline's empty handler.
    HealthCheck,
    /// `IntegrationService/GetIntegrationStatus` with `authorization: Bearer ...`.
    IntegrationStatus {
        /// The header value, prepared once.
        authorization: MetadataValue<Ascii>,
    },
    /// The status domain call, in process: database and domain, no gRPC.
    Overview {
        /// The application's context.
        ctx: Arc<AppContext>,
        /// Who asks.
        identity: Arc<Identity>,
    },
    /// The status query's SQL through sqlx alone, in process: no ORM, no gRPC.
    RawQuery {
        /// The application's pool.
        pool: sea_orm::sqlx::PgPool,
        /// The caller's owner keys.
        owners: Arc<[String]>,
    },
    /// Verifying the bearer token, in process: what the interceptor does.
    VerifyToken {
        /// The application's verifier.
        verifier: Arc<JwtVerifier>,
        /// The token.
        token: Arc<str>,
    },
}

impl Call {
    /// Builds an authenticated status call from a bearer token.
    pub fn integration_status(token: &str) -> anyhow::Result<Self> {
        let authorization = format!("Bearer {token}")
            .parse()
            .context("token is not a valid header value")?;
        Ok(Call::IntegrationStatus { authorization })
    }

    /// A client of this call on one connection.
    pub fn client(&self, channel: Channel) -> Client {
        match self {
            Call::HealthCheck => Client::Health(HealthClient::new(channel)),
            Call::IntegrationStatus { authorization } => Client::Status(
                IntegrationServiceClient::new(channel),
                authorization.clone(),
            ),
            Call::Overview { .. } | Call::RawQuery { .. } | Call::VerifyToken { .. } => {
                Client::Local(self.clone())
            }
        }
    }
}

/// A generated tonic client ready to repeat one call.
pub enum Client {
    /// The baseline's health client.
    Health(HealthClient<Channel>),
    /// The real service's client and its authorization header.
    Status(IntegrationServiceClient<Channel>, MetadataValue<Ascii>),
    /// An in-process call, for the breakdown.
    Local(Call),
}

impl Client {
    /// Makes one call; returns how many rows the answer held (0 for the baseline).
    pub async fn call(&mut self) -> Result<usize, tonic::Status> {
        match self {
            Client::Health(client) => {
                client
                    .check(HealthCheckRequest {
                        service: String::new(),
                    })
                    .await?;
                Ok(0)
            }
            Client::Status(client, authorization) => {
                let mut request = Request::new(GetIntegrationStatusRequest {});
                request
                    .metadata_mut()
                    .insert("authorization", authorization.clone());
                let answer = client.get_integration_status(request).await?.into_inner();
                Ok(answer.linkedin.len() + answer.calendars.len() + answer.ats.len())
            }
            Client::Local(Call::Overview { ctx, identity }) => {
                status::overview(&ctx.db, &ctx.connections, identity)
                    .await
                    .map(|rows| rows.len())
                    .map_err(tonic::Status::from)
            }
            Client::Local(Call::RawQuery { pool, owners }) => sea_orm::sqlx::query(RAW_STATUS_SQL)
                .bind(&owners[..])
                .fetch_all(&*pool)
                .await
                .map(|rows| rows.len())
                .map_err(|err| tonic::Status::internal(err.to_string())),
            Client::Local(Call::VerifyToken { verifier, token }) => {
                let verified = verifier.verify(token).map(|_| 0);
                // let the other tasks run, as a handler awaiting I/O would
                tokio::task::yield_now().await;
                verified.map_err(|err| tonic::Status::unauthenticated(err.to_string()))
            }
            Client::Local(_) => Err(tonic::Status::internal("not an in-process call")),
        }
    }
}

/// The uncached status query at its widest: every column of the caller's rows.
const RAW_STATUS_SQL: &str = "SELECT * FROM oauth_credentials WHERE owner = ANY($1)";

/// How long and how wide one run is.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    /// Calls in flight (closed loop) or pacing tasks (open loop).
    pub concurrency: usize,
    /// Calls made before this are not recorded.
    pub warmup: Duration,
    /// How long calls are recorded.
    pub duration: Duration,
}

/// Whether calls follow answers or a clock.
#[derive(Clone, Copy, Debug)]
pub enum Pace {
    /// Each task sends its next call as soon as the previous one is answered.
    Closed,
    /// Calls start at `rate` per second in total, spread evenly over the tasks.
    Open {
        /// Calls per second.
        rate: f64,
    },
}

/// What one run measured.
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    /// Successful calls in the recorded window.
    pub ok: u64,
    /// Calls answered with a non-OK status in the recorded window.
    pub errors: u64,
    /// The first error, to tell what went wrong.
    pub first_error: Option<String>,
    /// Length of the recorded window.
    pub window: Duration,
    /// Latency of every successful call, in microseconds, sorted.
    pub latencies_us: Vec<u32>,
}

impl Outcome {
    /// Successful calls per second.
    pub fn rps(&self) -> f64 {
        self.ok as f64 / self.window.as_secs_f64().max(f64::EPSILON)
    }

    /// The latency below which `q` (0..=1) of the successful calls fell, in ms.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return f64::NAN;
        }
        let last = self.latencies_us.len() - 1;
        let index = ((last as f64) * q.clamp(0.0, 1.0)).round() as usize;
        f64::from(self.latencies_us[index.min(last)]) / 1000.0
    }

    fn merge(&mut self, other: Outcome) {
        self.ok += other.ok;
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
        self.latencies_us.extend(other.latencies_us);
    }
}

/// Drives `call` over `channels` (task `i` uses channel `i % n`) and returns
/// what the recorded window saw.
pub async fn drive(
    channels: &[Channel],
    call: &Call,
    shape: Shape,
    pace: Pace,
) -> anyhow::Result<Outcome> {
    anyhow::ensure!(!channels.is_empty(), "no connection to drive");
    let concurrency = shape.concurrency.max(1);
    let start = Instant::now() + Duration::from_millis(5);
    let record_from = start + shape.warmup;
    let end = record_from + shape.duration;
    let schedule = match pace {
        Pace::Closed => None,
        Pace::Open { rate } => {
            anyhow::ensure!(rate > 0.0, "open-loop rate must be positive");
            Some((
                Duration::from_secs_f64(concurrency as f64 / rate),
                Duration::from_secs_f64(1.0 / rate),
            ))
        }
    };
    let mut tasks = JoinSet::new();
    for i in 0..concurrency {
        let mut client = call.client(channels[i % channels.len()].clone());
        tasks.spawn(async move {
            let mut tally = Outcome::default();
            let mut sent: u32 = 0;
            loop {
                if let Some((interval, step)) = schedule {
                    // task i sends at start + i*step + k*interval: evenly spread overall
                    let due = start + step * i as u32 + interval * sent;
                    if due >= end {
                        break;
                    }
                    tokio::time::sleep_until(due.into()).await;
                    sent += 1;
                }
                let began = Instant::now();
                if began >= end {
                    break;
                }
                let result = client.call().await;
                if began < record_from {
                    continue;
                }
                match result {
                    Ok(_) => {
                        tally.ok += 1;
                        let micros = began.elapsed().as_micros();
                        tally
                            .latencies_us
                            .push(u32::try_from(micros).unwrap_or(u32::MAX));
                    }
                    Err(status) => {
                        tally.errors += 1;
                        if tally.first_error.is_none() {
                            tally.first_error =
                                Some(format!("{:?}: {}", status.code(), status.message()));
                        }
                    }
                }
            }
            tally
        });
    }
    let mut outcome = Outcome {
        window: shape.duration,
        ..Outcome::default()
    };
    while let Some(joined) = tasks.join_next().await {
        outcome.merge(joined.context("load task panicked")?);
    }
    // calls still in flight at `end` finish a little after it; the window stays nominal
    outcome.latencies_us.sort_unstable();
    Ok(outcome)
}
