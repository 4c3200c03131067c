//! [`WhatsAppSandbox`]: the WhatsApp Business Cloud API's send endpoint,
//! `POST /{version}/{phone_number_id}/messages`, for template messages only.
//!
//! Request and answer shapes follow Meta's Cloud API reference
//! (`messaging_product`, `recipient_type`, `to`, `type: "template"`,
//! `template {name, language {code}, components [{type: "body", parameters
//! [{type: "text", text}]}]}` → `{messaging_product, contacts [{input,
//! wa_id}], messages [{id}]}`); errors use Graph's shape `{"error":
//! {"message", "type", "code", "error_data": {"messaging_product",
//! "details"}, "error_subcode", "fbtrace_id"}}`. Codes used: 190 (bad token,
//! `OAuthException`, 401), 100 (invalid parameter), 131008 (missing
//! parameter), 131051 (unsupported message type), 132000 (parameter count
//! mismatch), 132001 (template does not exist in that language, 404),
//! 131030 (recipient not in the allowed list of a test number). The codes
//! are Meta's documented ones; HTTP statuses and `error_subcode` values are
//! not verified (subcodes are left out). `to` is used as `wa_id` with a
//! leading `+` removed (real WhatsApp may answer a normalized number).

use std::sync::Arc;
use std::time::SystemTime;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use parking_lot::Mutex;
use serde_json::{json, Value};
use tokio::net::TcpListener;

use super::{random_token, SandboxHandle, SandboxServer};

/// An approved message template.
#[derive(Debug, Clone)]
pub struct ApprovedTemplate {
    /// Template name.
    pub name: String,
    /// Language code (`en`, `en_US`, `de`).
    pub language: String,
    /// How many `{{n}}` parameters its body takes.
    pub body_parameters: usize,
}

impl ApprovedTemplate {
    /// A template.
    pub fn new(name: &str, language: &str, body_parameters: usize) -> Self {
        Self {
            name: name.to_owned(),
            language: language.to_owned(),
            body_parameters,
        }
    }
}

/// How a [`WhatsAppSandbox`] behaves.
#[derive(Clone)]
pub struct WhatsAppSandboxConfig {
    /// Accepted bearer tokens (default `["sandbox-whatsapp-token"]`).
    pub access_tokens: Vec<String>,
    /// Known phone number ids (default `["106540352242922"]`).
    pub phone_number_ids: Vec<String>,
    /// Approved templates (default `interview_reminder`/`en` with 3 parameters).
    pub templates: Vec<ApprovedTemplate>,
    /// `Some(list)`: a test number that may only message these numbers
    /// (digits only); others get 131030. `None`: anyone.
    pub allowed_recipients: Option<Vec<String>>,
}

impl Default for WhatsAppSandboxConfig {
    fn default() -> Self {
        Self {
            access_tokens: vec!["sandbox-whatsapp-token".to_owned()],
            phone_number_ids: vec!["106540352242922".to_owned()],
            templates: vec![
                ApprovedTemplate::new("interview_reminder", "en", 3),
                ApprovedTemplate::new("interview_reminder", "de", 3),
            ],
            allowed_recipients: None,
        }
    }
}

impl std::fmt::Debug for WhatsAppSandboxConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WhatsAppSandboxConfig")
            .field("access_tokens", &self.access_tokens.len())
            .field("phone_number_ids", &self.phone_number_ids)
            .field("templates", &self.templates)
            .field("allowed_recipients", &self.allowed_recipients)
            .finish()
    }
}

/// One accepted message.
#[derive(Debug, Clone)]
pub struct ReceivedWhatsApp {
    /// The sending phone number id.
    pub phone_number_id: String,
    /// `to` as sent.
    pub to: String,
    /// Template name.
    pub template: String,
    /// Template language code.
    pub language: String,
    /// Body parameters' `text`, in order.
    pub parameters: Vec<String>,
    /// The `wamid.` id answered.
    pub message_id: String,
    /// When it arrived.
    pub received_at: SystemTime,
}

/// Handle to the WhatsApp sandbox's state. Clone freely.
#[derive(Clone)]
pub struct WhatsAppSandbox {
    config: Arc<WhatsAppSandboxConfig>,
    received: Arc<Mutex<Vec<ReceivedWhatsApp>>>,
}

struct WaError {
    status: StatusCode,
    code: u32,
    kind: &'static str,
    message: String,
}

impl WaError {
    fn new(status: StatusCode, code: u32, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            kind: "OAuthException",
            message: message.into(),
        }
    }
}

