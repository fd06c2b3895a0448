//! Knowledge-base articles, FAQ entries and plain pages: Markdown files with front matter.

use std::path::Path;

use chrono::NaiveDate;
use chrono_tz::Tz;
use serde::Deserialize;

use super::{first_sentence, Item, Source, Visibility};
use crate::dates::FmDate;
use crate::error::Problem;
use crate::frontmatter;
use crate::markdown::{self, Rendered};

#[derive(Deserialize)]
struct ArticleMeta {
    title: String,
    /// Zola and Hugo call it `description`.
    #[serde(default, alias = "description")]
    summary: Option<String>,
    topic: String,
    #[serde(default)]
    subtopic: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    /// Hugo's categories, taken as tags.
    #[serde(default)]
    categories: Vec<String>,
    /// Zola's `[taxonomies]`: its tags and categories are tags.
    #[serde(default)]
    taxonomies: Taxonomies,
    /// The name in the URL instead of the file's.
    #[serde(default)]
    slug: Option<String>,
    /// Passed to templates as `article.extra` (Hugo calls it `params`).
    #[serde(default, alias = "params")]
    extra: Option<serde_json::Value>,
    date: FmDate,
    /// Zola calls it `updated`, Hugo `lastmod`.
    #[serde(default, alias = "lastmod")]
    updated: Option<FmDate>,
    #[serde(default)]
    visibility: Visibility,
    #[serde(default)]
    weight: i32,
    #[serde(default)]
    draft: bool,
}

#[derive(Deserialize, Default)]
struct Taxonomies {
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    categories: Vec<String>,
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
    /// What the front matter's `[extra]` (or `params`) holds, for templates; null if none.
    pub extra: serde_json::Value,
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

pub(super) fn load_article(
    path: &Path,
    text: &str,
    slug: String,
    tz: Tz,
    read: &mut super::Reading,
) -> Result<Item, Problem> {
    let d = frontmatter::parse::<ArticleMeta>(path, text)?;
    read.keys(path, &d)?;
    let m = d.meta;
    if m.draft {
        return Ok(Item::Skip);
    }
    if m.topic.trim().is_empty() {
        return Err(Problem::new(path, "a topic is required").field("topic"));
    }
    let body = markdown::render(&d.body);
    let slug = match m.slug.as_deref().map(slug::slugify) {
        Some(s) if !s.is_empty() => s,
        _ => slug,
    };
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
        tags: {
            let mut tags = Vec::new();
            let all = m
                .tags
                .into_iter()
                .chain(m.taxonomies.tags)
                .chain(m.categories);
            for t in all.chain(m.taxonomies.categories) {
                if !tags.contains(&t) {
                    tags.push(t);
                }
            }
            tags
        },
        extra: m.extra.unwrap_or_default(),
        date: m.date.date(tz),
        updated: m.updated.map(|u| u.date(tz)),
        visibility: m.visibility,
        weight: m.weight,
        body,
        source: Source::of(path, text, d.body_line),
    }))
}

pub(super) fn load_faq(
    path: &Path,
    text: &str,
    slug: String,
    read: &mut super::Reading,
) -> Result<Item, Problem> {
    let d = frontmatter::parse::<FaqMeta>(path, text)?;
    read.keys(path, &d)?;
    Ok(Item::Faq(FaqEntry {
        slug,
        question: d.meta.question,
        category: d.meta.category,
        weight: d.meta.weight,
        answer: markdown::render(&d.body),
        source: Source::of(path, text, d.body_line),
    }))
}

pub(super) fn load_page(
    path: &Path,
    text: &str,
    slug: String,
    read: &mut super::Reading,
) -> Result<Item, Problem> {
    let d = frontmatter::parse::<PageMeta>(path, text)?;
    read.keys(path, &d)?;
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
        source: Source::of(path, text, d.body_line),
    }))
}
