//! `portal admin`: create, export and import the data store; list customers, invite and
//! disable logins.

use std::io::{BufReader, Write};

use anyhow::Context;

use portal_core::records::customers::{Contact, Customers, Login};
use portal_core::records::outbox::Mail;
use portal_core::records::sessions::{OneTimeToken, Sessions, TokenKind};
use portal_core::records::{email_key, new_id, random_token, to_item, token_hash};
use portal_core::store::{self, now, Cond, Store};

use crate::cli::AdminCommand;

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

/// Creates (or reuses) the contact and login for `email` in `customer_id`, and queues the
/// activation mail in the same transaction as its token; with the embedded store the mail is
/// delivered to the outbox folder beside it at once.
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
    let email = email.trim();
    anyhow::ensure!(
        email.contains('@') && !email.contains(char::is_whitespace),
        "`{email}` is not an e-mail address"
    );
    let customers = Customers::new(store.clone());
    let customer = customers
        .get(customer_id)
        .await?
        .with_context(|| {
            format!("there is no customer `{customer_id}`; see `portal admin customers`")
        })?
        .record;
    let login = match customers.login(email).await? {
        Some(found) if found.record.customer_id != customer.id => {
            anyhow::bail!("{email} already has a login in another customer account")
        }
        Some(found) if found.record.password_hash.is_some() => anyhow::bail!(
            "{email} already has an active login; use the forgotten-password link instead"
        ),
        Some(found) => found.record,
        None => {
            let contact = match customers
                .contacts(&customer.id)
                .await?
                .into_iter()
                .find(|c| email_key(&c.email) == email_key(email))
            {
                Some(c) => c,
                None => {
                    let c = Contact {
                        customer_id: customer.id.clone(),
                        id: new_id(),
                        name: name.unwrap_or_else(|| {
                            email.split('@').next().unwrap_or(email).to_string()
                        }),
                        email: email.to_string(),
                        phone: None,
                        role: None,
                    };
                    customers.save_contact(&c).await?;
                    c
                }
            };
            let login = Login {
                email: email.to_string(),
                customer_id: customer.id.clone(),
                contact_id: contact.id,
                password_hash: None,
                disabled: false,
                failed_attempts: 0,
                credentials: Login::fresh_credentials(),
                created: now(),
            };
            customers.create_login(&login).await?;
            login
        }
    };
    let token = random_token();
    let record = OneTimeToken {
        token_hash: token_hash(&token),
        kind: TokenKind::Activation,
        subject: email_key(&login.email),
        expires_at: now() + portal_functions::auth::ACTIVATION_SECONDS,
        credentials: Some(login.credentials),
    };
    let mail = Mail::new(
        &login.email,
        format!("Your {} portal login", site.title),
        format!(
            "Hello,\n\n{} has created a login for you to the customer portal of {}, where you can see your invoices, quotes, cases and documents.\n\nChoose your password here (the link works once, within 72 hours):\n{}/activate/{token}\n",
            site.title, customer.name, site.base_url
        ),
    );
    store
        .transact(vec![
            store::Write::Put(to_item(&record)?, Cond::NotExists),
            store::Write::Put(to_item(&mail)?, Cond::NotExists),
        ])
        .await?;
    let delivered = match spec.strip_prefix("sqlite:") {
        Some(path) => {
            let dir = std::path::Path::new(path)
                .parent()
                .unwrap_or(std::path::Path::new("."))
                .join("outbox");
            let mailer = portal_functions::mail::FolderMailer::new(&dir);
            portal_functions::mail::deliver_from(store, &mailer).await > 0
        }
        None => false,
    };
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
