//! What visitors sign up for and ask for, for staff: an event's registrations (with its
//! waiting list), a newsletter's subscribers, requests and appointment requests — as JSON,
//! or as CSV with `?format=csv` (a spreadsheet download) — and the status staff give a
//! request or an appointment. Scope `registrations:read`, and `registrations:write` to set a
//! status.

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use portal_core::records::events::{Events, Registration, RegistrationStatus};
use portal_core::records::requests::{AppointmentRequest, Subscription, VisitorRequest};
use portal_core::records::{to_item, Record, Repo};
use portal_core::store::{now, Cond, Cursor, Write};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::key::Staff;
use super::{check_version, cursor_error};
use crate::csv;
use crate::error::ApiError;
#[allow(unused_imports)]
use crate::error::ErrorBody;
use crate::input::{self, Input};
use crate::state::AppState;

/// Most rows in one CSV download.
const CSV_ROWS: usize = 50_000;

/// A page of a list, or all of it as CSV.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// The `cursor` of the previous page (JSON only).
    pub cursor: Option<String>,
    /// At most this many (1–1,000; 100 when left out; JSON only).
    pub limit: Option<usize>,
    /// `csv` for a CSV download of the whole list (up to 50,000 rows).
    pub format: Option<String>,
}

impl ListParams {
    fn csv(&self) -> Result<bool, ApiError> {
        match self.format.as_deref() {
            None | Some("json") => Ok(false),
            Some("csv") => Ok(true),
            Some(other) => Err(ApiError::invalid(
                "format",
                format!("`{other}` is not json or csv"),
            )),
        }
    }

    fn limit(&self) -> Result<usize, ApiError> {
        let limit = self.limit.unwrap_or(100);
        if (1..=1000).contains(&limit) {
            Ok(limit)
        } else {
            Err(ApiError::invalid("limit", "give a number from 1 to 1000"))
        }
    }
}

/// A date and time for a spreadsheet: `YYYY-MM-DD HH:MM` in UTC.
fn when(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

/// Reads every record of `pk` under `prefix` (newest first when asked), up to [`CSV_ROWS`].
async fn all<R: Record>(
    state: &AppState,
    pk: &str,
    prefix: &str,
    newest_first: bool,
) -> Result<Vec<R>, ApiError> {
    let repo: Repo<R> = Repo::new(state.store.clone());
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let (page, next) = repo.list(pk, prefix, 1000, cursor, newest_first).await?;
        out.extend(page);
        match next {
            Some(n) if out.len() < CSV_ROWS => cursor = Some(n),
            _ => break,
        }
    }
    out.truncate(CSV_ROWS);
    Ok(out)
}

/// One registration.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StaffRegistration {
    /// E-mail address.
    pub email: String,
    /// Name.
    pub name: String,
    /// Company.
    pub company: Option<String>,
    /// `confirmed` or `waiting`.
    pub status: String,
    /// Unix seconds.
    pub created: i64,
    /// When the person was checked in at the event, Unix seconds.
    pub checked_in: Option<i64>,
}

fn registration_view(r: Registration) -> StaffRegistration {
    StaffRegistration {
        status: registration_status(r.status).into(),
        email: r.email,
        name: r.name,
        company: r.company,
        created: r.created,
        checked_in: r.checked_in,
    }
}

/// Checking a person in at the event, or taking it back.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckIn {
    /// `true`: they came (now); `false`: not (a mistake undone).
    pub checked_in: bool,
}

#[utoipa::path(patch, path = "/api/staff/events/{event}/registrations/{email}", tag = "staff", summary = "Check a registered person in at the event (or take it back)",
    params(("event" = String, Path, description = "The event's slug"), ("email" = String, Path, description = "The registration's address")), security(("api_key" = ["registrations:write"])),
    request_body(content((CheckIn = "application/json"))),
    responses((status = 200, description = "Done; the registration as it is now", body = StaffRegistration), (status = 401, description = "No key, or an unknown or revoked one", body = ErrorBody),
        (status = 403, description = "The key lacks registrations:write", body = ErrorBody), (status = 404, description = "No such registration", body = ErrorBody),
        (status = 409, description = "Changed meanwhile; send it again", body = ErrorBody), (status = 422, description = "A field is wrong", body = ErrorBody)))]
