//! Login sessions and one-time tokens (activation, password reset, newsletter confirmation).
//! Only hashes of the tokens are stored; both expire through the store's TTL.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::customers::Visibility;
use super::{email_key, from_item, random_token, to_item, token_hash, Record, RecordResult};
use crate::store::{now, Cond, Key, Query, Store, StoreError, Write};

/// A logged-in session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// SHA-256 of the session token.
    pub token_hash: String,
    /// The login's e-mail address.
    pub email: String,
    /// The customer.
    pub customer_id: String,
    /// Unix seconds.
    pub created: i64,
    /// Unix seconds: the absolute limit.
    pub expires_at: i64,
    /// Unix seconds: the last request seen, for the idle limit (refreshed at most once a
    /// minute, so reads stay reads).
    #[serde(default)]
    pub last_seen: i64,
    /// What the login may see of the account, as it was when the session started (a change
    /// ends the login's sessions).
    #[serde(default)]
    pub sees: Visibility,
}

impl Record for Session {
    fn key(&self) -> Key {
        Key::new(format!("SESSION#{}", self.token_hash), "SESSION")
    }
    fn expires_at(&self) -> Option<i64> {
        Some(self.expires_at)
    }
}

/// Points from a login to one of its sessions, so all can be ended at once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct SessionRef {
    email: String,
    token_hash: String,
    expires_at: i64,
}

impl Record for SessionRef {
    fn key(&self) -> Key {
        Key::new(
            format!("LOGIN#{}", email_key(&self.email)),
            format!("SESSION#{}", self.token_hash),
        )
    }
    fn expires_at(&self) -> Option<i64> {
        Some(self.expires_at)
    }
}

/// A browser that has logged in to a login: a random id in its device cookie, stored only as
/// a hash, valid while the login's credentials are unchanged (`DEVICE#{hash}` / `DEVICE`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Device {
    /// SHA-256 of the cookie's id.
    pub token_hash: String,
    /// The login's e-mail address (as keys use it).
    pub email: String,
    /// The login's credentials when the device logged in.
    pub credentials: u32,
    /// Unix seconds.
    pub expires_at: i64,
}

impl Record for Device {
    fn key(&self) -> Key {
        Key::new(format!("DEVICE#{}", self.token_hash), "DEVICE")
    }
    fn expires_at(&self) -> Option<i64> {
        Some(self.expires_at)
    }
}

/// What a one-time token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    /// Set the first password of a login.
    Activation,
    /// Choose a new password.
    PasswordReset,
    /// Confirm a newsletter subscription.
    NewsletterConfirmation,
    /// Confirm a changed e-mail address.
    EmailChange,
    /// Set the first password of a staff member (`records::staff`).
    StaffActivation,
}

/// A single-use, expiring token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OneTimeToken {
    /// SHA-256 of the token.
    pub token_hash: String,
    /// What it is for.
    pub kind: TokenKind,
    /// What it acts on: a login's e-mail, a subscription …
    pub subject: String,
    /// Unix seconds.
    pub expires_at: i64,
    /// For a login's link: the login's [`credentials`](super::customers::Login::credentials)
    /// when the link was made; the link works only while they are unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<u32>,
}

impl Record for OneTimeToken {
    fn key(&self) -> Key {
        Key::new(format!("TOKEN#{}", self.token_hash), "TOKEN")
    }
    fn expires_at(&self) -> Option<i64> {
        Some(self.expires_at)
    }
}

/// Sessions and one-time tokens.
#[derive(Debug, Clone)]
pub struct Sessions {
    store: Arc<dyn Store>,
}

