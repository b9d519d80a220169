//! `coursepack build`: writes every package of the course.

use std::path::PathBuf;

use clap::{Args as ClapArgs, ValueEnum};

use super::{EXIT_OK, fail, human_size, report};
use crate::build;
use crate::model::Sco;
use crate::package::CcFlavour;

#[derive(ClapArgs)]
pub struct Args {
    /// The course folder, holding course.toml
    #[arg(default_value = "course")]
    pub course_dir: PathBuf,
    /// Targets to build, comma-separated: scorm12, scorm2004, cc11, cc13, lti
    /// [default: every target; lti only with --tool-url]
    #[arg(long, short, value_delimiter = ',', value_name = "LIST")]
    pub target: Vec<String>,
    /// Where packages are written
    #[arg(long, short, default_value = "dist", value_name = "DIR")]
    pub out: PathBuf,
    /// What the Common Cartridge targets (cc11, cc13) carry: the pages
    /// themselves, or one LTI link per session to the coursepack tool
    #[arg(long, value_enum, default_value_t = Flavour::Web, value_name = "FLAVOUR")]
    pub cc_flavour: Flavour,
    /// The LTI tool's https base address, for the `lti` target and
    /// `--cc-flavour lti`; sessions launch at <URL>/launch/<session-id>
    #[arg(long, value_name = "URL")]
    pub tool_url: Option<String>,
    /// What one SCO holds in the SCORM packages: a session, or the whole
    /// course [default: `[packaging] sco`, else scorm12 session, scorm2004 course]
    #[arg(long, value_enum, value_name = "SCO")]
    pub sco: Option<ScoArg>,
    /// Print only errors and the summary
    #[arg(long, short)]
    pub quiet: bool,
}

/// `--cc-flavour` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Flavour {
    /// Self-contained: web pages, web links and discussion topics
    Web,
    /// Thin: one LTI link per session (needs --tool-url)
    Lti,
}

/// `--sco` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ScoArg {
    /// One SCO per session: the LMS lists and tracks each session
    Session,
    /// The whole course is one SCO, each session an objective (records
    /// every session in Moodle's SCORM 2004 player)
    Course,
}

impl From<Flavour> for CcFlavour {
    fn from(f: Flavour) -> Self {
        match f {
            Flavour::Web => CcFlavour::Web,
            Flavour::Lti => CcFlavour::Lti,
        }
    }
}

pub fn execute(args: Args) -> i32 {
    let targets = if args.target.is_empty() {
        build::default_targets(args.tool_url.is_some())
    } else {
        match build::targets(&args.target) {
            Ok(t) => t,
            Err(e) => return fail(e),
        }
    };
    let mut options =
        match build::target_options(&targets, args.cc_flavour.into(), args.tool_url.as_deref()) {
            Ok(o) => o,
            Err(e) => return fail(e),
        };
    options.sco = args.sco.map(|s| match s {
        ScoArg::Session => Sco::Session,
        ScoArg::Course => Sco::Course,
    });
    let cartridge = targets.iter().any(|t| t.uses_static_pages());
    let prepared = match build::prepare_for(&args.course_dir, cartridge) {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    if !args.quiet {
        report(&prepared.loaded.diagnostics);
        if args.tool_url.is_some() && !build::uses_tool_url(&targets, &options) {
            eprintln!(
                "warning: --tool-url is used only by the `lti` target and `--cc-flavour lti`; none is built here"
            );
        }
    }
    let quiet = args.quiet;
    let mut progress = |msg: &str| {
        if !quiet {
            eprintln!("{msg}");
        }
    };
    match build::build(&prepared, &targets, &options, &args.out, &mut progress) {
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
