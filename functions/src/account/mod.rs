//! The `account` function: what a logged-in customer sees and does, as JSON under
//! `/api/my/…` and as pages under `/my/…`. Every read and write is scoped to the session's
//! customer: records are looked up inside that customer's partition, so another customer's
//! identifiers find nothing (404), and nothing about them leaks.

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use portal_core::records::billing::{Billing, Invoice, Payment};
use portal_core::records::customers::Customers;
use portal_core::records::issues::{IssueSummary, Issues};
use portal_core::records::quotes::{Quote, QuoteState, Quotes};
use portal_core::records::Versioned;
use portal_core::store::now;
use serde::{Deserialize, Serialize};

pub mod cases;
pub mod content;
pub mod profile;
pub mod work;

use crate::auth::SignedIn;
use crate::error::ApiError;
#[allow(unused_imports)]
use crate::error::{ErrorBody, MessageBody};
use crate::input::Input;
use crate::state::AppState;

/// The customers' search, served beside the public one by the `search` group: the one group
/// that holds the search indexes.
pub fn search_router() -> Router<AppState> {
    Router::new()
        .route("/api/my/search", get(content::search_json))
        .route("/my/search", get(content::search_page))
}

/// The group's routes (its search is in [`search_router`]).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/my/account", get(account_json))
        .route("/api/my/invoices", get(invoices_json))
        .route("/api/my/invoices/{id}", get(invoice_json))
        .route("/api/my/payments", get(payments_json))
        .route("/api/my/statement.csv", get(statement_csv))
        .route("/api/my/quotes", get(quotes_json))
        .route("/api/my/quotes/{id}", get(quote_json))
        .route("/api/my/quotes/{id}/decision", post(decide))
        .route("/api/my/quotes/{id}/comments", post(comment))
        .route("/api/my/issues", get(issues_json).post(cases::file))
        .route("/api/my/issues/{number}", get(cases::issue_json))
        .route(
            "/api/my/issues/{number}/notes",
            post(cases::add_note).layer(axum::extract::DefaultBodyLimit::max(
                crate::fields::MAX_MULTIPART,
            )),
        )
        .route(
            "/api/my/issues/{number}/attachments/{id}",
            get(cases::attachment),
        )
        .route("/api/my/issues/{number}/status", post(cases::set_status))
        .route("/my/issues/{number}", get(cases::issue_page))
        .route("/api/my/projects", get(work::projects_json))
        .route("/api/my/projects/{id}", get(work::project_json))
        .route("/api/my/projects/{id}/notes", post(work::add_note))
        .route(
            "/api/my/projects/{id}/documents",
            post(work::upload).layer(axum::extract::DefaultBodyLimit::max(
                crate::fields::MAX_MULTIPART,
            )),
        )
        .route(
            "/api/my/projects/{id}/documents/{doc}",
            get(work::project_document),
        )
        .route("/api/my/documents", get(work::documents_json))
        .route("/api/my/documents/{id}", get(work::document))
        .route("/api/my/reports", get(work::reports_json))
        .route("/api/my/reports/{file}", get(work::report_csv))
        .route("/my/projects/{id}", get(work::project_page))
        .route(
            "/api/my/profile",
            get(profile::get_profile).post(profile::update_profile),
        )
        .route("/api/my/profile/email", post(profile::change_email))
        .route("/my/kb/{slug}", get(content::article))
        .route("/my/calendar/{slug}", get(content::event))
        .route(
            "/api/my/events/{event}/registrations",
            post(content::register),
        )
        .route(
            "/my/email/{token}",
            get(profile::confirm_email_page).post(profile::confirm_email),
        )
        .route("/my/", get(dashboard))
        .route("/my/invoices/{id}", get(invoice_page))
        .route("/my/quotes/{id}", get(quote_page))
}

/// An amount of money in pence and as text.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Money {
    /// In pence.
    pub cents: i64,
    /// As people read it: "£1,234.50".
    pub text: String,
}

