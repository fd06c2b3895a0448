//! A theme: Tera templates under `templates/` and files under `static/` that are copied to
//! `/static/`, each also under a name that carries a hash of its content (templates link that
//! one through `assets`, so a CDN may keep it forever). A theme must provide every template in
//! [`REQUIRED`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

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

    /// The URL of each file in `static/` under a name that changes with its content, by its
    /// path there: `style.css` → `/static/style.0123456789.css` (the first ten hex digits of
    /// its SHA-256). Templates link `assets["style.css"]`.
    pub fn assets(&self) -> Result<BTreeMap<String, String>, Error> {
        let dir = self.static_dir();
        let mut out = BTreeMap::new();
        if !dir.is_dir() {
            return Ok(out);
        }
        for entry in walkdir::WalkDir::new(&dir).sort_by_file_name() {
            let entry = entry.map_err(|e| Problem::new(&dir, e.to_string()))?;
            if !entry.file_type().is_file() {
                continue;
            }
            let bytes = std::fs::read(entry.path()).map_err(|e| Error::io(entry.path(), e))?;
            let rel = entry
                .path()
                .strip_prefix(&dir)
                .expect("walkdir stays below its root")
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            let url = format!("/static/{}", hashed_name(&rel, &bytes));
            out.insert(rel, url);
        }
        Ok(out)
    }
}

/// `dir/name.ext` as `dir/name.HASH.ext`.
fn hashed_name(rel: &str, bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let hash: String = digest[..5].iter().map(|b| format!("{b:02x}")).collect();
    let (dir, file) = match rel.rsplit_once('/') {
        Some((dir, file)) => (format!("{dir}/"), file),
        None => (String::new(), rel),
    };
    match file.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => format!("{dir}{stem}.{hash}.{ext}"),
        _ => format!("{dir}{file}.{hash}"),
    }
}

#[cfg(test)]
mod tests {
    use super::hashed_name;

    #[test]
    fn hashed_names_keep_the_folder_and_extension() {
        let h = hashed_name("style.css", b"body{}");
        assert!(
            h.starts_with("style.") && h.ends_with(".css") && h.len() == "style..css".len() + 10
        );
        assert_ne!(
            h,
            hashed_name("style.css", b"body{color:red}"),
            "content changes the name"
        );
        assert!(hashed_name("img/logo.svg", b"x").starts_with("img/logo."));
        assert!(hashed_name(".well-known", b"x").starts_with(".well-known."));
    }
}
