//! Request tracing: every RPC and shim request gets a span with its method,
//! code and duration and a request id echoed in `x-request-id` (the caller's
//! when it is safe, else a new one), and no token is ever logged.

use nextke_integrations::proto::GetIntegrationStatusRequest;

use crate::{
    db_tests, db_tests_with_logs,
    helpers::{authed, spawn_app, token, Backend, CapturedLogs},
};

const PATH: &str = "/nextke.integrations.v1.IntegrationService/GetIntegrationStatus";

fn is_uuid(v: &str) -> bool {
    uuid::Uuid::parse_str(v).is_ok()
}

async fn grpc_echoes_request_ids(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut client = app.integration().await;
    let tok = token("trace-user", &[]);

    let mut given = authed(GetIntegrationStatusRequest {}, &tok);
    given
        .metadata_mut()
        .insert("x-request-id", "client-id.42_a".parse().expect("value"));
    let answer = client.get_integration_status(given).await.expect("call");
    assert_eq!(
        answer
            .metadata()
            .get("x-request-id")
            .map(|v| v.to_str().unwrap_or("")),
        Some("client-id.42_a")
    );

    let answer = client
        .get_integration_status(authed(GetIntegrationStatusRequest {}, &tok))
        .await
        .expect("call");
    let generated = answer.metadata().get("x-request-id").expect("generated id");
    assert!(is_uuid(generated.to_str().expect("ascii")));

    let mut unsafe_id = authed(GetIntegrationStatusRequest {}, &tok);
    unsafe_id
        .metadata_mut()
        .insert("x-request-id", "a/b?code=secret".parse().expect("value"));
    let answer = client
        .get_integration_status(unsafe_id)
        .await
        .expect("call");
    let replaced = answer.metadata().get("x-request-id").expect("replaced id");
    assert!(is_uuid(replaced.to_str().expect("ascii")));

    // a trailers-only error carries it too
    let mut refused = tonic::Request::new(GetIntegrationStatusRequest {});
    refused
        .metadata_mut()
        .insert("x-request-id", "refused-1".parse().expect("value"));
    let status = client
        .get_integration_status(refused)
        .await
        .expect_err("no token");
    assert_eq!(status.code(), tonic::Code::Unauthenticated);
    assert_eq!(
        status
            .metadata()
            .get("x-request-id")
            .map(|v| v.to_str().unwrap_or("")),
        Some("refused-1")
    );
    app.stop().await;
}

async fn grpc_web_and_shim_echo_request_ids(backend: Backend) {
    let app = spawn_app(backend).await;
    let http1 = reqwest::Client::builder()
        .http1_only()
        .build()
        .expect("client");
    let web = http1
        .post(format!("{}{PATH}", app.base_url))
        .header("content-type", "application/grpc-web+proto")
        .header("x-grpc-web", "1")
        .header("x-request-id", "web-7")
        .header(
            "authorization",
            format!("Bearer {}", token("web-user", &[])),
        )
        .body(vec![0u8, 0, 0, 0, 0])
        .send()
        .await
        .expect("grpc-web call");
    assert_eq!(web.status(), 200);
    assert_eq!(
        web.headers()
            .get("x-request-id")
            .map(|v| v.to_str().unwrap_or("")),
        Some("web-7")
    );

    let health = http1
        .get(format!("{}/healthz", app.base_url))
        .header("x-request-id", "x".repeat(65))
        .send()
        .await
        .expect("healthz");
    assert_eq!(health.status(), 200);
    let id = health
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .expect("generated id");
    assert!(is_uuid(id), "{id}");

    let health = http1
        .get(format!("{}/healthz", app.base_url))
        .header("x-request-id", "probe-1")
        .send()
        .await
        .expect("healthz");
    assert_eq!(
        health
            .headers()
            .get("x-request-id")
            .map(|v| v.to_str().unwrap_or("")),
        Some("probe-1")
    );
    app.stop().await;
}

async fn spans_carry_method_and_code_and_no_token(backend: Backend, logs: CapturedLogs) {
    let app = spawn_app(backend).await;
    let mut client = app.integration().await;
    let tok = token("span-user", &[]);
    let mut request = authed(GetIntegrationStatusRequest {}, &tok);
    request
        .metadata_mut()
        .insert("x-request-id", "span-ok-1".parse().expect("value"));
    client.get_integration_status(request).await.expect("call");
    let mut bad = tonic::Request::new(GetIntegrationStatusRequest {});
    bad.metadata_mut().insert(
        "authorization",
        format!("Bearer {tok}x").parse().expect("value"),
    );
    bad.metadata_mut()
        .insert("x-request-id", "span-bad-1".parse().expect("value"));
    client
        .get_integration_status(bad)
        .await
        .expect_err("bad token");
    reqwest::get(format!("{}/healthz?code=abc&state=xyz", app.base_url))
        .await
        .expect("healthz");
    app.stop().await;

    let text = logs.text();
    let finished: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("request finished"))
        .collect();
    let line = |id: &str| {
        finished
            .iter()
            .find(|l| {
                l.contains(&format!("request_id=\"{id}\""))
                    || l.contains(&format!("request_id={id}"))
            })
            .unwrap_or_else(|| panic!("no finished span for {id} in:\n{text}"))
            .to_string()
    };
    let ok = line("span-ok-1");
    assert!(
        ok.contains(&format!("method={PATH}")) || ok.contains(&format!("method=\"{PATH}\"")),
        "{ok}"
    );
    assert!(
        ok.contains("transport=\"grpc\"") || ok.contains("transport=grpc"),
        "{ok}"
    );
    assert!(ok.contains("code=\"Ok\"") || ok.contains("code=Ok"), "{ok}");
    assert!(ok.contains("duration_ms="), "{ok}");
    let bad = line("span-bad-1");
    assert!(bad.contains("Unauthenticated"), "{bad}");
    let health = finished
        .iter()
        .find(|l| l.contains("/healthz"))
        .unwrap_or_else(|| panic!("no healthz span in:\n{text}"));
    assert!(health.contains("200"), "{health}");
    assert!(!text.contains(&tok), "a token reached the logs");
    assert!(
        !text.contains("Bearer"),
        "an authorization header reached the logs"
    );
    assert!(
        !text.contains("state=xyz"),
        "a query string reached the logs"
    );
}

db_tests!(grpc_echoes_request_ids, grpc_web_and_shim_echo_request_ids);

mod logged {
    use super::*;
    db_tests_with_logs!(spans_carry_method_and_code_and_no_token);
}
