//! A sync of an integration's jobs into job posts.
//!
//! - **One at a time.** A run is a row in `ats_sync_runs`; a partial unique
//!   index allows one `running` row per integration, so a second sync (from
//!   any process) is refused with `ABORTED` naming the running one. A run
//!   holds a lease, extended with every page; a run whose lease ran out was
//!   stopped by a crash, and the next sync takes it over.
//! - **Page by page, resumable.** Each page is written in one transaction
//!   with the run's figures and the provider's next-page cursor, so a
//!   resumed run goes on from the last committed page and writes nothing twice.
//! - **Writes only what changed.** Each job's hash (SHA-256 of the
//!   provider's JSON of it) is kept in `ats_job_syncs`; an equal hash is not
//!   mapped, sanitized or written. New and changed jobs are upserted a
//!   thousand per statement.
//! - **Bad records are skipped.** One that does not map is logged with its
//!   ATS id, counted as failed and kept among the run's first 50 errors.
//! - **Missing jobs are closed**, never deleted, when a complete run (not
//!   resumed, so it saw every page itself) no longer lists them.
//! - **Provider trouble**: a 429 or 5xx waits (its `Retry-After`) and asks
//!   for the same page again, in the shared outbound client; what still
//!   fails ends the run as failed, resumable from that page.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use super::{
    call_error, greenhouse_client, html,
    integrations::settings_of,
    lever_base, lever_client,
    sync_runs::{SyncError, SyncRun},
};
use crate::{
    context::AppContext,
    domain::{
        activity::{record, ActivityEvent},
        connections::with_fresh_token,
    },
    error::{is_unique_violation, AppError, Result},
    oauth::OAuthEndpoints,
    providers::{
        ats::{greenhouse_jobs, job::AtsJob, lever_jobs},
        http::ProviderError,
    },
    store::{
        ats_integrations::{self as integrations_store, AtsIntegrationRow},
        ats_sync::{self as store, JobPostRow, MappingRow, RunRow},
        credentials::{self, Credential},
    },
    vocab::{ActivityName, ActivityStatus, Provider, SyncRunState, SyncTrigger},
};

/// Errors kept per run.
const MAX_ERRORS: usize = 50;

/// Figures of a running sync, after each committed page.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    pub run_id: String,
    pub pages_fetched: u32,
    pub created: u32,
    pub updated: u32,
    pub unchanged: u32,
    pub closed: u32,
    pub failed: u32,
}

fn progress_of(run: &RunRow) -> Progress {
    let n = |v: i32| u32::try_from(v).unwrap_or(0);
    Progress {
        run_id: run.id.clone(),
        pages_fetched: n(run.pages_fetched),
        created: n(run.created),
        updated: n(run.updated),
        unchanged: n(run.unchanged),
        closed: n(run.closed),
        failed: n(run.failed),
    }
}

/// A record of a page: mapped, or why not (with its ATS id when it has one).
type Record = std::result::Result<AtsJob, (String, String)>;

struct Page {
    records: Vec<Record>,
    next: Option<String>,
}

/// Where the jobs come from.
enum Source {
    Greenhouse {
        credential: Credential,
        endpoints: OAuthEndpoints,
        per_page: u32,
    },
    Lever {
        credential: Credential,
        base: url::Url,
    },
}

fn map_error(ats_id: Option<String>, err: impl std::fmt::Display) -> (String, String) {
    (ats_id.unwrap_or_default(), err.to_string())
}

fn record_id(value: &serde_json::Value) -> Option<String> {
    crate::providers::ats::job::id_text(value.get("id"))
}

