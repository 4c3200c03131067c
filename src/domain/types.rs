//! Small enums shared by every integration: providers, integration kinds,
//! connection states and activity outcomes, with their stored names.

use std::fmt;

macro_rules! stored_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// Every value.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The name stored in the database and shown in logs.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Parses a stored name.
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

stored_enum!(
    /// The three kinds of integration.
    IntegrationKind {
        /// LinkedIn profile sync.
        LinkedIn => "linkedin",
        /// Google Calendar and Microsoft Outlook.
        Calendar => "calendar",
        /// Applicant tracking systems.
        Ats => "ats",
    }
);

stored_enum!(
    /// Every external system the service talks to.
    Provider {
        /// LinkedIn.
        LinkedIn => "linkedin",
        /// Google Calendar.
        Google => "google",
        /// Microsoft Outlook through Graph.
        Microsoft => "microsoft",
        /// Greenhouse.
        Greenhouse => "greenhouse",
        /// Lever.
        Lever => "lever",
        /// Workday.
        Workday => "workday",
        /// BambooHR.
        BambooHr => "bamboohr",
    }
);

impl Provider {
    /// The kind of integration this provider serves.
    pub fn kind(self) -> IntegrationKind {
        match self {
            Provider::LinkedIn => IntegrationKind::LinkedIn,
            Provider::Google | Provider::Microsoft => IntegrationKind::Calendar,
            Provider::Greenhouse | Provider::Lever | Provider::Workday | Provider::BambooHr => {
                IntegrationKind::Ats
            }
        }
    }
}

stored_enum!(
    /// Health of one connection.
    ConnectionState {
        /// Working.
        Connected => "connected",
        /// The provider refuses our credentials; the owner must reconnect.
        NeedsReauth => "needs_reauth",
        /// Failing for another reason.
        Error => "error",
        /// Switched off.
        Disabled => "disabled",
        /// Working, but the token expires soon and cannot be refreshed.
        Expiring => "expiring",
    }
);

stored_enum!(
    /// Outcome of one activity.
    ActivityStatus {
        /// It worked.
        Success => "success",
        /// It failed.
        Failure => "failure",
        /// It started and has not finished.
        Pending => "pending",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_names_round_trip() {
        for p in Provider::ALL {
            assert_eq!(Provider::parse(p.as_str()), Some(*p));
        }
        for s in ConnectionState::ALL {
            assert_eq!(ConnectionState::parse(s.as_str()), Some(*s));
        }
        assert_eq!(Provider::parse("LinkedIn"), None);
        assert_eq!(Provider::Lever.kind(), IntegrationKind::Ats);
    }
}
