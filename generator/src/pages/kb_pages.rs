//! The knowledge base's pages: the index by topic, topic pages, tag pages and articles.

use serde_json::{json, Value};
use tera::Context;

use super::job;
use super::{Job, Site};
use crate::calendar;
use crate::content::Article;
use crate::kb::{self, tag_url};

impl<'a> Site<'a> {
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

    pub(super) fn topic(&self, t: &kb::Topic) -> Job {
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

    pub(super) fn tags_index(&self) -> Job {
        let mut c = self.base("kb", "Tags", "/kb/tags/", "Knowledge-base articles by tag.");
        c.insert("tags", &self.tag_list());
        job("/kb/tags/", "kb/tags.html", c)
    }

    pub(super) fn tag(&self, t: &kb::Tag) -> Job {
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

    pub(super) fn article(&self, i: usize) -> Context {
        let a = self.articles[i];
        let related: Vec<Value> = self
            .kb
            .related(&self.articles, i, 5)
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
                "slug": a.slug,
            }),
        );
        c.insert("related", &related);
        c
    }
}
