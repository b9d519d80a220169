//! Deterministic zip writing.
//!
//! A package is a sorted list of entries, each either bytes made in memory
//! or a file streamed from disk. Every entry gets the same timestamp and
//! permissions, already-compressed media is stored rather than deflated, and
//! the zip is written to a temporary file that only replaces the output when
//! it is complete.

use std::fs::File;
use std::io::{self, BufWriter, Seek, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

/// Where an entry's bytes come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Bytes(Vec<u8>),
    /// Streamed from disk when the zip is written, never read whole.
    File(PathBuf),
}

/// One file in a package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Path inside the package, with `/`.
    pub path: String,
    pub source: Source,
}

impl Entry {
    pub fn bytes(path: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Self {
        Entry {
            path: path.into(),
            source: Source::Bytes(bytes.into()),
        }
    }

    pub fn file(path: impl Into<String>, on_disk: impl Into<PathBuf>) -> Self {
        Entry {
            path: path.into(),
            source: Source::File(on_disk.into()),
        }
    }
}

/// File endings whose content is already compressed; deflating them again
/// costs time and saves nothing.
const STORED: &[&str] = &[
    "mp4", "m4v", "webm", "mp3", "m4a", "ogg", "jpg", "jpeg", "png", "gif", "webp", "zip", "woff",
    "woff2", "pdf",
];

fn is_stored(path: &str) -> bool {
    path.rsplit_once('.')
        .is_some_and(|(_, ext)| STORED.contains(&ext.to_ascii_lowercase().as_str()))
}

/// What was written.
#[derive(Debug, Clone, Copy)]
pub struct Written {
    pub files: usize,
    pub bytes: u64,
}

/// Writes `entries` as a zip into a temporary file beside `dest`. The caller
/// renames it into place with [`Pending::commit`] once every package of the
/// build has been written.
pub fn write_zip(dest: &Path, mut entries: Vec<Entry>) -> Result<Pending> {
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    for pair in entries.windows(2) {
        if pair[0].path == pair[1].path {
            bail!(
                "two files would be written at `{}` in {}",
                pair[0].path,
                dest.display()
            );
        }
    }
    let dir = dest.parent().unwrap_or(Path::new("."));
    let tmp = tempfile::Builder::new()
        .prefix(".coursepack-")
        .suffix(".part")
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    let file = tmp
        .reopen()
        .with_context(|| format!("cannot open {}", tmp.path().display()))?;
    let files = entries.len();
    let mut zip = ZipWriter::new(BufWriter::with_capacity(1 << 20, file));
    let fixed = DateTime::from_date_and_time(1980, 1, 1, 0, 0, 0).expect("valid fixed date");
    for entry in &entries {
        let method = if is_stored(&entry.path) {
            CompressionMethod::Stored
        } else {
            CompressionMethod::Deflated
        };
        let options = SimpleFileOptions::default()
            .compression_method(method)
            .last_modified_time(fixed)
            .unix_permissions(0o644)
            .large_file(matches!(&entry.source, Source::File(p) if p.metadata().map(|m| m.len() >= u32::MAX as u64).unwrap_or(false)));
        zip.start_file(entry.path.as_str(), options)
            .with_context(|| format!("cannot add {} to {}", entry.path, dest.display()))?;
        match &entry.source {
            Source::Bytes(b) => zip.write_all(b)?,
            Source::File(p) => {
                let mut f =
                    File::open(p).with_context(|| format!("cannot read {}", p.display()))?;
                io::copy(&mut f, &mut zip)
                    .with_context(|| format!("cannot read {}", p.display()))?;
            }
        }
    }
    let mut out = zip.finish().context("cannot finish the zip")?;
    out.flush()?;
    let mut file = out.into_inner().map_err(|e| e.into_error())?;
    let bytes = file.stream_position()?;
    file.sync_all()?;
    // Temporary files are private; a package is an ordinary file.
    set_readable(tmp.path())?;
    Ok(Pending {
        tmp,
        dest: dest.to_path_buf(),
        written: Written { files, bytes },
    })
}

#[cfg(unix)]
fn set_readable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644))
        .with_context(|| format!("cannot set permissions of {}", path.display()))
}

#[cfg(not(unix))]
fn set_readable(_path: &Path) -> Result<()> {
    Ok(())
}

/// A finished zip waiting to be moved into place. Dropped without
/// [`commit`](Pending::commit), it is deleted and `dest` is untouched.
pub struct Pending {
    tmp: tempfile::NamedTempFile,
    pub dest: PathBuf,
    pub written: Written,
}

impl Pending {
    pub fn commit(self) -> Result<Written> {
        let dest = self.dest.clone();
        self.tmp
            .persist(&dest)
            .with_context(|| format!("cannot write {}", dest.display()))?;
        Ok(self.written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(dir: &Path, name: &str, entries: Vec<Entry>) -> Vec<u8> {
        let dest = dir.join(name);
        write_zip(&dest, entries).unwrap().commit().unwrap();
        std::fs::read(dest).unwrap()
    }

    #[test]
    fn same_entries_in_any_order_give_identical_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let media = dir.path().join("clip.mp4");
        std::fs::write(&media, b"not really a video").unwrap();
        let a = vec![
            Entry::bytes("b.html", "<p>b</p>"),
            Entry::file("media/clip.mp4", &media),
            Entry::bytes("a.html", "<p>a</p>"),
        ];
        let mut b = a.clone();
        b.reverse();
        assert_eq!(
            build(dir.path(), "one.zip", a),
            build(dir.path(), "two.zip", b)
        );
    }

    #[test]
    fn media_is_stored_and_text_deflated() {
        let dir = tempfile::tempdir().unwrap();
        let text = "x".repeat(10_000);
        let bytes = build(
            dir.path(),
            "p.zip",
            vec![
                Entry::bytes("a.mp4", text.clone()),
                Entry::bytes("a.html", text),
            ],
        );
        let mut zip = zip::ZipArchive::new(io::Cursor::new(bytes)).unwrap();
        assert_eq!(
            zip.by_name("a.mp4").unwrap().compression(),
            CompressionMethod::Stored
        );
        assert_eq!(
            zip.by_name("a.html").unwrap().compression(),
            CompressionMethod::Deflated
        );
        let html = zip.by_name("a.html").unwrap();
        assert_eq!(html.unix_mode(), Some(0o100644));
    }

    #[test]
    fn a_dropped_pending_zip_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("p.zip");
        std::fs::write(&dest, b"old").unwrap();
        drop(write_zip(&dest, vec![Entry::bytes("a", "b")]).unwrap());
        assert_eq!(std::fs::read(&dest).unwrap(), b"old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn duplicate_paths_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let err = write_zip(
            &dir.path().join("p.zip"),
            vec![Entry::bytes("a", "1"), Entry::bytes("a", "2")],
        );
        assert!(err.is_err());
    }
}
