//! What SCORM 1.2 and SCORM 2004 manifests share. With one SCO per session:
//! one non-launchable parent item for the course with one SCO per session
//! under it (stock Moodle only offers "next" between siblings under a
//! parent), one resource per session listing every file it uses, and the
//! shared files as an asset. With the whole course as one SCO: one item
//! launching the course player, whose resource lists every page and file.

use anyhow::Result;

use super::xml::Xml;
use super::{Context, Package, page_entries, session_groups};
use crate::archive::Entry;
use crate::contract::{OVERVIEW, PLAYER, href, session_page};
use crate::ids;
use crate::model::{Course, Sco, Session};

/// What differs between the SCORM editions.
pub trait Edition {
    /// Attributes of `<manifest>` besides identifier and version.
    fn namespaces(&self) -> &'static [(&'static str, &'static str)];
    /// `<metadata>` of the manifest, including schema and schemaversion.
    fn metadata(&self, x: &mut Xml, course: &Course);
    /// The `adlcp:scormtype` attribute name (its case differs).
    fn scorm_type_attr(&self) -> &'static str;
    /// Written inside a session's `<item>` after its title.
    fn session_item_extra(&self, _x: &mut Xml, _session: &Session) {}
    /// Written inside the course's parent `<item>` after its children.
    fn course_item_extra(&self, _x: &mut Xml) {}
    /// Written inside `<organization>` after the items.
    fn organization_extra(&self, _x: &mut Xml) {}
    /// Written inside the one item of a course-as-one-SCO package.
    fn course_sco_extra(&self, _x: &mut Xml, _course: &Course) {}
    /// What one SCO holds when neither the course nor `--sco` says.
    fn default_sco(&self) -> Sco;
}

/// What one SCO holds: `--sco` (`sco`), else the course's choice, else the
/// edition's default.
pub fn sco(course: &Course, edition: &dyn Edition, sco: Option<Sco>) -> Sco {
    sco.or(course.sco).unwrap_or_else(|| edition.default_sco())
}

/// The packages of one edition: manifest plus pages, per session group.
/// `sco` is `--sco`, which overrides the course's `[packaging] sco`.
pub fn packages(ctx: &Context, edition: &dyn Edition, sco: Option<Sco>) -> Result<Vec<Package>> {
    let sco = self::sco(ctx.course, edition, sco);
    Ok(session_groups(ctx.course)
        .into_iter()
        .map(|(suffix, sessions)| {
            let mut entries = page_entries(ctx, &sessions);
            // A package of one session is one SCO either way: no player needed.
            let manifest = if sco == Sco::Course && sessions.len() > 1 {
                entries.push(ctx.site.player.clone());
                course_manifest(ctx, &sessions, suffix.as_deref(), edition)
            } else {
                manifest(ctx, &sessions, suffix.as_deref(), edition)
            };
            entries.push(Entry::bytes("imsmanifest.xml", manifest));
            Package { suffix, entries }
        })
        .collect())
}

/// `<manifest>`, its metadata and the organisation's title.
fn open_manifest(x: &mut Xml, course: &Course, suffix: Option<&str>, edition: &dyn Edition) {
    let manifest_id = ids::manifest(course, suffix);
    let org = ids::organization(course);
    let mut attrs = vec![
        ("identifier", manifest_id.as_str()),
        ("version", course.version.as_str()),
    ];
    attrs.extend(edition.namespaces().iter().copied());
    x.start("manifest", &attrs);
    edition.metadata(x, course);
    x.start("organizations", &[("default", &org)]);
    x.start("organization", &[("identifier", &org)]);
    x.leaf("title", &[], &course.title);
}

/// The shared asset resource: stylesheet, runtime, logo, and `extra`.
fn shared_resource(x: &mut Xml, ctx: &Context, edition: &dyn Edition, extra: &[&str]) {
    let shared = ids::shared_resource(ctx.course);
    x.start(
        "resource",
        &[
            ("identifier", &shared),
            ("type", "webcontent"),
            (edition.scorm_type_attr(), "asset"),
        ],
    );
    let mut files: Vec<&str> = ctx.site.shared.iter().map(|e| e.path.as_str()).collect();
    files.extend_from_slice(extra);
    files.sort_unstable();
    for f in files {
        x.empty("file", &[("href", &href(f))]);
    }
    x.end("resource");
}

/// The whole course as one SCO: one item launching the course player.
fn course_manifest(
    ctx: &Context,
    sessions: &[usize],
    suffix: Option<&str>,
    edition: &dyn Edition,
) -> Vec<u8> {
    let course = ctx.course;
    let mut x = Xml::new();
    open_manifest(&mut x, course, suffix, edition);
    let (item, res) = (ids::course_item(course), ids::course_resource(course));
    x.start("item", &[("identifier", &item), ("identifierref", &res)]);
    x.leaf("title", &[], &course.title);
    edition.course_sco_extra(&mut x, course);
    x.end("item");
    edition.organization_extra(&mut x);
    x.end("organization");
    x.end("organizations");

    x.start("resources", &[]);
    x.start(
        "resource",
        &[
            ("identifier", &res),
            ("type", "webcontent"),
            (edition.scorm_type_attr(), "sco"),
            ("href", PLAYER),
        ],
    );
    let mut files = vec![PLAYER.to_string(), OVERVIEW.to_string()];
    for &i in sessions {
        files.push(session_page(&course.sessions[i]));
        for entry in &ctx.site.media[i] {
            if !files.contains(&entry.path) {
                files.push(entry.path.clone());
            }
        }
    }
    for f in &files {
        x.empty("file", &[("href", &href(f))]);
    }
    x.empty(
        "dependency",
        &[("identifierref", &ids::shared_resource(course))],
    );
    x.end("resource");
    shared_resource(&mut x, ctx, edition, &[]);
    x.end("resources");
    x.end("manifest");
    x.finish()
}

fn manifest(
    ctx: &Context,
    sessions: &[usize],
    suffix: Option<&str>,
    edition: &dyn Edition,
) -> Vec<u8> {
    let course = ctx.course;
    let mut x = Xml::new();
    open_manifest(&mut x, course, suffix, edition);
    let course_item = ids::course_item(course);
    x.start("item", &[("identifier", &course_item)]);
    x.leaf("title", &[], &course.title);
    for &i in sessions {
        let s = &course.sessions[i];
        let (item, res) = (ids::item(course, s), ids::resource(course, s));
        x.start("item", &[("identifier", &item), ("identifierref", &res)]);
        x.leaf("title", &[], &s.title);
        edition.session_item_extra(&mut x, s);
        x.end("item");
    }
    edition.course_item_extra(&mut x);
    x.end("item");
    edition.organization_extra(&mut x);
    x.end("organization");
    x.end("organizations");

    x.start("resources", &[]);
    let shared = ids::shared_resource(course);
    for &i in sessions {
        let s = &course.sessions[i];
        let (res, page) = (ids::resource(course, s), session_page(s));
        x.start(
            "resource",
            &[
                ("identifier", &res),
                ("type", "webcontent"),
                (edition.scorm_type_attr(), "sco"),
                ("href", &page),
            ],
        );
        x.empty("file", &[("href", &page)]);
        for entry in &ctx.site.media[i] {
            x.empty("file", &[("href", &href(&entry.path))]);
        }
        x.empty("dependency", &[("identifierref", &shared)]);
        x.end("resource");
    }
    let overview: &[&str] = if sessions.len() == course.sessions.len() {
        &[OVERVIEW]
    } else {
        &[]
    };
    shared_resource(&mut x, ctx, edition, overview);
    x.end("resources");
    x.end("manifest");
    x.finish()
}
