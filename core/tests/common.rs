//! Backends for the conformance suite: a fresh SQLite file, or a fresh DynamoDB table on the
//! local server, per test.

#![allow(dead_code)]

use std::sync::Arc;

use portal_core::store::{DynamoStore, SqliteStore, Store};

/// A store and whatever keeps it alive.
pub struct Backend {
    pub store: Arc<dyn Store>,
    _dir: Option<tempfile::TempDir>,
}

/// A store on a new SQLite file.
pub fn sqlite() -> Backend {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("portal.db")).unwrap();
    Backend {
        store: Arc::new(store),
        _dir: Some(dir),
    }
}

fn endpoint() -> String {
    std::env::var("PORTAL_TEST_DYNAMODB").unwrap_or_else(|_| {
        panic!("PORTAL_TEST_DYNAMODB is not set: run the tests with scripts/test, which starts a local DynamoDB (moto) and sets it")
    })
}

/// A client of the local DynamoDB server.
async fn client() -> aws_sdk_dynamodb::Client {
    let creds = aws_sdk_dynamodb::config::Credentials::new("test", "test", None, None, "tests");
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
        .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
        .endpoint_url(endpoint())
        .credentials_provider(creds)
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

fn unique_table() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "portal-test-{}-{}-{}",
        std::process::id(),
        nanos,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A store on a new table.
pub async fn dynamodb() -> Backend {
    let store = DynamoStore::new(client().await, &unique_table());
    store.init().await.unwrap();
    Backend {
        store: Arc::new(store),
        _dir: None,
    }
}

/// A store whose table was never created.
pub async fn dynamodb_without_table() -> Arc<dyn Store> {
    Arc::new(DynamoStore::new(client().await, &unique_table()))
}
