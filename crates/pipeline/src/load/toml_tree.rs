//! Maps course.toml onto the raw config while keeping every position.
//!
//! serde stops at the first unknown key, missing key or wrong type; these
//! functions walk toml's own tree (`DeTable`, `DeValue`, `Spanned`) to
//! record each problem at its line, repair the tree and map it again, so one
//! run reports all of them. They are apart from the checks because they work
//! on the TOML tree, before there is any config to check.

use std::ops::Range;
use std::path::Path;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::{CONTROL_HELP, char_name, forbidden_char};
use crate::config::{BlockTable, CourseFile as RawCourse, SessionTable};
use crate::diagnostic::{Diagnostic, Diagnostics, did_you_mean, suggest};

/// Parses the TOML and maps it onto the raw config, reporting every
/// unknown key and missing key, not just the first: each unknown key found
/// is recorded and removed, each missing one recorded and filled with a
/// placeholder, and the mapping retried. Returns the config (when the file
/// could be mapped at all) and the spans of the placeholders, so later
/// checks do not report them twice.
/// The top-level tables of a course.toml.
const TABLES: &[&str] = &[
    "course",
    "people",
    "partners",
    "branding",
    "packaging",
    "before",
    "session",
    "after",
];

/// The top-level tables of a variant's file.
const VARIANT_TABLES: &[&str] = &["course", "people", "partners", "branding", "packaging"];

/// Parses a variant's file (`variants/<name>.toml`) and maps it onto the
/// raw overlay, every problem reported as for course.toml.
pub(super) fn parse_variant(
    text: &str,
    path: &Path,
    diags: &mut Diagnostics,
) -> Option<crate::config::VariantFile> {
    let (mut table, errors) = DeTable::parse_recoverable(text);
    if !errors.is_empty() {
        misspelt_tables_of(text, path, diags, VARIANT_TABLES);
        for e in errors {
            diags.push(
                Diagnostic::error(e.message().trim().to_string())
                    .at(path, e.span())
                    .help("see the TOML syntax at https://toml.io"),
            );
        }
        return None;
    }
    table.get_mut().make_owned();
    control_chars(&table, path, diags);
    let mut placeholders = Vec::new();
    map_table(table, path, diags, &mut placeholders)
}

/// Reports table headers whose first name is no table of a course.toml,
/// with the nearest one (`[[sessions]]`, `[sesion.block]`).
fn misspelt_tables(text: &str, path: &Path, diags: &mut Diagnostics) {
    misspelt_tables_of(text, path, diags, TABLES)
}

fn misspelt_tables_of(text: &str, path: &Path, diags: &mut Diagnostics, tables: &[&str]) {
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        let start = at;
        at += line.len();
        let trimmed = line.trim_start();
        let Some(header) = trimmed.strip_prefix('[') else {
            continue;
        };
        let header = header.strip_prefix('[').unwrap_or(header).trim_start();
        let name: String = header
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
            .collect();
        if name.is_empty() || tables.contains(&name.as_str()) {
            continue;
        }
        let offset = start + (line.len() - trimmed.len()) + (trimmed.len() - header.len());
        let mut d = Diagnostic::error(format!("unknown table `{name}`"))
            .at(path, Some(offset..offset + name.len()));
        d = d.help(suggest(&name, tables, "the tables are"));
        diags.push(d);
    }
}

