//! The detached signature of `manifest.json` (`manifest.sig`): made by the last signer's key
//! over the manifest's SHA-256, the report id and the sign-off chain's head, so the manifest,
//! and with it every file it hashes, cannot change unnoticed after signing.

use serde::{Deserialize, Serialize};

use super::ParseError;
use super::signoff::{SignoffRecord, statement};
use crate::hash::sha256_hex;
use crate::signing::{self, KeyInfo};

pub const SEAL_FILE: &str = "manifest.sig";
pub const SEAL_FORMAT: u32 = 1;
const SEAL_PURPOSE: &str = "gxp-evidence manifest seal";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seal {
    pub seal_format: u32,
    pub report_id: String,
    /// SHA-256 of the exact bytes of manifest.json.
    pub manifest_sha256: String,
    /// How many sign-offs the sealed state has, and the digest of the last one.
    pub signoff_count: u32,
    pub last_signoff_sha256: Option<String>,
    pub key: KeyInfo,
    pub signature: String,
}

impl Seal {
    /// An unsigned seal for `manifest_bytes`; `signature` is filled in by the signer.
    pub fn unsigned(
        report_id: &str,
        manifest_sha256: String,
        signoffs: &[SignoffRecord],
        key: KeyInfo,
    ) -> Self {
        Self {
            seal_format: SEAL_FORMAT,
            report_id: report_id.to_string(),
            manifest_sha256,
            signoff_count: signoffs.len() as u32,
            last_signoff_sha256: signoffs.last().map(SignoffRecord::digest),
            key,
            signature: String::new(),
        }
    }

    pub fn statement(&self) -> Vec<u8> {
        statement(SEAL_PURPOSE, self)
    }

    pub fn verify_signature(&self) -> Result<(), signing::SignatureProblem> {
        let signature = signing::decode_signature(&self.signature)?;
        self.key.verify(&self.statement(), &signature)
    }

    /// The seal rule for the manifest: the seal signs exactly these manifest bytes.
    pub fn covers_manifest(&self, manifest_bytes: &[u8]) -> Result<(), SealProblem> {
        let actual = sha256_hex(manifest_bytes);
        if actual == self.manifest_sha256 {
            Ok(())
        } else {
            Err(SealProblem::ManifestModified {
                actual,
                sealed: self.manifest_sha256.clone(),
            })
        }
    }

    /// The seal rule for the sign-offs: the seal covers exactly `chain` of report `report_id`
    /// (its length and the digest of its last record) and was made with the key of the
    /// chain's last signer. A valid signature alone does not show it: anyone holding a key
    /// can seal anything with it.
    pub fn covers_chain(&self, report_id: &str, chain: &[SignoffRecord]) -> Vec<SealProblem> {
        let mut problems = Vec::new();
        let last = chain.last();
        if self.signoff_count as usize != chain.len() {
            problems.push(SealProblem::SignoffCount {
                sealed: self.signoff_count,
                actual: chain.len(),
            });
        } else if self.last_signoff_sha256 != last.map(SignoffRecord::digest) {
            problems.push(SealProblem::OtherChain);
        }
        if let Some(last) = last.filter(|l| l.key.fingerprint != self.key.fingerprint) {
            problems.push(SealProblem::Key {
                sealed: self.key.fingerprint.clone(),
                signer: last.key.fingerprint.clone(),
            });
        }
        if self.report_id != report_id {
            problems.push(SealProblem::OtherReport(self.report_id.clone()));
        }
        problems
    }

    /// The whole seal rule: `covers_manifest` and `covers_chain`. `sign` checks a new seal with
    /// it before writing it; `verify` reports each part against the file it concerns.
    pub fn covers(
        &self,
        manifest_bytes: &[u8],
        report_id: &str,
        chain: &[SignoffRecord],
    ) -> Vec<SealProblem> {
        let mut problems: Vec<SealProblem> = self
            .covers_manifest(manifest_bytes)
            .err()
            .into_iter()
            .collect();
        problems.extend(self.covers_chain(report_id, chain));
        problems
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).expect("a seal always serializes");
        bytes.push(b'\n');
        bytes
    }

    pub fn parse(bytes: &[u8]) -> Result<Self, ParseError> {
        let seal: Self = super::parse_json(bytes)?;
        ParseError::check_format("seal_format", seal.seal_format, SEAL_FORMAT)?;
        Ok(seal)
    }
}

/// How a seal fails to cover a package state (`Seal::covers`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealProblem {
    #[error("modified after it was sealed: SHA-256 {actual}, the seal signs {sealed}")]
    ManifestModified { actual: String, sealed: String },
    #[error("seals {sealed} sign-off(s), the chain has {actual}")]
    SignoffCount { sealed: u32, actual: usize },
    #[error("seals another chain: its last sign-off is not the chain's last")]
    OtherChain,
    #[error("sealed with key {sealed}, but the last sign-off was made with key {signer}")]
    Key { sealed: String, signer: String },
    #[error("seals report {0}")]
    OtherReport(String),
}

impl SealProblem {
    /// Whether the seal covers another sign-off chain (another length or another head).
    pub fn is_about_chain(&self) -> bool {
        matches!(
            self,
            SealProblem::SignoffCount { .. } | SealProblem::OtherChain
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signing::local::LocalKey;

    fn signoff(key: &LocalKey, report_id: &str) -> SignoffRecord {
        crate::package::signoff::tests::signed_record(key, report_id)
    }

    #[test]
    fn a_seal_covers_its_manifest_and_chain_made_by_the_last_signer() {
        let (jane, bob) = (
            LocalKey::from_secret([3; 32]),
            LocalKey::from_secret([4; 32]),
        );
        let chain = vec![signoff(&jane, "R1")];
        let manifest = b"{}\n";
        let seal = Seal::unsigned("R1", sha256_hex(manifest), &chain, jane.info.clone());
        assert_eq!(seal.covers(manifest, "R1", &chain), vec![]);

        assert!(matches!(
            seal.covers_manifest(b"{ }\n"),
            Err(SealProblem::ManifestModified { .. })
        ));
        let problems = seal.covers_chain("R1", &[]);
        assert!(problems[0].is_about_chain(), "{problems:?}");
        let other = vec![signoff(&jane, "R2")];
        assert_eq!(
            seal.covers_chain("R1", &other),
            vec![SealProblem::OtherChain]
        );
        let insider = Seal::unsigned("R1", sha256_hex(manifest), &chain, bob.info.clone());
        assert_eq!(
            insider.covers_chain("R1", &chain),
            vec![SealProblem::Key {
                sealed: bob.info.fingerprint.clone(),
                signer: jane.info.fingerprint.clone(),
            }]
        );
        assert_eq!(
            seal.covers_chain("R2", &chain),
            vec![SealProblem::OtherReport("R1".into())]
        );
    }
}
