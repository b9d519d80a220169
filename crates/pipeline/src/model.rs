//! The validated course: what every page and package is built from.
//!
//! Values here are checked and resolved (paths exist inside the course
//! folder, ids are unique, references point somewhere), so the renderers and
//! targets never re-validate.

use std::path::PathBuf;

/// A course, ready to render and package.
#[derive(Debug, Clone)]
pub struct Course {
    /// The course folder (where `course.toml` lives).
    pub root: PathBuf,
    pub id: String,
    pub title: String,
    pub version: String,
    pub language: String,
    /// The learner interface's words in `language`.
    pub interface: std::sync::Arc<crate::locale::Catalogue>,
    pub summary: Option<String>,
    pub goals: Vec<String>,
    pub licence: Option<String>,
    pub estimated_minutes: u32,
    pub people: Vec<Person>,
    pub partners: Vec<Partner>,
    pub branding: Branding,
    pub split: Split,
    /// `[packaging] sco`, when the course chooses; otherwise each SCORM
    /// target uses its own default.
    pub sco: Option<Sco>,
    /// `[packaging] iri_base`: what the cmi5 package's IRIs start with
    /// (see `ids::iri_base` for the default).
    pub iri_base: Option<String>,
    pub before: Vec<Block>,
    pub sessions: Vec<Session>,
    pub after: Vec<Block>,
    /// Local files the overview's Markdown shows or links to (summary, bios):
    /// images, and documents such as `[handout](media/handout.pdf)`.
    pub images: Vec<CourseFile>,
    /// Folder of template overrides, when the course has one.
    pub templates: Option<PathBuf>,
    /// The variant built (`variants/<name>.toml`), if any.
    pub variant: Option<String>,
    /// A variant's Markdown shown at the start and at the end of the overview.
    pub overview_start: Option<String>,
    pub overview_end: Option<String>,
    /// Targets a variant builds when the command line names none.
    pub default_targets: Vec<String>,
}

impl Course {
    /// The title of a quiz without one, in the course's language
    /// ("Knowledge check"): its assessment in a cartridge and the manifest's
    /// item for it.
    pub fn untitled_quiz(&self) -> String {
        self.interface.get(UNTITLED_QUIZ, None, &[])
    }

