//! Each function binary's router, fed API Gateway HTTP API (v2) events through `lambda_http`,
//! the way Lambda hands them over: the Lambda path is tested, not assumed.

mod common;

use std::path::Path;
use std::sync::Arc;

use axum::body::Body;
use axum::http::header;
use common::state;
use portal_functions::lambda::{app, bundle_paths, Function};
use portal_functions::{AppState, LiveSite};
use serde_json::{json, Value};
use tower::ServiceExt;

/// An API Gateway HTTP API (v2) event, as Lambda delivers it.
fn event(method: &str, path_and_query: &str, body: Option<&Value>, ip: &str) -> String {
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": {
            "content-type": "application/json",
            "host": "abc123.execute-api.eu-west-2.amazonaws.com",
            "user-agent": "test"
        },
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": "abc123.execute-api.eu-west-2.amazonaws.com",
            "domainPrefix": "abc123",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": ip, "userAgent": "test"},
            "requestId": "req-1",
            "routeKey": "$default",
            "stage": "$default",
            "time": "24/Nov/2026:10:00:00 +0000",
            "timeEpoch": 1795514400000u64
        },
        "body": body.map(Value::to_string),
        "isBase64Encoded": false
    })
    .to_string()
}

/// Sends `event` to the router of `group` through `lambda_http`'s request decoding: the
/// status and the body's bytes.
async fn call_raw(group: &str, state: &AppState, event: &str) -> (u16, Vec<u8>) {
    let req = lambda_http::request::from_str(event).expect("a valid API Gateway v2 event");
    let req = req.map(|b| Body::from(b.to_vec()));
    let res = app(portal_functions::group(group, state.clone()))
        .oneshot(req)
        .await
        .unwrap();
    let status = res.status().as_u16();
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, bytes.to_vec())
}

