//! What every store must do, written once against the trait.

use std::collections::BTreeMap;
use std::sync::Arc;

use portal_core::store::{now, Attrs, Cond, Item, Key, Query, Store, StoreError, Write};
use serde_json::json;

fn data(v: serde_json::Value) -> Attrs {
    v.as_object().unwrap().clone()
}

fn item(pk: &str, sk: &str, v: serde_json::Value) -> Item {
    Item::new(pk, sk, data(v))
}

fn is_condition_failed<T: std::fmt::Debug>(r: Result<T, StoreError>) -> bool {
    matches!(r, Err(StoreError::ConditionFailed { .. }))
}

pub async fn put_and_get_with_conditions(store: Arc<dyn Store>) {
    let key = Key::new("CUSTOMER#c1", "PROFILE");
    assert_eq!(store.get(&key).await.unwrap(), None);
    let v = store
        .put(
            item(
                "CUSTOMER#c1",
                "PROFILE",
                json!({"name": "Ada", "n": 1, "tags": ["a"], "nested": {"x": true}}),
            ),
            Cond::NotExists,
        )
        .await
        .unwrap();
    assert_eq!(v, 1);
    let got = store.get(&key).await.unwrap().unwrap();
    assert_eq!(got.version, 1);
    assert_eq!(got.data["name"], "Ada");
    assert_eq!(got.data["nested"]["x"], true);
    assert_eq!(got.data["tags"][0], "a");

    assert!(is_condition_failed(
        store
            .put(
                item("CUSTOMER#c1", "PROFILE", json!({"name": "Bob"})),
                Cond::NotExists
            )
            .await
    ));
    assert_eq!(
        store
            .put(
                item("CUSTOMER#c1", "PROFILE", json!({"name": "Ada L."})),
                Cond::Version(1)
            )
            .await
            .unwrap(),
        2
    );
    assert!(is_condition_failed(
        store
            .put(
                item("CUSTOMER#c1", "PROFILE", json!({"name": "stale"})),
                Cond::Version(1)
            )
            .await
    ));
    assert_eq!(
        store.get(&key).await.unwrap().unwrap().data["name"],
        "Ada L.",
        "a failed write changes nothing"
    );
    assert_eq!(
        store
            .put(
                item("CUSTOMER#c1", "PROFILE", json!({"name": "Ada"})),
                Cond::Exists
            )
            .await
            .unwrap(),
        3
    );
    assert!(is_condition_failed(
        store
            .put(item("CUSTOMER#c2", "PROFILE", json!({})), Cond::Exists)
            .await
    ));
    assert!(is_condition_failed(
        store
            .put(item("CUSTOMER#c2", "PROFILE", json!({})), Cond::Version(1))
            .await
    ));
    assert_eq!(
        store
            .put(
                item("CUSTOMER#c2", "PROFILE", json!({"empty": ""})),
                Cond::None
            )
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .get(&Key::new("CUSTOMER#c2", "PROFILE"))
            .await
            .unwrap()
            .unwrap()
            .data["empty"],
        ""
    );
}

pub async fn delete_with_conditions(store: Arc<dyn Store>) {
    let key = Key::new("P", "S");
    store
        .put(item("P", "S", json!({"a": 1})), Cond::NotExists)
        .await
        .unwrap();
    assert!(is_condition_failed(
        store.delete(&key, Cond::Version(7)).await
    ));
    assert!(store.get(&key).await.unwrap().is_some());
    store.delete(&key, Cond::Version(1)).await.unwrap();
    assert_eq!(store.get(&key).await.unwrap(), None);
    store.delete(&key, Cond::None).await.unwrap();
    assert!(is_condition_failed(store.delete(&key, Cond::Exists).await));
}

pub async fn fill(store: &dyn Store, n: usize) {
    let mut writes = Vec::new();
    for i in 0..n {
        writes.push(Write::Put(
            item(
                "CUSTOMER#c1",
                &format!("INVOICE#2026-{:02}-01#i{i:03}", i % 12 + 1),
                json!({"i": i, "total": i as f64 * 10.5}),
            ),
            Cond::NotExists,
        ));
        if writes.len() == 25 {
            store.transact(std::mem::take(&mut writes)).await.unwrap();
        }
    }
    if !writes.is_empty() {
        store.transact(writes).await.unwrap();
    }
}

