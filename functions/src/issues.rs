//! The `issues` function: a visitor files an issue in a public binder and follows it with a
//! private tracking link.
//!
//! - `POST /api/issues` — JSON answers `201` with the tracking number and link; a form post
//!   answers `303` to the tracking page. An e-mail with the link is written in the same
//!   transaction as the issue.
//! - `GET /api/track/{token}` — status, status history and public notes as JSON.
//! - `GET /track/{token}` — the same as a page.
//! - `POST /api/track/{token}/notes` — the submitter adds information (a public note).
//! - `POST /api/track/resend` — tracking number and e-mail address: if they belong together a
//!   new link is mailed; the answer is the same either way, so it reveals nothing.
//!
//! Tracking answers carry `Referrer-Policy: no-referrer` and `X-Robots-Tag: noindex`.

use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use portal_core::records::issues::{Attachment, Issue, IssueKind, Issues, StatusChange};
use portal_core::records::outbox::Mail;
use portal_core::records::to_item;
use portal_core::store::{Cond, Write};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
#[allow(unused_imports)]
use crate::error::{ErrorBody, MessageBody};
use crate::idempotent::{self, Answer, Idem};
use crate::input::{self, Input, WithFiles};
use crate::pages::{date_text, Message};
use crate::state::AppState;
use crate::uploads;

/// The group's routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/issues",
            post(file).layer(DefaultBodyLimit::max(uploads::MAX_MULTIPART)),
        )
        .route("/api/track/{token}/attachments/{id}", get(download))
        .route("/api/track/{token}", get(track_json))
        .route("/track/{token}", get(track_page))
        .route("/api/track/{token}/notes", post(add_note))
        .route("/api/track/resend", post(resend))
        .layer(DefaultBodyLimit::max(input::MAX_BODY))
}

/// What a visitor sends to file an issue.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewIssue {
    /// The binder; the first public one when left out.
    #[serde(default)]
    pub binder: Option<String>,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// E-mail address.
    #[serde(default)]
    pub email: String,
    /// Subject.
    #[serde(default)]
    pub subject: String,
    /// What happened.
    #[serde(default)]
    pub description: String,
    /// One of the binder's categories, if any.
    #[serde(default)]
    pub category: Option<String>,
    /// The honeypot: people leave it empty.
    #[serde(default)]
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

#[utoipa::path(post, path = "/api/issues", tag = "issues", summary = "File an issue in a public binder", request_body(content((NewIssue = "application/json"), (NewIssue = "application/x-www-form-urlencoded"), (NewIssue = "multipart/form-data")), description = "The issue; up to 5 files (png, jpeg, gif, pdf, txt, log, csv; 10 MB each) sent in `attachments` (multipart) or uploaded beforehand (`POST /api/uploads`) and named by their tokens in `uploads`"), responses((status = 201, description = "Filed; the tracking link is also e-mailed", body = Filed), (status = 303, description = "From a form: to the tracking page"), (status = 404, description = "No public binder", body = ErrorBody), (status = 422, description = "A field is missing or wrong; `field` names it", body = ErrorBody), (status = 429, description = "Too many requests from this address or for this e-mail address", body = ErrorBody), (status = 503, description = "Not done, or not known to be done (the store was busy or failed); `Retry-After` says when to send the same request, with the same `Idempotency-Key`, again", body = ErrorBody)))]
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
    };
    crate::guard::limit_email(&state, &issue.email).await?;
    // The files go first, under fresh random keys (or are checked where they were uploaded);
    // the issue's transaction then records them, and if it fails they are removed again.
    let stored = uploads::receive(&state, "attachments", sent, &uploaded).await?;
    let year = portal_core::records::utc_year(portal_core::store::now());
    let (base, business) = (settings.base_url.clone(), settings.business.clone());
    let filed = Issues::new(state.store.clone())
        .file_with(issue, &settings.tracking_prefix, year, |issue, token| {
            let mut writes = Vec::new();
            for f in &stored {
                let a = Attachment {
                    issue_id: issue.id.clone(),
                    id: f.key.clone(),
                    file_name: f.file_name.clone(),
                    media_type: f.media_type.to_string(),
                    size: f.size,
                    note_id: None,
                    created: issue.created,
                };
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
            writes.extend(idem.record(&filed_answer(issue, token, &base, form))?);
            Ok(writes)
        })
        .await;
    let (issue, token) = match filed {
        Ok(f) => f,
        Err(e) => {
            uploads::forget_unless_written(&state, &stored, &e).await;
            return Err(e.into());
        }
    };
    state.deliver_mail().await;
    Ok(idem.respond(filed_answer(&issue, &token, &base, form)))
}

