//! Repository behaviours, written once against the trait.

use std::collections::HashSet;
use std::sync::Arc;

use portal_core::records::billing::{Billing, Invoice, Line, Payment};
use portal_core::records::customers::{Contact, Customer, Customers, Login};
use portal_core::records::events::{Events, Registration, RegistrationStatus};
use portal_core::records::issues::{Issue, IssueKind, Issues, Note};
use portal_core::records::outbox::{Mail, Outbox};
use portal_core::records::sessions::{Sessions, TokenKind};
use portal_core::records::RecordError;
use portal_core::store::{now, Store};

use portal_core::records::audit::AuditEntry;
use portal_core::records::forums::{ForumCategory, Post, Thread};
use portal_core::records::issues::Attachment;
use portal_core::records::projects::{Project, ProjectContact, ProjectDocument, ProjectNote, Task};
use portal_core::records::quotes::{QuoteState, Quotes};
use portal_core::records::reports::{Report, ReportKind, ReportLine, SecuredDocument};
use portal_core::records::requests::{
    AppointmentRequest, RequestKind, Subscription, VisitorRequest,
};
use portal_core::records::{Record, Repo};

use crate::common::RequestCounter;

fn customer(id: &str) -> Customer {
    Customer {
        id: id.into(),
        number: format!("C-{id}"),
        name: format!("Customer {id}"),
        email: format!("{id}@example.com"),
        phones: vec![],
        address: vec!["1 High Street".into()],
        balance_cents: 0,
        status: "active".into(),
        created: 0,
    }
}

fn login(email: &str, customer: &str) -> Login {
    Login {
        email: email.into(),
        customer_id: customer.into(),
        contact_id: "k1".into(),
        password_hash: None,
        disabled: false,
        failed_attempts: 0,
        credentials: 0,
        created: 0,
        sees: Default::default(),
        calendar_feed: None,
    }
}

fn issue(customer: Option<&str>) -> Issue {
    Issue {
        id: String::new(),
        number: String::new(),
        kind: if customer.is_some() {
            IssueKind::Case
        } else {
            IssueKind::Ticket
        },
        binder: "support".into(),
        customer_id: customer.map(str::to_string),
        category: None,
        subject: "Till will not print".into(),
        description: "Nothing comes out.".into(),
        name: "Ada".into(),
        email: "ada@example.com".into(),
        status: "new".into(),
        history: vec![],
        created: 0,
        assignee: None,
        updated: 0,
    }
}

pub async fn one_login_per_email(store: Arc<dyn Store>) {
    let customers = Customers::new(store.clone());
    customers.create(&customer("c1")).await.unwrap();
    assert!(matches!(
        customers.create(&customer("c1")).await,
        Err(RecordError::Conflict(_))
    ));
    customers
        .save_contact(&Contact {
            customer_id: "c1".into(),
            id: "k1".into(),
            name: "Ada".into(),
            email: "ada@example.com".into(),
            phone: None,
            role: Some("Owner".into()),
        })
        .await
        .unwrap();
    assert_eq!(customers.contacts("c1").await.unwrap().len(), 1);
    customers
        .create_login(&login("Ada@Example.com", "c1"))
        .await
        .unwrap();
    let second = customers
        .create_login(&login("ada@example.com ", "c2"))
        .await;
    assert!(
        matches!(second, Err(RecordError::Conflict(ref m)) if m.contains("already has a login")),
        "{second:?}"
    );
    let found = customers.login("ADA@example.com").await.unwrap().unwrap();
    assert_eq!(found.record.customer_id, "c1");
    let mut changed = found.record.clone();
    changed.password_hash = Some("$argon2id$…".into());
    customers
        .update_login(&changed, found.version)
        .await
        .unwrap();
    assert!(
        matches!(
            customers.update_login(&changed, found.version).await,
            Err(RecordError::Conflict(_))
        ),
        "stale version"
    );
    let (list, _) = customers.list(10, None).await.unwrap();
    assert_eq!(
        list.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(),
        ["c1"]
    );
}

pub async fn sessions_end_and_tokens_are_single_use(store: Arc<dyn Store>) {
    let sessions = Sessions::new(store.clone());
    let (token, session) = sessions.start("Ada@example.com", "c1", 3600).await.unwrap();
    assert_eq!(token.len(), 32);
    assert_ne!(session.token_hash, token, "only the hash is stored");
    assert_eq!(
        sessions.get(&token).await.unwrap().unwrap().customer_id,
        "c1"
    );
    sessions.end(&token).await.unwrap();
    assert_eq!(sessions.get(&token).await.unwrap(), None);

    let mut tokens = Vec::new();
    for _ in 0..14 {
        tokens.push(
            sessions
                .start("ada@example.com", "c1", 3600)
                .await
                .unwrap()
                .0,
        );
    }
    let other = sessions
        .start("bob@example.com", "c2", 3600)
        .await
        .unwrap()
        .0;
    assert_eq!(sessions.end_all("ADA@example.com").await.unwrap(), 14);
    for t in &tokens {
        assert_eq!(sessions.get(t).await.unwrap(), None);
    }
    assert!(
        sessions.get(&other).await.unwrap().is_some(),
        "other logins keep their sessions"
    );
    let (expired, _) = sessions.start("ada@example.com", "c1", -1).await.unwrap();
    assert_eq!(sessions.get(&expired).await.unwrap(), None, "expired");

    let reset = sessions
        .issue_token(TokenKind::PasswordReset, "ada@example.com", 3600)
        .await
        .unwrap();
    assert_eq!(
        sessions
            .redeem(&reset, TokenKind::Activation)
            .await
            .unwrap(),
        None,
        "wrong kind"
    );
    assert_eq!(
        sessions
            .redeem(&reset, TokenKind::PasswordReset)
            .await
            .unwrap()
            .unwrap()
            .subject,
        "ada@example.com"
    );
    assert_eq!(
        sessions
            .redeem(&reset, TokenKind::PasswordReset)
            .await
            .unwrap(),
        None,
        "single use"
    );
    let old = sessions
        .issue_token(TokenKind::Activation, "x", -1)
        .await
        .unwrap();
    assert_eq!(
        sessions.redeem(&old, TokenKind::Activation).await.unwrap(),
        None,
        "expired"
    );
}

