//! Every input that reaches storage is checked once, the same way on both
//! databases: one table of identity claims and request fields, run on SQLite
//! and PostgreSQL with the same expected codes; and the limits match the columns.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use nextke_integrations::{
    domain::types::{ActivityName, ActivityStatus, Provider},
    limits,
    proto::{ListActivityRequest, ListFailedJobsRequest, StartLinkedInAuthRequest},
};
use sea_orm::{ConnectionTrait, Statement};
use tonic::Code;

use crate::{
    activity::seed,
    db_tests,
    helpers::{authed, service_token, spawn_app, token, Backend, TestApp},
};

/// The RPC a case calls: each one reads or writes the values it carries.
enum Call {
    /// Writes an `oauth_states` row owned by `sub` (and the org, if any).
    StartLinkedIn,
    ListActivity(ListActivityRequest),
    ListFailedJobs(ListFailedJobsRequest),
}

struct Case {
    name: &'static str,
    token: String,
    call: Call,
    expected: Code,
    /// For `INVALID_ARGUMENT`: the field the message must name.
    field: Option<&'static str>,
}

fn case(name: &'static str, token: String, call: Call, expected: Code) -> Case {
    Case {
        name,
        token,
        call,
        expected,
        field: None,
    }
}

fn invalid(name: &'static str, token: String, call: Call, field: &'static str) -> Case {
    Case {
        name,
        token,
        call,
        expected: Code::InvalidArgument,
        field: Some(field),
    }
}

fn activity(edit: impl FnOnce(&mut ListActivityRequest)) -> Call {
    let mut request = ListActivityRequest::default();
    edit(&mut request);
    Call::ListActivity(request)
}

fn failed_jobs(edit: impl FnOnce(&mut ListFailedJobsRequest)) -> Call {
    let mut request = ListFailedJobsRequest::default();
    edit(&mut request);
    Call::ListFailedJobs(request)
}

fn b64(text: &str) -> String {
    URL_SAFE_NO_PAD.encode(text)
}

async fn run(app: &TestApp, case: &Case) -> Result<(), tonic::Status> {
    let mut client = app.integration().await;
    match &case.call {
        Call::StartLinkedIn => client
            .start_linked_in_auth(authed(StartLinkedInAuthRequest {}, &case.token))
            .await
            .map(drop),
        Call::ListActivity(r) => client
            .list_activity(authed(r.clone(), &case.token))
            .await
            .map(drop),
        Call::ListFailedJobs(r) => client
            .list_failed_jobs(authed(r.clone(), &case.token))
            .await
            .map(drop),
    }
}

