//! The change register: every write event of the period on API Gateway, KMS, ElastiCache and
//! CloudTrail, with who, when, from where and what, classified as weakening, strengthening or
//! neutral.
//! Weakening changes that took effect are findings of the change-control control.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::catalog::CHANGE_CONTROL;
use super::change_records::{ChangeRecords, RecordLink};
use super::events::{self, patch_operations, text};
use super::{Available, Evaluation, RegionScope, Status};
use crate::evidence::{CloudTrailEvidence, LookupEvent, Policy, Timestamp};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ChangeClass {
    Weakening,
    Strengthening,
    Neutral,
}

impl ChangeClass {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeClass::Weakening => "WEAKENING",
            ChangeClass::Strengthening => "STRENGTHENING",
            ChangeClass::Neutral => "NEUTRAL",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeRow {
    pub event_time: Timestamp,
    pub account_id: String,
    pub region: String,
    pub event_source: String,
    pub event_name: String,
    pub event_id: String,
    /// userIdentity ARN, or the invoking service for AWS service events.
    pub actor: String,
    pub actor_type: String,
    pub invoked_by: String,
    pub session_issuer: String,
    pub source_ip: String,
    pub user_agent: String,
    /// The stage, key or trail the event is about.
    pub resource: String,
    pub request_summary: String,
    /// Set for failed calls, which are listed but changed nothing.
    pub error_code: String,
    pub error_message: String,
    pub classification: ChangeClass,
    pub classification_reason: String,
    /// The change record that accounts for the change (`report --change-records`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change_record: Option<RecordLink>,
}

impl ChangeRow {
    pub fn sort_key(&self) -> (Timestamp, &str, &str, &str) {
        (
            self.event_time,
            &self.account_id,
            &self.region,
            &self.event_id,
        )
    }

    /// True when the call succeeded, i.e. the change took effect.
    pub fn took_effect(&self) -> bool {
        self.error_code.is_empty()
    }
}

// The subset of a CloudTrail record the register needs. Everything else stays in the raw
// `CloudTrailEvent` string of the snapshot.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct Record {
    event_time: Option<Timestamp>,
    event_source: Option<String>,
    event_name: Option<String>,
    aws_region: Option<String>,
    #[serde(rename = "sourceIPAddress")]
    source_ip_address: Option<String>,
    user_agent: Option<String>,
    error_code: Option<String>,
    error_message: Option<String>,
    request_parameters: Option<Value>,
    user_identity: Option<UserIdentity>,
    recipient_account_id: Option<String>,
    read_only: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct UserIdentity {
    #[serde(rename = "type")]
    kind: Option<String>,
    arn: Option<String>,
    account_id: Option<String>,
    invoked_by: Option<String>,
    user_name: Option<String>,
    session_context: Option<SessionContext>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct SessionContext {
    session_issuer: Option<SessionIssuer>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct SessionIssuer {
    arn: Option<String>,
}

/// The record of an event, `None` when it is not a JSON object of the documented shape.
fn read_record(event: &LookupEvent) -> Option<Record> {
    serde_json::from_str(&event.cloud_trail_event).ok()
}

/// Why a write event's CloudTrail record cannot be read well enough to know what it changed.
/// Every CloudTrail record carries eventTime, eventSource, eventName and userIdentity
/// (CloudTrail record contents, AWS CloudTrail User Guide); without them, or without the
/// request of an event judged by its request, the change is unknown — an evidence gap, never
/// a neutral change.
fn unreadable_reason(event: &LookupEvent, record: Option<&Record>) -> Option<&'static str> {
    let Some(record) = record else {
        return Some("the CloudTrail record does not have the documented shape");
    };
    if record.event_time.is_none()
        || record.event_source.is_none()
        || record.event_name.is_none()
        || record.user_identity.is_none()
    {
        return Some(
            "the CloudTrail record lacks eventTime, eventSource, eventName or userIdentity",
        );
    }
    let needs_request =
        events::find(&event.event_source, &event.event_name).is_some_and(|r| r.needs_request());
    if needs_request
        && record
            .request_parameters
            .as_ref()
            .is_none_or(Value::is_null)
    {
        return Some("the CloudTrail record has no requestParameters");
    }
    None
}

/// Read-only calls are not changes. LookupEvents flags them; older records lack the flag.
fn is_read_only(event: &LookupEvent, record: &Record) -> bool {
    if let Some(flag) = event.read_only.as_deref() {
        return flag == "true";
    }
    if let Some(flag) = record.read_only {
        return flag;
    }
    ["Get", "List", "Describe", "Lookup"]
        .iter()
        .any(|prefix| event.event_name.starts_with(prefix))
}

fn param<'a>(params: Option<&'a Value>, name: &str) -> Option<&'a Value> {
    params?.get(name)
}