pub async fn issue_numbers_are_unique_under_concurrency(store: Arc<dyn Store>) {
    let issues = Issues::new(store.clone());
    let mut handles = Vec::new();
    for i in 0..8 {
        let issues = issues.clone();
        handles.push(tokio::spawn(async move {
            let customer = (i % 2 == 0).then_some("c1");
            issues
                .file(issue(customer), "KST", 2026, |i: &Issue, token: &str| {
                    Some(Mail::new(
                        &i.email,
                        format!("[{}] received", i.number),
                        format!("Track it: /track/{token}"),
                    ))
                })
                .await
                .unwrap()
        }));
    }
    let mut filed = Vec::new();
    for h in handles {
        filed.push(h.await.unwrap());
    }
    let numbers: HashSet<String> = filed.iter().map(|(i, _)| i.number.clone()).collect();
    let expected: HashSet<String> = (1..=8).map(|n| format!("KST-2026-{n:06}")).collect();
    assert_eq!(numbers, expected, "consecutive, none twice");
    assert_eq!(
        Outbox::new(store.clone()).pending(100).await.unwrap().len(),
        8,
        "one mail per issue, written with it"
    );

    let (first, token) = &filed[0];
    assert_eq!(
        issues
            .by_tracking_token(token)
            .await
            .unwrap()
            .unwrap()
            .record
            .id,
        first.id
    );
    assert_eq!(
        issues
            .by_tracking_token("0".repeat(32).as_str())
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        issues
            .by_number(&first.number.to_lowercase())
            .await
            .unwrap()
            .unwrap()
            .record
            .id,
        first.id
    );

    issues
        .add_note(
            "support",
            &Note {
                issue_id: first.id.clone(),
                id: "n1".into(),
                author: "Staff".into(),
                body: "Looking into it".into(),
                public: true,
                created: 1,
            },
            None,
        )
        .await
        .unwrap();
    issues
        .add_note(
            "support",
            &Note {
                issue_id: first.id.clone(),
                id: "n2".into(),
                author: "Staff".into(),
                body: "Customer is difficult".into(),
                public: false,
                created: 2,
            },
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        issues
            .notes(&first.id, false)
            .await
            .unwrap()
            .iter()
            .map(|n| n.id.as_str())
            .collect::<Vec<_>>(),
        ["n1"],
        "hidden notes left out"
    );
    assert_eq!(issues.notes(&first.id, true).await.unwrap().len(), 2);
    let (texts, more) = issues.desk_texts("support", 5).await.unwrap();
    assert!(!more);
    let words = &texts[&first.id];
    assert!(
        words.contains("nothing comes out.")
            && words.contains("looking into it")
            && words.contains("customer is difficult"),
        "staff search every note of an issue, lower case: {words}"
    );
    // An issue from before the texts were kept (here: its texts removed) is indexed again.
    for part in ["description", "n1", "n2"] {
        store
            .delete(
                &portal_core::Key::new("DESK#support", format!("TEXT#{}#{part}", first.id)),
                portal_core::Cond::None,
            )
            .await
            .unwrap();
    }
    assert!(!issues
        .desk_texts("support", 5)
        .await
        .unwrap()
        .0
        .contains_key(&first.id));
    assert!(issues.index_all().await.unwrap() >= 3);
    assert_eq!(
        issues.desk_texts("support", 5).await.unwrap().0[&first.id],
        *words
    );
    assert_eq!(
        issues.thread(&first.id).await.unwrap().unwrap().link_opened,
        None,
        "staff see that the tracking link was never opened"
    );
    let thread = issues.thread_by_token(token, false).await.unwrap().unwrap();
    assert_eq!(thread.issue.unwrap().record.id, first.id);
    let opened = issues.thread(&first.id).await.unwrap().unwrap().link_opened;
    assert!(
        opened.is_some_and(|t| (now() - t).abs() < 60),
        "staff see when the tracking link was opened: {opened:?}"
    );
    assert_eq!(
        thread
            .notes
            .iter()
            .map(|n| n.id.as_str())
            .collect::<Vec<_>>(),
        ["n1"],
        "the tracking view leaves hidden notes out too"
    );
    assert_eq!(
        issues
            .thread_by_token(token, true)
            .await
            .unwrap()
            .unwrap()
            .notes
            .len(),
        2
    );
    assert!(issues
        .thread_by_token(&"0".repeat(32), false)
        .await
        .unwrap()
        .is_none());
    let orphan = issues
        .add_note(
            "support",
            &Note {
                issue_id: "nope".into(),
                id: "n3".into(),
                author: "x".into(),
                body: "x".into(),
                public: true,
                created: 3,
            },
            None,
        )
        .await;
    assert!(matches!(orphan, Err(RecordError::Conflict(_))));

    let current = issues.get(&first.id).await.unwrap().unwrap();
    let changed = issues
        .set_status(&current, "closed", "Staff")
        .await
        .unwrap();
    assert_eq!(
        changed
            .history
            .iter()
            .map(|h| h.status.as_str())
            .collect::<Vec<_>>(),
        ["new", "closed"]
    );
    assert!(
        matches!(
            issues.set_status(&current, "reopened", "Ada").await,
            Err(RecordError::Conflict(_))
        ),
        "stale"
    );
    let mine = issues.for_customer("c1", 50).await.unwrap();
    assert_eq!(mine.len(), 4);
    if first.customer_id.is_some() {
        assert_eq!(
            mine.iter().find(|s| s.issue_id == first.id).unwrap().status,
            "closed",
            "the list follows the status"
        );
    }
}

