//! Issues for staff: the queue of a binder, an issue's whole thread (hidden notes too),
//! public replies (mailed to the submitter), internal notes, status and assignment. Each
//! write goes with its audit entry, and its mail, in one transaction.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Json;
use portal_core::records::issues::{DeskEntry, IssueEdit, IssueKind, Issues, Note, Thread};
use portal_core::records::outbox::Mail;
use portal_core::records::{new_id, to_item, Versioned};
use portal_core::store::{now, Cond, Cursor, Write};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::key::Staff;
use super::{check_version, cursor_error};
use crate::error::ApiError;
#[allow(unused_imports)]
use crate::error::ErrorBody;
use crate::idempotent::Idem;
use crate::input::{self, Input, WithFiles};
use crate::state::AppState;

/// The queue's filters.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueueParams {
    /// One binder (all binders when left out).
    pub binder: Option<String>,
    /// Only issues with this status.
    pub status: Option<String>,
    /// Only issues assigned to this person (`none`: unassigned ones).
    pub assignee: Option<String>,
    /// Only this customer's cases and bugs.
    pub customer: Option<String>,
    /// Only issues changed at or after this time (Unix seconds).
    pub updated_since: Option<i64>,
    /// Only issues whose subject, description or notes (internal ones included; the first
    /// 2,000 characters of each) contain every one of these words, in any case.
    pub q: Option<String>,
    /// Where the previous page ended (`next` of that page).
    pub cursor: Option<String>,
    /// At most this many (1–1,000; 100 when left out).
    pub limit: Option<usize>,
}

/// An issue in a queue.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct QueueEntry {
    /// Tracking number.
    pub number: String,
    /// `ticket`, `case` or `bug`.
    pub kind: String,
    /// Binder.
    pub binder: String,
    /// The customer, for cases and bugs.
    pub customer_id: Option<String>,
    /// Subject.
    pub subject: String,
    /// Status.
    pub status: String,
    /// Assigned to.
    pub assignee: Option<String>,
    /// Filed, Unix seconds.
    pub created: i64,
    /// Last changed by staff or the system, Unix seconds.
    pub updated: i64,
}

/// A page of a queue.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct QueuePage {
    /// The issues, oldest change first within each binder.
    pub issues: Vec<QueueEntry>,
    /// Give this as `cursor` for the next page; none at the end.
    pub next: Option<String>,
    /// Whether a search (`q`) looked through only part of what was said in a binder (its
    /// first 50,000 descriptions and notes).
    pub incomplete: bool,
}

/// The search texts of the binders one request has read, so a screen that pages through a
/// queue reads each binder's texts once.
#[derive(Debug, Default)]
pub(crate) struct Texts {
    by_binder: HashMap<String, HashMap<String, String>>,
    /// Whether a binder had more texts than a search reads.
    incomplete: bool,
}

impl Texts {
    /// Whether a search looked through only part of a binder's texts.
    pub(crate) fn incomplete(&self) -> bool {
        self.incomplete
    }
}

/// Longest search (`q`), in characters.
const MAX_Q: usize = 200;

fn kind_name(k: IssueKind) -> String {
    serde_json::to_value(k)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn entry_view(e: DeskEntry) -> QueueEntry {
    QueueEntry {
        number: e.number,
        kind: kind_name(e.kind),
        binder: e.binder,
        customer_id: e.customer_id,
        subject: e.subject,
        status: e.status,
        assignee: e.assignee,
        created: e.created,
        updated: e.updated,
    }
}

/// Most pages of a binder's texts one search reads (1,000 texts a page).
const TEXT_PAGES: usize = 50;

/// Whether `e` says every one of `words` (lower case) in its subject or in `texts`.
fn says(words: &[String], e: &DeskEntry, texts: &HashMap<String, String>) -> bool {
    let subject = e.subject.to_lowercase();
    let text = texts.get(&e.issue_id).map_or("", String::as_str);
    words
        .iter()
        .all(|w| subject.contains(w.as_str()) || text.contains(w.as_str()))
}

fn keeps(p: &QueueParams, e: &DeskEntry) -> bool {
    p.status.as_ref().is_none_or(|s| &e.status == s)
        && match p.assignee.as_deref() {
            None => true,
            Some("none") => e.assignee.is_none(),
            Some(a) => e.assignee.as_deref() == Some(a),
        }
        && p.customer
            .as_ref()
            .is_none_or(|c| e.customer_id.as_ref() == Some(c))
        && p.updated_since.is_none_or(|t| e.updated >= t)
}

#[utoipa::path(get, path = "/api/staff/issues", tag = "staff", summary = "A queue: issues by binder, status, assignee, customer and time of change",
    params(QueueParams), security(("api_key" = ["issues:read"])),
    responses((status = 200, description = "A page of the queue", body = QueuePage), (status = 401, description = "No key, or an unknown or revoked one", body = ErrorBody), (status = 403, description = "The key lacks issues:read", body = ErrorBody), (status = 422, description = "A parameter is wrong", body = ErrorBody)))]
