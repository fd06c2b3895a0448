//! The guards in front of every public form post, in one middleware:
//!
//! 1. **Rate limit per IP address** (`posts_per_ip` an hour, counted in the store).
//! 2. **Form token**: `GET /api/forms/token` hands out `<issued>.<signature>` (HMAC-SHA256
//!    with a secret kept in the store); the theme's script puts it in each form's hidden
//!    `form_token` field. A form sent back sooner than `min_fill_seconds` after the token was
//!    issued, or with a forged or day-old token, is refused. Forms sent without the script
//!    (no token) are accepted and counted like every other post.
//! 3. **Idempotency**: an `Idempotency-Key` header (or hidden `idempotency_key` field, which
//!    the script fills) makes a retried request get the first answer again, without doing the
//!    work twice; the same key with another body is refused.
//!
//! Handlers never see the guard fields: [`crate::input::Input`] drops them.

use std::net::SocketAddr;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderName, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use hmac::{Hmac, Mac};
use portal_core::records::guards::{self, Answer, Claim, Counted, Idempotency, Limit, RateLimits};
use portal_core::store::now;
use sha2::{Digest, Sha256};

use crate::error::ApiError;
#[allow(unused_imports)]
use crate::error::{ErrorBody, MessageBody};
use crate::fields::MAX_BODY;
use crate::fields::MAX_MULTIPART;
use crate::idempotent::{to_response, Recorded, KEPT};
use crate::state::AppState;

pub use crate::fields::{FORM_TOKEN, IDEMPOTENCY_FIELD};
/// The header carrying the idempotency key.
pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";
/// How long a form token stays good.
const TOKEN_LIFETIME: i64 = 24 * 3600;

/// The address a request came from: set by the Lambda adapter from API Gateway's
/// `sourceIp`, or the peer address under `portal serve`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientIp(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(client_ip(parts))
    }
}

fn client_ip(parts: &Parts) -> ClientIp {
    if let Some(ip) = parts.extensions.get::<ClientIp>() {
        return ip.clone();
    }
    match parts.extensions.get::<ConnectInfo<SocketAddr>>() {
        Some(ConnectInfo(addr)) => ClientIp(addr.ip().to_string()),
        None => ClientIp("unknown".into()),
    }
}

/// Counts one request of `subject` under `scope`, refusing it with 429 past `max` an hour.
pub async fn limit(state: &AppState, scope: &str, subject: &str, max: u32) -> Result<(), ApiError> {
    let ok = RateLimits::new(state.store.clone())
        .hit(scope, subject, Limit { max, window: 3600 })
        .await?;
    if ok {
        Ok(())
    } else {
        Err(too_many(max))
    }
}

/// The refusal past an hourly limit of `max`.
pub(crate) fn too_many(max: u32) -> ApiError {
    ApiError::Wait {
        message: format!("too many requests; please try again later (at most {max} an hour)"),
        seconds: RateLimits::retry_after(3600),
    }
}

/// Whether two secrets (tokens, signatures) are the same, in time that does not depend on
/// where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Counts a submission naming `email` against `posts_per_email`.
pub async fn limit_email(state: &AppState, email: &str) -> Result<(), ApiError> {
    let max = state.site().settings().limits.posts_per_email;
    limit(state, "email", &portal_core::records::email_key(email), max).await
}

async fn form_key(state: &AppState) -> Result<Vec<u8>, ApiError> {
    state
        .form_key
        .get_or_try_init(|| guards::secret(&state.store, "form-token"))
        .await
        .cloned()
        .map_err(ApiError::from)
}

fn sign(key: &[u8], issued: i64) -> String {
    mac(key, issued.to_string().as_bytes())
}

fn mac(key: &[u8], text: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(text);
    hex(&mac.finalize().into_bytes())
}

