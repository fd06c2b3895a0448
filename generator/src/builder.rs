//! `build`: content + theme → `out/site` and `out/search`, rendered and indexed in parallel,
//! checked for broken internal links, and swapped into place only when everything succeeded.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rayon::prelude::*;

use crate::config::SiteConfig;
use crate::content::{self, Content};
use crate::error::{Error, Problem, Result};
use crate::output::Staging;
use crate::pages::Site;
use crate::theme::Theme;
use portal_core::search::SearchDoc;

/// Called as pages are written with (done, total).
pub type ProgressFn = Arc<dyn Fn(u64, u64) + Send + Sync>;

/// What to build and where.
#[derive(Clone)]
pub struct BuildOptions {
    /// The content folder (holding `site.toml`).
    pub content: PathBuf,
    /// The theme folder (holding `templates/` and `static/`).
    pub theme: PathBuf,
    /// The output folder; the build writes `site/` and `search/` inside it.
    pub out: PathBuf,
    /// The moment the build takes as "now" (upcoming events, feed stamps); the clock by default.
    pub now: Option<DateTime<Utc>>,
    /// Progress callback, for a progress bar.
    pub progress: Option<ProgressFn>,
    /// Replaces the settings' `base_url` (absolute links in pages, feeds, the sitemap and
    /// mailed links), as `portal serve --base-url` does to point them at the local server.
    pub base_url: Option<String>,
    /// Whether a front-matter key the portal does not read is an error (by default a
    /// warning, so content written for Zola or Hugo builds).
    pub strict: bool,
}

impl BuildOptions {
    /// Options for `content`, `theme` and `out`, at the current time, without progress.
    pub fn new(
        content: impl Into<PathBuf>,
        theme: impl Into<PathBuf>,
        out: impl Into<PathBuf>,
    ) -> Self {
        BuildOptions {
            content: content.into(),
            theme: theme.into(),
            out: out.into(),
            now: None,
            progress: None,
            base_url: None,
            strict: false,
        }
    }
}

/// What a build produced.
#[derive(Debug, Clone)]
pub struct BuildReport {
    /// HTML pages written.
    pub pages: usize,
    /// Public knowledge-base articles.
    pub articles: usize,
    /// Public calendar events.
    pub events: usize,
    /// Public documents.
    pub documents: usize,
    /// Entries in the search index.
    pub indexed: usize,
    /// Wall time.
    pub elapsed: Duration,
    /// The published site folder.
    pub site: PathBuf,
    /// What the build did not stop for but should be said (unused Markdown files).
    pub warnings: Vec<Problem>,
}

impl std::fmt::Display for BuildReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Built {} pages ({} articles, {} events, {} documents; {} entries indexed) in {:.2} s → {}",
            self.pages,
            self.articles,
            self.events,
            self.documents,
            self.indexed,
            self.elapsed.as_secs_f64(),
            self.site.display()
        )
    }
}

/// Every URL the site will have, for the link check: its pages, public documents, the
/// theme's files (`theme_files`), the feeds and each public event's calendar file.
pub(crate) fn site_urls<'a>(
    site: &Site<'_>,
    jobs: &[crate::pages::Job],
    theme_files: impl Iterator<Item = &'a String>,
) -> HashSet<String> {
    let mut urls: HashSet<String> = jobs.iter().map(|j| j.url.clone()).collect();
    urls.extend(site.public_documents().iter().map(|d| d.url()));
    urls.extend(theme_files.cloned());
    urls.extend(site.public_events().iter().map(|e| e.ics_url()));
    urls.extend(
        [
            "/calendar.ics",
            "/kb/atom.xml",
            "/sitemap.xml",
            "/robots.txt",
        ]
        .map(String::from),
    );
    urls
}

/// Builds the site. On error nothing in `out/site` or `out/search` changes.
///
/// ```no_run
/// use portal_generator::{build, BuildOptions};
/// let report = build(&BuildOptions::new("content", "themes/default", "dist")).unwrap();
/// println!("{report}");
/// ```
pub fn build(opts: &BuildOptions) -> Result<BuildReport> {
    full(opts, false).map(|(report, _)| report)
}

