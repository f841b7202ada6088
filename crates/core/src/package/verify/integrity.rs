//! The offline re-check of the CloudTrail digest chains a snapshot keeps
//! (`CloudTrailEvidence::log_integrity`, `cloudtrail-log-integrity`): every digest recorded as
//! verified is verified again with the public keys stored beside it, and the links between
//! consecutive verified digests are checked (`log_integrity::recheck_chain`, the validator's
//! own functions). A stored key whose fingerprint is not the MD5 of its value is refused: it
//! could vouch for a forged signature under a genuine key's fingerprint.

use crate::evidence::{EvidenceSnapshot, IntegrityResult};
use crate::log_integrity::recheck_chain;

/// What re-checking a snapshot's digest chains found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IntegrityRecheck {
    /// Digests whose stored signature was re-checked.
    pub digests: usize,
    /// Validated trail results re-checked.
    pub trails: usize,
    /// One line per problem, naming account, region, trail and digest.
    pub problems: Vec<String>,
}

/// Re-checks every validated trail result of the snapshot.
pub fn recheck_snapshot(snapshot: &EvidenceSnapshot) -> IntegrityRecheck {
    let mut recheck = IntegrityRecheck::default();
    for account in &snapshot.accounts {
        let regions = account.regions.iter().chain(&account.trail_home_regions);
        for region in regions {
            let Some(results) = region
                .cloudtrail
                .as_ref()
                .and_then(|c| c.log_integrity.as_ref())
            else {
                continue;
            };
            for integrity in results {
                let IntegrityResult::Validated {
                    report,
                    public_keys,
                } = &integrity.result
                else {
                    continue;
                };
                recheck.trails += 1;
                let subject = format!(
                    "cloudtrail-log-integrity of trail {} in {} {}",
                    integrity.trail, account.account_id, region.region
                );
                if let Err(error) = public_keys.check("the stored public keys") {
                    recheck.problems.push(format!("{subject}: {error}"));
                    continue;
                }
                recheck.digests += report
                    .chain
                    .iter()
                    .filter(|link| link.signature_verified)
                    .count();
                for problem in recheck_chain(report, public_keys) {
                    recheck.problems.push(format!(
                        "{subject}: digest {}: {}",
                        problem.digest, problem.problem
                    ));
                }
            }
        }
    }
    recheck
}
