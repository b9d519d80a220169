//! Deterministic zip writing.
//!
//! A package is a sorted list of entries, each either bytes made in memory
//! or a file streamed from disk. Every entry gets the same timestamp and
//! permissions, already-compressed media is stored rather than deflated, and
//! the zip is written to a temporary file that only replaces the output when
//! it is complete.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};

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
pub fn write_zip(dest: &Path, entries: Vec<Entry>) -> Result<Pending> {
    let mut pending = write_zips(vec![(dest.to_path_buf(), entries)])?;
    Ok(pending.pop().expect("one package asked, one written"))
}

/// Where a package goes and what it holds.
pub type PackageFiles = (PathBuf, Vec<Entry>);

/// Writes several packages, each as [`write_zip`] does, sharing the work
/// they have in common. What an entry needs before it can be written is
/// done once, whatever the number of packages holding it, by threads of
/// their own running ahead of the writers (see [`Ahead`]): the CRC-32 of
/// every media file stored (not deflated), and the deflated bytes of every
/// page made in memory. The packages are written side by side, one a core,
/// their stored bytes copied by the kernel. Returns them in the order
/// asked; on an error none is kept (a dropped [`Pending`] deletes its
/// file), and the error reported is the first package's in that order.
pub fn write_zips(packages: Vec<PackageFiles>) -> Result<Vec<Pending>> {
    write_zips_observed(packages, &|_| {})
}

/// The bytes the packages hold before compression (files on disk by their
/// length, missing ones as 0): the total [`write_zips_observed`] counts to.
pub fn input_bytes(packages: &[PackageFiles]) -> u64 {
    packages
        .iter()
        .flat_map(|(_, entries)| entries)
        .map(|e| match &e.source {
            Source::Bytes(b) => b.len() as u64,
            Source::File(p) => std::fs::metadata(p).map_or(0, |m| m.len()),
        })
        .sum()
}

/// [`write_zips`], telling `written` the bytes of each entry (before
/// compression) once it is in its package, from the writing threads: for
/// a progress bar over [`input_bytes`]. It is called once an entry, so it
/// costs nothing beside the writing.
pub fn write_zips_observed(
    mut packages: Vec<PackageFiles>,
    written: &(dyn Fn(u64) + Sync),
) -> Result<Vec<Pending>> {
    // Each package is written in path order, which makes its bytes the
    // same whatever order its entries were given in.
    for (_, entries) in &mut packages {
        entries.sort_by(|a, b| a.path.cmp(&b.path));
    }
    let ahead = Ahead::new(&packages);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let writers = cores.min(packages.len()).max(1);
    let results: Vec<Mutex<Option<Result<Pending>>>> =
        packages.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let write = || {
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some((dest, entries)) = packages.get(i) else {
                break;
            };
            let result = write_one(dest, entries, &ahead, written);
            let failed = result.is_err();
            *lock(&results[i]) = Some(result);
            if failed {
                // The build fails whatever the other packages do: start
                // no more of them, and do no more work ahead for them.
                next.store(packages.len(), Ordering::Relaxed);
                ahead.stop();
            }
        }
    };
    std::thread::scope(|scope| {
        // One thread a core working ahead: the writers mostly wait on the
        // disk and the kernel's copies, and a writer that catches up
        // waits for what it needs.
        for _ in 0..cores.min(ahead.tasks.len()) {
            scope.spawn(|| ahead.work());
        }
        for _ in 1..writers {
            scope.spawn(write);
        }
        write();
        ahead.stop();
    });
    let mut pending = Vec::with_capacity(results.len());
    for result in results {
        match result.into_inner().unwrap_or_else(|e| e.into_inner()) {
            Some(r) => pending.push(r?),
            // Never started because a package taken earlier failed; that
            // failure is reported when its turn in the order comes.
            None => continue,
        }
    }
    Ok(pending)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// What makes a file's CRC-32 still good: the same file (device and inode)
/// of the same length, not written since (modification time to the
/// nanosecond). Taken from the open file, so a path swapped for another
/// file is a different key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct FileKey {
    dev: u64,
    ino: u64,
    len: u64,
    mtime: (i64, i64),
}

