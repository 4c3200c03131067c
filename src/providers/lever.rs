//! Lever's Data API v1 (`https://api.lever.co/v1`, EU
//! `https://api.eu.lever.co/v1`): HTTP Basic with the API key as the user
//! name and an empty password. Lists take `limit` (1 to 100) and answer
//! `{data, hasNext, next}`; `next` goes back as `offset`. The budget is per
//! key (10 requests a second with bursts to 20, `LEVER_RATE_LIMIT_*`), spent
//! under the connection's id. Paths and shapes beyond the authentication are
//! third-party readings of Lever's reference (`docs/providers/lever.md`).

use secrecy::SecretString;
use serde_json::Value;
use url::Url;

use super::{
    http::{OutboundHttp, ProviderCall, ProviderError, ProviderResponse},
    rest::{basic_key, endpoint},
};

/// The provider's name in budgets, breakers and metrics.
pub const PROVIDER: &str = "lever";

/// Postings asked for per page (Lever's maximum).
pub const PAGE_SIZE: u32 = 100;

/// One page of postings.
#[derive(Debug)]
pub struct PostingsPage {
    pub postings: Vec<Value>,
    /// The `offset` of the next page; `None` on the last.
    pub next: Option<String>,
}

/// A candidate to create as an opportunity.
#[derive(Clone, Debug)]
pub struct NewOpportunity<'a> {
    pub name: String,
    pub email: &'a str,
    pub phone: &'a str,
    pub links: Vec<String>,
    pub posting_id: &'a str,
    /// `(file name, content type, bytes)`.
    pub resume: Option<(&'a str, &'a str, &'a [u8])>,
    pub comments: &'a str,
}

/// What Lever says of an opportunity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Opportunity {
    pub id: String,
    pub contact: Option<String>,
    /// The current stage's id.
    pub stage: Option<String>,
    /// The archive reason's id, when archived.
    pub archived_reason: Option<String>,
}

/// Lever's Data API, on the base URL of the account's environment.
#[derive(Clone, Debug)]
pub struct LeverClient {
    http: OutboundHttp,
}

fn data_list(response: &ProviderResponse) -> Result<(Vec<Value>, Option<String>), ProviderError> {
    let body: Value = response.json()?;
    let data = match body.get("data") {
        Some(Value::Array(items)) => items.clone(),
        _ => {
            return Err(ProviderError::Decode {
                message: "no data list in the answer".to_owned(),
            })
        }
    };
    let has_next = body
        .get("hasNext")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let next = body
        .get("next")
        .and_then(Value::as_str)
        .filter(|n| has_next && !n.is_empty() && n.len() <= 2048)
        .map(str::to_owned);
    Ok((data, next))
}

