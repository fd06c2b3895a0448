//! Abuse guards kept in the store, so they hold across every server and Lambda instance:
//! rate limits, idempotent replays, and the key that signs form tokens.
//!
//! | Record | `pk` | `sk` |
//! |---|---|---|
//! | [`Window`] | `LIMIT#<scope>#<hash of subject>` | `W#<window start>` |
//! | [`Replay`] | `IDEM#<hash of scope and key>` | `REPLAY` |
//! | [`Secret`] | `SECRET#<name>` | `SECRET` |

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{from_item, to_item, token_hash, Record, RecordError, RecordResult};
use crate::store::{now, Cond, Key, Store, StoreError};

/// Requests counted in one fixed window of one limit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Window {
    /// The limit's scope and hashed subject (the `pk`).
    pub id: String,
    /// Window start, Unix seconds.
    pub start: i64,
    /// Requests counted.
    pub count: u32,
    /// When the window is forgotten.
    pub expires_at: i64,
}

impl Record for Window {
    fn key(&self) -> Key {
        Key::new(self.id.clone(), format!("W#{}", self.start))
    }
    fn expires_at(&self) -> Option<i64> {
        Some(self.expires_at)
    }
}

/// A rate limit: at most `max` requests per `window` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Requests allowed in one window.
    pub max: u32,
    /// Window length in seconds.
    pub window: i64,
}

/// The current window of `scope` for `subject`: its `pk`, start and key.
fn window_of(scope: &str, subject: &str, window: i64) -> (String, i64, Key) {
    let t = now();
    let start = t - t.rem_euclid(window.max(1));
    let id = format!(
        "LIMIT#{scope}#{}",
        &token_hash(&subject.to_lowercase())[..32]
    );
    let key = Key::new(id.clone(), format!("W#{start}"));
    (id, start, key)
}

/// Rate limits counted in fixed windows in the store (2 requests per counted hit).
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
        let (_, _, key) = window_of(scope, subject, window);
        match self.store.get(&key).await? {
            Some(item) => Ok(from_item::<Window>(&self.store.name(), item)?.record.count),
            None => Ok(0),
        }
    }

    /// Counts one request by `subject` (an IP address, an e-mail address) under `scope`;
    /// `Ok(false)` when the limit is already reached (then nothing is counted).
    ///
    /// ```no_run
    /// # async fn f(store: std::sync::Arc<dyn portal_core::Store>) -> portal_core::records::RecordResult<()> {
    /// use portal_core::records::guards::{Limit, RateLimits};
    /// let ok = RateLimits::new(store).hit("share", "198.51.100.7", Limit { max: 10, window: 3600 }).await?;
    /// # Ok(()) }
    /// ```
    pub async fn hit(&self, scope: &str, subject: &str, limit: Limit) -> RecordResult<bool> {
        let (id, start, key) = window_of(scope, subject, limit.window);
        for _ in 0..20 {
            let (mut window, cond) = match self.store.get(&key).await? {
                Some(item) => {
                    let w = from_item::<Window>(&self.store.name(), item)?;
                    (w.record, Cond::Version(w.version))
                }
                None => (
                    Window {
                        id: id.clone(),
                        start,
                        count: 0,
                        expires_at: start + 2 * limit.window,
                    },
                    Cond::NotExists,
                ),
            };
            if window.count >= limit.max {
                return Ok(false);
            }
            window.count += 1;
            match self.store.put(to_item(&window)?, cond).await {
                Ok(_) => return Ok(true),
                Err(StoreError::ConditionFailed { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(RecordError::Conflict(
            "too many requests at once; try again".into(),
        ))
    }
}

/// The stored answer to a request made with an `Idempotency-Key`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Replay {
    /// Hash of scope and key (the `pk`).
    pub id: String,
    /// Hash of the request body, so a key reused for another request is caught.
    pub fingerprint: String,
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

/// What to do with a request that carries an idempotency key.
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// The first time: answer it, then [`Idempotency::finish`] (or [`Idempotency::release`]).
    New(Replay),
    /// Answered before: send this again.
    Done(Replay),
    /// The first request with this key is still being answered.
    InProgress,
    /// The key was used for a different request.
    Mismatch,
}

/// Idempotency keys: a retried request gets the first answer, and is not carried out twice.
#[derive(Debug, Clone)]
pub struct Idempotency {
    store: Arc<dyn Store>,
}

impl Idempotency {
    /// Keys over `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Idempotency { store }
    }

    /// Claims `key` in `scope` for a request whose body hashes to `fingerprint`
    /// (1 request, 2 when it was claimed before).
    pub async fn claim(&self, scope: &str, key: &str, fingerprint: &str) -> RecordResult<Claim> {
        let replay = Replay {
            id: format!("IDEM#{}", &token_hash(&format!("{scope}\n{key}"))[..40]),
            fingerprint: fingerprint.to_string(),
            status: None,
            headers: Vec::new(),
            body: String::new(),
            expires_at: now() + REPLAY_SECONDS,
        };
        match self.store.put(to_item(&replay)?, Cond::NotExists).await {
            Ok(_) => return Ok(Claim::New(replay)),
            Err(StoreError::ConditionFailed { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        let Some(item) = self.store.get(&replay.key()).await? else {
            // Expired between the two calls: the caller may try again.
            return Ok(Claim::InProgress);
        };
        let earlier = from_item::<Replay>(&self.store.name(), item)?.record;
        Ok(if earlier.fingerprint != fingerprint {
            Claim::Mismatch
        } else if earlier.status.is_none() {
            Claim::InProgress
        } else {
            Claim::Done(earlier)
        })
    }

    /// Stores the answer to a claimed request.
    pub async fn finish(&self, replay: &Replay) -> RecordResult<()> {
        self.store.put(to_item(replay)?, Cond::Exists).await?;
        Ok(())
    }

    /// Gives a claim back (the request was refused and may be sent again, corrected).
    pub async fn release(&self, replay: &Replay) -> RecordResult<()> {
        self.store.delete(&replay.key(), Cond::None).await?;
        Ok(())
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
    Err(RecordError::Conflict(format!(
        "secret {name} could not be read"
    )))
}
