//! The per-account summary of a report whose scope holds several accounts (an
//! organisation-wide monthly run): for each account in scope, the regions whose evidence was
//! collected, its results per status, the calls that failed in it, the controls that failed or
//! lacked evidence there, and its own verdict. An inspector of a 200-account report reads here
//! which accounts need attention; an account whose evidence could not be collected at all (its
//! role could not be assumed) is listed like every other, with EVIDENCE_GAP results, never
//! left out. A single-account report has no per-account summary: its summary already is the
//! account's.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::controls::{Finding, Status, Verdict, VerdictReading};
use crate::evidence::{EvidenceGap, EvidenceSnapshot};
use crate::report::StatusCounts;

/// Fewer accounts than this in scope: no per-account summary (it would repeat the summary).
pub const MIN_ACCOUNTS: usize = 2;

/// How the per-account table is introduced in the PDF and the HTML.
pub const ACCOUNTS_INTRO: &str = "One row per account in scope, by account id: the scope's regions whose evidence was collected in it, its results per status (both readings, as in the totals), the collection calls that failed in it, the controls with a FAIL or an EVIDENCE_GAP there, and the account's own verdict under the report's verdict reading. An account whose evidence could not be collected has EVIDENCE_GAP results for every control, never PASS or NO_RESOURCES. findings.csv, gaps.csv and accounts.csv have an account_id column to filter by.";

/// One account of the scope, summarised.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccountSummary {
    pub account_id: String,
    /// How many regions the scope has (the same for every account).
    pub regions_in_scope: usize,
    /// The scope's regions in which evidence of at least one service was collected, sorted.
    pub regions_collected: Vec<String>,
    /// The account's results per status, both readings (as the report's totals).
    pub counts: StatusCounts,
    /// The collection calls that failed in this account (its entries of the evidence gaps).
    pub failed_calls: Vec<FailedCall>,
    /// Controls with at least one FAIL in this account, in catalog order.
    pub failing_controls: Vec<String>,
    /// Controls with at least one EVIDENCE_GAP in this account, in catalog order.
    pub gap_controls: Vec<String>,
    /// The account's verdict under the report's verdict reading.
    pub verdict: Verdict,
}

/// A failed collection call in brief: `sts:AssumeRole (AccessDenied)`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct FailedCall {
    pub region: Option<String>,
    pub call: String,
}

impl AccountSummary {
    /// One summary per account of the snapshot's scope, sorted by account id, or none when the
    /// scope has fewer than [`MIN_ACCOUNTS`] accounts. `findings` and `gaps` are the
    /// evaluation's (findings in catalog order).
    pub fn of_scope(
        snapshot: &EvidenceSnapshot,
        findings: &[Finding],
        gaps: &[EvidenceGap],
        reading: VerdictReading,
    ) -> Vec<AccountSummary> {
        let mut accounts: Vec<&str> = snapshot.scope.accounts.iter().map(String::as_str).collect();
        accounts.sort_unstable();
        accounts.dedup();
        if accounts.len() < MIN_ACCOUNTS {
            return Vec::new();
        }
        let mut regions: Vec<&str> = snapshot.scope.regions.iter().map(String::as_str).collect();
        regions.sort_unstable();
        regions.dedup();
        let mut summaries: BTreeMap<&str, AccountSummary> = accounts
            .iter()
            .map(|account_id| {
                let evidence = snapshot
                    .accounts
                    .iter()
                    .find(|a| a.account_id == *account_id);
                let regions_collected = regions
                    .iter()
                    .filter(|region| {
                        evidence.into_iter().flat_map(|a| &a.regions).any(|r| {
                            r.region == **region
                                && (r.apigateway.is_some()
                                    || r.kms.is_some()
                                    || r.cloudtrail.is_some())
                        })
                    })
                    .map(|region| region.to_string())
                    .collect();
                let summary = AccountSummary {
                    account_id: account_id.to_string(),
                    regions_in_scope: regions.len(),
                    regions_collected,
                    counts: StatusCounts::default(),
                    failed_calls: Vec::new(),
                    failing_controls: Vec::new(),
                    gap_controls: Vec::new(),
                    verdict: Verdict::Compliant,
                };
                (*account_id, summary)
            })
            .collect();
        for gap in gaps {
            if let Some(summary) = summaries.get_mut(gap.account_id.as_str()) {
                summary.failed_calls.push(FailedCall {
                    region: gap.region.clone(),
                    call: format!("{}:{} ({})", gap.service, gap.api, gap.error_code),
                });
            }
        }
        let mut summaries: Vec<AccountSummary> = summaries.into_values().collect();
        for summary in &mut summaries {
            summary.failed_calls.sort();
            summary.failed_calls.dedup();
        }
        recount(&mut summaries, findings);
        read_verdicts(&mut summaries, findings, reading);
        summaries
    }

