//! Erasing a customer: what it still has open, and removing everything kept under it. Apart
//! from the repositories it reads (customers, quotes, reports, projects, issues, sessions),
//! so none of them depends on another through it.

use std::sync::Arc;

use super::customers::Customers;
use super::{conflict, from_item, Record, RecordResult, Versioned};
use crate::store::{Cond, Key, Store, Write};

/// What [`Erasure::erase`] removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Erased {
    /// Records deleted.
    pub records: usize,
    /// Blob keys of the customer's files, for the caller to remove.
    pub blobs: Vec<String>,
}

/// Erasing customers.
#[derive(Debug, Clone)]
pub struct Erasure {
    store: Arc<dyn Store>,
}

impl Erasure {
    /// Erasure over `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Erasure { store }
    }

    /// What the customer `id` still has open, in words: a balance, open quotes, issues not
    /// resolved or closed, projects not done (1 request per 1,000 records).
    pub async fn open_items(&self, id: &str) -> RecordResult<Vec<String>> {
        use crate::store::Query;
        let name = self.store.name();
        let mut open = Vec::new();
        let mut after = None;
        loop {
            let page = self
                .store
                .query(
                    &Query::partition(format!("CUSTOMER#{id}"))
                        .limit(1000)
                        .after(after),
                )
                .await?;
            for item in page.items {
                let sk = item.sk.clone();
                if sk == "PROFILE" {
                    let c: Versioned<super::customers::Customer> = from_item(&name, item)?;
                    if c.record.balance_cents != 0 {
                        open.push(format!(
                            "a balance of {} (minor units)",
                            c.record.balance_cents
                        ));
                    }
                } else if sk.starts_with("QUOTE#") {
                    let q: Versioned<super::quotes::Quote> = from_item(&name, item)?;
                    if q.record.state == super::quotes::QuoteState::Open {
                        open.push(format!("open quote {}", q.record.number));
                    }
                } else if sk.starts_with("ISSUE#") {
                    let i: Versioned<super::issues::IssueSummary> = from_item(&name, item)?;
                    if !["resolved", "closed"].contains(&i.record.status.as_str()) {
                        open.push(format!("issue {} ({})", i.record.number, i.record.status));
                    }
                } else if sk.starts_with("PROJECT#") {
                    let p: Versioned<super::projects::Project> = from_item(&name, item)?;
                    if !["done", "closed", "cancelled", "completed"]
                        .contains(&p.record.status.as_str())
                    {
                        open.push(format!("project {} ({})", p.record.name, p.record.status));
                    }
                }
            }
            match page.next {
                Some(n) => after = Some(n),
                None => return Ok(open),
            }
        }
    }

    /// Erases the customer `id` and everything kept under it: contacts, their logins and
    /// sessions, invoices, payments, quotes with their comments, projects with their parts,
    /// documents, reports and the index of its issues (the issues themselves stay, as the
    /// business's history). Item by item, the account itself last with `extra` (its audit
    /// entry), so an erasure cut short is finished by running it again. Returns how many
    /// records went and the blob keys of the files that were the customer's, for the caller
    /// to remove.
    pub async fn erase(&self, id: &str, extra: Vec<Write>) -> RecordResult<Erased> {
        use crate::store::Query;
        let pk = format!("CUSTOMER#{id}");
        let name = self.store.name();
        let mut items = Vec::new();
        let mut after = None;
        loop {
            let page = self
                .store
                .query(&Query::partition(&pk).limit(1000).after(after))
                .await?;
            items.extend(page.items);
            match page.next {
                Some(n) => after = Some(n),
                None => break,
            }
        }
        let mut erased = Erased::default();
        for item in &items {
            let sk = item.sk.clone();
            if let Some(project) = sk.strip_prefix("PROJECT#") {
                erased.records += self
                    .erase_partition(&super::projects::children_pk(id, project))
                    .await?;
            } else if let Some(rest) = sk.strip_prefix("QUOTE#") {
                if let Some((_, quote)) = rest.split_once('#') {
                    erased.records += self
                        .erase_partition(&super::quotes::comments_pk(id, quote))
                        .await?;
                }
            } else if sk.starts_with("DOCUMENT#") {
                let d: Versioned<super::reports::SecuredDocument> = from_item(&name, item.clone())?;
                erased.blobs.push(d.record.blob.unwrap_or(d.record.id));
            } else if sk.starts_with("CONTACT#") {
                let c: Versioned<super::customers::Contact> = from_item(&name, item.clone())?;
                if let Some(login) = Customers::new(self.store.clone())
                    .login(&c.record.email)
                    .await?
                {
                    if login.record.customer_id == id {
                        super::sessions::Sessions::new(self.store.clone())
                            .end_all(&login.record.email)
                            .await?;
                        self.store.delete(&login.record.key(), Cond::None).await?;
                        erased.records += 1;
                    }
                }
            }
        }
        for item in items.iter().filter(|i| i.sk != "PROFILE") {
            self.store.delete(&item.key(), Cond::None).await?;
            erased.records += 1;
        }
        let mut writes = vec![
            Write::Delete(Key::new(pk, "PROFILE"), Cond::Exists),
            Write::Delete(
                super::customers::CustomerEntry {
                    id: id.to_string(),
                    name: String::new(),
                }
                .key(),
                Cond::None,
            ),
        ];
        writes.extend(extra);
        self.store
            .transact(writes)
            .await
            .map_err(|e| conflict(e, format!("customer {id} is gone already")))?;
        erased.records += 1;
        Ok(erased)
    }

    /// Deletes every item of partition `pk`; how many.
    async fn erase_partition(&self, pk: &str) -> RecordResult<usize> {
        let mut n = 0;
        loop {
            let page = self
                .store
                .query(&crate::store::Query::partition(pk).limit(1000))
                .await?;
            if page.items.is_empty() {
                return Ok(n);
            }
            for item in page.items {
                self.store.delete(&item.key(), Cond::None).await?;
                n += 1;
            }
        }
    }
}
