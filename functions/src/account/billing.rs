//! Invoices, payments and the CSV statement: JSON, the invoice page, the account summary.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use portal_core::records::billing::{Billing, Invoice, Payment};
use portal_core::records::customers::Customers;
use portal_core::store::Cursor;
use serde::{Deserialize, Serialize};

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

/// How many invoices or payments a page of a list holds unless asked for another number.
pub(super) const PAGE: usize = 50;

/// The longest cursor a list takes.
const MAX_CURSOR: usize = 1024;

/// Paging of a list: the cursor from the `Link` header of the page before, and its size.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Where the previous page ended: the `cursor` of its `Link: <…>; rel="next"` header.
    pub cursor: Option<String>,
    /// At most this many (1–100; 50 when left out).
    pub limit: Option<usize>,
}

impl PageParams {
    /// The page size and the cursor, checked.
    pub(super) fn read(&self) -> Result<(usize, Option<Cursor>), ApiError> {
        let limit = self.limit.unwrap_or(PAGE);
        if !(1..=100).contains(&limit) {
            return Err(ApiError::invalid("limit", "give a number from 1 to 100"));
        }
        // One the list gave is a record's key in base64: well under a kilobyte.
        if self.cursor.as_ref().is_some_and(|c| c.len() > MAX_CURSOR) {
            return Err(ApiError::invalid(
                "cursor",
                "is not one this list gave: it is too long",
            ));
        }
        let cursor = self
            .cursor
            .as_deref()
            .filter(|c| !c.is_empty())
            .map(Cursor::from_client);
        Ok((limit, cursor))
    }
}

/// `list` as JSON, with a `Link` header to the next page when there is one.
pub(super) fn paged<T: Serialize>(
    list: T,
    path: &str,
    limit: usize,
    next: Option<Cursor>,
) -> Response {
    let mut answer = Json(list).into_response();
    if let Some(next) = next {
        let link = format!(
            "<{path}?cursor={}&limit={limit}>; rel=\"next\"",
            next.as_str()
        );
        if let Ok(value) = axum::http::HeaderValue::from_str(&link) {
            answer.headers_mut().insert(axum::http::header::LINK, value);
        }
    }
    answer
}

/// A page of the customer's invoices, newest first, and where the next page starts. Drafts
/// are the business's, not yet the customer's: they are left out, so a page may hold fewer
/// than `limit` while another follows.
pub(super) async fn some_invoices(
    state: &AppState,
    customer: &str,
    limit: usize,
    cursor: Option<Cursor>,
) -> Result<(Vec<Invoice>, Option<Cursor>), ApiError> {
    let (list, next) = Billing::new(state.store.clone())
        .invoices(customer, limit, cursor)
        .await
        .map_err(crate::error::cursor_error)?;
    Ok((list.into_iter().filter(Invoice::published).collect(), next))
}

/// Every invoice the customer has (for the statement), a thousand a read.
pub(super) async fn all_invoices(
    state: &AppState,
    customer: &str,
) -> Result<Vec<Invoice>, ApiError> {
    let mut all = Vec::new();
    let mut cursor = None;
    loop {
        let (page, next) = some_invoices(state, customer, 1000, cursor).await?;
        all.extend(page);
        match next {
            Some(next) => cursor = Some(next),
            None => return Ok(all),
        }
    }
}

#[utoipa::path(get, path = "/api/my/invoices", tag = "account", summary = "Invoice history, newest first, a page at a time",
    params(PageParams),
    responses((status = 200, description = "A page of invoices; a `Link` header (`rel=\"next\"`) names the next page when there is one", body = Vec<InvoiceView>,
            headers(("Link" = String, description = "`</api/my/invoices?cursor=…&limit=…>; rel=\"next\"` while more follow"))),
        (status = 401, description = "Not logged in", body = ErrorBody), (status = 403, description = "This login may not see the account's billing", body = ErrorBody),
        (status = 422, description = "`limit` out of range, or a `cursor` this list did not give", body = ErrorBody)))]
pub(crate) async fn invoices_json(
    State(state): State<AppState>,
    who: SignedIn,
    Query(p): Query<PageParams>,
) -> Result<Response, ApiError> {
    who.may_see(Part::Billing)?;
    let (limit, cursor) = p.read()?;
    let (list, next) = some_invoices(&state, &who.session.customer_id, limit, cursor).await?;
    let list: Vec<InvoiceView> = list.iter().map(invoice_view).collect();
    Ok(paged(list, "/api/my/invoices", limit, next))
}

/// A page of a list for its page on the site: the items and the cursor of the next page.
#[derive(Debug, Serialize)]
pub(crate) struct ListPage<T> {
    items: Vec<T>,
    /// The `cursor` of the next page, if more follow.
    next: Option<String>,
    /// Whether this is the first page (the newest).
    first: bool,
}

