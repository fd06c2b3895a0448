//! The store's conformance suite: the same behaviours, run against the embedded SQLite
//! backend and against DynamoDB (the `moto` server the test command starts; its address in
//! `PORTAL_TEST_DYNAMODB`).

mod behaviours;
mod common;

/// Runs each named behaviour on both backends.
macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let backend = crate::common::sqlite();
                    crate::behaviours::$name(backend.store.clone()).await;
                }
            )*
        }
        mod dynamodb {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let backend = crate::common::dynamodb().await;
                    crate::behaviours::$name(backend.store.clone()).await;
                }
            )*
        }
    };
}

conformance!(
    put_and_get_with_conditions,
    delete_with_conditions,
    query_ranges_order_and_cursors,
    transaction_is_all_or_nothing,
    transaction_shape_is_checked,
    expired_items_are_invisible,
    concurrent_writers_lose_no_update,
    increments_are_atomic_and_create_the_counter,
    random_operations_match_a_model,
    export_then_import_gives_the_same_items,
    a_snapshot_reads_its_partition_as_the_store_does,
    counters_step_inside_transactions_under_a_ceiling,
);

/// The embedded store answers reads it has made before from memory; a commit by any other
/// connection, as `portal admin` makes from another process, must show at once.
mod read_cache {
    use portal_core::store::{Cond, Item, Key, Query, SqliteStore, Store};

    fn item(sk: &str, n: i64) -> Item {
        let mut data = portal_core::store::Attrs::new();
        data.insert("n".into(), n.into());
        Item::new("P", sk, data)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn another_connections_commits_show_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("portal.db");
        let server = SqliteStore::open(&path).unwrap();
        let admin = SqliteStore::open(&path).unwrap();
        let a = Key::new("P", "A");
        let page = Query::partition("P");
        for round in 1..=50 {
            // Read (and so remember) the item and the partition, then change both elsewhere.
            let before = server.get(&a).await.unwrap();
            assert_eq!(
                before.map(|i| i.data["n"].clone()),
                (round > 1).then(|| (round - 1).into())
            );
            server.query(&page).await.unwrap();
            admin.put(item("A", round), Cond::None).await.unwrap();
            admin
                .put(item(&format!("B{round:03}"), round), Cond::None)
                .await
                .unwrap();
            let after = server.get(&a).await.unwrap().unwrap();
            assert_eq!(after.data["n"], round, "round {round}");
            assert_eq!(
                server.query(&page).await.unwrap().items.len(),
                1 + round as usize
            );
        }
        // A plain SQLite connection, as any other program would write.
        rusqlite::Connection::open(&path)
            .unwrap()
            .execute("DELETE FROM items WHERE pk = 'P' AND sk = 'A'", [])
            .unwrap();
        assert_eq!(server.get(&a).await.unwrap(), None);
        assert_eq!(server.query(&page).await.unwrap().items.len(), 50);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn its_own_writes_show_at_once_under_concurrent_reads() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("portal.db")).unwrap();
        store.put(item("A", 0), Cond::None).await.unwrap();
        let readers: Vec<_> = (0..4)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(async move {
                    let mut last = 0;
                    for _ in 0..500 {
                        let n = store.get(&Key::new("P", "A")).await.unwrap().unwrap().data["n"]
                            .as_i64()
                            .unwrap();
                        assert!(n >= last, "went back from {last} to {n}");
                        last = n;
                    }
                })
            })
            .collect();
        for n in 1..=200 {
            store.put(item("A", n), Cond::None).await.unwrap();
            let seen = store.get(&Key::new("P", "A")).await.unwrap().unwrap();
            assert_eq!(seen.data["n"], n);
        }
        for r in readers {
            r.await.unwrap();
        }
    }
}

mod errors {
    use portal_core::store::{Key, SqliteStore, Store};

