//! `cloudtrail-cloudwatch-logs` (Security Hub CloudTrail.5; AWS Config
//! `cloud-trail-cloud-watch-logs-enabled`, `cw-loggroup-retention-period-check`,
//! `cloudwatch-log-group-encrypted`): each counted trail also delivers its events to a
//! CloudWatch Logs group. The lenient (Security Hub) reading asks only that the trail names a
//! log group; the strict (AWS Config) reading also asks that CloudTrail delivered to it
//! recently, that the group exists, keeps its events at least the policy's
//! `min_log_retention_days` (or never expires them) and is encrypted with a KMS key. Judged over
//! the period: the trail's `CloudWatchLogsLogGroupArn` is replayed from CreateTrail and
//! UpdateTrail, the group's settings from the CloudWatch Logs events (`log_group_change`, read
//! by the period rule in `history` and by the classifier in `events`). docs/controls.md
//! "cloudtrail-cloudwatch-logs" gives each rule its source.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::catalog::CLOUDTRAIL_CLOUDWATCH_LOGS;
use super::events::LOGS;
use super::history::RegionHistory;
use super::period::{Coverage, History, NewValue, Replay};
use super::{ALL_REGIONS, Evaluation, Finding, Status, View};
use crate::evidence::{EvidenceSnapshot, LogGroupAnswer, Period, Timestamp, TrailEvidence};

/// A log group named by its ARN: `arn:PARTITION:logs:REGION:ACCOUNT:log-group:NAME[:*]`
/// (CloudWatch Logs resource ARNs; log group names cannot hold a colon).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogGroupRef {
    pub region: String,
    pub account_id: String,
    pub name: String,
}

impl LogGroupRef {
    pub fn parse(arn: &str) -> Option<Self> {
        let parts: Vec<&str> = arn.split(':').collect();
        match parts.as_slice() {
            [
                "arn",
                _,
                "logs",
                region,
                account,
                "log-group",
                name,
                rest @ ..,
            ] if !name.is_empty() && rest.iter().all(|r| *r == "*") && rest.len() <= 1 => {
                Some(LogGroupRef {
                    region: region.to_string(),
                    account_id: account.to_string(),
                    name: name.to_string(),
                })
            }
            _ => None,
        }
    }
}

/// How long a log group keeps its events. Written as a scalar (`"never_expire"` or the
/// days), so that the replay can mark it unknown as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "Value", try_from = "Value")]
pub enum Retention {
    /// No retention policy: events never expire.
    NeverExpire,
    Days(i64),
}

const NEVER_EXPIRE: &str = "never_expire";

impl From<Retention> for Value {
    fn from(retention: Retention) -> Value {
        match retention {
            Retention::NeverExpire => Value::String(NEVER_EXPIRE.to_string()),
            Retention::Days(days) => Value::from(days),
        }
    }
}

impl TryFrom<Value> for Retention {
    type Error = String;

    fn try_from(value: Value) -> Result<Self, String> {
        match &value {
            Value::String(text) if text == NEVER_EXPIRE => Ok(Retention::NeverExpire),
            _ => value
                .as_i64()
                .map(Retention::Days)
                .ok_or_else(|| format!("{value} is not a retention")),
        }
    }
}

impl Retention {
    fn of(retention_in_days: Option<i64>) -> Self {
        retention_in_days.map_or(Retention::NeverExpire, Retention::Days)
    }

    fn text(self) -> String {
        match self {
            Retention::NeverExpire => "never expire".to_string(),
            Retention::Days(days) => format!("kept {days} days"),
        }
    }
}

/// What the control judges of one trail, in the form the period rule replays: the trail's
/// log group ARN (`""`: none), and the settings of the log group it names. A missing field is
/// unknown.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LogDelivery {
    /// DescribeTrails `CloudWatchLogsLogGroupArn` (the same field of `TrailSettings`).
    pub log_group_arn: Option<String>,
    /// GetTrailStatus `IsLogging` (the same field of `TrailSettings`): a trail that does not
    /// log delivers nothing to its group.
    pub is_logging: Option<bool>,
    /// The log group exists (DescribeLogGroups lists it).
    pub exists: Option<bool>,
    pub retention: Option<Retention>,
    /// The group's `kmsKeyId`; `""`: no KMS key.
    pub kms_key_id: Option<String>,
}

