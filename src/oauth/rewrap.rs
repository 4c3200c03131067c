//! Moving sealed tokens to the primary key after a key rotation.

use super::{tokens::aad, OAuthCore, OAuthError};
use crate::store::credentials;

/// Rows re-sealed per query.
const BATCH: u64 = 200;

impl OAuthCore {
    /// Re-seals every connection's tokens still sealed with an older key with
    /// the primary key; returns how many rows moved. Rows changed concurrently
    /// (a refresh seals with the primary key anyway) are skipped.
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
                let access = self
                    .keyring
                    .rewrap(&row.access_token, &aad(&row.id, &row.owner, "access_token"))?;
                let refresh = row
                    .refresh_token
                    .as_ref()
                    .map(|sealed| {
                        self.keyring
                            .rewrap(sealed, &aad(&row.id, &row.owner, "refresh_token"))
                    })
                    .transpose()?;
                if credentials::replace_sealed(&self.db, row, access, refresh, &primary).await? {
                    moved += 1;
                    progressed = true;
                }
            }
            if !progressed {
                return Ok(moved);
            }
        }
    }
}
