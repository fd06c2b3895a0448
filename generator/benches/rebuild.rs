//! Rebuild benchmark: a synthetic knowledge base of N articles (default 10,000) built once by
//! a [`Rebuilder`], then changed as an editor would, each change followed by a rebuild: one
//! article's text (RUNS times, default 5), one article moved to another topic, a topic renamed
//! in all its articles, and a theme template edited (a whole build). Prints each rebuild's
//! report and wall time.
//!
//! `cargo bench -p portal-generator --bench rebuild -- [N] [RUNS]`
//!
//! `PORTAL_BENCH_DIR=DIR` puts the content, a copy of the theme and the output there (e.g. on
//! tmpfs) instead of a temporary folder.

use std::path::{Path, PathBuf};
use std::time::Instant;

use portal_generator::{synthetic, BuildOptions, Rebuilder};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn copy_tree(from: &Path, to: &Path) {
    for e in walkdir::WalkDir::new(from) {
        let e = e.expect("theme readable");
        let dest = to.join(e.path().strip_prefix(from).expect("below the root"));
        if e.file_type().is_dir() {
            std::fs::create_dir_all(&dest).expect("folder");
        } else {
            std::fs::copy(e.path(), &dest).expect("copy");
        }
    }
}

fn timed(rebuilder: &mut Rebuilder, what: &str, changed: &[PathBuf]) -> f64 {
    let start = Instant::now();
    let report = rebuilder.rebuild(changed).expect("rebuild succeeds");
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    println!("{what}: {ms:.0} ms — {report}");
    ms
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let n = args.first().copied().unwrap_or(10_000);
    let runs = args.get(1).copied().unwrap_or(5).max(1);
    let tmp = tempfile::tempdir().expect("temp dir");
    let root =
        std::env::var_os("PORTAL_BENCH_DIR").map_or_else(|| tmp.path().to_path_buf(), Into::into);
    let content = root.join("content");
    let theme = root.join("theme");
    let out = root.join("out");
    for d in [&content, &theme, &out] {
        let _ = std::fs::remove_dir_all(d);
    }
    synthetic::write_site(&content, n).expect("synthetic content");
    copy_tree(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../themes/default"),
        &theme,
    );
    let mut rebuilder = Rebuilder::new(BuildOptions::new(&content, &theme, &out));
    let start = Instant::now();
    let report = rebuilder.build().expect("synthetic site builds");
    println!(
        "first build: {:.0} ms — {report}",
        start.elapsed().as_secs_f64() * 1000.0
    );

    let article = content.join("kb").join("article-42.md");
    let text = std::fs::read_to_string(&article).expect("article");
    let mut edits = Vec::new();
    for run in 0..runs {
        std::fs::write(&article, format!("{text}\nEdited, pass {run}.\n")).expect("write");
        edits.push(timed(
            &mut rebuilder,
            "one article's text",
            std::slice::from_ref(&article),
        ));
    }
    edits.sort_by(|a, b| a.total_cmp(b));
    let moved = text.replace("topic = \"Topic 2\"", "topic = \"Topic 5\"");
    assert_ne!(moved, text, "article 42 is in Topic 2");
    std::fs::write(&article, moved).expect("write");
    let move_ms = timed(&mut rebuilder, "one article to another topic", &[article]);

    let mut renamed = Vec::new();
    for i in (3..n).step_by(8) {
        let path = content.join("kb").join(format!("article-{i}.md"));
        let t = std::fs::read_to_string(&path).expect("article");
        std::fs::write(&path, t.replace("\"Topic 3\"", "\"Topic three\"")).expect("write");
        renamed.push(path);
    }
    let rename_ms = timed(
        &mut rebuilder,
        &format!("topic renamed in its {} articles", renamed.len()),
        &renamed,
    );

    let template = theme.join("templates").join("kb").join("article.html");
    let t = std::fs::read_to_string(&template).expect("template");
    std::fs::write(&template, format!("{t}\n")).expect("write");
    let theme_ms = timed(&mut rebuilder, "a theme template", &[template]);
    println!(
        "rebuild/{n}-articles: one article median {:.0} ms (min {:.0}, max {:.0}, {} runs); moved {move_ms:.0} ms; topic renamed {rename_ms:.0} ms; theme {theme_ms:.0} ms; output in {}",
        edits[edits.len() / 2],
        edits[0],
        edits[edits.len() - 1],
        edits.len(),
        out.display()
    );
}
