//! Customers-only content: knowledge-base articles the build published under `/my/kb/` into
//! its private folder, served only with a session (the calendar's pages are in
//! [`super::calendar`]), registrations for any event, and search over the customers' index,
//! which holds them beside everything public.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use crate::auth::SignedIn;
use crate::error::ApiError;
#[allow(unused_imports)]
use crate::error::ErrorBody;
use crate::search::{results, run, SearchAnswer, SearchParams};
use crate::state::AppState;
use crate::view::View;

/// The marker every form of the theme carries (in `forms/honeypot.html`); the session's form
/// token is added beside it when a private page is served.
const FORM_MARK: &str = r#"<input type="hidden" name="form_token" value="" data-form-token>"#;

/// Serves the private page `my/{dir}/{slug}.html` built for customers, with the session's form
/// token in its forms.
pub(super) async fn private_page(
    state: &AppState,
    who: &SignedIn,
    dir: &str,
    slug: &str,
) -> Result<Response, ApiError> {
    let gone = || ApiError::NotFound(format!("there is no page `{slug}`"));
    let ok = !slug.is_empty()
        && slug.len() <= 200
        && slug
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !ok {
        return Err(gone());
    }
    let path = state
        .site()
        .private
        .join("my")
        .join(dir)
        .join(format!("{slug}.html"));
    let html = tokio::fs::read_to_string(&path).await.map_err(|_| gone())?;
    let csrf = crate::auth::csrf_token(state, who).await?;
    let html = html.replace(
        FORM_MARK,
        &format!(r#"{FORM_MARK}<input type="hidden" name="csrf" value="{csrf}">"#),
    );
    Ok((StatusCode::OK, Html(html)).into_response())
}

#[utoipa::path(get, path = "/my/kb/{slug}", tag = "account", summary = "A customers-only article (HTML)",
    params(("slug" = String, Path, description = "The article")),
    responses((status = 200, description = "The page", content_type = "text/html"), (status = 303, description = "Not logged in: to /login"), (status = 404, description = "No such article", content_type = "text/html")))]
pub(crate) async fn article(
    State(state): State<AppState>,
    who: SignedIn,
    Path(slug): Path<String>,
) -> Result<Response, ApiError> {
    private_page(&state, &who, "kb", &slug).await
}

#[utoipa::path(post, path = "/api/my/events/{event}/registrations", tag = "account", summary = "Register for any event, customers-only ones included",
    params(("event" = String, Path, description = "The event")),
    request_body(content((crate::events::NewRegistration = "application/json"), (crate::events::NewRegistration = "application/x-www-form-urlencoded"))),
    responses((status = 201, description = "Registered or on the waiting list", body = crate::events::Registered), (status = 303, description = "From a form: back to the event"),
        (status = 401, description = "Not logged in", body = ErrorBody), (status = 404, description = "No such event", body = ErrorBody), (status = 409, description = "Already registered, or closed", body = ErrorBody)))]
pub(crate) async fn register(
    State(state): State<AppState>,
    _who: SignedIn,
    Path(slug): Path<String>,
    body: crate::input::Input<crate::events::NewRegistration>,
) -> Result<Response, ApiError> {
    crate::events::register_for(&state, slug, body, true, crate::idempotent::Idem::default()).await
}

#[utoipa::path(get, path = "/api/my/search", tag = "account", summary = "Search everything public and the customers-only articles",
    params(SearchParams),
    responses((status = 200, description = "Ranked hits", body = SearchAnswer), (status = 401, description = "Not logged in", body = ErrorBody), (status = 422, description = "A parameter is wrong", body = ErrorBody)))]
pub(crate) async fn search(
    State(state): State<AppState>,
    _who: SignedIn,
    Query(p): Query<SearchParams>,
) -> Result<View<SearchAnswer>, ApiError> {
    let answer = run(state.site().customer_search()?, &p)?;
    Ok(results(answer, "/my/search"))
}

#[utoipa::path(get, path = "/my/search", tag = "account", summary = "The customers' search page (HTML)",
    params(SearchParams),
    responses((status = 200, description = "The page", content_type = "text/html"), (status = 303, description = "Not logged in: to /login")))]
#[allow(dead_code)]
pub(crate) fn search_page() {}
