//! One view, two renderings. A handler returns what it found as a typed [`View`] and the
//! route decides how it is shown: under `/api/` as JSON, anywhere else as the theme's page.
//! An [`ApiError`] is shown the same way (its JSON envelope for an API client, the theme's
//! message page for a browser), and a successful post is answered by [`done`]: a browser's
//! form goes on to a page (`303 See Other`), an API client gets JSON.
//!
//! [`render`] is the one layer that turns views and errors into pages; handlers never render
//! a template themselves.
//!
//! ```ignore
//! async fn invoice(State(state): State<AppState>, who: SignedIn, Path(id): Path<String>)
//!     -> Result<View<InvoiceView>, ApiError> {
//!     let i = own_invoice(&state, &who, &id).await?;
//!     Ok(View::new(invoice_view(&i), "my/invoice.html", "invoice")
//!         .titled("account", format!("Invoice {}", i.number), "/my/"))
//! }
//! // mounted twice: `/api/my/invoices/{id}` answers JSON, `/my/invoices/{id}` the page
//! ```

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Serialize;
use serde_json::Value;

use crate::error::{ApiError, ErrorDetail};
use crate::idempotent::{self, Answer};
use crate::pages::{Message, Pages};
use crate::state::AppState;

/// Which door a request came in by: the API (`/api/…`, answered with JSON) or the site
/// (anything else, answered with the theme's pages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Door {
    /// `/api/…`: JSON.
    Api,
    /// A page address: HTML.
    Page,
}

impl Door {
    /// The door of a request for `path`.
    pub fn of(path: &str) -> Door {
        if path == "/api" || path.starts_with("/api/") {
            Door::Api
        } else {
            Door::Page
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Door {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Door::of(parts.uri.path()))
    }
}

/// What a page needs besides the data: its template and where it sits on the site.
#[derive(Debug, Clone)]
struct PageSpec {
    template: &'static str,
    section: &'static str,
    title: String,
    url: String,
    /// The data goes into the template's context under this name, or (none) field by field.
    name: Option<&'static str>,
    extra: Vec<(&'static str, Value)>,
    noindex: bool,
}

/// A handler's answer: typed data, shown as JSON through the API's door and as the page
/// `template` through the site's.
#[derive(Debug, Clone)]
pub struct View<T> {
    status: StatusCode,
    data: T,
    page: PageSpec,
}

impl<T> View<T> {
    /// `data`, given to `template` under `name`.
    pub fn new(data: T, template: &'static str, name: &'static str) -> View<T> {
        View::spec(data, template, Some(name))
    }

    /// `data`, whose fields are given to `template` one by one.
    pub fn flat(data: T, template: &'static str) -> View<T> {
        View::spec(data, template, None)
    }

    fn spec(data: T, template: &'static str, name: Option<&'static str>) -> View<T> {
        View {
            status: StatusCode::OK,
            data,
            page: PageSpec {
                template,
                section: "",
                title: String::new(),
                url: "/".into(),
                name,
                extra: Vec::new(),
                noindex: false,
            },
        }
    }

    /// The page's section of the site (for the menu), title and canonical address.
    pub fn titled(mut self, section: &'static str, title: impl Into<String>, url: &str) -> Self {
        self.page.section = section;
        self.page.title = title.into();
        self.page.url = url.to_string();
        self
    }

    /// Something only the page needs (a form token, a link's token), under `key`.
    pub fn with(mut self, key: &'static str, value: impl Serialize) -> Self {
        self.page
            .extra
            .push((key, serde_json::to_value(value).unwrap_or(Value::Null)));
        self
    }

    /// Keeps the page out of search engines (`X-Robots-Tag: noindex`).
    pub fn unlisted(mut self) -> Self {
        self.page.noindex = true;
        self
    }

    /// Answers with `status` instead of 200.
    pub fn status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }
}

impl View<Message> {
    /// A short message page (a link followed from an e-mail, what happened after it), kept
    /// out of search engines.
    pub fn message(status: StatusCode, message: Message) -> View<Message> {
        let title = message.title.clone();
        View::new(message, "message.html", "message")
            .titled("message", title, "/")
            .status(status)
            .unlisted()
    }
}

/// Makes a view's page from the theme's templates.
type PageMaker = dyn Fn(&Pages) -> Result<String, ApiError> + Send + Sync;

/// A view waiting for [`render`] to become a page, carried in the response's extensions.
#[derive(Clone)]
struct Pending {
    noindex: bool,
    render: Arc<PageMaker>,
}

impl<T: Serialize + Send + Sync + 'static> IntoResponse for View<T> {
    fn into_response(self) -> Response {
        let body = match serde_json::to_vec(&self.data) {
            Ok(b) => b,
            Err(e) => return ApiError::Internal(format!("view: {e}")).into_response(),
        };
        let mut r = (
            self.status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            body,
        )
            .into_response();
        let View { data, page, .. } = self;
        let noindex = page.noindex;
        r.extensions_mut().insert(Pending {
            noindex,
            render: Arc::new(move |pages: &Pages| page_html(pages, &page, &data)),
        });
        r
    }
}

