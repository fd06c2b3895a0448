//! The one error type of the handlers. Every error becomes the same JSON envelope:
//! `{"error": {"status": 400, "message": "…", "field": "email"}}`, which a browser sees as the
//! theme's message page ([`crate::view::render`]); internal details are logged, never shown.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use portal_core::records::RecordError;
use portal_core::store::StoreError;
use serde::Serialize;

/// What a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The input is wrong; `field` names the field at fault.
    #[error("{field}: {message}")]
    Invalid {
        /// The field.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// The body could not be read at all.
    #[error("{0}")]
    BadBody(String),
    /// The body is larger than the operation takes.
    #[error("{0}")]
    TooLarge(String),
    /// The body is of a type the operation does not read.
    #[error("{0}")]
    Unsupported(String),
    /// Nothing at that address (an unknown or expired token, an unknown binder …).
    #[error("{0}")]
    NotFound(String),
    /// No valid session: log in first.
    #[error("{0}")]
    Unauthorized(String),
    /// Refused whoever asks (a cross-site request, a disabled login).
    #[error("{0}")]
    Forbidden(String),
    /// The request conflicts with what is stored.
    #[error("{0}")]
    Conflict(String),
    /// The record changed since the version the request names (`If-Match`).
    #[error("{0}")]
    Stale(String),
    /// Too many requests for now: the same request is welcome again after `seconds`
    /// (`Retry-After`).
    #[error("{message}")]
    Wait {
        /// What was refused and why.
        message: String,
        /// Seconds until it may be sent again.
        seconds: i64,
    },
    /// Too busy to answer now (writes to the same items kept colliding, or the same
    /// idempotency key is still being answered); nothing was done: send it again shortly.
    #[error("{0}")]
    Busy(String),
    /// Something on our side failed; logged, answered with a generic message.
    #[error("internal error: {0}")]
    Internal(String),
}

/// A cursor the store cannot read is the client's mistake (422), not the store's.
pub(crate) fn cursor_error(e: RecordError) -> ApiError {
    match e {
        RecordError::Store(StoreError::BadRequest(m)) => ApiError::invalid("cursor", m),
        other => other.into(),
    }
}

impl ApiError {
    /// An [`ApiError::Invalid`] for `field`.
    pub fn invalid(field: &str, message: impl Into<String>) -> ApiError {
        ApiError::Invalid {
            field: field.to_string(),
            message: message.into(),
        }
    }

    /// What the person who asked may be told: the message, except for internal errors, whose
    /// detail (which can name the store, keys or an AWS resource) is logged under a reference
    /// that the message gives instead.
    pub fn public_message(&self) -> String {
        match self {
            ApiError::Internal(detail) => {
                let reference = &portal_core::records::random_token()[..12];
                tracing::error!(reference, "{detail}");
                format!(
                    "something went wrong on our side; please try again in a minute (reference {reference})"
                )
            }
            other => other.to_string(),
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::BadBody(_) => StatusCode::BAD_REQUEST,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Unsupported(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Stale(_) => StatusCode::PRECONDITION_FAILED,
            ApiError::Wait { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Busy(_) | ApiError::Internal(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

impl From<RecordError> for ApiError {
    fn from(e: RecordError) -> Self {
        match e {
            RecordError::Conflict(m) => ApiError::Conflict(m),
            RecordError::NotFound(m) => ApiError::NotFound(format!("{m} not found")),
            RecordError::Busy(m) => ApiError::Busy(m),
            RecordError::Store(e) => e.into(),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

/// The error envelope every failing call answers with.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// The HTTP status.
    pub status: u16,
    /// What is wrong, for people.
    pub message: String,
    /// The field at fault, if one is.
    pub field: Option<String>,
}

/// A plain answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MessageBody {
    /// What happened, for people.
    pub message: String,
}

impl MessageBody {
    /// An answer saying `message`.
    pub fn new(message: impl Into<String>) -> MessageBody {
        MessageBody {
            message: message.into(),
        }
    }
}

impl ApiError {
    /// What the envelope says: status, public message and field.
    pub fn detail(&self) -> ErrorDetail {
        let field = match self {
            ApiError::Invalid { field, .. } => Some(field.clone()),
            _ => None,
        };
        let message = match self {
            ApiError::Invalid { message, .. } => message.clone(),
            other => other.public_message(),
        };
        ErrorDetail {
            status: self.status().as_u16(),
            message,
            field,
        }
    }
}

/// The envelope as JSON; the detail also rides in the response's extensions, where
/// [`crate::view::render`] finds it to show a browser the theme's page instead.
impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let detail = self.detail();
        let mut r = (
            status,
            Json(ErrorBody {
                error: detail.clone(),
            }),
        )
            .into_response();
        r.extensions_mut().insert(detail);
        if let ApiError::Wait { seconds, .. } = &self {
            if let Ok(v) = axum::http::HeaderValue::from_str(&seconds.max(&1).to_string()) {
                r.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
            }
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            // Not done, or not known to be done: the same request (with the same
            // idempotency key) may be sent again, and will be answered once.
            r.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static("1"),
            );
        }
        r
    }
}

/// A refusal that axum's own extractors wrote as plain text (a query string or a path that
/// cannot be read) in the one error envelope, as the document promises.
pub async fn enveloped(r: Response) -> Response {
    let plain = r
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/plain"));
    if !(plain && r.status() == StatusCode::BAD_REQUEST) {
        return r;
    }
    let text = axum::body::to_bytes(r.into_body(), 64 * 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    ApiError::BadBody(text).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_detail_is_logged_never_shown() {
        let e = ApiError::Internal(
            "dynamodb:portal: AccessDeniedException arn:aws:iam::123456789012:role/x (item CUSTOMER#c-1 / PROFILE)".into(),
        );
        let shown = e.public_message();
        for secret in ["arn:aws", "dynamodb", "CUSTOMER#", "AccessDenied"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(shown.contains("reference "), "{shown}");
        let invalid = ApiError::invalid("email", "`x` is not an e-mail address");
        assert_eq!(
            invalid.public_message(),
            "email: `x` is not an e-mail address"
        );
    }
}
