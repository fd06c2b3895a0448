//! Changing a password (with the current one), and setting one with a mailed link
//! (forgotten password, activation).

use std::time::Instant;

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use portal_core::records::customers::{Customers, Login};
use portal_core::records::email_key;
use portal_core::records::outbox::Mail;
use portal_core::records::sessions::{Sessions, TokenKind};
use serde::Deserialize;

use crate::error::ApiError;
#[allow(unused_imports)]
use crate::error::{ErrorBody, MessageBody};
use crate::guard::ClientIp;
use crate::input::{self, Input};
use crate::state::AppState;
use crate::view::done_now;

use super::password;
use super::{consts::*, login::*, session::*};

/// A password change.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    /// The current password.
    #[serde(default)]
    #[schema(required = true, schema_with = crate::input::filled_schema)]
    pub current: String,
    /// The new password.
    #[serde(default)]
    #[schema(required = true, schema_with = crate::input::password_schema)]
    pub password: String,
    /// End every other session of this login (the default); `false` (or `off`) keeps them.
    #[serde(default)]
    pub end_other_sessions: Option<String>,
}

#[utoipa::path(post, path = "/api/auth/password", tag = "auth", summary = "Change the password (needs the current one)",
    request_body(content((PasswordChange = "application/json"), (PasswordChange = "application/x-www-form-urlencoded"))),
    responses((status = 200, description = "Changed", body = MessageBody), (status = 401, description = "Not logged in, or the current password is wrong", body = ErrorBody), (status = 422, description = "The new password breaks a rule", body = ErrorBody)))]
pub(crate) async fn change_password(
    State(state): State<AppState>,
    who: SignedIn,
    body: Input<PasswordChange>,
) -> Result<Response, ApiError> {
    let v = &body.value;
    password::check_new("password", &v.password)?;
    let customers = Customers::new(state.store.clone());
    let found = customers
        .login(&who.session.email)
        .await?
        .ok_or_else(|| ApiError::Unauthorized("log in first".into()))?;
    check_current(&state, &who, &found.record, &v.current).await?;
    let mut login = found.record;
    login.password_hash = Some(password::hash(&v.password).await?);
    login.credentials += 1;
    let version = customers.update_login(&login, found.version).await?;
    let end_others = !matches!(
        v.end_other_sessions.as_deref(),
        Some("false" | "off" | "no" | "0")
    );
    let sessions = Sessions::new(state.store.clone());
    let mut response = if end_others {
        sessions.end_all(&login.email).await?;
        let (token, _) = sessions
            .start_checked(
                &login.email,
                &login.customer_id,
                ABSOLUTE_SECONDS,
                Some(version),
                login.sees,
                Vec::new(),
            )
            .await?;
        let mut r = answer(
            body.from_form,
            "Your password is changed, and every other session has ended.",
        );
        r.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(COOKIE, &token, ABSOLUTE_SECONDS),
        );
        r
    } else {
        answer(body.from_form, "Your password is changed.")
    };
    // This browser stays remembered under the new credentials (the others are forgotten).
    let device = sessions
        .remember_device(&login.email, login.credentials, DEVICE_SECONDS)
        .await?;
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(DEVICE_COOKIE, &device, DEVICE_SECONDS),
    );
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// Current-password checks one session may make per hour.
pub(super) const CURRENT_CHECKS_PER_SESSION: u32 = 10;

/// Checks the current password of a signed-in login before a change of credentials. The
/// check is counted per session before it is made (a stolen session cannot guess freely),
/// not per account, so guesses at the login page never stop the owner changing a password.
pub(crate) async fn check_current(
    state: &AppState,
    who: &SignedIn,
    login: &Login,
    current: &str,
) -> Result<(), ApiError> {
    crate::guard::limit(
        state,
        "current-password",
        &who.session.token_hash,
        CURRENT_CHECKS_PER_SESSION,
    )
    .await?;
    if !password::verify(current, login.password_hash.as_deref()).await {
        return Err(ApiError::invalid("current", "is not your current password"));
    }
    Ok(())
}

pub(super) fn answer(from_form: bool, message: &str) -> Response {
    done_now(
        from_form,
        "/my/#password-changed",
        StatusCode::OK,
        &MessageBody::new(message),
    )
}

/// A forgotten password.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Forgot {
    /// The login's e-mail address.
    #[serde(default)]
    #[schema(required = true, schema_with = crate::input::email_schema)]
    pub email: String,
}

/// The one answer to a reset request.
pub const FORGOT_ANSWER: &str =
    "If that address has a login, a link to choose a new password is on its way. It works once, for an hour.";

#[utoipa::path(post, path = "/api/auth/forgot", tag = "auth", summary = "Mail a password-reset link (the same answer and timing for every address)",
    request_body(content((Forgot = "application/json"), (Forgot = "application/x-www-form-urlencoded"))),
    responses((status = 202, description = "The one answer", body = MessageBody), (status = 303, description = "From a form")))]
