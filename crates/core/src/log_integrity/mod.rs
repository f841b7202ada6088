//! CloudTrail log file integrity, validated offline: the algorithm of
//! `aws cloudtrail validate-logs` over one trail's digest chain for one account-region and a
//! time range. Every digest file's SHA256withRSA signature is checked with CloudTrail's public
//! key valid at its time (by fingerprint), the chain of digests must be unbroken, every log
//! file a digest lists must be present with the SHA-256 the digest records, log files no
//! digest lists are extra, and hours without a digest are gaps.
//!
//! The validation does no I/O: the caller hands in the objects through [`TrailObjects`] (an S3
//! bucket, a test fixture, or [`LocalTrailCopy`], a local copy of the bucket) and the keys as a
//! [`PublicKeyList`]. The result is
//! an [`IntegrityReport`] whose empty findings list is a positive claim: the trail's log files
//! for the range are complete and unaltered.

mod digest;
mod local_copy;
mod public_keys;
mod validate;

pub use digest::{
    DigestFile, DigestLogFile, DigestName, DigestParseError, MAX_DIGEST_BYTES, ParsedDigest,
    SIGNATURE_ALGORITHM, TrailLocation, gunzip_sha256, parse_digest, parse_digest_json, parse_utc,
    signed_string,
};
pub use local_copy::{LocalTrailCopy, METADATA_SUFFIX};
pub use public_keys::{KeyLookup, PublicKeyError, PublicKeyList, TrailPublicKey, fingerprint};
pub use validate::{
    ChainLink, DigestObject, FindingKind, IntegrityError, IntegrityFinding, IntegrityReport,
    LogFileState, ObjectError, RecheckProblem, TimeRange, TrailObjects, ValidationScope,
    recheck_chain, validate_trail, validate_trail_with_workers, verify_signature,
};
