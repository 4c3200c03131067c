//! Queries of `oauth_credentials`: every connection, whoever owns it, with its
//! sealed credentials (of any [`CredentialKind`]) and its health.
//!
//! Every write here tells the process's connection caches which owner
//! changed ([`connection_cache::changed`]), so no caller can forget to.
//!
//! [`connection_cache::changed`]: super::connection_cache::changed

use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::LockType, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    QueryFilter, QuerySelect,
};

use super::{
    connection_cache::changed,
    entities::oauth_credentials::{self as creds, Entity as Creds},
};

pub use creds::{CredentialKind, Model as Credential};

use crate::vocab::{ConnectionState, Provider};

const CONNECTED: ConnectionState = ConnectionState::Connected;

/// Runs an update of rows matching `filter`, tells the caches whose rows
/// changed, and answers how many did.
async fn update_where(
    db: &impl ConnectionTrait,
    active: creds::ActiveModel,
    filter: Condition,
) -> Result<usize, sea_orm::DbErr> {
    let rows = Creds::update_many()
        .set(active)
        .filter(filter)
        .exec_with_returning(db)
        .await?;
    for row in &rows {
        changed(&row.owner.key());
    }
    Ok(rows.len())
}

fn by_id(id: &str) -> Condition {
    Condition::all().add(creds::Column::Id.eq(id))
}

pub use super::owner::Owner;

/// The owner of a user's connection.
pub fn user_owner(user_id: &str) -> Owner {
    Owner::User(user_id.to_owned())
}

/// The owner of an organization's connection.
pub fn org_owner(org_id: &str) -> Owner {
    Owner::Organization(org_id.to_owned())
}

/// One connection by id.
pub async fn find(
    db: &impl ConnectionTrait,
    id: &str,
) -> Result<Option<Credential>, sea_orm::DbErr> {
    Creds::find_by_id(id.to_owned()).one(db).await
}

/// One connection by id, row-locked until the transaction ends (PostgreSQL;
/// SQLite transactions already serialize writers).
pub async fn find_for_update(
    db: &impl ConnectionTrait,
    id: &str,
) -> Result<Option<Credential>, sea_orm::DbErr> {
    let mut query = Creds::find_by_id(id.to_owned());
    if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        query = query.lock(LockType::Update);
    }
    query.one(db).await
}

/// The connection of an owner with a provider.
pub async fn find_by_owner(
    db: &impl ConnectionTrait,
    provider: Provider,
    owner: &Owner,
) -> Result<Option<Credential>, sea_orm::DbErr> {
    Creds::find()
        .filter(creds::Column::Provider.eq(provider))
        .filter(creds::Column::Owner.eq(owner.clone()))
        .one(db)
        .await
}

/// Takes the write lock of an owner's connection with a provider for the
/// transaction, before reading it to change it: a write that changes nothing
/// (the row lock on PostgreSQL when the row exists; the database's write lock
/// on SQLite, which otherwise fails a read transaction that starts to write
/// while another writes with "database is locked").
pub async fn lock_owner(
    db: &impl ConnectionTrait,
    provider: Provider,
    owner: &Owner,
) -> Result<(), sea_orm::DbErr> {
    use sea_orm::sea_query::Expr;
    Creds::update_many()
        .col_expr(
            creds::Column::UpdatedAt,
            Expr::col(creds::Column::UpdatedAt).into(),
        )
        .filter(creds::Column::Provider.eq(provider))
        .filter(creds::Column::Owner.eq(owner.clone()))
        .exec(db)
        .await?;
    Ok(())
}

/// Inserts a new connection row.
pub async fn insert(db: &impl ConnectionTrait, row: Credential) -> Result<(), sea_orm::DbErr> {
    changed(&row.owner.key());
    let active: creds::ActiveModel = row.into();
    Creds::insert(active).exec_without_returning(db).await?;
    Ok(())
}

/// New sealed tokens for a connection.
pub struct TokenUpdate {
    pub access_token: Vec<u8>,
    /// `None` keeps the stored refresh token.
    pub refresh_token: Option<Vec<u8>>,
    pub token_expires_at: Option<DateTime<Utc>>,
    pub refresh_token_expires_at: Option<DateTime<Utc>>,
    pub scopes: Option<String>,
    pub key_id: String,
}

