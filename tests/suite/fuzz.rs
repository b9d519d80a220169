//! A bounded, deterministic mutation fuzzer over course.toml: a fixed seed
//! and a fixed number of rounds, so it runs the same in CI every time.
//! Each round mutates a course.toml of the corpus (the seed course and
//! the broken fixtures), loads and renders it, builds every package in
//! memory, and asserts: no panic, no hang, every error has its place, every
//! diagnostic renders, and no package XML holds a character XML refuses.
//!
//! A longer run by hand, with another seed:
//!
//!   COURSEPACK_FUZZ_ROUNDS=100000 COURSEPACK_FUZZ_SEED=7 \
//!     cargo test --release --test suite fuzz -- --nocapture
//!
//! What it finds is kept in tests/fixtures/broken/ (see `fuzz-*` there).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use coursepack_pipeline::archive::Source;
use coursepack_pipeline::build::{self, Error};
use coursepack_pipeline::package::{self, Context, Options};

use crate::common::*;

/// splitmix64: tiny, fixed across platforms and crate versions.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Pieces worth splicing in: TOML syntax, line ends, escapes of characters
/// that XML and terminals refuse, keys and values of the course format.
const TOKENS: &[&str] = &[
    "\"",
    "'",
    "[",
    "]",
    "[[",
    "]]",
    "{",
    "}",
    "=",
    ",",
    "#",
    ".",
    "\n",
    "\r\n",
    "\r",
    "\t",
    " ",
    "\"\"\"",
    "'''",
    "\\",
    "\\u001b[31m",
    "\\u0000",
    "\\uFFFE",
    "\\uFFFF",
    "\\u007f",
    "\\u0007",
    "&#27;",
    "&#0;",
    "é",
    "\u{feff}",
    "\u{202e}",
    "[[session]]\n",
    "[[session.block]]\n",
    "[session.completion]\n",
    "[branding]\n",
    "[packaging]\n",
    "[[before]]\n",
    "[[after]]\n",
    "type = \"video\"\n",
    "type = \"text\"\n",
    "type = \"reflection\"\n",
    "type = \"reading\"\n",
    "id = \"x\"\n",
    "id = \"one\"\n",
    "title = \"T\"\n",
    "body = \"b\"\n",
    "question = \"q\"\n",
    "require = [\"x\"]\n",
    "transcript = \"t.txt\"\n",
    "file = \"../x.mp4\"\n",
    "file = \"/etc/passwd.mp4\"\n",
    "captions = \"x.vtt\"\n",
    "templates = \"..\"\n",
    "logo = \"/dev/zero.png\"\n",
    "![i](../../etc/x.png)",
    "![i](/dev/zero.png)",
    "max_chars = 0\n",
    "video_percent = 101\n",
    "minutes = -1\n",
    "version = \"",
    "split = \"session\"\n",
    "1e999",
    "true",
    "-0",
    "0x10",
    "1979-05-27T07:32:00Z",
    "inf",
    "nan",
    "x",
];

fn mutate(rng: &mut Rng, text: &str) -> Vec<u8> {
    let mut bytes = text.as_bytes().to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(bytes.len() + 1);
        match rng.below(7) {
            0 => {
                let len = rng.below(40).min(bytes.len() - at.min(bytes.len()));
                bytes.drain(at..at + len);
            }
            1..=3 => {
                let token = TOKENS[rng.below(TOKENS.len())].as_bytes();
                bytes.splice(at..at, token.iter().copied());
            }
            4 if !bytes.is_empty() => {
                let from = rng.below(bytes.len());
                let len = rng.below(200).min(bytes.len() - from);
                let piece: Vec<u8> = bytes[from..from + len].to_vec();
                bytes.splice(at..at, piece);
            }
            5 if at < bytes.len() => bytes[at] = (rng.next() & 0xff) as u8,
            6 => bytes.truncate(at),
            _ => {}
        }
    }
    bytes
}

