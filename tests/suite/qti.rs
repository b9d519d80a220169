//! Knowledge checks in Common Cartridges: each quiz of the quiz fixture is
//! one IMS QTI 1.2.1 assessment (CC profile) in its session's folder, valid
//! against the profile's schema, with every question, its type, its right
//! answers and its feedback as course.toml says; the build warns about what
//! the profile cannot carry; rebuilds are byte-identical; the lti flavour and
//! the SCORM packages carry no QTI.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::cc::{VERSIONS, build_cc, cartridge, check_common, organisation, resources, text_of};
use crate::common::*;

fn quiz_course() -> PathBuf {
    root().join("tests/fixtures/quiz-course")
}

/// A copy of the quiz fixture with `from` replaced by `to` in course.toml.
fn quiz_course_edited(from: &str, to: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(quiz_course().join("course.toml")).unwrap();
    assert!(
        text.contains(from),
        "the quiz fixture no longer has {from:?}"
    );
    std::fs::write(dir.path().join("course.toml"), text.replace(from, to)).unwrap();
    dir
}

/// An element of a parsed document.
#[derive(Debug, Default)]
struct Node {
    name: String,
    attrs: BTreeMap<String, String>,
    text: String,
    children: Vec<Node>,
}

impl Node {
    fn parse(xml: &[u8]) -> Node {
        use quick_xml::events::Event;
        let mut reader = quick_xml::Reader::from_reader(xml);
        let mut stack = vec![Node::default()];
        let mut buf = Vec::new();
        let element = |e: &quick_xml::events::BytesStart| Node {
            name: String::from_utf8(e.name().as_ref().to_vec()).unwrap(),
            attrs: e
                .attributes()
                .map(|a| {
                    let a = a.unwrap();
                    (
                        String::from_utf8(a.key.as_ref().to_vec()).unwrap(),
                        a.unescape_value().unwrap().into_owned(),
                    )
                })
                .collect(),
            ..Node::default()
        };
        loop {
            match reader.read_event_into(&mut buf).unwrap() {
                Event::Start(e) => stack.push(element(&e)),
                Event::Empty(e) => stack.last_mut().unwrap().children.push(element(&e)),
                Event::End(_) => {
                    let n = stack.pop().unwrap();
                    stack.last_mut().unwrap().children.push(n);
                }
                Event::Text(t) => stack
                    .last_mut()
                    .unwrap()
                    .text
                    .push_str(&t.decode().unwrap()),
                Event::GeneralRef(r) => {
                    let c = match &*r {
                        b"lt" => '<',
                        b"gt" => '>',
                        b"amp" => '&',
                        b"quot" => '"',
                        b"apos" => '\'',
                        _ => r.resolve_char_ref().unwrap().unwrap(),
                    };
                    stack.last_mut().unwrap().text.push(c);
                }
                Event::Eof => break,
                _ => {}
            }
            buf.clear();
        }
        stack.pop().unwrap().children.pop().unwrap()
    }

    fn attr(&self, name: &str) -> &str {
        self.attrs.get(name).map_or("", String::as_str)
    }

    fn all<'a>(&'a self, name: &str) -> Vec<&'a Node> {
        let mut out = Vec::new();
        for c in &self.children {
            if c.name == name {
                out.push(c);
            }
            out.extend(c.all(name));
        }
        out
    }

    fn child(&self, name: &str) -> &Node {
        self.children
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("<{}> has no <{name}>", self.name))
    }

    /// `fieldentry` of the `qtimetadata` field `label` directly in `self`.
    fn meta(&self, label: &str) -> Option<String> {
        self.child("qtimetadata")
            .children
            .iter()
            .find(|f| f.child("fieldlabel").text == label)
            .map(|f| f.child("fieldentry").text.clone())
    }
}

/// A question as course.toml states it.
#[derive(Debug)]
struct QuestionSpec {
    id: String,
    kind: String,
    /// Option ids in order (`true`, `false` for true/false).
    options: Vec<String>,
    /// Right option ids, or accepted answers.
    right: Vec<String>,
    /// Options with feedback.
    with_feedback: Vec<String>,
    explanation: bool,
}

