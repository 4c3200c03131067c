//! Ending a connection: revoke it at the provider where it can be (RFC 7009,
//! through the OAuth core), then in one transaction delete the credential,
//! the provider's own rows and the connection's pending jobs, and keep an
//! audit row without personal data.

use std::time::Instant;

use sea_orm::TransactionTrait;

use crate::vocab::ActivityName;
use crate::{
    context::AppContext,
    domain::{
        activity::{record, ActivityEvent},
        connectors::connector,
        types::ActivityStatus,
    },
    error::Result,
    oauth::{OAuthEndpoints, Revocation},
    store::{
        credentials::{self, Credential, CredentialKind},
        jobs as job_store,
    },
};

/// The unique key of a connection's pending token refresh.
pub fn refresh_job_key(connection_id: &str) -> String {
    format!("token.refresh:{connection_id}")
}

/// Disconnects `connection` (already scoped to its caller); answers what the
/// revocation came to. The credential is deleted whatever the provider says.
pub async fn disconnect(ctx: &AppContext, connection: &Credential) -> Result<Revocation> {
    let started = Instant::now();
    let provider = connection.provider;
    let revocation = match (
        connection.credential_kind,
        OAuthEndpoints::for_provider(&ctx.config, provider),
    ) {
        (CredentialKind::OAuthUserToken, Some(endpoints)) => {
            ctx.oauth.revoke(&endpoints, connection).await
        }
        _ => Revocation::Unsupported,
    };
    let own = connector(provider);
    let txn = ctx.db.begin().await?;
    if let Some(own) = own {
        own.forget(&txn, connection).await?;
        for key in own.pending_jobs(connection) {
            job_store::delete_pending(&txn, &key).await?;
        }
    }
    job_store::delete_pending(&txn, &refresh_job_key(&connection.id)).await?;
    credentials::delete(&txn, &connection.id).await?;
    record(
        &txn,
        ActivityEvent {
            provider,
            activity: ActivityName::OAuthDisconnect,
            status: ActivityStatus::Success,
            duration: started.elapsed(),
            message: format!(
                "disconnected; credentials deleted; revoked at {provider}: {}",
                match revocation {
                    Revocation::Confirmed => "yes",
                    Revocation::Unsupported => "not supported",
                    Revocation::NotConfirmed => "not confirmed",
                }
            ),
            user_id: Some(&connection.user_id),
            organization_id: connection.organization_id.as_deref(),
            connection_id: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(revocation)
}
