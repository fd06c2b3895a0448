//! `build`: content + theme → `out/site` and `out/search`, rendered and indexed in parallel,
//! checked for broken internal links, and swapped into place only when everything succeeded.

use std::borrow::Cow;
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use rayon::prelude::*;
use tera::Context;

use crate::config::SiteConfig;
use crate::content::{self, Content, Source, Visibility};
use crate::error::{Error, Problem, Result};
use crate::output::Staging;
use crate::pages::{Job, Site};
use crate::search::{self, SearchDoc};

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

/// Builds the site. On error nothing in `out/site` or `out/search` changes.
///
/// ```no_run
/// use portal_generator::{build, BuildOptions};
/// let report = build(&BuildOptions::new("content", "themes/default", "dist")).unwrap();
/// println!("{report}");
/// ```
pub fn build(opts: &BuildOptions) -> Result<BuildReport> {
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
    let config = SiteConfig::load(&opts.content.join("site.toml"))?;
    let tz: Tz = config
        .tz()
        .map_err(|m| Problem::new(opts.content.join("site.toml"), m).field("timezone"))?;
    let theme = crate::theme::Theme::load(&opts.theme)?;
    let content = content::load(&opts.content, tz)?;
    phase("load", &mut t);
    let site = Site::new(&config, tz, &content, now, &opts.content);

    let mut jobs = site.jobs()?;
    let page_urls: Vec<String> = jobs
        .iter()
        .map(|j| j.url.clone())
        .filter(|u| u != "/404.html")
        .collect();
    let documents = site.public_documents();
    phase("contexts", &mut t);
    let staging = Staging::new(&opts.out)?;

    // Every URL the site will have, for the link check.
    let mut urls: HashSet<String> = jobs.iter().map(|j| j.url.clone()).collect();
    urls.extend(documents.iter().map(|d| d.url()));
    let static_dir = theme.static_dir();
    let static_urls = staging.copy_tree(&static_dir, "/static")?;
    urls.extend(static_urls);
    urls.extend([
        "/calendar.ics".to_string(),
        "/kb/atom.xml".into(),
        "/sitemap.xml".into(),
        "/robots.txt".into(),
    ]);
    urls.extend(site.public_events().iter().map(|e| e.ics_url()));
    check_links(&content, &urls, &customer_urls(&content))?;

    for d in &documents {
        let dest = staging.site().join("documents").join(&d.file_name);
        std::fs::create_dir_all(dest.parent().expect("has parent"))
            .map_err(|e| Error::io(&dest, e))?;
        std::fs::copy(&d.path, &dest).map_err(|e| Error::io(&d.path, e))?;
    }

    phase("links and copies", &mut t);
    let search_docs = site.search_docs();
    let indexed = search_docs.len();
    let total = jobs.len() as u64;
    let done = AtomicU64::new(0);
    let search_dir = staging.search();
    let (rendered, index) = rayon::join(
        || -> Result<usize> {
            let results: Vec<std::result::Result<(), Problem>> = std::mem::take(&mut jobs)
                .into_par_iter()
                .map(|job| {
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
                    Ok(())
                })
                .collect();
            let mut problems: Vec<Problem> = results.into_iter().filter_map(|r| r.err()).collect();
            problems.dedup();
            if !problems.is_empty() {
                return Err(Error::Content(problems));
            }
            Ok(total as usize)
        },
        || {
            let t = Instant::now();
            let r = search::write_index(&search_dir, search_docs);
            tracing::debug!(
                phase = "index (concurrent)",
                ms = t.elapsed().as_millis() as u64,
                "build phase"
            );
            r
        },
    );
    let pages = rendered?;
    index?;
    phase("render and index", &mut t);

    for (url, body) in site.feeds(&page_urls) {
        staging.write_page(&url, body.as_bytes())?;
    }
    let page_data = staging.search().join(crate::search_page::DATA_FILE);
    std::fs::write(&page_data, site.search_page_data().to_string())
        .map_err(|e| Error::io(&page_data, e))?;
    phase("feeds", &mut t);
    staging.commit()?;
    phase("swap", &mut t);
    Ok(BuildReport {
        pages,
        articles: site.public_articles().len(),
        events: site.public_events().len(),
        documents: documents.len(),
        indexed,
        elapsed: started.elapsed(),
        site: opts.out.join("site"),
    })
}

/// URLs only logged-in customers have; public pages must not link to them.
fn customer_urls(content: &Content) -> HashSet<String> {
    let articles = content
        .articles
        .iter()
        .filter(|a| a.visibility == Visibility::Customers)
        .map(|a| a.url());
    let events = content
        .events
        .iter()
        .filter(|e| e.visibility == Visibility::Customers)
        .map(|e| e.url());
    articles.chain(events).collect()
}

/// Routes served by the functions rather than the static site.
const FUNCTION_PREFIXES: &[&str] = &[
    "/api/",
    "/my/",
    "/track/",
    "/activate/",
    "/login",
    "/logout",
    "/search",
];

