//! Files that come with a form: at most [`MAX_FILES`] of at most [`MAX_FILE_BYTES`] each, of
//! the types in [`ALLOWED`], recognised by their content and not only by their name. Stored
//! under random keys in the blob store, outside the site, and only ever served back as
//! downloads.
//!
//! A file reaches the store one of two ways, and a form may mix them:
//! - in the form itself (`multipart/form-data`), as a browser without JavaScript sends it;
//! - uploaded beforehand: `POST /api/uploads` announces the file (name, size) and answers
//!   with a signed upload token and where to `PUT` the bytes — straight to S3 through a
//!   presigned URL on AWS (past Lambda's 6 MB payload limit), to `PUT /api/uploads/{token}`
//!   on one machine — and the form then names the token in its `uploads` field. The file is
//!   checked like a sent one when the form arrives (its size and its content), and refused
//!   and removed if it fails.
//!
//! Downloads redirect to a short-lived presigned link with `Content-Disposition: attachment`
//! where the store offers one, and are sent by the portal otherwise.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
#[allow(unused_imports)]
use crate::error::{ErrorBody, MessageBody};
use crate::state::AppState;

/// How long an upload token, and the URL it comes with, may be used.
pub const UPLOAD_VALID: Duration = Duration::from_secs(3600);
/// How long a download link works.
pub const DOWNLOAD_VALID: Duration = Duration::from_secs(300);
pub use crate::fields::{MAX_FILES, MAX_FILE_BYTES, MAX_MULTIPART, UPLOADS_FIELD};
pub use crate::input::Upload;

/// The accepted types: (media type, file name endings).
pub const ALLOWED: &[(&str, &[&str])] = &[
    ("image/png", &["png"]),
    ("image/jpeg", &["jpg", "jpeg"]),
    ("image/gif", &["gif"]),
    ("application/pdf", &["pdf"]),
    ("text/plain", &["txt", "log"]),
    ("text/csv", &["csv"]),
];

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

/// The media type `bytes` show, if it is one of [`ALLOWED`]; text must be UTF-8 without NULs.
pub fn sniff(bytes: &[u8], extension: &str) -> Option<&'static str> {
    let is = |magic: &[u8]| bytes.starts_with(magic);
    if is(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if is(b"\xFF\xD8\xFF") {
        Some("image/jpeg")
    } else if is(b"GIF87a") || is(b"GIF89a") {
        Some("image/gif")
    } else if is(b"%PDF-") {
        Some("application/pdf")
    } else if std::str::from_utf8(bytes).is_ok() && !bytes.contains(&0) {
        Some(if extension == "csv" {
            "text/csv"
        } else {
            "text/plain"
        })
    } else {
        None
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
        let allowed = || {
            ALLOWED
                .iter()
                .flat_map(|(_, exts)| exts.iter())
                .copied()
                .collect::<Vec<_>>()
                .join(", ")
        };
        let Some(media_type) = sniff(&u.bytes, &extension) else {
            return Err(ApiError::invalid(
                field,
                format!("`{name}` is not a file type we accept ({})", allowed()),
            ));
        };
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

/// The stored file `key` as a download no browser will render: a redirect to a short-lived
/// presigned link that says `Content-Disposition: attachment` where the store offers one,
/// else the file itself with that header, `nosniff`, and a sandboxing CSP.
pub async fn download(
    state: &AppState,
    key: &str,
    file_name: &str,
    media_type: &str,
) -> Result<Response, ApiError> {
    let gone = || ApiError::NotFound("the file is not available".into());
    let blobs = state.blobs.as_ref().ok_or_else(gone)?;
    let internal = |e: portal_core::blobs::BlobError| ApiError::Internal(e.to_string());
    if let Some(url) = blobs
        .download_url(key, file_name, media_type, DOWNLOAD_VALID)
        .await
        .map_err(internal)?
    {
        let mut r = (StatusCode::SEE_OTHER, [(header::LOCATION, url)]).into_response();
        r.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-store"),
        );
        return Ok(r);
    }
    let bytes = blobs
        .get(key)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .ok_or_else(gone)?;
    let mut r = (StatusCode::OK, bytes).into_response();
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(media_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    let disposition = portal_core::blobs::attachment(file_name);
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    Ok(r)
}

/// The media type files named `name` must hold, by the name's ending.
fn type_of_name(name: &str) -> Option<&'static str> {
    let extension = name.rsplit_once('.')?.1.to_ascii_lowercase();
    ALLOWED
        .iter()
        .find(|(_, exts)| exts.contains(&extension.as_str()))
        .map(|(t, _)| *t)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// What an upload token vouches for: a file the portal agreed to take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announced {
    /// The blob key the file goes under.
    pub key: String,
    /// Its (safe) name.
    pub file_name: String,
    /// The media type its name says.
    pub media_type: &'static str,
    /// Its size in bytes, as announced.
    pub size: u64,
    /// Until when the token may be used (Unix time).
    pub expires: i64,
}

impl Announced {
    fn payload(&self) -> String {
        format!(
            "upload.{}.{}.{}.{}",
            self.key,
            self.expires,
            self.size,
            hex(self.file_name.as_bytes())
        )
    }

    /// The signed token: `<key>.<expires>.<size>.<name in hex>.<signature>`.
    pub async fn token(&self, state: &AppState) -> Result<String, ApiError> {
        let signature = crate::guard::sign_text(state, &self.payload()).await?;
        Ok(format!(
            "{}.{}.{}.{}.{signature}",
            self.key,
            self.expires,
            self.size,
            hex(self.file_name.as_bytes())
        ))
    }

    /// The file `token` vouches for, if the portal signed it and it has not expired.
    pub async fn from_token(state: &AppState, field: &str, token: &str) -> Result<Self, ApiError> {
        let bad = || ApiError::invalid(field, "is not an upload token of this portal");
        let parts: Vec<&str> = token.split('.').collect();
        let [key, expires, size, name, signature] = parts[..] else {
            return Err(bad());
        };
        let file_name = unhex(name)
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(bad)?;
        let announced = Announced {
            key: key.to_string(),
            media_type: type_of_name(&file_name).ok_or_else(bad)?,
            file_name,
            size: size.parse().map_err(|_| bad())?,
            expires: expires.parse().map_err(|_| bad())?,
        };
        let expected = crate::guard::sign_text(state, &announced.payload()).await?;
        if !crate::guard::same_secret(&expected, signature) {
            return Err(bad());
        }
        if announced.expires < portal_core::store::now() {
            return Err(ApiError::invalid(
                field,
                format!(
                    "the upload of `{}` has expired; choose the file again",
                    announced.file_name
                ),
            ));
        }
        Ok(announced)
    }
}

/// `POST /api/uploads` body: the file about to be uploaded.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewUpload {
    /// The file's name; its ending says its type (png, jpg, jpeg, gif, pdf, txt, log, csv).
    pub file_name: String,
    /// Its size in bytes (at most 10 MiB).
    pub size: u64,
    /// Its media type as the browser knows it; when given, it must agree with the name.
    #[serde(default)]
    pub media_type: Option<String>,
}

