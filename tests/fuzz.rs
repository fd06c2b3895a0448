//! The API document tells the truth. schemathesis (from PyPI, installed by the test command
//! into `target/venv-fuzz`) fuzzes every operation of the `/api/openapi.json` that
//! `portal serve` publishes, on the embedded store, as three callers: anonymously, as a
//! logged-in customer, and with a staff API key holding every scope. Its checks (server
//! errors, status codes, content types, response schemas and headers, rejection of invalid
//! data, acceptance of valid data) and the few exceptions they allow, each with its reason,
//! are in `tests/fuzz/schemathesis.toml`. The seed and the number of examples are fixed, so a
//! run repeats. Beside it, the committed snapshot `functions/openapi.json` must equal the
//! published document, so a change to the public contract shows in review.

mod common;

use std::process::Command;

/// The reviewed snapshot of the document.
const SNAPSHOT: &str = "functions/openapi.json";

fn published(server: &common::Server) -> serde_json::Value {
    let (status, _, doc) = server.get("/api/openapi.json");
    assert_eq!(status, 200);
    serde_json::from_str(&doc).unwrap()
}

#[test]
fn the_published_document_matches_its_reviewed_snapshot() {
    let (_dir, server) = common::demo_site("", None, |_| {});
    let now = serde_json::to_string_pretty(&published(&server)).unwrap() + "\n";
    let path = common::repo().join(SNAPSHOT);
    if std::env::var_os("PORTAL_UPDATE_SNAPSHOT").is_some() {
        std::fs::write(&path, &now).unwrap();
    }
    let kept = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        kept == now,
        "the OpenAPI document changed; review the change and run \
         `PORTAL_UPDATE_SNAPSHOT=1 cargo nextest run --test fuzz snapshot` to keep it in {SNAPSHOT}"
    );
}

#[test]
fn the_api_answers_as_its_document_says_to_every_caller_under_fuzzing() {
    let st = common::repo().join("target/venv-fuzz/bin/schemathesis");
    assert!(
        st.exists(),
        "schemathesis is not in target/venv-fuzz: run scripts/test, which installs it"
    );
    // Limits high enough for the fuzzer to reach what they guard (they are tested apart).
    let limits = "posts_per_ip = 1000000\nposts_per_email = 1000000\nshares_per_ip = 1000000\n\
                  logins_per_ip = 1000000\nlogin_failures_per_account = 1000000\n\
                  min_fill_seconds = 0\napi_requests_per_minute = 1000000";
    let (dir, server) = common::demo_site(limits, None, |_| {});
    let spec = format!(
        "sqlite:{}",
        dir.path().join("data").join("portal.db").display()
    );

    // A customer's session: Ben's (Clifton Books), so Ada's demo account stays as it is.
    let (status, headers, body) = server.post(
        "/api/auth/login",
        "application/json",
        r#"{"email": "ben@clifton-books.example", "password": "clifton books demo"}"#,
    );
    assert_eq!(status, 200, "{body}");
    let cookie = headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
        .find(|c| c.starts_with("__Host-portal="))
        .expect("a session cookie");
    // A staff key with every scope.
    let mut args = vec!["keys", "create", "fuzz"];
    let scopes: Vec<String> = portal_core::records::apikeys::AREAS
        .iter()
        .map(|a| format!("{a}:write"))
        .collect();
    for s in &scopes {
        args.extend(["--scope", s.as_str()]);
    }
    let made = common::admin(&spec, &args);
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let key = String::from_utf8_lossy(&made.stdout).trim().to_string();

    let config = common::repo().join("tests/fuzz/schemathesis.toml");
    let schema = format!("{}/api/openapi.json", server.base);
    let mut failed = Vec::new();
    let session = Some(format!("Cookie: {cookie}"));
    let logout = "POST /api/auth/logout";
    // The customer's logout ends the session the other operations run in: it runs last, on
    // its own.
    for (role, header, selection) in [
        ("anonymous", None, ["--exclude-path-regex", "^/api/staff"]),
        (
            "customer",
            session.clone(),
            ["--exclude-path-regex", "^/api/staff|^/api/auth/logout$"],
        ),
        ("customer logging out", session, ["--include-name", logout]),
        (
            "staff key",
            Some(format!("Authorization: Bearer {key}")),
            ["--exclude-path-regex", "^/(?!api/staff)"],
        ),
    ] {
        let report = dir.path().join(format!("{}.txt", role.replace(' ', "-")));
        let mut c = Command::new(&st);
        c.arg("--config-file")
            .arg(&config)
            .args(["run", &schema])
            .args(selection)
            .env("NO_COLOR", "1")
            .current_dir(dir.path());
        if let Some(h) = &header {
            c.args(["--header", h]);
        }
        let out = c.output().expect("schemathesis runs");
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        std::fs::write(&report, &text).unwrap();
        let summary: Vec<&str> = text
            .lines()
            .skip_while(|l| !l.contains("WARNINGS") && !l.contains("SUMMARY"))
            .collect();
        println!("== {role} ==\n{}", summary.join("\n"));
        if !out.status.success() {
            failed.push(format!("== {role} ==\n{text}"));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}
