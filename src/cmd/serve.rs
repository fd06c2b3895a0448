//! `portal serve`: builds the site, serves it on 127.0.0.1, and rebuilds when the content or
//! the theme change, so editors see their edits at once. A failed rebuild is reported and the
//! last good site stays up.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Router;
use notify::{EventKind, RecursiveMode, Watcher};
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

/// Builds, then serves until Ctrl-C.
pub fn run(args: &SiteArgs, port: u16) -> anyhow::Result<()> {
    let report = super::build::build(args)?;
    println!("{report}");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(serve(args.clone(), port))
}

/// The router over the built site.
fn app(args: &SiteArgs) -> Router {
    let site = args.out.join("site");
    let files = ServeDir::new(&site).not_found_service(ServeFile::new(site.join("404.html")));
    let mut router = Router::new()
        .fallback_service(files)
        .layer(middleware::from_fn_with_state(Arc::new(site), pretty_urls));
    for (name, value) in HEADERS {
        router = router.layer(SetResponseHeaderLayer::if_not_present(
            name.clone(),
            HeaderValue::from_static(value),
        ));
    }
    router
}

/// Serves page `/kb/name` from `kb/name.html`, as the CDN does, and sends `/kb/name/` there.
async fn pretty_urls(State(site): State<Arc<PathBuf>>, mut req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let rel = path.trim_start_matches('/');
    let last = rel.rsplit('/').next().unwrap_or("");
    let plain = !rel.is_empty() && !rel.contains(['%', '\\']) && !rel.split('/').any(|s| s == "..");
    if plain
        && !rel.ends_with('/')
        && !last.contains('.')
        && site.join(format!("{rel}.html")).is_file()
    {
        let query = req
            .uri()
            .query()
            .map(|q| format!("?{q}"))
            .unwrap_or_default();
        if let Ok(uri) = format!("{path}.html{query}").parse::<Uri>() {
            *req.uri_mut() = uri;
        }
    } else if plain && rel.ends_with('/') && !site.join(rel).join("index.html").is_file() {
        let trimmed = rel.trim_end_matches('/');
        if site.join(format!("{trimmed}.html")).is_file() {
            let query = req
                .uri()
                .query()
                .map(|q| format!("?{q}"))
                .unwrap_or_default();
            return Redirect::permanent(&format!("/{trimmed}{query}")).into_response();
        }
    }
    next.run(req).await
}

async fn serve(args: SiteArgs, port: u16) -> anyhow::Result<()> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let local = listener.local_addr()?;

    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    // Reads (our own build opening files) are not changes; anything else is.
    let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        if res.is_ok_and(|e| !matches!(e.kind, EventKind::Access(_))) {
            let _ = tx.send(());
        }
    })
    .context("cannot watch files")?;
    for dir in [&args.content, &args.theme] {
        watcher
            .watch(dir, RecursiveMode::Recursive)
            .with_context(|| format!("cannot watch {}", dir.display()))?;
    }
    // Announce only once watching, so an edit made right after this line is seen.
    println!(
        "Serving http://{local}/ — watching {} and {} (Ctrl-C to stop)",
        args.content.display(),
        args.theme.display()
    );
    let rebuild_args = args.clone();
    tokio::spawn(async move {
        while rx.recv().await.is_some() {
            // Let a burst of changes (an editor saving several files) settle, then build once.
            tokio::time::sleep(Duration::from_millis(200)).await;
            while rx.try_recv().is_ok() {}
            let a = rebuild_args.clone();
            match tokio::task::spawn_blocking(move || super::build::build(&a)).await {
                Ok(Ok(report)) => println!("{report}"),
                Ok(Err(e)) => eprintln!("error: {e:#}\n(still serving the last good build)"),
                Err(e) => eprintln!("error: rebuild stopped: {e}"),
            }
        }
    });

    axum::serve(listener, app(&args))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context("server stopped")?;
    drop(watcher);
    Ok(())
}
