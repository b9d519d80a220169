//! `coursepack init` and `--help`.

use crate::common::*;

#[test]
fn a_new_course_builds_and_its_templates_can_be_edited() {
    let dir = tempfile::tempdir().unwrap();
    let out = coursepack(dir.path(), &["init", "My Course", "--templates"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let course = dir.path().join("My Course");
    assert!(course.join("templates/session.hbs").is_file());
    assert!(course.join("templates/coursepack/runtime.js").is_file());
    let toml = std::fs::read_to_string(course.join("course.toml")).unwrap();
    assert!(toml.contains(r#"id = "my-course""#));

    // Editing an override changes the page.
    let session = course.join("templates/session.hbs");
    let edited = std::fs::read_to_string(&session)
        .unwrap()
        .replace("{{t \"session.goals\"}}", "What you will learn");
    std::fs::write(&session, edited).unwrap();
    let (out_dir, output) = build(&course, "scorm12");
    assert!(!stderr(&output).contains("warning"), "{}", stderr(&output));
    let files = unzip(&out_dir.path().join("my-course-1.0.0-scorm12.zip"));
    let page = String::from_utf8(files["welcome.html"].clone()).unwrap();
    assert!(page.contains("What you will learn"));

    // A template that uses a variable that does not exist fails the build.
    std::fs::write(&session, "{{course.titel}}").unwrap();
    let out = coursepack(dir.path(), &["check", "My Course"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("titel"), "{}", stderr(&out));
}

#[test]
fn init_refuses_to_overwrite_a_course() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("course.toml"), "mine").unwrap();
    let out = coursepack(dir.path(), &["init", "."]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("course.toml")).unwrap(),
        "mine"
    );
}

#[test]
fn every_command_has_help() {
    for cmd in ["build", "check", "init"] {
        let out = coursepack(&root(), &[cmd, "--help"]);
        assert!(out.status.success());
        assert!(stdout(&out).contains("Usage: coursepack"), "{cmd}");
    }
    let out = coursepack(&root(), &["--help"]);
    assert!(stdout(&out).contains("Exit codes"));
}
