//! Tests of the Greenhouse sandbox over real loopback HTTP: auth, Harvest
//! lists and pagination, rate limit, page faults (writes and the Job Board
//! API are in `write_tests`, webhooks in `webhook_tests`).

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::generate::{JOB_ID_BASE, POST_ID_BASE};
use super::*;

pub(super) struct Fx {
    pub(super) gh: GreenhouseSandbox,
    pub(super) sb: SandboxHandle,
    pub(super) http: reqwest::Client,
}

pub(super) async fn fixture(config: GreenhouseSandboxConfig) -> Fx {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (gh, sb) = GreenhouseSandbox::start_with(config, listener).unwrap();
    Fx {
        gh,
        sb,
        http: reqwest::Client::new(),
    }
}

pub(super) fn big_limit() -> GreenhouseSandboxConfig {
    GreenhouseSandboxConfig {
        rate_limit: 100_000,
        ..GreenhouseSandboxConfig::default()
    }
}

/// The `rel="next"` URL of a `Link` header.
pub(super) fn next_link(resp: &reqwest::Response) -> Option<String> {
    let link = resp.headers().get("link")?.to_str().ok()?;
    link.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        params.contains("rel=\"next\"").then(|| {
            url.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_owned()
        })
    })
}

impl Fx {
    pub(super) async fn token_response(&self, id: &str, secret: &str, form: &str) -> (u16, Value) {
        let resp = self
            .http
            .post(self.sb.url("/token"))
            .basic_auth(id, Some(secret))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form.to_owned())
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    pub(super) async fn token(&self) -> String {
        let form = format!("grant_type=client_credentials&sub={DEFAULT_USER_ID}");
        let (status, body) = self
            .token_response(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, &form)
            .await;
        assert_eq!(status, 200, "{body}");
        body["access_token"].as_str().unwrap().to_owned()
    }

    pub(super) async fn get(&self, path_or_url: &str, token: &str) -> reqwest::Response {
        let url = if path_or_url.starts_with("http") {
            path_or_url.to_owned()
        } else {
            self.sb.url(path_or_url)
        };
        self.http.get(url).bearer_auth(token).send().await.unwrap()
    }

    pub(super) async fn post(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        let resp = self
            .http
            .post(self.sb.url(path))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// Every item of a walk from `first`, and the number of pages.
    pub(super) async fn walk(&self, first: &str, token: &str) -> (Vec<Value>, usize) {
        let mut url = first.to_owned();
        let (mut all, mut pages) = (Vec::new(), 0);
        loop {
            let resp = self.get(&url, token).await;
            assert_eq!(resp.status(), 200);
            let next = next_link(&resp);
            let items: Vec<Value> = resp.json().await.unwrap();
            all.extend(items);
            pages += 1;
            match next {
                Some(n) => url = n,
                None => return (all, pages),
            }
        }
    }
}

#[tokio::test]
async fn token_endpoint_checks_client_and_sub() {
    let fx = fixture(GreenhouseSandboxConfig::default()).await;
    let ok = format!("grant_type=client_credentials&sub={DEFAULT_USER_ID}");
    let (status, body) = fx
        .token_response(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, &ok)
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert!(chrono::DateTime::parse_from_rfc3339(body["expires_at"].as_str().unwrap()).is_ok());
    let (status, body) = fx.token_response(DEFAULT_CLIENT_ID, "wrong", &ok).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    for form in [
        "grant_type=client_credentials".to_owned(),
        "grant_type=client_credentials&sub=ada".to_owned(),
        "grant_type=client_credentials&sub=999".to_owned(),
    ] {
        let (status, body) = fx
            .token_response(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, &form)
            .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_request")),
            "{form}"
        );
    }
    assert_eq!(fx.gh.tokens_issued(), 1);

    // The token works, until revoked; no token at all is a 401 as well.
    let token = fx.token().await;
    assert_eq!(fx.get("/v3/jobs?per_page=1", &token).await.status(), 200);
    fx.gh.revoke_all_tokens();
    let resp = fx.get("/v3/jobs?per_page=1", &token).await;
    assert_eq!(resp.status(), 401);
    assert!(resp.json::<Value>().await.unwrap()["message"].is_string());
    let resp = fx.http.get(fx.sb.url("/v3/jobs")).send().await.unwrap();
    assert_eq!(resp.status(), 401);

    // Tokens that die before their expires_in.
    fx.gh.set_token_lifetime(Some(Duration::from_millis(50)));
    let token = fx.token().await;
    assert_eq!(fx.get("/v3/jobs?per_page=1", &token).await.status(), 200);
    tokio::time::sleep(Duration::from_millis(80)).await;
    assert_eq!(fx.get("/v3/jobs?per_page=1", &token).await.status(), 401);
}

