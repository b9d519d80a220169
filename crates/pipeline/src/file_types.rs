//! One table of the kinds of files a course holds, by file ending: the
//! MIME type the pages name (`<source type>`), the `Content-Type` the LTI
//! tool serves them with, and whether they are compressed already (the
//! archives store those rather than deflate them again).

struct FileType {
    endings: &'static [&'static str],
    mime: &'static str,
    /// Text is served with its character set.
    content_type: &'static str,
    compressed: bool,
}

const fn kind(endings: &'static [&'static str], mime: &'static str, compressed: bool) -> FileType {
    FileType {
        endings,
        mime,
        content_type: mime,
        compressed,
    }
}

const fn text(
    endings: &'static [&'static str],
    mime: &'static str,
    content_type: &'static str,
) -> FileType {
    FileType {
        endings,
        mime,
        content_type,
        compressed: false,
    }
}

const TABLE: &[FileType] = &[
    text(&["html", "htm"], "text/html", "text/html; charset=utf-8"),
    text(&["css"], "text/css", "text/css; charset=utf-8"),
    text(&["js"], "text/javascript", "text/javascript; charset=utf-8"),
    text(&["vtt"], "text/vtt", "text/vtt; charset=utf-8"),
    text(&["txt", "md"], "text/plain", "text/plain; charset=utf-8"),
    kind(&["json"], "application/json", false),
    kind(&["svg"], "image/svg+xml", false),
    kind(&["png"], "image/png", true),
    kind(&["jpg", "jpeg"], "image/jpeg", true),
    kind(&["gif"], "image/gif", true),
    kind(&["webp"], "image/webp", true),
    kind(&["ico"], "image/x-icon", false),
    kind(&["mp4", "m4v"], "video/mp4", true),
    kind(&["webm"], "video/webm", true),
    kind(&["ogv"], "video/ogg", true),
    kind(&["mp3"], "audio/mpeg", true),
    kind(&["m4a"], "audio/mp4", true),
    kind(&["ogg", "oga"], "audio/ogg", true),
    kind(&["wav"], "audio/wav", false),
    kind(&["pdf"], "application/pdf", true),
    kind(&["zip"], "application/zip", true),
    kind(&["woff2"], "font/woff2", true),
    kind(&["woff"], "font/woff", true),
];

/// The type of anything not in the table.
const UNKNOWN: &str = "application/octet-stream";

fn lookup(path: &str) -> Option<&'static FileType> {
    let (_, ending) = path.rsplit_once('.')?;
    let ending = ending.to_ascii_lowercase();
    TABLE.iter().find(|t| t.endings.contains(&ending.as_str()))
}

/// The MIME type of a file, by its ending.
pub fn mime(path: &str) -> &'static str {
    lookup(path).map_or(UNKNOWN, |t| t.mime)
}

/// The `Content-Type` to serve a file with (text with its character set).
pub fn content_type(path: &str) -> &'static str {
    lookup(path).map_or(UNKNOWN, |t| t.content_type)
}

/// Whether the file's content is compressed already: deflating it again
/// costs time and saves nothing.
pub fn is_compressed(path: &str) -> bool {
    lookup(path).is_some_and(|t| t.compressed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_by_ending_whatever_the_case() {
        assert_eq!(mime("media/clip.MP4"), "video/mp4");
        assert_eq!(mime("captions.vtt"), "text/vtt");
        assert_eq!(content_type("captions.vtt"), "text/vtt; charset=utf-8");
        assert_eq!(content_type("index.html"), "text/html; charset=utf-8");
        assert_eq!(content_type("logo.svg"), "image/svg+xml");
        assert_eq!(mime("notes"), UNKNOWN);
        assert_eq!(content_type("archive.tar.xz"), UNKNOWN);
        assert!(is_compressed("a/b.JPG"));
        assert!(!is_compressed("a/b.svg"));
        assert!(!is_compressed("page.html"));
    }
}