/// The field names the replay sets.
pub mod field {
    pub const LOG_GROUP_ARN: &str = "log_group_arn";
    pub const IS_LOGGING: &str = "is_logging";
    pub const EXISTS: &str = "exists";
    pub const RETENTION: &str = "retention";
    pub const KMS_KEY_ID: &str = "kms_key_id";
}

/// What one CloudWatch Logs event did to a log group: the group's name (`None` when the
/// record names none: every group is in doubt) and the settings it set (an unreadable value
/// is `NewValue::Unknown`).
pub struct LogGroupChange {
    pub group: Option<String>,
    pub effects: Vec<(&'static str, NewValue)>,
}

/// The log group an event names: `logGroupName`, or a log group ARN in `resourceIdentifier`
/// (AssociateKmsKey / DisassociateKmsKey, CloudWatch Logs API Reference).
fn named_group(params: Option<&Value>) -> Option<Option<String>> {
    // A record without request parameters (unreadable, or null) names no group.
    let Some(params) = params else {
        return Some(None);
    };
    if let Some(name) = params.get("logGroupName").and_then(Value::as_str) {
        return Some(Some(name.to_string()));
    }
    match params.get("resourceIdentifier").and_then(Value::as_str) {
        Some(identifier) if identifier.contains(":query-result:") => None,
        Some(identifier) => Some(LogGroupRef::parse(identifier).map(|g| g.name)),
        None => Some(None),
    }
}

/// The settings a CloudWatch Logs write event sets on a log group (CloudWatch Logs API
/// Reference: CreateLogGroup, DeleteLogGroup, PutRetentionPolicy, DeleteRetentionPolicy,
/// AssociateKmsKey, DisassociateKmsKey).
pub fn log_group_change(event_name: &str, params: Option<&Value>) -> Option<LogGroupChange> {
    let unreadable = |what: &str| NewValue::Unknown(format!("the record does not give {what}"));
    let effects = match event_name {
        "CreateLogGroup" => {
            let key = params
                .and_then(|p| p.get("kmsKeyId"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            vec![
                (field::EXISTS, NewValue::Set(json!(true))),
                (
                    field::RETENTION,
                    NewValue::Set(json!(Retention::NeverExpire)),
                ),
                (field::KMS_KEY_ID, NewValue::Set(json!(key))),
            ]
        }
        "DeleteLogGroup" => vec![(field::EXISTS, NewValue::Set(json!(false)))],
        "PutRetentionPolicy" => {
            let days = params
                .and_then(|p| p.get("retentionInDays"))
                .and_then(|d| d.as_i64().or_else(|| d.as_str()?.parse().ok()));
            vec![(
                field::RETENTION,
                days.map_or_else(
                    || unreadable("retentionInDays"),
                    |d| NewValue::Set(json!(Retention::Days(d))),
                ),
            )]
        }
        "DeleteRetentionPolicy" => vec![(
            field::RETENTION,
            NewValue::Set(json!(Retention::NeverExpire)),
        )],
        "AssociateKmsKey" => {
            let key = params
                .and_then(|p| p.get("kmsKeyId"))
                .and_then(Value::as_str)
                .filter(|k| !k.is_empty());
            vec![(
                field::KMS_KEY_ID,
                key.map_or_else(|| unreadable("kmsKeyId"), |k| NewValue::Set(json!(k))),
            )]
        }
        "DisassociateKmsKey" => vec![(field::KMS_KEY_ID, NewValue::Set(json!("")))],
        _ => return None,
    };
    let group = named_group(params)?;
    Some(LogGroupChange { group, effects })
}

/// Where the trail's log group evidence is: the copy of the trail read with its owner's
/// credentials in its home region (an organization trail seen from a member account is read
/// in the management account).
fn collected_group<'s>(
    snapshot: &'s EvidenceSnapshot,
    trail: &'s TrailEvidence,
) -> Option<&'s LogGroupAnswer> {
    if trail.log_group.is_some() {
        return trail.log_group.as_ref();
    }
    let arn = trail.trail.trail_arn.as_deref()?;
    snapshot
        .accounts
        .iter()
        .flat_map(|a| a.regions.iter().chain(&a.trail_home_regions))
        .filter_map(|r| r.cloudtrail.as_ref())
        .flat_map(|c| &c.trails)
        .find(|t| t.trail.trail_arn.as_deref() == Some(arn) && t.log_group.is_some())
        .and_then(|t| t.log_group.as_ref())
}

/// The trail's delivery as collected; `why_unknown` says why the group's settings are not
/// known when they are not.
fn collected_delivery(
    snapshot: &EvidenceSnapshot,
    trail: &TrailEvidence,
) -> (LogDelivery, Option<String>) {
    let arn = trail
        .trail
        .cloud_watch_logs_log_group_arn
        .clone()
        .unwrap_or_default();
    let mut delivery = LogDelivery {
        log_group_arn: Some(arn.clone()),
        is_logging: trail.status.as_ref().and_then(|s| s.is_logging),
        ..LogDelivery::default()
    };
    if arn.is_empty() {
        return (delivery, None);
    }
    let why = match collected_group(snapshot, trail) {
        Some(LogGroupAnswer::Found(group)) => {
            delivery.exists = Some(true);
            delivery.retention = Some(Retention::of(group.retention_in_days));
            delivery.kms_key_id = Some(group.kms_key_id.clone().unwrap_or_default());
            None
        }
        Some(LogGroupAnswer::NotFound) => {
            delivery.exists = Some(false);
            None
        }
        Some(LogGroupAnswer::Failed(error)) => Some(format!(
            "DescribeLogGroups failed: {}{}",
            error.code,
            error
                .message
                .as_deref()
                .map(|m| format!(" ({m})"))
                .unwrap_or_default()
        )),
        None => Some(match LogGroupRef::parse(&arn) {
            Some(group) => format!(
                "the log group is in account {} region {}, whose CloudWatch Logs were not read",
                group.account_id, group.region
            ),
            None => format!("{arn} is not a log group ARN"),
        }),
    };
    (delivery, why)
}

/// The trail table's retention and key columns for the trail's log group, as collected.
pub fn group_columns(trail: &TrailEvidence) -> (String, String) {
    let has_group = trail
        .trail
        .cloud_watch_logs_log_group_arn
        .as_deref()
        .is_some_and(|arn| !arn.is_empty());
    if !has_group {
        return (String::new(), String::new());
    }
    match &trail.log_group {
        Some(LogGroupAnswer::Found(group)) => (
            group
                .retention_in_days
                .map_or("never expire".to_string(), |days| format!("{days} days")),
            group
                .kms_key_id
                .clone()
                .unwrap_or_else(|| "none".to_string()),
        ),
        Some(LogGroupAnswer::NotFound) => ("not found".to_string(), "not found".to_string()),
        Some(LogGroupAnswer::Failed(error)) => {
            let text = format!("not read ({})", error.code);
            (text.clone(), text)
        }
        None => ("not read".to_string(), "not read".to_string()),
    }
}

/// One version of the trail's delivery judged in both readings. `collected_arn` is the log
/// group whose settings the evidence holds; `why_unknown` why they are not known.
fn judge(
    delivery: &LogDelivery,
    collected_arn: &str,
    why_unknown: Option<&str>,
    min_days: u32,
) -> [(View, Status, String); 2] {
    let lenient = match delivery.log_group_arn.as_deref() {
        None => (
            Status::EvidenceGap,
            "whether the trail delivered to a CloudWatch Logs group is unknown".to_string(),
        ),
        Some("") => (
            Status::Fail,
            "the trail delivers to no CloudWatch Logs group (CloudWatchLogsLogGroupArn empty)"
                .to_string(),
        ),
        Some(arn) => (
            Status::Pass,
            format!("delivers to log group {}", group_name(arn)),
        ),
    };
    let strict = match delivery.log_group_arn.as_deref() {
        Some(arn) if !arn.is_empty() => {
            judge_group(delivery, arn, collected_arn, why_unknown, min_days)
        }
        _ => lenient.clone(),
    };
    [
        (View::SecurityHub, lenient.0, lenient.1),
        (View::AwsConfig, strict.0, strict.1),
    ]
}

fn group_name(arn: &str) -> String {
    LogGroupRef::parse(arn).map_or_else(|| arn.to_string(), |g| g.name)
}

fn judge_group(
    delivery: &LogDelivery,
    arn: &str,
    collected_arn: &str,
    why_unknown: Option<&str>,
    min_days: u32,
) -> (Status, String) {
    let name = group_name(arn);
    if arn != collected_arn {
        return (
            Status::EvidenceGap,
            format!(
                "the trail then delivered to log group {name}, whose retention and key were not collected"
            ),
        );
    }
    let mut fails = Vec::new();
    let mut unknown = Vec::new();
    match delivery.is_logging {
        Some(false) => fails.push(
            "the trail was not logging: nothing was delivered to CloudWatch Logs".to_string(),
        ),
        Some(true) => {}
        None => unknown.push("whether the trail was logging is unknown".to_string()),
    }
    match delivery.exists {
        Some(false) => fails.push(format!(
            "log group {name} does not exist: CloudTrail cannot deliver to it"
        )),
        Some(true) => {}
        None => unknown.push(format!("whether log group {name} existed is unknown")),
    }
    if delivery.exists != Some(false) {
        match delivery.retention {
            Some(Retention::Days(days)) if days < i64::from(min_days) => fails.push(format!(
                "log group {name} keeps events {days} days, less than the policy's {min_days}"
            )),
            Some(_) => {}
            None => unknown.push(format!("the retention of log group {name} is unknown")),
        }
        match delivery.kms_key_id.as_deref() {
            Some("") => fails.push(format!("log group {name} is not encrypted with a KMS key")),
            Some(_) => {}
            None => unknown.push(format!("the KMS key of log group {name} is unknown")),
        }
    }
    if !fails.is_empty() {
        return (Status::Fail, fails.join("; "));
    }
    if !unknown.is_empty() {
        let mut reason = unknown.join("; ");
        if let Some(why) = why_unknown {
            reason.push_str(&format!(": {why}"));
        }
        return (Status::EvidenceGap, reason);
    }
    let retention = delivery.retention.map(Retention::text).unwrap_or_default();
    let key = delivery.kms_key_id.clone().unwrap_or_default();
    (
        Status::Pass,
        format!("delivers to log group {name} ({retention}, encrypted with KMS key {key})"),
    )
}

/// When CloudTrail stopped delivering to the trail's current log group, from GetTrailStatus
/// (`LatestCloudWatchLogsDeliveryTime`, `LatestCloudWatchLogsDeliveryError`): `Some((since,
/// why))` when the most recent delivery is older than the policy's `max_delivery_age_hours`
/// before collection, or failed, and that falls inside the period (the Config rule's
/// `expectedDeliveryWindowAge`). `Err` when the status was not read.
fn delivery_failure(
    trail: &TrailEvidence,
    max_age_hours: u32,
    collected_at: Timestamp,
    period: &Period,
) -> Result<Option<(Timestamp, String)>, String> {
    let Some(status) = &trail.status else {
        return Err(
            "GetTrailStatus was not read: whether CloudTrail delivered to the log group is unknown"
                .to_string(),
        );
    };
    let latest = status.latest_cloud_watch_logs_delivery_time;
    let since_text = |at: Option<Timestamp>| {
        at.map_or("the start of the period".to_string(), |t| t.display_utc())
    };
    let failed = if let Some(error) = status
        .latest_cloud_watch_logs_delivery_error
        .as_deref()
        .filter(|e| !e.is_empty())
    {
        Some(format!(
            "CloudTrail reports LatestCloudWatchLogsDeliveryError {error}; last successful delivery {}",
            since_text(latest)
        ))
    } else {
        match latest {
            None => Some(
                "GetTrailStatus reports no delivery to CloudWatch Logs (no LatestCloudWatchLogsDeliveryTime)"
                    .to_string(),
            ),
            Some(last) if (collected_at.0 - last.0).num_hours() >= i64::from(max_age_hours) => {
                Some(format!(
                    "no delivery to CloudWatch Logs for more than the policy's {max_age_hours} h before collection ({}); last at {}",
                    collected_at.display_utc(),
                    last.display_utc()
                ))
            }
            Some(_) => None,
        }
    };
    Ok(failed.and_then(|why| {
        let since = latest.map_or(period.start, |l| l.max(period.start));
        (since < period.end).then_some((since, why))
    }))
}

fn finding(
    account_id: &str,
    resource: &str,
    view: View,
    status: Status,
    reason: String,
) -> Finding {
    Finding::new(
        CLOUDTRAIL_CLOUDWATCH_LOGS,
        account_id,
        ALL_REGIONS,
        resource,
        Some(view),
        status,
        reason,
    )
}

/// The rows of an account without a trail to judge, or whose trails could not all be listed.
pub fn account_rows(account_id: &str, status: Status, reason: &str) -> Vec<Finding> {
    View::BOTH
        .into_iter()
        .map(|view| finding(account_id, "(account)", view, status, reason.to_string()))
        .collect()
}

/// One counted trail, as `cloudtrail::evaluate_account` judged it.
pub struct JudgedDelivery<'a> {
    pub trail: &'a TrailEvidence,
    pub resource: String,
    /// The trail's own history (its `log_group_arn` and `is_logging` effects, and events that
    /// cannot be read).
    pub trail_history: &'a History,
    pub coverage: Coverage,
    /// The owner account and home region, where the log group and its events are.
    pub owner: &'a str,
    pub home_region: &'a str,
}

