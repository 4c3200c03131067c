//! Conversions between protobuf messages and domain types.

use chrono::{DateTime, Utc};
use prost_types::Timestamp;

use crate::{
    domain::types::{ActivityStatus, ConnectionState, IntegrationKind, Provider},
    error::AppError,
    limits::{self, TextProblem},
    proto,
};

/// A request string field: empty (proto3's unset) is `None`; otherwise at most
/// `max` characters and no control characters (NUL included), or
/// `INVALID_ARGUMENT` naming `field` ([`AppError::invalid`]). Every request string goes through here;
/// invalid UTF-8 never reaches it (the codec refuses it while decoding).
pub fn text<'a>(
    field: &'static str,
    value: &'a str,
    max: usize,
) -> Result<Option<&'a str>, AppError> {
    match limits::check(value, max) {
        Ok(()) => Ok(Some(value)),
        Err(TextProblem::Empty) => Ok(None),
        Err(problem) => Err(AppError::invalid(field, problem.describe())),
    }
}

/// A request page size: negative is refused.
pub fn page_size(raw: i32) -> Result<u32, AppError> {
    u32::try_from(raw).map_err(|_| AppError::invalid("page_size", "must not be negative"))
}

/// A domain time as a protobuf timestamp.
pub fn timestamp(time: DateTime<Utc>) -> Timestamp {
    Timestamp {
        seconds: time.timestamp(),
        nanos: i32::try_from(time.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

/// An optional protobuf timestamp as a domain time; `field` names it in errors.
pub fn time(ts: Option<Timestamp>, field: &'static str) -> Result<Option<DateTime<Utc>>, AppError> {
    ts.map(|ts| {
        u32::try_from(ts.nanos)
            .ok()
            .and_then(|nanos| DateTime::from_timestamp(ts.seconds, nanos))
            .ok_or_else(|| AppError::invalid(field, "out of range"))
    })
    .transpose()
}

/// A request enum field: unspecified is `None`, unknown numbers are refused.
pub fn enum_filter<P, D>(
    raw: i32,
    field: &'static str,
    map: impl Fn(P) -> Option<D>,
) -> Result<Option<D>, AppError>
where
    P: TryFrom<i32>,
{
    if raw == 0 {
        return Ok(None);
    }
    P::try_from(raw)
        .ok()
        .and_then(map)
        .map(Some)
        .ok_or_else(|| AppError::invalid(field, format!("unknown value {raw}")))
}

/// Proto provider to domain provider.
pub fn provider_from(p: proto::Provider) -> Option<Provider> {
    use proto::Provider as P;
    Some(match p {
        P::Unspecified => return None,
        P::Linkedin => Provider::LinkedIn,
        P::Google => Provider::Google,
        P::Microsoft => Provider::Microsoft,
        P::Greenhouse => Provider::Greenhouse,
        P::Lever => Provider::Lever,
        P::Workday => Provider::Workday,
        P::Bamboohr => Provider::BambooHr,
    })
}

/// Domain provider to proto provider.
pub fn provider_to(p: Option<Provider>) -> proto::Provider {
    use proto::Provider as P;
    match p {
        None => P::Unspecified,
        Some(Provider::LinkedIn) => P::Linkedin,
        Some(Provider::Google) => P::Google,
        Some(Provider::Microsoft) => P::Microsoft,
        Some(Provider::Greenhouse) => P::Greenhouse,
        Some(Provider::Lever) => P::Lever,
        Some(Provider::Workday) => P::Workday,
        Some(Provider::BambooHr) => P::Bamboohr,
    }
}

/// Proto integration type to domain kind.
pub fn kind_from(k: proto::IntegrationType) -> Option<IntegrationKind> {
    use proto::IntegrationType as K;
    Some(match k {
        K::Unspecified => return None,
        K::Linkedin => IntegrationKind::LinkedIn,
        K::Calendar => IntegrationKind::Calendar,
        K::Ats => IntegrationKind::Ats,
    })
}

/// Domain kind to proto integration type.
pub fn kind_to(k: Option<IntegrationKind>) -> proto::IntegrationType {
    use proto::IntegrationType as K;
    match k {
        None => K::Unspecified,
        Some(IntegrationKind::LinkedIn) => K::Linkedin,
        Some(IntegrationKind::Calendar) => K::Calendar,
        Some(IntegrationKind::Ats) => K::Ats,
    }
}

/// Proto activity status to domain status.
pub fn activity_status_from(s: proto::ActivityStatus) -> Option<ActivityStatus> {
    use proto::ActivityStatus as S;
    Some(match s {
        S::Unspecified => return None,
        S::Success => ActivityStatus::Success,
        S::Failure => ActivityStatus::Failure,
        S::Pending => ActivityStatus::Pending,
    })
}

/// Domain activity status to proto.
pub fn activity_status_to(s: Option<ActivityStatus>) -> proto::ActivityStatus {
    use proto::ActivityStatus as S;
    match s {
        None => S::Unspecified,
        Some(ActivityStatus::Success) => S::Success,
        Some(ActivityStatus::Failure) => S::Failure,
        Some(ActivityStatus::Pending) => S::Pending,
    }
}

/// Domain connection state to proto.
pub fn state_to(s: ConnectionState) -> proto::ConnectionState {
    use proto::ConnectionState as S;
    match s {
        ConnectionState::Connected => S::Connected,
        ConnectionState::NeedsReauth => S::NeedsReauth,
        ConnectionState::Error => S::Error,
        ConnectionState::Disabled => S::Disabled,
        ConnectionState::Expiring => S::Expiring,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_names_the_field_and_never_echoes_the_value() {
        assert_eq!(text("kind", "", 8).unwrap(), None);
        assert_eq!(text("kind", "a.b", 8).unwrap(), Some("a.b"));
        for bad in ["secret\0value", "secret\u{1b}", "secretvalue"] {
            let status = tonic::Status::from(text("kind", bad, 8).expect_err(bad));
            assert_eq!(status.code(), tonic::Code::InvalidArgument);
            assert!(
                status.message().starts_with("invalid kind: "),
                "{}",
                status.message()
            );
            assert!(!status.message().contains("secret"), "{}", status.message());
        }
    }
}
