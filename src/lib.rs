//! coursepack: one course.toml to SCORM / Common Cartridge packages and an LTI 1.3 tool.

pub mod cmd;
pub mod lti;
