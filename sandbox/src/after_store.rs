//! "Store, then fail": a one-shot switch for provider sandboxes whose writes
//! must be seen to succeed at the provider while the client never learns it.
//!
//! The handler does its work (the event is stored), then [`AfterStoreFault`]
//! either delays the answer past any sensible client timeout or drops the
//! connection without an answer. A client that retries must then find its
//! first attempt instead of creating a duplicate.

use std::sync::Arc;
use std::time::Duration;

use axum::response::Response;
use parking_lot::Mutex;

/// Marker put in a response's extensions by a handler: the server closes the
/// connection instead of sending that response.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DropConnection;

/// What happens to the answer of a write that was stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterStore {
    /// Send the answer only after this delay (longer than the client's timeout).
    Delay(Duration),
    /// Close the connection without any answer.
    Drop,
}

/// A one-shot [`AfterStore`] switch shared by a sandbox and its tests.
#[derive(Clone, Default)]
pub struct AfterStoreFault {
    armed: Arc<Mutex<Option<AfterStore>>>,
    fired: Arc<Mutex<u64>>,
}

impl AfterStoreFault {
    /// Apply `mode` to the next stored write, once.
    pub fn arm(&self, mode: AfterStore) {
        *self.armed.lock() = Some(mode);
    }

    /// Disarm without firing.
    pub fn disarm(&self) {
        *self.armed.lock() = None;
    }

    /// How many writes this switch has stored-then-failed.
    pub fn fired(&self) -> u64 {
        *self.fired.lock()
    }

    /// Consume the switch, if armed.
    pub(crate) fn take(&self) -> Option<AfterStore> {
        let mode = self.armed.lock().take();
        if mode.is_some() {
            *self.fired.lock() += 1;
        }
        mode
    }

    /// Apply `mode` to a response of a write that is already stored.
    pub(crate) async fn apply(mode: Option<AfterStore>, mut resp: Response) -> Response {
        match mode {
            None => resp,
            Some(AfterStore::Delay(delay)) => {
                tokio::time::sleep(delay).await;
                resp
            }
            Some(AfterStore::Drop) => {
                resp.extensions_mut().insert(DropConnection);
                resp
            }
        }
    }
}

impl std::fmt::Debug for AfterStoreFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AfterStoreFault")
            .field("armed", &*self.armed.lock())
            .field("fired", &self.fired())
            .finish()
    }
}
