//! Following an issue with its private tracking link: status, history, public notes and
//! files, as JSON and as a page.

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use portal_core::records::issues::{Issue, Issues, StatusChange};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
#[allow(unused_imports)]
use crate::error::{ErrorBody, MessageBody};
use crate::state::AppState;
use crate::view::View;

/// An attachment as a tracking link lists it.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TrackedAttachment {
    /// Identifier, for the download link.
    pub id: String,
    /// File name.
    pub file_name: String,
    /// Media type.
    pub media_type: String,
    /// Size in bytes.
    pub size: u64,
}

/// What a tracking link shows.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Tracked {
    /// Tracking number.
    pub number: String,
    /// Subject.
    pub subject: String,
    /// Current status.
    pub status: String,
    /// Every status with when it was set.
    #[schema(value_type = Vec<Object>)]
    pub history: Vec<StatusChange>,
    /// Public notes, oldest first.
    pub notes: Vec<TrackedNote>,
    /// Files sent with it; download at `/api/track/{token}/attachments/{id}`.
    #[serde(default)]
    pub attachments: Vec<TrackedAttachment>,
    /// Unix seconds.
    pub created: i64,
}

/// A public note as the submitter sees it.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TrackedNote {
    /// Author.
    pub author: String,
    /// Text.
    pub body: String,
    /// Unix seconds.
    pub created: i64,
}

/// The answer to a tracking token that opens nothing.
pub(super) fn unknown() -> ApiError {
    ApiError::NotFound("no issue has this tracking link; check the link in your e-mail".into())
}

/// Tokens are 32 hexadecimal digits; anything else opens nothing, without a lookup.
pub(super) fn well_formed(token: &str) -> Result<(), ApiError> {
    if token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(unknown())
    }
}

/// The issue a tracking token opens.
pub(super) async fn tracked_issue(state: &AppState, token: &str) -> Result<Issue, ApiError> {
    well_formed(token)?;
    Ok(Issues::new(state.store.clone())
        .by_tracking_token(token)
        .await?
        .ok_or_else(unknown)?
        .record)
}

pub(super) async fn tracked(state: &AppState, token: &str) -> Result<Tracked, ApiError> {
    well_formed(token)?;
    let thread = Issues::new(state.store.clone())
        .thread_by_token(token, false)
        .await?
        .ok_or_else(unknown)?;
    let issue = thread.issue.ok_or_else(unknown)?.record;
    let attachments = thread
        .attachments
        .into_iter()
        .map(|a| TrackedAttachment {
            id: a.id,
            file_name: a.file_name,
            media_type: a.media_type,
            size: a.size,
        })
        .collect();
    let notes = thread
        .notes
        .into_iter()
        .map(|n| TrackedNote {
            author: n.author,
            body: n.body,
            created: n.created,
        })
        .collect();
    Ok(Tracked {
        number: issue.number,
        subject: issue.subject,
        status: issue.status,
        history: issue.history,
        notes,
        attachments,
        created: issue.created,
    })
}

/// `GET /api/track/{token}/attachments/{id}`: a file of the issue, always as a download.
#[utoipa::path(get, path = "/api/track/{token}/attachments/{id}", tag = "issues", summary = "Download a file of the issue", params(("token" = String, Path, description = "The tracking token"), ("id" = String, Path, description = "The attachment")), responses((status = 200, description = "The file, as an attachment", content_type = "application/octet-stream"), (status = 303, description = "To a short-lived link that downloads the file (where the store gives such links)"), (status = 404, description = "Not found", body = ErrorBody)))]
pub(crate) async fn download(
    State(state): State<AppState>,
    Path((token, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let issue = tracked_issue(&state, &token).await?;
    let gone = || ApiError::NotFound("this issue has no such attachment".into());
    if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(gone());
    }
    let a = Issues::new(state.store.clone())
        .attachments(&issue.id, false)
        .await?
        .into_iter()
        .find(|a| a.id == id)
        .ok_or_else(gone)?;
    Ok(private(
        crate::uploads::download(&state, &a.id, &a.file_name, &a.media_type).await?,
    ))
}

pub(super) fn private(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert("x-robots-tag", HeaderValue::from_static("noindex"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[utoipa::path(get, path = "/api/track/{token}", tag = "issues", summary = "Status, history, public notes and files of an issue", params(("token" = String, Path, description = "The 32-character token from the link")), responses((status = 200, description = "The issue", body = Tracked), (status = 404, description = "No issue has this link", body = ErrorBody)))]
pub(crate) async fn track(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    private(
        tracked(&state, &token)
            .await
            .map(|t| {
                let title = format!("Issue {}", t.number);
                View::new(t, "track.html", "issue")
                    .titled("support", title, "/issues/track")
                    .with("token", &token)
            })
            .into_response(),
    )
}

/// The tracking page: [`track`] through the site's door.
#[utoipa::path(get, path = "/track/{token}", tag = "issues", summary = "The tracking page (HTML)", params(("token" = String, Path, description = "The 32-character token from the link")), responses((status = 200, description = "The page", content_type = "text/html"), (status = 404, description = "No issue has this link", content_type = "text/html")))]
#[allow(dead_code)]
pub(crate) fn track_page() {}
