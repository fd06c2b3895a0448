//! What each page of the public site shows: the Tera context for every page, built from the
//! content, and the non-HTML outputs (iCalendar, Atom, sitemap, robots.txt).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::hash::{Hash, Hasher};

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Tz;
use rayon::prelude::*;
use serde_json::{json, Value};
use tera::Context;

use crate::config::SiteConfig;
use crate::content::{Article, Content, Document, Event, Visibility};
use crate::dates::today;
use crate::error::{Error, Problem, Result};
use crate::kb;
use portal_core::search::SearchDoc;
use portal_core::site::{DocumentInfo, EventInfo, NewsletterSettings, Settings, SiteData};

mod calendar_pages;
use calendar_pages::Calendar;
mod kb_pages;
mod other_pages;

/// One page to render.
pub struct Job {
    /// Root-relative URL.
    pub url: String,
    /// Template name.
    pub template: &'static str,
    /// Its context, or what to build it from.
    pub ctx: Ctx,
}

/// A page's template context, built ahead for the few one-off pages and only at render time
/// for articles and events, so a large site never holds every context at once.
pub enum Ctx {
    /// Built already.
    Ready(Context),
    /// Public article number `n`.
    Article(usize),
    /// Public event number `n`.
    Event(usize),
    /// Customers-only article number `n`.
    PrivateArticle(usize),
    /// Customers-only event number `n`.
    PrivateEvent(usize),
    /// Topic number `n` of the knowledge base.
    Topic(usize),
    /// Tag number `n` of the knowledge base.
    Tag(usize),
}

pub use crate::output::PRIVATE_PREFIX;

/// How many related articles an article's page lists.
pub(crate) const RELATED: usize = 5;

/// Top-level names that plain pages may not take.
const RESERVED: &[&str] = &[
    "kb",
    "faq",
    "calendar",
    "documents",
    "contact",
    "search",
    "issues",
    "request",
    "newsletter",
    "appointments",
    "static",
    "api",
    "my",
    "track",
    "login",
    "logout",
    "activate",
];

/// The public site being built.
pub struct Site<'a> {
    config: &'a SiteConfig,
    tz: Tz,
    content: &'a Content,
    now: DateTime<Utc>,
    today: NaiveDate,
    site_value: Value,
    footer: Value,
    articles: Vec<&'a Article>,
    private_articles: Vec<&'a Article>,
    private_events: Vec<&'a Event>,
    events: Vec<&'a Event>,
    documents: Vec<&'a Document>,
    kb: kb::Index,
    content_root: std::path::PathBuf,
    assets: BTreeMap<String, String>,
    /// See [`Site::card_sums`].
    cards: std::sync::OnceLock<Vec<u64>>,
}

impl<'a> Site<'a> {
    /// Prepares the public view of `content`.
    pub fn new(
        config: &'a SiteConfig,
        tz: Tz,
        content: &'a Content,
        now: DateTime<Utc>,
        content_root: &std::path::Path,
    ) -> Self {
        let articles: Vec<&Article> = content
            .articles
            .iter()
            .filter(|a| a.visibility == Visibility::Public)
            .collect();
        let events = content
            .events
            .iter()
            .filter(|e| e.visibility == Visibility::Public)
            .collect();
        let documents = content
            .documents
            .iter()
            .filter(|d| d.visibility == Visibility::Public)
            .collect();
        let private_events = content
            .events
            .iter()
            .filter(|e| e.visibility == Visibility::Customers)
            .collect();
        let private_articles = content
            .articles
            .iter()
            .filter(|a| a.visibility == Visibility::Customers)
            .collect();
        let kb = kb::Index::new(&articles);
        let footer = json!(content
            .pages
            .iter()
            .map(|p| json!({"title": p.title, "url": format!("/{}", p.slug)}))
            .collect::<Vec<_>>());
        Site {
            config,
            tz,
            content,
            now,
            today: today(now, tz),
            site_value: serde_json::to_value(config).expect("settings serialise"),
            footer,
            articles,
            private_articles,
            private_events,
            events,
            documents,
            kb,
            content_root: content_root.to_path_buf(),
            assets: BTreeMap::new(),
            cards: Default::default(),
        }
    }

