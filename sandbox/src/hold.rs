//! Holding one request's answer until a test releases it, so the test can
//! change something while the client waits (a race made deterministic).
//!
//! [`Faults::hold_next`](super::Faults::hold_next) arms a hold for the next
//! request whose path is `path` and whose query contains `query_contains`;
//! the request is logged, then waits before any fault or the router sees it.

use std::time::Duration;

use tokio::sync::watch;

/// A test's end of an armed hold. Dropping it releases the request, so a
/// failing test never leaves the sandbox stuck.
#[derive(Debug)]
pub struct Hold {
    seen: watch::Receiver<bool>,
    release: watch::Sender<bool>,
}

/// The sandbox's end of an armed hold.
pub(crate) struct PendingHold {
    path: String,
    query_contains: Option<String>,
    seen: watch::Sender<bool>,
    release: watch::Receiver<bool>,
}

/// Arms a hold: the test's end and the sandbox's end.
pub(crate) fn arm(path: &str, query_contains: Option<&str>) -> (Hold, PendingHold) {
    let (seen_tx, seen_rx) = watch::channel(false);
    let (release_tx, release_rx) = watch::channel(false);
    (
        Hold {
            seen: seen_rx,
            release: release_tx,
        },
        PendingHold {
            path: path.to_owned(),
            query_contains: query_contains.map(str::to_owned),
            seen: seen_tx,
            release: release_rx,
        },
    )
}

impl PendingHold {
    /// Whether this hold is for a request with this path and query.
    pub(crate) fn matches(&self, path: &str, query: Option<&str>) -> bool {
        self.path == path
            && self
                .query_contains
                .as_deref()
                .is_none_or(|part| query.is_some_and(|q| q.contains(part)))
    }

    /// Tells the test the request arrived; the answer waits for the release.
    pub(crate) fn take(self) -> Release {
        self.seen.send_replace(true);
        Release(self.release)
    }
}

/// What a held request waits on.
pub(crate) struct Release(watch::Receiver<bool>);

impl Release {
    /// Waits until the test releases the request (or drops its [`Hold`]).
    pub(crate) async fn wait(mut self) {
        let _ = self.0.wait_for(|released| *released).await;
    }
}

impl Hold {
    /// Waits until the held request has arrived; `false` after `timeout`.
    pub async fn seen(&self, timeout: Duration) -> bool {
        let mut seen = self.seen.clone();
        tokio::time::timeout(timeout, seen.wait_for(|s| *s))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// Lets the held request go on to its answer.
    pub fn release(&self) {
        self.release.send_replace(true);
    }
}

impl Drop for Hold {
    fn drop(&mut self) {
        self.release.send_replace(true);
    }
}
