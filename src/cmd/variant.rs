//! The variants' part of `build`, `check` and `init`: building each
//! variant named (`--variant`, `--all-variants`), checking every variant
//! and every translation file, and writing a variant's skeleton.

use std::path::Path;

use super::targets::Chosen;
use super::{count, print_written, report, report_grouped};
use coursepack_pipeline::archive::Written;
use coursepack_pipeline::build::{self, Error, Observer};
use coursepack_pipeline::diagnostic::{Diagnostic, Diagnostics};
use coursepack_pipeline::load::{self, Loaded};
use coursepack_pipeline::package;

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

/// What building one variant came to.
pub struct VariantBuilt {
    pub name: String,
    pub course: Option<coursepack_pipeline::report::CourseSummary>,
    pub language: Option<String>,
    /// Its problems (with the LMSs' findings), named after the variant.
    pub diagnostics: Diagnostics,
    /// The targets' warnings, as the build told them.
    pub target_warnings: Vec<String>,
    pub written: Vec<Written>,
}

/// How `build_all` talks: human text (`quiet`, `verbose`), or nothing (the
/// JSON report says it all).
#[derive(Clone, Copy)]
pub struct Talk {
    pub json: bool,
    pub quiet: bool,
    pub verbose: bool,
}

/// Builds every variant in `names` into `out`: each one loaded, checked
/// for the LMSs asked for and rendered first (so that a problem in any of
/// them writes nothing), then every variant's packages written together
/// and put in place all or none. A variant's `[packaging] targets` are its
/// default when `--target` is not given.
/// Problems stop the build: as an error (human), or as each variant's
/// problems with nothing written (JSON).
pub fn build_all(
    dir: &Path,
    names: &[String],
    target_names: &[String],
    chosen: &Chosen,
    out: &Path,
    talk: Talk,
) -> Result<Vec<VariantBuilt>, Error> {
    let options = &chosen.options;
    let mut prepared = Vec::new();
    let mut outcomes = Vec::new();
    let mut problems = Diagnostics::default();
    for name in names {
        let select = |course: &coursepack_pipeline::model::Course| {
            let targets = own_targets(course, target_names, options)?;
            // One tool serves one variant (`serve --variant`), at its own address: the
            // packages that point at a tool are built for one variant at a time.
            if names.len() > 1 && targets.iter().any(|t| t.uses_tool_url()) {
                let mut diags = Diagnostics::default();
                diags.push(
                    Diagnostic::error(
                        "the LTI packages (`lti`, `--cc-flavour lti`) point at the tool that serves one variant; build them for one variant at a time",
                    )
                    .help("run `coursepack serve --variant NAME` for each variant at its own --public-url, and build each one's LTI packages with `--variant NAME --tool-url` that address"),
                );
                return Err(diags);
            }
            Ok(targets)
        };
        let mut outcome = VariantBuilt {
            name: name.clone(),
            course: None,
            language: None,
            diagnostics: Diagnostics::default(),
            target_warnings: Vec::new(),
            written: Vec::new(),
        };
        match build::prepare_variant(dir, name, &select) {
            Ok((mut p, targets)) => {
                outcome.course = Some(coursepack_pipeline::report::CourseSummary::of(
                    &p.loaded.course,
                ));
                outcome.language = Some(p.loaded.course.language.clone());
                if chosen.check_lms_of(&mut p.loaded, &targets) {
                    let diags = named(name, std::mem::take(&mut p.loaded.diagnostics));
                    problems.items.extend(diags.items.iter().cloned());
                    outcome.diagnostics = diags;
                } else {
                    prepared.push((outcomes.len(), p, targets));
                }
            }
            Err(Error::Input(diags)) => {
                let diags = named(name, diags);
                problems.items.extend(diags.items.iter().cloned());
                outcome.diagnostics = diags;
            }
            Err(e) => return Err(e),
        }
        outcomes.push(outcome);
    }
    if problems.has_errors() {
        if talk.json {
            return Ok(outcomes);
        }
        return Err(Error::Input(problems));
    }
    let say = !talk.quiet && !talk.json;
    // Every variant's packages are written together and put in place all
    // or none: a variant that fails to write leaves no other variant's
    // packages behind, and the variants share the reading of their media.
    let mut packages = Vec::new();
    let mut counts = Vec::new();
    for (i, prepared, targets) in &mut prepared {
        let outcome = &mut outcomes[*i];
        let name = &outcome.name;
        if say {
            eprintln!("variant {name}");
        }
        let diags = std::mem::take(&mut prepared.loaded.diagnostics);
        if !talk.json {
            if talk.verbose {
                report(&diags);
            } else if !talk.quiet {
                report_grouped(&diags);
            }
        }
        outcome.diagnostics = named(name, diags);
        let warnings = &mut outcome.target_warnings;
        let own = build::packages_of(
            prepared,
            targets,
            out,
            &mut Observer {
                step: &mut |m| {
                    if say {
                        eprintln!("{m}");
                    }
                },
                warning: &mut |w| {
                    if talk.json {
                        warnings.push(w.to_string());
                    } else if say {
                        eprintln!("warning: {w}");
                    }
                },
                bytes: &|_| {},
            },
        )?;
        counts.push((*i, own.len()));
        packages.extend(own);
    }
    let mut written = build::write_all(packages, &|_| {})?.into_iter();
    for (i, count) in counts {
        let outcome = &mut outcomes[i];
        outcome.written = written.by_ref().take(count).collect();
        if !talk.json {
            print_written(&outcome.written);
        }
    }
    Ok(outcomes)
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

/// `variants/<name>.toml` of the course in `dir`, as the output names it.
pub fn file(dir: &Path, name: &str) -> String {
    dir.join(load::VARIANTS_DIR)
        .join(format!("{name}.toml"))
        .display()
        .to_string()
}

/// What `check` found in one variant.
pub struct VariantChecked {
    pub name: String,
    /// The variant's course, when it loads (with no error).
    pub course: Option<coursepack_pipeline::model::Course>,
    /// Its own problems (those the course has without it left out), named
    /// after the variant.
    pub diagnostics: Diagnostics,
    /// A failure that is not the course's (exit code 1).
    pub failure: Option<String>,
}

/// A variant's targets: `--target` as given (`target_names`), else the
/// variant's own `[packaging] targets` (none: every default target).
fn own_targets(
    course: &coursepack_pipeline::model::Course,
    target_names: &[String],
    options: &package::Options,
) -> Result<Vec<Box<dyn package::Target>>, Diagnostics> {
    let wanted = if target_names.is_empty() {
        &course.default_targets
    } else {
        target_names
    };
    package::select(wanted, options)
}

/// `check --lms`: the LMSs' findings on each variant's own packages (those
/// of `--target`, else the variant's `[packaging] targets`).
#[derive(Clone, Copy)]
pub struct LmsCheck<'a> {
    pub chosen: &'a Chosen,
    /// `--target` as given (empty: each variant's own targets).
    pub target_names: &'a [String],
}

