//! [`SmtpSink`]: a small real SMTP server on loopback (RFC 5321) that keeps
//! every message it accepts, for tests and benches of the email channel.
//!
//! Enough of the protocol for lettre's client: greeting, `EHLO`/`HELO`
//! (advertising `8BITMIME`, `SIZE`, `PIPELINING`, `SMTPUTF8` and, when
//! credentials are configured, `AUTH PLAIN LOGIN`), `AUTH PLAIN` / `AUTH
//! LOGIN`, `MAIL FROM`, `RCPT TO`, `DATA` with dot-unstuffing, `RSET`,
//! `NOOP`, `VRFY` (252), `QUIT`. **No TLS**: `STARTTLS` is not offered, so a
//! client must be configured for plain SMTP (lettre:
//! `builder_dangerous(host).port(port)`). Limits: message size (552),
//! line length (500 and close), recipients per message (452), idle time
//! per connection (421 and close), concurrent connections (421 at connect).
//!
//! Faults: [`SmtpSink::fail_next_data`] answers the next N messages with
//! `451 4.3.0` after their data was received (not stored);
//! [`SmtpSink::drop_next_data`] closes the connection instead of answering
//! the final dot (not stored); [`SmtpSink::drop_next_connections`] closes the
//! next N connections before the greeting.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use parking_lot::Mutex;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify, Semaphore};
use tokio::task::JoinHandle;

/// How an [`SmtpSink`] behaves.
#[derive(Clone)]
pub struct SmtpSinkConfig {
    /// Name in the greeting and EHLO answer (default `sandbox.smtp.local`).
    pub hostname: String,
    /// `Some((user, password))`: AUTH is offered and required before MAIL.
    pub credentials: Option<(String, String)>,
    /// Largest message in bytes, advertised as `SIZE` (default 10 MiB).
    pub max_message_bytes: usize,
    /// Longest command or text line, CRLF included (default 1000, RFC 5321 §4.5.3.1).
    pub max_line_bytes: usize,
    /// Most recipients per message (default 100).
    pub max_recipients: usize,
    /// A connection idle this long is closed with 421 (default 60 s).
    pub idle_timeout: Duration,
    /// Most concurrent connections; more are answered 421 (default 256).
    pub max_connections: usize,
}

impl Default for SmtpSinkConfig {
    fn default() -> Self {
        Self {
            hostname: "sandbox.smtp.local".to_owned(),
            credentials: None,
            max_message_bytes: 10 * 1024 * 1024,
            max_line_bytes: 1000,
            max_recipients: 100,
            idle_timeout: Duration::from_secs(60),
            max_connections: 256,
        }
    }
}

impl std::fmt::Debug for SmtpSinkConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSinkConfig")
            .field("hostname", &self.hostname)
            .field("auth", &self.credentials.is_some())
            .field("max_message_bytes", &self.max_message_bytes)
            .field("max_line_bytes", &self.max_line_bytes)
            .field("idle_timeout", &self.idle_timeout)
            .field("max_connections", &self.max_connections)
            .finish()
    }
}

/// One accepted message.
#[derive(Clone)]
pub struct ReceivedMail {
    /// The `MAIL FROM` reverse path (without angle brackets; empty for `<>`).
    pub from: String,
    /// The `RCPT TO` forward paths.
    pub to: Vec<String>,
    /// The message as received, dot-unstuffed, CRLF line ends kept.
    pub raw: Vec<u8>,
    /// Header fields in order (unfolded), names as written.
    pub headers: Vec<(String, String)>,
    /// The AUTH user of the session, if any.
    pub auth_user: Option<String>,
    /// When the final dot arrived.
    pub received_at: SystemTime,
}

impl ReceivedMail {
    /// The first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// `Message-ID`.
    pub fn message_id(&self) -> Option<&str> {
        self.header("Message-ID")
    }

    /// `Subject` (as written, not MIME-decoded).
    pub fn subject(&self) -> Option<&str> {
        self.header("Subject")
    }

    /// The body after the header block, as text (lossy).
    pub fn body_text(&self) -> String {
        let raw = String::from_utf8_lossy(&self.raw);
        raw.split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default()
    }
}

impl std::fmt::Debug for ReceivedMail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReceivedMail")
            .field("from", &self.from)
            .field("to", &self.to)
            .field("bytes", &self.raw.len())
            .field("message_id", &self.message_id())
            .finish_non_exhaustive()
    }
}