#[tokio::test]
async fn missing_scope_is_forbidden() {
    let config = GreenhouseSandboxConfig {
        clients: vec![GreenhouseClient::new("posts-only", "s").with_scopes(&[SCOPE_JOB_POSTS_LIST])],
        ..GreenhouseSandboxConfig::default()
    };
    let fx = fixture(config).await;
    let token = fx.gh.mint_token("posts-only", DEFAULT_USER_ID).unwrap();
    assert_eq!(fx.get("/v3/jobs", &token).await.status(), 403);
    assert_eq!(fx.get("/v3/job_posts", &token).await.status(), 200);
    let (status, _) = fx.post("/v3/candidates", &token, json!({})).await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn jobs_walk_pages_by_cursor_only() {
    let fx = fixture(big_limit()).await;
    fx.gh.seed_jobs(250, 200);
    let token = fx.token().await;
    let (all, pages) = fx.walk("/v3/jobs?per_page=100", &token).await;
    assert_eq!((all.len(), pages), (250, 3));
    let ids: Vec<u64> = all.iter().map(|j| j["id"].as_u64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ordered by id");
    assert_eq!(ids[0], JOB_ID_BASE + 1);
    let job = &all[0];
    for key in [
        "name",
        "requisition_id",
        "status",
        "created_at",
        "updated_at",
        "departments",
        "offices",
        "hiring_team",
        "openings",
        "custom_fields",
        "keyed_custom_fields",
    ] {
        assert!(job.get(key).is_some(), "{key}");
    }
    assert_eq!(job["is_template"], false);
    assert!(job["copied_from_id"].is_null());
    assert_eq!(job["custom_fields"]["employment_type"], "Full-time");
    assert_eq!(job["custom_fields"]["salary_range"]["unit"], "USD");
    assert_eq!(
        job["keyed_custom_fields"]["salary_range"]["type"],
        "currency_range"
    );
    assert!(all
        .iter()
        .any(|j| j["offices"][0]["location"]["name"] == "Remote"));

    // The Link is on the request's own origin, and the cursor must stand alone.
    let resp = fx.get("/v3/jobs?per_page=100&status=open", &token).await;
    let next = next_link(&resp).unwrap();
    assert!(
        next.starts_with(&format!("{}/v3/jobs?cursor=", fx.sb.base_url())),
        "{next}"
    );
    let resp = fx.get(&format!("{next}&per_page=5"), &token).await;
    assert_eq!(resp.status(), 422);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["errors"][0]["field"], "cursor");
    let (open, _) = fx.walk("/v3/jobs?per_page=100&status=open", &token).await;
    assert!(open.iter().all(|j| j["status"] == "open"));
    assert_eq!(open.len(), 250 - 10 * 2 - 10 * 3);
    for bad in [
        "per_page=0",
        "per_page=501",
        "status=archived",
        "updated_at=since%7C2026-01-01T00:00:00Z",
        "cursor=%21%21",
    ] {
        assert_eq!(
            fx.get(&format!("/v3/jobs?{bad}"), &token).await.status(),
            422,
            "{bad}"
        );
    }
    // `ids` filter.
    let a = JOB_ID_BASE + 3;
    let b = JOB_ID_BASE + 7;
    let resp = fx.get(&format!("/v3/jobs?ids={a},{b}"), &token).await;
    let list: Vec<Value> = resp.json().await.unwrap();
    assert_eq!(list.len(), 2);
}

#[tokio::test]
async fn updated_at_filters_see_changes() {
    let fx = fixture(big_limit()).await;
    let token = fx.token().await;
    let start = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let q = format!("/v3/jobs?updated_at=gte%7C{start}");
    let list: Vec<Value> = fx.get(&q, &token).await.json().await.unwrap();
    assert!(list.is_empty());
    let id = JOB_ID_BASE + 5;
    assert!(fx
        .gh
        .update_job(id, |j| j.name = "Chief Sandbox Officer".into()));
    assert!(fx.gh.close_job(JOB_ID_BASE + 6));
    let new_id = fx.gh.add_job();
    let list: Vec<Value> = fx.get(&q, &token).await.json().await.unwrap();
    let ids: Vec<u64> = list.iter().map(|j| j["id"].as_u64().unwrap()).collect();
    assert_eq!(ids, vec![id, JOB_ID_BASE + 6, new_id]);
    assert_eq!(list[0]["name"], "Chief Sandbox Officer");
    assert_eq!(list[1]["status"], "closed");
    // A two-sided window that ends before the changes.
    let q = format!("/v3/jobs?updated_at=gte%7C2020-01-01T00:00:00Z%7Clt%7C{start}&per_page=500");
    let list: Vec<Value> = fx.get(&q, &token).await.json().await.unwrap();
    assert_eq!(list.len(), fx.gh.job_count() - 3);
    assert!(fx.gh.delete_job(id).is_some());
    assert!(fx.gh.job(id).is_none() && fx.gh.post_of_job(id).is_none());
}

#[tokio::test]
async fn job_posts_list_filters() {
    let fx = fixture(big_limit()).await;
    let token = fx.token().await;
    let (all, _) = fx.walk("/v3/job_posts?per_page=15", &token).await;
    assert_eq!(all.len(), 40);
    let p = &all[0];
    assert_eq!(p["id"], POST_ID_BASE + 1);
    assert_eq!(p["job_id"], JOB_ID_BASE + 1);
    assert_eq!(p["location"]["job_post_location_type"]["name"], "Free Text");
    assert!(p["content"].as_str().unwrap().starts_with("<h2>"));
    let q = &p["questions"];
    assert!(q
        .as_array()
        .unwrap()
        .iter()
        .any(|q| q["name"] == "resume" && q["type"] == "attachment"));
    let job_ids = format!("{},{}", JOB_ID_BASE + 2, JOB_ID_BASE + 3);
    let list: Vec<Value> = fx
        .get(&format!("/v3/job_posts?job_ids={job_ids}"), &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list.len(), 2);
    let (live, _) = fx
        .walk("/v3/job_posts?live=true&per_page=500", &token)
        .await;
    assert!(live.iter().all(|p| p["live"] == true) && !live.is_empty());
    assert!(fx.gh.delete_job_post(POST_ID_BASE + 8));
    let (deleted, _) = fx.walk("/v3/job_posts?active=false", &token).await;
    assert_eq!(deleted.len(), 1);
    assert_eq!(deleted[0]["id"], POST_ID_BASE + 8);
}

#[tokio::test]
async fn rate_limit_headers_then_429() {
    let config = GreenhouseSandboxConfig {
        rate_limit: 3,
        ..GreenhouseSandboxConfig::default()
    };
    let fx = fixture(config).await;
    let token = fx.token().await;
    for remaining in ["2", "1", "0"] {
        let resp = fx.get("/v3/jobs?per_page=1", &token).await;
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["x-ratelimit-limit"], "3");
        assert_eq!(resp.headers()["x-ratelimit-remaining"], remaining);
    }
    let resp = fx.get("/v3/jobs?per_page=1", &token).await;
    assert_eq!(resp.status(), 429);
    let retry: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=10).contains(&retry));
    let reset: u64 = resp.headers()["x-ratelimit-reset"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(reset >= chrono::Utc::now().timestamp() as u64);
    assert!(resp.headers().get("x-ratelimit-remaining").is_none());
    assert_eq!(fx.gh.rate_limited_count(), 1);
    fx.gh.set_rate_limit(100, Duration::from_secs(10));
    assert_eq!(fx.get("/v3/jobs?per_page=1", &token).await.status(), 200);
}

