//! Running a function group on AWS Lambda: the group's router handed to `lambda_http::run`,
//! with the caller's address taken from API Gateway's request context.
//!
//! A binary links only what its group uses: [`Function::with_files`] brings the S3 client,
//! [`Function::with_search`] the search engine; the others go without. Mail is queued in the
//! store by every group and sent by the `mailer` binary alone, fed by the table's stream, so
//! only the mailer links the SES client and may send.
//!
//! Configuration comes from the environment:
//! - `PORTAL_STORE`: the store, e.g. `dynamodb:portal` (AWS credentials and region as usual);
//! - `PORTAL_SITE_DIR`: the build's output for the functions, laid out as `site.json`,
//!   `search/` (the index), `search-customers/` and `private/` (what only customers see) and
//!   `theme/` (the theme folder), shipped beside the binary;
//! - `PORTAL_BLOBS` (groups with files): where files go, `s3:BUCKET`; without it uploads are
//!   refused;
//! - `PORTAL_MAIL_FROM` (the mailer): the SES identity mail is sent from;
//! - `PORTAL_SIGNING_KEY`: the key that signs form tokens and device cookies (from Secrets
//!   Manager); without it the key is made once and kept in the store;
//! - `PORTAL_ORIGIN_SECRET`: the secret CloudFront sends in `X-Portal-Origin`; when set, a
//!   request without it is refused and the caller's address is the viewer's
//!   (`CloudFront-Viewer-Address`), IPv6 counted per /64.

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use lambda_http::request::RequestContext;
use lambda_http::RequestExt;
use portal_core::blobs::BlobStore;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::guard::ClientIp;
use crate::state::{AppState, IndexOpener, LiveSite, SitePaths};

/// The paths of a Lambda bundle folder.
pub fn bundle_paths(dir: &Path) -> SitePaths {
    SitePaths {
        data: dir.join(portal_core::site::FILE),
        index: dir.join("search"),
        theme: dir.join("theme"),
        private: dir.join("private"),
        customer_index: dir.join("search-customers"),
    }
}

/// A blob store being opened.
type Opening = Pin<Box<dyn Future<Output = Result<Arc<dyn BlobStore>, lambda_http::Error>>>>;

/// Opens the blob store named by a `PORTAL_BLOBS` value.
type FilesOpener = fn(String) -> Opening;

fn open_files(spec: String) -> Opening {
    Box::pin(async move { Ok(portal_core::blobs::open(&spec).await?) })
}

/// One function binary: a group's routes and what they need beyond the store and the site.
///
/// ```no_run
/// use portal_functions::{groups, lambda::Function};
///
/// fn main() -> Result<(), lambda_http::Error> {
///     Function::new(groups::issues).with_files().run()
/// }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Function {
    routes: fn(AppState) -> Router,
    files: Option<FilesOpener>,
    search: Option<IndexOpener>,
    not_found: bool,
}

impl Function {
    /// A function serving `routes` (one of [`crate::groups`]).
    pub fn new(routes: fn(AppState) -> Router) -> Function {
        Function {
            routes,
            files: None,
            search: None,
            not_found: false,
        }
    }

    /// Keeps and serves files where `PORTAL_BLOBS` says.
    pub fn with_files(mut self) -> Function {
        self.files = Some(open_files);
        self
    }

    /// Opens the search indexes of the bundle.
    pub fn with_search(mut self) -> Function {
        self.search = Some(crate::state::open_index);
        self
    }

    /// Answers every address no route takes ([`crate::search::not_found`]): the function
    /// behind the API's `$default` route, where CloudFront sends pages missing from the bucket.
    pub fn with_not_found(mut self) -> Function {
        self.not_found = true;
        self
    }

    /// The group's router, with the not-found answer when [`Function::with_not_found`] asked.
    pub fn router(&self, state: AppState) -> Router {
        let routes = (self.routes)(state.clone());
        if self.not_found {
            routes.merge(
                Router::new()
                    .fallback(crate::search::not_found)
                    .with_state(state),
            )
        } else {
            routes
        }
    }

