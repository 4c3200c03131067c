//! The browser path: headless Chromium, on a page of another origin, calls
//! the server over grpc-web with the browser's own CORS preflight. Needs
//! Chromium (`CHROMIUM_BIN`, default `chromium`); `.ci/run` installs it.

use std::time::Duration;

use nextke_integrations::{
    domain::types::Provider,
    oauth::{ConnectionOwner, TokenSet},
};
use secrecy::SecretString;

use crate::helpers::{fresh_database, spawn_app_with, test_config, token, Backend};

const PAGE: &str = r#"<!doctype html>
<html><body><pre id="out">pending</pre><script>
(async () => {
  const out = document.getElementById('out');
  try {
    const headers = {'content-type': 'application/grpc-web+proto', 'x-grpc-web': '1'};
    if ('__TOKEN__') headers['authorization'] = 'Bearer __TOKEN__';
    const res = await fetch('__SERVER__/nextke.integrations.v1.IntegrationService/GetIntegrationStatus', {
      method: 'POST', headers, body: new Uint8Array([0, 0, 0, 0, 0]),
    });
    const bytes = new Uint8Array(await res.arrayBuffer());
    let i = 0, trailers = '', messages = 0, payload = 0;
    while (i + 5 <= bytes.length) {
      const len = (bytes[i + 1] << 24) | (bytes[i + 2] << 16) | (bytes[i + 3] << 8) | bytes[i + 4];
      if (bytes[i] & 0x80) {
        trailers += new TextDecoder().decode(bytes.slice(i + 5, i + 5 + len));
      } else {
        messages += 1;
        payload += len;
      }
      i += 5 + len;
    }
    const status = res.headers.get('grpc-status') ?? ((trailers.match(/grpc-status:\s*(\d+)/) || [])[1]);
    out.textContent = 'http=' + res.status + ' messages=' + messages + ' payload=' + payload + ' grpc-status=' + status;
  } catch (e) {
    out.textContent = 'blocked: ' + e;
  }
})();
</script></body></html>"#;

/// Serves `PAGE` (calling `server` with `token`) on `listener`; returns its URL.
fn serve_page(
    listener: std::net::TcpListener,
    server: &str,
    token: &str,
) -> (String, nextke_sandbox::SandboxHandle) {
    let html = PAGE
        .replace("__SERVER__", server)
        .replace("__TOKEN__", token);
    let router = axum::Router::new().route(
        "/page",
        axum::routing::get(move || {
            let html = html.clone();
            async move { axum::response::Html(html) }
        }),
    );
    let handle = nextke_sandbox::SandboxServer::new(router)
        .start_std(listener)
        .expect("page server");
    (handle.url("/page"), handle)
}

fn origin_of(listener: &std::net::TcpListener) -> String {
    format!("http://{}", listener.local_addr().expect("addr"))
}

/// Loads `url` in headless Chromium and returns what the page wrote.
async fn run_page(url: &str) -> String {
    let bin = std::env::var("CHROMIUM_BIN").unwrap_or_else(|_| "chromium".to_owned());
    let profile =
        std::env::temp_dir().join(format!("nextke-chromium-{}", uuid::Uuid::new_v4().simple()));
    let output = tokio::time::timeout(
        Duration::from_secs(90),
        tokio::process::Command::new(&bin)
            .args([
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-quic",
                "--virtual-time-budget=15000",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("--dump-dom")
            .arg(url)
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("chromium finished in time")
    .unwrap_or_else(|err| panic!("a real browser is required for this test ({bin}): {err}"));
    let _ = std::fs::remove_dir_all(&profile);
    let dom = String::from_utf8_lossy(&output.stdout).into_owned();
    let start = dom
        .find("<pre id=\"out\">")
        .map(|i| i + "<pre id=\"out\">".len());
    let end = dom.find("</pre>");
    match (start, end) {
        (Some(s), Some(e)) if s <= e => dom[s..e].to_owned(),
        _ => panic!(
            "no result in the page: {dom}\n{}",
            String::from_utf8_lossy(&output.stderr)
        ),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_calls_grpc_web_across_origins() {
    // pages on two allowed origins and one that is not; their ports are
    // reserved first, because the server's CORS list must name them
    let bind = || std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let (allowed, allowed_anonymous, unlisted) = (bind(), bind(), bind());
    let mut config = test_config(&fresh_database(Backend::Sqlite).await);
    config.cors_allowed_origins = vec![origin_of(&allowed), origin_of(&allowed_anonymous)];
    let app = spawn_app_with(Backend::Sqlite, config).await;
    app.ctx
        .oauth
        .save_connection(
            Provider::LinkedIn,
            &ConnectionOwner::User {
                user_id: "web-user".into(),
            },
            None,
            &TokenSet {
                access_token: SecretString::from("t".to_owned()),
                refresh_token: None,
                expires_at: Some(chrono::Utc::now() + chrono::Duration::days(30)),
                refresh_expires_at: None,
                scopes: None,
            },
            &[],
        )
        .await
        .expect("seed a connection");
    let user_token = token("web-user", &[]);

    let (url, _page) = serve_page(allowed, &app.base_url, &user_token);
    let result = run_page(&url).await;
    assert!(result.starts_with("http=200 messages=1"), "{result}");
    assert!(result.ends_with("grpc-status=0"), "{result}");
    assert!(
        !result.contains("payload=0 "),
        "the connection is in the answer: {result}"
    );

    // no token: the status reaches the page through the exposed grpc-status header
    let (url, _page) = serve_page(allowed_anonymous, &app.base_url, "");
    let result = run_page(&url).await;
    assert!(result.ends_with("grpc-status=16"), "{result}");

    // an origin the server does not list: the browser itself refuses the call
    let (url, _page) = serve_page(unlisted, &app.base_url, &user_token);
    let result = run_page(&url).await;
    assert!(
        result.starts_with("blocked"),
        "an unlisted origin must be refused: {result}"
    );
    app.stop().await;
}
