//! Export and import of a whole store as JSON Lines — one item per line, with its keys,
//! version, expiry and data — so a business can move from the embedded store to DynamoDB.

use std::io::BufRead;

use crate::store::{Item, Store, StoreError, StoreResult, Write, MAX_TRANSACTION};

/// Items read per scan page.
const PAGE: usize = 500;

/// Writes every live item of `store` to `out`, one JSON object a line; returns the count.
pub async fn export(store: &dyn Store, out: &mut dyn std::io::Write) -> StoreResult<u64> {
    let mut cursor = None;
    let mut count = 0;
    loop {
        let (items, next) = store.scan(cursor, PAGE).await?;
        for item in &items {
            let line = serde_json::to_string(item).map_err(|e| StoreError::Backend {
                store: store.name(),
                message: e.to_string(),
            })?;
            writeln!(out, "{line}").map_err(|e| StoreError::Backend {
                store: "export file".into(),
                message: e.to_string(),
            })?;
            count += 1;
        }
        match next {
            Some(n) => cursor = Some(n),
            None => return Ok(count),
        }
    }
}

/// Reads items from `input` (as [`export`] writes them) into `store`, versions and expiries
/// as they were. Every line is checked before anything is written; an item that already
/// exists in the store stops the import (it never overwrites). Returns the count.
pub async fn import(store: &dyn Store, input: &mut dyn BufRead) -> StoreResult<u64> {
    let mut items = Vec::new();
    for (i, line) in input.lines().enumerate() {
        let line = line.map_err(|e| StoreError::BadRequest(format!("line {}: {e}", i + 1)))?;
        if line.trim().is_empty() {
            continue;
        }
        let item: Item = serde_json::from_str(&line).map_err(|e| {
            StoreError::BadRequest(format!("line {}: not an exported item: {e}", i + 1))
        })?;
        items.push(item);
    }
    let total = items.len() as u64;
    for chunk in items.chunks(MAX_TRANSACTION) {
        let writes = chunk.iter().cloned().map(Write::Restore).collect();
        store.transact(writes).await?;
    }
    Ok(total)
}
