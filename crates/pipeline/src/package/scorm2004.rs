//! SCORM 2004 4th Edition: sessions in order with flow and choice
//! navigation and one primary objective each, IEEE LOM metadata.

use anyhow::Result;

use super::scorm::{self, Edition};
use super::xml::Xml;
use super::{Context, Package, Registration, Target};
use crate::ids;
use crate::model::{Course, Sco, Session};

pub const REGISTRATION: Registration = Registration {
    name: "scorm2004",
    new: |options| Ok(Box::new(Scorm2004 { sco: options.sco })),
    by_default: super::always,
};

pub struct Scorm2004 {
    /// `--sco`, which overrides the course's choice and the default.
    sco: Option<Sco>,
}

impl Target for Scorm2004 {
    fn name(&self) -> &'static str {
        REGISTRATION.name
    }
    fn packages(&self, ctx: &Context) -> Result<Vec<Package>> {
        scorm::packages(ctx, self, self.sco)
    }
    fn sco(&self, course: &Course) -> Option<Sco> {
        Some(scorm::sco(course, self, self.sco))
    }
}

impl Edition for Scorm2004 {
    fn namespaces(&self) -> &'static [(&'static str, &'static str)] {
        &[
            ("xmlns", "http://www.imsglobal.org/xsd/imscp_v1p1"),
            ("xmlns:adlcp", "http://www.adlnet.org/xsd/adlcp_v1p3"),
            ("xmlns:adlseq", "http://www.adlnet.org/xsd/adlseq_v1p3"),
            ("xmlns:adlnav", "http://www.adlnet.org/xsd/adlnav_v1p3"),
            ("xmlns:imsss", "http://www.imsglobal.org/xsd/imsss"),
            ("xmlns:lom", "http://ltsc.ieee.org/xsd/LOM"),
            ("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"),
            (
                "xsi:schemaLocation",
                "http://www.imsglobal.org/xsd/imscp_v1p1 imscp_v1p1.xsd http://www.adlnet.org/xsd/adlcp_v1p3 adlcp_v1p3.xsd http://www.adlnet.org/xsd/adlseq_v1p3 adlseq_v1p3.xsd http://www.adlnet.org/xsd/adlnav_v1p3 adlnav_v1p3.xsd http://www.imsglobal.org/xsd/imsss imsss_v1p0.xsd http://ltsc.ieee.org/xsd/LOM lom.xsd",
            ),
        ]
    }

    fn scorm_type_attr(&self) -> &'static str {
        "adlcp:scormType"
    }

    fn metadata(&self, x: &mut Xml, course: &Course) {
        x.start("metadata", &[]);
        x.leaf("schema", &[], "ADL SCORM");
        x.leaf("schemaversion", &[], "2004 4th Edition");
        super::lom(x, "lom", course, true);
        x.end("metadata");
    }

    fn session_item_extra(&self, x: &mut Xml, session: &Session) {
        let objective = ids::objective(session);
        x.start("imsss:sequencing", &[]);
        x.start("imsss:objectives", &[]);
        match session.completion.pass_percent {
            // The pass mark as the LMS reads it: cmi.scaled_passing_score.
            Some(pass) => {
                x.start(
                    "imsss:primaryObjective",
                    &[("objectiveID", &objective), ("satisfiedByMeasure", "true")],
                );
                x.leaf(
                    "imsss:minNormalizedMeasure",
                    &[],
                    &format!("{:.2}", f64::from(pass) / 100.0),
                );
                x.end("imsss:primaryObjective");
            }
            None => {
                x.empty("imsss:primaryObjective", &[("objectiveID", &objective)]);
            }
        }
        x.end("imsss:objectives");
        x.end("imsss:sequencing");
    }

    fn course_item_extra(&self, x: &mut Xml) {
        x.start("imsss:sequencing", &[]);
        x.empty("imsss:controlMode", &[("choice", "true"), ("flow", "true")]);
        x.end("imsss:sequencing");
    }

    fn default_sco(&self) -> Sco {
        // Moodle's SCORM 2004 player keeps one API object per player page, so
        // a package of several SCOs records only the first one a learner opens
        // per visit (LMS-NOTES, Moodle 4.5.0).
        Sco::Course
    }

    fn course_sco_extra(&self, x: &mut Xml, course: &Course) {
        x.start("imsss:sequencing", &[]);
        x.start("imsss:objectives", &[]);
        x.empty(
            "imsss:primaryObjective",
            &[("objectiveID", &ids::course_objective(course))],
        );
        for s in &course.sessions {
            x.empty("imsss:objective", &[("objectiveID", &ids::objective(s))]);
        }
        x.end("imsss:objectives");
        x.end("imsss:sequencing");
    }

    fn organization_extra(&self, x: &mut Xml) {
        x.start("imsss:sequencing", &[]);
        x.empty("imsss:controlMode", &[("choice", "true"), ("flow", "true")]);
        x.end("imsss:sequencing");
    }
}
