//! What readers tell the people who write the knowledge base: "Was this helpful?" answers on
//! articles, and searches that found nothing.
//!
//! | Record | `pk` | `sk` |
//! |---|---|---|
//! | [`ArticleFeedback`] | `KB#<article>` | `FEEDBACK#<id>` |
//! | the same answer, filed by week | `FEEDBACK#<week>` | `<article>#<id>` |
//! | [`SearchMiss`] (a counter) | `SEARCHMISS#<week>` | the words, normalised |
//! | how many misses a week recorded (a counter) | `SEARCHMISS#<week>#total` | `TOTAL` |
//!
//! `<week>` is the Monday of the week (UTC) in days since 1970 ([`week_of`]). The copies by
//! week are written in the same transaction as the answer and, like the misses, expire after
//! [`KEEP_WEEKS`] weeks: the desk's insight reads the last few weeks in one query each,
//! whatever the number of articles.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{from_item, to_item, Record, RecordResult};
use crate::store::{now, Cond, Item, Key, Query, Store, StoreResult, Write};

/// How many weeks the copies by week and the search misses are kept.
pub const KEEP_WEEKS: i64 = 13;

/// Most searches that found nothing recorded in a week: past it, misses are still answered
/// but not recorded, so a flood of made-up searches cannot grow the store or the desk's
/// insight without bound.
pub const MISSES_PER_WEEK: i64 = 5000;

/// Most items read from one week's partition for the insight (5 queries).
const ITEMS_PER_WEEK: usize = 5000;

/// The longest search, in characters, that is recorded as a miss (longer ones are not what
/// people type).
pub const MAX_MISS_CHARS: usize = 100;

/// The first day (Monday, UTC) of the week holding Unix time `t`, in days since 1970.
///
/// ```
/// use portal_core::records::feedback::week_of;
/// // Monday 30 November 2026, 00:00 UTC, and the Sunday evening after it.
/// let monday = 1_795_996_800;
/// assert_eq!(week_of(monday) * 86_400, monday);
/// assert_eq!(week_of(monday + 7 * 86_400 - 60) * 86_400, monday);
/// assert_eq!(week_of(monday - 1) * 86_400, monday - 7 * 86_400);
/// ```
pub fn week_of(t: i64) -> i64 {
    let day = t.div_euclid(86_400);
    // 1 January 1970 was a Thursday: three days after a Monday.
    day - (day + 3).rem_euclid(7)
}

/// When records filed under the week starting on day `week` expire.
fn expiry_of(week: i64) -> i64 {
    (week + 7 * (KEEP_WEEKS + 1)) * 86_400
}

/// One reader's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArticleFeedback {
    /// The article's slug.
    pub article: String,
    /// Time-ordered identifier.
    pub id: String,
    /// Whether the article helped.
    pub helpful: bool,
    /// What the reader added, if anything.
    #[serde(default)]
    pub comment: Option<String>,
    /// Unix seconds.
    pub created: i64,
}

impl Record for ArticleFeedback {
    fn key(&self) -> Key {
        Key::new(
            format!("KB#{}", self.article),
            format!("FEEDBACK#{}", self.id),
        )
    }
}

impl ArticleFeedback {
    /// The writes that store this answer — under its article, and a copy under its week for
    /// the desk's insight — to go into one transaction with whatever else the caller writes.
    pub fn writes(&self) -> StoreResult<Vec<Write>> {
        let item = to_item(self)?;
        let week = week_of(self.created);
        let copy = Item::new(
            format!("FEEDBACK#{week}"),
            format!("{}#{}", self.article, self.id),
            item.data.clone(),
        )
        .expiring(expiry_of(week));
        Ok(vec![
            Write::Put(item, Cond::NotExists),
            Write::Put(copy, Cond::NotExists),
        ])
    }
}

/// A search that found nothing, and how often it was made.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchMiss {
    /// The words, lower case, single-spaced.
    pub words: String,
    /// How many times, over the weeks read.
    pub count: i64,
}

/// One article's answers over the weeks read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ArticleScore {
    /// The article's slug.
    pub article: String,
    /// Answers that it helped.
    pub helpful: usize,
    /// Answers that it did not.
    pub unhelpful: usize,
    /// The comments, newest first.
    pub comments: Vec<ArticleFeedback>,
}

impl ArticleScore {
    /// The share of answers that it helped, in per cent, rounded down.
    pub fn helpful_percent(&self) -> usize {
        (self.helpful * 100)
            .checked_div(self.helpful + self.unhelpful)
            .unwrap_or(0)
    }
}

