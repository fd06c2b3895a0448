//! A theme: Tera templates under `templates/` and files under `static/` that are copied to
//! `/static/`. A theme must provide every template in [`REQUIRED`].

use std::path::{Path, PathBuf};

use tera::{Context, Tera};

use crate::error::{Error, Problem};

/// The templates every theme provides.
pub const REQUIRED: &[&str] = &[
    "base.html",
    "index.html",
    "contact.html",
    "page.html",
    "faq.html",
    "kb/index.html",
    "kb/topic.html",
    "kb/article.html",
    "kb/tags.html",
    "kb/tag.html",
    "calendar/index.html",
    "calendar/month.html",
    "calendar/event.html",
    "documents.html",
    "search.html",
    "forms/issue.html",
    "forms/track.html",
    "forms/request.html",
    "forms/newsletter.html",
    "forms/appointment.html",
    "404.html",
];

/// A loaded theme.
pub struct Theme {
    tera: Tera,
    root: PathBuf,
}

impl Theme {
    /// Loads and checks the theme in `root`.
    pub fn load(root: &Path) -> Result<Theme, Error> {
        let templates = root.join("templates");
        if !templates.is_dir() {
            return Err(Problem::new(&templates, "theme has no `templates` folder").into());
        }
        let glob = format!("{}/**/*", templates.display());
        let mut tera = Tera::new(&glob).map_err(|e| Problem::new(&templates, chain(&e)))?;
        tera.autoescape_on(vec![".html", ".xml"]);
        tera.set_escape_fn(escape_html);
        let missing: Vec<Problem> = REQUIRED
            .iter()
            .filter(|name| !tera.get_template_names().any(|n| n == **name))
            .map(|name| Problem::new(templates.join(name), format!("missing template `{name}`")))
            .collect();
        if !missing.is_empty() {
            return Err(Error::Content(missing));
        }
        Ok(Theme {
            tera,
            root: root.to_path_buf(),
        })
    }

    /// Renders template `name` with `ctx`.
    pub fn render(&self, name: &str, ctx: &Context) -> Result<String, Problem> {
        self.tera
            .render(name, ctx)
            .map_err(|e| Problem::new(self.root.join("templates").join(name), chain(&e)))
    }

    /// The theme's `static/` folder.
    pub fn static_dir(&self) -> PathBuf {
        self.root.join("static")
    }
}

/// Escapes text for HTML bodies and quoted attributes. Unlike Tera's default it leaves `/`
/// alone, so URLs stay readable in the output.
fn escape_html(input: &str) -> String {
    let mut out = String::with_capacity(input.len() + 16);
    for c in input.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

/// Tera's error with its causes, which hold the useful part.
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(c) = source {
        s.push_str(": ");
        s.push_str(&c.to_string());
        source = c.source();
    }
    s
}
