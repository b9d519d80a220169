//! The raw mirror of `course.toml`: plain serde types that keep each value's
//! position so later checks can point at the exact line and column.
//!
//! Nothing here is validated beyond what serde does; `load` turns this into
//! the typed model and reports every problem at once.

use serde::Deserialize;
use toml::Spanned;

/// The whole `course.toml` file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CourseFile {
    /// `[course]`: what the course is.
    pub course: CourseTable,
    /// `[[people]]`: tutors and authors, shown on the overview page.
    #[serde(default)]
    pub people: Vec<PersonTable>,
    /// `[[partners]]`: organisations the course was produced with.
    #[serde(default)]
    pub partners: Vec<PartnerTable>,
    /// `[branding]`: institution name, logo and colour.
    #[serde(default)]
    pub branding: BrandingTable,
    /// `[packaging]`: how sessions are split into packages.
    #[serde(default)]
    pub packaging: PackagingTable,
    /// `[[before]]`: blocks to do before the course (shown on the overview).
    #[serde(default)]
    pub before: Vec<BlockTable>,
    /// `[[session]]`: the sessions, in order.
    #[serde(default)]
    pub session: Vec<SessionTable>,
    /// `[[after]]`: blocks suggested after the course (shown on the overview).
    #[serde(default)]
    pub after: Vec<BlockTable>,
}

/// `[course]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CourseTable {
    /// Stable identifier, used in package identifiers and file names.
    /// Lower-case letters, digits and `-`; never change it once learners use the course.
    pub id: Spanned<String>,
    pub title: Spanned<String>,
    /// Course version, part of every output file name. Default `1.0.0`.
    #[serde(default)]
    pub version: Option<Spanned<String>>,
    /// BCP 47 language tag. Default `en`.
    #[serde(default)]
    pub language: Option<Spanned<String>>,
    /// One paragraph of Markdown describing the course.
    #[serde(default)]
    pub summary: Option<Spanned<String>>,
    /// Course goals, one sentence each.
    #[serde(default)]
    pub goals: Vec<Spanned<String>>,
    /// Licence of the course content, e.g. `CC BY-NC-SA 4.0`.
    #[serde(default)]
    pub licence: Option<Spanned<String>>,
    /// Estimated learning time in minutes. Default: the sum of the video minutes.
    #[serde(default)]
    pub estimated_minutes: Option<Spanned<u32>>,
    /// Folder (relative to the course folder) whose files override the default
    /// templates. Default `templates`, used when it exists.
    #[serde(default)]
    pub templates: Option<Spanned<String>>,
}

/// `[[people]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonTable {
    pub name: Spanned<String>,
    /// e.g. `Course tutor`.
    #[serde(default)]
    pub role: Option<Spanned<String>>,
    /// Markdown.
    #[serde(default)]
    pub bio: Option<Spanned<String>>,
}

/// `[[partners]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartnerTable {
    pub name: Spanned<String>,
    /// How the partner took part, e.g. `Produced in collaboration with`.
    #[serde(default)]
    pub relation: Option<Spanned<String>>,
    #[serde(default)]
    pub url: Option<Spanned<String>>,
}

/// `[branding]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BrandingTable {
    /// Shown in the page header. Default: none.
    #[serde(default)]
    pub institution: Option<Spanned<String>>,
    /// Logo image inside the course folder (png, jpg, svg, webp).
    #[serde(default)]
    pub logo: Option<Spanned<String>>,
    /// Primary colour as `#rrggbb`. Default `#1d5fa8`.
    #[serde(default)]
    pub primary_colour: Option<Spanned<String>>,
}

/// `[packaging]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackagingTable {
    /// `course` (default): one package, one SCO per session.
    /// `session`: one package per session.
    #[serde(default)]
    pub split: Option<Spanned<String>>,
    /// `session`: one SCO per session; `course`: the whole course is one
    /// SCO. Default: per target (SCORM 1.2 `session`, SCORM 2004 `course`).
    #[serde(default)]
    pub sco: Option<Spanned<String>>,
    /// The base of the cmi5 package's IRIs (course and AU ids). Default:
    /// `urn:coursepack:<course id>`.
    #[serde(default)]
    pub iri_base: Option<Spanned<String>>,
}

