//! The staff and integration API, black-box over HTTP against `portal serve`, on the
//! embedded store and on DynamoDB: keys made with `portal admin keys`, every refusal (no
//! key, unknown key, revoked key, wrong scope, stale `If-Match`, bad field), and the
//! operations as a business's CRM would drive them.

mod common;

use std::path::Path;

use common::{admin, Server};
use serde_json::{json, Value};

const JSON: &str = "application/json";

/// Two tests of `$name`: on the embedded store and on DynamoDB (a table `$table-{pid}`),
/// each on the demo site changed by `$edit`, calling `$run(server, spec, dir)`.
macro_rules! on_both {
    ($name:ident, $table:literal, $edit:expr, $run:expr) => {
        mod $name {
            use super::*;

            #[test]
            fn on_the_embedded_store() {
                let (dir, server) = common::demo_site("", None, $edit);
                let spec = format!(
                    "sqlite:{}",
                    dir.path().join("data").join("portal.db").display()
                );
                let run: fn(&Server, &str, &Path) = $run;
                run(&server, &spec, dir.path());
            }

            #[test]
            fn on_dynamodb() {
                let table = format!("dynamodb:{}-{}", $table, std::process::id());
                let (dir, server) = common::demo_site("", Some(&table), $edit);
                let run: fn(&Server, &str, &Path) = $run;
                run(&server, &table, dir.path());
            }
        }
    };
}

/// Calls `method path` with `body` (JSON) and `headers`: status, headers and body as JSON
/// (null when it is not JSON).
fn call(
    server: &Server,
    method: &str,
    path: &str,
    body: Option<&Value>,
    headers: &[(&str, &str)],
) -> (u16, ureq::http::HeaderMap, Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let url = format!("{}{path}", server.base);
    let mut resp = match (method, body) {
        ("DELETE", _) => {
            let mut r = agent.delete(&url);
            for (k, v) in headers {
                r = r.header(*k, *v);
            }
            r.call()
        }
        ("GET", _) => {
            let mut r = agent.get(&url);
            for (k, v) in headers {
                r = r.header(*k, *v);
            }
            r.call()
        }
        (m, body) => {
            let mut r = match m {
                "POST" => agent.post(&url),
                "PUT" => agent.put(&url),
                "PATCH" => agent.patch(&url),
                other => panic!("no {other}"),
            }
            .header("content-type", JSON);
            for (k, v) in headers {
                r = r.header(*k, *v);
            }
            r.send(body.map(|b| b.to_string()).unwrap_or_default())
        }
    }
    .expect("answered");
    let status = resp.status().as_u16();
    let h = resp.headers().clone();
    let text = resp.body_mut().read_to_string().unwrap_or_default();
    (
        status,
        h,
        serde_json::from_str(&text).unwrap_or(Value::Null),
    )
}

/// Makes a key and returns its secret.
fn key(spec: &str, name: &str, scopes: &str) -> String {
    let out = admin(spec, &["keys", "create", name, "--scope", scopes]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let secret = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(secret.starts_with("cpk_") && secret.len() == 68, "{secret}");
    secret
}

/// When the writes a feed reader waits for were done (none: still going on).
type Done = std::sync::Arc<std::sync::Mutex<Option<std::time::Instant>>>;

/// Polls the change feed at `base` with the key `secret` from the start until it is caught
/// up with everything that happened before `done` is set, and the feed's delay has passed:
/// the events, each once.
fn poll_feed(base: &str, secret: &str, done: Done) -> Vec<Value> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let auth = bearer(secret);
    let mut cursor = String::new();
    let mut events: Vec<Value> = Vec::new();
    let started = std::time::Instant::now();
    loop {
        let mut r = agent
            .get(&format!(
                "{base}/api/staff/changes?limit=50&cursor={cursor}"
            ))
            .header("authorization", &auth)
            .call()
            .expect("answered");
        let text = r.body_mut().read_to_string().unwrap();
        assert_eq!(r.status().as_u16(), 200, "{text}");
        let page: Value = serde_json::from_str(&text).unwrap();
        events.extend(page["events"].as_array().unwrap().iter().cloned());
        cursor = page["cursor"].as_str().unwrap().replace('#', "%23");
        if page["caught_up"] == true {
            let delay = page["delay_seconds"].as_u64().unwrap() + 1;
            if done
                .lock()
                .unwrap()
                .is_some_and(|d| d.elapsed().as_secs() > delay)
            {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(300));
        }
        assert!(started.elapsed().as_secs() < 300, "the feed caught up");
    }
    let mut ids: Vec<&str> = events.iter().map(|e| e["id"].as_str().unwrap()).collect();
    ids.sort();
    let n = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), n, "no event twice");
    events
}

/// Reads the feed to the end of what happened before `done`.
fn read_feed_to_the_end(server: &Server, secret: &str, done: std::time::Instant) -> Vec<Value> {
    poll_feed(
        &server.base,
        secret,
        std::sync::Arc::new(std::sync::Mutex::new(Some(done))),
    )
}

fn bearer(secret: &str) -> String {
    format!("Bearer {secret}")
}

