//! Reads a course folder and builds the validated [`Course`] model.
//!
//! Every problem is collected, not just the first: syntax errors, unknown
//! keys (all of them, with "did you mean"), bad ids, duplicate ids, broken
//! references, unsafe or missing paths and unsupported media. Each one points
//! at `course.toml:LINE:COL`.

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Component, Path, PathBuf};

use toml::Spanned;
use toml::de::{DeTable, DeValue};

mod quiz;

use crate::config::{BlockTable, CourseFile as RawCourse, SessionTable};
use crate::course_fs::{self, Refusal};
use crate::diagnostic::{Diagnostic, Diagnostics, LineIndex, did_you_mean, suggest};
use crate::model::*;

/// The file a course folder must contain.
pub const COURSE_FILE: &str = "course.toml";
/// Default share of a video that counts as watched.
pub const DEFAULT_VIDEO_PERCENT: u32 = 90;
/// Default longest answer kept for a reflection, in characters.
pub const DEFAULT_MAX_CHARS: u32 = 1000;
/// SCORM 1.2's limit on `cmi.suspend_data`.
pub const SCORM12_SUSPEND_LIMIT: u32 = 4096;
/// Longest id or version: each is part of the packages' file names, which
/// must stay under the file systems' 255-byte limit.
pub const MAX_NAME_PART: usize = 64;
/// Default primary colour (contrast 6.4:1 on white).
pub const DEFAULT_COLOUR: &str = "#1d5fa8";

/// How many "did you mean" searches a load makes at most.
const MAX_SUGGESTIONS: usize = 1000;

/// A loaded course and the warnings found on the way.
#[derive(Debug)]
pub struct Loaded {
    pub course: Course,
    pub diagnostics: Diagnostics,
}

/// Loads and validates the course in `dir`. On failure, the diagnostics hold
/// at least one error (and every warning found).
pub fn load(dir: &Path) -> Result<Loaded, Diagnostics> {
    let toml_path = dir.join(COURSE_FILE);
    let mut diags = Diagnostics::default();
    let bytes = match crate::course_fs::read(dir, COURSE_FILE, crate::course_fs::COURSE_TOML_LIMIT)
    {
        Ok(b) => b,
        Err(Refusal::Missing) => {
            let help = if dir.is_dir() {
                format!("create {} or run `coursepack init`", toml_path.display())
            } else {
                format!(
                    "`{}` is not a folder; run `coursepack init {}` to start a course",
                    dir.display(),
                    dir.display()
                )
            };
            diags.push(
                Diagnostic::error(format!(
                    "cannot read {}: it does not exist",
                    toml_path.display()
                ))
                .at(&toml_path, None)
                .help(help),
            );
            return Err(diags);
        }
        Err(refusal) => {
            diags.push(
                Diagnostic::error(format!("{COURSE_FILE} {refusal}"))
                    .at(&toml_path, None)
                    .help(refusal.help()),
            );
            return Err(diags);
        }
    };
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let valid = e.utf8_error().valid_up_to();
            let lossy = String::from_utf8_lossy(e.as_bytes()).into_owned();
            let offset = String::from_utf8_lossy(&e.as_bytes()[..valid]).len();
            diags.source = Some((toml_path.clone(), lossy));
            diags.push(
                Diagnostic::error("the file is not valid UTF-8 text")
                    .at(&toml_path, Some(offset..offset + 1))
                    .help("save course.toml as UTF-8"),
            );
            return Err(diags);
        }
    };
    // A byte order mark (as some Windows editors write) is not part of the text.
    let text = match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_string(),
        None => text,
    };
    diags.source = Some((toml_path.clone(), text.clone()));

    let (raw, placeholders) = parse(&text, &toml_path, &mut diags);
    let placeholders: std::collections::HashSet<Range<usize>> = placeholders.into_iter().collect();
    let Some(raw) = raw else {
        return Err(diags);
    };
    let root = dir.to_path_buf();
    let mut checked = Diagnostics {
        source: diags.source.clone(),
        ..Diagnostics::default()
    };
    let course = Checker {
        root: &root,
        toml: &toml_path,
        diags: &mut checked,
        ids: HashMap::new(),
        lines: LineIndex::new(&text),
        suggestions: MAX_SUGGESTIONS,
    }
    .course(raw);
    // A missing key was reported once already; skip what its placeholder caused.
    diags.items.extend(checked.items.into_iter().filter(|d| {
        let span = d.location.as_ref().and_then(|l| l.span.as_ref());
        !span.is_some_and(|s| placeholders.contains(s))
    }));
    if diags.has_errors() {
        Err(diags)
    } else {
        Ok(Loaded {
            course: course.expect("a course is built whenever there is no error"),
            diagnostics: diags,
        })
    }
}

