//! Newsletter sign-up with double opt-in: `POST /api/newsletters/{list}/subscriptions` stores
//! an unconfirmed subscription and mails a confirmation link (`GET /newsletter/confirm/{token}`,
//! single use, 7 days); confirming makes the one-click unsubscribe link
//! (`POST /newsletter/unsubscribe/{token}`; `GET` shows the button) that every newsletter
//! carries. The answer
//! to a sign-up is the same whatever the address's state, so it reveals nothing.

use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use portal_core::records::outbox::Mail;
use portal_core::records::requests::{Subscription, UnsubscribeLink};
use portal_core::records::sessions::{OneTimeToken, Sessions, TokenKind};
use portal_core::records::{email_key, random_token, to_item, token_hash, Repo};
use portal_core::store::{now, Cond, StoreError, Write};
use serde::Deserialize;

use crate::error::ApiError;
#[allow(unused_imports)]
use crate::error::{ErrorBody, MessageBody};
use crate::idempotent::{self, Idem};
use crate::input::{self, Input};
use crate::pages::Message;
use crate::state::AppState;
use crate::view::{done, View};
use portal_core::records::feed::Event;

/// How long a confirmation link works.
const CONFIRM_SECONDS: i64 = 7 * 24 * 3600;

/// The one answer to every well-formed sign-up.
pub const SIGNUP_ANSWER: &str =
    "Thank you. Please confirm with the link we have sent to your e-mail address.";

/// The group's routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/newsletters/{list}/subscriptions", post(subscribe))
        .route(
            "/newsletter/confirm/{token}",
            get(confirm_page).post(confirm),
        )
        .route(
            "/newsletter/unsubscribe/{token}",
            get(unsubscribe_page).post(unsubscribe),
        )
        .layer(DefaultBodyLimit::max(input::MAX_BODY))
}

/// A sign-up.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignUp {
    #[serde(default)]
    #[schema(required = true, schema_with = crate::input::email_schema)]
    email: String,
    #[serde(default)]
    #[schema(pattern = "rule:blank-or-line", max_length = 200)]
    name: Option<String>,
    #[serde(default)]
    #[serde(deserialize_with = "crate::input::text_only")]
    #[schema(schema_with = crate::input::honeypot_schema)]
    website: Option<String>,
}

#[utoipa::path(post, path = "/api/newsletters/{list}/subscriptions", tag = "events", summary = "Sign up (double opt-in: a confirmation e-mail first)", params(("list" = String, Path, description = "The newsletter")), request_body(content((SignUp = "application/json"), (SignUp = "application/x-www-form-urlencoded"))), responses((status = 202, description = "The one answer for new, pending and confirmed addresses", body = MessageBody), (status = 303, description = "From a form"), (status = 404, description = "No such newsletter", body = ErrorBody), (status = 422, description = "A field is missing or wrong; `field` names it", body = ErrorBody), (status = 429, description = "Too many requests from this address or for this e-mail address", body = ErrorBody), (status = 503, description = "Not done, or not known to be done (the store was busy or failed); `Retry-After` says when to send the same request, with the same `Idempotency-Key`, again", body = ErrorBody)))]
pub(crate) async fn subscribe(
    State(state): State<AppState>,
    Path(list): Path<String>,
    idem: Idem,
    body: Input<SignUp>,
) -> Result<Response, ApiError> {
    let v = &body.value;
    input::honeypot(v.website.as_deref())?;
    let site = state.site();
    let newsletter = site
        .settings()
        .newsletters
        .iter()
        .find(|n| n.id == list)
        .ok_or_else(|| ApiError::NotFound(format!("there is no newsletter `{list}`")))?;
    let email = input::email("email", &v.email)?;
    crate::guard::limit_email(&state, &email).await?;
    let name = match v.name.as_deref() {
        Some(n) => input::optional_line("name", n, 200)?,
        None => None,
    };
    let subscriptions: Repo<Subscription> = Repo::new(state.store.clone());
    let key = Subscription::key_of(&list, &email);
    let existing = subscriptions.get(&key).await?;
    let answer = done(
        body.from_form,
        "/newsletter#sent",
        StatusCode::ACCEPTED,
        &MessageBody::new(SIGNUP_ANSWER),
    );
    // A confirmed address gets no mail: nothing to confirm, and nothing to tell a stranger.
    if !existing.as_ref().is_some_and(|s| s.record.confirmed) {
        let token = random_token();
        let confirm = OneTimeToken {
            token_hash: token_hash(&token),
            kind: TokenKind::NewsletterConfirmation,
            subject: format!("{list}\n{}", email_key(&email)),
            expires_at: now() + CONFIRM_SECONDS,
            credentials: None,
        };
        let mail = Mail::new(
            &email,
            format!("Please confirm: {}", newsletter.name),
            format!(
                "Hello,\n\nsomeone, probably you, asked to receive \"{}\" from {}.\nConfirm here:\n{}/newsletter/confirm/{token}\n\nIf it was not you, ignore this e-mail and nothing happens.\n",
                newsletter.name, site.settings().business, site.settings().base_url
            ),
        );
        let mut writes = vec![
            Write::Put(to_item(&confirm)?, Cond::NotExists),
            Write::Put(to_item(&mail)?, Cond::NotExists),
        ];
        if existing.is_none() {
            let sub = Subscription {
                list: list.clone(),
                email: email.clone(),
                name,
                confirmed: false,
                created: now(),
            };
            writes.push(Write::Put(to_item(&sub)?, Cond::NotExists));
        }
        writes.extend(idem.record(&answer)?);
        state.store.transact(writes).await?;
        state.deliver_mail().await;
        return Ok(idem.respond(answer));
    }
    Ok(idempotent::to_response(answer))
}

