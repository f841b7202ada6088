//! A trail bucket written to a directory the way CloudTrail writes one with log file validation
//! on: small gzip log files `{"Records":[…]}` and hourly digest files chained by the previous
//! digest's signature, each signed SHA256withRSA with the TEST key of
//! tests/fixtures/trail-digests/ (its signature in a `KEY.metadata.json` sidecar, as
//! `LocalTrailCopy` reads it), plus the ListPublicKeys document for that key. Options make one
//! digest signed by an unknown key or linked past its predecessor; the tamper cases of
//! tests/log_integrity.rs alter the files afterwards.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, SecondsFormat, TimeZone, Utc};
use gxp_evidence_core::hash::sha256_hex;
use gxp_evidence_core::log_integrity::{TrailLocation, fingerprint};
use rsa::pkcs1::EncodeRsaPublicKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{SignatureEncoding, Signer};
use serde_json::json;

pub const BUCKET: &str = "gxp-trail-bucket";
pub const ACCOUNT: &str = "111122223333";
pub const REGION: &str = "eu-central-1";
pub const TRAIL: &str = "gxp_audit-trail";
/// Number of hourly digests written: one before the range (so the range's first hour is
/// covered), six for the range, one after (for log files delivered at its end).
pub const DIGESTS: usize = 8;
/// The digest (by index) whose hour has no log file: its digest has an empty `logFiles`.
pub const EMPTY_HOUR: usize = 4;

/// The signing key standing in for CloudTrail's regional key (test-only).
pub fn signing_key() -> rsa::PrivateKey {
    key_from_pem(include_str!(
        "../fixtures/trail-digests/test-signing-key.pem"
    ))
}

/// A key CloudTrail never published (test-only).
pub fn unknown_key() -> rsa::PrivateKey {
    key_from_pem(include_str!(
        "../fixtures/trail-digests/test-unknown-key.pem"
    ))
}

// Included, not read at run time: crates/core's benchmark uses this module too.
fn key_from_pem(pem: &str) -> rsa::PrivateKey {
    rsa::PrivateKey::from_pkcs8_pem(pem).expect("test key is PKCS#8 PEM")
}

fn public_der(key: &rsa::PrivateKey) -> Vec<u8> {
    key.to_public_key()
        .to_pkcs1_der()
        .expect("encodes")
        .as_bytes()
        .to_vec()
}

/// The ListPublicKeys document for the signing key, valid from 30 days before the first digest
/// to 90 days after it (a generated month fits).
pub fn public_keys_json() -> String {
    let der = public_der(&signing_key());
    use base64ct::Encoding;
    json!({"PublicKeyList": [{
        "Value": base64ct::Base64::encode_string(&der),
        "ValidityStartTime": (first_digest_start() - Duration::days(30)).timestamp() as f64,
        "ValidityEndTime": (first_digest_start() + Duration::days(90)).timestamp() as f64,
        "Fingerprint": fingerprint(&der),
    }]})
    .to_string()
}

/// The first digest's start; digests end at :01:31 past each hour, as CloudTrail's do.
pub fn first_digest_start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 2, 28, 23, 1, 31)
        .single()
        .expect("valid time")
}

/// The range the generated trail covers completely: the six hours from 2026-03-01T00:00Z.
pub fn range() -> gxp_evidence_core::log_integrity::TimeRange {
    let start = Utc
        .with_ymd_and_hms(2026, 3, 1, 0, 0, 0)
        .single()
        .expect("valid time");
    gxp_evidence_core::log_integrity::TimeRange {
        start,
        end: start + Duration::hours(6),
    }
}

pub fn location() -> TrailLocation {
    TrailLocation {
        prefix: None,
        organization_id: None,
        account: ACCOUNT.into(),
        region: REGION.into(),
    }
}

