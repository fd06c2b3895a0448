//! What a file must be: the accepted types, judged by content and name together, its size,
//! and a safe name.

use crate::error::ApiError;
#[allow(unused_imports)]
use crate::error::{ErrorBody, MessageBody};

use crate::fields::{MAX_FILES, MAX_FILE_BYTES};
use crate::input::Upload;

/// The accepted types: (media type, file name endings); see [`portal_core::files`].
pub use portal_core::files::ACCEPTED as ALLOWED;

/// A file that passed the checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedFile {
    /// A safe name to show and to offer for download.
    pub file_name: String,
    /// The media type its content shows.
    pub media_type: &'static str,
    /// Its content.
    pub bytes: Vec<u8>,
}

/// The media type `bytes` show, if it is one of [`ALLOWED`], or why it is refused (words
/// that follow the file's name). Text must be UTF-8 without NULs; zip-based files are
/// opened and judged by what they hold ([`super::judge_archive`]).
pub fn sniff(bytes: &[u8], extension: &str) -> Result<&'static str, String> {
    let is = |magic: &[u8]| bytes.starts_with(magic);
    if is(b"\x89PNG\r\n\x1a\n") {
        Ok("image/png")
    } else if is(b"\xFF\xD8\xFF") {
        Ok("image/jpeg")
    } else if is(b"GIF87a") || is(b"GIF89a") {
        Ok("image/gif")
    } else if is(b"%PDF-") {
        Ok("application/pdf")
    } else if is(b"PK\x03\x04") || is(b"PK\x05\x06") {
        super::judge_archive(bytes)
    } else if std::str::from_utf8(bytes).is_ok() && !bytes.contains(&0) {
        Ok(if extension == "csv" {
            "text/csv"
        } else {
            "text/plain"
        })
    } else {
        Err(format!("is not a file type we accept ({})", allowed()))
    }
}

/// A file name reduced to letters, digits, `.`, `-`, `_` and spaces, at most 100 characters.
pub fn safe_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | ' '))
        .take(100)
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_string();
    if cleaned.is_empty() {
        "attachment".into()
    } else {
        cleaned
    }
}

/// Checks `uploads` sent in `field`: count, size, type by content, and that the name's ending
/// matches the content.
pub fn check(field: &str, uploads: Vec<Upload>) -> Result<Vec<CheckedFile>, ApiError> {
    if uploads.len() > MAX_FILES {
        return Err(ApiError::invalid(
            field,
            format!("send at most {MAX_FILES} files"),
        ));
    }
    let mut out = Vec::with_capacity(uploads.len());
    for u in uploads {
        let name = safe_name(&u.file_name);
        if u.bytes.len() > MAX_FILE_BYTES {
            return Err(ApiError::invalid(
                field,
                format!(
                    "`{name}` is larger than {} MB",
                    MAX_FILE_BYTES / (1024 * 1024)
                ),
            ));
        }
        if u.bytes.is_empty() {
            return Err(ApiError::invalid(field, format!("`{name}` is empty")));
        }
        let extension = name
            .rsplit_once('.')
            .map(|(_, e)| e.to_ascii_lowercase())
            .unwrap_or_default();
        let media_type = sniff(&u.bytes, &extension)
            .map_err(|why| ApiError::invalid(field, format!("`{name}` {why}")))?;
        let fits = ALLOWED
            .iter()
            .any(|(t, exts)| *t == media_type && exts.contains(&extension.as_str()));
        if !fits {
            return Err(ApiError::invalid(
                field,
                format!(
                    "`{name}` holds {media_type}, which its name does not say; accepted: {}",
                    allowed()
                ),
            ));
        }
        out.push(CheckedFile {
            file_name: name,
            media_type,
            bytes: u.bytes,
        });
    }
    Ok(out)
}

pub(super) use portal_core::files::type_of_name;

/// The accepted file name endings, for messages: "png, jpg, …".
pub(super) fn allowed() -> String {
    portal_core::files::endings()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn up(name: &str, bytes: &[u8]) -> Upload {
        Upload {
            field: "attachments".into(),
            file_name: name.into(),
            bytes: bytes.to_vec(),
        }
    }

    #[test]
    fn types_are_judged_by_content_and_name_together() {
        let ok = check(
            "attachments",
            vec![
                up("shot.PNG", b"\x89PNG\r\n\x1a\nrest"),
                up("till.log", b"ERROR 42\n"),
            ],
        )
        .unwrap();
        assert_eq!(ok[0].media_type, "image/png");
        assert_eq!(ok[1].media_type, "text/plain");
        for (name, bytes) in [
            ("evil.png", &b"MZ\x90\x00binary"[..]),
            ("page.html", b"<script>alert(1)</script>"),
            ("fake.pdf", b"\x89PNG\r\n\x1a\n"),
            ("empty.txt", b""),
        ] {
            assert!(
                check("attachments", vec![up(name, bytes)]).is_err(),
                "{name}"
            );
        }
        let many = (0..6).map(|i| up(&format!("{i}.txt"), b"x")).collect();
        assert!(check("attachments", many).is_err());
    }

    #[test]
    fn names_cannot_climb_out() {
        assert_eq!(safe_name("../../etc/passwd"), "passwd");
        assert_eq!(safe_name("C:\\Users\\a\\photo 1.jpg"), "photo 1.jpg");
        assert_eq!(safe_name("..."), "attachment");
        assert_eq!(safe_name("<i>x.txt"), "ix.txt");
    }
}
