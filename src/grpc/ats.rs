//! `AtsService`: conversions around [`crate::domain::ats`].

use std::{pin::Pin, sync::Arc};

use futures::Stream;
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::mpsc;
use tonic::{Request, Response, Status};

use super::{
    ats_convert::{
        app_to, application_from, credentials_from, integration_to, post_status_from, post_to,
        run_to, settings_from, update_from,
    },
    auth::caller,
    convert::{self, provider_from},
};
use crate::{
    context::AppContext,
    domain::{
        ats::{applications, integrations, job_posts, sync, sync_runs},
        page_token,
    },
    error::AppError,
    proto::{self, ats_service_server::AtsService},
};

/// The `AtsService` implementation.
pub struct AtsApi {
    ctx: Arc<AppContext>,
}

impl AtsApi {
    /// Serves with the application's shared context.
    pub fn new(ctx: Arc<AppContext>) -> Self {
        Self { ctx }
    }
}

type SyncStream = Pin<Box<dyn Stream<Item = Result<proto::SyncAtsJobsResponse, Status>> + Send>>;

fn progress_to(p: sync::Progress) -> proto::SyncAtsJobsResponse {
    proto::SyncAtsJobsResponse {
        event: Some(proto::sync_ats_jobs_response::Event::Progress(
            proto::AtsSyncProgress {
                run_id: p.run_id,
                pages_fetched: p.pages_fetched,
                created: p.created,
                updated: p.updated,
                unchanged: p.unchanged,
                closed: p.closed,
                failed: p.failed,
            },
        )),
    }
}

/// A page size (0: 20, at most 100) and the offset a `prefix` token holds.
fn offset_page(prefix: &str, page_size: i32, token: &str) -> Result<(u32, u64), AppError> {
    let size = match convert::page_size(page_size)? {
        0 => 20,
        n if n > 100 => return Err(AppError::invalid("page_size", "must be at most 100")),
        n => n,
    };
    let offset = match convert::text("page_token", token, 256)? {
        None => 0,
        Some(token) => page_token::decode(prefix, token, |k| k.parse().ok(), u64::to_string)?,
    };
    Ok((size, offset))
}

/// The first `size` of `rows` (fetched one over) and the next page's token.
fn offset_next<T>(prefix: &str, mut rows: Vec<T>, size: u32, offset: u64) -> (Vec<T>, String) {
    let more = rows.len() > size as usize;
    rows.truncate(size as usize);
    let next = if more {
        page_token::encode(prefix, &(offset + rows.len() as u64).to_string())
    } else {
        String::new()
    };
    (rows, next)
}

fn reveal(secret: Option<SecretString>) -> String {
    secret
        .map(|s| s.expose_secret().to_owned())
        .unwrap_or_default()
}

#[tonic::async_trait]
impl AtsService for AtsApi {
    async fn create_ats_integration(
        &self,
        request: Request<proto::CreateAtsIntegrationRequest>,
    ) -> Result<Response<proto::CreateAtsIntegrationResponse>, Status> {
        let identity = caller(&request)?;
        let r = request.into_inner();
        let org = convert::text("organization_id", &r.organization_id, 128)?.unwrap_or("");
        let provider = proto::Provider::try_from(r.provider)
            .ok()
            .and_then(provider_from);
        let created = integrations::create(
            &self.ctx,
            &identity,
            org,
            provider,
            credentials_from(r.credentials),
            settings_from(r.settings),
        )
        .await?;
        Ok(Response::new(proto::CreateAtsIntegrationResponse {
            integration: Some(integration_to(created.integration)),
            webhook_secret: reveal(created.webhook_secret),
        }))
    }

    async fn list_ats_integrations(
        &self,
        request: Request<proto::ListAtsIntegrationsRequest>,
    ) -> Result<Response<proto::ListAtsIntegrationsResponse>, Status> {
        let identity = caller(&request)?;
        let r = request.into_inner();
        let org = convert::text("organization_id", &r.organization_id, 128)?
            .ok_or_else(|| AppError::invalid("organization_id", "is required"))?;
        let list = integrations::list(&self.ctx, &identity, org).await?;
        Ok(Response::new(proto::ListAtsIntegrationsResponse {
            integrations: list.into_iter().map(integration_to).collect(),
        }))
    }

    async fn get_ats_integration(
        &self,
        request: Request<proto::GetAtsIntegrationRequest>,
    ) -> Result<Response<proto::GetAtsIntegrationResponse>, Status> {
        let identity = caller(&request)?;
        let r = request.into_inner();
        let id = convert::text("integration_id", &r.integration_id, 64)?
            .ok_or_else(|| AppError::invalid("integration_id", "is required"))?;
        let integration = integrations::get(&self.ctx, &identity, id).await?;
        Ok(Response::new(proto::GetAtsIntegrationResponse {
            integration: Some(integration_to(integration)),
        }))
    }

