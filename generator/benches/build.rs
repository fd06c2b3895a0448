//! Build benchmark: generates a synthetic knowledge base of N articles (default 10,000), then
//! builds it with the search index RUNS times (default 5) and reports wall time and peak
//! memory. The first run writes into an empty output folder; later runs replace the previous
//! output, as a rebuild does.
//!
//! `cargo bench -p portal-generator --bench build -- [N] [RUNS]`
//!
//! `PORTAL_BENCH_DIR=DIR` keeps the generated content (`DIR/content`) and output there instead
//! of a temporary folder, e.g. to time `portal build` on it or to put the output on tmpfs.

use std::time::Instant;

use portal_generator::{build, synthetic, BuildOptions};

// The same allocator as the `portal` program, so the figures are what users get.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// Resets the kernel's peak-RSS counter, so generating the content is not counted.
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
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
    let out = root.join("out");
    let _ = std::fs::remove_dir_all(&content);
    let _ = std::fs::remove_dir_all(&out);
    synthetic::write_site(&content, n).expect("synthetic content");
    let theme = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../themes/default");
    let opts = BuildOptions::new(&content, &theme, &out);

    reset_peak();
    let mut rebuilds = Vec::new();
    let mut first = 0.0;
    for run in 0..runs {
        let start = Instant::now();
        let report = build(&opts).expect("synthetic site builds");
        let secs = start.elapsed().as_secs_f64();
        println!("run {}: {report}", run + 1);
        if run == 0 {
            first = secs;
        } else {
            rebuilds.push(secs);
        }
    }
    rebuilds.sort_by(|a, b| a.partial_cmp(b).expect("times are numbers"));
    let median = rebuilds
        .get(rebuilds.len() / 2)
        .copied()
        .unwrap_or(f64::NAN);
    println!(
        "build/{n}-articles: first build {first:.2} s; rebuilds median {median:.2} s (min {:.2}, max {:.2}, {} runs); peak RSS {:.0} MiB; {} threads; output in {}",
        rebuilds.first().copied().unwrap_or(f64::NAN),
        rebuilds.last().copied().unwrap_or(f64::NAN),
        rebuilds.len(),
        peak_rss_mib(),
        rayon::current_num_threads(),
        out.display(),
    );
}
