//! Résumés: at most 10 MiB, PDF, DOC, DOCX or plain text, the type read
//! from the content (its magic bytes), never from the file name.

use crate::error::{AppError, Result};

/// Largest résumé, in bytes.
pub const MAX_RESUME: usize = 10 * 1024 * 1024;

/// A résumé's kind, by content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResumeKind {
    Pdf,
    /// Word 97-2003 (an OLE compound file).
    Doc,
    /// Office Open XML (a zip holding `word/`).
    Docx,
    Text,
}

impl ResumeKind {
    /// The media type sent to the ATS.
    pub fn content_type(self) -> &'static str {
        match self {
            ResumeKind::Pdf => "application/pdf",
            ResumeKind::Doc => "application/msword",
            ResumeKind::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            ResumeKind::Text => "text/plain",
        }
    }

    /// The file name's extension that matches the kind.
    pub fn extension(self) -> &'static str {
        match self {
            ResumeKind::Pdf => "pdf",
            ResumeKind::Doc => "doc",
            ResumeKind::Docx => "docx",
            ResumeKind::Text => "txt",
        }
    }
}

const OLE: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// The kind of `content`, or `INVALID_ARGUMENT resume.content`.
pub fn sniff(content: &[u8]) -> Result<ResumeKind> {
    let bad = |reason: &str| AppError::InvalidArgument {
        field: "resume.content",
        reason: reason.to_owned(),
    };
    if content.is_empty() {
        return Err(bad("is empty"));
    }
    if content.len() > MAX_RESUME {
        return Err(bad("is larger than 10 MiB"));
    }
    if content.starts_with(b"%PDF-") {
        return Ok(ResumeKind::Pdf);
    }
    if content.starts_with(OLE) {
        return Ok(ResumeKind::Doc);
    }
    if content.starts_with(b"PK\x03\x04") {
        // a DOCX names its parts in the clear in the zip's headers
        let head = &content[..content.len().min(64 * 1024)];
        if head.windows(5).any(|w| w == b"word/") {
            return Ok(ResumeKind::Docx);
        }
        return Err(bad("is a zip file but not a DOCX document"));
    }
    match std::str::from_utf8(content) {
        Ok(text)
            if !text.contains('\0')
                && text.chars().all(|c| !c.is_control() || c.is_whitespace()) =>
        {
            Ok(ResumeKind::Text)
        }
        _ => Err(bad("must be a PDF, DOC, DOCX or plain text file")),
    }
}

/// A safe file name for the résumé: its own name's stem (letters, digits,
/// `-`, `_`, `.`, at most 100) with the extension of its real kind.
pub fn file_name(given: &str, kind: ResumeKind) -> String {
    let stem = given
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("")
        .rsplit_once('.')
        .map(|(stem, _)| stem)
        .unwrap_or(given);
    let clean: String = stem
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ' '))
        .take(100)
        .collect();
    let clean = clean.trim();
    let stem = if clean.is_empty() { "resume" } else { clean };
    format!("{stem}.{}", kind.extension())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_come_from_content_not_names() {
        assert_eq!(sniff(b"%PDF-1.7\n...").unwrap(), ResumeKind::Pdf);
        let mut doc = OLE.to_vec();
        doc.extend_from_slice(b"rest");
        assert_eq!(sniff(&doc).unwrap(), ResumeKind::Doc);
        assert_eq!(
            sniff(b"PK\x03\x04....word/document.xml....").unwrap(),
            ResumeKind::Docx
        );
        assert_eq!(
            sniff("Ada Lovelace\nEngineer\n".as_bytes()).unwrap(),
            ResumeKind::Text
        );
        for bad in [
            b"PK\x03\x04 plain zip".to_vec(),
            b"\x89PNG\r\n\x1a\n".to_vec(),
            b"MZ\x90\x00 an exe".to_vec(),
            vec![],
        ] {
            assert!(sniff(&bad).is_err(), "{bad:?}");
        }
        assert!(sniff(&vec![b'a'; MAX_RESUME + 1]).is_err());
        assert_eq!(file_name("../../etc/cv.exe", ResumeKind::Pdf), "cv.pdf");
        assert_eq!(file_name("", ResumeKind::Text), "resume.txt");
    }
}
