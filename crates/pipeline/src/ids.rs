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
