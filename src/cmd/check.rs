//! `coursepack check`: every problem in the course, nothing written.

use std::path::PathBuf;

use clap::Args as ClapArgs;

use super::{EXIT_OK, count, fail_as, report};
use coursepack_pipeline::build;

#[derive(ClapArgs)]
pub struct Args {
    /// The course folder, holding course.toml
    #[arg(default_value = "course", value_parser = super::course_dir)]
    pub course_dir: PathBuf,
    /// Print only errors and the summary
    #[arg(long, short)]
    pub quiet: bool,
}

pub fn execute(args: Args) -> i32 {
    let result = build::check(&args.course_dir);
    // What the course says without a variant, not repeated for each variant.
    let base = match &result {
        Ok(loaded) => Some(&loaded.diagnostics),
        Err(build::Error::Input(diags)) => Some(diags),
        Err(_) => None,
    }
    .map(|d| coursepack_pipeline::diagnostic::Diagnostics {
        items: d.items.clone(),
        source: d.source.clone(),
    });
    let loaded = result.is_ok();
    let code = check_course(&args, result);
    // Every variant, and (when the course loads) every translation's coverage.
    let variants_ok =
        super::variant::check_all(&args.course_dir, base.as_ref(), loaded, args.quiet);
    if code == EXIT_OK && !variants_ok {
        return super::EXIT_BAD_INPUT;
    }
    code
}

fn check_course(
    args: &Args,
    result: Result<coursepack_pipeline::load::Loaded, build::Error>,
) -> i32 {
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
