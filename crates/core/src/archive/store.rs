//! Writing a revision into a local archive directory: the archive lock, the period directory,
//! the staging directory a new revision is written and sealed in, and the rename that
//! publishes it as `r<N>`.
//!
//! Annex 11 §7.1 asks that stored data stay accessible and intact, so a published revision is
//! never written to again: a new run adds `r<N+1>`. A run that dies at any moment (kill -9,
//! power cut) leaves at most a `.staging-*` directory, which readers skip (it is not an
//! `r<N>` name, see `parse_revision_dir_name`) and the next run removes under the lock.

use std::fs;
use std::path::{Path, PathBuf};

use super::{revision_dir_name, system_dir_name};
use crate::atomic::sync_dir;

/// The file whose lock one run holds on the whole archive.
pub const LOCK_FILE: &str = ".lock";
/// The name prefix of a staging directory inside a period directory.
pub const STAGING_PREFIX: &str = ".staging-";
/// The package directory inside a staging directory.
const STAGED_PACKAGE: &str = "package";

/// Why a revision could not be written into the archive. Nothing is published in any case.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the archive {} is not a directory", .0.display())]
    NotADirectory(PathBuf),
    #[error(
        "another run is writing to the archive {} (it holds the lock on {}); nothing was written, run again once it has finished",
        archive.display(),
        lock.display()
    )]
    Busy { archive: PathBuf, lock: PathBuf },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("revision {} already exists; an archived revision is never replaced", .0.display())]
    RevisionExists(PathBuf),
    #[error("{} has no revision after r{}", .0.display(), u32::MAX)]
    NoNextRevision(PathBuf),
    #[error(
        "{} is a symbolic link or not a directory: a run writes only into the archive's own directories (the readers do not follow links, so a revision there would be invisible); nothing was written",
        .0.display()
    )]
    NotInArchive(PathBuf),
}

/// `path` is nothing yet, or a real directory (`dir`) / regular file, not a symbolic link:
/// a link would send what the run writes outside the archive.
fn check_own(path: &Path, dir: bool) -> Result<(), StoreError> {
    match fs::symlink_metadata(path) {
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(StoreError::Io {
            path: path.to_path_buf(),
            source,
        }),
        Ok(meta) if (dir && meta.is_dir()) || (!dir && meta.is_file()) => Ok(()),
        Ok(_) => Err(StoreError::NotInArchive(path.to_path_buf())),
    }
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A local archive directory, which must exist (so a mistyped path does not start a second
/// archive).
#[derive(Debug, Clone)]
pub struct LocalArchive {
    root: PathBuf,
}

impl LocalArchive {
    pub fn open(root: &Path) -> Result<Self, StoreError> {
        if !fs::metadata(root).map_err(io_error(root))?.is_dir() {
            return Err(StoreError::NotADirectory(root.to_path_buf()));
        }
        Ok(Self {
            root: root.to_path_buf(),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Takes the archive's lock without waiting: a second run on the same archive stops at
    /// once rather than queueing behind a collection that may take an hour. The lock is a
    /// `flock` on `ARCHIVE/.lock`, released by the kernel when its holder dies, so a killed
    /// run never leaves the archive locked.
    pub fn lock(&self) -> Result<ArchiveLock, StoreError> {
        let path = self.root.join(LOCK_FILE);
        check_own(&path, false)?;
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io_error(&path))?;
        match file.try_lock() {
            Ok(()) => Ok(ArchiveLock {
                archive: self.clone(),
                _file: file,
            }),
            Err(fs::TryLockError::WouldBlock) => Err(StoreError::Busy {
                archive: self.root.clone(),
                lock: path,
            }),
            Err(fs::TryLockError::Error(source)) => Err(StoreError::Io { path, source }),
        }
    }
}

/// The archive, locked by this process until dropped.
#[derive(Debug)]
pub struct ArchiveLock {
    archive: LocalArchive,
    _file: fs::File,
}

impl ArchiveLock {
    /// The directory of `system_name`'s reports on `period_dir` (`YYYY-MM`), created if it is
    /// missing, with what dead runs left there removed.
    pub fn period(&self, system_name: &str, period_dir: &str) -> Result<PeriodDir<'_>, StoreError> {
        let system_dir = self.archive.root.join(system_dir_name(system_name));
        let dir = system_dir.join(period_dir);
        check_own(&system_dir, true)?;
        check_own(&dir, true)?;
        fs::create_dir_all(&dir).map_err(io_error(&dir))?;
        let period = PeriodDir { dir, _lock: self };
        period.remove_stale_staging()?;
        Ok(period)
    }
}

/// One system's period directory in a locked archive.
#[derive(Debug)]
pub struct PeriodDir<'lock> {
    dir: PathBuf,
    _lock: &'lock ArchiveLock,
}

impl PeriodDir<'_> {
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// The newest revision and its directory, if the period has any.
    pub fn latest(&self) -> Result<Option<(u32, PathBuf)>, StoreError> {
        super::latest_revision(&self.dir).map_err(io_error(&self.dir))
    }

    /// The revision after the newest one (1 for an empty period).
    pub fn next_revision(&self) -> Result<u32, StoreError> {
        match self.latest()? {
            None => Ok(1),
            Some((newest, _)) => newest
                .checked_add(1)
                .ok_or_else(|| StoreError::NoNextRevision(self.dir.clone())),
        }
    }

    /// A new staging directory for the next revision, removed when dropped unless published.
    pub fn stage(&self) -> Result<StagedRevision<'_>, StoreError> {
        let staging = tempfile::Builder::new()
            .prefix(&format!("{STAGING_PREFIX}{}-", std::process::id()))
            .tempdir_in(&self.dir)
            .map_err(io_error(&self.dir))?;
        Ok(StagedRevision {
            staging,
            period: self,
        })
    }

    /// Staging directories are only ever written under the archive lock, which this run
    /// holds: any that exist were left by a run that died.
    fn remove_stale_staging(&self) -> Result<(), StoreError> {
        for entry in fs::read_dir(&self.dir).map_err(io_error(&self.dir))? {
            let entry = entry.map_err(io_error(&self.dir))?;
            if entry
                .file_name()
                .to_str()
                .is_some_and(|name| name.starts_with(STAGING_PREFIX))
            {
                let path = entry.path();
                fs::remove_dir_all(&path).map_err(io_error(&path))?;
            }
        }
        Ok(())
    }
}

