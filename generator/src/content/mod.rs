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
    /// A hash of the file's path and text: what was read from it can only differ when this
    /// does (a rebuild renders again only the pages of changed files; see
    /// [`crate::incremental`]).
    pub digest: u64,
}

impl Source {
    /// The source `path` with `text`, its body starting on `body_line`.
    pub fn of(path: &Path, text: &str, body_line: usize) -> Source {
        use std::hash::{Hash, Hasher};
        let mut h = std::hash::DefaultHasher::new();
        path.hash(&mut h);
        text.hash(&mut h);
        Source {
            path: path.to_path_buf(),
            body_line,
            digest: h.finish(),
        }
    }
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
    /// Markdown files outside the folders content is read from (see [`Content::warnings`]).
    pub unused: Vec<PathBuf>,
    /// Front-matter keys the portal does not read, file by file.
    pub notes: Vec<Problem>,
}

enum Item {
    Article(Article),
    Faq(FaqEntry),
    Event(Event),
    Document(Document),
    Page(Page),
    /// Markdown outside the folders content is read from.
    Unused(PathBuf),
    Skip,
}

/// Reads every content file under `root`, with dates in `tz`; front-matter keys the portal
/// does not read are warnings ([`Content::warnings`]).
pub fn load(root: &Path, tz: Tz) -> Result<Content, Error> {
    load_with(root, tz, false)
}

/// As [`load`]; with `strict`, a front-matter key the portal does not read is an error.
pub fn load_with(root: &Path, tz: Tz, strict: bool) -> Result<Content, Error> {
    let mut files = Vec::new();
    // Hidden files and folders (`.git`, editors' swap files) are not content.
    let shown =
        |e: &walkdir::DirEntry| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.');
    for entry in walkdir::WalkDir::new(root)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(shown)
    {
        let entry = entry.map_err(|e| {
            let path = e.path().unwrap_or(root).to_path_buf();
            Error::io(
                &path,
                e.into_io_error()
                    .unwrap_or_else(|| std::io::Error::other("loop in folder links")),
            )
        })?;
        if entry.file_type().is_file() {
            files.push(entry.into_path());
        }
    }
    let results: Vec<_> = files
        .par_iter()
        .map(|p| load_file(root, p, tz, strict))
        .collect();
    let mut content = Content::default();
    let mut problems = Vec::new();
    for (r, warnings) in results {
        content.add(r, &mut problems);
        content.notes.extend(warnings);
    }
    content.finish(problems)?;
    Ok(content)
}

impl Content {
    /// Reads again the Markdown files at `paths` (under `root`, as [`load`] names them):
    /// what each held is replaced by what it holds now, or removed if it is gone. Documents
    /// are not read this way (their files are copied by a whole build).
    ///
    /// On an error the content is left part-updated: read it all again with [`load`].
    pub fn update(
        &mut self,
        root: &Path,
        paths: &[PathBuf],
        tz: Tz,
        strict: bool,
    ) -> Result<(), Error> {
        let gone = |s: &Source| paths.contains(&s.path);
        self.articles.retain(|a| !gone(&a.source));
        self.faq.retain(|f| !gone(&f.source));
        self.events.retain(|e| !gone(&e.source));
        self.pages.retain(|p| !gone(&p.source));
        self.unused.retain(|p| !paths.contains(p));
        self.notes.retain(|n| !paths.contains(&n.file));
        let mut problems = Vec::new();
        // As `load` walks: links are not followed.
        let is_file = |p: &&PathBuf| std::fs::symlink_metadata(p).is_ok_and(|m| m.is_file());
        for p in paths.iter().filter(is_file) {
            let (item, warnings) = load_file(root, p, tz, strict);
            self.add(item, &mut problems);
            self.notes.extend(warnings);
        }
        self.finish(problems)
    }

    /// What the build should say but not stop for: Markdown files it does not use, and
    /// front-matter keys it does not read.
    pub fn warnings(&self) -> Vec<Problem> {
        let mut all: Vec<Problem> = self
            .unused
            .iter()
            .map(|p| {
                Problem::new(
                    p,
                    "not part of the site: Markdown is read from kb/, faq/, calendar/ and pages/",
                )
            })
            .collect();
        let mut notes = self.notes.clone();
        notes.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
        all.extend(notes);
        all
    }

