//! The business's staff: members who log in to the desk (`/desk/`), their roles and second
//! factor, and their sessions. Staff logins are apart from customer logins — other
//! partitions, another cookie — so no customer session or link can ever open the desk.
//!
//! | Record | `pk` | `sk` |
//! |---|---|---|
//! | staff member (one per e-mail) | `STAFF` | `MEMBER#{email}` |
//! | staff session | `STAFFSESSION#{token hash}` | `SESSION` |
//!
//! Every member is in one partition, so the desk lists them in one query; a session holds
//! the member's [`Member::credentials`] of when it began, so a change of password, role or
//! second factor, or disabling the member, ends every session at once.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{conflict, email_key, from_item, random_token, to_item, token_hash, Record};
use super::{RecordResult, Versioned};
use crate::store::{now, Cond, Key, Query, Store, StoreError, Write};

/// What a staff member may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Works issues, cases and bugs (and reads the customers they come from).
    Agent,
    /// Also manages customers, their logins, billing, quotes, projects, documents, reports,
    /// events and newsletters.
    Manager,
    /// Also manages staff, API keys and webhooks.
    Admin,
}

/// The areas only admins manage, besides everything a manager may do.
pub const ADMIN_AREAS: &[&str] = &["staff", "keys", "webhooks"];

impl Role {
    /// Every role, least first.
    pub const ALL: [Role; 3] = [Role::Agent, Role::Manager, Role::Admin];

    /// The role's name (`agent`, `manager`, `admin`).
    pub fn name(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Manager => "manager",
            Role::Admin => "admin",
        }
    }

    /// The role named `name`.
    pub fn parse(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.name() == name.trim())
    }

    /// Whether the role may do `scope`, in the API keys' words (`issues:write`,
    /// `customers:read`), or `staff:write` for what only admins do.
    ///
    /// ```
    /// use portal_core::records::staff::Role;
    /// assert!(Role::Agent.allows("issues:write"));
    /// assert!(Role::Agent.allows("customers:read"));
    /// assert!(!Role::Agent.allows("billing:write"));
    /// assert!(Role::Manager.allows("billing:write"));
    /// assert!(!Role::Manager.allows("staff:write"));
    /// assert!(Role::Admin.allows("webhooks:write"));
    /// ```
    pub fn allows(self, scope: &str) -> bool {
        let (area, how) = scope.split_once(':').unwrap_or((scope, "write"));
        match self {
            Role::Agent => area == "issues" || (area == "customers" && how == "read"),
            Role::Manager => !ADMIN_AREAS.contains(&area),
            Role::Admin => true,
        }
    }
}

/// A member of staff.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Member {
    /// E-mail address (as given; the key uses it lower-cased).
    pub email: String,
    /// The name shown to colleagues (and on the audit log).
    pub name: String,
    /// What the member may do.
    pub role: Role,
    /// Argon2id PHC string; `None` until the member sets a password with the activation link.
    #[serde(default)]
    pub password_hash: Option<String>,
    /// The TOTP secret (RFC 6238, base32) once the member has set up an authenticator.
    #[serde(default)]
    pub totp_secret: Option<String>,
    /// The last TOTP time step accepted, so a code is good once.
    #[serde(default)]
    pub totp_last_step: u64,
    /// SHA-256 hashes of the unused recovery codes.
    #[serde(default)]
    pub recovery_codes: Vec<String>,
    /// Disabled members cannot log in; their sessions end.
    #[serde(default)]
    pub disabled: bool,
    /// Changed by every change of password, role, second factor or state: sessions and
    /// links from before it stop working.
    #[serde(default)]
    pub credentials: u32,
    /// Who added the member (`cli`, or a member's e-mail).
    #[serde(default)]
    pub added_by: String,
    /// Unix seconds.
    pub created: i64,
}

impl Member {
    /// A new member, not yet activated.
    pub fn new(email: &str, name: &str, role: Role, added_by: &str) -> Member {
        Member {
            email: email.trim().to_string(),
            name: name.trim().to_string(),
            role,
            password_hash: None,
            totp_secret: None,
            totp_last_step: 0,
            recovery_codes: Vec::new(),
            disabled: false,
            credentials: super::customers::Login::fresh_credentials(),
            added_by: added_by.to_string(),
            created: now(),
        }
    }

