//! Invoices and payments, kept under the customer so that one query lists them, with the
//! customer's balance updated in the same transaction as each of them.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::customers::Customer;
use super::{conflict, from_item, to_item, Record, RecordError, RecordResult, Repo};
use crate::store::{Cond, Cursor, Key, Store, StoreError, Write};

/// A line of an invoice or quote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Line {
    /// What was sold.
    pub description: String,
    /// How many.
    pub quantity: i64,
    /// Price per unit in minor units, VAT excluded.
    pub unit_cents: i64,
    /// VAT rate in percent.
    pub vat_percent: i64,
}

impl Line {
    /// Net and VAT of the line, in minor units (VAT rounded half up).
    pub fn amounts(&self) -> (i64, i64) {
        let net = self.quantity * self.unit_cents;
        (net, (net * self.vat_percent + 50) / 100)
    }
}

/// An invoice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Invoice {
    /// The customer.
    pub customer_id: String,
    /// Identifier.
    pub id: String,
    /// Invoice number, e.g. `INV-2026-0412`.
    pub number: String,
    /// Issue date, `YYYY-MM-DD`.
    pub date: String,
    /// Due date, `YYYY-MM-DD`.
    pub due: String,
    /// Lines.
    pub lines: Vec<Line>,
    /// `draft` (not shown to the customer), `open`, `paid`, `overdue`, `void`.
    pub status: String,
}

/// The statuses an invoice may have.
pub const INVOICE_STATUSES: &[&str] = &["draft", "open", "paid", "overdue", "void"];

impl Invoice {
    /// What the invoice adds to its customer's balance: its total once issued (open, paid
    /// or overdue), nothing as a draft or void.
    pub fn owed_cents(&self) -> i64 {
        match self.status.as_str() {
            "draft" | "void" => 0,
            _ => self.total_cents(),
        }
    }

    /// Whether the customer sees it.
    pub fn published(&self) -> bool {
        self.status != "draft"
    }

    /// Total including VAT, in minor units.
    pub fn total_cents(&self) -> i64 {
        self.lines
            .iter()
            .map(|l| {
                let (net, vat) = l.amounts();
                net + vat
            })
            .sum()
    }
}

impl Record for Invoice {
    fn key(&self) -> Key {
        Key::new(
            format!("CUSTOMER#{}", self.customer_id),
            format!("INVOICE#{}#{}", self.date, self.id),
        )
    }
}

/// A payment received.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Payment {
    /// The customer.
    pub customer_id: String,
    /// Identifier.
    pub id: String,
    /// Date received, `YYYY-MM-DD`.
    pub date: String,
    /// Amount in minor units.
    pub amount_cents: i64,
    /// How it was paid.
    pub method: String,
    /// The invoice it settles, if one.
    #[serde(default)]
    pub invoice_id: Option<String>,
}

impl Record for Payment {
    fn key(&self) -> Key {
        Key::new(
            format!("CUSTOMER#{}", self.customer_id),
            format!("PAYMENT#{}#{}", self.date, self.id),
        )
    }
}

