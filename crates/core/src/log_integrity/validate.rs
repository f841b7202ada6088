//! The validation of one trail's digest chain for one account-region over a time range, and
//! its result, the [`IntegrityReport`]. What AWS documents it follows ("Custom implementations
//! of CloudTrail log file integrity validation"); where AWS leaves a choice open the choice is
//! the one that cannot hide a missing or altered file (docs/controls.md lists them).

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::digest::{DigestName, ParsedDigest, SIGNATURE_ALGORITHM, TrailLocation, parse_digest};
use super::public_keys::{KeyLookup, PublicKeyList};

/// The objects of a trail's bucket, as the caller can reach them (S3, a local copy, a test).
pub trait TrailObjects {
    /// Every object key that starts with `prefix`, in any order; none is an empty list.
    fn list(&self, prefix: &str) -> Result<Vec<String>, ObjectError>;
    /// A digest object as stored (gzip) with its S3 user metadata; None when it is absent.
    fn digest(&self, key: &str) -> Result<Option<DigestObject>, ObjectError>;
    /// A log file's state: absent, or the SHA-256 of its decompressed content (computed
    /// streaming, e.g. with [`super::gunzip_sha256`]), or why it cannot be decompressed.
    fn log_file(&self, key: &str) -> Result<LogFileState, ObjectError>;
}

/// A digest file as stored, with the object metadata CloudTrail writes beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestObject {
    pub bytes: Vec<u8>,
    /// `x-amz-meta-signature`: the hex SHA256withRSA signature.
    pub signature: Option<String>,
    /// `x-amz-meta-signature-algorithm`.
    pub signature_algorithm: Option<String>,
}

/// What the caller found for a log file key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogFileState {
    Absent,
    /// SHA-256 of the decompressed content.
    Hashed([u8; 32]),
    /// Present but not a readable gzip file (a modification as well).
    Unreadable(String),
}

/// An object that could not be listed or read (not: found absent). Validation stops: a report
/// built around an unread object would claim more than was checked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {message}")]
pub struct ObjectError {
    pub key: String,
    pub message: String,
}

/// Why no report could be produced.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntegrityError {
    #[error("cannot read the trail's objects: {0}")]
    Objects(#[from] ObjectError),
    #[error("the range {start} to {end} is empty", start = .0.start, end = .0.end)]
    EmptyRange(TimeRange),
    #[error("digest files of several trails ({}) are under this prefix: name the trail", .0.join(", "))]
    SeveralTrails(Vec<String>),
}

/// A half-open time range `[start, end)`, RFC 3339 in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TimeRange {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// What to validate: one trail, one account-region of its bucket, one time range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationScope {
    pub bucket: String,
    pub location: TrailLocation,
    /// The trail's name as digest file names carry it; None: the only trail whose digests are
    /// under the prefix (several are an error).
    pub trail: Option<String>,
    pub range: TimeRange,
}

/// What is wrong with a file or an hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum FindingKind {
    /// A log file a valid digest lists is absent (or a listed digest could not be fetched).
    Missing,
    /// A log file's SHA-256 differs from its digest's, or a digest file is unreadable or not
    /// where it says it was delivered.
    Modified,
    /// A log file under the trail's prefix for the range that no digest lists, or an object
    /// there that is not a trail file at all.
    Extra,
    /// A digest without a signature in its metadata, or signed with another algorithm.
    UnsignedDigest,
    /// A digest whose signature does not verify with CloudTrail's key.
    BadSignature,
    /// A digest signed with a key that is not CloudTrail's (for that region and time).
    UnknownKey,
    /// A digest that does not link to the digest before it.
    ChainBreak,
    /// Hours no digest covers.
    DigestGap,
}

/// One finding: what, which file, which hours it concerns, and the particulars.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct IntegrityFinding {
    pub covers: TimeRange,
    pub kind: FindingKind,
    pub file: String,
    pub detail: String,
}

/// The result of validating one trail's chain; deterministic (findings sorted by hours, kind
/// and file). Empty findings: every log file of the range is present, unaltered and signed for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntegrityReport {
    pub bucket: String,
    pub location: TrailLocation,
    /// The trail whose digests were validated; None when no digest was found.
    pub trail: Option<String>,
    pub range: TimeRange,
    pub digests_checked: usize,
    pub log_files_checked: usize,
    pub findings: Vec<IntegrityFinding>,
    /// Every digest of the range that could be read, in chain order, with what re-checking its
    /// signature and link needs offline ([`recheck_chain`]); absent from reports of earlier
    /// versions.
    #[serde(default)]
    pub chain: Vec<ChainLink>,
}

/// One digest of a validated chain, its values kept as the digest file and its metadata hold
/// them: enough to rebuild the string CloudTrail signed and check the signature and the link
/// to the digest before it without the bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainLink {
    /// The digest's object key.
    pub digest: String,
    /// `digestS3Bucket` and `digestS3Object` as the file records them.
    pub digest_s3_bucket: String,
    pub digest_s3_object: String,
    /// `digestEndTime`, verbatim (it enters the signed string as written).
    pub digest_end_time: String,
    /// Lowercase hex SHA-256 of the decompressed digest file.
    pub digest_sha256: String,
    /// `digestPublicKeyFingerprint`.
    pub public_key_fingerprint: String,
    /// `previousDigestS3Object`, `previousDigestHashValue`, `previousDigestSignature`: None in
    /// the first digest of a chain.
    #[serde(default)]
    pub previous_digest: Option<String>,
    #[serde(default)]
    pub previous_digest_hash: Option<String>,
    #[serde(default)]
    pub previous_digest_signature: Option<String>,
    /// The hex signature of the object metadata; None when the digest was unsigned.
    #[serde(default)]
    pub signature: Option<String>,
    /// A `_backfill` digest: outside the hourly chain.
    #[serde(default)]
    pub backfill: bool,
    /// The signature verified with CloudTrail's key when validated: what re-checking must
    /// confirm.
    pub signature_verified: bool,
}

