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
            let help = if scheme_ok && host_ok {
                "it contains a space: write spaces in an address as `%20`"
            } else if https_only {
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

/// The address to frame for a video page's address: YouTube and Vimeo
/// refuse to be framed at their watch pages, so `youtube.com/watch?v=…`,
/// `youtu.be/…` and `youtube.com/shorts/…` become the privacy-enhanced
/// `youtube-nocookie.com/embed/…` (keeping a start time), and
/// `vimeo.com/<number>` becomes `player.vimeo.com/video/<number>`. Any
/// other address is framed as it is.
pub(super) fn embed_form(address: &str) -> String {
    let Ok(u) = url::Url::parse(address) else {
        return address.to_string();
    };
    let host = u.host_str().unwrap_or_default().trim_start_matches("www.");
    let host = host.trim_start_matches("m.");
    let first_segment = |u: &url::Url, after: usize| {
        u.path_segments()
            .and_then(|mut s| s.nth(after))
            .filter(|id| !id.is_empty())
            .map(str::to_string)
    };
    let query = |name: &str| {
        u.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    let youtube = match host {
        "youtube.com" if u.path() == "/watch" => query("v"),
        "youtube.com" if u.path().starts_with("/shorts/") => first_segment(&u, 1),
        "youtu.be" => first_segment(&u, 0),
        _ => None,
    };
    if let Some(id) = youtube {
        let start = query("t")
            .or_else(|| query("start"))
            .map(|t| t.trim_end_matches('s').to_string())
            .filter(|t| !t.is_empty() && t.chars().all(|c| c.is_ascii_digit()));
        return match start {
            Some(t) => format!("https://www.youtube-nocookie.com/embed/{id}?start={t}"),
            None => format!("https://www.youtube-nocookie.com/embed/{id}"),
        };
    }
    if host == "vimeo.com"
        && let Some(id) = first_segment(&u, 0).filter(|id| id.chars().all(|c| c.is_ascii_digit()))
    {
        return format!("https://player.vimeo.com/video/{id}");
    }
    address.to_string()
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

#[cfg(test)]
mod tests {
    use super::embed_form;

    #[test]
    fn watch_pages_become_their_embed_form() {
        let nocookie = "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ";
        for watch in [
            "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
            "https://youtube.com/watch?v=dQw4w9WgXcQ&feature=share",
            "https://m.youtube.com/watch?v=dQw4w9WgXcQ",
            "https://youtu.be/dQw4w9WgXcQ",
            "https://www.youtube.com/shorts/dQw4w9WgXcQ",
        ] {
            assert_eq!(embed_form(watch), nocookie, "{watch}");
        }
        assert_eq!(
            embed_form("https://youtu.be/dQw4w9WgXcQ?t=90"),
            format!("{nocookie}?start=90")
        );
        assert_eq!(
            embed_form("https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=42s"),
            format!("{nocookie}?start=42")
        );
        assert_eq!(
            embed_form("https://vimeo.com/76979871"),
            "https://player.vimeo.com/video/76979871"
        );
        for kept in [
            "https://www.youtube.com/embed/dQw4w9WgXcQ",
            "https://player.vimeo.com/video/76979871",
            "https://vimeo.com/channels/staffpicks",
            "https://media.example.edu/player/123",
            "https://www.youtube.com/watch",
        ] {
            assert_eq!(embed_form(kept), kept);
        }
    }
}
