//! The calendar's pages: upcoming events, month grids and one page per event.

use chrono::{Datelike, Months, NaiveDate};
use serde_json::{json, Value};
use tera::Context;

use super::job;
use super::{Job, Site};
use crate::calendar::{self, EventView};
use crate::content::Event;

impl<'a> Site<'a> {
    pub(super) fn upcoming(&self) -> Vec<&'a Event> {
        self.events
            .iter()
            .copied()
            .filter(|e| e.last_day() >= self.today)
            .collect()
    }

    pub(super) fn calendar_index(&self) -> Job {
        let upcoming = self.upcoming();
        let mut groups: Vec<(NaiveDate, Vec<EventView>)> = Vec::new();
        for e in &upcoming {
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
        let groups: Vec<Value> = groups.into_iter().map(|(m, events)| json!({"name": m.format("%B %Y").to_string(), "url": calendar::month_url(m), "events": events})).collect();
        let past: Vec<EventView> = self
            .events
            .iter()
            .rev()
            .filter(|e| e.last_day() < self.today)
            .take(10)
            .map(|e| EventView::new(e, self.now))
            .collect();
        let months: Vec<Value> = calendar::months(&self.events)
            .into_iter()
            .map(|m| json!({"name": m.format("%B %Y").to_string(), "url": calendar::month_url(m)}))
            .collect();
        let mut c = self.base(
            "calendar",
            "Calendar",
            "/calendar/",
            "Seminars, webinars, training days and holiday closures.",
        );
        c.insert("groups", &groups);
        c.insert("past", &past);
        c.insert("months", &months);
        job("/calendar/", "calendar/index.html", c)
    }

    pub(super) fn month(
        &self,
        m: NaiveDate,
        prev: Option<NaiveDate>,
        next: Option<NaiveDate>,
    ) -> Job {
        let url = calendar::month_url(m);
        let name = m.format("%B %Y").to_string();
        let end = m + Months::new(1);
        let events: Vec<EventView> = self
            .events
            .iter()
            .filter(|e| e.start.date_naive() < end && e.last_day() >= m)
            .map(|e| EventView::new(e, self.now))
            .collect();
        let link = |d: Option<NaiveDate>| {
            d.map(|d| json!({"name": d.format("%B %Y").to_string(), "url": calendar::month_url(d)}))
        };
        let mut c = self.base("calendar", &name, &url, &format!("Events in {name}"));
        c.insert("month", &name);
        c.insert("weeks", &calendar::grid(m, &self.events, self.today));
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
        job(url, "calendar/month.html", c)
    }

    pub(super) fn event(&self, e: &Event) -> Context {
        let mut c = self.base("calendar", &e.title, &e.url(), &e.summary);
        c.insert("event", &EventView::new(e, self.now));
        c.insert("html", &e.body.html);
        c.insert(
            "month_url",
            &calendar::month_url(e.start.date_naive().with_day(1).expect("day 1")),
        );
        c
    }
}
