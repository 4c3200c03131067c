//! `spawn_app()` and what tests share: databases, tokens, clients, sandboxes.

use std::{
    sync::{Arc, Once},
    time::Duration,
};

use nextke_integrations::{
    auth::{JwtConfig, JwtSigner, OrgMembership, OrgRole},
    config::Config,
    context::AppContext,
    crypto::Keyring,
    proto::integration_service_client::IntegrationServiceClient,
    startup::Application,
};
use nextke_sandbox::{
    oauth_server::{OAuthClient, OAuthServer, OAuthServerConfig},
    SandboxHandle, SandboxServer,
};
use sea_orm::{ConnectionTrait, Database};
use secrecy::SecretString;
use tokio::net::TcpListener;
use tonic::transport::Channel;

/// The HS256 secret every test server verifies tokens with.
pub const JWT_SECRET: &str = "test-secret-test-secret-test-secret-0123456789";
pub const ISSUER: &str = "https://next.ke";
pub const AUDIENCE: &str = "nextke-integrations";
/// The sandbox's OAuth client registration.
pub const CLIENT_ID: &str = "nextke-test-client";
pub const CLIENT_SECRET: &str = "nextke-test-client-secret";

/// Which database a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs each named `async fn name(backend: Backend)` as two tests,
/// `sqlite::name` and `postgres::name`.
#[macro_export]
macro_rules! db_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::helpers::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::helpers::Backend::Postgres).await
                }
            )*
        }
    };
}

/// Runs each named `async fn name(backend: Backend, logs: CapturedLogs)` as
/// two tests, `sqlite::name` and `postgres::name`, each on a current-thread
/// runtime whose every task (the server's, the sandboxes') logs at TRACE into
/// `logs`.
#[macro_export]
macro_rules! db_tests_with_logs {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $name() {
                    $crate::helpers::with_captured_logs(|logs| {
                        super::$name($crate::helpers::Backend::Sqlite, logs)
                    })
                }
            )*
        }
        mod postgres {
            $(
                #[test]
                fn $name() {
                    $crate::helpers::with_captured_logs(|logs| {
                        super::$name($crate::helpers::Backend::Postgres, logs)
                    })
                }
            )*
        }
    };
}

/// Everything the service and the sandboxes logged during one test, at every level.
#[derive(Clone, Default)]
pub struct CapturedLogs(Arc<std::sync::Mutex<Vec<u8>>>);

impl CapturedLogs {
    /// The log lines so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("log buffer")).into_owned()
    }
}

impl std::io::Write for CapturedLogs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs `test` on a current-thread runtime with a TRACE subscriber writing
/// into the [`CapturedLogs`] it is given (records of the `log` crate too).
pub fn with_captured_logs<F: std::future::Future<Output = ()>>(
    test: impl FnOnce(CapturedLogs) -> F,
) {
    // `log` records (reqwest's) reach whichever subscriber is the thread's default
    let _ = tracing_log::LogTracer::init();
    keep_interest_shared();
    let logs = CapturedLogs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(test(logs));
}

/// Keeps a second dispatcher registered for the whole run. With only one
/// registered, tracing-core decides a callsite's interest from the *current
/// thread's* default alone: a callsite first reached on a thread with no
/// capture (another test) would be cached as "never" and stay silent in a
/// capturing test running beside it. With two or more, every callsite's
/// interest is combined over all live dispatchers.
fn keep_interest_shared() {
    static KEEP: std::sync::OnceLock<tracing::Dispatch> = std::sync::OnceLock::new();
    KEEP.get_or_init(|| tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default()));
}

fn init_logs() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            nextke_integrations::telemetry::init(nextke_integrations::config::LogFormat::Pretty);
        }
    });
}

