//! Webhooks: endpoints that hear of the change feed's events, the deliveries waiting for
//! them and every attempt made. Deliveries follow the Standard Webhooks specification; the
//! functions' `webhooks` module signs and sends them, this module keeps them.
//!
//! | Record | `pk` | `sk` |
//! |---|---|---|
//! | endpoint | `WEBHOOKS` | `ENDPOINT#{id}` |
//! | the dispatcher's place in the change feed | `WEBHOOKS` | `DISPATCH` |
//! | attempt (kept [`KEEP_ATTEMPT_DAYS`] days) | `WEBHOOKS` | `ATTEMPT#{endpoint}#{micros:016}#{id}` |
//! | delivery waiting (due at) | `OUTBOX` | `HOOK#{due:012}#{id}` |
//!
//! **From event to delivery.** A dispatcher reads the change feed from its place (so an
//! endpoint hears of events once they have settled, [`super::feed::SETTLE_SECONDS`] after
//! they happened) and writes one delivery per event and endpoint that wants it, then moves
//! its place on. It holds a lease on its place while it works; one that stops halfway
//! leaves its place unmoved, and the next dispatcher writes those deliveries again: delivery
//! is at least once, and `webhook-id` (the event's id) lets receivers drop repeats.
//!
//! **Deliveries are keyed by when they are due**, so the due ones are the first of the
//! partition and a dead endpoint's backlog never hides another's. Taking one moves it
//! [`LEASE_SECONDS`] ahead (a sender that dies leaves it due again then); a failure moves it
//! to its next attempt ([`RETRY_DELAYS`], three days in all). After the last, the message is
//! given up; if the endpoint took nothing else in those three days it is disabled and the
//! business is mailed, in the same transaction.

use std::net::IpAddr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::feed::{Event, Feed};
use super::outbox::Mail;
use super::{conflict, from_item, new_id, to_item, Record, RecordError, RecordResult, Versioned};
use crate::store::{now, Cond, Key, Query, Store, StoreError, Write};

/// How every signing secret starts (Standard Webhooks).
pub const SECRET_PREFIX: &str = "whsec_";

/// Seconds after each failed attempt before the next: immediately, then 5 s, 5 min, 30 min,
/// 2 h, 5 h, 10 h, 14 h, 20 h and 24 h — ten attempts over a little more than three days.
pub const RETRY_DELAYS: &[i64] = &[5, 300, 1800, 7200, 18_000, 36_000, 50_400, 72_000, 86_400];

/// How long a sender holds a delivery it took, in seconds (more than the 10 s timeout).
pub const LEASE_SECONDS: i64 = 60;

/// How long attempts are listed, in days.
pub const KEEP_ATTEMPT_DAYS: i64 = 30;

/// How long a dispatcher holds the feed's place while it fans events out, in seconds.
const DISPATCH_LEASE_SECONDS: i64 = 60;

/// How long a dispatcher fans out before it saves its place (well inside its lease).
const FAN_OUT_SECONDS: u64 = 20;

/// An endpoint that hears of events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Endpoint {
    /// Identifier (`ep_…`).
    pub id: String,
    /// Where deliveries are posted.
    pub url: String,
    /// The event types it hears of: `*`, a type (`issue.filed`) or a family (`issue.*`).
    pub events: Vec<String>,
    /// The signing secret (`whsec_…`), shown once when the endpoint is made.
    pub secret: String,
    /// Unix seconds; it hears of events from then on.
    pub created: i64,
    /// Who is mailed when it is disabled after failing for three days.
    #[serde(default)]
    pub notify: Option<String>,
    /// Whether a plain-HTTP loopback address is allowed (local development only).
    #[serde(default)]
    pub allow_loopback: bool,
    /// When it was disabled (no deliveries are made to it meanwhile), Unix seconds.
    #[serde(default)]
    pub disabled: Option<i64>,
    /// Why it was disabled.
    #[serde(default)]
    pub disabled_reason: Option<String>,
}

