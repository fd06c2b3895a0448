//! The request budget on DynamoDB: every route of the budget table
//! (`portal_functions::budget::BUDGETS`) served by its function under the Lambda emulator,
//! over the demo data in DynamoDB on the local AWS API, with a counting proxy in between
//! that records each call by operation. A route that makes more calls than its budget fails.

mod common;

use std::time::Instant;

use common::counting::CountingProxy;
use common::emulator::Emulator;
use portal_functions::budget::BUDGETS;
use serde_json::Value;

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

#[test]
fn every_route_keeps_to_its_dynamodb_budget_under_the_lambda_emulator() {
    let table = format!("dynamodb:budget-{}", std::process::id());
    let (_dir, bundle) = common::emulator::demo_bundle(&table);
    let proxy = CountingProxy::start(&common::aws_endpoint());
    let aws = [
        ("AWS_ENDPOINT_URL", proxy.url.as_str()),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_REGION", "us-east-1"),
    ];
    let lambda = Emulator::start(&bundle, &table, &aws);

    // What later routes need: a session, an issue and its tracking link.
    let login = r#"{"email": "ada@harbour-cafe.example", "password": "harbour cafe demo"}"#;
    let (status, headers, body) = lambda.call("POST", "auth", "/api/auth/login", Some(login), None);
    assert_eq!(status, 200, "{body}");
    let cookie = common::emulator::session_cookie(&headers);
    let issue = r#"{"name": "Ada", "email": "ada@example.com", "subject": "Till freezes", "description": "After the third sale."}"#;
    let (status, _, filed) = lambda.call("POST", "issues", "/api/issues", Some(issue), None);
    assert_eq!(status, 201, "{filed}");
    let filed = json(&filed);
    let token = common::tracking_token(&filed);
    let (status, _, address) = lambda.call(
        "POST",
        "account",
        "/api/my/calendar-feed",
        Some("{}"),
        Some(&cookie),
    );
    assert_eq!(status, 201, "{address}");
    let address = json(&address)["url"].as_str().unwrap().to_string();
    let feed = address
        .split_once("/my/calendar-feed/")
        .unwrap()
        .1
        .to_string();
    // Every function has started and read what it keeps for its life (the form key, which a
    // page with forms signs its session's token with).
    for (f, path) in [
        ("account", "/my/kb/price-increase-2027"),
        ("events", "/api/forms/token"),
        ("search", "/api/search?q=till"),
    ] {
        lambda.call("GET", f, path, None, Some(&cookie));
    }
    proxy.take();

    let mut report = Vec::new();
    let mut over = Vec::new();
    for (n, b) in BUDGETS.iter().enumerate() {
        let path = b.path.replace("{token}", &token).replace("{feed}", &feed);
        let body = b.body.map(|s| s.replace("{n}", &n.to_string()));
        let key = format!("budget-route-{}-{n:04}", std::process::id());
        let mut headers = vec![("idempotency-key", key.as_str())];
        if b.session {
            headers.push(("cookie", cookie.as_str()));
        }
        let started = Instant::now();
        let (status, _, answer) =
            lambda.call_with(b.method, b.function, &path, body.as_deref(), &headers);
        let took = started.elapsed();
        let calls = proxy.take();
        assert!(
            (200..400).contains(&status),
            "{} {path}: {status} {answer}",
            b.method
        );
        report.push(format!(
            "| `{} {}` | {} | {} ({}) | {:.0} ms |",
            b.method,
            b.path,
            b.calls,
            calls.len(),
            summary(&calls),
            took.as_secs_f64() * 1000.0
        ));
        if calls.len() > b.calls {
            over.push(format!(
                "{} {path}: {} calls, budget {}: {calls:?}",
                b.method,
                calls.len(),
                b.calls
            ));
        }
    }
    println!(
        "| route | budget | calls | time |\n|---|---|---|---|\n{}",
        report.join("\n")
    );
    assert!(over.is_empty(), "over budget:\n{}", over.join("\n"));
}

/// "2 GetItem, 1 Query".
fn summary(calls: &[String]) -> String {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for c in calls {
        match counts.iter_mut().find(|(k, _)| k == c) {
            Some((_, n)) => *n += 1,
            None => counts.push((c.clone(), 1)),
        }
    }
    counts
        .iter()
        .map(|(k, n)| format!("{n} {k}"))
        .collect::<Vec<_>>()
        .join(", ")
}