/// Whose trail is written, and when it starts: the constants of this module by default; the
/// end-to-end tests name moto's account and trail.
#[derive(Debug, Clone)]
pub struct TrailSpec {
    pub account: String,
    pub region: String,
    pub trail: String,
    pub bucket: String,
    /// The trail's S3 key prefix (without slashes at either end); files go below it in the
    /// bucket, so below the directory that stands for `s3://BUCKET/PREFIX`, they do not.
    pub prefix: Option<String>,
    pub first_digest_start: DateTime<Utc>,
}

impl Default for TrailSpec {
    fn default() -> Self {
        TrailSpec {
            account: ACCOUNT.into(),
            region: REGION.into(),
            trail: TRAIL.into(),
            bucket: BUCKET.into(),
            prefix: None,
            first_digest_start: first_digest_start(),
        }
    }
}

impl TrailSpec {
    pub fn location(&self) -> TrailLocation {
        TrailLocation {
            prefix: self.prefix.clone(),
            organization_id: None,
            account: self.account.clone(),
            region: self.region.clone(),
        }
    }

    /// Where an object key of the bucket is in the directory standing for `s3://BUCKET/PREFIX`.
    fn path(&self, root: &Path, key: &str) -> PathBuf {
        let below = match &self.prefix {
            Some(prefix) => key
                .strip_prefix(&format!("{prefix}/"))
                .expect("keys are below the prefix"),
            None => key,
        };
        root.join(below)
    }
}

/// What can be made wrong while the trail is written (tamper cases CloudTrail's own signing
/// would produce: a foreign key, a link that skips a digest).
#[derive(Debug, Clone, Copy, Default)]
pub struct TrailOptions {
    /// This digest is signed with [`unknown_key`] (and names that key's fingerprint).
    pub unknown_key_at: Option<usize>,
    /// This digest links to the digest two before it instead of the one before.
    pub link_past_previous_at: Option<usize>,
}

/// The keys of what was written, by digest index.
#[derive(Debug, Clone)]
pub struct GeneratedTrail {
    pub root: PathBuf,
    pub digests: Vec<String>,
    /// The log files each digest lists.
    pub logs: Vec<Vec<String>>,
}

/// How much a generated trail holds.
#[derive(Debug, Clone, Copy)]
pub struct TrailShape {
    /// Hourly digests, the first starting at [`first_digest_start`].
    pub digests: usize,
    /// Log files per hour; 0: the small trail's pattern (one or two, none in [`EMPTY_HOUR`]).
    pub files_per_hour: usize,
    /// Records per log file (about 1.6 KB each, the size of real ones).
    pub records_per_file: usize,
}

impl TrailShape {
    /// The tests' trail: [`DIGESTS`] hours of one or two log files of two records.
    pub const SMALL: TrailShape = TrailShape {
        digests: DIGESTS,
        files_per_hour: 0,
        records_per_file: 2,
    };
}

/// Writes the tests' trail into `root` (the bucket root): for each hour one or two log files
/// (none in [`EMPTY_HOUR`]) and the hour's digest.
pub fn write_trail(root: &Path, options: TrailOptions) -> GeneratedTrail {
    write_trail_shaped(root, TrailShape::SMALL, options)
}

/// Writes a trail of `shape` into `root`.
pub fn write_trail_shaped(root: &Path, shape: TrailShape, options: TrailOptions) -> GeneratedTrail {
    write_trail_of(root, &TrailSpec::default(), shape, options)
}