pub(super) fn parse(
    text: &str,
    path: &Path,
    diags: &mut Diagnostics,
) -> (Option<RawCourse>, Vec<Range<usize>>) {
    let (mut table, errors) = DeTable::parse_recoverable(text);
    if !errors.is_empty() {
        // A misspelt table name (`[[sessions]]`) often shows only as a
        // "duplicate key" further down, where the right name comes back:
        // name it first.
        misspelt_tables(text, path, diags);
        for e in errors {
            diags.push(
                Diagnostic::error(e.message().trim().to_string())
                    .at(path, e.span())
                    .help("see the TOML syntax at https://toml.io"),
            );
        }
        return (None, Vec::new());
    }
    table.get_mut().make_owned();
    control_chars(&table, path, diags);
    // Most files map at the first try: then no copy of the table is made.
    let first: Result<RawCourse, _> =
        serde::Deserialize::deserialize(toml::de::Deserializer::from(table));
    if let Ok(raw) = first {
        return (Some(raw), Vec::new());
    }
    let (mut table, _) = DeTable::parse_recoverable(text);
    table.get_mut().make_owned();
    let mut placeholders = Vec::new();
    // Map each `[[session]]`, `[[before]]` and `[[after]]` table on its own:
    // a retry after an error then costs that table, not the whole file, so
    // a big course with many mistakes is still reported quickly.
    let mut lists: Vec<Vec<Spanned<DeTable<'_>>>> = Vec::new();
    for name in ["session", "before", "after"] {
        let key = table
            .get_ref()
            .keys()
            .find(|k| k.get_ref() == name)
            .cloned();
        let all_tables = key.as_ref().is_some_and(|k| {
            matches!(table.get_ref().get(k).map(Spanned::get_ref), Some(DeValue::Array(a)) if a.iter().all(|v| v.get_ref().is_table()))
        });
        let mut items = Vec::new();
        if let (Some(key), true) = (key, all_tables)
            && let Some(value) = table.get_mut().remove(&key)
            && let DeValue::Array(array) = value.into_inner()
        {
            for v in array {
                let span = v.span();
                if let DeValue::Table(t) = v.into_inner() {
                    items.push(Spanned::new(span, t));
                }
            }
        }
        lists.push(items);
    }
    let root: Option<RawCourse> = map_table(table, path, diags, &mut placeholders);
    let mut mapped: Vec<Option<Vec<BlockTable>>> = Vec::new();
    let mut sessions: Option<Vec<SessionTable>> = Some(Vec::new());
    for (i, items) in lists.into_iter().enumerate() {
        if i == 0 {
            for t in items {
                let s = map_table(t, path, diags, &mut placeholders);
                match (&mut sessions, s) {
                    (Some(all), Some(s)) => all.push(s),
                    _ => sessions = None,
                }
            }
        } else {
            let mut blocks = Some(Vec::new());
            for t in items {
                let b = map_table(t, path, diags, &mut placeholders);
                match (&mut blocks, b) {
                    (Some(all), Some(b)) => all.push(b),
                    _ => blocks = None,
                }
            }
            mapped.push(blocks);
        }
    }
    match (
        root,
        sessions,
        mapped.pop().flatten(),
        mapped.pop().flatten(),
    ) {
        (Some(mut raw), Some(session), Some(after), Some(before)) => {
            raw.session.extend(session);
            raw.before.extend(before);
            raw.after.extend(after);
            (Some(raw), placeholders)
        }
        _ => (None, placeholders),
    }
}