fn resource_of(event: &LookupEvent, record: &Record) -> String {
    let params = record.request_parameters.as_ref();
    let from_params = match event.event_source.as_str() {
        events::APIGATEWAY => {
            let api = text(param(params, "restApiId"));
            let stage = text(param(params, "stageName")).or_else(|| {
                params?
                    .as_object()?
                    .values()
                    .find_map(|inner| text(inner.get("stageName")))
            });
            match (api, stage) {
                (Some(api), Some(stage)) => Some(format!("restapi {api} stage {stage}")),
                (Some(api), None) => {
                    let resource = text(param(params, "resourceId"));
                    let method = text(param(params, "httpMethod"));
                    match (resource, method) {
                        (Some(r), Some(m)) => Some(match method_path(event, &api, &m) {
                            // People know a method by its path (`/health`); the id stays for the CLI.
                            Some(path) => format!("restapi {api} {m} {path} (resource {r})"),
                            None => format!("restapi {api} resource {r} {m}"),
                        }),
                        _ => Some(format!("restapi {api}")),
                    }
                }
                _ => None,
            }
        }
        events::KMS => text(param(params, "keyId"))
            .or_else(|| text(param(params, "targetKeyId")))
            .or_else(|| text(param(params, "aliasName"))),
        events::CLOUDTRAIL => {
            text(param(params, "name")).or_else(|| text(param(params, "trailName")))
        }
        events::ELASTICACHE => [
            "replicationGroupId",
            "cacheClusterId",
            "serverlessCacheName",
            "globalReplicationGroupId",
            "snapshotName",
            "userGroupId",
            "userId",
            "cacheParameterGroupName",
            "cacheSubnetGroupName",
            "resourceName",
        ]
        .iter()
        .find_map(|name| text(param(params, name))),
        // S3 bucket settings and CloudWatch Logs log group settings.
        events::S3 => text(param(params, "bucketName")),
        events::LOGS => text(param(params, "logGroupName"))
            .or_else(|| text(param(params, "resourceIdentifier"))),
        _ => None,
    };
    from_params
        .or_else(|| {
            event
                .resources
                .iter()
                .find_map(|r| text(r.get("ResourceName")))
        })
        .unwrap_or_default()
}

/// The resource path of a method event, from the event's `AWS::ApiGateway::Method` resource
/// (`{api}/{path}/{METHOD}`, the root as `{api}//{METHOD}`).
fn method_path(event: &LookupEvent, api: &str, method: &str) -> Option<String> {
    event.resources.iter().find_map(|resource| {
        if text(resource.get("ResourceType"))? != "AWS::ApiGateway::Method" {
            return None;
        }
        let name = text(resource.get("ResourceName"))?;
        let path = name
            .strip_prefix(api)?
            .strip_suffix(method)?
            .strip_suffix('/')?;
        let path = path.strip_prefix('/').unwrap_or(path);
        (!path.contains(char::is_whitespace)).then(|| format!("/{path}"))
    })
}

