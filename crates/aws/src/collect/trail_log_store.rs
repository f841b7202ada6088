//! Where `--trail-logs` reads a trail's files: a local folder (`LocalDir`, the digest
//! validator's `LocalTrailCopy` on the same root) or the trail's S3 bucket (`S3TrailLogs`),
//! behind the two read-only interfaces the offline core asks for — `trail_logs::LogStore`
//! (folder listings and streamed log files, for the change events) and
//! `log_integrity::TrailObjects` (keys, digests with their signature metadata, log file
//! hashes, for the digest chain).
//!
//! The core reads files on plain threads, so the S3 store answers synchronously: each call is
//! run to its end on the collection's Tokio runtime (`Handle::block_on`, from the blocking
//! threads the reader runs on), and an object's body is streamed through `SyncIoBridge`, never
//! held whole. Every page of a listing is followed; S3 errors (AccessDenied, NoSuchBucket, …)
//! are I/O errors naming the bucket and key, which the readers turn into evidence gaps. The
//! SDK's standard retry (backoff, throttling, 5xx) applies to every call.

use std::io::{self, Read};
use std::path::Path;
use std::sync::Arc;

use aws_config::SdkConfig;
use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;
use tokio::runtime::Handle;

use super::sdk::{PageTokens, call_failure};
use crate::archive_s3::{S3Location, S3UrlError};
use gxp_evidence_core::log_integrity::{
    DigestObject, LocalTrailCopy, LogFileState, MAX_DIGEST_BYTES, ObjectError, TrailObjects,
    gunzip_sha256,
};
use gxp_evidence_core::trail_logs::{Listing, LocalDir, LogStore, NotALogDirectory};

/// `--trail-logs` as given: a folder, or `s3://BUCKET[/PREFIX]` (the trail's bucket and key
/// prefix, the level that holds `AWSLogs/`).
#[derive(Debug, Clone)]
pub enum TrailLogSource {
    Directory(LocalDir),
    Bucket(S3Location),
}

/// Why `--trail-logs` names no source of log files.
#[derive(Debug, thiserror::Error)]
pub enum TrailLogSourceError {
    #[error(transparent)]
    Directory(#[from] NotALogDirectory),
    #[error("--trail-logs: {0}")]
    Bucket(#[from] S3UrlError),
}

impl TrailLogSource {
    /// A folder is checked now (it must hold `AWSLogs/`); a bucket is only parsed: whether it
    /// can be read is found per account-region and recorded as a gap there.
    pub fn parse(given: &str) -> Result<Self, TrailLogSourceError> {
        if given.starts_with("s3://") {
            Ok(Self::Bucket(S3Location::parse(given)?))
        } else {
            Ok(Self::Directory(LocalDir::open(Path::new(given))?))
        }
    }

    /// Opens the source for reading: a bucket gets a client in its own region (asked with
    /// GetBucketLocation; the caller's region, or us-east-1, when that cannot be read — the
    /// listings then fail, and say why, per account-region).
    pub async fn open(&self, sdk: &SdkConfig) -> TrailLogStore {
        match self {
            Self::Directory(dir) => TrailLogStore::Directory(dir.clone()),
            Self::Bucket(location) => {
                TrailLogStore::Bucket(Arc::new(S3TrailLogs::connect(sdk, location.clone()).await))
            }
        }
    }
}

/// An opened source of a trail's files.
#[derive(Clone)]
pub enum TrailLogStore {
    Directory(LocalDir),
    Bucket(Arc<S3TrailLogs>),
}

impl TrailLogStore {
    /// The log files, for the change events.
    pub fn log_files(&self) -> &(dyn LogStore + Send) {
        match self {
            Self::Directory(dir) => dir,
            Self::Bucket(bucket) => bucket.as_ref(),
        }
    }

    /// The bucket's objects by their full keys, for the digest chain of a trail with
    /// `key_prefix`: a folder stands for the bucket below that prefix (it holds `AWSLogs/`, as
    /// `aws s3 sync s3://BUCKET/PREFIX DIR` leaves it); a bucket is read as it is.
    pub fn trail_objects(
        &self,
        key_prefix: Option<&str>,
    ) -> Box<dyn TrailObjects + Send + Sync + '_> {
        match self {
            Self::Directory(dir) => Box::new(LocalTrailCopy::below_prefix(dir.root(), key_prefix)),
            Self::Bucket(bucket) => Box::new(bucket.as_ref()),
        }
    }

    /// The bucket the files are in, when the source is one (a folder's bucket is not known).
    pub fn bucket(&self) -> Option<&S3Location> {
        match self {
            Self::Directory(_) => None,
            Self::Bucket(bucket) => Some(&bucket.location),
        }
    }
}

/// A trail's bucket read through S3: ListObjectsV2 and GetObject, with the caller's
/// credentials, in the bucket's region.
pub struct S3TrailLogs {
    client: Client,
    location: S3Location,
    runtime: Handle,
}

impl std::fmt::Debug for S3TrailLogs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3TrailLogs")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

impl S3TrailLogs {
    /// Must be called on the collection's runtime, whose handle later calls use.
    pub async fn connect(sdk: &SdkConfig, location: S3Location) -> Self {
        // GetBucketLocation answers for any bucket in us-east-1 when no region is configured.
        let configured = sdk
            .region()
            .cloned()
            .unwrap_or(aws_sdk_s3::config::Region::from_static("us-east-1"));
        let probe = Client::from_conf(
            aws_sdk_s3::config::Builder::from(sdk)
                .region(configured.clone())
                .build(),
        );
        let region = probe
            .get_bucket_location()
            .bucket(&location.bucket)
            .send()
            .await
            .ok()
            .and_then(|out| out.location_constraint().map(|c| c.as_str().to_string()));
        let region = match region.as_deref().map(bucket_region) {
            Some(region) => aws_sdk_s3::config::Region::new(region.to_string()),
            None => configured,
        };
        let config = aws_sdk_s3::config::Builder::from(sdk).region(region);
        Self {
            client: Client::from_conf(config.build()),
            location,
            runtime: Handle::current(),
        }
    }

