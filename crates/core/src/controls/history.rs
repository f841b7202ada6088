//! Reads a region's change events (the period's and those after it, up to collection) into the
//! histories the period rule replays (`period`): which setting of which API Gateway stage, KMS
//! key or CloudTrail trail each successful call set, to what, and when; which calls created or
//! deleted one; and whether the events can be trusted to be complete. docs/controls.md "The
//! period rule" lists the calls and settings with their sources.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};

use super::RegionScope;
use super::cloudtrail::{TrailSettings, selectors_from_request};
use super::events::{self, APIGATEWAY, CLOUDTRAIL, KMS, S3, patch_operations, text};
use super::period::{Coverage, Effect, EventRef, History, NewValue, opaque};
use super::resource_policy::Exposure;
use crate::evidence::{CloudTrailEvidence, LookupEvent, Period, Timestamp};

/// A stage by REST API id and stage name.
pub type StageId = (String, String);

/// The histories of a region's stages and keys, and how far the events can be trusted.
#[derive(Debug, Default)]
pub struct RegionHistory {
    pub stages: BTreeMap<StageId, History>,
    /// By key id (the UUID); events naming an alias are resolved through `aliases`.
    pub keys: BTreeMap<String, History>,
    /// KMS events that name no key this region's evidence can resolve.
    pub unresolved_keys: Vec<EventRef>,
    /// By key id: what CreateKey and PutKeyPolicy set the key policy to, as the exposure
    /// `kms-key-exposure` judges (`key_policy_exposure`). Kept apart from `keys` so that a
    /// policy change does not split the other KMS controls' periods.
    pub key_policies: BTreeMap<String, Vec<Effect>>,
    /// By trail name (events name a trail by name or ARN; both are read as the name, which is
    /// unique in the trail's home region, where its events are recorded). The empty name holds
    /// the events that name no trail: every trail of the region is in doubt.
    pub trails: BTreeMap<String, History>,
    /// By bucket name: what the S3 change events set of the settings
    /// `cloudtrail-bucket-protection` judges (`s3::bucket_change`). The empty name holds the
    /// account's Block Public Access changes, which apply to every bucket of the account.
    pub buckets: BTreeMap<String, Vec<Effect>>,
    pub coverage: Option<Coverage>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Record {
    request_parameters: Option<Value>,
    response_elements: Option<Value>,
    error_code: Option<String>,
}

/// The API Gateway and KMS calls that change a setting the controls judge, or create or
/// delete a stage or key. Other events change nothing the period rule replays.
const REPLAYED: &[(&str, &str)] = &[
    (APIGATEWAY, "UpdateStage"),
    (APIGATEWAY, "CreateStage"),
    (APIGATEWAY, "DeleteStage"),
    (KMS, "CreateKey"),
    (KMS, "EnableKey"),
    (KMS, "DisableKey"),
    (KMS, "ScheduleKeyDeletion"),
    (KMS, "CancelKeyDeletion"),
    (KMS, "EnableKeyRotation"),
    (KMS, "DisableKeyRotation"),
    (KMS, "DeleteImportedKeyMaterial"),
    (KMS, "DeleteKey"),
    (KMS, "PutKeyPolicy"),
    (CLOUDTRAIL, "CreateTrail"),
    (CLOUDTRAIL, "UpdateTrail"),
    (CLOUDTRAIL, "PutEventSelectors"),
    (CLOUDTRAIL, "StartLogging"),
    (CLOUDTRAIL, "StopLogging"),
    (CLOUDTRAIL, "DeleteTrail"),
    (S3, "PutBucketPolicy"),
    (S3, "DeleteBucketPolicy"),
    (S3, "PutBucketAcl"),
    (S3, "PutBucketPublicAccessBlock"),
    (S3, "DeleteBucketPublicAccessBlock"),
    (S3, "PutAccountPublicAccessBlock"),
    (S3, "DeleteAccountPublicAccessBlock"),
    (S3, "PutBucketLogging"),
    (S3, "PutBucketVersioning"),
    (S3, "PutObjectLockConfiguration"),
    (S3, "PutBucketLifecycle"),
    (S3, "DeleteBucketLifecycle"),
];

impl RegionHistory {
    /// Reads the region's events. `aliases` maps alias names to key ids (from the collected
    /// keys); `collected_at` is the time of the collected state.
    pub fn read(
        scope: &RegionScope,
        evidence: Option<&CloudTrailEvidence>,
        period: &Period,
        collected_at: Timestamp,
        aliases: &BTreeMap<String, String>,
    ) -> Self {
        let mut history = RegionHistory {
            coverage: Some(coverage(scope, evidence, period, collected_at)),
            ..RegionHistory::default()
        };
        let Some(evidence) = evidence else {
            return history;
        };
        for event in evidence.events.iter().chain(&evidence.events_after_period) {
            if !REPLAYED
                .iter()
                .any(|(source, name)| event.event_source == *source && event.event_name == *name)
            {
                continue;
            }
            let parsed = serde_json::from_str::<Record>(&event.cloud_trail_event);
            if event.event_source == CLOUDTRAIL && parsed.is_err() {
                // D12: a trail event whose record cannot be read may have stopped logging.
                let at = EventRef {
                    id: event.event_id.clone(),
                    name: event.event_name.clone(),
                    at: event.event_time,
                };
                history
                    .trails
                    .entry(resource_trail_name(event).unwrap_or_default())
                    .or_default()
                    .effects
                    .push(opaque(at, "its CloudTrail record cannot be read"));
                continue;
            }
            let record = parsed.unwrap_or_default();
            if record.error_code.as_deref().is_some_and(|c| !c.is_empty()) {
                continue; // A failed call changed nothing.
            }
            let at = EventRef {
                id: event.event_id.clone(),
                name: event.event_name.clone(),
                at: event.event_time,
            };
            let params = record.request_parameters.as_ref();
            if event.event_source == APIGATEWAY {
                history.read_stage_event(at, params);
            } else if event.event_source == CLOUDTRAIL {
                history.read_trail_event(event, at, params);
            } else if event.event_source == S3 {
                history.read_bucket_event(at, params);
            } else {
                history.read_key_event(event, at, &record, aliases);
            }
        }
        history
    }