pub async fn query_ranges_order_and_cursors(store: Arc<dyn Store>) {
    fill(&*store, 25).await;
    store
        .put(item("CUSTOMER#c1", "PROFILE", json!({})), Cond::NotExists)
        .await
        .unwrap();
    store
        .put(
            item("CUSTOMER#c2", "INVOICE#2026-01-01#x", json!({})),
            Cond::NotExists,
        )
        .await
        .unwrap();

    let mut all = Vec::new();
    let mut cursor = None;
    let mut pages = 0;
    loop {
        let page = store
            .query(
                &Query::partition("CUSTOMER#c1")
                    .prefix("INVOICE#")
                    .limit(10)
                    .after(cursor),
            )
            .await
            .unwrap();
        assert!(page.items.len() <= 10);
        all.extend(page.items);
        pages += 1;
        match page.next {
            Some(c) => cursor = Some(c),
            None => break,
        }
        assert!(pages < 10, "cursors make progress");
    }
    assert_eq!(
        all.len(),
        25,
        "every invoice once, no profile, no other customer's"
    );
    let sks: Vec<&str> = all.iter().map(|i| i.sk.as_str()).collect();
    let mut sorted = sks.clone();
    sorted.sort();
    assert_eq!(sks, sorted, "ascending sort-key order across pages");

    let desc = store
        .query(
            &Query::partition("CUSTOMER#c1")
                .prefix("INVOICE#")
                .limit(5)
                .descending(),
        )
        .await
        .unwrap();
    assert_eq!(
        desc.items.iter().map(|i| i.sk.clone()).collect::<Vec<_>>(),
        sorted
            .iter()
            .rev()
            .take(5)
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
    );
    let rest = store
        .query(
            &Query::partition("CUSTOMER#c1")
                .prefix("INVOICE#")
                .limit(5)
                .descending()
                .after(desc.next),
        )
        .await
        .unwrap();
    assert_eq!(
        rest.items[0].sk,
        sorted[sorted.len() - 6],
        "descending cursor continues"
    );

    // A cursor a client made up narrows the range or is refused; it never reaches past it
    // (here: the profile, whose sort key sorts after every invoice's).
    for (made_up, descending) in [("Z", true), ("A", false), ("INVOICE#", false)] {
        use base64::Engine as _;
        let text = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(made_up);
        let mut q = Query::partition("CUSTOMER#c1")
            .prefix("INVOICE#")
            .limit(100)
            .after(Some(portal_core::store::Cursor::from_client(text)));
        if descending {
            q = q.descending();
        }
        match store.query(&q).await {
            Ok(page) => assert!(
                page.items.iter().all(|i| i.sk.starts_with("INVOICE#")),
                "{made_up}: {:?}",
                page.items.iter().map(|i| &i.sk).collect::<Vec<_>>()
            ),
            Err(e) => assert!(
                matches!(e, portal_core::store::StoreError::BadRequest(_)),
                "{made_up}: {e}"
            ),
        }
    }
    // A descending cursor past a range's end reads the range from its end, that item included.
    {
        use base64::Engine as _;
        let last = sorted.last().unwrap().to_string();
        let text = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("Z");
        let page = store
            .query(
                &Query::partition("CUSTOMER#c1")
                    .between("INVOICE#", last.clone())
                    .limit(3)
                    .descending()
                    .after(Some(portal_core::store::Cursor::from_client(text))),
            )
            .await;
        if let Ok(page) = page {
            assert_eq!(page.items.first().map(|i| i.sk.clone()), Some(last));
        }
    }

    let march = store
        .query(&Query::partition("CUSTOMER#c1").between("INVOICE#2026-03", "INVOICE#2026-04"))
        .await
        .unwrap();
    assert!(
        !march.items.is_empty()
            && march
                .items
                .iter()
                .all(|i| i.sk.starts_with("INVOICE#2026-03"))
    );
    let everything = store
        .query(&Query::partition("CUSTOMER#c1").limit(100))
        .await
        .unwrap();
    assert_eq!(everything.items.len(), 26);
    assert!(store
        .query(&Query::partition("CUSTOMER#c1").limit(0))
        .await
        .is_err());
    assert!(matches!(
        store
            .query(
                &Query::partition("CUSTOMER#c1")
                    .after(Some(portal_core::store::Cursor::from_client("%%%")))
            )
            .await,
        Err(StoreError::BadRequest(_))
    ));
}

