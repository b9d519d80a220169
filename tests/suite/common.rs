//! Helpers shared by the integration tests: running the binary, reading
//! zips, validating XML against the official schemas.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The crate root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The seed course.
pub fn seed_course() -> PathBuf {
    root().join("course")
}

/// A copy of the seed course in a temporary folder, with `from` replaced
/// by `to` in its course.toml. Fails when `from` is not there, so a change
/// to the seed course cannot quietly turn a test into one that checks nothing.
pub fn seed_course_edited(from: &str, to: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&seed_course(), dir.path());
    let path = dir.path().join("course.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.contains(from),
        "the seed course no longer has {from:?}"
    );
    std::fs::write(&path, text.replace(from, to)).unwrap();
    dir
}

/// Copies the folder `from` into `to`, recursively.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

/// Runs `coursepack` with `args` in `cwd`.
pub fn coursepack(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_coursepack"))
        .current_dir(cwd)
        .args(args)
        .output()
        .expect("the coursepack binary runs")
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Builds `course` for `targets` into a new temporary folder.
pub fn build(course: &Path, targets: &str) -> (tempfile::TempDir, Output) {
    let out = tempfile::tempdir().unwrap();
    let output = coursepack(
        &root(),
        &[
            "build",
            course.to_str().unwrap(),
            "--target",
            targets,
            "--out",
            out.path().to_str().unwrap(),
        ],
    );
    assert!(output.status.success(), "build failed: {}", stderr(&output));
    (out, output)
}

/// Every file of a zip, by path.
pub fn unzip(path: &Path) -> BTreeMap<String, Vec<u8>> {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut zip = zip::ZipArchive::new(file).unwrap();
    let mut files = BTreeMap::new();
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).unwrap();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        files.insert(entry.name().to_string(), bytes);
    }
    files
}

/// The official schemas, beside the checkout.
pub fn schemas() -> PathBuf {
    let dir = root().join("../shared/schemas");
    assert!(
        dir.join("catalog.xml").is_file(),
        "the official schemas are expected at {}",
        dir.display()
    );
    dir
}

/// Validates `xml` against `schema` (relative to the schemas folder) with
/// xmllint, offline; panics with xmllint's output when it is not valid.
pub fn assert_valid(xml: &[u8], schema: &str, what: &str) {
    let schemas = schemas();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("doc.xml");
    std::fs::write(&file, xml).unwrap();
    let out = Command::new("xmllint")
        .env("XML_CATALOG_FILES", schemas.join("catalog.xml"))
        .args(["--nonet", "--noout", "--schema"])
        .arg(schemas.join(schema))
        .arg(&file)
        .output()
        .expect("xmllint is installed (Debian package libxml2-utils)");
    assert!(
        out.status.success(),
        "{what} is not valid against {schema}:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Values of `attr` on every `<tag>` element of a document.
pub fn attr_values(xml: &[u8], tag: &str, attr: &str) -> Vec<String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut out = Vec::new();
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf).unwrap() {
            Event::Start(e) | Event::Empty(e) if e.name().as_ref() == tag.as_bytes() => {
                for a in e.attributes() {
                    let a = a.unwrap();
                    if a.key.as_ref() == attr.as_bytes() {
                        out.push(a.unescape_value().unwrap().into_owned());
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    out
}