impl Money {
    /// Pence as money.
    pub fn of(cents: i64) -> Money {
        let sign = if cents < 0 { "-" } else { "" };
        let c = cents.unsigned_abs();
        let pounds = (c / 100).to_string();
        let mut grouped = String::new();
        for (i, ch) in pounds.chars().enumerate() {
            if i > 0 && (pounds.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(ch);
        }
        Money {
            cents,
            text: format!("{sign}£{grouped}.{:02}", c % 100),
        }
    }
}

/// A line of an invoice or quote with its amounts.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LineView {
    /// What it is.
    pub description: String,
    /// How many.
    pub quantity: i64,
    /// Price of one, before VAT.
    pub unit: Money,
    /// VAT rate in percent.
    pub vat_percent: i64,
    /// Quantity × price, before VAT.
    pub net: Money,
    /// VAT on it.
    pub vat: Money,
}

fn lines(lines: &[portal_core::records::billing::Line]) -> (Vec<LineView>, Money, Money, Money) {
    let (mut net_total, mut vat_total) = (0, 0);
    let views = lines
        .iter()
        .map(|l| {
            let (net, vat) = l.amounts();
            net_total += net;
            vat_total += vat;
            LineView {
                description: l.description.clone(),
                quantity: l.quantity,
                unit: Money::of(l.unit_cents),
                vat_percent: l.vat_percent,
                net: Money::of(net),
                vat: Money::of(vat),
            }
        })
        .collect();
    (
        views,
        Money::of(net_total),
        Money::of(vat_total),
        Money::of(net_total + vat_total),
    )
}

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

fn invoice_view(i: &Invoice) -> InvoiceView {
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

fn payment_view(p: &Payment) -> PaymentView {
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
    /// What is owed (positive) or in credit (negative).
    pub balance: Money,
    /// The login.
    pub email: String,
}

async fn account(state: &AppState, who: &SignedIn) -> Result<AccountView, ApiError> {
    let c = Customers::new(state.store.clone())
        .get(&who.session.customer_id)
        .await?
        .ok_or_else(|| ApiError::NotFound("your customer account".into()))?
        .record;
    Ok(AccountView {
        number: c.number,
        name: c.name,
        status: c.status,
        balance: Money::of(c.balance_cents),
        email: who.session.email.clone(),
    })
}

pub(crate) fn private(mut r: Response) -> Response {
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    r
}

#[utoipa::path(get, path = "/api/my/account", tag = "account", summary = "The customer account: name, status, balance",
    responses((status = 200, description = "The account", body = AccountView), (status = 401, description = "Not logged in", body = ErrorBody)))]
pub(crate) async fn account_json(
    State(state): State<AppState>,
    who: SignedIn,
) -> Result<Response, ApiError> {
    Ok(private(Json(account(&state, &who).await?).into_response()))
}

async fn all_invoices(state: &AppState, customer: &str) -> Result<Vec<Invoice>, ApiError> {
    Ok(Billing::new(state.store.clone())
        .invoices(customer, 1000, None)
        .await?
        .0)
}

#[utoipa::path(get, path = "/api/my/invoices", tag = "account", summary = "Invoice history, newest first",
    responses((status = 200, description = "Invoices", body = Vec<InvoiceView>), (status = 401, description = "Not logged in", body = ErrorBody)))]
pub(crate) async fn invoices_json(
    State(state): State<AppState>,
    who: SignedIn,
) -> Result<Response, ApiError> {
    let list: Vec<InvoiceView> = all_invoices(&state, &who.session.customer_id)
        .await?
        .iter()
        .map(invoice_view)
        .collect();
    Ok(private(Json(list).into_response()))
}

async fn own_invoice(state: &AppState, who: &SignedIn, id: &str) -> Result<Invoice, ApiError> {
    all_invoices(state, &who.session.customer_id)
        .await?
        .into_iter()
        .find(|i| i.id == id)
        .ok_or_else(|| ApiError::NotFound("there is no such invoice in your account".into()))
}

#[utoipa::path(get, path = "/api/my/invoices/{id}", tag = "account", summary = "One invoice with its lines",
    params(("id" = String, Path, description = "The invoice")),
    responses((status = 200, description = "The invoice", body = InvoiceView), (status = 401, description = "Not logged in", body = ErrorBody), (status = 404, description = "Not in this account", body = ErrorBody)))]
pub(crate) async fn invoice_json(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let i = own_invoice(&state, &who, &id).await?;
    Ok(private(Json(invoice_view(&i)).into_response()))
}

