//! Moving sealed credentials to the primary key after a key rotation: every
//! sealed column of a row (tokens, the owner's client or key parts, webhook
//! secrets), whatever its credential kind.

use sea_orm::ConnectionTrait;

use super::{tokens::aad, OAuthCore, OAuthError};
use crate::store::credentials::{self, Credential, SealedColumns};

/// Rows re-sealed per query.
const BATCH: u64 = 200;

impl OAuthCore {
    /// Re-seals every connection still sealed with an older key with the
    /// primary key; returns how many rows moved. Rows changed concurrently (a
    /// refresh seals with the primary key anyway) are skipped.
    pub async fn rewrap_all(&self) -> Result<u64, OAuthError> {
        let primary = self.keyring.primary_kid().to_owned();
        let mut moved = 0;
        loop {
            let rows = credentials::sealed_with_other_key(&self.db, &primary, BATCH).await?;
            if rows.is_empty() {
                return Ok(moved);
            }
            let mut progressed = false;
            for row in &rows {
                if self.rewrap_row(&self.db, row).await? {
                    moved += 1;
                    progressed = true;
                }
            }
            if !progressed {
                return Ok(moved);
            }
        }
    }

    /// Re-seals every sealed column of one row with the primary key; answers
    /// whether the row was still as read.
    pub(super) async fn rewrap_row(
        &self,
        db: &impl ConnectionTrait,
        row: &Credential,
    ) -> Result<bool, OAuthError> {
        let rewrap = |sealed: &Option<Vec<u8>>, column: &'static str| {
            sealed
                .as_ref()
                .map(|sealed| {
                    self.keyring
                        .rewrap(sealed, &aad(&row.id, &row.owner.key(), column))
                })
                .transpose()
        };
        let sealed = SealedColumns {
            access_token: self.keyring.rewrap(
                &row.access_token,
                &aad(&row.id, &row.owner.key(), "access_token"),
            )?,
            refresh_token: rewrap(&row.refresh_token, "refresh_token")?,
            secret: rewrap(&row.secret, "secret")?,
            webhook_secret: rewrap(&row.webhook_secret, "webhook_secret")?,
            previous_webhook_secret: rewrap(
                &row.previous_webhook_secret,
                "previous_webhook_secret",
            )?,
        };
        Ok(credentials::replace_sealed(db, row, sealed, self.keyring.primary_kid()).await?)
    }
}
