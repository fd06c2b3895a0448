//! Projects for staff and integrations: a customer's project by the business's own id, its
//! tasks with progress (hidden ones for staff only), notes (hidden or shown to the customer)
//! and contacts; read back whole, hidden parts included. Project documents (files) are not
//! yet taken through the API.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use portal_core::records::new_id;
use portal_core::records::projects::{Project, ProjectContact, ProjectNote, Projects, Task};
use portal_core::store::now;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::key::Staff;
use super::own_id;
use crate::error::ApiError;
#[allow(unused_imports)]
use crate::error::ErrorBody;
use crate::input::{self, Input};
use crate::state::AppState;

/// A project as the business's systems send it.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectInput {
    /// Name.
    #[serde(default)]
    #[schema(
        required = true,
        pattern = "rule:line",
        min_length = 1,
        max_length = 200
    )]
    pub name: String,
    /// What it is about (plain text).
    #[serde(default)]
    #[schema(pattern = "rule:blank-or-text", max_length = 10_000)]
    pub description: String,
    /// Where it stands, e.g. `planned`, `in progress`, `done`.
    #[serde(default)]
    #[schema(pattern = "rule:blank-or-line", max_length = 40)]
    pub status: String,
}

/// A task as the business's systems send it.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskInput {
    /// Title.
    #[serde(default)]
    #[schema(
        required = true,
        pattern = "rule:line",
        min_length = 1,
        max_length = 300
    )]
    pub title: String,
    /// Progress in percent (0–100).
    #[serde(default)]
    #[schema(maximum = 100)]
    pub progress: u8,
    /// Hidden from the customer.
    #[serde(default)]
    pub hidden: bool,
    /// Order among the project's tasks (0–999,999).
    #[serde(default)]
    #[schema(maximum = 999_999)]
    pub position: u32,
}

/// A note as staff write it.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectNoteInput {
    /// Text (1–10,000 characters).
    #[serde(default)]
    #[schema(
        required = true,
        pattern = "rule:text",
        min_length = 1,
        max_length = 10_000
    )]
    pub body: String,
    /// Hidden from the customer (an internal note).
    #[serde(default)]
    pub hidden: bool,
}

/// A contact of a project.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectContactInput {
    /// Name.
    #[serde(default)]
    #[schema(
        required = true,
        pattern = "rule:line",
        min_length = 1,
        max_length = 200
    )]
    pub name: String,
    /// Role in the project, e.g. `project manager`.
    #[serde(default)]
    #[schema(pattern = "rule:blank-or-line", max_length = 100)]
    pub role: String,
    /// E-mail address, if any.
    #[serde(default)]
    #[schema(pattern = "rule:blank-or-email", max_length = 254)]
    pub email: Option<String>,
}

/// A task as staff see it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StaffTask {
    /// The business's id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Progress in percent.
    pub progress: u8,
    /// Hidden from the customer.
    pub hidden: bool,
    /// Order.
    pub position: u32,
}

/// A project note as staff see it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StaffProjectNote {
    /// Identifier.
    pub id: String,
    /// Who wrote it (`key:NAME` for the API, a login's address for the customer).
    pub author: String,
    /// Text.
    pub body: String,
    /// Hidden from the customer.
    pub hidden: bool,
    /// Unix seconds.
    pub created: i64,
}

/// A project with every part, hidden ones included.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StaffProject {
    /// The customer.
    pub customer_id: String,
    /// The business's id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Status.
    pub status: String,
    /// Tasks, in order.
    pub tasks: Vec<StaffTask>,
    /// Notes, oldest first.
    pub notes: Vec<StaffProjectNote>,
    /// Contacts.
    pub contacts: Vec<ProjectContactInput>,
    /// File names of the project's documents.
    pub documents: Vec<String>,
}

