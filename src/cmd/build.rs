//! `coursepack build`: writes every package of the course.

use std::path::PathBuf;

use clap::{Args as ClapArgs, ValueEnum};

use super::{EXIT_OK, fail, human_size, report, report_grouped};
use coursepack_pipeline::build::{self, Error};
use coursepack_pipeline::diagnostic::{Diagnostic, Diagnostics};
use coursepack_pipeline::model::Sco;
use coursepack_pipeline::package::{self, CcFlavour, Options};
use coursepack_pipeline::tool::ToolUrl;

#[derive(ClapArgs)]
pub struct Args {
    /// The course folder, holding course.toml
    #[arg(default_value = "course", value_parser = super::course_dir)]
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

impl Args {
    /// The package options, every problem with them reported at once.
    fn options(&self) -> Result<Options, Diagnostics> {
        let mut diags = Diagnostics::default();
        let tool_url = match self.tool_url.as_deref().map(ToolUrl::parse_https) {
            None => None,
            Some(Ok(url)) => Some(url),
            Some(Err(why)) => {
                diags.push(
                    Diagnostic::error(format!("invalid --tool-url: {why}")).help(
                        "give the tool's base address, e.g. `--tool-url https://tool.example.org`",
                    ),
                );
                None
            }
        };
        let options = Options {
            cc_flavour: match self.cc_flavour {
                Flavour::Web => CcFlavour::Web,
                Flavour::Lti => CcFlavour::Lti,
            },
            tool_url,
            sco: self.sco.map(|s| match s {
                ScoArg::Session => Sco::Session,
                ScoArg::Course => Sco::Course,
            }),
        };
        if diags.has_errors() {
            Err(diags)
        } else {
            Ok(options)
        }
    }
}

pub fn execute(args: Args) -> i32 {
    match run(&args) {
        Ok(()) => EXIT_OK,
        Err(e) => fail(e),
    }
}

fn run(args: &Args) -> Result<(), Error> {
    let options = args.options().map_err(Error::Input)?;
    if !args.variant.is_empty() || args.all_variants {
        let names = super::variant::chosen(&args.course_dir, &args.variant, args.all_variants)?;
        return super::variant::build_all(
            &args.course_dir,
            &names,
            &args.target,
            &options,
            &args.out,
            args.quiet,
            args.verbose,
        );
    }
    let targets = package::select(&args.target, &options).map_err(Error::Input)?;
    let prepared = build::prepare_for(&args.course_dir, &targets)?;
    if args.verbose {
        report(&prepared.loaded.diagnostics);
    } else if !args.quiet {
        report_grouped(&prepared.loaded.diagnostics);
        if options.tool_url.is_some() && !targets.iter().any(|t| t.uses_tool_url()) {
            eprintln!(
                "warning: --tool-url is used only by the `lti` target and `--cc-flavour lti`; none is built here"
            );
        }
    }
    let mut progress = |msg: &str| {
        if !args.quiet {
            eprintln!("{msg}");
        }
    };
    for w in build::build(&prepared, &targets, &args.out, &mut progress)? {
        println!(
            "wrote {} ({}, {} files)",
            w.path.display(),
            human_size(w.bytes),
            w.files
        );
    }
    Ok(())
}
