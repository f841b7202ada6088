//! Writing so that a reader never sees half a file or half a package: everything goes into a
//! temporary sibling (same directory, so the same file system) and is renamed into place, and
//! the directory is synced so the rename survives a power cut. Used by the package swap (a
//! staged directory, `package::swap`) and by the CLI's evidence-file writer.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Why a file could not be written atomically; each names the path and keeps the cause.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("cannot write in {}", dir.display())]
    Dir {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {}", path.display())]
    Persist {
        path: PathBuf,
        source: tempfile::PersistError,
    },
}

/// The directory `path` is in (`.` for a bare file name): where its temporary sibling goes.
pub fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Creates `path` with `bytes` and flushes it to disk.
pub fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = fs::File::create(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Writes `path` through a temporary file in the same directory and a rename, so a reader
/// never sees half a file and a failure leaves nothing behind. An existing file is replaced
/// only if `replace`.
pub fn write_file(path: &Path, bytes: &[u8], replace: bool) -> Result<(), WriteError> {
    let dir = parent_dir(path);
    let mut file = tempfile::Builder::new()
        .prefix(".gxp-evidence-")
        .tempfile_in(&dir)
        .map_err(|source| WriteError::Dir {
            dir: dir.clone(),
            source,
        })?;
    file.write_all(bytes)
        .and_then(|()| file.as_file().sync_all())
        .map_err(|source| WriteError::Write {
            path: path.to_path_buf(),
            source,
        })?;
    let persisted = if replace {
        file.persist(path).map(|_| ())
    } else {
        file.persist_noclobber(path).map(|_| ())
    };
    persisted.map_err(|source| WriteError::Persist {
        path: path.to_path_buf(),
        source,
    })?;
    sync_dir(&dir).map_err(|source| WriteError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// Flushes a directory's entries (names created, renamed or removed in it) to disk: without
/// it a rename can be lost in a power cut although the file's bytes were synced.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    fs::File::open(dir)?.sync_all()
}
