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
    random_operations_match_a_model,
    export_then_import_gives_the_same_items,
);

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
