//! Public submissions per second on the embedded store: `POST /api/issues` with a fresh
//! `Idempotency-Key` each, sent to the `issues` router in-process by many clients at once,
//! the way a burst of visitors (or a load test) arrives at `portal serve`.
//!
//! ```sh
//! cargo bench -p portal-functions --bench submissions -- 2000 64   # submissions, clients
//! ```
//!
//! Prints the throughput, and how many submissions were refused (anything but 201).

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::http::Request;
use tower::ServiceExt;

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    let total: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(2000);
    let clients: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(64);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("portal.db");
        let store = portal_core::store::open(&format!("sqlite:{}", db.display()))
            .await
            .unwrap();
        let state = common::state_on(dir.path(), store, common::open_limits()).await;
        let app = portal_functions::group("issues", state);
        let next = Arc::new(AtomicUsize::new(0));
        let refused = Arc::new(AtomicUsize::new(0));
        let started = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..clients {
            let (app, next, refused) = (app.clone(), next.clone(), refused.clone());
            tasks.push(tokio::spawn(async move {
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= total {
                        break;
                    }
                    let body = serde_json::json!({
                        "name": "Bench", "email": format!("visitor{n}@example.com"),
                        "subject": format!("Receipts blank ({n})"),
                        "description": "Every receipt comes out blank since this morning."
                    });
                    let req = Request::post("/api/issues")
                        .header("content-type", "application/json")
                        .header("idempotency-key", format!("bench-submission-{n:08}"))
                        .body(Body::from(body.to_string()))
                        .unwrap();
                    let res = app.clone().oneshot(req).await.unwrap();
                    if res.status() != 201 {
                        refused.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let secs = started.elapsed().as_secs_f64();
        println!(
            "{total} submissions, {clients} clients: {:.2} s, {:.0} submissions/s, {} refused",
            secs,
            total as f64 / secs,
            refused.load(Ordering::Relaxed)
        );
    });
}