    async fn update_ats_integration(
        &self,
        request: Request<proto::UpdateAtsIntegrationRequest>,
    ) -> Result<Response<proto::UpdateAtsIntegrationResponse>, Status> {
        let identity = caller(&request)?;
        let r = request.into_inner();
        let id = convert::text("integration_id", &r.integration_id, 64)?
            .ok_or_else(|| AppError::invalid("integration_id", "is required"))?
            .to_owned();
        let change = update_from(r)?;
        let integration = integrations::update(&self.ctx, &identity, &id, change).await?;
        Ok(Response::new(proto::UpdateAtsIntegrationResponse {
            integration: Some(integration_to(integration)),
        }))
    }

    async fn delete_ats_integration(
        &self,
        request: Request<proto::DeleteAtsIntegrationRequest>,
    ) -> Result<Response<proto::DeleteAtsIntegrationResponse>, Status> {
        let identity = caller(&request)?;
        let r = request.into_inner();
        let id = convert::text("integration_id", &r.integration_id, 64)?
            .ok_or_else(|| AppError::invalid("integration_id", "is required"))?;
        let closed = integrations::delete(&self.ctx, &identity, id).await?;
        Ok(Response::new(proto::DeleteAtsIntegrationResponse {
            job_posts_closed: u32::try_from(closed).unwrap_or(u32::MAX),
        }))
    }

    async fn rotate_ats_webhook_secret(
        &self,
        request: Request<proto::RotateAtsWebhookSecretRequest>,
    ) -> Result<Response<proto::RotateAtsWebhookSecretResponse>, Status> {
        let identity = caller(&request)?;
        let r = request.into_inner();
        let id = convert::text("integration_id", &r.integration_id, 64)?
            .ok_or_else(|| AppError::invalid("integration_id", "is required"))?;
        let given = (!r.webhook_secret.is_empty()).then(|| SecretString::from(r.webhook_secret));
        let rotated = integrations::rotate(&self.ctx, &identity, id, given).await?;
        Ok(Response::new(proto::RotateAtsWebhookSecretResponse {
            webhook_secret: reveal(rotated.webhook_secret),
            previous_valid_until: Some(convert::timestamp(rotated.previous_valid_until)),
        }))
    }

    type SyncAtsJobsStream = SyncStream;

    async fn sync_ats_jobs(
        &self,
        request: Request<proto::SyncAtsJobsRequest>,
    ) -> Result<Response<Self::SyncAtsJobsStream>, Status> {
        let identity = caller(&request)?;
        let r = request.into_inner();
        let id = convert::text("integration_id", &r.integration_id, 64)?
            .ok_or_else(|| AppError::invalid("integration_id", "is required"))?;
        // begun before answering: ABORTED and the rest come back as the status
        let begun = sync::begin_for(&self.ctx, &identity, id).await?;
        let (progress_tx, mut progress_rx) = mpsc::channel::<sync::Progress>(16);
        let (out_tx, out_rx) = mpsc::channel(16);
        let ctx = self.ctx.clone();
        // the run is its own task: it goes on if the caller goes away
        let running =
            tokio::spawn(async move { sync::finish(&ctx, begun, Some(progress_tx)).await });
        tokio::spawn(async move {
            while let Some(p) = progress_rx.recv().await {
                let _ = out_tx.send(Ok(progress_to(p))).await;
            }
            let last = match running.await {
                Ok(Ok(run)) => Ok(proto::SyncAtsJobsResponse {
                    event: Some(proto::sync_ats_jobs_response::Event::Summary(run_to(run))),
                }),
                Ok(Err(err)) => Err(Status::from(err)),
                Err(_) => Err(Status::internal("the sync stopped")),
            };
            let _ = out_tx.send(last).await;
        });
        Ok(Response::new(Box::pin(
            tokio_stream::wrappers::ReceiverStream::new(out_rx),
        )))
    }

