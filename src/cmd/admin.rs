//! `portal admin`: create, export and import the data store; list customers, invite and
//! disable logins; `webhooks.rs` has `portal admin webhooks`.

use std::io::{BufReader, Write};

use anyhow::Context;

use portal_core::records::apikeys::ApiKeys;
use portal_core::records::customers::Customers;
use portal_core::records::sessions::Sessions;
use portal_core::store::{self, Store};

use crate::cli::{AdminCommand, KeysCommand, StaffCommand};

/// The folder an export's files go in beside FILE: `FILE.files`.
fn files_folder(file: &std::path::Path) -> std::path::PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".files");
    name.into()
}

/// The blob store `given`, or the `blobs` folder beside the embedded store `spec`; an
/// error that says what to give for another store.
async fn blob_store(
    spec: &str,
    given: Option<&str>,
    doing: &str,
) -> anyhow::Result<std::sync::Arc<dyn portal_core::blobs::BlobStore>> {
    let spec = match (given, spec.strip_prefix("sqlite:")) {
        (Some(g), _) => g.to_string(),
        (None, Some(db)) => {
            let parent = std::path::Path::new(db)
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(std::path::Path::new("."));
            format!("folder:{}", parent.join("blobs").display())
        }
        (None, None) => anyhow::bail!(
            "say where the uploaded files are for the {doing} with --blobs s3:BUCKET (the AttachmentsBucketName output of the stack){}",
            if doing == "export" { ", or export the records alone with --no-files" } else { "" }
        ),
    };
    Ok(portal_core::blobs::open(&spec).await?)
}

/// Runs one admin command against the store named by `spec`.
pub fn run(spec: &str, command: AdminCommand) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let store = store::open(spec).await?;
        match command {
            AdminCommand::Init => {
                store.init().await?;
                eprintln!("{} is ready", store.name());
            }
            AdminCommand::Export {
                file,
                files,
                blobs,
                no_files,
            } => {
                let blobs = if no_files {
                    None
                } else {
                    Some(blob_store(spec, blobs.as_deref(), "export").await?)
                };
                let folder = match (files, file.as_os_str() == "-") {
                    (Some(f), _) => Some(f),
                    (None, false) => Some(files_folder(&file)),
                    (None, true) => None,
                };
                if let Some(blobs) = &blobs {
                    if folder.is_none() && !blobs.keys().await?.is_empty() {
                        anyhow::bail!(
                            "the store has uploaded files and standard output takes only the records: name a folder for them with --files DIR (or leave them with --no-files)"
                        );
                    }
                }
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
                if let (Some(blobs), Some(folder)) = (blobs, folder) {
                    let (n, bytes) = portal_core::transfer::export_files(&*blobs, &folder)
                        .await
                        .context("the files were not exported")?;
                    eprintln!(
                        "exported {n} files ({bytes} bytes) to {} with their SHA-256 sums",
                        folder.display()
                    );
                }
            }
            AdminCommand::Import { file, files, blobs } => {
                let folder = files.or_else(|| Some(files_folder(&file)).filter(|f| f.exists()));
                let checked = match &folder {
                    Some(folder) => {
                        let list = portal_core::transfer::checked_files(folder).with_context(
                            || format!("the files of {} are refused; nothing was imported", file.display()),
                        )?;
                        let blobs = blob_store(spec, blobs.as_deref(), "import").await?;
                        Some((folder, list, blobs))
                    }
                    None => None,
                };
                let f = std::fs::File::open(&file)
                    .with_context(|| format!("cannot open {}", file.display()))?;
                if let Some((folder, list, blobs)) = checked {
                    let n = portal_core::transfer::import_files(&*blobs, folder, &list)
                        .await
                        .context("the files were not all imported; no record was")?;
                    eprintln!("imported {n} files from {}", folder.display());
                }
                let count = portal_core::transfer::import(&*store, &mut BufReader::new(f))
                    .await
                    .with_context(|| {
                        format!("import of {} into {} failed", file.display(), store.name())
                    })?;
                eprintln!("imported {count} records into {}", store.name());
            }
            AdminCommand::Customers => {
                let (customers, _) = Customers::new(store.clone()).list(1000, None).await?;
                for c in customers {
                    println!("{}\t{}", c.id, c.name);
                }
            }
            AdminCommand::Invite {
                email,
                customer,
                name,
                content,
            } => invite(&store, spec, &email, &customer, name, &content).await?,
            AdminCommand::IndexIssues => {
                let count = portal_core::records::issues::Issues::new(store.clone())
                    .index_all()
                    .await?;
                eprintln!(
                    "wrote the search words of {count} descriptions and notes to {}",
                    store.name()
                );
            }
            AdminCommand::Keys { command } => keys(&store, command).await?,
            AdminCommand::Staff { command } => staff(&store, spec, command).await?,
            AdminCommand::Webhooks { command } => super::webhooks::run(&store, command).await?,
            AdminCommand::Disable { email } => {
                let customers = Customers::new(store.clone());
                let found = customers
                    .login(&email)
                    .await?
                    .with_context(|| format!("{email} has no login"))?;
                let mut login = found.record;
                login.disabled = true;
                customers.update_login(&login, found.version).await?;
                let ended = Sessions::new(store.clone()).end_all(&login.email).await?;
                eprintln!("{} is disabled; {ended} sessions ended", login.email);
            }
        }
        Ok(())
    })
}

