//! What makes webhook ingest fast without giving anything up:
//!
//! - **Keys cache.** An integration's row and opened webhook secrets are kept
//!   for [`KEYS_TTL`] (never past the previous secret's grace period), so a
//!   delivery does not read two rows and open two sealed values. A rotation
//!   or a delete in this process drops the entry at once; other replicas see
//!   a change within the TTL (a new secret takes effect at the provider only
//!   after an admin enters it there, which takes longer, and the old one
//!   keeps verifying during its grace period).
//! - **Group commit.** Verified deliveries are written by one writer task,
//!   which takes every delivery waiting (up to [`BATCH`]) and stores them and
//!   their processing jobs in one transaction: one insert of deliveries
//!   (`ON CONFLICT (integration_id, dedupe_key) DO NOTHING`, so a duplicate
//!   is simply not inserted) and one of jobs. Each caller is answered after
//!   its delivery's transaction committed, so nothing is acknowledged before
//!   it is durable.

use std::{
    collections::HashSet,
    sync::Arc,
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use dashmap::DashMap;
use sea_orm::{
    sea_query::OnConflict, DatabaseConnection, EntityTrait, IntoActiveModel, TransactionTrait,
};
use secrecy::SecretString;
use tokio::sync::{mpsc, oneshot, OnceCell};

use crate::{
    error::{AppError, Result},
    jobs::{enqueue_many, NewJob},
    store::{
        ats_integrations::AtsIntegrationRow, entities::webhook_deliveries as deliveries,
        webhook_deliveries::DeliveryRow,
    },
};

/// Longest an integration's keys are trusted from the cache.
pub const KEYS_TTL: Duration = Duration::from_secs(2);
/// Most deliveries written in one transaction.
pub const BATCH: usize = 256;
/// Deliveries waiting for the writer before callers wait to queue.
const QUEUE: usize = 4 * BATCH;
/// Entries kept before the cache starts over.
const MAX_KEYS: usize = 100_000;

/// An integration as ingest needs it.
pub struct Keys {
    pub integration: AtsIntegrationRow,
    /// The current secret, and the previous during its grace period.
    pub secrets: Vec<SecretString>,
}

struct Pending {
    row: DeliveryRow,
    job: NewJob,
    reply: oneshot::Sender<std::result::Result<bool, String>>,
}

/// The keys cache and the delivery writer of one process.
#[derive(Default)]
pub struct WebhookIntake {
    keys: DashMap<String, (Arc<Keys>, Instant)>,
    writer: OnceCell<mpsc::Sender<Pending>>,
}

impl std::fmt::Debug for WebhookIntake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookIntake")
            .field("cached", &self.keys.len())
            .finish_non_exhaustive()
    }
}

impl WebhookIntake {
    /// The cached keys of `integration_id`, if fresh.
    pub fn cached(&self, integration_id: &str) -> Option<Arc<Keys>> {
        let entry = self.keys.get(integration_id)?;
        let (keys, until) = entry.value();
        (Instant::now() < *until).then(|| keys.clone())
    }

    /// Caches keys read now; `previous_until` bounds the entry's life.
    pub fn remember(&self, keys: Keys, previous_until: Option<DateTime<Utc>>) -> Arc<Keys> {
        if self.keys.len() >= MAX_KEYS {
            self.keys.clear();
        }
        let mut ttl = KEYS_TTL;
        if let Some(until) = previous_until {
            let left = (until - Utc::now()).to_std().unwrap_or_default();
            if left > Duration::ZERO {
                ttl = ttl.min(left);
            }
        }
        let keys = Arc::new(keys);
        self.keys.insert(
            keys.integration.id.clone(),
            (keys.clone(), Instant::now() + ttl),
        );
        keys
    }

    /// Drops an integration's cached keys (its secret rotated, it was deleted).
    pub fn forget(&self, integration_id: &str) {
        self.keys.remove(integration_id);
    }

    /// Stores a delivery with its job; `true` when stored, `false` when its
    /// key was stored before. Answers after the commit.
    pub async fn store(
        &self,
        db: &DatabaseConnection,
        row: DeliveryRow,
        job: NewJob,
    ) -> Result<bool> {
        let writer = self
            .writer
            .get_or_init(|| async {
                let (tx, rx) = mpsc::channel(QUEUE);
                tokio::spawn(write_loop(db.clone(), rx));
                tx
            })
            .await;
        let (reply, answer) = oneshot::channel();
        writer
            .send(Pending { row, job, reply })
            .await
            .map_err(|_| AppError::Unavailable("the webhook writer stopped".to_owned()))?;
        match answer.await {
            Ok(Ok(stored)) => Ok(stored),
            Ok(Err(message)) => Err(AppError::Unavailable(message)),
            Err(_) => Err(AppError::Unavailable(
                "the webhook writer stopped".to_owned(),
            )),
        }
    }
}

async fn write_loop(db: DatabaseConnection, mut rx: mpsc::Receiver<Pending>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        // a busy database (SQLite's one writer) is waited for, a few times
        let mut attempt = 0;
        let written = loop {
            let rows: Vec<DeliveryRow> = batch.iter().map(|p| p.row.clone()).collect();
            let jobs = batch
                .iter()
                .map(|p| (p.row.id.clone(), p.job.clone()))
                .collect();
            match write(&db, rows, jobs).await {
                Err(err) if attempt < 5 => {
                    attempt += 1;
                    tracing::debug!(error = %err, attempt, "webhook batch not stored, retrying");
                    tokio::time::sleep(Duration::from_millis(20 << attempt)).await;
                }
                other => break other,
            }
        };
        match written {
            Ok(inserted) => {
                for pending in batch {
                    let stored = inserted.contains(&pending.row.id);
                    let _ = pending.reply.send(Ok(stored));
                }
            }
            Err(err) => {
                tracing::warn!(error = %err, deliveries = batch.len(), "webhook deliveries not stored");
                for pending in batch {
                    let _ = pending
                        .reply
                        .send(Err("the delivery could not be stored".to_owned()));
                }
            }
        }
    }
}

/// One transaction: the deliveries not seen before, and the jobs of those.
async fn write(
    db: &DatabaseConnection,
    rows: Vec<DeliveryRow>,
    jobs: Vec<(String, NewJob)>,
) -> std::result::Result<HashSet<String>, sea_orm::DbErr> {
    let txn = db.begin().await?;
    let inserted: HashSet<String> = match deliveries::Entity::insert_many(
        rows.into_iter().map(IntoActiveModel::into_active_model),
    )
    .on_conflict(
        OnConflict::columns([
            deliveries::Column::IntegrationId,
            deliveries::Column::DedupeKey,
        ])
        .do_nothing()
        .to_owned(),
    )
    .do_nothing()
    .exec_with_returning_keys(&txn)
    .await?
    {
        sea_orm::TryInsertResult::Inserted(keys) => keys.into_iter().collect(),
        _ => HashSet::new(),
    };
    let jobs: Vec<NewJob> = jobs
        .into_iter()
        .filter(|(id, _)| inserted.contains(id))
        .map(|(_, job)| job)
        .collect();
    if !jobs.is_empty() {
        enqueue_many(&txn, jobs).await?;
    }
    txn.commit().await?;
    Ok(inserted)
}
