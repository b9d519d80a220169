//! Common Cartridge 1.1 and 1.3, web and LTI flavours: builds the seed
//! course with the real binary, opens each .imscc and checks it is complete,
//! mirrors the course in order, passes the official schemas (xmllint) and
//! is byte-identical on rebuild; and that a bad LTI setup writes nothing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::common::*;

pub(crate) const TOOL: &str = "https://tool.example.org:8443/coursepack";

/// What a version of the cartridge must say and be checked against.
pub(crate) struct Version {
    pub(crate) target: &'static str,
    schemaversion: &'static str,
    namespace: &'static str,
    manifest_schema: &'static str,
    weblink_schema: &'static str,
    topic_schema: &'static str,
    lti_schema: &'static str,
    weblink_type: &'static str,
    topic_type: &'static str,
    lti_type: &'static str,
    pub(crate) qti_type: &'static str,
}

/// The QTI assessments of both versions are checked against the CC 1.1
/// profile's QTI schema (Moodle's copy): the CC 1.3 profile's
/// (`ccv1p3_qtiasiv1p2p1_v1p0.xsd`) is not among the shared schemas; 1.3 keeps
/// the same QTI 1.2.1 namespace and profile, and only the resource type in
/// the manifest changes.
pub(crate) const QTI_SCHEMA: &str = "cc11/ccv1p1_qtiasiv1p2p1_v1p0.xsd";

const CC11: Version = Version {
    target: "cc11",
    schemaversion: "1.1.0",
    namespace: "http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1",
    manifest_schema: "cc11/cc11libxml2validator.xsd",
    weblink_schema: "cc11/ccv1p1_imswl_v1p1.xsd",
    topic_schema: "cc11/ccv1p1_imsdt_v1p1.xsd",
    lti_schema: "cc11/imslticc_v1p0p1.xsd",
    weblink_type: "imswl_xmlv1p1",
    topic_type: "imsdt_xmlv1p1",
    lti_type: "imsbasiclti_xmlv1p0",
    qti_type: "imsqti_xmlv1p2/imscc_xmlv1p1/assessment",
};

const CC13: Version = Version {
    target: "cc13",
    schemaversion: "1.3.0",
    namespace: "http://www.imsglobal.org/xsd/imsccv1p3/imscp_v1p1",
    manifest_schema: "wrappers/cc13-manifest.xsd",
    weblink_schema: "wrappers/cc13-resources.xsd",
    topic_schema: "wrappers/cc13-resources.xsd",
    lti_schema: "wrappers/cc13-resources.xsd",
    weblink_type: "imswl_xmlv1p3",
    topic_type: "imsdt_xmlv1p3",
    lti_type: "imsbasiclti_xmlv1p3",
    qti_type: "imsqti_xmlv1p2/imscc_xmlv1p3/assessment",
};

pub(crate) const VERSIONS: [&Version; 2] = [&CC11, &CC13];

/// A session of the course as course.toml states it.
struct SessionSpec {
    id: String,
    title: String,
    /// Blocks that get their own cartridge item in the web flavour
    /// (readings with a URL, reflections, quizzes with questions), in page order.
    linked_blocks: Vec<String>,
}

fn sessions_of(course: &Path) -> Vec<SessionSpec> {
    let text = std::fs::read_to_string(course.join("course.toml")).unwrap();
    let doc: toml::Table = toml::from_str(&text).unwrap();
    doc["session"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| SessionSpec {
            id: s["id"].as_str().unwrap().into(),
            title: s["title"].as_str().unwrap().into(),
            linked_blocks: s
                .get("block")
                .and_then(|b| b.as_array())
                .into_iter()
                .flatten()
                .filter(|b| match b["type"].as_str().unwrap() {
                    "reflection" => true,
                    "reading" => b.get("url").is_some(),
                    "quiz" => b.get("questions").is_some(),
                    _ => false,
                })
                .map(|b| b["id"].as_str().unwrap().to_string())
                .collect(),
        })
        .collect()
}

fn course_id(course: &Path) -> String {
    let text = std::fs::read_to_string(course.join("course.toml")).unwrap();
    let doc: toml::Table = toml::from_str(&text).unwrap();
    doc["course"]["id"].as_str().unwrap().into()
}

/// Runs `coursepack build <course> --out <out> <extra...>`.
fn build_into(course: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "build",
        course.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ];
    args.extend_from_slice(extra);
    coursepack(&root(), &args)
}

