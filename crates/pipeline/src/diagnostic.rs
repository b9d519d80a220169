//! Problems found in a course folder, printed the way compilers print them:
//! `course/course.toml:42:9`, the source line, a caret under the culprit,
//! and a hint on how to fix it.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

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
    /// What few diagnostics have: kept behind one pointer, so that a
    /// diagnostic stays small (they travel in `Result`s).
    extra: Option<Box<Extra>>,
}

#[derive(Debug, Clone, Default)]
struct Extra {
    /// The text of the file the location points into, when it is not
    /// course.toml (e.g. a transcript), for its line, column and snippet.
    source: Option<Arc<str>>,
    /// A short, stable name of the check that found it (the LMS rules:
    /// `moodle/scorm2004-several-scos`), for CI filters.
    code: Option<&'static str>,
}

impl Diagnostic {
    pub fn error(message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            message: message.into(),
            location: None,
            help: None,
            extra: None,
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

    /// The text of the file this diagnostic points into.
    pub fn with_source(mut self, text: Arc<str>) -> Self {
        self.extra.get_or_insert_default().source = Some(text);
        self
    }

    /// The text of the file it points into, when it is not course.toml.
    pub fn source(&self) -> Option<&str> {
        self.extra.as_ref()?.source.as_deref()
    }

    /// Names the check that found it.
    pub fn with_code(mut self, code: &'static str) -> Self {
        self.extra.get_or_insert_default().code = Some(code);
        self
    }

    /// The name of the check that found it, when it has one.
    pub fn code(&self) -> Option<&'static str> {
        self.extra.as_ref()?.code
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
                        escape(&path.display().to_string(), false),
                        shown(&self.message)
                    )),
                    None => out.push_str(&format!(
                        "{label}: {}: {}\n",
                        escape(&path.display().to_string(), false),
                        shown(&self.message)
                    )),
                }
                if let (Some(span), Some(text), Some((line, _))) = (span, source, position) {
                    out.push_str(&snippet(text, span, line));
                }
            }
            None => out.push_str(&format!("{label}: {}\n", shown(&self.message))),
        }
        if let Some(help) = &self.help {
            out.push_str(&format!("  = help: {}\n", shown(help)));
        }
        out
    }
}

/// Characters of the source line shown before the caret, and in all, when
/// the line is longer than that: a snippet stays readable on any line.
const CONTEXT_BEFORE: usize = 40;
const CONTEXT_WIDTH: usize = 100;

/// The source line of `span` (on 1-based `line`) with carets under the
/// span, clipped to that line and, on a long line, to a window around the
/// column. Control characters are shown escaped, never sent to the terminal.
fn snippet(text: &str, span: &Range<usize>, line: usize) -> String {
    let mut start = span.start.min(text.len());
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let line_text = text[line_start..line_end]
        .strip_suffix('\r')
        .unwrap_or(&text[line_start..line_end]);
    let text_end = line_start + line_text.len();
    // An error on the `\r` of a `\r\n`, or at the end of a line or of the
    // file, gets one caret just past the text.
    let start = start.min(text_end);
    let mut end = span.end.clamp(start, text_end);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let before: Vec<char> = line_text[..start - line_start].chars().collect();
    let from = before.len().saturating_sub(CONTEXT_BEFORE);
    let after_budget = CONTEXT_WIDTH - (before.len() - from);
    let rest = &line_text[start - line_start..];
    let mut after = String::new();
    let mut width = 0;
    let mut clipped_after = false;
    let caret_chars = text[start..end].chars().count();
    for (i, c) in rest.chars().enumerate() {
        if i >= after_budget {
            clipped_after = true;
            break;
        }
        let shown = show_char(c);
        if i < caret_chars {
            width += shown.chars().count();
        }
        after.push_str(&shown);
    }
    let width = width.max(1);
    let mut shown_before = String::new();
    let mut pad = String::new();
    if from > 0 {
        shown_before.push('…');
        pad.push(' ');
    }
    for &c in &before[from..] {
        let shown = show_char(c);
        for _ in shown.chars() {
            pad.push(if c == '\t' { '\t' } else { ' ' });
        }
        shown_before.push_str(&shown);
    }
    if clipped_after {
        after.push('…');
    }
    let gutter = line.to_string().len();
    format!(
        "{:gutter$} |\n{line} | {shown_before}{after}\n{:gutter$} | {pad}{}\n",
        "",
        "",
        "^".repeat(width)
    )
}