pub async fn transaction_is_all_or_nothing(store: Arc<dyn Store>) {
    store
        .put(item("A", "1", json!({"v": "a"})), Cond::NotExists)
        .await
        .unwrap();
    store
        .put(item("C", "1", json!({"v": "c"})), Cond::NotExists)
        .await
        .unwrap();
    let result = store
        .transact(vec![
            Write::Put(item("B", "1", json!({"v": "b"})), Cond::NotExists),
            Write::Put(item("A", "1", json!({"v": "changed"})), Cond::Version(9)),
            Write::Delete(Key::new("C", "1"), Cond::None),
        ])
        .await;
    match result {
        Err(StoreError::TransactionCancelled { failed }) => {
            assert_eq!(failed, vec![(1, Key::new("A", "1"))])
        }
        other => panic!("expected a cancelled transaction, got {other:?}"),
    }
    assert_eq!(
        store.get(&Key::new("B", "1")).await.unwrap(),
        None,
        "nothing written"
    );
    assert_eq!(
        store.get(&Key::new("A", "1")).await.unwrap().unwrap().data["v"],
        "a"
    );
    assert!(
        store.get(&Key::new("C", "1")).await.unwrap().is_some(),
        "nothing deleted"
    );

    let check = store
        .transact(vec![
            Write::Put(item("B", "1", json!({})), Cond::None),
            Write::Check(Key::new("missing", "1"), Cond::Exists),
        ])
        .await;
    assert!(matches!(
        check,
        Err(StoreError::TransactionCancelled { .. })
    ));
    assert_eq!(store.get(&Key::new("B", "1")).await.unwrap(), None);

    store
        .transact(vec![
            Write::Put(item("B", "1", json!({"v": "b"})), Cond::NotExists),
            Write::Put(item("A", "1", json!({"v": "changed"})), Cond::Version(1)),
            Write::Delete(Key::new("C", "1"), Cond::Exists),
            Write::Check(Key::new("B", "2"), Cond::NotExists),
        ])
        .await
        .unwrap();
    assert_eq!(
        store
            .get(&Key::new("A", "1"))
            .await
            .unwrap()
            .unwrap()
            .version,
        2
    );
    assert!(store.get(&Key::new("B", "1")).await.unwrap().is_some());
    assert_eq!(store.get(&Key::new("C", "1")).await.unwrap(), None);
}

pub async fn transaction_shape_is_checked(store: Arc<dyn Store>) {
    let too_many: Vec<Write> = (0..26)
        .map(|i| Write::Put(item("P", &i.to_string(), json!({})), Cond::None))
        .collect();
    assert!(matches!(
        store.transact(too_many).await,
        Err(StoreError::BadRequest(_))
    ));
    let twice = vec![
        Write::Put(item("P", "1", json!({})), Cond::None),
        Write::Delete(Key::new("P", "1"), Cond::None),
    ];
    assert!(matches!(
        store.transact(twice).await,
        Err(StoreError::BadRequest(_))
    ));
    assert!(matches!(
        store.transact(vec![]).await,
        Err(StoreError::BadRequest(_))
    ));
    assert_eq!(store.get(&Key::new("P", "1")).await.unwrap(), None);
}

