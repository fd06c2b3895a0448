//! The store: one table of items with string keys `pk` and `sk`, with DynamoDB's semantics,
//! behind one narrow object-safe trait used as `Arc<dyn Store>`, and two backends —
//! [`SqliteStore`] (embedded, the default) and [`DynamoStore`].
//!
//! # The contract every backend keeps
//!
//! - Every item has a `version`, 1 when created, increased by one by every write. A write's
//!   [`Cond`] is checked and the write applied atomically:
//!   [`Cond::NotExists`] fails if the item exists, [`Cond::Version`] fails unless the item exists
//!   with exactly that version (optimistic locking), [`Cond::Exists`] fails if it does not
//!   exist, [`Cond::None`] always applies. A failed condition is
//!   [`StoreError::ConditionFailed`] and changes nothing.
//! - An item may carry an expiry (`expires_at`, Unix seconds). Once it has passed, readers
//!   never see the item — [`Store::get`] returns `None`, [`Store::query`] skips it, and
//!   [`Cond::NotExists`] treats it as absent — even before the backend deletes it.
//! - [`Store::query`] returns the items of one `pk` in `sk` order (ascending unless asked),
//!   filtered by an [`SkRange`], at most `limit` at a time, with an opaque cursor for the next
//!   page; a page may hold fewer items than the limit while a cursor is still returned.
//! - [`Store::transact`] applies up to [`MAX_TRANSACTION`] writes and condition checks on
//!   distinct keys all together or not at all; if any condition fails nothing is written and
//!   the error is [`StoreError::TransactionCancelled`], naming which ones failed.
//! - [`Store::increment`] adds to a number field atomically, creating the item if needed;
//!   [`Write::Add`] does the same inside a transaction, optionally under a ceiling.
//! - Numbers are stored as DynamoDB stores them: `2.0` reads back as `2`.
//! - Backend faults (I/O, a corrupt file, a missing table, an item that does not decode) are
//!   errors that name the store and, where there is one, the key; never panics.

mod confined;
mod dynamodb;
#[cfg(feature = "sqlite")]
mod read_cache;
mod snapshot;
#[cfg(feature = "sqlite")]
mod sqlite;

use std::fmt;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use confined::Confined;
pub use dynamodb::DynamoStore;
pub use snapshot::Snapshot;
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;

/// Most writes in one transaction (DynamoDB's limit).
pub const MAX_TRANSACTION: usize = 25;

/// An item's attributes: a JSON object.
pub type Attrs = Map<String, Value>;

/// One stored item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    /// Partition key, e.g. `CUSTOMER#c-42`.
    pub pk: String,
    /// Sort key, e.g. `INVOICE#2026-11-01#i-7`.
    pub sk: String,
    /// Increased by every write; 1 for a new item. Ignored when writing.
    #[serde(default)]
    pub version: u64,
    /// Unix seconds after which the item no longer exists for readers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// The record itself.
    pub data: Attrs,
}

impl Item {
    /// An item with no expiry.
    pub fn new(pk: impl Into<String>, sk: impl Into<String>, data: Attrs) -> Item {
        Item {
            pk: pk.into(),
            sk: sk.into(),
            version: 0,
            expires_at: None,
            data,
        }
    }

    /// Sets the expiry.
    pub fn expiring(mut self, at: i64) -> Item {
        self.expires_at = Some(at);
        self
    }

    /// Whether the item has expired at `now` (Unix seconds).
    pub fn expired(&self, now: i64) -> bool {
        self.expires_at.is_some_and(|t| t <= now)
    }

    /// The key.
    pub fn key(&self) -> Key {
        Key::new(&self.pk, &self.sk)
    }
}

/// An item's key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Key {
    /// Partition key.
    pub pk: String,
    /// Sort key.
    pub sk: String,
}

impl Key {
    /// A key.
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Key {
        Key {
            pk: pk.into(),
            sk: sk.into(),
        }
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} / {}", self.pk, self.sk)
    }
}

/// The condition a write needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cond {
    /// Always write.
    None,
    /// Only if the item does not exist (or has expired).
    NotExists,
    /// Only if the item exists.
    Exists,
    /// Only if the item exists with this version.
    Version(u64),
}

/// Which sort keys a query returns.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SkRange {
    /// All of the partition.
    All,
    /// Sort keys starting with this.
    Prefix(String),
    /// Sort keys from `.0` to `.1`, both included.
    Between(String, String),
}

