//! A customer's projects: tasks with progress, documents, notes and contacts, as JSON and
//! as a page; notes and documents added by the customer. Hidden tasks and hidden notes are
//! dropped here, before anything is serialised, so no response can carry them.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use portal_core::records::projects::{Project, ProjectDocument, ProjectNote, Projects};
use portal_core::records::{new_id, to_item, RecordError};
use portal_core::store::{now, Cond, Write};
use serde::{Deserialize, Serialize};

use super::page::with_csrf;
use crate::auth::{Part, SignedIn};
use crate::error::ApiError;
#[allow(unused_imports)]
use crate::error::{ErrorBody, MessageBody};
use crate::input::{self, WithFiles};
use crate::pages::date_text;
use crate::state::AppState;
use crate::uploads;
use crate::view::{done_now, Door, View};

use super::files::*;

/// A project as its customer sees it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProjectView {
    /// Identifier.
    pub id: String,
    /// Name.
    pub name: String,
    /// What it is about.
    pub description: String,
    /// Status.
    pub status: String,
    /// Visible tasks in order.
    pub tasks: Vec<TaskView>,
    /// Mean progress of the visible tasks, in percent.
    pub progress: u8,
    /// Documents (those that came with a note are under the note).
    pub documents: Vec<FileView>,
    /// Visible notes, oldest first.
    pub notes: Vec<NoteView>,
    /// The people on it.
    pub contacts: Vec<ContactView>,
}

/// A task.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TaskView {
    /// Title.
    pub title: String,
    /// Progress in percent.
    pub progress: u8,
}

/// A note.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = ProjectNoteView)]
pub struct NoteView {
    /// Who wrote it.
    pub author: String,
    /// Text.
    pub body: String,
    /// As people read it.
    pub created_text: String,
    /// Files that came with it.
    pub files: Vec<FileView>,
}

/// A person on a project.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ContactView {
    /// Name.
    pub name: String,
    /// Role.
    pub role: String,
    /// E-mail address, if shared.
    pub email: Option<String>,
}

pub(super) async fn own_project(
    state: &AppState,
    who: &SignedIn,
    id: &str,
) -> Result<Project, ApiError> {
    Projects::new(state.store.clone())
        .get(&who.session.customer_id, id)
        .await?
        .ok_or_else(|| ApiError::NotFound("there is no such project in your account".into()))
}

pub(super) async fn project_view(state: &AppState, p: Project) -> Result<ProjectView, ApiError> {
    let parts = Projects::new(state.store.clone()).parts(&p).await?;
    let (tasks, docs, notes, contacts) =
        (parts.tasks, parts.documents, parts.notes, parts.contacts);
    let tasks: Vec<TaskView> = tasks
        .into_iter()
        .filter(|t| !t.hidden)
        .map(|t| TaskView {
            title: t.title,
            progress: t.progress.min(100),
        })
        .collect();
    let progress = if tasks.is_empty() {
        0
    } else {
        (tasks.iter().map(|t| u32::from(t.progress)).sum::<u32>() / tasks.len() as u32) as u8
    };
    let file = |d: &ProjectDocument| FileView {
        url: format!("/api/my/projects/{}/documents/{}", p.id, d.id),
        id: d.id.clone(),
        file_name: d.file_name.clone(),
        media_type: d.media_type.clone(),
        size: d.size,
    };
    Ok(ProjectView {
        documents: docs.iter().filter(|d| d.note.is_none()).map(file).collect(),
        notes: notes
            .into_iter()
            .filter(|n| !n.hidden)
            .map(|n| NoteView {
                files: docs
                    .iter()
                    .filter(|d| d.note.as_deref() == Some(n.id.as_str()))
                    .map(file)
                    .collect(),
                author: n.author,
                body: n.body,
                created_text: date_text(n.created),
            })
            .collect(),
        contacts: contacts
            .into_iter()
            .map(|c| ContactView {
                name: c.name,
                role: c.role,
                email: c.email,
            })
            .collect(),
        id: p.id,
        name: p.name,
        description: p.description,
        status: p.status,
        tasks,
        progress,
    })
}

#[utoipa::path(get, path = "/api/my/projects", tag = "account", summary = "This customer's projects with tasks, documents, notes and contacts (hidden tasks and notes left out)",
    responses((status = 200, description = "Projects", body = Vec<ProjectView>), (status = 401, description = "Not logged in", body = ErrorBody), (status = 403, description = "This login may not see the account's projects", body = ErrorBody)))]
