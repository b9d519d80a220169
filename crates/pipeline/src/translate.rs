//! Translating the course text: the translatable fields of course.toml
//! ([`visit`]), and the XLIFF 1.2 files that carry their translations
//! ([`read`], [`write`]), one per language in `translations/<lang>.xlf`.
//!
//! A unit's id is built from the course's own ids and the field's path
//! (`session.<id>.title`, `block.<id>.body`, `block.<id>.q.<question>.prompt`),
//! so it stays the same however the file is reordered. Each unit keeps a
//! hash of the source it was extracted from (`source-hash: …` in a
//! developer note, which translate-toolkit carries through PO and back):
//! when the course's text changes, the translation is stale and the build
//! shows the source instead. Markdown is carried as text; ids, paths and
//! addresses are never extracted.

use std::ops::Range;

use quick_xml::Reader;
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use toml::Spanned;

use crate::config::{BlockTable, CourseFile as RawCourse};

/// The folder of a course's translation files.
pub const DIR: &str = "translations";

/// Where the translation into `lang` lives, inside the course folder.
pub fn file_for(lang: &str) -> String {
    format!("{DIR}/{lang}.xlf")
}

/// One translatable field of course.toml.
pub struct Unit<'a> {
    /// Stable: from the course's ids and the field's path.
    pub id: String,
    /// Where it appears, for people: "session `x`, block `y`, body".
    pub place: String,
    /// The session it belongs to, when it belongs to one.
    pub session: Option<String>,
    pub text: &'a mut Spanned<String>,
}

