//! The files check: every file the manifest lists is present, regular and has the SHA-256
//! the manifest records; no path leaves the package; no file is there that it does not list.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::{Outcome, Verifier, VerifyError};
use crate::hash::lower_hex;
use crate::package::seal::SEAL_FILE;
use crate::package::{EVIDENCE_FILE, MANIFEST_FILE, Manifest};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FileKind {
    Regular,
    Other,
}

impl Verifier<'_> {
    pub(super) fn check_manifest_files(&mut self, manifest: &Manifest, manifest_modified: bool) {
        // Everything else first, while evidence.json is still being read on the other thread.
        for entry in &manifest.files {
            if entry.path != EVIDENCE_FILE {
                self.hash(&entry.path);
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
            self.record(Outcome::Fail, &path, "extra file: not in the manifest");
        }
    }
}

pub(super) fn hash_file(path: &Path) -> Option<(String, u64)> {
    let mut file = fs::File::open(path).ok()?;
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
        for entry in fs::read_dir(&path).map_err(|e| unreadable(&path, e))? {
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