impl ChainLink {
    /// The string CloudTrail signed for this digest (see [`super::signed_string`]).
    pub fn string_to_sign(&self) -> String {
        super::digest::signed_string(
            &self.digest_end_time,
            &self.digest_s3_bucket,
            &self.digest_s3_object,
            &self.digest_sha256,
            self.previous_digest_signature.as_deref(),
        )
    }

    fn of(key: &str, parsed: &ParsedDigest, signature: Option<&str>, backfill: bool) -> Self {
        let file = &parsed.file;
        ChainLink {
            digest: key.to_string(),
            digest_s3_bucket: file.digest_s3_bucket.clone(),
            digest_s3_object: file.digest_s3_object.clone(),
            digest_end_time: file.digest_end_time.clone(),
            digest_sha256: parsed.content_sha256.clone(),
            public_key_fingerprint: file.digest_public_key_fingerprint.clone(),
            previous_digest: file.previous_digest_s3_object.clone(),
            previous_digest_hash: file.previous_digest_hash_value.clone(),
            previous_digest_signature: file.previous_digest_signature.clone(),
            signature: signature.map(str::to_string),
            backfill,
            signature_verified: false,
        }
    }
}

/// What re-checking a stored chain found wrong with one digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecheckProblem {
    pub digest: String,
    pub problem: String,
}

/// Re-checks a chain kept in a snapshot, offline, with the public keys kept beside it: every
/// digest recorded as verified must verify again (same signed string, same key lookup as
/// [`validate_trail`]), and every verified hourly digest that names the digest before it as its
/// previous one must record that digest's signature and SHA-256. A report claiming no finding
/// must have every digest verified.
pub fn recheck_chain(report: &IntegrityReport, keys: &PublicKeyList) -> Vec<RecheckProblem> {
    let mut problems = Vec::new();
    let mut problem = |digest: &str, text: String| {
        problems.push(RecheckProblem {
            digest: digest.to_string(),
            problem: text,
        })
    };
    for link in &report.chain {
        if !link.signature_verified {
            if report.is_intact() {
                problem(
                    &link.digest,
                    "recorded as not verified, in a result that claims no finding".into(),
                );
            }
            continue;
        }
        let Some(signature) = link.signature.as_deref() else {
            problem(
                &link.digest,
                "recorded as verified but has no signature".into(),
            );
            continue;
        };
        let Some(at) = super::parse_utc(&link.digest_end_time) else {
            problem(
                &link.digest,
                format!("digestEndTime {:?} is not a time", link.digest_end_time),
            );
            continue;
        };
        if let Err((_, detail)) = verify_signature(
            &link.string_to_sign(),
            signature,
            &link.public_key_fingerprint,
            &link.digest_end_time,
            at,
            keys,
        ) {
            problem(&link.digest, detail);
        }
    }
    let hourly: Vec<&ChainLink> = report
        .chain
        .iter()
        .filter(|l| !l.backfill && l.signature_verified)
        .collect();
    for pair in hourly.windows(2) {
        let (before, link) = (pair[0], pair[1]);
        if link.previous_digest.as_deref() != Some(before.digest.as_str()) {
            continue;
        }
        let same = |a: Option<&str>, b: Option<&str>| {
            a.map(|s| s.trim().to_ascii_lowercase()) == b.map(|s| s.trim().to_ascii_lowercase())
        };
        if !same(
            link.previous_digest_signature.as_deref(),
            before.signature.as_deref(),
        ) {
            problem(
                &link.digest,
                format!(
                    "records a previous digest signature that is not the stored signature of {}",
                    before.digest
                ),
            );
        }
        if !same(
            link.previous_digest_hash.as_deref(),
            Some(&before.digest_sha256),
        ) {
            problem(
                &link.digest,
                format!(
                    "records a previous digest hash that is not the stored SHA-256 of {}",
                    before.digest
                ),
            );
        }
    }
    problems
}

impl IntegrityReport {
    /// True when the report is the positive claim: no finding.
    pub fn is_intact(&self) -> bool {
        self.findings.is_empty()
    }

    /// A few lines for a person: scope, counts, and one line per finding.
    pub fn summary(&self) -> String {
        let mut out = format!(
            "CloudTrail log integrity, trail {} in s3://{}, account {}, region {}, {} to {}: {} digest files, {} log files checked, {}",
            self.trail.as_deref().unwrap_or("(no digest found)"),
            self.bucket,
            self.location.account,
            self.location.region,
            self.range.start.to_rfc3339(),
            self.range.end.to_rfc3339(),
            self.digests_checked,
            self.log_files_checked,
            match self.findings.len() {
                0 => "no findings: complete and unaltered".to_string(),
                1 => "1 finding".to_string(),
                n => format!("{n} findings"),
            }
        );
        for finding in &self.findings {
            out.push_str(&format!(
                "\n  {:?} {} ({} to {}): {}",
                finding.kind,
                finding.file,
                finding.covers.start.to_rfc3339(),
                finding.covers.end.to_rfc3339(),
                finding.detail
            ));
        }
        out
    }
}

