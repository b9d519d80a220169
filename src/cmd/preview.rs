//! `coursepack preview`: the course in a simulated LMS on loopback, rebuilt as it changes
//! (see crates/preview/).

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use clap::{Args as ClapArgs, ValueEnum};

use super::{EXIT_BAD_INPUT, EXIT_FAILURE, EXIT_OK};
use coursepack_preview as preview;

/// Serve the course on this computer inside a simulated LMS, rebuilding and reloading it as
/// its files change; nothing is written.
#[derive(ClapArgs)]
pub struct Args {
    /// The course folder, holding course.toml
    #[arg(default_value = "course", value_parser = super::course_dir)]
    pub course_dir: PathBuf,
    /// Port on 127.0.0.1 (0: any free port)
    #[arg(long, short, default_value_t = 4747)]
    pub port: u16,
    /// Open the preview in the default browser
    #[arg(long)]
    pub open: bool,
    /// The LMS to play the course in
    #[arg(long, value_enum, default_value_t = LmsArg::Scorm12, value_name = "LMS")]
    pub lms: LmsArg,
    /// Whose behaviour the simulated LMS reproduces (SCORM only)
    #[arg(long, value_enum, default_value_t = ProfileArg::Strict, value_name = "PROFILE")]
    pub profile: ProfileArg,
    /// What one SCO holds in the SCORM packages [default: `[packaging] sco`, else scorm12
    /// session, scorm2004 course]
    #[arg(long, value_enum, value_name = "SCO")]
    pub sco: Option<super::targets::ScoArg>,
    /// Preview this variant (variants/NAME.toml) instead of the course as it is
    #[arg(long, value_name = "NAME")]
    pub variant: Option<String>,
}

/// `--lms` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LmsArg {
    /// SCORM 1.2: the LMS's `API`, the SCOs of the scorm12 package
    Scorm12,
    /// SCORM 2004 4th Edition: `API_1484_11`, the SCOs of the scorm2004 package
    Scorm2004,
    /// The LTI tool: pages as `coursepack serve` serves them, saving to a simulated progress
    /// endpoint (no platform, no login)
    Lti,
    /// No LMS: the pages alone, progress kept in the browser
    None,
}

/// `--profile` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ProfileArg {
    /// Moodle 4.5: one SCORM 2004 API object per player page, no sequencing, 1.2 limits
    /// enforced, browse mode marks a silent 1.2 SCO completed
    Moodle,
    /// Blackboard Learn: sequencing; an attempt is graded only once the SCO finishes
    Blackboard,
    /// SCORM Cloud: sequencing; values beyond the limits kept and flagged
    ScormCloud,
    /// The SCORM books to the letter: every type and limit checked, sequencing
    Strict,
}

pub fn execute(args: Args) -> i32 {
    let dir = &args.course_dir;
    if !dir.join(coursepack_pipeline::load::COURSE_FILE).is_file() {
        eprintln!(
            "error: {} has no {}; give `preview` a course folder (`coursepack init DIR` makes one)",
            dir.display(),
            coursepack_pipeline::load::COURSE_FILE
        );
        return EXIT_BAD_INPUT;
    }
    let lms = match args.lms {
        LmsArg::Scorm12 => preview::Lms::Scorm12,
        LmsArg::Scorm2004 => preview::Lms::Scorm2004,
        LmsArg::Lti => preview::Lms::Lti,
        LmsArg::None => preview::Lms::None,
    };
    let profile = match args.profile {
        ProfileArg::Moodle => preview::Profile::Moodle,
        ProfileArg::Blackboard => preview::Profile::Blackboard,
        ProfileArg::ScormCloud => preview::Profile::ScormCloud,
        ProfileArg::Strict => preview::Profile::Strict,
    };
    let cfg = preview::Config {
        course_dir: args.course_dir.clone(),
        addr: SocketAddr::from((Ipv4Addr::LOCALHOST, args.port)),
        lms,
        profile,
        what: preview::What {
            variant: args.variant.clone(),
            sco: args.sco.map(|s| match s {
                super::targets::ScoArg::Session => preview::ScoChoice::Session,
                super::targets::ScoArg::Course => preview::ScoChoice::Course,
            }),
        },
    };
    let open = args.open;
    let ready = move |addr: SocketAddr| {
        let url = format!("http://{addr}/");
        let what = match lms {
            preview::Lms::Scorm12 | preview::Lms::Scorm2004 => {
                format!("{}, {} profile", lms.label(), profile.name())
            }
            _ => lms.label().to_string(),
        };
        // The URL alone on its line, for scripts (and the tests) to read.
        println!("{url}");
        eprintln!(
            "previewing {} in {what}; rebuilds as its files change; Ctrl-C stops",
            args.course_dir.display()
        );
        if open && let Err(e) = open_browser(&url) {
            eprintln!("warning: could not open a browser ({e}); open {url} yourself");
        }
    };
    match preview::run(cfg, ready) {
        Ok(()) => EXIT_OK,
        Err(e) => {
            eprintln!("error: {e:#}");
            EXIT_FAILURE
        }
    }
}

/// Opens `url` with the desktop's own opener.
fn open_browser(url: &str) -> std::io::Result<()> {
    let mut cmd = if cfg!(target_os = "macos") {
        std::process::Command::new("open")
    } else if cfg!(windows) {
        let mut c = std::process::Command::new("cmd");
        c.args(["/C", "start", ""]);
        c
    } else {
        std::process::Command::new("xdg-open")
    };
    cmd.arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map(|_| ())
}
