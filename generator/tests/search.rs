//! Search over the index the build writes, on the demo content.

use portal_core::search::Searcher;

use crate::common::TestSite;

fn searcher() -> (TestSite, Searcher) {
    let s = TestSite::demo();
    s.build().unwrap();
    let searcher = Searcher::open(&s.out().join("search")).unwrap();
    (s, searcher)
}

#[test]
fn ranks_the_obvious_article_first() {
    let (_s, search) = searcher();
    for (query, url) in [
        ("refund", "/kb/refund-a-sale"),
        ("receipt printer blank", "/kb/receipt-printer-problems"),
        ("card terminal pairing", "/kb/card-terminal-setup"),
        ("VAT return", "/kb/vat-return"),
        ("stock take", "/kb/stock-take"),
        ("internet down", "/faq/#offline-selling"),
    ] {
        let r = search.search(query, None, 5, 0).unwrap();
        assert_eq!(
            r.hits.first().map(|h| h.url.as_str()),
            Some(url),
            "{query}: {:#?}",
            r.hits.iter().map(|h| &h.url).collect::<Vec<_>>()
        );
    }
}

#[test]
fn stems_english_words() {
    let (_s, search) = searcher();
    let hits = search.search("refunding", None, 10, 0).unwrap().hits;
    assert!(
        hits.iter().any(|h| h.url == "/kb/refund-a-sale"),
        "refunding finds refund"
    );
    let hits = search.search("printers", None, 10, 0).unwrap().hits;
    assert!(hits.iter().any(|h| h.url == "/kb/receipt-printer-problems"));
}

#[test]
fn title_outranks_body_mentions() {
    let (_s, search) = searcher();
    let hits = search.search("offline", None, 10, 0).unwrap().hits;
    assert_eq!(hits[0].url, "/kb/till-offline");
    assert!(hits.len() > 1, "body mentions found too");
}

#[test]
fn snippets_highlight_matches_and_escape_html() {
    let (_s, search) = searcher();
    let hit = &search.search("thermal paper", None, 1, 0).unwrap().hits[0];
    assert!(hit.snippet.contains("<b>"), "{}", hit.snippet);
    assert!(!hit.snippet.contains("<script"));
}

#[test]
fn topic_filter_and_paging() {
    let (_s, search) = searcher();
    let all = search.search("card", None, 50, 0).unwrap();
    let hardware = search.search("card", Some("Hardware"), 50, 0).unwrap();
    assert!(hardware.total < all.total && hardware.total > 0);
    assert!(hardware.hits.iter().all(|h| h.topic == "Hardware"));
    let page2 = search.search("card", None, 3, 3).unwrap();
    assert_eq!(page2.hits[0].url, all.hits[3].url);
}

#[test]
fn customers_only_content_is_not_indexed() {
    let (_s, search) = searcher();
    assert_eq!(
        search
            .search("annual plan April 2027 licence rises", None, 10, 0)
            .unwrap()
            .hits
            .iter()
            .filter(|h| h.url.contains("price-increase"))
            .count(),
        0
    );
    assert_eq!(
        search
            .search("reporting clinic", None, 10, 0)
            .unwrap()
            .hits
            .iter()
            .filter(|h| h.url.contains("managers-reports"))
            .count(),
        0
    );
}

#[test]
fn faq_events_and_documents_are_searchable() {
    let (_s, search) = searcher();
    assert_eq!(
        search.search("masterclass", None, 1, 0).unwrap().hits[0].kind,
        "event"
    );
    assert_eq!(
        search.search("mandate", None, 1, 0).unwrap().hits[0].url,
        "/documents/direct-debit-mandate.pdf"
    );
    assert_eq!(
        search.search("Mac iPad", None, 1, 0).unwrap().hits[0].kind,
        "faq"
    );
}

#[test]
fn odd_queries_do_not_fail() {
    let (_s, search) = searcher();
    for q in [
        "",
        "\"unterminated",
        "title:",
        "AND OR",
        "((",
        "+-",
        "ünïcödé",
    ] {
        search
            .search(q, None, 10, 0)
            .unwrap_or_else(|e| panic!("{q}: {e}"));
    }
}

#[test]
fn the_build_hands_the_functions_settings_events_and_titles() {
    let (s, search) = searcher();
    let text = std::fs::read_to_string(s.out().join("functions/site.json")).unwrap();
    let data = portal_core::site::SiteData::from_json(&text).unwrap();
    assert_eq!(data.settings.tracking_prefix, "KST");
    assert_eq!(
        data.settings.business_email,
        "support@kestrel-systems.co.uk"
    );
    assert!(data
        .settings
        .binders
        .iter()
        .any(|b| b.id == "support" && b.public));
    let seminar = data.event("stock-control-seminar-january").unwrap();
    assert_eq!(seminar.capacity, Some(16));
    assert!(seminar.closes.unwrap() < seminar.starts);
    let private = data.event("managers-reports-customers").unwrap();
    assert!(private.customers_only, "customers-only events are marked");
    assert_eq!(data.event("christmas-closure").unwrap().capacity, None);
    assert_eq!(data.page["site"]["title"], "Kestrel Systems");
    assert_eq!(
        search.title_of("/kb/refund-a-sale").unwrap().as_deref(),
        Some("Refund a sale")
    );
    assert_eq!(search.title_of("/kb/no-such-article").unwrap(), None);
}

#[test]
fn customers_only_articles_are_published_privately_and_indexed_for_customers() {
    let (s, public) = searcher();
    let out = s.out();
    let all: Vec<_> = walk_files(&out.join("private"));
    assert!(
        all.iter().all(|p| p.starts_with(out.join("private/my"))),
        "{all:?}"
    );
    let event = out.join("private/my/calendar/managers-reports-customers.html");
    assert!(all.contains(&event), "{all:?}");
    let private: Vec<_> = all
        .into_iter()
        .filter(|p| p.starts_with(out.join("private/my/kb")))
        .collect();
    assert_eq!(
        private.len(),
        2,
        "both customers-only articles are rendered"
    );
    let page = std::fs::read_to_string(&private[0]).unwrap();
    let url = format!(
        "/my/kb/{}",
        private[0].file_stem().unwrap().to_string_lossy()
    );
    assert!(page.contains(&url), "the page knows its private address");
    // Nowhere in the public site, its sitemap or its index.
    assert!(!out.join("site/my").exists());
    let sitemap = std::fs::read_to_string(out.join("site/sitemap.xml")).unwrap();
    assert!(!sitemap.contains("/my/"));
    let customers = Searcher::open(&out.join("search-customers")).unwrap();
    assert!(customers.title_of(&url).unwrap().is_some());
    assert!(public.title_of(&url).unwrap().is_none());
    assert!(
        customers.title_of("/kb/refund-a-sale").unwrap().is_some(),
        "and everything public"
    );
}

fn walk_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in walkdir::WalkDir::new(dir) {
        let e = e.unwrap();
        if e.file_type().is_file() {
            out.push(e.path().to_path_buf());
        }
    }
    out.sort();
    out
}
