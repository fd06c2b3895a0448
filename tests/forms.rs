//! Black-box tests of the public functions added to the forms of the site: event
//! registration, article feedback and sharing, search as JSON, and the guards in front of
//! every form post (rate limits, form tokens, idempotency keys), against `portal serve`.

mod common;

use common::Server;
use serde_json::{json as value, Value};

const JSON: &str = "application/json";
const FORM: &str = "application/x-www-form-urlencoded";

/// A demo copy with a small seminar far in the future and `limits` appended to `site.toml`.
fn site(limits: &str) -> (tempfile::TempDir, Server) {
    site_on(limits, None)
}

/// As [`site`], with the functions on `store` (`dynamodb:TABLE` uses the local DynamoDB API).
fn site_on(limits: &str, store: Option<&str>) -> (tempfile::TempDir, Server) {
    common::demo_site(limits, store, |content| {
        std::fs::write(
            content.join("calendar/small-seminar.md"),
            "+++\ntitle = \"Small seminar\"\nstart = 2099-03-04T10:00\nend = 2099-03-04T12:00\nlocation = \"Bristol\"\ncategory = \"Seminar\"\nsummary = \"Three places.\"\nregistration = { capacity = 3 }\n+++\nA small room.\n",
        )
        .unwrap();
    })
}

fn outbox(dir: &tempfile::TempDir) -> Vec<String> {
    Server::mails(&dir.path().join("data/outbox"))
}

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

