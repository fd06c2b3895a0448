//! What the functions know about the published site: the business's settings, its events
//! and the fixed context of pages rendered on request. The generator writes it as
//! `dist/functions/site.json` at every build; `portal serve` and the Lambda binaries read it,
//! so the functions never read `content/` themselves.

use serde::{Deserialize, Serialize};

/// The file name, inside the build's `functions/` folder.
pub const FILE: &str = "site.json";

/// Everything the build hands to the functions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteData {
    /// The business's settings.
    pub settings: Settings,
    /// Calendar events, public and customers-only.
    #[serde(default)]
    pub events: Vec<EventInfo>,
    /// The context every themed page starts from (site, footer links, topics, year).
    #[serde(default)]
    pub page: serde_json::Value,
    /// Documents from `content/documents/` for customers only: the build puts their files in
    /// the private folder (`my/documents/`), and the customer area lists and serves them.
    #[serde(default)]
    pub documents: Vec<DocumentInfo>,
}

/// A customers-only document of the content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentInfo {
    /// File name, also the last part of its address, `/my/documents/{file_name}`.
    pub file_name: String,
    /// Title.
    pub title: String,
    /// What it is.
    #[serde(default)]
    pub description: String,
    /// Media type, by the file name's ending.
    pub media_type: String,
    /// Size in bytes.
    pub size: u64,
    /// Publication date, `YYYY-MM-DD`, if the sidecar gives one.
    #[serde(default)]
    pub date: Option<String>,
}

/// Where a customers-only document is served: `/my/documents/{file_name}`.
pub fn customer_document_url(file_name: &str) -> String {
    format!("/my/documents/{file_name}")
}

/// A binder: an issue queue (the public help desk, or a secured one for customers' cases),
/// as `site.toml` declares it and the functions read it from `site.json`. The one binder
/// type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BinderSettings {
    /// Identifier used in forms, URLs and the API, e.g. `support`.
    pub id: String,
    /// Name shown to people.
    pub name: String,
    /// Whether visitors without a login may file into it.
    #[serde(default)]
    pub public: bool,
    /// Categories offered on the form.
    #[serde(default)]
    pub categories: Vec<String>,
    /// The statuses staff may give its issues, in their usual order (empty:
    /// [`DEFAULT_STATUSES`]).
    #[serde(default)]
    pub statuses: Vec<String>,
    /// Who at the business is mailed when an issue is filed in it or its submitter adds a
    /// note (empty: the business's address).
    #[serde(default)]
    pub notify: Vec<String>,
}

/// The statuses of a binder that names none.
pub const DEFAULT_STATUSES: &[&str] = &[
    "new",
    "open",
    "in progress",
    "waiting on customer",
    "resolved",
    "closed",
];

impl BinderSettings {
    /// The statuses staff may give its issues.
    pub fn statuses(&self) -> Vec<String> {
        if self.statuses.is_empty() {
            DEFAULT_STATUSES.iter().map(|s| s.to_string()).collect()
        } else {
            self.statuses.clone()
        }
    }
}

/// A newsletter list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewsletterSettings {
    /// Identifier used in URLs.
    pub id: String,
    /// Name shown to people.
    pub name: String,
}

/// The business's settings the functions need (from `site.toml`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// Business name, for e-mails.
    pub business: String,
    /// Where the site is published, without a trailing slash; links in e-mails start here.
    pub base_url: String,
    /// Where mail for the business goes (requests, appointments).
    pub business_email: String,
    /// Prefix of tracking numbers.
    pub tracking_prefix: String,
    /// Issue queues.
    #[serde(default)]
    pub binders: Vec<BinderSettings>,
    /// Newsletter lists.
    #[serde(default)]
    pub newsletters: Vec<NewsletterSettings>,
    /// Limits on the public forms.
    #[serde(default)]
    pub limits: Limits,
}

/// Limits on the public forms, counted in the store so they hold across instances
/// (`[limits]` in `site.toml`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Form submissions one IP address may make per hour.
    pub posts_per_ip: u32,
    /// Submissions naming one e-mail address per hour (issues, registrations, sign-ups …).
    pub posts_per_email: u32,
    /// Articles one IP address may share by e-mail per hour.
    pub shares_per_ip: u32,
    /// Login attempts one IP address may make per hour.
    pub logins_per_ip: u32,
    /// Failed logins of one address per hour after which guesses no longer reach the account,
    /// except from browsers that have logged in to it before.
    pub login_failures_per_account: u32,
    /// Seconds a person needs at least to fill in a form; faster submissions carrying a form
    /// token are refused as robots.
    pub min_fill_seconds: u32,
    /// Requests one key of the staff API may make a minute (a bulk sync may need more; on
    /// DynamoDB one key's counter takes about 1,000 writes a second at most).
    pub api_requests_per_minute: u32,
    /// Whether every member of staff needs a second factor (an authenticator app) to log in
    /// to the desk; admins always do.
    pub all_staff_need_second_factor: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            posts_per_ip: 60,
            posts_per_email: 10,
            shares_per_ip: 10,
            logins_per_ip: 100,
            login_failures_per_account: 100,
            min_fill_seconds: 3,
            api_requests_per_minute: 6000,
            all_staff_need_second_factor: false,
        }
    }
}

/// A calendar event as the registration function sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventInfo {
    /// The event's identifier (its page is `/calendar/{slug}`).
    pub slug: String,
    /// Title.
    pub title: String,
    /// When it takes place, as people read it (e.g. "Tue 8 Dec 2026, 10:00–11:00 GMT").
    pub when: String,
    /// Where, if anywhere.
    #[serde(default)]
    pub location: Option<String>,
    /// Start, Unix seconds.
    pub starts: i64,
    /// Places, when people can register.
    #[serde(default)]
    pub capacity: Option<u32>,
    /// When registration closes, Unix seconds.
    #[serde(default)]
    pub closes: Option<i64>,
    /// Whether only logged-in customers see it.
    #[serde(default)]
    pub customers_only: bool,
}

impl SiteData {
    /// Reads `site.json` text; the error says what is wrong and where.
    pub fn from_json(text: &str) -> Result<SiteData, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// The event with identifier `slug`.
    pub fn event(&self, slug: &str) -> Option<&EventInfo> {
        self.events.iter().find(|e| e.slug == slug)
    }
}
