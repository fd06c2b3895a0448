//! Quotes for staff and integrations: publish a quote by the business's own id, revise it
//! while it is open, and read what the customer decided and said about it. A decided quote
//! is never changed: a new revision is published under a new id.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use portal_core::records::quotes::{Quote, QuoteState, Quotes};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::billing::{date, line, LineInput};
use super::key::Staff;
use super::{own_id, with_etag};
use crate::error::ApiError;
#[allow(unused_imports)]
use crate::error::ErrorBody;
use crate::input::{self, Input};
use crate::state::AppState;

/// A quote as the business's systems send it.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuoteInput {
    /// Quote number shown to the customer.
    #[serde(default)]
    #[schema(
        required = true,
        pattern = "rule:line",
        min_length = 1,
        max_length = 64
    )]
    pub number: String,
    /// Issue date, `YYYY-MM-DD`.
    #[serde(default)]
    #[schema(required = true, pattern = "rule:date")]
    pub date: String,
    /// Valid until, `YYYY-MM-DD` (the customer cannot accept it after).
    #[serde(default)]
    #[schema(required = true, pattern = "rule:date")]
    pub valid_until: String,
    /// Lines (1–200).
    #[serde(default)]
    #[schema(required = true, min_items = 1, max_items = 200)]
    pub lines: Vec<LineInput>,
}

/// A customer's comment on a quote.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StaffQuoteComment {
    /// Who wrote it (a login's address).
    pub author: String,
    /// What they wrote.
    pub body: String,
    /// Unix seconds.
    pub created: i64,
}

/// A quote as staff see it: what was offered, what the customer decided and said.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StaffQuote {
    /// The customer.
    pub customer_id: String,
    /// The business's id for it.
    pub id: String,
    /// Number.
    pub number: String,
    /// Issue date.
    pub date: String,
    /// Valid until.
    pub valid_until: String,
    /// Lines.
    pub lines: Vec<LineInput>,
    /// Total including VAT, minor units.
    pub total_cents: i64,
    /// `open`, `accepted` or `declined`.
    pub state: String,
    /// Who decided (a login's address), if decided.
    pub decided_by: Option<String>,
    /// When it was decided, Unix seconds.
    pub decided_at: Option<i64>,
    /// The customer's comments, oldest first.
    pub comments: Vec<StaffQuoteComment>,
    /// The version (also the `ETag`).
    pub version: u64,
}

fn state_name(s: QuoteState) -> &'static str {
    match s {
        QuoteState::Open => "open",
        QuoteState::Accepted => "accepted",
        QuoteState::Declined => "declined",
    }
}

async fn view(state: &AppState, q: Quote, version: u64) -> Result<StaffQuote, ApiError> {
    let comments = Quotes::new(state.store.clone())
        .comments_of(&q)
        .await?
        .into_iter()
        .map(|c| StaffQuoteComment {
            author: c.author,
            body: c.body,
            created: c.created,
        })
        .collect();
    Ok(StaffQuote {
        total_cents: q.lines.iter().map(|l| l.amounts().0 + l.amounts().1).sum(),
        lines: q
            .lines
            .iter()
            .map(|l| LineInput {
                description: l.description.clone(),
                quantity: l.quantity,
                unit_cents: l.unit_cents,
                vat_percent: l.vat_percent,
            })
            .collect(),
        state: state_name(q.state).into(),
        decided_by: q.decided.as_ref().map(|(by, _)| by.clone()),
        decided_at: q.decided.as_ref().map(|(_, at)| *at),
        customer_id: q.customer_id,
        id: q.id,
        number: q.number,
        date: q.date,
        valid_until: q.valid_until,
        comments,
        version,
    })
}

#[utoipa::path(put, path = "/api/staff/customers/{id}/quotes/{quote}", tag = "staff", summary = "Publish a quote by the business's own id, or revise it while it is open",
    params(("id" = String, Path, description = "The customer"), ("quote" = String, Path, description = "The business's id for the quote")),
    security(("api_key" = ["quotes:write"])), request_body(content((QuoteInput = "application/json"))),
    responses((status = 200, description = "Revised (or unchanged)", body = StaffQuote), (status = 201, description = "Published", body = StaffQuote),
        (status = 401, description = "No key, or an unknown or revoked one", body = ErrorBody), (status = 403, description = "The key lacks quotes:write", body = ErrorBody),
        (status = 404, description = "No such customer", body = ErrorBody), (status = 409, description = "Decided already: publish the revision under a new id", body = ErrorBody),
        (status = 422, description = "A field is wrong; `field` names it (`lines[0].quantity`)", body = ErrorBody)))]