pub(crate) async fn projects_json(
    State(state): State<AppState>,
    who: SignedIn,
) -> Result<Response, ApiError> {
    who.may_see(Part::Projects)?;
    Ok(Json(projects(&state, &who).await?).into_response())
}

/// The customer's projects.
pub(crate) async fn projects(
    state: &AppState,
    who: &SignedIn,
) -> Result<Vec<ProjectView>, ApiError> {
    let list = Projects::new(state.store.clone())
        .of_customer(&who.session.customer_id)
        .await?;
    let mut out = Vec::with_capacity(list.len());
    for p in list {
        out.push(project_view(state, p).await?);
    }
    Ok(out)
}

#[utoipa::path(get, path = "/api/my/projects/{id}", tag = "account", summary = "One project",
    params(("id" = String, Path, description = "The project")),
    responses((status = 200, description = "The project", body = ProjectView), (status = 401, description = "Not logged in", body = ErrorBody), (status = 404, description = "Not in this account", body = ErrorBody), (status = 403, description = "This login may not see the account's projects", body = ErrorBody)))]
pub(crate) async fn project(
    State(state): State<AppState>,
    who: SignedIn,
    door: Door,
    Path(id): Path<String>,
) -> Result<View<ProjectView>, ApiError> {
    who.may_see(Part::Projects)?;
    let p = own_project(&state, &who, &id).await?;
    let title = p.name.clone();
    let v = View::new(project_view(&state, p).await?, "my/project.html", "project")
        .titled("account", title, "/my/");
    with_csrf(v, door, &state, &who).await
}

/// A note on a project.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ProjectNote)]
pub struct NewNote {
    /// Text.
    #[serde(default)]
    #[schema(
        required = true,
        pattern = "rule:text",
        min_length = 1,
        max_length = 20_000
    )]
    pub body: String,
}

#[utoipa::path(post, path = "/api/my/projects/{id}/notes", tag = "account", summary = "Add a note, with files (multipart, field `attachments`; the attachment rules apply), to a project",
    params(("id" = String, Path, description = "The project")),
    request_body(content((NewNote = "application/json"), (NewNote = "application/x-www-form-urlencoded"), (NewNote = "multipart/form-data"))),
    responses((status = 201, description = "Added", body = ProjectView), (status = 303, description = "From a form: back to the project"),
        (status = 401, description = "Not logged in", body = ErrorBody), (status = 404, description = "Not in this account", body = ErrorBody), (status = 422, description = "Empty, or a file refused", body = ErrorBody), (status = 403, description = "This login may not see the account's projects", body = ErrorBody)))]
pub(crate) async fn add_note(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<String>,
    body: WithFiles<NewNote>,
) -> Result<Response, ApiError> {
    who.may_see(Part::Projects)?;
    let p = own_project(&state, &who, &id).await?;
    if let Some(f) = body.files.iter().find(|f| f.field != "attachments") {
        return Err(ApiError::invalid(
            &f.field,
            "is not a file field of this form",
        ));
    }
    let note = ProjectNote {
        customer_id: p.customer_id.clone(),
        project_id: p.id.clone(),
        id: new_id(),
        author: who.session.email.clone(),
        body: input::text("body", &body.value.body, 20_000)?,
        hidden: false,
        created: now(),
    };
    let stored = uploads::receive(&state, "attachments", body.files, &body.uploaded).await?;
    let mut writes = vec![Write::Put(to_item(&note)?, Cond::NotExists)];
    writes.extend(document_writes(&p, &who, &stored, Some(&note.id))?);
    if let Some(e) = crate::issues::file::uploaded_event(
        &who.session.email,
        Some(p.customer_id.clone()),
        &format!("project {}", p.id),
        Some(&note.id),
        &stored,
    ) {
        writes.push(e.write()?);
    }
    uploads::keep_with(&state, &stored, async {
        Ok::<_, RecordError>(state.store.transact(writes).await?)
    })
    .await?;
    Ok(done_now(
        body.from_form,
        &format!("/my/projects/{id}"),
        StatusCode::CREATED,
        &project_view(&state, p).await?,
    ))
}

/// The form a document is uploaded with: the file goes in `file`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Upload {}

