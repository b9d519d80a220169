//! The course text in another language: `translations/<lang>.xlf` read and
//! laid over course.toml's text before it is checked, and written by
//! `coursepack translate extract`. See [`crate::translate`] for the units
//! and the file format.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::variant::Overlay;
use super::{CONTROL_HELP, char_name, forbidden_char};
use crate::config::CourseFile as RawCourse;
use crate::course_fs;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::translate::{self, OutUnit, Status, Translation};

/// How much of the course a translation file covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coverage {
    pub language: String,
    /// `translations/<lang>.xlf`, inside the course folder.
    pub file: String,
    pub units: usize,
    pub translated: usize,
    pub stale: usize,
}

impl fmt::Display for Coverage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} of {} units translated, {} stale ({})",
            self.language, self.translated, self.units, self.stale, self.file
        )
    }
}

/// The translation file for `lang`, if the course has one: `<lang>.xlf`,
/// else the file of its primary language (`cy` for `cy-GB`).
pub fn file_for(dir: &Path, lang: &str) -> Option<String> {
    let primary = lang.split('-').next().unwrap_or(lang);
    [lang, primary]
        .into_iter()
        .map(translate::file_for)
        .find(|rel| dir.join(rel).exists())
}

/// A translation file read, or why not (in `diags`).
fn read(
    dir: &Path,
    rel: &str,
    diags: &mut Diagnostics,
) -> Option<(PathBuf, Arc<str>, Vec<Translation>)> {
    let path = dir.join(rel);
    let Ok(Some(text)) = super::files::read_text(dir, rel, course_fs::TEXT_LIMIT, diags) else {
        return None;
    };
    let text: Arc<str> = text.into();
    match translate::read(&text) {
        Ok(units) => Some((path, text, units)),
        Err((message, span)) => {
            diags.push(
                Diagnostic::error(message)
                    .at(&path, Some(span))
                    .help(
                        "repair the file, or extract it again with `coursepack translate extract`",
                    )
                    .with_source(text),
            );
            None
        }
    }
}

/// Each unit of the file by every name it goes by.
fn by_name(units: &[Translation]) -> HashMap<&str, &Translation> {
    let mut map = HashMap::new();
    for t in units {
        for n in &t.names {
            map.entry(n.as_str()).or_insert(t);
        }
    }
    map
}

/// Lays the translation into `lang` over the course's text, when the
/// course has one: each unit's target replaces its source; a unit with no
/// target or a stale one keeps the source, with a warning at its place in
/// course.toml. Only the units `overlay` shows count.
pub(super) fn apply(
    dir: &Path,
    lang: &str,
    raw: &mut RawCourse,
    toml: &Path,
    overlay: Option<&Overlay>,
    diags: &mut Diagnostics,
) -> Option<Coverage> {
    let rel = file_for(dir, lang)?;
    let (path, text, units) = read(dir, &rel, diags)?;
    let map = by_name(&units);
    let mut coverage = Coverage {
        language: lang.to_string(),
        file: rel.clone(),
        units: 0,
        translated: 0,
        stale: 0,
    };
    translate::visit(raw, &mut |u| {
        if overlay.is_some_and(|o| !o.shows(&u.id, u.session.as_deref())) {
            return;
        }
        coverage.units += 1;
        let found = map.get(u.id.as_str());
        let status = found.map_or(Status::Missing, |t| t.status(u.text.get_ref()));
        let (id, place) = (&u.id, &u.place);
        match status {
            Status::Translated(target) => {
                coverage.translated += 1;
                if let Some((_, c)) = forbidden_char(target) {
                    let span = found.and_then(|t| t.target_span.clone());
                    diags.push(
                        Diagnostic::error(format!(
                            "the translation of `{id}` contains the control character {}",
                            char_name(c)
                        ))
                        .at(&path, span)
                        .help(CONTROL_HELP)
                        .with_source(text.clone()),
                    );
                } else {
                    *u.text.get_mut() = target.to_string();
                }
            }
            Status::Missing => diags.push(
                Diagnostic::warning(format!("`{id}` ({place}) has no {lang} translation in {rel}; the source text is shown"))
                    .at(toml, Some(u.text.span()))
                    .help(format!("translate it in {rel} (`coursepack translate extract --lang {lang}` adds the units that are missing)")),
            ),
            Status::Stale => {
                coverage.stale += 1;
                diags.push(
                    Diagnostic::warning(format!("the {lang} translation of `{id}` ({place}) is stale: its source changed since it was translated, or it is marked for review; the source text is shown"))
                        .at(toml, Some(u.text.span()))
                        .help(format!("run `coursepack translate extract --lang {lang}`, review the translation in {rel} and mark it translated")),
                )
            }
        }
    });
    Some(coverage)
}

