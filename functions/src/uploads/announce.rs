//! Files sent ahead of their form: the signed upload token, `POST /api/uploads` and, where
//! the store has no presigned URLs, `PUT /api/uploads/{token}`.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
#[allow(unused_imports)]
use crate::error::{ErrorBody, MessageBody};
use crate::state::AppState;

use super::checks::*;
use crate::fields::{MAX_FILES, MAX_FILE_BYTES};

/// How long an upload token, and the URL it comes with, may be used.
pub const UPLOAD_VALID: Duration = Duration::from_secs(3600);

pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(super) fn unhex(text: &str) -> Option<Vec<u8>> {
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
    /// The file's name; its ending says its type (png, jpg, jpeg, gif, pdf, txt, log, csv, docx,
    /// xlsx, pptx, odt, ods, zip).
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
    Router::new()
        .route(
            "/api/uploads",
            post(announce).layer(DefaultBodyLimit::max(crate::fields::MAX_BODY)),
        )
        .route(
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
