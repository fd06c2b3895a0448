//! The embedded backend: one SQLite file (WAL mode), one table `items(pk, sk, v, ttl, data)`
//! with `data` as JSON. Writes go through one connection, reads through a small pool, all on
//! tokio's blocking threads, so the store is safe and fast under a multi-threaded server.
//! Reads asked again before anything was written are answered from memory
//! ([`super::read_cache`]).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension, Transaction};

use super::read_cache::{Answer, Lookup, ReadCache};
use super::{
    check_limit, check_transaction, now, parse_scan_cursor, scan_cursor, Attrs, Cond, Cursor, Item,
    Key, Page, Query, SkRange, Store, StoreError, StoreResult, Tally, Write,
};

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS items (
    pk TEXT NOT NULL,
    sk TEXT NOT NULL,
    v INTEGER NOT NULL,
    ttl INTEGER,
    data TEXT NOT NULL,
    PRIMARY KEY (pk, sk)
) WITHOUT ROWID";

/// Readers kept open for reuse.
const POOL: usize = 8;

/// The SQLite store.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    name: String,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    /// At most [`POOL`] reads at once, so the pool always has a connection for each and a
    /// burst of requests waits its turn instead of opening connections it then throws away.
    reading: tokio::sync::Semaphore,
    /// How the store learns that the database changed.
    watch: Watch,
    cache: ReadCache,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.inner.path)
            .finish()
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database file at `path`.
    pub fn open(path: impl AsRef<Path>) -> StoreResult<SqliteStore> {
        let path = path.as_ref().to_path_buf();
        let name = format!("sqlite:{}", path.display());
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| backend(&name, e))?;
        }
        let writer = connect(&path, &name)?;
        writer
            .execute_batch(SCHEMA)
            .map_err(|e| backend(&name, e))?;
        // SQLite's own name for the file (a symbolic link resolved), whose `-shm` it uses.
        let resolved = writer.path().map_or_else(|| path.clone(), PathBuf::from);
        let watch = match shm_of(&resolved) {
            Some(shm) => Watch::Shm(shm),
            None => Watch::Pragma(Mutex::new(connect(&path, &name)?)),
        };
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                path,
                name,
                writer: Mutex::new(writer),
                readers: Mutex::new(Vec::new()),
                reading: tokio::sync::Semaphore::new(POOL),
                watch,
                cache: ReadCache::default(),
            }),
        })
    }

    /// The database's version now, if it can be told: a value that changes with every
    /// commit by any connection of any process.
    fn version(&self) -> Option<u128> {
        match &self.inner.watch {
            Watch::Shm(shm) => {
                use std::os::unix::fs::FileExt as _;
                let mut header = [0u8; 48];
                shm.read_exact_at(&mut header, 0).ok()?;
                let word = |at: usize| {
                    u32::from_ne_bytes([header[at], header[at + 1], header[at + 2], header[at + 3]])
                };
                // iChange (every commit adds one), mxFrame, and both salts (a new log).
                Some(
                    u128::from(word(8)) << 96
                        | u128::from(word(16)) << 64
                        | u128::from(word(32)) << 32
                        | u128::from(word(36)),
                )
            }
            Watch::Pragma(conn) => {
                let conn = conn.lock().unwrap_or_else(|e| e.into_inner());
                let mut stmt = conn.prepare_cached("PRAGMA data_version").ok()?;
                stmt.query_row([], |r| r.get::<_, i64>(0))
                    .ok()
                    .map(|v| v as u128)
            }
        }
    }

    /// Answers `lookup` from memory if nothing was written since it was last read, or reads
    /// it with `f` (which also gives the size of what it read) and remembers it.
    async fn remembered(
        &self,
        lookup: Lookup,
        f: impl FnOnce(&Connection, &str) -> StoreResult<(Answer, usize)> + Send + 'static,
    ) -> StoreResult<Answer> {
        let Some(version) = self.version() else {
            return Ok(self.read(f).await?.0);
        };
        if let Some(answer) = self.inner.cache.find(version, &lookup, now()) {
            return Ok(answer);
        }
        let (answer, bytes) = self.read(f).await?;
        self.inner
            .cache
            .keep(version, lookup, answer.clone(), bytes);
        Ok(answer)
    }

    /// Runs `f` with the writing connection on a blocking thread.
    async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection, &str) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = inner.writer.lock().unwrap_or_else(|e| e.into_inner());
            f(&mut conn, &inner.name)
        })
        .await
        .map_err(|e| StoreError::Backend {
            store: self.inner.name.clone(),
            message: e.to_string(),
        })?
    }

    /// Runs `f` with a reading connection on a blocking thread.
    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection, &str) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        let inner = self.inner.clone();
        let _turn = self
            .inner
            .reading
            .acquire()
            .await
            .map_err(|e| backend(&self.inner.name, e))?;
        tokio::task::spawn_blocking(move || {
            let pooled = inner
                .readers
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .pop();
            let conn = match pooled {
                Some(c) => c,
                None => connect(&inner.path, &inner.name)?,
            };
            let result = f(&conn, &inner.name);
            let mut pool = inner.readers.lock().unwrap_or_else(|e| e.into_inner());
            if pool.len() < POOL {
                pool.push(conn);
            }
            result
        })
        .await
        .map_err(|e| StoreError::Backend {
            store: self.inner.name.clone(),
            message: e.to_string(),
        })?
    }
}

