//! Queries of `oauth_credentials`: connections and their sealed tokens.

use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::LockType, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QuerySelect,
};

use super::entities::oauth_credentials::{self as creds, Entity as Creds};

pub use creds::Model as Credential;

/// The owner key of a user's connection.
pub fn user_owner(user_id: &str) -> String {
    format!("user:{user_id}")
}

/// The owner key of an organization's connection.
pub fn org_owner(org_id: &str) -> String {
    format!("org:{org_id}")
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
    provider: &str,
    owner: &str,
) -> Result<Option<Credential>, sea_orm::DbErr> {
    Creds::find()
        .filter(creds::Column::Provider.eq(provider))
        .filter(creds::Column::Owner.eq(owner))
        .one(db)
        .await
}

/// Inserts a new connection row.
pub async fn insert(db: &impl ConnectionTrait, row: Credential) -> Result<(), sea_orm::DbErr> {
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
        state: Set(crate::domain::types::ConnectionState::Connected
            .as_str()
            .to_owned()),
        last_success_at: Set(Some(now)),
        last_error: Set(None),
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
    let result = Creds::update_many()
        .set(active)
        .filter(creds::Column::Id.eq(id))
        .filter(creds::Column::TokenVersion.eq(expected_version))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Records a connection's health after a call.
pub async fn set_state(
    db: &impl ConnectionTrait,
    id: &str,
    state: &str,
    error: Option<&str>,
) -> Result<(), sea_orm::DbErr> {
    let now = Utc::now();
    let mut active = creds::ActiveModel {
        state: Set(state.to_owned()),
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
    Creds::update_many()
        .set(active)
        .filter(creds::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Deletes a connection and its tokens.
pub async fn delete(db: &impl ConnectionTrait, id: &str) -> Result<bool, sea_orm::DbErr> {
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

/// Replaces the sealed tokens of a row in place (rewrap), version-checked.
pub async fn replace_sealed(
    db: &impl ConnectionTrait,
    row: &Credential,
    access_token: Vec<u8>,
    refresh_token: Option<Vec<u8>>,
    key_id: &str,
) -> Result<bool, sea_orm::DbErr> {
    let active = creds::ActiveModel {
        access_token: Set(access_token),
        refresh_token: Set(refresh_token),
        key_id: Set(key_id.to_owned()),
        ..Default::default()
    };
    let result = Creds::update_many()
        .set(active)
        .filter(creds::Column::Id.eq(row.id.clone()))
        .filter(creds::Column::TokenVersion.eq(row.token_version))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
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
    Creds::update_many()
        .set(active)
        .filter(creds::Column::Id.eq(id))
        .exec(db)
        .await?;
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
    Creds::update_many()
        .set(active)
        .filter(creds::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Connected rows with a refresh token whose access token expires before `before`.
pub async fn expiring_refreshable(
    db: &impl ConnectionTrait,
    before: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<Credential>, sea_orm::DbErr> {
    Creds::find()
        .filter(creds::Column::State.eq(crate::domain::types::ConnectionState::Connected.as_str()))
        .filter(creds::Column::RefreshToken.is_not_null())
        .filter(creds::Column::TokenExpiresAt.lt(before))
        .limit(limit)
        .all(db)
        .await
}

/// What the status overview shows of a connection: no sealed tokens.
#[derive(Clone, Debug, sea_orm::FromQueryResult)]
pub struct ConnectionSummary {
    pub id: String,
    pub provider: String,
    pub owner: String,
    pub organization_id: Option<String>,
    pub state: String,
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
    owners: &[String],
) -> Result<Vec<ConnectionSummary>, sea_orm::DbErr> {
    use sea_orm::sea_query::Expr;
    Creds::find()
        .select_only()
        .columns([
            creds::Column::Id,
            creds::Column::Provider,
            creds::Column::Owner,
            creds::Column::OrganizationId,
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

/// Connected rows of `provider` without a refresh token whose access token
/// expires before `before`.
pub async fn expiring_unrefreshable(
    db: &impl ConnectionTrait,
    provider: &str,
    before: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<Credential>, sea_orm::DbErr> {
    Creds::find()
        .filter(creds::Column::Provider.eq(provider))
        .filter(creds::Column::State.eq(crate::domain::types::ConnectionState::Connected.as_str()))
        .filter(creds::Column::RefreshToken.is_null())
        .filter(creds::Column::TokenExpiresAt.lt(before))
        .limit(limit)
        .all(db)
        .await
}