fn summarize_request(event: &LookupEvent, record: &Record) -> String {
    let ops = patch_operations(record.request_parameters.as_ref());
    if !ops.is_empty() {
        return ops
            .iter()
            .map(|(op, path, value)| {
                if value.is_empty() {
                    format!("{op} {path}")
                } else {
                    format!("{op} {path}={value}")
                }
            })
            .collect::<Vec<_>>()
            .join("; ");
    }
    match &record.request_parameters {
        None | Some(Value::Null) => String::new(),
        Some(params) => {
            let compact = params.to_string();
            const LIMIT: usize = 400;
            if compact.chars().count() > LIMIT {
                let cut: String = compact.chars().take(LIMIT).collect();
                format!(
                    "{cut}… (truncated; full record in evidence.json, event {})",
                    event.event_id
                )
            } else {
                compact
            }
        }
    }
}

fn actor(record: &Record, event: &LookupEvent) -> (String, String, String, String) {
    let identity = record.user_identity.as_ref();
    let kind = identity
        .and_then(|i| i.kind.clone())
        .unwrap_or_else(|| "AWS service event".to_string());
    let invoked_by = identity
        .and_then(|i| i.invoked_by.clone())
        .unwrap_or_default();
    let issuer = identity
        .and_then(|i| i.session_context.as_ref())
        .and_then(|c| c.session_issuer.as_ref())
        .and_then(|s| s.arn.clone())
        .unwrap_or_default();
    let who = identity
        .and_then(|i| i.arn.clone())
        .or_else(|| identity.and_then(|i| i.invoked_by.clone()))
        .or_else(|| identity.and_then(|i| i.user_name.clone()))
        .or_else(|| event.username.clone())
        .or_else(|| {
            identity
                .and_then(|i| i.account_id.clone())
                .map(|a| format!("account {a}"))
        })
        .unwrap_or_else(|| "unknown".to_string());
    (who, kind, invoked_by, issuer)
}

/// Builds the register row of one event, or `None` for read-only calls.
pub fn change_row(scope: &RegionScope, event: &LookupEvent, policy: &Policy) -> Option<ChangeRow> {
    let record = read_record(event).unwrap_or_default();
    change_row_of(scope, event, &record, policy)
}

/// The register row of a write event whose record is read (`None` for a read-only call).
fn change_row_of(
    scope: &RegionScope,
    event: &LookupEvent,
    record: &Record,
    policy: &Policy,
) -> Option<ChangeRow> {
    if is_read_only(event, record) {
        return None;
    }
    let (actor, actor_type, invoked_by, session_issuer) = actor(record, event);
    let (classification, classification_reason) = match record.error_code.as_deref() {
        // A failed call changed nothing: never WEAKENING, but what it tried stays visible.
        Some(code) => {
            let (would_be, why) = events::classify(
                &event.event_source,
                &event.event_name,
                record.request_parameters.as_ref(),
                policy,
            );
            (
                ChangeClass::Neutral,
                format!(
                    "the call failed ({code}) and changed nothing; had it succeeded: {} ({why})",
                    would_be.as_str()
                ),
            )
        }
        None => events::classify(
            &event.event_source,
            &event.event_name,
            record.request_parameters.as_ref(),
            policy,
        ),
    };
    Some(ChangeRow {
        event_time: record.event_time.unwrap_or(event.event_time),
        account_id: record
            .recipient_account_id
            .clone()
            .unwrap_or_else(|| scope.account_id.to_string()),
        region: record
            .aws_region
            .clone()
            .unwrap_or_else(|| scope.region.to_string()),
        event_source: record
            .event_source
            .clone()
            .unwrap_or_else(|| event.event_source.clone()),
        event_name: record
            .event_name
            .clone()
            .unwrap_or_else(|| event.event_name.clone()),
        event_id: event.event_id.clone(),
        actor,
        actor_type,
        invoked_by,
        session_issuer,
        source_ip: record.source_ip_address.clone().unwrap_or_default(),
        user_agent: record.user_agent.clone().unwrap_or_default(),
        resource: resource_of(event, record),
        request_summary: summarize_request(event, record),
        error_code: record.error_code.clone().unwrap_or_default(),
        error_message: record.error_message.clone().unwrap_or_default(),
        classification,
        classification_reason,
        change_record: None,
    })
}

