//! The builds: the first when preview starts, then one after each burst of changes in the
//! course folder (course.toml, variants, media, templates), debounced by [`crate::DEBOUNCE`].
//! A build that fails leaves the last good one in place and records its diagnostics.

use std::path::{Component, Path};
use std::sync::{Arc, RwLock};
use std::time::Instant;

use notify_debouncer_mini::notify::RecursiveMode;
use notify_debouncer_mini::{DebounceEventResult, new_debouncer};
use tokio::sync::watch;

use crate::ScoChoice;
use crate::site::{self, Failure, Site};

/// What the server serves now.
#[derive(Default)]
pub struct Current {
    /// The last good build.
    pub site: Option<Arc<Site>>,
    /// Counts good builds: the shell reloads the course when it changes.
    pub build: u64,
    /// Counts every build, good or not.
    pub attempt: u64,
    /// The diagnostics of the latest build when it failed.
    pub failure: Option<String>,
    /// The warnings of the last good build, as `check` prints them.
    pub warnings: String,
}

/// The state shared by the builder and the server, and a channel that ticks on every change
/// the shell must hear of (a build, or an LTI progress post).
pub struct Builds {
    pub current: RwLock<Current>,
    pub changed: watch::Sender<u64>,
}

impl Builds {
    pub fn new() -> Arc<Self> {
        Arc::new(Builds {
            current: RwLock::new(Current::default()),
            changed: watch::channel(0).0,
        })
    }

    /// Tells every open shell that something changed.
    pub fn notify(&self) {
        self.changed.send_modify(|n| *n += 1);
    }
}

/// Builds the course once; prints what happened to stderr (the terminal): the diagnostics of
/// a failed build, as `check` prints them, else how long it took. `first`: the preview is
/// starting (the warnings are counted then, not on each rebuild).
pub fn rebuild(builds: &Builds, dir: &Path, sco: Option<ScoChoice>, first: bool) -> bool {
    let started = Instant::now();
    let result = site::build(dir, sco);
    let ms = started.elapsed().as_millis();
    let mut cur = builds.current.write().unwrap_or_else(|p| p.into_inner());
    cur.attempt += 1;
    let ok = match result {
        Ok((site, warnings)) => {
            let n = site.warnings;
            if first && n > 0 {
                eprintln!(
                    "{n} warning{} (`coursepack check` prints them; so does the preview's panel)",
                    if n == 1 { "" } else { "s" }
                );
            }
            if !first {
                eprintln!(
                    "rebuilt in {ms} ms{}; the page reloads",
                    match n {
                        0 => String::new(),
                        1 => ", 1 warning".into(),
                        n => format!(", {n} warnings"),
                    }
                );
            }
            cur.site = Some(Arc::new(site));
            cur.build += 1;
            cur.failure = None;
            cur.warnings = warnings;
            true
        }
        Err(failure) => {
            let text = match (&failure, cur.site.is_some()) {
                (_, true) => failure.text(),
                (Failure::Course { text, errors }, false) => {
                    let s = if *errors == 1 { "" } else { "s" };
                    format!(
                        "{text}error: {errors} problem{s} found; the preview shows the course once they are fixed\n"
                    )
                }
                (Failure::Other(e), false) => format!("error: {e}\n"),
            };
            eprint!("{text}");
            cur.failure = Some(text);
            false
        }
    };
    drop(cur);
    builds.notify();
    ok
}

/// Whether a changed path can change the build: anything in the course folder except hidden
/// files and folders, editors' backup and swap files, and output folders (`dist`, `target`,
/// `node_modules`) kept inside it.
pub fn relevant(root: &Path, path: &Path) -> bool {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let mut parts = rel.components().peekable();
    let mut first = true;
    while let Some(c) = parts.next() {
        let Component::Normal(name) = c else {
            continue;
        };
        let name = name.to_string_lossy();
        if name.starts_with('.') {
            return false;
        }
        if first && ["dist", "target", "node_modules"].contains(&name.as_ref()) {
            return false;
        }
        first = false;
        if parts.peek().is_none()
            && (name.ends_with('~')
                || name.ends_with(".swp")
                || name.ends_with(".swx")
                || name.ends_with(".part")
                || name.starts_with("#"))
        {
            return false;
        }
    }
    true
}

/// Watches the course folder and rebuilds after each burst of relevant changes, on a thread of
/// its own, for as long as the process runs.
pub fn spawn(builds: Arc<Builds>, dir: &Path, sco: Option<ScoChoice>) -> anyhow::Result<()> {
    let (tx, rx) = std::sync::mpsc::channel::<DebounceEventResult>();
    let mut debouncer = new_debouncer(crate::DEBOUNCE, tx)?;
    // Events name absolute paths: compare with the folder's own.
    let root = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    debouncer.watcher().watch(&root, RecursiveMode::Recursive)?;
    let dir = dir.to_path_buf();
    std::thread::Builder::new()
        .name("preview-watch".into())
        .spawn(move || {
            // The debouncer stops watching when dropped: it lives with this thread.
            let _debouncer = debouncer;
            while let Ok(events) = rx.recv() {
                let mut any = match events {
                    Ok(events) => events.iter().any(|e| relevant(&root, &e.path)),
                    Err(e) => {
                        eprintln!("warning: watching {}: {e}", dir.display());
                        false
                    }
                };
                // Changes that came in while the previous build ran: one more build for all.
                while let Ok(more) = rx.try_recv() {
                    any |= more.is_ok_and(|ev| ev.iter().any(|e| relevant(&root, &e.path)));
                }
                if any {
                    rebuild(&builds, &dir, sco, false);
                }
            }
        })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_that_matter_are_told_from_noise() {
        let root = Path::new("/c");
        for p in [
            "/c/course.toml",
            "/c/media/a.vtt",
            "/c/templates/coursepack/style.css",
            "/c/variants/short.toml",
            "/c/media/dist/x.png",
        ] {
            assert!(relevant(root, Path::new(p)), "{p}");
        }
        for p in [
            "/c/.git/index",
            "/c/.course.toml.swp",
            "/c/course.toml~",
            "/c/dist/x.zip",
            "/c/media/.hidden",
            "/c/#course.toml#",
            "/c/target/debug/x",
            "/c/x.coursepack-1.part",
        ] {
            assert!(!relevant(root, Path::new(p)), "{p}");
        }
    }
}