/// One digest of the range after its checks.
struct CheckedDigest {
    key: String,
    name: DigestName,
    /// The hours it covers: from its content when its signature verified, else the hour
    /// before its name's time.
    window: TimeRange,
    parsed: Option<ParsedDigest>,
    signature: Option<String>,
    /// Signature verified with CloudTrail's key: what it says can be relied on.
    trusted: bool,
}

/// Validates the digest chain of `scope` with CloudTrail's `keys` for the region.
///
/// Digests are taken whose end time lies in `(start, end + 1 hour]` (a log file delivered just
/// before `end` is listed by the next hour's digest, as `validate-logs` also allows); log files
/// whose name's time lies in `[start, end)` must each be listed by one of them.
pub fn validate_trail(
    objects: &(dyn TrailObjects + Sync),
    keys: &PublicKeyList,
    scope: &ValidationScope,
) -> Result<IntegrityReport, IntegrityError> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    validate_trail_with_workers(objects, keys, scope, workers)
}

/// [`validate_trail`] hashing log files on `workers` threads (the benchmark's 1 → 2 cores).
pub fn validate_trail_with_workers(
    objects: &(dyn TrailObjects + Sync),
    keys: &PublicKeyList,
    scope: &ValidationScope,
    workers: usize,
) -> Result<IntegrityReport, IntegrityError> {
    let range = scope.range;
    if range.end <= range.start {
        return Err(IntegrityError::EmptyRange(range));
    }
    let location = &scope.location;
    let digest_horizon = range.end + Duration::hours(1);
    let mut findings = Vec::new();

    let mut names = Vec::new();
    for day in days(range.start, digest_horizon) {
        for key in objects.list(&location.digest_day_prefix(day))? {
            match location.digest_name(&key) {
                Some(name) if name.end > range.start && name.end <= digest_horizon => {
                    names.push((key, name));
                }
                Some(_) => {}
                None => findings.push(IntegrityFinding {
                    covers: day_in_range(day, range),
                    kind: FindingKind::Extra,
                    file: key,
                    detail: "among the digest files but not a digest file name of this account and region".into(),
                }),
            }
        }
    }
    let trail = match &scope.trail {
        Some(trail) => Some(trail.clone()),
        None => {
            let trails: BTreeSet<&str> = names.iter().map(|(_, n)| n.trail.as_str()).collect();
            if trails.len() > 1 {
                return Err(IntegrityError::SeveralTrails(
                    trails.into_iter().map(str::to_string).collect(),
                ));
            }
            trails.into_iter().next().map(str::to_string)
        }
    };
    names.retain(|(_, name)| Some(&name.trail) == trail.as_ref());
    names.sort_by(|(a_key, a), (b_key, b)| {
        (a.end, a.backfill, a_key).cmp(&(b.end, b.backfill, b_key))
    });

    let mut digests = Vec::with_capacity(names.len());
    let mut chain = Vec::new();
    let mut digests_checked = 0;
    for (key, name) in names {
        let name_window = TimeRange {
            start: name.end - Duration::hours(1),
            end: name.end,
        };
        let mut checked = CheckedDigest {
            key,
            name,
            window: name_window,
            parsed: None,
            signature: None,
            trusted: false,
        };
        digests_checked += 1;
        let Some(object) = objects.digest(&checked.key)? else {
            findings.push(IntegrityFinding {
                covers: name_window,
                kind: FindingKind::Missing,
                file: checked.key.clone(),
                detail: "listed among the digest files but absent when read".into(),
            });
            digests.push(checked);
            continue;
        };
        match parse_digest(&checked.key, &object.bytes) {
            Err(error) => findings.push(IntegrityFinding {
                covers: name_window,
                kind: FindingKind::Modified,
                file: checked.key.clone(),
                detail: error.to_string(),
            }),
            Ok(parsed) => {
                let mut link = ChainLink::of(
                    &checked.key,
                    &parsed,
                    object.signature.as_deref(),
                    checked.name.backfill,
                );
                match check_signature(&parsed, &object, keys, &scope.bucket, &checked.key) {
                    // Only a verified digest's own times are relied on; an unverified one
                    // counts for the hour its name gives, so it cannot hide a gap by claiming
                    // a long window.
                    Ok(()) => {
                        checked.trusted = true;
                        link.signature_verified = true;
                        checked.window = TimeRange {
                            start: parsed.start,
                            end: parsed.end,
                        };
                    }
                    Err((kind, detail)) => findings.push(IntegrityFinding {
                        covers: name_window,
                        kind,
                        file: checked.key.clone(),
                        detail: match parsed.file.log_files.len() {
                            0 => detail,
                            1 => format!("{detail}; the log file it lists is unproven"),
                            n => format!("{detail}; the {n} log files it lists are unproven"),
                        },
                    }),
                }
                chain.push(link);
                checked.signature = object.signature;
                checked.parsed = Some(parsed);
            }
        }
        digests.push(checked);
    }

    check_chain(&digests, scope, &mut findings);
    let (listed, log_files_checked) =
        check_log_files(objects, &digests, scope, workers, &mut findings)?;
    find_extra_log_files(objects, &listed, scope, &mut findings)?;
    fold_extra_log_files_into_gaps(&mut findings);

    findings.sort();
    findings.dedup();
    Ok(IntegrityReport {
        bucket: scope.bucket.clone(),
        location: location.clone(),
        trail,
        range,
        digests_checked,
        log_files_checked,
        findings,
        chain,
    })
}