async fn all_payments(state: &AppState, customer: &str) -> Result<Vec<Payment>, ApiError> {
    Ok(Billing::new(state.store.clone())
        .payments(customer, 1000, None)
        .await?
        .0)
}

#[utoipa::path(get, path = "/api/my/payments", tag = "account", summary = "Payment history, newest first",
    responses((status = 200, description = "Payments", body = Vec<PaymentView>), (status = 401, description = "Not logged in", body = ErrorBody)))]
pub(crate) async fn payments_json(
    State(state): State<AppState>,
    who: SignedIn,
) -> Result<Response, ApiError> {
    let list: Vec<PaymentView> = all_payments(&state, &who.session.customer_id)
        .await?
        .iter()
        .map(payment_view)
        .collect();
    Ok(private(Json(list).into_response()))
}

/// A CSV field, quoted when it needs to be, and never read as a formula by a spreadsheet.
pub(crate) fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

#[utoipa::path(get, path = "/api/my/statement.csv", tag = "account", summary = "A statement of invoices and payments as CSV",
    responses((status = 200, description = "CSV", content_type = "text/csv"), (status = 401, description = "Not logged in", body = ErrorBody)))]
pub(crate) async fn statement_csv(
    State(state): State<AppState>,
    who: SignedIn,
) -> Result<Response, ApiError> {
    let customer = &who.session.customer_id;
    let (invoices, payments) = (
        all_invoices(&state, customer).await?,
        all_payments(&state, customer).await?,
    );
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
                i.total_cents(),
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
            csv_field(&date),
            csv_field(&entry),
            csv_field(&reference),
            cents as f64 / 100.0,
            balance as f64 / 100.0
        ));
    }
    Ok(csv_download(out, "statement.csv"))
}

/// `body` as a private CSV download called `file_name`.
pub(crate) fn csv_download(body: String, file_name: &str) -> Response {
    let mut r = (StatusCode::OK, body).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    private(r)
}

/// A quote as its customer sees it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct QuoteView {
    /// Identifier.
    pub id: String,
    /// Quote number.
    pub number: String,
    /// Date.
    pub date: String,
    /// Valid until.
    pub valid_until: String,
    /// `open`, `accepted` or `declined`.
    pub state: String,
    /// Lines.
    pub lines: Vec<LineView>,
    /// Total before VAT.
    pub net: Money,
    /// VAT.
    pub vat: Money,
    /// Total.
    pub total: Money,
    /// Who decided, if anyone.
    pub decided_by: Option<String>,
    /// Comments on it, oldest first (only with one quote).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub comments: Vec<CommentView>,
}

/// A comment on a quote.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CommentView {
    /// Who wrote it.
    pub author: String,
    /// Text.
    pub body: String,
    /// As people read it.
    pub created_text: String,
}

/// A quote with its comments.
async fn quote_with_comments(state: &AppState, q: &Quote) -> Result<QuoteView, ApiError> {
    let mut view = quote_view(q);
    view.comments = Quotes::new(state.store.clone())
        .comments
        .list(
            &portal_core::records::quotes::comments_pk(&q.customer_id, &q.id),
            "COMMENT#",
            1000,
            None,
            false,
        )
        .await?
        .0
        .into_iter()
        .map(|c| CommentView {
            author: c.author,
            body: c.body,
            created_text: crate::pages::date_text(c.created),
        })
        .collect();
    Ok(view)
}

/// A comment.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewComment {
    /// Text.
    #[serde(default)]
    pub body: String,
}

#[utoipa::path(post, path = "/api/my/quotes/{id}/comments", tag = "account", summary = "Comment on a quote",
    params(("id" = String, Path, description = "The quote")),
    request_body(content((NewComment = "application/json"), (NewComment = "application/x-www-form-urlencoded"))),
    responses((status = 201, description = "Added", body = QuoteView), (status = 303, description = "From a form: back to the quote"),
        (status = 401, description = "Not logged in", body = ErrorBody), (status = 404, description = "Not in this account", body = ErrorBody), (status = 422, description = "Empty", body = ErrorBody)))]
