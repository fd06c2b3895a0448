//! Secured documents for staff and integrations: a file shared with one customer, by the
//! business's own id. The file goes ahead as any form's does (`POST /api/uploads`, then the
//! bytes to the URL it gives: straight to S3 on AWS, so its size is not bound by Lambda's
//! payload limit), and the document names its upload token; the file is checked by its
//! content when the document arrives and kept under a key of the portal's own.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use portal_core::records::reports::{SecuredDocument, Shared};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::billing::date;
use super::key::Staff;
use super::own_id;
use crate::error::ApiError;
#[allow(unused_imports)]
use crate::error::ErrorBody;
use crate::input::{self, Input};
use crate::state::AppState;
use crate::uploads::{forget, keep_with, receive};

/// A document to share.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DocumentInput {
    /// Title shown to the customer.
    #[serde(default)]
    #[schema(
        required = true,
        pattern = "rule:line",
        min_length = 1,
        max_length = 200
    )]
    pub title: String,
    /// Date, `YYYY-MM-DD`.
    #[serde(default)]
    #[schema(required = true, pattern = "rule:date")]
    pub date: String,
    /// The upload token of its file (`POST /api/uploads`, then the file sent to its URL).
    #[serde(default)]
    #[schema(
        required = true,
        pattern = "rule:line",
        min_length = 1,
        max_length = 1000
    )]
    pub upload: String,
}

/// A shared document as staff see it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StaffDocument {
    /// The customer.
    pub customer_id: String,
    /// The business's id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Date.
    pub date: String,
    /// The file's name.
    pub file_name: String,
    /// Its media type, as its content shows.
    pub media_type: String,
    /// Its size in bytes.
    pub size: u64,
}

#[utoipa::path(put, path = "/api/staff/customers/{id}/documents/{document}", tag = "staff", summary = "Share a document (a file uploaded beforehand) with a customer, by the business's own id; sent again, it replaces the file",
    params(("id" = String, Path, description = "The customer"), ("document" = String, Path, description = "The business's id for the document")),
    security(("api_key" = ["documents:write"])), request_body(content((DocumentInput = "application/json"))),
    responses((status = 200, description = "Replaced", body = StaffDocument), (status = 201, description = "Shared", body = StaffDocument),
        (status = 401, description = "No key, or an unknown or revoked one", body = ErrorBody), (status = 403, description = "The key lacks documents:write", body = ErrorBody),
        (status = 404, description = "No such customer", body = ErrorBody), (status = 422, description = "A field is wrong (`upload`: not a token, not arrived, or a file the portal does not take)", body = ErrorBody)))]
pub(crate) async fn put(
    State(state): State<AppState>,
    staff: Staff,
    Path((customer, id)): Path<(String, String)>,
    body: Input<DocumentInput>,
) -> Result<Response, ApiError> {
    let v = body.value;
    if v.upload.trim().is_empty() {
        return Err(ApiError::invalid(
            "upload",
            "name the upload token of the file",
        ));
    }
    let (status, document) = share(
        &state,
        &staff,
        (&customer, &id),
        (&v.title, &v.date),
        Vec::new(),
        &[v.upload.trim().to_string()],
    )
    .await?;
    Ok((status, Json(document)).into_response())
}

/// The operation behind both doors: shares document `id` (titled and dated as `about`
/// says) with `customer`, its one file sent with the request (`sent`, the desk's form) or
/// uploaded beforehand (`uploaded`, the API); sent again, it replaces the file. Answers
/// 201 for a new document, 200 for a replaced one.
pub(crate) async fn share(
    state: &AppState,
    staff: &Staff,
    (customer, id): (&str, &str),
    (title, day): (&str, &str),
    sent: Vec<crate::uploads::Upload>,
    uploaded: &[String],
) -> Result<(StatusCode, StaffDocument), ApiError> {
    staff.may("documents:write")?;
    let customer = own_id("id", customer)?;
    let id = own_id("document", id)?;
    let title = input::line("title", title, 200)?;
    let day = date("date", day)?;
    if sent.len() + uploaded.len() != 1 {
        return Err(ApiError::invalid("upload", "send exactly one file"));
    }
    let files = receive(state, "upload", sent, uploaded)
        .await
        // The forms' field is `uploads`; here it is `upload`.
        .map_err(|e| match e {
            ApiError::Invalid { message, .. } => ApiError::invalid("upload", message),
            other => other,
        })?;
    let Some(file) = files.first() else {
        return Err(ApiError::invalid("upload", "send exactly one file"));
    };
    let document = SecuredDocument {
        customer_id: customer.clone(),
        id: id.clone(),
        title,
        file_name: file.file_name.clone(),
        media_type: file.media_type.to_string(),
        size: file.size,
        date: day,
        blob: Some(file.key.clone()),
    };
    let audit = staff.audit(
        "document.shared",
        Some(&customer),
        format!("customer {customer} document {id}"),
        json!({ "title": document.title, "file_name": document.file_name, "size": document.size }),
    )?;
    let shared = Shared::new(state.store.clone());
    let replaced = keep_with(state, &files, shared.put_document(&document, audit)).await?;
    // The file it replaced is no one's any more.
    if let Some(old) = &replaced {
        let gone = crate::uploads::StoredFile {
            key: old.blob.clone().unwrap_or_else(|| old.id.clone()),
            file_name: old.file_name.clone(),
            media_type: "application/octet-stream",
            size: old.size,
        };
        forget(state, &[gone]).await;
    }
    let status = if replaced.is_some() {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, staff_document(document)))
}

fn staff_document(d: SecuredDocument) -> StaffDocument {
    StaffDocument {
        customer_id: d.customer_id,
        id: d.id,
        title: d.title,
        date: d.date,
        file_name: d.file_name,
        media_type: d.media_type,
        size: d.size,
    }
}

#[utoipa::path(get, path = "/api/staff/customers/{id}/documents", tag = "staff", summary = "The documents shared with a customer, newest first",
    params(("id" = String, Path, description = "The customer")),
    security(("api_key" = ["documents:read"])),
    responses((status = 200, description = "The documents", body = Vec<StaffDocument>), (status = 401, description = "No key, or an unknown or revoked one", body = ErrorBody),
        (status = 403, description = "The key lacks documents:read", body = ErrorBody), (status = 422, description = "Not an id", body = ErrorBody)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    staff: Staff,
    Path(customer): Path<String>,
) -> Result<Json<Vec<StaffDocument>>, ApiError> {
    Ok(Json(documents_of(&state, &staff, &customer).await?))
}

/// The operation behind both doors: the documents shared with `customer`, newest first.
pub(crate) async fn documents_of(
    state: &AppState,
    staff: &Staff,
    customer: &str,
) -> Result<Vec<StaffDocument>, ApiError> {
    staff.may("documents:read")?;
    let customer = own_id("id", customer)?;
    let shared = Shared::new(state.store.clone());
    let (documents, ()) = tokio::try_join!(
        async { Ok::<_, ApiError>(shared.documents(&customer).await?) },
        super::customers::must_exist(state, &customer)
    )?;
    Ok(documents.into_iter().map(staff_document).collect())
}