/// A revision being written: the package goes to `package_dir()`, and `publish` renames it to
/// `r<N>` in one step, so a reader sees either no revision or the whole sealed one.
#[derive(Debug)]
pub struct StagedRevision<'period> {
    staging: tempfile::TempDir,
    period: &'period PeriodDir<'period>,
}

impl StagedRevision<'_> {
    /// Where the package is written (it does not exist yet).
    pub fn package_dir(&self) -> PathBuf {
        self.staging.path().join(STAGED_PACKAGE)
    }

    /// Makes the staged package revision `revision` of the period; returns its directory.
    /// An existing `r<N>` is never replaced (the archive lock keeps other runs out, and this
    /// check keeps out a hand-made directory).
    pub fn publish(self, revision: u32) -> Result<PathBuf, StoreError> {
        let target = self.period.dir.join(revision_dir_name(revision));
        if fs::symlink_metadata(&target).is_ok() {
            return Err(StoreError::RevisionExists(target));
        }
        let package = self.package_dir();
        fs::rename(&package, &target).map_err(io_error(&target))?;
        sync_dir(&self.period.dir).map_err(io_error(&self.period.dir))?;
        Ok(target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn archive() -> (tempfile::TempDir, LocalArchive) {
        let dir = tempfile::tempdir().expect("tempdir");
        let archive = LocalArchive::open(dir.path()).expect("opens");
        (dir, archive)
    }

    #[test]
    fn a_second_lock_on_the_same_archive_is_refused_until_the_first_is_dropped() {
        let (_dir, archive) = archive();
        let held = archive.lock().expect("first lock");
        let second = archive.lock();
        assert!(matches!(second, Err(StoreError::Busy { .. })), "{second:?}");
        drop(held);
        archive.lock().expect("lock after release");
    }

    #[test]
    fn revisions_are_numbered_after_the_newest_and_staging_is_neither_counted_nor_kept() {
        let (dir, archive) = archive();
        let lock = archive.lock().expect("lock");
        let period = lock.period("LIMS (EU)", "2026-10").expect("period");
        assert_eq!(period.path(), dir.path().join("lims-eu/2026-10"));
        assert_eq!(period.next_revision().expect("next"), 1);
        for name in ["r1", "r3", "r03", "notes"] {
            fs::create_dir(period.path().join(name)).expect("mkdir");
        }
        fs::write(period.path().join("r7"), b"a file, not a revision").expect("write");
        assert_eq!(
            period.latest().expect("latest"),
            Some((3, period.path().join("r3")))
        );
        assert_eq!(period.next_revision().expect("next"), 4);

        let staged = period.stage().expect("stage");
        let staging = staged.staging.path().to_path_buf();
        fs::create_dir(staged.package_dir()).expect("package");
        fs::write(staged.package_dir().join("manifest.json"), b"{}").expect("file");
        assert_eq!(
            period.next_revision().expect("next"),
            4,
            "staging is no revision"
        );
        let published = staged.publish(4).expect("publish");
        assert_eq!(published, period.path().join("r4"));
        assert!(published.join("manifest.json").is_file());
        assert!(!staging.exists(), "the staging directory is removed");
    }

    #[test]
    fn publishing_never_replaces_an_existing_revision() {
        let (_dir, archive) = archive();
        let lock = archive.lock().expect("lock");
        let period = lock.period("lims", "2026-10").expect("period");
        fs::create_dir(period.path().join("r1")).expect("r1");
        let staged = period.stage().expect("stage");
        fs::create_dir(staged.package_dir()).expect("package");
        let refused = staged.publish(1);
        assert!(
            matches!(refused, Err(StoreError::RevisionExists(_))),
            "{refused:?}"
        );
        assert_eq!(
            fs::read_dir(period.path().join("r1")).expect("r1").count(),
            0
        );
    }

    #[test]
    fn staging_left_by_a_dead_run_is_removed_by_the_next_one() {
        let (_dir, archive) = archive();
        let period_dir = {
            let lock = archive.lock().expect("lock");
            let period = lock.period("lims", "2026-10").expect("period");
            let staged = period.stage().expect("stage");
            fs::create_dir(staged.package_dir()).expect("package");
            // A run killed here never drops its staging directory.
            std::mem::forget(staged);
            period.path().to_path_buf()
        };
        let leftovers = || {
            fs::read_dir(&period_dir)
                .expect("read")
                .filter_map(Result::ok)
                .filter(|e| e.file_name().to_string_lossy().starts_with(STAGING_PREFIX))
                .count()
        };
        assert_eq!(leftovers(), 1);
        let lock = archive.lock().expect("lock");
        lock.period("lims", "2026-10").expect("period");
        assert_eq!(leftovers(), 0);
    }

    #[test]
    fn an_archive_must_be_an_existing_directory() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("file");
        fs::write(&file, b"").expect("write");
        assert!(matches!(
            LocalArchive::open(&file),
            Err(StoreError::NotADirectory(_))
        ));
        assert!(matches!(
            LocalArchive::open(&dir.path().join("missing")),
            Err(StoreError::Io { .. })
        ));
    }

    #[cfg(unix)]
    #[test]
    fn a_run_never_writes_through_a_symbolic_link_in_the_archive() {
        let (dir, first) = archive();
        let elsewhere = tempfile::tempdir().expect("tempdir");
        std::os::unix::fs::symlink(elsewhere.path(), dir.path().join("lims")).expect("symlink");
        let lock = first.lock().expect("locked");
        assert!(matches!(
            lock.period("LIMS", "2026-10"),
            Err(StoreError::NotInArchive(_))
        ));
        assert_eq!(fs::read_dir(elsewhere.path()).expect("dir").count(), 0);
        drop(lock);

        let (dir, second) = archive();
        let target = elsewhere.path().join("created-by-the-lock");
        std::os::unix::fs::symlink(&target, dir.path().join(LOCK_FILE)).expect("symlink");
        assert!(matches!(second.lock(), Err(StoreError::NotInArchive(_))));
        assert!(!target.exists());
    }
}
