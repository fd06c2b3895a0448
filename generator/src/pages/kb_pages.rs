//! The knowledge base's pages: the index by topic, topic pages, tag pages and articles.

use serde_json::{json, Value};
use tera::Context;

use std::hash::{Hash, Hasher};

use super::job;
use super::{Ctx, Job, Site};
use crate::calendar;
use crate::content::Article;
use crate::kb::{self, tag_url};

impl<'a> Site<'a> {
    /// An article as lists show it; `Site::card_sums` sums the same fields: keep them equal.
    pub(super) fn article_card(&self, a: &Article) -> Value {
        json!({
            "title": a.title, "url": a.url(), "summary": a.summary, "topic": a.topic,
            "subtopic": a.subtopic, "date": calendar::short_date(a.last_changed()),
            "date_iso": a.last_changed().to_string(),
        })
    }

    pub(super) fn kb_index(&self) -> Job {
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

    pub(super) fn tag_list(&self) -> Vec<Value> {
        self.kb
            .tags
            .iter()
            .map(|t| json!({"name": t.name, "url": t.url(), "count": t.articles.len()}))
            .collect()
    }

    /// Topic `i`'s page, built when rendered.
    pub(super) fn topic(&self, i: usize) -> Job {
        Job {
            url: self.kb.topics[i].url(),
            template: "kb/topic.html",
            ctx: Ctx::Topic(i),
        }
    }

    /// The context of topic `t`'s page; [`Site::fingerprint`] sums what it holds.
    pub(super) fn topic_context(&self, t: &kb::Topic) -> Context {
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
        c
    }

    /// What topic `t`'s page shows, summed into `h`.
    pub(super) fn topic_sum(&self, t: &kb::Topic, h: &mut impl Hasher) {
        (&t.name, &t.slug).hash(h);
        let cards = self.card_sums();
        for s in &t.subtopics {
            (&s.name, &s.slug).hash(h);
            s.articles.iter().for_each(|&i| cards[i].hash(h));
            u64::MAX.hash(h);
        }
    }

    pub(super) fn tags_index(&self) -> Job {
        let mut c = self.base("kb", "Tags", "/kb/tags/", "Knowledge-base articles by tag.");
        c.insert("tags", &self.tag_list());
        job("/kb/tags/", "kb/tags.html", c)
    }

    /// Tag `i`'s page, built when rendered.
    pub(super) fn tag(&self, i: usize) -> Job {
        Job {
            url: self.kb.tags[i].url(),
            template: "kb/tag.html",
            ctx: Ctx::Tag(i),
        }
    }

    /// What tag `t`'s page shows, summed into `h`.
    pub(super) fn tag_sum(&self, t: &kb::Tag, h: &mut impl Hasher) {
        (&t.name, &t.slug).hash(h);
        let cards = self.card_sums();
        t.articles.iter().for_each(|&i| cards[i].hash(h));
    }

    /// The context of tag `t`'s page; [`Site::fingerprint`] sums what it holds.
    pub(super) fn tag_context(&self, t: &kb::Tag) -> Context {
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
        c
    }

    pub(super) fn article(&self, i: usize) -> Context {
        let a = self.articles[i];
        let related: Vec<Value> = self
            .kb
            .related(&self.articles, i, super::RELATED)
            .into_iter()
            .map(|j| self.article_card(self.articles[j]))
            .collect();
        self.article_page(a, &a.url(), related)
    }

    /// A customers-only article's page, at its `/my/` address, without related articles.
    pub(super) fn private_article(&self, a: &Article) -> Context {
        self.article_page(a, &super::private_url(a), Vec::new())
    }

    fn article_page(&self, a: &Article, url: &str, related: Vec<Value>) -> Context {
        let topic_url = format!("/kb/topic/{}", slug::slugify(&a.topic));
        let mut c = self.base("kb", &a.title, url, &a.summary);
        c.insert(
            "article",
            &json!({
                "title": a.title, "summary": a.summary, "url": url, "html": a.body.html, "toc": a.body.toc,
                "topic": a.topic, "topic_url": topic_url, "subtopic": a.subtopic,
                "subtopic_url": format!("{topic_url}#{}", slug::slugify(&a.subtopic)),
                "tags": a.tags.iter().map(|t| json!({"name": t, "url": tag_url(t)})).collect::<Vec<_>>(),
                "date": calendar::short_date(a.date), "date_iso": a.date.to_string(),
                "updated": a.updated.filter(|u| *u > a.date).map(calendar::short_date),
                "updated_iso": a.updated.map(|u| u.to_string()),
                "slug": a.slug, "extra": a.extra,
            }),
        );
        c.insert("related", &related);
        c
    }
}