/// `portal admin staff …`.
async fn staff(
    store: &std::sync::Arc<dyn Store>,
    spec: &str,
    command: StaffCommand,
) -> anyhow::Result<()> {
    use portal_core::records::staff::{Members, Role};
    match command {
        StaffCommand::Add {
            email,
            role,
            name,
            content,
        } => {
            let role = Role::parse(&role)
                .with_context(|| format!("`{role}` is not a role: agent, manager or admin"))?;
            let site = portal_generator::config::SiteConfig::load(&content.join("site.toml"))
                .map_err(portal_generator::Error::from)?;
            let member = portal_functions::desk::members::add(
                store,
                &site.title,
                &site.base_url,
                &email,
                &name,
                role,
                "cli",
            )
            .await
            .map_err(|e| anyhow::anyhow!("{}", e.public_message()))?;
            let delivered = deliver_local(store, spec).await;
            eprintln!(
                "added {} as {}; the activation link {}",
                member.email,
                role.name(),
                if delivered {
                    "is in the outbox folder"
                } else {
                    "is queued for the mailer"
                }
            );
        }
        StaffCommand::List => {
            let mut out = std::io::stdout().lock();
            writeln!(out, "email\tname\trole\tstate")?;
            for m in Members::new(store.clone()).list().await? {
                let m = m.record;
                let state = if m.disabled {
                    "disabled"
                } else if m.password_hash.is_none() {
                    "invited"
                } else if m.totp_secret.is_some() {
                    "active, second factor"
                } else {
                    "active"
                };
                writeln!(out, "{}\t{}\t{}\t{state}", m.email, m.name, m.role.name())?;
            }
        }
    }
    Ok(())
}

/// Delivers the outbox to the `outbox` folder beside a SQLite store, as `portal serve`
/// would; on DynamoDB the mailer function sends it. Whether anything was delivered.
async fn deliver_local(store: &std::sync::Arc<dyn Store>, spec: &str) -> bool {
    match spec.strip_prefix("sqlite:") {
        Some(path) => {
            let dir = std::path::Path::new(path)
                .parent()
                .unwrap_or(std::path::Path::new("."))
                .join("outbox");
            let mailer = portal_functions::mail::FolderMailer::new(&dir);
            portal_functions::mail::deliver_from(store, &mailer).await > 0
        }
        None => false,
    }
}

/// `portal admin keys …`.
async fn keys(store: &std::sync::Arc<dyn Store>, command: KeysCommand) -> anyhow::Result<()> {
    let keys = ApiKeys::new(store.clone());
    let when = |t: Option<i64>| {
        t.and_then(|t| chrono::DateTime::from_timestamp(t, 0))
            .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_else(|| "-".into())
    };
    match command {
        KeysCommand::Create { name, scopes } => {
            let scopes = scopes.into_iter().map(|s| s.trim().to_string()).collect();
            let (key, secret) = keys.create(&name, scopes).await?;
            println!("{secret}");
            eprintln!(
                "key {} made with {}; the secret above is shown this once: keep it in the client's secret store",
                key.name,
                key.scopes.join(",")
            );
        }
        KeysCommand::List => {
            println!("name\tscopes\tcreated\tlast used\trevoked");
            for k in keys.list().await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    k.name,
                    k.scopes.join(","),
                    when(Some(k.created)),
                    when(k.last_used),
                    when(k.revoked)
                );
            }
        }
        KeysCommand::Revoke { name } => {
            let k = keys.revoke(&name).await?;
            eprintln!(
                "key {} is revoked; it is refused from its next request on",
                k.name
            );
        }
    }
    Ok(())
}

/// Invites `email` into `customer_id` (the staff API's invite: a contact and a login without
/// a password, and the activation mail); with the embedded store the mail is delivered to the
/// outbox folder beside it at once.
async fn invite(
    store: &std::sync::Arc<dyn Store>,
    spec: &str,
    email: &str,
    customer_id: &str,
    name: Option<String>,
    content: &std::path::Path,
) -> anyhow::Result<()> {
    let site = portal_generator::config::SiteConfig::load(&content.join("site.toml"))
        .map_err(portal_generator::Error::from)?;
    let invited = portal_functions::staff::logins::invite(
        store,
        &site.title,
        &site.base_url,
        customer_id,
        email,
        name,
        Vec::new(),
    )
    .await
    .map_err(|e| match e {
        portal_functions::ApiError::NotFound(m) => {
            anyhow::anyhow!("{m}; see `portal admin customers`")
        }
        other => anyhow::anyhow!("{}", other.public_message()),
    })?;
    let (login, customer) = (invited.login, invited.customer);
    let delivered = deliver_local(store, spec).await;
    eprintln!(
        "invited {} to {} ({}); the activation link {}",
        login.email,
        customer.name,
        customer.id,
        if delivered {
            "is in the outbox folder"
        } else {
            "is queued for delivery"
        }
    );
    Ok(())
}