    /// All content, public or not.
    pub fn content(&self) -> &Content {
        self.content
    }
    /// Public articles.
    pub fn public_articles(&self) -> &[&'a Article] {
        &self.articles
    }
    /// Public events.
    pub fn public_events(&self) -> &[&'a Event] {
        &self.events
    }
    /// Public documents.
    pub fn public_documents(&self) -> Vec<&'a Document> {
        self.documents.clone()
    }
    /// Customers-only documents (published in the private folder).
    pub fn private_documents(&self) -> Vec<&'a Document> {
        self.content
            .documents
            .iter()
            .filter(|d| d.visibility == Visibility::Customers)
            .collect()
    }
    /// The search index entries.
    pub fn search_docs(&self) -> Vec<SearchDoc<'_>> {
        search_entries(self)
    }

    fn base(&self, section: &str, title: &str, url: &str, description: &str) -> Context {
        let mut c = Context::new();
        c.insert("site", &self.site_value);
        c.insert("section", section);
        c.insert("title", title);
        c.insert("url", url);
        c.insert("canonical", &format!("{}{}", self.config.base_url, url));
        c.insert("description", description);
        c.insert("footer_pages", &self.footer);
        c.insert("year", &self.today.year());
        c.insert("assets", &self.assets);
        c.insert("files", &portal_core::files::file_fields());
        c
    }

    /// Sets the theme's files as pages link them: `style.css` → `/static/style.HASH.css`
    /// (see [`crate::theme::Theme::assets`]).
    pub fn with_assets(mut self, assets: BTreeMap<String, String>) -> Self {
        self.assets = assets;
        self
    }

    /// What the functions need from this build (see [`portal_core::site`]): the settings,
    /// every event with its registration (customers-only ones too, marked), and the fixed
    /// context of pages they render on request, such as search results.
    pub fn site_data(&self) -> SiteData {
        let c = self.config;
        SiteData {
            settings: Settings {
                business: c.title.clone(),
                base_url: c.base_url.clone(),
                business_email: c
                    .contact
                    .emails
                    .first()
                    .map(|e| e.value.clone())
                    .unwrap_or_default(),
                tracking_prefix: c.tracking_prefix.clone(),
                binders: c.binders.clone(),
                newsletters: c
                    .newsletters
                    .iter()
                    .map(|n| NewsletterSettings {
                        id: n.id.clone(),
                        name: n.name.clone(),
                    })
                    .collect(),
                limits: c.limits,
            },
            events: self
                .content
                .events
                .iter()
                .map(|e| EventInfo {
                    slug: e.slug.clone(),
                    title: e.title.clone(),
                    when: crate::calendar::when(e),
                    location: e.location.clone(),
                    starts: e.start.timestamp(),
                    capacity: e.registration.as_ref().map(|r| r.capacity),
                    closes: e.registration.as_ref().map(|r| r.closes.timestamp()),
                    customers_only: e.visibility == Visibility::Customers,
                })
                .collect(),
            documents: self
                .private_documents()
                .iter()
                .map(|d| DocumentInfo {
                    file_name: d.file_name.clone(),
                    title: d.title.clone(),
                    description: d.description.clone(),
                    media_type: portal_core::files::type_of_name(&d.file_name)
                        .unwrap_or("application/octet-stream")
                        .to_string(),
                    size: d.size,
                    date: d.date.map(|d| d.to_string()),
                })
                .collect(),
            page: json!({
                "site": self.site_value,
                "footer_pages": self.footer,
                "year": self.today.year(),
                "assets": self.assets,
                "files": portal_core::files::file_fields(),
                "topics": self.kb.topics.iter().map(|t| json!({"name": t.name, "key": t.slug})).collect::<Vec<_>>(),
            }),
        }
    }

    /// Every HTML page of the site.
    pub fn jobs(&self) -> Result<Vec<Job>> {
        let mut jobs = vec![
            self.home(),
            self.contact(),
            self.faq(),
            self.kb_index(),
            self.tags_index(),
            self.calendar_index(Calendar::Public),
            self.calendar_index(Calendar::Customers),
            self.documents_page(),
        ];
        jobs.extend((0..self.kb.topics.len()).map(|i| self.topic(i)));
        jobs.extend((0..self.kb.tags.len()).map(|i| self.tag(i)));
        jobs.extend(self.private_events.iter().enumerate().map(|(i, e)| Job {
            url: private_event_url(e),
            template: "calendar/event.html",
            ctx: Ctx::PrivateEvent(i),
        }));
        jobs.extend(self.private_articles.iter().enumerate().map(|(i, a)| Job {
            url: private_url(a),
            template: "kb/article.html",
            ctx: Ctx::PrivateArticle(i),
        }));
        jobs.extend(self.articles.iter().enumerate().map(|(i, a)| Job {
            url: a.url(),
            template: "kb/article.html",
            ctx: Ctx::Article(i),
        }));
        jobs.extend(self.events.iter().enumerate().map(|(i, e)| Job {
            url: e.url(),
            template: "calendar/event.html",
            ctx: Ctx::Event(i),
        }));
        jobs.extend(self.months(Calendar::Public));
        jobs.extend(self.months(Calendar::Customers));
        jobs.extend(self.forms());
        let mut problems = Vec::new();
        for p in &self.content.pages {
            if RESERVED.contains(&p.slug.as_str()) {
                problems.push(Problem::new(
                    &p.source.path,
                    format!(
                        "the page name `{}` is taken by the portal; rename the file",
                        p.slug
                    ),
                ));
                continue;
            }
            let mut c = self.base("page", &p.title, &format!("/{}", p.slug), &p.description);
            c.insert("html", &p.body.html);
            c.insert("toc", &p.body.toc);
            jobs.push(job(format!("/{}", p.slug), "page.html", c));
        }
        if !problems.is_empty() {
            return Err(Error::Content(problems));
        }
        jobs.push(job(
            "/404.html",
            "404.html",
            self.base("404", "Page not found", "/404.html", ""),
        ));
        self.check_one_page_a_file(&jobs)?;
        Ok(jobs)
    }

    /// Refuses two pages written to one file (an article named `index` and the knowledge
    /// base's home, a page named `404` and the not-found page): the later would silently
    /// replace the earlier.
    fn check_one_page_a_file(&self, jobs: &[Job]) -> Result<()> {
        let mut files: std::collections::HashMap<std::path::PathBuf, &str> =
            std::collections::HashMap::with_capacity(jobs.len());
        let mut problems = Vec::new();
        for j in jobs {
            let Some(first) = files.insert(crate::output::file_for(&j.url), &j.url) else {
                continue;
            };
            let (this, other) = (self.source_of(&j.url), self.source_of(first));
            let (file, url, taken) = match (this, other) {
                (Some(f), _) => (f, &j.url, first),
                (None, Some(f)) => (f, &first.to_string(), j.url.as_str()),
                (None, None) => (std::path::Path::new("content"), &j.url, first),
            };
            let by = match self.source_of(taken) {
                Some(f) if f != file => format!("the page of {}", f.display()),
                _ => "a page the portal makes".to_string(),
            };
            problems.push(Problem::new(
                file,
                format!("its page `{url}` would be written over `{taken}`, {by}; rename the file"),
            ));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Error::Content(problems))
        }
    }

    /// The content file a page's URL was made from, if one was.
    fn source_of(&self, url: &str) -> Option<&'a std::path::Path> {
        let content = self.content;
        let slug = url.rsplit('/').next().unwrap_or_default();
        let articles = content.articles.iter().filter(|a| a.slug == slug);
        for a in articles {
            if a.url() == url || private_url(a) == url {
                return Some(&a.source.path);
            }
        }
        if let Some(e) = content.events.iter().find(|e| e.page_url() == url) {
            return Some(&e.source.path);
        }
        content
            .pages
            .iter()
            .find(|p| format!("/{}", p.slug) == url)
            .map(|p| p.source.path.as_path())
    }

    /// The context of `ctx`, building it if needed.
    pub fn context(&self, ctx: Ctx) -> Context {
        match ctx {
            Ctx::Ready(c) => c,
            Ctx::Article(i) => self.article(i),
            Ctx::Topic(i) => self.topic_context(&self.kb.topics[i]),
            Ctx::Tag(i) => self.tag_context(&self.kb.tags[i]),
            Ctx::Event(i) => self.event(self.events[i]),
            Ctx::PrivateArticle(i) => self.private_article(self.private_articles[i]),
            Ctx::PrivateEvent(i) => {
                let e = self.private_events[i];
                let mut c = self.event(e);
                c.insert(
                    "registration_action",
                    &format!("/api/my/events/{}/registrations", e.slug),
                );
                c
            }
        }
    }

    /// A sum of what every page shares (settings, footer, the theme's files, the year): when
    /// it changes, every page may have.
    pub fn shared_fingerprint(&self) -> u64 {
        let mut h = std::hash::DefaultHasher::new();
        hash_json(&mut h, &self.base("", "", "", "").into_json());
        h.finish()
    }

    /// A sum of everything `job`'s page is rendered from but the theme and what
    /// [`Site::shared_fingerprint`] covers: equal sums, equal pages. Articles are summed from
    /// their files' digests and their related articles' cards, without building their
    /// contexts; other pages from their whole context.
    pub fn fingerprint(&self, job: &Job) -> u64 {
        let mut h = std::hash::DefaultHasher::new();
        job.template.hash(&mut h);
        match &job.ctx {
            Ctx::Ready(c) => hash_json(&mut h, &c.clone().into_json()),
            Ctx::Article(i) => {
                0u8.hash(&mut h);
                self.articles[*i].source.digest.hash(&mut h);
                let cards = self.card_sums();
                for j in self.kb.related(&self.articles, *i, RELATED) {
                    cards[j].hash(&mut h);
                }
            }
            Ctx::Topic(i) => self.topic_sum(&self.kb.topics[*i], &mut h),
            Ctx::Tag(i) => self.tag_sum(&self.kb.tags[*i], &mut h),
            Ctx::PrivateArticle(i) => {
                1u8.hash(&mut h);
                self.private_articles[*i].source.digest.hash(&mut h);
            }
            Ctx::Event(i) => hash_json(&mut h, &self.context(Ctx::Event(*i)).into_json()),
            Ctx::PrivateEvent(i) => {
                hash_json(&mut h, &self.context(Ctx::PrivateEvent(*i)).into_json())
            }
        }
        h.finish()
    }

    /// Each public article's card's sum (see `Site::article_card`), made once.
    fn card_sums(&self) -> &[u64] {
        self.cards.get_or_init(|| {
            self.articles
                .par_iter()
                .map(|a| {
                    let mut h = std::hash::DefaultHasher::new();
                    (&a.title, &a.slug, &a.summary, &a.topic, &a.subtopic).hash(&mut h);
                    a.last_changed().hash(&mut h);
                    h.finish()
                })
                .collect()
        })
    }

    /// The non-HTML outputs: iCalendar feeds, the Atom feed, the sitemap and robots.txt.
    pub fn feeds(&self, page_urls: &[String]) -> Vec<(String, String)> {
        let all = self.events_of(Calendar::Customers);
        let commits = crate::ics::last_commits(&all);
        let mut out = vec![(
            "/calendar.ics".to_string(),
            crate::ics::calendar(
                self.config,
                &format!("{} events", self.config.title),
                &self.events,
                &commits,
            ),
        )];
        // The customers' feed, read through each login's private address, and their own
        // events' files, both in the private folder.
        out.push((
            Calendar::Customers.feed(),
            crate::ics::calendar(
                self.config,
                &format!("{} events for customers", self.config.title),
                &all,
                &commits,
            ),
        ));
        out.extend(all.iter().map(|e| {
            (
                e.page_ics_url(),
                crate::ics::calendar(self.config, &e.title, &[*e], &commits),
            )
        }));
        out.push((
            "/kb/atom.xml".into(),
            crate::feed::atom(self.config, self.tz, &self.articles),
        ));
        let lastmod: std::collections::HashMap<&str, NaiveDate> = self
            .articles
            .iter()
            .map(|a| (a.slug.as_str(), a.last_changed()))
            .collect();
        let mut xml = String::with_capacity(page_urls.len() * 100 + 200);
        xml.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n");
        let mut urls: Vec<&String> = page_urls.iter().collect();
        urls.sort_unstable();
        let base = xml_escape(&self.config.base_url);
        for u in urls {
            xml.push_str("  <url><loc>");
            xml.push_str(&base);
            xml.push_str(&xml_escape(u));
            xml.push_str("</loc>");
            if let Some(d) = u.strip_prefix("/kb/").and_then(|slug| lastmod.get(slug)) {
                let _ = write!(xml, "<lastmod>{d}</lastmod>");
            }
            xml.push_str("</url>\n");
        }
        xml.push_str("</urlset>\n");
        out.push(("/sitemap.xml".into(), xml));
        out.push((
            "/robots.txt".into(),
            format!("User-agent: *\nAllow: /\nDisallow: /api/\nDisallow: /track/\nDisallow: /my/\n\nSitemap: {}/sitemap.xml\n", self.config.base_url),
        ));
        let _ = &self.content_root;
        out
    }
}

