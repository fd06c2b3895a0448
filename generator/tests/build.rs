//! Black-box tests of the generator: every page type, the feeds, visibility, search and each
//! build error, through `portal_generator::build`.

mod common;

mod errors;
mod feeds;
mod pages;
mod rebuild;
mod search;
