//! Where a package lives and how a new state takes its place, safe against mistakes, races
//! and crashes: the path resolved (symlinks followed), so every name of a package locks the
//! same lock and replaces the same directory; the lock on the folder that holds it; the
//! staging directory a new state is written into; the swap; and the recovery of a swap that a
//! crash interrupted.
//!
//! A staging directory `.gxp-evidence-staging-*` beside the package holds `target` (the
//! package's file name), `new/` (the state being written) and, during the swap, `old/` (the
//! state it replaces). Its writer holds an exclusive lock on the staging directory for as long
//! as it lives, so a staging directory no one holds was left by a dead process. Leftovers are
//! only looked at, restored and removed with the folder lock held, the lock every writer takes
//! around its swap.

use std::fmt;
use std::fs;
use std::path::{Component, Path, PathBuf};

use super::PackageError;
use crate::atomic::{self, sync_dir};

pub const STAGING_PREFIX: &str = ".gxp-evidence-staging-";
/// What versions before 0.2 named the directory holding a replaced package during the swap.
const LEGACY_REPLACED_PREFIX: &str = ".gxp-evidence-replaced-";
const TARGET_FILE: &str = "target";
const NEW_DIR: &str = "new";
const OLD_DIR: &str = "old";
/// Linux's own limit on symlinks followed in one path.
const MAX_SYMLINKS: usize = 40;

/// Debug builds (the test suite) abort between the two renames of the swap when this is set,
/// as a crash or a power cut would; a release build never reads it.
pub const TEST_CRASH_VAR: &str = "GXP_EVIDENCE_TEST_CRASH_MID_SWAP";

/// A package's place on disk with every symlink resolved: writing through a symlink
/// replaces the directory it points to, never the link.
#[derive(Debug, Clone)]
pub struct PackagePath {
    dir: PathBuf,
    parent: PathBuf,
    name: String,
}

impl PackagePath {
    /// Resolves `path`, which need not exist (a new report, or a package a crash left
    /// missing): the symlinks of its last component are followed even when they dangle, and
    /// its nearest existing ancestor is canonicalized.
    pub fn resolve(path: &Path) -> Result<Self, PackageError> {
        let unresolvable = |source: std::io::Error| PackageError::Resolve {
            path: path.to_path_buf(),
            source,
        };
        let mut current = std::path::absolute(path).map_err(unresolvable)?;
        let mut links = 0;
        while fs::symlink_metadata(&current).is_ok_and(|meta| meta.file_type().is_symlink()) {
            links += 1;
            if links > MAX_SYMLINKS {
                return Err(unresolvable(std::io::Error::other(
                    "too many levels of symlinks",
                )));
            }
            let target = fs::read_link(&current).map_err(unresolvable)?;
            current = atomic::parent_dir(&current).join(target);
        }
        let mut existing = current.as_path();
        let mut missing = Vec::new();
        let canonical = loop {
            match fs::canonicalize(existing) {
                Ok(canonical) => break canonical,
                Err(err) => match (existing.components().next_back(), existing.parent()) {
                    (Some(Component::Normal(name)), Some(up)) => {
                        missing.push(name.to_os_string());
                        existing = up;
                    }
                    _ => return Err(unresolvable(err)),
                },
            }
        };
        let dir = missing
            .iter()
            .rev()
            .fold(canonical, |dir, name| dir.join(name));
        let (Some(parent), Some(name)) = (dir.parent(), dir.file_name()) else {
            return Err(unresolvable(std::io::Error::other(
                "a package needs a folder to live in",
            )));
        };
        let name = name.to_str().map(str::to_string).ok_or_else(|| {
            unresolvable(std::io::Error::other("the package's name is not UTF-8"))
        })?;
        Ok(Self {
            parent: parent.to_path_buf(),
            name,
            dir,
        })
    }

    /// The package directory (it may not exist).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The folder that holds the package, and its lock.
    pub fn parent(&self) -> &Path {
        &self.parent
    }

    /// Takes the folder lock (waiting for another writer to finish) and recovers what an
    /// interrupted write left in the folder.
    pub fn lock(self) -> Result<LockedPackage, PackageError> {
        let lock = FolderLock::acquire(&self.parent)?;
        recover_locked(&self.parent)?;
        Ok(LockedPackage { path: self, lock })
    }
}

