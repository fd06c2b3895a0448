//! Rebuilding after an edit, as `portal serve` does: the Markdown files that changed are read
//! again, every page's inputs are summed ([`crate::pages::Site::fingerprint`]), and only the
//! pages whose sum changed are rendered and written, in place; the feeds, the sitemap and the
//! functions' data are written when they differ, and the search indexes get only the entries
//! that changed. A change to the theme, `site.toml`, a document or a folder, or to what every
//! page shares (the footer's pages, the year), is a whole build, as is the first one.
//!
//! One difference remains until the next whole build: tantivy's scoring statistics still
//! count a replaced search entry until its segment is merged, so relevance scores (rarely
//! the order of results) may differ slightly from a whole build's.
//!
//! ```no_run
//! use portal_generator::{BuildOptions, Rebuilder};
//! let mut rebuilder = Rebuilder::new(BuildOptions::new("content", "themes/default", "dist"));
//! println!("{}", rebuilder.build().unwrap());
//! // … an editor saves content/kb/refunds.md …
//! let changed = [std::path::PathBuf::from("content/kb/refunds.md")];
//! println!("{}", rebuilder.rebuild(&changed).unwrap());
//! ```

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::Utc;
use portal_core::search::SearchDoc;
use rayon::prelude::*;

use crate::builder::{self, BuildOptions, BuildReport, Kept};
use crate::error::{Error, Problem, Result};
use crate::output::{self, Live};
use crate::pages::{Site, PRIVATE_PREFIX};

/// Builds a site once, then again after each change, as little of it as the change needs.
pub struct Rebuilder {
    opts: BuildOptions,
    content_dir: PathBuf,
    theme_dir: PathBuf,
    kept: Option<Kept>,
}

/// What a rebuild did.
#[derive(Debug, Clone)]
pub enum Rebuilt {
    /// Nothing the site is made from changed (an editor's backup file, say).
    Nothing,
    /// A whole build.
    Whole(BuildReport),
    /// Only what the changed files touch.
    Part(PartReport),
}

impl Rebuilt {
    /// What the rebuild did not stop for but should be said.
    pub fn warnings(&self) -> &[Problem] {
        match self {
            Rebuilt::Nothing => &[],
            Rebuilt::Whole(r) => &r.warnings,
            Rebuilt::Part(r) => &r.warnings,
        }
    }
}

impl std::fmt::Display for Rebuilt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rebuilt::Nothing => f.write_str("Nothing to rebuild"),
            Rebuilt::Whole(r) => r.fmt(f),
            Rebuilt::Part(r) => r.fmt(f),
        }
    }
}

/// What a rebuild of part of the site wrote.
#[derive(Debug, Clone)]
pub struct PartReport {
    /// Content files read again.
    pub files: usize,
    /// Pages rendered and written.
    pub rendered: usize,
    /// Pages removed.
    pub removed: usize,
    /// Pages the site has.
    pub pages: usize,
    /// Feeds, sitemap and functions' data written.
    pub outputs: usize,
    /// Search entries added, changed or removed, in both indexes.
    pub entries: usize,
    /// Wall time.
    pub elapsed: Duration,
    /// What the build did not stop for but should be said (unused Markdown files).
    pub warnings: Vec<Problem>,
}

impl std::fmt::Display for PartReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Rebuilt {} of {} pages ({} file{} read, {} removed, {} other files, {} search entries) in {:.3} s",
            self.rendered,
            self.pages,
            self.files,
            if self.files == 1 { "" } else { "s" },
            self.removed,
            self.outputs,
            self.entries,
            self.elapsed.as_secs_f64(),
        )
    }
}

/// What a list of changed paths asks for.
#[derive(Debug, PartialEq)]
enum Plan {
    Nothing,
    Whole,
    Files(Vec<PathBuf>),
}

impl Rebuilder {
    /// A rebuilder for `opts`; nothing is built until [`Rebuilder::build`].
    pub fn new(opts: BuildOptions) -> Rebuilder {
        let abs = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
        Rebuilder {
            content_dir: abs(&opts.content),
            theme_dir: abs(&opts.theme),
            opts,
            kept: None,
        }
    }

    /// Sets what is called as pages are written in a whole build (see
    /// [`BuildOptions::progress`]).
    pub fn set_progress(&mut self, progress: Option<builder::ProgressFn>) {
        self.opts.progress = progress;
    }

    /// A whole build. On error nothing published changes, and the next rebuild is whole.
    pub fn build(&mut self) -> Result<BuildReport> {
        self.kept = None;
        let (report, kept) = builder::full(&self.opts, true)?;
        self.kept = kept;
        Ok(report)
    }

