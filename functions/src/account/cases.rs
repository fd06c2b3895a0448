//! A customer's service cases and software bugs: filing one in a secured binder, reading its
//! public notes, adding notes, and closing or reopening it. An issue is found by its number
//! and shown only when it belongs to the session's customer.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use portal_core::records::customers::Customers;
use portal_core::records::issues::{Issue, IssueKind, Issues, Note};
use portal_core::records::{new_id, to_item, Versioned};
use portal_core::store::{now, Cond, Write};
use serde::{Deserialize, Serialize};

use super::page::with_csrf;
use crate::auth::SignedIn;
use crate::error::ApiError;
#[allow(unused_imports)]
use crate::error::{ErrorBody, MessageBody};
use crate::input::{self, Input, WithFiles, CUSTOMER_STATUSES};
use crate::pages::date_text;
use crate::state::AppState;
use crate::view::{done_now, Door, View};

/// A new case or bug.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCase {
    /// A secured binder: `cases` for a service case, `bugs` for a software bug.
    #[serde(default)]
    #[schema(
        required = true,
        pattern = "rule:line",
        min_length = 1,
        max_length = 200
    )]
    pub binder: String,
    /// Subject.
    #[serde(default)]
    #[schema(
        required = true,
        pattern = "rule:line",
        min_length = 1,
        max_length = 200
    )]
    pub subject: String,
    /// What happened.
    #[serde(default)]
    #[schema(
        required = true,
        pattern = "rule:text",
        min_length = 1,
        max_length = 20_000
    )]
    pub description: String,
    /// One of the binder's categories, if it has any.
    #[serde(default)]
    pub category: Option<String>,
}

/// An issue as its customer sees it: public notes only.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CaseView {
    /// Number.
    pub number: String,
    /// `case`, `bug` or `ticket`.
    pub kind: String,
    /// Binder.
    pub binder: String,
    /// Subject.
    pub subject: String,
    /// What was reported.
    pub description: String,
    /// Status.
    pub status: String,
    /// Filed, Unix seconds.
    pub created: i64,
    /// Public notes, oldest first.
    pub notes: Vec<NoteView>,
    /// Files sent with the issue and its notes.
    pub attachments: Vec<super::files::FileView>,
}

/// A public note.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = CaseNoteView)]
pub struct NoteView {
    /// Who wrote it.
    pub author: String,
    /// Text.
    pub body: String,
    /// Unix seconds.
    pub created: i64,
    /// As people read it.
    pub created_text: String,
}

async fn own_issue(
    state: &AppState,
    who: &SignedIn,
    number: &str,
) -> Result<Versioned<Issue>, ApiError> {
    let gone = || ApiError::NotFound("there is no such issue in your account".into());
    if number.len() > 40 {
        return Err(gone());
    }
    Issues::new(state.store.clone())
        .by_number(number)
        .await?
        .filter(|i| i.record.customer_id.as_deref() == Some(who.session.customer_id.as_str()))
        // A login that sees only its own issues is told another's does not exist.
        .filter(|i| who.sees_issue_of(&i.record.email))
        .ok_or_else(gone)
}

async fn view(state: &AppState, issue: &Issue) -> Result<CaseView, ApiError> {
    let attachments = Issues::new(state.store.clone())
        .attachments(&issue.id, false)
        .await?
        .into_iter()
        .map(|a| super::files::FileView {
            url: format!("/api/my/issues/{}/attachments/{}", issue.number, a.id),
            id: a.id,
            file_name: a.file_name,
            media_type: a.media_type,
            size: a.size,
        })
        .collect();
    let notes = Issues::new(state.store.clone())
        .notes(&issue.id, false)
        .await?
        .into_iter()
        .map(|n| NoteView {
            created_text: date_text(n.created),
            author: n.author,
            body: n.body,
            created: n.created,
        })
        .collect();
    Ok(CaseView {
        number: issue.number.clone(),
        kind: match issue.kind {
            IssueKind::Ticket => "ticket",
            IssueKind::Case => "case",
            IssueKind::Bug => "bug",
        }
        .into(),
        binder: issue.binder.clone(),
        subject: issue.subject.clone(),
        description: issue.description.clone(),
        status: issue.status.clone(),
        created: issue.created,
        notes,
        attachments,
    })
}

/// The name a login writes under: its contact's name, or its address.
async fn author(state: &AppState, who: &SignedIn) -> Result<String, ApiError> {
    let customers = Customers::new(state.store.clone());
    let login = customers.login(&who.session.email).await?;
    let contact = match login {
        Some(l) => customers
            .contacts(&who.session.customer_id)
            .await?
            .into_iter()
            .find(|c| c.id == l.record.contact_id),
        None => None,
    };
    Ok(contact
        .map(|c| c.name)
        .unwrap_or_else(|| who.session.email.clone()))
}

