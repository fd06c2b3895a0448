//! The staff API on the embedded store, in-process through the `staff` router with one API
//! key, the way a business's sync job drives it: invoice upserts per second (first as new
//! invoices, then the same invoices changed), and change-feed reads in events per second
//! (everything those upserts told of, paged from the start, 1,000 a page).
//!
//! ```sh
//! cargo bench -p portal-functions --bench staff -- 5000 16   # invoices, clients
//! ```
//!
//! The feed shows events once settled, so the reads start 16 s after the last upsert.

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use axum::Router;
use tower::ServiceExt;

const CUSTOMERS: usize = 100;

/// Sends `total` requests made by `make` from `clients` tasks; returns the seconds taken and
/// how many were not answered with a 2xx.
async fn drive(
    app: &Router,
    total: usize,
    clients: usize,
    make: impl Fn(usize) -> Request<Body> + Send + Sync + 'static,
) -> (f64, usize) {
    let make = Arc::new(make);
    let next = Arc::new(AtomicUsize::new(0));
    let refused = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (app, next, refused, make) = (app.clone(), next.clone(), refused.clone(), make.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= total {
                    break;
                }
                let res = app.clone().oneshot(make(n)).await.unwrap();
                // The first refusal is shown; all are counted.
                if !res.status().is_success() && refused.fetch_add(1, Ordering::Relaxed) == 0 {
                    let body = axum::body::to_bytes(res.into_body(), 1 << 20)
                        .await
                        .unwrap();
                    eprintln!("refused: {}", String::from_utf8_lossy(&body));
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    (
        started.elapsed().as_secs_f64(),
        refused.load(Ordering::Relaxed),
    )
}

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    let total: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5000);
    let clients: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(16);
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
        let mut limits = common::open_limits();
        limits["api_requests_per_minute"] = serde_json::json!(100_000_000);
        let state = common::state_on(dir.path(), store.clone(), limits).await;
        let (_, secret) = portal_core::records::apikeys::ApiKeys::new(store.clone())
            .create(
                "bench",
                vec!["customers:write".into(), "billing:write".into(), "changes:read".into()],
            )
            .await
            .unwrap();
        let bearer = format!("Bearer {secret}");
        let app = portal_functions::group("staff", state);

        let auth = bearer.clone();
        let (_, refused) = drive(&app, CUSTOMERS, clients, move |n| {
            Request::put(format!("/api/staff/customers/C{n:04}"))
                .header("authorization", &auth)
                .header("content-type", "application/json")
                .body(Body::from(
                    serde_json::json!({"number": format!("C-{n}"), "name": format!("Customer {n}"), "email": format!("accounts{n}@example.com")})
                        .to_string(),
                ))
                .unwrap()
        })
        .await;
        assert_eq!(refused, 0, "customers made");

        for (pass, status) in [("new invoices", "open"), ("the same invoices changed", "paid")] {
            let auth = bearer.clone();
            let (secs, refused) = drive(&app, total, clients, move |n| {
                let body = serde_json::json!({
                    "number": format!("INV-{n:06}"),
                    "date": "2026-11-02",
                    "due": "2026-12-02",
                    "status": status,
                    "lines": [
                        {"description": "Till licence", "quantity": 1, "unit_cents": 12_000, "vat_percent": 20},
                        {"description": "Support hours", "quantity": 3, "unit_cents": 4_500, "vat_percent": 20}
                    ]
                });
                Request::put(format!(
                    "/api/staff/customers/C{:04}/invoices/INV-{n:06}",
                    n % CUSTOMERS
                ))
                .header("authorization", &auth)
                .header("content-type", "application/json")
                .body(Body::from(body.to_string()))
                .unwrap()
            })
            .await;
            println!(
                "{total} invoice upserts ({pass}), {clients} clients over {CUSTOMERS} customers: {secs:.2} s, {:.0} upserts/s, {refused} refused",
                total as f64 / secs
            );
        }

        tokio::time::sleep(Duration::from_secs(
            portal_core::records::feed::SETTLE_SECONDS as u64 + 1,
        ))
        .await;
        let started = Instant::now();
        let (mut cursor, mut events, mut pages) = (String::new(), 0usize, 0usize);
        let since = portal_core::store::now() - 3600;
        loop {
            let req = Request::get(format!(
                "/api/staff/changes?limit=1000&since={since}&cursor={cursor}"
            ))
                .header("authorization", &bearer)
                .body(Body::empty())
                .unwrap();
            let res = app.clone().oneshot(req).await.unwrap();
            assert_eq!(res.status(), 200);
            let body = axum::body::to_bytes(res.into_body(), 64 << 20).await.unwrap();
            let page: serde_json::Value = serde_json::from_slice(&body).unwrap();
            let n = page["events"].as_array().unwrap().len();
            events += n;
            pages += 1;
            cursor = page["cursor"].as_str().unwrap().replace('#', "%23");
            if page["caught_up"] == true {
                break;
            }
        }
        let secs = started.elapsed().as_secs_f64();
        println!(
            "change feed: {events} events in {pages} pages of up to 1,000: {secs:.2} s, {:.0} events/s",
            events as f64 / secs
        );
        assert!(events >= 2 * total, "every upsert is in the feed");
    });
}
