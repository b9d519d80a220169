//! Knowledge checks as IMS QTI 1.2.1 assessments in the Common Cartridge
//! profile (`ccv1p1_qtiasiv1p2p1_v1p0.xsd`): one `<questestinterop>` file per
//! quiz block, which Moodle's cartridge restore makes a Quiz activity and
//! Canvas a quiz.
//!
//! The shapes follow what the importers read, not only the schema
//! (moodle/moodle backup/cc/entity11.quiz.class.php):
//! - the question text is the first `presentation/material/mattext`;
//! - general feedback (the explanation) is every `itemfeedback` shown by a
//!   `respcondition continue="Yes"`, so only the unconditional
//!   `general_fb` condition continues; option feedback sits on
//!   `continue="No"` conditions keyed by a direct `varequal`;
//! - a right option is one whose condition sets `SCORE` to 100; for
//!   multiple response, the `varequal`s with `case="Yes"` inside the
//!   scoring condition's `and` (not under `not`);
//! - true/false options must be named `true` and `false`;
//! - a text question's accepted answers are the `varequal`s of the one
//!   condition that sets 100 (`case="No"`: case-insensitive).
//!
//! The profile has no random draw and no pass mark; attempts are 1–5 or
//! `unlimited`. [`warnings`] says what the cartridge changes.
//!
//! Identifiers come from block, question and option ids only, so rebuilds
//! are byte-identical.

use super::xml::Xml;
use crate::markdown::{
    render as markdown_to_html, render_inline as markdown_inline, to_plain as markdown_to_plain,
};
use crate::model::{Block, BlockKind, Choice, Course, Question, QuestionKind, Quiz};

/// Namespace of QTI 1.2 (the same in CC 1.1 and 1.3).
pub const NS: &str = "http://www.imsglobal.org/xsd/ims_qtiasiv1p2";
/// The most attempts the profile's `cc_maxattempts` can say, short of `unlimited`.
pub const MAX_ATTEMPTS: u32 = 5;
/// The one response of every item.
const RESPONSE: &str = "response1";
/// The explanation, shown whatever the answer.
const GENERAL_FB: &str = "general_fb";

/// Where a quiz's assessment lives in the cartridge: a folder of its own.
pub fn assessment_path(block: &Block) -> String {
    format!("quizzes/{}/assessment_qti.xml", block.id)
}

/// `cc_maxattempts`: `1`–`5`, or `unlimited`.
pub fn max_attempts(quiz: &Quiz) -> String {
    match quiz.attempts {
        Some(n) => n.clamp(1, MAX_ATTEMPTS).to_string(),
        None => "unlimited".into(),
    }
}

/// What the cartridges change in the course's knowledge checks, one
/// sentence each, in course order.
pub fn warnings(course: &Course) -> Vec<String> {
    let mut out = Vec::new();
    for s in &course.sessions {
        let mut quizzes = 0;
        for b in &s.blocks {
            let BlockKind::Quiz(quiz) = &b.kind else {
                continue;
            };
            let left_out: Vec<String> = quiz
                .questions
                .iter()
                .filter(|q| q.kind.cc_profile().is_none())
                .map(|q| format!("`{}` ({})", q.id, q.kind.name()))
                .collect();
            if !left_out.is_empty() {
                out.push(format!(
                    "quiz `{}`: question{} {} {} no Common Cartridge (QTI) type and {} left out of the cartridges",
                    b.id,
                    if left_out.len() == 1 { "" } else { "s" },
                    left_out.join(", "),
                    if left_out.len() == 1 { "has" } else { "have" },
                    if left_out.len() == 1 { "is" } else { "are" },
                ));
            }
            let n = quiz.cartridge_questions().count();
            if n == 0 {
                continue;
            }
            quizzes += 1;
            if let Some(draw) = quiz.draw.filter(|&d| (d as usize) < quiz.questions.len()) {
                out.push(format!(
                    "quiz `{}` draws {draw} of its {} questions; Common Cartridge has no random draw, so the cartridges' quiz holds all {n} (the LMS can draw at random from its question bank)",
                    b.id,
                    quiz.questions.len(),
                ));
            }
            if let Some(a) = quiz.attempts.filter(|&a| a > MAX_ATTEMPTS) {
                out.push(format!(
                    "quiz `{}` allows {a} attempts; Common Cartridge allows 1 to {MAX_ATTEMPTS} or unlimited, so the cartridges' quiz allows {MAX_ATTEMPTS}",
                    b.id,
                ));
            }
        }
        if let Some(pass) = s.completion.pass_percent
            && quizzes > 0
        {
            out.push(format!(
                "session `{}` has a pass mark of {pass}%; Common Cartridge quizzes carry none, so set the quiz's grade to pass in the LMS",
                s.id,
            ));
        }
    }
    out
}

