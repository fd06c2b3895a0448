//! The `staff` function: the staff and integration API under `/api/staff/…`, which a CRM,
//! an accounting package or a script drives with an API key (`portal admin keys create`).
//! No cookies and no form tokens: every request proves itself with its key
//! ([`key::Staff`]), and every change is written with its audit entry, naming the key.
//!
//! - `GET /api/staff/issues` — a queue: by binder, status, assignee, customer, time of change.
//! - `GET /api/staff/issues/{number}` — the whole thread, internal notes included.
//! - `POST /api/staff/issues/{number}/replies` — a reply, mailed to the submitter.
//! - `POST /api/staff/issues/{number}/notes` — an internal note.
//! - `PATCH /api/staff/issues/{number}` — status (the submitter is mailed) and assignee.
//! - `GET /api/staff/changes` — the change feed.
//! - `GET /api/staff/customers`, `GET`/`PUT`/`DELETE /api/staff/customers/{id}` — customer
//!   accounts (erasing one with open items needs `force=true`); `GET …/contacts`,
//!   `PUT …/contacts/{contact}` — their contact people.
//! - `POST /api/staff/customers/{id}/logins`, `PATCH …/logins/{email}` — invite a person,
//!   disable or enable a login.
//! - `PUT /api/staff/customers/{id}/invoices/{invoice}` — an invoice, by the business's id.
//! - `PUT /api/staff/customers/{id}/payments/{payment}` — a payment, recorded once.
//! - `GET /api/staff/customers/{id}/quotes`, `GET`/`PUT …/quotes/{quote}` — quotes: publish,
//!   revise while open, read decisions and comments.
//! - `GET /api/staff/customers/{id}/projects`; `GET`/`PUT …/projects/{project}`,
//!   `PUT …/tasks/{task}`, `POST …/notes`, `PUT …/contacts/{contact}` — projects and their
//!   parts.
//! - `GET /api/staff/customers/{id}/reports`; `GET`/`PUT …/reports/{report}` — expense and
//!   timesheet reports.
//! - `GET /api/staff/customers/{id}/documents`; `PUT …/documents/{document}` — files shared
//!   with the customer.
//! - `PATCH /api/staff/events/{event}/registrations/{email}` — check a person in at the event.
//! - `GET /api/staff/events/{event}/registrations`, `GET /api/staff/newsletters/{list}/subscribers`,
//!   `GET /api/staff/requests`, `GET /api/staff/appointments` (JSON, or CSV) and
//!   `PATCH …/requests/{reference}`, `PATCH …/appointments/{reference}` (a status).

pub mod billing;
pub mod changes;
pub mod customers;
pub mod documents;
pub mod issues;
pub mod key;
pub mod logins;
pub mod projects;
pub mod quotes;
pub mod registrations;
pub mod reports;

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::error::ApiError;
use crate::state::AppState;

pub use key::Staff;

