//! `cloudtrail-log-integrity`: per trail and account-region, the result of validating the
//! trail's digest chain over the period (`crate::log_integrity`, done at collection and kept
//! in the snapshot as `CloudTrailEvidence::log_integrity`). PASS only when the validation
//! covered the whole period and found nothing; FAIL with one reason line per finding kind
//! naming the hours concerned; EVIDENCE_GAP when the chain was not validated.
//!
//! The period rule: the validation itself covers the period. Digest files are written hourly
//! and cannot be changed afterwards without breaking their signatures, so the chain of the
//! period is the period's truth; no event is replayed over it. A trail whose validation was
//! off during part of the period has no digests for those hours: they are a DigestGap (FAIL);
//! a trail with validation off at collection is not validated at all (EVIDENCE_GAP: nothing
//! proves its files, and whether the setting was on is `cloudtrail-log-validation`'s to judge).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::catalog::CLOUDTRAIL_LOG_INTEGRITY;
use super::{Evaluation, RegionScope, Status, remediation};
use crate::evidence::{CloudTrailEvidence, IntegrityResult, Period, TrailIntegrity};
use crate::log_integrity::{FindingKind, IntegrityFinding, IntegrityReport, TimeRange};

/// The result of one trail's validation for the period: status and reason.
pub fn judge(integrity: &TrailIntegrity, period: &Period) -> (Status, String) {
    let (report, _) = match &integrity.result {
        IntegrityResult::NotValidated { code, message } => {
            return (
                Status::EvidenceGap,
                format!("the trail's digest chain was not validated ({code}): {message}"),
            );
        }
        IntegrityResult::Validated {
            report,
            public_keys,
        } => (report, public_keys),
    };
    if !report.findings.is_empty() {
        return (Status::Fail, failure_reason(report));
    }
    let covered = report.range.start <= period.start.0 && period.end.0 <= report.range.end;
    if !covered {
        return (
            Status::EvidenceGap,
            format!(
                "the digest chain was validated for {} only, not for the whole period {}: {} digest files and {} log files had no finding",
                hours(&report.range),
                hours(&TimeRange {
                    start: period.start.0,
                    end: period.end.0
                }),
                report.digests_checked,
                report.log_files_checked
            ),
        );
    }
    (
        Status::Pass,
        format!(
            "digest chain of trail {} in s3://{} validated for {}: every hour covered by a digest file signed with CloudTrail's key and linked to the one before; {} digest files, {} log files present and unaltered, no unlisted log file",
            report.trail.as_deref().unwrap_or(&integrity.trail),
            report.bucket,
            hours(&report.range),
            report.digests_checked,
            report.log_files_checked
        ),
    )
}

/// One line per finding kind, naming the hours of each of its findings.
fn failure_reason(report: &IntegrityReport) -> String {
    let mut by_kind: BTreeMap<FindingKind, Vec<&IntegrityFinding>> = BTreeMap::new();
    for finding in &report.findings {
        by_kind.entry(finding.kind).or_default().push(finding);
    }
    let mut lines = vec![format!(
        "the digest chain of trail {} in s3://{} over {} has {} finding{} ({} digest files, {} log files checked):",
        report.trail.as_deref().unwrap_or("(no digest found)"),
        report.bucket,
        hours(&report.range),
        report.findings.len(),
        if report.findings.len() == 1 { "" } else { "s" },
        report.digests_checked,
        report.log_files_checked
    )];
    for (kind, findings) in by_kind {
        let covers: Vec<String> = findings.iter().map(|f| hours(&f.covers)).collect();
        let files: Vec<&str> = findings.iter().map(|f| file_name(&f.file)).collect();
        lines.push(format!(
            "{}: {} — {} ({}); {}",
            kind_name(kind),
            covers.join(", "),
            kind_meaning(kind),
            files.join(", "),
            findings
                .first()
                .map(|f| f.detail.as_str())
                .unwrap_or_default()
        ));
    }
    lines.join("\n")
}

/// The finding kind as the reason names it.
pub fn kind_name(kind: FindingKind) -> &'static str {
    match kind {
        FindingKind::Missing => "Missing",
        FindingKind::Modified => "Modified",
        FindingKind::Extra => "Extra",
        FindingKind::UnsignedDigest => "Unsigned",
        FindingKind::BadSignature => "BadSignature",
        FindingKind::UnknownKey => "UnknownKey",
        FindingKind::ChainBreak => "ChainBreak",
        FindingKind::DigestGap => "DigestGap",
    }
}

