//! The contract between the pages, their runtime (`coursepack/runtime.js`)
//! and the LTI tool, in one place:
//!
//! - the names of the pages and assets every package and the tool share;
//! - the typed JSON islands the pages carry for the runtime
//!   (`<script type="application/json" id="…">`): [`SessionIsland`] on a
//!   session page (`cp-session`), [`CourseIsland`] on the course player
//!   (`cp-course`), [`OverviewIsland`] on the overview (`cp-overview`), and
//!   where the tool puts its own (`cp-lti`, [`insert_island`]) and the cmi5
//!   package its own (`cp-cmi5`, [`Cmi5Island`]);
//! - the body the runtime posts to the tool's progress endpoint
//!   ([`ProgressPost`]);
//! - the `suspend_data` budget the runtime's state encoding needs, and the
//!   limits it is checked against.
//!
//! The default templates spell the island ids and asset names in their
//! markup, and runtime.js reads them: a change here is a change there.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::ids;
use crate::model::{BlockKind, Course, QuestionKind, Quiz, Session};

/// Path of the overview page in every package.
pub const OVERVIEW: &str = "index.html";
/// The course player: the launch page when the whole course is one SCO.
pub const PLAYER: &str = "course.html";
/// Stylesheet and runtime, shared by every page.
pub const STYLE: &str = "coursepack/style.css";
pub const RUNTIME: &str = "coursepack/runtime.js";

/// Path of a session's page in every package.
pub fn session_page(session: &Session) -> String {
    format!("{}.html", session.id)
}

/// A package path as a manifest `href`: a URI reference, so anything but
/// unreserved characters and `/` is percent-encoded (`my fig.png` ->
/// `my%20fig.png`).
pub fn href(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The island ids the pages carry and runtime.js reads.
pub mod island {
    pub const SESSION: &str = "cp-session";
    pub const COURSE: &str = "cp-course";
    pub const OVERVIEW: &str = "cp-overview";
    /// Added by the LTI tool to the pages it serves: where the runtime
    /// posts progress, with the launch's token.
    pub const LTI: &str = "cp-lti";
    /// Added by the cmi5 target to the pages an assignable unit launches:
    /// the page is an AU and reports to the LMS named in its launch address
    /// ([`super::Cmi5Island`]).
    pub const CMI5: &str = "cp-cmi5";
}

/// What the runtime posts to the LTI tool's progress endpoint (the `cp-lti`
/// island's `endpoint`): a session's state, whether it is complete, and its
/// knowledge checks' score once every one is submitted.
#[derive(Debug, Deserialize)]
pub struct ProgressPost {
    pub session: String,
    #[serde(default)]
    pub state: serde_json::Value,
    #[serde(default)]
    pub completed: bool,
    #[serde(default)]
    pub score: Option<PostedScore>,
}

/// Right answers over questions, as the runtime reports them.
#[derive(Debug, Serialize, Deserialize)]
pub struct PostedScore {
    pub raw: f64,
    pub max: f64,
}

/// What a page launched as a cmi5 assignable unit reads (`cp-cmi5`).
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Cmi5Island {
    /// The AU's IRI in cmi5.xml (its publisher id): the interactions it
    /// reports are activities under it, the same in every LMS.
    pub au: String,
}

/// The longest answer a reflection takes when the course does not say.
pub const DEFAULT_MAX_CHARS: u32 = 1000;
/// The `suspend_data` SCORM 1.2 guarantees (SPM of `cmi.suspend_data`).
pub const SCORM12_SUSPEND_LIMIT: u32 = 4096;
/// The `suspend_data` SCORM 2004 (3rd and 4th Editions) guarantees.
pub const SCORM2004_SUSPEND_LIMIT: u32 = 64000;

/// What a session page's runtime reads (`cp-session`).
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SessionIsland {
    pub course: String,
    pub version: String,
    pub session: String,
    pub title: String,
    pub video_percent: u32,
    pub required: Vec<String>,
    pub answer_max: u32,
    /// This session's item identifier in the SCORM manifests.
    pub item: String,
    pub nav: NavData,
    /// The session's pass mark in percent, when its quizzes have one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pass_percent: Option<u32>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub require_pass: bool,
    /// Quiz block id -> what the runtime needs to draw, score and report it.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub quizzes: BTreeMap<String, QuizData>,
}

impl SessionIsland {
    pub fn new(course: &Course, s: &Session) -> Self {
        SessionIsland {
            course: course.key(),
            version: course.version.clone(),
            session: s.id.clone(),
            title: s.title.clone(),
            video_percent: s.completion.video_percent,
            required: s.completion.required.clone(),
            answer_max: s
                .blocks
                .iter()
                .filter_map(|b| match b.kind {
                    BlockKind::Reflection { max_chars, .. } => Some(max_chars),
                    _ => None,
                })
                .max()
                .unwrap_or(DEFAULT_MAX_CHARS),
            item: ids::item(course, s),
            nav: NavData {
                overview: OVERVIEW.into(),
                player: PLAYER.into(),
                item_prefix: ids::item_prefix(course),
            },
            pass_percent: s.completion.pass_percent,
            require_pass: s.completion.require_pass,
            quizzes: s
                .blocks
                .iter()
                .filter_map(|b| match &b.kind {
                    BlockKind::Quiz(q) => Some((b.id.clone(), QuizData::new(q))),
                    _ => None,
                })
                .collect(),
        }
    }
}

/// A quiz as the runtime scores it. The answer key is in the page: a
/// knowledge check scored in the learner's browser cannot hide it.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct QuizData {
    pub size: usize,
    pub draw: Option<u32>,
    pub attempts: Option<u32>,
    pub shuffle: bool,
    pub questions: Vec<QuestionData>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct QuestionData {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// Option ids in authored order (`true`, `false` for true-false).
    pub options: Vec<String>,
    /// The right option ids.
    pub correct: Vec<String>,
    /// Text answers that count as right (compared without case or extra spaces).
    pub accept: Vec<String>,
    /// The prompt as plain text, for the LMS's interaction report.
    pub description: String,
}

impl QuizData {
    fn new(quiz: &Quiz) -> Self {
        QuizData {
            size: quiz.size(),
            draw: quiz.draw,
            attempts: quiz.attempts,
            shuffle: quiz.shuffle,
            questions: quiz
                .questions
                .iter()
                .map(|q| {
                    let (options, correct, accept) = match &q.kind {
                        QuestionKind::Single(o) | QuestionKind::Multiple(o) => (
                            o.iter().map(|c| c.id.clone()).collect(),
                            o.iter()
                                .filter(|c| c.correct)
                                .map(|c| c.id.clone())
                                .collect(),
                            Vec::new(),
                        ),
                        QuestionKind::TrueFalse(answer) => (
                            vec!["true".to_string(), "false".to_string()],
                            vec![answer.to_string()],
                            Vec::new(),
                        ),
                        QuestionKind::Text(accept) => (Vec::new(), Vec::new(), accept.clone()),
                    };
                    QuestionData {
                        id: q.id.clone(),
                        kind: q.kind.name().into(),
                        options,
                        correct,
                        accept,
                        description: crate::markdown::to_plain(&q.prompt),
                    }
                })
                .collect(),
        }
    }
}

/// The course's pages, for the runtime to tell a link to another SCO's page
/// (which must become an LMS navigation request) from any other link.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct NavData {
    pub overview: String,
    pub player: String,
    /// Any other page `<id>.html` of the package is session `<id>`, whose
    /// item in the SCORM manifests is this prefix and the id. (A rule, not a
    /// list: a list on every page would grow with the square of the sessions.)
    pub item_prefix: String,
}

