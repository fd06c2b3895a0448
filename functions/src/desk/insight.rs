//! `/desk/insight` (managers): how many issues arrived each week in each binder over the last
//! eight weeks, how readers rated each article and what they searched for in vain over the
//! same weeks, mail that keeps failing to go out, and webhook endpoints that fail or were
//! disabled. The issue counts come from the queue operation the queue screen uses.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use portal_core::records::feedback::{week_of, ArticleScore, ReaderSignals, SearchMiss};
use portal_core::records::outbox::Outbox;
use portal_core::records::webhooks::Webhooks;
use portal_core::store::now;
use serde::Serialize;

use crate::error::ApiError;
use crate::staff::issues::QueueParams;
use crate::state::AppState;

use super::page::desk_page;
use super::queue::everything;
use super::session::DeskUser;

/// Weeks the volume table, the article ratings and the searches cover.
const WEEKS: i64 = 8;

/// Most searches that found nothing shown.
const MISSES: usize = 50;

/// Most comments shown per article.
const COMMENTS: usize = 5;

/// One binder's issues per week, oldest week first.
#[derive(Debug, Serialize)]
struct Volume {
    binder: String,
    counts: Vec<usize>,
    total: usize,
}

/// A mail that failed at least once and is still waiting.
#[derive(Debug, Serialize)]
struct StuckMail {
    to: String,
    subject: String,
    attempts: u32,
    created: i64,
    next_attempt: i64,
}

/// A webhook endpoint's health.
#[derive(Debug, Serialize)]
struct Hook {
    id: String,
    url: String,
    disabled: Option<String>,
    /// Of its last 20 attempts, how many failed.
    failed: usize,
    tried: usize,
    last_error: Option<String>,
}

/// What the insight screen shows.
#[derive(Debug, Serialize)]
struct Insight {
    /// Each week's Monday, `YYYY-MM-DD`, oldest first.
    weeks: Vec<String>,
    volume: Vec<Volume>,
    truncated: bool,
    mail: Vec<StuckMail>,
    hooks: Vec<Hook>,
    articles: Vec<Rated>,
    misses: Vec<SearchMiss>,
}

/// An article's rating, as the screen shows it.
#[derive(Debug, Serialize)]
struct Rated {
    #[serde(flatten)]
    score: ArticleScore,
    helpful_percent: usize,
}

/// `GET /desk/insight`.
pub(crate) async fn page(
    State(state): State<AppState>,
    user: DeskUser,
) -> Result<Response, ApiError> {
    let staff = user.staff();
    staff.may("insight:read")?;
    let (issues, truncated) = everything(&state, &staff, QueueParams::default()).await?;
    let this_week = week_of(now());
    let first = this_week - 7 * (WEEKS - 1);
    let mut per: BTreeMap<String, Vec<usize>> = state
        .site()
        .settings()
        .binders
        .iter()
        .map(|b| (b.id.clone(), vec![0; WEEKS as usize]))
        .collect();
    for i in &issues {
        let week = week_of(i.created);
        if week >= first {
            let slot = ((week - first) / 7) as usize;
            per.entry(i.binder.clone())
                .or_insert_with(|| vec![0; WEEKS as usize])[slot] += 1;
        }
    }
    let weeks = (0..WEEKS)
        .map(|k| {
            chrono::DateTime::from_timestamp((first + 7 * k) * 86_400, 0)
                .map(|d| d.format("%Y-%m-%d").to_string())
                .unwrap_or_default()
        })
        .collect();
    let volume = per
        .into_iter()
        .map(|(binder, counts)| Volume {
            total: counts.iter().sum(),
            binder,
            counts,
        })
        .collect();
    let mail = Outbox::new(state.store.clone())
        .pending(1000)
        .await?
        .into_iter()
        .filter(|m| m.attempts > 0)
        .map(|m| StuckMail {
            to: m.to,
            subject: m.subject,
            attempts: m.attempts,
            created: m.created,
            next_attempt: m.next_attempt,
        })
        .collect();
    let webhooks = Webhooks::new(state.store.clone());
    let mut hooks = Vec::new();
    for e in webhooks.list().await? {
        let attempts = webhooks.attempts(&e.id, 20).await?;
        let failed: Vec<_> = attempts
            .iter()
            .filter(|a| a.outcome != "delivered")
            .collect();
        hooks.push(Hook {
            failed: failed.len(),
            tried: attempts.len(),
            last_error: failed.first().and_then(|a| a.error.clone()),
            disabled: e.disabled.map(|_| {
                e.disabled_reason
                    .clone()
                    .unwrap_or_else(|| "disabled".into())
            }),
            id: e.id,
            url: e.url,
        });
    }
    let signals = ReaderSignals::new(state.store.clone());
    let articles = signals
        .scores(WEEKS)
        .await?
        .into_iter()
        .map(|mut score| {
            score.comments.truncate(COMMENTS);
            Rated {
                helpful_percent: score.helpful_percent(),
                score,
            }
        })
        .collect();
    let misses = signals.misses(WEEKS, MISSES).await?;
    let data = Insight {
        weeks,
        volume,
        truncated,
        mail,
        hooks,
        articles,
        misses,
    };
    Ok(desk_page(
        &state,
        &user,
        data,
        "desk/insight.html",
        "Insight",
        "/desk/insight",
    )
    .await?
    .into_response())
}
