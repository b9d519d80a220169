//! Reads a course folder and builds the validated [`Course`] model.
//!
//! Every problem is collected, not just the first: syntax errors, unknown
//! keys (all of them, with "did you mean"), bad ids, duplicate ids, broken
//! references, unsafe or missing paths and unsupported media. Each one points
//! at `course.toml:LINE:COL`.
//!
//! This file holds the entry point, [`load`], the `Checker` every check
//! reports through, and the control-character rule both course.toml's text
//! and transcript files obey. The work itself is in three stages, each in
//! files of its own:
//! - `toml_tree.rs` parses course.toml and maps it onto the raw config,
//!   recovering from each unknown key, missing key or wrong type so that
//!   all of them are reported;
//! - the checks turn the raw config into the model: `course.rs` (the
//!   course, its branding, packaging and sessions), `block.rs` (each block
//!   by its type), `quiz.rs` (quiz blocks and their questions) and
//!   `values.rs` (ids, numbers, text and web addresses, checked alike
//!   everywhere);
//! - `files.rs` resolves the paths the course names inside its folder, the
//!   only part that reads the file system.

use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;

mod block;
mod course;
mod files;
mod quiz;
mod toml_tree;
mod translation;
mod values;
mod variant;

pub use translation::{Coverage, Extracted};
pub use variant::{DIR as VARIANTS_DIR, variants};

use crate::course_fs::Refusal;
use crate::diagnostic::{Diagnostic, Diagnostics, LineIndex};
use crate::model::Course;

/// The file a course folder must contain.
pub const COURSE_FILE: &str = "course.toml";
/// Default share of a video that counts as watched.
pub const DEFAULT_VIDEO_PERCENT: u32 = 90;
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
    /// Where some keys are in course.toml, for checks made after loading.
    pub positions: Positions,
}

/// Where the keys that checks made after loading (the LMS rules) point
/// at are in course.toml: byte ranges of its text.
#[derive(Debug, Default, Clone)]
pub struct Positions {
    /// The file, as diagnostics name it.
    pub file: std::path::PathBuf,
    /// `[course] id`.
    pub course_id: Option<Range<usize>>,
    /// `[packaging] sco`, when the course sets it.
    pub sco: Option<Range<usize>>,
    /// `[packaging] split`, when the course sets it.
    pub split: Option<Range<usize>>,
    /// Each session's `id`, by id.
    pub sessions: HashMap<String, Range<usize>>,
}

impl Positions {
    fn of(file: &Path, raw: &crate::config::CourseFile) -> Positions {
        Positions {
            file: file.to_path_buf(),
            course_id: Some(raw.course.id.span()),
            sco: raw.packaging.sco.as_ref().map(|s| s.span()),
            split: raw.packaging.split.as_ref().map(|s| s.span()),
            sessions: raw
                .session
                .iter()
                .map(|s| (s.id.get_ref().clone(), s.id.span()))
                .collect(),
        }
    }
}

/// Loads and validates the course in `dir`. On failure, the diagnostics hold
/// at least one error (and every warning found).
pub fn load(dir: &Path) -> Result<Loaded, Diagnostics> {
    load_variant(dir, None)
}

