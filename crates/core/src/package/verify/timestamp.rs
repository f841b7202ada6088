//! The timestamp check (sign-offs made with `sign --tsa`): each `timestamps/<n>.tsr` is the
//! token of sign-off n (`SignoffRecord::check_timestamp`: the TSA's signature, the imprint of
//! exactly this record, time-stamping usage, a time within five minutes of `signed_at`), it
//! was sealed with sign-off n and never changed after, and with `--tsa-certs` the TSA's
//! certificate chains to one the auditor trusts. Without `--tsa-certs` a note says the TSA
//! itself was not checked.

use super::{Outcome, Verifier};
use crate::package::signoff::SignoffFile;
use crate::package::timestamp::{TIMESTAMPS_DIR, timestamp_path, timestamp_sequence};
use crate::package::{HISTORY_DIR, MANIFEST_FILE, Manifest};

impl Verifier<'_> {
    pub(super) fn check_timestamps(&mut self, signoffs: &SignoffFile, manifest: Option<&Manifest>) {
        let count = signoffs.signoffs.len();
        let tokens: Vec<String> = self
            .files
            .keys()
            .filter(|path| path.starts_with(&format!("{TIMESTAMPS_DIR}/")))
            .cloned()
            .collect();
        for path in &tokens {
            if !timestamp_sequence(path).is_some_and(|n| n >= 1 && n as usize <= count) {
                self.record(
                    Outcome::Fail,
                    path,
                    format!(
                        "not the timestamp of a sign-off of this package (it has {count} sign-offs)"
                    ),
                );
            }
        }
        let mut stamped = 0;
        for record in &signoffs.signoffs {
            let path = timestamp_path(record.sequence);
            let label = record.label();
            // Whether the file itself failed (its hash), before this check adds its own verdict.
            let file_failed = self.failed(&path);
            self.check_sealed_with_its_signoff(record.sequence as usize, count, &path, manifest);
            let Some(bytes) = self.read(&path) else {
                if self.options.trusted_tsa.is_some() {
                    self.record(
                        Outcome::Note,
                        &path,
                        format!("{label} has no trusted timestamp: its time is the signing machine's clock"),
                    );
                }
                continue;
            };
            stamped += 1;
            if file_failed {
                self.record(
                    Outcome::Skip,
                    &path,
                    format!("{label}: the token is not checked, the file failed its checks"),
                );
                continue;
            }
            let stamp = match record.check_timestamp(&bytes) {
                Ok(stamp) => stamp,
                Err(problem) => {
                    self.record(
                        Outcome::Fail,
                        &path,
                        format!("{label}: timestamp: {problem}"),
                    );
                    continue;
                }
            };
            let description = stamp.describe();
            self.record(
                Outcome::Ok,
                &path,
                format!(
                    "{label}: timestamp {description} — token valid over this sign-off, within {} minutes of its time",
                    crate::package::timestamp::MAX_CLOCK_SKEW.num_minutes()
                ),
            );
            match self.options.trusted_tsa {
                None => self.record(
                    Outcome::Note,
                    &path,
                    format!(
                        "{label}: the TSA ({}) was not checked against trusted roots; pass --tsa-certs to check it",
                        crate::report::format::visible(&stamp.tsa_subject)
                    ),
                ),
                Some(trusted) => match stamp.chain_to(trusted) {
                    Ok(anchor) => self.record(
                        Outcome::Ok,
                        &path,
                        format!(
                            "{label}: the TSA's certificate chains to trusted {}",
                            crate::report::format::visible(&anchor)
                        ),
                    ),
                    Err(problem) => {
                        self.record(Outcome::Fail, &path, format!("{label}: timestamp: {problem}"))
                    }
                },
            }
        }
        if stamped == 0 && self.options.trusted_tsa.is_some() {
            self.record(
                Outcome::Note,
                TIMESTAMPS_DIR,
                "no sign-off has a trusted timestamp (--tsa-certs had nothing to check)",
            );
        }
    }

    /// Sign-off n's token was written with it: the state sealed by signer n (history/<n>/,
    /// or today's for the last) lists the same bytes. A later signer re-seals the whole
    /// manifest and could otherwise add, drop or swap an earlier sign-off's token.
    fn check_sealed_with_its_signoff(
        &mut self,
        sequence: usize,
        count: usize,
        path: &str,
        manifest: Option<&Manifest>,
    ) {
        if sequence >= count {
            return;
        }
        let Some(current) = manifest else { return };
        let state_manifest = format!("{HISTORY_DIR}/{sequence}/{MANIFEST_FILE}");
        if self.failed(&state_manifest) {
            return;
        }
        let Some(sealed) = self
            .read(&state_manifest)
            .and_then(|bytes| Manifest::parse(&bytes).ok())
        else {
            return;
        };
        let now = current.entry(path).map(|e| &e.sha256);
        if sealed.entry(path).map(|e| &e.sha256) != now {
            self.record(
                Outcome::Fail,
                path,
                format!(
                    "is not the token sealed with sign-off {sequence} ({state_manifest} lists {})",
                    sealed
                        .entry(path)
                        .map(|e| format!("SHA-256 {}", e.sha256))
                        .unwrap_or_else(|| "no token".to_string())
                ),
            );
        }
    }
}
