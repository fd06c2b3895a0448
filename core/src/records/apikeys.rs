//! Keys of the staff and integration API. A key's secret is shown once, when it is made;
//! the store keeps only its SHA-256 (a secret of 256 random bits needs no slow hash), so a
//! copy of the table gives nobody a working key. Secrets start with [`PREFIX`], so secret
//! scanners can recognise a leaked one.
//!
//! | Record | `pk` | `sk` |
//! |---|---|---|
//! | key (by the hash of its secret) | `APIKEY#{hash}` | `APIKEY` |
//! | key name → hash, for listing and revoking | `APIKEYS` | `NAME#{name}` |

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{conflict, from_item, random_token, to_item, token_hash, Record, RecordError};
use super::{RecordResult, Versioned};
use crate::store::{now, Cond, Key, Query, Store, StoreError, Write};

/// How every secret starts ("customer portal key").
pub const PREFIX: &str = "cpk_";

/// The areas a key may be given, each to read or to write (`issues:read`, `issues:write`).
pub const AREAS: &[&str] = &[
    "customers",
    "billing",
    "quotes",
    "projects",
    "documents",
    "reports",
    "issues",
    "registrations",
    "changes",
];

/// A key of the staff API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiKey {
    /// SHA-256 of the secret, hex.
    pub hash: String,
    /// The name staff gave it (unique), e.g. `crm-sync`; writes are audited under it.
    pub name: String,
    /// What it may do: `area:read` or `area:write` (see [`AREAS`]).
    pub scopes: Vec<String>,
    /// Unix seconds.
    pub created: i64,
    /// When it was last used (kept to the minute), Unix seconds.
    #[serde(default)]
    pub last_used: Option<i64>,
    /// When it was revoked; a revoked key is refused.
    #[serde(default)]
    pub revoked: Option<i64>,
}

impl ApiKey {
    /// Whether the key may do `scope` (`issues:read`); a key that may write an area may read
    /// it too.
    pub fn allows(&self, scope: &str) -> bool {
        let (area, _) = scope.split_once(':').unwrap_or((scope, ""));
        self.scopes
            .iter()
            .any(|s| s == scope || *s == format!("{area}:write"))
    }
}

impl Record for ApiKey {
    fn key(&self) -> Key {
        Key::new(format!("APIKEY#{}", self.hash), "APIKEY")
    }
}

/// The name of a key, pointing at its hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct KeyName {
    name: String,
    hash: String,
}

impl Record for KeyName {
    fn key(&self) -> Key {
        Key::new("APIKEYS", format!("NAME#{}", self.name))
    }
}

/// Checks a list of scopes, naming the first one that is not `area:read` or `area:write`.
pub fn check_scopes(scopes: &[String]) -> Result<(), String> {
    if scopes.is_empty() {
        return Err("give the key at least one scope, e.g. issues:read".into());
    }
    for s in scopes {
        let ok = s
            .split_once(':')
            .is_some_and(|(area, how)| AREAS.contains(&area) && (how == "read" || how == "write"));
        if !ok {
            return Err(format!(
                "`{s}` is not a scope; scopes are AREA:read or AREA:write, with AREA one of {}",
                AREAS.join(", ")
            ));
        }
    }
    Ok(())
}

/// The keys of the staff API.
#[derive(Debug, Clone)]
pub struct ApiKeys {
    store: Arc<dyn Store>,
}

