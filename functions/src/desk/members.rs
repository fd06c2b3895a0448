//! Staff members: adding one (an activation link by mail, in the same transaction as the
//! member), listing them, disabling and enabling them. `portal admin staff add` and the
//! desk's staff screen (admins only) both call [`add`].

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use portal_core::records::outbox::Mail;
use portal_core::records::sessions::{OneTimeToken, TokenKind};
use portal_core::records::staff::{Member, Members, Role};
use portal_core::records::{email_key, random_token, to_item, token_hash, Versioned};
use portal_core::store::{now, Cond, Store, Write};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::auth::ACTIVATION_SECONDS;
use crate::error::ApiError;
use crate::input::{self, Input};
use crate::state::AppState;
use crate::view::done_now;

use super::page::desk_page;
use super::session::DeskUser;

/// Adds a member of staff with `role`, by `actor` (`cli`, or `staff:{email}`), and queues
/// the mail with their activation link (valid 72 hours) — all in one transaction.
/// `business` and `base_url` name the portal in the mail.
pub async fn add(
    store: &Arc<dyn Store>,
    business: &str,
    base_url: &str,
    email: &str,
    name: &str,
    role: Role,
    actor: &str,
) -> Result<Member, ApiError> {
    let email = input::email("email", email)?;
    let name = match name.trim() {
        "" => email.split('@').next().unwrap_or_default().to_string(),
        n => input::line("name", n, 200)?,
    };
    let member = Member::new(&email, &name, role, actor);
    let intro = format!(
        "you have been added to the staff of {business}'s portal as {}.",
        role.name()
    );
    let mut writes = password_link(&member, business, base_url, &intro)?;
    writes.extend(crate::staff::key::audit_writes(
        actor,
        "staff.added",
        None,
        format!("staff {}", member.email),
        json!({ "email": member.email, "name": member.name, "role": role.name() }),
    )?);
    Members::new(store.clone()).add(&member, writes).await?;
    Ok(member)
}

/// The writes of a link for `member` to choose a password (valid 72 hours, while the
/// member's credentials stay as they are) and of the mail that carries it, saying `intro`.
fn password_link(
    member: &Member,
    business: &str,
    base_url: &str,
    intro: &str,
) -> Result<Vec<Write>, ApiError> {
    let token = random_token();
    let link = OneTimeToken {
        token_hash: token_hash(&token),
        kind: TokenKind::StaffActivation,
        subject: email_key(&member.email),
        expires_at: now() + ACTIVATION_SECONDS,
        credentials: Some(member.credentials),
    };
    let base = base_url.trim_end_matches('/');
    let mail = Mail::new(
        &member.email,
        format!("Your staff login for {business}"),
        format!(
            "Hello {},\n\n{intro}\nChoose your password within 72 hours here:\n{base}/desk/activate/{token}\n\nThen log in at {base}/desk/login.\n",
            member.name
        ),
    );
    Ok(vec![
        Write::Put(to_item(&link)?, Cond::NotExists),
        Write::Put(to_item(&mail)?, Cond::NotExists),
    ])
}

/// The member `email` as an admin reads them to change them: refused unless `user` may
/// manage staff, and refused (`own`) when it is `user` themselves.
async fn another_member(
    state: &AppState,
    user: &DeskUser,
    email: &str,
    own: &str,
) -> Result<(Members, Versioned<Member>), ApiError> {
    user.staff().may("staff:write")?;
    if email_key(email) == email_key(&user.member.email) {
        return Err(ApiError::Conflict(format!("{own}; ask another admin")));
    }
    let members = Members::new(state.store.clone());
    let found = members
        .get(email)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("{email} is not a member of staff")))?;
    Ok((members, found))
}

/// What an admin does for another member who is locked out.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Help {
    /// `password`: a new link to choose a password (the old password and links stop
    /// working); `second_factor`: the authenticator app and recovery codes are forgotten,
    /// and the member sets up a new one at the next login.
    #[serde(default)]
    pub what: String,
}

/// `POST /desk/staff/{email}/help` (admins): a new password link, or a second factor reset.
/// Either ends the member's sessions; an admin cannot do it for themselves.
pub(crate) async fn help(
    State(state): State<AppState>,
    user: DeskUser,
    Path(email): Path<String>,
    body: Input<Help>,
) -> Result<Response, ApiError> {
    let staff = user.staff();
    let (members, found) =
        another_member(&state, &user, &email, "nobody resets their own login").await?;
    let mut member = found.record.clone();
    member.renew_credentials();
    let settings = state.site().settings().clone();
    let (action, mut extra) = match body.value.what.as_str() {
        "password" => {
            member.password_hash = None;
            let intro = format!("an admin of {}'s portal sent you a new link for your staff login; your old password no longer works.", settings.business);
            (
                "staff.password_link",
                password_link(&member, &settings.business, &settings.base_url, &intro)?,
            )
        }
        "second_factor" => {
            member.totp_secret = None;
            member.recovery_codes.clear();
            ("staff.second_factor_reset", Vec::new())
        }
        _ => {
            return Err(ApiError::invalid(
                "what",
                "choose password or second_factor",
            ))
        }
    };
    extra.extend(staff.audit(
        action,
        None,
        format!("staff {}", member.email),
        json!({ "email": member.email }),
    )?);
    extra.push(Write::Check(
        Member::key_of(&user.member.email),
        Cond::Version(user.version),
    ));
    members.update(&member, found.version, extra).await?;
    state.deliver_mail().await;
    let answer = json!({ "email": member.email, "done": action });
    Ok(done_now(
        body.from_form,
        "/desk/staff",
        StatusCode::OK,
        &answer,
    ))
}

