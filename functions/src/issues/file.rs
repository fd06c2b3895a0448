//! Filing an issue in a public binder: the checks, the files, the tracking number, and the
//! issue, its files, its mail and its answer written in one transaction.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use portal_core::records::issues::{Attachment, Issue, IssueKind, Issues};
use portal_core::records::outbox::Mail;
use portal_core::records::to_item;
use portal_core::store::{Cond, Write};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
#[allow(unused_imports)]
use crate::error::{ErrorBody, MessageBody};
use crate::idempotent::{Answer, Idem};
use crate::input::{self, WithFiles};
use crate::state::AppState;
use crate::uploads;

/// What a visitor sends to file an issue.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewIssue {
    /// The binder; the first public one when left out.
    #[serde(default)]
    pub binder: Option<String>,
    /// Name.
    #[serde(default)]
    #[schema(required = true, schema_with = crate::input::line_schema)]
    pub name: String,
    /// E-mail address.
    #[serde(default)]
    #[schema(required = true, schema_with = crate::input::email_schema)]
    pub email: String,
    /// Subject.
    #[serde(default)]
    #[schema(required = true, schema_with = crate::input::line_schema)]
    pub subject: String,
    /// What happened.
    #[serde(default)]
    #[schema(required = true, schema_with = crate::input::text_schema)]
    pub description: String,
    /// One of the binder's categories, if any.
    #[serde(default)]
    pub category: Option<String>,
    /// The honeypot: people leave it empty.
    #[serde(default)]
    #[serde(deserialize_with = "crate::input::text_only")]
    #[schema(schema_with = crate::input::honeypot_schema)]
    pub website: Option<String>,
}

/// The answer to a filing.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Filed {
    /// Tracking number.
    pub number: String,
    /// The private tracking link.
    pub tracking_url: String,
    /// Status.
    pub status: String,
}

#[utoipa::path(post, path = "/api/issues", tag = "issues", summary = "File an issue in a public binder", request_body(content((NewIssue = "application/json"), (NewIssue = "application/x-www-form-urlencoded"), (NewIssue = "multipart/form-data")), description = "The issue; up to 5 files (png, jpeg, gif, pdf, txt, log, csv, docx, xlsx, pptx, odt, ods, zip — judged by content, macro-enabled documents and archives holding programs refused; 10 MB each) sent in `attachments` (multipart) or uploaded beforehand (`POST /api/uploads`) and named by their tokens in `uploads`"), responses((status = 201, description = "Filed; the tracking link is also e-mailed", body = Filed), (status = 303, description = "From a form: to the tracking page"), (status = 404, description = "No public binder", body = ErrorBody), (status = 422, description = "A field is missing or wrong; `field` names it", body = ErrorBody), (status = 429, description = "Too many requests from this address or for this e-mail address", body = ErrorBody), (status = 503, description = "Not done, or not known to be done (the store was busy or failed); `Retry-After` says when to send the same request, with the same `Idempotency-Key`, again", body = ErrorBody)))]
pub(crate) async fn file(
    State(state): State<AppState>,
    idem: Idem,
    body: WithFiles<NewIssue>,
) -> Result<Response, ApiError> {
    let form = body.from_form;
    let v = body.value;
    if let Some(f) = body.files.iter().find(|f| f.field != "attachments") {
        return Err(ApiError::invalid(
            &f.field,
            "is not a file field of this form",
        ));
    }
    let (sent, uploaded) = (body.files, body.uploaded);
    input::honeypot(v.website.as_deref())?;
    let site = state.site();
    let settings = site.settings();
    let binder = match v.binder.as_deref().map(str::trim).filter(|b| !b.is_empty()) {
        Some(id) => settings
            .binders
            .iter()
            .find(|b| b.id == id && b.public)
            .ok_or_else(|| ApiError::invalid("binder", format!("`{id}` is not a public binder")))?,
        None => settings
            .binders
            .iter()
            .find(|b| b.public)
            .ok_or_else(|| ApiError::NotFound("this portal takes no public issues".into()))?,
    };
    let category = category(binder, v.category.as_deref())?;
    let issue = Issue {
        id: String::new(),
        number: String::new(),
        kind: IssueKind::Ticket,
        binder: binder.id.clone(),
        customer_id: None,
        category,
        subject: input::line("subject", &v.subject, 200)?,
        description: input::text("description", &v.description, 20_000)?,
        name: input::line("name", &v.name, 200)?,
        email: input::email("email", &v.email)?,
        status: "new".into(),
        history: Vec::new(),
        created: 0,
        assignee: None,
        updated: 0,
    };
    crate::guard::limit_email(&state, &issue.email).await?;
    // The files go first, under fresh random keys (or are checked where they were uploaded);
    // the issue's transaction then records them, and if it fails they are removed again.
    let stored = uploads::receive(&state, "attachments", sent, &uploaded).await?;
    let year = portal_core::records::utc_year(portal_core::store::now());
    let (base, business) = (settings.base_url.clone(), settings.business.clone());
    let issues = Issues::new(state.store.clone());
    let filed = issues.file_with(issue, &settings.tracking_prefix, year, |issue, token| {
            let mut writes = Vec::new();
            for a in attachments(&issue.id, None, issue.created, &stored) {
                writes.push(Write::Put(to_item(&a)?, Cond::NotExists));
            }
            let mail = Mail::new(
                &issue.email,
                // Nothing the visitor typed goes into a mail to an address nobody has
                // confirmed: the form cannot carry a message to a stranger.
                format!("[{}] Your issue was received", issue.number),
                format!(
                    "Hello,\n\nthank you for contacting {business}. Your issue has the number {}.\n\nFollow it and add information here:\n{base}/track/{token}\n\nKeep this link private: anyone with it can read the issue. If you did not contact us, you can ignore this e-mail.\n",
                    issue.number
                ),
            );
            writes.push(Write::Put(to_item(&mail)?, Cond::NotExists));
            writes.extend(crate::notify::filed(settings, issue)?);
            writes.push(filed_event("visitor", issue).write()?);
            if let Some(e) = uploaded_event(
                "visitor",
                None,
                &format!("issue {}", issue.number),
                None,
                &stored,
            ) {
                writes.push(e.write()?);
            }
            writes.extend(idem.record(&filed_answer(issue, token, &base, form))?);
            Ok(writes)
                });
    let (issue, token) = uploads::keep_with(&state, &stored, filed).await?;
    state.deliver_mail().await;
    Ok(idem.respond(filed_answer(&issue, &token, &base, form)))
}