#[test]
fn registrations_fill_the_places_then_the_waiting_list_under_concurrency() {
    let (dir, server) = site("");
    let url = format!("{}/api/events/small-seminar/registrations", server.base);
    let threads: Vec<_> = (0..10)
        .map(|i| {
            let url = url.clone();
            std::thread::spawn(move || {
                let body = format!(r#"{{"name": "Guest {i}", "email": "guest{i}@example.com"}}"#);
                let mut answer = ureq::post(&url)
                    .header("content-type", JSON)
                    .send(&body)
                    .expect("registered");
                let answer = answer.body_mut().read_to_string().unwrap();
                json(&answer)["status"].as_str().unwrap().to_string()
            })
        })
        .collect();
    let statuses: Vec<String> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert_eq!(
        statuses.iter().filter(|s| *s == "confirmed").count(),
        3,
        "exactly the capacity is confirmed: {statuses:?}"
    );
    assert_eq!(statuses.iter().filter(|s| *s == "waiting").count(), 7);
    let (_, _, places) = server.get("/api/events/small-seminar");
    let places = json(&places);
    assert_eq!(
        (places["available"].as_u64(), places["waiting"].as_u64()),
        (Some(0), Some(7))
    );

    // One registration per address, whatever its case.
    let (status, _, answer) = server.post(
        "/api/events/small-seminar/registrations",
        JSON,
        r#"{"name": "Again", "email": "GUEST1@example.com"}"#,
    );
    assert_eq!(status, 409, "{answer}");

    // Every registration got its mail, with a cancel link.
    let mails = outbox(&dir);
    assert_eq!(mails.len(), 10);
    let confirmed: Vec<&String> = mails
        .iter()
        .filter(|m| m.contains("Subject: Registered: Small seminar"))
        .collect();
    assert_eq!(confirmed.len(), 3);
    let waiting: Vec<&String> = mails
        .iter()
        .filter(|m| m.contains("Subject: Waiting list: Small seminar"))
        .collect();
    assert_eq!(waiting.len(), 7);

    // Cancelling a place: the page only shows a button; the POST cancels and the longest
    // waiting registration gets the place and a mail.
    let to = confirmed[0]
        .lines()
        .find_map(|l| l.strip_prefix("To: "))
        .unwrap()
        .to_string();
    let token = Server::link_token(&dir.path().join("data/outbox"), &to, "/events/cancel/");
    let (status, _, page) = server.get(&format!("/events/cancel/{token}"));
    assert_eq!(status, 200);
    assert!(page.contains("Cancel my registration"));
    assert_eq!(outbox(&dir).len(), 10, "opening the link changes nothing");
    let (status, _, page) = server.post(&format!("/events/cancel/{token}"), FORM, "");
    assert_eq!(status, 200);
    assert!(page.contains("Registration cancelled"));
    let mails = outbox(&dir);
    assert_eq!(mails.len(), 11);
    assert!(mails[10].contains("Subject: A place is yours: Small seminar"));
    let places = json(&server.get("/api/events/small-seminar").2);
    assert_eq!(
        (places["available"].as_u64(), places["waiting"].as_u64()),
        (Some(0), Some(6))
    );
    // The link works once.
    let (status, _, _) = server.get(&format!("/events/cancel/{token}"));
    assert_eq!(status, 404);

    // From the site's form: a redirect back to the event, to the message for the outcome.
    let (status, headers, _) = server.post(
        "/api/events/small-seminar/registrations",
        FORM,
        "name=Form+Guest&email=form%40example.com&company=&notes=&website=",
    );
    assert_eq!(status, 303);
    assert_eq!(headers["location"], "/calendar/small-seminar#waitlisted");
    let (_, _, page) = server.get("/calendar/small-seminar");
    assert!(
        page.contains(r#"id="waitlisted""#),
        "the page holds the message"
    );
}

#[test]
fn registrations_refuse_what_cannot_be_registered_for() {
    let (dir, server) = site("");
    let post = |path: &str, body: &str| server.post(path, JSON, body);
    let ok = r#"{"name": "Ada", "email": "ada@example.com"}"#;
    for (path, status, needle) in [
        (
            "/api/events/no-such-event/registrations",
            404,
            "no event `no-such-event`",
        ),
        (
            "/api/events/managers-reports-customers/registrations",
            404,
            "no event",
        ),
        (
            "/api/events/christmas-closure/registrations",
            404,
            "takes no registrations",
        ),
    ] {
        let (s, _, body) = post(path, ok);
        assert_eq!(s, status, "{path}: {body}");
        assert!(body.contains(needle), "{path}: {body}");
    }
    for (body, status, field) in [
        (r#"{"email": "ada@example.com"}"#, 422, "name"),
        (
            r#"{"name": "Ada", "email": "not-an-address"}"#,
            422,
            "email",
        ),
        (
            r#"{"name": "Ada", "email": "ada@example.com", "seats": 4}"#,
            422,
            "seats",
        ),
        (
            r#"{"name": "Ada", "email": "ada@example.com", "website": "http://spam"}"#,
            422,
            "website",
        ),
    ] {
        let (s, _, answer) = post("/api/events/small-seminar/registrations", body);
        assert_eq!(s, status, "{body}: {answer}");
        assert_eq!(json(&answer)["error"]["field"], field, "{body}");
    }
    let (s, _, _) = post("/api/events/small-seminar/registrations", "{not json");
    assert_eq!(s, 400);
    assert!(outbox(&dir).is_empty(), "refused input sends no mail");
}

#[test]
fn readers_rate_articles_and_share_them_within_limits() {
    let (dir, server) = site("shares_per_ip = 2");
    let (status, _, answer) = server.post(
        "/api/kb/refund-a-sale/feedback",
        JSON,
        r#"{"helpful": true, "comment": "Clear steps."}"#,
    );
    assert_eq!(status, 201, "{answer}");
    let (status, headers, _) = server.post(
        "/api/kb/refund-a-sale/feedback",
        FORM,
        "helpful=no&comment=&website=",
    );
    assert_eq!(status, 303);
    assert_eq!(headers["location"], "/kb/refund-a-sale#feedback-sent");
    for (path, body, status, field) in [
        (
            "/api/kb/no-such-article/feedback",
            r#"{"helpful": true}"#,
            404,
            Value::Null,
        ),
        (
            "/api/kb/..%2Fetc/feedback",
            r#"{"helpful": true}"#,
            404,
            Value::Null,
        ),
        (
            "/api/kb/refund-a-sale/feedback",
            r#"{}"#,
            422,
            "helpful".into(),
        ),
        (
            "/api/kb/refund-a-sale/feedback",
            r#"{"helpful": "maybe"}"#,
            422,
            "helpful".into(),
        ),
        (
            "/api/kb/refund-a-sale/share",
            r#"{"email": "nobody"}"#,
            422,
            "email".into(),
        ),
        (
            "/api/kb/no-such-article/share",
            r#"{"email": "bo@example.com"}"#,
            404,
            Value::Null,
        ),
    ] {
        let (s, _, answer) = server.post(path, JSON, body);
        assert_eq!(s, status, "{path} {body}: {answer}");
        assert_eq!(json(&answer)["error"]["field"], field, "{path} {body}");
    }

    let (status, _, answer) = server.post(
        "/api/kb/refund-a-sale/share",
        JSON,
        r#"{"email": "bo@example.com", "name": "Win a prize at evil.example"}"#,
    );
    assert_eq!(status, 202, "{answer}");
    let mails = outbox(&dir);
    assert_eq!(mails.len(), 1);
    assert!(mails[0].contains("To: bo@example.com\r\n"));
    assert!(mails[0].contains("Subject: An article for you: Refund a sale"));
    // Nothing the sender typed reaches a stranger's inbox.
    assert!(!mails[0].contains("evil.example"), "{}", mails[0]);
    assert!(mails[0].contains("https://help.kestrel-systems.co.uk/kb/refund-a-sale"));
    let (status, headers, _) = server.post(
        "/api/kb/refund-a-sale/share",
        FORM,
        "email=cy%40example.com&name=&website=",
    );
    assert_eq!(status, 303);
    assert_eq!(headers["location"], "/kb/refund-a-sale#shared");
    // The third share from this address within the hour is refused.
    let (status, _, answer) = server.post(
        "/api/kb/refund-a-sale/share",
        JSON,
        r#"{"email": "di@example.com"}"#,
    );
    assert_eq!(status, 429, "{answer}");
    assert!(json(&answer)["error"]["message"]
        .as_str()
        .unwrap()
        .contains("at most 2 an hour"));
    assert_eq!(outbox(&dir).len(), 2);
}

#[test]
fn search_answers_json_with_snippets_topics_and_pages() {
    let (_dir, server) = site("");
    let (status, headers, body) = server.get("/api/search?q=refund");
    assert_eq!(status, 200);
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let r = json(&body);
    assert_eq!(r["hits"][0]["url"], "/kb/refund-a-sale");
    assert!(r["hits"][0]["snippet"].as_str().unwrap().contains("<b>"));
    assert!(r["total"].as_u64().unwrap() >= 1);

    let r = json(&server.get("/api/search?q=card&topic=hardware").2);
    assert!(r["hits"]
        .as_array()
        .unwrap()
        .iter()
        .all(|h| h["topic"] == "Hardware"));
    let first = json(&server.get("/api/search?q=the&per_page=3").2);
    let second = json(&server.get("/api/search?q=the&per_page=3&page=2").2);
    assert_eq!(first["hits"].as_array().unwrap().len(), 3);
    assert_ne!(first["hits"][0]["url"], second["hits"][0]["url"]);
    assert_eq!(json(&server.get("/api/search?q=").2)["total"], 0);

    for (query, field) in [
        ("q=x&per_page=500", "per_page"),
        ("q=x&page=0", "page"),
        ("q=x&page=abc", "page"),
    ] {
        let (status, _, body) = server.get(&format!("/api/search?{query}"));
        assert_eq!(status, 422, "{query}");
        assert_eq!(json(&body)["error"]["field"], field);
    }
    let long = "a".repeat(501);
    assert_eq!(server.get(&format!("/api/search?q={long}")).0, 422);
}

#[test]
fn a_retried_submission_with_an_idempotency_key_is_answered_once() {
    let (dir, server) = site("");
    let body = r#"{"name": "Ada", "email": "ada@example.com", "subject": "Drawer stuck", "description": "It will not open."}"#;
    let key = [("Idempotency-Key", "4a7f0c1e-2b6d-4c1a-9a53-0f6d2e8b7c11")];
    let (s1, h1, first) = server.post_with("/api/issues", JSON, body, &key);
    let (s2, h2, second) = server.post_with("/api/issues", JSON, body, &key);
    assert_eq!((s1, s2), (201, 201), "{first} {second}");
    assert_eq!(first, second, "the same answer, the same tracking number");
    assert!(h1.get("idempotent-replayed").is_none());
    assert_eq!(h2["idempotent-replayed"], "true");
    assert_eq!(
        outbox(&dir).len(),
        2,
        "one issue: one mail to the visitor, one to the business"
    );

    // The same key for another request is refused; a different key files a new issue.
    let other = body.replace("Drawer stuck", "Drawer still stuck");
    let (status, _, answer) = server.post_with("/api/issues", JSON, &other, &key);
    assert_eq!(status, 422, "{answer}");
    assert_eq!(json(&answer)["error"]["field"], "idempotency_key");
    let (status, _, answer) =
        server.post_with("/api/issues", JSON, &other, &[("Idempotency-Key", "short")]);
    assert_eq!(status, 422, "{answer}");

    // A form's hidden field works like the header, and the replay is the same redirect.
    let form = "name=Bo&email=bo%40example.com&subject=Till&description=Slow&binder=support&website=&form_token=&idempotency_key=0b8e5c1d-7f2a-4e3b-8c9d-1a2b3c4d5e6f";
    let (s1, h1, _) = server.post("/api/issues", FORM, form);
    let (s2, h2, _) = server.post("/api/issues", FORM, form);
    assert_eq!((s1, s2), (303, 303));
    assert_eq!(h1["location"], h2["location"]);
    assert_eq!(
        outbox(&dir).len(),
        4,
        "two issues, each mailed to its visitor and the business"
    );

    // A refused request does not use up its key: corrected, it goes through.
    let bad = r#"{"name": "Cy", "email": "nope", "subject": "S", "description": "D"}"#;
    let fixed = r#"{"name": "Cy", "email": "cy@example.com", "subject": "S", "description": "D"}"#;
    let key = [("Idempotency-Key", "c3d2e1f0-aaaa-4bbb-8ccc-ddddeeeeffff")];
    assert_eq!(server.post_with("/api/issues", JSON, bad, &key).0, 422);
    let (status, _, answer) = server.post_with("/api/issues", JSON, fixed, &key);
    // Same key, different body after a refusal: the claim was released, so it is accepted.
    assert_eq!(status, 201, "{answer}");
}

#[test]
fn form_tokens_catch_robots_that_fill_forms_instantly() {
    let (dir, server) = site("min_fill_seconds = 1");
    let (status, headers, body) = server.get("/api/forms/token");
    assert_eq!(status, 200);
    assert_eq!(headers["cache-control"], "no-store");
    let token = json(&body)["token"].as_str().unwrap().to_string();
    let form = |token: &str| {
        format!(
            "email=ada%40example.com&name=&website=&form_token={}",
            token.replace('.', "%2E")
        )
    };
    let path = "/api/newsletters/product-news/subscriptions";
    let (status, _, answer) = server.post(path, FORM, &form(&token));
    assert_eq!(status, 422, "sent within the minimum time: {answer}");
    // A browser's form post gets the theme's page naming the field, not JSON.
    assert!(
        answer.contains("<h1>Please check the form</h1>"),
        "{answer}"
    );
    assert!(answer.contains("form token: the form was sent"), "{answer}");
    for forged in ["1700000000.00", "garbage", &format!("{}0", token)] {
        let (status, _, answer) = server.post(path, FORM, &form(forged));
        assert_eq!(status, 422, "{forged}: {answer}");
        assert!(answer.contains("reload the page"), "{answer}");
    }
    assert!(outbox(&dir).is_empty());
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let (status, headers, answer) = server.post(path, FORM, &form(&token));
    assert_eq!(status, 303, "{answer}");
    assert_eq!(headers["location"], "/newsletter#sent");
    assert_eq!(outbox(&dir).len(), 1);
}

#[test]
fn posts_from_one_address_are_limited_per_hour() {
    let (dir, server) = site("posts_per_ip = 3\nposts_per_email = 2");
    let sign_up = |email: &str| {
        server.post(
            "/api/newsletters/seminars/subscriptions",
            JSON,
            &format!(r#"{{"email": "{email}"}}"#),
        )
    };
    assert_eq!(sign_up("a@example.com").0, 202);
    assert_eq!(sign_up("a@example.com").0, 202);
    let (status, _, answer) = sign_up("A@example.com");
    assert_eq!(status, 429, "per e-mail address: {answer}");
    let (status, _, answer) = sign_up("b@example.com");
    assert_eq!(status, 429, "per IP address: {answer}");
    assert_eq!(outbox(&dir).len(), 2);
    // Reading is not limited.
    assert_eq!(server.get("/api/search?q=refund").0, 200);
}

#[test]
fn submissions_work_the_same_on_dynamodb() {
    let table = format!("dynamodb:forms-{}", std::process::id());
    let (dir, server) = site_on("", Some(&table));

    // File, track, add a note; a retry with the same key files nothing more.
    let body = r#"{"name": "Ada", "email": "ada@example.com", "subject": "Scanner beeps", "description": "Twice per scan."}"#;
    let key = [("Idempotency-Key", "9f1c2d3e-4b5a-4c6d-8e7f-a1b2c3d4e5f6")];
    let (status, _, first) = server.post_with("/api/issues", JSON, body, &key);
    assert_eq!(status, 201, "{first}");
    let (_, replayed, second) = server.post_with("/api/issues", JSON, body, &key);
    assert_eq!(first, second);
    assert_eq!(replayed["idempotent-replayed"], "true");
    let filed = json(&first);
    let number = filed["number"].as_str().unwrap();
    let token = common::tracking_token(&filed);
    let (status, _, tracked) = server.get(&format!("/api/track/{token}"));
    assert_eq!(status, 200);
    assert_eq!(json(&tracked)["number"], number);
    let (status, _, _) = server.post(
        &format!("/api/track/{token}/notes"),
        JSON,
        r#"{"body": "It also happens on the second till."}"#,
    );
    assert_eq!(status, 201);
    let tracked = json(&server.get(&format!("/api/track/{token}")).2);
    assert_eq!(tracked["notes"].as_array().unwrap().len(), 1);

    // Resend: one answer for a known and an unknown pair.
    let known = server.post(
        "/api/track/resend",
        JSON,
        &format!(r#"{{"number": "{number}", "email": "ada@example.com"}}"#),
    );
    let unknown = server.post(
        "/api/track/resend",
        JSON,
        r#"{"number": "KST-2026-999999", "email": "eve@example.com"}"#,
    );
    assert_eq!((known.0, &known.2), (unknown.0, &unknown.2));

    // Registrations at capacity from ten clients at once.
    let url = format!("{}/api/events/small-seminar/registrations", server.base);
    let threads: Vec<_> = (0..10)
        .map(|i| {
            let url = url.clone();
            std::thread::spawn(move || {
                let mut r = ureq::post(&url)
                    .header("content-type", JSON)
                    .send(&format!(
                        r#"{{"name": "G{i}", "email": "g{i}@example.com"}}"#
                    ))
                    .expect("registered");
                json(&r.body_mut().read_to_string().unwrap())["status"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
        })
        .collect();
    let statuses: Vec<String> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert_eq!(
        statuses.iter().filter(|s| *s == "confirmed").count(),
        3,
        "{statuses:?}"
    );

    // Newsletter sign-up, a request, an appointment, feedback and a share land too.
    for (path, body, status) in [
        (
            "/api/newsletters/seminars/subscriptions",
            r#"{"email": "ada@example.com"}"#,
            202,
        ),
        (
            "/api/requests",
            r#"{"kind": "sales", "name": "Bo", "email": "bo@example.com", "message": "Prices?"}"#,
            201,
        ),
        (
            "/api/appointments",
            r#"{"name": "Cy", "email": "cy@example.com", "topic": "Training", "preferred_times": ["Monday 10:00"]}"#,
            201,
        ),
        (
            "/api/kb/refund-a-sale/feedback",
            r#"{"helpful": false, "comment": "Add a video."}"#,
            201,
        ),
        (
            "/api/kb/refund-a-sale/share",
            r#"{"email": "di@example.com"}"#,
            202,
        ),
    ] {
        let (s, _, answer) = server.post(path, JSON, body);
        assert_eq!(s, status, "{path}: {answer}");
    }
    let mails = outbox(&dir);
    // Issue (to the visitor and to the business), the note (to the business), resend, ten
    // registrations, the sign-up's confirmation, the request and the appointment (to the
    // business), the share.
    assert_eq!(mails.len(), 18, "{}", mails.len());
}

/// A `multipart/form-data` body with text `fields` and `files` (field, name, content).
fn multipart(fields: &[(&str, &str)], files: &[(&str, &str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "----portal-test-boundary-7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes(),
        );
    }
    for (field, file, bytes) in files {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{file}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

fn post_bytes(
    server: &Server,
    path: &str,
    content_type: &str,
    body: &[u8],
) -> (u16, String, String) {
    let mut r = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .new_agent()
        .post(&format!("{}{path}", server.base))
        .header("content-type", content_type)
        .send(body)
        .expect("answered");
    let location = r
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (
        r.status().as_u16(),
        location,
        r.body_mut().read_to_string().unwrap_or_default(),
    )
}

#[test]
fn the_issue_form_takes_checked_attachments_served_only_as_downloads() {
    let (dir, server) = site("");
    let text = [
        ("name", "Ada"),
        ("email", "ada@example.com"),
        ("subject", "Printer error"),
        ("description", "See the photo and the log."),
        ("binder", "support"),
        ("website", ""),
        ("form_token", ""),
    ];
    let png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR-rest-of-image";
    let (ct, body) = multipart(
        &text,
        &[
            ("attachments", "photo.png", png),
            ("attachments", "till.log", b"ERROR 42: paper out\n"),
            ("attachments", "", b""),
        ],
    );
    let (status, location, answer) = post_bytes(&server, "/api/issues", &ct, &body);
    assert_eq!(status, 303, "{answer}");
    let token = location.trim_start_matches("/track/").to_string();
    let tracked = json(&server.get(&format!("/api/track/{token}")).2);
    let files = tracked["attachments"].as_array().unwrap();
    assert_eq!(files.len(), 2, "{tracked}");
    assert_eq!(files[0]["file_name"], "photo.png");
    assert_eq!(files[0]["media_type"], "image/png");
    let id = files[0]["id"].as_str().unwrap();
    let (status, headers, _) = server.get(&format!("/api/track/{token}/attachments/{id}"));
    assert_eq!(status, 200);
    assert_eq!(
        headers["content-disposition"],
        "attachment; filename=\"photo.png\""
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["content-type"], "image/png");
    let page = server.get(&format!("/track/{token}")).2;
    assert!(page.contains("photo.png") && page.contains("till.log"));
    // Another issue's token does not open this file; made-up ids are not found.
    let other = json(
        &server
            .post(
                "/api/issues",
                JSON,
                r#"{"name": "Bo", "email": "bo@example.com", "subject": "S", "description": "D"}"#,
            )
            .2,
    );
    let other_token = common::tracking_token(&other);
    assert_eq!(
        server
            .get(&format!("/api/track/{other_token}/attachments/{id}"))
            .0,
        404
    );
    assert_eq!(
        server
            .get(&format!(
                "/api/track/{token}/attachments/{}",
                "0".repeat(32)
            ))
            .0,
        404
    );

    // Refused files: wrong content for the name, a type not accepted, too many; nothing stored.
    let blobs = dir.path().join("data/blobs");
    let stored = std::fs::read_dir(&blobs).unwrap().count();
    for files in [
        vec![("attachments", "photo.png", &b"MZ\x90\x00 a program"[..])],
        vec![(
            "attachments",
            "page.html",
            &b"<script>alert(1)</script>"[..],
        )],
        vec![("attachments", "a.txt", &b"a"[..]); 6],
        vec![("upload", "a.txt", &b"a"[..])],
    ] {
        let (ct, body) = multipart(&text, &files);
        let (status, _, answer) = post_bytes(&server, "/api/issues", &ct, &body);
        assert_eq!(status, 422, "{answer}");
        assert!(
            answer.contains("attachments: ") || answer.contains("upload: "),
            "the page names the field: {answer}"
        );
    }
    assert_eq!(std::fs::read_dir(&blobs).unwrap().count(), stored);
    // Files are for the issue form only.
    let (ct, body) = multipart(
        &[("email", "x@example.com")],
        &[("attachments", "a.txt", b"a")],
    );
    let (status, _, _) = post_bytes(
        &server,
        "/api/newsletters/seminars/subscriptions",
        &ct,
        &body,
    );
    assert_eq!(status, 422);
    // Two issues, four mails (the visitor's and the business's): refused submissions sent
    // nothing.
    assert_eq!(outbox(&dir).len(), 4);
}

/// PUTs `body` to `url` (a path on `server`, or a whole URL) with `headers`: status and body.
fn put(server: &Server, url: &str, headers: &Value, body: &[u8]) -> (u16, String) {
    let url = if url.starts_with('/') {
        format!("{}{url}", server.base)
    } else {
        url.to_string()
    };
    let mut req = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent()
        .put(&url);
    for (name, value) in headers.as_object().unwrap() {
        req = req.header(name.as_str(), value.as_str().unwrap());
    }
    let mut r = req.send(body).expect("answered");
    (
        r.status().as_u16(),
        r.body_mut().read_to_string().unwrap_or_default(),
    )
}

/// Announces `name` of `size` bytes: the status and the answer (the slot).
fn announce(server: &Server, name: &str, size: usize) -> (u16, Value) {
    let (status, _, body) = server.post(
        "/api/uploads",
        JSON,
        &serde_json::json!({"file_name": name, "size": size}).to_string(),
    );
    (status, json(&body))
}

#[test]
fn files_uploaded_before_the_form_is_sent_are_checked_when_it_arrives_and_refused_ones_removed() {
    let (dir, server) = site("");
    let blobs = dir.path().join("data/blobs");
    let count = || std::fs::read_dir(&blobs).map(|d| d.count()).unwrap_or(0);
    let issue = |uploads: &[&str]| {
        serde_json::json!({"name": "Ada", "email": "ada@example.com", "subject": "Printer error",
            "description": "See the photo.", "uploads": uploads})
        .to_string()
    };
    // Announce, send, then name the token in the form: the file is the issue's.
    let png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR-rest-of-image";
    let (status, slot) = announce(&server, "Photo 1.PNG", png.len());
    assert_eq!(status, 201, "{slot}");
    assert_eq!(slot["method"], "PUT");
    assert_eq!(slot["headers"]["content-type"], "image/png");
    let url = slot["url"].as_str().unwrap();
    assert!(url.starts_with("/api/uploads/"), "{url}");
    assert_eq!(put(&server, url, &slot["headers"], png).0, 204);
    // The URL takes one file: a second is refused, whatever it holds.
    assert_eq!(put(&server, url, &slot["headers"], png).0, 409);
    let (status, _, filed) = server.post(
        "/api/issues",
        JSON,
        &issue(&[slot["upload"].as_str().unwrap()]),
    );
    assert_eq!(status, 201, "{filed}");
    let token = common::tracking_token(&json(&filed));
    let tracked = json(&server.get(&format!("/api/track/{token}")).2);
    let files = tracked["attachments"].as_array().unwrap();
    assert_eq!(files.len(), 1, "{tracked}");
    assert_eq!(files[0]["file_name"], "Photo 1.PNG");
    assert_eq!(files[0]["media_type"], "image/png");
    assert_eq!(files[0]["size"], png.len());
    let id = files[0]["id"].as_str().unwrap();
    let (status, headers, _) = server.get(&format!("/api/track/{token}/attachments/{id}"));
    assert_eq!(status, 200);
    assert_eq!(
        headers["content-disposition"],
        "attachment; filename=\"Photo 1.PNG\""
    );
    // The upload went with that form: the token brings nothing to another, and one form
    // cannot name it twice.
    let used = slot["upload"].as_str().unwrap();
    let (status, _, answer) = server.post("/api/issues", JSON, &issue(&[used]));
    assert_eq!(status, 422, "{answer}");
    assert!(
        answer.contains("has not arrived, or was sent with another form"),
        "{answer}"
    );
    let (status, _, answer) = server.post("/api/issues", JSON, &issue(&[used, used]));
    assert_eq!(status, 422, "{answer}");
    assert!(answer.contains("named twice"), "{answer}");
    let kept = count();

    // Refused when announced: a type not taken, too large, empty.
    for (name, size, field) in [
        ("page.html", 10, "file_name"),
        ("big.pdf", 10 * 1024 * 1024 + 1, "size"),
        ("empty.txt", 0, "size"),
    ] {
        let (status, answer) = announce(&server, name, size);
        assert_eq!(status, 422, "{name}: {answer}");
        assert_eq!(answer["error"]["field"], field, "{answer}");
    }
    // Refused when sent: not the size announced; a made-up token.
    let (_, slot) = announce(&server, "notes.txt", 5);
    let (status, answer) = put(
        &server,
        slot["url"].as_str().unwrap(),
        &slot["headers"],
        b"more than five",
    );
    assert_eq!(status, 422, "{answer}");
    assert!(answer.contains("announced as 5 bytes"), "{answer}");
    assert_eq!(
        put(&server, "/api/uploads/made.up.token", &value!({}), b"x").0,
        422
    );

    // Refused when the form arrives: content that is not what the name says (and the file is
    // removed), a token never sent, a forged token, six files.
    let (_, slot) = announce(&server, "scan.pdf", 11);
    assert_eq!(
        put(
            &server,
            slot["url"].as_str().unwrap(),
            &slot["headers"],
            b"MZ\x90 binary!"
        )
        .0,
        204
    );
    assert_eq!(count(), kept + 1);
    let (status, _, answer) = server.post(
        "/api/issues",
        JSON,
        &issue(&[slot["upload"].as_str().unwrap()]),
    );
    assert_eq!(status, 422, "{answer}");
    let answer = json(&answer);
    assert_eq!(answer["error"]["field"], "uploads");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("scan.pdf"),
        "{answer}"
    );
    assert_eq!(count(), kept, "the refused file was removed");
    let (_, never) = announce(&server, "later.txt", 3);
    let forged = {
        let t = never["upload"].as_str().unwrap();
        format!("{}0", &t[..t.len() - 1])
    };
    for uploads in [
        vec![never["upload"].as_str().unwrap().to_string()],
        vec![forged],
        vec!["x".repeat(6); 6],
    ] {
        let refs: Vec<&str> = uploads.iter().map(String::as_str).collect();
        let (status, _, answer) = server.post("/api/issues", JSON, &issue(&refs));
        assert_eq!(status, 422, "{answer}");
    }
    // A form that takes no files refuses upload tokens too.
    let (status, _, _) = server.post(
        "/api/newsletters/seminars/subscriptions",
        JSON,
        &serde_json::json!({"email": "x@example.com", "uploads": [slot["upload"]]}).to_string(),
    );
    assert_eq!(status, 422);
    assert_eq!(count(), kept);
}

#[test]
fn the_api_is_described_by_an_openapi_document() {
    let (_dir, server) = site("");
    let (status, headers, body) = server.get("/api/openapi.json");
    assert_eq!(status, 200);
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let doc = json(&body);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = doc["paths"].as_object().unwrap();
    for path in [
        "/api/issues",
        "/api/track/{token}",
        "/api/track/resend",
        "/api/events/{event}/registrations",
        "/api/newsletters/{list}/subscriptions",
        "/api/requests",
        "/api/appointments",
        "/api/kb/{article}/feedback",
        "/api/kb/{article}/share",
        "/api/search",
        "/search",
        "/api/openapi.json",
    ] {
        assert!(paths.contains_key(path), "{path} is documented");
    }
    let file = &paths["/api/issues"]["post"];
    assert!(file["requestBody"]["content"]["multipart/form-data"].is_object());
    assert!(file["responses"]["422"].is_object());
}
