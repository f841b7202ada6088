//! The archive on S3 with Object Lock: `s3://bucket/prefix/<system>/<YYYY-MM>/r<N>/`, the
//! same layout as a local archive (`gxp_evidence_core::archive`), each object written once
//! with a retention that not even the bucket owner can shorten in COMPLIANCE mode
//! (Annex 11 §7.1 and §17: data secured against damage and kept readable for its retention
//! period; 21 CFR 11.10(c): records protected for their retention period).
//!
//! This module owns the `s3://` location (`S3Location`), the retention (`Retention`) and
//! the calls: the bucket's Object Lock check, the next free revision, the upload with its
//! read-back of each object's retention, and the download of a revision for a local
//! `verify` or `--supersedes`. `push` is the whole step, for `push` and the scheduled `run`.
//! Every call blocks (an own single-thread runtime, as the KMS signer has): call it outside
//! an async runtime.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use aws_sdk_s3::Client;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::{ByteStream, DateTime as SdkDateTime};
use aws_sdk_s3::types::{ChecksumAlgorithm, ObjectLockEnabled, ObjectLockMode};
use base64ct::{Base64, Encoding};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::collect::{AwsSettings, load_sdk_config, sdk::call_failure};
use gxp_evidence_core::archive::{self, parse_revision_dir_name, revision_path};
use gxp_evidence_core::evidence::Period;
use gxp_evidence_core::evidence::load::DEFAULT_MAX_EVIDENCE_BYTES;
use gxp_evidence_core::hash::lower_hex;
use gxp_evidence_core::package::seal::SEAL_FILE;
use gxp_evidence_core::package::verify::{self, Purpose, VerifyOptions};
use gxp_evidence_core::package::{MANIFEST_FILE, Manifest, RESULTS_FILE};

/// The retention of an archived package unless told otherwise: ten years. EU GMP Chapter
/// 4.11 keeps batch records one year after the batch's expiry or five years after QP
/// certification, whichever is longer, and this evidence supports the batch records of its
/// month; ten years covers shelf lives up to nine years. Shorter is not reversible once the
/// objects may be deleted; longer can still be had by extending the retention.
pub const DEFAULT_RETENTION_DAYS: u32 = 3650;

/// The longest retention accepted, in days: S3 takes dates up to year 9999, but a COMPLIANCE
/// retention cannot be shortened by anyone, so a typo (36500 for 3650) must not lock a
/// bucket's objects for a century.
pub const MAX_RETENTION_DAYS: u32 = 36_500;

/// The largest object one PutObject stores (5 GiB); larger files would need a multipart
/// upload, which no package file comes near (verify reads at most 4 GiB per file).
const MAX_PUT_OBJECT_BYTES: u64 = 5 << 30;

/// An `s3://bucket/prefix` archive location: a bucket named by S3's rules and a key prefix
/// without leading or trailing `/` (empty: the bucket's root).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Location {
    pub bucket: String,
    pub prefix: String,
}

/// Why an `s3://` URL is not an archive location.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{url:?} is not an S3 location: {reason} (expected s3://BUCKET/PREFIX)")]
pub struct S3UrlError {
    pub url: String,
    pub reason: String,
}

impl S3Location {
    /// Parses `s3://bucket[/prefix[/]]`. The bucket must follow S3's naming rules for
    /// general purpose buckets, so a mistyped name fails here rather than as a confusing
    /// signature or redirect error from S3.
    pub fn parse(url: &str) -> Result<Self, S3UrlError> {
        let refuse = |reason: String| S3UrlError {
            url: url.to_string(),
            reason,
        };
        let rest = url
            .strip_prefix("s3://")
            .ok_or_else(|| refuse("it does not start with s3://".to_string()))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        check_bucket_name(bucket).map_err(|why| refuse(format!("bucket name {bucket:?} {why}")))?;
        let prefix = prefix.strip_suffix('/').unwrap_or(prefix);
        if !prefix.is_empty() {
            for segment in prefix.split('/') {
                if segment.is_empty() || segment == "." || segment == ".." {
                    return Err(refuse(format!(
                        "prefix {prefix:?} has an empty, `.` or `..` segment"
                    )));
                }
            }
            if prefix.chars().any(|c| c.is_control() || c == '\\') {
                return Err(refuse(format!(
                    "prefix {prefix:?} has a control character or a backslash"
                )));
            }
        }
        // Room for `<system>/<YYYY-MM>/r<N>/<file>` within S3's 1024-byte keys.
        if prefix.len() > 512 {
            return Err(refuse("the prefix is longer than 512 bytes".to_string()));
        }
        Ok(Self {
            bucket: bucket.to_string(),
            prefix: prefix.to_string(),
        })
    }

    /// The key of `relative` (a path under the archive root, `/`-separated).
    pub fn key(&self, relative: &str) -> String {
        if self.prefix.is_empty() {
            relative.to_string()
        } else {
            format!("{}/{relative}", self.prefix)
        }
    }

    /// `s3://bucket/<key of relative>`.
    pub fn url(&self, relative: &str) -> String {
        format!("s3://{}/{}", self.bucket, self.key(relative))
    }
}

impl FromStr for S3Location {
    type Err = S3UrlError;

