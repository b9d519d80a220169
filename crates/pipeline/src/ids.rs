//! Stable manifest identifiers, derived from ids only (LMSs drop learners'
//! progress when these change between uploads). Course and session ids are
//! lower-case, so the upper-case words that mark the course's own
//! identifiers can never collide with a session's (a session may share the
//! course's id).
//!
//! A variant's identifiers carry its name (`MANIFEST-<id>-<variant>`,
//! `ITEM-<variant>-<session-id>`…), so two variants of a course uploaded
//! side by side in one LMS course share no identifier; the base course's
//! are as they always were.

use crate::model::{Course, Session};

pub fn manifest(course: &Course, suffix: Option<&str>) -> String {
    match suffix {
        Some(s) => format!("MANIFEST-{}-{s}", course.key()),
        None => format!("MANIFEST-{}", course.key()),
    }
}
pub fn organization(course: &Course) -> String {
    format!("ORG-{}", course.key())
}
pub fn course_item(course: &Course) -> String {
    format!("ITEM-COURSE-{}", course.key())
}
/// What a session's item identifier starts with (the session pages tell
/// the runtime, which maps links to other sessions onto it).
pub fn item_prefix(course: &Course) -> String {
    match &course.variant {
        Some(v) => format!("ITEM-{v}-"),
        None => "ITEM-".to_string(),
    }
}
pub fn item(course: &Course, session: &Session) -> String {
    format!("{}{}", item_prefix(course), session.id)
}
pub fn resource(course: &Course, session: &Session) -> String {
    match &course.variant {
        Some(v) => format!("RES-{v}-{}", session.id),
        None => format!("RES-{}", session.id),
    }
}
/// The one SCO's resource when the whole course is one SCO.
pub fn course_resource(course: &Course) -> String {
    format!("RES-COURSE-{}", course.key())
}
pub fn course_objective(course: &Course) -> String {
    format!("OBJ-COURSE-{}", course.key())
}
pub fn shared_resource(course: &Course) -> String {
    format!("RES-SHARED-{}", course.key())
}
pub fn objective(session: &Session) -> String {
    format!("OBJ-{}", session.id)
}

/// What the cmi5 package's IRIs start with: `[packaging] iri_base`, else
/// `urn:coursepack:<course id>` (a URN names the course without claiming a
/// web address; it never changes between rebuilds).
pub fn iri_base(course: &Course) -> String {
    match &course.iri_base {
        Some(base) => base.clone(),
        None => format!("urn:coursepack:{}", course.id),
    }
}
/// The cmi5 course: the base itself, or one package's part when the
/// course is split into packages.
pub fn cmi5_course(course: &Course, suffix: Option<&str>) -> String {
    match suffix {
        Some(s) => format!("{}/part/{s}", iri_base(course)),
        None => iri_base(course),
    }
}
/// A session's assignable unit in cmi5.
pub fn cmi5_au(course: &Course, session: &Session) -> String {
    format!("{}/au/{}", iri_base(course), session.id)
}
/// The one assignable unit when the whole course is one.
pub fn cmi5_course_au(course: &Course) -> String {
    format!("{}/au", iri_base(course))
}
