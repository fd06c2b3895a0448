//! The `auth` function: logging in and out, activation of a login staff created, password
//! change and reset, and the session every secured route checks.
//!
//! - Sessions are 128-bit random tokens in a `__Host-portal` cookie (Secure, HttpOnly,
//!   SameSite=Lax), stored only as hashes; they end after 30 idle minutes or 12 hours, on
//!   the server.
//! - Login answers the same — status, body and, within noise, time — for an unknown address
//!   and a wrong password. Every attempt is counted before the password is checked (an
//!   atomic counter, so parallel guesses are each counted): past five a minute an address
//!   gets 429 with `Retry-After` (nobody's Lambda waits), and past 100 an hour
//!   (`login_failures_per_account`) guesses no longer reach the account at all, except from a
//!   browser that has logged in to it before (a random device id kept on the server, void
//!   once the password or address changes), so nobody can lock a customer out by guessing.
//!   Each IP address has its own hourly limit too. A current-password check (before a change
//!   of password or address) is counted per session, so guesses elsewhere never block it.
//! - Reset and activation links are looked up before a password is hashed, and are limited
//!   per IP address; a change of password or address voids the links mailed before it.
//! - Every state-changing request must come from the portal's own pages: `Sec-Fetch-Site`
//!   or `Origin` is checked ([`same_origin`]).

pub mod links;
pub mod password;

use std::time::{Duration, Instant};

use axum::extract::{FromRequestParts, Path, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use portal_core::records::customers::{Customers, Login};
use portal_core::records::guards::RateLimits;
use portal_core::records::outbox::Mail;
use portal_core::records::sessions::{Session, Sessions, TokenKind};
use portal_core::records::{email_key, token_hash};
use portal_core::store::now;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
#[allow(unused_imports)]
use crate::error::{ErrorBody, MessageBody};
use crate::guard::ClientIp;
use crate::input::{self, Input};
use crate::pages::Message;
use crate::state::AppState;

/// The session cookie.
pub const COOKIE: &str = "__Host-portal";
/// The cookie that marks a browser that has logged in to an account before.
pub const DEVICE_COOKIE: &str = "__Host-portal-device";
/// A session ends after this long without a request.
pub const IDLE_SECONDS: i64 = 30 * 60;
/// A session ends this long after login, whatever happens.
pub const ABSOLUTE_SECONDS: i64 = 12 * 3600;
/// Activation links last this long.
pub const ACTIVATION_SECONDS: i64 = 72 * 3600;
/// A browser that logged in is remembered this long (or until the password or address
/// changes).
pub const DEVICE_SECONDS: i64 = 365 * 24 * 3600;
/// Password-reset links last this long.
pub const RESET_SECONDS: i64 = 3600;
/// Answers about passwords take at least this long, whatever happened.
const STEADY: Duration = Duration::from_millis(300);

/// The group's routes.
pub fn router() -> Router<AppState> {
    password::warm_up();
    Router::new()
        .route("/api/auth/login", post(login))
        .route("/api/auth/logout", post(logout))
        .route("/api/auth/password", post(change_password))
        .route("/api/auth/forgot", post(forgot))
        .route("/api/auth/reset", post(reset))
        .route("/api/auth/activate", post(activate))
        .route("/api/me", get(me))
        .route("/login", get(login_page))
        .route("/activate/{token}", get(activate_page))
        .route("/reset/{token}", get(reset_page))
}

/// The value of cookie `name`.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn set_cookie(name: &str, value: &str, max_age: i64) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age={max_age}"
    ))
    .expect("cookie values are ASCII")
}

