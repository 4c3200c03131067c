//! Browsers: grpc-web over HTTP/1.1 with CORS for configured origins only.

use nextke_integrations::proto::{GetIntegrationStatusRequest, GetIntegrationStatusResponse};
use prost::Message;

use crate::{
    db_tests,
    helpers::{spawn_app, token, Backend},
};

const ORIGIN: &str = "https://app.next.ke";
const PATH: &str = "/nextke.integrations.v1.IntegrationService/GetIntegrationStatus";

fn frame(message: &impl Message) -> Vec<u8> {
    let payload = message.encode_to_vec();
    let mut out = vec![0u8];
    out.extend_from_slice(&u32::try_from(payload.len()).expect("size").to_be_bytes());
    out.extend_from_slice(&payload);
    out
}

/// Splits a grpc-web body into data frames and the trailer block.
fn unframe(mut body: &[u8]) -> (Vec<Vec<u8>>, String) {
    let mut data = Vec::new();
    let mut trailers = String::new();
    while body.len() >= 5 {
        let flag = body[0];
        let len = u32::from_be_bytes([body[1], body[2], body[3], body[4]]) as usize;
        let chunk = &body[5..5 + len];
        if flag & 0x80 != 0 {
            trailers.push_str(&String::from_utf8_lossy(chunk));
        } else {
            data.push(chunk.to_vec());
        }
        body = &body[5 + len..];
    }
    (data, trailers)
}

fn http1() -> reqwest::Client {
    reqwest::Client::builder()
        .http1_only()
        .build()
        .expect("client")
}

async fn grpc_web_call_over_http1(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = http1()
        .post(format!("{}{PATH}", app.base_url))
        .header("content-type", "application/grpc-web+proto")
        .header("x-grpc-web", "1")
        .header("origin", ORIGIN)
        .header(
            "authorization",
            format!("Bearer {}", token("web-user", &[])),
        )
        .body(frame(&GetIntegrationStatusRequest {}))
        .send()
        .await
        .expect("grpc-web call");
    assert_eq!(response.status(), 200);
    assert_eq!(response.version(), reqwest::Version::HTTP_11);
    assert_eq!(
        response
            .headers()
            .get("access-control-allow-origin")
            .map(|v| v.to_str().unwrap_or("")),
        Some(ORIGIN)
    );
    assert!(response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/grpc-web")));
    let body = response.bytes().await.expect("body");
    let (data, trailers) = unframe(&body);
    assert_eq!(data.len(), 1, "one response message");
    let decoded = GetIntegrationStatusResponse::decode(data[0].as_slice()).expect("decodes");
    assert!(decoded.linkedin.is_empty());
    assert!(trailers.contains("grpc-status:0"), "trailers: {trailers:?}");

    // without a token: the status arrives trailers-only, in the headers
    let denied = http1()
        .post(format!("{}{PATH}", app.base_url))
        .header("content-type", "application/grpc-web+proto")
        .header("origin", ORIGIN)
        .body(frame(&GetIntegrationStatusRequest {}))
        .send()
        .await
        .expect("grpc-web call");
    assert_eq!(
        denied.headers().get("grpc-status").map(|v| v.as_bytes()),
        Some(&b"16"[..])
    );
    app.stop().await;
}

async fn cors_preflight_only_for_configured_origins(backend: Backend) {
    let app = spawn_app(backend).await;
    let preflight = |origin: &'static str| {
        http1()
            .request(reqwest::Method::OPTIONS, format!("{}{PATH}", app.base_url))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "content-type,x-grpc-web,x-user-agent,authorization",
            )
            .send()
    };
    let allowed = preflight(ORIGIN).await.expect("preflight");
    assert!(allowed.status().is_success(), "{}", allowed.status());
    let h = allowed.headers();
    assert_eq!(
        h.get("access-control-allow-origin").map(|v| v.as_bytes()),
        Some(ORIGIN.as_bytes())
    );
    let allow_headers = h
        .get("access-control-allow-headers")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    for needed in ["content-type", "x-grpc-web", "authorization"] {
        assert!(
            allow_headers.contains(needed),
            "{needed} not allowed: {allow_headers}"
        );
    }

    let refused = preflight("https://evil.example").await.expect("preflight");
    assert!(
        refused
            .headers()
            .get("access-control-allow-origin")
            .is_none(),
        "an unlisted origin must not be allowed"
    );
    app.stop().await;
}

db_tests!(
    grpc_web_call_over_http1,
    cors_preflight_only_for_configured_origins
);
