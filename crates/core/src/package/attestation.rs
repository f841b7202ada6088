//! The collector's attestation of an evidence snapshot: a signature, made at collection time
//! with the collector's key, over a canonical statement of the exact snapshot bytes (SHA-256
//! and size) and what the snapshot says about itself (collection time, period, accounts,
//! collecting tool and caller identities). It travels beside the snapshot as
//! `<snapshot>.attestation.json` and inside the package as `evidence.attestation.json`, so a
//! snapshot edited between collection and reporting (ALCOA+ "original"; Annex 11 §7.1, 21 CFR
//! 11.10(c)) shows, even when whoever edited it also signed the report.
//!
//! The attestation is a separate file rather than a field of the snapshot: the signature
//! covers the snapshot's bytes exactly as written, with no canonicalisation of a 100 MB
//! document, and an unattested snapshot stays byte for byte what it was.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::ParseError;
use super::signoff::statement;
use crate::evidence::{EvidenceSnapshot, LoadedEvidence, Period, Timestamp};
use crate::report;
use crate::signing::{self, KeyInfo, SignatureProblem, Signer, SigningError};

/// The attestation's name inside a package (listed in the manifest, covered by the seal).
pub const ATTESTATION_FILE: &str = "evidence.attestation.json";
pub const ATTESTATION_FORMAT: u32 = 1;
/// What an attestation statement says it is, so it can never pass as a sign-off or a seal.
const ATTESTATION_PURPOSE: &str = "gxp-evidence collector attestation";

/// Where the attestation of the snapshot file `snapshot` lives: `<snapshot>.attestation.json`.
pub fn sidecar_path(snapshot: &Path) -> PathBuf {
    let mut name = snapshot.as_os_str().to_os_string();
    name.push(".attestation.json");
    PathBuf::from(name)
}

/// What a snapshot says about its own collection, as an attestation records it. Accounts are
/// sorted and deduplicated, as the report lists them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvidenceFacts {
    pub collected_at: Timestamp,
    pub period: Period,
    pub account_ids: Vec<String>,
    /// The gxp-evidence version the snapshot says collected it.
    pub collector_version: String,
}

impl EvidenceFacts {
    pub fn of(snapshot: &EvidenceSnapshot) -> Self {
        let mut account_ids = snapshot.scope.accounts.clone();
        account_ids.sort();
        account_ids.dedup();
        Self {
            collected_at: snapshot.collected_at,
            period: snapshot.period,
            account_ids,
            collector_version: snapshot.tool.version.clone(),
        }
    }

    /// How `attested` differs from these facts, field by field.
    fn differences(&self, attested: &EvidenceFacts) -> Vec<AttestationProblem> {
        let mut problems = Vec::new();
        let mut compare = |field: &'static str, attested: String, actual: String| {
            if attested != actual {
                problems.push(AttestationProblem::Fact {
                    field,
                    attested,
                    actual,
                });
            }
        };
        compare(
            "collected_at",
            attested.collected_at.to_rfc3339(),
            self.collected_at.to_rfc3339(),
        );
        compare("period", bounds(&attested.period), bounds(&self.period));
        compare(
            "account ids",
            attested.account_ids.join(", "),
            self.account_ids.join(", "),
        );
        compare(
            "collector version",
            attested.collector_version.clone(),
            self.collector_version.clone(),
        );
        problems
    }
}

fn bounds(period: &Period) -> String {
    format!(
        "{} – {}",
        period.start.to_rfc3339(),
        period.end.to_rfc3339()
    )
}

/// Who ran the collection in one account: the STS caller the snapshot records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollectorIdentity {
    pub account_id: String,
    pub caller_arn: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attestation {
    pub attestation_format: u32,
    /// SHA-256 and size of the exact bytes of the snapshot file.
    pub evidence_sha256: String,
    pub evidence_bytes: u64,
    /// What the snapshot says about its collection.
    pub snapshot: EvidenceFacts,
    pub collected_by: Vec<CollectorIdentity>,
    /// The gxp-evidence version that made the attestation.
    pub tool_version: String,
    /// This machine's clock when the attestation was made, right after collection.
    pub attested_at: Timestamp,
    pub key: KeyInfo,
    /// Base64 signature over `statement()`.
    pub signature: String,
}

impl Attestation {
    /// Attests `evidence` (as the collector wrote it) with `signer`, at `attested_at`.
    pub fn create(
        evidence: &LoadedEvidence,
        signer: &Signer,
        attested_at: Timestamp,
    ) -> Result<Self, SigningError> {
        let snapshot = &evidence.snapshot;
        let mut collected_by: Vec<CollectorIdentity> = snapshot
            .accounts
            .iter()
            .map(|a| CollectorIdentity {
                account_id: a.account_id.clone(),
                caller_arn: a.caller_identity.as_ref().and_then(|c| c.arn.clone()),
            })
            .collect();
        collected_by.sort_by(|a, b| a.account_id.cmp(&b.account_id));
        let mut attestation = Self {
            attestation_format: ATTESTATION_FORMAT,
            evidence_sha256: evidence.sha256.clone(),
            evidence_bytes: evidence.bytes.len() as u64,
            snapshot: EvidenceFacts::of(snapshot),
            collected_by,
            tool_version: crate::TOOL_VERSION.to_string(),
            attested_at,
            key: signer.key_info().clone(),
            signature: String::new(),
        };
        attestation.signature = signing::encode_signature(&signer.sign(&attestation.statement())?);
        Ok(attestation)
    }