/// Where and how to send the file, and the token a form then names it by.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UploadSlot {
    /// The token to put in the form's `uploads` field once the file is sent.
    pub upload: String,
    /// The method to send the file with (`PUT`).
    pub method: String,
    /// Where to send it: a presigned S3 URL on AWS, `/api/uploads/{token}` on one machine.
    pub url: String,
    /// Headers to send with it, exactly as given.
    pub headers: std::collections::BTreeMap<String, String>,
    /// Until when the token and the URL work (Unix time).
    pub expires: i64,
}

/// The upload routes: announcing a file and, where the store has no presigned URLs, taking it.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/uploads", post(announce)).route(
        "/api/uploads/{token}",
        put(receive_bytes).layer(DefaultBodyLimit::max(MAX_FILE_BYTES + 1)),
    )
}

#[utoipa::path(post, path = "/api/uploads", tag = "issues", summary = "Announce a file and get where to send it",
    request_body(content((NewUpload = "application/json")), description = "The file's name and size"),
    responses((status = 201, description = "Send the file as `method` to `url` with `headers`, then name `upload` in the form's `uploads` field", body = UploadSlot),
        (status = 422, description = "A type or size the portal does not take; `field` names it", body = ErrorBody),
        (status = 429, description = "Too many uploads from this address", body = ErrorBody)))]
