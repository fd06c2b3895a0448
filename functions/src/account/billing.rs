//! Invoices, payments and the CSV statement: JSON, the invoice page, the account summary.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use portal_core::records::billing::{Billing, Invoice, Payment};
use portal_core::records::customers::Customers;
use serde::Serialize;

use crate::auth::{Part, SignedIn};
use crate::error::ApiError;
#[allow(unused_imports)]
use crate::error::{ErrorBody, MessageBody};
use crate::state::AppState;
use crate::view::View;

use super::money::*;

/// An invoice as its customer sees it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct InvoiceView {
    /// Identifier.
    pub id: String,
    /// Invoice number.
    pub number: String,
    /// Issue date.
    pub date: String,
    /// Due date.
    pub due: String,
    /// `open` or `paid`.
    pub status: String,
    /// Lines.
    pub lines: Vec<LineView>,
    /// Total before VAT.
    pub net: Money,
    /// VAT.
    pub vat: Money,
    /// Total.
    pub total: Money,
}

pub(super) fn invoice_view(i: &Invoice) -> InvoiceView {
    let (lines, net, vat, total) = lines(&i.lines);
    InvoiceView {
        id: i.id.clone(),
        number: i.number.clone(),
        date: i.date.clone(),
        due: i.due.clone(),
        status: i.status.clone(),
        lines,
        net,
        vat,
        total,
    }
}

/// A payment.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PaymentView {
    /// Date.
    pub date: String,
    /// Amount.
    pub amount: Money,
    /// How it was paid.
    pub method: String,
    /// The invoice it paid, if one.
    pub invoice_id: Option<String>,
}

pub(super) fn payment_view(p: &Payment) -> PaymentView {
    PaymentView {
        date: p.date.clone(),
        amount: Money::of(p.amount_cents),
        method: p.method.clone(),
        invoice_id: p.invoice_id.clone(),
    }
}

/// The account's summary.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AccountView {
    /// Customer number.
    pub number: String,
    /// Name.
    pub name: String,
    /// Account status.
    pub status: String,
    /// What is owed (positive) or in credit (negative); absent for a login that may not
    /// see the account's billing.
    pub balance: Option<Money>,
    /// The login.
    pub email: String,
}

pub(super) async fn account(state: &AppState, who: &SignedIn) -> Result<AccountView, ApiError> {
    let c = Customers::new(state.store.clone())
        .get(&who.session.customer_id)
        .await?
        .ok_or_else(|| ApiError::NotFound("your customer account".into()))?
        .record;
    Ok(AccountView {
        number: c.number,
        name: c.name,
        status: c.status,
        balance: who.session.sees.billing.then(|| Money::of(c.balance_cents)),
        email: who.session.email.clone(),
    })
}

#[utoipa::path(get, path = "/api/my/account", tag = "account", summary = "The customer account: name, status, balance",
    responses((status = 200, description = "The account", body = AccountView), (status = 401, description = "Not logged in", body = ErrorBody)))]
pub(crate) async fn account_json(
    State(state): State<AppState>,
    who: SignedIn,
) -> Result<Response, ApiError> {
    Ok(Json(account(&state, &who).await?).into_response())
}

pub(super) async fn all_invoices(
    state: &AppState,
    customer: &str,
) -> Result<Vec<Invoice>, ApiError> {
    // Drafts are the business's, not yet the customer's.
    Ok(Billing::new(state.store.clone())
        .invoices(customer, 1000, None)
        .await?
        .0
        .into_iter()
        .filter(Invoice::published)
        .collect())
}

#[utoipa::path(get, path = "/api/my/invoices", tag = "account", summary = "Invoice history, newest first",
    responses((status = 200, description = "Invoices", body = Vec<InvoiceView>), (status = 401, description = "Not logged in", body = ErrorBody), (status = 403, description = "This login may not see the account's billing", body = ErrorBody)))]
pub(crate) async fn invoices_json(
    State(state): State<AppState>,
    who: SignedIn,
) -> Result<Response, ApiError> {
    who.may_see(Part::Billing)?;
    let list: Vec<InvoiceView> = all_invoices(&state, &who.session.customer_id)
        .await?
        .iter()
        .map(invoice_view)
        .collect();
    Ok(Json(list).into_response())
}