fn exercise(server: &Server, spec: &str, outbox: &Path) {
    let writer = key(spec, "crm", "issues:write,customers:write");
    let reader = key(spec, "dashboard", "issues:read");
    let w = bearer(&writer);
    let r = bearer(&reader);
    let as_writer = [("authorization", w.as_str())];
    let as_reader = [("authorization", r.as_str())];

    // A visitor files an issue.
    let (status, _, body) = server.post(
        "/api/issues",
        JSON,
        r#"{"name": "Vera Visitor", "email": "vera@example.com", "subject": "Till drawer stuck", "description": "It will not open."}"#,
    );
    assert_eq!(status, 201, "{body}");
    let filed: Value = serde_json::from_str(&body).unwrap();
    let number = filed["number"].as_str().unwrap().to_string();
    let token = common::tracking_token(&filed);
    // The business hears of it, and of the visitor's note that follows.
    let (status, _, body) = server.post(
        &format!("/api/track/{token}/notes"),
        JSON,
        r#"{"body": "It beeps twice, then nothing."}"#,
    );
    assert_eq!(status, 201, "{body}");
    let mails = Server::mails(outbox);
    for (subject, text) in [
        (
            format!("[{number}] New: Till drawer stuck"),
            "It will not open.",
        ),
        (
            format!("[{number}] Note from Vera Visitor"),
            "It beeps twice, then nothing.",
        ),
    ] {
        assert!(
            mails
                .iter()
                .any(|m| m.contains("support@kestrel-systems.co.uk")
                    && m.contains(&subject)
                    && m.contains(text)),
            "the business is told: {subject}"
        );
    }

    // Refusals: no key, a string that is no key, a key without the scope.
    let (status, h, body) = call(server, "GET", "/api/staff/issues", None, &[]);
    assert_eq!(status, 401, "{body}");
    assert!(h
        .get("www-authenticate")
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("Bearer"));
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("Authorization: Bearer"));
    let forged = format!("Bearer cpk_{}", "0".repeat(64));
    let (status, _, _) = call(
        server,
        "GET",
        "/api/staff/issues",
        None,
        &[("authorization", &forged)],
    );
    assert_eq!(status, 401);
    let reply = json!({"body": "We are sending an engineer."});
    let path = format!("/api/staff/issues/{number}/replies");
    let (status, _, body) = call(server, "POST", &path, Some(&reply), &as_reader);
    assert_eq!(status, 403, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("issues:write"));

    // The queue shows the new issue, to a key that may read issues.
    let (status, _, queue) = call(
        server,
        "GET",
        "/api/staff/issues?binder=support&status=new",
        None,
        &as_reader,
    );
    assert_eq!(status, 200, "{queue}");
    let entry = queue["issues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["number"] == number.as_str())
        .unwrap_or_else(|| panic!("{number} in {queue}"));
    assert_eq!(entry["subject"], "Till drawer stuck");
    assert_eq!(entry["assignee"], Value::Null);
    let (status, _, body) = call(
        server,
        "GET",
        "/api/staff/issues?binder=nope",
        None,
        &as_reader,
    );
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (422, Some("binder"))
    );
    // Paging one at a time reaches the same issue.
    let mut cursor = String::new();
    let mut seen = Vec::new();
    for _ in 0..50 {
        let (_, _, page) = call(
            server,
            "GET",
            &format!("/api/staff/issues?limit=1&cursor={cursor}"),
            None,
            &as_reader,
        );
        for i in page["issues"].as_array().unwrap() {
            seen.push(i["number"].as_str().unwrap().to_string());
        }
        match page["next"].as_str() {
            Some(n) => cursor = n.replace('|', "%7C"),
            None => break,
        }
    }
    assert!(seen.contains(&number), "{seen:?}");
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "no issue twice: {seen:?}");

    // A reply is mailed to the submitter and shown on the tracking page; an internal note
    // is not.
    let (status, _, issue) = call(server, "POST", &path, Some(&reply), &as_writer);
    assert_eq!(status, 201, "{issue}");
    let note = json!({"body": "Customer is on the old firmware."});
    let (status, _, issue) = call(
        server,
        "POST",
        &format!("/api/staff/issues/{number}/notes"),
        Some(&note),
        &as_writer,
    );
    assert_eq!(status, 201, "{issue}");
    let notes = issue["notes"].as_array().unwrap();
    assert!(notes
        .iter()
        .any(|n| n["public"] == true && n["body"] == "We are sending an engineer."));
    assert!(notes
        .iter()
        .any(|n| n["public"] == false && n["author"] == "key:crm"));
    let (_, _, tracked) = call(server, "GET", &format!("/api/track/{token}"), None, &[]);
    let text = tracked.to_string();
    assert!(
        text.contains("We are sending an engineer.") && !text.contains("old firmware"),
        "{text}"
    );
    let mails = Server::mails(outbox);
    assert!(
        mails
            .iter()
            .any(|m| m.contains("vera@example.com") && m.contains("We are sending an engineer.")),
        "the reply is mailed: {mails:?}"
    );
    assert!(
        !mails.iter().any(|m| m.contains("old firmware")),
        "an internal note is never mailed"
    );
    let reply_mail = mails
        .iter()
        .find(|m| m.contains("We are sending an engineer."))
        .unwrap();
    assert!(
        !reply_mail.contains("Till drawer stuck") && !reply_mail.contains("Vera Visitor"),
        "nothing the visitor typed goes to their unconfirmed address: {reply_mail}"
    );
    let (status, _, body) = call(
        server,
        "POST",
        &path,
        Some(&json!({"body": "  "})),
        &as_writer,
    );
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (422, Some("body"))
    );

    // Status and assignee, with If-Match.
    let issue_path = format!("/api/staff/issues/{number}");
    let (_, h, current) = call(server, "GET", &issue_path, None, &as_reader);
    let etag = h.get("etag").unwrap().to_str().unwrap().to_string();
    assert_eq!(etag, format!("\"{}\"", current["version"]));
    assert!(current["statuses"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s == "in progress"));
    let stale = format!("\"{}\"", current["version"].as_u64().unwrap() + 7);
    let change = json!({"status": "in progress", "assignee": "sam"});
    let (status, _, body) = call(
        server,
        "PATCH",
        &issue_path,
        Some(&change),
        &[as_writer[0], ("if-match", &stale)],
    );
    assert_eq!(status, 412, "{body}");
    let (_, _, unchanged) = call(server, "GET", &issue_path, None, &as_reader);
    assert_eq!(
        (unchanged["status"].as_str(), unchanged["assignee"].as_str()),
        (Some("new"), None)
    );
    let (status, _, body) = call(
        server,
        "PATCH",
        &issue_path,
        Some(&json!({"status": "shelved", "assignee": "kim"})),
        &as_writer,
    );
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (422, Some("status")),
        "{body}"
    );
    let (_, h, still) = call(server, "GET", &issue_path, None, &as_reader);
    assert_eq!(
        still["assignee"],
        Value::Null,
        "a refused change writes nothing"
    );
    assert_eq!(h.get("etag").unwrap().to_str().unwrap(), etag);
    let lower = format!("bearer {reader}");
    assert_eq!(
        call(
            server,
            "GET",
            &issue_path,
            None,
            &[("authorization", lower.as_str())]
        )
        .0,
        200,
        "the scheme's name is case-insensitive"
    );
    let (status, _, body) = call(
        server,
        "GET",
        "/api/staff/issues?cursor=support%7C%25%25%25",
        None,
        &as_reader,
    );
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (422, Some("cursor")),
        "{body}"
    );
    let (status, _, changed) = call(
        server,
        "PATCH",
        &issue_path,
        Some(&change),
        &[as_writer[0], ("if-match", &etag)],
    );
    assert_eq!(status, 200, "{changed}");
    assert_eq!(
        (changed["status"].as_str(), changed["assignee"].as_str()),
        (Some("in progress"), Some("sam"))
    );
    assert_eq!(
        changed["history"].as_array().unwrap().last().unwrap()["by"],
        "key:crm"
    );
    let (_, _, tracked) = call(server, "GET", &format!("/api/track/{token}"), None, &[]);
    assert_eq!(tracked["status"], "in progress");
    let (_, _, mine) = call(
        server,
        "GET",
        "/api/staff/issues?assignee=sam",
        None,
        &as_reader,
    );
    assert!(mine["issues"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["assignee"] == "sam"));
    assert!(mine["issues"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["number"] == number.as_str()));

    // Customers: an idempotent PUT by the business's own id.
    let cust = json!({"number": "C-2001", "name": "Quay Bakery", "email": "till@quay-bakery.example", "address": ["1 Quay St", "", "Bristol"]});
    let (status, _, body) = call(
        server,
        "PUT",
        "/api/staff/customers/crm-2001",
        Some(&cust),
        &as_reader,
    );
    assert_eq!(status, 403, "{body}");
    let (status, h, created) = call(
        server,
        "PUT",
        "/api/staff/customers/crm-2001",
        Some(&cust),
        &as_writer,
    );
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["name"], "Quay Bakery");
    assert_eq!(
        created["address"],
        json!(["1 Quay St", "Bristol"]),
        "blank lines left out"
    );
    let v1 = h.get("etag").unwrap().to_str().unwrap().to_string();
    let (status, h, again) = call(
        server,
        "PUT",
        "/api/staff/customers/crm-2001",
        Some(&cust),
        &as_writer,
    );
    assert_eq!(
        (status, h.get("etag").unwrap().to_str().unwrap()),
        (200, v1.as_str()),
        "{again}"
    );
    let bad = json!({"number": "C-2001", "name": "Quay Bakery", "email": "not an address"});
    let (status, _, body) = call(
        server,
        "PUT",
        "/api/staff/customers/crm-2001",
        Some(&bad),
        &as_writer,
    );
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (422, Some("email"))
    );
    let renamed =
        json!({"number": "C-2001", "name": "Quay Bakery Ltd", "email": "till@quay-bakery.example"});
    let (status, _, body) = call(
        server,
        "PUT",
        "/api/staff/customers/crm-2001",
        Some(&renamed),
        &[as_writer[0], ("if-match", "\"999\"")],
    );
    assert_eq!(status, 412, "{body}");
    let (status, _, updated) = call(
        server,
        "PUT",
        "/api/staff/customers/crm-2001",
        Some(&renamed),
        &[as_writer[0], ("if-match", &v1)],
    );
    assert_eq!(status, 200, "{updated}");
    let (_, _, got) = call(
        server,
        "GET",
        "/api/staff/customers/crm-2001",
        None,
        &as_writer,
    );
    assert_eq!(
        (got["name"].as_str(), got["email"].as_str()),
        (Some("Quay Bakery Ltd"), Some("till@quay-bakery.example"))
    );
    assert_eq!(
        got["address"],
        json!([]),
        "a PUT replaces the whole account"
    );
    let (status, _, _) = call(
        server,
        "GET",
        "/api/staff/customers/crm-2001",
        None,
        &as_reader,
    );
    assert_eq!(status, 403, "customers need their own scope");

    // Billing: invoices by the business's id, drafts hidden, the balance kept with them.
    let billing = key(spec, "books", "billing:write,customers:read");
    let b = bearer(&billing);
    let as_books = [("authorization", b.as_str())];
    let inv_path = "/api/staff/customers/crm-2001/invoices/inv-77";
    let mut invoice = json!({"number": "INV-77", "date": "2026-11-30", "due": "2026-12-30", "status": "draft",
        "lines": [{"description": "Till licence", "quantity": 2, "unit_cents": 5000, "vat_percent": 20}]});
    let (status, _, body) = call(server, "PUT", inv_path, Some(&invoice), &as_writer);
    assert_eq!(status, 403, "billing needs its own scope: {body}");
    let (status, _, body) = call(server, "PUT", inv_path, Some(&invoice), &as_books);
    assert_eq!(
        (
            status,
            body["total_cents"].as_i64(),
            body["balance_cents"].as_i64()
        ),
        (201, Some(12000), Some(0)),
        "{body}"
    );
    invoice["status"] = json!("open");
    let (status, _, body) = call(server, "PUT", inv_path, Some(&invoice), &as_books);
    assert_eq!(
        (status, body["balance_cents"].as_i64()),
        (200, Some(12000)),
        "issued: owed"
    );
    let (status, _, body) = call(server, "PUT", inv_path, Some(&invoice), &as_books);
    assert_eq!(
        (status, body["balance_cents"].as_i64()),
        (200, Some(12000)),
        "the same again changes nothing"
    );
    let mut broken = invoice.clone();
    broken["lines"][0]["unit_cents"] = json!(i64::MIN);
    let (status, _, body) = call(server, "PUT", inv_path, Some(&broken), &as_books);
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (422, Some("lines[0].unit_cents")),
        "{body}"
    );
    broken = invoice.clone();
    broken["lines"][0]["quantity"] = json!(0);
    let (status, _, body) = call(server, "PUT", inv_path, Some(&broken), &as_books);
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (422, Some("lines[0].quantity")),
        "{body}"
    );
    broken = invoice.clone();
    broken["date"] = json!("30/11/2026");
    let (status, _, body) = call(server, "PUT", inv_path, Some(&broken), &as_books);
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (422, Some("date")),
        "{body}"
    );
    let (status, _, _) = call(
        server,
        "PUT",
        "/api/staff/customers/nobody/invoices/inv-1",
        Some(&invoice),
        &as_books,
    );
    assert_eq!(status, 404);
    let pay_path = "/api/staff/customers/crm-2001/payments/pay-9";
    let payment = json!({"date": "2026-12-01", "amount_cents": 5000, "method": "bank transfer", "invoice_id": "inv-77"});
    let (status, _, body) = call(server, "PUT", pay_path, Some(&payment), &as_books);
    assert_eq!(
        (status, body["balance_cents"].as_i64()),
        (201, Some(7000)),
        "{body}"
    );
    let (status, _, body) = call(server, "PUT", pay_path, Some(&payment), &as_books);
    assert_eq!(
        (status, body["balance_cents"].as_i64()),
        (200, Some(7000)),
        "a retried payment counts once"
    );
    let mut other = payment.clone();
    other["amount_cents"] = json!(6000);
    let (status, _, _) = call(server, "PUT", pay_path, Some(&other), &as_books);
    assert_eq!(status, 409);
    other = payment.clone();
    other["invoice_id"] = json!("inv-404");
    let (status, _, body) = call(
        server,
        "PUT",
        "/api/staff/customers/crm-2001/payments/pay-10",
        Some(&other),
        &as_books,
    );
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (422, Some("invoice_id"))
    );
    // Two requests with one payment id at once (a retry racing the first, with another
    // date): one payment, counted once.
    for n in 0..4 {
        let path = format!("/api/staff/customers/crm-2001/payments/race-{n}");
        let racers: Vec<_> = ["2026-12-01", "2026-12-02"]
            .into_iter()
            .map(|date| {
                let (base, auth, path) = (server.base.clone(), b.clone(), path.clone());
                std::thread::spawn(move || {
                    let agent: ureq::Agent = ureq::Agent::config_builder()
                        .http_status_as_error(false)
                        .build()
                        .into();
                    let body = json!({"date": date, "amount_cents": 100, "method": "card"});
                    agent
                        .put(&format!("{base}{path}"))
                        .header("content-type", JSON)
                        .header("authorization", &auth)
                        .send(body.to_string())
                        .expect("answered")
                        .status()
                        .as_u16()
                })
            })
            .collect();
        let mut statuses: Vec<u16> = racers.into_iter().map(|r| r.join().unwrap()).collect();
        statuses.sort();
        assert!(
            statuses == [201, 409] || statuses == [201, 503],
            "one is recorded, the other refused: {statuses:?}"
        );
    }
    let (_, _, got) = call(
        server,
        "GET",
        "/api/staff/customers/crm-2001",
        None,
        &as_books,
    );
    assert_eq!(
        got["balance_cents"].as_i64(),
        Some(7000 - 400),
        "each raced id counted once"
    );

    invoice["status"] = json!("void");
    let (_, _, body) = call(server, "PUT", inv_path, Some(&invoice), &as_books);
    assert_eq!(
        body["balance_cents"].as_i64(),
        Some(-5400),
        "a voided invoice is owed no more"
    );
    let (_, _, got) = call(
        server,
        "GET",
        "/api/staff/customers/crm-2001",
        None,
        &as_books,
    );
    assert_eq!(got["balance_cents"].as_i64(), Some(-5400));

    // A draft is the business's; once issued, the customer sees it in their account.
    let customers = String::from_utf8_lossy(&admin(spec, &["customers"]).stdout).to_string();
    let harbour = customers
        .lines()
        .find(|l| l.contains("Harbour"))
        .and_then(|l| l.split('\t').next())
        .expect("the demo customer")
        .to_string();
    let (status, h, body) = call(
        server,
        "POST",
        "/api/auth/login",
        Some(&json!({"email": "ada@harbour-cafe.example", "password": "harbour cafe demo"})),
        &[],
    );
    assert_eq!(status, 200, "{body}");
    let cookie = h
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
        .find(|c| c.starts_with("__Host-portal="))
        .unwrap();
    let as_ada = [("cookie", cookie.as_str())];
    let theirs = format!("/api/staff/customers/{harbour}/invoices/inv-draft-1");
    let mut draft = json!({"number": "INV-DRAFT-1", "date": "2026-12-01", "due": "2026-12-31", "status": "draft",
        "lines": [{"description": "Support hours", "quantity": 3, "unit_cents": 4000, "vat_percent": 20}]});
    assert_eq!(call(server, "PUT", &theirs, Some(&draft), &as_books).0, 201);
    let (_, _, mine) = call(server, "GET", "/api/my/invoices", None, &as_ada);
    assert!(
        !mine.to_string().contains("INV-DRAFT-1"),
        "a draft is hidden: {mine}"
    );
    draft["status"] = json!("open");
    assert_eq!(call(server, "PUT", &theirs, Some(&draft), &as_books).0, 200);
    let (_, _, mine) = call(server, "GET", "/api/my/invoices", None, &as_ada);
    assert!(
        mine.to_string().contains("INV-DRAFT-1"),
        "issued, it is shown: {mine}"
    );

    // A customer's comment on a quote reaches the business and the feed.
    let (_, _, quotes) = call(server, "GET", "/api/my/quotes", None, &as_ada);
    let quote = quotes[0]["id"].as_str().expect("a demo quote").to_string();
    let quote_number = quotes[0]["number"].as_str().unwrap().to_string();
    let (status, _, body) = call(
        server,
        "POST",
        &format!("/api/my/quotes/{quote}/comments"),
        Some(&json!({"body": "Can the licence start in January?"})),
        &as_ada,
    );
    assert_eq!(status, 201, "{body}");
    assert!(
        Server::mails(outbox)
            .iter()
            .any(|m| m.contains("support@kestrel-systems.co.uk")
                && m.contains(&format!(
                    "Quote {quote_number} commented on by ada@harbour-cafe.example"
                ))
                && m.contains("Can the licence start in January?")),
        "the business hears of the comment"
    );

    // Logins: invite a person, refuse what would take over someone's login, disable one.
    let (status, _, body) = call(
        server,
        "POST",
        "/api/staff/customers/crm-2001/logins",
        Some(&json!({"email": "Owner@Quay-Bakery.example", "name": "Olu Owner"})),
        &as_writer,
    );
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        (body["active"].as_bool(), body["disabled"].as_bool()),
        (Some(false), Some(false))
    );
    let invitation = Server::mails(outbox)
        .into_iter()
        .rfind(|m| m.to_lowercase().contains("owner@quay-bakery.example"))
        .expect("an activation mail");
    assert!(invitation.contains("/activate/"), "{invitation}");
    let (status, _, body) = call(
        server,
        "POST",
        "/api/staff/customers/crm-2001/logins",
        Some(&json!({"email": "ada@harbour-cafe.example"})),
        &as_writer,
    );
    assert_eq!(
        status, 409,
        "another account's login is never moved: {body}"
    );
    let (status, _, body) = call(
        server,
        "POST",
        "/api/staff/customers/crm-2001/logins",
        Some(&json!({"email": "not-an-address"})),
        &as_writer,
    );
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (422, Some("email"))
    );
    let (status, _, _) = call(
        server,
        "POST",
        "/api/staff/customers/nobody/logins",
        Some(&json!({"email": "x@example.com"})),
        &as_writer,
    );
    assert_eq!(status, 404);
    let ada_login = format!("/api/staff/customers/{harbour}/logins/ada@harbour-cafe.example");
    let (status, _, _) = call(
        server,
        "PATCH",
        &ada_login.replace(&harbour, "crm-2001"),
        Some(&json!({"disabled": true})),
        &as_writer,
    );
    assert_eq!(
        status, 404,
        "a login is changed only through its own customer"
    );
    assert_eq!(call(server, "GET", "/api/me", None, &as_ada).0, 200);
    let (status, _, body) = call(
        server,
        "PATCH",
        &ada_login,
        Some(&json!({"disabled": true})),
        &as_writer,
    );
    assert_eq!(
        (status, body["disabled"].as_bool()),
        (200, Some(true)),
        "{body}"
    );
    assert_eq!(
        call(server, "GET", "/api/me", None, &as_ada).0,
        401,
        "her sessions ended"
    );
    let (status, _, body) = call(
        server,
        "PATCH",
        &ada_login,
        Some(&json!({"disabled": false})),
        &as_writer,
    );
    assert_eq!(
        (status, body["disabled"].as_bool()),
        (200, Some(false)),
        "{body}"
    );

    // The change feed shows what visitors, customers and staff did, once each, in order.
    let feed = key(spec, "feed", "changes:read");
    let events = read_feed_to_the_end(server, &feed, std::time::Instant::now());
    let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    for kind in [
        "issue.filed",
        "issue.noted",
        "issue.replied",
        "issue.assigned",
        "issue.status",
        "customer.created",
        "customer.updated",
        "invoice.put",
        "payment.recorded",
        "login.invited",
        "login.disabled",
        "quote.commented",
    ] {
        assert!(kinds.contains(&kind), "{kind} in the feed: {kinds:?}");
    }
    let filed = events
        .iter()
        .find(|e| e["kind"] == "issue.filed" && e["data"]["number"] == number.as_str())
        .expect("the visitor's filing");
    assert_eq!(filed["actor"], "visitor");
    assert_eq!(filed["data"]["subject"], "Till drawer stuck");
    let at: Vec<i64> = events.iter().map(|e| e["at"].as_i64().unwrap()).collect();
    assert!(at.windows(2).all(|w| w[0] <= w[1]), "in order");
    let (status, _, _) = call(server, "GET", "/api/staff/changes", None, &as_writer);
    assert_eq!(status, 403, "the feed needs changes:read");
    let f = bearer(&feed);
    let (status, _, body) = call(
        server,
        "GET",
        "/api/staff/changes?cursor=nonsense",
        None,
        &[("authorization", f.as_str())],
    );
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (422, Some("cursor"))
    );

    // Every change is audited under the key's name.
    let export = admin(spec, &["export", "-", "--no-files"]);
    let lines = String::from_utf8_lossy(&export.stdout);
    for (actor, action) in [
        ("crm", "issue.replied"),
        ("crm", "issue.noted"),
        ("crm", "issue.assigned"),
        ("crm", "issue.status"),
        ("crm", "customer.created"),
        ("crm", "customer.updated"),
        ("crm", "login.invited"),
        ("crm", "login.disabled"),
        ("crm", "login.enabled"),
        ("books", "invoice.put"),
        ("books", "payment.recorded"),
    ] {
        let by = format!("\"actor\":\"key:{actor}\"");
        assert!(
            lines.lines().any(|l| l.contains(&by) && l.contains(action)),
            "{action} audited"
        );
    }
    assert!(!lines.contains(&writer), "the secret is not stored");

    // Keys are listed with their use, and a revoked key is refused at once.
    let list = String::from_utf8_lossy(&admin(spec, &["keys", "list"]).stdout).to_string();
    assert!(
        list.contains("crm\tissues:write,customers:write")
            && list.contains("dashboard\tissues:read"),
        "{list}"
    );
    let out = admin(spec, &["keys", "revoke", "dashboard"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (status, _, body) = call(server, "GET", "/api/staff/issues", None, &as_reader);
    assert_eq!(status, 401, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("revoked"));
    let out = admin(spec, &["keys", "create", "x", "--scope", "issues:delete"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("`issues:delete` is not a scope"));
}

#[test]
fn staff_drive_issues_and_customers_with_scoped_keys_on_the_embedded_store() {
    let (dir, server) = common::demo_site("", None, |_| {});
    let db = dir.path().join("data").join("portal.db");
    let spec = format!("sqlite:{}", db.display());
    exercise(&server, &spec, &dir.path().join("data").join("outbox"));
}

#[test]
fn staff_drive_issues_and_customers_with_scoped_keys_on_dynamodb() {
    let table = format!("dynamodb:staff-{}", std::process::id());
    let (dir, server) = common::demo_site("", Some(&table), |_| {});
    exercise(&server, &table, &dir.path().join("data").join("outbox"));
}

/// Filings from many visitors at once while a reader polls the feed: every filing's event
/// arrives, once.
fn feed_under_concurrency(server: &Server, spec: &str) {
    let secret = key(spec, "poller", "changes:read");
    let writers: Vec<_> = (0..8)
        .map(|t| {
            let base = server.base.clone();
            std::thread::spawn(move || {
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .build()
                    .into();
                let mut numbers = Vec::new();
                for i in 0..25 {
                    let mut r = agent
                        .post(&format!("{base}/api/issues"))
                        .header("content-type", JSON)
                        .send(&format!(
                            r#"{{"name": "V{t}-{i}", "email": "v{t}-{i}@example.com", "subject": "Load {t}-{i}", "description": "At once."}}"#
                        ))
                        .expect("answered");
                    let body = r.body_mut().read_to_string().unwrap();
                    assert_eq!(r.status().as_u16(), 201, "{body}");
                    let v: Value = serde_json::from_str(&body).unwrap();
                    numbers.push(v["number"].as_str().unwrap().to_string());
                }
                numbers
            })
        })
        .collect();
    // A reader polls all the while, from the start.
    let done: Done = Default::default();
    let reader = {
        let (base, secret, done) = (server.base.clone(), secret.clone(), done.clone());
        std::thread::spawn(move || poll_feed(&base, &secret, done))
    };
    let mut filed: Vec<String> = writers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    *done.lock().unwrap() = Some(std::time::Instant::now());
    let events = reader.join().unwrap();
    let mut seen: Vec<String> = events
        .iter()
        .filter(|e| e["kind"] == "issue.filed")
        .map(|e| e["data"]["number"].as_str().unwrap().to_string())
        .collect();
    filed.sort();
    seen.sort();
    assert_eq!(filed.len(), 200);
    assert_eq!(seen, filed, "every filing in the feed, once");
}

#[test]
fn the_feed_misses_nothing_under_concurrent_writes_on_the_embedded_store() {
    let (dir, server) =
        common::demo_site("posts_per_ip = 1000\nposts_per_email = 1000", None, |_| {});
    let spec = format!(
        "sqlite:{}",
        dir.path().join("data").join("portal.db").display()
    );
    feed_under_concurrency(&server, &spec);
}

#[test]
fn the_feed_misses_nothing_under_concurrent_writes_on_dynamodb() {
    let table = format!("dynamodb:feed-{}", std::process::id());
    let (_dir, server) = common::demo_site(
        "posts_per_ip = 1000\nposts_per_email = 1000",
        Some(&table),
        |_| {},
    );
    feed_under_concurrency(&server, &table);
}

/// What visitors and customers do reaches the change feed, each event with what it is about:
/// a registration and its cancellation, a subscription confirmed and ended, a request, an
/// appointment, article feedback and a customer's changed details.
fn actions_reach_the_feed(server: &Server, spec: &str, outbox: &Path) {
    const FORM: &str = "application/x-www-form-urlencoded";
    let secret = key(spec, "watcher", "changes:read");
    let post = |path: &str, body: &str, status: u16| {
        let (s, _, answer) = server.post(path, JSON, body);
        assert_eq!(s, status, "{path}: {answer}");
    };
    post(
        "/api/events/small-seminar/registrations",
        r#"{"name": "Rae Reg", "email": "rae@example.com", "company": "Rae Ltd"}"#,
        201,
    );
    let token = Server::link_token(outbox, "rae@example.com", "/events/cancel/");
    let (s, _, page) = server.post(&format!("/events/cancel/{token}"), FORM, "");
    assert_eq!(s, 200, "{page}");
    post(
        "/api/newsletters/seminars/subscriptions",
        r#"{"email": "sue@example.com", "name": "Sue"}"#,
        202,
    );
    let token = Server::link_token(outbox, "sue@example.com", "/newsletter/confirm/");
    let (s, _, page) = server.post(&format!("/newsletter/confirm/{token}"), FORM, "");
    assert_eq!(s, 200, "{page}");
    let token = Server::link_token(outbox, "sue@example.com", "/newsletter/unsubscribe/");
    for _ in 0..2 {
        // The second press finds nothing to end, and tells of nothing.
        let (s, _, page) = server.post(&format!("/newsletter/unsubscribe/{token}"), FORM, "");
        assert_eq!(s, 200, "{page}");
    }
    post(
        "/api/requests",
        r#"{"kind": "sales", "name": "Bo", "email": "bo@example.com", "message": "Prices?"}"#,
        201,
    );
    post(
        "/api/appointments",
        r#"{"name": "Cy", "email": "cy@example.com", "topic": "Training", "preferred_times": ["Monday 10:00"]}"#,
        201,
    );
    post(
        "/api/kb/refund-a-sale/feedback",
        r#"{"helpful": false, "comment": "Add a video."}"#,
        201,
    );
    let (s, headers, body) = server.post(
        "/api/auth/login",
        JSON,
        r#"{"email": "ben@clifton-books.example", "password": "clifton books demo"}"#,
    );
    assert_eq!(s, 200, "{body}");
    let cookie = headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|v| v.starts_with("__Host-portal="))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let (s, _, body) = server.post_with(
        "/api/my/profile",
        JSON,
        r#"{"name": "Ben Okafor", "phones": ["0117 496 0999"], "address": ["1 Park Row", "Bristol BS1 5LJ"]}"#,
        &[("cookie", &cookie)],
    );
    assert_eq!(s, 200, "{body}");

    let token = upload(server, "receipt.pdf", b"%PDF-1.4\n% receipt\n");
    let filing = json!({ "name": "Una", "email": "una@example.com", "subject": "Receipt attached",
        "description": "See the file.", "uploads": [token] });
    post("/api/issues", &filing.to_string(), 201);

    let events = read_feed_to_the_end(server, &secret, std::time::Instant::now());
    let of = |kind: &str| -> Vec<&Value> { events.iter().filter(|e| e["kind"] == kind).collect() };
    let files = of("file.uploaded");
    assert_eq!(files.len(), 1, "{events:#?}");
    assert_eq!(files[0]["data"]["files"][0]["file_name"], "receipt.pdf");
    assert!(files[0]["subject"].as_str().unwrap().starts_with("issue "));
    for (kind, field, value) in [
        ("registration.created", "email", "rae@example.com"),
        ("registration.cancelled", "email", "rae@example.com"),
        ("subscription.confirmed", "email", "sue@example.com"),
        ("subscription.ended", "list", "seminars"),
        ("request.created", "email", "bo@example.com"),
        ("appointment.requested", "topic", "Training"),
        ("article.feedback", "comment", "Add a video."),
    ] {
        let found = of(kind);
        assert_eq!(found.len(), 1, "{kind} once: {events:#?}");
        assert_eq!(found[0]["data"][field], value, "{kind}");
    }
    assert_eq!(
        of("registration.created")[0]["data"]["event"],
        "small-seminar"
    );
    let profile = of("customer.profile_changed");
    assert_eq!(profile.len(), 1, "{events:#?}");
    assert_eq!(profile[0]["data"]["changes"]["name"]["new"], "Ben Okafor");
    assert!(profile[0]["customer_id"].is_string());
}

fn small_seminar(content: &Path) {
    std::fs::write(
        content.join("calendar/small-seminar.md"),
        "+++\ntitle = \"Small seminar\"\nstart = 2099-03-04T10:00\nend = 2099-03-04T12:00\nlocation = \"Bristol\"\ncategory = \"Seminar\"\nsummary = \"Three places.\"\nregistration = { capacity = 3 }\n+++\nA small room.\n",
    )
    .unwrap();
}

on_both!(
    visitors_and_customers_actions_reach_the_feed,
    "actions",
    small_seminar,
    |server, spec, dir| actions_reach_the_feed(server, spec, &dir.join("data").join("outbox"))
);

/// GETs `path` with the key `secret`: status, content type and the body as text.
fn get_text(server: &Server, path: &str, secret: &str) -> (u16, String, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut r = agent
        .get(&format!("{}{path}", server.base))
        .header("authorization", &bearer(secret))
        .call()
        .expect("answered");
    let kind = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (
        r.status().as_u16(),
        kind,
        r.body_mut().read_to_string().unwrap_or_default(),
    )
}

/// Registrations with their waiting list, subscribers, requests and appointments, as JSON and
/// as CSV, and the status staff give a request or an appointment.
fn sign_ups_for_staff(server: &Server, spec: &str) {
    let reader = key(spec, "events-desk", "registrations:read");
    let writer = key(spec, "events-admin", "registrations:write");
    let other = key(spec, "helpdesk", "issues:read");
    for (name, email) in [
        ("Ann", "ann@example.com"),
        ("=HYPERLINK(\"x\")", "bob@example.com"),
        ("Cat", "cat@example.com"),
        ("Dan", "dan@example.com"),
    ] {
        let body = json!({ "name": name, "email": email }).to_string();
        let (s, _, answer) = server.post("/api/events/small-seminar/registrations", JSON, &body);
        assert_eq!(s, 201, "{answer}");
    }
    let r = bearer(&reader);
    let as_reader = [("authorization", r.as_str())];
    let (s, _, list) = call(
        server,
        "GET",
        "/api/staff/events/small-seminar/registrations",
        None,
        &as_reader,
    );
    assert_eq!(s, 200, "{list}");
    assert_eq!(
        (&list["capacity"], &list["taken"], &list["waiting"]),
        (&json!(3), &json!(3), &json!(1))
    );
    let statuses: Vec<&str> = list["registrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["confirmed", "confirmed", "confirmed", "waiting"]);
    assert_eq!(list["registrations"][3]["email"], "dan@example.com");
    let (s, kind, csv) = get_text(
        server,
        "/api/staff/events/small-seminar/registrations?format=csv",
        &reader,
    );
    assert_eq!(s, 200, "{csv}");
    assert!(kind.starts_with("text/csv"), "{kind}");
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows[0], "status,name,email,company,registered,checked_in");
    assert_eq!(rows.len(), 5, "{csv}");
    assert!(
        rows[2].starts_with("confirmed,\"'=HYPERLINK(\"\"x\"\")\",bob@example.com"),
        "a name is never a formula: {csv}"
    );
    for (path, status) in [
        ("/api/staff/events/no-such-event/registrations", 404),
        (
            "/api/staff/events/small-seminar/registrations?format=xml",
            422,
        ),
    ] {
        let (s, _, body) = call(server, "GET", path, None, &as_reader);
        assert_eq!(s, status, "{path}: {body}");
    }
    let o = bearer(&other);
    let (s, _, _) = call(
        server,
        "GET",
        "/api/staff/events/small-seminar/registrations",
        None,
        &[("authorization", o.as_str())],
    );
    assert_eq!(s, 403, "another area's key");

    // Subscribers.
    let (s, _, answer) = server.post(
        "/api/newsletters/seminars/subscriptions",
        JSON,
        r#"{"email": "sue@example.com", "name": "Sue"}"#,
    );
    assert_eq!(s, 202, "{answer}");
    let (s, _, page) = call(
        server,
        "GET",
        "/api/staff/newsletters/seminars/subscribers",
        None,
        &as_reader,
    );
    assert_eq!(s, 200, "{page}");
    assert_eq!(page["subscribers"][0]["email"], "sue@example.com");
    assert_eq!(page["subscribers"][0]["confirmed"], false);
    let (s, _, csv) = get_text(
        server,
        "/api/staff/newsletters/seminars/subscribers?format=csv",
        &reader,
    );
    assert_eq!(s, 200);
    assert!(csv.contains("sue@example.com,Sue,no,"), "{csv}");
    let (s, _, _) = call(
        server,
        "GET",
        "/api/staff/newsletters/no-such-list/subscribers",
        None,
        &as_reader,
    );
    assert_eq!(s, 404);

    // Requests and appointments, and their status.
    for (path, body) in [
        (
            "/api/requests",
            r#"{"kind": "estore", "name": "Eve", "email": "eve@example.com", "address": "1 High St", "message": "An account, please."}"#,
        ),
        (
            "/api/appointments",
            r#"{"name": "Fay", "email": "fay@example.com", "topic": "Training", "mode": "video", "preferred_times": ["Monday 10:00"]}"#,
        ),
    ] {
        let (s, _, answer) = server.post(path, JSON, body);
        assert_eq!(s, 201, "{answer}");
    }
    let w = bearer(&writer);
    let as_writer = [("authorization", w.as_str())];
    for (list, field, who) in [
        ("requests", "requests", "eve@example.com"),
        ("appointments", "appointments", "fay@example.com"),
    ] {
        let (s, _, page) = call(
            server,
            "GET",
            &format!("/api/staff/{list}"),
            None,
            &as_reader,
        );
        assert_eq!(s, 200, "{page}");
        let first = &page[field][0];
        assert_eq!(first["email"], who);
        assert_eq!(first["status"], "new");
        let reference = first["reference"].as_str().unwrap();
        let version = first["version"].to_string();
        let path = format!("/api/staff/{list}/{reference}");
        let change = json!({ "status": "contacted" });
        let (s, _, _) = call(server, "PATCH", &path, Some(&change), &as_reader);
        assert_eq!(s, 403, "reading is not changing");
        let (s, _, body) = call(
            server,
            "PATCH",
            &path,
            Some(&json!({ "status": "" })),
            &as_writer,
        );
        assert_eq!((s, &body["error"]["field"]), (422, &json!("status")));
        let if_match = format!("\"{version}\"");
        let mut headers = as_writer.to_vec();
        headers.push(("if-match", if_match.as_str()));
        let (s, h, changed) = call(server, "PATCH", &path, Some(&change), &headers);
        assert_eq!(s, 200, "{changed}");
        assert_eq!(changed["status"], "contacted");
        assert!(h.get("etag").is_some());
        let (s, _, _) = call(server, "PATCH", &path, Some(&change), &headers);
        assert_eq!(s, 412, "the version named is gone");
        let (s, _, _) = call(
            server,
            "PATCH",
            &format!("/api/staff/{list}/1.nosuch"),
            Some(&change),
            &as_writer,
        );
        assert_eq!(s, 404);
        let (s, _, csv) = get_text(server, &format!("/api/staff/{list}?format=csv"), &reader);
        assert_eq!(s, 200);
        assert!(
            csv.lines().nth(1).unwrap().contains("contacted") && csv.contains(who),
            "{csv}"
        );
    }
}

on_both!(
    staff_read_sign_ups_and_set_statuses,
    "signups",
    small_seminar,
    |server, spec, _| sign_ups_for_staff(server, spec)
);

/// Logs `email` in and returns its session cookie.
fn session_of(server: &Server, email: &str, password: &str) -> String {
    let body = json!({ "email": email, "password": password }).to_string();
    let (s, headers, answer) = server.post("/api/auth/login", JSON, &body);
    assert_eq!(s, 200, "{answer}");
    headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|v| v.starts_with("__Host-portal="))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string()
}