/// A signature of `text` with the portal's secret key (HMAC-SHA256, hex).
pub async fn sign_text(state: &AppState, text: &str) -> Result<String, ApiError> {
    Ok(mac(&form_key(state).await?, text.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A fresh form token: `<issued>.<signature>`.
pub async fn issue_token(state: &AppState) -> Result<String, ApiError> {
    let key = form_key(state).await?;
    let issued = now();
    Ok(format!("{issued}.{}", sign(&key, issued)))
}

/// Checks a form token sent back with a form.
pub async fn check_token(state: &AppState, token: &str) -> Result<(), ApiError> {
    let reload = |what: &str| {
        ApiError::invalid(
            FORM_TOKEN,
            format!("{what}; reload the page and send the form again"),
        )
    };
    let (issued, signature) = token
        .split_once('.')
        .and_then(|(i, s)| Some((i.parse::<i64>().ok()?, s)))
        .ok_or_else(|| reload("is not a form token"))?;
    let key = form_key(state).await?;
    let expected = sign(&key, issued);
    if !same_secret(&expected, signature) {
        return Err(reload("is not valid"));
    }
    let age = now() - issued;
    if age > TOKEN_LIFETIME {
        return Err(reload("has expired"));
    }
    let min = i64::from(state.site().settings().limits.min_fill_seconds);
    if age < min {
        return Err(ApiError::invalid(
            FORM_TOKEN,
            format!(
                "the form was sent {age} s after the page loaded, faster than a person types; wait a moment and send it again"
            ),
        ));
    }
    Ok(())
}

/// `GET /api/forms/token`: a token for the hidden `form_token` field.
#[utoipa::path(get, path = "/api/forms/token", tag = "events", summary = "A signed token for a form's hidden `form_token` field", responses((status = 200, description = "`{\"token\": \"<issued>.<signature>\"}`", body = Object)))]
pub async fn form_token(State(state): State<AppState>) -> Result<Response, ApiError> {
    let token = issue_token(&state).await?;
    let mut r = Json(serde_json::json!({ "token": token })).into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}

/// The guard fields found in a body.
#[derive(Debug, Default)]
pub(crate) struct Fields {
    form_token: Option<String>,
    idempotency_key: Option<String>,
    /// The other fields, for the fingerprint.
    pub(crate) rest: Vec<(String, String)>,
}

fn fields(content_type: &str, body: &[u8]) -> Fields {
    let pairs: Vec<(String, String)> = if content_type.starts_with("application/json") {
        match serde_json::from_slice::<serde_json::Value>(body) {
            Ok(serde_json::Value::Object(map)) => map
                .into_iter()
                .map(|(k, v)| {
                    let v = match v {
                        serde_json::Value::String(s) => s,
                        other => other.to_string(),
                    };
                    (k, v)
                })
                .collect(),
            _ => vec![("".into(), String::from_utf8_lossy(body).into_owned())],
        }
    } else {
        serde_urlencoded::from_bytes(body).unwrap_or_default()
    };
    split(pairs)
}

/// The guard fields of a read body; files count in the fingerprint by their field, their
/// name and a hash of their content.
fn fields_of(parsed: &crate::input::Parsed) -> Fields {
    use crate::input::Parsed;
    let pairs = match parsed {
        Parsed::Json(serde_json::Value::Object(map)) => map
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k.clone(), v)
            })
            .collect(),
        Parsed::Json(other) => vec![("".into(), other.to_string())],
        Parsed::Form(pairs) => pairs.clone(),
        Parsed::Multipart { pairs, files } => {
            let mut all = pairs.clone();
            for f in files {
                all.push((
                    format!("{}\n{}", f.field, f.file_name),
                    hex(&Sha256::digest(&f.bytes)),
                ));
            }
            all
        }
    };
    split(pairs)
}

/// The guard fields apart from the rest, which are sorted for the fingerprint.
fn split(pairs: Vec<(String, String)>) -> Fields {
    let mut f = Fields::default();
    for (k, v) in pairs {
        match k.as_str() {
            FORM_TOKEN if !v.is_empty() => f.form_token = Some(v),
            IDEMPOTENCY_FIELD if !v.is_empty() => f.idempotency_key = Some(v),
            FORM_TOKEN | IDEMPOTENCY_FIELD => {}
            _ => f.rest.push((k, v)),
        }
    }
    f.rest.sort();
    f
}

