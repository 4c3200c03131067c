//! Provider text never reaches a caller or the audit trail: a LinkedIn (or a
//! proxy before it) that echoes the request's bearer token, refresh token and
//! client secret in its error answers leaves them in no RPC answer, no row of
//! any table, no metric and no log line, at any level.

use nextke_integrations::{
    proto::{self, DisconnectLinkedInRequest, ListActivityRequest},
    store::credentials,
};
use nextke_sandbox::EchoFormat;
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, DatabaseBackend, FromQueryResult, Statement};

use crate::{
    db_tests_with_logs,
    helpers::{authed, token, Backend, CapturedLogs},
    linkedin::{li, Li},
};

#[derive(FromQueryResult)]
struct Name {
    name: String,
}

#[derive(FromQueryResult)]
struct Text {
    v: Option<String>,
}

/// Every row of every table, as text (sealed columns as hex).
async fn dump_database(li: &Li) -> String {
    let db = &li.app.ctx.db;
    let backend = db.get_database_backend();
    let query = |sql: String| Statement::from_string(backend, sql);
    let tables = match backend {
        DatabaseBackend::Postgres => {
            "SELECT tablename::text AS name FROM pg_tables WHERE schemaname = 'public'"
        }
        _ => "SELECT name FROM sqlite_master WHERE type = 'table'",
    };
    let tables = Name::find_by_statement(query(tables.to_owned()))
        .all(db)
        .await
        .expect("tables");
    assert!(tables.iter().any(|t| t.name == "integration_activity_logs"));
    let mut dump = String::new();
    for table in tables {
        let select = match backend {
            DatabaseBackend::Postgres => {
                format!("SELECT CAST(t AS TEXT) AS v FROM \"{}\" AS t", table.name)
            }
            _ => {
                let columns = Name::find_by_statement(query(format!(
                    "SELECT name FROM pragma_table_info('{}')",
                    table.name
                )))
                .all(db)
                .await
                .expect("columns");
                let row = columns
                    .iter()
                    .map(|c| format!("quote(\"{}\")", c.name))
                    .collect::<Vec<_>>()
                    .join(" || '|' || ");
                format!("SELECT {row} AS v FROM \"{}\"", table.name)
            }
        };
        for row in Text::find_by_statement(query(select))
            .all(db)
            .await
            .expect("rows")
        {
            dump.push_str(&table.name);
            dump.push_str(": ");
            dump.push_str(row.v.as_deref().unwrap_or(""));
            dump.push('\n');
        }
    }
    dump
}

/// Where a secret must not be, by name.
fn assert_nowhere(secrets: &[String], places: &[(&str, &str)]) {
    let reached: Vec<&str> = places
        .iter()
        .filter(|(_, text)| secrets.iter().any(|s| text.contains(s.as_str())))
        .map(|(place, _)| *place)
        .collect();
    assert!(
        reached.is_empty(),
        "credentials echoed by the provider reached: {}",
        reached.join(", ")
    );
}