impl IntoResponse for WaError {
    fn into_response(self) -> Response {
        let body = json!({"error": {
            "message": self.message,
            "type": self.kind,
            "code": self.code,
            "error_data": {"messaging_product": "whatsapp", "details": self.message},
            "fbtrace_id": random_token()[..27].to_owned(),
        }});
        (self.status, Json(body)).into_response()
    }
}

impl WhatsAppSandbox {
    /// A sandbox with this configuration.
    pub fn new(config: WhatsAppSandboxConfig) -> Self {
        Self {
            config: Arc::new(config),
            received: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// Start on `listener` with this configuration.
    pub fn start_with(
        config: WhatsAppSandboxConfig,
        listener: TcpListener,
    ) -> std::io::Result<(WhatsAppSandbox, SandboxHandle)> {
        let sandbox = Self::new(config);
        let handle = sandbox.server().start(listener)?;
        Ok((sandbox, handle))
    }

    /// A [`SandboxServer`] named `whatsapp` with the admin routes.
    pub fn server(&self) -> SandboxServer {
        SandboxServer::new(self.router())
            .named("whatsapp")
            .with_admin_routes()
    }

    /// `POST /{version}/{phone_number_id}/messages`.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/{version}/{phone_number_id}/messages", post(send))
            .with_state(self.clone())
    }

    /// Every accepted message, in order.
    pub fn received(&self) -> Vec<ReceivedWhatsApp> {
        self.received.lock().clone()
    }

    /// How many messages were accepted.
    pub fn count(&self) -> usize {
        self.received.lock().len()
    }

    fn check(
        &self,
        headers: &HeaderMap,
        phone: &str,
        body: &[u8],
    ) -> Result<ReceivedWhatsApp, WaError> {
        let token = headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        if !self.config.access_tokens.iter().any(|t| t == token) {
            return Err(WaError::new(
                StatusCode::UNAUTHORIZED,
                190,
                "Invalid OAuth access token - Cannot parse access token",
            ));
        }
        if !self.config.phone_number_ids.iter().any(|p| p == phone) {
            let mut e = WaError::new(
                StatusCode::BAD_REQUEST,
                100,
                format!("Unsupported post request. Object with ID '{phone}' does not exist, cannot be loaded due to missing permissions, or does not support this operation."),
            );
            e.kind = "GraphMethodException";
            return Err(e);
        }
        let req: Value = serde_json::from_slice(body)
            .map_err(|_| WaError::new(StatusCode::BAD_REQUEST, 100, "(#100) Invalid parameter"))?;
        let missing = |name: &str| {
            WaError::new(
                StatusCode::BAD_REQUEST,
                131008,
                format!("(#131008) Required parameter is missing: {name}"),
            )
        };
        let invalid = |name: &str| {
            WaError::new(
                StatusCode::BAD_REQUEST,
                100,
                format!("(#100) Invalid parameter: {name}"),
            )
        };
        match req.get("messaging_product").and_then(Value::as_str) {
            Some("whatsapp") => {}
            None => return Err(missing("messaging_product")),
            Some(_) => return Err(invalid("messaging_product")),
        }
        if let Some(rt) = req.get("recipient_type") {
            if rt.as_str() != Some("individual") {
                return Err(invalid("recipient_type"));
            }
        }
        let to = req
            .get("to")
            .and_then(Value::as_str)
            .ok_or_else(|| missing("to"))?;
        let digits = to.strip_prefix('+').unwrap_or(to);
        if !(7..=15).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid("to"));
        }
        match req.get("type").and_then(Value::as_str) {
            Some("template") => {}
            None => return Err(missing("type")),
            Some(_) => {
                return Err(WaError::new(
                    StatusCode::BAD_REQUEST,
                    131051,
                    "(#131051) Unsupported message type (the sandbox takes templates only)",
                ))
            }
        }
        let template = req.get("template").ok_or_else(|| missing("template"))?;
        let name = template
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| missing("template.name"))?;
        let language = template["language"]["code"]
            .as_str()
            .ok_or_else(|| missing("template.language.code"))?;
        let Some(approved) = self
            .config
            .templates
            .iter()
            .find(|t| t.name == name && t.language == language)
        else {
            return Err(WaError::new(
                StatusCode::NOT_FOUND,
                132001,
                format!("(#132001) Template name does not exist in the translation: template name ({name}) does not exist in {language}"),
            ));
        };
        let mut parameters = Vec::new();
        if let Some(components) = template.get("components") {
            let list = components
                .as_array()
                .ok_or_else(|| invalid("template.components"))?;
            for c in list {
                match c.get("type").and_then(Value::as_str) {
                    Some("body") => {}
                    Some("header" | "button") => continue,
                    _ => return Err(invalid("template.components.type")),
                }
                for p in c
                    .get("parameters")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    match (
                        p.get("type").and_then(Value::as_str),
                        p.get("text").and_then(Value::as_str),
                    ) {
                        (Some("text"), Some(text)) => parameters.push(text.to_owned()),
                        _ => return Err(invalid("template.components.parameters")),
                    }
                }
            }
        }
        if parameters.len() != approved.body_parameters {
            return Err(WaError::new(
                StatusCode::BAD_REQUEST,
                132000,
                format!(
                    "(#132000) Number of parameters does not match the expected number of params: body: number of localizable_params ({}) does not match the expected number of params ({})",
                    parameters.len(),
                    approved.body_parameters
                ),
            ));
        }
        if let Some(allowed) = &self.config.allowed_recipients {
            if !allowed.iter().any(|a| a == digits) {
                return Err(WaError::new(
                    StatusCode::BAD_REQUEST,
                    131030,
                    "(#131030) Recipient phone number not in allowed list",
                ));
            }
        }
        Ok(ReceivedWhatsApp {
            phone_number_id: phone.to_owned(),
            to: to.to_owned(),
            template: name.to_owned(),
            language: language.to_owned(),
            parameters,
            message_id: format!("wamid.{}", random_token()),
            received_at: SystemTime::now(),
        })
    }
}

