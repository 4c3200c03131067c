//! The shared vocabulary, re-exported from [`crate::vocab`] where it lives (at
//! the bottom, so `oauth/` and `store/` use it without importing the domain).

pub use crate::vocab::{
    ActivityName, ActivityStatus, ConnectionState, IntegrationKind, JobState, Provider,
};
