//! The generator's error type: every failure names the file, and where it can the line and
//! the front-matter field, so an editor can go straight to the mistake.

use std::fmt;
use std::path::{Path, PathBuf};

/// One problem found in the content or the theme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file the problem is in.
    pub file: PathBuf,
    /// 1-based line number, when known.
    pub line: Option<usize>,
    /// The front-matter field or setting at fault, when there is one.
    pub field: Option<String>,
    /// What is wrong, in words an editor understands.
    pub message: String,
}

impl Problem {
    /// A problem in `file` with no line or field yet.
    pub fn new(file: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Problem {
            file: file.into(),
            line: None,
            field: None,
            message: message.into(),
        }
    }

    /// Sets the 1-based line number.
    pub fn at_line(mut self, line: usize) -> Self {
        self.line = Some(line);
        self
    }

    /// Names the field at fault.
    pub fn field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        write!(f, ": ")?;
        if let Some(field) = &self.field {
            write!(f, "field `{field}`: ")?;
        }
        write!(f, "{}", self.message)
    }
}

/// Why a build failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The content or the theme has mistakes; every one found is listed.
    #[error("{} problem{} found:\n{}", .0.len(), if .0.len() == 1 { "" } else { "s" }, list(.0))]
    Content(Vec<Problem>),
    /// A file or folder could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path that failed.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The search index could not be written or read.
    #[error(transparent)]
    Search(#[from] portal_core::search::SearchError),
}

/// How many problems an error message lists before summing up the rest.
const LISTED: usize = 50;

fn list(problems: &[Problem]) -> String {
    let mut lines: Vec<String> = problems
        .iter()
        .take(LISTED)
        .map(|p| format!("  {p}"))
        .collect();
    if problems.len() > LISTED {
        lines.push(format!("  … and {} more", problems.len() - LISTED));
    }
    lines.join("\n")
}

impl Error {
    /// Wraps an I/O error with the path it happened on.
    pub fn io(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.as_ref().to_path_buf(),
            source,
        }
    }

    /// The content problems, if this is a content error.
    pub fn problems(&self) -> &[Problem] {
        match self {
            Error::Content(p) => p,
            _ => &[],
        }
    }
}

impl From<Problem> for Error {
    fn from(p: Problem) -> Self {
        Error::Content(vec![p])
    }
}

/// Result alias for the generator.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_problem_lists_are_summed_up() {
        let problems: Vec<Problem> = (1..=60)
            .map(|i| Problem::new("a.md", "broken").at_line(i))
            .collect();
        let text = Error::Content(problems).to_string();
        assert!(text.starts_with("60 problems found:\n  a.md:1: broken\n"));
        assert!(text.contains("  a.md:50: broken\n  … and 10 more"));
        assert!(!text.contains("a.md:51:"));
    }
}
