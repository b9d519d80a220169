//! Stable manifest identifiers, derived from ids only (LMSs drop learners'
//! progress when these change between uploads). Course and session ids are
//! lower-case, so the upper-case words that mark the course's own
//! identifiers can never collide with a session's (a session may share the
//! course's id).

use crate::model::{Course, Session};

pub fn manifest(course: &Course, suffix: Option<&str>) -> String {
    match suffix {
        Some(s) => format!("MANIFEST-{}-{s}", course.id),
        None => format!("MANIFEST-{}", course.id),
    }
}
pub fn organization(course: &Course) -> String {
    format!("ORG-{}", course.id)
}
pub fn course_item(course: &Course) -> String {
    format!("ITEM-COURSE-{}", course.id)
}
/// What a session's item identifier starts with (the session pages tell
/// the runtime, which maps links to other sessions onto it).
pub const ITEM_PREFIX: &str = "ITEM-";
pub fn item(session: &Session) -> String {
    format!("{ITEM_PREFIX}{}", session.id)
}
pub fn resource(session: &Session) -> String {
    format!("RES-{}", session.id)
}
/// The one SCO's resource when the whole course is one SCO.
pub fn course_resource(course: &Course) -> String {
    format!("RES-COURSE-{}", course.id)
}
pub fn course_objective(course: &Course) -> String {
    format!("OBJ-COURSE-{}", course.id)
}
pub fn shared_resource(course: &Course) -> String {
    format!("RES-SHARED-{}", course.id)
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
