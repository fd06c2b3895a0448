//! Request bodies: JSON from API clients, `application/x-www-form-urlencoded` from the site's
//! forms (answered with a redirect instead of JSON), and the checks every field goes through.
//! The guard fields ([`crate::guard`]) are dropped before a body is read into its type.

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::fields::{CSRF_FIELD, FORM_TOKEN, IDEMPOTENCY_FIELD, MAX_MULTIPART, UPLOADS_FIELD};

pub use crate::fields::MAX_BODY;

/// A file as it arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    /// The form field it came in.
    pub field: String,
    /// The name the sender gave it.
    pub file_name: String,
    /// Its content.
    pub bytes: Vec<u8>,
}

/// A larger cap on a body without files than [`MAX_BODY`], for a group whose bodies are
/// larger (the staff API), put in its requests' extensions by its router.
#[derive(Debug, Clone, Copy)]
pub struct BodyCap(pub usize);

/// A request body read as JSON or as a form post (also `multipart/form-data`, without files).
pub struct Input<T> {
    /// The body.
    pub value: T,
    /// Whether it came from an HTML form (so the answer is a redirect).
    pub from_form: bool,
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Input<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let body = WithFiles::<T>::from_request(req, state).await?;
        if let Some(f) = body.files.first() {
            return Err(ApiError::invalid(&f.field, "this form takes no files"));
        }
        if !body.uploaded.is_empty() {
            return Err(ApiError::invalid(UPLOADS_FIELD, "this form takes no files"));
        }
        Ok(Input {
            value: body.value,
            from_form: body.from_form,
        })
    }
}

/// As [`Input`], for forms that take files too.
pub struct WithFiles<T> {
    /// The body.
    pub value: T,
    /// Whether it came from an HTML form (so the answer is a redirect).
    pub from_form: bool,
    /// Files sent with a `multipart/form-data` form (checked by [`crate::uploads::receive`]).
    pub files: Vec<Upload>,
    /// Tokens of files uploaded beforehand, from the `uploads` field (a list in JSON, the
    /// field repeated in a form).
    pub uploaded: Vec<String>,
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for WithFiles<T> {
    type Rejection = ApiError;

    async fn from_request(mut req: Request, state: &S) -> Result<Self, ApiError> {
        // A public form's body was read by the guard already: it is taken, not read again.
        if let Some(parsed) = req.extensions_mut().remove::<Parsed>() {
            return with_files(parsed);
        }
        let kind = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let multipart = kind.to_ascii_lowercase().starts_with("multipart/form-data");
        let max = if multipart {
            MAX_MULTIPART
        } else {
            req.extensions()
                .get::<BodyCap>()
                .map_or(MAX_BODY, |cap| cap.0)
        };
        let too_large =
            || ApiError::TooLarge("the request is larger than this operation takes".into());
        let body = Bytes::from_request(req, state).await.map_err(|r| {
            if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
                too_large()
            } else {
                ApiError::BadBody(r.body_text())
            }
        })?;
        if body.len() > max {
            return Err(too_large());
        }
        with_files(parse(&kind, body).await?)
    }
}

/// A request body as read once: the guard of public posts reads it (for its own fields and
/// the request's fingerprint) and leaves it in the request's extensions, where
/// [`WithFiles`] and [`Input`] take it.
#[derive(Debug, Clone)]
pub enum Parsed {
    /// `application/json`.
    Json(serde_json::Value),
    /// `application/x-www-form-urlencoded`: the fields in order.
    Form(Vec<(String, String)>),
    /// `multipart/form-data`: the text fields in order, and the files.
    Multipart {
        /// The text fields.
        pairs: Vec<(String, String)>,
        /// The files.
        files: Vec<Upload>,
    },
}

/// Reads `body`, sent as `content_type` (JSON, a form, or a multipart form).
pub async fn parse(content_type: &str, body: Bytes) -> Result<Parsed, ApiError> {
    let kind = content_type.to_ascii_lowercase();
    if kind.starts_with("multipart/form-data") {
        let req = Request::builder()
            .header(CONTENT_TYPE, content_type)
            .body(axum::body::Body::from(body))
            .map_err(|e| ApiError::BadBody(e.to_string()))?;
        let (pairs, files) = read_multipart(req).await?;
        Ok(Parsed::Multipart { pairs, files })
    } else if kind.starts_with("application/json") {
        let mut value: serde_json::Value =
            serde_json::from_slice(&body).map_err(|e| field_error(&e.to_string()))?;
        whole_numbers(&mut value);
        Ok(Parsed::Json(value))
    } else if kind.starts_with("application/x-www-form-urlencoded") {
        Ok(Parsed::Form(
            serde_urlencoded::from_bytes(&body).map_err(|e| field_error(&e.to_string()))?,
        ))
    } else {
        Err(ApiError::Unsupported(
            "send application/json, application/x-www-form-urlencoded or multipart/form-data"
                .into(),
        ))
    }
}

