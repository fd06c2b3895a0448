//! The home, contact, FAQ and documents pages, and the pages holding the public forms.

use serde_json::{json, Value};

use super::job;
use super::{human_size, Job, Site};
use crate::calendar::{self, EventView};
use crate::content::Article;

impl<'a> Site<'a> {
    pub(super) fn home(&self) -> Job {
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

    pub(super) fn contact(&self) -> Job {
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

    pub(super) fn faq(&self) -> Job {
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

    pub(super) fn documents_page(&self) -> Job {
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

    pub(super) fn forms(&self) -> Vec<Job> {
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
        let public_binders: Vec<&portal_core::site::BinderSettings> =
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
}
