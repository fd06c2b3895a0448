//! Exactly once under faults: public submissions with idempotency keys, replayed and retried
//! by clients, against a store that throttles, fails, and applies writes whose answers are
//! then lost — the faults of a real DynamoDB call, injected between the DynamoDB client and
//! the local DynamoDB server (moto). Every key must be answered with one tracking number,
//! with exactly one issue and one mail stored for it.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use axum::body::Body;
use axum::http::Request;
use axum::Router;
use portal_core::store::{DynamoStore, Query, SqliteStore, Store};
use serde_json::{json, Value};
use tower::ServiceExt;

/// What the fault layer does to one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// Passed through.
    None,
    /// Answered `400 ThrottlingException` without reaching the server.
    Throttle,
    /// Answered `500 InternalServerError` without reaching the server.
    ServerError,
    /// Applied by the server, then the answer is lost (the connection drops).
    LostAnswer,
}

/// Which faults to inject: rates in percent, from a fixed seed so a failure repeats; or one
/// lost answer for the next call of one operation.
#[derive(Debug)]
struct Plan {
    on: AtomicBool,
    throttle: u64,
    server_error: u64,
    lost_answer: u64,
    rng: Mutex<u64>,
    /// Lose the answer of a coming call to this operation (e.g. `TransactWriteItems`), after
    /// letting this many of them through.
    lose_next: Mutex<Option<(String, usize)>>,
    injected: Mutex<BTreeMap<&'static str, usize>>,
}

impl Plan {
    fn rates(throttle: u64, server_error: u64, lost_answer: u64, seed: u64) -> Arc<Plan> {
        Arc::new(Plan {
            on: AtomicBool::new(true),
            throttle,
            server_error,
            lost_answer,
            rng: Mutex::new(seed | 1),
            lose_next: Mutex::new(None),
            injected: Mutex::default(),
        })
    }

    fn none() -> Arc<Plan> {
        Plan::rates(0, 0, 0, 1)
    }

    fn fault(&self, operation: &str) -> Fault {
        let mut next = self.lose_next.lock().unwrap();
        if let Some((_, skip)) = next.as_mut().filter(|(op, _)| op == operation) {
            if *skip == 0 {
                *next = None;
                return self.count(Fault::LostAnswer);
            }
            *skip -= 1;
        }
        drop(next);
        if !self.on.load(Ordering::SeqCst) {
            return Fault::None;
        }
        let roll = {
            let mut x = self.rng.lock().unwrap();
            *x ^= *x << 13;
            *x ^= *x >> 7;
            *x ^= *x << 17;
            *x % 100
        };
        self.count(if roll < self.throttle {
            Fault::Throttle
        } else if roll < self.throttle + self.server_error {
            Fault::ServerError
        } else if roll < self.throttle + self.server_error + self.lost_answer {
            Fault::LostAnswer
        } else {
            Fault::None
        })
    }

    fn count(&self, f: Fault) -> Fault {
        let name = match f {
            Fault::None => return f,
            Fault::Throttle => "throttled",
            Fault::ServerError => "server error",
            Fault::LostAnswer => "applied, answer lost",
        };
        *self.injected.lock().unwrap().entry(name).or_default() += 1;
        f
    }
}

/// The portal's HTTP client with the plan's faults in front of it.
#[derive(Debug)]
struct Faulty {
    inner: SharedHttpClient,
    plan: Arc<Plan>,
}

impl HttpClient for Faulty {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(FaultyConnector {
            inner: self.inner.http_connector(settings, components),
            plan: self.plan.clone(),
        })
    }
}

#[derive(Debug)]
struct FaultyConnector {
    inner: SharedHttpConnector,
    plan: Arc<Plan>,
}

fn answer(status: u16, kind: &str, message: &str) -> HttpResponse {
    let body =
        json!({"__type": format!("com.amazonaws.dynamodb.v20120810#{kind}"), "message": message});
    let mut r = HttpResponse::new(status.try_into().unwrap(), SdkBody::from(body.to_string()));
    r.headers_mut()
        .insert("content-type", "application/x-amz-json-1.0");
    r
}

