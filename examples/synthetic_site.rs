//! Writes a synthetic knowledge base for benchmarks (`portal_generator::synthetic`): N
//! articles (default 10,000) with FAQ entries and events, into DIR.
//!
//! `cargo run --release --example synthetic_site -- DIR [N]`

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(dir) = args.next() else {
        eprintln!("usage: synthetic_site DIR [N]");
        std::process::exit(2);
    };
    let n = args.next().and_then(|n| n.parse().ok()).unwrap_or(10_000);
    if let Err(e) = portal_generator::synthetic::write_site(std::path::Path::new(&dir), n) {
        eprintln!("{dir}: {e}");
        std::process::exit(1);
    }
}