/// `records`: QA's change records; a weakening change one of them approved beforehand is
/// CONTROLLED (Annex 11 §10), every other weakening change that took effect is a FAIL.
pub fn evaluate_region(
    scope: &RegionScope,
    evidence: Option<&CloudTrailEvidence>,
    policy: &Policy,
    records: &ChangeRecords,
    out: &mut Evaluation,
) {
    let lookup_gaps = scope.lookup_gaps();
    let rows = [(CHANGE_CONTROL, None)];
    let Some(Available { evidence, complete }) =
        scope.available(&rows, "CloudTrail event", &lookup_gaps, evidence, out)
    else {
        return;
    };
    // Each record is parsed once: for its row, and for whether it could be read at all.
    let mut rows: Vec<ChangeRow> = Vec::new();
    let mut unreadable: Vec<String> = Vec::new();
    let unread = Record::default();
    for event in &evidence.events {
        let parsed = read_record(event);
        let record = parsed.as_ref().unwrap_or(&unread);
        if is_read_only(event, record) {
            continue;
        }
        if let Some(why) = unreadable_reason(event, parsed.as_ref()) {
            unreadable.push(format!("{} {} ({why})", event.event_name, event.event_id));
        }
        rows.extend(change_row_of(scope, event, record, policy).map(|mut row| {
            row.change_record = records.link(&row);
            row
        }));
    }
    if !unreadable.is_empty() {
        out.findings.push(scope.finding(
            CHANGE_CONTROL,
            "(region)",
            None,
            Status::EvidenceGap,
            format!(
                "{} change event(s) could not be read, so what they changed is unknown: {}",
                unreadable.len(),
                unreadable.join("; ")
            ),
        ));
    }
    let mut weakening = 0;
    for row in &rows {
        if row.classification == ChangeClass::Weakening && row.took_effect() {
            weakening += 1;
            let (status, record_text) = controlled_by(row, records);
            let fix = super::remediation::change_control_fix(row, policy.max_rotation_days);
            out.findings.push(
                scope
                    .finding(
                        CHANGE_CONTROL,
                        format!("{} {}", row.event_name, row.resource),
                        None,
                        status,
                        format!(
                            "{} at {} by {}: {}; {record_text}",
                            row.event_name,
                            row.event_time.display_utc(),
                            row.actor,
                            row.classification_reason
                        ),
                    )
                    .with_remediation(fix),
            );
        }
    }
    if complete && unreadable.is_empty() && weakening == 0 {
        let (status, reason) = if rows.is_empty() {
            (
                Status::NoResources,
                "no write events on API Gateway, CloudTrail, CloudWatch Logs (log groups), ElastiCache, KMS or S3 (bucket settings) in the period"
                    .to_string(),
            )
        } else {
            (
                Status::Pass,
                format!("{} change(s) in the period, none weakening", rows.len()),
            )
        };
        out.findings
            .push(scope.finding(CHANGE_CONTROL, "(region)", None, status, reason));
    }
    out.changes.extend(rows);
}

