//! Tests of the Greenhouse sandbox's writes over real loopback HTTP:
//! Harvest candidates, applications and attachments, the pipeline moves,
//! and the Job Board API's lists and apply.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Value};

use super::generate::{JOB_ID_BASE, POST_ID_BASE, QUESTION_WORK_AUTH};
use super::tests::{big_limit, fixture};
use super::*;

#[tokio::test]
async fn harvest_writes_are_validated_and_stored() {
    let fx = fixture(big_limit()).await;
    let token = fx.token().await;
    let job_id = JOB_ID_BASE + 6; // open
    let candidate = json!({
        "first_name": "Ada", "last_name": "Lovelace",
        "phone_numbers": [{"value": "+254700000001", "type": "mobile"}],
        "email_addresses": [{"value": "ada@example.com", "type": "personal"}],
        "website_addresses": [], "social_media_addresses": [{"value": "https://linkedin.com/in/ada"}],
    });
    let (status, c) = fx.post("/v3/candidates", &token, candidate.clone()).await;
    assert_eq!(status, 201, "{c}");
    let cid = c["id"].as_u64().unwrap();
    let (status, err) = fx
        .post("/v3/candidates", &token, json!({"first_name": "Ada"}))
        .await;
    assert_eq!(status, 422);
    assert_eq!(err["message"], "Validation error");
    assert_eq!(err["errors"][0]["field"], "last_name");
    let mut bad = candidate.clone();
    bad["email_addresses"][0]["type"] = json!("secret");
    assert_eq!(fx.post("/v3/candidates", &token, bad).await.0, 422);

    let (status, app) = fx
        .post(
            "/v3/applications",
            &token,
            json!({"candidate_id": cid, "job_id": job_id}),
        )
        .await;
    assert_eq!(status, 201, "{app}");
    assert_eq!(app["status"], "active");
    assert_eq!(app["prospect"], false);
    assert_eq!(app["current_stage"]["name"], "Application Review");
    assert_eq!(app["jobs"][0]["id"], job_id);
    assert_eq!(app["job_post_id"], POST_ID_BASE + 6);
    let aid = app["id"].as_u64().unwrap();
    for (body, field) in [
        (json!({"candidate_id": cid, "job_id": 1}), "job_id"),
        (
            json!({"candidate_id": cid, "job_id": JOB_ID_BASE + 1}),
            "job_id",
        ), // draft
        (json!({"candidate_id": 1, "job_id": job_id}), "candidate_id"),
        (json!({"candidate_id": cid}), "job_id"),
    ] {
        let (status, err) = fx.post("/v3/applications", &token, body).await;
        assert_eq!(
            (status, err["errors"][0]["field"].as_str()),
            (422, Some(field))
        );
    }

    let pdf = b"%PDF-1.4 resume";
    let (status, att) = fx
        .post(
            "/v3/attachments",
            &token,
            json!({
                "application_id": aid, "filename": "ada.pdf", "type": "resume",
                "content": STANDARD.encode(pdf), "content_type": "application/pdf",
            }),
        )
        .await;
    assert_eq!(status, 201, "{att}");
    let (status, _) = fx
        .post(
            "/v3/attachments",
            &token,
            json!({"application_id": aid, "filename": "x.pdf", "type": "resume", "content": "!!"}),
        )
        .await;
    assert_eq!(status, 422);
    let stored = fx.gh.attachments();
    assert_eq!(stored.len(), 1);
    assert_eq!(
        (stored[0].content.as_slice(), stored[0].kind.as_str()),
        (&pdf[..], "resume")
    );
    assert_eq!(fx.gh.candidates()[0].emails, vec!["ada@example.com"]);
    assert_eq!(
        fx.gh.applications()[0].acting_user_id,
        Some(DEFAULT_USER_ID)
    );

    // Read back, move through the pipeline.
    let list: Vec<Value> = fx
        .get(&format!("/v3/applications?ids={aid}"), &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["attachments"][0]["filename"], "ada.pdf");
    let moved = fx.gh.set_stage(aid, "Phone Screen").unwrap();
    assert_eq!(moved["current_stage"]["name"], "Phone Screen");
    assert_eq!(
        moved["candidate"]["email_addresses"][0]["value"],
        "ada@example.com"
    );
    assert_eq!(moved["jobs"][0]["id"], job_id);
    let rejected = fx.gh.reject(aid).unwrap();
    assert_eq!(rejected["status"], "rejected");
    assert!(rejected["rejected_at"].is_string() && rejected["rejection_reason"]["id"].is_u64());
    let back = fx.gh.unreject(aid).unwrap();
    assert!(back["status"] == "active" && back["rejected_at"].is_null());
    assert_eq!(fx.gh.hire(aid).unwrap()["status"], "hired");
    assert!(fx.gh.set_stage(aid, "No such stage").is_none());
    let app = fx.gh.application_json(aid).unwrap();
    assert_eq!(app["status"], "hired");

    // A candidate with an application inline.
    let mut inline = candidate;
    inline["applications"] = json!([{"job_id": job_id}]);
    let (status, c) = fx.post("/v3/candidates", &token, inline).await;
    assert_eq!(status, 201);
    assert_eq!(c["applications"][0]["jobs"][0]["id"], job_id);
    assert_eq!(fx.gh.applications().len(), 2);
}

