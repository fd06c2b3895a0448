//! The documents shared with a customer.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use portal_core::records::reports::{SecuredDocument, Shared};
use serde::Serialize;

use crate::auth::SignedIn;
use crate::error::ApiError;
#[allow(unused_imports)]
use crate::error::{ErrorBody, MessageBody};
use crate::state::AppState;

use super::files::*;

/// A document shared with the customer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DocumentView {
    /// Title.
    pub title: String,
    /// Date.
    pub date: String,
    /// The file.
    pub file: FileView,
}

pub(super) async fn own_documents(
    state: &AppState,
    who: &SignedIn,
) -> Result<Vec<SecuredDocument>, ApiError> {
    Ok(Shared::new(state.store.clone())
        .documents(&who.session.customer_id)
        .await?)
}

#[utoipa::path(get, path = "/api/my/documents", tag = "account", summary = "Documents shared with this customer",
    responses((status = 200, description = "Documents", body = Vec<DocumentView>), (status = 401, description = "Not logged in", body = ErrorBody)))]
pub(crate) async fn documents_json(
    State(state): State<AppState>,
    who: SignedIn,
) -> Result<Response, ApiError> {
    Ok(Json(documents(&state, &who).await?).into_response())
}

/// The documents shared with the customer.
pub(crate) async fn documents(
    state: &AppState,
    who: &SignedIn,
) -> Result<Vec<DocumentView>, ApiError> {
    Ok(own_documents(state, who)
        .await?
        .into_iter()
        .map(|d| DocumentView {
            title: d.title,
            date: d.date,
            file: FileView {
                url: format!("/api/my/documents/{}", d.id),
                id: d.id,
                file_name: d.file_name,
                media_type: d.media_type,
                size: d.size,
            },
        })
        .collect())
}

#[utoipa::path(get, path = "/api/my/documents/{id}", tag = "account", summary = "Download a shared document",
    params(("id" = String, Path, description = "The document")),
    responses((status = 200, description = "The file, as an attachment", content_type = "application/octet-stream"), (status = 401, description = "Not logged in", body = ErrorBody), (status = 404, description = "Not in this account", body = ErrorBody)))]
pub(crate) async fn document(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let d = own_documents(&state, &who)
        .await?
        .into_iter()
        .find(|d| d.id == id)
        .ok_or_else(|| ApiError::NotFound("there is no such document in your account".into()))?;
    download(
        &state,
        d.blob.as_deref().unwrap_or(&d.id),
        &d.file_name,
        &d.media_type,
    )
    .await
}
