//! The hostile corpus: course folders built to break coursepack, each made
//! by a small generator, with the exit code and messages expected. Files
//! from outside the course, special files, bad encodings, control
//! characters, template cycles, huge inputs and output-folder faults: each
//! must be refused with its place named, never hang, crash or publish.

use std::io::Read;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

/// Longest any case may run (a debug build, two cores shared).
const TIMEOUT: Duration = Duration::from_secs(60);

const COURSE: &str = r#"[course]
id = "demo"
title = "Demo"

[[session]]
id = "one"
title = "One"

[[session.block]]
type = "video"
id = "clip"
embed = "https://www.youtube.com/embed/x"
transcript = "media/talk.txt"
"#;

/// The result of one run: exit code (None for a signal), stderr, time.
struct Run {
    code: Option<i32>,
    stderr: String,
    stdout: String,
    took: Duration,
}

/// Runs coursepack in `cwd`, killing it after [`TIMEOUT`] (a hang fails).
fn run(cwd: &Path, args: &[&str]) -> Run {
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_coursepack"))
        .current_dir(cwd)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read both pipes in threads, so a chatty child never blocks.
    let mut out_pipe = child.stdout.take().unwrap();
    let mut err_pipe = child.stderr.take().unwrap();
    let out_thread = std::thread::spawn(move || {
        let mut s = Vec::new();
        out_pipe.read_to_end(&mut s).unwrap();
        s
    });
    let err_thread = std::thread::spawn(move || {
        let mut s = Vec::new();
        err_pipe.read_to_end(&mut s).unwrap();
        s
    });
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > TIMEOUT {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("coursepack {args:?} hung for {TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Run {
        code: status.code(),
        stderr: String::from_utf8_lossy(&err_thread.join().unwrap()).into_owned(),
        stdout: String::from_utf8_lossy(&out_thread.join().unwrap()).into_owned(),
        took: start.elapsed(),
    }
}

fn write(dir: &Path, rel: &str, bytes: impl AsRef<[u8]>) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

fn mkfifo(path: &Path) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let ok = Command::new("mkfifo").arg(path).status().unwrap().success();
    assert!(ok, "mkfifo {}", path.display());
}

/// The course with a transcript file of its own.
fn with_transcript(dir: &Path) {
    write(dir, "course.toml", COURSE);
}

/// The course with `from` replaced by `to` in course.toml.
fn edited(dir: &Path, from: &str, to: &str) {
    assert!(COURSE.contains(from));
    write(dir, "course.toml", COURSE.replace(from, to));
    write(dir, "media/talk.txt", "Hello.");
}

/// One case: how to make it, what to run, what must come out.
struct Case {
    name: &'static str,
    make: fn(&Path),
    /// `check`, or `build` (into `out/` inside the course folder).
    build: bool,
    code: i32,
    /// Each must appear in stderr.
    expect: &'static [&'static str],
}

