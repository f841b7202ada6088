//! Offline verification of a package: every manifest hash, missing and extra files, the
//! manifest seal, every sign-off signature and the chain, re-evaluation of evidence.json to
//! results.json and re-rendering to the stored files, every earlier state under history/,
//! and optionally that each key is trusted. Each check names the one file it is about; a
//! check whose inputs already failed is skipped rather than blamed on another file.
//!
//! One file per check, each a few methods over the shared `Verifier` state that record `OK`,
//! `FAIL`, `SKIP` or `NOTE` lines: `files` (listing and hashes), `seal`, `chain` (sign-offs),
//! `rerender` (re-evaluation and re-rendering), `attestation` (the collector's signature over
//! evidence.json), `integrity` (the CloudTrail digest chains the evidence keeps, re-checked
//! offline), `history`, `trust` and `timestamp` (the trusted timestamps of
//! `sign --tsa`). The rules themselves
//! live on the types they concern (`SignoffRecord::follows`, `SignoffFile::check_chain`,
//! `Seal::covers`), which `sign` applies too.

mod attestation;
mod chain;
mod files;
mod history;
mod integrity;
mod rerender;
mod seal;
mod timestamp;
mod trust;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

use super::signoff::SignoffFile;
use super::{EVIDENCE_FILE, MANIFEST_FILE, Manifest};
use crate::evidence::Timestamp;
use crate::report::ReportModel;
use crate::signing::registry::SignerRegistry;
use crate::signing::timestamp::TrustedTsaCertificates;
use crate::signing::trusted::TrustedKeys;
use files::{FileKind, check_sizes, hash_file, list_files, read_regular};
pub use integrity::{IntegrityRecheck, recheck_snapshot};
use rerender::Speculation;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Fail,
    /// Not checked because something it depends on already failed.
    Skip,
    /// Information that does not make the package invalid.
    Note,
}

impl Outcome {
    fn label(self) -> &'static str {
        match self {
            Outcome::Ok => "OK",
            Outcome::Fail => "FAIL",
            Outcome::Skip => "SKIP",
            Outcome::Note => "NOTE",
        }
    }
}

/// One line of the verification report: the file (or subject) it is about and what was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub outcome: Outcome,
    pub subject: String,
    pub message: String,
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:<4}  {}: {}",
            self.outcome.label(),
            self.subject,
            self.message
        )
    }
}

/// What verify is for: an auditor's check of an archived package (a package must be sealed),
/// or the check before signing (an unsigned draft is the normal starting point).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Audit,
    BeforeSigning,
}

pub struct VerifyOptions<'a> {
    pub trusted_keys: Option<&'a TrustedKeys>,
    /// QA's signer registry: each sign-off's key must be bound to its user id, name and role
    /// at its time (a registry key is a trusted key).
    pub signers: Option<&'a SignerRegistry>,
    /// The certificates a TSA must chain to (`--tsa-certs`); without them a timestamp's TSA
    /// is named but not trusted.
    pub trusted_tsa: Option<&'a TrustedTsaCertificates>,
    pub purpose: Purpose,
    /// The largest evidence.json, manifest, seal or sign-off file read into memory: a package
    /// from an untrusted source must not exhaust it.
    pub max_file_bytes: u64,
}

/// The package as verified: what `sign` builds the next state from.
pub struct VerifiedPackage {
    pub manifest: Manifest,
    pub manifest_bytes: Vec<u8>,
    pub seal_bytes: Option<Vec<u8>>,
    pub signoffs: SignoffFile,
    /// The evaluated evidence and the SHA-256 of evidence.json.
    /// When the evidence was collected.
    pub collected_at: Timestamp,
    /// The re-evaluated report, with the manifestations of the sign-offs so far: signing
    /// renders it again with one more, without evaluating the evidence a second time.
    pub model: ReportModel,
    pub evidence_sha256: String,
    pub results_sha256: String,
}

pub struct Verification {
    pub checks: Vec<Check>,
    /// Present when the package is valid.
    pub package: Option<VerifiedPackage>,
}

impl Verification {
    pub fn is_valid(&self) -> bool {
        !self.checks.iter().any(|c| c.outcome == Outcome::Fail)
    }

    pub fn failures(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| c.outcome == Outcome::Fail)
    }

    /// The files (subjects) with at least one failed check.
    pub fn failed_subjects(&self) -> BTreeSet<&str> {
        self.failures().map(|c| c.subject.as_str()).collect()
    }

    pub fn summary(&self) -> String {
        let passed = self
            .checks
            .iter()
            .filter(|c| c.outcome == Outcome::Ok)
            .count();
        if self.is_valid() {
            format!("VALID: {passed} checks passed")
        } else {
            let subjects: Vec<&str> = self.failed_subjects().into_iter().collect();
            format!(
                "INVALID: {} failed checks ({}); {passed} checks passed",
                self.failures().count(),
                subjects.join(", ")
            )
        }
    }
}

/// The package cannot be read at all (exit 2), as opposed to read and found invalid.
#[derive(Debug, thiserror::Error)]
#[error("cannot read package directory {}: {message}", path.display())]
pub struct VerifyError {
    pub path: PathBuf,
    pub message: String,
}