/// What the course player's runtime reads (`cp-course`).
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CourseIsland {
    pub course: String,
    pub version: String,
    pub overview: String,
    pub sessions: Vec<PlayerSession>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct PlayerSession {
    pub id: String,
    pub href: String,
    /// The SCORM objective that carries this session's completion.
    pub objective: String,
    /// The session's pass mark, when it has one.
    pub pass: Option<u32>,
    /// Questions one attempt of its quizzes holds.
    pub questions: usize,
}

impl CourseIsland {
    pub fn new(course: &Course) -> Self {
        CourseIsland {
            course: course.key(),
            version: course.version.clone(),
            overview: OVERVIEW.into(),
            sessions: course
                .sessions
                .iter()
                .map(|s| PlayerSession {
                    id: s.id.clone(),
                    href: session_page(s),
                    objective: ids::objective(s),
                    pass: s.completion.pass_percent,
                    questions: s.questions(),
                })
                .collect(),
        }
    }
}

/// What the overview's runtime reads to show each session's state (`cp-overview`).
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct OverviewIsland {
    pub course: String,
    pub version: String,
    pub sessions: Vec<OverviewSession>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct OverviewSession {
    pub id: String,
    pub pass: Option<u32>,
    /// Questions one attempt of the session's quizzes holds.
    pub questions: usize,
}

impl OverviewIsland {
    pub fn new(course: &Course) -> Self {
        OverviewIsland {
            course: course.key(),
            version: course.version.clone(),
            sessions: course
                .sessions
                .iter()
                .map(|s| OverviewSession {
                    id: s.id.clone(),
                    pass: s.completion.pass_percent,
                    questions: s.questions(),
                })
                .collect(),
        }
    }
}

/// JSON that cannot close the `<script>` element it sits in.
pub fn script_safe_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value)
        .expect("island data always serialises")
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// Reads the island `id` of a rendered page, if it has one that parses.
pub fn read_island<T: for<'de> Deserialize<'de>>(html: &str, id: &str) -> Option<T> {
    let marker = format!("id=\"{id}\"");
    let at = html.find(&marker)?;
    let open_end = html[at..].find('>')? + at + 1;
    let close = html[open_end..].find("</script>")? + open_end;
    serde_json::from_str(&html[open_end..close]).ok()
}

/// Adds the island `id` holding `value` to a rendered page, just before the
/// runtime's script (which reads it when it starts), or before `</body>`.
pub fn insert_island<T: Serialize>(html: &[u8], id: &str, value: &T) -> Vec<u8> {
    let tag = format!(
        "<script type=\"application/json\" id=\"{id}\">{}</script>\n",
        script_safe_json(value)
    );
    let text = String::from_utf8_lossy(html);
    let at = text
        .find(&format!("<script src=\"{RUNTIME}\""))
        .or_else(|| text.rfind("</body>"))
        .unwrap_or(text.len());
    let mut out = String::with_capacity(text.len() + tag.len());
    out.push_str(&text[..at]);
    out.push_str(&tag);
    out.push_str(&text[at..]);
    out.into_bytes()
}

/// A session as its page announces it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageSession {
    pub id: String,
    pub title: String,
}

