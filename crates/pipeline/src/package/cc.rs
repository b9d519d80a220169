//! IMS Common Cartridge 1.1 and 1.3: one `.imscc` per course, imported into
//! a course shell (Moodle and Blackboard read 1.1, Canvas 1.0–1.3).
//!
//! The organisation mirrors the course: the root item stands for the course
//! (the profile forbids it a title, so the organisation carries it), and
//! each session is a folder item with its resources in block order. LMSs
//! make a section or module of every folder; Moodle makes the first
//! top-level item section 0, so both flavours put the overview page first.
//!
//! The pages are the static variant ([`crate::render::StaticPages`]):
//! importers make LMS pages of them (Moodle keeps the body and strips
//! scripts, form controls and the stylesheet; links between the pages
//! break), so they hold no runtime, form controls or links between pages,
//! and the runtime is not in the cartridge.
//!
//! Two flavours ([`CcFlavour`]):
//! - `web`: self-contained. The overview and every session page are
//!   `webcontent` (with their media, and the shared assets as a dependency),
//!   each reading with a URL is a web link, each reflection question a
//!   discussion topic and each knowledge check an IMS QTI assessment
//!   ([`super::qti`]), after the page in block order.
//! - `lti`: thin. The overview page, then each session as one basic LTI
//!   link to `<tool-url>/launch/<session-id>` (importers keep the launch URL
//!   but may drop custom parameters), also naming the session in a `session`
//!   custom parameter. The tool scores the knowledge checks, so there is
//!   no QTI.
//!
//! Identifiers come from the course, session and block ids only, so they are
//! the same on every rebuild. Ids are lowercase letters, digits and `-`, so
//! the `_` in the kinds below never collides with an id.

use crate::markdown::to_plain as markdown_to_plain;
use anyhow::Result;

use super::xml::Xml;
use super::{Context, Options, Package, Registration, Target, qti};
use crate::archive::Entry;
use crate::contract::{OVERVIEW, RUNTIME, href, session_page};
use crate::diagnostic::Diagnostic;
use crate::ids;
use crate::model::{Block, BlockKind, Course, Quiz, Session};
use crate::render::StaticPages;
use crate::tool::ToolUrl;

/// What a cartridge carries: the course itself, or links to the tool.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CcFlavour {
    /// Pages, web links and discussion topics.
    #[default]
    Web,
    /// One LTI link per session.
    Lti,
}

impl CcFlavour {
    pub fn name(self) -> &'static str {
        match self {
            CcFlavour::Web => "web",
            CcFlavour::Lti => "lti",
        }
    }
}

/// What differs between Common Cartridge 1.1 and 1.3.
struct Version {
    target: &'static str,
    schemaversion: &'static str,
    /// Namespace of the manifest (Moodle looks for the 1.1 one in the
    /// first 1024 bytes).
    cp_ns: &'static str,
    lom_ns: &'static str,
    schema_location: &'static str,
    weblink_type: &'static str,
    weblink_ns: &'static str,
    weblink_xsd: &'static str,
    topic_type: &'static str,
    topic_ns: &'static str,
    topic_xsd: &'static str,
    lti_type: &'static str,
    lti_ns: &'static str,
    lti_xsd: &'static str,
    /// Resource type of a QTI assessment and the profile's QTI schema.
    qti_type: &'static str,
    qti_xsd: &'static str,
}

