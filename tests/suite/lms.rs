//! `check --lms` (and `build --lms`): each LMS's rules on fixture courses,
//! a finding that fires and one that does not, read from the JSON report
//! and, for the positions, against course.toml's own text.

use std::path::Path;

use serde_json::Value;

use crate::common::*;

/// `coursepack check <course> --format json <args…>`: exit code and report.
fn check_json(course: &Path, args: &[&str]) -> (i32, Value) {
    let mut all = vec!["check", course.to_str().unwrap(), "--format", "json"];
    all.extend_from_slice(args);
    let out = coursepack(&root(), &all);
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is one JSON document ({e}): {}", stdout(&out)));
    (out.status.code().unwrap(), report)
}

/// The problems of a report whose `code` starts with `prefix`.
fn findings<'a>(report: &'a Value, prefix: &str) -> Vec<&'a Value> {
    report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["code"].as_str().is_some_and(|c| c.starts_with(prefix)))
        .collect()
}

/// The one finding named `code`, or a panic listing what there was.
fn the<'a>(report: &'a Value, code: &str) -> &'a Value {
    let found = findings(report, code);
    assert_eq!(found.len(), 1, "one `{code}` expected in {report:#}");
    found[0]
}

/// The text of course.toml at a finding's line and column.
fn text_at(course: &Path, finding: &Value) -> String {
    let text = std::fs::read_to_string(course.join("course.toml")).unwrap();
    let line = finding["line"].as_u64().expect("a line") as usize;
    let column = finding["column"].as_u64().expect("a column") as usize;
    text.lines()
        .nth(line - 1)
        .unwrap()
        .chars()
        .skip(column - 1)
        .collect()
}

/// A course of `sessions` sessions, each with one reflection of
/// `max_chars`, and `packaging` as the `[packaging]` table's body.
fn course_with(dir: &Path, sessions: usize, max_chars: u32, packaging: &str) {
    let mut toml = format!(
        "[course]\nid = \"lms-fixture\"\ntitle = \"LMS fixture\"\n\n[packaging]\n{packaging}\n"
    );
    for i in 1..=sessions {
        toml.push_str(&format!(
            "\n[[session]]\nid = \"s{i}\"\ntitle = \"Session {i}\"\n\n[[session.block]]\ntype = \"reflection\"\nid = \"r{i}\"\nquestion = \"Why?\"\nmax_chars = {max_chars}\n"
        ));
    }
    std::fs::write(dir.join("course.toml"), toml).unwrap();
}

#[test]
fn moodle_refuses_cc13_and_takes_cc11() {
    let course = seed_course();
    // Only a CC 1.3 cartridge: nothing Moodle can restore, an error.
    let (code, report) = check_json(&course, &["--lms", "moodle", "--target", "cc13"]);
    assert_eq!(code, 2, "{report:#}");
    assert_eq!(report["ok"], false);
    // The course loaded: the report says which it is.
    assert_eq!(report["course"]["id"], "care-opinion-feedback");
    let f = the(&report, "moodle/format");
    assert_eq!(f["severity"], "error");
    assert!(
        f["message"].as_str().unwrap().starts_with(
            "Moodle: the cc13 package: Moodle restores only Common Cartridge 1.0 and 1.1"
        ),
        "{f:#}"
    );
    assert!(
        f["help"].as_str().unwrap().contains("--target cc11"),
        "{f:#}"
    );
    // It comes from the command line: no place in course.toml.
    assert_eq!(f["file"], Value::Null);
    // Beside a CC 1.1 cartridge: a warning not to upload it.
    let (code, report) = check_json(&course, &["--lms", "MOODLE", "--target", "cc11,cc13"]);
    assert_eq!(code, 0);
    assert_eq!(the(&report, "moodle/format")["severity"], "warning");
    // CC 1.1 alone: nothing.
    let (code, report) = check_json(&course, &["--lms", "moodle", "--target", "cc11"]);
    assert_eq!(code, 0);
    assert!(findings(&report, "moodle/").is_empty(), "{report:#}");
}

