//! Typed configuration, read from environment variables (or the matching flags).
//!
//! Every setting has a default that lets a newcomer run the service with nothing
//! configured: an SQLite file, development secrets generated into a local file,
//! providers at their real addresses (or the sandbox, with `--sandbox` in `serve`).
//! Secrets are wrapped so `Debug` cannot print them.

mod ats;
pub use ats::AtsSettings;

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use clap::{Args, ValueEnum};
use secrecy::SecretString;

/// Whether the service runs for development or in production.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AppEnv {
    /// Missing secrets are generated into the development-secrets file.
    Development,
    /// Missing secrets stop start-up.
    Production,
}

/// Log output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line, for log shippers.
    Json,
}

/// Everything the server needs to start.
#[derive(Clone, Debug, Args)]
pub struct Config {
    /// `development` or `production`.
    #[arg(long, env = "APP_ENV", value_enum, default_value = "development")]
    pub app_env: AppEnv,

    /// Address of the one listener serving gRPC, grpc-web and the HTTP shim.
    #[arg(long, env = "LISTEN_ADDR", default_value = "127.0.0.1:50051")]
    pub listen_addr: SocketAddr,

    /// Database URL: `sqlite://FILE?mode=rwc` or `postgres://USER@HOST/DB`.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://nextke-integrations.db?mode=rwc"
    )]
    pub database_url: String,

    /// Largest number of pooled database connections.
    #[arg(long, env = "DATABASE_MAX_CONNECTIONS", default_value_t = 16)]
    pub database_max_connections: u32,

    /// Public base URL of this service, for OAuth redirect and webhook URLs.
    #[arg(
        long,
        env = "PUBLIC_BASE_URL",
        default_value = "http://127.0.0.1:50051"
    )]
    pub public_base_url: String,

    /// Browser origins allowed to call grpc-web, comma separated.
    #[arg(
        long,
        env = "CORS_ALLOWED_ORIGINS",
        value_delimiter = ',',
        default_value = "http://localhost:3000"
    )]
    pub cors_allowed_origins: Vec<String>,

    /// HS256 shared secret for caller tokens.
    #[arg(long, env = "JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<SecretString>,

    /// PEM public key for RS256 or EdDSA caller tokens.
    #[arg(long, env = "JWT_PUBLIC_KEY_FILE")]
    pub jwt_public_key_file: Option<PathBuf>,

    /// PEM private key the `token` command signs with when tokens are RS256 or EdDSA.
    #[arg(long, env = "JWT_PRIVATE_KEY_FILE")]
    pub jwt_private_key_file: Option<PathBuf>,

    /// `HS256`, `RS256` or `EdDSA`; inferred from the key when unset.
    #[arg(long, env = "JWT_ALGORITHM")]
    pub jwt_algorithm: Option<String>,

    /// Expected `iss` of caller tokens.
    #[arg(long, env = "JWT_ISSUER", default_value = "https://next.ke")]
    pub jwt_issuer: String,

    /// Expected `aud` of caller tokens.
    #[arg(long, env = "JWT_AUDIENCE", default_value = "nextke-integrations")]
    pub jwt_audience: String,

    /// Longest accepted token lifetime (`exp - iat`) in seconds; tokens without
    /// `iat` are refused while it is set; 0 means no maximum.
    #[arg(long, env = "JWT_MAX_TTL_SECS", default_value_t = crate::auth::DEFAULT_MAX_TTL_SECS)]
    pub jwt_max_ttl_secs: u64,

    /// Keyring for secrets at rest: `kid:base64key,...`, the first is primary.
    #[arg(long, env = "ENCRYPTION_KEYS", hide_env_values = true)]
    pub encryption_keys: Option<SecretString>,

    /// Where development secrets are generated when none are configured.
    #[arg(
        long,
        env = "DEV_SECRETS_FILE",
        default_value = ".nextke-dev-secrets.json"
    )]
    pub dev_secrets_file: PathBuf,

    /// Log format.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value = "pretty")]
    pub log_format: LogFormat,

    /// Provider endpoints and credentials.
    #[command(flatten)]
    pub providers: ProvidersConfig,

    /// Outbound HTTP behaviour.
    #[command(flatten)]
    pub outbound: OutboundSettings,

    /// Background workers and the scheduler.
    #[command(flatten)]
    pub jobs: JobsSettings,

    /// LinkedIn profile sync.
    #[command(flatten)]
    pub linkedin: LinkedInSettings,

    /// Google Calendar and Microsoft Outlook.
    #[command(flatten)]
    pub calendar: CalendarSettings,

    /// Applicant tracking systems.
    #[command(flatten)]
    pub ats: AtsSettings,

    /// Limits on starting authorization flows.
    #[command(flatten)]
    pub flows: FlowSettings,

    /// Inbound connections: timeouts and limits.
    #[command(flatten)]
    pub server: ServerSettings,
}

