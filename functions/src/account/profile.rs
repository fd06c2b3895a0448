//! A customer's own contact details: the account's phones and address and the login's name,
//! changed with every change written to the audit log (for the business's CRM) in the same
//! transaction; and a change of login address, which takes effect only when a link mailed to
//! the new address is followed.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use portal_core::records::audit::AuditEntry;
use portal_core::records::calendar_feeds::CalendarFeeds;
use portal_core::records::customers::{Contact, Customers, Login};
use portal_core::records::feed::Event;
use portal_core::records::outbox::Mail;
use portal_core::records::sessions::{Sessions, TokenKind};
use portal_core::records::{email_key, to_item, Record};
use portal_core::store::{Cond, Write};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::auth::SignedIn;
use crate::error::ApiError;
#[allow(unused_imports)]
use crate::error::{ErrorBody, MessageBody};
use crate::input::{self, Input};
use crate::pages::Message;
use crate::state::AppState;
use crate::view::{done_now, View};

/// How long a link to confirm a new address lasts.
pub const EMAIL_CHANGE_SECONDS: i64 = 24 * 3600;

/// Contact details as the customer sees them.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Profile {
    /// The logged-in person's name.
    pub name: String,
    /// The account's phone numbers.
    pub phones: Vec<String>,
    /// The account's postal address, one line each.
    pub address: Vec<String>,
    /// The login's address (changed through `/api/my/profile/email`).
    pub email: String,
}

/// Contact details as the customer changes them. A form sends the phones and the address as
/// one text each, a line each (a textarea); blank lines are left out.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileChange {
    /// The logged-in person's name.
    #[serde(default)]
    #[schema(
        required = true,
        pattern = "rule:line",
        min_length = 1,
        max_length = 200
    )]
    pub name: String,
    /// The account's phone numbers (up to 5).
    #[serde(default)]
    #[schema(value_type = Vec<String>, max_items = 5, pattern = "rule:blank-or-line", max_length = 120)]
    pub phones: Lines,
    /// The account's postal address, one line each (up to 6).
    #[serde(default)]
    #[schema(value_type = Vec<String>, max_items = 6, pattern = "rule:blank-or-line", max_length = 120)]
    pub address: Lines,
}

/// The profile form as a browser sends it (read as a `ProfileChange`):
/// the phones and the address as one text each, a line each (a textarea).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ProfileForm {
    /// The logged-in person's name.
    #[schema(
        required = true,
        pattern = "rule:line",
        min_length = 1,
        max_length = 200
    )]
    name: String,
    /// The account's phone numbers, a line each (up to 5 lines of 120 characters).
    #[schema(pattern = "rule:lines-5")]
    phones: String,
    /// The account's postal address, a line each (up to 6 lines of 120 characters).
    #[schema(pattern = "rule:lines-6")]
    address: String,
}

/// Lines given as a list (JSON) or as one text with line breaks (a form's textarea).
#[derive(Debug, Default, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Lines(pub Vec<String>);

impl<'de> Deserialize<'de> for Lines {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either {
            List(Vec<String>),
            Text(String),
        }
        Ok(Lines(match Either::deserialize(d)? {
            Either::List(v) => v,
            Either::Text(t) => t
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(str::to_string)
                .collect(),
        }))
    }
}

/// Checks up to `max_lines` lines (blank ones counted, as the API document's `maxItems`
/// counts them, and left out).
fn clean_lines(field: &str, lines: &Lines, max_lines: usize) -> Result<Vec<String>, ApiError> {
    if lines.0.len() > max_lines {
        return Err(ApiError::invalid(
            field,
            format!("give at most {max_lines} lines"),
        ));
    }
    let checked: Result<Vec<_>, _> = lines
        .0
        .iter()
        .map(|l| input::optional_line(field, l, 120))
        .collect();
    Ok(checked?.into_iter().flatten().collect())
}

