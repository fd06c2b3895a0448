//! Mail delivery from the outbox. Locally each mail becomes an `.eml` file (RFC 5322, readable
//! by people and tests) in the mail folder; a failed delivery stays queued and is retried.

use std::path::Path;

use portal_core::records::outbox::{Mail, Outbox};
use portal_core::records::Record;

use crate::state::AppState;

/// Delivers every waiting mail; failures are logged and left queued.
pub async fn deliver(state: &AppState) {
    let Some(dir) = &state.mail_dir else { return };
    let outbox = Outbox::new(state.store.clone());
    let pending = match outbox.pending(100).await {
        Ok(p) => p,
        Err(e) => {
            tracing::error!("outbox: {e}");
            return;
        }
    };
    for mail in pending {
        match write_eml(dir, &mail).await {
            Ok(()) => {
                if let Err(e) = outbox.delivered(&mail).await {
                    tracing::error!("outbox: {e}");
                }
            }
            Err(e) => {
                tracing::error!("delivering {} failed: {e}", mail.key());
                let _ = outbox.failed(&mail).await;
            }
        }
    }
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
