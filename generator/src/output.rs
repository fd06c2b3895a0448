//! Where a build writes: a staging folder next to the output, swapped into place only when
//! the whole build has succeeded, so a failed build never leaves a half-written site.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::thread::JoinHandle;

use crate::error::{Error, Result};

/// Where pages only logged-in customers may see are published: under `/my/`, written to the
/// build's `private/` folder (served by the functions after a login check, never uploaded
/// with the public site).
pub const PRIVATE_PREFIX: &str = "/my/";

/// What a build writes: the site, the search index, the functions' data.
const SUBFOLDERS: [&str; 5] = ["site", "search", "functions", "private", "search-customers"];

/// A build in progress: `staging/site`, `staging/search` and `staging/functions`, moved to `out/` by [`Staging::commit`].
pub struct Staging {
    dir: tempfile::TempDir,
    out: PathBuf,
    folders: Mutex<HashSet<PathBuf>>,
}

impl Staging {
    /// Creates the staging folder inside `out` (created if needed), so the final moves are
    /// renames on one file system.
    pub fn new(out: &Path) -> Result<Staging> {
        fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
        remove_stale(out);
        let dir = tempfile::Builder::new()
            .prefix(".build-")
            .tempdir_in(out)
            .map_err(|e| Error::io(out, e))?;
        for sub in SUBFOLDERS {
            fs::create_dir(dir.path().join(sub)).map_err(|e| Error::io(dir.path(), e))?;
        }
        Ok(Staging {
            dir,
            out: out.to_path_buf(),
            folders: Mutex::new(HashSet::new()),
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

    /// The folder the functions' data is written to.
    pub fn functions(&self) -> PathBuf {
        self.dir.path().join("functions")
    }

    /// The folder pages for logged-in customers (under `/my/`) are written to.
    pub fn private(&self) -> PathBuf {
        self.dir.path().join("private")
    }

    /// The folder the customers' search index is written to.
    pub fn customer_search(&self) -> PathBuf {
        self.dir.path().join("search-customers")
    }

    /// Writes `bytes` to the site at root-relative `url` (`/kb/x/` → `kb/x/index.html`);
    /// pages under `/my/` go to the private folder instead.
    pub fn write_page(&self, url: &str, bytes: &[u8]) -> Result<()> {
        let root = if url.starts_with(PRIVATE_PREFIX) {
            self.private()
        } else {
            self.site()
        };
        let path = root.join(file_for(url));
        if let Some(parent) = path.parent() {
            // Each folder is made once; asking the file system again for every page costs.
            let known = self
                .folders
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .contains(parent);
            if !known {
                fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
                self.folders
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(parent.to_path_buf());
            }
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

    /// Moves the staged folders into `out/site`, `out/search` and `out/functions`, replacing what was there.
    pub fn commit(self) -> Result<()> {
        let old = self.dir.path().join("old");
        fs::create_dir(&old).map_err(|e| Error::io(&old, e))?;
        for sub in SUBFOLDERS {
            let live = self.out.join(sub);
            if live.exists() {
                fs::rename(&live, old.join(sub)).map_err(|e| Error::io(&live, e))?;
            }
            let staged = self.dir.path().join(sub);
            fs::rename(&staged, &live).map_err(|e| Error::io(&staged, e))?;
        }
        // The new site is live; the previous one is removed on a background thread, since
        // unlinking thousands of files takes a while on some disks. `wait_for_cleanup` waits.
        let dir = self.dir.keep();
        let path = dir.clone();
        let handle = std::thread::spawn(move || {
            let _ = fs::remove_dir_all(&dir);
        });
        CLEANUPS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((path, handle));
        Ok(())
    }
}

/// The published output, changed in place by a rebuild ([`crate::incremental`]): each file
/// is written beside its place and renamed over it, so a reader sees the old file or the
/// new one, never part of one.
pub struct Live {
    out: PathBuf,
}

impl Live {
    /// The output in `out`, as [`Staging::commit`] left it.
    pub fn new(out: &Path) -> Live {
        Live {
            out: out.to_path_buf(),
        }
    }

    /// The published search index.
    pub fn search(&self) -> PathBuf {
        self.out.join("search")
    }

    /// The published customers' search index.
    pub fn customer_search(&self) -> PathBuf {
        self.out.join("search-customers")
    }

    /// The published functions' data folder.
    pub fn functions(&self) -> PathBuf {
        self.out.join("functions")
    }

    /// Where the page at `url` is published (`/my/` pages in the private folder).
    fn path_of(&self, url: &str) -> PathBuf {
        let root = if url.starts_with(PRIVATE_PREFIX) {
            "private"
        } else {
            "site"
        };
        self.out.join(root).join(file_for(url))
    }

    /// Replaces the page at `url` with `bytes`.
    pub fn write_page(&self, url: &str, bytes: &[u8]) -> Result<()> {
        replace(&self.path_of(url), bytes)
    }

    /// Removes the page at `url`, if it is there.
    pub fn remove_page(&self, url: &str) -> Result<()> {
        let path = self.path_of(url);
        match fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io(&path, e)),
            _ => Ok(()),
        }
    }
}

/// Writes `bytes` beside `path` and renames the copy over it.
pub fn replace(path: &Path, bytes: &[u8]) -> Result<()> {
    let parent = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let copy = parent.join(format!(".{name}.new-{}", std::process::id()));
    fs::write(&copy, bytes).map_err(|e| Error::io(&copy, e))?;
    fs::rename(&copy, path).map_err(|e| {
        let _ = fs::remove_file(&copy);
        Error::io(path, e)
    })
}

/// Removals of previous outputs still running.
static CLEANUPS: Mutex<Vec<(PathBuf, JoinHandle<()>)>> = Mutex::new(Vec::new());

/// Waits until every previous output replaced by a build has been removed. A program that
/// builds and exits calls this before exiting.
pub fn wait_for_cleanup() {
    let handles = std::mem::take(&mut *CLEANUPS.lock().unwrap_or_else(|e| e.into_inner()));
    for (_, h) in handles {
        let _ = h.join();
    }
}

/// Removes staging folders that an interrupted earlier build left in `out` (not those this
/// process is removing already).
fn remove_stale(out: &Path) {
    let Ok(entries) = fs::read_dir(out) else {
        return;
    };
    let pending: Vec<PathBuf> = CLEANUPS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .map(|(p, _)| p.clone())
        .collect();
    for e in entries.flatten() {
        if e.file_name().to_string_lossy().starts_with(".build-") && !pending.contains(&e.path()) {
            let _ = fs::remove_dir_all(e.path());
        }
    }
}

/// The file a root-relative URL is served from: a section (`/kb/`) from its `index.html`,
/// a page (`/kb/refund-a-sale`) from `kb/refund-a-sale.html`, and a file with an extension
/// (`/calendar.ics`) from itself. Pages are files rather than folders of their own because
/// creating ten thousand folders costs more than the rest of a build on some disks.
///
/// ```
/// use portal_generator::output::file_for;
/// assert_eq!(file_for("/"), std::path::Path::new("index.html"));
/// assert_eq!(file_for("/kb/"), std::path::Path::new("kb/index.html"));
/// assert_eq!(file_for("/kb/refund"), std::path::Path::new("kb/refund.html"));
/// assert_eq!(file_for("/calendar.ics"), std::path::Path::new("calendar.ics"));
/// ```
pub fn file_for(url: &str) -> PathBuf {
    let rel = url.trim_start_matches('/');
    let last = rel.rsplit('/').next().unwrap_or("");
    if rel.is_empty() || rel.ends_with('/') {
        PathBuf::from(rel).join("index.html")
    } else if last.contains('.') {
        PathBuf::from(rel)
    } else {
        PathBuf::from(format!("{rel}.html"))
    }
}