#[derive(Default)]
struct Faults {
    fail_data: u32,
    drop_data: u32,
    drop_connections: u32,
}

struct Shared {
    config: SmtpSinkConfig,
    messages: Mutex<Vec<ReceivedMail>>,
    faults: Mutex<Faults>,
    arrived: Notify,
    slots: Arc<Semaphore>,
}

/// A running SMTP sink. Dropping it stops the server.
pub struct SmtpSink {
    /// The address it listens on.
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<watch::Sender<bool>>,
    task: Option<JoinHandle<()>>,
}

impl SmtpSink {
    /// Start serving on an already-bound listener (inside a tokio runtime).
    pub fn start(config: SmtpSinkConfig, listener: TcpListener) -> io::Result<SmtpSink> {
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            slots: Arc::new(Semaphore::new(config.max_connections.max(1))),
            config,
            messages: Mutex::new(Vec::new()),
            faults: Mutex::new(Faults::default()),
            arrived: Notify::new(),
        });
        let (stop_tx, stop_rx) = watch::channel(false);
        let task = tokio::spawn(accept_loop(listener, shared.clone(), stop_rx));
        Ok(SmtpSink {
            addr,
            shared,
            stop: Some(stop_tx),
            task: Some(task),
        })
    }

    /// Bind `addr` (port 0 for any) and start.
    pub async fn bind(config: SmtpSinkConfig, addr: SocketAddr) -> io::Result<SmtpSink> {
        Self::start(config, TcpListener::bind(addr).await?)
    }

    /// `smtp://IP:PORT`.
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    /// A copy of every accepted message, in arrival order.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        self.shared.messages.lock().clone()
    }

    /// How many messages were accepted.
    pub fn count(&self) -> usize {
        self.shared.messages.lock().len()
    }

    /// Forget every accepted message.
    pub fn clear(&self) {
        self.shared.messages.lock().clear();
    }

    /// Wait until at least `n` messages were accepted; false on timeout.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.shared.arrived.notified();
            if self.count() >= n {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.count() >= n;
            }
        }
    }

    /// Answer the next `n` messages `451 4.3.0` after their data (not stored).
    pub fn fail_next_data(&self, n: u32) {
        self.shared.faults.lock().fail_data = n;
    }

    /// Close the connection at the final dot of the next `n` messages (not stored).
    pub fn drop_next_data(&self, n: u32) {
        self.shared.faults.lock().drop_data = n;
    }

    /// Close the next `n` connections right after accepting them.
    pub fn drop_next_connections(&self, n: u32) {
        self.shared.faults.lock().drop_connections = n;
    }

    /// Stop accepting, close open sessions, wait for the listener to close.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(true);
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

impl std::fmt::Debug for SmtpSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSink")
            .field("addr", &self.addr)
            .field("count", &self.count())
            .finish_non_exhaustive()
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let mut conns = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((mut stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    {
                        let mut f = shared.faults.lock();
                        if f.drop_connections > 0 {
                            f.drop_connections -= 1;
                            drop(stream);
                            continue;
                        }
                    }
                    let Ok(permit) = shared.slots.clone().try_acquire_owned() else {
                        conns.spawn(async move {
                            let _ = stream.write_all(b"421 4.3.2 Too many connections, try again later\r\n").await;
                        });
                        continue;
                    };
                    let shared = shared.clone();
                    conns.spawn(async move {
                        if let Err(error) = session(stream, &shared).await {
                            tracing::debug!(%error, "smtp sink session ended with an error");
                        }
                        drop(permit);
                    });
                }
                Err(error) => {
                    tracing::warn!(%error, "smtp sink accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            },
        }
    }
}

enum Line {
    Text(Vec<u8>),
    TooLong,
    Eof,
    Idle,
}

/// Read one line (CRLF or LF terminated), at most `max` bytes.
async fn read_line(
    reader: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
    max: usize,
    idle: Duration,
) -> io::Result<Line> {
    let mut buf = Vec::new();
    loop {
        let chunk = match tokio::time::timeout(idle, reader.fill_buf()).await {
            Err(_) => return Ok(Line::Idle),
            Ok(r) => r?,
        };
        if chunk.is_empty() {
            return Ok(if buf.is_empty() {
                Line::Eof
            } else {
                Line::Text(buf)
            });
        }
        let (take, done) = match chunk.iter().position(|b| *b == b'\n') {
            Some(i) => (i + 1, true),
            None => (chunk.len(), false),
        };
        buf.extend_from_slice(&chunk[..take]);
        reader.consume(take);
        if buf.len() > max {
            return Ok(Line::TooLong);
        }
        if done {
            return Ok(Line::Text(buf));
        }
    }
}