impl Sessions {
    /// The repository over `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Sessions { store }
    }

    /// Starts a session for `email` lasting `seconds`; returns the token to put in the cookie
    /// (1 request).
    pub async fn start(
        &self,
        email: &str,
        customer_id: &str,
        seconds: i64,
    ) -> RecordResult<(String, Session)> {
        self.start_checked(
            email,
            customer_id,
            seconds,
            None,
            Visibility::default(),
            Vec::new(),
        )
        .await
    }

    /// As [`Sessions::start`], only while the login is still at `login_version` (the version
    /// its password was checked against): a session cannot be born after a change of
    /// password, address or visibility that ended every other one; it carries `sees`, what
    /// the login may see; `extra` writes go in the same transaction (1 request).
    pub async fn start_checked(
        &self,
        email: &str,
        customer_id: &str,
        seconds: i64,
        login_version: Option<u64>,
        sees: Visibility,
        extra: Vec<Write>,
    ) -> RecordResult<(String, Session)> {
        let token = random_token();
        let now = now();
        let session = Session {
            token_hash: token_hash(&token),
            email: email_key(email),
            customer_id: customer_id.to_string(),
            created: now,
            expires_at: now + seconds,
            last_seen: now,
            sees,
        };
        let reference = SessionRef {
            email: session.email.clone(),
            token_hash: session.token_hash.clone(),
            expires_at: session.expires_at,
        };
        let mut writes = vec![
            Write::Put(to_item(&session)?, Cond::NotExists),
            Write::Put(to_item(&reference)?, Cond::NotExists),
        ];
        if let Some(v) = login_version {
            writes.push(Write::Check(
                Key::new(format!("LOGIN#{}", session.email), "LOGIN"),
                Cond::Version(v),
            ));
        }
        writes.extend(extra);
        self.store
            .transact(writes)
            .await
            .map_err(|e| super::conflict(e, "the login changed meanwhile; log in again"))?;
        Ok((token, session))
    }

    /// The live session for a cookie's token (1 request).
    pub async fn get(&self, token: &str) -> RecordResult<Option<Session>> {
        match self
            .store
            .get(&Key::new(
                format!("SESSION#{}", token_hash(token)),
                "SESSION",
            ))
            .await?
        {
            Some(item) => Ok(Some(from_item(&self.store.name(), item)?.record)),
            None => Ok(None),
        }
    }

    /// Records that `session` was used now (1 request); a session ended meanwhile stays ended.
    pub async fn touch(&self, session: &Session) -> RecordResult<()> {
        let mut seen = session.clone();
        seen.last_seen = now();
        match self.store.put(to_item(&seen)?, Cond::Exists).await {
            Ok(_) | Err(StoreError::ConditionFailed { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Ends one session (1 request).
    pub async fn end(&self, token: &str) -> RecordResult<()> {
        let hash = token_hash(token);
        let Some(session) = self.get(token).await? else {
            return Ok(());
        };
        self.store
            .transact(vec![
                Write::Delete(Key::new(format!("SESSION#{hash}"), "SESSION"), Cond::None),
                Write::Delete(
                    Key::new(
                        format!("LOGIN#{}", session.email),
                        format!("SESSION#{hash}"),
                    ),
                    Cond::None,
                ),
            ])
            .await?;
        Ok(())
    }

    /// Remembers a browser that logged in to `email` with `credentials` for `seconds`;
    /// returns the id for its cookie (1 request).
    pub async fn remember_device(
        &self,
        email: &str,
        credentials: u32,
        seconds: i64,
    ) -> RecordResult<String> {
        let (token, write) = Self::device_write(email, credentials, seconds)?;
        self.store.transact(vec![write]).await?;
        Ok(token)
    }

    /// A new remembered device as a write for a transaction (the login's, say), with the
    /// id for its cookie.
    pub fn device_write(
        email: &str,
        credentials: u32,
        seconds: i64,
    ) -> RecordResult<(String, Write)> {
        let token = random_token();
        let device = Device {
            token_hash: token_hash(&token),
            email: email_key(email),
            credentials,
            expires_at: now() + seconds,
        };
        Ok((token, Write::Put(to_item(&device)?, Cond::NotExists)))
    }

    /// The remembered device a cookie's id names, if any (1 request).
    pub async fn device(&self, token: &str) -> RecordResult<Option<Device>> {
        let key = Key::new(format!("DEVICE#{}", token_hash(token)), "DEVICE");
        Ok(match self.store.get(&key).await? {
            Some(item) => Some(from_item(&self.store.name(), item)?.record),
            None => None,
        })
    }

    /// Ends every session of a login: 1 query per 1,000 sessions plus 1 request per 12
    /// sessions. Returns how many were ended.
    pub async fn end_all(&self, email: &str) -> RecordResult<usize> {
        let email = email_key(email);
        let mut ended = 0;
        let mut cursor = None;
        loop {
            let page = self
                .store
                .query(
                    &Query::partition(format!("LOGIN#{email}"))
                        .prefix("SESSION#")
                        .limit(1000)
                        .after(cursor),
                )
                .await?;
            for chunk in page.items.chunks(12) {
                let mut writes = Vec::new();
                for item in chunk {
                    let hash = item.sk.trim_start_matches("SESSION#");
                    writes.push(Write::Delete(
                        Key::new(format!("SESSION#{hash}"), "SESSION"),
                        Cond::None,
                    ));
                    writes.push(Write::Delete(item.key(), Cond::None));
                }
                self.store.transact(writes).await?;
                ended += chunk.len();
            }
            match page.next {
                Some(c) => cursor = Some(c),
                None => return Ok(ended),
            }
        }
    }

    /// Issues a one-time token for `subject` valid `seconds`; returns the token to send
    /// (1 request).
    pub async fn issue_token(
        &self,
        kind: TokenKind,
        subject: &str,
        seconds: i64,
    ) -> RecordResult<String> {
        let token = random_token();
        let record = OneTimeToken {
            token_hash: token_hash(&token),
            kind,
            subject: subject.to_string(),
            expires_at: now() + seconds,
            credentials: None,
        };
        self.store.put(to_item(&record)?, Cond::NotExists).await?;
        Ok(token)
    }

    /// The one-time token of `kind`, without using it up (1 request): a cheap look before
    /// expensive work (hashing a new password) that only a real link deserves.
    pub async fn peek(&self, token: &str, kind: TokenKind) -> RecordResult<Option<OneTimeToken>> {
        let key = Key::new(format!("TOKEN#{}", token_hash(token)), "TOKEN");
        Ok(match self.store.get(&key).await? {
            Some(item) => Some(from_item::<OneTimeToken>(&self.store.name(), item)?.record)
                .filter(|t| t.kind == kind),
            None => None,
        })
    }

    /// Uses a one-time token of `kind`: the first call returns its record and removes it; a
    /// second call, an expired token, or a token of another kind returns `None` (2 requests).
    pub async fn redeem(&self, token: &str, kind: TokenKind) -> RecordResult<Option<OneTimeToken>> {
        let key = Key::new(format!("TOKEN#{}", token_hash(token)), "TOKEN");
        let Some(item) = self.store.get(&key).await? else {
            return Ok(None);
        };
        let found = from_item::<OneTimeToken>(&self.store.name(), item)?;
        if found.record.kind != kind {
            return Ok(None);
        }
        match self.store.delete(&key, Cond::Version(found.version)).await {
            Ok(()) => Ok(Some(found.record)),
            Err(StoreError::ConditionFailed { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}