/// Loads, renders and packages the course in `dir`; returns what is wrong.
fn exercise(dir: &Path) -> Result<(), String> {
    let prepared = match build::prepare(dir) {
        Ok(p) => p,
        Err(Error::Input(diags)) => {
            if !diags.has_errors() {
                return Err("bad input without an error".into());
            }
            for d in &diags.items {
                let rendered = diags.render(d);
                if d.is_error() && d.location.is_none() {
                    return Err(format!("an error without its place: {rendered}"));
                }
                let located_in_toml = d
                    .location
                    .as_ref()
                    .is_some_and(|l| l.path.ends_with("course.toml"));
                if d.is_error()
                    && located_in_toml
                    && d.location.as_ref().unwrap().span.is_none()
                    && !d.message.contains("course.toml")
                {
                    return Err(format!("an error in course.toml without line: {rendered}"));
                }
                if rendered
                    .chars()
                    .any(|c| (c < ' ' && c != '\n' && c != '\t') || c == '\u{1b}')
                {
                    return Err(format!("raw control character in: {rendered:?}"));
                }
            }
            return Ok(());
        }
        Err(Error::Failed(e)) => return Err(format!("failed (exit 1): {e:#}")),
    };
    let ctx = Context {
        course: &prepared.loaded.course,
        site: &prepared.site,
    };
    let targets = package::select(&[], &Options::default()).map_err(|d| format!("{d:?}"))?;
    for target in targets {
        let packages = target
            .packages(&ctx)
            .map_err(|e| format!("{} failed: {e:#}", target.name()))?;
        for p in packages {
            for entry in p.entries {
                if let (true, Source::Bytes(b)) = (entry.path.ends_with(".xml"), &entry.source) {
                    let text = String::from_utf8_lossy(b);
                    if text
                        .chars()
                        .any(|c| (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || c == '\u{ffff}')
                    {
                        return Err(format!(
                            "{}: {} is not well-formed",
                            target.name(),
                            entry.path
                        ));
                    }
                }
            }
        }
    }
    Ok(())
}

#[test]
fn mutated_course_files_never_crash_hang_or_lose_their_place() {
    let rounds: usize = std::env::var("COURSEPACK_FUZZ_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let seed: u64 = std::env::var("COURSEPACK_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(14);
    let mut corpus = vec![std::fs::read_to_string(seed_course().join("course.toml")).unwrap()];
    let broken = root().join("tests/fixtures/broken");
    let mut names: Vec<_> = std::fs::read_dir(&broken)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("course.toml").is_file())
        .collect();
    names.sort();
    for p in names {
        if let Ok(t) = std::fs::read_to_string(p.join("course.toml")) {
            corpus.push(t);
        }
    }
    // CRLF copies: most crashes found by hand had a `\r` in them.
    let crlf: Vec<String> = corpus.iter().map(|t| t.replace('\n', "\r\n")).collect();
    corpus.extend(crlf);

    // One copy of the seed course (media, templates) to mutate in.
    let dir = seed_course_edited("[course]", "[course]");
    let toml = dir.path().join("course.toml");
    let (done_tx, done_rx) = mpsc::channel();
    let dir_path = dir.path().to_path_buf();
    let worker = std::thread::Builder::new()
        .stack_size(16 << 20)
        .spawn(move || {
            let mut rng = Rng(seed);
            let mut findings = Vec::new();
            let start = Instant::now();
            for round in 0..rounds {
                let base = &corpus[rng.below(corpus.len())];
                let bytes = mutate(&mut rng, base);
                std::fs::write(&toml, &bytes).unwrap();
                let outcome = catch_unwind(AssertUnwindSafe(|| exercise(&dir_path)));
                let problem = match outcome {
                    Ok(Ok(())) => None,
                    Ok(Err(why)) => Some(why),
                    Err(_) => Some("panicked".to_string()),
                };
                if let Some(why) = problem {
                    findings.push(format!(
                        "round {round}: {why}\n  input: {:?}",
                        String::from_utf8_lossy(&bytes)
                    ));
                    if findings.len() >= 5 {
                        break;
                    }
                }
            }
            let _ = done_tx.send((findings, start.elapsed()));
        })
        .unwrap();
    // A hang fails the test instead of stalling the suite.
    let (findings, took) = done_rx
        .recv_timeout(Duration::from_secs(600))
        .expect("the fuzz loop hung");
    worker.join().unwrap();
    eprintln!("fuzz: {rounds} rounds, seed {seed}, {took:?}");
    assert!(findings.is_empty(), "{}", findings.join("\n"));
}
