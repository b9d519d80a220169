//! cmi5 packages: cmi5.xml against the official CourseStructure.xsd, its
//! AUs and their pages, stable IRIs, and `[packaging] iri_base`.

use crate::common::*;

const SCHEMA: &str = "cmi5/CourseStructure.xsd";
const SESSIONS: [&str; 3] = [
    "problem-with-feedback",
    "how-online-feedback-works",
    "benefits-and-risks",
];

fn quiz_course() -> std::path::PathBuf {
    root().join("tests/fixtures/quiz-course")
}

/// The files of the cmi5 package `name` in `out`, once its cmi5.xml passed the schema.
fn package(out: &std::path::Path, name: &str) -> std::collections::BTreeMap<String, Vec<u8>> {
    let files = unzip(&out.join(name));
    let xml = files.get("cmi5.xml").expect("cmi5.xml at the package root");
    assert_valid(xml, SCHEMA, &format!("{name} cmi5.xml"));
    files
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[test]
fn the_seed_course_is_one_au_per_session_each_page_marked() {
    let (out, output) = build(&seed_course(), "cmi5");
    let name = "care-opinion-feedback-1.0.0-cmi5.zip";
    assert!(stdout(&output).contains(name), "{}", stdout(&output));
    let files = package(out.path(), name);
    let xml = &files["cmi5.xml"];
    assert_eq!(
        attr_values(xml, "course", "id"),
        ["urn:coursepack:care-opinion-feedback"]
    );
    let ids: Vec<String> = SESSIONS
        .iter()
        .map(|s| format!("urn:coursepack:care-opinion-feedback/au/{s}"))
        .collect();
    assert_eq!(attr_values(xml, "au", "id"), ids);
    assert_eq!(attr_values(xml, "au", "moveOn"), ["Completed"; 3]);
    assert_eq!(attr_values(xml, "au", "launchMethod"), ["AnyWindow"; 3]);
    assert!(attr_values(xml, "au", "masteryScore").is_empty());
    let doc = text(xml);
    assert!(doc.contains(r#"<langstring lang="en-GB">Public online feedback for healthcare improvement</langstring>"#), "{doc}");
    for (s, id) in SESSIONS.iter().zip(&ids) {
        // Each AU launches its session's page, which says it is that AU.
        let page = format!("{s}.html");
        assert!(doc.contains(&format!("<url>{page}</url>")), "{doc}");
        let html = text(&files[&page]);
        assert!(
            html.contains(&format!(
                r#"<script type="application/json" id="cp-cmi5">{{"au":"{id}"}}</script>"#
            )),
            "{page} carries its AU"
        );
    }
    assert!(!text(&files["index.html"]).contains("cp-cmi5"));
    // Besides the island, the pages are the SCORM packages' pages.
    let (scorm, _) = build(&seed_course(), "scorm12");
    let scorm = unzip(&scorm.path().join("care-opinion-feedback-1.0.0-scorm12.zip"));
    for s in SESSIONS {
        let page = format!("{s}.html");
        let html = text(&files[&page]);
        let start = html
            .find(r#"<script type="application/json" id="cp-cmi5">"#)
            .unwrap();
        let end = start + html[start..].find("</script>\n").unwrap() + "</script>\n".len();
        assert_eq!(
            format!("{}{}", &html[..start], &html[end..]),
            text(&scorm[&page])
        );
    }
    assert_eq!(
        files["coursepack/runtime.js"],
        scorm["coursepack/runtime.js"]
    );
}

#[test]
fn pass_marks_become_move_on_and_mastery_scores() {
    let (out, _) = build(&quiz_course(), "cmi5");
    let files = package(out.path(), "quiz-course-1.0.0-cmi5.zip");
    let xml = &files["cmi5.xml"];
    assert_eq!(
        attr_values(xml, "au", "moveOn"),
        ["Completed", "CompletedAndPassed"]
    );
    assert_eq!(attr_values(xml, "au", "masteryScore"), ["0.75", "0.5"]);
}

#[test]
fn the_course_as_one_au_launches_the_player() {
    {
        let args = ["--sco", "course"];
        let out = tempfile::tempdir().unwrap();
        let mut all = vec![
            "build",
            "tests/fixtures/quiz-course",
            "-q",
            "--target",
            "cmi5",
            "--out",
            out.path().to_str().unwrap(),
        ];
        all.extend_from_slice(&args);
        let o = coursepack(&root(), &all);
        assert!(o.status.success(), "{}", stderr(&o));
        let files = package(out.path(), "quiz-course-1.0.0-cmi5.zip");
        let xml = &files["cmi5.xml"];
        assert_eq!(
            attr_values(xml, "au", "id"),
            ["urn:coursepack:quiz-course/au"]
        );
        assert_eq!(attr_values(xml, "au", "moveOn"), ["CompletedAndPassed"]);
        assert!(attr_values(xml, "au", "masteryScore").is_empty());
        assert!(text(xml).contains("<url>course.html</url>"));
        assert!(text(&files["course.html"]).contains(r#"id="cp-cmi5""#));
        // The session pages inside the player report to it, not to the LMS.
        assert!(!text(&files["responding.html"]).contains("cp-cmi5"));
    }
    // `[packaging] sco` in course.toml says the same.
    let edited = seed_course_edited("[packaging]", "[packaging]\nsco = \"course\"");
    let (out, _) = build(edited.path(), "cmi5");
    let files = package(out.path(), "care-opinion-feedback-1.0.0-cmi5.zip");
    assert_eq!(attr_values(&files["cmi5.xml"], "au", "id").len(), 1);
}

#[test]
fn iris_are_stable_across_rebuilds_and_follow_iri_base() {
    let (a, _) = build(&seed_course(), "cmi5");
    let (b, _) = build(&seed_course(), "cmi5");
    let name = "care-opinion-feedback-1.0.0-cmi5.zip";
    assert!(
        std::fs::read(a.path().join(name)).unwrap() == std::fs::read(b.path().join(name)).unwrap(),
        "the cmi5 package differs between two builds"
    );
    // A new version keeps every IRI: the LMS keeps the learners' records.
    let edited = seed_course_edited(
        "[packaging]",
        "[packaging]\niri_base = \"https://courses.example.org/care/\"",
    );
    let (out, _) = build(edited.path(), "cmi5");
    let files = package(out.path(), name);
    assert_eq!(
        attr_values(&files["cmi5.xml"], "course", "id"),
        ["https://courses.example.org/care"]
    );
    assert_eq!(
        attr_values(&files["cmi5.xml"], "au", "id")[0],
        "https://courses.example.org/care/au/problem-with-feedback"
    );
    let bad = seed_course_edited("[packaging]", "[packaging]\niri_base = \"courses example\"");
    let o = coursepack(bad.path(), &["check", "."]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("`courses example` is not a web address"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn split_packages_are_courses_of_their_own() {
    let edited = seed_course_edited("split = \"course\"", "split = \"session\"");
    let (out, _) = build(edited.path(), "cmi5");
    for s in SESSIONS {
        let files = package(
            out.path(),
            &format!("care-opinion-feedback-1.0.0-cmi5-{s}.zip"),
        );
        let xml = &files["cmi5.xml"];
        assert_eq!(
            attr_values(xml, "course", "id"),
            [format!("urn:coursepack:care-opinion-feedback/part/{s}")]
        );
        assert_eq!(
            attr_values(xml, "au", "id"),
            [format!("urn:coursepack:care-opinion-feedback/au/{s}")]
        );
    }
}
