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

    /// The oldest waiting mails, up to `limit` (1 request).
    pub async fn pending(&self, limit: usize) -> RecordResult<Vec<Mail>> {
        let repo: Repo<Mail> = Repo::new(self.store.clone());
        Ok(repo.list("OUTBOX", "MAIL#", limit, None, false).await?.0)
    }

    /// Removes a delivered mail (1 request).
    pub async fn delivered(&self, mail: &Mail) -> RecordResult<()> {
        self.store.delete(&mail.key(), Cond::None).await?;
        Ok(())
    }

    /// Records a failed attempt; the mail stays queued (1 request).
    pub async fn failed(&self, mail: &Mail) -> RecordResult<()> {
        let mut again = mail.clone();
        again.attempts += 1;
        self.store.put(to_item(&again)?, Cond::Exists).await?;
        Ok(())
    }
}