/// The item's title: the prompt as plain text, cut to a length an LMS
/// takes as a question name.
fn item_title(q: &Question) -> String {
    const MAX: usize = 100;
    let plain = markdown_to_plain(&q.prompt);
    let plain = plain.split_whitespace().collect::<Vec<_>>().join(" ");
    if plain.chars().count() <= MAX {
        plain
    } else {
        let cut: String = plain.chars().take(MAX - 1).collect();
        format!("{}…", cut.trim_end())
    }
}

fn field(x: &mut Xml, label: &str, entry: &str) {
    x.start("qtimetadatafield", &[]);
    x.leaf("fieldlabel", &[], label);
    x.leaf("fieldentry", &[], entry);
    x.end("qtimetadatafield");
}

fn material(x: &mut Xml, html: &str) {
    x.start("material", &[]);
    x.leaf(
        "mattext",
        &[("texttype", "text/html")],
        &from_folder(html.trim_end()),
    );
    x.end("material");
}

/// HTML as the pages have it, with the relative `src` of its images (paths
/// from the cartridge's root) made relative to the assessment's folder,
/// `quizzes/<block-id>/`, which importers resolve them from.
fn from_folder(html: &str) -> String {
    const SRC: &str = " src=\"";
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(i) = rest.find(SRC) {
        let (head, tail) = rest.split_at(i + SRC.len());
        out.push_str(head);
        let value = &tail[..tail.find('"').unwrap_or(tail.len())];
        if !value.is_empty() && !value.starts_with(['/', '#']) && !value.contains(':') {
            out.push_str("../../");
        }
        rest = tail;
    }
    out.push_str(rest);
    out
}

fn feedback(x: &mut Xml, ident: &str, markdown: &str) {
    x.start("itemfeedback", &[("ident", ident)]);
    x.start("flow_mat", &[]);
    material(x, &markdown_to_html(markdown));
    x.end("flow_mat");
    x.end("itemfeedback");
}

fn display(x: &mut Xml, ident: &str) {
    x.empty(
        "displayfeedback",
        &[("feedbacktype", "Response"), ("linkrefid", ident)],
    );
}

fn set_score(x: &mut Xml, score: &str) {
    x.leaf("setvar", &[("varname", "SCORE"), ("action", "Set")], score);
}

/// The feedback identifier of an option (never `general_fb`, `hint` or
/// `solution`, whatever the option's id).
fn option_fb(c: &Choice) -> String {
    format!("fb_{}", c.id)
}

