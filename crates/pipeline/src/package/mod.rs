//! Output targets. Each target module decides *what* goes into its
//! packages (a manifest and which files); writing the zip is shared.
//!
//! A target is one module plus one line in [`REGISTRY`]: the registration
//! names it and makes it from the command line's [`Options`], taking the
//! part it needs (a cartridge its version, flavour and tool; the LTI
//! bundle its tool) or saying what is missing.

mod cc;
mod cmi5;
mod lti;
mod lti_bundle;
mod qti;
mod scorm;
mod scorm12;
mod scorm2004;
pub mod xml;

use crate::markdown::to_plain as markdown_to_plain;
use anyhow::Result;

use crate::archive::Entry;
use crate::diagnostic::{Diagnostic, Diagnostics, suggest};
use crate::model::{Course, Sco, Split};
use crate::render::RenderedSite;
use crate::tool::ToolUrl;

pub use cc::CcFlavour;

/// Every target, in the order they are built.
pub const REGISTRY: &[Registration] = &[
    scorm12::REGISTRATION,
    scorm2004::REGISTRATION,
    cc::CC11,
    cc::CC13,
    cmi5::REGISTRATION,
    lti::REGISTRATION,
];

/// Everything a target needs to make its packages.
pub struct Context<'a> {
    pub course: &'a Course,
    pub site: &'a RenderedSite,
}

/// What the command line says about the packages. Each target takes the
/// part it needs when it is made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// `--cc-flavour`: what the Common Cartridge targets put in a cartridge.
    pub cc_flavour: CcFlavour,
    /// `--tool-url`: the LTI tool's https address.
    pub tool_url: Option<ToolUrl>,
    /// `--sco`: overrides `[packaging] sco` and each SCORM target's default.
    pub sco: Option<Sco>,
}

/// One line of the [`REGISTRY`].
pub struct Registration {
    /// The name used on the command line and in file names.
    pub name: &'static str,
    /// Makes the target with its options, or says what is missing.
    pub new: fn(&Options) -> Result<Box<dyn Target>, Diagnostic>,
    /// Whether the target is built when none are named (the LTI bundle
    /// only when the tool's address is given).
    pub by_default: fn(&Options) -> bool,
}

/// Builds by default.
pub fn always(_: &Options) -> bool {
    true
}

/// One file a target asks to be written.
pub struct Package {
    /// Added to the file name when a target writes several packages
    /// (`<course>-<version>-<target>-<suffix>.<ext>`).
    pub suffix: Option<String>,
    pub entries: Vec<Entry>,
}

/// An output format, made with its options.
pub trait Target {
    /// The name used on the command line and in file names.
    fn name(&self) -> &'static str;
    fn extension(&self) -> &'static str {
        "zip"
    }
    fn packages(&self, ctx: &Context) -> Result<Vec<Package>>;
    /// Whether the target needs the static variant of the pages.
    fn uses_static_pages(&self) -> bool {
        false
    }
    /// Whether the target writes the tool's address into its packages.
    fn uses_tool_url(&self) -> bool {
        false
    }
    /// What the packages leave out of the course or change, for the build
    /// to print as warnings (once, when several targets say the same).
    fn warnings(&self, _ctx: &Context) -> Vec<String> {
        Vec::new()
    }
    /// What one SCO of its packages holds, for SCORM targets (`None` for
    /// the others): `--sco`, else the course's `[packaging] sco`, else the
    /// target's default.
    fn sco(&self, _course: &Course) -> Option<Sco> {
        None
    }
}

/// The targets named on the command line (every default one when `names`
/// is empty), each made with its options. Every problem is reported at
/// once: unknown names (with the nearest known one) and missing options
/// (said once when several targets miss the same).
pub fn select(names: &[String], options: &Options) -> Result<Vec<Box<dyn Target>>, Diagnostics> {
    let mut diags = Diagnostics::default();
    let mut chosen: Vec<&Registration> = Vec::new();
    if names.is_empty() {
        chosen.extend(REGISTRY.iter().filter(|r| (r.by_default)(options)));
    }
    for name in names {
        // `SCORM12` is `scorm12`: the names are lower case.
        match REGISTRY.iter().find(|r| r.name.eq_ignore_ascii_case(name)) {
            Some(r) if chosen.iter().any(|c| c.name == r.name) => {}
            Some(r) => chosen.push(r),
            None => {
                let help = suggest(name, &names_of_all(), "the targets are");
                diags.push(Diagnostic::error(format!("unknown target `{name}`")).help(help));
            }
        }
    }
    if diags.has_errors() {
        return Err(diags);
    }
    let mut targets = Vec::new();
    for r in chosen {
        match (r.new)(options) {
            Ok(t) => targets.push(t),
            Err(d) if diags.items.iter().any(|e| e.message == d.message) => {}
            Err(d) => diags.push(d),
        }
    }
    if diags.has_errors() {
        return Err(diags);
    }
    Ok(targets)
}

