//! Single-use links mailed to a login (activation, password reset, e-mail change): the
//! token and its mails are written in one transaction, and only the token's hash is kept.

use portal_core::records::outbox::Mail;

/// Issues a single-use token of `kind` for `subject`, valid `seconds` (for a login's link,
/// only while the login's `credentials` stay as given), and queues the mails `mails` makes
/// with it in the same transaction (only the token's hash is stored), then delivers.
pub async fn send_link(
    state: &crate::state::AppState,
    kind: portal_core::records::sessions::TokenKind,
    subject: String,
    seconds: i64,
    credentials: Option<u32>,
    mails: impl FnOnce(&str) -> Vec<Mail>,
) -> Result<(), crate::error::ApiError> {
    use portal_core::records::{random_token, to_item, token_hash};
    use portal_core::store::{now, Cond, Write};
    let token = random_token();
    let record = portal_core::records::sessions::OneTimeToken {
        token_hash: token_hash(&token),
        kind,
        subject,
        expires_at: now() + seconds,
        credentials,
    };
    let mut writes = vec![Write::Put(to_item(&record)?, Cond::NotExists)];
    for mail in mails(&token) {
        writes.push(Write::Put(to_item(&mail)?, Cond::NotExists));
    }
    state.store.transact(writes).await?;
    state.deliver_mail().await;
    Ok(())
}
