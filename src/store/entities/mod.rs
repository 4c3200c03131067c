//! SeaORM entities, one per table, matching `migration/`.

pub mod application_status_history;
pub mod applications;
pub mod ats_application_syncs;
pub mod ats_integrations;
pub mod ats_job_syncs;
pub mod ats_sync_runs;
pub mod calendar_events;
pub mod calendar_integrations;
pub mod integration_activity_logs;
pub mod job_posts;
pub mod jobs;
pub mod linkedin_profiles;
pub mod notifications;
pub mod oauth_credentials;
pub mod oauth_states;
pub mod rate_windows;
pub mod reminder_deliveries;
pub mod reminder_preferences;
pub mod scheduler_ticks;
pub mod webhook_deliveries;