pub(crate) async fn queue(
    State(state): State<AppState>,
    staff: Staff,
    Query(p): Query<QueueParams>,
) -> Result<Json<QueuePage>, ApiError> {
    Ok(Json(queue_of(&state, &staff, &p).await?))
}

/// The operation behind both doors: a page of the queue `p` describes.
pub(crate) async fn queue_of(
    state: &AppState,
    staff: &Staff,
    p: &QueueParams,
) -> Result<QueuePage, ApiError> {
    queue_with(state, staff, p, &mut Texts::default()).await
}

/// As [`queue_of`], with the search texts already read (and to keep what it reads).
pub(crate) async fn queue_with(
    state: &AppState,
    staff: &Staff,
    p: &QueueParams,
    read: &mut Texts,
) -> Result<QueuePage, ApiError> {
    staff.may("issues:read")?;
    if p.q.as_deref().is_some_and(|q| q.chars().count() > MAX_Q) {
        return Err(ApiError::invalid(
            "q",
            format!("give at most {MAX_Q} characters"),
        ));
    }
    let limit = p.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::invalid("limit", "give a number from 1 to 1000"));
    }
    let binders: Vec<String> = state
        .site()
        .settings()
        .binders
        .iter()
        .map(|b| b.id.clone())
        .collect();
    if let Some(b) = &p.binder {
        if !binders.contains(b) {
            return Err(ApiError::invalid(
                "binder",
                format!("`{b}` is not a binder; binders: {}", binders.join(", ")),
            ));
        }
    }
    let wanted: Vec<String> = match &p.binder {
        Some(b) => vec![b.clone()],
        None => binders,
    };
    // The cursor is `binder|store cursor`: where in which binder the last page stopped.
    let (mut at, mut cursor) = match p.cursor.as_deref().filter(|c| !c.is_empty()) {
        Some(c) => {
            let (b, rest) = c
                .split_once('|')
                .ok_or_else(|| ApiError::invalid("cursor", "is not a cursor this API gave"))?;
            let i = wanted
                .iter()
                .position(|w| w == b)
                .ok_or_else(|| ApiError::invalid("cursor", "belongs to another binder"))?;
            (i, (!rest.is_empty()).then(|| Cursor::from_client(rest)))
        }
        None => (0, None),
    };
    let issues = Issues::new(state.store.clone());
    let words: Vec<String> =
        p.q.as_deref()
            .unwrap_or("")
            .split_whitespace()
            .map(str::to_lowercase)
            .collect();
    let none = HashMap::new();
    let mut out = Vec::new();
    // At most this many store pages a request, however little the filters keep: the
    // cursor says where to go on.
    let mut pages = 0;
    while at < wanted.len() && out.len() < limit && pages < 5 {
        pages += 1;
        if !words.is_empty() && !read.by_binder.contains_key(&wanted[at]) {
            let (texts, more) = issues.desk_texts(&wanted[at], TEXT_PAGES).await?;
            read.incomplete |= more;
            read.by_binder.insert(wanted[at].clone(), texts);
        }
        let texts = read.by_binder.get(&wanted[at]).unwrap_or(&none);
        let (page, next) = issues
            .desk(&wanted[at], limit - out.len(), cursor.take())
            .await
            .map_err(cursor_error)?;
        out.extend(
            page.into_iter()
                .filter(|e| keeps(p, e) && (words.is_empty() || says(&words, e, texts)))
                .map(entry_view),
        );
        match next {
            Some(n) => cursor = Some(n),
            None => at += 1,
        }
    }
    let next = match (&cursor, at < wanted.len()) {
        (Some(c), _) => Some(format!("{}|{}", wanted[at], c.as_str())),
        (None, true) => Some(format!("{}|", wanted[at])),
        (None, false) => None,
    };
    Ok(QueuePage {
        issues: out,
        next,
        incomplete: read.incomplete,
    })
}

