//! Does a webhook fan-out delay mail? 1,000 events go to an endpoint that takes 0.5 s to
//! answer each delivery, while mail is queued every 100 ms and sent the way `portal serve`
//! sends it (its own task, the same embedded store). Prints the mail latency (queued to
//! sent) with no webhooks running and during the fan-out, and the fan-out's own rate.
//!
//! ```sh
//! cargo bench -p portal-functions --bench webhooks -- 1000 500   # events, receiver ms
//! ```
//!
//! The feed shows events once settled, so the fan-out starts 16 s after they are written.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use portal_core::records::feed::Event;
use portal_core::records::outbox::{Mail, Outbox};
use portal_core::records::to_item;
use portal_core::records::webhooks::Webhooks;
use portal_core::store::{Cond, Store, Write};
use portal_functions::mail::{deliver_from, FolderMailer};

/// Queues a mail every 100 ms for `span` and sends it at once; the latencies in ms.
async fn mail_latencies(store: &Arc<dyn Store>, mailer: &FolderMailer, span: Duration) -> Vec<f64> {
    let started = Instant::now();
    let mut latencies = Vec::new();
    let outbox = Outbox::new(store.clone());
    let mut n = 0;
    while started.elapsed() < span {
        n += 1;
        let mail = Mail::new(format!("m{n}@example.com"), "Hello", "Body");
        let queued = Instant::now();
        store
            .put(to_item(&mail).unwrap(), Cond::NotExists)
            .await
            .unwrap();
        while !outbox.pending(100).await.unwrap().is_empty() {
            deliver_from(store, mailer).await;
        }
        latencies.push(queued.elapsed().as_secs_f64() * 1000.0);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    latencies
}

fn summary(mut ms: Vec<f64>) -> String {
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| ms[((ms.len() - 1) as f64 * q) as usize];
    format!(
        "{} mails, median {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        ms.len(),
        at(0.5),
        at(0.99),
        ms[ms.len() - 1]
    )
}

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    let events: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let slow_ms: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(500);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let dir = tempfile::tempdir().unwrap();
        let store = portal_core::store::open(&format!(
            "sqlite:{}",
            dir.path().join("portal.db").display()
        ))
        .await
        .unwrap();
        store.init().await.unwrap();
        let mailer = FolderMailer::new(dir.path().join("outbox"));

        // The slow receiver.
        let received = Arc::new(AtomicUsize::new(0));
        let counter = received.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move || {
                let counter = counter.clone();
                async move {
                    tokio::time::sleep(Duration::from_millis(slow_ms)).await;
                    counter.fetch_add(1, Ordering::Relaxed);
                    axum::http::StatusCode::NO_CONTENT
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Webhooks::new(store.clone())
            .add(
                &format!("http://127.0.0.1:{port}/hook"),
                vec!["*".into()],
                None,
                true,
            )
            .await
            .unwrap();

        let baseline = mail_latencies(&store, &mailer, Duration::from_secs(10)).await;
        println!("mail, no webhooks running: {}", summary(baseline));

        for chunk in (0..events).collect::<Vec<_>>().chunks(20) {
            let writes: Vec<Write> = chunk
                .iter()
                .map(|n| {
                    Event::new(
                        "issue.filed",
                        "visitor",
                        None,
                        format!("issue {n}"),
                        serde_json::json!({ "n": n }),
                    )
                    .write()
                    .unwrap()
                })
                .collect();
            store.transact(writes).await.unwrap();
        }
        tokio::time::sleep(Duration::from_secs(
            portal_core::records::feed::SETTLE_SECONDS as u64 + 1,
        ))
        .await;

        let hooks_store = store.clone();
        let started = Instant::now();
        let fan_out = tokio::spawn(async move {
            let sender = portal_functions::webhooks::Sender::new();
            let mut idle = 0;
            loop {
                let round = portal_functions::webhooks::deliver_from(
                    &hooks_store,
                    &sender,
                    Duration::from_secs(30),
                )
                .await;
                if round.queued + round.delivered + round.failed == 0 {
                    idle += 1;
                    if idle > 2 {
                        break;
                    }
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        });
        let during = mail_latencies(&store, &mailer, Duration::from_secs(20)).await;
        println!("mail, during the fan-out: {}", summary(during));
        fan_out.await.unwrap();
        let secs = started.elapsed().as_secs_f64();
        let got = received.load(Ordering::Relaxed);
        println!(
            "webhooks: {got} of {events} events delivered to a receiver taking {slow_ms} ms each, in {secs:.1} s ({:.0}/s)",
            got as f64 / secs
        );
        assert_eq!(got, events, "every event delivered");
    });
}