/// Stores new tokens if the row is still at `expected_version`; returns whether it was.
pub async fn update_tokens(
    db: &impl ConnectionTrait,
    id: &str,
    expected_version: i32,
    update: TokenUpdate,
) -> Result<bool, sea_orm::DbErr> {
    let now = Utc::now();
    let mut active = creds::ActiveModel {
        access_token: Set(update.access_token),
        token_expires_at: Set(update.token_expires_at),
        key_id: Set(update.key_id),
        token_version: Set(expected_version + 1),
        state: Set(CONNECTED),
        last_success_at: Set(Some(now)),
        last_error: Set(None),
        expiry_warned_at: Set(None),
        updated_at: Set(now),
        ..Default::default()
    };
    if let Some(refresh) = update.refresh_token {
        active.refresh_token = Set(Some(refresh));
        active.refresh_token_expires_at = Set(update.refresh_token_expires_at);
    }
    if let Some(scopes) = update.scopes {
        active.scopes = Set(scopes);
    }
    let filter = by_id(id).add(creds::Column::TokenVersion.eq(expected_version));
    Ok(update_where(db, active, filter).await? == 1)
}

/// Records a connection's health after a call.
pub async fn set_state(
    db: &impl ConnectionTrait,
    id: &str,
    state: ConnectionState,
    error: Option<&str>,
) -> Result<(), sea_orm::DbErr> {
    let now = Utc::now();
    let mut active = creds::ActiveModel {
        state: Set(state),
        updated_at: Set(now),
        ..Default::default()
    };
    match error {
        Some(message) => {
            active.last_error = Set(Some(message.to_owned()));
            active.last_error_at = Set(Some(now));
        }
        None => active.last_success_at = Set(Some(now)),
    }
    update_where(db, active, by_id(id)).await?;
    Ok(())
}

/// Deletes a connection and its credentials.
pub async fn delete(db: &impl ConnectionTrait, id: &str) -> Result<bool, sea_orm::DbErr> {
    let Some(row) = find(db, id).await? else {
        return Ok(false);
    };
    changed(&row.owner.key());
    Ok(Creds::delete_by_id(id.to_owned())
        .exec(db)
        .await?
        .rows_affected
        == 1)
}

/// Rows whose tokens are sealed with another key than `primary_kid`, a batch at a time.
pub async fn sealed_with_other_key(
    db: &impl ConnectionTrait,
    primary_kid: &str,
    limit: u64,
) -> Result<Vec<Credential>, sea_orm::DbErr> {
    Creds::find()
        .filter(creds::Column::KeyId.ne(primary_kid))
        .limit(limit)
        .all(db)
        .await
}

/// Every sealed column of a row, sealed anew.
pub struct SealedColumns {
    pub access_token: Vec<u8>,
    pub refresh_token: Option<Vec<u8>>,
    pub secret: Option<Vec<u8>>,
    pub webhook_secret: Option<Vec<u8>>,
    pub previous_webhook_secret: Option<Vec<u8>>,
}

/// Replaces every sealed column of a row in place (rewrap), version-checked.
pub async fn replace_sealed(
    db: &impl ConnectionTrait,
    row: &Credential,
    sealed: SealedColumns,
    key_id: &str,
) -> Result<bool, sea_orm::DbErr> {
    let active = creds::ActiveModel {
        access_token: Set(sealed.access_token),
        refresh_token: Set(sealed.refresh_token),
        secret: Set(sealed.secret),
        webhook_secret: Set(sealed.webhook_secret),
        previous_webhook_secret: Set(sealed.previous_webhook_secret),
        key_id: Set(key_id.to_owned()),
        ..Default::default()
    };
    let filter = by_id(&row.id).add(creds::Column::TokenVersion.eq(row.token_version));
    Ok(update_where(db, active, filter).await? == 1)
}

/// New webhook signing secrets of a row (sealed); the previous one is
/// accepted until `previous_until`. Bumps the version, so a rewrap that read
/// the row before cannot put the old ones back.
pub async fn replace_webhook_secrets(
    db: &impl ConnectionTrait,
    row: &Credential,
    current: Vec<u8>,
    previous: Option<Vec<u8>>,
    previous_until: Option<DateTime<Utc>>,
    key_id: &str,
) -> Result<bool, sea_orm::DbErr> {
    if row.key_id != key_id {
        // every column of a row is sealed with one key: rewrap first
        return Ok(false);
    }
    let active = creds::ActiveModel {
        webhook_secret: Set(Some(current)),
        previous_webhook_secret: Set(previous),
        previous_webhook_secret_until: Set(previous_until),
        token_version: Set(row.token_version + 1),
        updated_at: Set(Utc::now()),
        ..Default::default()
    };
    let filter = by_id(&row.id).add(creds::Column::TokenVersion.eq(row.token_version));
    Ok(update_where(db, active, filter).await? == 1)
}

