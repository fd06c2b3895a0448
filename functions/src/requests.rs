//! The `events` function's simple forms: requests for a portal login, sales information or an
//! eStore account (`POST /api/requests`), and appointment requests (`POST /api/appointments`).
//! Each is stored for staff and e-mailed to the business in the same transaction, with its
//! event in the change feed (`request.created`, `appointment.requested`).

use std::collections::BTreeMap;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use portal_core::records::outbox::Mail;
use portal_core::records::requests::{AppointmentRequest, RequestKind, VisitorRequest};
use portal_core::records::{new_id, to_item};
use portal_core::store::{now, Cond, Write};
use serde::Deserialize;

use crate::error::ApiError;
#[allow(unused_imports)]
use crate::error::{ErrorBody, MessageBody};
use crate::idempotent::Idem;
use crate::input::{self, Input};
use crate::state::AppState;
use crate::view::done;
use portal_core::records::feed::Event;

/// The group's routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/requests", post(request))
        .route("/api/appointments", post(appointment))
        .layer(DefaultBodyLimit::max(input::MAX_BODY))
}

/// A visitor's request, from the login, sales or eStore form.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRequest {
    /// `login`, `sales` or `estore`.
    #[serde(default)]
    #[schema(required = true, pattern = "rule:request-kind")]
    pub kind: String,
    #[serde(default)]
    #[schema(required = true, schema_with = crate::input::line_schema)]
    name: String,
    #[serde(default)]
    #[schema(required = true, schema_with = crate::input::email_schema)]
    email: String,
    #[serde(default)]
    #[schema(pattern = "rule:blank-or-text", max_length = 200)]
    company: Option<String>,
    #[serde(default)]
    #[schema(pattern = "rule:blank-or-text", max_length = 40)]
    phone: Option<String>,
    #[serde(default)]
    #[schema(pattern = "rule:blank-or-text", max_length = 40)]
    account: Option<String>,
    #[serde(default)]
    #[schema(pattern = "rule:blank-or-text", max_length = 40)]
    vat_number: Option<String>,
    #[serde(default)]
    #[schema(pattern = "rule:blank-or-text", max_length = 1000)]
    address: Option<String>,
    #[serde(default)]
    #[schema(pattern = "rule:blank-or-text", max_length = 5000)]
    message: Option<String>,
    #[serde(default)]
    #[serde(deserialize_with = "crate::input::text_only")]
    #[schema(schema_with = crate::input::honeypot_schema)]
    website: Option<String>,
}

fn optional(field: &str, value: &Option<String>, max: usize) -> Result<Option<String>, ApiError> {
    match value.as_deref() {
        Some(v) => input::optional_text(field, v, max),
        None => Ok(None),
    }
}

/// Stores what was asked for (`stored`: the record and its event) with a mail to the
/// business in one transaction, with the answer when the request carries an idempotency
/// key; answers 303 to `thanks` (forms) or 201.
async fn store_and_tell(
    state: &AppState,
    idem: &Idem,
    stored: Vec<Write>,
    subject: String,
    body: String,
    from_form: bool,
    thanks: &str,
) -> Result<Response, ApiError> {
    let mail = Mail::new(&state.site().settings().business_email, subject, body);
    let answer = done(
        from_form,
        thanks,
        StatusCode::CREATED,
        &MessageBody::new("Thank you: we will be in touch soon."),
    );
    let mut writes = stored;
    writes.push(Write::Put(to_item(&mail)?, Cond::NotExists));
    writes.extend(idem.record(&answer)?);
    state.store.transact(writes).await?;
    state.deliver_mail().await;
    Ok(idem.respond(answer))
}

