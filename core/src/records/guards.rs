//! Abuse guards kept in the store, so they hold across every server and Lambda instance:
//! rate limits, idempotent replays, and the key that signs form tokens.
//!
//! | Record | `pk` | `sk` |
//! |---|---|---|
//! | rate-limit window (`count`) | `LIMIT#<scope>#<hash of subject>` | `W#<window start>` |
//! | [`Replay`] | `IDEM#<hash of scope and key>` | `REPLAY` |
//! | [`Secret`] | `SECRET#<name>` | `SECRET` |

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{from_item, to_item, token_hash, Record, RecordError, RecordResult, Versioned};
use crate::store::{now, Cond, Key, Store, StoreError, StoreResult, Tally, Write};

/// The current window of `scope` for `subject`: its start and key.
fn window_of(scope: &str, subject: &str, window: i64) -> (i64, Key) {
    let t = now();
    let start = t - t.rem_euclid(window.max(1));
    let id = format!(
        "LIMIT#{scope}#{}",
        &token_hash(&subject.to_lowercase())[..32]
    );
    (start, Key::new(id, format!("W#{start}")))
}

/// A rate limit: at most `max` requests per `window` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Requests allowed in one window.
    pub max: u32,
    /// Window length in seconds.
    pub window: i64,
}

/// Rate limits counted in fixed windows in the store, one atomic counter per window
/// (field `count`, 1 request per hit): parallel requests are each counted exactly once, so a
/// burst cannot slip past the limit between a read and a write.
#[derive(Debug, Clone)]
pub struct RateLimits {
    store: Arc<dyn Store>,
}

impl RateLimits {
    /// Limits over `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        RateLimits { store }
    }

    /// How many requests `subject` has made under `scope` in the current window (1 request).
    pub async fn current(&self, scope: &str, subject: &str, window: i64) -> RecordResult<u32> {
        let (_, key) = window_of(scope, subject, window);
        Ok(self
            .store
            .get(&key)
            .await?
            .and_then(|item| item.data.get("count").and_then(|c| c.as_u64()))
            .map_or(0, |c| u32::try_from(c).unwrap_or(u32::MAX)))
    }

    /// Counts one request by `subject` (an IP address, an e-mail address) under `scope`;
    /// `Ok(false)` when it goes past the limit. The request is counted first and judged
    /// after, atomically, so however many arrive at once, no more than `max` are allowed.
    ///
    /// ```no_run
    /// # async fn f(store: std::sync::Arc<dyn portal_core::Store>) -> portal_core::records::RecordResult<()> {
    /// use portal_core::records::guards::{Limit, RateLimits};
    /// let ok = RateLimits::new(store).hit("share", "198.51.100.7", Limit { max: 10, window: 3600 }).await?;
    /// # Ok(()) }
    /// ```
    pub async fn hit(&self, scope: &str, subject: &str, limit: Limit) -> RecordResult<bool> {
        Ok(self.count(scope, subject, limit.window).await? <= limit.max)
    }

    /// Counts one request by `subject` under `scope` and returns how many there have been in
    /// the current window, this one included (1 request).
    pub async fn count(&self, scope: &str, subject: &str, window: i64) -> RecordResult<u32> {
        self.add(scope, subject, window, 1).await
    }

    /// Takes back one request counted with [`RateLimits::count`] (a login that turned out
    /// right is not a failure) (1 request).
    pub async fn forgive(&self, scope: &str, subject: &str, window: i64) -> RecordResult<()> {
        self.add(scope, subject, window, -1).await.map(|_| ())
    }

    async fn add(&self, scope: &str, subject: &str, window: i64, by: i64) -> RecordResult<u32> {
        let (start, key) = window_of(scope, subject, window);
        let count = self
            .store
            .increment(&key, "count", by, Some(start + 2 * window))
            .await?;
        Ok(u32::try_from(count.max(0)).unwrap_or(u32::MAX))
    }

    /// The step that counts `by` requests of `subject` under `scope` in the current window of
    /// `window` seconds, for a transaction: with `at_most`, the transaction fails (and counts
    /// nothing) when the window would pass it. A negative `by` takes requests back.
    pub fn step(scope: &str, subject: &str, window: i64, by: i64, at_most: Option<u32>) -> Write {
        let (start, key) = window_of(scope, subject, window);
        Write::Add(Tally {
            key,
            field: "count".into(),
            by,
            expires_at: Some(start + 2 * window),
            at_most: at_most.map(i64::from),
        })
    }

    /// Counts several [`RateLimits::step`]s at once, all or none (1 request): `true` when
    /// all were counted under their ceilings; `false` when nothing was counted — a ceiling
    /// was reached, a window keeps its count where a ceiling cannot see it (written by an
    /// older portal or an import), or the steps kept colliding with others on the same
    /// counters. On `false` the caller counts one by one ([`RateLimits::count`]), which
    /// judges every case exactly.
    pub async fn count_together(&self, steps: Vec<Write>) -> RecordResult<bool> {
        match self.store.transact(steps).await {
            Ok(()) => Ok(true),
            Err(StoreError::TransactionCancelled { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Seconds until the current window of `window` seconds ends.
    pub fn retry_after(window: i64) -> i64 {
        let t = now();
        window.max(1) - t.rem_euclid(window.max(1))
    }
}

/// The stored answer to a request made with an `Idempotency-Key`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Replay {
    /// Hash of scope and key (the `pk`).
    pub id: String,
    /// Hash of the request body, so a key reused for another request is caught.
    pub fingerprint: String,
    /// Which attempt holds the claim: random, so an attempt that finds the claim already
    /// there (its own write, applied once and answered late) knows it as its own.
    #[serde(default)]
    pub attempt: String,
    /// Until when the attempt holding the claim may still be working (Unix seconds); after
    /// that another attempt may take the claim over.
    #[serde(default)]
    pub lease_until: i64,
    /// `None` while the first request is still being answered.
    #[serde(default)]
    pub status: Option<u16>,
    /// Response headers worth replaying (content type, location).
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    /// Response body.
    #[serde(default)]
    pub body: String,
    /// When it is forgotten.
    pub expires_at: i64,
}

impl Record for Replay {
    fn key(&self) -> Key {
        Key::new(self.id.clone(), "REPLAY")
    }
    fn expires_at(&self) -> Option<i64> {
        Some(self.expires_at)
    }
}

/// How long an answer is kept for replay.
pub const REPLAY_SECONDS: i64 = 24 * 3600;

/// How long an attempt holds a claim before another may take it over: longer than any
/// request may run (a Lambda's timeout is 30 s).
pub const LEASE_SECONDS: i64 = 60;

/// A claim held by this attempt: the record as claimed, at its version.
#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    /// The claim.
    pub replay: Replay,
    /// Its version in the store; every write that settles the claim is conditional on it.
    pub version: u64,
}

/// An answer to keep for replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Headers worth replaying.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: String,
}