/// The checks of one digest before anything it says is relied on: its location, its
/// signature's presence and algorithm, CloudTrail's key for its time, the signature itself.
fn check_signature(
    parsed: &ParsedDigest,
    object: &DigestObject,
    keys: &PublicKeyList,
    bucket: &str,
    key: &str,
) -> Result<(), (FindingKind, String)> {
    let file = &parsed.file;
    if file.digest_s3_bucket != bucket || file.digest_s3_object != key {
        return Err((
            FindingKind::Modified,
            format!(
                "names s3://{}/{} as where it was delivered: moved or copied from there",
                file.digest_s3_bucket, file.digest_s3_object
            ),
        ));
    }
    let Some(signature_hex) = object.signature.as_deref() else {
        return Err((
            FindingKind::UnsignedDigest,
            "no signature in the object metadata (x-amz-meta-signature)".into(),
        ));
    };
    for algorithm in [
        object.signature_algorithm.as_deref(),
        Some(file.digest_signature_algorithm.as_str()),
    ] {
        if algorithm != Some(SIGNATURE_ALGORITHM) {
            return Err((
                FindingKind::UnsignedDigest,
                format!(
                    "signature algorithm {}, not {SIGNATURE_ALGORITHM}",
                    algorithm.unwrap_or("missing from the object metadata")
                ),
            ));
        }
    }
    verify_signature(
        &parsed.string_to_sign(),
        signature_hex,
        &file.digest_public_key_fingerprint,
        &file.digest_end_time,
        parsed.end,
        keys,
    )
}

/// Verifies a digest's hex `signature` of `signed` (its [`super::signed_string`]) with CloudTrail's key
/// of `fingerprint` valid at `at` (the digest's end time, `end_time` as written): what
/// [`validate_trail`] checks for every digest and what `verify` re-checks from a snapshot.
pub fn verify_signature(
    signed: &str,
    signature: &str,
    fingerprint: &str,
    end_time: &str,
    at: DateTime<Utc>,
    keys: &PublicKeyList,
) -> Result<(), (FindingKind, String)> {
    use rsa::signature::Verifier;

    let public_key = match keys.lookup(fingerprint, at) {
        KeyLookup::Found(public_key) => public_key,
        KeyLookup::NotValidThen(public_key) => {
            return Err((
                FindingKind::UnknownKey,
                format!(
                    "signed with key {fingerprint}, which CloudTrail used from {} to {}, not at {end_time}",
                    public_key.validity_start_time.to_rfc3339(),
                    public_key
                        .validity_end_time
                        .map_or("now".to_string(), |end| end.to_rfc3339()),
                ),
            ));
        }
        KeyLookup::Unknown => {
            return Err((
                FindingKind::UnknownKey,
                format!(
                    "signed with key {fingerprint}, not one of CloudTrail's public keys for the region"
                ),
            ));
        }
    };
    let rsa_key = public_key
        .rsa_key()
        .map_err(|message| (FindingKind::UnknownKey, message))?;
    let signature = base16ct::mixed::decode_vec(signature.trim())
        .ok()
        .and_then(|bytes| rsa::pkcs1v15::Signature::try_from(bytes.as_slice()).ok())
        .ok_or_else(|| {
            (
                FindingKind::BadSignature,
                "the signature in the object metadata is not hex".to_string(),
            )
        })?;
    rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(rsa_key)
        .verify(signed.as_bytes(), &signature)
        .map_err(|_| {
            (
                FindingKind::BadSignature,
                format!("the signature does not verify with CloudTrail's key {fingerprint}"),
            )
        })
}

/// Hours no digest covers are gaps; a digest that does not link to the one before it (same
/// location, signature and content hash) is a chain break, unless a gap already explains it
/// (the digests of the gap are gone, so the link points to one of them). Backfill digests are
/// outside the hourly chain: their signature and log files are checked, not their links.
fn check_chain(
    digests: &[CheckedDigest],
    scope: &ValidationScope,
    findings: &mut Vec<IntegrityFinding>,
) {
    let range = scope.range;
    let mut covered_until = range.start;
    let mut previous: Option<&CheckedDigest> = None;
    for digest in digests.iter().filter(|d| !d.name.backfill) {
        let gap_before = digest.window.start > covered_until;
        if gap_before && covered_until < range.end {
            findings.push(IntegrityFinding {
                covers: TimeRange {
                    start: covered_until,
                    end: digest.window.start.min(range.end),
                },
                kind: FindingKind::DigestGap,
                file: digest.key.clone(),
                detail: "no digest file covers these hours (this is the next digest file)".into(),
            });
        }
        // A link is checked between two trusted digests only: an untrusted one has its own
        // finding for its hours, and its neighbour's link to it proves nothing either way.
        if let (Some(before), Some(parsed), true) = (previous, &digest.parsed, digest.trusted)
            && before.trusted
            && let Some(detail) = broken_link(before, parsed, &scope.bucket, gap_before)
        {
            findings.push(IntegrityFinding {
                covers: digest.window,
                kind: FindingKind::ChainBreak,
                file: digest.key.clone(),
                detail,
            });
        }
        covered_until = covered_until.max(digest.window.end);
        previous = Some(digest);
    }
    if covered_until < range.end {
        findings.push(IntegrityFinding {
            covers: TimeRange {
                start: covered_until,
                end: range.end,
            },
            kind: FindingKind::DigestGap,
            file: scope.location.digest_day_prefix(covered_until.date_naive()),
            detail: "no digest file covers these hours (none follows)".into(),
        });
    }
}

