//! Reading `content/`: every Markdown file parsed (in parallel) into typed records —
//! knowledge-base articles, FAQ entries, calendar events, public documents and plain pages.
//!
//! | folder                | record        | URL                          |
//! |-----------------------|---------------|------------------------------|
//! | `kb/**/*.md`          | [`Article`]   | `/kb/{slug}`                 |
//! | `faq/*.md`            | [`FaqEntry`]  | `/faq/#{slug}`               |
//! | `calendar/*.md`       | [`Event`]     | `/calendar/{slug}`           |
//! | `documents/*` + `.toml` sidecar | [`Document`] | `/documents/{file}`  |
//! | `pages/*.md`          | [`Page`]      | `/{slug}`                    |

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate};
use chrono_tz::Tz;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::dates::FmDate;
use crate::error::{Error, Problem};
use crate::frontmatter;
use crate::markdown::{self, Rendered};

/// Who may see a piece of content.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    /// Everyone: the public site and the public search index.
    #[default]
    Public,
    /// Logged-in customers only: left out of the public site and index.
    Customers,
}

/// Where a Markdown body came from, for link errors.
#[derive(Debug, Clone)]
pub struct Source {
    /// The content file.
    pub path: PathBuf,
    /// 1-based line of the body's first line.
    pub body_line: usize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ArticleMeta {
    title: String,
    #[serde(default)]
    summary: Option<String>,
    topic: String,
    #[serde(default)]
    subtopic: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    date: FmDate,
    #[serde(default)]
    updated: Option<FmDate>,
    #[serde(default)]
    visibility: Visibility,
    #[serde(default)]
    weight: i32,
    #[serde(default)]
    draft: bool,
}

/// A knowledge-base article.
#[derive(Debug, Clone)]
pub struct Article {
    /// From the file name.
    pub slug: String,
    /// Title.
    pub title: String,
    /// One or two sentences; the first paragraph's text when not given.
    pub summary: String,
    /// Topic name.
    pub topic: String,
    /// Subtopic name ("General" when not given).
    pub subtopic: String,
    /// Tags as written.
    pub tags: Vec<String>,
    /// First published.
    pub date: NaiveDate,
    /// Last changed, if after publication.
    pub updated: Option<NaiveDate>,
    /// Who may read it.
    pub visibility: Visibility,
    /// Sort order within a subtopic (lower first).
    pub weight: i32,
    /// Rendered body.
    pub body: Rendered,
    /// The file it came from.
    pub source: Source,
}

impl Article {
    /// `/kb/{slug}`.
    pub fn url(&self) -> String {
        format!("/kb/{}", self.slug)
    }
    /// The later of `date` and `updated`.
    pub fn last_changed(&self) -> NaiveDate {
        self.updated.map_or(self.date, |u| u.max(self.date))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FaqMeta {
    #[serde(alias = "title")]
    question: String,
    category: String,
    #[serde(default)]
    weight: i32,
}

/// One question and answer.
#[derive(Debug, Clone)]
pub struct FaqEntry {
    /// Anchor id, from the file name.
    pub slug: String,
    /// The question.
    pub question: String,
    /// Category heading it is grouped under.
    pub category: String,
    /// Order within the category.
    pub weight: i32,
    /// The answer.
    pub answer: Rendered,
    /// The file it came from.
    pub source: Source,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EventMeta {
    title: String,
    start: FmDate,
    #[serde(default)]
    end: Option<FmDate>,
    #[serde(default)]
    all_day: Option<bool>,
    #[serde(default)]
    location: Option<String>,
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    summary: Option<String>,
    #[serde(default)]
    timezone: Option<String>,
    #[serde(default)]
    registration: Option<RegistrationMeta>,
    #[serde(default)]
    visibility: Visibility,
    #[serde(default)]
    draft: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegistrationMeta {
    capacity: u32,
    #[serde(default)]
    closes: Option<FmDate>,
}

/// Registration settings of an event.
#[derive(Debug, Clone, Serialize)]
pub struct Registration {
    /// Places available; later registrations join a waiting list.
    pub capacity: u32,
    /// When registration closes (defaults to the start).
    pub closes: DateTime<Tz>,
}

/// A calendar event.
#[derive(Debug, Clone)]
pub struct Event {
    /// From the file name; also the event id the registration API uses.
    pub slug: String,
    /// Title.
    pub title: String,
    /// Start, in the event's time zone (midnight for all-day events).
    pub start: DateTime<Tz>,
    /// End; for all-day events, midnight after the last day.
    pub end: DateTime<Tz>,
    /// Whether the event takes whole days.
    pub all_day: bool,
    /// Where it takes place.
    pub location: Option<String>,
    /// e.g. "Seminar", "Webinar", "Closure".
    pub category: String,
    /// Short description.
    pub summary: String,
    /// Registration, when people can sign up.
    pub registration: Option<Registration>,
    /// Who may see it.
    pub visibility: Visibility,
    /// Rendered body.
    pub body: Rendered,
    /// The file it came from.
    pub source: Source,
}

impl Event {
    /// `/calendar/{slug}`.
    pub fn url(&self) -> String {
        format!("/calendar/{}", self.slug)
    }
    /// `/calendar/{slug}.ics`.
    pub fn ics_url(&self) -> String {
        format!("/calendar/{}.ics", self.slug)
    }
    /// The last day the event covers (inclusive).
    pub fn last_day(&self) -> NaiveDate {
        if self.all_day {
            self.end
                .date_naive()
                .pred_opt()
                .unwrap_or(self.end.date_naive())
        } else {
            self.end.date_naive()
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DocumentMeta {
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    date: Option<FmDate>,
    #[serde(default)]
    visibility: Visibility,
}

/// A public document: a file plus its `.toml` sidecar.
#[derive(Debug, Clone)]
pub struct Document {
    /// File name, also the last part of its URL.
    pub file_name: String,
    /// Title.
    pub title: String,
    /// What it is.
    pub description: String,
    /// File type shown to people, e.g. "PDF".
    pub kind: String,
    /// Size in bytes.
    pub size: u64,
    /// Publication date.
    pub date: Option<NaiveDate>,
    /// Who may see it.
    pub visibility: Visibility,
    /// The file on disk.
    pub path: PathBuf,
}

impl Document {
    /// `/documents/{file}`.
    pub fn url(&self) -> String {
        format!("/documents/{}", self.file_name)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PageMeta {
    title: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    weight: i32,
}

/// A free-standing page such as "About us" or "Privacy".
#[derive(Debug, Clone)]
pub struct Page {
    /// From the file name.
    pub slug: String,
    /// Title.
    pub title: String,
    /// Meta description.
    pub description: String,
    /// Order in the footer.
    pub weight: i32,
    /// Rendered body.
    pub body: Rendered,
    /// The file it came from.
    pub source: Source,
}

/// Everything read from `content/`.
#[derive(Debug, Default)]
pub struct Content {
    /// Knowledge-base articles, public and customers-only.
    pub articles: Vec<Article>,
    /// FAQ entries.
    pub faq: Vec<FaqEntry>,
    /// Calendar events, public and customers-only.
    pub events: Vec<Event>,
    /// Documents.
    pub documents: Vec<Document>,
    /// Plain pages.
    pub pages: Vec<Page>,
}

enum Item {
    Article(Article),
    Faq(FaqEntry),
    Event(Event),
    Document(Document),
    Page(Page),
    Skip,
}

/// Reads every content file under `root`, with dates in `tz`.
pub fn load(root: &Path, tz: Tz) -> Result<Content, Error> {
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(root).sort_by_file_name() {
        let entry = entry.map_err(|e| {
            let path = e.path().unwrap_or(root).to_path_buf();
            Error::io(
                &path,
                e.into_io_error()
                    .unwrap_or_else(|| std::io::Error::other("loop in folder links")),
            )
        })?;
        let name = entry.file_name().to_string_lossy();
        if entry.file_type().is_file() && !name.starts_with('.') {
            files.push(entry.into_path());
        }
    }
    let results: Vec<Result<Item, Problem>> =
        files.par_iter().map(|p| load_file(root, p, tz)).collect();
    let mut content = Content::default();
    let mut problems = Vec::new();
    for r in results {
        match r {
            Ok(Item::Article(a)) => content.articles.push(a),
            Ok(Item::Faq(f)) => content.faq.push(f),
            Ok(Item::Event(e)) => content.events.push(e),
            Ok(Item::Document(d)) => content.documents.push(d),
            Ok(Item::Page(p)) => content.pages.push(p),
            Ok(Item::Skip) => {}
            Err(p) => problems.push(p),
        }
    }
    check_unique(
        &mut problems,
        content.articles.iter().map(|a| (&a.slug, &a.source.path)),
        "article",
    );
    check_unique(
        &mut problems,
        content.events.iter().map(|e| (&e.slug, &e.source.path)),
        "event",
    );
    check_unique(
        &mut problems,
        content.pages.iter().map(|p| (&p.slug, &p.source.path)),
        "page",
    );
    if !problems.is_empty() {
        return Err(Error::Content(problems));
    }
    content.articles.sort_by(|a, b| {
        (&a.topic, &a.subtopic, a.weight, &a.title).cmp(&(
            &b.topic,
            &b.subtopic,
            b.weight,
            &b.title,
        ))
    });
    content.faq.sort_by(|a, b| {
        (&a.category, a.weight, &a.question).cmp(&(&b.category, b.weight, &b.question))
    });
    content
        .events
        .sort_by(|a, b| (a.start, &a.slug).cmp(&(b.start, &b.slug)));
    content.documents.sort_by(|a, b| a.title.cmp(&b.title));
    content
        .pages
        .sort_by(|a, b| (a.weight, &a.title).cmp(&(b.weight, &b.title)));
    Ok(content)
}

fn check_unique<'a>(
    problems: &mut Vec<Problem>,
    items: impl Iterator<Item = (&'a String, &'a PathBuf)>,
    what: &str,
) {
    let mut seen: HashMap<&str, &Path> = HashMap::new();
    for (slug, path) in items {
        if let Some(first) = seen.insert(slug, path) {
            problems.push(Problem::new(
                path,
                format!(
                    "another {what} already uses the name `{slug}` ({})",
                    first.display()
                ),
            ));
        }
    }
}

fn load_file(root: &Path, path: &Path, tz: Tz) -> Result<Item, Problem> {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let section = rel
        .components()
        .next()
        .and_then(|c| c.as_os_str().to_str())
        .unwrap_or("");
    let is_md = path.extension().is_some_and(|e| e == "md");
    if section == "documents" {
        return load_document(path, tz);
    }
    if !is_md || rel.components().count() == 1 {
        return Ok(Item::Skip);
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| Problem::new(path, format!("cannot read: {e}")))?;
    let slug = slug::slugify(path.file_stem().unwrap_or_default().to_string_lossy());
    match section {
        "kb" => load_article(path, &text, slug, tz),
        "faq" => {
            let d = frontmatter::parse::<FaqMeta>(path, &text)?;
            Ok(Item::Faq(FaqEntry {
                slug,
                question: d.meta.question,
                category: d.meta.category,
                weight: d.meta.weight,
                answer: markdown::render(&d.body),
                source: Source {
                    path: path.to_path_buf(),
                    body_line: d.body_line,
                },
            }))
        }
        "calendar" => load_event(path, &text, slug, tz),
        "pages" => {
            let d = frontmatter::parse::<PageMeta>(path, &text)?;
            let body = markdown::render(&d.body);
            Ok(Item::Page(Page {
                slug,
                title: d.meta.title,
                description: d
                    .meta
                    .description
                    .unwrap_or_else(|| first_sentence(&body.text)),
                weight: d.meta.weight,
                body,
                source: Source {
                    path: path.to_path_buf(),
                    body_line: d.body_line,
                },
            }))
        }
        _ => Ok(Item::Skip),
    }
}

fn load_article(path: &Path, text: &str, slug: String, tz: Tz) -> Result<Item, Problem> {
    let d = frontmatter::parse::<ArticleMeta>(path, text)?;
    let m = d.meta;
    if m.draft {
        return Ok(Item::Skip);
    }
    if m.topic.trim().is_empty() {
        return Err(Problem::new(path, "a topic is required").field("topic"));
    }
    let body = markdown::render(&d.body);
    Ok(Item::Article(Article {
        slug,
        summary: m.summary.unwrap_or_else(|| first_sentence(&body.text)),
        title: m.title,
        topic: m.topic.trim().to_string(),
        subtopic: m
            .subtopic
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "General".into()),
        tags: m.tags,
        date: m.date.date(tz),
        updated: m.updated.map(|u| u.date(tz)),
        visibility: m.visibility,
        weight: m.weight,
        body,
        source: Source {
            path: path.to_path_buf(),
            body_line: d.body_line,
        },
    }))
}

fn load_event(path: &Path, text: &str, slug: String, site_tz: Tz) -> Result<Item, Problem> {
    let d = frontmatter::parse::<EventMeta>(path, text)?;
    let m = d.meta;
    if m.draft {
        return Ok(Item::Skip);
    }
    let tz = match &m.timezone {
        Some(name) => {
            crate::dates::parse_tz(name).map_err(|e| Problem::new(path, e).field("timezone"))?
        }
        None => site_tz,
    };
    let all_day = m.all_day.unwrap_or(m.start.is_date_only());
    let (start, end) = if all_day {
        let first = m.start.date(tz);
        let last = m.end.map_or(first, |e| e.date(tz));
        let after = last.succ_opt().unwrap_or(last);
        (
            FmDate::Date(first).in_zone(tz),
            FmDate::Date(after).in_zone(tz),
        )
    } else {
        let start = m.start.in_zone(tz);
        let end = match m.end {
            Some(e) if e.is_date_only() => {
                return Err(
                    Problem::new(path, "a timed event needs an end time, not only a date")
                        .field("end"),
                )
            }
            Some(e) => e.in_zone(tz),
            None => start + chrono::Duration::hours(1),
        };
        (start, end)
    };
    if end <= start {
        return Err(Problem::new(path, "the event ends before it starts").field("end"));
    }
    let body = markdown::render(&d.body);
    Ok(Item::Event(Event {
        slug,
        summary: m.summary.unwrap_or_else(|| first_sentence(&body.text)),
        title: m.title,
        start,
        end,
        all_day,
        location: m.location,
        category: m.category.unwrap_or_else(|| "Event".into()),
        registration: m.registration.map(|r| Registration {
            capacity: r.capacity,
            closes: r.closes.map_or(start, |c| c.in_zone(tz)),
        }),
        visibility: m.visibility,
        body,
        source: Source {
            path: path.to_path_buf(),
            body_line: d.body_line,
        },
    }))
}

fn load_document(path: &Path, tz: Tz) -> Result<Item, Problem> {
    let name = path
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .to_string();
    if let Some(target) = name.strip_suffix(".toml") {
        // A sidecar: its document must exist; it is read with the document.
        if !path.with_file_name(target).is_file() {
            return Err(Problem::new(
                path,
                format!("metadata for `{target}`, but there is no such file"),
            ));
        }
        return Ok(Item::Skip);
    }
    let sidecar = path.with_file_name(format!("{name}.toml"));
    let text = std::fs::read_to_string(&sidecar).map_err(|_| {
        Problem::new(
            path,
            format!("missing metadata sidecar `{name}.toml` (title and description)"),
        )
    })?;
    let wrapped = format!("+++\n{text}\n+++\n");
    let meta = frontmatter::parse::<DocumentMeta>(&sidecar, &wrapped).map_err(|mut p| {
        p.line = p.line.map(|l| l.saturating_sub(1).max(1));
        p
    })?;
    let size = std::fs::metadata(path)
        .map_err(|e| Problem::new(path, format!("cannot read: {e}")))?
        .len();
    if name.contains(['/', '\\', '?', '#', ' ']) {
        return Err(Problem::new(
            path,
            "document file names may not contain spaces, `?` or `#`",
        ));
    }
    Ok(Item::Document(Document {
        kind: path
            .extension()
            .map_or("File".into(), |e| e.to_string_lossy().to_uppercase()),
        file_name: name,
        title: meta.meta.title,
        description: meta.meta.description,
        size,
        date: meta.meta.date.map(|d| d.date(tz)),
        visibility: meta.meta.visibility,
        path: path.to_path_buf(),
    }))
}

/// The first sentence of `text` (at most about 200 characters), for summaries.
pub fn first_sentence(text: &str) -> String {
    let text = text.trim();
    let end = text
        .char_indices()
        .find(|&(i, c)| (c == '.' || c == '?' || c == '!') && text[i + 1..].starts_with(' '))
        .map(|(i, _)| i + 1)
        .unwrap_or(text.len());
    let mut s: String = text[..end].chars().take(200).collect();
    if s.len() < end {
        s.push('…');
    }
    s
}
