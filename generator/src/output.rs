//! Where a build writes: a staging folder next to the output, swapped into place only when
//! the whole build has succeeded, so a failed build never leaves a half-written site.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// A build in progress: `staging/site` and `staging/search`, moved to `out/` by [`Staging::commit`].
pub struct Staging {
    dir: tempfile::TempDir,
    out: PathBuf,
}

impl Staging {
    /// Creates the staging folder inside `out` (created if needed), so the final moves are
    /// renames on one file system.
    pub fn new(out: &Path) -> Result<Staging> {
        fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
        let dir = tempfile::Builder::new()
            .prefix(".build-")
            .tempdir_in(out)
            .map_err(|e| Error::io(out, e))?;
        for sub in ["site", "search"] {
            fs::create_dir(dir.path().join(sub)).map_err(|e| Error::io(dir.path(), e))?;
        }
        Ok(Staging {
            dir,
            out: out.to_path_buf(),
        })
    }

    /// The folder the site is written to.
    pub fn site(&self) -> PathBuf {
        self.dir.path().join("site")
    }

    /// The folder the search index is written to.
    pub fn search(&self) -> PathBuf {
        self.dir.path().join("search")
    }

    /// Writes `bytes` to the site at root-relative `url` (`/kb/x/` → `kb/x/index.html`).
    pub fn write_page(&self, url: &str, bytes: &[u8]) -> Result<()> {
        let path = self.site().join(file_for(url));
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        fs::write(&path, bytes).map_err(|e| Error::io(&path, e))
    }

    /// Copies every file under `from` into the site under `to` (a root-relative folder).
    pub fn copy_tree(&self, from: &Path, to: &str) -> Result<Vec<String>> {
        let mut urls = Vec::new();
        if !from.is_dir() {
            return Ok(urls);
        }
        for entry in walkdir::WalkDir::new(from) {
            let entry = entry.map_err(|e| {
                Error::io(
                    from,
                    e.into_io_error()
                        .unwrap_or_else(|| std::io::Error::other("walk failed")),
                )
            })?;
            if !entry.file_type().is_file() {
                continue;
            }
            let rel = entry
                .path()
                .strip_prefix(from)
                .expect("walkdir stays below its root");
            let rel_url = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            let url = format!("{}/{}", to.trim_end_matches('/'), rel_url);
            let dest = self.site().join(url.trim_start_matches('/'));
            if let Some(parent) = dest.parent() {
                fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
            }
            fs::copy(entry.path(), &dest).map_err(|e| Error::io(entry.path(), e))?;
            urls.push(url);
        }
        Ok(urls)
    }

    /// Moves the staged site and index into `out/site` and `out/search`, replacing what was there.
    pub fn commit(self) -> Result<()> {
        let old = self.dir.path().join("old");
        fs::create_dir(&old).map_err(|e| Error::io(&old, e))?;
        for sub in ["site", "search"] {
            let live = self.out.join(sub);
            if live.exists() {
                fs::rename(&live, old.join(sub)).map_err(|e| Error::io(&live, e))?;
            }
            let staged = self.dir.path().join(sub);
            fs::rename(&staged, &live).map_err(|e| Error::io(&staged, e))?;
        }
        // Dropping the temporary folder removes the previous output.
        Ok(())
    }
}

/// The file a root-relative URL is served from.
pub fn file_for(url: &str) -> PathBuf {
    let rel = url.trim_start_matches('/');
    if rel.is_empty() || rel.ends_with('/') {
        PathBuf::from(rel).join("index.html")
    } else {
        PathBuf::from(rel)
    }
}
