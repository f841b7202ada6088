//! Reads a region's change events (the period's and those after it, up to collection) into the
//! histories the period rule replays (`period`): which setting of which API Gateway stage, KMS
//! key, CloudTrail trail, ElastiCache replication group, S3 bucket or CloudWatch Logs group
//! each successful call set, to what,
//! and when; which calls created or deleted one; and whether the events can be trusted to be
//! complete. docs/controls.md "The period rule" lists the calls and settings with their
//! sources.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};

use super::RegionScope;
use super::apigateway_v2::{V2RouteState, V2StageState};
use super::cloudtrail::{TrailSettings, data_events_from_request, selectors_from_request};
use super::cloudwatch_logs;
use super::events::{
    self, APIGATEWAY, CLOUDTRAIL, ELASTICACHE, KMS, LOGS, QueriedBy, S3, patch_operations, text,
};
use super::period::{Coverage, Effect, EventRef, History, NewValue, opaque};
use super::resource_policy::Exposure;
use crate::evidence::{CloudTrailEvidence, LookupEvent, Period, Timestamp};

/// A stage by REST API id and stage name.
pub type StageId = (String, String);

/// An API Gateway v2 stage by API id and stage name, or a route by API id and route id.
pub type V2Id = (String, String);

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
    /// API Gateway v2 (HTTP and WebSocket) stages, by API id and stage name. The empty id
    /// holds the v2 stage events that name no stage: every v2 stage of the region is in doubt.
    pub v2_stages: BTreeMap<V2Id, History>,
    /// API Gateway v2 routes, by API id and route id; the empty id as for `v2_stages`.
    pub v2_routes: BTreeMap<V2Id, History>,
    /// API Gateway v2 APIs by id: their creation (CreateApi, ImportApi) and deletion
    /// (DeleteApi) bound the life of their stages and routes; a ReimportApi (which replaces
    /// the routes with a definition the event does not carry) is an unreadable effect on
    /// every route of the API.
    pub v2_apis: BTreeMap<String, History>,
    /// By replication group id: the ElastiCache groups created or deleted by a recorded event.
    /// The empty id holds the events that name no group: every group of the region is in doubt.
    pub replication_groups: BTreeMap<String, History>,
    /// By bucket name: what the S3 change events set of the settings
    /// `cloudtrail-bucket-protection` judges (`s3::bucket_change`). The empty name holds the
    /// account's Block Public Access changes, which apply to every bucket of the account.
    pub buckets: BTreeMap<String, Vec<Effect>>,
    /// By log group name: what the CloudWatch Logs events set of the settings
    /// `cloudtrail-cloudwatch-logs` judges (`cloudwatch_logs::log_group_change`). The empty
    /// name holds the events that name no group: every group of the region is in doubt.
    pub log_groups: BTreeMap<String, History>,
    pub coverage: Option<Coverage>,
    /// The event sources of the rules table that the region's LookupEvents plan did not
    /// search (a trail home region outside the scope is searched for CloudTrail's, CloudWatch
    /// Logs' and S3's events only; snapshots of earlier versions searched fewer sources).
    /// Empty when the snapshot records no query at all.
    pub unsearched_sources: Vec<&'static str>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Record {
    request_parameters: Option<Value>,
    response_elements: Option<Value>,
    error_code: Option<String>,
}

