//! A small `multipart/form-data` reader (RFC 7578) for the ATS sandboxes'
//! application endpoints, which take a resume as a file part.
//!
//! The server has the whole body in memory already, so this splits it on
//! the boundary instead of streaming. Only what forms send is understood:
//! `Content-Disposition: form-data; name="..."[; filename="..."]` and an
//! optional `Content-Type` per part; quoted names may not contain `"`.

/// One part of a multipart body.
#[derive(Clone, PartialEq, Eq)]
pub struct Part {
    /// The `name` of its `Content-Disposition`.
    pub name: String,
    /// The `filename`, for a file part.
    pub filename: Option<String>,
    /// The part's own `Content-Type`, if it had one.
    pub content_type: Option<String>,
    /// The part's bytes.
    pub data: Vec<u8>,
}

impl Part {
    /// The bytes as text (lossy UTF-8), for plain fields.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.data).into_owned()
    }
}

impl std::fmt::Debug for Part {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Part")
            .field("name", &self.name)
            .field("filename", &self.filename)
            .field("content_type", &self.content_type)
            .field("len", &self.data.len())
            .finish()
    }
}

/// Whether a `Content-Type` header value is `multipart/form-data`.
pub(crate) fn is_multipart(content_type: &str) -> bool {
    content_type
        .trim_start()
        .to_ascii_lowercase()
        .starts_with("multipart/form-data")
}

fn boundary_of(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|param| {
        let (key, value) = param.trim().split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| value.trim().trim_matches('"').to_owned())
    })
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    (from..=haystack.len() - needle.len()).find(|&i| haystack[i..].starts_with(needle))
}

/// A `key="value"` or `key=value` parameter of a header value.
fn param(header: &str, key: &str) -> Option<String> {
    header.split(';').skip(1).find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case(key)
            .then(|| v.trim().trim_matches('"').to_owned())
    })
}

/// Every part of `body`, or `None` when it is not a well-formed
/// `multipart/form-data` body for this `Content-Type`.
pub(crate) fn parse(content_type: &str, body: &[u8]) -> Option<Vec<Part>> {
    let boundary = boundary_of(content_type)?;
    let delimiter = format!("--{boundary}").into_bytes();
    let mut pos = find(body, &delimiter, 0)? + delimiter.len();
    let mut parts = Vec::new();
    loop {
        // After a delimiter: `--` ends the body, CRLF starts a part.
        if body[pos..].starts_with(b"--") {
            return Some(parts);
        }
        pos += if body[pos..].starts_with(b"\r\n") {
            2
        } else {
            return None;
        };
        let headers_end = find(body, b"\r\n\r\n", pos)?;
        let headers = std::str::from_utf8(&body[pos..headers_end]).ok()?;
        let data_start = headers_end + 4;
        let mut next_delim = delimiter.clone();
        next_delim.splice(0..0, b"\r\n".iter().copied());
        let data_end = find(body, &next_delim, data_start)?;
        let mut name = None;
        let mut filename = None;
        let mut content_type = None;
        for line in headers.split("\r\n") {
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            let key = key.trim();
            if key.eq_ignore_ascii_case("content-disposition") {
                name = param(value, "name");
                filename = param(value, "filename");
            } else if key.eq_ignore_ascii_case("content-type") {
                content_type = Some(value.trim().to_owned());
            }
        }
        parts.push(Part {
            name: name?,
            filename,
            content_type,
            data: body[data_start..data_end].to_vec(),
        });
        pos = data_end + next_delim.len();
    }
}

/// One part for [`build`]: name, filename (file parts), content type, bytes.
pub type FormPart<'a> = (&'a str, Option<&'a str>, Option<&'a str>, &'a [u8]);

/// Build a `multipart/form-data` body from parts; returns the body and its
/// `Content-Type` header value. For tests of the clients' uploads.
pub fn build(parts: &[FormPart<'_>]) -> (Vec<u8>, String) {
    let boundary = format!("sandbox-{}", &crate::random_token()[..16]);
    let mut body = Vec::new();
    for (name, filename, content_type, data) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        let mut disposition = format!("Content-Disposition: form-data; name=\"{name}\"");
        if let Some(f) = filename {
            disposition.push_str(&format!("; filename=\"{f}\""));
        }
        body.extend_from_slice(disposition.as_bytes());
        body.extend_from_slice(b"\r\n");
        if let Some(ct) = content_type {
            body.extend_from_slice(format!("Content-Type: {ct}\r\n").as_bytes());
        }
        body.extend_from_slice(b"\r\n");
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (body, format!("multipart/form-data; boundary={boundary}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_build_writes() {
        let (body, ct) = build(&[
            ("first_name", None, None, b"Ada"),
            (
                "resume",
                Some("cv.pdf"),
                Some("application/pdf"),
                b"%PDF-1.4\r\n--x",
            ),
        ]);
        assert!(is_multipart(&ct));
        let parts = parse(&ct, &body).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].name, "first_name");
        assert_eq!(parts[0].text(), "Ada");
        assert_eq!(parts[1].filename.as_deref(), Some("cv.pdf"));
        assert_eq!(parts[1].content_type.as_deref(), Some("application/pdf"));
        assert_eq!(parts[1].data, b"%PDF-1.4\r\n--x");
    }

    #[test]
    fn refuses_bodies_without_the_boundary() {
        assert!(parse("multipart/form-data; boundary=abc", b"no parts here").is_none());
        assert!(parse("multipart/form-data", b"--abc\r\n").is_none());
    }
}
