//! `/desk/customers/{id}/view-as/{email}` (managers): the account page exactly as one of the
//! customer's logins sees it at `/my/` (only the parts that login may see), for answering "what do you see?" on the phone. It
//! renders the customer area's own page from the same reads, with a notice that it is
//! staff's view; it writes nothing but its audit entry, and its forms are inert (they carry
//! no form token, and the member's browser has no customer session to send them with).

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use portal_core::records::customers::Visibility;
use portal_core::records::sessions::Session;
use portal_core::records::RecordError;
use portal_core::store::now;
use serde_json::json;

use crate::account::dashboard::dashboard_of;
use crate::auth::SignedIn;
use crate::error::ApiError;
use crate::staff::logins::logins_of;
use crate::state::AppState;
use crate::view::View;

use super::session::DeskUser;

/// What a member must be allowed to read to see everything the account page shows.
const READS: [&str; 6] = [
    "customers:read",
    "billing:read",
    "quotes:read",
    "projects:read",
    "documents:read",
    "reports:read",
];

/// `GET /desk/customers/{id}/view-as/{email}`.
pub(crate) async fn page(
    State(state): State<AppState>,
    user: DeskUser,
    Path((id, email)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let staff = user.staff();
    for scope in READS {
        staff.may(scope)?;
    }
    let login = logins_of(&state, &staff, &id)
        .await?
        .into_iter()
        .find(|l| l.email.eq_ignore_ascii_case(email.trim()))
        .ok_or_else(|| {
            ApiError::NotFound(format!("customer {id} has no login {}", email.trim()))
        })?;
    let audit = staff.audit(
        "customer.viewed_as",
        Some(&id),
        format!("customer {id} login {}", login.email),
        json!({ "email": login.email }),
    )?;
    state
        .store
        .transact(audit)
        .await
        .map_err(RecordError::from)?;
    // A session in name only: never stored, so its token opens nothing.
    let t = now();
    let who = SignedIn {
        session: Session {
            token_hash: String::new(),
            email: login.email.clone(),
            customer_id: login.customer_id.clone(),
            created: t,
            expires_at: t,
            last_seen: t,
            sees: Visibility {
                all_issues: login.sees.all_issues,
                billing: login.sees.billing,
                projects: login.sees.projects,
            },
        },
        token: String::new(),
    };
    let dashboard = dashboard_of(&state, &who).await?;
    Ok(View::flat(dashboard, "my/index.html")
        .titled("account", "Your account, as staff see it", "/my/")
        .with("csrf", "")
        .with(
            "view_as",
            json!({ "email": login.email, "customer": login.customer_id }),
        )
        .unlisted()
        .into_response())
}
