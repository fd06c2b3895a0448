//! The built site's files from memory: each file is read once (and, for text, compressed
//! once with brotli and gzip) when it is first asked for, then answered from memory with its
//! `ETag` and `Last-Modified`, a `304` to a client that has it, and the encoding the client
//! accepts (`Vary: Accept-Encoding`). Only builds write the site: each forgets every kept file
//! once it has replaced the site ([`FileCache::rebuilt`]), and a file read while a build
//! replaced it is not kept, so nothing stale is served.
//!
//! A CDN compresses for the deployed site, so the build writes plain files only (compressing
//! 10,000 pages would double the build's time); the local server compresses each file once.
//! Large files (over [`MAX_FILE`]), ranges and paths that need decoding are left to
//! `tower_http`'s `ServeDir`.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

use super::app::Served;

/// The largest file kept in memory.
pub const MAX_FILE: u64 = 1024 * 1024;
/// The most memory all kept files take together; past it, files are served from disk.
pub const MAX_TOTAL: usize = 256 * 1024 * 1024;
/// Files smaller than this are not worth compressing.
const MIN_COMPRESSED: usize = 256;

/// The files kept so far, by the path they were asked for.
#[derive(Default)]
pub struct FileCache {
    files: RwLock<HashMap<String, Arc<Kept>>>,
    total: AtomicUsize,
    /// Counts the builds: a file read during one build's swap is not kept.
    generation: AtomicU64,
    /// Held while a file is read and compressed, so that many clients asking for one file
    /// at once have it compressed once.
    reading: tokio::sync::Mutex<()>,
}

impl FileCache {
    fn get(&self, url: &str) -> Option<Arc<Kept>> {
        self.files
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(url)
            .cloned()
    }

    /// Forgets every kept file: called once a build has replaced the site.
    pub fn rebuilt(&self) {
        let mut files = self.files.write().unwrap_or_else(|e| e.into_inner());
        self.generation.fetch_add(1, Ordering::SeqCst);
        files.clear();
        self.total.store(0, Ordering::Relaxed);
    }

    /// Keeps `kept` for `url` unless a build replaced the site since `generation` was read,
    /// or memory is full.
    fn keep(&self, url: &str, kept: &Arc<Kept>, generation: u64) {
        let mut files = self.files.write().unwrap_or_else(|e| e.into_inner());
        if self.generation.load(Ordering::SeqCst) != generation
            || self.total.load(Ordering::Relaxed) + kept.size() > MAX_TOTAL
        {
            return;
        }
        self.total.fetch_add(kept.size(), Ordering::Relaxed);
        if let Some(old) = files.insert(url.to_string(), kept.clone()) {
            self.total.fetch_sub(old.size(), Ordering::Relaxed);
        }
    }
}

/// One file as kept: its headers and its bytes in each encoding.
struct Kept {
    modified: SystemTime,
    content_type: HeaderValue,
    etag: HeaderValue,
    last_modified: HeaderValue,
    plain: Bytes,
    br: Option<Bytes>,
    gzip: Option<Bytes>,
}

impl Kept {
    fn size(&self) -> usize {
        self.plain.len()
            + self.br.as_ref().map_or(0, Bytes::len)
            + self.gzip.as_ref().map_or(0, Bytes::len)
    }
}

/// The layer in front of the site's other layers (`axum::middleware::from_fn_with_state`):
/// a kept file is answered without touching the disk.
pub async fn from_memory(State(served): State<Arc<Served>>, req: Request, next: Next) -> Response {
    if (req.method() != Method::GET && req.method() != Method::HEAD)
        || req.headers().contains_key(header::RANGE)
    {
        return next.run(req).await;
    }
    let url = req.uri().path();
    let cache = &served.files;
    if let Some(k) = cache.get(url) {
        return answer(&k, req.method(), req.headers());
    }
    let generation = cache.generation.load(Ordering::SeqCst);
    let Some(path) = file_of(&served.site, url) else {
        return next.run(req).await;
    };
    let _reading = cache.reading.lock().await;
    if let Some(k) = cache.get(url) {
        return answer(&k, req.method(), req.headers());
    }
    let Ok(Ok(kept)) = tokio::task::spawn_blocking(move || keep(&path)).await else {
        return next.run(req).await;
    };
    let kept = Arc::new(kept);
    cache.keep(url, &kept, generation);
    answer(&kept, req.method(), req.headers())
}

