//! What visitors send without a login: newsletter subscriptions (double opt-in), appointment
//! requests, and requests for a login, sales information or an eStore account.

use serde::{Deserialize, Serialize};

use super::{email_key, Record};
use crate::store::Key;

/// A newsletter subscription; one per address and list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subscription {
    /// The list.
    pub list: String,
    /// E-mail address.
    pub email: String,
    /// Name, if given.
    #[serde(default)]
    pub name: Option<String>,
    /// Whether the address owner confirmed (double opt-in).
    pub confirmed: bool,
    /// Unix seconds.
    pub created: i64,
}

impl Subscription {
    /// Where the subscription of `email` to `list` is kept.
    pub fn key_of(list: &str, email: &str) -> Key {
        Key::new(
            format!("NEWSLETTER#{list}"),
            format!("SUB#{}", email_key(email)),
        )
    }
}

impl Record for Subscription {
    fn key(&self) -> Key {
        Subscription::key_of(&self.list, &self.email)
    }
}

/// Where a one-click unsubscribe link leads; only the token's hash is kept
/// (`UNSUB#{token hash}` / `UNSUB`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnsubscribeLink {
    /// SHA-256 of the token.
    pub token_hash: String,
    /// The list.
    pub list: String,
    /// The address.
    pub email: String,
}

impl UnsubscribeLink {
    /// Where the link whose token hashes to `token_hash` is kept.
    pub fn key_of(token_hash: &str) -> Key {
        Key::new(format!("UNSUB#{token_hash}"), "UNSUB")
    }
}

impl Record for UnsubscribeLink {
    fn key(&self) -> Key {
        UnsubscribeLink::key_of(&self.token_hash)
    }
}

/// A request for an appointment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppointmentRequest {
    /// Identifier.
    pub id: String,
    /// Name.
    pub name: String,
    /// E-mail address.
    pub email: String,
    /// Phone.
    #[serde(default)]
    pub phone: Option<String>,
    /// Company.
    #[serde(default)]
    pub company: Option<String>,
    /// What it is about.
    pub topic: String,
    /// `phone`, `video` or `visit`.
    pub mode: String,
    /// Preferred times, as given.
    pub preferred_times: Vec<String>,
    /// Anything else.
    #[serde(default)]
    pub message: String,
    /// Where staff have got with it: `new` until they set another (`booked`, `declined` …).
    #[serde(default = "new_status")]
    pub status: String,
    /// Unix seconds.
    pub created: i64,
}

fn new_status() -> String {
    "new".into()
}

/// How staff name a request or an appointment: `{created}.{id}`, which is also where it is
/// kept; `None` for anything else.
///
/// ```
/// # use portal_core::records::requests::parse_reference;
/// assert_eq!(parse_reference("1796000000.01a2b3"), Some((1_796_000_000, "01a2b3")));
/// assert_eq!(parse_reference("01a2b3"), None);
/// assert_eq!(parse_reference("17.x#y"), None);
/// ```
pub fn parse_reference(reference: &str) -> Option<(i64, &str)> {
    let (created, id) = reference.split_once('.')?;
    let ok = !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric());
    ok.then_some(())?;
    Some((created.parse().ok().filter(|c| *c >= 0)?, id))
}

impl AppointmentRequest {
    /// Where appointment requests are kept: the partition and the prefix of their sort keys.
    pub const LIST: (&'static str, &'static str) = ("APPOINTMENTS", "APPT#");

    /// How staff name it (see [`parse_reference`]).
    pub fn reference(&self) -> String {
        format!("{}.{}", self.created, self.id)
    }

    /// The key of the appointment request staff name `reference`.
    pub fn key_of(reference: &str) -> Option<Key> {
        let (created, id) = parse_reference(reference)?;
        Some(Key::new("APPOINTMENTS", format!("APPT#{created:012}#{id}")))
    }
}

impl Record for AppointmentRequest {
    fn key(&self) -> Key {
        Key::new(
            "APPOINTMENTS",
            format!("APPT#{:012}#{}", self.created, self.id),
        )
    }
}

/// What a visitor asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    /// A portal login.
    Login,
    /// Sales information (a lead).
    Sales,
    /// An eStore account.
    Estore,
}

/// A lead, login request or eStore registration request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VisitorRequest {
    /// Identifier.
    pub id: String,
    /// Kind.
    pub kind: RequestKind,
    /// Name.
    pub name: String,
    /// E-mail address.
    pub email: String,
    /// Company.
    #[serde(default)]
    pub company: Option<String>,
    /// Phone.
    #[serde(default)]
    pub phone: Option<String>,
    /// Other fields of the form (customer number, VAT number, delivery address …).
    #[serde(default)]
    pub details: std::collections::BTreeMap<String, String>,
    /// Message.
    #[serde(default)]
    pub message: String,
    /// `new`, `handled`.
    pub status: String,
    /// Unix seconds.
    pub created: i64,
}

impl VisitorRequest {
    /// Where requests are kept: the partition and the prefix of their sort keys.
    pub const LIST: (&'static str, &'static str) = ("REQUESTS", "REQ#");

    /// How staff name it (see [`parse_reference`]).
    pub fn reference(&self) -> String {
        format!("{}.{}", self.created, self.id)
    }

    /// The key of the request staff name `reference`.
    pub fn key_of(reference: &str) -> Option<Key> {
        let (created, id) = parse_reference(reference)?;
        Some(Key::new("REQUESTS", format!("REQ#{created:012}#{id}")))
    }
}

impl Record for VisitorRequest {
    fn key(&self) -> Key {
        Key::new("REQUESTS", format!("REQ#{:012}#{}", self.created, self.id))
    }
}
