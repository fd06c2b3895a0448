//! The audit log: every change made through the portal, by day, so the business's own CRM can
//! pick them up (a day's changes are one query).

use serde::{Deserialize, Serialize};

use super::Record;
use crate::store::Key;

/// One change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Day, `YYYY-MM-DD` (UTC).
    pub day: String,
    /// Identifier.
    pub id: String,
    /// Unix seconds.
    pub at: i64,
    /// Who: a login's e-mail, `staff:NAME` or `visitor`.
    pub actor: String,
    /// What changed, e.g. `contact.updated`, `quote.accepted`.
    pub action: String,
    /// The record changed, as `pk / sk`.
    pub subject: String,
    /// Old and new values of the fields that changed.
    #[serde(default)]
    pub changes: serde_json::Value,
}

impl AuditEntry {
    /// An entry made now: `actor` did `action` to `subject`, with `changes`.
    pub fn new(
        actor: impl Into<String>,
        action: impl Into<String>,
        subject: impl Into<String>,
        changes: serde_json::Value,
    ) -> AuditEntry {
        let at = crate::store::now();
        AuditEntry {
            day: chrono::DateTime::from_timestamp(at, 0)
                .map(|t| t.format("%Y-%m-%d").to_string())
                .unwrap_or_default(),
            id: super::new_id(),
            at,
            actor: actor.into(),
            action: action.into(),
            subject: subject.into(),
            changes,
        }
    }
}

impl Record for AuditEntry {
    fn key(&self) -> Key {
        Key::new(
            format!("AUDIT#{}", self.day),
            format!("{:012}#{}", self.at, self.id),
        )
    }
}