fn page_html<T: Serialize>(pages: &Pages, page: &PageSpec, data: &T) -> Result<String, ApiError> {
    let mut ctx = pages.context(page.section, &page.title, &page.url);
    let value = serde_json::to_value(data)
        .map_err(|e| ApiError::Internal(format!("{}: {e}", page.template)))?;
    match (page.name, value) {
        (Some(name), value) => ctx.insert(name, &value),
        (None, Value::Object(fields)) => {
            for (k, v) in fields {
                ctx.insert(k, &v);
            }
        }
        (None, _) => {}
    }
    for (k, v) in &page.extra {
        ctx.insert(*k, v);
    }
    pages.html(page.template, &ctx)
}

/// `view` as the page, at once: for an answer made outside the [`render`] layer (the
/// fallback for addresses nothing serves). `path` is the address asked for.
pub fn page_now<T: Serialize>(pages: &Pages, view: View<T>, path: &str) -> Response {
    match page_html(pages, &view.page, &view.data) {
        Ok(html) => with_html(view.status.into_response(), html, view.page.noindex),
        Err(e) => error_page(pages, &e.detail(), path),
    }
}

/// The answer to a post that did what it was asked: a browser's form goes on to `onward`
/// (`303 See Other`), an API client gets `value` as JSON with `status` (nothing with `204`).
/// An [`Answer`], so a handler can record it with its work ([`crate::idempotent`]).
pub fn done<T: Serialize>(from_form: bool, onward: &str, status: StatusCode, value: &T) -> Answer {
    if from_form {
        idempotent::redirect(onward)
    } else if status == StatusCode::NO_CONTENT {
        Answer {
            status: status.as_u16(),
            headers: Vec::new(),
            body: String::new(),
        }
    } else {
        idempotent::json(status, value)
    }
}

/// [`done`] as a response, for a post that keeps no answer for retries.
pub fn done_now<T: Serialize>(
    from_form: bool,
    onward: &str,
    status: StatusCode,
    value: &T,
) -> Response {
    idempotent::to_response(done(from_form, onward, status, value))
}

/// A browser's form goes on to `onward` (`303 See Other`); an API client gets `answer`, a
/// response an operation made already (with its own status and headers).
pub fn done_with(from_form: bool, onward: &str, answer: Response) -> Response {
    if from_form {
        idempotent::to_response(idempotent::redirect(onward))
    } else {
        answer
    }
}

/// Whether `headers` describe a body posted by an HTML form.
pub fn is_form(method: &Method, headers: &HeaderMap) -> bool {
    let kind = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    *method == Method::POST
        && (kind.starts_with("application/x-www-form-urlencoded")
            || kind.starts_with("multipart/form-data"))
}

/// The page a form was on (from `Referer`), when it is one of ours.
fn form_page(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| r.parse::<axum::http::Uri>().ok())
        .filter(|u| {
            u.host().is_none()
                || headers
                    .get(header::HOST)
                    .and_then(|h| h.to_str().ok())
                    .is_some_and(|h| u.authority().is_some_and(|a| a.as_str() == h))
        })
        .map(|u| u.path().to_string())
        .filter(|p| p.starts_with('/') && !p.starts_with("//"))
}

/// Where a page that failed sends its reader on: (link text, address).
fn onward(path: &str) -> (&'static str, &'static str) {
    if path.starts_with("/track/") {
        ("Ask for a new link", "/issues/track")
    } else if path.starts_with("/my/search") {
        ("Search again", "/my/search")
    } else if path.starts_with("/my/") {
        ("Your account", "/my/")
    } else if path.starts_with("/desk") {
        ("The desk", "/desk/")
    } else if path.starts_with("/search") {
        ("Search again", "/search")
    } else {
        ("Back to the home page", "/")
    }
}

