//! `portal`: the Customer Portal command-line program — a thin layer that wires the
//! component crates together (`portal-generator` for the public site).

mod allocator;
mod cli;
mod cmd;

use clap::Parser;

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("PORTAL_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = cli::Cli::parse();
    if matches!(cli.command, cli::Command::Build(_) | cli::Command::Check(_)) {
        allocator::restart_as_batch_job();
    }
    match cmd::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
