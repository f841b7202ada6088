//! CloudTrail posture (multi-region trail with read+write management events of every source,
//! KMS encryption, log file validation) and logging continuity, judged over the period with
//! the period rule (`period`): each trail's settings are rebuilt between its changes
//! (`history`), the account-level CloudTrail.1 must hold at every moment, and a trail that was
//! stopped, deleted, or whose log files were not delivered, was not logging for that time.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::catalog::{
    CLOUDTRAIL_CONTINUITY, CLOUDTRAIL_ENCRYPTION, CLOUDTRAIL_LOG_VALIDATION,
    CLOUDTRAIL_MULTI_REGION,
};
use super::data_events::DataEventSelection;
use super::history::{self, RegionHistory};
use super::period::{self, Coverage, Effect, EventRef, History, NewValue, Replay, Version};
use super::{ALL_REGIONS, Evaluation, Finding, RegionScope, Status, describe_gaps};
use super::{cloudwatch_logs, remediation, s3};
use crate::evidence::{
    AccountEvidence, EventSelectors, EvidenceGap, EvidenceSnapshot, Period, Policy, RegionEvidence,
    Timestamp, TrailEvidence,
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
    /// The CloudWatch Logs group ARN the trail delivers to; empty when none.
    #[serde(default)]
    pub cloudwatch_log_group: String,
    /// The role CloudTrail assumes to write to it.
    #[serde(default)]
    pub cloudwatch_logs_role_arn: String,
    /// The group's retention as collected: `N days`, `never expire`, `not found`, or why it
    /// is not known; empty without a group.
    #[serde(default)]
    pub log_group_retention: String,
    /// The group's KMS key; `none`, or why it is not known; empty without a group.
    #[serde(default)]
    pub log_group_kms_key: String,
    #[serde(default)]
    pub latest_cloudwatch_logs_delivery: Option<Timestamp>,
    #[serde(default)]
    pub cloudwatch_logs_delivery_error: String,
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

    /// The account that owns the trail: the account field of its ARN.
    pub fn owner(&self) -> &str {
        self.trail_arn
            .split(':')
            .nth(4)
            .filter(|owner| !owner.is_empty())
            .unwrap_or(&self.account_id)
    }

    /// `aws cloudtrail <operation>` on this trail, in its home region.
    fn command(&self, operation: &str) -> remediation::AwsCommand {
        let home = if self.home_region.is_empty() {
            "<home-region>"
        } else {
            &self.home_region
        };
        remediation::cloudtrail(operation, &self.resource(), home)
    }

    /// A fix of this trail, where it has to run: an organization trail only in its owner account.
    fn fix(&self, fix: String) -> String {
        if self.organization_trail == Some(true) {
            remediation::in_owner_account(self.owner(), &fix)
        } else {
            fix
        }
    }

    /// What makes the trail qualify for CloudTrail.1 in `settings`, one step per shortfall.
    fn multi_region_fix(&self, settings: &TrailSettings) -> Vec<String> {
        let mut steps = Vec::new();
        if settings.multi_region == Some(false) {
            steps.push(
                self.command("update-trail")
                    .flag("--is-multi-region-trail")
                    .to_string(),
            );
        }
        if settings.is_logging == Some(false) {
            steps.push(self.command("start-logging").to_string());
        }
        if settings.selectors.as_ref().is_some_and(|r| {
            r.coverage != ManagementCoverage::ReadWrite || !r.excluded_sources.is_empty()
        }) {
            let home = if self.home_region.is_empty() {
                "<home-region>"
            } else {
                &self.home_region
            };
            steps.push(remediation::cloudtrail_all_management_events(
                &self.resource(),
                home,
            ));
        }
        steps
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ManagementCoverage {
    ReadWrite,
    WriteOnly,
    ReadOnly,
    None,
    #[default]
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
/// A reading the replay could not rebuild (an empty object) reads as `Unknown`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SelectorReading {
    #[serde(default)]
    pub coverage: ManagementCoverage,
    /// Sources excluded from management events: classic `ExcludeManagementEventSources`, or an
    /// advanced management selector's `eventSource` condition (`NotEquals kms.amazonaws.com`,
    /// `rdsdata.amazonaws.com`; any other condition on `eventSource` limits the sources too).
    #[serde(default)]
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

/// The settings of a trail the CloudTrail controls judge, in the form the period rule replays
/// (`history` sets these fields by name from the trail's events). A missing field is unknown.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrailSettings {
    /// GetTrailStatus `IsLogging`.
    pub is_logging: Option<bool>,
    /// DescribeTrails `IsMultiRegionTrail`.
    pub multi_region: Option<bool>,
    /// DescribeTrails `LogFileValidationEnabled`.
    pub log_file_validation: Option<bool>,
    /// DescribeTrails names a `KmsKeyId`: log files are encrypted with a KMS key.
    pub encrypted: Option<bool>,
    /// GetEventSelectors, as the controls read it.
    pub selectors: Option<SelectorReading>,
    /// The data events the selectors select (GetEventSelectors, or as PutEventSelectors set
    /// them), as `cloudtrail-s3-data-events` reads them.
    pub data_events: Option<DataEventSelection>,
    /// DescribeTrails `CloudWatchLogsLogGroupArn` (`""`: none), as
    /// `cloudtrail-cloudwatch-logs` reads it.
    pub log_group_arn: Option<String>,
}

impl TrailSettings {
    pub const IS_LOGGING: &'static str = "is_logging";
    pub const MULTI_REGION: &'static str = "multi_region";
    pub const LOG_FILE_VALIDATION: &'static str = "log_file_validation";
    pub const ENCRYPTED: &'static str = "encrypted";
    pub const SELECTORS: &'static str = "selectors";
    pub const DATA_EVENTS: &'static str = "data_events";
    pub const LOG_GROUP_ARN: &'static str = cloudwatch_logs::field::LOG_GROUP_ARN;

    /// The settings as collected.
    pub fn of(trail: &TrailEvidence) -> Self {
        TrailSettings {
            is_logging: trail.status.as_ref().and_then(|s| s.is_logging),
            multi_region: trail.trail.is_multi_region_trail,
            log_file_validation: trail.trail.log_file_validation_enabled,
            // DescribeTrails leaves KmsKeyId out of a trail without encryption.
            encrypted: Some(
                trail
                    .trail
                    .kms_key_id
                    .as_deref()
                    .is_some_and(|k| !k.is_empty()),
            ),
            selectors: trail
                .event_selectors
                .as_ref()
                .map(|s| management_coverage(Some(s))),
            data_events: trail.event_selectors.as_ref().map(DataEventSelection::of),
            // DescribeTrails leaves CloudWatchLogsLogGroupArn out of a trail without one.
            log_group_arn: Some(
                trail
                    .trail
                    .cloud_watch_logs_log_group_arn
                    .clone()
                    .unwrap_or_default(),
            ),
        }
    }

    /// The settings CreateTrail gives a trail: not logging until StartLogging, every read and
    /// write management event until PutEventSelectors (CloudTrail API Reference, CreateTrail
    /// and PutEventSelectors).
    pub fn created(
        multi_region: bool,
        log_file_validation: bool,
        encrypted: bool,
        log_group_arn: &str,
    ) -> Self {
        TrailSettings {
            is_logging: Some(false),
            multi_region: Some(multi_region),
            log_file_validation: Some(log_file_validation),
            encrypted: Some(encrypted),
            selectors: Some(SelectorReading {
                coverage: ManagementCoverage::ReadWrite,
                excluded_sources: Vec::new(),
            }),
            // The default selector logs management events only: no data events.
            data_events: Some(DataEventSelection {
                known: true,
                ..DataEventSelection::default()
            }),
            log_group_arn: Some(log_group_arn.to_string()),
        }
    }

    /// The known settings by field name, as the replay sets them.
    pub fn fields(&self) -> Vec<(String, Value)> {
        match serde_json::to_value(self) {
            Ok(Value::Object(map)) => map.into_iter().collect(),
            _ => Vec::new(),
        }
    }
}

/// The selector reading a PutEventSelectors request sets, in `TrailSettings::selectors` form;
/// `None` when the request holds neither selector list.
pub fn selectors_from_request(params: Option<&Value>) -> Option<Value> {
    serde_json::to_value(management_coverage(Some(&request_selectors(params)?))).ok()
}

/// The selectors a PutEventSelectors request sets, in `TrailSettings::data_events` form;
/// `None` when the request holds neither selector list.
pub fn data_events_from_request(params: Option<&Value>) -> Option<Value> {
    serde_json::to_value(DataEventSelection::of(&request_selectors(params)?)).ok()
}

fn request_selectors(params: Option<&Value>) -> Option<EventSelectors> {
    let selectors: EventSelectors = serde_json::from_value(pascal_case_keys(params?)).ok()?;
    if selectors.event_selectors.is_none() && selectors.advanced_event_selectors.is_none() {
        return None;
    }
    Some(selectors)
}

/// A CloudTrail record writes the request in camelCase, the API's responses in PascalCase.
fn pascal_case_keys(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, value)| {
                    let mut chars = key.chars();
                    let pascal = chars
                        .next()
                        .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                        .unwrap_or_default();
                    (pascal, pascal_case_keys(value))
                })
                .collect(),
        ),
        Value::Array(list) => Value::Array(list.iter().map(pascal_case_keys).collect()),
        other => other.clone(),
    }
}

