//! The OpenAPI 3.1 document of every function route, generated from the handlers' own
//! annotations and types with `utoipa`, and served at `GET /api/openapi.json`.

use axum::response::IntoResponse;

pub use crate::error::{ErrorBody, ErrorDetail, MessageBody};
use utoipa::OpenApi;

/// The document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Customer Portal public functions",
        description = "Issue submission and tracking, event registration, newsletters, requests, appointments, article feedback and search. Every POST also accepts an `Idempotency-Key` header (or `idempotency_key` field) and a `form_token` field; see the README.",
        license(name = "Apache-2.0")
    ),
    paths(
        crate::issues::file::file,
        crate::issues::track::track,
        crate::issues::track::track_page,
        crate::issues::notes::add_note,
        crate::issues::notes::resend,
        crate::issues::track::download,
        crate::uploads::announce::announce,
        crate::uploads::announce::receive_bytes,
        crate::requests::request,
        crate::requests::appointment,
        crate::newsletters::subscribe,
        crate::newsletters::confirm_page,
        crate::newsletters::confirm,
        crate::newsletters::unsubscribe_page,
        crate::newsletters::unsubscribe,
        crate::events::seats,
        crate::events::register,
        crate::events::cancel_page,
        crate::events::cancel,
        crate::guard::form_token,
        crate::search::search,
        crate::search::search_page,
        crate::search::feedback,
        crate::search::share,
        openapi_json,
        crate::auth::login::login,
        crate::auth::login::logout,
        crate::auth::login::me,
        crate::auth::credentials::change_password,
        crate::auth::credentials::forgot,
        crate::auth::credentials::activate,
        crate::auth::credentials::reset,
        crate::auth::pages::login_page,
        crate::auth::pages::activate_page,
        crate::auth::pages::reset_page,
        crate::account::billing::account_json,
        crate::account::billing::invoices_json,
        crate::account::billing::invoice,
        crate::account::billing::payments_json,
        crate::account::billing::statement_csv,
        crate::account::quotes::quotes_json,
        crate::account::quotes::quote,
        crate::account::quotes::decide,
        crate::account::quotes::comment,
        crate::account::dashboard::issues_json,
        crate::account::dashboard::dashboard,
        crate::account::billing::invoice_page,
        crate::account::quotes::quote_page,
        crate::account::cases::file,
        crate::account::cases::case,
        crate::account::cases::add_note,
        crate::account::cases::set_status,
        crate::account::cases::case_page,
        crate::account::cases::attachment,
        crate::account::projects::projects_json,
        crate::account::projects::project,
        crate::account::projects::add_note,
        crate::account::projects::upload,
        crate::account::projects::project_document,
        crate::account::documents::documents_json,
        crate::account::documents::document,
        crate::account::documents::published,
        crate::account::reports::reports_json,
        crate::account::reports::report_csv,
        crate::account::projects::project_page,
        crate::account::profile::get_profile,
        crate::account::profile::update_profile,
        crate::account::profile::change_email,
        crate::account::profile::confirm_email_page,
        crate::account::profile::confirm_email,
        crate::account::content::article,
        crate::account::calendar::index,
        crate::account::calendar::month,
        crate::account::calendar::event,
        crate::account::calendar::feed_address,
        crate::account::calendar::feed_page,
        crate::account::calendar::renew_feed,
        crate::account::calendar::feed,
        crate::account::content::register,
        crate::account::content::search,
                crate::account::content::search_page,
        crate::staff::changes::changes,
        crate::staff::issues::queue,
        crate::staff::issues::issue,
        crate::staff::issues::change,
        crate::staff::issues::reply,
        crate::staff::issues::note,
        crate::staff::customers::list,
        crate::staff::customers::get,
        crate::staff::customers::put,
        crate::staff::customers::erase,
        crate::staff::customers::contacts,
        crate::staff::customers::put_contact,
        crate::staff::logins::create,
        crate::staff::logins::change,
        crate::staff::billing::put_invoice,
        crate::staff::billing::put_payment,
        crate::staff::quotes::put,
        crate::staff::quotes::get,
        crate::staff::quotes::list,
        crate::staff::projects::put,
        crate::staff::projects::get,
        crate::staff::projects::list,
        crate::staff::documents::list,
        crate::staff::reports::list,
        crate::staff::projects::put_task,
        crate::staff::projects::add_note,
        crate::staff::projects::put_contact,
        crate::staff::documents::put,
        crate::staff::reports::put,
        crate::staff::reports::get,
        crate::staff::registrations::event_registrations,
        crate::staff::registrations::check_in,
        crate::staff::registrations::subscribers,
        crate::staff::registrations::requests,
        crate::staff::registrations::appointments,
        crate::staff::registrations::change_request,
        crate::staff::registrations::change_appointment,
    ),
    modifiers(&ApiKeys, &UniqueOperationIds),
    tags(
        (name = "issues", description = "The `issues` function: filing and tracking"),
        (name = "events", description = "The `events` function: registrations, newsletters, requests, appointments, form tokens"),
        (name = "search", description = "The `search` function: search, article feedback and sharing, this document"),
        (name = "auth", description = "The `auth` function: logging in and out, activation, passwords"),
                (name = "account", description = "The `account` function: the logged-in customer's own data"),
        (name = "staff", description = "The `staff` function: the staff and integration API. Every call sends an API key (`Authorization: Bearer cpk_…`, made with `portal admin keys create NAME --scope AREA:read|write`); a missing, unknown or revoked key is a 401, a key without the operation's scope a 403. Changes are audited under the key's name; `If-Match` with a record's version (its `ETag`) makes a change fail with 412 if someone changed it first."),
    )
)]
pub struct ApiDoc;

