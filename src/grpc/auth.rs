//! The interceptor that turns a bearer token into an [`Identity`] on every RPC.

use std::sync::Arc;

use tonic::{service::Interceptor, Request, Status};

use crate::auth::{parse_authorization_header, Identity, JwtVerifier};

/// Verifies `authorization: Bearer ...` and stores the caller's identity in
/// the request extensions; any failure is `UNAUTHENTICATED` with no detail
/// that would help forge a token.
#[derive(Clone)]
pub struct Authenticate {
    verifier: Arc<JwtVerifier>,
}

impl Authenticate {
    /// An interceptor checking tokens with `verifier`.
    pub fn new(verifier: Arc<JwtVerifier>) -> Self {
        Self { verifier }
    }
}

impl Interceptor for Authenticate {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        let header = request
            .metadata()
            .get("authorization")
            .ok_or_else(|| Status::unauthenticated("missing bearer token"))?
            .to_str()
            .map_err(|_| Status::unauthenticated("malformed authorization header"))?;
        let token = parse_authorization_header(header)
            .map_err(|_| Status::unauthenticated("malformed authorization header"))?;
        let identity = self.verifier.verify(token).map_err(|err| {
            tracing::debug!(reason = %err, "token refused");
            Status::unauthenticated("invalid or expired token")
        })?;
        request.extensions_mut().insert(identity);
        Ok(request)
    }
}

/// The caller of an authenticated RPC.
pub fn caller<T>(request: &Request<T>) -> Result<Identity, Status> {
    request
        .extensions()
        .get::<Identity>()
        .cloned()
        .ok_or_else(|| Status::unauthenticated("missing bearer token"))
}
