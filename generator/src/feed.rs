//! The Atom feed of new and updated knowledge-base articles (`/kb/atom.xml`).

use atom_syndication::{Content, Entry, Feed, FixedDateTime, Link, Person, Text};
use chrono_tz::Tz;

use crate::config::SiteConfig;
use crate::content::Article;
use crate::dates::FmDate;

/// How many entries the feed carries.
pub const ENTRIES: usize = 30;

/// The feed of the most recently changed `articles`.
pub fn atom(site: &SiteConfig, tz: Tz, articles: &[&Article]) -> String {
    let mut recent: Vec<&&Article> = articles.iter().collect();
    let newest = |a: &&&Article, b: &&&Article| {
        b.last_changed()
            .cmp(&a.last_changed())
            .then(a.slug.cmp(&b.slug))
    };
    // The newest few of a large knowledge base, without sorting it all.
    if recent.len() > ENTRIES {
        recent.select_nth_unstable_by(ENTRIES, newest);
        recent.truncate(ENTRIES);
    }
    recent.sort_by(newest);
    let when = |d| -> FixedDateTime { FmDate::Date(d).in_zone(tz).fixed_offset() };
    let entries: Vec<Entry> = recent
        .iter()
        .map(|a| {
            let url = format!("{}{}", site.base_url, a.url());
            Entry {
                title: Text::plain(a.title.clone()),
                id: url.clone(),
                updated: when(a.last_changed()),
                published: Some(when(a.date)),
                links: vec![Link {
                    href: url,
                    rel: "alternate".into(),
                    mime_type: Some("text/html".into()),
                    ..Default::default()
                }],
                summary: Some(Text::plain(a.summary.clone())),
                content: Some(Content {
                    value: Some(a.body.html.clone()),
                    content_type: Some("html".into()),
                    ..Default::default()
                }),
                categories: a
                    .tags
                    .iter()
                    .map(|t| atom_syndication::Category {
                        term: t.clone(),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }
        })
        .collect();
    let updated = recent.first().map_or_else(
        || when(chrono::NaiveDate::default()),
        |a| when(a.last_changed()),
    );
    let feed = Feed {
        title: Text::plain(format!("{} — knowledge base", site.title)),
        id: format!("{}/kb/", site.base_url),
        updated,
        authors: vec![Person {
            name: site.title.clone(),
            uri: site.website.clone(),
            ..Default::default()
        }],
        links: vec![
            Link {
                href: format!("{}/kb/atom.xml", site.base_url),
                rel: "self".into(),
                ..Default::default()
            },
            Link {
                href: format!("{}/kb/", site.base_url),
                rel: "alternate".into(),
                ..Default::default()
            },
        ],
        lang: Some(site.language.clone()),
        entries,
        ..Default::default()
    };
    feed.to_string()
}