/// A query over one partition.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Query {
    /// The partition.
    pub pk: String,
    /// Which sort keys.
    pub range: SkRange,
    /// Most items per page (1 to 1000).
    pub limit: usize,
    /// Newest (highest sort key) first.
    pub descending: bool,
    /// Where the previous page stopped.
    pub cursor: Option<Cursor>,
}

impl Query {
    /// All items of `pk`, ascending, 100 a page.
    pub fn partition(pk: impl Into<String>) -> Query {
        Query {
            pk: pk.into(),
            range: SkRange::All,
            limit: 100,
            descending: false,
            cursor: None,
        }
    }
    /// Only sort keys starting with `prefix`.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Query {
        self.range = SkRange::Prefix(prefix.into());
        self
    }
    /// Only sort keys in `from..=to`.
    pub fn between(mut self, from: impl Into<String>, to: impl Into<String>) -> Query {
        self.range = SkRange::Between(from.into(), to.into());
        self
    }
    /// At most `limit` items a page.
    pub fn limit(mut self, limit: usize) -> Query {
        self.limit = limit;
        self
    }
    /// Highest sort key first.
    pub fn descending(mut self) -> Query {
        self.descending = true;
        self
    }
    /// Continue after `cursor`.
    pub fn after(mut self, cursor: Option<Cursor>) -> Query {
        self.cursor = cursor;
        self
    }
}

/// Where a page of a query stopped: opaque to callers, safe to hand to clients.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Cursor(String);

impl Cursor {
    pub(crate) fn after_sk(sk: &str) -> Cursor {
        use base64::Engine;
        Cursor(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sk))
    }
    pub(crate) fn sk(&self) -> Result<String, StoreError> {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&self.0)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| {
                StoreError::BadRequest("the cursor is not one this store gave out".into())
            })
    }
    /// The cursor as text, for a URL or a JSON field.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// A cursor from text a client sent back.
    pub fn from_client(text: impl Into<String>) -> Cursor {
        Cursor(text.into())
    }
}

/// A page of query results.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// The items, in order.
    pub items: Vec<Item>,
    /// Where to continue, if there may be more.
    pub next: Option<Cursor>,
}

/// One part of a transaction.
#[derive(Debug, Clone, PartialEq)]
pub enum Write {
    /// Create or replace an item.
    Put(Item, Cond),
    /// Delete an item.
    Delete(Key, Cond),
    /// Write nothing, but fail the transaction unless the condition holds.
    Check(Key, Cond),
    /// Write an item exactly as given — version and expiry included — where none exists;
    /// for imports.
    Restore(Item),
    /// Add to a counter, as [`Store::increment`] does, optionally only while it stays within
    /// a ceiling (a rate limit counted in the same round trip as the work it guards).
    Add(Tally),
}

/// A counter's step in a transaction ([`Write::Add`]).
///
/// Like [`Store::increment`], a missing item is created as `{field: by}` and an item without
/// an expiry takes `expires_at`. Unlike it, an item that has expired but is still stored fails
/// the transaction as a failed condition (a counter keyed by its window never meets one).
/// On DynamoDB an item keeps one counter field written this way: a step on a second field of
/// the same item, or one with a ceiling on a counter first written by [`Store::put`], fails
/// the transaction too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tally {
    /// The counter's item.
    pub key: Key,
    /// Its whole-number field.
    pub field: String,
    /// The step (negative to take back).
    pub by: i64,
    /// The expiry of an item that has none.
    pub expires_at: Option<i64>,
    /// When set, the transaction fails unless the counter after the step is at most this.
    pub at_most: Option<i64>,
}

