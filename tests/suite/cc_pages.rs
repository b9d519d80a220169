//! Common Cartridge pages as an LMS shows them. Moodle turns each HTML web
//! content file into a Page: it keeps the body and cleans it with HTML
//! Purifier, dropping scripts, form controls and the stylesheet, and links
//! between the pages break (../shared/LMS-NOTES.md). tests/moodle/page.php
//! does the same to every page of each cartridge; what is left must still
//! read as the course (every title and text, no form controls, nothing that
//! promises tracking) and link only where an importer can follow.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use crate::cc::{
    Item, Resources, TOOL, VERSIONS, build_cc, cartridge, check_common, course_with_links,
    organisation, resources,
};
use crate::common::*;

/// A course with every kind of block, media, a logo and before/after blocks.
fn every_block() -> std::path::PathBuf {
    root().join("tests/fixtures/every-block")
}

/// A course with every kind of knowledge check.
fn quiz_course() -> std::path::PathBuf {
    root().join("tests/fixtures/quiz-course")
}

/// What Moodle keeps of each page: `pages` (name -> HTML) through
/// tests/moodle/page.php.
fn moodle_clean(pages: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let dir = tempfile::tempdir().unwrap();
    let mut names = Vec::new();
    for (i, (name, html)) in pages.iter().enumerate() {
        let file = format!("{i}.html");
        std::fs::write(dir.path().join(&file), html).unwrap();
        names.push((file, name.clone()));
    }
    let out = Command::new("php")
        .arg(root().join("tests/moodle/page.php"))
        .args(names.iter().map(|(f, _)| f))
        .current_dir(dir.path())
        .output()
        .expect("php is installed (Debian packages php-cli and php-htmlpurifier; tests/run.sh installs them)");
    assert!(
        out.status.success(),
        "tests/moodle/page.php failed (are php-cli and php-htmlpurifier installed?):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut cleaned: BTreeMap<String, String> = serde_json::from_slice(&out.stdout).unwrap();
    names
        .into_iter()
        .map(|(file, name)| (name, cleaned.remove(&file).unwrap()))
        .collect()
}

/// Decodes the character references HTML writers use.
fn decode(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(end) = rest.find(';').filter(|&e| e <= 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let name = &rest[1..end];
        let c = match name {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some('\u{a0}'),
            _ => name
                .strip_prefix("#x")
                .or_else(|| name.strip_prefix("#X"))
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| name.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match c {
            Some(c) => {
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

/// The body of an HTML document (the whole text when it has none).
fn body(html: &str) -> &str {
    let start = html
        .find("<body")
        .and_then(|i| html[i..].find('>').map(|j| i + j + 1))
        .unwrap_or(0);
    let end = html.rfind("</body>").unwrap_or(html.len());
    &html[start..end]
}

/// The text a reader sees: tags dropped (all but inline ones separate
/// words), references decoded, white space collapsed.
fn visible_text(html: &str) -> String {
    const INLINE: &[&str] = &["a", "strong", "em", "b", "i", "span", "code", "del", "s"];
    let mut text = String::new();
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        text.push_str(&rest[..i]);
        let (tag, after) = rest[i + 1..]
            .split_once('>')
            .unwrap_or((&rest[i + 1..], ""));
        let name = tag
            .trim_start_matches('/')
            .split([' ', '/'])
            .next()
            .unwrap_or_default();
        if !INLINE.contains(&name.to_ascii_lowercase().as_str()) {
            text.push(' ');
        }
        rest = after;
    }
    text.push_str(rest);
    decode(&text)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Every `href` and `src` value in some HTML.
fn links(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for tag in html.split('<').skip(1) {
        let tag = tag.split('>').next().unwrap_or_default();
        for attr in [" href=", " src="] {
            let mut from = tag;
            while let Some(i) = from.find(attr) {
                let value = &from[i + attr.len()..];
                let quote = value.chars().next().unwrap_or(' ');
                let v = if quote == '"' || quote == '\'' {
                    value[1..].split(quote).next().unwrap_or_default()
                } else {
                    value.split_whitespace().next().unwrap_or_default()
                };
                out.push(decode(v));
                from = &value[1..];
            }
        }
    }
    out
}

/// `%XX` escapes decoded, as a file name in the zip.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match s.get(i + 1..i + 3).map(|h| u8::from_str_radix(h, 16)) {
            Some(Ok(b)) if bytes[i] == b'%' => {
                out.push(b);
                i += 3;
            }
            _ => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap()
}

/// Texts that only make sense with the runtime, form controls or links
/// between the pages (lower case).
const INTERACTIVE_TEXTS: &[&str] = &[
    "not done yet",
    "steps to complete",
    "to complete this session",
    "saved as you type",
    "your answer is saved",
    "i have watched",
    "i have read",
    "i have listened",
    "i have done",
    "mark as done",
    "course overview",
    "next:",
    "previous:",
    "skip to content",
];

/// One HTML web content file of a cartridge, with what Moodle keeps of it.
struct Page<'a> {
    name: &'a str,
    original: &'a str,
    cleaned: &'a str,
}

/// What is wrong with a page once Moodle has cleaned it; `allowed` are the
/// files its resource and its dependencies carry into the LMS.
fn problems(
    page: &Page,
    allowed: &BTreeSet<String>,
    zip: &BTreeMap<String, Vec<u8>>,
) -> Vec<String> {
    let mut found = Vec::new();
    let original = body(page.original);
    for tag in [
        "<script",
        "<input",
        "<textarea",
        "<select",
        "<button",
        "<form",
        "<label",
    ] {
        if original.contains(tag) || page.cleaned.contains(tag) {
            found.push(format!("has a {tag}> element, which Moodle strips"));
        }
    }
    // Shown only with the stylesheet, which Moodle drops.
    for hidden in [
        "cp-visually-hidden",
        "cp-skip",
        " hidden",
        "display:none",
        "display: none",
    ] {
        if original.contains(hidden) {
            found.push(format!(
                "depends on the stylesheet to hide something ({hidden})"
            ));
        }
    }
    // Nothing a reader could read is lost in cleaning.
    let before = visible_text(original);
    let after = visible_text(page.cleaned);
    if before != after {
        found.push(format!(
            "cleaning changes the text:\n  before: {before}\n  after:  {after}"
        ));
    }
    let lower = after.to_lowercase();
    for text in INTERACTIVE_TEXTS {
        if lower.contains(text) {
            found.push(format!(
                "says {text:?}, which needs the runtime or a link between pages"
            ));
        }
    }
    // A block's tracking status, alone in its element.
    for status in ["Required", "Optional", "Done", "Not done"] {
        if page.cleaned.contains(&format!(">{status}<")) {
            found.push(format!(
                "says {status:?} about a block, which nothing tracks"
            ));
        }
    }
    for link in links(original).into_iter().chain(links(page.cleaned)) {
        let scheme = link.split_once(':').map(|(s, _)| s).filter(|s| {
            s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
        });
        match scheme {
            Some("http" | "https" | "mailto") => {}
            Some(other) => found.push(format!("links to {link} ({other}: is not followed)")),
            None => {
                let path = percent_decode(link.split(['#', '?']).next().unwrap_or_default());
                if path.is_empty() {
                    found.push(format!(
                        "links to {link} within the page (ids are stripped)"
                    ));
                } else if path.ends_with(".html") || path.ends_with(".htm") {
                    found.push(format!(
                        "links to the page {link}, which an importer cannot follow"
                    ));
                } else if !zip.contains_key(&path) {
                    found.push(format!("links to {link}, which is not in the cartridge"));
                } else if !allowed.contains(&path) {
                    found.push(format!("links to {link}, which its resource does not list"));
                }
            }
        }
    }
    found
}

/// Markdown as the reader sees it, for the simple Markdown of the courses
/// tested: links keep their text, images and emphasis marks go.
fn plain(markdown: &str) -> String {
    let mut out = String::new();
    let mut rest = markdown;
    while let Some(i) = rest.find("](") {
        let close = rest[i..].find(')').map_or(rest.len(), |j| i + j + 1);
        let open = rest[..i].rfind('[').unwrap_or(i);
        let start = if rest[..open].ends_with('!') {
            open - 1
        } else {
            open
        };
        out.push_str(&rest[..start]);
        if start == open {
            out.push_str(&rest[open + 1..i]);
        }
        rest = &rest[close..];
    }
    out.push_str(rest);
    out.replace("**", "")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// What each page must still say after cleaning, from course.toml:
/// page name -> texts.
fn expected_texts(course: &Path) -> BTreeMap<String, Vec<String>> {
    let text = std::fs::read_to_string(course.join("course.toml")).unwrap();
    let doc: toml::Table = toml::from_str(&text).unwrap();
    let str_of = |t: &toml::Value, key: &str| t.get(key).and_then(|v| v.as_str()).map(plain);
    let blocks = |list: Option<&toml::Value>, topics: bool| {
        let mut texts = Vec::new();
        for b in list.and_then(|v| v.as_array()).into_iter().flatten() {
            texts.extend(
                ["title", "body", "question"]
                    .iter()
                    .filter_map(|k| str_of(b, k)),
            );
            if topics && b["type"].as_str() == Some("reflection") {
                let topic = str_of(b, "title")
                    .or_else(|| str_of(b, "question"))
                    .unwrap();
                texts.push(format!(
                    "Share your answer in the discussion “{topic}” in this session."
                ));
            }
            // Each knowledge check is a quiz of its own in the cartridge.
            if topics && b["type"].as_str() == Some("quiz") && b.get("questions").is_some() {
                let title = str_of(b, "title").unwrap_or_else(|| "Knowledge check".into());
                texts.push(format!("Answer the quiz “{title}” in this session."));
            }
        }
        texts
    };
    let course_table = &doc["course"];
    let mut overview: Vec<String> = ["title", "summary"]
        .iter()
        .filter_map(|k| str_of(course_table, k))
        .collect();
    for goal in course_table
        .get("goals")
        .and_then(|g| g.as_array())
        .into_iter()
        .flatten()
    {
        overview.push(plain(goal.as_str().unwrap()));
    }
    overview.extend(blocks(doc.get("before"), false));
    overview.extend(blocks(doc.get("after"), false));
    let mut pages = BTreeMap::new();
    for s in doc["session"].as_array().unwrap() {
        let mut texts = vec![str_of(s, "title").unwrap()];
        overview.push(texts[0].clone());
        texts.extend(str_of(s, "intro"));
        for goal in s
            .get("goals")
            .and_then(|g| g.as_array())
            .into_iter()
            .flatten()
        {
            texts.push(plain(goal.as_str().unwrap()));
        }
        texts.extend(blocks(s.get("block"), true));
        pages.insert(format!("{}.html", s["id"].as_str().unwrap()), texts);
    }
    pages.insert("index.html".into(), overview);
    pages
}

/// Every HTML web content file of a cartridge with the files its resource
/// and dependencies carry.
fn html_pages(res: &Resources) -> BTreeMap<String, BTreeSet<String>> {
    let mut pages = BTreeMap::new();
    for (kind, href, files, deps) in res.values() {
        let Some(href) = href.as_ref().filter(|h| h.ends_with(".html")) else {
            continue;
        };
        assert_eq!(kind, "webcontent");
        let mut allowed: BTreeSet<String> = files.iter().cloned().collect();
        for d in deps {
            allowed.extend(res[d].2.iter().cloned());
        }
        pages.insert(href.clone(), allowed);
    }
    pages
}

/// Checks every page of the cartridges in `out`; returns how many pages.
fn check_cartridges(out: &Path, course: &Path) -> usize {
    let expected = expected_texts(course);
    let mut checked = 0;
    for v in VERSIONS {
        let zip = check_common(&cartridge(out, v), v);
        let manifest = &zip["imsmanifest.xml"];
        let res = resources(manifest);
        let pages = html_pages(&res);
        let originals: BTreeMap<String, String> = pages
            .keys()
            .map(|p| (p.clone(), String::from_utf8(zip[p].clone()).unwrap()))
            .collect();
        let cleaned = moodle_clean(&originals);
        let mut report = Vec::new();
        for (name, allowed) in &pages {
            let page = Page {
                name,
                original: &originals[name],
                cleaned: &cleaned[name],
            };
            for p in problems(&page, allowed, &zip) {
                report.push(format!("{} {}: {p}", v.target, page.name));
            }
            let text = visible_text(page.cleaned);
            for t in expected.get(name.as_str()).into_iter().flatten() {
                if !text.contains(t.as_str()) {
                    report.push(format!("{} {name}: lost {t:?}", v.target));
                }
            }
            checked += 1;
        }
        assert!(report.is_empty(), "{}", report.join("\n"));
        // Each reflection's discussion and each knowledge check's quiz is
        // in the same session folder.
        let root = organisation(manifest);
        for folder in root.children.iter().filter(|f| f.idref.is_none()) {
            let titles: Vec<&str> = folder
                .children
                .iter()
                .map(|i: &Item| i.title.as_str())
                .collect();
            let page = folder.children[0]
                .idref
                .as_ref()
                .and_then(|r| res[r].1.clone());
            let Some(page) = page.filter(|p| p.ends_with(".html")) else {
                continue;
            };
            let text = visible_text(&cleaned[&page]);
            for sentence in text.split("Share your answer in the discussion “").skip(1) {
                let topic = sentence.split("” in this session.").next().unwrap();
                assert!(
                    titles.contains(&topic),
                    "{page}: no discussion {topic:?} in {titles:?}"
                );
            }
            for sentence in text.split("Answer the quiz “").skip(1) {
                let quiz = sentence.split("” in this session.").next().unwrap();
                assert!(
                    titles.contains(&quiz),
                    "{page}: no quiz {quiz:?} in {titles:?}"
                );
            }
        }
    }
    checked
}

#[test]
fn web_cartridge_pages_read_well_once_moodle_cleans_them() {
    let links = course_with_links();
    for course in [
        seed_course(),
        links.path().to_path_buf(),
        every_block(),
        quiz_course(),
    ] {
        let out = build_cc(&course, "web");
        let sessions = expected_texts(&course).len() - 1;
        // The overview and every session page, in both versions.
        assert_eq!(check_cartridges(out.path(), &course), 2 * (sessions + 1));
    }
}

#[test]
fn lti_cartridge_overview_reads_well_once_moodle_cleans_it() {
    for course in [seed_course(), every_block()] {
        let out = build_cc(&course, "lti");
        assert_eq!(
            check_cartridges(out.path(), &course),
            2,
            "the overview in both versions"
        );
        // Its logo rides along; the session pages stay with the tool.
        let zip = unzip(&cartridge(out.path(), VERSIONS[0]));
        assert!(
            !zip.keys()
                .any(|k| k.ends_with(".html") && k != "index.html")
        );
        if course == every_block() {
            assert!(zip.contains_key("media/logo.png"));
        }
        let lti = zip.keys().filter(|k| k.starts_with("lti/")).count();
        assert!(lti > 0, "{TOOL}: LTI links are there");
    }
}

/// The checks above find what is wrong with the pages SCORM ships, so they
/// would have failed on cartridges made of them.
#[test]
fn the_interactive_pages_would_not_pass() {
    let course = every_block();
    let (out, _) = build(&course, "scorm12");
    let zip_path = std::fs::read_dir(out.path())
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let zip = unzip(&zip_path);
    let names = ["index.html", "first.html", "second.html"];
    let originals: BTreeMap<String, String> = names
        .iter()
        .map(|n| (n.to_string(), String::from_utf8(zip[*n].clone()).unwrap()))
        .collect();
    let cleaned = moodle_clean(&originals);
    let allowed: BTreeSet<String> = zip.keys().cloned().collect();
    for name in names {
        let page = Page {
            name,
            original: &originals[name],
            cleaned: &cleaned[name],
        };
        let found = problems(&page, &allowed, &zip).join("\n");
        // The overview links to the sessions; the sessions link back to it.
        let link = if name == "index.html" {
            "the page first.html"
        } else {
            "the page index.html"
        };
        for expected in [link, "skip to content"] {
            assert!(found.contains(expected), "{name}: {found}");
        }
        if name == "first.html" {
            for expected in [
                "<input>",
                "<textarea>",
                "<script>",
                "cp-visually-hidden",
                "\"Required\"",
                "\"i have watched\"",
                "\"saved as you type\"",
                "\"steps to complete\"",
                "first.html",
            ] {
                assert!(found.contains(expected), "{name} lacks {expected}: {found}");
            }
        }
    }
    // Moodle's cleaning removes the controls but leaves their labels.
    let first = visible_text(&cleaned["first.html"]);
    assert!(first.contains("I have watched this video"), "{first}");
    assert!(!cleaned["first.html"].contains("<input"));
}
