//! Test vocabulary for black-box tests of the `portal` program: run it, start `portal serve`
//! on a free port and talk HTTP to it, on copies of the demo content.

#![allow(dead_code)]

pub mod counting;
pub mod emulator;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A `portal` command.
pub fn portal() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_portal"));
    c.current_dir(repo());
    c
}

/// `portal serve` on a copy of the demo content, changed by `edit` (given the content folder)
/// and with `limits` appended to `site.toml` as its `[limits]`; with `store`
/// (`dynamodb:TABLE`), the functions use the local DynamoDB API the test command started.
#[allow(dead_code)]
pub fn demo_site(
    limits: &str,
    store: Option<&str>,
    edit: impl FnOnce(&Path),
) -> (tempfile::TempDir, Server) {
    let dir = demo_copy();
    let content = dir.path().join("content");
    edit(&content);
    if !limits.is_empty() {
        let toml = content.join("site.toml");
        let mut text = std::fs::read_to_string(&toml).unwrap();
        text.push_str(&format!("\n[limits]\n{limits}\n"));
        std::fs::write(toml, text).unwrap();
    }
    let out = dir.path().join("out");
    let server = match store {
        None => Server::start(&content, &out),
        Some(spec) => {
            let endpoint = aws_endpoint();
            Server::start_with(
                &content,
                &out,
                &["--store", spec, "--demo"],
                &[
                    ("AWS_ENDPOINT_URL", endpoint.as_str()),
                    ("AWS_ACCESS_KEY_ID", "test"),
                    ("AWS_SECRET_ACCESS_KEY", "test"),
                    ("AWS_REGION", "us-east-1"),
                ],
            )
        }
    };
    (dir, server)
}

/// `portal admin` against the store `spec`, with the local DynamoDB's settings.
pub fn admin(spec: &str, args: &[&str]) -> std::process::Output {
    let mut all = vec!["admin", "--store", spec];
    all.extend_from_slice(args);
    let mut c = portal();
    c.args(&all);
    if spec.starts_with("dynamodb:") {
        c.env("AWS_ENDPOINT_URL", aws_endpoint())
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-east-1");
    }
    c.output().expect("portal admin runs")
}

/// Runs `portal` with `args` and returns its output.
pub fn run(args: &[&str]) -> Output {
    portal().args(args).output().expect("portal runs")
}

/// A copy of the demo content in a temporary folder, so tests may change it.
pub fn demo_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&repo().join("content"), &dir.path().join("content"));
    dir
}

/// Copies a folder tree.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), dest).unwrap();
        }
    }
}

/// A running `portal serve`, stopped when dropped.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    stdout: Receiver<String>,
    stderr: Receiver<String>,
    agent: ureq::Agent,
}

