//! What templates see: a serialisable view made for the pages, with every
//! key always present (strict mode fails on a misspelt variable, not on an
//! absent optional value, which is `null`).

use serde::Serialize;

use crate::contract::{
    CourseIsland, OverviewIsland, SessionIsland, script_safe_json, session_page,
};
use crate::markdown::{render as md, render_inline};
use crate::model::{
    Block, BlockKind, Choice, Course, QuestionKind, Quiz, ReadingKind, Session, Split, VideoSource,
};

#[derive(Serialize)]
pub struct PageView {
    pub course: CourseView,
    /// `overview` or `session`.
    pub page_kind: &'static str,
    /// The header names the course (not on the overview, whose heading does).
    pub show_course_title: bool,
    /// `<title>` of the page.
    pub page_title: String,
    pub sessions: Vec<SessionLink>,
    /// The session of a session page; `null` on the overview.
    pub session: Option<SessionView>,
    /// Links to the other pages work only when every session is in the same package.
    pub linked: bool,
    /// The page is driven by the runtime (SCORM, LTI); `false` for the static
    /// variant that Common Cartridge importers turn into LMS pages.
    pub interactive: bool,
    /// The island #cp-strings: the runtime's words in the course's language.
    pub runtime_strings: Option<String>,
    pub generator: &'static str,
    /// The course player's JSON island (on the player page only).
    pub player_json: Option<String>,
    /// The overview's JSON island: each session's state shown beside it.
    pub overview_json: Option<String>,
    /// The page where the learner starts: the first session's page, when
    /// the overview can link to it.
    pub start_href: Option<String>,
}

#[derive(Serialize)]
pub struct CourseView {
    pub id: String,
    pub title: String,
    pub version: String,
    pub language: String,
    /// Whether the language is written right to left (`dir="rtl"`).
    pub rtl: bool,
    pub summary_html: Option<String>,
    /// A variant's Markdown at the start and at the end of the overview.
    pub overview_start_html: Option<String>,
    pub overview_end_html: Option<String>,
    pub goals: Vec<String>,
    pub licence: Option<String>,
    pub estimated_minutes: u32,
    /// "about 1 hour 30 minutes", "5 minutes": the estimated time in words.
    pub estimated_label: String,
    /// How many sessions the course has, in words: "1 session", "4 sessions".
    pub sessions_label: String,
    pub people: Vec<PersonView>,
    pub partners: Vec<PartnerView>,
    pub institution: Option<String>,
    pub logo: Option<String>,
    pub primary_colour: String,
    pub before: Vec<BlockView>,
    pub after: Vec<BlockView>,
}

#[derive(Serialize)]
pub struct PersonView {
    pub name: String,
    pub role: Option<String>,
    pub bio_html: Option<String>,
}

#[derive(Serialize)]
pub struct PartnerView {
    pub name: String,
    pub relation: Option<String>,
    pub url: Option<String>,
}

#[derive(Serialize)]
pub struct SessionLink {
    pub id: String,
    pub number: usize,
    pub title: String,
    pub href: String,
    pub minutes: u32,
    /// `minutes` in words: "1 minute", "12 minutes".
    pub minutes_label: String,
    pub current: bool,
}

#[derive(Serialize)]
pub struct SessionView {
    pub id: String,
    pub number: usize,
    pub title: String,
    pub intro_html: Option<String>,
    pub goals: Vec<String>,
    pub blocks: Vec<BlockView>,
    pub required_count: usize,
    /// `required_count` in words: "1 step", "3 steps".
    pub steps_label: String,
    /// How many required steps.
    pub steps: usize,
    /// How many sessions the course has.
    pub of: usize,
    /// The course's last session.
    pub is_last: bool,
    pub previous: Option<SessionLink>,
    pub next: Option<SessionLink>,
    /// The JSON island the runtime reads (already safe inside `<script>`).
    pub data_json: String,
}

