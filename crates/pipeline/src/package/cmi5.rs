//! cmi5: the course as assignable units (AUs) that report xAPI statements
//! to the LMS's LRS. `cmi5.xml` at the package root names the course and
//! one AU per session (or, following the `sco` choice, one AU launching the
//! course player), each with a stable IRI, its `moveOn` criterion and
//! mastery score. The pages an AU launches carry the `cp-cmi5` island, so
//! the runtime knows to read the cmi5 launch parameters.

use anyhow::Result;

use super::xml::Xml;
use super::{Context, Package, Registration, Target, page_entries, session_groups};
use crate::archive::{Entry, Source};
use crate::contract::{Cmi5Island, PLAYER, href, insert_island, island, session_page};
use crate::ids;
use crate::markdown::to_plain as markdown_to_plain;
use crate::model::{Course, Sco, Session};

pub const REGISTRATION: Registration = Registration {
    name: "cmi5",
    new: |options| Ok(Box::new(Cmi5 { sco: options.sco })),
    by_default: super::always,
};

const NAMESPACE: &str = "https://w3id.org/xapi/profiles/cmi5/v1/CourseStructure.xsd";

pub struct Cmi5 {
    /// `--sco`, which overrides the course's choice and the default.
    sco: Option<Sco>,
}

impl Target for Cmi5 {
    fn name(&self) -> &'static str {
        REGISTRATION.name
    }

    fn packages(&self, ctx: &Context) -> Result<Vec<Package>> {
        // An LMS lists and tracks every AU: one per session unless the
        // course (or `--sco`) asks for the course as one.
        let sco = self.sco.or(ctx.course.sco).unwrap_or(Sco::Session);
        Ok(session_groups(ctx.course)
            .into_iter()
            .map(|(suffix, sessions)| {
                let as_one = sco == Sco::Course && sessions.len() > 1;
                let mut entries = page_entries(ctx, &sessions);
                let aus: Vec<Au> = if as_one {
                    entries.push(ctx.site.player.clone());
                    vec![course_au(ctx.course, &sessions)]
                } else {
                    sessions
                        .iter()
                        .map(|&i| session_au(ctx.course, &ctx.course.sessions[i]))
                        .collect()
                };
                for entry in &mut entries {
                    if let Some(au) = aus.iter().find(|au| au.page == entry.path) {
                        mark_page(entry, &au.id);
                    }
                }
                let xml = course_structure(ctx.course, suffix.as_deref(), &aus);
                entries.push(Entry::bytes("cmi5.xml", xml));
                Package { suffix, entries }
            })
            .collect())
    }
}

/// One `<au>` of cmi5.xml.
struct Au {
    id: String,
    title: String,
    description: String,
    /// The page it launches, a path in the package.
    page: String,
    move_on: &'static str,
    /// The pass mark as a share (0–1), when there is one.
    mastery: Option<f64>,
}

/// A session's pass mark decides what the LMS waits for: with `require_pass`
/// both completion and a pass; otherwise completion (a pass mark without
/// `require_pass` is reported, passed or failed, but does not hold the
/// learner back, as in the session's own completion rules).
fn session_au(course: &Course, s: &Session) -> Au {
    let move_on = if s.completion.require_pass {
        "CompletedAndPassed"
    } else {
        "Completed"
    };
    Au {
        id: ids::cmi5_au(course, s),
        title: s.title.clone(),
        description: session_description(s),
        page: session_page(s),
        move_on,
        mastery: s.completion.pass_percent.map(|p| f64::from(p) / 100.0),
    }
}

/// The whole course as one AU, launching the course player. It is passed
/// when every session with a pass mark is passed, which no single share of
/// the course's questions expresses: no `masteryScore`.
fn course_au(course: &Course, sessions: &[usize]) -> Au {
    let require_pass = sessions
        .iter()
        .any(|&i| course.sessions[i].completion.require_pass);
    Au {
        id: ids::cmi5_course_au(course),
        title: course.title.clone(),
        description: course_description(course),
        page: PLAYER.to_string(),
        move_on: if require_pass {
            "CompletedAndPassed"
        } else {
            "Completed"
        },
        mastery: None,
    }
}

fn course_description(course: &Course) -> String {
    match &course.summary {
        Some(summary) => markdown_to_plain(summary),
        None => course.title.clone(),
    }
}

/// The session's introduction, else its goals, else its title: cmi5
/// requires a description.
fn session_description(s: &Session) -> String {
    if let Some(intro) = &s.intro {
        let text = markdown_to_plain(intro);
        if !text.trim().is_empty() {
            return text;
        }
    }
    if !s.goals.is_empty() {
        return s
            .goals
            .iter()
            .map(|g| markdown_to_plain(g))
            .collect::<Vec<_>>()
            .join(" ");
    }
    s.title.clone()
}

/// Adds the `cp-cmi5` island to a page an AU launches.
fn mark_page(entry: &mut Entry, au: &str) {
    if let Source::Bytes(html) = &entry.source {
        let marked = insert_island(html, island::CMI5, &Cmi5Island { au: au.into() });
        entry.source = Source::Bytes(marked);
    }
}

/// A mastery score as cmi5 writes it: a decimal of at most 4 places.
fn decimal(share: f64) -> String {
    let s = format!("{share:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s.is_empty() { "0".into() } else { s.into() }
}

fn course_structure(course: &Course, suffix: Option<&str>, aus: &[Au]) -> Vec<u8> {
    let lang = course.language.as_str();
    let text = |x: &mut Xml, name: &str, value: &str| {
        x.start(name, &[]);
        x.leaf("langstring", &[("lang", lang)], value);
        x.end(name);
    };
    let mut x = Xml::new();
    x.start("courseStructure", &[("xmlns", NAMESPACE)]);
    x.start("course", &[("id", &ids::cmi5_course(course, suffix))]);
    text(&mut x, "title", &course.title);
    text(&mut x, "description", &course_description(course));
    x.end("course");
    for au in aus {
        let mastery = au.mastery.map(decimal);
        let mut attrs = vec![("id", au.id.as_str()), ("moveOn", au.move_on)];
        if let Some(m) = &mastery {
            attrs.push(("masteryScore", m));
        }
        attrs.push(("launchMethod", "AnyWindow"));
        x.start("au", &attrs);
        text(&mut x, "title", &au.title);
        text(&mut x, "description", &au.description);
        x.leaf("url", &[], &href(&au.page));
        x.end("au");
    }
    x.end("courseStructure");
    x.finish()
}

#[cfg(test)]
mod tests {
    use super::decimal;

    #[test]
    fn mastery_scores_are_short_decimals() {
        assert_eq!(decimal(0.75), "0.75");
        assert_eq!(decimal(1.0), "1");
        assert_eq!(decimal(0.0), "0");
        assert_eq!(decimal(0.33), "0.33");
    }
}