pub(super) async fn own_invoice(
    state: &AppState,
    who: &SignedIn,
    id: &str,
) -> Result<Invoice, ApiError> {
    all_invoices(state, &who.session.customer_id)
        .await?
        .into_iter()
        .find(|i| i.id == id)
        .ok_or_else(|| ApiError::NotFound("there is no such invoice in your account".into()))
}

#[utoipa::path(get, path = "/api/my/invoices/{id}", tag = "account", summary = "One invoice with its lines",
    params(("id" = String, Path, description = "The invoice")),
    responses((status = 200, description = "The invoice", body = InvoiceView), (status = 401, description = "Not logged in", body = ErrorBody), (status = 404, description = "Not in this account", body = ErrorBody), (status = 403, description = "This login may not see the account's billing", body = ErrorBody)))]
pub(crate) async fn invoice(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<String>,
) -> Result<View<InvoiceView>, ApiError> {
    who.may_see(Part::Billing)?;
    let i = own_invoice(&state, &who, &id).await?;
    Ok(
        View::new(invoice_view(&i), "my/invoice.html", "invoice").titled(
            "account",
            format!("Invoice {}", i.number),
            "/my/",
        ),
    )
}

pub(super) async fn all_payments(
    state: &AppState,
    customer: &str,
) -> Result<Vec<Payment>, ApiError> {
    Ok(Billing::new(state.store.clone())
        .payments(customer, 1000, None)
        .await?
        .0)
}

#[utoipa::path(get, path = "/api/my/payments", tag = "account", summary = "Payment history, newest first",
    responses((status = 200, description = "Payments", body = Vec<PaymentView>), (status = 401, description = "Not logged in", body = ErrorBody), (status = 403, description = "This login may not see the account's billing", body = ErrorBody)))]
pub(crate) async fn payments_json(
    State(state): State<AppState>,
    who: SignedIn,
) -> Result<Response, ApiError> {
    who.may_see(Part::Billing)?;
    let list: Vec<PaymentView> = all_payments(&state, &who.session.customer_id)
        .await?
        .iter()
        .map(payment_view)
        .collect();
    Ok(Json(list).into_response())
}

#[utoipa::path(get, path = "/api/my/statement.csv", tag = "account", summary = "A statement of invoices and payments as CSV",
    responses((status = 200, description = "CSV", content_type = "text/csv"), (status = 401, description = "Not logged in", body = ErrorBody), (status = 403, description = "This login may not see the account's billing", body = ErrorBody)))]
pub(crate) async fn statement_csv(
    State(state): State<AppState>,
    who: SignedIn,
) -> Result<Response, ApiError> {
    who.may_see(Part::Billing)?;
    let customer = &who.session.customer_id;
    // Two independent reads, sent together.
    let (invoices, payments) = tokio::try_join!(
        all_invoices(&state, customer),
        all_payments(&state, customer)
    )?;
    let number_of = |id: &Option<String>| {
        invoices
            .iter()
            .find(|i| Some(&i.id) == id.as_ref())
            .map(|i| i.number.clone())
            .unwrap_or_default()
    };
    let mut rows: Vec<(String, String, String, i64)> = invoices
        .iter()
        .map(|i| {
            (
                i.date.clone(),
                "Invoice".into(),
                i.number.clone(),
                // What it adds to the balance: nothing once void.
                i.owed_cents(),
            )
        })
        .chain(payments.iter().map(|p| {
            (
                p.date.clone(),
                format!("Payment ({})", p.method),
                number_of(&p.invoice_id),
                -p.amount_cents,
            )
        }))
        .collect();
    rows.sort();
    let mut out = String::from("date,entry,reference,amount,balance\r\n");
    let mut balance = 0;
    for (date, entry, reference, cents) in rows {
        balance += cents;
        out.push_str(&format!(
            "{},{},{},{:.2},{:.2}\r\n",
            crate::csv::field(&date),
            crate::csv::field(&entry),
            crate::csv::field(&reference),
            cents as f64 / 100.0,
            balance as f64 / 100.0
        ));
    }
    Ok(crate::csv::download(out, "statement.csv"))
}

#[utoipa::path(get, path = "/my/invoices/{id}", tag = "account", summary = "An invoice (HTML)",
    params(("id" = String, Path, description = "The invoice")),
    responses((status = 200, description = "The page", content_type = "text/html"), (status = 303, description = "Not logged in: to /login"), (status = 404, description = "Not in this account", content_type = "text/html")))]
#[allow(dead_code)]
pub(crate) fn invoice_page() {}