/// Quiz block id -> (title, attempts, questions), from course.toml.
fn quizzes_of(course: &Path) -> BTreeMap<String, (String, Option<i64>, Vec<QuestionSpec>)> {
    let text = std::fs::read_to_string(course.join("course.toml")).unwrap();
    let doc: toml::Table = toml::from_str(&text).unwrap();
    let mut out = BTreeMap::new();
    for s in doc["session"].as_array().unwrap() {
        for b in s["block"].as_array().unwrap() {
            if b["type"].as_str() != Some("quiz") {
                continue;
            }
            let questions = b["questions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|q| {
                    let kind = q["type"].as_str().unwrap().to_string();
                    let options: Vec<&toml::Value> = q
                        .get("options")
                        .and_then(|o| o.as_array())
                        .into_iter()
                        .flatten()
                        .collect();
                    let ids = |f: &dyn Fn(&toml::Value) -> bool| -> Vec<String> {
                        options
                            .iter()
                            .filter(|o| f(o))
                            .map(|o| o["id"].as_str().unwrap().to_string())
                            .collect()
                    };
                    let (all, right) = match kind.as_str() {
                        "true-false" => (
                            vec!["true".to_string(), "false".to_string()],
                            vec![q["answer"].as_bool().unwrap().to_string()],
                        ),
                        "text" => (
                            Vec::new(),
                            q["accept"]
                                .as_array()
                                .unwrap()
                                .iter()
                                .map(|a| a.as_str().unwrap().to_string())
                                .collect(),
                        ),
                        _ => (
                            ids(&|_| true),
                            ids(&|o| o.get("correct").and_then(|c| c.as_bool()) == Some(true)),
                        ),
                    };
                    QuestionSpec {
                        id: q["id"].as_str().unwrap().into(),
                        kind,
                        options: all,
                        right,
                        with_feedback: ids(&|o| o.get("feedback").is_some()),
                        explanation: q.get("explanation").is_some(),
                    }
                })
                .collect();
            out.insert(
                b["id"].as_str().unwrap().to_string(),
                (
                    b["title"].as_str().unwrap().to_string(),
                    b.get("attempts").and_then(|a| a.as_integer()),
                    questions,
                ),
            );
        }
    }
    out
}