/// A read body as `T`, without the guard fields, with its files and upload tokens.
fn with_files<T: DeserializeOwned>(parsed: Parsed) -> Result<WithFiles<T>, ApiError> {
    match parsed {
        Parsed::Json(mut json) => {
            let mut uploaded = Vec::new();
            if let Some(map) = json.as_object_mut() {
                map.remove(FORM_TOKEN);
                map.remove(IDEMPOTENCY_FIELD);
                map.remove(CSRF_FIELD);
                if let Some(list) = map.remove(UPLOADS_FIELD) {
                    uploaded = serde_json::from_value::<Vec<String>>(list).map_err(|_| {
                        ApiError::invalid(UPLOADS_FIELD, "must be a list of upload tokens")
                    })?;
                }
            }
            let value = serde_json::from_value(json).map_err(|e| field_error(&e.to_string()))?;
            Ok(WithFiles {
                value,
                from_form: false,
                files: Vec::new(),
                uploaded,
            })
        }
        Parsed::Form(pairs) => {
            let (uploaded, pairs) = split_uploads(pairs);
            Ok(WithFiles {
                value: from_pairs(pairs)?,
                from_form: true,
                files: Vec::new(),
                uploaded,
            })
        }
        Parsed::Multipart { pairs, files } => {
            let (uploaded, pairs) = split_uploads(pairs);
            Ok(WithFiles {
                value: from_pairs(pairs)?,
                from_form: true,
                files,
                uploaded,
            })
        }
    }
}

/// A form's fields, without the guard fields, read into `T`.
fn from_pairs<T: DeserializeOwned>(pairs: Vec<(String, String)>) -> Result<T, ApiError> {
    let kept: Vec<(String, String)> = pairs
        .into_iter()
        .filter(|(k, _)| k != FORM_TOKEN && k != IDEMPOTENCY_FIELD && k != CSRF_FIELD)
        .collect();
    let encoded = serde_urlencoded::to_string(kept).unwrap_or_default();
    serde_urlencoded::from_str(&encoded).map_err(|e| field_error(&e.to_string()))
}

/// A `multipart/form-data` body: its text fields and its files (an empty file input sends
/// a part with no name and no content, which is no file).
async fn read_multipart(req: Request) -> Result<(Vec<(String, String)>, Vec<Upload>), ApiError> {
    let bad = |e: axum::extract::multipart::MultipartError| ApiError::BadBody(e.body_text());
    let mut form = Multipart::from_request(req, &())
        .await
        .map_err(|e| ApiError::BadBody(e.body_text()))?;
    let mut pairs = Vec::new();
    let mut files = Vec::new();
    let mut text_bytes = 0;
    while let Some(field) = form.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or("").to_string();
        match field.file_name().map(str::to_string) {
            Some(file_name) => {
                let bytes = field.bytes().await.map_err(bad)?;
                // A file input left empty still sends a part, with no name and no content.
                if !(file_name.is_empty() && bytes.is_empty()) {
                    files.push(Upload {
                        field: name,
                        file_name,
                        bytes: bytes.to_vec(),
                    });
                }
            }
            None => {
                let text = field.text().await.map_err(bad)?;
                text_bytes += text.len();
                if text_bytes > MAX_BODY {
                    return Err(ApiError::TooLarge(format!(
                        "the form's text is larger than {} KiB",
                        MAX_BODY / 1024
                    )));
                }
                pairs.push((name, text));
            }
        }
    }
    Ok((pairs, files))
}

