//! What every handler shares: the store, the business's settings, and where mail goes.

use std::path::PathBuf;
use std::sync::Arc;

use portal_core::store::Store;

/// A help-desk binder as the functions see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinderSettings {
    /// Identifier used in forms and URLs.
    pub id: String,
    /// Name shown to people.
    pub name: String,
    /// Whether visitors without a login may file into it.
    pub public: bool,
    /// Categories offered on the form.
    pub categories: Vec<String>,
}

/// A newsletter list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewsletterSettings {
    /// Identifier used in URLs.
    pub id: String,
    /// Name shown to people.
    pub name: String,
}

/// The business's settings the functions need (from `site.toml`).
#[derive(Debug, Clone, PartialEq, Eq)]
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
    pub binders: Vec<BinderSettings>,
    /// Newsletter lists.
    pub newsletters: Vec<NewsletterSettings>,
}

/// Handler state.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The store.
    pub store: Arc<dyn Store>,
    /// The business's settings.
    pub settings: Arc<Settings>,
    /// Where delivered mail is written locally (`.portal/outbox`), if it is.
    pub mail_dir: Option<PathBuf>,
}