/// The group's routes.
pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/api/staff/issues", get(issues::queue))
        .route(
            "/api/staff/issues/{number}",
            get(issues::issue).patch(issues::change),
        )
        .route(
            "/api/staff/issues/{number}/replies",
            axum::routing::post(issues::reply),
        )
        .route(
            "/api/staff/issues/{number}/notes",
            axum::routing::post(issues::note),
        )
        .route("/api/staff/changes", get(changes::changes))
        .route("/api/staff/customers", get(customers::list))
        .route(
            "/api/staff/customers/{id}",
            get(customers::get)
                .put(customers::put)
                .delete(customers::erase),
        )
        .route(
            "/api/staff/customers/{id}/contacts",
            get(customers::contacts),
        )
        .route(
            "/api/staff/customers/{id}/contacts/{contact}",
            axum::routing::put(customers::put_contact),
        )
        .route(
            "/api/staff/customers/{id}/logins",
            axum::routing::post(logins::create),
        )
        .route(
            "/api/staff/customers/{id}/logins/{email}",
            axum::routing::patch(logins::change),
        )
        .route(
            "/api/staff/customers/{id}/invoices/{invoice}",
            axum::routing::put(billing::put_invoice),
        )
        .route(
            "/api/staff/customers/{id}/payments/{payment}",
            axum::routing::put(billing::put_payment),
        )
        .route("/api/staff/customers/{id}/quotes", get(quotes::list))
        .route(
            "/api/staff/customers/{id}/quotes/{quote}",
            get(quotes::get).put(quotes::put),
        )
        .route("/api/staff/customers/{id}/projects", get(projects::list))
        .route(
            "/api/staff/customers/{id}/projects/{project}",
            get(projects::get).put(projects::put),
        )
        .route(
            "/api/staff/customers/{id}/projects/{project}/tasks/{task}",
            axum::routing::put(projects::put_task),
        )
        .route(
            "/api/staff/customers/{id}/projects/{project}/notes",
            axum::routing::post(projects::add_note),
        )
        .route(
            "/api/staff/customers/{id}/projects/{project}/contacts/{contact}",
            axum::routing::put(projects::put_contact),
        )
        .route("/api/staff/customers/{id}/documents", get(documents::list))
        .route(
            "/api/staff/customers/{id}/documents/{document}",
            axum::routing::put(documents::put),
        )
        .route("/api/staff/customers/{id}/reports", get(reports::list))
        .route(
            "/api/staff/customers/{id}/reports/{report}",
            get(reports::get).put(reports::put),
        )
        .route(
            "/api/staff/events/{event}/registrations",
            get(registrations::event_registrations),
        )
        .route(
            "/api/staff/events/{event}/registrations/{email}",
            axum::routing::patch(registrations::check_in),
        )
        .route(
            "/api/staff/newsletters/{list}/subscribers",
            get(registrations::subscribers),
        )
        .route("/api/staff/requests", get(registrations::requests))
        .route(
            "/api/staff/requests/{reference}",
            axum::routing::patch(registrations::change_request),
        )
        .route("/api/staff/appointments", get(registrations::appointments))
        .route(
            "/api/staff/appointments/{reference}",
            axum::routing::patch(registrations::change_appointment),
        )
        // Replays of answers given once pass the layer below too (`no-store`).
        .route_layer(axum::middleware::from_fn_with_state(state, once))
        .route_layer(axum::middleware::map_response(challenge))
        // JSON bodies only, and small ones: nothing is buffered beyond that, scope or not.
        .layer(axum::extract::DefaultBodyLimit::max(
            crate::fields::MAX_STAFF_BODY,
        ))
        .layer(axum::Extension(crate::input::BodyCap(
            crate::fields::MAX_STAFF_BODY,
        )))
}

/// Checks an id the business gives a record.
pub(crate) fn own_id(field: &str, id: &str) -> Result<String, ApiError> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
    if ok {
        Ok(id.to_string())
    } else {
        Err(ApiError::invalid(
            field,
            "use 1 to 64 letters, digits, `-`, `_` or `.`",
        ))
    }
}

/// `body` with `status` and the record's `version` as its `ETag`.
pub(crate) fn with_etag(status: StatusCode, body: impl IntoResponse, version: u64) -> Response {
    let mut r = (status, body).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("\"{version}\"")) {
        r.headers_mut().insert(header::ETAG, v);
    }
    r
}

/// Refuses (412) a change whose `If-Match` names another version than `version`.
pub(crate) fn check_version(headers: &HeaderMap, version: u64) -> Result<(), ApiError> {
    let Some(v) = headers.get(header::IF_MATCH).and_then(|v| v.to_str().ok()) else {
        return Ok(());
    };
    let named = v.trim().trim_start_matches("W/").trim_matches('"');
    if named == "*" || named == version.to_string() {
        Ok(())
    } else {
        Err(ApiError::Stale(format!(
            "it changed since version {named} (it is at version {version}); read it again"
        )))
    }
}

pub(crate) use crate::error::cursor_error;

/// Layer: a `POST`, `PUT` or `PATCH` with an `Idempotency-Key` is carried out once, as on
/// the public API, the key's scope being the caller's API key and the path (two callers'
/// keys never meet). A reply or an internal note records its answer with its work; other
/// writes record it just after.
async fn once(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let key = req
        .headers()
        .get(crate::guard::IDEMPOTENCY_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let (Some(key), false) = (key, req.method() == axum::http::Method::GET) else {
        return next.run(req).await;
    };
    let (parts, body) = req.into_parts();
    let caller = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(portal_core::records::token_hash)
        .unwrap_or_default();
    let Ok(bytes) = axum::body::to_bytes(body, crate::fields::MAX_STAFF_BODY).await else {
        return ApiError::TooLarge("the request is larger than this API takes".into())
            .into_response();
    };
    let scope = format!("staff {caller}\n{} {}", parts.method, parts.uri.path());
    let fingerprint = portal_core::records::token_hash(&String::from_utf8_lossy(&bytes));
    match crate::guard::claim_key(&state, &scope, &key, &fingerprint, None).await {
        Ok((pending, _)) => {
            crate::guard::run_once(&state, pending, parts, axum::body::Body::from(bytes), next)
                .await
        }
        Err(answer) => answer,
    }
}

/// Layer: a refusal for want of a key says how to authenticate (`WWW-Authenticate`), and
/// nothing of the staff API is kept by a cache.
async fn challenge(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if r.status() == StatusCode::UNAUTHORIZED {
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"portal staff API\""),
        );
    }
    r
}