#[tokio::test]
async fn job_board_lists_and_applies() {
    let fx = fixture(GreenhouseSandboxConfig::default()).await;
    let board = |p: &str| fx.sb.url(&format!("/v1/boards/{DEFAULT_BOARD_TOKEN}{p}"));
    let b: Value = fx
        .http
        .get(board(""))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(b["name"], "Next_KE Careers");
    let resp = fx
        .http
        .get(fx.sb.url("/v1/boards/nope/jobs"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    let list: Value = fx
        .http
        .get(board("/jobs?content=true"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let jobs = list["jobs"].as_array().unwrap();
    assert_eq!(list["meta"]["total"], jobs.len());
    assert!(
        !jobs.is_empty() && jobs.len() < 40,
        "only live posts of open jobs"
    );
    let j = &jobs[0];
    assert!(j["content"].as_str().unwrap().starts_with("&lt;h2&gt;"));
    assert_eq!(
        j["absolute_url"],
        format!(
            "https://boards.greenhouse.io/{DEFAULT_BOARD_TOKEN}/jobs/{}",
            j["id"]
        )
    );
    assert!(j["internal_job_id"].is_u64() && j["location"]["name"].is_string());
    assert!(j["departments"][0]["child_ids"].is_array());
    let post_id = j["id"].as_u64().unwrap();
    let plain: Value = fx
        .http
        .get(board("/jobs"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(plain["jobs"][0].get("content").is_none());

    let one: Value = fx
        .http
        .get(board(&format!(
            "/jobs/{post_id}?questions=true&pay_transparency=true"
        )))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let questions = one["questions"].as_array().unwrap();
    let resume = questions
        .iter()
        .find(|q| q["label"] == "Resume/CV")
        .unwrap();
    assert_eq!(resume["fields"][0]["type"], "input_file");
    assert_eq!(resume["fields"][1]["name"], "resume_text");
    let auth = questions
        .iter()
        .find(|q| q["fields"][0]["name"] == format!("question_{QUESTION_WORK_AUTH}"))
        .unwrap();
    assert_eq!(auth["required"], true);
    assert_eq!(auth["fields"][0]["values"][1]["label"], "Yes");

    let apply = |body: Value, key: &str| {
        let req = fx
            .http
            .post(board(&format!("/jobs/{post_id}")))
            .basic_auth(key, Some(""))
            .json(&body);
        async move {
            let r = req.send().await.unwrap();
            (
                r.status().as_u16(),
                r.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    let good = json!({"first_name": "Grace", "last_name": "Hopper", "email": "grace@example.com",
        "resume_content": STANDARD.encode(b"cv"), "resume_content_filename": "cv.pdf",
        format!("question_{QUESTION_WORK_AUTH}"): 1});
    assert_eq!(apply(good.clone(), "wrong-key").await.0, 401);
    let (status, body) = apply(good.clone(), DEFAULT_BOARD_API_KEY).await;
    assert_eq!(
        (status, body["success"].as_str()),
        (200, Some("Candidate saved successfully"))
    );
    for (field, value) in [
        ("email", json!("not-an-email")),
        ("first_name", json!("https://spam")),
        ("last_name", json!("")),
    ] {
        let mut bad = good.clone();
        bad[field] = value;
        let (status, err) = apply(bad, DEFAULT_BOARD_API_KEY).await;
        assert_eq!(
            (status, err["errors"][0]["field"].as_str()),
            (422, Some(field))
        );
    }
    let mut exe = good.clone();
    exe["resume_content_filename"] = json!("cv.exe");
    assert_eq!(apply(exe, DEFAULT_BOARD_API_KEY).await.0, 422);

    // Multipart with a resume file part and a multi-select.
    let (form, ct) = crate::multipart::build(&[
        ("first_name", None, None, b"Katherine"),
        ("last_name", None, None, b"Johnson"),
        ("email", None, None, b"kj@example.com"),
        ("question_9100003[]", None, None, b"9200001"),
        ("question_9100003[]", None, None, b"9200002"),
        (
            "resume",
            Some("kj.pdf"),
            Some("application/pdf"),
            b"%PDF kj",
        ),
    ]);
    let resp = fx
        .http
        .post(board(&format!("/jobs/{post_id}")))
        .basic_auth(DEFAULT_BOARD_API_KEY, Some(""))
        .header("content-type", ct)
        .body(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let received = fx.gh.board_applications();
    assert_eq!(received.len(), 2);
    assert!(!received[0].multipart && received[1].multipart);
    assert_eq!(received[0].files[0].content, b"cv");
    assert_eq!(received[1].files[0].filename, "kj.pdf");
    assert_eq!(received[1].files[0].content, b"%PDF kj");
    assert_eq!(
        received[1].fields["question_9100003[]"],
        json!(["9200001", "9200002"])
    );
    let app = fx
        .gh
        .application(received[1].application_id.unwrap())
        .unwrap();
    assert_eq!(app.origin, ApplicationOrigin::JobBoard);
    assert_eq!(Some(app.job_id), fx.gh.job_post(post_id).unwrap().job_id);

    // A post taken off the board is gone from it.
    assert!(fx.gh.close_job_post(post_id));
    let resp = fx
        .http
        .get(board(&format!("/jobs/{post_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
}
