//! The build pipeline: load -> render pages -> one package per target ->
//! archive. All packages are written to temporary files first and moved
//! into place together, all or none, so a failed build leaves the output
//! folder as it was.

use std::path::Path;

use anyhow::Context as _;

use crate::archive::{PackageFiles, Written};
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::load::{self, Loaded};
use crate::package::{self, Context, Target};
use crate::render::{self, RenderedSite};
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

/// A course loaded and rendered, ready for any target.
pub struct Prepared {
    pub loaded: Loaded,
    pub site: RenderedSite,
}

/// Loads the course in `dir` and its templates.
fn load_with_templates(dir: &Path) -> Result<(Loaded, Templates), Error> {
    load_variant_with_templates(dir, None)
}

/// Loads the course in `dir`, as `variant` when given, and its templates.
fn load_variant_with_templates(
    dir: &Path,
    variant: Option<&str>,
) -> Result<(Loaded, Templates), Error> {
    let loaded = load::load_variant(dir, variant).map_err(Error::Input)?;
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

/// [`check`] of the course in `dir` as `variant` (`variants/<name>.toml`).
pub fn check_variant(dir: &Path, variant: &str) -> Result<Loaded, Error> {
    let (loaded, templates) = load_variant_with_templates(dir, Some(variant))?;
    if loaded.course.templates.is_none() {
        return Ok(loaded);
    }
    render_pages(loaded, &templates, true).map(|p| p.loaded)
}

/// Chooses the targets of a loaded course (a variant may have targets of
/// its own).
pub type SelectTargets<'a> =
    dyn Fn(&crate::model::Course) -> Result<Vec<Box<dyn Target>>, Diagnostics> + 'a;

/// Loads the course in `dir` as `variant` and renders the pages the targets
/// `select` chooses for it need.
pub fn prepare_variant(
    dir: &Path,
    variant: &str,
    select: &SelectTargets<'_>,
) -> Result<(Prepared, Vec<Box<dyn Target>>), Error> {
    let (loaded, templates) = load_variant_with_templates(dir, Some(variant))?;
    let targets = select(&loaded.course).map_err(Error::Input)?;
    let static_pages = targets.iter().any(|t| t.uses_static_pages());
    Ok((render_pages(loaded, &templates, static_pages)?, targets))
}

/// Loads the course in `dir` and renders every page.
pub fn prepare(dir: &Path) -> Result<Prepared, Error> {
    let (loaded, templates) = load_with_templates(dir)?;
    render_pages(loaded, &templates, true)
}

/// Loads the course in `dir` and renders the pages `targets` need: the
/// static pages (for cartridges) only when one needs them, since rendering
/// them is half the work of a big course.
pub fn prepare_for(dir: &Path, targets: &[Box<dyn Target>]) -> Result<Prepared, Error> {
    let (loaded, templates) = load_with_templates(dir)?;
    let static_pages = targets.iter().any(|t| t.uses_static_pages());
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
            match e.downcast_ref::<render::Unparsed>() {
                Some(unparsed) => {
                    for (file, why) in &unparsed.0 {
                        diags.push(parse_error(&loaded.course, templates, file, why));
                    }
                }
                None => diags.push(template_error(&loaded.course, templates, &e)),
            }
            return Err(Error::Input(diags));
        }
        Err(e) => return Err(Error::Failed(e)),
    };
    Ok(Prepared { loaded, site })
}

/// Builds every package of `targets` into `out`. `progress` is told about
/// each package as it is written, and each target's warning once
/// (`warning: …`).
pub fn build(
    prepared: &Prepared,
    targets: &[Box<dyn Target>],
    out: &Path,
    progress: &mut dyn FnMut(&str),
) -> Result<Vec<Written>, Error> {
    let progress = std::cell::RefCell::new(progress);
    build_with(
        prepared,
        targets,
        out,
        &mut Observer {
            step: &mut |m| (progress.borrow_mut())(m),
            warning: &mut |w| (progress.borrow_mut())(&format!("warning: {w}")),
            bytes: &|_| {},
        },
    )
}

/// What a build tells as it goes.
pub struct Observer<'a> {
    /// Each step, e.g. `packaging scorm12`.
    pub step: &'a mut dyn FnMut(&str),
    /// Each warning a target gives (what its packages leave out of the
    /// course or change), once.
    pub warning: &'a mut dyn FnMut(&str),
    /// The packages' bytes: first the total to write (before compression),
    /// then each file's as it is written, from the writing threads.
    pub bytes: &'a (dyn Fn(Bytes) + Sync),
}

/// What [`Observer::bytes`] is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bytes {
    Total(u64),
    Written(u64),
}

/// [`build`], telling `observer` what it does.
pub fn build_with(
    prepared: &Prepared,
    targets: &[Box<dyn Target>],
    out: &Path,
    observer: &mut Observer,
) -> Result<Vec<Written>, Error> {
    let packages = packages_of(prepared, targets, out, observer)?;
    write_all(packages, observer.bytes)
}