impl std::fmt::Debug for WhatsAppSandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WhatsAppSandbox")
            .field("config", &self.config)
            .field("received", &self.count())
            .finish()
    }
}

async fn send(
    State(sandbox): State<WhatsAppSandbox>,
    Path((_version, phone)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match sandbox.check(&headers, &phone, &body) {
        Ok(msg) => {
            let answer = json!({
                "messaging_product": "whatsapp",
                "contacts": [{"input": msg.to, "wa_id": msg.to.trim_start_matches('+')}],
                "messages": [{"id": msg.message_id}],
            });
            sandbox.received.lock().push(msg);
            Json(answer).into_response()
        }
        Err(e) => e.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn template_messages_are_validated_and_recorded() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let config = WhatsAppSandboxConfig {
            allowed_recipients: Some(vec!["254700000001".to_owned()]),
            ..WhatsAppSandboxConfig::default()
        };
        let (wa, sb) = WhatsAppSandbox::start_with(config, listener).unwrap();
        let http = reqwest::Client::new();
        let url = sb.url("/v21.0/106540352242922/messages");
        let msg = |to: &str, name: &str, params: &[&str]| {
            json!({
                "messaging_product": "whatsapp",
                "recipient_type": "individual",
                "to": to,
                "type": "template",
                "template": {"name": name, "language": {"code": "en"}, "components": [
                    {"type": "body", "parameters": params.iter().map(|p| json!({"type": "text", "text": p})).collect::<Vec<_>>()}
                ]}
            })
        };
        let post = |body: Value, token: &'static str| {
            let (http, url) = (http.clone(), url.clone());
            async move {
                let r = http
                    .post(url)
                    .bearer_auth(token)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                (r.status().as_u16(), r.json::<Value>().await.unwrap())
            }
        };
        let ok = msg(
            "+254700000001",
            "interview_reminder",
            &["Ada", "10:00", "https://x"],
        );
        let (status, ans) = post(ok.clone(), "sandbox-whatsapp-token").await;
        assert_eq!(status, 200, "{ans}");
        assert_eq!(ans["messaging_product"], "whatsapp");
        assert_eq!(ans["contacts"][0]["wa_id"], "254700000001");
        assert!(ans["messages"][0]["id"]
            .as_str()
            .unwrap()
            .starts_with("wamid."));
        let (status, err) = post(ok.clone(), "wrong").await;
        assert_eq!((status, err["error"]["code"].as_u64()), (401, Some(190)));
        let (_, err) = post(
            msg("+254700000001", "nope", &["a", "b", "c"]),
            "sandbox-whatsapp-token",
        )
        .await;
        assert_eq!(err["error"]["code"], 132001);
        let (_, err) = post(
            msg("+254700000001", "interview_reminder", &["a"]),
            "sandbox-whatsapp-token",
        )
        .await;
        assert_eq!(err["error"]["code"], 132000);
        let (_, err) = post(
            msg("+254799999999", "interview_reminder", &["a", "b", "c"]),
            "sandbox-whatsapp-token",
        )
        .await;
        assert_eq!(err["error"]["code"], 131030);
        let mut bad = ok;
        bad["messaging_product"] = json!("sms");
        assert_eq!(
            post(bad, "sandbox-whatsapp-token").await.1["error"]["code"],
            100
        );
        let got = wa.received();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].template, "interview_reminder");
        assert_eq!(got[0].parameters, vec!["Ada", "10:00", "https://x"]);
    }
}