/// What the CloudTrail evaluation of an account reads beyond its own regions: the snapshot
/// (trail home regions outside the scope, owners of organization trails, the KMS keys of
/// encrypted trails, the policy) and every account-region's change history.
pub struct TrailContext<'s> {
    pub snapshot: &'s EvidenceSnapshot,
    /// By (account, region), for the scoped regions and the trail home regions outside them.
    pub histories: &'s BTreeMap<(String, String), RegionHistory>,
}

impl TrailContext<'_> {
    fn period(&self) -> &Period {
        &self.snapshot.period
    }

    fn account(&self, account_id: &str) -> Option<&AccountEvidence> {
        self.snapshot
            .accounts
            .iter()
            .find(|a| a.account_id == account_id)
    }

    /// The trail as read in its home region (status and selectors are the home region's),
    /// also when that region is outside the scope; else the copy seen.
    fn home_copy<'a>(&'a self, account_id: &str, seen: &'a TrailEvidence) -> &'a TrailEvidence {
        let Some(home) = seen.trail.home_region.as_deref() else {
            return seen;
        };
        self.account(account_id)
            .into_iter()
            .flat_map(|a| a.regions.iter().chain(&a.trail_home_regions))
            .filter(|r| r.region == home)
            .filter_map(|r| r.cloudtrail.as_ref())
            .flat_map(|c| &c.trails)
            .find(|t| t.trail.trail_arn.is_some() && t.trail.trail_arn == seen.trail.trail_arn)
            .unwrap_or(seen)
    }

    /// The trail's history and how far it can be trusted: the events of its owner account in
    /// its home region, where CloudTrail records the calls that change a trail.
    fn trail_history(&self, owner: &str, home: &str, name: &str) -> (History, Coverage) {
        if let Some(history) = self.histories.get(&(owner.to_string(), home.to_string())) {
            return (history.trail(name), history.coverage());
        }
        let why = if self.account(owner).is_none() {
            format!(
                "the trail belongs to account {owner}, whose events are not in the evidence (an organization trail's changes are recorded in its owner account)"
            )
        } else if home.is_empty() {
            "the trail's home region is not known".to_string()
        } else {
            format!(
                "the trail's home region {home} was not collected: its status and change events are recorded there"
            )
        };
        (History::default(), Coverage::Missing(why))
    }
}

/// Whether a setting held over a span of the period.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Holds {
    Yes,
    No(String),
    Unknown(String),
}

/// One interval of the period and what held in it.
#[derive(Debug, Clone)]
pub(super) struct Span {
    from: Timestamp,
    to: Timestamp,
    holds: Holds,
    set_by: Option<EventRef>,
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

/// The account a trail belongs to: the account field of its ARN.
fn trail_owner(trail: &TrailEvidence) -> Option<&str> {
    trail.trail.trail_arn.as_deref()?.split(':').nth(4)
}

fn trail_row(account_id: &str, trail: &TrailEvidence) -> TrailRow {
    let selectors = management_coverage(trail.event_selectors.as_ref());
    let group_text = cloudwatch_logs::group_columns(trail);
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
        cloudwatch_log_group: trail
            .trail
            .cloud_watch_logs_log_group_arn
            .clone()
            .unwrap_or_default(),
        cloudwatch_logs_role_arn: trail
            .trail
            .cloud_watch_logs_role_arn
            .clone()
            .unwrap_or_default(),
        log_group_retention: group_text.0,
        log_group_kms_key: group_text.1,
        latest_cloudwatch_logs_delivery: trail
            .status
            .as_ref()
            .and_then(|s| s.latest_cloud_watch_logs_delivery_time),
        cloudwatch_logs_delivery_error: trail
            .status
            .as_ref()
            .and_then(|s| s.latest_cloud_watch_logs_delivery_error.clone())
            .unwrap_or_default(),
    }
}

fn account_finding(
    account_id: &str,
    control: &str,
    resource: &str,
    status: Status,
    reason: String,
) -> Finding {
    Finding::new(
        control,
        account_id,
        ALL_REGIONS,
        resource,
        None,
        status,
        reason,
    )
}

/// Whether a trail's settings satisfy CloudTrail.1 / `multi-region-cloudtrail-enabled`:
/// multi-region, logging, read and write management events, no excluded source.
fn judge_multi_region(settings: &TrailSettings) -> Holds {
    if settings.multi_region == Some(false) {
        return Holds::No("single-region trail".to_string());
    }
    if settings.is_logging == Some(false) {
        return Holds::No("not logging".to_string());
    }
    let selectors = settings
        .selectors
        .as_ref()
        .filter(|r| r.coverage != ManagementCoverage::Unknown);
    if let Some(reading) = selectors {
        if reading.coverage != ManagementCoverage::ReadWrite {
            return Holds::No(format!("management events {}", reading.coverage.as_str()));
        }
        // Config: NON_COMPLIANT when ExcludeManagementEventSources is not empty (KMS or RDS
        // Data API events excluded).
        if !reading.excluded_sources.is_empty() {
            return Holds::No(format!(
                "management events of {} excluded",
                reading.excluded_sources.join(", ")
            ));
        }
    }
    let mut unknown = Vec::new();
    if settings.multi_region.is_none() {
        unknown.push("IsMultiRegionTrail");
    }
    if settings.is_logging.is_none() {
        unknown.push("IsLogging");
    }
    if selectors.is_none() {
        unknown.push("event selectors");
    }
    if unknown.is_empty() {
        Holds::Yes
    } else {
        Holds::Unknown(format!("{} unknown", unknown.join(", ")))
    }
}

/// The times GetTrailStatus dates (`StartLoggingTime`, `StopLoggingTime`: the most recent start
/// and stop) as changes of `is_logging`, so that a stop or start with no visible event still
/// bounds the trail's logging (`TimeLogging*` are documented as no longer used).
fn status_effects(trail: &TrailEvidence) -> Vec<Effect> {
    let Some(status) = &trail.status else {
        return Vec::new();
    };
    [
        (status.start_logging_time, "StartLoggingTime", true),
        (status.stop_logging_time, "StopLoggingTime", false),
    ]
    .into_iter()
    .filter_map(|(at, name, logging)| {
        Some(Effect {
            event: EventRef {
                id: "(GetTrailStatus)".to_string(),
                name: name.to_string(),
                at: at?,
            },
            field: vec![TrailSettings::IS_LOGGING.to_string()],
            value: NewValue::Set(serde_json::json!(logging)),
        })
    })
    .collect()
}

/// The spans of the period over which `judge` held for a trail's versions. A version changed
/// in a way the rules cannot read proves nothing; a version that cannot be rebuilt is unknown.
fn spans(versions: &[Version], judge: impl Fn(&TrailSettings) -> Holds) -> Vec<Span> {
    versions
        .iter()
        .map(|version| {
            let holds = match period::typed::<TrailSettings>(version) {
                Some(settings) => match judge(&settings) {
                    Holds::Yes if version.opaque => Holds::Unknown(version.unknown.join("; ")),
                    Holds::Unknown(what) if !version.unknown.is_empty() => {
                        Holds::Unknown(format!("{what}: {}", version.unknown.join("; ")))
                    }
                    holds => holds,
                },
                None => Holds::Unknown(version.unknown.join("; ")),
            };
            Span {
                from: version.from,
                to: version.to,
                holds,
                set_by: version.set_by.clone(),
            }
        })
        .collect()
}

fn interval(from: Timestamp, to: Timestamp) -> String {
    format!("from {} to {}", from.display_utc(), to.display_utc())
}