/// The findings of one trail, both readings, over the period.
pub fn evaluate_trail(
    account_id: &str,
    judged: &JudgedDelivery,
    snapshot: &EvidenceSnapshot,
    histories: &std::collections::BTreeMap<(String, String), RegionHistory>,
    out: &mut Evaluation,
) {
    let policy = &snapshot.policy;
    let min_days = policy.min_log_retention_days();
    let (collected, why_unknown) = collected_delivery(snapshot, judged.trail);
    let collected_arn = collected.log_group_arn.clone().unwrap_or_default();
    let mut history = History {
        effects: judged
            .trail_history
            .effects
            .iter()
            .filter(|e| {
                e.field.is_empty()
                    || e.field == [field::LOG_GROUP_ARN]
                    || e.field == [field::IS_LOGGING]
            })
            .cloned()
            .collect(),
        created: judged.trail_history.created.clone(),
        deleted: judged.trail_history.deleted.clone(),
    };
    // The group's events are recorded in its own region and account; whether they were all
    // read decides what its replayed settings prove.
    let mut group_coverage = Coverage::Complete;
    if let Some(group) = LogGroupRef::parse(&collected_arn) {
        match histories.get(&(group.account_id.clone(), group.region.clone())) {
            Some(region_history) => {
                history
                    .effects
                    .extend(region_history.log_group(&group.name).effects);
                group_coverage = region_history.coverage_of(LOGS);
            }
            None => {
                group_coverage = Coverage::Missing(format!(
                    "the CloudWatch Logs events of account {} region {} were not collected",
                    group.account_id, group.region
                ))
            }
        }
    }
    let replay = Replay {
        period: &snapshot.period,
        until: snapshot.collected_at,
        coverage: judged.coverage.clone(),
    };
    let mut scratch = Evaluation::default();
    let findings = replay.judge(
        Some(&collected),
        json!({}),
        &history,
        |delivery: &LogDelivery, out: &mut Evaluation| {
            for (view, status, reason) in
                judge(delivery, &collected_arn, why_unknown.as_deref(), min_days)
            {
                out.findings
                    .push(finding(account_id, &judged.resource, view, status, reason));
            }
        },
        |why| {
            View::BOTH
                .into_iter()
                .map(|view| {
                    finding(
                        account_id,
                        &judged.resource,
                        view,
                        Status::EvidenceGap,
                        why.to_string(),
                    )
                })
                .collect()
        },
        &mut scratch,
    );
    let delivery = (!collected_arn.is_empty()).then(|| {
        delivery_failure(
            judged.trail,
            policy.max_delivery_age_hours(),
            snapshot.collected_at,
            &snapshot.period,
        )
    });
    // What fails as collected decides the fix; a row that failed only earlier in the period
    // keeps the replay's "corrected before collection".
    let as_collected = judge(&collected, &collected_arn, why_unknown.as_deref(), min_days);
    for mut finding in findings {
        let strict = finding.view == Some(View::AwsConfig);
        if strict {
            strict_delivery(&mut finding, delivery.as_ref(), &snapshot.period);
            if let Coverage::Missing(why) = &group_coverage
                && matches!(finding.status, Status::Pass | Status::Fail)
            {
                finding.reason = format!(
                    "as collected: {} — {}; whether this held through the period cannot be established: {why}",
                    finding.status.as_str(),
                    finding.reason
                );
                finding.status = Status::EvidenceGap;
                finding.remediation.clear();
            }
        }
        if finding.status == Status::Fail {
            let mut failing_now: Vec<String> = as_collected
                .iter()
                .filter(|(view, status, _)| Some(*view) == finding.view && *status == Status::Fail)
                .map(|(_, _, reason)| reason.clone())
                .collect();
            if strict && let Some(Ok(Some((_, why)))) = &delivery {
                failing_now.push(format!("not delivering: {why}"));
            }
            if !failing_now.is_empty() {
                finding.remediation = fix(judged, &failing_now.join("; "), min_days);
            } else if finding.remediation.is_empty() {
                finding.remediation =
                    super::remediation::corrected_before_collection(&finding.resource);
            }
        }
        out.findings.push(finding);
    }
}

