//! Resolves the files a course names (media, captions, transcripts,
//! images, the logo and the templates folder) inside the course folder.
//!
//! This is the only part of loading that touches the file system, and it
//! does so only through [`course_fs`], which refuses paths that leave the
//! course folder, links out of it and files too big to read.

use std::ops::Range;
use std::path::{Component, Path, PathBuf};

use toml::Spanned;

use super::{CONTROL_HELP, Checker, char_name, forbidden_char};
use crate::course_fs::{self, Refusal};
use crate::diagnostic::{Diagnostic, Diagnostics, did_you_mean};
use crate::model::CourseFile;

impl Checker<'_> {
    /// The templates folder: it must be a real folder inside the course
    /// (a link out of the course, or a loop, is refused).
    pub(super) fn templates_dir(
        &mut self,
        configured: Option<&Spanned<String>>,
    ) -> Option<PathBuf> {
        let (rel, span) = match configured {
            Some(dir) => (self.safe_relative(dir)?, Some(dir.span())),
            None => ("templates".to_string(), None),
        };
        let path = self.root.join(&rel);
        let refusal = match course_fs::resolve_inside(self.root, &path) {
            Ok(real) if real.is_dir() => return Some(path),
            Ok(real) => match std::fs::metadata(&real) {
                Ok(meta) => Refusal::NotAFile(course_fs::kind_of(&meta)),
                Err(e) => Refusal::Io(e),
            },
            Err(refusal) => refusal,
        };
        let message = match &refusal {
            Refusal::Missing if span.is_none() => return None,
            Refusal::Missing => format!("templates folder `{rel}` does not exist"),
            Refusal::NotAFile(kind) => format!("templates folder `{rel}` is {kind}, not a folder"),
            other => format!("templates folder `{rel}` {other}"),
        };
        let help = match refusal {
            Refusal::Missing => "create it, or remove `templates` to use the default templates",
            Refusal::NotAFile(_) => "make it a folder of templates, or remove it",
            other => other.help(),
        };
        match span {
            Some(span) => self.error(span, message, help),
            None => self
                .diags
                .push(Diagnostic::error(message).at(&path, None).help(help)),
        }
        None
    }

    /// A relative path that stays inside the course folder (checked lexically).
    fn safe_relative(&mut self, value: &Spanned<String>) -> Option<String> {
        let v = value.get_ref();
        let path = Path::new(v);
        if v.is_empty() {
            self.error(
                value.span(),
                "the path is empty",
                "write a path relative to the course folder",
            );
            return None;
        }
        let drive =
            v.len() >= 2 && v.as_bytes()[0].is_ascii_alphabetic() && v.as_bytes()[1] == b':';
        if has_scheme(v) && v.contains("://") {
            self.error(
                value.span(),
                format!("`{v}` is a web address, not a file"),
                "put the file inside the course folder and give its path, e.g. `media/intro.mp4`",
            );
            return None;
        }
        if path.is_absolute() || v.starts_with('/') || drive {
            self.error(
                value.span(),
                format!("`{v}` is an absolute path"),
                "write it relative to the course folder, e.g. `media/intro.mp4`",
            );
            return None;
        }
        if v.contains('\\') {
            self.error(
                value.span(),
                format!("`{v}` uses `\\`"),
                "separate folders with `/`",
            );
            return None;
        }
        if path.components().any(|c| matches!(c, Component::ParentDir)) {
            self.error(
                value.span(),
                format!("`{v}` leaves the course folder"),
                "keep every file inside the course folder and remove `..`",
            );
            return None;
        }
        let rel = path
            .components()
            .filter_map(|c| match c {
                Component::Normal(s) => s.to_str(),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join("/");
        Some(rel)
    }

    /// A file inside the course folder with one of `exts`.
    pub(super) fn file(&mut self, value: &Spanned<String>, exts: &[&str]) -> Option<CourseFile> {
        let rel = self.safe_relative(value)?;
        let ext = rel
            .rsplit_once('.')
            .map(|(_, e)| e.to_ascii_lowercase())
            .unwrap_or_default();
        if !exts.contains(&ext.as_str()) {
            self.error(
                value.span(),
                format!("`{rel}` is not a supported file type here"),
                format!(
                    "use a {} file",
                    exts.iter()
                        .map(|e| format!(".{e}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
            return None;
        }
        if rel.starts_with("coursepack/") {
            self.error(
                value.span(),
                "the `coursepack/` folder is reserved for the runtime",
                "move the file to another folder, e.g. `media/`",
            );
            return None;
        }
        let path = self.root.join(&rel);
        // The real path is kept: the build opens it again without following
        // links, so a link inside the course is fine, a swapped file is not.
        let real = match course_fs::check(self.root, &rel) {
            Ok(real) => real,
            Err(Refusal::Missing) => {
                let listing = match self.suggestions {
                    0 => None,
                    _ => {
                        self.suggestions -= 1;
                        path.parent().and_then(|p| std::fs::read_dir(p).ok())
                    }
                };
                let hint = match listing {
                    Some(entries) => {
                        let names: Vec<String> = entries
                            .take(10_000)
                            .filter_map(|e| e.ok()?.file_name().into_string().ok())
                            .collect();
                        let file = rel.rsplit('/').next().unwrap_or(&rel);
                        did_you_mean(file, names.iter().map(String::as_str))
                            .map(|m| format!("did you mean `{m}`?"))
                    }
                    None => None,
                };
                self.error(
                    value.span(),
                    format!("file `{rel}` does not exist in the course folder"),
                    hint.unwrap_or_else(|| format!("put the file at {}", path.display())),
                );
                return None;
            }
            Err(Refusal::NotAFile("a folder")) => {
                self.error(
                    value.span(),
                    format!("`{rel}` is not a file"),
                    "point at a file, not a folder",
                );
                return None;
            }
            Err(refusal) => {
                self.error(value.span(), format!("`{rel}` {refusal}"), refusal.help());
                return None;
            }
        };
        Some(CourseFile { rel, path: real })
    }

    /// Checks a Markdown field: returns the course files its images show and
    /// its links point at (each checked like any file; problems point at
    /// `span`), and warns of raw HTML, which the pages show as text.
    pub(super) fn markdown(&mut self, text: &str, span: Range<usize>) -> Vec<CourseFile> {
        use pulldown_cmark::{Event, Parser, Tag};
        let mut found: Vec<CourseFile> = Vec::new();
        let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
        let mut html: Option<String> = None;
        for event in Parser::new(text) {
            let (dest_url, types) = match event {
                Event::Start(Tag::Image { dest_url, .. }) => (dest_url, IMAGE_TYPES),
                // A link to a file in the course (`[handout](media/handout.pdf)`)
                // is packaged with the page; links to pages and anchors are not files.
                Event::Start(Tag::Link { dest_url, .. })
                    if !dest_url.starts_with('#')
                        && !dest_url.starts_with('/')
                        && !dest_url
                            .split(['?', '#'])
                            .next()
                            .is_some_and(|p| p.ends_with(".html") || p.ends_with(".htm")) =>
                {
                    (dest_url, LINKED_TYPES)
                }
                Event::Html(h) | Event::InlineHtml(h) => {
                    html.get_or_insert_with(|| h.trim().chars().take(40).collect());
                    continue;
                }
                _ => continue,
            };
            if has_scheme(&dest_url) || dest_url.starts_with("//") {
                continue;
            }
            // A Markdown link is a URL: drop its query and fragment, decode `%20`.
            let path = dest_url.split(['?', '#']).next().unwrap_or_default();
            let path = percent_decode(path).unwrap_or_else(|| path.to_string());
            if seen.insert(path.clone()) {
                let value = Spanned::new(span.clone(), path);
                found.extend(self.file(&value, types));
            }
        }
        if let Some(tag) = html {
            self.warn(
                span,
                format!("raw HTML (`{tag}`) is shown to learners as text, not as HTML"),
                "write it in Markdown (`**bold**`, `[link](https://...)`, `- list`), or remove it",
            );
        }
        found
    }

    /// A transcript: inline Markdown, or a `.md`/`.txt` file in the course.
    pub(super) fn transcript(&mut self, value: &Spanned<String>) -> Option<String> {
        let v = value.get_ref();
        let looks_like_file = crate::config::transcript_names_file(v);
        if !looks_like_file {
            return Some(v.clone());
        }
        let rel = self.safe_relative(value)?;
        let path = self.root.join(&rel);
        let bytes = match course_fs::read(self.root, &rel, course_fs::TEXT_LIMIT) {
            Ok(bytes) => bytes,
            Err(Refusal::Missing) => {
                self.error(
                    value.span(),
                    format!("transcript file `{rel}` does not exist"),
                    format!("put it at {}", path.display()),
                );
                return None;
            }
            Err(refusal) => {
                self.error(
                    value.span(),
                    format!("transcript `{rel}` {refusal}"),
                    refusal.help(),
                );
                return None;
            }
        };
        let Ok(text) = String::from_utf8(bytes) else {
            self.error(
                value.span(),
                format!("transcript `{rel}` is not UTF-8 text"),
                "save it as UTF-8",
            );
            return None;
        };
        if let Some((offset, c)) = forbidden_char(&text) {
            let text: std::sync::Arc<str> = text.into();
            self.diags.push(
                Diagnostic::error(format!(
                    "transcript `{rel}` contains the control character {}",
                    char_name(c)
                ))
                .at(&path, Some(offset..offset + c.len_utf8()))
                .with_source(text)
                .help(CONTROL_HELP),
            );
            return None;
        }
        Some(text)
    }
}

/// Image types a page may show.
pub(super) const IMAGE_TYPES: &[&str] = &["png", "jpg", "jpeg", "svg", "webp", "gif"];
/// What a Markdown link may point at in the course folder: documents,
/// slides, sheets, archives, and media to download.
pub(super) const LINKED_TYPES: &[&str] = &[
    "pdf", "doc", "docx", "odt", "rtf", "txt", "md", "ppt", "pptx", "odp", "xls", "xlsx", "ods",
    "csv", "epub", "zip", "png", "jpg", "jpeg", "svg", "webp", "gif", "mp3", "m4a", "mp4", "webm",
    "vtt",
];

/// Whether a link starts with a URL scheme (`https:`, `mailto:`, `data:`).
fn has_scheme(link: &str) -> bool {
    match link.split_once(':') {
        Some((scheme, _)) => {
            scheme.len() > 1
                && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
        }
        None => false,
    }
}

/// Decodes `%XX` escapes; `None` when they do not make UTF-8 text.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Reads the text file `rel` of the course folder (a variant, a translation),
/// at most `limit` bytes. `Ok(None)`: it does not exist. A file that cannot be
/// read or is not UTF-8 text is an error at the file, in `diags`, and `Err(())`.
pub(super) fn read_text(
    dir: &Path,
    rel: &str,
    limit: u64,
    diags: &mut Diagnostics,
) -> Result<Option<String>, ()> {
    let path = dir.join(rel);
    let bytes = match course_fs::read(dir, rel, limit) {
        Ok(b) => b,
        Err(Refusal::Missing) => return Ok(None),
        Err(refusal) => {
            diags.push(
                Diagnostic::error(format!("{rel} {refusal}"))
                    .at(&path, None)
                    .help(refusal.help()),
            );
            return Err(());
        }
    };
    match String::from_utf8(bytes) {
        Ok(text) => Ok(Some(text)),
        Err(_) => {
            diags.push(
                Diagnostic::error("the file is not valid UTF-8 text")
                    .at(&path, None)
                    .help(format!("save {rel} as UTF-8")),
            );
            Err(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_and_escapes() {
        assert!(has_scheme("https://x"));
        assert!(has_scheme("data:image/png;base64,xx"));
        assert!(!has_scheme("media/12:30.png"));
        assert!(!has_scheme("c:/x.png"));
        assert_eq!(
            percent_decode("my%20fig.png").as_deref(),
            Some("my fig.png")
        );
        assert_eq!(percent_decode("bad%2"), None);
    }
}
