//! The OpenAPI document proven usable by a real client: `openapi-python-client` (from PyPI)
//! generates a Python client from the `/api/openapi.json` that `portal serve` publishes, and
//! a script (`tests/client/drive.py`) pushes a customer and an invoice with it, replies to an
//! issue and reads the change feed until all of it is there, and is refused in each way the
//! staff API refuses, every refusal read as the documented error (the client is made to raise
//! on any status the document does not list).

mod common;

use std::process::Command;

use common::admin;

#[test]
fn a_client_generated_from_the_openapi_document_drives_the_staff_api() {
    let venv = common::repo().join("target/venv/bin");
    assert!(
        venv.join("openapi-python-client").exists(),
        "openapi-python-client is not in target/venv: run scripts/test, which installs it"
    );
    let (dir, server) = common::demo_site("", None, |_| {});
    let (status, _, doc) = server.get("/api/openapi.json");
    assert_eq!(status, 200);
    let spec_file = dir.path().join("openapi.json");
    std::fs::write(&spec_file, doc).unwrap();
    let client = dir.path().join("client");
    let path = format!(
        "{}:{}",
        venv.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let generated = Command::new(venv.join("openapi-python-client"))
        .args(["generate", "--meta", "none", "--path"])
        .arg(&spec_file)
        .arg("--output-path")
        .arg(client.join("portal_client"))
        .env("PATH", &path)
        .output()
        .expect("openapi-python-client runs");
    let said = String::from_utf8_lossy(&generated.stdout).to_string()
        + &String::from_utf8_lossy(&generated.stderr);
    assert!(generated.status.success(), "{said}");
    assert!(
        !said.contains("Unable to parse") && !said.contains("Unsupported"),
        "every operation and schema generated: {said}"
    );

    let spec = format!(
        "sqlite:{}",
        dir.path().join("data").join("portal.db").display()
    );
    let out = admin(
        &spec,
        &[
            "keys",
            "create",
            "generated-client",
            "--scope",
            "customers:write,billing:write,issues:write,changes:read",
        ],
    );
    assert!(out.status.success());
    let key = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let run = Command::new(venv.join("python"))
        .arg(common::repo().join("tests/client/drive.py"))
        .arg(&client)
        .arg(&server.base)
        .arg(&key)
        .output()
        .expect("the script runs");
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let seen: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(seen["customer"], "ACME-7");
    assert_eq!(seen["balance_cents"], 28_800, "2 × £120 + 20% VAT");
    assert_eq!(seen["notes"], 1, "the reply is on the thread");
    assert_eq!(
        seen["refusals"],
        serde_json::json!({
            "unknown key": [401, null],
            "missing scope": [403, null],
            "unknown customer": [404, null],
            "stale version": [412, null],
            "wrong field": [422, "lines[0].quantity"],
        }),
        "each refusal read as the documented error"
    );
    assert_eq!(
        seen["events"],
        serde_json::json!([
            "customer.created",
            "invoice.put",
            "issue.filed",
            "issue.replied"
        ])
    );
}

#[test]
fn the_example_sync_script_pushes_csv_exports_and_prints_new_issues_once() {
    let (dir, server) = common::demo_site("", None, |_| {});
    let spec = format!(
        "sqlite:{}",
        dir.path().join("data").join("portal.db").display()
    );
    let out = admin(
        &spec,
        &[
            "keys",
            "create",
            "crm-sync",
            "--scope",
            "customers:write,billing:write,changes:read",
        ],
    );
    assert!(out.status.success());
    let key = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let cursor = dir.path().join("feed-cursor");
    let sync = || {
        let run = Command::new(common::repo().join("target/venv/bin/python"))
            .arg(common::repo().join("examples/sync.py"))
            .env("PORTAL_URL", &server.base)
            .env("PORTAL_KEY", &key)
            .env("PORTAL_CURSOR_FILE", &cursor)
            .output()
            .expect("the example runs");
        let stdout = String::from_utf8_lossy(&run.stdout).to_string();
        assert!(
            run.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&run.stderr)
        );
        stdout
    };
    let first = sync();
    assert!(first.contains("customer ACME-7: Acme Bakery"), "{first}");
    assert!(
        first.contains("invoice INV-7001 for ACME-7: 396.00 (open)"),
        "two lines of one invoice: {first}"
    );
    assert!(
        first.contains("invoice INV-7002 for BRIX-2: 58.80 (paid)"),
        "{first}"
    );
    let (status, _, body) = server.post(
        "/api/issues",
        "application/json",
        r#"{"name": "Vera Visitor", "email": "vera@example.com", "subject": "Scanner beeps", "description": "Twice."}"#,
    );
    assert_eq!(status, 201, "{body}");
    std::thread::sleep(std::time::Duration::from_secs(
        portal_core::records::feed::SETTLE_SECONDS as u64 + 1,
    ));
    let second = sync();
    assert_eq!(
        second.matches(": Scanner beeps").count(),
        1,
        "the new issue, once: {second}"
    );
    assert!(
        second.contains("balance 396.00"),
        "unchanged on the second run: {second}"
    );
    let third = sync();
    assert!(
        !third.contains("Scanner beeps"),
        "the cursor is remembered: {third}"
    );
}