impl Pending {
    /// The write that records `answer` as this claim's outcome. Put it in the same
    /// transaction as the work: then the work and "done, and here is the answer" commit
    /// together or not at all, and the transaction fails if the claim was taken over.
    pub fn done(&self, answer: &Answer) -> StoreResult<Write> {
        let mut replay = self.replay.clone();
        replay.status = Some(answer.status);
        replay.headers = answer.headers.clone();
        replay.body = answer.body.clone();
        Ok(Write::Put(to_item(&replay)?, Cond::Version(self.version)))
    }
}

/// What to do with a request that carries an idempotency key.
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// This attempt holds the key: do the work, recording the answer with
    /// [`Pending::done`] in its transaction (or [`Idempotency::finish`] after it), or
    /// [`Idempotency::settle`] when no answer was recorded.
    New(Pending),
    /// Answered before: send this again.
    Done(Replay),
    /// Another attempt with this key is still being answered.
    InProgress,
    /// The key was used for a different request.
    Mismatch,
}

/// What [`Idempotency::claim_counted`] found: the key's claim, and whether the step was
/// counted with it.
#[derive(Debug, Clone, PartialEq)]
pub struct Counted {
    /// What to do with the request.
    pub claim: Claim,
    /// Whether the step was counted.
    pub counted: bool,
}

/// Idempotency keys: a retried request gets the first answer, and is not carried out twice —
/// not even when a store call's outcome was lost (see [`Idempotency::settle`]).
#[derive(Debug, Clone)]
pub struct Idempotency {
    store: Arc<dyn Store>,
}

