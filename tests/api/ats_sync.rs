//! Job syncs through `SyncAtsJobs` against the sandbox Greenhouse and Lever:
//! a full sync page by page, an incremental re-sync with changes, closings
//! and deletions, one bad record skipped, a 503 in the middle of the pages,
//! a second sync refused while one runs, and a sync stopped on page N that
//! resumes from its last committed page with no duplicates.

use std::time::Duration;

use futures::StreamExt;
use nextke_integrations::proto::{self, sync_ats_jobs_response::Event, Provider};
use nextke_sandbox::{greenhouse::GreenhouseSandboxConfig, lever::LeverSandboxConfig};
use tonic::Code;

use crate::{
    ats_rig::{admin, ats, Ats},
    db_tests,
    helpers::{authed, Backend},
};

/// Runs SyncAtsJobs to its end: the progress events and the summary.
async fn sync(
    ats: &Ats,
    id: &str,
) -> Result<(Vec<proto::AtsSyncProgress>, proto::AtsSyncRun), tonic::Status> {
    let mut stream = ats
        .client()
        .await
        .sync_ats_jobs(authed(
            proto::SyncAtsJobsRequest {
                integration_id: id.to_owned(),
            },
            &admin(),
        ))
        .await?
        .into_inner();
    let mut progress = Vec::new();
    while let Some(message) = stream.next().await {
        match message?.event {
            Some(Event::Progress(p)) => progress.push(p),
            Some(Event::Summary(run)) => return Ok((progress, run)),
            None => {}
        }
    }
    panic!("the stream ended without a summary")
}

async fn count(ats: &Ats, sql: &str) -> i64 {
    ats.count(sql).await
}

async fn greenhouse_full_then_incremental_sync(backend: Backend) {
    let ats = ats(
        backend,
        GreenhouseSandboxConfig {
            jobs: 40,
            ..GreenhouseSandboxConfig::default()
        },
        LeverSandboxConfig::default(),
        |c| c.ats.greenhouse_page_size = 10,
    )
    .await;
    let id = ats
        .connect(Provider::Greenhouse)
        .await
        .integration
        .expect("integration")
        .id;
    let (progress, run) = sync(&ats, &id).await.expect("first sync");
    assert_eq!(run.state(), proto::AtsSyncRunState::Succeeded, "{run:?}");
    assert_eq!(run.pages_fetched, 4, "40 jobs by pages of 10");
    assert_eq!(
        (
            run.created,
            run.updated,
            run.unchanged,
            run.closed,
            run.failed
        ),
        (40, 0, 0, 0, 0)
    );
    assert_eq!(progress.len(), 4, "progress after each page");
    assert_eq!(progress.last().map(|p| p.created), Some(40));
    assert_eq!(count(&ats, "SELECT COUNT(*) AS n FROM job_posts").await, 40);
    assert_eq!(
        count(&ats, "SELECT COUNT(*) AS n FROM ats_job_syncs").await,
        40
    );

    let closed_before = count(
        &ats,
        "SELECT COUNT(*) AS n FROM job_posts WHERE status = 'closed'",
    )
    .await;
    // changes at Greenhouse: a retitled post, a closed job, a deleted job
    let ids: Vec<u64> = ats
        .greenhouse
        .job_ids()
        .into_iter()
        .filter(|id| {
            ats.greenhouse
                .job(*id)
                .is_some_and(|j| j.status == nextke_sandbox::greenhouse::JobStatus::Open)
        })
        .collect();
    let retitled = ids[3];
    let post = ats.greenhouse.post_of_job(retitled).expect("post");
    assert!(ats
        .greenhouse
        .update_job_post(post.id, |p| p.title = "Staff engineer, payments".to_owned()));
    assert!(ats.greenhouse.close_job(ids[5]));
    assert!(ats.greenhouse.delete_job(ids[7]).is_some());
    let (_, again) = sync(&ats, &id).await.expect("re-sync");
    assert_eq!(again.state(), proto::AtsSyncRunState::Succeeded);
    assert_eq!(
        (again.created, again.updated, again.unchanged, again.closed),
        (0, 2, 37, 1),
        "{again:?}"
    );
    assert_eq!(
        count(&ats, "SELECT COUNT(*) AS n FROM job_posts").await,
        40,
        "nothing deleted"
    );
    assert_eq!(
        count(
            &ats,
            "SELECT COUNT(*) AS n FROM job_posts WHERE status = 'closed'"
        )
        .await,
        closed_before + 2,
        "the closed job and the deleted one"
    );
    assert_eq!(
        count(&ats, &format!("SELECT COUNT(*) AS n FROM job_posts WHERE title = 'Staff engineer, payments' AND ats_job_id = '{retitled}'")).await,
        1
    );
    // the run history shows both
    let runs = ats
        .client()
        .await
        .list_ats_sync_runs(authed(
            proto::ListAtsSyncRunsRequest {
                integration_id: id.clone(),
                page_size: 1,
                page_token: String::new(),
            },
            &admin(),
        ))
        .await
        .expect("runs")
        .into_inner();
    assert_eq!(runs.runs.len(), 1);
    assert_eq!(runs.runs[0].id, again.id, "newest first");
    assert!(!runs.next_page_token.is_empty());
    ats.app.stop().await;
}

