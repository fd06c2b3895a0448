//! Markdown to HTML: CommonMark plus tables, footnotes, strikethrough, task lists and heading
//! ids, with heading anchors, a table of contents, the plain text for the search index and
//! every link's line (for the broken-link check). Raw HTML in content goes through `ammonia`.

use std::collections::HashSet;
use std::sync::OnceLock;

use pulldown_cmark::{html, CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use serde::Serialize;

/// A heading that the table of contents lists.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TocEntry {
    /// 2 or 3.
    pub level: u8,
    /// The heading's anchor id.
    pub id: String,
    /// The heading's text.
    pub title: String,
}

/// A link found in the Markdown, with the 1-based line of the body it is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The destination as written.
    pub url: String,
    /// 1-based line within the body.
    pub line: usize,
}

/// The result of rendering one Markdown body.
#[derive(Debug, Clone, Default)]
pub struct Rendered {
    /// Safe HTML.
    pub html: String,
    /// Level-2 and level-3 headings, in order.
    pub toc: Vec<TocEntry>,
    /// Every link and image destination.
    pub links: Vec<Link>,
    /// The plain text, for search and summaries.
    pub text: String,
}

/// Renders `markdown`.
///
/// ```
/// let r = portal_generator::markdown::render("## Set up\n\nSee [prices](/documents/).");
/// assert!(r.html.contains(r#"<h2 id="set-up">"#));
/// assert_eq!(r.toc[0].id, "set-up");
/// assert_eq!(r.links[0].url, "/documents/");
/// ```
pub fn render(markdown: &str) -> Rendered {
    let opts = Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_HEADING_ATTRIBUTES;
    let newlines: Vec<usize> = markdown.match_indices('\n').map(|(i, _)| i).collect();
    let line_at = |byte: usize| 1 + newlines.partition_point(|&n| n < byte);

    let mut out: Vec<Event> = Vec::new();
    let mut toc = Vec::new();
    let mut links = Vec::new();
    let mut text = String::new();
    let mut ids = HashSet::new();
    let mut needs_sanitising = false;
    // While inside a heading: its start index in `out` and its text so far.
    let mut heading: Option<(usize, String)> = None;

    for (event, range) in Parser::new_ext(markdown, opts).into_offset_iter() {
        match &event {
            Event::Start(Tag::Heading { .. }) => heading = Some((out.len(), String::new())),
            Event::End(TagEnd::Heading(level)) => {
                if let Some((start, title)) = heading.take() {
                    let Event::Start(Tag::Heading { level: l, id, .. }) = out[start].clone() else {
                        unreachable!("a heading starts with its start tag")
                    };
                    // An id an editor gives (`{#id}`) is made a slug like the others, and
                    // other heading attributes (`{.class key=value}`) are dropped: nothing
                    // written there reaches the page as markup (a quote, an event handler).
                    let id = unique_id(&mut ids, slug::slugify(id.as_deref().unwrap_or(&title)));
                    if matches!(level, HeadingLevel::H2 | HeadingLevel::H3) {
                        toc.push(TocEntry {
                            level: *level as u8,
                            id: id.clone(),
                            title: title.trim().to_string(),
                        });
                    }
                    out[start] = Event::Start(Tag::Heading {
                        level: l,
                        id: Some(CowStr::from(id.clone())),
                        classes: Vec::new(),
                        attrs: Vec::new(),
                    });
                    out.push(Event::InlineHtml(CowStr::from(format!(
                        r##" <a class="anchor" href="#{id}" aria-label="Link to this section">#</a>"##
                    ))));
                    text.push('\n');
                }
            }
            Event::Start(Tag::Link { dest_url, .. })
            | Event::Start(Tag::Image { dest_url, .. }) => {
                if !safe_scheme(dest_url) {
                    needs_sanitising = true;
                }
                links.push(Link {
                    url: dest_url.to_string(),
                    line: line_at(range.start),
                });
            }
            Event::Html(_) | Event::InlineHtml(_) => needs_sanitising = true,
            // A read-only checkbox is a form control without a label; a symbol with words for
            // screen readers says the same thing accessibly.
            Event::TaskListMarker(done) => {
                let (class, symbol, words) = if *done {
                    ("done", "☑", "Done")
                } else {
                    ("todo", "☐", "To do")
                };
                out.push(Event::InlineHtml(CowStr::from(format!(
                    r#"<span class="task {class}" aria-hidden="true">{symbol}</span><span class="visually-hidden">{words}: </span>"#
                ))));
                continue;
            }
            Event::Text(t) | Event::Code(t) => {
                if let Some((_, title)) = heading.as_mut() {
                    title.push_str(t);
                }
                text.push_str(t);
            }
            Event::SoftBreak
            | Event::HardBreak
            | Event::End(TagEnd::Paragraph)
            | Event::End(TagEnd::Item) => text.push(' '),
            _ => {}
        }
        out.push(event);
    }

    let mut html_out = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut html_out, out.into_iter());
    if needs_sanitising {
        html_out = sanitiser().clean(&html_out).to_string();
    }
    Rendered {
        html: html_out,
        toc,
        links,
        text,
    }
}

