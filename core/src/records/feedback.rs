//! "Was this helpful?" answers on knowledge-base articles, kept for the people who write them.
//!
//! | Record | `pk` | `sk` |
//! |---|---|---|
//! | [`ArticleFeedback`] | `KB#<article>` | `FEEDBACK#<id>` |

use serde::{Deserialize, Serialize};

use super::Record;
use crate::store::Key;

/// One reader's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArticleFeedback {
    /// The article's slug.
    pub article: String,
    /// Time-ordered identifier.
    pub id: String,
    /// Whether the article helped.
    pub helpful: bool,
    /// What the reader added, if anything.
    #[serde(default)]
    pub comment: Option<String>,
    /// Unix seconds.
    pub created: i64,
}

impl Record for ArticleFeedback {
    fn key(&self) -> Key {
        Key::new(
            format!("KB#{}", self.article),
            format!("FEEDBACK#{}", self.id),
        )
    }
}