impl Endpoint {
    /// Whether it hears of events of type `kind`.
    ///
    /// ```
    /// # use portal_core::records::webhooks::Endpoint;
    /// let mut e = Endpoint {
    ///     id: "ep_1".into(), url: "https://example.com/hook".into(),
    ///     events: vec!["issue.*".into(), "invoice.put".into()], secret: String::new(),
    ///     created: 0, notify: None, allow_loopback: false, disabled: None,
    ///     disabled_reason: None,
    /// };
    /// assert!(e.wants("issue.filed") && e.wants("invoice.put"));
    /// assert!(!e.wants("invoice.paid") && !e.wants("issues.filed"));
    /// e.events = vec!["*".into()];
    /// assert!(e.wants("payment.recorded"));
    /// ```
    pub fn wants(&self, kind: &str) -> bool {
        self.events.iter().any(|p| match p.strip_suffix(".*") {
            _ if p == "*" => true,
            Some(family) => kind
                .strip_prefix(family)
                .is_some_and(|rest| rest.starts_with('.')),
            None => p == kind,
        })
    }
}

impl Record for Endpoint {
    fn key(&self) -> Key {
        Key::new("WEBHOOKS", format!("ENDPOINT#{}", self.id))
    }
}

/// A delivery waiting to be made (or being made).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    /// Identifier.
    pub id: String,
    /// The endpoint it goes to.
    pub endpoint: String,
    /// The message id (`webhook-id`): the event's id, the same on every attempt.
    pub message: String,
    /// The event type.
    pub kind: String,
    /// The body, exactly as signed and sent.
    pub body: String,
    /// Unix seconds when it was made.
    pub created: i64,
    /// When it is due, Unix seconds.
    pub due: i64,
    /// Attempts made so far.
    #[serde(default)]
    pub attempts: u32,
}

impl Record for Delivery {
    fn key(&self) -> Key {
        Key::new("OUTBOX", format!("HOOK#{:012}#{}", self.due, self.id))
    }
}

/// One attempt to deliver, as the endpoint answered it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    /// Identifier.
    pub id: String,
    /// The endpoint.
    pub endpoint: String,
    /// The message id (`webhook-id`).
    pub message: String,
    /// The event type.
    pub kind: String,
    /// When, in microseconds since 1970.
    pub at: i64,
    /// Which attempt of the message this was, from 1.
    pub number: u32,
    /// The HTTP status the endpoint answered, if it answered.
    #[serde(default)]
    pub status: Option<u16>,
    /// What went wrong (no answer, a refused address, a status outside 2xx).
    #[serde(default)]
    pub error: Option<String>,
    /// How long it took, in milliseconds.
    pub millis: u64,
    /// What came of it: `delivered`, `retrying`, `gave up`.
    pub outcome: String,
    /// When the store removes it, Unix seconds.
    pub expires_at: i64,
}

impl Record for Attempt {
    fn key(&self) -> Key {
        Key::new(
            "WEBHOOKS",
            format!("ATTEMPT#{}#{:016}#{}", self.endpoint, self.at, self.id),
        )
    }

    fn expires_at(&self) -> Option<i64> {
        Some(self.expires_at)
    }
}

/// What one attempt came to, as the sender saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The status the endpoint answered, if it answered.
    pub status: Option<u16>,
    /// What went wrong, if anything.
    pub error: Option<String>,
    /// How long it took, in milliseconds.
    pub millis: u64,
}

