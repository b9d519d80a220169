//! `coursepack build`: writes every package of the course.

use std::path::PathBuf;

use clap::Args as ClapArgs;

use super::{EXIT_OK, fail, human_size, report};
use crate::build;

#[derive(ClapArgs)]
pub struct Args {
    /// The course folder, holding course.toml
    #[arg(default_value = "course")]
    pub course_dir: PathBuf,
    /// Targets to build, comma-separated [default: every target]
    #[arg(long, short, value_delimiter = ',', value_name = "LIST")]
    pub target: Vec<String>,
    /// Where packages are written
    #[arg(long, short, default_value = "dist", value_name = "DIR")]
    pub out: PathBuf,
    /// Print only errors and the summary
    #[arg(long, short)]
    pub quiet: bool,
}

pub fn execute(args: Args) -> i32 {
    let names = if args.target.is_empty() {
        crate::package::names()
            .into_iter()
            .map(String::from)
            .collect()
    } else {
        args.target.clone()
    };
    let targets = match build::targets(&names) {
        Ok(t) => t,
        Err(e) => return fail(e),
    };
    let prepared = match build::prepare(&args.course_dir) {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    if !args.quiet {
        report(&prepared.loaded.diagnostics);
    }
    let quiet = args.quiet;
    let mut progress = |msg: &str| {
        if !quiet {
            eprintln!("{msg}");
        }
    };
    match build::build(&prepared, &targets, &args.out, &mut progress) {
        Ok(written) => {
            for w in written {
                println!(
                    "wrote {} ({}, {} files)",
                    w.path.display(),
                    human_size(w.bytes),
                    w.files
                );
            }
            EXIT_OK
        }
        Err(e) => fail(e),
    }
}
