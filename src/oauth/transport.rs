//! The `oauth2` crate's HTTP client, sending through [`OutboundHttp`] so token
//! requests get the same timeouts, retries, rate budget, circuit breaker and
//! metrics as every other provider call.

use std::{future::Future, pin::Pin};

use oauth2::{AsyncHttpClient, HttpRequest, HttpResponse};

use crate::providers::http::{OutboundHttp, ProviderCall, ProviderError};

/// One provider operation's view of the outbound client.
pub struct OAuthTransport<'a> {
    pub outbound: &'a OutboundHttp,
    pub provider: &'a str,
    pub operation: &'a str,
    pub credential_key: Option<&'a str>,
    /// Send an `https` request for a loopback host as plain `http`: only for
    /// the revocation request, whose `https`-only rule (RFC 7009 §2, enforced
    /// by the `oauth2` crate) the simulated providers on 127.0.0.1 cannot meet.
    pub loopback_plain_http: bool,
}

/// Whether `url` names a loopback host (127.0.0.0/8, ::1, `localhost`).
pub(super) fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name == "localhost",
        None => false,
    }
}

/// `url` with its scheme made `http` when it is an `https` URL of a loopback host.
fn loopback_as_http(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else {
        return url.to_owned();
    };
    if parsed.scheme() == "https" && is_loopback(&parsed) && parsed.set_scheme("http").is_ok() {
        parsed.to_string()
    } else {
        url.to_owned()
    }
}

impl<'c> AsyncHttpClient<'c> for OAuthTransport<'_> {
    type Error = ProviderError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, ProviderError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            // Token requests change state at the provider (a code is single use,
            // a refresh token may rotate): never repeat one that may have arrived.
            let mut call =
                ProviderCall::non_idempotent(self.provider, self.operation).passing_client_errors();
            if let Some(key) = self.credential_key {
                call = call.with_credential(key);
            }
            let client = self.outbound.client();
            let mut url = parts.uri.to_string();
            if self.loopback_plain_http {
                url = loopback_as_http(&url);
            }
            let response = self
                .outbound
                .send(call, || {
                    client
                        .request(parts.method.clone(), &url)
                        .headers(parts.headers.clone())
                        .body(body.clone())
                })
                .await?;
            let mut builder = http::Response::builder().status(response.status);
            if let Some(headers) = builder.headers_mut() {
                *headers = response.headers.clone();
            }
            builder
                .body(response.body.to_vec())
                .map_err(|_| ProviderError::Decode {
                    message: "unreadable token response".to_owned(),
                })
        })
    }
}
