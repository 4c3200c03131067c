//! The accept loop: one listener, HTTP/1.1 and HTTP/2 (h2c prior knowledge)
//! on hyper-util's auto builder serving the application's router, with the
//! limits that keep slow and idle clients from starving real ones.
//!
//! - HTTP/1.1 request headers must arrive within the header-read timeout (a
//!   kept-alive connection waiting for its next request's headers too);
//! - a connection with no request in flight and no response streaming for the
//!   idle timeout is closed gracefully (HTTP/2: GOAWAY);
//! - at most `max_connections` are open (clamped below the open-file limit);
//!   at the cap a new connection is still served: the one idle longest is
//!   closed to make room, and only when every one is busy is the new one
//!   refused;
//! - HTTP/2 streams per connection are capped, keep-alive pings find dead peers;
//! - accept errors (out of file descriptors...) back off exponentially;
//! - at shutdown the listener closes and in-flight requests drain.

mod connection;
mod connections;
pub mod limits;

use std::{future::Future, sync::Arc, time::Duration};

use axum::Router;
use hyper_util::{
    rt::{TokioExecutor, TokioTimer},
    server::conn::auto,
};
use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family, gauge::Gauge},
};
use tokio::{
    net::TcpListener,
    sync::{mpsc, watch},
};

use crate::{
    config::Config,
    metrics::{Label, Metrics},
};

pub use self::connections::{Admission, Connections};

/// How long an HTTP/2 keep-alive ping may go unanswered before the peer is
/// taken for dead.
const HTTP2_KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(20);

/// The limits of the accept loop, from the configuration.
#[derive(Clone, Debug)]
pub struct ServeSettings {
    /// Time a client has to send a request's headers (HTTP/1.1).
    pub header_read_timeout: Duration,
    /// A connection with no request in flight this long is closed.
    pub idle_timeout: Duration,
    /// Most open connections (already clamped to the open-file limit).
    pub max_connections: usize,
    /// Most concurrent HTTP/2 streams per connection.
    pub http2_max_concurrent_streams: u32,
    /// Interval of HTTP/2 keep-alive pings, if any.
    pub http2_keepalive_interval: Option<Duration>,
}

impl ServeSettings {
    /// The settings of `config`, raising the open-file limit and clamping the
    /// connection cap below it.
    pub fn from_config(config: &Config) -> Self {
        let server = &config.server;
        Self {
            header_read_timeout: server.header_read_timeout(),
            idle_timeout: server.idle_timeout(),
            max_connections: limits::connection_cap(
                server.max_connections,
                config.database_max_connections,
            ),
            http2_max_concurrent_streams: server.http2_max_concurrent_streams.max(1),
            http2_keepalive_interval: server.http2_keepalive_interval(),
        }
    }

    fn builder(&self) -> auto::Builder<TokioExecutor> {
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(self.header_read_timeout);
        builder
            .http2()
            .timer(TokioTimer::new())
            .max_concurrent_streams(self.http2_max_concurrent_streams)
            .keep_alive_interval(self.http2_keepalive_interval)
            .keep_alive_timeout(HTTP2_KEEPALIVE_TIMEOUT);
        builder
    }
}

