//! The course as the tool serves it: the same files as in the packages (overview, one page per
//! session, runtime, stylesheet, media) and its sessions. A course source is built through the
//! pipeline and described by its model; a folder of rendered pages (an unzipped package) is
//! described by what its pages say ([`contract::read_rendered`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, Result};
use coursepack_pipeline::archive::Source;
use coursepack_pipeline::build::{self, Prepared};
use coursepack_pipeline::contract::{self, OVERVIEW, PageSession, island};
use coursepack_pipeline::load::COURSE_FILE;

pub use coursepack_pipeline::file_types::content_type;

/// Files above this size stay on disk and are streamed (with range requests, for video).
const IN_MEMORY_MAX: u64 = 512 * 1024;

#[derive(Clone)]
pub enum SiteFile {
    Bytes(Arc<[u8]>),
    Disk(PathBuf),
}

/// Why a course could not be loaded.
#[derive(Debug)]
pub enum LoadError {
    /// The course source has problems, reported as `coursepack build` reports them.
    Course(coursepack_pipeline::diagnostic::Diagnostics),
    Other(anyhow::Error),
}

impl From<anyhow::Error> for LoadError {
    fn from(e: anyhow::Error) -> Self {
        LoadError::Other(e)
    }
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::Course(diags) => {
                let n = diags.error_count();
                write!(
                    f,
                    "{n} problem{} found in the course",
                    if n == 1 { "" } else { "s" }
                )
            }
            LoadError::Other(e) => write!(f, "{e:#}"),
        }
    }
}

impl std::error::Error for LoadError {}

/// The course the tool serves: its title, its sessions in order, and every file by its path.
pub struct ServedCourse {
    pub title: String,
    /// The learner interface's words in the course's language (the tool's learner pages).
    pub interface: std::sync::Arc<coursepack_pipeline::locale::Catalogue>,
    files: BTreeMap<String, SiteFile>,
    sessions: Vec<PageSession>,
}

impl ServedCourse {
    /// Loads the course at `dir`: a course source (with `course.toml`), built through the same
    /// pipeline as the packages, or a folder of already rendered pages (e.g. an unzipped
    /// package).
    pub fn load(dir: &Path) -> Result<Self, LoadError> {
        if dir.join(COURSE_FILE).is_file() {
            return Self::build(dir);
        }
        if !dir.join(OVERVIEW).is_file() {
            return Err(anyhow::anyhow!(
                "{} has neither {COURSE_FILE} nor {OVERVIEW}; give `serve` a course folder",
                dir.display(),
            )
            .into());
        }
        let mut files = BTreeMap::new();
        walk(dir, dir, &mut files)?;
        Ok(Self::from_files(files)?)
    }

    /// Loads the course source at `dir` as its variant `name` (`variants/<name>.toml`),
    /// rendered exactly as `coursepack build --variant <name>` renders it: its title,
    /// sessions, branding and interface language.
    pub fn load_variant(dir: &Path, name: &str) -> Result<Self, LoadError> {
        if !dir.join(COURSE_FILE).is_file() {
            return Err(anyhow::anyhow!(
                "{} has no {COURSE_FILE}: a variant is served from the course's source folder",
                dir.display(),
            )
            .into());
        }
        // The tool serves the pages themselves: no package, no cartridge pages.
        let no_targets = |_: &coursepack_pipeline::model::Course| Ok(Vec::new());
        match build::prepare_variant(dir, name, &no_targets) {
            Ok((prepared, _)) => Ok(Self::from_prepared(prepared)),
            Err(build::Error::Input(diags)) => Err(LoadError::Course(diags)),
            Err(build::Error::Failed(e)) => Err(e.into()),
        }
    }

    /// Loads and renders a course source exactly as `coursepack build` does.
    fn build(dir: &Path) -> Result<Self, LoadError> {
        let prepared = match build::prepare(dir) {
            Ok(p) => p,
            Err(build::Error::Input(diags)) => return Err(LoadError::Course(diags)),
            Err(build::Error::Failed(e)) => return Err(e.into()),
        };
        Ok(Self::from_prepared(prepared))
    }