impl Outcome {
    /// Whether the endpoint took the message (a 2xx answer).
    pub fn ok(&self) -> bool {
        self.error.is_none() && self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// The dispatcher's place in the change feed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Dispatch {
    cursor: String,
    #[serde(default)]
    leased_until: i64,
}

impl Record for Dispatch {
    fn key(&self) -> Key {
        Key::new("WEBHOOKS", "DISPATCH")
    }
}

/// Checks the event types an endpoint asks for, naming the first that is not `*`, a type
/// (`issue.filed`) or a family (`issue.*`).
pub fn check_events(events: &[String]) -> Result<(), String> {
    if events.is_empty() {
        return Err("name the events it hears of, e.g. --events 'issue.*' (or '*')".into());
    }
    let word = |w: &str| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
    for e in events {
        let ok = e == "*"
            || e.split_once('.')
                .is_some_and(|(family, rest)| word(family) && (rest == "*" || word(rest)));
        if !ok {
            return Err(format!(
                "`{e}` is not an event type: give `*`, a type such as `issue.filed` or a family such as `issue.*`"
            ));
        }
    }
    Ok(())
}

/// Whether `ip` is an address on the public internet (not private, loopback, link-local,
/// shared, documentation, multicast or unspecified), where webhooks may go.
///
/// ```
/// # use portal_core::records::webhooks::is_public;
/// for private in ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254",
///                 "100.64.0.1", "0.0.0.0", "::1", "fe80::1", "fd00::1", "::ffff:10.0.0.1",
///                 "::127.0.0.1", "2002:7f00:1::", "2001::1", "fec0::1", "64:ff9b::7f00:1"] {
///     assert!(!is_public(private.parse().unwrap()), "{private}");
/// }
/// assert!(is_public("93.184.216.34".parse().unwrap()));
/// assert!(is_public("2606:2800:220:1::1".parse().unwrap()));
/// ```
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_multicast()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0)
                || (a == 198 && (18..20).contains(&b))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if v6.is_loopback() || v6.is_unspecified() {
                return false;
            }
            // IPv4-mapped and IPv4-compatible forms are judged as the IPv4 address.
            if let Some(v4) = v6.to_ipv4() {
                return is_public(IpAddr::V4(v4));
            }
            let [first, second, ..] = v6.segments();
            !(v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local
                || (first & 0xffc0) == 0xfe80 // link-local
                || (first & 0xffc0) == 0xfec0 // site-local
                || first == 0x2002 // 6to4: an IPv4 address inside
                || first == 0x2001 && (second == 0 || second == 0x0db8) // Teredo, documentation
                || first == 0x0064) // NAT64
        }
    }
}

/// Checks an endpoint's address before it is stored and before each attempt: `https://` and a
/// host (a name, or an address on the public internet); with `allow_loopback`, also
/// `http://127.0.0.1` or `http://[::1]`, for local development. The URL is read as the
/// sender reads it (WHATWG rules: `http://2130706433/` is 127.0.0.1), so no spelling of an
/// address slips past; names are checked when a delivery resolves them.
///
/// ```
/// # use portal_core::records::webhooks::check_url;
/// assert!(check_url("https://crm.example.com/hooks", false).is_ok());
/// for bad in ["http://crm.example.com/", "https://2130706433/", "https://0x7f.1/",
///             "https://127.1/", "https://[::ffff:127.0.0.1]/", "https://localhost/",
///             "https://user:pw@example.com/", "https://169.254.169.254/latest"] {
///     assert!(check_url(bad, false).is_err(), "{bad}");
/// }
/// assert!(check_url("http://127.0.0.1:8080/hook", true).is_ok());
/// assert!(check_url("http://10.0.0.1/hook", true).is_err());
/// ```
pub fn check_url(url: &str, allow_loopback: bool) -> Result<(), String> {
    let bad = |why: &str| Err(format!("`{url}` cannot receive webhooks: {why}"));
    if url.len() > 2000 {
        return bad("it is longer than 2,000 characters");
    }
    let parsed = match url::Url::parse(url) {
        Ok(u) => u,
        Err(e) => return bad(&format!("it is not a URL ({e})")),
    };
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return bad("it carries a user name or password");
    }
    let ip = match parsed.host() {
        None => return bad("it names no host"),
        Some(url::Host::Ipv4(v4)) => Some(IpAddr::V4(v4)),
        Some(url::Host::Ipv6(v6)) => Some(IpAddr::V6(v6)),
        Some(url::Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            if name == "localhost" || name.ends_with(".localhost") {
                return bad("it is a loopback name");
            }
            None
        }
    };
    let loopback = ip.is_some_and(|ip| ip.is_loopback());
    match parsed.scheme() {
        "https" => {}
        "http" if allow_loopback && loopback => {}
        "http" if allow_loopback => return bad("plain http is allowed only to 127.0.0.1 or [::1]"),
        _ => return bad("webhooks go only to https:// addresses"),
    }
    match ip {
        Some(ip) if !(is_public(ip) || allow_loopback && loopback) => {
            bad("it is a private, loopback or link-local address")
        }
        _ => Ok(()),
    }
}