/// A whole build; with `keep`, also what a later rebuild needs to render only what changed.
pub(crate) fn full(opts: &BuildOptions, keep: bool) -> Result<(BuildReport, Option<Kept>)> {
    let started = Instant::now();
    let now = opts.now.unwrap_or_else(Utc::now);
    let phase = |name: &str, since: &mut Instant| {
        tracing::debug!(
            phase = name,
            ms = since.elapsed().as_millis() as u64,
            "build phase"
        );
        *since = Instant::now();
    };
    let mut t = Instant::now();
    let mut config = SiteConfig::load(&opts.content.join("site.toml"))?;
    if let Some(url) = &opts.base_url {
        config.base_url = url.trim_end_matches('/').to_string();
    }
    let tz: Tz = config
        .tz()
        .map_err(|m| Problem::new(opts.content.join("site.toml"), m).field("timezone"))?;
    let theme = crate::theme::Theme::load(&opts.theme)?;
    let assets = theme.assets()?;
    let content = content::load_with(&opts.content, tz, opts.strict)?;
    phase("load", &mut t);
    let site = Site::new(&config, tz, &content, now, &opts.content).with_assets(assets.clone());
    let shared = keep.then(|| site.shared_fingerprint());

    let mut jobs = site.jobs()?;
    let page_urls: Vec<String> = jobs
        .iter()
        .map(|j| j.url.clone())
        .filter(|u| u != "/404.html" && !u.starts_with(crate::pages::PRIVATE_PREFIX))
        .collect();
    let documents = site.public_documents();
    phase("contexts", &mut t);
    let staging = Staging::new(&opts.out)?;

    // The theme's files, then every URL the site will have, for the link check.
    let static_dir = theme.static_dir();
    let static_urls = staging.copy_tree(&static_dir, "/static")?;
    for (rel, url) in &assets {
        let dest = staging.site().join(url.trim_start_matches('/'));
        let src = static_dir.join(rel);
        std::fs::copy(&src, &dest).map_err(|e| Error::io(&src, e))?;
    }
    let urls = site_urls(&site, &jobs, static_urls.iter().chain(assets.values()));
    crate::links::check(&content, &urls)?;

    // Public documents on the site; customers-only ones in the private folder, which the
    // customer area serves to logged-in customers.
    let private_documents = site.private_documents();
    let copies = documents
        .iter()
        .map(|d| (staging.site().join("documents"), d))
        .chain(
            private_documents
                .iter()
                .map(|d| (staging.private().join("my").join("documents"), d)),
        );
    for (folder, d) in copies {
        let dest = folder.join(&d.file_name);
        std::fs::create_dir_all(&folder).map_err(|e| Error::io(&folder, e))?;
        std::fs::copy(&d.path, &dest).map_err(|e| Error::io(&d.path, e))?;
    }

    phase("links and copies", &mut t);
    let search_docs = site.search_docs();
    let customer_docs = crate::pages::customer_search_entries(&site);
    let sums = keep.then(|| {
        (
            Kept::sum_entries(&search_docs),
            Kept::sum_entries(&customer_docs),
        )
    });
    let customer_dir = staging.customer_search();
    let indexed = search_docs.len();
    let total = jobs.len() as u64;
    let done = AtomicU64::new(0);
    let search_dir = staging.search();
    let (rendered, index) = rayon::join(
        || -> Result<Vec<(String, u64)>> {
            let results: Vec<std::result::Result<(String, u64), Problem>> =
                std::mem::take(&mut jobs)
                    .into_par_iter()
                    .map(|job| {
                        let sum = if keep { site.fingerprint(&job) } else { 0 };
                        let ctx = site.context(job.ctx);
                        let html = theme.render(job.template, &ctx)?;
                        drop(ctx);
                        staging
                            .write_page(&job.url, html.as_bytes())
                            .map_err(|e| Problem::new(&job.url, e.to_string()))?;
                        let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                        if let Some(p) = &opts.progress {
                            p(n, total);
                        }
                        Ok((job.url, sum))
                    })
                    .collect();
            let mut sums = Vec::with_capacity(results.len());
            let mut problems = Vec::new();
            for r in results {
                match r {
                    Ok(sum) => sums.push(sum),
                    Err(p) => problems.push(p),
                }
            }
            problems.dedup();
            if !problems.is_empty() {
                return Err(Error::Content(problems));
            }
            Ok(sums)
        },
        || {
            let t = Instant::now();
            let r = portal_core::search::write_index(&search_dir, search_docs)
                .and_then(|()| portal_core::search::write_index(&customer_dir, customer_docs));
            tracing::debug!(
                phase = "index (concurrent)",
                ms = t.elapsed().as_millis() as u64,
                "build phase"
            );
            r
        },
    );
    let page_sums = rendered?;
    index?;
    phase("render and index", &mut t);

    let mut output_sums = HashMap::new();
    for (url, body) in site.feeds(&page_urls) {
        staging.write_page(&url, body.as_bytes())?;
        output_sums.insert(url, Kept::sum(&body));
    }
    let site_data = staging.functions().join(portal_core::site::FILE);
    let json = serde_json::to_string_pretty(&site.site_data()).expect("site data serialises");
    output_sums.insert(portal_core::site::FILE.to_string(), Kept::sum(&json));
    std::fs::write(&site_data, json).map_err(|e| Error::io(&site_data, e))?;
    phase("feeds", &mut t);
    staging.commit()?;
    phase("swap", &mut t);
    let report = BuildReport {
        pages: page_sums.len(),
        articles: site.public_articles().len(),
        events: site.public_events().len(),
        documents: documents.len(),
        indexed,
        elapsed: started.elapsed(),
        site: opts.out.join("site"),
        warnings: content.warnings(),
    };
    drop(site);
    let kept = match (shared, sums) {
        (Some(shared), Some((search, customer_search))) => Some(Kept {
            config,
            tz,
            theme,
            assets,
            content,
            static_urls,
            shared,
            pages: page_sums.into_iter().collect(),
            search,
            customer_search,
            outputs: output_sums,
        }),
        _ => None,
    };
    Ok((report, kept))
}