/// What a folder of rendered pages (an unzipped package) says of its
/// course: its title (the overview's `<title>`, decoded to text) and its
/// sessions, from their pages' `cp-session` islands, in the order the
/// overview links to them. `pages` maps each top-level page's path to its
/// text.
pub fn read_rendered(
    pages: &BTreeMap<String, String>,
) -> Result<(String, Vec<PageSession>), String> {
    let mut sessions = Vec::new();
    let mut title = String::from("Course");
    for (path, html) in pages {
        if let Some(info) = read_island::<SessionIsland>(html, island::SESSION) {
            if info.session.is_empty() || format!("{}.html", info.session) != *path {
                return Err(format!(
                    "{path}: its cp-session island names session {:?}",
                    info.session
                ));
            }
            let title = if info.title.is_empty() {
                info.session.clone()
            } else {
                info.title
            };
            sessions.push((
                path.clone(),
                PageSession {
                    id: info.session,
                    title,
                },
            ));
        } else if path == OVERVIEW
            && let Some(t) = between(html, "<title>", "</title>")
        {
            // Kept as text: every page, JSON claim and registration escapes it as it needs.
            title = unescape_html(t.trim());
        }
    }
    let overview = pages.get(OVERVIEW).map_or("", String::as_str);
    sessions.sort_by_key(|(path, _)| {
        overview
            .find(&format!("href=\"{path}\""))
            .unwrap_or(usize::MAX)
    });
    Ok((title, sessions.into_iter().map(|(_, s)| s).collect()))
}

fn between<'a>(s: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let i = s.find(start)? + start.len();
    let j = s[i..].find(end)? + i;
    Some(&s[i..j])
}

/// Decodes the character references of HTML text: the named ones an escaper writes
/// (`&amp; &lt; &gt; &quot; &apos; &nbsp;`) and numeric ones (`&#39;`, `&#x27;`). Anything
/// else, including a lone `&`, stays as it is.
fn unescape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        // The longest reference decoded here is `&#1114111;`; looking no further keeps a
        // text with many lone `&` linear.
        let decoded = rest.find(';').filter(|&end| end <= 12).and_then(|end| {
            let c = match &rest[1..end] {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some('\u{a0}'),
                num => num
                    .strip_prefix('#')
                    .and_then(|n| match n.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok(),
                        None => n.parse().ok(),
                    })
                    .and_then(char::from_u32),
            };
            c.map(|c| (c, end))
        });
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The most characters the runtime can need in `suspend_data` for this
/// session, following its encoding (compact JSON, see runtime.js): the
/// fixed keys, every trackable block id in the done list, and every answer
/// at its longest with each character escaped (a newline or quote is two
/// characters in JSON). Video play ranges are left out: the runtime drops
/// them first when the budget is tight.
pub fn suspend_data_worst_case(session: &Session) -> usize {
    let mut total = r#"{"c":1,"d":[],"a":{},"v":{},"t":[]}"#.len();
    for block in session.blocks.iter().filter(|b| b.is_trackable()) {
        total += block.id.len() + 3;
        if let BlockKind::Reflection { max_chars, .. } = block.kind {
            // "id":"answer", plus the id again in the truncated list.
            total += block.id.len() + 6 + 2 * max_chars as usize + block.id.len() + 3;
        }
        if let BlockKind::Quiz(quiz) = &block.kind {
            // "id":{"n":999,"b":999,"k":[ids],"o":{"q":[options]},"r":{"q":[options] or "text"}}
            total += block.id.len() + 32 + "\"o\":{},\"r\":{}".len();
            for q in &quiz.questions {
                let options: usize = match &q.kind {
                    QuestionKind::Single(o) | QuestionKind::Multiple(o) => {
                        o.iter().map(|c| c.id.len() + 3).sum::<usize>() + 2
                    }
                    QuestionKind::TrueFalse(_) => 16,
                    // A text answer is kept to 250 characters, each escaped at worst.
                    QuestionKind::Text(_) => 2 * 250 + 2,
                };
                // Its id in the draw, in the option order and in the responses.
                total += 3 * (q.id.len() + 4) + 2 * options;
            }
        }
    }
    total
}

