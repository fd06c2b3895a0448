//! CSV answers: fields quoted as RFC 4180 says and never read as formulas, sent as private
//! downloads.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// A CSV field, quoted when it needs to be, and never read as a formula by a spreadsheet.
pub fn field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// `body` as a private CSV download called `file_name`.
pub fn download(body: String, file_name: &str) -> Response {
    let mut r = (StatusCode::OK, body).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

#[cfg(test)]
mod tests {
    #[test]
    fn csv_fields_cannot_become_formulas() {
        assert_eq!(
            super::field("=HYPERLINK(\"x\")"),
            "\"'=HYPERLINK(\"\"x\"\")\""
        );
        assert_eq!(super::field("a,b"), "\"a,b\"");
        assert_eq!(super::field("plain"), "plain");
        // A spreadsheet skips a leading tab or carriage return and reads the formula after.
        assert_eq!(super::field("\t=1+1"), "'\t=1+1");
        assert_eq!(super::field("\r=1+1"), "\"'\r=1+1\"");
    }
}