/// As [`call_raw`], with the body read as JSON (`null` if it is not).
async fn call(group: &str, state: &AppState, event: &str) -> (u16, Value) {
    let (status, bytes) = call_raw(group, state, event).await;
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn the_issues_function_files_and_tracks_under_lambda() {
    let dir = tempfile::tempdir().unwrap();
    let state = state(dir.path()).await;
    let issue = json!({"name": "Ada", "email": "ada@example.com", "subject": "Blank receipts", "description": "Every receipt is blank."});
    let (status, filed) = call(
        "issues",
        &state,
        &event("POST", "/api/issues", Some(&issue), "198.51.100.7"),
    )
    .await;
    assert_eq!(status, 201, "{filed}");
    let token = filed["tracking_url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let (status, tracked) = call(
        "issues",
        &state,
        &event("GET", &format!("/api/track/{token}"), None, "198.51.100.7"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(tracked["number"], filed["number"]);
    // Routes of other groups are not in this function.
    let (status, _) = call(
        "issues",
        &state,
        &event("GET", "/api/search?q=refund", None, "198.51.100.7"),
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn the_events_function_registers_and_limits_by_api_gateway_source_ip() {
    let dir = tempfile::tempdir().unwrap();
    let state = state(dir.path()).await;
    let reg = |n: u32| json!({"name": format!("Guest {n}"), "email": format!("g{n}@example.com")});
    let path = "/api/events/seminar/registrations";
    let (s1, first) = call(
        "events",
        &state,
        &event("POST", path, Some(&reg(1)), "198.51.100.7"),
    )
    .await;
    let (s2, second) = call(
        "events",
        &state,
        &event("POST", path, Some(&reg(2)), "198.51.100.7"),
    )
    .await;
    assert_eq!((s1, s2), (201, 201));
    assert_eq!(
        (first["status"].as_str(), second["status"].as_str()),
        (Some("confirmed"), Some("waiting"))
    );
    // posts_per_ip = 2: the third post from that address is refused, another address is not.
    let (s3, refused) = call(
        "events",
        &state,
        &event("POST", path, Some(&reg(3)), "198.51.100.7"),
    )
    .await;
    assert_eq!(s3, 429, "{refused}");
    let (s4, _) = call(
        "events",
        &state,
        &event("POST", path, Some(&reg(4)), "203.0.113.9"),
    )
    .await;
    assert_eq!(s4, 201);
    let (status, token) = call(
        "events",
        &state,
        &event("GET", "/api/forms/token", None, "203.0.113.9"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(token["token"].as_str().unwrap().contains('.'));
}

#[tokio::test]
async fn the_search_function_answers_from_the_bundled_index() {
    let dir = tempfile::tempdir().unwrap();
    let state = state(dir.path()).await;
    let (status, answer) = call(
        "search",
        &state,
        &event("GET", "/api/search?q=refunds", None, "198.51.100.7"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(answer["hits"][0]["url"], "/kb/refund-a-sale");
    let fb = json!({"helpful": true});
    let (status, _) = call(
        "search",
        &state,
        &event(
            "POST",
            "/api/kb/refund-a-sale/feedback",
            Some(&fb),
            "198.51.100.7",
        ),
    )
    .await;
    assert_eq!(status, 201);
    let (status, _) = call(
        "search",
        &state,
        &event(
            "POST",
            "/api/kb/unknown/feedback",
            Some(&fb),
            "198.51.100.7",
        ),
    )
    .await;
    assert_eq!(status, 404);
}

/// The function groups whose routers answer `method path` (rather than the router's own
/// empty 404 or 405 for a route it does not have).
async fn serving(state: &AppState, method: &str, path: &str, ip: &str) -> Vec<&'static str> {
    let mut out = Vec::new();
    for group in portal_functions::GROUPS {
        let (status, body) =
            call_raw(group, state, &event(&method.to_uppercase(), path, None, ip)).await;
        if !((status == 404 && body.is_empty()) || status == 405) {
            out.push(*group);
        }
    }
    out
}

/// The OpenAPI document, as the `search` function serves it: status and body.
async fn openapi(state: &AppState) -> (u16, Value) {
    call(
        "search",
        state,
        &event("GET", "/api/openapi.json", None, "198.51.100.7"),
    )
    .await
}

/// The operations `doc` documents: method, path, and the path with each `{name}` filled in.
fn operations(doc: &Value) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let concrete = path.replace('{', "x").replace('}', "");
            out.push((method.clone(), path.clone(), concrete));
        }
    }
    out
}

#[tokio::test]
async fn every_documented_route_is_served_by_exactly_one_function() {
    let dir = tempfile::tempdir().unwrap();
    let state = state(dir.path()).await;
    let (status, doc) = openapi(&state).await;
    assert_eq!(status, 200);
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    let operations = operations(&doc);
    for (method, path, concrete) in &operations {
        let served_by = serving(&state, method, concrete, "192.0.2.1").await;
        assert_eq!(
            served_by.len(),
            1,
            "{method} {path} is served by {served_by:?}"
        );
    }
    assert!(
        operations.len() >= 22,
        "{} operations documented",
        operations.len()
    );
}

/// SES on the local AWS API (moto): a client for `endpoint`.
fn ses(endpoint: &str) -> aws_sdk_sesv2::Client {
    let config = aws_sdk_sesv2::Config::builder()
        .http_client(portal_core::aws::http_client())
        .behavior_version(aws_sdk_sesv2::config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_sdk_sesv2::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_sesv2::config::Credentials::new(
            "test", "test", None, None, "test",
        ))
        .build();
    aws_sdk_sesv2::Client::from_conf(config)
}

/// How many mails the local SES has sent in all.
fn ses_sent(endpoint: &str) -> f64 {
    let mut r = ureq::post(endpoint)
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=test/20261124/us-east-1/ses/aws4_request, SignedHeaders=host, Signature=0",
        )
        .header("content-type", "application/x-www-form-urlencoded")
        .send("Action=GetSendQuota&Version=2010-12-01")
        .unwrap();
    let xml = r.body_mut().read_to_string().unwrap();
    let n = xml.split("<SentLast24Hours>").nth(1).unwrap();
    n.split('<').next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn mail_goes_out_through_ses_and_a_failed_send_is_retried_not_lost() {
    let endpoint = portal_core::aws::test_endpoint();
    let dir = tempfile::tempdir().unwrap();
    let from = format!("portal-{}@example.com", std::process::id());
    let client = ses(&endpoint);
    let state =
        state(dir.path())
            .await
            .with_mailer(Arc::new(portal_functions::mail::SesMailer::new(
                client.clone(),
                &from,
            )));
    let before = ses_sent(&endpoint);

    // The sender is not verified yet: SES refuses, the issue is filed all the same, and the
    // mail stays queued with the attempt counted.
    let issue = json!({"name": "Ada", "email": "ada@example.com", "subject": "Drawer", "description": "Stuck."});
    let (status, filed) = call(
        "issues",
        &state,
        &event("POST", "/api/issues", Some(&issue), "198.51.100.7"),
    )
    .await;
    assert_eq!(status, 201, "{filed}");
    let outbox = portal_core::records::outbox::Outbox::new(state.store.clone());
    // Two mails: the visitor's receipt and the business's notice.
    let queued = outbox.pending(10).await.unwrap();
    assert_eq!(queued.len(), 2);
    assert!(queued.iter().all(|m| m.attempts == 1));
    assert!(
        queued
            .iter()
            .all(|m| m.next_attempt > portal_core::store::now()),
        "they back off"
    );
    assert_eq!(state.deliver_mail().await, 0, "not due yet");

    // Once the sender is verified and the mail is due, it goes out and leaves the outbox.
    client
        .create_email_identity()
        .email_identity(&from)
        .send()
        .await
        .unwrap();
    for m in &queued {
        let mut due = m.clone();
        due.next_attempt = 0;
        state
            .store
            .put(
                portal_core::records::to_item(&due).unwrap(),
                portal_core::Cond::Exists,
            )
            .await
            .unwrap();
    }
    assert_eq!(state.deliver_mail().await, 2);
    assert!(outbox.pending(10).await.unwrap().is_empty());
    assert_eq!(ses_sent(&endpoint), before + 2.0);
}

fn with_cookie(event: &str, cookie: &str) -> String {
    let mut e: Value = serde_json::from_str(event).unwrap();
    e["cookies"] = json!([cookie]);
    e.to_string()
}

/// Writes a changed session back, as time passing would have left it.
async fn overwrite(state: &AppState, s: &portal_core::records::sessions::Session) {
    state
        .store
        .put(
            portal_core::records::to_item(s).unwrap(),
            portal_core::Cond::Exists,
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn sessions_end_after_thirty_idle_minutes_and_twelve_hours_on_the_server() {
    use portal_core::records::sessions::Sessions;
    let dir = tempfile::tempdir().unwrap();
    let state = state(dir.path()).await;
    let sessions = Sessions::new(state.store.clone());
    let me = |token: &str| {
        with_cookie(
            &event("GET", "/api/me", None, "198.51.100.7"),
            &format!("__Host-portal={token}"),
        )
    };
    let t = portal_core::store::now();

    let (fresh, _) = sessions
        .start("ada@example.com", "c1", 12 * 3600)
        .await
        .unwrap();
    assert_eq!(call("auth", &state, &me(&fresh)).await.0, 200);

    // 31 minutes without a request: the session is over, and removed.
    let (idle, mut s) = sessions
        .start("ada@example.com", "c1", 12 * 3600)
        .await
        .unwrap();
    s.last_seen = t - 31 * 60;
    s.created = t - 31 * 60;
    overwrite(&state, &s).await;
    assert_eq!(call("auth", &state, &me(&idle)).await.0, 401);
    assert!(
        sessions.get(&idle).await.unwrap().is_none(),
        "ended on the server"
    );

    // Busy all along but past twelve hours: over too.
    let (old, mut s) = sessions
        .start("ada@example.com", "c1", 12 * 3600)
        .await
        .unwrap();
    s.created = t - 12 * 3600 - 60;
    s.expires_at = t - 60;
    s.last_seen = t - 30;
    overwrite(&state, &s).await;
    assert_eq!(call("auth", &state, &me(&old)).await.0, 401);

    // A request refreshes the idle clock (at most once a minute).
    let (busy, mut s) = sessions
        .start("ada@example.com", "c1", 12 * 3600)
        .await
        .unwrap();
    s.last_seen = t - 29 * 60;
    s.created = t - 29 * 60;
    overwrite(&state, &s).await;
    assert_eq!(call("auth", &state, &me(&busy)).await.0, 200);
    assert!(sessions.get(&busy).await.unwrap().unwrap().last_seen >= t);
}

/// `infra/template.yaml`, parsed.
fn template() -> serde_norway::Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../infra/template.yaml");
    serde_norway::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The functions among the template's resources.
fn function_resources(doc: &serde_norway::Value) -> Vec<&serde_norway::Value> {
    doc["Resources"]
        .as_mapping()
        .unwrap()
        .values()
        .filter(|res| res["Type"].as_str() == Some("AWS::Serverless::Function"))
        .collect()
}

/// The functions of `infra/template.yaml`: binary name → API routes (method, path).
fn template_functions() -> Vec<(String, Vec<(String, String)>)> {
    let doc = template();
    let mut out = Vec::new();
    for res in function_resources(&doc) {
        let binary = res["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .unwrap()
            .to_string();
        // SAM runs `cargo lambda build --release --bin NAME` in CodeUri and copies
        // CodeUri/target/lambda/NAME/bootstrap: that must be this package's folder.
        let code = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../infra")
            .join(res["Properties"]["CodeUri"].as_str().unwrap());
        assert_eq!(
            code.canonicalize().unwrap(),
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .canonicalize()
                .unwrap(),
            "{binary}: CodeUri is not the functions package"
        );
        assert!(
            code.join("src/bin").join(format!("{binary}.rs")).exists(),
            "{binary}: no such binary"
        );
        let mut routes = Vec::new();
        if let Some(events) = res["Properties"]["Events"].as_mapping() {
            for (_, e) in events {
                if e["Type"].as_str() == Some("HttpApi") {
                    // Without a path and a method, SAM makes the API's `$default` route.
                    routes.push((
                        e["Properties"]["Method"]
                            .as_str()
                            .unwrap_or("ANY")
                            .to_string(),
                        e["Properties"]["Path"]
                            .as_str()
                            .unwrap_or(DEFAULT_ROUTE)
                            .to_string(),
                    ));
                }
            }
        }
        out.push((binary, routes));
    }
    out
}

/// The route API Gateway gives what no other route takes.
const DEFAULT_ROUTE: &str = "$default";

/// Whether API Gateway's route `(method, pattern)` takes `method path`: `{name}` is one
/// segment, `{proxy+}` the rest, `ANY` every method, `$default` anything.
fn takes(route: &(String, String), method: &str, path: &str) -> bool {
    if route.1 == DEFAULT_ROUTE {
        return true;
    }
    if route.0 != "ANY" && !route.0.eq_ignore_ascii_case(method) {
        return false;
    }
    let (pattern, path): (Vec<&str>, Vec<&str>) =
        (route.1.split('/').collect(), path.split('/').collect());
    for (i, p) in pattern.iter().enumerate() {
        if *p == "{proxy+}" {
            return path.len() > i && path[i..].iter().all(|s| !s.is_empty());
        }
        match path.get(i) {
            Some(s) if p.starts_with('{') => {
                if s.is_empty() {
                    return false;
                }
            }
            Some(s) if s == p => {}
            _ => return false,
        }
    }
    pattern.len() == path.len()
}

/// The functions API Gateway hands `method path` to: of the routes that take it, the most
/// specific — no greedy `{proxy+}`, then the most literal segments, then the longest, then a
/// named method over `ANY` (one function, unless the template is ambiguous).
fn routed_to<'a>(
    functions: &'a [(String, Vec<(String, String)>)],
    method: &str,
    path: &str,
) -> Vec<&'a str> {
    let rank = |r: &(String, String)| {
        let segments: Vec<&str> = r.1.split('/').collect();
        let literal = segments.iter().filter(|s| !s.starts_with('{')).count();
        (
            r.1 != DEFAULT_ROUTE,
            !r.1.contains("{proxy+}"),
            literal,
            segments.len(),
            r.0 != "ANY",
        )
    };
    let best: Vec<(&str, _)> = functions
        .iter()
        .filter_map(|(b, routes)| {
            let top = routes
                .iter()
                .filter(|r| takes(r, method, path))
                .map(rank)
                .max()?;
            Some((b.as_str(), top))
        })
        .collect();
    let Some(top) = best.iter().map(|(_, k)| *k).max() else {
        return Vec::new();
    };
    best.into_iter()
        .filter(|(_, k)| *k == top)
        .map(|(b, _)| b)
        .collect()
}

#[tokio::test]
async fn the_deployment_template_routes_every_documented_route_to_its_function() {
    let functions = template_functions();
    // Every binary is deployed, and nothing else.
    let mut bins: Vec<String> =
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/bin"))
            .unwrap()
            .map(|e| {
                e.unwrap()
                    .path()
                    .file_stem()
                    .unwrap()
                    .to_string_lossy()
                    .to_string()
            })
            .collect();
    bins.sort();
    let mut deployed: Vec<String> = functions.iter().map(|(b, _)| b.clone()).collect();
    deployed.sort();
    assert_eq!(deployed, bins);

    // Every documented route reaches, through API Gateway, the function that serves it.
    let dir = tempfile::tempdir().unwrap();
    let state = state(dir.path()).await;
    let (_, doc) = openapi(&state).await;
    for (method, path, concrete) in operations(&doc) {
        let serving = serving(&state, &method, &concrete, "192.0.2.9").await;
        let routed = routed_to(&functions, &method, &concrete);
        assert_eq!(
            routed, serving,
            "{method} {path}: routed to {routed:?}, served by {serving:?}"
        );
    }
}

#[tokio::test]
async fn what_no_route_takes_gets_the_404_page_from_the_one_function_behind_the_default_route() {
    let functions = template_functions();
    let defaults: Vec<&str> = functions
        .iter()
        .filter(|(_, routes)| routes.iter().any(|r| r.1 == DEFAULT_ROUTE))
        .map(|(b, _)| b.as_str())
        .collect();
    assert_eq!(defaults, ["search"]);
    // That binary answers what no route takes, and only it does.
    for (binary, _) in &functions {
        assert_eq!(
            binary_source(binary).contains(".with_not_found()"),
            binary == "search",
            "{binary}"
        );
    }
    // A page the bucket lacks reaches API Gateway, which hands it to that function.
    assert_eq!(
        routed_to(&functions, "GET", "/kb/no-such-article.html"),
        ["search"]
    );
    assert_eq!(routed_to(&functions, "GET", "/login"), ["auth"]);

    let dir = tempfile::tempdir().unwrap();
    let state = state(dir.path()).await;
    let function = Function::new(portal_functions::groups::search)
        .with_search()
        .with_not_found();
    let ask = |method: &str, path: &str| {
        let req = lambda_http::request::from_str(&event(method, path, None, "192.0.2.4")).unwrap();
        let req = req.map(|b| Body::from(b.to_vec()));
        let app = app(function.router(state.clone()));
        async move {
            let res = app.oneshot(req).await.unwrap();
            let status = res.status().as_u16();
            let kind = res.headers()[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .to_string();
            let body = axum::body::to_bytes(res.into_body(), 1 << 20)
                .await
                .unwrap();
            (status, kind, String::from_utf8(body.to_vec()).unwrap())
        }
    };
    // A page: the theme's 404 page, with the site's header, status 404.
    let (status, kind, body) = ask("GET", "/kb/no-such-article.html").await;
    assert_eq!(status, 404);
    assert!(kind.starts_with("text/html"), "{kind}");
    assert!(
        body.contains("Page not found") && body.contains("<nav"),
        "{body}"
    );
    // An API path or a post: JSON saying what was asked.
    for (method, path) in [("GET", "/api/no-such-thing"), ("POST", "/kb/nope")] {
        let (status, kind, body) = ask(method, path).await;
        assert_eq!(status, 404, "{method} {path}");
        assert_eq!(kind, "application/json", "{method} {path}");
        assert!(body.contains(path), "{body}");
    }
    // The group's own routes are unchanged.
    let (status, kind, _) = ask("GET", "/api/search?q=refund").await;
    assert_eq!((status, kind.as_str()), (200, "application/json"));
}

#[tokio::test]
async fn on_aws_the_signing_key_comes_from_secrets_manager_and_never_from_the_table() {
    // The template hands every function a generated secret, never a literal.
    let doc = template();
    let value = doc["Globals"]["Function"]["Environment"]["Variables"]["PORTAL_SIGNING_KEY"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let secret = value
        .strip_prefix("{{resolve:secretsmanager:${")
        .and_then(|v| v.split_once('}'))
        .map(|(name, _)| name.to_string())
        .unwrap_or_else(|| {
            panic!("PORTAL_SIGNING_KEY is not a Secrets Manager reference: {value}")
        });
    let resource = &doc["Resources"][secret.as_str()];
    assert_eq!(
        resource["Type"].as_str(),
        Some("AWS::SecretsManager::Secret")
    );
    assert!(
        resource["Properties"]["GenerateSecretString"]["PasswordLength"]
            .as_u64()
            .unwrap()
            >= 32
    );

    // A function given the key signs with it: tokens hold across instances over other
    // stores, and nothing is written to the table.
    let dir = tempfile::tempdir().unwrap();
    let key = "k".repeat(48);
    let one = state(&folder(&dir, "one"))
        .await
        .with_signing_key(&key)
        .unwrap();
    let two = state(&folder(&dir, "two"))
        .await
        .with_signing_key(&key)
        .unwrap();
    let token = portal_functions::guard::issue_token(&one).await.unwrap();
    let (issued, signature) = token.split_once('.').unwrap();
    let text = portal_functions::guard::sign_text(&two, issued)
        .await
        .unwrap();
    assert_eq!(text, signature);
    let secret_item = portal_core::store::Key::new("SECRET#form-token", "SECRET");
    assert!(one.store.get(&secret_item).await.unwrap().is_none());
    // Another key does not verify it; a short key is refused with its length.
    let other = state(&folder(&dir, "three"))
        .await
        .with_signing_key(&"x".repeat(40))
        .unwrap();
    assert_ne!(
        portal_functions::guard::sign_text(&other, issued)
            .await
            .unwrap(),
        signature
    );
    let short = state(&folder(&dir, "four")).await.with_signing_key("abc");
    assert!(short.unwrap_err().contains("3 characters"));
}

#[test]
fn with_its_own_name_the_api_answers_only_there_and_cloudfront_uses_it() {
    let doc = template();
    let text = |v: &serde_norway::Value| serde_json::to_string(v).unwrap();
    let api = &doc["Resources"]["Api"]["Properties"];
    // Switched off exactly when the API has its own name…
    let disabled = text(&api["DisableExecuteApiEndpoint"]);
    assert!(
        disabled == r#"{"!If":["HasApiDomain",true,false]}"#,
        "{disabled}"
    );
    // …which is the name CloudFront's origin for the functions uses, at the stage's root.
    let config = &doc["Resources"]["Distribution"]["Properties"]["DistributionConfig"];
    let origin = config["Origins"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|o| o["Id"].as_str() == Some("functions"))
        .unwrap();
    let host = text(&origin["DomainName"]);
    assert!(
        host.contains("HasApiDomain")
            && host.contains("ApiDomainName")
            && host.contains("execute-api"),
        "{host}"
    );
    assert!(text(&origin["OriginPath"]).contains("AWS::NoValue"));
    // The name is mapped to the API's stage, with its certificate, only when it is given.
    for name in ["ApiDomain", "ApiDomainMapping"] {
        assert_eq!(
            doc["Resources"][name]["Condition"].as_str(),
            Some("HasApiDomain"),
            "{name}"
        );
    }
    assert!(text(&doc["Resources"]["ApiDomainMapping"]["Properties"]["ApiId"]).contains("Api"));
    // Without it the functions still refuse what does not carry CloudFront's secret.
    assert!(text(&origin["OriginCustomHeaders"]).contains("X-Portal-Origin"));
}

#[test]
fn each_function_may_touch_only_the_partitions_its_group_uses() {
    let doc = template();
    let mut seen = Vec::new();
    for res in function_resources(&doc) {
        let binary = res["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .unwrap();
        let statements: Vec<&serde_norway::Value> = res["Properties"]["Policies"]
            .as_sequence()
            .unwrap()
            .iter()
            .filter_map(|p| p["Statement"].as_sequence())
            .flatten()
            .filter(|st| {
                st["Action"]
                    .as_sequence()
                    .into_iter()
                    .flatten()
                    .any(|a| a.as_str().is_some_and(|a| a.starts_with("dynamodb:")))
            })
            .collect();
        assert_eq!(statements.len(), 1, "{binary}: one statement for the table");
        let keys: Vec<&str> = statements[0]["Condition"]["ForAllValues:StringLike"]
            ["dynamodb:LeadingKeys"]
            .as_sequence()
            .unwrap_or_else(|| panic!("{binary}: no leading-key condition"))
            .iter()
            .map(|k| k.as_str().unwrap())
            .collect();
        // The template grants what `portal serve` confines each group to in every test.
        assert_eq!(keys, portal_functions::partitions(binary), "{binary}");
        assert!(!keys.contains(&"*") && !keys.iter().any(|k| k.starts_with("SECRET")));
        seen.push(binary.to_string());
    }
    seen.sort();
    let mut listed: Vec<String> = portal_functions::PARTITIONS
        .iter()
        .map(|(n, _)| n.to_string())
        .collect();
    listed.sort();
    assert_eq!(seen, listed);
    // What only some functions may touch: the logins (with their password hashes: the
    // staff API and the desk invite and disable them), the devices, and the staff members
    // (with theirs and their second factors).
    for (partition, only) in [
        (
            "LOGIN#ada@example.com",
            &["auth", "account", "staff", "desk"][..],
        ),
        ("DEVICE#x", &["auth"]),
        ("STAFF", &["desk"]),
        ("STAFFSESSION#x", &["desk"]),
    ] {
        let may: Vec<&str> = portal_functions::PARTITIONS
            .iter()
            .filter(|(_, p)| {
                p.iter()
                    .any(|k| portal_core::store::Confined::matches(k, partition))
            })
            .map(|(n, _)| *n)
            .collect();
        assert_eq!(may, only, "{partition}");
    }
}

/// A new folder `name` in `dir`.
fn folder(dir: &tempfile::TempDir, name: &str) -> std::path::PathBuf {
    let path = dir.path().join(name);
    std::fs::create_dir_all(&path).unwrap();
    path
}

/// The source of the function binary `name`.
fn binary_source(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("src/bin/{name}.rs"));
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn only_functions_that_keep_files_or_send_mail_may_touch_the_bucket_or_ses() {
    let doc = template();
    let global = &doc["Globals"]["Function"]["Environment"]["Variables"];
    assert!(global.get("PORTAL_BLOBS").is_none() && global.get("PORTAL_MAIL_FROM").is_none());
    for res in function_resources(&doc) {
        let binary = res["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .unwrap();
        let listed = res["Properties"]["Policies"].as_sequence().unwrap();
        let mut policies: Vec<&str> = listed
            .iter()
            .filter_map(|p| p.as_mapping()?.keys().next()?.as_str())
            .collect();
        // Inline statements: their actions, checked for rights no function needs.
        let actions: Vec<&str> = listed
            .iter()
            .filter_map(|p| p["Statement"].as_sequence())
            .flatten()
            .flat_map(|st| st["Action"].as_sequence().into_iter().flatten())
            .filter_map(|a| a.as_str())
            .collect();
        for forbidden in [
            "dynamodb:Scan",
            "dynamodb:BatchWriteItem",
            "dynamodb:DeleteTable",
            "s3:PutObjectAcl",
            "s3:PutLifecycleConfiguration",
            "s3:ListBucket",
        ] {
            assert!(!actions.contains(&forbidden), "{binary} may {forbidden}");
        }
        assert!(
            !policies.contains(&"DynamoDBCrudPolicy") && !policies.contains(&"S3CrudPolicy"),
            "{binary}: a broad policy template"
        );
        if actions.iter().any(|a| a.starts_with("s3:")) {
            policies.push("S3 objects");
        }
        let env = &res["Properties"]["Environment"]["Variables"];
        // A binary links the S3 client only if it keeps files, and only those get the bucket;
        // every function queues mail, and only the mailer sends it.
        let files = binary_source(binary).contains(".with_files()");
        let mailer = binary == "mailer";
        for (policy, variable, granted) in [
            ("S3 objects", "PORTAL_BLOBS", files),
            ("SESCrudPolicy", "PORTAL_MAIL_FROM", mailer),
        ] {
            assert_eq!(policies.contains(&policy), granted, "{binary}: {policy}");
            assert_eq!(env.get(variable).is_some(), granted, "{binary}: {variable}");
        }
    }
}

#[tokio::test]
async fn a_function_opens_the_search_indexes_exactly_when_one_of_its_routes_searches() {
    let dir = tempfile::tempdir().unwrap();
    let state = state(dir.path()).await;
    let without = AppState::new(
        state.store.clone(),
        Arc::new(LiveSite::load_with(bundle_paths(dir.path()), None).unwrap()),
        None,
    );
    let sessions = portal_core::records::sessions::Sessions::new(state.store.clone());
    let (_, doc) = openapi(&state).await;
    let operations = operations(&doc);
    let mut n = 0u32;
    let functions = template_functions();
    for (binary, routes) in &functions {
        if routes.is_empty() {
            continue;
        }
        let mut searching = Vec::new();
        for (method, path, concrete) in &operations {
            if routed_to(&functions, method, concrete) != [binary.as_str()] {
                continue;
            }
            // A fresh address each time, so no rate limit answers instead.
            n += 1;
            let ip = format!("10.{}.{}.{}", n >> 16, (n >> 8) & 255, n & 255);
            let mut answers = Vec::new();
            for state in [&state, &without] {
                // Logged in afresh each time: a route may end the session.
                let (token, _) = sessions.start("ada@example.com", "c1", 3600).await.unwrap();
                let e = event(&method.to_uppercase(), concrete, None, &ip);
                let e = with_cookie(&e, &format!("__Host-portal={token}"));
                answers.push(call_raw(binary, state, &e).await.0);
            }
            let [with_indexes, without_indexes] = answers[..] else {
                unreachable!()
            };
            if without_indexes == 503 && with_indexes != 503 {
                searching.push(format!("{method} {path}"));
            }
        }
        assert_eq!(
            binary_source(binary).contains(".with_search()"),
            !searching.is_empty(),
            "{binary}: routes that search: {searching:?}"
        );
    }
}

/// A body that records whether anything read it.
fn watched_body(read: Arc<std::sync::atomic::AtomicBool>) -> Body {
    let chunks = (0..40).map(move |_| {
        read.store(true, std::sync::atomic::Ordering::SeqCst);
        Ok::<_, std::io::Error>(axum::body::Bytes::from(vec![b'x'; 1 << 20]))
    });
    Body::from_stream(futures_util::stream::iter(chunks))
}

#[tokio::test]
async fn a_large_form_with_a_made_up_session_is_refused_before_it_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let state = state(dir.path()).await;
    let read = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let req = axum::http::Request::post("/api/my/projects/demo-1-project/documents")
        .header("content-type", "multipart/form-data; boundary=x")
        .header("cookie", format!("__Host-portal={}", "ab".repeat(16)))
        .header("sec-fetch-site", "same-origin")
        .body(watched_body(read.clone()))
        .unwrap();
    let res = app(portal_functions::group("account", state))
        .oneshot(req)
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert!(
        !read.load(std::sync::atomic::Ordering::SeqCst),
        "the 40 MB body was read"
    );
}

/// `event` as CloudFront forwards it: through the edge at `edge`, with the viewer's address
/// and port, the origin secret (if any) and any other headers.
fn via_cloudfront(
    method: &str,
    path: &str,
    body: &Value,
    viewer: &str,
    secret: Option<&str>,
    extra: &[(&str, &str)],
) -> String {
    let mut e: Value =
        serde_json::from_str(&event(method, path, Some(body), "130.176.0.1")).unwrap();
    let headers = e["headers"].as_object_mut().unwrap();
    headers.insert("cloudfront-viewer-address".into(), json!(viewer));
    if let Some(s) = secret {
        headers.insert("x-portal-origin".into(), json!(s));
    }
    for (k, v) in extra {
        headers.insert(k.to_string(), json!(v));
    }
    e.to_string()
}

#[tokio::test]
async fn behind_cloudfront_limits_count_the_viewer_not_the_edge() {
    let dir = tempfile::tempdir().unwrap();
    let state = state(dir.path()).await;
    let secret = Some("origin-secret-0123456789abcdef".to_string());
    let send = |event: String| {
        let router = portal_functions::lambda::app_behind(
            portal_functions::group("events", state.clone()),
            secret.clone(),
        );
        async move {
            let req = lambda_http::request::from_str(&event).unwrap();
            let req = req.map(|b| Body::from(b.to_vec()));
            router.oneshot(req).await.unwrap().status().as_u16()
        }
    };
    let path = "/api/events/seminar/registrations";
    let reg = |n: u32| json!({"name": format!("Guest {n}"), "email": format!("g{n}@example.com")});
    let s = Some("origin-secret-0123456789abcdef");
    // posts_per_ip = 2: one viewer's third post is refused, whatever X-Forwarded-For says …
    let mut first = Vec::new();
    for n in 0..3 {
        let spoof = format!("203.0.113.{n}");
        first.push(
            send(via_cloudfront(
                "POST",
                path,
                &reg(n),
                "198.51.100.7:51000",
                s,
                &[("x-forwarded-for", &spoof)],
            ))
            .await,
        );
    }
    assert_eq!(first, [201, 201, 429]);
    // … while another viewer behind the same edge is not.
    assert_eq!(
        send(via_cloudfront(
            "POST",
            path,
            &reg(10),
            "198.51.100.8:51000",
            s,
            &[]
        ))
        .await,
        201
    );
    // IPv6 addresses count by their /64.
    let mut six = Vec::new();
    for (n, viewer) in [
        "2001:db8:1:2::10:443",
        "2001:db8:1:2:ffff::1:443",
        "2001:db8:1:2::99:443",
    ]
    .iter()
    .enumerate()
    {
        six.push(
            send(via_cloudfront(
                "POST",
                path,
                &reg(20 + n as u32),
                viewer,
                s,
                &[],
            ))
            .await,
        );
    }
    assert_eq!(six, [201, 201, 429]);
    // Without the origin secret the request did not come through CloudFront: refused, and a
    // forged viewer address counts for nothing.
    assert_eq!(
        send(via_cloudfront(
            "POST",
            path,
            &reg(30),
            "192.0.2.1:1",
            None,
            &[]
        ))
        .await,
        403
    );
    assert_eq!(
        send(via_cloudfront(
            "POST",
            path,
            &reg(31),
            "192.0.2.1:1",
            Some("a guess"),
            &[]
        ))
        .await,
        403
    );
}

#[tokio::test]
async fn behind_cloudfront_a_browser_sending_only_origin_is_known_by_the_site_address() {
    let dir = tempfile::tempdir().unwrap();
    let state = state(dir.path()).await;
    let login = |origin: &str| {
        let mut e: Value =
            serde_json::from_str(&event("POST", "/api/auth/login", None, "198.51.100.7")).unwrap();
        let h = e["headers"].as_object_mut().unwrap();
        h.insert(
            "content-type".into(),
            json!("application/x-www-form-urlencoded"),
        );
        h.insert("origin".into(), json!(origin));
        e["body"] = json!("email=ada%40example.com&password=wrong+password");
        e.to_string()
    };
    // The Host is the API's own address (CloudFront rewrites it); the Origin is the site's.
    let (status, _) = call("auth", &state, &login("https://help.example.com")).await;
    assert_eq!(status, 401, "checked, not refused as cross-site");
    let (status, _) = call("auth", &state, &login("https://evil.example")).await;
    assert_eq!(status, 403);
}