/// What every package of `targets` holds and where it goes in `out`,
/// nothing written yet (the folder is made, and the temporary files a
/// killed build left there removed). `observer` is told each target and
/// its warnings.
pub fn packages_of(
    prepared: &Prepared,
    targets: &[Box<dyn Target>],
    out: &Path,
    observer: &mut Observer,
) -> Result<Vec<PackageFiles>, Error> {
    let course = &prepared.loaded.course;
    let ctx = Context {
        course,
        site: &prepared.site,
    };
    std::fs::create_dir_all(out)
        .with_context(|| format!("cannot create the output folder {}", out.display()))?;
    crate::archive::remove_stale(out)?;
    let mut packages = Vec::new();
    let mut warned = std::collections::BTreeSet::new();
    for target in targets {
        (observer.step)(&format!("packaging {}", target.name()));
        for w in target.warnings(&ctx) {
            if warned.insert(w.clone()) {
                (observer.warning)(&w);
            }
        }
        for package in target.packages(&ctx)? {
            let dest = out.join(package::file_name(course, target.as_ref(), &package));
            packages.push((dest, package.entries));
        }
    }
    Ok(packages)
}

/// Writes `packages` (of one build or of several, such as every variant
/// of a course) and moves them into place, all or none: nothing replaces
/// what was there until every package is complete. They are written
/// together, so that they share the reading of the media and every core.
/// `bytes` is told the total, then each file's bytes as it is written.
pub fn write_all(
    packages: Vec<PackageFiles>,
    bytes: &(dyn Fn(Bytes) + Sync),
) -> Result<Vec<Written>, Error> {
    bytes(Bytes::Total(crate::archive::input_bytes(&packages)));
    let pending = crate::archive::write_zips_observed(packages, &|n| bytes(Bytes::Written(n)))?;
    Ok(crate::archive::commit_all(pending)?)
}

/// A rendering error in the course's own templates, at the template's line
/// and column, naming the variable and the nearest one the views have.
fn template_error(
    course: &crate::model::Course,
    templates: &Templates,
    e: &anyhow::Error,
) -> Diagnostic {
    let generic = "check the variable names in your templates against the defaults (`coursepack init --templates`)";
    let Some(re) = e
        .chain()
        .find_map(|c| c.downcast_ref::<handlebars::RenderError>())
    else {
        return Diagnostic::error(format!("{e:#}")).help(generic);
    };
    let file = re
        .template_name
        .as_deref()
        .map(|n| format!("{}.hbs", n.trim_end_matches(".hbs")));
    let (message, help) = match re.reason() {
        handlebars::RenderErrorReason::MissingVariable(Some(var)) => {
            let names = render::variables(course);
            let help = match crate::diagnostic::did_you_mean(var, names.iter().map(String::as_str))
            {
                Some(near) => format!("did you mean `{near}`?"),
                None => generic.to_string(),
            };
            let within = file
                .as_deref()
                .map(|f| format!(" in {f}"))
                .unwrap_or_default();
            (
                format!("the template variable `{var}`{within} does not exist"),
                help,
            )
        }
        handlebars::RenderErrorReason::Other(message)
            if message.starts_with(render::UNKNOWN_KEY) =>
        {
            let key = message[render::UNKNOWN_KEY.len()..]
                .split('`')
                .next()
                .unwrap_or_default();
            let keys: Vec<&str> = course.interface.keys().collect();
            let help = crate::diagnostic::suggest(key, &keys, "the interface keys include");
            let within = file
                .as_deref()
                .map(|f| format!(" in {f}"))
                .unwrap_or_default();
            (
                format!("the interface key `{key}`{within} does not exist"),
                help,
            )
        }
        reason => (format!("{reason}"), generic.to_string()),
    };
    let mut d = Diagnostic::error(message).help(help);
    if let (Some(file), Some(dir)) = (file, course.templates.as_deref()) {
        let text = templates.get(&file);
        let span = re
            .line_no
            .zip(re.column_no)
            .and_then(|(line, col)| span_at(text, line, col));
        d = d.at(&dir.join(&file), span).with_source(text.into());
    }
    d
}

/// A course's own template that does not parse, at the place handlebars
/// stopped.
fn parse_error(
    course: &crate::model::Course,
    templates: &Templates,
    file: &str,
    why: &handlebars::TemplateError,
) -> Diagnostic {
    let text = templates.get(file);
    let span = why.pos().and_then(|(line, col)| span_at(text, line, col));
    // The syntax error's own words list every rule of handlebars' grammar
    // that could have come next: the place and the line say more.
    let message = match (why.reason(), &span) {
        (handlebars::TemplateErrorReason::InvalidSyntax(_), Some(_)) => {
            format!("{file} does not parse: this is not Handlebars syntax")
        }
        (handlebars::TemplateErrorReason::InvalidSyntax(_), None) => format!(
            "{file} does not parse: it ends inside a `{{{{…` or a block it opens (`{{{{#…}}}}` without its `{{{{/…}}}}`)"
        ),
        (reason, _) => format!("{file} does not parse: {reason}"),
    };
    let mut d = Diagnostic::error(message).help(
        "compare it with the default template (`coursepack init --templates DIR` writes them); a literal `{{` is written `\\{{`",
    );
    if let Some(dir) = course.templates.as_deref() {
        d = d.at(&dir.join(file), span).with_source(text.into());
    }
    d
}

/// The one character at `line` and `col` (both from 1) of `text`.
fn span_at(text: &str, line: usize, col: usize) -> Option<std::ops::Range<usize>> {
    let start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let offset = start + col.saturating_sub(1);
    (offset < text.len()).then_some(offset..offset + 1)
}