    fn from_str(url: &str) -> Result<Self, Self::Err> {
        Self::parse(url)
    }
}

impl fmt::Display for S3Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.prefix.is_empty() {
            write!(f, "s3://{}", self.bucket)
        } else {
            write!(f, "s3://{}/{}", self.bucket, self.prefix)
        }
    }
}

/// S3's naming rules for general purpose buckets: what is wrong with `name`, if anything.
fn check_bucket_name(name: &str) -> Result<(), &'static str> {
    if name.len() < 3 || name.len() > 63 {
        return Err("must be 3 to 63 characters long");
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
    {
        return Err("may hold only lower-case letters, digits, `.` and `-`");
    }
    // Each dot-separated label is a DNS label (virtual-hosted–style requests), which also
    // rules out `..`, `.-` and `-.`.
    for label in name.split('.') {
        let bytes = label.as_bytes();
        match (bytes.first(), bytes.last()) {
            (Some(first), Some(last))
                if first.is_ascii_alphanumeric() && last.is_ascii_alphanumeric() => {}
            _ => return Err("must begin and end with a letter or digit, around every `.`"),
        }
    }
    if name.split('.').count() == 4 && name.split('.').all(|l| l.parse::<u8>().is_ok()) {
        return Err("must not look like an IP address");
    }
    const RESERVED_PREFIXES: [&str; 3] = ["xn--", "sthree-", "amzn-s3-demo-"];
    const RESERVED_SUFFIXES: [&str; 5] = ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"];
    if RESERVED_PREFIXES.iter().any(|p| name.starts_with(p))
        || RESERVED_SUFFIXES.iter().any(|s| name.ends_with(s))
    {
        return Err("uses a prefix or suffix S3 reserves");
    }
    Ok(())
}

/// The Object Lock mode: COMPLIANCE (nobody, the root user included, can delete the object
/// or shorten its retention) or GOVERNANCE (users with s3:BypassGovernanceRetention can).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RetentionMode {
    #[default]
    Compliance,
    Governance,
}

impl RetentionMode {
    pub fn as_str(self) -> &'static str {
        match self {
            RetentionMode::Compliance => "COMPLIANCE",
            RetentionMode::Governance => "GOVERNANCE",
        }
    }

    fn object_lock_mode(self) -> ObjectLockMode {
        match self {
            RetentionMode::Compliance => ObjectLockMode::Compliance,
            RetentionMode::Governance => ObjectLockMode::Governance,
        }
    }

    fn from_lock_mode(mode: &ObjectLockMode) -> Option<Self> {
        match mode {
            ObjectLockMode::Compliance => Some(RetentionMode::Compliance),
            ObjectLockMode::Governance => Some(RetentionMode::Governance),
            _ => None,
        }
    }
}

/// The retention every object of a revision gets: a mode and a date until which it holds,
/// in whole seconds (what S3 keeps and returns, so the read-back compares exactly).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub mode: RetentionMode,
    pub until: DateTime<Utc>,
}

/// A retention that cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "a retention of {days} days is out of range: give 1 to {MAX_RETENTION_DAYS} days (a COMPLIANCE retention can be extended later, never shortened)"
)]
pub struct RetentionDaysError {
    pub days: u32,
}

impl Retention {
    /// `days` from `now`, in whole seconds.
    pub fn days_from(
        mode: RetentionMode,
        days: u32,
        now: DateTime<Utc>,
    ) -> Result<Self, RetentionDaysError> {
        if days == 0 || days > MAX_RETENTION_DAYS {
            return Err(RetentionDaysError { days });
        }
        let until = now + chrono::Duration::days(i64::from(days));
        let until = DateTime::from_timestamp(until.timestamp(), 0).unwrap_or(until);
        Ok(Self { mode, until })
    }
}

impl fmt::Display for Retention {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} until {}",
            self.mode.as_str(),
            self.until
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        )
    }
}

/// One archived object: its key, what was stored, and the retention S3 reported for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadedObject {
    pub key: String,
    pub bytes: u64,
    /// Lowercase hex, as the manifest writes it.
    pub sha256: String,
    /// The object's version: the exact object an auditor can ask for, whatever is written
    /// under the same key later.
    pub version_id: Option<String>,
    pub retention: Retention,
}

/// A revision uploaded into the archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadedRevision {
    /// `s3://bucket/prefix/<system>/<YYYY-MM>/r<N>/`.
    pub url: String,
    pub revision: u32,
    /// In upload order: the manifest and its seal last.
    pub objects: Vec<UploadedObject>,
}