/// The answer to a filing: to the tracking page for a form, the number and link for JSON.
pub(super) fn filed_answer(issue: &Issue, token: &str, base: &str, form: bool) -> Answer {
    let filed = Filed {
        number: issue.number.clone(),
        tracking_url: format!("{base}/track/{token}"),
        status: issue.status.clone(),
    };
    crate::view::done(
        form,
        &format!("/track/{token}"),
        StatusCode::CREATED,
        &filed,
    )
}

/// The change-feed event of a filing by `actor`.
pub(crate) fn filed_event(actor: &str, issue: &Issue) -> portal_core::records::feed::Event {
    portal_core::records::feed::Event::new(
        "issue.filed",
        actor,
        issue.customer_id.clone(),
        format!("issue {}", issue.number),
        serde_json::json!({
            "number": issue.number,
            "binder": issue.binder,
            "category": issue.category,
            "subject": issue.subject,
            "name": issue.name,
            "email": issue.email,
            "status": issue.status,
        }),
    )
}

/// The attachment records of `files` sent with issue `issue_id` (with its note `note_id`,
/// if with a note) at `created`.
pub(crate) fn attachments(
    issue_id: &str,
    note_id: Option<&str>,
    created: i64,
    files: &[crate::uploads::StoredFile],
) -> Vec<Attachment> {
    files
        .iter()
        .map(|f| Attachment {
            issue_id: issue_id.to_string(),
            id: f.key.clone(),
            file_name: f.file_name.clone(),
            media_type: f.media_type.to_string(),
            size: f.size,
            note_id: note_id.map(str::to_string),
            created,
        })
        .collect()
}

/// The change-feed event of `files` that `actor` sent with something of `customer`
/// (`about`, e.g. `issue KST-2026-000123`): one `file.uploaded` for all of them (one write,
/// whatever their number), none without files.
pub(crate) fn uploaded_event(
    actor: &str,
    customer: Option<String>,
    about: &str,
    note: Option<&str>,
    files: &[crate::uploads::StoredFile],
) -> Option<portal_core::records::feed::Event> {
    (!files.is_empty()).then(|| {
        portal_core::records::feed::Event::new(
            "file.uploaded",
            actor,
            customer,
            about,
            serde_json::json!({
                "note": note,
                "files": files
                    .iter()
                    .map(|f| serde_json::json!({
                        "file": f.key, "file_name": f.file_name,
                        "media_type": f.media_type, "size": f.size,
                    }))
                    .collect::<Vec<_>>(),
            }),
        )
    })
}

/// The change-feed event of a note the submitter (`actor`) added to `issue`.
pub(crate) fn noted_event(
    actor: &str,
    issue: &Issue,
    note: &portal_core::records::issues::Note,
) -> portal_core::records::feed::Event {
    portal_core::records::feed::Event::new(
        "issue.noted",
        actor,
        issue.customer_id.clone(),
        format!("issue {}", issue.number),
        serde_json::json!({ "number": issue.number, "note": note.id, "public": true, "body": note.body }),
    )
}

/// The category a form names, if any, checked against the binder's list.
pub(crate) fn category(
    binder: &crate::state::BinderSettings,
    value: Option<&str>,
) -> Result<Option<String>, ApiError> {
    match value.map(str::trim).filter(|c| !c.is_empty()) {
        Some(c) if binder.categories.is_empty() || binder.categories.iter().any(|k| k == c) => {
            Ok(Some(c.to_string()))
        }
        Some(c) => Err(ApiError::invalid(
            "category",
            format!("`{c}` is not a category of {}", binder.name),
        )),
        None => Ok(None),
    }
}
