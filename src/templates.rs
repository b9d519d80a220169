//! The default templates and assets, embedded in the binary, and a course's
//! file-by-file overrides from its own `templates/` folder.

use std::collections::BTreeMap;
use std::path::Path;

use crate::diagnostic::{Diagnostic, suggest};

/// Every template and asset a course may override, with its default.
pub const DEFAULTS: &[(&str, &str)] = &[
    ("layout.hbs", include_str!("../templates/layout.hbs")),
    ("overview.hbs", include_str!("../templates/overview.hbs")),
    ("session.hbs", include_str!("../templates/session.hbs")),
    ("block.hbs", include_str!("../templates/block.hbs")),
    ("player.hbs", include_str!("../templates/player.hbs")),
    (
        "coursepack/style.css",
        include_str!("../templates/coursepack/style.css"),
    ),
    (
        "coursepack/runtime.js",
        include_str!("../templates/coursepack/runtime.js"),
    ),
];

/// The templates in force for one course.
#[derive(Debug, Clone)]
pub struct Templates {
    files: BTreeMap<&'static str, String>,
}

impl Templates {
    /// The defaults, with every file found in `overrides` put in their place.
    /// A file there that overrides nothing is an error (most likely a typo).
    pub fn load(overrides: Option<&Path>) -> Result<Templates, Vec<Diagnostic>> {
        let mut files: BTreeMap<&'static str, String> =
            DEFAULTS.iter().map(|(n, t)| (*n, t.to_string())).collect();
        let Some(dir) = overrides else {
            return Ok(Templates { files });
        };
        let mut problems = Vec::new();
        for found in list_files(dir) {
            let rel = found.0;
            match DEFAULTS.iter().find(|(n, _)| *n == rel) {
                Some((name, _)) => match String::from_utf8(found.1) {
                    Ok(text) => {
                        files.insert(name, text);
                    }
                    Err(_) => problems.push(
                        Diagnostic::error(format!("template `{rel}` is not UTF-8 text"))
                            .at(&dir.join(&rel), None)
                            .help("save it as UTF-8"),
                    ),
                },
                None => {
                    let names: Vec<&str> = DEFAULTS.iter().map(|(n, _)| *n).collect();
                    let help = suggest(&rel, &names, "the files that can be overridden are");
                    problems.push(
                        Diagnostic::error(format!("`{rel}` does not override any template"))
                            .at(&dir.join(&rel), None)
                            .help(help),
                    );
                }
            }
        }
        if problems.is_empty() {
            Ok(Templates { files })
        } else {
            Err(problems)
        }
    }

    pub fn get(&self, name: &str) -> &str {
        self.files.get(name).map(String::as_str).unwrap_or("")
    }
}

/// Every file below `dir` as (path with `/`, bytes), sorted.
fn list_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![(dir.to_path_buf(), String::new())];
    while let Some((path, prefix)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&path) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            let rel = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}/{name}")
            };
            let p = entry.path();
            if p.is_dir() {
                stack.push((p, rel));
            } else if let Ok(bytes) = std::fs::read(&p) {
                out.push((rel, bytes));
            }
        }
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_replace_one_file_and_typos_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("session.hbs"), "mine").unwrap();
        let t = Templates::load(Some(dir.path())).unwrap();
        assert_eq!(t.get("session.hbs"), "mine");
        assert_eq!(t.get("overview.hbs"), DEFAULTS[1].1);

        std::fs::write(dir.path().join("sesion.hbs"), "typo").unwrap();
        let err = Templates::load(Some(dir.path())).unwrap_err();
        assert_eq!(err.len(), 1);
        assert_eq!(err[0].help.as_deref(), Some("did you mean `session.hbs`?"));
    }
}
