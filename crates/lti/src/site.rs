//! The course as the tool serves it: the same files as in the packages (overview, one page per
//! session, runtime, stylesheet, media), plus the session list read from the pages themselves,
//! so a folder of rendered pages (an unzipped package) can be served too.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, Result, bail};

/// Files above this size stay on disk and are streamed (with range requests, for video).
const IN_MEMORY_MAX: u64 = 512 * 1024;

#[derive(Clone)]
pub enum SiteFile {
    Bytes(Arc<[u8]>),
    Disk(PathBuf),
}

/// One session as announced by its page's `cp-session` JSON island.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionInfo {
    pub id: String,
    pub title: String,
}

/// Why a course could not be loaded.
#[derive(Debug)]
pub enum LoadError {
    /// The course source has problems, reported as `coursepack build` reports them.
    Course(coursepack_pipeline::diagnostic::Diagnostics),
    Other(anyhow::Error),
}

impl From<anyhow::Error> for LoadError {
    fn from(e: anyhow::Error) -> Self {
        LoadError::Other(e)
    }
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::Course(diags) => {
                let n = diags.error_count();
                write!(
                    f,
                    "{n} problem{} found in the course",
                    if n == 1 { "" } else { "s" }
                )
            }
            LoadError::Other(e) => write!(f, "{e:#}"),
        }
    }
}

impl std::error::Error for LoadError {}

pub struct Site {
    pub title: String,
    files: BTreeMap<String, SiteFile>,
    sessions: Vec<SessionInfo>,
}

impl Site {
    /// Loads the course at `dir`: a course source (with `course.toml`), built through the same
    /// pipeline as the packages, or a folder of already rendered pages (e.g. an unzipped
    /// package).
    pub fn load(dir: &Path) -> Result<Self, LoadError> {
        if dir.join(coursepack_pipeline::load::COURSE_FILE).is_file() {
            return Self::build(dir);
        }
        if !dir.join("index.html").is_file() {
            return Err(anyhow::anyhow!(
                "{} has neither {} nor index.html; give `serve` a course folder",
                dir.display(),
                coursepack_pipeline::load::COURSE_FILE
            )
            .into());
        }
        let mut files = BTreeMap::new();
        walk(dir, dir, &mut files)?;
        Ok(Self::from_files(files)?)
    }

    /// Loads and renders a course source exactly as `coursepack build` does.
    fn build(dir: &Path) -> Result<Self, LoadError> {
        let prepared = match coursepack_pipeline::build::prepare(dir) {
            Ok(p) => p,
            Err(coursepack_pipeline::build::Error::Input(diags)) => {
                return Err(LoadError::Course(diags));
            }
            Err(coursepack_pipeline::build::Error::Failed(e)) => return Err(e.into()),
        };
        // The course model's title, as written: the rendered `<title>` holds it HTML-escaped.
        let title = prepared.loaded.course.title.clone();
        let mut files = BTreeMap::new();
        for entry in prepared.site.all() {
            let file = match entry.source {
                coursepack_pipeline::archive::Source::Bytes(b) => SiteFile::Bytes(b.into()),
                coursepack_pipeline::archive::Source::File(p) => SiteFile::Disk(p),
            };
            files.insert(entry.path, file);
        }
        let mut site = Self::from_files(files)?;
        site.title = title;
        Ok(site)
    }

    /// Builds the site from rendered files keyed by their course-relative path.
    pub fn from_files(files: BTreeMap<String, SiteFile>) -> Result<Self> {
        let mut sessions = Vec::new();
        let mut title = String::from("Course");
        for (path, file) in &files {
            if !path.ends_with(".html") || path.contains('/') {
                continue;
            }
            let bytes = match file {
                SiteFile::Bytes(b) => b.to_vec(),
                SiteFile::Disk(p) => {
                    std::fs::read(p).with_context(|| format!("reading {}", p.display()))?
                }
            };
            let html = String::from_utf8_lossy(&bytes);
            if let Some(info) = json_island(&html, "cp-session") {
                let id = info["session"].as_str().unwrap_or_default().to_string();
                if id.is_empty() || format!("{id}.html") != *path {
                    bail!("{path}: its cp-session island names session {id:?}");
                }
                sessions.push((
                    path.clone(),
                    SessionInfo {
                        title: info["title"].as_str().unwrap_or(&id).to_string(),
                        id,
                    },
                ));
            } else if path == "index.html"
                && let Some(t) = between(&html, "<title>", "</title>")
            {
                // Kept as text: every page, JSON claim and registration escapes it as it needs.
                title = unescape_html(t.trim());
            }
        }
        // Course order: the order the overview links to the session pages.
        let index = files
            .get("index.html")
            .and_then(|f| match f {
                SiteFile::Bytes(b) => Some(String::from_utf8_lossy(b).into_owned()),
                SiteFile::Disk(p) => std::fs::read_to_string(p).ok(),
            })
            .unwrap_or_default();
        sessions.sort_by_key(|(path, _)| {
            index
                .find(&format!("href=\"{path}\""))
                .unwrap_or(usize::MAX)
        });
        Ok(Site {
            title,
            files,
            sessions: sessions.into_iter().map(|(_, s)| s).collect(),
        })
    }

    pub fn sessions(&self) -> &[SessionInfo] {
        &self.sessions
    }

    pub fn session(&self, id: &str) -> Option<&SessionInfo> {
        self.sessions.iter().find(|s| s.id == id)
    }

    pub fn get(&self, path: &str) -> Option<&SiteFile> {
        self.files.get(path)
    }
}

fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, SiteFile>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let entry = entry?;
        let path = entry.path();
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let meta = entry.metadata()?;
        if meta.is_dir() {
            walk(root, &path, out)?;
        } else if meta.is_file() {
            let rel = path
                .strip_prefix(root)
                .expect("walked below root")
                .to_string_lossy()
                .replace('\\', "/");
            let file = if meta.len() <= IN_MEMORY_MAX {
                SiteFile::Bytes(
                    std::fs::read(&path)
                        .with_context(|| format!("reading {}", path.display()))?
                        .into(),
                )
            } else {
                SiteFile::Disk(path)
            };
            out.insert(rel, file);
        }
    }
    Ok(())
}

fn between<'a>(s: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let i = s.find(start)? + start.len();
    let j = s[i..].find(end)? + i;
    Some(&s[i..j])
}

/// Decodes the character references of HTML text: the named ones an escaper writes
/// (`&amp; &lt; &gt; &quot; &apos; &nbsp;`) and numeric ones (`&#39;`, `&#x27;`). Anything
/// else, including a lone `&`, stays as it is.
fn unescape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        // The longest reference decoded here is `&#1114111;`; looking no further keeps a
        // text with many lone `&` linear.
        let decoded = rest.find(';').filter(|&end| end <= 12).and_then(|end| {
            let c = match &rest[1..end] {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some('\u{a0}'),
                num => num
                    .strip_prefix('#')
                    .and_then(|n| match n.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok(),
                        None => n.parse().ok(),
                    })
                    .and_then(char::from_u32),
            };
            c.map(|c| (c, end))
        });
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Parses `<script type="application/json" id="ID">…</script>`.
fn json_island(html: &str, id: &str) -> Option<serde_json::Value> {
    let marker = format!("id=\"{id}\"");
    let at = html.find(&marker)?;
    let open_end = html[at..].find('>')? + at + 1;
    let close = html[open_end..].find("</script>")? + open_end;
    serde_json::from_str(&html[open_end..close]).ok()
}

/// Inserts the LTI JSON island just before the runtime script (or before `</body>`).
/// `<` is escaped in the JSON so no value can close the script element.
pub fn inject_lti(html: &[u8], island: &serde_json::Value) -> Vec<u8> {
    let json = island.to_string().replace('<', "\\u003c");
    let tag = format!("<script type=\"application/json\" id=\"cp-lti\">{json}</script>\n");
    let text = String::from_utf8_lossy(html);
    let at = text
        .find("<script src=\"coursepack/runtime.js\"")
        .or_else(|| text.rfind("</body>"))
        .unwrap_or(text.len());
    let mut out = String::with_capacity(text.len() + tag.len());
    out.push_str(&text[..at]);
    out.push_str(&tag);
    out.push_str(&text[at..]);
    out.into_bytes()
}

/// Content type by file extension, for the kinds of files a course holds.
pub fn content_type(path: &str) -> &'static str {
    let ext = path.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "vtt" => "text/vtt; charset=utf-8",
        "txt" | "md" => "text/plain; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "mp4" | "m4v" => "video/mp4",
        "webm" => "video/webm",
        "ogv" => "video/ogg",
        "mp3" => "audio/mpeg",
        "ogg" | "oga" => "audio/ogg",
        "pdf" => "application/pdf",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn island_goes_before_the_runtime_and_cannot_close_the_script() {
        let page = b"<body><p>x</p><script src=\"coursepack/runtime.js\"></script></body>";
        let out = inject_lti(page, &serde_json::json!({"token": "</script><b>"}));
        let out = String::from_utf8(out).unwrap();
        let island = out.find("id=\"cp-lti\"").unwrap();
        let runtime = out.find("coursepack/runtime.js").unwrap();
        assert!(island < runtime);
        assert!(!out.contains("</script><b>"));
        assert!(out.contains("\\u003c/script>\\u003cb>"));
    }

    #[test]
    fn character_references_are_decoded_once() {
        assert_eq!(
            unescape_html("Q&amp;A &lt;b&gt; &quot;x&quot; &#39;y&#x27; &#X2013; &#8212;"),
            "Q&A <b> \"x\" 'y' \u{2013} \u{2014}"
        );
        assert_eq!(unescape_html("&amp;amp;"), "&amp;");
        assert_eq!(
            unescape_html("R&D & more &unknown; &#xZZ; &"),
            "R&D & more &unknown; &#xZZ; &"
        );
        assert_eq!(unescape_html("&#1114112;"), "&#1114112;");
    }

    #[test]
    fn the_title_of_rendered_pages_is_text() {
        let mut files = BTreeMap::new();
        files.insert(
            "index.html".to_string(),
            SiteFile::Bytes(
                b"<title> Q&amp;A &lt;one&gt; &#x27;two&#39; </title>"
                    .to_vec()
                    .into(),
            ),
        );
        assert_eq!(Site::from_files(files).unwrap().title, "Q&A <one> 'two'");
    }

    #[test]
    fn sessions_come_from_their_pages_in_overview_order() {
        let mut files = BTreeMap::new();
        let page = |id: &str, title: &str| -> SiteFile {
            SiteFile::Bytes(
                format!(
                    "<body data-cp-page=\"session\"><script type=\"application/json\" id=\"cp-session\">{{\"session\":\"{id}\",\"title\":\"{title}\"}}</script></body>"
                )
                .into_bytes()
                .into(),
            )
        };
        files.insert("b.html".to_string(), page("b", "Second"));
        files.insert("a.html".to_string(), page("a", "First"));
        files.insert(
            "index.html".to_string(),
            SiteFile::Bytes(
                b"<title>C</title><a href=\"b.html\"></a><a href=\"a.html\"></a>"
                    .to_vec()
                    .into(),
            ),
        );
        let site = Site::from_files(files).unwrap();
        let ids: Vec<_> = site.sessions().iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["b", "a"]);
        assert_eq!(site.title, "C");
        assert_eq!(site.session("a").unwrap().title, "First");
    }
}
