//! The function binaries under a real Lambda runtime emulator: `cargo lambda watch` builds and
//! runs them and turns HTTP requests into API Gateway v2 events.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `cargo lambda watch` serving every binary of `portal-functions`, stopped when dropped.
pub struct Emulator {
    child: Child,
    base: String,
    agent: ureq::Agent,
}

impl Emulator {
    /// Starts the emulator; the functions use `store` and the `aws` settings.
    pub fn start(bundle: &Path, store: &str, aws: &[(&str, &str)]) -> Emulator {
        let venv = super::repo().join("target/venv/bin");
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
            .current_dir(super::repo().join("functions"))
            // The workspace's build, not the one `functions/.cargo/config.toml` sets for SAM.
            .env("CARGO_TARGET_DIR", super::repo().join("target"))
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
    pub fn call(
        &self,
        method: &str,
        function: &str,
        path: &str,
        body: Option<&str>,
        cookie: Option<&str>,
    ) -> (u16, ureq::http::HeaderMap, String) {
        let cookie: Vec<(&str, &str)> = cookie.map(|c| ("cookie", c)).into_iter().collect();
        self.call_with(method, function, path, body, &cookie)
    }

    /// As [`Emulator::call`], with `headers` (a JSON body unless they name another type).
    pub fn call_with(
        &self,
        method: &str,
        function: &str,
        path: &str,
        body: Option<&str>,
        headers: &[(&str, &str)],
    ) -> (u16, ureq::http::HeaderMap, String) {
        let url = format!("{}/lambda-url/{function}{path}", self.base);
        let mut request = ureq::http::Request::builder().method(method).uri(&url);
        if !headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        {
            request = request.header("content-type", "application/json");
        }
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
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

/// The demo data in the table `store` (`dynamodb:NAME`, which `portal serve --demo` creates and
/// fills) and the bundle `portal bundle` assembles for the functions: the folder that keeps
/// them, and the bundle's site folder for `PORTAL_SITE_DIR`.
pub fn demo_bundle(store: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let (dir, server) = super::demo_site("", Some(store), |_| {});
    drop(server);
    let out = dir.path().join("out");
    let o = super::portal()
        .args(["bundle", "--content"])
        .arg(dir.path().join("content"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    (dir, out.join("bundle/site"))
}

/// The customer's session cookie (`name=value`) a login's answer sets.
pub fn session_cookie(headers: &ureq::http::HeaderMap) -> String {
    headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|c| c.starts_with("__Host-portal="))
        .expect("a session cookie")
        .split(';')
        .next()
        .unwrap()
        .to_string()
}
