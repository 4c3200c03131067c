//! In-app notifications: created once per key, listed, marked read, and
//! streamed to watchers as they arrive.
//!
//! A watcher is woken at once by a notification created in this process (the
//! [`NotificationHub`]), and otherwise reads the table again every
//! `poll` interval, so a notification written by another replica reaches it
//! too, a little later. Streams are capped per user and in total, and end
//! after a maximum lifetime; a client resumes from the last id it saw.

use std::{
    collections::HashMap,
    hash::{Hash, Hasher},
    sync::Arc,
    time::Duration,
};

use chrono::Utc;
use futures::Stream;
use parking_lot::Mutex;
use sea_orm::ConnectionTrait;
use tokio::sync::broadcast;

use crate::{
    auth::Identity,
    context::AppContext,
    domain::page_token,
    error::{AppError, Result},
    store::notifications::{self as store, NewNotification, NotificationRow},
};

pub use crate::store::notifications::NotificationRow as Notification;

/// Most ids one `MarkNotificationsRead` may name.
pub const MARK_MAX: usize = 500;
/// Rows a watcher reads per round.
const WATCH_BATCH: u64 = 100;

/// Limits of the notification streams.
#[derive(Clone, Copy, Debug)]
pub struct WatchLimits {
    /// Open streams per user.
    pub per_user: usize,
    /// Open streams in this process.
    pub total: usize,
    /// A stream ends after this long (the client reconnects and resumes).
    pub lifetime: Duration,
    /// How often a watcher reads the table without being woken.
    pub poll: Duration,
}

/// Wakes this process's watchers of a user when a notification is created.
pub struct NotificationHub {
    wake: broadcast::Sender<u64>,
    open: Mutex<HashMap<String, usize>>,
    limits: WatchLimits,
}

impl NotificationHub {
    /// A hub with these stream limits.
    pub fn new(limits: WatchLimits) -> Self {
        let (wake, _) = broadcast::channel(1024);
        Self {
            wake,
            open: Mutex::new(HashMap::new()),
            limits,
        }
    }

    /// Wakes the user's watchers (after the notification's commit).
    pub fn ping(&self, user_id: &str) {
        let _ = self.wake.send(user_hash(user_id));
    }

    fn admit(self: &Arc<Self>, user_id: &str) -> Result<StreamSlot> {
        let mut open = self.open.lock();
        let total: usize = open.values().sum();
        let mine = open.get(user_id).copied().unwrap_or(0);
        if mine >= self.limits.per_user || total >= self.limits.total {
            return Err(AppError::ResourceExhausted {
                message: "too many open notification streams".to_owned(),
                retry_after: Some(Duration::from_secs(5)),
            });
        }
        *open.entry(user_id.to_owned()).or_default() += 1;
        Ok(StreamSlot {
            hub: self.clone(),
            user_id: user_id.to_owned(),
        })
    }

    /// Streams open now.
    pub fn open_streams(&self) -> usize {
        self.open.lock().values().sum()
    }
}

/// One open stream, given back when dropped.
struct StreamSlot {
    hub: Arc<NotificationHub>,
    user_id: String,
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self.hub.open.lock();
        if let Some(count) = open.get_mut(&self.user_id) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.user_id);
            }
        }
    }
}

fn user_hash(user_id: &str) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    user_id.hash(&mut hasher);
    hasher.finish()
}

/// Creates a notification on `db` (which may be the caller's transaction;
/// ping the hub after it commits). With a key already used, nothing is created.
pub async fn create(
    db: &impl ConnectionTrait,
    notice: NewNotification,
) -> Result<(NotificationRow, bool)> {
    Ok(store::create(db, notice).await?)
}

/// Creates a notification and wakes the user's watchers.
pub async fn notify(ctx: &AppContext, notice: NewNotification) -> Result<(NotificationRow, bool)> {
    let user_id = notice.user_id.clone();
    let created = create(&ctx.db, notice).await?;
    if created.1 {
        ctx.notifications.ping(&user_id);
    }
    Ok(created)
}

/// Creates notifications together, each with its dedup key, and wakes
/// their users' streams; answers the notification of every key.
pub async fn notify_many(
    ctx: &AppContext,
    notices: Vec<NewNotification>,
) -> Result<Vec<NotificationRow>> {
    let rows = store::create_many(&ctx.db, notices).await?;
    let mut users: Vec<&str> = rows.iter().map(|r| r.user_id.as_str()).collect();
    users.sort_unstable();
    users.dedup();
    for user in users {
        ctx.notifications.ping(user);
    }
    Ok(rows)
}

