//! Files kept outside the table (attachments, secured documents), under random keys: a
//! folder (`.portal/blobs/`) on one machine, a private S3 bucket in AWS. Keys are made by the portal, never taken from a
//! file name, so they cannot point outside the folder.

use std::path::PathBuf;
use std::time::Duration;

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

/// A request a browser makes itself to put a file in the store (a presigned S3 `PUT`), so
/// the file never passes through a function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectUpload {
    /// The method, `PUT`.
    pub method: String,
    /// Where to send the file.
    pub url: String,
    /// Headers to send with it, exactly (they are signed).
    pub headers: Vec<(String, String)>,
}

/// The tag an object uploaded by a browser carries; the bucket's lifecycle rule removes such
/// objects after a day. A submission that takes the file keeps the bytes it checked under a
/// new key of its own, without the tag, and removes the upload.
pub const PENDING_TAG: (&str, &str) = ("portal", "pending");

/// Where files are kept.
#[async_trait]
pub trait BlobStore: Send + Sync + std::fmt::Debug {
    /// Stores `bytes` under `key`, replacing what was there.
    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), BlobError>;
    /// The bytes under `key`, if any.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, BlobError>;
    /// Removes `key` (no error if it is not there).
    async fn delete(&self, key: &str) -> Result<(), BlobError>;
    /// The size of the blob under `key`, if there is one.
    async fn size(&self, key: &str) -> Result<Option<u64>, BlobError>;
    /// Every key in the store, sorted (for export: the functions never list).
    async fn keys(&self) -> Result<Vec<String>, BlobError>;

    /// A request that lets a browser put `size` bytes of `media_type` under `key` itself, for
    /// `valid` from now; `None` where the store offers none (the portal takes the file then).
    async fn upload_url(
        &self,
        _key: &str,
        _media_type: &str,
        _size: u64,
        _valid: Duration,
    ) -> Result<Option<DirectUpload>, BlobError> {
        Ok(None)
    }

    /// A link that downloads `key` as an attachment named `file_name` of `media_type`, for
    /// `valid` from now; `None` where the store offers none (the portal sends the file then).
    async fn download_url(
        &self,
        _key: &str,
        _file_name: &str,
        _media_type: &str,
        _valid: Duration,
    ) -> Result<Option<String>, BlobError> {
        Ok(None)
    }

    /// Whether browsers send files to this store themselves ([`BlobStore::upload_url`]), so
    /// the portal takes none through its own upload route.
    fn takes_direct_uploads(&self) -> bool {
        false
    }
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
        let tmp = path.with_extension(format!("{}.part", crate::records::random_token()));
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

    async fn keys(&self) -> Result<Vec<String>, BlobError> {
        let mut entries = match tokio::fs::read_dir(&self.root).await {
            Ok(d) => d,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io("", e)),
        };
        let mut keys = Vec::new();
        while let Some(entry) = entries.next_entry().await.map_err(|e| io("", e))? {
            // Files being written (`KEY.TOKEN.part`) are not blobs yet.
            if let Some(name) = entry.file_name().to_str() {
                if self.path(name).is_ok() && entry.path().is_file() {
                    keys.push(name.to_string());
                }
            }
        }
        keys.sort();
        Ok(keys)
    }

    async fn size(&self, key: &str) -> Result<Option<u64>, BlobError> {
        match tokio::fs::metadata(self.path(key)?).await {
            Ok(m) => Ok(Some(m.len())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(key, e)),
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

    async fn size(&self, key: &str) -> Result<Option<u64>, BlobError> {
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => Ok(Some(out.content_length().unwrap_or(0).max(0) as u64)),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Ok(None),
            // Without the right to list the bucket (the functions have none), S3 answers a
            // missing key with 403.
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 403) => Ok(None),
            Err(e) => Err(s3_err(key, e)),
        }
    }

    async fn keys(&self) -> Result<Vec<String>, BlobError> {
        Ok(self.etags().await?.into_keys().collect())
    }

    async fn upload_url(
        &self,
        key: &str,
        media_type: &str,
        size: u64,
        valid: Duration,
    ) -> Result<Option<DirectUpload>, BlobError> {
        let config = presigning(key, valid)?;
        let request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(media_type)
            .content_length(i64::try_from(size).unwrap_or(i64::MAX))
            .tagging(format!("{}={}", PENDING_TAG.0, PENDING_TAG.1))
            .presigned(config)
            .await
            .map_err(|e| s3_err(key, e))?;
        Ok(Some(DirectUpload {
            method: request.method().to_string(),
            url: request.uri().to_string(),
            // The browser sets the length and the host itself (it may not write them).
            headers: request
                .headers()
                .filter(|(name, _)| {
                    !name.eq_ignore_ascii_case("content-length")
                        && !name.eq_ignore_ascii_case("host")
                })
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
        }))
    }

    async fn download_url(
        &self,
        key: &str,
        file_name: &str,
        media_type: &str,
        valid: Duration,
    ) -> Result<Option<String>, BlobError> {
        let config = presigning(key, valid)?;
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .response_content_disposition(attachment(file_name))
            .response_content_type(media_type)
            .response_cache_control("private, no-store")
            .presigned(config)
            .await
            .map_err(|e| s3_err(key, e))?;
        Ok(Some(request.uri().to_string()))
    }

    fn takes_direct_uploads(&self) -> bool {
        true
    }
}

fn presigning(
    key: &str,
    valid: Duration,
) -> Result<aws_sdk_s3::presigning::PresigningConfig, BlobError> {
    aws_sdk_s3::presigning::PresigningConfig::expires_in(valid).map_err(|e| BlobError {
        key: key.to_string(),
        message: e.to_string(),
    })
}

/// A `Content-Disposition` that makes a browser save the file as `file_name`: an ASCII
/// `filename` (quotes and backslashes replaced, other characters dropped) and, for a name
/// that is not plain ASCII, its UTF-8 form in `filename*` (RFC 6266).
///
/// ```
/// use portal_core::blobs::attachment;
/// assert_eq!(attachment("plan.pdf"), "attachment; filename=\"plan.pdf\"");
/// assert_eq!(
///     attachment("Kostenplan ä.pdf"),
///     "attachment; filename=\"Kostenplan .pdf\"; filename*=UTF-8''Kostenplan%20%C3%A4.pdf"
/// );
/// ```
pub fn attachment(file_name: &str) -> String {
    let name: String = file_name
        .chars()
        .map(|c| if matches!(c, '"' | '\\') { '_' } else { c })
        .filter(|c| c.is_ascii() && !c.is_ascii_control())
        .collect();
    if file_name.is_ascii() {
        return format!("attachment; filename=\"{name}\"");
    }
    let encoded: String = file_name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("attachment; filename=\"{name}\"; filename*=UTF-8''{encoded}")
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
