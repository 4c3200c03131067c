//! What tests read of the received candidates and applications, and how
//! they move an application through the pipeline as a recruiter would in
//! Greenhouse. Each move answers the application as the matching webhook
//! carries it (`payload.application`), ready for
//! [`GreenhouseWebhook`](super::GreenhouseWebhook).

use chrono::Utc;
use serde_json::Value;

use super::records::{
    stage_named, Application, ApplicationStatus, Attachment, BoardApplication, Candidate,
};
use super::GreenhouseSandbox;

impl GreenhouseSandbox {
    /// Every candidate received (Harvest and Job Board), by id.
    pub fn candidates(&self) -> Vec<Candidate> {
        self.inner
            .records
            .lock()
            .candidates
            .values()
            .cloned()
            .collect()
    }

    /// Every application, by id.
    pub fn applications(&self) -> Vec<Application> {
        self.inner
            .records
            .lock()
            .applications
            .values()
            .cloned()
            .collect()
    }

    /// One application.
    pub fn application(&self, id: u64) -> Option<Application> {
        self.inner.records.lock().applications.get(&id).cloned()
    }

    /// Every attachment received, in order.
    pub fn attachments(&self) -> Vec<Attachment> {
        self.inner.records.lock().attachments.clone()
    }

    /// Every Job Board application received, in order.
    pub fn board_applications(&self) -> Vec<BoardApplication> {
        self.inner.records.lock().board_applications.clone()
    }

    /// The application in Harvest's shape (what `GET /v3/applications` answers).
    pub fn application_json(&self, id: u64) -> Option<Value> {
        let store = self.inner.store.read();
        let records = self.inner.records.lock();
        let app = records.applications.get(&id)?;
        let name = store.jobs.get(&app.job_id).map_or("", |j| j.name.as_str());
        Some(records.harvest_json(app, name))
    }

    /// The application as webhooks carry it (`payload.application`).
    pub fn application_webhook_json(&self, id: u64) -> Option<Value> {
        let store = self.inner.store.read();
        let records = self.inner.records.lock();
        let app = records.applications.get(&id)?;
        Some(records.webhook_json(app, store.jobs.get(&app.job_id)))
    }

    fn change(&self, id: u64, change: impl FnOnce(&mut Application) -> bool) -> Option<Value> {
        {
            let mut records = self.inner.records.lock();
            let app = records.applications.get_mut(&id)?;
            if !change(app) {
                return None;
            }
            app.last_activity_at = Utc::now();
        }
        self.application_webhook_json(id)
    }

    /// Move an application to the stage with this name (see
    /// [`STAGES`](super::STAGES)); `None` for an unknown application or stage.
    pub fn set_stage(&self, application_id: u64, stage_name: &str) -> Option<Value> {
        let stage = stage_named(stage_name)?;
        self.change(application_id, |app| {
            app.stage = stage;
            true
        })
    }

    /// Reject: `status: rejected`, `rejected_at` now, a rejection reason.
    pub fn reject(&self, application_id: u64) -> Option<Value> {
        self.change(application_id, |app| {
            app.status = ApplicationStatus::Rejected;
            app.rejected_at = Some(Utc::now());
            true
        })
    }

    /// Unreject: `status: active`, `rejected_at: null`.
    pub fn unreject(&self, application_id: u64) -> Option<Value> {
        self.change(application_id, |app| {
            app.status = ApplicationStatus::Active;
            app.rejected_at = None;
            true
        })
    }

    /// Hire: `status: hired` (use
    /// [`GreenhouseWebhook::hire_candidate`](super::GreenhouseWebhook::hire_candidate)
    /// for the webhook, which leaves `status` out as documented).
    pub fn hire(&self, application_id: u64) -> Option<Value> {
        self.change(application_id, |app| {
            app.status = ApplicationStatus::Hired;
            true
        })
    }
}
