//! Resident memory of an idle server: this binary's `serve` in a child process.

use std::{process::Stdio, time::Duration};

use anyhow::{bail, Context};
use secrecy::{ExposeSecret, SecretString};
use tokio::{process::Command, time::Instant};

/// What the child server runs with.
pub struct IdleServer<'a> {
    /// Its database (already migrated).
    pub database_url: &'a str,
    /// Its HS256 secret.
    pub jwt_secret: &'a SecretString,
    /// Its keyring specification.
    pub encryption_keys: &'a SecretString,
    /// How long it idles after becoming ready before it is measured.
    pub settle: Duration,
}

/// Starts `serve`, waits for `/readyz`, lets it settle and returns its `VmRSS` in MiB.
pub async fn measure(server: IdleServer<'_>) -> anyhow::Result<f64> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let exe = std::env::current_exe().context("cannot find this executable")?;
    let mut child = Command::new(exe)
        .arg("serve")
        .env("APP_ENV", "production")
        .env("LISTEN_ADDR", format!("127.0.0.1:{port}"))
        .env("DATABASE_URL", server.database_url)
        .env("JWT_SECRET", server.jwt_secret.expose_secret())
        .env("ENCRYPTION_KEYS", server.encryption_keys.expose_secret())
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .context("cannot start the idle server")?;
    let pid = child.id().context("idle server exited at once")?;

    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()?;
    let url = format!("http://127.0.0.1:{port}/readyz");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait()? {
            bail!("idle server exited before it was ready: {status}");
        }
        let ready = http
            .get(&url)
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if ready {
            break;
        }
        if Instant::now() > deadline {
            bail!("idle server not ready after 30 s");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(http);
    tokio::time::sleep(server.settle).await;
    let rss = vm_rss_mib(pid);
    child.start_kill()?;
    child.wait().await?;
    rss
}

fn vm_rss_mib(pid: u32) -> anyhow::Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .context("cannot read the idle server's /proc status")?;
    let kib: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .context("no VmRSS in /proc status")?;
    Ok(kib / 1024.0)
}
