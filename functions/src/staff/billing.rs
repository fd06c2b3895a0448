//! Billing for staff and integrations: invoices created or replaced by the business's own id
//! (drafts stay hidden from the customer), payments recorded once by their own id, and the
//! customer's balance moved in the same transaction as each.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use portal_core::records::billing::{Billing, Invoice, Line, Payment, INVOICE_STATUSES};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::key::Staff;
use super::own_id;
use crate::error::ApiError;
#[allow(unused_imports)]
use crate::error::ErrorBody;
use crate::input::{self, Input};
use crate::state::AppState;

/// A line as the business's systems send it.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineInput {
    /// What was sold.
    #[serde(default)]
    #[schema(
        required = true,
        pattern = "rule:line",
        min_length = 1,
        max_length = 500
    )]
    pub description: String,
    /// How many (1 or more).
    #[serde(default)]
    #[schema(required = true, minimum = 1, maximum = 1_000_000)]
    pub quantity: i64,
    /// Price per unit in minor units, VAT excluded (negative for a discount).
    #[serde(default)]
    #[schema(minimum = -1_000_000_000, maximum = 1_000_000_000)]
    pub unit_cents: i64,
    /// VAT rate in percent (0–100).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 100)]
    pub vat_percent: i64,
}

/// An invoice as the business's systems send it.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvoiceInput {
    /// Invoice number shown to the customer.
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
    /// Due date, `YYYY-MM-DD`.
    #[serde(default)]
    #[schema(required = true, pattern = "rule:date")]
    pub due: String,
    /// Lines (1–200).
    #[serde(default)]
    #[schema(required = true, min_items = 1, max_items = 200)]
    pub lines: Vec<LineInput>,
    /// `draft` (hidden from the customer), `open`, `paid`, `overdue` or `void`.
    #[serde(default)]
    #[schema(required = true, pattern = "rule:invoice-status")]
    pub status: String,
}

/// An invoice as stored, with its total.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StaffInvoice {
    /// The customer.
    pub customer_id: String,
    /// The business's id for it.
    pub id: String,
    /// Number.
    pub number: String,
    /// Issue date.
    pub date: String,
    /// Due date.
    pub due: String,
    /// Lines.
    pub lines: Vec<LineInput>,
    /// Status.
    pub status: String,
    /// Total including VAT, minor units.
    pub total_cents: i64,
    /// The customer's balance after this change, minor units.
    pub balance_cents: i64,
}

/// The operation behind the desk's customer screen: the customer's latest invoices and
/// payments, newest first, up to `limit` of each (2 requests).
pub(crate) async fn recent(
    state: &AppState,
    staff: &Staff,
    customer: &str,
    limit: usize,
) -> Result<(Vec<Invoice>, Vec<Payment>), ApiError> {
    staff.may("billing:read")?;
    let billing = Billing::new(state.store.clone());
    let (invoices, _) = billing.invoices(customer, limit, None).await?;
    let (payments, _) = billing.payments(customer, limit, None).await?;
    Ok((invoices, payments))
}