/// Checks one assessment against its quiz in course.toml.
fn check_assessment(xml: &[u8], title: &str, attempts: Option<i64>, questions: &[QuestionSpec]) {
    let root = Node::parse(xml);
    assert_eq!(root.name, "questestinterop");
    assert_eq!(
        root.attr("xmlns"),
        "http://www.imsglobal.org/xsd/ims_qtiasiv1p2"
    );
    let assessment = root.child("assessment");
    assert_eq!(assessment.attr("title"), title);
    assert_eq!(
        assessment.meta("cc_profile").as_deref(),
        Some("cc.exam.v0p1")
    );
    let expected_attempts = attempts.map_or("unlimited".to_string(), |a| a.min(5).to_string());
    assert_eq!(assessment.meta("cc_maxattempts"), Some(expected_attempts));
    let items = assessment.child("section").all("item");
    // The whole bank, draw or not, in course order.
    assert_eq!(
        items.len(),
        questions.len(),
        "{title}: one item per question"
    );
    for (item, q) in items.iter().zip(questions) {
        let what = format!("{title} / {}", q.id);
        assert!(
            item.attr("ident").ends_with(&format!("_{}", q.id)),
            "{what}"
        );
        assert!(
            !item.attr("title").is_empty(),
            "{what}: the item has a name"
        );
        let meta = item.child("itemmetadata");
        let profile = match q.kind.as_str() {
            "single" => "cc.multiple_choice.v0p1",
            "multiple" => "cc.multiple_response.v0p1",
            "true-false" => "cc.true_false.v0p1",
            "text" => "cc.fib.v0p1",
            other => panic!("unknown type {other}"),
        };
        assert_eq!(meta.meta("cc_profile").as_deref(), Some(profile), "{what}");
        assert_eq!(
            meta.meta("qmd_computerscored").as_deref(),
            Some("Yes"),
            "{what}"
        );
        let presentation = item.child("presentation");
        // Importers take the first material as the question text.
        assert!(
            presentation.children[0].name == "material"
                && presentation.children[0].child("mattext").attr("texttype") == "text/html",
            "{what}"
        );
        let processing = item.child("resprocessing");
        let conditions = processing.all("respcondition");
        let scoring: Vec<&&Node> = conditions
            .iter()
            .filter(|c| {
                c.children
                    .iter()
                    .any(|s| s.name == "setvar" && s.text == "100")
            })
            .collect();
        assert_eq!(scoring.len(), 1, "{what}: one condition scores 100");
        let scoring = scoring[0];
        assert_eq!(scoring.attr("continue"), "No", "{what}");
        let respident = scoring.all("varequal")[0].attr("respident").to_string();
        if q.kind == "text" {
            let response = presentation.child("response_str");
            assert_eq!(response.attr("ident"), respident, "{what}");
            assert_eq!(response.child("render_fib").attr("fibtype"), "String");
            let accepted: Vec<&str> = scoring
                .child("conditionvar")
                .children
                .iter()
                .map(|v| {
                    assert_eq!(v.attr("case"), "No", "{what}: case-insensitive");
                    v.text.as_str()
                })
                .collect();
            assert_eq!(accepted, q.right, "{what}: every accepted answer");
        } else {
            let response = presentation.child("response_lid");
            assert_eq!(response.attr("ident"), respident, "{what}");
            let cardinality = if q.kind == "multiple" {
                "Multiple"
            } else {
                "Single"
            };
            assert_eq!(response.attr("rcardinality"), cardinality, "{what}");
            let labels: Vec<&str> = response
                .all("response_label")
                .iter()
                .map(|l| l.attr("ident"))
                .collect();
            assert_eq!(labels, q.options, "{what}: every option in order");
            // The right options: the scoring condition's varequal, not under `not`.
            let right: Vec<&str> = match q.kind.as_str() {
                "multiple" => scoring
                    .child("conditionvar")
                    .child("and")
                    .children
                    .iter()
                    .filter(|c| c.name == "varequal")
                    .map(|v| {
                        // Moodle's restore counts only these as right.
                        assert_eq!(v.attr("case"), "Yes", "{what}");
                        v.text.as_str()
                    })
                    .collect(),
                _ => scoring
                    .child("conditionvar")
                    .children
                    .iter()
                    .map(|v| v.text.as_str())
                    .collect(),
            };
            assert_eq!(right, q.right, "{what}: the right options");
            if q.kind == "multiple" {
                let wrong: Vec<&str> = scoring
                    .all("not")
                    .iter()
                    .map(|n| n.child("varequal").text.as_str())
                    .collect();
                let expected: Vec<&String> =
                    q.options.iter().filter(|o| !q.right.contains(o)).collect();
                assert_eq!(wrong.len(), expected.len(), "{what}: the wrong options");
            }
        }
        // Feedback: the explanation unconditionally (the only condition that
        // continues), each option's on its own condition.
        let feedback: BTreeMap<&str, &Node> = item
            .all("itemfeedback")
            .into_iter()
            .map(|f| (f.attr("ident"), f))
            .collect();
        let continuing: Vec<&&Node> = conditions
            .iter()
            .filter(|c| c.attr("continue") == "Yes")
            .collect();
        if q.explanation {
            assert_eq!(continuing.len(), 1, "{what}");
            assert!(continuing[0].child("conditionvar").children[0].name == "other");
            let id = continuing[0].child("displayfeedback").attr("linkrefid");
            assert_eq!(id, "general_fb");
            assert!(
                feedback.contains_key(id),
                "{what}: the explanation is there"
            );
        } else {
            assert!(continuing.is_empty(), "{what}");
        }
        for option in &q.with_feedback {
            let shown = conditions.iter().find(|c| {
                c.child("conditionvar")
                    .children
                    .first()
                    .is_some_and(|v| v.name == "varequal" && &v.text == option)
                    && c.children.iter().any(|d| d.name == "displayfeedback")
            });
            let shown = shown.unwrap_or_else(|| panic!("{what}: no feedback for {option}"));
            let id = shown.child("displayfeedback").attr("linkrefid");
            assert!(feedback.contains_key(id), "{what}: feedback {id} is there");
        }
        assert_eq!(
            feedback.len(),
            q.with_feedback.len() + usize::from(q.explanation),
            "{what}: no other feedback"
        );
    }
}

