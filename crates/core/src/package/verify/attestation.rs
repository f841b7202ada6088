//! The attestation check: evidence.json is the snapshot the collector attested at collection
//! time (`Attestation::check`: signature, SHA-256 and size, collection facts, time), and with
//! --trusted-keys, the collector's key is trusted. A package without an attestation gets a
//! note: attestation is optional, and what then vouches for the evidence is the sign-offs.

use super::{Outcome, Verifier};
use crate::package::EVIDENCE_FILE;
use crate::package::attestation::{
    ATTESTATION_FILE, Attestation, AttestationProblem, EvidenceFacts,
};
use crate::report::ReportModel;

impl Verifier<'_> {
    /// The package's attestation, when it has a readable one.
    pub(super) fn stored_attestation(&self) -> Option<Attestation> {
        self.read(ATTESTATION_FILE)
            .and_then(|bytes| Attestation::parse(&bytes).ok())
    }

    /// `model`: the re-evaluated evidence, when evaluation got that far (its collection facts
    /// are compared with the attested ones).
    pub(super) fn check_attestation(&mut self, model: Option<&ReportModel>) {
        if !self.files.contains_key(ATTESTATION_FILE) {
            self.record(
                Outcome::Note,
                EVIDENCE_FILE,
                format!(
                    "not attested: the package has no {ATTESTATION_FILE}, so no collector key \
                     vouches that this is the snapshot as collected; the sign-offs alone do"
                ),
            );
            return;
        }
        if self.failed(ATTESTATION_FILE) {
            self.record(
                Outcome::Skip,
                "attestation",
                format!("not checked: {ATTESTATION_FILE} failed its checks"),
            );
            return;
        }
        let attestation = match self.read(ATTESTATION_FILE).map(|b| Attestation::parse(&b)) {
            Some(Ok(attestation)) => attestation,
            Some(Err(err)) => {
                self.record(
                    Outcome::Fail,
                    ATTESTATION_FILE,
                    format!("unreadable: {err}"),
                );
                return;
            }
            None => {
                self.record(Outcome::Fail, ATTESTATION_FILE, "cannot be read");
                return;
            }
        };
        let Some((sha256, bytes)) = self.hash(EVIDENCE_FILE) else {
            self.record(
                Outcome::Skip,
                "attestation",
                "not checked: evidence.json cannot be read",
            );
            return;
        };
        let facts = model.map(|model| EvidenceFacts {
            collected_at: model.collected_at,
            period: model.period,
            account_ids: model.accounts.clone(),
            collector_version: model.collector_version.clone(),
        });
        let problems = attestation.check(&sha256, bytes, facts.as_ref());
        for problem in &problems {
            // The attestation file is at fault only for its own signature and time; a snapshot
            // that is not the attested one is evidence.json's fault.
            let subject = match problem {
                AttestationProblem::OtherEvidence { .. } | AttestationProblem::Fact { .. } => {
                    EVIDENCE_FILE
                }
                AttestationProblem::Signature(_) | AttestationProblem::BeforeCollection { .. } => {
                    ATTESTATION_FILE
                }
            };
            let message = match problem {
                AttestationProblem::OtherEvidence { .. } | AttestationProblem::Fact { .. } => {
                    format!("not the snapshot {}: {problem}", attestation.describe())
                }
                _ => format!("{}: {problem}", attestation.describe()),
            };
            self.record(Outcome::Fail, subject, message);
        }
        if problems.is_empty() {
            let compared = if facts.is_some() {
                "its SHA-256, size and collection facts match"
            } else {
                "its SHA-256 and size match (collection facts not compared: re-evaluation failed)"
            };
            self.record(
                Outcome::Ok,
                ATTESTATION_FILE,
                format!(
                    "evidence.json {}; signature valid, {compared}",
                    attestation.describe()
                ),
            );
        }
        if let Some(trusted) = self.options.trusted_keys {
            self.check_trusted_key(
                trusted,
                ATTESTATION_FILE,
                "collector key",
                &attestation.key.fingerprint,
            );
        }
    }
}