/// `[[session]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionTable {
    pub id: Spanned<String>,
    pub title: Spanned<String>,
    /// Markdown shown under the title.
    #[serde(default)]
    pub intro: Option<Spanned<String>>,
    #[serde(default)]
    pub goals: Vec<Spanned<String>>,
    #[serde(default)]
    pub block: Vec<BlockTable>,
    #[serde(default)]
    pub completion: Option<CompletionTable>,
}

/// `[session.completion]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompletionTable {
    /// Share of a local video, in percent, that counts as watched. Default 90.
    #[serde(default)]
    pub video_percent: Option<Spanned<u32>>,
    /// Exactly these block ids must be done. Default: every required block.
    #[serde(default)]
    pub require: Option<Vec<Spanned<String>>>,
    /// The session's pass mark, in percent of its quiz questions answered right.
    #[serde(default)]
    pub pass_percent: Option<Spanned<u32>>,
    /// The session counts as complete only once its checks are passed. Default false.
    #[serde(default)]
    pub require_pass: Option<Spanned<bool>>,
}

/// `[[session.block]]`, `[[before]]`, `[[after]]`: one flat table for every
/// block type, so each key keeps its position; `load` checks which keys a
/// type accepts.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockTable {
    /// `text`, `video`, `audio`, `image`, `download`, `reading`, `activity`,
    /// `reflection` or `quiz`.
    #[serde(rename = "type")]
    pub kind: Spanned<String>,
    /// Stable identifier, unique in the course. Required except for `text`.
    #[serde(default)]
    pub id: Option<Spanned<String>>,
    #[serde(default)]
    pub title: Option<Spanned<String>>,
    /// Whether the block counts towards completion. Default: true for video,
    /// reading and reflection, false for text and activity.
    #[serde(default)]
    pub required: Option<Spanned<bool>>,
    /// Markdown body (`text`), instruction (`activity`) or why to read (`reading`).
    #[serde(default)]
    pub body: Option<Spanned<String>>,
    /// `video`: length in minutes.
    #[serde(default)]
    pub minutes: Option<Spanned<u32>>,
    /// `video`, `audio`, `image`, `download`: a local file inside the course folder.
    #[serde(default)]
    pub file: Option<Spanned<String>>,
    /// `image`: the text alternative; `""` for a decorative image.
    #[serde(default)]
    pub alt: Option<Spanned<String>>,
    /// `image`: a caption shown under it (Markdown, one line).
    #[serde(default)]
    pub caption: Option<Spanned<String>>,
    /// `video`: an https embed address (YouTube, Vimeo).
    #[serde(default)]
    pub embed: Option<Spanned<String>>,
    /// `video`: WebVTT captions file inside the course folder.
    #[serde(default)]
    pub captions: Option<Spanned<String>>,
    /// `video`, `audio`: Markdown transcript, or a `.md`/`.txt` file inside the course folder.
    #[serde(default)]
    pub transcript: Option<Spanned<String>>,
    /// `reading`: `study`, `blog`, `podcast`, `alert`, `video`, `website` or `article`.
    #[serde(default, rename = "kind")]
    pub reading_kind: Option<Spanned<String>>,
    /// `reading`, `activity`: the address to open.
    #[serde(default)]
    pub url: Option<Spanned<String>>,
    /// `reflection`: the question.
    #[serde(default)]
    pub question: Option<Spanned<String>>,
    /// `reflection`: most characters kept for an answer. Default 1000.
    #[serde(default)]
    pub max_chars: Option<Spanned<u32>>,
    /// `quiz`: the questions (the bank, when `draw` is set).
    #[serde(default)]
    pub questions: Vec<QuestionTable>,
    /// `quiz`: how many questions of the bank each attempt draws. Default: all.
    #[serde(default)]
    pub draw: Option<Spanned<u32>>,
    /// `quiz`: how many times a learner may submit. Default: unlimited.
    #[serde(default)]
    pub attempts: Option<Spanned<u32>>,
    /// `quiz`: show the options of each question in a random order. Default false.
    #[serde(default)]
    pub shuffle: Option<Spanned<bool>>,
}