/// The guard fields of a `multipart/form-data` body; files count in the fingerprint by their
/// name and a hash of their content (the boundary, which differs per sending, does not).
pub(crate) async fn multipart_fields(content_type: &str, bytes: Bytes) -> Fields {
    let mut pairs = Vec::new();
    let req = Request::builder()
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(bytes))
        .unwrap_or_default();
    if let Ok(mut form) = axum::extract::Multipart::from_request(req, &()).await {
        while let Ok(Some(field)) = form.next_field().await {
            let name = field.name().unwrap_or("").to_string();
            match field.file_name().map(str::to_string) {
                Some(file) => {
                    let data = field.bytes().await.unwrap_or_default();
                    pairs.push((format!("{name}\n{file}"), hex(&Sha256::digest(&data))));
                }
                None => pairs.push((name, field.text().await.unwrap_or_default())),
            }
        }
    }
    split(pairs)
}

/// The middleware: every `POST` passes the three guards; other methods pass straight on.
pub async fn public_post(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if req.method() != Method::POST {
        return next.run(req).await;
    }
    match guarded(state, req, next).await {
        Ok(r) | Err(r) => r,
    }
}

async fn guarded(state: AppState, req: Request, next: Next) -> Result<Response, Response> {
    let (mut parts, body) = req.into_parts();
    let ip = client_ip(&parts);
    let per_ip = state.site().settings().limits.posts_per_ip;
    // A request with an idempotency key is counted once it is known to be new work, so a
    // client fetching an answer again, or waiting for one, does not use up its address's
    // allowance; one without a key is counted first.
    let keyed = parts.headers.contains_key(IDEMPOTENCY_HEADER);
    if !keyed {
        if let Err(e) = limit(&state, "post", &ip.0, per_ip).await {
            // Read what was sent before refusing, so the client is not cut off mid-request.
            let _ = axum::body::to_bytes(body, MAX_MULTIPART).await;
            return Err(e.into_response());
        }
    }
    let raw_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let content_type = raw_type.to_ascii_lowercase();
    let multipart = content_type.starts_with("multipart/form-data");
    let max = if multipart { MAX_MULTIPART } else { MAX_BODY };
    let bytes = axum::body::to_bytes(body, max).await.map_err(|_| {
        ApiError::TooLarge(format!("the request is larger than {} KiB", max / 1024)).into_response()
    })?;
    // The body is read here once; the handler's extractor takes what was read
    // (`input::Parsed` in the request's extensions). A body that cannot be read is passed on
    // as it came, for the extractor to say what is wrong with it.
    let parsed = crate::input::parse(&raw_type, bytes.clone()).await.ok();
    let f = match &parsed {
        Some(p) => fields_of(p),
        None => fields(&content_type, &bytes),
    };
    if let Some(p) = parsed {
        parts.extensions.insert(p);
    }
    if let Some(token) = &f.form_token {
        check_token(&state, token)
            .await
            .map_err(IntoResponse::into_response)?;
    }
    let key = parts
        .headers
        .get(IDEMPOTENCY_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or(f.idempotency_key.clone());
    let Some(key) = key else {
        if keyed {
            limit(&state, "post", &ip.0, per_ip)
                .await
                .map_err(IntoResponse::into_response)?;
        }
        return Ok(next
            .run(Request::from_parts(parts, Body::from(bytes)))
            .await);
    };
    let mut hasher = Sha256::new();
    hasher.update(content_type.as_bytes());
    for (k, v) in &f.rest {
        hasher.update(format!("{}\n{}\n{}\n", k.len(), k, v).as_bytes());
    }
    let fingerprint = hex(&hasher.finalize());
    let scope = parts.uri.path().to_string();
    // The address's count goes with the claim when the key is new (one request for both).
    let count = keyed.then_some(("post", ip.0.as_str(), per_ip));
    let (pending, counted) = claim_key(&state, &scope, &key, &fingerprint, count).await?;
    if keyed && !counted {
        if let Err(e) = limit(&state, "post", &ip.0, per_ip).await {
            let _ = Idempotency::new(state.store.clone()).settle(&pending).await;
            return Err(e.into_response());
        }
    }
    parts.extensions.insert(ClientIp(ip.0));
    Ok(run_once(&state, pending, parts, Body::from(bytes), next).await)
}

/// Claims the idempotency `key` of a request in `scope` (its path, and for the staff API
/// the caller's key) whose content is `fingerprint`: new work to do, or the answer to send
/// at once (the first answer again; "still being answered"; a key used for another request).
/// With `count` (a limit's scope, subject and hourly maximum), a new key's request is counted
/// with its claim while under the maximum; the answer says whether it was (if not, the
/// caller counts it apart, and refuses it past the maximum).
pub(crate) async fn claim_key(
    state: &AppState,
    scope: &str,
    key: &str,
    fingerprint: &str,
    count: Option<(&str, &str, u32)>,
) -> Result<(guards::Pending, bool), Response> {
    if !(16..=200).contains(&key.len()) || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::invalid(
            IDEMPOTENCY_FIELD,
            "must be 16 to 200 printable characters, such as a UUID",
        )
        .into_response());
    }
    let keys = Idempotency::new(state.store.clone());
    let (claim, counted) = match count {
        None => (keys.claim(scope, key, fingerprint).await, false),
        Some((limit_scope, subject, max)) => {
            let step = RateLimits::step(limit_scope, subject, 3600, 1, Some(max));
            match keys.claim_counted(scope, key, fingerprint, step).await {
                Ok(Counted { claim, counted }) => (Ok(claim), counted),
                Err(e) => (Err(e), false),
            }
        }
    };
    let claim = claim.map_err(|e| ApiError::from(e).into_response())?;
    match claim {
        Claim::Done(replay) => Err(replayed(replay)),
        Claim::InProgress => Err(ApiError::Busy(
            "a request with this idempotency key is still being answered; send it again in a moment"
                .into(),
        )
        .into_response()),
        Claim::Mismatch => Err(ApiError::invalid(
            IDEMPOTENCY_FIELD,
            "was already used for a different request",
        )
        .into_response()),
        Claim::New(pending) => Ok((pending, counted)),
    }
}

