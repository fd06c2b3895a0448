//! One module per subcommand.

mod admin;
mod build;
mod deploy;
mod search;
mod serve;
mod webhooks;

use crate::cli::{Cli, Command};

/// Runs the chosen subcommand.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Build(site) => build::run(&site),
        Command::Check(site) => build::check(&site),
        Command::Bundle(site) => deploy::bundle_only(&site),
        Command::DeploySite {
            site,
            bucket,
            distribution,
        } => deploy::run(&site, &bucket, distribution.as_deref()),
        Command::Admin { store, command } => admin::run(&store, command),
        Command::Serve {
            site,
            port,
            store,
            demo,
            live_reload,
            interface,
            base_url,
        } => serve::run(
            &site,
            serve::Listen {
                interface,
                port,
                base_url,
                live_reload,
            },
            store.as_deref(),
            demo,
        ),
        Command::Search {
            query,
            index,
            topic,
            limit,
            json,
        } => search::run(&query, &index, topic.as_deref(), limit, json),
    }
}
