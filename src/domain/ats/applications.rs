//! Candidates' applications: submitted on Next_KE (checked, stored with an
//! idempotency key), sent to the post's ATS by the engine with retries
//! ([`super::delivery`]), and moved by what the ATS says (webhooks, the
//! API's answers), each change kept in the history with where it came from.

use chrono::{DateTime, Utc};
use sea_orm::TransactionTrait;

use super::{
    access::reads_org,
    ensure_enabled,
    integrations::settings_of,
    resume::{self, ResumeKind},
};
use crate::{
    auth::Identity,
    context::AppContext,
    domain::calendar::event::{e164, email},
    error::{is_unique_violation, AppError, Result},
    jobs::{enqueue, NewJob},
    providers::ats::job::{AtsQuestion, QuestionKind},
    store::{
        applications::{self as store, ApplicationRow, SyncRow},
        ats_integrations as integrations_store,
    },
    vocab::{ApplicationStatus, ApplicationSyncState, JobPostStatus, StatusSource},
};

/// The job kind that sends an application to its ATS.
pub const SEND: &str = "ats.application";

/// Longest cover letter, in characters.
const MAX_COVER_LETTER: usize = 50_000;

/// A résumé as uploaded.
pub struct ResumeInput {
    pub filename: String,
    pub content: Vec<u8>,
}

/// An answer to one of the post's questions.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct Answer {
    pub question_id: String,
    pub values: Vec<String>,
}

/// An application as the candidate sends it.
pub struct NewApplication {
    pub job_post_id: String,
    pub idempotency_key: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub phone: String,
    pub linkedin_url: String,
    pub cover_letter: String,
    pub answers: Vec<Answer>,
    pub resume: Option<ResumeInput>,
}

/// One status change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusChange {
    pub status: ApplicationStatus,
    pub stage: String,
    pub source: StatusSource,
    pub changed_at: DateTime<Utc>,
}

/// An application as its candidate and the organization's admins see it.
#[derive(Clone, Debug)]
pub struct Application {
    pub id: String,
    pub job_post_id: String,
    pub organization_id: String,
    pub user_id: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub phone: String,
    pub linkedin_url: String,
    pub status: ApplicationStatus,
    pub stage: String,
    /// `None`: the post is not from an ATS.
    pub sync_state: Option<ApplicationSyncState>,
    pub sync_error: Option<String>,
    pub ats_application_id: Option<String>,
    pub history: Vec<StatusChange>,
    pub resume_filename: String,
    pub resume_size: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn invalid(field: &'static str, reason: impl Into<String>) -> AppError {
    AppError::InvalidArgument {
        field,
        reason: reason.into(),
    }
}

fn required(value: &str, field: &'static str, max: usize) -> Result<String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(invalid(field, "is required"));
    }
    if value.chars().count() > max {
        return Err(invalid(field, format!("is longer than {max} characters")));
    }
    Ok(value.to_owned())
}

fn linkedin(url: &str) -> Result<String> {
    let url = url.trim();
    if url.is_empty() {
        return Ok(String::new());
    }
    let parsed = url::Url::parse(url).map_err(|_| invalid("linkedin_url", "is not a url"))?;
    let host = parsed.host_str().unwrap_or("");
    if parsed.scheme() != "https"
        || !(host == "linkedin.com" || host.ends_with(".linkedin.com"))
        || url.len() > 2048
    {
        return Err(invalid(
            "linkedin_url",
            "must be an https://linkedin.com/... address",
        ));
    }
    Ok(url.to_owned())
}

/// Checks the answers against the post's questions: every required one
/// answered (the standard fields and the résumé count for theirs), every
/// answer for a question the post has, select answers among the options.
fn check_answers(
    questions: &[AtsQuestion],
    answers: &[Answer],
    has_resume: bool,
    has_cover_letter: bool,
) -> Result<()> {
    if answers.len() > 200 {
        return Err(invalid("answers", "too many answers"));
    }
    for answer in answers {
        let Some(question) = questions.iter().find(|q| q.id == answer.question_id) else {
            return Err(invalid(
                "answers",
                format!(
                    "the post has no question {:?}",
                    answer.question_id.chars().take(64).collect::<String>()
                ),
            ));
        };
        if answer.values.len() > 50 || answer.values.iter().any(|v| v.chars().count() > 10_000) {
            return Err(invalid("answers", "an answer is too long"));
        }
        if matches!(
            question.kind,
            QuestionKind::SingleSelect | QuestionKind::MultiSelect
        ) && !question.options.is_empty()
            && answer.values.iter().any(|v| !question.options.contains(v))
        {
            return Err(invalid(
                "answers",
                format!("{:?} takes one of its options", question.label),
            ));
        }
    }
    for question in questions.iter().filter(|q| q.required) {
        let answered = match question.id.as_str() {
            "first_name" | "last_name" | "email" | "phone" => true,
            "resume" | "resume_text" => has_resume,
            "cover_letter" | "cover_letter_text" => has_cover_letter,
            id => answers
                .iter()
                .any(|a| a.question_id == id && a.values.iter().any(|v| !v.trim().is_empty())),
        };
        if !answered {
            return Err(invalid(
                "answers",
                format!("the required question {:?} is not answered", question.label),
            ));
        }
    }
    Ok(())
}