/// Writes the trail of `spec` of `shape` into `root` (the directory standing for the bucket
/// below the trail's prefix).
pub fn write_trail_of(
    root: &Path,
    spec: &TrailSpec,
    shape: TrailShape,
    options: TrailOptions,
) -> GeneratedTrail {
    let location = spec.location();
    let (account, region, trail, bucket) = (
        spec.account.as_str(),
        spec.region.as_str(),
        spec.trail.as_str(),
        spec.bucket.as_str(),
    );
    let mut digests = Vec::new();
    let mut logs = Vec::new();
    // (key, signature hex, content sha256 hex) of each digest written.
    let mut chain: Vec<(String, String, String)> = Vec::new();
    let signing = signing_key();
    let unknown = unknown_key();
    for index in 0..shape.digests {
        let start = spec.first_digest_start + Duration::hours(index as i64);
        let end = start + Duration::hours(1);
        let files = match shape.files_per_hour {
            0 if index == EMPTY_HOUR => 0,
            0 => 1 + index % 2,
            n => n,
        };
        let mut entries = Vec::new();
        let mut hour_logs = Vec::new();
        for file in 0..files {
            let written = start + Duration::minutes(10 + (45 * file / files) as i64);
            let (key, entry) = write_spec_log_file(
                root,
                spec,
                written,
                index * 1000 + file,
                shape.records_per_file,
            );
            hour_logs.push(key);
            entries.push(entry);
        }
        let key = format!(
            "{}{account}_CloudTrail-Digest_{region}_{trail}_{region}_{}.json.gz",
            location.digest_day_prefix(end.date_naive()),
            end.format("%Y%m%dT%H%M%SZ")
        );
        let previous = match (index, options.link_past_previous_at) {
            (0, _) => None,
            (i, Some(at)) if i == at && i >= 2 => Some(&chain[i - 2]),
            (i, _) => Some(&chain[i - 1]),
        };
        let key_pair = if options.unknown_key_at == Some(index) {
            unknown.clone()
        } else {
            signing.clone()
        };
        let content = json!({
            "awsAccountId": account,
            "digestStartTime": time(start),
            "digestEndTime": time(end),
            "digestS3Bucket": bucket,
            "digestS3Object": key,
            "digestPublicKeyFingerprint": fingerprint(&public_der(&key_pair)),
            "digestSignatureAlgorithm": "SHA256withRSA",
            "newestEventTime": entries.last().map(|e: &serde_json::Value| e["newestEventTime"].clone()),
            "oldestEventTime": entries.first().map(|e: &serde_json::Value| e["oldestEventTime"].clone()),
            "previousDigestS3Bucket": previous.map(|_| bucket),
            "previousDigestS3Object": previous.map(|p| p.0.clone()),
            "previousDigestHashValue": previous.map(|p| p.2.clone()),
            "previousDigestHashAlgorithm": previous.map(|_| "SHA-256"),
            "previousDigestSignature": previous.map(|p| p.1.clone()),
            "logFiles": entries,
        })
        .to_string();
        let content_sha256 = sha256_hex(content.as_bytes());
        let to_sign = format!(
            "{}\n{bucket}/{key}\n{content_sha256}\n{}",
            time(end),
            previous.map_or("null", |p| p.1.as_str())
        );
        let signature =
            rsa::pkcs1v15::SigningKey::<rsa::sha2::Sha256>::new(key_pair).sign(to_sign.as_bytes());
        let signature_hex: String = signature
            .to_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        write_file(&spec.path(root, &key), &gzip(content.as_bytes()));
        write_file(
            &spec.path(root, &format!("{key}.metadata.json")),
            json!({"signature": signature_hex, "signature-algorithm": "SHA256withRSA"})
                .to_string()
                .as_bytes(),
        );
        chain.push((key.clone(), signature_hex, content_sha256));
        digests.push(key);
        logs.push(hour_logs);
    }
    GeneratedTrail {
        root: root.to_path_buf(),
        digests,
        logs,
    }
}

/// Writes one log file of two records at `written` and returns its key and digest entry.
pub fn write_log_file(
    root: &Path,
    location: &TrailLocation,
    written: DateTime<Utc>,
    serial: usize,
) -> (String, serde_json::Value) {
    write_log_file_of(root, location, written, serial, 2)
}