/// What a whole build keeps for the next rebuild: what it was made from and the sum of
/// every output it wrote.
pub(crate) struct Kept {
    pub(crate) config: SiteConfig,
    pub(crate) tz: Tz,
    pub(crate) theme: Theme,
    pub(crate) assets: BTreeMap<String, String>,
    pub(crate) content: Content,
    /// The theme's static files' URLs.
    pub(crate) static_urls: Vec<String>,
    /// [`Site::shared_fingerprint`].
    pub(crate) shared: u64,
    /// Each page's [`Site::fingerprint`], by URL.
    pub(crate) pages: HashMap<String, u64>,
    /// Each public search entry's sum, by URL.
    pub(crate) search: HashMap<String, u64>,
    /// Each customers' search entry's sum, by URL.
    pub(crate) customer_search: HashMap<String, u64>,
    /// The feeds' and the functions' data's sums, by URL (or file name).
    pub(crate) outputs: HashMap<String, u64>,
}

impl Kept {
    /// The sum of `text`.
    pub(crate) fn sum(text: &str) -> u64 {
        let mut h = std::hash::DefaultHasher::new();
        text.hash(&mut h);
        h.finish()
    }

    /// Each entry's sum, by URL.
    pub(crate) fn sum_entries(docs: &[SearchDoc<'_>]) -> HashMap<String, u64> {
        // Fx, not SipHash: these sums cover every entry's text on each rebuild, and the
        // only other text they are compared with is the same entry's before.
        docs.par_iter()
            .map(|d| {
                let mut h = rustc_hash::FxHasher::default();
                (&d.kind, &d.title, &d.summary, &d.body).hash(&mut h);
                (&d.topic, &d.subtopic, &d.tags).hash(&mut h);
                (d.url.clone(), h.finish())
            })
            .collect()
    }
}
