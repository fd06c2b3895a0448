//! What every page and answer of the customer area shares: private caching (a layer over
//! the group's routes) and the session's form token in pages with forms.

use axum::http::{header, HeaderValue};
use axum::response::Response;

use crate::auth::SignedIn;
use crate::error::ApiError;
use crate::state::AppState;
use crate::view::{Door, View};

/// Layer: nothing of the customer area is kept by a shared cache or the browser.
pub(crate) async fn private(mut r: Response) -> Response {
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    r
}

/// `view`, with the session's form token when it becomes a page (its forms post with it).
pub(crate) async fn with_csrf<T>(
    view: View<T>,
    door: Door,
    state: &AppState,
    who: &SignedIn,
) -> Result<View<T>, ApiError> {
    Ok(match door {
        Door::Page => view.with("csrf", crate::auth::csrf_token(state, who).await?),
        Door::Api => view,
    })
}