    /// What identifies this build of the course wherever an LMS or a
    /// browser keeps data by it (manifest identifiers, package names, the
    /// runtime's storage keys): the course id, and `-<variant>` for a
    /// variant, so that two variants in one LMS course share nothing.
    pub fn key(&self) -> String {
        match &self.variant {
            Some(v) => format!("{}-{v}", self.id),
            None => self.id.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Person {
    pub name: String,
    pub role: Option<String>,
    pub bio: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Partner {
    pub name: String,
    pub relation: Option<String>,
    pub url: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Branding {
    pub institution: Option<String>,
    pub logo: Option<CourseFile>,
    /// `#rrggbb`
    pub primary_colour: String,
}

/// How sessions map onto packages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// One package for the course, one SCO per session.
    Course,
    /// One package per session.
    Session,
}

/// What one SCO of a SCORM package holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sco {
    /// One SCO per session: the LMS lists and tracks each session.
    Session,
    /// One SCO for the whole course: a player page shows the sessions and
    /// reports each one as an objective (Moodle's SCORM 2004 player records
    /// only the first SCO a learner opens per visit).
    Course,
}

impl Sco {
    pub fn name(self) -> &'static str {
        match self {
            Sco::Session => "session",
            Sco::Course => "course",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Session {
    pub id: String,
    pub title: String,
    pub intro: Option<String>,
    pub goals: Vec<String>,
    pub blocks: Vec<Block>,
    pub completion: Completion,
    /// Local files the session's intro shows or links to.
    pub images: Vec<CourseFile>,
}

impl Session {
    /// How many questions one attempt of the session's quizzes asks.
    pub fn questions(&self) -> usize {
        self.blocks
            .iter()
            .map(|b| match &b.kind {
                BlockKind::Quiz(q) => q.size(),
                _ => 0,
            })
            .sum()
    }

    /// Every course file the session page uses (videos, captions, images).
    pub fn files(&self) -> impl Iterator<Item = &CourseFile> {
        self.images
            .iter()
            .chain(self.blocks.iter().flat_map(Block::files))
    }
}

/// What a learner must do for a session to count as complete.
#[derive(Debug, Clone)]
pub struct Completion {
    /// Share of a local video, in percent, that counts as watched.
    pub video_percent: u32,
    /// Ids of the blocks that must be done, in page order.
    pub required: Vec<String>,
    /// Pass mark of the session's quizzes, in percent of their questions.
    pub pass_percent: Option<u32>,
    /// Complete only once passed.
    pub require_pass: bool,
}

#[derive(Debug, Clone)]
pub struct Block {
    /// Unique in the course. Text blocks get a generated one (`<session>_text_<n>`).
    pub id: String,
    pub title: Option<String>,
    pub required: bool,
    pub kind: BlockKind,
    /// Local files its Markdown shows or links to (`![alt](media/figure.png)`,
    /// `[handout](media/handout.pdf)`).
    pub images: Vec<CourseFile>,
}

impl Block {
    /// Every course file the block shows: video, captions, audio, the
    /// image, the download, images in its Markdown.
    pub fn files(&self) -> impl Iterator<Item = &CourseFile> {
        let (file, captions) = match &self.kind {
            BlockKind::Video {
                source, captions, ..
            } => (
                match source {
                    VideoSource::File(f) => Some(f),
                    _ => None,
                },
                captions.as_ref(),
            ),
            BlockKind::Audio { file, .. }
            | BlockKind::Image { file, .. }
            | BlockKind::Download { file, .. } => (Some(file), None),
            _ => (None, None),
        };
        file.into_iter().chain(captions).chain(&self.images)
    }

    /// Whether a learner can mark this block done (text and images cannot).
    pub fn is_trackable(&self) -> bool {
        !matches!(self.kind, BlockKind::Text { .. } | BlockKind::Image { .. })
    }

    /// The title of the discussion topic a reflection becomes in a web
    /// cartridge (its title, else its question); `None` for other blocks.
    /// The cartridge's static pages point to it by this title.
    pub fn topic_title(&self) -> Option<&str> {
        match &self.kind {
            BlockKind::Reflection { question, .. } => {
                Some(self.title.as_deref().unwrap_or(question))
            }
            _ => None,
        }
    }

    /// The title of the quiz a knowledge check becomes in a web cartridge
    /// (its title, else `untitled`: [`Course::untitled_quiz`]); `None` for
    /// other blocks and for quizzes with no question the cartridge profile
    /// can carry, which get no assessment.
    pub fn assessment_title<'a>(&'a self, untitled: &'a str) -> Option<&'a str> {
        match &self.kind {
            BlockKind::Quiz(quiz) if quiz.cartridge_questions().next().is_some() => {
                Some(self.title.as_deref().unwrap_or(untitled))
            }
            _ => None,
        }
    }
}

/// The catalogue key of the title of a quiz without one ("Knowledge check").
pub const UNTITLED_QUIZ: &str = "quiz.untitled";

#[derive(Debug, Clone)]
pub enum BlockKind {
    Text {
        markdown: String,
    },
    Video {
        minutes: Option<u32>,
        source: VideoSource,
        captions: Option<CourseFile>,
        /// Markdown.
        transcript: Option<String>,
        /// Markdown shown above the video.
        body: Option<String>,
    },
    /// A local sound file, tracked like a local video.
    Audio {
        minutes: Option<u32>,
        file: CourseFile,
        /// Markdown.
        transcript: Option<String>,
        /// Markdown shown above the player.
        body: Option<String>,
    },
    /// A local picture; never tracked.
    Image {
        file: CourseFile,
        /// The text alternative; empty for a decorative image.
        alt: String,
        /// Markdown, one line.
        caption: Option<String>,
    },
    /// A local file offered to download.
    Download {
        file: CourseFile,
        /// Its size in bytes, when the course was loaded.
        bytes: u64,
        /// Markdown shown above the link.
        body: Option<String>,
    },
    Reading {
        kind: ReadingKind,
        url: Option<String>,
        /// Why to read it (Markdown).
        body: Option<String>,
    },
    Activity {
        /// The instruction (Markdown).
        body: String,
        url: Option<String>,
    },
    Reflection {
        question: String,
        max_chars: u32,
    },
    /// A knowledge check: scored questions.
    Quiz(Quiz),
}

/// A knowledge check.
#[derive(Debug, Clone)]
pub struct Quiz {
    /// Markdown shown above the questions.
    pub body: Option<String>,
    /// The questions, or the bank to draw from.
    pub questions: Vec<Question>,
    /// Questions drawn for each attempt; `None`: all of them.
    pub draw: Option<u32>,
    /// Submissions allowed; `None`: unlimited.
    pub attempts: Option<u32>,
    pub shuffle: bool,
}

impl Quiz {
    /// How many questions one attempt holds.
    pub fn size(&self) -> usize {
        self.draw.map_or(self.questions.len(), |d| d as usize)
    }

    /// The questions a cartridge's QTI profile can carry.
    pub fn cartridge_questions(&self) -> impl Iterator<Item = &Question> {
        self.questions
            .iter()
            .filter(|q| q.kind.cc_profile().is_some())
    }
}

#[derive(Debug, Clone)]
pub struct Question {
    /// Unique in its quiz.
    pub id: String,
    /// Markdown.
    pub prompt: String,
    pub explanation: Option<String>,
    pub kind: QuestionKind,
}

#[derive(Debug, Clone)]
pub enum QuestionKind {
    /// One right option.
    Single(Vec<Choice>),
    /// Every right option and none of the others.
    Multiple(Vec<Choice>),
    TrueFalse(bool),
    /// Any of these, compared without case and with spaces collapsed.
    Text(Vec<String>),
}

impl QuestionKind {
    /// The name used in course.toml and in SCORM interactions.
    pub fn name(&self) -> &'static str {
        match self {
            QuestionKind::Single(_) => "single",
            QuestionKind::Multiple(_) => "multiple",
            QuestionKind::TrueFalse(_) => "true-false",
            QuestionKind::Text(_) => "text",
        }
    }

    /// The Common Cartridge QTI profile's type of the question
    /// (`cc_profile`), or `None` when the profile has none (such questions
    /// are left out of cartridges, with a warning).
    pub fn cc_profile(&self) -> Option<&'static str> {
        match self {
            QuestionKind::Single(_) => Some("cc.multiple_choice.v0p1"),
            QuestionKind::Multiple(_) => Some("cc.multiple_response.v0p1"),
            QuestionKind::TrueFalse(_) => Some("cc.true_false.v0p1"),
            QuestionKind::Text(_) => Some("cc.fib.v0p1"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Choice {
    pub id: String,
    /// Markdown, one line.
    pub text: String,
    pub correct: bool,
    pub feedback: Option<String>,
}

#[derive(Debug, Clone)]
pub enum VideoSource {
    /// A file inside the course folder.
    File(CourseFile),
    /// An https embed address.
    Embed(String),
    /// Known only by title and length: the page says so.
    Missing,
}

/// What sort of reading a reading block is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadingKind {
    Study,
    Blog,
    Podcast,
    Alert,
    Video,
    Website,
    Article,
}

impl ReadingKind {
    pub const ALL: [(&'static str, ReadingKind); 7] = [
        ("study", ReadingKind::Study),
        ("blog", ReadingKind::Blog),
        ("podcast", ReadingKind::Podcast),
        ("alert", ReadingKind::Alert),
        ("video", ReadingKind::Video),
        ("website", ReadingKind::Website),
        ("article", ReadingKind::Article),
    ];

    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, k)| *k == self)
            .map(|(n, _)| *n)
            .unwrap_or("article")
    }

    /// The verb a learner sees on the link.
    pub fn verb(self) -> &'static str {
        match self {
            ReadingKind::Podcast => "Listen",
            ReadingKind::Video => "Watch",
            ReadingKind::Website => "Visit",
            _ => "Read",
        }
    }
}

/// A file inside the course folder.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct CourseFile {
    /// Path inside the course folder and inside every package, with `/`.
    pub rel: String,
    /// Where it is on disk.
    pub path: PathBuf,
}

impl CourseFile {
    /// The MIME type by its ending.
    pub fn mime(&self) -> &'static str {
        crate::file_types::mime(&self.rel)
    }
}
