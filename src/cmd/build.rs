//! `portal build`: the public site and search index, with a progress bar on a terminal.

use std::sync::{Arc, OnceLock};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use portal_generator::{BuildOptions, BuildReport};

use crate::cli::SiteArgs;

/// Builds once and prints the one-line summary.
pub fn run(args: &SiteArgs) -> anyhow::Result<()> {
    let report = build(args)?;
    println!("{report}");
    portal_generator::wait_for_cleanup();
    Ok(())
}

/// Builds with a progress bar (shown only on a terminal and for large sites).
pub fn build(args: &SiteArgs) -> anyhow::Result<BuildReport> {
    let bar: Arc<OnceLock<ProgressBar>> = Arc::new(OnceLock::new());
    let progress_bar = bar.clone();
    let mut opts = BuildOptions::new(&args.content, &args.theme, &args.out);
    opts.progress = Some(Arc::new(move |done, total| {
        if total < 500 {
            return;
        }
        let b = progress_bar.get_or_init(|| {
            let b = ProgressBar::new(total);
            b.set_style(
                ProgressStyle::with_template("{spinner} rendering {pos}/{len} pages {wide_bar}")
                    .expect("valid template"),
            );
            b
        });
        b.set_position(done);
    }));
    let result = portal_generator::build(&opts);
    if let Some(b) = bar.get() {
        b.finish_and_clear();
    }
    result.with_context(|| format!("build of {} failed", args.content.display()))
}