#[test]
fn moodle_scorm2004_with_one_sco_a_session_points_at_the_sco_key() {
    let dir = seed_course_edited(
        "split = \"course\"   # one package, one SCO per session",
        "split = \"course\"\nsco = \"session\"",
    );
    let course = dir.path();
    let (code, report) = check_json(course, &["--lms", "moodle", "--target", "scorm2004"]);
    assert_eq!(code, 2, "{report:#}");
    let f = the(&report, "moodle/scorm2004-several-scos");
    assert_eq!(f["severity"], "error");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("records only the first SCO a learner opens per visit"),
        "{f:#}"
    );
    assert!(
        f["help"].as_str().unwrap().contains("`sco = \"course\"`"),
        "{f:#}"
    );
    assert!(
        f["file"].as_str().unwrap().ends_with("course.toml"),
        "{f:#}"
    );
    assert!(text_at(course, f).starts_with("\"session\""), "{f:#}");
    assert_eq!(f["line"], 45);
    assert_eq!(f["column"], 7);
    // With the SCORM 1.2 package beside it, upload that one: a warning.
    let (code, report) = check_json(
        course,
        &["--lms", "moodle", "--target", "scorm12,scorm2004"],
    );
    assert_eq!(code, 0);
    assert_eq!(
        the(&report, "moodle/scorm2004-several-scos")["severity"],
        "warning"
    );
    // The human output says the same at the same place, and stops the build.
    let out = coursepack(
        &root(),
        &[
            "build",
            course.to_str().unwrap(),
            "--lms",
            "moodle",
            "--target",
            "scorm2004",
            "--out",
            dir.path().join("dist").to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out)
            .contains("course.toml:45:7: Moodle: the SCORM 2004 package has one SCO per session"),
        "{}",
        stderr(&out)
    );
    assert!(!dir.path().join("dist").exists(), "nothing is written");
    // scorm2004's own default, the course as one SCO, is fine.
    let (code, report) = check_json(
        &seed_course(),
        &["--lms", "moodle", "--target", "scorm2004"],
    );
    assert_eq!(code, 0);
    assert!(findings(&report, "moodle/").is_empty(), "{report:#}");
}

#[test]
fn moodle_lti_links_need_a_line_item() {
    let course = seed_course();
    let lti = [
        "--lms",
        "moodle",
        "--target",
        "cc11",
        "--cc-flavour",
        "lti",
        "--tool-url",
        "https://tool.example.org",
    ];
    let (code, report) = check_json(&course, &lti);
    assert_eq!(code, 0);
    let f = the(&report, "moodle/lti-links-without-grade");
    assert_eq!(f["severity"], "warning");
    assert!(
        f["message"].as_str().unwrap().contains("no grade item"),
        "{f:#}"
    );
    assert!(
        f["help"]
            .as_str()
            .unwrap()
            .contains("Use this service for grade sync and column management"),
        "{f:#}"
    );
    let (_, report) = check_json(&course, &["--lms", "moodle", "--target", "cc11"]);
    assert!(findings(&report, "moodle/lti").is_empty(), "{report:#}");
}

#[test]
fn moodle_upload_size_and_scorm12_state_of_the_course_as_one_sco() {
    // The seed course's state as one SCO needs more than SCORM 1.2's 4096
    // characters: `--sco course` (which course.toml does not say, so
    // loading did not warn) is caught for Moodle, at the course id.
    let course = seed_course();
    let (code, report) = check_json(
        &course,
        &["--lms", "moodle", "--target", "scorm12", "--sco", "course"],
    );
    assert_eq!(code, 0);
    let f = the(&report, "scorm12/suspend-data");
    assert_eq!(f["severity"], "warning");
    assert!(
        f["message"].as_str().unwrap().contains("scorm12standard"),
        "{f:#}"
    );
    assert!(
        text_at(&course, f).starts_with("\"care-opinion-feedback\""),
        "{f:#}"
    );
    let (_, report) = check_json(&course, &["--lms", "moodle", "--target", "scorm12"]);
    assert!(findings(&report, "scorm12/").is_empty(), "{report:#}");
    assert!(
        findings(&report, "moodle/upload-size").is_empty(),
        "{report:#}"
    );

    // A 3 MB video: over PHP's default upload limit.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("media")).unwrap();
    std::fs::write(dir.path().join("media/big.mp4"), vec![0u8; 3 << 20]).unwrap();
    std::fs::write(
        dir.path().join("course.toml"),
        "[course]\nid = \"big\"\ntitle = \"Big\"\n\n[[session]]\nid = \"s\"\ntitle = \"S\"\n\n[[session.block]]\ntype = \"video\"\nid = \"v\"\ntitle = \"V\"\nfile = \"media/big.mp4\"\ntranscript = \"Words.\"\n",
    )
    .unwrap();
    let (code, report) = check_json(dir.path(), &["--lms", "moodle", "--target", "scorm12"]);
    assert_eq!(code, 0, "{report:#}");
    let f = the(&report, "moodle/upload-size");
    assert!(f["message"].as_str().unwrap().contains("3.0 MB"), "{f:#}");
    // Other LMSs say nothing of it.
    let (_, report) = check_json(dir.path(), &["--lms", "blackboard", "--target", "scorm12"]);
    assert!(findings(&report, "").is_empty(), "{report:#}");
}