async fn contact_of(state: &AppState, who: &SignedIn) -> Result<(Login, Contact), ApiError> {
    let customers = Customers::new(state.store.clone());
    let login = customers
        .login(&who.session.email)
        .await?
        .ok_or_else(|| ApiError::Unauthorized("log in first".into()))?
        .record;
    let contact = customers
        .contacts(&who.session.customer_id)
        .await?
        .into_iter()
        .find(|c| c.id == login.contact_id)
        .unwrap_or(Contact {
            customer_id: who.session.customer_id.clone(),
            id: login.contact_id.clone(),
            name: String::new(),
            email: login.email.clone(),
            phone: None,
            role: None,
        });
    Ok((login, contact))
}

#[utoipa::path(get, path = "/api/my/profile", tag = "account", summary = "The customer's contact details",
    responses((status = 200, description = "Details", body = Profile), (status = 401, description = "Not logged in", body = ErrorBody)))]
pub(crate) async fn get_profile(
    State(state): State<AppState>,
    who: SignedIn,
) -> Result<Response, ApiError> {
    Ok(Json(profile(&state, &who).await?).into_response())
}

/// The customer's contact details.
pub(crate) async fn profile(state: &AppState, who: &SignedIn) -> Result<Profile, ApiError> {
    let customers = Customers::new(state.store.clone());
    let customer = customers
        .get(&who.session.customer_id)
        .await?
        .ok_or_else(|| ApiError::NotFound("your customer account".into()))?
        .record;
    // The login's contact is the one with its address, when exactly one has it (a read of
    // the customer's partition, which the account page has made already); else the login
    // says which.
    let own = email_key(&who.session.email);
    let contacts = customers.contacts(&who.session.customer_id).await?;
    let mut same = contacts.iter().filter(|c| email_key(&c.email) == own);
    let (email, contact) = match (same.next(), same.next()) {
        (Some(c), None) => (c.email.clone(), c.clone()),
        _ => {
            let (login, contact) = contact_of(state, who).await?;
            (login.email, contact)
        }
    };
    Ok(Profile {
        name: contact.name,
        phones: customer.phones,
        address: customer.address,
        email,
    })
}

#[utoipa::path(post, path = "/api/my/profile", tag = "account", summary = "Change the contact details; each change goes to the audit log",
    request_body(content((ProfileChange = "application/json"), (ProfileForm = "application/x-www-form-urlencoded"))),
    responses((status = 200, description = "Saved", body = Profile), (status = 303, description = "From a form: back to the account"),
        (status = 401, description = "Not logged in", body = ErrorBody), (status = 409, description = "Changed meanwhile", body = ErrorBody), (status = 422, description = "A field is wrong", body = ErrorBody)))]
pub(crate) async fn update_profile(
    State(state): State<AppState>,
    who: SignedIn,
    body: Input<ProfileChange>,
) -> Result<Response, ApiError> {
    let v = &body.value;
    let name = input::line("name", &v.name, 200)?;
    let phones = clean_lines("phones", &v.phones, 5)?;
    let address = clean_lines("address", &v.address, 6)?;
    let customers = Customers::new(state.store.clone());
    let found = customers
        .get(&who.session.customer_id)
        .await?
        .ok_or_else(|| ApiError::NotFound("your customer account".into()))?;
    let (login, mut contact) = contact_of(&state, &who).await?;
    let mut customer = found.record.clone();
    let mut changes = serde_json::Map::new();
    if contact.name != name {
        changes.insert("name".into(), json!({"old": contact.name, "new": name}));
        contact.name = name.clone();
    }
    if customer.phones != phones {
        changes.insert(
            "phones".into(),
            json!({"old": customer.phones, "new": phones}),
        );
        customer.phones = phones.clone();
    }
    if customer.address != address {
        changes.insert(
            "address".into(),
            json!({"old": customer.address, "new": address}),
        );
        customer.address = address.clone();
    }
    if !changes.is_empty() {
        let event = Event::new(
            "customer.profile_changed",
            login.email.clone(),
            Some(customer.id.clone()),
            format!("customer {}", customer.id),
            json!({ "contact": contact.id, "email": login.email, "changes": changes }),
        );
        let audit = AuditEntry::new(
            login.email.clone(),
            "contact.updated",
            customer.key().to_string(),
            serde_json::Value::Object(changes),
        );
        state
            .store
            .transact(vec![
                Write::Put(to_item(&customer)?, Cond::Version(found.version)),
                Write::Put(to_item(&contact)?, Cond::None),
                Write::Put(to_item(&audit)?, Cond::NotExists),
                event.write()?,
            ])
            .await
            .map_err(|_| {
                ApiError::Conflict(
                    "your details were changed meanwhile; reload and try again".into(),
                )
            })?;
    }
    let profile = Profile {
        name,
        phones,
        address,
        email: login.email,
    };
    Ok(done_now(
        body.from_form,
        "/my/#profile-saved",
        StatusCode::OK,
        &profile,
    ))
}

