//! Evaluation: turns an evidence snapshot into control results. Everything here is a pure
//! function of the snapshot, so an auditor re-running it years later gets the same answer.
//! Non-compliance is data (a `FAIL` row), never an `Err`.

pub mod apigateway;
pub mod apigateway_v2;
pub mod catalog;
pub mod change_records;
pub mod changes;
pub mod cloudtrail;
pub mod cloudwatch_logs;
pub mod data_events;
pub mod elasticache;
pub mod events;
pub mod history;
pub mod kms;
pub mod log_integrity;
pub mod period;
pub mod remediation;
pub mod resource_policy;
pub mod s3;
pub mod selection;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::evidence::{EvidenceGap, EvidenceSnapshot, RegionEvidence};

pub use catalog::{CATALOG, Control};
pub use changes::{ChangeClass, ChangeRow};

/// The outcome of one control for one resource (or one scope).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    Pass,
    /// A weakening change matched by a change record approved before it (Annex 11 §10):
    /// counts like PASS for the verdict.
    Controlled,
    Fail,
    NotApplicable,
    /// Evaluated, nothing in scope.
    NoResources,
    /// The evidence could not be collected, so the control could not be evaluated.
    EvidenceGap,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Controlled => "CONTROLLED",
            Status::Fail => "FAIL",
            Status::NotApplicable => "NOT_APPLICABLE",
            Status::NoResources => "NO_RESOURCES",
            Status::EvidenceGap => "EVIDENCE_GAP",
        }
    }
}

/// Which reading of a control a result belongs to, where a control has two.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum View {
    /// Security Hub's lenient reading.
    SecurityHub,
    /// AWS Config's strict reading.
    AwsConfig,
}

impl View {
    pub const BOTH: [View; 2] = [View::SecurityHub, View::AwsConfig];

    pub fn as_str(self) -> &'static str {
        match self {
            View::SecurityHub => "security_hub",
            View::AwsConfig => "aws_config",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            View::SecurityHub => "Security Hub (lenient)",
            View::AwsConfig => "AWS Config (strict)",
        }
    }
}

/// The overall verdict of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Verdict {
    /// No FAIL and no evidence gap.
    Compliant,
    /// At least one FAIL.
    NonCompliant,
    /// No FAIL, but evidence is missing.
    Incomplete,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Compliant => "COMPLIANT",
            Verdict::NonCompliant => "NON_COMPLIANT",
            Verdict::Incomplete => "INCOMPLETE",
        }
    }
}

/// The region value of results that cover a whole account.
pub const ALL_REGIONS: &str = "all";

/// What every finding id starts with (`Finding::id`).
pub const FINDING_ID_PREFIX: &str = "F-";
/// How many hex digits of the subject's SHA-256 a finding id keeps: 64 bits, so two subjects
/// of one report collide with odds of about n²/2⁶⁵ (10⁻⁸ for a million findings).
pub const FINDING_ID_HEX_DIGITS: usize = 16;

/// One control result row.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Finding {
    pub control_id: String,
    pub account_id: String,
    pub region: String,
    pub resource: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub view: Option<View>,
    pub status: Status,
    pub reason: String,
    /// What fixes a FAIL, with the finding's own identifiers filled in (see `remediation`).
    /// Empty for other statuses; absent from results written before it existed.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub remediation: String,
}

impl Finding {
    /// A finding without a fix (`with_remediation` adds one to a FAIL).
    pub fn new(
        control_id: &str,
        account_id: &str,
        region: &str,
        resource: impl Into<String>,
        view: Option<View>,
        status: Status,
        reason: impl Into<String>,
    ) -> Self {
        Finding {
            control_id: control_id.to_string(),
            account_id: account_id.to_string(),
            region: region.to_string(),
            resource: resource.into(),
            view,
            status,
            reason: reason.into(),
            remediation: String::new(),
        }
    }