const V11: Version = Version {
    target: "cc11",
    schemaversion: "1.1.0",
    cp_ns: "http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1",
    lom_ns: "http://ltsc.ieee.org/xsd/imsccv1p1/LOM/manifest",
    schema_location: "http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1 http://www.imsglobal.org/profile/cc/ccv1p1/ccv1p1_imscp_v1p2_v1p0.xsd http://ltsc.ieee.org/xsd/imsccv1p1/LOM/manifest http://www.imsglobal.org/profile/cc/ccv1p1/LOM/ccv1p1_lommanifest_v1p0.xsd",
    weblink_type: "imswl_xmlv1p1",
    weblink_ns: "http://www.imsglobal.org/xsd/imsccv1p1/imswl_v1p1",
    weblink_xsd: "http://www.imsglobal.org/profile/cc/ccv1p1/ccv1p1_imswl_v1p1.xsd",
    topic_type: "imsdt_xmlv1p1",
    topic_ns: "http://www.imsglobal.org/xsd/imsccv1p1/imsdt_v1p1",
    topic_xsd: "http://www.imsglobal.org/profile/cc/ccv1p1/ccv1p1_imsdt_v1p1.xsd",
    lti_type: "imsbasiclti_xmlv1p0",
    lti_ns: "http://www.imsglobal.org/xsd/imslticc_v1p0",
    lti_xsd: "http://www.imsglobal.org/xsd/lti/ltiv1p0/imslticc_v1p0.xsd",
    qti_type: "imsqti_xmlv1p2/imscc_xmlv1p1/assessment",
    qti_xsd: "http://www.imsglobal.org/profile/cc/ccv1p1/ccv1p1_qtiasiv1p2p1_v1p0.xsd",
};

const V13: Version = Version {
    target: "cc13",
    schemaversion: "1.3.0",
    cp_ns: "http://www.imsglobal.org/xsd/imsccv1p3/imscp_v1p1",
    lom_ns: "http://ltsc.ieee.org/xsd/imsccv1p3/LOM/manifest",
    schema_location: "http://www.imsglobal.org/xsd/imsccv1p3/imscp_v1p1 http://www.imsglobal.org/profile/cc/ccv1p3/ccv1p3_imscp_v1p2_v1p0.xsd http://ltsc.ieee.org/xsd/imsccv1p3/LOM/manifest http://www.imsglobal.org/profile/cc/ccv1p3/LOM/ccv1p3_lommanifest_v1p0.xsd",
    weblink_type: "imswl_xmlv1p3",
    weblink_ns: "http://www.imsglobal.org/xsd/imsccv1p3/imswl_v1p3",
    weblink_xsd: "http://www.imsglobal.org/profile/cc/ccv1p3/ccv1p3_imswl_v1p3.xsd",
    topic_type: "imsdt_xmlv1p3",
    topic_ns: "http://www.imsglobal.org/xsd/imsccv1p3/imsdt_v1p3",
    topic_xsd: "http://www.imsglobal.org/profile/cc/ccv1p3/ccv1p3_imsdt_v1p3.xsd",
    lti_type: "imsbasiclti_xmlv1p3",
    lti_ns: "http://www.imsglobal.org/xsd/imslticc_v1p3",
    lti_xsd: "http://www.imsglobal.org/xsd/lti/ltiv1p3/imslticc_v1p3.xsd",
    qti_type: "imsqti_xmlv1p2/imscc_xmlv1p3/assessment",
    qti_xsd: "http://www.imsglobal.org/profile/cc/ccv1p3/ccv1p3_qtiasiv1p2p1_v1p0.xsd",
};

pub const CC11: Registration = Registration {
    name: "cc11",
    new: |options| Cartridge::make(&V11, options),
    by_default: super::always,
};

pub const CC13: Registration = Registration {
    name: "cc13",
    new: |options| Cartridge::make(&V13, options),
    by_default: super::always,
};

/// What a cartridge carries, with what that needs.
enum Carries {
    Web,
    /// LTI links to the tool at this address.
    Lti(ToolUrl),
}

/// A Common Cartridge target: its version and what it carries.
struct Cartridge {
    version: &'static Version,
    carries: Carries,
}

impl Cartridge {
    fn make(version: &'static Version, options: &Options) -> Result<Box<dyn Target>, Diagnostic> {
        let carries = match options.cc_flavour {
            CcFlavour::Web => Carries::Web,
            CcFlavour::Lti => Carries::Lti(super::needs_tool(options, "`--cc-flavour lti`")?),
        };
        Ok(Box::new(Cartridge { version, carries }))
    }
}

