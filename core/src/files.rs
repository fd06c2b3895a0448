//! The kinds of file the portal accepts from customers, visitors and staff: one list for the
//! functions, which check every file by its content, and for the theme, which offers them in
//! its file fields (`files.accept`, `files.endings` in every page's context).

use serde::Serialize;

/// The accepted types: (media type, file name endings). A file's content must show the type
/// its ending names (`functions::uploads` judges it).
pub const ACCEPTED: &[(&str, &[&str])] = &[
    ("image/png", &["png"]),
    ("image/jpeg", &["jpg", "jpeg"]),
    ("image/gif", &["gif"]),
    ("application/pdf", &["pdf"]),
    ("text/plain", &["txt", "log"]),
    ("text/csv", &["csv"]),
    (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        &["docx"],
    ),
    (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        &["xlsx"],
    ),
    (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        &["pptx"],
    ),
    ("application/vnd.oasis.opendocument.text", &["odt"]),
    ("application/vnd.oasis.opendocument.spreadsheet", &["ods"]),
    ("application/zip", &["zip"]),
];

/// The media type files named `name` must hold, by the name's ending.
///
/// ```
/// use portal_core::files::type_of_name;
/// assert_eq!(type_of_name("Plan.XLSX"), Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"));
/// assert_eq!(type_of_name("macros.xlsm"), None);
/// ```
pub fn type_of_name(name: &str) -> Option<&'static str> {
    let extension = name.rsplit_once('.')?.1.to_ascii_lowercase();
    ACCEPTED
        .iter()
        .find(|(_, exts)| exts.contains(&extension.as_str()))
        .map(|(t, _)| *t)
}

/// The accepted endings as people read them: "png, jpg, …, zip".
pub fn endings() -> String {
    ACCEPTED
        .iter()
        .flat_map(|(_, exts)| exts.iter())
        .copied()
        .collect::<Vec<_>>()
        .join(", ")
}

/// What the theme's file fields need, in every page's context as `files`.
#[derive(Debug, Clone, Serialize)]
pub struct FileFields {
    /// For an `accept` attribute: ".png,.jpg,…".
    pub accept: String,
    /// For people: "png, jpg, …".
    pub endings: String,
}

/// The context value `files` (see [`FileFields`]).
///
/// ```
/// let f = portal_core::files::file_fields();
/// assert!(f.accept.starts_with(".png,.jpg,") && f.accept.contains(".docx"));
/// assert!(f.endings.ends_with("ods, zip"));
/// ```
pub fn file_fields() -> FileFields {
    FileFields {
        accept: ACCEPTED
            .iter()
            .flat_map(|(_, exts)| exts.iter())
            .map(|e| format!(".{e}"))
            .collect::<Vec<_>>()
            .join(","),
        endings: endings(),
    }
}
