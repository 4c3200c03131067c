//! Privacy holds against races: a section switched off while a sync or a
//! reconnect that fetched it is in flight is not stored, not reported as
//! changed, and the switch is not undone. The sandbox holds LinkedIn's answer
//! for the section until the test has changed the settings.

use std::time::Duration;

use nextke_integrations::proto::{self, SyncLinkedInProfileRequest, UpdateLinkedInSettingsRequest};
use nextke_sandbox::linkedin::{EEA_MEMBER_SUB, SNAPSHOT_PATH};

use crate::{
    db_tests,
    helpers::{authed, token, Backend},
    linkedin::{browser, eea_rig, Li},
};

fn sections(list: &[i32]) -> Vec<proto::LinkedInSection> {
    list.iter()
        .map(|s| proto::LinkedInSection::try_from(*s).expect("known section"))
        .collect()
}

/// Skills are off and none are stored, in the answer and in the database.
async fn assert_skills_off_and_gone(li: &Li, user: &str) {
    assert_eq!(
        li.count(
            "linkedin_profiles",
            "skills IS NULL AND sync_skills = false"
        )
        .await,
        1,
        "no skills stored, toggle off"
    );
    let view = li.profile(user).await.expect("profile");
    assert!(!view.privacy.expect("privacy").sync_skills);
    assert!(view.profile.expect("profile").skills.is_empty());
    assert!(
        !view
            .synced_sections
            .iter()
            .any(|s| s.section() == proto::LinkedInSection::Skills),
        "skills not listed as synced"
    );
}

async fn a_section_switched_off_during_a_sync_is_not_stored(backend: Backend) {
    let li = eea_rig(backend).await;
    li.connect("eve").await;
    // LinkedIn has a new skill: this sync has skills to write
    li.sandbox
        .update_member(EEA_MEMBER_SUB, |m| m.skills.push("Rust".to_owned()));
    let hold = li
        .handle
        .faults
        .hold_next(SNAPSHOT_PATH, Some("domain=SKILLS"));
    li.forget_manual_sync().await;
    let mut client = li.client().await;
    let sync = tokio::spawn(async move {
        client
            .sync_linked_in_profile(authed(SyncLinkedInProfileRequest {}, &token("eve", &[])))
            .await
    });
    assert!(
        hold.seen(Duration::from_secs(10)).await,
        "the sync asked LinkedIn for skills"
    );
    let updated = tokio::time::timeout(
        Duration::from_secs(10),
        li.settings(
            "eve",
            UpdateLinkedInSettingsRequest {
                sync_skills: Some(false),
                ..Default::default()
            },
        ),
    )
    .await
    .expect("settings are not blocked by a sync waiting for LinkedIn")
    .expect("settings");
    assert!(sections(&updated.deleted_sections).contains(&proto::LinkedInSection::Skills));
    hold.release();
    let report = sync
        .await
        .expect("task")
        .expect("the sync succeeds")
        .into_inner();
    assert!(
        !sections(&report.changed_sections).contains(&proto::LinkedInSection::Skills),
        "skills not reported as changed: {:?}",
        sections(&report.changed_sections)
    );
    assert_skills_off_and_gone(&li, "eve").await;
    li.app.stop().await;
}

async fn a_reconnect_keeps_settings_changed_meanwhile(backend: Backend) {
    let li = eea_rig(backend).await;
    li.connect("eve").await;
    // LinkedIn has news for the reconnect to store, skills among them
    li.sandbox.update_member(EEA_MEMBER_SUB, |m| {
        m.profile.headline = "Staff Engineer".to_owned();
        m.skills.push("Rust".to_owned());
    });
    let hold = li
        .handle
        .faults
        .hold_next(SNAPSHOT_PATH, Some("domain=SKILLS"));
    let started = li.start("eve").await;
    let reconnect = tokio::spawn(async move {
        browser()
            .get(&started.authorization_url)
            .send()
            .await
            .map(|r| r.url().clone())
    });
    assert!(
        hold.seen(Duration::from_secs(10)).await,
        "the reconnect asked LinkedIn for skills"
    );
    let updated = tokio::time::timeout(
        Duration::from_secs(10),
        li.settings(
            "eve",
            UpdateLinkedInSettingsRequest {
                sync_skills: Some(false),
                frequency: proto::SyncFrequency::Manual.into(),
                ..Default::default()
            },
        ),
    )
    .await
    .expect("settings are not blocked by a reconnect waiting for LinkedIn")
    .expect("settings");
    assert!(updated.next_sync_at.is_none());
    hold.release();
    let landed = reconnect.await.expect("task").expect("browse");
    assert!(landed.as_str().contains("linkedin=connected"), "{landed}");
    assert_skills_off_and_gone(&li, "eve").await;
    let view = li.profile("eve").await.expect("profile");
    assert_eq!(view.frequency(), proto::SyncFrequency::Manual);
    assert!(view.next_sync_at.is_none(), "manual stays manual");
    let profile = view.profile.expect("profile");
    assert_eq!(
        profile.headline, "Staff Engineer",
        "the reconnect stored what is still on"
    );
    assert!(!profile.experience.is_empty());
    li.app.stop().await;
}

db_tests!(
    a_section_switched_off_during_a_sync_is_not_stored,
    a_reconnect_keeps_settings_changed_meanwhile,
);