pub(crate) async fn announce(
    State(state): State<AppState>,
    ip: crate::guard::ClientIp,
    body: crate::input::Input<NewUpload>,
) -> Result<Response, ApiError> {
    let per_ip = state.site().settings().limits.posts_per_ip;
    let max = per_ip.saturating_mul(MAX_FILES as u32);
    crate::guard::limit(&state, "upload", &ip.0, max).await?;
    let v = body.value;
    let file_name = safe_name(&v.file_name);
    let Some(media_type) = type_of_name(&file_name) else {
        return Err(ApiError::invalid(
            "file_name",
            format!("`{file_name}` is not a file type we accept ({})", allowed()),
        ));
    };
    if let Some(given) = v.media_type.as_deref().filter(|t| !t.is_empty()) {
        // Browsers say text/x-log, application/octet-stream and the like for some endings;
        // only a claim of another accepted type contradicts the name.
        let claims_other = ALLOWED.iter().any(|(t, _)| *t == given) && given != media_type;
        if claims_other {
            return Err(ApiError::invalid(
                "media_type",
                format!("`{file_name}` is named as {media_type}, not {given}"),
            ));
        }
    }
    if v.size == 0 {
        return Err(ApiError::invalid("size", format!("`{file_name}` is empty")));
    }
    if v.size > MAX_FILE_BYTES as u64 {
        return Err(ApiError::invalid(
            "size",
            format!(
                "`{file_name}` is larger than {} MB",
                MAX_FILE_BYTES / (1024 * 1024)
            ),
        ));
    }
    let blobs = state.blobs.as_ref().ok_or_else(|| {
        ApiError::invalid(
            "file_name",
            "this portal cannot store files yet; send the form without them",
        )
    })?;
    let announced = Announced {
        key: portal_core::records::new_id(),
        file_name,
        media_type,
        size: v.size,
        expires: portal_core::store::now() + UPLOAD_VALID.as_secs() as i64,
    };
    let token = announced.token(&state).await?;
    let direct = blobs
        .upload_url(&announced.key, media_type, v.size, UPLOAD_VALID)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let slot = match direct {
        Some(d) => UploadSlot {
            upload: token,
            method: d.method,
            url: d.url,
            headers: d.headers.into_iter().collect(),
            expires: announced.expires,
        },
        None => UploadSlot {
            url: format!("/api/uploads/{token}"),
            upload: token,
            method: "PUT".into(),
            headers: [("content-type".to_string(), media_type.to_string())].into(),
            expires: announced.expires,
        },
    };
    Ok((StatusCode::CREATED, Json(slot)).into_response())
}

#[utoipa::path(put, path = "/api/uploads/{token}", tag = "issues", summary = "Send an announced file (where the store has no presigned URLs)",
    params(("token" = String, Path, description = "The `upload` token `POST /api/uploads` gave")),
    request_body(content((String = "application/octet-stream")), description = "The file's bytes, exactly the size announced"),
    responses((status = 204, description = "Received; name the token in the form's `uploads` field"),
        (status = 404, description = "The store takes files itself (send them to the URL the announcement gave)", body = ErrorBody),
        (status = 409, description = "The file was sent already", body = ErrorBody),
        (status = 422, description = "Not an upload token, expired, or not the size announced", body = ErrorBody)))]
pub(crate) async fn receive_bytes(
    State(state): State<AppState>,
    Path(token): Path<String>,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let announced = Announced::from_token(&state, "token", &token).await?;
    if bytes.len() as u64 != announced.size {
        return Err(ApiError::invalid(
            "token",
            format!(
                "`{}` was announced as {} bytes; {} were sent",
                announced.file_name,
                announced.size,
                bytes.len()
            ),
        ));
    }
    let blobs = state
        .blobs
        .as_ref()
        .ok_or_else(|| ApiError::invalid("token", "this portal cannot store files yet"))?;
    if blobs.takes_direct_uploads() {
        return Err(ApiError::NotFound(
            "files go to the URL `POST /api/uploads` gave".into(),
        ));
    }
    let internal = |e: portal_core::blobs::BlobError| ApiError::Internal(e.to_string());
    if blobs
        .size(&announced.key)
        .await
        .map_err(internal)?
        .is_some()
    {
        return Err(ApiError::Conflict(format!(
            "`{}` was sent already",
            announced.file_name
        )));
    }
    blobs
        .put(&announced.key, bytes.to_vec())
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn allowed() -> String {
    ALLOWED
        .iter()
        .flat_map(|(_, exts)| exts.iter())
        .copied()
        .collect::<Vec<_>>()
        .join(", ")
}

/// A file of a submission, in the blob store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFile {
    /// Its blob key (also its id in the records).
    pub key: String,
    /// Its safe name.
    pub file_name: String,
    /// The media type its content shows.
    pub media_type: &'static str,
    /// Its size in bytes.
    pub size: u64,
}