pub(crate) async fn comment(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<String>,
    body: Input<NewComment>,
) -> Result<Response, ApiError> {
    let q = own_quote(&state, &who, &id).await?;
    let c = portal_core::records::quotes::QuoteComment {
        customer_id: q.record.customer_id.clone(),
        quote_id: q.record.id.clone(),
        id: portal_core::records::new_id(),
        author: who.session.email.clone(),
        body: crate::input::text("body", &body.value.body, 5000)?,
        created: now(),
    };
    Quotes::new(state.store.clone()).comments.create(&c).await?;
    if body.from_form {
        return Ok(Redirect::to(&format!("/my/quotes/{id}")).into_response());
    }
    Ok(private(
        (
            StatusCode::CREATED,
            Json(quote_with_comments(&state, &q.record).await?),
        )
            .into_response(),
    ))
}

fn quote_view(q: &Quote) -> QuoteView {
    let (lines, net, vat, total) = lines(&q.lines);
    QuoteView {
        id: q.id.clone(),
        number: q.number.clone(),
        date: q.date.clone(),
        valid_until: q.valid_until.clone(),
        state: match q.state {
            QuoteState::Open => "open",
            QuoteState::Accepted => "accepted",
            QuoteState::Declined => "declined",
        }
        .into(),
        lines,
        net,
        vat,
        total,
        decided_by: q.decided.as_ref().map(|(by, _)| by.clone()),
        comments: Vec::new(),
    }
}

/// The customer's quotes with their versions (for deciding once), newest first, in one query.
async fn own_quotes(state: &AppState, customer: &str) -> Result<Vec<Versioned<Quote>>, ApiError> {
    let page = state
        .store
        .query(
            &portal_core::store::Query::partition(format!("CUSTOMER#{customer}"))
                .prefix("QUOTE#")
                .limit(1000)
                .descending(),
        )
        .await?;
    let name = state.store.name();
    Ok(page
        .items
        .into_iter()
        .map(|i| portal_core::records::from_item(&name, i))
        .collect::<Result<_, _>>()?)
}

async fn own_quote(
    state: &AppState,
    who: &SignedIn,
    id: &str,
) -> Result<Versioned<Quote>, ApiError> {
    own_quotes(state, &who.session.customer_id)
        .await?
        .into_iter()
        .find(|q| q.record.id == id)
        .ok_or_else(|| ApiError::NotFound("there is no such quote in your account".into()))
}

#[utoipa::path(get, path = "/api/my/quotes", tag = "account", summary = "The quotes prepared for this customer",
    responses((status = 200, description = "Quotes", body = Vec<QuoteView>), (status = 401, description = "Not logged in", body = ErrorBody)))]
pub(crate) async fn quotes_json(
    State(state): State<AppState>,
    who: SignedIn,
) -> Result<Response, ApiError> {
    let list: Vec<QuoteView> = own_quotes(&state, &who.session.customer_id)
        .await?
        .iter()
        .map(|q| quote_view(&q.record))
        .collect();
    Ok(private(Json(list).into_response()))
}

#[utoipa::path(get, path = "/api/my/quotes/{id}", tag = "account", summary = "One quote with its lines",
    params(("id" = String, Path, description = "The quote")),
    responses((status = 200, description = "The quote", body = QuoteView), (status = 401, description = "Not logged in", body = ErrorBody), (status = 404, description = "Not in this account", body = ErrorBody)))]
pub(crate) async fn quote_json(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let q = own_quote(&state, &who, &id).await?;
    Ok(private(
        Json(quote_with_comments(&state, &q.record).await?).into_response(),
    ))
}

/// Accepting or declining a quote.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    /// `accept` or `decline`.
    #[serde(default)]
    pub decision: String,
}

#[utoipa::path(post, path = "/api/my/quotes/{id}/decision", tag = "account", summary = "Accept or decline a quote, once",
    params(("id" = String, Path, description = "The quote")),
    request_body(content((Decision = "application/json"), (Decision = "application/x-www-form-urlencoded"))),
    responses((status = 200, description = "Decided", body = QuoteView), (status = 303, description = "From a form: back to the quote"),
        (status = 401, description = "Not logged in", body = ErrorBody), (status = 404, description = "Not in this account", body = ErrorBody),
        (status = 409, description = "Decided already (for example in another tab)", body = ErrorBody), (status = 422, description = "Neither accept nor decline", body = ErrorBody)))]