/// A note, as staff see it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StaffNote {
    /// Identifier.
    pub id: String,
    /// Who wrote it.
    pub author: String,
    /// Text.
    pub body: String,
    /// Whether the submitter sees it (a reply) or not (an internal note).
    pub public: bool,
    /// Unix seconds.
    pub created: i64,
}

/// A status the issue had.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StaffChange {
    /// Status.
    pub status: String,
    /// When, Unix seconds.
    pub at: i64,
    /// Who set it.
    pub by: String,
}

/// A file of the issue.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StaffFile {
    /// Identifier.
    pub id: String,
    /// Name.
    pub file_name: String,
    /// Media type.
    pub media_type: String,
    /// Bytes.
    pub size: u64,
    /// The note it came with, if any.
    pub note_id: Option<String>,
}

/// An issue with its whole thread, as staff see it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StaffIssue {
    /// Tracking number.
    pub number: String,
    /// `ticket`, `case` or `bug`.
    pub kind: String,
    /// Binder.
    pub binder: String,
    /// The customer, for cases and bugs.
    pub customer_id: Option<String>,
    /// Category.
    pub category: Option<String>,
    /// Subject.
    pub subject: String,
    /// What was reported.
    pub description: String,
    /// Submitter's name.
    pub name: String,
    /// Submitter's e-mail address.
    pub email: String,
    /// Status.
    pub status: String,
    /// The statuses its binder allows.
    pub statuses: Vec<String>,
    /// The categories its binder offers.
    pub categories: Vec<String>,
    /// Assigned to.
    pub assignee: Option<String>,
    /// Every status it has had.
    pub history: Vec<StaffChange>,
    /// Replies, the submitter's notes and internal notes, oldest first.
    pub notes: Vec<StaffNote>,
    /// Files.
    pub files: Vec<StaffFile>,
    /// Filed, Unix seconds.
    pub created: i64,
    /// Last changed, Unix seconds.
    pub updated: i64,
    /// When the submitter last opened a tracking link of the issue (Unix seconds, to the
    /// hour), or null if no working link has been opened.
    pub link_opened: Option<i64>,
    /// The version to send as `If-Match` with a change (also the `ETag`).
    pub version: u64,
}

fn issue_view(state: &AppState, thread: Thread) -> Result<StaffIssue, ApiError> {
    let Some(Versioned { record: i, version }) = thread.issue else {
        return Err(ApiError::NotFound("there is no such issue".into()));
    };
    let statuses = binder_statuses(state, &i.binder);
    let categories = binder_categories(state, &i.binder);
    Ok(StaffIssue {
        number: i.number,
        kind: kind_name(i.kind),
        binder: i.binder,
        customer_id: i.customer_id,
        category: i.category,
        subject: i.subject,
        description: i.description,
        name: i.name,
        email: i.email,
        status: i.status,
        statuses,
        categories,
        assignee: i.assignee,
        history: i
            .history
            .into_iter()
            .map(|h| StaffChange {
                status: h.status,
                at: h.at,
                by: h.by,
            })
            .collect(),
        notes: thread
            .notes
            .into_iter()
            .map(|n| StaffNote {
                id: n.id,
                author: n.author,
                body: n.body,
                public: n.public,
                created: n.created,
            })
            .collect(),
        files: thread
            .attachments
            .into_iter()
            .map(|a| StaffFile {
                id: a.id,
                file_name: a.file_name,
                media_type: a.media_type,
                size: a.size,
                note_id: a.note_id,
            })
            .collect(),
        created: i.created,
        updated: i.updated.max(i.created),
        link_opened: thread.link_opened,
        version,
    })
}

/// The categories of `binder`.
fn binder_categories(state: &AppState, binder: &str) -> Vec<String> {
    state
        .site()
        .settings()
        .binders
        .iter()
        .find(|b| b.id == binder)
        .map(|b| b.categories.clone())
        .unwrap_or_default()
}

/// The statuses staff may give issues in `binder`.
fn binder_statuses(state: &AppState, binder: &str) -> Vec<String> {
    state
        .site()
        .settings()
        .binders
        .iter()
        .find(|b| b.id == binder)
        .map(|b| b.statuses())
        .unwrap_or_default()
}

