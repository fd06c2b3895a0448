//! Customer accounts for staff and integrations: list, read, and create or update by the
//! business's own id with an idempotent `PUT` (a CRM pushes its customers as they are).

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Json;
use portal_core::records::customers::{Customer, Customers};
use portal_core::records::to_item;
use portal_core::store::{now, Cursor};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::key::Staff;
use super::{check_version, cursor_error, own_id, with_etag};
use crate::error::ApiError;
#[allow(unused_imports)]
use crate::error::ErrorBody;
use crate::input::{self, Input};
use crate::state::AppState;

/// A customer account as staff see it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StaffCustomer {
    /// The business's own id.
    pub id: String,
    /// Customer number shown to the customer.
    pub number: String,
    /// Name.
    pub name: String,
    /// Main e-mail address.
    pub email: String,
    /// Phone numbers.
    pub phones: Vec<String>,
    /// Postal address lines.
    pub address: Vec<String>,
    /// `active`, `on hold`, `closed` …
    pub status: String,
    /// Invoiced minus paid, in minor units (kept by the billing operations).
    pub balance_cents: i64,
    /// Created, Unix seconds.
    pub created: i64,
    /// The version to send as `If-Match` with a change (also the `ETag`).
    pub version: u64,
}

fn view(c: Customer, version: u64) -> StaffCustomer {
    StaffCustomer {
        id: c.id,
        number: c.number,
        name: c.name,
        email: c.email,
        phones: c.phones,
        address: c.address,
        status: c.status,
        balance_cents: c.balance_cents,
        created: c.created,
        version,
    }
}

fn answer(status: StatusCode, c: StaffCustomer) -> Response {
    let version = c.version;
    with_etag(status, Json(c), version)
}

/// A page of customers.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CustomerPage {
    /// Id and name of each, in id order.
    pub customers: Vec<CustomerRef>,
    /// Give this as `cursor` for the next page; none at the end.
    pub next: Option<String>,
}

/// A customer in a list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CustomerRef {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
}

/// Paging.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Where the previous page ended.
    pub cursor: Option<String>,
    /// At most this many (1–1,000; 100 when left out).
    pub limit: Option<usize>,
}

#[utoipa::path(get, path = "/api/staff/customers", tag = "staff", summary = "Customer accounts, in id order",
    params(PageParams), security(("api_key" = ["customers:read"])),
    responses((status = 200, description = "A page", body = CustomerPage), (status = 401, description = "No key, or an unknown or revoked one", body = ErrorBody), (status = 403, description = "The key lacks customers:read", body = ErrorBody)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    staff: Staff,
    Query(p): Query<PageParams>,
) -> Result<Json<CustomerPage>, ApiError> {
    staff.may("customers:read")?;
    let limit = p.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::invalid("limit", "give a number from 1 to 1000"));
    }
    let (page, next) = Customers::new(state.store.clone())
        .list(
            limit,
            p.cursor.filter(|c| !c.is_empty()).map(Cursor::from_client),
        )
        .await
        .map_err(cursor_error)?;
    Ok(Json(CustomerPage {
        customers: page
            .into_iter()
            .map(|c| CustomerRef {
                id: c.id,
                name: c.name,
            })
            .collect(),
        next: next.map(|c| c.as_str().to_string()),
    }))
}

#[utoipa::path(get, path = "/api/staff/customers/{id}", tag = "staff", summary = "A customer account",
    params(("id" = String, Path, description = "The business's id for the customer")), security(("api_key" = ["customers:read"])),
    responses((status = 200, description = "The customer; its version is the ETag", body = StaffCustomer), (status = 401, description = "No key, or an unknown or revoked one", body = ErrorBody), (status = 403, description = "The key lacks customers:read", body = ErrorBody), (status = 404, description = "No such customer", body = ErrorBody)))]
pub(crate) async fn get(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(answer(StatusCode::OK, read(&state, &staff, &id).await?))
}

