//! Each build error names the file, the line and the field, exits with an error, and leaves
//! the previous output untouched.

use crate::common::TestSite;

fn problem(site: &TestSite) -> String {
    let err = site.build().expect_err("the build must fail");
    err.to_string()
}

#[test]
fn bad_front_matter_field_names_file_line_and_field() {
    let s = TestSite::new();
    s.file("kb/bad.md", "+++\ntitle = \"Bad\"\ntopic = \"Basics\"\ndate = 2026-01-01\ntags = \"not-a-list\"\n+++\nBody\n");
    let msg = problem(&s);
    assert!(msg.contains("kb/bad.md:5: field `tags`"), "{msg}");
}

#[test]
fn an_unknown_field_is_a_warning_and_with_strict_an_error() {
    let s = TestSite::new();
    s.file(
        "kb/typo.md",
        "---\ntitle: Typo\ntopic: Basics\ndate: 2026-01-01\nsumary: oops\n---\nBody\n",
    );
    let report = s.build().expect("an unknown key does not stop a build");
    let warnings: Vec<String> = report.warnings.iter().map(|w| w.to_string()).collect();
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("kb/typo.md:5: field `sumary`: unknown field `sumary`, ignored")),
        "{warnings:?}"
    );
    assert!(s.read("kb/typo.html").contains("Typo"));

    let mut opts = portal_generator::BuildOptions::new(&s.content, &s.theme, s.out());
    opts.now = Some(crate::common::now());
    opts.strict = true;
    let msg = portal_generator::build(&opts).unwrap_err().to_string();
    assert!(
        msg.contains("kb/typo.md:5: field `sumary`") && msg.contains("unknown field"),
        "{msg}"
    );
}

#[test]
fn missing_field_is_reported() {
    let s = TestSite::new();
    s.file(
        "kb/untitled.md",
        "+++\ntopic = \"Basics\"\ndate = 2026-01-01\n+++\nBody\n",
    );
    let msg = problem(&s);
    assert!(
        msg.contains("kb/untitled.md:1: field `title`") && msg.contains("missing field"),
        "{msg}"
    );
}

#[test]
fn unknown_date_format_names_the_value() {
    let s = TestSite::new();
    s.file(
        "calendar/when.md",
        "+++\ntitle = \"Someday\"\nstart = \"03/12/2026\"\n+++\n",
    );
    let msg = problem(&s);
    assert!(
        msg.contains("calendar/when.md:3: field `start`")
            && msg.contains("unknown date format `03/12/2026`"),
        "{msg}"
    );
    let s = TestSite::new();
    s.file(
        "kb/when.md",
        "---\ntitle: Someday\ntopic: Basics\ndate: next tuesday\n---\n",
    );
    let msg = problem(&s);
    assert!(
        msg.contains("kb/when.md:4: field `date`")
            && msg.contains("unknown date format `next tuesday`"),
        "{msg}"
    );
}

#[test]
fn event_ending_before_it_starts() {
    let s = TestSite::new();
    s.file(
        "calendar/back.md",
        "+++\ntitle = \"Backwards\"\nstart = 2027-01-02T10:00\nend = 2027-01-02T09:00\n+++\n",
    );
    let msg = problem(&s);
    assert!(
        msg.contains("calendar/back.md: field `end`: the event ends before it starts"),
        "{msg}"
    );
}

#[test]
fn broken_internal_link_names_file_and_line() {
    let s = TestSite::new();
    s.file("kb/links.md", "+++\ntitle = \"Links\"\ntopic = \"Basics\"\ndate = 2026-01-01\n+++\nFine: [first](/kb/first), [home](/), [external](https://example.org/nope).\n\nBroken: [gone](/kb/does-not-exist)\n");
    let msg = problem(&s);
    assert!(
        msg.contains("kb/links.md:8: broken link: no page `/kb/does-not-exist`"),
        "{msg}"
    );
    assert_eq!(msg.matches("broken link").count(), 1, "{msg}");
}

#[test]
fn public_page_linking_to_customers_only_article_fails() {
    let s = TestSite::new();
    s.file("kb/secret.md", "+++\ntitle = \"Secret\"\ntopic = \"Basics\"\ndate = 2026-01-01\nvisibility = \"customers\"\n+++\nFor customers.\n");
    s.file(
        "faq/q.md",
        "+++\nquestion = \"Q?\"\ncategory = \"General\"\n+++\nSee [secret](/kb/secret).\n",
    );
    let msg = problem(&s);
    assert!(
        msg.contains("faq/q.md:5: links to a customers-only page"),
        "{msg}"
    );
}

#[test]
fn missing_template_is_named() {
    let s = TestSite::new();
    let theme = s.dir.path().join("theme");
    copy_dir(&s.theme, &theme);
    std::fs::remove_file(theme.join("templates/kb/article.html")).unwrap();
    let msg = s.build_with_theme(&theme).unwrap_err().to_string();
    assert!(msg.contains("missing template `kb/article.html`"), "{msg}");
}

