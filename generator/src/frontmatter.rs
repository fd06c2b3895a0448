//! Splits a content file into front matter and Markdown body, and reads the front matter as
//! TOML (`+++` fences) or YAML (`---` fences) into a typed struct, turning parse errors into
//! [`Problem`]s with the file's own line number and the field at fault.

use std::path::Path;

use serde::de::DeserializeOwned;

use crate::error::Problem;

/// A content file read into typed front matter and its Markdown body.
#[derive(Debug)]
pub struct Document<T> {
    /// The typed front matter.
    pub meta: T,
    /// The Markdown after the closing fence.
    pub body: String,
    /// 1-based line number of the body's first line in the file.
    pub body_line: usize,
    /// Keys the front matter sets that `T` does not read (`extra.x`, `registration.y` for
    /// nested ones), with the file's line of each.
    pub ignored: Vec<(String, usize)>,
}

/// Front-matter keys Zola or Hugo define that mean nothing here: accepted without a word
/// (unless the build is strict).
pub const ELSEWHERE: &[&str] = &[
    // Zola
    "path",
    "authors",
    "in_search_index",
    "template",
    "render",
    "redirect_to",
    "insert_anchor_links",
    "sort_by",
    "paginate_by",
    "paginate_path",
    "paginate_reversed",
    "transparent",
    "cascade",
    "generate_feeds",
    "page_template",
    // Hugo
    "author",
    "keywords",
    "images",
    "toc",
    "menu",
    "menus",
    "linkTitle",
    "type",
    "layout",
    "outputs",
    "resources",
    "sitemap",
    "build",
    "headless",
    "markup",
    "isCJKLanguage",
    "translationKey",
    "publishDate",
    "expiryDate",
    "url",
    "series",
    "audio",
    "videos",
];

impl<T> Document<T> {
    /// What to say of the keys `T` did not read, for the file `path`: nothing for the keys
    /// Zola and Hugo define ([`ELSEWHERE`]), a warning (file, line, key) for others; with
    /// `strict`, the first of any is an error.
    pub fn unknown_keys(&self, path: &Path, strict: bool) -> Result<Vec<Problem>, Problem> {
        let mut warnings = Vec::new();
        for (key, line) in &self.ignored {
            let top = key.split('.').next().unwrap_or(key);
            let known = ELSEWHERE.contains(&top);
            if strict {
                return Err(Problem::new(
                    path,
                    format!("unknown field `{key}` (the build is strict)"),
                )
                .at_line(*line)
                .field(key.clone()));
            }
            if !known {
                warnings.push(
                    Problem::new(path, format!("unknown field `{key}`, ignored"))
                        .at_line(*line)
                        .field(key.clone()),
                );
            }
        }
        Ok(warnings)
    }
}

enum Format {
    Toml,
    Yaml,
}

/// Reads `source` (the text of `path`) into front matter of type `T` and a body.
pub fn parse<T: DeserializeOwned>(path: &Path, source: &str) -> Result<Document<T>, Problem> {
    let source = source.strip_prefix('\u{feff}').unwrap_or(source);
    let first = source.lines().next().unwrap_or("").trim_end();
    let (format, fence) = match first {
        "+++" => (Format::Toml, "+++"),
        "---" => (Format::Yaml, "---"),
        _ => {
            return Err(Problem::new(
                path,
                "no front matter: start the file with a `+++` (TOML) or `---` (YAML) line",
            )
            .at_line(1))
        }
    };
    let after_open = source.find('\n').map(|i| i + 1).unwrap_or(source.len());
    let rest = &source[after_open..];
    let mut offset = 0;
    let mut close = None;
    for line in rest.split_inclusive('\n') {
        if line.trim_end() == fence {
            close = Some((offset, offset + line.len()));
            break;
        }
        offset += line.len();
    }
    let Some((fm_end, body_start)) = close else {
        return Err(Problem::new(
            path,
            format!("front matter is not closed: add a `{fence}` line after it"),
        )
        .at_line(1));
    };
    let fm = &rest[..fm_end];
    let body = &rest[body_start..];
    let fm_lines = fm.matches('\n').count();
    let body_line = 2 + fm_lines + 1;

    let mut ignored_paths = Vec::new();
    let note = |p: serde_ignored::Path<'_>| ignored_paths.push(p.to_string());
    let meta = match format {
        Format::Toml => serde_ignored::deserialize(
            toml::Deserializer::parse(fm).map_err(|e| {
                let line = e.span().map(|s| line_of(fm, s.start));
                problem(path, fm, line, e.message())
            })?,
            note,
        )
        .map_err(|e: toml::de::Error| {
            let line = e.span().map(|s| line_of(fm, s.start));
            problem(path, fm, line, e.message())
        })?,
        Format::Yaml => serde_ignored::deserialize(serde_norway::Deserializer::from_str(fm), note)
            .map_err(|e: serde_norway::Error| {
                let line = e.location().map(|l| l.line());
                let mut message = e.to_string();
                if let Some(i) = message.find(" at line ") {
                    message.truncate(i);
                }
                problem(path, fm, line, &message)
            })?,
    };
    let ignored = ignored_paths
        .into_iter()
        .map(|key| {
            let top = key.split('.').next().unwrap_or(&key).to_string();
            let line = fm
                .lines()
                .position(|l| {
                    let table = l.trim().trim_start_matches('[');
                    !l.starts_with([' ', '\t'])
                        && (key_of(l).as_deref() == Some(&top)
                            || l.trim_start().starts_with('[')
                                && (table.starts_with(&format!("{top}]"))
                                    || table.starts_with(&format!("{top}."))))
                })
                .map_or(1, |i| i + 2);
            (key, line)
        })
        .collect();
    Ok(Document {
        meta,
        body: body.to_string(),
        body_line,
        ignored,
    })
}

