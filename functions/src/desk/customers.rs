//! `/desk/customers`: customer accounts — search and list, create and edit, contacts and
//! their logins (invite, disable, enable, what each sees), and for managers the latest
//! invoices, payments and quotes with forms to publish an invoice or a quote and record a
//! payment (`work.rs` adds projects, reports and documents). Each form calls the staff API's
//! handler for the same operation (`crate::staff::customers`, `logins`, `billing`,
//! `quotes`).

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use portal_core::records::new_id;
use serde::{Deserialize, Serialize};

use crate::account::money::Money;
use crate::error::ApiError;
use crate::input::Input;
use crate::staff::billing::{InvoiceInput, LineInput, PaymentInput};
use crate::staff::customers::{
    CustomerInput, CustomerRef, PageParams, StaffContact, StaffCustomer,
};
use crate::staff::logins::{LoginChange, NewLogin, StaffLogin};
use crate::staff::quotes::QuoteInput;
use crate::staff::{billing, customers, logins, quotes};
use crate::state::AppState;
use crate::view::done_with;

use super::forms::{cents, number, only_line_fields};
use super::page::{api_body, desk_page};
use super::session::DeskUser;

/// At most this many customers are read for the list.
const MOST: usize = 5000;

/// The list's search.
#[derive(Debug, Default, Deserialize, Serialize)]
pub struct Search {
    /// Words in the name or id.
    #[serde(default)]
    pub q: String,
}

/// What the customer list shows.
#[derive(Debug, Serialize)]
struct ListScreen {
    customers: Vec<CustomerRef>,
    q: String,
    can_write: bool,
    truncated: bool,
}

/// `GET /desk/customers`.
pub(crate) async fn list(
    State(state): State<AppState>,
    user: DeskUser,
    Query(search): Query<Search>,
) -> Result<Response, ApiError> {
    let staff = user.staff();
    let mut all = Vec::new();
    let mut cursor = None;
    let truncated = loop {
        let page = customers::list(
            State(state.clone()),
            staff.clone(),
            Query(PageParams {
                cursor,
                limit: Some(1000),
            }),
        )
        .await?
        .0;
        all.extend(page.customers);
        match page.next {
            Some(next) if all.len() < MOST => cursor = Some(next),
            Some(_) => break true,
            None => break false,
        }
    };
    let words = search.q.trim().to_lowercase();
    all.retain(|c| {
        words.is_empty()
            || c.name.to_lowercase().contains(&words)
            || c.id.to_lowercase().contains(&words)
    });
    let screen = ListScreen {
        customers: all,
        q: search.q,
        can_write: staff.may("customers:write").is_ok(),
        truncated,
    };
    Ok(desk_page(
        &state,
        &user,
        screen,
        "desk/customers.html",
        "Customers",
        "/desk/customers",
    )
    .await?
    .into_response())
}

/// A customer account's fields as the desk's form sends them.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomerForm {
    /// The business's id (new accounts only).
    #[serde(default)]
    pub id: String,
    /// Customer number.
    #[serde(default)]
    pub number: String,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Main e-mail address.
    #[serde(default)]
    pub email: String,
    /// Phone numbers, one a line.
    #[serde(default)]
    pub phones: String,
    /// Postal address, one line a line.
    #[serde(default)]
    pub address: String,
    /// Status.
    #[serde(default)]
    pub status: String,
    /// The version the form showed (edits only).
    #[serde(default)]
    pub version: String,
}

impl CustomerForm {
    fn input(&self) -> CustomerInput {
        let lines = |text: &str| text.lines().map(str::to_string).collect();
        CustomerInput {
            number: self.number.clone(),
            name: self.name.clone(),
            email: self.email.clone(),
            phones: lines(&self.phones),
            address: lines(&self.address),
            status: Some(self.status.trim().to_string()).filter(|s| !s.is_empty()),
        }
    }
}

