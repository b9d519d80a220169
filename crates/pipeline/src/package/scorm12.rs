//! SCORM 1.2: the format every LMS plays best (Moodle's own), with IMS
//! metadata 1.2.1 for the course's title, description and language.

use crate::markdown::to_plain as markdown_to_plain;
use anyhow::Result;

use super::scorm::{self, Edition};
use super::xml::Xml;
use super::{Context, Package, Registration, Target};
use crate::model::{Course, Sco, Session};

pub const REGISTRATION: Registration = Registration {
    name: "scorm12",
    new: |options| Ok(Box::new(Scorm12 { sco: options.sco })),
    by_default: super::always,
};

pub struct Scorm12 {
    /// `--sco`, which overrides the course's choice and the default.
    sco: Option<Sco>,
}

impl Target for Scorm12 {
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

impl Edition for Scorm12 {
    fn namespaces(&self) -> &'static [(&'static str, &'static str)] {
        &[
            ("xmlns", "http://www.imsproject.org/xsd/imscp_rootv1p1p2"),
            ("xmlns:adlcp", "http://www.adlnet.org/xsd/adlcp_rootv1p2"),
            (
                "xmlns:imsmd",
                "http://www.imsglobal.org/xsd/imsmd_rootv1p2p1",
            ),
            ("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"),
            (
                "xsi:schemaLocation",
                "http://www.imsproject.org/xsd/imscp_rootv1p1p2 imscp_rootv1p1p2.xsd http://www.imsglobal.org/xsd/imsmd_rootv1p2p1 imsmd_rootv1p2p1.xsd http://www.adlnet.org/xsd/adlcp_rootv1p2 adlcp_rootv1p2.xsd",
            ),
        ]
    }

    fn scorm_type_attr(&self) -> &'static str {
        "adlcp:scormtype"
    }

    fn session_item_extra(&self, x: &mut Xml, session: &Session) {
        // The LMS may judge passed/failed itself from the raw score (in percent).
        if let Some(pass) = session.completion.pass_percent {
            x.leaf("adlcp:masteryscore", &[], &pass.to_string());
        }
    }

    fn default_sco(&self) -> Sco {
        // Moodle's 1.2 player records every SCO and moves between them with
        // its own Next button: each session is its own line in the gradebook.
        Sco::Session
    }

    fn metadata(&self, x: &mut Xml, course: &Course) {
        let lang = course.language.as_str();
        x.start("metadata", &[]);
        x.leaf("schema", &[], "ADL SCORM");
        x.leaf("schemaversion", &[], "1.2");
        x.start("imsmd:lom", &[]);
        x.start("imsmd:general", &[]);
        x.start("imsmd:title", &[]);
        x.leaf("imsmd:langstring", &[("xml:lang", lang)], &course.title);
        x.end("imsmd:title");
        x.leaf("imsmd:language", &[], lang);
        if let Some(summary) = &course.summary {
            x.start("imsmd:description", &[]);
            x.leaf(
                "imsmd:langstring",
                &[("xml:lang", lang)],
                &markdown_to_plain(summary),
            );
            x.end("imsmd:description");
        }
        x.end("imsmd:general");
        if let Some(licence) = &course.licence {
            x.start("imsmd:rights", &[]);
            x.start("imsmd:copyrightandotherrestrictions", &[]);
            x.start("imsmd:source", &[]);
            x.leaf("imsmd:langstring", &[("xml:lang", "x-none")], "LOMv1.0");
            x.end("imsmd:source");
            x.start("imsmd:value", &[]);
            x.leaf("imsmd:langstring", &[("xml:lang", "x-none")], "yes");
            x.end("imsmd:value");
            x.end("imsmd:copyrightandotherrestrictions");
            x.start("imsmd:description", &[]);
            x.leaf("imsmd:langstring", &[("xml:lang", lang)], licence);
            x.end("imsmd:description");
            x.end("imsmd:rights");
        }
        x.end("imsmd:lom");
        x.end("metadata");
    }
}