/// Times when a trail's log files were not delivered, from GetTrailStatus: a delivery error
/// (log or digest files) since the last successful delivery, or no delivery for longer than
/// the policy allows while the trail is logging (CloudTrail API Reference, GetTrailStatus). The
/// second list says what cannot be dated.
fn delivery_spans(
    trail: &TrailEvidence,
    policy: &Policy,
    collected_at: Timestamp,
    period: &Period,
) -> (Vec<Span>, Vec<String>) {
    let mut gaps = Vec::new();
    let mut unknown = Vec::new();
    let Some(status) = &trail.status else {
        return (gaps, unknown);
    };
    let extra_text = |name: &str| {
        status
            .extra
            .get(name)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let extra_time = |name: &str| {
        status
            .extra
            .get(name)
            .and_then(Value::as_str)
            .and_then(Timestamp::parse)
    };
    let mut not_delivered = |what: &str, since: Option<Timestamp>, why: String| {
        match since {
        Some(since) if since >= period.end => unknown.push(format!(
            "{why}, and the last successful delivery of {what} was at {}, after the period: whether the period's {what} were delivered is unknown",
            since.display_utc()
        )),
        _ => {
            let from = since.map_or(period.start, |s| s.max(period.start));
            gaps.push(Span {
                from,
                to: period.end,
                holds: Holds::No(format!(
                    "{what} not delivered since {}: {why}",
                    since.map_or("before the period".to_string(), |s| s.display_utc())
                )),
                set_by: None,
            });
        }
    }
    };
    if let Some(error) = status
        .latest_delivery_error
        .as_deref()
        .filter(|e| !e.is_empty())
    {
        not_delivered(
            "log files",
            status.latest_delivery_time,
            format!("LatestDeliveryError {error}"),
        );
    }
    if let Some(error) = extra_text("LatestDigestDeliveryError") {
        not_delivered(
            "digest files",
            extra_time("LatestDigestDeliveryTime"),
            format!("LatestDigestDeliveryError {error}"),
        );
    }
    let limit = policy.max_delivery_age_hours();
    if status.is_logging == Some(true)
        && status
            .latest_delivery_error
            .as_deref()
            .is_none_or(str::is_empty)
    {
        match status.latest_delivery_time {
            Some(last) if (collected_at.0 - last.0).num_hours() >= i64::from(limit) => {
                not_delivered(
                    "log files",
                    Some(last),
                    format!(
                        "no log file delivered for more than the policy's {limit} h before collection ({})",
                        collected_at.display_utc()
                    ),
                )
            }
            Some(_) => {}
            None => unknown.push(
                "GetTrailStatus reports no LatestDeliveryTime: whether log files were delivered is unknown"
                    .to_string(),
            ),
        }
    }
    (gaps, unknown)
}

/// KMS key states in which CloudTrail cannot encrypt, so cannot deliver, log files
/// (CloudTrail user guide, "Configure AWS KMS key policies for CloudTrail"; KMS key states).
const UNUSABLE_KEY_STATES: &[&str] = &[
    "Disabled",
    "PendingDeletion",
    "PendingReplicaDeletion",
    "PendingImport",
    "Unavailable",
];

/// Times when the trail's KMS key, as the evidence holds it, could not be used: the key's own
/// history replayed over the period (`period::versions`).
fn key_spans(
    trail: &TrailEvidence,
    context: &TrailContext,
    until: Timestamp,
) -> (Vec<Span>, Vec<String>) {
    let mut gaps = Vec::new();
    let mut unknown = Vec::new();
    let Some(arn) = trail.trail.kms_key_id.as_deref().filter(|k| !k.is_empty()) else {
        return (gaps, unknown);
    };
    let parts: Vec<&str> = arn.split(':').collect();
    let (Some(region), Some(account), Some(key_id)) = (
        parts.get(3),
        parts.get(4),
        parts.get(5).and_then(|r| r.strip_prefix("key/")),
    ) else {
        return (gaps, unknown);
    };
    let Some(key) = context
        .account(account)
        .and_then(|a| a.regions.iter().find(|r| r.region == *region))
        .and_then(|r| r.kms.as_ref())
        .and_then(|kms| kms.keys.iter().find(|k| k.metadata.key_id == *key_id))
    else {
        return (gaps, unknown);
    };
    let (history, coverage) = match context
        .histories
        .get(&(account.to_string(), region.to_string()))
    {
        Some(h) => (h.key(key_id), h.coverage()),
        None => (History::default(), Coverage::Complete),
    };
    let versions = period::versions(
        &period::snapshot_form(key),
        true,
        &history,
        context.period(),
        until,
    );
    for version in versions {
        let state = version
            .state
            .get("metadata")
            .and_then(|m| m.get("KeyState"))
            .and_then(Value::as_str);
        match state {
            Some(state) if UNUSABLE_KEY_STATES.contains(&state) => gaps.push(Span {
                from: version.from,
                to: version.to,
                holds: Holds::No(format!(
                    "its KMS key {arn} was {state}: CloudTrail cannot deliver log files encrypted with it"
                )),
                set_by: version.set_by.clone(),
            }),
            Some(_) => {}
            None => unknown.push(format!(
                "the state of its KMS key {arn} {} is unknown: {}",
                interval(version.from, version.to),
                version.unknown.join("; ")
            )),
        }
    }
    if let Coverage::Missing(why) = coverage {
        unknown.push(format!(
            "the history of its KMS key {arn} is incomplete: {why}"
        ));
    }
    (gaps, unknown)
}

/// One trail as the account's CloudTrail controls judge it.
pub(super) struct JudgedTrail<'a> {
    pub(super) trail: &'a TrailEvidence,
    row: TrailRow,
    /// The trail's name, with its owner when another account owns it.
    pub(super) label: String,
    /// Deleted by a recorded event and not collected: only its history is known.
    deleted_only: bool,
    history: History,
    coverage: Coverage,
    versions: Vec<Version>,
}