/// `POST /desk/customers`: a new customer account.
pub(crate) async fn create(
    State(state): State<AppState>,
    user: DeskUser,
    body: Input<CustomerForm>,
) -> Result<Response, ApiError> {
    let staff = user.staff();
    staff.may("customers:write")?;
    let id = body.value.id.trim().to_string();
    if customers::read(&state, &staff, &id).await.is_ok() {
        return Err(ApiError::Conflict(format!(
            "there is a customer {id} already; open it to change it"
        )));
    }
    let answer = customers::put(
        State(state.clone()),
        staff,
        Path(id.clone()),
        HeaderMap::new(),
        api_body(body.value.input()),
    )
    .await?;
    Ok(done_with(
        body.from_form,
        &format!("/desk/customers/{id}"),
        answer,
    ))
}

/// `POST /desk/customers/{id}`: a change of the account, against the version the form showed.
pub(crate) async fn edit(
    State(state): State<AppState>,
    user: DeskUser,
    Path(id): Path<String>,
    body: Input<CustomerForm>,
) -> Result<Response, ApiError> {
    // The role first: a form's mistakes are nobody's business who may not send it.
    user.staff().may("customers:write")?;
    let version: u64 = body
        .value
        .version
        .trim()
        .parse()
        .map_err(|_| ApiError::invalid("version", "reload the customer and change it again"))?;
    let mut headers = HeaderMap::new();
    headers.insert(
        header::IF_MATCH,
        HeaderValue::from_str(&format!("\"{version}\"")).expect("digits"),
    );
    let answer = customers::put(
        State(state.clone()),
        user.staff(),
        Path(id.clone()),
        headers,
        api_body(body.value.input()),
    )
    .await
    .map_err(|e| match e {
        ApiError::Stale(_) => ApiError::Conflict(
            "someone changed this customer since you opened it; nothing was changed. Open it again, then make your change".into(),
        ),
        other => other,
    })?;
    Ok(done_with(
        body.from_form,
        &format!("/desk/customers/{id}"),
        answer,
    ))
}

/// An invoice or a payment as the customer screen lists it.
#[derive(Debug, Serialize)]
struct BillingRow {
    id: String,
    number: String,
    date: String,
    status: String,
    amount: Money,
}

/// What the customer screen shows.
#[derive(Debug, Serialize)]
struct CustomerScreen {
    customer: StaffCustomer,
    balance: Money,
    contacts: Vec<StaffContact>,
    logins: Vec<StaffLogin>,
    can_write: bool,
    /// Invoices and payments, when the member may see billing.
    billing: Option<(Vec<BillingRow>, Vec<BillingRow>)>,
    /// Quotes with their decisions and comments, when the member may see quotes.
    quotes: Option<serde_json::Value>,
    /// Fresh ids the forms suggest, so a form sent twice writes once.
    new_invoice_id: String,
    new_quote_id: String,
    new_payment_id: String,
    today: String,
    /// Projects, reports and documents, as far as the member may see them.
    work: super::work::Work,
}

/// `GET /desk/customers/{id}`.
pub(crate) async fn page(
    State(state): State<AppState>,
    user: DeskUser,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let staff = user.staff();
    let customer = customers::read(&state, &staff, &id).await?;
    let contacts = customers::contacts(State(state.clone()), staff.clone(), Path(id.clone()))
        .await?
        .0;
    let logins = logins::logins_of(&state, &staff, &customer.id).await?;
    let billing = match billing::recent(&state, &staff, &customer.id, 20).await {
        Ok((invoices, payments)) => Some((
            invoices
                .into_iter()
                .map(|i| BillingRow {
                    amount: Money::of(i.total_cents()),
                    id: i.id,
                    number: i.number,
                    date: i.date,
                    status: i.status,
                })
                .collect(),
            payments
                .into_iter()
                .map(|p| BillingRow {
                    amount: Money::of(p.amount_cents),
                    id: p.id,
                    number: p.invoice_id.unwrap_or_default(),
                    date: p.date,
                    status: p.method,
                })
                .collect(),
        )),
        Err(ApiError::Forbidden(_)) => None,
        Err(e) => return Err(e),
    };
    let quotes = match quotes::list(
        State(state.clone()),
        staff.clone(),
        Path(customer.id.clone()),
    )
    .await
    {
        Ok(answer) => Some(super::page::json_of(answer).await?),
        Err(ApiError::Forbidden(_)) => None,
        Err(e) => return Err(e),
    };
    let short = || new_id()[20..].to_uppercase();
    let work = super::work::of(&state, &staff, &customer.id).await?;
    let screen = CustomerScreen {
        work,
        balance: Money::of(customer.balance_cents),
        can_write: staff.may("customers:write").is_ok(),
        contacts,
        logins,
        billing,
        quotes,
        new_invoice_id: format!("INV-{}", short()),
        new_quote_id: format!("Q-{}", short()),
        new_payment_id: format!("PAY-{}", short()),
        today: chrono::Utc::now().format("%Y-%m-%d").to_string(),
        customer,
    };
    let title = screen.customer.name.clone();
    let url = format!("/desk/customers/{id}");
    Ok(
        desk_page(&state, &user, screen, "desk/customer.html", &title, &url)
            .await?
            .into_response(),
    )
}