/// Parses the TOML and maps it onto the raw config, reporting every
/// unknown key and missing key, not just the first: each unknown key found
/// is recorded and removed, each missing one recorded and filled with a
/// placeholder, and the mapping retried. Returns the config (when the file
/// could be mapped at all) and the spans of the placeholders, so later
/// checks do not report them twice.
fn parse(
    text: &str,
    path: &Path,
    diags: &mut Diagnostics,
) -> (Option<RawCourse>, Vec<Range<usize>>) {
    let (mut table, errors) = DeTable::parse_recoverable(text);
    if !errors.is_empty() {
        for e in errors {
            diags.push(
                Diagnostic::error(e.message().trim().to_string())
                    .at(path, e.span())
                    .help("see the TOML syntax at https://toml.io"),
            );
        }
        return (None, Vec::new());
    }
    table.get_mut().make_owned();
    control_chars(&table, path, diags);
    // Most files map at the first try: then no copy of the table is made.
    let first: Result<RawCourse, _> =
        serde::Deserialize::deserialize(toml::de::Deserializer::from(table));
    if let Ok(raw) = first {
        return (Some(raw), Vec::new());
    }
    let (mut table, _) = DeTable::parse_recoverable(text);
    table.get_mut().make_owned();
    let mut placeholders = Vec::new();
    // Map each `[[session]]`, `[[before]]` and `[[after]]` table on its own:
    // a retry after an error then costs that table, not the whole file, so
    // a big course with many mistakes is still reported quickly.
    let mut lists: Vec<Vec<Spanned<DeTable<'_>>>> = Vec::new();
    for name in ["session", "before", "after"] {
        let key = table
            .get_ref()
            .keys()
            .find(|k| k.get_ref() == name)
            .cloned();
        let all_tables = key.as_ref().is_some_and(|k| {
            matches!(table.get_ref().get(k).map(Spanned::get_ref), Some(DeValue::Array(a)) if a.iter().all(|v| v.get_ref().is_table()))
        });
        let mut items = Vec::new();
        if let (Some(key), true) = (key, all_tables)
            && let Some(value) = table.get_mut().remove(&key)
            && let DeValue::Array(array) = value.into_inner()
        {
            for v in array {
                let span = v.span();
                if let DeValue::Table(t) = v.into_inner() {
                    items.push(Spanned::new(span, t));
                }
            }
        }
        lists.push(items);
    }
    let root: Option<RawCourse> = map_table(table, path, diags, &mut placeholders);
    let mut mapped: Vec<Option<Vec<BlockTable>>> = Vec::new();
    let mut sessions: Option<Vec<SessionTable>> = Some(Vec::new());
    for (i, items) in lists.into_iter().enumerate() {
        if i == 0 {
            for t in items {
                let s = map_table(t, path, diags, &mut placeholders);
                match (&mut sessions, s) {
                    (Some(all), Some(s)) => all.push(s),
                    _ => sessions = None,
                }
            }
        } else {
            let mut blocks = Some(Vec::new());
            for t in items {
                let b = map_table(t, path, diags, &mut placeholders);
                match (&mut blocks, b) {
                    (Some(all), Some(b)) => all.push(b),
                    _ => blocks = None,
                }
            }
            mapped.push(blocks);
        }
    }
    match (
        root,
        sessions,
        mapped.pop().flatten(),
        mapped.pop().flatten(),
    ) {
        (Some(mut raw), Some(session), Some(after), Some(before)) => {
            raw.session.extend(session);
            raw.before.extend(before);
            raw.after.extend(after);
            (Some(raw), placeholders)
        }
        _ => (None, placeholders),
    }
}

/// Maps `table` onto `T`, reporting every unknown key, missing key and
/// value of the wrong type, not just the first: each unknown key found is
/// recorded and removed, each missing one recorded and filled with a
/// placeholder (whose span goes into `placeholders`), each wrong value
/// recorded and removed, and the mapping retried.
fn map_table<T: serde::de::DeserializeOwned>(
    mut table: Spanned<DeTable<'_>>,
    path: &Path,
    diags: &mut Diagnostics,
    placeholders: &mut Vec<Range<usize>>,
) -> Option<T> {
    // Placeholders put in this table.
    let mut filled: Vec<Range<usize>> = Vec::new();
    // Keys removed for a value of the wrong type: (their table's span, key).
    let mut mistyped: Vec<(Range<usize>, String)> = Vec::new();
    // Misspelt keys removed so far: (span of their table, the key suggested).
    let mut misspelt: Vec<(Range<usize>, String)> = Vec::new();
    // Each round removes a key or fills one in, so this ends; no cap, so
    // the count of problems is the true one.
    loop {
        let de = toml::de::Deserializer::from(table.clone());
        let e: toml::de::Error = match T::deserialize(de) {
            Ok(raw) => return Some(raw),
            Err(e) => e,
        };
        let message = e.message().trim().to_string();
        let Some(span) = e.span() else {
            diags.push(Diagnostic::error(message).at(path, None));
            return None;
        };
        if let Some(rest) = message.strip_prefix("unknown field `") {
            let (key, expected) = rest.split_once('`').unwrap_or((rest, ""));
            let candidates: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
            let help = if candidates.is_empty() {
                "remove it".to_string()
            } else {
                suggest(key, &candidates, "the keys allowed here are")
            };
            let suggested = did_you_mean(key, candidates.iter().copied()).map(str::to_string);
            diags.push(
                Diagnostic::error(format!("unknown key `{key}`"))
                    .at(path, Some(span.clone()))
                    .help(help),
            );
            if let Some(table_span) = remove_key_at(&mut table, &span) {
                misspelt.extend(suggested.map(|s| (table_span, s)));
                continue;
            }
        } else if let Some(rest) = message.strip_prefix("missing field `") {
            let key = rest.split('`').next().unwrap_or(rest).to_string();
            // A misspelt key in this table already said "did you mean `key`?",
            // and a key of the wrong type was reported as such.
            let told = misspelt.iter().any(|(t, k)| *t == span && *k == key)
                || mistyped.iter().any(|(t, k)| *t == span && *k == key);
            if !told {
                diags.push(
                    Diagnostic::error(format!("missing key `{key}`"))
                        .at(path, Some(span.clone()))
                        .help(format!("add `{key} = ...` to this table")),
                );
            }
            let placeholder = Spanned::new(span.clone(), DeValue::String("".into()));
            if let Some(t) = table_at(&mut table, &span) {
                t.insert(Spanned::new(span.clone(), key.into()), placeholder);
                filled.push(span.clone());
                placeholders.push(span);
                continue;
            }
        } else if !filled.contains(&span) {
            let text_expected = message.ends_with("expected a string");
            diags.push(Diagnostic::error(message).at(path, Some(span.clone())).help(
                "check the value's type and spelling against the annotated course.toml in the README",
            ));
            // Carry on, to report every wrong type: text expected gets an
            // empty text in its place (checks that would then complain
            // about it are skipped, as for a missing key); any other value
            // is taken out (those keys all have defaults).
            if text_expected && let Some(value) = value_at(&mut table, &span) {
                *value.get_mut() = DeValue::String("".into());
                filled.push(span.clone());
                placeholders.push(span);
                continue;
            }
            if let Some(removed) = remove_value_at(&mut table, &span) {
                mistyped.extend(removed);
                continue;
            }
        }
        return None;
    }
}

/// The value whose span is `span`, anywhere in the tree.
fn value_at<'t, 'i>(
    root: &'t mut Spanned<DeTable<'i>>,
    span: &Range<usize>,
) -> Option<&'t mut Spanned<DeValue<'i>>> {
    fn find<'t, 'i>(
        value: &'t mut Spanned<DeValue<'i>>,
        span: &Range<usize>,
    ) -> Option<&'t mut Spanned<DeValue<'i>>> {
        if value.span() == *span && !value.get_ref().is_table() {
            return Some(value);
        }
        match value.get_mut() {
            DeValue::Table(t) => t.iter_mut().find_map(|(_, v)| find(v, span)),
            DeValue::Array(a) => a.iter_mut().find_map(|v| find(v, span)),
            _ => None,
        }
    }
    root.get_mut().iter_mut().find_map(|(_, v)| find(v, span))
}

