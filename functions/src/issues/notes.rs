//! What the submitter sends afterwards: a note on the tracking page, and a request to mail
//! the tracking link again.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use portal_core::records::issues::{IssueKind, Issues};
use portal_core::records::outbox::Mail;
use serde::Deserialize;

use crate::error::ApiError;
#[allow(unused_imports)]
use crate::error::{ErrorBody, MessageBody};
use crate::idempotent::{self, Idem};
use crate::input::{self, Input};
use crate::state::AppState;
use crate::view::done;

use super::track::*;

/// A note from the submitter.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = SubmitterNote)]
pub struct NewNote {
    /// The text.
    #[serde(default)]
    #[schema(required = true, schema_with = crate::input::text_schema)]
    pub body: String,
    /// The honeypot.
    #[serde(default)]
    #[serde(deserialize_with = "crate::input::text_only")]
    #[schema(schema_with = crate::input::honeypot_schema)]
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

pub(super) async fn note(
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
    let answer = done(
        body.from_form,
        &format!("/track/{token}"),
        StatusCode::CREATED,
        &TrackedNote {
            author: note.author.clone(),
            body: note.body.clone(),
            created: note.created,
        },
    );
    let mut extra = crate::notify::noted(state.site().settings(), &issue, &note)?;
    extra.push(crate::issues::file::noted_event("visitor", &issue, &note).write()?);
    extra.extend(idem.record(&answer)?);
    issues.add_note_with(&issue.binder, &note, extra).await?;
    state.deliver_mail().await;
    Ok(idem.respond(answer))
}

/// A request to mail a tracking link again.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Resend {
    /// Tracking number.
    #[serde(default)]
    #[schema(required = true, schema_with = crate::input::number_schema)]
    pub number: String,
    /// The e-mail address the issue was filed with.
    #[serde(default)]
    #[schema(required = true, schema_with = crate::input::email_schema)]
    pub email: String,
    /// The honeypot.
    #[serde(default)]
    #[serde(deserialize_with = "crate::input::text_only")]
    #[schema(schema_with = crate::input::honeypot_schema)]
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
    let answer = done(
        body.from_form,
        "/issues/track#sent",
        StatusCode::ACCEPTED,
        &MessageBody::new(RESEND_ANSWER),
    );
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
