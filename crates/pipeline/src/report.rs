//! The machine-readable report of `build` and `check` (`--format json`):
//! every problem with its position and help, and the packages written with
//! their size, number of files and SHA-256. The README's "Reports for CI"
//! documents it; a change here is a change of that schema.

use std::io::Read as _;
use std::path::Path;

use serde::Serialize;
use sha2::{Digest as _, Sha256};

use crate::archive::Written;
use crate::diagnostic::{Diagnostics, Severity};

/// The report's version: raised when a field changes meaning or goes away
/// (new fields may be added without it).
pub const VERSION: u32 = 1;

/// The one JSON document `--format json` prints.
#[derive(Debug, Serialize)]
pub struct Report {
    pub version: u32,
    /// `build` or `check`.
    pub command: &'static str,
    /// Whether the command succeeded (exit code 0).
    pub ok: bool,
    pub exit_code: i32,
    /// The course, once it loaded.
    pub course: Option<CourseSummary>,
    pub errors: usize,
    pub warnings: usize,
    /// Errors first, then warnings, each in file order: all of them.
    pub problems: Vec<Problem>,
    /// `build` only: the packages written, in the order of the targets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub packages: Option<Vec<PackageReport>>,
    /// `build` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub totals: Option<Totals>,
    /// `check`: every variant of the course; `build --variant`/`--all-variants`:
    /// the variants built. Absent from a `build` of the course as it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variants: Option<Vec<VariantReport>>,
    /// `check` only: each translation file's coverage.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub translations: Option<Vec<TranslationReport>>,
}

/// One variant (`variants/<name>.toml`): what `check` found in it, or what
/// `build` wrote of it.
#[derive(Debug, Serialize)]
pub struct VariantReport {
    pub name: String,
    /// The variant's file, as the human output names it.
    pub file: String,
    /// Whether it is ready to build (`check`) or was built (`build`).
    pub ok: bool,
    /// The course as the variant makes it, once it loaded.
    pub course: Option<CourseSummary>,
    /// The variant's language (BCP 47), once it loaded.
    pub language: Option<String>,
    pub errors: usize,
    pub warnings: usize,
    /// Its own problems, errors first: those the course has without the
    /// variant are in the report's `problems`, not repeated here (`check`).
    pub problems: Vec<Problem>,
    /// `build` only: the variant's packages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub packages: Option<Vec<PackageReport>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub totals: Option<Totals>,
}

impl VariantReport {
    /// The report of a variant with these problems, counted.
    pub fn new(name: &str, file: String, problems: Vec<Problem>) -> VariantReport {
        let errors = problems.iter().filter(|p| p.severity == "error").count();
        VariantReport {
            name: name.to_string(),
            file,
            ok: errors == 0,
            course: None,
            language: None,
            errors,
            warnings: problems.len() - errors,
            problems,
            packages: None,
            totals: None,
        }
    }
}

/// How much of the course a translation file covers (`check`).
#[derive(Debug, Serialize)]
pub struct TranslationReport {
    pub language: String,
    /// `translations/<lang>.xlf`, inside the course folder.
    pub file: String,
    pub units: usize,
    pub translated: usize,
    pub stale: usize,
}

impl From<&crate::load::Coverage> for TranslationReport {
    fn from(c: &crate::load::Coverage) -> Self {
        TranslationReport {
            language: c.language.clone(),
            file: c.file.clone(),
            units: c.units,
            translated: c.translated,
            stale: c.stale,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct CourseSummary {
    pub id: String,
    pub version: String,
    pub sessions: usize,
    pub blocks: usize,
}

impl CourseSummary {
    pub fn of(course: &crate::model::Course) -> CourseSummary {
        CourseSummary {
            id: course.id.clone(),
            version: course.version.clone(),
            sessions: course.sessions.len(),
            blocks: course.sessions.iter().map(|s| s.blocks.len()).sum(),
        }
    }
}

/// One problem, as the human output prints it.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Problem {
    /// `error` or `warning`.
    pub severity: &'static str,
    pub message: String,
    /// The file it is in, as given on the command line (`course/course.toml`).
    pub file: Option<String>,
    /// 1-based; with `column`, only when it points at a place in the file.
    pub line: Option<usize>,
    /// 1-based, in characters.
    pub column: Option<usize>,
    pub help: Option<String>,
    /// The check's name, for the LMS rules (`moodle/upload-size`).
    pub code: Option<String>,
}

/// Every problem of `diags`, errors first.
pub fn problems(diags: &Diagnostics) -> Vec<Problem> {
    diags
        .sorted()
        .into_iter()
        .map(|d| {
            let position = diags.position(d);
            Problem {
                severity: match d.severity {
                    Severity::Error => "error",
                    Severity::Warning => "warning",
                },
                message: d.message.clone(),
                file: d.location.as_ref().map(|l| l.path.display().to_string()),
                line: position.map(|p| p.0),
                column: position.map(|p| p.1),
                help: d.help.clone(),
                code: d.code().map(str::to_string),
            }
        })
        .collect()
}

/// A problem with no place: a failure while building, a target's warning.
pub fn problem(severity: Severity, message: impl Into<String>) -> Problem {
    Problem {
        severity: match severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        },
        message: message.into(),
        file: None,
        line: None,
        column: None,
        help: None,
        code: None,
    }
}

/// One package written.
#[derive(Debug, Serialize)]
pub struct PackageReport {
    /// As written: the output folder joined with the file name.
    pub path: String,
    pub bytes: u64,
    pub files: usize,
    /// Lower-case hex.
    pub sha256: String,
}

#[derive(Debug, Serialize)]
pub struct Totals {
    pub packages: usize,
    pub bytes: u64,
    pub files: usize,
}

/// The report of each package written, read back for its SHA-256 (the
/// packages side by side, a core each), and their totals.
pub fn packages(written: &[Written]) -> std::io::Result<(Vec<PackageReport>, Totals)> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let next = std::sync::atomic::AtomicUsize::new(0);
    let sums: Vec<std::sync::Mutex<Option<std::io::Result<String>>>> =
        written.iter().map(|_| Default::default()).collect();
    std::thread::scope(|scope| {
        for _ in 0..cores.min(written.len()) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(w) = written.get(i) else { break };
                    let sum = sha256_file(&w.path);
                    *sums[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(sum);
                }
            });
        }
    });
    let mut out = Vec::with_capacity(written.len());
    for (w, sum) in written.iter().zip(sums) {
        let sum = sum.into_inner().unwrap_or_else(|e| e.into_inner());
        out.push(PackageReport {
            path: w.path.display().to_string(),
            bytes: w.bytes,
            files: w.files,
            sha256: sum.expect("every package is hashed")?,
        });
    }
    let totals = Totals {
        packages: out.len(),
        bytes: out.iter().map(|p| p.bytes).sum(),
        files: out.iter().map(|p| p.files).sum(),
    };
    Ok((out, totals))
}

/// The SHA-256 of a file, in lower-case hex.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_a_known_text() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("abc");
        std::fs::write(&path, b"abc").unwrap();
        assert_eq!(
            sha256_file(&path).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