impl Idempotency {
    /// Keys over `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Idempotency { store }
    }

    /// The record's `pk` for `key` in `scope`.
    fn id(scope: &str, key: &str) -> String {
        format!("IDEM#{}", &token_hash(&format!("{scope}\n{key}"))[..40])
    }

    /// Claims `key` in `scope` for a request whose body hashes to `fingerprint`
    /// (1 request, 2 when it was claimed before, 3 when an abandoned claim is taken over).
    pub async fn claim(&self, scope: &str, key: &str, fingerprint: &str) -> RecordResult<Claim> {
        let replay = Self::attempt(scope, key, fingerprint);
        match self.store.put(to_item(&replay)?, Cond::NotExists).await {
            Ok(version) => return Ok(Claim::New(Pending { replay, version })),
            Err(StoreError::ConditionFailed { .. }) => {}
            Err(e) => {
                // The claim may have been written with its answer lost: give it back if so,
                // rather than leave the key blocked until the lease runs out.
                self.abandon(&replay).await;
                return Err(e.into());
            }
        }
        Ok(self.judge(replay).await?.0)
    }

    /// A new attempt's claim on `key` in `scope`.
    fn attempt(scope: &str, key: &str, fingerprint: &str) -> Replay {
        let t = now();
        Replay {
            id: Self::id(scope, key),
            fingerprint: fingerprint.to_string(),
            attempt: super::random_token(),
            lease_until: t + LEASE_SECONDS,
            status: None,
            headers: Vec::new(),
            body: String::new(),
            expires_at: t + REPLAY_SECONDS,
        }
    }

    /// What to do when the claim `replay` could not be written because one was there: the
    /// claim, and whether the one there is this attempt's own (written by a call whose
    /// answer was lost, then retried).
    async fn judge(&self, replay: Replay) -> RecordResult<(Claim, bool)> {
        let Some(item) = self.store.get(&replay.key()).await? else {
            // Expired between the two calls: the caller may try again.
            return Ok((Claim::InProgress, false));
        };
        let earlier = from_item::<Replay>(&self.store.name(), item)?;
        if earlier.record.fingerprint != replay.fingerprint {
            return Ok((Claim::Mismatch, false));
        }
        if earlier.record.status.is_some() {
            return Ok((Claim::Done(earlier.record), false));
        }
        if earlier.record.attempt == replay.attempt {
            // Our own claim, applied by a write whose answer was lost and then retried.
            return Ok((
                Claim::New(Pending {
                    replay,
                    version: earlier.version,
                }),
                true,
            ));
        }
        Ok((self.take_over(replay, earlier).await?, false))
    }

    /// Takes over the claim `earlier` once its lease has run out.
    async fn take_over(&self, replay: Replay, earlier: Versioned<Replay>) -> RecordResult<Claim> {
        let t = now();
        // A claim made before leases existed holds one from when it was made.
        let lease_until = match earlier.record.lease_until {
            0 => earlier.record.expires_at - REPLAY_SECONDS + LEASE_SECONDS,
            until => until,
        };
        if lease_until > t {
            return Ok(Claim::InProgress);
        }
        // The attempt that claimed it stopped without settling it (a crash, a timeout): take
        // it over. Its work, if it ever commits, fails on the claim's version.
        match self
            .store
            .put(to_item(&replay)?, Cond::Version(earlier.version))
            .await
        {
            Ok(version) => Ok(Claim::New(Pending { replay, version })),
            Err(StoreError::ConditionFailed { .. }) => {
                // Taken by another attempt — or by this one, its answer lost and retried.
                match self.store.get(&replay.key()).await? {
                    Some(item) => {
                        let now = from_item::<Replay>(&self.store.name(), item)?;
                        Ok(if now.record.attempt == replay.attempt {
                            Claim::New(Pending {
                                replay,
                                version: now.version,
                            })
                        } else {
                            Claim::InProgress
                        })
                    }
                    None => Ok(Claim::InProgress),
                }
            }
            Err(e) => Err(e.into()),
        }
    }

    /// As [`Idempotency::claim`], counting `step` (a [`RateLimits::step`] with a ceiling) in
    /// the same request when the key is new (1 request for new work, as many as `claim` more
    /// otherwise). When the step does not pass (its ceiling, or a window it cannot judge) the
    /// key is claimed alone and `counted` is `false`, for the caller to count apart with
    /// [`RateLimits::count`]; so is a claim found already there, judged as `claim` does.
    pub async fn claim_counted(
        &self,
        scope: &str,
        key: &str,
        fingerprint: &str,
        step: Write,
    ) -> RecordResult<Counted> {
        let replay = Self::attempt(scope, key, fingerprint);
        let claim = Write::Put(to_item(&replay)?, Cond::NotExists);
        match self.store.transact(vec![claim, step]).await {
            // A new item is at version 1.
            Ok(()) => Ok(Counted {
                claim: Claim::New(Pending { replay, version: 1 }),
                counted: true,
            }),
            Err(StoreError::TransactionCancelled { failed })
                if failed.iter().any(|(i, _)| *i == 0) =>
            {
                // A claim is there — this attempt's own when the transaction was applied with
                // its answer lost and retried, and then the step was counted with it.
                let (claim, own) = self.judge(replay).await?;
                Ok(Counted {
                    claim,
                    counted: own,
                })
            }
            Err(StoreError::TransactionCancelled { .. }) => {
                // The step did not pass (its ceiling reached, a window in an older layout,
                // or collisions with others on the same counter): claim alone; the caller
                // counts apart, exactly.
                Ok(Counted {
                    claim: self.claim(scope, key, fingerprint).await?,
                    counted: false,
                })
            }
            Err(e) => {
                self.abandon(&replay).await;
                Err(e.into())
            }
        }
    }

    /// Deletes `replay`'s claim if this attempt holds it and nothing was recorded in it.
    async fn abandon(&self, replay: &Replay) {
        let Ok(Some(item)) = self.store.get(&replay.key()).await else {
            return;
        };
        if let Ok(found) = from_item::<Replay>(&self.store.name(), item) {
            if found.record.attempt == replay.attempt && found.record.status.is_none() {
                let _ = self
                    .store
                    .delete(&replay.key(), Cond::Version(found.version))
                    .await;
            }
        }
    }

    /// Stores the answer to a claimed request whose work was not one transaction with
    /// [`Pending::done`] in it (1 request).
    pub async fn finish(&self, pending: &Pending, answer: &Answer) -> RecordResult<()> {
        match pending.done(answer)? {
            Write::Put(item, cond) => self.store.put(item, cond).await.map(|_| ()),
            _ => unreachable!("Pending::done is a put"),
        }
        .map_err(RecordError::from)
    }

    /// Settles a claim whose request was refused or failed, whatever its failure was — even
    /// one whose outcome is unknown, such as a transaction whose answer was lost. The claim is
    /// given back only if it is still exactly as this attempt made it (1 request); if the
    /// work's transaction committed after all, it carried the answer and changed the claim, so
    /// the claim stays and that answer is returned (2 requests): the request was done, once.
    pub async fn settle(&self, pending: &Pending) -> RecordResult<Option<Replay>> {
        let key = pending.replay.key();
        match self
            .store
            .delete(&key, Cond::Version(pending.version))
            .await
        {
            Ok(()) => Ok(None),
            Err(StoreError::ConditionFailed { .. }) => Ok(match self.store.get(&key).await? {
                Some(item) => {
                    let now = from_item::<Replay>(&self.store.name(), item)?.record;
                    now.status.is_some().then_some(now)
                }
                None => None,
            }),
            Err(e) => Err(e.into()),
        }
    }
}

/// A random secret shared by every instance, made on first use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Secret {
    /// What it is for.
    pub name: String,
    /// 256 random bits, hex.
    pub value: String,
}

impl Record for Secret {
    fn key(&self) -> Key {
        Key::new(format!("SECRET#{}", self.name), "SECRET")
    }
}

/// The secret called `name`, created if there is none yet (1 or 2 requests).
pub async fn secret(store: &Arc<dyn Store>, name: &str) -> RecordResult<Vec<u8>> {
    let key = Key::new(format!("SECRET#{name}"), "SECRET");
    for _ in 0..3 {
        if let Some(item) = store.get(&key).await? {
            let s = from_item::<Secret>(&store.name(), item)?.record;
            return Ok(s.value.into_bytes());
        }
        let fresh = Secret {
            name: name.to_string(),
            value: format!("{}{}", super::random_token(), super::random_token()),
        };
        match store.put(to_item(&fresh)?, Cond::NotExists).await {
            Ok(_) => return Ok(fresh.value.into_bytes()),
            Err(StoreError::ConditionFailed { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(RecordError::Busy(format!(
        "secret {name} could not be read"
    )))
}