    /// The key of the member with address `email`.
    pub fn key_of(email: &str) -> Key {
        Key::new("STAFF", format!("MEMBER#{}", email_key(email)))
    }

    /// Voids sessions and links made before now.
    pub fn renew_credentials(&mut self) {
        self.credentials = self.credentials.wrapping_add(1);
    }

    /// Uses up `code` if it is one of the unused recovery codes.
    pub fn redeem_recovery_code(&mut self, code: &str) -> bool {
        let hash = token_hash(&normalise_code(code));
        let before = self.recovery_codes.len();
        self.recovery_codes.retain(|h| *h != hash);
        self.recovery_codes.len() < before
    }
}

impl Record for Member {
    fn key(&self) -> Key {
        Member::key_of(&self.email)
    }
}

/// A recovery code as it is compared: without spaces and dashes, lower-cased.
fn normalise_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase()
}

/// `count` new recovery codes (`xxxx-xxxx-xxxx-xxxx`, 64 random bits each) and their hashes.
pub fn recovery_codes(count: usize) -> (Vec<String>, Vec<String>) {
    let codes: Vec<String> = (0..count)
        .map(|_| {
            let t = random_token();
            format!("{}-{}-{}-{}", &t[0..4], &t[4..8], &t[8..12], &t[12..16])
        })
        .collect();
    let hashes = codes
        .iter()
        .map(|c| token_hash(&normalise_code(c)))
        .collect();
    (codes, hashes)
}

/// A staff member's logged-in session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StaffSession {
    /// SHA-256 of the session token.
    pub token_hash: String,
    /// The member's e-mail address (as keys use it).
    pub email: String,
    /// The member's credentials when the session began.
    pub credentials: u32,
    /// Unix seconds.
    pub created: i64,
    /// Unix seconds: the absolute limit.
    pub expires_at: i64,
    /// Unix seconds: the last request seen, for the idle limit.
    #[serde(default)]
    pub last_seen: i64,
    /// Whether the login proved a second factor (a code from the app, or a recovery code).
    #[serde(default)]
    pub second_factor: bool,
}

/// How a session starts: see [`Members::start_session`].
#[derive(Debug, Default)]
pub struct SessionStart {
    /// How long it lasts at most, in seconds.
    pub seconds: i64,
    /// Whether the login proved a second factor.
    pub second_factor: bool,
    /// Whether the member is saved with it (the step of the code used, a recovery code used
    /// up, a second factor set up); otherwise it is only checked unchanged.
    pub save_member: bool,
    /// More writes of the same transaction (audit entries, the end of an older session).
    pub extra: Vec<Write>,
}

impl Record for StaffSession {
    fn key(&self) -> Key {
        Key::new(format!("STAFFSESSION#{}", self.token_hash), "SESSION")
    }
    fn expires_at(&self) -> Option<i64> {
        Some(self.expires_at)
    }
}

/// Staff members and their sessions.
#[derive(Debug, Clone)]
pub struct Members {
    store: Arc<dyn Store>,
}

