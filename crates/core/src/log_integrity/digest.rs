//! One CloudTrail digest file: its JSON (delivered gzip-compressed), the string CloudTrail
//! signs for it, and the object keys under which a trail delivers digest and log files.
//!
//! Sources: "CloudTrail digest file structure" (fields, key layout, `_backfill` names) and
//! "Custom implementations of CloudTrail log file integrity validation" (the string to sign),
//! AWS CloudTrail User Guide; cited in docs/controls.md.

use std::io::Read;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

/// The only signature algorithm CloudTrail uses for digest files (`digestSignatureAlgorithm`
/// in the file, `signature-algorithm` in the object's metadata).
pub const SIGNATURE_ALGORITHM: &str = "SHA256withRSA";

/// A digest file lists the log files of one hour: a few hundred entries at most. Anything that
/// inflates beyond this is not a digest file (and is not read into memory).
pub const MAX_DIGEST_BYTES: u64 = 64 * 1024 * 1024;

/// The JSON of a digest file, field names as CloudTrail writes them. Unknown fields are
/// ignored: the signature covers the whole file, so nothing unread can be altered unnoticed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DigestFile {
    pub aws_account_id: String,
    /// Kept exactly as written: the end time enters the signed string verbatim.
    pub digest_start_time: String,
    pub digest_end_time: String,
    pub digest_s3_bucket: String,
    pub digest_s3_object: String,
    pub digest_public_key_fingerprint: String,
    pub digest_signature_algorithm: String,
    #[serde(default)]
    pub newest_event_time: Option<String>,
    #[serde(default)]
    pub oldest_event_time: Option<String>,
    /// The previous-digest fields are null in the first digest after logging (or validation)
    /// starts.
    #[serde(default)]
    pub previous_digest_s3_bucket: Option<String>,
    #[serde(default)]
    pub previous_digest_s3_object: Option<String>,
    #[serde(default)]
    pub previous_digest_hash_value: Option<String>,
    #[serde(default)]
    pub previous_digest_hash_algorithm: Option<String>,
    #[serde(default)]
    pub previous_digest_signature: Option<String>,
    /// Empty for an hour in which no log file was delivered: CloudTrail still writes the digest.
    #[serde(default)]
    pub log_files: Vec<DigestLogFile>,
}

/// One log file a digest vouches for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DigestLogFile {
    pub s3_bucket: String,
    pub s3_object: String,
    /// Lowercase hex SHA-256 of the log file's decompressed content.
    pub hash_value: String,
    #[serde(default)]
    pub hash_algorithm: Option<String>,
    #[serde(default)]
    pub newest_event_time: Option<String>,
    #[serde(default)]
    pub oldest_event_time: Option<String>,
}

/// A digest file read and parsed, with what validation needs beside the JSON.
#[derive(Debug, Clone)]
pub struct ParsedDigest {
    pub file: DigestFile,
    /// Lowercase hex SHA-256 of the decompressed file: part of the signed string, and what the
    /// next digest records as `previousDigestHashValue`.
    pub content_sha256: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl ParsedDigest {
    /// The string CloudTrail signs (SHA256withRSA) for this digest: its end time as written,
    /// `bucket/key` of the digest, the hex SHA-256 of the decompressed file, and the previous
    /// digest's hex signature, or `null` for the first digest of a chain; newline-separated.
    pub fn string_to_sign(&self) -> String {
        signed_string(
            &self.file.digest_end_time,
            &self.file.digest_s3_bucket,
            &self.file.digest_s3_object,
            &self.content_sha256,
            self.file.previous_digest_signature.as_deref(),
        )
    }
}

/// The string CloudTrail signs for a digest: `digestEndTime` as written, `bucket/key` of the
/// digest, the hex SHA-256 of the decompressed file, and the previous digest's hex signature,
/// or `null` for the first digest of a chain; newline-separated.
pub fn signed_string(
    end_time: &str,
    bucket: &str,
    key: &str,
    content_sha256: &str,
    previous_signature: Option<&str>,
) -> String {
    format!(
        "{end_time}\n{bucket}/{key}\n{content_sha256}\n{}",
        previous_signature.unwrap_or("null")
    )
}

/// Why a digest file could not be read; every variant names the file.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DigestParseError {
    #[error("digest file {file} is not valid gzip: {message}")]
    Gzip { file: String, message: String },
    #[error("digest file {file} inflates to more than {limit} bytes: not a digest file")]
    TooLarge { file: String, limit: u64 },
    #[error("digest file {file} is not a valid digest at line {line}, column {column}: {message}")]
    Json {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("digest file {file}: {field} {value:?} is not an RFC 3339 UTC time")]
    Time {
        file: String,
        field: &'static str,
        value: String,
    },
}

