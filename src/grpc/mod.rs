//! gRPC adapters: the three services, health, reflection and grpc-web, as one
//! axum router.

mod ats;
mod ats_convert;
pub mod auth;
mod calendar;
mod calendar_convert;
pub mod codec;
pub mod convert;
pub mod fallback;
mod integration;
mod linkedin;
pub mod meter;
pub mod methods;
mod status;

use std::{convert::Infallible, sync::Arc};

use axum::Router;
use tonic::{body::Body, server::NamedService, service::interceptor::InterceptedService};
use tower::{Service, ServiceExt};

use crate::{
    context::AppContext,
    proto::{
        ats_service_server::AtsServiceServer, calendar_service_server::CalendarServiceServer,
        integration_service_server::IntegrationServiceServer, FILE_DESCRIPTOR_SET,
    },
};

pub use self::{ats::AtsApi, calendar::CalendarApi, integration::IntegrationApi};

/// Largest message accepted or sent by each of our services; a larger request
/// is refused by tonic with `OUT_OF_RANGE` before it is decoded.
pub const MAX_MESSAGE_BYTES: usize = 4 * 1024 * 1024;
/// Largest `AtsService` message: an application with a résumé of up to 10 MiB.
pub const MAX_ATS_MESSAGE_BYTES: usize = 11 * 1024 * 1024;

/// The gRPC routes (not yet layered with grpc-web or CORS).
pub async fn router(ctx: Arc<AppContext>) -> anyhow::Result<Router> {
    let authenticate = auth::Authenticate::new(ctx.jwt.clone());

    let (health, health_service) = tonic_health::server::health_reporter();
    health
        .set_serving::<IntegrationServiceServer<IntegrationApi>>()
        .await;
    health
        .set_serving::<CalendarServiceServer<CalendarApi>>()
        .await;
    health.set_serving::<AtsServiceServer<AtsApi>>().await;

    let reflection_v1 = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()?;
    let reflection_v1alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1alpha()?;

    let integration = IntegrationServiceServer::new(IntegrationApi::new(ctx.clone()))
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .max_encoding_message_size(MAX_MESSAGE_BYTES);
    let calendar = CalendarServiceServer::new(CalendarApi::new(ctx.clone()))
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .max_encoding_message_size(MAX_MESSAGE_BYTES);
    let ats = AtsServiceServer::new(AtsApi::new(ctx.clone()))
        .max_decoding_message_size(MAX_ATS_MESSAGE_BYTES)
        .max_encoding_message_size(MAX_MESSAGE_BYTES);

    let router = Router::new();
    let router = add(router, health_service);
    let router = add(router, reflection_v1);
    let router = add(router, reflection_v1alpha);
    let router = add(
        router,
        InterceptedService::new(integration, authenticate.clone()),
    );
    let router = add(
        router,
        InterceptedService::new(calendar, authenticate.clone()),
    );
    let router = add(router, InterceptedService::new(ats, authenticate));
    Ok(router)
}

/// How the route template of every mounted service ends (`/{package.Service}/{*rest}`).
const SERVICE_ROUTE_SUFFIX: &str = "/{*rest}";

/// Whether a route template (`MatchedPath`) is a gRPC service's, not the shim's.
pub fn is_service_route(template: &str) -> bool {
    template.ends_with(SERVICE_ROUTE_SUFFIX)
}

/// Mounts one gRPC service at `/{package.Service}/*`, as tonic's own `Routes` does.
fn add<S>(router: Router, svc: S) -> Router
where
    S: Service<http::Request<Body>, Error = Infallible>
        + NamedService
        + Clone
        + Send
        + Sync
        + 'static,
    S::Response: axum::response::IntoResponse,
    S::Future: Send + 'static,
{
    router.route_service(
        &format!("/{}{SERVICE_ROUTE_SUFFIX}", S::NAME),
        svc.map_request(|req: http::Request<axum::body::Body>| req.map(Body::new)),
    )
}
