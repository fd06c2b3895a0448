//! The portal's data layer.
//!
//! - [`store`]: the single-table store — the [`store::Store`] trait with DynamoDB's semantics
//!   and its two backends, embedded SQLite and DynamoDB.
//! - [`blobs`]: files kept beside the table (attachments), in a folder locally.
//! - [`files`]: the kinds of file the portal accepts.
//! - [`records`]: the portal's records, their key layouts, and repositories over the store.
//! - [`search`]: the full-text index of the public site, its schema and English analysis.
//! - [`site`]: what the build hands the functions (settings, events, page context).
//! - [`text`]: HTML escaping and error chains shared by the generator and the functions.
//! - [`transfer`]: moving a whole store to JSON Lines and back, between backends.

pub mod aws;
pub mod blobs;
pub mod files;
pub mod records;
pub mod search;
pub mod site;
pub mod store;
pub mod text;
pub mod transfer;

pub use store::{Cond, Item, Key, Query, Store, StoreError};