#[derive(Debug, thiserror::Error)]
pub enum S3ArchiveError {
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
    #[error("S3 {operation} on {target} failed: {code}: {message}")]
    Call {
        operation: &'static str,
        target: String,
        code: String,
        message: String,
    },
    #[error(
        "bucket {bucket} does not have S3 Object Lock enabled ({found}): the archive needs write-once storage. Create a bucket with Object Lock enabled (aws s3api create-bucket --object-lock-enabled-for-bucket) and push there"
    )]
    ObjectLockDisabled { bucket: String, found: String },
    #[error(
        "{url} already exists: an archived object is never replaced (another push may be writing this revision); nothing of this package was written over it"
    )]
    KeyExists { url: String },
    #[error("{url}: S3 reports retention {found}, the upload asked for {expected}")]
    RetentionMismatch {
        url: String,
        expected: Retention,
        found: String,
    },
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {reason}", path.display())]
    Package { path: PathBuf, reason: String },
    #[error(
        "{} is not a valid sealed package, so it is not archived: {summary}\n{failures}",
        dir.display()
    )]
    InvalidPackage {
        dir: PathBuf,
        summary: String,
        failures: String,
    },
    #[error(transparent)]
    Unreadable(#[from] verify::VerifyError),
    #[error(transparent)]
    Settings(#[from] crate::collect::SettingsError),
    #[error("{url}: object key {key:?} is not a safe relative path; nothing was downloaded")]
    UnsafeKey { url: String, key: String },
    #[error("{url}: holds revision r{}, the last one there can be", u32::MAX)]
    RevisionsExhausted { url: String },
    #[error(
        "{url}: {bytes} bytes, more than a package file can be ({DEFAULT_MAX_EVIDENCE_BYTES}); nothing was downloaded"
    )]
    TooLarge { url: String, bytes: i64 },
    #[error("{url}: no such revision (no object under it)")]
    NoRevision { url: String },
    #[error("{}: the directory already exists", .0.display())]
    DownloadTargetExists(PathBuf),
}

impl S3ArchiveError {
    fn call<E>(
        operation: &'static str,
        target: impl Into<String>,
        error: &SdkError<E, HttpResponse>,
    ) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let failure = call_failure(error);
        S3ArchiveError::Call {
            operation,
            target: target.into(),
            code: failure.code,
            message: failure.message,
        }
    }
}

/// A connection to one archive location.
pub struct S3Archive {
    location: S3Location,
    client: Client,
    runtime: tokio::runtime::Runtime,
}

impl S3Archive {
    /// A client for `location` (`region`: the bucket's region when not the configured one).
    /// Makes no call yet.
    pub fn connect(
        settings: &AwsSettings,
        region: Option<&str>,
        location: S3Location,
    ) -> Result<Self, S3ArchiveError> {
        let runtime = new_runtime()?;
        let sdk = runtime.block_on(load_sdk_config(settings))?;
        let mut config = aws_sdk_s3::config::Builder::from(&sdk);
        if let Some(region) = region {
            config = config.region(aws_sdk_s3::config::Region::new(region.to_string()));
        }
        Ok(Self {
            location,
            client: Client::from_conf(config.build()),
            runtime,
        })
    }

    /// An archive reached through a client configured elsewhere (other credentials, e.g.
    /// a role assumed for the archive account).
    pub fn with_client(client: Client, location: S3Location) -> Result<Self, S3ArchiveError> {
        Ok(Self {
            location,
            client,
            runtime: new_runtime()?,
        })
    }

    pub fn location(&self) -> &S3Location {
        &self.location
    }

    /// The bucket has Object Lock enabled (GetObjectLockConfiguration): without it a
    /// retention cannot be set and the archive would be an ordinary, deletable folder.
    pub fn check_object_lock(&self) -> Result<(), S3ArchiveError> {
        let bucket = &self.location.bucket;
        let answer = self.runtime.block_on(
            self.client
                .get_object_lock_configuration()
                .bucket(bucket)
                .send(),
        );
        let found = match answer {
            Ok(output) => match output
                .object_lock_configuration()
                .and_then(|c| c.object_lock_enabled())
            {
                Some(ObjectLockEnabled::Enabled) => return Ok(()),
                Some(other) => format!("ObjectLockEnabled is {}", other.as_str()),
                None => "no ObjectLockEnabled in its configuration".to_string(),
            },
            Err(error) => {
                let failure = call_failure(&error);
                if failure.code != "ObjectLockConfigurationNotFoundError" {
                    return Err(S3ArchiveError::call(
                        "GetObjectLockConfiguration",
                        format!("bucket {bucket}"),
                        &error,
                    ));
                }
                "no Object Lock configuration".to_string()
            }
        };
        Err(S3ArchiveError::ObjectLockDisabled {
            bucket: bucket.clone(),
            found,
        })
    }