    /// The state this function runs with, from its environment.
    pub async fn state(&self) -> Result<AppState, lambda_http::Error> {
        let spec = std::env::var("PORTAL_STORE").unwrap_or_else(|_| "dynamodb:portal".into());
        let dir = std::env::var("PORTAL_SITE_DIR").unwrap_or_else(|_| "site".into());
        let store = portal_core::store::open(&spec).await?;
        let site = LiveSite::load_with(bundle_paths(Path::new(&dir)), self.search)?;
        let mut state = AppState::new(store, Arc::new(site), None);
        if let Some(key) = std::env::var("PORTAL_SIGNING_KEY")
            .ok()
            .filter(|k| !k.is_empty())
        {
            state = state
                .with_signing_key(&key)
                .map_err(|e| format!("PORTAL_SIGNING_KEY: {e}"))?;
        }
        Ok(match (self.files, std::env::var("PORTAL_BLOBS")) {
            (Some(open), Ok(spec)) => state.with_blobs(open(spec).await?),
            _ => state,
        })
    }

    /// Serves the group until Lambda stops the process.
    pub fn run(self) -> Result<(), lambda_http::Error> {
        runtime()?.block_on(async {
            let state = self.state().await?;
            lambda_http::run(app(self.router(state))).await
        })
    }
}

/// The header CloudFront adds to every request it forwards to the functions, carrying a
/// secret that only CloudFront and the functions know (`PORTAL_ORIGIN_SECRET`).
pub const ORIGIN_HEADER: &str = "x-portal-origin";

/// The header in which CloudFront tells the viewer's address and port.
pub const VIEWER_HEADER: &str = "cloudfront-viewer-address";

/// The address a limit counts a caller under: an IPv4 address as it is, an IPv6 address by
/// its /64 (one home or phone holds a whole /64, so counting single addresses would let one
/// device take billions of turns).
pub fn address_bucket(ip: std::net::IpAddr) -> String {
    match ip {
        std::net::IpAddr::V4(v4) => v4.to_string(),
        std::net::IpAddr::V6(v6) => {
            let s = v6.segments();
            format!(
                "{}/64",
                std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0)
            )
        }
    }
}

/// The address in a `CloudFront-Viewer-Address` value (`ADDRESS:PORT`, the IPv6 address
/// without brackets).
fn viewer_address(value: &str) -> Option<std::net::IpAddr> {
    let (address, port) = value.trim().rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    address.trim_matches(['[', ']']).parse().ok()
}

/// Who is calling, for the guards: behind CloudFront (when `origin_secret` is set) the
/// viewer's address CloudFront saw, trusted only on a request that carries the secret —
/// anything else did not come through CloudFront and is refused; otherwise API Gateway's
/// `sourceIp`. `X-Forwarded-For`, which anyone can write, is never read.
async fn caller(origin_secret: Option<Arc<str>>, mut req: Request, next: Next) -> Response {
    let source = match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.http.source_ip.clone(),
        _ => None,
    };
    let (origin, viewer) = {
        let header = |name: &str| {
            req.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        (header(ORIGIN_HEADER), header(VIEWER_HEADER))
    };
    let ip = match &origin_secret {
        Some(secret) => {
            if !origin.is_some_and(|h| crate::guard::same_secret(&h, secret)) {
                return crate::ApiError::Forbidden(
                    "the portal is reached through its own address only".into(),
                )
                .into_response();
            }
            // CloudFront always reports the viewer; without it every caller would share the
            // edge's address, so such a request is refused too.
            match viewer.as_deref().and_then(viewer_address) {
                Some(ip) => Some(address_bucket(ip)),
                None => {
                    return crate::ApiError::Forbidden(
                        "the request does not say where it comes from".into(),
                    )
                    .into_response()
                }
            }
        }
        None => source,
    };
    let ip = ip.map(|ip| match ip.parse() {
        Ok(parsed) => address_bucket(parsed),
        Err(_) => ip,
    });
    if let Some(ip) = ip {
        req.extensions_mut().insert(ClientIp(ip));
    }
    next.run(req).await
}