/// `POST /desk/customers/{id}/logins`: invites a person (a mail with an activation link).
pub(crate) async fn invite(
    State(state): State<AppState>,
    user: DeskUser,
    Path(id): Path<String>,
    body: Input<NewLogin>,
) -> Result<Response, ApiError> {
    let answer = logins::create(
        State(state),
        user.staff(),
        Path(id.clone()),
        api_body(body.value),
    )
    .await?;
    Ok(done_with(
        body.from_form,
        &format!("/desk/customers/{id}#logins"),
        answer,
    ))
}

/// Disabling or enabling a login (its button), or what it may see (its checkboxes: a box
/// left unticked is not sent, so the form says `visibility` to mean "these are all of them").
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginForm {
    /// `true` to disable, `false` to enable.
    #[serde(default)]
    pub disabled: Option<bool>,
    /// Present when the form sets what the login may see.
    #[serde(default)]
    pub visibility: Option<String>,
    /// Ticked (`on`): all the account's issues.
    #[serde(default)]
    pub all_issues: Option<String>,
    /// Ticked: billing.
    #[serde(default)]
    pub billing: Option<String>,
    /// Ticked: projects.
    #[serde(default)]
    pub projects: Option<String>,
}

/// `POST /desk/customers/{id}/logins/{email}`: disables or enables a login, or sets what it
/// may see.
pub(crate) async fn login_change(
    State(state): State<AppState>,
    user: DeskUser,
    Path((id, email)): Path<(String, String)>,
    body: Input<LoginForm>,
) -> Result<Response, ApiError> {
    user.staff().may("customers:write")?;
    let f = &body.value;
    let change = if f.visibility.is_some() {
        LoginChange {
            all_issues: Some(f.all_issues.is_some()),
            billing: Some(f.billing.is_some()),
            projects: Some(f.projects.is_some()),
            ..LoginChange::default()
        }
    } else {
        LoginChange {
            disabled: Some(f.disabled.ok_or_else(|| {
                ApiError::invalid("disabled", "say true to disable or false to enable")
            })?),
            ..LoginChange::default()
        }
    };
    let answer = logins::change(
        State(state),
        user.staff(),
        Path((id.clone(), email)),
        api_body(change),
    )
    .await?;
    Ok(done_with(
        body.from_form,
        &format!("/desk/customers/{id}#logins"),
        answer,
    ))
}

/// Most lines an invoice or quote form carries.
pub(super) const LINES: usize = 8;

/// An invoice as the desk's form sends it: up to [`LINES`] lines.
#[derive(Debug, Deserialize)]
pub struct InvoiceForm {
    /// The business's id for it.
    #[serde(default)]
    pub id: String,
    /// Number shown to the customer.
    #[serde(default)]
    pub number: String,
    /// `YYYY-MM-DD`.
    #[serde(default)]
    pub date: String,
    /// `YYYY-MM-DD`.
    #[serde(default)]
    pub due: String,
    /// `draft`, `open`, `paid`, `overdue`, `void`.
    #[serde(default)]
    pub status: String,
    /// The lines' fields: `description_1`, `quantity_1`, `price_1`, `vat_1` …
    #[serde(flatten)]
    pub lines: HashMap<String, String>,
}

/// What a line's whole numbers must be.
const WHOLE: &str = "a whole number";