    /// Rebuilds after the files at `changed` (as a file watcher names them) changed: a whole
    /// build, part of one, or nothing. An empty list means "something changed": whole.
    ///
    /// On error the pages written so far stay (each whole), and the next rebuild is whole.
    pub fn rebuild(&mut self, changed: &[PathBuf]) -> Result<Rebuilt> {
        match self.plan(changed) {
            Plan::Nothing => Ok(Rebuilt::Nothing),
            Plan::Whole => self.build().map(Rebuilt::Whole),
            Plan::Files(files) => match self.kept.take() {
                None => self.build().map(Rebuilt::Whole),
                Some(kept) => self.part(kept, &files),
            },
        }
    }

    fn plan(&self, changed: &[PathBuf]) -> Plan {
        if changed.is_empty() {
            return Plan::Whole;
        }
        let mut files = Vec::new();
        for path in changed {
            if roots(&self.theme_dir, &self.opts.theme)
                .iter()
                .any(|r| path.starts_with(r))
            {
                return Plan::Whole;
            }
            let Some(rel) = roots(&self.content_dir, &self.opts.content)
                .iter()
                .find_map(|r| path.strip_prefix(r).ok())
                .map(Path::to_path_buf)
            else {
                // Not where the watcher was asked to look: nothing is known of it.
                return Plan::Whole;
            };
            if rel.as_os_str().is_empty() {
                return Plan::Whole;
            }
            // Hidden files and folders (`.git`, swap files) are not content, as for a whole
            // build; nor are editors' backups (`name~`).
            let hidden = rel
                .components()
                .any(|c| c.as_os_str().to_string_lossy().starts_with('.'));
            if hidden || rel.to_string_lossy().ends_with('~') {
                continue;
            }
            let first = rel.components().next().map(|c| c.as_os_str());
            if rel == Path::new("site.toml") || first == Some("documents".as_ref()) {
                return Plan::Whole;
            }
            let file = self.opts.content.join(&rel);
            if rel.extension().is_some_and(|e| e == "md") {
                if !files.contains(&file) {
                    files.push(file);
                }
                continue;
            }
            match std::fs::symlink_metadata(path) {
                // Another kind of file (an image, an editor's temporary file): not read.
                Ok(m) if !m.is_dir() => {}
                // A folder, maybe moved here whole with its articles.
                Ok(_) => return Plan::Whole,
                // Gone: a folder that held content, or an editor's temporary file.
                Err(_) => {
                    let held = self
                        .kept
                        .as_ref()
                        .is_none_or(|k| k.content.has_under(&file));
                    if held {
                        return Plan::Whole;
                    }
                }
            }
        }
        if files.is_empty() {
            Plan::Nothing
        } else {
            Plan::Files(files)
        }
    }

    fn part(&mut self, mut kept: Kept, files: &[PathBuf]) -> Result<Rebuilt> {
        let started = Instant::now();
        kept.content
            .update(&self.opts.content, files, kept.tz, self.opts.strict)?;
        let now = self.opts.now.unwrap_or_else(Utc::now);
        let live = Live::new(&self.opts.out);
        let site = Site::new(
            &kept.config,
            kept.tz,
            &kept.content,
            now,
            &self.opts.content,
        )
        .with_assets(kept.assets.clone());
        if site.shared_fingerprint() != kept.shared {
            drop(site);
            return self.build().map(Rebuilt::Whole);
        }
        let jobs = site.jobs()?;

        // The same link check as a whole build, before anything is written.
        let theme_files = kept.static_urls.iter().chain(kept.assets.values());
        let urls = builder::site_urls(&site, &jobs, theme_files);
        crate::links::check(&kept.content, &urls)?;

        let sums: Vec<u64> = jobs.par_iter().map(|j| site.fingerprint(j)).collect();
        let pages: HashMap<String, u64> = jobs
            .iter()
            .zip(&sums)
            .map(|(j, s)| (j.url.clone(), *s))
            .collect();
        let page_urls: Vec<String> = jobs
            .iter()
            .map(|j| j.url.clone())
            .filter(|u| u != "/404.html" && !u.starts_with(PRIVATE_PREFIX))
            .collect();
        let to_render: Vec<_> = jobs
            .into_iter()
            .zip(sums)
            .filter(|(j, s)| kept.pages.get(&j.url) != Some(s))
            .map(|(j, _)| j)
            .collect();
        // Rendered in memory first: a template error leaves every page as it was.
        let rendered: Vec<std::result::Result<(String, String), Problem>> = to_render
            .into_par_iter()
            .map(|job| {
                let html = kept.theme.render(job.template, &site.context(job.ctx))?;
                Ok((job.url, html))
            })
            .collect();
        let mut written = Vec::with_capacity(rendered.len());
        let mut problems = Vec::new();
        for r in rendered {
            match r {
                Ok(page) => written.push(page),
                Err(p) => problems.push(p),
            }
        }
        if !problems.is_empty() {
            problems.dedup();
            return Err(Error::Content(problems));
        }
        // From here on the published site changes: if a write fails, a whole build puts
        // it right at once rather than leaving it part old, part new.
        let published = (|| -> Result<_> {
            for (url, html) in &written {
                live.write_page(url, html.as_bytes())?;
            }
            let gone: Vec<&String> = kept
                .pages
                .keys()
                .filter(|u| !pages.contains_key(*u))
                .collect();
            for url in &gone {
                live.remove_page(url)?;
            }
            let removed = gone.len();

            // Feeds, sitemap and the functions' data when they differ, beside the search
            // indexes' changed entries.
            let public = site.search_docs();
            let only = crate::pages::customers_only_entries(&site);
            let search = Kept::sum_entries(&public);
            let mut customer_search = search.clone();
            customer_search.extend(Kept::sum_entries(&only));
            let (outputs, (a, b)) = rayon::join(
                || write_outputs(&site, &live, &kept.outputs, &page_urls),
                || {
                    rayon::join(
                        || update_index(&live.search(), &kept.search, &search, &public),
                        || {
                            let all = public.iter().chain(&only);
                            update_index(
                                &live.customer_search(),
                                &kept.customer_search,
                                &customer_search,
                                all,
                            )
                        },
                    )
                },
            );
            let (outputs, other) = outputs?;
            let (a, b) = (a?, b?);
            Ok((removed, search, customer_search, outputs, other, a + b))
        })();
        let (removed, search, customer_search, outputs, other, entries) = match published {
            Ok(done) => done,
            Err(e) => {
                drop(site);
                tracing::warn!("a rebuild failed while writing ({e}); building whole");
                return self.build().map(Rebuilt::Whole);
            }
        };
        let report = PartReport {
            files: files.len(),
            rendered: written.len(),
            removed,
            pages: pages.len(),
            outputs: other,
            entries,
            elapsed: started.elapsed(),
            warnings: kept.content.warnings(),
        };
        drop(site);
        kept.pages = pages;
        kept.outputs = outputs;
        kept.search = search;
        kept.customer_search = customer_search;
        self.kept = Some(kept);
        Ok(Rebuilt::Part(report))
    }
}

