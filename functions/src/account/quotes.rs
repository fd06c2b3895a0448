//! Quotes: reading them with their comments, commenting, and deciding once (JSON and page).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use portal_core::records::quotes::{Quote, QuoteState, Quotes};
use portal_core::records::Versioned;
use portal_core::store::now;
use serde::{Deserialize, Serialize};

use crate::auth::{Part, SignedIn};
use crate::error::ApiError;
#[allow(unused_imports)]
use crate::error::{ErrorBody, MessageBody};
use crate::input::Input;
use crate::state::AppState;
use crate::view::{done_now, Door, View};
use portal_core::records::feed::Event;
use portal_core::records::to_item;
use portal_core::store::{Cond, Write};
use serde_json::json;

use super::{money::*, page::*};

/// A quote as its customer sees it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct QuoteView {
    /// Identifier.
    pub id: String,
    /// Quote number.
    pub number: String,
    /// Date.
    pub date: String,
    /// Valid until.
    pub valid_until: String,
    /// `open`, `accepted` or `declined`.
    pub state: String,
    /// Lines.
    pub lines: Vec<LineView>,
    /// Total before VAT.
    pub net: Money,
    /// VAT.
    pub vat: Money,
    /// Total.
    pub total: Money,
    /// Who decided, if anyone.
    pub decided_by: Option<String>,
    /// Comments on it, oldest first (only with one quote).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub comments: Vec<CommentView>,
}

/// A comment on a quote.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CommentView {
    /// Who wrote it.
    pub author: String,
    /// Text.
    pub body: String,
    /// As people read it.
    pub created_text: String,
}

/// A quote with its comments.
pub(super) async fn quote_with_comments(
    state: &AppState,
    q: &Quote,
) -> Result<QuoteView, ApiError> {
    let mut view = quote_view(q);
    view.comments = Quotes::new(state.store.clone())
        .comments_of(q)
        .await?
        .into_iter()
        .map(|c| CommentView {
            author: c.author,
            body: c.body,
            created_text: crate::pages::date_text(c.created),
        })
        .collect();
    Ok(view)
}

/// A comment.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewComment {
    /// Text.
    #[serde(default)]
    #[schema(
        required = true,
        pattern = "rule:text",
        min_length = 1,
        max_length = 5_000
    )]
    pub body: String,
}

#[utoipa::path(post, path = "/api/my/quotes/{id}/comments", tag = "account", summary = "Comment on a quote",
    params(("id" = String, Path, description = "The quote")),
    request_body(content((NewComment = "application/json"), (NewComment = "application/x-www-form-urlencoded"))),
    responses((status = 201, description = "Added", body = QuoteView), (status = 303, description = "From a form: back to the quote"),
        (status = 401, description = "Not logged in", body = ErrorBody), (status = 404, description = "Not in this account", body = ErrorBody), (status = 422, description = "Empty", body = ErrorBody), (status = 403, description = "This login may not see the account's quotes", body = ErrorBody)))]
pub(crate) async fn comment(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<String>,
    body: Input<NewComment>,
) -> Result<Response, ApiError> {
    who.may_see(Part::Billing)?;
    let q = own_quote(&state, &who, &id).await?;
    let c = portal_core::records::quotes::QuoteComment {
        customer_id: q.record.customer_id.clone(),
        quote_id: q.record.id.clone(),
        id: portal_core::records::new_id(),
        author: who.session.email.clone(),
        body: crate::input::text("body", &body.value.body, 5000)?,
        created: now(),
    };
    let event = Event::new(
        "quote.commented",
        who.session.email.clone(),
        Some(c.customer_id.clone()),
        format!("quote {}", q.record.number),
        json!({ "number": q.record.number, "quote": q.record.id, "comment": c.id, "body": c.body }),
    );
    let notice = crate::notify::quote(
        state.site().settings(),
        &c.customer_id,
        &q.record.number,
        &who.session.email,
        "commented on",
        Some(&c.body),
    )?;
    state
        .store
        .transact(vec![
            Write::Put(to_item(&c)?, Cond::NotExists),
            event.write()?,
            notice,
        ])
        .await?;
    state.deliver_mail().await;
    Ok(done_now(
        body.from_form,
        &format!("/my/quotes/{id}"),
        StatusCode::CREATED,
        &quote_with_comments(&state, &q.record).await?,
    ))
}

pub(super) fn quote_view(q: &Quote) -> QuoteView {
    let (lines, net, vat, total) = lines(&q.lines);
    QuoteView {
        id: q.id.clone(),
        number: q.number.clone(),
        date: q.date.clone(),
        valid_until: q.valid_until.clone(),
        state: match q.state {
            QuoteState::Open => "open",
            QuoteState::Accepted => "accepted",
            QuoteState::Declined => "declined",
        }
        .into(),
        lines,
        net,
        vat,
        total,
        decided_by: q.decided.as_ref().map(|(by, _)| by.clone()),
        comments: Vec::new(),
    }
}

