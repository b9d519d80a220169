//! The command line: one module per command, each with its arguments and
//! an `execute` that returns the process exit code.

pub mod build;
pub mod check;
pub mod init;
pub mod output;
#[cfg(feature = "preview")]
pub mod preview;
#[cfg(feature = "serve")]
pub mod serve;
pub mod targets;
pub mod translate;
pub mod variant;

use clap::{Parser, Subcommand};

use coursepack_pipeline::build::Error;

/// Exit codes, as documented in the README.
pub const EXIT_OK: i32 = 0;
pub const EXIT_FAILURE: i32 = 1;
pub const EXIT_BAD_INPUT: i32 = 2;

#[derive(Parser)]
#[command(
    name = "coursepack",
    version,
    about = "Build SCORM 1.2, SCORM 2004 and other LMS packages from one course.toml",
    long_about = "Build SCORM 1.2, SCORM 2004 and other LMS packages from one course.toml.\n\nExit codes: 0 success, 1 failure while building, 2 bad input (the course or the command line)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Build the course's packages into the output folder
    Build(build::Args),
    /// Check the course and report every problem, writing nothing
    Check(check::Args),
    /// Create a new course folder that builds
    Init(init::Args),
    /// Preview the course in a simulated LMS on this computer, rebuilt as it changes
    #[cfg(feature = "preview")]
    Preview(preview::Args),
    /// Serve the course as an LTI 1.3 tool (launches, grades, deep linking, registration)
    #[cfg(feature = "serve")]
    Serve(serve::Args),
    /// Translate the course's text: extract an XLIFF file for translators
    Translate(translate::Args),
}

/// Runs the command line and returns the exit code.
pub fn run(cli: Cli) -> i32 {
    match cli.command {
        Command::Build(args) => build::execute(args),
        Command::Check(args) => check::execute(args),
        Command::Init(args) => init::execute(args),
        #[cfg(feature = "preview")]
        Command::Preview(args) => preview::execute(args),
        #[cfg(feature = "serve")]
        Command::Serve(args) => serve::execute(args),
        Command::Translate(args) => translate::execute(args),
    }
}

/// The course folder from a command-line path: the folder, or the
/// `course.toml` in it (`coursepack check course/course.toml`).
pub fn course_dir(given: &str) -> Result<std::path::PathBuf, String> {
    let given = std::path::PathBuf::from(given);
    let names_the_file = given
        .file_name()
        .is_some_and(|n| n == coursepack_pipeline::load::COURSE_FILE);
    if names_the_file && !given.is_dir() {
        match given.parent() {
            Some(p) if !p.as_os_str().is_empty() => Ok(p.to_path_buf()),
            _ => Ok(std::path::PathBuf::from(".")),
        }
    } else {
        Ok(given)
    }
}

/// Most diagnostics printed; the count of the rest is printed instead.
pub const MAX_PRINTED: usize = 200;

/// Lines listed for a group of warnings before "…".
const GROUP_LINES: usize = 8;

/// Prints the diagnostics like [`report`], except that warnings saying the
/// same (the same help, in the same file) are one warning and a line
/// counting the others with their lines; `report` prints each.
pub fn report_grouped(diags: &coursepack_pipeline::diagnostic::Diagnostics) {
    use coursepack_pipeline::diagnostic::Diagnostic;
    use std::collections::HashMap;
    use std::io::Write as _;
    let sorted = diags.sorted();
    let kind = |d: &Diagnostic| {
        (!d.is_error() && d.help.is_some())
            .then(|| (d.help.clone(), d.location.as_ref().map(|l| l.path.clone())))
    };
    let mut groups: HashMap<_, Vec<&Diagnostic>> = HashMap::new();
    for d in &sorted {
        if let Some(k) = kind(d) {
            groups.entry(k).or_default().push(d);
        }
    }
    let mut err = std::io::stderr().lock();
    let mut printed = 0;
    let mut left = 0;
    for d in &sorted {
        let group = kind(d).and_then(|k| groups.get(&k));
        if group.is_some_and(|g| !std::ptr::eq(g[0], *d)) {
            continue;
        }
        if printed == MAX_PRINTED {
            left += 1;
            continue;
        }
        printed += 1;
        let _ = write!(err, "{}", diags.render(d));
        if let Some(rest) = group.map(|g| &g[1..]).filter(|r| !r.is_empty()) {
            let mut lines: Vec<String> = rest
                .iter()
                .take(GROUP_LINES)
                .filter_map(|o| diags.line_of(o))
                .map(|l| l.to_string())
                .collect();
            if rest.len() > GROUP_LINES {
                lines.push("…".into());
            }
            let at = match lines.len() {
                0 => String::new(),
                1 => format!(", on line {}", lines[0]),
                _ => format!(", on lines {}", lines.join(", ")),
            };
            let _ = writeln!(
                err,
                "note: {} like this one{at} (`--verbose` shows each)",
                count(rest.len(), "more warning")
            );
        }
    }
    if left > 0 {
        let _ = writeln!(err, "note: {} not shown", count(left, "more problem"));
    }
}

/// Prints the diagnostics to stderr, errors first: the first
/// [`MAX_PRINTED`], then how many more there are.
pub fn report(diags: &coursepack_pipeline::diagnostic::Diagnostics) {
    use std::io::Write as _;
    let sorted = diags.sorted();
    let mut err = std::io::stderr().lock();
    for d in sorted.iter().take(MAX_PRINTED) {
        let _ = write!(err, "{}", diags.render(d));
    }
    if sorted.len() > MAX_PRINTED {
        let rest = &sorted[MAX_PRINTED..];
        let errors = rest.iter().filter(|d| d.is_error()).count();
        let warnings = rest.len() - errors;
        let _ = writeln!(
            err,
            "note: {} more not shown ({}, {})",
            rest.len(),
            count(errors, "error"),
            count(warnings, "warning")
        );
    }
}

/// Prints why a command that writes stopped and returns its exit code.
pub fn fail(error: Error) -> i32 {
    fail_as(error, true)
}

/// Prints why a command stopped and returns its exit code; `writes` says
/// whether it is one that writes (and then says nothing was).
pub fn fail_as(error: Error, writes: bool) -> i32 {
    match error {
        Error::Input(diags) => {
            report(&diags);
            let n = diags.error_count();
            eprintln!(
                "error: {} found{}",
                count(n, "problem"),
                if writes { "; nothing was written" } else { "" }
            );
            EXIT_BAD_INPUT
        }
        Error::Failed(e) => {
            eprintln!(
                "error: {}",
                coursepack_pipeline::diagnostic::escape(&format!("{e:#}"), true)
            );
            if writes {
                eprintln!("nothing was written; existing files are unchanged");
            }
            EXIT_FAILURE
        }
    }
}

/// A count with its noun: `1 session`, `3 sessions`.
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// The line `build` prints for each package written.
pub fn print_written(written: &[coursepack_pipeline::archive::Written]) {
    for w in written {
        println!(
            "wrote {} ({}, {} files)",
            w.path.display(),
            human_size(w.bytes),
            w.files
        );
    }
}

/// A size for people: `1.2 MB`.
fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["bytes", "kB", "MB", "GB"];
    let mut size = bytes as f64;
    let mut unit = 0;
    while size >= 1000.0 && unit < UNITS.len() - 1 {
        size /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} bytes")
    } else {
        format!("{size:.1} {}", UNITS[unit])
    }
}
