//! `ListActivity`: filters, time range and pagination.

use std::time::Duration;

use nextke_integrations::{
    domain::{
        activity::{record, ActivityEvent},
        types::{ActivityName, ActivityStatus, Provider},
    },
    proto::{self, ListActivityRequest},
};

use crate::{
    db_tests,
    helpers::{authed, spawn_app, token, Backend, TestApp},
};

pub async fn seed(
    app: &TestApp,
    provider: Provider,
    activity: ActivityName,
    status: ActivityStatus,
    user: Option<&str>,
    org: Option<&str>,
) {
    record(
        &app.ctx.db,
        ActivityEvent {
            provider,
            activity,
            status,
            duration: Duration::from_millis(12),
            message: format!("{activity} {}", status.as_str()),
            user_id: user,
            organization_id: org,
            connection_id: None,
        },
    )
    .await
    .expect("record activity");
}

async fn filters_and_pages_newest_first(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = Some("user-a");
    seed(
        &app,
        Provider::LinkedIn,
        ActivityName::ProfileSync,
        ActivityStatus::Success,
        user,
        None,
    )
    .await;
    seed(
        &app,
        Provider::LinkedIn,
        ActivityName::ProfileSync,
        ActivityStatus::Failure,
        user,
        None,
    )
    .await;
    seed(
        &app,
        Provider::Google,
        ActivityName::EventCreate,
        ActivityStatus::Success,
        user,
        None,
    )
    .await;
    seed(
        &app,
        Provider::Microsoft,
        ActivityName::EventCreate,
        ActivityStatus::Success,
        user,
        None,
    )
    .await;
    seed(
        &app,
        Provider::LinkedIn,
        ActivityName::TokenRefresh,
        ActivityStatus::Success,
        user,
        None,
    )
    .await;
    let token = token("user-a", &[]);
    let client = app.integration().await;
    let list = |request: ListActivityRequest| {
        let mut client = client.clone();
        let token = token.clone();
        async move {
            client
                .list_activity(authed(request, &token))
                .await
                .expect("list")
                .into_inner()
        }
    };

    let all = list(ListActivityRequest::default()).await;
    assert_eq!(all.activities.len(), 5);
    assert_eq!(all.activities[0].activity, "token.refresh", "newest first");
    assert_eq!(all.activities[0].duration_ms, 12);

    let linkedin = list(ListActivityRequest {
        provider: proto::Provider::Linkedin.into(),
        ..Default::default()
    })
    .await;
    assert_eq!(linkedin.activities.len(), 3);

    let failures = list(ListActivityRequest {
        status: proto::ActivityStatus::Failure.into(),
        ..Default::default()
    })
    .await;
    assert_eq!(failures.activities.len(), 1);
    assert_eq!(
        failures.activities[0].status(),
        proto::ActivityStatus::Failure
    );

    let calendar = list(ListActivityRequest {
        integration_type: proto::IntegrationType::Calendar.into(),
        ..Default::default()
    })
    .await;
    assert_eq!(calendar.activities.len(), 2);

    // pages of two: 2 + 2 + 1, no duplicates, then no token
    let mut seen = Vec::new();
    let mut page_token = String::new();
    let mut pages = 0;
    loop {
        let page = list(ListActivityRequest {
            page_size: 2,
            page_token: page_token.clone(),
            ..Default::default()
        })
        .await;
        pages += 1;
        seen.extend(page.activities.into_iter().map(|a| a.id));
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    assert_eq!(pages, 3);
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 5);

    // a time range in the future holds nothing; one around now holds all
    let now = chrono::Utc::now();
    let ts = |t: chrono::DateTime<chrono::Utc>| prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: 0,
    };
    let future = list(ListActivityRequest {
        start_time: Some(ts(now + chrono::Duration::hours(1))),
        ..Default::default()
    })
    .await;
    assert!(future.activities.is_empty());
    let around = list(ListActivityRequest {
        start_time: Some(ts(now - chrono::Duration::hours(1))),
        end_time: Some(ts(now + chrono::Duration::hours(1))),
        ..Default::default()
    })
    .await;
    assert_eq!(around.activities.len(), 5);
    app.stop().await;
}

async fn bad_arguments_name_their_field(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = token("user-a", &[]);
    let mut client = app.integration().await;
    let cases = [
        (
            ListActivityRequest {
                page_size: 501,
                ..Default::default()
            },
            "page_size",
        ),
        (
            ListActivityRequest {
                page_size: -1,
                ..Default::default()
            },
            "page_size",
        ),
        (
            ListActivityRequest {
                page_token: "forged".to_owned(),
                ..Default::default()
            },
            "page_token",
        ),
        (
            ListActivityRequest {
                provider: 99,
                ..Default::default()
            },
            "provider",
        ),
        (
            ListActivityRequest {
                start_time: Some(prost_types::Timestamp {
                    seconds: 2_000_000_000,
                    nanos: 0,
                }),
                end_time: Some(prost_types::Timestamp {
                    seconds: 1_000_000_000,
                    nanos: 0,
                }),
                ..Default::default()
            },
            "start_time",
        ),
    ];
    for (request, field) in cases {
        let status = client
            .list_activity(authed(request, &token))
            .await
            .expect_err("refused");
        assert_eq!(status.code(), tonic::Code::InvalidArgument, "{field}");
        assert!(status.message().contains(field), "{}", status.message());
    }
    app.stop().await;
}

db_tests!(
    filters_and_pages_newest_first,
    bad_arguments_name_their_field
);
