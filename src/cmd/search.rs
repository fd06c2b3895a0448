//! `portal search`: queries the built index from the command line.

use std::path::Path;

use anyhow::Context;
use portal_core::search::Searcher;

/// Prints ranked hits: title, URL and snippet (matches in `*…*`).
pub fn run(
    query: &str,
    index: &Path,
    topic: Option<&str>,
    limit: usize,
    json: bool,
) -> anyhow::Result<()> {
    let searcher = Searcher::open(index)?;
    let results = searcher
        .search(query, topic, limit, 0)
        .context("search failed")?;
    if json {
        println!("{}", serde_json::to_string_pretty(&results)?);
        return Ok(());
    }
    if results.hits.is_empty() {
        println!("No results for “{query}”.");
        return Ok(());
    }
    println!(
        "{} result{} for “{query}”:",
        results.total,
        if results.total == 1 { "" } else { "s" }
    );
    for (i, hit) in results.hits.iter().enumerate() {
        let snippet = hit
            .snippet
            .replace("<b>", "*")
            .replace("</b>", "*")
            .replace("&amp;", "&")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&#x27;", "'");
        println!(
            "{:>2}. {} [{}]\n    {}\n    {}",
            i + 1,
            hit.title,
            hit.kind,
            hit.url,
            snippet.split_whitespace().collect::<Vec<_>>().join(" ")
        );
    }
    Ok(())
}