/// Maps `table` onto `T`, reporting every unknown key, missing key and
/// value of the wrong type, not just the first: each unknown key found is
/// recorded and removed, each missing one recorded and filled with a
/// placeholder (whose span goes into `placeholders`), each wrong value
/// recorded and removed, and the mapping retried.
fn map_table<T: serde::de::DeserializeOwned>(
    mut table: Spanned<DeTable<'_>>,
    path: &Path,
    diags: &mut Diagnostics,
    placeholders: &mut Vec<Range<usize>>,
) -> Option<T> {
    // Placeholders put in this table.
    let mut filled: Vec<Range<usize>> = Vec::new();
    // Keys removed for a value of the wrong type: (their table's span, key).
    let mut mistyped: Vec<(Range<usize>, String)> = Vec::new();
    // Misspelt keys removed so far: (span of their table, the key suggested).
    let mut misspelt: Vec<(Range<usize>, String)> = Vec::new();
    // Each round removes a key or fills one in, so this ends; no cap, so
    // the count of problems is the true one.
    loop {
        let de = toml::de::Deserializer::from(table.clone());
        let e: toml::de::Error = match T::deserialize(de) {
            Ok(raw) => return Some(raw),
            Err(e) => e,
        };
        let message = e.message().trim().to_string();
        let Some(span) = e.span() else {
            diags.push(Diagnostic::error(message).at(path, None));
            return None;
        };
        if let Some(rest) = message.strip_prefix("unknown field `") {
            let (key, expected) = rest.split_once('`').unwrap_or((rest, ""));
            let candidates: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
            let help = if candidates.is_empty() {
                "remove it".to_string()
            } else {
                suggest(key, &candidates, "the keys allowed here are")
            };
            let suggested = did_you_mean(key, candidates.iter().copied()).map(str::to_string);
            diags.push(
                Diagnostic::error(format!("unknown key `{key}`"))
                    .at(path, Some(span.clone()))
                    .help(help),
            );
            if let Some(table_span) = remove_key_at(&mut table, &span) {
                misspelt.extend(suggested.map(|s| (table_span, s)));
                continue;
            }
        } else if let Some(rest) = message.strip_prefix("missing field `") {
            let key = rest.split('`').next().unwrap_or(rest).to_string();
            // A misspelt key in this table already said "did you mean `key`?",
            // and a key of the wrong type was reported as such.
            let told = misspelt.iter().any(|(t, k)| *t == span && *k == key)
                || mistyped.iter().any(|(t, k)| *t == span && *k == key);
            if !told {
                diags.push(
                    Diagnostic::error(format!("missing key `{key}`"))
                        .at(path, Some(span.clone()))
                        .help(format!("add `{key} = ...` to this table")),
                );
            }
            let placeholder = Spanned::new(span.clone(), DeValue::String("".into()));
            if let Some(t) = table_at(&mut table, &span) {
                t.insert(Spanned::new(span.clone(), key.into()), placeholder);
                filled.push(span.clone());
                placeholders.push(span);
                continue;
            }
        } else if !filled.contains(&span) {
            let text_expected = message.ends_with("expected a string");
            let place = key_of(&table, &span);
            let (said, help) = match type_error_in_words(&message, place.as_ref()) {
                Some(words) => words,
                None => (
                    message,
                    "check the value's type and spelling against the annotated course.toml in the README"
                        .to_string(),
                ),
            };
            diags.push(
                Diagnostic::error(said)
                    .at(path, Some(span.clone()))
                    .help(help),
            );
            // Carry on, to report every wrong type: text expected gets an
            // empty text in its place (checks that would then complain
            // about it are skipped, as for a missing key); any other value
            // is taken out (those keys all have defaults).
            if text_expected && let Some(value) = value_at(&mut table, &span) {
                *value.get_mut() = DeValue::String("".into());
                filled.push(span.clone());
                placeholders.push(span);
                continue;
            }
            if let Some(removed) = remove_value_at(&mut table, &span) {
                mistyped.extend(removed);
                continue;
            }
        }
        return None;
    }
}

/// Where a value sits: its key, and whether it is an item of a list there.
struct Place {
    key: String,
    in_list: bool,
}

/// The key whose value is (or, in a list, holds) the value at `span`.
fn key_of(root: &Spanned<DeTable<'_>>, span: &Range<usize>) -> Option<Place> {
    // A table's own span may be only its header: search every table.
    fn in_value(key: &str, v: &Spanned<DeValue<'_>>, span: &Range<usize>) -> Option<Place> {
        match v.get_ref() {
            DeValue::Table(t) => in_table(t, span),
            DeValue::Array(a) => {
                let vs = v.span();
                if vs.start <= span.start && span.end <= vs.end {
                    // A value inside the list, or the list itself.
                    let in_tables = a.iter().find_map(|item| match item.get_ref() {
                        DeValue::Table(t) => in_table(t, span),
                        _ => None,
                    });
                    return in_tables.or_else(|| {
                        Some(Place {
                            key: key.to_string(),
                            in_list: vs != *span,
                        })
                    });
                }
                a.iter().find_map(|item| match item.get_ref() {
                    DeValue::Table(t) => in_table(t, span),
                    _ => None,
                })
            }
            _ => (v.span() == *span).then(|| Place {
                key: key.to_string(),
                in_list: false,
            }),
        }
    }
    fn in_table(table: &DeTable<'_>, span: &Range<usize>) -> Option<Place> {
        table
            .iter()
            .find_map(|(k, v)| in_value(k.get_ref(), v, span))
    }
    in_table(root.get_ref(), span)
}