#[utoipa::path(post, path = "/api/requests", tag = "events", summary = "Ask for a portal login, sales information or an eStore account (`kind`)", request_body(content((NewRequest = "application/json"), (NewRequest = "application/x-www-form-urlencoded"))), responses((status = 201, description = "Received; the business is e-mailed", body = MessageBody), (status = 303, description = "From a form"), (status = 422, description = "A field is missing or wrong; `field` names it", body = ErrorBody), (status = 429, description = "Too many requests from this address or for this e-mail address", body = ErrorBody), (status = 503, description = "Not done, or not known to be done (the store was busy or failed); `Retry-After` says when to send the same request, with the same `Idempotency-Key`, again", body = ErrorBody)))]
pub(crate) async fn request(
    State(state): State<AppState>,
    idem: Idem,
    body: Input<NewRequest>,
) -> Result<Response, ApiError> {
    let v = &body.value;
    input::honeypot(v.website.as_deref())?;
    let kind = match v.kind.as_str() {
        "login" => RequestKind::Login,
        "sales" => RequestKind::Sales,
        "estore" => RequestKind::Estore,
        other => {
            return Err(ApiError::invalid(
                "kind",
                format!("`{other}` is not one of login, sales, estore"),
            ))
        }
    };
    let mut details = BTreeMap::new();
    for (field, value, max) in [
        ("account", &v.account, 40),
        ("vat_number", &v.vat_number, 40),
        ("address", &v.address, 1000),
    ] {
        if let Some(x) = optional(field, value, max)? {
            details.insert(field.to_string(), x);
        }
    }
    if kind == RequestKind::Estore && !details.contains_key("address") {
        return Err(ApiError::invalid(
            "address",
            "is required for an eStore account",
        ));
    }
    let record = VisitorRequest {
        id: new_id(),
        kind,
        name: input::line("name", &v.name, 200)?,
        email: input::email("email", &v.email)?,
        company: optional("company", &v.company, 200)?,
        phone: optional("phone", &v.phone, 40)?,
        details,
        message: optional("message", &v.message, 5000)?.unwrap_or_default(),
        status: "new".into(),
        created: now(),
    };
    crate::guard::limit_email(&state, &record.email).await?;
    let what = match kind {
        RequestKind::Login => "a portal login",
        RequestKind::Sales => "sales information",
        RequestKind::Estore => "an eStore account",
    };
    let subject = format!("Request for {what} from {}", record.name);
    let mut text = format!("{} <{}> asks for {what}.\n", record.name, record.email);
    for (k, x) in [("Company", &record.company), ("Phone", &record.phone)] {
        if let Some(x) = x {
            text.push_str(&format!("{k}: {x}\n"));
        }
    }
    for (k, x) in &record.details {
        text.push_str(&format!("{k}: {x}\n"));
    }
    text.push_str(&format!("\n{}\n", record.message));
    let thanks = format!("/request/{}#sent", v.kind.trim());
    let event = Event::new(
        "request.created",
        &record.email,
        None,
        format!("request {}", record.id),
        serde_json::to_value(&record).unwrap_or_default(),
    );
    store_and_tell(
        &state,
        &idem,
        vec![
            Write::Put(to_item(&record)?, Cond::NotExists),
            event.write()?,
        ],
        subject,
        text,
        body.from_form,
        &thanks,
    )
    .await
}

/// An appointment request from the appointment form.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAppointment {
    #[serde(default)]
    #[schema(required = true, schema_with = crate::input::line_schema)]
    name: String,
    #[serde(default)]
    #[schema(required = true, schema_with = crate::input::email_schema)]
    email: String,
    #[serde(default)]
    #[schema(pattern = "rule:blank-or-text", max_length = 40)]
    phone: Option<String>,
    #[serde(default)]
    #[schema(pattern = "rule:blank-or-text", max_length = 200)]
    company: Option<String>,
    #[serde(default)]
    #[schema(required = true, schema_with = crate::input::line_schema)]
    topic: String,
    #[serde(default)]
    #[schema(schema_with = crate::input::mode_schema)]
    mode: Option<String>,
    /// Preferred times (JSON).
    #[serde(default)]
    #[schema(max_items = 5, pattern = "rule:blank-or-line", max_length = 40)]
    preferred_times: Vec<String>,
    /// First preferred time (the form).
    #[serde(default)]
    #[schema(pattern = "rule:blank-or-line", max_length = 40)]
    preferred_time_1: Option<String>,
    /// Second preferred time (the form).
    #[serde(default)]
    #[schema(pattern = "rule:blank-or-line", max_length = 40)]
    preferred_time_2: Option<String>,
    #[serde(default)]
    #[schema(pattern = "rule:blank-or-text", max_length = 5000)]
    message: Option<String>,
    #[serde(default)]
    #[serde(deserialize_with = "crate::input::text_only")]
    #[schema(schema_with = crate::input::honeypot_schema)]
    website: Option<String>,
}

