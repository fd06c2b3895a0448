//! Test vocabulary: build the demo content or a tiny site written on the fly into a temporary
//! folder, with a fixed "now", and read what came out.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use portal_generator::{build, BuildOptions, BuildReport, Error};

/// The moment every test build takes as now.
pub fn now() -> DateTime<Utc> {
    "2026-11-23T12:00:00Z".parse().unwrap()
}

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// A site to build: content and output in a temporary folder, the default theme.
pub struct TestSite {
    pub dir: tempfile::TempDir,
    pub content: PathBuf,
    pub theme: PathBuf,
}

pub const SITE_TOML: &str = r#"
title = "Test Shop"
base_url = "https://help.example.com"
timezone = "Europe/London"
[contact]
address = ["1 High Street", "Bristol"]
phones = [{ label = "Support", value = "+44 117 000 0000" }]
emails = [{ label = "Support", value = "help@example.com" }]
hours = [{ days = "Monday to Friday", hours = "09:00–17:00" }]
[[binders]]
id = "support"
name = "Help desk"
public = true
"#;

impl TestSite {
    /// A minimal valid site: settings and one article.
    pub fn new() -> TestSite {
        let dir = tempfile::tempdir().unwrap();
        let content = dir.path().join("content");
        let site = TestSite {
            content,
            theme: repo().join("themes/default"),
            dir,
        };
        site.file("site.toml", SITE_TOML);
        site.file(
            "kb/first.md",
            "+++\ntitle = \"First article\"\ntopic = \"Basics\"\ndate = 2026-01-01\n+++\nHello.\n",
        );
        site
    }

    /// The demo business's content, as shipped.
    pub fn demo() -> TestSite {
        let dir = tempfile::tempdir().unwrap();
        TestSite {
            content: repo().join("content"),
            theme: repo().join("themes/default"),
            dir,
        }
    }

    /// Writes `text` to `rel` under the content folder.
    pub fn file(&self, rel: &str, text: &str) -> &Self {
        let p = self.content.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
        self
    }

    /// The output folder.
    pub fn out(&self) -> PathBuf {
        self.dir.path().join("out")
    }

    /// Builds at [`now`].
    pub fn build(&self) -> Result<BuildReport, Error> {
        let mut opts = BuildOptions::new(&self.content, &self.theme, self.out());
        opts.now = Some(now());
        build(&opts)
    }

    /// Builds with another theme folder.
    pub fn build_with_theme(&self, theme: &Path) -> Result<BuildReport, Error> {
        let mut opts = BuildOptions::new(&self.content, theme, self.out());
        opts.now = Some(now());
        build(&opts)
    }

    /// A built file's text, by site-relative path.
    pub fn read(&self, rel: &str) -> String {
        let p = self.out().join("site").join(rel);
        std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    }

    /// Whether the built site has `rel`.
    pub fn has(&self, rel: &str) -> bool {
        self.out().join("site").join(rel).exists()
    }
}
