//! The one way to open a file of a course: every file coursepack reads
//! (course.toml, transcripts, captions, images, logo, media, templates)
//! goes through here.
//!
//! A course file must resolve, symbolic links followed, to a regular file
//! inside the course folder. It is opened without blocking (a named pipe
//! or a device never stalls the read), checked again on the open handle
//! (so a file swapped for a pipe after the check is still refused), and
//! text is read with a size limit. Hard links cannot be told apart from
//! ordinary files by their path; see the README.

use std::fmt;
use std::fs::{File, Metadata};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// Largest text file read whole: a transcript or a template.
pub const TEXT_LIMIT: u64 = 10 * 1000 * 1000;
/// Largest `course.toml` read.
pub const COURSE_TOML_LIMIT: u64 = 64 * 1000 * 1000;
/// Deepest folder nesting followed when listing a folder.
pub const MAX_DEPTH: usize = 16;

/// Why a course file was refused.
#[derive(Debug)]
pub enum Refusal {
    /// Nothing is there.
    Missing,
    /// The path, its links resolved, ends outside the course folder.
    Outside,
    /// The path runs through a symbolic link loop.
    Loop,
    /// Something other than a regular file: the words say what.
    NotAFile(&'static str),
    /// Larger than the limit, in bytes.
    TooBig(u64),
    /// Any other failure to read it.
    Io(io::Error),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Missing => write!(f, "does not exist"),
            Refusal::Outside => write!(f, "is a link to a file outside the course folder"),
            Refusal::Loop => write!(f, "is a symbolic link loop"),
            Refusal::NotAFile(kind) => write!(f, "is {kind}, not a regular file"),
            Refusal::TooBig(limit) => write!(f, "is larger than {} MB", limit / 1_000_000),
            Refusal::Io(e) => write!(f, "cannot be read: {e}"),
        }
    }
}

impl Refusal {
    /// How to put it right.
    pub fn help(&self) -> &'static str {
        match self {
            Refusal::Missing => "put the file inside the course folder",
            Refusal::Outside => "copy the file into the course folder",
            Refusal::Loop => "replace the link with the file it should point at",
            Refusal::NotAFile(_) => "point at an ordinary file inside the course folder",
            Refusal::TooBig(_) => "split the text, or shorten it",
            Refusal::Io(_) => "check the file's permissions",
        }
    }

    fn from_io(e: io::Error) -> Refusal {
        if e.kind() == io::ErrorKind::NotFound {
            return Refusal::Missing;
        }
        #[cfg(unix)]
        if e.raw_os_error() == Some(libc::ELOOP) {
            return Refusal::Loop;
        }
        Refusal::Io(e)
    }
}

/// What kind of thing `meta` describes, for messages.
pub fn kind_of(meta: &Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_dir() {
        return "a folder";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if t.is_file() {
        "a file"
    } else {
        "a special file"
    }
}

/// The real path of `path`, which must be inside `root` (both resolved).
pub fn resolve_inside(root: &Path, path: &Path) -> Result<PathBuf, Refusal> {
    let real_root = root.canonicalize().map_err(Refusal::from_io)?;
    let real = path.canonicalize().map_err(Refusal::from_io)?;
    if real.starts_with(&real_root) {
        Ok(real)
    } else {
        Err(Refusal::Outside)
    }
}

/// Resolves `root/rel` to a regular file inside `root` and opens it.
pub fn open(root: &Path, rel: &str) -> Result<(File, PathBuf), Refusal> {
    let real = resolve_inside(root, &root.join(rel))?;
    let file = open_regular(&real).map_err(|e| match e {
        OpenError::Io(e) => Refusal::from_io(e),
        OpenError::NotAFile(kind) => Refusal::NotAFile(kind),
    })?;
    Ok((file, real))
}

/// Checks that `root/rel` is a regular file inside `root`, without reading
/// it; returns its real path.
pub fn check(root: &Path, rel: &str) -> Result<PathBuf, Refusal> {
    open(root, rel).map(|(_, real)| real)
}

/// Reads `root/rel`, a regular file inside `root`, of at most `limit` bytes.
pub fn read(root: &Path, rel: &str, limit: u64) -> Result<Vec<u8>, Refusal> {
    let (file, _) = open(root, rel)?;
    read_limited(file, limit)
}

/// The first `n` bytes (or fewer) of `root/rel`, a regular file inside `root`.
pub fn read_prefix(root: &Path, rel: &str, n: u64) -> Result<Vec<u8>, Refusal> {
    let (file, _) = open(root, rel)?;
    let mut bytes = Vec::new();
    file.take(n).read_to_end(&mut bytes).map_err(Refusal::Io)?;
    Ok(bytes)
}

/// Reads at most `limit` bytes of `file`; more is a refusal.
pub fn read_limited(file: File, limit: u64) -> Result<Vec<u8>, Refusal> {
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(Refusal::Io)?;
    if bytes.len() as u64 > limit {
        return Err(Refusal::TooBig(limit));
    }
    Ok(bytes)
}

/// Why [`open_regular`] failed.
#[derive(Debug)]
pub enum OpenError {
    Io(io::Error),
    NotAFile(&'static str),
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpenError::Io(e) => e.fmt(f),
            OpenError::NotAFile(kind) => write!(f, "it is {kind}, not a regular file"),
        }
    }
}

impl std::error::Error for OpenError {}

/// Opens `path` for reading without ever blocking (a named pipe opens at
/// once and is then refused) and without following a final symbolic link,
/// and checks on the open handle that it is a regular file.
pub fn open_regular(path: &Path) -> Result<File, OpenError> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW | libc::O_NOCTTY);
    }
    let file = options.open(path).map_err(OpenError::Io)?;
    let meta = file.metadata().map_err(OpenError::Io)?;
    if !meta.is_file() {
        return Err(OpenError::NotAFile(kind_of(&meta)));
    }
    Ok(file)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn links_out_of_the_folder_loops_and_pipes_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("ok.txt"), "fine").unwrap();
        symlink("/etc/passwd", root.join("passwd.txt")).unwrap();
        symlink("loop-b", root.join("loop-a")).unwrap();
        symlink("loop-a", root.join("loop-b")).unwrap();
        symlink("/dev/zero", root.join("zero.txt")).unwrap();
        symlink("ok.txt", root.join("inside.txt")).unwrap();
        let fifo = std::ffi::CString::new(root.join("fifo.txt").to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);

        assert_eq!(read(root, "ok.txt", 10).unwrap(), b"fine");
        assert_eq!(read(root, "inside.txt", 10).unwrap(), b"fine");
        assert!(matches!(read(root, "ok.txt", 3), Err(Refusal::TooBig(3))));
        assert!(matches!(
            read(root, "passwd.txt", 10),
            Err(Refusal::Outside)
        ));
        assert!(matches!(read(root, "loop-a", 10), Err(Refusal::Loop)));
        assert!(matches!(read(root, "zero.txt", 10), Err(Refusal::Outside)));
        assert!(matches!(read(root, "nothing", 10), Err(Refusal::Missing)));
        assert!(matches!(
            read(root, "fifo.txt", 10),
            Err(Refusal::NotAFile("a named pipe (FIFO)"))
        ));
        assert!(matches!(
            open_regular(Path::new("/dev/zero")),
            Err(OpenError::NotAFile("a device"))
        ));
    }
}
