//! Checks the course table, its branding and packaging, and its sessions,
//! and builds the [`Course`] and its [`Session`]s from them.
//!
//! Both suspend_data budget checks are here: the one for a session, in
//! [`Checker::session`], and the one for the whole course as one SCO, in
//! [`Checker::course`].

use std::collections::HashMap;

use toml::Spanned;

use super::{Checker, DEFAULT_COLOUR, DEFAULT_VIDEO_PERCENT, MAX_NAME_PART};
use crate::config::{
    BrandingTable, CourseFile as RawCourse, PartnerTable, PersonTable, SessionTable,
};
use crate::contract::{
    SCORM12_SUSPEND_LIMIT, course_suspend_data_worst_case, suspend_data_worst_case,
};
use crate::diagnostic::{Diagnostic, suggest};
use crate::locale;
use crate::model::{
    Block, BlockKind, Branding, Completion, Course, Partner, Person, Sco, Session, Split,
};

impl Checker<'_> {
    pub(super) fn course(&mut self, raw: RawCourse) -> Option<Course> {
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
        // A tag that is not one has its error already; its pages are in English.
        let interface = if is_language_tag(&language) {
            self.interface(&language, c.language.as_ref().map(|l| l.span()))
        } else {
            std::sync::Arc::new(locale::Catalogue::english())
        };
        let templates = self.templates_dir(c.templates.as_ref());

        let people = raw.people.iter().map(|p| self.person(p)).collect();
        let partners = raw.partners.iter().map(|p| self.partner(p)).collect();
        let branding = self.branding(&raw.branding);
        // Images in the overview's own Markdown: the summary and the bios.
        let mut images = Vec::new();
        for text in c
            .summary
            .iter()
            .chain(raw.people.iter().filter_map(|p| p.bio.as_ref()))
        {
            for image in self.markdown(text.get_ref(), text.span()) {
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

        // An address of the author's, its trailing `/` dropped (the ids add their own).
        let iri_base = raw
            .packaging
            .iri_base
            .as_ref()
            .and_then(|u| self.url(u, false))
            .map(|u| u.trim_end_matches('/').to_string());

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
            let worst = course_suspend_data_worst_case(&sessions);
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
            interface,
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
            iri_base,
            before,
            sessions,
            after,
            images,
            templates,
            variant: None,
            overview_start: None,
            overview_end: None,
            default_targets: Vec::new(),
        })
    }

    /// A `[[people]]` entry (the course's or a variant's).
    pub(super) fn person(&mut self, p: &PersonTable) -> Person {
        Person {
            name: self.non_empty(&p.name, "person's name"),
            role: p.role.as_ref().map(|r| r.get_ref().clone()),
            bio: p.bio.as_ref().map(|b| b.get_ref().clone()),
        }
    }

    /// A `[[partners]]` entry (the course's or a variant's).
    pub(super) fn partner(&mut self, p: &PartnerTable) -> Partner {
        Partner {
            name: self.non_empty(&p.name, "partner's name"),
            relation: p.relation.as_ref().map(|r| r.get_ref().clone()),
            url: p.url.as_ref().and_then(|u| self.url(u, false)),
        }
    }

    pub(super) fn branding(&mut self, b: &BrandingTable) -> Branding {
        let logo = b
            .logo
            .as_ref()
            .and_then(|l| self.file(l, &["png", "jpg", "jpeg", "svg", "webp"]));
        let primary_colour = match &b.primary_colour {
            Some(c) => {
                let given = c.get_ref();
                match colour(given) {
                    Ok(v) => {
                        if contrast_on_white(&v) < 4.5 {
                            self.warn(c.span(), format!("`{given}` has a contrast of {:.1}:1 on white; links and buttons need 4.5:1", contrast_on_white(&v)), "choose a darker colour");
                        }
                        v
                    }
                    Err(help) => {
                        self.error(c.span(), format!("`{given}` is not a colour"), help);
                        given.to_ascii_lowercase()
                    }
                }
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
                                "block `{}` is {}; a learner cannot complete it",
                                r.get_ref(),
                                if matches!(b.kind, BlockKind::Image { .. }) {
                                    "an image"
                                } else {
                                    "text"
                                }
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
        // With nothing required, the runtime counts a session done when it
        // is opened: as meant for a session of text, a slip for one with
        // blocks a learner could be asked to complete.
        if required.is_empty() && listed.is_none_or(|l| l.is_empty()) {
            if blocks.iter().any(|b| b.is_trackable()) {
                self.warn(
                    s.id.span(),
                    format!("session `{id}` is done as soon as it is opened: none of its blocks is required"),
                    "mark a block `required = true`, or list blocks in `[session.completion] require`",
                );
            } else if blocks.is_empty() {
                self.warn(
                    s.id.span(),
                    format!("session `{id}` has no blocks: it is done as soon as it is opened"),
                    "add `[[session.block]]` tables to it, or remove it",
                );
            }
        }
        let images = match &s.intro {
            Some(intro) => self.markdown(intro.get_ref(), intro.span()),
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
        let worst = suspend_data_worst_case(&session);
        if worst > SCORM12_SUSPEND_LIMIT as usize {
            self.warn(s.id.span(), format!("session `{}` may need {worst} characters of suspend_data; SCORM 1.2 keeps 4096", session.id), "lower `max_chars` on its reflections; under SCORM 1.2 long answers are shortened in the LMS and kept whole in the browser");
        }
        Some(session)
    }
}

impl Checker<'_> {
    /// The learner interface's catalogue for `language` (at `span` in
    /// course.toml, when the key is there): an error when there is none,
    /// a warning for each entry a course's own catalogue leaves to English.
    pub(super) fn interface(
        &mut self,
        language: &str,
        span: Option<std::ops::Range<usize>>,
    ) -> std::sync::Arc<locale::Catalogue> {
        match locale::load(language, Some(self.root)) {
            Ok(loaded) => {
                let catalogue = loaded.catalogue.expect("a catalogue when loading succeeds");
                for key in &loaded.missing {
                    let file = format!("{}/{}.toml", locale::COURSE_DIR, catalogue.chosen);
                    self.diags.push(
                        Diagnostic::warning(format!(
                            "the interface entry `{key}` is not in {file}; it is shown in English"
                        ))
                        .at(&self.root.join(&file), None)
                        .help(format!("add `{key}` to {file}")),
                    );
                }
                std::sync::Arc::new(catalogue)
            }
            Err(locale::Problem::NoCatalogue { available, .. }) => {
                let list: Vec<String> = available.iter().map(|t| format!("`{t}`")).collect();
                self.error(
                    span.unwrap_or(0..0),
                    format!("there is no catalogue of interface words for the language `{language}`"),
                    format!(
                        "the languages available are {}; or add your own as {}/<language>.toml beside course.toml",
                        list.join(", "),
                        locale::COURSE_DIR
                    ),
                );
                std::sync::Arc::new(locale::Catalogue::english())
            }
            Err(locale::Problem::BadFile { path, message }) => {
                self.diags.push(
                    Diagnostic::error(format!("the interface catalogue is not valid: {message}"))
                        .at(&path, None)
                        .help("an entry is a text, or a table of plural forms (zero, one, two, few, many, other)"),
                );
                std::sync::Arc::new(locale::Catalogue::english())
            }
        }
    }
}

pub(super) fn is_language_tag(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let first = parts.next().unwrap_or("");
    (2..=3).contains(&first.len())
        && first.chars().all(|c| c.is_ascii_alphabetic())
        && parts.all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// A colour as `#rrggbb` in lower case, from `#rrggbb` or the short
/// `#rgb`; or the help for what was written instead.
pub(super) fn colour(given: &str) -> Result<String, String> {
    let hex = |s: &str| !s.is_empty() && s.chars().all(|ch| ch.is_ascii_hexdigit());
    match given.strip_prefix('#') {
        Some(h) if h.len() == 6 && hex(h) => Ok(given.to_ascii_lowercase()),
        Some(h) if h.len() == 3 && hex(h) => {
            let mut long = String::from("#");
            for ch in h.chars() {
                long.push(ch);
                long.push(ch);
            }
            Ok(long.to_ascii_lowercase())
        }
        None if (given.len() == 6 || given.len() == 3) && hex(given) => Err(format!(
            "write it with a `#`: `#{}`",
            given.to_ascii_lowercase()
        )),
        _ => Err("write it as `#rrggbb` or `#rgb`, e.g. `#1d5fa8`".to_string()),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_long_short_and_without_hash() {
        assert_eq!(colour("#1D5FA8").unwrap(), "#1d5fa8");
        assert_eq!(colour("#FfF").unwrap(), "#ffffff");
        assert_eq!(
            colour("1d5fa8").unwrap_err(),
            "write it with a `#`: `#1d5fa8`"
        );
        assert_eq!(colour("abc").unwrap_err(), "write it with a `#`: `#abc`");
        for bad in ["#12345", "#ggg", "blue", "", "#"] {
            assert!(
                colour(bad).unwrap_err().contains("`#rrggbb` or `#rgb`"),
                "{bad}"
            );
        }
    }

    #[test]
    fn language_tags() {
        assert!(is_language_tag("en"));
        assert!(is_language_tag("en-GB"));
        assert!(!is_language_tag("english language"));
        assert!(!is_language_tag("e"));
    }

    #[test]
    fn contrast() {
        assert!((contrast_on_white("#000000") - 21.0).abs() < 0.01);
        assert!(contrast_on_white(DEFAULT_COLOUR) >= 4.5);
        assert!(contrast_on_white("#ffff00") < 4.5);
    }
}
