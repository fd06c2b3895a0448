//! Customers-only content: knowledge-base articles the build published under `/my/kb/` into
//! its private folder, served only with a session, and search over the customers' index,
//! which holds them beside everything public.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::Json;

use super::{page, private};
use crate::auth::SignedIn;
use crate::error::ApiError;
#[allow(unused_imports)]
use crate::openapi::ErrorBody;
use crate::search::{results_page, run, SearchAnswer, SearchParams};
use crate::state::AppState;

#[utoipa::path(get, path = "/my/kb/{slug}", tag = "account", summary = "A customers-only article (HTML)",
    params(("slug" = String, Path, description = "The article")),
    responses((status = 200, description = "The page", content_type = "text/html"), (status = 303, description = "Not logged in: to /login"), (status = 404, description = "No such article", content_type = "text/html")))]
pub(crate) async fn article(
    State(state): State<AppState>,
    who: Result<SignedIn, ApiError>,
    Path(slug): Path<String>,
) -> Response {
    page(&state, who, async |state: &AppState, _who: SignedIn| {
        let gone = || ApiError::NotFound(format!("there is no article `{slug}`"));
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
            .join("my/kb")
            .join(format!("{slug}.html"));
        let html = tokio::fs::read_to_string(&path).await.map_err(|_| gone())?;
        Ok((StatusCode::OK, Html(html)).into_response())
    })
    .await
}

#[utoipa::path(get, path = "/api/my/search", tag = "account", summary = "Search everything public and the customers-only articles",
    params(SearchParams),
    responses((status = 200, description = "Ranked hits", body = SearchAnswer), (status = 401, description = "Not logged in", body = ErrorBody), (status = 422, description = "A parameter is wrong", body = ErrorBody)))]
pub(crate) async fn search_json(
    State(state): State<AppState>,
    _who: SignedIn,
    Query(p): Query<SearchParams>,
) -> Result<Response, ApiError> {
    let answer = run(&state.site().customer_search, &p)?;
    Ok(private(Json(answer).into_response()))
}

#[utoipa::path(get, path = "/my/search", tag = "account", summary = "The customers' search page (HTML)",
    params(SearchParams),
    responses((status = 200, description = "The page", content_type = "text/html"), (status = 303, description = "Not logged in: to /login")))]
pub(crate) async fn search_page(
    State(state): State<AppState>,
    who: Result<SignedIn, ApiError>,
    Query(p): Query<SearchParams>,
) -> Response {
    page(&state, who, async |state: &AppState, _who: SignedIn| {
        let site = state.site();
        Ok(results_page(&site, &site.customer_search, &p, "/my/search"))
    })
    .await
}