pub(crate) async fn check_in(
    State(state): State<AppState>,
    staff: Staff,
    Path((event, email)): Path<(String, String)>,
    body: Input<CheckIn>,
) -> Result<Response, ApiError> {
    staff.may("registrations:write")?;
    let event = super::own_id("event", &event)?;
    let events = Events::new(state.store.clone());
    let found = events
        .registration(&event, &email)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("{email} is not registered for {event}")))?;
    let at = body.value.checked_in.then(now);
    if found.record.checked_in.is_some() == at.is_some() {
        return Ok(Json(registration_view(found.record)).into_response());
    }
    let audit = staff.audit(
        if at.is_some() {
            "registration.checked_in"
        } else {
            "registration.check_in_undone"
        },
        None,
        format!("event {event}"),
        json!({ "event": event, "email": found.record.email }),
    )?;
    let changed = events.set_checked_in(&found, at, audit).await?;
    Ok(Json(registration_view(changed)).into_response())
}

/// An event's registrations.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EventRegistrations {
    /// The event.
    pub event: String,
    /// Places.
    pub capacity: u32,
    /// Places taken.
    pub taken: u32,
    /// On the waiting list.
    pub waiting: u32,
    /// Confirmed ones first, then the waiting list, each in the order they came.
    pub registrations: Vec<StaffRegistration>,
}

#[utoipa::path(get, path = "/api/staff/events/{event}/registrations", tag = "staff", summary = "An event's registrations and its waiting list (JSON, or CSV with ?format=csv)",
    params(("event" = String, Path, description = "The event's slug"), ListParams), security(("api_key" = ["registrations:read"])),
    responses((status = 200, description = "The registrations", body = EventRegistrations), (status = 401, description = "No key, or an unknown or revoked one", body = ErrorBody),
        (status = 403, description = "The key lacks registrations:read", body = ErrorBody), (status = 404, description = "No registrations were ever taken for it", body = ErrorBody), (status = 422, description = "A parameter is wrong", body = ErrorBody)))]
pub(crate) async fn event_registrations(
    State(state): State<AppState>,
    staff: Staff,
    Path(event): Path<String>,
    Query(p): Query<ListParams>,
) -> Result<Response, ApiError> {
    staff.may("registrations:read")?;
    let as_csv = p.csv()?;
    let event = super::own_id("event", &event)?;
    let events = Events::new(state.store.clone());
    let seats = events
        .seats(&event)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("registrations for event {event}")))?;
    let mut list = events.registrations(&event).await?;
    list.sort_by_key(|r| (r.status != RegistrationStatus::Confirmed, r.created));
    if as_csv {
        let mut out = String::from("status,name,email,company,registered,checked_in\r\n");
        for r in &list {
            let status = registration_status(r.status);
            out.push_str(&format!(
                "{status},{},{},{},{},{}\r\n",
                csv::field(&r.name),
                csv::field(&r.email),
                csv::field(r.company.as_deref().unwrap_or("")),
                when(r.created),
                r.checked_in.map(when).unwrap_or_default()
            ));
        }
        return Ok(csv::download(out, &format!("{event}-registrations.csv")));
    }
    Ok(Json(EventRegistrations {
        event,
        capacity: seats.capacity,
        taken: seats.taken,
        waiting: seats.waiting,
        registrations: list.into_iter().map(registration_view).collect(),
    })
    .into_response())
}

fn registration_status(s: RegistrationStatus) -> &'static str {
    match s {
        RegistrationStatus::Confirmed => "confirmed",
        RegistrationStatus::Waiting => "waiting",
    }
}