/// Adds `value`, as JSON text, to `h`.
pub(crate) fn hash_json(h: &mut impl Hasher, value: &Value) {
    struct Sum<'a, H>(&'a mut H);
    impl<H: Hasher> std::io::Write for Sum<'_, H> {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.write(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    serde_json::to_writer(Sum(h), value).expect("JSON values serialise");
}

/// "245 KB", "1.2 MB".
pub fn human_size(bytes: u64) -> String {
    match bytes {
        b if b < 1024 => format!("{b} bytes"),
        b if b < 1024 * 1024 => format!("{} KB", (b + 512) / 1024),
        b => format!("{:.1} MB", b as f64 / (1024.0 * 1024.0)),
    }
}

fn xml_escape(s: &str) -> Cow<'_, str> {
    if !s.contains(['&', '<', '>', '"']) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;"),
    )
}

/// The search index entries of the public content.
fn search_entries<'a>(site: &'a Site<'a>) -> Vec<SearchDoc<'a>> {
    let mut docs: Vec<SearchDoc> = site
        .public_articles()
        .par_iter()
        .map(|a| SearchDoc {
            tags: a.tags.iter().map(|t| Cow::Borrowed(t.as_str())).collect(),
            subtopic: Cow::Borrowed(&a.subtopic),
            ..entry(
                a.url(),
                "article",
                &a.title,
                Cow::Borrowed(&a.summary),
                &a.body.text,
                &a.topic,
            )
        })
        .collect();
    docs.extend(site.content().faq.iter().map(|f| {
        let summary = Cow::Owned(crate::content::first_sentence(&f.answer.text));
        entry(
            format!("/faq/#{}", f.slug),
            "faq",
            &f.question,
            summary,
            &f.answer.text,
            &f.category,
        )
    }));
    docs.extend(site.public_events().iter().map(|e| {
        entry(
            e.url(),
            "event",
            &e.title,
            Cow::Borrowed(&e.summary),
            &e.body.text,
            &e.category,
        )
    }));
    docs.extend(site.public_documents().iter().map(|d| {
        entry(
            d.url(),
            "document",
            &d.title,
            Cow::Borrowed(&d.description),
            "",
            "Documents",
        )
    }));
    docs.extend(site.content().pages.iter().map(|p| {
        entry(
            format!("/{}", p.slug),
            "page",
            &p.title,
            Cow::Borrowed(&p.description),
            &p.body.text,
            "",
        )
    }));
    docs
}

