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
        crate::account::billing::invoices_page,
        crate::account::billing::payments_page,
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
    modifiers(&ApiKeys, &UniqueOperationIds, &ErrorAnswers, &FieldRules, &FileAnswers),
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

/// Puts the field rules that input types name as `pattern = "rule:NAME"` (utoipa takes only
/// a literal there) into the document: the pattern, format or choices of
/// [`crate::input::rule`], so the document and the server's checks have one definition.
struct FieldRules;

impl utoipa::Modify for FieldRules {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        // A change names at least one field. (utoipa 5.5 writes its `min_properties`
        // attribute as `maxProperties`, so it is set here.)
        const AT_LEAST_ONE_FIELD: [&str; 2] = ["IssueChange", "LoginChange"];
        if let Some(components) = doc.components.as_mut() {
            for (name, schema) in components.schemas.iter_mut() {
                apply_rules(name, schema);
                if let utoipa::openapi::RefOr::T(utoipa::openapi::schema::Schema::Object(o)) =
                    schema
                {
                    if AT_LEAST_ONE_FIELD.contains(&name.as_str()) {
                        o.min_properties = Some(1);
                    }
                }
            }
        }
    }
}

/// Replaces the rule names in `schema` and the schemas inside it. An unknown rule name is a
/// mistake in an input type, found by the document's tests: the document must not pretend.
fn apply_rules(owner: &str, schema: &mut utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>) {
    use crate::input::Rule;
    use utoipa::openapi::schema::{ArrayItems, KnownFormat, Schema, SchemaFormat};
    let utoipa::openapi::RefOr::T(schema) = schema else {
        return;
    };
    match schema {
        Schema::Object(o) => {
            if let Some(name) = o.pattern.as_deref().and_then(|p| p.strip_prefix("rule:")) {
                let rule = crate::input::rule(name)
                    .unwrap_or_else(|| panic!("{owner} names an unknown field rule `{name}`"));
                o.pattern = None;
                match rule {
                    Rule::Pattern(p) => o.pattern = Some(p),
                    Rule::Formatted(p, format) => {
                        o.pattern = Some(p.into());
                        o.format = Some(match format {
                            "date" => SchemaFormat::KnownFormat(KnownFormat::Date),
                            other => SchemaFormat::Custom(other.into()),
                        });
                    }
                    Rule::OneOf(choices) => {
                        o.enum_values = Some(choices.iter().map(|c| (*c).into()).collect())
                    }
                }
            }
            for property in o.properties.values_mut() {
                apply_rules(owner, property);
            }
        }
        Schema::Array(a) => {
            if let ArrayItems::RefOrSchema(items) = &mut a.items {
                apply_rules(owner, items);
            }
        }
        Schema::AllOf(x) => x.items.iter_mut().for_each(|i| apply_rules(owner, i)),
        Schema::OneOf(x) => x.items.iter_mut().for_each(|i| apply_rules(owner, i)),
        Schema::AnyOf(x) => x.items.iter_mut().for_each(|i| apply_rules(owner, i)),
        _ => {}
    }
}

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

/// Documents every error an operation can answer, with the one envelope ([`ErrorBody`]):
/// what every route may answer (503), what every body may (400, 413, 415, 422), what the
/// guard of customer posts may (403, 422, 429), what a session or an API key may (401, 403,
/// 429), what a path with an id may (404), and for the staff API what a change may (409,
/// 412). An operation that reads forms or answers with pages answers its errors as the
/// theme's HTML page to a browser, so those say `text/html` beside `application/json`.
struct ErrorAnswers;

/// Why each error status is answered.
const ERRORS: [(u16, &str); 11] = [
    (400, "The body or a parameter cannot be read"),
    (401, "Not logged in, or no valid API key"),
    (403, "Refused: a cross-site request, a missing or wrong form token, a login that may not see this part, or an API key without the scope"),
    (404, "Not found (another customer's record is not found either)"),
    (409, "Conflicts with what is stored"),
    (412, "Changed since the version given in `If-Match`"),
    (413, "The body is larger than the operation takes"),
    (415, "The body is not JSON, a form or multipart form data"),
    (422, "A field is wrong; `error.field` names it"),
    (429, "Too many requests for now; `Retry-After` says when to send it again"),
    (503, "Busy or failing for a moment; nothing was done, or the same request (with its `Idempotency-Key`) is answered once: send it again after `Retry-After`"),
];