/// A fresh, empty database URL for one test.
pub async fn fresh_database(backend: Backend) -> String {
    match backend {
        Backend::Sqlite => {
            let dir = std::env::temp_dir().join("nextke-tests");
            std::fs::create_dir_all(&dir).expect("temp dir");
            let file = dir.join(format!("{}.db", uuid::Uuid::new_v4().simple()));
            format!("sqlite://{}?mode=rwc", file.display())
        }
        Backend::Postgres => {
            let admin_url = std::env::var("TEST_POSTGRES_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
            let admin = Database::connect(&admin_url).await.unwrap_or_else(|err| {
                panic!("PostgreSQL is required for this test ({admin_url}): {err}")
            });
            let name = format!("nextke_test_{}", uuid::Uuid::new_v4().simple());
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create test database");
            let _ = admin.close().await;
            let (base, _) = admin_url
                .rsplit_once('/')
                .expect("database url with a path");
            format!("{base}/{name}")
        }
    }
}

/// The configuration of a test server: defaults, a fixed JWT secret, a fresh
/// key, and every provider pointed at an unroutable loopback port until a test
/// points it at a sandbox.
pub fn test_config(database_url: &str) -> Config {
    let mut config = Config::from_env().expect("default configuration");
    config.database_url = database_url.to_owned();
    config.database_max_connections = 8;
    config.jwt_secret = Some(SecretString::from(JWT_SECRET));
    config.jwt_public_key_file = None;
    config.jwt_algorithm = None;
    config.jwt_issuer = ISSUER.to_owned();
    config.jwt_audience = AUDIENCE.to_owned();
    let (_, spec) = Keyring::generate("test1").expect("keyring");
    config.encryption_keys = Some(spec);
    config.cors_allowed_origins = vec!["https://app.next.ke".to_owned()];
    config.outbound.outbound_timeout_ms = 5_000;
    // background work only where a test starts it, so other tests stay exact
    config.jobs.workers_enabled = false;
    config.jobs.scheduler_enabled = false;
    let nowhere = "http://127.0.0.1:9".to_owned();
    let p = &mut config.providers;
    p.linkedin_oauth_base_url = nowhere.clone();
    p.linkedin_api_base_url = nowhere.clone();
    p.google_oauth_base_url = nowhere.clone();
    p.google_token_base_url = nowhere.clone();
    p.google_api_base_url = nowhere.clone();
    p.google_userinfo_base_url = nowhere.clone();
    p.microsoft_oauth_base_url = nowhere.clone();
    p.microsoft_api_base_url = nowhere;
    p.linkedin_client_id = CLIENT_ID.to_owned();
    p.linkedin_client_secret = Some(SecretString::from(CLIENT_SECRET));
    config
}

/// A running server.
pub struct TestApp {
    pub base_url: String,
    pub ctx: Arc<AppContext>,
    pub backend: Backend,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
}

/// Starts the real server on port 0 against a fresh database.
pub async fn spawn_app(backend: Backend) -> TestApp {
    let url = fresh_database(backend).await;
    spawn_app_with(backend, test_config(&url)).await
}

/// Starts the real server with a given configuration (its listen address is
/// replaced by port 0, and `PUBLIC_BASE_URL` by the bound address).
pub async fn spawn_app_with(backend: Backend, mut config: Config) -> TestApp {
    init_logs();
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    config.listen_addr = addr;
    config.public_base_url = format!("http://{addr}");
    let app = Application::build_with_listener(config, listener)
        .await
        .expect("application builds");
    let ctx = app.context();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        app.run_until_stopped(async {
            let _ = rx.await;
        })
        .await
        .expect("server runs");
    });
    TestApp {
        base_url: format!("http://{addr}"),
        ctx,
        backend,
        shutdown: Some(tx),
        server: Some(server),
    }
}

impl TestApp {
    /// A gRPC channel (HTTP/2) to the server.
    pub async fn channel(&self) -> Channel {
        Channel::from_shared(self.base_url.clone())
            .expect("uri")
            .connect_timeout(Duration::from_secs(5))
            .connect()
            .await
            .expect("grpc connect")
    }

    /// An `IntegrationService` client.
    pub async fn integration(&self) -> IntegrationServiceClient<Channel> {
        IntegrationServiceClient::new(self.channel().await)
    }

    /// Stops the server and waits for it to drain.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), server).await;
        }
    }
}

/// A token for `user` with `orgs` (`("org-1", "admin")`), valid for an hour.
pub fn token(user: &str, orgs: &[(&str, &str)]) -> String {
    let memberships: Vec<OrgMembership> = orgs
        .iter()
        .map(|(id, role)| {
            let role = if *role == "admin" {
                OrgRole::Admin
            } else {
                OrgRole::Member
            };
            OrgMembership::new(*id, role)
        })
        .collect();
    signer()
        .mint(user, &memberships, false, Duration::from_secs(3600))
        .expect("mint")
}

/// A token of a platform service (`role: service`).
pub fn service_token() -> String {
    signer()
        .mint("svc-ops", &[], true, Duration::from_secs(3600))
        .expect("mint")
}

/// The signer matching the test servers' HS256 configuration.
pub fn signer() -> JwtSigner {
    JwtSigner::new(&JwtConfig::hs256(
        SecretString::from(JWT_SECRET),
        ISSUER,
        AUDIENCE,
    ))
    .expect("signer")
}

/// A request carrying `authorization: Bearer <token>`.
pub fn authed<T>(message: T, token: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("header"),
    );
    request
}

/// A sandbox OAuth authorization server on LinkedIn's paths, knowing our test client.
pub async fn oauth_sandbox(
    edit: impl FnOnce(&mut OAuthServerConfig),
) -> (OAuthServer, SandboxHandle) {
    let mut config = OAuthServerConfig {
        authorize_path: "/oauth/v2/authorization".to_owned(),
        token_path: "/oauth/v2/accessToken".to_owned(),
        revoke_path: "/oauth/v2/revoke".to_owned(),
        clients: vec![OAuthClient::new(CLIENT_ID, CLIENT_SECRET)],
        ..OAuthServerConfig::default()
    };
    edit(&mut config);
    let server = OAuthServer::new(config);
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind sandbox");
    let handle = SandboxServer::new(server.router())
        .named("oauth")
        .start(listener)
        .expect("sandbox starts");
    (server, handle)
}

/// A client that does not follow redirects, as a test inspecting them needs.
pub fn no_redirect_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client")
}

/// Executes raw SQL on the app's database (for tests that tamper with rows).
pub async fn sql(app: &TestApp, statement: &str) {
    app.ctx
        .db
        .execute_unprepared(statement)
        .await
        .expect("sql statement");
}