pub(crate) async fn forgot(
    State(state): State<AppState>,
    ip: ClientIp,
    body: Input<Forgot>,
) -> Result<Response, ApiError> {
    let started = Instant::now();
    let email = input::email("email", &body.value.email)?;
    let limits = state.site().settings().limits;
    crate::guard::limit(&state, "forgot-ip", &ip.0, limits.posts_per_ip).await?;
    crate::guard::limit_email(&state, &email).await?;
    let customers = Customers::new(state.store.clone());
    if let Some(login) = customers
        .login(&email)
        .await?
        .filter(|l| !l.record.disabled)
    {
        let base = state.site().settings().base_url.clone();
        let to = login.record.email.clone();
        crate::auth::links::send_link(
            &state,
            TokenKind::PasswordReset,
            email_key(&to),
            RESET_SECONDS,
            Some(login.record.credentials),
            |token| {
                vec![Mail::new(
                    &to,
                    "Choose a new password",
                    format!("Hello,\n\nsomeone, probably you, asked to reset the password of your portal login.\nChoose a new one here within an hour:\n{base}/reset/{token}\n\nIf it was not you, ignore this e-mail: your password stays as it is.\n"),
                )]
            },
        )
        .await?;
    }
    steady(started).await;
    Ok(done_now(
        body.from_form,
        "/login#reset-sent",
        StatusCode::ACCEPTED,
        &MessageBody::new(FORGOT_ANSWER),
    ))
}

/// Setting a password with a link's token (activation or reset).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPassword {
    /// The token from the link.
    #[serde(default)]
    #[schema(required = true, schema_with = crate::input::filled_schema)]
    pub token: String,
    /// The new password.
    #[serde(default)]
    #[schema(required = true, schema_with = crate::input::password_schema)]
    pub password: String,
}

pub(super) async fn set_with_token(
    state: &AppState,
    ip: &ClientIp,
    body: &SetPassword,
    kind: TokenKind,
) -> Result<String, ApiError> {
    let per_ip = state.site().settings().limits.posts_per_ip;
    crate::guard::limit(state, "link-ip", &ip.0, per_ip).await?;
    password::check_new("password", &body.password)?;
    let gone =
        || ApiError::NotFound("this link has been used or has expired; ask for a new one".into());
    let token = body.token.trim();
    if !well_formed(token) {
        return Err(gone());
    }
    // Look first: only a live link is worth hashing a password for (a 19 MiB argon2 hash).
    let sessions = Sessions::new(state.store.clone());
    let customers = Customers::new(state.store.clone());
    let link = sessions.peek(token, kind).await?.ok_or_else(gone)?;
    let usable =
        |login: &Login| !login.disabled && link.credentials.is_none_or(|c| c == login.credentials);
    if !customers
        .login(&link.subject)
        .await?
        .is_some_and(|l| usable(&l.record))
    {
        return Err(gone());
    }
    // Hash before redeeming: the token is spent only when the password can be set.
    let hash = password::hash(&body.password).await?;
    let used = sessions.redeem(token, kind).await?.ok_or_else(gone)?;
    let found = customers.login(&used.subject).await?.ok_or_else(gone)?;
    let mut login = found.record;
    if !usable(&login) {
        return Err(gone());
    }
    login.password_hash = Some(hash);
    login.failed_attempts = 0;
    login.credentials += 1;
    customers.update_login(&login, found.version).await?;
    sessions.end_all(&login.email).await?;
    // The browser that followed the link is the owner's: it stays remembered.
    sessions
        .remember_device(&login.email, login.credentials, DEVICE_SECONDS)
        .await
        .map_err(ApiError::from)
}

#[utoipa::path(post, path = "/api/auth/activate", tag = "auth", summary = "Set the first password of a login with the activation link's token",
    request_body(content((SetPassword = "application/json"), (SetPassword = "application/x-www-form-urlencoded"))),
    responses((status = 200, description = "Set; log in now", body = MessageBody), (status = 303, description = "From a form: to the login page"),
        (status = 404, description = "Used or expired link", body = ErrorBody), (status = 422, description = "The password breaks a rule", body = ErrorBody)))]
pub(crate) async fn activate(
    State(state): State<AppState>,
    ip: ClientIp,
    body: Input<SetPassword>,
) -> Result<Response, ApiError> {
    let device = set_with_token(&state, &ip, &body.value, TokenKind::Activation).await?;
    let r = done_now(
        body.from_form,
        "/login#activated",
        StatusCode::OK,
        &MessageBody::new("Your password is set; log in now."),
    );
    Ok(remembered(r, &device))
}

#[utoipa::path(post, path = "/api/auth/reset", tag = "auth", summary = "Choose a new password with the reset link's token; every session ends",
    request_body(content((SetPassword = "application/json"), (SetPassword = "application/x-www-form-urlencoded"))),
    responses((status = 200, description = "Set; log in now", body = MessageBody), (status = 303, description = "From a form: to the login page"),
        (status = 404, description = "Used or expired link", body = ErrorBody), (status = 422, description = "The password breaks a rule", body = ErrorBody)))]
pub(crate) async fn reset(
    State(state): State<AppState>,
    ip: ClientIp,
    body: Input<SetPassword>,
) -> Result<Response, ApiError> {
    let device = set_with_token(&state, &ip, &body.value, TokenKind::PasswordReset).await?;
    let r = done_now(
        body.from_form,
        "/login#reset-done",
        StatusCode::OK,
        &MessageBody::new("Your password is changed; log in now."),
    );
    Ok(remembered(r, &device))
}

/// `r` with the device cookie of a browser to remember.
pub(super) fn remembered(mut r: Response, device: &str) -> Response {
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(DEVICE_COOKIE, device, DEVICE_SECONDS),
    );
    r
}

pub(crate) fn no_store(mut r: Response) -> Response {
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r.headers_mut().insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    r
}
