//! Black-box tests of logins and the customer area against `portal serve` with its demo data:
//! the rules for sessions, passwords and throttling, activation and reset links, CSRF, and an
//! authorisation walk over every `/api/my` and `/my` route for no session, another customer
//! and the owner.

mod common;

use std::time::{Duration, Instant};

use common::{run, Server};
use serde_json::Value;

const JSON: &str = "application/json";
const FORM: &str = "application/x-www-form-urlencoded";
const ADA: (&str, &str) = ("ada@harbour-cafe.example", "harbour cafe demo");
const BEN: (&str, &str) = ("ben@clifton-books.example", "clifton books demo");

fn site(limits: &str) -> (tempfile::TempDir, Server) {
    common::demo_site(limits, None, |_| {})
}

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

/// The `name=value` of a `Set-Cookie` header for `name`.
fn set_cookie(headers: &ureq::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|v| v.starts_with(&format!("{name}=")))
}

fn login(server: &Server, (email, password): (&str, &str)) -> (u16, String, String) {
    let (status, headers, body) = server.post(
        "/api/auth/login",
        JSON,
        &format!(r#"{{"email": "{email}", "password": "{password}"}}"#),
    );
    let cookie = set_cookie(&headers, "__Host-portal")
        .map(|c| c.split(';').next().unwrap().to_string())
        .unwrap_or_default();
    (status, cookie, body)
}

/// The session's form token in a page of the customer area.
fn csrf_of(page: &str) -> String {
    page.split(r#"name="csrf" value=""#)
        .nth(1)
        .expect("a form with the session's token")
        .split('"')
        .next()
        .unwrap()
        .to_string()
}

/// A staff API key allowed to change customers, made with `portal admin` on the store `spec`.
fn staff_key(spec: &str) -> String {
    let out = common::admin(
        spec,
        &["keys", "create", "crm", "--scope", "customers:write"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Staff change Ada's login through the staff API with `secret`: status and body.
fn patch_ada(server: &Server, secret: &str, body: &str) -> (u16, String) {
    let mut answer = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent()
        .patch(&format!(
            "{}/api/staff/customers/demo-1/logins/ada%40harbour-cafe.example",
            server.base
        ))
        .header("authorization", &format!("Bearer {secret}"))
        .header("content-type", JSON)
        .send(body)
        .unwrap();
    let status = answer.status().as_u16();
    (status, answer.body_mut().read_to_string().unwrap())
}

fn get_as(server: &Server, path: &str, cookie: &str) -> (u16, ureq::http::HeaderMap, String) {
    let mut r = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .new_agent()
        .get(&format!("{}{path}", server.base))
        .header("cookie", cookie)
        .call()
        .unwrap();
    let headers = r.headers().clone();
    (
        r.status().as_u16(),
        headers,
        r.body_mut().read_to_string().unwrap_or_default(),
    )
}

#[test]
fn login_sets_a_strict_session_cookie_and_logout_ends_it_on_the_server() {
    let (_dir, server) = site("");
    let (status, headers, body) = server.post(
        "/api/auth/login",
        JSON,
        &format!(r#"{{"email": "{}", "password": "{}"}}"#, ADA.0, ADA.1),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body)["customer_name"], "Harbour Café");
    let cookie = set_cookie(&headers, "__Host-portal").unwrap();
    for flag in ["; Path=/", "; Secure", "; HttpOnly", "; SameSite=Lax"] {
        assert!(cookie.contains(flag), "{cookie} has {flag}");
    }
    assert!(
        !cookie.contains("Domain="),
        "__Host- cookies have no domain"
    );
    let token = cookie.split(';').next().unwrap().to_string();
    assert_eq!(token.len(), "__Host-portal=".len() + 32, "a 128-bit token");
    assert_eq!(get_as(&server, "/api/me", &token).0, 200);

    // A second login makes a new token; logout ends the session on the server, so the old
    // cookie no longer works even if a browser kept it.
    let (_, second, _) = login(&server, ADA);
    assert_ne!(second, token);
    let (status, headers, _) =
        server.post_with("/api/auth/logout", JSON, "", &[("cookie", &token)]);
    assert_eq!(status, 204);
    assert!(set_cookie(&headers, "__Host-portal")
        .unwrap()
        .contains("Max-Age=0"));
    assert_eq!(get_as(&server, "/api/me", &token).0, 401);
    assert_eq!(
        get_as(&server, "/api/me", &second).0,
        200,
        "other sessions stay"
    );
    assert_eq!(get_as(&server, "/api/me", "__Host-portal=garbage").0, 401);
}

#[test]
fn unknown_addresses_and_wrong_passwords_get_the_same_answer_in_the_same_time() {
    let (_dir, server) = site("");
    let mut timings = [Vec::new(), Vec::new()];
    let mut answers = Vec::new();
    // Five rounds (a login takes five wrong guesses a minute before it answers 429), so the
    // fastest of each kind is what the answer costs even on a busy machine.
    for round in 0..5 {
        for (i, email) in ["nobody@example.com", ADA.0].iter().enumerate() {
            let started = Instant::now();
            let (status, _, body) = server.post(
                "/api/auth/login",
                JSON,
                &format!(r#"{{"email": "{email}", "password": "wrong password {round}"}}"#),
            );
            timings[i].push(started.elapsed());
            answers.push((status, body));
        }
    }
    assert!(answers.iter().all(|a| a == &answers[0]), "{answers:?}");
    assert_eq!(answers[0].0, 401);
    // The fastest of each kind: other tests running beside this one only ever add time, so
    // the minimum is what the answer itself costs.
    let fastest = |v: &[Duration]| v.iter().min().copied().unwrap();
    let (unknown, wrong) = (fastest(&timings[0]), fastest(&timings[1]));
    let gap = unknown.abs_diff(wrong);
    assert!(
        gap < Duration::from_millis(150),
        "unknown {unknown:?} vs wrong {wrong:?}"
    );

    // Forgotten password: one answer for every address.
    let a = server.post(
        "/api/auth/forgot",
        JSON,
        &format!(r#"{{"email": "{}"}}"#, ADA.0),
    );
    let b = server.post(
        "/api/auth/forgot",
        JSON,
        r#"{"email": "nobody@example.com"}"#,
    );
    assert_eq!((a.0, &a.2), (b.0, &b.2));
    assert_eq!(a.0, 202);
}

#[test]
fn guessing_slows_an_address_down_but_cannot_lock_its_owner_out() {
    let (_dir, server) = site("login_failures_per_account = 2\nlogins_per_ip = 12");
    // A browser that has logged in before keeps its device cookie.
    let (status, headers, _) = server.post(
        "/api/auth/login",
        JSON,
        &format!(r#"{{"email": "{}", "password": "{}"}}"#, ADA.0, ADA.1),
    );
    assert_eq!(status, 200);
    let device = set_cookie(&headers, "__Host-portal-device").unwrap();
    let device = device.split(';').next().unwrap().to_string();
    // Attempts are counted per calendar minute: start early in one, so the six attempts
    // below fall in the same window however slowly the machine runs.
    let second = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        % 60;
    if second > 30 {
        std::thread::sleep(Duration::from_secs(61 - second));
    }
    for _ in 0..2 {
        assert_eq!(login(&server, (ADA.0, "a wrong guess")).0, 401);
    }
    // Past the cap, guesses from unknown browsers no longer reach the account: even the right
    // password is refused there …
    assert_eq!(login(&server, ADA).0, 401);
    // … but the owner's own browser still gets in.
    let (status, _, body) = server.post_with(
        "/api/auth/login",
        JSON,
        &format!(r#"{{"email": "{}", "password": "{}"}}"#, ADA.0, ADA.1),
        &[("cookie", &device)],
    );
    assert_eq!(status, 200, "{body}");
    // Past five attempts a minute, an address is told when to come back (nobody is kept
    // waiting on the server) …
    let statuses: Vec<u16> = (0..3)
        .map(|_| login(&server, (ADA.0, "another guess")).0)
        .collect();
    assert_eq!(statuses, [401, 401, 429]);
    let (status, headers, _) = server.post(
        "/api/auth/login",
        JSON,
        &format!(r#"{{"email": "{}", "password": "{}"}}"#, ADA.0, ADA.1),
    );
    assert_eq!(status, 429);
    let wait: u64 = headers
        .get("retry-after")
        .expect("Retry-After")
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    // … except the owner's own browser.
    let (status, _, _) = server.post_with(
        "/api/auth/login",
        JSON,
        &format!(r#"{{"email": "{}", "password": "{}"}}"#, ADA.0, ADA.1),
        &[("cookie", &device)],
    );
    assert_eq!(status, 200);
    // And every IP address has its own hourly budget.
    let mut last = 0;
    for _ in 0..8 {
        last = login(&server, ("someone@example.com", "guess")).0;
    }
    assert_eq!(last, 429);
}

#[test]
fn staff_invite_a_login_whose_activation_link_works_once() {
    let (dir, server) = site("");
    let db = format!("sqlite:{}", dir.path().join("data/portal.db").display());
    let content = dir.path().join("content");
    let listed = run(&["admin", "customers", "--store", &db]);
    let listed = String::from_utf8_lossy(&listed.stdout).to_string();
    assert!(listed.contains("demo-1\tHarbour Café"), "{listed}");
    let invite = run(&[
        "admin",
        "invite",
        "cy@harbour-cafe.example",
        "--customer",
        "demo-1",
        "--name",
        "Cy",
        "--content",
        content.to_str().unwrap(),
        "--store",
        &db,
    ]);
    assert!(
        invite.status.success(),
        "{}",
        String::from_utf8_lossy(&invite.stderr)
    );
    let token = Server::link_token(
        &dir.path().join("data/outbox"),
        "cy@harbour-cafe.example",
        "/activate/",
    );
    let (status, _, page) = server.get(&format!("/activate/{token}"));
    assert_eq!(status, 200);
    assert!(page.contains("Choose your password"));
    // Not active yet: no password works.
    assert_eq!(
        login(&server, ("cy@harbour-cafe.example", "anything at all")).0,
        401
    );
    for (password, field) in [("short", "password"), ("password123", "password")] {
        let (status, _, body) = server.post(
            "/api/auth/activate",
            JSON,
            &format!(r#"{{"token": "{token}", "password": "{password}"}}"#),
        );
        assert_eq!(status, 422, "{body}");
        assert_eq!(json(&body)["error"]["field"], field);
    }
    let body = format!(r#"{{"token": "{token}", "password": "a tidy kitchen counter"}}"#);
    assert_eq!(server.post("/api/auth/activate", JSON, &body).0, 200);
    assert_eq!(
        server.post("/api/auth/activate", JSON, &body).0,
        404,
        "single use"
    );
    let (status, cookie, _) = login(
        &server,
        ("cy@harbour-cafe.example", "a tidy kitchen counter"),
    );
    assert_eq!(status, 200);
    assert_eq!(
        json(&get_as(&server, "/api/me", &cookie).2)["customer_id"],
        "demo-1"
    );

    // Disabling the login ends its sessions at once.
    let off = run(&[
        "admin",
        "disable",
        "cy@harbour-cafe.example",
        "--store",
        &db,
    ]);
    assert!(off.status.success());
    assert_eq!(get_as(&server, "/api/me", &cookie).0, 401);
    assert_eq!(
        login(
            &server,
            ("cy@harbour-cafe.example", "a tidy kitchen counter")
        )
        .0,
        401
    );
}

#[test]
fn a_reset_link_changes_the_password_once_and_ends_every_session() {
    let (dir, server) = site("");
    let (_, before, _) = login(&server, BEN);
    assert_eq!(
        server
            .post(
                "/api/auth/forgot",
                JSON,
                &format!(r#"{{"email": "{}"}}"#, BEN.0)
            )
            .0,
        202
    );
    let token = Server::link_token(&dir.path().join("data/outbox"), BEN.0, "/reset/");
    let body = format!(r#"{{"token": "{token}", "password": "new shelves for poetry"}}"#);
    let (status, headers, _) = server.post("/api/auth/reset", JSON, &body);
    assert_eq!(status, 200);
    assert!(
        set_cookie(&headers, "__Host-portal-device").is_some(),
        "the browser that reset the password stays remembered"
    );
    assert_eq!(
        server.post("/api/auth/reset", JSON, &body).0,
        404,
        "single use"
    );
    assert_eq!(get_as(&server, "/api/me", &before).0, 401, "sessions ended");
    assert_eq!(login(&server, BEN).0, 401, "the old password is gone");
    assert_eq!(login(&server, (BEN.0, "new shelves for poetry")).0, 200);
}

#[test]
fn parallel_guesses_are_each_counted_before_any_is_checked() {
    let (_dir, server) = site("");
    let base = server.base.clone();
    let guesses: Vec<_> = (0..30)
        .map(|i| {
            let url = format!("{base}/api/auth/login");
            std::thread::spawn(move || {
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .build()
                    .into();
                let body = format!(
                    r#"{{"email": "{}", "password": "parallel guess {i}"}}"#,
                    ADA.0
                );
                agent
                    .post(&url)
                    .header("content-type", JSON)
                    .send(body)
                    .expect("answered")
                    .status()
                    .as_u16()
            })
        })
        .collect();
    let mut statuses: Vec<u16> = guesses.into_iter().map(|g| g.join().unwrap()).collect();
    statuses.sort_unstable();
    // Five a minute reach the password check; the other 25 were counted first and told to
    // wait, however closely together they arrived.
    assert_eq!(
        statuses.iter().filter(|s| **s == 401).count(),
        5,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        25,
        "{statuses:?}"
    );
}

#[test]
fn unknown_reset_and_activation_tokens_are_refused_without_work_then_limited() {
    let (_dir, server) = site("posts_per_ip = 20");
    let mut statuses = Vec::new();
    for i in 0..25 {
        let path = if i % 2 == 0 {
            "/api/auth/reset"
        } else {
            "/api/auth/activate"
        };
        let body = format!(
            r#"{{"token": "{:032x}", "password": "a long enough password"}}"#,
            i
        );
        statuses.push(server.post(path, JSON, &body).0);
    }
    assert_eq!(statuses[..20], [404; 20], "{statuses:?}");
    assert_eq!(statuses[20..], [429; 5], "{statuses:?}");
}

#[test]
fn a_password_reset_cancels_a_pending_address_change() {
    let (dir, server) = site("");
    let outbox = dir.path().join("data/outbox");
    let (_, ben, _) = login(&server, BEN);
    let (status, _, body) = server.post_with(
        "/api/my/profile/email",
        JSON,
        &format!(
            r#"{{"email": "thief@example.com", "current": "{}"}}"#,
            BEN.1
        ),
        &[("cookie", &ben)],
    );
    assert_eq!(status, 202, "{body}");
    let change = Server::link_token(&outbox, "thief@example.com", "/my/email/");
    // The owner, told of it, resets the password.
    server.post(
        "/api/auth/forgot",
        JSON,
        &format!(r#"{{"email": "{}"}}"#, BEN.0),
    );
    let reset = Server::link_token(&outbox, BEN.0, "/reset/");
    let body = format!(r#"{{"token": "{reset}", "password": "a fresh start for ben"}}"#);
    assert_eq!(server.post("/api/auth/reset", JSON, &body).0, 200);
    let same = [("sec-fetch-site", "same-origin")];
    let (status, _, page) = server.post_with(&format!("/my/email/{change}"), FORM, "", &same);
    assert_eq!(status, 404, "{page}");
    assert_eq!(
        login(&server, ("thief@example.com", "a fresh start for ben")).0,
        401
    );
    assert_eq!(login(&server, (BEN.0, "a fresh start for ben")).0, 200);
}

/// Waits, if need be, until at least 30 seconds of the current minute (as rate-limit
/// windows count them) are left.
fn fresh_minute() {
    let into = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        % 60;
    if into > 30 {
        std::thread::sleep(Duration::from_secs(61 - into));
    }
}

#[test]
fn guesses_at_the_login_page_never_stop_the_owner_changing_the_password() {
    let (_dir, server) = site("");
    let (_, ben, _) = login(&server, BEN);
    // The guesses are counted per minute: all seven must fall in one, even on a busy machine.
    fresh_minute();
    let guesses: Vec<u16> = (0..7)
        .map(|_| login(&server, (BEN.0, "a guess")).0)
        .collect();
    assert_eq!(guesses.last(), Some(&429), "{guesses:?}");
    let (status, headers, body) = server.post_with(
        "/api/auth/password",
        JSON,
        &format!(
            r#"{{"current": "{}", "password": "still my own shop"}}"#,
            BEN.1
        ),
        &[("cookie", &ben)],
    );
    assert_eq!(status, 200, "{body}");
    assert!(
        set_cookie(&headers, "__Host-portal-device").is_some(),
        "this browser stays remembered under the new password"
    );
}

#[test]
fn a_password_change_ends_other_sessions_unless_asked_not_to() {
    let (_dir, server) = site("");
    let (_, first, _) = login(&server, BEN);
    let (_, second, _) = login(&server, BEN);
    let change = |cookie: &str, current: &str, new: &str, extra: &str| {
        server
            .post_with(
                "/api/auth/password",
                JSON,
                &format!(r#"{{"current": "{current}", "password": "{new}"{extra}}}"#),
                &[("cookie", cookie)],
            )
            .0
    };
    assert_eq!(change(&first, BEN.1, "poetry on every shelf", ""), 200);
    assert_eq!(
        get_as(&server, "/api/me", &second).0,
        401,
        "ended by default"
    );
    let (_, third, _) = login(&server, (BEN.0, "poetry on every shelf"));
    let (_, fourth, _) = login(&server, (BEN.0, "poetry on every shelf"));
    assert_eq!(
        change(
            &third,
            "poetry on every shelf",
            "prose on every shelf",
            r#", "end_other_sessions": "false""#
        ),
        200
    );
    assert_eq!(
        get_as(&server, "/api/me", &fourth).0,
        200,
        "kept when asked"
    );
}

#[test]
fn two_customers_with_the_same_project_and_quote_ids_share_nothing() {
    let (dir, server) = site("");
    let db = format!("sqlite:{}", dir.path().join("data/portal.db").display());
    // A business system gives Ben's account a project and a quote with the ids Ada's have.
    let records = [
        serde_json::json!({"pk": "CUSTOMER#demo-2", "sk": "PROJECT#demo-1-project", "version": 1,
            "data": {"customer_id": "demo-2", "id": "demo-1-project", "name": "Ben's shop fit", "description": "", "status": "active"}}),
        serde_json::json!({"pk": "PROJECT#demo-2#demo-1-project", "sk": "NOTE#000000000001#ben-note", "version": 1,
            "data": {"customer_id": "demo-2", "project_id": "demo-1-project", "id": "ben-note", "author": "Staff", "body": "Ben's private project note", "hidden": false, "created": 1}}),
        serde_json::json!({"pk": "QUOTE#demo-2#demo-1-quote-1", "sk": "COMMENT#000000000001#ben-comment", "version": 1,
            "data": {"customer_id": "demo-2", "quote_id": "demo-1-quote-1", "id": "ben-comment", "author": "Staff", "body": "Ben's private quote comment", "created": 1}}),
    ];
    let file = dir.path().join("overlap.jsonl");
    std::fs::write(
        &file,
        records
            .iter()
            .map(|r| r.to_string() + "\n")
            .collect::<String>(),
    )
    .unwrap();
    let imported = run(&["admin", "import", file.to_str().unwrap(), "--store", &db]);
    assert!(
        imported.status.success(),
        "{}",
        String::from_utf8_lossy(&imported.stderr)
    );
    let (_, ada, _) = login(&server, ADA);
    let (_, ben, _) = login(&server, BEN);
    let (status, _, adas) = get_as(&server, "/api/my/projects/demo-1-project", &ada);
    assert_eq!(status, 200);
    assert!(!adas.contains("Ben's private"), "{adas}");
    let (status, _, bens) = get_as(&server, "/api/my/projects/demo-1-project", &ben);
    assert_eq!(status, 200, "{bens}");
    assert!(bens.contains("Ben's private project note"), "{bens}");
    assert!(
        !bens.contains("Internal") && !bens.contains("plan.txt"),
        "nothing of Ada's: {bens}"
    );
    let (_, _, adas_quote) = get_as(&server, "/api/my/quotes/demo-1-quote-1", &ada);
    assert!(!adas_quote.contains("Ben's private"), "{adas_quote}");
}

#[test]
fn a_new_tracking_link_revokes_the_old_one_and_cases_get_none_by_mail() {
    let (dir, server) = site("");
    let outbox = dir.path().join("data/outbox");
    let (status, _, filed) = server.post(
        "/api/issues",
        JSON,
        r#"{"name": "Vi", "email": "vi@example.com", "subject": "Blank receipts", "description": "All blank."}"#,
    );
    assert_eq!(status, 201, "{filed}");
    let filed = json(&filed);
    let first = common::tracking_token(&filed);
    let resend = |number: &str, email: &str| {
        server
            .post(
                "/api/track/resend",
                JSON,
                &format!(r#"{{"number": "{number}", "email": "{email}"}}"#),
            )
            .0
    };
    assert_eq!(
        resend(filed["number"].as_str().unwrap(), "vi@example.com"),
        202
    );
    let second = Server::link_token(&outbox, "vi@example.com", "/track/");
    assert_ne!(first, second);
    assert_eq!(server.get(&format!("/api/track/{first}")).0, 404, "revoked");
    assert_eq!(server.get(&format!("/api/track/{second}")).0, 200);
    // A customer's case is read behind the login, which can be disabled: no link by mail.
    let (_, ada, _) = login(&server, ADA);
    let cases = json(&get_as(&server, "/api/my/issues", &ada).2);
    let case = cases[0]["number"].as_str().unwrap().to_string();
    let before = Server::mails(&outbox).len();
    assert_eq!(resend(&case, ADA.0), 202, "the same answer");
    assert_eq!(
        Server::mails(&outbox).len(),
        before,
        "but no link is mailed"
    );
}

#[test]
fn state_changes_from_other_sites_or_without_the_form_token_are_refused() {
    let (_dir, server) = site("");
    let (_, cookie, _) = login(&server, ADA);
    let change = "current=harbour+cafe+demo&password=a+brand+new+password";
    for headers in [
        vec![
            ("cookie", cookie.as_str()),
            ("origin", "https://evil.example"),
        ],
        vec![
            ("cookie", cookie.as_str()),
            ("sec-fetch-site", "cross-site"),
        ],
        vec![("cookie", cookie.as_str())],
    ] {
        let (status, _, body) = server.post_with("/api/auth/password", FORM, change, &headers);
        assert_eq!(status, 403, "{headers:?}: {body}");
    }
    // Logging in or out from another site is refused too, and sets no cookie.
    let credentials = "email=ada%40harbour-cafe.example&password=harbour+cafe+demo";
    for (path, body) in [("/api/auth/login", credentials), ("/api/auth/logout", "")] {
        let (status, headers, _) = server.post_with(
            path,
            FORM,
            body,
            &[
                ("cookie", cookie.as_str()),
                ("sec-fetch-site", "cross-site"),
            ],
        );
        assert_eq!(status, 403, "{path}");
        assert!(headers.get("set-cookie").is_none(), "{path} set a cookie");
    }
    assert_eq!(
        get_as(&server, "/api/me", &cookie).0,
        200,
        "still logged in"
    );
    // From the account page itself, with its form token, the change goes through.
    let (_, _, page) = get_as(&server, "/my/", &cookie);
    let csrf = page
        .split(r#"name="csrf" value=""#)
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let (status, headers, body) = server.post_with(
        "/api/auth/password",
        FORM,
        &format!("{change}&csrf={csrf}"),
        &[("cookie", &cookie), ("sec-fetch-site", "same-origin")],
    );
    assert_eq!(status, 303, "{body}");
    assert_eq!(headers["location"], "/my/#password-changed");
    assert_eq!(login(&server, (ADA.0, "a brand new password")).0, 200);
}

/// Every customer route: (method, path with `{invoice}` and `{quote}` placeholders, body).
const ROUTES: &[(&str, &str, &str)] = &[
    ("GET", "/api/me", ""),
    ("GET", "/api/my/account", ""),
    ("GET", "/api/my/invoices", ""),
    ("GET", "/api/my/invoices/{invoice}", ""),
    ("GET", "/api/my/payments", ""),
    ("GET", "/api/my/statement.csv", ""),
    ("GET", "/api/my/quotes", ""),
    ("GET", "/api/my/quotes/{quote}", ""),
    (
        "POST",
        "/api/my/quotes/{quote}/comments",
        r#"{"body": "Can the screen be wall-mounted?"}"#,
    ),
    (
        "POST",
        "/api/my/quotes/{quote}/decision",
        r#"{"decision": "decline"}"#,
    ),
    ("GET", "/api/my/issues", ""),
    ("GET", "/api/my/issues/{issue}", ""),
    (
        "POST",
        "/api/my/issues/{issue}/notes",
        r#"{"body": "Still happening."}"#,
    ),
    (
        "POST",
        "/api/my/issues/{issue}/status",
        r#"{"status": "closed"}"#,
    ),
    ("GET", "/my/issues/{issue}", ""),
    ("GET", "/api/my/projects", ""),
    ("GET", "/api/my/projects/demo-1-project", ""),
    (
        "POST",
        "/api/my/projects/demo-1-project/notes",
        r#"{"body": "Can we start on Monday?"}"#,
    ),
    ("GET", "/api/my/projects/demo-1-project/documents/{doc}", ""),
    ("GET", "/my/projects/demo-1-project", ""),
    ("GET", "/api/my/documents", ""),
    ("GET", "/api/my/documents/{shared}", ""),
    ("GET", "/my/documents/customer-prices-2027.csv", ""),
    ("GET", "/api/my/reports", ""),
    ("GET", "/api/my/reports/demo-1-expenses-oct.csv", ""),
    ("GET", "/api/my/profile", ""),
    ("GET", "/my/kb/price-increase-2027", ""),
    ("GET", "/my/calendar/managers-reports-customers", ""),
    ("GET", "/my/calendar/managers-reports-customers.ics", ""),
    ("GET", "/my/calendar/", ""),
    ("GET", "/my/calendar/2027/02", ""),
    ("GET", "/api/my/calendar-feed", ""),
    ("GET", "/my/calendar-feed", ""),
    ("POST", "/api/my/calendar-feed", "{}"),
    (
        "POST",
        "/api/my/events/managers-reports-customers/registrations",
        r#"{"name": "A customer", "email": "someone@example.com"}"#,
    ),
    (
        "POST",
        "/api/my/issues",
        r#"{"binder": "cases", "subject": "Walk", "description": "Filed by the walk."}"#,
    ),
    (
        "POST",
        "/api/my/profile",
        r#"{"name": "Walker", "phones": [], "address": []}"#,
    ),
    (
        "POST",
        "/api/my/profile/email",
        r#"{"email": "walker@example.com", "current": "harbour cafe demo"}"#,
    ),
    ("GET", "/api/my/search?q=price", ""),
    ("GET", "/my/search?q=price", ""),
    ("GET", "/my/", ""),
    ("GET", "/my/invoices", ""),
    ("GET", "/my/payments", ""),
    ("GET", "/my/invoices/{invoice}", ""),
    ("GET", "/my/quotes/{quote}", ""),
];

/// The status a route answers its rightful caller with.
fn success(method: &str, path: &str) -> u16 {
    match method {
        "GET" => 200,
        _ if path.ends_with("/profile/email") => 202,
        _ if path.ends_with("/notes")
            || path.ends_with("/comments")
            || path.ends_with("/registrations")
            || path == "/api/my/issues"
            || path == "/api/my/calendar-feed" =>
        {
            201
        }
        _ => 200,
    }
}

fn call(server: &Server, method: &str, path: &str, body: &str, cookie: &str) -> (u16, String) {
    if method == "GET" {
        let (s, _, b) = get_as(server, path, cookie);
        (s, b)
    } else {
        let (s, _, b) = server.post_with(path, JSON, body, &[("cookie", cookie)]);
        (s, b)
    }
}

#[test]
fn every_customer_route_is_closed_to_strangers_and_to_other_customers() {
    let (_dir, server) = site("");
    let (_, ada, _) = login(&server, ADA);
    let (_, ben, _) = login(&server, BEN);
    let issues = json(&get_as(&server, "/api/my/issues", &ada).2);
    let issue = issues[0]["number"].as_str().unwrap().to_string();
    let project = json(&get_as(&server, "/api/my/projects/demo-1-project", &ada).2);
    let doc = project["documents"][0]["id"].as_str().unwrap().to_string();
    let shared = json(&get_as(&server, "/api/my/documents", &ada).2)[0]["file"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let own = |path: &str| {
        path.replace("{invoice}", "demo-1-inv-3")
            .replace("{quote}", "demo-1-quote-1")
            .replace("{issue}", &issue)
            .replace("{doc}", &doc)
            .replace("{shared}", &shared)
    };
    for (method, path, body) in ROUTES {
        let path = own(path);
        // No session: 401 for the API, the login page for pages.
        let (status, answer) = call(&server, method, &path, body, "");
        if path.starts_with("/my/") {
            assert_eq!(status, 303, "{method} {path}");
        } else {
            assert_eq!(status, 401, "{method} {path}: {answer}");
        }
        // Another customer: nothing of Ada's, ever.
        let as_ben = body.replace(ADA.1, BEN.1);
        let (status, answer) = call(&server, method, &path, &as_ben, &ben);
        for secret in [
            "demo-1-inv",
            "INV-2026-01",
            "Harbour Café",
            "ada@harbour",
            "Q-2026-040",
        ] {
            assert!(
                !answer.contains(secret),
                "{method} {path} leaks {secret} to Ben: {answer}"
            );
        }
        if path.contains("demo-1-") || path.contains(&issue) || path.contains(&shared) {
            assert_eq!(status, 404, "{method} {path} as Ben");
        } else {
            assert_eq!(
                status,
                success(method, &path),
                "{method} {path} as Ben: {answer}"
            );
        }
    }
    // The owner sees their own (the decision last, since it changes the quote).
    for (method, path, body) in ROUTES {
        let path = own(path);
        // One registration per address: the owner registers her own.
        let body = body.replace("someone@example.com", "ada@harbour-cafe.example");
        let (status, answer) = call(&server, method, &path, &body, &ada);
        assert_eq!(
            status,
            success(method, &path),
            "{method} {path} as Ada: {answer}"
        );
        assert!(
            !answer.contains("Internal:"),
            "{method} {path} sends a hidden task or note: {answer}"
        );
    }
    let invoices = json(&get_as(&server, "/api/my/invoices", &ada).2);
    assert_eq!(invoices.as_array().unwrap().len(), 3);
    assert_eq!(invoices[0]["total"]["text"], "£194.40");
    let (_, headers, csv) = get_as(&server, "/api/my/statement.csv", &ada);
    assert!(headers["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    assert!(csv.starts_with("date,entry,reference,amount,balance\r\n"));
    assert!(
        csv.contains("2026-11-01,Invoice,INV-2026-0103,194.40,194.40"),
        "{csv}"
    );
}

#[test]
fn a_login_narrowed_by_staff_sees_only_its_part_of_the_account() {
    let (dir, server) = site("");
    let spec = format!(
        "sqlite:{}",
        dir.path().join("data").join("portal.db").display()
    );
    let (_, ada, _) = login(&server, ADA);
    let issue = json(&get_as(&server, "/api/my/issues", &ada).2)[0]["number"]
        .as_str()
        .unwrap()
        .to_string();
    let project = json(&get_as(&server, "/api/my/projects/demo-1-project", &ada).2);
    let doc = project["documents"][0]["id"].as_str().unwrap().to_string();
    let shared = json(&get_as(&server, "/api/my/documents", &ada).2)[0]["file"]["id"]
        .as_str()
        .unwrap()
        .to_string();

    // Staff take billing and projects away from Ada's login (through the staff API).
    let secret = staff_key(&spec);
    let narrow = || {
        let (status, body) =
            patch_ada(&server, &secret, r#"{"billing": false, "projects": false}"#);
        assert_eq!(status, 200, "{body}");
        json(&body)
    };
    let changed = narrow();
    assert_eq!(
        (
            &changed["sees"]["all_issues"],
            &changed["sees"]["billing"],
            &changed["sees"]["projects"]
        ),
        (&Value::Bool(true), &Value::Bool(false), &Value::Bool(false))
    );
    // Her session from before is over: a narrower view does not wait for it to end.
    assert_eq!(get_as(&server, "/api/my/account", &ada).0, 401);
    let (_, ada, _) = login(&server, ADA);

    let own = |path: &str| {
        path.replace("{invoice}", "demo-1-inv-3")
            .replace("{quote}", "demo-1-quote-1")
            .replace("{issue}", &issue)
            .replace("{doc}", &doc)
            .replace("{shared}", &shared)
    };
    for (method, path, body) in ROUTES {
        let path = own(path);
        let body = body.replace("someone@example.com", "ada@harbour-cafe.example");
        let (status, answer) = call(&server, method, &path, &body, &ada);
        let hidden = [
            "/invoices",
            "/payments",
            "/statement",
            "/quotes",
            "/projects",
        ]
        .iter()
        .any(|part| path.contains(part));
        if hidden {
            assert_eq!(status, 403, "{method} {path}: {answer}");
            for secret in [
                "INV-2026-01",
                "Q-2026-040",
                "£194.40",
                "Kitchen display roll-out",
            ] {
                assert!(!answer.contains(secret), "{method} {path} shows {secret}");
            }
        } else {
            assert_eq!(
                status,
                success(method, &path),
                "{method} {path} as the narrowed Ada: {answer}"
            );
        }
    }
    let account = json(&get_as(&server, "/api/my/account", &ada).2);
    assert!(
        account.get("balance").is_none_or(Value::is_null),
        "{account}"
    );
    let (_, _, page) = get_as(&server, "/my/", &ada);
    assert!(page.contains("Harbour Café"), "{page}");
    for gone in ["Balance", "Invoices", "Payments", "Quotes", "Projects"] {
        assert!(
            !page.contains(&format!(">{gone}<")),
            "the account page leaves out {gone}: {page}"
        );
    }
    assert!(page.contains(&issue), "her own issues stay: {page}");
    // Sent again (say, after a failure half-way), the same change still ends her sessions.
    narrow();
    assert_eq!(get_as(&server, "/api/my/account", &ada).0, 401);
}

#[test]
fn a_quote_is_decided_once_even_from_two_tabs() {
    let (_dir, server) = site("");
    let (_, ada, _) = login(&server, ADA);
    let url = format!("{}/api/my/quotes/demo-1-quote-1/decision", server.base);
    let tabs: Vec<_> = ["accept", "decline"]
        .into_iter()
        .map(|d| {
            let (url, cookie) = (url.clone(), ada.clone());
            std::thread::spawn(move || {
                ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .build()
                    .new_agent()
                    .post(&url)
                    .header("content-type", JSON)
                    .header("cookie", &cookie)
                    .send(&format!(r#"{{"decision": "{d}"}}"#))
                    .unwrap()
                    .status()
                    .as_u16()
            })
        })
        .collect();
    let mut statuses: Vec<u16> = tabs.into_iter().map(|t| t.join().unwrap()).collect();
    statuses.sort();
    assert_eq!(statuses, [200, 409]);
    let quote = json(&get_as(&server, "/api/my/quotes/demo-1-quote-1", &ada).2);
    assert_ne!(quote["state"], "open");
    assert_eq!(quote["decided_by"], ADA.0);
}

#[test]
fn customers_file_cases_and_bugs_add_notes_and_close_them() {
    let (_dir, server) = site("");
    let (_, ada, _) = login(&server, ADA);
    let post = |path: &str, body: &str| server.post_with(path, JSON, body, &[("cookie", &ada)]);
    let (status, _, body) = post(
        "/api/my/issues",
        r#"{"binder": "bugs", "subject": "Discount shows twice", "description": "On the receipt."}"#,
    );
    assert_eq!(status, 201, "{body}");
    let filed = json(&body);
    assert_eq!(
        (filed["kind"].as_str(), filed["status"].as_str()),
        (Some("bug"), Some("open"))
    );
    let number = filed["number"].as_str().unwrap().to_string();
    for (body, field) in [
        (
            r#"{"binder": "support", "subject": "S", "description": "D"}"#,
            "binder",
        ),
        (
            r#"{"binder": "cases", "subject": "", "description": "D"}"#,
            "subject",
        ),
    ] {
        let (status, _, answer) = post("/api/my/issues", body);
        assert_eq!(status, 422, "{answer}");
        assert_eq!(json(&answer)["error"]["field"], field);
    }
    let (status, _, _) = post(
        &format!("/api/my/issues/{number}/notes"),
        r#"{"body": "Only with two discounts."}"#,
    );
    assert_eq!(status, 201);
    let (status, _, answer) = post(
        &format!("/api/my/issues/{number}/status"),
        r#"{"status": "resolved"}"#,
    );
    assert_eq!(status, 422, "customers may only close or reopen: {answer}");
    let (status, _, answer) = post(
        &format!("/api/my/issues/{number}/status"),
        r#"{"status": "closed"}"#,
    );
    assert_eq!(status, 200, "{answer}");
    let issue = json(&get_as(&server, &format!("/api/my/issues/{number}"), &ada).2);
    assert_eq!(issue["status"], "closed");
    assert_eq!(issue["notes"][0]["body"], "Only with two discounts.");
    let list = json(&get_as(&server, "/api/my/issues", &ada).2);
    assert!(list
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["number"] == number.as_str() && i["status"] == "closed"));
    let (status, _, page) = get_as(&server, &format!("/my/issues/{number}"), &ada);
    assert_eq!(status, 200);
    assert!(page.contains("Discount shows twice") && page.contains("Reopen"));
}

#[test]
fn projects_show_visible_work_and_take_documents_and_reports_add_up() {
    let (dir, server) = site("");
    let (_, ada, _) = login(&server, ADA);
    let project = json(&get_as(&server, "/api/my/projects/demo-1-project", &ada).2);
    let tasks: Vec<&str> = project["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        tasks,
        [
            "Survey the kitchen",
            "Install the screens",
            "Train the staff"
        ]
    );
    assert_eq!(project["progress"], 53, "the mean of the visible tasks");
    assert_eq!(project["notes"].as_array().unwrap().len(), 1);
    assert_eq!(project["contacts"][0]["name"], "Priya Shah");
    let doc = project["documents"][0]["id"].as_str().unwrap();
    let (status, headers, body) = get_as(
        &server,
        &format!("/api/my/projects/demo-1-project/documents/{doc}"),
        &ada,
    );
    assert_eq!(status, 200);
    assert_eq!(
        headers["content-disposition"],
        "attachment; filename=\"plan.txt\""
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(body.starts_with("Plan for Kitchen display roll-out"));

    // Upload a document to the project: multipart, checked like every attachment.
    let boundary = "----upload-boundary-1";
    let csrf = csrf_of(&get_as(&server, "/my/projects/demo-1-project", &ada).2);
    let part = |name: &str, bytes: &str| {
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n{bytes}\r\n--{boundary}--\r\n")
    };
    let ct = format!("multipart/form-data; boundary={boundary}");
    let upload = |body: String| {
        server.post_with(
            "/api/my/projects/demo-1-project/documents",
            &ct,
            &body,
            &[("cookie", &ada), ("sec-fetch-site", "same-origin")],
        )
    };
    let (status, headers, _) = upload(part("menu.csv", "dish,price\nsoup,4.50\n"));
    assert_eq!(status, 303, "a form post: back to the project");
    assert_eq!(headers["location"], "/my/projects/demo-1-project");
    let project = json(&get_as(&server, "/api/my/projects/demo-1-project", &ada).2);
    assert_eq!(project["documents"].as_array().unwrap().len(), 2);
    let (status, _, answer) = upload(part("menu.html", "<script>alert(1)</script>"));
    assert_eq!(status, 422, "{answer}");
    // Or sent beforehand (as the page's script does) and named by its token in the form.
    let rota = "day,who\nmon,ada\n";
    let (status, _, slot) = server.post(
        "/api/uploads",
        "application/json",
        &serde_json::json!({"file_name": "rota.csv", "size": rota.len()}).to_string(),
    );
    assert_eq!(status, 201, "{slot}");
    let slot = json(&slot);
    let sent = ureq::put(&format!("{}{}", server.base, slot["url"].as_str().unwrap()))
        .header("content-type", "text/csv")
        .send(rota.as_bytes())
        .unwrap();
    assert_eq!(sent.status().as_u16(), 204);
    let (status, headers, _) = server.post_with(
        "/api/my/projects/demo-1-project/documents",
        "application/x-www-form-urlencoded",
        &format!("csrf={csrf}&uploads={}", slot["upload"].as_str().unwrap()),
        &[("cookie", &ada), ("sec-fetch-site", "same-origin")],
    );
    assert_eq!(status, 303);
    assert_eq!(headers["location"], "/my/projects/demo-1-project");
    let project = json(&get_as(&server, "/api/my/projects/demo-1-project", &ada).2);
    let docs = project["documents"].as_array().unwrap();
    assert_eq!(docs.len(), 3, "{project}");
    assert!(docs
        .iter()
        .any(|d| d["file_name"] == "rota.csv" && d["media_type"] == "text/csv"));
    let (_, ben, _) = login(&server, BEN);
    let ben_csrf = csrf_of(&get_as(&server, "/my/", &ben).2);
    let (status, _, _) = server.post_with(
        "/api/my/projects/demo-1-project/documents",
        &ct,
        &part("x.txt", "x").replace(&csrf, &ben_csrf),
        &[("cookie", &ben), ("sec-fetch-site", "same-origin")],
    );
    assert_eq!(status, 404, "not Ben's project");
    // Without the session's form token an upload is refused.
    let (status, _, _) = server.post_with(
        "/api/my/projects/demo-1-project/documents",
        &ct,
        &part("y.txt", "y").replace(&csrf, "forged"),
        &[("cookie", &ada), ("sec-fetch-site", "same-origin")],
    );
    assert_eq!(status, 403);
    assert!(dir.path().join("data/blobs").read_dir().unwrap().count() >= 3);

    // Reports with totals, and as CSV.
    let reports = json(&get_as(&server, "/api/my/reports", &ada).2);
    let expenses = reports
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "expenses")
        .unwrap();
    assert_eq!(expenses["total"], "£61.49");
    let hours = reports
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "timesheet")
        .unwrap();
    assert_eq!(hours["total"], "6.25 h");
    let (_, headers, csv) = get_as(&server, "/api/my/reports/demo-1-hours-oct.csv", &ada);
    assert!(headers["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    assert_eq!(csv, "date,description,hours\r\n2026-10-03,Kitchen survey,2.50\r\n2026-10-10,Screen set-up,3.75\r\ntotal,,6.25\r\n");
}

#[test]
fn customers_change_their_details_audited_and_their_address_only_by_confirming_it() {
    let (dir, server) = site("");
    let (_, ben, _) = login(&server, BEN);
    let post = |path: &str, body: &str| server.post_with(path, JSON, body, &[("cookie", &ben)]);
    let (status, _, body) = post(
        "/api/my/profile",
        r#"{"name": "Ben Okafor", "phones": ["0117 496 0999"], "address": ["1 Park Row", "Bristol BS1 5LJ"]}"#,
    );
    assert_eq!(status, 200, "{body}");
    let profile = json(&get_as(&server, "/api/my/profile", &ben).2);
    assert_eq!(profile["name"], "Ben Okafor");
    assert_eq!(profile["address"][0], "1 Park Row");
    let (status, _, body) = post(
        "/api/my/profile",
        r#"{"name": "", "phones": [], "address": []}"#,
    );
    assert_eq!(status, 422, "{body}");
    // Every change is in the audit log, with old and new values.
    let db = format!("sqlite:{}", dir.path().join("data/portal.db").display());
    let export = run(&["admin", "export", "-", "--no-files", "--store", &db]);
    let records = String::from_utf8_lossy(&export.stdout).to_string();
    let audit = records
        .lines()
        .find(|l| l.contains(r#""pk":"AUDIT#"#) && l.contains("contact.updated"))
        .expect("an audit entry");
    assert!(
        audit.contains("Ben Okafor") && audit.contains("1 Park Row") && audit.contains(BEN.0),
        "{audit}"
    );

    // A new address waits for its confirmation link.
    // It needs the current password, and the owner hears of it at the old address.
    let (status, _, body) = post(
        "/api/my/profile/email",
        r#"{"email": "ben@new-books.example", "current": "a stolen session's guess"}"#,
    );
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("current"), "{body}");
    // A calendar address made before the change.
    let (status, _, body) = post("/api/my/calendar-feed", "{}");
    assert_eq!(status, 201, "{body}");
    let old_feed = path_of(json(&body)["url"].as_str().unwrap());
    assert_eq!(server.get(&old_feed).0, 200);
    let (status, _, _) = post(
        "/api/my/profile/email",
        &format!(
            r#"{{"email": "ben@new-books.example", "current": "{}"}}"#,
            BEN.1
        ),
    );
    assert_eq!(status, 202);
    let notice = std::fs::read_dir(dir.path().join("data/outbox"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .find(|m| m.contains("about to change"))
        .expect("a notice to the old address");
    assert!(notice.contains(BEN.0), "{notice}");
    assert_eq!(
        login(&server, ("ben@new-books.example", BEN.1)).0,
        401,
        "not yet"
    );
    let token = Server::link_token(
        &dir.path().join("data/outbox"),
        "ben@new-books.example",
        "/my/email/",
    );
    let (status, _, page) = server.get(&format!("/my/email/{token}"));
    assert_eq!(status, 200);
    assert!(
        page.contains("Confirm my new address"),
        "a GET only shows a button"
    );
    assert_eq!(
        login(&server, ("ben@new-books.example", BEN.1)).0,
        401,
        "still not"
    );
    let same = [("sec-fetch-site", "same-origin")];
    let (status, _, page) = server.post_with(&format!("/my/email/{token}"), FORM, "", &same);
    assert_eq!(status, 200, "{page}");
    assert_eq!(get_as(&server, "/api/me", &ben).0, 401, "sessions ended");
    assert_eq!(login(&server, BEN).0, 401, "the old address is gone");
    let (status, cookie, _) = login(&server, ("ben@new-books.example", BEN.1));
    assert_eq!(status, 200);
    assert_eq!(
        json(&get_as(&server, "/api/me", &cookie).2)["customer_id"],
        "demo-2"
    );
    // The moved login keeps a calendar address, a new one: the old one is void.
    assert_eq!(server.get(&old_feed).0, 404);
    let new_feed = json(&get_as(&server, "/api/my/calendar-feed", &cookie).2)["url"]
        .as_str()
        .map(path_of)
        .expect("still an address");
    assert_ne!(new_feed, old_feed);
    assert_eq!(server.get(&new_feed).0, 200);
    let (status, _, page) = server.post_with(&format!("/my/email/{token}"), FORM, "", &same);
    assert_eq!(status, 404, "single use: {page}");
}

#[test]
fn customers_only_articles_are_for_logged_in_customers_and_found_by_their_search() {
    let (_dir, server) = site("");
    // Not on the public site, nor in its search.
    assert_eq!(server.get("/my/kb/price-increase-2027").0, 303);
    assert_eq!(server.get("/kb/price-increase-2027").0, 404);
    let public = json(&server.get("/api/search?q=licence+prices+April").2);
    assert!(public["hits"]
        .as_array()
        .unwrap()
        .iter()
        .all(|h| !h["url"].as_str().unwrap().contains("price-increase")));
    // A logged-in customer reads it and finds it.
    let (_, ada, _) = login(&server, ADA);
    let (status, headers, page) = get_as(&server, "/my/kb/price-increase-2027", &ada);
    assert_eq!(status, 200);
    assert!(headers["cache-control"]
        .to_str()
        .unwrap()
        .contains("no-store"));
    assert!(page.contains("Licence prices from April 2027"));
    let found = json(&get_as(&server, "/api/my/search?q=licence+prices+April", &ada).2);
    assert_eq!(found["hits"][0]["url"], "/my/kb/price-increase-2027");
    let (_, _, page) = get_as(&server, "/my/search?q=audit+export", &ada);
    assert!(
        page.contains("/my/kb/data-export-for-audit"),
        "the page finds the other one"
    );
    assert!(page.contains(r#"action="/my/search""#));
    assert_eq!(get_as(&server, "/my/kb/..%2Fsite%2Findex", &ada).0, 404);
    assert_eq!(get_as(&server, "/my/kb/no-such-article", &ada).0, 404);
}

#[test]
fn logins_and_the_customer_area_work_the_same_on_dynamodb() {
    let table = format!("dynamodb:account-{}", std::process::id());
    let (_dir, server) = common::demo_site("", Some(&table), |_| {});
    let (status, ada, _) = login(&server, ADA);
    assert_eq!(status, 200);
    let (_, ben, _) = login(&server, BEN);
    let invoices = json(&get_as(&server, "/api/my/invoices", &ada).2);
    assert_eq!(invoices.as_array().unwrap().len(), 3);
    assert_eq!(
        get_as(&server, "/api/my/invoices/demo-1-inv-3", &ben).0,
        404
    );
    assert_eq!(
        get_as(&server, "/api/my/projects/demo-1-project", &ben).0,
        404
    );
    let project = get_as(&server, "/api/my/projects/demo-1-project", &ada).2;
    assert!(!project.contains("Internal:"));
    let decide = |cookie: &str| {
        server
            .post_with(
                "/api/my/quotes/demo-1-quote-1/decision",
                JSON,
                r#"{"decision": "accept"}"#,
                &[("cookie", cookie)],
            )
            .0
    };
    assert_eq!(decide(&ada), 200);
    assert_eq!(decide(&ada), 409, "decided once");
    // A private calendar address, made twice: the first stops working.
    let renew = || {
        let (status, _, body) =
            server.post_with("/api/my/calendar-feed", JSON, "{}", &[("cookie", &ada)]);
        assert_eq!(status, 201, "{body}");
        path_of(json(&body)["url"].as_str().unwrap())
    };
    let (first, second) = (renew(), renew());
    assert_eq!(server.get(&first).0, 404);
    let (status, _, ics) = server.get(&second);
    assert_eq!(status, 200);
    assert_eq!(calendar_events(&ics).len(), 9);
    let (status, _, _) = server.post_with("/api/auth/logout", JSON, "", &[("cookie", &ada)]);
    assert_eq!(status, 204);
    assert_eq!(get_as(&server, "/api/me", &ada).0, 401);
    assert_eq!(login(&server, (ADA.0, "wrong password")).0, 401);
}

#[test]
fn customers_register_for_customers_only_events_from_their_private_page() {
    let (dir, server) = site("");
    let slug = "managers-reports-customers";
    assert_eq!(server.get(&format!("/my/calendar/{slug}")).0, 303);
    assert_eq!(
        server.get(&format!("/calendar/{slug}")).0,
        404,
        "not on the public site"
    );
    let anonymous = server.post(
        &format!("/api/events/{slug}/registrations"),
        JSON,
        r#"{"name": "Eve", "email": "eve@example.com"}"#,
    );
    assert_eq!(anonymous.0, 404, "the public function does not know it");
    let (_, ada, _) = login(&server, ADA);
    let (status, _, page) = get_as(&server, &format!("/my/calendar/{slug}"), &ada);
    assert_eq!(status, 200);
    assert!(
        page.contains(&format!(r#"action="/api/my/events/{slug}/registrations""#)),
        "{page}"
    );
    let csrf = page
        .split(r#"name="csrf" value=""#)
        .nth(1)
        .expect("the session's form token is in the form")
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let form = format!("name=Ada&email=ada%40harbour-cafe.example&company=&notes=&website=&form_token=&idempotency_key=&csrf={csrf}");
    let (status, headers, body) = server.post_with(
        &format!("/api/my/events/{slug}/registrations"),
        FORM,
        &form,
        &[("cookie", &ada), ("sec-fetch-site", "same-origin")],
    );
    assert_eq!(status, 303, "{body}");
    assert_eq!(
        headers["location"],
        format!("/my/calendar/{slug}#registered")
    );
    let mails = Server::mails(&dir.path().join("data/outbox"));
    assert!(mails
        .iter()
        .any(|m| m.contains("Subject: Registered: Managers' reporting clinic")));
    let search = json(&get_as(&server, "/api/my/search?q=reporting+clinic", &ada).2);
    assert_eq!(search["hits"][0]["url"], format!("/my/calendar/{slug}"));
}

#[test]
fn notes_on_cases_carry_files_that_only_the_customer_can_download() {
    let (_dir, server) = site("");
    let (_, ada, _) = login(&server, ADA);
    let issues = json(&get_as(&server, "/api/my/issues", &ada).2);
    let number = issues[0]["number"].as_str().unwrap().to_string();
    let csrf = csrf_of(&get_as(&server, &format!("/my/issues/{number}"), &ada).2);
    let boundary = "----note-boundary";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"body\"\r\n\r\nThe log from this morning.\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"attachments\"; filename=\"till.log\"\r\nContent-Type: text/plain\r\n\r\nERROR 7: drawer\n\r\n--{boundary}--\r\n"
    );
    let (status, headers, answer) = server.post_with(
        &format!("/api/my/issues/{number}/notes"),
        &format!("multipart/form-data; boundary={boundary}"),
        &body,
        &[("cookie", &ada), ("sec-fetch-site", "same-origin")],
    );
    assert_eq!(status, 303, "{answer}");
    assert_eq!(headers["location"], format!("/my/issues/{number}"));
    let issue = json(&get_as(&server, &format!("/api/my/issues/{number}"), &ada).2);
    assert_eq!(issue["notes"][0]["body"], "The log from this morning.");
    let url = issue["attachments"][0]["url"].as_str().unwrap().to_string();
    let (status, headers, file) = get_as(&server, &url, &ada);
    assert_eq!(status, 200);
    assert_eq!(
        headers["content-disposition"],
        "attachment; filename=\"till.log\""
    );
    assert_eq!(file, "ERROR 7: drawer\n");
    let (_, ben, _) = login(&server, BEN);
    assert_eq!(get_as(&server, &url, &ben).0, 404);
    assert_eq!(get_as(&server, &url, "").0, 401);
}

/// A zip of `entries` (name, content), stored without compression: how the tests make
/// Office documents and archives.
fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    use std::io::Write;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, bytes) in entries {
        w.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(bytes).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// GETs `path` with `cookie`: status, headers and the body's bytes.
fn get_bytes(server: &Server, path: &str, cookie: &str) -> (u16, ureq::http::HeaderMap, Vec<u8>) {
    let mut r = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .new_agent()
        .get(&format!("{}{path}", server.base))
        .header("cookie", cookie)
        .call()
        .unwrap();
    let headers = r.headers().clone();
    (
        r.status().as_u16(),
        headers,
        r.body_mut().read_to_vec().unwrap_or_default(),
    )
}

#[test]
fn notes_on_projects_carry_office_files_and_macros_and_programs_are_refused() {
    let (_dir, server) = site("");
    let (_, ada, _) = login(&server, ADA);
    let page = get_as(&server, "/my/projects/demo-1-project", &ada).2;
    assert!(
        page.contains(r#"name="attachments" type="file" multiple accept=".png,.jpg,.jpeg,.gif,.pdf,.txt,.log,.csv,.docx,.xlsx,.pptx,.odt,.ods,.zip""#),
        "the note form takes files"
    );
    let csrf = csrf_of(&page);
    let types = b"<Types><Default Extension=\"xml\" ContentType=\"application/xml\"/></Types>";
    let xlsx = zip_of(&[
        ("[Content_Types].xml", types),
        ("xl/workbook.xml", b"<workbook/>"),
    ]);
    let boundary = "----project-note";
    let note = |file_name: &str, bytes: &[u8]| {
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"body\"\r\n\r\nThe costs so far.\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"attachments\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        server.post_bytes(
            "/api/my/projects/demo-1-project/notes",
            &format!("multipart/form-data; boundary={boundary}"),
            &body,
            &[("cookie", &ada), ("sec-fetch-site", "same-origin")],
        )
    };
    let (status, headers, answer) = note("costs.xlsx", &xlsx);
    assert_eq!(status, 303, "{answer}");
    assert_eq!(headers["location"], "/my/projects/demo-1-project");
    let project = json(&get_as(&server, "/api/my/projects/demo-1-project", &ada).2);
    let notes = project["notes"].as_array().unwrap();
    let added = notes.last().unwrap();
    assert_eq!(added["body"], "The costs so far.");
    assert_eq!(added["files"][0]["file_name"], "costs.xlsx");
    assert_eq!(
        added["files"][0]["media_type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert!(
        !project["documents"].to_string().contains("costs.xlsx"),
        "a note's file is shown under the note"
    );
    let url = added["files"][0]["url"].as_str().unwrap().to_string();
    let (status, headers, bytes) = get_bytes(&server, &url, &ada);
    assert_eq!(status, 200);
    assert_eq!(bytes, xlsx, "the file comes back byte for byte");
    assert_eq!(
        headers["content-disposition"],
        "attachment; filename=\"costs.xlsx\""
    );
    assert!(get_as(&server, "/my/projects/demo-1-project", &ada)
        .2
        .contains(&format!(r#"<a href="{url}" download>costs.xlsx</a>"#)));
    let (_, ben, _) = login(&server, BEN);
    assert_eq!(get_as(&server, &url, &ben).0, 404, "not Ben's project");
    assert_eq!(get_as(&server, &url, "").0, 401);

    let xlsm = zip_of(&[
        ("[Content_Types].xml", types),
        ("xl/workbook.xml", b"<workbook/>"),
        ("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0macros"),
    ]);
    let refused = [
        ("costs.xlsm", xlsm.clone(), "`costs.xlsm` is macro-enabled"),
        ("costs.xlsx", xlsm, "is macro-enabled"),
        (
            "report.pdf",
            b"MZ\x90\x00\x03program".to_vec(),
            "is not a file type we accept",
        ),
        (
            "photos.zip",
            zip_of(&[("holiday.jpg.exe", b"MZ\x90\x00")]),
            "holds a program (`holiday.jpg.exe`)",
        ),
        (
            "photos.zip",
            zip_of(&[("holiday.jpg", b"MZ\x90\x00")]),
            "holds a program (`holiday.jpg`)",
        ),
        ("budget.docx", xlsx.clone(), "which its name does not say"),
    ];
    for (name, bytes, says) in refused {
        let (status, _, answer) = note(name, &bytes);
        assert_eq!(status, 422, "{name}: {answer}");
        assert!(answer.contains(says), "{name}: {answer}");
    }
    let project = json(&get_as(&server, "/api/my/projects/demo-1-project", &ada).2);
    assert_eq!(
        project["notes"].as_array().unwrap().len(),
        notes.len(),
        "a refused file stores nothing of its note"
    );
}

#[test]
fn customers_only_documents_are_downloaded_and_found_by_customers_alone() {
    let (dir, server) = site("");
    let file = "customer-prices-2027.csv";
    let original = std::fs::read(dir.path().join("content/documents").join(file)).unwrap();
    // Not on the public site, in its search or sitemap, and not without a session.
    assert_eq!(server.get(&format!("/documents/{file}")).0, 404);
    assert!(!server.get("/documents/").2.contains("Customer price sheet"));
    assert!(!server.get("/sitemap.xml").2.contains(file));
    let public = json(&server.get("/api/search?q=customer+price+sheet").2);
    assert!(!public.to_string().contains(file), "{public}");
    let url = format!("/my/documents/{file}");
    assert_eq!(server.get(&url).0, 303, "to the login page");

    // A logged-in customer finds it on the account page, in the list and in search.
    let (_, ada, _) = login(&server, ADA);
    let docs = json(&get_as(&server, "/api/my/documents", &ada).2);
    let doc = docs
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["file"]["file_name"] == file)
        .unwrap_or_else(|| panic!("listed: {docs}"));
    assert_eq!(doc["title"], "Customer price sheet 2027");
    assert_eq!(doc["kind"], "published");
    assert_eq!(doc["date"], "2026-11-20");
    assert_eq!(doc["file"]["url"], url);
    assert_eq!(doc["file"]["size"], original.len());
    assert!(get_as(&server, "/my/", &ada).2.contains(&format!(
        r#"<a href="{url}" download>Customer price sheet 2027</a>"#
    )));
    let found = json(&get_as(&server, "/api/my/search?q=customer+price+sheet", &ada).2);
    assert_eq!(found["hits"][0]["url"], url, "{found}");
    let (status, headers, bytes) = get_bytes(&server, &url, &ada);
    assert_eq!(status, 200);
    assert_eq!(bytes, original);
    assert_eq!(
        headers["content-disposition"],
        format!("attachment; filename=\"{file}\"")
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(headers["cache-control"]
        .to_str()
        .unwrap()
        .contains("no-store"));
    // Every customer sees it (it is published for all), and only names the build listed.
    let (_, ben, _) = login(&server, BEN);
    assert_eq!(get_bytes(&server, &url, &ben).2, original);
    for other in [
        "price-list-2026.pdf",
        "..%2F..%2Ffunctions%2Fsite.json",
        "customer-prices-2027.csv.toml",
    ] {
        assert_eq!(
            get_as(&server, &format!("/my/documents/{other}"), &ada).0,
            404,
            "{other}"
        );
    }
}

/// The events of an iCalendar text, parsed with an independent parser: (summary, URL).
fn calendar_events(ics: &str) -> Vec<(String, String)> {
    use icalendar::parser::{read_calendar, unfold};
    let unfolded = unfold(ics);
    let cal = read_calendar(&unfolded).expect("the feed parses as iCalendar");
    cal.components
        .iter()
        .filter(|c| c.name == "VEVENT")
        .map(|e| {
            let prop = |name: &str| {
                e.find_prop(name)
                    .map(|p| p.val.as_str().to_string())
                    .unwrap_or_default()
            };
            (prop("SUMMARY"), prop("URL"))
        })
        .collect()
}

/// The path of a whole address the portal gives (`http://host:port/path` → `/path`).
fn path_of(url: &str) -> String {
    let rest = url.split_once("://").expect("a whole address").1;
    format!("/{}", rest.split_once('/').expect("a path").1)
}

#[test]
fn customers_have_a_calendar_with_their_events_and_a_private_address_for_calendar_apps() {
    let (dir, server) = site("");
    let slug = "managers-reports-customers";
    assert_eq!(server.get("/my/calendar/").0, 303, "pages need a login");
    let (_, ada, _) = login(&server, ADA);
    let (_, ben, _) = login(&server, BEN);

    // The list and the month show the customers-only event, marked, beside the public ones.
    let (status, _, list) = get_as(&server, "/my/calendar/", &ada);
    assert_eq!(status, 200);
    assert!(
        list.contains(&format!(r#"href="/my/calendar/{slug}""#)),
        "{list}"
    );
    assert!(list.contains("Customers only"), "{list}");
    assert!(list.contains(r#"href="/my/calendar/2027/02""#), "{list}");
    let (status, _, month) = get_as(&server, "/my/calendar/2027/02", &ada);
    assert_eq!(status, 200);
    assert!(
        month.contains(&format!(r#"href="/my/calendar/{slug}""#)),
        "{month}"
    );
    assert!(
        month.contains(r#"href="/calendar/end-of-year-reports-webinar""#),
        "{month}"
    );
    assert!(month.contains("cal-event customers-only"), "{month}");
    assert_eq!(get_as(&server, "/my/calendar/2027/2", &ada).0, 404);
    let public = server.get("/calendar/2027/02").2;
    assert!(!public.contains(slug), "not in the public month");
    // The event's page leads back into the customers' calendar, and has its own file.
    let page = get_as(&server, &format!("/my/calendar/{slug}"), &ada).2;
    assert!(
        page.contains(r#"<a href="/my/calendar/2027/02">"#),
        "{page}"
    );
    let (status, headers, ics) = get_as(&server, &format!("/my/calendar/{slug}.ics"), &ada);
    assert_eq!(status, 200);
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/calendar"));
    assert!(calendar_events(&ics)[0]
        .0
        .starts_with("Managers' reporting clinic"));
    assert_eq!(
        get_as(
            &server,
            "/my/calendar/end-of-year-reports-webinar.ics",
            &ada
        )
        .0,
        404,
        "public events' files are on the site"
    );
    // The account page links to the calendar and lists what comes next.
    let home = get_as(&server, "/my/", &ada).2;
    assert!(home.contains(r#"href="/my/calendar/""#), "{home}");
    assert!(home.contains(r#"href="/my/calendar-feed""#), "{home}");

    // No address until the customer makes one, from the page's form.
    let feed =
        |cookie: &str| json(&get_as(&server, "/api/my/calendar-feed", cookie).2)["url"].clone();
    assert!(feed(&ada).is_null());
    let form = get_as(&server, "/my/calendar-feed", &ada).2;
    let renew = |cookie: &str, form: &str| {
        server.post_with(
            "/api/my/calendar-feed",
            FORM,
            &format!("csrf={}", csrf_of(form)),
            &[("cookie", cookie), ("sec-fetch-site", "same-origin")],
        )
    };
    let (status, headers, _) = renew(&ada, &form);
    assert_eq!(status, 303);
    assert_eq!(headers["location"], "/my/calendar-feed#renewed");
    let first = feed(&ada).as_str().expect("an address").to_string();
    let shown = get_as(&server, "/my/calendar-feed", &ada).2;
    assert!(shown.contains(&first), "the page shows it: {shown}");

    // A calendar app reads it without a session: every event, customers-only ones included.
    let (status, headers, ics) = server.get(&path_of(&first));
    assert_eq!(status, 200, "{ics}");
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/calendar"));
    let events = calendar_events(&ics);
    assert!(
        events.iter().any(
            |(title, url)| title.starts_with("Managers' reporting clinic")
                && url.ends_with(&format!("/my/calendar/{slug}"))
        ),
        "{events:?}"
    );
    assert!(
        events
            .iter()
            .any(|(title, _)| title == "Stock control masterclass"),
        "{events:?}"
    );
    let public = server.get("/calendar.ics").2;
    assert!(calendar_events(&public)
        .iter()
        .all(|(title, _)| !title.starts_with("Managers' reporting clinic")));

    // Another customer's session neither sees nor changes Ada's address.
    let bens_form = get_as(&server, "/my/calendar-feed", &ben).2;
    assert!(
        !bens_form.contains(&first),
        "Ben does not see Ada's address"
    );
    assert!(feed(&ben).is_null());
    assert_eq!(renew(&ben, &bens_form).0, 303);
    let bens = feed(&ben).as_str().unwrap().to_string();
    assert_ne!(bens, first);
    assert_eq!(
        server.get(&path_of(&first)).0,
        200,
        "Ben's new address leaves Ada's alone"
    );
    // Another customer's id in Ada's address, or a changed signature, is no address.
    let path = path_of(&first);
    assert_eq!(
        server.get(&path.replace("/demo-1/", "/demo-2/")).0,
        404,
        "{path}"
    );
    let last = path.len() - 5;
    let other = if &path[last..=last] == "0" { "1" } else { "0" };
    let forged = format!("{}{other}.ics", &path[..last]);
    assert_eq!(server.get(&forged).0, 404, "{forged}");
    assert_eq!(
        server.get(&path.to_uppercase()).0,
        404,
        "signatures are lower-case hex"
    );
    // Nothing of it is kept by a cache, and no address reaches another file.
    let (_, headers, _) = server.get(&path);
    assert_eq!(headers["cache-control"], "private, no-store");
    for sneaky in [
        "/my/calendar/..%2Fcalendar.ics",
        "/my/calendar/..%2F..%2Fcalendar.ics",
        "/my/calendar/2027/..%2F..",
        "/my/calendar/end-of-year-reports-webinar.ics",
    ] {
        assert_eq!(get_as(&server, sneaky, &ada).0, 404, "{sneaky}");
    }

    // A new address ends the old one at once.
    assert_eq!(renew(&ada, &form).0, 303);
    let second = feed(&ada).as_str().unwrap().to_string();
    assert_ne!(second, first);
    assert_eq!(
        server.get(&path_of(&first)).0,
        404,
        "the old address is dead"
    );
    assert_eq!(server.get(&path_of(&second)).0, 200);

    // A password change gives a new address too, without the customer asking.
    let (status, _, body) = server.post_with(
        "/api/auth/password",
        JSON,
        &format!(r#"{{"current": "{}", "password": "a brand new passphrase 7", "end_other_sessions": "false"}}"#, ADA.1),
        &[("cookie", &ada)],
    );
    assert_eq!(status, 200, "{body}");
    let (_, ada, _) = login(&server, (ADA.0, "a brand new passphrase 7"));
    let third = feed(&ada).as_str().unwrap().to_string();
    assert_ne!(third, second);
    assert_eq!(
        server.get(&path_of(&second)).0,
        404,
        "ended by the password change"
    );
    assert_eq!(server.get(&path_of(&third)).0, 200);

    // Disabling the login ends its address for good: enabling it again does not bring it back.
    let spec = format!(
        "sqlite:{}",
        dir.path().join("data").join("portal.db").display()
    );
    let secret = staff_key(&spec);
    let disabled = |yes: bool| {
        let (status, body) = patch_ada(&server, &secret, &format!(r#"{{"disabled": {yes}}}"#));
        assert_eq!(status, 200, "{body}");
    };
    disabled(true);
    assert_eq!(server.get(&path_of(&third)).0, 404, "ended with the login");
    disabled(false);
    assert_eq!(server.get(&path_of(&third)).0, 404, "and not back with it");
    let (_, ada, _) = login(&server, (ADA.0, "a brand new passphrase 7"));
    assert!(
        feed(&ada).is_null(),
        "a new address is the customer's to make"
    );
}

/// A customer with a long history: the account page shows the newest invoices and payments
/// and links to the rest, the API and the list pages go page by page without losing or
/// repeating one, a made-up cursor or a page size out of range is a 422, and the statement
/// holds every invoice and payment (more than one read of the store's).
#[test]
fn a_long_billing_history_is_paged_and_the_statement_holds_all_of_it() {
    let (dir, server) = site("");
    let spec = format!(
        "sqlite:{}",
        dir.path().join("data").join("portal.db").display()
    );
    let out = common::admin(
        &spec,
        &["keys", "create", "billing", "--scope", "billing:write"],
    );
    assert!(out.status.success());
    let secret = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let (_, ada, _) = login(&server, ADA);
    let before = json(&get_as(&server, "/api/my/invoices?limit=100", &ada).2)
        .as_array()
        .unwrap()
        .len();
    // 1,010 invoices of 12.00 each (VAT included) over three years, and 5 payments.
    const ADDED: usize = 1010;
    for n in 0..ADDED {
        let body = format!(
            r#"{{"number": "L-{n:04}", "date": "{}-{:02}-{:02}", "due": "2027-01-31", "status": "open",
                "lines": [{{"description": "Support", "quantity": 1, "unit_cents": 1000, "vat_percent": 20}}]}}"#,
            2023 + n % 3,
            1 + n % 12,
            1 + n % 28
        );
        let status = agent
            .put(&format!(
                "{}/api/staff/customers/demo-1/invoices/long-{n:04}",
                server.base
            ))
            .header("authorization", &format!("Bearer {secret}"))
            .header("content-type", JSON)
            .send(&body)
            .unwrap()
            .status()
            .as_u16();
        assert_eq!(status, 201, "invoice {n}");
    }

    // The API: 50 a page, newest first, each invoice once, a Link to the next page.
    let mut seen = Vec::new();
    let mut path = "/api/my/invoices".to_string();
    let mut pages = 0;
    loop {
        let (status, headers, body) = get_as(&server, &path, &ada);
        assert_eq!(status, 200, "{path}: {body}");
        let page = json(&body);
        assert!(page.as_array().unwrap().len() <= 50);
        seen.extend(page.as_array().unwrap().iter().map(|i| {
            (
                i["date"].as_str().unwrap().to_string(),
                i["id"].as_str().unwrap().to_string(),
            )
        }));
        pages += 1;
        match headers.get("link").map(|l| l.to_str().unwrap().to_string()) {
            Some(link) => {
                assert!(link.ends_with(r#">; rel="next""#), "{link}");
                path = link[1..link.find('>').unwrap()].to_string();
            }
            None => break,
        }
    }
    assert_eq!(seen.len(), before + ADDED, "every invoice, once");
    assert!(pages >= (before + ADDED) / 50, "{pages} pages");
    let mut newest_first = seen.clone();
    newest_first.sort_by(|a, b| b.cmp(a));
    assert_eq!(seen, newest_first, "newest first across pages");
    let ids: std::collections::HashSet<_> = seen.iter().map(|(_, id)| id).collect();
    assert_eq!(ids.len(), seen.len(), "no invoice twice");

    // Refusals that name what is wrong.
    for bad in ["limit=0", "limit=101", "limit=ten"] {
        let (status, _, body) = get_as(&server, &format!("/api/my/invoices?{bad}"), &ada);
        assert!(matches!(status, 400 | 422), "{bad}: {status} {body}");
        assert!(body.contains("limit"), "{bad}: {body}");
    }
    let long = "A".repeat(4000);
    for cursor in ["%%%", long.as_str()] {
        let (status, _, body) = get_as(&server, &format!("/api/my/invoices?cursor={cursor}"), &ada);
        assert_eq!(status, 422, "{body}");
        assert!(body.contains("cursor"), "{body}");
    }

    // The account page: the newest ten, and a link to all of them.
    let (status, _, page) = get_as(&server, "/my/", &ada);
    assert_eq!(status, 200);
    assert_eq!(
        page.matches(r#"<a href="/my/invoices/"#).count(),
        10,
        "{page}"
    );
    assert!(
        page.contains(r#"<a href="/my/invoices">All invoices</a>"#),
        "{page}"
    );
    assert!(page.contains(&format!(r#"<a href="/my/invoices/{}">"#, seen[0].1)));
    // The invoices page: 50 a page, the next by its link, each invoice where the API had it.
    let (status, _, first) = get_as(&server, "/my/invoices", &ada);
    assert_eq!(status, 200);
    assert_eq!(first.matches(r#"<a href="/my/invoices/"#).count(), 50);
    let older = first
        .split(r#"<a href="/my/invoices?cursor="#)
        .nth(1)
        .expect("a link to older invoices")
        .split('"')
        .next()
        .unwrap();
    let (status, _, second) = get_as(&server, &format!("/my/invoices?cursor={older}"), &ada);
    assert_eq!(status, 200);
    assert!(second.contains(&format!(r#"<a href="/my/invoices/{}">"#, seen[50].1)));
    assert!(!second.contains(&format!(r#"<a href="/my/invoices/{}">"#, seen[49].1)));
    assert!(second.contains(r#"<a href="/my/invoices">Newest invoices</a>"#));
    // An old invoice opens by its id, far beyond the first thousand.
    let oldest = &seen.last().unwrap().1;
    assert_eq!(
        get_as(&server, &format!("/my/invoices/{oldest}"), &ada).0,
        200
    );

    // The statement: every invoice, and the balance they add up to.
    let (status, _, csv) = get_as(&server, "/api/my/statement.csv", &ada);
    assert_eq!(status, 200);
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    let invoices = rows.iter().filter(|r| r.contains(",Invoice,")).count();
    assert_eq!(invoices, before + ADDED, "every invoice in the statement");
    let added = rows.iter().filter(|r| r.contains(",Invoice,L-")).count();
    assert_eq!(added, ADDED);

    // Ben, another customer, sees none of them, on any page.
    let (_, ben, _) = login(&server, BEN);
    let (_, _, his) = get_as(&server, "/api/my/invoices?limit=100", &ben);
    assert!(!his.contains("L-0"), "{his}");
    let (_, _, his) = get_as(&server, &format!("/my/invoices?cursor={older}"), &ben);
    assert!(!his.contains("L-0"), "{his}");
    assert_eq!(
        get_as(&server, &format!("/api/my/invoices/{oldest}"), &ben).0,
        404
    );
}
