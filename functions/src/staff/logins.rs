//! Logins of a customer account, for staff: invite a person (a contact and a login without a
//! password, and the activation mail, in one go), disable and re-enable a login, list them.
//! `portal admin invite` and the staff API share [`invite`].

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use portal_core::records::calendar_feeds::CalendarFeeds;
use portal_core::records::customers::{Contact, Customer, Customers, Login};
use portal_core::records::outbox::Mail;
use portal_core::records::sessions::{OneTimeToken, Sessions, TokenKind};
use portal_core::records::{email_key, new_id, random_token, to_item, token_hash};
use portal_core::store::{now, Cond, Store, Write};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::key::Staff;
use super::own_id;
use crate::error::ApiError;
#[allow(unused_imports)]
use crate::error::ErrorBody;
use crate::input::{self, Input};
use crate::state::AppState;

/// Who was invited, where.
#[derive(Debug, Clone)]
pub struct Invited {
    /// The login, without a password until the link is followed.
    pub login: Login,
    /// Its customer.
    pub customer: Customer,
}

/// Creates (or reuses) the contact and the login for `email` in the customer `customer_id`
/// and queues the activation mail (`business` names the portal in it; the link starts with
/// `base_url`) in the same transaction as its single-use token, with `extra` writes.
pub async fn invite(
    store: &Arc<dyn Store>,
    business: &str,
    base_url: &str,
    customer_id: &str,
    email: &str,
    name: Option<String>,
    extra: Vec<Write>,
) -> Result<Invited, ApiError> {
    let email = input::email("email", email)?;
    let customers = Customers::new(store.clone());
    let customer = customers
        .get(customer_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("there is no customer `{customer_id}`")))?
        .record;
    let login = match customers.login(&email).await? {
        Some(found) if found.record.customer_id != customer.id => {
            return Err(ApiError::Conflict(format!(
                "{email} already has a login in another customer account"
            )))
        }
        Some(found) if found.record.password_hash.is_some() => {
            return Err(ApiError::Conflict(format!(
                "{email} already has an active login; the forgotten-password link sets a new password"
            )))
        }
        Some(found) => found.record,
        None => {
            let known = customers
                .contacts(&customer.id)
                .await?
                .into_iter()
                .find(|c| email_key(&c.email) == email_key(&email));
            let contact = match known {
                Some(c) => c,
                None => {
                    let c = Contact {
                        customer_id: customer.id.clone(),
                        id: new_id(),
                        name: name.unwrap_or_else(|| {
                            email.split('@').next().unwrap_or(&email).to_string()
                        }),
                        email: email.clone(),
                        phone: None,
                        role: None,
                    };
                    customers.save_contact(&c).await?;
                    c
                }
            };
            let login = Login {
                email: email.clone(),
                customer_id: customer.id.clone(),
                contact_id: contact.id,
                password_hash: None,
                disabled: false,
                failed_attempts: 0,
                credentials: Login::fresh_credentials(),
                created: now(),
                sees: Default::default(),
                calendar_feed: None,
            };
            customers.create_login(&login).await?;
            login
        }
    };
    let token = random_token();
    let record = OneTimeToken {
        token_hash: token_hash(&token),
        kind: TokenKind::Activation,
        subject: email_key(&login.email),
        expires_at: now() + crate::auth::ACTIVATION_SECONDS,
        credentials: Some(login.credentials),
    };
    let mail = Mail::new(
        &login.email,
        format!("Your {business} portal login"),
        format!(
            "Hello,\n\n{business} has created a login for you to the customer portal of {}, where you can see your invoices, quotes, cases and documents.\n\nChoose your password here (the link works once, within 72 hours):\n{base_url}/activate/{token}\n",
            customer.name
        ),
    );
    let mut writes = vec![
        Write::Put(to_item(&record)?, Cond::NotExists),
        Write::Put(to_item(&mail)?, Cond::NotExists),
    ];
    writes.extend(extra);
    store.transact(writes).await?;
    Ok(Invited { login, customer })
}

