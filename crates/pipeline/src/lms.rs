//! What each LMS accepts, as rules checked against the packages a build
//! writes: `coursepack check --lms moodle` (and `build --lms`).
//!
//! An LMS is one entry of [`LMSS`]: what it does with each target's
//! packages (its [`Format`]s: refused, or taken on a condition) and the
//! [`Rule`]s on how the course is packaged for it. Adding a rule is one
//! entry in a list: a format for a new target (e.g. for Moodle
//! `Format { target: "cmi5", takes: Takes::On, why: "Moodle takes cmi5 only
//! through a plugin", help: "…" }`), or one function in an LMS's `rules`.
//! Each entry cites, in a comment, the fact it rests on: the notes in
//! ../shared/LMS-NOTES.md (the LMS's source, its help pages and its users'
//! bug reports, or seen in a real Moodle 4.5.0), summed up in the README's
//! "Uploading" section. A rule that needs a fact the notes do not hold says
//! where it comes from.
//!
//! A finding is a [`Diagnostic`]: a warning, or an error when the package
//! cannot work in that LMS; it points at the course.toml key it comes from
//! when there is one, and says what to do.

use std::ops::Range;

use crate::contract::{
    SCORM12_SUSPEND_LIMIT, SCORM2004_SUSPEND_LIMIT, course_suspend_data_worst_case,
    suspend_data_worst_case,
};
use crate::diagnostic::{Diagnostic, Diagnostics, suggest};
use crate::load::Positions;
use crate::model::{Course, Sco, Split};
use crate::package::Target;

/// One LMS and what it accepts.
pub struct Lms {
    /// The name given to `--lms`.
    pub name: &'static str,
    /// The name findings start with.
    pub title: &'static str,
    /// The code of the findings on its formats: `moodle/format`.
    pub format_code: &'static str,
    /// What it does with each target's packages; a target not listed is
    /// taken as it is.
    pub formats: &'static [Format],
    /// Checks of how the course is packaged for it (beside [`STANDARD`],
    /// which every LMS gets).
    pub rules: &'static [Rule],
}

/// The SCORM standard's own limits, checked for every LMS after its own
/// rules: every SCORM player enforces them (or loses the state past them).
pub const STANDARD: &[Rule] = &[
    Rule {
        code: "scorm12/suspend-data",
        check: scorm12_suspend_data,
    },
    Rule {
        code: "scorm2004/suspend-data",
        check: scorm2004_suspend_data,
    },
];

/// What an LMS does with one target's packages.
pub struct Format {
    /// The target's name, as in `package::REGISTRY`.
    pub target: &'static str,
    pub takes: Takes,
    /// What the LMS does, said as a fact.
    pub why: &'static str,
    /// What to do.
    pub help: &'static str,
}

/// Whether an LMS takes a target's packages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Takes {
    /// It cannot use them: an error when no other package of the build
    /// works there, a warning otherwise (upload one of the others).
    No,
    /// It takes them on a condition the author or the administrator must
    /// meet: a warning.
    On,
}

/// One check of the packaging for an LMS: adds its findings.
pub struct Rule {
    /// Short and stable, for CI filters: `moodle/scorm2004-several-scos`.
    pub code: &'static str,
    pub check: fn(&Lms, &Upload, &mut Vec<Finding>),
}

/// What is about to be uploaded: the course and the packages the build
/// writes for it.
pub struct Upload<'a> {
    pub course: &'a Course,
    pub positions: &'a Positions,
    pub packages: Vec<Planned>,
}

/// One target of the build, as the rules see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    /// The target's name (`scorm12`, `cc11`, …).
    pub target: &'static str,
    /// What one SCO holds, for SCORM targets.
    pub sco: Option<Sco>,
    /// Whether its packages carry the tool's address (LTI links).
    pub uses_tool_url: bool,
}