impl Target for Cartridge {
    fn name(&self) -> &'static str {
        self.version.target
    }
    fn uses_static_pages(&self) -> bool {
        true
    }
    fn uses_tool_url(&self) -> bool {
        matches!(self.carries, Carries::Lti(_))
    }
    fn extension(&self) -> &'static str {
        "imscc"
    }
    fn packages(&self, ctx: &Context) -> Result<Vec<Package>> {
        Ok(vec![cartridge(ctx, self.version, &self.carries)?])
    }
    /// What a cartridge changes in the course: the web flavour's knowledge
    /// checks (the same for both versions).
    fn warnings(&self, ctx: &Context) -> Vec<String> {
        match self.carries {
            Carries::Web => qti::warnings(ctx.course),
            Carries::Lti(_) => Vec::new(),
        }
    }
}

/// Identifiers of the cartridge's items and resources.
mod cc_ids {
    use crate::model::{Block, Course, Session};

    /// A cartridge identifier as a variant writes it: `ITEM_overview`
    /// becomes `ITEM_<variant>_overview`, so that two variants imported
    /// into one LMS course share no identifier (ids have no `_`, so the
    /// words after it cannot be mistaken). The base course's stay as they are.
    pub fn of_variant(course: &Course, id: &str) -> String {
        match (&course.variant, id.split_once('_')) {
            (Some(v), Some((kind, rest))) => format!("{kind}_{v}_{rest}"),
            _ => id.to_string(),
        }
    }

    pub const OVERVIEW_ITEM: &str = "ITEM_overview";
    pub const OVERVIEW_RES: &str = "RES_overview";
    pub const SHARED_RES: &str = "RES_shared";

    pub fn session_folder(s: &Session) -> String {
        format!("ITEM_session_{}", s.id)
    }
    pub fn page_item(s: &Session) -> String {
        format!("ITEM_page_{}", s.id)
    }
    pub fn page_res(s: &Session) -> String {
        format!("RES_page_{}", s.id)
    }
    pub fn lti_item(s: &Session) -> String {
        format!("ITEM_lti_{}", s.id)
    }
    pub fn lti_res(s: &Session) -> String {
        format!("RES_lti_{}", s.id)
    }
    pub fn block_item(b: &Block) -> String {
        format!("ITEM_block_{}", b.id)
    }
    pub fn block_res(b: &Block) -> String {
        format!("RES_block_{}", b.id)
    }
}

/// Where the XML file of a link or topic lives in the cartridge.
pub fn weblink_path(block: &Block) -> String {
    format!("weblinks/{}.xml", block.id)
}
pub fn topic_path(block: &Block) -> String {
    format!("topics/{}.xml", block.id)
}
pub fn lti_path(session: &Session) -> String {
    format!("lti/{}.xml", session.id)
}

/// An organisation item.
struct Item {
    id: String,
    title: String,
    resource: Option<String>,
    children: Vec<Item>,
}

/// A manifest resource.
struct Resource {
    id: String,
    kind: &'static str,
    href: Option<String>,
    files: Vec<String>,
    dependencies: Vec<String>,
}

/// The resource a block gets in the web flavour, if any.
enum BlockResource<'a> {
    WebLink { title: &'a str, url: &'a str },
    Topic { title: &'a str, question: &'a str },
    Assessment { title: &'a str, quiz: &'a Quiz },
}

fn block_resource<'a>(block: &'a Block, untitled: &'a str) -> Option<BlockResource<'a>> {
    match &block.kind {
        BlockKind::Reading { url: Some(url), .. } => Some(BlockResource::WebLink {
            title: block.title.as_deref().unwrap_or(url),
            url,
        }),
        BlockKind::Reflection { question, .. } => Some(BlockResource::Topic {
            title: block.topic_title()?,
            question,
        }),
        BlockKind::Quiz(quiz) => Some(BlockResource::Assessment {
            title: block.assessment_title(untitled)?,
            quiz,
        }),
        _ => None,
    }
}