/// The AWS Config reading's delivery check, applied to the replayed row: a delivery that
/// stopped or failed inside the period fails it; an unread status leaves a PASS unproven.
fn strict_delivery(
    finding: &mut Finding,
    delivery: Option<&Result<Option<(Timestamp, String)>, String>>,
    period: &Period,
) {
    match delivery {
        Some(Ok(Some((since, why)))) => {
            let text = format!(
                "not delivering to CloudWatch Logs from {} to {}: {why}",
                since.display_utc(),
                period.end.display_utc()
            );
            finding.reason = if finding.status == Status::Fail {
                format!("{}; {text}", finding.reason)
            } else {
                text
            };
            finding.status = Status::Fail;
        }
        Some(Err(why)) if finding.status == Status::Pass => {
            finding.status = Status::EvidenceGap;
            finding.reason = format!("{}; but {why}", finding.reason);
        }
        _ => {}
    }
}

/// The commands that fix what fails as collected (`failing`: the collected state's reasons),
/// for the trail and its log group; an organization trail's only in its owner account.
fn fix(judged: &JudgedDelivery, failing: &str, min_days: u32) -> String {
    let trail = &judged.resource;
    let region = if judged.home_region.is_empty() {
        "<home-region>"
    } else {
        judged.home_region
    };
    let group = judged
        .trail
        .trail
        .cloud_watch_logs_log_group_arn
        .as_deref()
        .and_then(LogGroupRef::parse);
    let mut steps = Vec::new();
    let integrate = || {
        format!(
            "aws logs create-log-group --region {region} --log-group-name CloudTrail/{name} \
             --kms-key-id KMS_KEY_ARN\n\
             aws logs put-retention-policy --region {region} --log-group-name CloudTrail/{name} \
             --retention-in-days {days}\n\
             aws cloudtrail update-trail --region {region} --name {trail} \
             --cloud-watch-logs-log-group-arn arn:aws:logs:{region}:{owner}:log-group:CloudTrail/{name}:* \
             --cloud-watch-logs-role-arn ROLE_ARN (a role trusting cloudtrail.amazonaws.com with \
             logs:CreateLogStream and logs:PutLogEvents on the group)",
            name = judged.trail.trail.name,
            owner = judged.owner,
            days = retention_at_least(min_days).map_or("3653".to_string(), |d| d.to_string()),
        )
    };
    match &group {
        None => steps.push(integrate()),
        Some(group) => {
            if failing.contains("does not exist") {
                steps.push(format!(
                    "aws logs create-log-group --region {} --log-group-name {} --kms-key-id KMS_KEY_ARN",
                    group.region, group.name
                ));
            }
            if failing.contains("keeps events") {
                steps.push(match retention_at_least(min_days) {
                    Some(days) => format!(
                        "aws logs put-retention-policy --region {} --log-group-name {} --retention-in-days {days}",
                        group.region, group.name
                    ),
                    None => format!(
                        "aws logs delete-retention-policy --region {} --log-group-name {} (events never expire)",
                        group.region, group.name
                    ),
                });
            }
            if failing.contains("not encrypted with a KMS key") {
                steps.push(format!(
                    "aws logs associate-kms-key --region {} --log-group-name {} --kms-key-id KMS_KEY_ARN \
                     (the key policy must allow logs.{}.amazonaws.com)",
                    group.region, group.name, group.region
                ));
            }
            if failing.contains("was not logging") {
                steps.push(format!(
                    "aws cloudtrail start-logging --region {region} --name {trail}"
                ));
            }
            if failing.contains("not delivering") {
                steps.push(format!(
                    "aws cloudtrail get-trail-status --region {region} --name {trail} (see \
                     LatestCloudWatchLogsDeliveryError; check that the role in \
                     CloudWatchLogsRoleArn trusts cloudtrail.amazonaws.com and may \
                     logs:CreateLogStream and logs:PutLogEvents on {})",
                    group.name
                ));
            }
        }
    }
    let steps = format!("For trail {trail}: {}", steps.join("\n"));
    if judged.trail.trail.is_organization_trail == Some(true) {
        super::remediation::in_owner_account(judged.owner, &steps)
    } else {
        steps
    }
}

