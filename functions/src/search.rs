//! The `search` function: full-text search over the index the build wrote, as JSON
//! (`GET /api/search`) and as the theme's results page (`GET /search`), and the knowledge
//! base's reader feedback (`POST /api/kb/{article}/feedback`) and sharing by e-mail
//! (`POST /api/kb/{article}/share`), which ship with the index because it knows every
//! article.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use portal_core::records::feedback::ArticleFeedback;
use portal_core::records::outbox::Mail;
use portal_core::records::{new_id, to_item};
use portal_core::search::{Results, Searcher};
use portal_core::store::{now, Cond, Write};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
#[allow(unused_imports)]
use crate::error::{ErrorBody, MessageBody};
use crate::guard::{self, ClientIp};
use crate::idempotent::{self, Idem};
use crate::input::{self, Input};
use crate::state::{AppState, Site};

/// Longest search accepted, in characters.
pub const MAX_QUERY: usize = 500;
/// Hits per page unless `per_page` says otherwise.
pub const PER_PAGE: usize = 10;
/// The largest `per_page`.
pub const MAX_PER_PAGE: usize = 50;

/// The group's routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/search", get(search_json))
        .route("/search", get(search_page))
        .route("/api/kb/{article}/feedback", post(feedback))
        .route("/api/kb/{article}/share", post(share))
}

/// `GET /api/search` and `GET /search` parameters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// The words to look for; quotes, `+` and `-` work.
    #[serde(default)]
    pub q: String,
    /// A topic or category key to search within.
    #[serde(default)]
    pub topic: String,
    /// Results page, from 1.
    #[serde(default)]
    pub page: Option<String>,
    /// Hits per page, 1 to 50.
    #[serde(default)]
    pub per_page: Option<String>,
}

/// A page of search results.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SearchAnswer {
    /// The search as understood.
    pub query: String,
    /// The topic filter, if any.
    pub topic: String,
    /// This page's number.
    pub page: usize,
    /// Hits per page.
    pub per_page: usize,
    /// Matching pages in all.
    pub total: usize,
    /// The hits, best first; snippets are HTML with the matched words in `<b>`.
    #[schema(value_type = Vec<Object>)]
    pub hits: Vec<portal_core::search::Hit>,
}

fn number(field: &str, value: Option<&str>, default: usize, max: usize) -> Result<usize, ApiError> {
    match value.filter(|v| !v.is_empty()) {
        None => Ok(default),
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(ApiError::invalid(
                field,
                format!("`{v}` is not a whole number from 1 to {max}"),
            )),
        },
    }
}

/// Runs the search `p` asks for on `searcher`.
pub(crate) fn run(searcher: &Searcher, p: &SearchParams) -> Result<SearchAnswer, ApiError> {
    let q = p.q.trim();
    if q.chars().count() > MAX_QUERY {
        return Err(ApiError::invalid(
            "q",
            format!("the search is longer than {MAX_QUERY} characters"),
        ));
    }
    let page = number("page", p.page.as_deref(), 1, 1000)?;
    let per_page = number("per_page", p.per_page.as_deref(), PER_PAGE, MAX_PER_PAGE)?;
    let topic = p.topic.trim();
    let Results { total, hits } = if q.is_empty() {
        Results {
            total: 0,
            hits: Vec::new(),
        }
    } else {
        searcher
            .search(
                q,
                (!topic.is_empty()).then_some(topic),
                per_page,
                (page - 1) * per_page,
            )
            .map_err(|e| ApiError::Internal(e.to_string()))?
    };
    Ok(SearchAnswer {
        query: q.to_string(),
        topic: topic.to_string(),
        page,
        per_page,
        total,
        hits,
    })
}

#[utoipa::path(get, path = "/api/search", tag = "search", summary = "Search the knowledge base, FAQ, calendar and documents", params(SearchParams), responses((status = 200, description = "Ranked hits with highlighted snippets", body = SearchAnswer), (status = 422, description = "A parameter is wrong", body = ErrorBody)))]
pub(crate) async fn search_json(
    State(state): State<AppState>,
    Query(p): Query<SearchParams>,
) -> Result<Json<SearchAnswer>, ApiError> {
    run(state.site().search()?, &p).map(Json)
}

