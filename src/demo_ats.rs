//! The ATS part of `demo`: sandbox Greenhouse and Lever, and a walk-through
//! that connects both for the demo organization, syncs their jobs, applies
//! to a Greenhouse post, and moves the application with a signed webhook.

use std::time::Duration;

use tokio_stream::StreamExt;

use crate::{
    config::Config,
    proto::{self, ats_service_client::AtsServiceClient},
};
use nextke_sandbox::{
    greenhouse::{self, GreenhouseSandbox, GreenhouseSandboxConfig, GreenhouseWebhook},
    lever::{self, LeverSandbox, LeverSandboxConfig},
    SandboxHandle,
};

/// The signature token the demo's Lever webhooks are signed with.
const LEVER_SIGNATURE_TOKEN: &str = "demo-lever-signature-token";

/// The running sandboxes.
pub struct AtsSandboxes {
    pub greenhouse: GreenhouseSandbox,
    pub greenhouse_handle: SandboxHandle,
    pub lever: LeverSandbox,
    pub lever_handle: SandboxHandle,
}

/// Starts both sandboxes and points `config` at them.
pub async fn start(config: &mut Config) -> anyhow::Result<AtsSandboxes> {
    let listener = || tokio::net::TcpListener::bind(("127.0.0.1", 0));
    let (greenhouse, greenhouse_handle) =
        GreenhouseSandbox::start_with(GreenhouseSandboxConfig::default(), listener().await?)?;
    let (lever, lever_handle) =
        LeverSandbox::start_with(LeverSandboxConfig::default(), listener().await?)?;
    let a = &mut config.ats;
    a.greenhouse_auth_base_url = greenhouse_handle.base_url();
    a.greenhouse_harvest_base_url = greenhouse_handle.base_url();
    a.greenhouse_boards_base_url = greenhouse_handle.base_url();
    a.lever_api_base_url = lever_handle.base_url();
    a.lever_eu_api_base_url = lever_handle.base_url();
    Ok(AtsSandboxes {
        greenhouse,
        greenhouse_handle,
        lever,
        lever_handle,
    })
}

fn authed<T>(message: T, token: &str) -> anyhow::Result<tonic::Request<T>> {
    let mut request = tonic::Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse()?);
    Ok(request)
}

