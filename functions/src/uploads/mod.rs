//! Files that come with a form: at most [`MAX_FILES`] of at most [`MAX_FILE_BYTES`] each, of
//! the types in [`ALLOWED`], recognised by their content and not only by their name (zip-based
//! Office and OpenDocument files and zips by what they hold: `archive.rs`). Stored
//! under random keys in the blob store, outside the site, and only ever served back as
//! downloads.
//!
//! A file reaches the store one of two ways, and a form may mix them:
//! - in the form itself (`multipart/form-data`), as a browser without JavaScript sends it;
//! - uploaded beforehand: `POST /api/uploads` announces the file (name, size) and answers
//!   with a signed upload token and where to `PUT` the bytes — straight to S3 through a
//!   presigned URL on AWS (past Lambda's 6 MB payload limit), to `PUT /api/uploads/{token}`
//!   on one machine — and the form then names the token in its `uploads` field. The file is
//!   checked like a sent one when the form arrives (its size and its content), and refused
//!   and removed if it fails.
//!
//! Downloads redirect to a short-lived presigned link with `Content-Disposition: attachment`
//! where the store offers one, and are sent by the portal otherwise.

pub(crate) mod announce;
mod archive;
pub(crate) mod checks;
pub(crate) mod download;
pub(crate) mod receive;

pub use crate::fields::{MAX_FILES, MAX_FILE_BYTES, MAX_MULTIPART, UPLOADS_FIELD};
pub use crate::input::Upload;
pub use announce::{router, Announced, NewUpload, UploadSlot, UPLOAD_VALID};
pub use archive::judge_archive;
pub use checks::{check, safe_name, sniff, CheckedFile, ALLOWED};
pub use download::{as_download, download, DOWNLOAD_VALID};
pub use receive::{forget, forget_unless_written, keep_with, receive, StoredFile};
