//! CloudTrail posture (multi-region trail with read+write management events, KMS encryption,
//! log file validation) and logging continuity (gaps opened by StopLogging / DeleteTrail).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::catalog::{
    CLOUDTRAIL_CONTINUITY, CLOUDTRAIL_ENCRYPTION, CLOUDTRAIL_LOG_VALIDATION,
    CLOUDTRAIL_MULTI_REGION,
};
use super::events::{Continuity, continuity_role};
use super::{ALL_REGIONS, Evaluation, Finding, RegionScope, Status, describe_gaps};
use crate::evidence::{
    EventSelectors, EvidenceGap, Period, RegionEvidence, Timestamp, TrailEvidence,
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrailRow {
    pub account_id: String,
    pub trail_name: String,
    pub trail_arn: String,
    pub home_region: String,
    pub multi_region: Option<bool>,
    pub organization_trail: Option<bool>,
    pub is_logging: Option<bool>,
    pub log_file_validation: Option<bool>,
    pub kms_key_id: String,
    /// `read+write`, `write only`, `read only`, `none` or `unknown`.
    pub management_events: String,
    /// The trail's selectors exclude kms.amazonaws.com: KMS changes are not in its log files.
    pub kms_events_excluded: bool,
    /// Every management event source the selectors exclude (CloudTrail.1 requires none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub excluded_sources: Vec<String>,
    pub latest_delivery: Option<Timestamp>,
}

impl TrailRow {
    /// How results name the trail: its ARN, or its name when the ARN is unknown.
    pub fn resource(&self) -> String {
        if self.trail_arn.is_empty() {
            self.trail_name.clone()
        } else {
            self.trail_arn.clone()
        }
    }

    pub fn sort_key(&self) -> (&str, &str, &str) {
        (&self.account_id, &self.home_region, &self.trail_name)
    }
}

/// A time during the period when a trail was not logging.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoggingGap {
    pub account_id: String,
    pub region: String,
    pub trail_name: String,
    pub started_at: Timestamp,
    pub started_by: String,
    /// `StopLogging`, `DeleteTrail`, or `stopped before the period`.
    pub cause: String,
    pub ended_at: Option<Timestamp>,
    pub ended_by: String,
    /// Length within the period, in whole minutes.
    pub minutes: i64,
}

impl LoggingGap {
    pub fn sort_key(&self) -> (&str, &str, Timestamp) {
        (&self.account_id, &self.trail_name, self.started_at)
    }

    pub fn duration_text(&self) -> String {
        let (days, hours, minutes) = (
            self.minutes / 1440,
            self.minutes % 1440 / 60,
            self.minutes % 60,
        );
        match (days, hours) {
            (0, 0) => format!("{minutes} min"),
            (0, _) => format!("{hours} h {minutes} min"),
            _ => format!("{days} d {hours} h {minutes} min"),
        }
    }
}

/// Which management events a trail records, from its classic or advanced selectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManagementCoverage {
    ReadWrite,
    WriteOnly,
    ReadOnly,
    None,
    Unknown,
}

impl ManagementCoverage {
    fn as_str(self) -> &'static str {
        match self {
            ManagementCoverage::ReadWrite => "read+write",
            ManagementCoverage::WriteOnly => "write only",
            ManagementCoverage::ReadOnly => "read only",
            ManagementCoverage::None => "none",
            ManagementCoverage::Unknown => "unknown",
        }
    }
}

/// What a trail's selectors record of management events: the widest coverage of any
/// selector, and the event sources any management selector excludes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectorReading {
    pub coverage: ManagementCoverage,
    /// Sources excluded from management events: classic `ExcludeManagementEventSources`, or an
    /// advanced management selector's `eventSource` condition (`NotEquals kms.amazonaws.com`,
    /// `rdsdata.amazonaws.com`; any other condition on `eventSource` limits the sources too).
    pub excluded_sources: Vec<String>,
}

impl SelectorReading {
    pub fn excludes_kms(&self) -> bool {
        self.excluded_sources.iter().any(|s| s.contains(KMS_SOURCE))
    }
}

const KMS_SOURCE: &str = "kms.amazonaws.com";