/// The whole cartridge for one version: every session, whatever
/// `[packaging] split` says (a cartridge fills one course shell).
fn cartridge(ctx: &Context, v: &Version, carries: &Carries) -> Result<Package> {
    let course = ctx.course;
    let all: Vec<usize> = (0..course.sessions.len()).collect();
    let Some(statics) = ctx.site.static_pages.as_ref() else {
        anyhow::bail!("the cartridge's static pages were not rendered");
    };
    let (mut entries, items, resources) = match carries {
        Carries::Web => web(ctx, statics, v, &all),
        Carries::Lti(tool) => lti(ctx, statics, v, tool),
    };
    entries.push(Entry::bytes(
        "imsmanifest.xml",
        manifest(course, v, &items, &resources),
    ));
    Ok(Package {
        suffix: None,
        entries,
    })
}

/// The overview page first, with the files it and the session pages share
/// (the static pages run no script, so the runtime stays out): the
/// overview item is section 0 in Moodle, so no session lands there.
fn overview(ctx: &Context, statics: &StaticPages) -> (Vec<Entry>, Item, [Resource; 2]) {
    let mut entries = vec![statics.overview.clone()];
    entries.extend(
        ctx.site
            .shared
            .iter()
            .filter(|e| e.path != RUNTIME)
            .cloned(),
    );
    let mut shared: Vec<String> = entries[1..].iter().map(|e| e.path.clone()).collect();
    shared.sort_unstable();
    let item = Item {
        id: cc_ids::OVERVIEW_ITEM.into(),
        title: ctx.course.title.clone(),
        resource: Some(cc_ids::OVERVIEW_RES.into()),
        children: Vec::new(),
    };
    let resources = [
        Resource {
            id: cc_ids::OVERVIEW_RES.into(),
            kind: "webcontent",
            href: Some(OVERVIEW.into()),
            files: vec![OVERVIEW.into()],
            dependencies: vec![cc_ids::SHARED_RES.into()],
        },
        Resource {
            id: cc_ids::SHARED_RES.into(),
            kind: "webcontent",
            href: None,
            files: shared,
            dependencies: Vec::new(),
        },
    ];
    (entries, item, resources)
}

fn web(
    ctx: &Context,
    statics: &StaticPages,
    v: &Version,
    sessions: &[usize],
) -> (Vec<Entry>, Vec<Item>, Vec<Resource>) {
    let course = ctx.course;
    let (mut entries, overview_item, [overview_res, shared_res]) = overview(ctx, statics);
    for &i in sessions {
        entries.push(statics.sessions[i].clone());
        for m in &ctx.site.media[i] {
            if !entries.iter().any(|e| e.path == m.path) {
                entries.push(m.clone());
            }
        }
    }
    let mut resources = vec![overview_res];
    let mut items = vec![overview_item];
    let untitled = course.untitled_quiz();
    for &i in sessions {
        let s = &course.sessions[i];
        let page = session_page(s);
        let mut files = vec![page.clone()];
        files.extend(ctx.site.media[i].iter().map(|e| e.path.clone()));
        resources.push(Resource {
            id: cc_ids::page_res(s),
            kind: "webcontent",
            href: Some(page),
            files,
            dependencies: vec![cc_ids::SHARED_RES.into()],
        });
        let mut children = vec![Item {
            id: cc_ids::page_item(s),
            title: s.title.clone(),
            resource: Some(cc_ids::page_res(s)),
            children: Vec::new(),
        }];
        for block in &s.blocks {
            let Some(what) = block_resource(block, &untitled) else {
                continue;
            };
            let (kind, path, xml, title) = match what {
                BlockResource::WebLink { title, url } => (
                    v.weblink_type,
                    weblink_path(block),
                    weblink(v, title, url),
                    title,
                ),
                BlockResource::Topic { title, question } => (
                    v.topic_type,
                    topic_path(block),
                    topic(v, title, question),
                    title,
                ),
                BlockResource::Assessment { title, quiz } => (
                    v.qti_type,
                    qti::assessment_path(block),
                    qti::assessment(block, quiz, v.qti_xsd, &untitled),
                    title,
                ),
            };
            entries.push(Entry::bytes(path.clone(), xml));
            // An assessment showing images finds them with the session page.
            let dependencies = match block.kind {
                BlockKind::Quiz(_) if !block.images.is_empty() => vec![cc_ids::page_res(s)],
                _ => Vec::new(),
            };
            resources.push(Resource {
                id: cc_ids::block_res(block),
                kind,
                href: None,
                files: vec![path],
                dependencies,
            });
            children.push(Item {
                id: cc_ids::block_item(block),
                title: title.to_string(),
                resource: Some(cc_ids::block_res(block)),
                children: Vec::new(),
            });
        }
        items.push(Item {
            id: cc_ids::session_folder(s),
            title: s.title.clone(),
            resource: None,
            children,
        });
    }
    resources.push(shared_res);
    (entries, items, resources)
}