/// A quote published, revised while open, commented on and accepted by the customer, then
/// refused a revision; another customer never sees it.
fn quotes_for_staff(server: &Server, spec: &str) {
    let writer = key(spec, "quoting", "quotes:write");
    let reader = key(spec, "quote-reader", "quotes:read");
    let w = bearer(&writer);
    let r = bearer(&reader);
    let as_writer = [("authorization", w.as_str())];
    let as_reader = [("authorization", r.as_str())];
    let path = "/api/staff/customers/demo-2/quotes/Q-77";
    let mut quote = json!({
        "number": "Q-2026-077", "date": "2026-12-01", "valid_until": "2099-01-31",
        "lines": [{"description": "Kitchen printer", "quantity": 1, "unit_cents": 30_000, "vat_percent": 20}]
    });
    let (s, h, first) = call(server, "PUT", path, Some(&quote), &as_writer);
    assert_eq!(s, 201, "{first}");
    assert_eq!(
        (&first["state"], &first["total_cents"]),
        (&json!("open"), &json!(36_000))
    );
    assert!(h.get("etag").is_some());
    let (s, _, same) = call(server, "PUT", path, Some(&quote), &as_writer);
    assert_eq!((s, &same["version"]), (200, &first["version"]), "unchanged");
    quote["date"] = json!("2026-12-02");
    quote["lines"]
        .as_array_mut()
        .unwrap()
        .push(json!({"description": "Installation", "quantity": 2, "unit_cents": 5_000, "vat_percent": 20}));
    let (s, _, revised) = call(server, "PUT", path, Some(&quote), &as_writer);
    assert_eq!(
        (s, &revised["total_cents"]),
        (200, &json!(48_000)),
        "{revised}"
    );
    let (s, _, list) = call(
        server,
        "GET",
        "/api/staff/customers/demo-2/quotes",
        None,
        &as_reader,
    );
    assert_eq!(s, 200);
    let ids: Vec<&Value> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|q| q["id"] == "Q-77")
        .collect();
    assert_eq!(ids.len(), 1, "a revision replaces the quote: {list}");

    // Refusals, nothing written.
    for (p, body, headers, status, field) in [
        (
            path,
            json!({"number": "Q", "date": "2026-12-01", "valid_until": "2099-01-01", "lines": [{"description": "X", "quantity": 0, "unit_cents": 1, "vat_percent": 0}]}),
            &as_writer,
            422,
            "lines[0].quantity",
        ),
        (
            path,
            json!({"number": "Q", "date": "2026-12-01", "valid_until": "2026-11-01", "lines": [{"description": "X", "quantity": 1, "unit_cents": 1, "vat_percent": 0}]}),
            &as_writer,
            422,
            "valid_until",
        ),
        (
            "/api/staff/customers/nobody/quotes/Q-1",
            quote.clone(),
            &as_writer,
            404,
            "",
        ),
        (path, quote.clone(), &as_reader, 403, ""),
    ] {
        let (s, _, body) = call(server, "PUT", p, Some(&body), headers);
        assert_eq!(s, status, "{p}: {body}");
        if !field.is_empty() {
            assert_eq!(body["error"]["field"], field);
        }
    }

    // The customer sees the revision, comments and accepts; another customer finds nothing.
    let ben = session_of(server, "ben@clifton-books.example", "clifton books demo");
    let ada = session_of(server, "ada@harbour-cafe.example", "harbour cafe demo");
    let (s, _, body) = server.post_with(
        "/api/my/quotes/Q-77/comments",
        JSON,
        r#"{"body": "Can it be fitted by Friday?"}"#,
        &[("cookie", &ben)],
    );
    assert_eq!(s, 201, "{body}");
    let (s, _, body) = server.post_with(
        "/api/my/quotes/Q-77/decision",
        JSON,
        r#"{"decision": "accept"}"#,
        &[("cookie", &ada)],
    );
    assert_eq!(s, 404, "another customer's quote is not found: {body}");
    let (s, _, body) = server.post_with(
        "/api/my/quotes/Q-77/decision",
        JSON,
        r#"{"decision": "accept"}"#,
        &[("cookie", &ben)],
    );
    assert_eq!(s, 200, "{body}");
    let (s, _, decided) = call(server, "GET", path, None, &as_reader);
    assert_eq!(s, 200);
    assert_eq!(decided["state"], "accepted");
    assert_eq!(decided["decided_by"], "ben@clifton-books.example");
    assert_eq!(
        decided["comments"][0]["body"],
        "Can it be fitted by Friday?"
    );
    let (s, _, body) = call(server, "PUT", path, Some(&quote), &as_writer);
    assert_eq!(s, 409, "a decided quote is not revised: {body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("new id"));
    let (s, _, _) = call(
        server,
        "GET",
        "/api/staff/customers/demo-1/quotes/Q-77",
        None,
        &as_reader,
    );
    assert_eq!(s, 404, "not under another customer");
}