/// The lines of an invoice or quote form, each (description, quantity, unit price, VAT %);
/// a row with no description is left out.
fn form_lines(fields: &HashMap<String, String>) -> Result<Vec<LineInput>, ApiError> {
    only_line_fields(fields, &["description", "quantity", "price", "vat"], LINES)?;
    let get = |name: &str, n: usize| fields.get(&format!("{name}_{n}")).map_or("", |v| v.trim());
    (1..=LINES)
        .filter(|&n| !get("description", n).is_empty())
        .map(|n| {
            Ok(LineInput {
                description: get("description", n).to_string(),
                quantity: number(&format!("quantity_{n}"), get("quantity", n), 1, WHOLE)?,
                unit_cents: cents(&format!("price_{n}"), get("price", n))?,
                vat_percent: number(&format!("vat_{n}"), get("vat", n), 20, WHOLE)?,
            })
        })
        .collect()
}

/// `POST /desk/customers/{id}/invoices`: publishes (or replaces) an invoice.
pub(crate) async fn invoice(
    State(state): State<AppState>,
    user: DeskUser,
    Path(id): Path<String>,
    body: Input<InvoiceForm>,
) -> Result<Response, ApiError> {
    user.staff().may("billing:write")?;
    let f = &body.value;
    let value = InvoiceInput {
        number: f.number.clone(),
        date: f.date.clone(),
        due: f.due.clone(),
        lines: form_lines(&f.lines)?,
        status: f.status.clone(),
    };
    let answer = billing::put_invoice(
        State(state),
        user.staff(),
        Path((id.clone(), f.id.trim().to_string())),
        api_body(value),
    )
    .await?;
    Ok(done_with(
        body.from_form,
        &format!("/desk/customers/{id}#billing"),
        answer,
    ))
}

/// A quote as the desk's form sends it: up to [`LINES`] lines.
#[derive(Debug, Deserialize)]
pub struct QuoteForm {
    /// The business's id for it.
    #[serde(default)]
    pub id: String,
    /// Number shown to the customer.
    #[serde(default)]
    pub number: String,
    /// `YYYY-MM-DD`.
    #[serde(default)]
    pub date: String,
    /// `YYYY-MM-DD`.
    #[serde(default)]
    pub valid_until: String,
    /// The lines' fields, as on [`InvoiceForm`].
    #[serde(flatten)]
    pub lines: HashMap<String, String>,
}

/// `POST /desk/customers/{id}/quotes`: publishes a quote (or revises it while it is open).
pub(crate) async fn quote(
    State(state): State<AppState>,
    user: DeskUser,
    Path(id): Path<String>,
    body: Input<QuoteForm>,
) -> Result<Response, ApiError> {
    user.staff().may("quotes:write")?;
    let f = &body.value;
    let value = QuoteInput {
        number: f.number.clone(),
        date: f.date.clone(),
        valid_until: f.valid_until.clone(),
        lines: form_lines(&f.lines)?,
    };
    let answer = quotes::put(
        State(state),
        user.staff(),
        Path((id.clone(), f.id.trim().to_string())),
        api_body(value),
    )
    .await?;
    Ok(done_with(
        body.from_form,
        &format!("/desk/customers/{id}#quotes"),
        answer,
    ))
}

/// A payment as the desk's form sends it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentForm {
    /// The business's id for it (the form suggests a fresh one).
    #[serde(default)]
    pub id: String,
    /// `YYYY-MM-DD`.
    #[serde(default)]
    pub date: String,
    /// Amount, `12.50`.
    #[serde(default)]
    pub amount: String,
    /// How it was paid.
    #[serde(default)]
    pub method: String,
    /// The invoice it pays, if one.
    #[serde(default)]
    pub invoice_id: String,
}

/// `POST /desk/customers/{id}/payments`: records a payment once.
pub(crate) async fn payment(
    State(state): State<AppState>,
    user: DeskUser,
    Path(id): Path<String>,
    body: Input<PaymentForm>,
) -> Result<Response, ApiError> {
    user.staff().may("billing:write")?;
    let f = &body.value;
    let value = PaymentInput {
        date: f.date.clone(),
        amount_cents: cents("amount", &f.amount)?,
        method: f.method.clone(),
        invoice_id: Some(f.invoice_id.clone()),
    };
    let answer = billing::put_payment(
        State(state),
        user.staff(),
        Path((id.clone(), f.id.trim().to_string())),
        api_body(value),
    )
    .await?;
    Ok(done_with(
        body.from_form,
        &format!("/desk/customers/{id}#billing"),
        answer,
    ))
}