/// Calls `f` with every translatable field of the course, in file order.
pub fn visit(raw: &mut RawCourse, f: &mut dyn FnMut(Unit<'_>)) {
    let mut unit =
        |id: String, place: String, session: Option<&str>, text: &mut Spanned<String>| {
            f(Unit {
                id,
                place,
                session: session.map(str::to_string),
                text,
            })
        };
    let c = &mut raw.course;
    unit(
        "course.title".into(),
        "course title".into(),
        None,
        &mut c.title,
    );
    if let Some(s) = &mut c.summary {
        unit("course.summary".into(), "course summary".into(), None, s);
    }
    for (i, g) in c.goals.iter_mut().enumerate() {
        let n = i + 1;
        unit(
            format!("course.goals.{n}"),
            format!("course goal {n}"),
            None,
            g,
        );
    }
    for (i, p) in raw.people.iter_mut().enumerate() {
        let n = i + 1;
        let who = p.name.get_ref().clone();
        if let Some(r) = &mut p.role {
            unit(
                format!("people.{n}.role"),
                format!("role of {who}"),
                None,
                r,
            );
        }
        if let Some(b) = &mut p.bio {
            unit(format!("people.{n}.bio"), format!("bio of {who}"), None, b);
        }
    }
    for (i, p) in raw.partners.iter_mut().enumerate() {
        let n = i + 1;
        let who = p.name.get_ref().clone();
        if let Some(r) = &mut p.relation {
            unit(
                format!("partners.{n}.relation"),
                format!("relation of partner {who}"),
                None,
                r,
            );
        }
    }
    for (i, b) in raw.before.iter_mut().enumerate() {
        blocks(b, "before", i, "before the course", None, &mut unit);
    }
    for s in &mut raw.session {
        let sid = s.id.get_ref().clone();
        let at = format!("session `{sid}`");
        unit(
            format!("session.{sid}.title"),
            format!("{at}, title"),
            Some(&sid),
            &mut s.title,
        );
        if let Some(intro) = &mut s.intro {
            unit(
                format!("session.{sid}.intro"),
                format!("{at}, intro"),
                Some(&sid),
                intro,
            );
        }
        for (i, g) in s.goals.iter_mut().enumerate() {
            let n = i + 1;
            unit(
                format!("session.{sid}.goals.{n}"),
                format!("{at}, goal {n}"),
                Some(&sid),
                g,
            );
        }
        for (i, b) in s.block.iter_mut().enumerate() {
            blocks(b, &sid, i, &at, Some(&sid), &mut unit);
        }
    }
    for (i, b) in raw.after.iter_mut().enumerate() {
        blocks(b, "after", i, "after the course", None, &mut unit);
    }
}

type UnitFn<'f> = dyn FnMut(String, String, Option<&str>, &mut Spanned<String>) + 'f;

fn blocks(
    b: &mut BlockTable,
    scope: &str,
    index: usize,
    at: &str,
    session: Option<&str>,
    unit: &mut UnitFn<'_>,
) {
    // The id the loader gives it: its own, or `<scope>_text_<n>` for text.
    let bid = match &b.id {
        Some(id) => id.get_ref().clone(),
        None => format!("{scope}_text_{}", index + 1),
    };
    let at = format!("{at}, {} block `{bid}`", b.kind.get_ref());
    let transcript_is_file = b.transcript_is_file();
    let mut field = |name: &str, v: &mut Option<Spanned<String>>| {
        // An empty text (e.g. `alt = ""` of a decorative image) has nothing to translate.
        if let Some(v) = v.as_mut().filter(|v| !v.get_ref().is_empty()) {
            unit(
                format!("block.{bid}.{name}"),
                format!("{at}, {name}"),
                session,
                v,
            );
        }
    };
    field("title", &mut b.title);
    field("body", &mut b.body);
    field("question", &mut b.question);
    field("alt", &mut b.alt);
    field("caption", &mut b.caption);
    if !transcript_is_file {
        field("transcript", &mut b.transcript);
    }
    for q in &mut b.questions {
        let qid = q.id.get_ref().clone();
        let qat = format!("{at}, question `{qid}`");
        unit(
            format!("block.{bid}.q.{qid}.prompt"),
            format!("{qat}, prompt"),
            session,
            &mut q.prompt,
        );
        if let Some(e) = &mut q.explanation {
            unit(
                format!("block.{bid}.q.{qid}.explanation"),
                format!("{qat}, explanation"),
                session,
                e,
            );
        }
        for o in &mut q.options {
            let oid = o.id.get_ref().clone();
            unit(
                format!("block.{bid}.q.{qid}.option.{oid}.text"),
                format!("{qat}, option `{oid}`"),
                session,
                &mut o.text,
            );
            if let Some(fb) = &mut o.feedback {
                unit(
                    format!("block.{bid}.q.{qid}.option.{oid}.feedback"),
                    format!("{qat}, feedback of option `{oid}`"),
                    session,
                    fb,
                );
            }
        }
        for (i, a) in q.accept.iter_mut().enumerate() {
            let n = i + 1;
            unit(
                format!("block.{bid}.q.{qid}.accept.{n}"),
                format!("{qat}, accepted answer {n}"),
                session,
                a,
            );
        }
    }
}

/// The hash of a unit's source kept beside its translation: 64-bit FNV-1a
/// in hex. It detects a changed source; it is no protection against anyone.
pub fn hash(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// What a developer note says before the hash.
const HASH_NOTE: &str = "source-hash: ";

/// One `trans-unit` as read from a translation file.
#[derive(Debug, Clone, Default)]
pub struct Translation {
    /// Every name the unit goes by: its `id`, its `resname`, and the
    /// locations translators' tools keep (po2xliff numbers the units and
    /// keeps the original id as the `po-reference` location).
    pub names: Vec<String>,
    pub source: Option<String>,
    pub target: Option<String>,
    /// The target's `state`, exactly as written.
    pub state: Option<String>,
    /// The source hash found in its notes.
    pub hash: Option<String>,
    /// The whole `<trans-unit>` in the file, and its `<target>` text.
    pub span: Range<usize>,
    pub target_span: Option<Range<usize>>,
}

/// What a unit's translation is worth to a build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status<'a> {
    Translated(&'a str),
    /// No target, an empty one, or one whose state says it is not done.
    Missing,
    /// The source changed since it was translated, or a tool marked it for review.
    Stale,
}

impl Translation {
    pub fn status(&self, source: &str) -> Status<'_> {
        let Some(target) = self.target.as_deref().filter(|t| !t.trim().is_empty()) else {
            return Status::Missing;
        };
        match self.state.as_deref() {
            Some("new" | "needs-translation") => return Status::Missing,
            Some(s) if s.starts_with("needs-review") => return Status::Stale,
            _ => {}
        }
        if self.hash.as_deref() != Some(hash(source).as_str()) {
            return Status::Stale;
        }
        Status::Translated(target)
    }
}

/// Reads the units of an XLIFF 1.2 file (or 1.1, as po2xliff writes).
/// On malformed XML, the message and where.
pub fn read(text: &str) -> Result<Vec<Translation>, (String, Range<usize>)> {
    let mut reader = Reader::from_str(text);
    let mut units = Vec::new();
    let mut current: Option<Translation> = None;
    // The element whose text is being collected, and the text so far.
    let mut collecting: Option<(Vec<u8>, String, usize)> = None;
    let mut depth_in_collect = 0usize;
    let mut location = false;
    let mut context_type: Option<String> = None;
    // Inside an `<alt-trans>`: a tool's suggestion, not the translation.
    let mut alt_depth = 0usize;
    let mut unit_start = 0;
    loop {
        let before = reader.buffer_position() as usize;
        let event = reader.read_event().map_err(|e| {
            let at = reader.error_position() as usize;
            (format!("the file is not well-formed XML: {e}"), at..at + 1)
        })?;
        let after = reader.buffer_position() as usize;
        match event {
            Event::Eof => break,
            Event::Start(e) => {
                let name = e.local_name().as_ref().to_vec();
                if collecting.is_some() {
                    // Inline markup inside a target (<g>, <mrk>): its text counts.
                    depth_in_collect += 1;
                    continue;
                }
                if name == b"alt-trans" || alt_depth > 0 {
                    alt_depth += 1;
                    continue;
                }
                match name.as_slice() {
                    b"trans-unit" => {
                        unit_start = before;
                        let mut t = Translation::default();
                        for key in [b"id".as_slice(), b"resname"] {
                            if let Some(v) = attr(&e, key) {
                                t.names.push(v);
                            }
                        }
                        current = Some(t);
                    }
                    b"source" | b"target" | b"note" if current.is_some() => {
                        if name == b"target"
                            && let Some(t) = &mut current
                        {
                            t.state = attr(&e, b"state");
                        }
                        collecting = Some((name, String::new(), after));
                    }
                    b"context-group" => {
                        location = attr(&e, b"purpose").as_deref() == Some("location");
                    }
                    b"context" if current.is_some() => {
                        context_type = attr(&e, b"context-type");
                        collecting = Some((name, String::new(), after));
                    }
                    _ => {}
                }
            }
            Event::Empty(e) => {
                if alt_depth == 0
                    && collecting.is_none()
                    && e.local_name().as_ref() == b"target"
                    && let Some(t) = &mut current
                {
                    t.state = attr(&e, b"state");
                    t.target = Some(String::new());
                }
            }
            Event::Text(e) => {
                if let Some((_, s, _)) = &mut collecting {
                    s.push_str(&e.xml_content().unwrap_or_default());
                }
            }
            Event::CData(e) => {
                if let Some((_, s, _)) = &mut collecting {
                    s.push_str(&String::from_utf8_lossy(&e.into_inner()));
                }
            }
            Event::GeneralRef(e) => {
                if let Some((_, s, _)) = &mut collecting {
                    match e.resolve_char_ref() {
                        Ok(Some(c)) => s.push(c),
                        _ => match e.decode().unwrap_or_default().as_ref() {
                            "amp" => s.push('&'),
                            "lt" => s.push('<'),
                            "gt" => s.push('>'),
                            "quot" => s.push('"'),
                            "apos" => s.push('\''),
                            other => {
                                return Err((format!("unknown entity `&{other};`"), before..after));
                            }
                        },
                    }
                }
            }
            Event::End(e) => {
                let name = e.local_name().as_ref().to_vec();
                if collecting.is_some() && depth_in_collect > 0 {
                    depth_in_collect -= 1;
                    continue;
                }
                if alt_depth > 0 {
                    alt_depth -= 1;
                    continue;
                }
                if let Some((open, s, start)) = collecting.take_if(|(n, _, _)| *n == name) {
                    let Some(t) = &mut current else { continue };
                    match open.as_slice() {
                        b"source" => t.source = Some(s),
                        b"target" => {
                            t.target = Some(s);
                            t.target_span = Some(start..before);
                        }
                        b"note" => {
                            if let Some(at) = s.find(HASH_NOTE) {
                                let h: String = s[at + HASH_NOTE.len()..]
                                    .chars()
                                    .take_while(char::is_ascii_hexdigit)
                                    .collect();
                                t.hash = Some(h);
                            }
                        }
                        _ => {
                            // A context: the unit's original id, when a
                            // location; a hash, wherever a tool put the note.
                            if location && context_type.as_deref() == Some("sourcefile") {
                                t.names.push(s.trim().to_string());
                            } else if let Some(at) = s.find(HASH_NOTE) {
                                let h: String = s[at + HASH_NOTE.len()..]
                                    .chars()
                                    .take_while(char::is_ascii_hexdigit)
                                    .collect();
                                t.hash.get_or_insert(h);
                            }
                        }
                    }
                } else if name == b"trans-unit"
                    && let Some(mut t) = current.take()
                {
                    t.span = unit_start..after;
                    units.push(t);
                } else if name == b"context-group" {
                    location = false;
                }
            }
            _ => {}
        }
    }
    Ok(units)
}

fn attr(e: &BytesStart<'_>, key: &[u8]) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == key)
        .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
}

/// One unit as written.
#[derive(Debug, Clone)]
pub struct OutUnit {
    pub id: String,
    pub source: String,
    /// Where it appears, for the translator.
    pub note: String,
    pub hash: String,
    /// The translation and its `state`, kept as found.
    pub target: Option<(String, Option<String>)>,
}

/// An XLIFF 1.2 file of `units`: one `<file>` whose `original` is the
/// course's course.toml, `xml:space="preserve"` on every unit (Markdown's
/// line breaks matter).
pub fn write(source_lang: &str, target_lang: &str, units: &[OutUnit]) -> String {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    let ok = |r: std::io::Result<()>| r.expect("writing to memory cannot fail");
    ok(w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None))));
    let xliff = BytesStart::new("xliff").with_attributes([
        ("version", "1.2"),
        ("xmlns", "urn:oasis:names:tc:xliff:document:1.2"),
    ]);
    ok(w.write_event(Event::Start(xliff)));
    let file = BytesStart::new("file").with_attributes([
        ("original", "course.toml"),
        ("source-language", source_lang),
        ("target-language", target_lang),
        ("datatype", "plaintext"),
    ]);
    ok(w.write_event(Event::Start(file)));
    ok(w.write_event(Event::Start(BytesStart::new("header"))));
    ok(
        w.write_event(Event::Empty(BytesStart::new("tool").with_attributes([
            ("tool-id", "coursepack"),
            ("tool-name", "coursepack"),
        ]))),
    );
    ok(w.write_event(Event::End(BytesEnd::new("header"))));
    ok(w.write_event(Event::Start(BytesStart::new("body"))));
    for u in units {
        let unit = BytesStart::new("trans-unit").with_attributes([
            ("id", u.id.as_str()),
            ("resname", u.id.as_str()),
            ("xml:space", "preserve"),
        ]);
        ok(w.write_event(Event::Start(unit)));
        leaf(&mut w, BytesStart::new("source"), &u.source);
        if let Some((target, state)) = &u.target {
            let mut t = BytesStart::new("target");
            if let Some(state) = state {
                t.push_attribute(("state", state.as_str()));
            }
            leaf(&mut w, t, target);
        }
        let from = [("from", "developer")];
        leaf(
            &mut w,
            BytesStart::new("note").with_attributes(from),
            &u.note,
        );
        leaf(
            &mut w,
            BytesStart::new("note").with_attributes(from),
            &format!("{HASH_NOTE}{}", u.hash),
        );
        ok(w.write_event(Event::End(BytesEnd::new("trans-unit"))));
    }
    ok(w.write_event(Event::End(BytesEnd::new("body"))));
    ok(w.write_event(Event::End(BytesEnd::new("file"))));
    ok(w.write_event(Event::End(BytesEnd::new("xliff"))));
    let mut out = String::from_utf8(w.into_inner()).expect("the writer writes UTF-8");
    out.push('\n');
    out
}

