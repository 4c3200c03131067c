//! Test support: a scripted HTTP server on 127.0.0.1:0 that records every
//! request (method, path, query, headers, body) and answers from a script,
//! for the clients' unit tests of multi-call flows. The shapes asserted here
//! are our reading of the docs; the sandbox checks them independently.

use std::{collections::VecDeque, sync::Arc, time::Duration};

use axum::{body::Body, extract::State, response::Response, Router};
use parking_lot::Mutex;
use tokio::net::TcpListener;
use url::Url;

use super::http::{OutboundConfig, OutboundHttp};
use crate::metrics::Metrics;

/// A request as the server saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub headers: http::HeaderMap,
    pub body: Vec<u8>,
}

impl Seen {
    /// The body as JSON (`Null` when it is not).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// The value of a query parameter.
    pub fn param(&self, name: &str) -> Option<String> {
        let query = self.query.as_deref()?;
        url::form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }
}

#[derive(Clone, Default)]
struct Script {
    replies: Arc<Mutex<VecDeque<(u16, String)>>>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

/// A running scripted server.
pub struct Scripted {
    pub base: Url,
    script: Script,
}

impl Scripted {
    /// Starts a server answering `replies` in order (then `200 {}`).
    pub async fn start(replies: impl IntoIterator<Item = (u16, serde_json::Value)>) -> Self {
        let script = Script::default();
        script.replies.lock().extend(
            replies
                .into_iter()
                .map(|(status, body)| (status, body.to_string())),
        );
        let app = Router::new().fallback(answer).with_state(script.clone());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            base: Url::parse(&format!("http://{addr}")).unwrap(),
            script,
        }
    }

    /// Adds a reply to the end of the script.
    pub fn push(&self, status: u16, body: serde_json::Value) {
        self.script
            .replies
            .lock()
            .push_back((status, body.to_string()));
    }

    /// Every request seen so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.script.seen.lock().clone()
    }
}

async fn answer(State(script): State<Script>, request: axum::extract::Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20)
        .await
        .map(|b| b.to_vec())
        .unwrap_or_default();
    script.seen.lock().push(Seen {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts.headers,
        body,
    });
    let (status, body) = script
        .replies
        .lock()
        .pop_front()
        .unwrap_or((200, "{}".to_owned()));
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::from(body))
        .unwrap()
}

/// An outbound client with fast retries for tests.
pub fn outbound() -> OutboundHttp {
    let mut config = OutboundConfig::default();
    config.defaults.retry.base_backoff = Duration::from_millis(1);
    config.defaults.retry.max_backoff = Duration::from_millis(5);
    config.defaults.request_timeout = Duration::from_secs(5);
    OutboundHttp::new(config, Metrics::new()).unwrap()
}
