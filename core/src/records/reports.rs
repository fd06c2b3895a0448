//! Secured documents and expense or timesheet reports shared with a customer.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{Record, RecordResult, Repo};
use crate::store::{Key, Store};

/// The documents and reports shared with a customer, newest first (1 request each).
#[derive(Debug, Clone)]
pub struct Shared {
    store: Arc<dyn Store>,
}

impl Shared {
    /// The repository over `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Shared { store }
    }

    /// The documents shared with `customer_id`, newest first.
    pub async fn documents(&self, customer_id: &str) -> RecordResult<Vec<SecuredDocument>> {
        self.newest_first(customer_id, "DOCUMENT#").await
    }

    /// The reports shared with `customer_id`, newest first.
    pub async fn reports(&self, customer_id: &str) -> RecordResult<Vec<Report>> {
        self.newest_first(customer_id, "REPORT#").await
    }

    /// Shares `report` under the business's id, or replaces the one shared under it, with
    /// `extra` in the same transaction; returns whether it is new (3 requests, 1 transaction).
    pub async fn put_report(
        &self,
        report: &Report,
        extra: Vec<crate::store::Write>,
    ) -> RecordResult<bool> {
        super::billing::put_claimed(
            &self.store,
            "REPORT",
            &report.customer_id,
            &report.id,
            report,
            extra,
            |_| Ok(()),
        )
        .await
    }

    /// Shares `document` under the business's id, or replaces the one shared under it, with
    /// `extra`; returns the document it replaced, if any (3 requests, 1 transaction).
    pub async fn put_document(
        &self,
        document: &SecuredDocument,
        extra: Vec<crate::store::Write>,
    ) -> RecordResult<Option<SecuredDocument>> {
        let old = self.document(&document.customer_id, &document.id).await?;
        super::billing::put_claimed(
            &self.store,
            "DOCUMENT",
            &document.customer_id,
            &document.id,
            document,
            extra,
            |_| Ok(()),
        )
        .await?;
        Ok(old)
    }

    /// The customer's document with the business's id `id` (2 requests).
    pub async fn document(
        &self,
        customer_id: &str,
        id: &str,
    ) -> RecordResult<Option<SecuredDocument>> {
        Ok(super::billing::Billing::new(self.store.clone())
            .claimed::<SecuredDocument>(customer_id, "DOCUMENT", id)
            .await?
            .1
            .map(|r| r.record))
    }

    /// The customer's report with the business's id `id` (2 requests).
    pub async fn report(&self, customer_id: &str, id: &str) -> RecordResult<Option<Report>> {
        Ok(super::billing::Billing::new(self.store.clone())
            .claimed::<Report>(customer_id, "REPORT", id)
            .await?
            .1
            .map(|r| r.record))
    }

    async fn newest_first<R: Record>(
        &self,
        customer_id: &str,
        prefix: &str,
    ) -> RecordResult<Vec<R>> {
        Ok(Repo::new(self.store.clone())
            .list(&format!("CUSTOMER#{customer_id}"), prefix, 1000, None, true)
            .await?
            .0)
    }
}

/// A document shared with one customer (the bytes live in blob storage).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecuredDocument {
    /// The customer.
    pub customer_id: String,
    /// Identifier, also the blob key.
    pub id: String,
    /// Title.
    pub title: String,
    /// File name.
    pub file_name: String,
    /// Media type.
    pub media_type: String,
    /// Size in bytes.
    pub size: u64,
    /// Date shared, `YYYY-MM-DD`.
    pub date: String,
    /// Where the file is in the blob store, when not under `id` (documents staff share
    /// through the API are kept under keys of the portal's own).
    #[serde(default)]
    pub blob: Option<String>,
}

impl Record for SecuredDocument {
    fn key(&self) -> Key {
        Key::new(
            format!("CUSTOMER#{}", self.customer_id),
            format!("DOCUMENT#{}#{}", self.date, self.id),
        )
    }
}

/// Expense or timesheet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportKind {
    /// Expenses charged to the customer.
    Expenses,
    /// Hours worked for the customer.
    Timesheet,
}

/// A line of a report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportLine {
    /// Date, `YYYY-MM-DD`.
    pub date: String,
    /// What.
    pub description: String,
    /// Hours in hundredths (timesheets) or amount in minor units (expenses).
    pub quantity: i64,
}

/// An expense or timesheet report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The customer.
    pub customer_id: String,
    /// Identifier.
    pub id: String,
    /// Kind.
    pub kind: ReportKind,
    /// Title, e.g. "October 2026".
    pub title: String,
    /// Date, `YYYY-MM-DD`.
    pub date: String,
    /// Lines.
    pub lines: Vec<ReportLine>,
}

impl Report {
    /// The sum of the lines' quantities.
    pub fn total(&self) -> i64 {
        self.lines.iter().map(|l| l.quantity).sum()
    }
}

impl Record for Report {
    fn key(&self) -> Key {
        Key::new(
            format!("CUSTOMER#{}", self.customer_id),
            format!("REPORT#{}#{}", self.date, self.id),
        )
    }
}