/// A request with a live session.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// The session.
    pub session: Session,
    /// The token from the cookie.
    pub token: String,
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let out = || ApiError::Unauthorized("log in first".into());
        let token = cookie(&parts.headers, COOKIE).ok_or_else(out)?.to_string();
        if token.len() != 32 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(out());
        }
        let sessions = Sessions::new(state.store.clone());
        // The form-token check may have read it already for this request.
        let known = parts
            .extensions
            .get::<Session>()
            .filter(|s| s.token_hash == token_hash(&token))
            .cloned();
        let session = match known {
            Some(s) => s,
            None => sessions.get(&token).await?.ok_or_else(out)?,
        };
        let t = now();
        let last = session.last_seen.max(session.created);
        if t >= session.expires_at || t - last > IDLE_SECONDS {
            sessions.end(&token).await?;
            return Err(ApiError::Unauthorized(
                "your session has ended; log in again".into(),
            ));
        }
        if t - last > 60 {
            sessions.touch(&session).await?;
        }
        Ok(SignedIn { session, token })
    }
}

/// Middleware: refuses a state-changing request that a browser sent from another site.
/// Browsers say where a request comes from in `Sec-Fetch-Site` (or, older ones, `Origin`);
/// a form post that says neither is refused too. API clients sending JSON without either
/// header are not browsers, and a cross-site page cannot send JSON without our consent.
pub async fn same_origin(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let h = req.headers();
    let text = |name| h.get(name).and_then(|v: &HeaderValue| v.to_str().ok());
    let host = text(header::HOST).unwrap_or("");
    // Behind CloudFront the Host is the API's own; the portal's address is the site's.
    let site = state.site();
    let base = site.settings().base_url.trim_end_matches('/');
    let allowed = match (
        text(HeaderName::from_static("sec-fetch-site")),
        text(header::ORIGIN),
    ) {
        (Some(site), _) => site == "same-origin" || site == "none",
        (None, Some(origin)) => {
            origin.trim_end_matches('/') == base
                || origin
                    .split_once("://")
                    .is_some_and(|(_, rest)| rest.trim_end_matches('/') == host)
        }
        (None, None) => !text(header::CONTENT_TYPE).is_some_and(|c| {
            let c = c.to_ascii_lowercase();
            c.starts_with("application/x-www-form-urlencoded")
                || c.starts_with("multipart/form-data")
                || c.starts_with("text/plain")
        }),
    };
    if allowed {
        next.run(req).await
    } else {
        // Read what was sent before refusing, so the client is not cut off mid-request.
        let _ = axum::body::to_bytes(req.into_body(), crate::fields::MAX_MULTIPART).await;
        ApiError::Forbidden("requests from other sites are refused".into()).into_response()
    }
}

use axum::http::HeaderName;

/// Posts one session may make per hour (comments, notes, files, registrations, changes).
pub const POSTS_PER_SESSION: u32 = 300;

/// Middleware: counts every post made with a session cookie against [`POSTS_PER_SESSION`],
/// so a stolen or scripted session cannot send mail or files without end.
pub async fn session_limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let token = cookie(req.headers(), COOKIE)
        .filter(|t| well_formed(t))
        .map(token_hash);
    match token {
        Some(subject) if req.method() == Method::POST => {
            match crate::guard::limit(&state, "session-post", &subject, POSTS_PER_SESSION).await {
                Ok(()) => next.run(req).await,
                Err(e) => e.into_response(),
            }
        }
        _ => next.run(req).await,
    }
}

pub use crate::fields::CSRF_FIELD;

/// The form token of a session: a signature of its hash, which only the portal can make and
/// only pages of that session carry.
pub async fn csrf_token(state: &AppState, who: &SignedIn) -> Result<String, ApiError> {
    crate::guard::sign_text(state, &format!("csrf\n{}", who.session.token_hash)).await
}

/// Routes that need no session, so their forms carry no session form token.
const WITHOUT_SESSION: &[&str] = &[
    "/api/auth/login",
    "/api/auth/forgot",
    "/api/auth/activate",
    "/api/auth/reset",
];

