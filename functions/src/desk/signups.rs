//! Sign-ups on the desk (managers): each event's registrations and waiting list, each
//! newsletter's subscribers — both also as CSV downloads — and the queue of requests and
//! appointment requests with their statuses. Every screen shows what the staff API's handler
//! for the same list answers (`crate::staff::registrations`), read back from its JSON, and
//! every download *is* that handler's CSV answer.

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::input::Input;
use crate::staff::registrations::{self as lists, ListParams, StatusChange};
use crate::staff::Staff;
use crate::state::AppState;
use crate::view::done_with;

use super::page::{api_body, desk_page, json_of};
use super::session::DeskUser;

fn params(csv: bool) -> Query<ListParams> {
    Query(ListParams {
        cursor: None,
        limit: Some(1000),
        format: csv.then(|| "csv".to_string()),
    })
}

/// An event with registration, as the events screen lists it.
#[derive(Debug, Serialize)]
struct EventRow {
    slug: String,
    title: String,
    when: String,
    capacity: Option<u32>,
}

/// `GET /desk/events`: the events that take registrations, soonest first.
pub(crate) async fn events(
    State(state): State<AppState>,
    user: DeskUser,
) -> Result<Response, ApiError> {
    user.staff().may("registrations:read")?;
    let site = state.site();
    let mut rows: Vec<(i64, EventRow)> = site
        .data
        .events
        .iter()
        .map(|e| {
            (
                e.starts,
                EventRow {
                    slug: e.slug.clone(),
                    title: e.title.clone(),
                    when: e.when.clone(),
                    capacity: e.capacity,
                },
            )
        })
        .collect();
    rows.sort_by_key(|(starts, _)| *starts);
    let newsletters = site.data.settings.newsletters.clone();
    let data = serde_json::json!({
        "events": rows.into_iter().map(|(_, r)| r).collect::<Vec<_>>(),
        "newsletters": newsletters,
    });
    Ok(desk_page(
        &state,
        &user,
        data,
        "desk/events.html",
        "Events and newsletters",
        "/desk/events",
    )
    .await?
    .into_response())
}

/// `GET /desk/events/{event}`: who is coming, and who waits.
pub(crate) async fn event(
    State(state): State<AppState>,
    user: DeskUser,
    Path(slug): Path<String>,
) -> Result<Response, ApiError> {
    let info = state
        .site()
        .data
        .events
        .iter()
        .find(|e| e.slug == slug)
        .map(|e| (e.title.clone(), e.when.clone()))
        .ok_or_else(|| ApiError::NotFound(format!("there is no event {slug}")))?;
    let answer = lists::event_registrations(
        State(state.clone()),
        user.staff(),
        Path(slug.clone()),
        params(false),
    )
    .await;
    let registrations = match answer {
        Ok(a) => json_of(a).await?,
        // No registration was ever taken: an empty list, not an error.
        Err(ApiError::NotFound(_)) => serde_json::json!({ "registrations": [] }),
        Err(e) => return Err(e),
    };
    let data = serde_json::json!({
        "slug": slug, "title": info.0, "when": info.1, "list": registrations,
    });
    let url = format!("/desk/events/{slug}");
    Ok(
        desk_page(&state, &user, data, "desk/event.html", &info.0, &url)
            .await?
            .into_response(),
    )
}

/// `GET /desk/events/{event}/registrations.csv`.
pub(crate) async fn event_csv(
    State(state): State<AppState>,
    user: DeskUser,
    Path(slug): Path<String>,
) -> Result<Response, ApiError> {
    lists::event_registrations(State(state), user.staff(), Path(slug), params(true)).await
}

/// Checking a person in, from the event's screen.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckInForm {
    /// `true`: they came; `false`: undo.
    #[serde(default)]
    pub checked_in: Option<bool>,
}

/// `POST /desk/events/{event}/registrations/{email}`: checks a person in on the day.
pub(crate) async fn check_in(
    State(state): State<AppState>,
    user: DeskUser,
    Path((slug, email)): Path<(String, String)>,
    body: Input<CheckInForm>,
) -> Result<Response, ApiError> {
    user.staff().may("registrations:write")?;
    let checked_in = body
        .value
        .checked_in
        .ok_or_else(|| ApiError::invalid("checked_in", "say true or false"))?;
    let answer = lists::check_in(
        State(state),
        user.staff(),
        Path((slug.clone(), email)),
        api_body(lists::CheckIn { checked_in }),
    )
    .await?;
    Ok(done_with(
        body.from_form,
        &format!("/desk/events/{slug}"),
        answer,
    ))
}

