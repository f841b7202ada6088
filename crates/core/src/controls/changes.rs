//! The change register: every write event of the period on API Gateway, KMS and CloudTrail,
//! with who, when, from where and what, classified as weakening, strengthening or neutral.
//! Weakening changes that took effect are findings of the change-control control.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::catalog::CHANGE_CONTROL;
use super::{Evaluation, RegionScope, Status, missing_evidence_reason};
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

fn parse_record(event: &LookupEvent) -> Record {
    serde_json::from_str(&event.cloud_trail_event).unwrap_or_default()
}

/// Write events whose effect is only known from their request parameters.
const READ_FROM_REQUEST: &[&str] = &[
    "UpdateStage",
    "UpdateMethod",
    "UpdateTrail",
    "PutEventSelectors",
];

/// Why a write event's CloudTrail record cannot be read well enough to know what it changed.
/// Every CloudTrail record carries eventTime, eventSource, eventName and userIdentity
/// (CloudTrail record contents, AWS CloudTrail User Guide); without them, or without the
/// request of an event judged by its request, the change is unknown — an evidence gap, never
/// a neutral change.
fn unreadable_reason(event: &LookupEvent) -> Option<&'static str> {
    let Ok(record) = serde_json::from_str::<Record>(&event.cloud_trail_event) else {
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
    let needs_request = READ_FROM_REQUEST.contains(&event.event_name.as_str());
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

fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn param<'a>(params: Option<&'a Value>, name: &str) -> Option<&'a Value> {
    params?.get(name)
}

/// API Gateway wraps inputs (`updateStageInput`, `createStageInput`): find `patchOperations`
/// at the top or one level down.
fn patch_operations(params: Option<&Value>) -> Vec<(String, String, String)> {
    let Some(params) = params else {
        return Vec::new();
    };
    let list = params.get("patchOperations").or_else(|| {
        params
            .as_object()?
            .values()
            .find_map(|inner| inner.get("patchOperations"))
    });
    list.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|op| {
            (
                text(op.get("op")).unwrap_or_default(),
                text(op.get("path")).unwrap_or_default(),
                text(op.get("value")).unwrap_or_default(),
            )
        })
        .collect()
}

fn resource_of(event: &LookupEvent, record: &Record) -> String {
    let params = record.request_parameters.as_ref();
    let from_params = match event.event_source.as_str() {
        "apigateway.amazonaws.com" => {
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
                        (Some(r), Some(m)) => Some(format!("restapi {api} resource {r} {m}")),
                        _ => Some(format!("restapi {api}")),
                    }
                }
                _ => None,
            }
        }
        "kms.amazonaws.com" => text(param(params, "keyId"))
            .or_else(|| text(param(params, "targetKeyId")))
            .or_else(|| text(param(params, "aliasName"))),
        "cloudtrail.amazonaws.com" => {
            text(param(params, "name")).or_else(|| text(param(params, "trailName")))
        }
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

fn is_false(value: &str) -> bool {
    value.eq_ignore_ascii_case("false")
}

fn is_true(value: &str) -> bool {
    value.eq_ignore_ascii_case("true")
}