/// serde's "invalid type: integer `5`, expected a string" in an author's
/// words, with an example of what the key takes: ("`title` takes text,
/// not a number (`5`)", "write it in quotes: `title = \"…\"`").
fn type_error_in_words(message: &str, place: Option<&Place>) -> Option<(String, String)> {
    let rest = message.strip_prefix("invalid type: ")?;
    let (found, expected) = rest.rsplit_once(", expected ")?;
    let Place { key, in_list } = place?;
    let (takes, example) = match expected {
        "a string" if *in_list => ("text", format!("`{key} = [\"…\", \"…\"]`")),
        "a string" => ("text", format!("write it in quotes: `{key} = \"…\"`")),
        "a boolean" => ("`true` or `false`", format!("`{key} = true`")),
        "a sequence" => ("a list", format!("`{key} = [\"…\", \"…\"]`")),
        e if e.starts_with('u') || e.starts_with('i') || e.contains("integer") => {
            ("a whole number", format!("e.g. `{key} = 10`"))
        }
        _ => return None,
    };
    let (kind, value) = match found.split_once(' ') {
        Some((kind, value)) => (kind, Some(value)),
        None => (found, None),
    };
    let kind = match kind {
        "string" => "text",
        "integer" | "floating" => "a number",
        "boolean" => "a true/false value",
        "sequence" => "a list",
        "map" => "a table",
        _ => return None,
    };
    let value = value
        .map(|v| v.trim_start_matches("point ").trim_matches('`'))
        .map(|v| format!(" (`{v}`)"))
        .unwrap_or_default();
    let says = if *in_list {
        format!("`{key}` is a list of {takes}; an item is {kind}{value}")
    } else {
        format!("`{key}` takes {takes}, not {kind}{value}")
    };
    Some((says, example))
}

/// The value whose span is `span`, anywhere in the tree.
fn value_at<'t, 'i>(
    root: &'t mut Spanned<DeTable<'i>>,
    span: &Range<usize>,
) -> Option<&'t mut Spanned<DeValue<'i>>> {
    fn find<'t, 'i>(
        value: &'t mut Spanned<DeValue<'i>>,
        span: &Range<usize>,
    ) -> Option<&'t mut Spanned<DeValue<'i>>> {
        if value.span() == *span && !value.get_ref().is_table() {
            return Some(value);
        }
        match value.get_mut() {
            DeValue::Table(t) => t.iter_mut().find_map(|(_, v)| find(v, span)),
            DeValue::Array(a) => a.iter_mut().find_map(|v| find(v, span)),
            _ => None,
        }
    }
    root.get_mut().iter_mut().find_map(|(_, v)| find(v, span))
}

/// Removes the value at `span`: a table's entry (returning that table's
/// span and the key, so a "missing key" that follows is not reported twice)
/// or an array's element.
fn remove_value_at(
    table: &mut Spanned<DeTable<'_>>,
    span: &Range<usize>,
) -> Option<Option<(Range<usize>, String)>> {
    fn in_table(
        table: &mut DeTable<'_>,
        here: Range<usize>,
        span: &Range<usize>,
    ) -> Option<Option<(Range<usize>, String)>> {
        if let Some(key) = table
            .iter()
            .find(|(_, v)| v.span() == *span)
            .map(|(k, _)| k.clone())
        {
            table.remove(&key);
            return Some(Some((here, key.get_ref().to_string())));
        }
        table.iter_mut().find_map(|(_, v)| in_value(v, span))
    }
    fn in_value(
        value: &mut Spanned<DeValue<'_>>,
        span: &Range<usize>,
    ) -> Option<Option<(Range<usize>, String)>> {
        // No pruning by span: a table's span covers its header only.
        let here = value.span();
        match value.get_mut() {
            DeValue::Table(t) => in_table(t, here, span),
            DeValue::Array(a) => {
                if a.iter().any(|v| v.span() == *span) {
                    let old = std::mem::replace(a, toml::de::DeArray::new());
                    *a = old.into_iter().filter(|v| v.span() != *span).collect();
                    return Some(None);
                }
                a.iter_mut().find_map(|v| in_value(v, span))
            }
            _ => None,
        }
    }
    let here = table.span();
    in_table(table.get_mut(), here, span)
}

