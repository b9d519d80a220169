//! A small, indenting XML writer over quick-xml for the manifests. Writing
//! to memory cannot fail, so callers get a plain API.

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
        let el = BytesStart::new(name).with_attributes(attrs.iter().copied());
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
            .write_event(Event::Text(BytesText::new(text)))
            .expect("writing to memory");
        self.end(name)
    }

    /// `<name attrs/>`
    pub fn empty(&mut self, name: &str, attrs: &[(&str, &str)]) -> &mut Self {
        let el = BytesStart::new(name).with_attributes(attrs.iter().copied());
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
}
