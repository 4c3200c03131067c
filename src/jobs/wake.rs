//! Waking a pool when work becomes due, instead of at its next poll.
//!
//! On PostgreSQL [`CHANNEL`] carries `"<kind> <epoch ms>"`, the earliest
//! `run_at` of jobs of a kind that became pending: an enqueue notifies in a
//! statement of its own after its insert (`store::jobs::notify_pending`), and
//! a statement trigger on `jobs` notifies for the rows an update leaves
//! pending (a retry, a release, a reaped lease; see the migrations). The pool's
//! listener keeps, per kind, the earliest due time it has heard of and wakes
//! that kind's claim loop; the loop sleeps only until that time or its poll
//! interval, whichever comes first. While the listener is down the loops
//! simply poll, and a reconnect wakes every loop once, since notifications
//! may have been missed. SQLite has no listener and polls.

use std::{
    collections::{BTreeSet, HashMap},
    sync::{Arc, Weak},
    time::Duration,
};

use chrono::Utc;
use parking_lot::Mutex;
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection};
use tokio::sync::Notify;

/// The notification channel of the jobs trigger.
pub const CHANNEL: &str = crate::store::jobs::NOTIFY_CHANNEL;

/// Due times one loop remembers at most; later ones are found by polling.
const MAX_REMEMBERED: usize = 256;

/// What one kind's claim loop waits on.
#[derive(Debug, Default)]
pub struct KindWake {
    notify: Notify,
    /// Due times heard of and not yet claimed, in epoch milliseconds.
    due: Mutex<BTreeSet<i64>>,
}

impl KindWake {
    /// Work of this kind is due at `due_ms`: wake the loop, which claims at
    /// once if it is due and otherwise sleeps until then.
    pub fn heard(&self, due_ms: i64) {
        {
            let mut due = self.due.lock();
            due.insert(due_ms);
            if due.len() > MAX_REMEMBERED {
                due.pop_last();
            }
        }
        self.notify.notify_one();
    }

    /// The loop is about to claim, which takes every job due within `lead`
    /// of now: forget those times, keep the later ones.
    pub fn claiming(&self, lead: chrono::Duration) {
        let by = (Utc::now() + lead).timestamp_millis();
        let mut due = self.due.lock();
        *due = due.split_off(&by.saturating_add(1));
    }

    /// How long the loop may sleep: until `lead` before the earliest due
    /// time heard of, at most `poll`.
    pub fn sleep_for(&self, poll: Duration, lead: chrono::Duration) -> Duration {
        let Some(at) = self.due.lock().first().copied() else {
            return poll;
        };
        let wait = at
            .saturating_sub(lead.num_milliseconds())
            .saturating_sub(Utc::now().timestamp_millis())
            .max(0);
        poll.min(Duration::from_millis(u64::try_from(wait).unwrap_or(0)))
    }

    /// Completes when woken.
    pub async fn woken(&self) {
        self.notify.notified().await;
    }
}

/// The wake-ups of every kind of one pool.
pub type Wakes = Arc<HashMap<String, Arc<KindWake>>>;

/// Starts the listener of a pool on PostgreSQL; on other databases nothing
/// listens and the loops poll. The listener stops when `wakes` is dropped.
pub fn listen(db: &DatabaseConnection, wakes: &Wakes) {
    if db.get_database_backend() != DatabaseBackend::Postgres {
        return;
    }
    let pool = db.get_postgres_connection_pool().clone();
    tokio::spawn(run(pool, Arc::downgrade(wakes)));
}

/// Parses `"<kind> <epoch ms>"`.
fn parse(payload: &str) -> Option<(&str, i64)> {
    let (kind, due) = payload.rsplit_once(' ')?;
    Some((kind, due.parse().ok()?))
}

async fn run(pool: sea_orm::sqlx::PgPool, wakes: Weak<HashMap<String, Arc<KindWake>>>) {
    use sea_orm::sqlx::postgres::PgListener;
    let mut backoff = Duration::from_millis(200);
    loop {
        let connected = async {
            let mut listener = PgListener::connect_with(&pool).await?;
            listener.listen(CHANNEL).await?;
            Ok::<_, sea_orm::sqlx::Error>(listener)
        }
        .await;
        let mut listener = match connected {
            Ok(listener) => listener,
            Err(err) => {
                tracing::warn!(error = %err, "job listener cannot connect; pools poll");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(30));
                if wakes.strong_count() == 0 {
                    return;
                }
                continue;
            }
        };
        backoff = Duration::from_millis(200);
        {
            // what was enqueued while nobody listened is found by one claim
            let Some(wakes) = wakes.upgrade() else { return };
            let now = Utc::now().timestamp_millis();
            wakes.values().for_each(|w| w.heard(now));
        }
        loop {
            // wake up now and then to notice that the pool is gone
            let next = tokio::time::timeout(Duration::from_secs(5), listener.try_recv()).await;
            let Some(wakes) = wakes.upgrade() else { return };
            match next {
                Err(_elapsed) => continue,
                Ok(Ok(Some(notification))) => {
                    if let Some((kind, due)) = parse(notification.payload()) {
                        if let Some(wake) = wakes.get(kind) {
                            wake.heard(due);
                        }
                    }
                }
                Ok(Ok(None)) | Ok(Err(_)) => {
                    tracing::warn!("job listener lost its connection; pools poll");
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_kind_and_due_time() {
        assert_eq!(
            parse("linkedin.sync 1700000000000"),
            Some(("linkedin.sync", 1_700_000_000_000))
        );
        assert_eq!(parse("a b 5"), Some(("a b", 5)));
        assert_eq!(parse("nothing"), None);
        assert_eq!(parse("kind soon"), None);
    }

    #[test]
    fn sleeps_until_the_earliest_due_time_at_most_the_poll() {
        let wake = KindWake::default();
        let poll = Duration::from_millis(500);
        assert_eq!(wake.sleep_for(poll, chrono::Duration::zero()), poll);
        wake.heard(Utc::now().timestamp_millis() + 100);
        let wait = wake.sleep_for(poll, chrono::Duration::zero());
        assert!(
            wait <= Duration::from_millis(100) && wait >= Duration::from_millis(50),
            "{wait:?}"
        );
        wake.heard(Utc::now().timestamp_millis() - 10);
        assert_eq!(
            wake.sleep_for(poll, chrono::Duration::zero()),
            Duration::ZERO
        );
        // the claim takes what is due; the later time is still remembered
        wake.claiming(chrono::Duration::zero());
        let wait = wake.sleep_for(poll, chrono::Duration::zero());
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_millis(100),
            "{wait:?}"
        );
        wake.heard(Utc::now().timestamp_millis() + 10_000);
        assert!(wake.sleep_for(poll, chrono::Duration::zero()) <= Duration::from_millis(100));
    }
}
