//! Queries of `oauth_states`: pending authorization flows, consumed once.

use chrono::Utc;
use sea_orm::{sea_query::Query, ColumnTrait, ConnectionTrait, EntityTrait, Order, QueryFilter};

use super::entities::oauth_states::{self as states, Entity as States};

pub use states::Model as PendingFlow;

/// Stores a new pending flow.
pub async fn insert(db: &impl ConnectionTrait, row: PendingFlow) -> Result<(), sea_orm::DbErr> {
    let active: states::ActiveModel = row.into();
    States::insert(active).exec_without_returning(db).await?;
    Ok(())
}

/// Deletes all but the `keep` newest pending flows of `user_id`; returns how
/// many went.
pub async fn keep_newest(
    db: &impl ConnectionTrait,
    user_id: &str,
    keep: u64,
) -> Result<u64, sea_orm::DbErr> {
    let mut newest = Query::select();
    newest
        .column(states::Column::StateHash)
        .from(States)
        .and_where(states::Column::UserId.eq(user_id))
        .order_by(states::Column::CreatedAt, Order::Desc)
        .order_by(states::Column::StateHash, Order::Desc)
        .limit(keep);
    Ok(States::delete_many()
        .filter(states::Column::UserId.eq(user_id))
        .filter(states::Column::StateHash.not_in_subquery(newest))
        .exec(db)
        .await?
        .rows_affected)
}

/// Binds an unexpired flow to the browser whose cookie hashes to
/// `browser_hash`: the first browser to open the start page gets it, the same
/// browser may open it again, any other gets `None`. One statement, so two
/// browsers racing for one flow cannot both win.
pub async fn bind_browser(
    db: &impl ConnectionTrait,
    state_hash: &str,
    browser_hash: &str,
    now: chrono::DateTime<Utc>,
) -> Result<Option<PendingFlow>, sea_orm::DbErr> {
    use sea_orm::sea_query::{Condition, Expr};
    let mut rows = States::update_many()
        .col_expr(states::Column::BrowserHash, Expr::value(browser_hash))
        .filter(states::Column::StateHash.eq(state_hash))
        .filter(states::Column::ExpiresAt.gt(now))
        .filter(
            Condition::any()
                .add(states::Column::BrowserHash.is_null())
                .add(states::Column::BrowserHash.eq(browser_hash)),
        )
        .exec_with_returning(db)
        .await?;
    Ok(rows.pop())
}

/// The flow with this state hash, left in place.
pub async fn find(
    db: &impl ConnectionTrait,
    state_hash: &str,
) -> Result<Option<PendingFlow>, sea_orm::DbErr> {
    States::find_by_id(state_hash.to_owned()).one(db).await
}

/// Takes the flow with this state hash out of the table: of any number of
/// concurrent callers, exactly one gets it (one `DELETE ... RETURNING`).
pub async fn take(
    db: &impl ConnectionTrait,
    state_hash: &str,
) -> Result<Option<PendingFlow>, sea_orm::DbErr> {
    let mut rows = States::delete_many()
        .filter(states::Column::StateHash.eq(state_hash))
        .exec_with_returning(db)
        .await?;
    Ok(rows.pop())
}

/// Deletes flows that expired; returns how many.
pub async fn prune_expired(db: &impl ConnectionTrait) -> Result<u64, sea_orm::DbErr> {
    Ok(States::delete_many()
        .filter(states::Column::ExpiresAt.lt(Utc::now()))
        .exec(db)
        .await?
        .rows_affected)
}
