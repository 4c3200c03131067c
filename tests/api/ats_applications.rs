//! Applications end to end: a candidate applies to a synced post, the
//! engine sends it to the ATS (the sandbox records the candidate, the
//! application and the résumé), and its status comes back by signed
//! webhook; the résumé checks; the webhook's negative cases.

use std::time::Duration;

use futures::StreamExt;
use nextke_integrations::proto::{self, Provider};
use nextke_sandbox::{
    greenhouse::{GreenhouseSandboxConfig, GreenhouseWebhook},
    lever::{LeverSandboxConfig, STAGES},
};
use tonic::Code;

use crate::{
    ats_rig::{admin, ats, Ats, ORG},
    db_tests,
    helpers::{authed, token, Backend},
};

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n";
const LEVER_TOKEN: &str = "lever-signature-token";

async fn with_workers(backend: Backend) -> Ats {
    ats(
        backend,
        GreenhouseSandboxConfig {
            jobs: 12,
            ..GreenhouseSandboxConfig::default()
        },
        LeverSandboxConfig::default(),
        |c| {
            c.jobs.workers_enabled = true;
            c.jobs.job_poll_interval_ms = 50;
        },
    )
    .await
}

async fn synced(ats: &Ats, provider: Provider) -> (String, String) {
    let created = ats.connect(provider).await;
    let id = created.integration.expect("integration").id;
    let mut stream = ats
        .client()
        .await
        .sync_ats_jobs(authed(
            proto::SyncAtsJobsRequest {
                integration_id: id.clone(),
            },
            &admin(),
        ))
        .await
        .expect("sync")
        .into_inner();
    while let Some(message) = stream.next().await {
        message.expect("sync stream");
    }
    (id, created.webhook_secret)
}

/// An open post of the integration.
async fn open_post(ats: &Ats, integration_id: &str) -> proto::JobPost {
    let posts = ats
        .client()
        .await
        .list_job_posts(authed(
            proto::ListJobPostsRequest {
                integration_id: integration_id.to_owned(),
                status: proto::JobPostStatus::Open.into(),
                page_size: 100,
                ..Default::default()
            },
            &token("cara", &[]),
        ))
        .await
        .expect("posts")
        .into_inner()
        .job_posts;
    // one with a required question of its own when there is one
    let custom = |p: &proto::JobPost| {
        p.questions
            .iter()
            .any(|q| q.required && q.id.starts_with("question_"))
    };
    let any = posts.first().cloned();
    posts
        .into_iter()
        .find(custom)
        .or(any)
        .expect("an open post")
}