/// Reads a digest file as stored (gzip) and parses it; `file` names it in errors.
pub fn parse_digest(file: &str, gzip_bytes: &[u8]) -> Result<ParsedDigest, DigestParseError> {
    let mut content = Vec::new();
    flate2::read::MultiGzDecoder::new(gzip_bytes)
        .take(MAX_DIGEST_BYTES + 1)
        .read_to_end(&mut content)
        .map_err(|e| DigestParseError::Gzip {
            file: file.to_string(),
            message: e.to_string(),
        })?;
    if content.len() as u64 > MAX_DIGEST_BYTES {
        return Err(DigestParseError::TooLarge {
            file: file.to_string(),
            limit: MAX_DIGEST_BYTES,
        });
    }
    parse_digest_json(file, &content)
}

/// Parses the decompressed JSON of a digest file.
pub fn parse_digest_json(file: &str, content: &[u8]) -> Result<ParsedDigest, DigestParseError> {
    let parsed: DigestFile =
        serde_json::from_slice(content).map_err(|e| DigestParseError::Json {
            file: file.to_string(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?;
    let time = |field: &'static str, value: &str| {
        parse_utc(value).ok_or_else(|| DigestParseError::Time {
            file: file.to_string(),
            field,
            value: value.to_string(),
        })
    };
    let start = time("digestStartTime", &parsed.digest_start_time)?;
    let end = time("digestEndTime", &parsed.digest_end_time)?;
    Ok(ParsedDigest {
        content_sha256: crate::hash::sha256_hex(content),
        file: parsed,
        start,
        end,
    })
}

/// An RFC 3339 time as CloudTrail writes them (`2015-08-17T14:01:31Z`).
pub fn parse_utc(value: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(value)
        .ok()
        .map(|time| time.with_timezone(&Utc))
}

/// Streams a gzip log file and returns the SHA-256 of its decompressed content, the value a
/// digest records as `hashValue`, without holding the file in memory.
pub fn gunzip_sha256(reader: impl Read) -> std::io::Result<[u8; 32]> {
    let mut decoder = flate2::read::MultiGzDecoder::new(reader);
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let read = decoder.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
    }
    Ok(hasher.finalize().into())
}

/// Where one account-region of a trail's bucket keeps its files:
/// `[prefix/]AWSLogs/[o-ORG/]ACCOUNT/{CloudTrail,CloudTrail-Digest}/REGION/YYYY/MM/DD/`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrailLocation {
    /// The trail's S3 key prefix, without slashes at either end; None when it has none.
    pub prefix: Option<String>,
    /// The organization id of an organization trail (`o-…`).
    pub organization_id: Option<String>,
    pub account: String,
    pub region: String,
}

impl TrailLocation {
    fn root(&self) -> String {
        let mut root = String::new();
        if let Some(prefix) = self.prefix.as_deref().map(|p| p.trim_matches('/'))
            && !prefix.is_empty()
        {
            root.push_str(prefix);
            root.push('/');
        }
        root.push_str("AWSLogs/");
        if let Some(organization) = &self.organization_id {
            root.push_str(organization);
            root.push('/');
        }
        root.push_str(&self.account);
        root.push('/');
        root
    }