/// Stores `record`, a customer's dated record (`{KIND}#{date}#{id}`) with the business's
/// `id`, or replaces the one stored under that id (moving it when its date changed), with
/// the claim on the id and `extra` in one transaction; `allowed` may refuse to replace what
/// is stored. The customer must exist. Returns whether it is new; an identical record
/// changes nothing (3 requests and 1 transaction).
pub(crate) async fn put_claimed<R: Record + PartialEq>(
    store: &std::sync::Arc<dyn Store>,
    kind: &str,
    customer_id: &str,
    id: &str,
    record: &R,
    extra: Vec<Write>,
    allowed: impl Fn(&R) -> RecordResult<()>,
) -> RecordResult<bool> {
    let (claim, old) = Billing::new(store.clone())
        .claimed::<R>(customer_id, kind, id)
        .await?;
    if let Some(o) = &old {
        allowed(&o.record)?;
        if o.record == *record {
            return Ok(false);
        }
    }
    let wanted = IdClaim {
        customer_id: customer_id.to_string(),
        kind: kind.to_string(),
        id: id.to_string(),
        sk: record.key().sk,
    };
    let mut writes = vec![
        Write::Check(
            Key::new(format!("CUSTOMER#{customer_id}"), "PROFILE"),
            Cond::Exists,
        ),
        Write::Put(
            to_item(&wanted)?,
            claim.map_or(Cond::NotExists, Cond::Version),
        ),
    ];
    match &old {
        Some(o) if o.record.key() == record.key() => {
            writes.push(Write::Put(to_item(record)?, Cond::Version(o.version)));
        }
        Some(o) => {
            writes.push(Write::Delete(o.record.key(), Cond::Version(o.version)));
            writes.push(Write::Put(to_item(record)?, Cond::NotExists));
        }
        None => writes.push(Write::Put(to_item(record)?, Cond::NotExists)),
    }
    writes.extend(extra);
    match store.transact(writes).await {
        Ok(()) => Ok(old.is_none()),
        Err(StoreError::TransactionCancelled { failed }) if failed.iter().any(|(i, _)| *i == 0) => {
            Err(RecordError::NotFound(format!("customer {customer_id}")))
        }
        Err(e) => Err(super::conflict(
            e,
            format!(
                "{} {id} was changed meanwhile; read it and try again",
                kind.to_lowercase()
            ),
        )),
    }
}

/// Which dated record holds the invoice or payment with a business's id
/// (`CUSTOMER#{id}` / `INVOICEID#{id}`, `PAYMENTID#{id}` or `QUOTEID#{id}`): written with the record in
/// one transaction and only if absent, so two requests with one id never make two records,
/// and a record is found by its id in one read, however many the customer has.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct IdClaim {
    pub(crate) customer_id: String,
    /// `INVOICE`, `PAYMENT` or `QUOTE`.
    pub(crate) kind: String,
    pub(crate) id: String,
    /// The sort key of the record.
    pub(crate) sk: String,
}

impl Record for IdClaim {
    fn key(&self) -> Key {
        Key::new(
            format!("CUSTOMER#{}", self.customer_id),
            format!("{}ID#{}", self.kind, self.id),
        )
    }
}

/// How often a balance update retries when the customer changed at the same moment.
const RETRIES: usize = 10;

/// Invoices and payments.
#[derive(Debug, Clone)]
pub struct Billing {
    store: Arc<dyn Store>,
}

