//! The mail outbox: an e-mail is a record written in the same transaction as whatever caused
//! it, then delivered (to files locally, through SES in AWS) and removed.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{new_id, to_item, Record, RecordResult, Repo};
use crate::store::{now, Cond, Key, Store};

/// An e-mail waiting to be sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mail {
    /// Identifier.
    pub id: String,
    /// Unix seconds when it was queued.
    pub created: i64,
    /// Recipient address.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub body: String,
    /// Delivery attempts so far.
    #[serde(default)]
    pub attempts: u32,
    /// Not before this time (Unix seconds): failed attempts back off.
    #[serde(default)]
    pub next_attempt: i64,
    /// A sender is working on it until then, so no other sends it too.
    #[serde(default)]
    pub leased_until: i64,
}

impl Mail {
    /// A new mail queued now.
    pub fn new(to: impl Into<String>, subject: impl Into<String>, body: impl Into<String>) -> Mail {
        Mail {
            id: new_id(),
            created: now(),
            to: to.into(),
            subject: subject.into(),
            body: body.into(),
            attempts: 0,
            next_attempt: 0,
            leased_until: 0,
        }
    }
}

impl Record for Mail {
    fn key(&self) -> Key {
        Key::new("OUTBOX", format!("MAIL#{:012}#{}", self.created, self.id))
    }
}

/// The outbox.
#[derive(Debug, Clone)]
pub struct Outbox {
    store: Arc<dyn Store>,
}

impl Outbox {
    /// The repository over `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Outbox { store }
    }

    /// The oldest queued mails, up to `limit`, whether due or not (1 request).
    pub async fn pending(&self, limit: usize) -> RecordResult<Vec<Mail>> {
        let repo: Repo<Mail> = Repo::new(self.store.clone());
        Ok(repo.list("OUTBOX", "MAIL#", limit, None, false).await?.0)
    }

    /// Takes up to `limit` mails that are due and not being sent by anyone else, leasing each
    /// for two minutes so that concurrent senders never send one mail twice (1 request, and
    /// 1 per mail taken).
    pub async fn take_due(&self, limit: usize) -> RecordResult<Vec<Mail>> {
        let t = now();
        let page = self
            .store
            .query(
                &crate::store::Query::partition("OUTBOX")
                    .prefix("MAIL#")
                    .limit(limit),
            )
            .await?;
        let mut taken = Vec::new();
        for item in page.items {
            let found = super::from_item::<Mail>(&self.store.name(), item)?;
            let mut mail = found.record;
            if mail.next_attempt > t || mail.leased_until > t {
                continue;
            }
            mail.leased_until = t + LEASE_SECONDS;
            match self
                .store
                .put(to_item(&mail)?, Cond::Version(found.version))
                .await
            {
                Ok(_) => taken.push(mail),
                Err(crate::store::StoreError::ConditionFailed { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Ok(taken)
    }

    /// Removes a delivered mail (1 request).
    pub async fn delivered(&self, mail: &Mail) -> RecordResult<()> {
        self.store.delete(&mail.key(), Cond::None).await?;
        Ok(())
    }

    /// Records a failed attempt: the mail stays queued and is tried again after a delay that
    /// doubles with each attempt, from 30 seconds up to 6 hours; it is never dropped (1 request).
    pub async fn failed(&self, mail: &Mail) -> RecordResult<()> {
        let mut again = mail.clone();
        again.attempts += 1;
        again.leased_until = 0;
        again.next_attempt = now() + retry_delay(again.attempts);
        self.store.put(to_item(&again)?, Cond::Exists).await?;
        Ok(())
    }
}

/// How long a sender holds a mail it took.
pub const LEASE_SECONDS: i64 = 120;

/// Seconds to wait after the `attempts`-th failure.
///
/// ```
/// use portal_core::records::outbox::retry_delay;
/// assert_eq!(retry_delay(1), 30);
/// assert_eq!(retry_delay(2), 60);
/// assert_eq!(retry_delay(30), 6 * 3600);
/// ```
pub fn retry_delay(attempts: u32) -> i64 {
    (30i64 << attempts.saturating_sub(1).min(20)).min(6 * 3600)
}
