//! Greenhouse Harvest v3 (`https://harvest.greenhouse.io/v3/`, a bearer token
//! from the client-credentials grant at `auth.greenhouse.io`, acting as the
//! token's `sub` user) and the Job Board API (`boards-api.greenhouse.io`).
//!
//! Pages follow the `Link` header's `rel="next"` URL exactly as given
//! (Greenhouse refuses a cursor with any other parameter), and only on
//! Harvest's own origin, so the token goes nowhere else. The budget comes
//! from Greenhouse's headers: once `X-RateLimit-Remaining` says 0 the
//! connection's budget pauses until `X-RateLimit-Reset` (or a second), and a
//! `429` waits its `Retry-After` in the shared client.
//!
//! What is not verified (`docs/providers/greenhouse.md`): the v3 objects
//! (v1's shapes are read), list bodies (arrays, or `{data: [...]}`), and the
//! v3 write bodies (v1's).

use std::time::Duration;

use base64::Engine;
use secrecy::SecretString;
use serde_json::{json, Value};
use url::Url;

use super::{
    http::{OutboundHttp, ProviderCall, ProviderError, ProviderResponse},
    rest::{basic_key, bearer, endpoint, same_origin},
};

/// The provider's name in budgets, breakers and metrics.
pub const PROVIDER: &str = "greenhouse";

/// Scopes a Harvest client needs for what we do.
pub const SCOPES: &[&str] = &[
    "harvest:jobs:list",
    "harvest:job_posts:list",
    "harvest:applications:list",
    "harvest:candidates:create",
    "harvest:applications:create",
    "harvest:attachments:create",
];

/// One page of jobs.
#[derive(Debug)]
pub struct JobsPage {
    pub jobs: Vec<Value>,
    /// The next page's URL, as Greenhouse gave it; `None` on the last.
    pub next: Option<String>,
}

/// A candidate and their application, as sent.
#[derive(Clone, Debug)]
pub struct NewApplication<'a> {
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub email: &'a str,
    pub phone: &'a str,
    pub linkedin_url: &'a str,
    pub job_id: &'a str,
    /// `(file name, content type, bytes)`.
    pub resume: Option<(&'a str, &'a str, &'a [u8])>,
    pub cover_letter: &'a str,
}

/// What Greenhouse says of an application.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApplicationState {
    pub id: String,
    pub candidate_id: Option<String>,
    /// `active`, `rejected`, `hired`, `converted`.
    pub status: Option<String>,
    /// The current stage's name.
    pub stage: Option<String>,
}

/// Harvest v3 and the Job Board API.
#[derive(Clone, Debug)]
pub struct GreenhouseClient {
    http: OutboundHttp,
    harvest: Url,
    boards: Url,
}

/// The `rel="next"` URL of an RFC 8288 `Link` header.
pub fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|link| {
        let (target, params) = link.trim().split_once(';')?;
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        let is_next = params.split(';').any(|p| {
            let p = p.trim().to_ascii_lowercase();
            p == "rel=\"next\"" || p == "rel=next"
        });
        (is_next && !target.is_empty()).then(|| target.to_owned())
    })
}

/// A list body: a JSON array, or an object holding one under `data`.
fn list_of(response: &ProviderResponse) -> Result<Vec<Value>, ProviderError> {
    match response.json::<Value>()? {
        Value::Array(items) => Ok(items),
        Value::Object(mut map) => match map.remove("data") {
            Some(Value::Array(items)) => Ok(items),
            _ => Err(ProviderError::Decode {
                message: "no list in the answer".to_owned(),
            }),
        },
        _ => Err(ProviderError::Decode {
            message: "no list in the answer".to_owned(),
        }),
    }
}

