//! Serving a sandbox router on a loopback listener, with faults and a request log.
//!
//! The connection loop uses hyper-util's auto (HTTP/1.1 + HTTP/2) builder
//! directly instead of `axum::serve`, because the service in front of the
//! router must be able to fail: when it returns `Err`, hyper closes the
//! connection (HTTP/1.1) or resets the stream (HTTP/2) without any answer,
//! which is how [`Faults::drop_next`] looks to a client.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, Response, StatusCode};
use axum::Router;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};
use tower::ServiceExt;

use super::admin;
use super::after_store::DropConnection;
use super::echo::{echo_response, secrets_of};
use super::faults::{fault_response, FaultAction, Faults};
use super::log::{RecordedRequest, RequestLog};

/// Paths under this prefix are the sandbox's own controls: never faulted, never logged.
pub const ADMIN_PREFIX: &str = "/__sandbox/";

/// Largest request body a sandbox reads (providers' APIs take far less).
const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The error returned to hyper to make it close the connection without answering.
#[derive(Debug, thiserror::Error)]
#[error("sandbox dropped the connection on purpose")]
struct DroppedOnPurpose;

/// A sandbox server not yet started: a router plus its faults and log.
pub struct SandboxServer {
    name: String,
    router: Router,
    faults: Faults,
    log: RequestLog,
    admin: bool,
}

impl SandboxServer {
    /// Wrap `router`, with fresh (all off) faults and an empty log.
    pub fn new(router: Router) -> Self {
        Self {
            name: "sandbox".to_owned(),
            router,
            faults: Faults::new(),
            log: RequestLog::new(),
            admin: false,
        }
    }

    /// Name used in log lines (e.g. `"oauth"`, `"linkedin"`).
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Use these faults (e.g. one shared by several servers) instead of fresh ones.
    pub fn with_faults(mut self, faults: Faults) -> Self {
        self.faults = faults;
        self
    }

    /// Use this log instead of a fresh one.
    pub fn with_log(mut self, log: RequestLog) -> Self {
        self.log = log;
        self
    }

    /// Mount the admin routes (`POST /__sandbox/faults`, `GET /__sandbox/faults`),
    /// so a person can flip this server's switches with curl.
    pub fn with_admin_routes(mut self) -> Self {
        self.admin = true;
        self
    }

    /// Start serving on an already-bound tokio listener. Must run inside a tokio runtime.
    pub fn start(self, listener: TcpListener) -> io::Result<SandboxHandle> {
        let addr = listener.local_addr()?;
        let router = if self.admin {
            self.router.merge(admin::router(self.faults.clone()))
        } else {
            self.router
        };
        let shared = Arc::new(Shared {
            router,
            faults: self.faults.clone(),
            log: self.log.clone(),
        });
        let (stop_tx, stop_rx) = watch::channel(false);
        let task = tokio::spawn(accept_loop(listener, shared, stop_rx));
        tracing::debug!(name = %self.name, %addr, "sandbox server started");
        Ok(SandboxHandle {
            name: self.name,
            addr,
            faults: self.faults,
            log: self.log,
            stop: Some(stop_tx),
            task: Some(task),
        })
    }

    /// Start serving on an already-bound std listener. Must run inside a tokio runtime.
    pub fn start_std(self, listener: std::net::TcpListener) -> io::Result<SandboxHandle> {
        listener.set_nonblocking(true)?;
        self.start(TcpListener::from_std(listener)?)
    }

    /// Bind `addr` (use port 0 for any free port) and start serving.
    pub async fn bind(self, addr: SocketAddr) -> io::Result<SandboxHandle> {
        let listener = TcpListener::bind(addr).await?;
        self.start(listener)
    }
}

/// A running sandbox server. Dropping it stops the server; [`SandboxHandle::shutdown`]
/// stops it and waits until the listener is closed.
pub struct SandboxHandle {
    name: String,
    /// The address the server listens on.
    pub addr: SocketAddr,
    /// The server's fault switches.
    pub faults: Faults,
    /// The server's request log.
    pub log: RequestLog,
    stop: Option<watch::Sender<bool>>,
    task: Option<JoinHandle<()>>,
}

impl SandboxHandle {
    /// `http://IP:PORT`, without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `base_url()` followed by `path` (which should start with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// The name given with [`SandboxServer::named`].
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Stop accepting, abort open connections and wait for the listener to close.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(true);
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        tracing::debug!(name = %self.name, addr = %self.addr, "sandbox server stopped");
    }
}

impl Drop for SandboxHandle {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

impl std::fmt::Debug for SandboxHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxHandle")
            .field("name", &self.name)
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

struct Shared {
    router: Router,
    faults: Faults,
    log: RequestLog,
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    // Connection tasks live in the set, so leaving this function aborts them all.
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    let _ = stream.set_nodelay(true);
                    let shared = shared.clone();
                    conns.spawn(serve_connection(stream, shared));
                }
                Err(error) => {
                    tracing::warn!(%error, "sandbox accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                }
            },
        }
    }
}

async fn serve_connection(stream: tokio::net::TcpStream, shared: Arc<Shared>) {
    let service = hyper::service::service_fn(move |req| handle(shared.clone(), req));
    let builder = auto::Builder::new(TokioExecutor::new());
    if let Err(error) = builder
        .serve_connection(TokioIo::new(stream), service)
        .await
    {
        // Expected when a fault drops the connection or the client goes away.
        tracing::debug!(%error, "sandbox connection ended with an error");
    }
}

/// The middleware in front of the router: read the body, log, apply faults, route.
async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Result<Response<Body>, BoxError> {
    let (parts, body) = req.into_parts();
    let bytes = match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) => {
            if error.is::<http_body_util::LengthLimitError>() {
                let mut resp = Response::new(Body::from("request body too large"));
                *resp.status_mut() = StatusCode::PAYLOAD_TOO_LARGE;
                return Ok(resp);
            }
            return Err(error);
        }
    };

    if !parts.uri.path().starts_with(ADMIN_PREFIX) {
        let decision = shared.faults.decide(parts.uri.path(), parts.uri.query());
        shared.log.push(RecordedRequest::from_parts(
            &parts,
            &bytes,
            decision.action.kind(),
        ));
        if let Some(release) = decision.hold {
            release.wait().await;
        }
        if let Some(latency) = decision.latency {
            tokio::time::sleep(latency).await;
        }
        match decision.action {
            FaultAction::Pass => {}
            FaultAction::Drop => return Err(Box::new(DroppedOnPurpose)),
            FaultAction::Respond {
                kind,
                status,
                retry_after,
            } => return Ok(fault_response(kind, status, retry_after)),
            FaultAction::Echo { status, format } => {
                let secrets = secrets_of(&parts, &bytes);
                shared.faults.record_echoed(&secrets);
                return Ok(echo_response(status, format, &secrets));
            }
        }
    }

    let req = Request::from_parts(parts, Body::from(bytes));
    let resp: Result<Response<Body>, Infallible> = shared.router.clone().oneshot(req).await;
    match resp {
        // A handler asked for the connection to be dropped after its work
        // was done (see `after_store`).
        Ok(resp) if resp.extensions().get::<DropConnection>().is_some() => {
            Err(Box::new(DroppedOnPurpose))
        }
        Ok(resp) => Ok(resp),
        Err(never) => match never {},
    }
}

#[cfg(test)]
mod tests;