async fn whole(state: &AppState, customer: &str, id: &str) -> Result<StaffProject, ApiError> {
    let projects = Projects::new(state.store.clone());
    let p = projects
        .get(customer, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("project {id} of customer {customer}")))?;
    let parts = projects.parts(&p).await?;
    Ok(StaffProject {
        tasks: parts
            .tasks
            .into_iter()
            .map(|t| StaffTask {
                id: t.id,
                title: t.title,
                progress: t.progress,
                hidden: t.hidden,
                position: t.position,
            })
            .collect(),
        notes: parts
            .notes
            .into_iter()
            .map(|n| StaffProjectNote {
                id: n.id,
                author: n.author,
                body: n.body,
                hidden: n.hidden,
                created: n.created,
            })
            .collect(),
        contacts: parts
            .contacts
            .into_iter()
            .map(|c| ProjectContactInput {
                name: c.name,
                role: c.role,
                email: c.email,
            })
            .collect(),
        documents: parts.documents.into_iter().map(|d| d.file_name).collect(),
        customer_id: p.customer_id,
        id: p.id,
        name: p.name,
        description: p.description,
        status: p.status,
    })
}

fn created_or_ok(created: bool) -> StatusCode {
    if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    }
}

#[utoipa::path(put, path = "/api/staff/customers/{id}/projects/{project}", tag = "staff", summary = "Create or update a project by the business's own id",
    params(("id" = String, Path, description = "The customer"), ("project" = String, Path, description = "The business's id for the project")),
    security(("api_key" = ["projects:write"])), request_body(content((ProjectInput = "application/json"))),
    responses((status = 200, description = "Updated (or unchanged)", body = StaffProject), (status = 201, description = "Created", body = StaffProject),
        (status = 401, description = "No key, or an unknown or revoked one", body = ErrorBody), (status = 403, description = "The key lacks projects:write", body = ErrorBody),
        (status = 404, description = "No such customer", body = ErrorBody), (status = 422, description = "A field is wrong; `field` names it", body = ErrorBody)))]
pub(crate) async fn put(
    State(state): State<AppState>,
    staff: Staff,
    Path((customer, id)): Path<(String, String)>,
    body: Input<ProjectInput>,
) -> Result<Response, ApiError> {
    staff.may("projects:write")?;
    let customer = own_id("id", &customer)?;
    let id = own_id("project", &id)?;
    let v = body.value;
    let name = input::line("name", &v.name, 200)?;
    if name.is_empty() {
        return Err(ApiError::invalid("name", "give the project a name"));
    }
    let status = input::optional_line("status", &v.status, 40)?.unwrap_or_default();
    let project = Project {
        customer_id: customer.clone(),
        id: id.clone(),
        name,
        description: input::optional_text("description", &v.description, 10_000)?
            .unwrap_or_default(),
        status: if status.is_empty() {
            "in progress".into()
        } else {
            status
        },
    };
    let audit = staff.audit(
        "project.put",
        Some(&customer),
        format!("customer {customer} project {id}"),
        json!({ "name": project.name, "status": project.status }),
    )?;
    let created = Projects::new(state.store.clone())
        .put(&project, audit)
        .await?;
    Ok((
        created_or_ok(created),
        Json(whole(&state, &customer, &id).await?),
    )
        .into_response())
}

#[utoipa::path(get, path = "/api/staff/customers/{id}/projects/{project}", tag = "staff", summary = "A project with its tasks, notes, contacts and documents, hidden ones included",
    params(("id" = String, Path, description = "The customer"), ("project" = String, Path, description = "The business's id for the project")),
    security(("api_key" = ["projects:read"])),
    responses((status = 200, description = "The project", body = StaffProject), (status = 401, description = "No key, or an unknown or revoked one", body = ErrorBody),
        (status = 403, description = "The key lacks projects:read", body = ErrorBody), (status = 404, description = "No such project", body = ErrorBody)))]
pub(crate) async fn get(
    State(state): State<AppState>,
    staff: Staff,
    Path((customer, id)): Path<(String, String)>,
) -> Result<Json<StaffProject>, ApiError> {
    staff.may("projects:read")?;
    let customer = own_id("id", &customer)?;
    let id = own_id("project", &id)?;
    Ok(Json(whole(&state, &customer, &id).await?))
}

