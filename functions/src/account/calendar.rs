//! The customers' calendar: the list and month pages the build wrote under `/my/calendar/`
//! (every public event and the customers-only ones, marked), the customers-only events'
//! pages and files, and each login's private calendar address, which a calendar app
//! subscribes to without logging in.
//!
//! An address is `/my/calendar-feed/{customer}/{nonce}.{signature}.ics`: the nonce finds
//! the login (see [`portal_core::records::calendar_feeds`]) and the signature, made with the
//! portal's key over the customer, the nonce, the login and its credentials, ends the
//! address when the password or e-mail address changes (the page then shows the new one).
//! Making a new address ends the old one at once.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use portal_core::records::audit::AuditEntry;
use portal_core::records::calendar_feeds::CalendarFeeds;
use portal_core::records::customers::{Customers, Login};
use portal_core::records::{email_key, to_item, Record};
use portal_core::store::{now, Cond, Write};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::auth::SignedIn;
use crate::error::ApiError;
#[allow(unused_imports)]
use crate::error::ErrorBody;
use crate::guard::ClientIp;
use crate::input::Input;
use crate::state::AppState;
use crate::view::{done_now, Door, View};

use super::content::private_page;
use super::page::with_csrf;

#[utoipa::path(get, path = "/my/calendar/", tag = "account", summary = "The customers' calendar: upcoming events, customers-only ones marked (HTML)",
    responses((status = 200, description = "The page", content_type = "text/html"), (status = 303, description = "Not logged in: to /login")))]
pub(crate) async fn index(
    State(state): State<AppState>,
    who: SignedIn,
) -> Result<Response, ApiError> {
    private_page(&state, &who, "calendar", "index").await
}

#[utoipa::path(get, path = "/my/calendar/{year}/{month}", tag = "account", summary = "One month of the customers' calendar (HTML)",
    params(("year" = String, Path, description = "Four digits"), ("month" = String, Path, description = "Two digits")),
    responses((status = 200, description = "The page", content_type = "text/html"), (status = 303, description = "Not logged in: to /login"), (status = 404, description = "No events that month or around it", content_type = "text/html")))]
pub(crate) async fn month(
    State(state): State<AppState>,
    who: SignedIn,
    Path((year, month)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(&year, 4) || !digits(&month, 2) {
        return Err(ApiError::NotFound(
            "there is no such month in the calendar".into(),
        ));
    }
    private_page(&state, &who, &format!("calendar/{year}"), &month).await
}

#[utoipa::path(get, path = "/my/calendar/{slug}", tag = "account", summary = "A customers-only event with its registration form (HTML), or its iCalendar file (`{slug}.ics`)",
    params(("slug" = String, Path, description = "The event, or the event followed by `.ics`")),
    responses((status = 200, description = "The page, or the event's iCalendar file as an attachment", content((String = "text/html"), (String = "text/calendar"))), (status = 303, description = "Not logged in: to /login"), (status = 404, description = "No such event", content_type = "text/html")))]
pub(crate) async fn event(
    State(state): State<AppState>,
    who: SignedIn,
    Path(slug): Path<String>,
) -> Result<Response, ApiError> {
    match slug.strip_suffix(".ics") {
        Some(event) => {
            let gone = || ApiError::NotFound("there is no such event".into());
            // Only an event the build listed as customers-only: no address reaches another file.
            let known = state
                .site()
                .data
                .events
                .iter()
                .any(|e| e.customers_only && e.slug == event);
            if !known {
                return Err(gone());
            }
            let path = state
                .site()
                .private
                .join("my")
                .join("calendar")
                .join(format!("{event}.ics"));
            let bytes = tokio::fs::read(&path).await.map_err(|_| gone())?;
            Ok(calendar_file(bytes, &format!("{event}.ics")))
        }
        None => private_page(&state, &who, "calendar", &slug).await,
    }
}

fn calendar_file(bytes: Vec<u8>, name: &str) -> Response {
    crate::uploads::as_download(bytes, name, "text/calendar; charset=utf-8")
}

/// Reads of calendar addresses one IP address may make an hour (an office's calendar apps
/// behind one address included).
pub const FEED_READS_PER_IP: u32 = 600;

/// A login's private calendar address.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FeedAddress {
    /// The whole address to give a calendar app, once one has been made.
    pub url: Option<String>,
}

/// A request for a new address (no fields).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAddress {}

/// The address of `login`'s calendar feed, if it has made one.
async fn address_of(state: &AppState, login: &Login) -> Result<Option<String>, ApiError> {
    let Some(nonce) = &login.calendar_feed else {
        return Ok(None);
    };
    let signature = signature(state, login, nonce).await?;
    Ok(Some(format!(
        "{}/my/calendar-feed/{}/{nonce}.{signature}.ics",
        state.site().settings().base_url,
        login.customer_id
    )))
}