#[utoipa::path(post, path = "/api/my/issues", tag = "account", summary = "File a service case or a software bug",
    request_body(content((NewCase = "application/json"), (NewCase = "application/x-www-form-urlencoded"))),
    responses((status = 201, description = "Filed", body = CaseView), (status = 303, description = "From a form: to the issue"),
        (status = 401, description = "Not logged in", body = ErrorBody), (status = 422, description = "A field is wrong", body = ErrorBody)))]
pub(crate) async fn file(
    State(state): State<AppState>,
    who: SignedIn,
    body: Input<NewCase>,
) -> Result<Response, ApiError> {
    let v = &body.value;
    let site = state.site();
    let settings = site.settings();
    let binder = settings
        .binders
        .iter()
        .find(|b| b.id == v.binder.trim() && !b.public)
        .ok_or_else(|| {
            ApiError::invalid(
                "binder",
                format!("`{}` is not a binder of the customer area", v.binder.trim()),
            )
        })?;
    let category = crate::issues::category(binder, v.category.as_deref())?;
    let issue = Issue {
        id: String::new(),
        number: String::new(),
        kind: if binder.id == "bugs" {
            IssueKind::Bug
        } else {
            IssueKind::Case
        },
        binder: binder.id.clone(),
        customer_id: Some(who.session.customer_id.clone()),
        category,
        subject: input::line("subject", &v.subject, 200)?,
        description: input::text("description", &v.description, 20_000)?,
        name: author(&state, &who).await?,
        email: who.session.email.clone(),
        status: "open".into(),
        history: Vec::new(),
        created: 0,
        assignee: None,
        updated: 0,
    };
    let year = portal_core::records::utc_year(now());
    let (filed, _) = Issues::new(state.store.clone())
        .file_with(issue, &settings.tracking_prefix, year, |issue, _| {
            let mut writes = crate::notify::filed(settings, issue)?;
            writes.push(crate::issues::file::filed_event(&issue.email, issue).write()?);
            Ok(writes)
        })
        .await?;
    state.deliver_mail().await;
    Ok(done_now(
        body.from_form,
        &format!("/my/issues/{}", filed.number),
        StatusCode::CREATED,
        &view(&state, &filed).await?,
    ))
}

#[utoipa::path(get, path = "/api/my/issues/{number}", tag = "account", summary = "One of this customer's issues with its public notes",
    params(("number" = String, Path, description = "The issue's number")),
    responses((status = 200, description = "The issue", body = CaseView), (status = 401, description = "Not logged in", body = ErrorBody), (status = 404, description = "Not in this account", body = ErrorBody)))]
pub(crate) async fn case(
    State(state): State<AppState>,
    who: SignedIn,
    door: Door,
    Path(number): Path<String>,
) -> Result<View<CaseView>, ApiError> {
    let issue = own_issue(&state, &who, &number).await?;
    let v = View::new(view(&state, &issue.record).await?, "my/issue.html", "issue").titled(
        "account",
        format!("Issue {number}"),
        "/my/",
    );
    with_csrf(v, door, &state, &who).await
}

/// A note from the customer.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CaseNote)]
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

#[utoipa::path(post, path = "/api/my/issues/{number}/notes", tag = "account", summary = "Add a note, with files (multipart, field `attachments`), to one of this customer's issues",
    params(("number" = String, Path, description = "The issue's number")),
    request_body(content((NewNote = "application/json"), (NewNote = "application/x-www-form-urlencoded"), (NewNote = "multipart/form-data"))),
    responses((status = 201, description = "Added", body = CaseView), (status = 303, description = "From a form: back to the issue"),
        (status = 401, description = "Not logged in", body = ErrorBody), (status = 404, description = "Not in this account", body = ErrorBody), (status = 422, description = "Empty", body = ErrorBody)))]
