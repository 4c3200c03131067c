//! Reading and changing the Greenhouse sandbox's jobs and job posts from
//! tests and benches. Every change bumps `updated_at`, as Greenhouse does,
//! so an incremental sync (`updated_at=gte|...`) sees it.

use super::data::{bump, Job, JobStatus};
use super::generate::{generate_with, Pools};
use super::posts::JobPost;
use super::webhooks::GreenhouseWebhook;
use super::GreenhouseSandbox;

impl GreenhouseSandbox {
    /// Replace every job and post with `n` generated ones (indexes `0..n`,
    /// see [`generate`](super::generate)), each post's content about
    /// `content_bytes` long. 100,000 jobs take well under a second in a
    /// release build.
    pub fn seed_jobs(&self, n: usize, content_bytes: usize) {
        let pools = Pools::new();
        let mut jobs = Vec::with_capacity(n);
        let mut posts = Vec::with_capacity(n);
        for index in 0..n as u64 {
            let (job, post) = generate_with(&pools, index, content_bytes);
            jobs.push((job.id, job));
            posts.push((post.id, post));
        }
        let mut store = self.inner.store.write();
        store.jobs = jobs.into_iter().collect();
        store.posts = posts.into_iter().collect();
        store.next_index = n as u64;
        store.content_bytes = content_bytes;
    }

    /// Generate the next job and its post (the index after the last seeded
    /// or added one), store them, and return the job id.
    pub fn add_job(&self) -> u64 {
        let mut store = self.inner.store.write();
        let index = store.next_index;
        let (mut job, mut post) = generate_with(&Pools::new(), index, store.content_bytes);
        let now = bump(job.updated_at);
        job.updated_at = now;
        post.updated_at = now;
        store.next_index += 1;
        let id = job.id;
        store.jobs.insert(id, job);
        store.posts.insert(post.id, post);
        id
    }

    /// How many jobs are stored.
    pub fn job_count(&self) -> usize {
        self.inner.store.read().jobs.len()
    }

    /// How many job posts are stored (deleted ones, `active: false`, included).
    pub fn job_post_count(&self) -> usize {
        self.inner.store.read().posts.len()
    }

    /// One job.
    pub fn job(&self, id: u64) -> Option<Job> {
        self.inner.store.read().jobs.get(&id).cloned()
    }

    /// One job post.
    pub fn job_post(&self, id: u64) -> Option<JobPost> {
        self.inner.store.read().posts.get(&id).cloned()
    }

    /// The active post of a job.
    pub fn post_of_job(&self, job_id: u64) -> Option<JobPost> {
        self.inner.store.read().post_of(job_id).cloned()
    }

    /// Every job id, ascending.
    pub fn job_ids(&self) -> Vec<u64> {
        self.inner.store.read().jobs.keys().copied().collect()
    }

    /// Insert or replace a job by its id (stored as given, `updated_at` included).
    pub fn upsert_job(&self, job: Job) {
        self.inner.store.write().jobs.insert(job.id, job);
    }

    /// Change a job in place and bump its `updated_at`; `false` if unknown.
    pub fn update_job(&self, id: u64, change: impl FnOnce(&mut Job)) -> bool {
        let mut store = self.inner.store.write();
        let Some(job) = store.jobs.get_mut(&id) else {
            return false;
        };
        let before = job.updated_at;
        change(job);
        job.updated_at = bump(before);
        true
    }

    /// Close a job (`status: closed`, `closed_at` now, openings closed) and
    /// take its posts off the boards (`live: false`).
    pub fn close_job(&self, id: u64) -> bool {
        let closed = self.update_job(id, |job| {
            let now = chrono::Utc::now();
            job.status = JobStatus::Closed;
            job.closed_at = Some(now);
            for o in &mut job.openings {
                o.open = false;
                o.closed_at = Some(now);
            }
        });
        if closed {
            let mut store = self.inner.store.write();
            for post in store
                .posts
                .values_mut()
                .filter(|p| p.job_id == Some(id) && p.live)
            {
                post.live = false;
                post.updated_at = bump(post.updated_at);
            }
        }
        closed
    }

    /// Delete a job and its posts, as Greenhouse does; the deleted job.
    pub fn delete_job(&self, id: u64) -> Option<Job> {
        let mut store = self.inner.store.write();
        let job = store.jobs.remove(&id)?;
        store.posts.retain(|_, p| p.job_id != Some(id));
        Some(job)
    }

    /// Insert or replace a job post by its id.
    pub fn upsert_job_post(&self, post: JobPost) {
        self.inner.store.write().posts.insert(post.id, post);
    }

    /// Change a job post in place and bump its `updated_at`; `false` if unknown.
    pub fn update_job_post(&self, id: u64, change: impl FnOnce(&mut JobPost)) -> bool {
        let mut store = self.inner.store.write();
        let Some(post) = store.posts.get_mut(&id) else {
            return false;
        };
        let before = post.updated_at;
        change(post);
        post.updated_at = bump(before);
        true
    }

    /// Take a post off the boards (`live: false`).
    pub fn close_job_post(&self, id: u64) -> bool {
        self.update_job_post(id, |p| p.live = false)
    }

    /// Delete a post: Harvest keeps it with `active: false` (documented:
    /// "If false, this job post has been deleted"); it leaves the boards.
    pub fn delete_job_post(&self, id: u64) -> bool {
        self.update_job_post(id, |p| {
            p.active = false;
            p.live = false;
        })
    }

    /// The webhook Greenhouse would send for `action` (`job_created`,
    /// `job_updated`, `job_deleted`) about this job as stored now.
    pub fn job_webhook(&self, action: &str, job_id: u64) -> Option<GreenhouseWebhook> {
        let store = self.inner.store.read();
        let job = store.jobs.get(&job_id)?;
        let post_id = store.post_of(job_id).map(|p| p.id);
        Some(match action {
            "job_created" => GreenhouseWebhook::job_created(job, post_id),
            "job_deleted" => GreenhouseWebhook::job_deleted(job.id, &job.name),
            _ => GreenhouseWebhook::job_updated(job, post_id),
        })
    }

    /// The webhook for `action` (`job_post_created`, `job_post_updated`,
    /// `job_post_deleted`) about this post as stored now.
    pub fn job_post_webhook(&self, action: &str, post_id: u64) -> Option<GreenhouseWebhook> {
        let store = self.inner.store.read();
        let post = store.posts.get(&post_id)?;
        Some(match action {
            "job_post_created" => GreenhouseWebhook::job_post_created(post),
            "job_post_deleted" => GreenhouseWebhook::job_post_deleted(post),
            _ => GreenhouseWebhook::job_post_updated(post),
        })
    }
}
