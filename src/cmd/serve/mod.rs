//! `portal serve`: builds the site, serves it on 127.0.0.1, and rebuilds when the content or
//! the theme change, so editors see their edits at once. A failed rebuild is reported and the
//! last good site stays up.

mod app;
pub mod demo;
mod files;
mod keepalive;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::serve::ListenerExt as _;
use notify::{EventKind, RecursiveMode, Watcher};

use crate::cli::SiteArgs;

/// Builds, then serves until Ctrl-C.
pub fn run(args: &SiteArgs, port: u16, store: Option<&str>, demo: bool) -> anyhow::Result<()> {
    let report = super::build::build(args)?;
    println!("{report}");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let store = store.map(str::to_string);
    runtime.block_on(serve(args.clone(), port, store, demo))
}

async fn serve(args: SiteArgs, port: u16, store: Option<String>, demo: bool) -> anyhow::Result<()> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let local = listener.local_addr()?;

    // Demo customers have published passwords: they go only into the default embedded store
    // (a newcomer's first run), or into another store when asked for with --demo.
    let seed = demo || store.is_none();
    let state = functions(&args, store).await?;
    let prefix = state.site().settings().tracking_prefix.clone();
    if seed && demo::seed(&state.store, state.blobs.as_ref(), &prefix).await? {
        println!("Demo data created; log in at /login as:");
        for (email, password, customer) in demo::LOGINS {
            println!("  {email} / {password}  ({customer})");
        }
    }

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
    let served = Arc::new(app::Served::new(&args));
    let site = state.site.clone();
    // Mail that could not be delivered with its submission is retried here.
    let mailing = state.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(15));
        loop {
            every.tick().await;
            mailing.deliver_mail().await;
        }
    });
    // Webhooks in a task of their own, so a slow endpoint never holds mail up.
    let hooks: Arc<dyn portal_core::store::Store> = Arc::new(portal_core::store::Confined::new(
        state.store.clone(),
        "mailer",
        portal_functions::partitions("mailer"),
    ));
    tokio::spawn(async move {
        let sender = portal_functions::webhooks::Sender::new();
        let mut every = tokio::time::interval(Duration::from_secs(2));
        loop {
            every.tick().await;
            portal_functions::webhooks::deliver_from(&hooks, &sender, Duration::from_secs(30))
                .await;
        }
    });
    let rebuild_args = args.clone();
    let rebuilt = served.clone();
    tokio::spawn(async move {
        while rx.recv().await.is_some() {
            // Let a burst of changes (an editor saving several files) settle, then build once.
            tokio::time::sleep(Duration::from_millis(200)).await;
            while rx.try_recv().is_ok() {}
            let a = rebuild_args.clone();
            let built = tokio::task::spawn_blocking(move || super::build::build(&a)).await;
            // Even a build that failed late may have replaced the site: kept files go.
            rebuilt.files.rebuilt();
            match built {
                Ok(Ok(report)) => {
                    // The site's data and search indexes first: once "Built" is printed,
                    // every answer comes from the new build.
                    if let Err(e) = site.reload() {
                        eprintln!("error: {e}");
                    }
                    println!("{report}");
                }
                Ok(Err(e)) => eprintln!("error: {e:#}\n(still serving the last good build)"),
                Err(e) => eprintln!("error: rebuild stopped: {e}"),
            }
        }
    });

    // The key that signs form tokens is read from the store (made there the first time)
    // before the function groups are confined to their partitions; on AWS it comes from the
    // environment and no function reads it from the table.
    portal_functions::guard::issue_token(&state)
        .await
        .map_err(|e| anyhow::anyhow!("the signing key: {e}"))?;
    let app = app::router(served, portal_functions::router(state));
    // Answers go out at once: with Nagle's algorithm on, an answer written in two segments
    // (headers, then the body) waits for the client's delayed acknowledgement, some 40 ms.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!("TCP_NODELAY not set on a connection: {e}");
        }
    });
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
    .context("server stopped")?;
    drop(watcher);
    Ok(())
}

/// The functions' state: `store` (the embedded store in `args.data` by default), the site
/// the build wrote.
async fn functions(
    args: &SiteArgs,
    store: Option<String>,
) -> anyhow::Result<portal_functions::AppState> {
    let data = &args.data;
    let spec = store.unwrap_or_else(|| format!("sqlite:{}", data.join("portal.db").display()));
    let store = portal_core::store::open(&spec)
        .await
        .with_context(|| format!("cannot open the store {spec}"))?;
    store.init().await?;
    let site =
        portal_functions::LiveSite::load(portal_functions::SitePaths::new(&args.out, &args.theme))
            .map_err(anyhow::Error::msg)?;
    Ok(
        portal_functions::AppState::new(store, Arc::new(site), Some(data.join("outbox")))
            .with_blobs(Arc::new(portal_core::blobs::FolderBlobs::new(
                data.join("blobs"),
            ))),
    )
}
