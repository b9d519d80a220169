//! Broken courses: each fixture in tests/fixtures/broken has its exact
//! expected error text; every one exits 2 and writes nothing.

use std::path::Path;

use crate::common::*;

fn fixtures() -> Vec<String> {
    let dir = root().join("tests/fixtures/broken");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert!(names.len() >= 7, "the broken fixtures are there");
    names
}

/// The listing of a folder: names and contents.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().into_string().unwrap(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn broken_courses_report_exactly_the_expected_errors() {
    let dir = root().join("tests/fixtures/broken");
    let mut failures = Vec::new();
    for name in fixtures() {
        let out = coursepack(&dir, &["check", &name]);
        let expected_path = dir.join(format!("{name}.expected"));
        let got = stderr(&out);
        if std::env::var_os("COURSEPACK_UPDATE_EXPECTED").is_some() {
            std::fs::write(&expected_path, &got).unwrap();
        }
        let expected = std::fs::read_to_string(&expected_path)
            .unwrap_or_else(|_| panic!("{} is missing", expected_path.display()));
        assert_eq!(
            out.status.code(),
            Some(2),
            "{name}: exit code; stderr:\n{got}"
        );
        if got != expected {
            failures.push(format!("--- {name}: expected\n{expected}--- got\n{got}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_failed_build_leaves_the_output_folder_untouched() {
    let dir = root().join("tests/fixtures/broken");
    for name in fixtures() {
        let out = tempfile::tempdir().unwrap();
        let old = out.path().join("demo-1.0.0-scorm12.zip");
        std::fs::write(&old, b"an earlier package").unwrap();
        let before = snapshot(out.path());
        let result = coursepack(
            &dir,
            &["build", &name, "--out", out.path().to_str().unwrap()],
        );
        assert_eq!(result.status.code(), Some(2), "{name}: {}", stderr(&result));
        assert!(
            stderr(&result).ends_with("nothing was written\n"),
            "{name}: {}",
            stderr(&result)
        );
        assert_eq!(
            snapshot(out.path()),
            before,
            "{name} changed the output folder"
        );
    }
}

#[test]
fn a_misspelt_key_in_the_seed_course_names_line_and_column() {
    let course = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(seed_course().join("course.toml")).unwrap();
    std::fs::write(
        course.path().join("course.toml"),
        text.replacen("\nminutes = 10", "\nminuts = 10", 1),
    )
    .unwrap();
    let out_dir = course.path().join("dist");
    let out = coursepack(
        course.path(),
        &["build", ".", "--out", out_dir.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2));
    let line = text.lines().position(|l| l == "minutes = 10").unwrap() + 1;
    assert!(
        stderr(&out).contains(&format!("./course.toml:{line}:1: unknown key `minuts`")),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("did you mean `minutes`?"));
    assert!(!out_dir.exists(), "nothing is written, not even the folder");
}

#[test]
fn a_link_to_a_file_outside_the_course_is_refused() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.mp4"), b"x").unwrap();
    let course = tempfile::tempdir().unwrap();
    std::fs::create_dir(course.path().join("media")).unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("secret.mp4"),
        course.path().join("media/clip.mp4"),
    )
    .unwrap();
    std::fs::write(
        course.path().join("course.toml"),
        "[course]\nid = \"demo\"\ntitle = \"Demo\"\n\n[[session]]\nid = \"one\"\ntitle = \"One\"\n\n[[session.block]]\ntype = \"video\"\nid = \"clip\"\nfile = \"media/clip.mp4\"\n",
    )
    .unwrap();
    let out = coursepack(course.path(), &["check", "."]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(
            "./course.toml:12:8: `media/clip.mp4` is a link to a file outside the course folder"
        ),
        "{}",
        stderr(&out)
    );
}

#[test]
fn unknown_targets_are_bad_input() {
    let out = coursepack(
        &root(),
        &[
            "build",
            "--target",
            "scrom12",
            "--out",
            "/nonexistent/never",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("unknown target `scrom12`"));
    assert!(stderr(&out).contains("did you mean `scorm12`?"));
}

#[test]
fn a_missing_course_folder_says_how_to_start_one() {
    let dir = tempfile::tempdir().unwrap();
    let out = coursepack(dir.path(), &["build"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("coursepack init course"),
        "{}",
        stderr(&out)
    );
    assert!(!dir.path().join("dist").exists());
}

#[test]
fn a_byte_order_mark_and_non_ascii_text_keep_columns_right() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("course.toml"),
        "\u{feff}[course]\nid = \"demo\"\ntitle = \"Zoë Ångström\"; rle = 1\n",
    )
    .unwrap();
    let out = coursepack(dir.path(), &["check", "."]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.starts_with("error: ./course.toml:3:"), "{err}");
    assert!(
        err.contains("3 | title = \"Zoë Ångström\"; rle = 1\n"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn a_folder_where_a_package_goes_leaves_every_package_as_it_was() {
    let out = tempfile::tempdir().unwrap();
    // An old package, and a folder where the last package should go.
    let old = out.path().join("care-opinion-feedback-1.0.0-scorm12.zip");
    std::fs::write(&old, b"old package").unwrap();
    let blocker = out.path().join("care-opinion-feedback-1.0.0-cc13.imscc");
    std::fs::create_dir(&blocker).unwrap();
    std::fs::write(blocker.join("keep"), b"x").unwrap();
    // A temporary file left by a killed build.
    std::fs::write(out.path().join(".coursepack-AbC123.part"), b"stale").unwrap();
    let result = coursepack(
        &root(),
        &[
            "build",
            "course",
            "--target",
            "scorm12,scorm2004,cc11,cc13",
            "--out",
            out.path().to_str().unwrap(),
            "--quiet",
        ],
    );
    assert_eq!(result.status.code(), Some(1), "{}", stderr(&result));
    let err = stderr(&result);
    assert!(err.contains("a folder stands there"), "{err}");
    assert!(
        err.ends_with("nothing was written; existing files are unchanged\n"),
        "{err}"
    );
    assert_eq!(std::fs::read(&old).unwrap(), b"old package");
    let mut names: Vec<String> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "care-opinion-feedback-1.0.0-cc13.imscc",
            "care-opinion-feedback-1.0.0-scorm12.zip"
        ]
    );
}

/// A course's own templates that do not parse are reported all at once,
/// each at its file, line and column, and the build writes nothing.
#[test]
fn every_broken_template_is_reported_at_its_place() {
    let dir = seed_course_edited("[course]\n", "[course]\ntemplates = \"templates\"\n");
    let templates = dir.path().join("templates");
    std::fs::create_dir(&templates).unwrap();
    let block = include_str!("../../templates/block.hbs").replacen("{{", "{{ {{", 1);
    std::fs::write(templates.join("block.hbs"), &block).unwrap();
    let layout = format!(
        "{}{{{{#if course.title}}}}",
        include_str!("../../templates/layout.hbs")
    );
    std::fs::write(templates.join("layout.hbs"), layout).unwrap();
    let out = dir.path().join("dist");
    let o = coursepack(
        &root(),
        &[
            "build",
            dir.path().to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    // At the line of the stray `{{`, with a column and the line shown.
    let line = block.lines().position(|l| l.contains("{{ {{")).unwrap() + 1;
    let at = format!("templates/block.hbs:{line}:");
    let found = err.find(&at).unwrap_or_else(|| panic!("no {at} in {err}"));
    let rest = &err[found + at.len()..];
    let col: usize = rest[..rest.find(':').unwrap()].parse().unwrap();
    assert!(col > 1, "{err}");
    assert!(rest.contains(": block.hbs does not parse"), "{err}");
    assert!(rest.contains("{{ {{kind}}"), "{err}");
    assert!(
        err.contains("templates/layout.hbs: layout.hbs does not parse: it ends inside"),
        "{err}"
    );
    assert!(
        err.contains("2 problems found; nothing was written"),
        "{err}"
    );
    assert!(!out.exists());
}