    /// What the finding is about: control, account, region, resource and reading. The
    /// versions of one resource judged over the period share it.
    pub fn subject(&self) -> (&str, &str, &str, &str, Option<View>) {
        (
            &self.control_id,
            &self.account_id,
            &self.region,
            &self.resource,
            self.view,
        )
    }

    /// The finding's stable id: the same subject gives the same id in every period and every
    /// render, so month-to-month drift (`diff`) and an auditor's cross-reference between two
    /// reports follow one finding. Recipe (docs/controls.md, "Finding ids"): `F-` and the
    /// first 16 hex digits of the SHA-256 of the subject written as a compact JSON array
    /// `["<control>","<account>","<region>","<resource>","<view or empty>"]`.
    pub fn id(&self) -> String {
        let (control, account, region, resource, view) = self.subject();
        let canonical = serde_json::to_string(&[
            control,
            account,
            region,
            resource,
            view.map(View::as_str).unwrap_or(""),
        ])
        .expect("an array of strings always serializes");
        let digest = crate::hash::sha256_hex(canonical.as_bytes());
        format!("{FINDING_ID_PREFIX}{}", &digest[..FINDING_ID_HEX_DIGITS])
    }

    /// The finding with its fix; only a FAIL carries one, so a PASS never reads as needing work.
    pub fn with_remediation(mut self, remediation: impl Into<String>) -> Self {
        if self.status == Status::Fail {
            self.remediation = remediation.into();
        }
        self
    }
}

/// Everything the evaluation produced; the report model is built from this.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    pub findings: Vec<Finding>,
    pub methods: Vec<apigateway::MethodRow>,
    pub stages: Vec<apigateway::StageRow>,
    pub keys: Vec<kms::KeyRow>,
    pub trails: Vec<cloudtrail::TrailRow>,
    /// ElastiCache replication groups as collected (`elasticache-encryption-at-rest`).
    #[serde(default)]
    pub replication_groups: Vec<elasticache::ReplicationGroupRow>,
    /// The trail buckets `cloudtrail-bucket-protection` judged, as collected.
    #[serde(default)]
    pub buckets: Vec<s3::BucketRow>,
    pub logging_gaps: Vec<cloudtrail::LoggingGap>,
    pub changes: Vec<ChangeRow>,
    pub evidence_gaps: Vec<EvidenceGap>,
    /// What became of each change record given (`report --change-records`), in file order.
    pub change_records: Vec<change_records::RecordOutcome>,
}

/// Which reading of a two-reading control decides the verdict and the control's outcome
/// (`report --verdict-reading`). The other reading is still evaluated and shown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerdictReading {
    /// Every result of both readings counts. Every lenient FAIL condition is also a strict
    /// one (docs/controls.md, control 1), so this is the AWS Config reading, and a lenient
    /// FAIL or EVIDENCE_GAP still counts should the two ever disagree: no FAIL is dropped.
    #[default]
    Strict,
    /// For two-reading controls only the Security Hub reading counts; the AWS Config
    /// reading is shown beside it and its FAILs are counted in the methodology, not dropped.
    Lenient,
}

impl VerdictReading {
    pub fn as_str(self) -> &'static str {
        match self {
            VerdictReading::Strict => "strict",
            VerdictReading::Lenient => "lenient",
        }
    }

    /// Whether results of `view` decide the verdict under this reading (single-reading
    /// controls, `None`, always do).
    pub fn decides(self, view: Option<View>) -> bool {
        match self {
            VerdictReading::Strict => true,
            VerdictReading::Lenient => view != Some(View::AwsConfig),
        }
    }
}

impl std::str::FromStr for VerdictReading {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "strict" => Ok(VerdictReading::Strict),
            "lenient" => Ok(VerdictReading::Lenient),
            other => Err(format!(
                "`{other}` is not a verdict reading (strict or lenient)"
            )),
        }
    }
}