on_both!(
    staff_publish_and_revise_quotes,
    "quotes",
    |_| {},
    |server, spec, _| quotes_for_staff(server, spec)
);

/// GETs `path` with a customer's session: status and the body as JSON.
fn get_as(server: &Server, path: &str, cookie: &str) -> (u16, Value) {
    let (s, _, body) = call(server, "GET", path, None, &[("cookie", cookie)]);
    (s, body)
}

/// A project with tasks (one hidden), notes (one hidden) and a contact, and a timesheet:
/// the customer sees what is theirs and not hidden, another customer nothing.
fn projects_and_reports_for_staff(server: &Server, spec: &str) {
    let writer = key(spec, "pm-tool", "projects:write,reports:write");
    let w = bearer(&writer);
    let as_writer = [("authorization", w.as_str())];
    let put = |path: &str, body: Value| call(server, "PUT", path, Some(&body), &as_writer);
    let base = "/api/staff/customers/demo-2/projects/P-1";
    let (s, _, p) = put(base, json!({"name": "Second till", "status": "planned"}));
    assert_eq!(s, 201, "{p}");
    assert_eq!(
        put(base, json!({"name": "Second till", "status": "planned"})).0,
        200
    );
    for (task, body) in [
        (
            "T-1",
            json!({"title": "Survey", "progress": 100, "position": 1}),
        ),
        (
            "T-2",
            json!({"title": "Margin check", "progress": 0, "hidden": true, "position": 2}),
        ),
        (
            "T-1",
            json!({"title": "Survey", "progress": 100, "position": 3}),
        ),
    ] {
        let (s, _, b) = put(&format!("{base}/tasks/{task}"), body);
        assert!(s == 200 || s == 201, "{b}");
    }
    for (body, hidden) in [
        ("Fitting booked for Friday.", false),
        ("Ask for a deposit.", true),
    ] {
        let (s, _, b) = call(
            server,
            "POST",
            &format!("{base}/notes"),
            Some(&json!({"body": body, "hidden": hidden})),
            &as_writer,
        );
        assert_eq!(s, 201, "{b}");
    }
    let (s, _, whole) = put(
        &format!("{base}/contacts/K-1"),
        json!({"name": "Sam Fitter", "role": "engineer", "email": "sam@example.com"}),
    );
    assert_eq!(s, 200, "{whole}");
    let titles: Vec<&str> = whole["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        ["Margin check", "Survey"],
        "one T-1, moved to position 3"
    );
    assert_eq!(whole["notes"].as_array().unwrap().len(), 2);
    assert_eq!(whole["notes"][0]["author"], "key:pm-tool");
    assert_eq!(whole["contacts"][0]["name"], "Sam Fitter");

    // Refusals.
    for (path, body, status, field) in [
        (
            format!("{base}/tasks/T-3"),
            json!({"title": "X", "progress": 150}),
            422,
            "progress",
        ),
        (
            "/api/staff/customers/demo-2/projects/P-9/tasks/T-1".to_string(),
            json!({"title": "X"}),
            404,
            "",
        ),
        (
            "/api/staff/customers/nobody/projects/P-1".to_string(),
            json!({"name": "X"}),
            404,
            "",
        ),
        (
            format!("{base}/contacts/K-2"),
            json!({"name": "X", "email": "not an address"}),
            422,
            "email",
        ),
    ] {
        let (s, _, b) = put(&path, body);
        assert_eq!(s, status, "{path}: {b}");
        if !field.is_empty() {
            assert_eq!(b["error"]["field"], field);
        }
    }
    let reader = key(spec, "pm-reader", "projects:read");
    let r = bearer(&reader);
    let (s, _, _) = call(
        server,
        "PUT",
        base,
        Some(&json!({"name": "X"})),
        &[("authorization", r.as_str())],
    );
    assert_eq!(s, 403);

    // A timesheet.
    let report = "/api/staff/customers/demo-2/reports/R-1";
    let (s, _, b) = put(
        report,
        json!({"kind": "timesheet", "title": "November visits", "date": "2026-11-30",
               "lines": [{"date": "2026-11-03", "description": "Install", "quantity": 250}]}),
    );
    assert_eq!(s, 201, "{b}");
    let (s, _, b) = put(
        report,
        json!({"kind": "timesheet", "title": "November visits", "date": "2026-11-30",
               "lines": [{"date": "3 Nov", "description": "Install", "quantity": 250}]}),
    );
    assert_eq!((s, &b["error"]["field"]), (422, &json!("lines[0].date")));
    let (s, _, b) = put(
        "/api/staff/customers/demo-2/reports/R-2",
        json!({"kind": "invoice", "title": "X", "date": "2026-11-30", "lines": []}),
    );
    assert_eq!((s, &b["error"]["field"]), (422, &json!("kind")));

    // What the customers see.
    let ben = session_of(server, "ben@clifton-books.example", "clifton books demo");
    let ada = session_of(server, "ada@harbour-cafe.example", "harbour cafe demo");
    let (s, mine) = get_as(server, "/api/my/projects/P-1", &ben);
    assert_eq!(s, 200, "{mine}");
    let text = mine.to_string();
    assert!(text.contains("Survey") && text.contains("Fitting booked for Friday."));
    assert!(
        !text.contains("Margin check") && !text.contains("Ask for a deposit."),
        "hidden parts stay with staff: {text}"
    );
    assert_eq!(get_as(server, "/api/my/projects/P-1", &ada).0, 404);
    let (s, reports) = get_as(server, "/api/my/reports", &ben);
    assert_eq!(s, 200);
    assert!(reports.to_string().contains("November visits"), "{reports}");
    let (_, theirs) = get_as(server, "/api/my/reports", &ada);
    assert!(!theirs.to_string().contains("November visits"));
}

