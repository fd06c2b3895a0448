//! Expense and timesheet reports shared with a customer, with totals, and as CSV.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use portal_core::records::reports::{Report, ReportKind, Shared};
use serde::Serialize;

use crate::auth::SignedIn;
use crate::error::ApiError;
#[allow(unused_imports)]
use crate::error::{ErrorBody, MessageBody};
use crate::state::AppState;

/// An expense or timesheet report with its total.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReportView {
    /// Identifier.
    pub id: String,
    /// `expenses` or `timesheet`.
    pub kind: String,
    /// Title.
    pub title: String,
    /// Date.
    pub date: String,
    /// Lines: date, description, amount as text.
    #[schema(value_type = Vec<Vec<String>>)]
    pub lines: Vec<(String, String, String)>,
    /// The total as text: money for expenses, hours for timesheets.
    pub total: String,
    /// The CSV download.
    pub csv_url: String,
}

pub(super) fn quantity_text(kind: ReportKind, q: i64) -> String {
    match kind {
        ReportKind::Expenses => super::money::Money::of(q).text,
        ReportKind::Timesheet => format!("{}.{:02} h", q / 100, (q % 100).abs()),
    }
}

pub(super) fn report_view(r: &Report) -> ReportView {
    ReportView {
        id: r.id.clone(),
        kind: match r.kind {
            ReportKind::Expenses => "expenses",
            ReportKind::Timesheet => "timesheet",
        }
        .into(),
        title: r.title.clone(),
        date: r.date.clone(),
        lines: r
            .lines
            .iter()
            .map(|l| {
                (
                    l.date.clone(),
                    l.description.clone(),
                    quantity_text(r.kind, l.quantity),
                )
            })
            .collect(),
        total: quantity_text(r.kind, r.total()),
        csv_url: format!("/api/my/reports/{}.csv", r.id),
    }
}

pub(super) async fn own_reports(state: &AppState, who: &SignedIn) -> Result<Vec<Report>, ApiError> {
    Ok(Shared::new(state.store.clone())
        .reports(&who.session.customer_id)
        .await?)
}

#[utoipa::path(get, path = "/api/my/reports", tag = "account", summary = "Expense and timesheet reports shared with this customer, with totals",
    responses((status = 200, description = "Reports", body = Vec<ReportView>), (status = 401, description = "Not logged in", body = ErrorBody)))]
pub(crate) async fn reports_json(
    State(state): State<AppState>,
    who: SignedIn,
) -> Result<Response, ApiError> {
    Ok(Json(reports(&state, &who).await?).into_response())
}

/// The customer's reports.
pub(crate) async fn reports(state: &AppState, who: &SignedIn) -> Result<Vec<ReportView>, ApiError> {
    Ok(own_reports(state, who)
        .await?
        .iter()
        .map(report_view)
        .collect())
}

#[utoipa::path(get, path = "/api/my/reports/{file}", tag = "account", summary = "A report as CSV (`{id}.csv`)",
    params(("file" = String, Path, description = "The report's id followed by .csv")),
    responses((status = 200, description = "CSV", content_type = "text/csv"), (status = 401, description = "Not logged in", body = ErrorBody), (status = 404, description = "Not in this account", body = ErrorBody)))]
pub(crate) async fn report_csv(
    State(state): State<AppState>,
    who: SignedIn,
    Path(file): Path<String>,
) -> Result<Response, ApiError> {
    let gone = || ApiError::NotFound("there is no such report in your account".into());
    let id = file.strip_suffix(".csv").ok_or_else(gone)?;
    let r = own_reports(&state, &who)
        .await?
        .into_iter()
        .find(|r| r.id == id)
        .ok_or_else(gone)?;
    let unit = match r.kind {
        ReportKind::Expenses => "amount",
        ReportKind::Timesheet => "hours",
    };
    let mut out = format!("date,description,{unit}\r\n");
    for l in &r.lines {
        out.push_str(&format!(
            "{},{},{:.2}\r\n",
            crate::csv::field(&l.date),
            crate::csv::field(&l.description),
            l.quantity as f64 / 100.0
        ));
    }
    out.push_str(&format!("total,,{:.2}\r\n", r.total() as f64 / 100.0));
    Ok(crate::csv::download(out, &format!("report-{}.csv", r.date)))
}
