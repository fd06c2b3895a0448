//! Backends for the conformance suite: a fresh SQLite file, or a fresh DynamoDB table on the
//! local server, per test.

#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
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

pub fn endpoint() -> String {
    portal_core::aws::test_endpoint()
}

/// Counts the DynamoDB API requests a client makes (one per operation, retries aside).
#[derive(Debug, Clone, Default)]
pub struct RequestCounter(pub Arc<AtomicUsize>);

impl aws_sdk_dynamodb::config::Intercept for RequestCounter {
    fn name(&self) -> &'static str {
        "RequestCounter"
    }
    fn read_before_execution(
        &self,
        _context: &aws_sdk_dynamodb::config::interceptors::BeforeSerializationInterceptorContextRef<
            '_,
        >,
        _cfg: &mut aws_sdk_dynamodb::config::ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

impl RequestCounter {
    /// Requests since the last call.
    pub fn take(&self) -> usize {
        self.0.swap(0, Ordering::SeqCst)
    }
}

/// A client of the local DynamoDB server.
async fn client() -> aws_sdk_dynamodb::Client {
    counted_client(RequestCounter::default())
}

fn counted_client(counter: RequestCounter) -> aws_sdk_dynamodb::Client {
    let creds = aws_sdk_dynamodb::config::Credentials::new("test", "test", None, None, "tests");
    let config = aws_sdk_dynamodb::Config::builder()
        .http_client(portal_core::aws::http_client())
        .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
        .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
        .endpoint_url(endpoint())
        .credentials_provider(creds)
        .interceptor(counter)
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

/// A store on a new table whose API requests are counted.
pub async fn dynamodb_counted() -> (Backend, RequestCounter) {
    let counter = RequestCounter::default();
    let store = DynamoStore::new(counted_client(counter.clone()), &unique_table());
    store.init().await.unwrap();
    counter.take();
    (
        Backend {
            store: Arc::new(store),
            _dir: None,
        },
        counter,
    )
}

fn unique_table() -> String {
    use std::sync::atomic::AtomicU32;
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