/// Inbound connections: how long slow and idle clients may hold one, and how
/// many may be open.
#[derive(Clone, Debug, Args)]
pub struct ServerSettings {
    /// Time a client has to send a request's headers (HTTP/1.1), in milliseconds.
    #[arg(long, env = "HTTP_HEADER_READ_TIMEOUT_MS", default_value_t = 10_000)]
    pub http_header_read_timeout_ms: u64,
    /// A connection with no request in flight for this long is closed, in seconds.
    #[arg(long, env = "HTTP_IDLE_TIMEOUT_SECS", default_value_t = 120)]
    pub http_idle_timeout_secs: u64,
    /// Most open client connections; clamped to the open-file limit minus a reserve.
    #[arg(long, env = "MAX_CONNECTIONS", default_value_t = 10_000)]
    pub max_connections: usize,
    /// Most concurrent HTTP/2 streams (calls) on one connection.
    #[arg(long, env = "HTTP2_MAX_CONCURRENT_STREAMS", default_value_t = 200)]
    pub http2_max_concurrent_streams: u32,
    /// Interval of HTTP/2 keep-alive pings that find dead peers, in seconds (0: none).
    #[arg(long, env = "HTTP2_KEEPALIVE_INTERVAL_SECS", default_value_t = 30)]
    pub http2_keepalive_interval_secs: u64,
}

impl ServerSettings {
    /// Time a client has to send a request's headers.
    pub fn header_read_timeout(&self) -> Duration {
        Duration::from_millis(self.http_header_read_timeout_ms.max(1))
    }

    /// Time after which a connection with no request in flight is closed.
    pub fn idle_timeout(&self) -> Duration {
        Duration::from_secs(self.http_idle_timeout_secs.max(1))
    }

    /// Interval of HTTP/2 keep-alive pings, if any.
    pub fn http2_keepalive_interval(&self) -> Option<Duration> {
        (self.http2_keepalive_interval_secs > 0)
            .then(|| Duration::from_secs(self.http2_keepalive_interval_secs))
    }
}

/// How many authorization flows one user may start, and keep pending.
#[derive(Clone, Debug, Args)]
pub struct FlowSettings {
    /// Authorization flows (`Start*Auth`) one user may start per window (0: no limit).
    #[arg(long, env = "OAUTH_START_LIMIT", default_value_t = 10)]
    pub oauth_start_limit: u32,
    /// Length of that window, in seconds.
    #[arg(long, env = "OAUTH_START_WINDOW_SECS", default_value_t = 60)]
    pub oauth_start_window_secs: u64,
    /// Pending (not yet completed) flows kept per user; starting another drops the oldest.
    #[arg(long, env = "OAUTH_MAX_PENDING_FLOWS", default_value_t = 5)]
    pub oauth_max_pending_flows: u32,
}

