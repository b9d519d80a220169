//! Renders the learner-facing pages: an overview and one page per session,
//! through Handlebars templates in strict mode, from purpose-built views.
//!
//! The result is the same list of files for every target, so a session
//! page is byte-identical in SCORM 1.2, SCORM 2004 and the LTI tool. Common
//! Cartridge takes a static variant of the same pages ([`StaticPages`]).

mod view;

use anyhow::{Context, Result};
use handlebars::Handlebars;

use crate::archive::Entry;
use crate::contract::{OVERVIEW, PLAYER, RUNTIME, STYLE, session_page};
use crate::model::Course;
use crate::templates::Templates;

use view::Mode;

/// Every file the pages need: rendered pages, assets and course media.
#[derive(Debug, Clone)]
pub struct RenderedSite {
    pub overview: Entry,
    /// The course player ([`PLAYER`]), used by packages whose one SCO is the
    /// whole course.
    pub player: Entry,
    /// One page per session, in course order.
    pub sessions: Vec<Entry>,
    /// Stylesheet, runtime and logo: used by every page.
    pub shared: Vec<Entry>,
    /// Media each session uses, in course order (same index as `sessions`).
    pub media: Vec<Vec<Entry>>,
    /// The same pages as static HTML, at the same paths, for Common
    /// Cartridge (not part of [`RenderedSite::all`]); rendered only when asked for.
    pub static_pages: Option<StaticPages>,
}

/// The static variant of the pages: what an LMS page can show once an
/// importer has cleaned it (Moodle keeps the body and strips scripts, form
/// controls and the stylesheet). No runtime, no form controls, no texts
/// about tracking, no links between pages; media and web links stay.
#[derive(Debug, Clone)]
pub struct StaticPages {
    pub overview: Entry,
    /// One page per session, in course order.
    pub sessions: Vec<Entry>,
}

impl RenderedSite {
    /// Every file, each once.
    pub fn all(&self) -> Vec<Entry> {
        let mut all = vec![self.overview.clone()];
        all.extend(self.sessions.iter().cloned());
        all.extend(self.shared.iter().cloned());
        let mut seen: std::collections::HashSet<String> =
            all.iter().map(|e| e.path.clone()).collect();
        for entry in self.media.iter().flatten() {
            if seen.insert(entry.path.clone()) {
                all.push(entry.clone());
            }
        }
        all
    }
}

/// Renders the course's pages, and their static variant when
/// `static_pages` (only cartridges use it).
pub fn render(course: &Course, templates: &Templates, static_pages: bool) -> Result<RenderedSite> {
    let mut hb = Handlebars::new();
    hb.set_strict_mode(true);
    hb.register_escape_fn(handlebars::html_escape);
    hb.register_helper("t", Box::new(Translate(course.interface.clone())));
    for (key, template) in compile(templates)? {
        hb.register_template(key, template);
    }

    let (overview, sessions) = pages(course, &hb, Mode::Interactive)?;
    let statics = if static_pages {
        let (overview, sessions) = pages(course, &hb, Mode::Static)?;
        Some(StaticPages { overview, sessions })
    } else {
        None
    };
    let player = hb
        .render("player", &view::player(course))
        .context("cannot render the course player (template player.hbs)")?;
    let media = course
        .sessions
        .iter()
        .map(|session| {
            // A file the page shows twice (an image in the intro and in a block) is one entry.
            let mut seen = std::collections::HashSet::new();
            session
                .files()
                .filter(|f| seen.insert(f.rel.as_str()))
                .map(|f| Entry::file(f.rel.clone(), f.path.clone()))
                .collect()
        })
        .collect();
    let mut shared = vec![
        Entry::bytes(STYLE, templates.get("coursepack/style.css")),
        Entry::bytes(RUNTIME, templates.get("coursepack/runtime.js")),
    ];
    if let Some(logo) = &course.branding.logo {
        shared.push(Entry::file(logo.rel.clone(), logo.path.clone()));
    }
    // The overview shows its own images and the before/after blocks' files.
    let overview_files = course.images.iter().chain(
        course
            .before
            .iter()
            .chain(&course.after)
            .flat_map(|b| b.files()),
    );
    for f in overview_files {
        if !shared.iter().any(|e| e.path == f.rel) {
            shared.push(Entry::file(f.rel.clone(), f.path.clone()));
        }
    }
    Ok(RenderedSite {
        overview,
        player: Entry::bytes(PLAYER, player),
        sessions,
        shared,
        media,
        static_pages: statics,
    })
}

/// The templates the pages are rendered with, by file name.
const TEMPLATES: [&str; 5] = [
    "layout.hbs",
    "overview.hbs",
    "session.hbs",
    "block.hbs",
    "player.hbs",
];

/// Every template compiled, under its name without `.hbs`. Compiling is
/// about a third of the seed course's build: handlebars finds the line of
/// each token it parses by counting from the start of the template, so
/// the time grows with the square of a template's length. The templates
/// are compiled side by side; every one that does not parse is in the
/// error ([`Unparsed`]), in [`TEMPLATES`] order.
fn compile(templates: &Templates) -> Result<Vec<(&'static str, handlebars::Template)>> {
    let results: Vec<_> = std::thread::scope(|scope| {
        let compiling: Vec<_> = TEMPLATES
            .iter()
            .map(|name| {
                let key = name.trim_end_matches(".hbs");
                let text = templates.get(name);
                let job = scope
                    .spawn(move || handlebars::Template::compile_with_name(text, key.to_string()));
                (*name, key, job)
            })
            .collect();
        compiling
            .into_iter()
            .map(|(name, key, job)| {
                let result = job
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                (name, key, result)
            })
            .collect()
    });
    let mut compiled = Vec::new();
    let mut unparsed = Vec::new();
    for (name, key, result) in results {
        match result {
            Ok(template) => compiled.push((key, template)),
            Err(e) => unparsed.push((name, e)),
        }
    }
    if unparsed.is_empty() {
        Ok(compiled)
    } else {
        Err(Unparsed(unparsed).into())
    }
}

