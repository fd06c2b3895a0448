//! Private calendar feeds: the address a login's calendar app subscribes to, since calendar
//! apps cannot log in.
//!
//! | Record | `pk` | `sk` |
//! |---|---|---|
//! | the login a calendar address belongs to | `CUSTOMER#{id}` | `CALFEED#{nonce}` |
//!
//! An address names the customer and a random nonce and carries a signature (made by the
//! functions with the portal's key) over them, the login and its credentials. The nonce
//! finds the login; the login keeps its current nonce ([`Login::calendar_feed`]), so a new
//! address ends the old one; the signature ends it too when the password or the e-mail
//! address changes (the customer area then shows the new one). Nothing stored is the
//! address itself. The pointer lives in the customer's partition, so erasing the customer
//! erases it.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::customers::{Customers, Login};
use super::{random_token, to_item, Record, RecordResult, Repo, Versioned};
use crate::store::{Cond, Key, Store, Write};

/// Points from a calendar address's nonce to its login.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeedPointer {
    /// The customer.
    pub customer_id: String,
    /// The nonce the address carries.
    pub nonce: String,
    /// The login's e-mail address.
    pub email: String,
    /// Unix seconds.
    pub created: i64,
}

impl Record for FeedPointer {
    fn key(&self) -> Key {
        pointer_key(&self.customer_id, &self.nonce)
    }
}

fn pointer_key(customer: &str, nonce: &str) -> Key {
    Key::new(format!("CUSTOMER#{customer}"), format!("CALFEED#{nonce}"))
}

/// The logins' calendar addresses.
#[derive(Clone)]
pub struct CalendarFeeds {
    store: Arc<dyn Store>,
}

impl CalendarFeeds {
    /// The repository over `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        CalendarFeeds { store }
    }

    /// The login whose current address has `nonce` in `customer`, if any (2 requests).
    /// Disabled logins are returned too: the caller decides.
    pub async fn login_of(&self, customer: &str, nonce: &str) -> RecordResult<Option<Login>> {
        let pointers: Repo<FeedPointer> = Repo::new(self.store.clone());
        let Some(pointer) = pointers.get(&pointer_key(customer, nonce)).await? else {
            return Ok(None);
        };
        let login = Customers::new(self.store.clone())
            .login(&pointer.record.email)
            .await?
            .map(|l| l.record)
            .filter(|l| l.customer_id == customer && l.calendar_feed.as_deref() == Some(nonce));
        Ok(login)
    }

    /// Gives `login` (read at its version) a new nonce, so that its old address stops
    /// working, with `extra` (its audit entry) in the same transaction (1 request). Returns
    /// the login as saved.
    pub async fn renew(
        &self,
        login: &Versioned<Login>,
        now: i64,
        extra: Vec<Write>,
    ) -> RecordResult<Login> {
        let mut renewed = login.record.clone();
        let nonce = random_token();
        renewed.calendar_feed = Some(nonce.clone());
        let pointer = FeedPointer {
            customer_id: renewed.customer_id.clone(),
            nonce,
            email: renewed.email.clone(),
            created: now,
        };
        let mut writes = vec![Write::Put(to_item(&pointer)?, Cond::NotExists)];
        if let Some(old) = &login.record.calendar_feed {
            writes.push(Write::Delete(
                pointer_key(&login.record.customer_id, old),
                Cond::None,
            ));
        }
        writes.extend(extra);
        Customers::new(self.store.clone())
            .update_login_with(&renewed, login.version, writes)
            .await?;
        Ok(renewed)
    }

    /// Ends `login`'s address, if it has one (a disabled login's must not come back when it
    /// is enabled again): clears its nonce and gives the write that deletes the pointer, to go
    /// in the transaction that saves the login.
    pub fn end(login: &mut Login) -> Vec<Write> {
        login
            .calendar_feed
            .take()
            .map(|nonce| Write::Delete(pointer_key(&login.customer_id, &nonce), Cond::None))
            .into_iter()
            .collect()
    }

    /// The write that keeps `moved`'s address pointing at it after its e-mail address
    /// changed (nothing when it has none).
    pub fn follow(moved: &Login, now: i64) -> RecordResult<Vec<Write>> {
        let Some(nonce) = &moved.calendar_feed else {
            return Ok(Vec::new());
        };
        let pointer = FeedPointer {
            customer_id: moved.customer_id.clone(),
            nonce: nonce.clone(),
            email: moved.email.clone(),
            created: now,
        };
        Ok(vec![Write::Put(to_item(&pointer)?, Cond::None)])
    }
}