impl FileKey {
    fn of(meta: &std::fs::Metadata) -> FileKey {
        use std::os::unix::fs::MetadataExt;
        FileKey {
            dev: meta.dev(),
            ino: meta.ino(),
            len: meta.len(),
            mtime: (meta.mtime(), meta.mtime_nsec()),
        }
    }
}

/// Bytes read at a time to compute a CRC-32: large enough that the read
/// calls cost little next to the copy, small enough to stay in the cache
/// the CRC then reads it from.
const CRC_CHUNK: usize = 256 << 10;

/// The options every entry is written with: a fixed time and permissions,
/// so that the same files make the same bytes; `stored` (media, already
/// compressed) or deflated.
fn entry_options(stored: bool) -> SimpleFileOptions {
    let method = if stored {
        CompressionMethod::Stored
    } else {
        CompressionMethod::Deflated
    };
    let fixed = DateTime::from_date_and_time(1980, 1, 1, 0, 0, 0).expect("valid fixed date");
    SimpleFileOptions::default()
        .compression_method(method)
        .last_modified_time(fixed)
        .unix_permissions(0o644)
}

/// A piece of work an entry needs before it is written.
enum Task<'a> {
    /// The CRC-32 of a stored file on disk.
    Crc(&'a Path),
    /// Bytes made in memory (a page, the runtime), to deflate.
    Deflate(&'a [u8]),
}

/// What a [`Task`] made.
enum Made {
    /// The file's key and CRC-32, or `None` when it could not be read (the
    /// writer then meets the same problem itself, and reports it).
    Crc(Option<(FileKey, u32)>),
    /// A zip of one entry holding the bytes deflated, ready to be copied
    /// raw into any package under any name; `None` if it failed (the
    /// writer then deflates the bytes itself).
    Deflated(Option<Vec<u8>>),
}

/// The work entries need before they are written, each piece done once
/// for every package holding the entry, in the order the packages need
/// them, by [`Ahead::work`], and waited for by the writers. Stored media
/// need their CRC-32 (the zip's header comes before the bytes, which the
/// kernel then copies without this process seeing them); pages need
/// deflating, which would otherwise be done by each writer for each
/// package, one page after the other.
struct Ahead<'a> {
    tasks: Vec<Task<'a>>,
    files: HashMap<&'a Path, usize>,
    bytes: HashMap<&'a [u8], usize>,
    /// Per task: `None` until done.
    slots: Vec<Mutex<Option<Made>>>,
    /// Per task: the entries, in every package, still to use what it made;
    /// deflated bytes are dropped once the last has (memory stays near
    /// what the writers have yet to write, not every page twice).
    uses: Vec<AtomicUsize>,
    ready: Condvar,
    next: AtomicUsize,
    stopped: AtomicBool,
}

