//! Markdown to HTML for text written in `course.toml`. Raw HTML in the
//! Markdown is shown as text, never injected, and only web, mail and
//! relative links survive.

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, html};

/// Renders Markdown safely.
pub fn render(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let events = Parser::new_ext(markdown, options).map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Link {
            link_type,
            dest_url: safe_url(dest_url),
            title,
            id,
        }),
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Image {
            link_type,
            dest_url: safe_url(dest_url),
            title,
            id,
        }),
        other => other,
    });
    let mut out = String::new();
    html::push_html(&mut out, events);
    out
}

/// Renders one line of Markdown without the surrounding paragraph.
pub fn render_inline(markdown: &str) -> String {
    let html = render(markdown);
    let trimmed = html.trim_end();
    match trimmed
        .strip_prefix("<p>")
        .and_then(|s| s.strip_suffix("</p>"))
    {
        Some(inner) if !inner.contains("<p>") => inner.to_string(),
        _ => html,
    }
}

/// The text of some Markdown without its markup, for plain-text fields
/// such as a manifest's description: paragraphs and list items become
/// lines, images keep their alt text.
pub fn to_plain(markdown: &str) -> String {
    use pulldown_cmark::TagEnd;
    let mut out = String::new();
    for event in Parser::new_ext(markdown, Options::ENABLE_TABLES) {
        match event {
            Event::Text(t) | Event::Code(t) | Event::Html(t) | Event::InlineHtml(t) => {
                out.push_str(&t)
            }
            Event::SoftBreak | Event::HardBreak => out.push(' '),
            Event::End(TagEnd::Paragraph | TagEnd::Item | TagEnd::Heading(_)) => out.push('\n'),
            _ => {}
        }
    }
    out.trim().to_string()
}

fn safe_url(url: CowStr<'_>) -> CowStr<'_> {
    let lower = url.trim().to_ascii_lowercase();
    let scheme = lower.split_once(':').map(|(s, _)| s);
    match scheme {
        None => url,
        Some(s) if s.contains('/') || s.contains('#') || s.contains('?') => url,
        Some("http" | "https" | "mailto") => url,
        Some(_) => CowStr::Borrowed("#"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_html_is_escaped() {
        let out = render("Hello <script>alert(1)</script> *you*");
        assert!(!out.contains("<script>"), "{out}");
        assert!(out.contains("&lt;script&gt;"));
        assert!(out.contains("<em>you</em>"));
    }

    #[test]
    fn unsafe_links_are_dropped() {
        assert!(render("[x](javascript:alert(1))").contains("href=\"#\""));
        assert!(render("[x](https://example.org/a)").contains("href=\"https://example.org/a\""));
        assert!(render("[x](page.html#top)").contains("href=\"page.html#top\""));
    }

    #[test]
    fn plain_text_drops_markup() {
        assert_eq!(
            to_plain("A *short* course.\n\n![Logo](m/l.png) and [a link](https://x.org)"),
            "A short course.\nLogo and a link"
        );
    }

    #[test]
    fn inline_strips_paragraph() {
        assert_eq!(render_inline("a *b*"), "a <em>b</em>");
    }
}