pub async fn balances_follow_invoices_and_payments(store: Arc<dyn Store>) {
    Customers::new(store.clone())
        .create(&customer("c9"))
        .await
        .unwrap();
    let billing = Billing::new(store.clone());
    for (i, date) in ["2026-09-01", "2026-10-01", "2026-11-01"]
        .iter()
        .enumerate()
    {
        let invoice = Invoice {
            customer_id: "c9".into(),
            id: format!("i{i}"),
            number: format!("INV-{i}"),
            date: date.to_string(),
            due: date.to_string(),
            lines: vec![Line {
                description: "Till licence".into(),
                quantity: 2,
                unit_cents: 3900,
                vat_percent: 20,
            }],
            status: "open".into(),
        };
        assert_eq!(invoice.total_cents(), 9360);
        billing.publish_invoice(&invoice).await.unwrap();
    }
    billing
        .record_payment(&Payment {
            customer_id: "c9".into(),
            id: "p1".into(),
            date: "2026-10-10".into(),
            amount_cents: 9360,
            method: "Direct Debit".into(),
            invoice_id: Some("i0".into()),
        })
        .await
        .unwrap();
    let c = Customers::new(store.clone())
        .get("c9")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.record.balance_cents, 2 * 9360);
    let (page, next) = billing.invoices("c9", 2, None).await.unwrap();
    assert_eq!(
        page.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(),
        ["i2", "i1"],
        "newest first"
    );
    let (rest, _) = billing.invoices("c9", 2, next).await.unwrap();
    assert_eq!(
        rest.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(),
        ["i0"]
    );
    assert_eq!(billing.payments("c9", 10, None).await.unwrap().0.len(), 1);
    let missing = billing
        .record_payment(&Payment {
            customer_id: "nobody".into(),
            id: "p".into(),
            date: "2026-01-01".into(),
            amount_cents: 1,
            method: "x".into(),
            invoice_id: None,
        })
        .await;
    assert!(matches!(missing, Err(RecordError::NotFound(_))));
}

pub async fn registrations_respect_capacity_under_concurrency(store: Arc<dyn Store>) {
    let events = Events::new(store.clone());
    let mut handles = Vec::new();
    for i in 0..6 {
        let events = events.clone();
        handles.push(tokio::spawn(async move {
            let r = Registration {
                event_id: "seminar".into(),
                email: format!("p{i}@example.com"),
                name: format!("P{i}"),
                company: None,
                status: RegistrationStatus::Waiting,
                created: 0,
                checked_in: None,
            };
            events
                .register(r, 3, |r| Some(Mail::new(&r.email, "Registered", "See you")))
                .await
                .unwrap()
        }));
    }
    let mut statuses = Vec::new();
    for h in handles {
        statuses.push(h.await.unwrap().status);
    }
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == RegistrationStatus::Confirmed)
            .count(),
        3,
        "exactly the capacity"
    );
    let seats = events.seats("seminar").await.unwrap().unwrap();
    assert_eq!((seats.taken, seats.waiting), (3, 3));
    let again = Registration {
        event_id: "seminar".into(),
        email: "P0@Example.com".into(),
        name: "Again".into(),
        company: None,
        status: RegistrationStatus::Waiting,
        created: 0,
        checked_in: None,
    };
    assert!(
        matches!(
            events.register(again, 3, |_| None).await,
            Err(RecordError::Conflict(_))
        ),
        "one registration per person"
    );
    let seats = events.seats("seminar").await.unwrap().unwrap();
    assert_eq!(
        (seats.taken, seats.waiting),
        (3, 3),
        "a refused registration takes no place"
    );
    assert_eq!(events.registrations("seminar").await.unwrap().len(), 6);
    assert_eq!(Outbox::new(store).pending(100).await.unwrap().len(), 6);
}