async fn fetch(ctx: &AppContext, source: &Source, cursor: Option<&str>) -> Result<Page> {
    match source {
        Source::Greenhouse {
            credential,
            endpoints,
            per_page,
        } => {
            let client = greenhouse_client(ctx)?;
            let key = credential.id.as_str();
            let (jobs, next, posts) = with_fresh_token(ctx, endpoints, credential, |token| {
                let client = client.clone();
                async move {
                    let page = client.jobs_page(&token, key, cursor, *per_page).await?;
                    let ids: Vec<String> = page.jobs.iter().filter_map(record_id).collect();
                    let posts = client.posts_of_jobs(&token, key, &ids).await?;
                    Ok::<_, ProviderError>((page.jobs, page.next, posts))
                }
            })
            .await
            .map_err(|e| call_error(Provider::Greenhouse, e))?;
            let mut by_job: std::collections::HashMap<String, serde_json::Value> =
                std::collections::HashMap::new();
            for post in posts {
                let job_id = crate::providers::ats::job::id_text(post.get("job_id"));
                if let Some(job_id) = job_id {
                    // a job's first post (its public one) stands for it
                    by_job.entry(job_id).or_insert(post);
                }
            }
            let records = jobs
                .iter()
                .map(|job| {
                    let id = record_id(job);
                    let post = id.as_ref().and_then(|id| by_job.get(id));
                    greenhouse_jobs::map_job(job, post).map_err(|e| map_error(id, e))
                })
                .collect();
            Ok(Page { records, next })
        }
        Source::Lever { credential, base } => {
            let client = lever_client(ctx);
            let key = credential.id.as_str();
            let endpoints = OAuthEndpoints::greenhouse(&ctx.config);
            let page = with_fresh_token(ctx, &endpoints, credential, |api_key| {
                let client = client.clone();
                async move { client.postings_page(base, &api_key, key, cursor).await }
            })
            .await
            .map_err(|e| call_error(Provider::Lever, e))?;
            let records = page
                .postings
                .iter()
                .map(|p| lever_jobs::map_posting(p).map_err(|e| map_error(record_id(p), e)))
                .collect();
            Ok(Page {
                records,
                next: page.next,
            })
        }
    }
}