impl Upload<'_> {
    fn has(&self, target: &str) -> bool {
        self.packages.iter().any(|p| p.target == target)
    }

    fn planned(&self, target: &str) -> Option<&Planned> {
        self.packages.iter().find(|p| p.target == target)
    }

    /// The position of `[packaging] sco` when the course sets it to `sco`.
    fn sco_key(&self, sco: Sco) -> Option<Range<usize>> {
        (self.course.sco == Some(sco))
            .then(|| self.positions.sco.clone())
            .flatten()
    }

    /// Whether one SCORM package holds several sessions.
    fn several_sessions_per_package(&self) -> bool {
        self.course.split == Split::Course && self.course.sessions.len() > 1
    }
}

/// One finding of a rule, before it is a [`Diagnostic`].
#[derive(Debug, Clone)]
pub struct Finding {
    pub error: bool,
    pub message: String,
    pub help: String,
    /// The course.toml key it comes from.
    pub at: Option<Range<usize>>,
}

impl Finding {
    fn warning(message: String, help: impl Into<String>, at: Option<Range<usize>>) -> Finding {
        Finding {
            error: false,
            message,
            help: help.into(),
            at,
        }
    }
}

/// Every LMS `--lms` knows.
pub const LMSS: &[Lms] = &[MOODLE, BLACKBOARD, CANVAS, SCORM_CLOUD];

/// Moodle (mod_scorm for SCORM, Restore for cartridges, mod_lti for LTI).
pub const MOODLE: Lms = Lms {
    name: "moodle",
    format_code: "moodle/format",
    title: "Moodle",
    formats: &[
        // LMS-NOTES, Moodle: "Common Cartridge import: only CC 1.0 and CC
        // 1.1 are recognised. CC 1.2 and 1.3 come back as 'unknown backup
        // format' (observed)."
        Format {
            target: "cc13",
            takes: Takes::No,
            why: "Moodle restores only Common Cartridge 1.0 and 1.1; a 1.3 cartridge is refused as \"unknown backup format\"",
            help: "upload the CC 1.1 cartridge instead (`--target cc11`)",
        },
        // Moodle has no cmi5 player: ADL's plugin mod_cmi5launch
        // (github.com/adlnet/Moodle-mod_cmi5launch) plays cmi5 and needs a
        // CATAPULT cmi5 player and an LRS beside Moodle.
        Format {
            target: "cmi5",
            takes: Takes::On,
            why: "Moodle plays cmi5 only through ADL's cmi5launch plugin, which needs a cmi5 player and an LRS beside it",
            help: "upload a SCORM package (`--target scorm12`) unless your site has the cmi5launch plugin",
        },
    ],
    rules: &[
        Rule {
            code: "moodle/scorm2004-several-scos",
            check: moodle_scorm2004_several_scos,
        },
        Rule {
            code: "moodle/lti-links-without-grade",
            check: moodle_lti_links_without_grade,
        },
        Rule {
            code: "moodle/upload-size",
            check: moodle_upload_size,
        },
    ],
};

/// Blackboard Learn (SCORM through the Rustici SCORM Engine building block).
pub const BLACKBOARD: Lms = Lms {
    name: "blackboard",
    format_code: "blackboard/format",
    title: "Blackboard Learn",
    formats: &[
        // LMS-NOTES, Blackboard Learn: "Common Cartridge import/export: 1.0,
        // 1.1, 1.2 (Learn 9.1 SP14 admin help). 1.3 unverified."
        Format {
            target: "cc13",
            takes: Takes::On,
            why: "Blackboard Learn imports Common Cartridge 1.0 to 1.2; importing 1.3 is not known to work",
            help: "upload the CC 1.1 cartridge (`--target cc11`)",
        },
        // LMS-NOTES, Blackboard Learn: "SCORM plays through the Rustici SCORM
        // Engine building block: SCORM 1.2, SCORM 2004 up to 4th Ed., AICC";
        // cmi5 is not among them.
        Format {
            target: "cmi5",
            takes: Takes::On,
            why: "Blackboard Learn's SCORM building block plays SCORM 1.2, SCORM 2004 and AICC; cmi5 is not known to work",
            help: "upload the SCORM package (`--target scorm12` or `scorm2004`)",
        },
    ],
    rules: &[],
};

