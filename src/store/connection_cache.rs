//! A read-through cache of connection summaries per owner, for the status
//! overview (polled by every open frontend).
//!
//! Only on PostgreSQL, where a trigger notifies `nextke_credentials` with the
//! owner of every changed row: each replica listens and drops that owner's
//! entry, so a change made by any replica (or by hand in SQL) is seen at
//! once. While the listener is not connected the cache is bypassed, and a
//! reconnect empties it, so a missed notification cannot leave stale data.
//! Entries also expire after [`TTL`] as a last safety net: the first reader
//! of an expired entry reads the owner again while the others keep the entry
//! it replaces, so an expiry is one query, not a query per caller in flight.
//!
//! Every write of `store::credentials` calls [`changed`] with the owner it
//! touches, before its transaction commits: each cache of the process drops
//! that owner and reads it from the database, without caching, until the
//! commit's notification arrives (or [`PENDING_MAX`] passes, for a write
//! rolled back). So a process reads its own writes at once, and no caller
//! has an invalidation to remember.

use std::{
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc, Mutex, Weak,
    },
    time::{Duration, Instant},
};

use dashmap::DashMap;
use sea_orm::{DatabaseConnection, DbErr};

use super::credentials::{self, ConnectionSummary};

/// The notification channel the migration's trigger uses.
pub const CHANNEL: &str = "nextke_credentials";
/// Longest time an entry is trusted.
pub const TTL: Duration = Duration::from_secs(30);
/// Entries kept before the cache starts over.
const MAX_ENTRIES: usize = 200_000;
/// Longest time an owner with a write in flight bypasses the cache, when no
/// notification comes (the write was rolled back, or the listener is slow).
pub const PENDING_MAX: Duration = Duration::from_secs(2);

/// The listening caches of this process.
static CACHES: Mutex<Vec<Weak<Inner>>> = Mutex::new(Vec::new());

/// Tells every cache of the process that `owner`'s connections are being
/// changed: called by each write of `store::credentials`.
pub(crate) fn changed(owner: &str) {
    let Ok(mut caches) = CACHES.lock() else {
        return;
    };
    caches.retain(|cache| match cache.upgrade() {
        Some(inner) => {
            inner.begin_write(owner);
            true
        }
        None => false,
    });
}

struct Entry {
    rows: Arc<Vec<ConnectionSummary>>,
    fetched: Instant,
}

#[derive(Default)]
struct Inner {
    entries: DashMap<String, Entry>,
    /// Bumped per owner on every change, so a read that raced a change is not cached.
    generations: DashMap<String, u64>,
    /// Bumped when everything is dropped.
    epoch: AtomicU64,
    /// True while the listener is connected.
    live: AtomicBool,
    /// Owners with a write in flight, since when.
    pending: DashMap<String, Instant>,
    /// Owners whose expired entry one reader is reading again.
    refreshing: DashMap<String, ()>,
}

impl Inner {
    fn stamp(&self, owner: &str) -> (u64, u64) {
        (
            self.epoch.load(Ordering::SeqCst),
            self.generations.get(owner).map(|g| *g).unwrap_or(0),
        )
    }

    fn invalidate(&self, owner: &str) {
        *self.generations.entry(owner.to_owned()).or_insert(0) += 1;
        self.entries.remove(owner);
    }

    /// A write of `owner` began: bypass its entry until it is notified.
    fn begin_write(&self, owner: &str) {
        if self.pending.len() >= MAX_ENTRIES {
            self.pending
                .retain(|_, since| since.elapsed() < PENDING_MAX);
        }
        self.pending.insert(owner.to_owned(), Instant::now());
        self.invalidate(owner);
    }

    /// A change of `owner` was committed (its notification arrived).
    fn committed(&self, owner: &str) {
        self.pending.remove(owner);
        self.invalidate(owner);
    }

    fn writing(&self, owner: &str) -> bool {
        self.pending
            .get(owner)
            .is_some_and(|since| since.elapsed() < PENDING_MAX)
    }