/// Serves `router` on `listener` until `shutdown` completes, then stops
/// accepting and waits for open connections to finish what is in flight.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    settings: ServeSettings,
    metrics: &Metrics,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let meters = ConnectionMetrics::new(metrics);
    let builder = Arc::new(settings.builder());
    let table = Connections::new(settings.max_connections);
    let (stop_tx, stop_rx) = watch::channel(false);
    // every connection task holds a sender; all dropped = all finished
    let (done_tx, mut done_rx) = mpsc::channel::<()>(1);
    let mut backoff = AcceptBackoff::default();
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        let stream = match accepted {
            Ok((stream, _peer)) => {
                backoff.reset();
                stream
            }
            Err(err) if is_per_connection(&err) => continue,
            Err(err) => {
                let delay = backoff.next_delay();
                if is_out_of_descriptors(&err) && table.evict_idlest() {
                    meters.shed("evicted");
                }
                tracing::warn!(error = %err, delay_ms = delay.as_millis() as u64, "accept failed; backing off");
                tokio::select! {
                    () = &mut shutdown => break,
                    () = tokio::time::sleep(delay) => continue,
                }
            }
        };
        let conn = match table.admit() {
            (Admission::Admitted(conn), evicted) => {
                if evicted {
                    meters.shed("evicted");
                }
                conn
            }
            (Admission::Refused, _) => {
                meters.shed("refused");
                tracing::debug!(
                    max_connections = settings.max_connections,
                    "every connection is busy; new connection refused"
                );
                drop(stream);
                continue;
            }
        };
        meters.open.set(table.len() as i64);
        if let Err(err) = stream.set_nodelay(true) {
            tracing::debug!(error = %err, "could not set tcp nodelay");
        }
        let serving = connection::Serving {
            builder: builder.clone(),
            router: router.clone(),
            conn: conn.clone(),
            idle_timeout: settings.idle_timeout,
            shutdown: stop_rx.clone(),
        };
        let table = table.clone();
        let open = meters.open.clone();
        let done = done_tx.clone();
        tokio::spawn(async move {
            connection::serve(stream, serving).await;
            table.remove(&conn);
            open.set(table.len() as i64);
            drop(done);
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    drop(done_tx);
    let _ = done_rx.recv().await;
    Ok(())
}

/// Labels of a connection closed or refused to make room.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ShedLabels {
    /// `evicted` (an idle one closed for a new one) or `refused` (all busy).
    reason: Label,
}

/// Connection gauges and counters in `/metrics`.
struct ConnectionMetrics {
    open: Gauge,
    shed: Family<ShedLabels, Counter>,
}

impl ConnectionMetrics {
    fn new(metrics: &Metrics) -> Self {
        let this = Self {
            open: Gauge::default(),
            shed: Family::default(),
        };
        metrics.with_registry(|registry| {
            registry.register(
                "connections_open",
                "Open client connections",
                this.open.clone(),
            );
            registry.register(
                "connections_shed",
                "Connections closed (evicted) or refused to stay under the connection cap",
                this.shed.clone(),
            );
        });
        this
    }

    fn shed(&self, reason: &'static str) {
        self.shed
            .get_or_create(&ShedLabels {
                reason: reason.into(),
            })
            .inc();
    }
}

/// Errors of one incoming connection, not of the listener: accept again now.
fn is_per_connection(err: &std::io::Error) -> bool {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset, Interrupted};
    matches!(
        err.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset | Interrupted
    )
}

/// EMFILE (the process) or ENFILE (the system) is out of file descriptors.
fn is_out_of_descriptors(err: &std::io::Error) -> bool {
    const ENFILE: i32 = 23;
    const EMFILE: i32 = 24;
    matches!(err.raw_os_error(), Some(ENFILE | EMFILE))
}

/// Exponential backoff between failed accepts: 5 ms doubling to 1 s.
#[derive(Debug, Default)]
struct AcceptBackoff {
    failures: u32,
}

impl AcceptBackoff {
    const FIRST: Duration = Duration::from_millis(5);
    const MAX: Duration = Duration::from_secs(1);

    fn next_delay(&mut self) -> Duration {
        let delay = Self::FIRST
            .saturating_mul(2u32.saturating_pow(self.failures))
            .min(Self::MAX);
        self.failures = self.failures.saturating_add(1);
        delay
    }

    fn reset(&mut self) {
        self.failures = 0;
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{is_out_of_descriptors, AcceptBackoff};

    #[test]
    fn accept_backoff_doubles_from_5ms_to_1s_and_resets() {
        let mut backoff = AcceptBackoff::default();
        let delays: Vec<u64> = (0..10)
            .map(|_| backoff.next_delay().as_millis() as u64)
            .collect();
        assert_eq!(delays, [5, 10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
        for _ in 0..100 {
            backoff.next_delay();
        }
        assert_eq!(backoff.next_delay(), Duration::from_secs(1));
        backoff.reset();
        assert_eq!(backoff.next_delay(), Duration::from_millis(5));
    }

    #[test]
    fn emfile_and_enfile_are_out_of_descriptors() {
        assert!(is_out_of_descriptors(&std::io::Error::from_raw_os_error(
            24
        )));
        assert!(is_out_of_descriptors(&std::io::Error::from_raw_os_error(
            23
        )));
        assert!(!is_out_of_descriptors(&std::io::Error::from_raw_os_error(
            104
        )));
    }
}