/// Canvas (cartridges imported natively, SCORM through its SCORM tool).
pub const CANVAS: Lms = Lms {
    name: "canvas",
    format_code: "canvas/format",
    title: "Canvas",
    formats: &[
        // LMS-NOTES, Canvas: "SCORM runs through a separate SCORM tool with
        // signed launch links (since July 2021)."
        Format {
            target: "scorm12",
            takes: Takes::On,
            why: "Canvas plays SCORM packages only through its SCORM tool, which an administrator enables (Settings > Apps)",
            help: "check that the SCORM tool is enabled, then upload the zip from the course's SCORM page; or import the CC 1.3 cartridge (`--target cc13`), which Canvas takes natively",
        },
        Format {
            target: "scorm2004",
            takes: Takes::On,
            why: "Canvas plays SCORM packages only through its SCORM tool, which an administrator enables (Settings > Apps)",
            help: "check that the SCORM tool is enabled, then upload the zip from the course's SCORM page; or import the CC 1.3 cartridge (`--target cc13`), which Canvas takes natively",
        },
    ],
    rules: &[
        Rule {
            code: "canvas/cc13-preferred",
            check: canvas_cc13_preferred,
        },
        Rule {
            code: "canvas/lti-links-need-the-app",
            check: canvas_lti_links_need_the_app,
        },
    ],
};

/// SCORM Cloud (Rustici Software's hosted SCORM Engine).
pub const SCORM_CLOUD: Lms = Lms {
    name: "scorm-cloud",
    format_code: "scorm-cloud/format",
    title: "SCORM Cloud",
    // Not in LMS-NOTES: SCORM Cloud imports SCORM 1.2 and 2004, AICC, xAPI
    // and cmi5 packages (Rustici Software's description of SCORM Cloud);
    // it plays content, it does not restore course cartridges or launch
    // LTI tools.
    formats: &[
        Format {
            target: "cc11",
            takes: Takes::No,
            why: "SCORM Cloud plays SCORM, AICC, xAPI and cmi5 packages; it does not import Common Cartridges",
            help: "upload a SCORM package (`--target scorm12` or `scorm2004`)",
        },
        Format {
            target: "cc13",
            takes: Takes::No,
            why: "SCORM Cloud plays SCORM, AICC, xAPI and cmi5 packages; it does not import Common Cartridges",
            help: "upload a SCORM package (`--target scorm12` or `scorm2004`)",
        },
        Format {
            target: "lti",
            takes: Takes::No,
            why: "the `lti` bundle registers the coursepack tool in an LMS that launches LTI tools; SCORM Cloud plays packages",
            help: "upload a SCORM package (`--target scorm12` or `scorm2004`)",
        },
    ],
    rules: &[],
};

/// Moodle: a SCORM 2004 package of several SCOs records only the first.
fn moodle_scorm2004_several_scos(lms: &Lms, up: &Upload, out: &mut Vec<Finding>) {
    // LMS-NOTES, Moodle 4.5.0 observed: "SCORM 2004, player's Next button:
    // the second and later SCOs get Initialize("") -> false, error 104,
    // because Moodle's 2004 player keeps one API object per player page and
    // never resets it after Terminate … So in Moodle a multi-SCO 2004
    // package records only the first SCO a learner opens per visit." And
    // "SCORM 2004 is only partly supported: run-time API yes, sequencing
    // and navigation no" (Moodle docs, SCORM FAQ).
    let Some(p) = up.planned("scorm2004") else {
        return;
    };
    if p.sco != Some(Sco::Session) || !up.several_sessions_per_package() {
        return;
    }
    let works = up
        .planned("scorm12")
        .is_some_and(|s| lms_takes(lms, s.target));
    out.push(Finding {
        // The package records only part of the learners' work there.
        error: !works,
        message: format!(
            "the SCORM 2004 package has one SCO per session ({} sessions): {}'s SCORM 2004 player records only the first SCO a learner opens per visit (it never resets its API object after Terminate), and it has no sequencing",
            up.course.sessions.len(),
            lms.title
        ),
        help: if works {
            "upload the SCORM 1.2 package to Moodle, or package SCORM 2004 with the course as one SCO (`sco = \"course\"`, the default of scorm2004)".into()
        } else {
            "package SCORM 2004 with the course as one SCO (`sco = \"course\"` in [packaging], or `--sco course`), or build `--target scorm12`, Moodle's best-supported format".into()
        },
        at: up.sco_key(Sco::Session),
    });
}

