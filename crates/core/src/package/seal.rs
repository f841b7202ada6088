//! The detached signature of `manifest.json` (`manifest.sig`): made by the last signer's key
//! over the manifest's SHA-256, the report id and the sign-off chain's head, so the manifest,
//! and with it every file it hashes, cannot change unnoticed after signing.

use serde::{Deserialize, Serialize};

use super::signoff::{SignoffRecord, statement};
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

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).expect("a seal always serializes");
        bytes.push(b'\n');
        bytes
    }

    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        let seal: Self = super::parse_json(bytes)?;
        if seal.seal_format != SEAL_FORMAT {
            return Err(format!(
                "seal_format {} is not supported (this version reads {SEAL_FORMAT})",
                seal.seal_format
            ));
        }
        Ok(seal)
    }
}