#[derive(Serialize)]
pub struct BlockView {
    pub id: String,
    pub kind: &'static str,
    pub is_text: bool,
    pub is_video: bool,
    pub is_reading: bool,
    pub is_activity: bool,
    pub is_reflection: bool,
    pub is_audio: bool,
    pub is_image: bool,
    pub is_download: bool,
    pub title: Option<String>,
    pub required: bool,
    pub body_html: Option<String>,
    pub minutes: Option<u32>,
    /// `minutes` in words: "1 minute", "12 minutes".
    pub minutes_label: Option<String>,
    pub video: Option<VideoFileView>,
    /// An audio block's file.
    pub audio: Option<VideoFileView>,
    pub image: Option<ImageView>,
    pub download: Option<DownloadView>,
    pub captions: Option<CaptionsView>,
    pub embed: Option<String>,
    pub transcript_html: Option<String>,
    pub reading_kind: Option<String>,
    pub verb: Option<String>,
    pub url: Option<String>,
    pub question: Option<String>,
    pub max_chars: Option<u32>,
    /// On a session page, where the runtime tracks it (not on the overview).
    pub tracked: bool,
    /// The learner ticks a box to mark it done (no automatic tracking).
    pub self_marked: bool,
    /// The label of that box, e.g. "I have listened to this".
    pub done_label: String,
    /// A form control id, unique on the page.
    pub input_id: String,
    /// See [`PageView::interactive`].
    pub interactive: bool,
    /// Static pages: the title of the discussion topic where a reflection
    /// question is answered, when the cartridge has one.
    pub discussion: Option<String>,
    /// Static pages: the title of the quiz a knowledge check becomes in
    /// the cartridge, when it has one.
    pub assessment: Option<String>,
    pub is_quiz: bool,
    pub quiz: Option<QuizView>,
}

#[derive(Serialize)]
pub struct QuizView {
    pub questions: Vec<QuestionView>,
    /// Questions each attempt shows (all, or the draw).
    pub size: usize,
    /// `size` in words: "1 question", "4 questions".
    pub size_label: String,
    pub attempts: Option<u32>,
    /// `attempts` in words: "1 attempt", "3 attempts".
    pub attempts_label: Option<String>,
}

#[derive(Serialize)]
pub struct QuestionView {
    pub id: String,
    pub kind: &'static str,
    pub is_text: bool,
    /// `radio` or `checkbox` for choice questions.
    pub input_type: &'static str,
    /// Name of the question's form controls, unique on the page.
    pub input_name: String,
    /// The text box of a `text` question.
    pub input_id: String,
    pub prompt_html: String,
    pub explanation_html: Option<String>,
    pub options: Vec<OptionView>,
}

#[derive(Serialize)]
pub struct OptionView {
    pub id: String,
    pub input_id: String,
    pub text_html: String,
    pub feedback_html: Option<String>,
}

#[derive(Serialize)]
pub struct VideoFileView {
    pub src: String,
    pub mime: &'static str,
}

#[derive(Serialize)]
pub struct ImageView {
    pub src: String,
    /// Empty for a decorative image.
    pub alt: String,
    pub caption_html: Option<String>,
}

#[derive(Serialize)]
pub struct DownloadView {
    pub href: String,
    /// The file's name, e.g. `worksheet.pdf`.
    pub name: String,
    /// What sort of file, e.g. `PDF`.
    pub type_label: String,
    /// Its size, e.g. `48 kB`.
    pub size_label: String,
}

/// `n` and a noun, with the noun's plural when `n` is not 1.
#[cfg(test)]
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `n` and a noun from the interface catalogue's plural entry `key`.
fn tr(cat: &crate::locale::Catalogue, key: &str, n: usize) -> String {
    cat.get(key, Some(n as u64), &[])
}

/// [`duration`] in the interface's language.
pub fn duration_in(cat: &crate::locale::Catalogue, minutes: u32) -> String {
    let (h, m) = (minutes / 60, minutes % 60);
    match (h, m) {
        (0, m) => tr(cat, "count.minutes", m as usize),
        (h, 0) => tr(cat, "count.hours", h as usize),
        (h, m) => format!(
            "{} {}",
            tr(cat, "count.hours", h as usize),
            tr(cat, "count.minutes", m as usize)
        ),
    }
}

/// A length of time in minutes, in English words: "1 minute", "45 minutes",
/// "1 hour", "2 hours 5 minutes".
#[cfg(test)]
pub fn duration(minutes: u32) -> String {
    let (h, m) = (minutes / 60, minutes % 60);
    match (h, m) {
        (0, m) => count(m as usize, "minute", "minutes"),
        (h, 0) => count(h as usize, "hour", "hours"),
        (h, m) => format!(
            "{} {}",
            count(h as usize, "hour", "hours"),
            count(m as usize, "minute", "minutes")
        ),
    }
}