fn application(post: &proto::JobPost, key: &str) -> proto::SubmitApplicationRequest {
    proto::SubmitApplicationRequest {
        job_post_id: post.id.clone(),
        idempotency_key: key.to_owned(),
        first_name: "Cara".into(),
        last_name: "Njeri".into(),
        email: "cara@example.com".into(),
        phone: "+254712345678".into(),
        linkedin_url: "https://www.linkedin.com/in/cara".into(),
        cover_letter: "I build payment systems.".into(),
        // every required question answered (the résumé answers its own)
        answers: post
            .questions
            .iter()
            .filter(|q| q.required && q.r#type() != proto::QuestionType::File)
            .map(|q| proto::QuestionAnswer {
                question_id: q.id.clone(),
                values: vec![q.options.first().cloned().unwrap_or_else(|| "Yes".into())],
            })
            .collect(),
        resume: Some(proto::Resume {
            filename: "cara-cv.pdf".into(),
            content: PDF.to_vec(),
        }),
    }
}

async fn get(ats: &Ats, id: &str) -> proto::Application {
    ats.client()
        .await
        .get_application(authed(
            proto::GetApplicationRequest {
                application_id: id.to_owned(),
            },
            &token("cara", &[]),
        ))
        .await
        .expect("get")
        .into_inner()
        .application
        .expect("application")
}

async fn until(
    ats: &Ats,
    id: &str,
    check: impl Fn(&proto::Application) -> bool,
) -> proto::Application {
    for _ in 0..200 {
        let app = get(ats, id).await;
        if check(&app) {
            return app;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out: {:?}", get(ats, id).await)
}

async fn greenhouse_application_and_status_by_webhook(backend: Backend) {
    let ats = with_workers(backend).await;
    let (integration_id, secret) = synced(&ats, Provider::Greenhouse).await;
    let post = open_post(&ats, &integration_id).await;
    let submitted = ats
        .client()
        .await
        .submit_application(authed(application(&post, "apply-1"), &token("cara", &[])))
        .await
        .expect("submit")
        .into_inner()
        .application
        .expect("application");
    assert_eq!(submitted.status(), proto::ApplicationStatus::Submitted);
    // a required question left unanswered is refused before anything is sent
    if let Some(required) = post.questions.iter().find(|q| {
        q.required && q.id.starts_with("question_") && q.r#type() != proto::QuestionType::File
    }) {
        let mut missing = application(&post, "apply-missing");
        missing.answers.retain(|a| a.question_id != required.id);
        let err = ats
            .client()
            .await
            .submit_application(authed(missing, &token("cara", &[])))
            .await
            .expect_err("missing answer");
        assert_eq!(err.code(), Code::InvalidArgument);
        assert!(err.message().contains("answers"), "{}", err.message());
    }
    assert_eq!(submitted.resume_filename, "cara-cv.pdf");
    // the same key returns the first result and sends nothing more
    let again = ats
        .client()
        .await
        .submit_application(authed(application(&post, "apply-1"), &token("cara", &[])))
        .await
        .expect("again")
        .into_inner()
        .application
        .expect("application");
    assert_eq!(again.id, submitted.id);

    // the application's status and its delivery's state change together
    let sent = until(&ats, &submitted.id, |a| {
        a.status() == proto::ApplicationStatus::Active
    })
    .await;
    assert_eq!(sent.sync_state(), proto::ApplicationSyncState::Synced);
    let ats_id: u64 = sent.ats_application_id.parse().expect("a greenhouse id");
    let at_greenhouse = ats
        .greenhouse
        .application(ats_id)
        .expect("stored at greenhouse");
    assert_eq!(at_greenhouse.job_id.to_string(), post.ats_job_id);
    assert_eq!(ats.greenhouse.applications().len(), 1, "sent once");
    let attachments = ats.greenhouse.attachments();
    assert_eq!(attachments.len(), 1, "the résumé");

    // Greenhouse moves it: a signed webhook brings the stage back
    let url = format!(
        "{}/api/v1/integrations/ats/webhook/{integration_id}",
        ats.app.base_url
    );
    let moved = ats
        .greenhouse
        .set_stage(ats_id, "Phone Screen")
        .expect("moved");
    let stage = moved["current_stage"]["name"]
        .as_str()
        .expect("the new stage")
        .to_owned();
    let delivery = GreenhouseWebhook::candidate_stage_change(moved).sign(&secret);
    assert_eq!(delivery.send(&url).await.expect("send"), 200);
    let staged = until(&ats, &submitted.id, |a| a.stage == stage).await;
    assert_eq!(staged.status(), proto::ApplicationStatus::Active);
    assert_eq!(
        staged.history.last().map(|h| h.source()),
        Some(proto::StatusSource::Webhook)
    );
    // a replay is acknowledged and processed once
    assert_eq!(delivery.send(&url).await.expect("replay"), 200);
    let hired = ats.greenhouse.hire(ats_id).expect("hired");
    let hire = GreenhouseWebhook::hire_candidate(hired).sign(&secret);
    assert_eq!(hire.send(&url).await.expect("send"), 200);
    let done = until(&ats, &submitted.id, |a| {
        a.status() == proto::ApplicationStatus::Hired
    })
    .await;
    let statuses: Vec<_> = done
        .history
        .iter()
        .map(|h| (h.status(), h.source()))
        .collect();
    assert_eq!(
        statuses,
        vec![
            (
                proto::ApplicationStatus::Submitted,
                proto::StatusSource::Platform
            ),
            (proto::ApplicationStatus::Active, proto::StatusSource::Api),
            (
                proto::ApplicationStatus::Active,
                proto::StatusSource::Webhook
            ),
            (
                proto::ApplicationStatus::Hired,
                proto::StatusSource::Webhook
            ),
        ],
        "each change once, with where it came from"
    );
    // the organization's admin sees it too; another candidate does not
    let listed = ats
        .client()
        .await
        .list_applications(authed(
            proto::ListApplicationsRequest {
                organization_id: ORG.into(),
                ..Default::default()
            },
            &admin(),
        ))
        .await
        .expect("admin list")
        .into_inner()
        .applications;
    assert_eq!(listed.len(), 1);
    let other = ats
        .client()
        .await
        .get_application(authed(
            proto::GetApplicationRequest {
                application_id: submitted.id.clone(),
            },
            &token("dan", &[]),
        ))
        .await
        .expect_err("another candidate");
    assert_eq!(other.code(), Code::NotFound);
    ats.app.stop().await;
}

async fn lever_application_and_status_confirmed_by_the_api(backend: Backend) {
    let ats = with_workers(backend).await;
    let (integration_id, _) = synced(&ats, Provider::Lever).await;
    let post = open_post(&ats, &integration_id).await;
    let submitted = ats
        .client()
        .await
        .submit_application(authed(application(&post, "lever-1"), &token("cara", &[])))
        .await
        .expect("submit")
        .into_inner()
        .application
        .expect("application");
    let sent = until(&ats, &submitted.id, |a| {
        a.sync_state() == proto::ApplicationSyncState::Synced
    })
    .await;
    let opportunity = sent.ats_application_id.clone();
    let at_lever = ats
        .lever
        .opportunities()
        .into_iter()
        .find(|o| o.id == opportunity)
        .expect("created at lever");
    assert_eq!(at_lever.emails, vec!["cara@example.com".to_owned()]);
    let url = format!(
        "{}/api/v1/integrations/ats/webhook/{integration_id}",
        ats.app.base_url
    );
    // the data of a validly signed webhook is altered: it claims a stage
    // Lever does not have the opportunity in; nothing changes beyond what
    // the API says (still the first stage)
    let (screen_id, screen) = STAGES[1];
    let (onsite_id, _) = STAGES[2];
    let forged = nextke_sandbox::lever::LeverWebhook::new(
        "candidateStageChange",
        serde_json::json!({"opportunityId": opportunity, "toStageId": onsite_id}),
    )
    .sign(LEVER_TOKEN);
    assert_eq!(forged.send(&url).await.expect("send"), 200);
    let first_stage = STAGES[0].1;
    let unchanged = until(&ats, &submitted.id, |a| a.stage == first_stage).await;
    assert_eq!(unchanged.status(), proto::ApplicationStatus::Active);
    // Lever moves it: the webhook is a hint, the API confirms
    let moved = ats
        .lever
        .move_stage(&opportunity, screen_id)
        .expect("moved");
    assert_eq!(moved.sign(LEVER_TOKEN).send(&url).await.expect("send"), 200);
    until(&ats, &submitted.id, |a| a.stage == screen).await;
    ats.app.stop().await;
}

async fn resumes_too_big_or_of_the_wrong_type_are_refused(backend: Backend) {
    let ats = with_workers(backend).await;
    let (integration_id, _) = synced(&ats, Provider::Greenhouse).await;
    let post = open_post(&ats, &integration_id).await;
    let mut client = ats.client().await;
    let mut too_big = application(&post, "big");
    let mut content = PDF.to_vec();
    content.resize(10 * 1024 * 1024 + 1, b' ');
    too_big.resume = Some(proto::Resume {
        filename: "cv.pdf".into(),
        content,
    });
    let mut exe = application(&post, "exe");
    exe.resume = Some(proto::Resume {
        filename: "cv.pdf".into(),
        content: b"MZ\x90\x00\x03 a windows program".to_vec(),
    });
    for (request, what) in [(too_big, "too big"), (exe, "an executable named .pdf")] {
        let err = client
            .submit_application(authed(request, &token("cara", &[])))
            .await
            .expect_err(what);
        assert_eq!(err.code(), Code::InvalidArgument, "{what}: {err:?}");
        assert!(
            err.message().contains("resume"),
            "{what}: {}",
            err.message()
        );
    }
    assert_eq!(ats.greenhouse.applications().len(), 0, "nothing sent");
    ats.app.stop().await;
}

db_tests!(
    greenhouse_application_and_status_by_webhook,
    lever_application_and_status_confirmed_by_the_api,
    resumes_too_big_or_of_the_wrong_type_are_refused,
);
