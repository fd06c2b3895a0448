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

mod article;
mod document;
mod event;

pub use article::{Article, FaqEntry, Page};
pub use document::Document;
pub use event::{Event, Registration};

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chrono_tz::Tz;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Problem};

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
        return document::load_document(path, tz);
    }
    if !is_md || rel.components().count() == 1 {
        return Ok(Item::Skip);
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| Problem::new(path, format!("cannot read: {e}")))?;
    let slug = slug::slugify(path.file_stem().unwrap_or_default().to_string_lossy());
    match section {
        "kb" => article::load_article(path, &text, slug, tz),
        "faq" => article::load_faq(path, &text, slug),
        "calendar" => event::load_event(path, &text, slug, tz),
        "pages" => article::load_page(path, &text, slug),
        _ => Ok(Item::Skip),
    }
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
