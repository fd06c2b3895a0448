//! Expense and timesheet reports for staff and integrations: shared with a customer by the
//! business's own id, replaced when sent again, read back as the customer sees them.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use portal_core::records::reports::{Report, ReportKind, ReportLine, Shared};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::billing::date;
use super::key::Staff;
use super::own_id;
use crate::error::ApiError;
#[allow(unused_imports)]
use crate::error::ErrorBody;
use crate::input::{self, Input};
use crate::state::AppState;

/// A line of a report.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportLineInput {
    /// `YYYY-MM-DD`.
    #[serde(default)]
    #[schema(required = true, pattern = "rule:date")]
    pub date: String,
    /// What it was.
    #[serde(default)]
    #[schema(
        required = true,
        pattern = "rule:line",
        min_length = 1,
        max_length = 500
    )]
    pub description: String,
    /// Minor units for expenses, hundredths of an hour for timesheets (1–100,000,000).
    #[serde(default)]
    #[schema(required = true, minimum = 1, maximum = 100_000_000)]
    pub quantity: i64,
}

/// A report as the business's systems send it, and as it is read back.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportInput {
    /// `expenses` or `timesheet`.
    #[serde(default)]
    #[schema(required = true, pattern = "rule:report-kind")]
    pub kind: String,
    /// Title.
    #[serde(default)]
    #[schema(
        required = true,
        pattern = "rule:line",
        min_length = 1,
        max_length = 200
    )]
    pub title: String,
    /// Date, `YYYY-MM-DD`.
    #[serde(default)]
    #[schema(required = true, pattern = "rule:date")]
    pub date: String,
    /// Lines (1–500).
    #[serde(default)]
    #[schema(required = true, min_items = 1, max_items = 500)]
    pub lines: Vec<ReportLineInput>,
}

fn view_kind(kind: ReportKind) -> &'static str {
    match kind {
        ReportKind::Expenses => "expenses",
        ReportKind::Timesheet => "timesheet",
    }
}

fn view(r: Report) -> ReportInput {
    ReportInput {
        kind: view_kind(r.kind).into(),
        title: r.title,
        date: r.date,
        lines: r
            .lines
            .into_iter()
            .map(|l| ReportLineInput {
                date: l.date,
                description: l.description,
                quantity: l.quantity,
            })
            .collect(),
    }
}

#[utoipa::path(put, path = "/api/staff/customers/{id}/reports/{report}", tag = "staff", summary = "Share an expense or timesheet report by the business's own id (replaced when sent again)",
    params(("id" = String, Path, description = "The customer"), ("report" = String, Path, description = "The business's id for the report")),
    security(("api_key" = ["reports:write"])), request_body(content((ReportInput = "application/json"))),
    responses((status = 200, description = "Replaced (or unchanged)", body = ReportInput), (status = 201, description = "Shared", body = ReportInput),
        (status = 401, description = "No key, or an unknown or revoked one", body = ErrorBody), (status = 403, description = "The key lacks reports:write", body = ErrorBody),
        (status = 404, description = "No such customer", body = ErrorBody), (status = 422, description = "A field is wrong; `field` names it (`lines[1].date`)", body = ErrorBody)))]
