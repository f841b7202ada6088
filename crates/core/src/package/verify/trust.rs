//! The trust check (with --trusted-keys): every sign-off's key and the sealing key are among
//! the keys the auditor trusts; without the list, a note says what valid signatures show.

use super::{Outcome, Verifier};
use crate::package::seal::{SEAL_FILE, Seal};
use crate::package::signoff::{SIGNOFFS_FILE, SignoffFile};

impl Verifier<'_> {
    pub(super) fn check_trust(&mut self, signoffs: &SignoffFile, seal: Option<&Seal>) {
        let Some(trusted) = self.options.trusted_keys else {
            self.record(
                Outcome::Note,
                "trusted keys",
                "not checked: valid signatures show the package is unchanged since it was signed; \
                 pass --trusted-keys to check that the keys belong to the people named",
            );
            return;
        };
        for record in &signoffs.signoffs {
            let fingerprint = &record.key.fingerprint;
            if trusted.contains(fingerprint) {
                let label = trusted
                    .label(fingerprint)
                    .map(|l| format!(" ({l})"))
                    .unwrap_or_default();
                self.record(
                    Outcome::Ok,
                    SIGNOFFS_FILE,
                    format!("{}: key {fingerprint} is trusted{label}", record.label()),
                );
            } else {
                self.record(
                    Outcome::Fail,
                    SIGNOFFS_FILE,
                    format!(
                        "{}: key {fingerprint} is not in the trusted keys",
                        record.label()
                    ),
                );
            }
        }
        if let Some(seal) = seal {
            let fingerprint = &seal.key.fingerprint;
            if trusted.contains(fingerprint) {
                self.record(
                    Outcome::Ok,
                    SEAL_FILE,
                    format!("sealing key {fingerprint} is trusted"),
                );
            } else {
                self.record(
                    Outcome::Fail,
                    SEAL_FILE,
                    format!("sealing key {fingerprint} is not in the trusted keys"),
                );
            }
        }
    }
}