/// Classifies an API Gateway UpdateStage / UpdateMethod patch.
fn classify_patch(ops: &[(String, String, String)]) -> (ChangeClass, String) {
    let mut weakening = Vec::new();
    let mut strengthening = Vec::new();
    let encrypted_prefixes: Vec<&str> = ops
        .iter()
        .filter(|(_, path, value)| path.ends_with("/caching/dataEncrypted") && is_true(value))
        .map(|(_, path, _)| path.trim_end_matches("/caching/dataEncrypted"))
        .collect();
    for (op, path, value) in ops {
        let removing = op == "remove";
        if path.ends_with("/caching/dataEncrypted") {
            if is_false(value) || removing {
                weakening.push(format!("cache encryption turned off ({path})"));
            } else {
                strengthening.push(format!("cache encryption turned on ({path})"));
            }
        } else if path.ends_with("/caching/enabled") && is_true(value) {
            let prefix = path.trim_end_matches("/caching/enabled");
            if !encrypted_prefixes.contains(&prefix) {
                weakening.push(format!(
                    "caching enabled without enabling encryption in the same change ({path})"
                ));
            }
        } else if path.ends_with("/logging/loglevel") {
            if value.eq_ignore_ascii_case("OFF") || removing {
                weakening.push(format!("execution logging turned off ({path})"));
            } else {
                strengthening.push(format!("execution logging set to {value} ({path})"));
            }
        } else if path.starts_with("/accessLogSettings") {
            if removing {
                weakening.push("access logging removed".to_string());
            } else {
                strengthening.push("access logging configured".to_string());
            }
        } else if path == "/clientCertificateId" && (removing || value.is_empty()) {
            weakening.push("client certificate removed".to_string());
        } else if path == "/authorizationType" && value.eq_ignore_ascii_case("NONE") {
            weakening.push("method authorization set to NONE".to_string());
        } else if path == "/apiKeyRequired" && is_false(value) {
            weakening.push("API key no longer required".to_string());
        }
    }
    if !weakening.is_empty() {
        (ChangeClass::Weakening, weakening.join("; "))
    } else if !strengthening.is_empty() {
        (ChangeClass::Strengthening, strengthening.join("; "))
    } else {
        (
            ChangeClass::Neutral,
            "no security-relevant setting changed".to_string(),
        )
    }
}

/// The classification of one write event. DESIGN.md "Change register" lists the rules.
pub fn classify(
    event_name: &str,
    params: Option<&Value>,
    policy: &Policy,
) -> (ChangeClass, String) {
    use ChangeClass::*;
    let fixed = |class: ChangeClass, why: &str| (class, why.to_string());
    match event_name {
        // API Gateway
        "UpdateStage" | "UpdateMethod" => classify_patch(&patch_operations(params)),
        "DeleteStage" => fixed(Weakening, "stage deleted"),
        "DeleteRestApi" => fixed(Weakening, "REST API deleted"),
        "CreateStage" => {
            let cache = params
                .and_then(|p| p.get("createStageInput"))
                .and_then(|i| i.get("cacheClusterEnabled"))
                .and_then(Value::as_bool);
            match cache {
                Some(true) => fixed(
                    Neutral,
                    "stage created with a cache cluster (check cache encryption)",
                ),
                _ => fixed(Neutral, "stage created"),
            }
        }
        // KMS
        "DisableKeyRotation" => fixed(Weakening, "automatic key rotation disabled"),
        "DisableKey" => fixed(Weakening, "key disabled"),
        "ScheduleKeyDeletion" => fixed(Weakening, "key deletion scheduled"),
        "DeleteKey" => fixed(Weakening, "key deleted by AWS after its scheduled deletion"),
        "DeleteImportedKeyMaterial" => fixed(Weakening, "imported key material deleted"),
        "EnableKeyRotation" => {
            let days = params
                .and_then(|p| p.get("rotationPeriodInDays"))
                .and_then(Value::as_u64);
            match days {
                Some(days) if days > u64::from(policy.max_rotation_days) => (
                    Weakening,
                    format!(
                        "rotation enabled with a {days}-day period, longer than the policy's {} days",
                        policy.max_rotation_days
                    ),
                ),
                Some(days) => (
                    Strengthening,
                    format!("automatic rotation enabled every {days} days"),
                ),
                None => fixed(Strengthening, "automatic rotation enabled"),
            }
        }
        "EnableKey" => fixed(Strengthening, "key enabled"),
        "CancelKeyDeletion" => fixed(Strengthening, "scheduled key deletion cancelled"),
        "RotateKeyOnDemand" => fixed(Strengthening, "on-demand rotation of key material"),
        "RotateKey" => fixed(Strengthening, "automatic rotation performed by AWS"),
        // CloudTrail
        "StopLogging" => fixed(Weakening, "trail logging stopped"),
        "DeleteTrail" => fixed(Weakening, "trail deleted"),
        "StartLogging" => fixed(Strengthening, "trail logging started"),
        "UpdateTrail" => classify_update_trail(params),
        "PutEventSelectors" => classify_event_selectors(params),
        _ => fixed(Neutral, "no security-relevant setting changed"),
    }
}

