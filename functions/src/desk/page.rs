//! What every desk screen shares: the member's name and role for the menu, the session's
//! form token for every form, private caching.

use serde::Serialize;

use crate::error::ApiError;
use crate::state::AppState;
use crate::view::View;

use super::session::{form_token, DeskUser};

/// The member, as the menu shows them.
#[derive(Debug, Serialize)]
struct Me {
    email: String,
    name: String,
    role: &'static str,
    /// What the menu offers: (address, label).
    menu: Vec<(&'static str, &'static str)>,
}

/// The desk's menu for `user`: only what the role may open.
fn menu(user: &DeskUser) -> Vec<(&'static str, &'static str)> {
    let staff = user.staff();
    let mut m = vec![("/desk/", "Queue")];
    if staff.may("customers:read").is_ok() {
        m.push(("/desk/customers", "Customers"));
    }
    if staff.may("registrations:read").is_ok() {
        m.push(("/desk/events", "Events and newsletters"));
        m.push(("/desk/requests", "Requests"));
    }
    if staff.may("insight:read").is_ok() {
        m.push(("/desk/insight", "Insight"));
    }
    if staff.may("staff:write").is_ok() {
        m.push(("/desk/staff", "Staff"));
    }
    m.push(("/desk/security", "Security"));
    m
}

/// `data` on the desk screen `template`, titled `title`, at `url`, with the menu and the
/// form token.
pub(crate) async fn desk_page<T>(
    state: &AppState,
    user: &DeskUser,
    data: T,
    template: &'static str,
    title: &str,
    url: &str,
) -> Result<View<T>, ApiError> {
    let csrf = form_token(state, &user.session).await?;
    let me = Me {
        email: user.member.email.clone(),
        name: user.member.name.clone(),
        role: user.member.role.name(),
        menu: menu(user),
    };
    Ok(View::new(data, template, "data")
        .titled("desk", title, url)
        .with("me", me)
        .with("csrf", csrf)
        .unlisted())
}

/// The JSON an API handler answered, for a screen to show: the screen shows exactly what
/// the staff API would.
pub(crate) async fn json_of(
    answer: axum::response::Response,
) -> Result<serde_json::Value, ApiError> {
    let bytes = axum::body::to_bytes(answer.into_body(), 64 * 1024 * 1024)
        .await
        .map_err(|e| ApiError::Internal(format!("reading an answer: {e}")))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::Internal(format!("reading an answer: {e}")))
}

/// `value` as the body of a staff API handler the screen calls: the desk has read the form
/// itself, so the handler answers as to an API client (JSON), and the screen turns that
/// into the form's onward redirect.
pub(crate) fn api_body<T>(value: T) -> crate::input::Input<T> {
    crate::input::Input {
        value,
        from_form: false,
    }
}