pub async fn count_requests(store: Arc<dyn Store>, counter: RequestCounter) {
    let customers = Customers::new(store.clone());
    customers.create(&customer("c1")).await.unwrap();
    assert_eq!(counter.take(), 1, "create customer");
    customers.get("c1").await.unwrap();
    assert_eq!(counter.take(), 1, "get customer");
    customers
        .create_login(&login("a@example.com", "c1"))
        .await
        .unwrap();
    assert_eq!(counter.take(), 1, "create login");
    customers.login("a@example.com").await.unwrap();
    assert_eq!(counter.take(), 1, "find login");

    let sessions = Sessions::new(store.clone());
    let (token, _) = sessions.start("a@example.com", "c1", 3600).await.unwrap();
    assert_eq!(counter.take(), 1, "start session");
    sessions.get(&token).await.unwrap();
    assert_eq!(counter.take(), 1, "check session");
    let t = sessions
        .issue_token(TokenKind::Activation, "a@example.com", 60)
        .await
        .unwrap();
    sessions.redeem(&t, TokenKind::Activation).await.unwrap();
    assert_eq!(counter.take(), 3, "issue and redeem a token");

    let issues = Issues::new(store.clone());
    let mail = |_: &Issue, _: &str| Some(Mail::new("a@example.com", "s", "b"));
    issues
        .file(issue(Some("c1")), "KST", 2026, mail)
        .await
        .unwrap();
    assert_eq!(
        counter.take(),
        2,
        "the year's first issue creates its counter in the same one call"
    );
    let (filed, tracking) = issues
        .file(issue(Some("c1")), "KST", 2026, mail)
        .await
        .unwrap();
    assert_eq!(
        counter.take(),
        2,
        "file an issue with its number, token, summary and mail"
    );
    issues.by_tracking_token(&tracking).await.unwrap();
    assert_eq!(counter.take(), 2, "open a tracking link");
    issues.notes(&filed.id, false).await.unwrap();
    issues.for_customer("c1", 50).await.unwrap();
    assert_eq!(counter.take(), 2, "notes, and a customer's issue list");

    let billing = Billing::new(store.clone());
    for i in 0..30 {
        let invoice = Invoice {
            customer_id: "c1".into(),
            id: format!("i{i}"),
            number: format!("INV-{i}"),
            date: format!("2026-01-{:02}", i % 28 + 1),
            due: "2026-02-01".into(),
            lines: vec![],
            status: "open".into(),
        };
        billing.publish_invoice(&invoice).await.unwrap();
    }
    assert_eq!(counter.take(), 60, "2 requests per invoice published");
    billing.invoices("c1", 100, None).await.unwrap();
    assert_eq!(counter.take(), 1, "list 30 invoices");

    let events = Events::new(store.clone());
    let r = Registration {
        event_id: "e".into(),
        email: "a@example.com".into(),
        name: "A".into(),
        company: None,
        status: RegistrationStatus::Waiting,
        created: 0,
        checked_in: None,
    };
    events.register(r, 10, |_| None).await.unwrap();
    assert_eq!(counter.take(), 2, "register");
}

pub async fn quotes_are_decided_once(store: Arc<dyn Store>) {
    let quotes = Quotes::new(store.clone());
    let quote = portal_core::records::quotes::Quote {
        customer_id: "c1".into(),
        id: "q1".into(),
        number: "Q-2026-0007".into(),
        date: "2026-11-20".into(),
        valid_until: "2026-12-20".into(),
        lines: vec![Line {
            description: "Installation day".into(),
            quantity: 1,
            unit_cents: 32000,
            vat_percent: 20,
        }],
        state: QuoteState::Open,
        decided: None,
    };
    quotes.quotes.create(&quote).await.unwrap();
    let read = quotes.quotes.get(&quote.key()).await.unwrap().unwrap();
    // Two tabs decide at once: exactly one wins.
    let (a, b) = tokio::join!(
        quotes.decide(&read, true, "ada@example.com", 1),
        quotes.decide(&read, false, "ada@example.com", 2)
    );
    assert_eq!(a.is_ok() as u8 + b.is_ok() as u8, 1, "{a:?} {b:?}");
    let stored = quotes.quotes.get(&quote.key()).await.unwrap().unwrap();
    assert_ne!(stored.record.state, QuoteState::Open);
    assert!(
        matches!(
            quotes.decide(&stored, true, "x", 3).await,
            Err(RecordError::Conflict(_))
        ),
        "decided already"
    );
    let (list, _) = quotes
        .quotes
        .list("CUSTOMER#c1", "QUOTE#", 10, None, true)
        .await
        .unwrap();
    assert_eq!(list.len(), 1);

    // A quote past its date cannot be accepted (declining it is still fine).
    let mut old = quote.clone();
    old.id = "q-old".into();
    old.valid_until = "2026-11-30".into();
    quotes.quotes.create(&old).await.unwrap();
    let read = quotes.quotes.get(&old.key()).await.unwrap().unwrap();
    let dec_1 = 1_764_547_200; // 2025-12-01
    let dec_1_next_year = dec_1 + 365 * 86_400;
    match quotes
        .decide(&read, true, "ada@example.com", dec_1_next_year)
        .await
    {
        Err(RecordError::Conflict(m)) => assert!(m.contains("expired on 2026-11-30"), "{m}"),
        other => panic!("an expired quote was accepted: {other:?}"),
    }
    assert!(quotes
        .decide(&read, false, "ada@example.com", dec_1_next_year)
        .await
        .is_ok());
}

