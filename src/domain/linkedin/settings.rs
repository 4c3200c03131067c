//! The user's choices: which sections we keep and how often we sync.

use std::time::Duration;

use rand::Rng;

/// How often a profile is synced in the background.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Frequency {
    Daily,
    Weekly,
    Monthly,
    /// Only when the user asks.
    Manual,
}

impl Frequency {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Frequency::Daily => "daily",
            Frequency::Weekly => "weekly",
            Frequency::Monthly => "monthly",
            Frequency::Manual => "manual",
        }
    }

    /// Parses a stored name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "daily" => Some(Frequency::Daily),
            "weekly" => Some(Frequency::Weekly),
            "monthly" => Some(Frequency::Monthly),
            "manual" => Some(Frequency::Manual),
            _ => None,
        }
    }

    /// The sync period; `None` for manual.
    pub fn period(self) -> Option<Duration> {
        const DAY: u64 = 24 * 3600;
        match self {
            Frequency::Daily => Some(Duration::from_secs(DAY)),
            Frequency::Weekly => Some(Duration::from_secs(7 * DAY)),
            Frequency::Monthly => Some(Duration::from_secs(30 * DAY)),
            Frequency::Manual => None,
        }
    }

    /// When the next scheduled sync is due: one period from `now`, moved by up
    /// to a tenth of a period either way, so users who connected together do
    /// not all sync at the same moment.
    pub fn next_after(
        self,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Option<chrono::DateTime<chrono::Utc>> {
        let period = self.period()?;
        let factor = rand::thread_rng().gen_range(0.9..=1.1);
        let delay = chrono::Duration::from_std(period.mul_f64(factor)).ok()?;
        Some(now + delay)
    }
}

/// Which optional sections the user lets us store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Privacy {
    pub picture: bool,
    pub experience: bool,
    pub education: bool,
    pub skills: bool,
}

impl Default for Privacy {
    fn default() -> Self {
        Self {
            picture: true,
            experience: true,
            education: true,
            skills: true,
        }
    }
}

/// A change of settings; `None` leaves a setting as it is.
#[derive(Clone, Copy, Debug, Default)]
pub struct SettingsUpdate {
    pub picture: Option<bool>,
    pub experience: Option<bool>,
    pub education: Option<bool>,
    pub skills: Option<bool>,
    pub frequency: Option<Frequency>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_syncs_follow_the_frequency_with_jitter() {
        let now = chrono::Utc::now();
        assert!(Frequency::Manual.next_after(now).is_none());
        for _ in 0..200 {
            let next = Frequency::Daily.next_after(now).unwrap();
            let hours = (next - now).num_minutes() as f64 / 60.0;
            assert!((21.5..=26.5).contains(&hours), "{hours}");
            let next = Frequency::Weekly.next_after(now).unwrap();
            let days = (next - now).num_hours() as f64 / 24.0;
            assert!((6.2..=7.8).contains(&days), "{days}");
        }
        let spread: std::collections::BTreeSet<i64> = (0..50)
            .map(|_| Frequency::Daily.next_after(now).unwrap().timestamp())
            .collect();
        assert!(spread.len() > 40, "syncs are spread, not bunched");
    }
}
