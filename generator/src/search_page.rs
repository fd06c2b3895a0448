//! The search results page, rendered on demand with the theme: `portal serve` answers
//! `GET /search?q=…&topic=…&page=…` with it. The build saves what the page needs besides
//! the results (settings, topics, footer links) beside the index, so no content is re-read.

use std::path::{Path, PathBuf};

use serde_json::Value;
use tera::Context;

use crate::error::{Error, Problem, Result};
use crate::search::Searcher;
use crate::theme::Theme;

/// The file in the index folder that holds the page's fixed context.
pub const DATA_FILE: &str = "page.json";

/// Hits per page.
pub const PER_PAGE: usize = 10;

/// A search page ready to render: theme, index and fixed context.
pub struct SearchPage {
    theme: Theme,
    searcher: Searcher,
    base: Value,
    data_path: PathBuf,
}

impl SearchPage {
    /// Opens the index in `index_dir` (written by a build) with the theme in `theme_dir`.
    pub fn open(theme_dir: &Path, index_dir: &Path) -> Result<SearchPage> {
        let data_path = index_dir.join(DATA_FILE);
        let text = std::fs::read_to_string(&data_path).map_err(|e| Error::io(&data_path, e))?;
        let base: Value = serde_json::from_str(&text)
            .map_err(|e| Problem::new(&data_path, format!("not valid search page data: {e}")))?;
        Ok(SearchPage {
            theme: Theme::load(theme_dir)?,
            searcher: Searcher::open(index_dir)?,
            base,
            data_path,
        })
    }

    /// The page for `query` in `topic` (empty for all), results page `page` (1-based).
    pub fn render(&self, query: &str, topic: &str, page: usize) -> Result<String> {
        let query = query.trim();
        let page = page.max(1);
        let mut c = Context::from_value(self.base.clone())
            .map_err(|e| Problem::new(&self.data_path, e.to_string()))?;
        c.insert("section", "search");
        c.insert(
            "title",
            &if query.is_empty() {
                "Search".to_string()
            } else {
                format!("Search: {query}")
            },
        );
        c.insert("url", "/search");
        let canonical = self.base["site"]["base_url"]
            .as_str()
            .unwrap_or("")
            .to_string()
            + "/search/";
        c.insert("canonical", &canonical);
        c.insert(
            "description",
            "Search the knowledge base, FAQ, calendar and documents.",
        );
        c.insert("query", query);
        c.insert("topic", topic);
        c.insert("page", &page);
        if query.is_empty() {
            c.insert("hits", &Vec::<Value>::new());
            c.insert("total", &0);
        } else {
            let topic_filter = (!topic.is_empty()).then_some(topic);
            let results =
                self.searcher
                    .search(query, topic_filter, PER_PAGE, (page - 1) * PER_PAGE)?;
            c.insert("total", &results.total);
            c.insert("last", &((page - 1) * PER_PAGE + results.hits.len()));
            c.insert("hits", &results.hits);
            c.insert("first", &((page - 1) * PER_PAGE + 1));
            c.insert("prev_page", &(page > 1).then(|| page - 1));
            c.insert(
                "next_page",
                &(page * PER_PAGE < results.total).then_some(page + 1),
            );
        }
        Ok(self.theme.render("search.html", &c)?)
    }
}