/// The site file that `url` names, as the site's other layers would find it, when it can be
/// kept: a plain path (nothing to decode) to a file of at most [`MAX_FILE`]; a folder's
/// `index.html`; a page's `.html` (`/kb/name` is `kb/name.html`, as the CDN serves it).
fn file_of(site: &Path, url: &str) -> Option<PathBuf> {
    let rel = url.strip_prefix('/')?;
    if rel.contains(['%', '\\', '\0']) || rel.split('/').any(|s| s == ".." || s == ".") {
        return None;
    }
    let path = if rel.is_empty() || rel.ends_with('/') {
        site.join(rel).join("index.html")
    } else if !rel.rsplit('/').next().unwrap_or("").contains('.') {
        site.join(format!("{rel}.html"))
    } else {
        site.join(rel)
    };
    let meta = std::fs::metadata(&path).ok()?;
    (meta.is_file() && meta.len() <= MAX_FILE).then_some(path)
}

/// Reads the file at `path` and compresses it if it is text.
fn keep(path: &Path) -> std::io::Result<Kept> {
    let modified = std::fs::metadata(path)?.modified().unwrap_or(UNIX_EPOCH);
    let plain = std::fs::read(path)?;
    let mime = mime_guess::from_path(path).first_or_octet_stream();
    let text = mime.type_() == mime_guess::mime::TEXT
        || matches!(
            mime.subtype().as_str(),
            "javascript" | "json" | "xml" | "svg"
        )
        || mime.suffix().is_some_and(|s| s == "xml" || s == "json");
    let (br, gzip) = if text && plain.len() >= MIN_COMPRESSED {
        (Some(brotli(&plain)?), Some(gzip(&plain)?))
    } else {
        (None, None)
    };
    let content_type = mime.to_string();
    let since = modified.duration_since(UNIX_EPOCH).unwrap_or_default();
    Ok(Kept {
        modified,
        content_type: HeaderValue::from_str(&content_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
        etag: HeaderValue::from_str(&format!("\"{:x}-{:x}\"", plain.len(), since.as_nanos()))
            .expect("hex digits are a header value"),
        last_modified: HeaderValue::from_str(&httpdate::fmt_http_date(modified))
            .expect("an HTTP date is a header value"),
        plain: plain.into(),
        br: br.map(Bytes::from),
        gzip: gzip.map(Bytes::from),
    })
}

fn brotli(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(bytes.len() / 3);
    {
        // Quality 9 with a 1 MiB window (a kept file is at most that large): near the best
        // ratio, a few milliseconds for a page, once.
        let mut w = brotli::CompressorWriter::new(&mut out, 4096, 9, 20);
        w.write_all(bytes)?;
    }
    Ok(out)
}

fn gzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut w = flate2::write::GzEncoder::new(
        Vec::with_capacity(bytes.len() / 3),
        flate2::Compression::best(),
    );
    w.write_all(bytes)?;
    w.finish()
}

/// The encodings a client accepts, by `Accept-Encoding` (`q=0` refuses one).
fn accepts(headers: &HeaderMap, encoding: &str) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';').map(str::trim);
            let name = parts.next().unwrap_or("");
            let q = parts
                .find_map(|p| p.strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            (name.eq_ignore_ascii_case(encoding) || name == "*") && q > 0.0
        })
}

/// Whether the client has this version already (`If-None-Match`, else `If-Modified-Since`).
fn fresh(kept: &Kept, headers: &HeaderMap) -> bool {
    if let Some(tags) = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    {
        let ours = kept.etag.to_str().unwrap_or("");
        return tags
            .split(',')
            .map(|t| t.trim().trim_start_matches("W/"))
            .any(|t| t == "*" || t == ours);
    }
    headers
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| httpdate::parse_http_date(v).ok())
        .is_some_and(|since| {
            let secs = |t: SystemTime| t.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
            secs(kept.modified) <= secs(since)
        })
}

fn answer(kept: &Kept, method: &Method, headers: &HeaderMap) -> Response {
    let mut res = Response::new(Body::empty());
    let h = res.headers_mut();
    h.insert(header::ETAG, kept.etag.clone());
    h.insert(header::LAST_MODIFIED, kept.last_modified.clone());
    let compressible = kept.br.is_some() || kept.gzip.is_some();
    if compressible {
        h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    if fresh(kept, headers) {
        *res.status_mut() = StatusCode::NOT_MODIFIED;
        return res;
    }
    let (bytes, encoding) = match (&kept.br, &kept.gzip) {
        (Some(br), _) if accepts(headers, "br") => (br, Some("br")),
        (_, Some(gz)) if accepts(headers, "gzip") => (gz, Some("gzip")),
        _ => (&kept.plain, None),
    };
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, kept.content_type.clone());
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Some(e) = encoding {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static(e));
    }
    if method != Method::HEAD {
        *res.body_mut() = Body::from(bytes.clone());
    }
    res
}