/// Forgets a connection's refresh token (a reconnect that issued none).
pub async fn clear_refresh_token(
    db: &impl ConnectionTrait,
    id: &str,
) -> Result<(), sea_orm::DbErr> {
    let active = creds::ActiveModel {
        refresh_token: Set(None),
        refresh_token_expires_at: Set(None),
        ..Default::default()
    };
    update_where(db, active, by_id(id)).await?;
    Ok(())
}

/// Records the provider's id of the connected account.
pub async fn set_account(
    db: &impl ConnectionTrait,
    id: &str,
    account_id: Option<&str>,
) -> Result<(), sea_orm::DbErr> {
    let active = creds::ActiveModel {
        account_id: Set(account_id.map(str::to_owned)),
        ..Default::default()
    };
    update_where(db, active, by_id(id)).await?;
    Ok(())
}

/// Connected rows whose access token expires before `before` and that can
/// be renewed without their owner: a refresh token, or a client-credentials
/// client that asks for a new token.
pub async fn expiring_refreshable(
    db: &impl ConnectionTrait,
    before: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<Credential>, sea_orm::DbErr> {
    Creds::find()
        .filter(creds::Column::State.eq(CONNECTED))
        .filter(
            Condition::any()
                .add(creds::Column::RefreshToken.is_not_null())
                .add(creds::Column::CredentialKind.eq(CredentialKind::OAuthClientCredentials)),
        )
        .filter(creds::Column::TokenExpiresAt.lt(before))
        .limit(limit)
        .all(db)
        .await
}

/// What the status overview shows of a connection: no sealed tokens.
#[derive(Clone, Debug, sea_orm::FromQueryResult)]
pub struct ConnectionSummary {
    pub id: String,
    pub provider: Provider,
    pub owner: Owner,
    pub organization_id: Option<String>,
    pub credential_kind: CredentialKind,
    pub state: ConnectionState,
    pub token_expires_at: Option<DateTime<Utc>>,
    pub has_refresh_token: bool,
    pub last_success_at: Option<DateTime<Utc>>,
    pub last_error_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub connected_at: DateTime<Utc>,
}

/// Summaries of every connection of the given owners.
pub async fn summaries_of(
    db: &impl ConnectionTrait,
    owners: &[Owner],
) -> Result<Vec<ConnectionSummary>, sea_orm::DbErr> {
    use sea_orm::sea_query::Expr;
    Creds::find()
        .select_only()
        .columns([
            creds::Column::Id,
            creds::Column::Provider,
            creds::Column::Owner,
            creds::Column::OrganizationId,
            creds::Column::CredentialKind,
            creds::Column::State,
            creds::Column::TokenExpiresAt,
            creds::Column::LastSuccessAt,
            creds::Column::LastErrorAt,
            creds::Column::LastError,
            creds::Column::ConnectedAt,
        ])
        .column_as(
            Expr::col(creds::Column::RefreshToken).is_not_null(),
            "has_refresh_token",
        )
        .filter(creds::Column::Owner.is_in(owners.iter().cloned()))
        .into_model::<ConnectionSummary>()
        .all(db)
        .await
}

/// Connected OAuth user connections without a refresh token whose access
/// token expires before `before` and whose owner was not warned yet.
pub async fn expiring_unwarned(
    db: &impl ConnectionTrait,
    before: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<Credential>, sea_orm::DbErr> {
    Creds::find()
        .filter(creds::Column::CredentialKind.eq(CredentialKind::OAuthUserToken))
        .filter(creds::Column::State.eq(CONNECTED))
        .filter(creds::Column::RefreshToken.is_null())
        .filter(creds::Column::TokenExpiresAt.lt(before))
        .filter(creds::Column::ExpiryWarnedAt.is_null())
        .limit(limit)
        .all(db)
        .await
}

/// Marks the owner of a connection as warned of its expiry; answers whether
/// this call did (a concurrent sweep may have).
pub async fn mark_expiry_warned(
    db: &impl ConnectionTrait,
    id: &str,
    at: DateTime<Utc>,
) -> Result<bool, sea_orm::DbErr> {
    let active = creds::ActiveModel {
        expiry_warned_at: Set(Some(at)),
        ..Default::default()
    };
    let filter = by_id(id).add(creds::Column::ExpiryWarnedAt.is_null());
    Ok(update_where(db, active, filter).await? == 1)
}