#[utoipa::path(post, path = "/api/my/projects/{id}/documents", tag = "account", summary = "Upload documents to a project (multipart, field `file`; the attachment rules apply)",
    params(("id" = String, Path, description = "The project")),
    request_body(content((Upload = "multipart/form-data"))),
    responses((status = 201, description = "Stored", body = ProjectView), (status = 303, description = "From a form: back to the project"),
        (status = 401, description = "Not logged in", body = ErrorBody), (status = 404, description = "Not in this account", body = ErrorBody), (status = 422, description = "No file, or a file refused", body = ErrorBody), (status = 403, description = "This login may not see the account's projects", body = ErrorBody)))]
pub(crate) async fn upload(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<String>,
    body: WithFiles<Upload>,
) -> Result<Response, ApiError> {
    who.may_see(Part::Projects)?;
    let p = own_project(&state, &who, &id).await?;
    if let Some(f) = body.files.iter().find(|f| f.field != "file") {
        return Err(ApiError::invalid(
            &f.field,
            "is not a file field of this form",
        ));
    }
    if body.files.is_empty() && body.uploaded.is_empty() {
        return Err(ApiError::invalid("file", "choose a file to upload"));
    }
    let stored = uploads::receive(&state, "file", body.files, &body.uploaded).await?;
    let mut writes = document_writes(&p, &who, &stored, None)?;
    if let Some(e) = crate::issues::file::uploaded_event(
        &who.session.email,
        Some(p.customer_id.clone()),
        &format!("project {}", p.id),
        None,
        &stored,
    ) {
        writes.push(e.write()?);
    }
    uploads::keep_with(&state, &stored, async {
        Ok::<_, RecordError>(state.store.transact(writes).await?)
    })
    .await?;
    Ok(done_now(
        body.from_form,
        &format!("/my/projects/{id}"),
        StatusCode::CREATED,
        &project_view(&state, p).await?,
    ))
}

/// The records of files `stored` on project `p` by the session's login, with `note` if they
/// came with one.
fn document_writes(
    p: &Project,
    who: &SignedIn,
    stored: &[uploads::StoredFile],
    note: Option<&str>,
) -> Result<Vec<Write>, ApiError> {
    let mut writes = Vec::with_capacity(stored.len());
    for f in stored {
        let doc = ProjectDocument {
            customer_id: p.customer_id.clone(),
            project_id: p.id.clone(),
            id: f.key.clone(),
            file_name: f.file_name.clone(),
            media_type: f.media_type.to_string(),
            size: f.size,
            uploaded_by: who.session.email.clone(),
            created: now(),
            note: note.map(str::to_string),
        };
        writes.push(Write::Put(to_item(&doc)?, Cond::NotExists));
    }
    Ok(writes)
}

#[utoipa::path(get, path = "/api/my/projects/{id}/documents/{doc}", tag = "account", summary = "Download a project document",
    params(("id" = String, Path, description = "The project"), ("doc" = String, Path, description = "The document")),
    responses((status = 200, description = "The file, as an attachment", content_type = "application/octet-stream"), (status = 401, description = "Not logged in", body = ErrorBody), (status = 404, description = "Not in this account", body = ErrorBody), (status = 403, description = "This login may not see the account's projects", body = ErrorBody)))]
pub(crate) async fn project_document(
    State(state): State<AppState>,
    who: SignedIn,
    Path((id, doc)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    who.may_see(Part::Projects)?;
    let p = own_project(&state, &who, &id).await?;
    let parts = Projects::new(state.store.clone()).parts(&p).await?;
    // A file that came with a note staff hid is as hidden as the note.
    let shown = |d: &ProjectDocument| {
        d.note
            .as_deref()
            .is_none_or(|note| parts.notes.iter().any(|n| n.id == note && !n.hidden))
    };
    let d = parts
        .documents
        .into_iter()
        .find(|d| d.id == doc && shown(d))
        .ok_or_else(|| ApiError::NotFound("there is no such document on this project".into()))?;
    download(&state, &d.id, &d.file_name, &d.media_type).await
}

#[utoipa::path(get, path = "/my/projects/{id}", tag = "account", summary = "A project (HTML)",
    params(("id" = String, Path, description = "The project")),
    responses((status = 200, description = "The page", content_type = "text/html"), (status = 303, description = "Not logged in: to /login"), (status = 404, description = "Not in this account", content_type = "text/html")))]
#[allow(dead_code)]
pub(crate) fn project_page() {}