/// Writes every whole number sent with a fraction (`2.0`, as some JSON encoders write
/// integers, and as JSON Schema counts them integers) as the integer it is, so a whole-number
/// field takes it.
fn whole_numbers(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Number(n) if !n.is_i64() && !n.is_u64() => {
            if let Some(f) = n.as_f64() {
                if f.fract() == 0.0 && f.abs() < 9.0e15 {
                    *value = Value::from(f as i64);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(whole_numbers),
        Value::Object(map) => map.values_mut().for_each(whole_numbers),
        _ => {}
    }
}

/// The `uploads` fields of a form (the tokens, empty ones dropped), and the other fields.
fn split_uploads(pairs: Vec<(String, String)>) -> (Vec<String>, Vec<(String, String)>) {
    let (uploads, rest): (Vec<_>, Vec<_>) =
        pairs.into_iter().partition(|(k, _)| k == UPLOADS_FIELD);
    let tokens = uploads
        .into_iter()
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect();
    (tokens, rest)
}

/// Turns a decoder's message ("missing field `email` at line 1 …") into a field error.
fn field_error(message: &str) -> ApiError {
    let field = message.split('`').nth(1).unwrap_or("body");
    let text = message.split(" at line ").next().unwrap_or(message);
    if message.starts_with("missing field") {
        ApiError::invalid(field, "is required")
    } else if message.starts_with("unknown field") {
        ApiError::invalid(field, "is not a field of this form")
    } else {
        ApiError::BadBody(text.to_string())
    }
}

/// The rule of [`text`] as a JSON Schema pattern (for the API document): something other
/// than white space, no control characters but tabs and line breaks, and any white space
/// around it (which is trimmed). White space is spelt out (see `BLANK`), and the pattern
/// runs in linear time (a first and a last character that are not white space).
pub const TEXT: &str = r"^[\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*[^\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\x00-\x1f\x7f-\x9f](?:[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*[^\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\x00-\x1f\x7f-\x9f])?[\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$";

/// The rule of [`line`] as a JSON Schema pattern: as [`TEXT`], on one line.
pub const LINE: &str = r"^[\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*[^\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\x00-\x1f\x7f-\x9f](?:[^\x00-\x08\x0a-\x1f\x7f-\x9f]*[^\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\x00-\x1f\x7f-\x9f])?[\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$";

/// The rule of [`email`] as a JSON Schema pattern: one `@`, a dot inside the domain, no
/// white space but around it.
pub const EMAIL: &str = r"^[\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*[^@\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\x00-\x1f\x7f-\x9f]+@[^@.\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\x00-\x1f\x7f-\x9f][^@\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\x00-\x1f\x7f-\x9f]*\.[^@\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\x00-\x1f\x7f-\x9f]*[^@.\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\x00-\x1f\x7f-\x9f][\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$";

/// Statuses a customer may set on their own issue.
pub const CUSTOMER_STATUSES: &[&str] = &["closed", "open"];

/// The rule of a date field (`YYYY-MM-DD`, digits only) as a JSON Schema pattern.
pub const DATE: &str = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$";

/// The rule of the business's own ids (`staff::own_id`) as a JSON Schema pattern.
pub const OWN_ID: &str = "^[A-Za-z0-9._-]{1,64}$";

/// A field left blank (white space only). The patterns spell out the white space `str::trim`
/// removes (Unicode `White_Space`) instead of `\s`, which JSON Schema (ECMA-262), Python and
/// schemathesis (ASCII only) each read differently.
const BLANK: &str =
    r"^[\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$";

/// What a field rule puts in the API document: a pattern, a format or a list of choices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    /// The value matches this pattern.
    Pattern(String),
    /// The value matches this pattern and is a valid value of this format (`date`).
    Formatted(&'static str, &'static str),
    /// The value is one of these.
    OneOf(&'static [&'static str]),
}

/// The field rule that an input type names in its `pattern` attribute as `rule:NAME`
/// (utoipa takes only a literal there), replaced by the API document's modifier with the
/// one definition each rule has here:
///
/// - `line`, `text`, `email`, `date`, `own-id`: [`line`], [`text`], [`email`], a date and
///   the business's ids as the server checks them;
/// - `blank-or-line`, `blank-or-text`, `blank-or-email`: an optional field that may also be
///   sent blank (white space only) to leave it empty;
/// - `invoice-status`, `report-kind`, `case-status`, `quote-decision`, `request-kind`: one
///   of a fixed list;
/// - `lines-5`, `lines-6`: a form's textarea of up to that many lines.
///
/// ```
/// use portal_functions::input::{rule, Rule};
/// assert!(matches!(rule("date"), Some(Rule::Formatted(_, "date"))));
/// assert_eq!(rule("nothing"), None);
/// ```
pub fn rule(name: &str) -> Option<Rule> {
    let blank_or = |p: &str| Rule::Pattern(format!("{BLANK}|{p}"));
    // A textarea of up to `n` lines of 120 characters, without control characters.
    let lines = |n: usize| {
        let line = r"[^\x00-\x08\x0a-\x1f\x7f-\x9f]{0,120}";
        Rule::Pattern(format!(r"^{line}(?:\r?\n{line}){{0,{}}}$", n - 1))
    };
    Some(match name {
        "line" => Rule::Pattern(LINE.into()),
        "text" => Rule::Pattern(TEXT.into()),
        "email" => Rule::Pattern(EMAIL.into()),
        "own-id" => Rule::Pattern(OWN_ID.into()),
        "date" => Rule::Formatted(DATE, "date"),
        "blank-or-line" => blank_or(LINE),
        "blank-or-text" => blank_or(TEXT),
        "blank-or-email" => blank_or(EMAIL),
        "invoice-status" => Rule::OneOf(portal_core::records::billing::INVOICE_STATUSES),
        "report-kind" => Rule::OneOf(&["expenses", "timesheet"]),
        "case-status" => Rule::OneOf(CUSTOMER_STATUSES),
        "quote-decision" => Rule::OneOf(&["accept", "decline"]),
        "request-kind" => Rule::OneOf(&["login", "sales", "estore"]),
        "lines-5" => lines(5),
        "lines-6" => lines(6),
        _ => return None,
    })
}

