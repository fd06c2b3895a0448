//! Who is calling the staff API: an API key sent as `Authorization: Bearer cpk_…`, looked
//! up by its hash on every request (so a revoked key is refused on the next request, on
//! every Lambda instance), counted against its own rate limit (`api_requests_per_minute`
//! under `[limits]`, 6,000 by default), and checked for the scope
//! each operation needs.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use portal_core::records::apikeys::{ApiKey, ApiKeys};
use portal_core::records::audit::AuditEntry;
use portal_core::records::feed::Event;
use portal_core::records::guards::{Limit, RateLimits};
use portal_core::records::to_item;
use portal_core::store::{Cond, Write};

use crate::error::ApiError;
use crate::state::AppState;

/// A caller of the staff API, with the key it proved.
#[derive(Debug, Clone)]
pub struct Staff {
    /// The key.
    pub key: ApiKey,
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let secret = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                // The scheme's name is case-insensitive (RFC 9110).
                let (scheme, token) = v.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then_some(token)
            })
            .map(str::trim)
            .ok_or_else(|| {
                ApiError::Unauthorized(
                    "send an API key as `Authorization: Bearer cpk_…` (`portal admin keys create`)"
                        .into(),
                )
            })?;
        let keys = ApiKeys::new(state.store.clone());
        let found = keys
            .find(secret)
            .await?
            .ok_or_else(|| ApiError::Unauthorized("this API key is not known".into()))?;
        if found.record.revoked.is_some() {
            return Err(ApiError::Unauthorized("this API key was revoked".into()));
        }
        let per_minute = state.site().settings().limits.api_requests_per_minute;
        let ok = RateLimits::new(state.store.clone())
            .hit(
                "apikey",
                &found.record.hash,
                Limit {
                    max: per_minute,
                    window: 60,
                },
            )
            .await?;
        if !ok {
            return Err(ApiError::Wait {
                message: format!("this key sent more than {per_minute} requests in a minute"),
                seconds: RateLimits::retry_after(60),
            });
        }
        keys.touch(&found).await;
        Ok(Staff { key: found.record })
    }
}

impl Staff {
    /// Refuses (403) unless the key has `scope` (`issues:write`).
    pub fn may(&self, scope: &str) -> Result<(), ApiError> {
        if self.key.allows(scope) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "the key {} may not do this: it needs the scope {scope} (it has {})",
                self.key.name,
                self.key.scopes.join(", ")
            )))
        }
    }

    /// Who did it, as the audit log and an issue's history name a key.
    pub fn actor(&self) -> String {
        format!("key:{}", self.key.name)
    }

    /// The audit entry and the change-feed event of a change this caller makes, about the
    /// customer `customer` if any, to write with the change.
    pub fn audit(
        &self,
        action: &str,
        customer: Option<&str>,
        subject: String,
        changes: serde_json::Value,
    ) -> Result<Vec<Write>, ApiError> {
        let event = Event::new(
            action,
            self.actor(),
            customer.map(str::to_string),
            subject.clone(),
            changes.clone(),
        );
        let entry = AuditEntry::new(self.actor(), action, subject, changes);
        Ok(vec![
            Write::Put(to_item(&entry)?, Cond::NotExists),
            event.write()?,
        ])
    }
}