/// The walk-through, as the admin (and candidate) of `token`.
pub async fn play(
    config: &Config,
    sandboxes: &AtsSandboxes,
    organization: &str,
    token: &str,
) -> anyhow::Result<()> {
    let mut client = AtsServiceClient::connect(format!("http://{}", config.listen_addr)).await?;
    let settings = proto::AtsSettings {
        sync_jobs: true,
        sync_applications: true,
        webhook_events: Vec::new(),
        sync_interval_minutes: 60,
    };
    let mut connected = Vec::new();
    for (provider, credentials) in [
        (
            proto::Provider::Greenhouse,
            proto::ats_credentials::Credentials::Greenhouse(proto::GreenhouseCredentials {
                client_id: greenhouse::DEFAULT_CLIENT_ID.to_owned(),
                client_secret: greenhouse::DEFAULT_CLIENT_SECRET.to_owned(),
                user_id: greenhouse::DEFAULT_USER_ID.to_string(),
                job_board_token: greenhouse::DEFAULT_BOARD_TOKEN.to_owned(),
                job_board_api_key: greenhouse::DEFAULT_BOARD_API_KEY.to_owned(),
            }),
        ),
        (
            proto::Provider::Lever,
            proto::ats_credentials::Credentials::Lever(proto::LeverCredentials {
                api_key: lever::DEFAULT_API_KEY.to_owned(),
                perform_as: String::new(),
                eu_region: false,
                webhook_signature_token: LEVER_SIGNATURE_TOKEN.to_owned(),
            }),
        ),
    ] {
        let created = client
            .create_ats_integration(authed(
                proto::CreateAtsIntegrationRequest {
                    organization_id: organization.to_owned(),
                    provider: provider.into(),
                    credentials: Some(proto::AtsCredentials {
                        credentials: Some(credentials),
                    }),
                    settings: Some(settings.clone()),
                },
                token,
            )?)
            .await?
            .into_inner();
        let integration = created
            .integration
            .ok_or_else(|| anyhow::anyhow!("no integration"))?;
        let mut stream = client
            .sync_ats_jobs(authed(
                proto::SyncAtsJobsRequest {
                    integration_id: integration.id.clone(),
                },
                token,
            )?)
            .await?
            .into_inner();
        while let Some(message) = stream.next().await {
            if let Some(proto::sync_ats_jobs_response::Event::Summary(run)) = message?.event {
                println!(
                    "  {:?} connected and synced: {} job posts in {} pages",
                    provider, run.created, run.pages_fetched
                );
            }
        }
        connected.push((integration, created.webhook_secret));
    }
    let (greenhouse_integration, secret) = &connected[0];
    let posts = client
        .list_job_posts(authed(
            proto::ListJobPostsRequest {
                integration_id: greenhouse_integration.id.clone(),
                status: proto::JobPostStatus::Open.into(),
                page_size: 100,
                ..Default::default()
            },
            token,
        )?)
        .await?
        .into_inner()
        .job_posts;
    let post = posts
        .iter()
        .find(|p| p.questions.iter().all(|q| !q.required))
        .or(posts.first())
        .ok_or_else(|| anyhow::anyhow!("no open post"))?;
    let answers = post
        .questions
        .iter()
        .filter(|q| q.required && q.r#type() != proto::QuestionType::File)
        .map(|q| proto::QuestionAnswer {
            question_id: q.id.clone(),
            values: vec![q.options.first().cloned().unwrap_or_else(|| "Yes".into())],
        })
        .collect();
    let application = client
        .submit_application(authed(
            proto::SubmitApplicationRequest {
                job_post_id: post.id.clone(),
                idempotency_key: "demo-application".to_owned(),
                first_name: "Demo".to_owned(),
                last_name: "Candidate".to_owned(),
                email: "demo-user@example.com".to_owned(),
                phone: "+254700000001".to_owned(),
                linkedin_url: String::new(),
                cover_letter: "Hello from the demo.".to_owned(),
                answers,
                resume: Some(proto::Resume {
                    filename: "demo-cv.txt".to_owned(),
                    content: b"Demo Candidate\nRust engineer\n".to_vec(),
                }),
            },
            token,
        )?)
        .await?
        .into_inner()
        .application
        .ok_or_else(|| anyhow::anyhow!("no application"))?;
    println!(
        "  applied to {:?}: application {}",
        post.title, application.id
    );
    let mut ats_id = None;
    for _ in 0..100 {
        let now = client
            .get_application(authed(
                proto::GetApplicationRequest {
                    application_id: application.id.clone(),
                },
                token,
            )?)
            .await?
            .into_inner()
            .application
            .ok_or_else(|| anyhow::anyhow!("no application"))?;
        if now.sync_state() == proto::ApplicationSyncState::Synced {
            ats_id = now.ats_application_id.parse::<u64>().ok();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let ats_id =
        ats_id.ok_or_else(|| anyhow::anyhow!("the application did not reach greenhouse"))?;
    println!("  sent to greenhouse as application {ats_id}");
    let moved = sandboxes
        .greenhouse
        .set_stage(ats_id, "Phone Screen")
        .ok_or_else(|| anyhow::anyhow!("greenhouse could not move it"))?;
    let status = GreenhouseWebhook::candidate_stage_change(moved)
        .sign(secret)
        .send(&greenhouse_integration.webhook_url)
        .await?;
    println!("  greenhouse sent a signed stage-change webhook: answered {status}");
    for _ in 0..100 {
        let now = client
            .get_application(authed(
                proto::GetApplicationRequest {
                    application_id: application.id.clone(),
                },
                token,
            )?)
            .await?
            .into_inner()
            .application
            .ok_or_else(|| anyhow::anyhow!("no application"))?;
        if !now.stage.is_empty() {
            println!(
                "  the application is now at {:?} ({:?})",
                now.stage,
                now.status()
            );
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("the webhook's stage did not arrive")
}