/// A file size as people read it, in the interface's language: `812 bytes`,
/// `48 kB`, `3.2 MB` in English, `3,2 Mo` in French (powers of 1000; the
/// catalogue's `file.*` entries give the units and the decimal separator).
pub fn size(cat: &crate::locale::Catalogue, bytes: u64) -> String {
    let with = |key: &str, size: String| cat.get(key, None, &[("size", &size)]);
    match bytes {
        0..1000 => tr(cat, "file.bytes", bytes as usize),
        1000..1_000_000 => with("file.kilobytes", ((bytes + 500) / 1000).to_string()),
        _ => {
            let tenths = (bytes + 50_000) / 100_000;
            let number = if tenths >= 100 {
                ((tenths + 5) / 10).to_string()
            } else {
                let decimal = cat.get("file.decimal", None, &[]);
                format!("{}{decimal}{}", tenths / 10, tenths % 10)
            };
            with("file.megabytes", number)
        }
    }
}

/// What sort of file a download is, by its ending, in the interface's
/// language: `PDF`, `Word document`, … (the catalogue's `file.kind.*`); an
/// ending it does not know, in capitals (`XYZ`).
fn file_kind(cat: &crate::locale::Catalogue, rel: &str) -> String {
    let ending = rel
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let known = match ending.as_str() {
        "pdf" => "pdf",
        "doc" | "docx" => "word",
        "odt" => "odt",
        "rtf" => "rtf",
        "txt" | "md" => "text",
        "ppt" | "pptx" => "powerpoint",
        "odp" => "odp",
        "xls" | "xlsx" => "excel",
        "ods" => "ods",
        "csv" => "csv",
        "epub" => "epub",
        "zip" => "zip",
        "png" | "jpg" | "jpeg" | "svg" | "webp" | "gif" => "image",
        "mp3" | "m4a" => "audio",
        "mp4" | "webm" => "video",
        "vtt" => "captions",
        _ => "",
    };
    if known.is_empty() {
        ending.to_ascii_uppercase()
    } else {
        cat.get(&format!("file.kind.{known}"), None, &[])
    }
}

#[derive(Serialize)]
pub struct CaptionsView {
    pub src: String,
    pub srclang: String,
}

/// The island #cp-strings: `{"lang": tag, "s": {key: text or plural forms}}`
/// with the catalogue's `runtime.` entries.
pub fn runtime_strings(course: &Course) -> String {
    #[derive(Serialize)]
    struct Strings<'a> {
        lang: &'a str,
        s: std::collections::BTreeMap<&'a str, &'a crate::locale::Entry>,
    }
    script_safe_json(&Strings {
        lang: &course.language,
        s: course.interface.section("runtime."),
    })
}

/// The view of the course player page.
pub fn player(course: &Course) -> PageView {
    let mut view = page(course, None, Mode::Interactive);
    let data = CourseIsland::new(course);
    view.page_kind = "player";
    view.show_course_title = true;
    view.overview_json = None;
    // The header must not link away: the player page is the SCO.
    view.linked = false;
    view.player_json = Some(script_safe_json(&data));
    view
}

/// A session page's bar lists every session up to this many sessions.
const NAV_ALL_UP_TO: usize = 15;
/// Beyond that, the sessions this close to the page's own (and the first and last).
const NAV_NEIGHBOURS: usize = 5;

/// Which variant of the pages to render.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Tracked by the runtime, with form controls and links between pages.
    Interactive,
    /// Static HTML bodies for Common Cartridge: no script, form controls or
    /// links between pages (importers such as Moodle strip or break them).
    Static,
}

