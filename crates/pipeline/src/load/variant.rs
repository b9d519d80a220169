//! Variants: `variants/<name>.toml`, an overlay on the course for one
//! institution (its branding, people, title, language, sessions…). The
//! file is read and mapped like course.toml (unknown keys, wrong types and
//! syntax errors at `variants/<name>.toml:LINE:COL`), then checked with a
//! [`Checker`] of its own pointed at it, and laid over the checked course.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use toml::Spanned;

use super::{Checker, MAX_SUGGESTIONS};
use crate::config::VariantFile;
use crate::course_fs;
use crate::diagnostic::{Diagnostic, Diagnostics, LineIndex, suggest};
use crate::model::{Course, Sco, Split};

/// The folder of a course's variants.
pub const DIR: &str = "variants";

/// A variant's file, read and mapped.
pub(super) struct Overlay {
    pub name: String,
    pub path: PathBuf,
    pub text: Arc<str>,
    pub raw: VariantFile,
}

impl Overlay {
    /// The language it sets, when it sets a valid one.
    pub fn language(&self) -> Option<&str> {
        self.raw
            .course
            .language
            .as_ref()
            .map(|l| l.get_ref().as_str())
            .filter(|l| super::course::is_language_tag(l))
    }

    /// Whether a translatable unit of the course is shown in this variant:
    /// not replaced by the variant's own text, not in a session it leaves out.
    pub fn shows(&self, unit_id: &str, session: Option<&str>) -> bool {
        let c = &self.raw.course;
        let replaced = (unit_id == "course.title" && c.title.is_some())
            || (unit_id == "course.summary" && c.summary.is_some())
            || (unit_id.starts_with("people.") && self.raw.people.is_some())
            || (unit_id.starts_with("partners.") && self.raw.partners.is_some());
        let left_out = match (session, &c.sessions) {
            (Some(s), Some(list)) => !list.get_ref().iter().any(|l| l.get_ref() == s),
            _ => false,
        };
        !replaced && !left_out
    }
}

/// The variants of the course in `dir`: the names of `variants/*.toml`, sorted.
pub fn variants(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir.join(DIR))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.strip_suffix(".toml").map(str::to_string)
        })
        .collect();
    names.sort();
    names
}

/// Reads and maps `variants/<name>.toml`; `None` when it cannot be used
/// (the problems are in `diags`).
pub(super) fn read(dir: &Path, name: &str, diags: &mut Diagnostics) -> Option<Overlay> {
    let rel = format!("{DIR}/{name}.toml");
    let path = dir.join(&rel);
    if !super::values::spelled_as_id(name, super::MAX_NAME_PART, false) {
        diags.push(
            Diagnostic::error(format!("`{name}` is not a valid variant name"))
                .at(&path, None)
                .help("name the file with lower-case letters, digits and `-`, starting with a letter (64 characters at most), e.g. `variants/cardiff.toml`; the name is part of the packages' names and identifiers"),
        );
        return None;
    }
    let text = match super::files::read_text(dir, &rel, course_fs::COURSE_TOML_LIMIT, diags) {
        Ok(Some(text)) => text,
        Ok(None) => {
            let known = variants(dir);
            let names: Vec<&str> = known.iter().map(String::as_str).collect();
            let help = if names.is_empty() {
                format!(
                    "the course has no variants; create {rel} (`coursepack init --variant {name} DIR`)"
                )
            } else {
                suggest(name, &names, "the course's variants are")
            };
            diags.push(
                Diagnostic::error(format!("the course has no variant `{name}` ({rel})")).help(help),
            );
            return None;
        }
        Err(()) => return None,
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text).to_string();
    let shared: Arc<str> = text.clone().into();
    let mut found = Diagnostics::default();
    let raw = super::toml_tree::parse_variant(&text, &path, &mut found);
    let failed = found.has_errors();
    diags.items.extend(
        found
            .items
            .into_iter()
            .map(|d| d.with_source(shared.clone())),
    );
    if failed {
        return None;
    }
    Some(Overlay {
        name: name.to_string(),
        path,
        text: shared,
        raw: raw?,
    })
}

/// Checks the overlay and lays it over `course`; problems go to `diags`,
/// each pointing into the variant's file.
pub(super) fn apply(overlay: Overlay, course: &mut Course, diags: &mut Diagnostics) {
    let mut found = Diagnostics::default();
    let root = course.root.clone();
    let mut checker = Checker {
        root: &root,
        toml: &overlay.path,
        diags: &mut found,
        ids: Default::default(),
        lines: LineIndex::new(&overlay.text),
        suggestions: MAX_SUGGESTIONS,
    };
    checker.overlay(&overlay.raw, course);
    course.variant = Some(overlay.name.clone());
    diags.items.extend(
        found
            .items
            .into_iter()
            .map(|d| d.with_source(overlay.text.clone())),
    );
}

