//! Secured documents and expense or timesheet reports shared with a customer.

use serde::{Deserialize, Serialize};

use super::Record;
use crate::store::Key;

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
