//! `AtsService`: its RPCs arrive with the ATS issue.

use std::sync::Arc;

use crate::{context::AppContext, proto::ats_service_server::AtsService};

/// The `AtsService` implementation.
pub struct AtsApi {
    #[allow(dead_code)]
    ctx: Arc<AppContext>,
}

impl AtsApi {
    /// Serves with the application's shared context.
    pub fn new(ctx: Arc<AppContext>) -> Self {
        Self { ctx }
    }
}

#[tonic::async_trait]
impl AtsService for AtsApi {}