    /// `…/CloudTrail-Digest/REGION/YYYY/MM/DD/`: the digests whose end time falls on `day`.
    pub fn digest_day_prefix(&self, day: NaiveDate) -> String {
        format!(
            "{}CloudTrail-Digest/{}/{}/",
            self.root(),
            self.region,
            day.format("%Y/%m/%d")
        )
    }

    /// `…/CloudTrail/REGION/YYYY/MM/DD/`: the log files written on `day`.
    pub fn log_day_prefix(&self, day: NaiveDate) -> String {
        format!(
            "{}CloudTrail/{}/{}/",
            self.root(),
            self.region,
            day.format("%Y/%m/%d")
        )
    }

    /// What a digest key's file name says: trail, home region, end time, backfill. None when
    /// the name is not a digest of this account and region.
    pub fn digest_name(&self, key: &str) -> Option<DigestName> {
        let name = key.rsplit('/').next()?;
        let rest = name.strip_prefix(&format!(
            "{}_CloudTrail-Digest_{}_",
            self.account, self.region
        ))?;
        let rest = rest.strip_suffix(".json.gz")?;
        let (rest, backfill) = match rest.strip_suffix("_backfill") {
            Some(rest) => (rest, true),
            None => (rest, false),
        };
        let (rest, stamp) = rest.rsplit_once('_')?;
        // Trail names may contain underscores; region names never do.
        let (trail, home_region) = rest.rsplit_once('_')?;
        let end = NaiveDateTime::parse_from_str(stamp, "%Y%m%dT%H%M%SZ")
            .ok()?
            .and_utc();
        if trail.is_empty() || home_region.is_empty() {
            return None;
        }
        Some(DigestName {
            trail: trail.to_string(),
            home_region: home_region.to_string(),
            end,
            backfill,
        })
    }

    /// The time in a log file's name (`ACCOUNT_CloudTrail_REGION_YYYYMMDDTHHmmZ_ID.json.gz`),
    /// None when the name is not a log file of this account and region.
    pub fn log_file_time(&self, key: &str) -> Option<DateTime<Utc>> {
        let name = key.rsplit('/').next()?;
        let rest = name.strip_prefix(&format!("{}_CloudTrail_{}_", self.account, self.region))?;
        let (stamp, rest) = rest.split_once('_')?;
        if !rest.ends_with(".json.gz") {
            return None;
        }
        NaiveDateTime::parse_from_str(stamp, "%Y%m%dT%H%MZ")
            .ok()
            .map(|time| time.and_utc())
    }
}

