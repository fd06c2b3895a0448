//! The portal's HTTP handlers, one axum `Router` per function group, each
//! with [`AppState`] applied once by whoever serves it (`portal serve` locally, a Lambda
//! binary in AWS).
//!
//! - [`state`]: what handlers share — the store, the published site, mail and files.
//! - [`error`]: the one error type, rendered as a JSON error envelope.
//! - [`input`]: request bodies as JSON or HTML form posts, checked field by field.
//! - [`issues`]: filing an issue and following it with a tracking link.
//! - [`requests`]: login, sales and eStore requests, and appointment requests.
//! - [`newsletters`]: sign-up with double opt-in and one-click unsubscribe.
//! - [`events`]: registration for events, with a waiting list and cancel links.
//! - [`search`]: search as JSON and as a page; article feedback and sharing.
//! - [`auth`]: logins, sessions, passwords, CSRF checks.
//! - [`account`]: the logged-in customer's own data, as JSON and as pages.
//! - [`staff`]: the staff and integration API; [`desk`]: the staff desk on the same operations.
//! - [`uploads`]: the rules for files sent with forms.
//! - [`lambda`]: running a group on AWS Lambda.
//! - [`guard`]: rate limits, form tokens and idempotency keys in front of every form post.
//! - [`idempotent`]: how a handler records its answer with its work, so a retry is answered once.
//! - [`openapi`]: the OpenAPI document of all of these, at `/api/openapi.json`.
//! - [`pages`]: pages rendered on request with the theme.
//! - [`mail`]: delivering the outbox (`.eml` files locally, Amazon SES on Lambda).
//! - [`webhooks`]: signed webhook deliveries of the change feed (Standard Webhooks).

pub mod account;
pub mod auth;
pub mod budget;
pub mod csv;
pub mod desk;
pub mod error;
pub mod events;
pub mod fields;
pub mod guard;
pub mod idempotent;
pub mod input;
pub mod issues;
pub mod lambda;
pub mod mail;
pub mod newsletters;
pub mod notify;
pub mod openapi;
pub mod pages;
pub mod requests;
pub mod search;
pub mod staff;
pub mod state;
pub mod uploads;
pub mod view;
pub mod webhooks;

pub use error::ApiError;
pub use state::{
    AppState, BinderSettings, LiveSite, NewsletterSettings, Settings, SitePaths, StateParts,
};

use axum::routing::get;
use axum::Router;

/// The function groups: each is one Lambda in AWS, and `portal serve` mounts them all.
pub const GROUPS: &[&str] = &[
    "issues", "events", "search", "auth", "account", "staff", "desk",
];

/// Each function group's routes, guarded and with the state applied: a Lambda binary calls
/// exactly one of these, so it links only its own handlers.
pub mod groups {
    use super::*;

    /// Filing issues, tracking them, their notes and files; uploads of files for any form.
    pub fn issues(state: AppState) -> Router {
        // An upload is counted under its own limit (a form may bring five files), and carries
        // no form fields for the post guard to read.
        guarded(super::issues::router(), state.clone())
            .merge(super::uploads::router().with_state(state))
    }

    /// Event registrations, requests, appointments, newsletters and form tokens.
    pub fn events(state: AppState) -> Router {
        let routes = super::events::router()
            .merge(requests::router())
            .merge(newsletters::router())
            .route("/api/forms/token", get(guard::form_token));
        guarded(routes, state)
    }

    /// Search as JSON and as a page, the public one and the customers' one behind a login;
    /// article feedback and sharing; the OpenAPI document.
    pub fn search(state: AppState) -> Router {
        let routes = super::search::router().route("/api/openapi.json", get(openapi::openapi_json));
        guarded(routes, state.clone()).merge(signed_in(super::account::search_router(), state))
    }

    /// Logins, sessions and passwords.
    pub fn auth(state: AppState) -> Router {
        signed_in(super::auth::router(), state)
    }

    /// The logged-in customer's own data.
    pub fn account(state: AppState) -> Router {
        signed_in(super::account::router(), state)
    }

    /// The staff and integration API: API keys, no cookies, no form tokens.
    pub fn staff(state: AppState) -> Router {
        super::staff::router(state.clone())
            .route_layer(axum::middleware::from_fn_with_state(
                state.clone(),
                view::render,
            ))
            .with_state(state)
    }

    /// The staff desk: its own cookie, its own form tokens, pages that are never cached.
    pub fn desk(state: AppState) -> Router {
        super::desk::router()
            .route_layer(axum::middleware::from_fn_with_state(
                state.clone(),
                super::desk::session::csrf,
            ))
            .route_layer(axum::middleware::from_fn_with_state(
                state.clone(),
                auth::same_origin,
            ))
            .route_layer(axum::middleware::from_fn_with_state(
                state.clone(),
                view::render,
            ))
            .route_layer(axum::middleware::from_fn(super::desk::no_store))
            .with_state(state)
    }
}