impl Billing {
    /// The repository over `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Billing { store }
    }

    /// Writes `record` and adds `delta` to the customer's balance, atomically (2 requests).
    async fn with_balance<R: Record>(
        &self,
        customer_id: &str,
        record: &R,
        delta: i64,
    ) -> RecordResult<()> {
        self.with_balance_and(customer_id, record, delta, Vec::new())
            .await
    }

    /// As `with_balance`, with `extra` writes in the same transaction.
    async fn with_balance_and<R: Record>(
        &self,
        customer_id: &str,
        record: &R,
        delta: i64,
        extra: Vec<Write>,
    ) -> RecordResult<()> {
        let key = Key::new(format!("CUSTOMER#{customer_id}"), "PROFILE");
        for _ in 0..RETRIES {
            let Some(item) = self.store.get(&key).await? else {
                return Err(RecordError::NotFound(format!("customer {customer_id}")));
            };
            let mut customer = from_item::<Customer>(&self.store.name(), item)?;
            customer.record.balance_cents += delta;
            let mut writes = vec![
                Write::Put(to_item(&customer.record)?, Cond::Version(customer.version)),
                Write::Put(to_item(record)?, Cond::NotExists),
            ];
            writes.extend(extra.iter().cloned());
            match self.store.transact(writes).await {
                Ok(()) => return Ok(()),
                Err(StoreError::TransactionCancelled { failed })
                    if failed.iter().all(|(i, _)| *i == 0) =>
                {
                    continue
                }
                Err(e) => return Err(conflict(e, format!("{} exists already", record.key()))),
            }
        }
        Err(RecordError::Conflict(format!(
            "customer {customer_id} is being changed; try again"
        )))
    }

    /// Publishes an invoice: it appears to the customer and their balance goes up by its total.
    pub async fn publish_invoice(&self, invoice: &Invoice) -> RecordResult<()> {
        self.with_balance(&invoice.customer_id, invoice, invoice.total_cents())
            .await
    }

    /// Records a payment: the customer's balance goes down by its amount.
    pub async fn record_payment(&self, payment: &Payment) -> RecordResult<()> {
        self.with_balance(&payment.customer_id, payment, -payment.amount_cents)
            .await
    }

    /// Creates or replaces the invoice with `invoice.id` (the business's own id) and moves
    /// the customer's balance by what it owes now less what it owed before, with `extra`
    /// writes (an audit entry), all in one transaction. Returns whether it was new; an
    /// unchanged invoice writes nothing (3 requests).
    pub async fn put_invoice(&self, invoice: &Invoice, extra: Vec<Write>) -> RecordResult<bool> {
        let customer_key = Key::new(format!("CUSTOMER#{}", invoice.customer_id), "PROFILE");
        for _ in 0..RETRIES {
            let Some(item) = self.store.get(&customer_key).await? else {
                return Err(RecordError::NotFound(format!(
                    "customer {}",
                    invoice.customer_id
                )));
            };
            let mut customer = from_item::<Customer>(&self.store.name(), item)?;
            let (claim, old) = self
                .claimed::<Invoice>(&invoice.customer_id, "INVOICE", &invoice.id)
                .await?;
            if old.as_ref().is_some_and(|o| o.record == *invoice) {
                return Ok(false);
            }
            let before = old.as_ref().map(|o| o.record.owed_cents()).unwrap_or(0);
            customer.record.balance_cents += invoice.owed_cents() - before;
            let wanted = IdClaim {
                customer_id: invoice.customer_id.clone(),
                kind: "INVOICE".into(),
                id: invoice.id.clone(),
                sk: invoice.key().sk,
            };
            let mut writes = vec![
                Write::Put(to_item(&customer.record)?, Cond::Version(customer.version)),
                Write::Put(
                    to_item(&wanted)?,
                    match claim {
                        Some(v) => Cond::Version(v),
                        None => Cond::NotExists,
                    },
                ),
            ];
            match &old {
                Some(o) if o.record.key() == invoice.key() => {
                    writes.push(Write::Put(to_item(invoice)?, Cond::Version(o.version)));
                }
                Some(o) => {
                    writes.push(Write::Delete(o.record.key(), Cond::Version(o.version)));
                    writes.push(Write::Put(to_item(invoice)?, Cond::NotExists));
                }
                None => writes.push(Write::Put(to_item(invoice)?, Cond::NotExists)),
            }
            writes.extend(extra.iter().cloned());
            match self.store.transact(writes).await {
                Ok(()) => return Ok(old.is_none()),
                // The customer, the id's claim or the invoice changed meanwhile (another
                // request with the same id, say): read them again.
                Err(StoreError::TransactionCancelled { failed })
                    if failed.iter().all(|(i, _)| *i <= 3) =>
                {
                    continue
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(RecordError::Busy(format!(
            "customer {} is being changed; try again",
            invoice.customer_id
        )))
    }

    /// The customer's invoice with the id `id` (1 request for up to 1,000 invoices).
    pub async fn find_invoice(
        &self,
        customer_id: &str,
        id: &str,
    ) -> RecordResult<Option<super::Versioned<Invoice>>> {
        Ok(self.claimed(customer_id, "INVOICE", id).await?.1)
    }

    /// The version of the claim on the business's `id` of a `kind` of record, and the
    /// record (2 requests; a record written before claims existed is looked for among the
    /// customer's first 1,000).
    pub(crate) async fn claimed<R: Record>(
        &self,
        customer_id: &str,
        kind: &str,
        id: &str,
    ) -> RecordResult<(Option<u64>, Option<super::Versioned<R>>)> {
        let key = Key::new(format!("CUSTOMER#{customer_id}"), format!("{kind}ID#{id}"));
        let Some(item) = self.store.get(&key).await? else {
            return Ok((None, self.find(customer_id, &format!("{kind}#"), id).await?));
        };
        let claim: super::Versioned<IdClaim> = from_item(&self.store.name(), item)?;
        let record = match self
            .store
            .get(&Key::new(
                format!("CUSTOMER#{customer_id}"),
                claim.record.sk,
            ))
            .await?
        {
            Some(item) => Some(from_item(&self.store.name(), item)?),
            None => None,
        };
        Ok((Some(claim.version), record))
    }

    /// The customer's record under `prefix` (`INVOICE#{date}#{id}`) whose key ends in `id`
    /// (1 request for up to 1,000 of them).
    async fn find<R: Record>(
        &self,
        customer_id: &str,
        prefix: &str,
        id: &str,
    ) -> RecordResult<Option<super::Versioned<R>>> {
        let page = self
            .store
            .query(
                &crate::store::Query::partition(format!("CUSTOMER#{customer_id}"))
                    .prefix(prefix)
                    .limit(1000),
            )
            .await?;
        let tail = format!("#{id}");
        for item in page.items {
            if item.sk.ends_with(&tail) && item.sk[prefix.len()..].split('#').nth(1) == Some(id) {
                return Ok(Some(from_item(&self.store.name(), item)?));
            }
        }
        Ok(None)
    }

    /// Records the payment with `payment.id` (the business's own id) once: the same payment
    /// again changes nothing and answers `false`; another payment under the same id is a
    /// conflict (3 requests).
    pub async fn put_payment(&self, payment: &Payment, extra: Vec<Write>) -> RecordResult<bool> {
        let same = |found: &Payment| {
            if found == payment {
                Ok(false)
            } else {
                Err(RecordError::Conflict(format!(
                    "payment {} was recorded already with other details; payments are not changed, record a correcting payment instead",
                    payment.id
                )))
            }
        };
        let (claim, found) = self
            .claimed::<Payment>(&payment.customer_id, "PAYMENT", &payment.id)
            .await?;
        if let Some(found) = found {
            return same(&found.record);
        }
        let wanted = IdClaim {
            customer_id: payment.customer_id.clone(),
            kind: "PAYMENT".into(),
            id: payment.id.clone(),
            sk: payment.key().sk,
        };
        let mut writes = vec![Write::Put(
            to_item(&wanted)?,
            match claim {
                Some(v) => Cond::Version(v),
                None => Cond::NotExists,
            },
        )];
        writes.extend(extra);
        match self
            .with_balance_and(&payment.customer_id, payment, -payment.amount_cents, writes)
            .await
        {
            Ok(()) => Ok(true),
            // Another request recorded the same id first: it is the same payment, or not.
            Err(RecordError::Conflict(_)) => match self
                .claimed::<Payment>(&payment.customer_id, "PAYMENT", &payment.id)
                .await?
                .1
            {
                Some(found) => same(&found.record),
                None => Err(RecordError::Busy(format!(
                    "payment {} is being recorded by another request; send it again",
                    payment.id
                ))),
            },
            Err(e) => Err(e),
        }
    }

    /// A page of a customer's invoices, newest first (1 request).
    pub async fn invoices(
        &self,
        customer_id: &str,
        limit: usize,
        cursor: Option<Cursor>,
    ) -> RecordResult<(Vec<Invoice>, Option<Cursor>)> {
        self.page(customer_id, "INVOICE#", limit, cursor).await
    }

    /// A page of a customer's payments, newest first (1 request).
    pub async fn payments(
        &self,
        customer_id: &str,
        limit: usize,
        cursor: Option<Cursor>,
    ) -> RecordResult<(Vec<Payment>, Option<Cursor>)> {
        self.page(customer_id, "PAYMENT#", limit, cursor).await
    }

    async fn page<R: Record>(
        &self,
        customer_id: &str,
        prefix: &str,
        limit: usize,
        cursor: Option<Cursor>,
    ) -> RecordResult<(Vec<R>, Option<Cursor>)> {
        Repo::new(self.store.clone())
            .list(
                &format!("CUSTOMER#{customer_id}"),
                prefix,
                limit,
                cursor,
                true,
            )
            .await
    }
}
