//! `lti`: the registration bundle for the LTI 1.3 tool (`coursepack
//! serve`): Canvas developer-key JSON, the dynamic registration URL, and a
//! sheet with every value to paste into Moodle, Blackboard and Brightspace.

use anyhow::{Context as _, Result};

use super::{Context, Package, Target};
use crate::archive::Entry;
use crate::lti::bundle::{self, BundleSession};

pub struct Lti;

impl Target for Lti {
    fn name(&self) -> &'static str {
        "lti"
    }
    fn describe(&self) -> &'static str {
        "LTI 1.3 registration bundle for `coursepack serve` (needs --tool-url)"
    }
    fn needs_tool_url(&self) -> bool {
        true
    }
    fn packages(&self, ctx: &Context) -> Result<Vec<Package>> {
        let tool_url = ctx
            .options
            .tool_url
            .as_deref()
            .context("the lti target needs --tool-url")?;
        let sessions: Vec<BundleSession> = ctx
            .course
            .sessions
            .iter()
            .map(|s| BundleSession {
                id: &s.id,
                title: &s.title,
            })
            .collect();
        let entries = bundle::files(tool_url, &ctx.course.title, &sessions)?
            .into_iter()
            .map(|(name, text)| Entry::bytes(name, text))
            .collect();
        Ok(vec![Package {
            suffix: None,
            entries,
        }])
    }
}
