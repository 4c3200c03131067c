//! Slow and idle clients cannot starve real ones: a connection cap that makes
//! room by closing the connection idle longest, idle and header-read
//! timeouts, long streams kept, HTTP/2 streams capped per connection, and a
//! graceful stop that drains.

use std::time::{Duration, Instant};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};
use tokio_stream::StreamExt;
use tonic::transport::Channel;
use tonic_health::pb::{
    health_check_response::ServingStatus, health_client::HealthClient, HealthCheckRequest,
};

use crate::{
    db_tests,
    helpers::{fresh_database, spawn_app_with, test_config, Backend, TestApp},
};

const CAP: usize = 8;
const HEADER_TIMEOUT: Duration = Duration::from_millis(300);
const IDLE_TIMEOUT: Duration = Duration::from_secs(1);

async fn limited_app(backend: Backend) -> TestApp {
    limited_app_with_streams(backend, 200).await
}

async fn limited_app_with_streams(backend: Backend, streams: u32) -> TestApp {
    let url = fresh_database(backend).await;
    let mut config = test_config(&url);
    config.server.http2_max_concurrent_streams = streams;
    config.server.max_connections = CAP;
    config.server.http_header_read_timeout_ms = HEADER_TIMEOUT.as_millis() as u64;
    config.server.http_idle_timeout_secs = IDLE_TIMEOUT.as_secs();
    spawn_app_with(backend, config).await
}

fn addr(app: &TestApp) -> String {
    app.base_url.trim_start_matches("http://").to_owned()
}

/// Reads until the server closes the socket (whatever it sent before, e.g. a
/// 408); `None` if it is still open after `within`.
async fn closed_within(socket: &mut TcpStream, within: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut buf = [0u8; 1024];
    loop {
        let left = within.checked_sub(started.elapsed())?;
        match tokio::time::timeout(left, socket.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(started.elapsed()),
            Ok(Ok(_)) => continue,
        }
    }
}

async fn fresh_channel(app: &TestApp) -> Channel {
    Channel::from_shared(app.base_url.clone())
        .expect("uri")
        .connect_timeout(Duration::from_secs(1))
        .connect()
        .await
        .expect("grpc connect")
}

async fn health_check(app: &TestApp) -> ServingStatus {
    let mut health = HealthClient::new(fresh_channel(app).await);
    health
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .expect("health check")
        .into_inner()
        .status()
}

async fn idle_and_slow_clients_above_the_cap_do_not_starve_real_ones(backend: Backend) {
    let app = limited_app(backend).await;
    let addr = addr(&app);
    let mut idle = Vec::new();
    for _ in 0..3 * CAP {
        idle.push(TcpStream::connect(&addr).await.expect("idle connect"));
    }
    let mut slow = Vec::new();
    for _ in 0..CAP {
        let mut socket = TcpStream::connect(&addr).await.expect("slow connect");
        socket
            .write_all(b"GET /healthz HTT")
            .await
            .expect("partial request line");
        slow.push(socket);
    }

    // a fresh gRPC call and /healthz, each on a new connection, within 1 s
    let started = Instant::now();
    let status = tokio::time::timeout(Duration::from_secs(1), health_check(&app))
        .await
        .expect("grpc answered within 1 s");
    assert_eq!(status, ServingStatus::Serving);
    let started_http = Instant::now();
    let healthz = tokio::time::timeout(
        Duration::from_secs(1),
        reqwest::Client::builder()
            .http1_only()
            .build()
            .expect("client")
            .get(format!("{}/healthz", app.base_url))
            .send(),
    )
    .await
    .expect("/healthz answered within 1 s")
    .expect("/healthz");
    assert_eq!(healthz.status(), 200);
    assert!(started_http.elapsed() < Duration::from_secs(1));
    assert!(started.elapsed() < Duration::from_secs(2));

    // every idle and slow socket is closed by the server: evicted at once to
    // make room, or by the timeouts
    for socket in idle.iter_mut().chain(slow.iter_mut()) {
        assert!(
            closed_within(socket, IDLE_TIMEOUT * 2).await.is_some(),
            "a socket was still open after the idle timeout"
        );
    }
    app.stop().await;
}

async fn idle_sockets_close_after_the_idle_timeout_and_slow_headers_after_theirs(backend: Backend) {
    let app = limited_app(backend).await;
    let addr = addr(&app);
    let mut idle = TcpStream::connect(&addr).await.expect("idle connect");
    let idle_opened = Instant::now();
    let mut slow = TcpStream::connect(&addr).await.expect("slow connect");
    slow.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n")
        .await
        .expect("partial headers");
    let mut kept_alive = TcpStream::connect(&addr).await.expect("keep-alive connect");
    kept_alive
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .expect("request");
    let mut buf = [0u8; 512];
    let n = kept_alive.read(&mut buf).await.expect("response");
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));

    // the slow-header client goes at the header timeout, well before the idle one
    let slow_closed = closed_within(&mut slow, IDLE_TIMEOUT)
        .await
        .expect("slow-header client closed");
    assert!(slow_closed < IDLE_TIMEOUT, "{slow_closed:?}");

    // the idle socket stays until the idle timeout, then is closed
    assert_eq!(
        closed_within(&mut idle, IDLE_TIMEOUT / 2).await,
        None,
        "closed before the idle timeout"
    );
    closed_within(&mut idle, IDLE_TIMEOUT * 2)
        .await
        .expect("idle socket closed after the idle timeout");
    let open_for = idle_opened.elapsed();
    assert!(
        open_for >= IDLE_TIMEOUT - Duration::from_millis(50),
        "{open_for:?}"
    );
    // a kept-alive HTTP/1.1 connection waiting for its next request too
    assert!(closed_within(&mut kept_alive, IDLE_TIMEOUT).await.is_some());
    app.stop().await;
}