pub fn page(course: &Course, session_index: Option<usize>, mode: Mode) -> PageView {
    let interactive = mode == Mode::Interactive;
    let link = |i: usize, s: &Session| {
        let minutes = s
            .blocks
            .iter()
            .filter_map(|b| match b.kind {
                BlockKind::Video { minutes, .. } => minutes,
                _ => None,
            })
            .sum();
        SessionLink {
            id: s.id.clone(),
            number: i + 1,
            title: s.title.clone(),
            href: session_page(s),
            minutes,
            minutes_label: duration_in(&course.interface, minutes),
            current: Some(i) == session_index,
        }
    };
    // A session page's bar lists every session of a short course; in a long one, the first,
    // the last and those near it (every page listing every session would make a course's
    // pages grow with the square of its sessions).
    let total = course.sessions.len();
    let shown = |i: usize| match session_index {
        Some(c) if total > NAV_ALL_UP_TO => {
            i == 0 || i + 1 == total || i.abs_diff(c) <= NAV_NEIGHBOURS
        }
        _ => true,
    };
    let sessions: Vec<SessionLink> = course
        .sessions
        .iter()
        .enumerate()
        .filter(|(i, _)| shown(*i))
        .map(|(i, s)| link(i, s))
        .collect();
    let session = session_index.map(|i| {
        let s = &course.sessions[i];
        let data = SessionIsland::new(course, s);
        SessionView {
            id: s.id.clone(),
            number: i + 1,
            title: s.title.clone(),
            intro_html: s.intro.as_deref().map(md),
            goals: s.goals.iter().map(|g| render_inline(g)).collect(),
            blocks: s
                .blocks
                .iter()
                .map(|b| block(course, b, mode, true))
                .collect(),
            required_count: s.completion.required.len(),
            steps_label: tr(
                &course.interface,
                "count.steps",
                s.completion.required.len(),
            ),
            steps: s.completion.required.len(),
            of: total,
            is_last: i + 1 == total,
            previous: i.checked_sub(1).map(|p| link(p, &course.sessions[p])),
            next: course.sessions.get(i + 1).map(|n| link(i + 1, n)),
            data_json: script_safe_json(&data),
        }
    });
    PageView {
        page_title: match &session {
            Some(s) => format!("Session {}: {} – {}", s.number, s.title, course.title),
            None => course.title.clone(),
        },
        show_course_title: session.is_some(),
        page_kind: if session.is_some() {
            "session"
        } else {
            "overview"
        },
        course: CourseView {
            id: course.id.clone(),
            title: course.title.clone(),
            version: course.version.clone(),
            language: course.language.clone(),
            rtl: course.interface.rtl,
            summary_html: course.summary.as_deref().map(md),
            overview_start_html: course.overview_start.as_deref().map(md),
            overview_end_html: course.overview_end.as_deref().map(md),
            goals: course.goals.iter().map(|g| render_inline(g)).collect(),
            licence: course.licence.clone(),
            estimated_minutes: course.estimated_minutes,
            estimated_label: duration_in(&course.interface, course.estimated_minutes),
            sessions_label: tr(&course.interface, "count.sessions", course.sessions.len()),
            people: course
                .people
                .iter()
                .map(|p| PersonView {
                    name: p.name.clone(),
                    role: p.role.clone(),
                    bio_html: p.bio.as_deref().map(md),
                })
                .collect(),
            partners: course
                .partners
                .iter()
                .map(|p| PartnerView {
                    name: p.name.clone(),
                    relation: p.relation.clone(),
                    url: p.url.clone(),
                })
                .collect(),
            institution: course.branding.institution.clone(),
            logo: course
                .branding
                .logo
                .as_ref()
                .map(|l| crate::contract::href(&l.rel)),
            primary_colour: course.branding.primary_colour.clone(),
            before: course
                .before
                .iter()
                .map(|b| block(course, b, mode, false))
                .collect(),
            after: course
                .after
                .iter()
                .map(|b| block(course, b, mode, false))
                .collect(),
        },
        sessions,
        session,
        linked: interactive && course.split == Split::Course,
        interactive,
        runtime_strings: interactive.then(|| runtime_strings(course)),
        generator: concat!("coursepack ", env!("CARGO_PKG_VERSION")),
        player_json: None,
        overview_json: (session_index.is_none() && interactive)
            .then(|| script_safe_json(&OverviewIsland::new(course))),
        start_href: (interactive && course.split == Split::Course)
            .then(|| course.sessions.first().map(session_page))
            .flatten(),
    }
}