async fn bad_inputs_answer_the_same_codes_on_both_databases(backend: Backend) {
    let app = spawn_app(backend).await;
    for _ in 0..3 {
        seed(
            &app,
            Provider::LinkedIn,
            ActivityName::ProfileSync,
            ActivityStatus::Success,
            Some("alice"),
            None,
        )
        .await;
    }
    let alice = token("alice", &[("acme", "admin")]);
    let first = app
        .integration()
        .await
        .list_activity(authed(
            ListActivityRequest {
                page_size: 1,
                ..Default::default()
            },
            &alice,
        ))
        .await
        .expect("first page")
        .into_inner();
    let real = first.next_page_token;
    let real_text =
        String::from_utf8(URL_SAFE_NO_PAD.decode(&real).expect("base64")).expect("utf-8");
    let long_org = "o".repeat(limits::ORG_ID_MAX);

    let cases = [
        // identity claims, refused by the verifier whatever the RPC
        case(
            "sub of 128 characters",
            token(&"u".repeat(128), &[]),
            Call::StartLinkedIn,
            Code::Ok,
        ),
        case(
            "sub of 128 two-byte characters",
            token(&"é".repeat(128), &[]),
            Call::StartLinkedIn,
            Code::Ok,
        ),
        case(
            "sub of 129 characters",
            token(&"u".repeat(129), &[]),
            Call::StartLinkedIn,
            Code::Unauthenticated,
        ),
        case(
            "sub with nul",
            token("ali\0ce", &[]),
            Call::StartLinkedIn,
            Code::Unauthenticated,
        ),
        case(
            "sub with nul, listing",
            token("ali\0ce", &[]),
            activity(|_| {}),
            Code::Unauthenticated,
        ),
        case(
            "sub with newline",
            token("alice\nadmin", &[]),
            Call::StartLinkedIn,
            Code::Unauthenticated,
        ),
        case(
            "sub with escape",
            token("alice\u{1b}[2J", &[]),
            activity(|_| {}),
            Code::Unauthenticated,
        ),
        case(
            "empty org id",
            token("alice", &[("", "admin")]),
            failed_jobs(|_| {}),
            Code::Unauthenticated,
        ),
        case(
            "org id of 129 characters",
            token("alice", &[(&"o".repeat(129), "admin")]),
            Call::StartLinkedIn,
            Code::Unauthenticated,
        ),
        case(
            "org id with nul",
            token("alice", &[("ac\0me", "admin")]),
            failed_jobs(|_| {}),
            Code::Unauthenticated,
        ),
        case(
            "org id with tab",
            token("alice", &[("acme\t", "admin")]),
            activity(|_| {}),
            Code::Unauthenticated,
        ),
        case(
            "org listed twice",
            token("alice", &[("acme", "member"), ("acme", "admin")]),
            activity(|_| {}),
            Code::Unauthenticated,
        ),
        case(
            "org id of 128 characters",
            token("alice", &[(&long_org, "admin")]),
            activity(|r| r.organization_id = long_org.clone()),
            Code::Ok,
        ),
        // request fields, refused naming the field
        invalid(
            "organization_id with nul",
            alice.clone(),
            activity(|r| r.organization_id = "ac\0me".into()),
            "organization_id",
        ),
        invalid(
            "organization_id with newline",
            alice.clone(),
            activity(|r| r.organization_id = "acme\n".into()),
            "organization_id",
        ),
        invalid(
            "organization_id of 129 characters",
            alice.clone(),
            activity(|r| r.organization_id = "o".repeat(129)),
            "organization_id",
        ),
        invalid(
            "activity page_token with nul",
            alice.clone(),
            activity(|r| r.page_token = "\0".into()),
            "page_token",
        ),
        invalid(
            "activity page_token too long",
            alice.clone(),
            activity(|r| r.page_token = "A".repeat(limits::PAGE_TOKEN_MAX + 1)),
            "page_token",
        ),
        invalid(
            "activity page_token, upper-case uuid",
            alice.clone(),
            activity(|r| r.page_token = b64(&real_text.to_uppercase().replace("A1:", "a1:"))),
            "page_token",
        ),
        invalid(
            "activity page_token, uuid without hyphens",
            alice.clone(),
            activity(|r| r.page_token = b64(&real_text.replace('-', ""))),
            "page_token",
        ),
        invalid(
            "activity page_token, trailing data",
            alice.clone(),
            activity(|r| r.page_token = b64(&format!("{real_text}\0"))),
            "page_token",
        ),
        invalid(
            "activity page_token, padded",
            alice.clone(),
            activity(|r| r.page_token = format!("{real}==")),
            "page_token",
        ),
        case(
            "activity page_token as written",
            alice.clone(),
            activity(|r| r.page_token = real.clone()),
            Code::Ok,
        ),
        invalid(
            "kind with nul",
            service_token(),
            failed_jobs(|r| r.kind = "token.refresh\0".into()),
            "kind",
        ),
        invalid(
            "kind with control character",
            service_token(),
            failed_jobs(|r| r.kind = "token\u{85}refresh".into()),
            "kind",
        ),
        invalid(
            "kind of 65 characters",
            service_token(),
            failed_jobs(|r| r.kind = "k".repeat(65)),
            "kind",
        ),
        case(
            "kind of 64 characters",
            service_token(),
            failed_jobs(|r| r.kind = "k".repeat(64)),
            Code::Ok,
        ),
        invalid(
            "job page_token with a leading zero",
            service_token(),
            failed_jobs(|r| r.page_token = b64("j1:05")),
            "page_token",
        ),
        invalid(
            "job page_token with a plus sign",
            service_token(),
            failed_jobs(|r| r.page_token = b64("j1:+5")),
            "page_token",
        ),
        invalid(
            "job page_token of job 0",
            service_token(),
            failed_jobs(|r| r.page_token = b64("j1:0")),
            "page_token",
        ),
        invalid(
            "job page_token in standard base64",
            service_token(),
            failed_jobs(|r| r.page_token = "ajE6NQ==".into()),
            "page_token",
        ),
        case(
            "job page_token as written",
            service_token(),
            failed_jobs(|r| r.page_token = b64("j1:5")),
            Code::Ok,
        ),
    ];
    let mut wrong = Vec::new();
    for case in &cases {
        let outcome = run(&app, case).await;
        let code = outcome.as_ref().err().map_or(Code::Ok, tonic::Status::code);
        if code != case.expected {
            wrong.push(format!(
                "{}: expected {:?}, got {outcome:?}",
                case.name, case.expected
            ));
            continue;
        }
        if let (Some(field), Err(status)) = (case.field, &outcome) {
            let message = status.message();
            if !message.starts_with(&format!("invalid {field}: ")) || message.contains('\0') {
                wrong.push(format!("{}: message {message:?}", case.name));
            }
        }
    }
    assert!(wrong.is_empty(), "on {backend:?}:\n{}", wrong.join("\n"));
    app.stop().await;
}

