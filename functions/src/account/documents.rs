//! The documents a customer sees: those staff shared with this customer (records and blobs),
//! then the customers-only documents of the content (in the build's private folder).

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use portal_core::records::reports::{SecuredDocument, Shared};
use portal_core::site::customer_document_url;
use serde::Serialize;

use crate::auth::SignedIn;
use crate::error::ApiError;
#[allow(unused_imports)]
use crate::error::{ErrorBody, MessageBody};
use crate::state::AppState;

use super::files::*;

/// A document shared with the customer, or published for all customers.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DocumentView {
    /// Title.
    pub title: String,
    /// What it is (documents published for all customers).
    pub description: String,
    /// Date.
    pub date: String,
    /// `shared` with this customer, or `published` for every customer.
    pub kind: &'static str,
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

#[utoipa::path(get, path = "/api/my/documents", tag = "account", summary = "Documents shared with this customer, then those published for all customers",
    responses((status = 200, description = "Documents", body = Vec<DocumentView>), (status = 401, description = "Not logged in", body = ErrorBody)))]
pub(crate) async fn documents_json(
    State(state): State<AppState>,
    who: SignedIn,
) -> Result<Response, ApiError> {
    Ok(Json(documents(&state, &who).await?).into_response())
}

/// The documents shared with the customer, then those published for all customers.
pub(crate) async fn documents(
    state: &AppState,
    who: &SignedIn,
) -> Result<Vec<DocumentView>, ApiError> {
    let site = state.site();
    let published = site.data.documents.iter().map(|d| DocumentView {
        title: d.title.clone(),
        description: d.description.clone(),
        date: d.date.clone().unwrap_or_default(),
        kind: "published",
        file: FileView {
            id: d.file_name.clone(),
            file_name: d.file_name.clone(),
            media_type: d.media_type.clone(),
            size: d.size,
            url: customer_document_url(&d.file_name),
        },
    });
    Ok(own_documents(state, who)
        .await?
        .into_iter()
        .map(|d| DocumentView {
            title: d.title,
            description: String::new(),
            date: d.date,
            kind: "shared",
            file: FileView {
                url: format!("/api/my/documents/{}", d.id),
                id: d.id,
                file_name: d.file_name,
                media_type: d.media_type,
                size: d.size,
            },
        })
        .chain(published)
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

#[utoipa::path(get, path = "/my/documents/{file}", tag = "account", summary = "Download a document the content publishes for customers only",
    params(("file" = String, Path, description = "The document's file name")),
    responses((status = 200, description = "The file, as an attachment", content_type = "application/octet-stream"), (status = 303, description = "Not logged in: to /login"), (status = 404, description = "No such document", content_type = "text/html")))]
pub(crate) async fn published(
    State(state): State<AppState>,
    _who: SignedIn,
    Path(file): Path<String>,
) -> Result<Response, ApiError> {
    let site = state.site();
    // Only a name the build listed is served, so no address reaches another file.
    let d = site
        .data
        .documents
        .iter()
        .find(|d| d.file_name == file)
        .ok_or_else(|| ApiError::NotFound(format!("there is no document `{file}`")))?;
    let path = site.private.join("my").join("documents").join(&d.file_name);
    let bytes = tokio::fs::read(&path)
        .await
        .map_err(|e| ApiError::Internal(format!("{}: {e}", path.display())))?;
    Ok(crate::uploads::as_download(
        bytes,
        &d.file_name,
        &d.media_type,
    ))
}
