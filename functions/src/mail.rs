//! Mail delivery from the outbox. Each mail was written in the same transaction as what caused
//! it; delivery takes the due mails (leased, so two senders never send one twice), hands each
//! to the [`Mailer`], and removes it once sent. A failed delivery stays queued and is retried
//! with a growing delay ([`portal_core::records::outbox::retry_delay`]); nothing is dropped.
//!
//! - [`FolderMailer`]: one `.eml` file per mail (RFC 5322, readable by people and tests), the
//!   local choice (`.portal/outbox/`).
//! - [`SesMailer`]: Amazon SES (v2 `SendEmail`), the choice in AWS.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
use portal_core::records::outbox::{Mail, Outbox};
use portal_core::records::Record;

/// Mails taken per delivery round.
const BATCH: usize = 50;

/// Sends one mail.
#[async_trait]
pub trait Mailer: Send + Sync + std::fmt::Debug {
    /// Sends `mail`; an error leaves it queued for a later attempt.
    async fn send(&self, mail: &Mail) -> Result<(), String>;
}

/// Mail as `.eml` files in a folder.
#[derive(Debug, Clone)]
pub struct FolderMailer {
    dir: PathBuf,
}

impl FolderMailer {
    /// Writes mail into `dir` (created when needed).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        FolderMailer { dir: dir.into() }
    }
}

#[async_trait]
impl Mailer for FolderMailer {
    async fn send(&self, mail: &Mail) -> Result<(), String> {
        write_eml(&self.dir, mail)
            .await
            .map_err(|e| format!("{}: {e}", self.dir.display()))
    }
}

/// Mail through Amazon SES.
#[derive(Debug, Clone)]
pub struct SesMailer {
    client: aws_sdk_sesv2::Client,
    from: String,
}

impl SesMailer {
    /// Sends from `from` with `client`.
    pub fn new(client: aws_sdk_sesv2::Client, from: impl Into<String>) -> Self {
        SesMailer {
            client,
            from: from.into(),
        }
    }

    /// Sends from `from` (an identity verified in SES) with the environment's AWS settings.
    pub async fn from_env(from: impl Into<String>) -> Self {
        let config = portal_core::aws::loader().load().await;
        SesMailer {
            client: aws_sdk_sesv2::Client::new(&config),
            from: from.into(),
        }
    }
}

#[async_trait]
impl Mailer for SesMailer {
    async fn send(&self, mail: &Mail) -> Result<(), String> {
        let text = |s: &str| {
            Content::builder()
                .data(s)
                .charset("UTF-8")
                .build()
                .map_err(|e| e.to_string())
        };
        let message = Message::builder()
            .subject(text(&mail.subject)?)
            .body(Body::builder().text(text(&mail.body)?).build())
            .build();
        self.client
            .send_email()
            .from_email_address(&self.from)
            .destination(Destination::builder().to_addresses(&mail.to).build())
            .content(EmailContent::builder().simple(message).build())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| format!("SES: {}", aws_sdk_sesv2::error::DisplayErrorContext(e)))
    }
}

/// Delivers the due mails of `store` with `mailer`.
pub async fn deliver_from(
    store: &std::sync::Arc<dyn portal_core::store::Store>,
    mailer: &dyn Mailer,
) -> usize {
    let outbox = Outbox::new(store.clone());
    let due = match outbox.take_due(BATCH).await {
        Ok(d) => d,
        Err(e) => {
            tracing::error!("outbox: {e}");
            return 0;
        }
    };
    let mut sent = 0;
    for mail in due {
        match mailer.send(&mail).await {
            Ok(()) => {
                sent += 1;
                if let Err(e) = outbox.delivered(&mail).await {
                    tracing::error!("outbox: {e}");
                }
            }
            Err(e) => {
                tracing::warn!("delivering {} failed (will retry): {e}", mail.key());
                if let Err(e) = outbox.failed(&mail).await {
                    tracing::error!("outbox: {e}");
                }
            }
        }
    }
    sent
}

async fn write_eml(dir: &Path, mail: &Mail) -> std::io::Result<()> {
    tokio::fs::create_dir_all(dir).await?;
    let text = format!(
        "Message-ID: <{id}@portal.local>\r\nDate: {created}\r\nTo: {to}\r\nSubject: {subject}\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{body}",
        id = mail.id,
        created = portal_core::records::mail_date(mail.created),
        to = mail.to.replace(['\r', '\n'], " "),
        subject = mail.subject.replace(['\r', '\n'], " "),
        body = mail.body.replace('\n', "\r\n"),
    );
    let path = dir.join(format!("{:012}-{}.eml", mail.created, mail.id));
    let tmp = path.with_extension("tmp");
    tokio::fs::write(&tmp, text).await?;
    tokio::fs::rename(&tmp, &path).await
}