    /// `2 of 2: eu-central-1, eu-west-1`, or `none of 2` when nothing was collected.
    pub fn regions_text(&self) -> String {
        if self.regions_collected.is_empty() {
            format!("none of {}", self.regions_in_scope)
        } else {
            format!(
                "{} of {}: {}",
                self.regions_collected.len(),
                self.regions_in_scope,
                self.regions_collected.join(", ")
            )
        }
    }

    /// The failed calls: `sts:AssumeRole (AccessDenied)`, with the region when the call was
    /// made in one (`eu-west-1 kms:ListKeys (AccessDeniedException)`).
    pub fn failed_call_lines(&self) -> Vec<String> {
        self.failed_calls
            .iter()
            .map(|c| match &c.region {
                Some(region) => format!("{region} {}", c.call),
                None => c.call.clone(),
            })
            .collect()
    }

    /// Whether no evidence at all was collected for the account.
    pub fn nothing_collected(&self) -> bool {
        self.regions_collected.is_empty()
    }
}

/// Counts each account's results and names its failing and gap controls from `findings` (in
/// catalog order), replacing earlier counts: also after a control selection
/// (`ReportModel::with_document`) left out some controls' results.
pub fn recount(summaries: &mut [AccountSummary], findings: &[Finding]) {
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    for (at, summary) in summaries.iter_mut().enumerate() {
        summary.counts = StatusCounts::default();
        summary.failing_controls.clear();
        summary.gap_controls.clear();
        index.insert(summary.account_id.clone(), at);
    }
    for finding in findings {
        if let Some(summary) = index
            .get(finding.account_id.as_str())
            .map(|&at| &mut summaries[at])
        {
            summary.counts.add(finding.status);
            let list = match finding.status {
                Status::Fail => &mut summary.failing_controls,
                Status::EvidenceGap => &mut summary.gap_controls,
                _ => continue,
            };
            // Findings come in catalog order, so a control's results are adjacent.
            if list.last() != Some(&finding.control_id) {
                list.push(finding.control_id.clone());
            }
        }
    }
}

/// Sets each account's verdict under `reading` (the report's `--verdict-reading`), by the rule
/// of the report's own verdict applied to the account's results and failed calls.
pub fn read_verdicts(
    summaries: &mut [AccountSummary],
    findings: &[Finding],
    reading: VerdictReading,
) {
    let mut by_account: BTreeMap<&str, Vec<Finding>> = BTreeMap::new();
    for finding in findings.iter().filter(|f| reading.decides(f.view)) {
        if matches!(finding.status, Status::Fail | Status::EvidenceGap) {
            by_account
                .entry(finding.account_id.as_str())
                .or_default()
                .push(finding.clone());
        }
    }
    for summary in summaries {
        let deciding = by_account
            .get(summary.account_id.as_str())
            .map(Vec::as_slice)
            .unwrap_or_default();
        summary.verdict = Verdict::of(deciding, summary.failed_calls.len(), reading);
    }
}

