//! The account at a glance: the dashboard page and the list of the customer's cases.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use portal_core::records::customers::Customers;
use portal_core::records::issues::{IssueSummary, Issues};

use crate::auth::SignedIn;
use crate::error::ApiError;
#[allow(unused_imports)]
use crate::error::{ErrorBody, MessageBody};
use crate::state::AppState;
use crate::view::View;
use serde::Serialize;

use super::{billing::*, quotes::*};

#[utoipa::path(get, path = "/api/my/issues", tag = "account", summary = "This customer's cases and bugs, newest first",
    responses((status = 200, description = "Issues", body = Vec<Object>), (status = 401, description = "Not logged in", body = ErrorBody)))]
pub(crate) async fn issues_json(
    State(state): State<AppState>,
    who: SignedIn,
) -> Result<Response, ApiError> {
    Ok(Json(visible_issues(&state, &who, 1000).await?).into_response())
}

/// The newest of the account's issues this login sees, at most `limit` (from the newest
/// 1,000 of the account's when it sees only its own), without who filed them: a colleague's
/// address is not another login's to read.
async fn visible_issues(
    state: &AppState,
    who: &SignedIn,
    limit: usize,
) -> Result<Vec<IssueSummary>, ApiError> {
    let read = if who.session.sees.all_issues {
        limit
    } else {
        1000
    };
    Ok(Issues::new(state.store.clone())
        .for_customer(&who.session.customer_id, read)
        .await?
        .into_iter()
        .filter(|i| who.sees_issue_of(&i.email))
        .take(limit)
        .map(|mut i| {
            i.email.clear();
            i
        })
        .collect())
}

/// Everything the account page shows.
#[derive(Debug, Serialize)]
pub(crate) struct Dashboard {
    account: AccountView,
    /// The newest [`RECENT`] invoices.
    invoices: Vec<InvoiceView>,
    /// Whether older invoices follow (on `/my/invoices`).
    more_invoices: bool,
    /// The newest [`RECENT`] payments.
    payments: Vec<PaymentView>,
    /// Whether older payments follow (on `/my/payments`).
    more_payments: bool,
    quotes: Vec<QuoteView>,
    issues: Vec<IssueSummary>,
    projects: Vec<super::projects::ProjectView>,
    /// What the login may see, so the page leaves out what it may not.
    sees: portal_core::records::customers::Visibility,
    profile: super::profile::Profile,
    documents: Vec<super::documents::DocumentView>,
    reports: Vec<super::reports::ReportView>,
    /// The next events, customers-only ones included and marked.
    events: Vec<UpcomingEvent>,
}

/// An event that has not started yet, as the account page lists it.
#[derive(Debug, Serialize)]
pub(crate) struct UpcomingEvent {
    title: String,
    when: String,
    url: String,
    customers_only: bool,
}

/// Invoices and payments on the account page: the newest; the rest a page away.
const RECENT: usize = 10;

/// Events on the account page.
const UPCOMING: usize = 3;

/// The next [`UPCOMING`] events that start after `now`, from what the build listed.
fn upcoming(state: &AppState, now: i64) -> Vec<UpcomingEvent> {
    let site = state.site();
    let mut events: Vec<_> = site.data.events.iter().filter(|e| e.starts > now).collect();
    events.sort_by_key(|e| (e.starts, e.slug.as_str()));
    events
        .into_iter()
        .take(UPCOMING)
        .map(|e| UpcomingEvent {
            title: e.title.clone(),
            when: e.when.clone(),
            url: if e.customers_only {
                format!("/my/calendar/{}", e.slug)
            } else {
                format!("/calendar/{}", e.slug)
            },
            customers_only: e.customers_only,
        })
        .collect()
}

#[utoipa::path(get, path = "/my/", tag = "account", summary = "The account page (HTML): balance, invoices, payments, quotes, cases",
    responses((status = 200, description = "The page", content_type = "text/html"), (status = 303, description = "Not logged in: to /login")))]
pub(crate) async fn dashboard(
    State(state): State<AppState>,
    who: SignedIn,
) -> Result<View<Dashboard>, ApiError> {
    let dashboard = dashboard_of(&state, &who).await?;
    let csrf = crate::auth::csrf_token(&state, &who).await?;
    Ok(View::flat(dashboard, "my/index.html")
        .titled("account", "Your account", "/my/")
        .with("csrf", csrf))
}

/// What the account page shows the login `who` (also what the desk's read-only "view as
/// this customer" shows staff): only the parts the login may see. It only reads.
pub(crate) async fn dashboard_of(state: &AppState, who: &SignedIn) -> Result<Dashboard, ApiError> {
    let customer = who.session.customer_id.clone();
    // Everything below reads the customer's partition: on DynamoDB, one read of it serves
    // them all while it is small.
    let snapshot = Customers::new(state.store.clone())
        .snapshot(&customer)
        .await?;
    let state = &match snapshot {
        Some(snapshot) => state.over(std::sync::Arc::new(snapshot)),
        None => state.clone(),
    };
    let sees = who.session.sees;
    let (invoices, payments, quotes) = if sees.billing {
        (
            some_invoices(state, &customer, RECENT, None).await?,
            some_payments(state, &customer, RECENT, None).await?,
            own_quotes(state, &customer)
                .await?
                .iter()
                .map(|q| quote_view(&q.record))
                .collect(),
        )
    } else {
        ((Vec::new(), None), (Vec::new(), None), Vec::new())
    };
    Ok(Dashboard {
        account: account(state, who).await?,
        more_invoices: invoices.1.is_some(),
        invoices: invoices.0.iter().map(invoice_view).collect(),
        more_payments: payments.1.is_some(),
        payments: payments.0.iter().map(payment_view).collect(),
        quotes,
        issues: visible_issues(state, who, 100).await?,
        projects: if sees.projects {
            super::projects::projects(state, who).await?
        } else {
            Vec::new()
        },
        sees,
        profile: super::profile::profile(state, who).await?,
        documents: super::documents::documents(state, who).await?,
        reports: super::reports::reports(state, who).await?,
        events: upcoming(state, portal_core::store::now()),
    })
}