/// A newsletter subscriber.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StaffSubscriber {
    /// E-mail address.
    pub email: String,
    /// Name, if given.
    pub name: Option<String>,
    /// Whether the address confirmed (only confirmed ones may be sent the newsletter).
    pub confirmed: bool,
    /// Unix seconds.
    pub created: i64,
}

/// A page of subscribers.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SubscriberPage {
    /// The subscribers, by address.
    pub subscribers: Vec<StaffSubscriber>,
    /// Where the next page starts; none at the end.
    pub cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/staff/newsletters/{list}/subscribers", tag = "staff", summary = "A newsletter's subscribers (JSON pages, or CSV of the whole list with ?format=csv)",
    params(("list" = String, Path, description = "The newsletter's id in site.toml"), ListParams), security(("api_key" = ["registrations:read"])),
    responses((status = 200, description = "Subscribers", body = SubscriberPage), (status = 401, description = "No key, or an unknown or revoked one", body = ErrorBody),
        (status = 403, description = "The key lacks registrations:read", body = ErrorBody), (status = 404, description = "No such newsletter", body = ErrorBody), (status = 422, description = "A parameter is wrong", body = ErrorBody)))]
pub(crate) async fn subscribers(
    State(state): State<AppState>,
    staff: Staff,
    Path(list): Path<String>,
    Query(p): Query<ListParams>,
) -> Result<Response, ApiError> {
    staff.may("registrations:read")?;
    let as_csv = p.csv()?;
    if !state
        .site()
        .settings()
        .newsletters
        .iter()
        .any(|n| n.id == list)
    {
        return Err(ApiError::NotFound(format!("newsletter {list}")));
    }
    let key = Subscription::key_of(&list, "");
    let prefix = key.sk.as_str();
    let view = |s: Subscription| StaffSubscriber {
        email: s.email,
        name: s.name,
        confirmed: s.confirmed,
        created: s.created,
    };
    if as_csv {
        let mut out = String::from("email,name,confirmed,subscribed\r\n");
        for s in all::<Subscription>(&state, &key.pk, prefix, false).await? {
            out.push_str(&format!(
                "{},{},{},{}\r\n",
                csv::field(&s.email),
                csv::field(s.name.as_deref().unwrap_or("")),
                if s.confirmed { "yes" } else { "no" },
                when(s.created)
            ));
        }
        return Ok(csv::download(out, &format!("{list}-subscribers.csv")));
    }
    let repo: Repo<Subscription> = Repo::new(state.store.clone());
    let (page, next) = repo
        .list(
            &key.pk,
            prefix,
            p.limit()?,
            p.cursor.clone().map(Cursor::from_client),
            false,
        )
        .await
        .map_err(cursor_error)?;
    Ok(Json(SubscriberPage {
        subscribers: page.into_iter().map(view).collect(),
        cursor: next.map(|c| c.as_str().to_string()),
    })
    .into_response())
}

/// A request for a login, sales information or an eStore account.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StaffRequest {
    /// How to name it in a change (`PATCH /api/staff/requests/{reference}`).
    pub reference: String,
    /// `login`, `sales` or `estore`.
    pub kind: String,
    /// Name.
    pub name: String,
    /// E-mail address.
    pub email: String,
    /// Company.
    pub company: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// The kind's own fields (account, VAT number, address).
    pub details: std::collections::BTreeMap<String, String>,
    /// The message.
    pub message: String,
    /// `new`, or what staff set.
    pub status: String,
    /// Unix seconds.
    pub created: i64,
    /// The version to send as `If-Match` with a change.
    pub version: u64,
}

fn request_view(r: VisitorRequest, version: u64) -> StaffRequest {
    StaffRequest {
        reference: r.reference(),
        kind: serde_json::to_value(r.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        name: r.name,
        email: r.email,
        company: r.company,
        phone: r.phone,
        details: r.details,
        message: r.message,
        status: r.status,
        created: r.created,
        version,
    }
}

/// A page of requests.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RequestPage {
    /// Newest first.
    pub requests: Vec<StaffRequest>,
    /// Where the next page starts; none at the end.
    pub cursor: Option<String>,
}

