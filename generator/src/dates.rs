//! Dates and times as editors write them in front matter, read in the site's time zone.
//!
//! Accepted forms: `2026-12-03`, `2026-12-03T09:30`, `2026-12-03 09:30`, the same with
//! seconds, and RFC 3339 with an offset (`2026-12-03T09:30:00+01:00`, `…Z`). TOML's native
//! date values and YAML's plain scalars both work.

use std::fmt;

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;

/// A date or date-time from front matter, before a time zone is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FmDate {
    /// A calendar date with no time.
    Date(NaiveDate),
    /// A wall-clock time, in the site's (or the event's) time zone.
    Local(NaiveDateTime),
    /// An exact instant, written with an offset.
    Exact(DateTime<Utc>),
}

/// The text a date must look like, for error messages.
pub const EXPECTED: &str = "expected YYYY-MM-DD, YYYY-MM-DDTHH:MM or an RFC 3339 date-time";

impl FmDate {
    /// Parses one of the accepted forms.
    ///
    /// ```
    /// use portal_generator::dates::FmDate;
    /// assert!(FmDate::parse("2026-12-03").is_ok());
    /// assert!(FmDate::parse("2026-12-03T09:30").is_ok());
    /// assert!(FmDate::parse("03/12/2026").is_err());
    /// ```
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            return Ok(FmDate::Date(d));
        }
        for fmt in [
            "%Y-%m-%dT%H:%M",
            "%Y-%m-%d %H:%M",
            "%Y-%m-%dT%H:%M:%S",
            "%Y-%m-%d %H:%M:%S",
        ] {
            if let Ok(dt) = NaiveDateTime::parse_from_str(s, fmt) {
                return Ok(FmDate::Local(dt));
            }
        }
        if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
            return Ok(FmDate::Exact(dt.with_timezone(&Utc)));
        }
        Err(format!("unknown date format `{s}`, {EXPECTED}"))
    }

    /// Whether only a date was given.
    pub fn is_date_only(&self) -> bool {
        matches!(self, FmDate::Date(_))
    }

    /// The calendar date, in `tz` for exact instants.
    pub fn date(&self, tz: Tz) -> NaiveDate {
        match self {
            FmDate::Date(d) => *d,
            FmDate::Local(dt) => dt.date(),
            FmDate::Exact(dt) => dt.with_timezone(&tz).date_naive(),
        }
    }

    /// The instant this stands for in `tz`; a date alone means its midnight.
    pub fn in_zone(&self, tz: Tz) -> DateTime<Tz> {
        match self {
            FmDate::Date(d) => local(tz, d.and_hms_opt(0, 0, 0).expect("midnight exists")),
            FmDate::Local(dt) => local(tz, *dt),
            FmDate::Exact(dt) => dt.with_timezone(&tz),
        }
    }
}

/// Resolves a wall-clock time in `tz`, taking the earlier instant in a repeated hour and
/// moving forward out of a skipped one.
fn local(tz: Tz, dt: NaiveDateTime) -> DateTime<Tz> {
    match tz.from_local_datetime(&dt) {
        chrono::LocalResult::Single(t) => t,
        chrono::LocalResult::Ambiguous(a, _) => a,
        chrono::LocalResult::None => local(tz, dt + chrono::Duration::hours(1)),
    }
}

impl<'de> Deserialize<'de> for FmDate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = FmDate;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(EXPECTED)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<FmDate, E> {
                FmDate::parse(v).map_err(E::custom)
            }
            // TOML hands its native date-time values over as a one-entry map.
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<FmDate, A::Error> {
                match map.next_entry::<String, String>()? {
                    Some((_, v)) => FmDate::parse(&v).map_err(de::Error::custom),
                    None => Err(de::Error::custom(EXPECTED)),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// Parses a time-zone name such as `Europe/London`.
pub fn parse_tz(name: &str) -> Result<Tz, String> {
    name.parse::<Tz>().map_err(|_| {
        format!("unknown time zone `{name}`, expected an IANA name such as Europe/London")
    })
}

/// Today's date in `tz`.
pub(crate) fn today(now: chrono::DateTime<chrono::Utc>, tz: chrono_tz::Tz) -> chrono::NaiveDate {
    now.with_timezone(&tz).date_naive()
}