pub async fn expired_items_are_invisible(store: Arc<dyn Store>) {
    let past = now() - 10;
    let future = now() + 3600;
    store
        .put(item("S", "old", json!({})).expiring(past), Cond::NotExists)
        .await
        .unwrap();
    store
        .put(
            item("S", "new", json!({})).expiring(future),
            Cond::NotExists,
        )
        .await
        .unwrap();
    assert_eq!(store.get(&Key::new("S", "old")).await.unwrap(), None);
    assert_eq!(
        store
            .get(&Key::new("S", "new"))
            .await
            .unwrap()
            .unwrap()
            .expires_at,
        Some(future)
    );
    let page = store.query(&Query::partition("S")).await.unwrap();
    assert_eq!(
        page.items.iter().map(|i| i.sk.as_str()).collect::<Vec<_>>(),
        ["new"]
    );
    assert!(
        is_condition_failed(store.put(item("S", "old", json!({})), Cond::Exists).await),
        "expired is absent"
    );
    store
        .put(item("S", "old", json!({"again": true})), Cond::NotExists)
        .await
        .unwrap();
    let again = store.get(&Key::new("S", "old")).await.unwrap().unwrap();
    assert_eq!(
        (again.data["again"].clone(), again.expires_at),
        (json!(true), None)
    );
}