fn text(value: Option<&Value>) -> Option<String> {
    value
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

impl LeverClient {
    /// A client over the shared outbound HTTP.
    pub fn new(http: OutboundHttp) -> Self {
        Self { http }
    }

    async fn get(
        &self,
        base: &Url,
        key: &SecretString,
        budget_key: &str,
        operation: &'static str,
        segments: &[&str],
        query: &[(&str, &str)],
    ) -> Result<ProviderResponse, ProviderError> {
        let mut url = endpoint(PROVIDER, base, &[&["v1"], segments].concat())?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        let client = self.http.client();
        let call = ProviderCall::idempotent(PROVIDER, operation).with_credential(budget_key);
        self.http
            .send(call, || {
                client
                    .get(url.clone())
                    .header("authorization", basic_key(key))
                    .header("accept", "application/json")
            })
            .await
    }

    /// Checks the key: the users it can see (`GET /v1/users`), whose first
    /// is the default `perform_as`.
    pub async fn users(
        &self,
        base: &Url,
        key: &SecretString,
        budget_key: &str,
    ) -> Result<Vec<String>, ProviderError> {
        let response = self
            .get(
                base,
                key,
                budget_key,
                "users",
                &["users"],
                &[("limit", "100")],
            )
            .await?;
        let (users, _) = data_list(&response)?;
        Ok(users.iter().filter_map(|u| text(u.get("id"))).collect())
    }

    /// One page of postings (`GET /v1/postings?limit=100[&offset=]`), every state.
    pub async fn postings_page(
        &self,
        base: &Url,
        key: &SecretString,
        budget_key: &str,
        offset: Option<&str>,
    ) -> Result<PostingsPage, ProviderError> {
        let limit = PAGE_SIZE.to_string();
        let mut query = vec![("limit", limit.as_str())];
        if let Some(offset) = offset {
            query.push(("offset", offset));
        }
        let response = self
            .get(base, key, budget_key, "postings", &["postings"], &query)
            .await?;
        let (postings, next) = data_list(&response)?;
        Ok(PostingsPage { postings, next })
    }

    /// One posting; `None` when Lever has none by that id.
    pub async fn posting(
        &self,
        base: &Url,
        key: &SecretString,
        budget_key: &str,
        id: &str,
    ) -> Result<Option<Value>, ProviderError> {
        match self
            .get(base, key, budget_key, "posting", &["postings", id], &[])
            .await
        {
            Ok(response) => {
                let body: Value = response.json()?;
                Ok(body.get("data").cloned())
            }
            Err(ProviderError::Permanent { status: 404, .. }) => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// A posting's application form (`GET /v1/postings/{id}/apply`): its
    /// custom questions.
    pub async fn application_form(
        &self,
        base: &Url,
        key: &SecretString,
        budget_key: &str,
        posting_id: &str,
    ) -> Result<Value, ProviderError> {
        let response = self
            .get(
                base,
                key,
                budget_key,
                "application_form",
                &["postings", posting_id, "apply"],
                &[],
            )
            .await?;
        let body: Value = response.json()?;
        Ok(body.get("data").cloned().unwrap_or(Value::Null))
    }

    /// One opportunity (`GET /v1/opportunities/{id}`); `None` when gone.
    pub async fn opportunity(
        &self,
        base: &Url,
        key: &SecretString,
        budget_key: &str,
        id: &str,
    ) -> Result<Option<Opportunity>, ProviderError> {
        match self
            .get(
                base,
                key,
                budget_key,
                "opportunity",
                &["opportunities", id],
                &[],
            )
            .await
        {
            Ok(response) => {
                let body: Value = response.json()?;
                Ok(body.get("data").and_then(read_opportunity))
            }
            Err(ProviderError::Permanent { status: 404, .. }) => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// Stage names by id (`GET /v1/stages`).
    pub async fn stages(
        &self,
        base: &Url,
        key: &SecretString,
        budget_key: &str,
    ) -> Result<Vec<(String, String)>, ProviderError> {
        let response = self
            .get(base, key, budget_key, "stages", &["stages"], &[])
            .await?;
        let (stages, _) = data_list(&response)?;
        Ok(stages
            .iter()
            .filter_map(|s| Some((text(s.get("id"))?, text(s.get("text")).unwrap_or_default())))
            .collect())
    }

    /// Archive reasons by id with their type (`hired` or not).
    pub async fn archive_reasons(
        &self,
        base: &Url,
        key: &SecretString,
        budget_key: &str,
    ) -> Result<Vec<(String, String, String)>, ProviderError> {
        let response = self
            .get(
                base,
                key,
                budget_key,
                "archive_reasons",
                &["archive_reasons"],
                &[],
            )
            .await?;
        let (reasons, _) = data_list(&response)?;
        Ok(reasons
            .iter()
            .filter_map(|r| {
                Some((
                    text(r.get("id"))?,
                    text(r.get("text")).unwrap_or_default(),
                    text(r.get("type")).unwrap_or_default(),
                ))
            })
            .collect())
    }

    /// Creates the candidate for one posting (`POST /v1/opportunities?perform_as=`,
    /// multipart with the résumé as `resumeFile`). Lever merges candidates by
    /// email. Not repeated once it may have reached Lever.
    pub async fn create_opportunity(
        &self,
        base: &Url,
        key: &SecretString,
        budget_key: &str,
        perform_as: &str,
        new: &NewOpportunity<'_>,
    ) -> Result<Opportunity, ProviderError> {
        let mut url = endpoint(PROVIDER, base, &["v1", "opportunities"])?;
        url.query_pairs_mut().append_pair("perform_as", perform_as);
        let client = self.http.client();
        let call = ProviderCall::non_idempotent(PROVIDER, "create_opportunity")
            .with_credential(budget_key);
        let response = self
            .http
            .send(call, || {
                let mut form = reqwest::multipart::Form::new()
                    .text("name", new.name.clone())
                    .text("emails[]", new.email.to_owned())
                    .text("postings[]", new.posting_id.to_owned())
                    .text("origin", "applied")
                    .text("sources[]", "Next_KE");
                if !new.phone.is_empty() {
                    form = form.text("phones[]", new.phone.to_owned());
                }
                for link in &new.links {
                    form = form.text("links[]", link.clone());
                }
                if let Some((name, content_type, bytes)) = new.resume {
                    let part = reqwest::multipart::Part::bytes(bytes.to_vec())
                        .file_name(name.to_owned())
                        .mime_str(content_type)
                        .unwrap_or_else(|_| reqwest::multipart::Part::bytes(bytes.to_vec()));
                    form = form.part("resumeFile", part);
                }
                client
                    .post(url.clone())
                    .header("authorization", basic_key(key))
                    .multipart(form)
            })
            .await?;
        let body: Value = response.json()?;
        body.get("data")
            .and_then(read_opportunity)
            .ok_or_else(|| ProviderError::Decode {
                message: "no opportunity in the answer".to_owned(),
            })
    }
}

/// An opportunity's id, contact, stage and archive reason. Older answers put
/// `archivedAt`/`archiveReason` at the top instead of `archived {archivedAt,
/// reason}`: both are read.
fn read_opportunity(data: &Value) -> Option<Opportunity> {
    let archived_reason = match data.get("archived") {
        Some(Value::Object(a)) => text(a.get("reason")),
        _ => text(data.get("archiveReason")),
    };
    Some(Opportunity {
        id: text(data.get("id"))?,
        contact: text(data.get("contact")),
        stage: match data.get("stage") {
            Some(Value::Object(s)) => text(s.get("id")),
            other => text(other),
        },
        archived_reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opportunities_read_both_archive_shapes() {
        let new = serde_json::json!({"id": "o1", "contact": "c1", "stage": "s2",
            "archived": {"archivedAt": 1, "reason": "r-hired"}});
        let old = serde_json::json!({"id": "o1", "stage": {"id": "s2"}, "archiveReason": "r-x"});
        assert_eq!(
            read_opportunity(&new).unwrap(),
            Opportunity {
                id: "o1".into(),
                contact: Some("c1".into()),
                stage: Some("s2".into()),
                archived_reason: Some("r-hired".into())
            }
        );
        let old = read_opportunity(&old).unwrap();
        assert_eq!(old.stage.as_deref(), Some("s2"));
        assert_eq!(old.archived_reason.as_deref(), Some("r-x"));
        assert!(read_opportunity(&serde_json::json!({"name": "x"})).is_none());
    }

    #[test]
    fn the_key_is_the_basic_user_name() {
        let key = SecretString::from("abc");
        assert_eq!(basic_key(&key), "Basic YWJjOg==");
    }
}