impl Write {
    /// The key written or checked.
    pub fn key(&self) -> Key {
        match self {
            Write::Put(item, _) | Write::Restore(item) => item.key(),
            Write::Delete(k, _) | Write::Check(k, _) => k.clone(),
            Write::Add(t) => t.key.clone(),
        }
    }
    /// The condition.
    pub fn cond(&self) -> Cond {
        match self {
            Write::Put(_, c) | Write::Delete(_, c) | Write::Check(_, c) => *c,
            Write::Restore(_) => Cond::NotExists,
            Write::Add(_) => Cond::None,
        }
    }
}

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A write's condition did not hold; nothing changed.
    #[error("condition failed for {key}")]
    ConditionFailed {
        /// The item.
        key: Key,
    },
    /// A transaction's conditions did not all hold, or (with `failed` empty) it collided with
    /// another transaction on the same items at the same moment; nothing changed, and a retry
    /// after reading again may succeed.
    #[error("transaction cancelled: condition failed for {}", failed.iter().map(|(i, k)| format!("#{i} ({k})")).collect::<Vec<_>>().join(", "))]
    TransactionCancelled {
        /// Index in the transaction and key of each write whose condition failed.
        failed: Vec<(usize, Key)>,
    },
    /// The request itself is malformed (too many writes, duplicate keys, a bad cursor …).
    #[error("{0}")]
    BadRequest(String),
    /// The backend could not be reached or answered with an error.
    #[error("{store}: {message}")]
    Backend {
        /// Which store, e.g. `sqlite:.portal/portal.db` or `dynamodb:portal`.
        store: String,
        /// What happened.
        message: String,
    },
    /// A stored item could not be read back.
    #[error("{store}: item {key} cannot be decoded: {message}")]
    Decode {
        /// Which store.
        store: String,
        /// The item.
        key: Key,
        /// Why.
        message: String,
    },
}

/// Result alias for the store.
pub type StoreResult<T> = Result<T, StoreError>;

/// The storage trait. See the module documentation for the contract.
#[async_trait]
pub trait Store: Send + Sync + fmt::Debug {
    /// A short name for messages: `sqlite:PATH` or `dynamodb:TABLE`.
    fn name(&self) -> String;

    /// Whether every call is a round trip over the network (DynamoDB), so that one read of a
    /// whole partition beats a read per kind of record in it. The embedded store answers
    /// small reads asked again from memory, so it reads only what a page shows.
    fn remote(&self) -> bool {
        false
    }

    /// Creates the table or file if needed.
    async fn init(&self) -> StoreResult<()>;

    /// The item at `key`, unless missing or expired.
    async fn get(&self, key: &Key) -> StoreResult<Option<Item>>;

    /// Writes `item` if `cond` holds; returns the new version.
    async fn put(&self, item: Item, cond: Cond) -> StoreResult<u64>;

    /// Deletes the item at `key` if `cond` holds (deleting a missing item with
    /// [`Cond::None`] succeeds).
    async fn delete(&self, key: &Key, cond: Cond) -> StoreResult<()>;

    /// A page of one partition.
    async fn query(&self, query: &Query) -> StoreResult<Page>;

    /// Applies all of `writes` or none.
    async fn transact(&self, writes: Vec<Write>) -> StoreResult<()>;

    /// Adds `by` to the whole-number field `field` of the item at `key` and returns the
    /// field's new value, in one atomic step (1 request; on DynamoDB 2 for a second counter
    /// field of one item and 3 to replace an expired one): concurrent increments never lose a
    /// count and never give up. A missing or expired item is created as `{field: by}` expiring
    /// at `expires_at`; an existing item keeps its other fields and its expiry (one without an
    /// expiry takes `expires_at`), and a missing field counts as 0. The item's version
    /// increases like any write.
    ///
    /// This is the store's counter: tracking numbers and rate-limit windows use it, so a hot
    /// counter is never a read followed by a conditional write that may lose a race.
    async fn increment(
        &self,
        key: &Key,
        field: &str,
        by: i64,
        expires_at: Option<i64>,
    ) -> StoreResult<i64>;

    /// Every item in the store (expired ones left out), in pages, for export. `cursor` is
    /// `None` at first; the returned cursor is `None` at the end.
    async fn scan(
        &self,
        cursor: Option<String>,
        limit: usize,
    ) -> StoreResult<(Vec<Item>, Option<String>)>;
}

/// Checks a transaction's shape: 1 to 25 writes on distinct keys.
/// Where a query continues, given its cursor: a cursor a client made up may point before or
/// past the query's range, and narrows it, never widens it.
pub(crate) enum Start {
    /// From the range's first item (in the query's order).
    Beginning,
    /// After this sort key, which lies inside the range.
    After(String),
    /// Nowhere: the cursor is past the range's end.
    Nothing,
}

