//! Checks of single values that every part of the course uses alike: ids
//! (and their uniqueness), whole numbers in a range, text that must not be
//! empty, and web addresses. Kept apart so the course, block and quiz checks
//! word these problems the same way.

use toml::Spanned;

use super::{Checker, MAX_NAME_PART};

impl Checker<'_> {
    /// Checks an id's spelling and that it is unique across the course.
    pub(super) fn id(&mut self, id: &Spanned<String>, what: &str) -> String {
        let v = id.get_ref();
        if !spelled_as_id(v, MAX_NAME_PART, false) {
            self.error(id.span(), format!("`{v}` is not a valid {what} id"), "use lower-case letters, digits and `-`, starting with a letter (64 characters at most)");
        } else if what != "course" {
            if let Some(&line) = self.ids.get(v) {
                self.error(
                    id.span(),
                    format!("duplicate id `{v}`"),
                    format!("it is already used on line {line}; ids must be unique in the course"),
                );
            } else {
                let line = self.lines.line(id.span().start);
                self.ids.insert(v.clone(), line);
            }
        }
        v.clone()
    }

    /// A whole number within `range`, or `default` when absent.
    pub(super) fn ranged(
        &mut self,
        value: Option<&Spanned<u32>>,
        key: &str,
        range: std::ops::RangeInclusive<u32>,
        default: u32,
    ) -> u32 {
        match value {
            Some(v) if !range.contains(v.get_ref()) => {
                self.error(
                    v.span(),
                    format!("{key} {} is out of range", v.get_ref()),
                    format!(
                        "use a whole number from {} to {}",
                        range.start(),
                        range.end()
                    ),
                );
                default
            }
            Some(v) => *v.get_ref(),
            None => default,
        }
    }

    pub(super) fn non_empty(&mut self, value: &Spanned<String>, what: &str) -> String {
        if value.get_ref().trim().is_empty() {
            self.error(
                value.span(),
                format!("the {what} is empty"),
                "write some text",
            );
        }
        value.get_ref().clone()
    }

    pub(super) fn url(&mut self, url: &Spanned<String>, https_only: bool) -> Option<String> {
        let v = url.get_ref();
        let scheme_ok = v.starts_with("https://") || (!https_only && v.starts_with("http://"));
        let host_ok = v
            .split_once("://")
            .is_some_and(|(_, rest)| !rest.is_empty() && !rest.starts_with('/'));
        if !scheme_ok || !host_ok || v.chars().any(char::is_whitespace) {
            let help = if https_only {
                "embeds must be `https://` addresses"
            } else {
                "write a full `https://` address"
            };
            self.error(url.span(), format!("`{v}` is not a web address"), help);
            return None;
        }
        Some(v.clone())
    }
}

/// Whether `v` is spelled as an id: lower-case letters, digits and `-`, at
/// most `max` characters, starting with a letter (or a digit, when
/// `digit_first`).
pub(super) fn spelled_as_id(v: &str, max: usize, digit_first: bool) -> bool {
    v.len() <= max
        && v.starts_with(|c: char| c.is_ascii_lowercase() || (digit_first && c.is_ascii_digit()))
        && v.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}