/// `GET /desk/newsletters/{list}`: the subscribers.
pub(crate) async fn newsletter(
    State(state): State<AppState>,
    user: DeskUser,
    Path(list): Path<String>,
) -> Result<Response, ApiError> {
    let name = state
        .site()
        .data
        .settings
        .newsletters
        .iter()
        .find(|n| n.id == list)
        .map(|n| n.name.clone())
        .ok_or_else(|| ApiError::NotFound(format!("there is no newsletter {list}")))?;
    let answer = lists::subscribers(
        State(state.clone()),
        user.staff(),
        Path(list.clone()),
        params(false),
    )
    .await?;
    let data = serde_json::json!({ "id": list, "name": name, "list": json_of(answer).await? });
    let url = format!("/desk/newsletters/{list}");
    Ok(
        desk_page(&state, &user, data, "desk/newsletter.html", &name, &url)
            .await?
            .into_response(),
    )
}

/// `GET /desk/newsletters/{list}/subscribers.csv`.
pub(crate) async fn newsletter_csv(
    State(state): State<AppState>,
    user: DeskUser,
    Path(list): Path<String>,
) -> Result<Response, ApiError> {
    lists::subscribers(State(state), user.staff(), Path(list), params(true)).await
}

/// `GET /desk/requests`: requests and appointment requests, newest first.
pub(crate) async fn requests(
    State(state): State<AppState>,
    user: DeskUser,
) -> Result<Response, ApiError> {
    let staff = user.staff();
    let requests =
        json_of(lists::requests(State(state.clone()), staff.clone(), params(false)).await?).await?;
    let appointments =
        json_of(lists::appointments(State(state.clone()), staff, params(false)).await?).await?;
    let data = serde_json::json!({ "requests": requests, "appointments": appointments });
    Ok(desk_page(
        &state,
        &user,
        data,
        "desk/requests.html",
        "Requests",
        "/desk/requests",
    )
    .await?
    .into_response())
}

/// A status from the requests screen, with the version the form showed.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusForm {
    /// The new status.
    #[serde(default)]
    pub status: String,
    /// The version the form showed.
    #[serde(default)]
    pub version: String,
}

fn if_match(version: &str) -> Result<HeaderMap, ApiError> {
    let v: u64 = version
        .trim()
        .parse()
        .map_err(|_| ApiError::invalid("version", "reload the page and change it again"))?;
    let mut h = HeaderMap::new();
    h.insert(
        header::IF_MATCH,
        HeaderValue::from_str(&format!("\"{v}\"")).expect("digits"),
    );
    Ok(h)
}

/// A stale form's refusal, as the desk says it.
fn stale(e: ApiError) -> ApiError {
    match e {
        ApiError::Stale(_) => ApiError::Conflict(
            "someone changed this since you opened the page; nothing was changed. Reload it, then make your change".into(),
        ),
        other => other,
    }
}

/// Sets a status through the staff API's handler `change` (a request's or an appointment's),
/// against the version the form showed; a form goes on to `onward`.
async fn set_status<F, Fut>(
    state: AppState,
    user: DeskUser,
    reference: String,
    body: Input<StatusForm>,
    change: F,
    onward: &str,
) -> Result<Response, ApiError>
where
    F: FnOnce(State<AppState>, Staff, Path<String>, HeaderMap, Input<StatusChange>) -> Fut,
    Fut: std::future::Future<Output = Result<Response, ApiError>>,
{
    // The role first: a form's mistakes are nobody's business who may not send it.
    user.staff().may("registrations:write")?;
    let answer = change(
        State(state),
        user.staff(),
        Path(reference),
        if_match(&body.value.version)?,
        api_body(StatusChange {
            status: body.value.status.clone(),
        }),
    )
    .await
    .map_err(stale)?;
    Ok(done_with(body.from_form, onward, answer))
}

/// `POST /desk/requests/{reference}`: a request's status.
pub(crate) async fn request_status(
    State(state): State<AppState>,
    user: DeskUser,
    Path(reference): Path<String>,
    body: Input<StatusForm>,
) -> Result<Response, ApiError> {
    let to = "/desk/requests#requests";
    set_status(state, user, reference, body, lists::change_request, to).await
}

/// `POST /desk/appointments/{reference}`: an appointment request's status.
pub(crate) async fn appointment_status(
    State(state): State<AppState>,
    user: DeskUser,
    Path(reference): Path<String>,
    body: Input<StatusForm>,
) -> Result<Response, ApiError> {
    let to = "/desk/requests#appointments";
    set_status(state, user, reference, body, lists::change_appointment, to).await
}
