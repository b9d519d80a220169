//! `coursepack preview`: its command line, and what its server serves: the packages' files byte
//! for byte, the SCOs of each SCORM package, nothing written. (Its simulator and reloads are
//! tested in headless Chromium: tests/browser/test/preview.test.js.)

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

use crate::common::{build, copy_dir, coursepack, root, seed_course, stderr, stdout, unzip};

#[test]
fn help_names_every_flag_and_value() {
    let out = coursepack(&root(), &["preview", "--help"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let help = stdout(&out);
    for word in [
        "[COURSE_DIR]",
        "--port",
        "[default: 4747]",
        "--open",
        "--lms",
        "scorm12",
        "scorm2004",
        "lti",
        "none",
        "--profile",
        "moodle",
        "blackboard",
        "scorm-cloud",
        "strict",
        "--sco",
    ] {
        assert!(help.contains(word), "`{word}` missing from:\n{help}");
    }
    let top = stdout(&coursepack(&root(), &["--help"]));
    assert!(top.contains("preview"), "{top}");
}

#[test]
fn bad_values_are_refused_with_the_good_ones() {
    for (flag, bad, good) in [
        ("--lms", "blackboard", "scorm12, scorm2004, lti, none"),
        (
            "--profile",
            "canvas",
            "moodle, blackboard, scorm-cloud, strict",
        ),
        ("--port", "70000", "70000"),
    ] {
        let out = coursepack(&root(), &["preview", "course", flag, bad]);
        assert_eq!(out.status.code(), Some(2), "{flag} {bad}");
        let err = stderr(&out);
        assert!(err.contains(&format!("invalid value '{bad}'")), "{err}");
        assert!(err.contains(good), "{err}");
    }
}

#[test]
fn a_folder_without_a_course_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let out = coursepack(dir.path(), &["preview", "nowhere", "--port", "0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("nowhere has no course.toml; give `preview` a course folder"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_port_in_use_is_said_so() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let out = coursepack(&root(), &["preview", "course", "--port", &port]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("cannot listen on 127.0.0.1:{port}")),
        "{err}"
    );
    assert!(err.contains("`--port 0` for any free one"), "{err}");
}

/// A running preview, stopped when dropped.
struct Preview {
    child: Child,
    addr: String,
}

impl Drop for Preview {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(course: &std::path::Path, args: &[&str]) -> Preview {
    let mut child = Command::new(env!("CARGO_BIN_EXE_coursepack"))
        .args(["preview", course.to_str().unwrap(), "--port", "0"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("http://")
        .and_then(|a| a.strip_suffix('/'))
        .unwrap_or_else(|| panic!("no URL on the first line: {line:?}"))
        .to_string();
    Preview { child, addr }
}

/// GET `path`: the status code and the body.
fn get(addr: &str, path: &str) -> (u16, Vec<u8>) {
    get_as(addr, addr, path)
}

/// GET `path` from `addr` with `host` as the Host header.
fn get_as(addr: &str, host: &str, path: &str) -> (u16, Vec<u8>) {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&raw[..split]).to_lowercase();
    assert!(!head.contains("transfer-encoding: chunked"), "{head}");
    let code = head[9..12].parse().unwrap();
    (code, raw[split + 4..].to_vec())
}

#[test]
fn the_pages_are_served_as_packaged_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let course = dir.path().join("course");
    copy_dir(&seed_course(), &course);
    let before = listing(dir.path());
    let pv = start(&course, &["--lms", "scorm12"]);
    let (zips, _) = build(&seed_course(), "scorm12,scorm2004");
    let zip = std::fs::read_dir(zips.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with("-scorm12.zip"))
        .unwrap();
    let files = unzip(&zip);
    assert!(files.len() > 4);
    for (path, bytes) in &files {
        if path == "imsmanifest.xml" {
            continue;
        }
        let (code, body) = get(&pv.addr, &format!("/course/{path}"));
        assert_eq!(code, 200, "{path}");
        assert!(body == *bytes, "{path} differs from the package's");
    }
    // The SCOs the simulator launches are the manifests' items.
    let (code, body) = get(&pv.addr, "/__preview/status");
    assert_eq!(code, 200);
    let status: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let ids = |key: &str| -> Vec<String> {
        status["course"][key]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_string())
            .collect()
    };
    let manifest = String::from_utf8(files["imsmanifest.xml"].clone()).unwrap();
    let sessions = ids("scos12");
    assert_eq!(sessions.len(), 3);
    for id in &sessions {
        assert!(manifest.contains(&format!("identifier=\"{id}\"")), "{id}");
    }
    assert_eq!(ids("scos2004"), ["ITEM-COURSE-care-opinion-feedback"]);
    assert_eq!(status["problems"], serde_json::Value::Null);
    // The shell and its assets, and a 404 for what the packages do not have.
    let (code, shell) = get(&pv.addr, "/");
    assert_eq!(code, 200);
    assert!(String::from_utf8_lossy(&shell).contains("/__preview/simulator.js"));
    assert_eq!(get(&pv.addr, "/__preview/simulator.js").0, 200);
    assert_eq!(get(&pv.addr, "/course/imsmanifest.xml").0, 404);
    assert_eq!(get(&pv.addr, "/course/../course.toml").0, 404);
    // Only requests addressed to this computer: not a site whose name points here.
    let port = pv.addr.rsplit_once(':').unwrap().1;
    for host in ["localhost", "127.0.0.1"] {
        let (code, _) = get_as(&pv.addr, &format!("{host}:{port}"), "/course/index.html");
        assert_eq!(code, 200, "{host}");
    }
    for host in [
        "attacker.example",
        "attacker.example:80",
        "127.0.0.1.attacker.example",
    ] {
        let (code, body) = get_as(&pv.addr, host, "/course/index.html");
        assert_eq!(code, 421, "{host}");
        assert!(String::from_utf8_lossy(&body).contains("answers only"));
    }
    drop(pv);
    assert_eq!(listing(dir.path()), before, "preview wrote files");
}

#[test]
fn lti_pages_carry_the_tools_island_and_nothing_else_changes() {
    let pv = start(&seed_course(), &["--lms", "lti"]);
    let (_, plain) = get(&pv.addr, "/course/problem-with-feedback.html");
    let (code, lti) = get(&pv.addr, "/lti/problem-with-feedback.html");
    assert_eq!(code, 200);
    let island = "<script type=\"application/json\" id=\"cp-lti\">{\"endpoint\":\"/__preview/lti/progress\",\"token\":\"preview\"}</script>\n";
    let lti = String::from_utf8(lti).unwrap();
    assert_eq!(lti.replacen(island, "", 1).into_bytes(), plain);
}

fn listing(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            out.push(p.strip_prefix(dir).unwrap().display().to_string());
            if p.is_dir() {
                stack.push(p);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn a_variant_is_previewed_and_reading_files_is_no_change() {
    let fixture = root().join("tests/fixtures/variants");
    let pv = start(&fixture, &["--variant", "cardiff"]);
    let status = || -> serde_json::Value {
        let (code, body) = get(&pv.addr, "/__preview/status");
        assert_eq!(code, 200);
        serde_json::from_slice(&body).unwrap()
    };
    let first = status();
    let ids: Vec<&str> = first["course"]["scos12"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["ITEM-cardiff-where", "ITEM-cardiff-reply"]);
    let (_, page) = get(&pv.addr, "/course/index.html");
    assert!(
        String::from_utf8(page)
            .unwrap()
            .contains("<html lang=\"cy\"")
    );
    // Every build opens the course's files; that must not count as a change (it once
    // rebuilt for ever). Nothing changes here, so the first build stays the only one.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert_eq!(status()["attempt"], first["attempt"]);
    assert_eq!(first["attempt"], 1);
}