    /// The history of one stage, with the events that may have changed any stage.
    pub fn stage(&self, api_id: &str, stage_name: &str) -> History {
        let mut history = self
            .stages
            .get(&(api_id.to_string(), stage_name.to_string()))
            .cloned()
            .unwrap_or_default();
        if let Some(unnamed) = self.stages.get(&(String::new(), String::new())) {
            history.effects.extend(unnamed.effects.iter().cloned());
        }
        history
    }

    /// The history of one key, with the KMS events that name no key the region knows.
    pub fn key(&self, key_id: &str) -> History {
        let mut history = self.keys.get(key_id).cloned().unwrap_or_default();
        history
            .effects
            .extend(self.unresolved_keys.iter().map(|event| {
                opaque(
                    event.clone(),
                    "the event names a key that cannot be resolved (an alias no collected key has)",
                )
            }));
        history
    }

    /// The history `kms-key-exposure` replays for one key: the key's own (creation, deletion,
    /// unresolved events) with the changes of its key policy.
    pub fn key_exposure(&self, key_id: &str) -> History {
        let mut history = self.key(key_id);
        if let Some(policies) = self.key_policies.get(key_id) {
            history.effects.extend(policies.iter().cloned());
        }
        history
    }

    /// The history of one trail of the region, by name, with the trail events that name no
    /// trail.
    pub fn trail(&self, name: &str) -> History {
        let mut history = self.trails.get(name).cloned().unwrap_or_default();
        if let Some(unnamed) = self.trails.get("").filter(|_| !name.is_empty()) {
            history.effects.extend(unnamed.effects.iter().map(|e| {
                opaque(
                    e.event.clone(),
                    "the event names no trail, so it may have changed this one",
                )
            }));
        }
        history
    }

    /// The coverage of the replay (complete unless the events are missing or stop early).
    pub fn coverage(&self) -> Coverage {
        self.coverage.clone().unwrap_or(Coverage::Complete)
    }