    /// The next revision of `system_name`'s period `period_dir`: one more than the highest
    /// `r<N>/` under it (1 when there is none). A revision whose upload stopped half-way
    /// counts: its objects are locked, so its number is never used again.
    pub fn next_revision(
        &self,
        system_name: &str,
        period_dir: &str,
    ) -> Result<u32, S3ArchiveError> {
        // The period's directory is what holds its revisions: revision_path less `r<N>`.
        let first = revision_path(system_name, period_dir, 1);
        let period_path = first
            .rsplit_once('/')
            .map_or(first.as_str(), |(dir, _)| dir);
        let period_prefix = self.location.key(&format!("{period_path}/"));
        let mut highest = 0;
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.location.bucket)
            .prefix(&period_prefix)
            .delimiter("/")
            .into_paginator()
            .send();
        while let Some(page) = self.runtime.block_on(pages.next()) {
            let page = page.map_err(|error| {
                S3ArchiveError::call(
                    "ListObjectsV2",
                    format!("s3://{}/{period_prefix}", self.location.bucket),
                    &error,
                )
            })?;
            for common in page.common_prefixes() {
                let revision = common
                    .prefix()
                    .and_then(|p| p.strip_prefix(period_prefix.as_str()))
                    .and_then(|p| p.strip_suffix('/'))
                    .and_then(parse_revision_dir_name);
                highest = highest.max(revision.unwrap_or(0));
            }
        }
        highest
            .checked_add(1)
            .ok_or_else(|| S3ArchiveError::RevisionsExhausted {
                url: format!("s3://{}/{period_prefix}", self.location.bucket),
            })
    }

    /// The newest revision below `below` whose upload finished (its `manifest.sig`, the
    /// last object written, is there), with the numbers of the unfinished ones skipped on the
    /// way: a revision whose upload stopped is locked and incomplete, and supersedes nothing.
    pub fn newest_sealed_revision(
        &self,
        system_name: &str,
        period_dir: &str,
        below: u32,
    ) -> Result<(Option<u32>, Vec<u32>), S3ArchiveError> {
        let mut unfinished = Vec::new();
        for revision in (1..below).rev() {
            let key = self.location.key(&format!(
                "{}/{SEAL_FILE}",
                revision_path(system_name, period_dir, revision)
            ));
            let url = format!("s3://{}/{key}", self.location.bucket);
            let head = self.runtime.block_on(
                self.client
                    .head_object()
                    .bucket(&self.location.bucket)
                    .key(&key)
                    .send(),
            );
            match head {
                Ok(_) => return Ok((Some(revision), unfinished)),
                Err(error) if error.as_service_error().is_some_and(|e| e.is_not_found()) => {
                    unfinished.push(revision);
                }
                Err(error) => return Err(S3ArchiveError::call("HeadObject", url, &error)),
            }
        }
        Ok((None, unfinished))
    }

    /// A package filed as `revision` must say what it replaces: the report of the newest
    /// finished revision before it (downloaded and verified), with a lower revision number;
    /// or nothing when the period has no finished revision. Filed otherwise, the archive's
    /// revisions would contradict the documents they hold, and every later run of the period
    /// would stop on them.
    pub fn check_supersedes(
        &self,
        package_dir: &Path,
        document: &PackageDocument,
        system_name: &str,
        period_dir: &str,
        revision: u32,
    ) -> Result<(), S3ArchiveError> {
        let (newest, _) = self.newest_sealed_revision(system_name, period_dir, revision)?;
        let refuse = |reason: String| S3ArchiveError::Package {
            path: package_dir.to_path_buf(),
            reason,
        };
        let Some(newest) = newest else {
            return match &document.supersedes {
                None => Ok(()),
                Some(id) => Err(refuse(format!(
                    "the package supersedes report {id}, but {} holds no revision of {system_name:?} {period_dir} it could replace",
                    self.location.url("")
                ))),
            };
        };
        let work = tempfile::tempdir().map_err(|source| S3ArchiveError::Write {
            path: std::env::temp_dir(),
            source,
        })?;
        let dir = work.path().join("newest");
        self.download(&revision_path(system_name, period_dir, newest), &dir)?;
        let period = period_of(period_dir)
            .ok_or_else(|| refuse(format!("{period_dir} is not a calendar month")))?;
        let previous = gxp_evidence_core::package::read_superseded(&dir, &period, system_name)
            .map_err(|err| refuse(format!("the archived revision r{newest}: {err}")))?;
        if document.supersedes.as_deref() != Some(previous.report_id.as_str())
            || document.revision <= previous.revision
        {
            return Err(refuse(format!(
                "the package is revision {} superseding {}, but the archive's newest revision r{newest} holds report {} (revision {}): make the package with `report --supersedes` on that revision",
                document.revision,
                document.supersedes.as_deref().unwrap_or("nothing"),
                previous.report_id,
                previous.revision
            )));
        }
        Ok(())
    }

    /// Uploads every file of the package in `package_dir` under `revision_path` (from
    /// `archive::revision_path`) with `retention`, never over an existing object, then reads
    /// each object's retention back and fails unless it is the one asked for.
    pub fn upload(
        &self,
        package_dir: &Path,
        revision_path: &str,
        retention: &Retention,
    ) -> Result<Vec<UploadedObject>, S3ArchiveError> {
        let files = package_files(package_dir)?;
        let manifest_hashes = manifest_hashes(package_dir)?;
        // Every file is hashed before the first upload, so a package refused here leaves
        // nothing in the bucket; S3 checks each body against its hash, so a file changed
        // after this point fails its own upload.
        let mut hashed = Vec::with_capacity(files.len());
        for relative in &files {
            let path = package_dir.join(relative);
            let (sha256, bytes, checksum) = hash_file(&path)?;
            // The file verified is the file archived: one changed since verification (the
            // manifest's hash) is refused rather than locked away for years.
            if let Some(expected) = manifest_hashes.get(relative)
                && *expected != sha256
            {
                return Err(S3ArchiveError::Package {
                    path,
                    reason: format!(
                        "changed since it was verified (SHA-256 {sha256}, the manifest has {expected}); nothing was uploaded"
                    ),
                });
            }
            if bytes > MAX_PUT_OBJECT_BYTES {
                return Err(S3ArchiveError::Package {
                    path,
                    reason: format!("{bytes} bytes is more than one S3 PutObject stores"),
                });
            }
            hashed.push((relative, path, sha256, bytes, checksum));
        }
        let mut uploaded = Vec::with_capacity(files.len());
        // One file after another, in a fixed order: two pushes racing for the same revision
        // both try the same first key, and the conditional write lets exactly one of them on.
        for (relative, path, sha256, bytes, checksum) in hashed {
            let key = self.location.key(&format!("{revision_path}/{relative}"));
            let version_id = self.put_object(&path, &key, &checksum, retention)?;
            uploaded.push(UploadedObject {
                key,
                bytes,
                sha256,
                version_id,
                retention: *retention,
            });
        }
        for object in &mut uploaded {
            object.retention = self.read_retention(object, retention)?;
        }
        Ok(uploaded)
    }

    fn put_object(
        &self,
        path: &Path,
        key: &str,
        checksum: &str,
        retention: &Retention,
    ) -> Result<Option<String>, S3ArchiveError> {
        let url = format!("s3://{}/{key}", self.location.bucket);
        let body = self
            .runtime
            .block_on(ByteStream::from_path(path))
            .map_err(|err| S3ArchiveError::Read {
                path: path.to_path_buf(),
                source: std::io::Error::other(err),
            })?;
        let request = self
            .client
            .put_object()
            .bucket(&self.location.bucket)
            .key(key)
            .body(body)
            // S3 compares the body with this SHA-256 and rejects a corrupted transfer; Object
            // Lock uploads must carry a checksum in any case.
            .checksum_algorithm(ChecksumAlgorithm::Sha256)
            .checksum_sha256(checksum)
            .object_lock_mode(retention.mode.object_lock_mode())
            .object_lock_retain_until_date(SdkDateTime::from_secs(retention.until.timestamp()))
            // Write-once: in a versioned bucket a second PutObject would not delete the locked
            // object but would hide it behind a newer version at the same key.
            .if_none_match("*")
            .send();
        match self.runtime.block_on(request) {
            Ok(output) => Ok(output.version_id().map(str::to_string)),
            Err(error) => {
                let failure = call_failure(&error);
                // 412: the key exists; 409: another conditional write to it is in flight.
                if matches!(failure.http_status, Some(412 | 409))
                    || failure.code == "PreconditionFailed"
                {
                    Err(S3ArchiveError::KeyExists { url })
                } else {
                    Err(S3ArchiveError::call("PutObject", url, &error))
                }
            }
        }
    }

    /// The retention S3 holds for `object` (the version uploaded), which must be `expected`.
    /// Read with HeadObject, whose Object Lock headers S3 fills in only for a caller with
    /// s3:GetObjectRetention, the permission GetObjectRetention needs: the same stored value,
    /// and the call moto (the tests' S3) answers (it has no GetObjectRetention).
    fn read_retention(
        &self,
        object: &UploadedObject,
        expected: &Retention,
    ) -> Result<Retention, S3ArchiveError> {
        let url = format!("s3://{}/{}", self.location.bucket, object.key);
        let output = self
            .runtime
            .block_on(
                self.client
                    .head_object()
                    .bucket(&self.location.bucket)
                    .key(&object.key)
                    .set_version_id(object.version_id.clone())
                    .send(),
            )
            .map_err(|error| S3ArchiveError::call("HeadObject", url.clone(), &error))?;
        let mode = output.object_lock_mode();
        let until = output
            .object_lock_retain_until_date()
            .and_then(|d| DateTime::from_timestamp(d.secs(), 0));
        let found = match (mode.and_then(RetentionMode::from_lock_mode), until) {
            (Some(mode), Some(until)) if mode == expected.mode && until == expected.until => {
                return Ok(Retention { mode, until });
            }
            (None, None) => {
                "no retention (a caller without s3:GetObjectRetention is not shown it)".to_string()
            }
            _ => format!(
                "{} until {}",
                mode.map_or("no mode", |m| m.as_str()),
                until.map_or("no date".to_string(), |u| u
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            ),
        };
        Err(S3ArchiveError::RetentionMismatch {
            url,
            expected: *expected,
            found,
        })
    }

    /// Downloads revision `revision_path` into the new directory `to_dir`, staged beside it
    /// and renamed into place, so a failure leaves nothing behind.
    pub fn download(
        &self,
        revision_path: &str,
        to_dir: &Path,
    ) -> Result<Vec<PathBuf>, S3ArchiveError> {
        if to_dir.exists() {
            return Err(S3ArchiveError::DownloadTargetExists(to_dir.to_path_buf()));
        }
        let revision_prefix = self.location.key(&format!("{revision_path}/"));
        let revision_url = format!("s3://{}/{revision_prefix}", self.location.bucket);
        let mut keys = Vec::new();
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.location.bucket)
            .prefix(&revision_prefix)
            .into_paginator()
            .send();
        while let Some(page) = self.runtime.block_on(pages.next()) {
            let page = page.map_err(|error| {
                S3ArchiveError::call("ListObjectsV2", revision_url.clone(), &error)
            })?;
            for object in page.contents() {
                let key = object.key().unwrap_or_default();
                let relative = key
                    .strip_prefix(revision_prefix.as_str())
                    .filter(|r| is_safe_relative_key(r))
                    .ok_or_else(|| S3ArchiveError::UnsafeKey {
                        url: revision_url.clone(),
                        key: key.to_string(),
                    })?;
                // verify reads no package file larger than this; a bucket must not fill
                // the disk with one.
                let bytes = object.size().unwrap_or(0);
                if u64::try_from(bytes).unwrap_or(u64::MAX) > DEFAULT_MAX_EVIDENCE_BYTES {
                    return Err(S3ArchiveError::TooLarge {
                        url: format!("s3://{}/{key}", self.location.bucket),
                        bytes,
                    });
                }
                keys.push((key.to_string(), relative.to_string()));
            }
        }
        if keys.is_empty() {
            return Err(S3ArchiveError::NoRevision { url: revision_url });
        }
        let staging = staging_dir(to_dir);
        let result = self.download_into(&keys, &staging).and_then(|written| {
            fs::rename(&staging, to_dir).map_err(|source| S3ArchiveError::Write {
                path: to_dir.to_path_buf(),
                source,
            })?;
            Ok(written.iter().map(|r| to_dir.join(r)).collect())
        });
        if result.is_err() {
            let _ = fs::remove_dir_all(&staging);
        }
        result
    }

    fn download_into(
        &self,
        keys: &[(String, String)],
        staging: &Path,
    ) -> Result<Vec<String>, S3ArchiveError> {
        let mut written = Vec::new();
        for (key, relative) in keys {
            let url = format!("s3://{}/{key}", self.location.bucket);
            let path = staging.join(relative);
            let write_error = |source| S3ArchiveError::Write {
                path: path.clone(),
                source,
            };
            fs::create_dir_all(gxp_evidence_core::package::parent_dir(&path))
                .map_err(write_error)?;
            let output = self
                .runtime
                .block_on(
                    self.client
                        .get_object()
                        .bucket(&self.location.bucket)
                        .key(key)
                        .send(),
                )
                .map_err(|error| S3ArchiveError::call("GetObject", url.clone(), &error))?;
            let mut file = fs::File::create_new(&path).map_err(write_error)?;
            let mut body = output.body;
            while let Some(chunk) =
                self.runtime
                    .block_on(body.try_next())
                    .map_err(|err| S3ArchiveError::Call {
                        operation: "GetObject",
                        target: url.clone(),
                        code: "ResponseBody".to_string(),
                        message: err.to_string(),
                    })?
            {
                std::io::Write::write_all(&mut file, &chunk).map_err(write_error)?;
            }
            file.sync_all().map_err(write_error)?;
            written.push(relative.clone());
        }
        Ok(written)
    }
}

