//! The knowledge base's structure: topics and subtopics, tags, and related articles.

use std::collections::{BTreeMap, HashMap};

use crate::content::Article;

/// A subtopic and the articles in it (indices into the article list).
#[derive(Debug, Clone)]
pub struct Subtopic {
    /// Name as written.
    pub name: String,
    /// URL-safe id, used as an anchor on the topic page.
    pub slug: String,
    /// Articles in order.
    pub articles: Vec<usize>,
}

/// A topic with its subtopics.
#[derive(Debug, Clone)]
pub struct Topic {
    /// Name as written.
    pub name: String,
    /// Used in `/kb/topic/{slug}`.
    pub slug: String,
    /// Subtopics in name order.
    pub subtopics: Vec<Subtopic>,
}

impl Topic {
    /// `/kb/topic/{slug}`.
    pub fn url(&self) -> String {
        format!("/kb/topic/{}", self.slug)
    }
    /// How many articles the topic holds.
    pub fn len(&self) -> usize {
        self.subtopics.iter().map(|s| s.articles.len()).sum()
    }
    /// Whether the topic holds no article.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A tag and the articles carrying it.
#[derive(Debug, Clone)]
pub struct Tag {
    /// Name as written (first spelling seen).
    pub name: String,
    /// Used in `/kb/tags/{slug}`.
    pub slug: String,
    /// Articles, newest first.
    pub articles: Vec<usize>,
}

impl Tag {
    /// `/kb/tags/{slug}`.
    pub fn url(&self) -> String {
        format!("/kb/tags/{}", self.slug)
    }
}

/// URL of the tag page for `name`.
pub fn tag_url(name: &str) -> String {
    format!("/kb/tags/{}", slug::slugify(name))
}

/// Subtopic slug → (name, article indices).
type Subtopics = BTreeMap<String, (String, Vec<usize>)>;

/// Topics, subtopics and tags of a list of articles (already sorted by topic, subtopic, weight).
#[derive(Debug, Clone, Default)]
pub struct Index {
    /// Topics in name order.
    pub topics: Vec<Topic>,
    /// Tags in name order.
    pub tags: Vec<Tag>,
}

impl Index {
    /// Groups `articles`.
    pub fn new(articles: &[&Article]) -> Index {
        let mut topics: BTreeMap<String, (String, Subtopics)> = BTreeMap::new();
        let mut tags: BTreeMap<String, (String, Vec<usize>)> = BTreeMap::new();
        for (i, a) in articles.iter().enumerate() {
            let t = topics
                .entry(slug::slugify(&a.topic))
                .or_insert_with(|| (a.topic.clone(), BTreeMap::new()));
            t.1.entry(slug::slugify(&a.subtopic))
                .or_insert_with(|| (a.subtopic.clone(), Vec::new()))
                .1
                .push(i);
            for tag in &a.tags {
                tags.entry(slug::slugify(tag))
                    .or_insert_with(|| (tag.clone(), Vec::new()))
                    .1
                    .push(i);
            }
        }
        let topics = topics
            .into_iter()
            .map(|(slug, (name, subs))| Topic {
                name,
                slug,
                subtopics: subs
                    .into_iter()
                    .map(|(slug, (name, articles))| Subtopic {
                        name,
                        slug,
                        articles,
                    })
                    .collect(),
            })
            .collect();
        let tags = tags
            .into_iter()
            .map(|(slug, (name, mut list))| {
                list.sort_by_key(|&i| std::cmp::Reverse(articles[i].last_changed()));
                Tag {
                    name,
                    slug,
                    articles: list,
                }
            })
            .collect();
        Index { topics, tags }
    }

    /// Up to `n` articles related to article `i`: those sharing its subtopic or its tags,
    /// ranked by shared tags (a shared subtopic counts as two), then by recency.
    pub fn related(&self, articles: &[&Article], i: usize, n: usize) -> Vec<usize> {
        const SCAN: usize = 64;
        let a = articles[i];
        let mut score: HashMap<usize, u32> = HashMap::new();
        let sub = slug::slugify(&a.subtopic);
        if let Some(s) = self
            .topics
            .iter()
            .find(|t| t.slug == slug::slugify(&a.topic))
            .and_then(|t| t.subtopics.iter().find(|s| s.slug == sub))
        {
            for &j in s.articles.iter().take(SCAN) {
                *score.entry(j).or_default() += 2;
            }
        }
        for tag in &a.tags {
            let slug = slug::slugify(tag);
            if let Ok(k) = self.tags.binary_search_by(|t| t.slug.as_str().cmp(&slug)) {
                for &j in self.tags[k].articles.iter().take(SCAN) {
                    *score.entry(j).or_default() += 1;
                }
            }
        }
        score.remove(&i);
        let mut ranked: Vec<(usize, u32)> = score.into_iter().collect();
        ranked.sort_by(|x, y| {
            y.1.cmp(&x.1)
                .then(
                    articles[y.0]
                        .last_changed()
                        .cmp(&articles[x.0].last_changed()),
                )
                .then(x.0.cmp(&y.0))
        });
        ranked.into_iter().take(n).map(|(j, _)| j).collect()
    }
}
