//! `/desk/security`: a member sets up the second factor — a QR code for the authenticator
//! app, a code from it to confirm, and ten recovery codes shown once.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use portal_core::records::staff::{recovery_codes, Members, SessionStart};
use portal_core::records::Record;
use portal_core::store::{Cond, Write};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::error::ApiError;
use crate::input::Input;
use crate::state::AppState;

use super::page::desk_page;
use super::session::{needs_second_factor, set_cookie, DeskUser, ABSOLUTE_SECONDS};
use super::totp;

/// What the security screen shows.
#[derive(Debug, Serialize)]
struct Security {
    enabled: bool,
    required: bool,
    recovery_left: usize,
    /// A new secret to set up (when none is set up yet).
    secret: Option<String>,
    /// The portal's signature of the secret for this session, so only a secret the portal
    /// made can be set up.
    seal: Option<String>,
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
    let seal = match &secret {
        Some(s) => Some(seal_of(&state, &user, s).await?),
        None => None,
    };
    let data = Security {
        enabled,
        required: needs_second_factor(&state, &user.member),
        recovery_left: user.member.recovery_codes.len(),
        secret,
        seal,
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

/// The seal of `secret` for `user`'s session.
async fn seal_of(state: &AppState, user: &DeskUser, secret: &str) -> Result<String, ApiError> {
    crate::guard::sign_text(
        state,
        &format!("desk-totp\n{}\n{secret}", user.session.token_hash),
    )
    .await
}

/// Setting up an authenticator app.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Enrol {
    /// The secret the page showed.
    #[serde(default)]
    pub secret: String,
    /// The portal's seal of the secret.
    #[serde(default)]
    pub seal: String,
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
    let sealed = seal_of(&state, &user, &secret).await?;
    if !crate::guard::same_secret(&sealed, body.value.seal.trim()) {
        return Err(ApiError::invalid(
            "secret",
            "this is not a key the portal made for this session; reload the page and scan the new code",
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
    // Every session from before ends, this one too: the member goes on in a new session
    // that proved the new factor.
    member.renew_credentials();
    let mut extra = user.staff().audit(
        "staff.second_factor",
        None,
        format!("staff {}", member.email),
        json!({ "email": member.email, "second_factor": "totp" }),
    )?;
    extra.push(Write::Delete(user.session.key(), Cond::None));
    let (token, session) = Members::new(state.store.clone())
        .start_session(
            &member,
            user.version,
            SessionStart {
                seconds: ABSOLUTE_SECONDS,
                second_factor: true,
                save_member: true,
                extra,
            },
        )
        .await?;
    let now_user = DeskUser {
        member,
        version: user.version + 1,
        session,
    };
    let mut r = desk_page(
        &state,
        &now_user,
        Recovery { codes },
        "desk/recovery.html",
        "Recovery codes",
        "/desk/security",
    )
    .await?
    .status(StatusCode::OK)
    .into_response();
    r.headers_mut()
        .append(header::SET_COOKIE, set_cookie(&token, ABSOLUTE_SECONDS));
    Ok(r)
}
