//! `portal deploy-site`: builds, uploads the public site to its S3 bucket with the right
//! content types and cache headers (removing what the build no longer has), and assembles the
//! functions' bundle (`OUT/bundle/site`: site data, both search indexes, the private pages
//! and the theme) for the Lambda layer the AWS template deploys.

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

/// How long browsers and CloudFront may keep a file: pages and feeds briefly (edits show
/// within minutes), the theme's files and documents for a day.
fn cache_control(key: &str) -> &'static str {
    if key.starts_with("static/") || key.starts_with("documents/") {
        "public, max-age=86400"
    } else {
        "public, max-age=300"
    }
}

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

/// Builds, uploads `OUT/site` to `bucket`, and writes the bundle.
pub fn run(args: &SiteArgs, bucket: &str) -> anyhow::Result<()> {
    let report = super::build::build(args)?;
    println!("{report}");
    let site = args.out.join("site");
    let files = files(&site)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let (uploaded, bytes, removed) = runtime.block_on(async {
        let s3 = S3Blobs::from_env(bucket).await;
        let mut bytes = 0u64;
        for (key, path) in &files {
            let body =
                std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
            bytes += body.len() as u64;
            s3.publish(key, body, content_type(path), cache_control(key))
                .await
                .with_context(|| format!("cannot upload to s3://{bucket}"))?;
        }
        let live: std::collections::HashSet<&str> = files.iter().map(|(k, _)| k.as_str()).collect();
        let mut removed = 0;
        for key in s3
            .keys()
            .await
            .with_context(|| format!("cannot list s3://{bucket}"))?
        {
            if !live.contains(key.as_str()) {
                portal_core::blobs::BlobStore::delete(&s3, &key).await?;
                removed += 1;
            }
        }
        anyhow::Ok((files.len(), bytes, removed))
    })?;
    let bundle = bundle(args)?;
    println!(
        "Uploaded {uploaded} files ({:.1} MB) to s3://{bucket}, removed {removed}; the functions' bundle is in {} (`sam deploy` ships it as a layer). Invalidate CloudFront's cache with: aws cloudfront create-invalidation --distribution-id ID --paths '/*'",
        bytes as f64 / 1_048_576.0,
        bundle.display()
    );
    Ok(())
}
