//! A local copy of a trail's bucket as [`TrailObjects`]: the directory stands for the bucket
//! root, an object's key is its path below it. A file system keeps no S3 object metadata, so a
//! digest's signature is read from a sidecar file `KEY.metadata.json` holding the object's
//! user metadata as S3 returns it (`{"signature": "…", "signature-algorithm": "SHA256withRSA"}`);
//! a digest without one is unsigned (a finding, never a silent pass).

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use super::digest::{MAX_DIGEST_BYTES, gunzip_sha256};
use super::validate::{DigestObject, LogFileState, ObjectError, TrailObjects};

/// The suffix of a digest's metadata sidecar.
pub const METADATA_SUFFIX: &str = ".metadata.json";

/// A directory holding a copy of a trail bucket's objects.
#[derive(Debug, Clone)]
pub struct LocalTrailCopy {
    root: PathBuf,
    /// The part of every key the directory does not hold (`PREFIX/`), see [`Self::below_prefix`].
    key_prefix: String,
}

impl LocalTrailCopy {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            key_prefix: String::new(),
        }
    }

    /// A directory holding the objects below `prefix` of the bucket (the folder that holds
    /// `AWSLogs`, as `aws s3 sync s3://BUCKET/PREFIX DIR` leaves it): keys keep the prefix, as
    /// digest files name them; a key outside it is absent.
    pub fn below_prefix(root: impl Into<PathBuf>, prefix: Option<&str>) -> Self {
        let prefix = prefix.map(|p| p.trim_matches('/')).unwrap_or_default();
        Self {
            root: root.into(),
            key_prefix: if prefix.is_empty() {
                String::new()
            } else {
                format!("{prefix}/")
            },
        }
    }

    /// The key below the directory, None when the key is outside the prefix it holds.
    fn relative<'k>(&self, key: &'k str) -> Option<&'k str> {
        key.strip_prefix(self.key_prefix.as_str())
    }

    fn path(&self, key: &str) -> Result<PathBuf, ObjectError> {
        // Keys come from digest files: never let one leave the directory.
        if key.is_empty()
            || key.starts_with('/')
            || key.split('/').any(|part| part == ".." || part == ".")
        {
            return Err(ObjectError {
                key: key.to_string(),
                message: "not a plain object key (absolute, empty or with . or .. parts)".into(),
            });
        }
        Ok(self.root.join(key))
    }

    fn error(&self, key: &str, path: &Path, error: std::io::Error) -> ObjectError {
        ObjectError {
            key: key.to_string(),
            message: format!("cannot read {}: {error}", path.display()),
        }
    }
}

impl TrailObjects for LocalTrailCopy {
    fn list(&self, prefix: &str) -> Result<Vec<String>, ObjectError> {
        let Some(relative) = self.relative(prefix) else {
            return Ok(Vec::new());
        };
        // Trail prefixes end with `/`: list that directory (and below, as S3 would).
        let directory = self.path(relative.trim_end_matches('/'))?;
        let mut keys = Vec::new();
        let mut pending = vec![(directory, prefix.trim_end_matches('/').to_string())];
        while let Some((directory, key_prefix)) = pending.pop() {
            let entries = match fs::read_dir(&directory) {
                Ok(entries) => entries,
                Err(e) if e.kind() == ErrorKind::NotFound => continue,
                Err(e) => return Err(self.error(prefix, &directory, e)),
            };
            for entry in entries {
                let entry = entry.map_err(|e| self.error(prefix, &directory, e))?;
                let name = entry.file_name().to_string_lossy().into_owned();
                let key = format!("{key_prefix}/{name}");
                let kind = entry
                    .file_type()
                    .map_err(|e| self.error(&key, &entry.path(), e))?;
                if kind.is_dir() {
                    pending.push((entry.path(), key));
                } else if !name.ends_with(METADATA_SUFFIX) {
                    keys.push(key);
                }
            }
        }
        keys.sort();
        Ok(keys)
    }

