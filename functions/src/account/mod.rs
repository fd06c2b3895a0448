//! The `account` function: what a logged-in customer sees and does, as JSON under
//! `/api/my/…` and as pages under `/my/…`. Every read and write is scoped to the session's
//! customer: records are looked up inside that customer's partition, so another customer's
//! identifiers find nothing (404), and nothing about them leaks. One route has no session:
//! a login's private calendar address, which carries its own signed key (see
//! [`calendar`]).

pub mod billing;
pub mod calendar;
pub mod cases;
pub mod content;
pub mod dashboard;
pub mod documents;
pub mod files;
pub mod money;
pub mod page;
pub mod profile;
pub mod projects;
pub mod quotes;
pub mod reports;

use axum::routing::{get, post};
use axum::Router;

use crate::state::AppState;
use billing::*;
use dashboard::*;
use quotes::*;

/// The customers' search, served beside the public one by the `search` group: the one group
/// that holds the search indexes.
pub fn search_router() -> Router<AppState> {
    Router::new()
        .route("/api/my/search", get(content::search))
        .route("/my/search", get(content::search))
        .route_layer(axum::middleware::map_response(page::private))
}

/// The group's routes (its search is in [`search_router`]).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/my/account", get(account_json))
        .route("/api/my/invoices", get(invoices_json))
        .route("/api/my/invoices/{id}", get(invoice))
        .route("/api/my/payments", get(payments_json))
        .route("/api/my/statement.csv", get(statement_csv))
        .route("/api/my/quotes", get(quotes_json))
        .route("/api/my/quotes/{id}", get(quote))
        .route("/api/my/quotes/{id}/decision", post(decide))
        .route("/api/my/quotes/{id}/comments", post(comment))
        .route("/api/my/issues", get(issues_json).post(cases::file))
        .route("/api/my/issues/{number}", get(cases::case))
        .route(
            "/api/my/issues/{number}/notes",
            post(cases::add_note).layer(axum::extract::DefaultBodyLimit::max(
                crate::fields::MAX_MULTIPART,
            )),
        )
        .route(
            "/api/my/issues/{number}/attachments/{id}",
            get(cases::attachment),
        )
        .route("/api/my/issues/{number}/status", post(cases::set_status))
        .route("/my/issues/{number}", get(cases::case))
        .route("/api/my/projects", get(projects::projects_json))
        .route("/api/my/projects/{id}", get(projects::project))
        .route(
            "/api/my/projects/{id}/notes",
            post(projects::add_note).layer(axum::extract::DefaultBodyLimit::max(
                crate::fields::MAX_MULTIPART,
            )),
        )
        .route(
            "/api/my/projects/{id}/documents",
            post(projects::upload).layer(axum::extract::DefaultBodyLimit::max(
                crate::fields::MAX_MULTIPART,
            )),
        )
        .route(
            "/api/my/projects/{id}/documents/{doc}",
            get(projects::project_document),
        )
        .route("/api/my/documents", get(documents::documents_json))
        .route("/api/my/documents/{id}", get(documents::document))
        .route("/my/documents/{file}", get(documents::published))
        .route("/api/my/reports", get(reports::reports_json))
        .route("/api/my/reports/{file}", get(reports::report_csv))
        .route("/my/projects/{id}", get(projects::project))
        .route(
            "/api/my/profile",
            get(profile::get_profile).post(profile::update_profile),
        )
        .route("/api/my/profile/email", post(profile::change_email))
        .route("/my/kb/{slug}", get(content::article))
        .route("/my/calendar", get(calendar::index))
        .route("/my/calendar/", get(calendar::index))
        .route("/my/calendar/{slug}", get(calendar::event))
        .route("/my/calendar/{year}/{month}", get(calendar::month))
        .route(
            "/api/my/calendar-feed",
            get(calendar::feed_address).post(calendar::renew_feed),
        )
        .route("/my/calendar-feed", get(calendar::feed_address))
        .route("/my/calendar-feed/{customer}/{file}", get(calendar::feed))
        .route(
            "/api/my/events/{event}/registrations",
            post(content::register),
        )
        .route(
            "/my/email/{token}",
            get(profile::confirm_email_page).post(profile::confirm_email),
        )
        .route("/my/", get(dashboard))
        .route("/my/invoices", get(billing::invoices_page))
        .route("/my/payments", get(billing::payments_page))
        .route("/my/invoices/{id}", get(invoice))
        .route("/my/quotes/{id}", get(quote))
        .route_layer(axum::middleware::map_response(page::private))
        .layer(axum::extract::DefaultBodyLimit::max(
            crate::fields::MAX_BODY,
        ))
}