/// The files of a submission in `field`: those `sent` in the form, and those `uploaded`
/// beforehand (by their tokens), all checked, and kept under new keys of the portal's own.
///
/// An uploaded file is read, checked, and its checked bytes written under a new key, then
/// the upload is removed: what is kept is exactly what was checked, even if someone sends
/// new bytes to the upload's URL meanwhile, and a token cannot bring one file to two
/// records (once taken, the upload is gone). A refused upload is removed at once. On any
/// refusal, the files this call kept are removed again.
pub async fn receive(
    state: &AppState,
    field: &str,
    sent: Vec<Upload>,
    uploaded: &[String],
) -> Result<Vec<StoredFile>, ApiError> {
    if sent.len() + uploaded.len() > MAX_FILES {
        return Err(ApiError::invalid(
            field,
            format!("send at most {MAX_FILES} files"),
        ));
    }
    if let Some((i, _)) = uploaded
        .iter()
        .enumerate()
        .find(|(i, t)| uploaded[..*i].contains(t))
    {
        return Err(ApiError::invalid(
            UPLOADS_FIELD,
            format!("upload {} is named twice", i + 1),
        ));
    }
    let mut files = check(field, sent)?;
    if files.is_empty() && uploaded.is_empty() {
        return Ok(Vec::new());
    }
    let Some(blobs) = &state.blobs else {
        return Err(ApiError::invalid(
            field,
            "this portal cannot store files yet; send the form without them",
        ));
    };
    let internal = |e: portal_core::blobs::BlobError| ApiError::Internal(e.to_string());
    // First every upload is checked where it lies; nothing is kept until all pass.
    let mut taken = Vec::with_capacity(uploaded.len());
    for token in uploaded {
        let a = Announced::from_token(state, UPLOADS_FIELD, token).await?;
        let name = &a.file_name;
        let not_there = || {
            ApiError::invalid(
                UPLOADS_FIELD,
                format!("`{name}` has not arrived, or was sent with another form; send it again"),
            )
        };
        let size = blobs
            .size(&a.key)
            .await
            .map_err(internal)?
            .ok_or_else(not_there)?;
        // Refused files are removed at once: nothing unchecked stays in the store.
        let refuse = |e: ApiError| async {
            if let Err(d) = blobs.delete(&a.key).await {
                tracing::warn!("refused upload left behind: {d}");
            }
            Err(e)
        };
        if size != a.size || size > MAX_FILE_BYTES as u64 {
            return refuse(ApiError::invalid(
                UPLOADS_FIELD,
                format!(
                    "`{name}` was announced as {} bytes but {size} arrived (at most {} MB)",
                    a.size,
                    MAX_FILE_BYTES / (1024 * 1024)
                ),
            ))
            .await;
        }
        let bytes = blobs
            .get(&a.key)
            .await
            .map_err(internal)?
            .ok_or_else(not_there)?;
        let upload = Upload {
            field: UPLOADS_FIELD.into(),
            file_name: a.file_name.clone(),
            bytes,
        };
        match check(UPLOADS_FIELD, vec![upload]) {
            Ok(mut f) => {
                files.push(f.remove(0));
                taken.push(a.key);
            }
            Err(e) => return refuse(e).await,
        }
    }
    // Then the checked bytes are kept under new keys, and the uploads removed.
    let mut out = Vec::with_capacity(files.len());
    for f in files {
        // Time-ordered, so the files list in the order they were sent; the blob store is
        // private and a download needs the record's own check as well.
        let key = portal_core::records::new_id();
        let size = f.bytes.len() as u64;
        if let Err(e) = blobs.put(&key, f.bytes).await {
            forget(state, &out).await;
            return Err(internal(e));
        }
        out.push(StoredFile {
            key,
            file_name: f.file_name,
            media_type: f.media_type,
            size,
        });
    }
    for key in taken {
        if let Err(e) = blobs.delete(&key).await {
            tracing::warn!("a taken upload is left for the lifecycle rule: {e}");
        }
    }
    Ok(out)
}

/// Removes the files of a submission whose record was not written because of `e` — unless
/// `e` leaves it unknown whether the record was written (a store fault after which the
/// write may have committed, its answer lost): then the files may belong to a record, and
/// stay (an orphan costs storage; a removed file would cost the record its file).
pub async fn forget_unless_written(
    state: &AppState,
    files: &[StoredFile],
    e: &portal_core::records::RecordError,
) {
    let unknown = matches!(
        e,
        portal_core::records::RecordError::Store(portal_core::store::StoreError::Backend { .. })
    );
    if !unknown {
        forget(state, files).await;
    } else if !files.is_empty() {
        tracing::warn!("files kept after a write of unknown outcome: {e}");
    }
}

/// Removes the files of a submission that was refused.
pub async fn forget(state: &AppState, files: &[StoredFile]) {
    if let Some(blobs) = &state.blobs {
        for f in files {
            if let Err(e) = blobs.delete(&f.key).await {
                tracing::warn!("file left behind: {e}");
            }
        }
    }
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