/// LinkedIn profile sync: feature flag, API products, redirects, pacing.
#[derive(Clone, Debug, Args)]
pub struct LinkedInSettings {
    /// Feature flag: off makes every LinkedIn RPC answer FAILED_PRECONDITION and the sweep skip LinkedIn.
    #[arg(long, env = "ENABLE_LINKEDIN_INTEGRATION", default_value_t = true, action = clap::ArgAction::Set)]
    pub enable_linkedin_integration: bool,
    /// The app has the Member Data Portability API (3rd party): ask for `r_dma_portability_3rd_party`.
    #[arg(long, env = "LINKEDIN_PORTABILITY_ENABLED", default_value_t = false, action = clap::ArgAction::Set)]
    pub linkedin_portability_enabled: bool,
    /// Send PKCE (S256). LinkedIn documents PKCE for apps it enabled it for; turn off if the token exchange answers invalid_client.
    #[arg(long, env = "LINKEDIN_PKCE", default_value_t = true, action = clap::ArgAction::Set)]
    pub linkedin_pkce: bool,
    /// Expected `iss` on the callback (RFC 9207); unset: any issuer on the OAuth host's origin.
    #[arg(long, env = "LINKEDIN_ISSUER")]
    pub linkedin_issuer: Option<String>,
    /// `LinkedIn-Version` header of the REST (portability) API.
    #[arg(long, env = "LINKEDIN_API_VERSION", default_value = "202312")]
    pub linkedin_api_version: String,
    /// Where the browser goes after a successful connect.
    #[arg(
        long,
        env = "LINKEDIN_SUCCESS_REDIRECT",
        default_value = "http://localhost:3000/settings/integrations?linkedin=connected"
    )]
    pub linkedin_success_redirect: String,
    /// Where the browser goes after a failed connect (an `error` parameter is added).
    #[arg(
        long,
        env = "LINKEDIN_FAILURE_REDIRECT",
        default_value = "http://localhost:3000/settings/integrations?linkedin=failed"
    )]
    pub linkedin_failure_redirect: String,
    /// Requests per second this app sends LinkedIn, all members together.
    #[arg(long, env = "LINKEDIN_RATE_LIMIT_RPS", default_value_t = 50)]
    pub linkedin_rate_limit_rps: u32,
    /// Profiles synced at once per process.
    #[arg(long, env = "LINKEDIN_SYNC_CONCURRENCY", default_value_t = 16)]
    pub linkedin_sync_concurrency: usize,
    /// Least time between two manual syncs of one user, in seconds.
    #[arg(long, env = "LINKEDIN_MANUAL_SYNC_INTERVAL_SECS", default_value_t = 60)]
    pub linkedin_manual_sync_interval_secs: u64,
    /// Due profiles one sweep enqueues at most.
    #[arg(long, env = "LINKEDIN_SYNC_BATCH", default_value_t = 5000)]
    pub linkedin_sync_batch: u64,
    /// When due LinkedIn syncs are enqueued (cron with seconds).
    #[arg(long, env = "CRON_LINKEDIN_SYNC", default_value = "0 * * * * *")]
    pub cron_linkedin_sync: String,
}

impl FlowSettings {
    /// The limits the OAuth core applies.
    pub fn limits(&self) -> crate::oauth::FlowLimits {
        crate::oauth::FlowLimits {
            starts_per_window: self.oauth_start_limit,
            window: Duration::from_secs(self.oauth_start_window_secs.max(1)),
            max_pending: self.oauth_max_pending_flows.max(1),
        }
    }
}

