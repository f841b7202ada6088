//! The report package on disk: an output directory written atomically (temporary sibling,
//! then rename), never overwriting an existing directory unless asked, with a manifest of
//! the SHA-256 of every file.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::evidence::sha256_hex;
use crate::report::render::RenderedFile;

pub const MANIFEST_FILE: &str = "manifest.json";
pub const MANIFEST_FORMAT: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub manifest_format: u32,
    pub report_id: String,
    pub tool_version: String,
    pub files: Vec<ManifestEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestEntry {
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
}

impl Manifest {
    pub fn for_files(report_id: &str, files: &[RenderedFile]) -> Self {
        let mut entries: Vec<ManifestEntry> = files
            .iter()
            .map(|f| ManifestEntry {
                path: f.name.clone(),
                sha256: sha256_hex(&f.bytes),
                bytes: f.bytes.len() as u64,
            })
            .collect();
        entries.sort_by(|a, b| a.path.cmp(&b.path));
        Self {
            manifest_format: MANIFEST_FORMAT,
            report_id: report_id.to_string(),
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            files: entries,
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).expect("the manifest always serializes");
        bytes.push(b'\n');
        bytes
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    #[error("output directory {} already exists (use --force to replace it)", .0.display())]
    Exists(PathBuf),
    #[error("output path {} exists and is not a directory", .0.display())]
    NotADirectory(PathBuf),
    #[error("cannot write output directory {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> PackageError + '_ {
    move |source| PackageError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Fails early, before any work, if `out` may not be written.
pub fn check_output_dir(out: &Path, force: bool) -> Result<(), PackageError> {
    match fs::symlink_metadata(out) {
        Ok(meta) if !meta.is_dir() => Err(PackageError::NotADirectory(out.to_path_buf())),
        Ok(_) if !force => Err(PackageError::Exists(out.to_path_buf())),
        _ => Ok(()),
    }
}

/// Writes `files` plus `manifest.json` into `out`. All files are written into a temporary
/// sibling directory first and renamed into place, so a failure leaves nothing behind and a
/// reader never sees a half-written package.
pub fn write_output_dir(out: &Path, report_id: &str, files: &[RenderedFile], force: bool) -> Result<Manifest, PackageError> {
    check_output_dir(out, force)?;
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(io_error(&parent))?;
    let staging = tempfile::Builder::new()
        .prefix(".gxp-evidence-staging-")
        .tempdir_in(&parent)
        .map_err(io_error(&parent))?;
    let manifest = Manifest::for_files(report_id, files);
    for file in files {
        write_file(&staging.path().join(&file.name), &file.bytes)?;
    }
    write_file(&staging.path().join(MANIFEST_FILE), &manifest.to_bytes())?;

    let old = if out.exists() {
        let backup = tempfile::Builder::new()
            .prefix(".gxp-evidence-replaced-")
            .tempdir_in(&parent)
            .map_err(io_error(&parent))?;
        let backup_path = backup.path().join("old");
        fs::rename(out, &backup_path).map_err(io_error(out))?;
        Some(backup)
    } else {
        None
    };
    let staged = staging.keep();
    if let Err(source) = fs::rename(&staged, out) {
        let _ = fs::remove_dir_all(&staged);
        if let Some(backup) = &old {
            let _ = fs::rename(backup.path().join("old"), out);
        }
        return Err(PackageError::Io {
            path: out.to_path_buf(),
            source,
        });
    }
    drop(old);
    Ok(manifest)
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), PackageError> {
    let mut file = fs::File::create(path).map_err(io_error(path))?;
    file.write_all(bytes).map_err(io_error(path))?;
    file.sync_all().map_err(io_error(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files() -> Vec<RenderedFile> {
        vec![
            RenderedFile { name: "b.csv".into(), bytes: b"x".to_vec() },
            RenderedFile { name: "a.json".into(), bytes: b"{}".to_vec() },
        ]
    }

    #[test]
    fn writes_files_and_sorted_manifest_and_refuses_to_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("nested/report");
        let manifest = write_output_dir(&out, "R1", &files(), false).unwrap();
        assert_eq!(manifest.files[0].path, "a.json");
        assert_eq!(manifest.files[1].sha256, sha256_hex(b"x"));
        assert!(out.join(MANIFEST_FILE).is_file());
        let err = write_output_dir(&out, "R1", &files(), false).unwrap_err();
        assert!(matches!(err, PackageError::Exists(_)));
        write_output_dir(&out, "R2", &files()[..1], true).unwrap();
        assert!(!out.join("a.json").exists(), "--force replaces the directory, it does not merge");
        let leftovers: Vec<_> = fs::read_dir(out.parent().unwrap()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no staging or backup directories are left behind");
    }
}