/// The status of an applied weakening change and what its finding says of its change record:
/// CONTROLLED only with a record approved before the change (Annex 11 §10: changes are made
/// in a controlled manner, i.e. approved first; a record written afterwards documents an
/// uncontrolled change).
fn controlled_by(row: &ChangeRow, records: &ChangeRecords) -> (Status, String) {
    let record = row
        .change_record
        .as_ref()
        .and_then(|link| Some((link, records.find(&link.record_id)?)));
    match record {
        Some((link, record)) if link.approved_before => (
            Status::Controlled,
            format!(
                "controlled by change record {} \"{}\", approved by {} at {}",
                record.id,
                record.title,
                record.approved_by,
                record.approval.describe()
            ),
        ),
        Some((_, record)) => (
            Status::Fail,
            format!(
                "change record {} was approved after the change (at {}); needs a documented change record approved before it",
                record.id,
                record.approval.describe()
            ),
        ),
        None => (Status::Fail, "needs a documented change record".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The CloudTrail evidence of a region holding only `events`.
    fn with_events(events: Vec<LookupEvent>) -> CloudTrailEvidence {
        CloudTrailEvidence {
            trails: vec![],
            events,
            lookup_queries: vec![],
            events_after_period: Vec::new(),
            events_until: None,
            events_from: None,
            log_integrity: None,
            extra: Default::default(),
        }
    }

    fn lookup(record: Value, read_only: Option<&str>) -> LookupEvent {
        LookupEvent {
            event_id: "e1".into(),
            event_name: record["eventName"].as_str().unwrap().into(),
            event_source: record["eventSource"].as_str().unwrap().into(),
            event_time: Timestamp::parse("2026-10-05T10:00:00Z").unwrap(),
            read_only: read_only.map(String::from),
            username: None,
            access_key_id: None,
            resources: Vec::new(),
            cloud_trail_event: record.to_string(),
            extra: Default::default(),
        }
    }

    #[test]
    fn change_events_whose_record_cannot_be_read_are_a_gap_not_a_neutral_change() {
        let gaps = Vec::new();
        let scope = RegionScope::new("111111111111", "eu-central-1", &gaps);
        let identity = json!({"type": "IAMUser", "arn": "arn:aws:iam::111111111111:user/eve"});
        let readable = lookup(
            json!({"eventName": "CreateDeployment", "eventSource": "apigateway.amazonaws.com",
            "eventTime": "2026-10-05T10:00:00Z", "userIdentity": identity,
            "requestParameters": {"restApiId": "a1"}}),
            Some("false"),
        );
        let mut without_request = lookup(
            json!({"eventName": "UpdateStage", "eventSource": "apigateway.amazonaws.com",
            "eventTime": "2026-10-05T10:00:00Z", "userIdentity": identity,
            "requestParameters": null}),
            Some("false"),
        );
        without_request.event_id = "e2".into();
        let mut bare = lookup(
            json!({"eventName": "StopLogging", "eventSource": "cloudtrail.amazonaws.com"}),
            Some("false"),
        );
        bare.cloud_trail_event = json!({"eventVersion": "1.08"}).to_string();
        bare.event_id = "e3".into();
        for (events, unreadable) in [
            (vec![readable.clone()], 0),
            (vec![readable.clone(), without_request], 1),
            (vec![readable, bare], 1),
        ] {
            let evidence = with_events(events);
            let mut out = Evaluation::default();
            evaluate_region(
                &scope,
                Some(&evidence),
                &Policy::default(),
                &ChangeRecords::default(),
                &mut out,
            );
            let gaps: Vec<&crate::controls::Finding> = out
                .findings
                .iter()
                .filter(|f| f.status == Status::EvidenceGap)
                .collect();
            assert_eq!(gaps.len(), unreadable, "{:#?}", out.findings);
            assert!(
                gaps.iter().all(|g| g.reason.contains("could not be read")),
                "{gaps:#?}"
            );
            if unreadable > 0 {
                assert!(out.findings.iter().all(|f| f.status != Status::Pass));
            }
        }
    }

    #[test]
    fn failed_weakening_calls_are_listed_neutral_and_are_not_findings() {
        let gaps = Vec::new();
        let scope = RegionScope::new("111111111111", "eu-central-1", &gaps);
        let failed = lookup(
            json!({"eventName": "DisableKeyRotation", "eventSource": "kms.amazonaws.com",
            "eventTime": "2026-10-05T10:00:00Z", "errorCode": "AccessDenied",
            "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111111111111:user/eve"},
            "requestParameters": {"keyId": "k1"}}),
            Some("false"),
        );
        let evidence = with_events(vec![failed]);
        let mut out = Evaluation::default();
        evaluate_region(
            &scope,
            Some(&evidence),
            &Policy::default(),
            &ChangeRecords::default(),
            &mut out,
        );
        assert_eq!(out.changes.len(), 1);
        assert_eq!(out.changes[0].error_code, "AccessDenied");
        assert_eq!(out.changes[0].classification, ChangeClass::Neutral);
        assert!(
            out.changes[0]
                .classification_reason
                .contains("failed (AccessDenied) and changed nothing; had it succeeded: WEAKENING"),
            "{}",
            out.changes[0].classification_reason
        );
        assert_eq!(out.findings.len(), 1);
        assert_eq!(out.findings[0].status, Status::Pass);
    }

    #[test]
    fn effective_weakening_change_is_a_failing_finding_and_reads_are_skipped() {
        let gaps = Vec::new();
        let scope = RegionScope::new("111111111111", "eu-central-1", &gaps);
        let stop = lookup(
            json!({"eventName": "StopLogging", "eventSource": "cloudtrail.amazonaws.com",
            "eventTime": "2026-10-05T10:00:00Z",
            "userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::111111111111:assumed-role/Admin/jo",
                "sessionContext": {"sessionIssuer": {"arn": "arn:aws:iam::111111111111:role/Admin"}}},
            "sourceIPAddress": "198.51.100.7", "requestParameters": {"name": "org-trail"}}),
            Some("false"),
        );
        let read = lookup(
            json!({"eventName": "DescribeTrails", "eventSource": "cloudtrail.amazonaws.com"}),
            Some("true"),
        );
        let evidence = with_events(vec![stop, read]);
        let mut out = Evaluation::default();
        evaluate_region(
            &scope,
            Some(&evidence),
            &Policy::default(),
            &ChangeRecords::default(),
            &mut out,
        );
        assert_eq!(out.changes.len(), 1);
        let row = &out.changes[0];
        assert_eq!(row.resource, "org-trail");
        assert_eq!(row.session_issuer, "arn:aws:iam::111111111111:role/Admin");
        assert_eq!(out.findings.len(), 1);
        assert_eq!(out.findings[0].status, Status::Fail);
        assert!(out.findings[0].reason.contains("trail logging stopped"));
    }

    #[test]
    fn a_weakening_change_approved_beforehand_is_controlled_and_a_late_record_stays_fail() {
        use crate::controls::change_records::ChangeRecordsFile;
        let gaps = Vec::new();
        let scope = RegionScope::new("111111111111", "eu-central-1", &gaps);
        let disable = lookup(
            json!({"eventName": "DisableKeyRotation", "eventSource": "kms.amazonaws.com",
            "eventTime": "2026-10-05T10:00:00Z",
            "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111111111111:user/eve"},
            "requestParameters": {"keyId": "k1"}}),
            Some("false"),
        );
        let evidence = with_events(vec![disable]);
        for (approved_at, status, says) in [
            (
                "2026-10-05T09:59:59Z",
                Status::Controlled,
                "controlled by change record CR-7 \"Rotate\", approved by Jo",
            ),
            (
                "2026-10-05T10:00:01Z",
                Status::Fail,
                "change record CR-7 was approved after the change",
            ),
        ] {
            let file = ChangeRecordsFile::parse(
                "r.csv",
                format!(
                    "id,title,approved_by,approved_at,event_id\nCR-7,Rotate,Jo,{approved_at},e1\n"
                )
                .into_bytes(),
            )
            .unwrap();
            let mut out = Evaluation::default();
            evaluate_region(
                &scope,
                Some(&evidence),
                &Policy::default(),
                &file.records,
                &mut out,
            );
            assert_eq!(out.findings.len(), 1, "{:#?}", out.findings);
            assert_eq!(out.findings[0].status, status);
            assert!(
                out.findings[0].reason.contains(says),
                "{}",
                out.findings[0].reason
            );
            assert_eq!(
                out.changes[0]
                    .change_record
                    .as_ref()
                    .map(|l| l.record_id.as_str()),
                Some("CR-7")
            );
        }
    }

    #[test]
    fn aws_service_events_without_identity_type_name_the_service() {
        let gaps = Vec::new();
        let scope = RegionScope::new("111111111111", "eu-central-1", &gaps);
        let rotate = lookup(
            json!({"eventName": "RotateKey", "eventSource": "kms.amazonaws.com",
            "userIdentity": {"accountId": "111111111111", "invokedBy": "kms.amazonaws.com"},
            "resources": [{"ARN": "arn:aws:kms:eu-central-1:111111111111:key/k1"}]}),
            None,
        );
        let row = change_row(&scope, &rotate, &Policy::default()).unwrap();
        assert_eq!(row.actor, "kms.amazonaws.com");
        assert_eq!(row.actor_type, "AWS service event");
    }
}