impl<'a> Ahead<'a> {
    /// The tasks of `packages`, whose entries are in the order they are
    /// written.
    fn new(packages: &'a [PackageFiles]) -> Ahead<'a> {
        // Interleaved across the packages, in the order each writes them,
        // so that what every writer needs next comes soon.
        let longest = packages.iter().map(|(_, e)| e.len()).max().unwrap_or(0);
        let mut tasks = Vec::new();
        let mut uses: Vec<usize> = Vec::new();
        let mut files = HashMap::new();
        let mut bytes = HashMap::new();
        for i in 0..longest {
            for (_, entries) in packages {
                let Some(e) = entries.get(i) else { continue };
                let stored = crate::file_types::is_compressed(&e.path);
                let task = match &e.source {
                    Source::File(p) if stored => *files.entry(p.as_path()).or_insert_with(|| {
                        tasks.push(Task::Crc(p));
                        tasks.len() - 1
                    }),
                    Source::Bytes(b) if !stored => {
                        *bytes.entry(b.as_slice()).or_insert_with(|| {
                            tasks.push(Task::Deflate(b));
                            tasks.len() - 1
                        })
                    }
                    _ => continue,
                };
                uses.resize(tasks.len(), 0);
                uses[task] += 1;
            }
        }
        Ahead {
            slots: tasks.iter().map(|_| Mutex::new(None)).collect(),
            uses: uses.into_iter().map(AtomicUsize::new).collect(),
            tasks,
            files,
            bytes,
            ready: Condvar::new(),
            next: AtomicUsize::new(0),
            stopped: AtomicBool::new(false),
        }
    }

    /// Does tasks until none is left.
    fn work(&self) {
        let mut buf = Vec::new();
        loop {
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            let Some(task) = self.tasks.get(i) else { break };
            let stopped = self.stopped.load(Ordering::Relaxed);
            let made = match task {
                Task::Crc(path) => Made::Crc(if stopped {
                    None
                } else {
                    buf.resize(CRC_CHUNK, 0);
                    crc_of(path, &mut buf).ok()
                }),
                Task::Deflate(bytes) => {
                    Made::Deflated((!stopped).then(|| deflated(bytes).ok()).flatten())
                }
            };
            *lock(&self.slots[i]) = Some(made);
            self.ready.notify_all();
        }
    }

    /// Nothing more is needed: the tasks left are skipped.
    fn stop(&self) {
        self.stopped.store(true, Ordering::Relaxed);
    }

    /// Waits until task `i` is done, and looks at what it made.
    fn with<T>(&self, i: usize, look: impl FnOnce(&Made) -> T) -> T {
        let mut made = lock(&self.slots[i]);
        while made.is_none() {
            made = self.ready.wait(made).unwrap_or_else(|e| e.into_inner());
        }
        look(made.as_ref().expect("done"))
    }

    /// The CRC-32 of `path` if it is still good for the file opened as
    /// `key`, waiting for it if it is being computed.
    fn crc(&self, path: &Path, key: FileKey) -> Option<u32> {
        self.with(*self.files.get(path)?, |made| match made {
            Made::Crc(Some((k, crc))) if *k == key => Some(*crc),
            _ => None,
        })
    }

    /// Copies `bytes`, deflated ahead, into `zip` as the entry `path`;
    /// false if they were not deflated ahead (nothing is written then).
    fn copy_deflated<W: Write + Seek>(
        &self,
        bytes: &[u8],
        path: &str,
        zip: &mut ZipWriter<W>,
    ) -> Result<bool> {
        let Some(&i) = self.bytes.get(bytes) else {
            return Ok(false);
        };
        let mut made = lock(&self.slots[i]);
        while made.is_none() {
            made = self.ready.wait(made).unwrap_or_else(|e| e.into_inner());
        }
        let copied = match made.as_ref() {
            Some(Made::Deflated(Some(one))) => {
                let mut one = zip::ZipArchive::new(io::Cursor::new(one.as_slice()))?;
                zip.raw_copy_file_rename(one.by_index_raw(0)?, path)?;
                true
            }
            _ => false,
        };
        if self.uses[i].fetch_sub(1, Ordering::Relaxed) == 1 {
            // The last entry to need them: the bytes go.
            *made = Some(Made::Deflated(None));
        }
        Ok(copied)
    }
}

/// A zip of one entry holding `bytes` deflated, written as every package
/// writes a deflated entry, so that copying it raw gives the same bytes.
fn deflated(bytes: &[u8]) -> zip::result::ZipResult<Vec<u8>> {
    let mut one = ZipWriter::new(io::Cursor::new(Vec::with_capacity(bytes.len() / 3 + 128)));
    one.start_file("-", entry_options(false))?;
    one.write_all(bytes)?;
    Ok(one.finish()?.into_inner())
}

fn crc_of(path: &Path, buf: &mut [u8]) -> io::Result<(FileKey, u32)> {
    use std::io::Read;
    // Never block on a pipe or read a device (see `write_one`).
    let mut f: File = crate::course_fs::open_regular(path).map_err(io::Error::other)?;
    let key = FileKey::of(&f.metadata()?);
    let mut hasher = crc32fast::Hasher::new();
    loop {
        match f.read(buf) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok((key, hasher.finalize()))
}

fn write_one(
    dest: &Path,
    entries: &[Entry],
    ahead: &Ahead,
    written: &(dyn Fn(u64) + Sync),
) -> Result<Pending> {
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
    let out = Output::new(file);
    let mut zip = ZipWriter::new(out.clone());
    for entry in entries {
        let stored = crate::file_types::is_compressed(&entry.path);
        let options = entry_options(stored);
        let add = || format!("cannot add {} to {}", entry.path, dest.display());
        match &entry.source {
            Source::Bytes(b) => {
                if stored
                    || !ahead
                        .copy_deflated(b, &entry.path, &mut zip)
                        .with_context(add)?
                {
                    zip.start_file(entry.path.as_str(), options)
                        .with_context(add)?;
                    zip.write_all(b)?;
                }
                written(b.len() as u64);
            }
            Source::File(p) => {
                // Checked when the course was loaded, but it may have been
                // swapped since: never block on a pipe or read a device.
                let mut f: File = crate::course_fs::open_regular(p)
                    .with_context(|| format!("cannot read {}", p.display()))?;
                let key = FileKey::of(&f.metadata()?);
                let options = options.large_file(key.len >= u32::MAX as u64);
                zip.start_file(entry.path.as_str(), options)
                    .with_context(add)?;
                match stored.then(|| ahead.crc(p, key)).flatten() {
                    Some(crc) => {
                        out.copy_from(&f, key.len, written)
                            .with_context(|| format!("cannot read {}", p.display()))?;
                        // The bytes were written past the zip writer, which
                        // would otherwise compute their CRC again.
                        // SAFETY: `set_file_metadata`'s one condition: the
                        // entry's bytes were written to the underlying
                        // writer directly, and these are their length and
                        // CRC-32.
                        unsafe { zip.set_file_metadata(key.len, crc) }.with_context(add)?;
                        if FileKey::of(&f.metadata()?) != key {
                            bail!("{} changed while it was being packaged", p.display());
                        }
                    }
                    None => {
                        io::copy(&mut f, &mut zip)
                            .with_context(|| format!("cannot read {}", p.display()))?;
                        written(key.len);
                    }
                }
            }
        }
    }
    drop(zip.finish().context("cannot finish the zip")?);
    let mut file = out.into_file()?;
    let bytes = file.stream_position()?;
    // On disk before it is moved into place: without it, a power cut soon
    // after the rename can leave a package of zeros under the final name.
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

/// The package file being written, shared between the zip writer (headers,
/// deflated entries, the central directory, through a buffer) and
/// [`Output::copy_from`] (stored media, copied by the kernel). It keeps its
/// own position so that the zip writer asking where it is, several times
/// an entry, costs neither a flush nor a system call.
#[derive(Clone)]
struct Output(Rc<RefCell<Buffered>>);

struct Buffered {
    file: BufWriter<File>,
    pos: u64,
}

impl Output {
    fn new(file: File) -> Output {
        Output(Rc::new(RefCell::new(Buffered {
            file: BufWriter::with_capacity(1 << 20, file),
            pos: 0,
        })))
    }

    /// Appends the first `len` bytes of `from`.
    /// `copied` is told the bytes as they are copied.
    fn copy_from(&self, from: &File, len: u64, copied: &dyn Fn(u64)) -> io::Result<()> {
        let mut out = self.0.borrow_mut();
        out.file.flush()?;
        copy_range(from, out.file.get_ref(), len, copied)?;
        // The package is flushed to disk before it is moved into place;
        // asking the disk to start on these bytes now lets that flush
        // overlap the rest of the writing instead of following it.
        #[cfg(target_os = "linux")]
        {
            use std::os::fd::AsRawFd;
            // SAFETY: a valid descriptor; the call only starts writeback.
            unsafe {
                libc::sync_file_range(
                    out.file.get_ref().as_raw_fd(),
                    out.pos as libc::off64_t,
                    len as libc::off64_t,
                    libc::SYNC_FILE_RANGE_WRITE,
                )
            };
        }
        out.pos += len;
        Ok(())
    }

    fn into_file(self) -> Result<File> {
        let cell = Rc::try_unwrap(self.0)
            .map_err(|_| anyhow::anyhow!("the zip writer still holds the package file"))?;
        cell.into_inner()
            .file
            .into_inner()
            .map_err(|e| e.into_error().into())
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut out = self.0.borrow_mut();
        let n = out.file.write(buf)?;
        out.pos += n as u64;
        Ok(n)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        let mut out = self.0.borrow_mut();
        out.file.write_all(buf)?;
        out.pos += buf.len() as u64;
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.borrow_mut().file.flush()
    }
}

impl Seek for Output {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let mut out = self.0.borrow_mut();
        if to == SeekFrom::Current(0) {
            return Ok(out.pos);
        }
        out.pos = out.file.seek(to)?;
        Ok(out.pos)
    }
}

/// Copies the first `len` bytes of `from` to the end of `to` (its current
/// position), in the kernel when it can (`copy_file_range`: no copy through
/// this process), by reading and writing otherwise. Fails if `from` holds
/// fewer bytes than `len`.
fn copy_range(from: &File, to: &File, len: u64, copied: &dyn Fn(u64)) -> io::Result<()> {
    let mut done = 0u64;
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        while done < len {
            let mut off_in = done as libc::loff_t;
            // 64 MiB a call: a progress bar moves through a large video,
            // for a few more system calls than necessary.
            let want = (len - done).min(1 << 26) as usize;
            // SAFETY: both descriptors are open for the whole call; the
            // input offset is ours, the output one the file's own.
            let n = unsafe {
                libc::copy_file_range(
                    from.as_raw_fd(),
                    &mut off_in,
                    to.as_raw_fd(),
                    std::ptr::null_mut(),
                    want,
                    0,
                )
            };
            match n {
                0 => return Err(shrunk()),
                n if n > 0 => {
                    done += n as u64;
                    copied(n as u64);
                }
                _ => {
                    let e = io::Error::last_os_error();
                    match e.raw_os_error() {
                        Some(libc::EINTR) => continue,
                        // Not between these files (other file systems,
                        // old kernels): copy through this process.
                        Some(
                            libc::EXDEV
                            | libc::ENOSYS
                            | libc::EOPNOTSUPP
                            | libc::EINVAL
                            | libc::EPERM
                            | libc::ETXTBSY,
                        ) if done == 0 => break,
                        _ => return Err(e),
                    }
                }
            }
        }
    }
    if done < len {
        use std::os::unix::fs::FileExt;
        let mut buf = vec![0u8; CRC_CHUNK];
        let mut to = to;
        while done < len {
            let want = (len - done).min(buf.len() as u64) as usize;
            let n = match from.read_at(&mut buf[..want], done) {
                Ok(0) => return Err(shrunk()),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            to.write_all(&buf[..n])?;
            done += n as u64;
            copied(n as u64);
        }
    }
    Ok(())
}

fn shrunk() -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        "the file grew shorter while it was being packaged",
    )
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