/// How the store learns that the database changed, so that its read cache never answers
/// from before a commit.
enum Watch {
    /// The write-ahead log's index (`portal.db-shm`): its header, which SQLite's file format
    /// documents, counts every commit (`iChange`) and names the log (`aSalt`). Reading its
    /// first 48 bytes is one `pread`, taking no lock. Other processes' commits (`portal
    /// admin`) show there too: SQLite writes that header through a shared mapping of the
    /// same file, and the file lasts as long as this store's connections are open.
    Shm(&'static std::fs::File),
    /// Where the index cannot be read: `PRAGMA data_version` on a connection of its own,
    /// which moves with every commit by any other connection (a few file locks a lookup).
    Pragma(Mutex<Connection>),
}

/// The write-ahead log index of the database `db`, opened once for the life of the process
/// and never closed: closing any descriptor of a file drops every POSIX lock the process holds
/// on it, SQLite's own locks on the index included. A store opened again after the index was
/// removed (every connection closed) opens the new one.
fn shm_of(db: &Path) -> Option<&'static std::fs::File> {
    use std::os::unix::fs::MetadataExt as _;
    static OPEN: Mutex<Vec<(PathBuf, &'static std::fs::File)>> = Mutex::new(Vec::new());
    let mut name = db.as_os_str().to_os_string();
    name.push("-shm");
    let shm = PathBuf::from(name);
    let now = std::fs::metadata(&shm).ok()?;
    let mut open = OPEN.lock().unwrap_or_else(|e| e.into_inner());
    let same = |f: &std::fs::File| {
        f.metadata()
            .is_ok_and(|m| m.ino() == now.ino() && m.dev() == now.dev())
    };
    if let Some((_, file)) = open.iter().find(|(p, f)| *p == shm && same(f)) {
        return Some(file);
    }
    let file: &'static std::fs::File = Box::leak(Box::new(std::fs::File::open(&shm).ok()?));
    if !same(file) {
        return None;
    }
    open.push((shm, file));
    Some(file)
}

fn connect(path: &Path, name: &str) -> StoreResult<Connection> {
    let conn = Connection::open(path).map_err(|e| backend(name, e))?;
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(|e| backend(name, e))?;
    conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;")
        .map_err(|e| backend(name, e))?;
    Ok(conn)
}

fn backend(name: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend {
        store: name.to_string(),
        message: e.to_string(),
    }
}

/// Version and expiry of a live (not expired) item.
fn current(tx: &Transaction, key: &Key, name: &str, now: i64) -> StoreResult<Option<u64>> {
    let row: Option<(i64, Option<i64>)> = tx
        .query_row(
            "SELECT v, ttl FROM items WHERE pk = ?1 AND sk = ?2",
            params![key.pk, key.sk],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(|e| backend(name, e))?;
    Ok(row
        .filter(|(_, ttl)| ttl.is_none_or(|t| t > now))
        .map(|(v, _)| v as u64))
}

/// The counter's item after the step `t`, or `None` when the step cannot apply: the item has
/// expired but is still stored, or the ceiling would be passed.
fn tallied(tx: &Transaction, t: &Tally, name: &str, now: i64) -> StoreResult<Option<Item>> {
    let stored = tx
        .query_row(
            "SELECT pk, sk, v, ttl, data FROM items WHERE pk = ?1 AND sk = ?2",
            params![t.key.pk, t.key.sk],
            read_row,
        )
        .optional()
        .map_err(|e| backend(name, e))?
        .map(|(pk, sk, v, ttl, data)| row_to_item(name, pk, sk, v, ttl, data))
        .transpose()?;
    if stored.as_ref().is_some_and(|i| i.expired(now)) {
        return Ok(None);
    }
    let mut item = stored.unwrap_or_else(|| Item {
        pk: t.key.pk.clone(),
        sk: t.key.sk.clone(),
        version: 0,
        expires_at: None,
        data: Attrs::new(),
    });
    item.expires_at = item.expires_at.or(t.expires_at);
    let value = item
        .data
        .get(&t.field)
        .and_then(|v| v.as_i64())
        .unwrap_or(0)
        + t.by;
    if t.at_most.is_some_and(|max| value > max) {
        return Ok(None);
    }
    item.data.insert(t.field.clone(), value.into());
    Ok(Some(item))
}

fn holds(cond: Cond, current: Option<u64>) -> bool {
    match cond {
        Cond::None => true,
        Cond::NotExists => current.is_none(),
        Cond::Exists => current.is_some(),
        Cond::Version(v) => current == Some(v),
    }
}

fn store_item(tx: &Transaction, item: &Item, version: u64, name: &str) -> StoreResult<()> {
    let mut data = serde_json::Value::Object(item.data.clone());
    super::normalise_numbers(&mut data);
    let data = serde_json::to_string(&data).map_err(|e| backend(name, e))?;
    tx.prepare_cached(
        "INSERT OR REPLACE INTO items (pk, sk, v, ttl, data) VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            item.pk,
            item.sk,
            version as i64,
            item.expires_at,
            data
        ])
    })
    .map_err(|e| backend(name, e))?;
    Ok(())
}