/// Why `digest` does not link to `before`, if it does not.
fn broken_link(
    before: &CheckedDigest,
    digest: &ParsedDigest,
    bucket: &str,
    gap_before: bool,
) -> Option<String> {
    let file = &digest.file;
    let Some(previous_object) = file.previous_digest_s3_object.as_deref() else {
        return (!gap_before).then(|| {
            format!(
                "starts a new chain (no previous digest) right after {}: logging or validation was stopped and restarted",
                before.key
            )
        });
    };
    if previous_object != before.key || file.previous_digest_s3_bucket.as_deref() != Some(bucket) {
        return (!gap_before).then(|| {
            format!(
                "links to s3://{}/{previous_object} as its previous digest, but the previous digest is {}",
                file.previous_digest_s3_bucket.as_deref().unwrap_or("(none)"),
                before.key
            )
        });
    }
    if file
        .previous_digest_signature
        .as_deref()
        .map(str::to_ascii_lowercase)
        != before
            .signature
            .as_deref()
            .map(|s| s.trim().to_ascii_lowercase())
    {
        return Some(format!(
            "records a previous digest signature that is not the signature of {}",
            before.key
        ));
    }
    if let Some(before_parsed) = &before.parsed
        && file
            .previous_digest_hash_value
            .as_deref()
            .map(str::to_ascii_lowercase)
            != Some(before_parsed.content_sha256.clone())
    {
        return Some(format!(
            "records a previous digest hash that is not the SHA-256 of {}",
            before.key
        ));
    }
    None
}

/// Every log file a trusted digest lists: present, with the recorded SHA-256. Returns every
/// key any digest lists (those of untrusted digests too: their digest's finding covers them,
/// they are not reported again as extra) and how many log files were checked.
fn check_log_files(
    objects: &(dyn TrailObjects + Sync),
    digests: &[CheckedDigest],
    scope: &ValidationScope,
    workers: usize,
    findings: &mut Vec<IntegrityFinding>,
) -> Result<(BTreeSet<String>, usize), ObjectError> {
    let mut listed = BTreeSet::new();
    let mut checked = BTreeSet::new();
    // (digest, log entry, hours) of each log file to hash, in digest order.
    let mut jobs = Vec::new();
    for digest in digests {
        let Some(parsed) = &digest.parsed else {
            continue;
        };
        for log in &parsed.file.log_files {
            listed.insert(log.s3_object.clone());
            if !digest.trusted || !checked.insert(log.s3_object.clone()) {
                continue;
            }
            let covers = match (
                log.oldest_event_time.as_deref().and_then(super::parse_utc),
                log.newest_event_time.as_deref().and_then(super::parse_utc),
            ) {
                (Some(start), Some(end)) if start <= end => TimeRange { start, end },
                _ => digest.window,
            };
            if log.s3_bucket != scope.bucket {
                findings.push(IntegrityFinding {
                    covers,
                    kind: FindingKind::Missing,
                    file: log.s3_object.clone(),
                    detail: format!(
                        "listed by {} in bucket {}, not in the validated bucket {}",
                        digest.key, log.s3_bucket, scope.bucket
                    ),
                });
                continue;
            }
            jobs.push((digest, log, covers));
        }
    }
    let states = hash_in_parallel(objects, &jobs, workers)?;
    for ((digest, log, covers), state) in jobs.iter().zip(states) {
        let (kind, detail) = match state {
            LogFileState::Absent => (
                FindingKind::Missing,
                format!("listed by {} but absent", digest.key),
            ),
            LogFileState::Unreadable(message) => (
                FindingKind::Modified,
                format!("listed by {} but not readable gzip: {message}", digest.key),
            ),
            LogFileState::Hashed(sha256) => {
                let actual = crate::hash::lower_hex(&sha256);
                if actual.eq_ignore_ascii_case(log.hash_value.trim()) {
                    continue;
                }
                (
                    FindingKind::Modified,
                    format!(
                        "SHA-256 of its content is {actual}, {} recorded {}",
                        digest.key, log.hash_value
                    ),
                )
            }
        };
        findings.push(IntegrityFinding {
            covers: *covers,
            kind,
            file: log.s3_object.clone(),
            detail,
        });
    }
    Ok((listed, checked.len()))
}

/// Each job's log file state, in job order, read by up to `workers` threads (hashing a month
/// of log files is the validation's cost; reading them is the caller's I/O).
fn hash_in_parallel(
    objects: &(dyn TrailObjects + Sync),
    jobs: &[(&CheckedDigest, &super::DigestLogFile, TimeRange)],
    workers: usize,
) -> Result<Vec<LogFileState>, ObjectError> {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<LogFileState, ObjectError>>>> =
        Mutex::new(vec![None; jobs.len()]);
    let work = || {
        loop {
            let index = next.fetch_add(1, Ordering::Relaxed);
            let Some((_, log, _)) = jobs.get(index) else {
                break;
            };
            let state = objects.log_file(&log.s3_object);
            let failed = state.is_err();
            if let Ok(mut results) = results.lock() {
                results[index] = Some(state);
            }
            if failed {
                // Stop handing out work: the validation ends with this error.
                next.store(jobs.len(), Ordering::Relaxed);
            }
        }
    };
    std::thread::scope(|scope| {
        for _ in 1..workers.clamp(1, jobs.len().max(1)) {
            scope.spawn(work);
        }
        work();
    });
    let results = results
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut states = Vec::with_capacity(jobs.len());
    for (index, result) in results.into_iter().enumerate() {
        match result {
            Some(state) => states.push(state?),
            // Only after another job's error stopped the work; report that error.
            None => {
                return Err(ObjectError {
                    key: jobs[index].1.s3_object.clone(),
                    message: "not read: reading another log file failed".into(),
                });
            }
        }
    }
    Ok(states)
}