/// The lock every writer of a folder's packages holds around its swap, and `sign` from its
/// verification to its swap: an exclusive lock on the folder itself.
pub(crate) struct FolderLock {
    _folder: fs::File,
}

impl FolderLock {
    pub(crate) fn acquire(folder: &Path) -> Result<Self, PackageError> {
        let lock_error = |source| PackageError::Lock {
            path: folder.to_path_buf(),
            source,
        };
        let file = fs::File::open(folder).map_err(lock_error)?;
        file.lock().map_err(lock_error)?;
        Ok(Self { _folder: file })
    }
}

/// A package with its folder locked: nothing else replaces it until this is dropped.
pub struct LockedPackage {
    pub(crate) path: PackagePath,
    pub(crate) lock: FolderLock,
}

impl LockedPackage {
    pub fn dir(&self) -> &Path {
        self.path.dir()
    }
}

/// Where a new state of a package is written; removed when dropped (with the state it
/// replaced, after a swap).
pub(crate) struct Staging {
    // Declared before `owner`: the directory is removed while its lock is still held.
    dir: tempfile::TempDir,
    owner: fs::File,
}

impl Staging {
    /// A staging directory for `path`, created (with its folder) while the caller holds the
    /// folder lock, so recovery never finds it half made.
    pub(crate) fn create(path: &PackagePath, _held: &FolderLock) -> std::io::Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix(STAGING_PREFIX)
            .tempdir_in(&path.parent)?;
        let owner = fs::File::open(dir.path())?;
        owner.try_lock().map_err(std::io::Error::other)?;
        atomic::write_synced(&dir.path().join(TARGET_FILE), path.name.as_bytes())?;
        fs::create_dir(dir.path().join(NEW_DIR))?;
        sync_dir(dir.path())?;
        sync_dir(&path.parent)?;
        Ok(Self { dir, owner })
    }

    /// The directory the new state is written into.
    pub(crate) fn new_state(&self) -> PathBuf {
        self.dir.path().join(NEW_DIR)
    }

    /// Moves the new state into place, the caller holding the folder lock: the package there
    /// (if any) to `old/` first, then `new/` to the package's path, then the folder is synced
    /// so both renames survive a power cut. A crash between the renames leaves the package
    /// missing and both states here, which `recover_locked` puts back.
    pub(crate) fn swap_into_place(
        self,
        path: &PackagePath,
        _held: &FolderLock,
    ) -> Result<(), PackageError> {
        let io_error = |path: &Path| {
            let path = path.to_path_buf();
            move |source| PackageError::Io { path, source }
        };
        let new = self.new_state();
        sync_tree(&new).map_err(io_error(&new))?;
        let old = self.dir.path().join(OLD_DIR);
        let replacing = fs::symlink_metadata(&path.dir).is_ok();
        if replacing {
            fs::rename(&path.dir, &old).map_err(io_error(&path.dir))?;
        }
        crash_if_testing();
        if let Err(source) = fs::rename(&new, &path.dir) {
            // The earlier state goes back; if even that fails it must outlive this writer.
            if replacing && let Err(source) = fs::rename(&old, &path.dir) {
                let kept = self.dir.keep();
                return Err(PackageError::Interrupted {
                    package: path.dir.clone(),
                    old: kept.join(OLD_DIR),
                    source,
                });
            }
            return Err(PackageError::Io {
                path: path.dir.clone(),
                source,
            });
        }
        sync_dir(&path.parent).map_err(io_error(&path.parent))?;
        drop(self.dir);
        drop(self.owner);
        Ok(())
    }
}

#[cfg(debug_assertions)]
fn crash_if_testing() {
    if std::env::var_os(TEST_CRASH_VAR).is_some() {
        std::process::abort();
    }
}

#[cfg(not(debug_assertions))]
fn crash_if_testing() {}

/// `sync_dir` for `dir` and every directory under it (the files are synced as written).
fn sync_tree(dir: &Path) -> std::io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            sync_tree(&entry.path())?;
        }
    }
    sync_dir(dir)
}

