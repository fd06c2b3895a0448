//! The function binaries under a real Lambda runtime emulator: `cargo lambda watch` builds and
//! runs them and turns HTTP requests into API Gateway v2 events, the functions keep their data
//! in DynamoDB on the local AWS API (moto) and read the bundle `portal bundle` assembles.
//! A visitor files an issue and tracks it; a customer logs in and sees their own invoices only.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// `cargo lambda watch` serving every binary of `portal-functions`, stopped when dropped.
struct Emulator {
    child: Child,
    base: String,
    agent: ureq::Agent,
}

impl Emulator {
    /// Starts the emulator; the functions use `store` and the `aws` settings.
    fn start(bundle: &Path, store: &str, aws: &[(&str, &str)]) -> Emulator {
        let venv = common::repo().join("target/venv/bin");
        assert!(
            venv.join("cargo-lambda").exists(),
            "cargo-lambda is not in target/venv: run scripts/test, which installs it"
        );
        let path = format!(
            "{}:{}",
            venv.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut vars = vec![
            format!("PORTAL_STORE={store}"),
            format!("PORTAL_SITE_DIR={}", bundle.display()),
        ];
        vars.extend(aws.iter().map(|(k, v)| format!("{k}={v}")));
        let child = Command::new("cargo")
            .args(["lambda", "watch", "--ignore-changes", "--quiet"])
            .args(["-A", "127.0.0.1", "-P", &port.to_string()])
            .args(["--env-vars", &vars.join(",")])
            .current_dir(common::repo().join("functions"))
            // The workspace's build, not the one `functions/.cargo/config.toml` sets for SAM.
            .env("CARGO_TARGET_DIR", common::repo().join("target"))
            .env("PATH", path)
            .envs(aws.iter().copied())
            .stdout(Stdio::inherit())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("cargo lambda watch starts");
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(Duration::from_secs(300)))
            .build()
            .into();
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(120);
        while agent
            .get(&format!("{base}/lambda-url/none/"))
            .call()
            .is_err()
        {
            assert!(
                Instant::now() < deadline,
                "cargo lambda watch does not answer on {base}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        Emulator { child, base, agent }
    }

    /// Sends a request to `function` (one binary): status, headers and body.
    fn call(
        &self,
        method: &str,
        function: &str,
        path: &str,
        body: Option<&str>,
        cookie: Option<&str>,
    ) -> (u16, ureq::http::HeaderMap, String) {
        let url = format!("{}/lambda-url/{function}{path}", self.base);
        let request = ureq::http::Request::builder()
            .method(method)
            .uri(&url)
            .header("content-type", "application/json");
        let request = match cookie {
            Some(c) => request.header("cookie", c),
            None => request,
        };
        let mut resp = self
            .agent
            .run(request.body(body.unwrap_or("").to_string()).unwrap())
            .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        (
            status,
            headers,
            resp.body_mut().read_to_string().unwrap_or_default(),
        )
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        // Killed outright (its graceful shutdown signals more than its own processes); the
        // function processes it started end once its runtime API is gone.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

#[test]
fn the_functions_file_track_and_log_in_under_the_lambda_emulator_on_dynamodb() {
    let endpoint = common::aws_endpoint();
    let aws = [
        ("AWS_ENDPOINT_URL", endpoint.as_str()),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_REGION", "us-east-1"),
    ];
    let table = format!("dynamodb:emulator-{}", std::process::id());
    // `portal serve` creates the table and puts the demo customers in it.
    let (dir, server) = common::demo_site("", Some(&table), |_| {});
    drop(server);
    let out = dir.path().join("out");
    let o = common::portal()
        .args(["bundle", "--content"])
        .arg(dir.path().join("content"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    let lambda = Emulator::start(&out.join("bundle/site"), &table, &aws);

    // A visitor files an issue and follows it with the tracking link.
    let (status, _, filed) = lambda.call(
        "POST",
        "issues",
        "/api/issues",
        Some(r#"{"name": "Ada", "email": "ada@example.com", "subject": "Till freezes", "description": "After the third sale."}"#),
        None,
    );
    assert_eq!(status, 201, "{filed}");
    let filed = json(&filed);
    let number = filed["number"].as_str().unwrap();
    assert!(number.starts_with("KST-"), "{number}");
    let token = common::tracking_token(&filed);
    let (status, _, tracked) =
        lambda.call("GET", "issues", &format!("/api/track/{token}"), None, None);
    assert_eq!(status, 200, "{tracked}");
    assert_eq!(json(&tracked)["number"], number);
    let (status, headers, page) =
        lambda.call("GET", "issues", &format!("/track/{token}"), None, None);
    assert_eq!(status, 200);
    assert!(page.contains(number) && page.contains("Till freezes"));
    assert_eq!(headers["cache-control"], "no-store");
    let (status, _, _) = lambda.call("GET", "issues", "/api/track/not-a-token", None, None);
    assert_eq!(status, 404);

    // Search reads the bundle's index.
    let (status, _, found) = lambda.call("GET", "search", "/api/search?q=refund", None, None);
    assert_eq!(status, 200);
    assert!(found.contains("/kb/refund-a-sale"), "{found}");

    // A customer logs in, sees their invoices and not another customer's.
    let login = |password: &str| {
        let body = serde_json::json!({"email": "ada@harbour-cafe.example", "password": password});
        lambda.call(
            "POST",
            "auth",
            "/api/auth/login",
            Some(&body.to_string()),
            None,
        )
    };
    assert_eq!(login("not the password").0, 401);
    let (status, headers, body) = login("harbour cafe demo");
    assert_eq!(status, 200, "{body}");
    let cookie = headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|c| c.starts_with("__Host-portal="))
        .expect("a session cookie")
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let (status, _, invoices) =
        lambda.call("GET", "account", "/api/my/invoices", None, Some(&cookie));
    assert_eq!(status, 200, "{invoices}");
    assert_eq!(json(&invoices).as_array().unwrap().len(), 3);
    let (status, _, _) = lambda.call(
        "GET",
        "account",
        "/api/my/invoices/demo-2-inv-1",
        None,
        Some(&cookie),
    );
    assert_eq!(status, 404, "another customer's invoice");
    let (status, _, _) = lambda.call("GET", "account", "/api/my/invoices", None, None);
    assert_eq!(status, 401, "no session, no invoices");
}