impl Verdict {
    /// The verdict of `findings` read with `reading`, in a snapshot that recorded
    /// `recorded_gaps` failed calls.
    pub fn of(findings: &[Finding], recorded_gaps: usize, reading: VerdictReading) -> Verdict {
        let deciding = || findings.iter().filter(|f| reading.decides(f.view));
        if deciding().any(|f| f.status == Status::Fail) {
            Verdict::NonCompliant
        } else if recorded_gaps > 0 || deciding().any(|f| f.status == Status::EvidenceGap) {
            Verdict::Incomplete
        } else {
            Verdict::Compliant
        }
    }
}

impl Evaluation {
    /// The verdict under the default (strict) reading.
    pub fn verdict(&self) -> Verdict {
        self.verdict_read(VerdictReading::default())
    }

    /// The verdict with `reading` deciding the two-reading controls.
    pub fn verdict_read(&self, reading: VerdictReading) -> Verdict {
        Verdict::of(&self.findings, self.evidence_gaps.len(), reading)
    }
}

/// The account and region being evaluated, with the evidence gaps recorded for it.
pub struct RegionScope<'a> {
    pub account_id: &'a str,
    pub region: &'a str,
    gaps: Vec<&'a EvidenceGap>,
}

impl<'a> RegionScope<'a> {
    pub fn new(account_id: &'a str, region: &'a str, all_gaps: &'a [EvidenceGap]) -> Self {
        let gaps = all_gaps
            .iter()
            .filter(|gap| {
                gap.account_id == account_id && gap.region.as_deref().is_none_or(|r| r == region)
            })
            .collect();
        Self {
            account_id,
            region,
            gaps,
        }
    }

    /// Gaps of `service` that are not about one resource: whole lists are missing.
    pub fn service_gaps(&self, service: &str) -> Vec<&'a EvidenceGap> {
        self.gaps
            .iter()
            .copied()
            .filter(|gap| {
                gap.resource.is_none() && (gap.service == service || gap.service == "sts")
            })
            .collect()
    }

    /// Gaps that leave the region's change events incomplete: a failed LookupEvents query, a
    /// trail log file missing or unreadable, or credentials that failed (STS).
    pub fn lookup_gaps(&self) -> Vec<&'a EvidenceGap> {
        self.service_gaps("cloudtrail")
            .into_iter()
            .filter(|g| reads_change_events(&g.api) || g.service == "sts")
            .collect()
    }

    /// Gaps of `service` about `resource` (matched by id or ARN suffix).
    pub fn resource_gaps(&self, service: &str, resource_ids: &[&str]) -> Vec<&'a EvidenceGap> {
        self.gaps
            .iter()
            .copied()
            .filter(|gap| {
                gap.service == service
                    && gap.resource.as_deref().is_some_and(|r| {
                        resource_ids.iter().any(|id| {
                            !id.is_empty() && (r == *id || r.ends_with(&format!("/{id}")))
                        })
                    })
            })
            .collect()
    }

    /// The evidence-gap rule every region evaluator applies first. Without evidence: one
    /// EVIDENCE_GAP row per (control, view) of `rows` saying why ("no {what} evidence was
    /// collected …" or the failed calls), and nothing to evaluate. With evidence but `gaps`
    /// (whole lists missing): one EVIDENCE_GAP row per (control, view) saying "Part of the
    /// {what} evidence could not be collected: …", then the evidence is evaluated; only
    /// complete evidence may conclude NO_RESOURCES.
    pub fn available<'e, T>(
        &self,
        rows: &[(&str, Option<View>)],
        what: &str,
        gaps: &[&EvidenceGap],
        evidence: Option<&'e T>,
        out: &mut Evaluation,
    ) -> Option<Available<'e, T>> {
        let Some(evidence) = evidence else {
            let reason = missing_evidence_reason(what, gaps);
            self.push_rows(rows, "(region)", Status::EvidenceGap, &reason, out);
            return None;
        };
        if !gaps.is_empty() {
            let reason = missing_evidence_reason(&format!("Part of the {what}"), gaps);
            self.push_rows(rows, "(region)", Status::EvidenceGap, &reason, out);
        }
        Some(Available {
            evidence,
            complete: gaps.is_empty(),
        })
    }

    /// One finding per (control, view) of `rows` about `resource`, all with one status and reason.
    pub fn push_rows(
        &self,
        rows: &[(&str, Option<View>)],
        resource: &str,
        status: Status,
        reason: &str,
        out: &mut Evaluation,
    ) {
        for (control_id, view) in rows {
            out.findings
                .push(self.finding(control_id, resource, *view, status, reason));
        }
    }

    pub fn finding(
        &self,
        control_id: &str,
        resource: impl Into<String>,
        view: Option<View>,
        status: Status,
        reason: impl Into<String>,
    ) -> Finding {
        Finding::new(
            control_id,
            self.account_id,
            self.region,
            resource,
            view,
            status,
            reason,
        )
    }
}