    /// A store key (below the prefix) as the bucket's key.
    fn bucket_key(&self, key: &str) -> String {
        let key = key.trim_start_matches('/');
        match self.location.prefix.as_str() {
            "" => key.to_string(),
            prefix => format!("{prefix}/{key}"),
        }
    }

    fn url(&self, bucket_key: &str) -> String {
        format!("s3://{}/{bucket_key}", self.location.bucket)
    }

    /// Every page of ListObjectsV2 under `prefix` (`delimiter` `/`: one level), as
    /// (common prefixes, keys).
    fn list_pages(
        &self,
        prefix: &str,
        delimiter: Option<&str>,
    ) -> Result<(Vec<String>, Vec<String>), String> {
        self.runtime.block_on(async {
            let (mut folders, mut keys) = (Vec::new(), Vec::new());
            let mut tokens = PageTokens::default();
            let mut token: Option<String> = None;
            loop {
                let page = self
                    .client
                    .list_objects_v2()
                    .bucket(&self.location.bucket)
                    .prefix(prefix)
                    .set_delimiter(delimiter.map(str::to_string))
                    .set_continuation_token(token.take())
                    .send()
                    .await
                    .map_err(|e| {
                        let failure = call_failure(&e);
                        format!("ListObjectsV2: {}: {}", failure.code, failure.message)
                    })?;
                folders.extend(
                    page.common_prefixes()
                        .iter()
                        .filter_map(|p| p.prefix().map(str::to_string)),
                );
                keys.extend(
                    page.contents()
                        .iter()
                        .filter_map(|o| o.key().map(str::to_string)),
                );
                match tokens
                    .next("ListObjectsV2", page.next_continuation_token())
                    .map_err(|f| f.message)?
                {
                    Some(next) => token = Some(next),
                    None => return Ok((folders, keys)),
                }
            }
        })
    }

