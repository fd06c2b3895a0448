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
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

/// The largest file kept in memory.
pub const MAX_FILE: u64 = 1024 * 1024;
/// The most memory all kept files take together; past it, files are served from disk.
pub const MAX_TOTAL: usize = 256 * 1024 * 1024;
/// Files smaller than this are not worth compressing.
const MIN_COMPRESSED: usize = 256;
/// What an entry costs beyond its bytes and its name (headers, map slot), counted so that
/// many small files cannot outgrow [`MAX_TOTAL`].
const ENTRY_OVERHEAD: usize = 512;

/// The site's files kept so far, by their path inside the site.
pub struct FileCache {
    /// The built site.
    site: PathBuf,
    files: RwLock<HashMap<String, Arc<Kept>>>,
    /// The addresses answered from `files` so far, by their path. Each reached this layer,
    /// behind the router, so no function route claims it: [`by_address`] answers it again in
    /// front of the router.
    addresses: RwLock<HashMap<String, Arc<Kept>>>,
    total: AtomicUsize,
    /// Counts the builds: a file read during one build's swap is not kept.
    generation: AtomicU64,
    /// Held while a file is read and compressed (until the work ends, even if its client
    /// has gone), so that many clients asking for one file at once have it compressed once
    /// and clients that leave cannot start compressions without end.
    reading: Arc<tokio::sync::Mutex<()>>,
}

impl FileCache {
    /// An empty cache of the site in `site`.
    pub fn new(site: PathBuf) -> FileCache {
        FileCache {
            site,
            files: Default::default(),
            addresses: Default::default(),
            total: Default::default(),
            generation: Default::default(),
            reading: Default::default(),
        }
    }

    fn get(&self, file: &str) -> Option<Arc<Kept>> {
        self.files
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(file)
            .cloned()
    }

    /// Whether memory has room for more files.
    fn has_room(&self) -> bool {
        self.total.load(Ordering::Relaxed) < MAX_TOTAL
    }

    /// Forgets every kept file: called once a build has replaced the site.
    pub fn rebuilt(&self) {
        let mut files = self.files.write().unwrap_or_else(|e| e.into_inner());
        let mut addresses = self.addresses.write().unwrap_or_else(|e| e.into_inner());
        self.generation.fetch_add(1, Ordering::SeqCst);
        files.clear();
        addresses.clear();
        self.total.store(0, Ordering::Relaxed);
    }

    /// Notes that the address `path` was answered with `kept` behind the router, unless a
    /// build replaced the site since `generation` was read or memory is full.
    fn answered(&self, path: &str, kept: &Arc<Kept>, generation: u64) {
        if self
            .addresses
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .contains_key(path)
        {
            return;
        }
        // `rebuilt` changes the generation while holding this lock: checked under it, the
        // generation says whether the site is still the one `kept` came from.
        let mut addresses = self.addresses.write().unwrap_or_else(|e| e.into_inner());
        let size = path.len() + ENTRY_OVERHEAD;
        if self.generation.load(Ordering::SeqCst) == generation
            && self.total.load(Ordering::Relaxed) + size <= MAX_TOTAL
            && addresses.insert(path.to_string(), kept.clone()).is_none()
        {
            self.total.fetch_add(size, Ordering::Relaxed);
        }
    }

    /// Keeps `kept` as `file` unless a build replaced the site since `generation` was read
    /// (then it may be the old file: the caller answers from disk), or memory is full.
    fn keep(&self, file: &str, kept: &Arc<Kept>, generation: u64) -> bool {
        let mut files = self.files.write().unwrap_or_else(|e| e.into_inner());
        if self.generation.load(Ordering::SeqCst) != generation {
            return false;
        }
        let size = kept.size() + file.len() + ENTRY_OVERHEAD;
        if self.total.load(Ordering::Relaxed) + size <= MAX_TOTAL
            && files.insert(file.to_string(), kept.clone()).is_none()
        {
            self.total.fetch_add(size, Ordering::Relaxed);
        }
        true
    }
}