fn classify_update_trail(params: Option<&Value>) -> (ChangeClass, String) {
    let mut weakening = Vec::new();
    let mut strengthening = Vec::new();
    let get = |name: &str| params.and_then(|p| p.get(name));
    match get("enableLogFileValidation").and_then(Value::as_bool) {
        Some(false) => weakening.push("log file validation turned off"),
        Some(true) => strengthening.push("log file validation turned on"),
        None => {}
    }
    match get("kmsKeyId").and_then(Value::as_str) {
        Some("") => weakening.push("log file encryption with KMS removed"),
        Some(_) => strengthening.push("log files encrypted with KMS"),
        None => {}
    }
    match get("isMultiRegionTrail").and_then(Value::as_bool) {
        Some(false) => weakening.push("trail reduced to a single region"),
        Some(true) => strengthening.push("trail made multi-region"),
        None => {}
    }
    if get("includeGlobalServiceEvents").and_then(Value::as_bool) == Some(false) {
        weakening.push("global service events excluded");
    }
    if !weakening.is_empty() {
        (ChangeClass::Weakening, weakening.join("; "))
    } else if !strengthening.is_empty() {
        (ChangeClass::Strengthening, strengthening.join("; "))
    } else {
        (
            ChangeClass::Neutral,
            "no security-relevant setting changed".to_string(),
        )
    }
}

fn classify_event_selectors(params: Option<&Value>) -> (ChangeClass, String) {
    let selectors = params
        .and_then(|p| p.get("eventSelectors"))
        .and_then(Value::as_array);
    let Some(selectors) = selectors else {
        return (
            ChangeClass::Neutral,
            "advanced event selectors changed (review the selectors)".to_string(),
        );
    };
    for selector in selectors {
        if selector
            .get("includeManagementEvents")
            .and_then(Value::as_bool)
            == Some(false)
        {
            return (
                ChangeClass::Weakening,
                "management events excluded from the trail".to_string(),
            );
        }
        if let Some(kind) = selector
            .get("readWriteType")
            .and_then(Value::as_str)
            .filter(|k| *k != "All")
        {
            return (
                ChangeClass::Weakening,
                format!("trail limited to {kind} management events"),
            );
        }
        let excluded = selector
            .get("excludeManagementEventSources")
            .and_then(Value::as_array)
            .is_some_and(|list| list.iter().any(|s| s.as_str() == Some("kms.amazonaws.com")));
        if excluded {
            return (
                ChangeClass::Weakening,
                "KMS events excluded from the trail".to_string(),
            );
        }
    }
    (
        ChangeClass::Neutral,
        "event selectors keep all management events".to_string(),
    )
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
    let record = parse_record(event);
    if is_read_only(event, &record) {
        return None;
    }
    let (actor, actor_type, invoked_by, session_issuer) = actor(&record, event);
    let (classification, classification_reason) = classify(
        &event.event_name,
        record.request_parameters.as_ref(),
        policy,
    );
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
        resource: resource_of(event, &record),
        request_summary: summarize_request(event, &record),
        error_code: record.error_code.clone().unwrap_or_default(),
        error_message: record.error_message.clone().unwrap_or_default(),
        classification,
        classification_reason,
    })
}