    /// The course's model says what it is; the rendered site holds its files.
    fn from_prepared(prepared: Prepared) -> Self {
        let course = &prepared.loaded.course;
        let sessions = course
            .sessions
            .iter()
            .map(|s| PageSession {
                id: s.id.clone(),
                title: s.title.clone(),
            })
            .collect();
        let files = prepared
            .site
            .all()
            .into_iter()
            .map(|entry| {
                let file = match entry.source {
                    Source::Bytes(b) => SiteFile::Bytes(b.into()),
                    Source::File(p) => SiteFile::Disk(p),
                };
                (entry.path, file)
            })
            .collect();
        ServedCourse {
            title: course.title.clone(),
            interface: course.interface.clone(),
            files,
            sessions,
        }
    }

    /// Builds the site from rendered files keyed by their course-relative path.
    pub fn from_files(files: BTreeMap<String, SiteFile>) -> Result<Self> {
        let mut pages = BTreeMap::new();
        for (path, file) in &files {
            if !path.ends_with(".html") || path.contains('/') {
                continue;
            }
            let bytes = match file {
                SiteFile::Bytes(b) => b.to_vec(),
                SiteFile::Disk(p) => {
                    std::fs::read(p).with_context(|| format!("reading {}", p.display()))?
                }
            };
            pages.insert(path.clone(), String::from_utf8_lossy(&bytes).into_owned());
        }
        let (title, sessions) = contract::read_rendered(&pages).map_err(anyhow::Error::msg)?;
        // Rendered pages say their language on <html lang>; a shipped catalogue for it, or English.
        let interface = pages
            .get(OVERVIEW)
            .and_then(|html| html.split("<html lang=\"").nth(1))
            .and_then(|rest| rest.split('"').next())
            .and_then(|lang| coursepack_pipeline::locale::load(lang, None).ok())
            .and_then(|loaded| loaded.catalogue)
            .unwrap_or_else(coursepack_pipeline::locale::Catalogue::english);
        Ok(ServedCourse {
            title,
            interface: std::sync::Arc::new(interface),
            files,
            sessions,
        })
    }

    pub fn sessions(&self) -> &[PageSession] {
        &self.sessions
    }

    pub fn session(&self, id: &str) -> Option<&PageSession> {
        self.sessions.iter().find(|s| s.id == id)
    }

    pub fn get(&self, path: &str) -> Option<&SiteFile> {
        self.files.get(path)
    }
}

fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, SiteFile>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let entry = entry?;
        let path = entry.path();
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let meta = entry.metadata()?;
        if meta.is_dir() {
            walk(root, &path, out)?;
        } else if meta.is_file() {
            let rel = path
                .strip_prefix(root)
                .expect("walked below root")
                .to_string_lossy()
                .replace('\\', "/");
            let file = if meta.len() <= IN_MEMORY_MAX {
                SiteFile::Bytes(
                    std::fs::read(&path)
                        .with_context(|| format!("reading {}", path.display()))?
                        .into(),
                )
            } else {
                SiteFile::Disk(path)
            };
            out.insert(rel, file);
        }
    }
    Ok(())
}

/// Adds the launch's `cp-lti` island to a page, where the runtime finds it.
pub fn inject_lti(html: &[u8], island: &serde_json::Value) -> Vec<u8> {
    contract::insert_island(html, island::LTI, island)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A variant is served as `build --variant` renders it: its title, its sessions
    /// (one left out), its language.
    #[test]
    fn a_variant_is_served_with_its_title_sessions_and_language() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/variants");
        let base = ServedCourse::load(&dir).unwrap_or_else(|e| panic!("{e}"));
        let cardiff = ServedCourse::load_variant(&dir, "cardiff").unwrap_or_else(|e| panic!("{e}"));
        assert_ne!(cardiff.title, base.title);
        assert_eq!(cardiff.interface.language, "cy");
        assert_eq!(base.sessions().len(), 3);
        assert_eq!(cardiff.sessions().len(), 2);
        let overview = match cardiff.get(OVERVIEW) {
            Some(SiteFile::Bytes(b)) => String::from_utf8(b.to_vec()).unwrap(),
            _ => panic!("no overview"),
        };
        assert!(overview.contains("<html lang=\"cy\""), "{overview}");
        assert!(overview.contains(&escape(&cardiff.title)), "{overview}");
        match ServedCourse::load_variant(&dir, "nowhere") {
            Err(LoadError::Course(diags)) => assert!(diags.has_errors()),
            Err(e) => panic!("{e}"),
            Ok(_) => panic!("an unknown variant is served"),
        }
    }

    fn escape(s: &str) -> String {
        crate::escape_html(s).replace("&#39;", "&#x27;")
    }
}