/// Reads a trail's selectors (`None`: not collected, so unknown).
pub fn management_coverage(selectors: Option<&EventSelectors>) -> SelectorReading {
    let Some(selectors) = selectors else {
        return SelectorReading {
            coverage: ManagementCoverage::Unknown,
            excluded_sources: Vec::new(),
        };
    };
    let mut read = false;
    let mut write = false;
    let mut excluded: Vec<String> = Vec::new();
    for selector in selectors.event_selectors.iter().flatten() {
        if selector.include_management_events == Some(false) {
            continue;
        }
        match selector.read_write_type.as_deref().unwrap_or("All") {
            "ReadOnly" => read = true,
            "WriteOnly" => write = true,
            _ => {
                read = true;
                write = true;
            }
        }
        excluded.extend(selector.exclude_management_event_sources.iter().cloned());
    }
    for selector in selectors.advanced_event_selectors.iter().flatten() {
        let field = |name: &str| selector.field_selectors.iter().find(|f| f.field == name);
        let is_management =
            field("eventCategory").is_some_and(|f| f.equals.iter().any(|v| v == "Management"));
        if !is_management {
            continue;
        }
        match field("readOnly")
            .and_then(|f| f.equals.first())
            .map(String::as_str)
        {
            Some("true") => read = true,
            Some("false") => write = true,
            _ => {
                read = true;
                write = true;
            }
        }
        if let Some(source) = field("eventSource") {
            excluded.extend(source.not_equals.iter().cloned());
            let limits = source
                .equals
                .iter()
                .map(|v| format!("all but {v}"))
                .chain(
                    source
                        .starts_with
                        .iter()
                        .map(|v| format!("all not starting {v}")),
                )
                .chain(source.not_starts_with.iter().map(|v| format!("{v}*")));
            excluded.extend(limits);
            excluded.extend(source.extra.keys().map(|k| format!("sources by {k}")));
        }
    }
    excluded.sort();
    excluded.dedup();
    let coverage = match (read, write) {
        (true, true) => ManagementCoverage::ReadWrite,
        (false, true) => ManagementCoverage::WriteOnly,
        (true, false) => ManagementCoverage::ReadOnly,
        (false, false) => ManagementCoverage::None,
    };
    SelectorReading {
        coverage,
        excluded_sources: excluded,
    }
}

/// Trails appear in every region they cover (shadow trails); keep one entry per trail,
/// preferring the copy seen in its home region, which carries the authoritative status.
fn unique_trails<'a>(
    regions: &[(RegionScope, Option<&'a RegionEvidence>)],
) -> Vec<&'a TrailEvidence> {
    let mut by_id: BTreeMap<String, &'a TrailEvidence> = BTreeMap::new();
    for (scope, evidence) in regions {
        let Some(cloudtrail) = evidence.and_then(|e| e.cloudtrail.as_ref()) else {
            continue;
        };
        for trail in &cloudtrail.trails {
            let id = trail.trail.trail_arn.clone().unwrap_or_else(|| {
                format!(
                    "{}@{}",
                    trail.trail.name,
                    trail.trail.home_region.as_deref().unwrap_or(scope.region)
                )
            });
            let in_home_region = trail.trail.home_region.as_deref() == Some(scope.region);
            let replace = match by_id.get(&id) {
                None => true,
                Some(existing) => {
                    in_home_region || (existing.status.is_none() && trail.status.is_some())
                }
            };
            if replace {
                by_id.insert(id, trail);
            }
        }
    }
    by_id.into_values().collect()
}

fn trail_row(account_id: &str, trail: &TrailEvidence) -> TrailRow {
    let selectors = management_coverage(trail.event_selectors.as_ref());
    TrailRow {
        account_id: account_id.to_string(),
        trail_name: trail.trail.name.clone(),
        trail_arn: trail.trail.trail_arn.clone().unwrap_or_default(),
        home_region: trail.trail.home_region.clone().unwrap_or_default(),
        multi_region: trail.trail.is_multi_region_trail,
        organization_trail: trail.trail.is_organization_trail,
        is_logging: trail.status.as_ref().and_then(|s| s.is_logging),
        log_file_validation: trail.trail.log_file_validation_enabled,
        kms_key_id: trail.trail.kms_key_id.clone().unwrap_or_default(),
        management_events: selectors.coverage.as_str().to_string(),
        kms_events_excluded: selectors.excludes_kms(),
        excluded_sources: selectors.excluded_sources,
        latest_delivery: trail.status.as_ref().and_then(|s| s.latest_delivery_time),
    }
}

