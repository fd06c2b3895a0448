//! The change feed: one event for each thing that happened (an issue filed, a reply, a
//! payment recorded …), written in the same transaction as the change itself, and read in
//! order by integrations with a cursor.
//!
//! | Record | `pk` | `sk` |
//! |---|---|---|
//! | event | `FEED#{hours since 1970}` | `{microseconds:016}#{event}` |
//!
//! **Why a reader never misses an event.** Every event is its own item (no counter or other
//! item that every write touches), in the partition of its hour. An event is stamped by the
//! function that writes it, just before its transaction; on AWS a function runs at most 10
//! seconds, so its transaction commits within [`SETTLE_SECONDS`] of the stamp. A reader is
//! shown only events stamped more than [`SETTLE_SECONDS`] ago: by then every event stamped
//! before that moment is committed, so no event can appear behind a cursor that has passed
//! it. The price is the delay: an event is in the feed [`SETTLE_SECONDS`] after it happened.
//! Events are kept [`KEEP_DAYS`] days (the store's expiry removes them after).

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{from_item, new_id, to_item, Record, RecordError, RecordResult};
use crate::store::{Cond, Cursor, Key, Query, Store, StoreResult, Write};

/// How long after it happened an event is shown, in seconds.
pub const SETTLE_SECONDS: i64 = 15;

/// How long events are kept, in days.
pub const KEEP_DAYS: i64 = 35;

/// Most hours one read walks through (so a reader far behind, or a quiet week, costs a
/// bounded number of queries per call; the cursor says where to go on).
const HOURS_PER_READ: i64 = 48;

/// Microseconds since 1970.
pub fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

/// Something that happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Identifier, for de-duplication (delivery is at least once).
    pub id: String,
    /// When, in microseconds since 1970.
    pub at: i64,
    /// What happened, e.g. `issue.filed`, `issue.replied`, `invoice.put`.
    pub kind: String,
    /// Who did it: `visitor`, a login's e-mail, `key:NAME`.
    pub actor: String,
    /// The customer it concerns, if any.
    #[serde(default)]
    pub customer_id: Option<String>,
    /// The record, e.g. `issue KST-2026-000123`.
    pub subject: String,
    /// Enough to act on without reading the record again.
    #[serde(default)]
    pub data: serde_json::Value,
    /// When the store removes it, Unix seconds.
    pub expires_at: i64,
}

impl Event {
    /// An event stamped now.
    pub fn new(
        kind: impl Into<String>,
        actor: impl Into<String>,
        customer_id: Option<String>,
        subject: impl Into<String>,
        data: serde_json::Value,
    ) -> Event {
        let at = now_micros();
        Event {
            id: new_id(),
            at,
            kind: kind.into(),
            actor: actor.into(),
            customer_id,
            subject: subject.into(),
            data,
            expires_at: at / 1_000_000 + KEEP_DAYS * 86_400,
        }
    }

    /// The write that records it (with the change it tells of, in one transaction).
    pub fn write(&self) -> StoreResult<Write> {
        Ok(Write::Put(to_item(self)?, Cond::NotExists))
    }
}

impl Record for Event {
    fn key(&self) -> Key {
        Key::new(
            format!("FEED#{}", self.at / 3_600_000_000),
            format!("{:016}#{}", self.at, self.id),
        )
    }

    fn expires_at(&self) -> Option<i64> {
        Some(self.expires_at)
    }
}

/// Where a reader is: the hour and the last sort key read in it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Position {
    hour: i64,
    after: String,
}

impl Position {
    fn parse(text: &str) -> Option<Position> {
        let (hour, after) = text.split_once('.')?;
        let hour = hour.parse().ok()?;
        let ok = after.is_empty()
            || (after.len() > 17
                && after.as_bytes()[16] == b'#'
                && after[..16].bytes().all(|b| b.is_ascii_digit()));
        ok.then(|| Position {
            hour,
            after: after.to_string(),
        })
    }

