//! Webhooks, black-box: endpoints made with `portal admin webhooks`, a visitor's filing
//! delivered by `portal serve` to a receiver on loopback that checks each signature with the
//! `standardwebhooks` package from PyPI (an implementation independent of the portal's),
//! fails the first attempt and takes the retry; on the embedded store and on DynamoDB.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use common::{admin, Server};
use serde_json::Value;

/// The receiver (`tests/webhooks/receiver.py`), stopped when dropped.
struct Receiver {
    child: Child,
    stdin: Option<ChildStdin>,
    port: u16,
    log: PathBuf,
}

impl Receiver {
    /// Starts a receiver that answers 500 to the first `fail_first` deliveries.
    fn start(log: &Path, fail_first: u32) -> Receiver {
        let python = common::repo().join("target/venv/bin/python");
        assert!(
            python.exists(),
            "target/venv is missing: run scripts/test, which installs standardwebhooks there"
        );
        let mut child = Command::new(python)
            .arg(common::repo().join("tests/webhooks/receiver.py"))
            .arg(log)
            .args(["--fail-first", &fail_first.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the receiver starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line.trim().parse().expect("the receiver prints its port");
        Receiver {
            stdin: child.stdin.take(),
            child,
            port,
            log: log.to_path_buf(),
        }
    }

    /// Tells the receiver the secret to check signatures with.
    fn secret(&mut self, secret: &str) {
        let mut stdin = self.stdin.take().unwrap();
        writeln!(stdin, "{secret}").unwrap();
    }

    /// What it received so far.
    fn received(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// Waits up to `secs` for `n` deliveries.
    fn wait(&self, n: usize, secs: u64) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let got = self.received();
            if got.len() >= n || Instant::now() > deadline {
                return got;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn stdout(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn deliveries(server: &Server, spec: &str, dir: &Path) {
    let content = dir.join("content");
    let content = content.to_str().unwrap();
    let mut receiver = Receiver::start(&dir.join("received.jsonl"), 1);
    let base = format!("http://127.0.0.1:{}", receiver.port);

    // Refused: a private address, plain http without the flag, a misspelt event type.
    for (url, events, flag, why) in [
        ("https://192.168.1.10/hook", "*", false, "private"),
        (&format!("{base}/hook") as &str, "*", false, "https://"),
        (
            "https://example.com/hook",
            "issues",
            false,
            "not an event type",
        ),
    ] {
        let mut args = vec!["webhooks", "add", url, "--events", events];
        if flag {
            args.push("--allow-loopback");
        }
        let out = admin(spec, &args);
        assert!(!out.status.success(), "{url} refused");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(why), "{err}");
    }

    let added = stdout(&admin(
        spec,
        &[
            "webhooks",
            "add",
            &format!("{base}/issues"),
            "--events",
            "issue.*",
            "--allow-loopback",
            "--content",
            content,
        ],
    ));
    let (id, secret) = added.trim().split_once('\t').unwrap();
    assert!(
        id.starts_with("ep_") && secret.starts_with("whsec_"),
        "{added}"
    );
    receiver.secret(secret);
    // Another endpoint hears only of invoices: a filing is not sent to it.
    stdout(&admin(
        spec,
        &[
            "webhooks",
            "add",
            &format!("{base}/invoices"),
            "--events",
            "invoice.*",
            "--allow-loopback",
        ],
    ));
    let listed = stdout(&admin(spec, &["webhooks", "list"]));
    assert!(listed.contains(id) && listed.contains("issue.*") && listed.contains("enabled"));

    // A visitor files an issue.
    let (status, _, body) = server.post(
        "/api/issues",
        "application/json",
        r#"{"name": "Vera Visitor", "email": "vera@example.com", "subject": "Card reader offline", "description": "Since the update."}"#,
    );
    assert_eq!(status, 201, "{body}");
    let filed: Value = serde_json::from_str(&body).unwrap();
    let number = filed["number"].as_str().unwrap();

    // The first attempt is refused by the receiver, the retry 5 s later is taken.
    let got = receiver.wait(2, 120);
    assert_eq!(got.len(), 2, "two attempts: {got:#?}");
    for d in &got {
        assert_eq!(d["verified"], true, "signature checked: {d}");
        assert_eq!(d["wrong_secret_refused"], true, "{d}");
        assert_eq!(d["path"], "/issues", "only the endpoint that wants issues");
        assert_eq!(d["content_type"], "application/json");
        assert_eq!(d["webhook_id"], got[0]["webhook_id"], "one message id");
        let message = &d["body"];
        assert_eq!(message["type"], "issue.filed");
        assert_eq!(message["data"]["kind"], "issue.filed");
        assert_eq!(message["data"]["id"], d["webhook_id"]);
        assert_eq!(message["data"]["data"]["number"], number);
    }
    assert_eq!(
        (got[0]["status"].as_u64(), got[1]["status"].as_u64()),
        (Some(500), Some(204))
    );
    let gap = got[1]["received"].as_f64().unwrap() - got[0]["received"].as_f64().unwrap();
    assert!(gap >= 4.5, "the retry waits 5 s, not {gap:.1} s");
    let stamps: Vec<i64> = got
        .iter()
        .map(|d| d["webhook_timestamp"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(stamps[1] >= stamps[0] + 4, "each attempt is signed anew");

    // Every attempt is recorded.
    let attempts = stdout(&admin(spec, &["webhooks", "attempts", id]));
    let rows: Vec<Vec<&str>> = attempts
        .lines()
        .skip(1)
        .map(|l| l.split('\t').collect())
        .collect();
    assert_eq!(rows.len(), 2, "{attempts}");
    assert_eq!(
        (rows[0][3], rows[0][4], rows[0][6]),
        ("2", "204", "delivered")
    );
    assert_eq!(
        (rows[1][3], rows[1][4], rows[1][6]),
        ("1", "500", "retrying")
    );
    assert!(rows[1][7].contains("500"));

    // Nothing more arrives (delivered once), and `test` sends one now.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(receiver.received().len(), 2);
    let tested = stdout(&admin(spec, &["webhooks", "test", id]));
    assert!(tested.contains("delivered"), "{tested}");
    let last = receiver.received().pop().unwrap();
    assert_eq!(last["body"]["type"], "webhook.test");
    assert_eq!(last["verified"], true);

    // Disabled, it hears of nothing; removed, it is gone.
    stdout(&admin(spec, &["webhooks", "disable", id]));
    assert!(stdout(&admin(spec, &["webhooks", "list"])).contains("disabled"));
    stdout(&admin(spec, &["webhooks", "remove", id]));
    assert!(!stdout(&admin(spec, &["webhooks", "list"])).contains(id));
    let out = admin(spec, &["webhooks", "attempts", id]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not found"));
}

#[test]
fn a_filing_is_delivered_signed_and_retried_on_the_embedded_store() {
    let (dir, server) = common::demo_site("", None, |_| {});
    let spec = format!(
        "sqlite:{}",
        dir.path().join("data").join("portal.db").display()
    );
    deliveries(&server, &spec, dir.path());
}

#[test]
fn a_filing_is_delivered_signed_and_retried_on_dynamodb() {
    let table = format!("dynamodb:hooks-{}", std::process::id());
    let (dir, server) = common::demo_site("", Some(&table), |_| {});
    deliveries(&server, &table, dir.path());
}