/// A login as staff see it (never its password hash).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StaffLogin {
    /// E-mail address.
    pub email: String,
    /// The customer.
    pub customer_id: String,
    /// Whether a password was chosen (the activation link was followed).
    pub active: bool,
    /// Whether it is disabled.
    pub disabled: bool,
    /// Created, Unix seconds.
    pub created: i64,
    /// What it may see of the account.
    pub sees: Sees,
}

/// What a login may see of its account in the customer area (beyond its profile and the
/// account's documents and reports).
#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
pub struct Sees {
    /// All the account's cases and bugs; `false`: only those the login filed.
    pub all_issues: bool,
    /// Invoices, payments, the balance and quotes.
    pub billing: bool,
    /// Projects.
    pub projects: bool,
}

fn login_view(l: &Login) -> StaffLogin {
    StaffLogin {
        email: l.email.clone(),
        customer_id: l.customer_id.clone(),
        active: l.password_hash.is_some(),
        disabled: l.disabled,
        created: l.created,
        sees: Sees {
            all_issues: l.sees.all_issues,
            billing: l.sees.billing,
            projects: l.sees.projects,
        },
    }
}

/// The operation behind the desk's customer screen: the logins of customer `id`'s contact
/// people (1 request per contact).
pub(crate) async fn logins_of(
    state: &AppState,
    staff: &Staff,
    id: &str,
) -> Result<Vec<StaffLogin>, ApiError> {
    staff.may("customers:read")?;
    let customers = Customers::new(state.store.clone());
    let mut out = Vec::new();
    for contact in customers.contacts(id).await? {
        if let Some(l) = customers
            .login(&contact.email)
            .await?
            .filter(|l| l.record.customer_id == id)
        {
            out.push(login_view(&l.record));
        }
    }
    Ok(out)
}

/// An invitation.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLogin {
    /// The address of the person who will log in.
    #[serde(default)]
    #[schema(
        required = true,
        pattern = "rule:email",
        min_length = 3,
        max_length = 254
    )]
    pub email: String,
    /// Their name, for a new contact.
    #[serde(default)]
    #[schema(pattern = "rule:blank-or-line", max_length = 200)]
    pub name: Option<String>,
}

#[utoipa::path(post, path = "/api/staff/customers/{id}/logins", tag = "staff", summary = "Invite a person: a login without a password, and a mail with a single-use link (72 hours) to choose one",
    params(("id" = String, Path, description = "The customer")), security(("api_key" = ["customers:write"])),
    request_body(content((NewLogin = "application/json"))),
    responses((status = 201, description = "Invited; the mail is on its way", body = StaffLogin),
        (status = 401, description = "No key, or an unknown or revoked one", body = ErrorBody), (status = 403, description = "The key lacks customers:write", body = ErrorBody),
        (status = 404, description = "No such customer", body = ErrorBody), (status = 409, description = "The address has a login elsewhere, or an active one", body = ErrorBody),
        (status = 422, description = "Not an e-mail address", body = ErrorBody)))]
pub(crate) async fn create(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    body: Input<NewLogin>,
) -> Result<Response, ApiError> {
    staff.may("customers:write")?;
    let id = own_id("id", &id)?;
    let settings = state.site().settings().clone();
    let audit = staff.audit(
        "login.invited",
        Some(&id),
        format!("customer {id}"),
        json!({ "email": body.value.email.trim() }),
    )?;
    let name = body
        .value
        .name
        .as_deref()
        .map(|n| input::optional_line("name", n, 200))
        .transpose()?
        .flatten();
    let invited = invite(
        &state.store,
        &settings.business,
        &settings.base_url,
        &id,
        &body.value.email,
        name,
        audit,
    )
    .await?;
    state.deliver_mail().await;
    Ok((StatusCode::CREATED, Json(login_view(&invited.login))).into_response())
}