pub(crate) async fn put(
    State(state): State<AppState>,
    staff: Staff,
    Path((customer, id)): Path<(String, String)>,
    body: Input<ReportInput>,
) -> Result<Response, ApiError> {
    staff.may("reports:write")?;
    let customer = own_id("id", &customer)?;
    let id = own_id("report", &id)?;
    let v = body.value;
    let kind = match v.kind.as_str() {
        "expenses" => ReportKind::Expenses,
        "timesheet" => ReportKind::Timesheet,
        other => {
            return Err(ApiError::invalid(
                "kind",
                format!("`{other}` is not expenses or timesheet"),
            ))
        }
    };
    let title = input::line("title", &v.title, 200)?;
    if title.is_empty() {
        return Err(ApiError::invalid("title", "give the report a title"));
    }
    if v.lines.is_empty() || v.lines.len() > 500 {
        return Err(ApiError::invalid("lines", "give 1 to 500 lines"));
    }
    let mut lines = Vec::new();
    for (i, l) in v.lines.iter().enumerate() {
        let field = |name: &str| format!("lines[{i}].{name}");
        let description = input::line(&field("description"), &l.description, 500)?;
        if description.is_empty() {
            return Err(ApiError::invalid(&field("description"), "say what it was"));
        }
        if !(1..=100_000_000).contains(&l.quantity) {
            return Err(ApiError::invalid(
                &field("quantity"),
                "give a quantity from 1 to 100,000,000",
            ));
        }
        lines.push(ReportLine {
            date: date(&field("date"), &l.date)?,
            description,
            quantity: l.quantity,
        });
    }
    let report = Report {
        customer_id: customer.clone(),
        id: id.clone(),
        kind,
        title,
        date: date("date", &v.date)?,
        lines,
    };
    let audit = staff.audit(
        "report.put",
        Some(&customer),
        format!("customer {customer} report {id}"),
        json!({ "title": report.title, "kind": v.kind.trim(), "total": report.total() }),
    )?;
    let created = Shared::new(state.store.clone())
        .put_report(&report, audit)
        .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(view(report))).into_response())
}

#[utoipa::path(get, path = "/api/staff/customers/{id}/reports/{report}", tag = "staff", summary = "A report shared with the customer",
    params(("id" = String, Path, description = "The customer"), ("report" = String, Path, description = "The business's id for the report")),
    security(("api_key" = ["reports:read"])),
    responses((status = 200, description = "The report", body = ReportInput), (status = 401, description = "No key, or an unknown or revoked one", body = ErrorBody),
        (status = 403, description = "The key lacks reports:read", body = ErrorBody), (status = 404, description = "No such report", body = ErrorBody)))]
pub(crate) async fn get(
    State(state): State<AppState>,
    staff: Staff,
    Path((customer, id)): Path<(String, String)>,
) -> Result<Json<ReportInput>, ApiError> {
    staff.may("reports:read")?;
    let customer = own_id("id", &customer)?;
    let id = own_id("report", &id)?;
    let report = Shared::new(state.store.clone())
        .report(&customer, &id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("report {id} of customer {customer}")))?;
    Ok(Json(view(report)))
}

/// A report in a customer's list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReportRef {
    /// The business's id.
    pub id: String,
    /// `expenses` or `timesheet`.
    pub kind: String,
    /// Title.
    pub title: String,
    /// Date.
    pub date: String,
    /// Lines.
    pub lines: usize,
    /// The sum of the lines' quantities (minor units, or hundredths of an hour).
    pub total: i64,
}

#[utoipa::path(get, path = "/api/staff/customers/{id}/reports", tag = "staff", summary = "The reports shared with a customer, newest first",
    params(("id" = String, Path, description = "The customer")),
    security(("api_key" = ["reports:read"])),
    responses((status = 200, description = "The reports", body = Vec<ReportRef>), (status = 401, description = "No key, or an unknown or revoked one", body = ErrorBody),
        (status = 403, description = "The key lacks reports:read", body = ErrorBody), (status = 422, description = "Not an id", body = ErrorBody)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    staff: Staff,
    Path(customer): Path<String>,
) -> Result<Json<Vec<ReportRef>>, ApiError> {
    Ok(Json(reports_of(&state, &staff, &customer).await?))
}

/// The operation behind both doors: the reports shared with `customer`, newest first.
pub(crate) async fn reports_of(
    state: &AppState,
    staff: &Staff,
    customer: &str,
) -> Result<Vec<ReportRef>, ApiError> {
    staff.may("reports:read")?;
    let customer = own_id("id", customer)?;
    let shared = Shared::new(state.store.clone());
    let (reports, ()) = tokio::try_join!(
        async { Ok::<_, ApiError>(shared.reports(&customer).await?) },
        super::customers::must_exist(state, &customer)
    )?;
    Ok(reports
        .into_iter()
        .map(|r| ReportRef {
            total: r.total(),
            lines: r.lines.len(),
            kind: view_kind(r.kind).into(),
            id: r.id,
            title: r.title,
            date: r.date,
        })
        .collect())
}