/// The router a Lambda serves: a group's routes (see [`crate::groups`]) behind the layer that
/// says who is calling (the viewer behind CloudFront, else API Gateway's `sourceIp`); behind CloudFront when `PORTAL_ORIGIN_SECRET` is set.
pub fn app(routes: Router) -> Router {
    let secret = std::env::var("PORTAL_ORIGIN_SECRET")
        .ok()
        .filter(|s| !s.is_empty());
    app_behind(routes, secret)
}

/// As [`app`], with the origin secret given (`None`: not behind CloudFront).
pub fn app_behind(routes: Router, origin_secret: Option<String>) -> Router {
    let secret: Option<Arc<str>> = origin_secret.map(Arc::from);
    routes.layer(axum::middleware::from_fn(
        move |req: Request, next: Next| caller(secret.clone(), req, next),
    ))
}

/// Logging to standard output as JSON lines (Lambda's JSON log format sends them to
/// CloudWatch as fields) at the levels `RUST_LOG` names
/// (`info` by default; targets as in `warn,portal_functions=debug`), and a single-threaded
/// runtime: one Lambda instance answers one request at a time.
fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|s| s.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(tracing::Level::INFO));
    tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().json().without_time())
        .with(filter)
        .init();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

/// The `main` of the mailer: fed by the table's stream, it delivers the due mails of the
/// outbox through SES whenever records change (the event's content is not needed: the outbox
/// itself says what is due). A failed batch is reported, so Lambda retries it and finally
/// hands it to the on-failure destination; the mails stay queued either way.
pub fn mailer_main() -> Result<(), lambda_http::Error> {
    runtime()?.block_on(async {
        let spec = std::env::var("PORTAL_STORE").unwrap_or_else(|_| "dynamodb:portal".into());
        let from = std::env::var("PORTAL_MAIL_FROM")
            .map_err(|_| "PORTAL_MAIL_FROM is not set: mail cannot be sent")?;
        let store = portal_core::store::open(&spec).await?;
        let mailer = crate::mail::SesMailer::from_env(from).await;
        let store = &store;
        let mailer = &mailer;
        let sender = crate::webhooks::Sender::new();
        let sender = &sender;
        lambda_http::lambda_runtime::run(lambda_http::lambda_runtime::service_fn(
            move |event: lambda_http::lambda_runtime::LambdaEvent<serde_json::Value>| async move {
                let sent = crate::mail::deliver_from(store, mailer).await;
                // Webhooks only in the scheduled rounds (their events carry no stream
                // `Records`): the stream's batches run one after another, so a slow endpoint
                // in a stream-fed round would hold the next mail up.
                let hooks = if event.payload.get("Records").is_none() {
                    crate::webhooks::deliver_from(
                        store,
                        sender,
                        std::time::Duration::from_secs(30),
                    )
                    .await
                } else {
                    crate::webhooks::Round::default()
                };
                let failing = portal_core::records::outbox::Outbox::new(store.clone())
                    .pending(100)
                    .await?
                    .iter()
                    .filter(|m| m.attempts > 0)
                    .count();
                if failing > 0 {
                    // Lambda retries the batch, then hands it to the on-failure destination.
                    return Err(
                        format!("{failing} mails could not be sent yet; they stay queued").into(),
                    );
                }
                Ok::<_, lambda_http::Error>(serde_json::json!({
                    "sent": sent,
                    "webhooks": { "queued": hooks.queued, "delivered": hooks.delivered, "failed": hooks.failed },
                }))
            },
        ))
        .await
    })
}
