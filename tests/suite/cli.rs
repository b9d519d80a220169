//! What the command line accepts besides the exact spelling: the course's
//! `course.toml` for its folder, target names in any case, colours short
//! or long.

use crate::common::{coursepack, root, seed_course_edited, stderr, stdout};

#[test]
fn the_course_file_stands_for_its_folder() {
    let out = coursepack(&root(), &["check", "course/course.toml"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("is ready to build"),
        "{}",
        stdout(&out)
    );
    let course = root().join("course");
    let out = coursepack(&course, &["check", "course.toml"]);
    assert!(out.status.success(), "{}", stderr(&out));
    // A folder named course.toml is a folder.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("course.toml")).unwrap();
    let out = coursepack(dir.path(), &["check", "course.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("course.toml/course.toml"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn target_names_in_any_case() {
    let out_dir = tempfile::tempdir().unwrap();
    let out = coursepack(
        &root(),
        &[
            "build",
            "course",
            "--target",
            "SCORM12,Cc11",
            "--out",
            out_dir.path().to_str().unwrap(),
            "-q",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let mut names: Vec<String> = std::fs::read_dir(out_dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "care-opinion-feedback-1.0.0-cc11.imscc",
            "care-opinion-feedback-1.0.0-scorm12.zip"
        ]
    );
}

#[test]
fn short_colours_are_taken_and_a_missing_hash_is_named() {
    let course = seed_course_edited("primary_colour = \"#1d5fa8\"", "primary_colour = \"#15a\"");
    let out = coursepack(course.path(), &["check", "."]);
    assert!(out.status.success(), "{}", stderr(&out));
    let course = seed_course_edited(
        "primary_colour = \"#1d5fa8\"",
        "primary_colour = \"1d5fa8\"",
    );
    let out = coursepack(course.path(), &["check", "."]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("`1d5fa8` is not a colour"), "{err}");
    assert!(err.contains("write it with a `#`: `#1d5fa8`"), "{err}");
}