fn string_schema(
    pattern: Option<&str>,
    min: Option<usize>,
    max: usize,
) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .pattern(pattern)
        .min_length(min)
        .max_length(Some(max))
        .build()
        .into()
}

/// The API document's schema of an e-mail address field ([`email`]).
pub fn email_schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    string_schema(Some(EMAIL), Some(3), 254)
}

/// The API document's schema of a name or subject ([`line`], 200 characters).
pub fn line_schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    string_schema(Some(LINE), Some(1), 200)
}

/// The API document's schema of a description or a note ([`text`], 20,000 characters).
pub fn text_schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    string_schema(Some(TEXT), Some(1), 20_000)
}

/// The API document's schema of a new password (8 to 128 characters).
pub fn password_schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    string_schema(None, Some(8), 128)
}

/// The API document's schema of a login's address as typed at the login ([`line`], 254
/// characters).
pub fn address_schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    string_schema(Some(LINE), Some(1), 254)
}

/// The API document's schema of a tracking number ([`line`], 40 characters).
pub fn number_schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    string_schema(Some(LINE), Some(1), 40)
}

/// The API document's schema of a field that must not be empty (a password to check, a
/// token).
pub fn filled_schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    string_schema(None, Some(1), 1000)
}

/// Reads an optional text field that, when sent, is text (`null` is refused): the
/// honeypot, which the document says is an empty string.
pub fn text_only<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    present(d)
}

/// Reads an optional field that, when sent, holds a value (`null` is refused): the fields
/// of a change, where leaving a field out is how to keep it.
pub fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

/// The API document's schema of the honeypot `website`: people leave it empty.
pub fn honeypot_schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    string_schema(None, None, 0)
}

/// The API document's schema of an appointment's `mode`.
pub fn mode_schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(["phone", "video", "visit"]))
        .build()
        .into()
}

/// A required text field: at most `max` characters as sent (as the API document's
/// `maxLength` counts), trimmed, not empty.
pub fn text(field: &str, value: &str, max: usize) -> Result<String, ApiError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(ApiError::invalid(field, "is required"));
    }
    if value.chars().count() > max {
        return Err(ApiError::invalid(
            field,
            format!("is longer than {max} characters"),
        ));
    }
    if v.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(ApiError::invalid(field, "contains control characters"));
    }
    Ok(v.to_string())
}

/// A single-line text field (no line breaks, as in names and subjects).
pub fn line(field: &str, value: &str, max: usize) -> Result<String, ApiError> {
    let v = text(field, value, max)?;
    if v.contains(['\n', '\r']) {
        return Err(ApiError::invalid(field, "must be one line"));
    }
    Ok(v)
}

/// An optional single-line field, which may be sent blank (white space only) to leave it
/// empty (`None`). Its limit counts what was sent, blank or not, as the API document's
/// `maxLength` does.
pub fn optional_line(field: &str, value: &str, max: usize) -> Result<Option<String>, ApiError> {
    optional(field, value, max, line)
}

/// An optional text field (as [`optional_line`], line breaks allowed).
pub fn optional_text(field: &str, value: &str, max: usize) -> Result<Option<String>, ApiError> {
    optional(field, value, max, text)
}

/// An optional e-mail address (as [`optional_line`]).
pub fn optional_email(field: &str, value: &str) -> Result<Option<String>, ApiError> {
    optional(field, value, 254, |f, v, _| email(f, v))
}

fn optional(
    field: &str,
    value: &str,
    max: usize,
    check: impl Fn(&str, &str, usize) -> Result<String, ApiError>,
) -> Result<Option<String>, ApiError> {
    if value.chars().count() > max {
        return Err(ApiError::invalid(
            field,
            format!("is longer than {max} characters"),
        ));
    }
    if value.trim().is_empty() {
        return Ok(None);
    }
    check(field, value, max).map(Some)
}