pub(crate) async fn add_note(
    State(state): State<AppState>,
    who: SignedIn,
    Path(number): Path<String>,
    body: WithFiles<NewNote>,
) -> Result<Response, ApiError> {
    let issue = own_issue(&state, &who, &number).await?;
    if let Some(f) = body.files.iter().find(|f| f.field != "attachments") {
        return Err(ApiError::invalid(
            &f.field,
            "is not a file field of this form",
        ));
    }
    let note = Note {
        issue_id: issue.record.id.clone(),
        id: new_id(),
        author: author(&state, &who).await?,
        body: input::text("body", &body.value.body, 20_000)?,
        public: true,
        created: now(),
    };
    let stored = crate::uploads::receive(&state, "attachments", body.files, &body.uploaded).await?;
    let mut extra = Vec::new();
    for a in crate::issues::file::attachments(&note.issue_id, Some(&note.id), note.created, &stored)
    {
        extra.push(Write::Put(to_item(&a)?, Cond::NotExists));
    }
    extra.extend(crate::notify::noted(
        state.site().settings(),
        &issue.record,
        &note,
    )?);
    extra.push(crate::issues::file::noted_event(&who.session.email, &issue.record, &note).write()?);
    if let Some(e) = crate::issues::file::uploaded_event(
        &who.session.email,
        issue.record.customer_id.clone(),
        &format!("issue {number}"),
        Some(&note.id),
        &stored,
    ) {
        extra.push(e.write()?);
    }
    crate::uploads::keep_with(
        &state,
        &stored,
        Issues::new(state.store.clone()).add_note_with(&issue.record.binder, &note, extra),
    )
    .await?;
    state.deliver_mail().await;
    Ok(done_now(
        body.from_form,
        &format!("/my/issues/{number}"),
        StatusCode::CREATED,
        &view(&state, &issue.record).await?,
    ))
}

/// A status change.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CaseStatusChange)]
pub struct StatusChange {
    /// `closed` or `open`.
    #[serde(default)]
    #[schema(required = true, pattern = "rule:case-status")]
    pub status: String,
}

#[utoipa::path(post, path = "/api/my/issues/{number}/status", tag = "account", summary = "Close or reopen one of this customer's issues",
    params(("number" = String, Path, description = "The issue's number")),
    request_body(content((StatusChange = "application/json"), (StatusChange = "application/x-www-form-urlencoded"))),
    responses((status = 200, description = "Changed", body = CaseView), (status = 303, description = "From a form: back to the issue"),
        (status = 401, description = "Not logged in", body = ErrorBody), (status = 404, description = "Not in this account", body = ErrorBody),
        (status = 409, description = "Changed meanwhile", body = ErrorBody), (status = 422, description = "Not a status a customer may set", body = ErrorBody)))]
pub(crate) async fn set_status(
    State(state): State<AppState>,
    who: SignedIn,
    Path(number): Path<String>,
    body: Input<StatusChange>,
) -> Result<Response, ApiError> {
    let status = body.value.status.as_str();
    if !CUSTOMER_STATUSES.contains(&status) {
        return Err(ApiError::invalid(
            "status",
            format!("`{status}` is not one of {}", CUSTOMER_STATUSES.join(", ")),
        ));
    }
    let issue = own_issue(&state, &who, &number).await?;
    let event = portal_core::records::feed::Event::new(
        "issue.status",
        who.session.email.clone(),
        issue.record.customer_id.clone(),
        format!("issue {}", issue.record.number),
        serde_json::json!({ "number": issue.record.number, "from": issue.record.status, "to": status }),
    );
    let changed = Issues::new(state.store.clone())
        .set_status_with(&issue, status, &who.session.email, vec![event.write()?])
        .await?;
    Ok(done_now(
        body.from_form,
        &format!("/my/issues/{number}"),
        StatusCode::OK,
        &view(&state, &changed).await?,
    ))
}

#[utoipa::path(get, path = "/my/issues/{number}", tag = "account", summary = "One of this customer's issues (HTML)",
    params(("number" = String, Path, description = "The issue's number")),
    responses((status = 200, description = "The page", content_type = "text/html"), (status = 303, description = "Not logged in: to /login"), (status = 404, description = "Not in this account", content_type = "text/html")))]
#[allow(dead_code)]
pub(crate) fn case_page() {}

#[utoipa::path(get, path = "/api/my/issues/{number}/attachments/{id}", tag = "account", summary = "Download a file of one of this customer's issues",
    params(("number" = String, Path, description = "The issue's number"), ("id" = String, Path, description = "The file")),
    responses((status = 200, description = "The file, as an attachment", content_type = "application/octet-stream"), (status = 401, description = "Not logged in", body = ErrorBody), (status = 404, description = "Not in this account", body = ErrorBody)))]
pub(crate) async fn attachment(
    State(state): State<AppState>,
    who: SignedIn,
    Path((number, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let issue = own_issue(&state, &who, &number).await?;
    let a = Issues::new(state.store.clone())
        .attachments(&issue.record.id, false)
        .await?
        .into_iter()
        .find(|a| a.id == id)
        .ok_or_else(|| ApiError::NotFound("this issue has no such file".into()))?;
    super::files::download(&state, &a.id, &a.file_name, &a.media_type).await
}
