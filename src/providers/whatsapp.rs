//! The WhatsApp Business Cloud API's template messages, the reminder channel:
//! `POST {api_base}/{version}/{phone_number_id}/messages` with a bearer token
//! and `{messaging_product: "whatsapp", recipient_type: "individual", to,
//! type: "template", template: {name, language: {code}, components: [{type:
//! "body", parameters: [{type: "text", text}]}]}}`, answered with
//! `{messages: [{id}]}`. Business-initiated messages outside a 24-hour window
//! must use an approved template, hence templates only.
//!
//! A send is not idempotent (the API takes no idempotency key): it is never
//! repeated once it may have reached WhatsApp, except on a 429/503 with
//! `Retry-After`. Meta's throttling codes arrive in the body of a `400`
//! (`error.code` 4, 80007, 130429, 131056, per Meta's error-code tables as
//! quoted by integrators: not read in Meta's own pages here), so this client
//! reads them with its own [`Classifier`] and reports them retryable.
//!
//! The access token never appears in an error, a log line or `Debug` output.

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use url::Url;

use super::{
    http::{is_safe_code, Classifier, OutboundHttp, ProviderCall, ProviderError},
    rest::{bearer, endpoint},
};

/// Provider name for metrics, breaker and budget.
pub const PROVIDER: &str = "whatsapp";
/// The Graph API host of the Cloud API.
pub const DEFAULT_API_BASE: &str = "https://graph.facebook.com";

/// Where and as whom to send.
#[derive(Clone, Debug)]
pub struct WhatsAppSettings {
    /// `https://graph.facebook.com` (see [`DEFAULT_API_BASE`]); a sandbox in tests.
    pub api_base: Url,
    /// Graph API version of the path, e.g. `v21.0`.
    pub api_version: String,
    /// The sending business phone number's id (not the number itself).
    pub phone_number_id: String,
    /// A system user's access token; `Debug` prints it redacted.
    pub access_token: SecretString,
    /// Name of the approved reminder template.
    pub template: String,
    /// Its language code, e.g. `en` or `en_US`.
    pub template_language: String,
}

/// The WhatsApp client; cloning is cheap.
#[derive(Clone, Debug)]
pub struct WhatsAppClient {
    http: OutboundHttp,
    settings: WhatsAppSettings,
}

#[derive(Debug, Serialize)]
struct SendTemplate<'a> {
    messaging_product: &'static str,
    recipient_type: &'static str,
    to: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    template: Template<'a>,
}

#[derive(Debug, Serialize)]
struct Template<'a> {
    name: &'a str,
    language: Language<'a>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    components: Vec<Component<'a>>,
}

#[derive(Debug, Serialize)]
struct Language<'a> {
    code: &'a str,
}

#[derive(Debug, Serialize)]
struct Component<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    parameters: Vec<Parameter<'a>>,
}

#[derive(Debug, Serialize)]
struct Parameter<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    text: &'a str,
}

#[derive(Debug, Deserialize)]
struct SendResponse {
    #[serde(default)]
    messages: Vec<SentMessage>,
}

#[derive(Debug, Deserialize)]
struct SentMessage {
    id: String,
}

/// Meta's error body: `{"error": {"message", "type", "code", "error_data", "fbtrace_id"}}`.
#[derive(Debug, Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Debug, Deserialize)]
struct ErrorDetail {
    #[serde(default)]
    code: Option<i64>,
}

/// Meta's throttling error codes: app call rate (4), business account rate
/// (80007), Cloud API throughput (130429), pair rate limit (131056).
const THROTTLING_CODES: [i64; 4] = [4, 80007, 130429, 131056];

