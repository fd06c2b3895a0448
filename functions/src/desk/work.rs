//! A customer's projects, reports and documents on the desk (managers): lists on the
//! customer screen, a screen for each project with its tasks and notes, and forms to start a
//! project, add or change a task, write a note, share a report and share a file — for
//! businesses without a system that pushes them through the staff API. Each form calls the
//! staff API's operation (`crate::staff::projects`, `reports`, `documents`), so both doors
//! check and audit alike.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use portal_core::records::new_id;
use serde::{Deserialize, Serialize};

use crate::account::money::Money;
use crate::error::ApiError;
use crate::input::{Input, WithFiles};
use crate::staff::documents::{documents_of, share, StaffDocument};
use crate::staff::projects::{
    project_of, projects_of, ProjectInput, ProjectNoteInput, ProjectRef, StaffProject, TaskInput,
};
use crate::staff::reports::{reports_of, ReportInput, ReportLineInput};
use crate::staff::{customers, projects, reports, Staff};
use crate::state::AppState;
use crate::view::done_with;

use super::forms::{cents, number, only_line_fields};
use super::page::{api_body, desk_page};
use super::session::DeskUser;

/// Lines the desk's report form offers.
const REPORT_LINES: usize = 5;

/// A report as the customer screen lists it.
#[derive(Debug, Serialize)]
pub(crate) struct ReportRow {
    id: String,
    kind: String,
    title: String,
    date: String,
    lines: usize,
    /// The total as people read it: an amount, or hours.
    total: String,
}

/// What the customer screen shows of the customer's work, each part only when the member
/// may read it.
#[derive(Debug, Serialize)]
pub(crate) struct Work {
    projects: Option<Vec<ProjectRef>>,
    reports: Option<Vec<ReportRow>>,
    documents: Option<Vec<StaffDocument>>,
    /// Whether the member may add to them.
    can_write: bool,
    /// Fresh ids the forms suggest, so a form sent twice writes once.
    new_project_id: String,
    new_report_id: String,
    new_document_id: String,
}