fn lti(
    ctx: &Context,
    statics: &StaticPages,
    v: &Version,
    tool: &ToolUrl,
) -> (Vec<Entry>, Vec<Item>, Vec<Resource>) {
    let course = ctx.course;
    let (mut entries, overview_item, [overview_res, shared_res]) = overview(ctx, statics);
    let mut items = vec![overview_item];
    let mut resources = vec![overview_res];
    for (i, s) in course.sessions.iter().enumerate() {
        let path = lti_path(s);
        entries.push(Entry::bytes(path.clone(), lti_link(course, v, tool, i)));
        resources.push(Resource {
            id: cc_ids::lti_res(s),
            kind: v.lti_type,
            href: None,
            files: vec![path],
            dependencies: Vec::new(),
        });
        items.push(Item {
            id: cc_ids::session_folder(s),
            title: s.title.clone(),
            resource: None,
            children: vec![Item {
                id: cc_ids::lti_item(s),
                title: s.title.clone(),
                resource: Some(cc_ids::lti_res(s)),
                children: Vec::new(),
            }],
        });
    }
    resources.push(shared_res);
    (entries, items, resources)
}

fn manifest(course: &Course, v: &Version, items: &[Item], resources: &[Resource]) -> Vec<u8> {
    let manifest_id = ids::manifest(course, None);
    let org = ids::organization(course);
    let mut x = Xml::new();
    // The namespace first: Moodle recognises 1.1 by a text match near the top.
    x.start(
        "manifest",
        &[
            ("xmlns", v.cp_ns),
            ("identifier", &manifest_id),
            ("xmlns:lomimscc", v.lom_ns),
            ("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"),
            ("xsi:schemaLocation", v.schema_location),
        ],
    );
    x.start("metadata", &[]);
    x.leaf("schema", &[], "IMS Common Cartridge");
    x.leaf("schemaversion", &[], v.schemaversion);
    super::lom(&mut x, "lomimscc", course, false);
    x.end("metadata");

    x.start("organizations", &[]);
    x.start(
        "organization",
        &[("identifier", &org), ("structure", "rooted-hierarchy")],
    );
    x.leaf("title", &[], &course.title);
    x.start("item", &[("identifier", &ids::course_item(course))]);
    let id = |s: &str| cc_ids::of_variant(course, s);
    for item in items {
        write_item(&mut x, item, &id);
    }
    x.end("item");
    x.end("organization");
    x.end("organizations");

    x.start("resources", &[]);
    for r in resources {
        let rid = id(&r.id);
        let mut attrs = vec![("identifier", rid.as_str()), ("type", r.kind)];
        if let Some(href) = &r.href {
            attrs.push(("href", href));
        }
        x.start("resource", &attrs);
        for f in &r.files {
            x.empty("file", &[("href", &href(f))]);
        }
        for d in &r.dependencies {
            x.empty("dependency", &[("identifierref", &id(d))]);
        }
        x.end("resource");
    }
    x.end("resources");
    x.end("manifest");
    x.finish()
}

