//! The iCalendar and Atom feeds, parsed back with independent parsers.

use std::str::FromStr;

use icalendar::parser::{read_calendar, unfold, Component};

use crate::common::TestSite;

fn prop<'a>(c: &'a Component<'a>, name: &str) -> String {
    c.find_prop(name)
        .map(|p| p.val.as_str().to_string())
        .unwrap_or_else(|| panic!("no {name}"))
}

fn assert_rfc5545_lines(ics: &str) {
    assert!(ics.ends_with("\r\n"));
    assert!(!ics.replace("\r\n", "").contains('\n'), "bare LF");
    for line in ics.split("\r\n") {
        assert!(line.len() <= 75, "line of {} octets: {line}", line.len());
    }
}

#[test]
fn calendar_ics_is_valid_and_complete() {
    let s = TestSite::demo();
    s.build().unwrap();
    let ics = s.read("calendar.ics");
    assert_rfc5545_lines(&ics);
    let unfolded = unfold(&ics);
    let cal = read_calendar(&unfolded).expect("parses");
    let version = cal.properties.iter().find(|p| p.name == "VERSION").unwrap();
    assert_eq!(version.val.as_str(), "2.0");
    assert!(cal.properties.iter().any(|p| p.name == "PRODID"));
    let events: Vec<&Component> = cal
        .components
        .iter()
        .filter(|c| c.name == "VEVENT")
        .collect();
    assert_eq!(
        events.len(),
        8,
        "every public event, none for customers only"
    );
    for e in &events {
        for name in ["UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY"] {
            assert!(e.find_prop(name).is_some(), "{name} missing");
        }
    }
    let uids: std::collections::HashSet<String> = events.iter().map(|e| prop(e, "UID")).collect();
    assert_eq!(uids.len(), events.len(), "UIDs are unique");

    let seminar = events
        .iter()
        .find(|e| prop(e, "SUMMARY") == "Stock control masterclass")
        .unwrap();
    assert_eq!(
        prop(seminar, "DTSTART"),
        "20270120T093000Z",
        "09:30 London in winter is 09:30 UTC"
    );
    assert_eq!(prop(seminar, "DTEND"), "20270120T130000Z");
    assert!(prop(seminar, "LOCATION").contains("Unit 4, Harbourside Works, 31 Cumberland Road"));
    assert!(
        ics.contains("LOCATION:Kestrel Systems\\, Unit 4\\, Harbourside Works"),
        "commas escaped in the file"
    );
    let user_group = events
        .iter()
        .find(|e| prop(e, "SUMMARY") == "Autumn user group")
        .unwrap();
    assert_eq!(
        prop(user_group, "DTSTART"),
        "20261014T170000Z",
        "18:00 London in summer time is 17:00 UTC"
    );

    let show = events
        .iter()
        .find(|e| prop(e, "SUMMARY").starts_with("Independent Retail Show"))
        .unwrap();
    let start = show.find_prop("DTSTART").unwrap();
    assert_eq!(start.val.as_str(), "20270309");
    assert!(start
        .params
        .iter()
        .any(|p| p.key == "VALUE" && p.val.as_ref().map(|v| v.as_str()) == Some("DATE")));
    assert_eq!(prop(show, "DTEND"), "20270311", "all-day end is exclusive");
}

#[test]
fn one_ics_per_event() {
    let s = TestSite::demo();
    s.build().unwrap();
    let ics = s.read("calendar/end-of-year-reports-webinar.ics");
    assert_rfc5545_lines(&ics);
    let unfolded = unfold(&ics);
    let cal = read_calendar(&unfolded).unwrap();
    let events: Vec<_> = cal
        .components
        .iter()
        .filter(|c| c.name == "VEVENT")
        .collect();
    assert_eq!(events.len(), 1);
    assert_eq!(
        prop(events[0], "DTSTART"),
        "20270210T140000Z",
        "YAML date-time in site zone"
    );
    assert_eq!(
        prop(events[0], "URL"),
        "https://help.kestrel-systems.co.uk/calendar/end-of-year-reports-webinar"
    );
}

#[test]
fn event_time_zone_can_differ_from_the_site() {
    let s = TestSite::new();
    s.file("calendar/ny.md", "+++\ntitle = \"New York launch; party, drinks\"\nstart = 2027-07-01T18:00\nend = 2027-07-01T20:00\ntimezone = \"America/New_York\"\n+++\nLong description that goes on for a while so that the folded lines are exercised properly in this test — with ünïcödé too.\n");
    s.build().unwrap();
    let ics = s.read("calendar/ny.ics");
    assert_rfc5545_lines(&ics);
    let unfolded = unfold(&ics);
    let cal = read_calendar(&unfolded).unwrap();
    let e = cal.components.iter().find(|c| c.name == "VEVENT").unwrap();
    assert_eq!(prop(e, "DTSTART"), "20270701T220000Z");
    assert_eq!(prop(e, "SUMMARY"), "New York launch; party, drinks");
    assert!(
        ics.contains("SUMMARY:New York launch\\; party\\, drinks\r\n"),
        "escaped in the file"
    );
}