/// Builds the problem for a front-matter error at 1-based front-matter line `line`.
fn problem(path: &Path, fm: &str, line: Option<usize>, message: &str) -> Problem {
    let message = message.trim().to_string();
    let mut field = between(&message, "missing field `", "`")
        .or_else(|| between(&message, "unknown field `", "`"));
    let file_line = match line {
        // A whole-document error (a missing field) points at the opening fence.
        Some(l) if field.is_none() || message.starts_with("unknown field") => {
            if field.is_none() {
                field = fm.lines().nth(l - 1).and_then(key_of);
            }
            1 + l
        }
        _ => 1,
    };
    let mut p = Problem::new(path, message).at_line(file_line);
    if let Some(f) = field {
        p = p.field(f);
    }
    p
}

fn line_of(text: &str, byte: usize) -> usize {
    1 + text[..byte.min(text.len())].matches('\n').count()
}

/// The key a `key = value` (TOML) or `key: value` (YAML) line sets.
fn key_of(line: &str) -> Option<String> {
    let line = line.trim().trim_start_matches("- ");
    let end = line.find(['=', ':'])?;
    let key = line[..end].trim().trim_matches('"');
    (!key.is_empty() && !key.contains(' ')).then(|| key.to_string())
}

fn between(s: &str, start: &str, end: &str) -> Option<String> {
    let i = s.find(start)? + start.len();
    let j = s[i..].find(end)?;
    Some(s[i..i + j].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    struct Meta {
        title: String,
        #[serde(default)]
        weight: i32,
    }

    #[test]
    fn toml_and_yaml_bodies_start_after_the_fence() {
        let d: Document<Meta> =
            parse(Path::new("a.md"), "+++\ntitle = \"A\"\n+++\nHello\n").unwrap();
        assert_eq!(d.meta.title, "A");
        assert_eq!(d.body, "Hello\n");
        assert_eq!(d.body_line, 4);
        let d: Document<Meta> =
            parse(Path::new("a.md"), "---\ntitle: B\nweight: 2\n---\n\nHi").unwrap();
        assert_eq!(
            (d.meta.title.as_str(), d.meta.weight, d.body_line),
            ("B", 2, 5)
        );
    }

    #[test]
    fn errors_name_line_and_field() {
        let e = parse::<Meta>(
            Path::new("a.md"),
            "+++\ntitle = \"A\"\nweight = \"heavy\"\n+++\n",
        )
        .unwrap_err();
        assert_eq!(
            (e.line, e.field.as_deref()),
            (Some(3), Some("weight")),
            "{e}"
        );
        let e =
            parse::<Meta>(Path::new("a.md"), "---\ntitle: A\nweight: heavy\n---\n").unwrap_err();
        assert_eq!(
            (e.line, e.field.as_deref()),
            (Some(3), Some("weight")),
            "{e}"
        );
        let e = parse::<Meta>(Path::new("a.md"), "+++\nweight = 1\n+++\n").unwrap_err();
        assert_eq!(e.field.as_deref(), Some("title"), "{e}");
        let e = parse::<Meta>(
            Path::new("a.md"),
            "+++\ntitle = \"x\"\ntitel = \"y\"\n+++\n",
        )
        .unwrap_err();
        assert_eq!(
            (e.line, e.field.as_deref()),
            (Some(3), Some("titel")),
            "{e}"
        );
        let e = parse::<Meta>(Path::new("a.md"), "# no front matter").unwrap_err();
        assert!(e.message.contains("no front matter"));
    }
}