fn write_item(x: &mut Xml, item: &Item, id: &dyn Fn(&str) -> String) {
    let iid = id(&item.id);
    let rid = item.resource.as_deref().map(id);
    let mut attrs = vec![("identifier", iid.as_str())];
    if let Some(r) = &rid {
        attrs.push(("identifierref", r));
    }
    x.start("item", &attrs);
    x.leaf("title", &[], &item.title);
    for child in &item.children {
        write_item(x, child, id);
    }
    x.end("item");
}

fn weblink(v: &Version, title: &str, url: &str) -> Vec<u8> {
    let location = format!("{} {}", v.weblink_ns, v.weblink_xsd);
    let mut x = Xml::new();
    x.start(
        "webLink",
        &[
            ("xmlns", v.weblink_ns),
            ("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"),
            ("xsi:schemaLocation", &location),
        ],
    );
    x.leaf("title", &[], title);
    x.empty("url", &[("href", url), ("target", "_blank")]);
    x.end("webLink");
    x.finish()
}

fn topic(v: &Version, title: &str, question: &str) -> Vec<u8> {
    let location = format!("{} {}", v.topic_ns, v.topic_xsd);
    let html = format!("<p>{}</p>", handlebars::html_escape(question));
    let mut x = Xml::new();
    x.start(
        "topic",
        &[
            ("xmlns", v.topic_ns),
            ("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"),
            ("xsi:schemaLocation", &location),
        ],
    );
    x.leaf("title", &[], title);
    x.leaf("text", &[("texttype", "text/html")], &html);
    x.end("topic");
    x.finish()
}

/// A session's link: the session is in the launch address's path because
/// some importers keep only the launch URL.
fn lti_link(course: &Course, v: &Version, tool: &ToolUrl, index: usize) -> Vec<u8> {
    let s = &course.sessions[index];
    let location = format!("{} {}", v.lti_ns, v.lti_xsd);
    let launch = tool.session_launch(&s.id);
    let icon = tool.icon();
    let description = match &s.intro {
        Some(intro) => markdown_to_plain(intro),
        None => format!(
            "Session {} of {}: {}",
            index + 1,
            course.sessions.len(),
            course.title
        ),
    };
    let mut x = Xml::new();
    x.start(
        "cartridge_basiclti_link",
        &[
            ("xmlns", v.lti_ns),
            (
                "xmlns:blti",
                "http://www.imsglobal.org/xsd/imsbasiclti_v1p0",
            ),
            ("xmlns:lticm", "http://www.imsglobal.org/xsd/imslticm_v1p0"),
            ("xmlns:lticp", "http://www.imsglobal.org/xsd/imslticp_v1p0"),
            ("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"),
            ("xsi:schemaLocation", &location),
        ],
    );
    x.leaf("blti:title", &[], &s.title);
    x.leaf("blti:description", &[], &description);
    x.start("blti:custom", &[]);
    x.leaf("lticm:property", &[("name", "session")], &s.id);
    x.end("blti:custom");
    x.leaf("blti:launch_url", &[], &launch);
    x.leaf("blti:secure_launch_url", &[], &launch);
    x.leaf("blti:icon", &[], &icon);
    x.leaf("blti:secure_icon", &[], &icon);
    x.start("blti:vendor", &[]);
    x.leaf("lticp:code", &[], "coursepack");
    x.leaf("lticp:name", &[], "coursepack");
    x.leaf(
        "lticp:description",
        &[],
        &format!("{} (course {})", course.title, course.id),
    );
    x.leaf("lticp:url", &[], tool.as_str());
    x.end("blti:vendor");
    x.end("cartridge_basiclti_link");
    x.finish()
}
