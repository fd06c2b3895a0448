//! A store limited to some partitions, as an IAM policy's `dynamodb:LeadingKeys` condition
//! limits a Lambda: every key read, written, checked or queried must have a partition key
//! matching one of the patterns (`*` any run of characters, `?` one, as IAM's `StringLike`),
//! or the call fails as DynamoDB would refuse it. `portal serve --confine` gives each function
//! group such a store, so the whole test suite shows that no handler needs a partition its
//! function's policy does not grant.

use async_trait::async_trait;

use super::{Cond, Item, Key, Page, Query, Store, StoreError, StoreResult, Write};
use std::sync::Arc;

/// `inner`, limited to the partitions `patterns` match.
#[derive(Debug, Clone)]
pub struct Confined {
    inner: Arc<dyn Store>,
    who: String,
    patterns: Vec<String>,
}

impl Confined {
    /// `inner` as seen by `who` (for messages), limited to the partitions `patterns` match.
    ///
    /// ```
    /// # use portal_core::store::Confined;
    /// assert!(Confined::matches("ISSUE#*", "ISSUE#0192"));
    /// assert!(!Confined::matches("ISSUE#*", "LOGIN#ada@example.com"));
    /// ```
    pub fn new(inner: Arc<dyn Store>, who: &str, patterns: &[&str]) -> Confined {
        Confined {
            inner,
            who: who.to_string(),
            patterns: patterns.iter().map(|p| p.to_string()).collect(),
        }
    }

    /// IAM's `StringLike`: `*` matches any run of characters, `?` any one.
    pub fn matches(pattern: &str, text: &str) -> bool {
        fn go(p: &[u8], t: &[u8]) -> bool {
            match (p.first(), t.first()) {
                (None, None) => true,
                (Some(b'*'), _) => go(&p[1..], t) || (!t.is_empty() && go(p, &t[1..])),
                (Some(b'?'), Some(_)) => go(&p[1..], &t[1..]),
                (Some(a), Some(b)) if a == b => go(&p[1..], &t[1..]),
                _ => false,
            }
        }
        go(pattern.as_bytes(), text.as_bytes())
    }

    fn allow(&self, pk: &str) -> StoreResult<()> {
        if self.patterns.iter().any(|p| Confined::matches(p, pk)) {
            Ok(())
        } else {
            Err(StoreError::Backend {
                store: self.inner.name(),
                message: format!(
                    "AccessDeniedException: the {} function may not touch partition `{pk}` (allowed: {})",
                    self.who,
                    self.patterns.join(", ")
                ),
            })
        }
    }
}

#[async_trait]
impl Store for Confined {
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
        self.allow(&key.pk)?;
        self.inner.get(key).await
    }

    async fn put(&self, item: Item, cond: Cond) -> StoreResult<u64> {
        self.allow(&item.pk)?;
        self.inner.put(item, cond).await
    }

    async fn delete(&self, key: &Key, cond: Cond) -> StoreResult<()> {
        self.allow(&key.pk)?;
        self.inner.delete(key, cond).await
    }

    async fn query(&self, query: &Query) -> StoreResult<Page> {
        self.allow(&query.pk)?;
        self.inner.query(query).await
    }

    async fn transact(&self, writes: Vec<Write>) -> StoreResult<()> {
        for w in &writes {
            self.allow(&w.key().pk)?;
        }
        self.inner.transact(writes).await
    }

    async fn increment(
        &self,
        key: &Key,
        field: &str,
        by: i64,
        expires_at: Option<i64>,
    ) -> StoreResult<i64> {
        self.allow(&key.pk)?;
        self.inner.increment(key, field, by, expires_at).await
    }

    async fn scan(
        &self,
        _cursor: Option<String>,
        _limit: usize,
    ) -> StoreResult<(Vec<Item>, Option<String>)> {
        // No function may scan the table (its policy grants no Scan).
        Err(StoreError::Backend {
            store: self.inner.name(),
            message: format!(
                "AccessDeniedException: the {} function may not scan the table",
                self.who
            ),
        })
    }
}
