//! `coursepack preview`: serves a course on loopback inside a simulated LMS and rebuilds it as
//! its files change. `coursepack preview` (src/cmd/preview.rs in the workspace root) is the
//! entry point.
//!
//! - [`site`]: one build of the course, in memory (the pipeline's load and render; nothing is
//!   written to disk), and what a SCORM package of it launches;
//! - [`watch`]: the file watcher and the rebuilds, debounced; a failed build keeps the last
//!   good one served and reports its diagnostics;
//! - [`server`]: the HTTP routes: the shell page (the simulated LMS, `assets/`), the course's
//!   files exactly as packaged, the build's status as server-sent events, and the LTI tool's
//!   progress endpoint for `--lms lti`.
//!
//! The simulator itself (the SCORM 1.2 and 2004 data models, the profiles, the panel) is the
//! shell page's script, `assets/simulator.js`, compiled into the binary.

pub mod server;
pub mod site;
pub mod watch;

use std::net::SocketAddr;
use std::path::PathBuf;

pub use coursepack_pipeline::model::Sco as ScoChoice;
pub use site::What;

/// The LMS the shell page plays the course in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lms {
    /// SCORM 1.2: the API object `API`, the SCOs of a SCORM 1.2 package.
    Scorm12,
    /// SCORM 2004 4th Edition: `API_1484_11`, the SCOs of a SCORM 2004 package.
    Scorm2004,
    /// The LTI tool: the pages as `coursepack serve` serves them, saving to a simulated
    /// progress endpoint.
    Lti,
    /// No LMS: the pages alone, keeping progress in the browser.
    None,
}

impl Lms {
    pub fn name(self) -> &'static str {
        match self {
            Lms::Scorm12 => "scorm12",
            Lms::Scorm2004 => "scorm2004",
            Lms::Lti => "lti",
            Lms::None => "none",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Lms::Scorm12 => "SCORM 1.2",
            Lms::Scorm2004 => "SCORM 2004",
            Lms::Lti => "the LTI tool",
            Lms::None => "no LMS",
        }
    }
}

/// Which LMS's behaviour the simulator reproduces (see README, "Preview").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    Moodle,
    Blackboard,
    ScormCloud,
    Strict,
}

impl Profile {
    pub fn name(self) -> &'static str {
        match self {
            Profile::Moodle => "moodle",
            Profile::Blackboard => "blackboard",
            Profile::ScormCloud => "scorm-cloud",
            Profile::Strict => "strict",
        }
    }
}

/// What `coursepack preview` was asked for.
#[derive(Clone, Debug)]
pub struct Config {
    pub course_dir: PathBuf,
    /// Always a loopback address; port 0 takes any free port.
    pub addr: SocketAddr,
    pub lms: Lms,
    pub profile: Profile,
    /// `--variant` and `--sco`: which course is built, and what one SCO holds.
    pub what: What,
}

/// How long a burst of file changes is waited out before one rebuild.
pub const DEBOUNCE: std::time::Duration = std::time::Duration::from_millis(200);

/// Builds the course, starts watching it and serves until Ctrl-C. `ready` is told the
/// address once the port is bound and the first build is done (good or not).
pub fn run(cfg: Config, ready: impl FnOnce(SocketAddr)) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async move {
        // The port first: a port in use is told before the build's output.
        let (listener, addr) = server::bind(cfg.addr).await?;
        let builds = watch::Builds::new();
        watch::rebuild(&builds, &cfg.course_dir, &cfg.what, true);
        watch::spawn(builds.clone(), &cfg.course_dir, cfg.what.clone())?;
        ready(addr);
        server::serve(listener, builds, cfg.lms, cfg.profile).await
    })
}
