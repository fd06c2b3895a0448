//! `portal admin webhooks`: add, list, remove, disable and enable webhook endpoints, list
//! their attempts, and send one a test message.

use std::sync::Arc;

use anyhow::Context;
use portal_core::records::webhooks::{Endpoint, Webhooks};
use portal_core::records::RecordError;
use portal_core::store::Store;

use crate::cli::WebhooksCommand;

/// Runs one `portal admin webhooks` command against `store`.
pub async fn run(store: &Arc<dyn Store>, command: WebhooksCommand) -> anyhow::Result<()> {
    let hooks = Webhooks::new(store.clone());
    let plain = |e: RecordError| match e {
        RecordError::Conflict(m) => anyhow::anyhow!("{m}"),
        RecordError::NotFound(m) => {
            anyhow::anyhow!("{m} not found; see `portal admin webhooks list`")
        }
        other => anyhow::Error::from(other),
    };
    match command {
        WebhooksCommand::Add {
            url,
            events,
            notify,
            content,
            allow_loopback,
        } => {
            let notify = match notify {
                Some(n) => Some(n),
                None => business_email(&content)?,
            };
            let events = events.into_iter().map(|e| e.trim().to_string()).collect();
            let e = hooks
                .add(&url, events, notify, allow_loopback)
                .await
                .map_err(|e| match e {
                    RecordError::Conflict(m) => anyhow::anyhow!("{m}"),
                    other => anyhow::Error::from(other),
                })?;
            println!("{}\t{}", e.id, e.secret);
            eprintln!(
                "endpoint {} hears of {} from now on; the secret above signs every delivery and is shown this once{}",
                e.id,
                e.events.join(","),
                match &e.notify {
                    Some(n) => format!("; {n} is mailed if it fails for three days"),
                    None => String::new(),
                }
            );
        }
        WebhooksCommand::List => {
            println!("id\turl\tevents\tcreated\tstate");
            for e in hooks.list().await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    e.id,
                    e.url,
                    e.events.join(","),
                    when(e.created),
                    state(&e)
                );
            }
        }
        WebhooksCommand::Remove { id } => {
            let e = hooks.remove(&id).await.map_err(plain)?;
            eprintln!("endpoint {} ({}) is removed", e.id, e.url);
        }
        WebhooksCommand::Disable { id } => {
            let e = hooks
                .set_disabled(&id, Some("disabled by an administrator".into()))
                .await
                .map_err(plain)?;
            eprintln!("endpoint {} is disabled; nothing is sent to it", e.id);
        }
        WebhooksCommand::Enable { id } => {
            let e = hooks.set_disabled(&id, None).await.map_err(plain)?;
            eprintln!(
                "endpoint {} is enabled; it hears of events from now on",
                e.id
            );
        }
        WebhooksCommand::Attempts { id, limit } => {
            hooks
                .get(&id)
                .await?
                .ok_or_else(|| plain(RecordError::NotFound(format!("endpoint {id}"))))?;
            println!("time\tmessage\ttype\tattempt\tstatus\tms\toutcome\terror");
            for a in hooks.attempts(&id, limit.clamp(1, 1000)).await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    when(a.at / 1_000_000),
                    a.message,
                    a.kind,
                    a.number,
                    a.status.map_or("-".into(), |s| s.to_string()),
                    a.millis,
                    a.outcome,
                    a.error.unwrap_or_default()
                );
            }
        }
        WebhooksCommand::Test { id } => {
            let found = hooks
                .get(&id)
                .await?
                .ok_or_else(|| plain(RecordError::NotFound(format!("endpoint {id}"))))?;
            let delivery = hooks.queue_test(&found.record).await?;
            let delivery = hooks
                .take_one(&delivery)
                .await?
                .context("the test message was taken by a running portal; see `attempts`")?;
            let sender = portal_functions::webhooks::Sender::new();
            let outcome = sender
                .send(&found.record, &delivery.message, &delivery.body)
                .await;
            let attempt = hooks.attempted(&delivery, &found, &outcome).await?;
            match (&outcome.error, outcome.ok()) {
                (_, true) => println!(
                    "delivered: the endpoint answered {} in {} ms",
                    attempt.status.unwrap_or_default(),
                    attempt.millis
                ),
                (error, false) => anyhow::bail!(
                    "not delivered: {}; it is tried again in 5 s by a running portal",
                    error.as_deref().unwrap_or("no answer")
                ),
            }
        }
    }
    Ok(())
}

/// The business's address from `content/site.toml`, if there is one.
fn business_email(content: &std::path::Path) -> anyhow::Result<Option<String>> {
    let file = content.join("site.toml");
    if !file.exists() {
        return Ok(None);
    }
    let site =
        portal_generator::config::SiteConfig::load(&file).map_err(portal_generator::Error::from)?;
    Ok(site.contact.emails.first().map(|e| e.value.clone()))
}

fn when(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|| "-".into())
}

fn state(e: &Endpoint) -> String {
    match (&e.disabled, &e.disabled_reason) {
        (Some(t), reason) => format!(
            "disabled {} ({})",
            when(*t),
            reason.as_deref().unwrap_or("no reason given")
        ),
        (None, _) => "enabled".into(),
    }
}