/// A member as the staff screen shows them.
#[derive(Debug, Serialize)]
struct Row {
    email: String,
    name: String,
    role: &'static str,
    activated: bool,
    second_factor: bool,
    disabled: bool,
}

/// What the staff screen shows.
#[derive(Debug, Serialize)]
struct StaffScreen {
    members: Vec<Row>,
    roles: Vec<&'static str>,
}

/// `GET /desk/staff` (admins).
pub(crate) async fn page(
    State(state): State<AppState>,
    user: DeskUser,
) -> Result<Response, ApiError> {
    user.staff().may("staff:read")?;
    let members = Members::new(state.store.clone())
        .list()
        .await?
        .into_iter()
        .map(|m| Row {
            email: m.record.email,
            name: m.record.name,
            role: m.record.role.name(),
            activated: m.record.password_hash.is_some(),
            second_factor: m.record.totp_secret.is_some(),
            disabled: m.record.disabled,
        })
        .collect();
    let screen = StaffScreen {
        members,
        roles: Role::ALL.iter().map(|r| r.name()).collect(),
    };
    Ok(desk_page(
        &state,
        &user,
        screen,
        "desk/staff.html",
        "Staff",
        "/desk/staff",
    )
    .await?
    .into_response())
}

/// A new member, from the staff screen.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewMember {
    /// Address.
    #[serde(default)]
    pub email: String,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// `agent`, `manager` or `admin`.
    #[serde(default)]
    pub role: String,
}

fn role(name: &str) -> Result<Role, ApiError> {
    Role::parse(name).ok_or_else(|| ApiError::invalid("role", "choose agent, manager or admin"))
}

/// `POST /desk/staff` (admins): adds a member, who is mailed an activation link.
pub(crate) async fn create(
    State(state): State<AppState>,
    user: DeskUser,
    body: Input<NewMember>,
) -> Result<Response, ApiError> {
    let staff = user.staff();
    staff.may("staff:write")?;
    let role = role(&body.value.role)?;
    let settings = state.site().settings().clone();
    add(
        &state.store,
        &settings.business,
        &settings.base_url,
        &body.value.email,
        &body.value.name,
        role,
        &staff.actor(),
    )
    .await?;
    state.deliver_mail().await;
    let added = json!({ "email": body.value.email.trim(), "role": role.name() });
    Ok(done_now(
        body.from_form,
        "/desk/staff",
        StatusCode::CREATED,
        &added,
    ))
}

/// A change of a member's role or state.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberChange {
    /// A new role.
    #[serde(default)]
    pub role: Option<String>,
    /// `true` to disable, `false` to enable.
    #[serde(default)]
    pub disabled: Option<bool>,
}

/// `POST /desk/staff/{email}` (admins): a new role, or disabled or enabled; the member's
/// sessions end either way. An admin cannot change their own role or disable themselves, so
/// the desk always keeps an admin who can undo a mistake.
pub(crate) async fn change(
    State(state): State<AppState>,
    user: DeskUser,
    Path(email): Path<String>,
    body: Input<MemberChange>,
) -> Result<Response, ApiError> {
    let staff = user.staff();
    let (members, found) = another_member(
        &state,
        &user,
        &email,
        "you cannot change your own role or disable yourself",
    )
    .await?;
    let mut member = found.record.clone();
    if let Some(r) = &body.value.role {
        member.role = role(r)?;
    }
    if let Some(d) = body.value.disabled {
        member.disabled = d;
    }
    let answer =
        json!({ "email": member.email, "role": member.role.name(), "disabled": member.disabled });
    if member == found.record {
        return Ok(done_now(
            body.from_form,
            "/desk/staff",
            StatusCode::OK,
            &answer,
        ));
    }
    member.renew_credentials();
    let mut extra = staff.audit(
        "staff.changed",
        None,
        format!("staff {}", member.email),
        json!({ "email": member.email, "role": member.role.name(), "disabled": member.disabled }),
    )?;
    // Only while the admin making the change is unchanged: two admins demoting each other at
    // once cannot both succeed, so an admin always remains.
    extra.push(Write::Check(
        Member::key_of(&user.member.email),
        Cond::Version(user.version),
    ));
    members.update(&member, found.version, extra).await?;
    Ok(done_now(
        body.from_form,
        "/desk/staff",
        StatusCode::OK,
        &answer,
    ))
}
