//! A store that answers the reads of some partitions from one read of each made up front.
//! A page that shows many kinds of record kept in one partition — the account page shows the
//! customer, its contacts, invoices, payments, quotes, issues, projects, documents and reports,
//! all under `CUSTOMER#{id}` — asks the table once for the partition (one request per
//! 1,000 items) instead of once per kind, and its code stays as it is.
//!
//! Writes go to the inner store and are not seen by the snapshot: it serves pages that only
//! read, never a decision that leads to a write.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;

use super::{Cond, Cursor, Item, Key, Page, Query, SkRange, Store, StoreResult, Write};

/// `inner`, with the partitions read by [`Snapshot::of`] answered from memory.
#[derive(Debug, Clone)]
pub struct Snapshot {
    inner: Arc<dyn Store>,
    /// Each partition's items, in ascending sort-key order.
    parts: HashMap<String, Vec<Item>>,
}

impl Snapshot {
    /// Reads the whole of the partition `pk` from `inner` (1 request per 1,000 items).
    pub async fn of(inner: Arc<dyn Store>, pk: &str) -> StoreResult<Snapshot> {
        let mut items = Vec::new();
        let mut cursor = None;
        loop {
            let page = inner
                .query(&Query::partition(pk).limit(1000).after(cursor))
                .await?;
            items.extend(page.items);
            match page.next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        let parts = HashMap::from([(pk.to_string(), items)]);
        Ok(Snapshot { inner, parts })
    }

    /// The partition `pk` read from `inner` in one request, if it holds at most `most` items
    /// (at most 1,000); `None` when it holds more, and then reading it whole would cost more
    /// than the reads it saves.
    pub async fn of_at_most(
        inner: Arc<dyn Store>,
        pk: &str,
        most: usize,
    ) -> StoreResult<Option<Snapshot>> {
        let page = inner.query(&Query::partition(pk).limit(most)).await?;
        if page.next.is_some() {
            return Ok(None);
        }
        let parts = HashMap::from([(pk.to_string(), page.items)]);
        Ok(Some(Snapshot { inner, parts }))
    }

    /// The number of items read.
    pub fn len(&self) -> usize {
        self.parts.values().map(Vec::len).sum()
    }

    /// Whether nothing was read.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn in_range(range: &SkRange, sk: &str) -> bool {
    match range {
        SkRange::All => true,
        SkRange::Prefix(p) => sk.starts_with(p.as_str()),
        SkRange::Between(from, to) => from.as_str() <= sk && sk <= to.as_str(),
    }
}

#[async_trait]
impl Store for Snapshot {
    fn name(&self) -> String {
        self.inner.name()
    }

    fn remote(&self) -> bool {
        self.inner.remote()
    }

    async fn init(&self) -> StoreResult<()> {
        self.inner.init().await
    }

    async fn get(&self, key: &Key) -> StoreResult<Option<Item>> {
        match self.parts.get(&key.pk) {
            Some(items) => Ok(items
                .binary_search_by(|i| i.sk.as_str().cmp(&key.sk))
                .ok()
                .map(|at| items[at].clone())),
            None => self.inner.get(key).await,
        }
    }

    async fn put(&self, item: Item, cond: Cond) -> StoreResult<u64> {
        self.inner.put(item, cond).await
    }

    async fn delete(&self, key: &Key, cond: Cond) -> StoreResult<()> {
        self.inner.delete(key, cond).await
    }

    async fn query(&self, query: &Query) -> StoreResult<Page> {
        let Some(items) = self.parts.get(&query.pk) else {
            return self.inner.query(query).await;
        };
        let after = query.cursor.as_ref().map(Cursor::sk).transpose()?;
        let matching = items.iter().filter(|i| in_range(&query.range, &i.sk));
        let ordered: Vec<&Item> = if query.descending {
            matching
                .rev()
                .filter(|i| after.as_deref().is_none_or(|a| i.sk.as_str() < a))
                .collect()
        } else {
            matching
                .filter(|i| after.as_deref().is_none_or(|a| i.sk.as_str() > a))
                .collect()
        };
        let limit = query.limit.max(1);
        let page: Vec<Item> = ordered.iter().take(limit).map(|i| (*i).clone()).collect();
        let next = (ordered.len() > limit)
            .then(|| page.last().map(|i| Cursor::after_sk(&i.sk)))
            .flatten();
        Ok(Page { items: page, next })
    }

    async fn transact(&self, writes: Vec<Write>) -> StoreResult<()> {
        self.inner.transact(writes).await
    }

    async fn increment(
        &self,
        key: &Key,
        field: &str,
        by: i64,
        expires_at: Option<i64>,
    ) -> StoreResult<i64> {
        self.inner.increment(key, field, by, expires_at).await
    }

    async fn scan(
        &self,
        cursor: Option<String>,
        limit: usize,
    ) -> StoreResult<(Vec<Item>, Option<String>)> {
        self.inner.scan(cursor, limit).await
    }
}
