//! A pool of SMTP connections with `TCP_NODELAY` on: lettre's own pool
//! connects without it, and an SMTP client writes a message's body and its
//! terminating `.` as two segments without waiting for an answer in between,
//! so Nagle's algorithm holds the `.` until the server acknowledges the body,
//! which the server delays (delayed ACK, about 40 ms on Linux): every email
//! took that long on a connection, whatever the server. With the option on,
//! the two go out at once.
//!
//! Connections are lettre's [`AsyncSmtpConnection`]s over our own sockets
//! (plain, or upgraded by `STARTTLS`); implicit TLS (`SMTP_TLS=tls`) uses
//! lettre's own connect, which does not set the option. At most `size`
//! sends run at once, in arrival order; an idle connection is reused for a
//! minute, and one that broke is dropped and the send tried once on a new one.

use std::time::{Duration, Instant};

use lettre::{
    address::Envelope,
    transport::smtp::{
        authentication::{Credentials, DEFAULT_MECHANISMS},
        client::{AsyncSmtpConnection, TlsParameters},
        extension::ClientId,
        Error as SmtpError,
    },
};
use parking_lot::Mutex;
use tokio::sync::Semaphore;

use super::email::SmtpTls;

/// Idle connections older than this are closed rather than reused.
const IDLE_FOR: Duration = Duration::from_secs(60);

/// Where and how the pool connects.
pub struct SmtpTarget {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub hello: ClientId,
    pub credentials: Option<Credentials>,
    /// Connect and each command's timeout.
    pub timeout: Duration,
}

/// A bounded pool of connections to one SMTP server.
pub struct SmtpPool {
    target: SmtpTarget,
    tls: Option<TlsParameters>,
    idle: Mutex<Vec<(AsyncSmtpConnection, Instant)>>,
    sends: Semaphore,
}

/// Why a connection could not be opened or a message not sent.
#[derive(Debug)]
pub enum PoolError {
    /// The server's or the connection's error.
    Smtp(SmtpError),
    /// The socket could not be opened.
    Io(std::io::Error),
    /// Connecting or the exchange took longer than the timeout.
    Timeout,
}

impl SmtpPool {
    /// A pool of up to `size` connections; connects lazily.
    pub fn new(target: SmtpTarget, size: u32) -> Result<Self, SmtpError> {
        let tls = match target.tls {
            SmtpTls::None => None,
            SmtpTls::StartTls | SmtpTls::Tls => Some(TlsParameters::new(target.host.clone())?),
        };
        Ok(Self {
            target,
            tls,
            idle: Mutex::new(Vec::new()),
            sends: Semaphore::new(size.max(1) as usize),
        })
    }

    /// Sends one message, waiting for a free connection slot first.
    pub async fn send(&self, envelope: &Envelope, message: &[u8]) -> Result<(), PoolError> {
        let _slot = self.sends.acquire().await.map_err(|_| PoolError::Timeout)?;
        if let Some(mut conn) = self.take_idle() {
            match self.send_on(&mut conn, envelope, message).await {
                Ok(()) => {
                    self.put_back(conn);
                    return Ok(());
                }
                // a server's answer stands; a broken reused connection gets
                // one more try on a new one
                Err(PoolError::Smtp(err)) if err.status().is_some() => {
                    conn.abort().await;
                    return Err(PoolError::Smtp(err));
                }
                Err(_) => conn.abort().await,
            }
        }
        let mut conn = self.connect().await?;
        match self.send_on(&mut conn, envelope, message).await {
            Ok(()) => {
                self.put_back(conn);
                Ok(())
            }
            Err(err) => {
                conn.abort().await;
                Err(err)
            }
        }
    }

    async fn send_on(
        &self,
        conn: &mut AsyncSmtpConnection,
        envelope: &Envelope,
        message: &[u8],
    ) -> Result<(), PoolError> {
        match tokio::time::timeout(self.target.timeout, conn.send(envelope, message)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(err)) => Err(PoolError::Smtp(err)),
            Err(_) => Err(PoolError::Timeout),
        }
    }

    fn take_idle(&self) -> Option<AsyncSmtpConnection> {
        let mut idle = self.idle.lock();
        while let Some((conn, since)) = idle.pop() {
            if since.elapsed() < IDLE_FOR && !conn.has_broken() {
                return Some(conn);
            }
            // dropped: the server sees the socket close
        }
        None
    }

    fn put_back(&self, conn: AsyncSmtpConnection) {
        if !conn.has_broken() {
            self.idle.lock().push((conn, Instant::now()));
        }
    }

    async fn connect(&self) -> Result<AsyncSmtpConnection, PoolError> {
        let target = &self.target;
        let open = async {
            let mut conn = match (&target.tls, &self.tls) {
                (SmtpTls::Tls, Some(tls)) => AsyncSmtpConnection::connect_tokio1(
                    (target.host.as_str(), target.port),
                    Some(target.timeout),
                    &target.hello,
                    Some(tls.clone()),
                    None,
                )
                .await
                .map_err(PoolError::Smtp)?,
                _ => {
                    let stream =
                        tokio::net::TcpStream::connect((target.host.as_str(), target.port))
                            .await
                            .map_err(PoolError::Io)?;
                    // what this pool is for (see the module doc)
                    stream.set_nodelay(true).map_err(PoolError::Io)?;
                    let mut conn = AsyncSmtpConnection::connect_with_transport(
                        Box::new(stream),
                        &target.hello,
                    )
                    .await
                    .map_err(PoolError::Smtp)?;
                    if let (SmtpTls::StartTls, Some(tls)) = (&target.tls, &self.tls) {
                        conn.starttls(tls.clone(), &target.hello)
                            .await
                            .map_err(PoolError::Smtp)?;
                    }
                    conn
                }
            };
            if let Some(credentials) = &target.credentials {
                conn.auth(DEFAULT_MECHANISMS, credentials)
                    .await
                    .map_err(PoolError::Smtp)?;
            }
            Ok::<_, PoolError>(conn)
        };
        tokio::time::timeout(target.timeout, open)
            .await
            .unwrap_or(Err(PoolError::Timeout))
    }
}