/// Templates that do not parse, each with its file name (`block.hbs`) and
/// where handlebars stopped.
#[derive(Debug)]
pub struct Unparsed(pub Vec<(&'static str, handlebars::TemplateError)>);

impl std::fmt::Display for Unparsed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, (name, e)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "template {name} does not parse: {e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Unparsed {}

/// The overview and the session pages in one mode.
fn pages(course: &Course, hb: &Handlebars, mode: Mode) -> Result<(Entry, Vec<Entry>)> {
    let overview = hb
        .render("overview", &view::page(course, None, mode))
        .context("cannot render the overview page (template overview.hbs)")?;
    let sessions = render_sessions(course, hb, mode)?;
    Ok((Entry::bytes(OVERVIEW, overview), sessions))
}

/// Renders every session page, in course order. Pages are independent, so
/// they are shared out among the available cores (in contiguous runs, so
/// the first error reported is the first in course order).
fn render_sessions(course: &Course, hb: &Handlebars<'_>, mode: Mode) -> Result<Vec<Entry>> {
    let render_one = |i: usize| -> Result<Entry> {
        let session = &course.sessions[i];
        let page_view = view::page(course, Some(i), mode);
        let html = hb.render("session", &page_view).with_context(|| {
            format!(
                "cannot render session `{}` (template session.hbs)",
                session.id
            )
        })?;
        Ok(Entry::bytes(session_page(session), html))
    };
    let count = course.sessions.len();
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(count / 8)
        .max(1);
    if threads == 1 {
        return (0..count).map(render_one).collect();
    }
    let run = count.div_ceil(threads);
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..count)
            .step_by(run)
            .map(|from| {
                let render_one = &render_one;
                scope.spawn(move || {
                    (from..(from + run).min(count))
                        .map(render_one)
                        .collect::<Result<Vec<Entry>>>()
                })
            })
            .collect();
        let mut pages = Vec::with_capacity(count);
        for worker in workers {
            let part = worker
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
            pages.extend(part);
        }
        Ok(pages)
    })
}

/// Every name a template can use with this course's views, as dotted
/// paths from the page (`session.title`) and, inside `{{#each}}` over a
/// list, from the item (`title`): what a misspelt variable is compared with.
pub fn variables(course: &Course) -> Vec<String> {
    fn walk(value: &serde_json::Value, prefix: &str, out: &mut std::collections::BTreeSet<String>) {
        match value {
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    let path = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    out.insert(path.clone());
                    walk(v, &path, out);
                }
            }
            // An item's names are also used on their own, inside `{{#each}}`.
            serde_json::Value::Array(items) => {
                for item in items.iter().take(8) {
                    walk(item, "", out);
                }
            }
            _ => {}
        }
    }
    let mut names = std::collections::BTreeSet::new();
    let mut views = vec![
        view::page(course, None, Mode::Interactive),
        view::player(course),
    ];
    if !course.sessions.is_empty() {
        views.push(view::page(course, Some(0), Mode::Interactive));
    }
    for v in views {
        if let Ok(json) = serde_json::to_value(&v) {
            walk(&json, "", &mut names);
        }
    }
    names.into_iter().collect()
}

/// The `t` helper: `{{t "session.goals"}}`, `{{t "session.number" number=n of=m}}`,
/// `{{t "count.steps" count=n}}`: the interface catalogue's text for the
/// key, its plural form for `count`, with the other hash values put in
/// for `{name}` (HTML-escaped). An unknown key is an error.
pub struct Translate(pub std::sync::Arc<crate::locale::Catalogue>);

/// How an unknown key's error message starts (build.rs finds it by this).
pub const UNKNOWN_KEY: &str = "the interface key `";

impl handlebars::HelperDef for Translate {
    fn call<'reg: 'rc, 'rc>(
        &self,
        h: &handlebars::Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        _: &'rc handlebars::Context,
        _: &mut handlebars::RenderContext<'reg, 'rc>,
        out: &mut dyn handlebars::Output,
    ) -> handlebars::HelperResult {
        let key = h
            .param(0)
            .and_then(|p| p.value().as_str())
            .ok_or(handlebars::RenderErrorReason::ParamNotFoundForIndex("t", 0))?;
        let count = h.hash_get("count").and_then(|v| v.value().as_u64());
        let params: Vec<(&str, String)> = h
            .hash()
            .iter()
            .filter(|(k, _)| **k != "count")
            .map(|(k, v)| {
                let text = match v.value() {
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Null => String::new(),
                    other => other.to_string(),
                };
                (*k, handlebars::html_escape(&text))
            })
            .collect();
        let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        match self.0.html(key, count, &params) {
            Some(text) => {
                out.write(&text)?;
                Ok(())
            }
            None => Err(handlebars::RenderErrorReason::Other(format!(
                "{UNKNOWN_KEY}{key}` does not exist"
            ))
            .into()),
        }
    }
}
