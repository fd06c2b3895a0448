//! Forums for logged-in customers: categories, threads and posts.

use serde::{Deserialize, Serialize};

use super::Record;
use crate::store::Key;

/// A forum category.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForumCategory {
    /// Identifier.
    pub id: String,
    /// Name.
    pub name: String,
    /// What belongs here.
    #[serde(default)]
    pub description: String,
}

impl Record for ForumCategory {
    fn key(&self) -> Key {
        Key::new("FORUMS", format!("CATEGORY#{}", self.id))
    }
}

/// A thread in a category.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Thread {
    /// The category.
    pub category_id: String,
    /// Identifier.
    pub id: String,
    /// Title.
    pub title: String,
    /// Author's display name.
    pub author: String,
    /// The author's customer.
    pub customer_id: String,
    /// Locked threads take no new posts.
    #[serde(default)]
    pub locked: bool,
    /// Unix seconds.
    pub created: i64,
}

impl Record for Thread {
    fn key(&self) -> Key {
        Key::new(
            format!("FORUM#{}", self.category_id),
            format!("THREAD#{:012}#{}", self.created, self.id),
        )
    }
}

/// A post in a thread.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Post {
    /// The thread.
    pub thread_id: String,
    /// Identifier.
    pub id: String,
    /// Author's display name.
    pub author: String,
    /// The author's customer.
    pub customer_id: String,
    /// Markdown as written; rendered through ammonia when shown.
    pub body: String,
    /// Hidden by a moderator.
    #[serde(default)]
    pub hidden: bool,
    /// Unix seconds.
    pub created: i64,
}

impl Record for Post {
    fn key(&self) -> Key {
        Key::new(
            format!("THREAD#{}", self.thread_id),
            format!("POST#{:012}#{}", self.created, self.id),
        )
    }
}