#[test]
fn template_error_names_the_template() {
    let s = TestSite::new();
    let theme = s.dir.path().join("theme");
    copy_dir(&s.theme, &theme);
    std::fs::write(
        theme.join("templates/faq.html"),
        "{% extends \"base.html\" %}{% block content %}{{ nope.missing }}{% endblock content %}",
    )
    .unwrap();
    let msg = s.build_with_theme(&theme).unwrap_err().to_string();
    assert!(msg.contains("faq.html") && msg.contains("nope"), "{msg}");
}

#[test]
fn bad_settings_are_reported() {
    let s = TestSite::new();
    s.file(
        "site.toml",
        &crate::common::SITE_TOML.replace("Europe/London", "Mars/Olympus"),
    );
    let msg = problem(&s);
    assert!(
        msg.contains("site.toml: field `timezone`: unknown time zone `Mars/Olympus`"),
        "{msg}"
    );
}

#[test]
fn document_without_sidecar_is_reported() {
    let s = TestSite::new();
    s.file("documents/orphan.pdf", "%PDF-1.4\n");
    let msg = problem(&s);
    assert!(
        msg.contains("documents/orphan.pdf: missing metadata sidecar `orphan.pdf.toml`"),
        "{msg}"
    );
}

#[test]
fn all_problems_are_listed_at_once() {
    let s = TestSite::new();
    s.file(
        "kb/a.md",
        "+++\ntitle = 1\ntopic = \"Basics\"\ndate = 2026-01-01\n+++\n",
    );
    s.file(
        "kb/b.md",
        "+++\ntitle = \"B\"\ntopic = \"Basics\"\ndate = \"soon\"\n+++\n",
    );
    let msg = problem(&s);
    assert!(msg.starts_with("2 problems found"), "{msg}");
}

#[test]
fn failed_build_leaves_the_previous_site_untouched() {
    let s = TestSite::new();
    s.build().unwrap();
    let before = s.read("kb/first.html");
    s.file("kb/first.md", "+++\ntitle = \"Changed\"\ntopic = \"Basics\"\ndate = 2026-01-01\n+++\n[broken](/nowhere/)\n");
    s.build().unwrap_err();
    assert_eq!(s.read("kb/first.html"), before);
    let leftovers: Vec<_> = std::fs::read_dir(s.out())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    let mut leftovers = leftovers;
    leftovers.sort();
    assert_eq!(
        leftovers,
        ["functions", "private", "search", "search-customers", "site"],
        "no staging folder left behind"
    );
    s.file(
        "kb/first.md",
        "+++\ntitle = \"Changed\"\ntopic = \"Basics\"\ndate = 2026-01-01\n+++\nFixed.\n",
    );
    s.build().unwrap();
    assert!(s.read("kb/first.html").contains("Changed"));
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let dest = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
        } else {
            std::fs::copy(entry.path(), &dest).unwrap();
        }
    }
}

#[test]
fn a_page_that_would_replace_another_is_refused_naming_its_file() {
    let cases = [
        (
            "kb/index.md",
            "+++\ntitle = \"Index\"\ntopic = \"Basics\"\ndate = 2026-01-01\n+++\nBody\n",
            "`/kb/index` would be written over `/kb/`",
        ),
        (
            "kb/_index.md",
            "+++\ntitle = \"Section\"\ntopic = \"Basics\"\ndate = 2026-01-01\n+++\nBody\n",
            "`/kb/index` would be written over `/kb/`",
        ),
        (
            "pages/index.md",
            "+++\ntitle = \"Home\"\n+++\nBody\n",
            "`/index` would be written over `/`",
        ),
        (
            "pages/404.md",
            "+++\ntitle = \"Lost\"\n+++\nBody\n",
            "`/404` would be written over `/404.html`",
        ),
        (
            "calendar/index.md",
            "+++\ntitle = \"Index\"\nstart = 2026-12-01T10:00\nend = 2026-12-01T11:00\n+++\nBody\n",
            "`/calendar/index` would be written over `/calendar/`",
        ),
    ];
    for (file, text, expected) in cases {
        let s = TestSite::new();
        s.file(file, text);
        let msg = problem(&s);
        assert!(
            msg.contains(file) && msg.contains(expected) && msg.contains("rename the file"),
            "{file}: {msg}"
        );
        assert!(!s.out().join("site").exists(), "{file}: nothing written");
    }
}

#[test]
fn markdown_the_build_does_not_use_is_a_warning_naming_the_file() {
    let s = TestSite::new();
    s.file("blog/first-post.md", "# Hello\n");
    s.file("notes.md", "# Notes\n");
    s.file("kb/diagram.png", "not markdown, not a warning");
    let report = s.build().expect("unused files do not stop a build");
    let warnings: Vec<String> = report.warnings.iter().map(|w| w.to_string()).collect();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(
        warnings[0].contains("blog/first-post.md: not part of the site"),
        "{warnings:?}"
    );
    assert!(
        warnings[1].contains("notes.md: not part of the site"),
        "{warnings:?}"
    );
    assert!(
        warnings[0].contains("kb/, faq/, calendar/ and pages/"),
        "{warnings:?}"
    );
}