/// Whether a character must not reach a terminal as it is: C0 and C1
/// controls (an escape sequence could rewrite the screen), DEL, and the
/// bidirectional overrides that can make text read differently.
fn is_unprintable(c: char) -> bool {
    let n = c as u32;
    n < 0x20
        || (0x7f..=0x9f).contains(&n)
        || (0x202a..=0x202e).contains(&n)
        || (0x2066..=0x2069).contains(&n)
        || c == '\u{feff}'
}

/// How a character of a source line is shown: as it is, or escaped.
fn show_char(c: char) -> Cow<'static, str> {
    if c == '\t' {
        Cow::Borrowed("\t")
    } else if is_unprintable(c) {
        Cow::Owned(format!("\\u{{{:x}}}", c as u32))
    } else {
        Cow::Owned(c.to_string())
    }
}

/// `s` with every unprintable character escaped (newlines kept when
/// `keep_newlines`, for messages of several lines).
pub fn escape(s: &str, keep_newlines: bool) -> Cow<'_, str> {
    let keep = |c: char| c == '\t' || (keep_newlines && c == '\n');
    if !s.chars().any(|c| is_unprintable(c) && !keep(c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_unprintable(c) && !keep(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Longest message or help line printed, in characters: a value quoted in
/// a message (an unknown key, a version) may be megabytes long.
const MAX_MESSAGE: usize = 400;

/// `s` escaped for the terminal and, when longer than [`MAX_MESSAGE`],
/// clipped in the middle.
fn shown(s: &str) -> String {
    let s = escape(s, true);
    let count = s.chars().count();
    if count <= MAX_MESSAGE {
        return s.into_owned();
    }
    let head: String = s.chars().take(MAX_MESSAGE - 60).collect();
    let tail: String = s.chars().skip(count - 59).collect();
    format!("{head}…{tail}")
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = text[line_start..offset].chars().count() + 1;
    (line, col)
}

/// The start of every line of a text, to find the line of an offset in
/// log time (asking [`line_col`] for every id would be quadratic).
#[derive(Debug, Default)]
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { starts }
    }

    /// 1-based line of a byte offset.
    pub fn line(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset)
    }
}

/// How alike two words are, from 0 to 1 (Jaro-Winkler). Words of very
/// different lengths are not typos of each other, and comparing a
/// megabyte-long key with every candidate would take seconds: they score 0.
fn similarity(word: &str, candidate: &str) -> f64 {
    let (a, b) = (word.len(), candidate.len());
    if a.max(b) > 3 * a.min(b) + 8 {
        return 0.0;
    }
    strsim::jaro_winkler(word, candidate)
}

/// How many candidates a help line lists at most.
const LISTED: usize = 8;

