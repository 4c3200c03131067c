//! `IntegrationService`: thin adapters from protobuf to the domain.

use std::sync::Arc;

use tonic::{Request, Response, Status};

use super::{
    auth::caller,
    convert::{self, enum_filter, text},
    linkedin,
};
use crate::{
    context::AppContext,
    domain::{activity, failed_jobs, status},
    limits,
    proto::{self, integration_service_server::IntegrationService},
};

/// The `IntegrationService` implementation.
pub struct IntegrationApi {
    ctx: Arc<AppContext>,
}

impl IntegrationApi {
    /// Serves with the application's shared context.
    pub fn new(ctx: Arc<AppContext>) -> Self {
        Self { ctx }
    }
}

#[tonic::async_trait]
impl IntegrationService for IntegrationApi {
    async fn list_activity(
        &self,
        request: Request<proto::ListActivityRequest>,
    ) -> Result<Response<proto::ListActivityResponse>, Status> {
        let identity = caller(&request)?;
        let req = request.into_inner();
        let page_size = convert::page_size(req.page_size)?;
        let query = activity::ActivityQuery {
            kind: enum_filter(req.integration_type, "integration_type", convert::kind_from)?,
            provider: enum_filter(req.provider, "provider", convert::provider_from)?,
            status: enum_filter(req.status, "status", convert::activity_status_from)?,
            start: convert::time(req.start_time, "start_time")?,
            end: convert::time(req.end_time, "end_time")?,
            page_size,
            page_token: text("page_token", &req.page_token, limits::PAGE_TOKEN_MAX)?
                .map(str::to_owned),
            organization_id: text("organization_id", &req.organization_id, limits::ORG_ID_MAX)?
                .map(str::to_owned),
        };
        let page = activity::list(&self.ctx.db, &identity, query).await?;
        Ok(Response::new(proto::ListActivityResponse {
            activities: page.activities.into_iter().map(activity_to_proto).collect(),
            next_page_token: page.next_page_token.unwrap_or_default(),
        }))
    }

    async fn get_integration_status(
        &self,
        request: Request<proto::GetIntegrationStatusRequest>,
    ) -> Result<Response<proto::GetIntegrationStatusResponse>, Status> {
        let identity = caller(&request)?;
        let connections = status::overview(&self.ctx.db, &self.ctx.connections, &identity).await?;
        let mut response = proto::GetIntegrationStatusResponse::default();
        for c in connections {
            let kind = c.kind;
            let message = connection_to_proto(c);
            match kind {
                crate::domain::types::IntegrationKind::LinkedIn => response.linkedin.push(message),
                crate::domain::types::IntegrationKind::Calendar => response.calendars.push(message),
                crate::domain::types::IntegrationKind::Ats => response.ats.push(message),
            }
        }
        Ok(Response::new(response))
    }

    async fn list_failed_jobs(
        &self,
        request: Request<proto::ListFailedJobsRequest>,
    ) -> Result<Response<proto::ListFailedJobsResponse>, Status> {
        let identity = caller(&request)?;
        let req = request.into_inner();
        let page_size = convert::page_size(req.page_size)?;
        let page = failed_jobs::list(
            &self.ctx.db,
            &identity,
            text("kind", &req.kind, limits::JOB_KIND_MAX)?,
            page_size,
            text("page_token", &req.page_token, limits::PAGE_TOKEN_MAX)?,
        )
        .await?;
        Ok(Response::new(proto::ListFailedJobsResponse {
            jobs: page.jobs.into_iter().map(job_to_proto).collect(),
            next_page_token: page.next_page_token.unwrap_or_default(),
        }))
    }

    async fn retry_failed_job(
        &self,
        request: Request<proto::RetryFailedJobRequest>,
    ) -> Result<Response<proto::RetryFailedJobResponse>, Status> {
        let identity = caller(&request)?;
        let job = failed_jobs::retry(&self.ctx.db, &identity, request.into_inner().job_id).await?;
        Ok(Response::new(proto::RetryFailedJobResponse {
            job: Some(job_to_proto(job)),
        }))
    }

    async fn start_linked_in_auth(
        &self,
        request: Request<proto::StartLinkedInAuthRequest>,
    ) -> Result<Response<proto::StartLinkedInAuthResponse>, Status> {
        linkedin::start(&self.ctx, request).await
    }

    async fn get_linked_in_profile(
        &self,
        request: Request<proto::GetLinkedInProfileRequest>,
    ) -> Result<Response<proto::GetLinkedInProfileResponse>, Status> {
        linkedin::get(&self.ctx, request).await
    }

    async fn update_linked_in_settings(
        &self,
        request: Request<proto::UpdateLinkedInSettingsRequest>,
    ) -> Result<Response<proto::UpdateLinkedInSettingsResponse>, Status> {
        linkedin::update(&self.ctx, request).await
    }

    async fn sync_linked_in_profile(
        &self,
        request: Request<proto::SyncLinkedInProfileRequest>,
    ) -> Result<Response<proto::SyncLinkedInProfileResponse>, Status> {
        linkedin::sync(&self.ctx, request).await
    }

    async fn disconnect_linked_in(
        &self,
        request: Request<proto::DisconnectLinkedInRequest>,
    ) -> Result<Response<proto::DisconnectLinkedInResponse>, Status> {
        linkedin::disconnect(&self.ctx, request).await
    }
}

fn job_to_proto(job: failed_jobs::FailedJob) -> proto::FailedJob {
    proto::FailedJob {
        id: job.id,
        kind: job.kind,
        state: job.state.as_str().to_owned(),
        attempts: job.attempts,
        max_attempts: job.max_attempts,
        last_error: job.last_error.unwrap_or_default(),
        organization_id: job.organization_id.unwrap_or_default(),
        user_id: job.user_id.unwrap_or_default(),
        created_at: Some(convert::timestamp(job.created_at)),
        updated_at: Some(convert::timestamp(job.updated_at)),
    }
}

fn activity_to_proto(a: activity::Activity) -> proto::Activity {
    proto::Activity {
        id: a.id,
        integration_type: convert::kind_to(Some(a.kind)).into(),
        provider: convert::provider_to(Some(a.provider)).into(),
        activity: a.activity.as_str().to_owned(),
        status: convert::activity_status_to(Some(a.status)).into(),
        duration_ms: a.duration_ms,
        message: a.message,
        user_id: a.user_id.unwrap_or_default(),
        organization_id: a.organization_id.unwrap_or_default(),
        created_at: Some(convert::timestamp(a.created_at)),
    }
}

fn connection_to_proto(c: status::ConnectionOverview) -> proto::ConnectionStatus {
    proto::ConnectionStatus {
        connection_id: c.id,
        integration_type: convert::kind_to(Some(c.kind)).into(),
        provider: convert::provider_to(Some(c.provider)).into(),
        state: convert::state_to(c.state).into(),
        organization_id: c.organization_id.unwrap_or_default(),
        connected_at: Some(convert::timestamp(c.connected_at)),
        last_success_at: c.last_success_at.map(convert::timestamp),
        last_error_at: c.last_error_at.map(convert::timestamp),
        last_error: c.last_error.unwrap_or_default(),
        token_expires_at: c.token_expires_at.map(convert::timestamp),
    }
}