/// A block's view; `in_session` is false for the overview's before/after blocks.
fn block(course: &Course, b: &Block, mode: Mode, in_session: bool) -> BlockView {
    let interactive = mode == Mode::Interactive;
    let mut v = BlockView {
        id: b.id.clone(),
        kind: "text",
        is_text: false,
        is_video: false,
        is_reading: false,
        is_activity: false,
        is_reflection: false,
        is_audio: false,
        is_image: false,
        is_download: false,
        title: b.title.clone(),
        required: b.required,
        body_html: None,
        minutes: None,
        minutes_label: None,
        video: None,
        audio: None,
        image: None,
        download: None,
        captions: None,
        embed: None,
        transcript_html: None,
        reading_kind: None,
        verb: None,
        url: None,
        question: None,
        max_chars: None,
        // Only the runtime of an interactive session page tracks blocks.
        tracked: interactive && in_session,
        self_marked: false,
        done_label: course.interface.get("block.done.done_this", None, &[]),
        input_id: format!("input-{}", b.id),
        interactive,
        // The cartridge has a discussion topic for each session's reflections.
        discussion: (!interactive && in_session)
            .then(|| b.topic_title().map(str::to_string))
            .flatten(),
        // And a QTI quiz for each of its knowledge checks.
        assessment: (!interactive && in_session)
            .then(|| {
                b.assessment_title(&course.untitled_quiz())
                    .map(str::to_string)
            })
            .flatten(),
        is_quiz: false,
        quiz: None,
    };
    match &b.kind {
        BlockKind::Text { markdown } => {
            v.is_text = true;
            v.body_html = Some(md(markdown));
        }
        BlockKind::Video {
            minutes,
            source,
            captions,
            transcript,
            body,
        } => {
            v.kind = "video";
            v.is_video = true;
            v.minutes = *minutes;
            v.minutes_label = minutes.map(|m| duration_in(&course.interface, m));
            v.body_html = body.as_deref().map(md);
            v.transcript_html = transcript.as_deref().map(md);
            match source {
                VideoSource::File(f) => {
                    v.video = Some(VideoFileView {
                        src: crate::contract::href(&f.rel),
                        mime: f.mime(),
                    })
                }
                VideoSource::Embed(url) => {
                    v.embed = Some(url.clone());
                    v.self_marked = true;
                }
                // Nothing to watch: a box to tick only when the course still asks for it.
                VideoSource::Missing => v.self_marked = b.required,
            }
            v.done_label = course.interface.get("block.done.watched_video", None, &[]);
            v.captions = captions.as_ref().map(|c| CaptionsView {
                src: crate::contract::href(&c.rel),
                srclang: course.language.clone(),
            });
        }
        BlockKind::Audio {
            minutes,
            file,
            transcript,
            body,
        } => {
            v.kind = "audio";
            v.is_audio = true;
            v.minutes = *minutes;
            v.minutes_label = minutes.map(|m| duration_in(&course.interface, m));
            v.body_html = body.as_deref().map(md);
            v.transcript_html = transcript.as_deref().map(md);
            v.audio = Some(VideoFileView {
                src: crate::contract::href(&file.rel),
                mime: file.mime(),
            });
            v.done_label = course.interface.get("block.done.listened", None, &[]);
        }
        BlockKind::Image { file, alt, caption } => {
            v.kind = "image";
            v.is_image = true;
            v.image = Some(ImageView {
                src: crate::contract::href(&file.rel),
                alt: alt.clone(),
                caption_html: caption.as_deref().map(render_inline),
            });
        }
        BlockKind::Download { file, bytes, body } => {
            v.kind = "download";
            v.is_download = true;
            v.body_html = body.as_deref().map(md);
            v.download = Some(DownloadView {
                href: crate::contract::href(&file.rel),
                name: file.rel.rsplit('/').next().unwrap_or(&file.rel).to_string(),
                type_label: file_kind(&course.interface, &file.rel),
                size_label: size(&course.interface, *bytes),
            });
        }
        BlockKind::Reading { kind, url, body } => {
            v.kind = "reading";
            v.is_reading = true;
            let ui = |key: String| course.interface.get(&key, None, &[]);
            v.reading_kind = Some(ui(format!("block.kind.{}", kind.name())));
            v.verb = Some(ui(format!(
                "block.verb.{}",
                kind.verb().to_ascii_lowercase()
            )));
            v.url = url.clone();
            v.body_html = body.as_deref().map(md);
            // Nothing to open: a box to tick only when the course still asks for it.
            v.self_marked = url.is_none() && b.required;
            v.done_label = ui(match kind {
                ReadingKind::Podcast => "block.done.listened".into(),
                ReadingKind::Video => "block.done.watched".into(),
                _ => "block.done.read".into(),
            });
        }
        BlockKind::Activity { body, url } => {
            v.kind = "activity";
            v.is_activity = true;
            v.body_html = Some(md(body));
            v.url = url.clone();
            v.self_marked = true;
        }
        BlockKind::Reflection {
            question,
            max_chars,
        } => {
            v.kind = "reflection";
            v.is_reflection = true;
            v.question = Some(question.clone());
            v.max_chars = Some(*max_chars);
        }
        BlockKind::Quiz(quiz) => {
            v.kind = "quiz";
            v.is_quiz = true;
            v.body_html = quiz.body.as_deref().map(md);
            v.quiz = Some(quiz_view(course, b, quiz));
        }
    }
    v
}

