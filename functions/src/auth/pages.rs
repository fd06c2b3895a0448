//! The auth pages: login, activation and reset (HTML).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

#[allow(unused_imports)]
use crate::error::{ErrorBody, MessageBody};
use crate::pages::Message;
use crate::state::AppState;

use super::credentials::*;
use super::password;

#[utoipa::path(get, path = "/login", tag = "auth", summary = "The login page (HTML)",
    responses((status = 200, description = "The page", content_type = "text/html")))]
pub(crate) async fn login_page(State(state): State<AppState>) -> Response {
    let site = state.site();
    let ctx = site.pages.context("account", "Log in", "/login");
    no_store(
        site.pages
            .render("auth/login.html", &ctx, StatusCode::OK)
            .unwrap_or_else(|e| e.into_response()),
    )
}

pub(super) fn password_page(state: &AppState, token: &str, action: &str, title: &str) -> Response {
    let site = state.site();
    if token.len() != 32 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return site.pages.message(
            StatusCode::NOT_FOUND,
            &Message::new(
                "Link not valid",
                "This link is not complete; copy the whole link from the e-mail.",
            )
            .link("Log in", "/login"),
        );
    }
    let mut ctx = site.pages.context("account", title, "/login");
    ctx.insert("token", token);
    ctx.insert("action", action);
    ctx.insert("min_chars", &password::MIN_CHARS);
    no_store(
        site.pages
            .render("auth/set-password.html", &ctx, StatusCode::OK)
            .unwrap_or_else(|e| e.into_response()),
    )
}

#[utoipa::path(get, path = "/activate/{token}", tag = "auth", summary = "The activation page: choose a first password (HTML)",
    params(("token" = String, Path, description = "The token from the invitation")),
    responses((status = 200, description = "The page", content_type = "text/html")))]
pub(crate) async fn activate_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Response {
    password_page(&state, &token, "/api/auth/activate", "Choose your password")
}

#[utoipa::path(get, path = "/reset/{token}", tag = "auth", summary = "The reset page: choose a new password (HTML)",
    params(("token" = String, Path, description = "The token from the e-mail")),
    responses((status = 200, description = "The page", content_type = "text/html")))]
pub(crate) async fn reset_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Response {
    password_page(&state, &token, "/api/auth/reset", "Choose a new password")
}