/// The operation behind both doors: the customer `id`.
pub(crate) async fn read(
    state: &AppState,
    staff: &Staff,
    id: &str,
) -> Result<StaffCustomer, ApiError> {
    staff.may("customers:read")?;
    let found = Customers::new(state.store.clone())
        .get(&own_id("id", id)?)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("there is no customer {id}")))?;
    Ok(view(found.record, found.version))
}

/// A customer account as the business's systems send it.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerInput {
    /// Customer number shown to the customer, e.g. `C-1042`.
    #[serde(default)]
    #[schema(
        required = true,
        pattern = "rule:line",
        min_length = 1,
        max_length = 64
    )]
    pub number: String,
    /// Name.
    #[serde(default)]
    #[schema(
        required = true,
        pattern = "rule:line",
        min_length = 1,
        max_length = 200
    )]
    pub name: String,
    /// Main e-mail address.
    #[serde(default)]
    #[schema(
        required = true,
        pattern = "rule:email",
        min_length = 3,
        max_length = 254
    )]
    pub email: String,
    /// Phone numbers.
    #[serde(default)]
    #[schema(max_items = 10, pattern = "rule:blank-or-line", max_length = 200)]
    pub phones: Vec<String>,
    /// Postal address lines.
    #[serde(default)]
    #[schema(max_items = 10, pattern = "rule:blank-or-line", max_length = 200)]
    pub address: Vec<String>,
    /// `active` when left out.
    #[serde(default)]
    #[schema(pattern = "rule:line", min_length = 1, max_length = 40)]
    pub status: Option<String>,
}

/// The customer as stored after a write, answered with `status`.
async fn saved(customers: &Customers, id: &str, status: StatusCode) -> Result<Response, ApiError> {
    let found = customers
        .get(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("there is no customer {id}")))?;
    Ok(answer(status, view(found.record, found.version)))
}

#[utoipa::path(put, path = "/api/staff/customers/{id}", tag = "staff", summary = "Create or update a customer account by the business's own id (idempotent)",
    params(("id" = String, Path, description = "The business's id for the customer"), ("If-Match" = Option<String>, Header, description = "The version read (`ETag`); refused with 412 if it changed since")),
    security(("api_key" = ["customers:write"])),
    request_body(content((CustomerInput = "application/json"))),
    responses((status = 200, description = "Updated (or unchanged)", body = StaffCustomer), (status = 201, description = "Created", body = StaffCustomer),
        (status = 401, description = "No key, or an unknown or revoked one", body = ErrorBody), (status = 403, description = "The key lacks customers:write", body = ErrorBody),
        (status = 409, description = "Changed meanwhile by someone else", body = ErrorBody), (status = 412, description = "Changed since the version in If-Match", body = ErrorBody), (status = 422, description = "A field is wrong; `field` names it", body = ErrorBody)))]
pub(crate) async fn put(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Input<CustomerInput>,
) -> Result<Response, ApiError> {
    staff.may("customers:write")?;
    let id = own_id("id", &id)?;
    let v = body.value;
    let lines = |field: &str, list: &[String]| -> Result<Vec<String>, ApiError> {
        if list.len() > 10 {
            return Err(ApiError::invalid(field, "give at most 10 lines"));
        }
        // Blank lines are left out (a CRM's empty address line), the rest checked.
        let checked: Result<Vec<_>, _> = list
            .iter()
            .map(|l| input::optional_line(field, l, 200))
            .collect();
        Ok(checked?.into_iter().flatten().collect())
    };
    let mut wanted = Customer {
        id: id.clone(),
        number: input::line("number", &v.number, 64)?,
        name: input::line("name", &v.name, 200)?,
        email: input::email("email", &v.email)?,
        phones: lines("phones", &v.phones)?,
        address: lines("address", &v.address)?,
        balance_cents: 0,
        status: match v.status {
            Some(s) => input::line("status", &s, 40)?,
            None => "active".into(),
        },
        created: now(),
    };

    let customers = Customers::new(state.store.clone());
    match customers.get(&id).await? {
        None => {
            let audit = staff.audit(
                "customer.created",
                Some(&id),
                format!("customer {id}"),
                to_item(&wanted)?.data.into(),
            )?;
            customers.create_with(&wanted, audit).await?;
            saved(&customers, &id, StatusCode::CREATED).await
        }
        Some(found) => {
            check_version(&headers, found.version)?;
            wanted.balance_cents = found.record.balance_cents;
            wanted.created = found.record.created;
            if wanted == found.record {
                return Ok(answer(StatusCode::OK, view(found.record, found.version)));
            }
            let audit = staff.audit(
                "customer.updated",
                Some(&id),
                format!("customer {id}"),
                json!({ "from": to_item(&found.record)?.data, "to": to_item(&wanted)?.data }),
            )?;
            customers.update_with(&wanted, found.version, audit).await?;
            saved(&customers, &id, StatusCode::OK).await
        }
    }
}