/// Verifies the package in `dir`.
pub fn verify(dir: &Path, options: &VerifyOptions) -> Result<Verification, VerifyError> {
    let files = list_files(dir)?;
    check_sizes(dir, &files, options.max_file_bytes)?;
    let mut verifier = Verifier {
        dir,
        options,
        files,
        hashes: HashMap::new(),
        checks: Vec::new(),
        speculation: None,
    };
    let package = verifier.run();
    let mut verification = Verification {
        checks: verifier.checks,
        package: None,
    };
    if verification.is_valid() {
        verification.package = package;
    }
    Ok(verification)
}

struct Verifier<'a> {
    dir: &'a Path,
    options: &'a VerifyOptions<'a>,
    files: BTreeMap<String, FileKind>,
    hashes: HashMap<String, Option<(String, u64)>>,
    checks: Vec<Check>,
    speculation: Option<Speculation>,
}

impl Verifier<'_> {
    fn record(&mut self, outcome: Outcome, subject: &str, message: impl Into<String>) {
        self.checks.push(Check {
            outcome,
            subject: subject.to_string(),
            message: message.into(),
        });
    }

    fn failed(&self, subject: &str) -> bool {
        self.checks
            .iter()
            .any(|c| c.outcome == Outcome::Fail && c.subject == subject)
    }

    fn run(&mut self) -> Option<VerifiedPackage> {
        let manifest_bytes = self.read(MANIFEST_FILE);
        let manifest = match &manifest_bytes {
            None => {
                self.record(
                    Outcome::Fail,
                    MANIFEST_FILE,
                    "missing: this is not a complete gxp-evidence package",
                );
                None
            }
            Some(bytes) => match Manifest::parse(bytes) {
                Ok(manifest) => Some(manifest),
                Err(err) => {
                    self.record(Outcome::Fail, MANIFEST_FILE, format!("unreadable: {err}"));
                    None
                }
            },
        };
        let signoffs = self.read_signoffs(manifest.as_ref());
        if let Some(file) = &signoffs
            && self.files.get(EVIDENCE_FILE) == Some(&FileKind::Regular)
        {
            let change_records = self.read_change_records();
            self.speculation = Some(Speculation::start(
                self.dir.join(EVIDENCE_FILE),
                self.options.max_file_bytes,
                change_records,
                file.manifestations(),
                self.options.purpose == Purpose::BeforeSigning,
            ));
        }
        let seal = self.check_seal(manifest_bytes.as_deref(), signoffs.as_ref());
        if let Some(manifest) = &manifest {
            self.check_manifest_files(manifest, seal.manifest_modified);
        } else {
            self.record(
                Outcome::Skip,
                "files",
                "the files cannot be checked against an unreadable manifest",
            );
        }
        if let Some(signoffs) = &signoffs {
            self.check_signoffs(signoffs);
            self.check_timestamps(
                signoffs,
                manifest.as_ref().filter(|_| !seal.manifest_modified),
            );
        }
        let evaluated = match (&manifest, &signoffs) {
            (Some(manifest), Some(signoffs)) if !seal.manifest_modified => {
                self.re_evaluate_and_render(manifest, signoffs)
            }
            _ => {
                self.record(
                    Outcome::Skip,
                    "re-evaluation",
                    "not attempted: manifest.json or signoffs.json failed its checks",
                );
                None
            }
        };
        self.check_attestation(evaluated.as_ref().map(|(_, _, model)| model));
        if let Some(signoffs) = &signoffs {
            self.check_history(
                signoffs,
                manifest.as_ref().filter(|_| !seal.manifest_modified),
            );
            self.check_trust(signoffs, seal.seal.as_ref());
        }
        let (
            manifest,
            manifest_bytes,
            signoffs,
            ((collected_at, evidence_sha256), results_sha256, model),
        ) = (manifest?, manifest_bytes?, signoffs?, evaluated?);
        Some(VerifiedPackage {
            manifest,
            manifest_bytes,
            seal_bytes: seal.bytes,
            signoffs,
            collected_at,
            model,
            evidence_sha256,
            results_sha256,
        })
    }

    fn read(&self, name: &str) -> Option<Vec<u8>> {
        match self.files.get(name) {
            Some(FileKind::Regular) => {
                read_regular(&self.dir.join(name), self.options.max_file_bytes)
            }
            _ => None,
        }
    }

    /// SHA-256 and size of a package file, read once and streamed.
    fn hash(&mut self, path: &str) -> Option<(String, u64)> {
        if let Some(known) = self.hashes.get(path) {
            return known.clone();
        }
        let speculated = match &self.speculation {
            Some(speculation) if path == EVIDENCE_FILE => speculation.evidence_hash(),
            _ => None,
        };
        let computed = match (speculated, self.files.get(path)) {
            (Some(speculated), _) => speculated,
            (None, Some(FileKind::Regular)) => hash_file(&self.dir.join(path), u64::MAX),
            (None, _) => None,
        };
        self.hashes.insert(path.to_string(), computed.clone());
        computed
    }
}
