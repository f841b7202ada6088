//! Sign-off records (`signoffs.json`): who signed, in which role, with what meaning and when,
//! bound to the SHA-256 of evidence.json and results.json and to the previous record (a
//! chain), each signed over its canonical statement.

use serde::{Deserialize, Serialize};

use super::ParseError;
use crate::evidence::{Timestamp, sha256_hex};
use crate::report;
use crate::signing::registry::ClaimedIdentity;
use crate::signing::{self, KeyInfo};

pub const SIGNOFFS_FILE: &str = "signoffs.json";
pub const SIGNOFFS_FORMAT: u32 = 1;

/// What a sign-off statement says it is, so a signature over one can never pass as another.
const SIGNOFF_PURPOSE: &str = "gxp-evidence sign-off";

/// The longest printed name, user id, role or meaning accepted (characters): every
/// statement stays under the 4 KiB AWS KMS signs.
pub const MAX_FIELD_CHARS: usize = 200;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignoffFile {
    pub signoffs_format: u32,
    pub report_id: String,
    pub signoffs: Vec<SignoffRecord>,
}

impl SignoffFile {
    pub fn new(report_id: &str, signoffs: Vec<SignoffRecord>) -> Self {
        Self {
            signoffs_format: SIGNOFFS_FORMAT,
            report_id: report_id.to_string(),
            signoffs,
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).expect("sign-offs always serialize");
        bytes.push(b'\n');
        bytes
    }

    pub fn parse(bytes: &[u8]) -> Result<Self, ParseError> {
        let file: Self = super::parse_json(bytes)?;
        ParseError::check_format("signoffs_format", file.signoffs_format, SIGNOFFS_FORMAT)?;
        Ok(file)
    }

    /// The chain rule over the whole file: for each record in order, its signature and how it
    /// follows the one before it (`SignoffRecord::follows`). An empty list of problems is a
    /// sound record. `sign` appends only records that follow, and `verify` reports each one.
    pub fn check_chain(&self) -> Vec<RecordCheck<'_>> {
        let mut previous = None;
        let mut checks = Vec::with_capacity(self.signoffs.len());
        for (index, record) in self.signoffs.iter().enumerate() {
            checks.push(RecordCheck {
                record,
                signature: record.verify_signature(),
                links: record.follows(previous, index + 1, &self.report_id),
            });
            previous = Some(record);
        }
        checks
    }

    /// The manifestations the renderers show.
    pub fn manifestations(&self) -> Vec<report::Signoff> {
        self.signoffs
            .iter()
            .map(SignoffRecord::manifestation)
            .collect()
    }
}

/// One electronic signature (21 CFR 11.50: printed name, date and time, meaning).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignoffRecord {
    /// 1 for the first sign-off of the report, then 2, 3, …
    pub sequence: u32,
    pub report_id: String,
    pub printed_name: String,
    pub user_id: String,
    pub role: String,
    /// authored, reviewed, approved, …
    pub meaning: String,
    /// UTC, whole seconds, from the signing machine's clock.
    pub signed_at: Timestamp,
    pub evidence_sha256: String,
    pub results_sha256: String,
    /// `digest()` of the previous record; none for the first.
    pub previous_signoff_sha256: Option<String>,
    pub key: KeyInfo,
    /// Why a local key without a passphrase was used (`sign --unencrypted-key-reason`): the
    /// signature then rests on one identification component (21 CFR 11.200(a)(1)), and the
    /// record says so. Absent for an encrypted key or a KMS key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unencrypted_key_reason: Option<String>,
    /// Base64 signature over `statement()`.
    pub signature: String,
}

impl SignoffRecord {
    /// The bytes the signature covers: every field but the signature, with the key named by
    /// algorithm, source, fingerprint and KMS ARN, as canonical JSON.
    pub fn statement(&self) -> Vec<u8> {
        statement(SIGNOFF_PURPOSE, self)
    }

    /// The record's own digest, which the next record chains to: SHA-256 of the canonical
    /// JSON of the whole record, signature included.
    pub fn digest(&self) -> String {
        sha256_hex(&signing::canonical_json(self))
    }

    pub fn verify_signature(&self) -> Result<(), signing::SignatureProblem> {
        let signature = signing::decode_signature(&self.signature)?;
        self.key.verify(&self.statement(), &signature)
    }