/// Whether to erase a customer that still has open items.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EraseParams {
    /// `true` to erase even with a balance, open quotes, open issues or running projects.
    #[serde(default)]
    pub force: bool,
}

/// What an erasure removed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErasedCustomer {
    /// The customer that was.
    pub id: String,
    /// Records deleted (the account, contacts, logins, billing, quotes, projects …).
    pub records: usize,
    /// Files removed.
    pub files: usize,
}

#[utoipa::path(delete, path = "/api/staff/customers/{id}", tag = "staff", summary = "Erase a customer account and everything kept under it (refused while it has open items, unless forced)",
    params(("id" = String, Path, description = "The customer"), EraseParams), security(("api_key" = ["customers:write"])),
    responses((status = 200, description = "Erased", body = ErasedCustomer), (status = 401, description = "No key, or an unknown or revoked one", body = ErrorBody),
        (status = 403, description = "The key lacks customers:write", body = ErrorBody), (status = 404, description = "No such customer", body = ErrorBody),
        (status = 409, description = "It has open items (the message lists them); send `force=true` to erase it anyway", body = ErrorBody)))]
pub(crate) async fn erase(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    Query(p): Query<EraseParams>,
) -> Result<Json<ErasedCustomer>, ApiError> {
    staff.may("customers:write")?;
    let id = own_id("id", &id)?;
    let customers = Customers::new(state.store.clone());
    let found = customers
        .get(&id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("there is no customer {id}")))?;
    if !p.force {
        let erasure = portal_core::records::erasure::Erasure::new(state.store.clone());
        let open = erasure.open_items(&id).await?;
        if !open.is_empty() {
            return Err(ApiError::Conflict(format!(
                "customer {id} still has {}; settle them first, or send force=true",
                open.join(", ")
            )));
        }
    }
    let audit = staff.audit(
        "customer.erased",
        Some(&id),
        format!("customer {id}"),
        json!({ "name": found.record.name, "number": found.record.number, "forced": p.force }),
    )?;
    let erased = portal_core::records::erasure::Erasure::new(state.store.clone())
        .erase(&id, audit)
        .await?;
    if let Some(blobs) = &state.blobs {
        for key in &erased.blobs {
            if let Err(e) = blobs.delete(key).await {
                tracing::warn!("a file of an erased customer was left behind: {e}");
            }
        }
    }
    Ok(Json(ErasedCustomer {
        id,
        records: erased.records,
        files: erased.blobs.len(),
    }))
}

/// A contact person of a customer.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactInput {
    /// Name.
    #[serde(default)]
    #[schema(
        required = true,
        pattern = "rule:line",
        min_length = 1,
        max_length = 200
    )]
    pub name: String,
    /// E-mail address.
    #[serde(default)]
    #[schema(
        required = true,
        pattern = "rule:email",
        min_length = 3,
        max_length = 254
    )]
    pub email: String,
    /// Phone, if any.
    #[serde(default)]
    #[schema(pattern = "rule:blank-or-line", max_length = 40)]
    pub phone: Option<String>,
    /// Role, e.g. `accounts`.
    #[serde(default)]
    #[schema(pattern = "rule:blank-or-line", max_length = 100)]
    pub role: Option<String>,
}