/// What recovery did, or could not do, about a leftover of an interrupted write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recovery {
    /// A swap was interrupted between its renames: the package's earlier state was moved
    /// back into place (the interrupted command had not reported success).
    Restored { package: PathBuf, from: PathBuf },
    /// The staging directory of a process that died was removed (with the package it was
    /// for, when it got as far as naming it).
    Removed {
        leftover: PathBuf,
        package: Option<PathBuf>,
    },
    /// A leftover that is not removed, and why.
    Kept { leftover: PathBuf, reason: String },
}

impl fmt::Display for Recovery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Recovery::Restored { package, from } => write!(
                f,
                "{} was missing after an interrupted write; its earlier state was moved back from {}",
                package.display(),
                from.display()
            ),
            Recovery::Removed { leftover, package } => {
                write!(
                    f,
                    "removed {}, left by an interrupted write",
                    leftover.display()
                )?;
                match package {
                    Some(package) => write!(f, " of {}", package.display()),
                    None => Ok(()),
                }
            }
            Recovery::Kept { leftover, reason } => {
                write!(f, "left {} as it is: {reason}", leftover.display())
            }
        }
    }
}

/// Before a command reads or replaces the package at `path`: recovers what interrupted
/// writes left in its folder (see `recover_locked`). The folder lock is only taken when there
/// is a leftover to look at, so verifying an intact archive waits for no one.
pub fn recover_interrupted(path: &Path) -> Result<Vec<Recovery>, PackageError> {
    let path = PackagePath::resolve(path)?;
    if leftovers(&path.parent).is_empty() {
        return Ok(Vec::new());
    }
    let _lock = FolderLock::acquire(&path.parent)?;
    recover_locked(&path.parent)
}

/// The staging (and legacy) directories in `folder`; none if it cannot be read.
fn leftovers(folder: &Path) -> Vec<fs::DirEntry> {
    let Ok(entries) = fs::read_dir(folder) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter(|entry| {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            name.starts_with(STAGING_PREFIX) || name.starts_with(LEGACY_REPLACED_PREFIX)
        })
        .collect()
}

/// With the folder lock held: every package a swap left missing gets its earlier state
/// back, and the staging directories of dead processes are removed. A staging directory
/// whose owner still holds its lock is never touched; nor is a legacy one, whose owner
/// cannot be told.
pub(crate) fn recover_locked(folder: &Path) -> Result<Vec<Recovery>, PackageError> {
    let mut done = Vec::new();
    for entry in leftovers(folder) {
        let leftover = entry.path();
        if !entry
            .file_name()
            .to_string_lossy()
            .starts_with(STAGING_PREFIX)
        {
            done.push(Recovery::Kept {
                leftover,
                reason: "an earlier gxp-evidence version's write was interrupted here; if a package in this folder is missing, move old/ from here back to its name".to_string(),
            });
            continue;
        }
        // Only a real directory can be one gxp-evidence made. A link could point anywhere (a
        // recovery would then move other people's directories) and a pipe would block the
        // open below, so anything else is named and left alone.
        if !entry.file_type().is_ok_and(|kind| kind.is_dir()) {
            done.push(Recovery::Kept {
                leftover,
                reason: "it is not a directory (a link, file or pipe), so gxp-evidence did not make it; remove it if you know what it is".to_string(),
            });
            continue;
        }
        let Ok(owner) = fs::File::open(&leftover) else {
            continue;
        };
        if owner.try_lock().is_err() {
            continue; // a live writer's
        }
        let target = leftover.join(TARGET_FILE);
        let name = fs::symlink_metadata(&target)
            .is_ok_and(|meta| meta.is_file() && meta.len() <= 4096)
            .then(|| fs::read_to_string(&target).ok())
            .flatten()
            .filter(|name| is_plain_name(name));
        let old = leftover.join(OLD_DIR);
        let old_is_dir = fs::symlink_metadata(&old).is_ok_and(|meta| meta.is_dir());
        let package = match name {
            Some(name) => Some(folder.join(name)),
            None if fs::symlink_metadata(&old).is_ok() => {
                done.push(Recovery::Kept {
                    leftover,
                    reason: "it holds a package's earlier state in old/ but not the package's name; move old/ back to the missing package's name".to_string(),
                });
                continue;
            }
            // Its writer died making it (creation and recovery both hold the folder lock).
            None => None,
        };
        if let Some(package) = &package
            && old_is_dir
        {
            if fs::symlink_metadata(package).is_err() {
                fs::rename(&old, package)
                    .and_then(|()| sync_dir(folder))
                    .map_err(|source| PackageError::Interrupted {
                        package: package.clone(),
                        old: old.clone(),
                        source,
                    })?;
                done.push(Recovery::Restored {
                    package: package.clone(),
                    from: leftover.clone(),
                });
            } else if leftover.join(NEW_DIR).exists() {
                // The new state never moved into place, so what is there now came from
                // elsewhere: old/ may be the only copy of a signed record.
                done.push(Recovery::Kept {
                    reason: format!(
                        "old/ in it is the earlier state of {}, which an interrupted write moved aside, and something else has been put at that path since; compare the two and move old/ back by hand",
                        package.display()
                    ),
                    leftover,
                });
                continue;
            }
        }
        match fs::remove_dir_all(&leftover) {
            Ok(()) => done.push(Recovery::Removed { leftover, package }),
            Err(err) => done.push(Recovery::Kept {
                leftover,
                reason: format!(
                    "a dead process's staging directory that cannot be removed ({err}); remove it by hand"
                ),
            }),
        }
    }
    Ok(done)
}

