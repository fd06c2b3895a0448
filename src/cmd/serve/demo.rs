//! Demo data for `portal serve`: on an empty store, two customer accounts with a login each,
//! invoices, payments, quotes, cases and bugs, so a newcomer can log in and see every page.
//! Their addresses and passwords are printed at start and listed in the README.

use std::sync::Arc;

use portal_core::blobs::BlobStore;
use portal_core::records::billing::{Billing, Invoice, Line, Payment};
use portal_core::records::customers::{Contact, Customer, Customers, Login};
use portal_core::records::issues::{Issue, IssueKind, Issues};
use portal_core::records::new_id;
use portal_core::records::projects::{Project, ProjectContact, ProjectDocument, ProjectNote, Task};
use portal_core::records::quotes::{Quote, QuoteState, Quotes};
use portal_core::records::reports::{Report, ReportKind, ReportLine, SecuredDocument};
use portal_core::records::utc_year;
use portal_core::records::Repo;
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
pub async fn seed(
    store: &Arc<dyn Store>,
    blobs: Option<&Arc<dyn BlobStore>>,
    tracking_prefix: &str,
) -> anyhow::Result<bool> {
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
                credentials: Login::fresh_credentials(),
                sees: Default::default(),
                created: now(),
                calendar_feed: None,
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
        work(store, blobs, &id, name).await?;
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
                        assignee: None,
                        updated: 0,
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

/// A project with tasks, notes, contacts and a document, a shared document, and reports.
async fn work(
    store: &Arc<dyn Store>,
    blobs: Option<&Arc<dyn BlobStore>>,
    customer: &str,
    name: &str,
) -> anyhow::Result<()> {
    let project = Project {
        customer_id: customer.to_string(),
        id: format!("{customer}-project"),
        name: "Kitchen display roll-out".into(),
        description: format!("Kitchen screens for {name}, linked to the tills."),
        status: "in progress".into(),
    };
    Repo::new(store.clone()).create(&project).await?;
    for (i, (title, progress, hidden)) in [
        ("Survey the kitchen", 100, false),
        ("Install the screens", 60, false),
        ("Train the staff", 0, false),
        ("Internal: check the margin on the screens", 50, true),
    ]
    .into_iter()
    .enumerate()
    {
        Repo::new(store.clone())
            .create(&Task {
                customer_id: project.customer_id.clone(),
                project_id: project.id.clone(),
                id: new_id(),
                title: title.into(),
                progress,
                hidden,
                position: i as u32,
            })
            .await?;
    }
    for (i, (body, hidden)) in [
        (
            "Screens arrive on Thursday; we install before opening.",
            false,
        ),
        (
            "Internal: the customer pays late; invoice on delivery.",
            true,
        ),
    ]
    .into_iter()
    .enumerate()
    {
        Repo::new(store.clone())
            .create(&ProjectNote {
                customer_id: project.customer_id.clone(),
                project_id: project.id.clone(),
                id: new_id(),
                author: "Kestrel Systems".into(),
                body: body.into(),
                hidden,
                created: now() + i as i64,
            })
            .await?;
    }
    Repo::new(store.clone())
        .create(&ProjectContact {
            customer_id: project.customer_id.clone(),
            project_id: project.id.clone(),
            id: "engineer".into(),
            name: "Priya Shah".into(),
            role: "Engineer".into(),
            email: Some("priya@kestrel-systems.co.uk".into()),
        })
        .await?;
    if let Some(blobs) = blobs {
        let plan = format!(
            "Plan for {}\n1. Survey\n2. Install\n3. Train\n",
            project.name
        );
        let doc = ProjectDocument {
            customer_id: project.customer_id.clone(),
            project_id: project.id.clone(),
            id: new_id(),
            file_name: "plan.txt".into(),
            media_type: "text/plain".into(),
            size: plan.len() as u64,
            uploaded_by: "Kestrel Systems".into(),
            created: now(),
            note: None,
        };
        blobs.put(&doc.id, plan.into_bytes()).await?;
        Repo::new(store.clone()).create(&doc).await?;
        let agreement = b"%PDF-1.4\n% Service agreement (demo)\n".to_vec();
        let shared = SecuredDocument {
            customer_id: customer.to_string(),
            id: new_id(),
            title: "Service agreement 2026".into(),
            file_name: "service-agreement-2026.pdf".into(),
            media_type: "application/pdf".into(),
            size: agreement.len() as u64,
            date: "2026-01-05".into(),
            blob: None,
        };
        blobs.put(&shared.id, agreement).await?;
        Repo::new(store.clone()).create(&shared).await?;
    }
    for (id, kind, title, lines) in [
        (
            "expenses-oct",
            ReportKind::Expenses,
            "Expenses, October 2026",
            vec![
                ("2026-10-03", "Train to Bristol", 4_250),
                ("2026-10-03", "Cable and brackets", 1_899),
            ],
        ),
        (
            "hours-oct",
            ReportKind::Timesheet,
            "Hours, October 2026",
            vec![
                ("2026-10-03", "Kitchen survey", 250),
                ("2026-10-10", "Screen set-up", 375),
            ],
        ),
    ] {
        Repo::new(store.clone())
            .create(&Report {
                customer_id: customer.to_string(),
                id: format!("{customer}-{id}"),
                kind,
                title: title.into(),
                date: "2026-10-31".into(),
                lines: lines
                    .into_iter()
                    .map(|(date, what, q)| ReportLine {
                        date: date.into(),
                        description: what.into(),
                        quantity: q,
                    })
                    .collect(),
            })
            .await?;
    }
    Ok(())
}
