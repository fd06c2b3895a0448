//! The portal's records, each with its key layout written next to it, and repositories that
//! read and write them through the [`Store`] — so they work the same on
//! both backends, and every invariant (one login per e-mail, one registration per person and
//! event, unique tracking numbers, a record and its e-mail written together) is enforced by a
//! store condition, never by a read followed by a write.
//!
//! | Record | `pk` | `sk` |
//! |---|---|---|
//! | customer account | `CUSTOMER#{id}` | `PROFILE` |
//! | contact of a customer | `CUSTOMER#{id}` | `CONTACT#{contact}` |
//! | login (one per e-mail) | `LOGIN#{email}` | `LOGIN` |
//! | session | `SESSION#{token hash}` | `SESSION` |
//! | a login's sessions | `LOGIN#{email}` | `SESSION#{token hash}` |
//! | one-time token | `TOKEN#{token hash}` | `TOKEN` |
//! | issue | `ISSUE#{id}` | `ISSUE` |
//! | issue note | `ISSUE#{id}` | `NOTE#{time}#{note}` |
//! | tracking number → issue | `TRACKNUM#{number}` | `TRACKNUM` |
//! | tracking token → issue (expires unless used) | `TRACK#{token hash}` | `TRACK` |
//! | an issue's tracking links, to revoke them | `ISSUE#{id}` | `TRACKREF#{token hash}` |
//! | issue number counter (`last`, an atomic counter) | `COUNTER#ISSUE#{year}` | `COUNTER` |
//! | remembered browser of a login | `DEVICE#{id hash}` | `DEVICE` |
//! | a customer's issues | `CUSTOMER#{id}` | `ISSUE#{time}#{issue}` |
//! | invoice | `CUSTOMER#{id}` | `INVOICE#{date}#{invoice}` |
//! | payment | `CUSTOMER#{id}` | `PAYMENT#{date}#{payment}` |
//! | event seats | `EVENT#{event}` | `SEATS` |
//! | registration (one per e-mail) | `EVENT#{event}` | `REG#{email}` |
//! | outbox mail | `OUTBOX` | `MAIL#{time}#{mail}` |
//! | attachment of an issue | `ISSUE#{id}` | `ATTACHMENT#{attachment}` |
//! | quote | `CUSTOMER#{id}` | `QUOTE#{date}#{quote}` |
//! | quote comment | `QUOTE#{customer}#{quote}` | `COMMENT#{time}#{comment}` |
//! | project | `CUSTOMER#{id}` | `PROJECT#{project}` |
//! | project task / document / note / contact | `PROJECT#{customer}#{project}` | `TASK#…` / `DOC#…` / `NOTE#…` / `CONTACT#…` |
//! | secured document shared with a customer | `CUSTOMER#{id}` | `DOCUMENT#{date}#{document}` |
//! | expense or timesheet report | `CUSTOMER#{id}` | `REPORT#{date}#{report}` |
//! | newsletter subscription | `NEWSLETTER#{list}` | `SUB#{email}` |
//! | appointment request | `APPOINTMENTS` | `APPT#{time}#{id}` |
//! | lead / login / eStore request | `REQUESTS` | `REQ#{time}#{id}` |
//! | forum category | `FORUMS` | `CATEGORY#{category}` |
//! | forum thread | `FORUM#{category}` | `THREAD#{time}#{thread}` |
//! | forum post | `THREAD#{thread}` | `POST#{time}#{post}` |
//! | audit entry | `AUDIT#{day}` | `{time}#{entry}` |
//! | a binder's queue entry of an issue | `DESK#{binder}` | `ISSUE#{issue}` |
//! | an issue's words for the staff's search | `DESK#{binder}` | `TEXT#{issue}#{description or note}` |
//!
//! Staff members and their sessions keep their layout in [`staff`], API keys theirs in
//! [`apikeys`], the change feed in [`feed`], webhooks in [`webhooks`], readers' ratings of
//! articles and searches that found nothing in [`feedback`], calendar addresses in
//! [`calendar_feeds`].

pub mod apikeys;
pub mod audit;
pub mod billing;
pub mod calendar_feeds;
pub mod customers;
pub mod erasure;
pub mod events;
pub mod feed;
pub mod feedback;
pub mod forums;
pub mod guards;
pub mod issues;
pub mod outbox;
pub mod projects;
pub mod quotes;
pub mod reports;
pub mod requests;
pub mod sessions;
pub mod staff;
pub mod webhooks;

use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::store::{Cond, Cursor, Item, Key, Query, Store, StoreError, StoreResult};

/// A typed record that lives at one key.
pub trait Record: Serialize + DeserializeOwned {
    /// Where it is stored.
    fn key(&self) -> Key;
    /// When it stops existing, in Unix seconds.
    fn expires_at(&self) -> Option<i64> {
        None
    }
}

/// A record with the version it was read at, for optimistic locking.
#[derive(Debug, Clone, PartialEq)]
pub struct Versioned<T> {
    /// The record.
    pub record: T,
    /// Its version in the store.
    pub version: u64,
}

/// The item that stores `record`.
pub fn to_item<R: Record>(record: &R) -> StoreResult<Item> {
    let key = record.key();
    let data = match serde_json::to_value(record) {
        Ok(serde_json::Value::Object(map)) => map,
        Ok(_) => {
            return Err(StoreError::BadRequest(format!(
                "record {key} is not an object"
            )))
        }
        Err(e) => {
            return Err(StoreError::BadRequest(format!(
                "record {key} cannot be encoded: {e}"
            )))
        }
    };
    Ok(Item {
        pk: key.pk,
        sk: key.sk,
        version: 0,
        expires_at: record.expires_at(),
        data,
    })
}