fn id_of(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

fn read_application(value: &Value) -> Option<ApplicationState> {
    Some(ApplicationState {
        id: id_of(value.get("id"))?,
        candidate_id: id_of(value.get("candidate_id")),
        status: value
            .get("status")
            .and_then(Value::as_str)
            .map(str::to_owned),
        stage: value
            .get("current_stage")
            .and_then(|s| s.get("name"))
            .and_then(Value::as_str)
            .map(str::to_owned),
    })
}

fn split_name(first: &str, last: &str) -> (String, String) {
    (first.trim().to_owned(), last.trim().to_owned())
}

impl GreenhouseClient {
    /// A client of Harvest at `harvest` and the Job Board API at `boards`.
    pub fn new(http: OutboundHttp, harvest: Url, boards: Url) -> Self {
        Self {
            http,
            harvest,
            boards,
        }
    }

    /// Reads the budget Greenhouse announced: none left pauses the key.
    fn observe_budget(&self, budget_key: &str, response: &ProviderResponse) {
        let remaining = response
            .header("x-ratelimit-remaining")
            .and_then(|v| v.trim().parse::<u64>().ok());
        if remaining == Some(0) {
            let now = chrono::Utc::now().timestamp();
            let wait = response
                .header("x-ratelimit-reset")
                .and_then(|v| v.trim().parse::<i64>().ok())
                .map(|reset| Duration::from_secs(reset.saturating_sub(now).clamp(1, 60) as u64))
                .unwrap_or(Duration::from_secs(1));
            self.http.pause_budget(PROVIDER, Some(budget_key), wait);
        }
    }

    async fn get_url(
        &self,
        token: &SecretString,
        budget_key: &str,
        operation: &'static str,
        url: Url,
    ) -> Result<ProviderResponse, ProviderError> {
        let client = self.http.client();
        let call = ProviderCall::idempotent(PROVIDER, operation).with_credential(budget_key);
        let response = self
            .http
            .send(call, || {
                client
                    .get(url.clone())
                    .header("authorization", bearer(token))
                    .header("accept", "application/json")
            })
            .await?;
        self.observe_budget(budget_key, &response);
        Ok(response)
    }

    fn harvest_url(&self, segments: &[&str], query: &[(&str, &str)]) -> Result<Url, ProviderError> {
        let mut url = endpoint(PROVIDER, &self.harvest, &[&["v3"], segments].concat())?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        Ok(url)
    }

    /// One page of jobs: the first (`GET /v3/jobs?per_page=`) or the one at
    /// `next`, a URL an earlier page gave.
    pub async fn jobs_page(
        &self,
        token: &SecretString,
        budget_key: &str,
        next: Option<&str>,
        per_page: u32,
    ) -> Result<JobsPage, ProviderError> {
        let url = match next {
            Some(next) => {
                let url = Url::parse(next).map_err(|_| ProviderError::InvalidRequest {
                    provider: PROVIDER.to_owned(),
                    message: "the next page link is not a url",
                })?;
                if !same_origin(&self.harvest, &url) {
                    return Err(ProviderError::InvalidRequest {
                        provider: PROVIDER.to_owned(),
                        message: "the next page link leaves harvest",
                    });
                }
                url
            }
            None => {
                let per_page = per_page.clamp(1, 500).to_string();
                self.harvest_url(&["jobs"], &[("per_page", &per_page)])?
            }
        };
        let response = self.get_url(token, budget_key, "jobs", url).await?;
        let next = response.header("link").and_then(next_link);
        Ok(JobsPage {
            jobs: list_of(&response)?,
            next,
        })
    }

    /// Jobs by id (`GET /v3/jobs?ids=`).
    pub async fn jobs_by_id(
        &self,
        token: &SecretString,
        budget_key: &str,
        ids: &[String],
    ) -> Result<Vec<Value>, ProviderError> {
        let ids = ids.join(",");
        let url = self.harvest_url(&["jobs"], &[("ids", &ids), ("per_page", "500")])?;
        let response = self.get_url(token, budget_key, "jobs", url).await?;
        list_of(&response)
    }

    /// The job posts of these jobs (`GET /v3/job_posts?job_ids=`, every page).
    pub async fn posts_of_jobs(
        &self,
        token: &SecretString,
        budget_key: &str,
        job_ids: &[String],
    ) -> Result<Vec<Value>, ProviderError> {
        if job_ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids = job_ids.join(",");
        let mut url =
            self.harvest_url(&["job_posts"], &[("job_ids", &ids), ("per_page", "500")])?;
        let mut posts = Vec::new();
        for _ in 0..100 {
            let response = self.get_url(token, budget_key, "job_posts", url).await?;
            posts.extend(list_of(&response)?);
            match response.header("link").and_then(next_link) {
                Some(next) => {
                    url = Url::parse(&next)
                        .ok()
                        .filter(|u| same_origin(&self.harvest, u))
                        .ok_or(ProviderError::InvalidRequest {
                            provider: PROVIDER.to_owned(),
                            message: "the next page link leaves harvest",
                        })?;
                }
                None => break,
            }
        }
        Ok(posts)
    }

    /// One application (`GET /v3/applications?ids=`); `None` when gone.
    pub async fn application(
        &self,
        token: &SecretString,
        budget_key: &str,
        id: &str,
    ) -> Result<Option<ApplicationState>, ProviderError> {
        let url = self.harvest_url(&["applications"], &[("ids", id)])?;
        let response = self.get_url(token, budget_key, "applications", url).await?;
        Ok(list_of(&response)?
            .iter()
            .filter_map(read_application)
            .find(|a| a.id == id))
    }

    async fn post_json(
        &self,
        token: &SecretString,
        budget_key: &str,
        operation: &'static str,
        segments: &[&str],
        body: &Value,
    ) -> Result<Value, ProviderError> {
        let url = self.harvest_url(segments, &[])?;
        let client = self.http.client();
        let call = ProviderCall::non_idempotent(PROVIDER, operation).with_credential(budget_key);
        let response = self
            .http
            .send(call, || {
                client
                    .post(url.clone())
                    .header("authorization", bearer(token))
                    .json(body)
            })
            .await?;
        self.observe_budget(budget_key, &response);
        response.json()
    }

    /// Creates the candidate, their application to the job and the résumé
    /// attachment (`POST /v3/candidates`, `/v3/applications`,
    /// `/v3/attachments`). Each step is one call; the caller keeps the ids it
    /// got so a retry does not repeat a step that succeeded.
    pub async fn create_candidate(
        &self,
        token: &SecretString,
        budget_key: &str,
        new: &NewApplication<'_>,
    ) -> Result<String, ProviderError> {
        let (first, last) = split_name(new.first_name, new.last_name);
        let mut body = json!({
            "first_name": first,
            "last_name": last,
            "email_addresses": [{"value": new.email, "type": "personal"}],
        });
        if !new.phone.is_empty() {
            body["phone_numbers"] = json!([{"value": new.phone, "type": "mobile"}]);
        }
        if !new.linkedin_url.is_empty() {
            body["social_media_addresses"] = json!([{"value": new.linkedin_url}]);
        }
        let answer = self
            .post_json(
                token,
                budget_key,
                "create_candidate",
                &["candidates"],
                &body,
            )
            .await?;
        id_of(answer.get("id")).ok_or_else(|| ProviderError::Decode {
            message: "no candidate id in the answer".to_owned(),
        })
    }

    /// See [`Self::create_candidate`].
    pub async fn create_application(
        &self,
        token: &SecretString,
        budget_key: &str,
        candidate_id: &str,
        job_id: &str,
    ) -> Result<ApplicationState, ProviderError> {
        let as_number = |id: &str| {
            id.parse::<u64>()
                .map(Value::from)
                .unwrap_or_else(|_| Value::from(id))
        };
        let body = json!({ "candidate_id": as_number(candidate_id), "job_id": as_number(job_id) });
        let answer = self
            .post_json(
                token,
                budget_key,
                "create_application",
                &["applications"],
                &body,
            )
            .await?;
        read_application(&answer).ok_or_else(|| ProviderError::Decode {
            message: "no application id in the answer".to_owned(),
        })
    }

    /// See [`Self::create_candidate`].
    pub async fn attach(
        &self,
        token: &SecretString,
        budget_key: &str,
        application_id: &str,
        kind: &str,
        (filename, content_type, bytes): (&str, &str, &[u8]),
    ) -> Result<(), ProviderError> {
        let body = json!({
            "application_id": application_id.parse::<u64>().map(Value::from).unwrap_or_else(|_| Value::from(application_id)),
            "filename": filename,
            "type": kind,
            "content": base64::engine::general_purpose::STANDARD.encode(bytes),
            "content_type": content_type,
        });
        self.post_json(token, budget_key, "attach", &["attachments"], &body)
            .await
            .map(|_| ())
    }

    /// Checks a Job Board token (`GET /v1/boards/{token}`).
    pub async fn board(&self, board_token: &str) -> Result<(), ProviderError> {
        let url = endpoint(PROVIDER, &self.boards, &["v1", "boards", board_token])?;
        let client = self.http.client();
        let call = ProviderCall::idempotent(PROVIDER, "board");
        self.http
            .send(call, || client.get(url.clone()))
            .await
            .map(|_| ())
    }

    /// Applies through the Job Board (`POST /v1/boards/{token}/jobs/{post id}`,
    /// the board's API key as the Basic user name), multipart.
    pub async fn board_apply(
        &self,
        board_token: &str,
        api_key: &SecretString,
        post_id: &str,
        new: &NewApplication<'_>,
        answers: &[(String, String)],
    ) -> Result<(), ProviderError> {
        let url = endpoint(
            PROVIDER,
            &self.boards,
            &["v1", "boards", board_token, "jobs", post_id],
        )?;
        let auth = basic_key(api_key);
        let client = self.http.client();
        let call = ProviderCall::non_idempotent(PROVIDER, "board_apply");
        self.http
            .send(call, || {
                let mut form = reqwest::multipart::Form::new()
                    .text("first_name", new.first_name.to_owned())
                    .text("last_name", new.last_name.to_owned())
                    .text("email", new.email.to_owned());
                if !new.phone.is_empty() {
                    form = form.text("phone", new.phone.to_owned());
                }
                if !new.cover_letter.is_empty() {
                    form = form.text("cover_letter_text", new.cover_letter.to_owned());
                }
                for (name, value) in answers {
                    form = form.text(name.clone(), value.clone());
                }
                if let Some((name, content_type, bytes)) = new.resume {
                    let part = reqwest::multipart::Part::bytes(bytes.to_vec())
                        .file_name(name.to_owned())
                        .mime_str(content_type)
                        .unwrap_or_else(|_| reqwest::multipart::Part::bytes(bytes.to_vec()));
                    form = form.part("resume", part);
                }
                client
                    .post(url.clone())
                    .header("authorization", auth.clone())
                    .multipart(form)
            })
            .await
            .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_link_is_found_among_others() {
        assert_eq!(
            next_link(r#"<https://harvest.greenhouse.io/v3/jobs?cursor=abc>; rel="next""#),
            Some("https://harvest.greenhouse.io/v3/jobs?cursor=abc".to_owned())
        );
        assert_eq!(
            next_link(
                r#"<https://h/v3/jobs?cursor=p>; rel="prev", <https://h/v3/jobs?cursor=n>; rel="next""#
            ),
            Some("https://h/v3/jobs?cursor=n".to_owned())
        );
        assert_eq!(next_link(""), None);
        assert_eq!(next_link(r#"<https://h/x>; rel="last""#), None);
        assert_eq!(next_link("garbage"), None);
    }
}