/// The honeypot field `website`, hidden from people: anything in it marks a robot.
pub fn honeypot(value: Option<&str>) -> Result<(), ApiError> {
    match value {
        Some(v) if !v.trim().is_empty() => Err(ApiError::invalid("website", "must be left empty")),
        _ => Ok(()),
    }
}

/// An e-mail address: one `@`, a dot in the domain, no spaces, at most 254 characters.
pub fn email(field: &str, value: &str) -> Result<String, ApiError> {
    let v = line(field, value, 254)?;
    let ok = match v.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !v.contains(char::is_whitespace)
        }
        None => false,
    };
    if ok {
        Ok(v)
    } else {
        Err(ApiError::invalid(
            field,
            format!("`{v}` is not an e-mail address"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documents_patterns_take_what_the_checks_take() {
        let samples = [
            "a",
            " a ",
            "\u{a0}",
            "\u{3000}a\u{3000}",
            "a\u{2028}b",
            "\u{85}",
            "abc\u{85}",
            "\u{1c}",
            "a\u{1c}b",
            "\t\ta",
            "a\nb",
            "a\r\nb\n",
            "\u{feff}",
            "",
            "  ",
            "a\tb",
            "\u{b}x",
            "x\u{b}y",
            "é ü",
            "a@b.co",
            " a@b.co\n",
            "a b@c.de",
            "a@b",
            "a\u{a0}b@c.de",
            "@b.co",
            "a@.b.co",
            "a@b.co.",
            "a@@b.co",
        ];
        let matches = |pattern: &str, s: &str| regex::Regex::new(pattern).unwrap().is_match(s);
        for s in samples {
            assert_eq!(matches(LINE, s), line("f", s, 1000).is_ok(), "line {s:?}");
            assert_eq!(matches(TEXT, s), text("f", s, 1000).is_ok(), "text {s:?}");
            assert_eq!(matches(EMAIL, s), email("f", s).is_ok(), "email {s:?}");
            let blank_or_line = format!("{BLANK}|{LINE}");
            assert_eq!(
                matches(&blank_or_line, s),
                optional_line("f", s, 1000).is_ok(),
                "blank or line {s:?}"
            );
        }
    }

    #[test]
    fn emails() {
        assert!(email("email", "ada@example.com").is_ok());
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a b@example.com",
            "ada@@example.com",
        ] {
            assert!(email("email", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn text_limits() {
        assert_eq!(text("f", "  hi  ", 10).unwrap(), "hi");
        assert!(text("f", "   ", 10).is_err());
        assert!(text("f", &"x".repeat(11), 10).is_err());
        assert!(line("f", "a\nb", 10).is_err());
        assert!(text("f", "a\u{0}b", 10).is_err());
    }

    #[derive(Debug, serde::Deserialize)]
    struct Note {
        body: String,
    }

    #[tokio::test]
    async fn a_body_read_by_the_guard_is_taken_not_read_again() {
        // What the guard read is in the extensions; the body itself is gone (empty here), so
        // the value can only come from what was read.
        let parsed = parse(
            "multipart/form-data; boundary=b",
            Bytes::from_static(
                b"--b\r\nContent-Disposition: form-data; name=\"body\"\r\n\r\nHello\r\n--b\r\nContent-Disposition: form-data; name=\"attachments\"; filename=\"a.txt\"\r\n\r\nhi\r\n--b\r\nContent-Disposition: form-data; name=\"form_token\"\r\n\r\nt\r\n--b--\r\n",
            ),
        )
        .await
        .unwrap();
        let mut req = Request::builder()
            .header(CONTENT_TYPE, "application/json")
            .body(axum::body::Body::empty())
            .unwrap();
        req.extensions_mut().insert(parsed);
        let got = WithFiles::<Note>::from_request(req, &()).await.unwrap();
        assert_eq!(got.value.body, "Hello");
        assert!(got.from_form);
        assert_eq!(got.files.len(), 1);
        assert_eq!(got.files[0].bytes, b"hi");
        // Without it, the body is read as it came.
        let req = Request::builder()
            .header(CONTENT_TYPE, "application/json")
            .body(axum::body::Body::from(
                r#"{"body": "Hi", "uploads": ["x"]}"#,
            ))
            .unwrap();
        let got = WithFiles::<Note>::from_request(req, &()).await.unwrap();
        assert_eq!(
            (got.value.body.as_str(), got.uploaded),
            ("Hi", vec!["x".to_string()])
        );
    }
}