/// The assessment file of one quiz block. `schema_location` is the
/// profile's XSD for the cartridge's version; `untitled`, the title of a
/// quiz without one ([`Course::untitled_quiz`]).
pub fn assessment(block: &Block, quiz: &Quiz, schema_location: &str, untitled: &str) -> Vec<u8> {
    let title = block.title.as_deref().unwrap_or(untitled);
    let location = format!("{NS} {schema_location}");
    let mut x = Xml::new();
    x.start(
        "questestinterop",
        &[
            ("xmlns", NS),
            ("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"),
            ("xsi:schemaLocation", &location),
        ],
    );
    let ident = format!("ASSESSMENT_{}", block.id);
    x.start("assessment", &[("ident", &ident), ("title", title)]);
    x.start("qtimetadata", &[]);
    field(&mut x, "cc_profile", "cc.exam.v0p1");
    field(&mut x, "qmd_assessmenttype", "Examination");
    field(&mut x, "qmd_scoretype", "Percentage");
    field(&mut x, "qmd_feedbackpermitted", "Yes");
    field(&mut x, "qmd_hintspermitted", "No");
    field(&mut x, "qmd_solutionspermitted", "No");
    field(&mut x, "cc_maxattempts", &max_attempts(quiz));
    x.end("qtimetadata");
    if let Some(body) = &quiz.body {
        x.start("presentation_material", &[]);
        x.start("flow_mat", &[]);
        material(&mut x, &markdown_to_html(body));
        x.end("flow_mat");
        x.end("presentation_material");
    }
    let section = format!("SECTION_{}", block.id);
    x.start("section", &[("ident", &section)]);
    for q in quiz.cartridge_questions() {
        item(&mut x, block, quiz, q);
    }
    x.end("section");
    x.end("assessment");
    x.end("questestinterop");
    x.finish()
}