/// Log files of the range that no digest lists, and objects among the log files that are no
/// log file of this account and region.
fn find_extra_log_files(
    objects: &(dyn TrailObjects + Sync),
    listed: &BTreeSet<String>,
    scope: &ValidationScope,
    findings: &mut Vec<IntegrityFinding>,
) -> Result<(), ObjectError> {
    let range = scope.range;
    let last_instant = range.end - Duration::nanoseconds(1);
    for day in days(range.start, last_instant) {
        for key in objects.list(&scope.location.log_day_prefix(day))? {
            if listed.contains(&key) {
                continue;
            }
            match scope.location.log_file_time(&key) {
                None => findings.push(IntegrityFinding {
                    covers: day_in_range(day, range),
                    kind: FindingKind::Extra,
                    file: key,
                    detail:
                        "among the log files but not a log file name of this account and region"
                            .into(),
                }),
                Some(time) if time >= range.start && time < range.end => {
                    // A log file's name carries the minute it was written.
                    findings.push(IntegrityFinding {
                        covers: TimeRange {
                            start: time,
                            end: time + Duration::minutes(1),
                        },
                        kind: FindingKind::Extra,
                        file: key,
                        detail: UNLISTED_LOG_FILE.into(),
                    });
                }
                Some(_) => {}
            }
        }
    }
    Ok(())
}

/// A log file no digest lists because its hour has no digest at all is part of that gap, not a
/// finding of its own: the gap's detail counts them ("unproven" rather than "extra").
fn fold_extra_log_files_into_gaps(findings: &mut Vec<IntegrityFinding>) {
    let gaps: Vec<TimeRange> = findings
        .iter()
        .filter(|f| f.kind == FindingKind::DigestGap)
        .map(|f| f.covers)
        .collect();
    let mut in_gap = vec![0usize; gaps.len()];
    findings.retain(|finding| {
        let is_log_file_of_gap = finding.kind == FindingKind::Extra
            && finding.detail == UNLISTED_LOG_FILE
            && gaps.iter().enumerate().any(|(index, gap)| {
                // The minute of the log file's name overlaps the gap.
                let overlaps = finding.covers.start < gap.end && gap.start < finding.covers.end;
                if overlaps {
                    in_gap[index] += 1;
                }
                overlaps
            });
        !is_log_file_of_gap
    });
    for finding in findings
        .iter_mut()
        .filter(|f| f.kind == FindingKind::DigestGap)
    {
        let Some(index) = gaps.iter().position(|gap| *gap == finding.covers) else {
            continue;
        };
        if in_gap[index] > 0 {
            finding.detail.push_str(&format!(
                "; {} log file{} of these hours {} listed in no digest and unproven",
                in_gap[index],
                if in_gap[index] == 1 { "" } else { "s" },
                if in_gap[index] == 1 { "is" } else { "are" }
            ));
        }
    }
}

const UNLISTED_LOG_FILE: &str = "a log file of the range that no digest file lists";

/// The UTC days from `first`'s to `last`'s, inclusive.
fn days(first: DateTime<Utc>, last: DateTime<Utc>) -> impl Iterator<Item = NaiveDate> {
    let last = last.date_naive();
    first
        .date_naive()
        .iter_days()
        .take_while(move |day| *day <= last)
}