async fn round_trip<R: Record + PartialEq + std::fmt::Debug>(store: &Arc<dyn Store>, record: R) {
    let repo: Repo<R> = Repo::new(store.clone());
    repo.create(&record).await.unwrap();
    assert!(
        matches!(repo.create(&record).await, Err(RecordError::Conflict(_))),
        "{:?} twice",
        record.key()
    );
    let read = repo.get(&record.key()).await.unwrap().unwrap();
    assert_eq!(read.record, record);
    let key = record.key();
    let prefix: String = key.sk.split('#').next().unwrap().to_string();
    let (listed, _) = repo.list(&key.pk, &prefix, 100, None, false).await.unwrap();
    assert!(listed.contains(&record), "{key} listed under its prefix");
}

pub async fn every_other_record_round_trips(store: Arc<dyn Store>) {
    round_trip(
        &store,
        Attachment {
            issue_id: "i1".into(),
            id: "a1".into(),
            file_name: "till.png".into(),
            media_type: "image/png".into(),
            size: 1234,
            note_id: None,
            created: 5,
        },
    )
    .await;
    round_trip(
        &store,
        Project {
            customer_id: "c1".into(),
            id: "p1".into(),
            name: "Second till".into(),
            description: String::new(),
            status: "active".into(),
        },
    )
    .await;
    round_trip(
        &store,
        Task {
            customer_id: "c1".into(),
            project_id: "p1".into(),
            id: "t1".into(),
            title: "Cable the counter".into(),
            progress: 40,
            hidden: false,
            position: 1,
        },
    )
    .await;
    round_trip(
        &store,
        ProjectDocument {
            customer_id: "c1".into(),
            project_id: "p1".into(),
            id: "d1".into(),
            file_name: "plan.pdf".into(),
            media_type: "application/pdf".into(),
            size: 10,
            uploaded_by: "Staff".into(),
            created: 1,
            note: Some("n1".into()),
        },
    )
    .await;
    round_trip(
        &store,
        ProjectNote {
            customer_id: "c1".into(),
            project_id: "p1".into(),
            id: "n1".into(),
            author: "Staff".into(),
            body: "Internal".into(),
            hidden: true,
            created: 2,
        },
    )
    .await;
    round_trip(
        &store,
        ProjectContact {
            customer_id: "c1".into(),
            project_id: "p1".into(),
            id: "k1".into(),
            name: "Ada".into(),
            role: "Owner".into(),
            email: None,
        },
    )
    .await;
    round_trip(
        &store,
        SecuredDocument {
            customer_id: "c1".into(),
            id: "s1".into(),
            title: "Contract".into(),
            file_name: "contract.pdf".into(),
            media_type: "application/pdf".into(),
            size: 99,
            date: "2026-11-01".into(),
            blob: Some("b1".into()),
        },
    )
    .await;
    let report = Report {
        customer_id: "c1".into(),
        id: "r1".into(),
        kind: ReportKind::Timesheet,
        title: "October".into(),
        date: "2026-10-31".into(),
        lines: vec![
            ReportLine {
                date: "2026-10-02".into(),
                description: "Install".into(),
                quantity: 350,
            },
            ReportLine {
                date: "2026-10-03".into(),
                description: "Training".into(),
                quantity: 150,
            },
        ],
    };
    assert_eq!(report.total(), 500);
    round_trip(&store, report).await;
    round_trip(
        &store,
        Subscription {
            list: "product-news".into(),
            email: "Ada@Example.com".into(),
            name: None,
            confirmed: false,
            created: 1,
        },
    )
    .await;
    let again = Subscription {
        list: "product-news".into(),
        email: "ada@example.com".into(),
        name: None,
        confirmed: false,
        created: 2,
    };
    assert!(
        matches!(
            Repo::new(store.clone()).create(&again).await,
            Err(RecordError::Conflict(_))
        ),
        "one subscription per address"
    );
    round_trip(
        &store,
        AppointmentRequest {
            id: "ap1".into(),
            name: "Ada".into(),
            email: "ada@example.com".into(),
            phone: None,
            company: None,
            topic: "Training".into(),
            mode: "video".into(),
            preferred_times: vec!["2026-12-01T10:00".into()],
            message: String::new(),
            status: "new".into(),
            created: 3,
        },
    )
    .await;
    round_trip(
        &store,
        VisitorRequest {
            id: "rq1".into(),
            kind: RequestKind::Estore,
            name: "Ada".into(),
            email: "ada@example.com".into(),
            company: Some("Harbour Café".into()),
            phone: None,
            details: [("vat_number".to_string(), "GB123".to_string())].into(),
            message: String::new(),
            status: "new".into(),
            created: 4,
        },
    )
    .await;
    round_trip(
        &store,
        ForumCategory {
            id: "tips".into(),
            name: "Tips".into(),
            description: String::new(),
        },
    )
    .await;
    round_trip(
        &store,
        Thread {
            category_id: "tips".into(),
            id: "th1".into(),
            title: "Faster stock takes".into(),
            author: "Ada".into(),
            customer_id: "c1".into(),
            locked: false,
            created: 5,
        },
    )
    .await;
    round_trip(
        &store,
        Post {
            thread_id: "th1".into(),
            id: "po1".into(),
            author: "Ada".into(),
            customer_id: "c1".into(),
            body: "Use the app".into(),
            hidden: false,
            created: 6,
        },
    )
    .await;
    round_trip(
        &store,
        AuditEntry {
            day: "2026-11-23".into(),
            id: "au1".into(),
            at: 7,
            actor: "ada@example.com".into(),
            action: "contact.updated".into(),
            subject: "CUSTOMER#c1 / CONTACT#k1".into(),
            changes: serde_json::json!({"phone": ["", "+44 117"]}),
        },
    )
    .await;
}