/// The routes of one function group (see [`GROUPS`]), guarded and with `state` applied.
///
/// # Panics
/// On a name not in [`GROUPS`].
pub fn group(name: &str, state: AppState) -> Router {
    let api = match name {
        "issues" => groups::issues(state),
        "events" => groups::events(state),
        "search" => groups::search(state),
        "auth" => groups::auth(state),
        "account" => groups::account(state),
        "staff" => groups::staff(state),
        "desk" => return groups::desk(state),
        other => panic!("no function group `{other}`"),
    };
    api.layer(axum::middleware::map_response(error::enveloped))
}

/// The partitions of the table each function may touch: its IAM policy's
/// `dynamodb:LeadingKeys` patterns in `infra/template.yaml` (a test holds the two equal).
///
/// Every group writes mail to the outbox and counts requests (`LIMIT#`); the guarded
/// groups keep idempotency claims (`IDEM#`). The signing key is not in the table on AWS
/// (`PORTAL_SIGNING_KEY`), so no function reads `SECRET#`.
pub const PARTITIONS: &[(&str, &[&str])] = &[
    (
        "issues",
        &[
            "ISSUE#*",
            "TRACK#*",
            "TRACKNUM#*",
            "COUNTER#*",
            "DESK#*",
            "FEED#*",
            "IDEM#*",
            "LIMIT#*",
            "OUTBOX",
        ],
    ),
    (
        "events",
        &[
            "EVENT#*",
            "REGCANCEL#*",
            "NEWSLETTER#*",
            "UNSUB#*",
            "TOKEN#*",
            "REQUESTS",
            "APPOINTMENTS",
            "FEED#*",
            "IDEM#*",
            "LIMIT#*",
            "OUTBOX",
        ],
    ),
    (
        "search",
        &[
            "KB#*",
            "FEEDBACK#*",
            "SEARCHMISS#*",
            "SESSION#*",
            "FEED#*",
            "IDEM#*",
            "LIMIT#*",
            "OUTBOX",
        ],
    ),
    (
        "auth",
        &[
            "LOGIN#*",
            "SESSION#*",
            "DEVICE#*",
            "TOKEN#*",
            "CUSTOMER#*",
            "LIMIT#*",
            "OUTBOX",
        ],
    ),
    (
        "account",
        &[
            "CUSTOMER#*",
            "SESSION#*",
            "LOGIN#*",
            "TOKEN#*",
            "PROJECT#*",
            "QUOTE#*",
            "ISSUE#*",
            "TRACK#*",
            "TRACKNUM#*",
            "COUNTER#*",
            "DESK#*",
            "FEED#*",
            "EVENT#*",
            "REGCANCEL#*",
            "AUDIT#*",
            "IDEM#*",
            "LIMIT#*",
            "OUTBOX",
        ],
    ),
    (
        "staff",
        &[
            "APIKEY#*",
            "LOGIN#*",
            "SESSION#*",
            "TOKEN#*",
            "ISSUE#*",
            "TRACKNUM#*",
            "DESK#*",
            "CUSTOMER#*",
            "CUSTOMERS",
            "AUDIT#*",
            "FEED#*",
            "QUOTE#*",
            "PROJECT#*",
            "EVENT#*",
            "NEWSLETTER#*",
            "REQUESTS",
            "APPOINTMENTS",
            "IDEM#*",
            "LIMIT#*",
            "OUTBOX",
        ],
    ),
    (
        "desk",
        &[
            "STAFF",
            "STAFFSESSION#*",
            "TOKEN#*",
            "LOGIN#*",
            "SESSION#*",
            "CUSTOMERS",
            "QUOTE#*",
            "EVENT#*",
            "NEWSLETTER#*",
            "REQUESTS",
            "APPOINTMENTS",
            "ISSUE#*",
            "TRACKNUM#*",
            "DESK#*",
            "CUSTOMER#*",
            "AUDIT#*",
            "FEED#*",
            "LIMIT#*",
            "OUTBOX",
            "WEBHOOKS",
            "FEEDBACK#*",
            "SEARCHMISS#*",
            "PROJECT#*",
        ],
    ),
    ("mailer", &["OUTBOX", "WEBHOOKS", "FEED#*"]),
];

/// The partitions the function `name` may touch (see [`PARTITIONS`]).
pub fn partitions(name: &str) -> &'static [&'static str] {
    PARTITIONS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, p)| *p)
        .unwrap_or(&[])
}

/// Every route of every group, for `portal serve`: each group over a store confined to its
/// function's partitions ([`PARTITIONS`]), as IAM confines it on AWS, so a handler that
/// reaches beyond its function's policy fails here, in the tests, and not first in the field.
pub fn router(state: AppState) -> Router {
    let mut all = Router::new();
    for name in GROUPS {
        let confined =
            portal_core::store::Confined::new(state.store.clone(), name, partitions(name));
        all = all.merge(group(name, state.over(std::sync::Arc::new(confined))));
    }
    all
}

/// The layers of the groups behind a login: cross-site requests refused, refused form posts
/// explained on a page.
fn signed_in(routes: Router<AppState>, state: AppState) -> Router {
    routes
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::csrf,
        ))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::session_limit,
        ))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::same_origin,
        ))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            view::render,
        ))
        .with_state(state)
}

fn guarded(routes: Router<AppState>, state: AppState) -> Router {
    routes
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::public_post,
        ))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            view::render,
        ))
        .with_state(state)
}
