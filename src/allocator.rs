//! The allocator: mimalloc, markedly faster than the system's at the many small strings a
//! build allocates from several threads; and how a batch job has it give memory back.

use std::ffi::OsStr;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// What `portal build` sets for mimalloc: freed memory goes back to the system at once
/// instead of 10 ms later, and arenas are committed as they are used. A 10,000-article
/// build then peaks some 70 MiB lower for about 10 % more time (BENCHMARKS.md); a server
/// keeps the defaults, which are faster.
pub const BATCH: [(&str, &str); 2] = [
    ("MIMALLOC_PURGE_DELAY", "0"),
    ("MIMALLOC_ARENA_EAGER_COMMIT", "0"),
];

/// Runs this program again with [`BATCH`] set, unless the environment already says how
/// mimalloc should behave. mimalloc reads these settings when it starts, before `main`, so
/// they cannot be changed from within; on success this does not return.
#[cfg(unix)]
pub fn restart_as_batch_job() {
    use std::os::unix::process::CommandExt as _;
    if BATCH
        .iter()
        .any(|(name, _)| std::env::var_os(name).is_some())
    {
        return;
    }
    let Ok(me) = std::env::current_exe() else {
        return;
    };
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let e = std::process::Command::new(me)
        .args(args.iter().map(|a| a as &OsStr))
        .envs(BATCH)
        .exec();
    tracing::debug!("not restarted with the batch allocator settings: {e}");
}

/// Elsewhere the defaults stay.
#[cfg(not(unix))]
pub fn restart_as_batch_job() {}