/// Checks a date written `YYYY-MM-DD`: four digits, two and two, nothing around them (the
/// rule `date` of the API document), and a day of the calendar.
pub(super) fn date(field: &str, value: &str) -> Result<String, ApiError> {
    let shaped = value.len() == 10
        && value.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    shaped
        .then(|| chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d").ok())
        .flatten()
        .map(|d| d.format("%Y-%m-%d").to_string())
        .ok_or_else(|| {
            ApiError::invalid(field, format!("`{value}` is not a date written YYYY-MM-DD"))
        })
}

/// The largest unit price or payment (ten million in major units): with at most a million
/// of a line and 200 lines, every total stays far inside `i64`.
const MAX_CENTS: i64 = 1_000_000_000;

pub(super) fn line(i: usize, l: &LineInput) -> Result<Line, ApiError> {
    let field = |name: &str| format!("lines[{i}].{name}");
    let description = input::line(&field("description"), &l.description, 500)?;
    if description.is_empty() {
        return Err(ApiError::invalid(
            &field("description"),
            "say what was sold",
        ));
    }
    if !(1..=1_000_000).contains(&l.quantity) {
        return Err(ApiError::invalid(
            &field("quantity"),
            "give a quantity from 1 to 1,000,000",
        ));
    }
    if !(-MAX_CENTS..=MAX_CENTS).contains(&l.unit_cents) {
        return Err(ApiError::invalid(
            &field("unit_cents"),
            "is larger than this portal takes",
        ));
    }
    if !(0..=100).contains(&l.vat_percent) {
        return Err(ApiError::invalid(
            &field("vat_percent"),
            "give a rate from 0 to 100",
        ));
    }
    Ok(Line {
        description,
        quantity: l.quantity,
        unit_cents: l.unit_cents,
        vat_percent: l.vat_percent,
    })
}

async fn balance(state: &AppState, customer: &str) -> Result<i64, ApiError> {
    Ok(
        portal_core::records::customers::Customers::new(state.store.clone())
            .get(customer)
            .await?
            .map(|c| c.record.balance_cents)
            .unwrap_or(0),
    )
}

#[utoipa::path(put, path = "/api/staff/customers/{id}/invoices/{invoice}", tag = "staff", summary = "Create or replace an invoice by the business's own id; the customer's balance follows",
    params(("id" = String, Path, description = "The customer"), ("invoice" = String, Path, description = "The business's id for the invoice")),
    security(("api_key" = ["billing:write"])),
    request_body(content((InvoiceInput = "application/json"))),
    responses((status = 200, description = "Replaced (or unchanged)", body = StaffInvoice), (status = 201, description = "Created", body = StaffInvoice),
        (status = 401, description = "No key, or an unknown or revoked one", body = ErrorBody), (status = 403, description = "The key lacks billing:write", body = ErrorBody),
        (status = 404, description = "No such customer", body = ErrorBody), (status = 422, description = "A field is wrong; `field` names it (`lines[2].quantity`)", body = ErrorBody),
        (status = 503, description = "The customer kept changing; send it again", body = ErrorBody)))]
pub(crate) async fn put_invoice(
    State(state): State<AppState>,
    staff: Staff,
    Path((customer, id)): Path<(String, String)>,
    body: Input<InvoiceInput>,
) -> Result<Response, ApiError> {
    staff.may("billing:write")?;
    let customer = own_id("id", &customer)?;
    let id = own_id("invoice", &id)?;
    let v = body.value;
    if v.lines.is_empty() || v.lines.len() > 200 {
        return Err(ApiError::invalid("lines", "give 1 to 200 lines"));
    }
    let status = v.status.as_str();
    if !INVOICE_STATUSES.contains(&status) {
        return Err(ApiError::invalid(
            "status",
            format!("`{status}` is not one of {}", INVOICE_STATUSES.join(", ")),
        ));
    }
    let invoice = Invoice {
        customer_id: customer.clone(),
        id: id.clone(),
        number: match input::line("number", &v.number, 64)? {
            n if n.is_empty() => {
                return Err(ApiError::invalid("number", "give the invoice's number"))
            }
            n => n,
        },
        date: date("date", &v.date)?,
        due: date("due", &v.due)?,
        lines: v
            .lines
            .iter()
            .enumerate()
            .map(|(i, l)| line(i, l))
            .collect::<Result<_, _>>()?,
        status: status.to_string(),
    };
    let audit = staff.audit(
        "invoice.put",
        Some(&customer),
        format!("customer {customer} invoice {id}"),
        json!({ "number": invoice.number, "status": invoice.status, "total_cents": invoice.total_cents() }),
    )?;
    let created = Billing::new(state.store.clone())
        .put_invoice(&invoice, audit)
        .await?;
    let view = StaffInvoice {
        total_cents: invoice.total_cents(),
        balance_cents: balance(&state, &customer).await?,
        customer_id: invoice.customer_id,
        id: invoice.id,
        number: invoice.number,
        date: invoice.date,
        due: invoice.due,
        lines: v.lines,
        status: invoice.status,
    };
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(view)).into_response())
}