async fn signature(state: &AppState, login: &Login, nonce: &str) -> Result<String, ApiError> {
    crate::guard::sign_text(
        state,
        &format!(
            "calendar-feed\n{}\n{nonce}\n{}\n{}",
            login.customer_id,
            email_key(&login.email),
            login.credentials
        ),
    )
    .await
}

async fn own_login(
    state: &AppState,
    who: &SignedIn,
) -> Result<portal_core::records::Versioned<Login>, ApiError> {
    Customers::new(state.store.clone())
        .login(&who.session.email)
        .await?
        .ok_or_else(|| ApiError::Unauthorized("log in first".into()))
}

#[utoipa::path(get, path = "/api/my/calendar-feed", tag = "account", summary = "This login's private calendar address, if it has made one",
    responses((status = 200, description = "The address", body = FeedAddress), (status = 401, description = "Not logged in", body = ErrorBody)))]
pub(crate) async fn feed_address(
    State(state): State<AppState>,
    who: SignedIn,
    door: Door,
) -> Result<View<FeedAddress>, ApiError> {
    let login = own_login(&state, &who).await?;
    let url = address_of(&state, &login.record).await?;
    let v = View::new(FeedAddress { url }, "my/calendar-feed.html", "feed").titled(
        "calendar",
        "Your calendar in a calendar app",
        "/my/calendar-feed",
    );
    with_csrf(v, door, &state, &who).await
}

#[utoipa::path(get, path = "/my/calendar-feed", tag = "account", summary = "The page with this login's private calendar address (HTML)",
    responses((status = 200, description = "The page", content_type = "text/html"), (status = 303, description = "Not logged in: to /login")))]
#[allow(dead_code)]
pub(crate) fn feed_page() {}

#[utoipa::path(post, path = "/api/my/calendar-feed", tag = "account", summary = "Make a new private calendar address; the old one stops working at once",
    request_body(content((NewAddress = "application/json"), (NewAddress = "application/x-www-form-urlencoded"))),
    responses((status = 201, description = "The new address", body = FeedAddress), (status = 303, description = "From a form: back to the page with the address"),
        (status = 401, description = "Not logged in", body = ErrorBody), (status = 409, description = "The login changed meanwhile; try again", body = ErrorBody)))]
pub(crate) async fn renew_feed(
    State(state): State<AppState>,
    who: SignedIn,
    body: Input<NewAddress>,
) -> Result<Response, ApiError> {
    let login = own_login(&state, &who).await?;
    let audit = AuditEntry::new(
        login.record.email.clone(),
        "login.calendar_feed_renewed",
        login.record.key().to_string(),
        json!({ "had_one": login.record.calendar_feed.is_some() }),
    );
    let renewed = CalendarFeeds::new(state.store.clone())
        .renew(
            &login,
            now(),
            vec![Write::Put(to_item(&audit)?, Cond::NotExists)],
        )
        .await?;
    let url = address_of(&state, &renewed).await?;
    Ok(done_now(
        body.from_form,
        "/my/calendar-feed#renewed",
        StatusCode::CREATED,
        &FeedAddress { url },
    ))
}

#[utoipa::path(get, path = "/my/calendar-feed/{customer}/{file}", tag = "account", summary = "A login's private calendar feed, for calendar apps (no login: the address is the key)",
    params(("customer" = String, Path, description = "The customer"), ("file" = String, Path, description = "`{nonce}.{signature}.ics`, as the address page gives it")),
    responses((status = 200, description = "Every public event and the customers-only ones", content_type = "text/calendar"), (status = 429, description = "Too many reads from one address this hour", body = ErrorBody), (status = 404, description = "Not an address, or one that was replaced, or whose login changed its password or address or was disabled", content_type = "text/html")))]
pub(crate) async fn feed(
    State(state): State<AppState>,
    ip: ClientIp,
    Path((customer, file)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    // Counted before it is checked, like every guess: calendar apps ask a few times an hour.
    crate::guard::limit(&state, "calendar-feed", &ip.0, FEED_READS_PER_IP).await?;
    let gone = || {
        ApiError::NotFound(
            "this calendar address does not work (any more); the customer area shows the current one"
                .into(),
        )
    };
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    let (nonce, signature) = file
        .strip_suffix(".ics")
        .and_then(|f| f.split_once('.'))
        .filter(|(n, s)| hex(n, 32) && hex(s, 64))
        .ok_or_else(gone)?;
    if customer.is_empty() || customer.len() > 200 {
        return Err(gone());
    }
    let login = CalendarFeeds::new(state.store.clone())
        .login_of(&customer, nonce)
        .await?
        .filter(|l| !l.disabled)
        .ok_or_else(gone)?;
    let expected = self::signature(&state, &login, nonce).await?;
    if !crate::guard::same_secret(&expected, signature) {
        return Err(gone());
    }
    let path = state.site().private.join("my").join("calendar.ics");
    let bytes = tokio::fs::read(&path)
        .await
        .map_err(|e| ApiError::Internal(format!("{}: {e}", path.display())))?;
    Ok(calendar_file(bytes, "calendar.ics"))
}