/// Middleware: a form post made with a session cookie must carry that session's form token
/// in the `csrf` field; the pages of the customer area put it in every form.
pub async fn csrf(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let kind = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let lower = kind.to_ascii_lowercase();
    let form = lower.starts_with("application/x-www-form-urlencoded");
    let multipart = lower.starts_with("multipart/form-data");
    let Some(token) = cookie(req.headers(), COOKIE).map(str::to_string) else {
        return next.run(req).await;
    };
    // A link's token authorises these by itself (the e-mail change link).
    let by_link = req.uri().path().starts_with("/my/email/");
    if req.method() != Method::POST
        || !(form || multipart)
        || by_link
        || WITHOUT_SESSION.contains(&req.uri().path())
    {
        return next.run(req).await;
    }
    // A form post needs a live session: a made-up cookie is refused before the body (up to
    // 50 MB of files) is read.
    // Logging out needs no live session: an ended one is cleared all the same.
    let session = if well_formed(&token) {
        Sessions::new(state.store.clone())
            .get(&token)
            .await
            .ok()
            .flatten()
    } else {
        None
    };
    let logout = req.uri().path() == "/api/auth/logout";
    match session {
        // The handler's `SignedIn` takes the session from here instead of reading it again.
        Some(s) => {
            req.extensions_mut().insert(s);
        }
        None if !logout => {
            return ApiError::Unauthorized("log in first".into()).into_response();
        }
        None => {}
    }
    let (parts, body) = req.into_parts();
    let max = if multipart {
        crate::fields::MAX_MULTIPART
    } else {
        crate::fields::MAX_BODY
    };
    let Ok(bytes) = axum::body::to_bytes(body, max).await else {
        return ApiError::BadBody("the form is too large".into()).into_response();
    };
    let pairs: Vec<(String, String)> = if multipart {
        crate::guard::multipart_fields(&kind, bytes.clone())
            .await
            .rest
    } else {
        serde_urlencoded::from_bytes(&bytes).unwrap_or_default()
    };
    let sent = pairs
        .iter()
        .find(|(k, _)| k == CSRF_FIELD)
        .map(|(_, v)| v.as_str());
    let expected = crate::guard::sign_text(&state, &format!("csrf\n{}", token_hash(&token))).await;
    match (sent, expected) {
        (Some(s), Ok(e)) if crate::guard::same_secret(s, &e) => {
            next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
                .await
        }
        (_, Err(e)) => e.into_response(),
        _ => ApiError::Forbidden(
            "this form has expired or did not come from the portal; reload the page and send it again".into(),
        )
        .into_response(),
    }
}

/// Answers no sooner than [`STEADY`] after `started`, so timing tells nothing.
async fn steady(started: Instant) {
    if let Some(rest) = STEADY.checked_sub(started.elapsed()) {
        tokio::time::sleep(rest).await;
    }
}

