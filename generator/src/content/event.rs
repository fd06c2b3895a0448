//! Calendar events: start and end (or whole days) in the site's or the event's time zone,
//! location, category and optional registration.

use std::path::Path;

use chrono::{DateTime, NaiveDate};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::{first_sentence, Item, Source, Visibility};
use crate::dates::FmDate;
use crate::error::Problem;
use crate::frontmatter;
use crate::markdown::{self, Rendered};

#[derive(Deserialize)]
struct EventMeta {
    title: String,
    start: FmDate,
    #[serde(default)]
    end: Option<FmDate>,
    #[serde(default)]
    all_day: Option<bool>,
    #[serde(default)]
    location: Option<String>,
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    summary: Option<String>,
    #[serde(default)]
    timezone: Option<String>,
    #[serde(default)]
    registration: Option<RegistrationMeta>,
    #[serde(default)]
    visibility: Visibility,
    #[serde(default)]
    draft: bool,
}

#[derive(Deserialize)]
struct RegistrationMeta {
    capacity: u32,
    #[serde(default)]
    closes: Option<FmDate>,
}

/// Registration settings of an event.
#[derive(Debug, Clone, Serialize)]
pub struct Registration {
    /// Places available; later registrations join a waiting list.
    pub capacity: u32,
    /// When registration closes (defaults to the start).
    pub closes: DateTime<Tz>,
}

/// A calendar event.
#[derive(Debug, Clone)]
pub struct Event {
    /// From the file name; also the event id the registration API uses.
    pub slug: String,
    /// Title.
    pub title: String,
    /// Start, in the event's time zone (midnight for all-day events).
    pub start: DateTime<Tz>,
    /// End; for all-day events, midnight after the last day.
    pub end: DateTime<Tz>,
    /// Whether the event takes whole days.
    pub all_day: bool,
    /// Where it takes place.
    pub location: Option<String>,
    /// e.g. "Seminar", "Webinar", "Closure".
    pub category: String,
    /// Short description.
    pub summary: String,
    /// Registration, when people can sign up.
    pub registration: Option<Registration>,
    /// Who may see it.
    pub visibility: Visibility,
    /// Rendered body.
    pub body: Rendered,
    /// The file it came from.
    pub source: Source,
}

impl Event {
    /// `/calendar/{slug}`.
    pub fn url(&self) -> String {
        format!("/calendar/{}", self.slug)
    }
    /// `/calendar/{slug}.ics`.
    pub fn ics_url(&self) -> String {
        format!("/calendar/{}.ics", self.slug)
    }
    /// Where its page is served: [`Event::url`] for a public event, `/my/calendar/{slug}`
    /// (for logged-in customers only) for a customers-only one.
    pub fn page_url(&self) -> String {
        match self.visibility {
            Visibility::Public => self.url(),
            Visibility::Customers => format!("/my/calendar/{}", self.slug),
        }
    }
    /// Its own iCalendar file, beside [`Event::page_url`].
    pub fn page_ics_url(&self) -> String {
        format!("{}.ics", self.page_url())
    }
    /// The last day the event covers (inclusive).
    pub fn last_day(&self) -> NaiveDate {
        if self.all_day {
            self.end
                .date_naive()
                .pred_opt()
                .unwrap_or(self.end.date_naive())
        } else {
            self.end.date_naive()
        }
    }
}

pub(super) fn load_event(
    path: &Path,
    text: &str,
    slug: String,
    site_tz: Tz,
    read: &mut super::Reading,
) -> Result<Item, Problem> {
    let d = frontmatter::parse::<EventMeta>(path, text)?;
    read.keys(path, &d)?;
    let m = d.meta;
    if m.draft {
        return Ok(Item::Skip);
    }
    let tz = match &m.timezone {
        Some(name) => {
            crate::dates::parse_tz(name).map_err(|e| Problem::new(path, e).field("timezone"))?
        }
        None => site_tz,
    };
    let all_day = m.all_day.unwrap_or(m.start.is_date_only());
    let (start, end) = if all_day {
        let first = m.start.date(tz);
        let last = m.end.map_or(first, |e| e.date(tz));
        let after = last.succ_opt().unwrap_or(last);
        (
            FmDate::Date(first).in_zone(tz),
            FmDate::Date(after).in_zone(tz),
        )
    } else {
        let start = m.start.in_zone(tz);
        let end = match m.end {
            Some(e) if e.is_date_only() => {
                return Err(
                    Problem::new(path, "a timed event needs an end time, not only a date")
                        .field("end"),
                )
            }
            Some(e) => e.in_zone(tz),
            None => start + chrono::Duration::hours(1),
        };
        (start, end)
    };
    if end <= start {
        return Err(Problem::new(path, "the event ends before it starts").field("end"));
    }
    let body = markdown::render(&d.body);
    Ok(Item::Event(Event {
        slug,
        summary: m.summary.unwrap_or_else(|| first_sentence(&body.text)),
        title: m.title,
        start,
        end,
        all_day,
        location: m.location,
        category: m.category.unwrap_or_else(|| "Event".into()),
        registration: m.registration.map(|r| Registration {
            capacity: r.capacity,
            closes: r.closes.map_or(start, |c| c.in_zone(tz)),
        }),
        visibility: m.visibility,
        body,
        source: Source::of(path, text, d.body_line),
    }))
}
