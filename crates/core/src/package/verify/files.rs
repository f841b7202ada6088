//! The files check: every file the manifest lists is present, regular and has the SHA-256
//! the manifest records; no path leaves the package; no file is there that it does not list.
//! Also how verify reads a package that may come from anywhere: regular files only (a
//! symbolic link, a FIFO or a device is listed as "not a regular file" and never opened, so
//! nothing outside the package is read and nothing blocks), never more than the manifest's
//! size plus one byte when hashing, and never more than the limit into memory.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::{Outcome, Verifier, VerifyError};
use crate::hash::lower_hex;
use crate::package::seal::SEAL_FILE;
use crate::package::signoff::SIGNOFFS_FILE;
use crate::package::{EVIDENCE_FILE, MANIFEST_FILE, Manifest, ManifestEntry};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FileKind {
    Regular,
    Other,
}

impl Verifier<'_> {
    pub(super) fn check_manifest_files(&mut self, manifest: &Manifest, manifest_modified: bool) {
        // evidence.json first: its hash comes from the thread that loads and evaluates it, and
        // hashing the other files (hundreds of MB) beside that load would slow the load, which
        // is on verify's critical path; beside the evaluation that follows, one core is idle.
        if manifest
            .files
            .iter()
            .any(|entry| entry.path == EVIDENCE_FILE)
        {
            self.hash(EVIDENCE_FILE);
        }
        let mut longer = BTreeMap::new();
        for entry in &manifest.files {
            if entry.path != EVIDENCE_FILE
                && let Some(size) = self.hash_listed(entry)
            {
                longer.insert(entry.path.as_str(), size);
            }
        }
        let mut listed = BTreeSet::new();
        for entry in &manifest.files {
            listed.insert(entry.path.as_str());
            if !is_safe_relative_path(&entry.path)
                || entry.path == MANIFEST_FILE
                || entry.path == SEAL_FILE
            {
                self.record(
                    Outcome::Fail,
                    MANIFEST_FILE,
                    format!("lists a path a package cannot hold: {:?}", entry.path),
                );
                continue;
            }
            if let Some(found) = longer.get(entry.path.as_str()) {
                self.record_longer(entry, *found, manifest_modified);
                continue;
            }
            match self.files.get(&entry.path) {
                None => {
                    self.record(Outcome::Fail, &entry.path, "missing: listed in the manifest");
                }
                Some(FileKind::Other) => {
                    self.record(Outcome::Fail, &entry.path, "not a regular file");
                }
                Some(FileKind::Regular) => match self.hash(&entry.path) {
                    None => self.record(Outcome::Fail, &entry.path, "cannot be read"),
                    Some((sha, _)) if sha == entry.sha256 => self.record(
                        Outcome::Ok,
                        &entry.path,
                        "SHA-256 matches the manifest",
                    ),
                    Some((sha, bytes)) if manifest_modified => self.record(
                        Outcome::Fail,
                        MANIFEST_FILE,
                        format!(
                            "lists SHA-256 {} for {}, the file has {sha} ({bytes} bytes)",
                            entry.sha256, entry.path
                        ),
                    ),
                    Some((sha, bytes)) => self.record(
                        Outcome::Fail,
                        &entry.path,
                        format!(
                            "modified: SHA-256 {sha} ({bytes} bytes), the manifest has {} ({} bytes)",
                            entry.sha256, entry.bytes
                        ),
                    ),
                },
            }
        }
        let extra: Vec<String> = self
            .files
            .keys()
            .filter(|path| {
                !listed.contains(path.as_str())
                    && path.as_str() != MANIFEST_FILE
                    && path.as_str() != SEAL_FILE
            })
            .cloned()
            .collect();
        for path in extra {
            let what = if path.ends_with('/') {
                "extra directory: empty, and nothing the manifest lists is in it"
            } else {
                "extra file: not in the manifest"
            };
            self.record(Outcome::Fail, &path, what);
        }
    }
}

/// A listed file found longer than its manifest entry, before or while hashing it.
#[derive(Debug, Clone, Copy)]
enum Longer {
    /// Its size on disk.
    Size(u64),
    /// It reported the listed size or less but held more (it grew while it was read).
    Grew,
}

impl Verifier<'_> {
    /// Hashes a listed file, unless it is longer than its entry: a file whose hash cannot match
    /// is not read to its end (a forged multi-gigabyte report.pdf costs nothing). Its hash stays
    /// unknown, so no other check compares it.
    fn hash_listed(&mut self, entry: &ManifestEntry) -> Option<Longer> {
        if self.hashes.contains_key(&entry.path)
            || self.files.get(&entry.path) != Some(&FileKind::Regular)
        {
            return None;
        }
        let path = self.dir.join(&entry.path);
        let longer = match fs::symlink_metadata(&path) {
            Ok(meta) if meta.len() > entry.bytes => Some(Longer::Size(meta.len())),
            _ => match hash_file(&path, entry.bytes.saturating_add(1)) {
                Some((_, size)) if size > entry.bytes => Some(Longer::Grew),
                hashed => {
                    self.hashes.insert(entry.path.clone(), hashed);
                    None
                }
            },
        };
        if longer.is_some() {
            self.hashes.insert(entry.path.clone(), None);
        }
        longer
    }
}

