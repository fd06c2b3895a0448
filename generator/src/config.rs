//! `content/site.toml`: the business itself — name, contact details, opening hours, time
//! zone, help-desk binders and newsletter lists.

use std::path::Path;

use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::error::Problem;

/// The business and site settings read from `site.toml`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SiteConfig {
    /// The business's name, shown in the header and page titles.
    pub title: String,
    /// One line under the name on the home page.
    #[serde(default)]
    pub tagline: String,
    /// Where the portal is published, e.g. `https://support.example.com` (no trailing slash).
    pub base_url: String,
    /// The business's own public website.
    #[serde(default)]
    pub website: Option<String>,
    /// BCP 47 language tag of the content, e.g. `en-GB`.
    #[serde(default = "default_language")]
    pub language: String,
    /// IANA time zone that event times and dates are written in.
    #[serde(default = "default_timezone")]
    pub timezone: String,
    /// Prefix of human tracking numbers, e.g. `ACME` in `ACME-2026-000123`.
    #[serde(default = "default_prefix")]
    pub tracking_prefix: String,
    /// How to reach the business.
    pub contact: Contact,
    /// Issue queues that visitors may file into.
    #[serde(default)]
    pub binders: Vec<portal_core::site::BinderSettings>,
    /// Newsletter lists visitors may subscribe to.
    #[serde(default)]
    pub newsletters: Vec<Newsletter>,
    /// Limits on the public forms (`[limits]`); sensible defaults when left out.
    #[serde(default)]
    pub limits: portal_core::site::Limits,
}

/// Address, phones, e-mail addresses and opening hours.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    /// Postal address, one line per entry.
    pub address: Vec<String>,
    /// Phone numbers with what they are for.
    #[serde(default)]
    pub phones: Vec<Labelled>,
    /// E-mail addresses with what they are for.
    #[serde(default)]
    pub emails: Vec<Labelled>,
    /// Opening hours, one row per group of days.
    #[serde(default)]
    pub hours: Vec<Hours>,
    /// A note shown under the hours (holidays, emergencies).
    #[serde(default)]
    pub note: Option<String>,
}

/// A phone number or address with a label such as "Support".
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Labelled {
    /// What it is for.
    pub label: String,
    /// The number or address.
    pub value: String,
}

/// Opening hours for some days.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Hours {
    /// e.g. "Monday to Friday".
    pub days: String,
    /// e.g. "08:30–17:30" or "Closed".
    pub hours: String,
}

/// A newsletter list.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Newsletter {
    /// Identifier used in URLs and the API.
    pub id: String,
    /// Name shown to people.
    pub name: String,
    /// What subscribers get and how often.
    #[serde(default)]
    pub description: String,
}

fn default_language() -> String {
    "en".into()
}
fn default_timezone() -> String {
    "UTC".into()
}
fn default_prefix() -> String {
    "PORTAL".into()
}

impl SiteConfig {
    /// Reads and checks `site.toml`.
    pub fn load(path: &Path) -> Result<SiteConfig, Problem> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Problem::new(path, format!("cannot read the site settings: {e}")))?;
        let cfg: SiteConfig = toml::from_str(&text).map_err(|e| {
            let mut p = Problem::new(path, e.message().trim());
            if let Some(span) = e.span() {
                let line = 1 + text[..span.start].matches('\n').count();
                p = p.at_line(line);
                if let Some(key) = text.lines().nth(line - 1).and_then(|l| l.split('=').next()) {
                    let key = key.trim();
                    if !key.is_empty() && !key.contains(' ') && !key.starts_with('[') {
                        p = p.field(key);
                    }
                }
            }
            p
        })?;
        cfg.tz()
            .map_err(|m| Problem::new(path, m).field("timezone"))?;
        if !cfg.base_url.starts_with("http://") && !cfg.base_url.starts_with("https://") {
            return Err(Problem::new(
                path,
                format!("`{}` is not an absolute http(s) URL", cfg.base_url),
            )
            .field("base_url"));
        }
        Ok(SiteConfig {
            base_url: cfg.base_url.trim_end_matches('/').to_string(),
            ..cfg
        })
    }

    /// The site's time zone.
    pub fn tz(&self) -> Result<Tz, String> {
        crate::dates::parse_tz(&self.timezone)
    }
}
