//! The embedded store's memory of its recent reads: answers a `get` or `query` asked again
//! without touching SQLite, for as long as nothing has been written to the database since.
//!
//! Every entry is tagged with the database's version (a value that changes with every commit
//! by any connection, in this process or another; see `sqlite::Watch`) read *before* the
//! read it remembers. An entry is only ever answered while the version is still
//! the one it was tagged with, so an answer never predates a write that committed before the
//! question was asked: a write the caller saw is never hidden by the cache. Items that expire
//! while remembered are not served either; the read goes to SQLite again.
//!
//! The first lookup under a new version forgets everything. The memory is bounded by the
//! size of what it holds (the stored JSON), and a read too large for it is not kept.

use std::collections::HashMap;
use std::sync::Mutex;

use super::{Item, Key, Page, Query};

/// The most the cache holds, counted as the bytes of the items' stored JSON.
const BUDGET: usize = 32 << 20;
/// The largest single answer kept.
const LARGEST: usize = 1 << 20;
/// The most answers kept, however small (an absent item weighs little but still counts).
const MOST: usize = 50_000;
/// What an entry weighs besides its answer and its key's text: the map slot and the parsed
/// key.
const ENTRY: usize = 160;

/// A read that can be answered again.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Lookup {
    /// [`super::Store::get`] of a key.
    Get(Key),
    /// [`super::Store::query`].
    Query(Query),
}

impl Lookup {
    /// The bytes of the key's text (a cursor a client sent may be long).
    fn weight(&self) -> usize {
        match self {
            Lookup::Get(key) => key.pk.len() + key.sk.len(),
            Lookup::Query(q) => {
                let range = match &q.range {
                    super::SkRange::All => 0,
                    super::SkRange::Prefix(p) => p.len(),
                    super::SkRange::Between(a, b) => a.len() + b.len(),
                };
                q.pk.len() + range + q.cursor.as_ref().map_or(0, |c| c.as_str().len())
            }
        }
    }
}

/// What the read answered.
#[derive(Debug, Clone)]
pub(crate) enum Answer {
    /// The item, or its absence.
    Item(Option<Item>),
    /// A page of a query.
    Page(Page),
}

impl Answer {
    /// Whether an item in it has expired by `now` (then it must be read again).
    fn expired(&self, now: i64) -> bool {
        match self {
            Answer::Item(item) => item.as_ref().is_some_and(|i| i.expired(now)),
            Answer::Page(page) => page.items.iter().any(|i| i.expired(now)),
        }
    }
}

#[derive(Debug, Default)]
struct Kept {
    version: u128,
    bytes: usize,
    answers: HashMap<Lookup, (Answer, usize)>,
}

/// Reads remembered under one data version.
#[derive(Debug, Default)]
pub(crate) struct ReadCache {
    kept: Mutex<Kept>,
}

impl ReadCache {
    /// The answer to `lookup` read under `version`, if one is kept and nothing in it has
    /// expired by `now`. A version other than the kept one forgets everything kept.
    pub(crate) fn find(&self, version: u128, lookup: &Lookup, now: i64) -> Option<Answer> {
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        if kept.version != version {
            kept.version = version;
            kept.bytes = 0;
            kept.answers.clear();
            return None;
        }
        kept.answers
            .get(lookup)
            .map(|(answer, _)| answer)
            .filter(|a| !a.expired(now))
            .cloned()
    }

    /// Keeps `answer` to `lookup`, read after the data version was `version`, weighing
    /// `bytes`; nothing is kept once the version has moved on.
    pub(crate) fn keep(&self, version: u128, lookup: Lookup, answer: Answer, bytes: usize) {
        let bytes = bytes + ENTRY + lookup.weight();
        if bytes > LARGEST {
            return;
        }
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        if kept.version != version {
            return;
        }
        if kept.bytes + bytes > BUDGET || kept.answers.len() >= MOST {
            kept.bytes = 0;
            kept.answers.clear();
        }
        kept.bytes += bytes;
        if let Some((_, old)) = kept.answers.insert(lookup, (answer, bytes)) {
            kept.bytes -= old;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Attrs;

    fn item(sk: &str, expires_at: Option<i64>) -> Item {
        Item {
            pk: "P".into(),
            sk: sk.into(),
            version: 1,
            expires_at,
            data: Attrs::new(),
        }
    }

    #[test]
    fn an_answer_is_only_given_under_the_version_it_was_read_at() {
        let cache = ReadCache::default();
        let get = Lookup::Get(Key::new("P", "A"));
        assert!(cache.find(7, &get, 0).is_none());
        cache.keep(7, get.clone(), Answer::Item(Some(item("A", None))), 10);
        assert!(matches!(
            cache.find(7, &get, 0),
            Some(Answer::Item(Some(_)))
        ));
        // A write committed: the version moved, and the kept answer is forgotten for good.
        assert!(cache.find(8, &get, 0).is_none());
        // An answer read before the version moved is not kept under the new one.
        cache.keep(8, get.clone(), Answer::Item(None), 10);
        cache.keep(7, Lookup::Get(Key::new("P", "B")), Answer::Item(None), 10);
        assert!(cache.find(8, &Lookup::Get(Key::new("P", "B")), 0).is_none());
        assert!(matches!(cache.find(8, &get, 0), Some(Answer::Item(None))));
    }

    #[test]
    fn an_item_that_expired_meanwhile_is_read_again() {
        let cache = ReadCache::default();
        let q = Lookup::Query(Query::partition("P"));
        assert!(cache.find(1, &q, 0).is_none());
        let page = Page {
            items: vec![item("A", None), item("B", Some(100))],
            next: None,
        };
        cache.keep(1, q.clone(), Answer::Page(page), 20);
        assert!(cache.find(1, &q, 99).is_some());
        assert!(cache.find(1, &q, 100).is_none());
    }

    #[test]
    fn answers_of_nothing_count_too() {
        let cache = ReadCache::default();
        assert!(cache.find(1, &Lookup::Get(Key::new("P", "0")), 0).is_none());
        for n in 0..(MOST + 10) {
            cache.keep(
                1,
                Lookup::Get(Key::new("SESSION", n.to_string())),
                Answer::Item(None),
                0,
            );
        }
        let kept = cache.kept.lock().unwrap();
        assert!(kept.answers.len() <= MOST);
        assert!(kept.bytes >= kept.answers.len() * ENTRY);
    }

    #[test]
    fn the_memory_stays_within_its_budget() {
        let cache = ReadCache::default();
        assert!(cache
            .find(1, &Lookup::Get(Key::new("P", "huge")), 0)
            .is_none());
        cache.keep(
            1,
            Lookup::Get(Key::new("P", "huge")),
            Answer::Item(None),
            LARGEST + 1,
        );
        assert!(cache
            .find(1, &Lookup::Get(Key::new("P", "huge")), 0)
            .is_none());
        for n in 0..(BUDGET / LARGEST + 1) {
            cache.keep(
                1,
                Lookup::Get(Key::new("P", n.to_string())),
                Answer::Item(None),
                LARGEST - 1024,
            );
        }
        let kept = cache.kept.lock().unwrap();
        assert!(kept.bytes <= BUDGET && !kept.answers.is_empty());
    }
}
