//! The knowledge base's structure: topics and subtopics, tags, and related articles.

use std::collections::BTreeMap;

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
    /// Each article's place: its topic and subtopic, and its tags, as positions in
    /// `topics`, their `subtopics` and `tags`.
    places: Vec<Place>,
}

#[derive(Debug, Clone, Default)]
struct Place {
    topic: usize,
    subtopic: usize,
    tags: Vec<usize>,
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
        let topics: Vec<Topic> = topics
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
        let tags: Vec<Tag> = tags
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
        let mut places = vec![Place::default(); articles.len()];
        for (t, topic) in topics.iter().enumerate() {
            for (s, sub) in topic.subtopics.iter().enumerate() {
                for &i in &sub.articles {
                    places[i].topic = t;
                    places[i].subtopic = s;
                }
            }
        }
        for (k, tag) in tags.iter().enumerate() {
            // Once for each time the article names the tag, as its list holds it.
            for &i in &tag.articles {
                places[i].tags.push(k);
            }
        }
        Index {
            topics,
            tags,
            places,
        }
    }

    /// Up to `n` articles related to article `i`: those sharing its subtopic or its tags,
    /// ranked by shared tags (a shared subtopic counts as two), then by recency.
    pub fn related(&self, articles: &[&Article], i: usize, n: usize) -> Vec<usize> {
        const SCAN: usize = 64;
        let place = &self.places[i];
        // (article, score) pairs, summed once sorted by article.
        let mut score: Vec<(usize, u32)> = Vec::with_capacity(SCAN * (2 + place.tags.len()));
        let sub = &self.topics[place.topic].subtopics[place.subtopic];
        score.extend(sub.articles.iter().take(SCAN).map(|&j| (j, 2)));
        for &k in &place.tags {
            score.extend(self.tags[k].articles.iter().take(SCAN).map(|&j| (j, 1)));
        }
        score.sort_unstable_by_key(|&(j, _)| j);
        score.dedup_by(|later, first| {
            let same = later.0 == first.0;
            if same {
                first.1 += later.1;
            }
            same
        });
        score.retain(|&(j, _)| j != i);
        let rank = |x: &(usize, u32), y: &(usize, u32)| {
            y.1.cmp(&x.1)
                .then(
                    articles[y.0]
                        .last_changed()
                        .cmp(&articles[x.0].last_changed()),
                )
                .then(x.0.cmp(&y.0))
        };
        if score.len() > n {
            score.select_nth_unstable_by(n, rank);
            score.truncate(n);
        }
        score.sort_unstable_by(rank);
        score.into_iter().map(|(j, _)| j).collect()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    /// The ranking `Index::related` makes, written the plain way: by slugs and a map.
    fn related_plainly(index: &Index, articles: &[&Article], i: usize, n: usize) -> Vec<usize> {
        let a = articles[i];
        let mut score: HashMap<usize, u32> = HashMap::new();
        let sub = index
            .topics
            .iter()
            .find(|t| t.slug == slug::slugify(&a.topic))
            .and_then(|t| {
                t.subtopics
                    .iter()
                    .find(|s| s.slug == slug::slugify(&a.subtopic))
            })
            .expect("the article's subtopic is in the index");
        for &j in sub.articles.iter().take(64) {
            *score.entry(j).or_default() += 2;
        }
        for tag in &a.tags {
            let t = index
                .tags
                .iter()
                .find(|t| t.slug == slug::slugify(tag))
                .expect("the article's tag is in the index");
            for &j in t.articles.iter().take(64) {
                *score.entry(j).or_default() += 1;
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

    #[test]
    fn related_articles_rank_by_shared_subtopic_and_tags_then_recency() {
        let dir = tempfile::tempdir().unwrap();
        crate::synthetic::write_site(dir.path(), 2200).unwrap();
        let content = crate::content::load(dir.path(), chrono_tz::Europe::London).unwrap();
        let articles: Vec<&Article> = content.articles.iter().collect();
        let index = Index::new(&articles);
        for i in 0..articles.len() {
            for n in [1, 5, 200] {
                assert_eq!(
                    index.related(&articles, i, n),
                    related_plainly(&index, &articles, i, n),
                    "article {i}, {n} related"
                );
            }
        }
    }
}