impl BlockTable {
    /// Whether `transcript` names a file (`.md`/`.txt`, no spaces) rather
    /// than being the Markdown itself.
    pub fn transcript_is_file(&self) -> bool {
        self.transcript
            .as_ref()
            .is_some_and(|t| transcript_names_file(t.get_ref()))
    }
}

/// Whether a `transcript` value names a file rather than being the text.
pub fn transcript_names_file(v: &str) -> bool {
    !v.contains(char::is_whitespace) && (v.ends_with(".md") || v.ends_with(".txt"))
}

/// `[[session.block.questions]]`: one question of a `quiz` block.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuestionTable {
    pub id: Spanned<String>,
    /// `single`, `multiple`, `true-false` or `text`.
    #[serde(rename = "type")]
    pub kind: Spanned<String>,
    /// The question (Markdown).
    pub prompt: Spanned<String>,
    /// Shown once the learner has answered (Markdown).
    #[serde(default)]
    pub explanation: Option<Spanned<String>>,
    /// `single`, `multiple`: the options, in order.
    #[serde(default)]
    pub options: Vec<OptionTable>,
    /// `true-false`: the right answer.
    #[serde(default)]
    pub answer: Option<Spanned<bool>>,
    /// `text`: the accepted answers (case and spacing do not matter).
    #[serde(default)]
    pub accept: Vec<Spanned<String>>,
}

/// One option of a `single` or `multiple` question.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptionTable {
    pub id: Spanned<String>,
    /// The option (Markdown, one line).
    pub text: Spanned<String>,
    #[serde(default)]
    pub correct: Option<Spanned<bool>>,
    /// Shown when the learner chose this option (Markdown).
    #[serde(default)]
    pub feedback: Option<Spanned<String>>,
}

/// A variant's overlay file, `variants/<name>.toml`: what one institution
/// changes in the course. Every key is optional; what is given replaces the
/// course's value (`[branding]` key by key, `[[people]]` and `[[partners]]`
/// as whole lists).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VariantFile {
    /// `[course]`: the course's title, summary, language, licence, extra
    /// overview text and the sessions included.
    #[serde(default)]
    pub course: VariantCourseTable,
    /// `[[people]]`: replaces the course's people.
    #[serde(default)]
    pub people: Option<Vec<PersonTable>>,
    /// `[[partners]]`: replaces the course's partners.
    #[serde(default)]
    pub partners: Option<Vec<PartnerTable>>,
    /// `[branding]`: each key given replaces the course's.
    #[serde(default)]
    pub branding: Option<BrandingTable>,
    /// `[packaging]`: split, sco and the targets built by default.
    #[serde(default)]
    pub packaging: Option<VariantPackagingTable>,
}

/// `[course]` of a variant.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VariantCourseTable {
    #[serde(default)]
    pub title: Option<Spanned<String>>,
    #[serde(default)]
    pub summary: Option<Spanned<String>>,
    /// BCP 47 language tag of the variant's pages.
    #[serde(default)]
    pub language: Option<Spanned<String>>,
    #[serde(default)]
    pub licence: Option<Spanned<String>>,
    /// Markdown shown at the start of the overview, before the summary.
    #[serde(default)]
    pub overview_start: Option<Spanned<String>>,
    /// Markdown shown at the end of the overview.
    #[serde(default)]
    pub overview_end: Option<Spanned<String>>,
    /// The session ids included, in the course's order. Default: all.
    #[serde(default)]
    pub sessions: Option<Spanned<Vec<Spanned<String>>>>,
}

/// `[packaging]` of a variant.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VariantPackagingTable {
    #[serde(default)]
    pub split: Option<Spanned<String>>,
    #[serde(default)]
    pub sco: Option<Spanned<String>>,
    /// Targets `build` makes when `--target` is not given.
    #[serde(default)]
    pub targets: Option<Spanned<Vec<Spanned<String>>>>,
}
