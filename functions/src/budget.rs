//! The request budget on DynamoDB: how many calls each route may make to the table, as the
//! deployed functions make them (every call is a network round trip inside a Lambda billed
//! per millisecond, and billed itself). `tests/budget.rs` serves every route here under the
//! Lambda emulator over DynamoDB, counting the calls at the API, and fails a route that
//! makes more than its budget.

/// One route's budget.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// HTTP method.
    pub method: &'static str,
    /// A path of the route (`{token}`: a tracking token the test makes; `{feed}`: a
    /// calendar address's customer and file).
    pub path: &'static str,
    /// The function that serves it.
    pub function: &'static str,
    /// Whether it is asked with a customer's session.
    pub session: bool,
    /// A body to send (`{n}`: a number unique to the route).
    pub body: Option<&'static str>,
    /// DynamoDB calls it may make.
    pub calls: usize,
    /// How it keeps to it: which reads go out together, which may be eventually consistent.
    pub how: &'static str,
}

const fn get(
    path: &'static str,
    function: &'static str,
    calls: usize,
    how: &'static str,
) -> Budget {
    Budget {
        method: "GET",
        path,
        function,
        session: false,
        body: None,
        calls,
        how,
    }
}

const fn mine(path: &'static str, calls: usize, how: &'static str) -> Budget {
    Budget {
        session: true,
        ..get(path, "account", calls, how)
    }
}

/// What every customer page starts with: its session (1 GetItem; once a minute also the
/// UpdateItem that keeps an active session alive, left out of the budgets).
const SESSION: &str = "the session (1)";

/// Every route with a budget. Strongly consistent reads throughout: each page may follow the
/// customer's own post (a note, a decision) and must show it.
pub const BUDGETS: &[Budget] = &[
    Budget {
        method: "POST",
        path: "/api/auth/login",
        function: "auth",
        session: false,
        body: Some(r#"{"email": "ada@harbour-cafe.example", "password": "harbour cafe demo"}"#),
        calls: 4,
        how: "the login; then one transaction counts the attempt per IP address, per account \
              and hour, and per account and minute, each under its ceiling (a new window \
              included); then one transaction starts the session with its pointer, takes the \
              attempt back and remembers the browser; then the customer's name. 5 with a \
              remembered browser's cookie (its record). An attempt that meets a ceiling is \
              counted again one counter at a time (up to 5 calls before its refusal)",
    },
    mine(
        "/my/",
        3,
        "the session, then one read of the customer's partition (account, contacts, \
         invoices, payments, quotes, issues, projects, documents, reports) and one of each \
         project's partition (tasks and progress)",
    ),
    mine("/api/my/account", 2, SESSION),
    mine("/api/my/invoices", 2, SESSION),
    mine("/my/invoices", 2, SESSION),
    mine("/my/payments", 2, SESSION),
    mine(
        "/my/invoices/demo-1-inv-3",
        3,
        "the session, the invoice id's claim (which names the invoice's key), the invoice: \
         the same for the thousandth invoice as for the first",
    ),
    mine("/api/my/payments", 2, SESSION),
    mine(
        "/api/my/statement.csv",
        3,
        "the session, then invoices and payments together",
    ),
    mine("/api/my/quotes", 2, SESSION),
    mine(
        "/my/quotes/demo-1-quote-1",
        3,
        "the session, the quote, its comments",
    ),
    mine("/api/my/issues", 2, SESSION),
    mine(
        "/api/my/projects",
        3,
        "the session, the projects, one read of each project's partition",
    ),
    mine(
        "/my/projects/demo-1-project",
        3,
        "the session, the project, one read of its partition",
    ),
    mine("/api/my/documents", 2, SESSION),
    mine("/api/my/reports", 2, SESSION),
    mine(
        "/api/my/profile",
        3,
        "the session, the account, its contacts (the login is read only when no single \
         contact has its address)",
    ),
    mine("/my/calendar/", 1, "the session; the page is the build's"),
    mine(
        "/my/kb/price-increase-2027",
        1,
        "the session; the page is the build's",
    ),
    mine("/my/calendar-feed", 2, "the session, the login"),
    Budget {
        session: true,
        ..get(
            "/my/search?q=licence",
            "search",
            1,
            "the session; the customers' index is the build's",
        )
    },
    get(
        "/my/calendar-feed/{feed}",
        "account",
        3,
        "the IP address's read counter (one call, a new window included), the address's \
         pointer, the login",
    ),
    get(
        "/api/track/{token}",
        "issues",
        3,
        "the link, then the issue's partition; on the first open in an hour, the link's \
         renewal (its last opening and expiry) sent together with the partition's read: 3 \
         calls in 2 round trips, over the target of 2 calls",
    ),
    get(
        "/track/{token}",
        "issues",
        2,
        "the link, the issue's partition",
    ),
    get(
        "/api/search?q=refund",
        "search",
        0,
        "the index is the build's",
    ),
    Budget {
        method: "POST",
        path: "/api/issues",
        function: "issues",
        session: false,
        body: Some(
            r#"{"name": "Bea {n}", "email": "bea{n}@example.com", "subject": "Receipt printer", "description": "It prints blank receipts."}"#,
        ),
        calls: 4,
        how: "one transaction claims the idempotency key and counts the IP address under its \
              ceiling, then the address's counter, the year's issue counter (each one call, a \
              new one included), then one transaction: the issue, its queue entry, tracking \
              link, idempotency record, mails and change-feed event",
    },
    Budget {
        method: "POST",
        path: "/api/events/stock-control-seminar-january/registrations",
        function: "events",
        session: false,
        body: Some(r#"{"name": "Cal {n}", "email": "cal{n}@example.com"}"#),
        calls: 4,
        how: "the key's claim with the IP address's count, the address's counter, the seats, \
              then one transaction: the registration, seats, idempotency record, mail and \
              event",
    },
];
