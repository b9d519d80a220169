//! The variants' part of `build`, `check` and `init`: building each
//! variant named (`--variant`, `--all-variants`), checking every variant
//! and every translation file, and writing a variant's skeleton.

use std::path::Path;

use super::{count, human_size, report, report_grouped};
use coursepack_pipeline::build::{self, Error};
use coursepack_pipeline::diagnostic::{Diagnostic, Diagnostics};
use coursepack_pipeline::load;
use coursepack_pipeline::package::{self, Options};

/// The variants a build asks for: those named, or every one with
/// `--all-variants` (an error when the course has none).
pub fn chosen(dir: &Path, named: &[String], all: bool) -> Result<Vec<String>, Error> {
    if !all {
        return Ok(named.to_vec());
    }
    let found = load::variants(dir);
    if found.is_empty() {
        let mut diags = Diagnostics::default();
        diags.push(
            Diagnostic::error(format!(
                "--all-variants: the course has no variants ({} is empty or missing)",
                dir.join(load::VARIANTS_DIR).display()
            ))
            .help("add one with `coursepack init --variant NAME DIR`, or build without --all-variants"),
        );
        return Err(Error::Input(diags));
    }
    Ok(found)
}

/// Builds every variant in `names` into `out`: each one loaded and
/// rendered first (so that a problem in any of them writes nothing), then
/// each one's packages written. A variant's `[packaging] targets` are its
/// default when `--target` is not given.
pub fn build_all(
    dir: &Path,
    names: &[String],
    target_names: &[String],
    options: &Options,
    out: &Path,
    quiet: bool,
    verbose: bool,
) -> Result<(), Error> {
    let mut prepared = Vec::new();
    let mut problems = Diagnostics::default();
    for name in names {
        let select = |course: &coursepack_pipeline::model::Course| {
            let wanted = if target_names.is_empty() {
                &course.default_targets
            } else {
                target_names
            };
            let targets = package::select(wanted, options)?;
            if targets.iter().any(|t| t.uses_tool_url()) {
                let mut diags = Diagnostics::default();
                diags.push(
                    Diagnostic::error(
                        "the LTI tool (`lti`, `--cc-flavour lti`) serves the course without variants",
                    )
                    .help("build the variant's SCORM packages or web cartridges (`--target scorm12,scorm2004,cc11,cc13`)"),
                );
                return Err(diags);
            }
            Ok(targets)
        };
        match build::prepare_variant(dir, name, &select) {
            Ok(p) => prepared.push((name, p)),
            Err(Error::Input(diags)) => problems.items.extend(named(name, diags).items),
            Err(e) => return Err(e),
        }
    }
    if problems.has_errors() {
        return Err(Error::Input(problems));
    }
    for (name, (prepared, targets)) in &prepared {
        if !quiet {
            eprintln!("variant {name}");
        }
        let diags = &prepared.loaded.diagnostics;
        if verbose {
            report(diags);
        } else if !quiet {
            report_grouped(diags);
        }
        let mut progress = |msg: &str| {
            if !quiet {
                eprintln!("{msg}");
            }
        };
        for w in build::build(prepared, targets, out, &mut progress)? {
            println!(
                "wrote {} ({}, {} files)",
                w.path.display(),
                human_size(w.bytes),
                w.files
            );
        }
    }
    Ok(())
}

/// The variant's name in front of each problem that does not point into
/// its own file already.
fn named(name: &str, mut diags: Diagnostics) -> Diagnostics {
    let own = Path::new(load::VARIANTS_DIR).join(format!("{name}.toml"));
    for d in &mut diags.items {
        let in_own = d.location.as_ref().is_some_and(|l| l.path.ends_with(&own));
        if !in_own {
            d.message = format!("variant `{name}`: {}", d.message);
        }
    }
    diags
}

