//! `/desk/security`: a member sets up the second factor — a QR code for the authenticator
//! app, a code from it to confirm, and ten recovery codes shown once.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use portal_core::records::staff::{recovery_codes, Members};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::error::ApiError;
use crate::input::Input;
use crate::state::AppState;

use super::page::desk_page;
use super::session::{needs_second_factor, DeskUser};
use super::totp;

/// What the security screen shows.
#[derive(Debug, Serialize)]
struct Security {
    enabled: bool,
    required: bool,
    recovery_left: usize,
    /// A new secret to set up (when none is set up yet).
    secret: Option<String>,
    qr: Option<String>,
}

/// `GET /desk/security`.
pub(crate) async fn page(
    State(state): State<AppState>,
    user: DeskUser,
) -> Result<Response, ApiError> {
    let enabled = user.member.totp_secret.is_some();
    let secret = (!enabled).then(totp::new_secret);
    let qr = secret.as_ref().map(|s| {
        let issuer = state.site().settings().business.clone();
        totp::qr_svg(&totp::otpauth_url(s, &issuer, &user.member.email))
    });
    let data = Security {
        enabled,
        required: needs_second_factor(&state, &user.member),
        recovery_left: user.member.recovery_codes.len(),
        secret,
        qr,
    };
    Ok(desk_page(
        &state,
        &user,
        data,
        "desk/security.html",
        "Security",
        "/desk/security",
    )
    .await?
    .into_response())
}

/// Setting up an authenticator app.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Enrol {
    /// The secret the page showed.
    #[serde(default)]
    pub secret: String,
    /// The code the app shows for it.
    #[serde(default)]
    pub code: String,
}

/// The recovery codes, shown once.
#[derive(Debug, Serialize)]
struct Recovery {
    codes: Vec<String>,
}

/// `POST /desk/security/totp`: the app's code proves it has the secret; the secret is
/// kept and ten recovery codes are shown, once.
pub(crate) async fn enrol(
    State(state): State<AppState>,
    user: DeskUser,
    body: Input<Enrol>,
) -> Result<Response, ApiError> {
    if user.member.totp_secret.is_some() {
        return Err(ApiError::Conflict(
            "an authenticator app is set up already".into(),
        ));
    }
    let secret = body.value.secret.trim().to_string();
    if secret.len() != 32
        || !secret
            .bytes()
            .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b))
    {
        return Err(ApiError::invalid(
            "secret",
            "reload the page and scan the new code",
        ));
    }
    let unix = portal_core::store::now().max(0) as u64;
    let step = totp::accepted_step(&secret, &body.value.code, unix, 0).ok_or_else(|| {
        ApiError::invalid(
            "code",
            "this is not the code the app shows for this QR code; check the phone's clock and try the next code",
        )
    })?;
    let (codes, hashes) = recovery_codes(10);
    let mut member = user.member.clone();
    member.totp_secret = Some(secret);
    member.totp_last_step = step;
    member.recovery_codes = hashes;
    let audit = user.staff().audit(
        "staff.second_factor",
        None,
        format!("staff {}", member.email),
        json!({ "email": member.email, "second_factor": "totp" }),
    )?;
    Members::new(state.store.clone())
        .update(&member, user.version, audit)
        .await?;
    Ok(desk_page(
        &state,
        &user,
        Recovery { codes },
        "desk/recovery.html",
        "Recovery codes",
        "/desk/security",
    )
    .await?
    .status(StatusCode::OK)
    .into_response())
}