impl Verifier<'_> {
    /// A file longer than its entry: the file is modified, or the manifest is when the seal
    /// says so (as for a hash that differs).
    fn record_longer(&mut self, entry: &ManifestEntry, found: Longer, manifest_modified: bool) {
        let size = match found {
            Longer::Size(size) => format!("{size} bytes"),
            Longer::Grew => format!("more than {} bytes", entry.bytes),
        };
        if manifest_modified {
            self.record(
                Outcome::Fail,
                MANIFEST_FILE,
                format!(
                    "lists {} bytes for {}, the file has {size} (not hashed past the listed size)",
                    entry.bytes, entry.path
                ),
            );
        } else {
            self.record(
                Outcome::Fail,
                &entry.path,
                format!(
                    "modified: {size}, the manifest has {} bytes (not hashed past the manifest's size)",
                    entry.bytes
                ),
            );
        }
    }
}

/// SHA-256 and size of the regular file at `path`, streamed, reading at most `max_bytes`.
pub(super) fn hash_file(path: &Path, max_bytes: u64) -> Option<(String, u64)> {
    let mut file = open_regular(path)?.take(max_bytes);
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        let read = file.read(&mut buffer).ok()?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
        total += read as u64;
    }
    Some((lower_hex(&hasher.finalize()), total))
}

/// The whole regular file at `path`, or nothing when it holds more than `max_bytes`.
pub(super) fn read_regular(path: &Path, max_bytes: u64) -> Option<Vec<u8>> {
    let file = open_regular(path)?;
    let mut bytes = Vec::new();
    file.take(max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .ok()?;
    (bytes.len() as u64 <= max_bytes).then_some(bytes)
}

/// Opens `path` only if it is a regular file, checked before opening (opening a FIFO blocks;
/// a symbolic link could lead out of the package) and again on what was opened.
fn open_regular(path: &Path) -> Option<fs::File> {
    if !fs::symlink_metadata(path).ok()?.is_file() {
        return None;
    }
    let file = fs::File::open(path).ok()?;
    file.metadata().ok()?.is_file().then_some(file)
}

/// The files verify reads whole into memory (at any depth: history/ holds earlier ones).
fn read_into_memory(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    [EVIDENCE_FILE, MANIFEST_FILE, SEAL_FILE, SIGNOFFS_FILE].contains(&name)
}

/// Refuses, before anything is read, a package whose files read into memory are larger than
/// `max_bytes` (a forged package must not exhaust the auditor's machine).
pub(super) fn check_sizes(
    dir: &Path,
    files: &BTreeMap<String, FileKind>,
    max_bytes: u64,
) -> Result<(), VerifyError> {
    for (path, kind) in files {
        if *kind != FileKind::Regular || !read_into_memory(path) {
            continue;
        }
        let size = fs::symlink_metadata(dir.join(path)).map_or(0, |meta| meta.len());
        if size > max_bytes {
            return Err(VerifyError {
                path: dir.to_path_buf(),
                message: format!(
                    "{path} is {size} bytes, more than the limit of {max_bytes} bytes (--max-evidence-bytes); nothing was read"
                ),
            });
        }
    }
    Ok(())
}

/// A relative path inside the package: no root, no `..`, no empty or `.` parts, `/` only.
pub(super) fn is_safe_relative_path(path: &str) -> bool {
    !path.is_empty()
        && !path.contains('\\')
        && path
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..")
}

/// Every file under `dir` (relative, `/`-separated); symbolic links and other non-regular
/// entries are listed as such, never followed.
pub(super) fn list_files(dir: &Path) -> Result<BTreeMap<String, FileKind>, VerifyError> {
    let unreadable = |path: &Path, err: std::io::Error| VerifyError {
        path: path.to_path_buf(),
        message: err.to_string(),
    };
    let meta = fs::metadata(dir).map_err(|e| unreadable(dir, e))?;
    if !meta.is_dir() {
        return Err(VerifyError {
            path: dir.to_path_buf(),
            message: "not a directory".to_string(),
        });
    }
    let mut files = BTreeMap::new();
    let mut pending = vec![(dir.to_path_buf(), String::new())];
    while let Some((path, prefix)) = pending.pop() {
        let mut empty = true;
        for entry in fs::read_dir(&path).map_err(|e| unreadable(&path, e))? {
            empty = false;
            let entry = entry.map_err(|e| unreadable(&path, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let relative = format!("{prefix}{name}");
            let kind = entry
                .file_type()
                .map_err(|e| unreadable(&entry.path(), e))?;
            if kind.is_dir() {
                pending.push((entry.path(), format!("{relative}/")));
            } else if kind.is_file() {
                files.insert(relative, FileKind::Regular);
            } else {
                files.insert(relative, FileKind::Other);
            }
        }
        // A package writes directories only to hold files: an empty one was added afterwards
        // (`prefix` is the directory's own path with a final `/`; the package itself has none).
        if empty && !prefix.is_empty() {
            files.insert(prefix, FileKind::Other);
        }
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    pub(super) fn package_paths_stay_inside_the_package() {
        assert!(is_safe_relative_path("history/0/report.pdf"));
        for bad in ["", "/etc/passwd", "../x", "a/../b", "a//b", "a\\b", "./a"] {
            assert!(!is_safe_relative_path(bad), "{bad}");
        }
    }
}