fn row_to_item(
    name: &str,
    pk: String,
    sk: String,
    v: i64,
    ttl: Option<i64>,
    data: String,
) -> StoreResult<Item> {
    let data: Attrs = serde_json::from_str(&data).map_err(|e| StoreError::Decode {
        store: name.to_string(),
        key: Key::new(&pk, &sk),
        message: e.to_string(),
    })?;
    Ok(Item {
        pk,
        sk,
        version: v as u64,
        expires_at: ttl,
        data,
    })
}

type Row = (String, String, i64, Option<i64>, String);

/// What a row weighs in the read cache: its text, and as much again for the parsed form.
fn weight(row: &Row) -> usize {
    2 * (row.0.len() + row.1.len() + row.4.len()) + 64
}

fn read_row(r: &rusqlite::Row) -> rusqlite::Result<Row> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

#[async_trait]
impl Store for SqliteStore {
    fn name(&self) -> String {
        self.inner.name.clone()
    }

    async fn init(&self) -> StoreResult<()> {
        self.write(|conn, name| conn.execute_batch(SCHEMA).map_err(|e| backend(name, e)))
            .await
    }

    async fn get(&self, key: &Key) -> StoreResult<Option<Item>> {
        let key = key.clone();
        let answer = self.remembered(Lookup::Get(key.clone()), move |conn, name| {
            let mut stmt = conn
                .prepare_cached("SELECT pk, sk, v, ttl, data FROM items WHERE pk = ?1 AND sk = ?2 AND (ttl IS NULL OR ttl > ?3)")
                .map_err(|e| backend(name, e))?;
            let row = stmt.query_row(params![key.pk, key.sk, now()], read_row).optional().map_err(|e| backend(name, e))?;
            let bytes = row.as_ref().map_or(0, weight);
            let item = row.map(|(pk, sk, v, ttl, data)| row_to_item(name, pk, sk, v, ttl, data)).transpose()?;
            Ok((Answer::Item(item), bytes))
        })
        .await?;
        match answer {
            Answer::Item(item) => Ok(item),
            Answer::Page(_) => Err(backend(&self.inner.name, "a query's answer to a get")),
        }
    }

