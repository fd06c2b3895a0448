//! Build benchmark: generates a synthetic knowledge base of N articles (default 10,000), builds
//! it with the search index several times and reports wall time and peak memory.
//!
//! `cargo bench -p portal-generator --bench build -- [N] [RUNS]`; set `PORTAL_BENCH_DIR` to keep
//! the generated content and output there.

use std::time::Instant;

use portal_generator::{build, synthetic, BuildOptions};

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// Resets the kernel's peak-RSS counter, so the generating step is not counted.
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let n = args.first().copied().unwrap_or(10_000);
    let runs = args.get(1).copied().unwrap_or(5);
    // PORTAL_BENCH_DIR keeps the generated site for a look or a run of `portal build`.
    let dir = tempfile::tempdir().expect("temp dir");
    let root =
        std::env::var_os("PORTAL_BENCH_DIR").map_or_else(|| dir.path().to_path_buf(), Into::into);
    let content = root.join("content");
    synthetic::write_site(&content, n).expect("synthetic content");
    let theme = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../themes/default");
    let out = root.join("out");
    let opts = BuildOptions::new(&content, &theme, &out);

    reset_peak();
    let mut times = Vec::new();
    for run in 0..runs {
        let start = Instant::now();
        let report = build(&opts).expect("synthetic site builds");
        let secs = start.elapsed().as_secs_f64();
        println!("run {}: {report}", run + 1);
        times.push(secs);
    }
    times.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let median = times[times.len() / 2];
    println!(
        "build/{n}-articles: median {median:.3} s, min {:.3} s, max {:.3} s over {runs} runs; peak RSS {:.0} MiB; {} threads",
        times[0],
        times[times.len() - 1],
        peak_rss_mib(),
        rayon::current_num_threads()
    );
}
