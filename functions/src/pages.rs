//! Pages the functions render on request with the theme's Tera templates: search results,
//! tracking pages, and the messages that follow a link from an e-mail. They start from the
//! context the build saved ([`portal_core::site::SiteData::page`]), so the header, footer and
//! topics match the static site.

use std::path::Path;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use portal_core::text::{error_chain, escape_html};
use serde::Serialize;
use serde_json::Value;
use tera::{Context, Tera};

use crate::error::ApiError;

/// A theme's templates with the build's fixed page context.
pub struct Pages {
    tera: Tera,
    base: Value,
}

/// A short page of text: a heading, paragraphs, and optionally links onwards.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Message {
    /// Heading and title.
    pub title: String,
    /// Paragraphs of plain text.
    pub paragraphs: Vec<String>,
    /// Links onwards: (text, root-relative URL).
    pub links: Vec<(String, String)>,
    /// A form with one button: (action, button text).
    pub button: Option<(String, String)>,
}

impl Message {
    /// A message titled `title` saying `text`.
    pub fn new(title: impl Into<String>, text: impl Into<String>) -> Message {
        Message {
            title: title.into(),
            paragraphs: vec![text.into()],
            ..Message::default()
        }
    }

    /// Adds a link onwards.
    pub fn link(mut self, text: impl Into<String>, url: impl Into<String>) -> Message {
        self.links.push((text.into(), url.into()));
        self
    }
}

impl Pages {
    /// Loads every template under `theme/templates`, escaping as the generator does.
    pub fn load(theme: &Path, base: Value) -> Result<Pages, String> {
        let templates = theme.join("templates");
        let glob = format!("{}/**/*", templates.display());
        let mut tera = Tera::new(&glob)
            .map_err(|e| format!("{}: {}", templates.display(), error_chain(&e)))?;
        tera.autoescape_on(vec![".html"]);
        tera.set_escape_fn(escape_html);
        for name in ["message.html", "track.html", "search.html", "404.html"] {
            if !tera.get_template_names().any(|n| n == name) {
                return Err(format!(
                    "{}: missing template `{name}`",
                    templates.join(name).display()
                ));
            }
        }
        Ok(Pages { tera, base })
    }

    /// A context for a page titled `title` at `url`, with the build's fixed context.
    pub fn context(&self, section: &str, title: &str, url: &str) -> Context {
        let mut c = Context::from_value(self.base.clone()).unwrap_or_default();
        let base_url = self.base["site"]["base_url"].as_str().unwrap_or("");
        c.insert("section", section);
        c.insert("title", title);
        c.insert("url", url);
        c.insert("canonical", &format!("{base_url}{url}"));
        c.insert("description", "");
        c
    }

    /// Renders `template` with `ctx` as an HTML response with `status`.
    pub fn render(
        &self,
        template: &str,
        ctx: &Context,
        status: StatusCode,
    ) -> Result<Response, ApiError> {
        let html = self
            .tera
            .render(template, ctx)
            .map_err(|e| ApiError::Internal(format!("template {template}: {}", error_chain(&e))))?;
        Ok((status, Html(html)).into_response())
    }

    /// A message page, not to be indexed.
    pub fn message(&self, status: StatusCode, message: &Message) -> Response {
        let mut ctx = self.context("message", &message.title, "/");
        ctx.insert("message", message);
        let mut response = self
            .render("message.html", &ctx, status)
            .unwrap_or_else(|e| e.into_response());
        response.headers_mut().insert(
            header::HeaderName::from_static("x-robots-tag"),
            HeaderValue::from_static("noindex"),
        );
        response
    }
}

/// Whether the client asked for HTML before JSON (a browser following a link).
pub fn wants_html(headers: &axum::http::HeaderMap) -> bool {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    match (accept.find("text/html"), accept.find("application/json")) {
        (Some(h), Some(j)) => h < j,
        (Some(_), None) => true,
        _ => false,
    }
}

/// A time as people read it: "24 November 2026, 09:12 UTC".
pub fn date_text(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .map(|t| t.format("%-d %B %Y, %H:%M UTC").to_string())
        .unwrap_or_default()
}

/// Middleware: a refused form post from a browser gets the theme's message page, saying what
/// is wrong and linking back to the form, instead of the JSON error envelope API clients get.
pub async fn form_errors(
    axum::extract::State(state): axum::extract::State<crate::AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let kind = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let from_form = req.method() == axum::http::Method::POST
        && (kind.starts_with("application/x-www-form-urlencoded")
            || kind.starts_with("multipart/form-data"));
    // Back to the page the form was on, when it is one of ours.
    let back = req
        .headers()
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| r.parse::<axum::http::Uri>().ok())
        .filter(|u| {
            u.host().is_none()
                || req
                    .headers()
                    .get(header::HOST)
                    .and_then(|h| h.to_str().ok())
                    .is_some_and(|h| u.authority().is_some_and(|a| a.as_str() == h))
        })
        .map(|u| u.path().to_string())
        .filter(|p| p.starts_with('/') && !p.starts_with("//"));
    let response = next.run(req).await;
    let status = response.status();
    let json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !from_form || !status.is_client_error() || !json {
        return response;
    }
    let bytes = axum::body::to_bytes(response.into_body(), 64 * 1024)
        .await
        .unwrap_or_default();
    let envelope: Value = serde_json::from_slice(&bytes).unwrap_or_default();
    let message = envelope["error"]["message"]
        .as_str()
        .unwrap_or("the form could not be sent");
    let text = match envelope["error"]["field"].as_str() {
        Some(field) => format!("{}: {message}", field.replace('_', " ")),
        None => message.to_string(),
    };
    let mut m = Message::new("Please check the form", text);
    m.paragraphs
        .push("Nothing was sent. Go back, correct it and send the form again.".into());
    let m = match back {
        Some(path) => m.link("Back to the form", path),
        None => m.link("Back to the home page", "/"),
    };
    state.site().pages.message(status, &m)
}
