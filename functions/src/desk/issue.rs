//! `/desk/issues/{number}`: an issue with its whole thread — public replies and internal notes
//! apart, when its tracking link was last opened — and the forms to reply (mailed, with
//! files), to note, and to change status, assignee and category. Each form goes through the same operation as the staff API
//! ([`crate::staff::issues`]); a change names the version the member read, so a change made
//! meanwhile by someone else is refused with a clear message and nothing is overwritten.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use portal_core::records::staff::Members;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::idempotent::Idem;
use crate::input::{Input, WithFiles};
use crate::staff::issues::{add_note, change_issue, read, IssueChange, NewStaffNote, StaffIssue};
use crate::state::AppState;
use crate::view::{done_now, done_with};

use super::page::desk_page;
use super::session::DeskUser;

/// A colleague the issue can be assigned to.
#[derive(Debug, Serialize)]
struct Colleague {
    email: String,
    name: String,
}

/// What the issue screen shows.
#[derive(Debug, Serialize)]
struct IssueScreen {
    issue: StaffIssue,
    colleagues: Vec<Colleague>,
}

/// `GET /desk/issues/{number}`.
pub(crate) async fn page(
    State(state): State<AppState>,
    user: DeskUser,
    Path(number): Path<String>,
) -> Result<Response, ApiError> {
    let issue = read(&state, &user.staff(), &number).await?;
    let colleagues = Members::new(state.store.clone())
        .list()
        .await?
        .into_iter()
        .filter(|m| !m.record.disabled)
        .map(|m| Colleague {
            email: m.record.email,
            name: m.record.name,
        })
        .collect();
    let title = format!("{} {}", issue.number, issue.subject);
    let url = format!("/desk/issues/{}", issue.number);
    let screen = IssueScreen { issue, colleagues };
    Ok(
        desk_page(&state, &user, screen, "desk/issue.html", &title, &url)
            .await?
            .into_response(),
    )
}

/// The issue's screen at `anchor`, where a form on it goes on to.
fn back_to(number: &str, anchor: &str) -> String {
    format!("/desk/issues/{number}#{anchor}")
}

/// `POST /desk/issues/{number}/replies`: a reply, mailed to the submitter, with files.
pub(crate) async fn reply(
    State(state): State<AppState>,
    user: DeskUser,
    Path(number): Path<String>,
    body: WithFiles<NewStaffNote>,
) -> Result<Response, ApiError> {
    let from_form = body.from_form;
    let answer = add_note(&state, &user.staff(), &number, body, true, Idem::default()).await?;
    Ok(done_with(from_form, &back_to(&number, "thread"), answer))
}

/// `POST /desk/issues/{number}/notes`: an internal note, with files.
pub(crate) async fn note(
    State(state): State<AppState>,
    user: DeskUser,
    Path(number): Path<String>,
    body: WithFiles<NewStaffNote>,
) -> Result<Response, ApiError> {
    let from_form = body.from_form;
    let answer = add_note(&state, &user.staff(), &number, body, false, Idem::default()).await?;
    Ok(done_with(from_form, &back_to(&number, "thread"), answer))
}

/// A change of status and assignee, with the version the form was made from.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeskChange {
    /// The status.
    #[serde(default)]
    pub status: Option<String>,
    /// The assignee's address; empty to unassign.
    #[serde(default)]
    pub assignee: Option<String>,
    /// The category; empty for none.
    #[serde(default)]
    pub category: Option<String>,
    /// The version of the issue the form showed.
    #[serde(default)]
    pub version: String,
}

/// `POST /desk/issues/{number}`: status and assignee.
pub(crate) async fn change(
    State(state): State<AppState>,
    user: DeskUser,
    Path(number): Path<String>,
    body: Input<DeskChange>,
) -> Result<Response, ApiError> {
    let from_form = body.from_form;
    let DeskChange {
        status,
        assignee,
        category,
        version,
    } = body.value;
    let read_at: u64 = version
        .trim()
        .parse()
        .map_err(|_| ApiError::invalid("version", "reload the issue and change it again"))?;
    let fresh = |now_at: u64| {
        if now_at == read_at {
            Ok(())
        } else {
            Err(ApiError::Conflict(
                "someone changed this issue since you opened it; nothing was changed. Open it again to see what changed, then make your change"
                    .into(),
            ))
        }
    };
    let view = change_issue(
        &state,
        &user.staff(),
        &number,
        fresh,
        IssueChange {
            status,
            assignee,
            category,
        },
    )
    .await?;
    Ok(done_now(
        from_form,
        &back_to(&number, "status"),
        StatusCode::OK,
        &view,
    ))
}
