//! Tests of the Lever sandbox over real loopback HTTP: Data API auth,
//! lists and pagination, opportunities, the rate limit, page faults (the
//! Postings API is in `postings_tests`, webhooks in `webhook_tests`).

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::generate::posting_id;
use super::*;

pub(super) struct Fx {
    pub(super) lv: LeverSandbox,
    pub(super) sb: SandboxHandle,
    pub(super) http: reqwest::Client,
}

pub(super) async fn fixture(config: LeverSandboxConfig) -> Fx {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (lv, sb) = LeverSandbox::start_with(config, listener).unwrap();
    Fx {
        lv,
        sb,
        http: reqwest::Client::new(),
    }
}

fn unlimited() -> LeverSandboxConfig {
    LeverSandboxConfig {
        rate_per_second: 1e6,
        rate_burst: 1_000_000,
        ..LeverSandboxConfig::default()
    }
}

impl Fx {
    async fn get(&self, path: &str) -> (u16, Value) {
        let resp = self
            .http
            .get(self.sb.url(path))
            .basic_auth(DEFAULT_API_KEY, Some(""))
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    async fn create(&self, query: &str, body: Value) -> (u16, Value) {
        let resp = self
            .http
            .post(self.sb.url(&format!("/v1/opportunities{query}")))
            .basic_auth(DEFAULT_API_KEY, Some(""))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// Every posting of a walk from `first` (`limit`, filters), and the page count.
    async fn walk(&self, first: &str) -> (Vec<Value>, usize) {
        let (mut all, mut pages) = (Vec::new(), 0);
        let mut path = first.to_owned();
        loop {
            let (status, body) = self.get(&path).await;
            assert_eq!(status, 200, "{body}");
            all.extend(body["data"].as_array().unwrap().iter().cloned());
            pages += 1;
            if body["hasNext"] == false {
                assert!(body.get("next").is_none());
                return (all, pages);
            }
            let sep = if first.contains('?') { '&' } else { '?' };
            path = format!("{first}{sep}offset={}", body["next"].as_str().unwrap());
        }
    }
}

fn perform_as() -> String {
    format!("?perform_as={}", DEFAULT_USER_IDS[0])
}

#[tokio::test]
async fn basic_auth_with_the_key_as_user_name() {
    let fx = fixture(LeverSandboxConfig::default()).await;
    let resp = fx.http.get(fx.sb.url("/v1/stages")).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(resp.json::<Value>().await.unwrap()["code"], "UNAUTHORIZED");
    let resp = fx
        .http
        .get(fx.sb.url("/v1/stages"))
        .basic_auth("wrong", Some(""))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let (status, stages) = fx.get("/v1/stages").await;
    assert_eq!(status, 200);
    let names: Vec<&str> = stages["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "New applicant",
            "Phone screen",
            "On-site interview",
            "Offer"
        ]
    );
    let (_, reasons) = fx.get("/v1/archive_reasons").await;
    let kinds: Vec<&str> = reasons["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.iter().filter(|k| **k == "hired").count(), 1);
    assert!(kinds.iter().all(|k| *k == "hired" || *k == "non-hired"));
    let (_, users) = fx.get("/v1/users?limit=1").await;
    assert_eq!(users["data"][0]["id"], DEFAULT_USER_IDS[0]);
    assert_eq!(users["hasNext"], true);
    let (_, rest) = fx
        .get(&format!(
            "/v1/users?limit=1&offset={}",
            users["next"].as_str().unwrap()
        ))
        .await;
    assert_eq!(
        (rest["data"][0]["id"].as_str(), &rest["hasNext"]),
        (Some(DEFAULT_USER_IDS[1]), &json!(false))
    );
}

#[tokio::test]
async fn postings_pages_and_filters() {
    let fx = fixture(unlimited()).await;
    fx.lv.seed_postings(250);
    let (all, pages) = fx.walk("/v1/postings?limit=100").await;
    assert_eq!((all.len(), pages), (250, 3));
    assert_eq!(all[0]["id"], posting_id(0));
    let p = &all[7];
    for key in [
        "text",
        "createdAt",
        "updatedAt",
        "user",
        "owner",
        "hiringManager",
        "confidentiality",
        "state",
        "categories",
        "content",
        "country",
        "tags",
        "distributionChannels",
        "reqCode",
        "requisitionCodes",
        "urls",
        "workplaceType",
    ] {
        assert!(p.get(key).is_some(), "{key}");
    }
    assert!(p["createdAt"].is_i64() && p["content"]["descriptionHtml"].is_string());
    assert!(p["categories"]["allLocations"].is_array());
    assert!(all
        .iter()
        .any(|p| p["categories"]["location"] == "Remote" && p["workplaceType"] == "remote"));
    assert!(all.iter().any(|p| p["salaryRange"]["currency"].is_string()));
    let (published, _) = fx.walk("/v1/postings?state=published&limit=100").await;
    assert!(published.iter().all(|p| p["state"] == "published"));
    assert_eq!(published.len(), 190);
    let (two, _) = fx.walk("/v1/postings?state=published&state=internal").await;
    assert_eq!(two.len(), 190 + 20);
    for bad in ["limit=0", "limit=101", "offset=garbage", "state=open"] {
        assert_eq!(fx.get(&format!("/v1/postings?{bad}")).await.0, 400, "{bad}");
    }
    let id = posting_id(3);
    let (status, one) = fx.get(&format!("/v1/postings/{id}")).await;
    assert_eq!(
        (status, one["data"]["id"].as_str()),
        (200, Some(id.as_str()))
    );
    assert_eq!(fx.get("/v1/postings/nope").await.0, 404);
    let (status, form) = fx.get(&format!("/v1/postings/{id}/apply")).await;
    assert_eq!(status, 200);
    assert_eq!(
        form["data"]["customQuestions"][0]["fields"][0]["options"][0]["text"],
        "Yes"
    );
    assert!(form["data"]["personalInformation"].is_array());

    // Mutations are seen by the next walk.
    assert!(fx.lv.close_posting(&posting_id(10)));
    assert_eq!(
        fx.lv.posting(&posting_id(10)).unwrap().state,
        PostingState::Closed
    );
    assert!(fx
        .lv
        .update_posting(&posting_id(11), |p| p.text = "Changed".into()));
    assert!(fx.lv.delete_posting(&posting_id(12)).is_some());
    let new = fx.lv.add_posting();
    let (all, _) = fx.walk("/v1/postings").await;
    assert_eq!(all.len(), 250);
    assert_eq!(all.last().unwrap()["id"], new.as_str());
    assert!(all.iter().any(|p| p["text"] == "Changed"));
}

#[tokio::test]
async fn ten_thousand_postings_page_by_page() {
    let fx = fixture(unlimited()).await;
    fx.lv.seed_postings(10_000);
    let t = Instant::now();
    let (all, pages) = fx.walk("/v1/postings?limit=100").await;
    assert_eq!((all.len(), pages), (10_000, 100));
    eprintln!(
        "10,000 postings: 100 pages in {:?} (debug build)",
        t.elapsed()
    );
}

#[tokio::test]
async fn opportunities_are_created_deduped_and_stored() {
    let fx = fixture(LeverSandboxConfig::default()).await;
    let posting = posting_id(6);
    let body = json!({"name": "Ada Lovelace", "headline": "Analyst", "emails": ["ada@example.com"],
        "phones": [{"value": "+254700000001", "type": "mobile"}], "links": ["https://ada.dev"],
        "tags": ["nextke"], "sources": ["Next_KE"], "origin": "applied", "postings": [posting]});
    assert_eq!(
        fx.create("", body.clone()).await.0,
        400,
        "perform_as is required"
    );
    assert_eq!(fx.create("?perform_as=nobody", body.clone()).await.0, 400);
    let (status, created) = fx.create(&perform_as(), body.clone()).await;
    assert_eq!(status, 201, "{created}");
    let o = &created["data"];
    assert_eq!(o["stage"], STAGES[0].0);
    assert!(o["archived"].is_null() && o["stageChanges"].is_array());
    assert_eq!(o["applications"].as_array().unwrap().len(), 1);
    let id = o["id"].as_str().unwrap().to_owned();
    let contact = o["contact"].as_str().unwrap().to_owned();
    // Same email, same posting: the same opportunity. Another posting: same contact.
    let (_, again) = fx.create(&perform_as(), body.clone()).await;
    assert_eq!(again["data"]["id"], id.as_str());
    let mut other = body.clone();
    other["postings"] = json!([posting_id(7)]);
    other["emails"] = json!(["ADA@example.com"]);
    let (_, second) = fx.create(&perform_as(), other).await;
    assert_ne!(second["data"]["id"], id.as_str());
    assert_eq!(second["data"]["contact"], contact.as_str());
    for (key, value) in [
        ("postings", json!([posting_id(6), posting_id(7)])),
        ("postings", json!(["nope"])),
        ("origin", json!("walk-in")),
        ("name", json!("")),
        ("emails", json!(["no-at"])),
    ] {
        let mut bad = body.clone();
        bad[key] = value;
        assert_eq!(fx.create(&perform_as(), bad).await.0, 400, "{key}");
    }

    // Multipart with a resume.
    let (form, ct) = crate::multipart::build(&[
        ("name", None, None, b"Grace Hopper"),
        ("emails[]", None, None, b"grace@example.com"),
        ("phones[]", None, None, br#"{"value": "+254700000002"}"#),
        ("postings[]", None, None, posting_id(8).as_bytes()),
        (
            "resumeFile",
            Some("grace.pdf"),
            Some("application/pdf"),
            b"%PDF grace",
        ),
    ]);
    let resp = fx
        .http
        .post(fx.sb.url(&format!("/v1/opportunities{}", perform_as())))
        .basic_auth(DEFAULT_API_KEY, Some(""))
        .header("content-type", ct)
        .body(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let grace: Value = resp.json().await.unwrap();
    let stored = fx
        .lv
        .opportunity(grace["data"]["id"].as_str().unwrap())
        .unwrap();
    let resume = stored.resume.unwrap();
    assert_eq!(
        (resume.filename.as_str(), resume.data.as_slice()),
        ("grace.pdf", &b"%PDF grace"[..])
    );
    assert_eq!(resume.content_type.as_deref(), Some("application/pdf"));
    assert!(stored.multipart && stored.phones[0]["value"] == "+254700000002");
    assert_eq!(stored.performed_by.as_deref(), Some(DEFAULT_USER_IDS[0]));
    assert_eq!(fx.lv.opportunities().len(), 3);

    // The recruiter's moves show in GET.
    let hook = fx.lv.move_stage(&id, STAGES[1].0).unwrap();
    assert_eq!(hook.data["fromStageId"], STAGES[0].0);
    let (_, read) = fx.get(&format!("/v1/opportunities/{id}")).await;
    assert_eq!(read["data"]["stage"], STAGES[1].0);
    assert_eq!(read["data"]["stageChanges"].as_array().unwrap().len(), 2);
    let hired = fx.lv.archive(&id, ARCHIVE_REASONS[0].0).unwrap();
    assert_eq!(hired.event, "candidateHired");
    let (_, read) = fx.get(&format!("/v1/opportunities/{id}")).await;
    assert_eq!(read["data"]["archived"]["reason"], ARCHIVE_REASONS[0].0);
    assert_eq!(
        fx.lv.archive(&id, ARCHIVE_REASONS[1].0).unwrap().event,
        "candidateArchiveChange"
    );
    assert_eq!(
        fx.lv.unarchive(&id).unwrap().event,
        "candidateArchiveChange"
    );
    let (_, read) = fx.get(&format!("/v1/opportunities/{id}")).await;
    assert!(read["data"]["archived"].is_null());
    assert_eq!(fx.get("/v1/opportunities/nope").await.0, 404);
}

#[tokio::test]
async fn rate_limit_bursts_to_twenty_then_429_and_refills_at_ten() {
    let fx = fixture(LeverSandboxConfig::default()).await;
    let burst = (0..30).map(|_| {
        let req = fx
            .http
            .get(fx.sb.url("/v1/stages"))
            .basic_auth(DEFAULT_API_KEY, Some(""));
        async move { req.send().await.unwrap() }
    });
    let answers = spawn_all(burst).await;
    let ok = answers.iter().filter(|r| r.status() == 200).count();
    assert!((20..=21).contains(&ok), "{ok} allowed");
    let limited: Vec<_> = answers.iter().filter(|r| r.status() == 429).collect();
    assert_eq!(ok + limited.len(), 30);
    assert!(limited
        .iter()
        .all(|r| r.headers().get("retry-after").is_none()));
    assert_eq!(fx.lv.rate_limited_count() as usize, limited.len());
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let mut refill = 0;
    for _ in 0..15 {
        if fx.get("/v1/stages").await.0 == 200 {
            refill += 1;
        }
    }
    assert!((10..=12).contains(&refill), "{refill} after one second");
    assert_eq!(fx.lv.data_api_requests(), 45);
    assert!(fx.lv.peak_requests_in(Duration::from_secs(1)) >= 30);
    assert_eq!(fx.lv.request_times().len(), 45);
}

/// Run every future on its own task at once; their outputs in order.
async fn spawn_all<F>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

#[tokio::test]
async fn drop_connection_on_a_postings_page() {
    let fx = fixture(unlimited()).await;
    fx.lv.drop_connection_on_page(2);
    let (_, first) = fx.get("/v1/postings?limit=10").await;
    let page2 = fx.sb.url(&format!(
        "/v1/postings?limit=10&offset={}",
        first["next"].as_str().unwrap()
    ));
    let dropped = fx
        .http
        .get(&page2)
        .basic_auth(DEFAULT_API_KEY, Some(""))
        .send()
        .await;
    assert!(dropped.is_err());
    let retry = fx
        .http
        .get(&page2)
        .basic_auth(DEFAULT_API_KEY, Some(""))
        .send()
        .await
        .unwrap();
    assert_eq!(retry.status(), 200);
    fx.lv
        .fail_page_with(1, StatusCode::SERVICE_UNAVAILABLE, None);
    assert_eq!(fx.get("/v1/postings?limit=10").await.0, 503);
    assert_eq!(fx.lv.page_requests(), 4);
}