fn account_finding(
    account_id: &str,
    control: &str,
    resource: &str,
    status: Status,
    reason: String,
) -> Finding {
    Finding {
        control_id: control.to_string(),
        account_id: account_id.to_string(),
        region: ALL_REGIONS.to_string(),
        resource: resource.to_string(),
        view: None,
        status,
        reason,
    }
}

/// Whether a multi-region trail satisfies CloudTrail.1; `Err(None)` when it cannot be told.
fn judge_multi_region(row: &TrailRow) -> Result<(), Option<String>> {
    if row.multi_region == Some(false) {
        return Err(Some(format!("{}: single-region trail", row.trail_name)));
    }
    let coverage_known = row.management_events != "unknown";
    match (row.is_logging, coverage_known) {
        (Some(false), _) => Err(Some(format!("{}: not logging", row.trail_name))),
        (_, true) if row.management_events != "read+write" => Err(Some(format!(
            "{}: management events {}",
            row.trail_name, row.management_events
        ))),
        // Config `multi-region-cloudtrail-enabled`: NON_COMPLIANT when
        // ExcludeManagementEventSources is not empty (KMS or RDS Data API events excluded).
        _ if !row.excluded_sources.is_empty() => Err(Some(format!(
            "{}: management events of {} excluded",
            row.trail_name,
            row.excluded_sources.join(", ")
        ))),
        // IsMultiRegionTrail missing: DescribeTrails always reports it, so it is unknown.
        (Some(true), true) if row.multi_region == Some(true) => Ok(()),
        _ => Err(None),
    }
}

