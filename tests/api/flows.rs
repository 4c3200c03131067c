//! Starting authorization flows is bounded per user, and a callback whose
//! query is malformed fails cleanly on the failure page.

use nextke_integrations::proto::StartLinkedInAuthRequest;

use crate::{
    db_tests,
    helpers::{authed, no_redirect_client, sql, token, Backend},
    linkedin::{browser, hop, li, query, stepping_browser},
};

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
    let ada = stepping_browser();
    let (_, callback) = li.to_callback("ada", &ada).await;
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
        let answer = ada
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
    let landed = hop(&ada, callback.as_str()).await;
    assert_eq!(query(&landed, "linkedin").as_deref(), Some("connected"));
    li.app.stop().await;
}

/// Account-linking CSRF (RFC 9700 §4.7.1): a flow is bound to the browser
/// that opened its start page. Mallory opens hers, and sends the provider's
/// URL to Ada; Ada consents in her own browser, and the callback refuses it
/// without consuming the flow. Mallory's own browser still completes.
async fn a_flow_completes_only_in_the_browser_that_started_it(backend: Backend) {
    let li = li(backend, |_| {}, |_| {}).await;
    let mallory = stepping_browser();
    let (provider_url, _) = li.to_callback("mallory", &mallory).await;
    let victim = stepping_browser();
    let callback = hop(&victim, provider_url.as_str()).await;
    let landed = hop(&victim, callback.as_str()).await;
    assert_eq!(query(&landed, "error").as_deref(), Some("wrong_browser"));
    // a browser whose cookie was changed is another browser
    let forged = no_redirect_client()
        .get(callback.as_str())
        .header("cookie", "nextke_oauth_browser=not-the-one")
        .send()
        .await
        .expect("callback");
    let landed = crate::linkedin::location(&forged);
    assert_eq!(query(&landed, "error").as_deref(), Some("wrong_browser"));
    assert_eq!(li.count("oauth_credentials", "1 = 1").await, 0);
    // the start link opened in a second browser is refused too
    let started = li.start("mallory").await;
    let first = stepping_browser();
    hop(&first, &started.authorization_url).await;
    let second = hop(&victim, &started.authorization_url).await;
    assert_eq!(query(&second, "error").as_deref(), Some("wrong_browser"));
    // mallory's own browser completes its flow, still pending
    let landed = hop(&mallory, callback.as_str()).await;
    assert_eq!(query(&landed, "linkedin").as_deref(), Some("connected"));
    assert_eq!(li.count("oauth_credentials", "1 = 1").await, 1);
    li.app.stop().await;
}

/// A start link opened from outside the frontend (a mail, another site), as
/// the browser tells with `Sec-Fetch-Site`, goes to the failure page.
async fn start_page_opened_from_elsewhere_is_refused(backend: Backend) {
    let li = li(backend, |_| {}, |_| {}).await;
    let started = li.start("ada").await;
    for (site, referer) in [
        ("none", None),
        ("cross-site", None),
        ("cross-site", Some("https://mail.example/inbox")),
    ] {
        let mut request = stepping_browser()
            .get(&started.authorization_url)
            .header("sec-fetch-site", site);
        if let Some(referer) = referer {
            request = request.header("referer", referer);
        }
        let landed = crate::linkedin::location(&request.send().await.expect("start page"));
        assert_eq!(
            query(&landed, "error").as_deref(),
            Some("invalid_request"),
            "{site}"
        );
    }
    // from the frontend (an allowed origin), it goes on to the provider
    let ada = stepping_browser();
    let provider = crate::linkedin::location(
        &ada.get(&started.authorization_url)
            .header("sec-fetch-site", "cross-site")
            .header("referer", "https://app.next.ke/settings/integrations")
            .send()
            .await
            .expect("start page"),
    );
    assert!(provider.as_str().starts_with(&li.handle.base_url()));
    // an expired flow's start page lands on the failure page
    let bob = li.start("bob").await;
    sql(
        &li.app,
        "UPDATE oauth_states SET expires_at = '2000-01-01 00:00:00+00:00'",
    )
    .await;
    let landed = hop(&stepping_browser(), &bob.authorization_url).await;
    assert_eq!(query(&landed, "linkedin").as_deref(), Some("failed"));
    li.app.stop().await;
}

/// Every OAuth provider has the one callback, on each integration's path: a
/// LinkedIn flow arriving on the calendar callback (or its start page) is
/// refused on the calendar's failure page and consumes nothing, and the same flow still completes on LinkedIn's path.
async fn a_flow_completes_only_on_its_own_integrations_callback(backend: Backend) {
    let li = li(backend, |_| {}, |_| {}).await;
    let ada = stepping_browser();
    let (_, callback) = li.to_callback("ada", &ada).await;
    let mut elsewhere = callback.clone();
    elsewhere.set_path("/api/v1/integrations/calendar/callback");
    let landed = hop(&ada, elsewhere.as_str()).await;
    assert_eq!(query(&landed, "calendar").as_deref(), Some("failed"));
    assert_eq!(query(&landed, "error").as_deref(), Some("invalid_state"));
    assert_eq!(li.count("oauth_credentials", "1 = 1").await, 0);
    assert_eq!(
        li.count("oauth_states", "1 = 1").await,
        1,
        "the flow is not consumed"
    );
    // the calendar's start page refuses the flow of another integration too
    let bob = li.start("bob").await;
    let mut start = url::Url::parse(&bob.authorization_url).expect("url");
    start.set_path("/api/v1/integrations/calendar/auth");
    let landed = hop(&stepping_browser(), start.as_str()).await;
    assert_eq!(query(&landed, "error").as_deref(), Some("invalid_state"));
    // on its own path the flow completes
    let landed = hop(&ada, callback.as_str()).await;
    assert_eq!(query(&landed, "linkedin").as_deref(), Some("connected"));
    assert_eq!(li.count("oauth_credentials", "1 = 1").await, 1);
    li.app.stop().await;
}

db_tests!(
    a_flow_completes_only_on_its_own_integrations_callback,
    a_flow_completes_only_in_the_browser_that_started_it,
    start_page_opened_from_elsewhere_is_refused,
    starting_flows_is_rate_limited_and_capped,
    malformed_callback_query_redirects_to_failure,
);