fn new_runtime() -> Result<tokio::runtime::Runtime, S3ArchiveError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(S3ArchiveError::Runtime)
}

/// Checks, then uploads the package in `package_dir` as the next revision of
/// `system_name`'s period `period_dir` at `location`: the whole archiving step of `push`
/// and of a scheduled `run`. Refuses a package that `verify` does not accept as sealed and
/// valid, one of another system or period, and a bucket without Object Lock, before any
/// upload. `region`: the bucket's region when not the configured one.
pub fn push(
    settings: &AwsSettings,
    region: Option<&str>,
    location: &S3Location,
    package_dir: &Path,
    system_name: &str,
    period_dir: &str,
    retention: &Retention,
) -> Result<UploadedRevision, S3ArchiveError> {
    let document = check_package(package_dir, system_name, period_dir)?;
    let archive = S3Archive::connect(settings, region, location.clone())?;
    archive.check_object_lock()?;
    let revision = archive.next_revision(system_name, period_dir)?;
    archive.check_supersedes(package_dir, &document, system_name, period_dir, revision)?;
    let path = revision_path(system_name, period_dir, revision);
    let objects = archive.upload(package_dir, &path, retention)?;
    Ok(UploadedRevision {
        url: location.url(&format!("{path}/")),
        revision,
        objects,
    })
}