#[utoipa::path(put, path = "/api/staff/customers/{id}/projects/{project}/tasks/{task}", tag = "staff", summary = "Create or update a task of a project (progress, hidden, order)",
    params(("id" = String, Path, description = "The customer"), ("project" = String, Path, description = "The project"), ("task" = String, Path, description = "The business's id for the task")),
    security(("api_key" = ["projects:write"])), request_body(content((TaskInput = "application/json"))),
    responses((status = 200, description = "Updated (or unchanged)", body = StaffProject), (status = 201, description = "Created", body = StaffProject),
        (status = 401, description = "No key, or an unknown or revoked one", body = ErrorBody), (status = 403, description = "The key lacks projects:write", body = ErrorBody),
        (status = 404, description = "No such project", body = ErrorBody), (status = 422, description = "A field is wrong; `field` names it", body = ErrorBody)))]
pub(crate) async fn put_task(
    State(state): State<AppState>,
    staff: Staff,
    Path((customer, project, id)): Path<(String, String, String)>,
    body: Input<TaskInput>,
) -> Result<Response, ApiError> {
    staff.may("projects:write")?;
    let customer = own_id("id", &customer)?;
    let project = own_id("project", &project)?;
    let id = own_id("task", &id)?;
    let v = body.value;
    let title = input::line("title", &v.title, 300)?;
    if title.is_empty() {
        return Err(ApiError::invalid("title", "give the task a title"));
    }
    if v.progress > 100 {
        return Err(ApiError::invalid(
            "progress",
            "give a percentage from 0 to 100",
        ));
    }
    if v.position > 999_999 {
        return Err(ApiError::invalid(
            "position",
            "give a number from 0 to 999999",
        ));
    }
    let task = Task {
        customer_id: customer.clone(),
        project_id: project.clone(),
        id: id.clone(),
        title,
        progress: v.progress,
        hidden: v.hidden,
        position: v.position,
    };
    let audit = staff.audit(
        "project.task",
        Some(&customer),
        format!("customer {customer} project {project} task {id}"),
        json!({ "title": task.title, "progress": task.progress, "hidden": task.hidden }),
    )?;
    let created = Projects::new(state.store.clone())
        .put_task(&task, audit)
        .await?;
    Ok((
        created_or_ok(created),
        Json(whole(&state, &customer, &project).await?),
    )
        .into_response())
}

#[utoipa::path(post, path = "/api/staff/customers/{id}/projects/{project}/notes", tag = "staff", summary = "Add a note to a project: shown to the customer, or hidden",
    params(("id" = String, Path, description = "The customer"), ("project" = String, Path, description = "The project")),
    security(("api_key" = ["projects:write"])), request_body(content((ProjectNoteInput = "application/json"))),
    responses((status = 201, description = "Added", body = StaffProject),
        (status = 401, description = "No key, or an unknown or revoked one", body = ErrorBody), (status = 403, description = "The key lacks projects:write", body = ErrorBody),
        (status = 404, description = "No such project", body = ErrorBody), (status = 422, description = "A field is wrong; `field` names it", body = ErrorBody)))]
pub(crate) async fn add_note(
    State(state): State<AppState>,
    staff: Staff,
    Path((customer, project)): Path<(String, String)>,
    body: Input<ProjectNoteInput>,
) -> Result<Response, ApiError> {
    staff.may("projects:write")?;
    let customer = own_id("id", &customer)?;
    let project = own_id("project", &project)?;
    let v = body.value;
    if v.body.trim().is_empty() {
        return Err(ApiError::invalid("body", "write something"));
    }
    let note = ProjectNote {
        customer_id: customer.clone(),
        project_id: project.clone(),
        id: new_id(),
        author: staff.actor(),
        body: input::text("body", &v.body, 10_000)?,
        hidden: v.hidden,
        created: now(),
    };
    let audit = staff.audit(
        "project.noted",
        Some(&customer),
        format!("customer {customer} project {project}"),
        json!({ "note": note.id, "hidden": note.hidden, "body": note.body }),
    )?;
    Projects::new(state.store.clone())
        .add_note(&note, audit)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(whole(&state, &customer, &project).await?),
    )
        .into_response())
}

