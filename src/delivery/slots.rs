//! Send slots of a channel with a fixed throughput (WhatsApp's messages per
//! second per business number): each message due at an instant gets the free
//! slot nearest that instant, so a burst larger than a second's throughput is
//! centred on its instant (half a little early, half a little late) instead of
//! all of it going out late. A slot is never more than `max_early` before its
//! message's instant, nor in the past.
//!
//! Slots are `1 / per_second` wide; the ledger keeps the taken ones as
//! disjoint runs, so a reservation costs a lookup and a merge whatever the
//! size of the burst. Runs wholly in the past are dropped as time goes on.
//! The ledger is per process, as is the budget that paces the sends.

use std::{collections::BTreeMap, time::Duration};

use chrono::{DateTime, Utc};
use parking_lot::Mutex;

/// The slots of one channel.
#[derive(Debug)]
pub struct SendSlots {
    /// Width of a slot, in microseconds.
    width_us: i64,
    /// Most slots a message may go before its instant.
    max_early: i64,
    /// Taken slots as runs: first slot -> last slot (inclusive).
    taken: Mutex<BTreeMap<i64, i64>>,
}

impl SendSlots {
    /// Slots for `per_second` messages a second, early by at most `max_early`.
    pub fn new(per_second: u32, max_early: Duration) -> Self {
        let width_us = (1_000_000 / i64::from(per_second.max(1))).max(1);
        let max_early = i64::try_from(max_early.as_micros()).unwrap_or(i64::MAX) / width_us;
        Self {
            width_us,
            max_early,
            taken: Mutex::new(BTreeMap::new()),
        }
    }

    /// The instant the message due at `due` goes out, seen at `now`: the
    /// free slot nearest `due`, earlier ones winning ties, never before
    /// `now` or more than `max_early` before `due`.
    pub fn reserve(&self, due: DateTime<Utc>, now: DateTime<Utc>) -> DateTime<Utc> {
        let slot_of = |t: DateTime<Utc>| t.timestamp_micros().div_euclid(self.width_us);
        let current = slot_of(now) + 1;
        let wanted = slot_of(due).max(current);
        let earliest = (wanted - self.max_early).max(current);
        let mut taken = self.taken.lock();
        // forget runs wholly in the past
        while let Some((&first, &last)) = taken.first_key_value() {
            if last >= current {
                break;
            }
            taken.remove(&first);
        }
        let run = taken
            .range(..=wanted)
            .next_back()
            .map(|(&first, &last)| (first, last))
            .filter(|&(_, last)| last >= wanted);
        let slot = match run {
            None => wanted,
            Some((first, last)) => {
                // the slots just outside a run are free (runs are merged)
                let before = first - 1;
                let after = last + 1;
                if before >= earliest && wanted - before <= after - wanted {
                    before
                } else {
                    after
                }
            }
        };
        take(&mut taken, slot);
        DateTime::<Utc>::from_timestamp_micros(slot * self.width_us).unwrap_or(due)
    }
}

/// Marks `slot` taken, merging it with the runs it touches.
fn take(taken: &mut BTreeMap<i64, i64>, slot: i64) {
    let mut first = slot;
    let mut last = slot;
    if let Some((&f, &l)) = taken.range(..slot).next_back() {
        if l + 1 >= slot {
            first = f;
            last = last.max(l);
            taken.remove(&f);
        }
    }
    if let Some(&l) = taken.get(&(slot + 1)) {
        taken.remove(&(slot + 1));
        last = last.max(l);
    }
    taken.insert(first, last);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64, ms: i64) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(s * 1000 + ms).unwrap()
    }

    #[test]
    fn a_burst_is_centred_on_its_instant_within_the_early_limit() {
        let slots = SendSlots::new(1000, Duration::from_secs(5));
        let now = at(1_000, 0);
        let due = at(1_030, 0);
        let mut sent: Vec<DateTime<Utc>> = (0..10_000).map(|_| slots.reserve(due, now)).collect();
        sent.sort();
        sent.dedup();
        assert_eq!(sent.len(), 10_000, "every message has its own slot");
        let early = (due - sent[0]).num_milliseconds();
        let late = (*sent.last().unwrap() - due).num_milliseconds();
        assert!((4_990..=5_000).contains(&early), "{early}");
        assert!((4_990..=5_010).contains(&late), "{late}");
    }

    #[test]
    fn the_early_limit_and_the_present_bound_the_early_side() {
        let slots = SendSlots::new(1000, Duration::from_millis(100));
        let now = at(1_000, 0);
        let due = at(1_010, 0);
        let sent: Vec<_> = (0..1_000).map(|_| slots.reserve(due, now)).collect();
        let earliest = sent.iter().min().unwrap();
        assert_eq!((due - *earliest).num_milliseconds(), 100);
        let latest = sent.iter().max().unwrap();
        assert_eq!((*latest - due).num_milliseconds(), 899);

        // a message already due goes out now, never in the past
        let overdue = slots.reserve(at(900, 0), now);
        assert!(overdue > now && overdue <= now + chrono::Duration::milliseconds(2));
        // no early limit: never early
        let strict = SendSlots::new(10, Duration::ZERO);
        let first = strict.reserve(due, now);
        let second = strict.reserve(due, now);
        assert_eq!(first, due);
        assert_eq!((second - due).num_milliseconds(), 100);
    }

    #[test]
    fn separate_instants_keep_their_own_slots_and_past_runs_are_forgotten() {
        let slots = SendSlots::new(100, Duration::from_secs(1));
        let now = at(1_000, 0);
        assert_eq!(slots.reserve(at(1_010, 0), now), at(1_010, 0));
        assert_eq!(slots.reserve(at(1_020, 0), now), at(1_020, 0));
        assert_eq!(slots.reserve(at(1_010, 0), now), at(1_009, 990));
        assert_eq!(slots.taken.lock().len(), 2);
        // later, the first run is in the past
        assert_eq!(slots.reserve(at(1_030, 0), at(1_015, 0)), at(1_030, 0));
        assert_eq!(slots.taken.lock().len(), 2);
    }
}