/// Google Calendar and Microsoft Outlook: feature flag and redirects.
#[derive(Clone, Debug, Args)]
pub struct CalendarSettings {
    /// Feature flag: off makes the calendar pages and RPCs answer FAILED_PRECONDITION.
    #[arg(long, env = "ENABLE_CALENDAR_INTEGRATION", default_value_t = true, action = clap::ArgAction::Set)]
    pub enable_calendar_integration: bool,
    /// Where the browser goes after a successful calendar connect.
    #[arg(
        long,
        env = "CALENDAR_SUCCESS_REDIRECT",
        default_value = "http://localhost:3000/settings/integrations?calendar=connected"
    )]
    pub calendar_success_redirect: String,
    /// Where the browser goes after a failed calendar connect (an `error` parameter is added).
    #[arg(
        long,
        env = "CALENDAR_FAILURE_REDIRECT",
        default_value = "http://localhost:3000/settings/integrations?calendar=failed"
    )]
    pub calendar_failure_redirect: String,
    /// Reminders held at once in one process (all channels): claimed up to
    /// `REMINDER_LEAD_SECS` before their instant, waiting for it, or being
    /// sent; claimed in batches of up to 64.
    #[arg(long, env = "REMINDER_CONCURRENCY", default_value_t = 32_768)]
    pub reminder_concurrency: usize,
    /// How long before its instant a reminder is claimed and prepared (its
    /// event, preferences and earlier deliveries read), so that at the
    /// instant only the sends remain.
    #[arg(long, env = "REMINDER_LEAD_SECS", default_value_t = 30)]
    pub reminder_lead_secs: u64,
    /// Most seconds a WhatsApp reminder goes out before its instant, when
    /// more fall due together than the number's throughput carries at once:
    /// the burst is centred on the instant. `0`: never early.
    #[arg(long, env = "REMINDER_MAX_EARLY_SECS", default_value_t = 10)]
    pub reminder_max_early_secs: u64,
    /// First retry delay of a reminder whose channel failed, in milliseconds
    /// (doubling, with jitter, up to ten minutes).
    #[arg(long, env = "REMINDER_RETRY_MS", default_value_t = 10_000)]
    pub reminder_retry_ms: u64,
    /// Open `WatchNotifications` streams per user.
    #[arg(long, env = "NOTIFICATION_STREAMS_PER_USER", default_value_t = 5)]
    pub notification_streams_per_user: usize,
    /// Open `WatchNotifications` streams per process.
    #[arg(long, env = "NOTIFICATION_STREAMS_MAX", default_value_t = 10_000)]
    pub notification_streams_max: usize,
    /// A `WatchNotifications` stream ends after this many seconds (the client resumes).
    #[arg(
        long,
        env = "NOTIFICATION_STREAM_LIFETIME_SECS",
        default_value_t = 1800
    )]
    pub notification_stream_lifetime_secs: u64,
    /// How often a stream reads the table without being woken (notifications
    /// written by other replicas), in milliseconds.
    #[arg(long, env = "NOTIFICATION_POLL_MS", default_value_t = 2000)]
    pub notification_poll_ms: u64,

    /// SMTP server for email reminders (unset: no email channel).
    #[arg(long, env = "SMTP_HOST")]
    pub smtp_host: Option<String>,
    /// SMTP port (default: 25 with `none`, 587 with `starttls`, 465 with `tls`).
    #[arg(long, env = "SMTP_PORT")]
    pub smtp_port: Option<u16>,
    /// SMTP user name (unset: no authentication).
    #[arg(long, env = "SMTP_USERNAME")]
    pub smtp_username: Option<String>,
    /// SMTP password.
    #[arg(long, env = "SMTP_PASSWORD", hide_env_values = true)]
    pub smtp_password: Option<SecretString>,
    /// The From address of reminder emails, e.g. `Next_KE <reminders@example.com>`.
    #[arg(
        long,
        env = "SMTP_FROM",
        default_value = "Next_KE <reminders@localhost>"
    )]
    pub smtp_from: String,
    /// Transport security: `none`, `starttls` or `tls`.
    #[arg(long, env = "SMTP_TLS", value_enum, default_value = "starttls")]
    pub smtp_tls: SmtpTlsMode,
    /// Pooled SMTP connections.
    #[arg(long, env = "SMTP_POOL_SIZE", default_value_t = 32)]
    pub smtp_pool_size: u32,

    /// WhatsApp Cloud API base URL.
    #[arg(
        long,
        env = "WHATSAPP_API_BASE_URL",
        default_value = "https://graph.facebook.com"
    )]
    pub whatsapp_api_base_url: String,
    /// WhatsApp Cloud API (Graph) version.
    #[arg(long, env = "WHATSAPP_API_VERSION", default_value = "v21.0")]
    pub whatsapp_api_version: String,
    /// The business phone number id messages are sent from (unset: no WhatsApp channel).
    #[arg(long, env = "WHATSAPP_PHONE_NUMBER_ID")]
    pub whatsapp_phone_number_id: Option<String>,
    /// The Cloud API access token.
    #[arg(long, env = "WHATSAPP_ACCESS_TOKEN", hide_env_values = true)]
    pub whatsapp_access_token: Option<SecretString>,
    /// The approved template reminders are sent with (its body takes four
    /// parameters: title, local start, lead time, place).
    #[arg(long, env = "WHATSAPP_TEMPLATE", default_value = "event_reminder")]
    pub whatsapp_template: String,
    /// The template's language code.
    #[arg(long, env = "WHATSAPP_TEMPLATE_LANGUAGE", default_value = "en")]
    pub whatsapp_template_language: String,
    /// Messages per second to the Cloud API, for the whole business number
    /// (Meta's default throughput is 80; 1,000 after its automatic upgrade).
    #[arg(long, env = "WHATSAPP_RATE_LIMIT_RPS", default_value_t = 80)]
    pub whatsapp_rate_limit_rps: u32,
}