    /// Pages are deflated ahead and copied raw into the packages: the
    /// bytes must be those the zip writer makes deflating them itself.
    #[test]
    fn pages_deflated_ahead_are_what_the_zip_writer_writes() {
        let dir = tempfile::tempdir().unwrap();
        // Text that repeats with changes, as pages do, and an empty page.
        let text = |n: u32| -> Vec<u8> {
            let line = b"<p>Session text, a little different each time.</p>";
            (0..n)
                .map(|i| line[(i as usize) % line.len()] ^ (i / 977) as u8)
                .collect()
        };
        // In path order, the order packages are written in.
        let pages = [
            ("empty.html", text(0)),
            ("index.html", text(3)),
            ("runtime.js", text(300_000)),
            ("s/one.html", text(40_000)),
        ];
        let mut direct = ZipWriter::new(io::Cursor::new(Vec::new()));
        for (name, text) in &pages {
            direct.start_file(*name, entry_options(false)).unwrap();
            direct.write_all(text).unwrap();
        }
        let direct = direct.finish().unwrap().into_inner();
        let entries: Vec<Entry> = pages
            .iter()
            .map(|(name, text)| Entry::bytes(*name, text.clone()))
            .collect();
        assert_eq!(build(dir.path(), "p.zip", entries), direct);
    }

