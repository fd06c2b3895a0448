//! Public documents: any file in `documents/` with a `FILE.toml` sidecar giving its title and
//! description.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use chrono_tz::Tz;
use serde::Deserialize;

use super::{Item, Visibility};
use crate::dates::FmDate;
use crate::error::Problem;
use crate::frontmatter;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DocumentMeta {
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    date: Option<FmDate>,
    #[serde(default)]
    visibility: Visibility,
}

/// A public document: a file plus its `.toml` sidecar.
#[derive(Debug, Clone)]
pub struct Document {
    /// File name, also the last part of its URL.
    pub file_name: String,
    /// Title.
    pub title: String,
    /// What it is.
    pub description: String,
    /// File type shown to people, e.g. "PDF".
    pub kind: String,
    /// Size in bytes.
    pub size: u64,
    /// Publication date.
    pub date: Option<NaiveDate>,
    /// Who may see it.
    pub visibility: Visibility,
    /// The file on disk.
    pub path: PathBuf,
}

impl Document {
    /// `/documents/{file}`.
    pub fn url(&self) -> String {
        format!("/documents/{}", self.file_name)
    }
}

pub(super) fn load_document(path: &Path, tz: Tz) -> Result<Item, Problem> {
    let name = path
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .to_string();
    if let Some(target) = name.strip_suffix(".toml") {
        // A sidecar: its document must exist; it is read with the document.
        if !path.with_file_name(target).is_file() {
            return Err(Problem::new(
                path,
                format!("metadata for `{target}`, but there is no such file"),
            ));
        }
        return Ok(Item::Skip);
    }
    let sidecar = path.with_file_name(format!("{name}.toml"));
    let text = std::fs::read_to_string(&sidecar).map_err(|_| {
        Problem::new(
            path,
            format!("missing metadata sidecar `{name}.toml` (title and description)"),
        )
    })?;
    let wrapped = format!("+++\n{text}\n+++\n");
    let meta = frontmatter::parse::<DocumentMeta>(&sidecar, &wrapped).map_err(|mut p| {
        p.line = p.line.map(|l| l.saturating_sub(1).max(1));
        p
    })?;
    let size = std::fs::metadata(path)
        .map_err(|e| Problem::new(path, format!("cannot read: {e}")))?
        .len();
    if name.contains(['/', '\\', '?', '#', ' ']) {
        return Err(Problem::new(
            path,
            "document file names may not contain spaces, `?` or `#`",
        ));
    }
    Ok(Item::Document(Document {
        kind: path
            .extension()
            .map_or("File".into(), |e| e.to_string_lossy().to_uppercase()),
        file_name: name,
        title: meta.meta.title,
        description: meta.meta.description,
        size,
        date: meta.meta.date.map(|d| d.date(tz)),
        visibility: meta.meta.visibility,
        path: path.to_path_buf(),
    }))
}
