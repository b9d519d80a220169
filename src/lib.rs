//! coursepack turns one `course.toml` into the packages an LMS needs.
//!
//! The pipeline, one module a step:
//! [`config`] (the raw TOML) -> [`load`] (validated [`model`]) ->
//! [`render`] (session pages through [`templates`]) -> [`package`] (one
//! module per target) -> [`archive`] (deterministic zips). [`build`] runs
//! it and [`cmd`] is the command line. [`lti`] serves the course as an LTI 1.3 tool.

pub mod archive;
pub mod build;
pub mod cmd;
pub mod config;
pub mod course_fs;
pub mod diagnostic;
pub mod load;
pub mod lti;
pub mod model;
pub mod package;
pub mod render;
pub mod templates;