/// The record stored in `item`.
pub fn from_item<R: Record>(store: &str, item: Item) -> StoreResult<Versioned<R>> {
    let key = item.key();
    let record = serde_json::from_value(serde_json::Value::Object(item.data)).map_err(|e| {
        StoreError::Decode {
            store: store.to_string(),
            key,
            message: e.to_string(),
        }
    })?;
    Ok(Versioned {
        record,
        version: item.version,
    })
}

/// A new random identifier: 128 random bits as 32 hex digits, time-ordered (UUID v7).
pub fn new_id() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}

/// The hash under which a secret token is stored (SHA-256, hex); the token itself never is.
pub fn token_hash(token: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The calendar year of a Unix time, in UTC.
pub fn utc_year(unix: i64) -> i32 {
    use chrono::Datelike;
    chrono::DateTime::from_timestamp(unix, 0).map_or(1970, |t| t.year())
}

/// A Unix time as an e-mail `Date:` header value (RFC 5322), in UTC.
pub fn mail_date(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0).map_or_else(
        || "Thu, 1 Jan 1970 00:00:00 +0000".to_string(),
        |t| t.format("%a, %-d %b %Y %H:%M:%S +0000").to_string(),
    )
}

/// An e-mail address as keys use it: trimmed and lower-cased.
pub fn email_key(email: &str) -> String {
    email.trim().to_lowercase()
}

/// What a repository call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The write conflicts with what is stored (a second login for an e-mail, a second
    /// registration, a stale version).
    #[error("{0}")]
    Conflict(String),
    /// The record does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// The store stayed too busy with other writes to the same items to finish this one in
    /// time; nothing was written, and the same request may be sent again shortly.
    #[error("{0}")]
    Busy(String),
}

/// Result alias for repositories.
pub type RecordResult<T> = Result<T, RecordError>;

/// 128 random bits as 32 hex digits: session, tracking and one-time tokens.
pub fn random_token() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the operating system provides random bytes");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Turns a failed condition on a write into a [`RecordError::Conflict`] with `message`.
pub(crate) fn conflict(e: StoreError, message: impl Into<String>) -> RecordError {
    match e {
        StoreError::ConditionFailed { .. } | StoreError::TransactionCancelled { .. } => {
            RecordError::Conflict(message.into())
        }
        other => RecordError::Store(other),
    }
}

/// Plain create / get / save / list / delete for any record type; the domain repositories add
/// what is particular to theirs.
#[derive(Debug)]
pub struct Repo<R> {
    store: Arc<dyn Store>,
    _record: std::marker::PhantomData<fn() -> R>,
}

impl<R> Clone for Repo<R> {
    fn clone(&self) -> Self {
        Repo {
            store: self.store.clone(),
            _record: std::marker::PhantomData,
        }
    }
}

impl<R: Record> Repo<R> {
    /// The repository over `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Repo {
            store,
            _record: std::marker::PhantomData,
        }
    }

    /// The store it reads and writes.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Stores a new record; one already at its key is a conflict (1 request).
    pub async fn create(&self, record: &R) -> RecordResult<()> {
        self.store
            .put(to_item(record)?, Cond::NotExists)
            .await
            .map(|_| ())
            .map_err(|e| conflict(e, format!("{} exists already", record.key())))
    }

    /// The record at `key` (1 request).
    pub async fn get(&self, key: &Key) -> RecordResult<Option<Versioned<R>>> {
        match self.store.get(key).await? {
            Some(item) => Ok(Some(from_item(&self.store.name(), item)?)),
            None => Ok(None),
        }
    }

    /// Saves a changed record read at `version` (1 request); a change in between is a conflict.
    pub async fn save(&self, record: &R, version: u64) -> RecordResult<u64> {
        self.store
            .put(to_item(record)?, Cond::Version(version))
            .await
            .map_err(|e| {
                conflict(
                    e,
                    format!(
                        "{} was changed meanwhile; reload and try again",
                        record.key()
                    ),
                )
            })
    }

    /// Deletes the record at `key` (1 request).
    pub async fn delete(&self, key: &Key) -> RecordResult<()> {
        self.store.delete(key, Cond::None).await?;
        Ok(())
    }

    /// A page of the records under `pk` whose sort key starts with `prefix` (1 request).
    pub async fn list(
        &self,
        pk: &str,
        prefix: &str,
        limit: usize,
        cursor: Option<Cursor>,
        newest_first: bool,
    ) -> RecordResult<(Vec<R>, Option<Cursor>)> {
        let mut q = Query::partition(pk)
            .prefix(prefix)
            .limit(limit)
            .after(cursor);
        if newest_first {
            q = q.descending();
        }
        let page = self.store.query(&q).await?;
        let name = self.store.name();
        let records = page
            .items
            .into_iter()
            .map(|i| from_item(&name, i).map(|v| v.record))
            .collect::<Result<_, _>>()?;
        Ok((records, page.next))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates_for_numbers_and_mail() {
        assert_eq!(
            super::utc_year(1_798_761_599),
            2026,
            "23:59:59 on 31 December 2026"
        );
        assert_eq!(super::utc_year(1_798_761_600), 2027);
        assert_eq!(
            super::mail_date(1_795_441_500),
            "Mon, 23 Nov 2026 13:45:00 +0000"
        );
    }
}