#[utoipa::path(get, path = "/my/invoices", tag = "account", summary = "All invoices, newest first, 50 a page (HTML)",
    params(("cursor" = Option<String>, Query, description = "Where the previous page ended")),
    responses((status = 200, description = "The page", content_type = "text/html"), (status = 303, description = "Not logged in: to /login"),
        (status = 403, description = "This login may not see the account's billing", content_type = "text/html"),
        (status = 422, description = "A `cursor` this list did not give", content_type = "text/html")))]
pub(crate) async fn invoices_page(
    State(state): State<AppState>,
    who: SignedIn,
    Query(p): Query<PageParams>,
) -> Result<View<ListPage<InvoiceView>>, ApiError> {
    who.may_see(Part::Billing)?;
    let (_, cursor) = p.read()?;
    let first = cursor.is_none();
    let (list, next) = some_invoices(&state, &who.session.customer_id, PAGE, cursor).await?;
    let page = ListPage {
        items: list.iter().map(invoice_view).collect(),
        next: next.map(|c| c.as_str().to_string()),
        first,
    };
    Ok(View::flat(page, "my/invoices.html").titled("account", "Invoices", "/my/invoices"))
}

#[utoipa::path(get, path = "/my/payments", tag = "account", summary = "All payments, newest first, 50 a page (HTML)",
    params(("cursor" = Option<String>, Query, description = "Where the previous page ended")),
    responses((status = 200, description = "The page", content_type = "text/html"), (status = 303, description = "Not logged in: to /login"),
        (status = 403, description = "This login may not see the account's billing", content_type = "text/html"),
        (status = 422, description = "A `cursor` this list did not give", content_type = "text/html")))]
pub(crate) async fn payments_page(
    State(state): State<AppState>,
    who: SignedIn,
    Query(p): Query<PageParams>,
) -> Result<View<ListPage<PaymentView>>, ApiError> {
    who.may_see(Part::Billing)?;
    let (_, cursor) = p.read()?;
    let first = cursor.is_none();
    let (list, next) = some_payments(&state, &who.session.customer_id, PAGE, cursor).await?;
    let page = ListPage {
        items: list.iter().map(payment_view).collect(),
        next: next.map(|c| c.as_str().to_string()),
        first,
    };
    Ok(View::flat(page, "my/payments.html").titled("account", "Payments", "/my/payments"))
}

pub(super) async fn own_invoice(
    state: &AppState,
    who: &SignedIn,
    id: &str,
) -> Result<Invoice, ApiError> {
    Billing::new(state.store.clone())
        .find_invoice(&who.session.customer_id, id)
        .await?
        .map(|i| i.record)
        .filter(Invoice::published)
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

/// A page of the customer's payments, newest first, and where the next page starts.
pub(super) async fn some_payments(
    state: &AppState,
    customer: &str,
    limit: usize,
    cursor: Option<Cursor>,
) -> Result<(Vec<Payment>, Option<Cursor>), ApiError> {
    Billing::new(state.store.clone())
        .payments(customer, limit, cursor)
        .await
        .map_err(crate::error::cursor_error)
}

/// Every payment the customer made (for the statement), a thousand a read.
pub(super) async fn all_payments(
    state: &AppState,
    customer: &str,
) -> Result<Vec<Payment>, ApiError> {
    let mut all = Vec::new();
    let mut cursor = None;
    loop {
        let (page, next) = some_payments(state, customer, 1000, cursor).await?;
        all.extend(page);
        match next {
            Some(next) => cursor = Some(next),
            None => return Ok(all),
        }
    }
}

#[utoipa::path(get, path = "/api/my/payments", tag = "account", summary = "Payment history, newest first, a page at a time",
    params(PageParams),
    responses((status = 200, description = "A page of payments; a `Link` header (`rel=\"next\"`) names the next page when there is one", body = Vec<PaymentView>,
            headers(("Link" = String, description = "`</api/my/payments?cursor=…&limit=…>; rel=\"next\"` while more follow"))),
        (status = 401, description = "Not logged in", body = ErrorBody), (status = 403, description = "This login may not see the account's billing", body = ErrorBody),
        (status = 422, description = "`limit` out of range, or a `cursor` this list did not give", body = ErrorBody)))]
pub(crate) async fn payments_json(
    State(state): State<AppState>,
    who: SignedIn,
    Query(p): Query<PageParams>,
) -> Result<Response, ApiError> {
    who.may_see(Part::Billing)?;
    let (limit, cursor) = p.read()?;
    let (list, next) = some_payments(&state, &who.session.customer_id, limit, cursor).await?;
    let list: Vec<PaymentView> = list.iter().map(payment_view).collect();
    Ok(paged(list, "/api/my/payments", limit, next))
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
    let numbers: std::collections::HashMap<&str, &str> = invoices
        .iter()
        .map(|i| (i.id.as_str(), i.number.as_str()))
        .collect();
    let number_of = |id: &Option<String>| {
        id.as_deref()
            .and_then(|id| numbers.get(id))
            .map(|n| n.to_string())
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