/// The parts of a digest file's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestName {
    pub trail: String,
    pub home_region: String,
    pub end: DateTime<Utc>,
    /// `_backfill`: a digest for log files that missed their hour's digest.
    pub backfill: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn location() -> TrailLocation {
        TrailLocation {
            prefix: Some("trails/".into()),
            organization_id: None,
            account: "111122223333".into(),
            region: "us-east-2".into(),
        }
    }

    const SAMPLE: &str = r#"{"awsAccountId":"111122223333","digestStartTime":"2015-08-17T14:01:31Z",
        "digestEndTime":"2015-08-17T15:01:31Z","digestS3Bucket":"bucket",
        "digestS3Object":"AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/17/111122223333_CloudTrail-Digest_us-east-2_my_trail_us-east-2_20150817T150131Z.json.gz",
        "digestPublicKeyFingerprint":"31e8b5433410dfb61a9dc45cc65b22ff","digestSignatureAlgorithm":"SHA256withRSA",
        "previousDigestS3Bucket":null,"previousDigestS3Object":null,"previousDigestHashValue":null,
        "previousDigestHashAlgorithm":null,"previousDigestSignature":null,"logFiles":[],"someFutureField":1}"#;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(bytes).expect("in memory");
        encoder.finish().expect("in memory")
    }

    #[test]
    fn the_first_digest_of_a_chain_signs_null_as_previous_signature() {
        let digest = parse_digest("d.json.gz", &gzip(SAMPLE.as_bytes())).expect("valid");
        let sha = crate::hash::sha256_hex(SAMPLE.as_bytes());
        assert_eq!(
            digest.string_to_sign(),
            format!(
                "2015-08-17T15:01:31Z\nbucket/{}\n{sha}\nnull",
                digest.file.digest_s3_object
            )
        );
        assert!(digest.file.log_files.is_empty());
        assert_eq!(digest.end - digest.start, chrono::Duration::hours(1));
    }

    #[test]
    fn a_chained_digest_signs_the_previous_signature() {
        let chained = SAMPLE.replace(
            r#""previousDigestSignature":null"#,
            r#""previousDigestSignature":"abcd""#,
        );
        let digest = parse_digest_json("d", chained.as_bytes()).expect("valid");
        assert!(digest.string_to_sign().ends_with("\nabcd"));
    }

    #[test]
    fn parse_errors_name_the_file_and_position() {
        let error = parse_digest("k/d.json.gz", b"not gzip").expect_err("not gzip");
        assert!(error.to_string().contains("k/d.json.gz"), "{error}");
        let error = parse_digest("k/d.json.gz", &gzip(b"{\n \"awsAccountId\": 1}"))
            .expect_err("wrong type");
        assert!(
            matches!(error, DigestParseError::Json { line: 2, .. }),
            "{error:?}"
        );
        let bad_time = SAMPLE.replace("2015-08-17T15:01:31Z\"", "yesterday\"");
        let error = parse_digest_json("d", bad_time.as_bytes()).expect_err("bad time");
        assert!(error.to_string().contains("digestEndTime"), "{error}");
    }

    #[test]
    fn prefixes_follow_the_documented_layout() {
        let day = NaiveDate::from_ymd_opt(2015, 8, 7).expect("date");
        assert_eq!(
            location().digest_day_prefix(day),
            "trails/AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/07/"
        );
        let organization = TrailLocation {
            prefix: None,
            organization_id: Some("o-abc".into()),
            ..location()
        };
        assert_eq!(
            organization.log_day_prefix(day),
            "AWSLogs/o-abc/111122223333/CloudTrail/us-east-2/2015/08/07/"
        );
    }

    #[test]
    fn digest_names_keep_underscores_of_trail_names_and_mark_backfill() {
        let name = location()
            .digest_name("x/111122223333_CloudTrail-Digest_us-east-2_my_trail_us-east-1_20150817T150131Z_backfill.json.gz")
            .expect("a digest name");
        assert_eq!(name.trail, "my_trail");
        assert_eq!(name.home_region, "us-east-1");
        assert!(name.backfill);
        assert_eq!(name.end.to_rfc3339(), "2015-08-17T15:01:31+00:00");
        assert!(location().digest_name("x/readme.txt").is_none());
        assert!(
            location()
                .digest_name(
                    "111122223333_CloudTrail-Digest_eu-west-1_t_eu-west-1_20150817T150131Z.json.gz"
                )
                .is_none(),
            "another region"
        );
    }

    #[test]
    fn log_file_names_give_their_time() {
        let time = location()
            .log_file_time("a/111122223333_CloudTrail_us-east-2_20150817T1455Z_AbCd123.json.gz")
            .expect("a log name");
        assert_eq!(time.to_rfc3339(), "2015-08-17T14:55:00+00:00");
        assert!(
            location()
                .log_file_time("a/111122223333_CloudTrail_us-east-2_x.json.gz")
                .is_none()
        );
    }

    #[test]
    fn log_files_are_hashed_decompressed() {
        let content = br#"{"Records":[]}"#;
        let hash = gunzip_sha256(&gzip(content)[..]).expect("gzip");
        assert_eq!(
            crate::hash::lower_hex(&hash),
            crate::hash::sha256_hex(content)
        );
    }
}
