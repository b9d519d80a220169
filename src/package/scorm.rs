//! What SCORM 1.2 and SCORM 2004 manifests share: one non-launchable parent
//! item for the course with one SCO per session under it (stock Moodle only
//! offers "next" between siblings under a parent), one resource per
//! session listing every file it uses, and the shared files as an asset.

use anyhow::Result;

use super::xml::Xml;
use super::{Context, Package, ids, page_entries, session_groups};
use crate::archive::Entry;
use crate::model::{Course, Session};
use crate::render::{OVERVIEW, session_page};

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
}

/// The packages of one edition: manifest plus pages, per session group.
pub fn packages(ctx: &Context, edition: &dyn Edition) -> Result<Vec<Package>> {
    Ok(session_groups(ctx.course)
        .into_iter()
        .map(|(suffix, sessions)| {
            let mut entries = page_entries(ctx, &sessions);
            let manifest = manifest(ctx, &sessions, suffix.as_deref(), edition);
            entries.push(Entry::bytes("imsmanifest.xml", manifest));
            Package { suffix, entries }
        })
        .collect())
}

fn manifest(
    ctx: &Context,
    sessions: &[usize],
    suffix: Option<&str>,
    edition: &dyn Edition,
) -> Vec<u8> {
    let course = ctx.course;
    let manifest_id = ids::manifest(course, suffix);
    let org = ids::organization(course);
    let mut attrs = vec![
        ("identifier", manifest_id.as_str()),
        ("version", course.version.as_str()),
    ];
    attrs.extend(edition.namespaces().iter().copied());

    let mut x = Xml::new();
    x.start("manifest", &attrs);
    edition.metadata(&mut x, course);

    x.start("organizations", &[("default", &org)]);
    x.start("organization", &[("identifier", &org)]);
    x.leaf("title", &[], &course.title);
    let course_item = ids::course_item(course);
    x.start("item", &[("identifier", &course_item)]);
    x.leaf("title", &[], &course.title);
    for &i in sessions {
        let s = &course.sessions[i];
        let (item, res) = (ids::item(s), ids::resource(s));
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
        let (res, href) = (ids::resource(s), session_page(s));
        x.start(
            "resource",
            &[
                ("identifier", &res),
                ("type", "webcontent"),
                (edition.scorm_type_attr(), "sco"),
                ("href", &href),
            ],
        );
        x.empty("file", &[("href", &href)]);
        for entry in &ctx.site.media[i] {
            x.empty("file", &[("href", &super::href(&entry.path))]);
        }
        x.empty("dependency", &[("identifierref", &shared)]);
        x.end("resource");
    }
    x.start(
        "resource",
        &[
            ("identifier", &shared),
            ("type", "webcontent"),
            (edition.scorm_type_attr(), "asset"),
        ],
    );
    let mut shared_files: Vec<&str> = ctx.site.shared.iter().map(|e| e.path.as_str()).collect();
    if sessions.len() == course.sessions.len() {
        shared_files.push(OVERVIEW);
    }
    shared_files.sort_unstable();
    for f in shared_files {
        x.empty("file", &[("href", &super::href(f))]);
    }
    x.end("resource");
    x.end("resources");
    x.end("manifest");
    x.finish()
}
