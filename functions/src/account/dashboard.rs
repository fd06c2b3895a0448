//! The account at a glance: the dashboard page and the list of the customer's cases.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use portal_core::records::issues::{IssueSummary, Issues};

use crate::auth::SignedIn;
use crate::error::ApiError;
#[allow(unused_imports)]
use crate::error::{ErrorBody, MessageBody};
use crate::state::AppState;

use super::{billing::*, page::*, quotes::*};

#[utoipa::path(get, path = "/api/my/issues", tag = "account", summary = "This customer's cases and bugs, newest first",
    responses((status = 200, description = "Issues", body = Vec<Object>), (status = 401, description = "Not logged in", body = ErrorBody)))]
pub(crate) async fn issues_json(
    State(state): State<AppState>,
    who: SignedIn,
) -> Result<Response, ApiError> {
    let list: Vec<IssueSummary> = Issues::new(state.store.clone())
        .for_customer(&who.session.customer_id, 1000)
        .await?;
    Ok(private(Json(list).into_response()))
}

#[utoipa::path(get, path = "/my/", tag = "account", summary = "The account page (HTML): balance, invoices, payments, quotes, cases",
    responses((status = 200, description = "The page", content_type = "text/html"), (status = 303, description = "Not logged in: to /login")))]
pub(crate) async fn dashboard(
    State(state): State<AppState>,
    who: Result<SignedIn, ApiError>,
) -> Response {
    page(&state, who, async |state: &AppState, who: SignedIn| {
        let customer = who.session.customer_id.clone();
        let site = state.site();
        let mut ctx = site.pages.context("account", "Your account", "/my/");
        ctx.insert("account", &account(state, &who).await?);
        let invoices: Vec<InvoiceView> = all_invoices(state, &customer)
            .await?
            .iter()
            .map(invoice_view)
            .collect();
        ctx.insert("invoices", &invoices);
        let payments: Vec<PaymentView> = all_payments(state, &customer)
            .await?
            .iter()
            .map(payment_view)
            .collect();
        ctx.insert("payments", &payments);
        let quotes: Vec<QuoteView> = own_quotes(state, &customer)
            .await?
            .iter()
            .map(|q| quote_view(&q.record))
            .collect();
        ctx.insert("quotes", &quotes);
        ctx.insert(
            "issues",
            &Issues::new(state.store.clone())
                .for_customer(&customer, 100)
                .await?,
        );
        ctx.insert("projects", &super::projects::projects(state, &who).await?);
        ctx.insert("profile", &super::profile::profile(state, &who).await?);
        ctx.insert(
            "documents",
            &super::documents::documents(state, &who).await?,
        );
        ctx.insert("reports", &super::reports::reports(state, &who).await?);
        ctx.insert("csrf", &crate::auth::csrf_token(state, &who).await?);
        site.pages.render("my/index.html", &ctx, StatusCode::OK)
    })
    .await
}
