//! Pages the functions render on request with the theme's Tera templates: search results,
//! tracking pages, and the messages that follow a link from an e-mail. They start from the
//! context the build saved ([`portal_core::site::SiteData::page`]), so the header, footer and
//! topics match the static site.

use std::path::Path;

use axum::http::header;
use portal_core::text::{error_chain, escape_html};
use serde::Serialize;
use serde_json::Value;
use tera::{Context, Tera};

use crate::error::ApiError;

/// A theme's templates with the build's fixed page context.
pub struct Pages {
    tera: std::sync::Arc<Tera>,
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
        tera.register_filter("date_text", filter(date_text));
        tera.register_filter("size_text", filter(|n| size_text(n.max(0) as u64)));
        for name in ["message.html", "track.html", "search.html", "404.html"] {
            if !tera.get_template_names().any(|n| n == name) {
                return Err(format!(
                    "{}: missing template `{name}`",
                    templates.join(name).display()
                ));
            }
        }
        Ok(Pages {
            tera: std::sync::Arc::new(tera),
            base,
        })
    }

    /// The same templates with another build's fixed context.
    pub fn with_base(&self, base: Value) -> Pages {
        Pages {
            tera: self.tera.clone(),
            base,
        }
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

    /// Renders `template` with `ctx`.
    pub fn html(&self, template: &str, ctx: &Context) -> Result<String, ApiError> {
        self.tera
            .render(template, ctx)
            .map_err(|e| ApiError::Internal(format!("template {template}: {}", error_chain(&e))))
    }

    /// A message page; should even the message template fail, a plain page saying the same.
    pub fn message_html(&self, message: &Message) -> String {
        let mut ctx = self.context("message", &message.title, "/");
        ctx.insert("message", message);
        self.html("message.html", &ctx).unwrap_or_else(|e| {
            tracing::error!("{e}");
            format!(
                "<!doctype html><title>{0}</title><h1>{0}</h1><p>{1}</p>",
                escape_html(&message.title),
                escape_html(&message.paragraphs.join(" "))
            )
        })
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

/// A Tera filter showing a number as `text` does.
fn filter(text: impl Fn(i64) -> String + Send + Sync + 'static) -> impl tera::Filter + 'static {
    move |value: &Value, _: &std::collections::HashMap<String, Value>| {
        value
            .as_i64()
            .map(|n| Value::String(text(n)))
            .ok_or_else(|| tera::Error::msg(format!("`{value}` is not a whole number")))
    }
}

/// A size as people read it: "12 KB", "3.4 MB".
pub fn size_text(bytes: u64) -> String {
    match bytes {
        0..1024 => format!("{bytes} bytes"),
        1024..1_048_576 => format!("{} KB", bytes.div_ceil(1024)),
        _ => format!("{:.1} MB", bytes as f64 / 1_048_576.0),
    }
}

/// A time as people read it: "24 November 2026, 09:12 UTC".
pub fn date_text(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .map(|t| t.format("%-d %B %Y, %H:%M UTC").to_string())
        .unwrap_or_default()
}
