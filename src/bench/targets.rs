//! The two servers under test, in this process: the real application and a
//! bare tonic server whose only handler is `grpc.health.v1.Health/Check`.

use std::{sync::Arc, time::Duration};

use anyhow::Context;
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};
use tonic::transport::server::TcpIncoming;

use crate::{config::Config, context::AppContext, startup::Application};

/// A server running on a loopback port until stopped.
pub struct RunningServer {
    /// The port it listens on.
    pub port: u16,
    stop: oneshot::Sender<()>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl RunningServer {
    /// Asks the server to stop and waits a little for it to drain.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let mut task = self.task;
        match tokio::time::timeout(Duration::from_secs(5), &mut task).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(err))) => tracing::warn!(error = %err, "server under test failed"),
            Ok(Err(err)) => tracing::warn!(error = %err, "server under test panicked"),
            Err(_) => task.abort(),
        }
    }
}

/// Starts the baseline: tonic's own server with the health service and nothing else.
pub async fn start_baseline() -> anyhow::Result<RunningServer> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    let (_reporter, health) = tonic_health::server::health_reporter();
    let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        tonic::transport::Server::builder()
            .add_service(health)
            .serve_with_incoming_shutdown(incoming, async {
                let _ = stopped.await;
            })
            .await
            .context("baseline server failed")
    });
    Ok(RunningServer { port, stop, task })
}

/// Builds and starts the real application (migrating its database first).
pub async fn start_real(config: Config) -> anyhow::Result<(RunningServer, Arc<AppContext>)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let app = Application::build_with_listener(config, listener)
        .await
        .context("cannot build the application")?;
    let port = app.port();
    let ctx = app.context();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        app.run_until_stopped(async {
            let _ = stopped.await;
        })
        .await
        .context("application failed")
    });
    Ok((RunningServer { port, stop, task }, ctx))
}