pub fn evaluate_account(
    account_id: &str,
    regions: &[(RegionScope, Option<&RegionEvidence>)],
    period: &Period,
    all_gaps: &[EvidenceGap],
    out: &mut Evaluation,
) {
    let trails = unique_trails(regions);
    let rows: Vec<TrailRow> = trails.iter().map(|t| trail_row(account_id, t)).collect();
    let missing_regions: Vec<&str> = regions
        .iter()
        .filter(|(_, e)| e.and_then(|e| e.cloudtrail.as_ref()).is_none())
        .map(|(scope, _)| scope.region)
        .collect();
    let trail_gaps: Vec<&EvidenceGap> = regions
        .iter()
        .flat_map(|(scope, _)| scope.service_gaps("cloudtrail"))
        .filter(|g| g.api != "LookupEvents")
        .collect();
    let incomplete_reason = || {
        let mut parts = Vec::new();
        if !missing_regions.is_empty() {
            parts.push(format!(
                "no CloudTrail evidence for {}",
                missing_regions.join(", ")
            ));
        }
        if !trail_gaps.is_empty() {
            parts.push(describe_gaps(&trail_gaps));
        }
        parts.join("; ")
    };
    let evidence_incomplete = !missing_regions.is_empty() || !trail_gaps.is_empty();

    // CloudTrail.1: one qualifying multi-region trail is enough for the whole account.
    let judgements: Vec<(&TrailRow, Result<(), Option<String>>)> =
        rows.iter().map(|r| (r, judge_multi_region(r))).collect();
    let multi = if let Some((row, _)) = judgements.iter().find(|(_, j)| j.is_ok()) {
        account_finding(
            account_id,
            CLOUDTRAIL_MULTI_REGION,
            &row.trail_name,
            Status::Pass,
            format!(
                "multi-region trail {} is logging read and write management events of every source.",
                row.trail_name
            ),
        )
    } else {
        let unknown: Vec<&str> = judgements
            .iter()
            .filter(|(_, j)| matches!(j, Err(None)))
            .map(|(r, _)| r.trail_name.as_str())
            .collect();
        let failures: Vec<String> = judgements
            .iter()
            .filter_map(|(_, j)| j.clone().err().flatten())
            .collect();
        if !unknown.is_empty() || evidence_incomplete {
            let mut reason = incomplete_reason();
            if !unknown.is_empty() {
                if !reason.is_empty() {
                    reason.push_str("; ");
                }
                reason.push_str(&format!(
                    "status or event selectors missing for {}",
                    unknown.join(", ")
                ));
            }
            account_finding(
                account_id,
                CLOUDTRAIL_MULTI_REGION,
                "(account)",
                Status::EvidenceGap,
                reason,
            )
        } else if rows.is_empty() {
            account_finding(
                account_id,
                CLOUDTRAIL_MULTI_REGION,
                "(account)",
                Status::Fail,
                "no CloudTrail trail exists".to_string(),
            )
        } else {
            account_finding(
                account_id,
                CLOUDTRAIL_MULTI_REGION,
                "(account)",
                Status::Fail,
                format!(
                    "no multi-region trail logs read and write management events: {}",
                    failures.join("; ")
                ),
            )
        }
    };
    out.findings.push(multi);

    // CloudTrail.2 and CloudTrail.4, per trail.
    for row in &rows {
        let resource = row.resource();
        let encryption = if row.kms_key_id.is_empty() {
            (
                Status::Fail,
                "log files are not encrypted with a KMS key (SSE-S3 only)".to_string(),
            )
        } else {
            (
                Status::Pass,
                format!("log files encrypted with {}", row.kms_key_id),
            )
        };
        out.findings.push(account_finding(
            account_id,
            CLOUDTRAIL_ENCRYPTION,
            &resource,
            encryption.0,
            encryption.1,
        ));
        let validation = match row.log_file_validation {
            Some(true) => (Status::Pass, "log file validation enabled".to_string()),
            Some(false) => (
                Status::Fail,
                "log file validation disabled: changes to log files would go unnoticed".to_string(),
            ),
            None => (
                Status::EvidenceGap,
                "DescribeTrails did not report LogFileValidationEnabled".to_string(),
            ),
        };
        out.findings.push(account_finding(
            account_id,
            CLOUDTRAIL_LOG_VALIDATION,
            &resource,
            validation.0,
            validation.1,
        ));
    }
    // Trails of a region whose trail list is missing are unknown: the rows above cover the
    // trails that were seen, this row says others may exist.
    if rows.is_empty() || evidence_incomplete {
        let (status, reason) = if !rows.is_empty() {
            (
                Status::EvidenceGap,
                format!(
                    "other trails may exist that could not be listed: {}",
                    incomplete_reason()
                ),
            )
        } else if evidence_incomplete {
            (Status::EvidenceGap, incomplete_reason())
        } else {
            (
                Status::NoResources,
                "no trails (see cloudtrail-multi-region)".to_string(),
            )
        };
        for control in [
            CLOUDTRAIL_ENCRYPTION,
            CLOUDTRAIL_LOG_VALIDATION,
            CLOUDTRAIL_CONTINUITY,
        ] {
            out.findings.push(account_finding(
                account_id,
                control,
                "(account)",
                status,
                reason.clone(),
            ));
        }
    }

    // Continuity: rebuild each trail's logging state from the period's events.
    let lookup_gaps: Vec<&EvidenceGap> = all_gaps
        .iter()
        .filter(|g| {
            g.account_id == account_id && g.service == "cloudtrail" && g.api == "LookupEvents"
        })
        .collect();
    for (trail, row) in trails.iter().zip(&rows) {
        let gaps = logging_gaps(account_id, trail, row, period, &out.changes);
        let resource = row.resource();
        let finding = if !gaps.is_empty() {
            let text: Vec<String> = gaps
                .iter()
                .map(|g| {
                    format!(
                        "{} from {} to {} ({})",
                        g.cause,
                        g.started_at.display_utc(),
                        g.ended_at
                            .map(|t| t.display_utc())
                            .unwrap_or_else(|| "the end of the period".to_string()),
                        g.duration_text()
                    )
                })
                .collect();
            account_finding(
                account_id,
                CLOUDTRAIL_CONTINUITY,
                &resource,
                Status::Fail,
                format!("logging gap: {}", text.join("; ")),
            )
        } else if row.is_logging.is_none() {
            // Without the status, a trail stopped before the period and never restarted
            // leaves no event in the period: continuity cannot be told.
            let status_gaps: Vec<&EvidenceGap> = all_gaps
                .iter()
                .filter(|g| {
                    g.account_id == account_id
                        && g.api == "GetTrailStatus"
                        && g.resource.as_deref().is_some_and(|r| names_trail(r, row))
                })
                .collect();
            let why = if status_gaps.is_empty() {
                "GetTrailStatus did not report IsLogging".to_string()
            } else {
                describe_gaps(&status_gaps)
            };
            account_finding(
                account_id,
                CLOUDTRAIL_CONTINUITY,
                &resource,
                Status::EvidenceGap,
                format!(
                    "whether the trail was logging at the start of the period is unknown ({why})"
                ),
            )
        } else if let Some(why) = unexplained_stop(trail, row, period) {
            account_finding(
                account_id,
                CLOUDTRAIL_CONTINUITY,
                &resource,
                Status::EvidenceGap,
                why,
            )
        } else if !lookup_gaps.is_empty() || !missing_regions.is_empty() {
            let mut reason = describe_gaps(&lookup_gaps);
            if reason.is_empty() {
                reason = incomplete_reason();
            }
            account_finding(
                account_id,
                CLOUDTRAIL_CONTINUITY,
                &resource,
                Status::EvidenceGap,
                format!("the period's CloudTrail events are incomplete ({reason})"),
            )
        } else {
            account_finding(
                account_id,
                CLOUDTRAIL_CONTINUITY,
                &resource,
                Status::Pass,
                "logging throughout the period: no StopLogging or DeleteTrail took effect"
                    .to_string(),
            )
        };
        out.findings.push(finding);
        out.logging_gaps.extend(gaps);
    }
    out.trails.extend(rows);
}

