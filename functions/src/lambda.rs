//! Running a function group on AWS Lambda: the group's router handed to `lambda_http::run`,
//! with the caller's address taken from API Gateway's request context.
//!
//! Configuration comes from the environment:
//! - `PORTAL_STORE`: the store, e.g. `dynamodb:portal` (AWS credentials and region as usual);
//! - `PORTAL_SITE_DIR`: the build's output for the functions, laid out as `site.json`,
//!   `search/` (the index), `search-customers/` and `private/` (what only customers see) and
//!   `theme/` (the theme folder), shipped beside the binary;
//! - `PORTAL_MAIL_FROM`: the SES identity mail is sent from; without it mail stays queued;
//! - `PORTAL_BLOBS`: where files go, `s3:BUCKET`; without it uploads are refused.

use std::path::Path;
use std::sync::Arc;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use axum::Router;
use lambda_http::request::RequestContext;
use lambda_http::RequestExt;

use crate::guard::ClientIp;
use crate::state::{AppState, LiveSite, SitePaths};

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

/// The state a Lambda runs with, from its environment.
pub async fn state_from_env() -> Result<AppState, lambda_http::Error> {
    let spec = std::env::var("PORTAL_STORE").unwrap_or_else(|_| "dynamodb:portal".into());
    let dir = std::env::var("PORTAL_SITE_DIR").unwrap_or_else(|_| "site".into());
    let store = portal_core::store::open(&spec).await?;
    let site = LiveSite::load(bundle_paths(Path::new(&dir)))?;
    let mut state = AppState::new(store, Arc::new(site), None);
    if let Ok(spec) = std::env::var("PORTAL_BLOBS") {
        state = state.with_blobs(portal_core::blobs::open(&spec).await?);
    }
    Ok(match std::env::var("PORTAL_MAIL_FROM") {
        Ok(from) if !from.is_empty() => {
            state.with_mailer(Arc::new(crate::mail::SesMailer::from_env(from).await))
        }
        _ => state,
    })
}

/// Puts API Gateway's `sourceIp` where the guards look for the caller's address.
pub async fn source_ip(mut req: Request, next: Next) -> Response {
    let ip = match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.http.source_ip.clone(),
        _ => None,
    };
    if let Some(ip) = ip {
        req.extensions_mut().insert(ClientIp(ip));
    }
    next.run(req).await
}

/// The router a Lambda serves: a group's routes (see [`crate::groups`]) behind the layer that
/// takes the caller's address from API Gateway.
pub fn app(routes: Router) -> Router {
    routes.layer(axum::middleware::from_fn(source_ip))
}

/// Logging to standard output (Lambda sends it to CloudWatch), and a single-threaded
/// runtime: one Lambda instance answers one request at a time.
fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .without_time()
        .init();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

/// The `main` of a function binary: serves `group` (one of [`crate::groups`]) until Lambda
/// stops the process.
///
/// ```no_run
/// fn main() -> Result<(), lambda_http::Error> {
///     portal_functions::lambda::main(portal_functions::groups::issues)
/// }
/// ```
pub fn main(group: fn(AppState) -> Router) -> Result<(), lambda_http::Error> {
    runtime()?.block_on(async {
        let state = state_from_env().await?;
        lambda_http::run(app(group(state))).await
    })
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
        lambda_http::lambda_runtime::run(lambda_http::lambda_runtime::service_fn(
            move |_event: lambda_http::lambda_runtime::LambdaEvent<serde_json::Value>| async move {
                let sent = crate::mail::deliver_from(store, mailer).await;
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
                Ok::<_, lambda_http::Error>(serde_json::json!({ "sent": sent }))
            },
        ))
        .await
    })
}