    #[test]
    fn the_same_page_in_several_packages_is_deflated_once() {
        let page = |path: &str, text: &str| Entry::bytes(path, text);
        let packages = [
            (
                PathBuf::from("a.zip"),
                vec![page("s1.html", "one"), page("s2.html", "two")],
            ),
            (
                PathBuf::from("b.zip"),
                vec![page("s1.html", "one"), page("other/s2.html", "two")],
            ),
        ];
        let ahead = Ahead::new(&packages);
        assert_eq!(ahead.tasks.len(), 2);
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

    /// Every entry of a zip, read back (which checks each CRC-32).
    fn contents(bytes: Vec<u8>) -> Vec<(String, Vec<u8>)> {
        use std::io::Read;
        let mut zip = zip::ZipArchive::new(io::Cursor::new(bytes)).unwrap();
        (0..zip.len())
            .map(|i| {
                let mut f = zip.by_index(i).unwrap();
                let mut data = Vec::new();
                f.read_to_end(&mut data).unwrap();
                (f.name().to_string(), data)
            })
            .collect()
    }

    #[test]
    fn packages_written_together_are_those_written_alone() {
        let dir = tempfile::tempdir().unwrap();
        let clip = dir.path().join("clip.mp4");
        let photo = dir.path().join("photo.jpg");
        std::fs::write(
            &clip,
            (0..300_000u32).map(|i| (i * 7) as u8).collect::<Vec<_>>(),
        )
        .unwrap();
        std::fs::write(&photo, b"").unwrap();
        let package = |n: &str| {
            vec![
                Entry::file(format!("{n}/clip.mp4"), &clip),
                Entry::file("photo.jpg", &photo),
                Entry::bytes("index.html", format!("<p>{n}</p>")),
            ]
        };
        let names = ["a", "b", "c"];
        let together = write_zips(
            names
                .iter()
                .map(|n| (dir.path().join(format!("{n}.zip")), package(n)))
                .collect(),
        )
        .unwrap();
        assert_eq!(together.len(), names.len());
        let mut together_bytes = Vec::new();
        for p in together {
            let w = p.commit().unwrap();
            together_bytes.push(std::fs::read(&w.path).unwrap());
        }
        for (n, bytes) in names.iter().zip(together_bytes) {
            assert_eq!(
                bytes,
                build(dir.path(), &format!("{n}-alone.zip"), package(n))
            );
            let files = contents(bytes);
            assert_eq!(files[0].1, std::fs::read(&clip).unwrap());
        }
    }

    #[test]
    fn a_file_changed_after_its_crc_was_taken_is_read_again() {
        let dir = tempfile::tempdir().unwrap();
        let clip = dir.path().join("clip.mp4");
        std::fs::write(&clip, b"the first version").unwrap();
        let entries = vec![Entry::file("clip.mp4", &clip)];
        let packages = [(dir.path().join("p.zip"), entries.clone())];
        let ahead = Ahead::new(&packages);
        ahead.work();
        std::fs::write(&clip, b"the second, longer version").unwrap();
        let pending = write_one(&dir.path().join("p.zip"), &entries, &ahead, &|_| {}).unwrap();
        let bytes = std::fs::read(pending.commit().unwrap().path).unwrap();
        assert_eq!(
            contents(bytes),
            [(
                "clip.mp4".to_string(),
                b"the second, longer version".to_vec()
            )]
        );
    }

    #[test]
    fn a_file_shorter_than_asked_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let from = dir.path().join("from");
        std::fs::write(&from, b"12345").unwrap();
        let to = File::create(dir.path().join("to")).unwrap();
        let from = File::open(&from).unwrap();
        copy_range(&from, &to, 5, &|_| {}).unwrap();
        assert!(copy_range(&from, &to, 6, &|_| {}).is_err());
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