/// The answer to a filing: to the tracking page for a form, the number and link for JSON.
fn filed_answer(issue: &Issue, token: &str, base: &str, form: bool) -> Answer {
    if form {
        return idempotent::redirect(&format!("/track/{token}"));
    }
    let filed = Filed {
        number: issue.number.clone(),
        tracking_url: format!("{base}/track/{token}"),
        status: issue.status.clone(),
    };
    idempotent::json(StatusCode::CREATED, &filed)
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

/// An attachment as a tracking link lists it.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TrackedAttachment {
    /// Identifier, for the download link.
    pub id: String,
    /// File name.
    pub file_name: String,
    /// Media type.
    pub media_type: String,
    /// Size in bytes.
    pub size: u64,
}

/// What a tracking link shows.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Tracked {
    /// Tracking number.
    pub number: String,
    /// Subject.
    pub subject: String,
    /// Current status.
    pub status: String,
    /// Every status with when it was set.
    #[schema(value_type = Vec<Object>)]
    pub history: Vec<StatusChange>,
    /// Public notes, oldest first.
    pub notes: Vec<TrackedNote>,
    /// Files sent with it; download at `/api/track/{token}/attachments/{id}`.
    #[serde(default)]
    pub attachments: Vec<TrackedAttachment>,
    /// Unix seconds.
    pub created: i64,
}

/// A public note as the submitter sees it.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TrackedNote {
    /// Author.
    pub author: String,
    /// Text.
    pub body: String,
    /// Unix seconds.
    pub created: i64,
}

/// The answer to a tracking token that opens nothing.
fn unknown() -> ApiError {
    ApiError::NotFound("no issue has this tracking link; check the link in your e-mail".into())
}

/// Tokens are 32 hexadecimal digits; anything else opens nothing, without a lookup.
fn well_formed(token: &str) -> Result<(), ApiError> {
    if token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(unknown())
    }
}

/// The issue a tracking token opens.
async fn tracked_issue(state: &AppState, token: &str) -> Result<Issue, ApiError> {
    well_formed(token)?;
    Ok(Issues::new(state.store.clone())
        .by_tracking_token(token)
        .await?
        .ok_or_else(unknown)?
        .record)
}

async fn tracked(state: &AppState, token: &str) -> Result<Tracked, ApiError> {
    well_formed(token)?;
    let thread = Issues::new(state.store.clone())
        .thread_by_token(token, false)
        .await?
        .ok_or_else(unknown)?;
    let issue = thread.issue.ok_or_else(unknown)?.record;
    let attachments = thread
        .attachments
        .into_iter()
        .map(|a| TrackedAttachment {
            id: a.id,
            file_name: a.file_name,
            media_type: a.media_type,
            size: a.size,
        })
        .collect();
    let notes = thread
        .notes
        .into_iter()
        .map(|n| TrackedNote {
            author: n.author,
            body: n.body,
            created: n.created,
        })
        .collect();
    Ok(Tracked {
        number: issue.number,
        subject: issue.subject,
        status: issue.status,
        history: issue.history,
        notes,
        attachments,
        created: issue.created,
    })
}

/// "12 KB", "3.4 MB".
fn size_text(bytes: u64) -> String {
    match bytes {
        0..1024 => format!("{bytes} bytes"),
        1024..1_048_576 => format!("{} KB", bytes.div_ceil(1024)),
        _ => format!("{:.1} MB", bytes as f64 / 1_048_576.0),
    }
}