/// Moodle: LTI links imported from a cartridge have no grade item.
fn moodle_lti_links_without_grade(lms: &Lms, up: &Upload, out: &mut Vec<Finding>) {
    // LMS-NOTES, Moodle 4.5.0 observed: "Common Cartridge 1.1 LTI links
    // become External tool activities (typeid 0) matched to a registered
    // tool by host and port. They have no grade item: the tool's score is
    // dropped until a teacher re-saves each activity, unless the tool
    // creates a line item itself through AGS (`lineitems` URL in the AGS
    // claim, scope `…/lti-ags/scope/lineitem`)."
    for p in up
        .packages
        .iter()
        .filter(|p| p.target.starts_with("cc") && p.uses_tool_url && lms_takes(lms, p.target))
    {
        out.push(Finding::warning(
            format!(
                "the {} cartridge's LTI links become External tool activities with no grade item in {}: grades reach the gradebook only through a line item the tool creates, which needs the line-item scope",
                p.target, lms.title
            ),
            "register the coursepack tool before restoring: by dynamic registration (it asks for the scope), or by hand with \"Use this service for grade sync and column management\"; the tool then makes each link's grade column",
            None,
        ));
    }
}

/// The PHP upload limit most Moodle sites start with: PHP's default
/// `upload_max_filesize` (php.ini, 2 MB).
const PHP_DEFAULT_UPLOAD: u64 = 2 * 1024 * 1024;

/// Moodle: packages over PHP's default upload limit.
fn moodle_upload_size(lms: &Lms, up: &Upload, out: &mut Vec<Finding>) {
    // LMS-NOTES, Moodle: "Upload size is capped three times: PHP's upload
    // limits, the site maximum and the course maximum; unzipping needs the
    // zip's size again on disk." Not in the notes: PHP's own default
    // `upload_max_filesize` is 2 MB (the PHP manual), the first of the three.
    let bytes = media_bytes(up.course);
    if bytes <= PHP_DEFAULT_UPLOAD || up.packages.is_empty() {
        return;
    }
    out.push(Finding::warning(
        format!(
            "the course's files weigh {:.1} MB, and a package holding the whole course at least as much; {} takes an upload only under PHP's upload limit (2 MB unless the site raised it) and the site's and the course's maximum upload size",
            bytes as f64 / 1_048_576.0,
            lms.title
        ),
        "check Site administration > Security > Site security settings > Maximum uploaded file size and the course's own maximum (and ask for PHP's upload_max_filesize and post_max_size to be raised); unzipping needs the package's size again on disk",
        None,
    ));
}

/// Canvas: a CC 1.1 cartridge where 1.3 would do.
fn canvas_cc13_preferred(lms: &Lms, up: &Upload, out: &mut Vec<Finding>) {
    // LMS-NOTES, Canvas: its importer takes `<schemaversion>` "1.0.0",
    // "1.1.0", "1.2.0" or "1.3.0" (lib/canvas/migration/
    // package_identifier.rb): 1.3, the newest, is the one to use there;
    // 1.1 is for Moodle and Blackboard, which import nothing newer.
    if up.has("cc11") && !up.has("cc13") {
        out.push(Finding::warning(
            format!(
                "the build has a CC 1.1 cartridge but no CC 1.3 one; {} imports up to 1.3, the version to use there",
                lms.title
            ),
            "add `cc13` to `--target` and import the CC 1.3 cartridge (Settings > Import Course Content > Common Cartridge 1.x Package)",
            None,
        ));
    }
}