/// The names of every target.
pub fn names_of_all() -> Vec<&'static str> {
    REGISTRY.iter().map(|r| r.name).collect()
}

/// The tool's address a target needs, or the error saying it is missing.
fn needs_tool(options: &Options, what: &str) -> Result<ToolUrl, Diagnostic> {
    options.tool_url.clone().ok_or_else(|| {
        Diagnostic::error(format!("{what} needs the tool's address"))
            .help("add `--tool-url https://...`, the address `coursepack serve` is reached at")
    })
}

/// The file name of one package.
pub fn file_name(course: &Course, target: &dyn Target, package: &Package) -> String {
    let mut name = format!("{}-{}-{}", course.key(), course.version, target.name());
    if let Some(suffix) = &package.suffix {
        name.push('-');
        name.push_str(suffix);
    }
    name.push('.');
    name.push_str(target.extension());
    name
}

/// The sessions that go into each package, following `[packaging] split`.
pub fn session_groups(course: &Course) -> Vec<(Option<String>, Vec<usize>)> {
    match course.split {
        Split::Course => vec![(None, (0..course.sessions.len()).collect())],
        Split::Session => course
            .sessions
            .iter()
            .enumerate()
            .map(|(i, s)| (Some(s.id.clone()), vec![i]))
            .collect(),
    }
}

/// The page files of a group of sessions: their pages, their media and the
/// shared assets, plus the overview when every session is there.
pub fn page_entries(ctx: &Context, sessions: &[usize]) -> Vec<Entry> {
    let mut entries: Vec<Entry> = ctx.site.shared.clone();
    if sessions.len() == ctx.course.sessions.len() {
        entries.push(ctx.site.overview.clone());
    }
    let mut seen: std::collections::HashSet<String> =
        entries.iter().map(|e| e.path.clone()).collect();
    for &i in sessions {
        seen.insert(ctx.site.sessions[i].path.clone());
        entries.push(ctx.site.sessions[i].clone());
        for m in &ctx.site.media[i] {
            if seen.insert(m.path.clone()) {
                entries.push(m.clone());
            }
        }
    }
    entries
}

/// IEEE LOM metadata of the course (title, language, description,
/// licence) as SCORM 2004 and Common Cartridge write it, with their own
/// namespace `prefix`. `vocabulary_source` writes the `source` of the
/// copyright value, which the IEEE schema wants and the CC profile leaves out.
pub fn lom(x: &mut xml::Xml, prefix: &str, course: &Course, vocabulary_source: bool) {
    let el = |name: &str| format!("{prefix}:{name}");
    let lang = course.language.as_str();
    let string = |x: &mut xml::Xml, text: &str| {
        x.leaf(&el("string"), &[("language", lang)], text);
    };
    x.start(&el("lom"), &[]);
    x.start(&el("general"), &[]);
    x.start(&el("title"), &[]);
    string(x, &course.title);
    x.end(&el("title"));
    x.leaf(&el("language"), &[], lang);
    if let Some(summary) = &course.summary {
        x.start(&el("description"), &[]);
        string(x, &markdown_to_plain(summary));
        x.end(&el("description"));
    }
    x.end(&el("general"));
    if let Some(licence) = &course.licence {
        x.start(&el("rights"), &[]);
        x.start(&el("copyrightAndOtherRestrictions"), &[]);
        if vocabulary_source {
            x.leaf(&el("source"), &[], "LOMv1.0");
        }
        x.leaf(&el("value"), &[], "yes");
        x.end(&el("copyrightAndOtherRestrictions"));
        x.start(&el("description"), &[]);
        string(x, licence);
        x.end(&el("description"));
        x.end(&el("rights"));
    }
    x.end(&el("lom"));
}
