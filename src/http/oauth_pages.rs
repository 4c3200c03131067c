//! The browser's side of an OAuth flow: the start page that binds a flow to
//! the browser and sends it to the provider, and the callback. Neither shows
//! a token: both only redirect.

use std::sync::Arc;

use axum::{
    extract::{RawQuery, State},
    http::{header, HeaderMap, HeaderValue},
    response::{IntoResponse, Redirect, Response},
};

use crate::{
    context::AppContext,
    domain::connections::{self, Integration, BROWSER_COOKIE},
    error::AppError,
    oauth::{new_browser_secret, STATE_TTL},
};

/// Longest cookie value we read; ours are 43 characters.
const MAX_COOKIE_VALUE: usize = 128;

/// `GET /api/v1/integrations/{linkedin|calendar}/auth?flow=...` of `integration`.
pub async fn start_page(
    integration: Integration,
    State(ctx): State<Arc<AppContext>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    start(&ctx, integration, &headers, query.as_deref()).await
}

/// `GET /api/v1/integrations/{linkedin|calendar}/callback` of `integration`:
/// the one callback of every OAuth provider.
pub async fn callback(
    integration: Integration,
    State(ctx): State<Arc<AppContext>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Redirect {
    let browser = cookie(&headers, BROWSER_COOKIE);
    Redirect::to(
        &connections::complete_callback(&ctx, integration, query.as_deref(), browser.as_deref())
            .await,
    )
}

async fn start(
    ctx: &AppContext,
    integration: Integration,
    headers: &HeaderMap,
    query: Option<&str>,
) -> Response {
    let config = &ctx.config;
    let Some(state) = flow_param(query) else {
        return Redirect::to(&integration.failure_url(config, "invalid_request")).into_response();
    };
    if !navigation_from_our_frontend(headers, &config.cors_allowed_origins) {
        tracing::info!(kind = %integration.kind(), "start page opened from outside the frontend");
        return Redirect::to(&integration.failure_url(config, "invalid_request")).into_response();
    }
    let browser = cookie(headers, BROWSER_COOKIE).unwrap_or_else(new_browser_secret);
    match connections::open_flow(ctx, integration, &state, &browser).await {
        Ok(provider_url) => {
            let secure = if config.public_base().starts_with("https://") {
                "; Secure"
            } else {
                ""
            };
            let set_cookie = format!(
                "{BROWSER_COOKIE}={browser}; Path=/api/v1/integrations; Max-Age={}; HttpOnly; SameSite=Lax{secure}",
                STATE_TTL.num_seconds()
            );
            let mut response = Redirect::to(&provider_url).into_response();
            match HeaderValue::from_str(&set_cookie) {
                Ok(value) => {
                    response.headers_mut().insert(header::SET_COOKIE, value);
                    response
                        .headers_mut()
                        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                    response
                }
                Err(_) => {
                    AppError::Internal(anyhow::anyhow!("browser cookie is not a header value"))
                        .into_response()
                }
            }
        }
        Err(failure) => Redirect::to(&failure).into_response(),
    }
}

/// The one `flow` parameter of the start page's query; anything else there
/// (a second `flow`, an undecodable value) makes the request invalid.
fn flow_param(query: Option<&str>) -> Option<String> {
    let mut flow = None;
    for (name, value) in url::form_urlencoded::parse(query?.as_bytes()) {
        if name == "flow" {
            if flow.is_some() || value.len() > 256 {
                return None;
            }
            flow = Some(value.into_owned());
        }
    }
    flow.filter(|f| !f.is_empty())
}

/// Whether a navigation comes from our frontend, as far as the browser says
/// (`Sec-Fetch-Site`, sent by every current browser): same origin or same
/// site, or cross-site with a `Referer` on an allowed frontend origin. A link
/// opened from a mail or another site is refused, so a start link forwarded
/// before its owner opened it cannot be opened by someone else. Clients that
/// send no `Sec-Fetch-Site` are let through.
fn navigation_from_our_frontend(headers: &HeaderMap, allowed_origins: &[String]) -> bool {
    let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) else {
        return true;
    };
    match site {
        "same-origin" | "same-site" => true,
        "cross-site" => headers
            .get(header::REFERER)
            .and_then(|v| v.to_str().ok())
            .and_then(|r| url::Url::parse(r).ok())
            .map(|r| r.origin().ascii_serialization())
            .is_some_and(|origin| {
                allowed_origins
                    .iter()
                    .any(|allowed| allowed.trim().trim_end_matches('/') == origin)
            }),
        _ => false,
    }
}

/// The value of cookie `name`, if the request carries exactly one sane one.
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    let mut found = None;
    for header in headers.get_all(header::COOKIE) {
        let Ok(text) = header.to_str() else { continue };
        for pair in text.split(';') {
            let Some((key, value)) = pair.trim().split_once('=') else {
                continue;
            };
            if key == name {
                if found.is_some() {
                    return None;
                }
                found = Some(value.to_owned());
            }
        }
    }
    found.filter(|v| {
        !v.is_empty()
            && v.len() <= MAX_COOKIE_VALUE
            && v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(*k, HeaderValue::from_str(v).unwrap());
        }
        map
    }

    #[test]
    fn reads_one_sane_cookie() {
        let h = headers(&[("cookie", "a=1; nextke_oauth_browser=abc-_9; b=2")]);
        assert_eq!(cookie(&h, BROWSER_COOKIE).as_deref(), Some("abc-_9"));
        let twice = headers(&[
            ("cookie", "nextke_oauth_browser=a"),
            ("cookie", "nextke_oauth_browser=b"),
        ]);
        assert_eq!(cookie(&twice, BROWSER_COOKIE), None);
        let odd = headers(&[("cookie", "nextke_oauth_browser=a;b\"c")]);
        assert_eq!(cookie(&odd, BROWSER_COOKIE).as_deref(), Some("a"));
        let bad = headers(&[("cookie", "nextke_oauth_browser=a%20b")]);
        assert_eq!(cookie(&bad, BROWSER_COOKIE), None);
    }

    #[test]
    fn start_page_takes_one_flow() {
        assert_eq!(flow_param(Some("flow=abc")).as_deref(), Some("abc"));
        assert_eq!(flow_param(Some("flow=abc&flow=abc")), None);
        assert_eq!(flow_param(Some("other=1")), None);
        assert_eq!(flow_param(None), None);
    }

    #[test]
    fn navigations_from_elsewhere_are_refused() {
        let allowed = vec!["https://app.next.ke".to_owned()];
        assert!(navigation_from_our_frontend(&headers(&[]), &allowed));
        for site in ["same-origin", "same-site"] {
            assert!(navigation_from_our_frontend(
                &headers(&[("sec-fetch-site", site)]),
                &allowed
            ));
        }
        assert!(navigation_from_our_frontend(
            &headers(&[
                ("sec-fetch-site", "cross-site"),
                ("referer", "https://app.next.ke/settings")
            ]),
            &allowed
        ));
        for refused in [
            headers(&[("sec-fetch-site", "none")]),
            headers(&[("sec-fetch-site", "cross-site")]),
            headers(&[
                ("sec-fetch-site", "cross-site"),
                ("referer", "https://mail.example/inbox"),
            ]),
        ] {
            assert!(!navigation_from_our_frontend(&refused, &allowed));
        }
    }
}