/// A new login address.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEmail {
    /// The new address.
    #[serde(default)]
    #[schema(
        required = true,
        pattern = "rule:email",
        min_length = 3,
        max_length = 254
    )]
    pub email: String,
    /// The login's current password: a session alone cannot move the login.
    #[serde(default)]
    #[schema(required = true, min_length = 1, max_length = 1000)]
    pub current: String,
}

/// Address changes one login may ask for per hour.
const EMAIL_CHANGES_PER_HOUR: u32 = 5;

#[utoipa::path(post, path = "/api/my/profile/email", tag = "account", summary = "Change the login's address (needs the current password): a link goes to the new address, a notice to the old one, and the change waits for the link",
    request_body(content((NewEmail = "application/json"), (NewEmail = "application/x-www-form-urlencoded"))),
    responses((status = 202, description = "The link is on its way", body = MessageBody), (status = 303, description = "From a form"),
        (status = 401, description = "Not logged in", body = ErrorBody), (status = 422, description = "Not an address", body = ErrorBody)))]
pub(crate) async fn change_email(
    State(state): State<AppState>,
    who: SignedIn,
    body: Input<NewEmail>,
) -> Result<Response, ApiError> {
    let new = input::email("email", &body.value.email)?;
    let old = who.session.email.clone();
    crate::guard::limit(&state, "email-change", &old, EMAIL_CHANGES_PER_HOUR).await?;
    crate::guard::limit_email(&state, &new).await?;
    let found = Customers::new(state.store.clone())
        .login(&old)
        .await?
        .ok_or_else(|| ApiError::Unauthorized("log in first".into()))?;
    crate::auth::check_current(&state, &who, &found.record, &body.value.current).await?;
    let site = state.site();
    let (base, business) = (
        site.settings().base_url.clone(),
        site.settings().business.clone(),
    );
    crate::auth::links::send_link(
        &state,
        TokenKind::EmailChange,
        format!("{}\n{}", email_key(&old), new),
        EMAIL_CHANGE_SECONDS,
        Some(found.record.credentials),
        |token| {
            vec![
                Mail::new(
                    &new,
                    "Confirm your new login address",
                    format!("Hello,\n\nplease confirm that this address should be your portal login from now on:\n{base}/my/email/{token}\n\nIf you did not ask for it, ignore this e-mail: nothing changes.\n"),
                ),
                // The owner hears of it at the address the login has now.
                Mail::new(
                    &found.record.email,
                    "Your login address is about to change",
                    format!("Hello,\n\nsomeone logged in to your {business} portal login asked to move it to another address. It moves only when a link sent there is followed, within a day.\n\nIf it was not you, change your password now at {base}/login (forgotten it? ask for a reset there): that cancels the move and ends every session.\n"),
                ),
            ]
        },
    )
    .await?;
    Ok(done_now(
        body.from_form,
        "/my/#email-sent",
        StatusCode::ACCEPTED,
        &MessageBody::new(format!(
            "A link is on its way to {new}; your login changes when you follow it."
        )),
    ))
}