/// Makes `id` unique on the page by adding `-1`, `-2` … when needed.
fn unique_id(ids: &mut HashSet<String>, id: String) -> String {
    let base = if id.is_empty() {
        "section".to_string()
    } else {
        id
    };
    let mut candidate = base.clone();
    let mut n = 1;
    while !ids.insert(candidate.clone()) {
        candidate = format!("{base}-{n}");
        n += 1;
    }
    candidate
}

/// Links whose scheme cannot run script; anything else sends the page through ammonia.
fn safe_scheme(url: &str) -> bool {
    match url.find(':') {
        None => true,
        Some(i) if url[..i].contains(['/', '?', '#']) => true,
        Some(i) => matches!(
            url[..i].to_ascii_lowercase().as_str(),
            "http" | "https" | "mailto" | "tel"
        ),
    }
}

/// The HTML sanitiser for content with raw HTML: ammonia's defaults plus what our own
/// Markdown output uses (heading ids, anchors, task-list marks, footnotes).
fn sanitiser() -> &'static ammonia::Builder<'static> {
    static B: OnceLock<ammonia::Builder<'static>> = OnceLock::new();
    B.get_or_init(|| {
        let mut b = ammonia::Builder::default();
        b.add_generic_attributes(["id", "class", "aria-label", "aria-hidden"]);
        b
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_are_on() {
        let r = render("| a | b |\n|---|---|\n| 1 | 2 |\n\n~~old~~\n\n- [x] done\n\nNote[^1].\n\n[^1]: Footnote.\n");
        assert!(r.html.contains("<table>"), "{}", r.html);
        assert!(r.html.contains("<del>old</del>"));
        assert!(r.html.contains(r#"<span class="task done" aria-hidden="true">☑</span><span class="visually-hidden">Done: </span>done"#), "{}", r.html);
        assert!(r.html.contains("footnote-definition"));
    }

    #[test]
    fn heading_ids_and_attributes_carry_no_markup() {
        let r = render(
            "## One {#a\"onmouseover=alert(1)}\n\n## Two {.cls onclick=alert(2) data-z=1}\n\n## Three {#<img src=x onerror=alert(3)>}\n",
        );
        for bad in [
            " onmouseover=",
            " onclick=",
            " onerror=",
            " data-z=",
            "class=\"cls\"",
            "\"onmouseover",
        ] {
            assert!(!r.html.contains(bad), "{bad} in {}", r.html);
        }
        let ids: Vec<_> = r.toc.iter().map(|t| t.id.as_str()).collect();
        assert!(
            ids.iter()
                .all(|i| i.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')),
            "{ids:?}"
        );
    }

    #[test]
    fn headings_get_unique_ids_and_toc() {
        let r = render("## Setup\n\n### Setup\n\n## Custom {#mine}\n");
        let ids: Vec<_> = r.toc.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids, ["setup", "setup-1", "mine"]);
        assert!(r.html.contains(r##"href="#setup-1""##));
    }

    #[test]
    fn raw_html_is_sanitised() {
        let r = render(
            "Hi <script>alert(1)</script><b onclick=\"x()\">bold</b>\n\n[x](javascript:alert(1))",
        );
        assert!(!r.html.contains("<script"), "{}", r.html);
        assert!(!r.html.contains("onclick"));
        assert!(!r.html.contains("javascript:"));
        assert!(r.html.contains("<b>bold</b>"));
    }

    #[test]
    fn links_carry_their_line() {
        let r = render("one\n\ntwo [a](/a/)\nthree ![i](/i.png)\n");
        assert_eq!(
            r.links,
            vec![
                Link {
                    url: "/a/".into(),
                    line: 3
                },
                Link {
                    url: "/i.png".into(),
                    line: 4
                }
            ]
        );
    }
}