/// The most characters the course player's runtime can need in
/// `suspend_data` when the whole course is one SCO: every session's state,
/// each under its id.
pub fn course_suspend_data_worst_case(sessions: &[Session]) -> usize {
    sessions
        .iter()
        .map(|s| suspend_data_worst_case(s) + s.id.len() + 8)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Block, Completion};

    fn reflection(id: &str, max_chars: u32) -> Block {
        Block {
            id: id.into(),
            title: None,
            required: true,
            kind: BlockKind::Reflection {
                question: "Why?".into(),
                max_chars,
            },
            images: Vec::new(),
        }
    }

    #[test]
    fn worst_case_counts_escaped_answers() {
        let session = Session {
            id: "s".into(),
            title: "S".into(),
            intro: None,
            goals: Vec::new(),
            blocks: vec![reflection("q1", 1000), reflection("q2", 1000)],
            completion: Completion {
                video_percent: 90,
                required: vec![],
                pass_percent: None,
                require_pass: false,
            },
            images: Vec::new(),
        };
        let worst = suspend_data_worst_case(&session);
        // The JSON of two answers of 1000 newlines each, marked done and truncated.
        let answer = "\\n".repeat(1000);
        let json = format!(
            r#"{{"c":1,"d":["q1","q2"],"a":{{"q1":"{answer}","q2":"{answer}"}},"v":{{}},"t":["q1","q2"]}}"#
        );
        assert!(worst >= json.len(), "{worst} < {}", json.len());
    }

    #[test]
    fn an_island_goes_before_the_runtime_and_cannot_close_its_script() {
        let page = b"<body><p>x</p><script src=\"coursepack/runtime.js\"></script></body>";
        let out = insert_island(
            page,
            island::LTI,
            &serde_json::json!({"token": "</script><b>"}),
        );
        let out = String::from_utf8(out).unwrap();
        let at = out.find("id=\"cp-lti\"").unwrap();
        let runtime = out.find("coursepack/runtime.js").unwrap();
        assert!(at < runtime);
        assert!(!out.contains("</script><b>"));
        let back: serde_json::Value = read_island(&out, island::LTI).unwrap();
        assert_eq!(back["token"], "</script><b>");
    }

    #[test]
    fn character_references_are_decoded_once() {
        assert_eq!(
            unescape_html("Q&amp;A &lt;b&gt; &quot;x&quot; &#39;y&#x27; &#X2013; &#8212;"),
            "Q&A <b> \"x\" 'y' \u{2013} \u{2014}"
        );
        assert_eq!(unescape_html("&amp;amp;"), "&amp;");
        assert_eq!(
            unescape_html("R&D & more &unknown; &#xZZ; &"),
            "R&D & more &unknown; &#xZZ; &"
        );
        assert_eq!(unescape_html("&#1114112;"), "&#1114112;");
    }

    #[test]
    fn the_title_of_rendered_pages_is_text() {
        let mut files = BTreeMap::new();
        files.insert(
            "index.html".to_string(),
            "<title> Q&amp;A &lt;one&gt; &#x27;two&#39; </title>".to_string(),
        );
        assert_eq!(read_rendered(&files).unwrap().0, "Q&A <one> 'two'");
    }

    #[test]
    fn sessions_come_from_their_pages_in_overview_order() {
        let mut files = BTreeMap::new();
        let page = |id: &str, title: &str| -> String {
            format!(
                "<body data-cp-page=\"session\"><script type=\"application/json\" id=\"cp-session\">{{\"session\":\"{id}\",\"title\":\"{title}\"}}</script></body>"
            )
        };
        files.insert("b.html".to_string(), page("b", "Second"));
        files.insert("a.html".to_string(), page("a", "First"));
        files.insert(
            "index.html".to_string(),
            "<title>C</title><a href=\"b.html\"></a><a href=\"a.html\"></a>".to_string(),
        );
        let (title, sessions) = read_rendered(&files).unwrap();
        let ids: Vec<_> = sessions.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["b", "a"]);
        assert_eq!(title, "C");
        assert_eq!(
            sessions.iter().find(|s| s.id == "a").unwrap().title,
            "First"
        );
    }
}
