//! An error answer that echoes the request's credentials, as a careless
//! provider or a proxy before it does: the bearer token of the
//! `Authorization` header and the secrets of a form body (`refresh_token`,
//! `code`, `client_secret`, `token`, `code_verifier`) come back in the body,
//! in every field a client might read (`error`, `error_description`,
//! `message`, `code`), and in a `WWW-Authenticate` header.

use axum::body::Body;
use axum::http::{header, request::Parts, HeaderValue, Response, StatusCode};

/// How an echoing answer writes its body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EchoFormat {
    /// `application/json` with the secrets in `error`, `error_description`,
    /// `message` and `code`.
    Json,
    /// `text/plain`, the secrets in a sentence.
    Text,
}

/// Form fields whose values are echoed.
const FORM_SECRETS: &[&str] = &[
    "refresh_token",
    "code",
    "client_secret",
    "token",
    "code_verifier",
];

/// The secrets of a request: its bearer token and the secret form fields.
pub(crate) fn secrets_of(parts: &Parts, body: &[u8]) -> Vec<String> {
    let mut secrets = Vec::new();
    if let Some(token) = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .map(|(_, credentials)| credentials.trim())
        .filter(|c| !c.is_empty())
    {
        secrets.push(token.to_owned());
    }
    for (key, value) in url::form_urlencoded::parse(body) {
        if FORM_SECRETS.contains(&key.as_ref()) && !value.is_empty() {
            secrets.push(value.into_owned());
        }
    }
    secrets
}

/// The echoing answer for `secrets`.
pub(crate) fn echo_response(
    status: StatusCode,
    format: EchoFormat,
    secrets: &[String],
) -> Response<Body> {
    let first = secrets.first().cloned().unwrap_or_default();
    let all = secrets.join(" ");
    let (content_type, body) = match format {
        EchoFormat::Json => (
            "application/json",
            serde_json::json!({
                "status": status.as_u16(),
                "error": first,
                "error_description": format!("the credentials {all} were refused"),
                "message": format!("Invalid access token: Bearer {first}"),
                "code": first,
                "echo": secrets,
            })
            .to_string(),
        ),
        EchoFormat::Text => (
            "text/plain; charset=utf-8",
            format!("refused: Bearer {first}; access_token={first}; secrets: {all}"),
        ),
    };
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    let challenge = format!(r#"Bearer error="invalid_token", error_description="{first}""#);
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        resp.headers_mut().insert(header::WWW_AUTHENTICATE, value);
    }
    resp
}
