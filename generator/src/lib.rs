//! The portal's static-site generator: reads `content/` (Markdown with TOML or YAML front
//! matter, plus `site.toml`) and a Tera theme, and writes the public site and its search
//! index.
//!
//! - [`config`]: `site.toml`, the business itself.
//! - [`content`]: reading articles, FAQ, events, documents and pages; [`frontmatter`] and
//!   [`dates`] read their headers, [`markdown`] their bodies.
//! - [`kb`] and [`calendar`]: the knowledge base's topics, tags and related articles; month
//!   grids and event times.
//! - [`pages`]: what each page shows; [`theme`] renders it; [`ics`] and [`feed`] write the
//!   iCalendar and Atom feeds.
//!   The search index ([`portal_core::search`]) is written beside the site, and the data the
//!   functions need ([`portal_core::site`]) beside that.
//! - [`builder`]: [`build`] itself; [`links`] checks internal links; [`output`] stages and
//!   swaps the result; [`incremental`] rebuilds only what an edit changed ([`Rebuilder`]).
//! - [`synthetic`]: a generated knowledge base of any size, for benchmarks.
//!
//! ```no_run
//! let report = portal_generator::build(&portal_generator::BuildOptions::new(
//!     "content", "themes/default", "dist",
//! ))?;
//! println!("{report}");
//! # Ok::<(), portal_generator::Error>(())
//! ```

pub mod builder;
pub mod calendar;
pub mod config;
pub mod content;
pub mod dates;
pub mod error;
pub mod feed;
pub mod frontmatter;
pub mod ics;
pub mod incremental;
pub mod kb;
pub mod links;
pub mod markdown;
pub mod output;
pub mod pages;
pub mod synthetic;
pub mod theme;

pub use builder::{build, BuildOptions, BuildReport};
pub use error::{Error, Problem};
pub use incremental::{PartReport, Rebuilder, Rebuilt};
pub use output::wait_for_cleanup;