/// One file as kept: its headers and its bytes in each encoding.
struct Kept {
    modified: SystemTime,
    content_type: HeaderValue,
    /// The `ETag` of each encoding (plain, brotli, gzip): each is its own representation.
    etags: [HeaderValue; 3],
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
pub async fn from_memory(
    State(cache): State<Arc<FileCache>>,
    req: Request,
    next: Next,
) -> Response {
    if (req.method() != Method::GET && req.method() != Method::HEAD)
        || req.headers().contains_key(header::RANGE)
    {
        return next.run(req).await;
    }
    let Some(file) = file_of(req.uri().path()) else {
        return next.run(req).await;
    };
    let generation = cache.generation.load(Ordering::SeqCst);
    if let Some(k) = cache.get(&file) {
        cache.answered(req.uri().path(), &k, generation);
        return answer(&k, req.method(), req.headers());
    }
    let path = cache.site.join(&file);
    let fits = std::fs::metadata(&path).is_ok_and(|m| m.is_file() && m.len() <= MAX_FILE);
    if !fits || !cache.has_room() {
        return next.run(req).await;
    }
    let reading = cache.reading.clone().lock_owned().await;
    if let Some(k) = cache.get(&file) {
        return answer(&k, req.method(), req.headers());
    }
    let read = tokio::task::spawn_blocking(move || {
        let _reading = reading;
        keep(&path)
    });
    match read.await {
        Ok(Ok(kept)) => {
            let kept = Arc::new(kept);
            if cache.keep(&file, &kept, generation) {
                cache.answered(req.uri().path(), &kept, generation);
                answer(&kept, req.method(), req.headers())
            } else {
                next.run(req).await
            }
        }
        _ => next.run(req).await,
    }
}

/// In front of the router: the answer to a `GET` or `HEAD` of an address [`from_memory`]
/// answered before (so a site file no function route claims), from memory; `None` for any
/// other request, which goes on to the router.
pub fn by_address(cache: &FileCache, req: &Request) -> Option<Response> {
    if (req.method() != Method::GET && req.method() != Method::HEAD)
        || req.headers().contains_key(header::RANGE)
    {
        return None;
    }
    let kept = cache
        .addresses
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .get(req.uri().path())
        .cloned()?;
    Some(answer(&kept, req.method(), req.headers()))
}

/// The site file (relative to the site) that `url` names, as the site's other layers would
/// find it: a plain path (nothing to decode, no empty, `.` or `..` segment, so never a path
/// outside the site); a folder's `index.html`; a page's `.html` (`/kb/name` is
/// `kb/name.html`, as the CDN serves it). Whether it exists is for the caller to see.
fn file_of(url: &str) -> Option<String> {
    let rel = url.strip_prefix('/')?;
    let (folders, last) = match rel.rsplit_once('/') {
        Some((folders, last)) => (Some(folders), last),
        None => (None, rel),
    };
    let plain =
        |s: &str| !s.is_empty() && s != "." && s != ".." && !s.contains(['%', '\\', '\0', ':']);
    if !folders.is_none_or(|f| f.split('/').all(plain)) || !(last.is_empty() || plain(last)) {
        return None;
    }
    let file = if last.is_empty() {
        format!("{rel}index.html")
    } else if !last.contains('.') {
        format!("{rel}.html")
    } else {
        rel.to_string()
    };
    let safe = Path::new(&file)
        .components()
        .all(|c| matches!(c, Component::Normal(_)));
    safe.then_some(file)
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
    let tag = format!("{:x}-{:x}", plain.len(), since.as_nanos());
    let etag = |suffix: &str| {
        HeaderValue::from_str(&format!("\"{tag}{suffix}\"")).expect("hex digits are a header value")
    };
    Ok(Kept {
        modified,
        content_type: HeaderValue::from_str(&content_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
        etags: [etag(""), etag("-br"), etag("-gzip")],
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

/// Whether a client accepts `encoding`, by `Accept-Encoding`: named with a weight above 0, or
/// not named and `*` is (RFC 9110, 12.5.3).
fn accepts(headers: &HeaderMap, encoding: &str) -> bool {
    let mut named = None;
    let mut any = None;
    for item in headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
    {
        let mut parts = item.split(';').map(str::trim);
        let name = parts.next().unwrap_or("");
        let q = parts
            .find_map(|p| {
                let (k, v) = p.split_once('=')?;
                k.trim().eq_ignore_ascii_case("q").then(|| v.trim())
            })
            .map_or(1.0, |q| q.parse::<f32>().unwrap_or(0.0));
        if name.eq_ignore_ascii_case(encoding) {
            named = Some(q > 0.0);
        } else if name == "*" {
            any = Some(q > 0.0);
        }
    }
    named.or(any).unwrap_or(false)
}

/// Whether the client has this version already: `If-None-Match` (any of its lines), else
/// `If-Modified-Since`.
fn fresh(etag: &HeaderValue, modified: SystemTime, headers: &HeaderMap) -> bool {
    let mut tags = headers.get_all(header::IF_NONE_MATCH).iter().peekable();
    if tags.peek().is_some() {
        let ours = etag.to_str().unwrap_or("");
        return tags
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|t| t.trim().trim_start_matches("W/"))
            .any(|t| t == "*" || t == ours);
    }
    headers
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| httpdate::parse_http_date(v).ok())
        .is_some_and(|since| {
            let secs = |t: SystemTime| t.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
            secs(modified) <= secs(since)
        })
}

/// The answer from a kept file: the encoding the client takes, with that encoding's own
/// `ETag` (`"…-br"`: each encoding is its own representation), or a `304`.
fn answer(kept: &Kept, method: &Method, headers: &HeaderMap) -> Response {
    let [plain, br, gzip] = &kept.etags;
    let (bytes, encoding, etag) = match (&kept.br, &kept.gzip) {
        (Some(bytes), _) if accepts(headers, "br") => (bytes, Some("br"), br),
        (_, Some(bytes)) if accepts(headers, "gzip") => (bytes, Some("gzip"), gzip),
        _ => (&kept.plain, None, plain),
    };
    let etag = etag.clone();
    let mut res = Response::new(Body::empty());
    let fresh = fresh(&etag, kept.modified, headers);
    let h = res.headers_mut();
    h.insert(header::ETAG, etag);
    h.insert(header::LAST_MODIFIED, kept.last_modified.clone());
    if kept.br.is_some() || kept.gzip.is_some() {
        h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    if fresh {
        *res.status_mut() = StatusCode::NOT_MODIFIED;
        return res;
    }
    h.insert(header::CONTENT_TYPE, kept.content_type.clone());
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
    match encoding {
        Some(e) => {
            h.insert(header::CONTENT_ENCODING, HeaderValue::from_static(e));
        }
        // Ranges are served from disk, of the plain file only.
        None => {
            h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
        }
    }
    if method != Method::HEAD {
        *res.body_mut() = Body::from(bytes.clone());
    }
    res
}