fn is_plain_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\\', '\0'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_dangling_symlink_resolves_to_where_its_package_belongs() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("archive");
        fs::create_dir(&real).unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink("archive/package", &link).unwrap();
        let resolved = PackagePath::resolve(&link).unwrap();
        assert_eq!(resolved.dir(), real.canonicalize().unwrap().join("package"));
        assert_eq!(resolved.parent(), real.canonicalize().unwrap());
        let missing = PackagePath::resolve(&dir.path().join("a/b/c")).unwrap();
        assert_eq!(
            missing.parent(),
            dir.path().canonicalize().unwrap().join("a/b")
        );
    }

    #[test]
    fn a_live_writers_staging_directory_is_never_touched() {
        let dir = tempfile::tempdir().unwrap();
        let path = PackagePath::resolve(&dir.path().join("package")).unwrap();
        let lock = FolderLock::acquire(path.parent()).unwrap();
        let live = Staging::create(&path, &lock).unwrap();
        fs::write(live.new_state().join("evidence.json"), b"{}").unwrap();
        assert_eq!(recover_locked(path.parent()).unwrap(), Vec::new());
        assert!(live.new_state().join("evidence.json").is_file());
        let leftover = live.dir.path().to_path_buf();
        // The writer dies without cleaning up: its lock goes with it.
        std::mem::forget(live.dir);
        drop(live.owner);
        assert_eq!(
            recover_locked(path.parent()).unwrap(),
            vec![Recovery::Removed {
                leftover: leftover.clone(),
                package: Some(path.dir().to_path_buf())
            }]
        );
        assert!(!leftover.exists());
    }

    #[test]
    fn an_earlier_state_is_never_removed_while_another_directory_holds_its_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = PackagePath::resolve(&dir.path().join("package")).unwrap();
        let lock = FolderLock::acquire(path.parent()).unwrap();
        let staging = Staging::create(&path, &lock).unwrap();
        let leftover = staging.dir.keep();
        drop(staging.owner);
        // Crashed between the renames, and then someone made a directory at the path.
        fs::create_dir_all(leftover.join(OLD_DIR)).unwrap();
        fs::write(leftover.join(OLD_DIR).join("manifest.sig"), b"{}").unwrap();
        fs::create_dir(path.dir()).unwrap();
        let done = recover_locked(path.parent()).unwrap();
        assert!(
            matches!(&done[..], [Recovery::Kept { reason, .. }] if reason.contains("move old/ back by hand")),
            "{done:?}"
        );
        assert!(leftover.join(OLD_DIR).join("manifest.sig").is_file());
        // Once that directory is gone, the earlier state goes back.
        fs::remove_dir(path.dir()).unwrap();
        let done = recover_locked(path.parent()).unwrap();
        assert!(
            matches!(
                &done[..],
                [Recovery::Restored { .. }, Recovery::Removed { .. }]
            ),
            "{done:?}"
        );
        assert!(path.dir().join("manifest.sig").is_file());
    }
}
