//! `/metrics` that callers cannot inflate or break: labels from a closed set,
//! the real gRPC code, a page a Prometheus text-format parser accepts.

use std::time::Duration;

use nextke_integrations::proto::GetIntegrationStatusRequest;
use openmetrics_parser::{openmetrics::parse_openmetrics, OpenMetricsValue};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tonic_health::pb::{health_client::HealthClient, HealthCheckRequest};

use crate::{
    db_tests,
    helpers::{authed, spawn_app, token, Backend, TestApp},
};

async fn metrics_page(app: &TestApp) -> String {
    reqwest::get(format!("{}/metrics", app.base_url))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("metrics body")
}

/// Series lines: every line that is not a comment (`# HELP`, `# TYPE`, `# EOF`).
fn series_count(page: &str) -> usize {
    page.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .count()
}

/// `nextke_requests_total` for these labels, from the parsed page.
fn requests_total(page: &str, transport: &str, method: &str, code: &str) -> f64 {
    let parsed = parse_openmetrics(page)
        .unwrap_or_else(|err| panic!("/metrics does not parse: {err:?}\n{page}"));
    let family = parsed
        .families
        .get("nextke_requests")
        .unwrap_or_else(|| panic!("no nextke_requests family in\n{page}"));
    let total = family
        .iter_samples()
        .find(|s| {
            let labels = s.get_labelset().expect("labels");
            labels.get_label_value("transport") == Some(transport)
                && labels.get_label_value("method") == Some(method)
                && labels.get_label_value("code") == Some(code)
        })
        .map(|s| match &s.value {
            OpenMetricsValue::Counter(c) => c.value.as_f64(),
            other => panic!("not a counter: {other:?}"),
        })
        .unwrap_or(0.0);
    total
}

/// One raw HTTP/1.1 request (the path exactly as given, quotes and
/// backslashes included); returns the status line.
async fn raw_request(app: &TestApp, path: &str, grpc: bool) -> String {
    let addr = app.base_url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let content_type = if grpc {
        "content-type: application/grpc\r\n"
    } else {
        ""
    };
    let request = format!(
        "POST {path} HTTP/1.1\r\nhost: {addr}\r\n{content_type}content-length: 0\r\nconnection: close\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .await
        .expect("write request");
    let mut reply = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut reply))
        .await
        .expect("reply in time")
        .expect("read reply");
    String::from_utf8_lossy(&reply)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// Paths a caller might send: quotes, backslashes, percent-encoded newlines
/// and quotes, unicode, very long ones.
fn junk_paths(round: usize) -> Vec<String> {
    vec![
        format!("/no.such.Service/Method{round}"),
        format!("/x\"y{round}"),
        format!("/back\\slash{round}\\\""),
        format!("/enc%0Aline%22quote%5C{round}"),
        format!("/%E2%9C%93/{round}"),
        format!("/{}{round}", "a".repeat(8 * 1024)),
    ]
}

