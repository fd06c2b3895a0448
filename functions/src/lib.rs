//! The portal's HTTP handlers, one axum [`Router`](axum::Router) per function group, each
//! with [`AppState`] applied once by whoever serves it (`portal serve` locally, a Lambda
//! binary in AWS).
//!
//! - [`state`]: what handlers share — the store and the business's settings.
//! - [`error`]: the one error type, rendered as a JSON error envelope.
//! - [`input`]: request bodies as JSON or HTML form posts, checked field by field.
//! - [`issues`]: filing an issue and following it with a tracking link.
//! - [`requests`]: login, sales and eStore requests, and appointment requests.
//! - [`newsletters`]: sign-up with double opt-in and one-click unsubscribe.
//! - [`mail`]: delivering the outbox (to `.eml` files locally).
//!
//! Work in progress: the other groups (registrations, forms, search, accounts) follow.

pub mod error;
pub mod input;
pub mod issues;
pub mod mail;
pub mod newsletters;
pub mod requests;
pub mod state;

pub use error::ApiError;
pub use state::{AppState, BinderSettings, NewsletterSettings, Settings};

/// Every route of every group, for `portal serve`.
pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .merge(issues::router())
        .merge(requests::router())
        .merge(newsletters::router())
}