impl Members {
    /// The repository over `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Members { store }
    }

    /// Adds `member`, with `extra` writes (its activation mail, the audit entry) in one
    /// transaction; a second member with the same address is a conflict (1 request).
    pub async fn add(&self, member: &Member, extra: Vec<Write>) -> RecordResult<()> {
        let mut writes = vec![Write::Put(to_item(member)?, Cond::NotExists)];
        writes.extend(extra);
        self.store
            .transact(writes)
            .await
            .map_err(|e| conflict(e, format!("{} is already a member of staff", member.email)))
    }

    /// The member with address `email`, in any letter case (1 request).
    pub async fn get(&self, email: &str) -> RecordResult<Option<Versioned<Member>>> {
        match self.store.get(&Member::key_of(email)).await? {
            Some(item) => Ok(Some(from_item(&self.store.name(), item)?)),
            None => Ok(None),
        }
    }

    /// Every member, by address (1 query per 1,000 members).
    pub async fn list(&self) -> RecordResult<Vec<Versioned<Member>>> {
        let mut out = Vec::new();
        let mut cursor = None;
        loop {
            let page = self
                .store
                .query(
                    &Query::partition("STAFF")
                        .prefix("MEMBER#")
                        .limit(1000)
                        .after(cursor),
                )
                .await?;
            for item in page.items {
                out.push(from_item(&self.store.name(), item)?);
            }
            match page.next {
                Some(c) => cursor = Some(c),
                None => return Ok(out),
            }
        }
    }

    /// Saves `member` read at `version`, with `extra` writes, in one transaction; a change
    /// made meanwhile is a conflict (1 request).
    pub async fn update(
        &self,
        member: &Member,
        version: u64,
        extra: Vec<Write>,
    ) -> RecordResult<()> {
        let mut writes = vec![Write::Put(to_item(member)?, Cond::Version(version))];
        writes.extend(extra);
        self.store.transact(writes).await.map_err(|e| {
            conflict(
                e,
                format!(
                    "{} was changed meanwhile; reload and try again",
                    member.email
                ),
            )
        })
    }

    /// Starts a session for `member` as `start` says, only while the member is still at
    /// `version`; returns the token for the cookie (1 request).
    pub async fn start_session(
        &self,
        member: &Member,
        version: u64,
        start: SessionStart,
    ) -> RecordResult<(String, StaffSession)> {
        let token = random_token();
        let t = now();
        let session = StaffSession {
            token_hash: token_hash(&token),
            email: email_key(&member.email),
            credentials: member.credentials,
            created: t,
            expires_at: t + start.seconds,
            last_seen: t,
            second_factor: start.second_factor,
        };
        let member_write = if start.save_member {
            Write::Put(to_item(member)?, Cond::Version(version))
        } else {
            Write::Check(member.key(), Cond::Version(version))
        };
        let mut writes = vec![
            Write::Put(to_item(&session)?, Cond::NotExists),
            member_write,
        ];
        writes.extend(start.extra);
        self.store
            .transact(writes)
            .await
            .map_err(|e| conflict(e, "the member changed meanwhile; log in again"))?;
        Ok((token, session))
    }

    /// The session a cookie's token names, if it exists (1 request).
    pub async fn session(&self, token: &str) -> RecordResult<Option<StaffSession>> {
        let key = Key::new(format!("STAFFSESSION#{}", token_hash(token)), "SESSION");
        match self.store.get(&key).await? {
            Some(item) => Ok(Some(from_item(&self.store.name(), item)?.record)),
            None => Ok(None),
        }
    }

    /// Records that `session` was used now (1 request); an ended session stays ended.
    pub async fn touch(&self, session: &StaffSession) -> RecordResult<()> {
        let mut seen = session.clone();
        seen.last_seen = now();
        match self.store.put(to_item(&seen)?, Cond::Exists).await {
            Ok(_) | Err(StoreError::ConditionFailed { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Ends the session a cookie's token names (1 request).
    pub async fn end_session(&self, token: &str) -> RecordResult<()> {
        let key = Key::new(format!("STAFFSESSION#{}", token_hash(token)), "SESSION");
        self.store.delete(&key, Cond::None).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_codes_are_good_once_and_forgive_their_spelling() {
        let (codes, hashes) = recovery_codes(10);
        assert_eq!(codes.len(), 10);
        let mut m = Member::new("a@example.com", "A", Role::Admin, "cli");
        m.recovery_codes = hashes;
        let spelt = codes[3].to_uppercase().replace('-', " ");
        assert!(m.redeem_recovery_code(&spelt));
        assert!(!m.redeem_recovery_code(&codes[3]));
        assert_eq!(m.recovery_codes.len(), 9);
        assert!(!m.redeem_recovery_code("not-a-code"));
    }

    #[test]
    fn roles_grow_from_agent_to_admin() {
        for scope in ["issues:read", "issues:write", "customers:read"] {
            assert!(Role::ALL.iter().all(|r| r.allows(scope)), "{scope}");
        }
        assert!(!Role::Agent.allows("customers:write"));
        assert!(!Role::Agent.allows("registrations:read"));
        assert!(Role::Manager.allows("registrations:read"));
        assert!(!Role::Manager.allows("keys:write"));
        assert_eq!(Role::parse("manager"), Some(Role::Manager));
        assert_eq!(Role::parse("owner"), None);
    }
}