/// An appointment request.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StaffAppointment {
    /// How to name it in a change (`PATCH /api/staff/appointments/{reference}`).
    pub reference: String,
    /// Name.
    pub name: String,
    /// E-mail address.
    pub email: String,
    /// Phone.
    pub phone: Option<String>,
    /// Company.
    pub company: Option<String>,
    /// What it is about.
    pub topic: String,
    /// `phone`, `video` or `visit`.
    pub mode: String,
    /// Preferred times, as given.
    pub preferred_times: Vec<String>,
    /// The message.
    pub message: String,
    /// `new`, or what staff set.
    pub status: String,
    /// Unix seconds.
    pub created: i64,
    /// The version to send as `If-Match` with a change.
    pub version: u64,
}

fn appointment_view(a: AppointmentRequest, version: u64) -> StaffAppointment {
    StaffAppointment {
        reference: a.reference(),
        name: a.name,
        email: a.email,
        phone: a.phone,
        company: a.company,
        topic: a.topic,
        mode: a.mode,
        preferred_times: a.preferred_times,
        message: a.message,
        status: a.status,
        created: a.created,
        version,
    }
}

/// A page of appointment requests.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AppointmentPage {
    /// Newest first.
    pub appointments: Vec<StaffAppointment>,
    /// Where the next page starts; none at the end.
    pub cursor: Option<String>,
}

/// Reads one page of `R` newest first, with each record's version.
async fn page_of<R: Record>(
    state: &AppState,
    pk: &str,
    prefix: &str,
    p: &ListParams,
) -> Result<(Vec<(R, u64)>, Option<String>), ApiError> {
    let page = state
        .store
        .query(
            &portal_core::store::Query::partition(pk)
                .prefix(prefix)
                .limit(p.limit()?)
                .descending()
                .after(p.cursor.clone().map(Cursor::from_client)),
        )
        .await
        .map_err(|e| cursor_error(e.into()))?;
    let name = state.store.name();
    let records = page
        .items
        .into_iter()
        .map(|i| portal_core::records::from_item::<R>(&name, i).map(|v| (v.record, v.version)))
        .collect::<Result<_, _>>()?;
    Ok((records, page.next.map(|c| c.as_str().to_string())))
}

#[utoipa::path(get, path = "/api/staff/requests", tag = "staff", summary = "Requests for a login, sales information or an eStore account, newest first (JSON pages, or CSV with ?format=csv)",
    params(ListParams), security(("api_key" = ["registrations:read"])),
    responses((status = 200, description = "Requests", body = RequestPage), (status = 401, description = "No key, or an unknown or revoked one", body = ErrorBody),
        (status = 403, description = "The key lacks registrations:read", body = ErrorBody), (status = 422, description = "A parameter is wrong", body = ErrorBody)))]
pub(crate) async fn requests(
    State(state): State<AppState>,
    staff: Staff,
    Query(p): Query<ListParams>,
) -> Result<Response, ApiError> {
    staff.may("registrations:read")?;
    if p.csv()? {
        let mut out = String::from(
            "reference,kind,status,name,email,company,phone,details,message,received\r\n",
        );
        for r in all::<VisitorRequest>(&state, VisitorRequest::LIST.0, VisitorRequest::LIST.1, true)
            .await?
        {
            let v = request_view(r, 0);
            let details: Vec<String> = v.details.iter().map(|(k, x)| format!("{k}: {x}")).collect();
            out.push_str(&format!(
                "{},{},{},{},{},{},{},{},{},{}\r\n",
                v.reference,
                v.kind,
                csv::field(&v.status),
                csv::field(&v.name),
                csv::field(&v.email),
                csv::field(v.company.as_deref().unwrap_or("")),
                csv::field(v.phone.as_deref().unwrap_or("")),
                csv::field(&details.join("; ")),
                csv::field(&v.message),
                when(v.created)
            ));
        }
        return Ok(csv::download(out, "requests.csv"));
    }
    let (page, cursor) =
        page_of::<VisitorRequest>(&state, VisitorRequest::LIST.0, VisitorRequest::LIST.1, &p)
            .await?;
    Ok(Json(RequestPage {
        requests: page.into_iter().map(|(r, v)| request_view(r, v)).collect(),
        cursor,
    })
    .into_response())
}