/// How the SMTP connection is secured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SmtpTlsMode {
    /// Plain text (a local relay or test server only).
    None,
    /// Upgrade with STARTTLS (required).
    Starttls,
    /// TLS from the first byte (SMTPS).
    Tls,
}

/// The background engine: worker pools and periodic sweeps.
#[derive(Clone, Debug, Args)]
pub struct JobsSettings {
    /// Run worker pools in this process.
    #[arg(long, env = "WORKERS_ENABLED", default_value_t = true, action = clap::ArgAction::Set)]
    pub workers_enabled: bool,
    /// Fire the periodic schedules in this process (every replica may: ticks are enqueued once).
    #[arg(long, env = "SCHEDULER_ENABLED", default_value_t = true, action = clap::ArgAction::Set)]
    pub scheduler_enabled: bool,
    /// Wait between claims when a queue is empty, in milliseconds.
    #[arg(long, env = "JOB_POLL_INTERVAL_MS", default_value_t = 500)]
    pub job_poll_interval_ms: u64,
    /// Jobs of one kind running at once in one process.
    #[arg(long, env = "JOB_CONCURRENCY", default_value_t = 4)]
    pub job_concurrency: usize,
    /// How often queue depth, lag and dead jobs are read for `/metrics`, in milliseconds.
    #[arg(long, env = "JOB_STATS_INTERVAL_MS", default_value_t = 10_000)]
    pub job_stats_interval_ms: u64,
    /// How long a claimed job's lease lasts without a heartbeat, in seconds.
    #[arg(long, env = "JOB_LEASE_SECS", default_value_t = 60)]
    pub job_lease_secs: u64,
    /// How long shutdown waits for running jobs, in seconds.
    #[arg(long, env = "JOB_SHUTDOWN_GRACE_SECS", default_value_t = 20)]
    pub job_shutdown_grace_secs: u64,
    /// How long completed jobs are kept, in hours.
    #[arg(long, env = "JOB_RETENTION_HOURS", default_value_t = 72)]
    pub job_retention_hours: u64,
    /// Connections whose access token expires within this many minutes are refreshed.
    #[arg(long, env = "TOKEN_REFRESH_WINDOW_MINS", default_value_t = 15)]
    pub token_refresh_window_mins: u64,
    /// When the token-refresh sweep runs (cron with seconds).
    #[arg(long, env = "CRON_TOKEN_REFRESH", default_value = "0 */5 * * * *")]
    pub cron_token_refresh: String,
    /// When completed jobs, old ticks and expired OAuth states are pruned.
    #[arg(long, env = "CRON_PRUNE", default_value = "0 17 * * * *")]
    pub cron_prune: String,
    /// When secrets sealed with an old key are re-sealed with the primary key.
    #[arg(long, env = "CRON_REWRAP", default_value = "0 30 3 * * *")]
    pub cron_rewrap: String,
}

impl JobsSettings {
    /// Lease of a claimed job.
    pub fn lease(&self) -> Duration {
        Duration::from_secs(self.job_lease_secs.max(1))
    }
}

