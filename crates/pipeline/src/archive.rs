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

/// A package written: where, how many files it holds, its size.
#[derive(Debug, Clone)]
pub struct Written {
    pub path: PathBuf,
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
        .prefix(TEMP_PREFIX)
        .suffix(TEMP_SUFFIX)
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    let file = tmp
        .reopen()
        .with_context(|| format!("cannot open {}", tmp.path().display()))?;
    let files = entries.len();
    let mut zip = ZipWriter::new(BufWriter::with_capacity(1 << 20, file));
    let fixed = DateTime::from_date_and_time(1980, 1, 1, 0, 0, 0).expect("valid fixed date");
    for entry in &entries {
        let method = if crate::file_types::is_compressed(&entry.path) {
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
                // Checked when the course was loaded, but it may have been
                // swapped since: never block on a pipe or read a device.
                let mut f: File = crate::course_fs::open_regular(p)
                    .with_context(|| format!("cannot read {}", p.display()))?;
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
        written: Written {
            path: dest.to_path_buf(),
            files,
            bytes,
        },
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

/// Temporary files of this module start and end so; a build killed half
/// way leaves some, and the next build in the folder removes them.
const TEMP_PREFIX: &str = ".coursepack-";
const TEMP_SUFFIX: &str = ".part";
/// Longest file name most file systems take, in bytes.
const NAME_MAX: usize = 255;

/// Removes the temporary files a killed build left in `dir`.
pub fn remove_stale(dir: &Path) -> Result<()> {
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))?;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(TEMP_PREFIX)
            && name.ends_with(TEMP_SUFFIX)
            && entry.file_type().is_ok_and(|t| t.is_file())
        {
            std::fs::remove_file(entry.path())
                .with_context(|| format!("cannot remove {}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// Why a destination cannot take a package, if it cannot.
fn check_destination(dest: &Path) -> Result<()> {
    let name_len = dest.file_name().map_or(0, |n| n.len());
    if name_len > NAME_MAX {
        bail!(
            "cannot write {}: the file name is {name_len} bytes long, over the {NAME_MAX} most file systems take",
            dest.display()
        );
    }
    match std::fs::symlink_metadata(dest) {
        Ok(meta) if meta.is_file() || meta.file_type().is_symlink() => Ok(()),
        Ok(meta) => bail!(
            "cannot write {}: {} stands there",
            dest.display(),
            crate::course_fs::kind_of(&meta)
        ),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("cannot write {}", dest.display())),
    }
}

/// Moves every finished package into place, all or none: each destination
/// is checked before the first is replaced, the files replaced are kept
/// (as hard links, so the destination never disappears) until every
/// package is in place, and a failure part way puts them back. Returns
/// what each package holds, in order.
pub fn commit_all(pending: Vec<Pending>) -> Result<Vec<Written>> {
    for p in &pending {
        check_destination(&p.dest)?;
    }
    move_all(pending)
}

/// A package moved into place, and how to undo it.
struct Moved {
    dest: PathBuf,
    /// The file it replaced, kept under a temporary name.
    kept: Option<PathBuf>,
}

fn move_all(pending: Vec<Pending>) -> Result<Vec<Written>> {
    let mut moved: Vec<Moved> = Vec::new();
    let mut written = Vec::new();
    for p in pending {
        let dest = p.dest.clone();
        let step = keep_old(&dest).and_then(|kept| {
            let result = p.commit();
            match result {
                Ok(w) => Ok((kept, w)),
                Err(e) => {
                    if let Some(k) = &kept {
                        let _ = std::fs::remove_file(k);
                    }
                    Err(e)
                }
            }
        });
        match step {
            Ok((kept, w)) => {
                moved.push(Moved { dest, kept });
                written.push(w);
            }
            Err(e) => {
                let undone = undo(moved);
                return Err(match undone {
                    Ok(()) => e,
                    Err(u) => e.context(format!("and putting the old packages back failed: {u:#}")),
                });
            }
        }
    }
    for m in moved {
        if let Some(k) = m.kept {
            let _ = std::fs::remove_file(k);
        }
    }
    Ok(written)
}

/// A second name for the file at `dest`, if there is one, so it can be
/// put back.
fn keep_old(dest: &Path) -> Result<Option<PathBuf>> {
    match std::fs::symlink_metadata(dest) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", dest.display())),
        Ok(_) => {}
    }
    let dir = dest.parent().unwrap_or(Path::new("."));
    let name = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .suffix(TEMP_SUFFIX)
        .make_in(dir, |p| {
            std::fs::hard_link(dest, p).or_else(|_| std::fs::copy(dest, p).map(|_| ()))
        })
        .with_context(|| format!("cannot keep a copy of {}", dest.display()))?;
    // Kept until the build is done; never deleted when `name` is dropped.
    let kept = name
        .into_temp_path()
        .keep()
        .with_context(|| format!("cannot keep a copy of {}", dest.display()))?;
    Ok(Some(kept))
}

/// Puts back what `moved` replaced, last first.
fn undo(moved: Vec<Moved>) -> Result<()> {
    let mut first_error = None;
    for m in moved.into_iter().rev() {
        let result = match &m.kept {
            Some(k) => std::fs::rename(k, &m.dest),
            None => std::fs::remove_file(&m.dest),
        };
        if let Err(e) = result {
            first_error.get_or_insert(
                anyhow::Error::new(e).context(format!("cannot restore {}", m.dest.display())),
            );
        }
    }
    first_error.map_or(Ok(()), Err)
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
    fn a_failure_part_way_puts_the_old_packages_back() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.zip");
        let b = dir.path().join("b.zip");
        let c = dir.path().join("c.zip");
        std::fs::write(&a, b"old a").unwrap();
        // `b` is new; `c` is a folder that no rename can replace.
        std::fs::create_dir(&c).unwrap();
        std::fs::write(c.join("keep"), b"x").unwrap();
        let pending = vec![
            write_zip(&a, vec![Entry::bytes("x", "1")]).unwrap(),
            write_zip(&b, vec![Entry::bytes("x", "2")]).unwrap(),
            write_zip(&c, vec![Entry::bytes("x", "3")]).unwrap(),
        ];
        // Skip the checks, as if the folder appeared after them.
        assert!(move_all(pending).is_err());
        assert_eq!(std::fs::read(&a).unwrap(), b"old a");
        assert!(!b.exists());
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["a.zip", "c.zip"]);
    }

    #[test]
    fn destinations_are_checked_before_anything_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.zip");
        std::fs::write(&a, b"old a").unwrap();
        let long = dir.path().join(format!("{}.zip", "x".repeat(300)));
        let pending = vec![
            write_zip(&a, vec![Entry::bytes("x", "1")]).unwrap(),
            write_zip(&long, vec![Entry::bytes("x", "2")]).unwrap(),
        ];
        let err = commit_all(pending).unwrap_err();
        assert!(
            format!("{err:#}").contains("file name is 304 bytes"),
            "{err:#}"
        );
        assert_eq!(std::fs::read(&a).unwrap(), b"old a");
    }

    #[test]
    fn stale_temporary_files_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".coursepack-x1Yz.part"), b"stale").unwrap();
        std::fs::write(dir.path().join("keep.zip"), b"keep").unwrap();
        remove_stale(dir.path()).unwrap();
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, ["keep.zip"]);
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