/// Writes the feeds, the sitemap and the functions' data that differ from the sums `before`;
/// gives the new sums and how many files were written.
fn write_outputs(
    site: &Site<'_>,
    live: &Live,
    before: &HashMap<String, u64>,
    page_urls: &[String],
) -> Result<(HashMap<String, u64>, usize)> {
    let mut sums = HashMap::new();
    let mut written = 0;
    for (url, body) in site.feeds(page_urls) {
        let sum = Kept::sum(&body);
        if before.get(&url) != Some(&sum) {
            live.write_page(&url, body.as_bytes())?;
            written += 1;
        }
        sums.insert(url, sum);
    }
    let json = serde_json::to_string_pretty(&site.site_data()).expect("site data serialises");
    let data = portal_core::site::FILE.to_string();
    let sum = Kept::sum(&json);
    if before.get(&data) != Some(&sum) {
        output::replace(&live.functions().join(&data), json.as_bytes())?;
        written += 1;
    }
    sums.insert(data, sum);
    for url in before.keys().filter(|u| !sums.contains_key(*u)) {
        live.remove_page(url)?;
    }
    Ok((sums, written))
}

/// The ways a watcher may name `given` (canonical as `canonical`): as given; from the current
/// folder, with `..` left in (as `notify` does on Linux) or taken out without following links;
/// and canonical.
fn roots(canonical: &Path, given: &Path) -> Vec<PathBuf> {
    let mut roots = vec![given.to_path_buf(), canonical.to_path_buf()];
    if let Ok(cwd) = std::env::current_dir() {
        let joined = cwd.join(given);
        let mut tidy = PathBuf::new();
        for c in joined.components() {
            match c {
                std::path::Component::ParentDir => {
                    tidy.pop();
                }
                std::path::Component::CurDir => {}
                c => tidy.push(c),
            }
        }
        roots.extend([joined, tidy]);
    }
    roots
}

/// Brings the index in `dir`, whose entries had the sums `before`, to `docs`, whose sums are
/// `sums`; gives how many entries were added, changed or removed.
fn update_index<'a>(
    dir: &Path,
    before: &HashMap<String, u64>,
    sums: &HashMap<String, u64>,
    docs: impl IntoIterator<Item = &'a SearchDoc<'a>>,
) -> Result<usize> {
    let mut remove: Vec<String> = before
        .iter()
        .filter(|(url, sum)| sums.get(*url) != Some(sum))
        .map(|(url, _)| url.clone())
        .collect();
    let add: Vec<SearchDoc<'_>> = docs
        .into_iter()
        .filter(|d| before.get(&d.url) != sums.get(&d.url))
        .cloned()
        .collect();
    let changed = add.len() + before.keys().filter(|u| !sums.contains_key(*u)).count();
    remove.sort();
    portal_core::search::update_index(dir, &remove, add)?;
    Ok(changed)
}
