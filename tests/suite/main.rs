//! The integration suite: runs the real `coursepack` binary on the seed
//! course and on fixture courses, and checks what it writes.

mod cc;
mod cc_pages;
mod cli;
mod cmi5;
mod common;
mod errors;
mod fuzz;
#[cfg(unix)]
mod hostile;
mod init;
mod layers;
mod lms;
mod locale;
mod lti_bundle;
#[cfg(feature = "preview")]
mod preview;
mod qti;
mod report;
mod scorm;
mod variants;
mod warnings;