/// Whether the device cookie in `headers` names a browser that logged in to `login` since
/// its credentials last changed (1 request when there is a cookie).
async fn known_device(
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
fn well_formed(token: &str) -> bool {
    token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Attempts on one account per minute before further ones wait (429 with `Retry-After`),
/// except from a remembered device.
const ATTEMPTS_PER_MINUTE: u32 = 5;

/// Counts an attempt to prove a login's password (a login, or a current-password check)
/// *before* the password is checked, so parallel guesses are each counted; refuses it with
/// 429 past [`ATTEMPTS_PER_MINUTE`]. Returns the attempts of the hour, this one included.
async fn count_attempt(state: &AppState, email: &str, known_device: bool) -> Result<u32, ApiError> {
    let limits = RateLimits::new(state.store.clone());
    let hour = limits.count("login-fail", email, 3600).await?;
    if !known_device {
        let minute = limits.count("login-minute", email, 60).await?;
        if minute > ATTEMPTS_PER_MINUTE {
            return Err(ApiError::Wait {
                message: "too many attempts for this login; wait a minute and try again".into(),
                seconds: RateLimits::retry_after(60),
            });
        }
    }
    Ok(hour)
}

/// Takes back an attempt counted with [`count_attempt`] that proved the password.
async fn forgive_attempt(
    state: &AppState,
    email: &str,
    known_device: bool,
) -> Result<(), ApiError> {
    let limits = RateLimits::new(state.store.clone());
    limits.forgive("login-fail", email, 3600).await?;
    if !known_device {
        limits.forgive("login-minute", email, 60).await?;
    }
    Ok(())
}

/// Logging in.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    /// The login's e-mail address.
    #[serde(default)]
    pub email: String,
    /// The password.
    #[serde(default)]
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
    let per_ip = state.site().settings().limits.logins_per_ip;
    crate::guard::limit(&state, "login-ip", &ip.0, per_ip).await?;
    let customers = Customers::new(state.store.clone());
    let found = customers.login(&email).await?;
    let login_version = found.as_ref().map(|l| l.version);
    let login = found.map(|l| l.record);
    let known_device = match &login {
        Some(l) => known_device(&state, &headers, l).await?,
        None => false,
    };
    let attempts = count_attempt(&state, &email, known_device).await?;
    let cap = state.site().settings().limits.login_failures_per_account;
    let reaches = attempts <= cap || known_device;
    let hash = login
        .as_ref()
        .filter(|l| !l.disabled && reaches)
        .and_then(|l| l.password_hash.as_deref());
    let ok = password::verify(&v.password, hash).await;
    let Some(login) = login.filter(|_| ok) else {
        steady(started).await;
        return Err(ApiError::Unauthorized(LOGIN_FAILED.into()));
    };
    forgive_attempt(&state, &email, known_device).await?;
    let (token, session) = Sessions::new(state.store.clone())
        .start_checked(
            &login.email,
            &login.customer_id,
            ABSOLUTE_SECONDS,
            login_version,
        )
        .await?;
    let customer = customers
        .get(&login.customer_id)
        .await?
        .map(|c| c.record.name)
        .unwrap_or_default();
    let device = if known_device {
        None
    } else {
        Some(
            Sessions::new(state.store.clone())
                .remember_device(&login.email, login.credentials, DEVICE_SECONDS)
                .await?,
        )
    };
    let mut response = if body.from_form {
        Redirect::to("/my/").into_response()
    } else {
        Json(Me {
            email: login.email.clone(),
            customer_id: login.customer_id.clone(),
            customer_name: customer,
            session_ends: session.expires_at,
        })
        .into_response()
    };
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
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    let mut response = if form {
        Redirect::to("/").into_response()
    } else {
        StatusCode::NO_CONTENT.into_response()
    };
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

/// A password change.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    /// The current password.
    #[serde(default)]
    pub current: String,
    /// The new password.
    #[serde(default)]
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
const CURRENT_CHECKS_PER_SESSION: u32 = 10;

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

fn answer(from_form: bool, message: &str) -> Response {
    if from_form {
        Redirect::to("/my/#password-changed").into_response()
    } else {
        Json(serde_json::json!({ "message": message })).into_response()
    }
}

/// A forgotten password.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Forgot {
    /// The login's e-mail address.
    #[serde(default)]
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
    if body.from_form {
        return Ok(Redirect::to("/login#reset-sent").into_response());
    }
    Ok((
        StatusCode::ACCEPTED,
        Json(serde_json::json!({ "message": FORGOT_ANSWER })),
    )
        .into_response())
}

/// Setting a password with a link's token (activation or reset).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPassword {
    /// The token from the link.
    #[serde(default)]
    pub token: String,
    /// The new password.
    #[serde(default)]
    pub password: String,
}

async fn set_with_token(
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
    let r = if body.from_form {
        Redirect::to("/login#activated").into_response()
    } else {
        Json(serde_json::json!({"message": "Your password is set; log in now."})).into_response()
    };
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
    let r = if body.from_form {
        Redirect::to("/login#reset-done").into_response()
    } else {
        Json(serde_json::json!({"message": "Your password is changed; log in now."}))
            .into_response()
    };
    Ok(remembered(r, &device))
}

/// `r` with the device cookie of a browser to remember.
fn remembered(mut r: Response, device: &str) -> Response {
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(DEVICE_COOKIE, device, DEVICE_SECONDS),
    );
    r
}

fn no_store(mut r: Response) -> Response {
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r.headers_mut().insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    r
}

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

fn password_page(state: &AppState, token: &str, action: &str, title: &str) -> Response {
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
