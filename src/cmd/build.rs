//! `coursepack build`: writes every package of the course.

use std::path::PathBuf;

use clap::Args as ClapArgs;

use super::output::{Format, Progress, print_json};
use super::targets::TargetArgs;
use super::{EXIT_OK, fail, print_written, report, report_grouped};
use coursepack_pipeline::archive::Written;
use coursepack_pipeline::build::{self, Error, Observer};
use coursepack_pipeline::diagnostic::{Diagnostics, Severity};
use coursepack_pipeline::report::{self as json, CourseSummary, Problem, Report, VariantReport};

#[derive(ClapArgs)]
pub struct Args {
    /// The course folder, holding course.toml
    #[arg(default_value = "course", value_parser = super::course_dir)]
    pub course_dir: PathBuf,
    #[command(flatten)]
    pub targets: TargetArgs,
    /// Where packages are written
    #[arg(long, short, default_value = "dist", value_name = "DIR")]
    pub out: PathBuf,
    /// Build this variant (variants/NAME.toml) instead of the course as it
    /// is; repeat it for several
    #[arg(long, value_name = "NAME")]
    pub variant: Vec<String>,
    /// Build every variant in the course's variants/ folder
    #[arg(long, conflicts_with = "variant")]
    pub all_variants: bool,
    /// Print only errors and the summary
    #[arg(long, short)]
    pub quiet: bool,
    /// Print every warning (warnings that say the same are otherwise
    /// counted on one line)
    #[arg(long, short, conflicts_with = "quiet")]
    pub verbose: bool,
    /// `human`: text on stderr, a line a package on stdout; `json`: one
    /// JSON report on stdout (problems, packages with their sha256)
    #[arg(long, value_enum, default_value_t = Format::Human, value_name = "FORMAT")]
    pub format: Format,
}

/// What a build ended with, for the JSON report.
#[derive(Default)]
struct Outcome {
    course: Option<CourseSummary>,
    diagnostics: Diagnostics,
    /// Warnings of the targets, as the build told them.
    target_warnings: Vec<String>,
    /// `--variant`/`--all-variants`: what each variant came to.
    variants: Option<Vec<super::variant::VariantBuilt>>,
}

pub fn execute(args: Args) -> i32 {
    let json = args.format == Format::Json;
    let mut outcome = Outcome::default();
    let result = run(&args, &mut outcome);
    if !json {
        return match result {
            Ok(_) => EXIT_OK,
            Err(e) => fail(e),
        };
    }
    let (exit_code, packages, failure) = match result {
        Ok(written) => match json::packages(&written) {
            Ok(p) => (EXIT_OK, Some(p), None),
            Err(e) => (
                super::EXIT_FAILURE,
                None,
                Some(format!("cannot read the packages written back: {e}")),
            ),
        },
        Err(Error::Input(diags)) => {
            outcome.diagnostics = diags;
            (super::EXIT_BAD_INPUT, None, None)
        }
        Err(Error::Failed(e)) => (
            super::EXIT_FAILURE,
            None,
            Some(format!(
                "{e:#}; nothing was written, existing files are unchanged"
            )),
        ),
    };
    let mut problems: Vec<Problem> = json::problems(&outcome.diagnostics);
    problems.extend(failure.map(|m| json::problem(Severity::Error, m)));
    problems.extend(
        outcome
            .target_warnings
            .iter()
            .map(|w| json::problem(Severity::Warning, w.clone())),
    );
    let errors = problems.iter().filter(|p| p.severity == "error").count();
    let (packages, totals) = packages.unzip();
    let variants = outcome.variants.map(|built| {
        built
            .into_iter()
            .map(|v| variant_report(&args.course_dir, v))
            .collect()
    });
    print_json(&Report {
        version: json::VERSION,
        command: "build",
        ok: exit_code == EXIT_OK,
        exit_code,
        course: outcome.course,
        errors,
        warnings: problems.len() - errors,
        problems,
        packages,
        totals,
        variants,
        translations: None,
    });
    exit_code
}

/// A variant's part of the report: its course, problems and packages.
fn variant_report(dir: &std::path::Path, v: super::variant::VariantBuilt) -> VariantReport {
    let mut problems = json::problems(&v.diagnostics);
    problems.extend(
        v.target_warnings
            .iter()
            .map(|w| json::problem(Severity::Warning, w.clone())),
    );
    let mut report = VariantReport::new(&v.name, super::variant::file(dir, &v.name), problems);
    report.course = v.course;
    report.language = v.language;
    if report.ok {
        match json::packages(&v.written) {
            Ok((packages, totals)) => {
                report.packages = Some(packages);
                report.totals = Some(totals);
            }
            Err(e) => {
                report.ok = false;
                report.errors += 1;
                report.problems.insert(
                    0,
                    json::problem(
                        Severity::Error,
                        format!("cannot read the packages written back: {e}"),
                    ),
                );
            }
        }
    }
    report
}

fn run(args: &Args, outcome: &mut Outcome) -> Result<Vec<Written>, Error> {
    let json = args.format == Format::Json;
    let chosen = args.targets.choose().map_err(Error::Input)?;
    if !args.variant.is_empty() || args.all_variants {
        let names = super::variant::chosen(&args.course_dir, &args.variant, args.all_variants)?;
        let talk = super::variant::Talk {
            json,
            quiet: args.quiet,
            verbose: args.verbose,
        };
        let built = super::variant::build_all(
            &args.course_dir,
            &names,
            &args.targets.target,
            &chosen,
            &args.out,
            talk,
        )?;
        let failed = built.iter().any(|v| v.diagnostics.has_errors());
        let written = built.iter().flat_map(|v| v.written.clone()).collect();
        outcome.variants = Some(built);
        if failed {
            // Each variant's problems are in its part of the report.
            return Err(Error::Input(Diagnostics::default()));
        }
        return Ok(written);
    }
    let targets = &chosen.targets;
    let mut prepared = build::prepare_for(&args.course_dir, targets)?;
    outcome.course = Some(CourseSummary::of(&prepared.loaded.course));
    if chosen.check_lms(&mut prepared.loaded) {
        // A package that cannot work in the LMS: stop before writing.
        return Err(Error::Input(std::mem::take(
            &mut prepared.loaded.diagnostics,
        )));
    }
    let unused_tool_url =
        chosen.options.tool_url.is_some() && !targets.iter().any(|t| t.uses_tool_url());
    const UNUSED_TOOL_URL: &str =
        "--tool-url is used only by the `lti` target and `--cc-flavour lti`; none is built here";
    if json {
        outcome.diagnostics = std::mem::take(&mut prepared.loaded.diagnostics);
        if unused_tool_url {
            outcome.target_warnings.push(UNUSED_TOOL_URL.into());
        }
    } else if args.verbose {
        report(&prepared.loaded.diagnostics);
    } else if !args.quiet {
        report_grouped(&prepared.loaded.diagnostics);
        if unused_tool_url {
            eprintln!("warning: {UNUSED_TOOL_URL}");
        }
    }
    let bar = Progress::new(!args.quiet);
    let talk = !args.quiet && !json;
    let written = bar.run(|| {
        build::build_with(
            &prepared,
            targets,
            &args.out,
            &mut Observer {
                step: &mut |m| {
                    if talk {
                        bar.eprintln(m);
                    }
                },
                warning: &mut |w| {
                    if json {
                        outcome.target_warnings.push(w.to_string());
                    } else if talk {
                        bar.eprintln(&format!("warning: {w}"));
                    }
                },
                bytes: &|b| bar.bytes(b),
            },
        )
    })?;
    if !json {
        print_written(&written);
    }
    Ok(written)
}
