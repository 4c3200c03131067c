//! The bodies of the fuzz targets (`fuzz/`), kept here so the corpora also
//! run as ordinary tests on stable (`tests/api/fuzz_corpora.rs`). Each takes
//! arbitrary bytes and must never panic, whatever they are.

use chrono::{TimeZone, Utc};

use crate::{
    domain::ats::html,
    providers::ats::{greenhouse_jobs, greenhouse_webhook, lever_jobs, lever_webhook, signature},
};

/// Splits fuzz input into a header part and a body at the first newline.
fn split(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|b| *b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[]),
    }
}

/// Greenhouse: the first line is the `Signature` header, the rest the body;
/// verified against a fixed secret and, whatever the outcome, read. A
/// signature made by the verifier's own signing must verify.
pub fn greenhouse_webhook(data: &[u8]) {
    let (header, body) = split(data);
    let secret: &[u8] = b"fuzz-secret";
    let _ = greenhouse_webhook::verify(body, Some(header), &[secret]);
    let _ = greenhouse_webhook::parse(body);
    let good = format!("sha256 {}", signature::sign_hex(secret, &[body]));
    assert!(greenhouse_webhook::verify(body, Some(good.as_bytes()), &[secret]).is_ok());
}

/// Lever: the whole input is the body, verified against a fixed token at a
/// fixed instant, and read as a stored body.
pub fn lever_webhook(data: &[u8]) {
    let now = Utc
        .timestamp_millis_opt(1_796_000_000_000)
        .single()
        .unwrap_or_else(Utc::now);
    let _ = lever_webhook::verify(data, &[b"fuzz-token"], now);
    let _ = lever_webhook::read(data);
}

/// Job mapping: the input as JSON (a job, a post, a posting), mapped by both
/// providers' mappings, and its description sanitized.
pub fn job_mapping(data: &[u8]) {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else {
        // not JSON: the description cleaner still takes it as HTML
        if let Ok(text) = std::str::from_utf8(data) {
            let _ = html::clean(text);
        }
        return;
    };
    let post = value.get("job_post");
    let job = value.get("job").unwrap_or(&value);
    if let Ok(mapped) = greenhouse_jobs::map_job(job, post) {
        let clean = html::clean(&mapped.description_html);
        assert!(!clean.html.to_ascii_lowercase().contains("<script"));
    }
    if let Ok(mapped) = lever_jobs::map_posting(&value) {
        let _ = html::clean(&mapped.description_html);
    }
}