/// A change to a login: any of its fields; those left out stay as they are.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginChange {
    /// `true` disables the login and ends its sessions at once; `false` enables it again.
    #[serde(default, deserialize_with = "crate::input::present")]
    #[schema(nullable = false)]
    pub disabled: Option<bool>,
    /// Whether it sees all the account's cases and bugs (`false`: only its own).
    #[serde(default, deserialize_with = "crate::input::present")]
    #[schema(nullable = false)]
    pub all_issues: Option<bool>,
    /// Whether it sees invoices, payments, the balance and quotes.
    #[serde(default, deserialize_with = "crate::input::present")]
    #[schema(nullable = false)]
    pub billing: Option<bool>,
    /// Whether it sees projects.
    #[serde(default, deserialize_with = "crate::input::present")]
    #[schema(nullable = false)]
    pub projects: Option<bool>,
}

#[utoipa::path(patch, path = "/api/staff/customers/{id}/logins/{email}", tag = "staff", summary = "Disable a login or enable it again, and choose what it may see of the account (either change ends its sessions at once)",
    params(("id" = String, Path, description = "The customer"), ("email" = String, Path, description = "The login's address")), security(("api_key" = ["customers:write"])),
    request_body(content((LoginChange = "application/json"))),
    responses((status = 200, description = "Changed", body = StaffLogin),
        (status = 401, description = "No key, or an unknown or revoked one", body = ErrorBody), (status = 403, description = "The key lacks customers:write", body = ErrorBody),
        (status = 404, description = "No such login in this customer account", body = ErrorBody), (status = 409, description = "Changed meanwhile; send it again", body = ErrorBody)))]
pub(crate) async fn change(
    State(state): State<AppState>,
    staff: Staff,
    Path((id, email)): Path<(String, String)>,
    body: Input<LoginChange>,
) -> Result<Response, ApiError> {
    staff.may("customers:write")?;
    let customers = Customers::new(state.store.clone());
    let found = customers
        .login(&email)
        .await?
        .filter(|l| l.record.customer_id == id)
        .ok_or_else(|| ApiError::NotFound(format!("customer {id} has no login {email}")))?;
    let v = body.value;
    if v.disabled.is_none() && v.all_issues.is_none() && v.billing.is_none() && v.projects.is_none()
    {
        return Err(ApiError::invalid(
            "disabled",
            "say what to change: disabled, all_issues, billing or projects",
        ));
    }
    let mut login = found.record;
    let before = (login.disabled, login.sees);
    login.disabled = v.disabled.unwrap_or(login.disabled);
    login.sees.all_issues = v.all_issues.unwrap_or(login.sees.all_issues);
    login.sees.billing = v.billing.unwrap_or(login.sees.billing);
    login.sees.projects = v.projects.unwrap_or(login.sees.projects);
    // A session carries what its login may see: a narrower view must not wait for the
    // session to end, so a change of what it sees, or disabling it, ends its sessions (the
    // customer logs in again). They are ended even when the login already says so, so that
    // a request sent again after a failure half-way still ends them.
    let end_sessions = v.disabled == Some(true)
        || v.all_issues.is_some()
        || v.billing.is_some()
        || v.projects.is_some();
    let mut audit = Vec::new();
    if login.disabled != before.0 {
        audit.extend(staff.audit(
            if login.disabled {
                "login.disabled"
            } else {
                "login.enabled"
            },
            Some(&id),
            format!("customer {id}"),
            json!({ "email": login.email }),
        )?);
    }
    if login.sees != before.1 {
        audit.extend(staff.audit(
            "login.visibility",
            Some(&id),
            format!("customer {id} login {}", login.email),
            json!({
                "email": login.email,
                "all_issues": login.sees.all_issues,
                "billing": login.sees.billing,
                "projects": login.sees.projects,
            }),
        )?);
    }
    // A disabled login's calendar address ends with it, for good: enabling the login again
    // does not bring the old address back.
    if login.disabled && login.calendar_feed.is_some() {
        audit.extend(CalendarFeeds::end(&mut login));
    }
    if !audit.is_empty() {
        customers
            .update_login_with(&login, found.version, audit)
            .await?;
    }
    if end_sessions {
        Sessions::new(state.store.clone())
            .end_all(&login.email)
            .await?;
    }
    Ok(Json(login_view(&login)).into_response())
}
