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
    /// `open`, `paid`, `overdue`, `void`.
    pub status: String,
}

impl Invoice {
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
        let key = Key::new(format!("CUSTOMER#{customer_id}"), "PROFILE");
        for _ in 0..RETRIES {
            let Some(item) = self.store.get(&key).await? else {
                return Err(RecordError::NotFound(format!("customer {customer_id}")));
            };
            let mut customer = from_item::<Customer>(&self.store.name(), item)?;
            customer.record.balance_cents += delta;
            let writes = vec![
                Write::Put(to_item(&customer.record)?, Cond::Version(customer.version)),
                Write::Put(to_item(record)?, Cond::NotExists),
            ];
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