/// `check` of every variant and the coverage of every translation file,
/// after the course itself was checked (`loaded`: with no error): prints
/// what it finds and returns whether everything is ready to build.
/// Problems the course has without a variant were printed already and are
/// not repeated.
pub fn check_all(dir: &Path, base: Option<&Diagnostics>, loaded: bool, quiet: bool) -> bool {
    let mut ok = true;
    // What a problem is, cheaply: its words and its place.
    let key = |d: &Diagnostic| {
        let loc = d.location.as_ref();
        (
            d.message.clone(),
            loc.map(|l| l.path.clone()),
            loc.and_then(|l| l.span.clone()),
        )
    };
    let names = load::variants(dir);
    let seen: std::collections::HashSet<_> = match (base, names.is_empty()) {
        (Some(b), false) => b.items.iter().map(key).collect(),
        _ => Default::default(),
    };
    // Problems with a translation file a variant reported, not repeated
    // by the coverage.
    let mut reported = std::collections::HashSet::new();
    for name in names {
        let mut fresh = |diags: Diagnostics| {
            let mut out = Diagnostics {
                source: diags.source.clone(),
                ..Diagnostics::default()
            };
            for d in &diags.items {
                if !seen.contains(&key(d)) {
                    out.items.push(d.clone());
                }
            }
            reported.extend(out.items.iter().map(key));
            named(&name, out)
        };
        match build::check_variant(dir, &name) {
            Ok(loaded) => {
                let diags = fresh(loaded.diagnostics);
                if !quiet {
                    report(&diags);
                }
                let course = &loaded.course;
                println!(
                    "{}: variant `{name}` ({}) is ready to build: {}, {}",
                    dir.join(load::VARIANTS_DIR)
                        .join(format!("{name}.toml"))
                        .display(),
                    course.language,
                    count(course.sessions.len(), "session"),
                    count(diags.warnings().count(), "warning"),
                );
            }
            Err(Error::Input(diags)) => {
                ok = false;
                let diags = fresh(diags);
                report(&diags);
                eprintln!(
                    "error: variant `{name}`: {} found",
                    count(diags.error_count(), "problem")
                );
            }
            Err(Error::Failed(e)) => {
                ok = false;
                eprintln!("error: variant `{name}`: {e:#}");
            }
        }
    }
    if !loaded {
        return ok;
    }
    match load::translation_coverage(dir) {
        Ok(found) => {
            for c in found {
                println!("{c}");
            }
        }
        Err(mut diags) => {
            ok = false;
            diags.items.retain(|d| !reported.contains(&key(d)));
            report(&diags);
        }
    }
    ok
}

/// A variant's skeleton: every key it may set, commented out.
const SKELETON: &str = include_str!("../../templates/init/variant.toml");

/// `coursepack init DIR --variant NAME`: writes `DIR/variants/NAME.toml`.
pub fn init(dir: &Path, name: &str) -> Result<String, String> {
    if !dir.join(load::COURSE_FILE).is_file() {
        return Err(format!(
            "{} does not exist\n  = help: a variant is added to a course: run `coursepack init {}` first",
            dir.join(load::COURSE_FILE).display(),
            dir.display()
        ));
    }
    let valid = name.len() <= load::MAX_NAME_PART
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !valid {
        return Err(format!(
            "`{name}` is not a valid variant name\n  = help: use lower-case letters, digits and `-`, starting with a letter (64 characters at most), e.g. `cardiff`"
        ));
    }
    let path = dir.join(load::VARIANTS_DIR).join(format!("{name}.toml"));
    if path.exists() {
        return Err(format!(
            "{} already exists\n  = help: choose another name; nothing was changed",
            path.display()
        ));
    }
    let write = || -> std::io::Result<()> {
        std::fs::create_dir_all(dir.join(load::VARIANTS_DIR))?;
        std::fs::write(&path, SKELETON.replace("{{name}}", name))
    };
    write().map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(format!(
        "created {} — build it with `coursepack build {} --variant {name}`",
        path.display(),
        dir.display()
    ))
}