/// A page's heading for an error with `status`.
fn heading(status: StatusCode) -> &'static str {
    match status.as_u16() {
        404 | 410 => "Not found",
        401 => "Please log in",
        403 => "Not allowed",
        409 => "Already done",
        422 | 400 => "Please check the address",
        429 => "Too many requests",
        _ => "Please try again shortly",
    }
}

/// The layer of every function group: views become the theme's pages through the site's
/// door, errors become message pages for a browser (a page address, or a form posted
/// anywhere), and everything else passes as it is.
pub async fn render(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let door = Door::of(&path);
    let get = matches!(*req.method(), Method::GET | Method::HEAD);
    let form = is_form(req.method(), req.headers());
    let back = form.then(|| form_page(req.headers())).flatten();
    let mut response = next.run(req).await;
    if let Some(pending) = response.extensions_mut().remove::<Pending>() {
        if door == Door::Api {
            return response;
        }
        let site = state.site();
        return match (pending.render)(&site.pages) {
            Ok(html) => with_html(response, html, pending.noindex),
            Err(e) => error_page(&site.pages, &e.detail(), &path),
        };
    }
    let Some(detail) = response.extensions().get::<ErrorDetail>().cloned() else {
        return response;
    };
    let status = response.status();
    if form {
        let text = match &detail.field {
            Some(field) => format!("{}: {}", field.replace('_', " "), detail.message),
            None => detail.message.clone(),
        };
        let mut m = if status.is_client_error() {
            let mut m = Message::new("Please check the form", text);
            m.paragraphs
                .push("Nothing was sent. Go back, correct it and send the form again.".into());
            m
        } else {
            Message::new("Please try again shortly", text)
        };
        m = match back {
            Some(path) => m.link("Back to the form", path),
            None => m.link("Back to the home page", "/"),
        };
        let html = state.site().pages.message_html(&m);
        return with_html(response, html, true);
    }
    if door == Door::Api {
        return response;
    }
    if get && status == StatusCode::UNAUTHORIZED {
        let login = if path.starts_with("/desk") {
            "/desk/login"
        } else {
            "/login"
        };
        return Redirect::to(login).into_response();
    }
    let (text, to) = onward(&path);
    let m = Message::new(heading(status), said(&detail)).link(text, to);
    let html = state.site().pages.message_html(&m);
    with_html(response, html, true)
}

/// An error as a sentence: the field at fault first, as the API's clients read it.
fn said(detail: &ErrorDetail) -> String {
    match &detail.field {
        Some(field) => format!("{field}: {}", detail.message),
        None => detail.message.clone(),
    }
}

/// A page for an error that happened while a page was being made.
fn error_page(pages: &Pages, detail: &ErrorDetail, path: &str) -> Response {
    let status = StatusCode::from_u16(detail.status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    let (text, to) = onward(path);
    let m = Message::new(heading(status), said(detail)).link(text, to);
    with_html(status.into_response(), pages.message_html(&m), true)
}

/// `response` with `html` as its body, its status and headers kept.
fn with_html(response: Response, html: String, noindex: bool) -> Response {
    let (mut parts, _) = response.into_parts();
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    if noindex {
        parts.headers.insert(
            header::HeaderName::from_static("x-robots-tag"),
            HeaderValue::from_static("noindex"),
        );
    }
    Response::from_parts(parts, Body::from(html))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_door_is_the_path() {
        assert_eq!(Door::of("/api/my/invoices/1"), Door::Api);
        assert_eq!(Door::of("/my/invoices/1"), Door::Page);
        assert_eq!(Door::of("/apis"), Door::Page);
    }

    #[test]
    fn a_form_goes_on_and_a_client_gets_json() {
        let a = done(true, "/my/quotes/q-1", StatusCode::OK, &1);
        assert_eq!(a.status, 303);
        let b = done(false, "/my/quotes/q-1", StatusCode::CREATED, &1);
        assert_eq!((b.status, b.body.as_str()), (201, "1"));
        let c = done(false, "/", StatusCode::NO_CONTENT, &());
        assert_eq!((c.status, c.body.as_str(), c.headers.len()), (204, "", 0));
    }

    #[test]
    fn failed_pages_lead_somewhere_useful() {
        assert_eq!(onward("/track/abc").1, "/issues/track");
        assert_eq!(onward("/my/invoices/x").1, "/my/");
        assert_eq!(onward("/my/search").1, "/my/search");
        assert_eq!(onward("/newsletter/confirm/x").1, "/");
    }
}