/// A new signing secret: `whsec_` and 24 random bytes in base64.
fn new_secret() -> String {
    use base64::Engine;
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes).expect("the operating system provides random bytes");
    format!(
        "{SECRET_PREFIX}{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

/// The body of the message that tells of `event` (Standard Webhooks' `type`, `timestamp`
/// and `data`; the data is the event as the change feed shows it).
pub fn message_body(event: &Event) -> String {
    let timestamp = chrono::DateTime::from_timestamp_micros(event.at)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default();
    serde_json::json!({
        "type": event.kind,
        "timestamp": timestamp,
        "data": {
            "id": event.id,
            "kind": event.kind,
            "at": event.at,
            "actor": event.actor,
            "customer_id": event.customer_id,
            "subject": event.subject,
            "data": event.data,
        }
    })
    .to_string()
}

/// The webhook endpoints, their deliveries and attempts.
#[derive(Debug, Clone)]
pub struct Webhooks {
    store: Arc<dyn Store>,
}

impl Webhooks {
    /// The repository over `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Webhooks { store }
    }

    /// Adds an endpoint at `url` for `events`; returns it with its secret, which signs every
    /// delivery (2 requests, 3 for the first endpoint).
    pub async fn add(
        &self,
        url: &str,
        events: Vec<String>,
        notify: Option<String>,
        allow_loopback: bool,
    ) -> RecordResult<Endpoint> {
        check_url(url, allow_loopback).map_err(RecordError::Conflict)?;
        check_events(&events).map_err(RecordError::Conflict)?;
        // The dispatcher starts at the moment the first endpoint exists; later endpoints
        // hear of events from their own `created` on.
        let place = Dispatch {
            cursor: Feed::cursor_at(super::feed::now_micros()),
            leased_until: 0,
        };
        match self.store.put(to_item(&place)?, Cond::NotExists).await {
            Ok(_) | Err(StoreError::ConditionFailed { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        let endpoint = Endpoint {
            id: format!("ep_{}", new_id()),
            url: url.to_string(),
            events,
            secret: new_secret(),
            created: now(),
            notify,
            allow_loopback,
            disabled: None,
            disabled_reason: None,
        };
        self.store
            .put(to_item(&endpoint)?, Cond::NotExists)
            .await
            .map_err(|e| conflict(e, "an endpoint with that id exists"))?;
        Ok(endpoint)
    }

    /// Every endpoint, oldest first (1 request per 1,000).
    pub async fn list(&self) -> RecordResult<Vec<Endpoint>> {
        let mut out = Vec::new();
        let mut after = None;
        loop {
            let page = self
                .store
                .query(
                    &Query::partition("WEBHOOKS")
                        .prefix("ENDPOINT#")
                        .limit(1000)
                        .after(after),
                )
                .await?;
            for item in page.items {
                match from_item::<Endpoint>(&self.store.name(), item) {
                    Ok(e) => out.push(e.record),
                    Err(e) => tracing::error!("webhooks: an endpoint is unreadable: {e}"),
                }
            }
            match page.next {
                Some(n) => after = Some(n),
                None => break,
            }
        }
        out.sort_by_key(|e| e.created);
        Ok(out)
    }

    /// The endpoint `id` (1 request).
    pub async fn get(&self, id: &str) -> RecordResult<Option<Versioned<Endpoint>>> {
        let key = Key::new("WEBHOOKS", format!("ENDPOINT#{id}"));
        match self.store.get(&key).await? {
            Some(item) => Ok(Some(from_item(&self.store.name(), item)?)),
            None => Ok(None),
        }
    }

    async fn found(&self, id: &str) -> RecordResult<Versioned<Endpoint>> {
        self.get(id)
            .await?
            .ok_or_else(|| RecordError::NotFound(format!("endpoint {id}")))
    }

    /// Removes the endpoint `id`; its waiting deliveries are dropped as they come due
    /// (2 requests).
    pub async fn remove(&self, id: &str) -> RecordResult<Endpoint> {
        let found = self.found(id).await?;
        self.store
            .delete(&found.record.key(), Cond::Version(found.version))
            .await
            .map_err(|e| conflict(e, format!("endpoint {id} changed meanwhile; try again")))?;
        Ok(found.record)
    }

    /// Disables the endpoint `id` (with `reason`) or, with `None`, enables it again
    /// (2 requests).
    pub async fn set_disabled(&self, id: &str, reason: Option<String>) -> RecordResult<Endpoint> {
        let found = self.found(id).await?;
        let mut e = found.record;
        e.disabled = reason.as_ref().map(|_| now());
        e.disabled_reason = reason;
        self.store
            .put(to_item(&e)?, Cond::Version(found.version))
            .await
            .map_err(|err| conflict(err, format!("endpoint {id} changed meanwhile; try again")))?;
        Ok(e)
    }

    /// The latest `limit` attempts to reach endpoint `id`, newest first (1 request).
    pub async fn attempts(&self, id: &str, limit: usize) -> RecordResult<Vec<Attempt>> {
        let page = self
            .store
            .query(
                &Query::partition("WEBHOOKS")
                    .prefix(format!("ATTEMPT#{id}#"))
                    .limit(limit)
                    .descending(),
            )
            .await?;
        let name = self.store.name();
        let t = now();
        let mut out = Vec::new();
        for item in page.items {
            if !item.expired(t) {
                out.push(from_item::<Attempt>(&name, item)?.record);
            }
        }
        Ok(out)
    }

    /// Reads up to `limit` settled events after the dispatcher's place and writes a delivery
    /// for each endpoint that wants one; returns how many deliveries it wrote. Does nothing
    /// while another dispatcher holds the place, or when there is no endpoint (a few
    /// requests, and 1 per delivery).
    pub async fn fan_out(&self, limit: usize) -> RecordResult<usize> {
        let started = std::time::Instant::now();
        let key = Key::new("WEBHOOKS", "DISPATCH");
        let name = self.store.name();
        let Some(item) = self.store.get(&key).await? else {
            return Ok(0);
        };
        let found = from_item::<Dispatch>(&name, item)?;
        let t = now();
        if found.record.leased_until > t {
            return Ok(0);
        }
        let mut place = found.record;
        place.leased_until = t + DISPATCH_LEASE_SECONDS;
        let version = match self
            .store
            .put(to_item(&place)?, Cond::Version(found.version))
            .await
        {
            Ok(v) => v,
            Err(StoreError::ConditionFailed { .. }) => return Ok(0),
            Err(e) => return Err(e.into()),
        };
        let endpoints: Vec<Endpoint> = self
            .list()
            .await?
            .into_iter()
            .filter(|e| e.disabled.is_none())
            .collect();
        let page = Feed::new(self.store.clone())
            .read(Some(&place.cursor), None, limit)
            .await?;
        let mut written = 0;
        let mut cursor = page.cursor.clone();
        let mut done: Option<&Event> = None;
        for event in &page.events {
            // Well inside the lease: stop after a whole event, and go on from there next time.
            if started.elapsed().as_secs() >= FAN_OUT_SECONDS {
                cursor = done.map_or(place.cursor.clone(), Feed::cursor_after);
                break;
            }
            let mut body = None;
            for endpoint in &endpoints {
                if !endpoint.wants(&event.kind) || event.at / 1_000_000 < endpoint.created {
                    continue;
                }
                let body = body.get_or_insert_with(|| message_body(event)).clone();
                let delivery = Delivery {
                    id: new_id(),
                    endpoint: endpoint.id.clone(),
                    message: event.id.clone(),
                    kind: event.kind.clone(),
                    body,
                    created: now(),
                    due: now(),
                    attempts: 0,
                };
                self.store.put(to_item(&delivery)?, Cond::NotExists).await?;
                written += 1;
            }
            done = Some(event);
        }
        place.cursor = cursor;
        place.leased_until = 0;
        match self
            .store
            .put(to_item(&place)?, Cond::Version(version))
            .await
        {
            // Another dispatcher took over after this one's lease ran out: it writes these
            // events' deliveries again, which receivers drop by their id.
            Ok(_) | Err(StoreError::ConditionFailed { .. }) => Ok(written),
            Err(e) => Err(e.into()),
        }
    }

    /// Queues a `webhook.test` message to endpoint `id` now, whatever events it hears of
    /// (1 request).
    pub async fn queue_test(&self, endpoint: &Endpoint) -> RecordResult<Delivery> {
        let event = Event::new(
            "webhook.test",
            "admin",
            None,
            format!("endpoint {}", endpoint.id),
            serde_json::json!({ "url": endpoint.url }),
        );
        let delivery = Delivery {
            id: new_id(),
            endpoint: endpoint.id.clone(),
            message: event.id.clone(),
            kind: event.kind.clone(),
            body: message_body(&event),
            created: now(),
            due: now(),
            attempts: 0,
        };
        self.store.put(to_item(&delivery)?, Cond::NotExists).await?;
        Ok(delivery)
    }

    /// Takes up to `limit` due deliveries, moving each [`LEASE_SECONDS`] ahead so that no
    /// other sender takes it meanwhile; one that cannot be read is logged and left (1
    /// request, and 1 per delivery taken).
    pub async fn take_due(&self, limit: usize) -> RecordResult<Vec<Delivery>> {
        let t = now();
        let page = self
            .store
            .query(
                &Query::partition("OUTBOX")
                    .between("HOOK#", format!("HOOK#{t:012}#~"))
                    .limit(limit),
            )
            .await?;
        let name = self.store.name();
        let mut taken = Vec::new();
        for item in page.items {
            let key = item.key();
            match from_item::<Delivery>(&name, item) {
                Ok(found) => taken.extend(self.lease(found, t).await?),
                Err(e) => {
                    tracing::error!("webhooks: {key} is unreadable and left where it is: {e}")
                }
            }
        }
        Ok(taken)
    }

    /// Takes `delivery` alone, if it is still waiting (`portal admin webhooks test`)
    /// (2 requests).
    pub async fn take_one(&self, delivery: &Delivery) -> RecordResult<Option<Delivery>> {
        match self.store.get(&delivery.key()).await? {
            Some(item) => {
                let found = from_item::<Delivery>(&self.store.name(), item)?;
                self.lease(found, now()).await
            }
            None => Ok(None),
        }
    }

    /// Moves `found` [`LEASE_SECONDS`] ahead of `t`, unless another sender did first.
    async fn lease(&self, found: Versioned<Delivery>, t: i64) -> RecordResult<Option<Delivery>> {
        let mut moved = found.record.clone();
        moved.due = t + LEASE_SECONDS;
        let writes = vec![
            Write::Delete(found.record.key(), Cond::Version(found.version)),
            Write::Put(to_item(&moved)?, Cond::NotExists),
        ];
        match self.store.transact(writes).await {
            Ok(()) => Ok(Some(moved)),
            Err(StoreError::ConditionFailed { .. } | StoreError::TransactionCancelled { .. }) => {
                Ok(None)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Puts a taken delivery back, due in `seconds`, without counting an attempt (its
    /// endpoint failed another message moments ago) (1 transaction).
    pub async fn defer(&self, delivery: &Delivery, seconds: i64) -> RecordResult<()> {
        let mut later = delivery.clone();
        later.id = new_id();
        later.due = now() + seconds;
        self.store
            .transact(vec![
                Write::Delete(delivery.key(), Cond::Exists),
                Write::Put(to_item(&later)?, Cond::NotExists),
            ])
            .await
            .map_err(|e| conflict(e, "the delivery was taken by another sender"))
    }

    /// Records how an attempt to deliver `delivery` to `endpoint` went: a delivered one is
    /// removed; a failed one waits for its next attempt, or after the last the endpoint is
    /// disabled and its `notify` address mailed (1 transaction). Returns the attempt.
    pub async fn attempted(
        &self,
        delivery: &Delivery,
        endpoint: &Versioned<Endpoint>,
        outcome: &Outcome,
    ) -> RecordResult<Attempt> {
        let number = delivery.attempts + 1;
        let delay = RETRY_DELAYS.get(delivery.attempts as usize).copied();
        let at = super::feed::now_micros();
        let mut attempt = Attempt {
            id: new_id(),
            endpoint: endpoint.record.id.clone(),
            message: delivery.message.clone(),
            kind: delivery.kind.clone(),
            at,
            number,
            status: outcome.status,
            error: outcome.error.clone(),
            millis: outcome.millis,
            outcome: "delivered".into(),
            expires_at: at / 1_000_000 + KEEP_ATTEMPT_DAYS * 86_400,
        };
        let mut writes = vec![Write::Delete(delivery.key(), Cond::Exists)];
        if !outcome.ok() {
            match delay {
                Some(delay) => {
                    attempt.outcome = "retrying".into();
                    let mut again = delivery.clone();
                    again.id = new_id();
                    again.attempts = number;
                    again.due = now() + delay;
                    writes.push(Write::Put(to_item(&again)?, Cond::NotExists));
                }
                None if self.delivered_lately(&endpoint.record.id).await? => {
                    // The endpoint takes other messages: this one is given up, the
                    // endpoint stays.
                    attempt.outcome = "gave up".into();
                }
                None => {
                    attempt.outcome = "gave up".into();
                    let mut e = endpoint.record.clone();
                    let reason = format!(
                        "{} attempts over three days failed; the last: {}",
                        number,
                        outcome.error.as_deref().unwrap_or("no answer")
                    );
                    e.disabled = Some(now());
                    e.disabled_reason = Some(reason.clone());
                    writes.push(Write::Put(to_item(&e)?, Cond::Version(endpoint.version)));
                    if let Some(to) = &e.notify {
                        let mail = Mail::new(
                            to,
                            "A webhook endpoint was disabled",
                            format!(
                                "The webhook endpoint {id} ({url}) is disabled: {reason}.\n\nNo more events are sent to it. When it works again, enable it with\n\n    portal admin webhooks enable {id}\n\nand list what was tried with\n\n    portal admin webhooks attempts {id}\n",
                                id = e.id,
                                url = e.url,
                            ),
                        );
                        writes.push(Write::Put(to_item(&mail)?, Cond::NotExists));
                    }
                }
            }
        }
        writes.push(Write::Put(to_item(&attempt)?, Cond::NotExists));
        self.store
            .transact(writes)
            .await
            .map_err(|e| conflict(e, "the delivery or its endpoint changed meanwhile"))?;
        Ok(attempt)
    }

    /// Whether endpoint `id` took any message in the last three days (1 request).
    async fn delivered_lately(&self, id: &str) -> RecordResult<bool> {
        let since = (now() - 3 * 86_400) * 1_000_000;
        Ok(self
            .attempts(id, 200)
            .await?
            .iter()
            .any(|a| a.outcome == "delivered" && a.at >= since))
    }

    /// Drops a delivery whose endpoint is gone or disabled (1 request).
    pub async fn drop_delivery(&self, delivery: &Delivery) -> RecordResult<()> {
        self.store.delete(&delivery.key(), Cond::None).await?;
        Ok(())
    }
}
