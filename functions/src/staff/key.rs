//! Who is calling a staff operation: through the API, an API key sent as
//! `Authorization: Bearer cpk_…`, looked up by its hash on every request (so a revoked key
//! is refused on the next request, on every Lambda instance), counted against its own rate
//! limit (`api_requests_per_minute` under `[limits]`, 6,000 by default); through the desk, a
//! member of staff with a role (`crate::desk`). Either way the operation checks the scope it
//! needs with [`Staff::may`] and names the caller in its audit entries: one code path, two
//! doors.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use portal_core::records::apikeys::{ApiKey, ApiKeys};
use portal_core::records::audit::AuditEntry;
use portal_core::records::feed::Event;
use portal_core::records::guards::{Limit, RateLimits};
use portal_core::records::staff::Role;
use portal_core::records::to_item;
use portal_core::store::{Cond, Write};

use crate::error::ApiError;
use crate::state::AppState;

/// A caller of a staff operation, with what it proved.
#[derive(Debug, Clone)]
pub struct Staff {
    /// The key or the member.
    pub caller: Caller,
}

/// Who calls a staff operation.
#[derive(Debug, Clone)]
pub enum Caller {
    /// A program, with an API key.
    Key(ApiKey),
    /// A member of staff on the desk.
    Member {
        /// The member's e-mail address.
        email: String,
        /// What the member may do.
        role: Role,
    },
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
        Ok(Staff {
            caller: Caller::Key(found.record),
        })
    }
}

impl Staff {
    /// A member of staff on the desk.
    pub fn member(email: &str, role: Role) -> Staff {
        Staff {
            caller: Caller::Member {
                email: email.to_string(),
                role,
            },
        }
    }

    /// Refuses (403) unless the caller may do `scope` (`issues:write`): a key by its
    /// scopes, a member by its role.
    pub fn may(&self, scope: &str) -> Result<(), ApiError> {
        match &self.caller {
            Caller::Key(key) if key.allows(scope) => Ok(()),
            Caller::Key(key) => Err(ApiError::Forbidden(format!(
                "the key {} may not do this: it needs the scope {scope} (it has {})",
                key.name,
                key.scopes.join(", ")
            ))),
            Caller::Member { role, .. } if role.allows(scope) => Ok(()),
            Caller::Member { role, .. } => Err(ApiError::Forbidden(format!(
                "your role ({}) may not do this; ask an admin",
                role.name()
            ))),
        }
    }

    /// Who did it, as the audit log and an issue's history name the caller
    /// (`key:crm-sync`, `staff:ann@example.com`).
    pub fn actor(&self) -> String {
        match &self.caller {
            Caller::Key(key) => format!("key:{}", key.name),
            Caller::Member { email, .. } => format!("staff:{email}"),
        }
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
        audit_writes(&self.actor(), action, customer, subject, changes)
    }
}

/// The audit entry and the change-feed event of a change `actor` makes (`key:…`, `staff:…`,
/// `cli`), about the customer `customer` if any, to write with the change.
pub fn audit_writes(
    actor: &str,
    action: &str,
    customer: Option<&str>,
    subject: String,
    changes: serde_json::Value,
) -> Result<Vec<Write>, ApiError> {
    let event = Event::new(
        action,
        actor,
        customer.map(str::to_string),
        subject.clone(),
        changes.clone(),
    );
    let entry = AuditEntry::new(actor, action, subject, changes);
    Ok(vec![
        Write::Put(to_item(&entry)?, Cond::NotExists),
        event.write()?,
    ])
}