/// The length of each identity column, as the live schema declares it.
async fn column_lengths(app: &TestApp) -> Vec<(String, String, usize)> {
    let db = &app.ctx.db;
    let backend = db.get_database_backend();
    let sql = match app.backend {
        Backend::Postgres => {
            "SELECT table_name::text AS t, column_name::text AS c, character_maximum_length::int8 AS n \
             FROM information_schema.columns \
             WHERE table_schema = 'public' AND column_name IN ('user_id', 'organization_id', 'kind')"
        }
        Backend::Sqlite => {
            "SELECT m.name AS t, p.name AS c, \
             CAST(substr(p.type, instr(p.type, '(') + 1, instr(p.type, ')') - instr(p.type, '(') - 1) AS INTEGER) AS n \
             FROM sqlite_master m, pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND p.name IN ('user_id', 'organization_id', 'kind')"
        }
    };
    db.query_all(Statement::from_string(backend, sql))
        .await
        .expect("schema query")
        .into_iter()
        .map(|row| {
            let n: Option<i64> = row.try_get("", "n").expect("length");
            (
                row.try_get("", "t").expect("table"),
                row.try_get("", "c").expect("column"),
                usize::try_from(n.unwrap_or(0)).expect("length"),
            )
        })
        .collect()
}

async fn limits_match_the_columns(backend: Backend) {
    let app = spawn_app(backend).await;
    let columns = column_lengths(&app).await;
    assert!(
        columns.iter().filter(|(_, c, _)| c == "user_id").count() >= 4,
        "{columns:?}"
    );
    for (table, column, length) in &columns {
        let limit = match column.as_str() {
            "user_id" => limits::USER_ID_MAX,
            "organization_id" => limits::ORG_ID_MAX,
            _ if table == "jobs" => limits::JOB_KIND_MAX,
            _ => continue,
        };
        assert_eq!(*length, limit, "{table}.{column} on {backend:?}");
    }
    app.stop().await;
}

db_tests!(
    bad_inputs_answer_the_same_codes_on_both_databases,
    limits_match_the_columns
);
