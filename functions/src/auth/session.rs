//! The session every secured route checks: the cookie, and the [`SignedIn`] extractor.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue};
use portal_core::records::sessions::{Session, Sessions};
use portal_core::records::token_hash;
use portal_core::store::now;

use crate::error::ApiError;
use crate::state::AppState;

use super::consts::*;

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

pub(super) fn set_cookie(name: &str, value: &str, max_age: i64) -> HeaderValue {
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

/// A part of the account that staff can hide from a login ([`portal_core::records::customers::Visibility`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// Invoices, payments, the balance and quotes.
    Billing,
    /// Projects.
    Projects,
}

impl SignedIn {
    /// Refuses (403) a part of the account this login may not see.
    pub fn may_see(&self, part: Part) -> Result<(), ApiError> {
        let sees = &self.session.sees;
        let (ok, what) = match part {
            Part::Billing => (sees.billing, "invoices, payments and quotes"),
            Part::Projects => (sees.projects, "projects"),
        };
        if ok {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "this login may not see the account's {what}; ask the business to change that"
            )))
        }
    }

    /// Whether this login sees an issue of its account filed by `filer`: every one, or only
    /// its own.
    pub fn sees_issue_of(&self, filer: &str) -> bool {
        self.session.sees.all_issues || filer.trim().eq_ignore_ascii_case(self.session.email.trim())
    }
}
