//! The time zone names Graph accepts in `dateTimeTimeZone.timeZone`: Windows
//! names and a fixed list of IANA names. Graph's full lists are long; the
//! sandbox knows this subset (any other name is 400
//! `TimeZoneNotSupportedException`), which covers the product's markets.

use chrono_tz::Tz;

/// Windows name → the IANA zone it stands for (CLDR `windowsZones.xml`, territory 001).
pub const WINDOWS_ZONES: &[(&str, &str)] = &[
    ("UTC", "UTC"),
    ("W. Europe Standard Time", "Europe/Berlin"),
    ("Central Europe Standard Time", "Europe/Budapest"),
    ("Central European Standard Time", "Europe/Warsaw"),
    ("Romance Standard Time", "Europe/Paris"),
    ("GMT Standard Time", "Europe/London"),
    ("E. Africa Standard Time", "Africa/Nairobi"),
    ("South Africa Standard Time", "Africa/Johannesburg"),
    ("W. Central Africa Standard Time", "Africa/Lagos"),
    ("Egypt Standard Time", "Africa/Cairo"),
    ("Eastern Standard Time", "America/New_York"),
    ("Central Standard Time", "America/Chicago"),
    ("Mountain Standard Time", "America/Denver"),
    ("Pacific Standard Time", "America/Los_Angeles"),
    ("India Standard Time", "Asia/Calcutta"),
    ("Arabian Standard Time", "Asia/Dubai"),
    ("Tokyo Standard Time", "Asia/Tokyo"),
    ("AUS Eastern Standard Time", "Australia/Sydney"),
];

/// IANA names accepted besides the Windows ones.
pub const IANA_ZONES: &[&str] = &[
    "UTC",
    "Etc/GMT",
    "Europe/Berlin",
    "Europe/Paris",
    "Europe/London",
    "Europe/Amsterdam",
    "Europe/Warsaw",
    "Europe/Budapest",
    "Africa/Nairobi",
    "Africa/Lagos",
    "Africa/Johannesburg",
    "Africa/Cairo",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "Asia/Kolkata",
    "Asia/Calcutta",
    "Asia/Dubai",
    "Asia/Tokyo",
    "Australia/Sydney",
];

/// The zone a Graph `timeZone` value names, if the sandbox accepts it.
pub fn resolve(name: &str) -> Option<Tz> {
    if let Some((_, iana)) = WINDOWS_ZONES.iter().find(|(w, _)| *w == name) {
        return iana.parse().ok();
    }
    if IANA_ZONES.contains(&name) {
        return name.parse().ok();
    }
    None
}