on_both!(
    staff_run_projects_and_reports,
    "projects",
    |_| {},
    |server, spec, _| projects_and_reports_for_staff(server, spec)
);

/// A reply sent twice with one `Idempotency-Key` is made and mailed once, and the second
/// answer is the first; the key means nothing to another API key, and reused for another
/// body it is refused.
fn replies_once(server: &Server, spec: &str, outbox: &Path) {
    let first_key = key(spec, "desk-a", "issues:write");
    let other_key = key(spec, "desk-b", "issues:write");
    let (s, _, body) = server.post(
        "/api/issues",
        JSON,
        r#"{"name": "Ivy", "email": "ivy@example.com", "subject": "Drawer", "description": "Stuck."}"#,
    );
    assert_eq!(s, 201, "{body}");
    let number = serde_json::from_str::<Value>(&body).unwrap()["number"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/api/staff/issues/{number}/replies");
    let a = bearer(&first_key);
    let b = bearer(&other_key);
    let once = "reply-7f3c1e2a-0001";
    let reply = json!({ "body": "Pull the red lever." });
    let mails = || {
        Server::mails(outbox)
            .iter()
            .filter(|m| m.contains("Pull the red lever."))
            .count()
    };
    let (s, h1, first) = call(
        server,
        "POST",
        &path,
        Some(&reply),
        &[("authorization", &a), ("idempotency-key", once)],
    );
    assert_eq!(s, 201, "{first}");
    let (s, h2, again) = call(
        server,
        "POST",
        &path,
        Some(&reply),
        &[("authorization", &a), ("idempotency-key", once)],
    );
    assert_eq!(s, 201, "{again}");
    assert_eq!(again, first, "the first answer again");
    assert_eq!(h2["idempotent-replayed"], "true");
    assert_eq!(h2["etag"], h1["etag"]);
    assert_eq!(mails(), 1, "mailed once");
    let (s, _, body) = call(
        server,
        "POST",
        &path,
        Some(&json!({ "body": "Something else." })),
        &[("authorization", &a), ("idempotency-key", once)],
    );
    assert_eq!(s, 422, "{body}");
    let (s, _, theirs) = call(
        server,
        "POST",
        &path,
        Some(&reply),
        &[("authorization", &b), ("idempotency-key", once)],
    );
    assert_eq!(s, 201, "{theirs}");
    assert_eq!(
        theirs["notes"].as_array().unwrap().len(),
        first["notes"].as_array().unwrap().len() + 1,
        "another key's request is its own"
    );
    assert_eq!(mails(), 2);
}

on_both!(
    staff_writes_with_an_idempotency_key_happen_once,
    "once",
    |_| {},
    |server, spec, dir| replies_once(server, spec, &dir.join("data").join("outbox"))
);

/// Announces and sends a file as any form's client does; its upload token.
fn upload(server: &Server, name: &str, bytes: &[u8]) -> String {
    let (s, _, body) = server.post(
        "/api/uploads",
        JSON,
        &json!({ "file_name": name, "size": bytes.len() }).to_string(),
    );
    assert_eq!(s, 201, "{body}");
    let slot: Value = serde_json::from_str(&body).unwrap();
    let mut req = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent()
        .put(&format!("{}{}", server.base, slot["url"].as_str().unwrap()));
    for (k, v) in slot["headers"].as_object().unwrap() {
        req = req.header(k.as_str(), v.as_str().unwrap());
    }
    assert_eq!(req.send(bytes).unwrap().status().as_u16(), 204);
    slot["upload"].as_str().unwrap().to_string()
}

/// A document shared with one customer through an upload: the customer downloads it,
/// another customer finds nothing; a file that is not what its name says is refused.
fn documents_for_staff(server: &Server, spec: &str, blobs: &Path) {
    let writer = key(spec, "dms", "documents:write");
    let w = bearer(&writer);
    let as_writer = [("authorization", w.as_str())];
    let pdf = b"%PDF-1.4\n% Fitting plan\n";
    let token = upload(server, "Fitting plan.pdf", pdf);
    let path = "/api/staff/customers/demo-2/documents/D-1";
    let doc =
        |token: &str| json!({ "title": "Fitting plan", "date": "2026-12-02", "upload": token });
    let (s, _, shared) = call(server, "PUT", path, Some(&doc(&token)), &as_writer);
    assert_eq!(s, 201, "{shared}");
    assert_eq!(shared["media_type"], "application/pdf");
    assert_eq!(shared["size"], pdf.len());
    // The token went with that document.
    let (s, _, again) = call(server, "PUT", path, Some(&doc(&token)), &as_writer);
    assert_eq!(
        (s, &again["error"]["field"]),
        (422, &json!("upload")),
        "{again}"
    );
    let fake = upload(server, "virus.pdf", b"MZ\x90\x00 not a pdf");
    let (s, _, refused) = call(
        server,
        "PUT",
        "/api/staff/customers/demo-2/documents/D-2",
        Some(&doc(&fake)),
        &as_writer,
    );
    assert_eq!(
        (s, &refused["error"]["field"]),
        (422, &json!("upload")),
        "{refused}"
    );
    let nobody = upload(server, "x.pdf", pdf);
    let before = std::fs::read_dir(blobs).map(|d| d.count()).unwrap_or(0);
    let (s, _, _) = call(
        server,
        "PUT",
        "/api/staff/customers/nobody/documents/D-3",
        Some(&doc(&nobody)),
        &as_writer,
    );
    assert_eq!(s, 404);
    assert!(
        std::fs::read_dir(blobs).map(|d| d.count()).unwrap_or(0) < before,
        "the file of a refused document is removed"
    );

    let ben = session_of(server, "ben@clifton-books.example", "clifton books demo");
    let ada = session_of(server, "ada@harbour-cafe.example", "harbour cafe demo");
    let (s, list) = get_as(server, "/api/my/documents", &ben);
    assert_eq!(s, 200);
    let url = list
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["title"] == "Fitting plan")
        .unwrap_or_else(|| panic!("shared with Ben: {list}"))["file"]["url"]
        .as_str()
        .unwrap()
        .to_string();
    let mut r = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent()
        .get(&format!("{}{url}", server.base))
        .header("cookie", &ben)
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    assert_eq!(r.body_mut().read_to_vec().unwrap(), pdf);
    let (s, _) = get_as(server, &url, &ada);
    assert_eq!(s, 404, "not another customer's");
    let (_, theirs) = get_as(server, "/api/my/documents", &ada);
    assert!(!theirs.to_string().contains("Fitting plan"));

    // Files on a reply reach the submitter; those on an internal note stay with staff.
    let desk = key(spec, "desk-files", "issues:write");
    let d = bearer(&desk);
    let as_desk = [("authorization", d.as_str())];
    let (s, _, body) = server.post(
        "/api/issues",
        JSON,
        r#"{"name": "Ivy", "email": "ivy@example.com", "subject": "Which cable?", "description": "For the drawer."}"#,
    );
    assert_eq!(s, 201, "{body}");
    let filed: Value = serde_json::from_str(&body).unwrap();
    let number = filed["number"].as_str().unwrap();
    let png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR-rest";
    for (what, name, bytes, status) in [
        ("replies", "wiring.pdf", &pdf[..], 201),
        ("notes", "internal.png", &png[..], 201),
    ] {
        let token = upload(server, name, bytes);
        let (s, _, thread) = call(
            server,
            "POST",
            &format!("/api/staff/issues/{number}/{what}"),
            Some(&json!({ "body": format!("See {name}."), "uploads": [token] })),
            &as_desk,
        );
        assert_eq!(s, status, "{thread}");
        assert!(thread["files"].to_string().contains(name), "{thread}");
    }
    let tracked: Value = serde_json::from_str(
        &server
            .get(&format!("/api/track/{}", common::tracking_token(&filed)))
            .2,
    )
    .unwrap();
    let seen = tracked["attachments"].to_string();
    assert!(seen.contains("wiring.pdf"), "the reply's file: {tracked}");
    assert!(
        !seen.contains("internal.png"),
        "not the internal note's: {tracked}"
    );
}