fn quiz_view(course: &Course, b: &Block, quiz: &Quiz) -> QuizView {
    let questions = quiz
        .questions
        .iter()
        .map(|q| {
            let name = format!("{}-{}", b.id, q.id);
            let choices = |options: &[Choice]| -> Vec<OptionView> {
                options
                    .iter()
                    .map(|o| OptionView {
                        id: o.id.clone(),
                        input_id: format!("input-{name}-{}", o.id),
                        text_html: render_inline(&o.text),
                        feedback_html: o.feedback.as_deref().map(md),
                    })
                    .collect()
            };
            let options = match &q.kind {
                QuestionKind::Single(o) | QuestionKind::Multiple(o) => choices(o),
                QuestionKind::TrueFalse(_) => ["true", "false"]
                    .iter()
                    .map(|id| OptionView {
                        id: (*id).to_string(),
                        input_id: format!("input-{name}-{id}"),
                        text_html: course
                            .interface
                            .html(&format!("block.answer.{id}"), None, &[])
                            .unwrap_or_default(),
                        feedback_html: None,
                    })
                    .collect(),
                QuestionKind::Text(_) => Vec::new(),
            };
            QuestionView {
                id: q.id.clone(),
                kind: q.kind.name(),
                is_text: matches!(q.kind, QuestionKind::Text(_)),
                input_type: if matches!(q.kind, QuestionKind::Multiple(_)) {
                    "checkbox"
                } else {
                    "radio"
                },
                input_id: format!("input-{name}"),
                input_name: name,
                prompt_html: render_inline(&q.prompt),
                explanation_html: q.explanation.as_deref().map(md),
                options,
            }
        })
        .collect();
    QuizView {
        questions,
        size: quiz.size(),
        size_label: tr(&course.interface, "count.questions", quiz.size()),
        attempts: quiz.attempts,
        attempts_label: quiz
            .attempts
            .map(|a| tr(&course.interface, "count.attempts", a as usize)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_for_numbers() {
        assert_eq!(count(1, "step", "steps"), "1 step");
        assert_eq!(count(0, "step", "steps"), "0 steps");
        assert_eq!(duration(1), "1 minute");
        assert_eq!(duration(45), "45 minutes");
        assert_eq!(duration(60), "1 hour");
        assert_eq!(duration(121), "2 hours 1 minute");
        let en = crate::locale::Catalogue::english();
        assert_eq!(size(&en, 1), "1 byte");
        assert_eq!(size(&en, 999), "999 bytes");
        assert_eq!(size(&en, 48_400), "48 kB");
        assert_eq!(size(&en, 3_240_000), "3.2 MB");
        assert_eq!(size(&en, 12_600_000), "13 MB");
        assert_eq!(file_kind(&en, "media/a.PDF"), "PDF");
        assert_eq!(file_kind(&en, "media/a.docx"), "Word document");
        assert_eq!(file_kind(&en, "media/a.xyz"), "XYZ");
    }

    /// Units, decimal separator and the sorts of file follow the language.
    #[test]
    fn sizes_and_file_kinds_in_the_interface_language() {
        let cat = |lang: &str| crate::locale::load(lang, None).unwrap().catalogue.unwrap();
        let (fr, de, es, cy) = (cat("fr"), cat("de-DE"), cat("es"), cat("cy-GB"));
        assert_eq!(size(&fr, 3_240_000), "3,2 Mo");
        assert_eq!(size(&fr, 48_400), "48 ko");
        assert_eq!(size(&fr, 12_600_000), "13 Mo");
        assert_eq!(size(&fr, 2), "2 octets");
        assert_eq!(size(&de, 3_240_000), "3,2 MB");
        assert_eq!(size(&de, 999), "999 Byte");
        assert_eq!(size(&es, 3_240_000), "3,2 MB");
        assert_eq!(size(&cy, 3_240_000), "3.2 MB");
        assert_eq!(size(&cy, 2), "2 feit");
        assert_eq!(file_kind(&fr, "a.docx"), "Document Word");
        assert_eq!(file_kind(&de, "a.xlsx"), "Excel-Tabelle");
        assert_eq!(file_kind(&es, "a.pptx"), "Diapositivas de PowerPoint");
        assert_eq!(file_kind(&cy, "a.pdf"), "PDF");
        assert_eq!(file_kind(&cy, "a.docx"), "Dogfen Word");
        assert_eq!(file_kind(&cy, "a.xyz"), "XYZ");
    }
}