/// The part of `range` on `day`.
fn day_in_range(day: NaiveDate, range: TimeRange) -> TimeRange {
    let start = day.and_time(chrono::NaiveTime::MIN).and_utc();
    TimeRange {
        start: start.max(range.start),
        end: (start + Duration::days(1)).min(range.end),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use rsa::pkcs1::EncodeRsaPublicKey;
    use rsa::pkcs8::DecodePrivateKey;
    use rsa::signature::{SignatureEncoding, Signer};

    use super::*;
    use crate::hash::sha256_hex;
    use crate::log_integrity::{fingerprint, parse_utc};

    const ACCOUNT: &str = "111122223333";
    const REGION: &str = "eu-west-1";
    const BUCKET: &str = "trail-bucket";

    /// The bucket in memory; log files are kept decompressed (their hash is what matters).
    #[derive(Default)]
    struct Bucket {
        digests: BTreeMap<String, DigestObject>,
        logs: BTreeMap<String, Vec<u8>>,
        other: Vec<String>,
    }

    impl TrailObjects for Bucket {
        fn list(&self, prefix: &str) -> Result<Vec<String>, ObjectError> {
            let keys = self
                .digests
                .keys()
                .chain(self.logs.keys())
                .chain(&self.other);
            Ok(keys.filter(|k| k.starts_with(prefix)).cloned().collect())
        }
        fn digest(&self, key: &str) -> Result<Option<DigestObject>, ObjectError> {
            Ok(self.digests.get(key).cloned())
        }
        fn log_file(&self, key: &str) -> Result<LogFileState, ObjectError> {
            Ok(match self.logs.get(key) {
                None => LogFileState::Absent,
                Some(content) => {
                    use sha2::Digest;
                    LogFileState::Hashed(sha2::Sha256::digest(content).into())
                }
            })
        }
    }

    fn key_pair() -> rsa::PrivateKey {
        let pem = include_str!("../../../../tests/fixtures/trail-digests/test-signing-key.pem");
        rsa::PrivateKey::from_pkcs8_pem(pem).expect("test key")
    }

    fn location() -> TrailLocation {
        TrailLocation {
            prefix: None,
            organization_id: None,
            account: ACCOUNT.into(),
            region: REGION.into(),
        }
    }

    fn keys(valid_until: &str) -> PublicKeyList {
        let der = key_pair()
            .to_public_key()
            .to_pkcs1_der()
            .expect("der")
            .as_bytes()
            .to_vec();
        use base64ct::Encoding;
        PublicKeyList {
            public_key_list: vec![crate::log_integrity::TrailPublicKey {
                value: base64ct::Base64::encode_string(&der),
                validity_start_time: parse_utc("2026-01-01T00:00:00Z").expect("time"),
                validity_end_time: parse_utc(valid_until),
                fingerprint: fingerprint(&der),
            }],
        }
    }

    /// Writes a signed digest for `[start, start + 1h)` of `trail` listing `logs` (stored in
    /// the bucket too) and linking to `previous` (key, signature, sha256); returns its link.
    fn digest(
        bucket: &mut Bucket,
        trail: &str,
        start: &str,
        logs: &[&str],
        previous: Option<&(String, String, String)>,
        backfill: bool,
    ) -> (String, String, String) {
        let start = parse_utc(start).expect("time");
        let end = start + Duration::hours(1);
        let stamp = end.format("%Y%m%dT%H%M%SZ");
        let key = format!(
            "{}{ACCOUNT}_CloudTrail-Digest_{REGION}_{trail}_{REGION}_{stamp}{}.json.gz",
            location().digest_day_prefix(end.date_naive()),
            if backfill { "_backfill" } else { "" }
        );
        let log_files: Vec<serde_json::Value> = logs
            .iter()
            .map(|log| {
                let content = format!("{{\"Records\":[{{\"n\":\"{log}\"}}]}}").into_bytes();
                let entry = serde_json::json!({"s3Bucket": BUCKET, "s3Object": log, "hashValue": sha256_hex(&content)});
                bucket.logs.insert(log.to_string(), content);
                entry
            })
            .collect();
        let der = key_pair()
            .to_public_key()
            .to_pkcs1_der()
            .expect("der")
            .as_bytes()
            .to_vec();
        let time = |t: DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let content = serde_json::json!({
            "awsAccountId": ACCOUNT, "digestStartTime": time(start), "digestEndTime": time(end),
            "digestS3Bucket": BUCKET, "digestS3Object": key,
            "digestPublicKeyFingerprint": fingerprint(&der), "digestSignatureAlgorithm": "SHA256withRSA",
            "previousDigestS3Bucket": previous.map(|_| BUCKET),
            "previousDigestS3Object": previous.map(|p| p.0.clone()),
            "previousDigestHashValue": previous.map(|p| p.2.clone()),
            "previousDigestSignature": previous.map(|p| p.1.clone()),
            "logFiles": log_files,
        })
        .to_string();
        let sha = sha256_hex(content.as_bytes());
        let to_sign = format!(
            "{}\n{BUCKET}/{key}\n{sha}\n{}",
            time(end),
            previous.map_or("null", |p| p.1.as_str())
        );
        let signing = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(key_pair());
        let signature = crate::hash::lower_hex(&signing.sign(to_sign.as_bytes()).to_bytes());
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, content.as_bytes()).expect("in memory");
        bucket.digests.insert(
            key.clone(),
            DigestObject {
                bytes: gz.finish().expect("in memory"),
                signature: Some(signature.clone()),
                signature_algorithm: Some(SIGNATURE_ALGORITHM.into()),
            },
        );
        (key, signature, sha)
    }

    fn log_key(written: &str) -> String {
        let time = parse_utc(written).expect("time");
        format!(
            "{}{ACCOUNT}_CloudTrail_{REGION}_{}_x.json.gz",
            location().log_day_prefix(time.date_naive()),
            time.format("%Y%m%dT%H%MZ")
        )
    }

    fn scope(start: &str, hours: i64, trail: Option<&str>) -> ValidationScope {
        let start = parse_utc(start).expect("time");
        ValidationScope {
            bucket: BUCKET.into(),
            location: location(),
            trail: trail.map(str::to_string),
            range: TimeRange {
                start,
                end: start + Duration::hours(hours),
            },
        }
    }

    fn kinds(report: &IntegrityReport) -> Vec<(FindingKind, String)> {
        report
            .findings
            .iter()
            .map(|f| (f.kind, f.file.clone()))
            .collect()
    }

    #[test]
    fn a_new_chain_without_a_gap_is_a_chain_break_and_after_a_gap_only_the_gap() {
        let mut bucket = Bucket::default();
        let first = digest(&mut bucket, "t", "2026-03-01T00:00:00Z", &[], None, false);
        let second = digest(
            &mut bucket,
            "t",
            "2026-03-01T01:00:00Z",
            &[],
            Some(&first),
            false,
        );
        let restart = digest(&mut bucket, "t", "2026-03-01T02:00:00Z", &[], None, false);
        let report = validate_trail(
            &bucket,
            &keys("2027-01-01T00:00:00Z"),
            &scope("2026-03-01T00:00:00Z", 3, None),
        )
        .expect("validates");
        assert_eq!(
            kinds(&report),
            [(FindingKind::ChainBreak, restart.0.clone())]
        );
        assert!(
            report.findings[0].detail.contains(&second.0),
            "{}",
            report.summary()
        );

        bucket.digests.remove(&restart.0);
        let after_gap = digest(&mut bucket, "t", "2026-03-01T03:00:00Z", &[], None, false);
        let report = validate_trail(
            &bucket,
            &keys("2027-01-01T00:00:00Z"),
            &scope("2026-03-01T00:00:00Z", 4, None),
        )
        .expect("validates");
        assert_eq!(kinds(&report), [(FindingKind::DigestGap, after_gap.0)]);
        assert_eq!(
            report.findings[0].covers.start,
            parse_utc("2026-03-01T02:00:00Z").expect("time")
        );
    }

    #[test]
    fn a_key_used_outside_its_validity_is_an_unknown_key() {
        let mut bucket = Bucket::default();
        let only = digest(&mut bucket, "t", "2026-03-01T00:00:00Z", &[], None, false);
        let report = validate_trail(
            &bucket,
            &keys("2026-02-01T00:00:00Z"),
            &scope("2026-03-01T00:00:00Z", 1, None),
        )
        .expect("validates");
        assert_eq!(kinds(&report), [(FindingKind::UnknownKey, only.0)]);
        assert!(
            report.findings[0]
                .detail
                .contains("not at 2026-03-01T01:00:00Z"),
            "{}",
            report.summary()
        );
    }

    #[test]
    fn a_digest_found_at_another_key_than_its_own_is_modified() {
        let mut bucket = Bucket::default();
        let (key, ..) = digest(&mut bucket, "t", "2026-03-01T00:00:00Z", &[], None, false);
        let object = bucket.digests.remove(&key).expect("written");
        // Filed an hour late: it is not where CloudTrail put it, and its own hour has no digest
        // (an unverified digest counts only for the hour its name gives).
        let moved = key.replace("T010000Z", "T020000Z");
        bucket.digests.insert(moved.clone(), object);
        let report = validate_trail(
            &bucket,
            &keys("2027-01-01T00:00:00Z"),
            &scope("2026-03-01T00:00:00Z", 1, None),
        )
        .expect("validates");
        assert_eq!(
            kinds(&report),
            [
                (FindingKind::DigestGap, moved.clone()),
                (FindingKind::Modified, moved)
            ]
        );
        assert!(
            report.findings[1].detail.contains(&key),
            "{}",
            report.summary()
        );
    }

    #[test]
    fn objects_that_are_no_trail_files_are_extra_and_other_trails_are_told_apart() {
        let mut bucket = Bucket::default();
        digest(&mut bucket, "t", "2026-03-01T00:00:00Z", &[], None, false);
        let stray = format!(
            "{}notes.txt",
            location().digest_day_prefix(NaiveDate::from_ymd_opt(2026, 3, 1).expect("day"))
        );
        bucket.other.push(stray.clone());
        let report = validate_trail(
            &bucket,
            &keys("2027-01-01T00:00:00Z"),
            &scope("2026-03-01T00:00:00Z", 1, Some("t")),
        )
        .expect("validates");
        assert_eq!(kinds(&report), [(FindingKind::Extra, stray)]);

        digest(
            &mut bucket,
            "other",
            "2026-03-01T00:00:00Z",
            &[],
            None,
            false,
        );
        let error = validate_trail(
            &bucket,
            &keys("2027-01-01T00:00:00Z"),
            &scope("2026-03-01T00:00:00Z", 1, None),
        )
        .expect_err("two trails");
        assert_eq!(
            error,
            IntegrityError::SeveralTrails(vec!["other".into(), "t".into()])
        );
    }

    #[test]
    fn a_backfill_digest_vouches_for_late_log_files_outside_the_chain() {
        let mut bucket = Bucket::default();
        let on_time = log_key("2026-03-01T00:20:00Z");
        let late = log_key("2026-03-01T00:40:00Z");
        let first = digest(
            &mut bucket,
            "t",
            "2026-03-01T00:00:00Z",
            &[&on_time],
            None,
            false,
        );
        digest(
            &mut bucket,
            "t",
            "2026-03-01T01:00:00Z",
            &[],
            Some(&first),
            false,
        );
        digest(
            &mut bucket,
            "t",
            "2026-03-01T00:30:00Z",
            &[&late],
            None,
            true,
        );
        // A log file written after the range is not the range's business.
        bucket
            .logs
            .insert(log_key("2026-03-01T02:10:00Z"), b"{}".to_vec());
        let report = validate_trail(
            &bucket,
            &keys("2027-01-01T00:00:00Z"),
            &scope("2026-03-01T00:00:00Z", 2, None),
        )
        .expect("validates");
        assert!(report.is_intact(), "{}", report.summary());
        assert_eq!((report.digests_checked, report.log_files_checked), (3, 2));

        bucket.logs.insert(late.clone(), b"doctored".to_vec());
        let report = validate_trail(
            &bucket,
            &keys("2027-01-01T00:00:00Z"),
            &scope("2026-03-01T00:00:00Z", 2, None),
        )
        .expect("validates");
        assert_eq!(kinds(&report), [(FindingKind::Modified, late)]);
    }
}