    async fn put(&self, item: Item, cond: Cond) -> StoreResult<u64> {
        self.write(move |conn, name| {
            let tx = conn.transaction().map_err(|e| backend(name, e))?;
            let key = item.key();
            let existing = current(&tx, &key, name, now())?;
            if !holds(cond, existing) {
                return Err(StoreError::ConditionFailed { key });
            }
            let version = existing.map_or(1, |v| v + 1);
            store_item(&tx, &item, version, name)?;
            tx.commit().map_err(|e| backend(name, e))?;
            Ok(version)
        })
        .await
    }

    async fn delete(&self, key: &Key, cond: Cond) -> StoreResult<()> {
        let key = key.clone();
        self.write(move |conn, name| {
            let tx = conn.transaction().map_err(|e| backend(name, e))?;
            if !holds(cond, current(&tx, &key, name, now())?) {
                return Err(StoreError::ConditionFailed { key });
            }
            tx.execute(
                "DELETE FROM items WHERE pk = ?1 AND sk = ?2",
                params![key.pk, key.sk],
            )
            .map_err(|e| backend(name, e))?;
            tx.commit().map_err(|e| backend(name, e))
        })
        .await
    }

    async fn query(&self, query: &Query) -> StoreResult<Page> {
        check_limit(query.limit)?;
        let q = query.clone();
        let after = q.cursor.as_ref().map(Cursor::sk).transpose()?;
        let answer = self
            .remembered(Lookup::Query(query.clone()), move |conn, name| {
                let (lo, hi) = match &q.range {
                    SkRange::All => (String::new(), "\u{10FFFF}".to_string()),
                    SkRange::Prefix(p) => (p.clone(), format!("{p}\u{10FFFF}")),
                    SkRange::Between(a, b) => (a.clone(), b.clone()),
                };
                // A cursor narrows the range, never widens it: one a client made up cannot
                // reach sort keys outside the query's range.
                // `hi` is inclusive except when it came from a descending cursor.
                let (lo, hi, strict) = match (&after, q.descending) {
                    (Some(a), false) => (lo.max(format!("{a}\0")), hi, false),
                    (Some(a), true) if *a <= hi => (lo, a.clone(), true),
                    (_, _) => (lo, hi, false),
                };
                let upper = if strict { "sk < ?3" } else { "sk <= ?3" };
                let order = if q.descending { "DESC" } else { "ASC" };
                let sql = format!(
                "SELECT pk, sk, v, ttl, data FROM items WHERE pk = ?1 AND sk >= ?2 AND {upper} \
                 AND (ttl IS NULL OR ttl > ?4) ORDER BY sk {order} LIMIT ?5"
            );
                let mut stmt = conn.prepare_cached(&sql).map_err(|e| backend(name, e))?;
                let rows = stmt
                    .query_map(params![q.pk, lo, hi, now(), (q.limit + 1) as i64], read_row)
                    .map_err(|e| backend(name, e))?;
                let mut items = Vec::with_capacity(q.limit);
                let mut more = false;
                let mut bytes = 0;
                for row in rows {
                    let row = row.map_err(|e| backend(name, e))?;
                    if items.len() == q.limit {
                        more = true;
                        break;
                    }
                    bytes += weight(&row);
                    let (pk, sk, v, ttl, data) = row;
                    items.push(row_to_item(name, pk, sk, v, ttl, data)?);
                }
                let next = if more {
                    items.last().map(|i: &Item| Cursor::after_sk(&i.sk))
                } else {
                    None
                };
                Ok((Answer::Page(Page { items, next }), bytes))
            })
            .await?;
        match answer {
            Answer::Page(page) => Ok(page),
            Answer::Item(_) => Err(backend(&self.inner.name, "a get's answer to a query")),
        }
    }

