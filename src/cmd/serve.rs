//! `coursepack serve`: runs the course as an LTI 1.3 tool (see crates/lti/).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args as ClapArgs;

use super::{EXIT_BAD_INPUT, EXIT_FAILURE, EXIT_OK};

use coursepack_lti as lti;
use coursepack_pipeline::diagnostic::Diagnostics;
use coursepack_pipeline::tool::ToolUrl;
use lti::site::LoadError;

/// Serve the course as an LTI 1.3 tool (launches, grades, deep linking, dynamic registration).
#[derive(Debug, ClapArgs)]
#[command(
    override_usage = "coursepack serve [COURSE_DIR] --public-url <URL> [OPTIONS]\n       \
                            coursepack serve --rotate-key [--data <DIR>] [--key-grace-days <DAYS>]"
)]
pub struct Args {
    /// Course folder: a course source (course.toml) or a folder of rendered pages.
    #[arg(default_value = "course", value_parser = super::course_dir)]
    pub course_dir: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// The URL platforms and browsers reach the tool at (https in production).
    #[arg(long, value_name = "URL")]
    #[arg(required_unless_present = "rotate_key")]
    pub public_url: Option<String>,
    /// Folder for the tool's keys and (by default) its SQLite database.
    #[arg(long, value_name = "DIR", default_value = "lti-data")]
    pub data: PathBuf,
    /// `postgres://user:pass@host/db` to share state between several instances (or set
    /// COURSEPACK_DATABASE_URL, which keeps the password out of the process list).
    #[arg(long, value_name = "URL")]
    pub database: Option<String>,
    /// TOML file of platform registrations (`[[platform]]` tables).
    #[arg(long, value_name = "FILE")]
    pub platforms: Option<PathBuf>,
    /// Serve this variant of the course (variants/NAME.toml) instead of the course as it is;
    /// each variant is a tool of its own, at its own --public-url.
    #[arg(long, value_name = "NAME", conflicts_with = "rotate_key")]
    pub variant: Option<String>,
    /// Retire the signing key, create a new one, and exit. Running instances pick it up.
    #[arg(long)]
    pub rotate_key: bool,
    /// Days a retired key stays published so tokens signed just before rotation still verify.
    #[arg(long, value_name = "DAYS", default_value_t = 7)]
    pub key_grace_days: u64,
    /// Accept dynamic registrations only from these platform hosts (comma-separated, e.g.
    /// `moodle.example.edu`). Without it, any platform that is given the registration URL
    /// can register.
    #[arg(long, value_delimiter = ',', value_name = "HOSTS")]
    pub registration_hosts: Vec<String>,
}

pub fn execute(args: Args) -> i32 {
    match run(args) {
        Ok(()) => EXIT_OK,
        // The course's problems, printed as `coursepack build` prints them.
        Err(Stop::Course(diags)) => {
            super::report(&diags);
            let n = diags.error_count();
            eprintln!(
                "error: {} found in the course; fix {} and start again",
                super::count(n, "problem"),
                if n == 1 { "it" } else { "them" }
            );
            EXIT_BAD_INPUT
        }
        Err(Stop::BadInput(why)) => {
            eprintln!("error: {why}");
            EXIT_BAD_INPUT
        }
        Err(Stop::Failed(e)) => {
            eprintln!("error: {e:#}");
            EXIT_FAILURE
        }
    }
}

/// Why `serve` stopped.
enum Stop {
    /// The course has problems (exit 2, like `coursepack build`).
    Course(Diagnostics),
    /// Something else wrong with the command line, the course or the platforms file (exit 2).
    BadInput(String),
    /// A failure while starting or serving (exit 1).
    Failed(anyhow::Error),
}

impl From<anyhow::Error> for Stop {
    fn from(e: anyhow::Error) -> Self {
        Stop::Failed(e)
    }
}

fn run(args: Args) -> Result<(), Stop> {
    lti::init_logging();
    let grace = Duration::from_secs(args.key_grace_days * 86_400);
    if args.rotate_key {
        lti::create_data_dir(&args.data)?;
        let kid = lti::keys::KeyStore::rotate(&args.data, grace)?;
        println!(
            "new signing key {kid}; the previous key stays published for {} days",
            args.key_grace_days
        );
        return Ok(());
    }
    let given = args.public_url.unwrap_or_default();
    let public_url = ToolUrl::parse(&given).map_err(|why| {
        Stop::BadInput(format!(
            "--public-url must be an http(s) URL, got {given:?}: {why}"
        ))
    })?;
    let cfg = lti::Config {
        course_dir: args.course_dir,
        listen: args.listen,
        public_url,
        data_dir: args.data,
        database: args
            .database
            .or_else(|| std::env::var("COURSEPACK_DATABASE_URL").ok())
            .filter(|d| !d.is_empty()),
        platforms_file: args.platforms,
        key_grace: grace,
        registration_hosts: args.registration_hosts,
        tuning: lti::Tuning::from_env(),
    };
    // A course or platforms file with problems is bad input (exit 2), like `coursepack build`.
    let site = match &args.variant {
        Some(name) => lti::site::ServedCourse::load_variant(&cfg.course_dir, name),
        None => lti::site::ServedCourse::load(&cfg.course_dir),
    };
    let site = site.map_err(|e| match e {
        LoadError::Course(diags) => Stop::Course(diags),
        LoadError::Other(e) => Stop::BadInput(format!("{e:#}")),
    })?;
    let platforms = lti::platforms::Platforms::load(cfg.platforms_file.as_deref())
        .map_err(|e| Stop::BadInput(format!("{e:#}")))?;
    Ok(lti::server::run(cfg, site, platforms)?)
}
