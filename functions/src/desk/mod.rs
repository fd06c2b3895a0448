//! The `desk` function: the staff desk under `/desk/`, where people at the business answer
//! issues and run the portal from a browser. Server-rendered with the theme's stylesheet;
//! every form works without JavaScript.
//!
//! One code path, two doors: each screen calls the same operation as the staff API
//! (`crate::staff`), as a [`Staff`](crate::staff::Staff) caller made from the member and
//! their role, so the checks, the audit entries, the mail and the change-feed events are the
//! API's own.
//!
//! - `session.rs`: the `__Host-desk` cookie (apart from the customers'), the [`DeskUser`]
//!   extractor, the desk's form tokens.
//! - `login.rs`: logging in (password, then a code from an authenticator app or a recovery
//!   code), out, and a new member's activation link.
//! - `totp.rs`: RFC 6238 codes and the QR code an app reads; `security.rs` the screen that
//!   sets them up (required for admins; for everyone with `all_staff_need_second_factor`),
//!   changes the member's password and makes new recovery codes.
//! - `queue.rs`, `issue.rs`: the queue (with a search over subjects, descriptions and notes)
//!   and an issue (reply, internal note, status, assignee, category, when its tracking link
//!   was last opened).
//! - `customers.rs`: customer accounts, their contacts and logins (invite, disable, enable),
//!   and for managers their invoices and payments, with forms to publish and record them.
//! - `forms.rs`: amounts, whole numbers and numbered lines as the forms send them.
//! - `work.rs`: a customer's projects (tasks, notes), reports and shared documents;
//!   `view_as.rs` the read-only "view as this customer" of a login's account page.
//! - `signups.rs`: events' registrations and newsletters' subscribers (also as CSV), requests
//!   and appointment requests with their statuses.
//! - `insight.rs`: issues per week and binder, how readers rated articles, searches that
//!   found nothing, failing mail, failing webhooks.
//! - `members.rs`: staff members (admins add, change and disable them; `portal admin staff
//!   add` makes the first).
//! - `page.rs`: what every screen shares (the menu for the role, the form token).

pub mod customers;
pub mod forms;
pub mod insight;
pub mod issue;
pub mod login;
pub mod members;
pub mod page;
pub mod queue;
pub mod security;
pub mod session;
pub mod signups;
pub mod totp;
pub mod view_as;
pub mod work;

use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

pub use session::DeskUser;

use crate::state::AppState;

/// The body limit of a form that carries files (axum's default of 2 MB would refuse them
/// before the upload checks could say what is wrong).
fn files() -> axum::extract::DefaultBodyLimit {
    axum::extract::DefaultBodyLimit::max(crate::fields::MAX_MULTIPART)
}

/// The group's routes.
pub fn router() -> Router<AppState> {
    crate::auth::password::warm_up();
    Router::new()
        .route("/desk", get(|| async { Redirect::permanent("/desk/") }))
        .route("/desk/", get(queue::page))
        .route("/desk/login", get(login::login_page).post(login::login))
        .route("/desk/logout", post(login::logout))
        .route("/desk/activate/{token}", get(login::activate_page))
        .route("/desk/activate", post(login::activate))
        .route("/desk/security", get(security::page))
        .route("/desk/security/totp", post(security::enrol))
        .route("/desk/security/password", post(security::password))
        .route("/desk/security/recovery", post(security::recovery))
        .route(
            "/desk/issues/{number}",
            get(issue::page).post(issue::change),
        )
        .route(
            "/desk/issues/{number}/replies",
            post(issue::reply).layer(files()),
        )
        .route(
            "/desk/issues/{number}/notes",
            post(issue::note).layer(files()),
        )
        .route(
            "/desk/customers",
            get(customers::list).post(customers::create),
        )
        .route(
            "/desk/customers/{id}",
            get(customers::page).post(customers::edit),
        )
        .route("/desk/customers/{id}/logins", post(customers::invite))
        .route(
            "/desk/customers/{id}/logins/{email}",
            post(customers::login_change),
        )
        .route("/desk/customers/{id}/invoices", post(customers::invoice))
        .route("/desk/customers/{id}/payments", post(customers::payment))
        .route("/desk/customers/{id}/quotes", post(customers::quote))
        .route("/desk/customers/{id}/projects", post(work::project))
        .route(
            "/desk/customers/{id}/projects/{project}",
            get(work::project_page),
        )
        .route(
            "/desk/customers/{id}/projects/{project}/tasks",
            post(work::task),
        )
        .route(
            "/desk/customers/{id}/projects/{project}/notes",
            post(work::note),
        )
        .route("/desk/customers/{id}/reports", post(work::report))
        .route(
            "/desk/customers/{id}/documents",
            post(work::document).layer(files()),
        )
        .route("/desk/customers/{id}/view-as/{email}", get(view_as::page))
        .route("/desk/events", get(signups::events))
        .route("/desk/events/{event}", get(signups::event))
        .route(
            "/desk/events/{event}/registrations.csv",
            get(signups::event_csv),
        )
        .route(
            "/desk/events/{event}/registrations/{email}",
            post(signups::check_in),
        )
        .route("/desk/newsletters/{list}", get(signups::newsletter))
        .route(
            "/desk/newsletters/{list}/subscribers.csv",
            get(signups::newsletter_csv),
        )
        .route("/desk/requests", get(signups::requests))
        .route("/desk/requests/{reference}", post(signups::request_status))
        .route(
            "/desk/appointments/{reference}",
            post(signups::appointment_status),
        )
        .route("/desk/insight", get(insight::page))
        .route("/desk/staff", get(members::page).post(members::create))
        .route("/desk/staff/{email}", post(members::change))
        .route("/desk/staff/{email}/help", post(members::help))
        .layer(axum::extract::DefaultBodyLimit::max(
            crate::fields::MAX_BODY,
        ))
}

/// Layer: nothing the desk answers is kept by a browser or a shared cache.
pub async fn no_store(req: Request, next: Next) -> Response {
    let mut r = next.run(req).await;
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}