#[utoipa::path(get, path = "/my/email/{token}", tag = "account", summary = "The page a new address's link opens: a button to confirm (HTML)",
    params(("token" = String, Path, description = "The token from the e-mail")),
    responses((status = 200, description = "The page", content_type = "text/html")))]
pub(crate) async fn confirm_email_page(
    State(_state): State<AppState>,
    Path(token): Path<String>,
) -> Response {
    let token: String = token
        .chars()
        .filter(char::is_ascii_hexdigit)
        .take(32)
        .collect();
    let mut m = Message::new(
        "Confirm your new login address",
        "Press the button to make this address your login. You will then log in with it.",
    );
    m.button = Some((
        format!("/my/email/{token}"),
        "Confirm my new address".into(),
    ));
    View::message(StatusCode::OK, m).into_response()
}

#[utoipa::path(post, path = "/my/email/{token}", tag = "account", summary = "Confirm a new login address: the login moves to it, its sessions end, and the change is audited",
    params(("token" = String, Path, description = "The token from the e-mail")),
    responses((status = 200, description = "Changed", content_type = "text/html"), (status = 404, description = "Used or expired", content_type = "text/html"), (status = 409, description = "The address has a login already", content_type = "text/html")))]
pub(crate) async fn confirm_email(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Response {
    let _site = state.site();
    match move_login(&state, &token).await {
        Ok(email) => View::message(
            StatusCode::OK,
            Message::new(
                "Address changed",
                format!(
                    "Your login is now {email}. Log in with it; your other sessions have ended."
                ),
            )
            .link("Log in", "/login"),
        )
        .into_response(),
        Err(e) => View::message(
            e.status(),
            Message::new("Address not changed", e.public_message()).link("Your account", "/my/"),
        )
        .into_response(),
    }
}

async fn move_login(state: &AppState, token: &str) -> Result<String, ApiError> {
    let gone = || ApiError::NotFound("this link has been used or has expired".into());
    if token.len() != 32 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(gone());
    }
    let used = Sessions::new(state.store.clone())
        .redeem(token, TokenKind::EmailChange)
        .await?
        .ok_or_else(gone)?;
    let (old, new) = used.subject.split_once('\n').ok_or_else(gone)?;
    let customers = Customers::new(state.store.clone());
    let found = customers.login(old).await?.ok_or_else(gone)?;
    // A change of password (or a reset) since the link was made cancels it.
    if used
        .credentials
        .is_some_and(|c| c != found.record.credentials)
    {
        return Err(gone());
    }
    let mut moved = found.record.clone();
    moved.email = new.to_string();
    moved.credentials += 1;
    let mut contact = customers
        .contacts(&moved.customer_id)
        .await?
        .into_iter()
        .find(|c| c.id == moved.contact_id);
    let audit = AuditEntry::new(
        found.record.email.clone(),
        "login.email_changed",
        moved.key().to_string(),
        json!({"email": {"old": found.record.email, "new": new}}),
    );
    let event = Event::new(
        "login.email_changed",
        found.record.email.clone(),
        Some(moved.customer_id.clone()),
        format!("login {new}"),
        json!({ "old": found.record.email, "new": new, "contact": moved.contact_id }),
    );
    let mut writes = vec![
        Write::Delete(found.record.key(), Cond::Version(found.version)),
        Write::Put(to_item(&moved)?, Cond::NotExists),
        Write::Put(to_item(&audit)?, Cond::NotExists),
        event.write()?,
    ];
    if let Some(c) = contact.as_mut() {
        c.email = new.to_string();
        writes.push(Write::Put(to_item(c)?, Cond::None));
    }
    // The calendar address keeps working for the moved login (under a new signature).
    writes.extend(CalendarFeeds::follow(&moved, portal_core::store::now())?);
    state.store.transact(writes).await.map_err(|_| {
        ApiError::Conflict(format!(
            "{new} already has a login, or yours changed meanwhile"
        ))
    })?;
    Sessions::new(state.store.clone())
        .end_all(&found.record.email)
        .await?;
    Ok(new.to_string())
}