async fn lever_sync_by_offset_pages(backend: Backend) {
    let ats = ats(
        backend,
        GreenhouseSandboxConfig::default(),
        LeverSandboxConfig::default(),
        |_| {},
    )
    .await;
    ats.lever.seed_postings(250);
    let id = ats
        .connect(Provider::Lever)
        .await
        .integration
        .expect("integration")
        .id;
    let (_, run) = sync(&ats, &id).await.expect("sync");
    assert_eq!(run.state(), proto::AtsSyncRunState::Succeeded, "{run:?}");
    assert_eq!(run.pages_fetched, 3, "250 postings by pages of 100");
    assert_eq!(run.created, 250);
    let ids = ats.lever.posting_ids();
    assert!(ats.lever.close_posting(&ids[0]));
    assert!(ats.lever.delete_posting(&ids[1]).is_some());
    let (_, again) = sync(&ats, &id).await.expect("re-sync");
    assert_eq!(
        (again.created, again.updated, again.unchanged, again.closed),
        (0, 1, 248, 1),
        "{again:?}"
    );
    assert_eq!(ats.lever.rate_limited_count(), 0, "within Lever's budget");
    ats.app.stop().await;
}

async fn a_bad_record_is_skipped_and_a_503_mid_pages_waits(backend: Backend) {
    let ats = ats(
        backend,
        GreenhouseSandboxConfig {
            jobs: 30,
            ..GreenhouseSandboxConfig::default()
        },
        LeverSandboxConfig::default(),
        |c| c.ats.greenhouse_page_size = 10,
    )
    .await;
    let id = ats
        .connect(Provider::Greenhouse)
        .await
        .integration
        .expect("integration")
        .id;
    let ids = ats.greenhouse.job_ids();
    let broken = ids[12];
    // a job with no name and no post title cannot be mapped
    assert!(ats
        .greenhouse
        .update_job(broken, |j| j.name = String::new()));
    if let Some(post) = ats.greenhouse.post_of_job(broken) {
        ats.greenhouse.delete_job_post(post.id);
        ats.greenhouse
            .update_job_post(post.id, |p| p.title = String::new());
    }
    // the second page answers 503 once, with Retry-After: 1
    ats.greenhouse
        .fail_page_with(2, http::StatusCode::SERVICE_UNAVAILABLE, Some(1));
    let (_, run) = sync(&ats, &id).await.expect("sync");
    assert_eq!(run.state(), proto::AtsSyncRunState::Succeeded, "{run:?}");
    assert_eq!(run.failed, 1, "{run:?}");
    assert_eq!(run.created, 29);
    assert_eq!(run.errors.len(), 1);
    assert_eq!(run.errors[0].ats_id, broken.to_string());
    assert_eq!(
        run.pages_fetched, 3,
        "the failed page was asked again, not skipped"
    );
    assert_eq!(count(&ats, "SELECT COUNT(*) AS n FROM job_posts").await, 29);
    ats.app.stop().await;
}