/// Loads the course in `dir` as `variant` (`variants/<name>.toml` laid
/// over it) or, with `None`, as it is; in either case with its text in the
/// language it is built in, when `translations/` has that language.
pub fn load_variant(dir: &Path, variant: Option<&str>) -> Result<Loaded, Diagnostics> {
    let (text, toml_path, mut diags) = read_course(dir)?;
    let (raw, placeholders) = toml_tree::parse(&text, &toml_path, &mut diags);
    let placeholders: std::collections::HashSet<Range<usize>> = placeholders.into_iter().collect();
    let overlay = variant.and_then(|name| variant::read(dir, name, &mut diags));
    let Some(mut raw) = raw else {
        return Err(diags);
    };
    let positions = Positions::of(&toml_path, &raw);
    if variant.is_some() && overlay.is_none() {
        return Err(diags);
    }
    let language = overlay
        .as_ref()
        .and_then(|o| o.language())
        .or(raw.course.language.as_ref().map(|l| l.get_ref().as_str()))
        .unwrap_or("en")
        .to_string();
    let translated = translation::apply(
        dir,
        &language,
        &mut raw,
        &toml_path,
        overlay.as_ref(),
        &mut diags,
    );
    // A variant in another language with nothing to translate the course with.
    let written_in = raw.course.language.as_ref().map_or("en", |l| l.get_ref());
    let primary = |l: &str| l.split('-').next().unwrap_or(l).to_ascii_lowercase();
    if let Some(o) = &overlay
        && let Some(l) = &o.raw.course.language
        && translated.is_none()
        && o.language().is_some()
        && primary(&language) != primary(written_in)
    {
        diags.push(
            Diagnostic::warning(format!(
                "the variant is in `{language}` but the course has no {}; its pages show the course's text, in `{written_in}`",
                crate::translate::file_for(&language)
            ))
            .at(&o.path, Some(l.span()))
            .help(format!("translate the course: `coursepack translate extract --lang {language} --variant {}`", o.name))
            .with_source(o.text.clone()),
        );
    }
    let root = dir.to_path_buf();
    let mut checked = Diagnostics {
        source: diags.source.clone(),
        ..Diagnostics::default()
    };
    let mut course = Checker {
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
    if let (Some(overlay), Some(course)) = (overlay, course.as_mut()) {
        variant::apply(overlay, course, &mut diags);
    }
    if diags.has_errors() {
        Err(diags)
    } else {
        Ok(Loaded {
            course: course.expect("a course is built whenever there is no error"),
            diagnostics: diags,
            positions,
        })
    }
}

/// How much of the course each of its translation files covers, by
/// language (`translations/*.xlf`).
pub fn translation_coverage(dir: &Path) -> Result<Vec<Coverage>, Diagnostics> {
    if !dir.join(crate::translate::DIR).is_dir() {
        return Ok(Vec::new());
    }
    let (text, toml_path, mut diags) = read_course(dir)?;
    let (raw, _) = toml_tree::parse(&text, &toml_path, &mut diags);
    let Some(mut raw) = raw else {
        return Err(diags);
    };
    let found = translation::coverage_all(dir, &mut raw, &mut diags);
    if diags.has_errors() {
        Err(diags)
    } else {
        Ok(found)
    }
}

/// The translation file for `lang` (`translations/<lang>.xlf`), made or
/// brought up to date from the course's text (only the text `variant`
/// shows, when one is given). Nothing is written here.
pub fn extract_translation(
    dir: &Path,
    lang: &str,
    variant: Option<&str>,
) -> Result<Extracted, Diagnostics> {
    // Only a course that loads: its ids are then what the units are named by.
    let loaded = load_variant(dir, variant)?;
    let (text, toml_path, mut diags) = read_course(dir)?;
    let (raw, _) = toml_tree::parse(&text, &toml_path, &mut diags);
    let overlay = variant.and_then(|name| variant::read(dir, name, &mut diags));
    let Some(mut raw) = raw else {
        return Err(diags);
    };
    if !course::is_language_tag(lang) {
        diags.push(
            Diagnostic::error(format!("`{lang}` is not a language tag"))
                .help("use a BCP 47 tag such as `cy`, `fr` or `pt-BR`"),
        );
        return Err(diags);
    }
    if lang.eq_ignore_ascii_case(&loaded.course.language) && variant.is_none() {
        diags.push(
            Diagnostic::error(format!("the course is written in `{lang}` already"))
                .help("give the language to translate into, e.g. `--lang cy`"),
        );
        return Err(diags);
    }
    let out = translation::extract(dir, lang, &mut raw, overlay.as_ref(), &text, &mut diags);
    if diags.has_errors() {
        Err(diags)
    } else {
        Ok(out)
    }
}

/// Reads course.toml: its text, its path, and the diagnostics that render
/// against it.
fn read_course(dir: &Path) -> Result<(String, std::path::PathBuf, Diagnostics), Diagnostics> {
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
    Ok((text, toml_path, diags))
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
}