pub fn evaluate_account(
    account_id: &str,
    regions: &[(RegionScope, Option<&RegionEvidence>)],
    context: &TrailContext,
    out: &mut Evaluation,
) {
    let period = context.period();
    let until = context.snapshot.collected_at;
    let all_gaps = &context.snapshot.gaps;
    let missing_regions: Vec<&str> = regions
        .iter()
        .filter(|(_, e)| e.and_then(|e| e.cloudtrail.as_ref()).is_none())
        .map(|(scope, _)| scope.region)
        .collect();
    let trail_gaps: Vec<&EvidenceGap> = regions
        .iter()
        .flat_map(|(scope, _)| scope.service_gaps("cloudtrail"))
        .filter(|g| !super::reads_change_events(&g.api))
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

    // Which trails count for the account: its own, and organization trails (named with
    // their owner account).
    let mut not_counted = Vec::new();
    let mut judged: Vec<JudgedTrail> = Vec::new();
    for seen in unique_trails(regions) {
        let trail = context.home_copy(account_id, seen);
        let owner = trail_owner(trail).unwrap_or(account_id).to_string();
        let organization = trail.trail.is_organization_trail == Some(true);
        if owner != account_id && !organization {
            not_counted.push(format!(
                "{} (belongs to account {owner} and is not an organization trail)",
                trail.trail.name
            ));
            continue;
        }
        let label = if owner == account_id {
            trail.trail.name.clone()
        } else {
            format!(
                "{} (organization trail of account {owner})",
                trail.trail.name
            )
        };
        let home = trail.trail.home_region.clone().unwrap_or_default();
        let (mut history, coverage) = context.trail_history(&owner, &home, &trail.trail.name);
        // First, so that an event at the same time as a status time names the change.
        history.effects.splice(0..0, status_effects(trail));
        let versions = period::versions(
            &period::snapshot_form(&TrailSettings::of(trail)),
            true,
            &history,
            period,
            until,
        );
        judged.push(JudgedTrail {
            trail,
            row: trail_row(account_id, trail),
            label,
            deleted_only: false,
            history,
            coverage,
            versions,
        });
    }
    // Trails a recorded DeleteTrail removed before collection: judged until their deletion.
    let mut deleted: Vec<(String, String, History)> = Vec::new();
    for ((owner, region), history) in context.histories {
        if owner != account_id {
            continue;
        }
        for (name, trail_history) in &history.trails {
            let collected = judged.iter().any(|j| {
                j.trail.trail.name == *name
                    && j.trail.trail.home_region.as_deref() == Some(region.as_str())
            });
            if !name.is_empty() && trail_history.deleted.is_some() && !collected {
                deleted.push((name.clone(), region.clone(), history.trail(name)));
            }
        }
    }
    let skeletons: Vec<TrailEvidence> = deleted
        .iter()
        .filter_map(|(name, region, _)| {
            serde_json::from_value(
                serde_json::json!({"trail": {"Name": name, "HomeRegion": region}}),
            )
            .ok()
        })
        .collect();
    for (skeleton, (name, region, history)) in skeletons.iter().zip(deleted) {
        let coverage = context
            .histories
            .get(&(account_id.to_string(), region))
            .map_or(Coverage::Complete, RegionHistory::coverage);
        let versions = period::versions(&serde_json::json!({}), false, &history, period, until);
        judged.push(JudgedTrail {
            trail: skeleton,
            row: trail_row(account_id, skeleton),
            label: name,
            deleted_only: true,
            history,
            coverage,
            versions,
        });
    }

    let first_region = regions
        .first()
        .map_or("<region>", |(scope, _)| scope.region);
    out.findings.push(
        multi_region_finding(
            account_id,
            &judged,
            period,
            &not_counted,
            evidence_incomplete.then(incomplete_reason),
        )
        .with_remediation(multi_region_remediation(&judged, first_region)),
    );
    out.findings.extend(super::data_events::account_findings(
        account_id,
        &judged,
        context.snapshot,
        evidence_incomplete.then(incomplete_reason),
    ));

    // CloudTrail.2 and CloudTrail.4, per trail, over the period.
    for judged_trail in judged.iter().filter(|j| !j.deleted_only) {
        let replay = Replay {
            period,
            until,
            coverage: judged_trail.coverage.clone(),
        };
        let resource = judged_trail.row.resource();
        let settings = TrailSettings::of(judged_trail.trail);
        replay.judge(
            Some(&settings),
            serde_json::json!({}),
            &judged_trail.history,
            |settings: &TrailSettings, out: &mut Evaluation| {
                out.findings.extend(posture_findings(
                    account_id,
                    &resource,
                    &judged_trail.row,
                    settings,
                ))
            },
            |why| {
                [CLOUDTRAIL_ENCRYPTION, CLOUDTRAIL_LOG_VALIDATION]
                    .into_iter()
                    .map(|control| {
                        account_finding(
                            account_id,
                            control,
                            &resource,
                            Status::EvidenceGap,
                            why.to_string(),
                        )
                    })
                    .collect()
            },
            out,
        );
        let owner = trail_owner(judged_trail.trail).unwrap_or(account_id);
        cloudwatch_logs::evaluate_trail(
            account_id,
            &cloudwatch_logs::JudgedDelivery {
                trail: judged_trail.trail,
                resource: resource.clone(),
                trail_history: &judged_trail.history,
                coverage: judged_trail.coverage.clone(),
                owner,
                home_region: judged_trail
                    .trail
                    .trail
                    .home_region
                    .as_deref()
                    .unwrap_or_default(),
            },
            context.snapshot,
            context.histories,
            out,
        );
    }
    // Trails of a region whose trail list is missing are unknown: the rows above cover the
    // trails that were seen, this row says others may exist.
    let counted = judged.iter().filter(|j| !j.deleted_only).count();
    if counted == 0 || evidence_incomplete {
        let (status, reason) = if counted > 0 {
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
        for control in [CLOUDTRAIL_ENCRYPTION, CLOUDTRAIL_LOG_VALIDATION] {
            out.findings.push(account_finding(
                account_id,
                control,
                "(account)",
                status,
                reason.clone(),
            ));
        }
        out.findings
            .extend(cloudwatch_logs::account_rows(account_id, status, &reason));
        if counted == 0 && judged.is_empty() || evidence_incomplete {
            out.findings.push(account_finding(
                account_id,
                CLOUDTRAIL_CONTINUITY,
                "(account)",
                status,
                reason,
            ));
        }
    }

    // cloudtrail-bucket-protection: the buckets of the same counted trails.
    let counted_trails: Vec<s3::CountedTrail> = judged
        .iter()
        .filter(|j| !j.deleted_only)
        .map(|j| s3::CountedTrail {
            trail: j.trail,
            label: j.label.clone(),
            owner: trail_owner(j.trail).unwrap_or(account_id).to_string(),
        })
        .collect();
    s3::evaluate_account(
        account_id,
        &counted_trails,
        evidence_incomplete.then(incomplete_reason),
        context.snapshot,
        context.histories,
        out,
    );

    for judged_trail in &judged {
        let (finding, gaps) = continuity(account_id, judged_trail, context, all_gaps, out);
        out.findings.push(finding);
        out.logging_gaps.extend(gaps);
    }
    out.trails.extend(
        judged
            .into_iter()
            .filter(|j| !j.deleted_only)
            .map(|j| j.row),
    );
}

fn posture_findings(
    account_id: &str,
    resource: &str,
    row: &TrailRow,
    settings: &TrailSettings,
) -> Vec<Finding> {
    let encryption = match settings.encrypted {
        Some(true) => (
            Status::Pass,
            "log files encrypted with a KMS key".to_string(),
        ),
        Some(false) => (
            Status::Fail,
            "log files are not encrypted with a KMS key (SSE-S3 only)".to_string(),
        ),
        None => (
            Status::EvidenceGap,
            "whether the log files were encrypted is unknown".to_string(),
        ),
    };
    let validation = match settings.log_file_validation {
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
    vec![
        account_finding(
            account_id,
            CLOUDTRAIL_ENCRYPTION,
            resource,
            encryption.0,
            encryption.1,
        )
        .with_remediation(row.fix(remediation::cloudtrail_kms_encryption(
            &row.resource(),
            &row.home_region,
            row.owner(),
        ))),
        account_finding(
            account_id,
            CLOUDTRAIL_LOG_VALIDATION,
            resource,
            validation.0,
            validation.1,
        )
        .with_remediation(
            row.fix(
                row.command("update-trail")
                    .flag("--enable-log-file-validation")
                    .to_string(),
            ),
        ),
    ]
}

/// The fix of a failing CloudTrail.1. When a counted trail qualifies as collected there is
/// nothing to run (the failing intervals are a deviation to record); else each counted trail's
/// shortfalls, one qualifying trail being enough; without any trail, a new one.
fn multi_region_remediation(judged: &[JudgedTrail], region: &str) -> String {
    let current: Vec<&JudgedTrail> = judged.iter().filter(|j| !j.deleted_only).collect();
    if let Some(qualifying) = current
        .iter()
        .find(|j| judge_multi_region(&TrailSettings::of(j.trail)) == Holds::Yes)
    {
        return remediation::corrected_before_collection(&format!(
            "trail {}",
            qualifying.row.resource()
        ));
    }
    let fixes: Vec<String> = current
        .iter()
        .filter_map(|j| {
            let steps = j.row.multi_region_fix(&TrailSettings::of(j.trail));
            (!steps.is_empty())
                .then(|| format!("{}: {}", j.label, j.row.fix(steps.join("; then "))))
        })
        .collect();
    if fixes.is_empty() {
        remediation::cloudtrail_create_trail(region)
    } else {
        format!("One qualifying trail is enough. {}", fixes.join(". "))
    }
}

/// The fix of a trail's logging gaps: restart a trail that is still stopped; otherwise
/// nothing to run, but the gaps are a deviation whose management events CloudTrail's event
/// history still holds for 90 days.
fn continuity_remediation(judged: &JudgedTrail, gaps: &[LoggingGap]) -> String {
    let row = &judged.row;
    if judged.deleted_only {
        return format!(
            "The trail {} was deleted: record the deletion in change control; whether the \
             account still logs is judged by cloudtrail-multi-region",
            judged.label
        );
    }
    let ongoing = gaps.iter().find(|g| g.ended_at.is_none());
    match ongoing {
        Some(_) if row.is_logging == Some(false) => {
            row.fix(row.command("start-logging").to_string())
        }
        Some(gap) => format!(
            "Remove the cause ({}), then confirm delivery with {}",
            gap.cause,
            row.command("get-trail-status")
        ),
        None => {
            let lookups: Vec<String> = gaps
                .iter()
                .filter_map(|g| {
                    let end = g.ended_at?;
                    Some(
                        remediation::AwsCommand::new("cloudtrail", "lookup-events")
                            .arg("--start-time", &g.started_at.to_rfc3339())
                            .arg("--end-time", &end.to_rfc3339())
                            .arg("--region", &row.home_region)
                            .to_string(),
                    )
                })
                .collect();
            format!(
                "{}; the gap's management events stay in CloudTrail event history for 90 days, \
                 export them for the record (in each region the trail covers): {}",
                remediation::corrected_before_collection(&format!("trail {}", row.resource())),
                lookups.join("; ")
            )
        }
    }
}

/// An interval of the period and why it qualified, failed or could not be told.
pub(super) type Interval = (Timestamp, Timestamp, Vec<String>);

/// What held at every moment across several trails: the intervals in which no trail
/// qualified (with each trail's reason), those in which none is proven to and one might,
/// and the trails that qualified at some moment.
pub(super) struct Sweep<'l> {
    pub fails: Vec<Interval>,
    pub unknowns: Vec<Interval>,
    pub qualified: Vec<&'l str>,
}

/// Sweeps the period's elementary intervals (bounded by every trail's spans): in each, the
/// requirement holds when one labelled trail's span holds.
pub(super) fn sweep<'l>(per_trail: &[(&'l str, Vec<Span>)], period: &Period) -> Sweep<'l> {
    let mut bounds: Vec<Timestamp> = vec![period.start, period.end];
    for (_, spans) in per_trail {
        bounds.extend(spans.iter().flat_map(|s| [s.from, s.to]));
    }
    bounds.retain(|t| *t >= period.start && *t <= period.end);
    bounds.sort();
    bounds.dedup();
    let mut fails: Vec<Interval> = Vec::new();
    let mut unknowns: Vec<Interval> = Vec::new();
    let mut qualified: Vec<&str> = Vec::new();
    for window in bounds.windows(2) {
        let (from, to) = (window[0], window[1]);
        let mut yes = Vec::new();
        let mut no = Vec::new();
        let mut unknown = Vec::new();
        for (label, spans) in per_trail {
            match spans.iter().find(|s| s.from <= from && from < s.to) {
                Some(span) => match &span.holds {
                    Holds::Yes => yes.push(*label),
                    Holds::No(why) => no.push(format!("{label}: {why}")),
                    Holds::Unknown(why) => unknown.push(format!("{label}: {why}")),
                },
                None => no.push(format!("{label}: did not exist")),
            }
        }
        let push = |list: &mut Vec<Interval>, why: Vec<String>| match list.last_mut() {
            Some(last) if last.1 == from && last.2 == why => last.1 = to,
            _ => list.push((from, to, why)),
        };
        if !yes.is_empty() {
            qualified.extend(yes);
        } else if !unknown.is_empty() {
            push(&mut unknowns, unknown);
        } else {
            if no.is_empty() {
                no.push("no CloudTrail trail exists".to_string());
            }
            push(&mut fails, no);
        }
    }
    qualified.sort();
    qualified.dedup();
    Sweep {
        fails,
        unknowns,
        qualified,
    }
}

impl JudgedTrail<'_> {
    /// The trail's spans under `judge`; a trail whose events are missing proves nothing.
    pub(super) fn spans(&self, judge: impl Fn(&TrailSettings) -> Holds) -> Vec<Span> {
        let mut spans = spans(&self.versions, judge);
        if let Coverage::Missing(why) = &self.coverage {
            for span in &mut spans {
                if span.holds == Holds::Yes {
                    span.holds = Holds::Unknown(why.clone());
                }
            }
        }
        spans
    }
}