/// The address of a customers-only article: `/my/kb/{slug}`.
pub fn private_url(a: &Article) -> String {
    format!("{PRIVATE_PREFIX}kb/{}", a.slug)
}

/// The address of a customers-only event: `/my/calendar/{slug}`.
pub fn private_event_url(e: &Event) -> String {
    e.page_url()
}

/// The entries of the customers' index: everything public, and the customers-only articles,
/// events and documents.
pub fn customer_search_entries<'a>(site: &'a Site<'a>) -> Vec<SearchDoc<'a>> {
    let mut docs = search_entries(site);
    docs.extend(customers_only_entries(site));
    docs
}

/// The entries only the customers' index has: customers-only articles, events and documents.
pub fn customers_only_entries<'a>(site: &'a Site<'a>) -> Vec<SearchDoc<'a>> {
    let mut docs = Vec::new();
    docs.extend(site.private_articles.iter().map(|a| SearchDoc {
        tags: a.tags.iter().map(|t| Cow::Borrowed(t.as_str())).collect(),
        subtopic: Cow::Borrowed(&a.subtopic),
        ..entry(
            private_url(a),
            "article",
            &a.title,
            Cow::Borrowed(&a.summary),
            &a.body.text,
            &a.topic,
        )
    }));
    docs.extend(site.private_events.iter().map(|e| {
        entry(
            private_event_url(e),
            "event",
            &e.title,
            Cow::Borrowed(&e.summary),
            &e.body.text,
            &e.category,
        )
    }));
    docs.extend(site.private_documents().into_iter().map(|d| {
        entry(
            portal_core::site::customer_document_url(&d.file_name),
            "document",
            &d.title,
            Cow::Borrowed(&d.description),
            "",
            "Documents",
        )
    }));
    docs
}

/// A search entry without subtopic or tags.
fn entry<'a>(
    url: String,
    kind: &'static str,
    title: &'a str,
    summary: Cow<'a, str>,
    body: &'a str,
    topic: &'a str,
) -> SearchDoc<'a> {
    SearchDoc {
        url,
        kind,
        title: Cow::Borrowed(title),
        summary,
        body: Cow::Borrowed(body),
        topic: Cow::Borrowed(topic),
        subtopic: Cow::Borrowed(""),
        tags: Vec::new(),
    }
}

/// A page to render: where it goes, which template, with what.
pub(crate) fn job(url: impl Into<String>, template: &'static str, ctx: Context) -> Job {
    Job {
        url: url.into(),
        template,
        ctx: Ctx::Ready(ctx),
    }
}
