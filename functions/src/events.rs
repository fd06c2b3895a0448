//! Registration for calendar events and seminars: `POST /api/events/{event}/registrations`
//! takes a place while places remain and a waiting-list place after, once per e-mail address,
//! with a confirmation e-mail carrying a cancel link (`GET /events/cancel/{token}` shows a
//! button, `POST` cancels and gives the place to the longest-waiting registration).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use portal_core::records::events::{CancelLink, Events, Registration, RegistrationStatus};
use portal_core::records::outbox::Mail;
use portal_core::records::{random_token, to_item, token_hash, Record, Repo};
use portal_core::store::{now, Cond, Key, Write};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
#[allow(unused_imports)]
use crate::error::{ErrorBody, MessageBody};
use crate::guard;
use crate::idempotent::{Answer, Idem};
use crate::input::{self, Input};
use crate::pages::Message;
use crate::state::{AppState, EventInfo};
use crate::view::View;
use portal_core::records::feed::Event;

/// The group's routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/events/{event}/registrations", post(register))
        .route("/api/events/{event}", get(seats))
        .route("/events/cancel/{token}", get(cancel_page).post(cancel))
        .layer(axum::extract::DefaultBodyLimit::max(
            crate::fields::MAX_BODY,
        ))
}

/// A registration form.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRegistration {
    /// Name.
    #[serde(default)]
    #[schema(required = true, schema_with = crate::input::line_schema)]
    pub name: String,
    /// E-mail address: one registration per address.
    #[serde(default)]
    #[schema(required = true, schema_with = crate::input::email_schema)]
    pub email: String,
    /// Company.
    #[serde(default)]
    #[schema(pattern = "rule:blank-or-line", max_length = 200)]
    pub company: Option<String>,
    /// Anything the organisers should know.
    #[serde(default)]
    #[schema(pattern = "rule:blank-or-text", max_length = 2000)]
    pub notes: Option<String>,
    /// The honeypot.
    #[serde(default)]
    #[serde(deserialize_with = "crate::input::text_only")]
    #[schema(schema_with = crate::input::honeypot_schema)]
    pub website: Option<String>,
}

/// The answer to a registration.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Registered {
    /// The event.
    pub event: String,
    /// `confirmed` or `waiting`.
    #[schema(value_type = String)]
    pub status: RegistrationStatus,
    /// What it means, in words.
    pub message: String,
}

/// Places at an event.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Places {
    /// The event.
    pub event: String,
    /// Places in all.
    pub capacity: u32,
    /// Places left.
    pub available: u32,
    /// Registrations on the waiting list.
    pub waiting: u32,
}

fn event(state: &AppState, slug: &str, customer: bool) -> Result<(EventInfo, u32), ApiError> {
    let site = state.site();
    let e = site
        .data
        .event(slug)
        .filter(|e| customer || !e.customers_only)
        .ok_or_else(|| ApiError::NotFound(format!("there is no event `{slug}`")))?
        .clone();
    let capacity = e
        .capacity
        .ok_or_else(|| ApiError::NotFound(format!("`{slug}` takes no registrations")))?;
    Ok((e, capacity))
}

