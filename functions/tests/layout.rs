//! Rules of the code's shape that a reviewer would otherwise have to remember (see
//! ARCHITECTURE.md).

use std::path::Path;

/// Every `.rs` file under `dir`, with its text up to its unit tests.
fn sources(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap().to_string();
            out.push((path.display().to_string(), code));
        }
    }
    out
}

/// The key-like string literals in `code`: a quote, capitals, `#` (`"CUSTOMER#…"`), except
/// IAM-style patterns (`"ISSUE#*"`), which name partitions a policy grants, not keys.
fn key_literals(code: &str) -> Vec<String> {
    let bytes = code.as_bytes();
    let mut found = Vec::new();
    for (i, _) in code.match_indices('"') {
        let rest = &bytes[i + 1..];
        let caps = rest
            .iter()
            .take_while(|b| b.is_ascii_uppercase() || **b == b'_')
            .count();
        if caps > 0 && rest.get(caps) == Some(&b'#') && rest.get(caps + 1..caps + 3) != Some(b"*\"")
        {
            let end = rest.iter().position(|b| *b == b'"').unwrap_or(rest.len());
            found.push(String::from_utf8_lossy(&rest[..end.min(40)]).to_string());
        }
    }
    found
}

#[test]
fn the_functions_never_spell_a_key_the_records_own_every_key() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut spelled = Vec::new();
    for (file, code) in sources(&src) {
        for key in key_literals(&code) {
            spelled.push(format!("{file}: \"{key}"));
        }
    }
    assert!(
        spelled.is_empty(),
        "keys belong to portal_core::records (add a key function or a repository method there):\n{}",
        spelled.join("\n")
    );
    // The check sees what it must.
    assert_eq!(
        key_literals(r#"Key::new(format!("CUSTOMER#{id}"), "QUOTE#")"#),
        ["CUSTOMER#{id}", "QUOTE#"]
    );
    assert!(key_literals(r#"&["ISSUE#*", "OUTBOX"]"#).is_empty());
}

#[test]
fn handlers_return_views_and_never_render_a_page_themselves() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut rendering = Vec::new();
    for (file, code) in sources(&src) {
        if file.ends_with("/view.rs") || file.ends_with("/pages.rs") {
            continue;
        }
        for needle in [".pages.", "message_html(", "Redirect::to(", "from_form {"] {
            if code.contains(needle) {
                rendering.push(format!("{file}: `{needle}`"));
            }
        }
    }
    assert!(
        rendering.is_empty(),
        "pages, error pages and form answers are made in view.rs (return a View, an ApiError \
         or view::done):\n{}",
        rendering.join("\n")
    );
}