/// Writes one log file of `records` records (about 1.6 KB each, management events shaped as
/// real ones: session context, TLS details, resources) and returns its key and digest entry.
pub fn write_log_file_of(
    root: &Path,
    location: &TrailLocation,
    written: DateTime<Utc>,
    serial: usize,
    records: usize,
) -> (String, serde_json::Value) {
    let spec = TrailSpec {
        prefix: location.prefix.clone(),
        account: location.account.clone(),
        region: location.region.clone(),
        ..TrailSpec::default()
    };
    write_spec_log_file(root, &spec, written, serial, records)
}

/// [`write_log_file_of`] for the trail of `spec`.
pub fn write_spec_log_file(
    root: &Path,
    spec: &TrailSpec,
    written: DateTime<Utc>,
    serial: usize,
    records: usize,
) -> (String, serde_json::Value) {
    let (account, region) = (spec.account.as_str(), spec.region.as_str());
    let location = spec.location();
    let oldest = written - Duration::minutes(7);
    let newest = written - Duration::minutes(2);
    let records: Vec<serde_json::Value> = (0..records)
        .map(|n| {
            let at = if n == 0 { oldest } else { newest };
            let key_arn = format!("arn:aws:kms:{region}:{account}:key/{serial:08}-0000-4000-8000-{n:012}");
            json!({
                "eventVersion": "1.09",
                "userIdentity": {
                    "type": "AssumedRole",
                    "principalId": "AROAEXAMPLEID7XYZ:ci-deployer",
                    "arn": format!("arn:aws:sts::{account}:assumed-role/Deployer/ci-deployer"),
                    "accountId": account,
                    "accessKeyId": "ASIAEXAMPLEKEY123456",
                    "sessionContext": {
                        "sessionIssuer": {"type": "Role", "principalId": "AROAEXAMPLEID7XYZ",
                            "arn": format!("arn:aws:iam::{account}:role/Deployer"), "accountId": account,
                            "userName": "Deployer"},
                        "attributes": {"creationDate": time(at - Duration::minutes(30)), "mfaAuthenticated": "false"}
                    }
                },
                "eventTime": time(at),
                "eventSource": "kms.amazonaws.com",
                "eventName": if n % 2 == 0 { "CreateKey" } else { "EnableKeyRotation" },
                "awsRegion": region,
                "sourceIPAddress": "203.0.113.7",
                "userAgent": "aws-cli/2.15.0 md/awscrt#0.19.19 ua/2.0 os/linux#6.5.0 md/arch#x86_64 lang/python#3.11.6 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe",
                "requestParameters": {"keyId": key_arn, "rotationPeriodInDays": 365},
                "responseElements": null,
                "requestID": format!("{serial:08}-1111-4000-8000-{n:012}"),
                "eventID": format!("{serial:08}-2222-4000-8000-{n:012}"),
                "readOnly": false,
                "resources": [{"accountId": account, "type": "AWS::KMS::Key", "ARN": key_arn}],
                "eventType": "AwsApiCall",
                "managementEvent": true,
                "recipientAccountId": account,
                "eventCategory": "Management",
                "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
                    "clientProvidedHostHeader": format!("kms.{region}.amazonaws.com")}
            })
        })
        .collect();
    let content = json!({"Records": records}).to_string();
    let key = format!(
        "{}{account}_CloudTrail_{region}_{}_Gen{serial:07}.json.gz",
        location.log_day_prefix(written.date_naive()),
        written.format("%Y%m%dT%H%MZ")
    );
    write_file(&spec.path(root, &key), &gzip(content.as_bytes()));
    let entry = json!({
        "s3Bucket": spec.bucket,
        "s3Object": key,
        "hashValue": sha256_hex(content.as_bytes()),
        "hashAlgorithm": "SHA-256",
        "newestEventTime": time(newest),
        "oldestEventTime": time(oldest),
    });
    (key, entry)
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).expect("in memory");
    encoder.finish().expect("in memory")
}

pub fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(bytes), &mut out).expect("gzip");
    out
}

fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn write_file(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().expect("a key has a directory")).expect("mkdir");
    std::fs::write(path, bytes).expect("write");
}
