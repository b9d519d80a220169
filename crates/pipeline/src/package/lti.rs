//! `lti`: the registration bundle for the LTI 1.3 tool (`coursepack
//! serve`): Canvas developer-key JSON, the dynamic registration URL, and a
//! sheet with every value to paste into Moodle, Blackboard and Brightspace
//! ([`super::lti_bundle`]).

use anyhow::Result;

use super::lti_bundle::{self as bundle, BundleSession};
use super::{Context, Package, Registration, Target};
use crate::archive::Entry;
use crate::tool::ToolUrl;

pub const REGISTRATION: Registration = Registration {
    name: "lti",
    new: |options| {
        let tool = super::needs_tool(options, "the `lti` target")?;
        Ok(Box::new(Lti { tool }))
    },
    by_default: |options| options.tool_url.is_some(),
};

struct Lti {
    tool: ToolUrl,
}

impl Target for Lti {
    fn name(&self) -> &'static str {
        REGISTRATION.name
    }
    fn uses_tool_url(&self) -> bool {
        true
    }
    fn packages(&self, ctx: &Context) -> Result<Vec<Package>> {
        let sessions: Vec<BundleSession> = ctx
            .course
            .sessions
            .iter()
            .map(|s| BundleSession {
                id: &s.id,
                title: &s.title,
            })
            .collect();
        let entries = bundle::files(&self.tool, &ctx.course.title, &sessions)?
            .into_iter()
            .map(|(name, text)| Entry::bytes(name, text))
            .collect();
        Ok(vec![Package {
            suffix: None,
            entries,
        }])
    }
}