/// Where `query` continues (see [`Start`]).
pub(crate) fn start_of(query: &Query) -> StoreResult<Start> {
    use std::cmp::Ordering::{Equal, Greater, Less};
    let Some(cursor) = &query.cursor else {
        return Ok(Start::Beginning);
    };
    let sk = cursor.sk()?;
    // Where the cursor lies against the range: before it, inside it, or past it.
    let place = match &query.range {
        SkRange::All => Equal,
        SkRange::Prefix(p) if sk.starts_with(p.as_str()) => Equal,
        SkRange::Prefix(p) => sk.as_str().cmp(p.as_str()),
        SkRange::Between(a, _) if sk < *a => Less,
        SkRange::Between(_, b) if sk > *b => Greater,
        SkRange::Between(..) => Equal,
    };
    Ok(match (place, query.descending) {
        (Equal, _) => Start::After(sk),
        (Less, false) | (Greater, true) => Start::Beginning,
        (Less, true) | (Greater, false) => Start::Nothing,
    })
}

pub(crate) fn check_transaction(writes: &[Write]) -> StoreResult<()> {
    if writes.is_empty() || writes.len() > MAX_TRANSACTION {
        return Err(StoreError::BadRequest(format!(
            "a transaction holds 1 to {MAX_TRANSACTION} writes, not {}",
            writes.len()
        )));
    }
    let mut keys = std::collections::HashSet::new();
    for w in writes {
        if !keys.insert(w.key()) {
            return Err(StoreError::BadRequest(format!(
                "a transaction writes {} twice",
                w.key()
            )));
        }
    }
    Ok(())
}

/// Writes numbers the way DynamoDB keeps them — it does not tell `2.0` from `2` — so both
/// backends give back the same record: a float with a whole value becomes an integer.
#[cfg(feature = "sqlite")]
pub(crate) fn normalise_numbers(value: &mut Value) {
    match value {
        Value::Number(n) => {
            if let Some(f) = n.as_f64().filter(|_| !n.is_i64() && !n.is_u64()) {
                if f.fract() == 0.0 && f.abs() < 9.0e15 {
                    *value = Value::from(f as i64);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(normalise_numbers),
        Value::Object(map) => map.values_mut().for_each(normalise_numbers),
        _ => {}
    }
}

/// The scan cursor after `key`, as both backends hand it out.
pub(crate) fn scan_cursor(key: &Key) -> String {
    serde_json::json!([key.pk, key.sk]).to_string()
}

/// The key a scan cursor stands for.
pub(crate) fn parse_scan_cursor(cursor: &str) -> StoreResult<Key> {
    let (pk, sk): (String, String) = serde_json::from_str(cursor).map_err(|_| {
        StoreError::BadRequest("the scan cursor is not one this store gave out".into())
    })?;
    Ok(Key::new(pk, sk))
}

/// Checks a query's limit.
pub(crate) fn check_limit(limit: usize) -> StoreResult<()> {
    if (1..=1000).contains(&limit) {
        Ok(())
    } else {
        Err(StoreError::BadRequest(format!(
            "a query returns 1 to 1000 items a page, not {limit}"
        )))
    }
}

/// The wait before retry `attempt` (from 1): 10 ms doubling, with up to half again at random,
/// so that colliding writers spread out.
pub(crate) fn backoff(attempt: u32) -> std::time::Duration {
    let base = 10u64 << attempt.min(6);
    let mut byte = [0u8; 1];
    let jitter = getrandom::fill(&mut byte).map_or(0, |()| base * u64::from(byte[0]) / 512);
    std::time::Duration::from_millis(base + jitter)
}

/// Now, in Unix seconds.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Opens the store named by `spec`: `sqlite:PATH` or `dynamodb:TABLE`.
pub async fn open(spec: &str) -> StoreResult<std::sync::Arc<dyn Store>> {
    match spec.split_once(':') {
        #[cfg(feature = "sqlite")]
        Some(("sqlite", path)) if !path.is_empty() => {
            Ok(std::sync::Arc::new(SqliteStore::open(path)?))
        }
        #[cfg(not(feature = "sqlite"))]
        Some(("sqlite", _)) => Err(StoreError::BadRequest(format!(
            "`{spec}`: this program was built without the embedded store (feature `sqlite`)"
        ))),
        Some(("dynamodb", table)) if !table.is_empty() => {
            Ok(std::sync::Arc::new(DynamoStore::from_env(table).await))
        }
        _ => Err(StoreError::BadRequest(format!(
            "`{spec}` is not a store: use sqlite:PATH or dynamodb:TABLE"
        ))),
    }
}
