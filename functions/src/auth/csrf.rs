//! The guards of every secured group: requests from other sites refused, posts per session
//! counted, and the session's form token checked on every form post.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use portal_core::records::sessions::Sessions;
use portal_core::records::token_hash;

use crate::error::ApiError;
use crate::state::AppState;

use super::{consts::*, login::*, session::*};

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
pub(super) const WITHOUT_SESSION: &[&str] = &[
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
    let signed = format!("csrf\n{}", token_hash(&token));
    require_form_token(
        &state,
        req,
        next,
        &signed,
        "this form has expired or did not come from the portal; reload the page and send it again",
    )
    .await
}

/// Passes `req` on only if its form carries, in the `csrf` field, the portal's signature of
/// `signed`; refuses it (403, `refused`) otherwise. The body is read once and handed on.
pub(crate) async fn require_form_token(
    state: &AppState,
    req: Request,
    next: Next,
    signed: &str,
    refused: &str,
) -> Response {
    let kind = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let multipart = kind.to_ascii_lowercase().starts_with("multipart/form-data");
    let (parts, body) = req.into_parts();
    let max = if multipart {
        crate::fields::MAX_MULTIPART
    } else {
        crate::fields::MAX_BODY
    };
    let Ok(bytes) = axum::body::to_bytes(body, max).await else {
        return ApiError::TooLarge("the form is too large".into()).into_response();
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
    let expected = crate::guard::sign_text(state, signed).await;
    match (sent, expected) {
        (Some(s), Ok(e)) if crate::guard::same_secret(s, &e) => {
            next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
                .await
        }
        (_, Err(e)) => e.into_response(),
        _ => ApiError::Forbidden(refused.into()).into_response(),
    }
}