/// The cover's line about the accounts: `3 accounts: 1 COMPLIANT, 1 NON_COMPLIANT,
/// 1 INCOMPLETE (no evidence collected in 1)`.
pub fn overview(summaries: &[AccountSummary]) -> String {
    let count = |verdict: Verdict| summaries.iter().filter(|s| s.verdict == verdict).count();
    let mut text = format!(
        "{} accounts: {} {}, {} {}, {} {}",
        summaries.len(),
        count(Verdict::Compliant),
        Verdict::Compliant.as_str(),
        count(Verdict::NonCompliant),
        Verdict::NonCompliant.as_str(),
        count(Verdict::Incomplete),
        Verdict::Incomplete.as_str(),
    );
    let empty = summaries.iter().filter(|s| s.nothing_collected()).count();
    if empty > 0 {
        text.push_str(&format!(" (no evidence collected in {empty})"));
    }
    text.push_str("; the per-account summary follows the control summary.");
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controls::View;

    fn snapshot(accounts: &[&str]) -> EvidenceSnapshot {
        serde_json::from_value(serde_json::json!({
            "schema_version": 1, "tool": {"name": "t", "version": "0"}, "system_name": "S",
            "collected_at": "2026-11-01T00:00:00Z",
            "period": {"start": "2026-10-01T00:00:00Z", "end": "2026-11-01T00:00:00Z"},
            "scope": {"accounts": accounts, "regions": ["eu-central-1"]}, "accounts": []
        }))
        .expect("snapshot")
    }

    fn finding(account_id: &str, view: Option<View>, status: Status) -> Finding {
        Finding {
            control_id: crate::controls::catalog::APIGW_CACHE_ENCRYPTION.to_string(),
            account_id: account_id.to_string(),
            region: "eu-central-1".to_string(),
            resource: "stage".to_string(),
            view,
            status,
            reason: String::new(),
            remediation: String::new(),
        }
    }

    #[test]
    fn a_scope_of_one_account_has_no_per_account_summary() {
        let one = snapshot(&["111111111111", "111111111111"]);
        assert!(AccountSummary::of_scope(&one, &[], &[], VerdictReading::Strict).is_empty());
        let two = snapshot(&["222222222222", "111111111111"]);
        let ids: Vec<String> = AccountSummary::of_scope(&two, &[], &[], VerdictReading::Strict)
            .into_iter()
            .map(|s| s.account_id)
            .collect();
        assert_eq!(ids, ["111111111111", "222222222222"]);
    }

    #[test]
    fn each_account_is_judged_by_its_own_results_and_failed_calls() {
        let scope = snapshot(&["111111111111", "222222222222", "333333333333"]);
        let findings = [
            finding("111111111111", Some(View::SecurityHub), Status::Pass),
            finding("111111111111", Some(View::AwsConfig), Status::Fail),
            finding("222222222222", None, Status::Pass),
        ];
        let gap = EvidenceGap {
            account_id: "333333333333".into(),
            region: None,
            service: "sts".into(),
            api: "AssumeRole".into(),
            resource: None,
            error_code: "AccessDenied".into(),
            message: String::new(),
        };
        let read = |reading| {
            AccountSummary::of_scope(&scope, &findings, std::slice::from_ref(&gap), reading)
        };
        let strict = read(VerdictReading::Strict);
        let verdicts: Vec<Verdict> = strict.iter().map(|s| s.verdict).collect();
        assert_eq!(
            verdicts,
            [
                Verdict::NonCompliant,
                Verdict::Compliant,
                Verdict::Incomplete
            ],
            "a recorded failed call alone makes an account incomplete"
        );
        assert_eq!(strict[0].failing_controls, ["apigw-cache-encryption"]);
        assert_eq!(
            strict[2].failed_call_lines(),
            ["sts:AssumeRole (AccessDenied)"]
        );
        assert_eq!(strict[2].regions_text(), "none of 1");
        let lenient = read(VerdictReading::Lenient);
        assert_eq!(
            lenient[0].verdict,
            Verdict::Compliant,
            "the strict reading's FAIL does not decide a lenient verdict"
        );
        assert_eq!(lenient[0].counts, strict[0].counts, "both readings counted");
        assert_eq!(
            overview(&strict),
            "3 accounts: 1 COMPLIANT, 1 NON_COMPLIANT, 1 INCOMPLETE (no evidence collected in 3); the per-account summary follows the control summary."
        );
    }
}