fn item(x: &mut Xml, block: &Block, quiz: &Quiz, q: &Question) {
    let Some(profile) = q.kind.cc_profile() else {
        return;
    };
    let ident = format!("ITEM_{}_{}", block.id, q.id);
    x.start("item", &[("ident", &ident), ("title", &item_title(q))]);
    x.start("itemmetadata", &[]);
    x.start("qtimetadata", &[]);
    field(x, "cc_profile", profile);
    field(x, "cc_weighting", "1");
    field(x, "qmd_computerscored", "Yes");
    x.end("qtimetadata");
    x.end("itemmetadata");

    // The question and its response.
    let tf_choices;
    let choices: &[Choice] = match &q.kind {
        QuestionKind::Single(c) | QuestionKind::Multiple(c) => c,
        QuestionKind::TrueFalse(answer) => {
            tf_choices = [true, false].map(|v| Choice {
                id: v.to_string(),
                text: if v { "True" } else { "False" }.into(),
                correct: v == *answer,
                feedback: None,
            });
            &tf_choices
        }
        QuestionKind::Text(_) => &[],
    };
    x.start("presentation", &[]);
    material(x, &markdown_to_html(&q.prompt));
    match &q.kind {
        QuestionKind::Text(_) => {
            x.start(
                "response_str",
                &[("ident", RESPONSE), ("rcardinality", "Single")],
            );
            x.start(
                "render_fib",
                &[("fibtype", "String"), ("prompt", "Box"), ("rows", "1")],
            );
            x.empty("response_label", &[("ident", "answer1")]);
            x.end("render_fib");
            x.end("response_str");
        }
        _ => {
            let cardinality = if matches!(q.kind, QuestionKind::Multiple(_)) {
                "Multiple"
            } else {
                "Single"
            };
            x.start(
                "response_lid",
                &[("ident", RESPONSE), ("rcardinality", cardinality)],
            );
            let shuffle = quiz.shuffle && !matches!(q.kind, QuestionKind::TrueFalse(_));
            x.start(
                "render_choice",
                &[("shuffle", if shuffle { "Yes" } else { "No" })],
            );
            for c in choices {
                x.start("response_label", &[("ident", &c.id)]);
                material(x, &markdown_inline(&c.text));
                x.end("response_label");
            }
            x.end("render_choice");
            x.end("response_lid");
        }
    }
    x.end("presentation");

    // Scoring and feedback.
    x.start("resprocessing", &[]);
    x.start("outcomes", &[]);
    x.empty(
        "decvar",
        &[
            ("varname", "SCORE"),
            ("vartype", "Decimal"),
            ("minvalue", "0"),
            ("maxvalue", "100"),
        ],
    );
    x.end("outcomes");
    if q.explanation.is_some() {
        x.start(
            "respcondition",
            &[("title", "General feedback"), ("continue", "Yes")],
        );
        x.start("conditionvar", &[]);
        x.empty("other", &[]);
        x.end("conditionvar");
        display(x, GENERAL_FB);
        x.end("respcondition");
    }
    let equal = |x: &mut Xml, value: &str, case: &str| {
        x.leaf(
            "varequal",
            &[("respident", RESPONSE), ("case", case)],
            value,
        );
    };
    match &q.kind {
        QuestionKind::Multiple(_) => {
            x.start("respcondition", &[("title", "Correct"), ("continue", "No")]);
            x.start("conditionvar", &[]);
            x.start("and", &[]);
            for c in choices {
                if c.correct {
                    equal(x, &c.id, "Yes");
                } else {
                    x.start("not", &[]);
                    equal(x, &c.id, "Yes");
                    x.end("not");
                }
            }
            x.end("and");
            x.end("conditionvar");
            set_score(x, "100");
            x.end("respcondition");
            for c in choices.iter().filter(|c| c.feedback.is_some()) {
                x.start("respcondition", &[("continue", "No")]);
                x.start("conditionvar", &[]);
                equal(x, &c.id, "Yes");
                x.end("conditionvar");
                display(x, &option_fb(c));
                x.end("respcondition");
            }
        }
        QuestionKind::Text(accept) => {
            x.start("respcondition", &[("title", "Correct"), ("continue", "No")]);
            x.start("conditionvar", &[]);
            for a in accept {
                let a = a.split_whitespace().collect::<Vec<_>>().join(" ");
                equal(x, &a, "No");
            }
            x.end("conditionvar");
            set_score(x, "100");
            x.end("respcondition");
        }
        _ => {
            // Single choice and true/false: the right option first, then
            // the others that have feedback.
            let right = choices.iter().filter(|c| c.correct);
            let wrong = choices
                .iter()
                .filter(|c| !c.correct && c.feedback.is_some());
            for c in right.chain(wrong) {
                let title = if c.correct { "Correct" } else { "Incorrect" };
                x.start("respcondition", &[("title", title), ("continue", "No")]);
                x.start("conditionvar", &[]);
                equal(x, &c.id, "Yes");
                x.end("conditionvar");
                set_score(x, if c.correct { "100" } else { "0" });
                if c.feedback.is_some() {
                    display(x, &option_fb(c));
                }
                x.end("respcondition");
            }
        }
    }
    x.end("resprocessing");
    if let Some(explanation) = &q.explanation {
        feedback(x, GENERAL_FB, explanation);
    }
    for c in choices {
        if let Some(f) = &c.feedback {
            feedback(x, &option_fb(c), f);
        }
    }
    x.end("item");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quiz(attempts: Option<u32>) -> Quiz {
        Quiz {
            body: None,
            questions: Vec::new(),
            draw: None,
            attempts,
            shuffle: false,
        }
    }

    #[test]
    fn images_are_found_from_the_assessment_folder() {
        assert_eq!(
            from_folder(
                r#"<p><img src="media/fig.png" alt="A"> <img src="https://x.org/a.png" alt=""></p>"#
            ),
            r#"<p><img src="../../media/fig.png" alt="A"> <img src="https://x.org/a.png" alt=""></p>"#
        );
        assert_eq!(from_folder("<p>src=\"x\"</p>"), "<p>src=\"x\"</p>");
    }

    #[test]
    fn attempts_fit_the_profile() {
        assert_eq!(max_attempts(&quiz(None)), "unlimited");
        assert_eq!(max_attempts(&quiz(Some(1))), "1");
        assert_eq!(max_attempts(&quiz(Some(5))), "5");
        assert_eq!(max_attempts(&quiz(Some(12))), "5");
    }

    #[test]
    fn option_feedback_never_takes_a_reserved_identifier() {
        for id in ["general", "hint", "solution", "correct"] {
            let c = Choice {
                id: id.into(),
                text: "x".into(),
                correct: false,
                feedback: None,
            };
            let fb = option_fb(&c);
            assert!(![GENERAL_FB, "hint", "solution"].contains(&fb.as_str()));
        }
    }
}
