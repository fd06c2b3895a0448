//! Export and import of a whole store as JSON Lines — one item per line, with its keys,
//! version, expiry and data — and of the blob store's files as a folder beside it, so a
//! business can move from the embedded store to DynamoDB and S3 without losing a record or an
//! attachment.
//!
//! The folder holds each file under its blob key and a `SHA256SUMS` list (the format of
//! `sha256sum`, so `sha256sum -c SHA256SUMS` checks it by hand too); an import checks every
//! file against the list before it writes any.

use std::io::BufRead;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::blobs::{BlobError, BlobStore};

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

/// The list of files and their SHA-256 sums in an export's files folder.
pub const CHECKSUMS: &str = "SHA256SUMS";

fn file_err(path: &Path, message: impl std::fmt::Display) -> BlobError {
    BlobError {
        key: path.display().to_string(),
        message: message.to_string(),
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Writes every file of `blobs` into the folder `dir` (created; it must hold no export yet)
/// with its [`CHECKSUMS`] list; returns how many files and bytes.
pub async fn export_files(blobs: &dyn BlobStore, dir: &Path) -> Result<(u64, u64), BlobError> {
    if dir.join(CHECKSUMS).exists() {
        return Err(file_err(
            dir,
            "holds an export already; choose another folder",
        ));
    }
    std::fs::create_dir_all(dir).map_err(|e| file_err(dir, e))?;
    let mut sums = String::new();
    let (mut count, mut bytes) = (0, 0);
    for key in blobs.keys().await? {
        // A blob removed since the listing is no longer part of the store.
        let Some(content) = blobs.get(&key).await? else {
            continue;
        };
        let path = dir.join(&key);
        std::fs::write(&path, &content).map_err(|e| file_err(&path, e))?;
        sums.push_str(&format!("{}  {key}\n", sha256_hex(&content)));
        count += 1;
        bytes += content.len() as u64;
    }
    let list = dir.join(CHECKSUMS);
    std::fs::write(&list, sums).map_err(|e| file_err(&list, e))?;
    Ok((count, bytes))
}

/// Whether `key` is a key the portal makes (letters, digits, `-`, `_`).
fn is_blob_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 200
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The files of an export folder `dir` as (key, SHA-256 sum), each checked against the
/// folder's [`CHECKSUMS`]: a file whose sum differs, a listed file that is missing and a file
/// the list does not name are refused, naming the file (one file in memory at a time).
pub fn checked_files(dir: &Path) -> Result<Vec<(String, String)>, BlobError> {
    let list = dir.join(CHECKSUMS);
    let text = std::fs::read_to_string(&list).map_err(|e| file_err(&list, e))?;
    let mut files = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let at = |m: &str| BlobError {
            key: format!("{}:{}", list.display(), i + 1),
            message: m.to_string(),
        };
        let (sum, key) = line
            .split_once("  ")
            .ok_or_else(|| at("is not `SHA256  KEY`"))?;
        if sum.len() != 64 || !sum.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(at("the checksum is not 64 hexadecimal digits"));
        }
        if !is_blob_key(key) {
            return Err(at(&format!("`{key}` is not a blob key")));
        }
        let sum = sum.to_ascii_lowercase();
        read_checked(dir, key, &sum)?;
        files.push((key.to_string(), sum));
    }
    for entry in std::fs::read_dir(dir).map_err(|e| file_err(dir, e))? {
        let entry = entry.map_err(|e| file_err(dir, e))?;
        let name = entry.file_name().to_string_lossy().to_string();
        if name != CHECKSUMS && !files.iter().any(|(k, _)| *k == name) {
            return Err(file_err(
                &entry.path(),
                format!("is not in {CHECKSUMS}; nothing was imported"),
            ));
        }
    }
    Ok(files)
}

/// The content of file `key` in `dir`, if its SHA-256 sum is `sum`.
fn read_checked(dir: &Path, key: &str, sum: &str) -> Result<Vec<u8>, BlobError> {
    let path = dir.join(key);
    let content = std::fs::read(&path).map_err(|e| file_err(&path, e))?;
    if sha256_hex(&content) != sum {
        return Err(file_err(
            &path,
            format!("its SHA-256 sum is not the one {CHECKSUMS} gives: the file changed after the export"),
        ));
    }
    Ok(content)
}

/// Puts the files `dir` holds, as [`checked_files`] listed them, into `blobs`, checking each
/// sum again as it is read; returns how many. Keys are random, so a file already there is
/// the same file, put again: an import can be run again.
pub async fn import_files(
    blobs: &dyn BlobStore,
    dir: &Path,
    files: &[(String, String)],
) -> Result<u64, BlobError> {
    let mut count = 0;
    for (key, sum) in files {
        blobs.put(key, read_checked(dir, key, sum)?).await?;
        count += 1;
    }
    Ok(count)
}
