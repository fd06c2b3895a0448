//! The auth pages: login, activation and reset (HTML).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

#[allow(unused_imports)]
use crate::error::{ErrorBody, MessageBody};
use crate::pages::Message;
use crate::state::AppState;
use crate::view::View;
use serde::Serialize;

use super::credentials::*;
use super::password;

#[utoipa::path(get, path = "/login", tag = "auth", summary = "The login page (HTML)",
    responses((status = 200, description = "The page", content_type = "text/html")))]
pub(crate) async fn login_page() -> Response {
    no_store(
        View::flat((), "auth/login.html")
            .titled("account", "Log in", "/login")
            .into_response(),
    )
}

/// What the page that sets a password needs.
#[derive(Debug, Serialize)]
struct PasswordForm {
    token: String,
    action: &'static str,
    min_chars: usize,
}

pub(crate) fn password_page(token: &str, action: &'static str, title: &'static str) -> Response {
    if token.len() != 32 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return View::message(
            StatusCode::NOT_FOUND,
            Message::new(
                "Link not valid",
                "This link is not complete; copy the whole link from the e-mail.",
            )
            .link("Log in", "/login"),
        )
        .into_response();
    }
    let form = PasswordForm {
        token: token.to_string(),
        action,
        min_chars: password::MIN_CHARS,
    };
    no_store(
        View::flat(form, "auth/set-password.html")
            .titled("account", title, "/login")
            .into_response(),
    )
}

#[utoipa::path(get, path = "/activate/{token}", tag = "auth", summary = "The activation page: choose a first password (HTML)",
    params(("token" = String, Path, description = "The token from the invitation")),
    responses((status = 200, description = "The page", content_type = "text/html")))]
pub(crate) async fn activate_page(
    State(_state): State<AppState>,
    Path(token): Path<String>,
) -> Response {
    password_page(&token, "/api/auth/activate", "Choose your password")
}

#[utoipa::path(get, path = "/reset/{token}", tag = "auth", summary = "The reset page: choose a new password (HTML)",
    params(("token" = String, Path, description = "The token from the e-mail")),
    responses((status = 200, description = "The page", content_type = "text/html")))]
pub(crate) async fn reset_page(
    State(_state): State<AppState>,
    Path(token): Path<String>,
) -> Response {
    password_page(&token, "/api/auth/reset", "Choose a new password")
}
