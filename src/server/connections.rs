//! The table of open client connections: how busy each is, since when each
//! is idle, and which to close to make room for a new one.

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicU64, AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use parking_lot::Mutex;
use tokio::sync::Notify;

/// One open connection as the accept loop and its own task see it.
#[derive(Debug)]
pub struct Connection {
    id: u64,
    epoch: Instant,
    /// Requests in flight, counting a response body still streaming.
    active: AtomicUsize,
    /// Milliseconds after `epoch` when `active` last fell to zero (or the
    /// connection was accepted).
    idle_since_ms: AtomicU64,
    /// Woken when the accept loop wants this connection closed.
    close: Notify,
}

impl Connection {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Whether a request is in flight or a response is streaming.
    pub fn is_busy(&self) -> bool {
        self.active.load(Ordering::Acquire) > 0
    }

    /// How long it has had no request in flight (zero while busy).
    pub fn idle_for(&self) -> Duration {
        if self.is_busy() {
            return Duration::ZERO;
        }
        let since = self.idle_since_ms.load(Ordering::Acquire);
        Duration::from_millis(self.now_ms().saturating_sub(since))
    }

    /// Completes when the accept loop asks this connection to close.
    pub async fn close_requested(&self) {
        self.close.notified().await;
    }

    /// Marks one request in flight until the guard is dropped.
    pub fn busy(self: &Arc<Self>) -> Busy {
        self.active.fetch_add(1, Ordering::AcqRel);
        Busy(self.clone())
    }
}

/// A request in flight on a connection: held by the response body until the
/// body is done, so a long server stream keeps its connection busy.
#[derive(Debug)]
pub struct Busy(Arc<Connection>);

impl Drop for Busy {
    fn drop(&mut self) {
        let conn = &self.0;
        // record the time first, so a reader that sees zero active sees it
        conn.idle_since_ms.store(conn.now_ms(), Ordering::Release);
        conn.active.fetch_sub(1, Ordering::AcqRel);
    }
}

/// What the accept loop may do with a new connection.
#[derive(Debug)]
pub enum Admission {
    /// Serve it: there was room, or an idle connection was closed to make room.
    Admitted(Arc<Connection>),
    /// Every open connection is busy: close the new one.
    Refused,
}

/// Every open connection, up to a cap.
#[derive(Debug)]
pub struct Connections {
    cap: usize,
    epoch: Instant,
    next_id: AtomicU64,
    open: Mutex<HashMap<u64, Arc<Connection>>>,
}

impl Connections {
    /// An empty table holding at most `cap` connections.
    pub fn new(cap: usize) -> Arc<Self> {
        Arc::new(Self {
            cap: cap.max(1),
            epoch: Instant::now(),
            next_id: AtomicU64::new(1),
            open: Mutex::new(HashMap::new()),
        })
    }

    /// How many connections are open.
    pub fn len(&self) -> usize {
        self.open.lock().len()
    }

    /// Whether none is open.
    pub fn is_empty(&self) -> bool {
        self.open.lock().is_empty()
    }

    /// Admits a new connection; at the cap, the connection idle longest is
    /// asked to close to make room (`evicted` tells whether that happened).
    pub fn admit(&self) -> (Admission, bool) {
        let mut open = self.open.lock();
        let mut evicted = false;
        if open.len() >= self.cap {
            match Self::idlest(&open) {
                Some(id) => {
                    if let Some(victim) = open.remove(&id) {
                        victim.close.notify_one();
                    }
                    evicted = true;
                }
                None => return (Admission::Refused, false),
            }
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let conn = Arc::new(Connection {
            id,
            epoch: self.epoch,
            active: AtomicUsize::new(0),
            idle_since_ms: AtomicU64::new(0),
            close: Notify::new(),
        });
        conn.idle_since_ms.store(conn.now_ms(), Ordering::Release);
        open.insert(id, conn.clone());
        (Admission::Admitted(conn), evicted)
    }

    /// Asks the connection idle longest to close, if any is idle (used when
    /// the process runs out of file descriptors). Returns whether one was.
    pub fn evict_idlest(&self) -> bool {
        let mut open = self.open.lock();
        let Some(id) = Self::idlest(&open) else {
            return false;
        };
        if let Some(victim) = open.remove(&id) {
            victim.close.notify_one();
        }
        true
    }

    /// Forgets a connection that has closed.
    pub fn remove(&self, conn: &Connection) {
        self.open.lock().remove(&conn.id);
    }

    fn idlest(open: &HashMap<u64, Arc<Connection>>) -> Option<u64> {
        open.values()
            .filter(|c| !c.is_busy())
            .min_by_key(|c| c.idle_since_ms.load(Ordering::Acquire))
            .map(|c| c.id)
    }
}

#[cfg(test)]
mod tests {
    use super::{Admission, Connections};

    fn admitted(table: &Connections) -> std::sync::Arc<super::Connection> {
        match table.admit() {
            (Admission::Admitted(conn), _) => conn,
            (Admission::Refused, _) => panic!("refused"),
        }
    }

    #[test]
    fn at_the_cap_the_idlest_makes_room_and_busy_ones_never_do() {
        let table = Connections::new(2);
        let first = admitted(&table);
        std::thread::sleep(std::time::Duration::from_millis(5));
        let second = admitted(&table);
        let _busy = second.busy();
        // full: the idle first one is evicted for the third
        let (third, evicted) = table.admit();
        assert!(evicted);
        assert!(matches!(third, Admission::Admitted(_)));
        assert_eq!(table.len(), 2);
        table.remove(&first);
        assert_eq!(table.len(), 2, "the evicted one was already gone");
        let Admission::Admitted(third) = third else {
            unreachable!()
        };
        let _also_busy = third.busy();
        // every connection busy: refused
        assert!(matches!(table.admit(), (Admission::Refused, false)));
        assert!(!table.evict_idlest());
    }

    #[test]
    fn a_finished_request_starts_the_idle_clock() {
        let table = Connections::new(4);
        let conn = admitted(&table);
        let busy = conn.busy();
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert!(conn.is_busy());
        assert_eq!(conn.idle_for(), std::time::Duration::ZERO);
        drop(busy);
        assert!(!conn.is_busy());
        assert!(conn.idle_for() < std::time::Duration::from_millis(15));
    }
}
