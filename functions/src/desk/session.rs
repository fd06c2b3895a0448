//! The desk's session: a `__Host-desk` cookie apart from the customers' (a customer's
//! session never opens the desk, nor a member's the customer area), the [`DeskUser`]
//! extractor every desk screen takes, and the form token every desk form carries.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use portal_core::records::staff::{Member, Members, Role, StaffSession};
use portal_core::records::token_hash;
use portal_core::store::now;

use crate::auth::cookie;
use crate::error::ApiError;
use crate::staff::Staff;
use crate::state::AppState;

/// The desk's session cookie.
pub const COOKIE: &str = "__Host-desk";
/// A desk session ends after this long without a request.
pub const IDLE_SECONDS: i64 = 30 * 60;
/// A desk session ends this long after login, whatever happens.
pub const ABSOLUTE_SECONDS: i64 = 12 * 3600;
/// The screen where a member sets up a second factor.
pub const SECURITY: &str = "/desk/security";

/// The `Set-Cookie` value of the desk's cookie (empty with `max_age` 0 clears it).
pub(super) fn set_cookie(value: &str, max_age: i64) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{COOKIE}={value}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age={max_age}"
    ))
    .expect("cookie values are ASCII")
}

/// Whether `token` looks like one of ours (32 hex digits).
pub(super) fn well_formed(token: &str) -> bool {
    token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Whether `member` must prove a second factor to use the desk.
pub(crate) fn needs_second_factor(state: &AppState, member: &Member) -> bool {
    member.role == Role::Admin || state.site().settings().limits.all_staff_need_second_factor
}

/// A request from a logged-in member of staff.
#[derive(Debug, Clone)]
pub struct DeskUser {
    /// The member, as it is now.
    pub member: Member,
    /// The member's version, for changes to it.
    pub version: u64,
    /// The session.
    pub session: StaffSession,
}

impl DeskUser {
    /// The caller of staff operations this member is.
    pub fn staff(&self) -> Staff {
        Staff::member(&self.member.email, self.member.role)
    }
}

/// Why a desk request was refused before its handler ran.
#[derive(Debug)]
pub enum Refusal {
    /// Not logged in, not allowed, or the store failed.
    Error(ApiError),
    /// Logged in, but a second factor must be set up first.
    Enrol,
}

impl From<ApiError> for Refusal {
    fn from(e: ApiError) -> Self {
        Refusal::Error(e)
    }
}

impl From<portal_core::records::RecordError> for Refusal {
    fn from(e: portal_core::records::RecordError) -> Self {
        Refusal::Error(e.into())
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::Error(e) => e.into_response(),
            Refusal::Enrol => crate::view::done_now(true, SECURITY, StatusCode::SEE_OTHER, &()),
        }
    }
}

impl FromRequestParts<AppState> for DeskUser {
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Refusal> {
        let out = || ApiError::Unauthorized("log in to the desk first".into());
        let token = cookie(&parts.headers, COOKIE)
            .filter(|t| well_formed(t))
            .ok_or_else(out)?
            .to_string();
        let members = Members::new(state.store.clone());
        let session = members.session(&token).await?.ok_or_else(out)?;
        let t = now();
        let last = session.last_seen.max(session.created);
        if t >= session.expires_at || t - last > IDLE_SECONDS {
            members.end_session(&token).await?;
            return Err(
                ApiError::Unauthorized("your desk session has ended; log in again".into()).into(),
            );
        }
        let found = members.get(&session.email).await?.ok_or_else(out)?;
        if found.record.disabled || found.record.credentials != session.credentials {
            members.end_session(&token).await?;
            return Err(ApiError::Unauthorized(
                "your login changed or was disabled; log in again".into(),
            )
            .into());
        }
        // A member who needs a second factor works only in a session that proved one; until
        // they have set one up, only the security screen (and logging out) is open.
        if needs_second_factor(state, &found.record) && !session.second_factor {
            if found.record.totp_secret.is_some() {
                members.end_session(&token).await?;
                return Err(ApiError::Unauthorized(
                    "log in again with a code from your authenticator app".into(),
                )
                .into());
            }
            let path = parts.uri.path();
            if !path.starts_with(SECURITY) && path != "/desk/logout" {
                return Err(Refusal::Enrol);
            }
        }
        if t - last > 60 {
            members.touch(&session).await?;
        }
        Ok(DeskUser {
            member: found.record,
            version: found.version,
            session,
        })
    }
}

/// The form token of a desk session: a signature of its hash, which only the portal can make
/// and only the desk's pages of that session carry.
pub async fn form_token(state: &AppState, session: &StaffSession) -> Result<String, ApiError> {
    crate::guard::sign_text(state, &format!("desk-csrf\n{}", session.token_hash)).await
}

/// Desk posts that need no session, so their forms carry no session form token.
const WITHOUT_SESSION: &[&str] = &["/desk/login", "/desk/activate"];

/// Middleware: a post to the desk with the desk's cookie must carry that session's form token
/// in the `csrf` field (the desk's pages put it in every form); with no cookie there is no
/// session to abuse, and the handler refuses the request as not logged in.
pub async fn csrf(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if req.method() != Method::POST || WITHOUT_SESSION.contains(&req.uri().path()) {
        return next.run(req).await;
    }
    let Some(token) = cookie(req.headers(), COOKIE)
        .filter(|t| well_formed(t))
        .map(str::to_string)
    else {
        return next.run(req).await;
    };
    // A post needs a live session (logging out clears an ended one all the same), and is
    // counted against the session's hourly posts, before its body is read.
    let live = Members::new(state.store.clone()).session(&token).await;
    match live {
        Ok(Some(_)) => {}
        Ok(None) if req.uri().path() == "/desk/logout" => return next.run(req).await,
        Ok(None) => {
            return ApiError::Unauthorized("log in to the desk first".into()).into_response()
        }
        Err(e) => return ApiError::from(e).into_response(),
    }
    let posts = crate::auth::POSTS_PER_SESSION;
    if let Err(e) =
        crate::guard::limit(&state, "desk-session-post", &token_hash(&token), posts).await
    {
        return e.into_response();
    }
    let signed = format!("desk-csrf\n{}", token_hash(&token));
    crate::auth::csrf::require_form_token(
        &state,
        req,
        next,
        &signed,
        "this form has expired or did not come from the desk; reload the page and send it again",
    )
    .await
}
