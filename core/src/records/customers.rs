//! Customer accounts, their contacts, and logins (one per e-mail address).

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{conflict, email_key, from_item, to_item, Record, RecordResult, Repo, Versioned};
use crate::store::{Cond, Key, Query, Store, Write};

/// A customer account: a business or person the portal serves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    /// Identifier.
    pub id: String,
    /// Customer number the business uses, e.g. `C-1042`.
    pub number: String,
    /// Name.
    pub name: String,
    /// Main e-mail address.
    pub email: String,
    /// Phone numbers.
    #[serde(default)]
    pub phones: Vec<String>,
    /// Postal address lines.
    #[serde(default)]
    pub address: Vec<String>,
    /// Account balance in minor units (pence): invoiced minus paid.
    #[serde(default)]
    pub balance_cents: i64,
    /// `active`, `on hold`, `closed` …
    pub status: String,
    /// Unix seconds.
    pub created: i64,
}

impl Record for Customer {
    fn key(&self) -> Key {
        Key::new(format!("CUSTOMER#{}", self.id), "PROFILE")
    }
}

/// The listing entry that lets staff page through every customer (`CUSTOMERS` / `CUSTOMER#{id}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerEntry {
    /// Identifier.
    pub id: String,
    /// Name.
    pub name: String,
}

impl Record for CustomerEntry {
    fn key(&self) -> Key {
        Key::new("CUSTOMERS", format!("CUSTOMER#{}", self.id))
    }
}

/// A person at a customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    /// The customer.
    pub customer_id: String,
    /// Identifier.
    pub id: String,
    /// Name.
    pub name: String,
    /// E-mail address.
    pub email: String,
    /// Phone.
    #[serde(default)]
    pub phone: Option<String>,
    /// Role, e.g. "Owner", "Bookkeeper".
    #[serde(default)]
    pub role: Option<String>,
}

impl Record for Contact {
    fn key(&self) -> Key {
        Key::new(
            format!("CUSTOMER#{}", self.customer_id),
            format!("CONTACT#{}", self.id),
        )
    }
}

/// A login: the credentials of one contact. Its key is the e-mail address, so the store
/// itself refuses a second login for the same address.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Login {
    /// E-mail address (as given; the key uses it lower-cased).
    pub email: String,
    /// The customer it belongs to.
    pub customer_id: String,
    /// The contact it belongs to.
    pub contact_id: String,
    /// Argon2id PHC string; `None` until the login is activated.
    #[serde(default)]
    pub password_hash: Option<String>,
    /// Disabled logins cannot log in.
    #[serde(default)]
    pub disabled: bool,
    /// Failed attempts since the last success, for throttling.
    #[serde(default)]
    pub failed_attempts: u32,
    /// Increased by every change of the login's password or address: links mailed for it
    /// (reset, address change) and remembered devices from before the change stop working.
    #[serde(default)]
    pub credentials: u32,
    /// Unix seconds.
    pub created: i64,
    /// What it may see of the account (everything unless staff narrowed it).
    #[serde(default)]
    pub sees: Visibility,
    /// The nonce of its private calendar address, once it has made one (see
    /// [`super::calendar_feeds`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calendar_feed: Option<String>,
}

/// What a login may see of its account in the customer area, beyond its own profile and the
/// account's documents and reports. A login's sessions carry a copy (taken when they start;
/// a change ends them), so each request checks it without another read.
///
/// ```
/// use portal_core::records::customers::Visibility;
/// let all = Visibility::default();
/// assert!(all.all_issues && all.billing && all.projects);
/// // Records written before the setting existed read as seeing everything.
/// let old: Visibility = serde_json::from_str("{}").unwrap();
/// assert_eq!(old, all);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Visibility {
    /// All the account's cases and bugs; `false`: only those this login filed.
    #[serde(default = "yes")]
    pub all_issues: bool,
    /// Invoices, payments, the balance and quotes.
    #[serde(default = "yes")]
    pub billing: bool,
    /// Projects.
    #[serde(default = "yes")]
    pub projects: bool,
}

fn yes() -> bool {
    true
}