/// Canvas: cartridge LTI links are matched to an installed app.
fn canvas_lti_links_need_the_app(lms: &Lms, up: &Upload, out: &mut Vec<Finding>) {
    // LMS-NOTES, Canvas: "LTI 1.3 tools are registered with a developer
    // key (JSON configuration)." The README (Canvas) says Canvas matches
    // the links to the app by domain, keeping the `session` custom
    // parameter.
    if !up
        .packages
        .iter()
        .any(|p| p.target.starts_with("cc") && p.uses_tool_url)
    {
        return;
    }
    let help = if up.has("lti") {
        "install the coursepack tool first: Admin > Developer Keys > + LTI Key with `canvas-developer-key.json` from the lti bundle, then add the app by its Client ID"
    } else {
        "install the coursepack tool first, with a developer key: build `--target lti` for its `canvas-developer-key.json`, then add the app by its Client ID"
    };
    out.push(Finding::warning(
        format!(
            "the cartridge's LTI links launch only once the coursepack tool is installed as an app in {}: it matches them to the app by domain",
            lms.title
        ),
        help,
        None,
    ));
}

/// SCORM 1.2: the course as one SCO whose state may not fit 4096 characters.
fn scorm12_suspend_data(lms: &Lms, up: &Upload, out: &mut Vec<Finding>) {
    // LMS-NOTES, every runtime: "SCORM 1.2 `cmi.suspend_data` is 4096
    // characters; state that grows past it breaks resume"; Moodle:
    // "Admin setting `scorm12standard` (on by default) enforces SCORM 1.2
    // limits: suspend_data 4096 chars". Each session's own state is
    // checked when the course is loaded, and so is the whole course's
    // when course.toml says `sco = "course"`: this covers `--sco course`.
    let Some(p) = up.planned("scorm12") else {
        return;
    };
    if p.sco != Some(Sco::Course) || up.course.sco == Some(Sco::Course) {
        return;
    }
    if !up.several_sessions_per_package() || !lms_takes(lms, p.target) {
        return;
    }
    let worst = course_suspend_data_worst_case(&up.course.sessions);
    if worst > SCORM12_SUSPEND_LIMIT as usize {
        let who = if lms.name == "moodle" {
            "Moodle keeps 4096 (its `scorm12standard` setting, on by default)"
        } else {
            "SCORM 1.2 guarantees 4096"
        };
        out.push(Finding::warning(
            format!(
                "with the course as one SCO, its SCORM 1.2 state may need {worst} characters of suspend_data; {who}"
            ),
            "package SCORM 1.2 with one SCO per session (its default), or lower `max_chars` on the reflections; long answers are shortened in the LMS and kept whole in the browser",
            up.positions.course_id.clone(),
        ));
    }
}

/// SCORM 2004: a SCO whose state may not fit 64000 characters.
fn scorm2004_suspend_data(lms: &Lms, up: &Upload, out: &mut Vec<Finding>) {
    // LMS-NOTES, every runtime: "2004's 64000 can be hit too
    // (Numbas#1080)". With the course as one SCO (scorm2004's default)
    // every session's state shares it; nothing else checks this.
    let Some(p) = up.planned("scorm2004") else {
        return;
    };
    if !lms_takes(lms, p.target) {
        return;
    }
    let limit = SCORM2004_SUSPEND_LIMIT as usize;
    if p.sco == Some(Sco::Course) && up.several_sessions_per_package() {
        let worst = course_suspend_data_worst_case(&up.course.sessions);
        if worst > limit {
            out.push(Finding::warning(
                format!("with the course as one SCO, its SCORM 2004 state may need {worst} characters of suspend_data; SCORM 2004 guarantees {limit}"),
                "package SCORM 2004 with one SCO per session (`--sco session`, but not for Moodle), or lower `max_chars` on the reflections; long answers are shortened in the LMS and kept whole in the browser",
                up.sco_key(Sco::Course).or_else(|| up.positions.course_id.clone()),
            ));
        }
        return;
    }
    for s in &up.course.sessions {
        let worst = suspend_data_worst_case(s);
        if worst > limit {
            out.push(Finding::warning(
                format!("session `{}` may need {worst} characters of SCORM 2004 suspend_data; SCORM 2004 guarantees {limit}", s.id),
                "lower `max_chars` on its reflections",
                up.positions.sessions.get(&s.id).cloned(),
            ));
        }
    }
}

