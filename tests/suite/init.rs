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

    // The English catalogue is there to edit: a changed entry changes the page.
    let catalogue = course.join("locales/en.toml");
    let english = std::fs::read_to_string(&catalogue).unwrap();
    assert!(english.contains("[session.to_complete]"), "{english}");
    assert!(english.contains("copy this file to locales/<language>.toml"));
    let edited = english.replace(
        "goals = \"Goals of this session\"",
        "goals = \"This session's aims\"",
    );
    assert_ne!(edited, english);
    std::fs::write(&catalogue, edited).unwrap();
    std::fs::write(
        &session,
        std::fs::read_to_string(&session)
            .unwrap()
            .replace("What you will learn", "{{t \"session.goals\"}}"),
    )
    .unwrap();
    let (out_dir, output) = build(&course, "scorm12");
    assert!(!stderr(&output).contains("warning"), "{}", stderr(&output));
    let files = unzip(&out_dir.path().join("my-course-1.0.0-scorm12.zip"));
    let page = String::from_utf8(files["welcome.html"].clone()).unwrap();
    assert!(
        page.contains("This session&#x27;s aims") || page.contains("This session's aims"),
        "{page}"
    );

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

#[test]
fn the_new_course_explains_its_keys_and_checks_clean_for_moodle() {
    let dir = tempfile::tempdir().unwrap();
    let out = coursepack(dir.path(), &["init", "course"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("its comments explain each key"));
    let course = dir.path().join("course");
    let toml = std::fs::read_to_string(course.join("course.toml")).unwrap();
    // Every key it sets carries a comment on its line (or on the line of
    // the first key of that name), except the few whose names say it all.
    let plain = [
        "title", "summary", "goals", "name", "role", "body", "question",
    ];
    let mut explained = std::collections::HashSet::new();
    for line in toml.lines() {
        let Some((key, _)) = line.split_once(" = ") else {
            continue;
        };
        let key = key.trim();
        if line.starts_with('#') || plain.contains(&key) {
            continue;
        }
        if line.contains(" # ") {
            explained.insert(key.to_string());
        }
        assert!(explained.contains(key), "`{key}` is not explained: {line}");
    }
    // The optional keys it shows commented out are valid once uncommented.
    let uncommented: String = toml
        .lines()
        .map(|l| match l.strip_prefix("# ") {
            Some(rest) if rest.starts_with('[') || rest.contains(" = ") => rest,
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
        .replace("templates = \"templates\"", "")
        .replace("logo = \"media/logo.svg\"", "");
    let full = tempfile::tempdir().unwrap();
    std::fs::write(full.path().join("course.toml"), uncommented).unwrap();
    let out = coursepack(&root(), &["check", full.path().to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));

    // The skeleton builds without a warning, and suits Moodle.
    let out = coursepack(
        dir.path(),
        &[
            "check",
            "course",
            "--lms",
            "moodle",
            "--target",
            "scorm12,scorm2004,cc11",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).ends_with("0 warnings\n"), "{}", stdout(&out));
}

#[cfg(feature = "serve")]
#[test]
fn serve_help_shows_the_course_folder_optional_with_its_default() {
    let out = coursepack(&root(), &["serve", "--help"]);
    assert!(out.status.success());
    let help = stdout(&out);
    assert!(
        help.contains(
            "Usage: coursepack serve [COURSE_DIR] --public-url <URL> [OPTIONS]\n       coursepack serve --rotate-key [--data <DIR>] [--key-grace-days <DAYS>]\n"
        ),
        "{help}"
    );
    assert!(help.contains("  [COURSE_DIR]  Course folder"), "{help}");
    assert!(
        help.contains("[default:\n                course]") || help.contains("[default: course]"),
        "{help}"
    );
}