    /// GetObject: `None` when there is no such key.
    fn get(
        &self,
        bucket_key: &str,
    ) -> Result<Option<aws_sdk_s3::operation::get_object::GetObjectOutput>, String> {
        self.runtime.block_on(async {
            match self
                .client
                .get_object()
                .bucket(&self.location.bucket)
                .key(bucket_key)
                .send()
                .await
            {
                Ok(object) => Ok(Some(object)),
                Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(None),
                Err(e) => {
                    let failure = call_failure(&e);
                    Err(format!("GetObject: {}: {}", failure.code, failure.message))
                }
            }
        })
    }

    /// An object's body as a blocking reader, streamed.
    fn body_reader(&self, body: ByteStream) -> BlockingBody {
        BlockingBody {
            body,
            chunk: Vec::new(),
            taken: 0,
            runtime: self.runtime.clone(),
        }
    }
}

/// An S3 object's body read chunk by chunk as the network delivers it, each chunk awaited on
/// the runtime from the reading thread: one chunk in memory at a time.
struct BlockingBody {
    body: ByteStream,
    chunk: Vec<u8>,
    /// Bytes of `chunk` already handed out.
    taken: usize,
    runtime: Handle,
}

impl Read for BlockingBody {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.taken == self.chunk.len() {
            match self.runtime.block_on(self.body.next()) {
                None => return Ok(0),
                Some(Ok(chunk)) => (self.chunk, self.taken) = (chunk.to_vec(), 0),
                Some(Err(e)) => return Err(io::Error::other(e)),
            }
        }
        let rest = &self.chunk[self.taken..];
        let n = buf.len().min(rest.len());
        buf[..n].copy_from_slice(&rest[..n]);
        self.taken += n;
        Ok(n)
    }
}

/// A trail bucket opened outside a collection (`validate-logs`), with the multi-threaded
/// runtime its blocking calls run on: the store answers only while the runtime lives.
pub struct OpenedTrailBucket {
    pub store: S3TrailLogs,
    _runtime: tokio::runtime::Runtime,
}

/// Opens `location` with the settings' credentials; calls are made later, from this thread or
/// others, never from within the runtime.
pub fn open_trail_bucket(
    settings: &super::AwsSettings,
    location: S3Location,
) -> Result<OpenedTrailBucket, super::CollectError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(super::CollectError::Runtime)?;
    let store = runtime.block_on(async {
        let sdk = super::load_sdk_config(settings).await?;
        Ok::<_, super::CollectError>(S3TrailLogs::connect(&sdk, location).await)
    })?;
    Ok(OpenedTrailBucket {
        store,
        _runtime: runtime,
    })
}

/// GetBucketLocation's answer as a region: no constraint is us-east-1, `EU` eu-west-1.
fn bucket_region(constraint: &str) -> &str {
    match constraint {
        "" => "us-east-1",
        "EU" => "eu-west-1",
        region => region,
    }
}

impl LogStore for S3TrailLogs {
    fn list(&self, folder: &str) -> io::Result<Listing> {
        let folder = folder.trim_matches('/');
        let prefix = format!("{}/", self.bucket_key(folder));
        let (folders, keys) = self
            .list_pages(&prefix, Some("/"))
            .map_err(|message| io::Error::other(format!("{}: {message}", self.url(&prefix))))?;
        let mut listing = Listing {
            folders: folders
                .iter()
                .filter_map(|p| p.strip_prefix(&prefix))
                .map(|name| name.trim_end_matches('/').to_string())
                .filter(|name| !name.is_empty())
                .collect(),
            files: keys
                .iter()
                .filter_map(|k| k.strip_prefix(&prefix))
                .filter(|name| !name.is_empty())
                .map(|name| format!("{folder}/{name}"))
                .collect(),
        };
        listing.folders.sort();
        listing.files.sort();
        Ok(listing)
    }