    fn text(&self) -> String {
        format!("{}.{}", self.hour, self.after)
    }
}

/// A page of the feed.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedPage {
    /// The events, oldest first.
    pub events: Vec<Event>,
    /// Where to read on from: give it back to get what follows (there is always one; an
    /// empty page means "nothing new yet").
    pub cursor: String,
    /// Whether the reader is at the end for now (later events are still settling).
    pub caught_up: bool,
}

/// The change feed.
#[derive(Debug, Clone)]
pub struct Feed {
    store: Arc<dyn Store>,
}

impl Feed {
    /// The feed over `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Feed { store }
    }

    /// A cursor that reads on from the moment `micros` (microseconds since 1970): what a
    /// reader starting now gives [`Feed::read`] to hear only of what happens next.
    ///
    /// ```
    /// # use portal_core::records::feed::Feed;
    /// assert_eq!(Feed::cursor_at(7_200_000_000), "2.0000007200000000#0");
    /// ```
    pub fn cursor_at(micros: i64) -> String {
        Position {
            hour: micros / 3_600_000_000,
            after: format!("{micros:016}#0"),
        }
        .text()
    }

    /// A cursor that reads on after `event`.
    pub fn cursor_after(event: &Event) -> String {
        Position {
            hour: event.at / 3_600_000_000,
            after: event.key().sk,
        }
        .text()
    }

    /// Up to `limit` events after `cursor` (from the oldest kept when none, or from
    /// `since`, Unix seconds, when given), only those stamped more than
    /// [`SETTLE_SECONDS`] ago (1 request per hour walked, at most 48 a call).
    pub async fn read(
        &self,
        cursor: Option<&str>,
        since: Option<i64>,
        limit: usize,
    ) -> RecordResult<FeedPage> {
        let horizon = now_micros() - SETTLE_SECONDS * 1_000_000;
        let last_hour = horizon / 3_600_000_000;
        let mut at = match cursor.filter(|c| !c.is_empty()) {
            Some(c) => Position::parse(c).ok_or_else(|| {
                RecordError::Conflict("the cursor is not one this feed gave".into())
            })?,
            None => {
                let oldest = now_micros() / 1_000_000 - KEEP_DAYS * 86_400;
                Position {
                    hour: since.unwrap_or(oldest).max(oldest) / 3600,
                    after: String::new(),
                }
            }
        };
        let until = format!("{:016}#~", horizon - 1);
        let mut events = Vec::new();
        let mut walked = 0;
        let name = self.store.name();
        loop {
            if at.hour > last_hour || walked >= HOURS_PER_READ || events.len() >= limit {
                break;
            }
            let query = Query::partition(format!("FEED#{}", at.hour))
                .between("0", until.clone())
                .limit((limit - events.len()).min(1000))
                .after((!at.after.is_empty()).then(|| Cursor::after_sk(&at.after)));
            let page = self.store.query(&query).await?;
            for item in page.items {
                at.after = item.sk.clone();
                events.push(from_item::<Event>(&name, item)?.record);
            }
            if page.next.is_some() {
                continue;
            }
            // This hour is read to the horizon: on to the next, unless it is the last.
            if at.hour < last_hour {
                at = Position {
                    hour: at.hour + 1,
                    after: String::new(),
                };
                walked += 1;
            } else {
                break;
            }
        }
        let caught_up = at.hour >= last_hour && events.len() < limit;
        Ok(FeedPage {
            events,
            cursor: at.text(),
            caught_up,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_strangers_are_refused() {
        let p = Position {
            hour: 493_000,
            after: format!("{:016}#abc", 1_774_800_000_000_000i64),
        };
        assert_eq!(Position::parse(&p.text()), Some(p));
        assert_eq!(
            Position::parse("493000."),
            Some(Position {
                hour: 493_000,
                after: String::new()
            })
        );
        for bad in ["", "x.y", "493000", "493000.12#x", "1.abcdefghijklmnop#x"] {
            assert_eq!(Position::parse(bad), None, "{bad}");
        }
    }
}
