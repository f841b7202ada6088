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

/// A package being written: files go into a temporary sibling directory as they come, and
/// `commit` adds `manifest.json` and renames the directory into place. Dropping it without
/// committing removes everything, so a failure leaves nothing behind and a reader never sees
/// a half-written package.
pub struct PackageWriter {
    out: PathBuf,
    parent: PathBuf,
    staging: tempfile::TempDir,
    entries: Vec<ManifestEntry>,
}

impl PackageWriter {
    pub fn create(out: &Path, force: bool) -> Result<Self, PackageError> {
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
        Ok(Self {
            out: out.to_path_buf(),
            parent,
            staging,
            entries: Vec::new(),
        })
    }

    pub fn add(&mut self, file: &RenderedFile) -> Result<(), PackageError> {
        write_file(&self.staging.path().join(&file.name), &file.bytes)?;
        self.entries.push(ManifestEntry {
            path: file.name.clone(),
            sha256: sha256_hex(&file.bytes),
            bytes: file.bytes.len() as u64,
        });
        Ok(())
    }

    pub fn commit(mut self, report_id: &str) -> Result<Manifest, PackageError> {
        self.entries.sort_by(|a, b| a.path.cmp(&b.path));
        let manifest = Manifest {
            manifest_format: MANIFEST_FORMAT,
            report_id: report_id.to_string(),
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            files: std::mem::take(&mut self.entries),
        };
        write_file(
            &self.staging.path().join(MANIFEST_FILE),
            &manifest.to_bytes(),
        )?;
        let (out, parent) = (&self.out, &self.parent);
        let old = if out.exists() {
            let backup = tempfile::Builder::new()
                .prefix(".gxp-evidence-replaced-")
                .tempdir_in(parent)
                .map_err(io_error(parent))?;
            fs::rename(out, backup.path().join("old")).map_err(io_error(out))?;
            Some(backup)
        } else {
            None
        };
        let staged = self.staging.keep();
        if let Err(source) = fs::rename(&staged, out) {
            let _ = fs::remove_dir_all(&staged);
            if let Some(backup) = &old {
                let _ = fs::rename(backup.path().join("old"), out);
            }
            return Err(PackageError::Io {
                path: out.clone(),
                source,
            });
        }
        Ok(manifest)
    }
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), PackageError> {
    let mut file = fs::File::create(path).map_err(io_error(path))?;
    file.write_all(bytes).map_err(io_error(path))?;
    file.sync_all().map_err(io_error(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_output_dir(
        out: &Path,
        report_id: &str,
        files: &[RenderedFile],
        force: bool,
    ) -> Result<Manifest, PackageError> {
        let mut package = PackageWriter::create(out, force)?;
        for file in files {
            package.add(file)?;
        }
        package.commit(report_id)
    }

    fn files() -> Vec<RenderedFile> {
        vec![
            RenderedFile {
                name: "b.csv".into(),
                bytes: b"x".to_vec(),
            },
            RenderedFile {
                name: "a.json".into(),
                bytes: b"{}".to_vec(),
            },
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
        assert!(
            !out.join("a.json").exists(),
            "--force replaces the directory, it does not merge"
        );
        let leftovers: Vec<_> = fs::read_dir(out.parent().unwrap()).unwrap().collect();
        assert_eq!(
            leftovers.len(),
            1,
            "no staging or backup directories are left behind"
        );
    }
}