impl utoipa::Modify for ErrorAnswers {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::{HttpMethod, ParameterIn};
        use utoipa::openapi::{ContentBuilder, HeaderBuilder, Ref, RefOr, ResponseBuilder};
        let mut shared: std::collections::BTreeMap<String, utoipa::openapi::Response> =
            Default::default();
        for (path, item) in doc.paths.paths.iter_mut() {
            let methods = [
                (HttpMethod::Get, &mut item.get),
                (HttpMethod::Put, &mut item.put),
                (HttpMethod::Post, &mut item.post),
                (HttpMethod::Delete, &mut item.delete),
                (HttpMethod::Patch, &mut item.patch),
            ];
            for (method, op) in methods {
                let Some(op) = op.as_mut() else { continue };
                let staff = path.starts_with("/api/staff");
                let session = (path.starts_with("/api/my") || path.starts_with("/my/"))
                    && !path.starts_with("/my/calendar-feed/{");
                let body = op.request_body.is_some();
                let form = op.request_body.as_ref().is_some_and(|b| {
                    b.content.keys().any(|k| {
                        k.starts_with("application/x-www-form-urlencoded")
                            || k.starts_with("multipart/form-data")
                    })
                });
                let pages = op.responses.responses.values().any(|r| match r {
                    RefOr::T(r) => r.content.keys().any(|k| k.starts_with("text/html")),
                    RefOr::Ref(_) => false,
                });
                let params = op.parameters.as_deref().unwrap_or_default();
                let query = params
                    .iter()
                    .any(|p| matches!(p.parameter_in, ParameterIn::Query));
                let post = method == HttpMethod::Post && !staff;
                let change = staff && method != HttpMethod::Get;
                let wanted = |status: u16| match status {
                    400 => body || query,
                    401 | 403 => session || staff || (post && status == 403),
                    404 => path.contains('{'),
                    409 => change,
                    412 => change && method != HttpMethod::Post,
                    413 | 415 => body,
                    422 => body || query || post || (staff && path.contains('{')),
                    429 => post || staff,
                    _ => true,
                };
                let html = form || pages;
                // A list with `format=csv` answers a spreadsheet.
                if query && params.iter().any(|p| p.name == "format") {
                    if let Some(RefOr::T(ok)) = op.responses.responses.get_mut("200") {
                        ok.content.entry("text/csv".into()).or_insert_with(|| {
                            ContentBuilder::new()
                                .schema(Some(utoipa::openapi::schema::Object::with_type(
                                    utoipa::openapi::schema::Type::String,
                                )))
                                .build()
                        });
                    }
                }
                if let Some(params) = op.parameters.as_mut() {
                    for p in params.iter_mut() {
                        if let Some(schema) = parameter_schema(path, &p.name, &p.parameter_in) {
                            p.schema = Some(schema);
                        }
                    }
                }
                for (status, why) in ERRORS {
                    let key = status.to_string();
                    if !wanted(status) && !op.responses.responses.contains_key(&key) {
                        continue;
                    }
                    if let Some(RefOr::T(r)) = op.responses.responses.get_mut(&key) {
                        // Documented by the handler: a page's answer beside its JSON.
                        if html && !r.content.contains_key("text/html") {
                            r.content.insert(
                                "text/html".into(),
                                ContentBuilder::new()
                                    .schema(Some(utoipa::openapi::schema::Object::with_type(
                                        utoipa::openapi::schema::Type::String,
                                    )))
                                    .build(),
                            );
                        }
                    } else {
                        // One shared answer per status (and per kind of operation), by reference.
                        let name = format!("Error{status}{}", if html { "OrPage" } else { "" });
                        shared.entry(name.clone()).or_insert_with(|| {
                            let mut r = ResponseBuilder::new().description(why).content(
                                "application/json",
                                ContentBuilder::new()
                                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                                    .build(),
                            );
                            if html {
                                r = r.content(
                                    "text/html",
                                    ContentBuilder::new()
                                        .schema(Some(utoipa::openapi::schema::Object::with_type(
                                            utoipa::openapi::schema::Type::String,
                                        )))
                                        .build(),
                                );
                            }
                            if status == 429 || status == 503 {
                                r = r.header(
                                    "Retry-After",
                                    HeaderBuilder::new()
                                        .description(Some(
                                            "Seconds to wait before sending it again",
                                        ))
                                        .build(),
                                );
                            }
                            r.build()
                        });
                        op.responses
                            .responses
                            .entry(key)
                            .or_insert(RefOr::Ref(Ref::new(format!(
                                "#/components/responses/{name}"
                            ))));
                    }
                }
            }
        }
        let components = doc.components.get_or_insert_with(Default::default);
        for (name, r) in shared {
            components.responses.insert(name, RefOr::T(r));
        }
    }
}

/// A download answers with the file's own type: one of the types the portal accepts
/// (`portal_core::files::ACCEPTED`), or `application/octet-stream` for a file shared
/// without one. Every answer documented as `application/octet-stream` says so.
struct FileAnswers;

impl utoipa::Modify for FileAnswers {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::RefOr;
        const ANY_FILE: &str = "application/octet-stream";
        for item in doc.paths.paths.values_mut() {
            for op in operations_mut(item) {
                for response in op.responses.responses.values_mut() {
                    let RefOr::T(r) = response else { continue };
                    let Some(file) = r.content.get(ANY_FILE).cloned() else {
                        continue;
                    };
                    for (media_type, _) in portal_core::files::ACCEPTED {
                        r.content.insert((*media_type).to_string(), file.clone());
                    }
                }
            }
        }
    }
}

/// The rules the server checks on a parameter, where the handler's annotation gives only its
/// type: the business's ids in the staff API's paths (`staff::own_id`), page numbers and
/// limits, and the list format.
fn parameter_schema(
    path: &str,
    name: &str,
    place: &utoipa::openapi::path::ParameterIn,
) -> Option<utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>> {
    use utoipa::openapi::path::ParameterIn;
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    const OWN_IDS: [&str; 10] = [
        "id", "contact", "document", "event", "invoice", "payment", "project", "quote", "report",
        "task",
    ];
    let schema = match (place, name) {
        (ParameterIn::Path, n) if path.starts_with("/api/staff") && OWN_IDS.contains(&n) => {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(crate::input::OWN_ID))
                .min_length(Some(1))
                .max_length(Some(64))
        }
        // The customer's billing lists (`account::billing::PageParams`): a cursor they gave
        // is short; pages of at most 100.
        (ParameterIn::Query, "cursor") if path.contains("/my/") => ObjectBuilder::new()
            .schema_type(Type::String)
            .max_length(Some(1024)),
        (ParameterIn::Query, "limit") if path.starts_with("/api/my/") => ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(1))
            .maximum(Some(100)),
        (ParameterIn::Query, "page" | "limit") => ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(1))
            .maximum(Some(1000)),
        (ParameterIn::Query, "per_page") => ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(1))
            .maximum(Some(50)),
        (ParameterIn::Query, "format") if path.starts_with("/api/staff") => ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(["json", "csv"])),
        _ => return None,
    };
    Some(schema.build().into())
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
