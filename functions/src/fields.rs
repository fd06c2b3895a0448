//! The fields every form may carry besides its own, and the sizes a request body may have:
//! what the guards, the body extractors, the session's CSRF check and the uploads agree on.

/// The hidden form field carrying the form token.
pub const FORM_TOKEN: &str = "form_token";
/// The hidden form field carrying the idempotency key.
pub const IDEMPOTENCY_FIELD: &str = "idempotency_key";
/// The hidden form field that carries the session's form token.
pub const CSRF_FIELD: &str = "csrf";
/// The form field that names uploaded files by their tokens.
pub const UPLOADS_FIELD: &str = "uploads";

/// Largest body accepted for a public form or JSON request without files: the largest valid
/// one is a 20,000-character description in any script, escaped as forms and JSON clients
/// escape it (up to 12 bytes a character: `%F0%9F%98%80`, or a `\u` surrogate pair), beside
/// the other fields.
pub const MAX_BODY: usize = 256 * 1024;
/// Largest body the staff API accepts: its largest valid one is a report of 500 lines of
/// 500 characters, escaped as above (3 MB), and the Lambda payload limit is 6 MB.
pub const MAX_STAFF_BODY: usize = 4 * 1024 * 1024;
/// Files per submission.
pub const MAX_FILES: usize = 5;
/// Bytes per file (10 MiB).
pub const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;
/// The largest multipart body: every file at its largest, and the text fields.
pub const MAX_MULTIPART: usize = MAX_FILES * MAX_FILE_BYTES + 256 * 1024;
