//! The options `build` and `check` share: which packages (`--target` and
//! the options that shape them) and for which LMS (`--lms`).

use clap::{Args as ClapArgs, ValueEnum};

use coursepack_pipeline::diagnostic::{Diagnostic, Diagnostics};
use coursepack_pipeline::lms::{self, Lms, Upload};
use coursepack_pipeline::load::Loaded;
use coursepack_pipeline::model::Sco;
use coursepack_pipeline::package::{self, CcFlavour, Options, Target};
use coursepack_pipeline::tool::ToolUrl;

#[derive(ClapArgs)]
pub struct TargetArgs {
    /// Targets to build (for `check`: to check with --lms), comma-separated:
    /// scorm12, scorm2004, cc11, cc13, lti [default: every target; lti only
    /// with --tool-url]
    #[arg(long, short, value_delimiter = ',', value_name = "LIST")]
    pub target: Vec<String>,
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
    /// Check the packages against what these LMSs accept, comma-separated:
    /// moodle, blackboard, canvas, scorm-cloud
    #[arg(long, value_delimiter = ',', value_name = "LMS")]
    pub lms: Vec<String>,
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

/// What the command line chose, every problem with it reported at once.
pub struct Chosen {
    pub options: Options,
    pub targets: Vec<Box<dyn Target>>,
    pub lmss: Vec<&'static Lms>,
}

impl TargetArgs {
    /// The package options, the targets and the LMSs, or every problem
    /// with them.
    pub fn choose(&self) -> Result<Chosen, Diagnostics> {
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
            return Err(diags);
        }
        let lmss = lms::select(&self.lms).unwrap_or_else(|e| {
            diags.items.extend(e.items);
            Vec::new()
        });
        let targets = package::select(&self.target, &options).unwrap_or_else(|e| {
            diags.items.extend(e.items);
            Vec::new()
        });
        if diags.has_errors() {
            return Err(diags);
        }
        Ok(Chosen {
            options,
            targets,
            lmss,
        })
    }
}

impl Chosen {
    /// Adds the LMSs' findings on these packages to the course's
    /// diagnostics; whether any is an error.
    pub fn check_lms(&self, loaded: &mut Loaded) -> bool {
        self.check_lms_of(loaded, &self.targets)
    }

    /// [`Chosen::check_lms`] of `targets` (a variant's own).
    pub fn check_lms_of(&self, loaded: &mut Loaded, targets: &[Box<dyn Target>]) -> bool {
        if self.lmss.is_empty() {
            return false;
        }
        let upload = Upload {
            course: &loaded.course,
            positions: &loaded.positions,
            packages: lms::plan(&loaded.course, targets),
        };
        let found = lms::check(&self.lmss, &upload);
        let failed = found.iter().any(Diagnostic::is_error);
        loaded.diagnostics.items.extend(found);
        failed
    }
}
