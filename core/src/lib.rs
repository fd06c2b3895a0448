//! The portal's data layer.
//!
//! - [`store`]: the single-table store — the [`store::Store`] trait with DynamoDB's semantics
//!   and its two backends, embedded SQLite and DynamoDB.
//! - [`records`]: the portal's records, their key layouts, and repositories over the store.
//! - [`transfer`]: moving a whole store to JSON Lines and back, between backends.

pub mod records;
pub mod store;
pub mod transfer;

pub use store::{Cond, Item, Key, Query, Store, StoreError};