/// The issue numbered `number` with its thread (3 requests).
async fn thread(state: &AppState, number: &str) -> Result<Thread, ApiError> {
    let issues = Issues::new(state.store.clone());
    let found = issues
        .by_number(number)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("there is no issue {number}")))?;
    issues
        .thread(&found.record.id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("there is no issue {number}")))
}

/// The issue's answer, with its version as the `ETag`.
fn answer(status: StatusCode, issue: StaffIssue) -> Response {
    let version = issue.version;
    super::with_etag(status, Json(issue), version)
}

#[utoipa::path(get, path = "/api/staff/issues/{number}", tag = "staff", summary = "An issue with its whole thread, internal notes included",
    params(("number" = String, Path, description = "The tracking number")), security(("api_key" = ["issues:read"])),
    responses((status = 200, description = "The issue; its version is the ETag", body = StaffIssue), (status = 401, description = "No key, or an unknown or revoked one", body = ErrorBody), (status = 403, description = "The key lacks issues:read", body = ErrorBody), (status = 404, description = "No such issue", body = ErrorBody)))]
pub(crate) async fn issue(
    State(state): State<AppState>,
    staff: Staff,
    Path(number): Path<String>,
) -> Result<Response, ApiError> {
    Ok(answer(StatusCode::OK, read(&state, &staff, &number).await?))
}

/// The operation behind both doors: the issue numbered `number` with its whole thread.
pub(crate) async fn read(
    state: &AppState,
    staff: &Staff,
    number: &str,
) -> Result<StaffIssue, ApiError> {
    staff.may("issues:read")?;
    issue_view(state, thread(state, number).await?)
}

/// A reply or an internal note.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewStaffNote {
    /// Text.
    #[serde(default)]
    #[schema(
        required = true,
        pattern = "rule:text",
        min_length = 1,
        max_length = 20_000
    )]
    pub body: String,
    /// Files with it: upload tokens (`POST /api/uploads`, then the file sent to its URL),
    /// at most 5. The submitter sees the files of a reply, never those of an internal note.
    #[serde(default)]
    pub uploads: Vec<String>,
}

/// The mail that tells the submitter of `issue` about `what`, with where to read it.
fn mail_to_submitter(
    state: &AppState,
    i: &portal_core::records::issues::Issue,
    what: &str,
) -> Mail {
    let settings = state.site().settings().clone();
    let base = &settings.base_url;
    let where_ = match &i.customer_id {
        Some(_) => format!("Read the whole thread in your account:\n{base}/my/issues/{}", i.number),
        None => format!(
            "Your tracking link from the first e-mail shows the whole thread; lost it? Ask for a new one:\n{base}/issues/track"
        ),
    };
    // A visitor's address was never confirmed: the mail carries nothing the visitor typed
    // (neither subject nor name), only what staff wrote.
    let (subject, greeting) = match &i.customer_id {
        Some(_) => (
            format!("[{}] {}", i.number, i.subject),
            format!("Hello {},", i.name),
        ),
        None => (
            format!("[{}] Update on your issue", i.number),
            "Hello,".to_string(),
        ),
    };
    Mail::new(
        &i.email,
        subject,
        format!(
            "{greeting}\n\n{what}\n\n{where_}\n\n{}\n",
            settings.business
        ),
    )
}

/// The operation behind both doors: a reply (`public`, mailed to the submitter) or an
/// internal note on the issue numbered `number`, with its files.
pub(crate) async fn add_note(
    state: &AppState,
    staff: &Staff,
    number: &str,
    body: WithFiles<NewStaffNote>,
    public: bool,
    idem: Idem,
) -> Result<Response, ApiError> {
    staff.may("issues:write")?;
    let mut t = thread(state, number).await?;
    let issue = t
        .issue
        .clone()
        .map(|v| v.record)
        .ok_or_else(|| ApiError::NotFound(format!("there is no issue {number}")))?;
    let text = input::text("body", &body.value.body, 20_000)?;
    let note = Note {
        issue_id: issue.id.clone(),
        id: new_id(),
        author: if public {
            state.site().settings().business.clone()
        } else {
            staff.actor()
        },
        body: text.clone(),
        public,
        created: now(),
    };
    let action = if public {
        "issue.replied"
    } else {
        "issue.noted"
    };
    let mut extra = staff.audit(
        action,
        issue.customer_id.as_deref(),
        format!("issue {}", issue.number),
        json!({ "number": issue.number, "note": note.id, "public": public, "body": text }),
    )?;
    if public {
        let mail = mail_to_submitter(
            state,
            &issue,
            &format!("there is a reply to your issue {}:\n\n{text}", issue.number),
        );
        extra.push(Write::Put(to_item(&mail)?, Cond::NotExists));
    }
    let stored = crate::uploads::receive(state, "uploads", body.files, &body.uploaded).await?;
    for a in crate::issues::file::attachments(&note.issue_id, Some(&note.id), note.created, &stored)
    {
        extra.push(Write::Put(to_item(&a)?, Cond::NotExists));
        t.attachments.push(a);
    }
    // The answer is the thread as read, with the note it now ends with (the issue itself is
    // unchanged); with an idempotency key it is recorded with the note, in one transaction.
    t.notes.push(note.clone());
    let view = issue_view(state, t)?;
    let mut once = crate::idempotent::json(StatusCode::CREATED, &view);
    once.headers
        .push(("etag".into(), format!("\"{}\"", view.version)));
    extra.extend(idem.record(&once)?);
    crate::uploads::keep_with(
        state,
        &stored,
        Issues::new(state.store.clone()).add_note_with(&issue.binder, &note, extra),
    )
    .await?;
    state.deliver_mail().await;
    Ok(idem.respond(once))
}

