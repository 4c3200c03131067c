//! Serving one client connection: HTTP/1.1 or HTTP/2 (prior knowledge), closed
//! gracefully when idle too long, when the accept loop needs its slot, or at
//! shutdown (which drains what is in flight).

use std::{
    convert::Infallible,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Duration,
};

use axum::{body::Body, Router};
use bytes::Bytes;
use http_body::{Frame, SizeHint};
use hyper::{body::Incoming, service::service_fn, Request};
use hyper_util::{
    rt::{TokioExecutor, TokioIo},
    server::conn::auto,
};
use tokio::{net::TcpStream, sync::watch, time::Sleep};
use tower::ServiceExt;

use super::connections::{Busy, Connection};

/// How long a connection asked to close (idle or evicted) may take to finish
/// before it is dropped; renewed while a request is still in flight.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// Shortest wait between two idle checks of one connection.
const MIN_IDLE_CHECK: Duration = Duration::from_millis(10);

/// What one connection's task needs.
pub struct Serving {
    /// The protocol settings shared by every connection.
    pub builder: Arc<auto::Builder<TokioExecutor>>,
    /// The application.
    pub router: Router,
    /// Its entry in the table of open connections.
    pub conn: Arc<Connection>,
    /// A connection with no request in flight this long is closed.
    pub idle_timeout: Duration,
    /// Becomes `true` at shutdown.
    pub shutdown: watch::Receiver<bool>,
}

/// Serves `stream` until the client closes it or it is closed for one of the
/// reasons above.
pub async fn serve(stream: TcpStream, serving: Serving) {
    let Serving {
        builder,
        router,
        conn,
        idle_timeout,
        mut shutdown,
    } = serving;
    let tracked = conn.clone();
    let service = service_fn(move |request: Request<Incoming>| {
        let busy = tracked.busy();
        let router = router.clone();
        async move {
            let response = match router.oneshot(request).await {
                Ok(response) => response,
                Err(never) => match never {},
            };
            Ok::<_, Infallible>(response.map(|inner| TrackedBody { inner, _busy: busy }))
        }
    });
    let connection = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);

    let mut draining = *shutdown.borrow();
    if draining {
        connection.as_mut().graceful_shutdown();
    }
    let mut closing: Option<Pin<Box<Sleep>>> = None;
    loop {
        let idle_check = tokio::time::sleep(
            idle_timeout
                .saturating_sub(conn.idle_for())
                .max(MIN_IDLE_CHECK),
        );
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(err) = result {
                    tracing::debug!(error = %err, "connection ended with an error");
                }
                break;
            }
            changed = shutdown.changed(), if !draining => {
                draining = true;
                if changed.is_ok() || *shutdown.borrow() {
                    // drain: no deadline, as before
                    connection.as_mut().graceful_shutdown();
                }
            }
            () = conn.close_requested(), if closing.is_none() && !draining => {
                tracing::debug!("closing a connection to make room");
                connection.as_mut().graceful_shutdown();
                closing = Some(Box::pin(tokio::time::sleep(CLOSE_GRACE)));
            }
            () = idle_check, if closing.is_none() && !draining => {
                if !conn.is_busy() && conn.idle_for() >= idle_timeout {
                    tracing::debug!(idle_ms = conn.idle_for().as_millis() as u64, "closing an idle connection");
                    connection.as_mut().graceful_shutdown();
                    closing = Some(Box::pin(tokio::time::sleep(CLOSE_GRACE)));
                }
            }
            () = async {
                match closing.as_mut() {
                    Some(deadline) => deadline.await,
                    None => std::future::pending().await,
                }
            }, if closing.is_some() => {
                if conn.is_busy() {
                    closing = Some(Box::pin(tokio::time::sleep(CLOSE_GRACE)));
                } else {
                    tracing::debug!("connection did not close in time; dropped");
                    break;
                }
            }
        }
    }
}

/// A response body that keeps its connection busy until it is done.
struct TrackedBody {
    inner: Body,
    _busy: Busy,
}

impl http_body::Body for TrackedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