#[utoipa::path(get, path = "/search", tag = "search", summary = "The search results page (HTML)", params(SearchParams), responses((status = 200, description = "The page", content_type = "text/html"), (status = 422, description = "A parameter is wrong", content_type = "text/html")))]
pub(crate) async fn search_page(
    State(state): State<AppState>,
    Query(p): Query<SearchParams>,
) -> Response {
    let site = state.site();
    match site.search() {
        Ok(searcher) => results_page(&site, searcher, &p, "/search"),
        Err(e) => e.into_response(),
    }
}

/// The theme's results page for the search `p` on `searcher`, its form posting to `action`.
pub(crate) fn results_page(
    site: &Site,
    searcher: &Searcher,
    p: &SearchParams,
    action: &str,
) -> Response {
    let answer = match run(searcher, p) {
        Ok(a) => a,
        Err(e) => {
            return site.pages.message(
                e.status(),
                &crate::pages::Message::new("Search", e.public_message())
                    .link("Search again", action),
            )
        }
    };
    let title = if answer.query.is_empty() {
        "Search".to_string()
    } else {
        format!("Search: {}", answer.query)
    };
    let mut c = site.pages.context("search", &title, "/search/");
    c.insert(
        "description",
        "Search the knowledge base, FAQ, calendar and documents.",
    );
    c.insert("search_action", action);
    let first = (answer.page - 1) * answer.per_page;
    c.insert("query", &answer.query);
    c.insert("topic", &answer.topic);
    c.insert("page", &answer.page);
    c.insert("total", &answer.total);
    c.insert("first", &(first + 1));
    c.insert("last", &(first + answer.hits.len()));
    c.insert("prev_page", &(answer.page > 1).then(|| answer.page - 1));
    c.insert(
        "next_page",
        &(answer.page * answer.per_page < answer.total).then_some(answer.page + 1),
    );
    c.insert("hits", &answer.hits);
    site.pages
        .render("search.html", &c, StatusCode::OK)
        .unwrap_or_else(|e| e.into_response())
}

/// What the portal answers at an address nothing serves. Behind CloudFront the bucket's
/// 403 or 404 for a missing page fails over to this (the distribution's origin group), so
/// only pages get the theme's 404 page: a GET or HEAD outside `/api/` gets it with status
/// 404, anything else a JSON 404 (an API client's error is never swapped for a page).
pub async fn not_found(
    State(state): State<AppState>,
    method: axum::http::Method,
    uri: axum::http::Uri,
) -> Response {
    let path = uri.path();
    let page = (method == axum::http::Method::GET || method == axum::http::Method::HEAD)
        && !path.starts_with("/api/");
    if !page {
        return ApiError::NotFound(format!("nothing is served at {method} {path}")).into_response();
    }
    let site = state.site();
    let ctx = site.pages.context("404", "Page not found", "/404.html");
    let mut response = site
        .pages
        .render("404.html", &ctx, StatusCode::NOT_FOUND)
        .unwrap_or_else(|e| e.into_response());
    response.headers_mut().insert(
        axum::http::header::HeaderName::from_static("x-robots-tag"),
        axum::http::HeaderValue::from_static("noindex"),
    );
    response
}

/// The title of the public article `slug`, or 404.
fn article_title(state: &AppState, slug: &str) -> Result<String, ApiError> {
    let unknown = || ApiError::NotFound(format!("there is no article `{slug}`"));
    if slug.is_empty()
        || slug.len() > 200
        || !slug
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(unknown());
    }
    state
        .site()
        .search()?
        .title_of(&format!("/kb/{slug}"))
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .ok_or_else(unknown)
}

/// "Was this helpful?"
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Feedback {
    /// `yes` or `no` (JSON clients may send `true` or `false`).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub helpful: Option<serde_json::Value>,
    /// What would have helped.
    #[serde(default)]
    pub comment: Option<String>,
    /// The honeypot.
    #[serde(default)]
    pub website: Option<String>,
}