/// The package is valid and sealed (`verify` for an audit) and reports on `system_name`'s
/// month `period_dir`: an archived revision is read by auditors as it was uploaded, so an
/// invalid or unsealed one, or one filed under the wrong system or month, must not get in.
pub fn check_package(
    package_dir: &Path,
    system_name: &str,
    period_dir: &str,
) -> Result<PackageDocument, S3ArchiveError> {
    let verification = verify::verify(
        package_dir,
        &VerifyOptions {
            trusted_keys: None,
            signers: None,
            trusted_tsa: None,
            purpose: Purpose::Audit,
            max_file_bytes: DEFAULT_MAX_EVIDENCE_BYTES,
        },
    )?;
    let Some(package) = verification
        .package
        .as_ref()
        .filter(|_| verification.is_valid())
    else {
        let failures: Vec<String> = verification.failures().map(ToString::to_string).collect();
        return Err(S3ArchiveError::InvalidPackage {
            dir: package_dir.to_path_buf(),
            summary: verification.summary(),
            failures: failures.join("\n"),
        });
    };
    let model = &package.model;
    let package_period = archive::period_dir_name(&model.period);
    if model.system_name != system_name || package_period.as_deref() != Some(period_dir) {
        return Err(S3ArchiveError::Package {
            path: package_dir.to_path_buf(),
            reason: format!(
                "the package reports on system {:?}, period {}; it cannot be archived as {system_name:?}, {period_dir}",
                model.system_name, model.period_label
            ),
        });
    }
    Ok(PackageDocument {
        revision: model.document.revision,
        supersedes: model.document.supersedes.clone(),
    })
}

