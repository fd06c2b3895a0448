//! Logging in to the desk and out of it, and a new member's activation link. The same rules as
//! the customers' logins: attempts counted before the password is checked, one answer for an
//! unknown address and a wrong password, answers that take as long either way; then the
//! second factor, a code from an authenticator app or a recovery code, good once.

use std::time::Instant;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use portal_core::records::email_key;
use portal_core::records::guards::RateLimits;
use portal_core::records::sessions::{Sessions, TokenKind};
use portal_core::records::staff::{Member, Members, SessionStart};
use portal_core::store::{Cond, Write};
use serde::{Deserialize, Serialize};

use crate::auth::credentials::{no_store, SetPassword};
use crate::auth::login::{count_attempt, forgive_attempt, steady};
use crate::auth::password;
use crate::error::ApiError;
use crate::guard::ClientIp;
use crate::input::{self, Input};
use crate::state::AppState;
use crate::view::{done_now, View};

use super::session::{
    needs_second_factor, set_cookie, well_formed, ABSOLUTE_SECONDS, COOKIE, SECURITY,
};
use super::totp;

/// Logging in to the desk.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeskCredentials {
    /// The member's e-mail address.
    #[serde(default)]
    pub email: String,
    /// The password.
    #[serde(default)]
    pub password: String,
    /// A code from the authenticator app, or a recovery code.
    #[serde(default)]
    pub code: String,
}

/// Who logged in.
#[derive(Debug, Serialize)]
pub struct DeskMe {
    /// The member's address.
    pub email: String,
    /// The role.
    pub role: String,
}

/// `GET /desk/login`: the login page.
pub(crate) async fn login_page() -> Response {
    no_store(
        View::flat((), "desk/login.html")
            .titled("desk", "Staff login", "/desk/login")
            .unlisted()
            .into_response(),
    )
}

/// `POST /desk/login`.
pub(crate) async fn login(
    State(state): State<AppState>,
    ip: ClientIp,
    body: Input<DeskCredentials>,
) -> Result<Response, ApiError> {
    let started = Instant::now();
    let v = &body.value;
    let email = input::line("email", &v.email, 254)?;
    if v.password.is_empty() {
        return Err(ApiError::invalid("password", "is required"));
    }
    let limits = state.site().settings().limits;
    let members = Members::new(state.store.clone());
    let found = members.get(&email).await?;
    // Counted apart from a customer login with the same address.
    let counted = format!("desk:{}", email.to_lowercase());
    let reaches = count_attempt(
        &state,
        ("desk-login-ip", &ip.0, limits.logins_per_ip),
        &counted,
        limits.login_failures_per_account,
        false,
    )
    .await?;
    let hash = found
        .as_ref()
        .filter(|m| !m.record.disabled && reaches)
        .and_then(|m| m.record.password_hash.as_deref());
    let ok = password::verify(&v.password, hash).await;
    let Some(found) = found.filter(|_| ok) else {
        steady(started).await;
        return Err(ApiError::Unauthorized(DESK_LOGIN_FAILED.into()));
    };
    let version = found.version;
    let mut member = found.record;
    let proved = match member.totp_secret.clone() {
        Some(secret) => {
            second_factor(&state, &mut member, &secret, &v.code, started).await?;
            true
        }
        None => false,
    };
    let (token, _) = members
        .start_session(
            &member,
            version,
            SessionStart {
                seconds: ABSOLUTE_SECONDS,
                second_factor: proved,
                save_member: proved,
                extra: forgive_attempt(&counted, false),
            },
        )
        .await?;
    let onward = if member.totp_secret.is_none() && needs_second_factor(&state, &member) {
        SECURITY
    } else {
        "/desk/"
    };
    let me = DeskMe {
        email: member.email.clone(),
        role: member.role.name().into(),
    };
    let mut response = done_now(body.from_form, onward, StatusCode::OK, &me);
    let h = response.headers_mut();
    h.append(header::SET_COOKIE, set_cookie(&token, ABSOLUTE_SECONDS));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    steady(started).await;
    Ok(response)
}

/// The one answer to a failed desk login: an unknown address, a wrong password and a
/// missing or wrong code look the same, so a guessed password is not confirmed.
pub const DESK_LOGIN_FAILED: &str = "the e-mail address, the password or the code is wrong";