/// The API Gateway, KMS, CloudTrail and ElastiCache calls that change a setting the controls
/// judge, or create or delete a stage, key, trail or replication group. Encryption at rest of a
/// replication group is set by its creation only (ModifyReplicationGroup cannot change it).
/// Other events change nothing the period rule replays.
const REPLAYED: &[(&str, &str)] = &[
    (APIGATEWAY, "UpdateStage"),
    (APIGATEWAY, "CreateStage"),
    (APIGATEWAY, "DeleteStage"),
    (APIGATEWAY, "DeleteAccessLogSettings"),
    (APIGATEWAY, "CreateRoute"),
    (APIGATEWAY, "UpdateRoute"),
    (APIGATEWAY, "DeleteRoute"),
    (APIGATEWAY, "CreateApi"),
    (APIGATEWAY, "ImportApi"),
    (APIGATEWAY, "ReimportApi"),
    (APIGATEWAY, "DeleteApi"),
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
    (ELASTICACHE, "CreateReplicationGroup"),
    (ELASTICACHE, "DeleteReplicationGroup"),
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
    (LOGS, "CreateLogGroup"),
    (LOGS, "DeleteLogGroup"),
    (LOGS, "PutRetentionPolicy"),
    (LOGS, "DeleteRetentionPolicy"),
    (LOGS, "AssociateKmsKey"),
    (LOGS, "DisassociateKmsKey"),
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
        if !evidence.lookup_queries.is_empty() {
            history.unsearched_sources = events::SOURCES
                .into_iter()
                .filter(|source| {
                    !evidence.lookup_queries.iter().any(|q| {
                        q.attribute_key == QueriedBy::EventSource.attribute_key()
                            && q.attribute_value == *source
                    })
                })
                .collect();
        }
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
            if event.event_source == APIGATEWAY && is_v2_event(&at.name, params) {
                history.read_v2_event(at, params, record.response_elements.as_ref());
            } else if event.event_source == APIGATEWAY {
                if names_no_api(params) {
                    // REST API or v2: either kind of stage may have changed.
                    history
                        .v2_stages
                        .entry((String::new(), String::new()))
                        .or_default()
                        .effects
                        .push(opaque(at.clone(), "the event names no API"));
                }
                history.read_stage_event(at, params);
            } else if event.event_source == CLOUDTRAIL {
                history.read_trail_event(event, at, params);
            } else if event.event_source == ELASTICACHE {
                history.read_replication_group_event(at, &record);
            } else if event.event_source == S3 {
                history.read_bucket_event(at, params);
            } else if event.event_source == LOGS {
                history.read_log_group_event(at, params);
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

    /// The history of one API Gateway v2 stage: its own events, the life of its API, and the
    /// v2 stage events that name no stage.
    pub fn v2_stage(&self, api_id: &str, stage_name: &str) -> History {
        let own = self
            .v2_stages
            .get(&(api_id.to_string(), stage_name.to_string()));
        self.v2_child(api_id, own, &self.v2_stages, false)
    }

    /// The history of one API Gateway v2 route, as `v2_stage`, with the API's reimports.
    pub fn v2_route(&self, api_id: &str, route_id: &str) -> History {
        let own = self
            .v2_routes
            .get(&(api_id.to_string(), route_id.to_string()));
        self.v2_child(api_id, own, &self.v2_routes, true)
    }

    fn v2_child(
        &self,
        api_id: &str,
        own: Option<&History>,
        all: &BTreeMap<V2Id, History>,
        reimports: bool,
    ) -> History {
        let mut history = own.cloned().unwrap_or_default();
        if let Some(api) = self.v2_apis.get(api_id) {
            // A stage or route lives no longer than its API, and no earlier than it.
            if history.created.is_none() {
                history.created.clone_from(&api.created);
            }
            if history.deleted.is_none() {
                history.deleted.clone_from(&api.deleted);
            }
            if reimports {
                history.effects.extend(api.effects.iter().cloned());
            }
        }
        if let Some(unnamed) = all.get(&(String::new(), String::new())) {
            history.effects.extend(unnamed.effects.iter().cloned());
        }
        history
    }

    /// The history of one log group's settings, with the events that name no group.
    pub fn log_group(&self, name: &str) -> History {
        let mut history = self.log_groups.get(name).cloned().unwrap_or_default();
        if let Some(unnamed) = self.log_groups.get("").filter(|_| !name.is_empty()) {
            history.effects.extend(unnamed.effects.iter().cloned());
        }
        history
    }

    /// CreateLogGroup, DeleteLogGroup, PutRetentionPolicy, DeleteRetentionPolicy,
    /// AssociateKmsKey, DisassociateKmsKey (called in the log group's region).
    fn read_log_group_event(&mut self, at: EventRef, params: Option<&Value>) {
        let Some(change) = cloudwatch_logs::log_group_change(&at.name, params) else {
            return;
        };
        let history = self
            .log_groups
            .entry(change.group.clone().unwrap_or_default())
            .or_default();
        for (field, value) in change.effects {
            // An event that names no group leaves the setting it changed unknown for every
            // group of the region (not the trail's own settings: not an opaque effect).
            let value = match (&change.group, value) {
                (None, _) => NewValue::Unknown("the event names no log group".to_string()),
                (Some(_), value) => value,
            };
            history.effects.push(effect(&at, &[field], value));
        }
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

    /// The history of one ElastiCache replication group, with the group events that name no
    /// group.
    pub fn replication_group(&self, group_id: &str) -> History {
        let mut history = self
            .replication_groups
            .get(group_id)
            .cloned()
            .unwrap_or_default();
        if let Some(unnamed) = self
            .replication_groups
            .get("")
            .filter(|_| !group_id.is_empty())
        {
            history.effects.extend(unnamed.effects.iter().cloned());
        }
        history
    }

    /// CreateReplicationGroup and DeleteReplicationGroup (ElastiCache API Reference). A creation
    /// sets `AtRestEncryptionEnabled`: the value AWS answered with (`responseElements`), else
    /// the request's, else the engine's documented default (true for Valkey, false for Redis
    /// OSS); a group restored from a backup, joined to a global datastore or built around an
    /// existing cluster without the flag in the request has an unknown setting.
    fn read_replication_group_event(&mut self, at: EventRef, record: &Record) {
        let params = record.request_parameters.as_ref();
        let Some(group_id) = text(params.and_then(|p| p.get("replicationGroupId"))) else {
            self.replication_groups
                .entry(String::new())
                .or_default()
                .effects
                .push(opaque(at, "the event names no replication group"));
            return;
        };
        let history = self.replication_groups.entry(group_id).or_default();
        match at.name.as_str() {
            "DeleteReplicationGroup" => history.deleted = Some(at),
            "CreateReplicationGroup" => {
                let value = created_at_rest_encryption(params, record.response_elements.as_ref());
                history
                    .effects
                    .push(effect(&at, &[super::elasticache::AT_REST_FIELD], value));
                history.created = Some(at);
            }
            _ => {}
        }
    }

    /// The coverage of the replay (complete unless the events are missing or stop early).
    pub fn coverage(&self) -> Coverage {
        self.coverage.clone().unwrap_or(Coverage::Complete)
    }

    /// How far the events of one source can be trusted: as `coverage`, and missing when the
    /// region's plan did not search the source.
    pub fn coverage_of(&self, source: &str) -> Coverage {
        if self.unsearched_sources.contains(&source) {
            return Coverage::Missing(format!(
                "the {source} events of this region were not searched (only the sources the \
                 collection needed there were)"
            ));
        }
        self.coverage()
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

    /// An API Gateway v2 event (`is_v2_event`): CreateStage, UpdateStage, DeleteStage,
    /// DeleteAccessLogSettings, CreateRoute, UpdateRoute, DeleteRoute, CreateApi, ImportApi,
    /// ReimportApi, DeleteApi (API Gateway V2 API Reference, the pages of each). The request's
    /// body fields are read at the top of `requestParameters` or one level down, as the REST
    /// API's records wrap them (`createStageInput`).
    fn read_v2_event(&mut self, at: EventRef, params: Option<&Value>, response: Option<&Value>) {
        let field = |name: &str| events::request_field(params, name);
        let api = text(field("apiId")).or_else(|| text(events::request_field(response, "apiId")));
        let unnamed = (String::new(), String::new());
        match at.name.as_str() {
            "CreateApi" | "ImportApi" | "ReimportApi" | "DeleteApi" => {
                let Some(api) = api else {
                    // Which API cannot be told: every v2 stage and route is in doubt.
                    for all in [&mut self.v2_stages, &mut self.v2_routes] {
                        all.entry(unnamed.clone())
                            .or_default()
                            .effects
                            .push(opaque(at.clone(), "the event names no API"));
                    }
                    return;
                };
                let history = self.v2_apis.entry(api).or_default();
                match at.name.as_str() {
                    "DeleteApi" => history.deleted = Some(at),
                    "ReimportApi" => history.effects.push(opaque(
                        at,
                        "the API's routes were replaced by an imported definition the event does not carry",
                    )),
                    _ => history.created = Some(at),
                }
            }
            "CreateStage" | "UpdateStage" | "DeleteStage" | "DeleteAccessLogSettings" => {
                let (Some(api), Some(stage)) = (api, text(field("stageName"))) else {
                    self.v2_stages
                        .entry(unnamed)
                        .or_default()
                        .effects
                        .push(opaque(at, "the event names no stage"));
                    return;
                };
                let history = self.v2_stages.entry((api, stage)).or_default();
                let destination = &[V2StageState::DESTINATION];
                match at.name.as_str() {
                    "DeleteStage" => history.deleted = Some(at),
                    "DeleteAccessLogSettings" => {
                        history
                            .effects
                            .push(effect(&at, destination, NewValue::Set(json!(""))));
                    }
                    "CreateStage" => {
                        // A stage created without accessLogSettings writes no access log.
                        let value = match field("accessLogSettings") {
                            None | Some(Value::Null) => NewValue::Set(json!("")),
                            Some(settings) => access_log_destination(settings),
                        };
                        history.effects.push(effect(&at, destination, value));
                        history.created = Some(at);
                    }
                    _ => {
                        if let Some(settings) = field("accessLogSettings") {
                            history.effects.push(effect(
                                &at,
                                destination,
                                access_log_destination(settings),
                            ));
                        } else if !has_body(params, &["apiId", "stageName"]) {
                            // An UpdateStage that changes nothing is not made: a record
                            // with no field but the names lacks its request body.
                            history
                                .effects
                                .push(opaque(at, "its request body is not in the record"));
                        }
                    }
                }
            }
            _ => {
                // CreateRoute names its route in the response, the others in the request.
                let route = text(field("routeId"))
                    .or_else(|| text(events::request_field(response, "routeId")));
                let (Some(api), Some(route)) = (api, route) else {
                    self.v2_routes
                        .entry(unnamed)
                        .or_default()
                        .effects
                        .push(opaque(at, "the event names no route"));
                    return;
                };
                let history = self.v2_routes.entry((api, route)).or_default();
                let authorization = &[V2RouteState::AUTHORIZATION];
                let route_key = text(field("routeKey"));
                match at.name.as_str() {
                    "DeleteRoute" => history.deleted = Some(at),
                    "CreateRoute" => {
                        // Without authorizationType a route is open (NONE is the default).
                        let value =
                            text(field("authorizationType")).unwrap_or_else(|| "NONE".into());
                        history.effects.push(effect(
                            &at,
                            authorization,
                            NewValue::Set(json!(value)),
                        ));
                        let key = match route_key {
                            Some(key) => NewValue::Set(json!(key)),
                            None => NewValue::Unknown("the record carries no routeKey".into()),
                        };
                        history
                            .effects
                            .push(effect(&at, &[V2RouteState::ROUTE_KEY], key));
                        history.created = Some(at);
                    }
                    _ => {
                        if let Some(value) = text(field("authorizationType")) {
                            history.effects.push(effect(
                                &at,
                                authorization,
                                NewValue::Set(json!(value)),
                            ));
                        } else if !has_body(params, &["apiId", "routeId"]) {
                            history
                                .effects
                                .push(opaque(at.clone(), "its request body is not in the record"));
                        }
                        if let Some(key) = route_key {
                            history.effects.push(effect(
                                &at,
                                &[V2RouteState::ROUTE_KEY],
                                NewValue::Set(json!(key)),
                            ));
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
                    &text(params.and_then(|p| p.get("cloudWatchLogsLogGroupArn")))
                        .unwrap_or_default(),
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
                // An empty CloudWatchLogsLogGroupArn ends the delivery to CloudWatch Logs
                // (CloudTrail API Reference, UpdateTrail).
                match params.and_then(|p| p.get("cloudWatchLogsLogGroupArn")) {
                    None | Some(Value::Null) => {}
                    Some(Value::String(arn)) => set(
                        history,
                        TrailSettings::LOG_GROUP_ARN,
                        NewValue::Set(json!(arn)),
                    ),
                    Some(other) => set(
                        history,
                        TrailSettings::LOG_GROUP_ARN,
                        NewValue::Unknown(format!(
                            "cloudWatchLogsLogGroupArn is {other}, not a string"
                        )),
                    ),
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
                let data = match data_events_from_request(params) {
                    Some(selectors) => NewValue::Set(selectors),
                    None => NewValue::Unknown(
                        "the request names neither eventSelectors nor advancedEventSelectors"
                            .to_string(),
                    ),
                };
                set(history, TrailSettings::DATA_EVENTS, data);
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

/// Whether an API Gateway event is about an HTTP or WebSocket API (API Gateway v2): both
/// share the source and names like CreateStage; v2 requests name the API `apiId`, REST API
/// requests `restApiId`. The calls only v2 has are v2 whatever their record says.
pub fn is_v2_event(name: &str, params: Option<&Value>) -> bool {
    match name {
        "DeleteAccessLogSettings"
        | "CreateRoute"
        | "UpdateRoute"
        | "DeleteRoute"
        | "CreateApi"
        | "ImportApi"
        | "ReimportApi"
        | "DeleteApi" => true,
        _ => events::names_v2_api(params),
    }
}

/// A stage event whose request names neither a REST API nor an HTTP or WebSocket API.
fn names_no_api(params: Option<&Value>) -> bool {
    events::request_field(params, "restApiId").is_none()
        && events::request_field(params, "apiId").is_none()
}

/// Whether a request carries any field besides the names in its path.
fn has_body(params: Option<&Value>, path_fields: &[&str]) -> bool {
    params
        .and_then(Value::as_object)
        .is_some_and(|fields| fields.keys().any(|k| !path_fields.contains(&k.as_str())))
}

/// The access log destination a request's `accessLogSettings` sets: its `destinationArn`, or
/// unknown when it has none (API Gateway requires one; the record may not carry it).
fn access_log_destination(settings: &Value) -> NewValue {
    match text(settings.get("destinationArn")) {
        Some(arn) if !arn.is_empty() => NewValue::Set(json!(arn)),
        _ => NewValue::Unknown("accessLogSettings without a destinationArn in the record".into()),
    }
}

/// What a CreateReplicationGroup set AtRestEncryptionEnabled to (see
/// `read_replication_group_event`).
fn created_at_rest_encryption(params: Option<&Value>, response: Option<&Value>) -> NewValue {
    const FLAG: &str = "atRestEncryptionEnabled";
    let answered = response
        .and_then(|r| r.get(FLAG).or_else(|| r.get("replicationGroup")?.get(FLAG)))
        .and_then(Value::as_bool);
    if let Some(flag) = answered {
        return NewValue::Set(json!(flag));
    }
    let param = |name: &str| params.and_then(|p| p.get(name)).filter(|v| !v.is_null());
    match param(FLAG) {
        Some(Value::Bool(flag)) => return NewValue::Set(json!(flag)),
        Some(other) => return NewValue::Unknown(format!("{FLAG} is {other}, not a boolean")),
        None => {}
    }
    let from_elsewhere = [
        ("snapshotName", "restored from a backup"),
        ("snapshotArns", "seeded from backup files"),
        (
            "serverlessCacheSnapshotName",
            "restored from a serverless cache backup",
        ),
        ("globalReplicationGroupId", "joined to a global datastore"),
        ("primaryClusterId", "built around an existing cluster"),
    ];
    if let Some((_, how)) = from_elsewhere
        .iter()
        .find(|(name, _)| param(name).is_some())
    {
        return NewValue::Unknown(format!(
            "the group was {how} and the request sets no {FLAG}: the setting it got is not recorded"
        ));
    }
    match text(param("engine"))
        .map(|e| e.to_ascii_lowercase())
        .as_deref()
    {
        Some("valkey") => NewValue::Set(json!(true)),
        Some("redis") => NewValue::Set(json!(false)),
        Some(other) => NewValue::Unknown(format!(
            "the request sets no {FLAG} and names the engine {other}, whose default is not documented"
        )),
        None => NewValue::Unknown(format!(
            "the request sets neither {FLAG} nor the engine, whose default decides it"
        )),
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