#[utoipa::path(get, path = "/api/staff/appointments", tag = "staff", summary = "Appointment requests, newest first (JSON pages, or CSV with ?format=csv)",
    params(ListParams), security(("api_key" = ["registrations:read"])),
    responses((status = 200, description = "Appointment requests", body = AppointmentPage), (status = 401, description = "No key, or an unknown or revoked one", body = ErrorBody),
        (status = 403, description = "The key lacks registrations:read", body = ErrorBody), (status = 422, description = "A parameter is wrong", body = ErrorBody)))]
pub(crate) async fn appointments(
    State(state): State<AppState>,
    staff: Staff,
    Query(p): Query<ListParams>,
) -> Result<Response, ApiError> {
    staff.may("registrations:read")?;
    if p.csv()? {
        let mut out = String::from(
            "reference,status,name,email,phone,company,topic,mode,preferred_times,message,received\r\n",
        );
        for a in all::<AppointmentRequest>(
            &state,
            AppointmentRequest::LIST.0,
            AppointmentRequest::LIST.1,
            true,
        )
        .await?
        {
            let v = appointment_view(a, 0);
            out.push_str(&format!(
                "{},{},{},{},{},{},{},{},{},{},{}\r\n",
                v.reference,
                csv::field(&v.status),
                csv::field(&v.name),
                csv::field(&v.email),
                csv::field(v.phone.as_deref().unwrap_or("")),
                csv::field(v.company.as_deref().unwrap_or("")),
                csv::field(&v.topic),
                v.mode,
                csv::field(&v.preferred_times.join("; ")),
                csv::field(&v.message),
                when(v.created)
            ));
        }
        return Ok(csv::download(out, "appointments.csv"));
    }
    let (page, cursor) = page_of::<AppointmentRequest>(
        &state,
        AppointmentRequest::LIST.0,
        AppointmentRequest::LIST.1,
        &p,
    )
    .await?;
    Ok(Json(AppointmentPage {
        appointments: page
            .into_iter()
            .map(|(a, v)| appointment_view(a, v))
            .collect(),
        cursor,
    })
    .into_response())
}

/// A new status.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = RequestStatusChange)]
pub struct StatusChange {
    /// What staff call where it has got to, e.g. `contacted`, `booked`, `declined`, `done`
    /// (1–40 characters).
    #[serde(default)]
    #[schema(
        required = true,
        pattern = "rule:line",
        min_length = 1,
        max_length = 40
    )]
    pub status: String,
}

fn status_of(v: &StatusChange) -> Result<String, ApiError> {
    let s = input::line("status", &v.status, 40)?;
    if s.is_empty() {
        return Err(ApiError::invalid("status", "give a status, e.g. contacted"));
    }
    Ok(s)
}

#[utoipa::path(patch, path = "/api/staff/requests/{reference}", tag = "staff", summary = "Set a request's status",
    params(("reference" = String, Path, description = "The request's `reference`"), ("If-Match" = Option<String>, Header, description = "The version read; 412 if it changed since")),
    security(("api_key" = ["registrations:write"])), request_body(content((StatusChange = "application/json"))),
    responses((status = 200, description = "Changed", body = StaffRequest), (status = 401, description = "No key, or an unknown or revoked one", body = ErrorBody),
        (status = 403, description = "The key lacks registrations:write", body = ErrorBody), (status = 404, description = "No such request", body = ErrorBody),
        (status = 412, description = "Changed since the version named", body = ErrorBody), (status = 422, description = "A field is wrong; `field` names it", body = ErrorBody)))]