/// Removes the value at `span`: a table's entry (returning that table's
/// span and the key, so a "missing key" that follows is not reported twice)
/// or an array's element.
fn remove_value_at(
    table: &mut Spanned<DeTable<'_>>,
    span: &Range<usize>,
) -> Option<Option<(Range<usize>, String)>> {
    fn in_table(
        table: &mut DeTable<'_>,
        here: Range<usize>,
        span: &Range<usize>,
    ) -> Option<Option<(Range<usize>, String)>> {
        if let Some(key) = table
            .iter()
            .find(|(_, v)| v.span() == *span)
            .map(|(k, _)| k.clone())
        {
            table.remove(&key);
            return Some(Some((here, key.get_ref().to_string())));
        }
        table.iter_mut().find_map(|(_, v)| in_value(v, span))
    }
    fn in_value(
        value: &mut Spanned<DeValue<'_>>,
        span: &Range<usize>,
    ) -> Option<Option<(Range<usize>, String)>> {
        // No pruning by span: a table's span covers its header only.
        let here = value.span();
        match value.get_mut() {
            DeValue::Table(t) => in_table(t, here, span),
            DeValue::Array(a) => {
                if a.iter().any(|v| v.span() == *span) {
                    let old = std::mem::replace(a, toml::de::DeArray::new());
                    *a = old.into_iter().filter(|v| v.span() != *span).collect();
                    return Some(None);
                }
                a.iter_mut().find_map(|v| in_value(v, span))
            }
            _ => None,
        }
    }
    let here = table.span();
    in_table(table.get_mut(), here, span)
}

/// Help for a control character found in course text.
const CONTROL_HELP: &str = "remove it: control characters are never meaningful in course text and would make the packages' XML invalid (tab and newline are fine)";

/// The first character XML 1.0 cannot carry, or a terminal should not be
/// sent, with its byte offset: C0 controls except tab, newline and carriage
/// return, DEL, C1 controls, and the non-characters U+FFFE and U+FFFF.
pub fn forbidden_char(text: &str) -> Option<(usize, char)> {
    text.char_indices().find(|&(_, c)| {
        let n = c as u32;
        (n < 0x20 && !matches!(c, '\t' | '\n' | '\r'))
            || (0x7f..=0x9f).contains(&n)
            || n == 0xfffe
            || n == 0xffff
    })
}

/// `U+001B`, for messages.
fn char_name(c: char) -> String {
    format!("U+{:04X}", c as u32)
}

/// Reports every string (and key) of course.toml holding a character
/// [`forbidden_char`] refuses, at its place in the file.
fn control_chars(table: &Spanned<DeTable<'_>>, path: &Path, diags: &mut Diagnostics) {
    fn check(text: &str, span: Range<usize>, path: &Path, diags: &mut Diagnostics) {
        if let Some((_, c)) = forbidden_char(text) {
            diags.push(
                Diagnostic::error(format!(
                    "this text contains the control character {}",
                    char_name(c)
                ))
                .at(path, Some(span))
                .help(CONTROL_HELP),
            );
        }
    }
    fn in_table(table: &DeTable<'_>, path: &Path, diags: &mut Diagnostics) {
        for (k, v) in table.iter() {
            check(k.get_ref(), k.span(), path, diags);
            in_value(v, path, diags);
        }
    }
    fn in_value(value: &Spanned<DeValue<'_>>, path: &Path, diags: &mut Diagnostics) {
        match value.get_ref() {
            DeValue::String(s) => check(s, value.span(), path, diags),
            DeValue::Table(t) => in_table(t, path, diags),
            DeValue::Array(a) => a.iter().for_each(|v| in_value(v, path, diags)),
            _ => {}
        }
    }
    in_table(table.get_ref(), path, diags);
}

/// The table whose span is `span` (the root or any nested table).
fn table_at<'t, 'i>(
    root: &'t mut Spanned<DeTable<'i>>,
    span: &Range<usize>,
) -> Option<&'t mut DeTable<'i>> {
    fn find<'t, 'i>(
        value: &'t mut Spanned<DeValue<'i>>,
        span: &Range<usize>,
    ) -> Option<&'t mut DeTable<'i>> {
        let here = value.span() == *span && value.get_ref().is_table();
        if here {
            return match value.get_mut() {
                DeValue::Table(t) => Some(t),
                _ => None,
            };
        }
        match value.get_mut() {
            DeValue::Table(t) => t.iter_mut().find_map(|(_, v)| find(v, span)),
            DeValue::Array(a) => a.iter_mut().find_map(|v| find(v, span)),
            _ => None,
        }
    }
    if root.span() == *span {
        return Some(root.get_mut());
    }
    root.get_mut().iter_mut().find_map(|(_, v)| find(v, span))
}

/// Removes the key whose name sits at `span`, wherever it is in the tree,
/// and returns the span of the table it was in.
fn remove_key_at(table: &mut Spanned<DeTable<'_>>, span: &Range<usize>) -> Option<Range<usize>> {
    fn in_table(
        table: &mut DeTable<'_>,
        here: Range<usize>,
        span: &Range<usize>,
    ) -> Option<Range<usize>> {
        if let Some(key) = table.keys().find(|k| k.span() == *span).cloned() {
            table.remove(&key);
            return Some(here);
        }
        table.iter_mut().find_map(|(_, v)| in_value(v, span))
    }
    fn in_value(value: &mut Spanned<DeValue<'_>>, span: &Range<usize>) -> Option<Range<usize>> {
        let here = value.span();
        match value.get_mut() {
            DeValue::Table(t) => in_table(t, here, span),
            DeValue::Array(a) => a.iter_mut().find_map(|v| in_value(v, span)),
            _ => None,
        }
    }
    let here = table.span();
    in_table(table.get_mut(), here, span)
}

/// Builds the model from the raw config, recording every problem.
struct Checker<'a> {
    root: &'a Path,
    toml: &'a Path,
    diags: &'a mut Diagnostics,
    /// Every block and session id seen, with the line it was first defined on.
    ids: HashMap<String, usize>,
    /// Where the lines of `source` start.
    lines: LineIndex,
    /// How many more "did you mean" searches may be made: each compares a
    /// word with every candidate, so they are capped for courses with
    /// thousands of mistakes.
    suggestions: usize,
}