#[test]
fn atom_feed_lists_recent_public_articles() {
    let s = TestSite::demo();
    s.build().unwrap();
    let feed = atom_syndication::Feed::from_str(&s.read("kb/atom.xml")).expect("valid Atom");
    assert_eq!(feed.id, "https://help.kestrel-systems.co.uk/kb/");
    assert!(feed
        .links
        .iter()
        .any(|l| l.rel == "self" && l.href.ends_with("/kb/atom.xml")));
    assert!(feed.entries.len() >= 25);
    let first = &feed.entries[0];
    assert_eq!(first.title.value, "Till is offline", "newest change first");
    assert_eq!(first.updated.to_rfc3339(), "2026-11-10T00:00:00+00:00");
    assert_eq!(
        first.links[0].href,
        "https://help.kestrel-systems.co.uk/kb/till-offline"
    );
    assert!(first
        .content
        .as_ref()
        .unwrap()
        .value
        .as_ref()
        .unwrap()
        .contains("<h2"));
    assert!(feed
        .entries
        .windows(2)
        .all(|w| w[0].updated >= w[1].updated));
    assert!(
        !feed
            .entries
            .iter()
            .any(|e| e.title.value.contains("April 2027")),
        "customers-only article left out"
    );
}

/// The DTSTAMP of the event whose UID starts with `slug`.
fn stamp_of(ics: &str, slug: &str) -> String {
    let unfolded = unfold(ics);
    let cal = read_calendar(&unfolded).expect("parses");
    let event = cal
        .components
        .iter()
        .find(|c| c.name == "VEVENT" && prop(c, "UID").starts_with(slug))
        .unwrap();
    prop(event, "DTSTAMP")
}

#[test]
fn calendar_stamps_come_from_git_history_not_file_times() {
    // The demo content is in git: an event is stamped with its file's last commit.
    let demo = TestSite::demo();
    demo.build().unwrap();
    let file = demo.content.join("calendar/christmas-closure.md");
    let committed = std::process::Command::new("git")
        .arg("-C")
        .arg(file.parent().unwrap())
        .args(["log", "-1", "--format=%ct", "--"])
        .arg(&file)
        .output()
        .unwrap();
    let committed: i64 = String::from_utf8_lossy(&committed.stdout)
        .trim()
        .parse()
        .unwrap();
    let expected = chrono::DateTime::from_timestamp(committed, 0)
        .unwrap()
        .format("%Y%m%dT%H%M%SZ")
        .to_string();
    assert_eq!(
        stamp_of(&demo.read("calendar.ics"), "christmas-closure"),
        expected
    );

    // Outside git, touching a file (as a fresh checkout does to all of them) changes nothing.
    let s = TestSite::new();
    let event = "+++\ntitle = \"Open day\"\nstart = 2027-03-01T10:00:00\nend = 2027-03-01T12:00:00\n+++\nCome in.\n";
    s.file("calendar/open-day.md", event);
    s.build().unwrap();
    let first = s.read("calendar.ics");
    let path = s.content.join("calendar/open-day.md");
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(
            std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000_000),
        )
        .unwrap();
    s.build().unwrap();
    assert_eq!(s.read("calendar.ics"), first, "byte-identical");
    assert_eq!(
        stamp_of(&first, "open-day"),
        "20270301T100000Z",
        "the event's start"
    );
}

#[test]
fn the_customers_calendar_is_written_to_the_private_folder_only() {
    let s = TestSite::demo();
    s.build().unwrap();
    let private = s.out().join("private/my");
    let read = |rel: &str| std::fs::read_to_string(private.join(rel)).unwrap();
    // Every event, customers-only ones at their private address.
    let ics = read("calendar.ics");
    assert_rfc5545_lines(&ics);
    let unfolded = unfold(&ics);
    let cal = read_calendar(&unfolded).expect("parses");
    let events: Vec<&Component> = cal
        .components
        .iter()
        .filter(|c| c.name == "VEVENT")
        .collect();
    assert_eq!(
        events.len(),
        9,
        "the eight public events and the customers' one"
    );
    let clinic = events
        .iter()
        .find(|e| prop(e, "SUMMARY").starts_with("Managers' reporting clinic"))
        .expect("the customers-only event");
    assert_eq!(
        prop(clinic, "URL"),
        "https://help.kestrel-systems.co.uk/my/calendar/managers-reports-customers"
    );
    // Its own file, its list and month pages, marked, with links inside the customers' calendar.
    assert!(read("calendar/managers-reports-customers.ics").contains("SUMMARY:Managers"));
    let list = read("calendar/index.html");
    assert!(list.contains(r#"href="/my/calendar/managers-reports-customers""#));
    assert!(list.contains(r#"href="/my/calendar/2027/02""#));
    let month = read("calendar/2027/02.html");
    assert!(month.contains(r#"<a href="/my/calendar/">Calendar</a>"#));
    assert!(month.contains("cal-event customers-only"));
    // None of it on the public site.
    for rel in [
        "calendar/index.html",
        "calendar/2027/02.html",
        "sitemap.xml",
    ] {
        assert!(!s.read(rel).contains("managers-reports-customers"), "{rel}");
        assert!(!s.read(rel).contains("/my/calendar/2027"), "{rel}");
    }
    assert!(!s.out().join("site/my").exists());
}
