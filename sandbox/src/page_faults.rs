//! Faults aimed at one page of a paginated listing (the ATS sandboxes'
//! job lists): "drop the connection on page 3", "answer page 2 with 503".
//!
//! Pages are counted per walk: a request without a cursor (Greenhouse) or
//! offset (Lever) is page 1 and starts a new walk; each request carrying
//! one is the next page. Every switch fires once.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use parking_lot::Mutex;

use crate::after_store::DropConnection;

/// What a page request must get instead of its page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PageFault {
    /// Close the connection without an answer.
    Drop,
    /// Answer this status with `Retry-After` (seconds) when given.
    Fail(StatusCode, Option<u64>),
}

#[derive(Default)]
struct State {
    page_in_walk: u64,
    drop_on: Option<u64>,
    fail_on: Option<(u64, StatusCode, Option<u64>)>,
}

/// Page counter and one-shot page faults of one listing endpoint.
#[derive(Clone, Default)]
pub(crate) struct PageFaults {
    state: Arc<Mutex<State>>,
    requests: Arc<AtomicU64>,
    fired: Arc<AtomicU64>,
}

impl PageFaults {
    /// Drop the connection of the `n`-th page (1-based) of a walk, once.
    pub(crate) fn drop_on(&self, n: u64) {
        self.state.lock().drop_on = (n > 0).then_some(n);
    }

    /// Answer the `n`-th page of a walk with `status` (and `Retry-After`), once.
    pub(crate) fn fail_on(&self, n: u64, status: StatusCode, retry_after: Option<u64>) {
        self.state.lock().fail_on = (n > 0).then_some((n, status, retry_after));
    }

    /// Count one page request (`first`: it has no cursor) and return the
    /// fault it must get, if one is armed for its page number.
    pub(crate) fn on_request(&self, first: bool) -> Option<PageFault> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let mut st = self.state.lock();
        st.page_in_walk = if first { 1 } else { st.page_in_walk + 1 };
        let page = st.page_in_walk;
        let fault = if st.drop_on == Some(page) {
            st.drop_on = None;
            Some(PageFault::Drop)
        } else if let Some((n, status, retry)) = st.fail_on.filter(|f| f.0 == page) {
            debug_assert_eq!(n, page);
            st.fail_on = None;
            Some(PageFault::Fail(status, retry))
        } else {
            None
        };
        if fault.is_some() {
            self.fired.fetch_add(1, Ordering::Relaxed);
        }
        fault
    }

    /// Every page request counted so far, all walks together.
    pub(crate) fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// How many page faults fired.
    pub(crate) fn fired(&self) -> u64 {
        self.fired.load(Ordering::Relaxed)
    }
}

impl PageFault {
    /// The answer for this fault; `body` is the provider's error JSON.
    pub(crate) fn response(self, body: serde_json::Value) -> Response {
        match self {
            PageFault::Drop => {
                let mut resp = StatusCode::SERVICE_UNAVAILABLE.into_response();
                resp.extensions_mut().insert(DropConnection);
                resp
            }
            PageFault::Fail(status, retry_after) => {
                let mut resp = (status, axum::Json(body)).into_response();
                if let Some(secs) = retry_after {
                    resp.headers_mut()
                        .insert(header::RETRY_AFTER, HeaderValue::from(secs));
                }
                resp
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_count_per_walk_and_faults_fire_once() {
        let p = PageFaults::default();
        p.drop_on(2);
        p.fail_on(3, StatusCode::TOO_MANY_REQUESTS, Some(1));
        assert_eq!(p.on_request(true), None);
        assert_eq!(p.on_request(false), Some(PageFault::Drop));
        assert_eq!(
            p.on_request(false),
            Some(PageFault::Fail(StatusCode::TOO_MANY_REQUESTS, Some(1)))
        );
        // A new walk: nothing armed any more.
        assert_eq!(p.on_request(true), None);
        assert_eq!(p.on_request(false), None);
        assert_eq!(p.on_request(false), None);
        assert_eq!((p.requests(), p.fired()), (6, 2));
    }
}
