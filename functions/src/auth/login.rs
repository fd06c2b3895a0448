//! Logging in and out: attempts counted before the password is checked, the same answer for
//! an unknown address and a wrong password, remembered devices.

use std::time::Instant;

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::Json;
use portal_core::records::customers::{Customers, Login};
use portal_core::records::email_key;
use portal_core::records::guards::RateLimits;
use portal_core::records::sessions::Sessions;
use portal_core::store::Write;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
#[allow(unused_imports)]
use crate::error::{ErrorBody, MessageBody};
use crate::guard::ClientIp;
use crate::input::{self, Input};
use crate::state::AppState;
use crate::view::done_now;

use super::password;
use super::{consts::*, session::*};

/// Answers no sooner than [`STEADY`] after `started`, so timing tells nothing.
pub(crate) async fn steady(started: Instant) {
    if let Some(rest) = STEADY.checked_sub(started.elapsed()) {
        tokio::time::sleep(rest).await;
    }
}

/// Whether the device cookie in `headers` names a browser that logged in to `login` since
/// its credentials last changed (1 request when there is a cookie).
pub(super) async fn known_device(
    state: &AppState,
    headers: &HeaderMap,
    login: &Login,
) -> Result<bool, ApiError> {
    let Some(id) = cookie(headers, DEVICE_COOKIE).filter(|id| well_formed(id)) else {
        return Ok(false);
    };
    Ok(Sessions::new(state.store.clone())
        .device(id)
        .await?
        .is_some_and(|d| d.email == email_key(&login.email) && d.credentials == login.credentials))
}

/// Whether `token` looks like one of ours (32 hex digits): anything else is refused before
/// the store is asked.
pub(super) fn well_formed(token: &str) -> bool {
    token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Attempts on one account per minute before further ones wait (429 with `Retry-After`),
/// except from a remembered device.
pub(super) const ATTEMPTS_PER_MINUTE: u32 = 5;

/// Counts an attempt to prove a login's password *before* the password is checked, so
/// parallel guesses are each counted: the client's address under `ip_scope` (429 past
/// `per_ip` an hour), the account's hour, and — except from a remembered device — its minute
/// (429 past [`ATTEMPTS_PER_MINUTE`]). Usually all three go up together in one transaction,
/// each under its ceiling (1 request); when that does not pass (a ceiling reached, a window
/// from an older portal, collisions), each is counted alone and judged by its count (3 more),
/// so a refused attempt still counts against its address. Returns whether the attempt may
/// still reach the password: not once the account has had `cap` attempts in the hour, unless
/// from a remembered device.
pub(crate) async fn count_attempt(
    state: &AppState,
    (ip_scope, ip, per_ip): (&str, &str, u32),
    email: &str,
    cap: u32,
    known_device: bool,
) -> Result<bool, ApiError> {
    let limits = RateLimits::new(state.store.clone());
    let mut steps = vec![
        RateLimits::step(ip_scope, ip, 3600, 1, Some(per_ip)),
        RateLimits::step("login-fail", email, 3600, 1, (!known_device).then_some(cap)),
    ];
    if !known_device {
        steps.push(RateLimits::step(
            "login-minute",
            email,
            60,
            1,
            Some(ATTEMPTS_PER_MINUTE),
        ));
    }
    if limits.count_together(steps).await? {
        return Ok(true);
    }
    if limits.count(ip_scope, ip, 3600).await? > per_ip {
        return Err(crate::guard::too_many(per_ip));
    }
    let hour = limits.count("login-fail", email, 3600).await?;
    if !known_device && limits.count("login-minute", email, 60).await? > ATTEMPTS_PER_MINUTE {
        return Err(ApiError::Wait {
            message: "too many attempts for this login; wait a minute and try again".into(),
            seconds: RateLimits::retry_after(60),
        });
    }
    Ok(known_device || hour <= cap)
}

/// The writes that take back an attempt counted with [`count_attempt`] that proved the
/// password, for the transaction that starts its session.
pub(crate) fn forgive_attempt(email: &str, known_device: bool) -> Vec<Write> {
    let mut steps = vec![RateLimits::step("login-fail", email, 3600, -1, None)];
    if !known_device {
        steps.push(RateLimits::step("login-minute", email, 60, -1, None));
    }
    steps
}

/// Logging in.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    /// The login's e-mail address.
    #[serde(default)]
    #[schema(required = true, schema_with = crate::input::address_schema)]
    pub email: String,
    /// The password.
    #[serde(default)]
    #[schema(required = true, schema_with = crate::input::filled_schema)]
    pub password: String,
}

/// Who is logged in.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Me {
    /// The login's e-mail address.
    pub email: String,
    /// The customer account.
    pub customer_id: String,
    /// The customer's name.
    pub customer_name: String,
    /// When the session ends at the latest, Unix seconds.
    pub session_ends: i64,
}

