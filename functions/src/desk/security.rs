//! `/desk/security`: a member sets up the second factor — a QR code for the authenticator
//! app, a code from it to confirm, and ten recovery codes shown once — changes their
//! password, and makes new recovery codes (the old ones stop working).

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
    /// Whether they replace older codes (rather than come with a new app).
    replaced: bool,
}

/// Wrong current passwords one member may send an hour on this screen.
const PASSWORD_TRIES: u32 = 10;

/// Ends every session of `member` but goes on in a new one (which keeps `user`'s second
/// factor), with the audit entry of `action` (its `changes`) in the same transaction; the
/// answer shows `view` and sets the new cookie.
async fn go_on_renewed<T: Serialize + Send + Sync + 'static>(
    state: &AppState,
    user: &DeskUser,
    mut member: portal_core::records::staff::Member,
    (action, changes): (&str, serde_json::Value),
    view: (T, &'static str, &str),
) -> Result<Response, ApiError> {
    let mut extra = user
        .staff()
        .audit(action, None, format!("staff {}", member.email), changes)?;
    member.renew_credentials();
    extra.push(Write::Delete(user.session.key(), Cond::None));
    let (token, session) = Members::new(state.store.clone())
        .start_session(
            &member,
            user.version,
            SessionStart {
                seconds: ABSOLUTE_SECONDS,
                second_factor: user.session.second_factor,
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
    let (data, template, title) = view;
    let mut r = desk_page(state, &now_user, data, template, title, "/desk/security")
        .await?
        .status(StatusCode::OK)
        .into_response();
    r.headers_mut()
        .append(header::SET_COOKIE, set_cookie(&token, ABSOLUTE_SECONDS));
    Ok(r)
}

/// A new password.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPassword {
    /// The password now.
    #[serde(default)]
    pub current: String,
    /// The one to use from now on.
    #[serde(default)]
    pub password: String,
}

/// What the screen says after a change.
#[derive(Debug, Serialize)]
struct Changed {
    message: &'static str,
}

/// `POST /desk/security/password`: with the current password, a new one; every other
/// session of the member ends, and the password-reset links sent before stop working.
pub(crate) async fn password(
    State(state): State<AppState>,
    user: DeskUser,
    body: Input<NewPassword>,
) -> Result<Response, ApiError> {
    crate::guard::limit(
        &state,
        "desk-password",
        &portal_core::records::email_key(&user.member.email),
        PASSWORD_TRIES,
    )
    .await?;
    if !crate::auth::password::verify(&body.value.current, user.member.password_hash.as_deref())
        .await
    {
        return Err(ApiError::invalid(
            "current",
            "this is not your password now",
        ));
    }
    crate::auth::password::check_new("password", &body.value.password)?;
    if body.value.password == body.value.current {
        return Err(ApiError::invalid(
            "password",
            "is the password you have now; choose another",
        ));
    }
    let mut member = user.member.clone();
    member.password_hash = Some(crate::auth::password::hash(&body.value.password).await?);
    let audit = ("staff.password", json!({ "email": member.email }));
    go_on_renewed(
        &state,
        &user,
        member,
        audit,
        (
            Changed {
                message: "Your password is changed. Your other sessions have ended.",
            },
            "desk/changed.html",
            "Password changed",
        ),
    )
    .await
}

/// A code from the authenticator app, to make new recovery codes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Prove {
    /// The app's code now.
    #[serde(default)]
    pub code: String,
}

/// `POST /desk/security/recovery`: with a code from the app (or a recovery code), ten new
/// recovery codes, shown once; the old ones stop working.
pub(crate) async fn recovery(
    State(state): State<AppState>,
    user: DeskUser,
    body: Input<Prove>,
) -> Result<Response, ApiError> {
    let Some(secret) = user.member.totp_secret.clone() else {
        return Err(ApiError::Conflict(
            "set up an authenticator app first; its recovery codes come with it".into(),
        ));
    };
    let mut member = user.member.clone();
    super::login::second_factor(
        &state,
        &mut member,
        &secret,
        &body.value.code,
        std::time::Instant::now(),
    )
    .await
    .map_err(|e| match e {
        ApiError::Unauthorized(_) => ApiError::invalid(
            "code",
            "this is not the code your app shows now, nor an unused recovery code",
        ),
        other => other,
    })?;
    let (codes, hashes) = recovery_codes(10);
    member.recovery_codes = hashes;
    let audit = ("staff.recovery_codes", json!({ "email": member.email }));
    go_on_renewed(
        &state,
        &user,
        member,
        audit,
        (
            Recovery {
                codes,
                replaced: true,
            },
            "desk/recovery.html",
            "Recovery codes",
        ),
    )
    .await
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
    let audit = (
        "staff.second_factor",
        json!({ "email": member.email, "second_factor": "totp" }),
    );
    // Every session from before ends, this one too: the member goes on in a new session
    // that proved the new factor.
    let mut proved = user.clone();
    proved.session.second_factor = true;
    go_on_renewed(
        &state,
        &proved,
        member,
        audit,
        (
            Recovery {
                codes,
                replaced: false,
            },
            "desk/recovery.html",
            "Recovery codes",
        ),
    )
    .await
}