/// SHA-256 (hex) of a job's provider JSON: what decides whether it changed.
pub fn content_hash(raw: &serde_json::Value) -> String {
    let bytes = serde_json::to_vec(raw).unwrap_or_default();
    Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A mapped job as the job post row it becomes.
pub fn post_row(
    job: AtsJob,
    id: String,
    integration: &AtsIntegrationRow,
    created_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> JobPostRow {
    let clean = html::clean(&job.description_html);
    let remote = job.workplace == crate::vocab::WorkplaceType::Remote;
    let (salary_min, salary_max, salary_currency, salary_interval) = match job.salary {
        Some(s) => (s.min, s.max, s.currency, s.interval),
        None => (None, None, String::new(), String::new()),
    };
    JobPostRow {
        id,
        organization_id: integration.organization_id.clone(),
        integration_id: Some(integration.id.clone()),
        provider: Some(integration.provider),
        ats_job_id: Some(job.ats_id),
        ats_url: job.url,
        title: job.title,
        description_html: clean.html,
        description_text: clean.text,
        department: job.department,
        location: job.location,
        remote,
        workplace_type: job.workplace,
        employment_type: job.employment_type,
        salary_min,
        salary_max,
        salary_currency,
        salary_interval,
        status: job.status,
        closes_at: job.closes_at,
        questions: serde_json::to_value(&job.questions).unwrap_or_default(),
        remote_data: Some(job.raw),
        created_at,
        updated_at: now,
    }
}

/// The rows of changed jobs, their descriptions sanitized on the blocking
/// pool in two halves (sanitizing is the CPU-heavy part of a first sync).
async fn rows_of(
    changed: Vec<(AtsJob, String)>,
    integration: &AtsIntegrationRow,
    now: DateTime<Utc>,
) -> Result<Vec<JobPostRow>> {
    if changed.len() < 64 {
        return Ok(changed
            .into_iter()
            .map(|(job, id)| post_row(job, id, integration, now, now))
            .collect());
    }
    let mut first = changed;
    let second = first.split_off(first.len() / 2);
    let half = |part: Vec<(AtsJob, String)>| {
        let integration = integration.clone();
        tokio::task::spawn_blocking(move || {
            part.into_iter()
                .map(|(job, id)| post_row(job, id, &integration, now, now))
                .collect::<Vec<_>>()
        })
    };
    let (a, b) = tokio::join!(half(first), half(second));
    let mut rows = a.map_err(|e| AppError::Internal(anyhow::anyhow!("sanitizing failed: {e}")))?;
    rows.extend(b.map_err(|e| AppError::Internal(anyhow::anyhow!("sanitizing failed: {e}")))?);
    Ok(rows)
}

/// Starts a run, or takes over one whose process died; `ABORTED` while
/// another is running.
async fn start(
    ctx: &AppContext,
    integration: &AtsIntegrationRow,
    trigger: SyncTrigger,
    worker: &str,
) -> Result<RunRow> {
    let now = Utc::now();
    let lease = lease(ctx);
    if let Some(running) = store::running(&ctx.db, &integration.id).await? {
        let dead = running.lease_until.is_none_or(|until| until < now);
        if dead && store::take_over(&ctx.db, &running.id, worker, now, now + lease).await? {
            tracing::info!(run = %running.id, "resuming a sync stopped by a crash");
            return store::run(&ctx.db, &running.id)
                .await?
                .ok_or_else(|| AppError::Aborted("the sync run went away".to_owned()));
        }
        return Err(running_error(&running.id));
    }
    let row = RunRow {
        id: uuid::Uuid::now_v7().to_string(),
        integration_id: integration.id.clone(),
        trigger,
        state: SyncRunState::Running,
        pages_fetched: 0,
        created: 0,
        updated: 0,
        unchanged: 0,
        closed: 0,
        failed: 0,
        errors: serde_json::json!([]),
        error: None,
        next_page: None,
        resumed: false,
        worker: Some(worker.to_owned()),
        lease_until: Some(now + lease),
        started_at: now,
        finished_at: None,
    };
    match store::insert_run(&ctx.db, row.clone()).await {
        Ok(()) => Ok(row),
        Err(err) if is_unique_violation(&err) => {
            let id = store::running(&ctx.db, &integration.id)
                .await?
                .map(|r| r.id)
                .unwrap_or_default();
            Err(running_error(&id))
        }
        Err(err) => Err(err.into()),
    }
}

fn running_error(run_id: &str) -> AppError {
    AppError::Aborted(format!(
        "a sync of this integration is already running (run {run_id})"
    ))
}

fn lease(ctx: &AppContext) -> chrono::Duration {
    chrono::Duration::seconds(ctx.config.ats.ats_sync_lease_secs.max(5) as i64)
}

/// A run that has begun: its row (held by `worker`) and where its jobs come from.
pub struct Begun {
    run: RunRow,
    worker: String,
    source: Source,
    integration: AtsIntegrationRow,
    trigger: SyncTrigger,
}

impl Begun {
    /// The run's id.
    pub fn run_id(&self) -> &str {
        &self.run.id
    }
}

/// Begins a sync of `integration` (or takes over one a crash stopped):
/// `ABORTED` while another runs, `FAILED_PRECONDITION` when job sync is off.
pub async fn begin(
    ctx: &AppContext,
    integration: &AtsIntegrationRow,
    trigger: SyncTrigger,
) -> Result<Begun> {
    super::ensure_enabled(&ctx.config)?;
    if !settings_of(integration).sync_jobs {
        return Err(AppError::FailedPrecondition(
            "job sync is off for this integration (settings.sync_jobs)".to_owned(),
        ));
    }
    let credential = credentials::find(&ctx.db, &integration.connection_id)
        .await?
        .ok_or(AppError::NotFound("ats integration"))?;
    let source = match integration.provider {
        Provider::Greenhouse => Source::Greenhouse {
            credential,
            endpoints: OAuthEndpoints::greenhouse(&ctx.config),
            per_page: ctx.config.ats.greenhouse_page_size,
        },
        Provider::Lever => {
            let summary = super::integrations::summary_of(integration);
            Source::Lever {
                credential,
                base: lever_base(ctx, summary.eu_region)?,
            }
        }
        other => {
            return Err(AppError::FailedPrecondition(format!(
                "{other} jobs are not synced yet"
            )))
        }
    };
    let worker = format!("sync-{}", uuid::Uuid::new_v4());
    let run = start(ctx, integration, trigger, &worker).await?;
    Ok(Begun {
        run,
        worker,
        source,
        integration: integration.clone(),
        trigger,
    })
}

/// Runs a sync to its end: [`begin`], then [`finish`].
pub async fn run(
    ctx: &AppContext,
    integration: &AtsIntegrationRow,
    trigger: SyncTrigger,
    progress: Option<mpsc::Sender<Progress>>,
) -> Result<SyncRun> {
    let begun = begin(ctx, integration, trigger).await?;
    finish(ctx, begun, progress).await
}

/// Fetches and writes the pages of a begun run to the end (or to a failure,
/// resumable from its last page), sending progress after each committed
/// page; answers the run as it ended.
pub async fn finish(
    ctx: &AppContext,
    begun: Begun,
    progress: Option<mpsc::Sender<Progress>>,
) -> Result<SyncRun> {
    let Begun {
        mut run,
        worker,
        source,
        integration,
        trigger,
    } = begun;
    let integration = &integration;
    let started = std::time::Instant::now();
    let mut errors: Vec<SyncError> = serde_json::from_value(run.errors.clone()).unwrap_or_default();
    let mut seen: HashSet<String> = HashSet::new();
    // what was synced before, read once
    let mut known = store::all_mappings(&ctx.db, &integration.id).await?;
    // the next page is fetched while this one is written
    let mut fetched = fetch(ctx, &source, run.next_page.as_deref()).await;
    let outcome = loop {
        let page = match fetched {
            Ok(page) => page,
            Err(err) => break Err(err),
        };
        let next = page.next.clone();
        let (written, prefetched) = tokio::join!(
            write_page(
                ctx,
                integration,
                &mut run,
                &worker,
                page,
                &mut known,
                &mut seen,
                &mut errors
            ),
            async {
                match &next {
                    Some(cursor) => Some(fetch(ctx, &source, Some(cursor)).await),
                    None => None,
                }
            }
        );
        if let Err(err) = written {
            break Err(err);
        }
        if let Some(tx) = &progress {
            // a watcher that went away does not stop the run
            let _ = tx.send(progress_of(&run)).await;
        }
        match prefetched {
            None => break Ok(()),
            Some(page) => fetched = page,
        }
    };
    let now = Utc::now();
    match &outcome {
        Ok(()) => {
            if !run.resumed {
                let closed = store::close_missing(&ctx.db, &integration.id, &seen, now).await?;
                run.closed += i32::try_from(closed).unwrap_or(i32::MAX);
            }
            run.state = SyncRunState::Succeeded;
        }
        Err(err) => {
            tracing::warn!(run = %run.id, error = %err, "job sync failed; the next resumes from its last page");
            run.state = SyncRunState::Failed;
            run.error = Some(err.to_string());
        }
    }
    run.finished_at = Some(now);
    run.lease_until = None;
    store::save_run(&ctx.db, &run, &worker).await?;
    if trigger != SyncTrigger::Scheduled || outcome.is_err() {
        record(
            &ctx.db,
            ActivityEvent {
                provider: integration.provider,
                activity: ActivityName::JobsSync,
                status: if outcome.is_ok() {
                    ActivityStatus::Success
                } else {
                    ActivityStatus::Failure
                },
                duration: started.elapsed(),
                message: format!(
                    "{} pages: {} created, {} updated, {} unchanged, {} closed, {} failed{}",
                    run.pages_fetched,
                    run.created,
                    run.updated,
                    run.unchanged,
                    run.closed,
                    run.failed,
                    run.error
                        .as_ref()
                        .map(|e| format!("; {e}"))
                        .unwrap_or_default()
                ),
                user_id: None,
                organization_id: Some(&integration.organization_id),
                connection_id: Some(&integration.connection_id),
            },
        )
        .await?;
    }
    Ok(SyncRun::from_row(run))
}

/// Writes one page (posts, mapping and the run's figures and cursor) in one
/// transaction.
#[allow(clippy::too_many_arguments)]
async fn write_page(
    ctx: &AppContext,
    integration: &AtsIntegrationRow,
    run: &mut RunRow,
    worker: &str,
    page: Page,
    known: &mut HashMap<String, MappingRow>,
    seen: &mut HashSet<String>,
    errors: &mut Vec<SyncError>,
) -> Result<()> {
    // a page that is not committed leaves the run as it was: its cursor and
    // figures stay those of the last committed page
    let before = (run.clone(), errors.len());
    let written = write_page_inner(ctx, integration, run, worker, page, known, seen, errors).await;
    if written.is_err() {
        *run = before.0;
        errors.truncate(before.1);
    }
    written
}

#[allow(clippy::too_many_arguments)]
async fn write_page_inner(
    ctx: &AppContext,
    integration: &AtsIntegrationRow,
    run: &mut RunRow,
    worker: &str,
    page: Page,
    known: &mut HashMap<String, MappingRow>,
    seen: &mut HashSet<String>,
    errors: &mut Vec<SyncError>,
) -> Result<()> {
    use sea_orm::TransactionTrait;
    let now = Utc::now();
    let mut jobs = Vec::with_capacity(page.records.len());
    for record in page.records {
        match record {
            Ok(job) => jobs.push(job),
            Err((ats_id, message)) => {
                tracing::warn!(ats_id = %ats_id, error = %message, "job skipped: it could not be read");
                run.failed += 1;
                if errors.len() < MAX_ERRORS {
                    errors.push(SyncError { ats_id, message });
                }
            }
        }
    }
    let mut changed = Vec::new();
    let mut mappings = Vec::new();
    for job in jobs {
        if !seen.insert(job.ats_id.clone()) {
            // listed twice in one run (a page boundary moved): once is enough
            continue;
        }
        let hash = content_hash(&job.raw);
        let existing = known.get(&job.ats_id);
        if existing.is_some_and(|m| m.content_hash == hash) {
            run.unchanged += 1;
            continue;
        }
        let post_id = existing
            .map(|m| m.job_post_id.clone())
            .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
        if existing.is_some() {
            run.updated += 1;
        } else {
            run.created += 1;
        }
        mappings.push(MappingRow {
            integration_id: integration.id.clone(),
            ats_job_id: job.ats_id.clone(),
            job_post_id: post_id.clone(),
            content_hash: hash,
            last_seen_run_id: run.id.clone(),
            updated_at: now,
        });
        changed.push((job, post_id));
    }
    let posts = rows_of(changed, integration, now).await?;
    run.pages_fetched += 1;
    run.next_page = page.next;
    run.errors = serde_json::to_value(&*errors).unwrap_or_default();
    run.lease_until = Some(now + lease(ctx));
    let txn = ctx.db.begin().await?;
    store::upsert_posts(&txn, posts).await?;
    store::upsert_mappings(&txn, mappings).await?;
    if !store::save_run(&txn, run, worker).await? {
        return Err(AppError::Aborted(
            "the sync run was taken over by another process".to_owned(),
        ));
    }
    txn.commit().await?;
    Ok(())
}

/// Begins a sync of the integration `id` for its admin `caller`.
pub async fn begin_for(
    ctx: &AppContext,
    caller: &crate::auth::Identity,
    id: &str,
) -> Result<Begun> {
    super::ensure_enabled(&ctx.config)?;
    let integration = super::integrations::owned(ctx, caller, id).await?;
    begin(ctx, &integration, SyncTrigger::Manual).await
}

/// The integration row, for background work that holds only its id.
pub async fn integration(ctx: &AppContext, id: &str) -> Result<Option<AtsIntegrationRow>> {
    Ok(integrations_store::find(&ctx.db, id).await?)
}

/// Reads one job again (a webhook said it changed) and writes it if it did;
/// a job the provider no longer has is closed.
pub async fn refresh_job(
    ctx: &AppContext,
    integration: &AtsIntegrationRow,
    ats_job_id: &str,
) -> Result<()> {
    let credential = credentials::find(&ctx.db, &integration.connection_id)
        .await?
        .ok_or(AppError::NotFound("ats integration"))?;
    let key = credential.id.clone();
    let job: Option<Record> = match integration.provider {
        Provider::Greenhouse => {
            let client = greenhouse_client(ctx)?;
            let endpoints = OAuthEndpoints::greenhouse(&ctx.config);
            let ids = vec![ats_job_id.to_owned()];
            let (jobs, posts) = with_fresh_token(ctx, &endpoints, &credential, |token| {
                let client = client.clone();
                let ids = ids.clone();
                let key = key.clone();
                async move {
                    let jobs = client.jobs_by_id(&token, &key, &ids).await?;
                    let posts = client.posts_of_jobs(&token, &key, &ids).await?;
                    Ok::<_, ProviderError>((jobs, posts))
                }
            })
            .await
            .map_err(|e| call_error(Provider::Greenhouse, e))?;
            jobs.iter()
                .find(|j| record_id(j).as_deref() == Some(ats_job_id))
                .map(|job| {
                    let post = posts.iter().find(|p| {
                        crate::providers::ats::job::id_text(p.get("job_id")).as_deref()
                            == Some(ats_job_id)
                    });
                    greenhouse_jobs::map_job(job, post)
                        .map_err(|e| map_error(Some(ats_job_id.to_owned()), e))
                })
        }
        Provider::Lever => {
            let summary = super::integrations::summary_of(integration);
            let base = lever_base(ctx, summary.eu_region)?;
            let client = lever_client(ctx);
            let endpoints = OAuthEndpoints::greenhouse(&ctx.config);
            let posting = with_fresh_token(ctx, &endpoints, &credential, |api_key| {
                let client = client.clone();
                let base = base.clone();
                let key = key.clone();
                async move { client.posting(&base, &api_key, &key, ats_job_id).await }
            })
            .await
            .map_err(|e| call_error(Provider::Lever, e))?;
            posting.map(|p| {
                lever_jobs::map_posting(&p).map_err(|e| map_error(Some(ats_job_id.to_owned()), e))
            })
        }
        _ => None,
    };
    match job {
        Some(Ok(job)) => write_one(ctx, integration, job).await,
        Some(Err((id, message))) => {
            tracing::warn!(ats_id = %id, error = %message, "job skipped: it could not be read");
            Ok(())
        }
        None => close_job(ctx, integration, ats_job_id).await,
    }
}

/// Writes one mapped job unless its hash is unchanged.
async fn write_one(ctx: &AppContext, integration: &AtsIntegrationRow, job: AtsJob) -> Result<()> {
    use sea_orm::TransactionTrait;
    let now = Utc::now();
    let known =
        store::mappings(&ctx.db, &integration.id, std::slice::from_ref(&job.ats_id)).await?;
    let hash = content_hash(&job.raw);
    let existing = known.get(&job.ats_id);
    if existing.is_some_and(|m| m.content_hash == hash) {
        return Ok(());
    }
    let post_id = existing
        .map(|m| m.job_post_id.clone())
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let mapping = MappingRow {
        integration_id: integration.id.clone(),
        ats_job_id: job.ats_id.clone(),
        job_post_id: post_id.clone(),
        content_hash: hash,
        last_seen_run_id: existing
            .map(|m| m.last_seen_run_id.clone())
            .unwrap_or_else(|| "webhook".to_owned()),
        updated_at: now,
    };
    let row = post_row(job, post_id, integration, now, now);
    let txn = ctx.db.begin().await?;
    store::upsert_posts(&txn, vec![row]).await?;
    store::upsert_mappings(&txn, vec![mapping]).await?;
    txn.commit().await?;
    Ok(())
}

/// Closes the post of a job the provider deleted or no longer lists.
pub async fn close_job(
    ctx: &AppContext,
    integration: &AtsIntegrationRow,
    ats_job_id: &str,
) -> Result<()> {
    store::close_by_ats_id(&ctx.db, &integration.id, ats_job_id, Utc::now()).await?;
    Ok(())
}
