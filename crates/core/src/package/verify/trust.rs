//! The trust and identity checks. With --trusted-keys: every sign-off's key and the sealing
//! key are among the keys the auditor trusts. With --signers: every sign-off's key is bound in
//! QA's signer registry to the user id, printed name and role the sign-off states, and was
//! issued and not yet revoked when it signed (`SignerRegistry::check`, which `sign` applies
//! too); the sealing key is a registry key. Without either, a note says what valid signatures
//! show and what they do not. The seals of earlier states are made by the keys of their own
//! sign-offs (`history`), so these checks cover them too.

use super::{Outcome, Verifier};
use crate::package::seal::{SEAL_FILE, Seal};
use crate::package::signoff::{SIGNOFFS_FILE, SignoffFile};
use crate::report::format::visible;
use crate::signing::trusted::TrustedKeys;

const IDENTITIES: &str = "signer identities";

impl Verifier<'_> {
    pub(super) fn check_trust(&mut self, signoffs: &SignoffFile, seal: Option<&Seal>) {
        self.check_trusted_keys(signoffs, seal);
        self.check_identities(signoffs, seal);
    }

    fn check_trusted_keys(&mut self, signoffs: &SignoffFile, seal: Option<&Seal>) {
        let Some(trusted) = self.options.trusted_keys else {
            if self.options.signers.is_none() {
                self.record(
                    Outcome::Note,
                    "trusted keys",
                    "not checked: valid signatures show the package is unchanged since it was signed; \
                     pass --trusted-keys or --signers to check that the keys belong to the people named",
                );
            }
            return;
        };
        for record in &signoffs.signoffs {
            self.check_trusted_key(
                trusted,
                SIGNOFFS_FILE,
                &format!("{}: key", record.label()),
                &record.key.fingerprint,
            );
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

    /// OK when `fingerprint` is among the trusted keys (with the label the auditor gave it),
    /// FAIL against `subject` when not; `what` names the key (`sign-off 1 (…): key`,
    /// `collector key`).
    pub(super) fn check_trusted_key(
        &mut self,
        trusted: &TrustedKeys,
        subject: &str,
        what: &str,
        fingerprint: &str,
    ) {
        if trusted.contains(fingerprint) {
            let label = trusted
                .label(fingerprint)
                .map(|l| format!(" ({l})"))
                .unwrap_or_default();
            self.record(
                Outcome::Ok,
                subject,
                format!("{what} {fingerprint} is trusted{label}"),
            );
        } else {
            self.record(
                Outcome::Fail,
                subject,
                format!("{what} {fingerprint} is not in the trusted keys"),
            );
        }
    }

    fn check_identities(&mut self, signoffs: &SignoffFile, seal: Option<&Seal>) {
        let Some(registry) = self.options.signers else {
            if !signoffs.signoffs.is_empty() {
                self.record(
                    Outcome::Note,
                    IDENTITIES,
                    "not checked: the names, user ids and roles are what each signer typed; \
                     pass --signers FILE (QA's signer registry) to check that each key belongs to \
                     the person named and was valid when it signed",
                );
            }
            return;
        };
        for record in &signoffs.signoffs {
            let problems = registry.check(&record.key, record.claimed_identity(), record.signed_at);
            if problems.is_empty() {
                let binding = registry
                    .binding(&record.key)
                    .expect("a key the registry vouches for is bound in it");
                self.record(
                    Outcome::Ok,
                    SIGNOFFS_FILE,
                    format!(
                        "{}: key {} is bound to {} in the signer registry (line {}), issued {}{}",
                        record.label(),
                        binding.key,
                        binding.describe(),
                        binding.line,
                        binding.issued.display_utc(),
                        binding
                            .revoked
                            .map(|r| format!(", revoked {} after signing", r.display_utc()))
                            .unwrap_or_default()
                    ),
                );
            } else {
                let problems: Vec<String> = problems.iter().map(ToString::to_string).collect();
                self.record(
                    Outcome::Fail,
                    SIGNOFFS_FILE,
                    format!("{}: {}", record.label(), problems.join("; ")),
                );
            }
        }
        if let Some(seal) = seal {
            match registry.binding(&seal.key) {
                Some(binding) => self.record(
                    Outcome::Ok,
                    SEAL_FILE,
                    format!(
                        "sealing key {} is bound to {} in the signer registry",
                        binding.key,
                        visible(&binding.user_id)
                    ),
                ),
                None => self.record(
                    Outcome::Fail,
                    SEAL_FILE,
                    format!(
                        "sealing key {} is not in the signer registry",
                        seal.key.fingerprint
                    ),
                ),
            }
        }
    }
}
