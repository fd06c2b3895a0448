//! The full-text search index: written by the generator into `dist/search/`, read by
//! `portal search` and by the search function.
//!
//! Fields and boosts: title ×3, tags ×2, summary ×2, topic and subtopic ×1.5, body ×1, all
//! with English stemming ([`analyzer`]). `url`, `kind` and `topic_key` are stored raw for results and filters.

use std::borrow::Cow;
use std::path::Path;

use serde::Serialize;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{BooleanQuery, Occur, Query, QueryParser, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, Value, STORED, STRING,
};
use tantivy::snippet::SnippetGenerator;
use tantivy::{Index, TantivyDocument, Term};

pub mod analyzer;

/// The index could not be written or read.
#[derive(Debug, thiserror::Error)]
#[error("search index at {}: {message}", path.display())]
pub struct SearchError {
    /// The index folder.
    pub path: std::path::PathBuf,
    /// What went wrong.
    pub message: String,
}

type Result<T> = std::result::Result<T, SearchError>;

/// One thing that can be found: an article, FAQ entry, event, document or page.
#[derive(Debug, Clone)]
pub struct SearchDoc<'a> {
    /// Root-relative URL.
    pub url: String,
    /// `article`, `faq`, `event`, `document` or `page`.
    pub kind: &'static str,
    /// Title.
    pub title: Cow<'a, str>,
    /// Short summary.
    pub summary: Cow<'a, str>,
    /// Plain body text.
    pub body: Cow<'a, str>,
    /// Topic (articles), category (FAQ, events) or empty.
    pub topic: Cow<'a, str>,
    /// Subtopic or empty.
    pub subtopic: Cow<'a, str>,
    /// Tags.
    pub tags: Vec<Cow<'a, str>>,
}

/// A search result.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Hit {
    /// Title.
    pub title: String,
    /// Root-relative URL.
    pub url: String,
    /// What kind of page it is.
    pub kind: String,
    /// Topic or category.
    pub topic: String,
    /// HTML snippet with matched words in `<b>`, escaped otherwise.
    pub snippet: String,
    /// Relevance score.
    pub score: f32,
}

/// A page of results.
#[derive(Debug, Clone, Serialize)]
pub struct Results {
    /// How many documents match in all.
    pub total: usize,
    /// The hits on this page, best first.
    pub hits: Vec<Hit>,
}

struct Fields {
    url: Field,
    kind: Field,
    title: Field,
    summary: Field,
    body: Field,
    topic: Field,
    subtopic: Field,
    tags: Field,
    topic_key: Field,
}

fn schema() -> (Schema, Fields) {
    let text = TextOptions::default()
        .set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(analyzer::NAME)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        )
        .set_stored();
    let mut b = Schema::builder();
    let f = Fields {
        url: b.add_text_field("url", STRING | STORED),
        kind: b.add_text_field("kind", STRING | STORED),
        title: b.add_text_field("title", text.clone()),
        summary: b.add_text_field("summary", text.clone()),
        body: b.add_text_field("body", text.clone()),
        topic: b.add_text_field("topic", text.clone()),
        subtopic: b.add_text_field("subtopic", text.clone()),
        tags: b.add_text_field("tags", text),
        topic_key: b.add_text_field("topic_key", STRING),
    };
    (b.build(), f)
}

