//! iCalendar (RFC 5545) feeds: `calendar.ics` for all public events, `my/calendar.ics` for
//! the customers (public and customers-only events) and one file per event.
//!
//! Lines end in CRLF and are folded at 75 octets without splitting a character; text values
//! are escaped; times are written in UTC (`…Z`), so every calendar program places them right
//! whatever time zone the event was written in, and all-day events are `VALUE=DATE` with an
//! exclusive end. Each event is stamped with its file's last commit in the content's git
//! history (its start when the file has none), never with the checkout's file times: a fresh
//! clone builds the same bytes as the editor's machine, and a deploy has nothing to send again.

use std::collections::HashMap;
use std::path::PathBuf;

use chrono::{DateTime, Utc};

use crate::config::SiteConfig;
use crate::content::Event;

/// When each of `events`' files was last committed, from one `git log` over them all; files
/// outside a git repository or never committed are left out.
pub fn last_commits(events: &[&Event]) -> HashMap<PathBuf, DateTime<Utc>> {
    let mut found = HashMap::new();
    let paths: Vec<PathBuf> = events
        .iter()
        .filter_map(|e| e.source.path.canonicalize().ok())
        .collect();
    let Some(dir) = paths.first().and_then(|p| p.parent()) else {
        return found;
    };
    let git = |args: &[&str], files: &[PathBuf]| {
        std::process::Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .args(files)
            .stderr(std::process::Stdio::null())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
    };
    let Some(top) = git(&["rev-parse", "--show-toplevel"], &[]) else {
        return found;
    };
    let top = PathBuf::from(top.trim());
    let Some(log) = git(&["log", "--format=%x01%ct", "--name-only", "--"], &paths) else {
        return found;
    };
    let mut when = None;
    for line in log.lines() {
        if let Some(t) = line.strip_prefix('\u{1}') {
            when = t
                .parse::<i64>()
                .ok()
                .and_then(|t| DateTime::from_timestamp(t, 0));
        } else if let (Some(t), false) = (when, line.is_empty()) {
            // Newest first: the first time a file appears is its last commit.
            found.entry(top.join(line)).or_insert(t);
        }
    }
    found
}

/// Writes a VCALENDAR holding `events`, each stamped with its file's last commit in
/// `commits` (see [`last_commits`]), or with its start when it has none.
pub fn calendar(
    site: &SiteConfig,
    name: &str,
    events: &[&Event],
    commits: &HashMap<PathBuf, DateTime<Utc>>,
) -> String {
    let mut out = String::new();
    line(&mut out, "BEGIN:VCALENDAR");
    line(&mut out, "VERSION:2.0");
    line(
        &mut out,
        &format!("PRODID:-//Customer Portal//{}//EN", escape(&site.title)),
    );
    line(&mut out, "CALSCALE:GREGORIAN");
    line(&mut out, "METHOD:PUBLISH");
    line(&mut out, &format!("X-WR-CALNAME:{}", escape(name)));
    for e in events {
        let stamp = e
            .source
            .path
            .canonicalize()
            .ok()
            .and_then(|p| commits.get(&p).copied())
            .unwrap_or_else(|| e.start.with_timezone(&Utc));
        event(&mut out, site, e, stamp);
    }
    line(&mut out, "END:VCALENDAR");
    out
}

fn event(out: &mut String, site: &SiteConfig, e: &Event, stamp: DateTime<Utc>) {
    let host = site
        .base_url
        .split("://")
        .nth(1)
        .unwrap_or(&site.base_url)
        .split('/')
        .next()
        .unwrap_or("portal");
    let url = format!("{}{}", site.base_url, e.page_url());
    line(out, "BEGIN:VEVENT");
    line(out, &format!("UID:{}@{}", e.slug, host));
    line(out, &format!("DTSTAMP:{}", utc(stamp)));
    if e.all_day {
        line(
            out,
            &format!("DTSTART;VALUE=DATE:{}", e.start.format("%Y%m%d")),
        );
        line(out, &format!("DTEND;VALUE=DATE:{}", e.end.format("%Y%m%d")));
    } else {
        line(
            out,
            &format!("DTSTART:{}", utc(e.start.with_timezone(&Utc))),
        );
        line(out, &format!("DTEND:{}", utc(e.end.with_timezone(&Utc))));
    }
    line(out, &format!("SUMMARY:{}", escape(&e.title)));
    let mut description = e.summary.clone();
    if e.registration.is_some() {
        description.push_str("\nRegistration: ");
        description.push_str(&url);
    }
    line(out, &format!("DESCRIPTION:{}", escape(&description)));
    if let Some(loc) = &e.location {
        line(out, &format!("LOCATION:{}", escape(loc)));
    }
    line(out, &format!("CATEGORIES:{}", escape(&e.category)));
    line(out, &format!("URL:{url}"));
    line(out, "STATUS:CONFIRMED");
    line(out, "TRANSP:OPAQUE");
    line(out, "END:VEVENT");
}

fn utc(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

/// Escapes a TEXT value: backslash, semicolon, comma and newlines.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Appends one content line, folded at 75 octets, ending in CRLF.
fn line(out: &mut String, content: &str) {
    let mut width = 0;
    for c in content.chars() {
        let len = c.len_utf8();
        if width + len > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += len;
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_at_75_octets_without_splitting_characters() {
        let mut out = String::new();
        let long = format!("SUMMARY:{}", "é".repeat(60));
        line(&mut out, &long);
        for l in out.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(l.len() <= 75, "{} octets: {l}", l.len());
        }
        assert_eq!(out.replace("\r\n ", "").trim_end(), long);
    }

    #[test]
    fn escapes_text() {
        assert_eq!(escape("a,b;c\\d\ne"), "a\\,b\\;c\\\\d\\ne");
    }
}
