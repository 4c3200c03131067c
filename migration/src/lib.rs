//! The schema of Next_KE Integrations, one file per migration.

pub use sea_orm_migration::prelude::*;

mod m20261124_000001_foundation;
mod m20261124_000002_jobs;
mod m20261124_000003_credentials_by_owner;
mod m20261124_000004_linkedin_profiles;
mod m20261202_000005_flow_limits;
mod m20261202_000006_jobs_notify;
mod m20261202_000007_flow_browser;
mod m20261202_000008_credential_kinds;
mod m20261202_000009_jobs_notify_after_commit;
mod m20261202_000010_calendar;
mod m20261204_000011_ats;

/// Every migration, in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_foundation::Migration),
            Box::new(m20261124_000002_jobs::Migration),
            Box::new(m20261124_000003_credentials_by_owner::Migration),
            Box::new(m20261124_000004_linkedin_profiles::Migration),
            Box::new(m20261202_000005_flow_limits::Migration),
            Box::new(m20261202_000006_jobs_notify::Migration),
            Box::new(m20261202_000007_flow_browser::Migration),
            Box::new(m20261202_000008_credential_kinds::Migration),
            Box::new(m20261202_000009_jobs_notify_after_commit::Migration),
            Box::new(m20261202_000010_calendar::Migration),
            Box::new(m20261204_000011_ats::Migration),
        ]
    }
}