fn search_err(path: &Path, e: impl std::fmt::Display) -> SearchError {
    SearchError {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// Writes an index of `docs` into the empty folder `dir`.
pub fn write_index(dir: &Path, docs: Vec<SearchDoc<'_>>) -> Result<()> {
    let (schema, f) = schema();
    let index = Index::create_in_dir(dir, schema).map_err(|e| search_err(dir, e))?;
    index
        .tokenizers()
        .register(analyzer::NAME, analyzer::english());
    // One indexing thread: it runs beside the page rendering, which takes the other cores;
    // measured on two cores, a second one only added memory.
    let mut writer = index
        .writer_with_num_threads::<TantivyDocument>(1, 40_000_000)
        .map_err(|e| search_err(dir, e))?;
    for d in docs {
        writer
            .add_document(document(&f, &d))
            .map_err(|e| search_err(dir, e))?;
    }
    writer.commit().map_err(|e| search_err(dir, e))?;
    writer
        .wait_merging_threads()
        .map_err(|e| search_err(dir, e))?;
    Ok(())
}

/// Changes the index in `dir` in place: the entries at the URLs in `remove` go, and `add`
/// come in (an entry that changed is in both). Readers opened before see the index as it
/// was; readers opened after, as it is. Each change is a small segment; the usual merge
/// policy joins small segments when enough of them gather.
pub fn update_index(dir: &Path, remove: &[String], add: Vec<SearchDoc<'_>>) -> Result<()> {
    if remove.is_empty() && add.is_empty() {
        return Ok(());
    }
    let index = Index::open_in_dir(dir).map_err(|e| search_err(dir, e))?;
    index
        .tokenizers()
        .register(analyzer::NAME, analyzer::english());
    let f = schema().1;
    let mut writer = index
        .writer_with_num_threads::<TantivyDocument>(1, 15_000_000)
        .map_err(|e| search_err(dir, e))?;
    for url in remove {
        writer.delete_term(Term::from_field_text(f.url, url));
    }
    for d in add {
        writer
            .add_document(document(&f, &d))
            .map_err(|e| search_err(dir, e))?;
    }
    writer.commit().map_err(|e| search_err(dir, e))?;
    writer
        .wait_merging_threads()
        .map_err(|e| search_err(dir, e))
}

/// The index's document for `d`.
fn document(f: &Fields, d: &SearchDoc<'_>) -> TantivyDocument {
    let mut doc = TantivyDocument::default();
    doc.add_text(f.url, &d.url);
    doc.add_text(f.kind, d.kind);
    doc.add_text(f.title, &d.title);
    doc.add_text(f.summary, &d.summary);
    doc.add_text(f.body, &d.body);
    doc.add_text(f.topic, &d.topic);
    doc.add_text(f.subtopic, &d.subtopic);
    doc.add_text(f.topic_key, slug::slugify(&d.topic));
    for t in &d.tags {
        doc.add_text(f.tags, t.as_ref());
    }
    doc
}

/// An index opened for searching. A build writes a new index and the site opens it anew, so
/// one `Searcher` always reads the same documents: it keeps the answers to the most recent
/// distinct searches ([`KEPT_ANSWERS`]) and gives them again without searching.
pub struct Searcher {
    index: Index,
    reader: tantivy::IndexReader,
    fields: Fields,
    path: std::path::PathBuf,
    answers: std::sync::Mutex<std::collections::HashMap<Asked, Results>>,
}

/// How many distinct searches a [`Searcher`] keeps the answers of; past that, it forgets
/// them all and starts again (a bound of a few megabytes).
pub const KEPT_ANSWERS: usize = 2048;

/// A search as asked: the words, the topic, the page size and the offset.
type Asked = (String, Option<String>, usize, usize);

impl Searcher {
    /// Opens the index in `dir`.
    pub fn open(dir: &Path) -> Result<Searcher> {
        let index = Index::open_in_dir(dir)
            .map_err(|e| search_err(dir, format!("cannot open ({e}); run `portal build` first")))?;
        index
            .tokenizers()
            .register(analyzer::NAME, analyzer::english());
        // A reader sees the index as it was when opened: a build writes a new index, a
        // rebuild changes it in place, and either way the site opens it again.
        let reader = index
            .reader_builder()
            .reload_policy(tantivy::ReloadPolicy::Manual)
            .try_into()
            .map_err(|e| search_err(dir, e))?;
        Ok(Searcher {
            index,
            reader,
            fields: schema().1,
            path: dir.to_path_buf(),
            answers: Default::default(),
        })
    }

    /// The title of the page at `url`, if the index holds it (articles the search function
    /// accepts feedback on are found this way).
    pub fn title_of(&self, url: &str) -> Result<Option<String>> {
        let term = Term::from_field_text(self.fields.url, url);
        let q = TermQuery::new(term, IndexRecordOption::Basic);
        let searcher = self.reader.searcher();
        let top = searcher
            .search(&q, &TopDocs::with_limit(1).order_by_score())
            .map_err(|e| search_err(&self.path, e))?;
        let Some((_, addr)) = top.into_iter().next() else {
            return Ok(None);
        };
        let doc: TantivyDocument = searcher.doc(addr).map_err(|e| search_err(&self.path, e))?;
        Ok(doc
            .get_first(self.fields.title)
            .and_then(|v| v.as_str())
            .map(str::to_string))
    }

    /// Searches for `query` (free text; quotes, `+` and `-` work), optionally within one
    /// topic or category, returning `limit` hits after skipping `offset`.
    ///
    /// ```no_run
    /// let s = portal_core::search::Searcher::open("dist/search".as_ref()).unwrap();
    /// for hit in s.search("refund card payment", None, 10, 0).unwrap().hits {
    ///     println!("{} {}", hit.title, hit.url);
    /// }
    /// ```
    pub fn search(
        &self,
        query: &str,
        topic: Option<&str>,
        limit: usize,
        offset: usize,
    ) -> Result<Results> {
        let topic = topic.filter(|t| !t.is_empty());
        let asked: Asked = (query.to_string(), topic.map(str::to_string), limit, offset);
        if let Some(found) = self.kept().get(&asked) {
            return Ok(found.clone());
        }
        let found = self.search_index(query, topic, limit, offset)?;
        let mut answers = self.kept();
        if answers.len() >= KEPT_ANSWERS {
            answers.clear();
        }
        answers.insert(asked, found.clone());
        Ok(found)
    }

    fn kept(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<Asked, Results>> {
        self.answers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// [`Searcher::search`] without the kept answers.
    fn search_index(
        &self,
        query: &str,
        topic: Option<&str>,
        limit: usize,
        offset: usize,
    ) -> Result<Results> {
        let f = &self.fields;
        let mut parser = QueryParser::for_index(
            &self.index,
            vec![f.title, f.summary, f.body, f.topic, f.subtopic, f.tags],
        );
        parser.set_field_boost(f.title, 3.0);
        parser.set_field_boost(f.tags, 2.0);
        parser.set_field_boost(f.summary, 2.0);
        parser.set_field_boost(f.topic, 1.5);
        parser.set_field_boost(f.subtopic, 1.5);
        let (mut q, _errors) = parser.parse_query_lenient(query);
        if let Some(topic) = topic {
            let term = Term::from_field_text(f.topic_key, &slug::slugify(topic));
            let filter: Box<dyn Query> = Box::new(TermQuery::new(term, IndexRecordOption::Basic));
            q = Box::new(BooleanQuery::new(vec![
                (Occur::Must, q),
                (Occur::Must, filter),
            ]));
        }
        let searcher = self.reader.searcher();
        let (top, total) = searcher
            .search(
                &q,
                &(
                    TopDocs::with_limit(limit.max(1))
                        .and_offset(offset)
                        .order_by_score(),
                    Count,
                ),
            )
            .map_err(|e| search_err(&self.path, e))?;
        let mut snippets = SnippetGenerator::create(&searcher, &*q, f.body)
            .map_err(|e| search_err(&self.path, e))?;
        snippets.set_max_num_chars(180);
        let mut hits = Vec::with_capacity(top.len());
        for (score, addr) in top {
            let doc: TantivyDocument = searcher.doc(addr).map_err(|e| search_err(&self.path, e))?;
            let get = |field| {
                doc.get_first(field)
                    .and_then(|v| v.as_str())
                    .unwrap_or("")
                    .to_string()
            };
            let snippet = snippets.snippet_from_doc(&doc);
            let snippet = if snippet.fragment().trim().is_empty() {
                crate::text::escape_html(&get(f.summary))
            } else {
                snippet.to_html()
            };
            hits.push(Hit {
                title: get(f.title),
                url: get(f.url),
                kind: get(f.kind),
                topic: get(f.topic),
                snippet,
                score,
            });
        }
        Ok(Results { total, hits })
    }
}
