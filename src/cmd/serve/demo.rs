//! Demo data for `portal serve`: on an empty store, two customer accounts with a login each,
//! invoices, payments, quotes, cases and bugs, so a newcomer can log in and see every page.
//! Their addresses and passwords are printed at start and listed in the README.

use std::sync::Arc;

use portal_core::records::billing::{Billing, Invoice, Line, Payment};
use portal_core::records::customers::{Contact, Customer, Customers, Login};
use portal_core::records::issues::{Issue, IssueKind, Issues};
use portal_core::records::quotes::{Quote, QuoteState, Quotes};
use portal_core::records::utc_year;
use portal_core::store::{now, Store};

/// A demo login: (address, password, customer).
pub const LOGINS: [(&str, &str, &str); 2] = [
    (
        "ada@harbour-cafe.example",
        "harbour cafe demo",
        "Harbour Café",
    ),
    (
        "ben@clifton-books.example",
        "clifton books demo",
        "Clifton Books",
    ),
];

/// Seeds the demo data if the store has no customer yet; returns whether it did.
pub async fn seed(store: &Arc<dyn Store>, tracking_prefix: &str) -> anyhow::Result<bool> {
    let customers = Customers::new(store.clone());
    if !customers.list(1, None).await?.0.is_empty() {
        return Ok(false);
    }
    for (n, (email, password, name)) in LOGINS.iter().enumerate() {
        let id = format!("demo-{}", n + 1);
        customers
            .create(&Customer {
                id: id.clone(),
                number: format!("C-{}", 1001 + n),
                name: name.to_string(),
                email: email.to_string(),
                phones: vec![format!("+44 117 496 07{:02}", 10 + n)],
                address: vec![
                    format!("{} High Street", 12 + n * 7),
                    "Bristol BS1 2AW".into(),
                ],
                balance_cents: 0,
                status: "active".into(),
                created: now(),
            })
            .await?;
        let contact = Contact {
            customer_id: id.clone(),
            id: format!("{id}-contact"),
            name: email.split('@').next().unwrap_or("").to_string(),
            email: email.to_string(),
            phone: None,
            role: Some("Owner".into()),
        };
        customers.save_contact(&contact).await?;
        let hash = portal_functions::auth::password::hash_blocking(password)
            .map_err(anyhow::Error::msg)?;
        customers
            .create_login(&Login {
                email: email.to_string(),
                customer_id: id.clone(),
                contact_id: contact.id.clone(),
                password_hash: Some(hash),
                disabled: false,
                failed_attempts: 0,
                created: now(),
            })
            .await?;
        let billing = Billing::new(store.clone());
        let licence = |qty: i64, what: &str, cents: i64| Line {
            description: what.to_string(),
            quantity: qty,
            unit_cents: cents,
            vat_percent: 20,
        };
        let invoices = [
            (
                "2026-09-01",
                "2026-09-30",
                "paid",
                vec![
                    licence(2, "Till licence, quarterly", 4_500),
                    licence(1, "Card terminal rental", 1_800),
                ],
            ),
            (
                "2026-10-01",
                "2026-10-31",
                "paid",
                vec![licence(2, "Till licence, quarterly", 4_500)],
            ),
            (
                "2026-11-01",
                "2026-11-30",
                "open",
                vec![
                    licence(2, "Till licence, quarterly", 4_500),
                    licence(3, "Receipt rolls, box of 20", 2_400),
                ],
            ),
        ];
        for (i, (date, due, status, lines)) in invoices.into_iter().enumerate() {
            let invoice = Invoice {
                customer_id: id.clone(),
                id: format!("{id}-inv-{}", i + 1),
                number: format!("INV-{}-{:04}", 2026, 100 * (n + 1) + i + 1),
                date: date.into(),
                due: due.into(),
                lines,
                status: status.into(),
            };
            let total = invoice.total_cents();
            billing.publish_invoice(&invoice).await?;
            if status == "paid" {
                billing
                    .record_payment(&Payment {
                        customer_id: id.clone(),
                        id: format!("{id}-pay-{}", i + 1),
                        date: due.into(),
                        amount_cents: total,
                        method: "Direct Debit".into(),
                        invoice_id: Some(invoice.id.clone()),
                    })
                    .await?;
            }
        }
        let quotes = Quotes::new(store.clone());
        quotes
            .quotes
            .create(&Quote {
                customer_id: id.clone(),
                id: format!("{id}-quote-1"),
                number: format!("Q-2026-{:03}", 40 + n),
                date: "2026-11-10".into(),
                valid_until: "2026-12-31".into(),
                lines: vec![
                    licence(1, "Kitchen display screen", 39_900),
                    licence(1, "Installation and training, half day", 18_000),
                ],
                state: QuoteState::Open,
                decided: None,
            })
            .await?;
        let issues = Issues::new(store.clone());
        let year = utc_year(now());
        for (kind, binder, subject) in [
            (
                IssueKind::Case,
                "cases",
                "Second till will not print receipts",
            ),
            (
                IssueKind::Bug,
                "bugs",
                "Refund total rounds VAT the wrong way",
            ),
        ] {
            issues
                .file(
                    Issue {
                        id: String::new(),
                        number: String::new(),
                        kind,
                        binder: binder.into(),
                        customer_id: Some(id.clone()),
                        category: None,
                        subject: subject.into(),
                        description: format!("Reported by {name} for the demo."),
                        name: contact.name.clone(),
                        email: email.to_string(),
                        status: "open".into(),
                        history: Vec::new(),
                        created: 0,
                    },
                    tracking_prefix,
                    year,
                    |_, _| None,
                )
                .await?;
        }
    }
    Ok(true)
}
