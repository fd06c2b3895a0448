//! The files of a submission: checked, kept under keys of the portal's own, and removed
//! again if the submission is refused.

use crate::error::ApiError;
#[allow(unused_imports)]
use crate::error::{ErrorBody, MessageBody};
use crate::state::AppState;

use super::{announce::*, checks::*};
use crate::fields::{MAX_FILES, MAX_FILE_BYTES, UPLOADS_FIELD};
use crate::input::Upload;

/// A file of a submission, in the blob store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFile {
    /// Its blob key (also its id in the records).
    pub key: String,
    /// Its safe name.
    pub file_name: String,
    /// The media type its content shows.
    pub media_type: &'static str,
    /// Its size in bytes.
    pub size: u64,
}

/// The files of a submission in `field`: those `sent` in the form, and those `uploaded`
/// beforehand (by their tokens), all checked, and kept under new keys of the portal's own.
///
/// An uploaded file is read, checked, and its checked bytes written under a new key, then
/// the upload is removed: what is kept is exactly what was checked, even if someone sends
/// new bytes to the upload's URL meanwhile, and a token cannot bring one file to two
/// records (once taken, the upload is gone). A refused upload is removed at once. On any
/// refusal, the files this call kept are removed again.
pub async fn receive(
    state: &AppState,
    field: &str,
    sent: Vec<Upload>,
    uploaded: &[String],
) -> Result<Vec<StoredFile>, ApiError> {
    if sent.len() + uploaded.len() > MAX_FILES {
        return Err(ApiError::invalid(
            field,
            format!("send at most {MAX_FILES} files"),
        ));
    }
    if let Some((i, _)) = uploaded
        .iter()
        .enumerate()
        .find(|(i, t)| uploaded[..*i].contains(t))
    {
        return Err(ApiError::invalid(
            UPLOADS_FIELD,
            format!("upload {} is named twice", i + 1),
        ));
    }
    let mut files = check(field, sent)?;
    if files.is_empty() && uploaded.is_empty() {
        return Ok(Vec::new());
    }
    let Some(blobs) = &state.blobs else {
        return Err(ApiError::invalid(
            field,
            "this portal cannot store files yet; send the form without them",
        ));
    };
    let internal = |e: portal_core::blobs::BlobError| ApiError::Internal(e.to_string());
    // First every upload is checked where it lies; nothing is kept until all pass.
    let mut taken = Vec::with_capacity(uploaded.len());
    for token in uploaded {
        let a = Announced::from_token(state, UPLOADS_FIELD, token).await?;
        let name = &a.file_name;
        let not_there = || {
            ApiError::invalid(
                UPLOADS_FIELD,
                format!("`{name}` has not arrived, or was sent with another form; send it again"),
            )
        };
        let size = blobs
            .size(&a.key)
            .await
            .map_err(internal)?
            .ok_or_else(not_there)?;
        // Refused files are removed at once: nothing unchecked stays in the store.
        let refuse = |e: ApiError| async {
            if let Err(d) = blobs.delete(&a.key).await {
                tracing::warn!("refused upload left behind: {d}");
            }
            Err(e)
        };
        if size != a.size || size > MAX_FILE_BYTES as u64 {
            return refuse(ApiError::invalid(
                UPLOADS_FIELD,
                format!(
                    "`{name}` was announced as {} bytes but {size} arrived (at most {} MB)",
                    a.size,
                    MAX_FILE_BYTES / (1024 * 1024)
                ),
            ))
            .await;
        }
        let bytes = blobs
            .get(&a.key)
            .await
            .map_err(internal)?
            .ok_or_else(not_there)?;
        let upload = Upload {
            field: UPLOADS_FIELD.into(),
            file_name: a.file_name.clone(),
            bytes,
        };
        match check(UPLOADS_FIELD, vec![upload]) {
            Ok(mut f) => {
                files.push(f.remove(0));
                taken.push(a.key);
            }
            Err(e) => return refuse(e).await,
        }
    }
    // Then the checked bytes are kept under new keys, and the uploads removed.
    let mut out = Vec::with_capacity(files.len());
    for f in files {
        // Time-ordered, so the files list in the order they were sent; the blob store is
        // private and a download needs the record's own check as well.
        let key = portal_core::records::new_id();
        let size = f.bytes.len() as u64;
        if let Err(e) = blobs.put(&key, f.bytes).await {
            forget(state, &out).await;
            return Err(internal(e));
        }
        out.push(StoredFile {
            key,
            file_name: f.file_name,
            media_type: f.media_type,
            size,
        });
    }
    for key in taken {
        if let Err(e) = blobs.delete(&key).await {
            tracing::warn!("a taken upload is left for the lifecycle rule: {e}");
        }
    }
    Ok(out)
}

/// Removes the files of a submission whose record was not written because of `e` — unless
/// `e` leaves it unknown whether the record was written (a store fault after which the
/// write may have committed, its answer lost): then the files may belong to a record, and
/// stay (an orphan costs storage; a removed file would cost the record its file).
pub async fn forget_unless_written(
    state: &AppState,
    files: &[StoredFile],
    e: &portal_core::records::RecordError,
) {
    let unknown = matches!(
        e,
        portal_core::records::RecordError::Store(portal_core::store::StoreError::Backend { .. })
    );
    if !unknown {
        forget(state, files).await;
    } else if !files.is_empty() {
        tracing::warn!("files kept after a write of unknown outcome: {e}");
    }
}

/// The one way a submission's files are kept with their record: `write` stores the record
/// (with the files' own records, in one transaction); should it fail, the files are removed,
/// unless the write may have happened after all.
pub async fn keep_with<T>(
    state: &AppState,
    files: &[StoredFile],
    write: impl std::future::Future<Output = Result<T, portal_core::records::RecordError>>,
) -> Result<T, ApiError> {
    match write.await {
        Ok(done) => Ok(done),
        Err(e) => {
            forget_unless_written(state, files, &e).await;
            Err(e.into())
        }
    }
}

/// Removes the files of a submission that was refused.
pub async fn forget(state: &AppState, files: &[StoredFile]) {
    if let Some(blobs) = &state.blobs {
        for f in files {
            if let Err(e) = blobs.delete(&f.key).await {
                tracing::warn!("file left behind: {e}");
            }
        }
    }
}
