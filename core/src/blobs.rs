//! Files kept outside the table (attachments, secured documents), under random keys: a
//! folder (`.portal/blobs/`) on one machine, a private S3 bucket in AWS. Keys are made by the portal, never taken from a
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

/// Blobs as objects in a private S3 bucket (the choice in AWS).
#[derive(Debug, Clone)]
pub struct S3Blobs {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl S3Blobs {
    /// Blobs in `bucket`, with the environment's AWS settings (`AWS_ENDPOINT_URL` for a local
    /// server, which is addressed path-style).
    pub async fn from_env(bucket: &str) -> S3Blobs {
        let config = crate::aws::loader().load().await;
        let s3 = aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(std::env::var_os("AWS_ENDPOINT_URL").is_some())
            .build();
        S3Blobs::new(aws_sdk_s3::Client::from_conf(s3), bucket)
    }

    /// Blobs in `bucket` through `client`.
    pub fn new(client: aws_sdk_s3::Client, bucket: &str) -> S3Blobs {
        S3Blobs {
            client,
            bucket: bucket.to_string(),
        }
    }
}

fn s3_err(key: &str, e: impl std::error::Error) -> BlobError {
    BlobError {
        key: key.to_string(),
        message: aws_sdk_s3::error::DisplayErrorContext(e).to_string(),
    }
}

#[async_trait]
impl BlobStore for S3Blobs {
    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), BlobError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .body(bytes.into())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| s3_err(key, e))
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, BlobError> {
        match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => {
                let data = out.body.collect().await.map_err(|e| s3_err(key, e))?;
                Ok(Some(data.into_bytes().to_vec()))
            }
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(None),
            Err(e) => Err(s3_err(key, e)),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| s3_err(key, e))
    }
}

impl S3Blobs {
    /// Publishes `bytes` at `key` (any path) with the headers browsers and CDNs read.
    pub async fn publish(
        &self,
        key: &str,
        bytes: Vec<u8>,
        content_type: &str,
        cache_control: &str,
    ) -> Result<(), BlobError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .cache_control(cache_control)
            .body(bytes.into())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| s3_err(key, e))
    }

    /// Every key in the bucket with its ETag (quotes removed; the MD5 of the content, in hex,
    /// for objects uploaded in one part).
    pub async fn etags(&self) -> Result<std::collections::BTreeMap<String, String>, BlobError> {
        let mut out = std::collections::BTreeMap::new();
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| s3_err("", e))?;
            for object in page.contents() {
                if let Some(key) = object.key() {
                    let etag = object.e_tag().unwrap_or_default().trim_matches('"');
                    out.insert(key.to_string(), etag.to_string());
                }
            }
        }
        Ok(out)
    }
}

/// The blob store `spec` names: `folder:PATH` or `s3:BUCKET`.
pub async fn open(spec: &str) -> Result<std::sync::Arc<dyn BlobStore>, BlobError> {
    match spec.split_once(':') {
        Some(("folder", path)) if !path.is_empty() => {
            Ok(std::sync::Arc::new(FolderBlobs::new(path)))
        }
        Some(("s3", bucket)) if !bucket.is_empty() => {
            Ok(std::sync::Arc::new(S3Blobs::from_env(bucket).await))
        }
        _ => Err(BlobError {
            key: String::new(),
            message: format!("`{spec}` is not a blob store: use folder:PATH or s3:BUCKET"),
        }),
    }
}