/// WhatsApp's own reading of an error answer: a throttling code in the body
/// is retryable whatever the status; otherwise the shared classification,
/// with Meta's numeric `error.code` kept as the code.
fn classify(
    provider: &str,
    status: reqwest::StatusCode,
    body: &[u8],
    retry_after: Option<std::time::Duration>,
) -> Option<ProviderError> {
    let code = serde_json::from_slice::<ErrorBody>(body).ok()?.error.code?;
    let text = code.to_string();
    let kept = Some(text).filter(|c| is_safe_code(c));
    if THROTTLING_CODES.contains(&code) {
        return Some(ProviderError::Retryable {
            provider: provider.to_owned(),
            status: status.as_u16(),
            code: kept,
            retry_after,
        });
    }
    Some(
        match super::http::classify_status(provider, status, body, retry_after) {
            ProviderError::Retryable {
                provider,
                status,
                retry_after,
                ..
            } => ProviderError::Retryable {
                provider,
                status,
                code: kept,
                retry_after,
            },
            ProviderError::Reauth {
                provider, status, ..
            } => ProviderError::Reauth {
                provider,
                status,
                code: kept,
            },
            ProviderError::Permanent {
                provider, status, ..
            } => ProviderError::Permanent {
                provider,
                status,
                code: kept,
            },
            other => other,
        },
    )
}

/// The classifier handed to the shared client.
const CLASSIFIER: Classifier = classify;

/// The body of a template message to `to` with `body_parameters` filling the
/// template body's placeholders in order.
fn send_template_body<'a>(
    settings: &'a WhatsAppSettings,
    to: &'a str,
    body_parameters: &'a [String],
) -> SendTemplate<'a> {
    let components = if body_parameters.is_empty() {
        Vec::new()
    } else {
        vec![Component {
            kind: "body",
            parameters: body_parameters
                .iter()
                .map(|text| Parameter { kind: "text", text })
                .collect(),
        }]
    };
    SendTemplate {
        messaging_product: "whatsapp",
        recipient_type: "individual",
        to,
        kind: "template",
        template: Template {
            name: &settings.template,
            language: Language {
                code: &settings.template_language,
            },
            components,
        },
    }
}

