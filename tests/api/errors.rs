//! Errors that keep what they know: a LinkedIn sync that meets a 429 with
//! `Retry-After` keeps the wait all the way up. The background job runs again
//! after that wait (not after its kind's backoff) without spending an
//! attempt, the activity row says it was rate-limited, and the RPC answers
//! `UNAVAILABLE` with `retry-after` metadata.

use std::time::{Duration, Instant};

use nextke_integrations::{
    domain::linkedin::jobs::{sync_key, SyncPayload, SYNC},
    jobs::{enqueue, NewJob},
    proto::{self, ListActivityRequest},
    store::jobs::{self as job_store, JobState},
};
use nextke_sandbox::RetryAfter;

use crate::{
    db_tests,
    helpers::{authed, token, Backend},
    linkedin::li,
};

/// The provider's `Retry-After`, in seconds. Shorter than the sync kind's
/// first backoff (5 s, jittered to 2.5 s at least), so a run pushed by the
/// backoff instead is caught.
const WAIT_SECS: u64 = 2;

async fn rate_limited_sync_job_runs_again_after_retry_after(backend: Backend) {
    let li = li(
        backend,
        |_| {},
        |c| {
            c.jobs.workers_enabled = true;
            c.jobs.job_poll_interval_ms = 50;
            // the outbound client answers the 429 at once instead of waiting for it in-line
            c.outbound.outbound_max_attempts = 1;
        },
    )
    .await;
    li.connect("ada").await;
    let db = li.app.ctx.db.clone();
    li.handle.faults.set_path_prefix(Some("/v2/userinfo"));
    li.handle
        .faults
        .throttle_next(1, RetryAfter::Seconds(WAIT_SECS));
    li.handle.log.clear();

    let id = enqueue(
        &db,
        NewJob::new(
            SYNC,
            SyncPayload {
                user_id: "ada".to_owned(),
            },
        )
        .unique(sync_key("ada"))
        .for_user("ada"),
    )
    .await
    .expect("enqueue")
    .expect("id");

    // the first run meets the 429 and is delayed by the provider's wait
    let started = Instant::now();
    let delayed = loop {
        let row = job_store::find(&db, id).await.expect("db").expect("row");
        if row.state == JobState::Pending && row.last_error.is_some() {
            break row;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the job did not meet the 429: {row:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let error = delayed.last_error.as_deref().unwrap_or_default();
    assert!(error.contains("rate limit reached"), "{error}");
    assert_eq!(delayed.attempts, 0, "a rate limit spends no attempt");
    let pushed = (delayed.run_at - delayed.updated_at)
        .to_std()
        .expect("run_at after the failure");
    assert!(
        pushed > Duration::from_millis(WAIT_SECS * 1000 - 500)
            && pushed <= Duration::from_secs(WAIT_SECS),
        "run_at pushed by Retry-After, not by the backoff: {pushed:?}"
    );
    assert_eq!(li.handle.faults.throttled_count(), 1);

    // the activity row says what happened, from the kind
    let activity = li
        .client()
        .await
        .list_activity(authed(ListActivityRequest::default(), &token("ada", &[])))
        .await
        .expect("activity")
        .into_inner();
    let failed = activity
        .activities
        .iter()
        .find(|a| a.activity == "profile.sync" && a.status() == proto::ActivityStatus::Failure)
        .expect("a failed sync row");
    assert!(
        failed.message.contains("rate limit reached, retry after"),
        "{}",
        failed.message
    );

    // then it runs again, after the wait, and succeeds on that same attempt count
    let completed = loop {
        let row = job_store::find(&db, id).await.expect("db").expect("row");
        if row.state == JobState::Completed {
            break row;
        }
        assert_ne!(row.state, JobState::Dead, "{row:?}");
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the job did not run again: {row:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(
        completed.attempts, 1,
        "one attempt in all: the delayed run was free"
    );
    assert!(
        completed.updated_at >= delayed.run_at,
        "not before the provider's wait"
    );
    assert_eq!(li.handle.log.count(http::Method::GET, "/v2/userinfo"), 2);
    let view = li.profile("ada").await.expect("profile");
    assert!(view.last_synced_at.expect("synced").seconds >= delayed.updated_at.timestamp());

    // the RPC answers the same kind as UNAVAILABLE with the wait in its metadata
    li.forget_manual_sync().await;
    li.handle
        .faults
        .throttle_next(1, RetryAfter::Seconds(WAIT_SECS));
    let throttled = li.sync("ada").await.expect_err("rate-limited");
    assert_eq!(throttled.code(), tonic::Code::Unavailable);
    assert_eq!(
        throttled
            .metadata()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some(WAIT_SECS.to_string().as_str())
    );
    assert!(
        throttled.message().contains("rate limit reached"),
        "{}",
        throttled.message()
    );
    li.app.stop().await;
}

db_tests!(rate_limited_sync_job_runs_again_after_retry_after);