    fn digest(&self, key: &str) -> Result<Option<DigestObject>, ObjectError> {
        let Some(relative) = self.relative(key) else {
            return Ok(None);
        };
        let path = self.path(relative)?;
        let bytes = match fs::metadata(&path) {
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.error(key, &path, e)),
            // Inflated digests are bounded by parse_digest; a stored one this large is no digest
            // and is not read into memory (its parse error is the finding).
            Ok(meta) if meta.len() > MAX_DIGEST_BYTES => Vec::new(),
            Ok(_) => fs::read(&path).map_err(|e| self.error(key, &path, e))?,
        };
        let sidecar = PathBuf::from(format!("{}{METADATA_SUFFIX}", path.display()));
        let metadata: serde_json::Map<String, serde_json::Value> = match fs::read(&sidecar) {
            Err(e) if e.kind() == ErrorKind::NotFound => serde_json::Map::new(),
            Err(e) => return Err(self.error(key, &sidecar, e)),
            Ok(json) => serde_json::from_slice(&json).map_err(|e| ObjectError {
                key: key.to_string(),
                message: format!(
                    "{} is not a JSON object of metadata at line {}, column {}: {e}",
                    sidecar.display(),
                    e.line(),
                    e.column()
                ),
            })?,
        };
        let text = |name: &str| {
            metadata
                .get(name)
                .and_then(|v| v.as_str())
                .map(str::to_string)
        };
        Ok(Some(DigestObject {
            bytes,
            signature: text("signature"),
            signature_algorithm: text("signature-algorithm"),
        }))
    }

    fn log_file(&self, key: &str) -> Result<LogFileState, ObjectError> {
        let Some(relative) = self.relative(key) else {
            return Ok(LogFileState::Absent);
        };
        let path = self.path(relative)?;
        let file = match fs::File::open(&path) {
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(LogFileState::Absent),
            Err(e) => return Err(self.error(key, &path, e)),
            Ok(file) => file,
        };
        Ok(match gunzip_sha256(std::io::BufReader::new(file)) {
            Ok(sha256) => LogFileState::Hashed(sha256),
            // Corrupt or truncated gzip is the file's state; any other error is the disk's.
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::InvalidData | ErrorKind::InvalidInput | ErrorKind::UnexpectedEof
                ) =>
            {
                LogFileState::Unreadable(e.to_string())
            }
            Err(e) => return Err(self.error(key, &path, e)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_cannot_leave_the_directory_and_absent_files_are_absent() {
        let dir = tempfile::tempdir().expect("tempdir");
        let copy = LocalTrailCopy::new(dir.path());
        for key in ["../etc/passwd", "/etc/passwd", "AWSLogs/./x", ""] {
            assert!(copy.log_file(key).is_err(), "{key}");
        }
        assert_eq!(
            copy.log_file("AWSLogs/none.json.gz"),
            Ok(LogFileState::Absent)
        );
        assert_eq!(copy.digest("AWSLogs/none.json.gz"), Ok(None));
        assert_eq!(copy.list("AWSLogs/none/"), Ok(Vec::new()));
    }

    #[test]
    fn a_copy_below_a_prefix_keeps_the_prefix_in_its_keys() {
        let dir = tempfile::tempdir().expect("tempdir");
        let day = dir.path().join("AWSLogs/1/CloudTrail/r/2026/03/01");
        fs::create_dir_all(&day).expect("mkdir");
        fs::write(day.join("l.json.gz"), b"not gzip").expect("write");
        let copy = LocalTrailCopy::below_prefix(dir.path(), Some("/trails/"));
        let keys = copy
            .list("trails/AWSLogs/1/CloudTrail/r/2026/03/01/")
            .expect("lists");
        assert_eq!(keys, ["trails/AWSLogs/1/CloudTrail/r/2026/03/01/l.json.gz"]);
        assert!(matches!(
            copy.log_file(&keys[0]),
            Ok(LogFileState::Unreadable(_))
        ));
        // The same file without the prefix is outside the copy.
        let outside = "AWSLogs/1/CloudTrail/r/2026/03/01/l.json.gz";
        assert_eq!(copy.log_file(outside), Ok(LogFileState::Absent));
        assert_eq!(copy.list("AWSLogs/1/"), Ok(Vec::new()));
    }

    #[test]
    fn a_digest_reads_its_signature_from_the_sidecar_which_is_not_listed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let day = dir.path().join("AWSLogs/1/CloudTrail-Digest/r/2026/03/01");
        fs::create_dir_all(&day).expect("mkdir");
        fs::write(day.join("d.json.gz"), b"gz").expect("write");
        fs::write(
            day.join(format!("d.json.gz{METADATA_SUFFIX}")),
            br#"{"signature":"ab","signature-algorithm":"SHA256withRSA"}"#,
        )
        .expect("write");
        fs::write(day.join("unsigned.json.gz"), b"gz").expect("write");
        let copy = LocalTrailCopy::new(dir.path());
        let prefix = "AWSLogs/1/CloudTrail-Digest/r/2026/03/01/";
        assert_eq!(
            copy.list(prefix).expect("lists"),
            [
                format!("{prefix}d.json.gz"),
                format!("{prefix}unsigned.json.gz")
            ]
        );
        let signed = copy
            .digest(&format!("{prefix}d.json.gz"))
            .expect("reads")
            .expect("present");
        assert_eq!(signed.signature.as_deref(), Some("ab"));
        let unsigned = copy
            .digest(&format!("{prefix}unsigned.json.gz"))
            .expect("reads")
            .expect("present");
        assert_eq!((unsigned.signature, unsigned.bytes), (None, b"gz".to_vec()));

        fs::write(
            day.join(format!("unsigned.json.gz{METADATA_SUFFIX}")),
            b"[1]",
        )
        .expect("write");
        let error = copy
            .digest(&format!("{prefix}unsigned.json.gz"))
            .expect_err("not an object");
        assert!(
            error.message.contains("metadata.json") && error.message.contains("line 1"),
            "{error}"
        );
    }
}
