//! Reading and changing the Lever sandbox's postings from tests and
//! benches. Every change bumps `updatedAt`.

use super::data::{now_ms, Posting, PostingState};
use super::generate::generate;
use super::LeverSandbox;

impl LeverSandbox {
    /// Replace every posting with `n` generated ones (indexes `0..n`, see
    /// [`generate`](super::generate)), in index order.
    pub fn seed_postings(&self, n: usize) {
        let postings: Vec<Posting> = (0..n as u64).map(generate).collect();
        let mut store = self.inner.store.write();
        store.clear();
        for p in postings {
            store.upsert(p);
        }
        store.next_index = n as u64;
    }

    /// Generate the next posting (after the last seeded or added one),
    /// store it last, and return its id.
    pub fn add_posting(&self) -> String {
        let mut store = self.inner.store.write();
        let mut p = generate(store.next_index);
        store.next_index += 1;
        p.updated_at = now_ms().max(p.updated_at + 1);
        let id = p.id.clone();
        store.upsert(p);
        id
    }

    /// How many postings are stored (every state).
    pub fn posting_count(&self) -> usize {
        self.inner.store.read().by_seq.len()
    }

    /// One posting.
    pub fn posting(&self, id: &str) -> Option<Posting> {
        self.inner.store.read().get(id).cloned()
    }

    /// Every posting id, in list order.
    pub fn posting_ids(&self) -> Vec<String> {
        let store = self.inner.store.read();
        store.by_seq.values().map(|p| p.id.clone()).collect()
    }

    /// Insert or replace a posting by id (a new one goes last), as given.
    pub fn upsert_posting(&self, posting: Posting) {
        self.inner.store.write().upsert(posting);
    }

    /// Change a posting in place and bump `updatedAt`; `false` if unknown.
    pub fn update_posting(&self, id: &str, change: impl FnOnce(&mut Posting)) -> bool {
        let mut store = self.inner.store.write();
        let Some(p) = store.get_mut(id) else {
            return false;
        };
        let before = p.updated_at;
        change(p);
        p.updated_at = now_ms().max(before + 1);
        true
    }

    /// Close a posting (`state: closed`).
    pub fn close_posting(&self, id: &str) -> bool {
        self.update_posting(id, |p| p.state = PostingState::Closed)
    }

    /// Delete a posting; the deleted posting.
    pub fn delete_posting(&self, id: &str) -> Option<Posting> {
        self.inner.store.write().remove(id)
    }
}
