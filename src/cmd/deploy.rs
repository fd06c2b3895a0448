//! `portal deploy-site`: builds, uploads to the site's S3 bucket what changed since the last
//! upload, with the right content types and cache headers (removing what the build no longer
//! has), assembles the functions' bundle (`OUT/bundle/site`: site data, both search indexes,
//! the private pages and the theme) for the Lambda layer the AWS template deploys, and asks
//! CloudFront to forget the changed pages. `portal bundle` only assembles the bundle.

use std::path::{Path, PathBuf};

use anyhow::Context;
use portal_core::blobs::S3Blobs;

use crate::cli::SiteArgs;

/// The content type of a file, by its extension.
fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "pdf" => "application/pdf",
        "ics" => "text/calendar; charset=utf-8",
        "xml" => "application/xml",
        "json" => "application/json",
        "txt" => "text/plain; charset=utf-8",
        "csv" => "text/csv; charset=utf-8",
        "woff2" => "font/woff2",
        _ => "application/octet-stream",
    }
}

/// Whether `key` is a theme file under its content-hashed name (`static/style.0123456789.css`):
/// a new version gets a new name, so the old one may be kept forever.
fn is_hashed_asset(key: &str) -> bool {
    let Some(name) = key.strip_prefix("static/") else {
        return false;
    };
    let name = name.rsplit('/').next().unwrap_or(name);
    let mut parts = name.rsplit('.');
    let (last, before) = (parts.next(), parts.next());
    let is_hash = |s: &str| {
        s.len() == 10
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    match (last, before) {
        (Some(_), Some(h)) if is_hash(h) => true,
        (Some(h), Some(_)) => is_hash(h),
        _ => false,
    }
}

/// How long browsers and CloudFront may keep a file: hashed theme files forever, pages and
/// feeds briefly (edits show within minutes), other theme files and documents for a day.
fn cache_control(key: &str) -> &'static str {
    if is_hashed_asset(key) {
        "public, max-age=31536000, immutable"
    } else if key.starts_with("static/") || key.starts_with("documents/") {
        "public, max-age=86400"
    } else {
        "public, max-age=300"
    }
}

