//! The vocabulary at the bottom of the crate: small enums shared by every
//! layer (providers, integration kinds, connection states, activity names and
//! outcomes, job states) with their stored names.
//!
//! Each is a SeaORM string-backed enum (`DeriveActiveEnum`), so entities hold
//! the enum itself and a stored name no variant knows fails as a type error
//! when the row is read; the column stays a plain string, so no data migration.
//! `oauth/`, `store/` and `jobs/` use these without importing `domain/`.

use std::fmt;

use sea_orm::entity::prelude::*;

/// Declares a stored enum: its SeaORM `db_type` (a string as long as the
/// column), the variants and their stored names.
macro_rules! stored_enum {
    ($(#[$meta:meta])* $name:ident($db_type:literal) { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
        #[sea_orm(rs_type = "String", db_type = $db_type)]
        pub enum $name { $($(#[$vmeta])* #[sea_orm(string_value = $text)] $variant),+ }

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
    IntegrationKind("String(StringLen::N(32))") {
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
    Provider("String(StringLen::N(32))") {
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
    ConnectionState("String(StringLen::N(16))") {
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
    ActivityStatus("String(StringLen::N(16))") {
        /// It worked.
        Success => "success",
        /// It failed.
        Failure => "failure",
        /// It started and has not finished.
        Pending => "pending",
    }
);

stored_enum!(
    /// What an audited activity was (`integration_activity_logs.activity`).
    ActivityName("String(StringLen::N(64))") {
        /// A connection was made (or its callback failed).
        OAuthConnect => "oauth.connect",
        /// A connection was removed.
        OAuthDisconnect => "oauth.disconnect",
        /// A token was refreshed (or the refresh failed).
        TokenRefresh => "token.refresh",
        /// The owner was warned that access expires soon.
        TokenExpiring => "token.expiring",
        /// The owner was told that access has expired.
        TokenExpired => "token.expired",
        /// A LinkedIn profile sync ran.
        ProfileSync => "profile.sync",
        /// Sync settings changed.
        SettingsUpdate => "settings.update",
        /// A calendar event was created.
        EventCreate => "event.create",
        /// An ATS job sync ran.
        JobsSync => "jobs.sync",
        /// An ATS integration was created (or its credentials failed the check).
        AtsConnect => "ats.connect",
        /// An ATS integration's settings or credentials changed.
        AtsUpdate => "ats.update",
        /// An ATS integration was deleted.
        AtsDisconnect => "ats.disconnect",
        /// A webhook secret was rotated.
        WebhookRotate => "webhook.rotate",
        /// A webhook delivery was refused (bad signature, stale, replayed).
        WebhookReject => "webhook.reject",
        /// A stored webhook delivery was processed.
        WebhookProcess => "webhook.process",
        /// An application was sent to the ATS (or the ATS refused it).
        ApplicationSubmit => "application.submit",
    }
);

stored_enum!(
    /// Whether a job post takes applications (`job_posts.status`).
    JobPostStatus("String(StringLen::N(16))") {
        /// Open for applications.
        Open => "open",
        /// Closed at the ATS, missing from its listing, or its integration deleted.
        Closed => "closed",
        /// Not yet published.
        Draft => "draft",
    }
);

stored_enum!(
    /// Where the work of a job post is done (`job_posts.workplace_type`).
    WorkplaceType("String(StringLen::N(16))") {
        /// Not said.
        Unspecified => "unspecified",
        /// At the employer's site.
        OnSite => "on_site",
        /// Anywhere.
        Remote => "remote",
        /// Partly remote.
        Hybrid => "hybrid",
    }
);

stored_enum!(
    /// Where an ATS sync run is (`ats_sync_runs.state`).
    SyncRunState("String(StringLen::N(16))") {
        /// Being run (or stopped by a crash, until its lease runs out).
        Running => "running",
        /// Finished with every page.
        Succeeded => "succeeded",
        /// Stopped by an error; the next run resumes from its last page.
        Failed => "failed",
    }
);

stored_enum!(
    /// What started an ATS sync run (`ats_sync_runs.trigger`).
    SyncTrigger("String(StringLen::N(16))") {
        /// `SyncAtsJobs`.
        Manual => "manual",
        /// The integration's interval.
        Scheduled => "scheduled",
        /// The first sync after connecting.
        Connect => "connect",
    }
);

stored_enum!(
    /// Where an application stands (`applications.status`).
    ApplicationStatus("String(StringLen::N(16))") {
        /// Received; for an ATS post, not yet accepted by the ATS.
        Submitted => "submitted",
        /// In the ATS's process.
        Active => "active",
        /// Rejected.
        Rejected => "rejected",
        /// Hired.
        Hired => "hired",
    }
);

stored_enum!(
    /// Whether an application reached its ATS (`ats_application_syncs.state`).
    ApplicationSyncState("String(StringLen::N(16))") {
        /// Being sent, with retries.
        Pending => "pending",
        /// Accepted by the ATS.
        Synced => "synced",
        /// Refused by the ATS.
        Failed => "failed",
    }
);

stored_enum!(
    /// Where a status change came from (`application_status_history.source`).
    StatusSource("String(StringLen::N(16))") {
        /// Submitted on Next_KE.
        Platform => "platform",
        /// The ATS's answer to our call.
        Api => "api",
        /// A verified webhook (confirmed by the API where the body is a hint).
        Webhook => "webhook",
        /// A poll of the ATS.
        Poll => "poll",
    }
);

stored_enum!(
    /// Where a stored webhook delivery is (`webhook_deliveries.state`).
    WebhookState("String(StringLen::N(16))") {
        /// Stored and acknowledged; its processing job is queued.
        Pending => "pending",
        /// Processed: what it said was applied.
        Processed => "processed",
        /// Stored and acknowledged; an event we do not act on.
        Ignored => "ignored",
        /// Processing failed every attempt.
        Failed => "failed",
    }
);

stored_enum!(
    /// Where a background job is in its life (`jobs.state`).
    JobState("String(StringLen::N(16))") {
        /// Waiting for its run time or a worker.
        Pending => "pending",
        /// Claimed by a worker whose lease has not ended.
        Running => "running",
        /// Done; pruned after the retention.
        Completed => "completed",
        /// Failed every allowed attempt; kept with its last error until retried.
        Dead => "dead",
    }
);

#[cfg(test)]
mod tests {
    use sea_orm::ActiveEnum;

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
        for k in IntegrationKind::ALL {
            assert_eq!(IntegrationKind::try_from_value(&k.to_value()).unwrap(), *k);
            assert_eq!(k.to_value(), k.as_str());
        }
        for s in ActivityStatus::ALL {
            assert_eq!(
                ActivityStatus::try_from_value(&s.as_str().to_owned()).unwrap(),
                *s
            );
        }
        assert!(Provider::try_from_value(&"LinkedIn".to_owned()).is_err());
        for n in ActivityName::ALL {
            assert_eq!(ActivityName::parse(n.as_str()), Some(*n));
            assert!(n.as_str().len() <= 64, "fits the column");
        }
        for j in JobState::ALL {
            assert_eq!(JobState::try_from_value(&j.to_value()).unwrap(), *j);
        }
        assert_eq!(Provider::Lever.kind(), IntegrationKind::Ats);
    }
}