impl HttpConnector for FaultyConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let operation = request
            .headers()
            .get("x-amz-target")
            .and_then(|t| t.rsplit('.').next())
            .unwrap_or("")
            .to_string();
        match self.plan.fault(&operation) {
            Fault::None => self.inner.call(request),
            Fault::Throttle => HttpConnectorFuture::ready(Ok(answer(
                400,
                "ThrottlingException",
                "Rate of requests exceeds the allowed throughput.",
            ))),
            Fault::ServerError => HttpConnectorFuture::ready(Ok(answer(
                500,
                "InternalServerError",
                "Internal server error",
            ))),
            Fault::LostAnswer => {
                let applied = self.inner.call(request);
                HttpConnectorFuture::new(async move {
                    let _ = applied.await;
                    Err(ConnectorError::io(
                        "connection reset after the request was applied".into(),
                    ))
                })
            }
        }
    }
}

/// A DynamoDB client of the local server whose calls pass through `plan`; it retries as the
/// portal's does (`attempts` in all).
fn client(plan: Arc<Plan>, attempts: u32) -> aws_sdk_dynamodb::Client {
    let endpoint = portal_core::aws::test_endpoint();
    let creds = aws_sdk_dynamodb::config::Credentials::new("test", "test", None, None, "tests");
    let http = SharedHttpClient::new(Faulty {
        inner: portal_core::aws::http_client(),
        plan,
    });
    let config = aws_sdk_dynamodb::Config::builder()
        .http_client(http)
        .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
        .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(creds)
        .retry_config(RetryConfig::standard().with_max_attempts(attempts))
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

/// A new table on the local server: the store the portal uses, its calls passing through
/// `plan`, and a second store over the same table without faults, for the checks.
async fn dynamodb(plan: Arc<Plan>, attempts: u32) -> (Arc<dyn Store>, Arc<dyn Store>) {
    static N: AtomicUsize = AtomicUsize::new(0);
    let table = format!(
        "drill-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    );
    let clean: Arc<dyn Store> = Arc::new(DynamoStore::new(client(Plan::none(), 5), &table));
    clean.init().await.unwrap();
    let faulty: Arc<dyn Store> = Arc::new(DynamoStore::new(client(plan, attempts), &table));
    (faulty, clean)
}

fn sqlite(dir: &std::path::Path) -> Arc<dyn Store> {
    Arc::new(SqliteStore::open(dir.join("portal.db")).unwrap())
}

/// Visitor `n`'s issue.
fn visitor(n: usize) -> Value {
    json!({
        "name": format!("Visitor {n}"), "email": format!("visitor{n}@example.com"),
        "subject": format!("Receipts blank at till {n}"),
        "description": "Every receipt comes out blank since this morning."
    })
}

/// Visitor `n`'s filing with the idempotency key `key`.
fn filing(n: usize, key: &str) -> Request<Body> {
    Request::post("/api/issues")
        .header("content-type", "application/json")
        .header("idempotency-key", key)
        .body(Body::from(visitor(n).to_string()))
        .unwrap()
}

/// One visitor's filing, sent with `key` until it gets an answer that is not "try again"
/// (5xx, 429), as a well-behaved client does: the final status and body.
async fn file_until_answered(app: Router, n: usize, key: String) -> (u16, Value) {
    let mut last = (0, Value::Null);
    for attempt in 0..12u32 {
        let res = app.clone().oneshot(filing(n, &key)).await.unwrap();
        let status = res.status().as_u16();
        let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
            .await
            .unwrap();
        last = (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        );
        if status != 429 && status < 500 {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(20 << attempt.min(5))).await;
    }
    last
}

/// How many items of `pk` have a sort key starting with `prefix`.
async fn count(store: &Arc<dyn Store>, pk: &str, prefix: &str) -> usize {
    let mut n = 0;
    let mut cursor = None;
    loop {
        let page = store
            .query(
                &Query::partition(pk)
                    .prefix(prefix)
                    .limit(1000)
                    .after(cursor),
            )
            .await
            .unwrap();
        n += page.items.len();
        match page.next {
            Some(c) => cursor = Some(c),
            None => return n,
        }
    }
}

/// Every issue stored, by scanning the whole store.
async fn issues_stored(store: &Arc<dyn Store>) -> usize {
    let mut n = 0;
    let mut cursor = None;
    loop {
        let (items, next) = store.scan(cursor, 1000).await.unwrap();
        n += items
            .iter()
            .filter(|i| i.pk.starts_with("ISSUE#") && i.sk == "ISSUE")
            .count();
        match next {
            Some(c) => cursor = Some(c),
            None => return n,
        }
    }
}

/// Sends `keys` submissions, one in `every` of them sent twice at once, `clients` at a time;
/// checks that each key got one number, and that one issue and one mail were stored per key.
async fn drill(app: Router, store: Arc<dyn Store>, keys: usize, every: usize, clients: usize) {
    let mut jobs: Vec<(usize, String)> = Vec::new();
    for n in 0..keys {
        let key = format!("drill-key-{n:06}-0123456789");
        if n % every == 0 {
            jobs.push((n, key.clone()));
        }
        jobs.push((n, key));
    }
    let jobs = Arc::new(Mutex::new(jobs));
    let answers = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (jobs, answers, app) = (jobs.clone(), answers.clone(), app.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let Some((n, key)) = jobs.lock().unwrap().pop() else {
                    return;
                };
                let (status, body) = file_until_answered(app.clone(), n, key.clone()).await;
                answers.lock().unwrap().push((key, status, body));
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let answers = Arc::try_unwrap(answers).unwrap().into_inner().unwrap();
    let mut numbers: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (key, status, body) in &answers {
        assert_eq!(*status, 201, "key {key} was not answered: {body}");
        numbers
            .entry(key.clone())
            .or_default()
            .insert(body["number"].as_str().unwrap().to_string());
    }
    assert_eq!(numbers.len(), keys, "every key answered");
    for (key, n) in &numbers {
        assert_eq!(n.len(), 1, "key {key} answered with two numbers: {n:?}");
    }
    let distinct: BTreeSet<&String> = numbers.values().flatten().collect();
    assert_eq!(distinct.len(), keys, "no number given to two keys");
    assert_eq!(issues_stored(&store).await, keys, "one issue per key");
    assert_eq!(
        count(&store, "OUTBOX", "MAIL#").await,
        2 * keys,
        "two mails per key: the visitor's receipt and the business's notice"
    );
}

async fn app_over(dir: &std::path::Path, store: Arc<dyn Store>) -> Router {
    let state = common::state_on(dir, store, common::open_limits()).await;
    portal_functions::group("issues", state)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replayed_and_retried_submissions_file_once_under_store_faults() {
    let dir = tempfile::tempdir().unwrap();
    // 10% throttled, 3% failing, 3% applied with the answer lost, as the drill that found
    // the duplicates injected them.
    let plan = Plan::rates(10, 3, 3, 0x5eed);
    let (store, clean) = dynamodb(plan.clone(), 5).await;
    let app = app_over(dir.path(), store).await;
    drill(app, clean, 150, 10, 16).await;
    let injected = plan.injected.lock().unwrap().clone();
    println!("faults injected: {injected:?}");
    for fault in ["throttled", "server error", "applied, answer lost"] {
        assert!(
            injected.get(fault).copied().unwrap_or(0) >= 10,
            "the drill injected too few faults of each kind: {injected:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replayed_and_retried_submissions_file_once_without_faults_on_both_stores() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite(dir.path());
    drill(
        app_over(dir.path(), store.clone()).await,
        store,
        150,
        10,
        16,
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let (store, clean) = dynamodb(Plan::none(), 5).await;
    drill(app_over(dir.path(), store).await, clean, 150, 10, 16).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_filing_whose_transaction_committed_but_whose_answer_was_lost_is_answered_once() {
    let dir = tempfile::tempdir().unwrap();
    let plan = Plan::none();
    // No retries in the client: the store sees the lost answer itself, as it would after
    // its retries ran out.
    let (store, clean) = dynamodb(plan.clone(), 1).await;
    let app = app_over(dir.path(), store).await;
    // The first transaction claims the key and counts the address; the second files.
    *plan.lose_next.lock().unwrap() = Some(("TransactWriteItems".into(), 1));
    let key = "lost-answer-0123456789".to_string();
    let first = app.clone().oneshot(filing(0, &key)).await.unwrap();
    assert!(
        plan.lose_next.lock().unwrap().is_none(),
        "the transaction's answer was lost"
    );
    // The transaction committed with the answer in it: the failed attempt finds it and
    // answers with it, instead of giving the key back.
    let (status, replayed) = (
        first.status(),
        first.headers().get("idempotent-replayed").cloned(),
    );
    let first: Value = serde_json::from_slice(
        &axum::body::to_bytes(first.into_body(), 1 << 20)
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(status, 201, "{first}");
    assert_eq!(replayed.unwrap(), "true");
    let (status, again) = file_until_answered(app, 0, key).await;
    assert_eq!(status, 201, "{again}");
    assert_eq!(again["number"], first["number"]);
    assert_eq!(again["tracking_url"], first["tracking_url"]);
    assert_eq!(issues_stored(&clean).await, 1);
    // The visitor's receipt and the business's notice, once.
    assert_eq!(count(&clean, "OUTBOX", "MAIL#").await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_claim_whose_answer_was_lost_gives_the_key_back_and_the_retry_files_once() {
    let dir = tempfile::tempdir().unwrap();
    let plan = Plan::none();
    let (store, clean) = dynamodb(plan.clone(), 1).await;
    let app = app_over(dir.path(), store).await;
    // The transaction that claims the key and counts the address commits, its answer lost.
    *plan.lose_next.lock().unwrap() = Some(("TransactWriteItems".into(), 0));
    let key = "lost-claim-0123456789".to_string();
    let first = app.clone().oneshot(filing(0, &key)).await.unwrap();
    assert!(
        plan.lose_next.lock().unwrap().is_none(),
        "the answer was lost"
    );
    assert_eq!(first.status(), 503, "the attempt cannot know, and says so");
    assert_eq!(issues_stored(&clean).await, 0, "nothing was filed");
    // The claim was given back: the retry is new work, done once.
    let (status, filed) = file_until_answered(app.clone(), 0, key.clone()).await;
    assert_eq!(status, 201, "{filed}");
    let (status, again) = file_until_answered(app, 0, key).await;
    assert_eq!((status, &again["number"]), (201, &filed["number"]));
    assert_eq!(issues_stored(&clean).await, 1);
}

/// 1,000 submissions, 64 at a time, each with its own key: none refused, 1,000 numbers.
async fn thousand_at_sixty_four(dir: &std::path::Path, store: Arc<dyn Store>) {
    let app = app_over(dir, store.clone()).await;
    let next = Arc::new(AtomicUsize::new(0));
    let refused = Arc::new(Mutex::new(Vec::new()));
    let numbers = Arc::new(Mutex::new(BTreeSet::new()));
    let mut tasks = Vec::new();
    for _ in 0..64 {
        let (app, next, refused, numbers) =
            (app.clone(), next.clone(), refused.clone(), numbers.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::SeqCst);
                if n >= 1000 {
                    return;
                }
                let body = json!({"name": "Visitor", "email": format!("v{n}@example.com"),
                    "subject": "Blank receipts", "description": "Every receipt is blank."});
                let res = app
                    .clone()
                    .oneshot(
                        Request::post("/api/issues")
                            .header("content-type", "application/json")
                            .header("idempotency-key", format!("thousand-{n:06}-0123456789"))
                            .body(Body::from(body.to_string()))
                            .unwrap(),
                    )
                    .await
                    .unwrap();
                let status = res.status().as_u16();
                let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
                    .await
                    .unwrap();
                let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
                if status == 201 {
                    numbers
                        .lock()
                        .unwrap()
                        .insert(v["number"].as_str().unwrap().to_string());
                } else {
                    refused.lock().unwrap().push((status, v));
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let refused = refused.lock().unwrap();
    assert!(
        refused.is_empty(),
        "{} refused, e.g. {:?}",
        refused.len(),
        refused.first()
    );
    assert_eq!(numbers.lock().unwrap().len(), 1000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_concurrent_submissions_are_all_filed_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    thousand_at_sixty_four(dir.path(), sqlite(dir.path())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_concurrent_submissions_are_all_filed_on_dynamodb() {
    let dir = tempfile::tempdir().unwrap();
    thousand_at_sixty_four(dir.path(), dynamodb(Plan::none(), 5).await.0).await;
}
