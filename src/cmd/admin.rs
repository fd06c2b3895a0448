//! `portal admin`: create, export and import the data store.

use std::io::{BufReader, Write};

use anyhow::Context;

use crate::cli::AdminCommand;

/// Runs one admin command against the store named by `spec`.
pub fn run(spec: &str, command: AdminCommand) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let store = portal_core::store::open(spec).await?;
        match command {
            AdminCommand::Init => {
                store.init().await?;
                eprintln!("{} is ready", store.name());
            }
            AdminCommand::Export { file } => {
                let count = if file.as_os_str() == "-" {
                    let stdout = std::io::stdout();
                    let mut out = stdout.lock();
                    portal_core::transfer::export(&*store, &mut out).await?
                } else {
                    let f = std::fs::File::create(&file)
                        .with_context(|| format!("cannot create {}", file.display()))?;
                    let mut out = std::io::BufWriter::new(f);
                    let n = portal_core::transfer::export(&*store, &mut out).await?;
                    out.flush()
                        .with_context(|| format!("cannot write {}", file.display()))?;
                    n
                };
                eprintln!("exported {count} records from {}", store.name());
            }
            AdminCommand::Import { file } => {
                let f = std::fs::File::open(&file)
                    .with_context(|| format!("cannot open {}", file.display()))?;
                let count = portal_core::transfer::import(&*store, &mut BufReader::new(f))
                    .await
                    .with_context(|| {
                        format!("import of {} into {} failed", file.display(), store.name())
                    })?;
                eprintln!("imported {count} records into {}", store.name());
            }
        }
        Ok(())
    })
}
