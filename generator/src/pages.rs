//! What each page of the public site shows: the Tera context for every page, built from the
//! content, and the non-HTML outputs (iCalendar, Atom, sitemap, robots.txt).

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use chrono_tz::Tz;
use serde_json::{json, Value};
use tera::Context;

use crate::builder::{job, search_entries, today};
use crate::calendar::{self, EventView};
use crate::config::SiteConfig;
use crate::content::{Article, Content, Document, Event, Visibility};
use crate::error::{Error, Problem, Result};
use crate::kb::{self, tag_url};
use crate::search::SearchDoc;

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
}

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
    events: Vec<&'a Event>,
    documents: Vec<&'a Document>,
    kb: kb::Index,
    content_root: std::path::PathBuf,
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
            events,
            documents,
            kb,
            content_root: content_root.to_path_buf(),
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
        c
    }

    /// What the search page needs besides its results, saved beside the index so the page
    /// can be rendered on demand (see [`crate::search_page`]).
    pub fn search_page_data(&self) -> Value {
        json!({
            "site": self.site_value,
            "footer_pages": self.footer,
            "year": self.today.year(),
            "topics": self.kb.topics.iter().map(|t| json!({"name": t.name, "key": t.slug})).collect::<Vec<_>>(),
        })
    }

    fn article_card(&self, a: &Article) -> Value {
        json!({
            "title": a.title, "url": a.url(), "summary": a.summary, "topic": a.topic,
            "subtopic": a.subtopic, "date": calendar::short_date(a.last_changed()),
            "date_iso": a.last_changed().to_string(),
        })
    }

    fn upcoming(&self) -> Vec<&'a Event> {
        self.events
            .iter()
            .copied()
            .filter(|e| e.last_day() >= self.today)
            .collect()
    }

    /// Every HTML page of the site.
    pub fn jobs(&self) -> Result<Vec<Job>> {
        let mut jobs = vec![
            self.home(),
            self.contact(),
            self.faq(),
            self.kb_index(),
            self.tags_index(),
            self.calendar_index(),
            self.documents_page(),
        ];
        jobs.extend(self.kb.topics.iter().map(|t| self.topic(t)));
        jobs.extend(self.kb.tags.iter().map(|t| self.tag(t)));
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
        let months = calendar::months(&self.events);
        jobs.extend(months.iter().enumerate().map(|(i, m)| {
            self.month(
                *m,
                i.checked_sub(1).map(|p| months[p]),
                months.get(i + 1).copied(),
            )
        }));
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
        Ok(jobs)
    }

    fn home(&self) -> Job {
        let mut recent: Vec<&&Article> = self.articles.iter().collect();
        recent.sort_by_key(|a| std::cmp::Reverse(a.last_changed()));
        let mut c = self.base("home", &self.config.title, "/", &self.config.tagline);
        c.insert(
            "recent",
            &recent
                .iter()
                .take(5)
                .map(|a| self.article_card(a))
                .collect::<Vec<_>>(),
        );
        c.insert(
            "upcoming",
            &self
                .upcoming()
                .iter()
                .take(3)
                .map(|e| EventView::new(e, self.now))
                .collect::<Vec<_>>(),
        );
        c.insert(
            "topics",
            &self
                .kb
                .topics
                .iter()
                .map(|t| json!({"name": t.name, "url": t.url(), "count": t.len()}))
                .collect::<Vec<_>>(),
        );
        job("/", "index.html", c)
    }

    fn contact(&self) -> Job {
        job(
            "/contact",
            "contact.html",
            self.base(
                "contact",
                "Contact us",
                "/contact",
                &format!(
                    "Address, phone numbers, e-mail and opening hours of {}",
                    self.config.title
                ),
            ),
        )
    }

    fn faq(&self) -> Job {
        let mut cats: Vec<(String, Vec<Value>)> = Vec::new();
        for f in &self.content.faq {
            let entry = json!({"slug": f.slug, "question": f.question, "html": f.answer.html});
            match cats.last_mut() {
                Some((name, list)) if *name == f.category => list.push(entry),
                _ => cats.push((f.category.clone(), vec![entry])),
            }
        }
        let cats: Vec<Value> = cats.into_iter().map(|(name, entries)| json!({"name": name, "slug": slug::slugify(&name), "entries": entries})).collect();
        let mut c = self.base(
            "faq",
            "Frequently asked questions",
            "/faq/",
            "Answers to the questions we are asked most often.",
        );
        c.insert("categories", &cats);
        job("/faq/", "faq.html", c)
    }

    fn kb_index(&self) -> Job {
        let topics: Vec<Value> = self
            .kb
            .topics
            .iter()
            .map(|t| {
                json!({
                    "name": t.name, "url": t.url(), "count": t.len(),
                    "subtopics": t.subtopics.iter().map(|s| json!({
                        "name": s.name, "url": format!("{}#{}", t.url(), s.slug), "count": s.articles.len(),
                        "articles": s.articles.iter().take(6).map(|&i| self.article_card(self.articles[i])).collect::<Vec<_>>(),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        let mut c = self.base(
            "kb",
            "Knowledge base",
            "/kb/",
            "How-to guides and answers, by topic.",
        );
        c.insert("topics", &topics);
        c.insert("tags", &self.tag_list());
        job("/kb/", "kb/index.html", c)
    }

    fn tag_list(&self) -> Vec<Value> {
        self.kb
            .tags
            .iter()
            .map(|t| json!({"name": t.name, "url": t.url(), "count": t.articles.len()}))
            .collect()
    }

    fn topic(&self, t: &kb::Topic) -> Job {
        let subs: Vec<Value> = t
            .subtopics
            .iter()
            .map(|s| json!({"name": s.name, "slug": s.slug, "articles": s.articles.iter().map(|&i| self.article_card(self.articles[i])).collect::<Vec<_>>()}))
            .collect();
        let mut c = self.base(
            "kb",
            &t.name,
            &t.url(),
            &format!("Knowledge-base articles about {}", t.name),
        );
        c.insert("topic", &json!({"name": t.name, "count": t.len()}));
        c.insert("subtopics", &subs);
        job(t.url(), "kb/topic.html", c)
    }

    fn tags_index(&self) -> Job {
        let mut c = self.base("kb", "Tags", "/kb/tags/", "Knowledge-base articles by tag.");
        c.insert("tags", &self.tag_list());
        job("/kb/tags/", "kb/tags.html", c)
    }

    fn tag(&self, t: &kb::Tag) -> Job {
        let mut c = self.base(
            "kb",
            &format!("Tagged “{}”", t.name),
            &t.url(),
            &format!("Articles tagged {}", t.name),
        );
        c.insert("tag", &t.name);
        c.insert(
            "articles",
            &t.articles
                .iter()
                .map(|&i| self.article_card(self.articles[i]))
                .collect::<Vec<_>>(),
        );
        job(t.url(), "kb/tag.html", c)
    }

    /// The context of `ctx`, building it if needed.
    pub fn context(&self, ctx: Ctx) -> Context {
        match ctx {
            Ctx::Ready(c) => c,
            Ctx::Article(i) => self.article(i),
            Ctx::Event(i) => self.event(self.events[i]),
        }
    }

    fn article(&self, i: usize) -> Context {
        let a = self.articles[i];
        let topic_url = format!("/kb/topic/{}", slug::slugify(&a.topic));
        let related: Vec<Value> = self
            .kb
            .related(&self.articles, i, 5)
            .into_iter()
            .map(|j| self.article_card(self.articles[j]))
            .collect();
        let mut c = self.base("kb", &a.title, &a.url(), &a.summary);
        c.insert(
            "article",
            &json!({
                "title": a.title, "summary": a.summary, "url": a.url(), "html": a.body.html, "toc": a.body.toc,
                "topic": a.topic, "topic_url": topic_url, "subtopic": a.subtopic,
                "subtopic_url": format!("{topic_url}#{}", slug::slugify(&a.subtopic)),
                "tags": a.tags.iter().map(|t| json!({"name": t, "url": tag_url(t)})).collect::<Vec<_>>(),
                "date": calendar::short_date(a.date), "date_iso": a.date.to_string(),
                "updated": a.updated.filter(|u| *u > a.date).map(calendar::short_date),
                "updated_iso": a.updated.map(|u| u.to_string()),
                "slug": a.slug,
            }),
        );
        c.insert("related", &related);
        c
    }

    fn calendar_index(&self) -> Job {
        let upcoming = self.upcoming();
        let mut groups: Vec<(NaiveDate, Vec<EventView>)> = Vec::new();
        for e in &upcoming {
            let m = e
                .start
                .date_naive()
                .with_day(1)
                .expect("day 1")
                .max(self.today.with_day(1).expect("day 1"));
            match groups.last_mut() {
                Some((gm, list)) if *gm == m => list.push(EventView::new(e, self.now)),
                _ => groups.push((m, vec![EventView::new(e, self.now)])),
            }
        }
        let groups: Vec<Value> = groups.into_iter().map(|(m, events)| json!({"name": m.format("%B %Y").to_string(), "url": calendar::month_url(m), "events": events})).collect();
        let past: Vec<EventView> = self
            .events
            .iter()
            .rev()
            .filter(|e| e.last_day() < self.today)
            .take(10)
            .map(|e| EventView::new(e, self.now))
            .collect();
        let months: Vec<Value> = calendar::months(&self.events)
            .into_iter()
            .map(|m| json!({"name": m.format("%B %Y").to_string(), "url": calendar::month_url(m)}))
            .collect();
        let mut c = self.base(
            "calendar",
            "Calendar",
            "/calendar/",
            "Seminars, webinars, training days and holiday closures.",
        );
        c.insert("groups", &groups);
        c.insert("past", &past);
        c.insert("months", &months);
        job("/calendar/", "calendar/index.html", c)
    }

    fn month(&self, m: NaiveDate, prev: Option<NaiveDate>, next: Option<NaiveDate>) -> Job {
        let url = calendar::month_url(m);
        let name = m.format("%B %Y").to_string();
        let end = m + Months::new(1);
        let events: Vec<EventView> = self
            .events
            .iter()
            .filter(|e| e.start.date_naive() < end && e.last_day() >= m)
            .map(|e| EventView::new(e, self.now))
            .collect();
        let link = |d: Option<NaiveDate>| {
            d.map(|d| json!({"name": d.format("%B %Y").to_string(), "url": calendar::month_url(d)}))
        };
        let mut c = self.base("calendar", &name, &url, &format!("Events in {name}"));
        c.insert("month", &name);
        c.insert("weeks", &calendar::grid(m, &self.events, self.today));
        c.insert("events", &events);
        c.insert("prev", &link(prev));
        c.insert("next", &link(next));
        c.insert(
            "weekdays",
            &[
                "Monday",
                "Tuesday",
                "Wednesday",
                "Thursday",
                "Friday",
                "Saturday",
                "Sunday",
            ],
        );
        job(url, "calendar/month.html", c)
    }

    fn event(&self, e: &Event) -> Context {
        let mut c = self.base("calendar", &e.title, &e.url(), &e.summary);
        c.insert("event", &EventView::new(e, self.now));
        c.insert("html", &e.body.html);
        c.insert(
            "month_url",
            &calendar::month_url(e.start.date_naive().with_day(1).expect("day 1")),
        );
        c
    }

    fn documents_page(&self) -> Job {
        let docs: Vec<Value> = self
            .documents
            .iter()
            .map(|d| json!({"title": d.title, "description": d.description, "url": d.url(), "kind": d.kind, "size": human_size(d.size), "bytes": d.size, "date": d.date.map(calendar::short_date), "file_name": d.file_name}))
            .collect();
        let mut c = self.base(
            "documents",
            "Documents",
            "/documents/",
            "Price lists, terms and guides to download.",
        );
        c.insert("documents", &docs);
        job("/documents/", "documents.html", c)
    }

    fn forms(&self) -> Vec<Job> {
        let mut jobs = Vec::new();
        let mut search = self.base(
            "search",
            "Search",
            "/search/",
            "Search the knowledge base, FAQ, calendar and documents.",
        );
        search.insert("query", "");
        search.insert("hits", &Vec::<Value>::new());
        search.insert(
            "topics",
            &self
                .kb
                .topics
                .iter()
                .map(|t| json!({"name": t.name, "key": t.slug}))
                .collect::<Vec<_>>(),
        );
        jobs.push(job("/search/", "search.html", search));
        let public_binders: Vec<&crate::config::Binder> =
            self.config.binders.iter().filter(|b| b.public).collect();
        let mut issue = self.base(
            "support",
            "Report an issue",
            "/issues/new",
            "Tell us about a problem; we reply by e-mail and you can follow progress online.",
        );
        issue.insert("binders", &public_binders);
        jobs.push(job("/issues/new", "forms/issue.html", issue));
        jobs.push(job(
            "/issues/track",
            "forms/track.html",
            self.base(
                "support",
                "Track an issue",
                "/issues/track",
                "Follow the progress of an issue you reported.",
            ),
        ));
        for (kind, title, description) in [
            (
                "login",
                "Request a portal login",
                "Ask for a customer login to see your invoices, quotes, cases and projects.",
            ),
            (
                "sales",
                "Ask our sales team",
                "Ask for prices, a demonstration or a quote.",
            ),
            (
                "estore",
                "Register for the eStore",
                "Open an account to order hardware and supplies online.",
            ),
        ] {
            let url = format!("/request/{kind}");
            let mut c = self.base("request", title, &url, description);
            c.insert("kind", kind);
            jobs.push(job(url, "forms/request.html", c));
        }
        jobs.push(job(
            "/newsletter",
            "forms/newsletter.html",
            self.base(
                "newsletter",
                "Newsletters",
                "/newsletter",
                "Sign up for product news and seminar announcements.",
            ),
        ));
        jobs.push(job(
            "/appointments",
            "forms/appointment.html",
            self.base(
                "contact",
                "Request an appointment",
                "/appointments",
                "Book a call or a visit with our team.",
            ),
        ));
        jobs
    }

    /// The non-HTML outputs: iCalendar feeds, the Atom feed, the sitemap and robots.txt.
    pub fn feeds(&self, page_urls: &[String]) -> Vec<(String, String)> {
        let mut out = vec![(
            "/calendar.ics".to_string(),
            crate::ics::calendar(
                self.config,
                &format!("{} events", self.config.title),
                &self.events,
                self.now,
            ),
        )];
        out.extend(self.events.iter().map(|e| {
            (
                e.ics_url(),
                crate::ics::calendar(self.config, &e.title, &[*e], self.now),
            )
        }));
        out.push((
            "/kb/atom.xml".into(),
            crate::feed::atom(self.config, self.tz, &self.articles),
        ));
        let lastmod: std::collections::HashMap<String, NaiveDate> = self
            .articles
            .iter()
            .map(|a| (a.url(), a.last_changed()))
            .collect();
        let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n");
        let mut urls: Vec<&String> = page_urls.iter().collect();
        urls.sort();
        for u in urls {
            xml.push_str(&format!(
                "  <url><loc>{}</loc>",
                xml_escape(&format!("{}{}", self.config.base_url, u))
            ));
            if let Some(d) = lastmod.get(u) {
                xml.push_str(&format!("<lastmod>{d}</lastmod>"));
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

/// "245 KB", "1.2 MB".
pub fn human_size(bytes: u64) -> String {
    match bytes {
        b if b < 1024 => format!("{b} bytes"),
        b if b < 1024 * 1024 => format!("{} KB", (b + 512) / 1024),
        b => format!("{:.1} MB", b as f64 / (1024.0 * 1024.0)),
    }
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