    /// The chain rule for one link: what is wrong with this record as the one at `position`
    /// (1-based) of the chain of report `report_id`, right after `previous` (none for the
    /// first). It must carry its position as its sequence, chain to the previous record's
    /// digest, be signed no earlier than it, and sign the same report.
    pub fn follows(
        &self,
        previous: Option<&SignoffRecord>,
        position: usize,
        report_id: &str,
    ) -> Vec<LinkProblem> {
        let mut problems = Vec::new();
        if self.sequence as usize != position {
            problems.push(LinkProblem::Position { position });
        }
        if self.previous_signoff_sha256 != previous.map(SignoffRecord::digest) {
            problems.push(match previous {
                None => LinkProblem::FirstClaimsPrevious,
                Some(p) => LinkProblem::Unchained {
                    previous: p.sequence,
                },
            });
        }
        if let Some(p) = previous.filter(|p| self.signed_at < p.signed_at) {
            problems.push(LinkProblem::Earlier {
                signed_at: self.signed_at,
                previous: p.sequence,
                previous_signed_at: p.signed_at,
            });
        }
        if self.report_id != report_id {
            problems.push(LinkProblem::OtherReport(self.report_id.clone()));
        }
        problems
    }

    /// Who the record says signed, as the signer registry checks it.
    pub fn claimed_identity(&self) -> ClaimedIdentity<'_> {
        ClaimedIdentity {
            user_id: &self.user_id,
            printed_name: &self.printed_name,
            role: &self.role,
        }
    }

    pub fn manifestation(&self) -> report::Signoff {
        report::Signoff {
            sequence: self.sequence,
            printed_name: self.printed_name.clone(),
            user_id: self.user_id.clone(),
            role: self.role.clone(),
            meaning: self.meaning.clone(),
            signed_at: self.signed_at,
            key_fingerprint: self.key.fingerprint.clone(),
            key_kind: self.key.kind(),
            evidence_sha256: self.evidence_sha256.clone(),
            results_sha256: self.results_sha256.clone(),
            previous_signoff_sha256: self.previous_signoff_sha256.clone().unwrap_or_default(),
            signoff_sha256: self.digest(),
        }
    }

    /// How the record is named in messages: `sign-off 2 (Jane Roe, approved)`.
    pub fn label(&self) -> String {
        format!(
            "sign-off {} ({}, {})",
            self.sequence,
            report::format::visible(&self.printed_name),
            report::format::visible(&self.meaning)
        )
    }
}

/// One record of a chain as `SignoffFile::check_chain` found it.
pub struct RecordCheck<'a> {
    pub record: &'a SignoffRecord,
    pub signature: Result<(), signing::SignatureProblem>,
    pub links: Vec<LinkProblem>,
}

/// How a record fails to follow the one before it (`SignoffRecord::follows`); the text is
/// what verify reports after the record's label.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkProblem {
    #[error("is at position {position} of the chain: the order of the sign-offs was changed")]
    Position { position: usize },
    #[error("claims a previous sign-off, but it is the first: chain broken")]
    FirstClaimsPrevious,
    #[error("does not chain to sign-off {previous} before it (its digest differs): chain broken")]
    Unchained { previous: u32 },
    #[error(
        "signed at {}, before sign-off {previous} ({})",
        signed_at.display_utc(),
        previous_signed_at.display_utc()
    )]
    Earlier {
        signed_at: Timestamp,
        previous: u32,
        previous_signed_at: Timestamp,
    },
    #[error("signs report {0}")]
    OtherReport(String),
}

/// The canonical statement of a signed record: the record without its signature and without
/// the key's public key bytes (the fingerprint names them), plus what the statement is for.
pub(crate) fn statement<T: Serialize>(purpose: &str, record: &T) -> Vec<u8> {
    let mut value = serde_json::to_value(record).expect("signed records always serialize");
    if let Some(object) = value.as_object_mut() {
        object.remove("signature");
        if let Some(key) = object.get_mut("key").and_then(|k| k.as_object_mut()) {
            key.remove("public_key");
        }
        object.insert("purpose".to_string(), purpose.into());
    }
    signing::canonical_json(&value)
}

/// Checks a printed name, user id, role or meaning before it is signed: present, not too
/// long, and free of control and invisible characters that could make what people read
/// differ from what was signed.
pub fn check_identity_field(flag: &str, value: &str) -> Result<(), IdentityFieldError> {
    let flag = flag.to_string();
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(IdentityFieldError::Empty { flag });
    }
    if trimmed != value {
        return Err(IdentityFieldError::Spaces { flag });
    }
    if value.chars().count() > MAX_FIELD_CHARS {
        return Err(IdentityFieldError::TooLong { flag });
    }
    if report::format::visible(value) != value || value.contains('\n') {
        return Err(IdentityFieldError::Invisible {
            flag,
            shown: report::format::visible(value).replace('\n', "<U+000A>"),
        });
    }
    Ok(())
}

