//! Files kept outside the table (attachments, secured documents), under random keys: a
//! folder (`.portal/blobs/`) on one machine. Keys are made by the portal, never taken from a
//! file name, so they cannot point outside the folder.

use std::path::PathBuf;

use async_trait::async_trait;

/// A blob operation failed.
#[derive(Debug, thiserror::Error)]
#[error("blob {key}: {message}")]
pub struct BlobError {
    /// The blob.
    pub key: String,
    /// What went wrong.
    pub message: String,
}

/// Where files are kept.
#[async_trait]
pub trait BlobStore: Send + Sync + std::fmt::Debug {
    /// Stores `bytes` under `key`, replacing what was there.
    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), BlobError>;
    /// The bytes under `key`, if any.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, BlobError>;
    /// Removes `key` (no error if it is not there).
    async fn delete(&self, key: &str) -> Result<(), BlobError>;
}

/// Blobs as files in a folder.
#[derive(Debug, Clone)]
pub struct FolderBlobs {
    root: PathBuf,
}

impl FolderBlobs {
    /// Blobs under `root` (created on first write).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        FolderBlobs { root: root.into() }
    }

    fn path(&self, key: &str) -> Result<PathBuf, BlobError> {
        let ok = !key.is_empty()
            && key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if ok {
            Ok(self.root.join(key))
        } else {
            Err(BlobError {
                key: key.to_string(),
                message: "not a blob key".into(),
            })
        }
    }
}

fn io(key: &str, e: std::io::Error) -> BlobError {
    BlobError {
        key: key.to_string(),
        message: e.to_string(),
    }
}

#[async_trait]
impl BlobStore for FolderBlobs {
    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), BlobError> {
        let path = self.path(key)?;
        tokio::fs::create_dir_all(&self.root)
            .await
            .map_err(|e| io(key, e))?;
        // Written aside and renamed, so a reader never sees half a file.
        let tmp = path.with_extension("part");
        tokio::fs::write(&tmp, bytes)
            .await
            .map_err(|e| io(key, e))?;
        tokio::fs::rename(&tmp, &path).await.map_err(|e| io(key, e))
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, BlobError> {
        match tokio::fs::read(self.path(key)?).await {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(key, e)),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        match tokio::fs::remove_file(self.path(key)?).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io(key, e)),
            _ => Ok(()),
        }
    }
}
