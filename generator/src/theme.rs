//! A theme: Tera templates under `templates/` and files under `static/` that are copied to
//! `/static/`. A theme must provide every template in [`REQUIRED`].

use std::path::{Path, PathBuf};

use tera::{Context, Tera};

use portal_core::text::{error_chain as chain, escape_html};

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
    "message.html",
    "track.html",
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