#[tokio::test]
async fn page_faults_hit_the_nth_page_once() {
    let fx = fixture(big_limit()).await;
    let token = fx.token().await;
    fx.gh.drop_connection_on_page(2);
    let first = fx.get("/v3/jobs?per_page=10", &token).await;
    let page2 = next_link(&first).unwrap();
    let err = fx.http.get(&page2).bearer_auth(&token).send().await;
    assert!(err.is_err(), "the connection is closed without an answer");
    let retry = fx.get(&page2, &token).await;
    assert_eq!(retry.status(), 200, "one-shot");
    let page3 = next_link(&retry).unwrap();
    // Requests are counted, retries included: page 4 is the 5th request.
    fx.gh
        .fail_page_with(5, StatusCode::SERVICE_UNAVAILABLE, Some(7));
    let third = fx.get(&page3, &token).await;
    assert_eq!(third.status(), 200);
    let page4 = next_link(&third).unwrap();
    let failed = fx.get(&page4, &token).await;
    assert_eq!(failed.status(), 503);
    assert_eq!(failed.headers()["retry-after"], "7");
    assert_eq!(fx.get(&page4, &token).await.status(), 200);
    assert_eq!((fx.gh.page_requests(), fx.gh.page_faults_fired()), (6, 2));
}

#[tokio::test]
async fn hundred_thousand_jobs_page_by_page() {
    let fx = fixture(big_limit()).await;
    let t0 = Instant::now();
    fx.gh.seed_jobs(100_000, 200);
    let seeded = t0.elapsed();
    assert_eq!(fx.gh.job_count(), 100_000);
    let token = fx.token().await;
    let t1 = Instant::now();
    let (all, pages) = fx.walk("/v3/jobs?per_page=500", &token).await;
    let walked = t1.elapsed();
    assert_eq!((all.len(), pages), (100_000, 200));
    let last = all.last().unwrap()["id"].as_u64().unwrap();
    assert_eq!(last, JOB_ID_BASE + 100_000);
    eprintln!(
        "100,000 jobs: seeded in {seeded:?}, 200 pages of 500 in {walked:?} ({:?} a page, debug build)",
        walked / 200
    );
}