impl Checker<'_> {
    fn overlay(&mut self, v: &VariantFile, course: &mut Course) {
        let c = &v.course;
        if let Some(t) = &c.title {
            course.title = self.non_empty(t, "course title");
        }
        if let Some(s) = &c.summary {
            course.summary = Some(s.get_ref().clone());
            self.overview_files(s, course);
        }
        if let Some(l) = &c.language {
            if !super::course::is_language_tag(l.get_ref()) {
                self.error(
                    l.span(),
                    format!("`{}` is not a language tag", l.get_ref()),
                    "use a BCP 47 tag such as `en`, `en-GB` or `cy`",
                );
            } else {
                // The variant's pages speak its language.
                course.interface = self.interface(l.get_ref(), Some(l.span()));
            }
            course.language = l.get_ref().clone();
        }
        if let Some(l) = &c.licence {
            course.licence = Some(l.get_ref().clone());
        }
        if let Some(s) = &c.overview_start {
            course.overview_start = Some(s.get_ref().clone());
            self.overview_files(s, course);
        }
        if let Some(s) = &c.overview_end {
            course.overview_end = Some(s.get_ref().clone());
            self.overview_files(s, course);
        }
        if let Some(people) = &v.people {
            course.people = people.iter().map(|p| self.person(p)).collect();
            for bio in people.iter().filter_map(|p| p.bio.as_ref()) {
                self.overview_files(bio, course);
            }
        }
        if let Some(partners) = &v.partners {
            course.partners = partners.iter().map(|p| self.partner(p)).collect();
        }
        if let Some(b) = &v.branding {
            let checked = self.branding(b);
            if b.institution.is_some() {
                course.branding.institution = checked.institution;
            }
            if b.logo.is_some() {
                course.branding.logo = checked.logo;
            }
            if b.primary_colour.is_some() {
                course.branding.primary_colour = checked.primary_colour;
            }
        }
        if let Some(p) = &v.packaging {
            if let Some(s) = &p.split {
                match s.get_ref().as_str() {
                    "course" => course.split = Split::Course,
                    "session" => course.split = Split::Session,
                    other => {
                        let help = suggest(other, &["course", "session"], "use one of");
                        self.error(s.span(), format!("unknown packaging split `{other}`"), help);
                    }
                }
            }
            if let Some(s) = &p.sco {
                match s.get_ref().as_str() {
                    "session" => course.sco = Some(Sco::Session),
                    "course" => course.sco = Some(Sco::Course),
                    other => {
                        let help = suggest(other, &["session", "course"], "use one of");
                        self.error(s.span(), format!("unknown packaging sco `{other}`"), help);
                    }
                }
            }
            if let Some(targets) = &p.targets {
                let known = crate::package::names_of_all();
                for t in targets.get_ref() {
                    let name = t.get_ref().to_ascii_lowercase();
                    if known.contains(&name.as_str()) {
                        if !course.default_targets.contains(&name) {
                            course.default_targets.push(name);
                        }
                    } else {
                        let help = suggest(t.get_ref(), &known, "the targets are");
                        self.error(t.span(), format!("unknown target `{}`", t.get_ref()), help);
                    }
                }
                if targets.get_ref().is_empty() {
                    self.error(
                        targets.span(),
                        "`targets` is empty",
                        "list at least one target, or remove `targets` to build every one",
                    );
                }
            }
        }
        if let Some(list) = &c.sessions {
            self.included_sessions(list, course);
        }
    }

    /// Local files the variant's overview Markdown shows or links to.
    fn overview_files(&mut self, text: &Spanned<String>, course: &mut Course) {
        for image in self.markdown(text.get_ref(), text.span()) {
            if !course.images.contains(&image) {
                course.images.push(image);
            }
        }
    }

    /// Keeps the sessions `list` names, in the course's order.
    fn included_sessions(&mut self, spanned: &Spanned<Vec<Spanned<String>>>, course: &mut Course) {
        let list = spanned.get_ref();
        let known: Vec<String> = course.sessions.iter().map(|s| s.id.clone()).collect();
        let names: Vec<&str> = known.iter().map(String::as_str).collect();
        let mut seen: Vec<&str> = Vec::new();
        for s in list {
            let id = s.get_ref().as_str();
            if !known.iter().any(|k| k == id) {
                let help = if self.suggestions > 0 {
                    self.suggestions -= 1;
                    suggest(id, &names, "the course's sessions are")
                } else {
                    "list session ids of course.toml".to_string()
                };
                self.error(s.span(), format!("the course has no session `{id}`"), help);
            } else if seen.contains(&id) {
                self.error(
                    s.span(),
                    format!("session `{id}` is listed twice"),
                    "list each session once",
                );
            }
            seen.push(id);
        }
        if list.is_empty() {
            self.error(
                spanned.span(),
                "`sessions` is empty: the variant would have no session",
                "list the ids of the sessions to include, or remove `sessions` to include them all",
            );
        }
        course
            .sessions
            .retain(|s| list.iter().any(|l| *l.get_ref() == s.id));
    }
}