#[utoipa::path(post, path = "/api/appointments", tag = "events", summary = "Ask for an appointment", request_body(content((NewAppointment = "application/json"), (NewAppointment = "application/x-www-form-urlencoded"))), responses((status = 201, description = "Received; the business is e-mailed", body = MessageBody), (status = 303, description = "From a form"), (status = 422, description = "A field is missing or wrong; `field` names it", body = ErrorBody), (status = 429, description = "Too many requests from this address or for this e-mail address", body = ErrorBody), (status = 503, description = "Not done, or not known to be done (the store was busy or failed); `Retry-After` says when to send the same request, with the same `Idempotency-Key`, again", body = ErrorBody)))]
pub(crate) async fn appointment(
    State(state): State<AppState>,
    idem: Idem,
    body: Input<NewAppointment>,
) -> Result<Response, ApiError> {
    let v = &body.value;
    input::honeypot(v.website.as_deref())?;
    let mode = v.mode.as_deref().unwrap_or("phone").to_string();
    if !["phone", "video", "visit"].contains(&mode.as_str()) {
        return Err(ApiError::invalid(
            "mode",
            format!("`{mode}` is not one of phone, video, visit"),
        ));
    }
    if v.preferred_times.len() > 5 {
        return Err(ApiError::invalid(
            "preferred_times",
            "give at most five times",
        ));
    }
    let mut times = Vec::new();
    for (field, time) in v
        .preferred_times
        .iter()
        .map(|t| ("preferred_times", t))
        .chain(v.preferred_time_1.iter().map(|t| ("preferred_time_1", t)))
        .chain(v.preferred_time_2.iter().map(|t| ("preferred_time_2", t)))
    {
        times.extend(input::optional_line(field, time, 40)?);
    }
    if times.is_empty() {
        return Err(ApiError::invalid(
            "preferred_times",
            "give at least one preferred time",
        ));
    }
    if times.len() > 5 {
        return Err(ApiError::invalid(
            "preferred_times",
            "give at most five times",
        ));
    }
    let record = AppointmentRequest {
        id: new_id(),
        name: input::line("name", &v.name, 200)?,
        email: input::email("email", &v.email)?,
        phone: optional("phone", &v.phone, 40)?,
        company: optional("company", &v.company, 200)?,
        topic: input::line("topic", &v.topic, 200)?,
        mode,
        preferred_times: times,
        message: optional("message", &v.message, 5000)?.unwrap_or_default(),
        status: "new".into(),
        created: now(),
    };
    crate::guard::limit_email(&state, &record.email).await?;
    let subject = format!("Appointment request: {} ({})", record.topic, record.name);
    let text = format!(
        "{} <{}> asks for an appointment by {}.\nTopic: {}\nPreferred times: {}\n\n{}\n",
        record.name,
        record.email,
        record.mode,
        record.topic,
        record.preferred_times.join(", "),
        record.message
    );
    let event = Event::new(
        "appointment.requested",
        &record.email,
        None,
        format!("appointment {}", record.id),
        serde_json::to_value(&record).unwrap_or_default(),
    );
    store_and_tell(
        &state,
        &idem,
        vec![
            Write::Put(to_item(&record)?, Cond::NotExists),
            event.write()?,
        ],
        subject,
        text,
        body.from_form,
        "/appointments#sent",
    )
    .await
}