async fn random_paths_add_no_series_and_the_page_still_parses(backend: Backend) {
    let app = spawn_app(backend).await;
    let h2 = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .expect("client");

    // round 0 (and this first scrape) creates every series junk can reach;
    // later rounds must add none
    metrics_page(&app).await;
    let mut rounds = Vec::new();
    for round in 0..6 {
        for path in junk_paths(round) {
            let grpc_status = raw_request(&app, &path, true).await;
            let plain_status = raw_request(&app, &path, false).await;
            assert!(grpc_status.contains(" 200"), "{path:.80}: {grpc_status}");
            assert!(plain_status.contains(" 404"), "{path:.80}: {plain_status}");
            let reply = h2
                .post(format!(
                    "{}{}",
                    app.base_url,
                    path.replace(['"', '\\'], "_")
                ))
                .header("content-type", "application/grpc")
                .header("te", "trailers")
                .send()
                .await
                .expect("h2 request");
            assert_eq!(
                reply.headers().get("grpc-status").map(|v| v.as_bytes()),
                Some(&b"12"[..]),
                "an unknown path answers UNIMPLEMENTED"
            );
        }
        // an unknown method of a served service: that service answers
        let reply = h2
            .post(format!(
                "{}/nextke.integrations.v1.IntegrationService/NoSuchRpc{round}",
                app.base_url
            ))
            .header("content-type", "application/grpc")
            .header("te", "trailers")
            .header("authorization", format!("Bearer {}", token("junk", &[])))
            .send()
            .await
            .expect("h2 request");
        assert_eq!(
            reply.headers().get("grpc-status").map(|v| v.as_bytes()),
            Some(&b"12"[..])
        );
        rounds.push(metrics_page(&app).await);
    }

    let first = &rounds[0];
    let last = rounds.last().expect("rounds");
    assert_eq!(
        series_count(first),
        series_count(last),
        "junk paths added series:\n{last}"
    );
    assert!(
        last.len() < 64 * 1024,
        "the page grew to {} bytes",
        last.len()
    );
    for page in &rounds {
        parse_openmetrics(page)
            .unwrap_or_else(|err| panic!("/metrics does not parse: {err:?}\n{page}"));
    }
    // counted, with the code the caller saw: per round, two gRPC requests for
    // each path (HTTP/1.1 and HTTP/2) and the unknown method
    let per_round = junk_paths(0).len();
    let unimplemented = requests_total(last, "grpc", "unknown", "Unimplemented");
    assert_eq!(unimplemented, (6 * (2 * per_round + 1)) as f64, "{last}");
    assert_eq!(
        requests_total(last, "http", "unknown", "404"),
        (6 * per_round) as f64
    );
    assert_eq!(requests_total(last, "grpc", "unknown", "Ok"), 0.0);
    app.stop().await;
}

async fn grpc_codes_come_from_trailers_and_cancellation(backend: Backend) {
    let app = spawn_app(backend).await;
    let channel = app.channel().await;

    // a unary success: status 0 in the trailers
    let mut client =
        nextke_integrations::proto::integration_service_client::IntegrationServiceClient::new(
            channel.clone(),
        );
    client
        .get_integration_status(authed(
            GetIntegrationStatusRequest {},
            &token("metrics-user", &[]),
        ))
        .await
        .expect("status");

    // the same over grpc-web (HTTP/1.1): the meter sees the trailers before
    // grpc-web folds them into the body
    let web = reqwest::Client::builder()
        .http1_only()
        .build()
        .expect("client")
        .post(format!(
            "{}/nextke.integrations.v1.IntegrationService/GetIntegrationStatus",
            app.base_url
        ))
        .header("content-type", "application/grpc-web+proto")
        .header(
            "authorization",
            format!("Bearer {}", token("metrics-user", &[])),
        )
        .body(vec![0u8, 0, 0, 0, 0])
        .send()
        .await
        .expect("grpc-web call");
    assert_eq!(web.status(), 200);
    web.bytes().await.expect("grpc-web body");

    // a server stream the client abandons: cancelled, not ok
    let mut health = HealthClient::new(channel);
    let mut watch = health
        .watch(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .expect("watch")
        .into_inner();
    watch.message().await.expect("first status").expect("one");
    drop(watch);

    let watch_method = "/grpc.health.v1.Health/Watch";
    let mut page = String::new();
    for _ in 0..50 {
        page = metrics_page(&app).await;
        if requests_total(&page, "grpc", watch_method, "Cancelled") >= 1.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        requests_total(&page, "grpc", watch_method, "Cancelled"),
        1.0,
        "{page}"
    );
    assert_eq!(requests_total(&page, "grpc", watch_method, "Ok"), 0.0);
    assert_eq!(
        requests_total(
            &page,
            "grpc",
            "/nextke.integrations.v1.IntegrationService/GetIntegrationStatus",
            "Ok"
        ),
        2.0,
        "{page}"
    );
    // HTTP routes by template
    let page = metrics_page(&app).await;
    assert!(requests_total(&page, "http", "/metrics", "200") >= 1.0);
    app.stop().await;
}

db_tests!(
    random_paths_add_no_series_and_the_page_still_parses,
    grpc_codes_come_from_trailers_and_cancellation,
);