pub async fn outbox_senders_never_take_one_mail_twice(store: Arc<dyn Store>) {
    use portal_core::records::guards::{Limit, RateLimits};
    let outbox = Outbox::new(store.clone());
    for i in 0..6 {
        store
            .put(
                portal_core::records::to_item(&Mail::new(format!("p{i}@example.com"), "S", "B"))
                    .unwrap(),
                portal_core::Cond::NotExists,
            )
            .await
            .unwrap();
    }
    let a = tokio::spawn({
        let o = outbox.clone();
        async move { o.take_due(10).await.unwrap() }
    });
    let b = tokio::spawn({
        let o = outbox.clone();
        async move { o.take_due(10).await.unwrap() }
    });
    let (a, b) = (a.await.unwrap(), b.await.unwrap());
    let mut ids: Vec<String> = a.iter().chain(b.iter()).map(|m| m.id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(a.len() + b.len(), 6, "every mail taken once");
    assert_eq!(ids.len(), 6);
    assert!(
        outbox.take_due(10).await.unwrap().is_empty(),
        "leased mails are not due"
    );
    outbox
        .failed(&a.first().or(b.first()).unwrap().clone())
        .await
        .unwrap();
    assert!(
        outbox.take_due(10).await.unwrap().is_empty(),
        "a failed mail backs off"
    );
    assert_eq!(
        outbox.pending(10).await.unwrap().len(),
        6,
        "nothing is lost"
    );

    // Rate limits count in the store: the fourth hit in the window is refused.
    let limits = RateLimits::new(store.clone());
    let limit = Limit {
        max: 3,
        window: 3600,
    };
    let mut answers = Vec::new();
    for _ in 0..4 {
        answers.push(limits.hit("test", "198.51.100.7", limit).await.unwrap());
    }
    assert_eq!(answers, [true, true, true, false]);
    assert!(limits.hit("test", "203.0.113.9", limit).await.unwrap());
}

pub async fn parallel_hits_are_each_counted_and_capped(store: Arc<dyn Store>) {
    use portal_core::records::guards::{Limit, RateLimits};
    let limits = RateLimits::new(store.clone());
    let limit = Limit {
        max: 10,
        window: 3600,
    };
    let mut tasks = Vec::new();
    for _ in 0..30 {
        let limits = limits.clone();
        tasks.push(tokio::spawn(async move {
            limits.hit("login", "ada@example.com", limit).await.unwrap()
        }));
    }
    let mut allowed = 0;
    for t in tasks {
        allowed += usize::from(t.await.unwrap());
    }
    assert_eq!(
        allowed, 10,
        "exactly the limit is let through, however many arrive at once"
    );
    assert_eq!(
        limits
            .current("login", "ada@example.com", 3600)
            .await
            .unwrap(),
        30,
        "every attempt was counted"
    );
}

pub async fn idempotency_claims_settle_by_what_committed(store: Arc<dyn Store>) {
    use portal_core::records::guards::{Answer, Claim, Idempotency};
    use portal_core::store::Write;
    let keys = Idempotency::new(store.clone());
    let answer = Answer {
        status: 201,
        headers: vec![("content-type".into(), "application/json".into())],
        body: r#"{"number":"KST-2026-000001"}"#.into(),
    };
    // A refused request gives its key back: the next attempt does the work.
    let Claim::New(first) = keys.claim("/api/issues", "key-a", "f1").await.unwrap() else {
        panic!("a new key is claimed")
    };
    assert_eq!(
        keys.claim("/api/issues", "key-a", "f1").await.unwrap(),
        Claim::InProgress
    );
    assert_eq!(
        keys.claim("/api/issues", "key-a", "f2").await.unwrap(),
        Claim::Mismatch
    );
    assert_eq!(keys.settle(&first).await.unwrap(), None);
    let Claim::New(second) = keys.claim("/api/issues", "key-a", "f1").await.unwrap() else {
        panic!("a given-back key is claimed again")
    };
    // The work commits with its answer; the attempt then believes it failed (its answer was
    // lost): settling finds the answer and keeps the key.
    let work = portal_core::store::Item::new("ISSUE#1", "ISSUE", serde_json::Map::new());
    store
        .transact(vec![
            Write::Put(work, portal_core::Cond::NotExists),
            second.done(&answer).unwrap(),
        ])
        .await
        .unwrap();
    let settled = keys
        .settle(&second)
        .await
        .unwrap()
        .expect("the answer was kept");
    assert_eq!(
        (settled.status, settled.body.as_str()),
        (Some(201), answer.body.as_str())
    );
    match keys.claim("/api/issues", "key-a", "f1").await.unwrap() {
        Claim::Done(replay) => assert_eq!(replay.body, answer.body),
        other => panic!("a retry gets the first answer, not {other:?}"),
    }
    // An attempt that lost its claim (taken over after its lease) cannot commit its work.
    let Claim::New(old) = keys.claim("/api/issues", "key-b", "f1").await.unwrap() else {
        panic!()
    };
    let mut stale = portal_core::records::to_item(&old.replay).unwrap();
    stale.data.insert("lease_until".into(), 1.into());
    store
        .put(stale, portal_core::Cond::Version(old.version))
        .await
        .unwrap();
    let Claim::New(taker) = keys.claim("/api/issues", "key-b", "f1").await.unwrap() else {
        panic!("an abandoned claim is taken over")
    };
    let late = store
        .transact(vec![
            Write::Put(
                portal_core::store::Item::new("ISSUE#2", "ISSUE", serde_json::Map::new()),
                portal_core::Cond::NotExists,
            ),
            old.done(&answer).unwrap(),
        ])
        .await;
    assert!(late.is_err(), "the old attempt's work does not commit");
    assert!(store
        .get(&portal_core::store::Key::new("ISSUE#2", "ISSUE"))
        .await
        .unwrap()
        .is_none());
    assert_eq!(keys.settle(&taker).await.unwrap(), None);
}

pub async fn files_of_hidden_notes_are_as_hidden_as_the_notes(store: Arc<dyn Store>) {
    use portal_core::records::issues::{Attachment, Note};
    let issues = Issues::new(store.clone());
    let (filed, token) = issues
        .file(issue(None), "KST", 2026, |_: &Issue, _: &str| None)
        .await
        .unwrap();
    for (id, public) in [("public-note", true), ("hidden-note", false)] {
        let note = Note {
            issue_id: filed.id.clone(),
            id: id.into(),
            author: "Staff".into(),
            body: "See the file".into(),
            public,
            created: 1,
        };
        let file = Attachment {
            issue_id: filed.id.clone(),
            id: format!("file-of-{id}"),
            file_name: format!("{id}.txt"),
            media_type: "text/plain".into(),
            size: 1,
            note_id: Some(id.into()),
            created: 1,
        };
        issues
            .add_note_with(
                "support",
                &note,
                vec![portal_core::store::Write::Put(
                    portal_core::records::to_item(&file).unwrap(),
                    portal_core::Cond::NotExists,
                )],
            )
            .await
            .unwrap();
    }
    // A file whose note is not found is as hidden as a hidden note's (fail closed).
    let orphan = Attachment {
        issue_id: filed.id.clone(),
        id: "file-of-nothing".into(),
        file_name: "orphan.txt".into(),
        media_type: "text/plain".into(),
        size: 1,
        note_id: Some("no-such-note".into()),
        created: 1,
    };
    store
        .put(
            portal_core::records::to_item(&orphan).unwrap(),
            portal_core::Cond::NotExists,
        )
        .await
        .unwrap();
    let names = |files: Vec<Attachment>| files.into_iter().map(|a| a.file_name).collect::<Vec<_>>();
    assert_eq!(
        names(issues.attachments(&filed.id, false).await.unwrap()),
        ["public-note.txt"]
    );
    assert_eq!(issues.attachments(&filed.id, true).await.unwrap().len(), 3);
    let thread = issues
        .thread_by_token(&token, false)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(names(thread.attachments), ["public-note.txt"]);
}

pub async fn webhook_deliveries_are_taken_once_retried_and_given_up(store: Arc<dyn Store>) {
    use portal_core::records::webhooks::{Outcome, Webhooks, RETRY_DELAYS};
    let hooks = Webhooks::new(store.clone());
    // Refused before anything is stored.
    for (url, events) in [
        ("http://example.com/hook", "*"),
        ("https://10.0.0.7/hook", "*"),
        ("https://example.com/hook", "issue"),
    ] {
        assert!(matches!(
            hooks.add(url, vec![events.into()], None, false).await,
            Err(RecordError::Conflict(_))
        ));
    }
    assert!(hooks.list().await.unwrap().is_empty());
    let endpoint = hooks
        .add(
            "http://127.0.0.1:9/hook",
            vec!["issue.*".into()],
            Some("ops@example.com".into()),
            true,
        )
        .await
        .unwrap();
    assert!(endpoint.secret.starts_with("whsec_"));
    let queued = hooks.queue_test(&endpoint).await.unwrap();
    // Two senders at once: one takes it.
    let (a, b) = tokio::join!(hooks.take_due(10), hooks.take_due(10));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.len() + b.len(), 1, "taken once");
    let taken = a.into_iter().chain(b).next().unwrap();
    assert_eq!(taken.message, queued.message);
    assert!(hooks.take_due(10).await.unwrap().is_empty(), "leased");

    let failed = Outcome {
        status: Some(500),
        error: Some("the endpoint answered 500".into()),
        millis: 3,
    };
    let found = hooks.get(&endpoint.id).await.unwrap().unwrap();
    let first = hooks.attempted(&taken, &found, &failed).await.unwrap();
    assert_eq!((first.number, first.outcome.as_str()), (1, "retrying"));
    assert!(
        hooks.take_due(10).await.unwrap().is_empty(),
        "the next attempt waits {} s",
        RETRY_DELAYS[0]
    );

    // The last attempt fails: the endpoint is disabled and the business is told, at once.
    let mut last = taken.clone();
    last.attempts = RETRY_DELAYS.len() as u32;
    store
        .put(
            portal_core::records::to_item(&last).unwrap(),
            portal_core::Cond::None,
        )
        .await
        .unwrap();
    let gave_up = hooks.attempted(&last, &found, &failed).await.unwrap();
    assert_eq!(gave_up.outcome, "gave up");
    assert_eq!(gave_up.number as usize, RETRY_DELAYS.len() + 1);
    let now_disabled = hooks.get(&endpoint.id).await.unwrap().unwrap().record;
    assert!(now_disabled.disabled.is_some());
    assert!(now_disabled
        .disabled_reason
        .unwrap()
        .contains("the endpoint answered 500"));
    let mails = Outbox::new(store.clone()).pending(10).await.unwrap();
    assert!(mails
        .iter()
        .any(|m| m.to == "ops@example.com" && m.body.contains(&endpoint.id)));
    let attempts = hooks.attempts(&endpoint.id, 10).await.unwrap();
    assert_eq!(
        attempts.iter().map(|a| a.number).collect::<Vec<_>>(),
        [RETRY_DELAYS.len() as u32 + 1, 1],
        "newest first"
    );
    // Enabled again, it takes a message; a later message given up then leaves it enabled.
    assert!(hooks
        .set_disabled(&endpoint.id, None)
        .await
        .unwrap()
        .disabled
        .is_none());
    let found = hooks.get(&endpoint.id).await.unwrap().unwrap();
    let queued = hooks.queue_test(&found.record).await.unwrap();
    let taken = hooks.take_one(&queued).await.unwrap().expect("waiting");
    assert!(
        hooks.take_one(&queued).await.unwrap().is_none(),
        "taken once"
    );
    let ok = Outcome {
        status: Some(204),
        error: None,
        millis: 2,
    };
    assert_eq!(
        hooks.attempted(&taken, &found, &ok).await.unwrap().outcome,
        "delivered"
    );
    let mut another = hooks.queue_test(&found.record).await.unwrap();
    another.attempts = RETRY_DELAYS.len() as u32;
    store
        .put(
            portal_core::records::to_item(&another).unwrap(),
            portal_core::Cond::None,
        )
        .await
        .unwrap();
    let found = hooks.get(&endpoint.id).await.unwrap().unwrap();
    assert_eq!(
        hooks
            .attempted(&another, &found, &failed)
            .await
            .unwrap()
            .outcome,
        "gave up"
    );
    assert!(
        hooks
            .get(&endpoint.id)
            .await
            .unwrap()
            .unwrap()
            .record
            .disabled
            .is_none(),
        "an endpoint that took a message in the last three days stays enabled"
    );
    // Removed, it is gone.
    hooks.remove(&endpoint.id).await.unwrap();
    assert!(hooks.get(&endpoint.id).await.unwrap().is_none());
}