pub async fn concurrent_writers_lose_no_update(store: Arc<dyn Store>) {
    const TASKS: usize = 6;
    const EACH: usize = 4;
    store
        .put(item("COUNTER", "1", json!({"n": 0})), Cond::NotExists)
        .await
        .unwrap();
    let mut handles = Vec::new();
    for _ in 0..TASKS {
        let store = store.clone();
        handles.push(tokio::spawn(async move {
            let mut done = 0;
            let mut lost_races = 0;
            while done < EACH {
                let current = store.get(&Key::new("COUNTER", "1")).await.unwrap().unwrap();
                let n = current.data["n"].as_u64().unwrap();
                match store
                    .put(
                        item("COUNTER", "1", json!({"n": n + 1})),
                        Cond::Version(current.version),
                    )
                    .await
                {
                    Ok(_) => done += 1,
                    Err(StoreError::ConditionFailed { .. }) => lost_races += 1,
                    Err(e) => panic!("{e}"),
                }
            }
            lost_races
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
    let last = store.get(&Key::new("COUNTER", "1")).await.unwrap().unwrap();
    assert_eq!(last.data["n"], (TASKS * EACH) as u64, "no lost update");
    assert_eq!(
        last.version,
        (TASKS * EACH) as u64 + 1,
        "one winner per version"
    );
}

pub async fn increments_are_atomic_and_create_the_counter(store: Arc<dyn Store>) {
    const TASKS: usize = 8;
    const EACH: usize = 5;
    let key = Key::new("COUNTER", "ISSUE#2026");
    let mut handles = Vec::new();
    for _ in 0..TASKS {
        let (store, key) = (store.clone(), key.clone());
        handles.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            for _ in 0..EACH {
                seen.push(store.increment(&key, "last", 1, None).await.unwrap());
            }
            seen
        }));
    }
    let mut all = Vec::new();
    for h in handles {
        all.extend(h.await.unwrap());
    }
    all.sort_unstable();
    let expected: Vec<i64> = (1..=(TASKS * EACH) as i64).collect();
    assert_eq!(
        all, expected,
        "every increment got its own value, none lost"
    );
    let counter = store.get(&key).await.unwrap().unwrap();
    assert_eq!(counter.data["last"], (TASKS * EACH) as u64);
    assert_eq!(
        counter.version,
        (TASKS * EACH) as u64,
        "each increment is a write"
    );

    // Other fields and the expiry stay; a missing field counts as 0; steps other than 1.
    store
        .put(
            item("COUNTER", "OLD", json!({"name": "ISSUE#2025", "next": 7})).expiring(now() + 3600),
            Cond::NotExists,
        )
        .await
        .unwrap();
    let old = Key::new("COUNTER", "OLD");
    assert_eq!(store.increment(&old, "last", 6, None).await.unwrap(), 6);
    assert_eq!(store.increment(&old, "last", -2, None).await.unwrap(), 4);
    let kept = store.get(&old).await.unwrap().unwrap();
    assert_eq!(
        (kept.data["name"].as_str(), kept.data["next"].as_u64()),
        (Some("ISSUE#2025"), Some(7))
    );
    assert!(
        kept.expires_at.is_some_and(|t| t > now()),
        "the expiry stays"
    );

    // A new counter takes the given expiry; an expired one starts again from nothing.
    let window = Key::new("LIMIT#post#x", "W#0");
    assert_eq!(
        store
            .increment(&window, "count", 1, Some(now() + 60))
            .await
            .unwrap(),
        1
    );
    assert!(store
        .get(&window)
        .await
        .unwrap()
        .unwrap()
        .expires_at
        .is_some());
    store
        .put(
            item("LIMIT#post#y", "W#0", json!({"count": 50})).expiring(now() - 1),
            Cond::None,
        )
        .await
        .unwrap();
    let expired = Key::new("LIMIT#post#y", "W#0");
    assert_eq!(
        store
            .increment(&expired, "count", 1, Some(now() + 60))
            .await
            .unwrap(),
        1
    );
}

/// A tiny deterministic random number generator, so failures repeat.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

pub async fn random_operations_match_a_model(store: Arc<dyn Store>) {
    let mut model: BTreeMap<(String, String), (u64, i64)> = BTreeMap::new();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let key = |rng: &mut Rng| ("P".to_string(), format!("k{}", rng.below(6)));
    for step in 0..120 {
        match rng.below(5) {
            0 | 1 => {
                let (pk, sk) = key(&mut rng);
                let value = rng.below(1000) as i64;
                let current = model.get(&(pk.clone(), sk.clone())).map(|(v, _)| *v);
                let cond = match rng.below(4) {
                    0 => Cond::None,
                    1 => Cond::NotExists,
                    2 => Cond::Exists,
                    _ => Cond::Version(current.unwrap_or(1)),
                };
                let expected_ok = match cond {
                    Cond::None => true,
                    Cond::NotExists => current.is_none(),
                    Cond::Exists => current.is_some(),
                    Cond::Version(v) => current == Some(v),
                };
                let r = store.put(item(&pk, &sk, json!({"x": value})), cond).await;
                assert_eq!(
                    r.is_ok(),
                    expected_ok,
                    "step {step}: put {pk}/{sk} {cond:?} with {current:?}: {r:?}"
                );
                if expected_ok {
                    model.insert((pk, sk), (current.unwrap_or(0) + 1, value));
                }
            }
            2 => {
                let (pk, sk) = key(&mut rng);
                store.delete(&Key::new(&pk, &sk), Cond::None).await.unwrap();
                model.remove(&(pk, sk));
            }
            3 => {
                let a = key(&mut rng);
                let b = key(&mut rng);
                if a == b {
                    continue;
                }
                let va = model.get(&a).map(|(v, _)| *v);
                let writes = vec![
                    Write::Put(
                        item(&a.0, &a.1, json!({"x": -1})),
                        Cond::Version(va.unwrap_or(1)),
                    ),
                    Write::Delete(Key::new(&b.0, &b.1), Cond::None),
                ];
                let r = store.transact(writes).await;
                assert_eq!(r.is_ok(), va.is_some(), "step {step}: transaction: {r:?}");
                if let Some(v) = va {
                    model.insert(a, (v + 1, -1));
                    model.remove(&b);
                }
            }
            _ => {
                let page = store.query(&Query::partition("P")).await.unwrap();
                let got: Vec<(String, u64, i64)> = page
                    .items
                    .iter()
                    .map(|i| (i.sk.clone(), i.version, i.data["x"].as_i64().unwrap()))
                    .collect();
                let want: Vec<(String, u64, i64)> = model
                    .iter()
                    .map(|((_, sk), (v, x))| (sk.clone(), *v, *x))
                    .collect();
                assert_eq!(got, want, "step {step}: store and model agree");
            }
        }
    }
}

pub async fn export_then_import_gives_the_same_items(store: Arc<dyn Store>) {
    fill(&*store, 40).await;
    store
        .put(
            item("TOKEN#x", "TOKEN", json!({"kind": "reset"})).expiring(now() + 600),
            Cond::NotExists,
        )
        .await
        .unwrap();
    store
        .put(
            item(
                "CUSTOMER#c1",
                "INVOICE#2026-01-01#i000",
                json!({"i": 0, "total": 0.0, "paid": true}),
            ),
            Cond::Version(1),
        )
        .await
        .unwrap();
    let mut out = Vec::new();
    let n = portal_core::transfer::export(&*store, &mut out)
        .await
        .unwrap();
    assert_eq!(n, 41);
    let text = String::from_utf8(out.clone()).unwrap();
    assert!(text
        .lines()
        .all(|l| serde_json::from_str::<Item>(l).is_ok()));
    // Importing into the same store refuses to overwrite anything.
    assert!(portal_core::transfer::import(&*store, &mut out.as_slice())
        .await
        .is_err());
    let bad = b"{\"pk\": 1}\n";
    let err = portal_core::transfer::import(&*store, &mut bad.as_slice())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("line 1: not an exported item"), "{err}");
}

