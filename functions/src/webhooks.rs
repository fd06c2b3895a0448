//! Webhook delivery, as the Standard Webhooks specification describes it: each message is a
//! `POST` of JSON with `webhook-id` (the event's id, the same on every attempt),
//! `webhook-timestamp` (the attempt's Unix seconds) and `webhook-signature`
//! (`v1,` and the base64 HMAC-SHA256 of `{id}.{timestamp}.{body}` under the endpoint's secret).
//!
//! A round ([`deliver_from`]) fans the change feed's settled events out into deliveries
//! (`portal_core::records::webhooks`), then sends the due ones, [`CONCURRENCY`] at a time,
//! each given [`TIMEOUT`] to answer with a 2xx. No proxy is used. Redirects are not followed, and an address
//! is resolved only to public ones ([`PublicOnly`]), at every attempt, so a name that later
//! points inside the network (DNS rebinding) is refused. Mail never waits for webhooks:
//! `portal serve` runs the two in separate tasks, and the `mailer` Lambda delivers webhooks
//! only in its scheduled rounds (after their mail), never when the stream brings it mail.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use portal_core::records::webhooks::{
    check_url, is_public, Endpoint, Outcome, Webhooks, SECRET_PREFIX,
};
use portal_core::records::Versioned;
use portal_core::store::Store;

/// How long an endpoint has to answer.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// How many deliveries are in flight at once.
pub const CONCURRENCY: usize = 16;

/// Events fanned out per round.
const BATCH: usize = 200;

/// Signs a message: the `webhook-signature` header's value.
///
/// ```
/// use portal_functions::webhooks::sign;
/// // The example of the Standard Webhooks specification.
/// let signature = sign(
///     "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
///     "msg_p5jXN8AQM9LWM0D4loKWxJek",
///     1614265330,
///     r#"{"test": 2432232314}"#,
/// );
/// assert_eq!(signature.unwrap(), "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
/// ```
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &str) -> Result<String, String> {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let key = b64
        .decode(secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret))
        .map_err(|_| "the endpoint's secret is not base64".to_string())?;
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key)
        .map_err(|_| "the endpoint's secret is empty".to_string())?;
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    Ok(format!("v1,{}", b64.encode(mac.finalize().into_bytes())))
}

/// Resolves names only to addresses on the public internet.
#[derive(Debug, Clone, Copy)]
pub struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found: Vec<std::net::SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<std::net::SocketAddr> =
                found.into_iter().filter(|a| is_public(a.ip())).collect();
            if public.is_empty() {
                return Err(format!(
                    "{host} resolves to no public address (private, loopback and link-local ones are refused)"
                )
                .into());
            }
            Ok(Box::new(public.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// Sends messages to endpoints.
#[derive(Debug, Clone)]
pub struct Sender {
    client: reqwest::Client,
}

impl Default for Sender {
    fn default() -> Self {
        Sender::new()
    }
}

impl Sender {
    /// A sender with a [`TIMEOUT`], no redirects and the [`PublicOnly`] resolver.
    pub fn new() -> Sender {
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            // A proxy would resolve names itself, past the resolver below.
            .no_proxy()
            .dns_resolver(Arc::new(PublicOnly))
            .user_agent(concat!(
                "customer-portal-webhooks/",
                env!("CARGO_PKG_VERSION")
            ))
            .build()
            .expect("a client with these settings can be built");
        Sender { client }
    }

    /// Posts `body` to `endpoint` as message `id`, signed now; what came of it.
    pub async fn send(&self, endpoint: &Endpoint, id: &str, body: &str) -> Outcome {
        let started = Instant::now();
        let millis = |s: Instant| s.elapsed().as_millis() as u64;
        if let Err(e) = check_url(&endpoint.url, endpoint.allow_loopback) {
            return Outcome {
                status: None,
                error: Some(e),
                millis: 0,
            };
        }
        let timestamp = portal_core::store::now();
        let signature = match sign(&endpoint.secret, id, timestamp, body) {
            Ok(s) => s,
            Err(e) => {
                return Outcome {
                    status: None,
                    error: Some(e),
                    millis: 0,
                }
            }
        };
        let sent = self
            .client
            .post(&endpoint.url)
            .header("content-type", "application/json")
            .header("webhook-id", id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body.to_string())
            .send()
            .await;
        match sent {
            Ok(resp) => {
                let status = resp.status().as_u16();
                Outcome {
                    status: Some(status),
                    error: (!resp.status().is_success())
                        .then(|| format!("the endpoint answered {status}")),
                    millis: millis(started),
                }
            }
            Err(e) => Outcome {
                status: None,
                error: Some(describe(&e)),
                millis: millis(started),
            },
        }
    }
}

/// A transport error in a line: what failed and why, without the URL's query.
fn describe(e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "no answer within 10 s"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "the request failed"
    };
    let mut why = String::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        why = s.to_string();
        source = s.source();
    }
    if why.is_empty() {
        what.to_string()
    } else {
        format!("{what}: {why}")
    }
}