/// What a package says of its place among the revisions of its period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageDocument {
    pub revision: u32,
    pub supersedes: Option<String>,
}

/// The calendar month a period directory name (`YYYY-MM`) stands for.
pub fn period_of(period_dir: &str) -> Option<Period> {
    if !archive::is_period_dir_name(period_dir) {
        return None;
    }
    let start = chrono::NaiveDate::parse_from_str(&format!("{period_dir}-01"), "%Y-%m-%d")
        .ok()?
        .and_hms_opt(0, 0, 0)?
        .and_utc();
    let end = start.checked_add_months(chrono::Months::new(1))?;
    Some(Period {
        start: start.into(),
        end: end.into(),
    })
}

/// The system name and the archive month a package says it reports on (`None` for the
/// month when its period is not a calendar month), from its results.json: what `push`
/// files it under, which `check_package` then compares with the verified evaluation.
pub fn package_subject(package_dir: &Path) -> Result<(String, Option<String>), S3ArchiveError> {
    let path = package_dir.join(RESULTS_FILE);
    let bytes = fs::read(&path).map_err(|source| S3ArchiveError::Read {
        path: path.clone(),
        source,
    })?;
    let not_results = |reason: String| S3ArchiveError::Package {
        path: path.clone(),
        reason: format!("not a report's results: {reason}"),
    };
    let results: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|err| not_results(err.to_string()))?;
    let system_name = results
        .get("system_name")
        .and_then(serde_json::Value::as_str)
        .ok_or_else(|| not_results("no system_name".to_string()))?;
    let period: Period = results
        .get("period")
        .cloned()
        .ok_or_else(|| not_results("no period".to_string()))
        .and_then(|p| {
            serde_json::from_value(p).map_err(|err| not_results(format!("period: {err}")))
        })?;
    Ok((system_name.to_string(), archive::period_dir_name(&period)))
}

/// The package's files, `/`-separated and sorted, with manifest.json and then manifest.sig
/// last: S3 has no multi-object commit, so a reader listing a revision while it is being
/// uploaded (an auditor, `archive list`, another run) must be able to tell a complete one.
/// The manifest lists every other file and the seal covers the manifest, so a revision
/// whose manifest.sig is there has all its files; one whose upload stopped has none.
fn package_files(dir: &Path) -> Result<Vec<String>, S3ArchiveError> {
    let mut files = Vec::new();
    collect_files(dir, "", &mut files)?;
    let last = |name: &str| match name {
        MANIFEST_FILE => 1,
        SEAL_FILE => 2,
        _ => 0,
    };
    files.sort_by(|a, b| last(a).cmp(&last(b)).then_with(|| a.cmp(b)));
    Ok(files)
}

fn collect_files(
    dir: &Path,
    relative: &str,
    files: &mut Vec<String>,
) -> Result<(), S3ArchiveError> {
    let read_error = |source| S3ArchiveError::Read {
        path: dir.to_path_buf(),
        source,
    };
    for entry in fs::read_dir(dir).map_err(read_error)? {
        let entry = entry.map_err(read_error)?;
        let path = entry.path();
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            return Err(S3ArchiveError::Package {
                path,
                reason: "the file name is not UTF-8, so it has no S3 key".to_string(),
            });
        };
        let child = if relative.is_empty() {
            name.to_string()
        } else {
            format!("{relative}/{name}")
        };
        let kind = entry.file_type().map_err(|source| S3ArchiveError::Read {
            path: path.clone(),
            source,
        })?;
        if kind.is_dir() {
            collect_files(&path, &child, files)?;
        } else if kind.is_file() {
            files.push(child);
        } else {
            return Err(S3ArchiveError::Package {
                path,
                reason: "not a regular file or directory; a package holds only files".to_string(),
            });
        }
    }
    Ok(())
}

/// The SHA-256 of each file the package's manifest lists.
fn manifest_hashes(dir: &Path) -> Result<BTreeMap<String, String>, S3ArchiveError> {
    let path = dir.join(MANIFEST_FILE);
    let bytes = fs::read(&path).map_err(|source| S3ArchiveError::Read {
        path: path.clone(),
        source,
    })?;
    let manifest = Manifest::parse(&bytes).map_err(|err| S3ArchiveError::Package {
        path,
        reason: err.to_string(),
    })?;
    Ok(manifest
        .files
        .into_iter()
        .map(|entry| (entry.path, entry.sha256))
        .collect())
}

/// SHA-256 of the file as hex and as S3's base64 checksum, and its size.
fn hash_file(path: &Path) -> Result<(String, u64, String), S3ArchiveError> {
    let read_error = |source| S3ArchiveError::Read {
        path: path.to_path_buf(),
        source,
    };
    let mut file = fs::File::open(path).map_err(read_error)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0; 1 << 16];
    let mut bytes = 0u64;
    loop {
        let read = file.read(&mut buffer).map_err(read_error)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
        bytes += read as u64;
    }
    let digest = hasher.finalize();
    Ok((lower_hex(&digest), bytes, Base64::encode_string(&digest)))
}

