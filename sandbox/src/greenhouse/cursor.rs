//! Harvest v3 list parameters and cursors (HV3 pagination, list endpoints).
//!
//! First request: filters and `per_page` (1..=500, default 100; the v3
//! bounds are NOT verified, these are v1's). The `Link` header's `next`
//! URL carries `cursor` = URL-safe Base64 (no padding) of a small JSON
//! object holding the endpoint, the filters, `per_page` and the last id
//! served. A request with `cursor` must have no other parameter (verified
//! "will fail"; the `422` status is NOT verified).
//!
//! Time filters: `updated_at=gte|2024-01-01T00:00:00Z` with `gte`, `gt`,
//! `lte`, `lt`, several joined (`gte|A|lte|B`); `created_at` likewise.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::harvest::HarvestError;

/// Largest `per_page`.
pub const MAX_PER_PAGE: u32 = 500;
/// `per_page` when none is given.
pub const DEFAULT_PER_PAGE: u32 = 100;

/// A comparison of a time filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Op {
    Gte,
    Gt,
    Lte,
    Lt,
}

impl Op {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "gte" => Some(Op::Gte),
            "gt" => Some(Op::Gt),
            "lte" => Some(Op::Lte),
            "lt" => Some(Op::Lt),
            _ => None,
        }
    }

    /// Whether `value` (epoch ms) passes `op bound`.
    fn holds(self, value: i64, bound: i64) -> bool {
        match self {
            Op::Gte => value >= bound,
            Op::Gt => value > bound,
            Op::Lte => value <= bound,
            Op::Lt => value < bound,
        }
    }
}

/// The filters of one walk through a list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Filters {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) ids: Option<Vec<u64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) status: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) updated_at: Vec<(Op, i64)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) created_at: Vec<(Op, i64)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) job_ids: Option<Vec<u64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) candidate_ids: Option<Vec<u64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) live: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) active: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) internal: Option<bool>,
}

impl Filters {
    /// Whether an instant passes every `updated_at` comparison.
    pub(crate) fn updated_ok(&self, t: DateTime<Utc>) -> bool {
        let ms = t.timestamp_millis();
        self.updated_at.iter().all(|(op, b)| op.holds(ms, *b))
    }

    /// Whether an instant passes every `created_at` comparison.
    pub(crate) fn created_ok(&self, t: DateTime<Utc>) -> bool {
        let ms = t.timestamp_millis();
        self.created_at.iter().all(|(op, b)| op.holds(ms, *b))
    }

    /// Whether `id` is in `ids` (or there is no `ids` filter).
    pub(crate) fn id_ok(&self, id: u64) -> bool {
        self.ids.as_ref().is_none_or(|ids| ids.contains(&id))
    }
}

/// Where a walk stands: what the cursor carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Cursor {
    /// The endpoint (`jobs`, `job_posts`, `applications`).
    pub(crate) e: String,
    pub(crate) f: Filters,
    pub(crate) n: u32,
    /// The last id served.
    pub(crate) a: u64,
}

impl Cursor {
    pub(crate) fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    fn decode(text: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).ok()?;
        serde_json::from_slice(&bytes).ok()
    }
}

/// One list request: filters, page size and where to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ListQuery {
    pub(crate) filters: Filters,
    pub(crate) per_page: u32,
    /// Serve ids after this one (`None`: from the start).
    pub(crate) after: Option<u64>,
}

fn invalid(field: &str, message: &str) -> HarvestError {
    HarvestError::validation(field, message)
}

fn parse_ids(field: &str, value: &str) -> Result<Vec<u64>, HarvestError> {
    value
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.trim().parse::<u64>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| invalid(field, "must be a comma-separated list of integer ids"))
}

fn parse_bool(field: &str, value: &str) -> Result<bool, HarvestError> {
    match value {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(invalid(field, "must be true or false")),
    }
}

fn parse_instant(text: &str) -> Option<i64> {
    let parse = |s: &str| {
        DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|t| t.timestamp_millis())
    };
    // A `+hh:mm` offset sent unencoded arrives as a space.
    parse(text).or_else(|| parse(&text.replace(' ', "+")))
}