/// What a round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    /// Deliveries written from the change feed.
    pub queued: usize,
    /// Messages an endpoint took.
    pub delivered: usize,
    /// Attempts that failed (each waits for its next attempt).
    pub failed: usize,
}

/// One round: fans settled events out and sends what is due, [`CONCURRENCY`] at a time,
/// until nothing is due or `budget` is spent (a batch started before then may run
/// [`TIMEOUT`] longer). Within a round, an endpoint that failed is not tried again: its
/// other messages wait 30 s, without an attempt counted, so a dead endpoint's backlog
/// costs one timeout per round, not one per message.
pub async fn deliver_from(store: &Arc<dyn Store>, sender: &Sender, budget: Duration) -> Round {
    let started = Instant::now();
    let hooks = Webhooks::new(store.clone());
    let mut round = Round::default();
    match hooks.fan_out(BATCH).await {
        Ok(n) => round.queued = n,
        Err(e) => tracing::error!("webhooks: {e}"),
    }
    let mut endpoints: HashMap<String, Option<Versioned<Endpoint>>> = HashMap::new();
    let mut failing: HashSet<String> = HashSet::new();
    while started.elapsed() < budget {
        let due = match hooks.take_due(CONCURRENCY).await {
            Ok(d) if d.is_empty() => break,
            Ok(d) => d,
            Err(e) => {
                tracing::error!("webhooks: {e}");
                break;
            }
        };
        let mut running = tokio::task::JoinSet::new();
        for delivery in due {
            if failing.contains(&delivery.endpoint) {
                if let Err(e) = hooks.defer(&delivery, 30).await {
                    tracing::error!("webhooks: {e}");
                }
                continue;
            }
            if !endpoints.contains_key(&delivery.endpoint) {
                match hooks.get(&delivery.endpoint).await {
                    Ok(found) => {
                        endpoints.insert(delivery.endpoint.clone(), found);
                    }
                    // Left leased: due again in a minute.
                    Err(e) => {
                        tracing::error!("webhooks: {e}");
                        continue;
                    }
                }
            }
            let endpoint = match &endpoints[&delivery.endpoint] {
                Some(e) if e.record.disabled.is_none() => e.clone(),
                _ => {
                    if let Err(e) = hooks.drop_delivery(&delivery).await {
                        tracing::error!("webhooks: {e}");
                    }
                    continue;
                }
            };
            let (hooks, sender) = (hooks.clone(), sender.clone());
            running.spawn(async move {
                let outcome = sender
                    .send(&endpoint.record, &delivery.message, &delivery.body)
                    .await;
                if let Err(e) = hooks.attempted(&delivery, &endpoint, &outcome).await {
                    tracing::error!("webhooks: recording an attempt: {e}");
                }
                if !outcome.ok() {
                    tracing::warn!(
                        "webhook {} to {} failed (attempt {}): {}",
                        delivery.message,
                        endpoint.record.url,
                        delivery.attempts + 1,
                        outcome.error.as_deref().unwrap_or("")
                    );
                }
                (endpoint.record.id, outcome.ok())
            });
        }
        while let Some(done) = running.join_next().await {
            match done {
                Ok((_, true)) => round.delivered += 1,
                Ok((endpoint, false)) => {
                    round.failed += 1;
                    failing.insert(endpoint);
                }
                Err(e) => tracing::error!("webhooks: a delivery stopped: {e}"),
            }
        }
        // An endpoint disabled in this batch is read again in the next.
        endpoints.clear();
    }
    round
}
