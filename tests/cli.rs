//! Black-box tests of the `portal` program: `build`, `search` and `serve` as a user runs them.

mod common;

use common::{demo_copy, run, Server};

#[test]
fn build_writes_the_site_and_prints_a_summary() {
    let out = tempfile::tempdir().unwrap();
    let o = run(&["build", "--out", out.path().to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        stdout.starts_with("Built ")
            && stdout.contains(" pages (29 articles, 8 events, 4 documents;"),
        "{stdout}"
    );
    assert!(out.path().join("site/index.html").is_file());
    assert!(out.path().join("search/meta.json").is_file());
}

#[test]
fn build_errors_exit_non_zero_naming_file_and_line() {
    let dir = demo_copy();
    let content = dir.path().join("content");
    std::fs::write(
        content.join("faq/broken.md"),
        "+++\nquestion = \"Broken?\"\ncategory = \"Support\"\n+++\nSee [nowhere](/kb/nowhere).\n",
    )
    .unwrap();
    let o = run(&[
        "build",
        "--content",
        content.to_str().unwrap(),
        "--out",
        dir.path().join("out").to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        stderr.contains("faq/broken.md:5: broken link: no page `/kb/nowhere`"),
        "{stderr}"
    );
    assert!(
        !dir.path().join("out/site").exists(),
        "nothing half-written"
    );
}

#[test]
fn build_warns_of_markdown_it_does_not_use() {
    let dir = demo_copy();
    let content = dir.path().join("content");
    std::fs::create_dir_all(content.join("blog")).unwrap();
    std::fs::write(content.join("blog/hello.md"), "# Hello\n").unwrap();
    let o = run(&[
        "build",
        "--content",
        content.to_str().unwrap(),
        "--out",
        dir.path().join("out").to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    assert!(
        stderr.contains("warning: ") && stderr.contains("blog/hello.md: not part of the site"),
        "{stderr}"
    );
}

#[test]
fn check_finds_what_a_build_finds_and_writes_nothing() {
    let dir = demo_copy();
    let content = dir.path().join("content");
    let out = dir.path().join("out");
    let check = || {
        run(&[
            "check",
            "--content",
            content.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
    };
    let o = check();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        stdout.starts_with("Checked ")
            && stdout.contains("29 articles")
            && stdout.contains("no problems"),
        "{stdout}"
    );
    std::fs::write(
        content.join("kb/index.md"),
        "+++\ntitle = \"Index\"\ntopic = \"Basics\"\ndate = 2026-01-01\n+++\nThe index.\n",
    )
    .unwrap();
    let o = check();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        stderr.contains("kb/index.md: its page `/kb/index` would be written over `/kb/`"),
        "{stderr}"
    );
    assert!(!out.exists(), "a check publishes nothing");
}

#[test]
fn search_prints_ranked_hits() {
    let out = tempfile::tempdir().unwrap();
    assert!(run(&["build", "--out", out.path().to_str().unwrap()])
        .status
        .success());
    let index = out.path().join("search");
    let o = run(&[
        "search",
        "refund a card payment",
        "--index",
        index.to_str().unwrap(),
        "--limit",
        "3",
    ]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success());
    let first = stdout.lines().nth(1).unwrap_or_default();
    assert!(first.contains("1. Refund a sale [article]"), "{stdout}");
    assert!(stdout.contains("/kb/refund-a-sale"));
    let numbered = stdout.lines().filter(|l| {
        l.trim_start()
            .split_once(". ")
            .is_some_and(|(n, _)| n.parse::<u32>().is_ok())
    });
    assert_eq!(numbered.count(), 3, "{stdout}");

    let o = run(&[
        "search",
        "refund",
        "--index",
        index.to_str().unwrap(),
        "--json",
    ]);
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(json["hits"][0]["url"], "/kb/refund-a-sale");

    let o = run(&["search", "zzzqqq", "--index", index.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("No results"));
}

#[test]
fn search_without_an_index_says_what_to_do() {
    let o = run(&["search", "refund", "--index", "/nonexistent/search"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("run `portal build` first"));
}

#[test]
fn serve_serves_pages_with_security_headers_and_a_404() {
    let dir = demo_copy();
    let server = Server::start(&dir.path().join("content"), &dir.path().join("out"));
    let (status, headers, body) = server.get("/");
    assert_eq!(status, 200);
    assert!(body.contains("Kestrel Systems help centre"));
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(
        headers["strict-transport-security"],
        "max-age=63072000; includeSubDomains"
    );
    assert!(headers["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("frame-ancestors 'none'"));
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));

    let (status, _, body) = server.get("/kb/refund-a-sale");
    assert_eq!(status, 200);
    assert!(body.contains("<h1 id=\"article-title\">Refund a sale</h1>"));

    let (status, headers, _) = server.get("/kb/refund-a-sale/");
    assert_eq!(status, 308, "the old spelling with a slash is redirected");
    assert_eq!(headers["location"], "/kb/refund-a-sale");

    let (status, headers, body) = server.get("/calendar.ics");
    assert_eq!(status, 200);
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/calendar"));
    assert!(body.starts_with("BEGIN:VCALENDAR\r\n"));

    let (status, _, body) = server.get("/kb/no-such-article");
    assert_eq!(status, 404);
    assert!(body.contains("Page not found"));
}

#[test]
fn serve_rebuilds_when_content_changes_and_survives_mistakes() {
    let dir = demo_copy();
    let content = dir.path().join("content");
    let server = Server::start(&content, &dir.path().join("out"));
    let article = content.join("kb/point-of-sale/refund-a-sale.md");
    let text = std::fs::read_to_string(&article).unwrap();
    // A search asked before the edit (its answer is kept) is answered anew after it.
    let (_, _, before) = server.get("/api/search?q=refund");
    assert!(before.contains(r#""title":"Refund a sale""#), "{before}");

    std::fs::write(
        &article,
        text.replace(
            "title = \"Refund a sale\"",
            "title = \"Refund or exchange a sale\"",
        ),
    )
    .unwrap();
    let report = server
        .wait_stdout("Rebuilt ", 30)
        .expect("rebuilt after an edit");
    assert!(
        report.contains("(1 file read,"),
        "only what the edit touched: {report}"
    );
    let (_, _, body) = server.get("/kb/refund-a-sale");
    assert!(
        body.contains("Refund or exchange a sale"),
        "the edit is live"
    );
    let (_, _, after) = server.get("/api/search?q=refund");
    assert!(
        after.contains(r#""title":"Refund or exchange a sale""#),
        "the search index is rebuilt too: {after}"
    );

    std::fs::write(
        &article,
        text.replace("date = 2025-03-20", "date = \"someday\""),
    )
    .unwrap();
    let err = server
        .wait_stderr("unknown date format", 30)
        .expect("the mistake is reported");
    assert!(err.contains("refund-a-sale.md:7"), "{err}");
    let (status, _, body) = server.get("/kb/refund-a-sale");
    assert_eq!(status, 200);
    assert!(
        body.contains("Refund or exchange a sale"),
        "the last good build stays up"
    );

    // Put right, the site is built whole again.
    std::fs::write(
        &article,
        text.replace("Refund a sale", "Refund a sale today"),
    )
    .unwrap();
    server
        .wait_stdout("Built ", 30)
        .expect("a whole build after a failed one");
    let (_, _, body) = server.get("/kb/refund-a-sale");
    assert!(body.contains("Refund a sale today"), "the fix is live");
}

#[test]
fn serve_answers_searches_with_the_theme() {
    let dir = demo_copy();
    let server = Server::start(&dir.path().join("content"), &dir.path().join("out"));
    let (status, headers, body) = server.get("/search?q=refund+card");
    assert_eq!(status, 200);
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(
        body.contains(r#"<a href="/kb/refund-a-sale">Refund a sale</a>"#),
        "{body}"
    );
    assert!(
        body.contains("<b>refund</b>") || body.contains("<b>Refund</b>"),
        "matches highlighted"
    );
    assert!(
        body.contains(r#"value="refund card""#),
        "the query stays in the box"
    );

    let (_, _, body) = server.get("/search?q=card&topic=hardware");
    assert!(
        body.contains("Hardware") && !body.contains(">Refund a sale</a>"),
        "topic filter"
    );
    assert!(body.contains(r#"<option value="hardware" selected>"#));

    let (_, _, page1) = server.get("/search?q=the");
    let (_, _, page2) = server.get("/search?q=the&page=2");
    assert!(
        page1.contains(r#"rel="next""#)
            && page2.contains(r#"rel="prev""#)
            && page2.contains(r#"start="11""#)
    );

    let (_, _, body) = server.get("/search?q=%3Cscript%3Ealert(1)%3C/script%3E");
    assert!(!body.contains("<script>alert(1)"), "the query is escaped");

    let (status, _, body) = server.get("/search?q=x&page=abc");
    assert_eq!(status, 422);
    assert!(body.contains("page: `abc` is not a whole number from 1 to 1000"));
    let long = "a".repeat(501);
    let (status, _, body) = server.get(&format!("/search?q={long}"));
    assert_eq!(status, 422);
    assert!(body.contains("q: the search is longer than 500 characters"));
}

#[test]
fn admin_moves_a_store_from_sqlite_to_dynamodb_and_back_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("portal.db").display());
    let records = dir.path().join("records.jsonl");
    let lines = [
        r#"{"pk":"CUSTOMER#c1","sk":"INVOICE#2026-01-01#i1","version":3,"data":{"lines":[{"qty":2,"sku":"POS-LIC"}],"total":120.5}}"#,
        r#"{"pk":"CUSTOMER#c1","sk":"PROFILE","version":1,"data":{"name":"Harbour Café"}}"#,
        r#"{"pk":"TOKEN#abc","sk":"TOKEN","version":1,"expires_at":4102444800,"data":{"kind":"activation"}}"#,
    ];
    std::fs::write(&records, lines.join("\n") + "\n").unwrap();
    let ok = |o: std::process::Output| {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        o
    };
    ok(run(&["admin", "init", "--store", &db]));
    let o = ok(run(&[
        "admin",
        "import",
        records.to_str().unwrap(),
        "--store",
        &db,
    ]));
    assert!(String::from_utf8_lossy(&o.stderr).contains("imported 3 records"));
    let first = ok(run(&["admin", "export", "-", "--store", &db])).stdout;
    assert_eq!(String::from_utf8_lossy(&first), lines.join("\n") + "\n");

    let again = run(&["admin", "import", records.to_str().unwrap(), "--store", &db]);
    assert!(!again.status.success(), "an import never overwrites");
    assert!(String::from_utf8_lossy(&again.stderr).contains("condition failed"));

    let endpoint = common::aws_endpoint();
    let table = format!("dynamodb:cli-{}", std::process::id());
    let aws = |args: &[&str]| {
        common::portal()
            .args(args)
            .env("AWS_ENDPOINT_URL", &endpoint)
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-east-1")
            .output()
            .unwrap()
    };
    let exported = dir.path().join("first.jsonl");
    std::fs::write(&exported, &first).unwrap();
    let refused = aws(&["admin", "export", "-", "--store", &table]);
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("--blobs s3:BUCKET"),
        "without its files only when asked"
    );
    let missing = aws(&["admin", "export", "-", "--store", &table, "--no-files"]);
    assert!(String::from_utf8_lossy(&missing.stderr)
        .contains("does not exist; run `portal admin init`"));
    ok(aws(&["admin", "init", "--store", &table]));
    ok(aws(&[
        "admin",
        "import",
        exported.to_str().unwrap(),
        "--store",
        &table,
    ]));
    let second = ok(aws(&[
        "admin",
        "export",
        "-",
        "--store",
        &table,
        "--no-files",
    ]))
    .stdout;
    assert_eq!(
        String::from_utf8_lossy(&second),
        String::from_utf8_lossy(&first),
        "identical after the round trip"
    );

    let bad = run(&["admin", "export", "-", "--store", "postgres:x"]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("use sqlite:PATH or dynamodb:TABLE"));
}

#[test]
fn a_visitor_files_an_issue_and_follows_it() {
    let dir = demo_copy();
    let out = dir.path().join("out");
    let server = Server::start(&dir.path().join("content"), &out);
    let body = r#"{"name": "Ada Lovelace", "email": "ada@example.com", "subject": "Receipts come out blank", "description": "Since this morning every receipt is blank.", "category": "Hardware"}"#;
    let (status, _, answer) = server.post("/api/issues", "application/json", body);
    assert_eq!(status, 201, "{answer}");
    let filed: serde_json::Value = serde_json::from_str(&answer).unwrap();
    let number = filed["number"].as_str().unwrap().to_string();
    assert!(
        number.starts_with("KST-20") && number.len() == "KST-2026-000001".len(),
        "{number}"
    );
    let url = filed["tracking_url"].as_str().unwrap();
    let token = url
        .strip_prefix("https://help.kestrel-systems.co.uk/track/")
        .expect("a link to the public site");
    assert_eq!(token.len(), 32);

    // The e-mail with the link, written to the outbox folder.
    let outbox = dir.path().join("data/outbox");
    let mails: Vec<_> = std::fs::read_dir(&outbox)
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    // One to the visitor, one to the business (its help desk hears of every new issue).
    assert_eq!(mails.len(), 2);
    let to_visitor: Vec<_> = mails
        .iter()
        .filter(|m| m.contains("To: ada@example.com\r\n"))
        .collect();
    assert_eq!(to_visitor.len(), 1);
    assert!(to_visitor[0].contains(&format!("Subject: [{number}] Your issue was received")));
    assert!(mails
        .iter()
        .any(|m| m.contains("To: support@kestrel-systems.co.uk\r\n")
            && m.contains(&format!("Subject: [{number}] New: "))));
    assert!(
        !to_visitor[0].contains("Receipts come out blank"),
        "nothing the visitor typed goes to an address nobody confirmed"
    );
    assert!(
        to_visitor[0].contains(url),
        "the mail carries the tracking link"
    );
    let date = to_visitor[0]
        .lines()
        .find_map(|l| l.strip_prefix("Date: "))
        .expect("a Date header");
    assert!(
        date.ends_with(" +0000") && date.split(' ').count() == 6,
        "RFC 5322 date: {date}"
    );

    let (status, headers, json) = server.get(&format!("/api/track/{token}"));
    assert_eq!(status, 200);
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert_eq!(headers["x-robots-tag"], "noindex");
    let tracked: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        (tracked["number"].as_str(), tracked["status"].as_str()),
        (Some(number.as_str()), Some("new"))
    );
    assert_eq!(tracked["history"].as_array().unwrap().len(), 1);
    let (status, _, page) = server.get(&format!("/track/{token}"));
    assert_eq!(status, 200);
    assert!(page.contains(&format!("Issue {number}")));

    // From the site's form: a redirect to the tracking page, and the next number.
    let form = "name=Bob&email=bob%40example.com&subject=Scanner&description=It+beeps&binder=support&website=";
    let (status, headers, _) =
        server.post("/api/issues", "application/x-www-form-urlencoded", form);
    assert_eq!(status, 303);
    let location = headers["location"].to_str().unwrap();
    assert!(location.starts_with("/track/"), "{location}");
    let (_, _, json) = server.get(&format!(
        "/api/track/{}",
        location.trim_start_matches("/track/")
    ));
    // The next number (the demo data's cases and bugs took the first ones).
    let seq: u32 = number.rsplit('-').next().unwrap().parse().unwrap();
    assert!(json.contains(&format!("-{:06}", seq + 1)), "{json}");
}

#[test]
fn bad_issue_input_gets_a_clear_4xx() {
    let dir = demo_copy();
    let server = Server::start(&dir.path().join("content"), &dir.path().join("out"));
    let cases = [
        (
            r#"{"name": "A", "subject": "S", "description": "D"}"#,
            422,
            "email",
        ),
        (
            r#"{"name": "A", "email": "not-an-address", "subject": "S", "description": "D"}"#,
            422,
            "email",
        ),
        (
            r#"{"name": "", "email": "a@example.com", "subject": "S", "description": "D"}"#,
            422,
            "name",
        ),
        (
            r#"{"name": "A", "email": "a@example.com", "subject": "S", "description": "D", "category": "Coffee"}"#,
            422,
            "category",
        ),
        (
            r#"{"name": "A", "email": "a@example.com", "subject": "S", "description": "D", "binder": "cases"}"#,
            422,
            "binder",
        ),
        (
            r#"{"name": "A", "email": "a@example.com", "subject": "S", "description": "D", "website": "http://spam"}"#,
            422,
            "website",
        ),
        (
            r#"{"name": "A", "email": "a@example.com", "subject": "S", "description": "D", "colour": "red"}"#,
            422,
            "colour",
        ),
    ];
    for (body, status, field) in cases {
        let (got, _, answer) = server.post("/api/issues", "application/json", body);
        assert_eq!(got, status, "{body}: {answer}");
        let e: serde_json::Value = serde_json::from_str(&answer).unwrap();
        assert_eq!(e["error"]["field"], field, "{body}: {answer}");
        assert!(!e["error"]["message"].as_str().unwrap().is_empty());
    }
    let long = format!(
        r#"{{"name": "A", "email": "a@example.com", "subject": "{}", "description": "D"}}"#,
        "s".repeat(201)
    );
    assert_eq!(server.post("/api/issues", "application/json", &long).0, 422);
    assert_eq!(
        server
            .post("/api/issues", "application/json", "{not json")
            .0,
        400
    );
    let (status, _, said) = server.post("/api/issues", "text/plain", "hello");
    assert_eq!(
        status, 415,
        "a body of a type the form does not read: {said}"
    );
    assert!(said.contains("send application/json"), "{said}");
    let huge = format!(
        r#"{{"name": "A", "email": "a@example.com", "subject": "S", "description": "{}"}}"#,
        "d".repeat(300_000)
    );
    let (status, _, said) = server.post("/api/issues", "application/json", &huge);
    assert_eq!(status, 413, "oversized body: {said}");
    assert!(said.contains("larger than"), "{said}");
    assert_eq!(server.get("/api/track/not-a-token").0, 404);
    assert_eq!(server.get(&format!("/api/track/{}", "0".repeat(32))).0, 404);
    assert!(
        !dir.path().join("data/outbox").exists(),
        "no mail for refused input"
    );
}

#[test]
fn requests_and_appointments_reach_the_business() {
    let dir = demo_copy();
    let server = Server::start(&dir.path().join("content"), &dir.path().join("out"));
    let (status, _, answer) = server.post("/api/requests", "application/json", r#"{"kind": "sales", "name": "Ada", "email": "ada@example.com", "company": "Harbour Café", "message": "Two tills, please."}"#);
    assert_eq!(status, 201, "{answer}");
    let form = "kind=estore&name=Bob&email=bob%40example.com&company=Bobs&address=1+Quay+Street&vat_number=GB1&website=";
    let (status, headers, _) =
        server.post("/api/requests", "application/x-www-form-urlencoded", form);
    assert_eq!(
        (status, headers["location"].to_str().unwrap()),
        (303, "/request/estore#sent")
    );
    let form = "name=Cy&email=cy%40example.com&topic=Training&mode=video&preferred_time_1=2026-12-01T10%3A00&preferred_time_2=&message=";
    assert_eq!(
        server
            .post(
                "/api/appointments",
                "application/x-www-form-urlencoded",
                form
            )
            .0,
        303
    );

    let outbox = dir.path().join("data/outbox");
    let mut mails: Vec<String> = std::fs::read_dir(&outbox)
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    mails.sort();
    assert_eq!(mails.len(), 3);
    assert!(
        mails
            .iter()
            .all(|m| m.contains("To: support@kestrel-systems.co.uk\r\n")),
        "to the business's address"
    );
    assert!(mails.iter().any(
        |m| m.contains("Subject: Request for sales information from Ada")
            && m.contains("Two tills, please.")
    ));
    assert!(mails
        .iter()
        .any(|m| m.contains("eStore account") && m.contains("address: 1 Quay Street")));
    assert!(mails.iter().any(
        |m| m.contains("Subject: Appointment request: Training (Cy)")
            && m.contains("2026-12-01T10:00")
    ));

    for (path, body, field) in [
        (
            "/api/requests",
            r#"{"kind": "free lunch", "name": "A", "email": "a@example.com"}"#,
            "kind",
        ),
        (
            "/api/requests",
            r#"{"kind": "estore", "name": "A", "email": "a@example.com"}"#,
            "address",
        ),
        (
            "/api/requests",
            r#"{"kind": "login", "name": "A", "email": "a"}"#,
            "email",
        ),
        (
            "/api/appointments",
            r#"{"name": "A", "email": "a@example.com", "topic": "T"}"#,
            "preferred_times",
        ),
        (
            "/api/appointments",
            r#"{"name": "A", "email": "a@example.com", "topic": "T", "mode": "telepathy", "preferred_times": ["soon"]}"#,
            "mode",
        ),
    ] {
        let (status, _, answer) = server.post(path, "application/json", body);
        assert_eq!(status, 422, "{body}");
        assert!(
            answer.contains(&format!(r#""field":"{field}""#)),
            "{body}: {answer}"
        );
    }
    assert_eq!(
        std::fs::read_dir(&outbox).unwrap().count(),
        3,
        "no mail for refused input"
    );
}

#[test]
fn newsletter_sign_up_needs_confirmation_and_unsubscribes_in_one_click() {
    let dir = demo_copy();
    let server = Server::start(&dir.path().join("content"), &dir.path().join("out"));
    let outbox = dir.path().join("data/outbox");
    let mails = || -> Vec<String> {
        let mut m: Vec<String> = std::fs::read_dir(&outbox)
            .map(|d| {
                d.map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
                    .collect()
            })
            .unwrap_or_default();
        m.sort();
        m
    };
    let link = |mail: &str, path: &str| {
        mail.lines()
            .find(|l| l.contains(path))
            .unwrap()
            .trim()
            .rsplit('/')
            .next()
            .unwrap()
            .to_string()
    };

    let signup = server.post(
        "/api/newsletters/product-news/subscriptions",
        "application/json",
        r#"{"email": "ada@example.com"}"#,
    );
    assert_eq!(signup.0, 202);
    let all = mails();
    assert_eq!(all.len(), 1);
    assert!(all[0].contains("Subject: Please confirm: Product news"));
    let token = link(&all[0], "/newsletter/confirm/");

    // Opening the link (as a mail scanner does) only shows a button.
    let (status, _, page) = server.get(&format!("/newsletter/confirm/{token}"));
    assert_eq!(status, 200);
    assert!(page.contains("Confirm my subscription"), "{page}");
    assert_eq!(mails().len(), 1, "nothing confirmed by a GET");
    let (status, _, page) = server.post(
        &format!("/newsletter/confirm/{token}"),
        "application/x-www-form-urlencoded",
        "",
    );
    assert_eq!(status, 200);
    assert!(page.contains("confirmed"));
    assert_eq!(
        server.get(&format!("/newsletter/confirm/{token}")).0,
        404,
        "the confirmation link works once"
    );

    // Signing up again: the same answer, and no mail for an address already confirmed.
    let again = server.post(
        "/api/newsletters/product-news/subscriptions",
        "application/json",
        r#"{"email": "ADA@example.com"}"#,
    );
    assert_eq!((again.0, &again.2), (signup.0, &signup.2));
    let all = mails();
    assert_eq!(
        all.len(),
        2,
        "the confirmation mail and the welcome mail with the unsubscribe link"
    );
    let welcome = all
        .iter()
        .find(|m| m.contains("Subject: Subscribed"))
        .unwrap();
    let unsubscribe = link(welcome, "/newsletter/unsubscribe/");
    let (status, _, page) = server.get(&format!("/newsletter/unsubscribe/{unsubscribe}"));
    assert!(
        status == 200 && page.contains("<button"),
        "opening the link only shows a button"
    );
    let (status, _, page) = server.post(
        &format!("/newsletter/unsubscribe/{unsubscribe}"),
        "application/x-www-form-urlencoded",
        "",
    );
    assert!(status == 200 && page.contains("Unsubscribed"));
    server.post(
        "/api/newsletters/product-news/subscriptions",
        "application/json",
        r#"{"email": "ada@example.com"}"#,
    );
    assert_eq!(
        mails().len(),
        3,
        "after unsubscribing, signing up asks for confirmation again"
    );
    assert_eq!(
        server
            .post(
                "/api/newsletters/gossip/subscriptions",
                "application/json",
                r#"{"email": "a@example.com"}"#
            )
            .0,
        404
    );
    assert_eq!(
        server
            .post(
                "/api/newsletters/product-news/subscriptions",
                "application/json",
                r#"{"email": "nope"}"#
            )
            .0,
        422
    );
    let (status, headers, _) = server.post(
        "/api/newsletters/seminars/subscriptions",
        "application/x-www-form-urlencoded",
        "name=&email=bob%40example.com&website=",
    );
    assert_eq!(
        (status, headers["location"].to_str().unwrap()),
        (303, "/newsletter#sent")
    );
}

/// A CloudFront client for the local AWS API.
fn cloudfront(endpoint: &str) -> aws_sdk_cloudfront::Client {
    let config = aws_sdk_cloudfront::Config::builder()
        .http_client(portal_core::aws::http_client())
        .behavior_version(aws_sdk_cloudfront::config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_sdk_cloudfront::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_cloudfront::config::Credentials::new(
            "test", "test", None, None, "test",
        ))
        .build();
    aws_sdk_cloudfront::Client::from_conf(config)
}

/// A distribution in front of `bucket` on the local AWS API: its id.
async fn distribution(client: &aws_sdk_cloudfront::Client, bucket: &str) -> String {
    use aws_sdk_cloudfront::types::*;
    let origin = Origin::builder()
        .id("site")
        .domain_name(format!("{bucket}.s3.amazonaws.com"))
        .s3_origin_config(S3OriginConfig::builder().origin_access_identity("").build())
        .build()
        .unwrap();
    let config = DistributionConfig::builder()
        .caller_reference(bucket)
        .comment("")
        .enabled(true)
        .origins(
            Origins::builder()
                .quantity(1)
                .items(origin)
                .build()
                .unwrap(),
        )
        .default_cache_behavior(
            DefaultCacheBehavior::builder()
                .target_origin_id("site")
                .viewer_protocol_policy(ViewerProtocolPolicy::RedirectToHttps)
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let out = client
        .create_distribution()
        .distribution_config(config)
        .send()
        .await
        .unwrap();
    out.distribution.unwrap().id
}

/// The paths of every invalidation of distribution `id`.
async fn invalidated(client: &aws_sdk_cloudfront::Client, id: &str) -> Vec<Vec<String>> {
    let list = client
        .list_invalidations()
        .distribution_id(id)
        .send()
        .await
        .unwrap();
    let mut out = Vec::new();
    for summary in list.invalidation_list.unwrap().items() {
        let got = client
            .get_invalidation()
            .distribution_id(id)
            .id(&summary.id)
            .send()
            .await
            .unwrap();
        let batch = got.invalidation.unwrap().invalidation_batch.unwrap();
        out.push(batch.paths.unwrap().items().to_vec());
    }
    out
}

#[test]
fn deploy_site_uploads_the_site_with_content_types_and_cache_headers() {
    let endpoint = common::aws_endpoint();
    let dir = demo_copy();
    let bucket = format!("site-{}", std::process::id());
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    agent
        .put(&format!("{endpoint}/{bucket}"))
        .send_empty()
        .unwrap();
    // Something the build does not have, to be removed.
    agent
        .put(&format!("{endpoint}/{bucket}/old-page.html"))
        .send("stale")
        .unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let cdn = cloudfront(&endpoint);
    let distribution = runtime.block_on(distribution(&cdn, &bucket));
    let out = dir.path().join("out");
    let deploy = || {
        let o = common::portal()
            .args([
                "deploy-site",
                "--bucket",
                &bucket,
                "--distribution",
                &distribution,
            ])
            .arg("--content")
            .arg(dir.path().join("content"))
            .arg("--out")
            .arg(&out)
            .env("AWS_ENDPOINT_URL", &endpoint)
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-east-1")
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).to_string()
    };
    let stdout = deploy();
    assert!(stdout.contains("removed 1"), "{stdout}");
    assert_eq!(
        runtime.block_on(invalidated(&cdn, &distribution)),
        [vec!["/old-page".to_string(), "/old-page.html".into()]],
        "only what changed is invalidated"
    );
    let get = |key: &str| {
        // moto checks who asks, not the signature.
        let mut r = agent
            .get(&format!("{endpoint}/{bucket}/{key}"))
            .header(
                "authorization",
                "AWS4-HMAC-SHA256 Credential=test/20261124/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0",
            )
            .call()
            .unwrap();
        let headers = r.headers().clone();
        (
            r.status().as_u16(),
            headers,
            r.body_mut().read_to_string().unwrap_or_default(),
        )
    };
    let (status, headers, page) = get("kb/refund-a-sale.html");
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    assert_eq!(headers["cache-control"], "public, max-age=300");
    assert!(page.contains("Refund a sale"));
    // The page links the stylesheet under its content-hashed name, kept for a year.
    let css = page
        .split("href=\"/static/style.")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a hashed stylesheet link");
    let (status, headers, _) = get(&format!("static/style.{css}"));
    assert_eq!(status, 200, "static/style.{css}");
    assert_eq!(headers["content-type"], "text/css; charset=utf-8");
    assert_eq!(
        headers["cache-control"],
        "public, max-age=31536000, immutable"
    );
    let (_, headers, _) = get("static/style.css");
    assert_eq!(headers["content-type"], "text/css; charset=utf-8");
    assert_eq!(headers["cache-control"], "public, max-age=86400");
    let (_, headers, _) = get("calendar.ics");
    assert_eq!(headers["content-type"], "text/calendar; charset=utf-8");
    assert_eq!(get("old-page.html").0, 404, "removed");
    assert_eq!(
        get("my/kb/price-increase-2027.html").0,
        404,
        "private pages never uploaded"
    );

    // Unchanged, nothing is sent again; one edited article sends the pages that show it and
    // invalidates them at both of their addresses.
    let stdout = deploy();
    assert!(stdout.contains("Uploaded 0 of"), "{stdout}");
    assert!(stdout.contains("nothing to invalidate"), "{stdout}");
    let article = dir.path().join("content/kb/point-of-sale/refund-a-sale.md");
    let text = std::fs::read_to_string(&article).unwrap();
    std::fs::write(
        &article,
        text.replace("Refund a sale", "Refund a sale today"),
    )
    .unwrap();
    let stdout = deploy();
    assert!(!stdout.contains("Uploaded 0 of"), "{stdout}");
    let paths = runtime.block_on(invalidated(&cdn, &distribution));
    assert_eq!(paths.len(), 2, "{paths:?}");
    let latest = paths
        .iter()
        .find(|p| p.contains(&"/kb/refund-a-sale".to_string()));
    assert!(
        latest.is_some_and(|p| p.contains(&"/kb/refund-a-sale.html".to_string())
            && !p.iter().any(|p| p.starts_with("/static/"))),
        "{paths:?}"
    );
    assert!(get("kb/refund-a-sale.html")
        .2
        .contains("Refund a sale today"));

    // The functions' bundle, laid out as PORTAL_SITE_DIR expects it.
    let site = out.join("bundle/site");
    for part in [
        "site.json",
        "search/meta.json",
        "search-customers/meta.json",
        "private/my/kb/price-increase-2027.html",
        "theme/templates/base.html",
    ] {
        assert!(site.join(part).exists(), "{part} in the bundle");
    }
}

/// CloudFront's cache behaviours in the template: (path pattern, origin id), in the order
/// CloudFront tries them; the default behaviour last, as `*`.
fn cloudfront_behaviours() -> Vec<(String, String)> {
    let config = distribution_config();
    let config = &config;
    let mut behaviours: Vec<(String, String)> = config["CacheBehaviors"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["PathPattern"].as_str().unwrap().to_string(),
                b["TargetOriginId"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    behaviours.push((
        "*".into(),
        config["DefaultCacheBehavior"]["TargetOriginId"]
            .as_str()
            .unwrap()
            .to_string(),
    ));
    behaviours
}

/// The template's `DistributionConfig`.
fn distribution_config() -> serde_norway::Value {
    let text = std::fs::read_to_string(common::repo().join("infra/template.yaml")).unwrap();
    let doc: serde_norway::Value = serde_norway::from_str(&text).unwrap();
    doc["Resources"]["Distribution"]["Properties"]["DistributionConfig"].clone()
}

/// The origins CloudFront asks, in turn, for a behaviour targeting `target`: an origin
/// group's members (the next asked when the one before answers one of `failover` statuses),
/// or the one origin.
fn origins_asked(config: &serde_norway::Value, target: &str) -> (Vec<String>, Vec<u16>) {
    let groups = config["OriginGroups"]["Items"].as_sequence();
    let group = groups
        .into_iter()
        .flatten()
        .find(|g| g["Id"].as_str() == Some(target));
    match group {
        None => (vec![target.to_string()], Vec::new()),
        Some(g) => (
            g["Members"]["Items"]
                .as_sequence()
                .unwrap()
                .iter()
                .map(|m| m["OriginId"].as_str().unwrap().to_string())
                .collect(),
            g["FailoverCriteria"]["StatusCodes"]["Items"]
                .as_sequence()
                .unwrap()
                .iter()
                .map(|c| c.as_u64().unwrap() as u16)
                .collect(),
        ),
    }
}

/// CloudFront's path-pattern match: `*` any run of characters (slashes too), `?` one.
fn glob(pattern: &[u8], path: &[u8]) -> bool {
    match (pattern.first(), path.first()) {
        (None, None) => true,
        (Some(b'*'), _) => {
            glob(&pattern[1..], path) || (!path.is_empty() && glob(pattern, &path[1..]))
        }
        (Some(b'?'), Some(_)) => glob(&pattern[1..], &path[1..]),
        (Some(p), Some(c)) if p == c => glob(&pattern[1..], &path[1..]),
        _ => false,
    }
}

/// The origin CloudFront sends `path` to: the first behaviour whose pattern matches.
fn origin_of<'a>(behaviours: &'a [(String, String)], path: &str) -> &'a str {
    behaviours
        .iter()
        .find(|(p, _)| glob(p.as_bytes(), path.as_bytes()))
        .map(|(_, o)| o.as_str())
        .unwrap()
}

/// Where each path would land wrongly: function routes that reach the bucket, and built
/// files that reach the functions.
fn misrouted(behaviours: &[(String, String)], routes: &[String], files: &[String]) -> Vec<String> {
    let config = distribution_config();
    let mut wrong = Vec::new();
    for r in routes {
        // A function route goes to the functions alone: an origin group would ask the
        // bucket first and take only GET and HEAD.
        if origin_of(behaviours, r) != "functions" {
            wrong.push(format!("route {r} lands on {}", origin_of(behaviours, r)));
        }
    }
    for f in files {
        let (asked, _) = origins_asked(&config, origin_of(behaviours, f));
        if asked[0] != "site" {
            wrong.push(format!("file {f} lands on {}", asked[0]));
        }
    }
    wrong
}

#[test]
fn cloudfront_sends_every_function_route_to_the_functions_and_every_built_file_to_the_bucket() {
    let (dir, server) = common::demo_site("", None, |_| {});
    let (status, _, doc) = server.get("/api/openapi.json");
    assert_eq!(status, 200);
    let doc: serde_json::Value = serde_json::from_str(&doc).unwrap();
    // Every route the functions serve, with a sample value for each parameter.
    let routes: Vec<String> = doc["paths"]
        .as_object()
        .unwrap()
        .keys()
        .map(|p| {
            p.split('/')
                .map(|part| {
                    if part.starts_with('{') {
                        "0123456789abcdef0123456789abcdef"
                    } else {
                        part
                    }
                })
                .collect::<Vec<_>>()
                .join("/")
        })
        .collect();
    assert!(
        routes.iter().any(|r| r == "/login") && routes.len() > 40,
        "{routes:?}"
    );
    // Every file the build writes, at its own path and at the pretty URL the viewer-request
    // function serves it under (a page a function serves too, like /search, excepted).
    let site = dir.path().join("out/site");
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(&site) {
        let entry = entry.unwrap();
        if !entry.file_type().is_file() {
            continue;
        }
        let rel = format!(
            "/{}",
            entry.path().strip_prefix(&site).unwrap().to_str().unwrap()
        );
        if let Some(pretty) = rel
            .strip_suffix("index.html")
            .or_else(|| rel.strip_suffix(".html"))
        {
            if !routes.iter().any(|r| r == pretty) {
                files.push(pretty.to_string());
            }
        }
        files.push(rel);
    }
    assert!(files.len() > 100, "{}", files.len());
    let behaviours = cloudfront_behaviours();
    let wrong = misrouted(&behaviours, &routes, &files);
    assert!(wrong.is_empty(), "{wrong:#?}");
    // The check catches a missing pattern: without the login page's, /login goes to the bucket.
    let without_login: Vec<_> = behaviours
        .iter()
        .filter(|(p, _)| p != "/login")
        .cloned()
        .collect();
    assert_eq!(
        misrouted(&without_login, &routes, &files),
        ["route /login lands on site-then-functions"]
    );

    // A page the build did not write: the bucket answers 403 (it lets no one list it), and
    // CloudFront asks the functions next, whose $default route answers with the 404 page.
    let config = distribution_config();
    for missing in [
        "/kb/no-such-article",
        "/no/such/page.html",
        "/static/gone.css",
    ] {
        assert!(!files.iter().any(|f| f == missing));
        let (asked, failover) = origins_asked(&config, origin_of(&behaviours, missing));
        assert_eq!(asked, ["site", "functions"], "{missing}");
        assert!(
            failover.contains(&403) && failover.contains(&404),
            "{failover:?}"
        );
    }
    // No error page replaces what an origin said: a function's JSON 404 reaches its client.
    assert!(
        config.get("CustomErrorResponses").is_none(),
        "custom error responses apply to every origin, the functions' answers too"
    );
}

#[test]
fn an_export_carries_the_uploaded_files_to_s3_checked_and_a_changed_file_is_refused() {
    // A portal on the embedded store with the demo's files (a project plan, shared documents).
    let (dir, server) = common::demo_site("", None, |_| {});
    drop(server);
    let data = dir.path().join("data");
    let db = format!("sqlite:{}", data.join("portal.db").display());
    let originals: std::collections::BTreeMap<String, Vec<u8>> =
        std::fs::read_dir(data.join("blobs"))
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().to_string_lossy().to_string(),
                    std::fs::read(e.path()).unwrap(),
                )
            })
            .collect();
    assert!(originals.len() >= 2, "the demo keeps files: {originals:?}");

    let export = dir.path().join("all.jsonl");
    let o = common::admin(&db, &["export", export.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let said = String::from_utf8_lossy(&o.stderr);
    assert!(
        said.contains(&format!("exported {} files", originals.len())),
        "{said}"
    );
    let files = dir.path().join("all.jsonl.files");
    let sums = std::fs::read_to_string(files.join("SHA256SUMS")).unwrap();
    assert_eq!(sums.lines().count(), originals.len(), "{sums}");
    for (key, bytes) in &originals {
        assert_eq!(&std::fs::read(files.join(key)).unwrap(), bytes, "{key}");
    }
    let records = std::fs::read_to_string(&export).unwrap();
    let stdout = common::admin(&db, &["export", "-"]);
    assert!(
        !stdout.status.success(),
        "standard output cannot carry the files"
    );
    assert!(String::from_utf8_lossy(&stdout.stderr).contains("--files DIR"));

    // Into DynamoDB and S3 on the local AWS API.
    let endpoint = common::aws_endpoint();
    let id = std::process::id();
    let table = format!("dynamodb:files-{id}");
    let bucket = format!("attachments-{id}");
    let made = ureq::put(&format!("{endpoint}/{bucket}"))
        .send_empty()
        .unwrap();
    assert_eq!(made.status().as_u16(), 200, "bucket created");
    assert!(common::admin(&table, &["init"]).status.success());
    let s3 = format!("s3:{bucket}");
    let nothing = common::admin(&table, &["import", export.to_str().unwrap()]);
    assert!(!nothing.status.success());
    assert!(String::from_utf8_lossy(&nothing.stderr).contains("--blobs s3:BUCKET"));

    // A file changed after the export is refused, and nothing at all is imported.
    let tampered = dir.path().join("tampered");
    common::copy_dir(&files, &tampered);
    let victim = originals.keys().next().unwrap();
    std::fs::write(tampered.join(victim), b"not what was exported").unwrap();
    let o = common::admin(
        &table,
        &[
            "import",
            export.to_str().unwrap(),
            "--files",
            tampered.to_str().unwrap(),
            "--blobs",
            &s3,
        ],
    );
    assert!(!o.status.success());
    let said = String::from_utf8_lossy(&o.stderr);
    assert!(
        said.contains(victim) && said.contains("SHA-256 sum is not the one SHA256SUMS gives"),
        "{said}"
    );
    let empty = common::admin(&table, &["export", "-", "--no-files"]);
    assert!(empty.stdout.is_empty(), "no record was imported");
    let again = dir.path().join("after-refusal.jsonl");
    let o = common::admin(&table, &["export", again.to_str().unwrap(), "--blobs", &s3]);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("exported 0 files"),
        "no file was imported"
    );

    // The untouched export goes in whole, and comes back out byte for byte.
    let o = common::admin(
        &table,
        &["import", export.to_str().unwrap(), "--blobs", &s3],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains(&format!("imported {} files", originals.len()))
    );
    let back = dir.path().join("back.jsonl");
    let o = common::admin(&table, &["export", back.to_str().unwrap(), "--blobs", &s3]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(std::fs::read_to_string(&back).unwrap(), records);
    let back_files = dir.path().join("back.jsonl.files");
    assert_eq!(
        std::fs::read_to_string(back_files.join("SHA256SUMS")).unwrap(),
        sums
    );
    for (key, bytes) in &originals {
        assert_eq!(
            &std::fs::read(back_files.join(key)).unwrap(),
            bytes,
            "{key} through S3"
        );
    }
}

#[test]
fn serve_base_url_points_pages_feeds_and_mails_at_the_local_server() {
    let dir = demo_copy();
    let out = dir.path().join("out");
    let server = Server::start_with(
        &dir.path().join("content"),
        &out,
        &[
            "--base-url",
            "http://localhost:9999/",
            "--interface",
            "127.0.0.1",
        ],
        &[],
    );
    let (_, _, page) = server.get("/kb/refund-a-sale");
    assert!(
        page.contains(r#"href="http://localhost:9999/kb/refund-a-sale""#),
        "the canonical link: {page}"
    );
    let (_, _, sitemap) = server.get("/sitemap.xml");
    assert!(sitemap.contains("<loc>http://localhost:9999/kb/refund-a-sale</loc>"));
    let (status, _, body) = server.post(
        "/api/issues",
        "application/json",
        r#"{"name":"Ann","email":"ann@example.com","subject":"Till","description":"Slow"}"#,
    );
    assert_eq!(status, 201, "{body}");
    assert!(body.contains("http://localhost:9999/track/"), "{body}");
    let mails = Server::mails(&dir.path().join("data/outbox"));
    assert!(
        mails
            .iter()
            .any(|m| m.contains("To: ann@example.com\r\n")
                && m.contains("http://localhost:9999/track/")),
        "the mailed tracking link points at the local server"
    );
}

#[test]
fn serve_refuses_a_base_url_that_is_not_absolute() {
    let o = run(&["serve", "--base-url", "localhost:8080"]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        stderr.contains("`localhost:8080` is not an absolute http(s) URL"),
        "{stderr}"
    );
}
