//! A file of the customer area as listed and as downloaded (privately).

use axum::response::Response;
use serde::Serialize;

use crate::error::ApiError;
#[allow(unused_imports)]
use crate::error::{ErrorBody, MessageBody};
use crate::state::AppState;

/// A file that can be downloaded.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FileView {
    /// Identifier.
    pub id: String,
    /// File name.
    pub file_name: String,
    /// Media type.
    pub media_type: String,
    /// Size in bytes.
    pub size: u64,
    /// Where to download it.
    pub url: String,
}

/// Serves a stored file as a download, privately.
pub(crate) async fn download(
    state: &AppState,
    key: &str,
    file_name: &str,
    media_type: &str,
) -> Result<Response, ApiError> {
    crate::uploads::download(state, key, file_name, media_type).await
}