/// Runs the request that `pending` claimed and settles the claim by its answer: an answer
/// the handler recorded with its work stands; a refusal or failure releases the key (unless
/// the work committed after all, whose answer is then sent); any other answer is recorded.
pub(crate) async fn run_once(
    state: &AppState,
    pending: guards::Pending,
    mut parts: Parts,
    body: Body,
    next: Next,
) -> Response {
    let keys = Idempotency::new(state.store.clone());
    parts.extensions.insert(pending.clone());
    let response = next.run(Request::from_parts(parts, body)).await;
    if response.extensions().get::<Recorded>().is_some() {
        // The answer was committed with the work.
        return response;
    }
    let status = response.status();
    if status.is_client_error() || status.is_server_error() {
        // Refused or failed — or so it seems: if the work's transaction committed after all
        // (its answer lost on the way), it recorded the answer, and that is the truth to send.
        return match keys.settle(&pending).await {
            Ok(Some(done)) => replayed(done),
            Ok(None) => response,
            Err(e) => {
                tracing::error!("idempotency claim not settled: {e}");
                response
            }
        };
    }
    let (head, body) = response.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    let answer = Answer {
        status: head.status.as_u16(),
        headers: KEPT
            .iter()
            .filter_map(|h| {
                Some((
                    h.as_str().to_string(),
                    head.headers.get(h)?.to_str().ok()?.to_string(),
                ))
            })
            .collect(),
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    if let Err(e) = keys.finish(&pending, &answer).await {
        tracing::error!("idempotency answer not stored: {e}");
    }
    Response::from_parts(head, Body::from(body))
}

fn replayed(replay: portal_core::records::guards::Replay) -> Response {
    let mut r = to_response(Answer {
        status: replay.status.unwrap_or(200),
        headers: replay.headers,
        body: replay.body,
    });
    r.headers_mut().insert(
        HeaderName::from_static("idempotent-replayed"),
        HeaderValue::from_static("true"),
    );
    r
}