/// Adds the staff API's key scheme (`api_key`: a bearer token).
struct ApiKeys;

impl utoipa::Modify for ApiKeys {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API key made with `portal admin keys create`"))
                    .build(),
            ),
        );
    }
}

/// Makes every `operationId` unique, as OpenAPI requires and client generators rely on: a
/// handler mounted on several paths (or two handlers with one name) gets its path's words
/// after its name, e.g. `get_staff_customers_quotes`.
struct UniqueOperationIds;

impl utoipa::Modify for UniqueOperationIds {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let mut seen: std::collections::HashMap<String, usize> = Default::default();
        for item in doc.paths.paths.values() {
            for op in operations(item) {
                if let Some(id) = &op.operation_id {
                    *seen.entry(id.clone()).or_default() += 1;
                }
            }
        }
        for (path, item) in doc.paths.paths.iter_mut() {
            let words: Vec<&str> = path
                .split('/')
                .filter(|w| !w.is_empty() && *w != "api" && !w.starts_with('{'))
                .collect();
            for op in operations_mut(item) {
                if let Some(id) = &op.operation_id {
                    if seen.get(id).copied().unwrap_or(0) > 1 {
                        op.operation_id =
                            Some(format!("{id}_{}", words.join("_")).replace(['-', '.'], "_"));
                    }
                }
            }
        }
    }
}

fn operations(item: &utoipa::openapi::PathItem) -> Vec<&utoipa::openapi::path::Operation> {
    [
        &item.get,
        &item.put,
        &item.post,
        &item.delete,
        &item.options,
        &item.head,
        &item.patch,
        &item.trace,
    ]
    .into_iter()
    .flatten()
    .collect()
}

fn operations_mut(
    item: &mut utoipa::openapi::PathItem,
) -> Vec<&mut utoipa::openapi::path::Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.options,
        &mut item.head,
        &mut item.patch,
        &mut item.trace,
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// `GET /api/openapi.json`.
#[utoipa::path(get, path = "/api/openapi.json", tag = "search", summary = "This document", responses((status = 200, description = "OpenAPI 3.1", body = Object)))]
pub async fn openapi_json() -> impl IntoResponse {
    // The document is fixed for the life of the process: made and written out once.
    static DOCUMENT: std::sync::OnceLock<axum::body::Bytes> = std::sync::OnceLock::new();
    let body = DOCUMENT.get_or_init(|| {
        serde_json::to_vec(&ApiDoc::openapi())
            .expect("the document serialises")
            .into()
    });
    (
        [(
            axum::http::header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static("application/json"),
        )],
        body.clone(),
    )
}