/// A payment as the business's systems send it.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentInput {
    /// Date received, `YYYY-MM-DD`.
    #[serde(default)]
    #[schema(required = true, pattern = "rule:date")]
    pub date: String,
    /// Amount in minor units (more than 0).
    #[serde(default)]
    #[schema(required = true, minimum = 1, maximum = 1_000_000_000)]
    pub amount_cents: i64,
    /// How it was paid, e.g. `bank transfer`.
    #[serde(default)]
    #[schema(
        required = true,
        pattern = "rule:line",
        min_length = 1,
        max_length = 100
    )]
    pub method: String,
    /// The invoice it settles, if one (the business's id for it).
    #[serde(default)]
    #[schema(pattern = "^[A-Za-z0-9._-]{0,64}$", max_length = 64)]
    pub invoice_id: Option<String>,
}

/// A payment as recorded.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StaffPayment {
    /// The customer.
    pub customer_id: String,
    /// The business's id for it.
    pub id: String,
    /// Date received.
    pub date: String,
    /// Amount, minor units.
    pub amount_cents: i64,
    /// How it was paid.
    pub method: String,
    /// The invoice it settles.
    pub invoice_id: Option<String>,
    /// The customer's balance now, minor units.
    pub balance_cents: i64,
}

#[utoipa::path(put, path = "/api/staff/customers/{id}/payments/{payment}", tag = "staff", summary = "Record a payment once, by the business's own id; the customer's balance goes down by it",
    params(("id" = String, Path, description = "The customer"), ("payment" = String, Path, description = "The business's id for the payment")),
    security(("api_key" = ["billing:write"])),
    request_body(content((PaymentInput = "application/json"))),
    responses((status = 200, description = "Recorded before, the same", body = StaffPayment), (status = 201, description = "Recorded", body = StaffPayment),
        (status = 401, description = "No key, or an unknown or revoked one", body = ErrorBody), (status = 403, description = "The key lacks billing:write", body = ErrorBody),
        (status = 404, description = "No such customer or invoice", body = ErrorBody), (status = 409, description = "Recorded before with other details", body = ErrorBody),
        (status = 422, description = "A field is wrong; `field` names it", body = ErrorBody)))]
pub(crate) async fn put_payment(
    State(state): State<AppState>,
    staff: Staff,
    Path((customer, id)): Path<(String, String)>,
    body: Input<PaymentInput>,
) -> Result<Response, ApiError> {
    staff.may("billing:write")?;
    let customer = own_id("id", &customer)?;
    let id = own_id("payment", &id)?;
    let v = body.value;
    if !(1..=MAX_CENTS).contains(&v.amount_cents) {
        return Err(ApiError::invalid(
            "amount_cents",
            "give an amount of 1 or more",
        ));
    }
    let method = input::line("method", &v.method, 100)?;
    if method.is_empty() {
        return Err(ApiError::invalid("method", "say how it was paid"));
    }
    let billing = Billing::new(state.store.clone());
    let invoice_id = match v.invoice_id.as_deref().filter(|s| !s.is_empty()) {
        Some(i) => {
            let i = own_id("invoice_id", i)?;
            if billing.find_invoice(&customer, &i).await?.is_none() {
                return Err(ApiError::invalid(
                    "invoice_id",
                    format!("customer {customer} has no invoice {i}"),
                ));
            }
            Some(i)
        }
        None => None,
    };
    let payment = Payment {
        customer_id: customer.clone(),
        id: id.clone(),
        date: date("date", &v.date)?,
        amount_cents: v.amount_cents,
        method,
        invoice_id,
    };
    let audit = staff.audit(
        "payment.recorded",
        Some(&customer),
        format!("customer {customer} payment {id}"),
        json!({ "amount_cents": payment.amount_cents, "invoice": payment.invoice_id }),
    )?;
    let created = billing.put_payment(&payment, audit).await?;
    let view = StaffPayment {
        balance_cents: balance(&state, &customer).await?,
        customer_id: payment.customer_id,
        id: payment.id,
        date: payment.date,
        amount_cents: payment.amount_cents,
        method: payment.method,
        invoice_id: payment.invoice_id,
    };
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(view)).into_response())
}