/// The smallest retention CloudWatch Logs accepts that is at least `days` (PutRetentionPolicy
/// takes only these values; CloudWatch Logs API Reference); `None` beyond the largest: only
/// "never expire" keeps the events that long.
pub fn retention_at_least(days: u32) -> Option<u32> {
    const ALLOWED: &[u32] = &[
        1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
        2922, 3288, 3653,
    ];
    ALLOWED.iter().copied().find(|allowed| *allowed >= days)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_group_arns_parse_with_and_without_the_stream_wildcard() {
        let group = LogGroupRef::parse(
            "arn:aws:logs:eu-west-1:111122223333:log-group:CloudTrail/lims-audit:*",
        );
        assert_eq!(
            group,
            Some(LogGroupRef {
                region: "eu-west-1".into(),
                account_id: "111122223333".into(),
                name: "CloudTrail/lims-audit".into()
            })
        );
        assert!(LogGroupRef::parse("arn:aws:logs:eu-west-1:1:log-group:g").is_some());
        assert!(LogGroupRef::parse("arn:aws:logs:eu-west-1:1:log-group:g:x").is_none());
        assert!(LogGroupRef::parse("arn:aws:s3:::bucket").is_none());
        assert!(LogGroupRef::parse("").is_none());
    }

    #[test]
    fn events_set_the_group_settings_they_name() {
        let change = log_group_change(
            "PutRetentionPolicy",
            Some(&json!({"logGroupName": "g", "retentionInDays": 30})),
        );
        let change = change.expect("a retention change");
        assert_eq!(change.group.as_deref(), Some("g"));
        assert_eq!(
            change.effects,
            vec![(field::RETENTION, NewValue::Set(json!(30)))]
        );
        let unreadable =
            log_group_change("PutRetentionPolicy", Some(&json!({"logGroupName": "g"})));
        assert!(matches!(
            unreadable.map(|c| c.effects[0].1.clone()),
            Some(NewValue::Unknown(_))
        ));
        let by_arn = log_group_change(
            "AssociateKmsKey",
            Some(
                &json!({"resourceIdentifier": "arn:aws:logs:us-east-1:1:log-group:g", "kmsKeyId": "k"}),
            ),
        );
        assert_eq!(by_arn.and_then(|c| c.group), Some("g".to_string()));
        let query_results = log_group_change(
            "AssociateKmsKey",
            Some(
                &json!({"resourceIdentifier": "arn:aws:logs:us-east-1:1:query-result:*", "kmsKeyId": "k"}),
            ),
        );
        assert!(query_results.is_none());
        assert!(log_group_change("CreateLogStream", Some(&json!({"logGroupName": "g"}))).is_none());
        let unnamed = log_group_change("DeleteLogGroup", Some(&json!({})));
        assert_eq!(unnamed.map(|c| c.group), Some(None));
    }

    fn delivery(arn: &str, exists: bool, retention: Retention, key: &str) -> LogDelivery {
        LogDelivery {
            log_group_arn: Some(arn.to_string()),
            is_logging: Some(true),
            exists: Some(exists),
            retention: Some(retention),
            kms_key_id: Some(key.to_string()),
        }
    }

    const ARN: &str = "arn:aws:logs:us-east-1:111122223333:log-group:CloudTrail/audit:*";

    #[test]
    fn the_lenient_reading_asks_only_for_a_log_group_the_strict_one_for_its_settings() {
        let short = delivery(ARN, true, Retention::Days(90), "");
        let [lenient, strict] = judge(&short, ARN, None, 365);
        assert_eq!(lenient.1, Status::Pass);
        assert_eq!(strict.1, Status::Fail);
        assert!(
            strict
                .2
                .contains("keeps events 90 days, less than the policy's 365")
        );
        assert!(strict.2.contains("not encrypted with a KMS key"));

        let good = delivery(
            ARN,
            true,
            Retention::NeverExpire,
            "arn:aws:kms:us-east-1:1:key/k",
        );
        let [lenient, strict] = judge(&good, ARN, None, 365);
        assert_eq!((lenient.1, strict.1), (Status::Pass, Status::Pass));
        assert!(strict.2.contains("never expire"));

        let none = LogDelivery {
            log_group_arn: Some(String::new()),
            ..LogDelivery::default()
        };
        let [lenient, strict] = judge(&none, "", None, 365);
        assert_eq!((lenient.1, strict.1), (Status::Fail, Status::Fail));

        let unknown = LogDelivery::default();
        let [lenient, strict] = judge(&unknown, ARN, None, 365);
        assert_eq!(
            (lenient.1, strict.1),
            (Status::EvidenceGap, Status::EvidenceGap)
        );
    }

    #[test]
    fn unknown_group_settings_are_a_strict_gap_and_a_missing_group_fails() {
        let unread = LogDelivery {
            log_group_arn: Some(ARN.to_string()),
            ..LogDelivery::default()
        };
        let [lenient, strict] = judge(
            &unread,
            ARN,
            Some("DescribeLogGroups failed: AccessDenied"),
            365,
        );
        assert_eq!(lenient.1, Status::Pass);
        assert_eq!(strict.1, Status::EvidenceGap);
        assert!(strict.2.contains("AccessDenied"));

        let other_group = delivery(
            "arn:aws:logs:us-east-1:111122223333:log-group:old:*",
            true,
            Retention::NeverExpire,
            "k",
        );
        let [_, strict] = judge(&other_group, ARN, None, 365);
        assert_eq!(strict.1, Status::EvidenceGap);

        let deleted = delivery(ARN, false, Retention::NeverExpire, "k");
        let [lenient, strict] = judge(&deleted, ARN, None, 365);
        assert_eq!((lenient.1, strict.1), (Status::Pass, Status::Fail));
        assert!(strict.2.contains("does not exist"));
    }

    #[test]
    fn retention_fixes_use_a_value_cloudwatch_logs_accepts() {
        assert_eq!(retention_at_least(365), Some(365));
        assert_eq!(retention_at_least(366), Some(400));
        assert_eq!(retention_at_least(2555), Some(2557));
        assert_eq!(retention_at_least(9999), None);
    }
}