/// A trail found not logging whose stop no event of the period explains, and whose status
/// does not date it before or after the period: when it stopped is unknown, so continuity
/// during the period cannot be told.
fn unexplained_stop(trail: &TrailEvidence, row: &TrailRow, period: &Period) -> Option<String> {
    if row.is_logging != Some(false) {
        return None;
    }
    match trail.status.as_ref().and_then(|s| s.stop_logging_time) {
        None => Some(
            "the trail is not logging, and neither GetTrailStatus (StopLoggingTime) nor the period's events tell when it stopped"
                .to_string(),
        ),
        Some(at) if period.contains(at) => Some(format!(
            "the trail stopped logging at {} (GetTrailStatus StopLoggingTime), but no StopLogging event of the period was found",
            at.display_utc()
        )),
        Some(_) => None,
    }
}

fn names_trail(resource: &str, row: &TrailRow) -> bool {
    resource == row.trail_name
        || (!row.trail_arn.is_empty() && resource == row.trail_arn)
        || resource
            .rsplit_once(":trail/")
            .is_some_and(|(_, name)| name == row.trail_name)
}

/// Logging gaps of one trail within the period, from effective StopLogging / StartLogging /
/// DeleteTrail events and, when no event explains it, the trail status at collection.
pub fn logging_gaps(
    account_id: &str,
    trail: &TrailEvidence,
    row: &TrailRow,
    period: &Period,
    changes: &[super::ChangeRow],
) -> Vec<LoggingGap> {
    let mut events: Vec<&super::ChangeRow> = changes
        .iter()
        .filter(|c| {
            c.account_id == account_id
                && c.took_effect()
                && continuity_role(&c.event_source, &c.event_name).is_some()
                && names_trail(&c.resource, row)
        })
        .collect();
    events.sort_by_key(|c| c.event_time);
    let region = if row.home_region.is_empty() {
        "unknown".to_string()
    } else {
        row.home_region.clone()
    };
    let new_gap = |started_at: Timestamp, started_by: String, cause: &str| LoggingGap {
        account_id: account_id.to_string(),
        region: region.clone(),
        trail_name: row.trail_name.clone(),
        started_at,
        started_by,
        cause: cause.to_string(),
        ended_at: None,
        ended_by: String::new(),
        minutes: 0,
    };

    let mut gaps = Vec::new();
    let mut open: Option<LoggingGap> = None;
    // A StartLogging first means the trail was off when the period began.
    let stopped_before = trail
        .status
        .as_ref()
        .and_then(|s| s.stop_logging_time)
        .is_some_and(|t| t < period.start);
    let resumes = |c: &super::ChangeRow| {
        continuity_role(&c.event_source, &c.event_name) == Some(Continuity::Resumes)
    };
    match events.first() {
        Some(first) if resumes(first) => {
            open = Some(new_gap(
                period.start,
                String::new(),
                "stopped before the period",
            ));
        }
        None if row.is_logging == Some(false) && stopped_before => {
            open = Some(new_gap(
                period.start,
                String::new(),
                "stopped before the period",
            ));
        }
        _ => {}
    }
    for event in events {
        match (resumes(event), open.take()) {
            (true, Some(mut gap)) => {
                gap.ended_at = Some(event.event_time);
                gap.ended_by = event.actor.clone();
                gaps.push(gap);
            }
            (true, None) => {}
            (false, Some(gap)) => open = Some(gap),
            (false, None) => {
                open = Some(new_gap(
                    event.event_time,
                    event.actor.clone(),
                    &event.event_name,
                ))
            }
        }
    }
    if let Some(gap) = open {
        gaps.push(gap);
    }
    for gap in &mut gaps {
        let end = gap.ended_at.unwrap_or(period.end).min(period.end);
        gap.minutes = (end.0 - gap.started_at.0).num_minutes().max(0);
    }
    gaps
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controls::{ChangeClass, ChangeRow};
    use crate::evidence::{CloudTrailEvidence, TrailStatus};
    use serde_json::json;

    fn period() -> Period {
        Period {
            start: Timestamp::parse("2026-10-01T00:00:00Z").unwrap(),
            end: Timestamp::parse("2026-11-01T00:00:00Z").unwrap(),
        }
    }

    fn trail(
        multi: bool,
        validation: bool,
        kms: bool,
        logging: bool,
        selectors: serde_json::Value,
    ) -> TrailEvidence {
        let mut t = json!({"trail": {"Name": "main", "TrailARN": "arn:aws:cloudtrail:eu-central-1:111111111111:trail/main",
            "HomeRegion": "eu-central-1", "IsMultiRegionTrail": multi, "LogFileValidationEnabled": validation},
            "status": {"IsLogging": logging}, "event_selectors": selectors});
        if kms {
            t["trail"]["KmsKeyId"] = json!("arn:aws:kms:eu-central-1:111111111111:key/k1");
        }
        serde_json::from_value(t).unwrap()
    }

    fn all_events() -> serde_json::Value {
        json!({"EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": true}]})
    }

    fn run(trails: Vec<TrailEvidence>, changes: Vec<ChangeRow>) -> Evaluation {
        let region: RegionEvidence =
            serde_json::from_value(json!({"region": "eu-central-1"})).unwrap();
        let mut region = region;
        region.cloudtrail = Some(CloudTrailEvidence {
            trails,
            events: vec![],
            lookup_queries: vec![],
            events_after_period: Vec::new(),
            events_until: None,
            extra: Default::default(),
        });
        let gaps = Vec::new();
        let scope = RegionScope::new("111111111111", "eu-central-1", &gaps);
        let mut out = Evaluation {
            changes,
            ..Default::default()
        };
        evaluate_account(
            "111111111111",
            &[(scope, Some(&region))],
            &period(),
            &gaps,
            &mut out,
        );
        out
    }

    fn status(out: &Evaluation, control: &str) -> Status {
        out.findings
            .iter()
            .find(|f| f.control_id == control)
            .unwrap()
            .status
    }

    #[test]
    fn a_trail_without_its_logging_status_is_a_continuity_gap() {
        let mut t = trail(true, true, true, true, all_events());
        t.status = None;
        let out = run(vec![t], vec![]);
        assert_eq!(status(&out, CLOUDTRAIL_CONTINUITY), Status::EvidenceGap);
        assert_eq!(status(&out, CLOUDTRAIL_MULTI_REGION), Status::EvidenceGap);
        let mut t = trail(true, true, true, true, all_events());
        t.status.as_mut().unwrap().is_logging = None;
        let out = run(vec![t], vec![]);
        assert_eq!(status(&out, CLOUDTRAIL_CONTINUITY), Status::EvidenceGap);
    }

    #[test]
    fn a_stop_no_event_or_status_dates_is_a_continuity_gap() {
        let stopped = |stop: Option<&str>| {
            let mut t = trail(true, true, true, false, all_events());
            t.status.as_mut().unwrap().stop_logging_time =
                stop.map(|at| Timestamp::parse(at).unwrap());
            status(&run(vec![t], vec![]), CLOUDTRAIL_CONTINUITY)
        };
        assert_eq!(
            stopped(None),
            Status::EvidenceGap,
            "never started, or stop time unknown"
        );
        assert_eq!(
            stopped(Some("2026-10-12T08:00:00Z")),
            Status::EvidenceGap,
            "a stop in the period without its event"
        );
        assert_eq!(
            stopped(Some("2026-09-20T08:00:00Z")),
            Status::Fail,
            "stopped before the period"
        );
        assert_eq!(
            stopped(Some("2026-11-01T03:00:00Z")),
            Status::Pass,
            "stopped after the period"
        );
    }

    #[test]
    fn an_unreported_multi_region_flag_is_a_gap_but_not_logging_still_fails() {
        let mut t = trail(true, true, true, true, all_events());
        t.trail.is_multi_region_trail = None;
        let out = run(vec![t], vec![]);
        assert_eq!(status(&out, CLOUDTRAIL_MULTI_REGION), Status::EvidenceGap);
        let mut t = trail(true, true, true, false, all_events());
        t.trail.is_multi_region_trail = None;
        let out = run(vec![t], vec![]);
        assert_eq!(status(&out, CLOUDTRAIL_MULTI_REGION), Status::Fail);
    }

    #[test]
    fn compliant_multi_region_trail_passes_all_posture_controls() {
        let out = run(vec![trail(true, true, true, true, all_events())], vec![]);
        for control in [
            CLOUDTRAIL_MULTI_REGION,
            CLOUDTRAIL_ENCRYPTION,
            CLOUDTRAIL_LOG_VALIDATION,
            CLOUDTRAIL_CONTINUITY,
        ] {
            assert_eq!(status(&out, control), Status::Pass, "{control}");
        }
    }

    #[test]
    fn no_trail_at_all_fails_multi_region() {
        let out = run(vec![], vec![]);
        assert_eq!(status(&out, CLOUDTRAIL_MULTI_REGION), Status::Fail);
        assert_eq!(status(&out, CLOUDTRAIL_ENCRYPTION), Status::NoResources);
    }

    #[test]
    fn single_region_or_write_only_or_stopped_trails_fail_multi_region() {
        let out = run(vec![trail(false, true, true, true, all_events())], vec![]);
        assert_eq!(status(&out, CLOUDTRAIL_MULTI_REGION), Status::Fail);
        let write_only = json!({"EventSelectors": [{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": true}]});
        let out = run(vec![trail(true, true, true, true, write_only)], vec![]);
        assert_eq!(status(&out, CLOUDTRAIL_MULTI_REGION), Status::Fail);
        let out = run(vec![trail(true, true, true, false, all_events())], vec![]);
        let finding = out
            .findings
            .iter()
            .find(|f| f.control_id == CLOUDTRAIL_MULTI_REGION)
            .unwrap();
        assert_eq!(finding.status, Status::Fail);
        assert!(finding.reason.contains("not logging"));
    }

    #[test]
    fn missing_selectors_are_a_gap_not_a_pass() {
        let mut t = trail(true, true, true, true, all_events());
        t.event_selectors = None;
        let out = run(vec![t], vec![]);
        assert_eq!(status(&out, CLOUDTRAIL_MULTI_REGION), Status::EvidenceGap);
    }

    #[test]
    fn validation_and_encryption_off_fail() {
        let out = run(vec![trail(true, false, false, true, all_events())], vec![]);
        assert_eq!(status(&out, CLOUDTRAIL_LOG_VALIDATION), Status::Fail);
        assert_eq!(status(&out, CLOUDTRAIL_ENCRYPTION), Status::Fail);
    }

    #[test]
    fn advanced_selectors_and_kms_exclusion_are_read() {
        let selectors: EventSelectors =
            serde_json::from_value(json!({"AdvancedEventSelectors": [{"FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Management"]},
            {"Field": "eventSource", "NotEquals": ["kms.amazonaws.com"]}]}]}))
            .unwrap();
        let reading = management_coverage(Some(&selectors));
        assert_eq!(reading.coverage, ManagementCoverage::ReadWrite);
        assert!(reading.excludes_kms());
        let write_only: EventSelectors = serde_json::from_value(json!({"AdvancedEventSelectors": [{"FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Management"]}, {"Field": "readOnly", "Equals": ["false"]}]}]})).unwrap();
        assert_eq!(
            management_coverage(Some(&write_only)).coverage,
            ManagementCoverage::WriteOnly
        );
        let classic: EventSelectors = serde_json::from_value(json!({"EventSelectors": [{"ReadWriteType": "All",
            "IncludeManagementEvents": true, "ExcludeManagementEventSources": ["kms.amazonaws.com"]}]})).unwrap();
        let reading = management_coverage(Some(&classic));
        assert_eq!(reading.coverage, ManagementCoverage::ReadWrite);
        assert_eq!(reading.excluded_sources, ["kms.amazonaws.com"]);
    }

    /// CloudTrail.1 / `multi-region-cloudtrail-enabled`: NON_COMPLIANT when
    /// ExcludeManagementEventSources is not empty, classic or advanced, KMS or RDS Data API.
    #[test]
    fn a_trail_excluding_a_management_event_source_fails_multi_region() {
        for selectors in [
            json!({"EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": true,
                "ExcludeManagementEventSources": ["kms.amazonaws.com"]}]}),
            json!({"EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": true,
                "ExcludeManagementEventSources": ["rdsdata.amazonaws.com"]}]}),
            json!({"AdvancedEventSelectors": [{"FieldSelectors": [
                {"Field": "eventCategory", "Equals": ["Management"]},
                {"Field": "eventSource", "NotEquals": ["rdsdata.amazonaws.com"]}]}]}),
            json!({"AdvancedEventSelectors": [{"FieldSelectors": [
                {"Field": "eventCategory", "Equals": ["Management"]},
                {"Field": "eventSource", "NotEquals": ["kms.amazonaws.com"]}]}]}),
        ] {
            let out = run(
                vec![trail(true, true, true, true, selectors.clone())],
                vec![],
            );
            let finding = out
                .findings
                .iter()
                .find(|f| f.control_id == CLOUDTRAIL_MULTI_REGION)
                .unwrap();
            assert_eq!(finding.status, Status::Fail, "{selectors}");
            assert!(finding.reason.contains("excluded"), "{}", finding.reason);
        }
    }

    fn change(name: &str, at: &str, error: &str) -> ChangeRow {
        ChangeRow {
            event_time: Timestamp::parse(at).unwrap(),
            account_id: "111111111111".into(),
            region: "eu-central-1".into(),
            event_source: "cloudtrail.amazonaws.com".into(),
            event_name: name.into(),
            event_id: at.into(),
            actor: "arn:aws:iam::111111111111:user/ops".into(),
            actor_type: "IAMUser".into(),
            invoked_by: String::new(),
            session_issuer: String::new(),
            source_ip: String::new(),
            user_agent: String::new(),
            resource: "arn:aws:cloudtrail:eu-central-1:111111111111:trail/main".into(),
            request_summary: String::new(),
            error_code: error.into(),
            error_message: String::new(),
            classification: ChangeClass::Neutral,
            classification_reason: String::new(),
        }
    }

    #[test]
    fn stop_then_start_is_a_gap_with_start_and_end() {
        let changes = vec![
            change("StopLogging", "2026-10-12T22:00:00Z", ""),
            change("StartLogging", "2026-10-13T01:30:00Z", ""),
        ];
        let out = run(vec![trail(true, true, true, true, all_events())], changes);
        assert_eq!(out.logging_gaps.len(), 1);
        let gap = &out.logging_gaps[0];
        assert_eq!(gap.ended_at, Timestamp::parse("2026-10-13T01:30:00Z"));
        assert_eq!(gap.duration_text(), "3 h 30 min");
        assert_eq!(status(&out, CLOUDTRAIL_CONTINUITY), Status::Fail);
    }

    #[test]
    fn failed_stop_logging_opens_no_gap_and_unresumed_stop_runs_to_period_end() {
        let out = run(
            vec![trail(true, true, true, true, all_events())],
            vec![change(
                "StopLogging",
                "2026-10-12T22:00:00Z",
                "AccessDenied",
            )],
        );
        assert!(out.logging_gaps.is_empty());
        assert_eq!(status(&out, CLOUDTRAIL_CONTINUITY), Status::Pass);
        let out = run(
            vec![trail(true, true, true, false, all_events())],
            vec![change("StopLogging", "2026-10-31T23:00:00Z", "")],
        );
        assert_eq!(out.logging_gaps[0].ended_at, None);
        assert_eq!(out.logging_gaps[0].minutes, 60);
    }

    #[test]
    fn trail_stopped_before_the_period_is_a_gap_from_period_start() {
        let mut t = trail(true, true, true, false, all_events());
        t.status = Some(TrailStatus {
            is_logging: Some(false),
            start_logging_time: None,
            stop_logging_time: Timestamp::parse("2026-09-20T00:00:00Z"),
            latest_delivery_time: None,
            latest_delivery_error: None,
            extra: Default::default(),
        });
        let out = run(vec![t], vec![]);
        assert_eq!(out.logging_gaps[0].started_at, period().start);
        assert_eq!(out.logging_gaps[0].cause, "stopped before the period");
    }
}
