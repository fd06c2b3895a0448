//! The `issues` function: a visitor files an issue in a public binder and follows it with a
//! private tracking link.
//!
//! - `POST /api/issues` — JSON answers `201` with the tracking number and link; a form post
//!   answers `303` to the tracking page. An e-mail with the link is written in the same
//!   transaction as the issue.
//! - `GET /api/track/{token}` — status, status history and public notes as JSON.
//! - `GET /track/{token}` — the same as a page.
//! - `POST /api/track/{token}/notes` — the submitter adds information (a public note).
//! - `POST /api/track/resend` — tracking number and e-mail address: if they belong together a
//!   new link is mailed; the answer is the same either way, so it reveals nothing.
//!
//! Tracking answers carry `Referrer-Policy: no-referrer` and `X-Robots-Tag: noindex`.

pub mod file;
pub mod notes;
pub mod track;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;

pub(crate) use file::category;
pub use file::{Filed, NewIssue};
pub use notes::{NewNote, Resend, RESEND_ANSWER};
pub use track::{Tracked, TrackedAttachment, TrackedNote};

use crate::input;
use crate::state::AppState;
use crate::uploads;
use file::file;
use notes::{add_note, resend};
use track::{download, track};

/// The group's routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/issues",
            post(file).layer(DefaultBodyLimit::max(uploads::MAX_MULTIPART)),
        )
        .route("/api/track/{token}/attachments/{id}", get(download))
        .route("/api/track/{token}", get(track))
        .route("/track/{token}", get(track))
        .route("/api/track/{token}/notes", post(add_note))
        .route("/api/track/resend", post(resend))
        .layer(DefaultBodyLimit::max(input::MAX_BODY))
}