    /// The bytes the signature covers: every field but the signature and the raw public key
    /// (the fingerprint names it), plus the purpose, as canonical JSON — the same form as a
    /// sign-off's statement, so `jq -cjS` and openssl check it the same way.
    pub fn statement(&self) -> Vec<u8> {
        statement(ATTESTATION_PURPOSE, self)
    }

    pub fn verify_signature(&self) -> Result<(), SignatureProblem> {
        let signature = signing::decode_signature(&self.signature)?;
        self.key.verify(&self.statement(), &signature)
    }

    /// The attestation rule: the signature holds, the attested bytes are the snapshot's
    /// (`sha256`, `bytes`), what it attests is what the snapshot says (`facts`, when known),
    /// and it was not made before the collection it attests. An empty list is a sound
    /// attestation. `report --evidence` and `verify` both apply it.
    pub fn check(
        &self,
        sha256: &str,
        bytes: u64,
        facts: Option<&EvidenceFacts>,
    ) -> Vec<AttestationProblem> {
        let mut problems = Vec::new();
        if let Err(problem) = self.verify_signature() {
            problems.push(AttestationProblem::Signature(problem));
        }
        if self.evidence_sha256 != sha256 || self.evidence_bytes != bytes {
            problems.push(AttestationProblem::OtherEvidence {
                attested_sha256: self.evidence_sha256.clone(),
                attested_bytes: self.evidence_bytes,
                actual_sha256: sha256.to_string(),
                actual_bytes: bytes,
            });
        } else if let Some(facts) = facts {
            problems.extend(facts.differences(&self.snapshot));
        }
        if self.attested_at < self.snapshot.collected_at {
            problems.push(AttestationProblem::BeforeCollection {
                attested_at: self.attested_at,
                collected_at: self.snapshot.collected_at,
            });
        }
        problems
    }

    /// What the report shows of this attestation.
    pub fn manifestation(&self) -> report::EvidenceAttestation {
        report::EvidenceAttestation {
            key_fingerprint: self.key.fingerprint.clone(),
            key_kind: self.key.kind(),
            attested_at: self.attested_at,
        }
    }

    /// Who attested and when, as verify prints it.
    pub fn describe(&self) -> String {
        format!(
            "attested by collector key {} ({}) at {}",
            self.key.fingerprint,
            self.key.kind(),
            self.attested_at.display_utc()
        )
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).expect("an attestation always serializes");
        bytes.push(b'\n');
        bytes
    }

    pub fn parse(bytes: &[u8]) -> Result<Self, ParseError> {
        let attestation: Self = super::parse_json(bytes)?;
        ParseError::check_format(
            "attestation_format",
            attestation.attestation_format,
            ATTESTATION_FORMAT,
        )?;
        Ok(attestation)
    }
}

/// How an attestation fails to attest a snapshot (`Attestation::check`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttestationProblem {
    #[error("the collector's signature does not verify: {0}")]
    Signature(SignatureProblem),
    #[error(
        "attests evidence SHA-256 {attested_sha256} ({attested_bytes} bytes), but the snapshot has \
         {actual_sha256} ({actual_bytes} bytes): the snapshot was changed after collection"
    )]
    OtherEvidence {
        attested_sha256: String,
        attested_bytes: u64,
        actual_sha256: String,
        actual_bytes: u64,
    },
    #[error("attests {field} {attested}, the snapshot says {actual}")]
    Fact {
        field: &'static str,
        attested: String,
        actual: String,
    },
    #[error(
        "made at {}, before the evidence it attests was collected ({})",
        attested_at.display_utc(),
        collected_at.display_utc()
    )]
    BeforeCollection {
        attested_at: Timestamp,
        collected_at: Timestamp,
    },
}

/// Why an attestation file given with a snapshot cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum AttestationFileError {
    #[error("cannot read attestation {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("attestation {} is not readable: {source}", path.display())]
    Parse { path: PathBuf, source: ParseError },
    #[error(
        "attestation {} does not attest evidence {}:\n  {}",
        path.display(),
        evidence.display(),
        problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n  ")
    )]
    Mismatch {
        path: PathBuf,
        evidence: PathBuf,
        problems: Vec<AttestationProblem>,
    },
}

