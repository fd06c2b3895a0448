//! What the functions' tests and benchmarks share: a bundle as `PORTAL_SITE_DIR` holds it,
//! and state over a store for it.

#![allow(dead_code)]

use std::borrow::Cow;
use std::path::Path;
use std::sync::Arc;

use portal_core::search::{write_index, SearchDoc};
use portal_core::store::Store;
use portal_functions::lambda::bundle_paths;
use portal_functions::{AppState, LiveSite};
use serde_json::{json, Value};

/// The limits the Lambda tests use: two posts an hour from one address.
pub fn strict_limits() -> Value {
    json!({"posts_per_ip": 2, "posts_per_email": 10, "shares_per_ip": 10, "min_fill_seconds": 3})
}

/// Limits no test of volume reaches.
pub fn open_limits() -> Value {
    json!({"posts_per_ip": 1_000_000, "posts_per_email": 1_000_000, "shares_per_ip": 1_000_000, "min_fill_seconds": 0})
}

/// A bundle as `PORTAL_SITE_DIR` holds it: site data, a one-article index, the theme.
pub fn bundle(dir: &Path, limits: Value) {
    let site = json!({
        "settings": {
            "business": "Kestrel Systems",
            "base_url": "https://help.example.com",
            "business_email": "support@example.com",
            "tracking_prefix": "KST",
            "binders": [{"id": "support", "name": "Support", "public": true, "categories": []}],
            "newsletters": [],
            "limits": limits
        },
        "events": [{"slug": "seminar", "title": "Seminar", "when": "Tuesday", "starts": 4102444800i64, "capacity": 1}],
        "page": {"site": {"title": "Kestrel Systems", "base_url": "https://help.example.com", "language": "en-GB",
            "contact": {"address": ["1 Quay Street", "Bristol"], "phones": [{"label": "Support", "value": "0117 496 0000"}], "emails": [], "hours": [], "note": ""}}, "footer_pages": [], "year": 2026, "topics": [],
            "assets": {"style.css": "/static/style.css", "favicon.svg": "/static/favicon.svg", "forms.js": "/static/forms.js"}}
    });
    std::fs::write(dir.join("site.json"), site.to_string()).unwrap();
    for index in ["search", "search-customers"] {
        std::fs::create_dir(dir.join(index)).unwrap();
        write_index(
            &dir.join(index),
            vec![SearchDoc {
                url: "/kb/refund-a-sale".into(),
                kind: "article",
                title: Cow::Borrowed("Refund a sale"),
                summary: Cow::Borrowed("Give money back for a sale."),
                body: Cow::Borrowed("Open the sale, choose Refund and confirm the amount."),
                topic: Cow::Borrowed("Sales"),
                subtopic: Cow::Borrowed("Refunds"),
                tags: vec![],
            }],
        )
        .unwrap();
    }
    std::fs::create_dir(dir.join("private")).unwrap();
    let theme = Path::new(env!("CARGO_MANIFEST_DIR")).join("../themes/default");
    std::os::unix::fs::symlink(theme.canonicalize().unwrap(), dir.join("theme")).unwrap();
}

/// State over a new SQLite store in `dir`, with the strict limits; mail written to `dir/outbox`.
pub async fn state(dir: &Path) -> AppState {
    bundle(dir, strict_limits());
    let db = format!("sqlite:{}", dir.join("portal.db").display());
    let store = portal_core::store::open(&db).await.unwrap();
    store.init().await.unwrap();
    let site = LiveSite::load(bundle_paths(dir)).unwrap();
    AppState::new(store, Arc::new(site), Some(dir.join("outbox")))
}

/// State over `store` (initialised here) for a bundle in `dir` with `limits`; mail stays queued
/// in the store.
pub async fn state_on(dir: &Path, store: Arc<dyn Store>, limits: Value) -> AppState {
    bundle(dir, limits);
    store.init().await.unwrap();
    let site = LiveSite::load(bundle_paths(dir)).unwrap();
    AppState::new(store, Arc::new(site), None)
}
