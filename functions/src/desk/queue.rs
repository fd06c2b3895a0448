//! `/desk/`: the queue — issues, cases and bugs by binder, status, assignee and age, with
//! counts per binder and status, oldest first, and a search over what was said in them. It reads through the staff API's queue
//! operation ([`crate::staff::issues::queue_of`]), so both doors show the same issues.

use std::collections::BTreeMap;

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use portal_core::store::now;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::staff::issues::{queue_with, QueueEntry, QueueParams, Texts};
use crate::staff::Staff;
use crate::state::AppState;

use super::page::desk_page;
use super::session::DeskUser;

/// The status that means the business waits for the submitter.
pub const WAITING: &str = "waiting on customer";

/// At most this many issues are read for one screen (counts included); beyond it the screen
/// says so.
const MOST: usize = 5000;

/// The queue's filters, as the screen's links and form send them.
#[derive(Debug, Default, Deserialize, Serialize)]
pub struct Filters {
    /// One binder.
    #[serde(default)]
    pub binder: String,
    /// One status.
    #[serde(default)]
    pub status: String,
    /// `mine`, `unassigned`, `waiting`, or all.
    #[serde(default)]
    pub view: String,
    /// Only one customer's cases and bugs.
    #[serde(default)]
    pub customer: String,
    /// Words the subject, the description or a note contains.
    #[serde(default)]
    pub q: String,
    /// `newest` for the newest first (oldest first by default).
    #[serde(default)]
    pub order: String,
}

/// A row of the queue.
#[derive(Debug, Serialize)]
struct Row {
    #[serde(flatten)]
    entry: QueueEntry,
    /// Days since it was filed.
    age_days: i64,
}

/// A count with its filter value.
#[derive(Debug, Serialize)]
struct Count {
    name: String,
    count: usize,
}

/// What the queue screen shows.
#[derive(Debug, Serialize)]
struct QueueScreen {
    rows: Vec<Row>,
    shown: usize,
    binders: Vec<Count>,
    statuses: Vec<Count>,
    filters: Filters,
    /// Whether there were more issues than one screen reads.
    truncated: bool,
}

/// Every issue the queue operation finds for `params`, up to [`MOST`], and whether there
/// were more (or the search looked through only part of what was said).
pub(crate) async fn everything(
    state: &AppState,
    staff: &Staff,
    mut params: QueueParams,
) -> Result<(Vec<QueueEntry>, bool), ApiError> {
    params.limit = Some(1000);
    let mut all = Vec::new();
    let mut texts = Texts::default();
    loop {
        let page = queue_with(state, staff, &params, &mut texts).await?;
        all.extend(page.issues);
        match page.next {
            Some(next) if all.len() < MOST => params.cursor = Some(next),
            Some(_) => return Ok((all, true)),
            None => return Ok((all, texts.incomplete())),
        }
    }
}

/// `GET /desk/`.
pub(crate) async fn page(
    State(state): State<AppState>,
    user: DeskUser,
    Query(filters): Query<Filters>,
) -> Result<Response, ApiError> {
    let staff = user.staff();
    let binder = Some(filters.binder.clone()).filter(|b| !b.is_empty());
    let params = QueueParams {
        binder,
        customer: Some(filters.customer.clone()).filter(|c| !c.is_empty()),
        q: Some(filters.q.trim().to_string()).filter(|q| !q.is_empty()),
        ..QueueParams::default()
    };
    let (all, truncated) = everything(&state, &staff, params).await?;
    let mut binders: BTreeMap<String, usize> = state
        .site()
        .settings()
        .binders
        .iter()
        .map(|b| (b.id.clone(), 0))
        .collect();
    let mut statuses: BTreeMap<String, usize> = BTreeMap::new();
    for e in &all {
        *binders.entry(e.binder.clone()).or_default() += 1;
        *statuses.entry(e.status.clone()).or_default() += 1;
    }
    let me = user.member.email.to_lowercase();
    let mut rows: Vec<Row> = all
        .into_iter()
        .filter(|e| filters.status.is_empty() || e.status == filters.status)
        .filter(|e| match filters.view.as_str() {
            "mine" => e.assignee.as_deref().map(str::to_lowercase).as_deref() == Some(&me),
            "unassigned" => e.assignee.is_none(),
            "waiting" => e.status == WAITING,
            _ => true,
        })
        .map(|entry| Row {
            age_days: (now() - entry.created).max(0) / 86_400,
            entry,
        })
        .collect();
    rows.sort_by_key(|r| (r.entry.created, r.entry.number.clone()));
    if filters.order == "newest" {
        rows.reverse();
    }
    let shown = rows.len();
    let count = |m: BTreeMap<String, usize>| {
        m.into_iter()
            .map(|(name, count)| Count { name, count })
            .collect::<Vec<_>>()
    };
    let screen = QueueScreen {
        rows,
        shown,
        binders: count(binders),
        statuses: count(statuses),
        filters,
        truncated,
    };
    Ok(
        desk_page(&state, &user, screen, "desk/queue.html", "Queue", "/desk/")
            .await?
            .into_response(),
    )
}