#[test]
fn each_quiz_is_one_valid_qti_assessment_in_its_session() {
    let course = quiz_course();
    let quizzes = quizzes_of(&course);
    assert_eq!(quizzes.len(), 2, "the fixture has two quizzes");
    let kinds: std::collections::BTreeSet<&str> = quizzes
        .values()
        .flat_map(|(_, _, qs)| qs.iter().map(|q| q.kind.as_str()))
        .collect();
    assert_eq!(kinds.len(), 4, "the fixture has every question type");
    let out = build_cc(&course, "web");
    for v in VERSIONS {
        // Every file listed, every descriptor (the QTI too) schema-valid
        // with the right resource type: see cc.rs.
        let files = check_common(&cartridge(out.path(), v), v);
        let manifest = &files["imsmanifest.xml"];
        let res = resources(manifest);
        let assessments: Vec<_> = res.iter().filter(|(_, r)| r.0 == v.qti_type).collect();
        assert_eq!(
            assessments.len(),
            quizzes.len(),
            "{}: one assessment per quiz",
            v.target
        );
        for (id, (_, href, rfiles, deps)) in &assessments {
            // The profile: exactly one file, no href, no dependency.
            assert!(
                href.is_none() && deps.is_empty() && rfiles.len() == 1,
                "{id}"
            );
        }
        // Each quiz is an item of its session's folder, after the page,
        // titled as the quiz.
        let root = organisation(manifest);
        let mut seen = 0;
        for folder in root.children.iter().filter(|f| f.idref.is_none()) {
            for item in &folder.children[1..] {
                let (kind, _, rfiles, _) = &res[item.idref.as_ref().unwrap()];
                if kind != v.qti_type {
                    continue;
                }
                let block = item.id.strip_prefix("ITEM_block_").unwrap();
                let (title, attempts, questions) = &quizzes[block];
                assert_eq!(&item.title, title, "{}", v.target);
                assert_eq!(rfiles[0], format!("quizzes/{block}/assessment_qti.xml"));
                check_assessment(&files[&rfiles[0]], title, *attempts, questions);
                seen += 1;
            }
        }
        assert_eq!(seen, quizzes.len(), "{}", v.target);
        // The session page points to the quiz instead of scoring it.
        for (title, _, _) in quizzes.values() {
            let pages: String = files
                .iter()
                .filter(|(n, _)| n.ends_with(".html"))
                .map(|(_, b)| String::from_utf8_lossy(b).into_owned())
                .collect();
            assert!(
                pages.contains(&format!("Answer the quiz “{title}” in this session.")),
                "{}: {title}",
                v.target
            );
            assert!(!pages.contains("scored in the online version"));
        }
    }
}

#[test]
fn the_build_warns_about_what_the_profile_cannot_carry() {
    let course = quiz_course_edited("attempts = 3", "attempts = 8");
    let out = tempfile::tempdir().unwrap();
    let output = coursepack(
        &root(),
        &[
            "build",
            course.path().to_str().unwrap(),
            "--target",
            "cc11,cc13",
            "--out",
            out.path().to_str().unwrap(),
        ],
    );
    let err = stderr(&output);
    assert!(output.status.success(), "{err}");
    for expected in [
        "warning: quiz `responding-check` draws 2 of its 3 questions; Common Cartridge has no random draw, so the cartridges' quiz holds all 3",
        "warning: quiz `basics-check` allows 8 attempts; Common Cartridge allows 1 to 5 or unlimited, so the cartridges' quiz allows 5",
        "warning: session `feedback-basics` has a pass mark of 75%",
    ] {
        assert_eq!(
            err.matches(expected).count(),
            1,
            "once for both cartridges: {expected}\n{err}"
        );
    }
    for v in VERSIONS {
        let files = unzip(&cartridge(out.path(), v));
        let xml = &files["quizzes/basics-check/assessment_qti.xml"];
        assert_valid(xml, crate::cc::QTI_SCHEMA, v.target);
        let fields = text_of(xml, "fieldlabel");
        let entries = text_of(xml, "fieldentry");
        let i = fields.iter().position(|f| f == "cc_maxattempts").unwrap();
        assert_eq!(entries[i], "5", "{}: clamped", v.target);
    }
    // `--quiet` prints none; SCORM targets have nothing to say.
    for (targets, quiet) in [("cc11,cc13", true), ("scorm12,scorm2004", false)] {
        let out = tempfile::tempdir().unwrap();
        let mut args = vec![
            "build",
            course.path().to_str().unwrap(),
            "--target",
            targets,
            "--out",
            out.path().to_str().unwrap(),
        ];
        if quiet {
            args.push("--quiet");
        }
        let output = coursepack(&root(), &args);
        assert!(output.status.success());
        assert!(
            !stderr(&output).contains("Common Cartridge"),
            "{targets}: {}",
            stderr(&output)
        );
    }
}