    async fn list_job_posts(
        &self,
        request: Request<proto::ListJobPostsRequest>,
    ) -> Result<Response<proto::ListJobPostsResponse>, Status> {
        let _identity = caller(&request)?;
        let r = request.into_inner();
        let owned = |field, value: &str| -> Result<Option<String>, AppError> {
            Ok(convert::text(field, value, 512)?.map(str::to_owned))
        };
        let filter = job_posts::PostFilter {
            organization_id: owned("organization_id", &r.organization_id)?,
            integration_id: owned("integration_id", &r.integration_id)?,
            status: convert::enum_filter(r.status, "status", post_status_from)?,
            department: owned("department", &r.department)?,
            location: owned("location", &r.location)?,
            remote: r.remote,
            updated_since: convert::time(r.updated_since, "updated_since")?,
        };
        let token = convert::text("page_token", &r.page_token, 512)?;
        let (posts, next) =
            job_posts::list(&self.ctx, filter, convert::page_size(r.page_size)?, token).await?;
        Ok(Response::new(proto::ListJobPostsResponse {
            job_posts: posts.into_iter().map(post_to).collect(),
            next_page_token: next.unwrap_or_default(),
        }))
    }

    async fn get_job_post(
        &self,
        request: Request<proto::GetJobPostRequest>,
    ) -> Result<Response<proto::GetJobPostResponse>, Status> {
        let identity = caller(&request)?;
        let r = request.into_inner();
        let id = convert::text("job_post_id", &r.job_post_id, 64)?
            .ok_or_else(|| AppError::invalid("job_post_id", "is required"))?;
        let post = job_posts::get(&self.ctx, &identity, id, r.include_remote_data).await?;
        Ok(Response::new(proto::GetJobPostResponse {
            job_post: Some(post_to(post)),
        }))
    }

    async fn submit_application(
        &self,
        request: Request<proto::SubmitApplicationRequest>,
    ) -> Result<Response<proto::SubmitApplicationResponse>, Status> {
        let identity = caller(&request)?;
        let r = request.into_inner();
        convert::text("job_post_id", &r.job_post_id, 64)?
            .ok_or_else(|| AppError::invalid("job_post_id", "is required"))?;
        for (field, value, max) in [
            ("idempotency_key", &r.idempotency_key, 128),
            ("first_name", &r.first_name, 255),
            ("last_name", &r.last_name, 255),
            ("email", &r.email, 320),
            ("phone", &r.phone, 32),
            ("linkedin_url", &r.linkedin_url, 2048),
        ] {
            convert::text(field, value, max)?;
        }
        let application = applications::submit(&self.ctx, &identity, application_from(r)).await?;
        Ok(Response::new(proto::SubmitApplicationResponse {
            application: Some(app_to(application)),
        }))
    }

    async fn get_application(
        &self,
        request: Request<proto::GetApplicationRequest>,
    ) -> Result<Response<proto::GetApplicationResponse>, Status> {
        let identity = caller(&request)?;
        let r = request.into_inner();
        let id = convert::text("application_id", &r.application_id, 64)?
            .ok_or_else(|| AppError::invalid("application_id", "is required"))?;
        let application = applications::get(&self.ctx, &identity, id).await?;
        Ok(Response::new(proto::GetApplicationResponse {
            application: Some(app_to(application)),
        }))
    }

    async fn list_applications(
        &self,
        request: Request<proto::ListApplicationsRequest>,
    ) -> Result<Response<proto::ListApplicationsResponse>, Status> {
        let identity = caller(&request)?;
        let r = request.into_inner();
        let org = convert::text("organization_id", &r.organization_id, 128)?;
        let post = convert::text("job_post_id", &r.job_post_id, 64)?;
        let (size, offset) = offset_page("apps", r.page_size, &r.page_token)?;
        let list = applications::list(&self.ctx, &identity, org, post, offset, u64::from(size) + 1)
            .await?;
        let (list, next_page_token) = offset_next("apps", list, size, offset);
        Ok(Response::new(proto::ListApplicationsResponse {
            applications: list.into_iter().map(app_to).collect(),
            next_page_token,
        }))
    }

    async fn list_ats_sync_runs(
        &self,
        request: Request<proto::ListAtsSyncRunsRequest>,
    ) -> Result<Response<proto::ListAtsSyncRunsResponse>, Status> {
        let identity = caller(&request)?;
        let r = request.into_inner();
        let id = convert::text("integration_id", &r.integration_id, 64)?
            .ok_or_else(|| AppError::invalid("integration_id", "is required"))?;
        let (size, offset) = offset_page("runs", r.page_size, &r.page_token)?;
        let runs = sync_runs::list(&self.ctx, &identity, id, offset, u64::from(size) + 1).await?;
        let (runs, next_page_token) = offset_next("runs", runs, size, offset);
        Ok(Response::new(proto::ListAtsSyncRunsResponse {
            runs: runs.into_iter().map(run_to).collect(),
            next_page_token,
        }))
    }
}