/// The attestation of the snapshot `evidence` (loaded from `evidence_path`), read from
/// `path`, when it attests exactly that snapshot. A report is never built on a snapshot whose
/// attestation does not hold: the package would be invalid from the start.
pub fn load_for(
    path: &Path,
    evidence_path: &Path,
    evidence: &LoadedEvidence,
) -> Result<Attestation, AttestationFileError> {
    let bytes = std::fs::read(path).map_err(|source| AttestationFileError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let attestation = Attestation::parse(&bytes).map_err(|source| AttestationFileError::Parse {
        path: path.to_path_buf(),
        source,
    })?;
    let problems = attestation.check(
        &evidence.sha256,
        evidence.bytes.len() as u64,
        Some(&EvidenceFacts::of(&evidence.snapshot)),
    );
    if problems.is_empty() {
        Ok(attestation)
    } else {
        Err(AttestationFileError::Mismatch {
            path: path.to_path_buf(),
            evidence: evidence_path.to_path_buf(),
            problems,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence;
    use crate::signing::local::LocalKey;

    fn demo() -> LoadedEvidence {
        evidence::load_bytes("demo", evidence::DEMO_EVIDENCE.as_bytes().to_vec()).unwrap()
    }

    fn attest(evidence: &LoadedEvidence, at: &str) -> Attestation {
        let signer = Signer::new(LocalKey::from_secret([9; 32]));
        Attestation::create(evidence, &signer, Timestamp::parse(at).unwrap()).unwrap()
    }

    fn check(attestation: &Attestation, evidence: &LoadedEvidence) -> Vec<AttestationProblem> {
        attestation.check(
            &evidence.sha256,
            evidence.bytes.len() as u64,
            Some(&EvidenceFacts::of(&evidence.snapshot)),
        )
    }

    #[test]
    fn an_attestation_signs_the_snapshot_bytes_and_its_facts() {
        let evidence = demo();
        let attestation = attest(&evidence, "2026-11-01T06:00:00Z");
        assert_eq!(check(&attestation, &evidence), vec![]);
        let text = String::from_utf8(attestation.statement()).unwrap();
        assert!(
            text.contains(r#""purpose":"gxp-evidence collector attestation""#),
            "{text}"
        );
        assert!(text.contains(&evidence.sha256), "{text}");
        assert!(!text.contains("public_key") && !text.contains("\"signature\""));
        assert_eq!(
            Attestation::parse(&attestation.to_bytes()).unwrap(),
            attestation
        );

        // Any attested field changed after signing breaks the signature.
        let mut edited = attestation.clone();
        edited.snapshot.account_ids.push("999999999999".into());
        assert!(matches!(
            check(&edited, &evidence).as_slice(),
            [
                AttestationProblem::Signature(_),
                AttestationProblem::Fact {
                    field: "account ids",
                    ..
                }
            ]
        ));
    }

    #[test]
    fn a_snapshot_changed_after_collection_is_not_the_attested_one() {
        let evidence = demo();
        let attestation = attest(&evidence, "2026-11-01T06:00:00Z");
        let text = evidence::DEMO_EVIDENCE.replacen(
            "\"cacheDataEncrypted\": false",
            "\"cacheDataEncrypted\": true",
            1,
        );
        let edited = evidence::load_bytes("edited", text.into_bytes()).unwrap();
        let problems = check(&attestation, &edited);
        assert!(
            matches!(
                problems.as_slice(),
                [AttestationProblem::OtherEvidence { .. }]
            ),
            "{problems:?}"
        );
        assert!(
            problems[0]
                .to_string()
                .contains("the snapshot was changed after collection")
        );
    }

    #[test]
    fn an_attestation_dated_before_the_collection_is_refused() {
        let evidence = demo();
        let collected = evidence.snapshot.collected_at;
        let early = Timestamp(collected.0 - chrono::Duration::seconds(1));
        let signer = Signer::new(LocalKey::from_secret([9; 32]));
        let attestation = Attestation::create(&evidence, &signer, early).unwrap();
        assert_eq!(
            check(&attestation, &evidence),
            vec![AttestationProblem::BeforeCollection {
                attested_at: early,
                collected_at: collected,
            }]
        );
    }

    #[test]
    fn facts_that_differ_from_the_snapshot_are_named() {
        let evidence = demo();
        let mut facts = EvidenceFacts::of(&evidence.snapshot);
        let attested = facts.clone();
        facts.period.end = Timestamp(facts.period.end.0 + chrono::Duration::days(1));
        facts.collector_version = "0.0.1".into();
        let problems = facts.differences(&attested);
        let fields: Vec<&str> = problems
            .iter()
            .map(|p| match p {
                AttestationProblem::Fact { field, .. } => *field,
                _ => "other",
            })
            .collect();
        assert_eq!(fields, vec!["period", "collector version"]);
    }

    #[test]
    fn the_sidecar_sits_beside_the_snapshot() {
        assert_eq!(
            sidecar_path(Path::new("out/evidence-2026-10.json")),
            PathBuf::from("out/evidence-2026-10.json.attestation.json")
        );
    }
}