/// Every page of `query` through `store`, followed by its cursors: the sort keys in order.
async fn all_pages(store: &dyn Store, query: Query) -> Vec<String> {
    let mut sks = Vec::new();
    let mut cursor = None;
    for _ in 0..100 {
        let page = store.query(&query.clone().after(cursor)).await.unwrap();
        assert!(page.items.len() <= query.limit, "a page keeps to its limit");
        sks.extend(page.items.into_iter().map(|i| i.sk));
        match page.next {
            Some(c) => cursor = Some(c),
            None => return sks,
        }
    }
    panic!("cursors make progress");
}

pub async fn a_snapshot_reads_its_partition_as_the_store_does(store: Arc<dyn Store>) {
    fill(&*store, 30).await;
    for (pk, sk) in [
        ("CUSTOMER#c1", "PROFILE"),
        ("CUSTOMER#c1", "CONTACT#k1"),
        ("CUSTOMER#c1", "QUOTE#2026-03-01#q1"),
        ("CUSTOMER#c2", "INVOICE#2026-01-01#x"),
    ] {
        store
            .put(item(pk, sk, json!({"sk": sk})), Cond::NotExists)
            .await
            .unwrap();
    }
    let snapshot: Arc<dyn Store> = Arc::new(
        portal_core::store::Snapshot::of(store.clone(), "CUSTOMER#c1")
            .await
            .unwrap(),
    );
    // Whatever the range, order, page size and cursor, the same keys in the same order.
    let ranges = [
        Query::partition("CUSTOMER#c1"),
        Query::partition("CUSTOMER#c1").prefix("INVOICE#"),
        Query::partition("CUSTOMER#c1").prefix("INVOICE#2026-03"),
        Query::partition("CUSTOMER#c1").prefix("NOTHING#"),
        Query::partition("CUSTOMER#c1").between("INVOICE#2026-02", "INVOICE#2026-05~"),
        Query::partition("CUSTOMER#c2"),
    ];
    for range in ranges {
        for limit in [1, 3, 10, 1000] {
            for descending in [false, true] {
                let mut q = range.clone().limit(limit);
                if descending {
                    q = q.descending();
                }
                assert_eq!(
                    all_pages(&*snapshot, q.clone()).await,
                    all_pages(&*store, q.clone()).await,
                    "{q:?}"
                );
            }
        }
    }
    for key in [
        Key::new("CUSTOMER#c1", "PROFILE"),
        Key::new("CUSTOMER#c1", "MISSING"),
        Key::new("CUSTOMER#c2", "INVOICE#2026-01-01#x"),
    ] {
        assert_eq!(
            snapshot.get(&key).await.unwrap(),
            store.get(&key).await.unwrap(),
            "{key}"
        );
    }
    // Writes go through to the store; the snapshot keeps what it read.
    snapshot
        .put(
            item("CUSTOMER#c1", "CONTACT#k2", json!({})),
            Cond::NotExists,
        )
        .await
        .unwrap();
    assert!(store
        .get(&Key::new("CUSTOMER#c1", "CONTACT#k2"))
        .await
        .unwrap()
        .is_some());
    assert!(snapshot
        .get(&Key::new("CUSTOMER#c1", "CONTACT#k2"))
        .await
        .unwrap()
        .is_none());
}

