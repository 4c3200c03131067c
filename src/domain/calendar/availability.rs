//! When the user is free: the busy intervals of every connected calendar
//! (asked at once, each with a deadline) and of our own events, merged, and
//! the free slots of the asked length between them. A calendar that cannot
//! answer is reported, and the others still count.

use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::join_all;

use super::{client_of, event, integrations};
use crate::{
    auth::Identity,
    context::AppContext,
    domain::{
        connections::{with_fresh_token, CallError},
        types::{ConnectionState, Provider},
    },
    error::{AppError, Result},
    oauth::OAuthEndpoints,
    providers::calendar::{Busy, BusyQuery},
    store::{calendar_events, credentials},
};

/// A span of time (start inclusive, end exclusive).
pub use crate::providers::calendar::Busy as Interval;

/// Longest range one question may cover.
pub const RANGE_MAX_DAYS: i64 = 62;
/// Shortest and longest slot, in minutes.
pub const SLOT_MINUTES: std::ops::RangeInclusive<i32> = 5..=1440;
/// How long one provider may take to answer.
const PROVIDER_DEADLINE: Duration = Duration::from_secs(10);
/// Most of our own events counted in one answer.
const OWN_EVENTS_MAX: u64 = 5000;

/// How one calendar answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    /// Empty for the platform's own events.
    pub integration_id: String,
    pub provider: Option<Provider>,
    pub ok: bool,
    pub error: Option<String>,
}

/// The answer to an availability question.
#[derive(Clone, Debug, Default)]
pub struct Availability {
    pub busy: Vec<Busy>,
    pub free_slots: Vec<Busy>,
    pub sources: Vec<Source>,
}

/// Sorted, merged (touching intervals joined), clipped to `[from, until)`.
pub fn merge(mut busy: Vec<Busy>, from: DateTime<Utc>, until: DateTime<Utc>) -> Vec<Busy> {
    busy.retain(|b| b.end > from && b.start < until && b.end > b.start);
    busy.sort();
    let mut out: Vec<Busy> = Vec::with_capacity(busy.len());
    for b in busy {
        let b = Busy {
            start: b.start.max(from),
            end: b.end.min(until),
        };
        match out.last_mut() {
            Some(last) if b.start <= last.end => last.end = last.end.max(b.end),
            _ => out.push(b),
        }
    }
    out
}

/// Back-to-back slots of `slot` from `from` that overlap no busy interval.
pub fn free_slots(
    busy: &[Busy],
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    slot: chrono::Duration,
) -> Vec<Busy> {
    let mut slots = Vec::new();
    let mut at = from;
    let mut next_busy = busy.iter().peekable();
    while at + slot <= until {
        let end = at + slot;
        while next_busy.peek().is_some_and(|b| b.end <= at) {
            next_busy.next();
        }
        match next_busy.peek() {
            Some(b) if b.start < end => {
                // jump past this busy interval, keeping the grid's step
                let skipped = (b.end - at).num_seconds().max(1);
                let steps = (skipped + slot.num_seconds() - 1) / slot.num_seconds();
                at += slot * steps as i32;
            }
            _ => {
                slots.push(Busy { start: at, end });
                at = end;
            }
        }
    }
    slots
}

