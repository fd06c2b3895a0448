//! The local server's routes: the built site as static files (pages at `/kb/name` from
//! `kb/name.html`, as the CDN serves them), the search page rendered on demand, and the
//! security headers on every response.

use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use axum::extract::{Query, Request, State};
use axum::http::{header, HeaderValue, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use portal_generator::search_page::SearchPage;
use serde::Deserialize;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::cli::SiteArgs;

/// The security headers every response carries.
const HEADERS: &[(header::HeaderName, &str)] = &[
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::REFERRER_POLICY, "strict-origin-when-cross-origin"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (
        header::CONTENT_SECURITY_POLICY,
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'; object-src 'none'",
    ),
];

/// Longest search query accepted, in characters.
const MAX_QUERY: usize = 500;

/// What the server serves: the built site and, once a build has succeeded, its search page.
pub struct Served {
    site: PathBuf,
    theme: PathBuf,
    index: PathBuf,
    search: RwLock<Option<Arc<SearchPage>>>,
}

impl Served {
    /// The output of builds of `args`.
    pub fn new(args: &SiteArgs) -> Served {
        Served {
            site: args.out.join("site"),
            theme: args.theme.clone(),
            index: args.out.join("search"),
            search: RwLock::new(None),
        }
    }

    /// Opens the search page over the latest build's index.
    pub fn reload_search(&self) {
        match SearchPage::open(&self.theme, &self.index) {
            Ok(page) => {
                *self.search.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(page))
            }
            Err(e) => eprintln!("error: search is unavailable: {e}"),
        }
    }
}

/// The router: the site, its search page, and `functions` (the function routes, state applied).
pub fn router(served: Arc<Served>, functions: Router) -> Router {
    let files =
        ServeDir::new(&served.site).not_found_service(ServeFile::new(served.site.join("404.html")));
    let mut router = Router::new()
        .route("/search", get(search))
        .fallback_service(files)
        .layer(middleware::from_fn_with_state(served.clone(), pretty_urls))
        .with_state(served)
        .merge(functions);
    for (name, value) in HEADERS {
        router = router.layer(SetResponseHeaderLayer::if_not_present(
            name.clone(),
            HeaderValue::from_static(value),
        ));
    }
    router
}

/// `GET /search` query parameters.
#[derive(Deserialize)]
struct SearchParams {
    #[serde(default)]
    q: String,
    #[serde(default)]
    topic: String,
    #[serde(default)]
    page: Option<String>,
}

/// `GET /search?q=…&topic=…&page=…`: results rendered with the theme.
async fn search(State(served): State<Arc<Served>>, Query(params): Query<SearchParams>) -> Response {
    if params.q.chars().count() > MAX_QUERY {
        return (
            StatusCode::BAD_REQUEST,
            format!("q: the search is longer than {MAX_QUERY} characters"),
        )
            .into_response();
    }
    let page = match params.page.as_deref().filter(|p| !p.is_empty()) {
        None => 1,
        Some(p) => match p.parse::<usize>() {
            Ok(n) if (1..=1000).contains(&n) => n,
            _ => {
                return (
                    StatusCode::BAD_REQUEST,
                    format!("page: `{p}` is not a page number from 1 to 1000"),
                )
                    .into_response()
            }
        },
    };
    let Some(search) = served
        .search
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
    else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "search is unavailable until a build succeeds",
        )
            .into_response();
    };
    let rendered =
        tokio::task::spawn_blocking(move || search.render(&params.q, &params.topic, page)).await;
    match rendered
        .map_err(|e| e.to_string())
        .and_then(|r| r.map_err(|e| e.to_string()))
    {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!("search page: {e}");
            (StatusCode::SERVICE_UNAVAILABLE, "search failed; try again").into_response()
        }
    }
}

/// Serves page `/kb/name` from `kb/name.html`, as the CDN does, and sends `/kb/name/` there.
async fn pretty_urls(State(served): State<Arc<Served>>, mut req: Request, next: Next) -> Response {
    let site = &served.site;
    let path = req.uri().path().to_string();
    let rel = path.trim_start_matches('/');
    let last = rel.rsplit('/').next().unwrap_or("");
    let plain = !rel.is_empty() && !rel.contains(['%', '\\']) && !rel.split('/').any(|s| s == "..");
    let query = req
        .uri()
        .query()
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    if plain
        && !rel.ends_with('/')
        && !last.contains('.')
        && site.join(format!("{rel}.html")).is_file()
    {
        if let Ok(uri) = format!("{path}.html{query}").parse::<Uri>() {
            *req.uri_mut() = uri;
        }
    } else if plain && rel.ends_with('/') && !site.join(rel).join("index.html").is_file() {
        let trimmed = rel.trim_end_matches('/');
        if site.join(format!("{trimmed}.html")).is_file() {
            return Redirect::permanent(&format!("/{trimmed}{query}")).into_response();
        }
    }
    next.run(req).await
}
