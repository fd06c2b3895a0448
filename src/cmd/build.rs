//! `portal build`: the public site and search index, with a progress bar on a terminal.

use std::sync::{Arc, OnceLock};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use portal_generator::{BuildOptions, BuildReport};

use crate::cli::SiteArgs;

/// Builds once and prints the one-line summary.
pub fn run(args: &SiteArgs) -> anyhow::Result<()> {
    let report = build(args)?;
    warn(&report.warnings);
    println!("{report}");
    portal_generator::wait_for_cleanup();
    Ok(())
}

/// Builds with a progress bar (shown only on a terminal and for large sites).
pub fn build(args: &SiteArgs) -> anyhow::Result<BuildReport> {
    let bar = Bar::default();
    let mut opts = options(args);
    opts.progress = Some(bar.callback());
    let result = portal_generator::build(&opts);
    bar.finish();
    result.with_context(|| format!("build of {} failed", args.content.display()))
}

/// Builds into a folder that is then thrown away: every check a build makes, nothing
/// published.
pub fn check(args: &SiteArgs) -> anyhow::Result<()> {
    let scratch = tempfile::tempdir().context("cannot make a scratch folder")?;
    let mut opts = options(args);
    opts.out = scratch.path().to_path_buf();
    let report = portal_generator::build(&opts)
        .with_context(|| format!("check of {} failed", args.content.display()))?;
    portal_generator::wait_for_cleanup();
    warn(&report.warnings);
    println!(
        "Checked {} pages ({} articles, {} events, {} documents): no problems{}",
        report.pages,
        report.articles,
        report.events,
        report.documents,
        match report.warnings.len() {
            0 => String::new(),
            1 => ", 1 warning".into(),
            n => format!(", {n} warnings"),
        }
    );
    Ok(())
}

/// Prints each warning on standard error.
pub fn warn(warnings: &[portal_generator::Problem]) {
    for w in warnings {
        eprintln!("warning: {w}");
    }
}

/// The build options `args` name, without progress.
pub fn options(args: &SiteArgs) -> BuildOptions {
    let mut opts = BuildOptions::new(&args.content, &args.theme, &args.out);
    opts.strict = args.strict;
    opts
}

/// A progress bar for one build, drawn only on a terminal and for 500 pages or more.
#[derive(Default, Clone)]
pub struct Bar(Arc<OnceLock<ProgressBar>>);

impl Bar {
    /// What the build calls as pages are written.
    pub fn callback(&self) -> portal_generator::builder::ProgressFn {
        let bar = self.0.clone();
        Arc::new(move |done, total| {
            if total < 500 {
                return;
            }
            let b = bar.get_or_init(|| {
                let b = ProgressBar::new(total);
                b.set_style(
                    ProgressStyle::with_template(
                        "{spinner} rendering {pos}/{len} pages {wide_bar}",
                    )
                    .expect("valid template"),
                );
                b
            });
            b.set_position(done);
        })
    }

    /// Clears the bar once the build is over.
    pub fn finish(&self) {
        if let Some(b) = self.0.get() {
            b.finish_and_clear();
        }
    }
}