/// The caller's availability in `[from, until)`, with free slots of `slot_minutes`.
pub async fn availability(
    ctx: &AppContext,
    caller: &Identity,
    from: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    slot_minutes: i32,
    time_zone: &str,
) -> Result<Availability> {
    super::ensure_enabled(&ctx.config)?;
    let from = from.ok_or_else(|| AppError::invalid("start_time", "is required"))?;
    let until = until.ok_or_else(|| AppError::invalid("end_time", "is required"))?;
    if until <= from {
        return Err(AppError::invalid("end_time", "must be after start_time"));
    }
    if until - from > chrono::Duration::days(RANGE_MAX_DAYS) {
        return Err(AppError::invalid(
            "end_time",
            format!("must be at most {RANGE_MAX_DAYS} days after start_time"),
        ));
    }
    if !SLOT_MINUTES.contains(&slot_minutes) {
        return Err(AppError::invalid(
            "slot_minutes",
            "must be 5 to 1440 minutes",
        ));
    }
    let zone = if time_zone.is_empty() {
        chrono_tz::UTC
    } else {
        event::time_zone(time_zone, "time_zone")?
    };

    let accounts = integrations::list_of(ctx, &caller.user_id).await?;
    let asks = accounts.iter().map(|account| async move {
        let outcome = tokio::time::timeout(PROVIDER_DEADLINE, async {
            if matches!(account.state, ConnectionState::NeedsReauth) {
                return Err("the calendar must be reconnected".to_owned());
            }
            let connection = credentials::find(&ctx.db, &account.id)
                .await
                .map_err(|_| "database error".to_owned())?
                .ok_or_else(|| "disconnected".to_owned())?;
            let endpoints = OAuthEndpoints::for_provider(&ctx.config, account.provider)
                .ok_or_else(|| "not a calendar provider".to_owned())?;
            let client = client_of(ctx, account.provider, Some(&account.id))
                .ok_or_else(|| "not a calendar provider".to_owned())?;
            let client = &*client;
            let calendar_ids: Vec<String> = vec![account.default_calendar_id.clone()];
            let calendar_ids = &calendar_ids;
            let email = account.account_email.as_str();
            with_fresh_token(ctx, &endpoints, &connection, |token| async move {
                client
                    .busy(
                        &token,
                        BusyQuery {
                            start: from,
                            end: until,
                            time_zone: zone,
                            account_email: email,
                            calendar_ids,
                        },
                    )
                    .await
            })
            .await
            .map_err(|err| match err {
                CallError::Reauth => "the calendar must be reconnected".to_owned(),
                CallError::Provider(err) => err.to_string(),
                CallError::App(_) => "internal error".to_owned(),
            })
        })
        .await
        .unwrap_or_else(|_| Err("the provider did not answer in time".to_owned()));
        (account, outcome)
    });
    let answers = join_all(asks).await;

    let mut busy = Vec::new();
    let mut sources = Vec::with_capacity(answers.len() + 1);
    for (account, outcome) in answers {
        match outcome {
            Ok(intervals) => {
                busy.extend(intervals);
                sources.push(Source {
                    integration_id: account.id.clone(),
                    provider: Some(account.provider),
                    ok: true,
                    error: None,
                });
            }
            Err(message) => sources.push(Source {
                integration_id: account.id.clone(),
                provider: Some(account.provider),
                ok: false,
                error: Some(message),
            }),
        }
    }
    let own = calendar_events::busy(&ctx.db, &caller.user_id, from, until, OWN_EVENTS_MAX).await?;
    busy.extend(own.into_iter().map(|(start, end)| Busy { start, end }));
    sources.push(Source {
        integration_id: String::new(),
        provider: None,
        ok: true,
        error: None,
    });
    let busy = merge(busy, from, until);
    let free_slots = free_slots(
        &busy,
        from,
        until,
        chrono::Duration::minutes(i64::from(slot_minutes)),
    );
    Ok(Availability {
        busy,
        free_slots,
        sources,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(hm: &str) -> DateTime<Utc> {
        format!("2027-03-29T{hm}:00Z").parse().unwrap()
    }

    fn b(s: &str, e: &str) -> Busy {
        Busy {
            start: at(s),
            end: at(e),
        }
    }

    #[test]
    fn busy_intervals_merge_and_slots_avoid_them() {
        let merged = merge(
            vec![
                b("10:00", "11:00"),
                b("10:30", "11:15"),
                b("11:15", "11:30"),
                b("14:00", "15:00"),
            ],
            at("09:00"),
            at("17:00"),
        );
        assert_eq!(merged, vec![b("10:00", "11:30"), b("14:00", "15:00")]);
        let slots = free_slots(
            &merged,
            at("09:00"),
            at("17:00"),
            chrono::Duration::minutes(60),
        );
        assert_eq!(
            slots,
            vec![
                b("09:00", "10:00"),
                b("12:00", "13:00"),
                b("13:00", "14:00"),
                b("15:00", "16:00"),
                b("16:00", "17:00"),
            ]
        );
    }
}
