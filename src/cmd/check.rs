//! `coursepack check`: every problem in the course, nothing written.

use std::path::PathBuf;

use clap::Args as ClapArgs;

use super::output::{Format, print_json};
use super::targets::{Chosen, TargetArgs};
use super::variant::LmsCheck;
use super::{EXIT_BAD_INPUT, EXIT_FAILURE, EXIT_OK, count, fail_as, report};
use coursepack_pipeline::build::{self, Error};
use coursepack_pipeline::diagnostic::{Diagnostics, Severity};
use coursepack_pipeline::load::Loaded;
use coursepack_pipeline::report::{
    self as json, CourseSummary, Report, TranslationReport, VariantReport,
};

#[derive(ClapArgs)]
pub struct Args {
    /// The course folder, holding course.toml
    #[arg(default_value = "course", value_parser = super::course_dir)]
    pub course_dir: PathBuf,
    /// The packages to check for (with --lms: what each LMS accepts)
    #[command(flatten)]
    pub targets: TargetArgs,
    /// Print only errors and the summary
    #[arg(long, short)]
    pub quiet: bool,
    /// `human`: every problem on stderr, a summary on stdout; `json`: one
    /// JSON report on stdout (the course, each of its variants, each
    /// translation's coverage)
    #[arg(long, value_enum, default_value_t = Format::Human, value_name = "FORMAT")]
    pub format: Format,
}

pub fn execute(args: Args) -> i32 {
    let mut course = None;
    let (chosen, result) = match args.targets.choose() {
        Ok(chosen) => {
            let result = run(&args, &chosen, &mut course);
            (Some(chosen), result)
        }
        Err(diags) => (None, Err(Error::Input(diags))),
    };
    let lms = lms_check(&args, chosen.as_ref());
    if args.format == Format::Json {
        return print_report(&args, lms, result, course);
    }
    // What the course says without a variant, not repeated for each variant.
    let base = match &result {
        Ok(loaded) => Some(&loaded.diagnostics),
        Err(Error::Input(diags)) => Some(diags),
        Err(_) => None,
    }
    .map(|d| Diagnostics {
        items: d.items.clone(),
        source: d.source.clone(),
    });
    let loaded = result.is_ok();
    let code = check_course(&args, result);
    // Every variant, and (when the course loads) every translation's coverage.
    let variants_ok =
        super::variant::check_all(&args.course_dir, base.as_ref(), loaded, lms, args.quiet);
    if code == EXIT_OK && !variants_ok {
        return EXIT_BAD_INPUT;
    }
    code
}

fn check_course(args: &Args, result: Result<Loaded, Error>) -> i32 {
    match result {
        Ok(loaded) => {
            let diags = &loaded.diagnostics;
            if !args.quiet {
                report(diags);
            }
            let course = &loaded.course;
            let blocks: usize = course.sessions.iter().map(|s| s.blocks.len()).sum();
            let warnings = diags.warnings().count();
            println!(
                "{}: course `{}` version {} is ready to build: {}, {}, {}",
                args.course_dir
                    .join(coursepack_pipeline::load::COURSE_FILE)
                    .display(),
                course.id,
                course.version,
                count(course.sessions.len(), "session"),
                count(blocks, "block"),
                count(warnings, "warning"),
            );
            EXIT_OK
        }
        // `check` never writes: its last line does not say so.
        Err(e) => fail_as(e, false),
    }
}

/// The course checked, with the findings of the LMSs asked for; `course`
/// is told what the course is once it loads.
fn run(args: &Args, chosen: &Chosen, course: &mut Option<CourseSummary>) -> Result<Loaded, Error> {
    let mut loaded = build::check(&args.course_dir)?;
    *course = Some(CourseSummary::of(&loaded.course));
    if chosen.check_lms(&mut loaded) {
        return Err(Error::Input(loaded.diagnostics));
    }
    Ok(loaded)
}

/// With `--lms`, what checks each variant's packages.
fn lms_check<'a>(args: &'a Args, chosen: Option<&'a Chosen>) -> Option<LmsCheck<'a>> {
    chosen
        .filter(|c| !c.lmss.is_empty())
        .map(|chosen| LmsCheck {
            chosen,
            target_names: &args.targets.target,
        })
}

fn print_report(
    args: &Args,
    lms: Option<LmsCheck>,
    result: Result<Loaded, Error>,
    course: Option<CourseSummary>,
) -> i32 {
    let dir = args.course_dir.as_path();
    let base = match &result {
        Ok(loaded) => Some(&loaded.diagnostics),
        Err(Error::Input(diags)) => Some(diags),
        Err(_) => None,
    };
    let checked = super::variant::check_variants(dir, base, result.is_ok(), lms);
    let (mut exit_code, mut problems) = match result {
        Ok(loaded) => (EXIT_OK, json::problems(&loaded.diagnostics)),
        Err(Error::Input(diags)) => (EXIT_BAD_INPUT, json::problems(&diags)),
        Err(Error::Failed(e)) => (
            EXIT_FAILURE,
            vec![json::problem(Severity::Error, format!("{e:#}"))],
        ),
    };
    problems.extend(json::problems(&checked.coverage_problems));
    if exit_code == EXIT_OK && !checked.ok() {
        exit_code = EXIT_BAD_INPUT;
    }
    let variants = checked
        .variants
        .iter()
        .map(|v| {
            let mut problems = json::problems(&v.diagnostics);
            problems.extend(
                v.failure
                    .as_ref()
                    .map(|f| json::problem(Severity::Error, f.clone())),
            );
            let mut report =
                VariantReport::new(&v.name, super::variant::file(dir, &v.name), problems);
            report.ok = report.ok && v.course.is_some();
            report.course = v.course.as_ref().map(CourseSummary::of);
            report.language = v.course.as_ref().map(|c| c.language.clone());
            report
        })
        .collect();
    let translations = checked
        .coverage
        .iter()
        .map(TranslationReport::from)
        .collect();
    let errors = problems.iter().filter(|p| p.severity == "error").count();
    print_json(&Report {
        version: json::VERSION,
        command: "check",
        ok: exit_code == EXIT_OK,
        exit_code,
        course,
        errors,
        warnings: problems.len() - errors,
        problems,
        packages: None,
        totals: None,
        variants: Some(variants),
        translations: Some(translations),
    });
    exit_code
}
