//! The ATS test rig: the real server with the sandbox Greenhouse and Lever
//! on loopback, and helpers to call `AtsService` as an organization's admin.

use nextke_integrations::{
    config::Config,
    proto::{self, ats_service_client::AtsServiceClient},
};
use nextke_sandbox::{
    greenhouse::{self, GreenhouseSandbox, GreenhouseSandboxConfig},
    lever::{self, LeverSandbox, LeverSandboxConfig},
    SandboxHandle,
};
use tonic::transport::Channel;

use crate::helpers::{
    authed, fresh_database, spawn_app_with, test_config, token, Backend, TestApp,
};

/// The organization the rig's admin administers.
pub const ORG: &str = "acme";
/// Its admin.
pub const ADMIN: &str = "ada";

/// Greenhouse and Lever sandboxes beside a running server.
pub struct Ats {
    pub app: TestApp,
    pub greenhouse: GreenhouseSandbox,
    pub greenhouse_handle: SandboxHandle,
    pub lever: LeverSandbox,
    /// Keeps the Lever sandbox serving.
    _lever_handle: SandboxHandle,
    /// The server's configuration (a second process is started from it).
    pub config: Config,
}

async fn listener() -> tokio::net::TcpListener {
    tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind")
}

/// A rig on a fresh database; `edit` changes the configuration first.
pub async fn ats(
    backend: Backend,
    greenhouse_config: GreenhouseSandboxConfig,
    lever_config: LeverSandboxConfig,
    edit: impl FnOnce(&mut Config),
) -> Ats {
    let database_url = fresh_database(backend).await;
    let (greenhouse, greenhouse_handle) =
        GreenhouseSandbox::start_with(greenhouse_config, listener().await).expect("greenhouse");
    let (lever, lever_handle) =
        LeverSandbox::start_with(lever_config, listener().await).expect("lever");
    let mut config = test_config(&database_url);
    let a = &mut config.ats;
    a.greenhouse_auth_base_url = greenhouse_handle.base_url();
    a.greenhouse_harvest_base_url = greenhouse_handle.base_url();
    a.greenhouse_boards_base_url = greenhouse_handle.base_url();
    a.lever_api_base_url = lever_handle.base_url();
    a.lever_eu_api_base_url = lever_handle.base_url();
    config.outbound.outbound_timeout_ms = 2_000;
    edit(&mut config);
    let app = spawn_app_with(backend, config.clone()).await;
    Ats {
        app,
        greenhouse,
        greenhouse_handle,
        lever,
        _lever_handle: lever_handle,
        config,
    }
}

/// A rig with the sandboxes' defaults.
pub async fn default_ats(backend: Backend) -> Ats {
    ats(
        backend,
        GreenhouseSandboxConfig::default(),
        LeverSandboxConfig::default(),
        |_| {},
    )
    .await
}

/// The sandbox Greenhouse's own client, acting as its known user.
pub fn greenhouse_credentials() -> proto::AtsCredentials {
    proto::AtsCredentials {
        credentials: Some(proto::ats_credentials::Credentials::Greenhouse(
            proto::GreenhouseCredentials {
                client_id: greenhouse::DEFAULT_CLIENT_ID.to_owned(),
                client_secret: greenhouse::DEFAULT_CLIENT_SECRET.to_owned(),
                user_id: greenhouse::DEFAULT_USER_ID.to_string(),
                job_board_token: greenhouse::DEFAULT_BOARD_TOKEN.to_owned(),
                job_board_api_key: greenhouse::DEFAULT_BOARD_API_KEY.to_owned(),
            },
        )),
    }
}

/// The sandbox Lever's key, with a signature token for its webhooks.
pub fn lever_credentials(signature_token: &str) -> proto::AtsCredentials {
    proto::AtsCredentials {
        credentials: Some(proto::ats_credentials::Credentials::Lever(
            proto::LeverCredentials {
                api_key: lever::DEFAULT_API_KEY.to_owned(),
                perform_as: String::new(),
                eu_region: false,
                webhook_signature_token: signature_token.to_owned(),
            },
        )),
    }
}

/// Settings syncing jobs and applications, no schedule.
pub fn settings() -> proto::AtsSettings {
    proto::AtsSettings {
        sync_jobs: true,
        sync_applications: true,
        webhook_events: Vec::new(),
        sync_interval_minutes: 0,
    }
}

/// The admin's token.
pub fn admin() -> String {
    token(ADMIN, &[(ORG, "admin")])
}

impl Ats {
    /// The `n` of `SELECT COUNT(*) AS n ...` on the server's database.
    pub async fn count(&self, sql: &str) -> i64 {
        #[derive(sea_orm::FromQueryResult)]
        struct N {
            n: i64,
        }
        use sea_orm::{ConnectionTrait, FromQueryResult};
        N::find_by_statement(sea_orm::Statement::from_string(
            self.app.ctx.db.get_database_backend(),
            sql.to_owned(),
        ))
        .one(&self.app.ctx.db)
        .await
        .expect("count")
        .map(|r| r.n)
        .unwrap_or(0)
    }

    pub async fn client(&self) -> AtsServiceClient<Channel> {
        AtsServiceClient::new(self.app.channel().await)
    }

    /// CreateAtsIntegration as `who` for `org`.
    pub async fn create_as(
        &self,
        who: &str,
        org: &str,
        provider: proto::Provider,
        credentials: proto::AtsCredentials,
    ) -> Result<proto::CreateAtsIntegrationResponse, tonic::Status> {
        self.client()
            .await
            .create_ats_integration(authed(
                proto::CreateAtsIntegrationRequest {
                    organization_id: org.to_owned(),
                    provider: provider.into(),
                    credentials: Some(credentials),
                    settings: Some(settings()),
                },
                who,
            ))
            .await
            .map(|r| r.into_inner())
    }

    /// The admin connects `provider` with the sandbox's good credentials.
    pub async fn connect(&self, provider: proto::Provider) -> proto::CreateAtsIntegrationResponse {
        let credentials = match provider {
            proto::Provider::Greenhouse => greenhouse_credentials(),
            _ => lever_credentials("lever-signature-token"),
        };
        self.create_as(&admin(), ORG, provider, credentials)
            .await
            .expect("create")
    }
}
