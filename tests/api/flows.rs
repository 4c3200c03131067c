//! Starting authorization flows is bounded per user, and a callback whose
//! query is malformed fails cleanly on the failure page.

use nextke_integrations::proto::StartLinkedInAuthRequest;

use crate::{
    db_tests,
    helpers::{authed, no_redirect_client, token, Backend},
    linkedin::{browser, li},
};

fn query(url: &url::Url, key: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

/// One user may start 10 flows a minute (the default) and keeps the 5 newest
/// pending; the 11th answers RESOURCE_EXHAUSTED with the time to wait, the
/// oldest flows no longer complete, the newest does, other users are not held up.
async fn starting_flows_is_rate_limited_and_capped(backend: Backend) {
    let li = li(backend, |_| {}, |_| {}).await;
    let mut started = Vec::new();
    for _ in 0..10 {
        started.push(li.start("ada").await);
    }
    let refused = li
        .client()
        .await
        .start_linked_in_auth(authed(StartLinkedInAuthRequest {}, &token("ada", &[])))
        .await
        .expect_err("the 11th start in a minute");
    assert_eq!(refused.code(), tonic::Code::ResourceExhausted);
    let wait: u64 = refused
        .metadata()
        .get("retry-after")
        .expect("retry-after")
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&wait), "retry after {wait} s");
    assert_eq!(li.count("oauth_states", "user_id = 'ada'").await, 5);
    // another user is not held up
    li.start("bob").await;

    // the oldest flow was dropped: its consent lands on the failure page
    let landed = browser()
        .get(&started[0].authorization_url)
        .send()
        .await
        .expect("browse")
        .url()
        .clone();
    assert_eq!(query(&landed, "error").as_deref(), Some("invalid_state"));
    let landed = browser()
        .get(&started[9].authorization_url)
        .send()
        .await
        .expect("browse")
        .url()
        .clone();
    assert_eq!(query(&landed, "linkedin").as_deref(), Some("connected"));
    li.app.stop().await;
}

/// A duplicated or undecodable parameter redirects to the failure page with
/// `error=invalid_request`, consuming nothing: the real callback still works.
async fn malformed_callback_query_redirects_to_failure(backend: Backend) {
    let li = li(backend, |_| {}, |_| {}).await;
    let started = li.start("ada").await;
    let to_callback = no_redirect_client()
        .get(&started.authorization_url)
        .send()
        .await
        .expect("authorize");
    let callback = url::Url::parse(to_callback.headers()["location"].to_str().expect("ascii"))
        .expect("callback url");
    let state = query(&callback, "state").expect("state");
    let code = query(&callback, "code").expect("code");
    let path = format!("{}{}", li.app.base_url, callback.path());
    for bad in [
        format!("code={code}&state={state}&state={state}"),
        format!("code={code}&code=other&state={state}"),
        format!("code={code}&state={state}&%73tate=forged"),
        format!("code={code}&state=%ZZ{state}"),
        format!("code=%FF%FE&state={state}"),
        format!("code={code}&state={state}&error=a&error=b"),
    ] {
        let answer = no_redirect_client()
            .get(format!("{path}?{bad}"))
            .send()
            .await
            .expect("callback");
        assert!(
            answer.status().is_redirection(),
            "{bad}: {}",
            answer.status()
        );
        let location = url::Url::parse(answer.headers()["location"].to_str().expect("ascii"))
            .expect("failure url");
        assert_eq!(
            query(&location, "linkedin").as_deref(),
            Some("failed"),
            "{bad}"
        );
        assert_eq!(
            query(&location, "error").as_deref(),
            Some("invalid_request"),
            "{bad}"
        );
    }
    let landed = browser()
        .get(callback.as_str())
        .send()
        .await
        .expect("callback")
        .url()
        .clone();
    assert_eq!(query(&landed, "linkedin").as_deref(), Some("connected"));
    li.app.stop().await;
}

db_tests!(
    starting_flows_is_rate_limited_and_capped,
    malformed_callback_query_redirects_to_failure,
);