/// A contact as staff see it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StaffContact {
    /// The business's id (or the portal's, for a contact made by an invitation).
    pub id: String,
    /// Name.
    pub name: String,
    /// E-mail address.
    pub email: String,
    /// Phone.
    pub phone: Option<String>,
    /// Role.
    pub role: Option<String>,
}

/// Refuses (404) a customer that is not stored: what is listed under an unknown or deleted
/// customer is not an empty list. Sent beside the list's own read (`try_join`).
pub(crate) async fn must_exist(state: &AppState, id: &str) -> Result<(), ApiError> {
    Customers::new(state.store.clone())
        .get(id)
        .await?
        .map(|_| ())
        .ok_or_else(|| ApiError::NotFound(format!("there is no customer {id}")))
}

#[utoipa::path(get, path = "/api/staff/customers/{id}/contacts", tag = "staff", summary = "A customer's contact people",
    params(("id" = String, Path, description = "The customer")), security(("api_key" = ["customers:read"])),
    responses((status = 200, description = "The contacts", body = [StaffContact]), (status = 401, description = "No key, or an unknown or revoked one", body = ErrorBody),
        (status = 403, description = "The key lacks customers:read", body = ErrorBody), (status = 404, description = "No such customer", body = ErrorBody)))]
pub(crate) async fn contacts(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<Json<Vec<StaffContact>>, ApiError> {
    staff.may("customers:read")?;
    let id = own_id("id", &id)?;
    let customers = Customers::new(state.store.clone());
    customers
        .get(&id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("there is no customer {id}")))?;
    Ok(Json(
        customers
            .contacts(&id)
            .await?
            .into_iter()
            .map(|c| StaffContact {
                id: c.id,
                name: c.name,
                email: c.email,
                phone: c.phone,
                role: c.role,
            })
            .collect(),
    ))
}

#[utoipa::path(put, path = "/api/staff/customers/{id}/contacts/{contact}", tag = "staff", summary = "Create or update a contact person of a customer by the business's own id",
    params(("id" = String, Path, description = "The customer"), ("contact" = String, Path, description = "The business's id for the contact")),
    security(("api_key" = ["customers:write"])), request_body(content((ContactInput = "application/json"))),
    responses((status = 200, description = "Stored", body = StaffContact), (status = 401, description = "No key, or an unknown or revoked one", body = ErrorBody),
        (status = 403, description = "The key lacks customers:write", body = ErrorBody), (status = 404, description = "No such customer", body = ErrorBody),
        (status = 422, description = "A field is wrong; `field` names it", body = ErrorBody)))]
pub(crate) async fn put_contact(
    State(state): State<AppState>,
    staff: Staff,
    Path((id, contact)): Path<(String, String)>,
    body: Input<ContactInput>,
) -> Result<Json<StaffContact>, ApiError> {
    staff.may("customers:write")?;
    let id = own_id("id", &id)?;
    let contact = own_id("contact", &contact)?;
    let v = body.value;
    let optional = |field: &str, value: &Option<String>, max: usize| match value {
        Some(x) => input::optional_line(field, x, max),
        None => Ok(None),
    };
    let c = portal_core::records::customers::Contact {
        customer_id: id.clone(),
        id: contact.clone(),
        name: input::line("name", &v.name, 200)?,
        email: input::email("email", &v.email)?,
        phone: optional("phone", &v.phone, 40)?,
        role: optional("role", &v.role, 100)?,
    };
    let audit = staff.audit(
        "customer.contact",
        Some(&id),
        format!("customer {id} contact {contact}"),
        json!({ "name": c.name, "email": c.email, "role": c.role }),
    )?;
    Customers::new(state.store.clone())
        .put_contact(&c, audit)
        .await?;
    Ok(Json(StaffContact {
        id: c.id,
        name: c.name,
        email: c.email,
        phone: c.phone,
        role: c.role,
    }))
}
