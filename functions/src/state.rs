//! What every handler shares: the store, the published site (settings, events, search index,
//! theme), the key that signs form tokens, and where mail goes.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use portal_core::blobs::BlobStore;
use portal_core::search::Searcher;
use portal_core::site::SiteData;
use portal_core::store::Store;

use crate::error::ApiError;
use crate::mail::{FolderMailer, Mailer};
use crate::pages::Pages;

pub use portal_core::site::{BinderSettings, EventInfo, NewsletterSettings, Settings};

/// Where the build's output for the functions lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SitePaths {
    /// `site.json`, written by the build (`dist/functions/site.json`).
    pub data: PathBuf,
    /// The search index folder (`dist/search`).
    pub index: PathBuf,
    /// The theme folder, whose `templates/` render pages on request.
    pub theme: PathBuf,
    /// Pages for logged-in customers (`dist/private`).
    pub private: PathBuf,
    /// The customers' search index, public and customers-only pages (`dist/search-customers`).
    pub customer_index: PathBuf,
}

impl SitePaths {
    /// The usual layout: `out/functions/site.json`, `out/search`, and `theme`.
    pub fn new(out: &Path, theme: &Path) -> SitePaths {
        SitePaths {
            data: out.join("functions").join(portal_core::site::FILE),
            index: out.join("search"),
            theme: theme.to_path_buf(),
            private: out.join("private"),
            customer_index: out.join("search-customers"),
        }
    }
}

/// Opens a search index folder. Only what searches is given one (see [`open_index`]): a
/// Lambda binary that is not then links no search engine.
pub type IndexOpener = fn(&Path) -> Result<Searcher, String>;

/// Opens the index a build wrote to `dir`.
pub fn open_index(dir: &Path) -> Result<Searcher, String> {
    Searcher::open(dir).map_err(|e| e.to_string())
}

/// The site as one build left it.
pub struct Site {
    /// Settings and events.
    pub data: SiteData,
    /// The search index, if this server searches.
    search: Option<Searcher>,
    /// The customers' search index, likewise.
    customer_search: Option<Searcher>,
    /// Where customers-only pages are.
    pub private: PathBuf,
    /// The theme's templates.
    pub pages: Pages,
}

impl Site {
    /// Loads what a build wrote to `paths`, opening the search indexes with `open` if given.
    pub fn load(paths: &SitePaths, open: Option<IndexOpener>) -> Result<Site, String> {
        Site::load_with_pages(paths, open, None)
    }

    /// As [`Site::load`], with the theme's templates taken from `pages` if given instead of
    /// read again.
    fn load_with_pages(
        paths: &SitePaths,
        open: Option<IndexOpener>,
        pages: Option<&Pages>,
    ) -> Result<Site, String> {
        let text = std::fs::read_to_string(&paths.data)
            .map_err(|e| format!("{}: {e}; run `portal build` first", paths.data.display()))?;
        let data = SiteData::from_json(&text)
            .map_err(|e| format!("{}: not valid site data: {e}", paths.data.display()))?;
        let (search, customer_search) = match open {
            Some(open) => (
                Some(open(&paths.index)?),
                Some(open(&paths.customer_index)?),
            ),
            None => (None, None),
        };
        let pages = match pages {
            Some(p) => p.with_base(data.page.clone()),
            None => Pages::load(&paths.theme, data.page.clone())?,
        };
        Ok(Site {
            data,
            search,
            customer_search,
            private: paths.private.clone(),
            pages,
        })
    }

    /// The business's settings.
    pub fn settings(&self) -> &Settings {
        &self.data.settings
    }

    /// The public search index.
    pub fn search(&self) -> Result<&Searcher, ApiError> {
        self.search.as_ref().ok_or_else(not_searching)
    }

    /// The customers' search index: public and customers-only pages.
    pub fn customer_search(&self) -> Result<&Searcher, ApiError> {
        self.customer_search.as_ref().ok_or_else(not_searching)
    }
}

/// A search route served by a function started without the indexes: a deployment mistake.
fn not_searching() -> ApiError {
    ApiError::Internal("this function was started without the search indexes".into())
}

impl std::fmt::Debug for Site {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Site").field("data", &self.data).finish()
    }
}

/// The current site, replaced as a whole when a new build is published.
#[derive(Debug)]
pub struct LiveSite {
    paths: SitePaths,
    open: Option<IndexOpener>,
    current: RwLock<Arc<Site>>,
}

impl LiveSite {
    /// Loads the site at `paths`, search indexes included.
    pub fn load(paths: SitePaths) -> Result<LiveSite, String> {
        LiveSite::load_with(paths, Some(open_index))
    }