/// Whether `to` is an E.164 number: `+`, then 8 to 15 digits, the first not 0.
fn is_e164(to: &str) -> bool {
    to.strip_prefix('+').is_some_and(|digits| {
        (8..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0')
    })
}

impl WhatsAppClient {
    /// A client sending as `settings` describe.
    pub fn new(http: OutboundHttp, settings: WhatsAppSettings) -> Self {
        Self { http, settings }
    }

    /// Sends the configured template to `to_e164` (`+4915112345678`; Meta
    /// accepts the leading `+`), and answers WhatsApp's message id (`wamid...`),
    /// which its status webhooks refer to.
    pub async fn send_template(
        &self,
        to_e164: &str,
        body_parameters: &[String],
    ) -> Result<String, ProviderError> {
        if !is_e164(to_e164) {
            return Err(ProviderError::InvalidRequest {
                provider: PROVIDER.to_owned(),
                message: "the recipient is not an e.164 phone number",
            });
        }
        let url = endpoint(
            PROVIDER,
            &self.settings.api_base,
            &[
                self.settings.api_version.as_str(),
                self.settings.phone_number_id.as_str(),
                "messages",
            ],
        )?;
        let body = send_template_body(&self.settings, to_e164, body_parameters);
        let client = self.http.client();
        let call =
            ProviderCall::non_idempotent(PROVIDER, "send_template").with_classifier(CLASSIFIER);
        let response = self
            .http
            .send(call, || {
                client
                    .post(url.clone())
                    .header("authorization", bearer(&self.settings.access_token))
                    .json(&body)
            })
            .await?;
        let sent: SendResponse = response.json()?;
        sent.messages
            .into_iter()
            .next()
            .map(|m| m.id)
            .filter(|id| !id.is_empty())
            .ok_or_else(|| ProviderError::Decode {
                message: "no message id in the answer".to_owned(),
            })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::providers::testing::{outbound, Scripted};

    const TOKEN: &str = "EAAGm0PX4ZCpsBAwhatsapp-secret-token";

    fn settings(base: &Url) -> WhatsAppSettings {
        WhatsAppSettings {
            api_base: base.clone(),
            api_version: "v21.0".to_owned(),
            phone_number_id: "106540352242922".to_owned(),
            access_token: SecretString::from(TOKEN),
            template: "interview_reminder".to_owned(),
            template_language: "en".to_owned(),
        }
    }

    #[test]
    fn template_body_has_the_documented_shape() {
        let base = Url::parse(DEFAULT_API_BASE).unwrap();
        let settings = settings(&base);
        let parameters = vec!["Ada".to_owned(), "29 March, 09:00".to_owned()];
        let body =
            serde_json::to_value(send_template_body(&settings, "+4915112345678", &parameters))
                .unwrap();
        assert_eq!(
            body,
            json!({
                "messaging_product": "whatsapp",
                "recipient_type": "individual",
                "to": "+4915112345678",
                "type": "template",
                "template": {
                    "name": "interview_reminder",
                    "language": {"code": "en"},
                    "components": [{"type": "body", "parameters": [
                        {"type": "text", "text": "Ada"},
                        {"type": "text", "text": "29 March, 09:00"}
                    ]}]
                }
            })
        );
        let none =
            serde_json::to_value(send_template_body(&settings, "+4915112345678", &[])).unwrap();
        assert!(none["template"].get("components").is_none());
    }

    #[test]
    fn e164_is_checked() {
        assert!(is_e164("+4915112345678"));
        assert!(!is_e164("4915112345678"));
        assert!(!is_e164("+49 151 12345678"));
        assert!(!is_e164("+0123456789"));
        assert!(!is_e164("+1234"));
    }

    #[test]
    fn throttling_codes_are_retryable_in_a_400() {
        let c = |status: u16, body: serde_json::Value| {
            classify(
                PROVIDER,
                reqwest::StatusCode::from_u16(status).unwrap(),
                body.to_string().as_bytes(),
                None,
            )
        };
        let throttled = c(
            400,
            json!({"error": {"message": "(#130429) Rate limit hit", "type": "OAuthException", "code": 130429, "fbtrace_id": "Az8or2yhqkZfEZ"}}),
        );
        let err = throttled.unwrap();
        assert!(err.is_retryable(), "{err}");
        assert!(err.to_string().contains("130429"), "{err}");
        let invalid = c(
            400,
            json!({"error": {"message": "(#100) Invalid parameter", "code": 100}}),
        )
        .unwrap();
        assert!(!invalid.is_retryable());
        let expired = c(
            401,
            json!({"error": {"message": "token expired", "code": 190}}),
        )
        .unwrap();
        assert!(expired.is_reauth());
        assert!(c(400, json!({"unexpected": true})).is_none());
    }

    #[tokio::test]
    async fn sends_and_answers_the_message_id() {
        let server = Scripted::start([(
            200,
            json!({"messaging_product": "whatsapp",
                "contacts": [{"input": "+4915112345678", "wa_id": "4915112345678"}],
                "messages": [{"id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3"}]}),
        )])
        .await;
        let client = WhatsAppClient::new(outbound(), settings(&server.base));
        let id = client
            .send_template("+4915112345678", &["Ada".to_owned()])
            .await
            .unwrap();
        assert_eq!(id, "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3");
        let seen = server.seen();
        assert_eq!(seen[0].method, "POST");
        assert_eq!(seen[0].path, "/v21.0/106540352242922/messages");
        assert_eq!(seen[0].headers["authorization"], format!("Bearer {TOKEN}"));
    }

    #[tokio::test]
    async fn errors_and_debug_never_show_the_token() {
        let server = Scripted::start([
            (
                400,
                json!({"error": {"message": format!("bad token {TOKEN}"), "code": 130429}}),
            ),
            (
                500,
                json!({"error": {"message": format!("oops {TOKEN}"), "code": 1}}),
            ),
        ])
        .await;
        let client = WhatsAppClient::new(outbound(), settings(&server.base));
        let throttled = client
            .send_template("+4915112345678", &[])
            .await
            .unwrap_err();
        assert!(throttled.is_retryable());
        // a 500 on a non-idempotent send is not repeated
        let failed = client
            .send_template("+4915112345678", &[])
            .await
            .unwrap_err();
        assert_eq!(server.seen().len(), 2);
        for text in [
            format!("{throttled} {throttled:?}"),
            format!("{failed} {failed:?}"),
            format!("{client:?}"),
        ] {
            assert!(!text.contains(TOKEN), "{text}");
            assert!(!text.contains("secret-token"), "{text}");
        }
    }
}
