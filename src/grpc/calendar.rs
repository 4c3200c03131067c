//! `CalendarService`: its RPCs arrive with the calendar issue.

use std::sync::Arc;

use crate::{context::AppContext, proto::calendar_service_server::CalendarService};

/// The `CalendarService` implementation.
pub struct CalendarApi {
    #[allow(dead_code)]
    ctx: Arc<AppContext>,
}

impl CalendarApi {
    /// Serves with the application's shared context.
    pub fn new(ctx: Arc<AppContext>) -> Self {
        Self { ctx }
    }
}

#[tonic::async_trait]
impl CalendarService for CalendarApi {}