/// The one answer to a failed login.
pub const LOGIN_FAILED: &str = "the e-mail address or the password is wrong";

#[utoipa::path(post, path = "/api/auth/login", tag = "auth", summary = "Log in; sets the session cookie",
    request_body(content((Credentials = "application/json"), (Credentials = "application/x-www-form-urlencoded"))),
    responses((status = 200, description = "Logged in", body = Me), (status = 303, description = "From a form: to /my/"),
        (status = 401, description = "Unknown address or wrong password (one answer)", body = ErrorBody),
        (status = 429, description = "Too many attempts from this address", body = ErrorBody)))]
pub(crate) async fn login(
    State(state): State<AppState>,
    ip: ClientIp,
    headers: HeaderMap,
    body: Input<Credentials>,
) -> Result<Response, ApiError> {
    let started = Instant::now();
    let v = &body.value;
    let email = input::line("email", &v.email, 254)?;
    if v.password.is_empty() {
        return Err(ApiError::invalid("password", "is required"));
    }
    let limits = state.site().settings().limits;
    let customers = Customers::new(state.store.clone());
    let found = customers.login(&email).await?;
    let login_version = found.as_ref().map(|l| l.version);
    let login = found.map(|l| l.record);
    let known_device = match &login {
        Some(l) => known_device(&state, &headers, l).await?,
        None => false,
    };
    let reaches = count_attempt(
        &state,
        ("login-ip", &ip.0, limits.logins_per_ip),
        &email,
        limits.login_failures_per_account,
        known_device,
    )
    .await?;
    let hash = login
        .as_ref()
        .filter(|l| !l.disabled && reaches)
        .and_then(|l| l.password_hash.as_deref());
    let ok = password::verify(&v.password, hash).await;
    let Some(login) = login.filter(|_| ok) else {
        steady(started).await;
        return Err(ApiError::Unauthorized(LOGIN_FAILED.into()));
    };
    // One transaction: the session and its pointer, the attempt taken back, this browser
    // remembered.
    let mut extra = forgive_attempt(&email, known_device);
    let device = if known_device {
        None
    } else {
        let (device, write) =
            Sessions::device_write(&login.email, login.credentials, DEVICE_SECONDS)?;
        extra.push(write);
        Some(device)
    };
    let (token, session) = Sessions::new(state.store.clone())
        .start_checked(
            &login.email,
            &login.customer_id,
            ABSOLUTE_SECONDS,
            login_version,
            login.sees,
            extra,
        )
        .await?;
    let customer = customers
        .get(&login.customer_id)
        .await?
        .map(|c| c.record.name)
        .unwrap_or_default();
    let me = Me {
        email: login.email.clone(),
        customer_id: login.customer_id.clone(),
        customer_name: customer,
        session_ends: session.expires_at,
    };
    let mut response = done_now(body.from_form, "/my/", StatusCode::OK, &me);
    let h = response.headers_mut();
    h.append(
        header::SET_COOKIE,
        set_cookie(COOKIE, &token, ABSOLUTE_SECONDS),
    );
    if let Some(device) = device {
        h.append(
            header::SET_COOKIE,
            set_cookie(DEVICE_COOKIE, &device, DEVICE_SECONDS),
        );
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    steady(started).await;
    Ok(response)
}

#[utoipa::path(post, path = "/api/auth/logout", tag = "auth", summary = "Log out: the session ends on the server",
    responses((status = 204, description = "Logged out"), (status = 303, description = "From a form: to the home page")))]
pub(crate) async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(token) = cookie(&headers, COOKIE) {
        Sessions::new(state.store.clone()).end(token).await?;
    }
    let form = crate::view::is_form(&axum::http::Method::POST, &headers);
    let mut response = done_now(form, "/", StatusCode::NO_CONTENT, &());
    response
        .headers_mut()
        .append(header::SET_COOKIE, set_cookie(COOKIE, "", 0));
    Ok(response)
}

#[utoipa::path(get, path = "/api/me", tag = "auth", summary = "Who is logged in",
    responses((status = 200, description = "The login", body = Me), (status = 401, description = "Not logged in", body = ErrorBody)))]
pub(crate) async fn me(State(state): State<AppState>, who: SignedIn) -> Result<Json<Me>, ApiError> {
    let customer = Customers::new(state.store.clone())
        .get(&who.session.customer_id)
        .await?
        .map(|c| c.record.name)
        .unwrap_or_default();
    Ok(Json(Me {
        email: who.session.email,
        customer_id: who.session.customer_id,
        customer_name: customer,
        session_ends: who.session.expires_at,
    }))
}
