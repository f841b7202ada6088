//! The seal check: manifest.sig is the seal gxp-evidence wrote, its signature holds, it
//! signs these manifest bytes and covers this sign-off chain (`Seal::covers_manifest`,
//! `Seal::covers_chain`), made by the last signer's key. A draft has no seal yet.

use super::{Outcome, Purpose, Verifier};
use crate::package::MANIFEST_FILE;
use crate::package::seal::{SEAL_FILE, Seal, SealProblem};
use crate::package::signoff::{SIGNOFFS_FILE, SignoffFile};

/// What the seal check found out about manifest.json.
pub(super) struct SealState {
    pub(super) bytes: Option<Vec<u8>>,
    pub(super) seal: Option<Seal>,
    /// The seal exists and names other manifest bytes: the manifest's hashes cannot be trusted.
    pub(super) manifest_modified: bool,
}

impl Verifier<'_> {
    pub(super) fn check_seal(
        &mut self,
        manifest_bytes: Option<&[u8]>,
        signoffs: Option<&SignoffFile>,
    ) -> SealState {
        let signed = signoffs.is_some_and(|s| !s.signoffs.is_empty());
        let mut state = SealState {
            bytes: self.read(SEAL_FILE),
            seal: None,
            manifest_modified: false,
        };
        let Some(seal_bytes) = state.bytes.clone() else {
            if self.files.contains_key(SEAL_FILE) {
                self.record(Outcome::Fail, SEAL_FILE, "not a regular file");
            } else if signed {
                self.record(
                    Outcome::Fail,
                    SEAL_FILE,
                    "missing: the package has sign-offs but its manifest is not sealed",
                );
            } else if self.options.purpose == Purpose::Audit {
                self.record(
                    Outcome::Fail,
                    SEAL_FILE,
                    "missing: the package is an unsigned draft (no sign-off, manifest not sealed)",
                );
            } else {
                self.record(
                    Outcome::Note,
                    SEAL_FILE,
                    "none yet: the package is an unsigned draft",
                );
            }
            return state;
        };
        let seal = match Seal::parse(&seal_bytes) {
            Ok(seal) if seal.to_bytes() != seal_bytes => {
                self.record(
                    Outcome::Fail,
                    SEAL_FILE,
                    "modified: not byte for byte the seal gxp-evidence wrote",
                );
                return state;
            }
            Ok(seal) => seal,
            Err(err) => {
                self.record(Outcome::Fail, SEAL_FILE, format!("unreadable: {err}"));
                return state;
            }
        };
        if let Some(bytes) = manifest_bytes
            && let Err(problem) = seal.covers_manifest(bytes)
        {
            state.manifest_modified = true;
            self.record(Outcome::Fail, MANIFEST_FILE, problem.to_string());
        }
        match seal.verify_signature() {
            Err(problem) => self.record(
                Outcome::Fail,
                SEAL_FILE,
                format!("{problem} ({})", seal.key.describe()),
            ),
            Ok(()) => {
                let mut problems = Vec::new();
                if let Some(signoffs) = signoffs {
                    let found = seal.covers_chain(&signoffs.report_id, &signoffs.signoffs);
                    let other_chain = found.iter().any(SealProblem::is_about_chain);
                    if other_chain {
                        self.record(
                            Outcome::Fail,
                            SIGNOFFS_FILE,
                            format!(
                                "is not the sign-off chain that was sealed: the seal covers {} sign-offs, the file has {}",
                                seal.signoff_count,
                                signoffs.signoffs.len()
                            ),
                        );
                    }
                    for problem in found {
                        match problem {
                            SealProblem::Key { .. } if other_chain => {}
                            SealProblem::Key { .. } | SealProblem::OtherReport(_) => {
                                problems.push(problem.to_string());
                            }
                            _ => {}
                        }
                    }
                }
                if problems.is_empty() {
                    self.record(
                        Outcome::Ok,
                        SEAL_FILE,
                        format!(
                            "signature valid over manifest.json and {} sign-off(s), {}",
                            seal.signoff_count,
                            seal.key.describe()
                        ),
                    );
                } else {
                    self.record(Outcome::Fail, SEAL_FILE, problems.join("; "));
                }
            }
        }
        state.seal = Some(seal);
        state
    }
}