const fn check(name: &'static str, make: fn(&Path), expect: &'static [&'static str]) -> Case {
    Case {
        name,
        make,
        build: false,
        code: 2,
        expect,
    }
}

fn cases() -> Vec<Case> {
    vec![
        // --- files from outside the course, special files, sizes ---
        check(
            "transcript linked to /etc/passwd",
            |d| {
                with_transcript(d);
                std::fs::create_dir_all(d.join("media")).unwrap();
                symlink("/etc/passwd", d.join("media/talk.txt")).unwrap();
            },
            &[
                "course.toml:13:14: transcript `media/talk.txt` is a link to a file outside the course folder",
            ],
        ),
        check(
            "transcript is a named pipe",
            |d| {
                with_transcript(d);
                mkfifo(&d.join("media/talk.txt"));
            },
            &[
                "course.toml:13:14: transcript `media/talk.txt` is a named pipe (FIFO), not a regular file",
            ],
        ),
        check(
            "transcript linked to /dev/zero",
            |d| {
                with_transcript(d);
                std::fs::create_dir_all(d.join("media")).unwrap();
                symlink("/dev/zero", d.join("media/talk.txt")).unwrap();
            },
            &[
                "course.toml:13:14: transcript `media/talk.txt` is a link to a file outside the course folder",
            ],
        ),
        check(
            "transcript is a symbolic link loop",
            |d| {
                with_transcript(d);
                std::fs::create_dir_all(d.join("media")).unwrap();
                symlink("talk.txt", d.join("media/talk.txt")).unwrap();
            },
            &["course.toml:13:14: transcript `media/talk.txt` is a symbolic link loop"],
        ),
        check(
            "transcript over 10 MB",
            |d| {
                with_transcript(d);
                write(d, "media/talk.txt", vec![b'a'; 10_000_001]);
            },
            &["course.toml:13:14: transcript `media/talk.txt` is larger than 10 MB"],
        ),
        check(
            "transcript is a folder",
            |d| {
                with_transcript(d);
                std::fs::create_dir_all(d.join("media/talk.txt")).unwrap();
            },
            &["transcript `media/talk.txt` is a folder, not a regular file"],
        ),
        check(
            "captions are a named pipe",
            |d| {
                edited(
                    d,
                    "embed = \"https://www.youtube.com/embed/x\"",
                    "embed = \"https://www.youtube.com/embed/x\"\ncaptions = \"media/c.vtt\"",
                );
                mkfifo(&d.join("media/c.vtt"));
            },
            &["course.toml:13:12: `media/c.vtt` is a named pipe (FIFO), not a regular file"],
        ),
        check(
            "Markdown image linked outside the course",
            |d| {
                edited(
                    d,
                    "title = \"One\"",
                    "title = \"One\"\nintro = \"![map](media/map.png)\"",
                );
                symlink("/etc/passwd", d.join("media/map.png")).unwrap();
            },
            &["course.toml:8:9: `media/map.png` is a link to a file outside the course folder"],
        ),
        check(
            "logo linked to a device",
            |d| {
                edited(
                    d,
                    "[[session]]",
                    "[branding]\nlogo = \"logo.png\"\n\n[[session]]",
                );
                symlink("/dev/zero", d.join("logo.png")).unwrap();
            },
            &["course.toml:6:8: `logo.png` is a link to a file outside the course folder"],
        ),
        check(
            "course.toml is a named pipe",
            |d| mkfifo(&d.join("course.toml")),
            &["course.toml is a named pipe (FIFO), not a regular file"],
        ),
        check(
            "course.toml linked outside the course",
            |d| symlink("/etc/passwd", d.join("course.toml")).unwrap(),
            &["course.toml is a link to a file outside the course folder"],
        ),
        check(
            "template linked to /etc/passwd",
            |d| {
                edited(d, "x", "x");
                std::fs::create_dir_all(d.join("templates")).unwrap();
                symlink("/etc/passwd", d.join("templates/layout.hbs")).unwrap();
            },
            &[
                "templates/layout.hbs: template `layout.hbs` is a link to a file outside the course folder",
            ],
        ),
        check(
            "templates folder linked outside the course",
            |d| {
                edited(d, "x", "x");
                symlink("/etc", d.join("templates")).unwrap();
            },
            &[
                "templates: templates folder `templates` is a link to a file outside the course folder",
            ],
        ),
        check(
            "template is a named pipe",
            |d| {
                edited(d, "x", "x");
                mkfifo(&d.join("templates/session.hbs"));
            },
            &[
                "templates/session.hbs: template `session.hbs` is a named pipe (FIFO), not a regular file",
            ],
        ),
        check(
            "template over 10 MB",
            |d| {
                edited(d, "x", "x");
                write(d, "templates/block.hbs", vec![b'a'; 10_000_001]);
            },
            &["template `block.hbs` is larger than 10 MB"],
        ),
        check(
            "template files linked to each other",
            |d| {
                edited(d, "x", "x");
                std::fs::create_dir_all(d.join("templates")).unwrap();
                symlink("block.hbs", d.join("templates/layout.hbs")).unwrap();
                symlink("layout.hbs", d.join("templates/block.hbs")).unwrap();
            },
            &[
                "template `block.hbs` is a symbolic link loop",
                "template `layout.hbs` is a symbolic link loop",
            ],
        ),
        Case {
            name: "templates folder with a link to itself ends",
            make: |d| {
                edited(d, "x", "x");
                std::fs::create_dir_all(d.join("templates/coursepack")).unwrap();
                symlink("..", d.join("templates/coursepack/up")).unwrap();
                symlink(".", d.join("templates/here")).unwrap();
            },
            build: false,
            code: 0,
            expect: &[],
        },
        // --- encodings ---
        check(
            "transcript not UTF-8",
            |d| {
                with_transcript(d);
                write(d, "media/talk.txt", b"caf\xe9");
            },
            &["course.toml:13:14: transcript `media/talk.txt` is not UTF-8 text"],
        ),
        check(
            "course.toml in UTF-16",
            |d| {
                let mut bytes = vec![0xff, 0xfe];
                for u in COURSE.encode_utf16() {
                    bytes.extend(u.to_le_bytes());
                }
                write(d, "course.toml", bytes);
            },
            &["course.toml:1:1: the file is not valid UTF-8 text"],
        ),
        check(
            "CRLF line ends with an error at a line end",
            |d| {
                let text = COURSE
                    .replace('\n', "\r\n")
                    .replace("title = \"Demo\"", "title = \"Demo");
                write(d, "course.toml", text);
            },
            &["course.toml:3:14: "],
        ),
        check(
            "CRLF line ends with an error at the end of the file",
            |d| write(d, "course.toml", "[course]\r\nid = \"demo\"\r\ntitle ="),
            &["course.toml:3:"],
        ),
        // --- control characters ---
        check(
            "escape sequence in a title",
            |d| {
                edited(
                    d,
                    "title = \"Demo\"",
                    "title = \"Demo\\u001b[2J\\u001b]0;pwned\\u0007\"",
                )
            },
            &["course.toml:3:9: this text contains the control character U+001B"],
        ),
        check(
            "escape sequence in an unknown key",
            |d| {
                edited(
                    d,
                    "title = \"Demo\"",
                    "title = \"Demo\"\n\"\\u001b[2Jx\" = 1",
                )
            },
            &[
                "course.toml:4:1: this text contains the control character U+001B",
                "unknown key `\\u{1b}[2Jx`",
            ],
        ),
        check(
            "NUL and U+FFFF in course text",
            |d| {
                edited(
                    d,
                    "title = \"One\"",
                    "title = \"O\\u0000ne\"\ngoals = [\"a\\uFFFF\"]",
                )
            },
            &[
                "course.toml:7:9: this text contains the control character U+0000",
                "course.toml:8:10: this text contains the control character U+FFFF",
            ],
        ),
        check(
            "control character in a transcript file",
            |d| {
                with_transcript(d);
                write(d, "media/talk.txt", "Line one\nLine \u{1}two\n");
            },
            &[
                "media/talk.txt:2:6: transcript `media/talk.txt` contains the control character U+0001",
                "2 | Line \\u{1}two",
            ],
        ),
        // --- template cycles ---
        check(
            "templates that include each other",
            |d| {
                edited(d, "x", "x");
                write(d, "templates/block.hbs", "{{> layout}}");
                write(
                    d,
                    "templates/layout.hbs",
                    "<main>{{> block}}{{> @partial-block}}</main>",
                );
            },
            &["templates include each other without end: block -> layout -> block"],
        ),
        check(
            "an inline partial that includes itself through another",
            |d| {
                edited(d, "x", "x");
                write(
                    d,
                    "templates/block.hbs",
                    "{{#*inline \"a\"}}{{> b}}{{/inline}}{{#*inline \"b\"}}{{> a}}{{/inline}}{{> a}}",
                );
            },
            &["templates include each other without end: a -> b -> a"],
        ),
        check(
            "a partial named by an expression",
            |d| {
                edited(d, "x", "x");
                write(d, "templates/block.hbs", "{{> (lookup this \"kind\")}}");
            },
            &["template `block.hbs` includes a partial whose name is an expression"],
        ),
        check(
            "a template nested 10,000 deep",
            |d| {
                edited(d, "x", "x");
                let deep = format!(
                    "{}x{}",
                    "{{#if is_text}}".repeat(10_000),
                    "{{/if}}".repeat(10_000)
                );
                write(d, "templates/block.hbs", deep);
            },
            &["templates/block.hbs: template `block.hbs` nests blocks or expressions 10000 deep"],
        ),
        // --- huge inputs ---
        check(
            "a version of 300 characters",
            |d| {
                edited(
                    d,
                    "title = \"Demo\"",
                    &format!("title = \"Demo\"\nversion = \"{}\"", "1".repeat(300)),
                )
            },
            &["course.toml:4:11: version is 300 characters long"],
        ),
        check(
            "1,500 unknown keys",
            |d| {
                let keys: String = (0..1500).map(|i| format!("k{i} = 1\n")).collect();
                edited(
                    d,
                    "title = \"Demo\"\n",
                    &format!("title = \"Demo\"\n{keys}"),
                );
            },
            &[
                "error: 1500 problems found\n",
                "note: 1300 more not shown (1300 errors, 0 warnings)",
            ],
        ),
        check(
            "ten unknown keys of a million characters",
            |d| {
                let keys: String = (0..10)
                    .map(|i| format!("{}{i} = 1\n", "k".repeat(1_000_000)))
                    .collect();
                edited(
                    d,
                    "title = \"Demo\"\n",
                    &format!("title = \"Demo\"\n{keys}"),
                );
            },
            &[
                "error: 10 problems found",
                "course.toml:4:1: unknown key `kkkk",
            ],
        ),
        check(
            "three wrong types",
            |d| {
                edited(
                    d,
                    "title = \"One\"",
                    "title = 1\ngoals = [2]\n[session.completion]\nvideo_percent = \"x\"",
                )
            },
            &[
                "course.toml:7:9: `title` takes text, not a number",
                "course.toml:8:10: `goals` is a list of text; an item is a number",
                "course.toml:10:17: `video_percent` takes a whole number, not text",
                "error: 3 problems found",
            ],
        ),
        check(
            "an error on a 5 MB line",
            |d| {
                let long = "x".repeat(5_000_000);
                edited(
                    d,
                    "title = \"One\"",
                    &format!("title = \"One\"\ngoals = [\"{long}\", 3, 4]"),
                );
            },
            &["course.toml:8:5000014: `goals` is a list of text", "…"],
        ),
        check(
            "a require list of 10,000 unknown ids",
            |d| {
                let blocks: String = (0..2000)
                    .map(|i| format!("[[session.block]]\ntype = \"reflection\"\nid = \"q{i}\"\nquestion = \"?\"\n"))
                    .collect();
                let ids: Vec<String> = (0..10_000).map(|i| format!("\"zz{i}\"")).collect();
                let text = format!(
                    "{COURSE}{blocks}[session.completion]\nrequire = [{}]\n",
                    ids.join(", ")
                );
                write(d, "course.toml", text);
                write(d, "media/talk.txt", "Hello.");
            },
            &[
                "error: 10000 problems found",
                "and 1993 more",
                "more not shown (9800 errors",
            ],
        ),
        Case {
            name: "5,000 sessions and 20,000 block ids check in seconds",
            make: |d| {
                let mut text = String::from("[course]\nid = \"big\"\ntitle = \"Big\"\n");
                for s in 0..5000 {
                    text.push_str(&format!("[[session]]\nid = \"s{s}\"\ntitle = \"S\"\n"));
                    for b in 0..4 {
                        text.push_str(&format!(
                            "[[session.block]]\ntype = \"reflection\"\nid = \"s{s}-b{b}\"\nquestion = \"?\"\nmax_chars = 100\n"
                        ));
                    }
                }
                write(d, "course.toml", text);
            },
            build: false,
            code: 0,
            expect: &[],
        },
        check(
            "1,000 mistakes spread over a course of 10,000 blocks",
            |d| {
                let mut text = String::from("[course]\nid = \"big\"\ntitle = \"Big\"\n");
                for s in 0..2000 {
                    text.push_str(&format!("[[session]]\nid = \"s{s}\"\ntitle = \"S\"\n"));
                    for b in 0..5 {
                        text.push_str(&format!(
                            "[[session.block]]\ntype = \"reflection\"\nid = \"s{s}-b{b}\"\nquestion = \"?\"\nmax_chars = 100\n"
                        ));
                        if b == 0 && s % 2 == 0 {
                            text.push_str("minuts = 5\n");
                        }
                    }
                }
                write(d, "course.toml", text);
            },
            &["error: 1000 problems found", "unknown key `minuts`"],
        ),
        check(
            "20,000 missing images beside 1,000 files",
            |d| {
                for i in 0..1000 {
                    write(d, &format!("media/f{i}.png"), "");
                }
                let images: Vec<String> = (0..20_000)
                    .map(|i| format!("![](media/x{i}.png)"))
                    .collect();
                edited(
                    d,
                    "title = \"One\"",
                    &format!("title = \"One\"\nintro = \"{}\"", images.join(" ")),
                );
            },
            &["error: 20000 problems found"],
        ),
        // --- the output folder ---
        Case {
            name: "media linked to another file inside the course builds",
            make: |d| {
                edited(
                    d,
                    "embed = \"https://www.youtube.com/embed/x\"",
                    "file = \"media/clip.mp4\"\ncaptions = \"media/clip.vtt\"",
                );
                write(d, "media/real/clip.mp4", "not really a video");
                write(d, "media/real/clip.vtt", "WEBVTT\n");
                symlink("real/clip.mp4", d.join("media/clip.mp4")).unwrap();
                symlink("real/clip.vtt", d.join("media/clip.vtt")).unwrap();
            },
            build: true,
            code: 0,
            expect: &[],
        },
        Case {
            name: "output folder is a file",
            make: |d| {
                edited(d, "x", "x");
                write(d, "out", "not a folder");
            },
            build: true,
            code: 1,
            expect: &["cannot create the output folder", "nothing was written"],
        },
        Case {
            name: "a folder where a package goes",
            make: |d| {
                edited(d, "x", "x");
                write(d, "out/demo-1.0.0-scorm12.zip", "old");
                write(d, "out/demo-1.0.0-cc13.imscc/keep", "x");
                write(d, "out/.coursepack-Stale1.part", "left by a killed build");
            },
            build: true,
            code: 1,
            expect: &[
                "demo-1.0.0-cc13.imscc: a folder stands there",
                "nothing was written",
            ],
        },
    ]
}

/// Characters a terminal must never receive from coursepack's output.
fn has_raw_controls(s: &str) -> bool {
    s.chars()
        .any(|c| (c < ' ' && c != '\n' && c != '\t') || ('\u{7f}'..='\u{9f}').contains(&c))
}

#[test]
fn every_hostile_course_is_refused_cleanly() {
    let mut failures = Vec::new();
    for case in cases() {
        let dir = tempfile::tempdir().unwrap();
        (case.make)(dir.path());
        let args: Vec<&str> = if case.build {
            vec!["build", ".", "--out", "out", "--quiet"]
        } else {
            vec!["check", "."]
        };
        let r = run(dir.path(), &args);
        let mut problems = Vec::new();
        if r.code != Some(case.code) {
            problems.push(format!("exit {:?}, expected {}", r.code, case.code));
        }
        for e in case.expect {
            if !r.stderr.contains(e) {
                problems.push(format!("no {e:?} in stderr"));
            }
        }
        if r.stderr.contains("panicked") {
            problems.push("panicked".into());
        }
        if has_raw_controls(&r.stderr) || has_raw_controls(&r.stdout) {
            problems.push("raw control characters reached the terminal".into());
        }
        if r.stderr.len() > 200_000 {
            problems.push(format!("{} bytes of stderr", r.stderr.len()));
        }
        if case.code == 2
            && !r
                .stderr
                .lines()
                .filter(|l| l.starts_with("error: ") && !l.contains("problem"))
                .all(|l| l.contains("course.toml") || l.contains("/") || l.contains(".txt"))
        {
            problems.push("an error without its place".into());
        }
        if r.took > Duration::from_secs(30) {
            problems.push(format!("took {:?}", r.took));
        }
        if !problems.is_empty() {
            let head: String = r.stderr.chars().take(3000).collect();
            failures.push(format!(
                "--- {}: {}\n{head}",
                case.name,
                problems.join("; ")
            ));
        }
        if case.name == "a folder where a package goes" {
            let out = dir.path().join("out");
            let old = std::fs::read(out.join("demo-1.0.0-scorm12.zip")).unwrap_or_default();
            let names: Vec<String> = std::fs::read_dir(&out)
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect();
            if old != b"old" || names.len() != 2 {
                failures.push(format!(
                    "--- {}: the output folder changed: {names:?}",
                    case.name
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Characters XML 1.0 cannot carry never reach a manifest, whatever
/// Markdown makes of character references.
#[test]
fn character_references_never_break_the_manifests() {
    let dir = tempfile::tempdir().unwrap();
    edited(
        dir.path(),
        "title = \"Demo\"",
        "title = \"Demo\"\nsummary = \"Ring &#7; the &#27;[31m bell &#xFFFF; &#0;\"",
    );
    let (out, _) = build(dir.path(), "scorm2004,cc13");
    let mut checked = 0;
    for entry in std::fs::read_dir(out.path()).unwrap() {
        for (name, bytes) in unzip(&entry.unwrap().path()) {
            if name.ends_with(".xml") {
                let text = String::from_utf8(bytes).unwrap();
                assert!(
                    !text.chars().any(|c| {
                        (c < ' ' && !matches!(c, '\t' | '\n' | '\r'))
                            || c == '\u{fffe}'
                            || c == '\u{ffff}'
                    }),
                    "{name}: {text:?}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 2);
}

/// A media file that turns into a named pipe after `check` never blocks
/// the build.
#[test]
fn a_media_file_swapped_for_a_pipe_is_refused_not_waited_on() {
    use coursepack_pipeline::archive::{Entry, write_zip};
    let dir = tempfile::tempdir().unwrap();
    let pipe = dir.path().join("clip.mp4");
    mkfifo(&pipe);
    let start = Instant::now();
    let result = write_zip(
        &dir.path().join("p.zip"),
        vec![Entry::file("media/clip.mp4", &pipe)],
    );
    let err = format!("{:#}", result.err().expect("refused"));
    assert!(err.contains("named pipe"), "{err}");
    assert!(start.elapsed() < Duration::from_secs(5));
}
