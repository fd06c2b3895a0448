//! Small text helpers shared by the generator and the functions.

/// Escapes text for HTML bodies and quoted attributes. Unlike Tera's default it leaves `/`
/// alone, so URLs stay readable in the output.
///
/// ```
/// assert_eq!(portal_core::text::escape_html("<a href=\"/x\">"), "&lt;a href=&quot;/x&quot;&gt;");
/// ```
pub fn escape_html(input: &str) -> String {
    let mut out = String::with_capacity(input.len() + 16);
    for c in input.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

/// An error with its causes, which often hold the useful part (Tera's do).
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(c) = source {
        s.push_str(": ");
        s.push_str(&c.to_string());
        source = c.source();
    }
    s
}