#[utoipa::path(post, path = "/api/kb/{article}/feedback", tag = "search", summary = "Was this helpful? With an optional comment", params(("article" = String, Path, description = "The article's slug")), request_body(content((Feedback = "application/json"), (Feedback = "application/x-www-form-urlencoded"))), responses((status = 201, description = "Recorded", body = MessageBody), (status = 303, description = "From a form: back to the article"), (status = 404, description = "No such article", body = ErrorBody), (status = 422, description = "A field is missing or wrong; `field` names it", body = ErrorBody), (status = 429, description = "Too many requests from this address or for this e-mail address", body = ErrorBody), (status = 503, description = "Not done, or not known to be done (the store was busy or failed); `Retry-After` says when to send the same request, with the same `Idempotency-Key`, again", body = ErrorBody)))]
pub(crate) async fn feedback(
    State(state): State<AppState>,
    Path(article): Path<String>,
    idem: Idem,
    body: Input<Feedback>,
) -> Result<Response, ApiError> {
    let v = &body.value;
    input::honeypot(v.website.as_deref())?;
    article_title(&state, &article)?;
    let helpful = match &v.helpful {
        Some(serde_json::Value::Bool(b)) => *b,
        Some(serde_json::Value::String(s)) if s == "yes" || s == "true" => true,
        Some(serde_json::Value::String(s)) if s == "no" || s == "false" => false,
        None => return Err(ApiError::invalid("helpful", "is required: yes or no")),
        Some(other) => {
            return Err(ApiError::invalid(
                "helpful",
                format!("`{other}` is not yes or no"),
            ))
        }
    };
    let comment = match v
        .comment
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        Some(c) => Some(input::text("comment", c, 2000)?),
        None => None,
    };
    let record = ArticleFeedback {
        article: article.clone(),
        id: new_id(),
        helpful,
        comment,
        created: now(),
    };
    let answer = if body.from_form {
        idempotent::redirect(&format!("/kb/{article}#feedback-sent"))
    } else {
        idempotent::json(
            StatusCode::CREATED,
            &serde_json::json!({"message": "Thank you for your feedback.", "helpful": helpful}),
        )
    };
    let mut writes = vec![Write::Put(to_item(&record)?, Cond::NotExists)];
    writes.extend(idem.record(&answer)?);
    state.store.transact(writes).await?;
    Ok(idem.respond(answer))
}

/// Sending an article's link to someone.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Share {
    /// The recipient.
    #[serde(default)]
    pub email: String,
    /// Who sends it: accepted for older forms, never put in the e-mail (mail to an address
    /// nobody confirmed carries no free text).
    #[serde(default)]
    pub name: Option<String>,
    /// The honeypot.
    #[serde(default)]
    pub website: Option<String>,
}

#[utoipa::path(post, path = "/api/kb/{article}/share", tag = "search", summary = "E-mail an article's link to someone (rate-limited)", params(("article" = String, Path, description = "The article's slug")), request_body(content((Share = "application/json"), (Share = "application/x-www-form-urlencoded"))), responses((status = 202, description = "Sent", body = MessageBody), (status = 303, description = "From a form: back to the article"), (status = 404, description = "No such article", body = ErrorBody), (status = 422, description = "A field is missing or wrong; `field` names it", body = ErrorBody), (status = 429, description = "Too many requests from this address or for this e-mail address", body = ErrorBody), (status = 503, description = "Not done, or not known to be done (the store was busy or failed); `Retry-After` says when to send the same request, with the same `Idempotency-Key`, again", body = ErrorBody)))]
pub(crate) async fn share(
    State(state): State<AppState>,
    Path(article): Path<String>,
    ip: ClientIp,
    idem: Idem,
    body: Input<Share>,
) -> Result<Response, ApiError> {
    let v = &body.value;
    input::honeypot(v.website.as_deref())?;
    let title = article_title(&state, &article)?;
    let email = input::email("email", &v.email)?;
    if let Some(n) = v.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        input::line("name", n, 100)?;
    }
    let site = state.site();
    let limits = site.settings().limits;
    guard::limit(&state, "share", &ip.0, limits.shares_per_ip).await?;
    guard::limit_email(&state, &email).await?;
    // Only the article's title and link go out: no free text (not even the sender's name),
    // so the form cannot be used to send messages in the business's name.
    let mail = Mail::new(
        &email,
        format!("An article for you: {title}"),
        format!(
            "Hello,\n\nsomeone thought this article from {} would help you:\n\n{title}\n{}/kb/{article}\n\nYou will not receive further e-mails unless you ask for them.\n",
            site.settings().business,
            site.settings().base_url
        ),
    );
    let answer = if body.from_form {
        idempotent::redirect(&format!("/kb/{article}#shared"))
    } else {
        idempotent::json(
            StatusCode::ACCEPTED,
            &serde_json::json!({"message": format!("The link is on its way to {email}.")}),
        )
    };
    let mut writes = vec![Write::Put(to_item(&mail)?, Cond::NotExists)];
    writes.extend(idem.record(&answer)?);
    state.store.transact(writes).await?;
    state.deliver_mail().await;
    Ok(idem.respond(answer))
}
