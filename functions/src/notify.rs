//! Mail to the business: who at the business hears of what visitors and customers do. Each
//! binder may name its own addresses (`notify` in its `[[binders]]` entry of `site.toml`);
//! otherwise the business's address hears of everything. The mails are writes, for the
//! transaction of what they tell of.

use portal_core::records::issues::{Issue, Note};
use portal_core::records::outbox::Mail;
use portal_core::records::to_item;
use portal_core::site::Settings;
use portal_core::store::{Cond, StoreResult, Write};

/// Who hears of what happens in the binder `binder`.
pub fn recipients(settings: &Settings, binder: &str) -> Vec<String> {
    match settings.binders.iter().find(|b| b.id == binder) {
        Some(b) if !b.notify.is_empty() => b.notify.clone(),
        _ => vec![settings.business_email.clone()],
    }
}

fn mails(settings: &Settings, binder: &str, subject: &str, body: &str) -> StoreResult<Vec<Write>> {
    recipients(settings, binder)
        .into_iter()
        .map(|to| {
            Ok(Write::Put(
                to_item(&Mail::new(to, subject, body))?,
                Cond::NotExists,
            ))
        })
        .collect()
}

fn binder_name(settings: &Settings, binder: &str) -> String {
    settings
        .binders
        .iter()
        .find(|b| b.id == binder)
        .map(|b| b.name.clone())
        .unwrap_or_else(|| binder.to_string())
}

/// The mails that tell the business of a newly filed `issue`.
pub fn filed(settings: &Settings, issue: &Issue) -> StoreResult<Vec<Write>> {
    let who = match &issue.customer_id {
        Some(c) => format!("{} <{}>, customer {c}", issue.name, issue.email),
        None => format!("{} <{}>", issue.name, issue.email),
    };
    let body = format!(
        "A new issue was filed in {binder}.\n\nNumber: {number}\nFrom: {who}\nCategory: {category}\nSubject: {subject}\n\n{description}\n\nIn the staff API: {base}/api/staff/issues/{number}\n",
        binder = binder_name(settings, &issue.binder),
        number = issue.number,
        category = issue.category.as_deref().unwrap_or("-"),
        subject = issue.subject,
        description = issue.description,
        base = settings.base_url,
    );
    mails(
        settings,
        &issue.binder,
        &format!("[{}] New: {}", issue.number, issue.subject),
        &body,
    )
}

/// The mail that tells the business what a customer did with the quote `number`
/// (`what`: "accepted", "declined", "commented on").
pub fn quote(
    settings: &Settings,
    customer_id: &str,
    number: &str,
    by: &str,
    what: &str,
    text: Option<&str>,
) -> StoreResult<Write> {
    let body = format!(
        "{by} (customer {customer_id}) {what} quote {number}.{}\n",
        text.map(|t| format!("\n\n{t}")).unwrap_or_default()
    );
    let mail = Mail::new(
        &settings.business_email,
        format!("Quote {number} {what} by {by}"),
        body,
    );
    Ok(Write::Put(to_item(&mail)?, Cond::NotExists))
}

/// The mails that tell the business of a note the submitter (a visitor or the customer)
/// added to `issue`.
pub fn noted(settings: &Settings, issue: &Issue, note: &Note) -> StoreResult<Vec<Write>> {
    let body = format!(
        "{} added a note to issue {} ({}):\n\n{}\n\nIn the staff API: {}/api/staff/issues/{}\n",
        note.author, issue.number, issue.subject, note.body, settings.base_url, issue.number
    );
    mails(
        settings,
        &issue.binder,
        &format!(
            "[{}] Note from {}: {}",
            issue.number, note.author, issue.subject
        ),
        &body,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use portal_core::site::BinderSettings;

    #[test]
    fn a_binder_names_who_hears_of_it_or_the_business_does() {
        let binder = |id: &str, notify: &[&str]| BinderSettings {
            id: id.into(),
            name: id.into(),
            public: false,
            categories: Vec::new(),
            statuses: Vec::new(),
            notify: notify.iter().map(|s| s.to_string()).collect(),
        };
        let settings = Settings {
            business: "Kestrel".into(),
            base_url: "https://example.com".into(),
            business_email: "desk@example.com".into(),
            tracking_prefix: "KST".into(),
            binders: vec![
                binder("cases", &["service@example.com", "lead@example.com"]),
                binder("support", &[]),
            ],
            newsletters: Vec::new(),
            limits: Default::default(),
        };
        assert_eq!(
            recipients(&settings, "cases"),
            ["service@example.com", "lead@example.com"]
        );
        assert_eq!(recipients(&settings, "support"), ["desk@example.com"]);
        assert_eq!(recipients(&settings, "gone"), ["desk@example.com"]);
    }
}