    fn clear(&self) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        self.entries.clear();
    }
}

/// The cache of one process; a disabled cache always reads the database.
#[derive(Clone, Default)]
pub struct ConnectionCache {
    inner: Option<Arc<Inner>>,
}

impl ConnectionCache {
    /// A cache that never caches (SQLite, or when turned off).
    pub fn disabled() -> Self {
        Self { inner: None }
    }

    /// A cache kept fresh by PostgreSQL notifications; starts the listener.
    pub fn listening(db: &DatabaseConnection) -> Self {
        let inner = Arc::new(Inner::default());
        let pool = db.get_postgres_connection_pool().clone();
        tokio::spawn(listen(pool, Arc::downgrade(&inner)));
        if let Ok(mut caches) = CACHES.lock() {
            caches.push(Arc::downgrade(&inner));
        }
        Self { inner: Some(inner) }
    }

    /// Summaries of the connections of `owners`, from the cache where it is
    /// live and fresh, else from the database.
    pub async fn summaries(
        &self,
        db: &DatabaseConnection,
        owners: &[credentials::Owner],
    ) -> Result<Vec<ConnectionSummary>, DbErr> {
        let Some(inner) = self
            .inner
            .as_ref()
            .filter(|i| i.live.load(Ordering::SeqCst))
        else {
            return credentials::summaries_of(db, owners).await;
        };
        let mut out = Vec::new();
        for owner in owners {
            let key = owner.key();
            let owner_key = key.as_str();
            if inner.writing(owner_key) {
                out.extend(credentials::summaries_of(db, std::slice::from_ref(owner)).await?);
                continue;
            }
            if let Some(entry) = inner.entries.get(owner_key) {
                // fresh, or expired while another reader reads it again
                if entry.fetched.elapsed() < TTL
                    || inner.refreshing.insert(key.clone(), ()).is_some()
                {
                    out.extend(entry.rows.iter().cloned());
                    continue;
                }
            }
            let stamp = inner.stamp(owner_key);
            let read = credentials::summaries_of(db, std::slice::from_ref(owner)).await;
            inner.refreshing.remove(owner_key);
            let rows = read?;
            if inner.live.load(Ordering::SeqCst)
                && inner.stamp(owner_key) == stamp
                && !inner.writing(owner_key)
            {
                if inner.entries.len() >= MAX_ENTRIES {
                    inner.clear();
                }
                inner.entries.insert(
                    key.clone(),
                    Entry {
                        rows: Arc::new(rows.clone()),
                        fetched: Instant::now(),
                    },
                );
            }
            out.extend(rows);
        }
        Ok(out)
    }
}

async fn listen(pool: sea_orm::sqlx::PgPool, cache: std::sync::Weak<Inner>) {
    use sea_orm::sqlx::postgres::PgListener;
    let mut backoff = Duration::from_millis(200);
    loop {
        let listener = async {
            let mut listener = PgListener::connect_with(&pool).await?;
            listener.listen(CHANNEL).await?;
            Ok::<_, sea_orm::sqlx::Error>(listener)
        }
        .await;
        let mut listener = match listener {
            Ok(listener) => listener,
            Err(err) => {
                tracing::warn!(error = %err, "credential listener cannot connect; cache bypassed");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(30));
                if cache.strong_count() == 0 {
                    return;
                }
                continue;
            }
        };
        backoff = Duration::from_millis(200);
        {
            let Some(inner) = cache.upgrade() else { return };
            inner.clear();
            inner.live.store(true, Ordering::SeqCst);
        }
        loop {
            let next = listener.try_recv().await;
            let Some(inner) = cache.upgrade() else { return };
            match next {
                Ok(Some(notification)) => inner.committed(notification.payload()),
                // the connection dropped: notifications may have been missed
                Ok(None) | Err(_) => {
                    inner.live.store(false, Ordering::SeqCst);
                    inner.clear();
                    tracing::warn!("credential listener lost its connection; cache bypassed");
                    break;
                }
            }
        }
    }
}