impl LmsCheck<'_> {
    /// Adds the findings to the variant's diagnostics; whether any is an
    /// error.
    fn check(&self, loaded: &mut Loaded) -> bool {
        match own_targets(&loaded.course, self.target_names, &self.chosen.options) {
            Ok(targets) => self.chosen.check_lms_of(loaded, &targets),
            Err(diags) => {
                loaded.diagnostics.items.extend(diags.items);
                true
            }
        }
    }
}

/// What `check` found in the variants and the translation files.
pub struct Checked {
    pub variants: Vec<VariantChecked>,
    pub coverage: Vec<load::Coverage>,
    /// Problems with the translation files not already told by a variant.
    pub coverage_problems: Diagnostics,
}

impl Checked {
    /// Whether every variant and translation file is ready to build.
    pub fn ok(&self) -> bool {
        self.variants
            .iter()
            .all(|v| v.course.is_some() && v.failure.is_none())
            && !self.coverage_problems.has_errors()
    }
}

/// `check` of every variant and the coverage of every translation file,
/// after the course itself was checked (`base`: its problems, which are
/// not repeated; `loaded`: it loaded with no error; only then is the
/// coverage looked at).
pub fn check_variants(
    dir: &Path,
    base: Option<&Diagnostics>,
    loaded: bool,
    lms: Option<LmsCheck>,
) -> Checked {
    // What a problem is, cheaply: its severity, words and place.
    let key = |d: &Diagnostic| {
        let loc = d.location.as_ref();
        (
            d.is_error(),
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
    let mut checked = Checked {
        variants: Vec::new(),
        coverage: Vec::new(),
        coverage_problems: Diagnostics::default(),
    };
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
        let mut v = VariantChecked {
            name: name.clone(),
            course: None,
            diagnostics: Diagnostics::default(),
            failure: None,
        };
        match build::check_variant(dir, &name) {
            Ok(mut loaded) => {
                let refused = lms.is_some_and(|l| l.check(&mut loaded));
                v.diagnostics = fresh(loaded.diagnostics);
                // An LMS's refusal the course itself has too was told once,
                // with the course, and fails the check already.
                if !refused || !v.diagnostics.has_errors() {
                    v.course = Some(loaded.course);
                }
            }
            Err(Error::Input(diags)) => v.diagnostics = fresh(diags),
            Err(Error::Failed(e)) => v.failure = Some(format!("{e:#}")),
        }
        checked.variants.push(v);
    }
    if !loaded {
        return checked;
    }
    match load::translation_coverage(dir) {
        Ok(found) => checked.coverage = found,
        Err(mut diags) => {
            diags.items.retain(|d| !reported.contains(&key(d)));
            checked.coverage_problems = diags;
        }
    }
    checked
}

/// [`check_variants`], told on stderr and stdout; whether everything is
/// ready to build.
pub fn check_all(
    dir: &Path,
    base: Option<&Diagnostics>,
    loaded: bool,
    lms: Option<LmsCheck>,
    quiet: bool,
) -> bool {
    let checked = check_variants(dir, base, loaded, lms);
    for v in &checked.variants {
        let name = &v.name;
        match (&v.course, &v.failure) {
            (_, Some(e)) => eprintln!("error: variant `{name}`: {e}"),
            (Some(course), None) => {
                if !quiet {
                    report(&v.diagnostics);
                }
                println!(
                    "{}: variant `{name}` ({}) is ready to build: {}, {}",
                    file(dir, name),
                    course.language,
                    count(course.sessions.len(), "session"),
                    count(v.diagnostics.warnings().count(), "warning"),
                );
            }
            (None, None) => {
                report(&v.diagnostics);
                eprintln!(
                    "error: variant `{name}`: {} found",
                    count(v.diagnostics.error_count(), "problem")
                );
            }
        }
    }
    for c in &checked.coverage {
        println!("{c}");
    }
    report(&checked.coverage_problems);
    checked.ok()
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