/// `gte|A[|lte|B...]`.
fn parse_time_filter(field: &str, value: &str) -> Result<Vec<(Op, i64)>, HarvestError> {
    let items: Vec<&str> = value.split('|').collect();
    if !items.len().is_multiple_of(2) {
        return Err(invalid(field, "must be operator|timestamp pairs"));
    }
    items
        .chunks(2)
        .map(|pair| {
            let op = Op::parse(pair[0])
                .ok_or_else(|| invalid(field, "operator must be one of gte, gt, lte, lt"))?;
            let at = parse_instant(pair[1])
                .ok_or_else(|| invalid(field, "timestamp must be ISO 8601 (RFC 3339)"))?;
            Ok((op, at))
        })
        .collect()
}

/// Read a list request's query for `endpoint`; `statuses` are the values
/// `status` may take there (empty: no `status` filter on this endpoint).
pub(crate) fn parse(
    endpoint: &str,
    pairs: &[(String, String)],
    statuses: &[&str],
) -> Result<ListQuery, HarvestError> {
    if let Some((_, cursor)) = pairs.iter().find(|(k, _)| k == "cursor") {
        if pairs.len() != 1 {
            return Err(invalid(
                "cursor",
                "cursor must be the only query parameter when present",
            ));
        }
        let c = Cursor::decode(cursor)
            .filter(|c| c.e == endpoint)
            .ok_or_else(|| invalid("cursor", "is invalid"))?;
        return Ok(ListQuery {
            filters: c.f,
            per_page: c.n,
            after: Some(c.a),
        });
    }
    let mut q = ListQuery {
        filters: Filters::default(),
        per_page: DEFAULT_PER_PAGE,
        after: None,
    };
    for (key, value) in pairs {
        let f = &mut q.filters;
        match key.as_str() {
            "per_page" => {
                q.per_page = value
                    .parse::<u32>()
                    .ok()
                    .filter(|n| (1..=MAX_PER_PAGE).contains(n))
                    .ok_or_else(|| invalid("per_page", "must be an integer between 1 and 500"))?;
            }
            "ids" => f.ids = Some(parse_ids("ids", value)?),
            "job_ids" => f.job_ids = Some(parse_ids("job_ids", value)?),
            "candidate_ids" => f.candidate_ids = Some(parse_ids("candidate_ids", value)?),
            "updated_at" => f.updated_at = parse_time_filter("updated_at", value)?,
            "created_at" => f.created_at = parse_time_filter("created_at", value)?,
            "live" => f.live = Some(parse_bool("live", value)?),
            "active" => f.active = Some(parse_bool("active", value)?),
            "internal" => f.internal = Some(parse_bool("internal", value)?),
            "status" if !statuses.is_empty() => {
                if !statuses.contains(&value.as_str()) {
                    return Err(invalid(
                        "status",
                        &format!("must be one of: {}", statuses.join(", ")),
                    ));
                }
                f.status = Some(value.clone());
            }
            // Other parameters are ignored, as unknown ones usually are.
            _ => {}
        }
    }
    Ok(q)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(q: &str) -> Vec<(String, String)> {
        crate::request::query_pairs(Some(q))
    }

    #[test]
    fn filters_round_trip_through_the_cursor() {
        let q = parse(
            "jobs",
            &pairs("status=open&per_page=7&updated_at=gte%7C2026-01-01T00:00:00Z%7Clt%7C2026-02-01T00:00:00%2B01:00&ids=1,2"),
            &["open", "closed", "draft"],
        )
        .unwrap();
        assert_eq!(q.per_page, 7);
        assert_eq!(q.filters.updated_at.len(), 2);
        let c = Cursor {
            e: "jobs".into(),
            f: q.filters.clone(),
            n: q.per_page,
            a: 42,
        };
        let back = parse("jobs", &pairs(&format!("cursor={}", c.encode())), &[]).unwrap();
        assert_eq!(back.filters, q.filters);
        assert_eq!((back.per_page, back.after), (7, Some(42)));
        // Wrong endpoint, extra parameter, bad per_page, bad operator.
        assert!(parse("job_posts", &pairs(&format!("cursor={}", c.encode())), &[]).is_err());
        assert!(parse(
            "jobs",
            &pairs(&format!("cursor={}&per_page=5", c.encode())),
            &[]
        )
        .is_err());
        assert!(parse("jobs", &pairs("per_page=501"), &[]).is_err());
        assert!(parse("jobs", &pairs("per_page=0"), &[]).is_err());
        assert!(parse(
            "jobs",
            &pairs("updated_at=after%7C2026-01-01T00:00:00Z"),
            &[]
        )
        .is_err());
        assert!(parse("jobs", &pairs("status=gone"), &["open"]).is_err());
    }
}
