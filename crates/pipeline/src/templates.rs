//! The default templates and assets, embedded in the binary, and a course's
//! file-by-file overrides from its own `templates/` folder.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::course_fs::{self, Refusal};
use crate::diagnostic::{Diagnostic, suggest};

/// Every template and asset a course may override, with its default.
pub const DEFAULTS: &[(&str, &str)] = &[
    ("layout.hbs", include_str!("../../../templates/layout.hbs")),
    (
        "overview.hbs",
        include_str!("../../../templates/overview.hbs"),
    ),
    (
        "session.hbs",
        include_str!("../../../templates/session.hbs"),
    ),
    ("block.hbs", include_str!("../../../templates/block.hbs")),
    ("player.hbs", include_str!("../../../templates/player.hbs")),
    (
        "coursepack/style.css",
        include_str!("../../../templates/coursepack/style.css"),
    ),
    (
        "coursepack/runtime.js",
        include_str!("../../../templates/coursepack/runtime.js"),
    ),
];

/// The templates in force for one course.
#[derive(Debug, Clone)]
pub struct Templates {
    files: BTreeMap<&'static str, String>,
}

impl Templates {
    /// The defaults, with every file found in `overrides` (a folder inside
    /// the course folder `root`) put in their place. A file there that
    /// overrides nothing is an error (most likely a typo); so is a file that
    /// is not a regular file inside the course, one over the size limit, and
    /// templates whose partials include each other.
    pub fn load(root: &Path, overrides: Option<&Path>) -> Result<Templates, Vec<Diagnostic>> {
        let mut files: BTreeMap<&'static str, String> =
            DEFAULTS.iter().map(|(n, t)| (*n, t.to_string())).collect();
        let Some(dir) = overrides else {
            return Ok(Templates { files });
        };
        let mut problems = Vec::new();
        for (rel, path) in list_files(root, dir, &mut problems) {
            match DEFAULTS.iter().find(|(n, _)| *n == rel) {
                Some((name, _)) => {
                    let bytes = course_fs::open_regular(&path)
                        .map_err(|e| match e {
                            course_fs::OpenError::NotAFile(kind) => Refusal::NotAFile(kind),
                            course_fs::OpenError::Io(e) => Refusal::Io(e),
                        })
                        .and_then(|f| course_fs::read_limited(f, course_fs::TEXT_LIMIT));
                    let refusal = match bytes {
                        Ok(bytes) => match String::from_utf8(bytes) {
                            Ok(text) => {
                                files.insert(name, text);
                                continue;
                            }
                            Err(_) => {
                                problems.push(
                                    Diagnostic::error(format!(
                                        "template `{rel}` is not UTF-8 text"
                                    ))
                                    .at(&dir.join(&rel), None)
                                    .help("save it as UTF-8"),
                                );
                                continue;
                            }
                        },
                        Err(refusal) => refusal,
                    };
                    problems.push(
                        Diagnostic::error(format!("template `{rel}` {refusal}"))
                            .at(&dir.join(&rel), None)
                            .help(refusal.help()),
                    );
                }
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
        for (name, text) in files.iter().filter(|(n, _)| n.ends_with(".hbs")) {
            let depth = nesting(text);
            if depth > MAX_NESTING {
                problems.push(
                    Diagnostic::error(format!(
                        "template `{name}` nests blocks or expressions {depth} deep"
                    ))
                    .at(&dir.join(name), None)
                    .help(format!("nest at most {MAX_NESTING} deep")),
                );
            }
        }
        if problems.is_empty() {
            problems.extend(partial_cycles(&files, dir));
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

/// Deepest nesting of blocks (`{{#if}}`, `{{else if}}` chains) and
/// subexpressions a template may have. Compiling, rendering and even
/// dropping a template recurse once a level, so a template nested ten
/// thousand deep would overflow the stack; real templates nest a handful.
pub const MAX_NESTING: usize = 100;

/// How deep `text` nests blocks and subexpressions, read from its tags
/// (an upper bound: enough to refuse before Handlebars recurses).
fn nesting(text: &str) -> usize {
    // Each open block, with how many `{{else x}}` levels it has grown.
    let mut open: Vec<usize> = Vec::new();
    let mut deepest = 0;
    let mut rest = text;
    while let Some(at) = rest.find("{{") {
        let tag_start = &rest[at + 2..];
        let end = if tag_start.starts_with("!--") {
            tag_start.find("--}}").map(|i| i + 4)
        } else {
            tag_start.find("}}").map(|i| i + 2)
        };
        let Some(end) = end else { break };
        let tag = tag_start[..end - 2]
            .trim_start_matches(['{', '~'])
            .trim_start();
        let mut parens = 0usize;
        let mut deepest_parens = 0usize;
        for c in tag.chars() {
            match c {
                '(' => {
                    parens += 1;
                    deepest_parens = deepest_parens.max(parens);
                }
                ')' => parens = parens.saturating_sub(1),
                _ => {}
            }
        }
        if tag.starts_with('#') || tag.starts_with('^') {
            open.push(0);
        } else if tag.starts_with('/') {
            open.pop();
        } else if let Some(chained) = tag.strip_prefix("else")
            && chained.starts_with(char::is_whitespace)
            && !chained.trim().trim_end_matches('~').is_empty()
            && let Some(levels) = open.last_mut()
        {
            *levels += 1;
        }
        let depth = open.len() + open.iter().sum::<usize>() + deepest_parens;
        deepest = deepest.max(depth);
        rest = &tag_start[end..];
    }
    deepest
}

/// Every file below `dir` as (path with `/`, real path), sorted. Links are
/// followed only to files and folders inside the course folder `root`;
/// a folder is listed once however many links lead to it (so a link loop
/// ends), and no deeper than [`course_fs::MAX_DEPTH`]. Anything else is
/// reported in `problems`.
fn list_files(root: &Path, dir: &Path, problems: &mut Vec<Diagnostic>) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    let mut seen: BTreeSet<PathBuf> = BTreeSet::new();
    let mut stack = vec![(dir.to_path_buf(), String::new(), 0usize)];
    while let Some((path, prefix, depth)) = stack.pop() {
        if !seen.insert(path.clone()) {
            continue;
        }
        let Ok(entries) = std::fs::read_dir(&path) else {
            problems.push(
                Diagnostic::error("the templates folder cannot be read")
                    .at(&path, None)
                    .help("check its permissions"),
            );
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
            // Links resolved: the real thing must be inside the course.
            let real = match course_fs::resolve_inside(root, &p) {
                Ok(real) => real,
                Err(refusal) => {
                    problems.push(
                        Diagnostic::error(format!("template `{rel}` {refusal}"))
                            .at(&p, None)
                            .help(refusal.help()),
                    );
                    continue;
                }
            };
            if real.is_dir() {
                if depth + 1 >= course_fs::MAX_DEPTH {
                    problems.push(
                        Diagnostic::error(format!("template folder `{rel}` is nested too deeply"))
                            .at(&p, None)
                            .help("templates sit at most one folder deep, e.g. `coursepack/style.css`"),
                    );
                } else {
                    stack.push((real, rel, depth + 1));
                }
            } else {
                out.push((rel, real));
            }
        }
    }
    out.sort();
    out
}

/// The templates that include one another as partials, directly or through
/// others: rendering them would never end, so each cycle is an error naming
/// it. A partial named by an expression (`{{> (lookup ...)}}`) cannot be
/// followed, so it is refused too.
fn partial_cycles(files: &BTreeMap<&'static str, String>, dir: &Path) -> Vec<Diagnostic> {
    use handlebars::template::Template;
    let mut problems = Vec::new();
    // Edges: template or inline partial -> the partials it includes.
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (file, text) in files.iter().filter(|(n, _)| n.ends_with(".hbs")) {
        let node = file.trim_end_matches(".hbs").to_string();
        // Parse errors are reported when the templates are registered.
        let Ok(template) = Template::compile(text) else {
            continue;
        };
        let mut dynamic = false;
        walk(&template, &node, &mut edges, &mut dynamic);
        edges.entry(node).or_default();
        if dynamic {
            problems.push(
                Diagnostic::error(format!(
                    "template `{file}` includes a partial whose name is an expression"
                ))
                .at(&dir.join(file), None)
                .help("name partials literally, e.g. `{{> block}}`"),
            );
        }
    }
    // Depth-first search; a node met again while still on the path closes
    // a cycle. The graph is a handful of templates, so recursion is fine.
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
        cycles: &mut Vec<Vec<String>>,
    ) {
        if let Some(from) = path.iter().position(|n| n == node) {
            let mut cycle = path[from..].to_vec();
            cycle.push(node.to_string());
            cycles.push(cycle);
            return;
        }
        if done.contains(node) {
            return;
        }
        path.push(node.to_string());
        for next in edges.get(node).into_iter().flatten() {
            visit(next, edges, path, done, cycles);
        }
        path.pop();
        done.insert(node.to_string());
    }
    let mut done = BTreeSet::new();
    let mut cycles = Vec::new();
    for node in edges.keys() {
        visit(node, &edges, &mut Vec::new(), &mut done, &mut cycles);
    }
    for cycle in cycles {
        let file = format!("{}.hbs", cycle[0]);
        problems.push(
            Diagnostic::error(format!(
                "templates include each other without end: {}",
                cycle.join(" -> ")
            ))
            .at(&dir.join(file), None)
            .help("a partial cannot include, directly or through others, the template it is in"),
        );
    }
    problems
}

/// Records the partials `template` includes as edges from `node`; inline
/// partial definitions become nodes of their own.
fn walk(
    template: &handlebars::template::Template,
    node: &str,
    edges: &mut BTreeMap<String, BTreeSet<String>>,
    dynamic: &mut bool,
) {
    use handlebars::template::TemplateElement as E;
    for element in &template.elements {
        match element {
            E::PartialExpression(d) | E::PartialBlock(d) => {
                match d.name.as_name() {
                    Some(name) if name.starts_with('@') => {}
                    Some(name) => {
                        edges
                            .entry(node.to_string())
                            .or_default()
                            .insert(name.to_string());
                    }
                    None => *dynamic = true,
                }
                if let Some(t) = &d.template {
                    walk(t, node, edges, dynamic);
                }
            }
            E::DecoratorExpression(d) | E::DecoratorBlock(d) => {
                let inline = d.name.as_name() == Some("inline");
                let defined = d.params.first().and_then(|p| match p {
                    handlebars::template::Parameter::Literal(serde_json::Value::String(s)) => {
                        Some(s.clone())
                    }
                    other => other.as_name().map(str::to_string),
                });
                match (&d.template, inline, defined) {
                    (Some(t), true, Some(name)) => {
                        edges.entry(name.clone()).or_default();
                        walk(t, &name, edges, dynamic);
                    }
                    (Some(t), _, _) => walk(t, node, edges, dynamic),
                    _ => {}
                }
            }
            E::HelperBlock(h) => {
                for t in h.template.iter().chain(h.inverse.iter()) {
                    walk(t, node, edges, dynamic);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_counts_blocks_else_chains_and_subexpressions() {
        assert_eq!(nesting("{{x}}"), 0);
        assert_eq!(
            nesting("{{#if a}}{{#each b}}{{/each}}{{/if}}{{#if c}}{{/if}}"),
            2
        );
        assert_eq!(
            nesting("{{#if a}}{{else if b}}{{else if c}}{{else}}{{/if}}"),
            3
        );
        assert_eq!(nesting("{{x (a (b (c)))}}"), 3);
        assert_eq!(nesting("{{!-- {{#if}} }} --}}{{y}}"), 0);
        for name in ["layout.hbs", "overview.hbs", "session.hbs", "block.hbs"] {
            let text = DEFAULTS.iter().find(|(n, _)| *n == name).unwrap().1;
            assert!(nesting(text) < 20, "{name}: {}", nesting(text));
        }
    }

    #[test]
    fn templates_nested_without_bound_are_refused_before_they_are_compiled() {
        let dir = tempfile::tempdir().unwrap();
        let deep = format!(
            "{}x{}",
            "{{#if a}}".repeat(20_000),
            "{{/if}}".repeat(20_000)
        );
        std::fs::write(dir.path().join("block.hbs"), deep).unwrap();
        let chain = format!("{{{{#if a}}}}{}{{{{/if}}}}", "{{else if b}}".repeat(20_000));
        std::fs::write(dir.path().join("layout.hbs"), chain).unwrap();
        let parens = format!("{{{{x {}y{}}}}}", "(a ".repeat(20_000), ")".repeat(20_000));
        std::fs::write(dir.path().join("session.hbs"), parens).unwrap();
        let err = Templates::load(dir.path(), Some(dir.path())).unwrap_err();
        let messages: Vec<&str> = err.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(messages.len(), 3, "{messages:?}");
        assert!(messages.iter().all(|m| m.contains("deep")), "{messages:?}");
    }

    #[test]
    fn overrides_replace_one_file_and_typos_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("session.hbs"), "mine").unwrap();
        let t = Templates::load(dir.path(), Some(dir.path())).unwrap();
        assert_eq!(t.get("session.hbs"), "mine");
        assert_eq!(t.get("overview.hbs"), DEFAULTS[1].1);

        std::fs::write(dir.path().join("sesion.hbs"), "typo").unwrap();
        let err = Templates::load(dir.path(), Some(dir.path())).unwrap_err();
        assert_eq!(err.len(), 1);
        assert_eq!(err[0].help.as_deref(), Some("did you mean `session.hbs`?"));
    }
}
