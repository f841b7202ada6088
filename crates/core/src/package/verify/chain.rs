//! The chain check: signoffs.json is readable and of this report, and each sign-off's
//! signature holds and it follows the one before it (`SignoffFile::check_chain`), over the
//! evidence.json and results.json the package holds.

use super::{Outcome, Verifier};
use crate::package::signoff::{SIGNOFFS_FILE, SignoffFile};
use crate::package::{EVIDENCE_FILE, Manifest, RESULTS_FILE};

impl Verifier<'_> {
    pub(super) fn read_signoffs(&mut self, manifest: Option<&Manifest>) -> Option<SignoffFile> {
        let Some(bytes) = self.read(SIGNOFFS_FILE) else {
            self.record(Outcome::Fail, SIGNOFFS_FILE, "missing");
            return None;
        };
        match SignoffFile::parse(&bytes) {
            Ok(file) => {
                if let Some(manifest) = manifest.filter(|m| m.report_id != file.report_id) {
                    self.record(
                        Outcome::Fail,
                        SIGNOFFS_FILE,
                        format!(
                            "belongs to report {}, the manifest to report {}",
                            file.report_id, manifest.report_id
                        ),
                    );
                }
                Some(file)
            }
            Err(err) => {
                self.record(Outcome::Fail, SIGNOFFS_FILE, format!("unreadable: {err}"));
                None
            }
        }
    }

    pub(super) fn check_signoffs(&mut self, file: &SignoffFile) {
        if file.signoffs.is_empty() {
            self.record(
                Outcome::Note,
                SIGNOFFS_FILE,
                "no sign-offs: the report is an unsigned draft",
            );
            return;
        }
        let evidence_sha = self.hash(EVIDENCE_FILE).map(|(sha, _)| sha);
        let results_sha = self.hash(RESULTS_FILE).map(|(sha, _)| sha);
        for check in file.check_chain() {
            let record = check.record;
            let label = record.label();
            let mut problems = Vec::new();
            if let Err(problem) = check.signature {
                problems.push(format!("signature: {problem} ({})", record.key.describe()));
            }
            problems.extend(check.links.iter().map(ToString::to_string));
            if problems.is_empty() {
                self.record(
                    Outcome::Ok,
                    SIGNOFFS_FILE,
                    format!(
                        "{label}: {} ({}, user id {}), {} — signature valid ({}), chain intact",
                        crate::report::format::visible(&record.printed_name),
                        crate::report::format::visible(&record.role),
                        crate::report::format::visible(&record.user_id),
                        record.signed_at.display_utc(),
                        record.key.describe()
                    ),
                );
            } else {
                self.record(
                    Outcome::Fail,
                    SIGNOFFS_FILE,
                    format!("{label} {}", problems.join("; ")),
                );
            }
            if let Some(reason) = &record.unencrypted_key_reason {
                self.record(
                    Outcome::Note,
                    SIGNOFFS_FILE,
                    format!(
                        "{label}: signed with a local key without a passphrase (one identification \
                         component, 21 CFR 11.200(a)(1)); the signer's reason: {}",
                        crate::report::format::visible(reason)
                    ),
                );
            }
            for (name, actual, signed) in [
                (EVIDENCE_FILE, &evidence_sha, &record.evidence_sha256),
                (RESULTS_FILE, &results_sha, &record.results_sha256),
            ] {
                match actual {
                    Some(actual) if actual != signed => self.record(
                        Outcome::Fail,
                        name,
                        format!(
                            "is not the file {label} signed: SHA-256 {actual}, signed {signed}"
                        ),
                    ),
                    Some(_) => {}
                    None => self.record(
                        Outcome::Skip,
                        name,
                        format!("cannot be compared with what {label} signed"),
                    ),
                }
            }
        }
    }
}
