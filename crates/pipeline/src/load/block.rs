//! Checks a `[[session.block]]` (or `[[before]]`, `[[after]]`) table and
//! builds its [`Block`]: which keys its type takes, its id, and what each
//! type needs. Quiz blocks go on to [`quiz`](super::quiz).

use std::ops::Range;

use toml::Spanned;

use super::Checker;
use crate::config::BlockTable;
use crate::contract::DEFAULT_MAX_CHARS;
use crate::course_fs;
use crate::diagnostic::suggest;
use crate::model::{Block, BlockKind, ReadingKind, VideoSource};

/// Sound files an audio block plays.
const AUDIO_TYPES: &[&str] = &["mp3", "ogg", "m4a", "wav"];

impl Checker<'_> {
    /// The `file` an audio, image or download block must have.
    fn needed_file(
        &mut self,
        b: &BlockTable,
        id: &str,
        kind_name: &str,
        types: &[&str],
    ) -> Option<crate::model::CourseFile> {
        let Some(f) = &b.file else {
            let message = if id.contains('_') {
                format!("this {kind_name} block has no `file`")
            } else {
                format!("{kind_name} `{id}` has no `file`")
            };
            self.error(
                b.kind.span(),
                message,
                format!(
                    "add `file = \"media/...\"`, a {} file inside the course folder",
                    types
                        .iter()
                        .map(|e| format!(".{e}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
            return None;
        };
        self.file(f, types)
    }

    pub(super) fn block(&mut self, b: &BlockTable, scope: &str, index: usize) -> Option<Block> {
        let kind_name = b.kind.get_ref().as_str();
        const KINDS: [&str; 9] = [
            "text",
            "video",
            "audio",
            "image",
            "download",
            "reading",
            "activity",
            "reflection",
            "quiz",
        ];
        if !KINDS.contains(&kind_name) {
            let help = suggest(kind_name, &KINDS, "use one of");
            self.error(
                b.kind.span(),
                format!("unknown block type `{kind_name}`"),
                help,
            );
            return None;
        }
        let a = if kind_name.starts_with(['a', 'e', 'i', 'o', 'u']) {
            "an"
        } else {
            "a"
        };
        // Which keys each type takes; `type`, `id` and `title` go everywhere.
        let present: [(&str, Option<Range<usize>>); 16] = [
            ("alt", b.alt.as_ref().map(Spanned::span)),
            ("caption", b.caption.as_ref().map(Spanned::span)),
            ("questions", b.questions.first().map(|q| q.id.span())),
            ("draw", b.draw.as_ref().map(Spanned::span)),
            ("attempts", b.attempts.as_ref().map(Spanned::span)),
            ("shuffle", b.shuffle.as_ref().map(Spanned::span)),
            ("required", b.required.as_ref().map(Spanned::span)),
            ("body", b.body.as_ref().map(Spanned::span)),
            ("minutes", b.minutes.as_ref().map(Spanned::span)),
            ("file", b.file.as_ref().map(Spanned::span)),
            ("embed", b.embed.as_ref().map(Spanned::span)),
            ("captions", b.captions.as_ref().map(Spanned::span)),
            ("transcript", b.transcript.as_ref().map(Spanned::span)),
            ("kind", b.reading_kind.as_ref().map(Spanned::span)),
            ("url", b.url.as_ref().map(Spanned::span)),
            ("question", b.question.as_ref().map(Spanned::span)),
        ];
        let allowed: &[&str] = match kind_name {
            "text" => &["body"],
            "video" => &[
                "required",
                "body",
                "minutes",
                "file",
                "embed",
                "captions",
                "transcript",
            ],
            "audio" => &["required", "body", "minutes", "file", "transcript"],
            "image" => &["file", "alt", "caption"],
            "download" => &["required", "body", "file"],
            "reading" => &["required", "body", "kind", "url"],
            "activity" => &["required", "body", "url"],
            "quiz" => &[
                "required",
                "body",
                "questions",
                "draw",
                "attempts",
                "shuffle",
            ],
            _ => &["required", "question"],
        };
        for (key, span) in present {
            if let Some(span) = span
                && !allowed.contains(&key)
            {
                self.error(
                    span,
                    format!("`{key}` does not apply to {a} {kind_name} block"),
                    format!(
                        "{a} {kind_name} block takes {}",
                        allowed
                            .iter()
                            .map(|k| format!("`{k}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
            }
        }
        if let Some(m) = &b.max_chars
            && kind_name != "reflection"
        {
            self.error(
                m.span(),
                format!("`max_chars` does not apply to {a} {kind_name} block"),
                "only reflections take `max_chars`",
            );
        }

        let id = match &b.id {
            Some(id) => self.id(id, "block"),
            // `_` cannot appear in an id a course writes, so this never collides.
            None if kind_name == "text" => format!("{scope}_text_{}", index + 1),
            // Nor is an image tracked: it needs no stable id.
            None if kind_name == "image" => format!("{scope}_image_{}", index + 1),
            None => {
                self.error(b.kind.span(), format!("this {kind_name} block has no `id`"), "add a stable id, e.g. `id = \"why-patients-post\"`; the LMS keeps learners' progress by it");
                String::new()
            }
        };
        let title = b.title.as_ref().map(|t| t.get_ref().clone());
        let asked_required = b.required.as_ref().is_some_and(|r| *r.get_ref());
        let body = b.body.as_ref().map(|t| t.get_ref().clone());
        let url = b.url.as_ref().and_then(|u| self.url(u, false));
        // On the `type` text, not a tagged enum: toml's `Spanned` does not survive serde's internally tagged enums.
        let kind = match kind_name {
            "text" => {
                let Some(markdown) = body else {
                    self.error(
                        b.kind.span(),
                        "this text block has no `body`",
                        "add `body = \"...\"` with the Markdown text",
                    );
                    return None;
                };
                BlockKind::Text { markdown }
            }
            "video" => {
                let source = match (&b.file, &b.embed) {
                    (Some(_), Some(e)) => {
                        self.error(
                            e.span(),
                            "a video takes `file` or `embed`, not both",
                            "keep one of them",
                        );
                        VideoSource::Missing
                    }
                    (Some(f), None) => self
                        .file(f, &["mp4", "m4v", "webm"])
                        .map_or(VideoSource::Missing, VideoSource::File),
                    (None, Some(e)) => self.url(e, true).map_or(VideoSource::Missing, |u| {
                        VideoSource::Embed(super::values::embed_form(&u))
                    }),
                    (None, None) => {
                        let (message, help) = if asked_required {
                            (
                                format!(
                                    "video `{id}` has no source; the page shows its title and length only, and learners tick it as watched (`required = true`)"
                                ),
                                "add `file = \"media/....mp4\"` or `embed = \"https://...\"` when you have it",
                            )
                        } else {
                            (
                                format!(
                                    "video `{id}` has no source, so it is optional; the page shows its title and length only"
                                ),
                                "add `file = \"media/....mp4\"` or `embed = \"https://...\"` when you have it, or `required = true` to ask learners to tick it as watched",
                            )
                        };
                        self.warn(b.kind.span(), message, help);
                        VideoSource::Missing
                    }
                };
                let captions = b.captions.as_ref().and_then(|c| self.file(c, &["vtt"]));
                if let Some(c) = &captions {
                    // Only the first line matters; never read a whole file for it.
                    let ok = course_fs::read_prefix(self.root, &c.rel, 16)
                        .ok()
                        .is_some_and(|bytes| {
                            bytes
                                .strip_prefix(b"\xEF\xBB\xBF")
                                .unwrap_or(&bytes)
                                .starts_with(b"WEBVTT")
                        });
                    if !ok {
                        self.error(
                            b.captions.as_ref().unwrap().span(),
                            format!("`{}` is not a WebVTT file", c.rel),
                            "a WebVTT file starts with the line `WEBVTT`",
                        );
                    }
                }
                let transcript = b.transcript.as_ref().and_then(|t| self.transcript(t));
                if matches!(source, VideoSource::File(_))
                    && captions.is_none()
                    && transcript.is_none()
                {
                    self.warn(b.kind.span(), format!("video `{id}` has neither captions nor a transcript"), "add `captions = \"....vtt\"` or `transcript`, so deaf and hard-of-hearing learners can follow it");
                }
                BlockKind::Video {
                    minutes: b.minutes.as_ref().map(|m| *m.get_ref()),
                    source,
                    captions,
                    transcript,
                    body,
                }
            }
            "audio" => {
                let file = self.needed_file(b, &id, kind_name, AUDIO_TYPES)?;
                let transcript = b.transcript.as_ref().and_then(|t| self.transcript(t));
                if transcript.is_none() && b.transcript.is_none() {
                    self.warn(b.kind.span(), format!("audio `{id}` has no transcript"), "add `transcript` (Markdown text or a .md/.txt file), so deaf and hard-of-hearing learners can follow it");
                }
                BlockKind::Audio {
                    minutes: b.minutes.as_ref().map(|m| *m.get_ref()),
                    file,
                    transcript,
                    body,
                }
            }
            "image" => {
                let file = self.needed_file(b, &id, kind_name, super::files::IMAGE_TYPES)?;
                let Some(alt) = &b.alt else {
                    self.error(
                        b.kind.span(),
                        format!("image `{}` has no `alt` text", file.rel),
                        "say what the image shows for learners who cannot see it, e.g. `alt = \"Bar chart: replies rose from 20% to 60%\"`, or `alt = \"\"` when it is only decoration",
                    );
                    return None;
                };
                BlockKind::Image {
                    file,
                    alt: alt.get_ref().trim().to_string(),
                    caption: b.caption.as_ref().map(|c| c.get_ref().clone()),
                }
            }
            "download" => {
                if title.is_none() {
                    self.error(
                        b.kind.span(),
                        format!("download `{id}` has no `title`"),
                        "add `title = \"...\"`: the link's text, e.g. `title = \"Reflection worksheet\"`",
                    );
                }
                let file = self.needed_file(b, &id, kind_name, super::files::LINKED_TYPES)?;
                let bytes = std::fs::metadata(&file.path).map_or(0, |m| m.len());
                BlockKind::Download { file, bytes, body }
            }
            "reading" => {
                let kind = match &b.reading_kind {
                    None => ReadingKind::Article,
                    Some(k) => match ReadingKind::ALL.iter().find(|(n, _)| *n == k.get_ref()) {
                        Some((_, k)) => *k,
                        None => {
                            let names = ReadingKind::ALL.map(|(n, _)| n);
                            let help = suggest(k.get_ref(), &names, "use one of");
                            self.error(
                                k.span(),
                                format!("unknown reading kind `{}`", k.get_ref()),
                                help,
                            );
                            ReadingKind::Article
                        }
                    },
                };
                if title.is_none() {
                    self.error(
                        b.kind.span(),
                        format!("reading `{id}` has no `title`"),
                        "add `title = \"...\"`",
                    );
                }
                if b.url.is_none() {
                    let (message, help) = if asked_required {
                        (
                            format!(
                                "reading `{id}` has no url; the page says its source is not available, and learners tick it as read (`required = true`)"
                            ),
                            "add `url = \"https://...\"` when the address is known",
                        )
                    } else {
                        (
                            format!(
                                "reading `{id}` has no url, so it is optional; the page says its source is not available"
                            ),
                            "add `url = \"https://...\"` when the address is known, or `required = true` to ask learners to tick it as read",
                        )
                    };
                    self.warn(b.kind.span(), message, help);
                }
                BlockKind::Reading {
                    kind,
                    url: url.clone(),
                    body,
                }
            }
            "activity" => {
                let Some(body) = body else {
                    self.error(
                        b.kind.span(),
                        format!("activity `{id}` has no `body`"),
                        "add `body = \"...\"` with the instruction",
                    );
                    return None;
                };
                BlockKind::Activity { body, url }
            }
            "quiz" => BlockKind::Quiz(self.quiz(b, &id, body)),
            _ => {
                let Some(question) = b.question.as_ref().map(|q| q.get_ref().clone()) else {
                    self.error(
                        b.kind.span(),
                        format!("reflection `{id}` has no `question`"),
                        "add `question = \"...\"`",
                    );
                    return None;
                };
                let max_chars = self.ranged(
                    b.max_chars.as_ref(),
                    "max_chars",
                    1..=20_000,
                    DEFAULT_MAX_CHARS,
                );
                BlockKind::Reflection {
                    question,
                    max_chars,
                }
            }
        };
        let required = match &b.required {
            // On a text block, `required` is reported with the keys a text
            // block does not take.
            Some(r) => *r.get_ref() && kind_name != "text",
            // Required by default, unless the course gives nothing to open: a
            // reading with no address, a video with no source.
            None => match kind {
                BlockKind::Video { .. } => b.file.is_some() || b.embed.is_some(),
                BlockKind::Reading { .. } => b.url.is_some(),
                BlockKind::Reflection { .. } | BlockKind::Quiz(_) => true,
                _ => false,
            },
        };
        let mut images = Vec::new();
        if let Some(body) = &b.body {
            images.extend(self.markdown(body.get_ref(), body.span()));
        }
        if let (Some(caption), BlockKind::Image { .. }) = (&b.caption, &kind) {
            images.extend(self.markdown(caption.get_ref(), caption.span()));
        }
        if let (
            BlockKind::Video {
                transcript: Some(text),
                ..
            }
            | BlockKind::Audio {
                transcript: Some(text),
                ..
            },
            Some(value),
        ) = (&kind, &b.transcript)
        {
            images.extend(self.markdown(text, value.span()));
        }
        Some(Block {
            id,
            title,
            required,
            kind,
            images,
        })
    }
}