/// The bytes of the course's own files (media, images, documents): at
/// least what a package holding the whole course weighs, as every
/// cartridge does.
fn media_bytes(course: &Course) -> u64 {
    let mut seen = std::collections::BTreeSet::new();
    course
        .images
        .iter()
        .chain(course.branding.logo.iter())
        .chain(course.before.iter().flat_map(|b| b.files()))
        .chain(course.after.iter().flat_map(|b| b.files()))
        .chain(course.sessions.iter().flat_map(|s| s.files()))
        .filter(|f| seen.insert(&f.rel))
        .filter_map(|f| std::fs::metadata(&f.path).ok())
        .map(|m| m.len())
        .sum()
}

/// Whether an LMS takes a target's packages at all.
fn lms_takes(lms: &Lms, target: &str) -> bool {
    !lms.formats
        .iter()
        .any(|f| f.target == target && f.takes == Takes::No)
}

/// The LMSs named on the command line (case-insensitive, each once), or
/// every unknown name with the nearest known one.
pub fn select(names: &[String]) -> Result<Vec<&'static Lms>, Diagnostics> {
    let mut diags = Diagnostics::default();
    let mut chosen: Vec<&'static Lms> = Vec::new();
    let known: Vec<&str> = LMSS.iter().map(|l| l.name).collect();
    for name in names {
        match LMSS
            .iter()
            .find(|l| l.name.eq_ignore_ascii_case(name.trim()))
        {
            Some(l) if chosen.iter().any(|c| c.name == l.name) => {}
            Some(l) => chosen.push(l),
            None => diags.push(
                Diagnostic::error(format!("unknown LMS `{name}`")).help(suggest(
                    name,
                    &known,
                    "the LMSs are",
                )),
            ),
        }
    }
    if diags.has_errors() {
        Err(diags)
    } else {
        Ok(chosen)
    }
}

/// The build's targets, as the rules see them.
pub fn plan(course: &Course, targets: &[Box<dyn Target>]) -> Vec<Planned> {
    targets
        .iter()
        .map(|t| Planned {
            target: t.name(),
            sco: t.sco(course),
            uses_tool_url: t.uses_tool_url(),
        })
        .collect()
}

/// Every finding of `lmss` on the upload, as diagnostics (each message
/// starting with the LMS's name; errors when a package cannot work there).
pub fn check(lmss: &[&Lms], up: &Upload) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    for lms in lmss {
        let mut findings: Vec<(&'static str, Finding)> = Vec::new();
        // The formats: a package refused is an error only when no other
        // package of the build works there.
        let usable = up.packages.iter().any(|p| lms_takes(lms, p.target));
        for p in &up.packages {
            for f in lms.formats.iter().filter(|f| f.target == p.target) {
                let refused = f.takes == Takes::No;
                let help = if refused && usable {
                    format!("{}; do not upload this package there", f.help)
                } else {
                    f.help.to_string()
                };
                findings.push((
                    lms.format_code,
                    Finding {
                        error: refused && !usable,
                        message: format!("the {} package: {}", p.target, f.why),
                        help,
                        at: None,
                    },
                ));
            }
        }
        for rule in lms.rules.iter().chain(STANDARD) {
            let mut found = Vec::new();
            (rule.check)(lms, up, &mut found);
            findings.extend(found.into_iter().map(|f| (rule.code, f)));
        }
        for (code, f) in findings {
            let message = format!("{}: {}", lms.title, f.message);
            let mut d = if f.error {
                Diagnostic::error(message)
            } else {
                Diagnostic::warning(message)
            }
            .help(f.help)
            .with_code(code);
            if let Some(at) = f.at {
                d = d.at(&up.positions.file, Some(at));
            }
            diags.push(d);
        }
    }
    diags
}
