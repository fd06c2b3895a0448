//! Embedded-store benchmark: point reads per second, two-item transactions per second, and
//! the time to list one customer's 1,000 invoices, on a SQLite file in a temporary folder.
//!
//! `cargo bench -p portal-core --bench store`

use std::sync::Arc;
use std::time::Instant;

use portal_core::store::{Cond, Item, Key, Query, SqliteStore, Store, Write};
use serde_json::json;

const ITEMS: usize = 10_000;
const READS: usize = 200_000;
const TXNS: usize = 20_000;
const TASKS: usize = 8;

fn item(pk: String, sk: String, i: usize) -> Item {
    Item::new(pk, sk, json!({"i": i, "name": "Harbour Café", "total": 120.5, "lines": [{"sku": "POS-LIC", "qty": 2}]}).as_object().unwrap().clone())
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("bench.db")).unwrap());

        // Seed: 10,000 customers' profiles and one customer's 1,000 invoices.
        for chunk in (0..ITEMS).collect::<Vec<_>>().chunks(25) {
            let writes = chunk.iter().map(|&i| Write::Put(item(format!("CUSTOMER#{i}"), "PROFILE".into(), i), Cond::NotExists)).collect();
            store.transact(writes).await.unwrap();
        }
        for chunk in (0..1000).collect::<Vec<_>>().chunks(25) {
            let writes = chunk
                .iter()
                .map(|&i| Write::Put(item("CUSTOMER#big".into(), format!("INVOICE#2026-{:02}-{:02}#i{i:04}", i % 12 + 1, i % 28 + 1), i), Cond::NotExists))
                .collect();
            store.transact(writes).await.unwrap();
        }

        // Point reads from several tasks at once.
        let start = Instant::now();
        let mut handles = Vec::new();
        for t in 0..TASKS {
            let store = store.clone();
            handles.push(tokio::spawn(async move {
                let mut x: u64 = 0x9E37_79B9 + t as u64;
                for _ in 0..READS / TASKS {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    let i = (x % ITEMS as u64) as usize;
                    let got = store.get(&Key::new(format!("CUSTOMER#{i}"), "PROFILE")).await.unwrap();
                    assert!(got.is_some());
                }
            }));
        }
        for h in handles {
            h.await.unwrap();
        }
        let reads = READS as f64 / start.elapsed().as_secs_f64();

        // Two-item transactions (a record and its outbox mail, say) from several tasks.
        let start = Instant::now();
        let mut handles = Vec::new();
        for t in 0..TASKS {
            let store = store.clone();
            handles.push(tokio::spawn(async move {
                for n in 0..TXNS / TASKS {
                    let id = format!("{t}-{n}");
                    store
                        .transact(vec![
                            Write::Put(item(format!("ISSUE#{id}"), "ISSUE".into(), n), Cond::NotExists),
                            Write::Put(item("OUTBOX".into(), format!("MAIL#{id}"), n), Cond::NotExists),
                        ])
                        .await
                        .unwrap();
                }
            }));
        }
        for h in handles {
            h.await.unwrap();
        }
        let txns = TXNS as f64 / start.elapsed().as_secs_f64();

        // Listing 1,000 invoices in one query.
        let mut times = Vec::new();
        for _ in 0..50 {
            let start = Instant::now();
            let page = store.query(&Query::partition("CUSTOMER#big").prefix("INVOICE#").limit(1000)).await.unwrap();
            times.push(start.elapsed().as_secs_f64() * 1000.0);
            assert_eq!(page.items.len(), 1000);
        }
        times.sort_by(|a, b| a.partial_cmp(b).unwrap());
        println!(
            "store/sqlite: {reads:.0} point reads/s ({READS} reads, {TASKS} tasks); {txns:.0} two-item transactions/s ({TXNS}); list 1,000 invoices median {:.2} ms (min {:.2}, max {:.2}, 50 runs); {} worker threads",
            times[25],
            times[0],
            times[49],
            std::thread::available_parallelism().map_or(1, |n| n.get())
        );
    });
}