/// Reads and records what readers tell the writers.
#[derive(Debug, Clone)]
pub struct ReaderSignals {
    store: Arc<dyn Store>,
}

impl ReaderSignals {
    /// Over `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        ReaderSignals { store }
    }

    /// Records one search for `words` that found nothing (2 requests); returns whether it was
    /// recorded. Empty searches, ones longer than
    /// [`MAX_MISS_CHARS`], and any past [`MISSES_PER_WEEK`] in a week are not.
    pub async fn record_miss(&self, words: &str) -> RecordResult<bool> {
        let words = words.split_whitespace().collect::<Vec<_>>().join(" ");
        let words = words.to_lowercase();
        if words.is_empty() || words.chars().count() > MAX_MISS_CHARS {
            return Ok(false);
        }
        let week = week_of(now());
        let total = self
            .store
            .increment(
                &Key::new(format!("SEARCHMISS#{week}#total"), "TOTAL"),
                "count",
                1,
                Some(expiry_of(week)),
            )
            .await?;
        if total > MISSES_PER_WEEK {
            return Ok(false);
        }
        self.store
            .increment(
                &Key::new(format!("SEARCHMISS#{week}"), words),
                "count",
                1,
                Some(expiry_of(week)),
            )
            .await?;
        Ok(true)
    }

    /// The searches that found nothing over the last `weeks` weeks (this one included), the
    /// most frequent first, at most `limit` (a query per week and 1,000 items).
    pub async fn misses(&self, weeks: i64, limit: usize) -> RecordResult<Vec<SearchMiss>> {
        let mut counts: BTreeMap<String, i64> = BTreeMap::new();
        for item in self.weeks_of("SEARCHMISS", weeks).await? {
            let count = item.data.get("count").and_then(|c| c.as_i64()).unwrap_or(0);
            *counts.entry(item.sk).or_default() += count;
        }
        let mut misses: Vec<SearchMiss> = counts
            .into_iter()
            .map(|(words, count)| SearchMiss { words, count })
            .collect();
        misses.sort_by(|a, b| b.count.cmp(&a.count).then(a.words.cmp(&b.words)));
        misses.truncate(limit);
        Ok(misses)
    }

    /// Each article's answers over the last `weeks` weeks (this one included), the least
    /// helpful first (a query per week and 1,000 answers; at most 5,000 answers a week are
    /// read).
    pub async fn scores(&self, weeks: i64) -> RecordResult<Vec<ArticleScore>> {
        let name = self.store.name();
        let mut per: BTreeMap<String, ArticleScore> = BTreeMap::new();
        for item in self.weeks_of("FEEDBACK", weeks).await? {
            let answer = from_item::<ArticleFeedback>(&name, item)?.record;
            let score = per
                .entry(answer.article.clone())
                .or_insert_with(|| ArticleScore {
                    article: answer.article.clone(),
                    helpful: 0,
                    unhelpful: 0,
                    comments: Vec::new(),
                });
            if answer.helpful {
                score.helpful += 1;
            } else {
                score.unhelpful += 1;
            }
            if answer.comment.is_some() {
                score.comments.push(answer);
            }
        }
        let mut scores: Vec<ArticleScore> = per.into_values().collect();
        for s in &mut scores {
            s.comments.sort_by_key(|c| std::cmp::Reverse(c.created));
        }
        scores.sort_by(|a, b| {
            a.helpful_percent()
                .cmp(&b.helpful_percent())
                .then(b.unhelpful.cmp(&a.unhelpful))
                .then(a.article.cmp(&b.article))
        });
        Ok(scores)
    }

    /// The items of the last `weeks` week partitions named `prefix`, at most
    /// [`ITEMS_PER_WEEK`] of each.
    async fn weeks_of(&self, prefix: &str, weeks: i64) -> RecordResult<Vec<Item>> {
        let this = week_of(now());
        let mut items = Vec::new();
        for k in 0..weeks.clamp(1, KEEP_WEEKS) {
            let mut cursor = None;
            for _ in 0..ITEMS_PER_WEEK / 1000 {
                let page = self
                    .store
                    .query(
                        &Query::partition(format!("{prefix}#{}", this - 7 * k))
                            .limit(1000)
                            .after(cursor),
                    )
                    .await?;
                items.extend(page.items);
                match page.next {
                    Some(c) => cursor = Some(c),
                    None => break,
                }
            }
        }
        Ok(items)
    }
}