/// Builds both cartridges of `flavour` into a new folder.
pub(crate) fn build_cc(course: &Path, flavour: &str) -> tempfile::TempDir {
    let out = tempfile::tempdir().unwrap();
    let mut extra = vec!["--target", "cc11,cc13", "--cc-flavour", flavour];
    if flavour == "lti" {
        extra.extend(["--tool-url", TOOL]);
    }
    let output = build_into(course, out.path(), &extra);
    assert!(output.status.success(), "build failed: {}", stderr(&output));
    out
}

pub(crate) fn cartridge(out: &Path, v: &Version) -> PathBuf {
    let dir = std::fs::read_dir(out).unwrap();
    let mut found: Vec<PathBuf> = dir
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .ends_with(&format!("-{}.imscc", v.target))
        })
        .collect();
    assert_eq!(
        found.len(),
        1,
        "one {} cartridge in {}",
        v.target,
        out.display()
    );
    found.pop().unwrap()
}

/// The seed course with a URL on one reading, so the web flavour has a
/// web link to check too.
pub(crate) fn course_with_links() -> tempfile::TempDir {
    let anchor = "body = \"Read this study of why patients post feedback online.\"";
    seed_course_edited(
        anchor,
        &format!("{anchor}\nurl = \"https://example.org/why-patients-post?a=1&b=2\""),
    )
}

/// An organisation item.
#[derive(Debug, Default)]
pub(crate) struct Item {
    pub(crate) id: String,
    pub(crate) idref: Option<String>,
    pub(crate) title: String,
    pub(crate) children: Vec<Item>,
}

