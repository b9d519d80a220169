//! `--format json` on `build` and `check`: one JSON document on stdout and
//! nothing else, checked field by field against the human output, the
//! files written and course.toml; and the progress bar, which only a
//! terminal sees.

use std::path::Path;

use serde_json::Value;
use sha2::{Digest as _, Sha256};

use crate::common::*;

/// Runs coursepack; its stdout must be exactly one JSON document.
fn json(args: &[&str]) -> (std::process::Output, Value) {
    let out = coursepack(&root(), args);
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is one JSON document ({e}): {}", stdout(&out)));
    (out, report)
}

fn sha256(path: &Path) -> String {
    Sha256::digest(std::fs::read(path).unwrap())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Every problem of a report, as the human output prints its first line.
fn human_lines(report: &Value) -> Vec<String> {
    report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let place = match (&p["file"], &p["line"], &p["column"]) {
                (Value::String(f), Value::Number(l), Value::Number(c)) => format!("{f}:{l}:{c}: "),
                (Value::String(f), Value::Null, Value::Null) => format!("{f}: "),
                (Value::Null, Value::Null, Value::Null) => String::new(),
                other => panic!("a line without a column, or the reverse: {other:?}"),
            };
            format!(
                "{}: {place}{}",
                p["severity"].as_str().unwrap(),
                p["message"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn build_json_lists_every_package_with_its_real_sha256_and_size() {
    let out_dir = tempfile::tempdir().unwrap();
    let dist = out_dir.path().join("dist");
    let (out, report) = json(&[
        "build",
        "course",
        "--format",
        "json",
        "--out",
        dist.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    // Nothing but the report: no progress, no warnings on stderr either.
    assert_eq!(stderr(&out), "");
    assert_eq!(report["version"], 1);
    assert_eq!(report["command"], "build");
    assert_eq!(report["ok"], true);
    assert_eq!(report["exit_code"], 0);
    assert_eq!(report["course"]["id"], "care-opinion-feedback");
    assert_eq!(report["course"]["version"], "1.0.0");
    assert_eq!(report["course"]["sessions"], 3);

    let packages = report["packages"].as_array().unwrap();
    let names: Vec<&str> = packages
        .iter()
        .map(|p| p["path"].as_str().unwrap().rsplit('/').next().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "care-opinion-feedback-1.0.0-scorm12.zip",
            "care-opinion-feedback-1.0.0-scorm2004.zip",
            "care-opinion-feedback-1.0.0-cc11.imscc",
            "care-opinion-feedback-1.0.0-cc13.imscc",
            "care-opinion-feedback-1.0.0-cmi5.zip",
        ]
    );
    let (mut bytes, mut files) = (0, 0);
    for p in packages {
        let path = Path::new(p["path"].as_str().unwrap());
        assert!(path.starts_with(&dist), "{p:#}");
        assert_eq!(p["sha256"].as_str().unwrap(), sha256(path), "{p:#}");
        assert_eq!(
            p["bytes"].as_u64().unwrap(),
            std::fs::metadata(path).unwrap().len()
        );
        assert_eq!(p["files"].as_u64().unwrap() as usize, unzip(path).len());
        bytes += p["bytes"].as_u64().unwrap();
        files += p["files"].as_u64().unwrap();
    }
    assert_eq!(report["totals"]["packages"], 5);
    assert_eq!(report["totals"]["bytes"], bytes);
    assert_eq!(report["totals"]["files"], files);

    // The problems are the warnings `check` prints, each at its place.
    let check = coursepack(&root(), &["check", "course"]);
    let human = stderr(&check);
    let lines = human_lines(&report);
    assert_eq!(lines.len(), 16);
    assert_eq!(report["warnings"], 16);
    assert_eq!(report["errors"], 0);
    for line in &lines {
        assert!(
            human.contains(&format!("{line}\n")),
            "{line} is not in:\n{human}"
        );
    }
    let first = &report["problems"][0];
    assert_eq!(first["severity"], "warning");
    assert_eq!(first["file"], "course/course.toml");
    assert_eq!(first["line"], 48);
    assert_eq!(first["column"], 8);
    assert_eq!(
        first["help"],
        "add `url = \"https://...\"` when the address is known, or `required = true` to ask learners to tick it as read"
    );
    assert_eq!(first["code"], Value::Null);
    let text = std::fs::read_to_string(seed_course().join("course.toml")).unwrap();
    assert!(text.lines().nth(47).unwrap()[7..].starts_with("\"reading\""));
}

#[test]
fn json_on_a_broken_course_lists_every_problem_and_exits_2() {
    let course = root().join("tests/fixtures/broken/several-problems");
    let expected =
        std::fs::read_to_string(root().join("tests/fixtures/broken/several-problems.expected"))
            .unwrap();
    for command in ["build", "check"] {
        let dist = tempfile::tempdir().unwrap();
        let (out, report) = json(
            &[
                command,
                course.to_str().unwrap(),
                "--format",
                "json",
                "--out",
                dist.path().to_str().unwrap(),
            ][..if command == "build" { 6 } else { 4 }],
        );
        assert_eq!(out.status.code(), Some(2), "{command}");
        assert_eq!(stderr(&out), "", "{command}");
        assert_eq!(report["command"], command);
        assert_eq!(report["ok"], false);
        assert_eq!(report["exit_code"], 2);
        assert_eq!(report["course"], Value::Null);
        assert!(report.get("packages").is_none() || report["packages"].is_null());
        // Every problem of the expected human output, in its order.
        let human: Vec<String> = expected
            .lines()
            .filter(|l| l.starts_with("error: ") || l.starts_with("warning: "))
            .filter(|l| !l.contains("problems found"))
            .map(|l| l.replace("several-problems/", &format!("{}/", course.display())))
            .collect();
        assert_eq!(human_lines(&report), human, "{command}");
        let errors = human.iter().filter(|l| l.starts_with("error")).count();
        assert!(errors >= 6);
        assert_eq!(report["errors"], errors);
        assert!(std::fs::read_dir(dist.path()).unwrap().next().is_none());
    }
}

#[test]
fn check_json_of_a_good_course_and_of_the_command_line() {
    let (out, report) = json(&["check", "course", "--format", "json", "--quiet"]);
    assert!(out.status.success());
    assert_eq!(report["command"], "check");
    assert_eq!(report["ok"], true);
    assert_eq!(report["course"]["blocks"], 19);
    assert_eq!(report["warnings"], 16);
    assert!(report.get("packages").is_none());
    // A mistake on the command line is a problem of the report too.
    let (out, report) = json(&["check", "course", "--format", "json", "--target", "scrom12"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(report["problems"][0]["message"], "unknown target `scrom12`");
    assert_eq!(report["problems"][0]["help"], "did you mean `scorm12`?");
    assert_eq!(report["problems"][0]["file"], Value::Null);
}

#[test]
fn build_json_reports_a_failure_while_writing() {
    // A file where the output folder should be: exit 1, said in the report.
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("dist");
    std::fs::write(&blocker, "a file").unwrap();
    let (out, report) = json(&[
        "build",
        "course",
        "--format",
        "json",
        "--out",
        blocker.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(report["exit_code"], 1);
    let errors: Vec<&Value> = report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["severity"] == "error")
        .collect();
    assert_eq!(errors.len(), 1, "{report:#}");
    assert!(
        errors[0]["message"]
            .as_str()
            .unwrap()
            .contains("cannot create the output folder"),
        "{report:#}"
    );
}

/// A course with a 32 MiB video, long enough to write for a bar to show.
fn big_course() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("media")).unwrap();
    // Not zeros: a file system may store those sparsely.
    let block: Vec<u8> = (0..1u32 << 20)
        .map(|i| (i.wrapping_mul(2654435761) >> 24) as u8)
        .collect();
    std::fs::write(dir.path().join("media/big.mp4"), block.repeat(32)).unwrap();
    std::fs::write(
        dir.path().join("course.toml"),
        "[course]\nid = \"big\"\ntitle = \"Big\"\n\n[[session]]\nid = \"s\"\ntitle = \"S\"\n\n[[session.block]]\ntype = \"video\"\nid = \"v\"\ntitle = \"V\"\nfile = \"media/big.mp4\"\ntranscript = \"Words.\"\n",
    )
    .unwrap();
    dir
}

#[test]
fn the_progress_bar_is_drawn_on_a_terminal_only() {
    let course = big_course();
    let dist = course.path().join("dist");
    let args = [
        "build",
        course.path().to_str().unwrap(),
        "--target",
        "scorm12,scorm2004",
        "--out",
        dist.to_str().unwrap(),
    ];
    // Piped (as in CI), even with no delay: no bar, no escape sequence.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_coursepack"))
        .args(args)
        .env("COURSEPACK_PROGRESS_AFTER_MS", "0")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        !err.contains('\u{1b}') && !err.contains("writing packages"),
        "{err:?}"
    );
    let piped: Vec<Vec<u8>> = ["scorm12", "scorm2004"]
        .iter()
        .map(|t| std::fs::read(dist.join(format!("big-1.0.0-{t}.zip"))).unwrap())
        .collect();

    // On a terminal (util-linux `script` gives it one): the bar, cleared
    // at the end, and the same packages.
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipped: no `script` to run coursepack on a terminal");
        return;
    }
    let command: Vec<String> = std::iter::once(env!("CARGO_BIN_EXE_coursepack").to_string())
        .chain(args.iter().map(|a| a.to_string()))
        .map(|a| format!("'{a}'"))
        .collect();
    let out = std::process::Command::new("script")
        .args(["-qec", &command.join(" "), "/dev/null"])
        .env("COURSEPACK_PROGRESS_AFTER_MS", "0")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stdout(&out));
    let tty = stdout(&out);
    assert!(tty.contains("writing packages ["), "{tty:?}");
    // Over the packages' bytes (two of 32 MiB of video, and the pages),
    // drawn only once that total is known.
    assert!(tty.contains(" of 64.2"), "{tty:?}");
    assert!(!tty.contains(" of 0 B"), "{tty:?}");
    for (t, bytes) in ["scorm12", "scorm2004"].iter().zip(piped) {
        assert_eq!(
            std::fs::read(dist.join(format!("big-1.0.0-{t}.zip"))).unwrap(),
            bytes
        );
    }
    // A build shorter than the delay (1 s by default) draws nothing.
    let out = std::process::Command::new("script")
        .args(["-qec", &command.join(" "), "/dev/null"])
        .env("COURSEPACK_PROGRESS_AFTER_MS", "60000")
        .output()
        .unwrap();
    assert!(
        !stdout(&out).contains("writing packages"),
        "{}",
        stdout(&out)
    );
}