/// The customer's quotes with their versions (for deciding once), newest first, in one query.
pub(super) async fn own_quotes(
    state: &AppState,
    customer: &str,
) -> Result<Vec<Versioned<Quote>>, ApiError> {
    Ok(Quotes::new(state.store.clone())
        .of_customer(customer)
        .await?)
}

pub(super) async fn own_quote(
    state: &AppState,
    who: &SignedIn,
    id: &str,
) -> Result<Versioned<Quote>, ApiError> {
    own_quotes(state, &who.session.customer_id)
        .await?
        .into_iter()
        .find(|q| q.record.id == id)
        .ok_or_else(|| ApiError::NotFound("there is no such quote in your account".into()))
}

#[utoipa::path(get, path = "/api/my/quotes", tag = "account", summary = "The quotes prepared for this customer",
    responses((status = 200, description = "Quotes", body = Vec<QuoteView>), (status = 401, description = "Not logged in", body = ErrorBody), (status = 403, description = "This login may not see the account's quotes", body = ErrorBody)))]
pub(crate) async fn quotes_json(
    State(state): State<AppState>,
    who: SignedIn,
) -> Result<Response, ApiError> {
    who.may_see(Part::Billing)?;
    let list: Vec<QuoteView> = own_quotes(&state, &who.session.customer_id)
        .await?
        .iter()
        .map(|q| quote_view(&q.record))
        .collect();
    Ok(Json(list).into_response())
}

#[utoipa::path(get, path = "/api/my/quotes/{id}", tag = "account", summary = "One quote with its lines",
    params(("id" = String, Path, description = "The quote")),
    responses((status = 200, description = "The quote", body = QuoteView), (status = 401, description = "Not logged in", body = ErrorBody), (status = 404, description = "Not in this account", body = ErrorBody), (status = 403, description = "This login may not see the account's quotes", body = ErrorBody)))]
pub(crate) async fn quote(
    State(state): State<AppState>,
    who: SignedIn,
    door: Door,
    Path(id): Path<String>,
) -> Result<View<QuoteView>, ApiError> {
    who.may_see(Part::Billing)?;
    let q = own_quote(&state, &who, &id).await?;
    let v = View::new(
        quote_with_comments(&state, &q.record).await?,
        "my/quote.html",
        "quote",
    )
    .titled("account", format!("Quote {}", q.record.number), "/my/");
    with_csrf(v, door, &state, &who).await
}

/// Accepting or declining a quote.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    /// `accept` or `decline`.
    #[serde(default)]
    #[schema(required = true, pattern = "rule:quote-decision")]
    pub decision: String,
}

#[utoipa::path(post, path = "/api/my/quotes/{id}/decision", tag = "account", summary = "Accept or decline a quote, once",
    params(("id" = String, Path, description = "The quote")),
    request_body(content((Decision = "application/json"), (Decision = "application/x-www-form-urlencoded"))),
    responses((status = 200, description = "Decided", body = QuoteView), (status = 303, description = "From a form: back to the quote"),
        (status = 401, description = "Not logged in", body = ErrorBody), (status = 404, description = "Not in this account", body = ErrorBody),
        (status = 409, description = "Decided already (for example in another tab)", body = ErrorBody), (status = 422, description = "Neither accept nor decline", body = ErrorBody), (status = 403, description = "This login may not see the account's quotes", body = ErrorBody)))]
pub(crate) async fn decide(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<String>,
    body: Input<Decision>,
) -> Result<Response, ApiError> {
    who.may_see(Part::Billing)?;
    let accept = match body.value.decision.as_str() {
        "accept" => true,
        "decline" => false,
        other => {
            return Err(ApiError::invalid(
                "decision",
                format!("`{other}` is neither accept nor decline"),
            ))
        }
    };
    let q = own_quote(&state, &who, &id).await?;
    let decided = Quotes::new(state.store.clone())
        .decide_with(
            &q,
            accept,
            &who.session.email,
            now(),
            vec![
                Event::new(
                    if accept {
                        "quote.accepted"
                    } else {
                        "quote.declined"
                    },
                    who.session.email.clone(),
                    Some(q.record.customer_id.clone()),
                    format!("quote {}", q.record.number),
                    json!({ "number": q.record.number, "quote": q.record.id }),
                )
                .write()?,
                crate::notify::quote(
                    state.site().settings(),
                    &q.record.customer_id,
                    &q.record.number,
                    &who.session.email,
                    if accept { "accepted" } else { "declined" },
                    None,
                )?,
            ],
        )
        .await?;
    state.deliver_mail().await;
    Ok(done_now(
        body.from_form,
        &format!("/my/quotes/{id}"),
        StatusCode::OK,
        &quote_view(&decided),
    ))
}

#[utoipa::path(get, path = "/my/quotes/{id}", tag = "account", summary = "A quote, with buttons to accept or decline it (HTML)",
    params(("id" = String, Path, description = "The quote")),
    responses((status = 200, description = "The page", content_type = "text/html"), (status = 303, description = "Not logged in: to /login"), (status = 404, description = "Not in this account", content_type = "text/html")))]
#[allow(dead_code)]
pub(crate) fn quote_page() {}