async fn view(ctx: &AppContext, row: ApplicationRow) -> Result<Application> {
    let sync = store::sync_of(&ctx.db, &row.id).await?;
    let history = store::history(&ctx.db, &row.id)
        .await?
        .into_iter()
        .map(|h| StatusChange {
            status: h.status,
            stage: h.stage,
            source: h.source,
            changed_at: h.changed_at,
        })
        .collect();
    Ok(Application {
        sync_state: sync.as_ref().map(|s| s.state),
        sync_error: sync.as_ref().and_then(|s| s.last_error.clone()),
        ats_application_id: sync.and_then(|s| s.ats_application_id),
        history,
        id: row.id,
        job_post_id: row.job_post_id,
        organization_id: row.organization_id,
        user_id: row.user_id,
        first_name: row.first_name,
        last_name: row.last_name,
        email: row.email,
        phone: row.phone,
        linkedin_url: row.linkedin_url,
        status: row.status,
        stage: row.stage,
        resume_filename: row.resume_filename,
        resume_size: row.resume_size,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

/// The caller applies to a job post.
pub async fn submit(
    ctx: &AppContext,
    caller: &Identity,
    new: NewApplication,
) -> Result<Application> {
    ensure_enabled(&ctx.config)?;
    let key = required(&new.idempotency_key, "idempotency_key", 128)?;
    if let Some(existing) = store::by_key(&ctx.db, &caller.user_id, &key).await? {
        return view(ctx, existing).await;
    }
    let first_name = required(&new.first_name, "first_name", 255)?;
    let last_name = required(&new.last_name, "last_name", 255)?;
    let email = email(&new.email, "email")?;
    let phone = if new.phone.trim().is_empty() {
        String::new()
    } else {
        e164(&new.phone, "phone")?
    };
    let linkedin_url = linkedin(&new.linkedin_url)?;
    if new.cover_letter.chars().count() > MAX_COVER_LETTER {
        return Err(invalid("cover_letter", "is longer than 50,000 characters"));
    }
    let resume = match &new.resume {
        Some(r) if !r.content.is_empty() => {
            let kind = resume::sniff(&r.content)?;
            Some((
                resume::file_name(&r.filename, kind),
                kind,
                r.content.clone(),
            ))
        }
        _ => None,
    };
    let post = store::post(&ctx.db, &new.job_post_id)
        .await?
        .ok_or(AppError::NotFound("job post"))?;
    if post.status != JobPostStatus::Open {
        return Err(AppError::FailedPrecondition(
            "the job post does not take applications".to_owned(),
        ));
    }
    let questions: Vec<AtsQuestion> =
        serde_json::from_value(post.questions.clone()).unwrap_or_default();
    check_answers(
        &questions,
        &new.answers,
        resume.is_some(),
        !new.cover_letter.trim().is_empty(),
    )?;
    let integration = match &post.integration_id {
        Some(id) => integrations_store::find(&ctx.db, id).await?,
        None => None,
    };
    let to_ats = integration
        .as_ref()
        .filter(|i| settings_of(i).sync_applications);
    let now = Utc::now();
    let id = uuid::Uuid::now_v7().to_string();
    let (resume_filename, resume_type, resume_bytes) = match resume {
        Some((name, kind, bytes)) => (name, kind.content_type().to_owned(), Some(bytes)),
        None => (String::new(), String::new(), None),
    };
    let row = ApplicationRow {
        id: id.clone(),
        job_post_id: post.id.clone(),
        organization_id: post.organization_id.clone(),
        user_id: caller.user_id.clone(),
        idempotency_key: key.clone(),
        first_name,
        last_name,
        email,
        phone,
        linkedin_url,
        cover_letter: new.cover_letter,
        answers: serde_json::to_value(&new.answers).unwrap_or_default(),
        resume_filename,
        resume_content_type: resume_type,
        resume_size: resume_bytes.as_ref().map_or(0, |b| b.len() as i64),
        resume: resume_bytes,
        status: ApplicationStatus::Submitted,
        stage: String::new(),
        created_at: now,
        updated_at: now,
    };
    let txn = ctx.db.begin().await?;
    match store::insert(&txn, row.clone()).await {
        Ok(()) => {}
        Err(err) if is_unique_violation(&err) => {
            drop(txn);
            // the same key raced in: the first wins
            let first = store::by_key(&ctx.db, &caller.user_id, &key)
                .await?
                .ok_or(AppError::NotFound("application"))?;
            return view(ctx, first).await;
        }
        Err(err) => return Err(err.into()),
    }
    store::add_history(
        &txn,
        &id,
        ApplicationStatus::Submitted,
        "",
        StatusSource::Platform,
        now,
    )
    .await?;
    if let Some(integration) = to_ats {
        store::insert_sync(
            &txn,
            SyncRow {
                application_id: id.clone(),
                integration_id: integration.id.clone(),
                state: ApplicationSyncState::Pending,
                attempts: 0,
                last_error: None,
                ats_application_id: None,
                ats_candidate_id: None,
                synced_at: None,
                updated_at: now,
            },
        )
        .await?;
        enqueue(
            &txn,
            NewJob::new(SEND, serde_json::json!({ "application_id": id }))
                .unique(format!("ats.application:{id}"))
                .for_organization(integration.organization_id.clone())
                .max_attempts(8),
        )
        .await?;
    }
    txn.commit().await?;
    view(ctx, row).await
}

/// An application, for its candidate or the organization's admins (and
/// services); anyone else gets `NOT_FOUND`.
pub async fn get(ctx: &AppContext, caller: &Identity, id: &str) -> Result<Application> {
    ensure_enabled(&ctx.config)?;
    let row = store::find(&ctx.db, id)
        .await?
        .filter(|r| r.user_id == caller.user_id || reads_org(caller, &r.organization_id))
        .ok_or(AppError::NotFound("application"))?;
    view(ctx, row).await
}

/// The caller's applications, or (with `organization_id`) the
/// organization's for its admins.
pub async fn list(
    ctx: &AppContext,
    caller: &Identity,
    organization_id: Option<&str>,
    job_post_id: Option<&str>,
    offset: u64,
    limit: u64,
) -> Result<Vec<Application>> {
    ensure_enabled(&ctx.config)?;
    let rows = match organization_id {
        Some(org) => {
            if !reads_org(caller, org) {
                super::access::admin_of(caller, org, "organization")?;
            }
            store::list(&ctx.db, None, Some(org), job_post_id, offset, limit).await?
        }
        None => {
            store::list(
                &ctx.db,
                Some(&caller.user_id),
                None,
                job_post_id,
                offset,
                limit,
            )
            .await?
        }
    };
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        out.push(view(ctx, row).await?);
    }
    Ok(out)
}

/// Moves an application to what its ATS says, once: a change equal to the
/// current status and stage writes nothing.
pub async fn move_to(
    ctx: &AppContext,
    application_id: &str,
    status: ApplicationStatus,
    stage: Option<&str>,
    source: StatusSource,
) -> Result<bool> {
    let txn = ctx.db.begin().await?;
    let moved = move_in(&txn, application_id, status, stage, source).await?;
    txn.commit().await?;
    Ok(moved)
}

/// [`move_to`] inside the caller's transaction.
pub async fn move_in(
    db: &impl sea_orm::ConnectionTrait,
    application_id: &str,
    status: ApplicationStatus,
    stage: Option<&str>,
    source: StatusSource,
) -> Result<bool> {
    let Some(row) = store::find(db, application_id).await? else {
        return Ok(false);
    };
    let stage = stage
        .map(str::to_owned)
        .unwrap_or_else(|| row.stage.clone());
    if row.status == status && row.stage == stage {
        return Ok(false);
    }
    let now = Utc::now();
    store::set_status(db, application_id, status, &stage, now).await?;
    store::add_history(db, application_id, status, &stage, source, now).await?;
    Ok(true)
}

/// The résumé kind of a stored content type.
pub fn kind_of(content_type: &str) -> Option<ResumeKind> {
    [
        ResumeKind::Pdf,
        ResumeKind::Doc,
        ResumeKind::Docx,
        ResumeKind::Text,
    ]
    .into_iter()
    .find(|k| k.content_type() == content_type)
}
