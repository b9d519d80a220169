//! The builds: the first when preview starts, then one after each burst of changes in the
//! course folder (course.toml, variants, media, templates), debounced by [`crate::DEBOUNCE`].
//! A build that fails leaves the last good one in place and records its diagnostics.

use std::path::{Component, Path};
use std::sync::{Arc, RwLock};
use std::time::Instant;

use std::sync::mpsc::{self, RecvTimeoutError};

use notify::event::ModifyKind;
use notify::{Event, EventKind, RecursiveMode, Watcher};
use tokio::sync::watch;

use crate::site::{self, Failure, Site, What};

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
pub fn rebuild(builds: &Builds, dir: &Path, what: &What, first: bool) -> bool {
    let started = Instant::now();
    let result = site::build(dir, what);
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
pub fn spawn(builds: Arc<Builds>, dir: &Path, what: What) -> anyhow::Result<()> {
    let (tx, rx) = mpsc::channel::<notify::Result<Event>>();
    let mut watcher = notify::recommended_watcher(tx)?;
    // Events name absolute paths: compare with the folder's own.
    let root = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    watcher.watch(&root, RecursiveMode::Recursive)?;
    let dir = dir.to_path_buf();
    std::thread::Builder::new()
        .name("preview-watch".into())
        .spawn(move || {
            // The watcher stops watching when dropped: it lives with this thread.
            let _watcher = watcher;
            let changes = |event: notify::Result<Event>| match event {
                Ok(e) => changes_content(&e.kind) && e.paths.iter().any(|p| relevant(&root, p)),
                Err(e) => {
                    eprintln!("warning: watching {}: {e}", dir.display());
                    false
                }
            };
            while let Ok(event) = rx.recv() {
                if !changes(event) {
                    continue;
                }
                // Wait the burst out (an editor's save is several events; so is a copy):
                // one build once DEBOUNCE passes with nothing new.
                loop {
                    match rx.recv_timeout(crate::DEBOUNCE) {
                        Ok(_) => continue,
                        Err(RecvTimeoutError::Timeout) => break,
                        Err(RecvTimeoutError::Disconnected) => return,
                    }
                }
                rebuild(&builds, &dir, &what, false);
            }
        })?;
    Ok(())
}

/// Whether an event can change what a build reads. Opening and reading a file, as every
/// build does, is not a change (watching those would rebuild for ever); neither is a new
/// access time or mode.
fn changes_content(kind: &EventKind) -> bool {
    match kind {
        EventKind::Create(_) | EventKind::Remove(_) | EventKind::Any | EventKind::Other => true,
        EventKind::Modify(ModifyKind::Metadata(_)) => false,
        EventKind::Modify(_) => true,
        EventKind::Access(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use notify::event::{AccessKind, CreateKind};

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

    #[test]
    fn reading_a_file_is_not_a_change() {
        assert!(!changes_content(&EventKind::Access(AccessKind::Any)));
        assert!(!changes_content(&EventKind::Modify(ModifyKind::Metadata(
            notify::event::MetadataKind::AccessTime
        ))));
        assert!(changes_content(&EventKind::Modify(ModifyKind::Any)));
        assert!(changes_content(&EventKind::Create(CreateKind::File)));
    }
}
