//! `GET /v2/userinfo` (Sign In with LinkedIn using OpenID Connect).
//!
//! Answers what production answers, which differs from the documented
//! sample: `locale` is an object `{"country", "language"}`, `email_verified`
//! a boolean. Email fields only with scope `email` and a member that has an
//! email; profile fields only with scope `profile`.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

use super::errors::ApiError;
use super::{authenticate, LinkedInSandbox};

/// `GET /v2/userinfo`.
pub(super) async fn userinfo(
    State(sandbox): State<LinkedInSandbox>,
    headers: HeaderMap,
) -> Response {
    let (info, member) = match authenticate(&sandbox, &headers) {
        Ok(found) => found,
        Err(e) => return e.into_response(),
    };
    let has = |scope: &str| info.scopes.iter().any(|s| s == scope);
    if !has("openid") {
        return ApiError::access_denied("userinfo.GET.NO_VERSION").into_response();
    }
    let mut body = Map::new();
    body.insert("sub".to_owned(), json!(member.sub));
    if has("profile") {
        body.insert("name".to_owned(), json!(member.name()));
        body.insert("given_name".to_owned(), json!(member.given_name));
        body.insert("family_name".to_owned(), json!(member.family_name));
        if let Some(picture) = &member.picture {
            body.insert("picture".to_owned(), json!(picture));
        }
        body.insert(
            "locale".to_owned(),
            json!({"country": member.locale.country, "language": member.locale.language}),
        );
    }
    if has("email") {
        if let Some(email) = &member.email {
            body.insert("email".to_owned(), json!(email));
            body.insert("email_verified".to_owned(), json!(member.email_verified));
        }
    }
    Json(Value::Object(body)).into_response()
}