/// Endpoints (real provider by default) and OAuth clients of every provider.
#[derive(Clone, Debug, Args)]
pub struct ProvidersConfig {
    /// LinkedIn's OAuth host.
    #[arg(
        long,
        env = "LINKEDIN_OAUTH_BASE_URL",
        default_value = "https://www.linkedin.com"
    )]
    pub linkedin_oauth_base_url: String,
    /// LinkedIn's API host.
    #[arg(
        long,
        env = "LINKEDIN_API_BASE_URL",
        default_value = "https://api.linkedin.com"
    )]
    pub linkedin_api_base_url: String,
    /// LinkedIn OAuth client id.
    #[arg(long, env = "LINKEDIN_CLIENT_ID", default_value = "")]
    pub linkedin_client_id: String,
    /// LinkedIn OAuth client secret.
    #[arg(long, env = "LINKEDIN_CLIENT_SECRET", hide_env_values = true)]
    pub linkedin_client_secret: Option<SecretString>,

    /// Google's OAuth authorization host.
    #[arg(
        long,
        env = "GOOGLE_OAUTH_BASE_URL",
        default_value = "https://accounts.google.com"
    )]
    pub google_oauth_base_url: String,
    /// Google's OAuth token host.
    #[arg(
        long,
        env = "GOOGLE_TOKEN_BASE_URL",
        default_value = "https://oauth2.googleapis.com"
    )]
    pub google_token_base_url: String,
    /// Google's API host.
    #[arg(
        long,
        env = "GOOGLE_API_BASE_URL",
        default_value = "https://www.googleapis.com"
    )]
    pub google_api_base_url: String,
    /// Google's OpenID Connect userinfo host (the account's email when the
    /// calendar list does not give it).
    #[arg(
        long,
        env = "GOOGLE_USERINFO_BASE_URL",
        default_value = "https://openidconnect.googleapis.com"
    )]
    pub google_userinfo_base_url: String,
    /// Google OAuth client id.
    #[arg(long, env = "GOOGLE_CLIENT_ID", default_value = "")]
    pub google_client_id: String,
    /// Google OAuth client secret.
    #[arg(long, env = "GOOGLE_CLIENT_SECRET", hide_env_values = true)]
    pub google_client_secret: Option<SecretString>,

    /// Microsoft identity platform host.
    #[arg(
        long,
        env = "MICROSOFT_OAUTH_BASE_URL",
        default_value = "https://login.microsoftonline.com"
    )]
    pub microsoft_oauth_base_url: String,
    /// Microsoft tenant in the OAuth paths (`common` for any account).
    #[arg(long, env = "MICROSOFT_TENANT", default_value = "common")]
    pub microsoft_tenant: String,
    /// Microsoft Graph host.
    #[arg(
        long,
        env = "MICROSOFT_API_BASE_URL",
        default_value = "https://graph.microsoft.com"
    )]
    pub microsoft_api_base_url: String,
    /// Microsoft OAuth client id.
    #[arg(long, env = "MICROSOFT_CLIENT_ID", default_value = "")]
    pub microsoft_client_id: String,
    /// Microsoft OAuth client secret.
    #[arg(long, env = "MICROSOFT_CLIENT_SECRET", hide_env_values = true)]
    pub microsoft_client_secret: Option<SecretString>,
}

/// Timeouts and retry limits of every outbound provider call.
#[derive(Clone, Debug, Args)]
pub struct OutboundSettings {
    /// Timeout of one outbound request, in milliseconds.
    #[arg(long, env = "OUTBOUND_TIMEOUT_MS", default_value_t = 15_000)]
    pub outbound_timeout_ms: u64,
    /// Attempts per outbound call, the first included.
    #[arg(long, env = "OUTBOUND_MAX_ATTEMPTS", default_value_t = 4)]
    pub outbound_max_attempts: u32,
}

impl OutboundSettings {
    /// Timeout of one request.
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.outbound_timeout_ms)
    }
}

impl Config {
    /// The configuration a process gets from its environment alone.
    pub fn from_env() -> Result<Self, clap::Error> {
        use clap::{FromArgMatches, Parser};
        #[derive(Parser)]
        struct Wrapper {
            #[command(flatten)]
            config: Config,
        }
        let matches = <Wrapper as clap::CommandFactory>::command()
            .no_binary_name(true)
            .try_get_matches_from(Vec::<String>::new())?;
        Ok(Wrapper::from_arg_matches(&matches)?.config)
    }

    /// True in production, where missing secrets stop start-up.
    pub fn is_production(&self) -> bool {
        self.app_env == AppEnv::Production
    }

    /// True when the database is PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        self.database_url.starts_with("postgres")
    }

    /// `PUBLIC_BASE_URL` without a trailing slash.
    pub fn public_base(&self) -> &str {
        self.public_base_url.trim_end_matches('/')
    }
}
