//! The server over real gRPC: health, reflection in both versions, the
//! cross-cutting RPCs, metrics.

use nextke_integrations::proto::{GetIntegrationStatusRequest, ListActivityRequest};
use tonic_health::pb::{
    health_check_response::ServingStatus, health_client::HealthClient, HealthCheckRequest,
};

use crate::{
    db_tests,
    helpers::{authed, spawn_app, token, Backend},
};

async fn health_needs_no_token_and_reports_each_service(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut health = HealthClient::new(app.channel().await);
    for service in [
        "",
        "nextke.integrations.v1.IntegrationService",
        "nextke.integrations.v1.CalendarService",
        "nextke.integrations.v1.AtsService",
    ] {
        let reply = health
            .check(HealthCheckRequest {
                service: service.to_owned(),
            })
            .await
            .unwrap_or_else(|s| panic!("health of {service:?}: {s}"))
            .into_inner();
        assert_eq!(reply.status(), ServingStatus::Serving, "{service}");
    }
    app.stop().await;
}

async fn reflection_lists_our_services_in_v1_and_v1alpha(backend: Backend) {
    use tokio_stream::StreamExt;
    let app = spawn_app(backend).await;

    let mut v1 = tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient::new(
        app.channel().await,
    );
    let request = tonic_reflection::pb::v1::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(
            tonic_reflection::pb::v1::server_reflection_request::MessageRequest::ListServices(
                String::new(),
            ),
        ),
    };
    let mut stream = v1
        .server_reflection_info(tokio_stream::once(request))
        .await
        .expect("v1 reflection")
        .into_inner();
    let reply = stream.next().await.expect("one reply").expect("ok reply");
    let names: Vec<String> = match reply.message_response {
        Some(tonic_reflection::pb::v1::server_reflection_response::MessageResponse::ListServicesResponse(list)) => {
            list.service.into_iter().map(|s| s.name).collect()
        }
        other => panic!("unexpected reflection reply {other:?}"),
    };
    for expected in [
        "nextke.integrations.v1.IntegrationService",
        "nextke.integrations.v1.CalendarService",
        "nextke.integrations.v1.AtsService",
        "grpc.health.v1.Health",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} missing from {names:?}"
        );
    }

    let mut alpha =
        tonic_reflection::pb::v1alpha::server_reflection_client::ServerReflectionClient::new(
            app.channel().await,
        );
    let request = tonic_reflection::pb::v1alpha::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(
            tonic_reflection::pb::v1alpha::server_reflection_request::MessageRequest::FileContainingSymbol(
                "nextke.integrations.v1.IntegrationService".to_owned(),
            ),
        ),
    };
    let mut stream = alpha
        .server_reflection_info(tokio_stream::once(request))
        .await
        .expect("v1alpha reflection")
        .into_inner();
    let reply = stream.next().await.expect("one reply").expect("ok reply");
    match reply.message_response {
        Some(tonic_reflection::pb::v1alpha::server_reflection_response::MessageResponse::FileDescriptorResponse(files)) => {
            assert!(!files.file_descriptor_proto.is_empty());
        }
        other => panic!("unexpected reflection reply {other:?}"),
    }
    app.stop().await;
}

async fn a_new_user_has_no_connections_and_no_activity(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut client = app.integration().await;
    let token = token("user-new", &[]);
    let status = client
        .get_integration_status(authed(GetIntegrationStatusRequest {}, &token))
        .await
        .expect("status")
        .into_inner();
    assert!(status.linkedin.is_empty() && status.calendars.is_empty() && status.ats.is_empty());
    let activity = client
        .list_activity(authed(ListActivityRequest::default(), &token))
        .await
        .expect("activity")
        .into_inner();
    assert!(activity.activities.is_empty());
    assert!(activity.next_page_token.is_empty());
    app.stop().await;
}

async fn metrics_count_rpcs_by_method_and_code(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut client = app.integration().await;
    let token = token("user-metrics", &[]);
    client
        .get_integration_status(authed(GetIntegrationStatusRequest {}, &token))
        .await
        .expect("status");
    let denied = client
        .get_integration_status(GetIntegrationStatusRequest {})
        .await
        .expect_err("no token");
    assert_eq!(denied.code(), tonic::Code::Unauthenticated);

    let body = reqwest::get(format!("{}/metrics", app.base_url))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("metrics body");
    let method = "/nextke.integrations.v1.IntegrationService/GetIntegrationStatus";
    assert!(
        body.contains(&format!(
            "nextke_requests_total{{transport=\"grpc\",method=\"{method}\",code=\"Ok\"}} 1"
        )),
        "{body}"
    );
    assert!(
        body.contains(&format!(
            "nextke_requests_total{{transport=\"grpc\",method=\"{method}\",code=\"Unauthenticated\"}} 1"
        )),
        "{body}"
    );
    assert!(body.contains("nextke_request_duration_seconds_bucket"));
    app.stop().await;
}

async fn healthz_readyz_over_plain_http(backend: Backend) {
    let app = spawn_app(backend).await;
    let http = reqwest::Client::builder()
        .http1_only()
        .build()
        .expect("client");
    let live = http
        .get(format!("{}/healthz", app.base_url))
        .send()
        .await
        .expect("healthz");
    assert_eq!(live.status(), 200);
    let ready = http
        .get(format!("{}/readyz", app.base_url))
        .send()
        .await
        .expect("readyz");
    assert_eq!(ready.status(), 200);
    assert_eq!(ready.text().await.expect("body"), "ready");
    let missing = http
        .get(format!("{}/no-such-page", app.base_url))
        .send()
        .await
        .expect("404");
    assert_eq!(missing.status(), 404);
    app.ctx.db.clone().close().await.expect("close pool");
    let not_ready = http
        .get(format!("{}/readyz", app.base_url))
        .send()
        .await
        .expect("readyz after close");
    assert_eq!(not_ready.status(), 503);
    app.stop().await;
}

db_tests!(
    health_needs_no_token_and_reports_each_service,
    reflection_lists_our_services_in_v1_and_v1alpha,
    a_new_user_has_no_connections_and_no_activity,
    metrics_count_rpcs_by_method_and_code,
    healthz_readyz_over_plain_http,
);