/// CloudTrail.1 must hold at every moment of the period: at each moment at least one counted
/// trail qualifies. FAIL names the intervals with no qualifying trail (and why each trail did
/// not); EVIDENCE_GAP where no trail is proven to qualify and one might; PASS otherwise.
fn multi_region_finding(
    account_id: &str,
    judged: &[JudgedTrail],
    period: &Period,
    not_counted: &[String],
    incomplete: Option<String>,
) -> Finding {
    let per_trail: Vec<(&str, Vec<Span>)> = judged
        .iter()
        .map(|j| (j.label.as_str(), j.spans(judge_multi_region)))
        .collect();
    let Sweep {
        fails,
        unknowns,
        qualified,
    } = sweep(&per_trail, period);
    let describe = |list: &[Interval]| {
        super::period::list_intervals(list, |(from, to, why)| {
            format!("{}: {}", interval(*from, *to), why.join("; "))
        })
    };
    let mut notes = String::new();
    if !not_counted.is_empty() {
        notes = format!(" Not counted: {}.", not_counted.join(", "));
    }
    let resource = match qualified.as_slice() {
        [one] if fails.is_empty() && unknowns.is_empty() => one.to_string(),
        _ => "(account)".to_string(),
    };
    let (status, reason) = if !fails.is_empty() {
        let no_trail = judged.is_empty();
        let text = if no_trail {
            "no CloudTrail trail exists".to_string()
        } else {
            format!(
                "no multi-region trail logged read and write management events of every source {}",
                describe(&fails)
            )
        };
        match &incomplete {
            // A region without evidence may hold the trail: never "no trail exists".
            Some(why) if no_trail => (Status::EvidenceGap, why.clone()),
            Some(why) => (
                Status::EvidenceGap,
                format!("{why}; of the trails seen: {text}"),
            ),
            None => (Status::Fail, text),
        }
    } else if !unknowns.is_empty() {
        (
            Status::EvidenceGap,
            format!(
                "no trail is proven to qualify throughout the period: {}",
                describe(&unknowns)
            ),
        )
    } else {
        let through = if judged.iter().any(|j| !j.history.is_empty()) {
            " throughout the period"
        } else {
            ""
        };
        (
            Status::Pass,
            format!(
                "multi-region trail {} is logging read and write management events of every source{through}.",
                qualified.join(", ")
            ),
        )
    };
    account_finding(
        account_id,
        CLOUDTRAIL_MULTI_REGION,
        &resource,
        status,
        format!("{reason}{notes}"),
    )
}