async fn a_second_sync_is_aborted_while_one_runs(backend: Backend) {
    let ats = ats(
        backend,
        GreenhouseSandboxConfig {
            jobs: 40,
            ..GreenhouseSandboxConfig::default()
        },
        LeverSandboxConfig::default(),
        |c| c.ats.greenhouse_page_size = 10,
    )
    .await;
    let id = ats
        .connect(Provider::Greenhouse)
        .await
        .integration
        .expect("integration")
        .id;
    ats.greenhouse_handle
        .faults
        .set_latency(Duration::from_millis(300));
    let mut first = ats
        .client()
        .await
        .sync_ats_jobs(authed(
            proto::SyncAtsJobsRequest {
                integration_id: id.clone(),
            },
            &admin(),
        ))
        .await
        .expect("first")
        .into_inner();
    let second = sync(&ats, &id).await.expect_err("second");
    assert_eq!(second.code(), Code::Aborted, "{second:?}");
    assert!(
        second.message().contains("already running"),
        "{}",
        second.message()
    );
    ats.greenhouse_handle.faults.set_latency(Duration::ZERO);
    let mut summary = None;
    while let Some(message) = first.next().await {
        if let Some(Event::Summary(run)) = message.expect("first stream").event {
            summary = Some(run);
        }
    }
    let summary = summary.expect("summary");
    assert_eq!(summary.created, 40);
    // and once it ended, a new one runs
    let (_, after) = sync(&ats, &id).await.expect("after");
    assert_eq!(after.unchanged, 40);
    ats.app.stop().await;
}

async fn a_sync_stopped_on_page_n_resumes_without_duplicates(backend: Backend) {
    let ats = ats(
        backend,
        GreenhouseSandboxConfig {
            jobs: 50,
            ..GreenhouseSandboxConfig::default()
        },
        LeverSandboxConfig::default(),
        |c| {
            c.ats.greenhouse_page_size = 10;
            // one attempt: the dropped connection ends the run
            c.outbound.outbound_max_attempts = 1;
        },
    )
    .await;
    let id = ats
        .connect(Provider::Greenhouse)
        .await
        .integration
        .expect("integration")
        .id;
    // the connection drops on the third page request
    ats.greenhouse.drop_connection_on_page(3);
    let (_, failed) = sync(&ats, &id).await.expect("stream");
    assert_eq!(failed.state(), proto::AtsSyncRunState::Failed, "{failed:?}");
    assert_eq!(failed.pages_fetched, 2);
    assert_eq!(failed.created, 20);
    assert!(!failed.error.is_empty());
    assert_eq!(count(&ats, "SELECT COUNT(*) AS n FROM job_posts").await, 20);
    // the next sync goes on from page 3
    let (_, resumed) = sync(&ats, &id).await.expect("resume");
    assert_eq!(
        resumed.state(),
        proto::AtsSyncRunState::Succeeded,
        "{resumed:?}"
    );
    assert_eq!(resumed.created, 30, "{resumed:?}");
    assert_eq!(count(&ats, "SELECT COUNT(*) AS n FROM job_posts").await, 50);
    assert_eq!(
        count(&ats, "SELECT COUNT(*) AS n FROM (SELECT ats_job_id FROM job_posts GROUP BY ats_job_id HAVING COUNT(*) > 1) d").await,
        0,
        "no duplicates"
    );
    ats.app.stop().await;
}