fn lines(r: impl std::io::Read + Send + 'static, name: &'static str) -> Receiver<String> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(r).lines().map_while(Result::ok) {
            eprintln!("[portal {name}] {line}");
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

impl Server {
    /// Starts `portal serve --port 0` on `content`, writing to `out`.
    pub fn start(content: &Path, out: &Path) -> Server {
        Server::start_with(content, out, &[], &[])
    }

    /// As [`Server::start`], with more arguments and environment variables.
    pub fn start_with(content: &Path, out: &Path, args: &[&str], env: &[(&str, &str)]) -> Server {
        let mut child = portal()
            .args(["serve", "--port", "0", "--content"])
            .arg(content)
            .arg("--out")
            .arg(out)
            .arg("--data")
            .arg(out.with_file_name("data"))
            .args(args)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("portal serve starts");
        SERVERS.lock().unwrap().push(child.id());
        let stdout = lines(child.stdout.take().unwrap(), "out");
        let stderr = lines(child.stderr.take().unwrap(), "err");
        let deadline = Instant::now() + Duration::from_secs(60);
        let base = loop {
            let line = stdout
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .expect("portal serve prints its address");
            if let Some(rest) = line.strip_prefix("Serving ") {
                break rest
                    .split_whitespace()
                    .next()
                    .unwrap()
                    .trim_end_matches('/')
                    .to_string();
            }
        };
        // A fresh connection per request: the server may close a kept-alive one (after an
        // answer sent before the body was read) just as the next POST, which is never
        // retried, goes out on it.
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .max_idle_connections_per_host(0)
            .build()
            .into();
        Server {
            child,
            base,
            stdout,
            stderr,
            agent,
        }
    }

    /// GETs `path`: status, headers and body.
    pub fn get(&self, path: &str) -> (u16, ureq::http::HeaderMap, String) {
        let mut resp = self
            .agent
            .get(&format!("{}{path}", self.base))
            .call()
            .expect("request answered");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.body_mut().read_to_string().unwrap_or_default();
        (status, headers, body)
    }

    /// POSTs `body` as `content_type` to `path`: status, headers and body (redirects are not
    /// followed).
    pub fn post(
        &self,
        path: &str,
        content_type: &str,
        body: &str,
    ) -> (u16, ureq::http::HeaderMap, String) {
        self.post_with(path, content_type, body, &[])
    }

    /// As [`Server::post`], with extra request `headers`.
    pub fn post_with(
        &self,
        path: &str,
        content_type: &str,
        body: &str,
        headers: &[(&str, &str)],
    ) -> (u16, ureq::http::HeaderMap, String) {
        self.post_bytes(path, content_type, body.as_bytes(), headers)
    }

    /// As [`Server::post_with`], with a body of any bytes.
    pub fn post_bytes(
        &self,
        path: &str,
        content_type: &str,
        body: &[u8],
        headers: &[(&str, &str)],
    ) -> (u16, ureq::http::HeaderMap, String) {
        let mut req = self
            .agent
            .post(&format!("{}{path}", self.base))
            .header("content-type", content_type);
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        let mut resp = req.send(body).expect("request answered");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.body_mut().read_to_string().unwrap_or_default();
        (status, headers, body)
    }

    /// The mails delivered to the outbox folder `dir`, oldest first.
    pub fn mails(dir: &Path) -> Vec<String> {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
            .map(|d| d.map(|e| e.unwrap().path()).collect())
            .unwrap_or_default();
        paths.sort();
        paths
            .iter()
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect()
    }

    /// The last part of the link to `path` in the newest mail to `to` in the outbox `dir`
    /// (the token of an activation, reset or confirmation link).
    pub fn link_token(dir: &Path, to: &str, path: &str) -> String {
        let mails = Server::mails(dir);
        let mail = mails
            .iter()
            .rev()
            .find(|m| m.contains(&format!("To: {to}\r\n")))
            .unwrap_or_else(|| panic!("no mail to {to}"));
        mail.lines()
            .find(|l| l.contains(path))
            .unwrap_or_else(|| panic!("no {path} link in {mail}"))
            .trim()
            .rsplit('/')
            .next()
            .unwrap()
            .to_string()
    }

    /// Waits up to `secs` for a line on standard output containing `text`.
    pub fn wait_stdout(&self, text: &str, secs: u64) -> Option<String> {
        wait_line(&self.stdout, text, secs)
    }

    /// Waits up to `secs` for a line on standard error containing `text`.
    pub fn wait_stderr(&self, text: &str, secs: u64) -> Option<String> {
        wait_line(&self.stderr, text, secs)
    }
}

fn wait_line(rx: &Receiver<String>, text: &str, secs: u64) -> Option<String> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while let Ok(line) = rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        if line.contains(text) {
            return Some(line);
        }
    }
    None
}

/// The servers started by this test process, stopped by [`aws_endpoint`] before it ends the
/// process (their `Drop` would not run).
static SERVERS: std::sync::Mutex<Vec<u32>> = std::sync::Mutex::new(Vec::new());

/// The local AWS API (see [`portal_core::aws::test_endpoint`]); without one, the servers
/// this process started are stopped first, then the process ends with the message.
pub fn aws_endpoint() -> String {
    let var = std::env::var(portal_core::aws::TEST_ENDPOINT_VAR).unwrap_or_default();
    if var.is_empty() {
        for pid in SERVERS.lock().unwrap_or_else(|e| e.into_inner()).drain(..) {
            let _ = Command::new("kill").arg(pid.to_string()).status();
        }
    }
    portal_core::aws::test_endpoint()
}

impl Drop for Server {
    fn drop(&mut self) {
        let id = self.child.id();
        SERVERS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|pid| *pid != id);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The token at the end of the `tracking_url` of a filed issue's answer.
pub fn tracking_token(filed: &serde_json::Value) -> String {
    let url = filed["tracking_url"].as_str().expect("a tracking_url");
    url.rsplit('/').next().unwrap().to_string()
}