pub async fn readers_rate_articles_and_searches_that_found_nothing_are_counted(
    store: Arc<dyn Store>,
) {
    use portal_core::records::feedback::{ArticleFeedback, ReaderSignals};
    let signals = ReaderSignals::new(store.clone());
    for (i, (helpful, comment)) in [(true, None), (false, Some("Too short")), (false, None)]
        .into_iter()
        .enumerate()
    {
        let answer = ArticleFeedback {
            article: "refund-a-sale".into(),
            id: format!("f{i}"),
            helpful,
            comment: comment.map(str::to_string),
            created: now() - i as i64,
        };
        store.transact(answer.writes().unwrap()).await.unwrap();
    }
    let scores = signals.scores(8).await.unwrap();
    assert_eq!(scores.len(), 1);
    let s = &scores[0];
    assert_eq!((s.helpful, s.unhelpful, s.helpful_percent()), (1, 2, 33));
    assert_eq!(s.comments.len(), 1);
    assert_eq!(s.comments[0].comment.as_deref(), Some("Too short"));

    for words in ["Parrot  Feeder", "parrot feeder", "gift card"] {
        assert!(signals.record_miss(words).await.unwrap());
    }
    assert!(
        !signals.record_miss("   ").await.unwrap(),
        "nothing to record"
    );
    assert!(
        !signals.record_miss(&"x".repeat(101)).await.unwrap(),
        "too long to be a person's search"
    );
    let misses = signals.misses(8, 10).await.unwrap();
    let seen: Vec<(&str, i64)> = misses.iter().map(|m| (m.words.as_str(), m.count)).collect();
    assert_eq!(seen, [("parrot feeder", 2), ("gift card", 1)]);
}