    async fn transact(&self, writes: Vec<Write>) -> StoreResult<()> {
        check_transaction(&writes)?;
        self.write(move |conn, name| {
            let tx = conn.transaction().map_err(|e| backend(name, e))?;
            let now = now();
            let mut versions = Vec::with_capacity(writes.len());
            let mut tallies = Vec::new();
            let mut failed = Vec::new();
            for (i, w) in writes.iter().enumerate() {
                let existing = current(&tx, &w.key(), name, now)?;
                let ok = match w {
                    Write::Add(t) => match tallied(&tx, t, name, now)? {
                        Some(item) => {
                            tallies.push(item);
                            true
                        }
                        None => false,
                    },
                    _ => holds(w.cond(), existing),
                };
                if !ok {
                    failed.push((i, w.key()));
                }
                versions.push(existing);
            }
            let mut tallies = tallies.into_iter();
            if !failed.is_empty() {
                return Err(StoreError::TransactionCancelled { failed });
            }
            for (w, existing) in writes.iter().zip(versions) {
                match w {
                    Write::Put(item, _) => {
                        store_item(&tx, item, existing.map_or(1, |v| v + 1), name)?
                    }
                    Write::Delete(k, _) => {
                        tx.execute(
                            "DELETE FROM items WHERE pk = ?1 AND sk = ?2",
                            params![k.pk, k.sk],
                        )
                        .map_err(|e| backend(name, e))?;
                    }
                    Write::Check(..) => {}
                    Write::Restore(item) => store_item(&tx, item, item.version.max(1), name)?,
                    Write::Add(_) => {
                        if let Some(item) = tallies.next() {
                            store_item(&tx, &item, item.version + 1, name)?
                        }
                    }
                }
            }
            tx.commit().map_err(|e| backend(name, e))
        })
        .await
    }

    async fn increment(
        &self,
        key: &Key,
        field: &str,
        by: i64,
        expires_at: Option<i64>,
    ) -> StoreResult<i64> {
        let (key, field) = (key.clone(), field.to_string());
        self.write(move |conn, name| {
            let tx = conn.transaction().map_err(|e| backend(name, e))?;
            let existing = tx
                .query_row(
                    "SELECT pk, sk, v, ttl, data FROM items WHERE pk = ?1 AND sk = ?2 AND (ttl IS NULL OR ttl > ?3)",
                    params![key.pk, key.sk, now()],
                    read_row,
                )
                .optional()
                .map_err(|e| backend(name, e))?
                .map(|(pk, sk, v, ttl, data)| row_to_item(name, pk, sk, v, ttl, data))
                .transpose()?;
            let mut item = existing.unwrap_or_else(|| Item {
                pk: key.pk.clone(),
                sk: key.sk.clone(),
                version: 0,
                expires_at,
                data: Attrs::new(),
            });
            item.expires_at = item.expires_at.or(expires_at);
            let value = item.data.get(&field).and_then(|v| v.as_i64()).unwrap_or(0) + by;
            item.data.insert(field, value.into());
            store_item(&tx, &item, item.version + 1, name)?;
            tx.commit().map_err(|e| backend(name, e))?;
            Ok(value)
        })
        .await
    }

    async fn scan(
        &self,
        cursor: Option<String>,
        limit: usize,
    ) -> StoreResult<(Vec<Item>, Option<String>)> {
        check_limit(limit)?;
        let after = cursor.as_deref().map(parse_scan_cursor).transpose()?;
        self.read(move |conn, name| {
            let Key { pk, sk } = after.unwrap_or_else(|| Key::new("", ""));
            let mut stmt = conn
                .prepare_cached(
                    "SELECT pk, sk, v, ttl, data FROM items WHERE (pk > ?1 OR (pk = ?1 AND sk > ?2)) \
                     AND (ttl IS NULL OR ttl > ?3) ORDER BY pk, sk LIMIT ?4",
                )
                .map_err(|e| backend(name, e))?;
            let rows = stmt.query_map(params![pk, sk, now(), limit as i64], read_row).map_err(|e| backend(name, e))?;
            let mut items = Vec::new();
            for row in rows {
                let (pk, sk, v, ttl, data) = row.map_err(|e| backend(name, e))?;
                items.push(row_to_item(name, pk, sk, v, ttl, data)?);
            }
            let next = (items.len() == limit).then(|| items.last().map(|i| scan_cursor(&i.key()))).flatten();
            Ok((items, next))
        })
        .await
    }
}
