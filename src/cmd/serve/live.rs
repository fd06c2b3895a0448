//! Live reload (`portal serve --live-reload`): every HTML answer carries a small script that
//! listens to `/__portal/live` (server-sent events) and reloads the page when a rebuild has
//! finished, as Zola's and Hugo's servers do. Off by default: a site served to customers
//! has no use for it.

use std::convert::Infallible;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tokio::sync::watch;

/// The event stream's address.
pub const EVENTS: &str = "/__portal/live";
/// The script's address.
pub const SCRIPT: &str = "/__portal/live.js";
/// The script: reloads the page on each `reload` event.
const JS: &str = "// portal serve --live-reload: reloads this page after each rebuild.\nnew EventSource(\"/__portal/live\").addEventListener(\"reload\", () => location.reload());\n";
/// What goes before `</body>`.
const TAG: &str = "<script src=\"/__portal/live.js\" defer></script>";
/// The largest page it adds the script to; larger answers pass unchanged.
const MOST: usize = 16 << 20;
/// The count a closing server sends: streams end.
pub const CLOSING: u64 = u64::MAX;

/// Tells open pages that a rebuild finished (or, with [`CLOSING`], that the server stops).
#[derive(Clone)]
pub struct Reloads(watch::Sender<u64>);

impl Reloads {
    /// No rebuild yet.
    pub fn new() -> Reloads {
        Reloads(watch::channel(0).0)
    }

    /// A rebuild finished: open pages reload.
    pub fn rebuilt(&self) {
        self.0.send_modify(|n| *n = n.wrapping_add(1) % CLOSING);
    }

    /// The server stops: event streams end, so that connections can close.
    pub fn closing(&self) {
        self.0.send_replace(CLOSING);
    }

    /// The two routes, and the layer that adds the script to HTML answers, around `app`.
    pub fn around(&self, app: Router) -> Router {
        let events = self.0.clone();
        Router::new()
            .route(EVENTS, get(stream).with_state(events))
            .route(
                SCRIPT,
                get(|| async {
                    (
                        [
                            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
                            (header::CACHE_CONTROL, "no-store"),
                        ],
                        JS,
                    )
                }),
            )
            .fallback_service(app)
            .layer(axum::middleware::from_fn(add_script))
    }
}

async fn stream(State(events): State<watch::Sender<u64>>) -> impl IntoResponse {
    let rx = events.subscribe();
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.changed().await.ok()?;
        let n = *rx.borrow_and_update();
        (n != CLOSING).then(|| {
            let event = Event::default().event("reload").data(n.to_string());
            (Ok::<_, Infallible>(event), rx)
        })
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

/// Adds the script before `</body>` of each whole HTML answer. Files are asked for
/// uncompressed, so their bytes can be changed.
async fn add_script(mut req: Request, next: Next) -> Response {
    req.headers_mut().remove(header::ACCEPT_ENCODING);
    let response = next.run(req).await;
    let html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/html"));
    let shown = response.status().is_success() || response.status().is_client_error();
    let small = http_body::Body::size_hint(response.body())
        .upper()
        .is_some_and(|n| n <= MOST as u64);
    if !html || !shown || !small {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MOST).await else {
        // The body failed while read: the client gets the error it would have had.
        return axum::http::StatusCode::BAD_GATEWAY.into_response();
    };
    let text = String::from_utf8_lossy(&bytes);
    let page = match text.rfind("</body>") {
        Some(at) => format!("{}{TAG}{}", &text[..at], &text[at..]),
        None => format!("{text}{TAG}"),
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    parts
        .headers
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Response::from_parts(parts, Body::from(page))
}