async fn echoed_credentials_reach_no_caller_row_metric_or_log(
    backend: Backend,
    logs: CapturedLogs,
) {
    let li = li(backend, |s| s.issue_refresh_tokens = true, |_| {}).await;
    let landed = li.connect("ada").await;
    assert!(landed.as_str().contains("linkedin=connected"), "{landed}");
    let connection = credentials::find_by_owner(
        &li.app.ctx.db,
        nextke_integrations::vocab::Provider::LinkedIn,
        &credentials::user_owner("ada"),
    )
    .await
    .expect("query")
    .expect("connected");
    let access_token = {
        use secrecy::ExposeSecret;
        li.app
            .ctx
            .oauth
            .open_access_token(&connection)
            .expect("open")
            .expose_secret()
            .to_owned()
    };
    let faults = &li.handle.faults;
    let mut answers = Vec::new();

    // 401 with the token in every field: the refresh is answered the same way
    faults.echo_credentials_next(2, StatusCode::UNAUTHORIZED, EchoFormat::Json);
    let refused = li.sync("ada").await.expect_err("refused");
    assert_eq!(refused.code(), tonic::Code::FailedPrecondition);
    answers.push(format!("{refused:?}"));
    // a plain-text 400
    li.forget_manual_sync().await;
    faults.echo_credentials_next(1, StatusCode::BAD_REQUEST, EchoFormat::Text);
    let refused = li.sync("ada").await.expect_err("refused");
    assert_eq!(refused.code(), tonic::Code::FailedPrecondition);
    answers.push(format!("{refused:?}"));
    // a 500, retried, then a success
    li.forget_manual_sync().await;
    faults.echo_credentials_next(1, StatusCode::INTERNAL_SERVER_ERROR, EchoFormat::Json);
    answers.push(format!("{:?}", li.sync("ada").await.expect("retried")));
    // the last error of a failed sync stays visible after a success: fail again
    li.forget_manual_sync().await;
    faults.echo_credentials_next(1, StatusCode::FORBIDDEN, EchoFormat::Json);
    let refused = li.sync("ada").await.expect_err("refused");
    answers.push(format!("{refused:?}"));

    // a code exchange answered with the code, the verifier and the client secret
    faults.set_path_prefix(Some("/oauth/v2/accessToken"));
    faults.echo_credentials_next(1, StatusCode::BAD_REQUEST, EchoFormat::Json);
    let landed = li.connect("bob").await;
    faults.set_path_prefix(None);
    assert!(landed.as_str().contains("error=provider_error"), "{landed}");
    answers.push(landed.to_string());

    let echoed = faults.echoed_secrets();
    assert_eq!(faults.echoed_count(), 6, "every echo was answered");
    assert!(
        echoed.contains(&access_token),
        "the live access token was echoed"
    );
    let refresh_requests = li
        .handle
        .log
        .matching(http::Method::POST, "/oauth/v2/accessToken");
    let refresh_token = refresh_requests
        .iter()
        .filter_map(|r| r.form_field("refresh_token"))
        .next()
        .expect("a refresh was tried");
    assert!(
        echoed.contains(&refresh_token),
        "the refresh token was echoed"
    );
    let client_secret = li.sandbox.config().client_secret.clone();
    assert!(echoed.contains(&client_secret));

    let status = li.status("ada").await;
    assert!(
        !status[0].last_error.is_empty(),
        "the failure is shown: {status:?}"
    );
    answers.push(format!("{status:?}"));
    let profile = li.profile("ada").await.expect("profile");
    assert!(!profile.last_error.is_empty());
    answers.push(format!("{profile:?}"));
    let mut client = li.client().await;
    let activity = client
        .list_activity(authed(ListActivityRequest::default(), &token("ada", &[])))
        .await
        .expect("activity")
        .into_inner();
    assert!(activity
        .activities
        .iter()
        .any(|a| a.activity == "profile.sync" && a.status() == proto::ActivityStatus::Failure));
    answers.push(format!("{activity:?}"));
    let metrics = reqwest::get(format!("{}/metrics", li.app.base_url))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("metrics text");
    assert!(metrics.contains("nextke_provider_calls_total"));
    let before_disconnect = dump_database(&li).await;

    // the revocation is answered with an echo too; the audit row outlives the connection
    faults.echo_credentials_next(1, StatusCode::BAD_REQUEST, EchoFormat::Json);
    let reply = client
        .disconnect_linked_in(authed(DisconnectLinkedInRequest {}, &token("ada", &[])))
        .await
        .expect("disconnect")
        .into_inner();
    assert!(!reply.revoked_at_provider);
    answers.push(format!("{reply:?}"));
    let activity = client
        .list_activity(authed(ListActivityRequest::default(), &token("ada", &[])))
        .await
        .expect("activity")
        .into_inner();
    assert!(activity
        .activities
        .iter()
        .any(|a| a.activity == "oauth.disconnect"));
    answers.push(format!("{activity:?}"));
    let after_disconnect = dump_database(&li).await;
    assert!(after_disconnect.contains("oauth.disconnect"));
    let echoed = faults.echoed_secrets();
    assert!(echoed.len() > 6);
    li.app.stop().await;

    let log_text = logs.text();
    assert!(log_text.contains("TRACE"), "logs captured at trace");
    let answers = answers.join("\n");
    assert_nowhere(
        &echoed,
        &[
            ("an rpc answer", &answers),
            ("the database before the disconnect", &before_disconnect),
            ("the database after the disconnect", &after_disconnect),
            ("/metrics", &metrics),
            ("the logs", &log_text),
        ],
    );
    assert!(
        log_text.contains("provider error answer") && log_text.contains("[redacted]"),
        "the redacted bodies are logged at debug"
    );
}

db_tests_with_logs!(echoed_credentials_reach_no_caller_row_metric_or_log);
