//! The local server's routes: the built site as static files (pages at `/kb/name` from
//! `kb/name.html`, as the CDN serves them) beside the functions, and the security headers on
//! every response.

use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Router;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::cli::SiteArgs;

/// The security headers every response carries.
const HEADERS: &[(header::HeaderName, &str)] = &[
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::REFERRER_POLICY, "strict-origin-when-cross-origin"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (
        header::STRICT_TRANSPORT_SECURITY,
        "max-age=63072000; includeSubDomains",
    ),
    (
        header::CONTENT_SECURITY_POLICY,
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'; object-src 'none'",
    ),
];

/// What the server serves from disk: the latest build's site, its files kept in memory.
pub struct Served {
    pub(super) site: PathBuf,
    pub(super) files: Arc<super::files::FileCache>,
}

impl Served {
    /// The output of builds of `args`.
    pub fn new(args: &SiteArgs) -> Served {
        let site = args.out.join("site");
        Served {
            files: Arc::new(super::files::FileCache::new(site.clone())),
            site,
        }
    }
}

/// The router: the site, and `functions` (the function routes, state applied); with
/// `live`, the live-reload routes and script too.
pub fn router(
    served: Arc<Served>,
    functions: Router,
    live: Option<&super::live::Reloads>,
) -> Router {
    let files_first = served.files.clone();
    let files =
        ServeDir::new(&served.site).not_found_service(ServeFile::new(served.site.join("404.html")));
    let mut router = Router::new()
        .fallback_service(files)
        .layer(middleware::from_fn_with_state(served.clone(), pretty_urls))
        .layer(middleware::from_fn_with_state(
            served.files.clone(),
            super::files::from_memory,
        ))
        .with_state(served)
        .merge(functions);
    for (name, value) in HEADERS {
        router = router.layer(SetResponseHeaderLayer::if_not_present(
            name.clone(),
            HeaderValue::from_static(value),
        ));
    }
    // In front of the router, not one of its layers: a router's layers wrap each route and
    // its fallback, after routing.
    let front = tower_layer::Layer::layer(&FilesFirst(files_first), router);
    let app = Router::new().fallback_service(front);
    let app = match live {
        Some(live) => {
            let mut app = live.around(app);
            for (name, value) in HEADERS {
                app = app.layer(SetResponseHeaderLayer::if_not_present(
                    name.clone(),
                    HeaderValue::from_static(value),
                ));
            }
            app
        }
        None => app,
    };
    app.layer(middleware::from_fn(super::keepalive::keep_alive))
}

/// In front of the router: a site file answered before at the same address is answered
/// again from memory, with the security headers, without routing (see
/// [`super::files::by_address`]). A plain `tower` layer: a request it does not answer goes
/// on to the router without a box or a clone.
#[derive(Clone)]
struct FilesFirst(Arc<super::files::FileCache>);

impl<S> tower_layer::Layer<S> for FilesFirst {
    type Service = FilesFirstService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        FilesFirstService {
            files: self.0.clone(),
            inner,
        }
    }
}

#[derive(Clone)]
struct FilesFirstService<S> {
    files: Arc<super::files::FileCache>,
    inner: S,
}

impl<S> tower_service::Service<Request> for FilesFirstService<S>
where
    S: tower_service::Service<Request, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future =
        futures_util::future::Either<std::future::Ready<Result<Response, S::Error>>, S::Future>;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        use futures_util::future::Either;
        match super::files::by_address(&self.files, &req) {
            Some(mut answer) => {
                let headers = answer.headers_mut();
                for (name, value) in HEADERS {
                    headers
                        .entry(name)
                        .or_insert_with(|| HeaderValue::from_static(value));
                }
                Either::Left(std::future::ready(Ok(answer)))
            }
            None => Either::Right(self.inner.call(req)),
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