/// A region's evidence of one service that passed the evidence-gap rule (`RegionScope::available`).
pub struct Available<'e, T> {
    pub evidence: &'e T,
    /// No list of the service is missing: an empty list means there is nothing.
    pub complete: bool,
}

/// "kms:ListKeys failed with AccessDenied: …; …"
pub fn describe_gaps(gaps: &[&EvidenceGap]) -> String {
    gaps.iter()
        .map(|gap| {
            let mut text = format!("{}:{} failed with {}", gap.service, gap.api, gap.error_code);
            if !gap.message.is_empty() {
                text.push_str(": ");
                text.push_str(&gap.message);
            }
            text
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Reason text when a service's evidence is absent from the snapshot.
pub fn missing_evidence_reason(service: &str, gaps: &[&EvidenceGap]) -> String {
    if gaps.is_empty() {
        format!("no {service} evidence was collected for this account and region")
    } else {
        format!(
            "{service} evidence could not be collected: {}",
            describe_gaps(gaps)
        )
    }
}

/// Evaluates every control of the catalog on the snapshot.
pub fn evaluate(snapshot: &EvidenceSnapshot) -> Evaluation {
    evaluate_with_records(snapshot, &change_records::ChangeRecords::default())
}

/// Evaluates every control of the catalog on the snapshot, reconciling its changes with QA's
/// change records.
pub fn evaluate_with_records(
    snapshot: &EvidenceSnapshot,
    records: &change_records::ChangeRecords,
) -> Evaluation {
    let mut evaluation = Evaluation::default();
    let accounts: BTreeSet<&str> = snapshot.scope.accounts.iter().map(String::as_str).collect();
    let regions: BTreeSet<&str> = snapshot.scope.regions.iter().map(String::as_str).collect();
    let mut histories: BTreeMap<(String, String), history::RegionHistory> = BTreeMap::new();
    let mut account_regions: Vec<(&str, ScopedRegions)> = Vec::new();
    for account_id in &accounts {
        let account = snapshot
            .accounts
            .iter()
            .find(|a| a.account_id == *account_id);
        let mut scoped: ScopedRegions = Vec::new();
        // A multi-Region replica is judged by its primary, collected in another region.
        let account_keys = kms::AccountKeys::new(
            account
                .iter()
                .flat_map(|a| &a.regions)
                .filter(|r| regions.contains(r.region.as_str()))
                .filter_map(|r| r.kms.as_ref()),
        );
        for region in &regions {
            let scope = RegionScope::new(account_id, region, &snapshot.gaps);
            let evidence = account.and_then(|a| a.regions.iter().find(|r| r.region == *region));
            let kms_evidence = evidence.and_then(|r| r.kms.as_ref());
            let history = region_history(&scope, evidence, snapshot);
            let replay = period::Replay {
                period: &snapshot.period,
                until: snapshot.collected_at,
                coverage: history.coverage(),
            };
            apigateway::evaluate_region(
                &scope,
                evidence.and_then(|r| r.apigateway.as_ref()),
                &history,
                &replay,
                &mut evaluation,
            );
            apigateway_v2::evaluate_region(
                &scope,
                evidence.and_then(|r| r.apigateway.as_ref()),
                &history,
                &replay,
                &mut evaluation,
            );
            kms::evaluate_region(
                &scope,
                kms_evidence,
                &history,
                &replay,
                &snapshot.policy,
                &account_keys,
                &mut evaluation,
            );
            elasticache::evaluate_region(
                &scope,
                evidence.and_then(|r| r.elasticache.as_ref()),
                &history,
                &replay,
                &mut evaluation,
            );
            changes::evaluate_region(
                &scope,
                evidence.and_then(|r| r.cloudtrail.as_ref()),
                &snapshot.policy,
                records,
                &mut evaluation,
            );
            log_integrity::evaluate_region(
                &scope,
                evidence.and_then(|r| r.cloudtrail.as_ref()),
                &snapshot.period,
                &mut evaluation,
            );
            histories.insert((account_id.to_string(), region.to_string()), history);
            scoped.push((scope, evidence));
        }
        // Trail home regions outside the scope: only their trails' histories are read.
        for home in account.into_iter().flat_map(|a| &a.trail_home_regions) {
            let scope = RegionScope::new(account_id, &home.region, &snapshot.gaps);
            let history = region_history(&scope, Some(home), snapshot);
            histories.insert((account_id.to_string(), home.region.clone()), history);
        }
        account_regions.push((account_id, scoped));
    }
    let context = cloudtrail::TrailContext {
        snapshot,
        histories: &histories,
    };
    for (account_id, scoped) in &account_regions {
        cloudtrail::evaluate_account(account_id, scoped, &context, &mut evaluation);
    }
    ensure_every_control_reported(&accounts, &mut evaluation);
    evaluation.evidence_gaps = snapshot.gaps.clone();
    sort_for_reporting(&mut evaluation);
    evaluation.change_records = records.reconcile(&evaluation.changes);
    evaluation
}

/// An account's scoped regions with their evidence (`None`: not collected).
type ScopedRegions<'a> = Vec<(RegionScope<'a>, Option<&'a RegionEvidence>)>;

/// The change history of one account-region (`history`), with the key aliases of its KMS
/// evidence.
fn region_history(
    scope: &RegionScope,
    evidence: Option<&RegionEvidence>,
    snapshot: &EvidenceSnapshot,
) -> history::RegionHistory {
    let aliases = evidence
        .and_then(|r| r.kms.as_ref())
        .map(|kms| {
            kms.keys
                .iter()
                .flat_map(|k| {
                    k.aliases
                        .iter()
                        .map(|a| (a.alias_name.clone(), k.metadata.key_id.clone()))
                })
                .collect()
        })
        .unwrap_or_default();
    history::RegionHistory::read(
        scope,
        evidence.and_then(|r| r.cloudtrail.as_ref()),
        &snapshot.period,
        snapshot.collected_at,
        &aliases,
    )
}

/// A silently missing control is the second-worst thing this product can do: if an
/// evaluator produced nothing for an account, say so explicitly.
fn ensure_every_control_reported(accounts: &BTreeSet<&str>, evaluation: &mut Evaluation) {
    for control in CATALOG {
        for account_id in accounts {
            let reported = evaluation
                .findings
                .iter()
                .any(|f| f.control_id == control.id && f.account_id == *account_id);
            if !reported {
                evaluation.findings.push(Finding {
                    control_id: control.id.to_string(),
                    account_id: account_id.to_string(),
                    region: ALL_REGIONS.to_string(),
                    resource: "(account)".to_string(),
                    view: None,
                    status: Status::EvidenceGap,
                    reason: "no result could be produced for this control".to_string(),
                    remediation: String::new(),
                });
            }
        }
    }
    if accounts.is_empty() {
        for control in CATALOG {
            evaluation.findings.push(Finding {
                control_id: control.id.to_string(),
                account_id: String::new(),
                region: String::new(),
                resource: "(scope)".to_string(),
                view: None,
                // Never NO_RESOURCES: nothing was looked at (the loader refuses such a scope).
                status: Status::EvidenceGap,
                reason: "the snapshot's scope lists no accounts".to_string(),
                remediation: String::new(),
            });
        }
    }
}

fn catalog_position(control_id: &str) -> usize {
    CATALOG
        .iter()
        .position(|c| c.id == control_id)
        .unwrap_or(CATALOG.len())
}

/// Determinism: every list that reaches a report has one fixed order.
fn sort_for_reporting(evaluation: &mut Evaluation) {
    evaluation.findings.sort_by(|a, b| {
        (
            catalog_position(&a.control_id),
            &a.account_id,
            &a.region,
            &a.resource,
            a.view,
            &a.reason,
        )
            .cmp(&(
                catalog_position(&b.control_id),
                &b.account_id,
                &b.region,
                &b.resource,
                b.view,
                &b.reason,
            ))
    });
    evaluation.findings.dedup();
    evaluation
        .methods
        .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    evaluation
        .stages
        .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    evaluation
        .keys
        .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    evaluation
        .trails
        .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    evaluation
        .replication_groups
        .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    evaluation
        .buckets
        .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    evaluation
        .logging_gaps
        .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    evaluation
        .changes
        .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    evaluation.evidence_gaps.sort();
}

/// Whether a gap of this CloudTrail `api` is about reading the change events (LookupEvents,
/// the trail's log files, or the Athena query) rather than the trails' settings.
pub fn reads_change_events(api: &str) -> bool {
    api == "LookupEvents"
        || api == crate::trail_logs::EVIDENCE_GAP_API
        || api == crate::evidence::ATHENA_EVIDENCE_GAP_API
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(status: Status) -> Finding {
        Finding {
            control_id: catalog::KMS_KEY_ROTATION.to_string(),
            account_id: "111111111111".to_string(),
            region: "eu-central-1".to_string(),
            resource: "k".to_string(),
            view: None,
            status,
            reason: String::new(),
            remediation: String::new(),
        }
    }

    fn verdict(statuses: &[Status], snapshot_gaps: usize) -> Verdict {
        let gap = EvidenceGap {
            account_id: "111111111111".into(),
            region: None,
            service: "sts".into(),
            api: "GetCallerIdentity".into(),
            resource: None,
            error_code: "ExpiredToken".into(),
            message: String::new(),
        };
        Evaluation {
            findings: statuses.iter().copied().map(finding).collect(),
            evidence_gaps: vec![gap; snapshot_gaps],
            ..Default::default()
        }
        .verdict()
    }

    #[test]
    fn verdict_is_compliant_only_without_fail_and_without_gaps() {
        use Status::*;
        assert_eq!(
            verdict(&[Pass, Controlled, NotApplicable, NoResources], 0),
            Verdict::Compliant,
            "CONTROLLED counts like PASS"
        );
        assert_eq!(verdict(&[Controlled, Fail], 0), Verdict::NonCompliant);
        assert_eq!(
            verdict(&[Pass, Fail, EvidenceGap], 0),
            Verdict::NonCompliant
        );
        assert_eq!(verdict(&[Pass, EvidenceGap], 0), Verdict::Incomplete);
        assert_eq!(
            verdict(&[Pass], 1),
            Verdict::Incomplete,
            "a recorded gap alone prevents COMPLIANT"
        );
    }

    #[test]
    fn only_a_fail_carries_a_fix_and_results_without_one_stay_readable() {
        let with_fix = |status| finding(status).with_remediation("aws kms enable-key-rotation");
        assert_eq!(
            with_fix(Status::Fail).remediation,
            "aws kms enable-key-rotation"
        );
        let pass = with_fix(Status::Pass);
        assert_eq!(pass.remediation, "");
        let written = serde_json::to_value(&pass).unwrap();
        assert!(written.get("remediation").is_none(), "{written}");
        // results.json written before the field existed.
        let older: Finding = serde_json::from_value(serde_json::json!({
            "control_id": "kms-key-rotation", "account_id": "111111111111",
            "region": "eu-central-1", "resource": "k", "status": "FAIL", "reason": "off"
        }))
        .unwrap();
        assert_eq!(older.remediation, "");
    }

    #[test]
    fn the_lenient_reading_ignores_only_the_strict_view_of_two_reading_controls() {
        let viewed = |view, status| Finding {
            control_id: catalog::APIGW_CACHE_ENCRYPTION.to_string(),
            view: Some(view),
            ..finding(status)
        };
        let findings = [
            viewed(View::SecurityHub, Status::Pass),
            viewed(View::AwsConfig, Status::Fail),
            finding(Status::Pass),
        ];
        assert_eq!(
            Verdict::of(&findings, 0, VerdictReading::Strict),
            Verdict::NonCompliant
        );
        assert_eq!(
            Verdict::of(&findings, 0, VerdictReading::Lenient),
            Verdict::Compliant
        );
        let lenient_fail = [
            viewed(View::SecurityHub, Status::Fail),
            viewed(View::AwsConfig, Status::Pass),
        ];
        assert_eq!(
            Verdict::of(&lenient_fail, 0, VerdictReading::Strict),
            Verdict::NonCompliant,
            "a lenient FAIL is never dropped by the strict reading"
        );
        let single = [finding(Status::Fail), viewed(View::AwsConfig, Status::Pass)];
        assert_eq!(
            Verdict::of(&single, 0, VerdictReading::Lenient),
            Verdict::NonCompliant,
            "single-reading controls decide under either reading"
        );
    }

    #[test]
    fn a_finding_id_is_the_documented_digest_of_its_subject_alone() {
        let fail = finding(Status::Fail);
        // docs/controls.md: printf '%s' '["kms-key-rotation","111111111111","eu-central-1","k",""]' | sha256sum
        let expected = crate::hash::sha256_hex(
            br#"["kms-key-rotation","111111111111","eu-central-1","k",""]"#,
        );
        assert_eq!(fail.id(), format!("F-{}", &expected[..16]));
        let pass = Finding {
            reason: "rotated".into(),
            remediation: String::new(),
            ..finding(Status::Pass)
        };
        assert_eq!(
            pass.id(),
            fail.id(),
            "status and reason are not the subject"
        );
        let viewed = |view| Finding {
            view: Some(view),
            ..finding(Status::Pass)
        };
        assert_ne!(viewed(View::SecurityHub).id(), viewed(View::AwsConfig).id());
        assert_ne!(viewed(View::AwsConfig).id(), fail.id());
        let other_region = Finding {
            region: "eu-west-1".into(),
            ..finding(Status::Fail)
        };
        assert_ne!(other_region.id(), fail.id());
    }

    #[test]
    fn a_control_without_any_result_is_reported_as_a_gap() {
        let accounts: BTreeSet<&str> = ["111111111111"].into();
        let mut evaluation = Evaluation::default();
        ensure_every_control_reported(&accounts, &mut evaluation);
        assert_eq!(evaluation.findings.len(), CATALOG.len());
        assert!(
            evaluation
                .findings
                .iter()
                .all(|f| f.status == Status::EvidenceGap)
        );
    }

    #[test]
    fn an_account_in_scope_without_any_evidence_is_a_gap_for_every_control() {
        let snapshot: EvidenceSnapshot = serde_json::from_value(serde_json::json!({
            "schema_version": 1, "tool": {"name": "t", "version": "0"}, "system_name": "S",
            "collected_at": "2026-11-01T00:00:00Z",
            "period": {"start": "2026-10-01T00:00:00Z", "end": "2026-11-01T00:00:00Z"},
            "scope": {"accounts": ["111111111111"], "regions": ["eu-central-1"]}, "accounts": []
        }))
        .unwrap();
        let evaluation = evaluate(&snapshot);
        for control in CATALOG {
            let statuses: Vec<Status> = evaluation
                .findings
                .iter()
                .filter(|f| f.control_id == control.id)
                .map(|f| f.status)
                .collect();
            assert!(!statuses.is_empty(), "{}", control.id);
            assert!(
                statuses.iter().all(|s| *s == Status::EvidenceGap),
                "{}: {statuses:?}",
                control.id
            );
        }
        assert_eq!(evaluation.verdict(), Verdict::Incomplete);
    }
}