/// Logging continuity of one trail over the period: times it was not logging (a replayed
/// StopLogging or DeleteTrail, a stop GetTrailStatus dates), its log files were not delivered
/// (a delivery error, no delivery within the policy's limit) or its KMS key could not be used.
/// FAIL names each such time; EVIDENCE_GAP where the logging state cannot be rebuilt; else PASS.
fn continuity(
    account_id: &str,
    judged: &JudgedTrail,
    context: &TrailContext,
    all_gaps: &[EvidenceGap],
    out: &Evaluation,
) -> (Finding, Vec<LoggingGap>) {
    let period = context.period();
    let until = context.snapshot.collected_at;
    let resource = if judged.deleted_only {
        judged.label.clone()
    } else {
        judged.row.resource()
    };
    let mut off: Vec<Span> = Vec::new();
    let mut unknown: Vec<String> = Vec::new();
    for span in spans(&judged.versions, |s| match s.is_logging {
        Some(true) => Holds::Yes,
        Some(false) => Holds::No("not logging".to_string()),
        None => Holds::Unknown("whether the trail was logging is unknown".to_string()),
    }) {
        match span.holds {
            Holds::Yes => {}
            Holds::No(_) => off.push(span),
            Holds::Unknown(why) => unknown.push(format!("{}: {why}", interval(span.from, span.to))),
        }
    }
    if let Some(deletion) = &judged.history.deleted
        && deletion.at < period.end
    {
        off.push(Span {
            from: deletion.at.max(period.start),
            to: period.end,
            holds: Holds::No("not logging".to_string()),
            set_by: Some(deletion.clone()),
        });
    }
    if !judged.deleted_only {
        let (delivery, undated) =
            delivery_spans(judged.trail, &context.snapshot.policy, until, period);
        off.extend(delivery);
        unknown.extend(undated);
        let (key, key_unknown) = key_spans(judged.trail, context, until);
        off.extend(key);
        unknown.extend(key_unknown);
    }
    if judged.trail.status.is_none() && !judged.deleted_only {
        let status_gaps: Vec<&EvidenceGap> = all_gaps
            .iter()
            .filter(|g| {
                g.api == "GetTrailStatus"
                    && g.resource.as_deref().is_some_and(|r| {
                        r == judged.row.trail_arn || history::trail_name(r) == judged.row.trail_name
                    })
            })
            .collect();
        let why = if status_gaps.is_empty() {
            "GetTrailStatus was not read".to_string()
        } else {
            describe_gaps(&status_gaps)
        };
        unknown.insert(0, format!("the trail's status is unknown ({why})"));
    }
    if let Coverage::Missing(why) = &judged.coverage {
        unknown.insert(0, why.clone());
    }
    off.sort_by_key(|s| s.from);
    let actor = |event: &Option<EventRef>| {
        event
            .as_ref()
            .and_then(|e| out.changes.iter().find(|c| c.event_id == e.id))
            .map(|c| c.actor.clone())
            .unwrap_or_default()
    };
    let region = if judged.row.home_region.is_empty() {
        "unknown".to_string()
    } else {
        judged.row.home_region.clone()
    };
    // Consecutive versions not logging for one reason are one gap.
    let mut gaps: Vec<LoggingGap> = Vec::new();
    let mut last_not_logging = false;
    for span in &off {
        let not_logging = span.holds == Holds::No("not logging".to_string());
        let cause = match (&span.holds, &span.set_by) {
            (Holds::No(why), _) if !not_logging => why.clone(),
            (_, Some(event)) if event.at >= period.start => event.name.clone(),
            _ => "stopped before the period".to_string(),
        };
        let continues = not_logging && last_not_logging;
        last_not_logging = not_logging;
        if let Some(last) = gaps.last_mut()
            && last.ended_at == Some(span.from)
            && (last.cause == cause || continues)
        {
            last.ended_at = (span.to < period.end).then_some(span.to);
            continue;
        }
        gaps.push(LoggingGap {
            account_id: account_id.to_string(),
            region: region.clone(),
            trail_name: judged.row.trail_name.clone(),
            started_at: span.from,
            started_by: actor(&span.set_by),
            cause,
            ended_at: (span.to < period.end).then_some(span.to),
            ended_by: String::new(),
            minutes: 0,
        });
    }
    for gap in &mut gaps {
        if let Some(end) = gap.ended_at {
            let resumed_by = judged
                .versions
                .iter()
                .find(|v| v.from == end)
                .and_then(|v| v.set_by.clone());
            gap.ended_by = actor(&resumed_by);
        }
        let end = gap.ended_at.unwrap_or(period.end).min(period.end);
        gap.minutes = (end.0 - gap.started_at.0).num_minutes().max(0);
    }
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
        .with_remediation(continuity_remediation(judged, &gaps))
    } else if !unknown.is_empty() {
        account_finding(
            account_id,
            CLOUDTRAIL_CONTINUITY,
            &resource,
            Status::EvidenceGap,
            format!(
                "continuity cannot be proven for the whole period: {}",
                unknown.join("; ")
            ),
        )
    } else {
        account_finding(
            account_id,
            CLOUDTRAIL_CONTINUITY,
            &resource,
            Status::Pass,
            format!(
                "logging and delivering throughout the period ({} change(s) and status time(s) replayed)",
                judged.history.event_count()
            ),
        )
    };
    (finding, gaps)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controls::evaluate;
    use serde_json::json;

    const ACCOUNT: &str = "111111111111";
    const HOME: &str = "eu-central-1";
    const ARN: &str = "arn:aws:cloudtrail:eu-central-1:111111111111:trail/main";
    const COLLECTED: &str = "2026-11-01T06:00:00Z";

    fn period() -> Period {
        Period {
            start: at("2026-10-01T00:00:00Z"),
            end: at("2026-11-01T00:00:00Z"),
        }
    }

    fn at(text: &str) -> Timestamp {
        Timestamp::parse(text).unwrap()
    }

    /// A trail homed in eu-central-1, logging since before the period, delivering.
    fn trail(
        multi: bool,
        validation: bool,
        kms: bool,
        logging: bool,
        selectors: Value,
    ) -> TrailEvidence {
        let mut t = json!({"trail": {"Name": "main", "TrailARN": ARN,
            "HomeRegion": HOME, "IsMultiRegionTrail": multi, "LogFileValidationEnabled": validation},
            "status": {"IsLogging": logging, "LatestDeliveryTime": "2026-11-01T05:55:00Z"},
            "event_selectors": selectors});
        if logging {
            t["status"]["StartLoggingTime"] = json!("2026-01-01T00:00:00Z");
        }
        if kms {
            t["trail"]["KmsKeyId"] = json!("arn:aws:kms:eu-central-1:111111111111:key/k1");
        }
        serde_json::from_value(t).unwrap()
    }

    fn all_events() -> Value {
        json!({"EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": true}]})
    }

    /// A successful (or failed, with `error`) CloudTrail call on the trail in LookupEvents form.
    fn event(name: &str, time: &str, request: Value, error: Option<&str>) -> Value {
        let mut record = json!({"eventVersion": "1.08", "eventTime": time,
            "eventSource": "cloudtrail.amazonaws.com", "eventName": name,
            "awsRegion": HOME, "userIdentity": {"type": "IAMUser",
            "arn": "arn:aws:iam::111111111111:user/ops", "accountId": ACCOUNT},
            "requestParameters": request, "readOnly": false});
        if let Some(code) = error {
            record["errorCode"] = json!(code);
        }
        json!({"EventId": format!("{name}-{time}"), "EventName": name,
            "EventSource": "cloudtrail.amazonaws.com", "EventTime": time, "ReadOnly": "false",
            "Resources": [{"ResourceType": "AWS::CloudTrail::Trail", "ResourceName": ARN}],
            "CloudTrailEvent": record.to_string()})
    }

    fn on_trail(name: &str, time: &str) -> Value {
        event(name, time, json!({"name": ARN}), None)
    }

    fn snapshot_with(
        trails: Vec<TrailEvidence>,
        events: Vec<Value>,
        edit: impl FnOnce(&mut Value),
    ) -> EvidenceSnapshot {
        let (during, after): (Vec<Value>, Vec<Value>) = events
            .into_iter()
            .partition(|e| at(e["EventTime"].as_str().unwrap()) < period().end);
        let mut snapshot = json!({
            "schema_version": 1, "tool": {"name": "t", "version": "0"}, "system_name": "S",
            "collected_at": COLLECTED,
            "period": {"start": "2026-10-01T00:00:00Z", "end": "2026-11-01T00:00:00Z"},
            "scope": {"accounts": [ACCOUNT], "regions": [HOME]},
            "accounts": [{"account_id": ACCOUNT, "regions": [{"region": HOME,
                "cloudtrail": {"trails": trails, "events": during, "lookup_queries": [],
                    "events_after_period": after, "events_until": COLLECTED}}]}]
        });
        edit(&mut snapshot);
        serde_json::from_value(snapshot).unwrap()
    }

    fn run(trails: Vec<TrailEvidence>, events: Vec<Value>) -> Evaluation {
        evaluate(&snapshot_with(trails, events, |_| {}))
    }

    fn finding<'e>(out: &'e Evaluation, control: &str) -> &'e Finding {
        out.findings
            .iter()
            .find(|f| f.control_id == control)
            .unwrap()
    }

    fn status(out: &Evaluation, control: &str) -> Status {
        finding(out, control).status
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

    /// Events are read up to collection: a trail not logging now with no StopLogging since the
    /// period start was not logging during it; GetTrailStatus dates the stop where it can.
    #[test]
    fn a_stopped_trail_is_dated_by_its_status_and_the_events_up_to_collection() {
        let stopped = |stop: Option<&str>| {
            let mut t = trail(true, true, true, false, all_events());
            t.status.as_mut().unwrap().stop_logging_time = stop.map(at);
            run(vec![t], vec![])
        };
        let out = stopped(None);
        assert_eq!(status(&out, CLOUDTRAIL_CONTINUITY), Status::Fail);
        assert_eq!(out.logging_gaps[0].started_at, period().start);
        let out = stopped(Some("2026-10-12T08:00:00Z"));
        assert_eq!(status(&out, CLOUDTRAIL_CONTINUITY), Status::Fail);
        assert_eq!(out.logging_gaps[0].started_at, at("2026-10-12T08:00:00Z"));
        assert_eq!(out.logging_gaps[0].cause, "StopLoggingTime");
        let out = stopped(Some("2026-09-20T08:00:00Z"));
        assert_eq!(out.logging_gaps[0].cause, "stopped before the period");
        assert_eq!(
            status(
                &stopped(Some("2026-11-01T03:00:00Z")),
                CLOUDTRAIL_CONTINUITY
            ),
            Status::EvidenceGap,
            "stopped after the period with no event and no start time: before it is unknown"
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
            assert_eq!(
                status(&out, control),
                Status::Pass,
                "{control}: {}",
                finding(&out, control).reason
            );
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
        let multi = finding(&out, CLOUDTRAIL_MULTI_REGION);
        assert_eq!(multi.status, Status::Fail);
        assert!(multi.reason.contains("not logging"), "{}", multi.reason);
    }

    #[test]
    fn multi_region_fix_names_each_shortfall_and_warns_that_selectors_are_replaced() {
        let out = run(vec![trail(false, true, true, false, all_events())], vec![]);
        assert_eq!(
            finding(&out, CLOUDTRAIL_MULTI_REGION).remediation,
            format!(
                "One qualifying trail is enough. main: aws cloudtrail update-trail --name {ARN} \
                 --region {HOME} --is-multi-region-trail; then aws cloudtrail start-logging \
                 --name {ARN} --region {HOME}"
            )
        );
        let write_only = json!({"EventSelectors": [{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": true}]});
        let out = run(vec![trail(true, true, true, true, write_only)], vec![]);
        assert_eq!(
            finding(&out, CLOUDTRAIL_MULTI_REGION).remediation,
            format!(
                "One qualifying trail is enough. main: Warning: put-event-selectors REPLACES all \
                 of the trail's selectors; run aws cloudtrail get-event-selectors --trail-name \
                 {ARN} --region {HOME} first and carry its data event selectors over. Then: aws \
                 cloudtrail put-event-selectors --trail-name {ARN} --region {HOME} \
                 --event-selectors '[{{\"ReadWriteType\":\"All\",\"IncludeManagementEvents\":true,\"ExcludeManagementEventSources\":[]}}]'"
            )
        );
    }

    #[test]
    fn posture_fixes_name_the_trail_its_home_region_and_the_key_policy_cloudtrail_needs() {
        let out = run(vec![trail(true, false, false, true, all_events())], vec![]);
        assert_eq!(
            finding(&out, CLOUDTRAIL_LOG_VALIDATION).remediation,
            format!(
                "aws cloudtrail update-trail --name {ARN} --region {HOME} \
                 --enable-log-file-validation"
            )
        );
        let encryption = &finding(&out, CLOUDTRAIL_ENCRYPTION).remediation;
        assert!(
            encryption.contains(&format!(
                "Allow Principal Service cloudtrail.amazonaws.com Action kms:GenerateDataKey* \
                 with Condition StringEquals aws:SourceArn {ARN} and StringLike \
                 kms:EncryptionContext:aws:cloudtrail:arn arn:aws:cloudtrail:*:{ACCOUNT}:trail/*"
            )),
            "{encryption}"
        );
        assert!(
            encryption.ends_with(&format!(
                "Then: aws cloudtrail update-trail --name {ARN} --region {HOME} --kms-key-id '<key-arn>'"
            )),
            "{encryption}"
        );
    }

    #[test]
    fn an_organization_trail_is_fixed_in_its_owner_account() {
        let mut org = trail(true, false, true, true, all_events());
        org.trail.is_organization_trail = Some(true);
        let out = run(vec![org.clone()], vec![]);
        assert_eq!(
            finding(&out, CLOUDTRAIL_LOG_VALIDATION).remediation,
            format!(
                "In the organization trail's owner account {ACCOUNT} (the management account or \
                 CloudTrail's delegated administrator; member accounts cannot change it): aws \
                 cloudtrail update-trail --name {ARN} --region {HOME} --enable-log-file-validation"
            )
        );
        // Seen from a member account, the owner is the account of the trail's ARN.
        let owner_arn = "arn:aws:cloudtrail:eu-central-1:999999999999:trail/main";
        org.trail.trail_arn = Some(owner_arn.into());
        let row = trail_row(ACCOUNT, &org);
        assert_eq!(
            row.fix(row.command("start-logging").to_string()),
            format!(
                "In the organization trail's owner account 999999999999 (the management account \
                 or CloudTrail's delegated administrator; member accounts cannot change it): aws \
                 cloudtrail start-logging --name {owner_arn} --region {HOME}"
            )
        );
    }

    #[test]
    fn a_gap_that_ended_needs_no_command_but_names_the_events_to_export() {
        let out = run(
            vec![trail(true, true, true, true, all_events())],
            vec![
                on_trail("StopLogging", "2026-10-10T08:00:00Z"),
                on_trail("StartLogging", "2026-10-10T09:30:00Z"),
            ],
        );
        let continuity = finding(&out, CLOUDTRAIL_CONTINUITY);
        assert_eq!(continuity.status, Status::Fail, "{}", continuity.reason);
        assert!(
            continuity.remediation.starts_with(&format!(
                "No command to run: trail {ARN} passes as collected"
            )),
            "{}",
            continuity.remediation
        );
        assert!(
            continuity.remediation.ends_with(&format!(
                "aws cloudtrail lookup-events --start-time 2026-10-10T08:00:00Z --end-time \
                 2026-10-10T09:30:00Z --region {HOME}"
            )),
            "{}",
            continuity.remediation
        );
        let stopped = run(vec![trail(true, true, true, false, all_events())], vec![]);
        assert_eq!(
            finding(&stopped, CLOUDTRAIL_CONTINUITY).remediation,
            format!("aws cloudtrail start-logging --name {ARN} --region {HOME}")
        );
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
            let multi = finding(&out, CLOUDTRAIL_MULTI_REGION);
            assert_eq!(multi.status, Status::Fail, "{selectors}");
            assert!(multi.reason.contains("excluded"), "{}", multi.reason);
        }
    }

    #[test]
    fn stop_then_start_is_a_gap_with_start_and_end() {
        let out = run(
            vec![trail(true, true, true, true, all_events())],
            vec![
                on_trail("StopLogging", "2026-10-12T22:00:00Z"),
                on_trail("StartLogging", "2026-10-13T01:30:00Z"),
            ],
        );
        assert_eq!(out.logging_gaps.len(), 1, "{:?}", out.logging_gaps);
        let gap = &out.logging_gaps[0];
        assert_eq!(gap.ended_at, Some(at("2026-10-13T01:30:00Z")));
        assert_eq!(gap.duration_text(), "3 h 30 min");
        assert_eq!(gap.started_by, "arn:aws:iam::111111111111:user/ops");
        assert_eq!(status(&out, CLOUDTRAIL_CONTINUITY), Status::Fail);
        let multi = finding(&out, CLOUDTRAIL_MULTI_REGION);
        assert_eq!(
            multi.status,
            Status::Fail,
            "at every moment: {}",
            multi.reason
        );
        assert!(
            multi
                .reason
                .contains("from 2026-10-12 22:00:00 UTC to 2026-10-13 01:30:00 UTC"),
            "{}",
            multi.reason
        );
    }

    #[test]
    fn failed_stop_logging_opens_no_gap_and_unresumed_stop_runs_to_period_end() {
        let out = run(
            vec![trail(true, true, true, true, all_events())],
            vec![event(
                "StopLogging",
                "2026-10-12T22:00:00Z",
                json!({"name": ARN}),
                Some("AccessDenied"),
            )],
        );
        assert!(out.logging_gaps.is_empty());
        assert_eq!(status(&out, CLOUDTRAIL_CONTINUITY), Status::Pass);
        let mut t = trail(true, true, true, false, all_events());
        t.status.as_mut().unwrap().stop_logging_time = Some(at("2026-10-31T23:00:00Z"));
        let out = run(
            vec![t],
            vec![on_trail("StopLogging", "2026-10-31T23:00:00Z")],
        );
        assert_eq!(out.logging_gaps[0].ended_at, None);
        assert_eq!(out.logging_gaps[0].minutes, 60);
    }

    /// D2a: stopped before the period, restarted after it: the restart event (or the status's
    /// StartLoggingTime) after the period shows the whole period unlogged.
    #[test]
    fn a_trail_restarted_after_the_period_was_not_logging_during_it() {
        let mut t = trail(true, true, true, true, all_events());
        let status_ = t.status.as_mut().unwrap();
        status_.start_logging_time = Some(at("2026-11-01T02:00:00Z"));
        status_.stop_logging_time = Some(at("2026-09-20T00:00:00Z"));
        let out = run(
            vec![t],
            vec![on_trail("StartLogging", "2026-11-01T02:00:00Z")],
        );
        assert_eq!(status(&out, CLOUDTRAIL_CONTINUITY), Status::Fail);
        assert_eq!(out.logging_gaps[0].started_at, period().start);
        assert_eq!(out.logging_gaps[0].ended_at, None);
        assert_eq!(status(&out, CLOUDTRAIL_MULTI_REGION), Status::Fail);
        // Without the status times, the event alone leaves the period unknown, never PASS.
        let mut t = trail(true, true, true, true, all_events());
        t.status.as_mut().unwrap().start_logging_time = None;
        let out = run(
            vec![t],
            vec![on_trail("StartLogging", "2026-11-01T02:00:00Z")],
        );
        assert_eq!(status(&out, CLOUDTRAIL_CONTINUITY), Status::EvidenceGap);
        assert!(
            finding(&out, CLOUDTRAIL_CONTINUITY)
                .reason
                .contains("StartLogging"),
            "{}",
            finding(&out, CLOUDTRAIL_CONTINUITY).reason
        );
    }

    /// Section 1: every trail setting a control uses is judged over the period. A setting
    /// fixed after the period by a recorded UpdateTrail / PutEventSelectors was off during it.
    #[test]
    fn settings_fixed_after_the_period_fail_for_the_period_naming_interval_and_event() {
        let t = trail(true, true, true, true, all_events());
        let out = run(
            vec![t.clone()],
            vec![
                event(
                    "UpdateTrail",
                    "2026-10-05T00:00:00Z",
                    json!({"name": "main", "enableLogFileValidation": false, "kmsKeyId": ""}),
                    None,
                ),
                event(
                    "UpdateTrail",
                    "2026-11-01T03:00:00Z",
                    json!({"name": "main", "enableLogFileValidation": true,
                        "kmsKeyId": "alias/trail"}),
                    None,
                ),
            ],
        );
        for control in [CLOUDTRAIL_LOG_VALIDATION, CLOUDTRAIL_ENCRYPTION] {
            let judged = finding(&out, control);
            assert_eq!(judged.status, Status::Fail, "{control}: {}", judged.reason);
            assert!(
                judged.reason.contains(
                    "from 2026-10-05 00:00:00 UTC to 2026-11-01 00:00:00 UTC (since UpdateTrail UpdateTrail-2026-10-05T00:00:00Z"
                ),
                "{}",
                judged.reason
            );
        }
        // Multi-region turned off and selectors reduced inside the period, restored after it.
        let out = run(
            vec![t.clone()],
            vec![
                event(
                    "UpdateTrail",
                    "2026-10-10T00:00:00Z",
                    json!({"name": ARN, "isMultiRegionTrail": false}),
                    None,
                ),
                event(
                    "UpdateTrail",
                    "2026-10-12T00:00:00Z",
                    json!({"name": ARN, "isMultiRegionTrail": true}),
                    None,
                ),
            ],
        );
        let multi = finding(&out, CLOUDTRAIL_MULTI_REGION);
        assert_eq!(multi.status, Status::Fail, "{}", multi.reason);
        assert!(multi.reason.contains("single-region"), "{}", multi.reason);
        let out = run(
            vec![t],
            vec![event(
                "PutEventSelectors",
                "2026-11-01T01:00:00Z",
                json!({"trailName": "main", "eventSelectors": [{"readWriteType": "All",
                    "includeManagementEvents": true, "excludeManagementEventSources": []}]}),
                None,
            )],
        );
        let multi = finding(&out, CLOUDTRAIL_MULTI_REGION);
        assert_eq!(
            multi.status,
            Status::EvidenceGap,
            "the selectors before the change are not recorded: {}",
            multi.reason
        );
        assert!(
            multi.reason.contains("PutEventSelectors"),
            "{}",
            multi.reason
        );
    }

    /// A trail created in the period is known from its creation; the account has no
    /// qualifying trail before it.
    #[test]
    fn a_trail_created_in_the_period_leaves_the_time_before_it_without_a_trail() {
        let t = trail(true, true, true, true, all_events());
        let mut t = t;
        t.status.as_mut().unwrap().start_logging_time = Some(at("2026-10-10T00:05:00Z"));
        let out = run(
            vec![t],
            vec![
                event(
                    "CreateTrail",
                    "2026-10-10T00:00:00Z",
                    json!({"name": "main", "isMultiRegionTrail": true,
                        "enableLogFileValidation": true, "kmsKeyId": "alias/trail"}),
                    None,
                ),
                on_trail("StartLogging", "2026-10-10T00:05:00Z"),
            ],
        );
        let multi = finding(&out, CLOUDTRAIL_MULTI_REGION);
        assert_eq!(multi.status, Status::Fail, "{}", multi.reason);
        assert!(
            multi.reason.contains(
                "from 2026-10-01 00:00:00 UTC to 2026-10-10 00:00:00 UTC: main: did not exist"
            ),
            "{}",
            multi.reason
        );
        assert_eq!(status(&out, CLOUDTRAIL_ENCRYPTION), Status::Pass);
        assert_eq!(status(&out, CLOUDTRAIL_LOG_VALIDATION), Status::Pass);
        // Created, then not logging for five minutes.
        assert_eq!(status(&out, CLOUDTRAIL_CONTINUITY), Status::Fail);
        assert_eq!(out.logging_gaps[0].minutes, 5);
    }

    /// D12: a StopLogging whose record cannot be read leaves continuity unproven.
    #[test]
    fn an_unreadable_stop_logging_is_a_continuity_gap_not_a_pass() {
        let mut unreadable = on_trail("StopLogging", "2026-10-12T22:00:00Z");
        unreadable["CloudTrailEvent"] = json!("{not json");
        let out = run(
            vec![trail(true, true, true, true, all_events())],
            vec![unreadable],
        );
        let continuity = finding(&out, CLOUDTRAIL_CONTINUITY);
        assert_eq!(
            continuity.status,
            Status::EvidenceGap,
            "{}",
            continuity.reason
        );
        assert!(
            continuity.reason.contains("cannot be read"),
            "{}",
            continuity.reason
        );
        assert_eq!(status(&out, CLOUDTRAIL_MULTI_REGION), Status::EvidenceGap);
    }

    #[test]
    fn a_trail_deleted_in_the_period_is_a_logging_gap_and_no_trail_after_it() {
        let out = run(
            vec![],
            vec![on_trail("DeleteTrail", "2026-10-20T00:00:00Z")],
        );
        let continuity = finding(&out, CLOUDTRAIL_CONTINUITY);
        assert_eq!(continuity.status, Status::Fail, "{}", continuity.reason);
        assert_eq!(out.logging_gaps[0].cause, "DeleteTrail");
        assert_eq!(out.logging_gaps[0].started_at, at("2026-10-20T00:00:00Z"));
        let multi = finding(&out, CLOUDTRAIL_MULTI_REGION);
        assert_eq!(multi.status, Status::Fail, "{}", multi.reason);
    }

    #[test]
    fn trail_row_and_kms_exclusion_column_are_kept() {
        let out = run(vec![trail(true, true, true, true, all_events())], vec![]);
        assert_eq!(out.trails.len(), 1);
        assert_eq!(out.trails[0].management_events, "read+write");
        assert!(!out.trails[0].kms_events_excluded);
    }

    fn with_status(edit: impl FnOnce(&mut crate::evidence::TrailStatus)) -> TrailEvidence {
        let mut t = trail(true, true, true, true, all_events());
        if let Some(status) = t.status.as_mut() {
            edit(status);
        }
        t
    }

    /// Section 1: a delivery error, or no delivery within the policy's limit, is a logging
    /// gap from the last successful delivery, even with no StopLogging anywhere.
    #[test]
    fn undelivered_log_files_are_a_logging_gap_without_any_stop() {
        let out = run(
            vec![with_status(|s| {
                s.latest_delivery_time = Some(at("2026-10-20T10:00:00Z"));
                s.latest_delivery_error = Some("AccessDenied".to_string());
            })],
            vec![],
        );
        assert_eq!(status(&out, CLOUDTRAIL_CONTINUITY), Status::Fail);
        assert_eq!(out.logging_gaps[0].started_at, at("2026-10-20T10:00:00Z"));
        assert!(
            out.logging_gaps[0]
                .cause
                .contains("LatestDeliveryError AccessDenied")
        );
        let out = run(
            vec![with_status(|s| {
                s.extra
                    .insert("LatestDigestDeliveryError".into(), json!("NoSuchBucket"));
                s.extra.insert(
                    "LatestDigestDeliveryTime".into(),
                    json!("2026-10-03T00:00:00Z"),
                );
            })],
            vec![],
        );
        assert_eq!(status(&out, CLOUDTRAIL_CONTINUITY), Status::Fail);
        assert!(out.logging_gaps[0].cause.contains("digest files"));
        // Stale: nothing delivered for more than the policy's 24 hours before collection.
        let out = run(
            vec![with_status(|s| {
                s.latest_delivery_time = Some(at("2026-10-25T00:00:00Z"))
            })],
            vec![],
        );
        assert_eq!(status(&out, CLOUDTRAIL_CONTINUITY), Status::Fail);
        assert_eq!(out.logging_gaps[0].started_at, at("2026-10-25T00:00:00Z"));
        // A longer policy limit accepts it.
        let snapshot = snapshot_with(
            vec![with_status(|s| {
                s.latest_delivery_time = Some(at("2026-10-25T00:00:00Z"))
            })],
            vec![],
            |s| s["policy"] = json!({"max_rotation_days": 365, "max_delivery_age_hours": 240}),
        );
        assert_eq!(
            status(&evaluate(&snapshot), CLOUDTRAIL_CONTINUITY),
            Status::Pass
        );
        // An error whose last good delivery is after the period cannot be dated: a gap.
        let out = run(
            vec![with_status(|s| {
                s.latest_delivery_time = Some(at("2026-11-01T02:00:00Z"));
                s.latest_delivery_error = Some("AccessDenied".to_string());
            })],
            vec![],
        );
        assert_eq!(status(&out, CLOUDTRAIL_CONTINUITY), Status::EvidenceGap);
    }

    /// CloudTrail cannot deliver log files encrypted with a disabled or pending-deletion key:
    /// the key's own history dates it.
    #[test]
    fn a_disabled_trail_key_in_the_evidence_is_a_logging_gap() {
        let key = |state: &str| {
            json!({"kms": {"keys": [{"metadata": {"KeyId": "k1", "KeyManager": "CUSTOMER",
                "KeyState": state, "Enabled": state == "Enabled"}}]}})
        };
        let disable = json!({"EventId": "dk", "EventName": "DisableKey",
            "EventSource": "kms.amazonaws.com", "EventTime": "2026-10-15T00:00:00Z",
            "ReadOnly": "false", "CloudTrailEvent": json!({"eventTime": "2026-10-15T00:00:00Z",
            "eventSource": "kms.amazonaws.com", "eventName": "DisableKey",
            "userIdentity": {"type": "Root"}, "requestParameters": {"keyId": "k1"}}).to_string()});
        let snapshot = snapshot_with(
            vec![trail(true, true, true, true, all_events())],
            vec![],
            |s| {
                let region = &mut s["accounts"][0]["regions"][0];
                region["kms"] = key("Disabled")["kms"].clone();
                region["cloudtrail"]["events"] = json!([disable]);
            },
        );
        let out = evaluate(&snapshot);
        assert_eq!(status(&out, CLOUDTRAIL_CONTINUITY), Status::Fail);
        assert_eq!(out.logging_gaps[0].started_at, at("2026-10-15T00:00:00Z"));
        assert!(out.logging_gaps[0].cause.contains("Disabled"));
        let snapshot = snapshot_with(
            vec![trail(true, true, true, true, all_events())],
            vec![],
            |s| s["accounts"][0]["regions"][0]["kms"] = key("PendingDeletion")["kms"].clone(),
        );
        let out = evaluate(&snapshot);
        assert_eq!(out.logging_gaps[0].started_at, period().start);
    }

    /// Section 1: a trail's status and events are its home region's; a home region outside
    /// the scope is read there, and without it continuity is a gap.
    #[test]
    fn a_trail_homed_outside_the_scope_needs_its_home_region() {
        let mut t = trail(true, true, true, true, all_events());
        t.trail.home_region = Some("us-east-1".into());
        t.trail.trail_arn = Some("arn:aws:cloudtrail:us-east-1:111111111111:trail/main".into());
        let mut shadow = t.clone();
        shadow.status = None;
        shadow.event_selectors = None;
        let out = run(vec![shadow.clone()], vec![]);
        let continuity = finding(&out, CLOUDTRAIL_CONTINUITY);
        assert_eq!(continuity.status, Status::EvidenceGap);
        assert!(
            continuity
                .reason
                .contains("home region us-east-1 was not collected"),
            "{}",
            continuity.reason
        );
        let home = json!([{"region": "us-east-1", "cloudtrail": {"trails": [t],
            "events": [], "lookup_queries": [], "events_until": COLLECTED}}]);
        let snapshot = snapshot_with(vec![shadow], vec![], |s| {
            s["accounts"][0]["trail_home_regions"] = home
        });
        let out = evaluate(&snapshot);
        for control in [CLOUDTRAIL_CONTINUITY, CLOUDTRAIL_MULTI_REGION] {
            assert_eq!(
                status(&out, control),
                Status::Pass,
                "{}",
                finding(&out, control).reason
            );
        }
    }

    /// D2c: only the account's own trails and organization trails count; an organization
    /// trail of another account is named with its owner, and without the owner's events its
    /// continuity is a gap.
    #[test]
    fn trails_of_other_accounts_count_only_as_organization_trails_named_with_their_owner() {
        let mut org = trail(true, true, true, true, all_events());
        org.trail.trail_arn =
            Some("arn:aws:cloudtrail:eu-central-1:999999999999:trail/main".into());
        org.trail.is_organization_trail = Some(true);
        let out = run(vec![org.clone()], vec![]);
        let continuity = finding(&out, CLOUDTRAIL_CONTINUITY);
        assert_eq!(continuity.status, Status::EvidenceGap);
        assert!(
            continuity.reason.contains("account 999999999999"),
            "{}",
            continuity.reason
        );
        let multi = finding(&out, CLOUDTRAIL_MULTI_REGION);
        assert_eq!(multi.status, Status::EvidenceGap, "{}", multi.reason);
        assert!(
            multi
                .reason
                .contains("main (organization trail of account 999999999999)"),
            "{}",
            multi.reason
        );
        let mut foreign = org;
        foreign.trail.is_organization_trail = Some(false);
        let out = run(vec![foreign], vec![]);
        let multi = finding(&out, CLOUDTRAIL_MULTI_REGION);
        assert_eq!(multi.status, Status::Fail, "{}", multi.reason);
        assert!(multi.reason.contains("Not counted"), "{}", multi.reason);
    }

    /// Issue 13: a scoped region with no evidence is EVIDENCE_GAP, never NO_RESOURCES and
    /// never "no trail exists".
    #[test]
    fn a_scoped_region_without_evidence_is_a_gap_never_no_trail() {
        let snapshot = snapshot_with(vec![], vec![], |s| {
            s["scope"]["regions"] = json!([HOME, "eu-west-1"]);
        });
        let out = evaluate(&snapshot);
        for control in [
            CLOUDTRAIL_MULTI_REGION,
            CLOUDTRAIL_ENCRYPTION,
            CLOUDTRAIL_LOG_VALIDATION,
            CLOUDTRAIL_CONTINUITY,
        ] {
            let judged = finding(&out, control);
            assert_eq!(judged.status, Status::EvidenceGap, "{control}");
            assert!(
                !judged.reason.contains("no CloudTrail trail exists"),
                "{}",
                judged.reason
            );
            assert!(judged.reason.contains("eu-west-1"), "{}", judged.reason);
        }
    }
}