/// Fails with every internal link that points nowhere, naming file and line.
fn check_links(
    content: &Content,
    urls: &HashSet<String>,
    customers_only: &HashSet<String>,
) -> Result<()> {
    let mut bodies: Vec<(String, Visibility, &Source, &crate::markdown::Rendered)> = Vec::new();
    bodies.extend(
        content
            .articles
            .iter()
            .map(|a| (a.url(), a.visibility, &a.source, &a.body)),
    );
    bodies.extend(
        content
            .events
            .iter()
            .map(|e| (e.url(), e.visibility, &e.source, &e.body)),
    );
    bodies.extend(content.faq.iter().map(|f| {
        (
            "/faq/".to_string(),
            Visibility::Public,
            &f.source,
            &f.answer,
        )
    }));
    bodies.extend(content.pages.iter().map(|p| {
        (
            format!("/{}", p.slug),
            Visibility::Public,
            &p.source,
            &p.body,
        )
    }));
    let mut problems = Vec::new();
    for (page_url, visibility, source, body) in bodies {
        for link in &body.links {
            let Some(target) = internal_target(&page_url, &link.url) else {
                continue;
            };
            let known = |u: &str| {
                urls.contains(u)
                    || (visibility == Visibility::Customers && customers_only.contains(u))
            };
            if known(&target) || FUNCTION_PREFIXES.iter().any(|p| target.starts_with(p)) {
                continue;
            }
            // Pages live at `/kb/name`, sections at `/kb/`: suggest the other spelling.
            let other = match target.strip_suffix('/') {
                Some(t) if !t.is_empty() => t.to_string(),
                _ => format!("{target}/"),
            };
            let message = if customers_only.contains(&target) || customers_only.contains(&other) {
                format!(
                    "links to a customers-only page from a public one `{}`",
                    link.url
                )
            } else if known(&other) {
                format!(
                    "broken link: no page `{}` (did you mean `{other}`?)",
                    link.url
                )
            } else {
                format!("broken link: no page `{}`", link.url)
            };
            problems.push(
                Problem::new(&source.path, message).at_line(source.body_line + link.line - 1),
            );
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::Content(problems))
    }
}

/// The root-relative path a link points to, or `None` for external links and fragments.
fn internal_target(page_url: &str, link: &str) -> Option<String> {
    let path = link.split(['#', '?']).next().unwrap_or("");
    if path.is_empty() || path.starts_with("//") || path.contains(':') {
        return None;
    }
    let joined = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("{}{}", &page_url[..=page_url.rfind('/').unwrap_or(0)], path)
    };
    let mut parts: Vec<&str> = Vec::new();
    for seg in joined.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    let mut out = format!("/{}", parts.join("/"));
    if joined.ends_with('/') && out != "/" {
        out.push('/');
    }
    Some(out)
}

/// Today's date in `tz`.
pub(crate) fn today(now: DateTime<Utc>, tz: Tz) -> NaiveDate {
    now.with_timezone(&tz).date_naive()
}

/// A page to render: where it goes, which template, with what.
pub(crate) fn job(url: impl Into<String>, template: &'static str, ctx: Context) -> Job {
    Job {
        url: url.into(),
        template,
        ctx: crate::pages::Ctx::Ready(ctx),
    }
}

/// The search index entries of the public content.
pub(crate) fn search_entries<'a>(site: &'a Site<'a>) -> Vec<SearchDoc<'a>> {
    let mut docs: Vec<SearchDoc> = site
        .public_articles()
        .par_iter()
        .map(|a| SearchDoc {
            url: a.url(),
            kind: "article",
            title: Cow::Borrowed(&a.title),
            summary: Cow::Borrowed(&a.summary),
            body: Cow::Borrowed(&a.body.text),
            topic: Cow::Borrowed(&a.topic),
            subtopic: Cow::Borrowed(&a.subtopic),
            tags: a.tags.iter().map(|t| Cow::Borrowed(t.as_str())).collect(),
        })
        .collect();
    docs.extend(site.content().faq.iter().map(|f| SearchDoc {
        url: format!("/faq/#{}", f.slug),
        kind: "faq",
        title: Cow::Borrowed(&f.question),
        summary: Cow::Owned(content::first_sentence(&f.answer.text)),
        body: Cow::Borrowed(&f.answer.text),
        topic: Cow::Borrowed(&f.category),
        subtopic: Cow::Borrowed(""),
        tags: Vec::new(),
    }));
    docs.extend(site.public_events().iter().map(|e| SearchDoc {
        url: e.url(),
        kind: "event",
        title: Cow::Borrowed(&e.title),
        summary: Cow::Borrowed(&e.summary),
        body: Cow::Borrowed(&e.body.text),
        topic: Cow::Borrowed(&e.category),
        subtopic: Cow::Borrowed(""),
        tags: Vec::new(),
    }));
    docs.extend(site.public_documents().iter().map(|d| SearchDoc {
        url: d.url(),
        kind: "document",
        title: Cow::Borrowed(&d.title),
        summary: Cow::Borrowed(&d.description),
        body: Cow::Borrowed(""),
        topic: Cow::Borrowed("Documents"),
        subtopic: Cow::Borrowed(""),
        tags: Vec::new(),
    }));
    docs.extend(site.content().pages.iter().map(|p| SearchDoc {
        url: format!("/{}", p.slug),
        kind: "page",
        title: Cow::Borrowed(&p.title),
        summary: Cow::Borrowed(&p.description),
        body: Cow::Borrowed(&p.body.text),
        topic: Cow::Borrowed(""),
        subtopic: Cow::Borrowed(""),
        tags: Vec::new(),
    }));
    docs
}

#[cfg(test)]
mod tests {
    use super::internal_target;

    #[test]
    fn resolves_relative_links() {
        assert_eq!(
            internal_target("/kb/a/", "../b/").as_deref(),
            Some("/kb/b/")
        );
        assert_eq!(
            internal_target("/kb/a/", "/faq/#x").as_deref(),
            Some("/faq/")
        );
        assert_eq!(internal_target("/kb/a/", "https://x.org/").as_deref(), None);
        assert_eq!(internal_target("/kb/a/", "#top").as_deref(), None);
        assert_eq!(internal_target("/kb/a/", "mailto:a@b.c").as_deref(), None);
        assert_eq!(
            internal_target("/", "documents/x.pdf").as_deref(),
            Some("/documents/x.pdf")
        );
    }
}
