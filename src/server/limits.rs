//! The process's open-file limit and the connection cap it allows.

/// File descriptors kept back from client connections besides the database
/// pool: the listener, outbound provider calls, the SQLite file and its
/// journal, logs, the runtime's own.
pub const FD_RESERVE: u64 = 128;

/// Raises the soft open-file limit to the hard one and returns the cap on
/// client connections: `requested`, or less when the limit minus the reserve
/// (`FD_RESERVE` plus `database_pool`) does not allow it (with a warning).
pub fn connection_cap(requested: usize, database_pool: u32) -> usize {
    let reserve = FD_RESERVE + u64::from(database_pool);
    let limit = match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => limit,
        Err(err) => {
            tracing::warn!(error = %err, "cannot read the open-file limit; connection cap unchecked");
            return requested.max(1);
        }
    };
    clamp(requested, limit, reserve)
}

fn clamp(requested: usize, limit: u64, reserve: u64) -> usize {
    let available = usize::try_from(limit.saturating_sub(reserve))
        .unwrap_or(usize::MAX)
        .max(1);
    if requested > available {
        tracing::warn!(
            max_connections = requested,
            open_file_limit = limit,
            reserve,
            cap = available,
            "max connections exceeds the open-file limit minus the reserve; clamped"
        );
        available
    } else {
        requested.max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::clamp;

    #[test]
    fn the_cap_stays_below_the_limit_minus_the_reserve() {
        assert_eq!(clamp(10_000, 1_048_576, 144), 10_000);
        assert_eq!(clamp(10_000, 1_024, 144), 880);
        assert_eq!(clamp(10, 100, 144), 1);
        assert_eq!(clamp(0, 1_024, 144), 1);
    }

    #[test]
    fn the_soft_limit_is_raised_and_read() {
        let cap = super::connection_cap(usize::MAX, 16);
        let (soft, _) = rlimit::getrlimit(rlimit::Resource::NOFILE).expect("limit");
        assert_eq!(cap as u64, soft - super::FD_RESERVE - 16);
    }
}
