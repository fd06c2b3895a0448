//! The `auth` function: logging in and out, activation of a login staff created, password
//! change and reset, and the session every secured route checks.
//!
//! - Sessions are 128-bit random tokens in a `__Host-portal` cookie (Secure, HttpOnly,
//!   SameSite=Lax), stored only as hashes; they end after 30 idle minutes or 12 hours, on
//!   the server.
//! - Login answers the same — status, body and, within noise, time — for an unknown address
//!   and a wrong password. Every attempt is counted before the password is checked (an
//!   atomic counter, so parallel guesses are each counted): past five a minute an address
//!   gets 429 with `Retry-After` (nobody's Lambda waits), and past 100 an hour
//!   (`login_failures_per_account`) guesses no longer reach the account at all, except from a
//!   browser that has logged in to it before (a random device id kept on the server, void
//!   once the password or address changes), so nobody can lock a customer out by guessing.
//!   Each IP address has its own hourly limit too. A current-password check (before a change
//!   of password or address) is counted per session, so guesses elsewhere never block it.
//! - Reset and activation links are looked up before a password is hashed, and are limited
//!   per IP address; a change of password or address voids the links mailed before it.
//! - Every state-changing request must come from the portal's own pages: `Sec-Fetch-Site`
//!   or `Origin` is checked ([`same_origin`]).

pub mod consts;
pub mod credentials;
pub mod csrf;
pub mod links;
pub mod login;
pub mod pages;
pub mod password;
pub mod session;

use axum::routing::{get, post};
use axum::Router;

pub use consts::*;
pub(crate) use credentials::check_current;
pub use credentials::FORGOT_ANSWER;
pub use csrf::{csrf, csrf_token, same_origin, session_limit, CSRF_FIELD, POSTS_PER_SESSION};
pub use login::{Credentials, Me, LOGIN_FAILED};
pub use session::{cookie, Part, SignedIn};

use crate::state::AppState;
use credentials::{activate, change_password, forgot, reset};
use login::{login, logout, me};
use pages::{activate_page, login_page, reset_page};

/// The group's routes.
pub fn router() -> Router<AppState> {
    password::warm_up();
    Router::new()
        .route("/api/auth/login", post(login))
        .route("/api/auth/logout", post(logout))
        .route("/api/auth/password", post(change_password))
        .route("/api/auth/forgot", post(forgot))
        .route("/api/auth/reset", post(reset))
        .route("/api/auth/activate", post(activate))
        .route("/api/me", get(me))
        .route("/login", get(login_page))
        .route("/activate/{token}", get(activate_page))
        .route("/reset/{token}", get(reset_page))
        .layer(axum::extract::DefaultBodyLimit::max(
            crate::fields::MAX_BODY,
        ))
}
