//! Each page type of the demo site, as a visitor sees it.

use crate::common::TestSite;

fn demo() -> TestSite {
    let site = TestSite::demo();
    let report = site.build().expect("demo content builds");
    assert!(report.articles >= 25, "{report}");
    site
}

#[test]
fn home_and_contact_show_the_business() {
    let s = demo();
    let home = s.read("index.html");
    assert!(home.contains("Kestrel Systems help centre"));
    assert!(
        home.contains("Getting started with Kestrel POS (webinar)"),
        "upcoming events on the home page"
    );
    let contact = s.read("contact.html");
    for text in [
        "31 Cumberland Road",
        "Bristol BS1 6UX",
        "tel:+441174960310",
        "mailto:support@kestrel-systems.co.uk",
        "Monday to Friday",
        "08:00–18:00",
        "https://www.kestrel-systems.co.uk",
    ] {
        assert!(contact.contains(text), "contact page lacks {text}");
    }
}

#[test]
fn every_page_has_landmarks_and_a_skip_link() {
    let s = demo();
    for page in [
        "index.html",
        "kb/index.html",
        "kb/refund-a-sale.html",
        "faq/index.html",
        "calendar/index.html",
        "documents/index.html",
        "issues/new.html",
        "404.html",
    ] {
        let html = s.read(page);
        assert!(
            html.contains(r##"<a class="skip-link" href="#main">"##),
            "{page}"
        );
        assert!(html.contains(r#"<main id="main""#), "{page}");
        assert!(
            html.contains("<header")
                && html.contains("<footer")
                && html.contains(r#"<nav class="wrap main-nav" aria-label="Main">"#),
            "{page}"
        );
        assert!(
            !html.contains("http://") || !html.contains("<script src=\"http"),
            "{page}: no external scripts"
        );
        assert!(html.contains(r#"<html lang="en-GB">"#), "{page}");
    }
}

#[test]
fn faq_groups_questions_with_anchors() {
    let s = demo();
    let faq = s.read("faq/index.html");
    for cat in ["Support", "Billing", "Using Kestrel POS"] {
        assert!(faq.contains(&format!(">{cat}</h2>")), "category {cat}");
    }
    assert!(faq.contains(r#"id="offline-selling""#));
    assert!(faq.contains(r##"href="#offline-selling""##));
    assert!(faq.matches(r#"<div class="faq" id="#).count() >= 12);
}

#[test]
fn knowledge_base_index_topics_articles_and_tags() {
    let s = demo();
    let index = s.read("kb/index.html");
    for topic in [
        "Getting started",
        "Point of sale",
        "Stock control",
        "Reports and accounting",
        "Hardware",
    ] {
        assert!(index.contains(topic), "{topic}");
    }
    assert!(
        index.contains("Payments and card terminals"),
        "subtopics are listed"
    );
    let topic = s.read("kb/topic/point-of-sale.html");
    assert!(topic.contains(r#"id="sales-and-refunds""#) && topic.contains("Refund a sale"));

    let article = s.read("kb/refund-a-sale.html");
    assert!(
        article.contains(r#"<h2 id="refund-with-the-receipt">"#),
        "heading ids"
    );
    assert!(
        article.contains(r##"<a href="#refund-without-a-receipt">Refund without a receipt</a>"##),
        "table of contents"
    );
    assert!(article.contains("Related articles"));
    assert!(
        article.contains(r#"href="/kb/card-payment-failed""#),
        "related by subtopic or tag"
    );
    assert!(
        article.contains(r#"href="/kb/tags/card-payments""#),
        "tag links"
    );
    assert!(article.contains("Updated <time datetime=\"2026-10-08\">8 October 2026</time>"));

    let tag = s.read("kb/tags/card-payments.html");
    assert!(tag.contains("Refund a sale") && tag.contains("Connect a card terminal"));
    assert!(!tag.contains("Run the end-of-day report"));
    assert!(s
        .read("kb/tags/index.html")
        .contains(r#"href="/kb/tags/vat""#));
}

#[test]
fn markdown_extensions_render() {
    let s = demo();
    let staff = s.read("kb/add-staff-logins.html");
    assert!(staff.contains("<table>") && staff.contains("<th>Role</th>"));
    let checklist = s.read("kb/first-week-checklist.html");
    assert!(
        checklist.contains(r#"<span class="task todo" aria-hidden="true">☐</span><span class="visually-hidden">To do: </span>Install the tills"#),
        "task list from a YAML-front-matter file"
    );
}

#[test]
fn customers_only_content_stays_off_the_public_site() {
    let s = demo();
    assert!(!s.has("kb/price-increase-2027.html"));
    assert!(!s.has("calendar/managers-reports-customers.html"));
    for page in [
        "kb/index.html",
        "kb/topic/account-and-billing.html",
        "kb/atom.xml",
        "sitemap.xml",
        "calendar.ics",
        "calendar/2027/02.html",
    ] {
        let text = s.read(page);
        assert!(
            !text.contains("Licence prices from April 2027"),
            "{page} leaks a customers-only article"
        );
        assert!(
            !text.contains("reporting clinic"),
            "{page} leaks a customers-only event"
        );
    }
}

#[test]
fn calendar_lists_months_and_events() {
    let s = demo();
    let cal = s.read("calendar/index.html");
    assert!(cal.contains("December 2026") && cal.contains("Stock control masterclass"));
    assert!(
        cal.contains("Recent past events") && cal.contains("Autumn user group"),
        "past events listed apart"
    );
    let upcoming = cal.split("Recent past events").next().unwrap();
    assert!(
        !upcoming.contains("Autumn user group"),
        "a past event is not upcoming"
    );

    let month = s.read("calendar/2027/03.html");
    assert!(month.contains("Independent Retail Show 2027"));
    assert_eq!(
        month
            .matches(">Independent Retail Show 2027, stand B14</a>")
            .count(),
        3,
        "two-day event in both day cells and the list"
    );
    assert!(month.contains(r#"rel="prev""#) && month.contains("February 2027"));

    let event = s.read("calendar/stock-control-seminar-january.html");
    assert!(event.contains("Wednesday 20 January 2027, 09:30–13:00 GMT"));
    assert!(event.contains(r#"action="/api/events/stock-control-seminar-january/registrations""#));
    assert!(event.contains(r#"href="/calendar/stock-control-seminar-january.ics""#));
    let past = s.read("calendar/autumn-user-group.html");
    assert!(
        past.contains("Registration for this event has closed")
            && !past.contains("/registrations\"")
    );
    let show = s.read("calendar/retail-show-2027.html");
    assert!(
        show.contains("Tuesday 9 – Wednesday 10 March 2027"),
        "multi-day all-day event"
    );
}

#[test]
fn documents_list_with_type_and_size() {
    let s = demo();
    let docs = s.read("documents/index.html");
    assert!(docs.contains("Price list 2026") && docs.contains("PDF, 2 KB"));
    assert!(docs.contains("Product import template") && docs.contains("CSV"));
    assert!(s.has("documents/price-list-2026.pdf"));
    assert!(s.read("documents/price-list-2026.pdf").starts_with("%PDF-"));
}

#[test]
fn form_pages_post_to_the_function_routes() {
    let s = demo();
    let issue = s.read("issues/new.html");
    assert!(
        issue.contains(r#"action="/api/issues""#)
            && issue.contains(r#"name="binder" value="support""#)
    );
    assert!(issue.contains(r#"<label for="is-email">"#) && issue.contains(r#"id="is-email""#));
    assert!(s
        .read("issues/track.html")
        .contains(r#"action="/api/track/resend""#));
    for kind in ["login", "sales", "estore"] {
        let page = s.read(&format!("request/{kind}.html"));
        assert!(
            page.contains(r#"action="/api/requests""#)
                && page.contains(&format!(r#"name="kind" value="{kind}""#)),
            "{kind}"
        );
    }
    assert!(s
        .read("newsletter.html")
        .contains(r#"action="/api/newsletters/product-news/subscriptions""#));
    assert!(s
        .read("appointments.html")
        .contains(r#"action="/api/appointments""#));
    assert!(s.read("search/index.html").contains(r#"action="/search""#));
}

#[test]
fn sitemap_robots_and_404() {
    let s = demo();
    let sitemap = s.read("sitemap.xml");
    let doc = roxmltree_lite(&sitemap);
    assert!(doc.contains(&"https://help.kestrel-systems.co.uk/kb/refund-a-sale".to_string()));
    assert!(doc.contains(&"https://help.kestrel-systems.co.uk/".to_string()));
    assert!(!doc.iter().any(|u| u.ends_with("404.html")));
    let robots = s.read("robots.txt");
    assert!(
        robots.contains("Sitemap: https://help.kestrel-systems.co.uk/sitemap.xml")
            && robots.contains("Disallow: /api/")
    );
    assert!(s.read("404.html").contains("Page not found"));
}

/// The `<loc>` values of a sitemap.
fn roxmltree_lite(xml: &str) -> Vec<String> {
    assert!(xml.starts_with("<?xml"));
    xml.split("<loc>")
        .skip(1)
        .map(|s| s.split("</loc>").next().unwrap().to_string())
        .collect()
}

#[test]
fn raw_html_in_content_is_sanitised() {
    let s = TestSite::new();
    s.file(
        "pages/hello.md",
        "+++\ntitle = \"Hello\"\n+++\n<div onclick=\"steal()\">Hi</div><script>alert(1)</script>\n",
    );
    s.build().unwrap();
    let page = s.read("hello.html");
    assert!(page.contains("Hi") && !page.contains("steal()") && !page.contains("alert(1)"));
}

#[test]
fn synthetic_benchmark_site_builds() {
    let s = TestSite::new();
    std::fs::remove_dir_all(&s.content).unwrap();
    portal_generator::synthetic::write_site(&s.content, 120).unwrap();
    let report = s.build().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.articles, 120);
    assert!(s.read("kb/article-7.html").contains("a related article"));
}

#[test]
fn articles_written_for_zola_or_hugo_build_with_their_keys_used() {
    let s = TestSite::new();
    s.file(
        "kb/zola-style.md",
        "+++\ntitle = \"Count the float\"\ndescription = \"How to count the till float.\"\ntopic = \"Basics\"\ndate = 2026-01-01\nupdated = 2026-03-02\nslug = \"count-float\"\ntemplate = \"page.html\"\nauthors = [\"Ann\"]\ninsert_anchor_links = \"left\"\n[taxonomies]\ntags = [\"cash\"]\ncategories = [\"Tills\"]\n[extra]\nvideo = \"abc\"\n+++\nCount the coins.\n",
    );
    s.file(
        "kb/hugo-style.md",
        "---\ntitle: Close the day\ndescription: How to close the day.\ntopic: Basics\ndate: 2026-01-01\nlastmod: 2026-04-05\ncategories: [Tills]\nkeywords: [z-read]\nparams:\n  level: easy\n---\nPrint the Z read.\n",
    );
    let report = s.build().unwrap_or_else(|e| panic!("{e}"));
    assert!(
        report.warnings.is_empty(),
        "keys Zola and Hugo define are no warning: {:?}",
        report.warnings
    );
    let page = s.read("kb/count-float.html");
    assert!(
        page.contains("How to count the till float."),
        "description is the summary"
    );
    assert!(
        page.contains("/kb/tags/cash") && page.contains("/kb/tags/tills"),
        "taxonomies are tags"
    );
    assert!(!s.has("kb/zola-style.html"), "slug names the page");
    let hugo = s.read("kb/hugo-style.html");
    assert!(hugo.contains("2026-04-05"), "lastmod is the update date");
    assert!(hugo.contains("/kb/tags/tills"));
}
