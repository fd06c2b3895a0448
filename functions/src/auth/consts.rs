//! The lifetimes and limits of sessions, links and remembered devices.

use std::time::Duration;

/// The session cookie.
pub const COOKIE: &str = "__Host-portal";
/// The cookie that marks a browser that has logged in to an account before.
pub const DEVICE_COOKIE: &str = "__Host-portal-device";
/// A session ends after this long without a request.
pub const IDLE_SECONDS: i64 = 30 * 60;
/// A session ends this long after login, whatever happens.
pub const ABSOLUTE_SECONDS: i64 = 12 * 3600;
/// Activation links last this long.
pub const ACTIVATION_SECONDS: i64 = 72 * 3600;
/// A browser that logged in is remembered this long (or until the password or address
/// changes).
pub const DEVICE_SECONDS: i64 = 365 * 24 * 3600;
/// Password-reset links last this long.
pub const RESET_SECONDS: i64 = 3600;
/// Answers about passwords take at least this long, whatever happened.
pub(super) const STEADY: Duration = Duration::from_millis(300);