/// The closest of `candidates` to `word`, when it is close enough to be a
/// likely typo.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (similarity(word, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// Help for a word that matches none of `candidates`: "did you mean `x`?"
/// for a likely typo, else `lead` followed by the candidates: all of them
/// when they are few, else the closest few and how many more there are.
pub fn suggest(word: &str, candidates: &[&str], lead: &str) -> String {
    if let Some(m) = did_you_mean(word, candidates.iter().copied()) {
        return format!("did you mean `{m}`?");
    }
    if candidates.len() <= LISTED {
        let all: Vec<String> = candidates.iter().map(|c| format!("`{c}`")).collect();
        return format!("{lead} {}", all.join(", "));
    }
    let mut scored: Vec<(f64, usize)> = candidates
        .iter()
        .enumerate()
        .map(|(i, c)| (similarity(word, c), i))
        .collect();
    scored.select_nth_unstable_by(LISTED - 1, |a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut closest: Vec<usize> = scored[..LISTED].iter().map(|&(_, i)| i).collect();
    closest.sort_unstable();
    let shown: Vec<String> = closest
        .iter()
        .map(|&i| format!("`{}`", candidates[i]))
        .collect();
    format!(
        "{lead} {} and {} more",
        shown.join(", "),
        candidates.len() - LISTED
    )
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

    fn source_for<'a>(&'a self, diagnostic: &'a Diagnostic) -> Option<&'a str> {
        if let Some(text) = diagnostic.source() {
            return Some(text);
        }
        let (path, text) = self.source.as_ref()?;
        let location = diagnostic.location.as_ref()?;
        (location.path == *path).then_some(text.as_str())
    }

    /// Errors first, then warnings, each in file order.
    pub fn sorted(&self) -> Vec<&Diagnostic> {
        let mut items: Vec<&Diagnostic> = self.items.iter().collect();
        items.sort_by_cached_key(|d| {
            let loc = d.location.as_ref();
            (
                !d.is_error(),
                loc.map(|l| &l.path),
                loc.and_then(|l| l.span.as_ref().map(|s| s.start)),
            )
        });
        items
    }

    /// The 1-based line and column a diagnostic points at, when it points
    /// at a place in a text file.
    pub fn position(&self, diagnostic: &Diagnostic) -> Option<(usize, usize)> {
        let span = diagnostic.location.as_ref()?.span.as_ref()?;
        Some(line_col(self.source_for(diagnostic)?, span.start))
    }

    /// The line a diagnostic points at, when it points at one.
    pub fn line_of(&self, diagnostic: &Diagnostic) -> Option<usize> {
        let span = diagnostic.location.as_ref()?.span.as_ref()?;
        Some(line_col(self.source_for(diagnostic)?, span.start).0)
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
    fn carets_at_a_crlf_line_end_or_the_end_of_the_file_do_not_panic() {
        let text = "[course]\r\ntitle = \"Demo\r\nid = 1\r\n";
        let cr = text.find("\r\nid").unwrap();
        for span in [
            cr..cr + 1,
            cr + 1..cr + 2,
            cr..cr,
            text.len()..text.len() + 3,
        ] {
            let d = Diagnostic::error("x").at(Path::new("c.toml"), Some(span.clone()));
            let out = d.render(Some(text));
            assert!(!out.contains('\r'), "{span:?}: {out:?}");
        }
        let d = Diagnostic::error("x").at(Path::new("c.toml"), Some(cr..cr + 1));
        assert_eq!(
            d.render(Some(text)),
            "error: c.toml:2:14: x\n  |\n2 | title = \"Demo\n  |              ^\n"
        );
    }

    #[test]
    fn long_lines_are_clipped_around_the_column_and_controls_escaped() {
        let text = format!(
            "k = \"{}\u{1b}[2J{}\"\n",
            "a".repeat(5000),
            "b".repeat(5000)
        );
        let at = text.find('\u{1b}').unwrap();
        let d = Diagnostic::error("bad \u{1b}[31m").at(Path::new("c.toml"), Some(at..at + 1));
        let out = d.render(Some(&text));
        assert!(out.len() < 600, "{} bytes", out.len());
        assert!(!out.contains('\u{1b}'), "{out:?}");
        assert!(
            out.starts_with("error: c.toml:1:5006: bad \\u{1b}[31m\n"),
            "{out}"
        );
        let lines: Vec<&str> = out.lines().collect();
        let caret = lines[3].chars().position(|c| c == '^').unwrap();
        let under: String = lines[2].chars().skip(caret).take(6).collect();
        assert_eq!(under, "\\u{1b}", "{out}");
        assert_eq!(lines[3].matches('^').count(), 6);
    }

    #[test]
    fn long_messages_are_clipped() {
        let key = "k".repeat(1_000_000);
        let d = Diagnostic::error(format!("unknown key `{key}`")).help(format!("remove `{key}`"));
        let out = d.render(None);
        assert!(out.len() < 1000, "{} bytes", out.len());
        assert!(out.starts_with("error: unknown key `kkk"), "{out}");
        assert!(out.contains("k`\n  = help: remove `kk"), "{out}");
    }

    #[test]
    fn help_lists_the_closest_few_never_all() {
        let many: Vec<String> = (0..10_000).map(|i| format!("block-{i}")).collect();
        let refs: Vec<&str> = many.iter().map(String::as_str).collect();
        let help = suggest("zzz", &refs, "the blocks are");
        assert!(help.ends_with(" and 9992 more"), "{help}");
        assert!(help.len() < 200, "{help}");
    }

    #[test]
    fn line_index_agrees_with_line_col() {
        let text = "a\nbb\r\n\nccc";
        let index = LineIndex::new(text);
        for offset in 0..=text.len() {
            assert_eq!(index.line(offset), line_col(text, offset).0, "{offset}");
        }
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