    fn read_stage_event(&mut self, at: EventRef, params: Option<&Value>) {
        let api = text(params.and_then(|p| p.get("restApiId")));
        let stage = text(params.and_then(|p| p.get("stageName"))).or_else(|| {
            text(
                params
                    .and_then(|p| p.get("createStageInput"))
                    .and_then(|i| i.get("stageName")),
            )
        });
        let (Some(api), Some(stage)) = (api, stage) else {
            // The stage cannot be named: every stage of the region is in doubt.
            self.stages
                .entry((String::new(), String::new()))
                .or_default()
                .effects
                .push(opaque(at, "the event names no stage"));
            return;
        };
        let history = self.stages.entry((api, stage)).or_default();
        match at.name.as_str() {
            "DeleteStage" => history.deleted = Some(at),
            "CreateStage" => {
                let input = params.and_then(|p| p.get("createStageInput")).or(params);
                let cluster = input
                    .and_then(|i| i.get("cacheClusterEnabled"))
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                for (field, value) in [
                    (vec!["cacheClusterEnabled"], json!(cluster)),
                    (vec!["methodSettings"], json!({})),
                ] {
                    history
                        .effects
                        .push(effect(&at, &field, NewValue::Set(value)));
                }
                history
                    .effects
                    .push(effect(&at, &["accessLogSettings"], NewValue::Removed));
                history.created = Some(at);
            }
            _ => {
                let operations = patch_operations(params);
                if operations.is_empty() {
                    history
                        .effects
                        .push(opaque(at, "its patch operations cannot be read"));
                    return;
                }
                for (op, path, value) in operations {
                    match stage_effect(&op, &path, &value) {
                        StagePatch::Setting(field, new) => history.effects.push(Effect {
                            event: at.clone(),
                            field,
                            value: new,
                        }),
                        StagePatch::NotJudged => {}
                        StagePatch::Unreadable(why) => {
                            history.effects.push(opaque(at.clone(), why))
                        }
                    }
                }
            }
        }
    }

    /// CreateTrail, UpdateTrail, PutEventSelectors, StartLogging, StopLogging, DeleteTrail (the
    /// CloudTrail API Reference pages of each; all are called in the trail's home region).
    fn read_trail_event(&mut self, event: &LookupEvent, at: EventRef, params: Option<&Value>) {
        let named = text(params.and_then(|p| p.get("name")))
            .or_else(|| text(params.and_then(|p| p.get("trailName"))))
            .map(|name| trail_name(&name).to_string())
            .or_else(|| resource_trail_name(event));
        let Some(name) = named else {
            self.trails
                .entry(String::new())
                .or_default()
                .effects
                .push(opaque(at, "the event names no trail"));
            return;
        };
        let history = self.trails.entry(name).or_default();
        let set = |history: &mut History, field: &str, value: NewValue| {
            history.effects.push(effect(&at, &[field], value));
        };
        let flag = |name: &str| params.and_then(|p| p.get(name)).and_then(Value::as_bool);
        match at.name.as_str() {
            "StartLogging" => set(
                history,
                TrailSettings::IS_LOGGING,
                NewValue::Set(json!(true)),
            ),
            "StopLogging" => set(
                history,
                TrailSettings::IS_LOGGING,
                NewValue::Set(json!(false)),
            ),
            "DeleteTrail" => history.deleted = Some(at.clone()),
            "CreateTrail" => {
                // A new trail does not log until StartLogging, and without selectors it
                // records every read and write management event (CreateTrail,
                // PutEventSelectors API Reference).
                let created = TrailSettings::created(
                    flag("isMultiRegionTrail").unwrap_or(false),
                    flag("enableLogFileValidation").unwrap_or(false),
                    text(params.and_then(|p| p.get("kmsKeyId"))).is_some(),
                );
                for (field, value) in created.fields() {
                    set(history, &field, NewValue::Set(value));
                }
                history.created = Some(at.clone());
            }
            "UpdateTrail" => {
                if params.is_none() {
                    history
                        .effects
                        .push(opaque(at.clone(), "its request cannot be read"));
                    return;
                }
                for (request, field) in [
                    ("isMultiRegionTrail", TrailSettings::MULTI_REGION),
                    (
                        "enableLogFileValidation",
                        TrailSettings::LOG_FILE_VALIDATION,
                    ),
                ] {
                    match params.and_then(|p| p.get(request)) {
                        None | Some(Value::Null) => {}
                        Some(Value::Bool(on)) => set(history, field, NewValue::Set(json!(on))),
                        Some(other) => set(
                            history,
                            field,
                            NewValue::Unknown(format!("{request} is {other}, not a boolean")),
                        ),
                    }
                }
                // An empty kmsKeyId removes log file encryption (CloudTrail user guide,
                // "Enabling log file encryption (CLI)").
                match params.and_then(|p| p.get("kmsKeyId")) {
                    None | Some(Value::Null) => {}
                    Some(Value::String(key)) => set(
                        history,
                        TrailSettings::ENCRYPTED,
                        NewValue::Set(json!(!key.is_empty())),
                    ),
                    Some(other) => set(
                        history,
                        TrailSettings::ENCRYPTED,
                        NewValue::Unknown(format!("kmsKeyId is {other}, not a string")),
                    ),
                }
            }
            "PutEventSelectors" => {
                let value = match selectors_from_request(params) {
                    Some(reading) => NewValue::Set(reading),
                    None => NewValue::Unknown(
                        "the request names neither eventSelectors nor advancedEventSelectors"
                            .to_string(),
                    ),
                };
                set(history, TrailSettings::SELECTORS, value);
            }
            _ => {}
        }
    }