fn kind_meaning(kind: FindingKind) -> &'static str {
    match kind {
        FindingKind::Missing => "a file a digest lists is absent",
        FindingKind::Modified => "a file differs from what its digest recorded",
        FindingKind::Extra => "a file no digest lists",
        FindingKind::UnsignedDigest => "a digest without CloudTrail's signature",
        FindingKind::BadSignature => "a digest whose signature does not verify",
        FindingKind::UnknownKey => {
            "a digest signed with a key that is not CloudTrail's for its time"
        }
        FindingKind::ChainBreak => "a digest that does not link to the one before it",
        FindingKind::DigestGap => "hours no digest file covers",
    }
}

/// The last part of an object key: the file's name.
fn file_name(key: &str) -> &str {
    key.trim_end_matches('/').rsplit('/').next().unwrap_or(key)
}

/// `2026-03-01 02:00 to 05:00 UTC`, or with both dates when they differ.
pub fn hours(range: &TimeRange) -> String {
    let minute = |at: DateTime<Utc>| at.format("%Y-%m-%d %H:%M").to_string();
    if range.start.date_naive() == range.end.date_naive() {
        format!(
            "{} to {} UTC",
            minute(range.start),
            range.end.format("%H:%M")
        )
    } else {
        format!("{} to {} UTC", minute(range.start), minute(range.end))
    }
}

/// The hours of a FAIL's findings in words, and the hours from the first to the last, for the
/// remediation's validate-logs command.
fn finding_hours(integrity: &TrailIntegrity) -> Option<(String, TimeRange)> {
    let IntegrityResult::Validated { report, .. } = &integrity.result else {
        return None;
    };
    let start = report.findings.iter().map(|f| f.covers.start).min()?;
    let end = report.findings.iter().map(|f| f.covers.end).max()?;
    let words = report
        .findings
        .iter()
        .map(|f| hours(&f.covers))
        .collect::<Vec<_>>()
        .join(", ");
    Some((words, TimeRange { start, end }))
}

/// The region a trail's commands run in: its home region, from its ARN.
fn home_region(arn: Option<&str>, fallback: &str) -> String {
    arn.and_then(|arn| arn.split(':').nth(3))
        .filter(|r| !r.is_empty())
        .unwrap_or(fallback)
        .to_string()
}

/// `cloudtrail-log-integrity` for every trail that logs one account-region.
pub fn evaluate_region(
    scope: &RegionScope,
    evidence: Option<&CloudTrailEvidence>,
    period: &Period,
    out: &mut Evaluation,
) {
    let rows = [(CLOUDTRAIL_LOG_INTEGRITY, None)];
    let gaps: Vec<_> = scope
        .service_gaps("cloudtrail")
        .into_iter()
        .filter(|g| g.api == "DescribeTrails" || g.service == "sts")
        .collect();
    let Some(super::Available { evidence, complete }) =
        scope.available(&rows, "CloudTrail", &gaps, evidence, out)
    else {
        return;
    };
    if evidence.trails.is_empty() {
        if complete {
            scope.push_rows(
                &rows,
                "(region)",
                Status::NoResources,
                "no trail logs this account and region: there are no trail log files to validate",
                out,
            );
        }
        return;
    }
    for trail in &evidence.trails {
        let arn = trail.trail.trail_arn.as_deref();
        let resource = arn.unwrap_or(&trail.trail.name);
        let integrity = evidence.log_integrity.as_ref().map(|all| {
            all.iter().find(|i| match (&i.trail_arn, arn) {
                (Some(a), Some(b)) => a == b,
                _ => i.trail == trail.trail.name,
            })
        });
        let (status, reason, integrity) = match integrity {
            None if evidence.events_from.is_none() => (
                Status::EvidenceGap,
                "the change events came from LookupEvents: the trail's log and digest files were not read, so their integrity is not proven (collect --trail-logs validates the digest chain)".to_string(),
                None,
            ),
            None => (
                Status::EvidenceGap,
                "the snapshot holds no digest validation for this account and region (written by an earlier version)".to_string(),
                None,
            ),
            Some(None) => (
                Status::EvidenceGap,
                "the trail's digest chain was not validated for this account and region".to_string(),
                None,
            ),
            Some(Some(integrity)) => {
                let (status, reason) = judge(integrity, period);
                (status, reason, Some(integrity))
            }
        };
        let fix = integrity
            .and_then(finding_hours)
            .map_or_else(String::new, |(words, span)| {
                remediation::cloudtrail_log_integrity(
                    resource,
                    &home_region(arn, scope.region),
                    &words,
                    span,
                )
            });
        out.findings.push(
            scope
                .finding(CLOUDTRAIL_LOG_INTEGRITY, resource, None, status, reason)
                .with_remediation(fix),
        );
    }
}
