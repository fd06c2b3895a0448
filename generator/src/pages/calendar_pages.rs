//! The calendar's pages: upcoming events, month grids and one page per event.

use chrono::{Datelike, Months, NaiveDate};
use serde_json::{json, Value};
use tera::Context;

use super::job;
use super::{Job, Site};
use crate::calendar::{self, EventView};
use crate::content::{Event, Visibility};

/// Which calendar a page belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Calendar {
    /// The public site's, under `/calendar/`.
    Public,
    /// The customers', under `/my/calendar/`: every public event and the customers-only
    /// ones, marked, served only to logged-in customers.
    Customers,
}

impl Calendar {
    /// The folder its pages are in, without the trailing slash.
    pub(super) fn root(self) -> &'static str {
        match self {
            Calendar::Public => calendar::PUBLIC,
            Calendar::Customers => calendar::CUSTOMERS,
        }
    }

    /// The iCalendar feed of all its events (the customers' one is served only through a
    /// login's private address).
    pub(super) fn feed(self) -> String {
        format!("{}.ics", self.root())
    }
}

impl<'a> Site<'a> {
    /// The events `calendar` shows, earliest first.
    pub(super) fn events_of(&self, calendar: Calendar) -> Vec<&'a Event> {
        match calendar {
            Calendar::Public => self.events.clone(),
            // The content keeps events in (start, name) order whatever their visibility.
            Calendar::Customers => self.content.events.iter().collect(),
        }
    }

    pub(super) fn upcoming(&self) -> Vec<&'a Event> {
        self.events
            .iter()
            .copied()
            .filter(|e| e.last_day() >= self.today)
            .collect()
    }

    pub(super) fn calendar_index(&self, calendar: Calendar) -> Job {
        let events = self.events_of(calendar);
        let root = calendar.root();
        let month_url = |m| calendar::month_url_in(root, m);
        let mut groups: Vec<(NaiveDate, Vec<EventView>)> = Vec::new();
        for e in events.iter().filter(|e| e.last_day() >= self.today) {
            let m = e
                .start
                .date_naive()
                .with_day(1)
                .expect("day 1")
                .max(self.today.with_day(1).expect("day 1"));
            match groups.last_mut() {
                Some((gm, list)) if *gm == m => list.push(EventView::new(e, self.now)),
                _ => groups.push((m, vec![EventView::new(e, self.now)])),
            }
        }
        let groups: Vec<Value> = groups.into_iter().map(|(m, events)| json!({"name": m.format("%B %Y").to_string(), "url": month_url(m), "events": events})).collect();
        let past: Vec<EventView> = events
            .iter()
            .rev()
            .filter(|e| e.last_day() < self.today)
            .take(10)
            .map(|e| EventView::new(e, self.now))
            .collect();
        let months: Vec<Value> = calendar::months(&events)
            .into_iter()
            .map(|m| json!({"name": m.format("%B %Y").to_string(), "url": month_url(m)}))
            .collect();
        let url = format!("{root}/");
        let mut c = self.base(
            "calendar",
            "Calendar",
            &url,
            "Seminars, webinars, training days and holiday closures.",
        );
        c.insert("groups", &groups);
        c.insert("past", &past);
        c.insert("months", &months);
        self.calendar_links(&mut c, calendar);
        job(url, "calendar/index.html", c)
    }

    /// What every page of `calendar` links to: its home and whether it is the customers'.
    fn calendar_links(&self, c: &mut Context, calendar: Calendar) {
        c.insert("calendar_url", &format!("{}/", calendar.root()));
        c.insert("customers_calendar", &(calendar == Calendar::Customers));
    }

    /// The month pages of `calendar`, from its first event's month to its last's.
    pub(super) fn months(&self, calendar: Calendar) -> Vec<Job> {
        let events = self.events_of(calendar);
        let months = calendar::months(&events);
        months
            .iter()
            .enumerate()
            .map(|(i, m)| {
                self.month(
                    calendar,
                    &events,
                    *m,
                    i.checked_sub(1).map(|p| months[p]),
                    months.get(i + 1).copied(),
                )
            })
            .collect()
    }

    fn month(
        &self,
        calendar: Calendar,
        all: &[&Event],
        m: NaiveDate,
        prev: Option<NaiveDate>,
        next: Option<NaiveDate>,
    ) -> Job {
        let root = calendar.root();
        let url = calendar::month_url_in(root, m);
        let name = m.format("%B %Y").to_string();
        let end = m + Months::new(1);
        let events: Vec<EventView> = all
            .iter()
            .filter(|e| e.start.date_naive() < end && e.last_day() >= m)
            .map(|e| EventView::new(e, self.now))
            .collect();
        let link = |d: Option<NaiveDate>| {
            d.map(|d| json!({"name": d.format("%B %Y").to_string(), "url": calendar::month_url_in(root, d)}))
        };
        let mut c = self.base("calendar", &name, &url, &format!("Events in {name}"));
        c.insert("month", &name);
        c.insert("weeks", &calendar::grid(m, all, self.today));
        c.insert("events", &events);
        c.insert("prev", &link(prev));
        c.insert("next", &link(next));
        c.insert(
            "weekdays",
            &[
                "Monday",
                "Tuesday",
                "Wednesday",
                "Thursday",
                "Friday",
                "Saturday",
                "Sunday",
            ],
        );
        self.calendar_links(&mut c, calendar);
        job(url, "calendar/month.html", c)
    }

    pub(super) fn event(&self, e: &Event) -> Context {
        let calendar = match e.visibility {
            Visibility::Public => Calendar::Public,
            Visibility::Customers => Calendar::Customers,
        };
        let mut c = self.base("calendar", &e.title, &e.page_url(), &e.summary);
        c.insert("event", &EventView::new(e, self.now));
        c.insert("html", &e.body.html);
        c.insert(
            "month_url",
            &calendar::month_url_in(
                calendar.root(),
                e.start.date_naive().with_day(1).expect("day 1"),
            ),
        );
        self.calendar_links(&mut c, calendar);
        c
    }
}
