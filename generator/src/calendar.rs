//! Calendar views: how an event's time reads, which months have pages, and each month's grid.

use chrono::{Datelike, Months, NaiveDate, Weekday};
use serde::Serialize;

use crate::content::{Event, Visibility};

/// Where the public calendar's pages are.
pub const PUBLIC: &str = "/calendar";

/// Where the customers' calendar is: every public event and the customers-only ones.
pub const CUSTOMERS: &str = "/my/calendar";

/// An event as templates see it.
#[derive(Debug, Clone, Serialize)]
pub struct EventView {
    /// Event id (file name).
    pub slug: String,
    /// Title.
    pub title: String,
    /// Page URL.
    pub url: String,
    /// `.ics` URL.
    pub ics_url: String,
    /// Human date and time, e.g. "Thursday 3 December 2026, 09:30–12:30 GMT".
    pub when: String,
    /// Start as RFC 3339 (for `<time datetime>`).
    pub start_iso: String,
    /// Day of the month the event starts.
    pub day: u32,
    /// Short month name it starts in.
    pub month_short: String,
    /// Whole days.
    pub all_day: bool,
    /// Where.
    pub location: Option<String>,
    /// Category.
    pub category: String,
    /// Summary.
    pub summary: String,
    /// Places, if registration is open to sign-ups.
    pub capacity: Option<u32>,
    /// Whether registration is still open at build time.
    pub registration_open: bool,
    /// When registration closes, in words.
    pub registration_closes: Option<String>,
    /// Whether only logged-in customers see it (its page is under `/my/calendar/`).
    pub customers_only: bool,
}

impl EventView {
    /// The view of `e`, with registration judged at `today`.
    pub fn new(e: &Event, now: chrono::DateTime<chrono::Utc>) -> EventView {
        EventView {
            slug: e.slug.clone(),
            title: e.title.clone(),
            url: e.page_url(),
            ics_url: e.page_ics_url(),
            when: when(e),
            start_iso: e.start.to_rfc3339(),
            day: e.start.day(),
            month_short: e.start.format("%b").to_string(),
            all_day: e.all_day,
            location: e.location.clone(),
            category: e.category.clone(),
            summary: e.summary.clone(),
            capacity: e.registration.as_ref().map(|r| r.capacity),
            registration_open: e.registration.as_ref().is_some_and(|r| r.closes > now),
            registration_closes: e
                .registration
                .as_ref()
                .map(|r| r.closes.format("%-d %B %Y, %H:%M %Z").to_string()),
            customers_only: e.visibility == Visibility::Customers,
        }
    }
}

/// "Thursday 3 December 2026, 09:30–12:30 GMT", "Tuesday 9 – Wednesday 10 March 2027" …
pub fn when(e: &Event) -> String {
    let first = e.start.date_naive();
    let last = e.last_day();
    if e.all_day {
        if first == last {
            format!("{} (all day)", long_date(first))
        } else if (first.year(), first.month()) == (last.year(), last.month()) {
            format!("{} – {}", first.format("%A %-d"), long_date(last))
        } else {
            format!("{} – {}", long_date(first), long_date(last))
        }
    } else if first == last {
        format!(
            "{}, {}–{} {}",
            long_date(first),
            e.start.format("%H:%M"),
            e.end.format("%H:%M"),
            e.end.format("%Z")
        )
    } else {
        format!(
            "{}, {} – {}, {} {}",
            long_date(first),
            e.start.format("%H:%M"),
            long_date(last),
            e.end.format("%H:%M"),
            e.end.format("%Z")
        )
    }
}

/// "Thursday 3 December 2026".
pub fn long_date(d: NaiveDate) -> String {
    d.format("%A %-d %B %Y").to_string()
}

/// "3 December 2026".
pub fn short_date(d: NaiveDate) -> String {
    d.format("%-d %B %Y").to_string()
}

/// The first day of every month from the first event's to the last event's, inclusive.
pub fn months(events: &[&Event]) -> Vec<NaiveDate> {
    let (Some(first), Some(last)) = (
        events.iter().map(|e| e.start.date_naive()).min(),
        events.iter().map(|e| e.last_day()).max(),
    ) else {
        return Vec::new();
    };
    let mut m = first.with_day(1).expect("day 1 exists");
    let end = last.with_day(1).expect("day 1 exists");
    let mut out = Vec::new();
    while m <= end {
        out.push(m);
        m = m + Months::new(1);
    }
    out
}

/// `/calendar/YYYY/MM`.
pub fn month_url(m: NaiveDate) -> String {
    month_url_in(PUBLIC, m)
}

/// The month page of `m` in the calendar at `root` ([`PUBLIC`] or [`CUSTOMERS`]).
pub fn month_url_in(root: &str, m: NaiveDate) -> String {
    format!("{root}/{}/{:02}", m.year(), m.month())
}

/// One day cell of a month grid.
#[derive(Debug, Clone, Serialize)]
pub struct Day {
    /// Day of the month.
    pub day: u32,
    /// ISO date.
    pub date: String,
    /// Whether it belongs to the month shown (grids start on Monday, end on Sunday).
    pub in_month: bool,
    /// Whether it is the build date.
    pub today: bool,
    /// Events on that day.
    pub events: Vec<DayEvent>,
}

/// An event as listed in a day cell.
#[derive(Debug, Clone, Serialize)]
pub struct DayEvent {
    /// Title.
    pub title: String,
    /// Page URL.
    pub url: String,
    /// Start time ("09:30"), empty for all-day events and continuing days.
    pub time: String,
    /// Whether only logged-in customers see it.
    pub customers_only: bool,
}

/// Weeks (Monday first) of the month starting `m`, with the events on each day.
pub fn grid(m: NaiveDate, events: &[&Event], today: NaiveDate) -> Vec<Vec<Day>> {
    let mut day = m.week(Weekday::Mon).first_day();
    let next = m + Months::new(1);
    let mut weeks = Vec::new();
    while day < next {
        let mut week = Vec::with_capacity(7);
        for _ in 0..7 {
            let events = events
                .iter()
                .filter(|e| e.start.date_naive() <= day && day <= e.last_day())
                .map(|e| DayEvent {
                    title: e.title.clone(),
                    url: e.page_url(),
                    customers_only: e.visibility == Visibility::Customers,
                    time: if e.all_day || e.start.date_naive() != day {
                        String::new()
                    } else {
                        e.start.format("%H:%M").to_string()
                    },
                })
                .collect();
            week.push(Day {
                day: day.day(),
                date: day.to_string(),
                in_month: day.month() == m.month(),
                today: day == today,
                events,
            });
            day = day.succ_opt().expect("dates continue");
        }
        weeks.push(week);
    }
    weeks
}