#[utoipa::path(post, path = "/api/staff/issues/{number}/replies", tag = "staff", summary = "Reply to the submitter: a public note, mailed to them",
    params(("number" = String, Path, description = "The tracking number")), security(("api_key" = ["issues:write"])),
    request_body(content((NewStaffNote = "application/json"))),
    responses((status = 201, description = "Replied; the issue as it is now", body = StaffIssue), (status = 401, description = "No key, or an unknown or revoked one", body = ErrorBody), (status = 403, description = "The key lacks issues:write", body = ErrorBody), (status = 404, description = "No such issue", body = ErrorBody), (status = 422, description = "Empty or too long", body = ErrorBody)))]
pub(crate) async fn reply(
    State(state): State<AppState>,
    staff: Staff,
    Path(number): Path<String>,
    idem: Idem,
    body: WithFiles<NewStaffNote>,
) -> Result<Response, ApiError> {
    add_note(&state, &staff, &number, body, true, idem).await
}

#[utoipa::path(post, path = "/api/staff/issues/{number}/notes", tag = "staff", summary = "An internal note: staff see it, the submitter never does",
    params(("number" = String, Path, description = "The tracking number")), security(("api_key" = ["issues:write"])),
    request_body(content((NewStaffNote = "application/json"))),
    responses((status = 201, description = "Noted; the issue as it is now", body = StaffIssue), (status = 401, description = "No key, or an unknown or revoked one", body = ErrorBody), (status = 403, description = "The key lacks issues:write", body = ErrorBody), (status = 404, description = "No such issue", body = ErrorBody), (status = 422, description = "Empty or too long", body = ErrorBody)))]
pub(crate) async fn note(
    State(state): State<AppState>,
    staff: Staff,
    Path(number): Path<String>,
    idem: Idem,
    body: WithFiles<NewStaffNote>,
) -> Result<Response, ApiError> {
    add_note(&state, &staff, &number, body, false, idem).await
}

/// A change of status, assignee or category: at least one of them; a field left out stays
/// as it is.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueChange {
    /// A status among the binder's (see `statuses` on the issue).
    #[serde(default, deserialize_with = "crate::input::present")]
    #[schema(
        nullable = false,
        pattern = "rule:line",
        min_length = 1,
        max_length = 200
    )]
    pub status: Option<String>,
    /// Who it is assigned to; an empty string unassigns it.
    #[serde(default, deserialize_with = "crate::input::present")]
    #[schema(nullable = false, pattern = "rule:blank-or-line", max_length = 200)]
    pub assignee: Option<String>,
    /// A category among the binder's (see `categories` on the issue); an empty string
    /// clears it.
    #[serde(default, deserialize_with = "crate::input::present")]
    #[schema(nullable = false, pattern = "rule:blank-or-line", max_length = 200)]
    pub category: Option<String>,
}

