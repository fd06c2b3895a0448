//! The `search` function: full-text search over the index the build wrote, as JSON
//! (`GET /api/search`) and as the theme's results page (`GET /search`), and the knowledge
//! base's reader feedback (`POST /api/kb/{article}/feedback`) and sharing by e-mail
//! (`POST /api/kb/{article}/share`), which ship with the index because it knows every
//! article.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use portal_core::records::feedback::{ArticleFeedback, ReaderSignals};
use portal_core::records::outbox::Mail;
use portal_core::records::{new_id, to_item};
use portal_core::search::{Results, Searcher};
use portal_core::store::{now, Cond, Write};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
#[allow(unused_imports)]
use crate::error::{ErrorBody, MessageBody};
use crate::guard::{self, ClientIp};
use crate::idempotent::Idem;
use crate::input::{self, Input};
use crate::state::AppState;
use crate::view::{done, View};

/// Longest search accepted, in characters.
pub const MAX_QUERY: usize = 500;
/// Hits per page unless `per_page` says otherwise.
pub const PER_PAGE: usize = 10;
/// The largest `per_page`.
pub const MAX_PER_PAGE: usize = 50;

/// The group's routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/search", get(search))
        .route("/search", get(search))
        .route("/api/kb/{article}/feedback", post(feedback))
        .route("/api/kb/{article}/share", post(share))
        .layer(axum::extract::DefaultBodyLimit::max(
            crate::fields::MAX_BODY,
        ))
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
pub(crate) async fn search(
    State(state): State<AppState>,
    ip: ClientIp,
    Query(p): Query<SearchParams>,
) -> Result<View<SearchAnswer>, ApiError> {
    let answer = run(state.site().search()?, &p)?;
    if answer.total == 0 && answer.page == 1 && !answer.query.is_empty() {
        note_miss(&state, &ip, &answer.query).await;
    }
    Ok(results(answer, "/search"))
}

/// Most searches that found nothing recorded from one address an hour: enough for a person,
/// and a bound on what a script can write.
const MISSES_PER_HOUR: u32 = 30;

/// Records a search that found nothing, for the desk's insight. Past the address's hourly
/// allowance, or if the store fails, the search is answered all the same and the miss is not
/// recorded: the record is a hint for the writers, not something the visitor waits for.
async fn note_miss(state: &AppState, ip: &ClientIp, words: &str) {
    // An IPv6 visitor holds a whole /64: counted as one address.
    let who = match ip.0.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        _ => ip.0.clone(),
    };
    if guard::limit(state, "search-miss", &who, MISSES_PER_HOUR)
        .await
        .is_err()
    {
        return;
    }
    if let Err(e) = ReaderSignals::new(state.store.clone())
        .record_miss(words)
        .await
    {
        tracing::warn!("a search that found nothing was not recorded: {e}");
    }
}

#[utoipa::path(get, path = "/search", tag = "search", summary = "The search results page (HTML)", params(SearchParams), responses((status = 200, description = "The page", content_type = "text/html"), (status = 422, description = "A parameter is wrong", content_type = "text/html")))]
#[allow(dead_code)]
pub(crate) fn search_page() {}

/// The theme's results page for `answer`, its form posting to `action`.
pub(crate) fn results(answer: SearchAnswer, action: &'static str) -> View<SearchAnswer> {
    let title = if answer.query.is_empty() {
        "Search".to_string()
    } else {
        format!("Search: {}", answer.query)
    };
    let first = (answer.page - 1) * answer.per_page;
    let (last, prev_page, next_page) = (
        first + answer.hits.len(),
        (answer.page > 1).then(|| answer.page - 1),
        (answer.page * answer.per_page < answer.total).then_some(answer.page + 1),
    );
    View::flat(answer, "search.html")
        .titled("search", title, "/search/")
        .with(
            "description",
            "Search the knowledge base, FAQ, calendar and documents.",
        )
        .with("search_action", action)
        .with("first", first + 1)
        .with("last", last)
        .with("prev_page", prev_page)
        .with("next_page", next_page)
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
    let view = View::flat((), "404.html")
        .titled("404", "Page not found", "/404.html")
        .status(StatusCode::NOT_FOUND)
        .unlisted();
    crate::view::page_now(&state.site().pages, view, path)
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
    #[schema(required = true, schema_with = helpful_schema)]
    pub helpful: Option<serde_json::Value>,
    /// What would have helped.
    #[serde(default)]
    #[schema(pattern = "rule:blank-or-text", max_length = 2000)]
    pub comment: Option<String>,
    /// The honeypot.
    #[serde(default)]
    #[serde(deserialize_with = "crate::input::text_only")]
    #[schema(schema_with = crate::input::honeypot_schema)]
    pub website: Option<String>,
}

/// The API document's schema of `helpful`.
fn helpful_schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Boolean]))
        .enum_values(Some([
            serde_json::json!("yes"),
            serde_json::json!("no"),
            serde_json::json!("true"),
            serde_json::json!("false"),
            serde_json::json!(true),
            serde_json::json!(false),
        ]))
        .description(Some(
            "`yes` or `no` (JSON clients may send `true` or `false`)",
        ))
        .build()
        .into()
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
    let comment = match v.comment.as_deref() {
        Some(c) => input::optional_text("comment", c, 2000)?,
        None => None,
    };
    let record = ArticleFeedback {
        article: article.clone(),
        id: new_id(),
        helpful,
        comment,
        created: now(),
    };
    let answer = done(
        body.from_form,
        &format!("/kb/{article}#feedback-sent"),
        StatusCode::CREATED,
        &serde_json::json!({"message": "Thank you for your feedback.", "helpful": helpful}),
    );
    let event = portal_core::records::feed::Event::new(
        "article.feedback",
        "visitor",
        None,
        format!("article {article}"),
        serde_json::json!({ "article": article, "helpful": helpful, "comment": record.comment }),
    );
    let mut writes = record.writes()?;
    writes.push(event.write()?);
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
    #[schema(required = true, schema_with = crate::input::email_schema)]
    pub email: String,
    /// Who sends it: accepted for older forms, never put in the e-mail (mail to an address
    /// nobody confirmed carries no free text).
    #[serde(default)]
    #[schema(pattern = "rule:blank-or-line", max_length = 100)]
    pub name: Option<String>,
    /// The honeypot.
    #[serde(default)]
    #[serde(deserialize_with = "crate::input::text_only")]
    #[schema(schema_with = crate::input::honeypot_schema)]
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
    if let Some(n) = v.name.as_deref() {
        input::optional_line("name", n, 100)?;
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
    let answer = done(
        body.from_form,
        &format!("/kb/{article}#shared"),
        StatusCode::ACCEPTED,
        &MessageBody::new(format!("The link is on its way to {email}.")),
    );
    let mut writes = vec![Write::Put(to_item(&mail)?, Cond::NotExists)];
    writes.extend(idem.record(&answer)?);
    state.store.transact(writes).await?;
    state.deliver_mail().await;
    Ok(idem.respond(answer))
}