    /// Whether any item read came from a file under `path` (a folder).
    pub fn has_under(&self, path: &Path) -> bool {
        let under = |s: &Source| s.path.starts_with(path);
        self.articles.iter().any(|a| under(&a.source))
            || self.faq.iter().any(|f| under(&f.source))
            || self.events.iter().any(|e| under(&e.source))
            || self.pages.iter().any(|p| under(&p.source))
            || self.documents.iter().any(|d| d.path.starts_with(path))
    }

    fn add(&mut self, item: Result<Item, Problem>, problems: &mut Vec<Problem>) {
        match item {
            Ok(Item::Article(a)) => self.articles.push(a),
            Ok(Item::Faq(f)) => self.faq.push(f),
            Ok(Item::Event(e)) => self.events.push(e),
            Ok(Item::Document(d)) => self.documents.push(d),
            Ok(Item::Page(p)) => self.pages.push(p),
            Ok(Item::Unused(p)) => self.unused.push(p),
            Ok(Item::Skip) => {}
            Err(p) => problems.push(p),
        }
    }

    /// Checks that no two items share a name and puts each list in its order.
    fn finish(&mut self, mut problems: Vec<Problem>) -> Result<(), Error> {
        check_unique(
            &mut problems,
            self.articles.iter().map(|a| (&a.slug, &a.source.path)),
            "article",
        );
        check_unique(
            &mut problems,
            self.events.iter().map(|e| (&e.slug, &e.source.path)),
            "event",
        );
        check_unique(
            &mut problems,
            self.faq.iter().map(|f| (&f.slug, &f.source.path)),
            "FAQ entry",
        );
        check_unique(
            &mut problems,
            self.pages.iter().map(|p| (&p.slug, &p.source.path)),
            "page",
        );
        if !problems.is_empty() {
            return Err(Error::Content(problems));
        }
        self.articles.sort_by(|a, b| {
            (&a.topic, &a.subtopic, a.weight, &a.title, &a.slug).cmp(&(
                &b.topic,
                &b.subtopic,
                b.weight,
                &b.title,
                &b.slug,
            ))
        });
        self.faq.sort_by(|a, b| {
            (&a.category, a.weight, &a.question, &a.slug).cmp(&(
                &b.category,
                b.weight,
                &b.question,
                &b.slug,
            ))
        });
        self.events
            .sort_by(|a, b| (a.start, &a.slug).cmp(&(b.start, &b.slug)));
        self.documents.sort_by(|a, b| a.title.cmp(&b.title));
        self.unused.sort();
        self.pages
            .sort_by(|a, b| (a.weight, &a.title, &a.slug).cmp(&(b.weight, &b.title, &b.slug)));
        Ok(())
    }
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

/// How content is being read: whether keys other than the portal's are errors, and the
/// warnings so far.
#[derive(Default)]
pub(crate) struct Reading {
    strict: bool,
    warnings: Vec<Problem>,
}

impl Reading {
    /// Notes (or, when strict, refuses) the keys `d`'s type did not read.
    pub(crate) fn keys<T>(
        &mut self,
        path: &Path,
        d: &crate::frontmatter::Document<T>,
    ) -> Result<(), Problem> {
        self.warnings.extend(d.unknown_keys(path, self.strict)?);
        Ok(())
    }
}

fn load_file(
    root: &Path,
    path: &Path,
    tz: Tz,
    strict: bool,
) -> (Result<Item, Problem>, Vec<Problem>) {
    let mut read = Reading {
        strict,
        warnings: Vec::new(),
    };
    let item = read_file(root, path, tz, &mut read);
    (item, read.warnings)
}

fn read_file(root: &Path, path: &Path, tz: Tz, read: &mut Reading) -> Result<Item, Problem> {
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
    if !is_md {
        return Ok(Item::Skip);
    }
    if !matches!(section, "kb" | "faq" | "calendar" | "pages") || rel.components().count() == 1 {
        return Ok(Item::Unused(path.to_path_buf()));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| Problem::new(path, format!("cannot read: {e}")))?;
    let slug = slug::slugify(path.file_stem().unwrap_or_default().to_string_lossy());
    match section {
        "kb" => article::load_article(path, &text, slug, tz, read),
        "faq" => article::load_faq(path, &text, slug, read),
        "calendar" => event::load_event(path, &text, slug, tz, read),
        _ => article::load_page(path, &text, slug, read),
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