/// One page of the caller's notifications.
#[derive(Clone, Debug)]
pub struct NotificationPage {
    pub notifications: Vec<NotificationRow>,
    pub next_page_token: Option<String>,
    pub unread_count: u64,
}

const PAGE_PREFIX: &str = "n1";

/// The caller's notifications, newest first.
pub async fn list(
    ctx: &AppContext,
    caller: &Identity,
    unread_only: bool,
    page_size: u32,
    page_token: &str,
) -> Result<NotificationPage> {
    let page_size = crate::domain::page_token::page_size(page_size)?;
    let before = if page_token.is_empty() {
        None
    } else {
        Some(page_token::decode(
            PAGE_PREFIX,
            page_token,
            |k| k.parse::<i64>().ok().filter(|id| *id > 0),
            i64::to_string,
        )?)
    };
    let mut rows = store::list(
        &ctx.db,
        &caller.user_id,
        unread_only,
        before,
        u64::from(page_size) + 1,
    )
    .await?;
    let next_page_token = if rows.len() > page_size as usize {
        rows.truncate(page_size as usize);
        rows.last()
            .map(|r| page_token::encode(PAGE_PREFIX, &r.id.to_string()))
    } else {
        None
    };
    let unread_count = store::unread_count(&ctx.db, &caller.user_id).await?;
    Ok(NotificationPage {
        notifications: rows,
        next_page_token,
        unread_count,
    })
}

/// Marks the caller's notifications `ids` read, or all of them; returns how
/// many were unread. Ids of other users' notifications change nothing.
pub async fn mark_read(ctx: &AppContext, caller: &Identity, ids: &[i64], all: bool) -> Result<u64> {
    if all && !ids.is_empty() {
        return Err(AppError::invalid("ids", "must be empty when all is set"));
    }
    if !all && ids.is_empty() {
        return Err(AppError::invalid("ids", "name at least one, or set all"));
    }
    if ids.len() > MARK_MAX {
        return Err(AppError::invalid(
            "ids",
            format!("at most {MARK_MAX} at once"),
        ));
    }
    if ids.iter().any(|id| *id <= 0) {
        return Err(AppError::invalid("ids", "must be positive"));
    }
    let ids = (!all).then_some(ids);
    Ok(store::mark_read(&ctx.db, &caller.user_id, ids, Utc::now()).await?)
}

/// The caller's new notifications as they arrive, starting after `after_id`
/// (0: after the newest one now). Ends after the stream lifetime.
pub async fn watch(
    ctx: Arc<AppContext>,
    caller: &Identity,
    after_id: i64,
) -> Result<impl Stream<Item = Result<NotificationRow>> + Send + 'static> {
    if after_id < 0 {
        return Err(AppError::invalid("after_id", "must not be negative"));
    }
    let slot = ctx.notifications.admit(&caller.user_id)?;
    let user_id = caller.user_id.clone();
    let start = if after_id == 0 {
        store::newest_id(&ctx.db, &user_id).await?
    } else {
        after_id
    };
    let limits = ctx.notifications.limits;
    let mut wake = ctx.notifications.wake.subscribe();
    let me = user_hash(&user_id);
    let deadline = tokio::time::Instant::now() + limits.lifetime;
    Ok(async_stream::try_stream! {
        let _slot = slot;
        let mut last = start;
        loop {
            let rows = store::after(&ctx.db, &user_id, last, WATCH_BATCH).await?;
            let full = rows.len() as u64 == WATCH_BATCH;
            for row in rows {
                last = row.id;
                yield row;
            }
            if full {
                continue;
            }
            // wait for a ping of this user, the poll interval, or the end
            let poll = tokio::time::sleep(limits.poll);
            tokio::pin!(poll);
            loop {
                tokio::select! {
                    () = tokio::time::sleep_until(deadline) => return,
                    () = &mut poll => break,
                    woken = wake.recv() => match woken {
                        Ok(hash) if hash == me => break,
                        Ok(_) => continue,
                        Err(broadcast::error::RecvError::Lagged(_)) => break,
                        Err(broadcast::error::RecvError::Closed) => return,
                    },
                }
            }
        }
    })
}