/// The MD5 of `bytes` in hex, as S3 reports it as the ETag of a one-part upload.
fn md5_hex(bytes: &[u8]) -> String {
    use md5::Digest;
    md5::Md5::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The paths CloudFront caches `key` under: the file, and for pages also the address the
/// viewer-request function serves it at (`/kb/x` for `kb/x.html`, `/kb/` for `kb/index.html`).
fn cdn_paths(key: &str) -> Vec<String> {
    let mut paths = vec![format!("/{key}")];
    if let Some(stem) = key.strip_suffix(".html") {
        match stem.strip_suffix("index") {
            Some(dir) if dir.is_empty() || dir.ends_with('/') => paths.push(format!("/{dir}")),
            _ => paths.push(format!("/{stem}")),
        }
    }
    paths
}

/// Past this many paths one invalidation of everything (`/*`, priced as one path) is cheaper.
const MAX_PATHS: usize = 100;

fn files(root: &Path) -> anyhow::Result<Vec<(String, PathBuf)>> {
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(root) {
        let entry = entry.with_context(|| format!("cannot read {}", root.display()))?;
        if entry.file_type().is_file() {
            let rel = entry.path().strip_prefix(root).expect("below the root");
            let key = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            out.push((key, entry.path().to_path_buf()));
        }
    }
    out.sort();
    Ok(out)
}

fn copy_tree(from: &Path, to: &Path) -> anyhow::Result<()> {
    for (key, path) in files(from)? {
        let dest = to.join(&key);
        std::fs::create_dir_all(dest.parent().expect("has a parent"))?;
        std::fs::copy(&path, &dest)
            .with_context(|| format!("cannot copy {} to {}", path.display(), dest.display()))?;
    }
    Ok(())
}

/// `portal bundle`: builds and writes the functions' bundle.
pub fn bundle_only(args: &SiteArgs) -> anyhow::Result<()> {
    let report = super::build::build(args)?;
    println!("{report}");
    let root = bundle(args)?;
    println!(
        "The functions' bundle is in {} (`sam deploy` ships it as a layer).",
        root.display()
    );
    Ok(())
}

/// The functions' bundle, as `PORTAL_SITE_DIR` expects it.
fn bundle(args: &SiteArgs) -> anyhow::Result<PathBuf> {
    let root = args.out.join("bundle");
    let site = root.join("site");
    if root.exists() {
        std::fs::remove_dir_all(&root)
            .with_context(|| format!("cannot replace {}", root.display()))?;
    }
    std::fs::create_dir_all(&site)?;
    std::fs::copy(
        args.out.join("functions").join(portal_core::site::FILE),
        site.join(portal_core::site::FILE),
    )?;
    for dir in ["search", "search-customers", "private"] {
        copy_tree(&args.out.join(dir), &site.join(dir))?;
    }
    copy_tree(&args.theme, &site.join("theme"))?;
    Ok(root)
}

/// Builds, uploads to `bucket` what differs from `OUT/site`, writes the bundle, and
/// invalidates the changed paths in `distribution`.
pub fn run(args: &SiteArgs, bucket: &str, distribution: Option<&str>) -> anyhow::Result<()> {
    let report = super::build::build(args)?;
    println!("{report}");
    let site = args.out.join("site");
    let files = files(&site)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let sync = runtime.block_on(upload(bucket, &files))?;
    let bundle = bundle(args)?;
    println!(
        "Uploaded {} of {} files ({:.1} MB) to s3://{bucket}, removed {}; the functions' bundle is in {} (`sam deploy` ships it as a layer).",
        sync.uploaded,
        files.len(),
        sync.bytes as f64 / 1_048_576.0,
        sync.removed,
        bundle.display()
    );
    match distribution {
        Some(id) if !sync.changed.is_empty() => {
            let paths = runtime.block_on(invalidate(id, &sync.changed))?;
            println!(
                "CloudFront distribution {id}: invalidating {}",
                paths.join(" ")
            );
        }
        Some(id) => {
            println!("CloudFront distribution {id}: nothing changed, nothing to invalidate")
        }
        None if !sync.changed.is_empty() => println!(
            "Without --distribution, CloudFront keeps serving cached copies for up to 5 minutes."
        ),
        None => {}
    }
    Ok(())
}

/// What an upload did.
struct Sync {
    uploaded: usize,
    bytes: u64,
    removed: usize,
    /// The keys uploaded over an older version, or removed.
    changed: Vec<String>,
}

/// Uploads the files whose content differs from the bucket's copy and removes the bucket's
/// files the build no longer has.
async fn upload(bucket: &str, files: &[(String, PathBuf)]) -> anyhow::Result<Sync> {
    let s3 = S3Blobs::from_env(bucket).await;
    let remote = s3
        .etags()
        .await
        .with_context(|| format!("cannot list s3://{bucket}"))?;
    let mut sync = Sync {
        uploaded: 0,
        bytes: 0,
        removed: 0,
        changed: Vec::new(),
    };
    for (key, path) in files {
        let body =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let etag = remote.get(key);
        if etag.is_some_and(|e| *e == md5_hex(&body)) {
            continue;
        }
        if etag.is_some() {
            sync.changed.push(key.clone());
        }
        sync.uploaded += 1;
        sync.bytes += body.len() as u64;
        s3.publish(key, body, content_type(path), cache_control(key))
            .await
            .with_context(|| format!("cannot upload {key} to s3://{bucket}"))?;
    }
    let live: std::collections::HashSet<&str> = files.iter().map(|(k, _)| k.as_str()).collect();
    for key in remote.keys().filter(|k| !live.contains(k.as_str())) {
        portal_core::blobs::BlobStore::delete(&s3, key)
            .await
            .with_context(|| format!("cannot remove {key} from s3://{bucket}"))?;
        sync.removed += 1;
        sync.changed.push(key.clone());
    }
    Ok(sync)
}

/// Asks CloudFront to drop its copies of `keys`; returns the paths invalidated.
async fn invalidate(distribution: &str, keys: &[String]) -> anyhow::Result<Vec<String>> {
    use aws_sdk_cloudfront::types::{InvalidationBatch, Paths};
    let mut paths: Vec<String> = keys.iter().flat_map(|k| cdn_paths(k)).collect();
    paths.sort();
    paths.dedup();
    if paths.len() > MAX_PATHS {
        paths = vec!["/*".into()];
    }
    let config = portal_core::aws::loader().load().await;
    let client = aws_sdk_cloudfront::Client::new(&config);
    let reference = format!(
        "portal-deploy-{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis()
    );
    let batch = InvalidationBatch::builder()
        .paths(
            Paths::builder()
                .quantity(paths.len() as i32)
                .set_items(Some(paths.clone()))
                .build()?,
        )
        .caller_reference(reference)
        .build()?;
    client
        .create_invalidation()
        .distribution_id(distribution)
        .invalidation_batch(batch)
        .send()
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot invalidate CloudFront distribution {distribution}: {}",
                aws_sdk_cloudfront::error::DisplayErrorContext(e)
            )
        })?;
    Ok(paths)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_theme_files_are_kept_forever_and_pages_briefly() {
        assert_eq!(
            cache_control("static/style.0123456789.css"),
            "public, max-age=31536000, immutable"
        );
        assert_eq!(cache_control("static/style.css"), "public, max-age=86400");
        assert_eq!(cache_control("static/a.b.css"), "public, max-age=86400");
        assert_eq!(
            cache_control("documents/price-list.pdf"),
            "public, max-age=86400"
        );
        assert_eq!(
            cache_control("kb/refund-a-sale.html"),
            "public, max-age=300"
        );
        assert_eq!(cache_control("kb/0123456789.html"), "public, max-age=300");
    }

    #[test]
    fn pages_are_invalidated_at_every_address_they_are_served_at() {
        assert_eq!(
            cdn_paths("kb/refund.html"),
            ["/kb/refund.html", "/kb/refund"]
        );
        assert_eq!(cdn_paths("index.html"), ["/index.html", "/"]);
        assert_eq!(cdn_paths("kb/index.html"), ["/kb/index.html", "/kb/"]);
        assert_eq!(
            cdn_paths("kb/reindex.html"),
            ["/kb/reindex.html", "/kb/reindex"]
        );
        assert_eq!(cdn_paths("calendar.ics"), ["/calendar.ics"]);
    }

    #[test]
    fn md5_is_what_s3_reports_as_the_etag() {
        assert_eq!(md5_hex(b""), "d41d8cd98f00b204e9800998ecf8427e");
    }
}
