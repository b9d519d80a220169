//! Subcommands, one module each.

pub mod serve;
