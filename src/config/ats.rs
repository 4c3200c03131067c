//! Settings of the ATS integrations (Greenhouse and Lever).

use clap::Args;

/// Applicant tracking systems: hosts, rate budgets, webhooks, syncs.
#[derive(Clone, Debug, Args)]
pub struct AtsSettings {
    /// Turns the ATS integrations on (`AtsService`, the webhooks, scheduled syncs).
    #[arg(long, env = "ENABLE_ATS_INTEGRATION", default_value_t = true, action = clap::ArgAction::Set)]
    pub enable_ats_integration: bool,
    /// Greenhouse's OAuth host (Harvest v3 client credentials: `POST /token`).
    #[arg(
        long,
        env = "GREENHOUSE_AUTH_BASE_URL",
        default_value = "https://auth.greenhouse.io"
    )]
    pub greenhouse_auth_base_url: String,
    /// Greenhouse Harvest's host (`/v3/...`).
    #[arg(
        long,
        env = "GREENHOUSE_HARVEST_BASE_URL",
        default_value = "https://harvest.greenhouse.io"
    )]
    pub greenhouse_harvest_base_url: String,
    /// Greenhouse Job Board API's host (`/v1/boards/...`).
    #[arg(
        long,
        env = "GREENHOUSE_BOARDS_BASE_URL",
        default_value = "https://boards-api.greenhouse.io"
    )]
    pub greenhouse_boards_base_url: String,
    /// Jobs asked for per Greenhouse page (`per_page`; at most 500).
    #[arg(long, env = "GREENHOUSE_PAGE_SIZE", default_value_t = 500)]
    pub greenhouse_page_size: u32,
    /// Lever's Data API host (`/v1/...`) for accounts on its global environment.
    #[arg(
        long,
        env = "LEVER_API_BASE_URL",
        default_value = "https://api.lever.co"
    )]
    pub lever_api_base_url: String,
    /// Lever's Data API host for accounts on its EU environment.
    #[arg(
        long,
        env = "LEVER_EU_API_BASE_URL",
        default_value = "https://api.eu.lever.co"
    )]
    pub lever_eu_api_base_url: String,
    /// Requests per second per Lever API key (Lever: 10, bursts to 20).
    #[arg(long, env = "LEVER_RATE_LIMIT_RPS", default_value_t = 10)]
    pub lever_rate_limit_rps: u32,
    /// Burst of requests a Lever API key may send at once (Lever allows 20;
    /// five are kept spare, so arrivals bunched by the network are not refused).
    #[arg(long, env = "LEVER_RATE_LIMIT_BURST", default_value_t = 15)]
    pub lever_rate_limit_burst: u32,
    /// Hours the previous webhook secret keeps verifying after a rotation.
    #[arg(long, env = "ATS_WEBHOOK_SECRET_GRACE_HOURS", default_value_t = 24)]
    pub ats_webhook_secret_grace_hours: u32,
    /// How long a sync run's lease lasts without a committed page, in seconds:
    /// past it, the run is taken as stopped by a crash and is resumed.
    #[arg(long, env = "ATS_SYNC_LEASE_SECS", default_value_t = 120)]
    pub ats_sync_lease_secs: u64,
    /// When integrations whose scheduled sync is due are enqueued (cron with seconds).
    #[arg(long, env = "CRON_ATS_SYNC", default_value = "30 * * * * *")]
    pub cron_ats_sync: String,
}
