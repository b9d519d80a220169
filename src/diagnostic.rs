//! Problems found in a course folder, printed the way compilers print them:
//! `course/course.toml:42:9`, the source line, a caret under the culprit,
//! and a hint on how to fix it.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// How bad a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// Where a problem is: a file, and optionally a byte range in it.
#[derive(Debug, Clone)]
pub struct Location {
    pub path: PathBuf,
    /// Byte range in the file's text; `None` for problems with a whole file.
    pub span: Option<Range<usize>>,
}

/// One problem with a course.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub severity: Severity,
    pub message: String,
    pub location: Option<Location>,
    /// How to fix it, e.g. "did you mean `session-1`?".
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            message: message.into(),
            location: None,
            help: None,
        }
    }

    pub fn warning(message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(message)
        }
    }

    pub fn at(mut self, path: &Path, span: Option<Range<usize>>) -> Self {
        self.location = Some(Location {
            path: path.to_path_buf(),
            span,
        });
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Renders the diagnostic; `source` is the text of the file it points
    /// into, when that file is text.
    pub fn render(&self, source: Option<&str>) -> String {
        let mut out = String::new();
        let label = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        match &self.location {
            Some(Location { path, span }) => {
                let position = span
                    .as_ref()
                    .zip(source)
                    .map(|(span, text)| line_col(text, span.start));
                match position {
                    Some((line, col)) => out.push_str(&format!(
                        "{label}: {}:{line}:{col}: {}\n",
                        path.display(),
                        self.message
                    )),
                    None => {
                        out.push_str(&format!("{label}: {}: {}\n", path.display(), self.message))
                    }
                }
                if let (Some(span), Some(text), Some((line, _))) = (span, source, position) {
                    out.push_str(&snippet(text, span, line));
                }
            }
            None => out.push_str(&format!("{label}: {}\n", self.message)),
        }
        if let Some(help) = &self.help {
            out.push_str(&format!("  = help: {help}\n"));
        }
        out
    }
}

/// The source line of `span` (on 1-based `line`) with carets under the
/// span, clipped to that line.
fn snippet(text: &str, span: &Range<usize>, line: usize) -> String {
    let start = span.start.min(text.len());
    if !text.is_char_boundary(start) {
        return String::new();
    }
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let line_text = text[line_start..line_end].trim_end_matches('\r');
    let end = span.end.clamp(start, line_start + line_text.len());
    let width = text.get(start..end).map_or(1, |s| s.chars().count().max(1));
    let pad: String = text[line_start..start]
        .chars()
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    let gutter = line.to_string().len();
    format!(
        "{:gutter$} |\n{line} | {line_text}\n{:gutter$} | {pad}{}\n",
        "",
        "",
        "^".repeat(width)
    )
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = text[line_start..offset].chars().count() + 1;
    (line, col)
}

/// The closest of `candidates` to `word`, when it is close enough to be a
/// likely typo.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// Help for a word that matches none of `candidates`: "did you mean `x`?"
/// for a likely typo, else `lead` followed by every candidate.
pub fn suggest(word: &str, candidates: &[&str], lead: &str) -> String {
    match did_you_mean(word, candidates.iter().copied()) {
        Some(m) => format!("did you mean `{m}`?"),
        None => {
            let all: Vec<String> = candidates.iter().map(|c| format!("`{c}`")).collect();
            format!("{lead} {}", all.join(", "))
        }
    }
}

/// Every problem found while loading a course, in the order found.
#[derive(Debug, Default)]
pub struct Diagnostics {
    pub items: Vec<Diagnostic>,
    /// The text of `course.toml`, for rendering carets.
    pub source: Option<(PathBuf, String)>,
}

impl Diagnostics {
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.items.push(diagnostic);
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(Diagnostic::is_error)
    }

    pub fn error_count(&self) -> usize {
        self.items.iter().filter(|d| d.is_error()).count()
    }

    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter().filter(|d| !d.is_error())
    }

    fn source_for(&self, diagnostic: &Diagnostic) -> Option<&str> {
        let (path, text) = self.source.as_ref()?;
        let location = diagnostic.location.as_ref()?;
        (location.path == *path).then_some(text.as_str())
    }

    /// Errors first, then warnings, each in file order.
    pub fn sorted(&self) -> Vec<&Diagnostic> {
        let mut items: Vec<&Diagnostic> = self.items.iter().collect();
        items.sort_by_key(|d| {
            let loc = d.location.as_ref();
            (
                !d.is_error(),
                loc.map(|l| l.path.clone()),
                loc.and_then(|l| l.span.as_ref().map(|s| s.start)),
            )
        });
        items
    }

    /// Renders one diagnostic with its source line.
    pub fn render(&self, diagnostic: &Diagnostic) -> String {
        diagnostic.render(self.source_for(diagnostic))
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in self.sorted() {
            writeln!(f, "{}", self.render(d))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_characters() {
        let text = "a = 1\nbé = 2\n";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 6), (2, 1));
        assert_eq!(line_col(text, text.find('=').unwrap()), (1, 3));
        let second_eq = text.rfind('=').unwrap();
        assert_eq!(line_col(text, second_eq), (2, 4));
    }

    #[test]
    fn renders_caret_under_span() {
        let text = "[course]\ntitel = \"x\"\n";
        let d = Diagnostic::error("unknown key `titel`")
            .at(Path::new("c/course.toml"), Some(9..14))
            .help("did you mean `title`?");
        let out = d.render(Some(text));
        assert_eq!(
            out,
            "error: c/course.toml:2:1: unknown key `titel`\n  |\n2 | titel = \"x\"\n  | ^^^^^\n  = help: did you mean `title`?\n"
        );
    }

    #[test]
    fn carets_count_characters_and_stay_on_the_line() {
        let text = "[course]\r\ntitle = \"Café\" # é\r\nid = 1\r\n";
        let start = text.find("# é").unwrap();
        let d = Diagnostic::error("x").at(Path::new("c.toml"), Some(start..text.len()));
        assert_eq!(
            d.render(Some(text)),
            "error: c.toml:2:16: x\n  |\n2 | title = \"Café\" # é\n  |                ^^^\n"
        );
    }

    #[test]
    fn suggests_close_words_only() {
        let words = ["title", "summary", "goals"];
        assert_eq!(did_you_mean("titel", words), Some("title"));
        assert_eq!(did_you_mean("zzz", words), None);
        assert_eq!(suggest("titel", &words, "use"), "did you mean `title`?");
        assert_eq!(
            suggest("zzz", &words[..2], "use one of"),
            "use one of `title`, `summary`"
        );
    }
}
