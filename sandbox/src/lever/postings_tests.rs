//! Tests of Lever's public Postings API over real loopback HTTP: lists,
//! filters, grouping, one posting, and apply with its rate limit.

use std::time::Duration;

use serde_json::{json, Value};

use super::generate::posting_id;
use super::tests::fixture;
use super::*;

#[tokio::test]
async fn postings_api_lists_published_and_applies() {
    let fx = fixture(LeverSandboxConfig::default()).await;
    let site = |p: &str| fx.sb.url(&format!("/v0/postings/{DEFAULT_SITE}{p}"));
    let list: Vec<Value> = fx
        .http
        .get(site("?mode=json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let published = fx
        .lv
        .posting_ids()
        .iter()
        .filter(|id| fx.lv.posting(id).unwrap().state == PostingState::Published)
        .count();
    assert_eq!(list.len(), published);
    let p = &list[0];
    for key in [
        "id",
        "text",
        "categories",
        "country",
        "opening",
        "openingPlain",
        "description",
        "descriptionPlain",
        "descriptionBody",
        "descriptionBodyPlain",
        "lists",
        "additional",
        "additionalPlain",
        "hostedUrl",
        "applyUrl",
        "workplaceType",
    ] {
        assert!(p.get(key).is_some(), "{key}");
    }
    assert!(p.get("createdAt").is_none() && p.get("state").is_none());
    assert!(!p["descriptionPlain"].as_str().unwrap().contains('<'));
    let page: Vec<Value> = fx
        .http
        .get(site("?mode=json&skip=2&limit=3"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page.len(), 3);
    assert_eq!(page[0]["id"], list[2]["id"]);
    let eng: Vec<Value> = fx
        .http
        .get(site("?mode=json&team=Engineering&team=Data"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        !eng.is_empty()
            && eng
                .iter()
                .all(|p| p["categories"]["team"] == "Engineering"
                    || p["categories"]["team"] == "Data")
    );
    let grouped: Vec<Value> = fx
        .http
        .get(site("?mode=json&group=team"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(grouped[0]["title"].is_string() && grouped[0]["postings"].is_array());
    let html = fx
        .http
        .get(site(""))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.starts_with("<div class='lever'>"));
    let id = p["id"].as_str().unwrap().to_owned();
    let one: Value = fx
        .http
        .get(site(&format!("/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(one["id"], id.as_str());
    let draft = posting_id(0);
    assert_eq!(
        fx.http
            .get(site(&format!("/{draft}")))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );

    let apply = |key: &str, body: Value| {
        let req = fx.http.post(site(&format!("/{id}?key={key}"))).json(&body);
        async move {
            let r = req.send().await.unwrap();
            (
                r.status().as_u16(),
                r.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    let body = json!({"name": "Ada", "email": "ada@example.com", "urls": {"GitHub": "https://github.com/ada"}, "silent": true});
    assert_eq!(apply("wrong", body.clone()).await.0, 401);
    let (status, ok) = apply(DEFAULT_POSTINGS_API_KEY, body.clone()).await;
    assert_eq!((status, &ok["ok"]), (200, &json!(true)));
    assert!(ok["applicationId"].is_string());
    let (status, err) = apply(DEFAULT_POSTINGS_API_KEY, json!({"name": "No Email"})).await;
    assert_eq!((status, &err["ok"]), (400, &json!(false)));
    // More than two a second.
    let (status, _) = apply(DEFAULT_POSTINGS_API_KEY, body.clone()).await;
    assert_eq!(status, 429);
    assert_eq!(fx.lv.apply_rate_limited_count(), 1);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (form, ct) = crate::multipart::build(&[
        ("name", None, None, b"Grace"),
        ("email", None, None, b"grace@example.com"),
        (
            "urls[LinkedIn]",
            None,
            None,
            b"https://linkedin.com/in/grace",
        ),
        (
            "resume",
            Some("grace.pdf"),
            Some("application/pdf"),
            b"%PDF",
        ),
    ]);
    let resp = fx
        .http
        .post(site(&format!("/{id}?key={DEFAULT_POSTINGS_API_KEY}")))
        .header("content-type", ct)
        .body(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let stored = fx.lv.opportunities();
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[0].via, LeverApi::PostingsApi);
    assert_eq!(stored[0].links, vec!["https://github.com/ada"]);
    assert_eq!(stored[1].resume.as_ref().unwrap().data, b"%PDF");
    assert_eq!(
        stored[1].fields["urls"]["LinkedIn"],
        "https://linkedin.com/in/grace"
    );
}