#[utoipa::path(patch, path = "/api/staff/issues/{number}", tag = "staff", summary = "Change an issue's status (the submitter is mailed) or assignee",
    params(("number" = String, Path, description = "The tracking number"), ("If-Match" = Option<String>, Header, description = "The version read (`ETag`); refused with 412 if it changed since")),
    security(("api_key" = ["issues:write"])),
    request_body(content((IssueChange = "application/json"))),
    responses((status = 200, description = "Changed; the issue as it is now", body = StaffIssue), (status = 401, description = "No key, or an unknown or revoked one", body = ErrorBody), (status = 403, description = "The key lacks issues:write", body = ErrorBody), (status = 404, description = "No such issue", body = ErrorBody),
        (status = 409, description = "Changed meanwhile by someone else", body = ErrorBody), (status = 412, description = "Changed since the version in If-Match", body = ErrorBody), (status = 422, description = "Not a status of the binder, or nothing to change", body = ErrorBody)))]
pub(crate) async fn change(
    State(state): State<AppState>,
    staff: Staff,
    Path(number): Path<String>,
    headers: HeaderMap,
    body: Input<IssueChange>,
) -> Result<Response, ApiError> {
    let view = change_issue(
        &state,
        &staff,
        &number,
        |v| check_version(&headers, v),
        body.value,
    )
    .await?;
    Ok(answer(StatusCode::OK, view))
}

/// The operation behind both doors: a change of status or assignee of the issue numbered
/// `number`, refused by `check` when the issue's version is not the one the caller read.
pub(crate) async fn change_issue(
    state: &AppState,
    staff: &Staff,
    number: &str,
    check: impl FnOnce(u64) -> Result<(), ApiError>,
    change: IssueChange,
) -> Result<StaffIssue, ApiError> {
    staff.may("issues:write")?;
    let issues = Issues::new(state.store.clone());
    let found = issues
        .by_number(number)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("there is no issue {number}")))?;
    check(found.version)?;
    let IssueChange {
        status,
        assignee,
        category,
    } = change;
    if status.is_none() && assignee.is_none() && category.is_none() {
        return Err(ApiError::invalid(
            "status",
            "give a status, an assignee or a category to change",
        ));
    }
    // Everything is checked before anything is written, and written in one transaction
    // against the version the client named.
    let assignee = match assignee {
        Some(a) => Some(input::optional_line("assignee", &a, 200)?),
        None => None,
    };
    let status = match status {
        Some(s) => {
            let s = s.trim().to_string();
            let allowed = binder_statuses(state, &found.record.binder);
            if !allowed.contains(&s) {
                return Err(ApiError::invalid(
                    "status",
                    format!(
                        "`{s}` is not a status of this binder; its statuses: {}",
                        allowed.join(", ")
                    ),
                ));
            }
            Some(s).filter(|s| *s != found.record.status)
        }
        None => None,
    };
    let assignee = assignee.filter(|a| *a != found.record.assignee);
    let category = match category
        .map(|c| input::optional_line("category", &c, 200))
        .transpose()?
    {
        Some(None) => Some(None),
        Some(Some(c)) => {
            let allowed = binder_categories(state, &found.record.binder);
            if !allowed.contains(&c) {
                return Err(ApiError::invalid(
                    "category",
                    format!(
                        "`{c}` is not a category of this binder; its categories: {}",
                        allowed.join(", ")
                    ),
                ));
            }
            Some(Some(c))
        }
        None => None,
    }
    .filter(|c| *c != found.record.category);
    let mut extra = Vec::new();
    if let Some(c) = &category {
        extra.extend(staff.audit(
            "issue.categorised",
            found.record.customer_id.as_deref(),
            format!("issue {number}"),
            json!({ "number": number, "from": found.record.category, "to": c }),
        )?);
    }
    if let Some(a) = &assignee {
        extra.extend(staff.audit(
            "issue.assigned",
            found.record.customer_id.as_deref(),
            format!("issue {number}"),
            json!({ "number": number, "from": found.record.assignee, "to": a }),
        )?);
    }
    if let Some(s) = &status {
        extra.extend(staff.audit(
            "issue.status",
            found.record.customer_id.as_deref(),
            format!("issue {number}"),
            json!({ "number": number, "from": found.record.status, "to": s }),
        )?);
        let mail = mail_to_submitter(
            state,
            &found.record,
            &format!("your issue {} is now: {s}.", found.record.number),
        );
        extra.push(Write::Put(to_item(&mail)?, Cond::NotExists));
    }
    if status.is_some() || assignee.is_some() || category.is_some() {
        let edit = IssueEdit {
            status,
            assignee,
            category,
        };
        issues.change(&found, edit, &staff.actor(), extra).await?;
        state.deliver_mail().await;
    }
    let t = issues
        .thread(&found.record.id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("there is no issue {number}")))?;
    issue_view(state, t)
}