pub(crate) async fn change_request(
    State(state): State<AppState>,
    staff: Staff,
    Path(reference): Path<String>,
    headers: HeaderMap,
    body: Input<StatusChange>,
) -> Result<Response, ApiError> {
    let key = VisitorRequest::key_of(&reference);
    set_status(
        &state,
        &staff,
        key,
        ("request", &reference),
        &headers,
        &body.value,
        |r: &mut VisitorRequest| (&mut r.status, r.email.clone()),
        |r, v| Json(request_view(r, v)).into_response(),
    )
    .await
}

#[utoipa::path(patch, path = "/api/staff/appointments/{reference}", tag = "staff", summary = "Set an appointment request's status",
    params(("reference" = String, Path, description = "The appointment's `reference`"), ("If-Match" = Option<String>, Header, description = "The version read; 412 if it changed since")),
    security(("api_key" = ["registrations:write"])), request_body(content((StatusChange = "application/json"))),
    responses((status = 200, description = "Changed", body = StaffAppointment), (status = 401, description = "No key, or an unknown or revoked one", body = ErrorBody),
        (status = 403, description = "The key lacks registrations:write", body = ErrorBody), (status = 404, description = "No such appointment request", body = ErrorBody),
        (status = 412, description = "Changed since the version named", body = ErrorBody), (status = 422, description = "A field is wrong; `field` names it", body = ErrorBody)))]
pub(crate) async fn change_appointment(
    State(state): State<AppState>,
    staff: Staff,
    Path(reference): Path<String>,
    headers: HeaderMap,
    body: Input<StatusChange>,
) -> Result<Response, ApiError> {
    let key = AppointmentRequest::key_of(&reference);
    set_status(
        &state,
        &staff,
        key,
        ("appointment", &reference),
        &headers,
        &body.value,
        |a: &mut AppointmentRequest| (&mut a.status, a.email.clone()),
        |a, v| Json(appointment_view(a, v)).into_response(),
    )
    .await
}

/// Sets the status of the `what` (`request` or `appointment`) at `key`: If-Match checked,
/// audited as `{what}.status` and told in the feed, in one transaction; answered by `view`.
#[allow(clippy::too_many_arguments)]
async fn set_status<R: Record>(
    state: &AppState,
    staff: &Staff,
    key: Option<portal_core::store::Key>,
    (what, reference): (&str, &str),
    headers: &HeaderMap,
    change: &StatusChange,
    status_of_record: impl Fn(&mut R) -> (&mut String, String),
    view: impl Fn(R, u64) -> Response,
) -> Result<Response, ApiError> {
    staff.may("registrations:write")?;
    let status = status_of(change)?;
    let missing = || ApiError::NotFound(format!("{what} {reference}"));
    let repo: Repo<R> = Repo::new(state.store.clone());
    let found = repo
        .get(&key.ok_or_else(missing)?)
        .await?
        .ok_or_else(missing)?;
    check_version(headers, found.version)?;
    let mut record = found.record;
    let (field, email) = status_of_record(&mut record);
    let old = std::mem::replace(field, status.clone());
    let mut writes = vec![Write::Put(to_item(&record)?, Cond::Version(found.version))];
    writes.extend(staff.audit(
        &format!("{what}.status"),
        None,
        format!("{what} {reference}"),
        json!({ "status": { "old": old, "new": status }, "email": email }),
    )?);
    state
        .store
        .transact(writes)
        .await
        .map_err(|e| stale(e, reference))?;
    let version = found.version + 1;
    let mut r = view(record, version);
    if let Ok(v) = axum::http::HeaderValue::from_str(&format!("\"{version}\"")) {
        r.headers_mut().insert(axum::http::header::ETAG, v);
    }
    Ok(r)
}

/// A version that moved between the read and the write: someone else changed it first.
fn stale(e: portal_core::store::StoreError, reference: &str) -> ApiError {
    match e {
        portal_core::store::StoreError::TransactionCancelled { .. } => {
            ApiError::Stale(format!("{reference} changed meanwhile; read it again"))
        }
        other => other.into(),
    }
}
