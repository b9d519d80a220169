//! Reads a course folder and builds the validated [`Course`] model.
//!
//! Every problem is collected, not just the first: syntax errors, unknown
//! keys (all of them, with "did you mean"), bad ids, duplicate ids, broken
//! references, unsafe or missing paths and unsupported media. Each one points
//! at `course.toml:LINE:COL`.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Component, Path, PathBuf};

use toml::Spanned;
use toml::de::{DeTable, DeValue};

mod quiz;

use crate::config::{BlockTable, CourseFile as RawCourse, SessionTable};
use crate::diagnostic::{Diagnostic, Diagnostics, did_you_mean, suggest};
use crate::model::*;

/// The file a course folder must contain.
pub const COURSE_FILE: &str = "course.toml";
/// Default share of a video that counts as watched.
pub const DEFAULT_VIDEO_PERCENT: u32 = 90;
/// Default longest answer kept for a reflection, in characters.
pub const DEFAULT_MAX_CHARS: u32 = 1000;
/// SCORM 1.2's limit on `cmi.suspend_data`.
pub const SCORM12_SUSPEND_LIMIT: u32 = 4096;
/// Default primary colour (contrast 6.4:1 on white).
pub const DEFAULT_COLOUR: &str = "#1d5fa8";

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
    let bytes = match std::fs::read(&toml_path) {
        Ok(b) => b,
        Err(e) => {
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
                Diagnostic::error(format!("cannot read {}: {e}", toml_path.display())).help(help),
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
        source: &text,
        diags: &mut checked,
        ids: BTreeMap::new(),
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
    let mut placeholders = Vec::new();
    // Misspelt keys removed so far: (span of their table, the key suggested).
    let mut misspelt: Vec<(Range<usize>, String)> = Vec::new();
    for _ in 0..1000 {
        let de = toml::de::Deserializer::from(table.clone());
        let e: toml::de::Error = match serde::Deserialize::deserialize(de) {
            Ok(raw) => return (Some(raw), placeholders),
            Err(e) => e,
        };
        let message = e.message().trim().to_string();
        let Some(span) = e.span() else {
            diags.push(Diagnostic::error(message).at(path, None));
            return (None, placeholders);
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
            // A misspelt key in this table already said "did you mean `key`?".
            let told = misspelt.iter().any(|(t, k)| *t == span && *k == key);
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
                placeholders.push(span);
                continue;
            }
        } else {
            diags.push(Diagnostic::error(message).at(path, Some(span)).help(
                "check the value's type and spelling against the annotated course.toml in the README",
            ));
        }
        return (None, placeholders);
    }
    (None, placeholders)
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
    /// The text of `toml`.
    source: &'a str,
    diags: &'a mut Diagnostics,
    /// Every block and session id seen, with the line it was first defined on.
    ids: BTreeMap<String, usize>,
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

    fn templates_dir(&mut self, configured: Option<&Spanned<String>>) -> Option<PathBuf> {
        match configured {
            Some(dir) => {
                let rel = self.safe_relative(dir)?;
                let path = self.root.join(&rel);
                if !path.is_dir() {
                    self.error(
                        dir.span(),
                        format!("templates folder `{}` does not exist", dir.get_ref()),
                        "create it, or remove `templates` to use the default templates",
                    );
                    return None;
                }
                Some(path)
            }
            None => {
                let path = self.root.join("templates");
                path.is_dir().then_some(path)
            }
        }
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
                let mut out = Vec::new();
                for r in list {
                    match blocks.iter().find(|b| b.id == *r.get_ref()) {
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
                            let names: Vec<&str> = blocks
                                .iter()
                                .filter(|b| b.is_trackable())
                                .map(|b| b.id.as_str())
                                .collect();
                            let help = suggest(
                                r.get_ref(),
                                &names,
                                &format!("the blocks of session `{id}` are"),
                            );
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
                    let ok = std::fs::read(&c.path)
                        .map(|bytes| {
                            bytes
                                .strip_prefix(b"\xEF\xBB\xBF")
                                .unwrap_or(&bytes)
                                .starts_with(b"WEBVTT")
                        })
                        .unwrap_or(false);
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
        let ok = v.len() <= 64
            && v.starts_with(|c: char| c.is_ascii_lowercase())
            && v.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !ok {
            self.error(id.span(), format!("`{v}` is not a valid {what} id"), "use lower-case letters, digits and `-`, starting with a letter (64 characters at most)");
        } else if what != "course" {
            if let Some(&line) = self.ids.get(v) {
                self.error(
                    id.span(),
                    format!("duplicate id `{v}`"),
                    format!("it is already used on line {line}; ids must be unique in the course"),
                );
            } else {
                let (line, _) = crate::diagnostic::line_col(self.source, id.span().start);
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
        match std::fs::metadata(&path) {
            Err(_) => {
                let hint = match path.parent().and_then(|p| std::fs::read_dir(p).ok()) {
                    Some(entries) => {
                        let names: Vec<String> = entries
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
            Ok(meta) if !meta.is_file() => {
                self.error(
                    value.span(),
                    format!("`{rel}` is not a file"),
                    "point at a file, not a folder",
                );
                return None;
            }
            Ok(_) => {}
        }
        // A symlink may lead outside the course folder: compare real paths.
        let inside = match (path.canonicalize(), self.root.canonicalize()) {
            (Ok(real), Ok(root)) => real.starts_with(root),
            _ => false,
        };
        if !inside {
            self.error(
                value.span(),
                format!("`{rel}` is a link to a file outside the course folder"),
                "copy the file into the course folder",
            );
            return None;
        }
        Some(CourseFile { rel, path })
    }

    /// The local images a Markdown text shows, each checked like any file
    /// (problems point at `span`, the text's place in course.toml).
    fn images(&mut self, text: &str, span: Range<usize>) -> Vec<CourseFile> {
        use pulldown_cmark::{Event, Parser, Tag};
        let mut found: Vec<CourseFile> = Vec::new();
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
            if !found.iter().any(|f| f.rel == path) {
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
        match std::fs::read(&path) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => Some(text),
                Err(_) => {
                    self.error(
                        value.span(),
                        format!("transcript `{rel}` is not UTF-8 text"),
                        "save it as UTF-8",
                    );
                    None
                }
            },
            Err(_) => {
                self.error(
                    value.span(),
                    format!("transcript file `{rel}` does not exist"),
                    format!("put it at {}", path.display()),
                );
                None
            }
        }
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