#[test]
fn quiz_cartridges_rebuild_byte_identical() {
    for flavour in ["web", "lti"] {
        let a = build_cc(&quiz_course(), flavour);
        let b = build_cc(&quiz_course(), flavour);
        for v in VERSIONS {
            assert_eq!(
                std::fs::read(cartridge(a.path(), v)).unwrap(),
                std::fs::read(cartridge(b.path(), v)).unwrap(),
                "{flavour} {}",
                v.target
            );
        }
    }
}

#[test]
fn the_lti_flavour_and_scorm_carry_no_qti() {
    let out = build_cc(&quiz_course(), "lti");
    for v in VERSIONS {
        let files = check_common(&cartridge(out.path(), v), v);
        assert!(
            !files.keys().any(|k| k.starts_with("quizzes/")),
            "{}",
            v.target
        );
        let manifest = String::from_utf8_lossy(&files["imsmanifest.xml"]).into_owned();
        assert!(!manifest.contains("imsqti"), "{}", v.target);
    }
    // The SCORM pages score the quiz themselves.
    let (out, _) = build(&quiz_course(), "scorm12,scorm2004");
    for zip in std::fs::read_dir(out.path()).unwrap() {
        let files = unzip(&zip.unwrap().path());
        assert!(!files.keys().any(|k| k.starts_with("quizzes/")));
        for (name, bytes) in files.iter().filter(|(n, _)| n.ends_with(".html")) {
            let page = String::from_utf8_lossy(bytes);
            assert!(!page.contains("Answer the quiz"), "{name}");
        }
    }
}

#[test]
fn images_in_a_quiz_are_found_from_its_folder() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("media")).unwrap();
    std::fs::copy(
        root().join("tests/fixtures/every-block/media/fig.png"),
        dir.path().join("media/fig.png"),
    )
    .unwrap();
    let text = std::fs::read_to_string(quiz_course().join("course.toml")).unwrap();
    let from = "body = \"Four questions. You need three right to pass.\"";
    assert!(text.contains(from));
    std::fs::write(
        dir.path().join("course.toml"),
        text.replace(
            from,
            "body = \"Look at this first: ![A figure](media/fig.png)\"",
        ),
    )
    .unwrap();
    let out = build_cc(dir.path(), "web");
    for v in VERSIONS {
        // Valid, every reference resolves, the image is in the cartridge.
        let files = check_common(&cartridge(out.path(), v), v);
        let res = resources(&files["imsmanifest.xml"]);
        let xml =
            String::from_utf8_lossy(&files["quizzes/basics-check/assessment_qti.xml"]).into_owned();
        assert!(xml.contains("src=&quot;../../media/fig.png&quot;"), "{xml}");
        // The image travels with the session page, which the quiz depends on.
        let quiz = &res["RES_block_basics-check"];
        assert_eq!(quiz.3, ["RES_page_feedback-basics"], "{}", v.target);
        assert!(
            res["RES_page_feedback-basics"]
                .2
                .contains(&"media/fig.png".to_string())
        );
        assert!(res["RES_block_responding-check"].3.is_empty());
    }
}