on_both!(
    staff_share_documents,
    "documents",
    |_| {},
    |server, spec, dir| documents_for_staff(server, spec, &dir.join("data").join("blobs"))
);

/// Contacts by the business's ids, and erasing a customer: refused while it has open items,
/// then forced, leaving nothing of it (its login included) and other customers untouched.
fn erasing_customers(server: &Server, spec: &str) {
    let secret = key(
        spec,
        "crm-admin",
        "customers:write,billing:write,quotes:write",
    );
    let w = bearer(&secret);
    let h = [("authorization", w.as_str())];
    let base = "/api/staff/customers/ERASE-1";
    let (s, _, b) = call(
        server,
        "PUT",
        base,
        Some(&json!({"number": "C-9", "name": "Gone Ltd", "email": "office@gone.example"})),
        &h,
    );
    assert_eq!(s, 201, "{b}");
    let (s, _, b) = call(
        server,
        "PUT",
        &format!("{base}/contacts/K-1"),
        Some(&json!({"name": "Pat", "email": "pat@gone.example", "role": "accounts"})),
        &h,
    );
    assert_eq!(s, 200, "{b}");
    for (path, body, status, field) in [
        (
            format!("{base}/contacts/K-2"),
            json!({"name": "X", "email": "nope"}),
            422,
            "email",
        ),
        (
            "/api/staff/customers/nobody/contacts/K-1".to_string(),
            json!({"name": "X", "email": "x@example.com"}),
            404,
            "",
        ),
    ] {
        let (s, _, b) = call(server, "PUT", &path, Some(&body), &h);
        assert_eq!(s, status, "{b}");
        if !field.is_empty() {
            assert_eq!(b["error"]["field"], field);
        }
    }
    let (s, _, list) = call(server, "GET", &format!("{base}/contacts"), None, &h);
    assert_eq!((s, list.as_array().unwrap().len()), (200, 1), "{list}");
    let invite = json!({"email": "pat@gone.example", "name": "Pat"});
    let (s, _, b) = call(server, "POST", &format!("{base}/logins"), Some(&invite), &h);
    assert_eq!(s, 201, "{b}");
    let line =
        json!([{"description": "Till", "quantity": 1, "unit_cents": 1000, "vat_percent": 0}]);
    let (s, _, b) = call(
        server,
        "PUT",
        &format!("{base}/invoices/I-1"),
        Some(
            &json!({"number": "I-1", "date": "2026-12-01", "due": "2026-12-31", "status": "open", "lines": line}),
        ),
        &h,
    );
    assert_eq!(s, 201, "{b}");
    let (s, _, b) = call(
        server,
        "PUT",
        &format!("{base}/quotes/Q-1"),
        Some(
            &json!({"number": "Q-1", "date": "2026-12-01", "valid_until": "2099-01-01", "lines": line}),
        ),
        &h,
    );
    assert_eq!(s, 201, "{b}");

    let (s, _, refused) = call(server, "DELETE", base, None, &h);
    assert_eq!(s, 409, "{refused}");
    let why = refused["error"]["message"].as_str().unwrap();
    assert!(
        why.contains("a balance of 1000") && why.contains("open quote Q-1"),
        "{why}"
    );
    let (s, _, b) = call(server, "GET", base, None, &h);
    assert_eq!(s, 200, "nothing erased: {b}");
    let (s, _, erased) = call(server, "DELETE", &format!("{base}?force=true"), None, &h);
    assert_eq!(s, 200, "{erased}");
    assert!(erased["records"].as_u64().unwrap() >= 6, "{erased}");
    for path in [base.to_string(), format!("{base}/contacts")] {
        assert_eq!(call(server, "GET", &path, None, &h).0, 404, "{path}");
    }
    let (s, _, _) = call(server, "DELETE", base, None, &h);
    assert_eq!(s, 404, "gone");
    // Made again under the same id, it starts empty, and its old login is gone too.
    let (s, _, again) = call(
        server,
        "PUT",
        base,
        Some(&json!({"number": "C-9", "name": "Back Ltd", "email": "office@gone.example"})),
        &h,
    );
    assert_eq!((s, &again["balance_cents"]), (201, &json!(0)), "{again}");
    let (s, _, b) = call(server, "POST", &format!("{base}/logins"), Some(&invite), &h);
    assert_eq!(s, 201, "the address is free again: {b}");
    let (s, _, other) = call(server, "GET", "/api/staff/customers/demo-2", None, &h);
    assert_eq!(
        (s, &other["name"]),
        (200, &json!("Clifton Books")),
        "{other}"
    );
}

on_both!(staff_erase_customers, "erase", |_| {}, |server, spec, _| {
    erasing_customers(server, spec)
});
