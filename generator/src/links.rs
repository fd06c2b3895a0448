//! The broken-link check: every internal link in the content must point at a page the build
//! writes (or a route the functions serve), and public pages must not link to customers-only
//! ones. Problems name the file and the line.

use std::collections::HashSet;

use crate::content::{Content, Source, Visibility};
use crate::error::{Error, Problem, Result};

/// URLs only logged-in customers have; public pages must not link to them.
fn customer_urls(content: &Content) -> HashSet<String> {
    let articles = content
        .articles
        .iter()
        .filter(|a| a.visibility == Visibility::Customers)
        .map(|a| a.url());
    let events = content
        .events
        .iter()
        .filter(|e| e.visibility == Visibility::Customers)
        .map(|e| e.url());
    articles.chain(events).collect()
}

/// Routes served by the functions rather than the static site.
const FUNCTION_PREFIXES: &[&str] = &[
    "/api/",
    "/my/",
    "/track/",
    "/activate/",
    "/login",
    "/logout",
    "/search",
];

/// Fails with every internal link in `content` that is not one of `urls`, naming file and line.
pub fn check(content: &Content, urls: &HashSet<String>) -> Result<()> {
    let customers_only = &customer_urls(content);
    let mut bodies: Vec<(String, Visibility, &Source, &crate::markdown::Rendered)> = Vec::new();
    bodies.extend(
        content
            .articles
            .iter()
            .map(|a| (a.url(), a.visibility, &a.source, &a.body)),
    );
    bodies.extend(
        content
            .events
            .iter()
            .map(|e| (e.url(), e.visibility, &e.source, &e.body)),
    );
    bodies.extend(content.faq.iter().map(|f| {
        (
            "/faq/".to_string(),
            Visibility::Public,
            &f.source,
            &f.answer,
        )
    }));
    bodies.extend(content.pages.iter().map(|p| {
        (
            format!("/{}", p.slug),
            Visibility::Public,
            &p.source,
            &p.body,
        )
    }));
    let mut problems = Vec::new();
    for (page_url, visibility, source, body) in bodies {
        for link in &body.links {
            let Some(target) = internal_target(&page_url, &link.url) else {
                continue;
            };
            let known = |u: &str| {
                urls.contains(u)
                    || (visibility == Visibility::Customers && customers_only.contains(u))
            };
            if known(&target) || FUNCTION_PREFIXES.iter().any(|p| target.starts_with(p)) {
                continue;
            }
            // Pages live at `/kb/name`, sections at `/kb/`: suggest the other spelling.
            let other = match target.strip_suffix('/') {
                Some(t) if !t.is_empty() => t.to_string(),
                _ => format!("{target}/"),
            };
            let message = if customers_only.contains(&target) || customers_only.contains(&other) {
                format!(
                    "links to a customers-only page from a public one `{}`",
                    link.url
                )
            } else if known(&other) {
                format!(
                    "broken link: no page `{}` (did you mean `{other}`?)",
                    link.url
                )
            } else {
                format!("broken link: no page `{}`", link.url)
            };
            problems.push(
                Problem::new(&source.path, message).at_line(source.body_line + link.line - 1),
            );
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::Content(problems))
    }
}

/// The root-relative path a link points to, or `None` for external links and fragments.
fn internal_target(page_url: &str, link: &str) -> Option<String> {
    let path = link.split(['#', '?']).next().unwrap_or("");
    if path.is_empty() || path.starts_with("//") || path.contains(':') {
        return None;
    }
    let joined = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("{}{}", &page_url[..=page_url.rfind('/').unwrap_or(0)], path)
    };
    let mut parts: Vec<&str> = Vec::new();
    for seg in joined.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    let mut out = format!("/{}", parts.join("/"));
    if joined.ends_with('/') && out != "/" {
        out.push('/');
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::internal_target;

    #[test]
    fn resolves_relative_links() {
        assert_eq!(
            internal_target("/kb/a/", "../b/").as_deref(),
            Some("/kb/b/")
        );
        assert_eq!(
            internal_target("/kb/a/", "/faq/#x").as_deref(),
            Some("/faq/")
        );
        assert_eq!(internal_target("/kb/a/", "https://x.org/").as_deref(), None);
        assert_eq!(internal_target("/kb/a/", "#top").as_deref(), None);
        assert_eq!(internal_target("/kb/a/", "mailto:a@b.c").as_deref(), None);
        assert_eq!(
            internal_target("/", "documents/x.pdf").as_deref(),
            Some("/documents/x.pdf")
        );
    }
}