/// A confirmation link opened in a browser (or fetched by a mail scanner) only shows a
/// button: a GET changes nothing.
#[utoipa::path(get, path = "/newsletter/confirm/{token}", tag = "events", summary = "The confirmation page: a button, so link scanners confirm nobody (HTML)", params(("token" = String, Path, description = "The 32-character token from the link")), responses((status = 200, description = "The page", content_type = "text/html"), (status = 404, description = "Used or expired", content_type = "text/html")))]
pub(crate) async fn confirm_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Response {
    let _site = state.site();
    let live = token.len() == 32
        && token.bytes().all(|b| b.is_ascii_hexdigit())
        && matches!(
            Sessions::new(state.store.clone())
                .peek(&token, TokenKind::NewsletterConfirmation)
                .await,
            Ok(Some(_))
        );
    if !live {
        return View::message(
            StatusCode::NOT_FOUND,
            Message::new(
                "Link not valid",
                "this confirmation link has been used or has expired; sign up again",
            )
            .link("Sign up again", "/newsletter"),
        )
        .into_response();
    }
    let mut m = Message::new(
        "Confirm your subscription",
        "Press the button to receive this newsletter.",
    );
    m.button = Some((
        format!("/newsletter/confirm/{token}"),
        "Confirm my subscription".into(),
    ));
    View::message(StatusCode::OK, m).into_response()
}

/// The confirmation page's button: a page saying what happened.
#[utoipa::path(post, path = "/newsletter/confirm/{token}", tag = "events", summary = "Confirm a sign-up (HTML; single use)", params(("token" = String, Path, description = "The 32-character token from the link")), responses((status = 200, description = "Confirmed", content_type = "text/html"), (status = 404, description = "Used or expired", content_type = "text/html")))]
pub(crate) async fn confirm(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    match confirm_token(&state, &token).await {
        Ok(r) => r,
        Err(e) => View::message(
            e.status(),
            Message::new("Link not valid", e.public_message()).link("Sign up again", "/newsletter"),
        )
        .into_response(),
    }
}

