//! SeaORM entities, one per table, matching `migration/`.

pub mod integration_activity_logs;
pub mod jobs;
pub mod linkedin_profiles;
pub mod oauth_credentials;
pub mod oauth_states;
pub mod rate_windows;
pub mod scheduler_ticks;
