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
//! - [`uploads`]: the rules for files sent with forms.
//! - [`lambda`]: running a group on AWS Lambda.
//! - [`guard`]: rate limits, form tokens and idempotency keys in front of every form post.
//! - [`openapi`]: the OpenAPI document of all of these, at `/api/openapi.json`.
//! - [`pages`]: pages rendered on request with the theme.
//! - [`mail`]: delivering the outbox (`.eml` files locally, Amazon SES on Lambda).

pub mod account;
pub mod auth;
pub mod error;
pub mod events;
pub mod guard;
pub mod input;
pub mod issues;
pub mod lambda;
pub mod mail;
pub mod newsletters;
pub mod openapi;
pub mod pages;
pub mod requests;
pub mod search;
pub mod state;
pub mod uploads;

pub use error::ApiError;
pub use state::{AppState, BinderSettings, LiveSite, NewsletterSettings, Settings, SitePaths};

use axum::routing::get;
use axum::Router;

/// The function groups: each is one Lambda in AWS, and `portal serve` mounts them all.
pub const GROUPS: &[&str] = &["issues", "events", "search", "auth", "account"];

/// The routes of one function group (see [`GROUPS`]), guarded and with `state` applied.
///
/// # Panics
/// On a name not in [`GROUPS`].
pub fn group(name: &str, state: AppState) -> Router {
    let routes: Router<AppState> = match name {
        "issues" => issues::router(),
        "events" => events::router()
            .merge(requests::router())
            .merge(newsletters::router())
            .route("/api/forms/token", get(guard::form_token)),
        "search" => search::router(),
        "auth" => return signed_in(auth::router(), state),
        "account" => return signed_in(account::router(), state),
        other => panic!("no function group `{other}`"),
    };
    guarded(routes, state)
}

/// Every route of every group, for `portal serve`.
pub fn router(state: AppState) -> Router {
    let mut all = Router::new();
    for name in GROUPS {
        all = all.merge(group(name, state.clone()));
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
        .route_layer(axum::middleware::from_fn(auth::same_origin))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            pages::form_errors,
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
            pages::form_errors,
        ))
        .with_state(state)
}