    fn read_key_event(
        &mut self,
        event: &LookupEvent,
        at: EventRef,
        record: &Record,
        aliases: &BTreeMap<String, String>,
    ) {
        let params = record.request_parameters.as_ref();
        let named = match at.name.as_str() {
            "CreateKey" => text(
                record
                    .response_elements
                    .as_ref()
                    .and_then(|r| r.get("keyMetadata"))
                    .and_then(|m| m.get("keyId")),
            ),
            _ => text(params.and_then(|p| p.get("keyId"))).or_else(|| {
                event
                    .resources
                    .iter()
                    .find_map(|r| text(r.get("ResourceName")))
            }),
        };
        let Some(key_id) = named.and_then(|name| resolve_key(&name, aliases)) else {
            self.unresolved_keys.push(at);
            return;
        };
        // The key policy a CreateKey (without one: the default key policy, which trusts only
        // the account — KMS developer guide "Default key policy") or PutKeyPolicy set.
        let policy = match at.name.as_str() {
            "CreateKey" => Some(match params.and_then(|p| p.get("policy")) {
                None | Some(Value::Null) => NewValue::Set(exposure_value(&Exposure::Closed {
                    limited: Vec::new(),
                })),
                Some(policy) => exposure_effect(policy),
            }),
            "PutKeyPolicy" => Some(match params.and_then(|p| p.get("policy")) {
                None | Some(Value::Null) => NewValue::Unknown(
                    "the record carries no key policy (requestParameters.policy)".to_string(),
                ),
                Some(policy) => exposure_effect(policy),
            }),
            _ => None,
        };
        if let Some(value) = policy {
            self.key_policies
                .entry(key_id.clone())
                .or_default()
                .push(effect(&at, &["key_policy_exposure"], value));
        }
        let history = self.keys.entry(key_id).or_default();
        let state = |history: &mut History, key_state: &str| {
            history.effects.push(effect(
                &at,
                &["metadata", "KeyState"],
                NewValue::Set(json!(key_state)),
            ));
            history.effects.push(effect(
                &at,
                &["metadata", "Enabled"],
                NewValue::Set(json!(key_state == "Enabled")),
            ));
        };
        let rotation = |history: &mut History, value: NewValue| {
            history.effects.push(effect(
                &at,
                &["rotation_status", "KeyRotationEnabled"],
                value,
            ));
        };
        match at.name.as_str() {
            "CreateKey" => {
                let origin = text(params.and_then(|p| p.get("origin")));
                let initial = if origin.as_deref() == Some("EXTERNAL") {
                    "PendingImport"
                } else {
                    "Enabled"
                };
                state(history, initial);
                rotation(history, NewValue::Set(json!(false)));
                history.created = Some(at.clone());
            }
            "EnableKey" => state(history, "Enabled"),
            "DisableKey" => state(history, "Disabled"),
            "DeleteImportedKeyMaterial" => state(history, "PendingImport"),
            "ScheduleKeyDeletion" => {
                state(history, "PendingDeletion");
                // While a key is pending deletion GetKeyRotationStatus reads false or fails:
                // the collected reading says nothing about the setting before.
                rotation(
                    history,
                    NewValue::Unknown(
                        "the rotation setting cannot be read while a key is pending deletion"
                            .to_string(),
                    ),
                );
            }
            "CancelKeyDeletion" => {
                state(history, "Disabled");
                rotation(
                    history,
                    NewValue::Unknown(
                        "cancelling the deletion restores the rotation setting the key had before, which is not recorded"
                            .to_string(),
                    ),
                );
            }
            "EnableKeyRotation" => {
                rotation(history, NewValue::Set(json!(true)));
                let days = params
                    .and_then(|p| p.get("rotationPeriodInDays"))
                    .and_then(Value::as_u64)
                    .unwrap_or(365);
                history.effects.push(effect(
                    &at,
                    &["rotation_status", "RotationPeriodInDays"],
                    NewValue::Set(json!(days)),
                ));
            }
            "DisableKeyRotation" => rotation(history, NewValue::Set(json!(false))),
            "DeleteKey" => history.deleted = Some(at.clone()),
            _ => {}
        }
    }
}

impl RegionHistory {
    /// An S3 event that changes a bucket setting `cloudtrail-bucket-protection` judges; a
    /// record that names no bucket puts every bucket of the account in doubt for that setting.
    fn read_bucket_event(&mut self, at: EventRef, params: Option<&Value>) {
        let Some(change) = super::s3::bucket_change(&at.name, params) else {
            return;
        };
        let value = change.new_value();
        match (&change.bucket, change.field) {
            (Some(bucket), field) => {
                self.buckets
                    .entry(bucket.clone())
                    .or_default()
                    .push(effect(&at, &[field], value))
            }
            (None, super::s3::field::ACCOUNT_BLOCK) => self
                .buckets
                .entry(String::new())
                .or_default()
                .push(effect(&at, &[super::s3::field::ACCOUNT_BLOCK], value)),
            (None, field) => self.buckets.entry(String::new()).or_default().push(effect(
                &at,
                &[field],
                NewValue::Unknown("the record names no bucket".to_string()),
            )),
        }
    }
}

fn exposure_value(exposure: &Exposure) -> Value {
    serde_json::to_value(exposure).unwrap_or(Value::Null)
}

/// A policy from a record: what it exposes, or unknown when it cannot be read (the key is
/// then untrusted from this event on).
fn exposure_effect(policy: &Value) -> NewValue {
    match Exposure::of_request(policy) {
        Exposure::Unknown { why } => NewValue::Unknown(why),
        exposure => NewValue::Set(exposure_value(&exposure)),
    }
}

fn effect(at: &EventRef, field: &[&str], value: NewValue) -> Effect {
    Effect {
        event: at.clone(),
        field: field.iter().map(|s| s.to_string()).collect(),
        value,
    }
}

/// Whether the events of a region can be replayed: read without gaps, from the period start
/// up to the collection of the state.
fn coverage(
    scope: &RegionScope,
    evidence: Option<&CloudTrailEvidence>,
    period: &Period,
    collected_at: Timestamp,
) -> Coverage {
    let lookup_gaps = scope.lookup_gaps();
    if !lookup_gaps.is_empty() {
        return Coverage::Missing(format!(
            "the change events could not all be read ({})",
            super::describe_gaps(&lookup_gaps)
        ));
    }
    let Some(evidence) = evidence else {
        return Coverage::Missing(
            "no CloudTrail change events were collected for this region".to_string(),
        );
    };
    let until = evidence.events_until.unwrap_or(period.end);
    if until < collected_at {
        return Coverage::Missing(format!(
            "the change events were read up to {}, but the settings were read at {}: a change in between would go unseen",
            until.display_utc(),
            collected_at.display_utc()
        ));
    }
    Coverage::Complete
}

/// A trail's name from a name or a trail ARN (`arn:aws:cloudtrail:…:trail/NAME`).
pub fn trail_name(name_or_arn: &str) -> &str {
    name_or_arn
        .rsplit_once(":trail/")
        .map_or(name_or_arn, |(_, name)| name)
}

/// The trail an event's LookupEvents resources name, if any.
fn resource_trail_name(event: &LookupEvent) -> Option<String> {
    event
        .resources
        .iter()
        .filter(|r| text(r.get("ResourceType")).is_none_or(|t| t == "AWS::CloudTrail::Trail"))
        .find_map(|r| text(r.get("ResourceName")))
        .map(|name| trail_name(&name).to_string())
}

/// A key id from what an event names: a key id, a key ARN, an alias name or an alias ARN.
fn resolve_key(name: &str, aliases: &BTreeMap<String, String>) -> Option<String> {
    if let Some((_, id)) = name.split_once(":key/") {
        return Some(id.to_string());
    }
    let alias = match name.split_once(":alias/") {
        Some((_, alias)) => format!("alias/{alias}"),
        None if name.starts_with("alias/") => name.to_string(),
        None => return Some(name.to_string()),
    };
    aliases.get(&alias).cloned()
}

/// What one UpdateStage patch operation did to the settings the controls judge.
#[derive(Debug, PartialEq)]
enum StagePatch {
    Setting(Vec<String>, NewValue),
    /// A setting no control judges (description, variables, tracing, …).
    NotJudged,
    /// A path the rules do not know: what it changed is unknown.
    Unreadable(String),
}

/// The stage setting a patch path names (UpdateStage patch operations, API Gateway REST API
/// reference "Stage" / "Update a stage"): `/cacheClusterEnabled`,
/// `/{resource}/{method}/caching/enabled` and the other per-method settings, access logs.
fn stage_effect(op: &str, path: &str, value: &str) -> StagePatch {
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let new = |kind: Kind| -> NewValue {
        if op == "remove" {
            return NewValue::Removed;
        }
        match kind.parse(value) {
            Some(value) => NewValue::Set(value),
            None => NewValue::Unknown(format!("{path} set to {value:?}, which is not a {kind:?}")),
        }
    };
    let setting = |field: &[&str], kind: Kind| {
        StagePatch::Setting(field.iter().map(|s| s.to_string()).collect(), new(kind))
    };
    match parts.as_slice() {
        ["cacheClusterEnabled"] => setting(&["cacheClusterEnabled"], Kind::Bool),
        ["accessLogSettings"] if op == "remove" => {
            StagePatch::Setting(vec!["accessLogSettings".into()], NewValue::Removed)
        }
        ["accessLogSettings", "destinationArn"] => {
            setting(&["accessLogSettings", "destinationArn"], Kind::Text)
        }
        ["accessLogSettings", "format"] => setting(&["accessLogSettings", "format"], Kind::Text),
        [resource, method] if op == "remove" => StagePatch::Setting(
            vec!["methodSettings".into(), format!("{resource}/{method}")],
            NewValue::Removed,
        ),
        [resource, method, group, name] => {
            let key = format!("{resource}/{method}");
            let (field, kind) = match (*group, *name) {
                ("caching", "enabled") => ("cachingEnabled", Kind::Bool),
                ("caching", "dataEncrypted") => ("cacheDataEncrypted", Kind::Bool),
                ("caching", "ttlInSeconds") => ("cacheTtlInSeconds", Kind::Integer),
                ("caching", "requireAuthorizationForCacheControl") => {
                    ("requireAuthorizationForCacheControl", Kind::Bool)
                }
                ("caching", "unauthorizedCacheControlHeaderStrategy") => {
                    ("unauthorizedCacheControlHeaderStrategy", Kind::Text)
                }
                ("logging", "loglevel") => ("loggingLevel", Kind::Text),
                ("logging", "dataTrace") => ("dataTraceEnabled", Kind::Bool),
                ("metrics", "enabled") => ("metricsEnabled", Kind::Bool),
                ("throttling", "burstLimit") => ("throttlingBurstLimit", Kind::Integer),
                ("throttling", "rateLimit") => ("throttlingRateLimit", Kind::Number),
                _ => return StagePatch::Unreadable(format!("patch path {path} is not known")),
            };
            StagePatch::Setting(vec!["methodSettings".into(), key, field.into()], new(kind))
        }
        [
            "description"
            | "tracingEnabled"
            | "clientCertificateId"
            | "cacheClusterSize"
            | "deploymentId"
            | "documentationVersion"
            | "webAclArn",
        ] => StagePatch::NotJudged,
        ["variables", ..] | ["canarySettings", ..] => StagePatch::NotJudged,
        _ => StagePatch::Unreadable(format!("patch path {path} is not known")),
    }
}

/// The type of a patch value (patch operations carry every value as a string).
#[derive(Debug, Clone, Copy)]
enum Kind {
    Bool,
    Integer,
    Number,
    Text,
}

impl Kind {
    fn parse(self, value: &str) -> Option<Value> {
        match self {
            Kind::Bool if value.eq_ignore_ascii_case("true") => Some(json!(true)),
            Kind::Bool if value.eq_ignore_ascii_case("false") => Some(json!(false)),
            Kind::Bool => None,
            Kind::Integer => value.parse::<i64>().ok().map(|n| json!(n)),
            Kind::Number => value.parse::<f64>().ok().map(|n| json!(n)),
            Kind::Text => Some(json!(value)),
        }
    }
}

/// Every call the period rule replays is a row of the rules table, so the collector's plan
/// queries it: a resource the replay believes unchanged was not changed by a call nobody
/// asked for.
pub fn replayed_events_are_queried() -> bool {
    REPLAYED
        .iter()
        .all(|(source, name)| events::find(source, name).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_paths_name_the_settings_the_controls_judge() {
        assert_eq!(
            stage_effect(
                "replace",
                "/~1orders~1{id}/GET/caching/dataEncrypted",
                "false"
            ),
            StagePatch::Setting(
                vec![
                    "methodSettings".into(),
                    "~1orders~1{id}/GET".into(),
                    "cacheDataEncrypted".into()
                ],
                NewValue::Set(json!(false))
            )
        );
        assert_eq!(
            stage_effect("replace", "/*/*/logging/loglevel", "OFF"),
            StagePatch::Setting(
                vec!["methodSettings".into(), "*/*".into(), "loggingLevel".into()],
                NewValue::Set(json!("OFF"))
            )
        );
        assert_eq!(
            stage_effect("remove", "/*/*", ""),
            StagePatch::Setting(
                vec!["methodSettings".into(), "*/*".into()],
                NewValue::Removed
            )
        );
        assert_eq!(
            stage_effect("replace", "/tracingEnabled", "true"),
            StagePatch::NotJudged
        );
        assert!(matches!(
            stage_effect("replace", "/newFeature/x", "1"),
            StagePatch::Unreadable(_)
        ));
        assert!(matches!(
            stage_effect("replace", "/cacheClusterEnabled", "yes"),
            StagePatch::Setting(_, NewValue::Unknown(_))
        ));
    }

    #[test]
    fn keys_are_resolved_from_ids_arns_and_aliases() {
        let aliases = BTreeMap::from([("alias/app".to_string(), "k-1".to_string())]);
        assert_eq!(
            resolve_key("arn:aws:kms:eu-west-1:111122223333:key/k-2", &aliases),
            Some("k-2".into())
        );
        assert_eq!(resolve_key("alias/app", &aliases), Some("k-1".into()));
        assert_eq!(
            resolve_key("arn:aws:kms:eu-west-1:111122223333:alias/app", &aliases),
            Some("k-1".into())
        );
        assert_eq!(resolve_key("alias/gone", &aliases), None);
        assert_eq!(resolve_key("k-3", &aliases), Some("k-3".into()));
    }

    #[test]
    fn every_replayed_event_is_queried() {
        assert!(replayed_events_are_queried());
    }
}
