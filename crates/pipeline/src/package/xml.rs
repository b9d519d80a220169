//! A small, indenting XML writer over quick-xml for the manifests. Writing
//! to memory cannot fail, so callers get a plain API.
//!
//! It is the one place XML text is written, so it is where the output is
//! kept well-formed: characters XML 1.0 cannot carry (control characters
//! other than tab, newline and carriage return, and U+FFFE/U+FFFF) and
//! those it discourages (DEL, C1 controls) are dropped from text and
//! attribute values. Course text holding them is
//! refused when the course is loaded; this catches what Markdown makes of
//! character references such as `&#27;`.

use std::borrow::Cow;

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

pub struct Xml {
    writer: Writer<Vec<u8>>,
}

impl Default for Xml {
    fn default() -> Self {
        Self::new()
    }
}

impl Xml {
    /// A document with the UTF-8 XML declaration.
    pub fn new() -> Self {
        let mut writer = Writer::new_with_indent(Vec::new(), b' ', 2);
        writer
            .write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))
            .expect("writing to memory");
        Xml { writer }
    }

    pub fn start(&mut self, name: &str, attrs: &[(&str, &str)]) -> &mut Self {
        let el = element(name, attrs);
        self.writer
            .write_event(Event::Start(el))
            .expect("writing to memory");
        self
    }

    pub fn end(&mut self, name: &str) -> &mut Self {
        self.writer
            .write_event(Event::End(BytesEnd::new(name)))
            .expect("writing to memory");
        self
    }

    /// `<name attrs>text</name>`, the text escaped.
    pub fn leaf(&mut self, name: &str, attrs: &[(&str, &str)], text: &str) -> &mut Self {
        self.start(name, attrs);
        self.writer
            .write_event(Event::Text(BytesText::new(&xml_text(text))))
            .expect("writing to memory");
        self.end(name)
    }

    /// `<name attrs/>`
    pub fn empty(&mut self, name: &str, attrs: &[(&str, &str)]) -> &mut Self {
        let el = element(name, attrs);
        self.writer
            .write_event(Event::Empty(el))
            .expect("writing to memory");
        self
    }

    pub fn finish(self) -> Vec<u8> {
        let mut bytes = self.writer.into_inner();
        bytes.push(b'\n');
        bytes
    }
}

fn element<'a>(name: &'a str, attrs: &[(&str, &'a str)]) -> BytesStart<'a> {
    let mut el = BytesStart::new(name);
    for (k, v) in attrs {
        el.push_attribute((*k, xml_text(v).as_ref()));
    }
    el
}

/// Whether XML 1.0 can carry `c` (its `Char` production), leaving out
/// DEL and the C1 controls too, which it discourages and some LMS parsers
/// refuse.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{7e}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
}

/// `text` without the characters XML 1.0 cannot carry.
pub fn xml_text(text: &str) -> Cow<'_, str> {
    if text.chars().all(is_xml_char) {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(text.chars().filter(|&c| is_xml_char(c)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_text_and_attributes() {
        let mut x = Xml::new();
        x.start("a", &[("t", "x\"<y")])
            .leaf("b", &[], "1 < 2 & 3")
            .end("a");
        let s = String::from_utf8(x.finish()).unwrap();
        assert_eq!(
            s,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<a t=\"x&quot;&lt;y\">\n  <b>1 &lt; 2 &amp; 3</b>\n</a>\n"
        );
    }

    #[test]
    fn characters_xml_cannot_carry_are_dropped() {
        let mut x = Xml::new();
        x.start("a", &[("t", "x\u{1}y\u{ffff}")])
            .leaf("b", &[], "1\u{0}2\u{1b}[31m\u{7f}\u{fffe}\t3")
            .end("a");
        let s = String::from_utf8(x.finish()).unwrap();
        assert!(s.contains("<a t=\"xy\">"), "{s}");
        assert!(s.contains("<b>12[31m\t3</b>"), "{s}");
        let mut reader = quick_xml::Reader::from_str(&s);
        while reader.read_event().unwrap() != quick_xml::events::Event::Eof {}
    }
}
