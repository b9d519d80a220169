//! The build pipeline: load -> render pages -> one package per target ->
//! archive. All packages are written to temporary files first and moved
//! into place together, all or none, so a failed build leaves the output
//! folder as it was.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::diagnostic::{Diagnostic, Diagnostics, suggest};
use crate::load::{self, Loaded};
use crate::package::{self, CcFlavour, Context, Target, TargetOptions};
use crate::render::{self, Site};
use crate::templates::Templates;

/// Why a build stopped.
#[derive(Debug)]
pub enum Error {
    /// The course or the command line is wrong: exit code 2.
    Input(Diagnostics),
    /// Something failed while writing: exit code 1. Nothing was replaced:
    /// the output folder is as it was.
    Failed(anyhow::Error),
}

impl From<anyhow::Error> for Error {
    fn from(e: anyhow::Error) -> Self {
        Error::Failed(e)
    }
}

/// A package written to the output folder.
#[derive(Debug, Clone)]
pub struct Written {
    pub path: PathBuf,
    pub files: usize,
    pub bytes: u64,
}

/// A course loaded and rendered, ready for any target.
pub struct Prepared {
    pub loaded: Loaded,
    pub site: Site,
}

/// Loads the course in `dir` and its templates.
fn load_with_templates(dir: &Path) -> Result<(Loaded, Templates), Error> {
    let loaded = load::load(dir).map_err(Error::Input)?;
    match Templates::load(&loaded.course.root, loaded.course.templates.as_deref()) {
        Ok(t) => Ok((loaded, t)),
        Err(problems) => {
            let mut diags = loaded.diagnostics;
            diags.items.extend(problems);
            Err(Error::Input(diags))
        }
    }
}

/// What `coursepack check` does: every check `build` makes of the course,
/// without writing. The pages are rendered only when the course has
/// templates of its own: the default templates render any loaded course
/// (a failure there is coursepack's, exit 1, not the course's), and
/// rendering is most of the time a big course takes.
pub fn check(dir: &Path) -> Result<Loaded, Error> {
    let (loaded, templates) = load_with_templates(dir)?;
    if loaded.course.templates.is_none() {
        return Ok(loaded);
    }
    render_pages(loaded, &templates, true).map(|p| p.loaded)
}

/// Loads the course in `dir` and renders its pages.
pub fn prepare(dir: &Path) -> Result<Prepared, Error> {
    prepare_for(dir, true)
}

/// Like [`prepare`]; the static pages (for cartridges) only when
/// `static_pages`, since rendering them is half the work of a big course.
pub fn prepare_for(dir: &Path, static_pages: bool) -> Result<Prepared, Error> {
    let (loaded, templates) = load_with_templates(dir)?;
    render_pages(loaded, &templates, static_pages)
}

fn render_pages(
    loaded: Loaded,
    templates: &Templates,
    static_pages: bool,
) -> Result<Prepared, Error> {
    let site = match render::render(&loaded.course, templates, static_pages) {
        Ok(site) => site,
        // With the course's own templates, a rendering error is the course's.
        Err(e) if loaded.course.templates.is_some() => {
            let mut diags = loaded.diagnostics;
            diags.push(
                Diagnostic::error(format!("{e:#}"))
                    .help("check the variable names in your templates against the defaults (`coursepack init --templates`)"),
            );
            return Err(Error::Input(diags));
        }
        Err(e) => return Err(Error::Failed(e)),
    };
    Ok(Prepared { loaded, site })
}

/// The targets built when none are named: every one, except those that
/// need the tool's address when it is not given.
pub fn default_targets(have_tool_url: bool) -> Vec<Box<dyn Target>> {
    package::all()
        .into_iter()
        .filter(|t| have_tool_url || !t.needs_tool_url())
        .collect()
}

