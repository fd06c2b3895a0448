//! `portal serve`: builds the site, serves it on 127.0.0.1, and rebuilds when the content or
//! the theme change, so editors see their edits at once. A failed rebuild is reported and the
//! last good site stays up.

mod app;
pub mod demo;
mod files;
mod keepalive;
mod live;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::serve::ListenerExt as _;
use notify::{EventKind, RecursiveMode, Watcher};
use portal_generator::{Rebuilder, Rebuilt};

use crate::cli::SiteArgs;

/// Where and how `serve` listens.
pub struct Listen {
    /// The address to listen on.
    pub interface: std::net::IpAddr,
    /// The port (0: any free one).
    pub port: u16,
    /// Replaces the settings' `base_url` in the build.
    pub base_url: Option<String>,
    /// Whether open pages reload after each rebuild.
    pub live_reload: bool,
}

/// Builds, then serves until Ctrl-C.
pub fn run(args: &SiteArgs, listen: Listen, store: Option<&str>, demo: bool) -> anyhow::Result<()> {
    let mut opts = super::build::options(args);
    opts.base_url = listen.base_url.clone();
    let mut rebuilder = Rebuilder::new(opts.clone());
    let bar = super::build::Bar::default();
    rebuilder.set_progress(Some(bar.callback()));
    let report = rebuilder.build();
    bar.finish();
    rebuilder.set_progress(None);
    let report = report.with_context(|| format!("build of {} failed", args.content.display()))?;
    super::build::warn(&report.warnings);
    println!("{report}");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let store = store.map(str::to_string);
    let live = listen.live_reload.then(live::Reloads::new);
    let at = SocketAddr::new(listen.interface, listen.port);
    runtime.block_on(serve(args.clone(), opts, rebuilder, at, store, demo, live))
}

/// How long a burst of changes (an editor saving, a `git checkout`) is let settle before
/// one rebuild: editors write a file in well under this.
const SETTLE: Duration = Duration::from_millis(20);

async fn serve(
    args: SiteArgs,
    opts: portal_generator::BuildOptions,
    rebuilder: Rebuilder,
    addr: SocketAddr,
    store: Option<String>,
    demo: bool,
    live: Option<live::Reloads>,
) -> anyhow::Result<()> {
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

    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Vec<PathBuf>>();
    // Reads (our own build opening files) are not changes; anything else is. An error (the
    // watcher lost events) is "something changed", an empty list: a whole build.
    let mut watcher =
        notify::recommended_watcher(move |res: notify::Result<notify::Event>| match res {
            Ok(e) if matches!(e.kind, EventKind::Access(_)) => {}
            Ok(e) if e.need_rescan() => drop(tx.send(Vec::new())),
            Ok(e) => drop(tx.send(e.paths)),
            Err(_) => drop(tx.send(Vec::new())),
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
    let rebuild_args = args.clone();
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
    let rebuilt = served.clone();
    let reloads = live.clone();
    tokio::spawn(async move {
        let mut rebuilder = Some(rebuilder);
        let mut theme_unread = false;
        while let Some(first) = rx.recv().await {
            // Let a burst of changes settle, then rebuild once for all of them.
            tokio::time::sleep(SETTLE).await;
            let mut changed = first;
            let mut unknown = changed.is_empty();
            while let Ok(more) = rx.try_recv() {
                unknown |= more.is_empty();
                changed.extend(more);
            }
            if unknown {
                changed.clear();
            }
            let mut r = rebuilder
                .take()
                .unwrap_or_else(|| Rebuilder::new(opts.clone()));
            let built = tokio::task::spawn_blocking(move || {
                let result = r.rebuild(&changed);
                (r, result)
            })
            .await;
            let result = match built {
                Ok((r, result)) => {
                    rebuilder = Some(r);
                    result
                }
                Err(e) => {
                    eprintln!("error: rebuild stopped: {e}");
                    continue;
                }
            };
            match result {
                Ok(Rebuilt::Nothing) => {}
                Ok(report) => {
                    rebuilt.files.rebuilt();
                    // The site's data and search indexes first: once the report is
                    // printed, every answer comes from the new build.
                    // The theme's templates are kept only if the last whole load worked.
                    let reloaded = match report {
                        Rebuilt::Part(_) if !theme_unread => site.reload_content(),
                        _ => site.reload(),
                    };
                    theme_unread = reloaded.is_err();
                    if let Err(e) = reloaded {
                        eprintln!("error: {e}");
                    }
                    super::build::warn(report.warnings());
                    println!("{report}");
                    if let Some(r) = &reloads {
                        r.rebuilt();
                    }
                }
                Err(e) => {
                    // Even a build that failed late may have replaced some files.
                    rebuilt.files.rebuilt();
                    eprintln!(
                        "error: build of {} failed: {e}\n(still serving the last good build)",
                        rebuild_args.content.display()
                    );
                }
            }
        }
    });

    // The key that signs form tokens is read from the store (made there the first time)
    // before the function groups are confined to their partitions; on AWS it comes from the
    // environment and no function reads it from the table.
    portal_functions::guard::issue_token(&state)
        .await
        .map_err(|e| anyhow::anyhow!("the signing key: {e}"))?;
    let app = app::router(served, portal_functions::router(state), live.as_ref());
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
    .with_graceful_shutdown(async move {
        let _ = tokio::signal::ctrl_c().await;
        // Open event streams end, or the server would wait for their pages to close.
        if let Some(live) = live {
            live.closing();
        }
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