    #[tokio::test]
    async fn corrupt_sqlite_file_names_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("portal.db");
        std::fs::write(&path, vec![0x42u8; 8192]).unwrap();
        let err = SqliteStore::open(&path).unwrap_err().to_string();
        assert!(
            err.contains(&format!("sqlite:{}", path.display())) && err.contains("not a database"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn undecodable_item_names_store_and_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("portal.db");
        let store = SqliteStore::open(&path).unwrap();
        rusqlite::Connection::open(&path)
            .unwrap()
            .execute("INSERT INTO items (pk, sk, v, ttl, data) VALUES ('CUSTOMER#1', 'PROFILE', 1, NULL, '{broken')", [])
            .unwrap();
        let err = store
            .get(&Key::new("CUSTOMER#1", "PROFILE"))
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("CUSTOMER#1 / PROFILE") && err.contains("cannot be decoded"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn missing_dynamodb_table_says_what_to_do() {
        let backend = crate::common::dynamodb_without_table().await;
        let err = backend
            .get(&Key::new("a", "b"))
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("does not exist; run `portal admin init`"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn sqlite_export_imports_into_dynamodb_unchanged() {
        let sqlite = crate::common::sqlite();
        crate::behaviours::fill(&*sqlite.store, 60).await;
        let mut first = Vec::new();
        portal_core::transfer::export(&*sqlite.store, &mut first)
            .await
            .unwrap();
        let dynamo = crate::common::dynamodb().await;
        let n = portal_core::transfer::import(&*dynamo.store, &mut first.as_slice())
            .await
            .unwrap();
        assert_eq!(n, 60);
        let mut second = Vec::new();
        portal_core::transfer::export(&*dynamo.store, &mut second)
            .await
            .unwrap();
        assert_eq!(
            String::from_utf8(first).unwrap(),
            String::from_utf8(second).unwrap()
        );
    }
}

/// Files round-trip through both blob stores: a folder, and S3 on the local AWS API.
#[tokio::test]
async fn blobs_round_trip_in_a_folder_and_in_s3() {
    use portal_core::blobs::{BlobStore, FolderBlobs, S3Blobs};
    let dir = tempfile::tempdir().unwrap();
    let config = aws_sdk_s3::Config::builder()
        .http_client(portal_core::aws::http_client())
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .endpoint_url(common::endpoint())
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            "test", "test", None, None, "test",
        ))
        .force_path_style(true)
        .build();
    let client = aws_sdk_s3::Client::from_conf(config);
    let bucket = format!("blobs-{}", std::process::id());
    client.create_bucket().bucket(&bucket).send().await.unwrap();
    let stores: Vec<Box<dyn BlobStore>> = vec![
        Box::new(FolderBlobs::new(dir.path().join("blobs"))),
        Box::new(S3Blobs::new(client, &bucket)),
    ];
    for blobs in stores {
        assert_eq!(blobs.get("missing0").await.unwrap(), None);
        blobs.put("file1", b"first".to_vec()).await.unwrap();
        blobs.put("file1", b"second".to_vec()).await.unwrap();
        assert_eq!(
            blobs.get("file1").await.unwrap().as_deref(),
            Some(&b"second"[..])
        );
        blobs.delete("file1").await.unwrap();
        blobs.delete("file1").await.unwrap();
        assert_eq!(blobs.get("file1").await.unwrap(), None, "{blobs:?}");
    }
    let folder = FolderBlobs::new(dir.path().join("blobs"));
    assert!(
        folder.put("../escape", b"x".to_vec()).await.is_err(),
        "keys cannot climb out"
    );
}

/// A confined store, as IAM's leading-key condition confines a function: its partitions
/// work as ever; any other is refused, a transaction touching one is refused whole, and it
/// may not scan.
#[tokio::test]
async fn a_confined_store_touches_only_its_partitions() {
    use portal_core::store::{Cond, Confined, Item, Key, Query, SkRange, Store, Write};
    let backend = common::sqlite();
    backend.store.init().await.unwrap();
    let store = Confined::new(backend.store.clone(), "issues", &["ISSUE#*", "OUTBOX"]);
    let item = |pk: &str| Item::new(pk, "A", serde_json::Map::new());
    store.put(item("ISSUE#1"), Cond::None).await.unwrap();
    store.put(item("OUTBOX"), Cond::None).await.unwrap();
    assert!(store
        .get(&Key::new("ISSUE#1", "A"))
        .await
        .unwrap()
        .is_some());
    let refused = store
        .get(&Key::new("LOGIN#ada@example.com", "LOGIN"))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        refused.contains("AccessDenied")
            && refused.contains("`LOGIN#ada@example.com`")
            && refused.contains("issues"),
        "{refused}"
    );
    assert!(
        store.put(item("OUTBOXES"), Cond::None).await.is_err(),
        "exact names are exact"
    );
    let query = Query {
        pk: "CUSTOMER#c1".into(),
        range: SkRange::All,
        limit: 10,
        descending: false,
        cursor: None,
    };
    assert!(store.query(&query).await.is_err());
    assert!(store
        .increment(&Key::new("COUNTER#X", "C"), "n", 1, None)
        .await
        .is_err());
    // One write outside makes the whole transaction refused: nothing of it is written.
    let writes = vec![
        Write::Put(item("ISSUE#2"), Cond::NotExists),
        Write::Put(item("LOGIN#x"), Cond::None),
    ];
    assert!(store.transact(writes).await.is_err());
    assert!(backend
        .store
        .get(&Key::new("ISSUE#2", "A"))
        .await
        .unwrap()
        .is_none());
    assert!(store.scan(None, 10).await.is_err());
}