/// Wrong codes one member may send in 15 minutes, and in a day, before codes are refused
/// (429) for the rest of the window: with three codes valid at a time, a guesser gets about
/// one chance in 16,000 a day.
const CODE_FAILURES: [(&str, u32, i64); 2] = [("desk-code", 5, 900), ("desk-code-day", 20, 86_400)];

/// Proves the second factor of `member` (whose password was right) with `code`: the app's
/// code for now (once) or an unused recovery code, which `member` then records. A wrong
/// code is counted (past [`CODE_FAILURES`] every code is refused until the window ends),
/// audited, and answered as a wrong password is.
pub(super) async fn second_factor(
    state: &AppState,
    member: &mut Member,
    secret: &str,
    code: &str,
    started: Instant,
) -> Result<(), ApiError> {
    let limits = RateLimits::new(state.store.clone());
    let who = email_key(&member.email);
    // Counted before the code is checked, so parallel guesses are each counted; a right code
    // takes its count back.
    for (scope, max, window) in CODE_FAILURES {
        if limits.count(scope, &who, window).await? > max {
            steady(started).await;
            return Err(ApiError::Wait {
                message: "too many wrong codes for this login; wait and try again, or ask an admin"
                    .into(),
                seconds: RateLimits::retry_after(window),
            });
        }
    }
    let unix = portal_core::store::now().max(0) as u64;
    let code = code.trim();
    let right = match totp::accepted_step(secret, code, unix, member.totp_last_step) {
        Some(step) => {
            member.totp_last_step = step;
            true
        }
        None => !code.is_empty() && member.redeem_recovery_code(code),
    };
    if right {
        for (scope, _, window) in CODE_FAILURES {
            limits.forgive(scope, &who, window).await?;
        }
        return Ok(());
    }
    let audit = crate::staff::key::audit_writes(
        &format!("staff:{who}"),
        "staff.code_refused",
        None,
        format!("staff {who}"),
        serde_json::json!({ "email": who, "code_sent": !code.is_empty() }),
    )?;
    state
        .store
        .transact(audit)
        .await
        .map_err(portal_core::records::RecordError::from)?;
    steady(started).await;
    Err(ApiError::Unauthorized(DESK_LOGIN_FAILED.into()))
}

/// `POST /desk/logout`: the session ends on the server, the cookie is cleared.
pub(crate) async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(token) = crate::auth::cookie(&headers, COOKIE).filter(|t| well_formed(t)) {
        Members::new(state.store.clone()).end_session(token).await?;
    }
    let form = crate::view::is_form(&axum::http::Method::POST, &headers);
    let mut response = done_now(form, "/desk/login", StatusCode::NO_CONTENT, &());
    response
        .headers_mut()
        .append(header::SET_COOKIE, set_cookie("", 0));
    Ok(response)
}

/// `GET /desk/activate/{token}`: a new member chooses a password.
pub(crate) async fn activate_page(Path(token): Path<String>) -> Response {
    crate::auth::pages::password_page(&token, "/desk/activate", "Choose your staff password")
}

/// `POST /desk/activate`: the password is set, the link used up, in one transaction.
pub(crate) async fn activate(
    State(state): State<AppState>,
    ip: ClientIp,
    body: Input<SetPassword>,
) -> Result<Response, ApiError> {
    let per_ip = state.site().settings().limits.posts_per_ip;
    crate::guard::limit(&state, "link-ip", &ip.0, per_ip).await?;
    password::check_new("password", &body.value.password)?;
    let gone = || {
        ApiError::NotFound(
            "this link has been used or has expired; ask an admin for a new one".into(),
        )
    };
    let token = body.value.token.trim();
    if !well_formed(token) {
        return Err(gone());
    }
    let link = Sessions::new(state.store.clone())
        .peek(token, TokenKind::StaffActivation)
        .await?
        .ok_or_else(gone)?;
    let members = Members::new(state.store.clone());
    let found = members
        .get(&link.subject)
        .await?
        .filter(|m| !m.record.disabled && link.credentials == Some(m.record.credentials))
        .ok_or_else(gone)?;
    let mut member = found.record;
    member.password_hash = Some(password::hash(&body.value.password).await?);
    member.renew_credentials();
    use portal_core::records::Record;
    members
        .update(
            &member,
            found.version,
            vec![Write::Delete(link.key(), Cond::Exists)],
        )
        .await
        .map_err(|_| gone())?;
    Ok(done_now(
        body.from_form,
        "/desk/login#activated",
        StatusCode::OK,
        &DeskMe {
            email: member.email,
            role: member.role.name().into(),
        },
    ))
}