    fn open(&self, key: &str) -> io::Result<Box<dyn Read + Send + '_>> {
        let bucket_key = self.bucket_key(key);
        match self.get(&bucket_key) {
            Ok(Some(object)) => Ok(Box::new(self.body_reader(object.body))),
            Ok(None) => Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{}: no such key", self.url(&bucket_key)),
            )),
            Err(message) => Err(io::Error::other(format!(
                "{}: {message}",
                self.url(&bucket_key)
            ))),
        }
    }

    fn name_of(&self, key: &str) -> String {
        self.url(&self.bucket_key(key))
    }

    fn location(&self) -> String {
        match self.location.prefix.as_str() {
            "" => format!("s3://{}", self.location.bucket),
            prefix => format!("s3://{}/{prefix}", self.location.bucket),
        }
    }
}

impl TrailObjects for &S3TrailLogs {
    fn list(&self, prefix: &str) -> Result<Vec<String>, ObjectError> {
        self.list_pages(prefix, None)
            .map(|(_, keys)| keys)
            .map_err(|message| ObjectError {
                key: prefix.to_string(),
                message: format!("{}: {message}", self.url(prefix)),
            })
    }

    fn digest(&self, key: &str) -> Result<Option<DigestObject>, ObjectError> {
        let fail = |message: String| ObjectError {
            key: key.to_string(),
            message: format!("{}: {message}", self.url(key)),
        };
        let Some(object) = self.get(key).map_err(fail)? else {
            return Ok(None);
        };
        let metadata = |name: &str| object.metadata().and_then(|m| m.get(name)).cloned();
        let (signature, signature_algorithm) =
            (metadata("signature"), metadata("signature-algorithm"));
        // A stored digest this large is no digest: not read into memory (the parse error of
        // its empty bytes is the finding), as the local copy does.
        let too_large = object
            .content_length()
            .is_some_and(|length| length < 0 || length as u64 > MAX_DIGEST_BYTES);
        let mut bytes = Vec::new();
        if !too_large {
            self.body_reader(object.body)
                .take(MAX_DIGEST_BYTES + 1)
                .read_to_end(&mut bytes)
                .map_err(|e| fail(format!("reading the body: {e}")))?;
        }
        Ok(Some(DigestObject {
            bytes,
            signature,
            signature_algorithm,
        }))
    }

    fn log_file(&self, key: &str) -> Result<LogFileState, ObjectError> {
        let Some(object) = self.get(key).map_err(|message| ObjectError {
            key: key.to_string(),
            message: format!("{}: {message}", self.url(key)),
        })?
        else {
            return Ok(LogFileState::Absent);
        };
        Ok(
            match gunzip_sha256(io::BufReader::new(self.body_reader(object.body))) {
                Ok(sha256) => LogFileState::Hashed(sha256),
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::InvalidData
                            | io::ErrorKind::InvalidInput
                            | io::ErrorKind::UnexpectedEof
                    ) =>
                {
                    LogFileState::Unreadable(e.to_string())
                }
                Err(e) => {
                    return Err(ObjectError {
                        key: key.to_string(),
                        message: format!("{}: reading the body: {e}", self.url(key)),
                    });
                }
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_is_a_bucket_url_or_a_folder_of_log_files() {
        let bucket = TrailLogSource::parse("s3://trail-bucket/org/logs/").expect("a bucket");
        assert!(matches!(
            bucket,
            TrailLogSource::Bucket(S3Location { ref bucket, ref prefix })
                if bucket == "trail-bucket" && prefix == "org/logs"
        ));
        let bad = TrailLogSource::parse("s3://Bad_Bucket/x").expect_err("bad name");
        assert!(bad.to_string().starts_with("--trail-logs: "), "{bad}");
        let folder = tempfile::tempdir().expect("tempdir");
        assert!(TrailLogSource::parse(&folder.path().display().to_string()).is_err());
        std::fs::create_dir(folder.path().join("AWSLogs")).expect("mkdir");
        assert!(matches!(
            TrailLogSource::parse(&folder.path().display().to_string()),
            Ok(TrailLogSource::Directory(_))
        ));
    }

    #[test]
    fn bucket_regions_follow_get_bucket_location() {
        assert_eq!(bucket_region(""), "us-east-1");
        assert_eq!(bucket_region("EU"), "eu-west-1");
        assert_eq!(bucket_region("eu-central-1"), "eu-central-1");
    }
}