async fn long_streams_are_not_idle_and_a_full_busy_server_refuses_new_connections(
    backend: Backend,
) {
    let app = limited_app(backend).await;
    // CAP connections, each busy with a server stream (health Watch)
    let mut streams = Vec::new();
    for _ in 0..CAP {
        let mut health = HealthClient::new(fresh_channel(&app).await);
        let mut stream = health
            .watch(HealthCheckRequest {
                service: String::new(),
            })
            .await
            .expect("watch")
            .into_inner();
        assert_eq!(
            stream.next().await.expect("first").expect("ok").status(),
            ServingStatus::Serving
        );
        streams.push((health, stream));
    }
    // every connection is busy: a new one is refused (closed at once)
    let mut refused = TcpStream::connect(addr(&app)).await.expect("connect");
    let _ = refused
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        .await;
    let mut reply = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(1), refused.read_to_end(&mut reply)).await;
    assert!(
        matches!(read, Ok(Ok(0)) | Ok(Err(_))),
        "a new connection was served while all were busy: {:?}",
        String::from_utf8_lossy(&reply)
    );

    // past the idle timeout, the streams are still open: a stream is not idle
    tokio::time::sleep(IDLE_TIMEOUT + Duration::from_millis(300)).await;
    for (health, _) in &mut streams {
        let status = health
            .check(HealthCheckRequest {
                service: String::new(),
            })
            .await
            .expect("the streaming connection still serves")
            .into_inner()
            .status();
        assert_eq!(status, ServingStatus::Serving);
    }
    // one stream ends: once the server has seen it end (the cancel travels
    // asynchronously), its connection is idle and makes room for a new one
    streams.pop();
    let deadline = Instant::now() + Duration::from_secs(2);
    let status = loop {
        let attempt = async {
            let channel = Channel::from_shared(app.base_url.clone())
                .expect("uri")
                .connect()
                .await
                .ok()?;
            HealthClient::new(channel)
                .check(HealthCheckRequest {
                    service: String::new(),
                })
                .await
                .ok()
        };
        if let Some(reply) = attempt.await {
            break reply.into_inner().status();
        }
        assert!(
            Instant::now() < deadline,
            "never served after a stream ended"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(status, ServingStatus::Serving);
    drop(streams);
    app.stop().await;
}

async fn http2_streams_per_connection_are_capped(backend: Backend) {
    let app = limited_app_with_streams(backend, 2).await;
    let channel = fresh_channel(&app).await;
    let mut health = HealthClient::new(channel);
    let watch = || HealthCheckRequest {
        service: String::new(),
    };
    let mut first = health.watch(watch()).await.expect("watch").into_inner();
    let mut second = health.watch(watch()).await.expect("watch").into_inner();
    first.next().await.expect("first").expect("ok");
    second.next().await.expect("second").expect("ok");
    // a third call on the same connection waits for a free stream
    let mut third = health.clone();
    let call = tokio::spawn(async move { third.check(watch()).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!call.is_finished(), "a third stream was opened");
    drop(first);
    let reply = tokio::time::timeout(Duration::from_secs(2), call)
        .await
        .expect("served once a stream is free")
        .expect("task")
        .expect("check");
    assert_eq!(reply.into_inner().status(), ServingStatus::Serving);
    drop(second);
    app.stop().await;
}

async fn stop_drains_a_call_in_flight(backend: Backend) {
    use tonic_reflection::pb::v1::{
        server_reflection_client::ServerReflectionClient,
        server_reflection_request::MessageRequest, ServerReflectionRequest,
    };
    let app = limited_app(backend).await;
    let base_url = app.base_url.clone();
    let mut client = ServerReflectionClient::new(fresh_channel(&app).await);
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let list = || ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    tx.send(list()).await.expect("send");
    let mut replies = client
        .server_reflection_info(tokio_stream::wrappers::ReceiverStream::new(rx))
        .await
        .expect("reflection")
        .into_inner();
    replies.next().await.expect("reply").expect("ok");

    // stop while the call is open: it keeps being served until it ends
    let stopping = tokio::spawn(app.stop());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!stopping.is_finished(), "stopped with a call in flight");
    tx.send(list()).await.expect("send during shutdown");
    replies
        .next()
        .await
        .expect("reply during shutdown")
        .expect("ok during shutdown");
    drop(tx);
    assert!(replies.next().await.is_none(), "the call ends cleanly");
    tokio::time::timeout(Duration::from_secs(5), stopping)
        .await
        .expect("stopped once the call ended")
        .expect("stop");
    // and the listener is closed
    assert!(TcpStream::connect(base_url.trim_start_matches("http://"))
        .await
        .is_err());
}

db_tests!(
    idle_and_slow_clients_above_the_cap_do_not_starve_real_ones,
    idle_sockets_close_after_the_idle_timeout_and_slow_headers_after_theirs,
    long_streams_are_not_idle_and_a_full_busy_server_refuses_new_connections,
    http2_streams_per_connection_are_capped,
    stop_drains_a_call_in_flight,
);