/// Reports every string (and key) of course.toml holding a character
/// [`forbidden_char`] refuses, at its place in the file.
fn control_chars(table: &Spanned<DeTable<'_>>, path: &Path, diags: &mut Diagnostics) {
    fn check(text: &str, span: Range<usize>, path: &Path, diags: &mut Diagnostics) {
        if let Some((_, c)) = forbidden_char(text) {
            diags.push(
                Diagnostic::error(format!(
                    "this text contains the control character {}",
                    char_name(c)
                ))
                .at(path, Some(span))
                .help(CONTROL_HELP),
            );
        }
    }
    fn in_table(table: &DeTable<'_>, path: &Path, diags: &mut Diagnostics) {
        for (k, v) in table.iter() {
            check(k.get_ref(), k.span(), path, diags);
            in_value(v, path, diags);
        }
    }
    fn in_value(value: &Spanned<DeValue<'_>>, path: &Path, diags: &mut Diagnostics) {
        match value.get_ref() {
            DeValue::String(s) => check(s, value.span(), path, diags),
            DeValue::Table(t) => in_table(t, path, diags),
            DeValue::Array(a) => a.iter().for_each(|v| in_value(v, path, diags)),
            _ => {}
        }
    }
    in_table(table.get_ref(), path, diags);
}

/// The table whose span is `span` (the root or any nested table).
fn table_at<'t, 'i>(
    root: &'t mut Spanned<DeTable<'i>>,
    span: &Range<usize>,
) -> Option<&'t mut DeTable<'i>> {
    fn find<'t, 'i>(
        value: &'t mut Spanned<DeValue<'i>>,
        span: &Range<usize>,
    ) -> Option<&'t mut DeTable<'i>> {
        let here = value.span() == *span && value.get_ref().is_table();
        if here {
            return match value.get_mut() {
                DeValue::Table(t) => Some(t),
                _ => None,
            };
        }
        match value.get_mut() {
            DeValue::Table(t) => t.iter_mut().find_map(|(_, v)| find(v, span)),
            DeValue::Array(a) => a.iter_mut().find_map(|v| find(v, span)),
            _ => None,
        }
    }
    if root.span() == *span {
        return Some(root.get_mut());
    }
    root.get_mut().iter_mut().find_map(|(_, v)| find(v, span))
}

/// Removes the key whose name sits at `span`, wherever it is in the tree,
/// and returns the span of the table it was in.
fn remove_key_at(table: &mut Spanned<DeTable<'_>>, span: &Range<usize>) -> Option<Range<usize>> {
    fn in_table(
        table: &mut DeTable<'_>,
        here: Range<usize>,
        span: &Range<usize>,
    ) -> Option<Range<usize>> {
        if let Some(key) = table.keys().find(|k| k.span() == *span).cloned() {
            table.remove(&key);
            return Some(here);
        }
        table.iter_mut().find_map(|(_, v)| in_value(v, span))
    }
    fn in_value(value: &mut Spanned<DeValue<'_>>, span: &Range<usize>) -> Option<Range<usize>> {
        let here = value.span();
        match value.get_mut() {
            DeValue::Table(t) => in_table(t, here, span),
            DeValue::Array(a) => a.iter_mut().find_map(|v| in_value(v, span)),
            _ => None,
        }
    }
    let here = table.span();
    in_table(table.get_mut(), here, span)
}
