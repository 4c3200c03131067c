//! Small pieces every JSON REST client here shares: URLs built from a base and
//! path segments (each segment percent-encoded, so a calendar id such as
//! `en.usa#holiday@group.v.calendar.google.com` stays one segment), and the
//! bearer header.

use secrecy::{ExposeSecret, SecretString};
use url::Url;

use super::http::ProviderError;

/// `base` with `segments` appended as path segments, each percent-encoded.
/// A base path (`http://127.0.0.1:4000/google`) is kept.
pub(crate) fn endpoint(
    provider: &str,
    base: &Url,
    segments: &[&str],
) -> Result<Url, ProviderError> {
    let mut url = base.clone();
    url.set_query(None);
    url.set_fragment(None);
    {
        let mut path = url
            .path_segments_mut()
            .map_err(|()| ProviderError::InvalidRequest {
                provider: provider.to_owned(),
                message: "the api base url cannot take a path",
            })?;
        path.pop_if_empty();
        path.extend(segments);
    }
    Ok(url)
}

/// The `Authorization` header value of a bearer token.
pub(crate) fn bearer(token: &SecretString) -> String {
    format!("Bearer {}", token.expose_secret())
}

/// The `Authorization` header value of an API key used as the HTTP Basic
/// user name with an empty password (Lever, the Greenhouse Job Board).
pub(crate) fn basic_key(key: &SecretString) -> String {
    use base64::Engine;
    let encoded =
        base64::engine::general_purpose::STANDARD.encode(format!("{}:", key.expose_secret()));
    format!("Basic {encoded}")
}

/// Whether `link` (a next-page link the provider returned) points at the
/// same origin as `base`: the token is never sent anywhere else.
pub(crate) fn same_origin(base: &Url, link: &Url) -> bool {
    base.scheme() == link.scheme()
        && base.host_str() == link.host_str()
        && base.port_or_known_default() == link.port_or_known_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_encoded_and_the_base_path_kept() {
        let base = Url::parse("https://www.googleapis.com").unwrap();
        let url = endpoint(
            "p",
            &base,
            &[
                "calendar",
                "v3",
                "calendars",
                "a#b@group.v.calendar.google.com",
                "events",
            ],
        )
        .unwrap();
        assert_eq!(
            url.as_str(),
            "https://www.googleapis.com/calendar/v3/calendars/a%23b@group.v.calendar.google.com/events"
        );
        let base = Url::parse("http://127.0.0.1:4000/google/").unwrap();
        let url = endpoint("p", &base, &["x", "a/b c"]).unwrap();
        assert_eq!(url.as_str(), "http://127.0.0.1:4000/google/x/a%2Fb%20c");
    }

    #[test]
    fn same_origin_compares_scheme_host_and_port() {
        let base = Url::parse("https://graph.microsoft.com").unwrap();
        let ok = Url::parse("https://graph.microsoft.com:443/v1.0/me/calendars?$skip=10").unwrap();
        let other = Url::parse("https://evil.example/v1.0/me/calendars").unwrap();
        let plain = Url::parse("http://graph.microsoft.com/v1.0").unwrap();
        assert!(same_origin(&base, &ok));
        assert!(!same_origin(&base, &other));
        assert!(!same_origin(&base, &plain));
    }
}
