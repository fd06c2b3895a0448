//! Exactly-once answers for requests that carry an `Idempotency-Key`.
//!
//! The guard ([`crate::guard`]) claims the key before the handler runs and puts the claim
//! in the request as an [`Idem`]. A handler builds its answer *before* it writes, and puts
//! [`Idem::record`] in the same transaction as its work: the work and "done, and here is the
//! answer" then commit together or not at all. Whatever happens after (a lost answer from the
//! store, a crash), a retry with the same key either finds the answer and gets it again, or
//! finds the claim given back and does the work — never both, never twice.
//!
//! ```ignore
//! let answer = Answer::json(StatusCode::CREATED, &filed);
//! writes.extend(idem.record(&answer)?);
//! store.transact(writes).await?;
//! Ok(idem.respond(answer))
//! ```

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use portal_core::records::guards::Pending;
use portal_core::store::{StoreResult, Write};
use serde::Serialize;

pub use portal_core::records::guards::Answer;

/// The claim on this request's idempotency key, if it carries one.
#[derive(Debug, Clone, Default)]
pub struct Idem(pub Option<Pending>);

impl<S: Send + Sync> FromRequestParts<S> for Idem {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Idem(parts.extensions.get::<Pending>().cloned()))
    }
}

/// Marks a response whose answer was recorded in the work's own transaction, so the guard
/// does not record it again.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Recorded;

impl Idem {
    /// The write that records `answer` with the work (none when the request has no key).
    pub fn record(&self, answer: &Answer) -> StoreResult<Vec<Write>> {
        self.0.iter().map(|p| p.done(answer)).collect()
    }

    /// `answer` as the response, marked as recorded when it was.
    pub fn respond(&self, answer: Answer) -> Response {
        let mut r = to_response(answer);
        if self.0.is_some() {
            r.extensions_mut().insert(Recorded);
        }
        r
    }
}

/// An answer with a JSON body.
pub fn json<T: Serialize>(status: StatusCode, value: &T) -> Answer {
    Answer {
        status: status.as_u16(),
        headers: vec![(
            header::CONTENT_TYPE.as_str().to_string(),
            "application/json".to_string(),
        )],
        body: serde_json::to_string(value).unwrap_or_default(),
    }
}

/// An answer that sends a form's browser on to `to` (`303 See Other`).
pub fn redirect(to: &str) -> Answer {
    Answer {
        status: StatusCode::SEE_OTHER.as_u16(),
        headers: vec![(header::LOCATION.as_str().to_string(), to.to_string())],
        body: String::new(),
    }
}

/// The headers of a response worth keeping for a replay.
pub(crate) const KEPT: [HeaderName; 3] = [header::CONTENT_TYPE, header::LOCATION, header::ETAG];

/// The response an answer stands for, for a handler that did not record it with its work
/// (the guard then records it after).
pub fn to_response(answer: Answer) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    let mut r = (status, answer.body).into_response();
    for (name, value) in answer.headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::try_from(name.as_str()),
            HeaderValue::try_from(value.as_str()),
        ) {
            r.headers_mut().insert(n, v);
        }
    }
    r
}