/// Every translation file's coverage of the whole course, by language.
pub(super) fn coverage_all(
    dir: &Path,
    raw: &mut RawCourse,
    diags: &mut Diagnostics,
) -> Vec<Coverage> {
    let mut files: Vec<String> = std::fs::read_dir(dir.join(translate::DIR))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.strip_suffix(".xlf").map(str::to_string)
        })
        .collect();
    files.sort();
    let mut out = Vec::new();
    for lang in files {
        let rel = translate::file_for(&lang);
        let Some((_, _, units)) = read(dir, &rel, diags) else {
            continue;
        };
        let map = by_name(&units);
        let mut c = Coverage {
            language: lang.clone(),
            file: rel,
            units: 0,
            translated: 0,
            stale: 0,
        };
        translate::visit(raw, &mut |u| {
            c.units += 1;
            match map.get(u.id.as_str()).map(|t| t.status(u.text.get_ref())) {
                Some(Status::Translated(_)) => c.translated += 1,
                Some(Status::Stale) => c.stale += 1,
                _ => {}
            }
        });
        out.push(c);
    }
    out
}

/// What `translate extract` wrote.
#[derive(Debug)]
pub struct Extracted {
    /// Where the file goes, and its text.
    pub path: PathBuf,
    pub xml: String,
    /// Units in the file, of them newly added, and those whose source
    /// changed (their translations kept and marked for review).
    pub units: usize,
    pub added: usize,
    pub changed: usize,
    /// Units of the old file no longer in the course, dropped.
    pub dropped: usize,
}

/// The translation file for `lang`, with every unit the course (or the
/// variant) shows: new units added with no target, units already there
/// kept with their targets and `state` as the translator's tool wrote them,
/// a unit whose source changed given the new source and hash and
/// `state="needs-review-translation"`. Units of the course the variant does
/// not show are kept as they are; units of text no longer in the course
/// are dropped.
pub(super) fn extract(
    dir: &Path,
    lang: &str,
    raw: &mut RawCourse,
    overlay: Option<&Overlay>,
    toml_text: &str,
    diags: &mut Diagnostics,
) -> Extracted {
    let rel = translate::file_for(lang);
    let existing = read(dir, &rel, diags)
        .map(|(_, _, u)| u)
        .unwrap_or_default();
    let map = by_name(&existing);
    let source_lang = raw
        .course
        .language
        .as_ref()
        .map_or("en".to_string(), |l| l.get_ref().clone());
    let mut out = Vec::new();
    let (mut added, mut changed) = (0, 0);
    translate::visit(raw, &mut |u| {
        let source = u.text.get_ref().clone();
        let hash = translate::hash(&source);
        let old = map.get(u.id.as_str());
        let shown = overlay.is_none_or(|o| o.shows(&u.id, u.session.as_deref()));
        if !shown && old.is_none() {
            return;
        }
        if !shown && let Some(old) = old {
            // Kept as it was: this variant does not show it.
            out.push(OutUnit {
                id: u.id.clone(),
                source: old.source.clone().unwrap_or(source),
                note: note(toml_text, &u),
                hash: old.hash.clone().unwrap_or(hash),
                target: old.target.clone().map(|t| (t, old.state.clone())),
            });
            return;
        }
        let target = match old {
            None => {
                added += 1;
                None
            }
            Some(t) => {
                let same = t.hash.as_deref() == Some(hash.as_str());
                match &t.target {
                    Some(target) if !same && !target.trim().is_empty() => {
                        changed += 1;
                        Some((target.clone(), Some("needs-review-translation".to_string())))
                    }
                    Some(target) => Some((target.clone(), t.state.clone())),
                    None => None,
                }
            }
        };
        out.push(OutUnit {
            id: u.id.clone(),
            source,
            note: note(toml_text, &u),
            hash,
            target,
        });
    });
    let kept: std::collections::HashSet<&str> = out.iter().map(|u| u.id.as_str()).collect();
    let dropped = existing
        .iter()
        .filter(|t| !t.names.iter().any(|n| kept.contains(n.as_str())))
        .count();
    let xml = translate::write(&source_lang, lang, &out);
    Extracted {
        path: dir.join(&rel),
        xml,
        units: out.len(),
        added,
        changed,
        dropped,
    }
}

/// Where a unit appears: `course.toml:LINE:COL: session `x`, title`.
fn note(toml_text: &str, u: &translate::Unit<'_>) -> String {
    let (line, col) = crate::diagnostic::line_col(toml_text, u.text.span().start);
    format!("course.toml:{line}:{col}: {}", u.place)
}