async fn confirm_token(state: &AppState, token: &str) -> Result<Response, ApiError> {
    let gone = || {
        ApiError::NotFound(
            "this confirmation link has been used or has expired; sign up again".into(),
        )
    };
    let used = Sessions::new(state.store.clone())
        .redeem(token, TokenKind::NewsletterConfirmation)
        .await?
        .ok_or_else(gone)?;
    let (list, email) = used.subject.split_once('\n').ok_or_else(gone)?;
    let subscriptions: Repo<Subscription> = Repo::new(state.store.clone());
    let key = Subscription::key_of(list, email);
    let found = subscriptions.get(&key).await?.ok_or_else(gone)?;
    let mut sub = found.record;
    sub.confirmed = true;
    let unsubscribe = random_token();
    let link = UnsubscribeLink {
        token_hash: token_hash(&unsubscribe),
        list: list.to_string(),
        email: email.to_string(),
    };
    let welcome = Mail::new(
        &sub.email,
        format!("Subscribed: {list}"),
        format!(
            "Hello,\n\nyour subscription is confirmed. To stop it at any time:\n{}/newsletter/unsubscribe/{unsubscribe}\n",
            state.site().settings().base_url
        ),
    );
    state
        .store
        .transact(vec![
            Write::Put(to_item(&sub)?, Cond::Version(found.version)),
            Write::Put(to_item(&link)?, Cond::NotExists),
            Write::Put(to_item(&welcome)?, Cond::NotExists),
            Event::new(
                "subscription.confirmed",
                &sub.email,
                None,
                format!("subscription {} {}", sub.list, sub.email),
                serde_json::json!({ "list": sub.list, "email": sub.email, "name": sub.name }),
            )
            .write()?,
        ])
        .await?;
    state.deliver_mail().await;
    Ok(View::message(StatusCode::OK, Message::new(
            "Subscribed",
            "Thank you: your subscription is confirmed. Every newsletter carries a link to unsubscribe with one click.",
        )
        .link("Back to the home page", "/")).into_response())
}

/// A link opened in a browser (or prefetched by a mail scanner) only shows a button; the
/// button, or a mail program's one-click POST (RFC 8058), unsubscribes.
#[utoipa::path(get, path = "/newsletter/unsubscribe/{token}", tag = "events", summary = "The unsubscribe page: a button, so link scanners unsubscribe nobody (HTML)", params(("token" = String, Path, description = "The 32-character token from the link")), responses((status = 200, description = "The page", content_type = "text/html")))]
pub(crate) async fn unsubscribe_page(
    State(_state): State<AppState>,
    Path(token): Path<String>,
) -> Response {
    let token: String = token.chars().filter(char::is_ascii_hexdigit).collect();
    let mut message = Message::new(
        "Unsubscribe",
        "Press the button to stop receiving this newsletter.",
    );
    message.button = Some((
        format!("/newsletter/unsubscribe/{token}"),
        "Unsubscribe me".into(),
    ));
    View::message(StatusCode::OK, message).into_response()
}

#[utoipa::path(post, path = "/newsletter/unsubscribe/{token}", tag = "events", summary = "Unsubscribe (the button, or a mail program's one-click POST, RFC 8058)", params(("token" = String, Path, description = "The 32-character token from the link")), responses((status = 200, description = "Unsubscribed", content_type = "text/html")))]
pub(crate) async fn unsubscribe(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    let links: Repo<UnsubscribeLink> = Repo::new(state.store.clone());
    let key = UnsubscribeLink::key_of(&token_hash(&token));
    if let Some(found) = links.get(&key).await? {
        let sub = Subscription::key_of(&found.record.list, &found.record.email);
        // Once: a second press of the button (the link is gone by then) changes nothing.
        let once = state
            .store
            .transact(vec![
                Write::Delete(sub, Cond::None),
                Write::Delete(key, Cond::Exists),
                Event::new(
                    "subscription.ended",
                    &found.record.email,
                    None,
                    format!("subscription {} {}", found.record.list, found.record.email),
                    serde_json::json!({ "list": found.record.list, "email": found.record.email }),
                )
                .write()?,
            ])
            .await;
        match once {
            Ok(())
            | Err(StoreError::ConditionFailed { .. } | StoreError::TransactionCancelled { .. }) => {
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(View::message(
        StatusCode::OK,
        Message::new(
            "Unsubscribed",
            "You will receive no more of this newsletter.",
        )
        .link("Back to the home page", "/"),
    )
    .into_response())
}
