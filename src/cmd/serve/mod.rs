//! `portal serve`: builds the site, serves it on 127.0.0.1, and rebuilds when the content or
//! the theme change, so editors see their edits at once. A failed rebuild is reported and the
//! last good site stays up.

mod app;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use notify::{EventKind, RecursiveMode, Watcher};

use crate::cli::SiteArgs;

/// Builds, then serves until Ctrl-C.
pub fn run(args: &SiteArgs, port: u16) -> anyhow::Result<()> {
    let report = super::build::build(args)?;
    println!("{report}");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(serve(args.clone(), port))
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
    let served = Arc::new(app::Served::new(&args));
    served.reload_search();
    let rebuild_args = args.clone();
    let rebuilt = served.clone();
    tokio::spawn(async move {
        while rx.recv().await.is_some() {
            // Let a burst of changes (an editor saving several files) settle, then build once.
            tokio::time::sleep(Duration::from_millis(200)).await;
            while rx.try_recv().is_ok() {}
            let a = rebuild_args.clone();
            match tokio::task::spawn_blocking(move || super::build::build(&a)).await {
                Ok(Ok(report)) => {
                    println!("{report}");
                    rebuilt.reload_search();
                }
                Ok(Err(e)) => eprintln!("error: {e:#}\n(still serving the last good build)"),
                Err(e) => eprintln!("error: rebuild stopped: {e}"),
            }
        }
    });

    let functions = functions(&args).await?;
    axum::serve(listener, app::router(served, functions))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context("server stopped")?;
    drop(watcher);
    Ok(())
}

/// The function routes over the embedded store in `args.data`, with settings from `site.toml`.
async fn functions(args: &SiteArgs) -> anyhow::Result<axum::Router> {
    let data = &args.data;
    let spec = format!("sqlite:{}", data.join("portal.db").display());
    let store = portal_core::store::open(&spec)
        .await
        .with_context(|| format!("cannot open the store {spec}"))?;
    store.init().await?;
    let site = portal_generator::config::SiteConfig::load(&args.content.join("site.toml"))
        .map_err(portal_generator::Error::from)?;
    let settings = portal_functions::Settings {
        business: site.title.clone(),
        base_url: site.base_url.clone(),
        tracking_prefix: site.tracking_prefix.clone(),
        business_email: site
            .contact
            .emails
            .first()
            .map(|e| e.value.clone())
            .unwrap_or_default(),
        binders: site
            .binders
            .iter()
            .map(|b| portal_functions::BinderSettings {
                id: b.id.clone(),
                name: b.name.clone(),
                public: b.public,
                categories: b.categories.clone(),
            })
            .collect(),
        newsletters: site
            .newsletters
            .iter()
            .map(|n| portal_functions::NewsletterSettings {
                id: n.id.clone(),
                name: n.name.clone(),
            })
            .collect(),
    };
    let state = portal_functions::AppState {
        store,
        settings: Arc::new(settings),
        mail_dir: Some(data.join("outbox")),
    };
    Ok(portal_functions::router().with_state(state))
}