/// Why a printed name, user id, role or meaning cannot be signed (`flag` names the option).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityFieldError {
    #[error("{flag} must not be empty")]
    Empty { flag: String },
    #[error("{flag} must not start or end with spaces")]
    Spaces { flag: String },
    #[error("{flag} is longer than {MAX_FIELD_CHARS} characters")]
    TooLong { flag: String },
    #[error("{flag} contains control or invisible characters: {shown}")]
    Invisible { flag: String, shown: String },
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::signing::local::LocalKey;

    fn record(key: &LocalKey) -> SignoffRecord {
        signed_record(key, "R1")
    }

    /// A first sign-off of `report_id` by Jane Roe, signed with `key` (for unit tests).
    pub(crate) fn signed_record(key: &LocalKey, report_id: &str) -> SignoffRecord {
        let mut record = SignoffRecord {
            sequence: 1,
            report_id: report_id.into(),
            printed_name: "Jane Roe".into(),
            user_id: "jroe".into(),
            role: "QA Lead".into(),
            meaning: "approved".into(),
            signed_at: Timestamp::parse("2026-11-02T09:00:00Z").unwrap(),
            evidence_sha256: "e".repeat(64),
            results_sha256: "r".repeat(64),
            previous_signoff_sha256: None,
            key: key.info.clone(),
            unencrypted_key_reason: None,
            signature: String::new(),
        };
        record.signature = signing::encode_signature(&key.sign(&record.statement()));
        record
    }

    #[test]
    fn the_statement_covers_every_field_but_the_signature() {
        let key = LocalKey::from_secret([3; 32]);
        let signed = record(&key);
        assert_eq!(signed.verify_signature(), Ok(()));
        let text = String::from_utf8(signed.statement()).unwrap();
        assert!(text.starts_with(r#"{"evidence_sha256":"#), "{text}");
        assert!(text.contains(r#""purpose":"gxp-evidence sign-off""#));
        assert!(!text.contains("public_key") && !text.contains("signature"));

        let mut edited = signed.clone();
        edited.meaning = "reviewed".into();
        assert!(edited.verify_signature().is_err());
        let mut edited = signed.clone();
        edited.previous_signoff_sha256 = Some("0".repeat(64));
        assert!(edited.verify_signature().is_err());
        assert_ne!(edited.digest(), signed.digest());
    }

    /// The record after `previous` in a chain, signed by `key` at `at`.
    fn next(key: &LocalKey, previous: &SignoffRecord, at: &str) -> SignoffRecord {
        let mut record = SignoffRecord {
            sequence: previous.sequence + 1,
            meaning: "reviewed".into(),
            signed_at: Timestamp::parse(at).unwrap(),
            previous_signoff_sha256: Some(previous.digest()),
            ..previous.clone()
        };
        record.signature = signing::encode_signature(&key.sign(&record.statement()));
        record
    }

    #[test]
    fn a_record_follows_the_previous_one_in_order_time_and_report() {
        let key = LocalKey::from_secret([3; 32]);
        let first = record(&key);
        let second = next(&key, &first, "2026-11-02T10:00:00Z");
        assert_eq!(first.follows(None, 1, "R1"), vec![]);
        assert_eq!(second.follows(Some(&first), 2, "R1"), vec![]);
        let file = SignoffFile::new("R1", vec![first.clone(), second.clone()]);
        assert!(
            file.check_chain()
                .iter()
                .all(|c| c.signature.is_ok() && c.links.is_empty())
        );

        assert_eq!(
            second.follows(None, 1, "R2"),
            vec![
                LinkProblem::Position { position: 1 },
                LinkProblem::FirstClaimsPrevious,
                LinkProblem::OtherReport("R1".into()),
            ]
        );
        let early = next(&key, &first, "2026-11-02T08:59:59Z");
        let problems = early.follows(Some(&second), 3, "R1");
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert_eq!(
            problems[1].to_string(),
            "does not chain to sign-off 2 before it (its digest differs): chain broken"
        );
        assert_eq!(
            problems[2].to_string(),
            "signed at 2026-11-02 08:59:59 UTC, before sign-off 2 (2026-11-02 10:00:00 UTC)"
        );
        let swapped = SignoffFile::new("R1", vec![second, first]);
        let checks = swapped.check_chain();
        assert!(checks.iter().all(|c| !c.links.is_empty()));
    }

    #[test]
    fn the_file_round_trips_and_rejects_unknown_fields() {
        let key = LocalKey::from_secret([3; 32]);
        let file = SignoffFile::new("R1", vec![record(&key)]);
        assert_eq!(SignoffFile::parse(&file.to_bytes()).unwrap(), file);
        let text = String::from_utf8(file.to_bytes())
            .unwrap()
            .replace("\"sequence\"", "\"note\": \"x\", \"sequence\"");
        let err = SignoffFile::parse(text.as_bytes()).unwrap_err().to_string();
        assert!(err.contains("unknown field `note`"), "{err}");
    }

    #[test]
    fn identity_fields_must_read_as_they_are_signed() {
        assert!(check_identity_field("--name", "Zoë Ångström-Ó Briain").is_ok());
        assert!(check_identity_field("--name", "").is_err());
        assert!(check_identity_field("--name", " Jane").is_err());
        let err = check_identity_field("--name", "Jane\u{202E}eoR")
            .unwrap_err()
            .to_string();
        assert!(err.contains("<U+202E>"), "{err}");
        assert!(check_identity_field("--role", &"x".repeat(201)).is_err());
    }
}
