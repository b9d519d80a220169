//! One build of the course, in memory: every file the packages carry, by its path, and what the
//! simulated LMS launches (its SCOs, as the SCORM packages' manifests list them). Built through
//! the same pipeline as `coursepack build` (load, then render), nothing written to disk.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use coursepack_pipeline::archive::Source;
use coursepack_pipeline::build::{self, Error};
use coursepack_pipeline::contract::{OVERVIEW, PLAYER, session_page};
use coursepack_pipeline::diagnostic::Diagnostics;
use coursepack_pipeline::ids;
use coursepack_pipeline::model::{Course, Sco as ScoChoice};
use serde::Serialize;

/// A course file: rendered bytes, or a media file streamed from the course folder.
#[derive(Clone, Debug)]
pub enum File {
    Bytes(Arc<[u8]>),
    Disk(PathBuf),
}

/// One launchable item, as the SCORM manifest lists it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Sco {
    /// The item identifier in the manifest (`ITEM-<session>`, `ITEM-COURSE-<course>`).
    pub id: String,
    pub title: String,
    /// The launch page, relative to the package root.
    pub href: String,
}

/// A session, for the shell's menus.
#[derive(Clone, Debug, Serialize)]
pub struct SessionInfo {
    pub id: String,
    pub title: String,
    pub href: String,
}

/// The built course.
#[derive(Debug)]
pub struct Site {
    pub course_id: String,
    pub version: String,
    pub title: String,
    pub sessions: Vec<SessionInfo>,
    /// What a SCORM 1.2 package of this course launches.
    pub scos12: Vec<Sco>,
    /// What a SCORM 2004 package of this course launches.
    pub scos2004: Vec<Sco>,
    /// Warnings of the build (errors stop it).
    pub warnings: usize,
    files: BTreeMap<String, File>,
}

impl Site {
    pub fn get(&self, path: &str) -> Option<&File> {
        self.files.get(path)
    }
}

/// Why a build gave no site.
#[derive(Debug)]
pub enum Failure {
    /// The course has problems: the diagnostics as `coursepack check` prints them.
    Course { text: String, errors: usize },
    /// Something else (an unreadable folder, a failure in coursepack itself).
    Other(String),
}

impl Failure {
    /// The text shown in the page and the terminal.
    pub fn text(&self) -> String {
        match self {
            Failure::Course { text, errors } => {
                let s = if *errors == 1 { "" } else { "s" };
                format!(
                    "{text}error: {errors} problem{s} found; still serving the last good build\n"
                )
            }
            Failure::Other(e) => format!("error: {e}\nstill serving the last good build\n"),
        }
    }
}

/// Every diagnostic, errors first, each with its file:line:col and source line: the text
/// `coursepack check` prints.
pub fn diagnostics_text(diags: &Diagnostics) -> String {
    diags
        .sorted()
        .into_iter()
        .map(|d| diags.render(d))
        .collect()
}

/// What the preview builds: the course as it is or one of its variants, and what one SCO
/// holds.
#[derive(Clone, Debug, Default)]
pub struct What {
    /// `--variant`: `variants/<name>.toml` laid over the course, as `build --variant` does.
    pub variant: Option<String>,
    /// `--sco`, which overrides the course's `[packaging] sco` for both SCORM versions, as
    /// it does for `coursepack build`.
    pub sco: Option<ScoChoice>,
}

/// Builds the course in `dir` as `what` says.
pub fn build(dir: &Path, what: &What) -> Result<(Site, String), Failure> {
    let sco = what.sco;
    // The pages every SCORM package and the LTI tool share; not the cartridges' static
    // variant, which nothing here shows (half the rendering of a big course).
    let prepared = match &what.variant {
        None => build::prepare_for(dir, &[]),
        Some(name) => build::prepare_variant(dir, name, &|_| Ok(Vec::new())).map(|(p, _)| p),
    };
    let prepared = match prepared {
        Ok(p) => p,
        Err(Error::Input(diags)) => {
            return Err(Failure::Course {
                text: diagnostics_text(&diags),
                errors: diags.error_count(),
            });
        }
        Err(Error::Failed(e)) => return Err(Failure::Other(format!("{e:#}"))),
    };
    let course = &prepared.loaded.course;
    let warnings_text = diagnostics_text(&prepared.loaded.diagnostics);
    let files = prepared
        .site
        .all()
        .into_iter()
        .chain(std::iter::once(prepared.site.player.clone()))
        .map(|entry| {
            let file = match entry.source {
                Source::Bytes(b) => File::Bytes(b.into()),
                Source::File(p) => File::Disk(p),
            };
            (entry.path, file)
        })
        .collect();
    let choice = |default| sco.or(course.sco).unwrap_or(default);
    let site = Site {
        course_id: course.id.clone(),
        version: course.version.clone(),
        title: course.title.clone(),
        sessions: course
            .sessions
            .iter()
            .map(|s| SessionInfo {
                id: s.id.clone(),
                title: s.title.clone(),
                href: session_page(s),
            })
            .collect(),
        // The defaults of the SCORM targets (crates/pipeline/src/package/scorm12.rs and
        // scorm2004.rs): one SCO per session in 1.2, the course as one SCO in 2004.
        scos12: scos(course, choice(ScoChoice::Session)),
        scos2004: scos(course, choice(ScoChoice::Course)),
        warnings: prepared.loaded.diagnostics.warnings().count(),
        files,
    };
    Ok((site, warnings_text))
}

/// The launchable items of a SCORM package: the course player when the course is one SCO
/// (and has more than one session), else one per session (crates/pipeline/src/package/scorm.rs).
fn scos(course: &Course, choice: ScoChoice) -> Vec<Sco> {
    if choice == ScoChoice::Course && course.sessions.len() > 1 {
        return vec![Sco {
            id: ids::course_item(course),
            title: course.title.clone(),
            href: PLAYER.into(),
        }];
    }
    if course.sessions.is_empty() {
        return vec![Sco {
            id: ids::course_item(course),
            title: course.title.clone(),
            href: OVERVIEW.into(),
        }];
    }
    course
        .sessions
        .iter()
        .map(|s| Sco {
            id: ids::item(course, s),
            title: s.title.clone(),
            href: session_page(s),
        })
        .collect()
}
