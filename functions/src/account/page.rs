//! What every page and answer of the customer area shares: private caching, and the page
//! wrapper that sends a visitor without a session to the login page.

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};

use crate::auth::SignedIn;
use crate::error::ApiError;
use crate::state::AppState;

pub(crate) fn private(mut r: Response) -> Response {
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    r
}

/// A page behind the login: without a session, the login page instead.
pub(crate) async fn page(
    state: &AppState,
    who: Result<SignedIn, ApiError>,
    render: impl AsyncFnOnce(&AppState, SignedIn) -> Result<Response, ApiError>,
) -> Response {
    let who = match who {
        Ok(w) => w,
        Err(ApiError::Unauthorized(_)) => return Redirect::to("/login").into_response(),
        Err(e) => return e.into_response(),
    };
    let site = state.site();
    match render(state, who).await {
        Ok(r) => private(r),
        Err(e) => private(
            site.pages.message(
                e.status(),
                &crate::pages::Message::new("Not found", e.public_message())
                    .link("Your account", "/my/"),
            ),
        ),
    }
}
