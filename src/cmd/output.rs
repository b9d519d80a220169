//! How `build` and `check` report: `--format human` (the default: text on
//! stderr, one line a package on stdout) or `--format json` (one JSON
//! document on stdout, nothing else there), and the progress bar of a long
//! build.

use std::io::{IsTerminal as _, Write as _};
use std::sync::{Mutex, mpsc};
use std::time::{Duration, Instant};

use clap::ValueEnum;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use coursepack_pipeline::build::Bytes;
use coursepack_pipeline::report::Report;

/// `--format` values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Text for people, on stderr (packages written on stdout)
    #[default]
    Human,
    /// One JSON document on stdout, for CI pipelines (see the README)
    Json,
}

/// Prints the report as the one document on stdout.
pub fn print_json(report: &Report) {
    let mut out = std::io::stdout().lock();
    // Writing can fail only when stdout is closed: nothing to tell then.
    let _ = serde_json::to_writer_pretty(&mut out, report);
    let _ = writeln!(out);
}

/// How long a build runs before its progress bar is drawn.
const BAR_AFTER: Duration = Duration::from_secs(1);

/// A progress bar over the bytes a build writes, drawn on stderr only when
/// stderr is a terminal and only once the build has run for [`BAR_AFTER`]
/// (`COURSEPACK_PROGRESS_AFTER_MS` sets another delay, for tests): a quick
/// build, a pipe or a CI log never sees it. Cleared when the build ends.
pub struct Progress {
    bar: ProgressBar,
    wanted: bool,
    started: Instant,
    /// Whether the delay is over, and whether the total is known: the bar
    /// is drawn once both are.
    state: Mutex<(bool, bool)>,
}

impl Progress {
    /// `enabled`: whether the command may show one at all (not `--quiet`).
    pub fn new(enabled: bool) -> Progress {
        let bar = ProgressBar::hidden();
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} writing packages [{bar:30}] {binary_bytes} of {binary_total_bytes}",
            )
            .expect("a valid template")
            .progress_chars("=> "),
        );
        Progress {
            bar,
            wanted: enabled && std::io::stderr().is_terminal(),
            started: Instant::now(),
            state: Mutex::new((false, false)),
        }
    }

    /// What the build tells about its bytes, for [`Observer::bytes`](coursepack_pipeline::build::Observer).
    pub fn bytes(&self, b: Bytes) {
        match b {
            Bytes::Total(n) => {
                self.bar.set_length(n);
                self.update(|s| s.1 = true);
            }
            Bytes::Written(n) => self.bar.inc(n),
        }
    }

    /// Changes the state; draws the bar when it is time.
    fn update(&self, change: impl FnOnce(&mut (bool, bool))) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let before = *state;
        change(&mut state);
        if *state == (true, true) && before != (true, true) && self.wanted {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
            self.bar.enable_steady_tick(Duration::from_millis(100));
        }
    }

    /// Runs `work`, drawing the bar once it has run long enough.
    pub fn run<T>(&self, work: impl FnOnce() -> T) -> T {
        if !self.wanted {
            return work();
        }
        let after = std::env::var("COURSEPACK_PROGRESS_AFTER_MS")
            .ok()
            .and_then(|ms| ms.parse().ok())
            .map_or(BAR_AFTER, Duration::from_millis);
        let wait = after.saturating_sub(self.started.elapsed());
        let (done, finished) = mpsc::channel::<()>();
        let result = std::thread::scope(|scope| {
            scope.spawn(move || {
                if finished.recv_timeout(wait) == Err(mpsc::RecvTimeoutError::Timeout) {
                    self.update(|s| s.0 = true);
                }
            });
            let result = work();
            drop(done);
            result
        });
        self.bar.finish_and_clear();
        result
    }

    /// Prints a line on stderr without tearing the bar.
    pub fn eprintln(&self, line: &str) {
        self.bar.suspend(|| eprintln!("{line}"));
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}
