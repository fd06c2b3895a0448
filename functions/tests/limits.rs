//! Rate limits over counters an older portal wrote (or an import brought): their count sits
//! in the item's `data`, where a ceiling inside a transaction cannot see it on DynamoDB. The
//! post is then counted on its own and judged by its exact count, on both stores: nothing is
//! refused for the layout, and nothing passes the limit because of it.

mod common;

use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use portal_core::records::guards::RateLimits;
use portal_core::store::{now, Cond, DynamoStore, Item, SqliteStore, Store, Write};
use serde_json::json;
use tower::ServiceExt;

async fn post(app: &axum::Router, key: &str) -> u16 {
    let req = Request::post("/api/issues")
        .header("content-type", "application/json")
        .header("idempotency-key", key)
        .body(Body::from(
            json!({"name": "Ada", "email": "ada@example.com", "subject": "Till", "description": "Frozen."})
                .to_string(),
        ))
        .unwrap();
    app.clone().oneshot(req).await.unwrap().status().as_u16()
}

/// Two posts an hour from one address; the address's window already counts one, in the
/// older layout: the next post is the second (filed), the one after is refused.
async fn an_older_window_is_judged_exactly(store: Arc<dyn Store>) {
    let dir = tempfile::tempdir().unwrap();
    let state = common::state_on(dir.path(), store.clone(), common::strict_limits()).await;
    let app = portal_functions::group("issues", state);
    // The window of this client's address (a request with no socket is "unknown").
    let Write::Add(step) = RateLimits::step("post", "unknown", 3600, 1, None) else {
        unreachable!("a step is an Add")
    };
    let older = Item::new(
        step.key.pk.clone(),
        step.key.sk.clone(),
        json!({"count": 1}).as_object().unwrap().clone(),
    )
    .expiring(now() + 7200);
    store.put(older, Cond::None).await.unwrap();

    assert_eq!(post(&app, "older-window-first-0001").await, 201);
    assert_eq!(post(&app, "older-window-second-002").await, 429);
    let count = store.get(&step.key).await.unwrap().unwrap().data["count"].clone();
    assert_eq!(count, 3, "every post counted once, the refused one too");
}

#[tokio::test]
async fn an_older_window_is_judged_exactly_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("portal.db")).unwrap());
    an_older_window_is_judged_exactly(store).await;
}

#[tokio::test]
async fn an_older_window_is_judged_exactly_on_dynamodb() {
    let table = format!("limits-{}", std::process::id());
    let creds = aws_sdk_dynamodb::config::Credentials::new("test", "test", None, None, "tests");
    let config = aws_sdk_dynamodb::Config::builder()
        .http_client(portal_core::aws::http_client())
        .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
        .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
        .endpoint_url(portal_core::aws::test_endpoint())
        .credentials_provider(creds)
        .build();
    let client = aws_sdk_dynamodb::Client::from_conf(config);
    let store: Arc<dyn Store> = Arc::new(DynamoStore::new(client, &table));
    an_older_window_is_judged_exactly(store).await;
}
