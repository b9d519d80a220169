//! coursepack turns one `course.toml` into the packages an LMS needs.
//!
//! The pipeline, one module a step:
//! [`config`] (the raw TOML) -> [`load`] (validated [`model`]) ->
//! [`render`] (session pages through [`templates`]) -> [`package`] (one
//! module per target) -> [`archive`] (deterministic zips). [`build`] runs
//! it. [`tool`] is the LTI tool's address and routes, which packages link
//! to and the tool (the `coursepack-lti` crate) serves. The command line is
//! the `coursepack` binary at the workspace's root.

pub mod archive;
pub mod build;
pub mod config;
pub mod contract;
pub mod course_fs;
pub mod diagnostic;
pub mod file_types;
pub mod ids;
pub mod lms;
pub mod load;
pub mod locale;
pub mod markdown;
pub mod model;
pub mod package;
pub mod render;
pub mod report;
pub mod templates;
pub mod tool;
pub mod translate;