pub(crate) async fn put(
    State(state): State<AppState>,
    staff: Staff,
    Path((customer, id)): Path<(String, String)>,
    body: Input<QuoteInput>,
) -> Result<Response, ApiError> {
    staff.may("quotes:write")?;
    let customer = own_id("id", &customer)?;
    let id = own_id("quote", &id)?;
    let v = body.value;
    if v.lines.is_empty() || v.lines.len() > 200 {
        return Err(ApiError::invalid("lines", "give 1 to 200 lines"));
    }
    let number = input::line("number", &v.number, 64)?;
    if number.is_empty() {
        return Err(ApiError::invalid("number", "give the quote's number"));
    }
    let quote = Quote {
        customer_id: customer.clone(),
        id: id.clone(),
        number,
        date: date("date", &v.date)?,
        valid_until: date("valid_until", &v.valid_until)?,
        lines: v
            .lines
            .iter()
            .enumerate()
            .map(|(i, l)| line(i, l))
            .collect::<Result<_, _>>()?,
        state: QuoteState::Open,
        decided: None,
    };
    if quote.valid_until < quote.date {
        return Err(ApiError::invalid(
            "valid_until",
            "is before the quote's date",
        ));
    }
    let quotes = Quotes::new(state.store.clone());
    let audit = staff.audit(
        "quote.published",
        Some(&customer),
        format!("customer {customer} quote {id}"),
        json!({ "number": quote.number, "valid_until": quote.valid_until, "lines": quote.lines.len() }),
    )?;
    let created = quotes.publish(&quote, audit).await?;
    let found = quotes
        .find(&customer, &id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("quote {id}")))?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let version = found.version;
    Ok(with_etag(
        status,
        Json(view(&state, found.record, version).await?),
        version,
    ))
}

#[utoipa::path(get, path = "/api/staff/customers/{id}/quotes/{quote}", tag = "staff", summary = "A quote with the customer's decision and comments",
    params(("id" = String, Path, description = "The customer"), ("quote" = String, Path, description = "The business's id for the quote")),
    security(("api_key" = ["quotes:read"])),
    responses((status = 200, description = "The quote", body = StaffQuote), (status = 401, description = "No key, or an unknown or revoked one", body = ErrorBody),
        (status = 403, description = "The key lacks quotes:read", body = ErrorBody), (status = 404, description = "No such customer or quote", body = ErrorBody)))]
pub(crate) async fn get(
    State(state): State<AppState>,
    staff: Staff,
    Path((customer, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    staff.may("quotes:read")?;
    let customer = own_id("id", &customer)?;
    let id = own_id("quote", &id)?;
    let found = Quotes::new(state.store.clone())
        .find(&customer, &id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("quote {id} of customer {customer}")))?;
    let version = found.version;
    Ok(with_etag(
        StatusCode::OK,
        Json(view(&state, found.record, version).await?),
        version,
    ))
}

#[utoipa::path(get, path = "/api/staff/customers/{id}/quotes", tag = "staff", summary = "A customer's quotes, newest first, with decisions and comments",
    params(("id" = String, Path, description = "The customer")),
    security(("api_key" = ["quotes:read"])),
    responses((status = 200, description = "The quotes", body = [StaffQuote]), (status = 401, description = "No key, or an unknown or revoked one", body = ErrorBody),
        (status = 403, description = "The key lacks quotes:read", body = ErrorBody)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    staff: Staff,
    Path(customer): Path<String>,
) -> Result<Response, ApiError> {
    staff.may("quotes:read")?;
    let customer = own_id("id", &customer)?;
    let mut out = Vec::new();
    let quotes = Quotes::new(state.store.clone());
    let (found, ()) = tokio::try_join!(
        async { Ok::<_, ApiError>(quotes.of_customer(&customer).await?) },
        super::customers::must_exist(&state, &customer)
    )?;
    for q in found {
        out.push(view(&state, q.record, q.version).await?);
    }
    Ok(Json(out).into_response())
}