async fn scheduled_syncs_follow_the_interval_jittered(backend: Backend) {
    let ats = ats(
        backend,
        GreenhouseSandboxConfig {
            jobs: 10,
            ..GreenhouseSandboxConfig::default()
        },
        LeverSandboxConfig::default(),
        |c| {
            c.jobs.workers_enabled = true;
            c.jobs.job_poll_interval_ms = 50;
        },
    )
    .await;
    let created = ats
        .create_as(
            &admin(),
            crate::ats_rig::ORG,
            Provider::Greenhouse,
            crate::ats_rig::greenhouse_credentials(),
        )
        .await
        .expect("create");
    let id = created.integration.expect("integration").id;
    let mut client = ats.client().await;
    client
        .update_ats_integration(authed(
            proto::UpdateAtsIntegrationRequest {
                integration_id: id.clone(),
                settings: Some(proto::AtsSettings {
                    sync_interval_minutes: 15,
                    ..crate::ats_rig::settings()
                }),
                credentials: None,
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["settings.sync_interval_minutes".into()],
                }),
            },
            &admin(),
        ))
        .await
        .expect("interval");
    let row = nextke_integrations::store::ats_integrations::find(&ats.app.ctx.db, &id)
        .await
        .expect("row")
        .expect("integration");
    let ahead = (row.next_sync_at.expect("scheduled") - chrono::Utc::now()).num_seconds();
    assert!(
        (14 * 60..=17 * 60).contains(&ahead),
        "15 minutes and up to a tenth: {ahead} s"
    );
    // it falls due: the sweep enqueues its sync, the engine runs it
    nextke_integrations::store::ats_integrations::set_next_sync(
        &ats.app.ctx.db,
        &id,
        Some(chrono::Utc::now() - chrono::Duration::seconds(1)),
    )
    .await
    .expect("due");
    let enqueued = nextke_integrations::domain::ats::schedule::sweep(&ats.app.ctx)
        .await
        .expect("sweep");
    assert_eq!(enqueued, 1);
    let mut run = None;
    for _ in 0..100 {
        let runs = client
            .list_ats_sync_runs(authed(
                proto::ListAtsSyncRunsRequest {
                    integration_id: id.clone(),
                    page_size: 5,
                    page_token: String::new(),
                },
                &admin(),
            ))
            .await
            .expect("runs")
            .into_inner()
            .runs;
        if let Some(r) = runs
            .into_iter()
            .find(|r| r.state() == proto::AtsSyncRunState::Succeeded)
        {
            run = Some(r);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let run = run.expect("the scheduled sync ran");
    assert_eq!(run.trigger(), proto::AtsSyncTrigger::Scheduled);
    assert_eq!(run.created, 10);
    let row = nextke_integrations::store::ats_integrations::find(&ats.app.ctx.db, &id)
        .await
        .expect("row")
        .expect("integration");
    let ahead = (row.next_sync_at.expect("scheduled") - chrono::Utc::now()).num_seconds();
    assert!(
        (14 * 60..=17 * 60).contains(&ahead),
        "moved one interval on: {ahead} s"
    );
    ats.app.stop().await;
}

/// The service in a process of its own on the rig's database and sandboxes.
fn serve_elsewhere(ats: &Ats, port: u16) -> std::process::Child {
    use secrecy::ExposeSecret;
    let c = &ats.config;
    std::process::Command::new(env!("CARGO_BIN_EXE_nextke-integrations"))
        .arg("serve")
        .env("DATABASE_URL", &c.database_url)
        .env("LISTEN_ADDR", format!("127.0.0.1:{port}"))
        .env("PUBLIC_BASE_URL", format!("http://127.0.0.1:{port}"))
        .env("JWT_SECRET", crate::helpers::JWT_SECRET)
        .env("JWT_ISSUER", &c.jwt_issuer)
        .env("JWT_AUDIENCE", &c.jwt_audience)
        .env(
            "ENCRYPTION_KEYS",
            c.encryption_keys.as_ref().expect("keys").expose_secret(),
        )
        .env("GREENHOUSE_AUTH_BASE_URL", &c.ats.greenhouse_auth_base_url)
        .env(
            "GREENHOUSE_HARVEST_BASE_URL",
            &c.ats.greenhouse_harvest_base_url,
        )
        .env(
            "GREENHOUSE_BOARDS_BASE_URL",
            &c.ats.greenhouse_boards_base_url,
        )
        .env("GREENHOUSE_PAGE_SIZE", "10")
        .env("ATS_SYNC_LEASE_SECS", "5")
        .env("WORKERS_ENABLED", "false")
        .env("SCHEDULER_ENABLED", "false")
        .env(
            "DEV_SECRETS_FILE",
            std::env::temp_dir().join(format!("nextke-crash-{port}.json")),
        )
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start the second process")
}

async fn a_sync_whose_process_is_killed_resumes_without_duplicates(backend: Backend) {
    let ats = ats(
        backend,
        GreenhouseSandboxConfig {
            jobs: 60,
            ..GreenhouseSandboxConfig::default()
        },
        LeverSandboxConfig::default(),
        |c| {
            c.ats.greenhouse_page_size = 10;
            c.ats.ats_sync_lease_secs = 5;
        },
    )
    .await;
    let id = ats
        .connect(Provider::Greenhouse)
        .await
        .integration
        .expect("integration")
        .id;
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
        probe.local_addr().expect("addr").port()
    };
    let mut child = serve_elsewhere(&ats, port);
    let channel = {
        let mut found = None;
        for _ in 0..100 {
            let endpoint =
                tonic::transport::Endpoint::from_shared(format!("http://127.0.0.1:{port}"))
                    .expect("endpoint");
            if let Ok(channel) = endpoint.connect().await {
                found = Some(channel);
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        found.expect("the second process serves")
    };
    // slow pages, and the connection dropped on the third page (retried)
    ats.greenhouse_handle
        .faults
        .set_latency(Duration::from_millis(300));
    ats.greenhouse.drop_connection_on_page(3);
    let mut stream = proto::ats_service_client::AtsServiceClient::new(channel)
        .sync_ats_jobs(authed(
            proto::SyncAtsJobsRequest {
                integration_id: id.clone(),
            },
            &admin(),
        ))
        .await
        .expect("sync elsewhere")
        .into_inner();
    let mut pages = 0;
    while let Some(message) = stream.next().await {
        if let Some(Event::Progress(p)) = message.expect("progress").event {
            pages = p.pages_fetched;
            if pages >= 3 {
                break;
            }
        }
    }
    assert!(pages >= 3, "three pages committed before the kill");
    // the process dies mid-sync
    child.kill().expect("kill");
    child.wait().expect("reaped");
    let committed = count(&ats, "SELECT COUNT(*) AS n FROM job_posts").await;
    assert!(
        (30..60).contains(&committed),
        "{committed} posts when it died"
    );
    assert_eq!(
        count(
            &ats,
            "SELECT COUNT(*) AS n FROM ats_sync_runs WHERE state = 'running'"
        )
        .await,
        1,
        "its run is still marked running"
    );
    ats.greenhouse_handle.faults.set_latency(Duration::ZERO);
    // until its lease runs out, the run is taken as alive
    let early = sync(&ats, &id).await.expect_err("while its lease lasts");
    assert_eq!(early.code(), Code::Aborted);
    tokio::time::sleep(Duration::from_secs(6)).await;
    let (_, resumed) = sync(&ats, &id).await.expect("resume");
    assert!(resumed.resumed, "{resumed:?}");
    assert_eq!(resumed.state(), proto::AtsSyncRunState::Succeeded);
    assert_eq!(count(&ats, "SELECT COUNT(*) AS n FROM job_posts").await, 60);
    assert_eq!(
        count(&ats, "SELECT COUNT(*) AS n FROM (SELECT ats_job_id FROM job_posts GROUP BY ats_job_id HAVING COUNT(*) > 1) d").await,
        0,
        "no duplicates"
    );
    // the run's figures span both processes: every job created once
    assert_eq!(resumed.created, 60, "{resumed:?}");
    assert_eq!(
        resumed.pages_fetched, 6,
        "six pages committed, none twice: {resumed:?}"
    );
    ats.app.stop().await;
}

async fn greenhouse_budget_comes_from_its_headers(backend: Backend) {
    // four Harvest requests a second: the sync reads X-RateLimit-Remaining
    // and waits for the next window instead of earning a 429
    let ats = ats(
        backend,
        GreenhouseSandboxConfig {
            jobs: 30,
            rate_limit: 4,
            rate_window: Duration::from_secs(1),
            ..GreenhouseSandboxConfig::default()
        },
        LeverSandboxConfig::default(),
        |c| c.ats.greenhouse_page_size = 5,
    )
    .await;
    let id = ats
        .connect(Provider::Greenhouse)
        .await
        .integration
        .expect("integration")
        .id;
    let (_, run) = sync(&ats, &id).await.expect("sync");
    assert_eq!(run.state(), proto::AtsSyncRunState::Succeeded, "{run:?}");
    assert_eq!(run.created, 30);
    assert_eq!(ats.greenhouse.rate_limited_count(), 0, "no 429 earned");
    ats.app.stop().await;
}

db_tests!(
    greenhouse_budget_comes_from_its_headers,
    a_sync_whose_process_is_killed_resumes_without_duplicates,
    scheduled_syncs_follow_the_interval_jittered,
    greenhouse_full_then_incremental_sync,
    lever_sync_by_offset_pages,
    a_bad_record_is_skipped_and_a_503_mid_pages_waits,
    a_second_sync_is_aborted_while_one_runs,
    a_sync_stopped_on_page_n_resumes_without_duplicates,
);