/// A counter step inside a transaction: created when missing, under a ceiling that fails the
/// whole transaction (naming the step) and writes nothing, taken back with a negative step,
/// and read back exactly after whole-item writes of the same counter.
pub async fn counters_step_inside_transactions_under_a_ceiling(store: Arc<dyn Store>) {
    use portal_core::store::Tally;
    let window = Key::new("LIMIT#login#x", "W#0");
    let step = |by: i64, at_most: Option<i64>| {
        Write::Add(Tally {
            key: window.clone(),
            field: "count".into(),
            by,
            expires_at: Some(now() + 3600),
            at_most,
        })
    };
    let other = |n: u32| {
        Write::Put(
            item("SESSION#s", &format!("S{n}"), json!({"n": n})),
            Cond::NotExists,
        )
    };
    for n in 1..=3 {
        store
            .transact(vec![other(n), step(1, Some(3))])
            .await
            .unwrap();
    }
    let count = |item: Option<Item>| item.and_then(|i| i.data["count"].as_i64());
    assert_eq!(count(store.get(&window).await.unwrap()), Some(3));
    assert!(
        store
            .get(&window)
            .await
            .unwrap()
            .unwrap()
            .expires_at
            .is_some(),
        "a new counter takes the expiry"
    );
    // The fourth passes the ceiling: nothing is written, and the step is named.
    match store.transact(vec![other(4), step(1, Some(3))]).await {
        Err(StoreError::TransactionCancelled { failed }) => {
            assert_eq!(failed, vec![(1, window.clone())])
        }
        other => panic!("expected a cancelled transaction, got {other:?}"),
    }
    assert_eq!(store.get(&Key::new("SESSION#s", "S4")).await.unwrap(), None);
    assert_eq!(count(store.get(&window).await.unwrap()), Some(3));
    // Taken back without a ceiling, then counted again alone.
    store.transact(vec![step(-1, None)]).await.unwrap();
    assert_eq!(store.increment(&window, "count", 1, None).await.unwrap(), 3);
    // A step larger than the ceiling never applies, even to a missing counter.
    let fresh = Write::Add(Tally {
        key: Key::new("LIMIT#login#y", "W#0"),
        field: "count".into(),
        by: 2,
        expires_at: None,
        at_most: Some(1),
    });
    assert!(store.transact(vec![fresh]).await.is_err());
    assert_eq!(
        store.get(&Key::new("LIMIT#login#y", "W#0")).await.unwrap(),
        None
    );

    // A counter read, changed and written back whole, then counted again, reads exactly.
    let counter = Key::new("COUNTER", "ROUND");
    assert_eq!(store.increment(&counter, "last", 5, None).await.unwrap(), 5);
    let mut read = store.get(&counter).await.unwrap().unwrap();
    assert_eq!(read.data["last"], 5);
    read.data.insert("last".into(), 10.into());
    read.data.insert("note".into(), "reset by hand".into());
    store.put(read, Cond::Exists).await.unwrap();
    assert_eq!(
        store.increment(&counter, "last", 1, None).await.unwrap(),
        11
    );
    let back = store.get(&counter).await.unwrap().unwrap();
    assert_eq!(
        (back.data["last"].as_i64(), back.data["note"].as_str()),
        (Some(11), Some("reset by hand"))
    );
    let listed = store
        .query(&Query::partition("COUNTER").prefix("ROUND"))
        .await
        .unwrap();
    assert_eq!(
        listed.items[0].data["last"], 11,
        "a query reads it as get does"
    );
    // A second counter field on the same item counts on its own.
    assert_eq!(
        store.increment(&counter, "other", 2, None).await.unwrap(),
        2
    );
    assert_eq!(
        store.increment(&counter, "last", 1, None).await.unwrap(),
        12
    );
    let both = store.get(&counter).await.unwrap().unwrap();
    assert_eq!(
        (both.data["last"].as_i64(), both.data["other"].as_i64()),
        (Some(12), Some(2))
    );
}