/// `GET /api/track/{token}/attachments/{id}`: a file of the issue, always as a download.
#[utoipa::path(get, path = "/api/track/{token}/attachments/{id}", tag = "issues", summary = "Download a file of the issue", params(("token" = String, Path, description = "The tracking token"), ("id" = String, Path, description = "The attachment")), responses((status = 200, description = "The file, as an attachment", content_type = "application/octet-stream"), (status = 303, description = "To a short-lived link that downloads the file (where the store gives such links)"), (status = 404, description = "Not found", body = ErrorBody)))]
pub(crate) async fn download(
    State(state): State<AppState>,
    Path((token, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let issue = tracked_issue(&state, &token).await?;
    let gone = || ApiError::NotFound("this issue has no such attachment".into());
    if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(gone());
    }
    let a = Issues::new(state.store.clone())
        .attachments(&issue.id, false)
        .await?
        .into_iter()
        .find(|a| a.id == id)
        .ok_or_else(gone)?;
    Ok(private(
        crate::uploads::download(&state, &a.id, &a.file_name, &a.media_type).await?,
    ))
}

fn private(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert("x-robots-tag", HeaderValue::from_static("noindex"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[utoipa::path(get, path = "/api/track/{token}", tag = "issues", summary = "Status, history, public notes and files of an issue", params(("token" = String, Path, description = "The 32-character token from the link")), responses((status = 200, description = "The issue", body = Tracked), (status = 404, description = "No issue has this link", body = ErrorBody)))]
pub(crate) async fn track_json(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Response {
    private(match tracked(&state, &token).await {
        Ok(t) => Json(t).into_response(),
        Err(e) => e.into_response(),
    })
}

#[utoipa::path(get, path = "/track/{token}", tag = "issues", summary = "The tracking page (HTML)", params(("token" = String, Path, description = "The 32-character token from the link")), responses((status = 200, description = "The page", content_type = "text/html"), (status = 404, description = "No issue has this link", content_type = "text/html")))]
pub(crate) async fn track_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Response {
    let site = state.site();
    private(match tracked(&state, &token).await {
        Ok(t) => {
            let mut issue = serde_json::to_value(&t).unwrap_or_default();
            issue["created_text"] = date_text(t.created).into();
            for (i, h) in t.history.iter().enumerate() {
                issue["history"][i]["at_text"] = date_text(h.at).into();
            }
            for (i, a) in t.attachments.iter().enumerate() {
                issue["attachments"][i]["size_text"] = size_text(a.size).into();
            }
            for (i, n) in t.notes.iter().enumerate() {
                issue["notes"][i]["created_text"] = date_text(n.created).into();
            }
            let mut ctx =
                site.pages
                    .context("support", &format!("Issue {}", t.number), "/issues/track");
            ctx.insert("issue", &issue);
            ctx.insert("token", &token);
            site.pages
                .render("track.html", &ctx, StatusCode::OK)
                .unwrap_or_else(|e| e.into_response())
        }
        Err(e) => site.pages.message(
            e.status(),
            &Message::new("Tracking link not found", e.public_message())
                .link("Ask for a new link", "/issues/track"),
        ),
    })
}

/// A note from the submitter.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewNote {
    /// The text.
    #[serde(default)]
    pub body: String,
    /// The honeypot.
    #[serde(default)]
    pub website: Option<String>,
}

#[utoipa::path(post, path = "/api/track/{token}/notes", tag = "issues", summary = "Add a note as the submitter", params(("token" = String, Path, description = "The 32-character token from the link")), request_body(content((NewNote = "application/json"), (NewNote = "application/x-www-form-urlencoded"))), responses((status = 201, description = "Added", body = TrackedNote), (status = 303, description = "From a form: back to the tracking page"), (status = 404, description = "No issue has this link", body = ErrorBody), (status = 422, description = "A field is missing or wrong; `field` names it", body = ErrorBody), (status = 429, description = "Too many requests from this address or for this e-mail address", body = ErrorBody), (status = 503, description = "Not done, or not known to be done (the store was busy or failed); `Retry-After` says when to send the same request, with the same `Idempotency-Key`, again", body = ErrorBody)))]
pub(crate) async fn add_note(
    State(state): State<AppState>,
    Path(token): Path<String>,
    idem: Idem,
    body: Input<NewNote>,
) -> Response {
    private(match note(&state, &token, idem, body).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    })
}

async fn note(
    state: &AppState,
    token: &str,
    idem: Idem,
    body: Input<NewNote>,
) -> Result<Response, ApiError> {
    input::honeypot(body.value.website.as_deref())?;
    let text = input::text("body", &body.value.body, 20_000)?;
    let tracked = tracked(state, token).await?;
    let issues = Issues::new(state.store.clone());
    let issue = issues
        .by_number(&tracked.number)
        .await?
        .ok_or_else(|| ApiError::NotFound("the issue is gone".into()))?
        .record;
    let note = portal_core::records::issues::Note {
        issue_id: issue.id.clone(),
        id: portal_core::records::new_id(),
        author: issue.name.clone(),
        body: text,
        public: true,
        created: portal_core::store::now(),
    };
    let answer = if body.from_form {
        idempotent::redirect(&format!("/track/{token}"))
    } else {
        idempotent::json(
            StatusCode::CREATED,
            &TrackedNote {
                author: note.author.clone(),
                body: note.body.clone(),
                created: note.created,
            },
        )
    };
    issues.add_note_with(&note, idem.record(&answer)?).await?;
    Ok(idem.respond(answer))
}

/// A request to mail a tracking link again.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Resend {
    /// Tracking number.
    #[serde(default)]
    pub number: String,
    /// The e-mail address the issue was filed with.
    #[serde(default)]
    pub email: String,
    /// The honeypot.
    #[serde(default)]
    pub website: Option<String>,
}

/// The one answer to every well-formed resend request.
pub const RESEND_ANSWER: &str =
    "If that tracking number belongs to that e-mail address, a new tracking link is on its way.";

#[utoipa::path(post, path = "/api/track/resend", tag = "issues", summary = "Mail the tracking link again (the same answer whether or not the pair exists)", request_body(content((Resend = "application/json"), (Resend = "application/x-www-form-urlencoded"))), responses((status = 202, description = "The one answer", body = MessageBody), (status = 303, description = "From a form"), (status = 422, description = "A field is missing or wrong; `field` names it", body = ErrorBody), (status = 429, description = "Too many requests from this address or for this e-mail address", body = ErrorBody), (status = 503, description = "Not done, or not known to be done (the store was busy or failed); `Retry-After` says when to send the same request, with the same `Idempotency-Key`, again", body = ErrorBody)))]
pub(crate) async fn resend(
    State(state): State<AppState>,
    idem: Idem,
    body: Input<Resend>,
) -> Result<Response, ApiError> {
    let v = &body.value;
    input::honeypot(v.website.as_deref())?;
    let number = input::line("number", &v.number, 40)?;
    let email = input::email("email", &v.email)?;
    crate::guard::limit_email(&state, &email).await?;
    let answer = if body.from_form {
        idempotent::redirect("/issues/track#sent")
    } else {
        idempotent::json(
            StatusCode::ACCEPTED,
            &serde_json::json!({ "message": RESEND_ANSWER }),
        )
    };
    let issues = Issues::new(state.store.clone());
    if let Some(found) = issues.by_number(&number).await? {
        let issue = found.record;
        // Only a visitor's ticket gets a link by mail: a customer's case is read in the
        // customer area, behind a login that can be disabled.
        if issue.kind == IssueKind::Ticket && issue.email.trim().eq_ignore_ascii_case(&email) {
            let base = state.site().settings().base_url.clone();
            issues
                .new_tracking_token(
                    &issue,
                    |token| {
                        Mail::new(
                            &issue.email,
                            format!("[{}] Your tracking link", issue.number),
                            format!("Hello,\n\nhere is a new link to follow issue {}:\n{base}/track/{token}\n\nThe links sent before no longer work. If you did not ask for it, you can ignore this e-mail.\n", issue.number),
                        )
                    },
                    idem.record(&answer)?,
                )
                .await?;
            state.deliver_mail().await;
            return Ok(idem.respond(answer));
        }
    }
    Ok(idempotent::to_response(answer))
}
