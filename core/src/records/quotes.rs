//! Quotes prepared for a customer: line items and validity, comments, and a decision —
//! accepted or declined — that can be taken once.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::billing::Line;
use super::{to_item, Record, RecordError, RecordResult, Repo, Versioned};
use crate::store::{Cond, Key, Store, Write};

/// Where a quote stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuoteState {
    /// Waiting for the customer.
    Open,
    /// The customer accepted it.
    Accepted,
    /// The customer declined it.
    Declined,
}

/// A quote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quote {
    /// The customer.
    pub customer_id: String,
    /// Identifier.
    pub id: String,
    /// Quote number.
    pub number: String,
    /// Date issued, `YYYY-MM-DD`.
    pub date: String,
    /// Valid until, `YYYY-MM-DD`.
    pub valid_until: String,
    /// Lines.
    pub lines: Vec<Line>,
    /// Decision.
    pub state: QuoteState,
    /// Who decided and when (Unix seconds).
    #[serde(default)]
    pub decided: Option<(String, i64)>,
}

impl Record for Quote {
    fn key(&self) -> Key {
        Key::new(
            format!("CUSTOMER#{}", self.customer_id),
            format!("QUOTE#{}#{}", self.date, self.id),
        )
    }
}

/// The partition of a quote's comments: `QUOTE#{customer}#{quote}`.
pub fn comments_pk(customer_id: &str, quote_id: &str) -> String {
    format!("QUOTE#{customer_id}#{quote_id}")
}

/// A comment on a quote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuoteComment {
    /// The customer whose quote it is: part of the key, so two customers' quotes with the
    /// same id never share comments.
    #[serde(default)]
    pub customer_id: String,
    /// The quote.
    pub quote_id: String,
    /// Identifier.
    pub id: String,
    /// Author's name.
    pub author: String,
    /// Text.
    pub body: String,
    /// Unix seconds.
    pub created: i64,
}

impl Record for QuoteComment {
    fn key(&self) -> Key {
        Key::new(
            comments_pk(&self.customer_id, &self.quote_id),
            format!("COMMENT#{:012}#{}", self.created, self.id),
        )
    }
}

/// Quotes and their comments.
#[derive(Debug, Clone)]
pub struct Quotes {
    /// The quotes.
    pub quotes: Repo<Quote>,
    /// The comments.
    pub comments: Repo<QuoteComment>,
}

impl Quotes {
    /// The repositories over `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Quotes {
            quotes: Repo::new(store.clone()),
            comments: Repo::new(store),
        }
    }

    /// The comments on `quote`, oldest first (1 request).
    pub async fn comments_of(&self, quote: &Quote) -> RecordResult<Vec<QuoteComment>> {
        Ok(self
            .comments
            .list(
                &comments_pk(&quote.customer_id, &quote.id),
                "COMMENT#",
                1000,
                None,
                false,
            )
            .await?
            .0)
    }

    /// The quotes of `customer` with their versions (to decide once), newest first
    /// (1 request).
    pub async fn of_customer(&self, customer: &str) -> RecordResult<Vec<Versioned<Quote>>> {
        let store = self.quotes.store();
        let page = store
            .query(
                &crate::store::Query::partition(format!("CUSTOMER#{customer}"))
                    .prefix("QUOTE#")
                    .limit(1000)
                    .descending(),
            )
            .await?;
        let name = store.name();
        Ok(page
            .items
            .into_iter()
            .map(|i| super::from_item(&name, i))
            .collect::<Result<_, _>>()?)
    }

    /// Accepts or declines a quote read at `version`, once: a decided quote, or one changed in
    /// between (another tab deciding first), is a conflict (1 request).
    pub async fn decide(
        &self,
        quote: &Versioned<Quote>,
        accept: bool,
        by: &str,
        at: i64,
    ) -> RecordResult<Quote> {
        self.decide_with(quote, accept, by, at, Vec::new()).await
    }

    /// As [`Quotes::decide`], with `extra` writes (the change-feed event, the business's
    /// notice) in the same transaction (1 request).
    pub async fn decide_with(
        &self,
        quote: &Versioned<Quote>,
        accept: bool,
        by: &str,
        at: i64,
        extra: Vec<Write>,
    ) -> RecordResult<Quote> {
        if quote.record.state != QuoteState::Open {
            return Err(RecordError::Conflict(format!(
                "quote {} has been decided already",
                quote.record.number
            )));
        }
        let today = chrono::DateTime::from_timestamp(at, 0)
            .map(|t| t.format("%Y-%m-%d").to_string())
            .unwrap_or_default();
        if accept && !quote.record.valid_until.is_empty() && quote.record.valid_until < today {
            return Err(RecordError::Conflict(format!(
                "quote {} expired on {}; ask us for a new one",
                quote.record.number, quote.record.valid_until
            )));
        }
        let mut decided = quote.record.clone();
        decided.state = if accept {
            QuoteState::Accepted
        } else {
            QuoteState::Declined
        };
        decided.decided = Some((by.to_string(), at));
        let mut writes = vec![Write::Put(to_item(&decided)?, Cond::Version(quote.version))];
        writes.extend(extra);
        self.quotes.store().transact(writes).await.map_err(|e| {
            super::conflict(
                e,
                format!("quote {} has been decided already", quote.record.number),
            )
        })?;
        Ok(decided)
    }

    /// Publishes `quote` under the business's id, or revises the open quote with that id
    /// (its lines, dates and validity); a decided quote is not changed (publish a revision
    /// under a new id). Returns whether it is new; an identical one changes nothing
    /// (3 requests and 1 transaction with `extra`).
    pub async fn publish(&self, quote: &Quote, extra: Vec<Write>) -> RecordResult<bool> {
        super::billing::put_claimed(
            self.quotes.store(),
            "QUOTE",
            &quote.customer_id,
            &quote.id,
            quote,
            extra,
            |old: &Quote| match old.state {
                QuoteState::Open => Ok(()),
                decided => Err(RecordError::Conflict(format!(
                    "quote {} was {} already and cannot be revised; publish the revision under a new id",
                    old.number,
                    if decided == QuoteState::Accepted { "accepted" } else { "declined" }
                ))),
            },
        )
        .await
    }

    /// The customer's quote with the business's id `id`, and its version (2 requests).
    pub async fn find(
        &self,
        customer_id: &str,
        id: &str,
    ) -> RecordResult<Option<Versioned<Quote>>> {
        Ok(super::billing::Billing::new(self.quotes.store().clone())
            .claimed::<Quote>(customer_id, "QUOTE", id)
            .await?
            .1)
    }
}