impl Default for Visibility {
    fn default() -> Self {
        Visibility {
            all_issues: true,
            billing: true,
            projects: true,
        }
    }
}

impl Login {
    /// A random starting value for [`Login::credentials`], so a login made again for an
    /// address does not honour links or devices of the one before it.
    pub fn fresh_credentials() -> u32 {
        u32::from_str_radix(&super::random_token()[..8], 16).unwrap_or(0)
    }
}

impl Record for Login {
    fn key(&self) -> Key {
        Key::new(format!("LOGIN#{}", email_key(&self.email)), "LOGIN")
    }
}

/// Customers, contacts and logins.
#[derive(Debug, Clone)]
pub struct Customers {
    store: Arc<dyn Store>,
}

/// The most records a customer's partition may hold to be read whole for one page.
pub const SNAPSHOT_MOST: usize = 300;

impl Customers {
    /// The repository over `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Customers { store }
    }

    /// Creates or replaces `contact`, with `extra` in the same transaction; the customer
    /// must exist (1 transaction).
    pub async fn put_contact(&self, contact: &Contact, extra: Vec<Write>) -> RecordResult<()> {
        let mut writes = vec![
            Write::Check(
                Key::new(format!("CUSTOMER#{}", contact.customer_id), "PROFILE"),
                Cond::Exists,
            ),
            Write::Put(to_item(contact)?, Cond::None),
        ];
        writes.extend(extra);
        match self.store.transact(writes).await {
            Ok(()) => Ok(()),
            Err(crate::store::StoreError::TransactionCancelled { failed })
                if failed.iter().any(|(i, _)| *i == 0) =>
            {
                Err(super::RecordError::NotFound(format!(
                    "customer {}",
                    contact.customer_id
                )))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Creates a customer and its listing entry (1 request).
    pub async fn create(&self, customer: &Customer) -> RecordResult<()> {
        self.create_with(customer, Vec::new()).await
    }

    /// As [`Customers::create`], with `extra` writes (an audit entry) in the same
    /// transaction (1 request).
    pub async fn create_with(&self, customer: &Customer, extra: Vec<Write>) -> RecordResult<()> {
        let entry = CustomerEntry {
            id: customer.id.clone(),
            name: customer.name.clone(),
        };
        let mut writes = vec![
            Write::Put(to_item(customer)?, Cond::NotExists),
            Write::Put(to_item(&entry)?, Cond::None),
        ];
        writes.extend(extra);
        self.store
            .transact(writes)
            .await
            .map_err(|e| conflict(e, format!("customer {} exists already", customer.id)))
    }

    /// A customer (1 request).
    pub async fn get(&self, id: &str) -> RecordResult<Option<Versioned<Customer>>> {
        let key = Key::new(format!("CUSTOMER#{id}"), "PROFILE");
        match self.store.get(&key).await? {
            Some(item) => Ok(Some(from_item(&self.store.name(), item)?)),
            None => Ok(None),
        }
    }

    /// Saves a changed customer read at `version` (1 request); a concurrent change in between
    /// is a [`RecordError::Conflict`](super::RecordError::Conflict).
    pub async fn update(&self, customer: &Customer, version: u64) -> RecordResult<u64> {
        self.store
            .put(to_item(customer)?, Cond::Version(version))
            .await
            .map_err(|e| {
                conflict(
                    e,
                    format!(
                        "customer {} was changed meanwhile; reload and try again",
                        customer.id
                    ),
                )
            })
    }

    /// Saves a changed customer read at `version` with its listing entry and `extra` writes
    /// (an audit entry) in one transaction (1 request); a concurrent change in between is a
    /// [`RecordError::Conflict`](super::RecordError::Conflict).
    pub async fn update_with(
        &self,
        customer: &Customer,
        version: u64,
        extra: Vec<Write>,
    ) -> RecordResult<()> {
        let entry = CustomerEntry {
            id: customer.id.clone(),
            name: customer.name.clone(),
        };
        let mut writes = vec![
            Write::Put(to_item(customer)?, Cond::Version(version)),
            Write::Put(to_item(&entry)?, Cond::None),
        ];
        writes.extend(extra);
        self.store.transact(writes).await.map_err(|e| {
            conflict(
                e,
                format!(
                    "customer {} was changed meanwhile; reload and try again",
                    customer.id
                ),
            )
        })
    }

    /// A page of customers in id order (1 request).
    pub async fn list(
        &self,
        limit: usize,
        cursor: Option<crate::store::Cursor>,
    ) -> RecordResult<(Vec<CustomerEntry>, Option<crate::store::Cursor>)> {
        let page = self
            .store
            .query(
                &Query::partition("CUSTOMERS")
                    .prefix("CUSTOMER#")
                    .limit(limit)
                    .after(cursor),
            )
            .await?;
        let name = self.store.name();
        let entries = page
            .items
            .into_iter()
            .map(|i| from_item(&name, i).map(|v| v.record))
            .collect::<Result<_, _>>()?;
        Ok((entries, page.next))
    }

    /// A store that answers every read of `customer_id`'s partition — the account, its
    /// contacts, invoices, payments, quotes, issues, projects, documents and reports — from
    /// one read of it made now (1 request), for pages that show many of them and write
    /// nothing; `None` where that would not pay: on the embedded store, or for a customer
    /// with more than [`SNAPSHOT_MOST`] records (then each kind is read on its own, as much
    /// of it as the page shows).
    pub async fn snapshot(
        &self,
        customer_id: &str,
    ) -> RecordResult<Option<crate::store::Snapshot>> {
        if !self.store.remote() {
            return Ok(None);
        }
        Ok(crate::store::Snapshot::of_at_most(
            self.store.clone(),
            &format!("CUSTOMER#{customer_id}"),
            SNAPSHOT_MOST,
        )
        .await?)
    }

    /// Adds or replaces a contact (1 request).
    pub async fn save_contact(&self, contact: &Contact) -> RecordResult<()> {
        self.store.put(to_item(contact)?, Cond::None).await?;
        Ok(())
    }

    /// A customer's contacts (1 request for up to 1,000).
    pub async fn contacts(&self, customer_id: &str) -> RecordResult<Vec<Contact>> {
        let repo: Repo<Contact> = Repo::new(self.store.clone());
        Ok(repo
            .list(
                &format!("CUSTOMER#{customer_id}"),
                "CONTACT#",
                1000,
                None,
                false,
            )
            .await?
            .0)
    }

    /// Creates a login; a second login for the same address is a conflict (1 request).
    pub async fn create_login(&self, login: &Login) -> RecordResult<()> {
        self.store
            .put(to_item(login)?, Cond::NotExists)
            .await
            .map(|_| ())
            .map_err(|e| conflict(e, format!("{} already has a login", login.email)))
    }

    /// The login for an e-mail address, in any letter case (1 request).
    pub async fn login(&self, email: &str) -> RecordResult<Option<Versioned<Login>>> {
        match self
            .store
            .get(&Key::new(format!("LOGIN#{}", email_key(email)), "LOGIN"))
            .await?
        {
            Some(item) => Ok(Some(from_item(&self.store.name(), item)?)),
            None => Ok(None),
        }
    }

    /// Saves a changed login read at `version` with `extra` writes (its audit entry) in the
    /// same transaction (1 request).
    pub async fn update_login_with(
        &self,
        login: &Login,
        version: u64,
        extra: Vec<Write>,
    ) -> RecordResult<()> {
        let mut writes = vec![Write::Put(to_item(login)?, Cond::Version(version))];
        writes.extend(extra);
        self.store.transact(writes).await.map_err(|e| {
            conflict(
                e,
                format!("the login {} was changed meanwhile", login.email),
            )
        })
    }

    /// Saves a changed login read at `version` (1 request).
    pub async fn update_login(&self, login: &Login, version: u64) -> RecordResult<u64> {
        self.store
            .put(to_item(login)?, Cond::Version(version))
            .await
            .map_err(|e| {
                conflict(
                    e,
                    format!("the login {} was changed meanwhile", login.email),
                )
            })
    }
}