    /// Loads the site at `paths`, opening the search indexes with `open` if given: a
    /// function that does not search passes `None` and links no search engine.
    pub fn load_with(paths: SitePaths, open: Option<IndexOpener>) -> Result<LiveSite, String> {
        let site = Site::load(&paths, open)?;
        Ok(LiveSite {
            paths,
            open,
            current: RwLock::new(Arc::new(site)),
        })
    }

    /// Loads the latest build; on failure the previous one stays.
    pub fn reload(&self) -> Result<(), String> {
        let site = Site::load(&self.paths, self.open)?;
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(site);
        Ok(())
    }

    /// Loads the latest build of the content, keeping the theme's templates (the theme has
    /// not changed since the last load); on failure the previous one stays.
    pub fn reload_content(&self) -> Result<(), String> {
        let site = Site::load_with_pages(&self.paths, self.open, Some(&self.get().pages))?;
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(site);
        Ok(())
    }

    /// The site now.
    pub fn get(&self) -> Arc<Site> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// The shortest signing key [`AppState::with_signing_key`] takes, in bytes.
pub const MIN_SIGNING_KEY: usize = 32;

/// Handler state: one shared [`StateParts`], so that handing it to a handler (every request,
/// often more than once) is one reference count, not five.
#[derive(Debug, Clone)]
pub struct AppState {
    parts: Arc<StateParts>,
}

impl std::ops::Deref for AppState {
    type Target = StateParts;

    fn deref(&self) -> &StateParts {
        &self.parts
    }
}

/// What [`AppState`] holds.
#[derive(Debug, Clone)]
pub struct StateParts {
    /// The store.
    pub store: Arc<dyn Store>,
    /// The published site.
    pub site: Arc<LiveSite>,
    /// How mail leaves the outbox; without one, mail stays queued.
    pub mailer: Option<Arc<dyn Mailer>>,
    /// The key that signs form tokens and device cookies: given by
    /// [`AppState::with_signing_key`] (from Secrets Manager on AWS), else read from the store
    /// on first use.
    pub form_key: Arc<tokio::sync::OnceCell<Vec<u8>>>,
    /// Where attachments are kept; without one, files are refused.
    pub blobs: Option<Arc<dyn BlobStore>>,
}

impl AppState {
    /// The same state over another store (the same store seen through a
    /// [`portal_core::store::Snapshot`], say).
    pub fn over(&self, store: Arc<dyn Store>) -> AppState {
        AppState {
            parts: Arc::new(StateParts {
                store,
                ..StateParts::clone(&self.parts)
            }),
        }
    }

    /// State over `store` for `site`, writing mail as files into `mail_dir` if given.
    pub fn new(store: Arc<dyn Store>, site: Arc<LiveSite>, mail_dir: Option<PathBuf>) -> Self {
        AppState {
            parts: Arc::new(StateParts {
                store,
                site,
                mailer: mail_dir.map(|d| Arc::new(FolderMailer::new(d)) as Arc<dyn Mailer>),
                form_key: Arc::default(),
                blobs: None,
            }),
        }
    }

    /// The same state, sending mail with `mailer`.
    pub fn with_mailer(mut self, mailer: Arc<dyn Mailer>) -> Self {
        Arc::make_mut(&mut self.parts).mailer = Some(mailer);
        self
    }

    /// The same state, signing with `key` instead of a key kept in the store.
    ///
    /// # Errors
    /// A key shorter than [`MIN_SIGNING_KEY`] bytes.
    pub fn with_signing_key(mut self, key: &str) -> Result<Self, String> {
        if key.len() < MIN_SIGNING_KEY {
            return Err(format!(
                "the signing key has {} characters; it needs at least {MIN_SIGNING_KEY}",
                key.len()
            ));
        }
        Arc::make_mut(&mut self.parts).form_key = Arc::new(tokio::sync::OnceCell::new_with(Some(
            key.as_bytes().to_vec(),
        )));
        Ok(self)
    }

    /// The same state, keeping attachments in `blobs`.
    pub fn with_blobs(mut self, blobs: Arc<dyn BlobStore>) -> Self {
        Arc::make_mut(&mut self.parts).blobs = Some(blobs);
        self
    }

    /// Delivers the due mails with the state's mailer (none on AWS, where the `mailer`
    /// function sends them); failures are logged and left queued. Returns how many were sent.
    pub async fn deliver_mail(&self) -> usize {
        match &self.mailer {
            Some(mailer) => crate::mail::deliver_from(&self.store, mailer.as_ref()).await,
            None => 0,
        }
    }

    /// The site as the latest build left it.
    pub fn site(&self) -> Arc<Site> {
        self.site.get()
    }
}