pub(crate) async fn decide(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<String>,
    body: Input<Decision>,
) -> Result<Response, ApiError> {
    let accept = match body.value.decision.trim() {
        "accept" => true,
        "decline" => false,
        other => {
            return Err(ApiError::invalid(
                "decision",
                format!("`{other}` is neither accept nor decline"),
            ))
        }
    };
    let q = own_quote(&state, &who, &id).await?;
    let decided = Quotes::new(state.store.clone())
        .decide(&q, accept, &who.session.email, now())
        .await?;
    if body.from_form {
        return Ok(Redirect::to(&format!("/my/quotes/{id}")).into_response());
    }
    Ok(private(Json(quote_view(&decided)).into_response()))
}

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

/// A page behind the login: without a session, the login page instead.
pub(crate) async fn page(
    state: &AppState,
    who: Result<SignedIn, ApiError>,
    render: impl AsyncFnOnce(&AppState, SignedIn) -> Result<Response, ApiError>,
) -> Response {
    let who = match who {
        Ok(w) => w,
        Err(ApiError::Unauthorized(_)) => return Redirect::to("/login").into_response(),
        Err(e) => return e.into_response(),
    };
    let site = state.site();
    match render(state, who).await {
        Ok(r) => private(r),
        Err(e) => private(
            site.pages.message(
                e.status(),
                &crate::pages::Message::new("Not found", e.public_message())
                    .link("Your account", "/my/"),
            ),
        ),
    }
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
        ctx.insert("projects", &work::projects(state, &who).await?);
        ctx.insert("profile", &profile::profile(state, &who).await?);
        ctx.insert("documents", &work::documents(state, &who).await?);
        ctx.insert("reports", &work::reports(state, &who).await?);
        ctx.insert("csrf", &crate::auth::csrf_token(state, &who).await?);
        site.pages.render("my/index.html", &ctx, StatusCode::OK)
    })
    .await
}

#[utoipa::path(get, path = "/my/invoices/{id}", tag = "account", summary = "An invoice (HTML)",
    params(("id" = String, Path, description = "The invoice")),
    responses((status = 200, description = "The page", content_type = "text/html"), (status = 303, description = "Not logged in: to /login"), (status = 404, description = "Not in this account", content_type = "text/html")))]
pub(crate) async fn invoice_page(
    State(state): State<AppState>,
    who: Result<SignedIn, ApiError>,
    Path(id): Path<String>,
) -> Response {
    page(&state, who, async |state: &AppState, who: SignedIn| {
        let i = own_invoice(state, &who, &id).await?;
        let site = state.site();
        let mut ctx = site
            .pages
            .context("account", &format!("Invoice {}", i.number), "/my/");
        ctx.insert("invoice", &invoice_view(&i));
        site.pages.render("my/invoice.html", &ctx, StatusCode::OK)
    })
    .await
}

#[utoipa::path(get, path = "/my/quotes/{id}", tag = "account", summary = "A quote, with buttons to accept or decline it (HTML)",
    params(("id" = String, Path, description = "The quote")),
    responses((status = 200, description = "The page", content_type = "text/html"), (status = 303, description = "Not logged in: to /login"), (status = 404, description = "Not in this account", content_type = "text/html")))]
pub(crate) async fn quote_page(
    State(state): State<AppState>,
    who: Result<SignedIn, ApiError>,
    Path(id): Path<String>,
) -> Response {
    page(&state, who, async |state: &AppState, who: SignedIn| {
        let q = own_quote(state, &who, &id).await?;
        let site = state.site();
        let mut ctx = site
            .pages
            .context("account", &format!("Quote {}", q.record.number), "/my/");
        ctx.insert("quote", &quote_with_comments(state, &q.record).await?);
        ctx.insert("csrf", &crate::auth::csrf_token(state, &who).await?);
        site.pages.render("my/quote.html", &ctx, StatusCode::OK)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_reads_as_pounds() {
        assert_eq!(Money::of(12_345_678).text, "£123,456.78");
        assert_eq!(Money::of(5).text, "£0.05");
        assert_eq!(Money::of(-100_000).text, "-£1,000.00");
    }

    #[test]
    fn csv_fields_cannot_become_formulas() {
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("plain"), "plain");
        // A spreadsheet skips a leading tab or carriage return and reads the formula after.
        assert_eq!(csv_field("\t=1+1"), "'\t=1+1");
        assert_eq!(csv_field("\r=1+1"), "\"'\r=1+1\"");
    }
}