#[test]
fn scorm2004_state_of_a_large_course_as_one_sco() {
    // Two sessions of 20,000-character answers: each fits SCORM 2004's
    // 64000 characters alone, not together in one SCO.
    let dir = tempfile::tempdir().unwrap();
    course_with(dir.path(), 2, 20_000, "sco = \"course\"");
    for lms in ["moodle", "blackboard", "canvas", "scorm-cloud"] {
        let (code, report) = check_json(dir.path(), &["--lms", lms, "--target", "scorm2004"]);
        assert_eq!(code, 0, "{report:#}");
        let f = the(&report, "scorm2004/suspend-data");
        assert_eq!(f["severity"], "warning");
        assert!(f["message"].as_str().unwrap().contains("64000"), "{f:#}");
        assert!(text_at(dir.path(), f).starts_with("\"course\""), "{f:#}");
    }
    // One SCO a session: each fits.
    let (_, report) = check_json(
        dir.path(),
        &[
            "--lms",
            "blackboard",
            "--target",
            "scorm2004",
            "--sco",
            "session",
        ],
    );
    assert!(findings(&report, "scorm2004/").is_empty(), "{report:#}");
}

#[test]
fn blackboard_warns_of_cc13_only() {
    let course = seed_course();
    let (code, report) = check_json(&course, &["--lms", "blackboard", "--target", "cc13"]);
    // Not known to work, not known to fail: a warning, even alone.
    assert_eq!(code, 0);
    let f = the(&report, "blackboard/format");
    assert_eq!(f["severity"], "warning");
    assert!(
        f["message"].as_str().unwrap().contains("1.0 to 1.2"),
        "{f:#}"
    );
    let (_, report) = check_json(
        &course,
        &["--lms", "blackboard", "--target", "cc11,scorm12,scorm2004"],
    );
    assert!(findings(&report, "").is_empty(), "{report:#}");
}

#[test]
fn canvas_scorm_through_its_tool_and_cc13_preferred() {
    let course = seed_course();
    let (code, report) = check_json(&course, &["--lms", "canvas", "--target", "scorm12,cc11"]);
    assert_eq!(code, 0);
    let f = the(&report, "canvas/format");
    assert!(
        f["message"].as_str().unwrap().contains("SCORM tool"),
        "{f:#}"
    );
    assert_eq!(f["severity"], "warning");
    assert_eq!(the(&report, "canvas/cc13-preferred")["severity"], "warning");
    // A CC 1.3 cartridge: nothing to say.
    let (_, report) = check_json(&course, &["--lms", "canvas", "--target", "cc13"]);
    assert!(findings(&report, "").is_empty(), "{report:#}");
    // LTI links: install the app first; the bundle has its developer key.
    let (_, report) = check_json(
        &course,
        &[
            "--lms",
            "canvas",
            "--target",
            "cc13,lti",
            "--cc-flavour",
            "lti",
            "--tool-url",
            "https://tool.example.org",
        ],
    );
    let f = the(&report, "canvas/lti-links-need-the-app");
    assert!(
        f["help"]
            .as_str()
            .unwrap()
            .contains("canvas-developer-key.json"),
        "{f:#}"
    );
}

#[test]
fn scorm_cloud_takes_scorm_not_cartridges() {
    let course = seed_course();
    let (code, report) = check_json(&course, &["--lms", "scorm-cloud", "--target", "cc11"]);
    assert_eq!(code, 2, "{report:#}");
    let f = the(&report, "scorm-cloud/format");
    assert_eq!(f["severity"], "error");
    assert!(
        f["help"].as_str().unwrap().contains("--target scorm12"),
        "{f:#}"
    );
    let (code, report) = check_json(
        &course,
        &["--lms", "scorm-cloud", "--target", "scorm12,scorm2004"],
    );
    assert_eq!(code, 0);
    assert!(findings(&report, "").is_empty(), "{report:#}");
}

#[test]
fn lms_names_are_checked_like_targets() {
    let out = coursepack(
        &root(),
        &[
            "check",
            "course",
            "--lms",
            "Moodle,mudle",
            "--lms",
            "blackbord",
            "--target",
            "scorm13",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("error: unknown LMS `mudle`\n  = help: did you mean `moodle`?"),
        "{err}"
    );
    assert!(
        err.contains("error: unknown LMS `blackbord`\n  = help: did you mean `blackboard`?"),
        "{err}"
    );
    assert!(err.contains("error: unknown target `scorm13`"), "{err}");
    assert!(err.contains("error: 3 problems found\n"), "{err}");
}