/// The root item of the manifest's organisation.
pub(crate) fn organisation(manifest: &[u8]) -> Item {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(manifest);
    let mut stack: Vec<Item> = vec![Item::default()];
    let mut in_title = false;
    let mut buf = Vec::new();
    loop {
        let event = reader.read_event_into(&mut buf).unwrap();
        if in_title
            && stack.len() > 1
            && let Some(text) = piece(&event)
        {
            stack.last_mut().unwrap().title.push_str(&text);
        }
        match event {
            Event::Start(e) if e.name().as_ref() == b"item" => {
                let mut item = Item::default();
                for a in e.attributes() {
                    let a = a.unwrap();
                    let value = a.unescape_value().unwrap().into_owned();
                    match a.key.as_ref() {
                        b"identifier" => item.id = value,
                        b"identifierref" => item.idref = Some(value),
                        _ => {}
                    }
                }
                stack.push(item);
            }
            Event::End(e) if e.name().as_ref() == b"item" => {
                let item = stack.pop().unwrap();
                stack.last_mut().unwrap().children.push(item);
            }
            Event::Start(e) if e.name().as_ref() == b"title" => in_title = true,
            Event::End(e) if e.name().as_ref() == b"title" => in_title = false,
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    let mut top = stack.pop().unwrap();
    assert_eq!(top.children.len(), 1, "one root item in the organisation");
    top.children.pop().unwrap()
}

/// Every resource of the manifest: identifier -> (type, href, files, dependencies).
pub(crate) type Resources = BTreeMap<String, (String, Option<String>, Vec<String>, Vec<String>)>;

pub(crate) fn resources(manifest: &[u8]) -> Resources {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(manifest);
    let mut out = Resources::new();
    let mut current: Option<String> = None;
    let mut buf = Vec::new();
    let attr = |e: &quick_xml::events::BytesStart, name: &[u8]| {
        e.attributes()
            .map(|a| a.unwrap())
            .find(|a| a.key.as_ref() == name)
            .map(|a| a.unescape_value().unwrap().into_owned())
    };
    loop {
        match reader.read_event_into(&mut buf).unwrap() {
            Event::Start(e) | Event::Empty(e) if e.name().as_ref() == b"resource" => {
                let id = attr(&e, b"identifier").unwrap();
                let kind = attr(&e, b"type").unwrap();
                out.insert(
                    id.clone(),
                    (kind, attr(&e, b"href"), Vec::new(), Vec::new()),
                );
                current = Some(id);
            }
            Event::Empty(e) if e.name().as_ref() == b"file" => {
                let r = out.get_mut(current.as_ref().unwrap()).unwrap();
                r.2.push(attr(&e, b"href").unwrap());
            }
            Event::Empty(e) if e.name().as_ref() == b"dependency" => {
                let r = out.get_mut(current.as_ref().unwrap()).unwrap();
                r.3.push(attr(&e, b"identifierref").unwrap());
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    out
}

/// Text of a text or entity-reference event (quick-xml reports `&amp;`
/// and friends separately).
fn piece(event: &quick_xml::events::Event) -> Option<String> {
    use quick_xml::events::Event;
    match event {
        Event::Text(t) => Some(t.decode().unwrap().into_owned()),
        Event::GeneralRef(r) => Some(match r.resolve_char_ref().unwrap() {
            Some(c) => c.to_string(),
            None => match &**r {
                b"lt" => "<",
                b"gt" => ">",
                b"amp" => "&",
                b"quot" => "\"",
                b"apos" => "'",
                other => panic!("unknown entity {}", String::from_utf8_lossy(other)),
            }
            .to_string(),
        }),
        _ => None,
    }
}

/// The text of every `<tag>` element.
pub(crate) fn text_of(xml: &[u8], tag: &str) -> Vec<String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut out: Vec<String> = Vec::new();
    let mut inside = false;
    let mut buf = Vec::new();
    loop {
        let event = reader.read_event_into(&mut buf).unwrap();
        match &event {
            Event::Start(e) => {
                inside = e.name().as_ref() == tag.as_bytes();
                if inside {
                    out.push(String::new());
                }
            }
            Event::End(_) => inside = false,
            Event::Eof => break,
            e if inside => out
                .last_mut()
                .unwrap()
                .push_str(&piece(e).unwrap_or_default()),
            _ => {}
        }
        buf.clear();
    }
    out
}

/// Opens a cartridge and checks everything that does not depend on the
/// flavour; returns its files.
pub(crate) fn check_common(path: &Path, v: &Version) -> BTreeMap<String, Vec<u8>> {
    let files = unzip(path);
    let manifest = files
        .get("imsmanifest.xml")
        .unwrap_or_else(|| panic!("{}: no imsmanifest.xml at the root", path.display()));
    let head = String::from_utf8_lossy(&manifest[..manifest.len().min(1024)]);
    assert!(
        head.contains(&format!("xmlns=\"{}\"", v.namespace)),
        "{}: the namespace is declared in the first 1024 bytes",
        v.target
    );
    assert_eq!(text_of(manifest, "schema"), ["IMS Common Cartridge"]);
    assert_eq!(text_of(manifest, "schemaversion"), [v.schemaversion]);
    assert_valid(
        manifest,
        v.manifest_schema,
        &format!("{} imsmanifest.xml", v.target),
    );

    // Every reference resolves, every listed file is there, and nothing in
    // the zip is left out of the manifest.
    let res = resources(manifest);
    let mut listed = std::collections::BTreeSet::new();
    for (id, (_, href, rfiles, deps)) in &res {
        if let Some(href) = href {
            assert!(
                rfiles.contains(href),
                "{id}: href {href} is among its files"
            );
        }
        for f in rfiles {
            assert!(files.contains_key(f), "{}: {f} ({id}) is missing", v.target);
            listed.insert(f.clone());
        }
        for d in deps {
            assert!(res.contains_key(d), "{id}: dependency {d} resolves");
        }
    }
    for name in files.keys().filter(|n| *n != "imsmanifest.xml") {
        assert!(
            listed.contains(name),
            "{}: {name} is in no resource",
            v.target
        );
    }
    fn walk(item: &Item, res: &Resources, ids: &mut Vec<String>) {
        if let Some(r) = &item.idref {
            assert!(res.contains_key(r), "item {} -> {r} resolves", item.id);
        }
        ids.push(item.id.clone());
        for c in &item.children {
            walk(c, res, ids);
        }
    }
    let mut ids = Vec::new();
    walk(&organisation(manifest), &res, &mut ids);
    let n = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), n, "item identifiers are unique");

    // Each descriptor against its own schema, with the manifest's type.
    for (id, (kind, _, rfiles, _)) in &res {
        for f in rfiles.iter().filter(|f| f.ends_with(".xml")) {
            let (schema, expected) = match f.split('/').next().unwrap() {
                "weblinks" => (v.weblink_schema, v.weblink_type),
                "topics" => (v.topic_schema, v.topic_type),
                "lti" => (v.lti_schema, v.lti_type),
                "quizzes" => (QTI_SCHEMA, v.qti_type),
                other => panic!("unexpected XML file {f} in folder {other}"),
            };
            assert_eq!(kind, expected, "{}: type of {id}", v.target);
            assert_valid(&files[f], schema, &format!("{} {f}", v.target));
        }
    }
    files
}

#[test]
fn web_cartridges_mirror_the_course_and_pass_the_schemas() {
    for (course_dir, _keep) in [(seed_course(), None), {
        let t = course_with_links();
        (t.path().to_path_buf(), Some(t))
    }] {
        let sessions = sessions_of(&course_dir);
        let out = build_cc(&course_dir, "web");
        let mut weblinks = 0;
        for v in VERSIONS {
            let files = check_common(&cartridge(out.path(), v), v);
            let manifest = &files["imsmanifest.xml"];
            let res = resources(manifest);
            let root = organisation(manifest);

            // Overview first (Moodle's section 0), then one folder per session.
            let (overview, folders) = root.children.split_first().unwrap();
            assert_eq!(
                res[overview.idref.as_ref().unwrap()].1.as_deref(),
                Some("index.html")
            );
            assert_eq!(
                folders.iter().map(|f| f.title.as_str()).collect::<Vec<_>>(),
                sessions
                    .iter()
                    .map(|s| s.title.as_str())
                    .collect::<Vec<_>>(),
                "{}: every session in order",
                v.target
            );
            for (folder, s) in folders.iter().zip(&sessions) {
                assert_eq!(folder.id, format!("ITEM_session_{}", s.id));
                assert!(folder.idref.is_none(), "a session is a folder");
                let (page, blocks) = folder.children.split_first().unwrap();
                let (kind, href, pfiles, deps) = &res[page.idref.as_ref().unwrap()];
                assert_eq!(kind, "webcontent");
                assert_eq!(href.as_deref(), Some(format!("{}.html", s.id).as_str()));
                assert!(!pfiles.is_empty() && deps.len() == 1);
                assert_eq!(
                    blocks.iter().map(|b| b.id.clone()).collect::<Vec<_>>(),
                    s.linked_blocks
                        .iter()
                        .map(|b| format!("ITEM_block_{b}"))
                        .collect::<Vec<_>>(),
                    "{}: the blocks of {} in order",
                    v.target,
                    s.id
                );
            }
            // The shared assets ride along as a dependency; the static
            // pages run no script, so the runtime stays out.
            let shared = &res["RES_shared"];
            assert!(shared.2.iter().any(|x| x == "coursepack/style.css"));
            assert!(!files.contains_key("coursepack/runtime.js"), "{}", v.target);
            // Session pages are the static variant (see cc_pages.rs).
            for s in &sessions {
                let page = String::from_utf8_lossy(&files[&format!("{}.html", s.id)]).into_owned();
                assert!(page.contains(&s.title) && !page.contains("<script"));
            }
            for (name, bytes) in files.iter().filter(|(n, _)| n.starts_with("weblinks/")) {
                weblinks += 1;
                let urls = attr_values(bytes, "url", "href");
                assert_eq!(
                    urls,
                    ["https://example.org/why-patients-post?a=1&b=2"],
                    "{name}"
                );
            }
            for (name, bytes) in files.iter().filter(|(n, _)| n.starts_with("topics/")) {
                let text = text_of(bytes, "text").concat();
                assert!(text.starts_with("<p>") && text.len() > 7, "{name}: {text}");
            }
        }
        let expected_links = if course_dir == seed_course() { 0 } else { 2 };
        assert_eq!(weblinks, expected_links, "web links in both versions");
    }
}

#[test]
fn lti_cartridges_link_every_session_to_the_tool() {
    let course = seed_course();
    let sessions = sessions_of(&course);
    let out = build_cc(&course, "lti");
    for v in VERSIONS {
        let files = check_common(&cartridge(out.path(), v), v);
        let manifest = &files["imsmanifest.xml"];
        let res = resources(manifest);
        let root = organisation(manifest);
        // A static overview page first, so that Moodle makes it section 0
        // and every session gets a section of its own.
        let (overview, folders) = root.children.split_first().unwrap();
        assert_eq!(overview.id, "ITEM_overview");
        let (kind, href, _, _) = &res[overview.idref.as_ref().unwrap()];
        assert_eq!(
            (kind.as_str(), href.as_deref()),
            ("webcontent", Some("index.html"))
        );
        assert_eq!(
            folders.iter().map(|f| f.title.as_str()).collect::<Vec<_>>(),
            sessions
                .iter()
                .map(|s| s.title.as_str())
                .collect::<Vec<_>>(),
            "{}: every session in order",
            v.target
        );
        // Thin: the manifest, the overview with its stylesheet, and one
        // link per session.
        let mut expected: Vec<String> = ["imsmanifest.xml", "index.html", "coursepack/style.css"]
            .map(String::from)
            .into();
        expected.extend(sessions.iter().map(|s| format!("lti/{}.xml", s.id)));
        expected.sort();
        assert_eq!(
            files.keys().cloned().collect::<Vec<_>>(),
            expected,
            "{}",
            v.target
        );
        for (folder, s) in folders.iter().zip(&sessions) {
            assert_eq!(folder.children.len(), 1);
            let link = &folder.children[0];
            assert_eq!(link.title, s.title);
            let (kind, _, lfiles, _) = &res[link.idref.as_ref().unwrap()];
            assert_eq!(kind, v.lti_type);
            let xml = &files[&lfiles[0]];
            let launch = format!("{TOOL}/launch/{}", s.id);
            assert_eq!(text_of(xml, "blti:launch_url"), [launch.as_str()]);
            assert_eq!(text_of(xml, "blti:secure_launch_url"), [launch.as_str()]);
            assert_eq!(text_of(xml, "blti:title"), [s.title.as_str()]);
            assert_eq!(attr_values(xml, "lticm:property", "name"), ["session"]);
            assert_eq!(text_of(xml, "lticm:property"), [s.id.as_str()]);
            assert_eq!(text_of(xml, "blti:icon"), [format!("{TOOL}/icon.svg")]);
            assert_eq!(text_of(xml, "blti:description").len(), 1);
        }
    }
}

#[test]
fn rebuilding_gives_identical_cartridges() {
    for flavour in ["web", "lti"] {
        let a = build_cc(&seed_course(), flavour);
        let b = build_cc(&seed_course(), flavour);
        for v in VERSIONS {
            let (pa, pb) = (cartridge(a.path(), v), cartridge(b.path(), v));
            assert_eq!(
                std::fs::read(&pa).unwrap(),
                std::fs::read(&pb).unwrap(),
                "{flavour} {} differs between builds",
                v.target
            );
        }
    }
}

#[test]
fn every_target_by_default_includes_both_cartridges() {
    let out = tempfile::tempdir().unwrap();
    let output = build_into(&seed_course(), out.path(), &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let id = course_id(&seed_course());
    for v in VERSIONS {
        let p = cartridge(out.path(), v);
        let name = p.file_name().unwrap().to_str().unwrap();
        assert!(name.starts_with(&format!("{id}-")), "{name}");
    }
}

#[test]
fn lti_flavour_without_an_https_tool_url_writes_nothing() {
    let cases: [(&[&str], &str); 4] = [
        (&[], "needs the tool's address"),
        (
            &["--tool-url", "http://tool.example.org"],
            "not an https://",
        ),
        (&["--tool-url", "tool.example.org"], "not an https://"),
        (&["--tool-url", "https://"], "no valid host"),
    ];
    for (extra, message) in cases {
        let out = tempfile::tempdir().unwrap();
        let old = out.path().join("course-0.9.0-cc11.imscc");
        std::fs::write(&old, b"an earlier build").unwrap();
        let mut args = vec!["--cc-flavour", "lti"];
        args.extend_from_slice(extra);
        let output = build_into(&seed_course(), out.path(), &args);
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(message), "{args:?}: {err}");
        assert!(err.contains("--tool-url"), "{args:?}: {err}");
        assert!(err.contains("nothing was written"), "{args:?}: {err}");
        assert_eq!(std::fs::read(&old).unwrap(), b"an earlier build");
        assert_eq!(
            std::fs::read_dir(out.path()).unwrap().count(),
            1,
            "{args:?}: nothing new in the output folder"
        );
    }
    // Not even the output folder is created.
    let parent = tempfile::tempdir().unwrap();
    let missing = parent.path().join("dist");
    let output = build_into(&seed_course(), &missing, &["--cc-flavour", "lti"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(!missing.exists());
}