/// A key below a revision that can be written under the download directory: no empty, `.`
/// or `..` segment, no backslash or control character (a hostile bucket's key must not
/// write outside it).
fn is_safe_relative_key(relative: &str) -> bool {
    !relative.is_empty()
        && relative
            .split('/')
            .all(|s| !s.is_empty() && s != "." && s != "..")
        && !relative.chars().any(|c| c.is_control() || c == '\\')
}

/// `<parent>/.<name>.download-<pid>`: beside the target, on the same file system, so the
/// finished download is renamed into place.
fn staging_dir(to_dir: &Path) -> PathBuf {
    let name = to_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "revision".to_string());
    gxp_evidence_core::package::parent_dir(to_dir)
        .join(format!(".{name}.download-{}", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_urls_name_a_bucket_and_a_prefix() {
        let at = |url: &str| S3Location::parse(url).expect(url);
        assert_eq!(
            at("s3://gxp-archive/evidence/eu/"),
            S3Location {
                bucket: "gxp-archive".to_string(),
                prefix: "evidence/eu".to_string()
            }
        );
        assert_eq!(at("s3://gxp-archive").prefix, "");
        assert_eq!(at("s3://gxp-archive/").prefix, "");
        assert_eq!(at("s3://a.b-c.d1").bucket, "a.b-c.d1");
        let location = at("s3://gxp-archive/evidence");
        assert_eq!(
            location.key("lims/2026-10/r1/manifest.json"),
            "evidence/lims/2026-10/r1/manifest.json"
        );
        assert_eq!(
            location.url("lims/2026-10/r1/"),
            "s3://gxp-archive/evidence/lims/2026-10/r1/"
        );
        assert_eq!(location.to_string(), "s3://gxp-archive/evidence");
        assert_eq!(at("s3://gxp-archive").key("lims/"), "lims/");
    }

    #[test]
    fn bucket_names_follow_s3_naming_rules() {
        for (url, why) in [
            ("gxp-archive/x", "does not start with s3://"),
            ("https://gxp-archive/x", "does not start with s3://"),
            ("s3://ab", "3 to 63"),
            (&format!("s3://{}", "a".repeat(64)), "3 to 63"),
            ("s3://GXP-Archive", "lower-case"),
            ("s3://gxp_archive", "lower-case"),
            ("s3://-gxp", "begin and end"),
            ("s3://gxp-", "begin and end"),
            ("s3://gxp..archive", "begin and end"),
            ("s3://gxp.-archive", "begin and end"),
            ("s3://192.168.5.4", "IP address"),
            ("s3://xn--gxp", "S3 reserves"),
            ("s3://gxp-s3alias", "S3 reserves"),
            ("s3://gxp--ol-s3", "S3 reserves"),
            ("s3://", "3 to 63"),
            ("s3://gxp-archive//x", "empty"),
            ("s3://gxp-archive/a/../b", "`..`"),
            ("s3://gxp-archive/a\\b", "backslash"),
        ] {
            let error = S3Location::parse(url).expect_err(url);
            assert!(error.to_string().contains(why), "{url}: {error}");
            assert!(error.to_string().contains(&format!("{url:?}")), "{error}");
        }
    }

    #[test]
    fn a_retention_is_whole_days_in_whole_seconds_within_bounds() {
        let now: DateTime<Utc> = "2026-11-30T14:21:31.750Z".parse().expect("time");
        let retention = Retention::days_from(RetentionMode::Compliance, 3650, now).expect("valid");
        assert_eq!(retention.until.to_rfc3339(), "2036-11-27T14:21:31+00:00");
        assert_eq!(
            retention.to_string(),
            "COMPLIANCE until 2036-11-27T14:21:31Z"
        );
        assert_eq!(RetentionMode::default(), RetentionMode::Compliance);
        for days in [0, MAX_RETENTION_DAYS + 1] {
            let error = Retention::days_from(RetentionMode::Governance, days, now)
                .expect_err("out of range");
            assert_eq!(error.days, days);
        }
        assert!(Retention::days_from(RetentionMode::Governance, MAX_RETENTION_DAYS, now).is_ok());
    }

    #[test]
    fn manifest_and_seal_are_uploaded_last() {
        let dir = tempfile::tempdir().expect("temp dir");
        for name in [
            "manifest.sig",
            "manifest.json",
            "report.pdf",
            "evidence.json",
        ] {
            fs::write(dir.path().join(name), name).expect("write");
        }
        fs::create_dir_all(dir.path().join("history/1")).expect("mkdir");
        fs::write(dir.path().join("history/1/manifest.json"), "old").expect("write");
        assert_eq!(
            package_files(dir.path()).expect("listed"),
            [
                "evidence.json",
                "history/1/manifest.json",
                "report.pdf",
                "manifest.json",
                "manifest.sig"
            ]
        );
    }

    #[test]
    fn downloaded_keys_stay_inside_the_revision() {
        assert!(is_safe_relative_key("history/1/manifest.json"));
        for hostile in [
            "",
            "../x",
            "a/../../x",
            "a//b",
            "./a",
            "a/",
            "a\\..\\b",
            "a\nb",
        ] {
            assert!(!is_safe_relative_key(hostile), "{hostile:?}");
        }
    }
}