/// `Some` of what a read gave, `None` if the member may not read it.
fn allowed<T>(read: Result<T, ApiError>) -> Result<Option<T>, ApiError> {
    match read {
        Ok(v) => Ok(Some(v)),
        Err(ApiError::Forbidden(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Hundredths as `12.50`.
fn hundredths(n: i64) -> String {
    let sign = if n < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", n.abs() / 100, n.abs() % 100)
}

/// The customer's projects, reports and documents, as far as `staff` may read them.
pub(crate) async fn of(state: &AppState, staff: &Staff, customer: &str) -> Result<Work, ApiError> {
    let reports = allowed(reports_of(state, staff, customer).await)?.map(|all| {
        all.into_iter()
            .map(|r| ReportRow {
                total: if r.kind == "timesheet" {
                    format!("{} h", hundredths(r.total))
                } else {
                    Money::of(r.total).text
                },
                id: r.id,
                kind: r.kind,
                title: r.title,
                date: r.date,
                lines: r.lines,
            })
            .collect()
    });
    let short = || new_id()[20..].to_uppercase();
    Ok(Work {
        projects: allowed(projects_of(state, staff, customer).await)?,
        reports,
        documents: allowed(documents_of(state, staff, customer).await)?,
        can_write: staff.may("projects:write").is_ok(),
        new_project_id: format!("P-{}", short()),
        new_report_id: format!("R-{}", short()),
        new_document_id: format!("D-{}", short()),
    })
}

/// What the project screen shows.
#[derive(Debug, Serialize)]
struct ProjectScreen {
    customer_name: String,
    project: StaffProject,
    can_write: bool,
    new_task_id: String,
    next_position: u32,
}

/// `GET /desk/customers/{id}/projects/{project}`.
pub(crate) async fn project_page(
    State(state): State<AppState>,
    user: DeskUser,
    Path((id, project)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let staff = user.staff();
    let project = project_of(&state, &staff, &id, &project).await?;
    let customer = customers::read(&state, &staff, &id).await?;
    let next_position = project
        .tasks
        .iter()
        .map(|t| t.position + 10)
        .max()
        .unwrap_or(10);
    let title = project.name.clone();
    let url = format!("/desk/customers/{id}/projects/{}", project.id);
    let screen = ProjectScreen {
        customer_name: customer.name,
        can_write: staff.may("projects:write").is_ok(),
        new_task_id: format!("T-{}", &new_id()[20..].to_uppercase()),
        next_position,
        project,
    };
    Ok(
        desk_page(&state, &user, screen, "desk/project.html", &title, &url)
            .await?
            .into_response(),
    )
}

/// A project as the desk's form sends it (new, or changed: the same id).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectForm {
    /// The business's id for it.
    #[serde(default)]
    pub id: String,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// What it is about.
    #[serde(default)]
    pub description: String,
    /// Where it stands.
    #[serde(default)]
    pub status: String,
}

/// `POST /desk/customers/{id}/projects`: starts a project, or changes the one with that id.
pub(crate) async fn project(
    State(state): State<AppState>,
    user: DeskUser,
    Path(id): Path<String>,
    body: Input<ProjectForm>,
) -> Result<Response, ApiError> {
    let f = body.value;
    let project = f.id.trim().to_string();
    let answer = projects::put(
        State(state),
        user.staff(),
        Path((id.clone(), project.clone())),
        api_body(ProjectInput {
            name: f.name,
            description: f.description,
            status: f.status,
        }),
    )
    .await?;
    Ok(done_with(
        body.from_form,
        &format!("/desk/customers/{id}/projects/{project}"),
        answer,
    ))
}

/// A task as the desk's form sends it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskForm {
    /// The business's id for it (an existing task's to change it).
    #[serde(default)]
    pub id: String,
    /// Title.
    #[serde(default)]
    pub title: String,
    /// Progress in percent.
    #[serde(default)]
    pub progress: String,
    /// Order among the tasks.
    #[serde(default)]
    pub position: String,
    /// Present (`on`) when hidden from the customer.
    #[serde(default)]
    pub hidden: Option<String>,
}

/// `POST /desk/customers/{id}/projects/{project}/tasks`: adds a task, or changes the one
/// with that id.
pub(crate) async fn task(
    State(state): State<AppState>,
    user: DeskUser,
    Path((id, project)): Path<(String, String)>,
    body: Input<TaskForm>,
) -> Result<Response, ApiError> {
    let f = body.value;
    let value = TaskInput {
        title: f.title,
        progress: number("progress", &f.progress, 0, "a percentage from 0 to 100")?,
        position: number(
            "position",
            &f.position,
            0,
            "a whole number from 0 to 999999",
        )?,
        hidden: f.hidden.is_some(),
    };
    let answer = projects::put_task(
        State(state),
        user.staff(),
        Path((id.clone(), project.clone(), f.id.trim().to_string())),
        api_body(value),
    )
    .await?;
    Ok(done_with(
        body.from_form,
        &format!("/desk/customers/{id}/projects/{project}#tasks"),
        answer,
    ))
}

/// A project note as the desk's form sends it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectNoteForm {
    /// Text.
    #[serde(default)]
    pub body: String,
    /// Present (`on`) when hidden from the customer.
    #[serde(default)]
    pub hidden: Option<String>,
}

/// `POST /desk/customers/{id}/projects/{project}/notes`: a note, shown to the customer or
/// hidden.
pub(crate) async fn note(
    State(state): State<AppState>,
    user: DeskUser,
    Path((id, project)): Path<(String, String)>,
    body: Input<ProjectNoteForm>,
) -> Result<Response, ApiError> {
    let f = body.value;
    let answer = projects::add_note(
        State(state),
        user.staff(),
        Path((id.clone(), project.clone())),
        api_body(ProjectNoteInput {
            body: f.body,
            hidden: f.hidden.is_some(),
        }),
    )
    .await?;
    Ok(done_with(
        body.from_form,
        &format!("/desk/customers/{id}/projects/{project}#notes"),
        answer,
    ))
}

/// A report as the desk's form sends it: up to [`REPORT_LINES`] lines, each with a date, a
/// description and an amount (`12.50`) or hours (`1.5`).
#[derive(Debug, Deserialize)]
pub struct ReportForm {
    /// The business's id for it.
    #[serde(default)]
    pub id: String,
    /// `expenses` or `timesheet`.
    #[serde(default)]
    pub kind: String,
    /// Title.
    #[serde(default)]
    pub title: String,
    /// `YYYY-MM-DD`.
    #[serde(default)]
    pub date: String,
    /// The lines' fields, `date_1`, `description_1`, `quantity_1` …
    #[serde(flatten)]
    pub lines: std::collections::HashMap<String, String>,
}

/// The filled-in lines of a report form.
fn report_lines(f: &ReportForm) -> Result<Vec<ReportLineInput>, ApiError> {
    only_line_fields(&f.lines, &["date", "description", "quantity"], REPORT_LINES)?;
    let get = |name: &str, n: usize| {
        f.lines
            .get(&format!("{name}_{n}"))
            .map_or("", |v| v.trim())
            .to_string()
    };
    let mut lines = Vec::new();
    for n in 1..=REPORT_LINES {
        let (date, description, quantity) =
            (get("date", n), get("description", n), get("quantity", n));
        if description.is_empty() && quantity.is_empty() {
            continue;
        }
        lines.push(ReportLineInput {
            date: if date.is_empty() {
                f.date.clone()
            } else {
                date
            },
            description,
            quantity: cents(&format!("quantity_{n}"), &quantity)?,
        });
    }
    Ok(lines)
}

/// `POST /desk/customers/{id}/reports`: shares an expense or timesheet report (replaced when
/// sent again with the same id).
pub(crate) async fn report(
    State(state): State<AppState>,
    user: DeskUser,
    Path(id): Path<String>,
    body: Input<ReportForm>,
) -> Result<Response, ApiError> {
    user.staff().may("reports:write")?;
    let f = &body.value;
    let value = ReportInput {
        kind: f.kind.clone(),
        title: f.title.clone(),
        date: f.date.clone(),
        lines: report_lines(f)?,
    };
    let answer = reports::put(
        State(state),
        user.staff(),
        Path((id.clone(), f.id.trim().to_string())),
        api_body(value),
    )
    .await?;
    Ok(done_with(
        body.from_form,
        &format!("/desk/customers/{id}#reports"),
        answer,
    ))
}

/// A document as the desk's form sends it, with its file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentForm {
    /// The business's id for it.
    #[serde(default)]
    pub id: String,
    /// Title shown to the customer.
    #[serde(default)]
    pub title: String,
    /// `YYYY-MM-DD`.
    #[serde(default)]
    pub date: String,
}

/// `POST /desk/customers/{id}/documents`: shares a file with the customer (a form with one
/// file in the `file` field; sent again with the same id, it replaces the file).
pub(crate) async fn document(
    State(state): State<AppState>,
    user: DeskUser,
    Path(id): Path<String>,
    body: WithFiles<DocumentForm>,
) -> Result<Response, ApiError> {
    if let Some(f) = body.files.iter().find(|f| f.field != "file") {
        return Err(ApiError::invalid(
            &f.field,
            "is not a file field of this form",
        ));
    }
    let f = &body.value;
    let (status, shared) = share(
        &state,
        &user.staff(),
        (&id, f.id.trim()),
        (&f.title, &f.date),
        body.files,
        &body.uploaded,
    )
    .await
    .map_err(|e| match e {
        ApiError::Invalid { field, message } if field == "upload" => {
            ApiError::invalid("file", message)
        }
        other => other,
    })?;
    Ok(done_with(
        body.from_form,
        &format!("/desk/customers/{id}#documents"),
        (status, axum::Json(shared)).into_response(),
    ))
}

#[cfg(test)]
mod tests {
    use super::hundredths;

    #[test]
    fn hours_read_as_people_write_them() {
        assert_eq!(hundredths(150), "1.50");
        assert_eq!(hundredths(5), "0.05");
        assert_eq!(hundredths(-1250), "-12.50");
    }
}