pub fn evaluate_region(
    scope: &RegionScope,
    evidence: Option<&CloudTrailEvidence>,
    policy: &Policy,
    out: &mut Evaluation,
) {
    let lookup_gaps: Vec<_> = scope
        .service_gaps("cloudtrail")
        .into_iter()
        .filter(|g| g.api == "LookupEvents" || g.service == "sts")
        .collect();
    let Some(evidence) = evidence else {
        out.findings.push(scope.finding(
            CHANGE_CONTROL,
            "(region)",
            None,
            Status::EvidenceGap,
            missing_evidence_reason("CloudTrail event", &lookup_gaps),
        ));
        return;
    };
    if !lookup_gaps.is_empty() {
        out.findings.push(scope.finding(
            CHANGE_CONTROL,
            "(region)",
            None,
            Status::EvidenceGap,
            missing_evidence_reason("Part of the CloudTrail event", &lookup_gaps),
        ));
    }
    let rows: Vec<ChangeRow> = evidence
        .events
        .iter()
        .filter_map(|event| change_row(scope, event, policy))
        .collect();
    let unreadable: Vec<String> = evidence
        .events
        .iter()
        .filter(|event| !is_read_only(event, &parse_record(event)))
        .filter_map(|event| {
            unreadable_reason(event)
                .map(|why| format!("{} {} ({why})", event.event_name, event.event_id))
        })
        .collect();
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
            out.findings.push(scope.finding(
                CHANGE_CONTROL,
                format!("{} {}", row.event_name, row.resource),
                None,
                Status::Fail,
                format!(
                    "{} at {} by {}: {}; needs a documented change record",
                    row.event_name,
                    row.event_time.display_utc(),
                    row.actor,
                    row.classification_reason
                ),
            ));
        }
    }
    if lookup_gaps.is_empty() && unreadable.is_empty() && weakening == 0 {
        let (status, reason) = if rows.is_empty() {
            (
                Status::NoResources,
                "no write events on API Gateway, KMS or CloudTrail in the period".to_string(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn class(event: &str, params: Value) -> ChangeClass {
        classify(event, Some(&params), &Policy::default()).0
    }

    fn stage_patch(ops: Value) -> Value {
        json!({"restApiId": "a1", "stageName": "prod", "updateStageInput": {"patchOperations": ops}})
    }

    #[test]
    fn disabling_cache_encryption_is_weakening() {
        let params = stage_patch(
            json!([{"op": "replace", "path": "/*/*/caching/dataEncrypted", "value": "false"}]),
        );
        let (class, reason) = classify("UpdateStage", Some(&params), &Policy::default());
        assert_eq!(class, ChangeClass::Weakening);
        assert!(reason.contains("/*/*/caching/dataEncrypted"));
    }

    #[test]
    fn enabling_caching_without_encryption_is_weakening_with_encryption_is_not() {
        let alone = stage_patch(
            json!([{"op": "replace", "path": "/~1orders/GET/caching/enabled", "value": "true"}]),
        );
        assert_eq!(class("UpdateStage", alone), ChangeClass::Weakening);
        let together = stage_patch(json!([
            {"op": "replace", "path": "/~1orders/GET/caching/enabled", "value": "true"},
            {"op": "replace", "path": "/~1orders/GET/caching/dataEncrypted", "value": "true"}]));
        assert_eq!(class("UpdateStage", together), ChangeClass::Strengthening);
    }

    #[test]
    fn logging_changes() {
        let off = stage_patch(
            json!([{"op": "replace", "path": "/*/*/logging/loglevel", "value": "OFF"}]),
        );
        assert_eq!(class("UpdateStage", off), ChangeClass::Weakening);
        let on = stage_patch(
            json!([{"op": "replace", "path": "/*/*/logging/loglevel", "value": "INFO"}]),
        );
        assert_eq!(class("UpdateStage", on), ChangeClass::Strengthening);
        let other = stage_patch(json!([{"op": "replace", "path": "/description", "value": "x"}]));
        assert_eq!(class("UpdateStage", other), ChangeClass::Neutral);
    }

    #[test]
    fn kms_rules() {
        for weak in [
            "DisableKeyRotation",
            "DisableKey",
            "ScheduleKeyDeletion",
            "DeleteKey",
        ] {
            assert_eq!(
                class(weak, json!({"keyId": "k"})),
                ChangeClass::Weakening,
                "{weak}"
            );
        }
        for strong in [
            "EnableKeyRotation",
            "CancelKeyDeletion",
            "RotateKeyOnDemand",
            "RotateKey",
        ] {
            assert_eq!(
                class(strong, json!({"keyId": "k"})),
                ChangeClass::Strengthening,
                "{strong}"
            );
        }
        assert_eq!(
            class(
                "EnableKeyRotation",
                json!({"keyId": "k", "rotationPeriodInDays": 730})
            ),
            ChangeClass::Weakening
        );
        assert_eq!(
            class("CreateAlias", json!({"aliasName": "alias/x"})),
            ChangeClass::Neutral
        );
    }

    #[test]
    fn cloudtrail_rules() {
        assert_eq!(
            class("StopLogging", json!({"name": "t"})),
            ChangeClass::Weakening
        );
        assert_eq!(
            class("DeleteTrail", json!({"name": "t"})),
            ChangeClass::Weakening
        );
        assert_eq!(
            class("StartLogging", json!({"name": "t"})),
            ChangeClass::Strengthening
        );
        assert_eq!(
            class(
                "UpdateTrail",
                json!({"name": "t", "enableLogFileValidation": false})
            ),
            ChangeClass::Weakening
        );
        assert_eq!(
            class("UpdateTrail", json!({"name": "t", "kmsKeyId": ""})),
            ChangeClass::Weakening
        );
        assert_eq!(
            class(
                "UpdateTrail",
                json!({"name": "t", "enableLogFileValidation": true})
            ),
            ChangeClass::Strengthening
        );
        assert_eq!(
            class(
                "PutEventSelectors",
                json!({"eventSelectors": [{"readWriteType": "All", "includeManagementEvents": true,
                "excludeManagementEventSources": ["kms.amazonaws.com"]}]})
            ),
            ChangeClass::Weakening
        );
    }

    #[test]
    fn stage_deletion_is_weakening() {
        assert_eq!(
            class("DeleteStage", json!({"restApiId": "a", "stageName": "p"})),
            ChangeClass::Weakening
        );
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
            let evidence = CloudTrailEvidence {
                trails: vec![],
                events,
                lookup_queries: vec![],
                extra: Default::default(),
            };
            let mut out = Evaluation::default();
            evaluate_region(&scope, Some(&evidence), &Policy::default(), &mut out);
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
    fn failed_weakening_calls_are_listed_but_are_not_findings() {
        let gaps = Vec::new();
        let scope = RegionScope::new("111111111111", "eu-central-1", &gaps);
        let failed = lookup(
            json!({"eventName": "DisableKeyRotation", "eventSource": "kms.amazonaws.com",
            "eventTime": "2026-10-05T10:00:00Z", "errorCode": "AccessDenied",
            "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111111111111:user/eve"},
            "requestParameters": {"keyId": "k1"}}),
            Some("false"),
        );
        let evidence = CloudTrailEvidence {
            trails: vec![],
            events: vec![failed],
            lookup_queries: vec![],
            extra: Default::default(),
        };
        let mut out = Evaluation::default();
        evaluate_region(&scope, Some(&evidence), &Policy::default(), &mut out);
        assert_eq!(out.changes.len(), 1);
        assert_eq!(out.changes[0].error_code, "AccessDenied");
        assert_eq!(out.changes[0].classification, ChangeClass::Weakening);
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
        let evidence = CloudTrailEvidence {
            trails: vec![],
            events: vec![stop, read],
            lookup_queries: vec![],
            extra: Default::default(),
        };
        let mut out = Evaluation::default();
        evaluate_region(&scope, Some(&evidence), &Policy::default(), &mut out);
        assert_eq!(out.changes.len(), 1);
        let row = &out.changes[0];
        assert_eq!(row.resource, "org-trail");
        assert_eq!(row.session_issuer, "arn:aws:iam::111111111111:role/Admin");
        assert_eq!(out.findings.len(), 1);
        assert_eq!(out.findings[0].status, Status::Fail);
        assert!(out.findings[0].reason.contains("trail logging stopped"));
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