/// Resolves target names given on the command line.
pub fn targets(names: &[String]) -> Result<Vec<Box<dyn Target>>, Error> {
    let mut diags = Diagnostics::default();
    let mut chosen: Vec<Box<dyn Target>> = Vec::new();
    for name in names {
        match package::all().into_iter().find(|t| t.name() == name) {
            Some(t) if chosen.iter().any(|c| c.name() == t.name()) => {}
            Some(t) => chosen.push(t),
            None => {
                let known = package::names();
                let help = suggest(name, &known, "the targets are");
                diags.push(Diagnostic::error(format!("unknown target `{name}`")).help(help));
            }
        }
    }
    if diags.has_errors() {
        return Err(Error::Input(diags));
    }
    Ok(chosen)
}

/// Checks the options some targets need: the `lti` target and the
/// cartridges' `lti` flavour need the tool's https address.
pub fn target_options(
    targets: &[Box<dyn Target>],
    cc_flavour: CcFlavour,
    tool_url: Option<&str>,
) -> Result<TargetOptions, Error> {
    let mut diags = Diagnostics::default();
    let needing: Vec<&str> = targets
        .iter()
        .filter(|t| t.needs_tool_url())
        .map(|t| t.name())
        .collect();
    let tool_url = match tool_url {
        Some(url) => match package::parse_tool_url(url) {
            Ok(url) => Some(url),
            Err(why) => {
                diags.push(
                    Diagnostic::error(format!("invalid --tool-url: {why}")).help(
                        "give the tool's base address, e.g. `--tool-url https://tool.example.org`",
                    ),
                );
                None
            }
        },
        None => {
            let help = "add `--tool-url https://...`, the address `coursepack serve` is reached at";
            let cartridge = targets.iter().any(|t| t.name().starts_with("cc"));
            if cc_flavour == CcFlavour::Lti && cartridge {
                diags.push(
                    Diagnostic::error("`--cc-flavour lti` needs the tool's address").help(help),
                );
            }
            for name in needing {
                diags.push(
                    Diagnostic::error(format!("the `{name}` target needs the tool's address"))
                        .help(help),
                );
            }
            None
        }
    };
    if diags.has_errors() {
        return Err(Error::Input(diags));
    }
    Ok(TargetOptions {
        cc_flavour,
        tool_url,
        sco: None,
    })
}

/// Whether any of `targets` uses the tool's address with these options.
pub fn uses_tool_url(targets: &[Box<dyn Target>], options: &TargetOptions) -> bool {
    targets.iter().any(|t| {
        t.needs_tool_url() || (options.cc_flavour == CcFlavour::Lti && t.name().starts_with("cc"))
    })
}

/// Builds every package of `targets` into `out`. `progress` is told about
/// each package as it is written.
pub fn build(
    prepared: &Prepared,
    targets: &[Box<dyn Target>],
    options: &TargetOptions,
    out: &Path,
    progress: &mut dyn FnMut(&str),
) -> Result<Vec<Written>, Error> {
    let course = &prepared.loaded.course;
    let ctx = Context {
        course,
        site: &prepared.site,
        options,
    };
    std::fs::create_dir_all(out)
        .with_context(|| format!("cannot create the output folder {}", out.display()))?;
    crate::archive::remove_stale(out)?;
    let mut pending = Vec::new();
    let mut warned = std::collections::BTreeSet::new();
    for target in targets {
        progress(&format!("packaging {}", target.name()));
        for w in target.warnings(&ctx) {
            if warned.insert(w.clone()) {
                progress(&format!("warning: {w}"));
            }
        }
        for package in target.packages(&ctx)? {
            let dest = out.join(package::file_name(course, target.as_ref(), &package));
            pending.push(crate::archive::write_zip(&dest, package.entries)?);
        }
    }
    // Every package is complete: only now replace what was there, all or none.
    let written = crate::archive::commit_all(pending)?
        .into_iter()
        .map(|(path, w)| Written {
            path,
            files: w.files,
            bytes: w.bytes,
        })
        .collect();
    Ok(written)
}
