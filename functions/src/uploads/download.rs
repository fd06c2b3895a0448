//! Files served back, only ever as downloads.

use std::time::Duration;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
#[allow(unused_imports)]
use crate::error::{ErrorBody, MessageBody};
use crate::state::AppState;

/// How long a download link works.
pub const DOWNLOAD_VALID: Duration = Duration::from_secs(300);

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
    Ok(as_download(bytes, file_name, media_type))
}

/// `bytes` as a download named `file_name`: `Content-Disposition: attachment`, `nosniff`,
/// and a sandboxing CSP.
pub fn as_download(bytes: Vec<u8>, file_name: &str, media_type: &str) -> Response {
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
    r
}