#[utoipa::path(get, path = "/api/events/{event}", tag = "events", summary = "Places left at an event", params(("event" = String, Path, description = "The event")), responses((status = 200, description = "Places", body = Places), (status = 404, description = "No such event, or it takes no registrations", body = ErrorBody)))]
pub(crate) async fn seats(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Json<Places>, ApiError> {
    let (_, capacity) = event(&state, &slug, false)?;
    let s = Events::new(state.store.clone()).seats(&slug).await?;
    let (taken, waiting) = s.map(|s| (s.taken, s.waiting)).unwrap_or((0, 0));
    Ok(Json(Places {
        event: slug,
        capacity,
        available: capacity.saturating_sub(taken),
        waiting,
    }))
}

#[utoipa::path(post, path = "/api/events/{event}/registrations", tag = "events", summary = "Register for an event: a place while places remain, the waiting list after", params(("event" = String, Path, description = "The event")), request_body(content((NewRegistration = "application/json"), (NewRegistration = "application/x-www-form-urlencoded"))), responses((status = 201, description = "Registered or on the waiting list; a confirmation with a cancel link is e-mailed", body = Registered), (status = 303, description = "From a form: back to the event"), (status = 404, description = "No such event", body = ErrorBody), (status = 409, description = "Already registered, or registration has closed", body = ErrorBody), (status = 422, description = "A field is missing or wrong; `field` names it", body = ErrorBody), (status = 429, description = "Too many requests from this address or for this e-mail address", body = ErrorBody), (status = 503, description = "Not done, or not known to be done (the store was busy or failed); `Retry-After` says when to send the same request, with the same `Idempotency-Key`, again", body = ErrorBody)))]
pub(crate) async fn register(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    idem: Idem,
    body: Input<NewRegistration>,
) -> Result<Response, ApiError> {
    register_for(&state, slug, body, false, idem).await
}

/// Registers for event `slug`; `customer` when a logged-in customer asks, who may also
/// register for customers-only events (and is sent back to their private pages).
pub(crate) async fn register_for(
    state: &AppState,
    slug: String,
    body: Input<NewRegistration>,
    customer: bool,
    idem: Idem,
) -> Result<Response, ApiError> {
    let v = &body.value;
    input::honeypot(v.website.as_deref())?;
    let (info, capacity) = event(state, &slug, customer)?;
    if info.closes.is_some_and(|c| c <= now()) {
        return Err(ApiError::Conflict(format!(
            "registration for {} has closed",
            info.title
        )));
    }
    let name = input::line("name", &v.name, 200)?;
    let email = input::email("email", &v.email)?;
    let company = match v.company.as_deref() {
        Some(c) => input::optional_line("company", c, 200)?,
        None => None,
    };
    if let Some(n) = v.notes.as_deref() {
        input::optional_text("notes", n, 2000)?;
    }
    guard::limit_email(state, &email).await?;
    let site = state.site();
    let (business, base) = (
        site.settings().business.clone(),
        site.settings().base_url.clone(),
    );
    let registration = Registration {
        event_id: slug.clone(),
        email: email.clone(),
        name,
        company,
        status: RegistrationStatus::Confirmed,
        created: now(),
        checked_in: None,
    };
    let registered = Events::new(state.store.clone())
        .register_with(registration, capacity, |r| {
            let token = random_token();
            let link = CancelLink {
                token_hash: token_hash(&token),
                event_id: r.event_id.clone(),
                email: r.email.clone(),
            };
            let (subject, first) = match r.status {
                RegistrationStatus::Confirmed => (
                    format!("Registered: {}", info.title),
                    "your place is booked".to_string(),
                ),
                RegistrationStatus::Waiting => (
                    format!("Waiting list: {}", info.title),
                    "the event is full, so you are on the waiting list; we will e-mail you if a place frees up".to_string(),
                ),
            };
            let mail = Mail::new(
                &r.email,
                subject,
                format!(
                    "Hello,\n\n{first}.\n\n{}\n{}{}\n{base}/calendar/{}\n\nCannot come after all? Cancel here, so someone else can have the place:\n{base}/events/cancel/{token}\n\n{business}\n",
                    info.title,
                    info.when,
                    info.location.as_deref().map(|l| format!("\n{l}")).unwrap_or_default(),
                    r.event_id,
                ),
            );
            let event = Event::new(
                "registration.created",
                &r.email,
                None,
                format!("registration {} {}", r.event_id, r.email),
                serde_json::json!({
                    "event": r.event_id,
                    "email": r.email,
                    "name": r.name,
                    "company": r.company,
                    "status": r.status,
                    "customer": customer,
                }),
            );
            let mut writes = vec![
                Write::Put(to_item(&link)?, Cond::NotExists),
                Write::Put(to_item(&mail)?, Cond::NotExists),
                event.write()?,
            ];
            writes.extend(idem.record(&registered_answer(r, customer, body.from_form))?);
            Ok(writes)
        })
        .await?;
    state.deliver_mail().await;
    Ok(idem.respond(registered_answer(&registered, customer, body.from_form)))
}

/// The answer to a registration: back to the event for a form, its status for JSON.
fn registered_answer(r: &Registration, customer: bool, form: bool) -> Answer {
    let anchor = match r.status {
        RegistrationStatus::Confirmed => "registered",
        RegistrationStatus::Waiting => "waitlisted",
    };
    let page = if customer {
        "/my/calendar"
    } else {
        "/calendar"
    };

    let message = match r.status {
        RegistrationStatus::Confirmed => "Your place is booked; a confirmation is on its way.",
        RegistrationStatus::Waiting => {
            "The event is full: you are on the waiting list, and we will e-mail you if a place frees up."
        }
    };
    crate::view::done(
        form,
        &format!("{page}/{}#{anchor}", r.event_id),
        StatusCode::CREATED,
        &Registered {
            event: r.event_id.clone(),
            status: r.status,
            message: message.into(),
        },
    )
}

fn cancel_key(token: &str) -> Option<Key> {
    (token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| portal_core::records::events::CancelLink::key_of(&token_hash(token)))
}

#[utoipa::path(get, path = "/events/cancel/{token}", tag = "events", summary = "The cancel page: a button (HTML)", params(("token" = String, Path, description = "The 32-character token from the link")), responses((status = 200, description = "The page", content_type = "text/html"), (status = 404, description = "Nothing to cancel", content_type = "text/html")))]
pub(crate) async fn cancel_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Response {
    let site = state.site();
    let links: Repo<CancelLink> = Repo::new(state.store.clone());
    let found = match cancel_key(&token) {
        Some(key) => links.get(&key).await.ok().flatten(),
        None => None,
    };
    let Some(found) = found else {
        return View::message(
            StatusCode::NOT_FOUND,
            Message::new(
                "Nothing to cancel",
                "This registration has been cancelled already, or the link is not complete.",
            )
            .link("See the calendar", "/calendar/"),
        )
        .into_response();
    };
    let title = site
        .data
        .event(&found.record.event_id)
        .map(|e| e.title.clone())
        .unwrap_or_else(|| found.record.event_id.clone());
    let mut m = Message::new(
        "Cancel your registration",
        format!(
            "Press the button to cancel the registration of {} for {title}.",
            found.record.email
        ),
    );
    m.button = Some((
        format!("/events/cancel/{token}"),
        "Cancel my registration".into(),
    ));
    View::message(StatusCode::OK, m).into_response()
}

#[utoipa::path(post, path = "/events/cancel/{token}", tag = "events", summary = "Cancel a registration; the place goes to the longest-waiting registration", params(("token" = String, Path, description = "The 32-character token from the link")), responses((status = 200, description = "Cancelled", content_type = "text/html")))]
pub(crate) async fn cancel(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    let site = state.site();
    let links: Repo<CancelLink> = Repo::new(state.store.clone());
    let done = Message::new(
        "Registration cancelled",
        "Your registration is cancelled. Thank you for letting us know.",
    )
    .link("See the calendar", "/calendar/");
    let Some(key) = cancel_key(&token) else {
        return Ok(View::message(StatusCode::OK, done).into_response());
    };
    let Some(found) = links.get(&key).await? else {
        return Ok(View::message(StatusCode::OK, done).into_response());
    };
    let link = found.record;
    let title = site
        .data
        .event(&link.event_id)
        .map(|e| e.title.clone())
        .unwrap_or_else(|| link.event_id.clone());
    let base = site.settings().base_url.clone();
    let event = Event::new(
        "registration.cancelled",
        &link.email,
        None,
        format!("registration {} {}", link.event_id, link.email),
        serde_json::json!({ "event": link.event_id, "email": link.email }),
    );
    Events::new(state.store.clone())
        .cancel(
            &link.event_id,
            &link.email,
            vec![Write::Delete(link.key(), Cond::Exists), event.write()?],
            |next| {
                Some(Mail::new(
                    &next.email,
                    format!("A place is yours: {title}"),
                    format!(
                        "Hello,\n\na place has freed up, and it is yours: you are registered for {title}.\n{base}/calendar/{}\n",
                        next.event_id
                    ),
                ))
            },
        )
        .await?;
    state.deliver_mail().await;
    Ok(View::message(StatusCode::OK, done).into_response())
}
