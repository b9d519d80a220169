//! Warnings: the build goes on, and says what a learner would hit.

use crate::common::*;

#[test]
fn warns_about_courses_that_cannot_complete_or_overflow_scorm12_state() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("media")).unwrap();
    std::fs::write(dir.path().join("media/clip.webm"), b"x").unwrap();
    std::fs::write(
        dir.path().join("course.toml"),
        r##"
[course]
id = "demo"
title = "Demo"

[branding]
primary_colour = "#ffcc00"

[[session]]
id = "talk"
title = "Talk"

[[session.block]]
type = "reflection"
id = "first"
question = "One?"
max_chars = 2000

[[session.block]]
type = "reflection"
id = "second"
question = "Two?"
max_chars = 2000

[[session]]
id = "read-only"
title = "Nothing to do"

[[session.block]]
type = "text"
body = "Just text."

[[session.block]]
type = "video"
id = "clip"
file = "media/clip.webm"
required = false
"##,
    )
    .unwrap();
    let out = coursepack(dir.path(), &["check", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("warning: ./course.toml:10:6: session `talk` may need 8092 characters"),
        "{err}"
    );
    assert!(err.contains("SCORM 1.2 keeps 4096"), "{err}");
    assert!(
        err.contains(
            "session `read-only` is done as soon as it is opened: none of its blocks is required"
        ),
        "{err}"
    );
    assert!(
        err.contains("video `clip` has neither captions nor a transcript"),
        "{err}"
    );
    assert!(
        err.contains("`#ffcc00` has a contrast of 1.5:1 on white"),
        "{err}"
    );
    assert!(stdout(&out).contains("4 warnings"), "{}", stdout(&out));
}

#[test]
fn a_session_of_text_is_done_when_opened_without_a_warning_and_required_text_is_one_error() {
    let dir = tempfile::tempdir().unwrap();
    let course = |required: &str| {
        format!(
            "[course]\nid = \"t\"\ntitle = \"T\"\n\n[[session]]\nid = \"one\"\ntitle = \"One\"\n\n[[session.block]]\ntype = \"text\"\nbody = \"Only text.\"\n{required}"
        )
    };
    std::fs::write(dir.path().join("course.toml"), course("")).unwrap();
    let out = coursepack(dir.path(), &["check", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!stderr(&out).contains("session `one`"), "{}", stderr(&out));
    std::fs::write(dir.path().join("course.toml"), course("required = true\n")).unwrap();
    let out = coursepack(dir.path(), &["check", "."]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("`required` does not apply to a text block"),
        "{err}"
    );
    assert_eq!(err.matches("error: ./course.toml:12").count(), 1, "{err}");
}

#[test]
fn raw_html_in_markdown_is_named_at_its_field() {
    let course = seed_course_edited(
        "title = \"What is the problem with patient feedback?\"\n",
        "title = \"What is the problem with patient feedback?\"\nintro = \"Read <b>this</b> first.\"\n",
    );
    let out = coursepack(course.path(), &["check", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("raw HTML (`<b>`) is shown to learners as text, not as HTML"),
        "{err}"
    );
    assert!(err.contains("intro = \"Read <b>this</b> first.\""), "{err}");
}

#[test]
fn build_counts_warnings_that_say_the_same_and_verbose_shows_each() {
    let out_dir = tempfile::tempdir().unwrap();
    let out_arg = out_dir.path().to_str().unwrap();
    let grouped = coursepack(&root(), &["build", "course", "--out", out_arg]);
    assert!(grouped.status.success(), "{}", stderr(&grouped));
    let err = stderr(&grouped);
    let warnings = err.lines().filter(|l| l.starts_with("warning:")).count();
    // Readings with no url, videos with no source (both optional), and the
    // two sessions made only of those, which are done when opened.
    assert_eq!(warnings, 3, "{err}");
    assert!(
        err.contains("note: 1 more warning like this one, on line 165 ("),
        "{err}"
    );
    assert!(
        err.contains("note: 10 more warnings like this one, on lines 75, 82,"),
        "{err}"
    );
    assert!(
        err.contains("note: 2 more warnings like this one, on lines 106, 174 ("),
        "{err}"
    );
    let verbose = coursepack(&root(), &["build", "course", "--out", out_arg, "--verbose"]);
    let err = stderr(&verbose);
    assert_eq!(
        err.lines().filter(|l| l.starts_with("warning:")).count(),
        16,
        "{err}"
    );
    assert!(!err.contains("more warnings like this one"), "{err}");
}