/// `<name attrs>text</name>`, the text escaped (and stripped of characters
/// XML cannot carry).
fn leaf(w: &mut Writer<Vec<u8>>, start: BytesStart<'_>, text: &str) {
    let name = String::from_utf8_lossy(start.name().as_ref()).into_owned();
    let clean: String = text
        .chars()
        .filter(|&c| {
            let n = c as u32;
            !((n < 0x20 && !matches!(c, '\t' | '\n' | '\r')) || n == 0xfffe || n == 0xffff)
        })
        .collect();
    let r = w
        .write_event(Event::Start(start))
        .and_then(|_| w.write_event(Event::Text(BytesText::new(&clean))))
        .and_then(|_| w.write_event(Event::End(BytesEnd::new(name))));
    r.expect("writing to memory cannot fail");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(id: &str, source: &str, target: Option<(&str, Option<&str>)>) -> OutUnit {
        OutUnit {
            id: id.into(),
            source: source.into(),
            note: format!("course.toml:1:1: {id}"),
            hash: hash(source),
            target: target.map(|(t, s)| (t.into(), s.map(str::to_string))),
        }
    }

    #[test]
    fn written_and_read_back() {
        let units = [
            unit(
                "course.title",
                "Care & <feedback>\n\n**bold**  two spaces",
                None,
            ),
            unit(
                "session.s1.title",
                "Session one",
                Some(("Sesiwn un", Some("signed-off"))),
            ),
        ];
        let xml = write("en-GB", "cy", &units);
        let read = read(&xml).unwrap();
        assert_eq!(read.len(), 2);
        assert_eq!(read[0].names[0], "course.title");
        assert_eq!(read[0].source.as_deref(), Some(units[0].source.as_str()));
        assert_eq!(read[0].target, None);
        assert_eq!(read[0].status(&units[0].source), Status::Missing);
        assert_eq!(read[1].state.as_deref(), Some("signed-off"));
        assert_eq!(
            read[1].status("Session one"),
            Status::Translated("Sesiwn un")
        );
        assert_eq!(read[1].status("Session 1"), Status::Stale);
        assert_eq!(xml, write("en-GB", "cy", &units), "deterministic");
    }

    #[test]
    fn states_that_are_not_a_translation() {
        let mut t = Translation {
            target: Some("Hen".into()),
            hash: Some(hash("Old")),
            ..Translation::default()
        };
        assert_eq!(t.status("Old"), Status::Translated("Hen"));
        t.state = Some("needs-translation".into());
        assert_eq!(t.status("Old"), Status::Missing);
        t.state = Some("needs-review-translation".into());
        assert_eq!(t.status("Old"), Status::Stale);
        t.state = Some("final".into());
        t.target = Some("  ".into());
        assert_eq!(t.status("Old"), Status::Missing);
    }

    #[test]
    fn units_numbered_by_a_tool_are_found_by_their_location() {
        // As po2xliff writes a PO file back: XLIFF 1.1, numbered units, the
        // original id as the location and the notes merged into one.
        let xml = format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<xliff xmlns="urn:oasis:names:tc:xliff:document:1.1" version="1.1">
  <file original="cy.po" source-language="en-US" datatype="po">
    <body>
      <trans-unit xml:space="preserve" id="3" approved="yes"><source>Line one &amp;
two</source>
        <target state="translated">Llinell &#x41;<g id="1">un</g></target>
        <alt-trans origin="tm"><source>Line one</source><target>Awgrym</target></alt-trans>
        <context-group name="po-reference" purpose="location"><context context-type="sourcefile">session.s1.intro</context></context-group>
        <note from="developer">course.toml:9:9: session `s1`, intro
source-hash: {}</note>
      </trans-unit>
    </body>
  </file>
</xliff>"#,
            hash("Line one &\ntwo")
        );
        let units = read(&xml).unwrap();
        assert_eq!(units.len(), 1);
        let u = &units[0];
        assert_eq!(u.names, ["3", "session.s1.intro"]);
        assert_eq!(u.source.as_deref(), Some("Line one &\ntwo"));
        assert_eq!(
            u.status("Line one &\ntwo"),
            Status::Translated("Llinell Aun")
        );
    }

    #[test]
    fn malformed_files_say_where() {
        let (msg, at) = read("<xliff><file><body><trans-unit id='a'></file>").unwrap_err();
        assert!(msg.contains("not well-formed"), "{msg}");
        assert!(at.start > 0);
    }
}