fn strip_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// `<addr>` of `MAIL FROM:<addr> params` / `RCPT TO:<addr>`, and the rest.
fn path_arg(rest: &str) -> Option<(String, &str)> {
    let rest = rest.trim_start();
    let open = rest.strip_prefix('<')?;
    let close = open.find('>')?;
    Some((open[..close].to_owned(), &open[close + 1..]))
}

fn parse_headers(raw: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(raw);
    let head = text.split("\r\n\r\n").next().unwrap_or("");
    let mut out: Vec<(String, String)> = Vec::new();
    for line in head.split("\r\n") {
        if line.starts_with(' ') || line.starts_with('\t') {
            if let Some(last) = out.last_mut() {
                last.1.push(' ');
                last.1.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            out.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    out
}

fn check_plain(decoded: &[u8], creds: &(String, String)) -> Option<String> {
    // authzid \0 authcid \0 passwd
    let mut parts = decoded.split(|b| *b == 0);
    let _authz = parts.next()?;
    let user = std::str::from_utf8(parts.next()?).ok()?;
    let pass = std::str::from_utf8(parts.next()?).ok()?;
    (user == creds.0 && pass == creds.1).then(|| user.to_owned())
}

async fn session(stream: TcpStream, shared: &Shared) -> io::Result<()> {
    let cfg = &shared.config;
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::with_capacity(16 * 1024, read);
    write
        .write_all(format!("220 {} ESMTP nextke-sandbox ready\r\n", cfg.hostname).as_bytes())
        .await?;
    let mut greeted = false;
    let mut auth_user: Option<String> = None;
    let mut from: Option<String> = None;
    let mut to: Vec<String> = Vec::new();
    macro_rules! reply {
        ($s:expr) => {
            write.write_all($s.as_bytes()).await?
        };
    }
    // Read one more line for an AUTH exchange; None ends the session.
    macro_rules! next_line {
        () => {
            match read_line(&mut reader, cfg.max_line_bytes, cfg.idle_timeout).await? {
                Line::Text(l) => l,
                Line::Idle => {
                    reply!("421 4.4.2 Idle timeout, closing connection\r\n");
                    return Ok(());
                }
                Line::TooLong => {
                    reply!("500 5.5.6 Line too long\r\n");
                    return Ok(());
                }
                Line::Eof => return Ok(()),
            }
        };
    }
    loop {
        let line = next_line!();
        let line = String::from_utf8_lossy(strip_eol(&line)).into_owned();
        let (verb, rest) = line.split_once(' ').unwrap_or((line.as_str(), ""));
        match verb.to_ascii_uppercase().as_str() {
            "EHLO" => {
                greeted = true;
                from = None;
                to.clear();
                let mut ans = format!("250-{} greets {}\r\n", cfg.hostname, rest.trim());
                ans.push_str("250-8BITMIME\r\n250-PIPELINING\r\n250-SMTPUTF8\r\n");
                if cfg.credentials.is_some() {
                    ans.push_str("250-AUTH PLAIN LOGIN\r\n");
                }
                ans.push_str(&format!("250 SIZE {}\r\n", cfg.max_message_bytes));
                reply!(ans);
            }
            "HELO" => {
                greeted = true;
                from = None;
                to.clear();
                reply!(format!("250 {}\r\n", cfg.hostname));
            }
            "AUTH" => {
                let Some(creds) = &cfg.credentials else {
                    reply!("502 5.5.1 AUTH not available\r\n");
                    continue;
                };
                if auth_user.is_some() {
                    reply!("503 5.5.1 Already authenticated\r\n");
                    continue;
                }
                let (mech, initial) = rest.split_once(' ').unwrap_or((rest, ""));
                let ok = match mech.to_ascii_uppercase().as_str() {
                    "PLAIN" => {
                        let encoded = if initial.is_empty() {
                            reply!("334 \r\n");
                            let l = next_line!();
                            String::from_utf8_lossy(strip_eol(&l)).into_owned()
                        } else {
                            initial.to_owned()
                        };
                        STANDARD
                            .decode(encoded.trim())
                            .ok()
                            .and_then(|d| check_plain(&d, creds))
                    }
                    "LOGIN" => {
                        let user = if initial.is_empty() {
                            reply!("334 VXNlcm5hbWU6\r\n");
                            let l = next_line!();
                            String::from_utf8_lossy(strip_eol(&l)).into_owned()
                        } else {
                            initial.to_owned()
                        };
                        reply!("334 UGFzc3dvcmQ6\r\n");
                        let l = next_line!();
                        let pass = String::from_utf8_lossy(strip_eol(&l)).into_owned();
                        let dec = |s: &str| {
                            STANDARD
                                .decode(s.trim())
                                .ok()
                                .and_then(|d| String::from_utf8(d).ok())
                        };
                        match (dec(&user), dec(&pass)) {
                            (Some(u), Some(p)) if u == creds.0 && p == creds.1 => Some(u),
                            _ => None,
                        }
                    }
                    _ => {
                        reply!("504 5.5.4 Unrecognized authentication type\r\n");
                        continue;
                    }
                };
                match ok {
                    Some(user) => {
                        auth_user = Some(user);
                        reply!("235 2.7.0 Authentication successful\r\n");
                    }
                    None => reply!("535 5.7.8 Authentication credentials invalid\r\n"),
                }
            }
            "MAIL" => {
                if !greeted {
                    reply!("503 5.5.1 Send EHLO first\r\n");
                    continue;
                }
                if cfg.credentials.is_some() && auth_user.is_none() {
                    reply!("530 5.7.0 Authentication required\r\n");
                    continue;
                }
                let Some(arg) = rest
                    .get(..5)
                    .filter(|p| p.eq_ignore_ascii_case("FROM:"))
                    .and_then(|_| path_arg(&rest[5..]))
                else {
                    reply!("501 5.5.4 Syntax: MAIL FROM:<address>\r\n");
                    continue;
                };
                let size = arg.1.split_whitespace().find_map(|p| {
                    p.get(..5)
                        .filter(|k| k.eq_ignore_ascii_case("SIZE="))
                        .and_then(|_| p[5..].parse::<usize>().ok())
                });
                if size.is_some_and(|s| s > cfg.max_message_bytes) {
                    reply!("552 5.3.4 Message size exceeds fixed limit\r\n");
                    continue;
                }
                from = Some(arg.0);
                to.clear();
                reply!("250 2.1.0 OK\r\n");
            }
            "RCPT" => {
                if from.is_none() {
                    reply!("503 5.5.1 Need MAIL before RCPT\r\n");
                    continue;
                }
                let Some((addr, _)) = rest
                    .get(..3)
                    .filter(|p| p.eq_ignore_ascii_case("TO:"))
                    .and_then(|_| path_arg(&rest[3..]))
                else {
                    reply!("501 5.5.4 Syntax: RCPT TO:<address>\r\n");
                    continue;
                };
                if to.len() >= cfg.max_recipients {
                    reply!("452 4.5.3 Too many recipients\r\n");
                    continue;
                }
                to.push(addr);
                reply!("250 2.1.5 OK\r\n");
            }
            "DATA" => {
                if to.is_empty() {
                    reply!("503 5.5.1 Need RCPT before DATA\r\n");
                    continue;
                }
                reply!("354 End data with <CR><LF>.<CR><LF>\r\n");
                let mut raw: Vec<u8> = Vec::new();
                let mut too_big = false;
                loop {
                    let l = next_line!();
                    let content = strip_eol(&l);
                    if content == b"." {
                        break;
                    }
                    // Dot-unstuffing (RFC 5321 §4.5.2).
                    let content = content.strip_prefix(b".").unwrap_or(content);
                    if raw.len() + content.len() + 2 > cfg.max_message_bytes {
                        too_big = true;
                        continue;
                    }
                    raw.extend_from_slice(content);
                    raw.extend_from_slice(b"\r\n");
                }
                let mail_from = from.take().unwrap_or_default();
                let rcpts = std::mem::take(&mut to);
                if too_big {
                    reply!("552 5.3.4 Message size exceeds fixed limit\r\n");
                    continue;
                }
                let (fail, drop_conn) = {
                    let mut f = shared.faults.lock();
                    if f.drop_data > 0 {
                        f.drop_data -= 1;
                        (false, true)
                    } else if f.fail_data > 0 {
                        f.fail_data -= 1;
                        (true, false)
                    } else {
                        (false, false)
                    }
                };
                if drop_conn {
                    return Ok(());
                }
                if fail {
                    reply!("451 4.3.0 Temporary failure, try again later\r\n");
                    continue;
                }
                let mail = ReceivedMail {
                    from: mail_from,
                    to: rcpts,
                    headers: parse_headers(&raw),
                    raw,
                    auth_user: auth_user.clone(),
                    received_at: SystemTime::now(),
                };
                let n = {
                    let mut msgs = shared.messages.lock();
                    msgs.push(mail);
                    msgs.len()
                };
                shared.arrived.notify_waiters();
                reply!(format!("250 2.0.0 OK queued as sandbox-{n}\r\n"));
            }
            "RSET" => {
                from = None;
                to.clear();
                reply!("250 2.0.0 OK\r\n");
            }
            "NOOP" => reply!("250 2.0.0 OK\r\n"),
            "VRFY" => reply!("252 2.1.5 Cannot VRFY user\r\n"),
            "QUIT" => {
                reply!("221 2.0.0 Bye\r\n");
                return Ok(());
            }
            "STARTTLS" => reply!("502 5.5.1 TLS not available\r\n"),
            _ => reply!("500 5.5.2 Command unrecognized\r\n"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    struct Client {
        reader: BufReader<tokio::net::tcp::OwnedReadHalf>,
        write: tokio::net::tcp::OwnedWriteHalf,
    }

    impl Client {
        async fn connect(addr: SocketAddr) -> Client {
            let (r, w) = TcpStream::connect(addr).await.unwrap().into_split();
            let mut c = Client {
                reader: BufReader::new(r),
                write: w,
            };
            assert!(c.reply().await.starts_with("220 "));
            c
        }

        /// A full (possibly multi-line) reply.
        async fn reply(&mut self) -> String {
            let mut all = String::new();
            loop {
                let mut line = String::new();
                self.reader.read_line(&mut line).await.unwrap();
                all.push_str(&line);
                if line.len() < 4 || line.as_bytes()[3] != b'-' {
                    return all;
                }
            }
        }

        async fn cmd(&mut self, line: &str) -> String {
            self.write.write_all(line.as_bytes()).await.unwrap();
            self.write.write_all(b"\r\n").await.unwrap();
            self.reply().await
        }

        async fn send(&mut self, from: &str, to: &str, body: &str) -> String {
            assert!(self
                .cmd(&format!("MAIL FROM:<{from}> BODY=8BITMIME"))
                .await
                .starts_with("250"));
            assert!(self
                .cmd(&format!("RCPT TO:<{to}>"))
                .await
                .starts_with("250"));
            assert!(self.cmd("DATA").await.starts_with("354"));
            self.write.write_all(body.as_bytes()).await.unwrap();
            self.cmd(".").await
        }
    }

    async fn sink(config: SmtpSinkConfig) -> SmtpSink {
        SmtpSink::bind(config, "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap()
    }

    const MAIL: &str = "Message-ID: <m1@nextke>\r\nSubject: Interview\r\n tomorrow\r\nFrom: a@x\r\n\r\nHello\r\n..dot line\r\n";

    #[tokio::test]
    async fn two_messages_over_one_connection_with_auth() {
        let s = sink(SmtpSinkConfig {
            credentials: Some(("user".into(), "pass".into())),
            ..SmtpSinkConfig::default()
        })
        .await;
        let mut c = Client::connect(s.addr).await;
        let ehlo = c.cmd("EHLO client.local").await;
        assert!(
            ehlo.contains("250-8BITMIME")
                && ehlo.contains("AUTH PLAIN LOGIN")
                && ehlo.contains("250 SIZE"),
            "{ehlo}"
        );
        assert!(c.cmd("MAIL FROM:<a@x>").await.starts_with("530"));
        let bad = STANDARD.encode(b"\0user\0nope");
        assert!(c.cmd(&format!("AUTH PLAIN {bad}")).await.starts_with("535"));
        let good = STANDARD.encode(b"\0user\0pass");
        assert!(c
            .cmd(&format!("AUTH PLAIN {good}"))
            .await
            .starts_with("235"));
        assert!(c.send("a@x", "b@y", MAIL).await.starts_with("250"));
        assert!(c.cmd("RSET").await.starts_with("250"));
        assert!(c.cmd("NOOP").await.starts_with("250"));
        assert!(c
            .send("a@x", "c@y", "Message-ID: <m2@nextke>\r\n\r\nSecond\r\n")
            .await
            .starts_with("250"));
        assert!(c.cmd("QUIT").await.starts_with("221"));
        assert!(s.wait_for(2, Duration::from_secs(2)).await);
        let msgs = s.messages();
        assert_eq!(msgs.len(), 2);
        assert_eq!(msgs[0].from, "a@x");
        assert_eq!(msgs[0].to, vec!["b@y"]);
        assert_eq!(msgs[0].message_id(), Some("<m1@nextke>"));
        assert_eq!(msgs[0].subject(), Some("Interview tomorrow"));
        assert_eq!(msgs[0].body_text(), "Hello\r\n.dot line\r\n");
        assert_eq!(msgs[0].auth_user.as_deref(), Some("user"));
        assert_eq!(msgs[1].to, vec!["c@y"]);
    }

    #[tokio::test]
    async fn auth_login_works() {
        let s = sink(SmtpSinkConfig {
            credentials: Some(("user".into(), "pass".into())),
            ..SmtpSinkConfig::default()
        })
        .await;
        let mut c = Client::connect(s.addr).await;
        c.cmd("EHLO c").await;
        assert!(c.cmd("AUTH LOGIN").await.starts_with("334 VXNlcm5hbWU6"));
        assert!(c
            .cmd(&STANDARD.encode("user"))
            .await
            .starts_with("334 UGFzc3dvcmQ6"));
        assert!(c.cmd(&STANDARD.encode("pass")).await.starts_with("235"));
    }

    #[tokio::test]
    async fn fault_451_then_success_and_dropped_data() {
        let s = sink(SmtpSinkConfig::default()).await;
        s.fail_next_data(1);
        let mut c = Client::connect(s.addr).await;
        c.cmd("EHLO c").await;
        assert!(c.send("a@x", "b@y", MAIL).await.starts_with("451"));
        assert_eq!(s.count(), 0);
        assert!(c.send("a@x", "b@y", MAIL).await.starts_with("250"));
        assert_eq!(s.count(), 1);

        s.drop_next_data(1);
        assert!(c.cmd("MAIL FROM:<a@x>").await.starts_with("250"));
        assert!(c.cmd("RCPT TO:<b@y>").await.starts_with("250"));
        assert!(c.cmd("DATA").await.starts_with("354"));
        c.write
            .write_all(b"Subject: x\r\n\r\nbody\r\n.\r\n")
            .await
            .unwrap();
        let mut rest = Vec::new();
        let n = c.reader.read_to_end(&mut rest).await.unwrap();
        assert_eq!(n, 0, "closed without an answer");
        assert_eq!(s.count(), 1);

        s.drop_next_connections(1);
        let mut raw = TcpStream::connect(s.addr).await.unwrap();
        let mut buf = Vec::new();
        assert_eq!(raw.read_to_end(&mut buf).await.unwrap(), 0);
    }

    #[tokio::test]
    async fn limits_and_sequence_errors() {
        let s = sink(SmtpSinkConfig {
            max_message_bytes: 64,
            max_connections: 1,
            idle_timeout: Duration::from_millis(300),
            ..SmtpSinkConfig::default()
        })
        .await;
        let mut c = Client::connect(s.addr).await;
        assert!(c.cmd("MAIL FROM:<a@x>").await.starts_with("503"));
        c.cmd("HELO c").await;
        assert!(c.cmd("RCPT TO:<b@y>").await.starts_with("503"));
        assert!(c.cmd("MAIL FROM:<a@x> SIZE=1000").await.starts_with("552"));
        let big = format!("Subject: x\r\n\r\n{}\r\n", "y".repeat(200));
        assert!(c.send("a@x", "b@y", &big).await.starts_with("552"));
        assert!(c.cmd("BOGUS").await.starts_with("500"));
        // A second connection is refused while the first is open.
        let mut second = TcpStream::connect(s.addr).await.unwrap();
        let mut buf = String::new();
        second.read_to_string(&mut buf).await.unwrap();
        assert!(buf.starts_with("421"), "{buf}");
        // The idle first one is closed with 421.
        assert!(c.reply().await.starts_with("421"));
        assert_eq!(s.count(), 0);
    }
}