impl ApiKeys {
    /// The repository over `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        ApiKeys { store }
    }

    /// Makes a key called `name` with `scopes`; returns it and its secret, which is not
    /// stored and cannot be shown again (1 request).
    pub async fn create(&self, name: &str, scopes: Vec<String>) -> RecordResult<(ApiKey, String)> {
        let ok_name = !name.is_empty()
            && name.len() <= 64
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
        if !ok_name {
            return Err(RecordError::Conflict(format!(
                "`{name}` is not a key name: use 1 to 64 letters, digits, `-`, `_` or `.`"
            )));
        }
        check_scopes(&scopes).map_err(RecordError::Conflict)?;
        let secret = format!("{PREFIX}{}{}", random_token(), random_token());
        let key = ApiKey {
            hash: token_hash(&secret),
            name: name.to_string(),
            scopes,
            created: now(),
            last_used: None,
            revoked: None,
        };
        let entry = KeyName {
            name: key.name.clone(),
            hash: key.hash.clone(),
        };
        self.store
            .transact(vec![
                Write::Put(to_item(&entry)?, Cond::NotExists),
                Write::Put(to_item(&key)?, Cond::NotExists),
            ])
            .await
            .map_err(|e| conflict(e, format!("a key called {name} exists already")))?;
        Ok((key, secret))
    }

    /// The key whose secret is `secret`, revoked or not (1 request; none for a string that
    /// is not a key's secret at all).
    pub async fn find(&self, secret: &str) -> RecordResult<Option<Versioned<ApiKey>>> {
        if !secret.starts_with(PREFIX) || secret.len() != PREFIX.len() + 64 {
            return Ok(None);
        }
        let key = Key::new(format!("APIKEY#{}", token_hash(secret)), "APIKEY");
        match self.store.get(&key).await? {
            Some(item) => Ok(Some(from_item(&self.store.name(), item)?)),
            None => Ok(None),
        }
    }

    /// Notes that `key` was used now, at most once a minute (a lost race only keeps the
    /// other request's time).
    pub async fn touch(&self, key: &Versioned<ApiKey>) {
        let at = now();
        if key.record.last_used.is_some_and(|t| at - t < 60) {
            return;
        }
        let mut used = key.record.clone();
        used.last_used = Some(at);
        if let Ok(item) = to_item(&used) {
            match self.store.put(item, Cond::Version(key.version)).await {
                Ok(_) | Err(StoreError::ConditionFailed { .. }) => {}
                Err(e) => tracing::warn!("key {}: last use not noted: {e}", used.name),
            }
        }
    }

    /// Every key, by name (1 request, and 1 per key).
    pub async fn list(&self) -> RecordResult<Vec<ApiKey>> {
        let page = self
            .store
            .query(&Query::partition("APIKEYS").prefix("NAME#").limit(1000))
            .await?;
        let name = self.store.name();
        let mut out = Vec::new();
        for item in page.items {
            let entry: KeyName = from_item::<KeyName>(&name, item)?.record;
            let key = Key::new(format!("APIKEY#{}", entry.hash), "APIKEY");
            if let Some(item) = self.store.get(&key).await? {
                out.push(from_item::<ApiKey>(&name, item)?.record);
            }
        }
        Ok(out)
    }

    /// Revokes the key called `name`: refused from the next request on (2–3 requests).
    pub async fn revoke(&self, name: &str) -> RecordResult<ApiKey> {
        let entry = self
            .store
            .get(&Key::new("APIKEYS", format!("NAME#{name}")))
            .await?
            .ok_or_else(|| RecordError::NotFound(format!("key {name}")))?;
        let entry: KeyName = from_item::<KeyName>(&self.store.name(), entry)?.record;
        let key = Key::new(format!("APIKEY#{}", entry.hash), "APIKEY");
        for _ in 0..3 {
            let item = self
                .store
                .get(&key)
                .await?
                .ok_or_else(|| RecordError::NotFound(format!("key {name}")))?;
            let found: Versioned<ApiKey> = from_item(&self.store.name(), item)?;
            if found.record.revoked.is_some() {
                return Ok(found.record);
            }
            let mut revoked = found.record.clone();
            revoked.revoked = Some(now());
            match self
                .store
                .put(to_item(&revoked)?, Cond::Version(found.version))
                .await
            {
                Ok(_) => return Ok(revoked),
                Err(StoreError::ConditionFailed { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(RecordError::Busy(format!(
            "key {name} is in use right now; revoke it again"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_area_and_read_or_write() {
        assert!(check_scopes(&["issues:read".into(), "billing:write".into()]).is_ok());
        let e = check_scopes(&["issues:delete".into()]).unwrap_err();
        assert!(e.contains("`issues:delete` is not a scope"), "{e}");
        assert!(check_scopes(&[]).is_err());
        let key = ApiKey {
            hash: String::new(),
            name: "crm".into(),
            scopes: vec!["billing:write".into(), "issues:read".into()],
            created: 0,
            last_used: None,
            revoked: None,
        };
        assert!(key.allows("billing:read") && key.allows("issues:read"));
        assert!(!key.allows("issues:write") && !key.allows("customers:read"));
    }
}