#[utoipa::path(put, path = "/api/staff/customers/{id}/projects/{project}/contacts/{contact}", tag = "staff", summary = "Create or update a contact of a project",
    params(("id" = String, Path, description = "The customer"), ("project" = String, Path, description = "The project"), ("contact" = String, Path, description = "The business's id for the contact")),
    security(("api_key" = ["projects:write"])), request_body(content((ProjectContactInput = "application/json"))),
    responses((status = 200, description = "Stored", body = StaffProject),
        (status = 401, description = "No key, or an unknown or revoked one", body = ErrorBody), (status = 403, description = "The key lacks projects:write", body = ErrorBody),
        (status = 404, description = "No such project", body = ErrorBody), (status = 422, description = "A field is wrong; `field` names it", body = ErrorBody)))]
pub(crate) async fn put_contact(
    State(state): State<AppState>,
    staff: Staff,
    Path((customer, project, id)): Path<(String, String, String)>,
    body: Input<ProjectContactInput>,
) -> Result<Response, ApiError> {
    staff.may("projects:write")?;
    let customer = own_id("id", &customer)?;
    let project = own_id("project", &project)?;
    let id = own_id("contact", &id)?;
    let v = body.value;
    let name = input::line("name", &v.name, 200)?;
    if name.is_empty() {
        return Err(ApiError::invalid("name", "give the contact's name"));
    }
    let email = match v.email.as_deref() {
        Some(e) => input::optional_email("email", e)?,
        None => None,
    };
    let contact = ProjectContact {
        customer_id: customer.clone(),
        project_id: project.clone(),
        id: id.clone(),
        name,
        role: input::optional_line("role", &v.role, 100)?.unwrap_or_default(),
        email,
    };
    let audit = staff.audit(
        "project.contact",
        Some(&customer),
        format!("customer {customer} project {project} contact {id}"),
        json!({ "name": contact.name, "role": contact.role }),
    )?;
    Projects::new(state.store.clone())
        .put_contact(&contact, audit)
        .await?;
    Ok(Json(whole(&state, &customer, &project).await?).into_response())
}

/// A project in a customer's list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProjectRef {
    /// The business's id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Status.
    pub status: String,
}

#[utoipa::path(get, path = "/api/staff/customers/{id}/projects", tag = "staff", summary = "A customer's projects (up to 100)",
    params(("id" = String, Path, description = "The customer")),
    security(("api_key" = ["projects:read"])),
    responses((status = 200, description = "The projects, by id", body = Vec<ProjectRef>), (status = 401, description = "No key, or an unknown or revoked one", body = ErrorBody),
        (status = 403, description = "The key lacks projects:read", body = ErrorBody), (status = 422, description = "Not an id", body = ErrorBody)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    staff: Staff,
    Path(customer): Path<String>,
) -> Result<Json<Vec<ProjectRef>>, ApiError> {
    Ok(Json(projects_of(&state, &staff, &customer).await?))
}

/// The operation behind both doors: the projects of `customer`.
pub(crate) async fn projects_of(
    state: &AppState,
    staff: &Staff,
    customer: &str,
) -> Result<Vec<ProjectRef>, ApiError> {
    staff.may("projects:read")?;
    let customer = own_id("id", customer)?;
    let projects = Projects::new(state.store.clone());
    let (found, ()) = tokio::try_join!(
        async { Ok::<_, ApiError>(projects.of_customer(&customer).await?) },
        super::customers::must_exist(state, &customer)
    )?;
    Ok(found
        .into_iter()
        .map(|p| ProjectRef {
            id: p.id,
            name: p.name,
            status: p.status,
        })
        .collect())
}

/// The operation behind both doors: project `id` of `customer`, whole.
pub(crate) async fn project_of(
    state: &AppState,
    staff: &Staff,
    customer: &str,
    id: &str,
) -> Result<StaffProject, ApiError> {
    staff.may("projects:read")?;
    let customer = own_id("id", customer)?;
    let id = own_id("project", id)?;
    whole(state, &customer, &id).await
}
