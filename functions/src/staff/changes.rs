//! The change feed for integrations: every change visitors, customers and staff make, in
//! order, with a cursor to poll from (see [`portal_core::records::feed`] for why a reader
//! that keeps polling never misses one).

use axum::extract::{Query, State};
use axum::Json;
use portal_core::records::feed::{Feed, SETTLE_SECONDS};
use serde::{Deserialize, Serialize};

use super::key::Staff;
use crate::error::ApiError;
#[allow(unused_imports)]
use crate::error::ErrorBody;
use crate::state::AppState;

/// Where to read from.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChangesParams {
    /// The `cursor` of the previous page (none: from `since`, or the oldest kept, 35 days).
    pub cursor: Option<String>,
    /// Without a cursor: start at this time (Unix seconds).
    pub since: Option<i64>,
    /// At most this many events (1–1,000; 100 when left out).
    pub limit: Option<usize>,
}

/// An event.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChangeEvent {
    /// Identifier: delivery is at least once, so de-duplicate by it.
    pub id: String,
    /// What happened, e.g. `issue.filed`, `issue.replied`, `invoice.put`.
    pub kind: String,
    /// When, in microseconds since 1970.
    pub at: i64,
    /// Who: `visitor`, a login's e-mail address, `key:NAME`.
    pub actor: String,
    /// The customer it concerns, if any.
    pub customer_id: Option<String>,
    /// The record, e.g. `issue KST-2026-000123`.
    pub subject: String,
    /// The fields that changed, enough to act on without another read.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

/// A page of the feed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChangesPage {
    /// Events, oldest first.
    pub events: Vec<ChangeEvent>,
    /// Give it back as `cursor` for what follows (there always is one).
    pub cursor: String,
    /// Whether this is the end for now: poll again later with `cursor`.
    pub caught_up: bool,
    /// How long after it happens an event appears here, in seconds.
    pub delay_seconds: i64,
}

#[utoipa::path(get, path = "/api/staff/changes", tag = "staff", summary = "The change feed: every change, in order, from a cursor",
    params(ChangesParams), security(("api_key" = ["changes:read"])),
    responses((status = 200, description = "A page of events", body = ChangesPage), (status = 401, description = "No key, or an unknown or revoked one", body = ErrorBody), (status = 403, description = "The key lacks changes:read", body = ErrorBody), (status = 422, description = "A parameter is wrong", body = ErrorBody)))]
pub(crate) async fn changes(
    State(state): State<AppState>,
    staff: Staff,
    Query(p): Query<ChangesParams>,
) -> Result<Json<ChangesPage>, ApiError> {
    staff.may("changes:read")?;
    let limit = p.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::invalid("limit", "give a number from 1 to 1000"));
    }
    let page = Feed::new(state.store.clone())
        .read(p.cursor.as_deref(), p.since, limit)
        .await
        .map_err(|e| match e {
            portal_core::records::RecordError::Conflict(m) => ApiError::invalid("cursor", m),
            other => other.into(),
        })?;
    Ok(Json(ChangesPage {
        events: page
            .events
            .into_iter()
            .map(|e| ChangeEvent {
                id: e.id,
                kind: e.kind,
                at: e.at,
                actor: e.actor,
                customer_id: e.customer_id,
                subject: e.subject,
                data: e.data,
            })
            .collect(),
        cursor: page.cursor,
        caught_up: page.caught_up,
        delay_seconds: SETTLE_SECONDS,
    }))
}