impl Checker<'_> {
    fn error(&mut self, span: Range<usize>, message: impl Into<String>, help: impl Into<String>) {
        let d = Diagnostic::error(message)
            .at(self.toml, Some(span))
            .help(help);
        self.diags.push(d);
    }

    fn warn(&mut self, span: Range<usize>, message: impl Into<String>, help: impl Into<String>) {
        let d = Diagnostic::warning(message)
            .at(self.toml, Some(span))
            .help(help);
        self.diags.push(d);
    }

    fn course(&mut self, raw: RawCourse) -> Option<Course> {
        let c = raw.course;
        let id = self.id(&c.id, "course");
        let title = self.non_empty(&c.title, "course title");
        let version = match &c.version {
            Some(v) => {
                let ok = !v.get_ref().is_empty()
                    && v.get_ref()
                        .chars()
                        .all(|ch| ch.is_ascii_alphanumeric() || ch == '.' || ch == '-');
                if !ok {
                    self.error(
                        v.span(),
                        format!("version `{}` cannot be used in a file name", v.get_ref()),
                        "use letters, digits, `.` and `-`, e.g. `1.0.0`",
                    );
                } else if v.get_ref().len() > MAX_NAME_PART {
                    // It is part of every package's file name, with the ids.
                    self.error(
                        v.span(),
                        format!(
                            "version is {} characters long; it is part of every package's file name",
                            v.get_ref().len()
                        ),
                        format!("use at most {MAX_NAME_PART} characters, e.g. `1.0.0`"),
                    );
                }
                v.get_ref().clone()
            }
            None => "1.0.0".to_string(),
        };
        let language = match &c.language {
            Some(l) => {
                if !is_language_tag(l.get_ref()) {
                    self.error(
                        l.span(),
                        format!("`{}` is not a language tag", l.get_ref()),
                        "use a BCP 47 tag such as `en`, `en-GB` or `cy`",
                    );
                }
                l.get_ref().clone()
            }
            None => "en".to_string(),
        };
        let templates = self.templates_dir(c.templates.as_ref());

        let people = raw
            .people
            .iter()
            .map(|p| Person {
                name: self.non_empty(&p.name, "person's name"),
                role: p.role.as_ref().map(|r| r.get_ref().clone()),
                bio: p.bio.as_ref().map(|b| b.get_ref().clone()),
            })
            .collect();
        let partners = raw
            .partners
            .iter()
            .map(|p| Partner {
                name: self.non_empty(&p.name, "partner's name"),
                relation: p.relation.as_ref().map(|r| r.get_ref().clone()),
                url: p.url.as_ref().and_then(|u| self.url(u, false)),
            })
            .collect();
        let branding = self.branding(&raw.branding);
        // Images in the overview's own Markdown: the summary and the bios.
        let mut images = Vec::new();
        for text in c
            .summary
            .iter()
            .chain(raw.people.iter().filter_map(|p| p.bio.as_ref()))
        {
            for image in self.images(text.get_ref(), text.span()) {
                if !images.contains(&image) {
                    images.push(image);
                }
            }
        }
        let split = match &raw.packaging.split {
            None => Split::Course,
            Some(s) => match s.get_ref().as_str() {
                "course" => Split::Course,
                "session" => Split::Session,
                other => {
                    let help = suggest(other, &["course", "session"], "use one of");
                    self.error(s.span(), format!("unknown packaging split `{other}`"), help);
                    Split::Course
                }
            },
        };

        let sco = raw
            .packaging
            .sco
            .as_ref()
            .and_then(|s| match s.get_ref().as_str() {
                "session" => Some(Sco::Session),
                "course" => Some(Sco::Course),
                other => {
                    let help = suggest(other, &["session", "course"], "use one of");
                    self.error(s.span(), format!("unknown packaging sco `{other}`"), help);
                    None
                }
            });

        let before = raw
            .before
            .iter()
            .enumerate()
            .filter_map(|(i, b)| self.block(b, "before", i))
            .collect();
        if raw.session.is_empty() {
            self.error(
                c.id.span(),
                "the course has no sessions",
                "add at least one `[[session]]` table",
            );
        }
        let sessions: Vec<Session> = raw.session.iter().filter_map(|s| self.session(s)).collect();
        if let (Some(Sco::Course), Some(span)) = (sco, raw.packaging.sco.as_ref().map(|s| s.span()))
        {
            // The course player keeps every session's state in one suspend_data.
            let worst: usize = sessions
                .iter()
                .map(|s| crate::render::suspend_data_worst_case(s) + s.id.len() + 8)
                .sum();
            if worst > SCORM12_SUSPEND_LIMIT as usize {
                self.warn(span, format!("with the course as one SCO, its state may need {worst} characters of suspend_data; SCORM 1.2 keeps 4096"), "lower `max_chars` on the reflections, or use `sco = \"session\"` for SCORM 1.2; long answers are shortened in the LMS and kept whole in the browser");
            }
        }
        let after = raw
            .after
            .iter()
            .enumerate()
            .filter_map(|(i, b)| self.block(b, "after", i))
            .collect();

        let video_minutes: u32 = sessions
            .iter()
            .flat_map(|s| &s.blocks)
            .filter_map(|b| match b.kind {
                BlockKind::Video { minutes, .. } => minutes,
                _ => None,
            })
            .sum();
        Some(Course {
            root: self.root.to_path_buf(),
            id,
            title,
            version,
            language,
            summary: c.summary.map(Spanned::into_inner),
            goals: c.goals.into_iter().map(Spanned::into_inner).collect(),
            licence: c.licence.map(Spanned::into_inner),
            estimated_minutes: c
                .estimated_minutes
                .map(Spanned::into_inner)
                .unwrap_or(video_minutes),
            people,
            partners,
            branding,
            split,
            sco,
            before,
            sessions,
            after,
            images,
            templates,
        })
    }

    /// The templates folder: it must be a real folder inside the course
    /// (a link out of the course, or a loop, is refused).
    fn templates_dir(&mut self, configured: Option<&Spanned<String>>) -> Option<PathBuf> {
        let (rel, span) = match configured {
            Some(dir) => (self.safe_relative(dir)?, Some(dir.span())),
            None => ("templates".to_string(), None),
        };
        let path = self.root.join(&rel);
        let refusal = match course_fs::resolve_inside(self.root, &path) {
            Ok(real) if real.is_dir() => return Some(path),
            Ok(real) => match std::fs::metadata(&real) {
                Ok(meta) => Refusal::NotAFile(course_fs::kind_of(&meta)),
                Err(e) => Refusal::Io(e),
            },
            Err(refusal) => refusal,
        };
        let message = match &refusal {
            Refusal::Missing if span.is_none() => return None,
            Refusal::Missing => format!("templates folder `{rel}` does not exist"),
            Refusal::NotAFile(kind) => format!("templates folder `{rel}` is {kind}, not a folder"),
            other => format!("templates folder `{rel}` {other}"),
        };
        let help = match refusal {
            Refusal::Missing => "create it, or remove `templates` to use the default templates",
            Refusal::NotAFile(_) => "make it a folder of templates, or remove it",
            other => other.help(),
        };
        match span {
            Some(span) => self.error(span, message, help),
            None => self
                .diags
                .push(Diagnostic::error(message).at(&path, None).help(help)),
        }
        None
    }

    fn branding(&mut self, b: &crate::config::BrandingTable) -> Branding {
        let logo = b
            .logo
            .as_ref()
            .and_then(|l| self.file(l, &["png", "jpg", "jpeg", "svg", "webp"]));
        let primary_colour = match &b.primary_colour {
            Some(c) => {
                let v = c.get_ref();
                let ok = v.len() == 7
                    && v.starts_with('#')
                    && v[1..].chars().all(|ch| ch.is_ascii_hexdigit());
                if !ok {
                    self.error(
                        c.span(),
                        format!("`{v}` is not a colour"),
                        "write it as `#rrggbb`, e.g. `#1d5fa8`",
                    );
                } else if contrast_on_white(v) < 4.5 {
                    self.warn(c.span(), format!("`{v}` has a contrast of {:.1}:1 on white; links and buttons need 4.5:1", contrast_on_white(v)), "choose a darker colour");
                }
                v.to_ascii_lowercase()
            }
            None => DEFAULT_COLOUR.to_string(),
        };
        Branding {
            institution: b.institution.as_ref().map(|i| i.get_ref().clone()),
            logo,
            primary_colour,
        }
    }

    fn session(&mut self, s: &SessionTable) -> Option<Session> {
        let id = self.id(&s.id, "session");
        if id == "index" {
            self.error(
                s.id.span(),
                "`index` is reserved for the overview page",
                "choose another session id",
            );
        }
        let title = self.non_empty(&s.title, "session title");
        let blocks: Vec<Block> = s
            .block
            .iter()
            .enumerate()
            .filter_map(|(i, b)| self.block(b, &id, i))
            .collect();

        let video_percent = self.ranged(
            s.completion.as_ref().and_then(|c| c.video_percent.as_ref()),
            "video_percent",
            1..=100,
            DEFAULT_VIDEO_PERCENT,
        );
        let required = match s.completion.as_ref().and_then(|c| c.require.as_ref()) {
            Some(list) => {
                let by_id: HashMap<&str, &Block> =
                    blocks.iter().rev().map(|b| (b.id.as_str(), b)).collect();
                let mut out = Vec::new();
                for r in list {
                    match by_id.get(r.get_ref().as_str()).copied() {
                        Some(b) if !b.is_trackable() => self.error(
                            r.span(),
                            format!(
                                "block `{}` is text; a learner cannot complete it",
                                r.get_ref()
                            ),
                            "require a video, reading, activity or reflection",
                        ),
                        Some(b) => out.push(b.id.clone()),
                        None => {
                            let help = if self.suggestions > 0 {
                                self.suggestions -= 1;
                                let names: Vec<&str> = blocks
                                    .iter()
                                    .filter(|b| b.is_trackable())
                                    .map(|b| b.id.as_str())
                                    .collect();
                                suggest(
                                    r.get_ref(),
                                    &names,
                                    &format!("the blocks of session `{id}` are"),
                                )
                            } else {
                                format!("list blocks of session `{id}`")
                            };
                            self.error(
                                r.span(),
                                format!("session `{id}` has no block `{}`", r.get_ref()),
                                help,
                            );
                        }
                    }
                }
                out
            }
            None => blocks
                .iter()
                .filter(|b| b.required)
                .map(|b| b.id.clone())
                .collect(),
        };
        let listed = s.completion.as_ref().and_then(|c| c.require.as_ref());
        // A `require` list naming unknown blocks is an error already.
        if required.is_empty() && listed.is_none_or(|l| l.is_empty()) {
            self.warn(
                s.id.span(),
                format!("session `{id}` has no way to complete: no block is required"),
                "mark a block `required = true`, or list blocks in `[session.completion] require`",
            );
        }
        let images = match &s.intro {
            Some(intro) => self.images(intro.get_ref(), intro.span()),
            None => Vec::new(),
        };
        let has_quiz = blocks.iter().any(|b| matches!(b.kind, BlockKind::Quiz(_)));
        let completion = s.completion.as_ref();
        let pass_percent = completion
            .and_then(|c| c.pass_percent.as_ref())
            .and_then(|p| {
                if *p.get_ref() > 100 {
                    self.error(
                        p.span(),
                        format!("pass_percent {} is out of range", p.get_ref()),
                        "use a whole number from 0 to 100",
                    );
                    None
                } else {
                    if !has_quiz {
                        self.warn(
                            p.span(),
                            format!("session `{id}` has a pass mark but no quiz"),
                            "add a `type = \"quiz\"` block, or remove `pass_percent`",
                        );
                    }
                    Some(*p.get_ref())
                }
            });
        let require_pass = match completion.and_then(|c| c.require_pass.as_ref()) {
            Some(r) if *r.get_ref() && pass_percent.is_none() => {
                self.error(
                    r.span(),
                    "`require_pass` needs a pass mark",
                    "add `pass_percent = 70` (or your mark) to `[session.completion]`",
                );
                false
            }
            Some(r) => *r.get_ref(),
            None => false,
        };
        let session = Session {
            id,
            title,
            images,
            intro: s.intro.as_ref().map(|t| t.get_ref().clone()),
            goals: s.goals.iter().map(|g| g.get_ref().clone()).collect(),
            blocks,
            completion: Completion {
                video_percent,
                required,
                pass_percent,
                require_pass,
            },
        };
        let worst = crate::render::suspend_data_worst_case(&session);
        if worst > SCORM12_SUSPEND_LIMIT as usize {
            self.warn(s.id.span(), format!("session `{}` may need {worst} characters of suspend_data; SCORM 1.2 keeps 4096", session.id), "lower `max_chars` on its reflections; under SCORM 1.2 long answers are shortened in the LMS and kept whole in the browser");
        }
        Some(session)
    }

    fn block(&mut self, b: &BlockTable, scope: &str, index: usize) -> Option<Block> {
        let kind_name = b.kind.get_ref().as_str();
        const KINDS: [&str; 6] = ["text", "video", "reading", "activity", "reflection", "quiz"];
        if !KINDS.contains(&kind_name) {
            let help = suggest(kind_name, &KINDS, "use one of");
            self.error(
                b.kind.span(),
                format!("unknown block type `{kind_name}`"),
                help,
            );
            return None;
        }
        // Which keys each type takes; `type`, `id` and `title` go everywhere.
        let present: [(&str, Option<Range<usize>>); 14] = [
            ("questions", b.questions.first().map(|q| q.id.span())),
            ("draw", b.draw.as_ref().map(Spanned::span)),
            ("attempts", b.attempts.as_ref().map(Spanned::span)),
            ("shuffle", b.shuffle.as_ref().map(Spanned::span)),
            ("required", b.required.as_ref().map(Spanned::span)),
            ("body", b.body.as_ref().map(Spanned::span)),
            ("minutes", b.minutes.as_ref().map(Spanned::span)),
            ("file", b.file.as_ref().map(Spanned::span)),
            ("embed", b.embed.as_ref().map(Spanned::span)),
            ("captions", b.captions.as_ref().map(Spanned::span)),
            ("transcript", b.transcript.as_ref().map(Spanned::span)),
            ("kind", b.reading_kind.as_ref().map(Spanned::span)),
            ("url", b.url.as_ref().map(Spanned::span)),
            ("question", b.question.as_ref().map(Spanned::span)),
        ];
        let allowed: &[&str] = match kind_name {
            "text" => &["body"],
            "video" => &[
                "required",
                "body",
                "minutes",
                "file",
                "embed",
                "captions",
                "transcript",
            ],
            "reading" => &["required", "body", "kind", "url"],
            "activity" => &["required", "body", "url"],
            "quiz" => &[
                "required",
                "body",
                "questions",
                "draw",
                "attempts",
                "shuffle",
            ],
            _ => &["required", "question"],
        };
        for (key, span) in present {
            if let Some(span) = span
                && !allowed.contains(&key)
            {
                self.error(
                    span,
                    format!("`{key}` does not apply to a {kind_name} block"),
                    format!(
                        "a {kind_name} block takes {}",
                        allowed
                            .iter()
                            .map(|k| format!("`{k}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
            }
        }
        if let Some(m) = &b.max_chars
            && kind_name != "reflection"
        {
            self.error(
                m.span(),
                format!("`max_chars` does not apply to a {kind_name} block"),
                "only reflections take `max_chars`",
            );
        }

        let id = match &b.id {
            Some(id) => self.id(id, "block"),
            // `_` cannot appear in an id a course writes, so this never collides.
            None if kind_name == "text" => format!("{scope}_text_{}", index + 1),
            None => {
                self.error(b.kind.span(), format!("this {kind_name} block has no `id`"), "add a stable id, e.g. `id = \"why-patients-post\"`; the LMS keeps learners' progress by it");
                String::new()
            }
        };
        let title = b.title.as_ref().map(|t| t.get_ref().clone());
        let body = b.body.as_ref().map(|t| t.get_ref().clone());
        let url = b.url.as_ref().and_then(|u| self.url(u, false));
        let kind = match kind_name {
            "text" => {
                let Some(markdown) = body else {
                    self.error(
                        b.kind.span(),
                        "this text block has no `body`",
                        "add `body = \"...\"` with the Markdown text",
                    );
                    return None;
                };
                BlockKind::Text { markdown }
            }
            "video" => {
                let source = match (&b.file, &b.embed) {
                    (Some(_), Some(e)) => {
                        self.error(
                            e.span(),
                            "a video takes `file` or `embed`, not both",
                            "keep one of them",
                        );
                        VideoSource::Missing
                    }
                    (Some(f), None) => self
                        .file(f, &["mp4", "m4v", "webm"])
                        .map_or(VideoSource::Missing, VideoSource::File),
                    (None, Some(e)) => self
                        .url(e, true)
                        .map_or(VideoSource::Missing, VideoSource::Embed),
                    (None, None) => {
                        self.warn(b.kind.span(), format!("video `{id}` has no source; the page shows its title and length only"), "add `file = \"media/....mp4\"` or `embed = \"https://...\"` when you have it");
                        VideoSource::Missing
                    }
                };
                let captions = b.captions.as_ref().and_then(|c| self.file(c, &["vtt"]));
                if let Some(c) = &captions {
                    // Only the first line matters; never read a whole file for it.
                    let ok = course_fs::read_prefix(self.root, &c.rel, 16)
                        .ok()
                        .is_some_and(|bytes| {
                            bytes
                                .strip_prefix(b"\xEF\xBB\xBF")
                                .unwrap_or(&bytes)
                                .starts_with(b"WEBVTT")
                        });
                    if !ok {
                        self.error(
                            b.captions.as_ref().unwrap().span(),
                            format!("`{}` is not a WebVTT file", c.rel),
                            "a WebVTT file starts with the line `WEBVTT`",
                        );
                    }
                }
                let transcript = b.transcript.as_ref().and_then(|t| self.transcript(t));
                if matches!(source, VideoSource::File(_))
                    && captions.is_none()
                    && transcript.is_none()
                {
                    self.warn(b.kind.span(), format!("video `{id}` has neither captions nor a transcript"), "add `captions = \"....vtt\"` or `transcript`, so deaf and hard-of-hearing learners can follow it");
                }
                BlockKind::Video {
                    minutes: b.minutes.as_ref().map(|m| *m.get_ref()),
                    source,
                    captions,
                    transcript,
                    body,
                }
            }
            "reading" => {
                let kind = match &b.reading_kind {
                    None => ReadingKind::Article,
                    Some(k) => match ReadingKind::ALL.iter().find(|(n, _)| *n == k.get_ref()) {
                        Some((_, k)) => *k,
                        None => {
                            let names = ReadingKind::ALL.map(|(n, _)| n);
                            let help = suggest(k.get_ref(), &names, "use one of");
                            self.error(
                                k.span(),
                                format!("unknown reading kind `{}`", k.get_ref()),
                                help,
                            );
                            ReadingKind::Article
                        }
                    },
                };
                if title.is_none() {
                    self.error(
                        b.kind.span(),
                        format!("reading `{id}` has no `title`"),
                        "add `title = \"...\"`",
                    );
                }
                if b.url.is_none() {
                    self.warn(
                        b.kind.span(),
                        format!(
                            "reading `{id}` has no url; the page says its source is not available"
                        ),
                        "add `url = \"https://...\"` when the address is known",
                    );
                }
                BlockKind::Reading {
                    kind,
                    url: url.clone(),
                    body,
                }
            }
            "activity" => {
                let Some(body) = body else {
                    self.error(
                        b.kind.span(),
                        format!("activity `{id}` has no `body`"),
                        "add `body = \"...\"` with the instruction",
                    );
                    return None;
                };
                BlockKind::Activity { body, url }
            }
            "quiz" => BlockKind::Quiz(self.quiz(b, &id, body)),
            _ => {
                let Some(question) = b.question.as_ref().map(|q| q.get_ref().clone()) else {
                    self.error(
                        b.kind.span(),
                        format!("reflection `{id}` has no `question`"),
                        "add `question = \"...\"`",
                    );
                    return None;
                };
                let max_chars = self.ranged(
                    b.max_chars.as_ref(),
                    "max_chars",
                    1..=20_000,
                    DEFAULT_MAX_CHARS,
                );
                BlockKind::Reflection {
                    question,
                    max_chars,
                }
            }
        };
        let required = match &b.required {
            Some(r) => {
                if *r.get_ref() && kind_name == "text" {
                    self.error(
                        r.span(),
                        "a text block cannot be required",
                        "remove `required`",
                    );
                }
                *r.get_ref()
            }
            None => matches!(
                kind,
                BlockKind::Video { .. }
                    | BlockKind::Reading { .. }
                    | BlockKind::Reflection { .. }
                    | BlockKind::Quiz(_)
            ),
        };
        let mut images = Vec::new();
        if let Some(body) = &b.body {
            images.extend(self.images(body.get_ref(), body.span()));
        }
        if let (
            BlockKind::Video {
                transcript: Some(text),
                ..
            },
            Some(value),
        ) = (&kind, &b.transcript)
        {
            images.extend(self.images(text, value.span()));
        }
        Some(Block {
            id,
            title,
            required,
            kind,
            images,
        })
    }

    /// Checks an id's spelling and that it is unique across the course.
    fn id(&mut self, id: &Spanned<String>, what: &str) -> String {
        let v = id.get_ref();
        if !spelled_as_id(v, MAX_NAME_PART, false) {
            self.error(id.span(), format!("`{v}` is not a valid {what} id"), "use lower-case letters, digits and `-`, starting with a letter (64 characters at most)");
        } else if what != "course" {
            if let Some(&line) = self.ids.get(v) {
                self.error(
                    id.span(),
                    format!("duplicate id `{v}`"),
                    format!("it is already used on line {line}; ids must be unique in the course"),
                );
            } else {
                let line = self.lines.line(id.span().start);
                self.ids.insert(v.clone(), line);
            }
        }
        v.clone()
    }

    /// A whole number within `range`, or `default` when absent.
    fn ranged(
        &mut self,
        value: Option<&Spanned<u32>>,
        key: &str,
        range: std::ops::RangeInclusive<u32>,
        default: u32,
    ) -> u32 {
        match value {
            Some(v) if !range.contains(v.get_ref()) => {
                self.error(
                    v.span(),
                    format!("{key} {} is out of range", v.get_ref()),
                    format!(
                        "use a whole number from {} to {}",
                        range.start(),
                        range.end()
                    ),
                );
                default
            }
            Some(v) => *v.get_ref(),
            None => default,
        }
    }

    fn non_empty(&mut self, value: &Spanned<String>, what: &str) -> String {
        if value.get_ref().trim().is_empty() {
            self.error(
                value.span(),
                format!("the {what} is empty"),
                "write some text",
            );
        }
        value.get_ref().clone()
    }

    fn url(&mut self, url: &Spanned<String>, https_only: bool) -> Option<String> {
        let v = url.get_ref();
        let scheme_ok = v.starts_with("https://") || (!https_only && v.starts_with("http://"));
        let host_ok = v
            .split_once("://")
            .is_some_and(|(_, rest)| !rest.is_empty() && !rest.starts_with('/'));
        if !scheme_ok || !host_ok || v.chars().any(char::is_whitespace) {
            let help = if https_only {
                "embeds must be `https://` addresses"
            } else {
                "write a full `https://` address"
            };
            self.error(url.span(), format!("`{v}` is not a web address"), help);
            return None;
        }
        Some(v.clone())
    }

    /// A relative path that stays inside the course folder (checked lexically).
    fn safe_relative(&mut self, value: &Spanned<String>) -> Option<String> {
        let v = value.get_ref();
        let path = Path::new(v);
        if v.is_empty() {
            self.error(
                value.span(),
                "the path is empty",
                "write a path relative to the course folder",
            );
            return None;
        }
        let drive =
            v.len() >= 2 && v.as_bytes()[0].is_ascii_alphabetic() && v.as_bytes()[1] == b':';
        if has_scheme(v) && v.contains("://") {
            self.error(
                value.span(),
                format!("`{v}` is a web address, not a file"),
                "put the file inside the course folder and give its path, e.g. `media/intro.mp4`",
            );
            return None;
        }
        if path.is_absolute() || v.starts_with('/') || drive {
            self.error(
                value.span(),
                format!("`{v}` is an absolute path"),
                "write it relative to the course folder, e.g. `media/intro.mp4`",
            );
            return None;
        }
        if v.contains('\\') {
            self.error(
                value.span(),
                format!("`{v}` uses `\\`"),
                "separate folders with `/`",
            );
            return None;
        }
        if path.components().any(|c| matches!(c, Component::ParentDir)) {
            self.error(
                value.span(),
                format!("`{v}` leaves the course folder"),
                "keep every file inside the course folder and remove `..`",
            );
            return None;
        }
        let rel = path
            .components()
            .filter_map(|c| match c {
                Component::Normal(s) => s.to_str(),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join("/");
        Some(rel)
    }

    /// A file inside the course folder with one of `exts`.
    fn file(&mut self, value: &Spanned<String>, exts: &[&str]) -> Option<CourseFile> {
        let rel = self.safe_relative(value)?;
        let ext = rel
            .rsplit_once('.')
            .map(|(_, e)| e.to_ascii_lowercase())
            .unwrap_or_default();
        if !exts.contains(&ext.as_str()) {
            self.error(
                value.span(),
                format!("`{rel}` is not a supported file type here"),
                format!(
                    "use a {} file",
                    exts.iter()
                        .map(|e| format!(".{e}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
            return None;
        }
        if rel.starts_with("coursepack/") {
            self.error(
                value.span(),
                "the `coursepack/` folder is reserved for the runtime",
                "move the file to another folder, e.g. `media/`",
            );
            return None;
        }
        let path = self.root.join(&rel);
        // The real path is kept: the build opens it again without following
        // links, so a link inside the course is fine, a swapped file is not.
        let real = match course_fs::check(self.root, &rel) {
            Ok(real) => real,
            Err(Refusal::Missing) => {
                let listing = match self.suggestions {
                    0 => None,
                    _ => {
                        self.suggestions -= 1;
                        path.parent().and_then(|p| std::fs::read_dir(p).ok())
                    }
                };
                let hint = match listing {
                    Some(entries) => {
                        let names: Vec<String> = entries
                            .take(10_000)
                            .filter_map(|e| e.ok()?.file_name().into_string().ok())
                            .collect();
                        let file = rel.rsplit('/').next().unwrap_or(&rel);
                        did_you_mean(file, names.iter().map(String::as_str))
                            .map(|m| format!("did you mean `{m}`?"))
                    }
                    None => None,
                };
                self.error(
                    value.span(),
                    format!("file `{rel}` does not exist in the course folder"),
                    hint.unwrap_or_else(|| format!("put the file at {}", path.display())),
                );
                return None;
            }
            Err(Refusal::NotAFile("a folder")) => {
                self.error(
                    value.span(),
                    format!("`{rel}` is not a file"),
                    "point at a file, not a folder",
                );
                return None;
            }
            Err(refusal) => {
                self.error(value.span(), format!("`{rel}` {refusal}"), refusal.help());
                return None;
            }
        };
        Some(CourseFile { rel, path: real })
    }

    /// The local images a Markdown text shows, each checked like any file
    /// (problems point at `span`, the text's place in course.toml).
    fn images(&mut self, text: &str, span: Range<usize>) -> Vec<CourseFile> {
        use pulldown_cmark::{Event, Parser, Tag};
        let mut found: Vec<CourseFile> = Vec::new();
        let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
        for event in Parser::new(text) {
            let Event::Start(Tag::Image { dest_url, .. }) = event else {
                continue;
            };
            if has_scheme(&dest_url) || dest_url.starts_with("//") {
                continue;
            }
            // A Markdown link is a URL: drop its query and fragment, decode `%20`.
            let path = dest_url.split(['?', '#']).next().unwrap_or_default();
            let path = percent_decode(path).unwrap_or_else(|| path.to_string());
            if seen.insert(path.clone()) {
                let value = Spanned::new(span.clone(), path);
                found.extend(self.file(&value, IMAGE_TYPES));
            }
        }
        found
    }

    /// A transcript: inline Markdown, or a `.md`/`.txt` file in the course.
    fn transcript(&mut self, value: &Spanned<String>) -> Option<String> {
        let v = value.get_ref();
        let looks_like_file =
            !v.contains(char::is_whitespace) && (v.ends_with(".md") || v.ends_with(".txt"));
        if !looks_like_file {
            return Some(v.clone());
        }
        let rel = self.safe_relative(value)?;
        let path = self.root.join(&rel);
        let bytes = match course_fs::read(self.root, &rel, course_fs::TEXT_LIMIT) {
            Ok(bytes) => bytes,
            Err(Refusal::Missing) => {
                self.error(
                    value.span(),
                    format!("transcript file `{rel}` does not exist"),
                    format!("put it at {}", path.display()),
                );
                return None;
            }
            Err(refusal) => {
                self.error(
                    value.span(),
                    format!("transcript `{rel}` {refusal}"),
                    refusal.help(),
                );
                return None;
            }
        };
        let Ok(text) = String::from_utf8(bytes) else {
            self.error(
                value.span(),
                format!("transcript `{rel}` is not UTF-8 text"),
                "save it as UTF-8",
            );
            return None;
        };
        if let Some((offset, c)) = forbidden_char(&text) {
            let text: std::sync::Arc<str> = text.into();
            self.diags.push(
                Diagnostic::error(format!(
                    "transcript `{rel}` contains the control character {}",
                    char_name(c)
                ))
                .at(&path, Some(offset..offset + c.len_utf8()))
                .with_source(text)
                .help(CONTROL_HELP),
            );
            return None;
        }
        Some(text)
    }
}

/// Image types a page may show.
const IMAGE_TYPES: &[&str] = &["png", "jpg", "jpeg", "svg", "webp", "gif"];

/// Whether a link starts with a URL scheme (`https:`, `mailto:`, `data:`).
fn has_scheme(link: &str) -> bool {
    match link.split_once(':') {
        Some((scheme, _)) => {
            scheme.len() > 1
                && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
        }
        None => false,
    }
}

/// Decodes `%XX` escapes; `None` when they do not make UTF-8 text.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn is_language_tag(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let first = parts.next().unwrap_or("");
    (2..=3).contains(&first.len())
        && first.chars().all(|c| c.is_ascii_alphabetic())
        && parts.all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// WCAG contrast ratio of `#rrggbb` against white.
fn contrast_on_white(hex: &str) -> f64 {
    let channel = |i: usize| {
        let v = u8::from_str_radix(&hex[i..i + 2], 16).unwrap_or(0) as f64 / 255.0;
        if v <= 0.03928 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    let l = 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
    1.05 / (l + 0.05)
}

/// Whether `v` is spelled as an id: lower-case letters, digits and `-`, at
/// most `max` characters, starting with a letter (or a digit, when
/// `digit_first`).
fn spelled_as_id(v: &str, max: usize, digit_first: bool) -> bool {
    v.len() <= max
        && v.starts_with(|c: char| c.is_ascii_lowercase() || (digit_first && c.is_ascii_digit()))
        && v.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_tags() {
        assert!(is_language_tag("en"));
        assert!(is_language_tag("en-GB"));
        assert!(!is_language_tag("english language"));
        assert!(!is_language_tag("e"));
    }

    #[test]
    fn links_and_escapes() {
        assert!(has_scheme("https://x"));
        assert!(has_scheme("data:image/png;base64,xx"));
        assert!(!has_scheme("media/12:30.png"));
        assert!(!has_scheme("c:/x.png"));
        assert_eq!(
            percent_decode("my%20fig.png").as_deref(),
            Some("my fig.png")
        );
        assert_eq!(percent_decode("bad%2"), None);
    }

    #[test]
    fn contrast() {
        assert!((contrast_on_white("#000000") - 21.0).abs() < 0.01);
        assert!(contrast_on_white(DEFAULT_COLOUR) >= 4.5);
        assert!(contrast_on_white("#ffff00") < 4.5);
    }
}
