//! API Gateway REST API stage controls: cache encryption (Security Hub and AWS Config
//! readings, per deployed method and per `methodSettings` entry) and execution logging with
//! context columns. The methods judged are those the stage's deployments serve; API Gateway v2
//! APIs are listed as outside the cache control.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::catalog::{APIGW_CACHE_ENCRYPTION, APIGW_LOGGING};
use super::history::RegionHistory;
use super::period::Replay;
use super::remediation::{self, Patch, Patches, STAGE_WIDE};
use super::{Available, Evaluation, Finding, RegionScope, Status, View};
use crate::evidence::{
    ApiGatewayAccount, ApiGatewayEvidence, ApiV2, EvidenceGap, MethodSetting, RestApi,
    RestApiEvidence, Stage,
};

/// Effective settings of one deployed method on one stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MethodRow {
    pub account_id: String,
    pub region: String,
    pub api_id: String,
    pub api_name: String,
    pub stage: String,
    pub resource_path: String,
    pub http_method: String,
    /// Where the effective setting came from: the method's own `methodSettings` key, the
    /// stage-wide `*/*` entry, or the API default.
    pub setting_source: String,
    /// `None` where the snapshot does not say (never read as "off": see `evaluate_stage`).
    pub cache_cluster_enabled: Option<bool>,
    pub caching_enabled: Option<bool>,
    pub cache_data_encrypted: Option<bool>,
    pub logging_level: String,
    pub authorization_type: String,
    pub api_key_required: bool,
    pub security_hub: Status,
    pub aws_config: Status,
    pub observation: String,
}

impl MethodRow {
    pub fn sort_key(&self) -> (&str, &str, &str, &str, &str, &str) {
        (
            &self.account_id,
            &self.region,
            &self.api_id,
            &self.stage,
            &self.resource_path,
            &self.http_method,
        )
    }
}

/// Stage-level context for the logging control and the reviewer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageRow {
    pub account_id: String,
    pub region: String,
    pub api_id: String,
    pub api_name: String,
    pub stage: String,
    pub cache_cluster_enabled: Option<bool>,
    pub cache_cluster_size: String,
    pub execution_logging: String,
    pub access_logging: String,
    pub xray_tracing: bool,
    pub waf_web_acl: String,
    pub client_certificate: String,
    /// Methods with authorizationType NONE and no API key.
    pub open_methods: Vec<String>,
    pub logging_status: Status,
}

impl StageRow {
    pub fn sort_key(&self) -> (&str, &str, &str, &str) {
        (&self.account_id, &self.region, &self.api_id, &self.stage)
    }
}

/// Where an effective method setting comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum SettingSource {
    /// The method's own entry, with its `methodSettings` key as AWS wrote it.
    MethodOverride(String),
    /// The stage-wide `*/*` entry.
    StageWide,
    /// No entry at all: API Gateway's defaults (caching off, encryption off, logging off).
    ApiDefault,
}

impl SettingSource {
    pub fn describe(&self) -> String {
        match self {
            SettingSource::MethodOverride(key) => format!("method override {key}"),
            SettingSource::StageWide => "stage-wide */*".to_string(),
            SettingSource::ApiDefault => "API default".to_string(),
        }
    }
}

/// The `methodSettings` key AWS uses for a method: the resource path without its leading `/`,
/// every `/` written as `~1`, then `/` and the HTTP method (`/orders/{id}` GET →
/// `~1orders~1{id}/GET`; the root `/` → `~1/GET`).
pub fn method_settings_key(resource_path: &str, http_method: &str) -> String {
    format!("{}/{}", resource_path.replace('/', "~1"), http_method)
}

/// Normalises a `methodSettings` key to (`/path`, METHOD). Accepts the escaped form AWS
/// returns and the unescaped `path/GET` form seen in some recordings and templates.
fn parse_settings_key(key: &str) -> Option<(String, String)> {
    let (path, method) = key.rsplit_once('/')?;
    if path == "*" {
        return None;
    }
    let mut unescaped = path.replace("~1", "/");
    if !unescaped.starts_with('/') {
        unescaped.insert(0, '/');
    }
    Some((unescaped, method.to_ascii_uppercase()))
}

/// A `methodSettings` key in the escaped form UpdateStage patch paths use, whichever form the
/// snapshot holds it in (`*/*` stays as it is).
fn escaped_settings_key(key: &str) -> String {
    match parse_settings_key(key) {
        Some((path, method)) => method_settings_key(&path, &method),
        None => key.to_string(),
    }
}

/// The setting in effect for one method: its own entry, else `*/*`, else the API default.
pub fn effective_setting(
    stage: &Stage,
    resource_path: &str,
    http_method: &str,
) -> (SettingSource, MethodSetting) {
    let wanted = (resource_path.to_string(), http_method.to_ascii_uppercase());
    let own = stage
        .method_settings
        .iter()
        .find(|(key, _)| parse_settings_key(key).as_ref() == Some(&wanted));
    if let Some((key, setting)) = own {
        return (SettingSource::MethodOverride(key.clone()), setting.clone());
    }
    if let Some(setting) = stage.method_settings.get("*/*") {
        return (SettingSource::StageWide, setting.clone());
    }
    (SettingSource::ApiDefault, MethodSetting::default())
}

/// A deployed method: path and HTTP verb, with its authorization settings.
#[derive(Debug, Clone)]
struct DeployedMethod {
    path: String,
    http_method: String,
    authorization_type: String,
    api_key_required: bool,
}

impl DeployedMethod {
    fn is_open(&self) -> bool {
        self.authorization_type == "NONE" && !self.api_key_required
    }
}

/// The methods a stage serves: those of its deployment's `apiSummary` and, with a canary, of
/// the canary's deployment (the canary's share of the requests is served by it). `Err` says why
/// they are unknown. The API's current resources (GetResources) are never used instead: they
/// show the API as it is being edited, which may never have been deployed.
fn deployed_methods(
    scope: &RegionScope,
    api: &RestApiEvidence,
    stage: &Stage,
) -> Result<Vec<DeployedMethod>, String> {
    let Some(deployments) = api.deployments.as_deref() else {
        return Err(
            "the snapshot holds no deployments (it predates their collection), so what \
                    the stage serves is unknown"
                .to_string(),
        );
    };
    let Some(stage_deployment) = stage.deployment_id.as_deref() else {
        return Err("GetStages named no deploymentId for the stage".to_string());
    };
    let canary = stage
        .canary_settings
        .as_ref()
        .and_then(|canary| canary.deployment_id.as_deref())
        .map(|id| ("canary deployment", id));
    let mut methods: BTreeMap<(String, String), DeployedMethod> = BTreeMap::new();
    for (role, id) in std::iter::once(("deployment", stage_deployment)).chain(canary) {
        let Some(deployment) = deployments.iter().find(|d| d.id == id) else {
            let gap_resource = format!("restapis/{}/deployments/{id}", api.api.id);
            let gaps = scope.resource_gaps("apigateway", &[&gap_resource]);
            let why = if gaps.is_empty() {
                "was not collected".to_string()
            } else {
                format!("could not be read: {}", super::describe_gaps(&gaps))
            };
            return Err(format!("the stage's {role} {id} {why}"));
        };
        let Some(summary) = &deployment.api_summary else {
            return Err(format!(
                "GetDeployment returned no apiSummary for the stage's {role} {id}"
            ));
        };
        for (path, verbs) in summary {
            let Some(path) = summary_path(path) else {
                return Err(format!(
                    "the apiSummary of the stage's {role} {id} has a path in an unknown form: {path:?}"
                ));
            };
            for (verb, snapshot) in verbs {
                let method = DeployedMethod {
                    path: path.clone(),
                    http_method: verb.to_ascii_uppercase(),
                    authorization_type: snapshot
                        .authorization_type
                        .clone()
                        .unwrap_or_else(|| "unknown".to_string()),
                    api_key_required: snapshot.api_key_required.unwrap_or(false),
                };
                // Served by both deployments: open if either serves it open.
                let key = (method.path.clone(), method.http_method.clone());
                match methods.get(&key) {
                    Some(known) if known.is_open() || !method.is_open() => {}
                    _ => {
                        methods.insert(key, method);
                    }
                }
            }
        }
    }
    Ok(methods.into_values().collect())
}

/// An `apiSummary` path as `/a/b`. AWS documents no example of the keys, so both `/orders` and
/// `orders` are read as `/orders`; an empty or escaped key is not guessed at.
fn summary_path(path: &str) -> Option<String> {
    if path.is_empty() || path.contains("~1") || path.contains(char::is_whitespace) {
        return None;
    }
    Some(if path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    })
}

/// How one `methodSettings` entry configures the cache: what Security Hub's APIGateway.5 judges
/// ("a method configured to cache whose cache is not encrypted").
#[derive(Debug, Clone, Copy, PartialEq)]
enum CacheConfig {
    NotCached,
    Encrypted,
    Unencrypted,
    /// The entry lacks `cachingEnabled`, or caches and lacks `cacheDataEncrypted`.
    Unknown,
}

fn cache_config(setting: &MethodSetting) -> CacheConfig {
    match (setting.caching_enabled, setting.cache_data_encrypted) {
        (Some(false), _) => CacheConfig::NotCached,
        (Some(true), Some(true)) => CacheConfig::Encrypted,
        (Some(true), Some(false)) => CacheConfig::Unencrypted,
        (None, _) | (Some(true), None) => CacheConfig::Unknown,
    }
}

/// The caching in effect for one method, from the entry that supplies its settings:
/// (cached, encrypted, why a configured cache does not apply). The API Gateway Developer Guide
/// (cache settings): caching enabled for a stage caches GET methods only, other methods only
/// through their own override; a TTL of 0 disables caching.
fn effective_caching(
    source: &SettingSource,
    setting: &MethodSetting,
    http_method: &str,
) -> (Option<bool>, Option<bool>, Option<&'static str>) {
    let encrypted = setting.cache_data_encrypted;
    match source {
        SettingSource::ApiDefault => (Some(false), Some(false), None),
        SettingSource::StageWide
            if setting.caching_enabled == Some(true) && http_method != "GET" =>
        {
            (
                Some(false),
                encrypted,
                Some("stage-wide */* caching applies to GET methods only"),
            )
        }
        _ => match (setting.caching_enabled, setting.cache_ttl_in_seconds) {
            (Some(true), Some(0)) => (
                Some(false),
                encrypted,
                Some("cacheTtlInSeconds 0 disables caching"),
            ),
            // Whether the cache is in effect depends on the TTL, which the snapshot lacks.
            (Some(true), None) => (None, encrypted, None),
            (caching, _) => (caching, encrypted, None),
        },
    }
}

/// How one `methodSettings` entry sets execution logging (APIGateway.1).
#[derive(Debug, Clone, Copy, PartialEq)]
enum LoggingConfig {
    On,
    Off,
    /// The entry lacks `loggingLevel`. AWS returns it in every entry (recorded GetStages
    /// answers), so its absence says nothing about the level.
    Unknown,
}

fn logging_config(setting: &MethodSetting) -> LoggingConfig {
    match setting.logging_level.as_deref() {
        Some("ERROR" | "INFO") => LoggingConfig::On,
        Some(_) => LoggingConfig::Off,
        None => LoggingConfig::Unknown,
    }
}

fn method_label(method: &DeployedMethod) -> String {
    format!("{} {}", method.http_method, method.path)
}

/// A `methodSettings` entry named for a reader: `stage-wide */*`, or `PUT /items/{id}
/// (~1items~1{id}/PUT)`, with the deployed methods it reaches when they are known.
fn entry_label(
    stage: &Stage,
    key: &str,
    methods: Option<&[DeployedMethod]>,
    reaches: impl Fn(&DeployedMethod) -> bool,
) -> String {
    let name = match parse_settings_key(key) {
        _ if key == "*/*" => "stage-wide */*".to_string(),
        Some((path, verb)) => format!("{verb} {path} ({key})"),
        None => key.to_string(),
    };
    let Some(methods) = methods else {
        return name;
    };
    let reached: Vec<String> = methods
        .iter()
        .filter(|m| {
            let (source, _) = effective_setting(stage, &m.path, &m.http_method);
            let own = matches!(&source, SettingSource::MethodOverride(k) if k == key);
            let wide = key == "*/*" && source == SettingSource::StageWide;
            (own || wide) && reaches(m)
        })
        .map(method_label)
        .collect();
    if reached.is_empty() {
        format!("{name} [reaches no deployed method]")
    } else if key == "*/*" {
        format!("{name} [{}]", list_limited(&reached))
    } else {
        name
    }
}

fn api_label(api: &RestApiEvidence) -> String {
    match api.api.name.as_deref() {
        Some(name) => format!("{name} ({})", api.api.id),
        None => api.api.id.clone(),
    }
}

fn stage_resource(api: &RestApiEvidence, stage_name: &str) -> String {
    format!("{} stage {stage_name}", api_label(api))
}

fn list_limited(items: &[String]) -> String {
    const SHOWN: usize = 10;
    if items.len() <= SHOWN {
        items.join(", ")
    } else {
        format!(
            "{} and {} more",
            items[..SHOWN].join(", "),
            items.len() - SHOWN
        )
    }
}

pub fn evaluate_region(
    scope: &RegionScope,
    evidence: Option<&ApiGatewayEvidence>,
    history: &RegionHistory,
    replay: &Replay,
    out: &mut Evaluation,
) {
    let gaps = scope.service_gaps("apigateway");
    let Some(Available { evidence, complete }) =
        scope.available(ROWS, "API Gateway", &gaps, evidence, out)
    else {
        return;
    };
    let mut stage_count = 0;
    let mut apis_without_stages_evidence = 0;
    for api in &evidence.rest_apis {
        let stage_gaps: Vec<&EvidenceGap> = scope
            .resource_gaps("apigateway", &[&api.api.id])
            .into_iter()
            .filter(|gap| gap.api == "GetStages")
            .collect();
        if !stage_gaps.is_empty() {
            // Its stages are unknown: never let that read as "nothing deployed".
            apis_without_stages_evidence += 1;
            let reason = format!(
                "the API's stages could not be read: {}",
                super::describe_gaps(&stage_gaps)
            );
            let resource = format!("{} (all stages)", api_label(api));
            scope.push_rows(ROWS, &resource, Status::EvidenceGap, &reason, out);
        }
        for stage in &api.stages {
            stage_count += 1;
            let skeleton = serde_json::json!({ "stageName": stage.stage_name });
            judge_stage(
                scope,
                api,
                Some(stage),
                skeleton,
                &stage.stage_name,
                evidence.account.as_ref(),
                history,
                replay,
                out,
            );
        }
    }
    // Stages a recorded event deleted before collection were still there for part of the
    // period: judged on what the events say, never left out.
    for ((api_id, stage_name), stage_history) in &history.stages {
        let collected = evidence.rest_apis.iter().find(|a| a.api.id == *api_id);
        let still_there =
            collected.is_some_and(|a| a.stages.iter().any(|s| s.stage_name == *stage_name));
        if api_id.is_empty() || still_there || stage_history.deleted.is_none() {
            continue;
        }
        let gone_api = RestApiEvidence {
            api: RestApi {
                id: api_id.clone(),
                name: None,
                description: None,
                created_date: None,
                extra: Default::default(),
            },
            stages: Vec::new(),
            resources: None,
            deployments: None,
            extra: Default::default(),
        };
        let api = collected.unwrap_or(&gone_api);
        // Nothing is known of a deleted stage but what the events set: its stage-wide entry
        // is there with every setting unknown, never read as API Gateway's defaults.
        let skeleton =
            serde_json::json!({ "stageName": stage_name, "methodSettings": { "*/*": {} } });
        judge_stage(
            scope,
            api,
            None,
            skeleton,
            stage_name,
            evidence.account.as_ref(),
            history,
            replay,
            out,
        );
    }
    let v2_count = evaluate_v2_apis(scope, evidence.v2_apis.as_deref(), out);
    if stage_count == 0 && apis_without_stages_evidence == 0 && v2_count == 0 && complete {
        let reason = if evidence.rest_apis.is_empty() {
            "no REST APIs in this region".to_string()
        } else {
            format!(
                "{} REST API(s), none deployed to a stage",
                evidence.rest_apis.len()
            )
        };
        scope.push_rows(ROWS, "(region)", Status::NoResources, &reason, out);
    }
}

/// Judges one stage over the period (the period rule, `period::Replay::judge`); `stage` is
/// `None` for a stage a recorded event deleted before collection, `skeleton` then names it.
#[allow(clippy::too_many_arguments)]
fn judge_stage(
    scope: &RegionScope,
    api: &RestApiEvidence,
    stage: Option<&Stage>,
    skeleton: serde_json::Value,
    stage_name: &str,
    account: Option<&ApiGatewayAccount>,
    history: &RegionHistory,
    replay: &Replay,
    out: &mut Evaluation,
) {
    let stage_history = history.stage(&api.api.id, stage_name);
    let resource = stage_resource(api, stage_name);
    let findings = replay.judge(
        stage,
        skeleton,
        &stage_history,
        |version, scratch| evaluate_stage(scope, account, api, version, scratch),
        |reason| {
            ROWS.iter()
                .map(|(control, view)| {
                    scope.finding(control, &resource, *view, Status::EvidenceGap, reason)
                })
                .collect()
        },
        out,
    );
    // The stage table's logging status is the period's, like its result row.
    if let Some(logging) = findings
        .iter()
        .find(|f| f.control_id == APIGW_LOGGING && f.resource == resource)
        && let Some(row) = out.stages.iter_mut().rev().find(|r| {
            r.api_id == api.api.id
                && r.stage == stage_name
                && r.account_id == scope.account_id
                && r.region == scope.region
        })
    {
        row.logging_status = logging.status;
    }
}

/// API Gateway v2 (HTTP and WebSocket) APIs have no cache, so they are listed as outside the
/// cache control rather than left out. APIGateway.1 also covers WebSocket stages, whose route
/// logging settings this version does not collect: an evidence gap, never a silent PASS.
/// Returns how many v2 APIs were listed.
fn evaluate_v2_apis(scope: &RegionScope, apis: Option<&[ApiV2]>, out: &mut Evaluation) -> usize {
    let gaps: Vec<&EvidenceGap> = scope
        .service_gaps(ApiV2::GAP_SERVICE)
        .into_iter()
        .filter(|gap| gap.service == ApiV2::GAP_SERVICE)
        .collect();
    if apis.is_none() || !gaps.is_empty() {
        let why = if gaps.is_empty() {
            "API Gateway v2 APIs (GetApis) were not collected".to_string()
        } else {
            super::describe_gaps(&gaps)
        };
        let reason =
            format!("{why}; WebSocket API stages, which APIGateway.1 also covers, may exist");
        out.findings.push(scope.finding(
            APIGW_LOGGING,
            "(HTTP and WebSocket APIs)",
            None,
            Status::EvidenceGap,
            reason,
        ));
    }
    let apis = apis.unwrap_or_default();
    for api in apis {
        let protocol = api.protocol_type.as_deref().unwrap_or("unknown protocol");
        let resource = match api.name.as_deref() {
            Some(name) => format!("{name} ({}) v2 {protocol} API", api.api_id),
            None => format!("{} v2 {protocol} API", api.api_id),
        };
        let no_cache = "API Gateway v2 (HTTP and WebSocket) APIs have no cache; APIGateway.5 and \
                        api-gw-cache-enabled-and-encrypted judge REST API stages only";
        for view in View::BOTH {
            out.findings.push(scope.finding(
                APIGW_CACHE_ENCRYPTION,
                &resource,
                Some(view),
                Status::NotApplicable,
                no_cache,
            ));
        }
        let (status, reason) = if protocol == "HTTP" {
            (
                Status::NotApplicable,
                "HTTP APIs have no execution logging; APIGateway.1 covers REST and WebSocket stages",
            )
        } else {
            (
                Status::EvidenceGap,
                "APIGateway.1 covers WebSocket stages, whose logging settings this version does \
                 not collect",
            )
        };
        out.findings
            .push(scope.finding(APIGW_LOGGING, &resource, None, status, reason));
    }
    apis.len()
}

/// The rows of the API Gateway controls about one scope: both cache readings and logging.
const ROWS: &[(&str, Option<View>)] = &[
    (APIGW_CACHE_ENCRYPTION, Some(View::SecurityHub)),
    (APIGW_CACHE_ENCRYPTION, Some(View::AwsConfig)),
    (APIGW_LOGGING, None),
];

/// Evaluates one stage: both cache views, logging, and one row per deployed method.
pub fn evaluate_stage(
    scope: &RegionScope,
    account: Option<&ApiGatewayAccount>,
    api: &RestApiEvidence,
    stage: &Stage,
    out: &mut Evaluation,
) {
    let resource = stage_resource(api, &stage.stage_name);
    // GetStages always returns cacheClusterEnabled; a snapshot without it does not say the
    // cluster is off, so the strict reading cannot be judged (an evidence gap, not a FAIL).
    let cluster_on = stage.cache_cluster_enabled;
    let access_log_destination = stage
        .access_log_settings
        .as_ref()
        .and_then(|s| s.destination_arn.clone())
        .filter(|d| !d.is_empty());
    let stage_wide = stage
        .method_settings
        .get("*/*")
        .cloned()
        .unwrap_or_default();
    let deployed = deployed_methods(scope, api, stage);
    let methods = deployed.as_deref().ok();

    let mut not_cached = Vec::new();
    let mut not_encrypted = Vec::new();
    let mut unknown_strict = Vec::new();
    let mut logging_off = Vec::new();
    let mut open_methods = Vec::new();
    let mut strict_fix = Patches::default();
    if cluster_on == Some(false) {
        strict_fix.push(Patch::new("/cacheClusterEnabled", "true"));
        if stage.cache_cluster_size.is_none() {
            strict_fix.push(Patch::new("/cacheClusterSize", "0.5"));
        }
    }
    let mut uncached_writes: Vec<String> = Vec::new();
    for method in methods.unwrap_or_default() {
        let (source, setting) = effective_setting(stage, &method.path, &method.http_method);
        let configured = match source {
            SettingSource::ApiDefault => CacheConfig::NotCached,
            _ => cache_config(&setting),
        };
        let (caching, encrypted, not_applied) =
            effective_caching(&source, &setting, &method.http_method);
        let mut label = format!("{} ({})", method_label(method), source.describe());
        if let Some(why) = not_applied {
            label = format!("{label}: {why}");
        }
        let lenient = match configured {
            CacheConfig::Unencrypted => Status::Fail,
            CacheConfig::Unknown => Status::EvidenceGap,
            CacheConfig::NotCached | CacheConfig::Encrypted => Status::Pass,
        };
        match (caching, encrypted) {
            (Some(false), _) => not_cached.push(label.clone()),
            (Some(true), Some(false)) => not_encrypted.push(label.clone()),
            (Some(true), Some(true)) => {}
            (None, _) | (Some(true), None) => unknown_strict.push(label.clone()),
        }
        if caching == Some(false) && !is_read_method(&method.http_method) {
            // Caching a write method's responses would answer later writes from the cache
            // instead of the system of record: never propose it.
            uncached_writes.push(method_label(method));
        } else if matches!(
            (caching, encrypted),
            (Some(false), _) | (Some(true), Some(false))
        ) {
            cache_method_fix(method, &source, &setting, caching, &mut strict_fix);
        }
        let strict = if cluster_on == Some(false)
            || caching == Some(false)
            || configured == CacheConfig::Unencrypted
            || (caching == Some(true) && encrypted == Some(false))
        {
            Status::Fail
        } else if cluster_on == Some(true) && caching == Some(true) && encrypted == Some(true) {
            Status::Pass
        } else {
            Status::EvidenceGap
        };
        let mut observations: Vec<&str> = not_applied.into_iter().collect();
        if setting.caching_enabled == Some(true) && cluster_on == Some(false) {
            observations.push(
                "cachingEnabled is true but the stage cache cluster is off: caching not in effect",
            );
        }
        if logging_config(&setting) != LoggingConfig::On {
            logging_off.push(method_label(method));
        }
        if method.is_open() {
            open_methods.push(method_label(method));
        }
        out.methods.push(MethodRow {
            account_id: scope.account_id.to_string(),
            region: scope.region.to_string(),
            api_id: api.api.id.clone(),
            api_name: api.api.name.clone().unwrap_or_default(),
            stage: stage.stage_name.clone(),
            resource_path: method.path.clone(),
            http_method: method.http_method.clone(),
            setting_source: source.describe(),
            cache_cluster_enabled: cluster_on,
            caching_enabled: caching,
            cache_data_encrypted: encrypted,
            logging_level: setting
                .logging_level
                .clone()
                .unwrap_or_else(|| "not set".to_string()),
            authorization_type: method.authorization_type.clone(),
            api_key_required: method.api_key_required,
            security_hub: lenient,
            aws_config: strict,
            observation: observations.join("; "),
        });
    }

    // Every entry is judged, also one that reaches no deployed method: Security Hub judges the
    // stage's configured settings.
    let mut unencrypted_entries = Vec::new();
    let mut encrypt_fix = Patches::default();
    let mut unknown_entries = Vec::new();
    let mut cached_entries = 0;
    let mut cached_without_cluster = Vec::new();
    for (key, setting) in &stage.method_settings {
        let label = || {
            entry_label(stage, key, methods, |m| {
                m.http_method == "GET" || key != "*/*"
            })
        };
        match cache_config(setting) {
            CacheConfig::Unencrypted => {
                unencrypted_entries.push(label());
                encrypt_fix.push(Patch::new(
                    remediation::method_setting_path(
                        &escaped_settings_key(key),
                        "caching/dataEncrypted",
                    ),
                    "true",
                ));
            }
            CacheConfig::Unknown => unknown_entries.push(label()),
            CacheConfig::Encrypted => cached_entries += 1,
            CacheConfig::NotCached => {}
        }
        if setting.caching_enabled == Some(true) && cluster_on == Some(false) {
            cached_without_cluster.push(label());
        }
    }
    let observation = if cached_without_cluster.is_empty() {
        String::new()
    } else {
        format!(
            " Observation: caching is enabled on {} but the cache cluster is off, so caching is not in effect.",
            list_limited(&cached_without_cluster)
        )
    };
    let entry_count = stage.method_settings.len();
    let lenient = if !unencrypted_entries.is_empty() {
        (
            Status::Fail,
            format!(
                "{} of {} cache without encryption: {}.{observation}",
                unencrypted_entries.len(),
                plural_entries(entry_count),
                list_limited(&unencrypted_entries)
            ),
        )
    } else if !unknown_entries.is_empty() {
        (
            Status::EvidenceGap,
            format!(
                "cachingEnabled or cacheDataEncrypted not reported for {}.{observation}",
                list_limited(&unknown_entries)
            ),
        )
    } else if cached_entries == 0 {
        (
            Status::Pass,
            format!(
                "no methodSettings entry caches data ({} evaluated), so no unencrypted cache.{observation}",
                plural_entries(entry_count)
            ),
        )
    } else {
        (
            Status::Pass,
            format!(
                "every caching entry ({cached_entries} of {}) encrypts the cache.{observation}",
                plural_entries(entry_count)
            ),
        )
    };

    let mut strict_problems = Vec::new();
    if cluster_on == Some(false) {
        strict_problems
            .push("the stage cache cluster is disabled (cacheClusterEnabled false)".to_string());
    }
    if !not_cached.is_empty() {
        strict_problems.push(format!(
            "{} not cached: {}",
            plural_methods(not_cached.len()),
            list_limited(&not_cached)
        ));
    }
    if !not_encrypted.is_empty() {
        strict_problems.push(format!(
            "{} cached without encryption: {}",
            plural_methods(not_encrypted.len()),
            list_limited(&not_encrypted)
        ));
    }
    if !unencrypted_entries.is_empty() {
        strict_problems.push(format!(
            "methodSettings configured to cache without encryption: {}",
            list_limited(&unencrypted_entries)
        ));
    }
    let mut strict_unknowns = Vec::new();
    if cluster_on.is_none() {
        strict_unknowns.push("GetStages did not report cacheClusterEnabled".to_string());
    }
    if let Err(why) = &deployed {
        strict_unknowns.push(format!("{why}; the deployed methods cannot be judged"));
    }
    if !unknown_strict.is_empty() {
        strict_unknowns.push(format!(
            "whether the cache is in effect and encrypted is not reported for {}: {}",
            plural_methods(unknown_strict.len()),
            list_limited(&unknown_strict)
        ));
    }
    strict_fix.extend(&encrypt_fix);
    let strict = if !strict_problems.is_empty() {
        (
            Status::Fail,
            format!("{}.{observation}", strict_problems.join("; ")),
        )
    } else if !strict_unknowns.is_empty() {
        (
            Status::EvidenceGap,
            format!("{}.{observation}", strict_unknowns.join("; ")),
        )
    } else {
        let total = methods.map_or(0, <[DeployedMethod]>::len);
        (
            Status::Pass,
            format!("cache cluster on; all {total} deployed methods cached and encrypted."),
        )
    };
    let command = |patches: &Patches| {
        remediation::apigateway_update_stage(&api.api.id, &stage.stage_name, scope.region, patches)
            .to_string()
    };
    let lenient_fix = command(&encrypt_fix);
    let mut strict_steps = Vec::new();
    if !strict_fix.is_empty() {
        strict_steps.push(command(&strict_fix));
    }
    if !uncached_writes.is_empty() {
        strict_steps.push(remediation::write_methods_left_uncached(
            &api.api.id,
            &stage.stage_name,
            &list_limited(&uncached_writes),
        ));
    }
    let strict_fix_text = strict_steps.join(" ");
    for (view, (status, reason), fix) in [
        (View::SecurityHub, lenient, &lenient_fix),
        (View::AwsConfig, strict, &strict_fix_text),
    ] {
        out.findings.push(
            scope
                .finding(
                    APIGW_CACHE_ENCRYPTION,
                    &resource,
                    Some(view),
                    status,
                    reason,
                )
                .with_remediation(fix.as_str()),
        );
    }

    let account_gaps = scope.resource_gaps("apigateway", &[ApiGatewayAccount::GAP_RESOURCE]);
    let logging = logging_finding(
        scope,
        api,
        &resource,
        stage,
        methods,
        &logging_off,
        CloudWatchRole::of(account, &account_gaps),
        access_log_destination.as_deref(),
    );
    out.stages.push(stage_row(
        scope,
        api,
        stage,
        &stage_wide,
        access_log_destination.as_deref(),
        open_methods,
        logging.status,
    ));
    out.findings.push(logging);
}

/// Methods whose responses may be cached: they read and change nothing.
fn is_read_method(http_method: &str) -> bool {
    matches!(http_method, "GET" | "HEAD" | "OPTIONS")
}

/// The patches that cache and encrypt one method for the strict reading: on its own entry, on
/// `*/*` for a GET the stage-wide entry serves, else on a new override of its own (`*/*`
/// caching reaches GET methods only); a TTL of 0 is raised to API Gateway's default 300 s.
fn cache_method_fix(
    method: &DeployedMethod,
    source: &SettingSource,
    setting: &MethodSetting,
    caching: Option<bool>,
    fix: &mut Patches,
) {
    let key = match source {
        SettingSource::MethodOverride(key) => escaped_settings_key(key),
        _ if method.http_method == "GET" => STAGE_WIDE.to_string(),
        _ => method_settings_key(&method.path, &method.http_method),
    };
    let path = |setting: &str| remediation::method_setting_path(&key, setting);
    if caching != Some(true) {
        fix.push(Patch::new(path("caching/enabled"), "true"));
    }
    fix.push(Patch::new(path("caching/dataEncrypted"), "true"));
    if setting.cache_ttl_in_seconds == Some(0) {
        fix.push(Patch::new(path("caching/ttlInSeconds"), "300"));
    }
}

fn plural_entries(count: usize) -> String {
    if count == 1 {
        "1 methodSettings entry".to_string()
    } else {
        format!("{count} methodSettings entries")
    }
}

fn plural_methods(count: usize) -> String {
    if count == 1 {
        "1 method".to_string()
    } else {
        format!("{count} methods")
    }
}

/// The region's CloudWatch role for API Gateway (GetAccount `cloudwatchRoleArn`): without it
/// API Gateway cannot write execution logs, whatever the stages say.
enum CloudWatchRole {
    Set(String),
    Missing,
    Unknown(String),
}

impl CloudWatchRole {
    fn of(account: Option<&ApiGatewayAccount>, gaps: &[&EvidenceGap]) -> Self {
        match account {
            Some(account) => match account.cloudwatch_role_arn.as_deref() {
                Some(arn) if !arn.is_empty() => CloudWatchRole::Set(arn.to_string()),
                _ => CloudWatchRole::Missing,
            },
            None if gaps.is_empty() => CloudWatchRole::Unknown(
                "the account's CloudWatch role (GetAccount) was not collected".to_string(),
            ),
            None => CloudWatchRole::Unknown(format!(
                "the account's CloudWatch role could not be read: {}",
                super::describe_gaps(gaps)
            )),
        }
    }
}

/// APIGateway.1 / `api-gw-execution-logging-enabled`: execution logging at ERROR or INFO for
/// every method of the stage, judged on every `methodSettings` entry (a missing `*/*` entry is
/// API Gateway's default, OFF), and the region's CloudWatch role set. Access logging and
/// `dataTraceEnabled` are context on the row, never the verdict.
#[allow(clippy::too_many_arguments)]
fn logging_finding(
    scope: &RegionScope,
    api: &RestApiEvidence,
    resource: &str,
    stage: &Stage,
    methods: Option<&[DeployedMethod]>,
    methods_logging_off: &[String],
    role: CloudWatchRole,
    access_log_destination: Option<&str>,
) -> Finding {
    let mut off = Vec::new();
    let mut unknown = Vec::new();
    let mut levels = BTreeSet::new();
    let mut fix = Patches::default();
    let log_errors = |key: &str| {
        Patch::new(
            remediation::method_setting_path(key, "logging/loglevel"),
            "ERROR",
        )
    };
    if !stage.method_settings.contains_key(STAGE_WIDE) {
        off.push("no stage-wide */* entry (API Gateway's default is OFF)".to_string());
        fix.push(log_errors(STAGE_WIDE));
    }
    let mut full_data_logged = Vec::new();
    for (key, setting) in &stage.method_settings {
        let label = || entry_label(stage, key, methods, |_| true);
        match logging_config(setting) {
            LoggingConfig::On => {
                levels.insert(setting.logging_level.clone().unwrap_or_default());
            }
            LoggingConfig::Off => {
                off.push(format!(
                    "{} at {}",
                    label(),
                    setting.logging_level.as_deref().unwrap_or_default()
                ));
                fix.push(log_errors(&escaped_settings_key(key)));
            }
            LoggingConfig::Unknown => unknown.push(label()),
        }
        if setting.data_trace_enabled == Some(true) {
            full_data_logged.push(label());
        }
    }

    let mut problems = Vec::new();
    let mut unknowns = Vec::new();
    match &role {
        CloudWatchRole::Missing => problems.push(
            "no CloudWatch role is set for API Gateway in this region (GetAccount cloudwatchRoleArn), \
             so API Gateway cannot write execution logs"
                .to_string(),
        ),
        CloudWatchRole::Unknown(why) => unknowns.push(why.clone()),
        CloudWatchRole::Set(_) => {}
    }
    if !off.is_empty() {
        let mut text = format!("execution logging is off: {}", list_limited(&off));
        if !methods_logging_off.is_empty() {
            text.push_str(&format!(
                " ({} without execution logging: {})",
                plural_methods(methods_logging_off.len()),
                list_limited(methods_logging_off)
            ));
        }
        problems.push(text);
    }
    if !unknown.is_empty() {
        unknowns.push(format!(
            "loggingLevel not reported for {}",
            list_limited(&unknown)
        ));
    }

    let mut context = match access_log_destination {
        Some(dest) => {
            format!(" Access logging to {dest} (context: it does not satisfy APIGateway.1).")
        }
        None => " No access logging.".to_string(),
    };
    if !full_data_logged.is_empty() {
        context.push_str(&format!(
            " Observation: dataTraceEnabled on {}: full request and response data are written to the logs.",
            list_limited(&full_data_logged)
        ));
    }
    let (status, reason) = if !problems.is_empty() {
        (Status::Fail, problems.join("; "))
    } else if !unknowns.is_empty() {
        (Status::EvidenceGap, unknowns.join("; "))
    } else {
        let levels: Vec<String> = levels.into_iter().collect();
        let role = match &role {
            CloudWatchRole::Set(arn) => arn.as_str(),
            _ => "",
        };
        (
            Status::Pass,
            format!(
                "execution logging at {} on */* and on every per-method entry; CloudWatch role {role}",
                levels.join("/"),
            ),
        )
    };
    let mut steps = Vec::new();
    if matches!(role, CloudWatchRole::Missing) {
        steps.push(remediation::apigateway_cloudwatch_role(scope.region));
    }
    if !fix.is_empty() {
        steps.push(
            remediation::apigateway_update_stage(
                &api.api.id,
                &stage.stage_name,
                scope.region,
                &fix,
            )
            .to_string(),
        );
    }
    scope
        .finding(
            APIGW_LOGGING,
            resource,
            None,
            status,
            format!("{reason}.{context}"),
        )
        .with_remediation(steps.join(". Then: "))
}

fn stage_row(
    scope: &RegionScope,
    api: &RestApiEvidence,
    stage: &Stage,
    stage_wide: &MethodSetting,
    access_log_destination: Option<&str>,
    open_methods: Vec<String>,
    logging_status: Status,
) -> StageRow {
    StageRow {
        account_id: scope.account_id.to_string(),
        region: scope.region.to_string(),
        api_id: api.api.id.clone(),
        api_name: api.api.name.clone().unwrap_or_default(),
        stage: stage.stage_name.clone(),
        cache_cluster_enabled: stage.cache_cluster_enabled,
        cache_cluster_size: stage.cache_cluster_size.clone().unwrap_or_default(),
        execution_logging: stage_wide
            .logging_level
            .clone()
            .unwrap_or_else(|| "not set".to_string()),
        access_logging: access_log_destination.unwrap_or("off").to_string(),
        xray_tracing: stage.tracing_enabled.unwrap_or(false),
        waf_web_acl: stage
            .web_acl_arn
            .clone()
            .filter(|a| !a.is_empty())
            .unwrap_or_else(|| "none".to_string()),
        client_certificate: stage
            .client_certificate_id
            .clone()
            .unwrap_or_else(|| "none".to_string()),
        open_methods,
        logging_status,
    }
}

#[cfg(test)]
mod tests {
    fn test_period() -> crate::evidence::Period {
        crate::evidence::Period {
            start: crate::evidence::Timestamp::parse("2026-10-01T00:00:00Z").unwrap(),
            end: crate::evidence::Timestamp::parse("2026-11-01T00:00:00Z").unwrap(),
        }
    }

    use super::*;
    use crate::evidence::{
        AccessLogSettings, ApiResource, CanarySettings, Deployment, MethodSnapshot, RestApi,
    };

    fn setting(caching: bool, encrypted: bool) -> MethodSetting {
        MethodSetting {
            caching_enabled: Some(caching),
            cache_data_encrypted: Some(encrypted),
            cache_ttl_in_seconds: Some(300),
            logging_level: Some("ERROR".into()),
            ..Default::default()
        }
    }

    fn stage(cluster: bool, settings: &[(&str, MethodSetting)]) -> Stage {
        serde_json::from_value::<Stage>(
            serde_json::json!({"stageName": "prod", "deploymentId": "d1"}),
        )
        .map(|mut s| {
            s.cache_cluster_enabled = Some(cluster);
            s.method_settings = settings
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect();
            s
        })
        .unwrap()
    }

    /// A deployment as GetDeployment with `embed=apisummary` returns it.
    fn deployment(id: &str, methods: &[(&str, &str, &str)]) -> Deployment {
        let mut summary: BTreeMap<String, BTreeMap<String, MethodSnapshot>> = BTreeMap::new();
        for (path, verb, auth) in methods {
            summary.entry(path.to_string()).or_default().insert(
                verb.to_string(),
                MethodSnapshot {
                    authorization_type: Some(auth.to_string()),
                    api_key_required: Some(false),
                    ..Default::default()
                },
            );
        }
        Deployment {
            id: id.into(),
            description: None,
            created_date: None,
            api_summary: Some(summary),
            extra: Default::default(),
        }
    }

    /// An API whose stage deployment `d1` serves `methods`.
    fn api(methods: &[(&str, &str, &str)]) -> RestApiEvidence {
        RestApiEvidence {
            api: RestApi {
                id: "a1".into(),
                name: Some("orders".into()),
                description: None,
                created_date: None,
                extra: Default::default(),
            },
            stages: Vec::new(),
            resources: None,
            deployments: Some(vec![deployment("d1", methods)]),
            extra: Default::default(),
        }
    }

    fn account_with_role() -> ApiGatewayAccount {
        ApiGatewayAccount {
            cloudwatch_role_arn: Some("arn:aws:iam::111111111111:role/apigw-logs".into()),
            extra: Default::default(),
        }
    }

    fn run(api: &RestApiEvidence, stage: &Stage) -> Evaluation {
        run_with(&[], Some(&account_with_role()), api, stage)
    }

    fn run_with(
        gaps: &[EvidenceGap],
        account: Option<&ApiGatewayAccount>,
        api: &RestApiEvidence,
        stage: &Stage,
    ) -> Evaluation {
        let scope = RegionScope::new("111111111111", "eu-central-1", gaps);
        let mut out = Evaluation::default();
        evaluate_stage(&scope, account, api, stage, &mut out);
        out
    }

    fn finding<'a>(out: &'a Evaluation, control: &str, view: Option<View>) -> &'a Finding {
        out.findings
            .iter()
            .find(|f| f.control_id == control && f.view == view)
            .unwrap_or_else(|| panic!("no {control} {view:?} result"))
    }

    /// The (lenient, strict) statuses of the cache control.
    fn cache_views(out: &Evaluation) -> (Status, Status) {
        (
            status(out, APIGW_CACHE_ENCRYPTION, Some(View::SecurityHub)),
            status(out, APIGW_CACHE_ENCRYPTION, Some(View::AwsConfig)),
        )
    }

    fn status(out: &Evaluation, control: &str, view: Option<View>) -> Status {
        finding(out, control, view).status
    }

    #[test]
    fn settings_key_escapes_slashes_like_aws() {
        assert_eq!(
            method_settings_key("/orders/{id}", "GET"),
            "~1orders~1{id}/GET"
        );
        assert_eq!(method_settings_key("/", "POST"), "~1/POST");
    }

    #[test]
    fn method_override_beats_stage_wide_which_beats_default() {
        let s = stage(
            true,
            &[
                ("*/*", setting(true, true)),
                ("~1orders~1{id}/GET", setting(true, false)),
            ],
        );
        let (source, eff) = effective_setting(&s, "/orders/{id}", "GET");
        assert_eq!(
            source,
            SettingSource::MethodOverride("~1orders~1{id}/GET".into())
        );
        assert_eq!(eff.cache_data_encrypted, Some(false));
        let (source, eff) = effective_setting(&s, "/orders", "GET");
        assert_eq!(source, SettingSource::StageWide);
        assert_eq!(eff.cache_data_encrypted, Some(true));
        let bare = stage(false, &[]);
        let (source, eff) = effective_setting(&bare, "/orders", "GET");
        assert_eq!(source, SettingSource::ApiDefault);
        assert_eq!(
            (eff.caching_enabled, eff.cache_data_encrypted),
            (None, None)
        );
    }

    #[test]
    fn unescaped_recorded_keys_are_understood() {
        let s = stage(true, &[("mytestresource/GET", setting(true, false))]);
        let (source, _) = effective_setting(&s, "/mytestresource", "GET");
        assert_eq!(
            source,
            SettingSource::MethodOverride("mytestresource/GET".into())
        );
    }

    #[test]
    fn lenient_fails_and_names_the_one_unencrypted_override() {
        let a = api(&[
            ("/orders", "GET", "AWS_IAM"),
            ("/orders/{id}", "GET", "AWS_IAM"),
        ]);
        let s = stage(
            true,
            &[
                ("*/*", setting(true, true)),
                ("~1orders~1{id}/GET", setting(true, false)),
            ],
        );
        let out = run(&a, &s);
        let lenient = finding(&out, APIGW_CACHE_ENCRYPTION, Some(View::SecurityHub));
        assert_eq!(lenient.status, Status::Fail);
        assert!(
            lenient
                .reason
                .contains("GET /orders/{id} (~1orders~1{id}/GET)"),
            "{}",
            lenient.reason
        );
        assert!(
            !lenient.reason.contains("GET /orders ("),
            "{}",
            lenient.reason
        );
        assert_eq!(
            status(&out, APIGW_CACHE_ENCRYPTION, Some(View::AwsConfig)),
            Status::Fail
        );
    }

    #[test]
    fn each_cache_reading_names_the_exact_update_stage_that_fixes_it() {
        let a = api(&[
            ("/orders", "GET", "AWS_IAM"),
            ("/orders", "POST", "AWS_IAM"),
            ("/orders/{id}", "GET", "AWS_IAM"),
        ]);
        let s = stage(
            false,
            &[
                ("*/*", setting(true, true)),
                ("~1orders~1{id}/GET", setting(true, false)),
            ],
        );
        let out = run(&a, &s);
        // Security Hub: the failing override only, its path escaped with ~1.
        assert_eq!(
            finding(&out, APIGW_CACHE_ENCRYPTION, Some(View::SecurityHub)).remediation,
            "aws apigateway update-stage --rest-api-id a1 --stage-name prod --region eu-central-1 \
             --patch-operations 'op=replace,path=/~1orders~1{id}/GET/caching/dataEncrypted,value=true'"
        );
        // AWS Config: the cache cluster first, then the unencrypted override; the uncached
        // POST is named, never proposed for caching (its writes would be answered from cache).
        assert_eq!(
            finding(&out, APIGW_CACHE_ENCRYPTION, Some(View::AwsConfig)).remediation,
            "aws apigateway update-stage --rest-api-id a1 --stage-name prod --region eu-central-1 \
             --patch-operations op=replace,path=/cacheClusterEnabled,value=true \
             op=replace,path=/cacheClusterSize,value=0.5 \
             'op=replace,path=/~1orders~1{id}/GET/caching/dataEncrypted,value=true' \
             Not proposed: caching for the write methods POST /orders of REST API a1 stage prod. \
             A cached response to a write would answer later requests without reaching the backend; record a justified \
             exception for them in the validation file, or judge the stage by the Security Hub \
             reading (report --verdict-reading lenient)."
        );
        // A PASS carries no fix.
        assert_eq!(finding(&out, APIGW_LOGGING, None).status, Status::Pass);
        assert_eq!(finding(&out, APIGW_LOGGING, None).remediation, "");
    }

    #[test]
    fn logging_fix_sets_the_cloudwatch_role_first_and_then_the_stage_wide_level() {
        let a = api(&[("/orders", "GET", "AWS_IAM")]);
        let mut off = setting(false, false);
        off.logging_level = Some("OFF".into());
        let s = stage(true, &[("*/*", off)]);
        let no_role = ApiGatewayAccount {
            cloudwatch_role_arn: None,
            extra: Default::default(),
        };
        let out = run_with(&[], Some(&no_role), &a, &s);
        let logging = finding(&out, APIGW_LOGGING, None);
        assert_eq!(logging.status, Status::Fail);
        assert_eq!(
            logging.remediation,
            "Prerequisite (once per account and region): a CloudWatch Logs role for API Gateway \
             (trusting apigateway.amazonaws.com, with AmazonAPIGatewayPushToCloudWatchLogs): \
             aws apigateway update-account --region eu-central-1 --patch-operations \
             'op=replace,path=/cloudwatchRoleArn,value=<role-arn>'. Then: aws apigateway \
             update-stage --rest-api-id a1 --stage-name prod --region eu-central-1 \
             --patch-operations 'op=replace,path=/*/*/logging/loglevel,value=ERROR'"
        );
    }

    #[test]
    fn every_method_cached_and_encrypted_passes_both_views() {
        let a = api(&[
            ("/orders", "GET", "AWS_IAM"),
            ("/orders", "POST", "AWS_IAM"),
        ]);
        let s = stage(
            true,
            &[
                ("*/*", setting(true, true)),
                ("~1orders/POST", setting(true, true)),
            ],
        );
        let out = run(&a, &s);
        assert_eq!(cache_views(&out), (Status::Pass, Status::Pass));
    }

    #[test]
    fn stage_wide_caching_caches_get_methods_only() {
        let a = api(&[
            ("/orders", "GET", "AWS_IAM"),
            ("/orders", "POST", "AWS_IAM"),
        ]);
        let out = run(&a, &stage(true, &[("*/*", setting(true, true))]));
        let strict = finding(&out, APIGW_CACHE_ENCRYPTION, Some(View::AwsConfig));
        assert_eq!(strict.status, Status::Fail, "{}", strict.reason);
        assert!(
            strict.reason.contains(
                "1 method not cached: POST /orders (stage-wide */*): stage-wide */* caching applies to GET methods only"
            ),
            "{}",
            strict.reason
        );
        let post = out
            .methods
            .iter()
            .find(|m| m.http_method == "POST")
            .unwrap();
        assert_eq!(post.caching_enabled, Some(false));
        assert_eq!(post.aws_config, Status::Fail);
        let get = out.methods.iter().find(|m| m.http_method == "GET").unwrap();
        assert_eq!(
            (get.caching_enabled, get.aws_config),
            (Some(true), Status::Pass)
        );
        // The entry itself encrypts: nothing for Security Hub to fail.
        assert_eq!(
            status(&out, APIGW_CACHE_ENCRYPTION, Some(View::SecurityHub)),
            Status::Pass
        );
    }

    #[test]
    fn a_ttl_of_zero_disables_caching_but_the_entry_is_still_judged_as_configured() {
        let a = api(&[("/orders", "GET", "AWS_IAM")]);
        let mut no_ttl = setting(true, true);
        no_ttl.cache_ttl_in_seconds = Some(0);
        let out = run(&a, &stage(true, &[("*/*", no_ttl.clone())]));
        assert_eq!(cache_views(&out), (Status::Pass, Status::Fail));
        let strict = finding(&out, APIGW_CACHE_ENCRYPTION, Some(View::AwsConfig));
        assert!(
            strict
                .reason
                .contains("cacheTtlInSeconds 0 disables caching"),
            "{}",
            strict.reason
        );
        no_ttl.cache_data_encrypted = Some(false);
        let out = run(&a, &stage(true, &[("*/*", no_ttl)]));
        assert_eq!(cache_views(&out), (Status::Fail, Status::Fail));
    }

    #[test]
    fn cluster_off_fails_strict_but_passes_lenient_when_nothing_cached() {
        let a = api(&[("/orders", "GET", "AWS_IAM")]);
        let s = stage(false, &[("*/*", setting(false, false))]);
        let out = run(&a, &s);
        assert_eq!(
            status(&out, APIGW_CACHE_ENCRYPTION, Some(View::SecurityHub)),
            Status::Pass
        );
        let strict = finding(&out, APIGW_CACHE_ENCRYPTION, Some(View::AwsConfig));
        assert_eq!(strict.status, Status::Fail);
        assert!(strict.reason.contains("cache cluster is disabled"));
    }

    #[test]
    fn strict_fails_a_method_that_is_not_cached_even_if_the_rest_is() {
        let a = api(&[("/orders", "GET", "AWS_IAM"), ("/health", "GET", "NONE")]);
        let s = stage(
            true,
            &[
                ("*/*", setting(true, true)),
                ("~1health/GET", setting(false, false)),
            ],
        );
        let out = run(&a, &s);
        assert_eq!(
            status(&out, APIGW_CACHE_ENCRYPTION, Some(View::SecurityHub)),
            Status::Pass
        );
        let strict = finding(&out, APIGW_CACHE_ENCRYPTION, Some(View::AwsConfig));
        assert_eq!(strict.status, Status::Fail);
        assert!(
            strict.reason.contains("1 method not cached: GET /health"),
            "{}",
            strict.reason
        );
    }

    #[test]
    fn no_method_settings_means_api_defaults_caching_off() {
        let a = api(&[("/orders", "GET", "AWS_IAM")]);
        let s = stage(true, &[]);
        let out = run(&a, &s);
        assert_eq!(out.methods[0].setting_source, "API default");
        assert_eq!(cache_views(&out), (Status::Pass, Status::Fail));
    }

    #[test]
    fn a_setting_entry_without_its_cache_flags_is_a_gap_not_off() {
        let a = api(&[("/orders", "GET", "AWS_IAM")]);
        let mut unreported = setting(true, true);
        unreported.caching_enabled = None;
        let out = run(&a, &stage(true, &[("*/*", unreported)]));
        for view in View::BOTH {
            let row = finding(&out, APIGW_CACHE_ENCRYPTION, Some(view));
            assert_eq!(row.status, Status::EvidenceGap, "{view:?}: {}", row.reason);
            assert!(
                row.reason.contains("not reported for") && row.reason.contains("GET /orders"),
                "{}",
                row.reason
            );
        }
        assert_eq!(out.methods[0].caching_enabled, None);
        assert_eq!(out.methods[0].security_hub, Status::EvidenceGap);

        let mut unencrypted_unknown = setting(true, true);
        unencrypted_unknown.cache_data_encrypted = None;
        let out = run(&a, &stage(true, &[("*/*", unencrypted_unknown)]));
        assert_eq!(
            status(&out, APIGW_CACHE_ENCRYPTION, Some(View::SecurityHub)),
            Status::EvidenceGap
        );
        // A known failure still decides: caching off is a strict FAIL whatever else is unknown.
        let mut off = setting(false, true);
        off.cache_data_encrypted = None;
        let out = run(&a, &stage(true, &[("*/*", off)]));
        assert_eq!(cache_views(&out), (Status::Pass, Status::Fail));
    }

    #[test]
    fn an_unreported_cache_cluster_leaves_only_the_strict_reading_unknown() {
        let a = api(&[("/orders", "GET", "AWS_IAM")]);
        let mut s = stage(true, &[("*/*", setting(true, true))]);
        s.cache_cluster_enabled = None;
        let out = run(&a, &s);
        assert_eq!(
            status(&out, APIGW_CACHE_ENCRYPTION, Some(View::SecurityHub)),
            Status::Pass
        );
        let strict = finding(&out, APIGW_CACHE_ENCRYPTION, Some(View::AwsConfig));
        assert_eq!(strict.status, Status::EvidenceGap);
        assert!(strict.reason.contains("did not report cacheClusterEnabled"));
    }

    #[test]
    fn methods_without_an_entry_take_the_documented_defaults() {
        let a = api(&[("/orders", "GET", "AWS_IAM")]);
        let out = run(&a, &stage(true, &[]));
        assert_eq!(out.methods[0].caching_enabled, Some(false));
        assert_eq!(
            status(&out, APIGW_CACHE_ENCRYPTION, Some(View::AwsConfig)),
            Status::Fail
        );
    }

    #[test]
    fn caching_enabled_with_cluster_off_is_an_observation_and_still_judged() {
        let a = api(&[("/orders", "GET", "AWS_IAM")]);
        let s = stage(false, &[("*/*", setting(true, false))]);
        let out = run(&a, &s);
        let lenient = finding(&out, APIGW_CACHE_ENCRYPTION, Some(View::SecurityHub));
        assert_eq!(lenient.status, Status::Fail);
        assert!(
            lenient.reason.contains("caching is not in effect"),
            "{}",
            lenient.reason
        );
        assert!(out.methods[0].observation.contains("caching not in effect"));
    }

    /// The API's current definition, with a method that was never deployed.
    fn draft(path: &str) -> Vec<ApiResource> {
        serde_json::from_value(serde_json::json!([{
            "id": "r1", "path": path,
            "resourceMethods": {"GET": {"httpMethod": "GET", "authorizationType": "NONE"}}
        }]))
        .unwrap()
    }

    #[test]
    fn a_snapshot_without_deployments_is_a_gap_for_the_methods_never_the_draft() {
        let mut a = api(&[]);
        a.deployments = None;
        a.resources = Some(draft("/orders"));
        let s = stage(true, &[("*/*", setting(true, true))]);
        let out = run(&a, &s);
        // Security Hub judges the configured entries, which the snapshot has.
        assert_eq!(cache_views(&out), (Status::Pass, Status::EvidenceGap));
        let strict = finding(&out, APIGW_CACHE_ENCRYPTION, Some(View::AwsConfig));
        assert!(
            strict.reason.contains("the snapshot holds no deployments"),
            "{}",
            strict.reason
        );
        assert!(out.methods.is_empty(), "{:?}", out.methods);
        assert!(out.stages[0].open_methods.is_empty());
    }

    #[test]
    fn methods_come_from_the_stage_deployment_not_the_api_definition() {
        // The draft has only /orders; the deployment still serves /legacy, not cached.
        let mut a = api(&[("/orders", "GET", "AWS_IAM"), ("/legacy", "GET", "NONE")]);
        a.resources = Some(draft("/orders"));
        let s = stage(
            true,
            &[
                ("*/*", setting(true, true)),
                ("~1legacy/GET", setting(false, false)),
            ],
        );
        let out = run(&a, &s);
        let strict = finding(&out, APIGW_CACHE_ENCRYPTION, Some(View::AwsConfig));
        assert_eq!(strict.status, Status::Fail);
        assert!(
            strict.reason.contains("not cached: GET /legacy"),
            "{}",
            strict.reason
        );
        let paths: Vec<&str> = out
            .methods
            .iter()
            .map(|m| m.resource_path.as_str())
            .collect();
        assert_eq!(paths, ["/legacy", "/orders"]);
        assert_eq!(out.stages[0].open_methods, ["GET /legacy"]);
    }

    #[test]
    fn an_unreadable_deployment_is_a_gap_for_the_methods() {
        let mut a = api(&[("/orders", "GET", "AWS_IAM")]);
        a.deployments = Some(Vec::new());
        a.resources = Some(draft("/orders"));
        let gaps = vec![EvidenceGap {
            account_id: "111111111111".into(),
            region: Some("eu-central-1".into()),
            service: "apigateway".into(),
            api: "GetDeployment".into(),
            resource: Some("restapis/a1/deployments/d1".into()),
            error_code: "AccessDeniedException".into(),
            message: "not authorized".into(),
        }];
        let s = stage(true, &[("*/*", setting(true, true))]);
        let out = run_with(&gaps, Some(&account_with_role()), &a, &s);
        let strict = finding(&out, APIGW_CACHE_ENCRYPTION, Some(View::AwsConfig));
        assert_eq!(strict.status, Status::EvidenceGap);
        assert!(
            strict.reason.contains(
                "the stage's deployment d1 could not be read: apigateway:GetDeployment failed with AccessDeniedException"
            ),
            "{}",
            strict.reason
        );
        assert!(out.methods.is_empty());

        // A summary AWS did not return is no more evidence than a failed call.
        let mut a = api(&[]);
        a.deployments.as_mut().unwrap()[0].api_summary = None;
        let out = run(&a, &s);
        let strict = finding(&out, APIGW_CACHE_ENCRYPTION, Some(View::AwsConfig));
        assert_eq!(strict.status, Status::EvidenceGap);
        assert!(
            strict.reason.contains("returned no apiSummary"),
            "{}",
            strict.reason
        );
        // A certain failure still decides.
        let out = run(&a, &stage(false, &[("*/*", setting(true, true))]));
        assert_eq!(
            status(&out, APIGW_CACHE_ENCRYPTION, Some(View::AwsConfig)),
            Status::Fail
        );
    }

    #[test]
    fn the_canary_deployment_methods_are_judged_too() {
        let mut a = api(&[("/orders", "GET", "AWS_IAM")]);
        a.deployments
            .as_mut()
            .unwrap()
            .push(deployment("d2", &[("beta", "GET", "NONE")]));
        let mut s = stage(
            true,
            &[
                ("*/*", setting(true, true)),
                ("~1beta/GET", setting(false, false)),
            ],
        );
        s.canary_settings = Some(CanarySettings {
            deployment_id: Some("d2".into()),
            percent_traffic: Some(10.0),
            ..Default::default()
        });
        let out = run(&a, &s);
        let strict = finding(&out, APIGW_CACHE_ENCRYPTION, Some(View::AwsConfig));
        assert_eq!(strict.status, Status::Fail);
        assert!(
            strict.reason.contains("not cached: GET /beta"),
            "{}",
            strict.reason
        );
        assert_eq!(out.methods.len(), 2);
        assert_eq!(out.stages[0].open_methods, ["GET /beta"]);

        // A canary deployment that was not collected leaves the methods unknown.
        a.deployments.as_mut().unwrap().pop();
        let out = run(&a, &s);
        let strict = finding(&out, APIGW_CACHE_ENCRYPTION, Some(View::AwsConfig));
        assert_eq!(strict.status, Status::EvidenceGap);
        assert!(
            strict
                .reason
                .contains("canary deployment d2 was not collected"),
            "{}",
            strict.reason
        );
    }

    #[test]
    fn an_unencrypted_entry_reaching_no_deployed_method_fails_security_hub() {
        let a = api(&[("/orders", "GET", "AWS_IAM")]);
        let s = stage(
            true,
            &[
                ("*/*", setting(true, true)),
                ("~1retired/GET", setting(true, false)),
            ],
        );
        let out = run(&a, &s);
        let lenient = finding(&out, APIGW_CACHE_ENCRYPTION, Some(View::SecurityHub));
        assert_eq!(lenient.status, Status::Fail);
        assert!(
            lenient
                .reason
                .contains("GET /retired (~1retired/GET) [reaches no deployed method]"),
            "{}",
            lenient.reason
        );
        assert_eq!(
            status(&out, APIGW_CACHE_ENCRYPTION, Some(View::AwsConfig)),
            Status::Fail
        );
        // The stage-wide entry counts even where it caches no deployed method.
        let a = api(&[("/orders", "POST", "AWS_IAM")]);
        let out = run(&a, &stage(true, &[("*/*", setting(true, false))]));
        let lenient = finding(&out, APIGW_CACHE_ENCRYPTION, Some(View::SecurityHub));
        assert_eq!(lenient.status, Status::Fail);
        assert!(
            lenient
                .reason
                .contains("stage-wide */* [reaches no deployed method]"),
            "{}",
            lenient.reason
        );
    }

    #[test]
    fn logging_fails_when_a_method_override_turns_logging_off() {
        let a = api(&[
            ("/orders", "GET", "AWS_IAM"),
            ("/orders", "POST", "AWS_IAM"),
        ]);
        let mut off = setting(true, true);
        off.logging_level = Some("OFF".into());
        let s = stage(
            true,
            &[("*/*", setting(true, true)), ("~1orders/POST", off)],
        );
        let out = run(&a, &s);
        let logging = finding(&out, APIGW_LOGGING, None);
        assert_eq!(logging.status, Status::Fail);
        assert!(logging.reason.contains("POST /orders"));
    }

    #[test]
    fn access_logging_alone_does_not_pass_logging_and_stays_as_context() {
        let a = api(&[("/orders", "GET", "AWS_IAM")]);
        let mut s = stage(true, &[]);
        s.access_log_settings = Some(AccessLogSettings {
            format: None,
            destination_arn: Some("arn:aws:logs:eu-central-1:111111111111:log-group:api".into()),
            extra: Default::default(),
        });
        let out = run(&a, &s);
        let logging = finding(&out, APIGW_LOGGING, None);
        assert_eq!(logging.status, Status::Fail);
        assert!(
            logging.reason.contains("no stage-wide */* entry")
                && logging.reason.contains(
                    "Access logging to arn:aws:logs:eu-central-1:111111111111:log-group:api"
                ),
            "{}",
            logging.reason
        );
        assert_eq!(
            out.stages[0].access_logging,
            "arn:aws:logs:eu-central-1:111111111111:log-group:api"
        );
    }

    #[test]
    fn execution_logging_everywhere_with_the_cloudwatch_role_passes() {
        let a = api(&[("/orders", "GET", "AWS_IAM")]);
        let s = stage(true, &[("*/*", setting(true, true))]);
        let logging = finding(&run(&a, &s), APIGW_LOGGING, None).clone();
        assert_eq!(logging.status, Status::Pass, "{}", logging.reason);
        assert!(
            logging
                .reason
                .contains("CloudWatch role arn:aws:iam::111111111111:role/apigw-logs")
        );
        assert!(logging.reason.contains("No access logging."));
    }

    #[test]
    fn without_the_cloudwatch_role_nothing_is_logged() {
        let a = api(&[("/orders", "GET", "AWS_IAM")]);
        let s = stage(true, &[("*/*", setting(true, true))]);
        let out = run_with(&[], Some(&ApiGatewayAccount::default()), &a, &s);
        let logging = finding(&out, APIGW_LOGGING, None);
        assert_eq!(logging.status, Status::Fail);
        assert!(
            logging.reason.contains("no CloudWatch role is set"),
            "{}",
            logging.reason
        );

        // Not collected, or not readable: unknown, never a PASS.
        let out = run_with(&[], None, &a, &s);
        assert_eq!(status(&out, APIGW_LOGGING, None), Status::EvidenceGap);
        let gaps = vec![EvidenceGap {
            account_id: "111111111111".into(),
            region: Some("eu-central-1".into()),
            service: "apigateway".into(),
            api: "GetAccount".into(),
            resource: Some("account".into()),
            error_code: "AccessDeniedException".into(),
            message: "not authorized".into(),
        }];
        let out = run_with(&gaps, None, &a, &s);
        let logging = finding(&out, APIGW_LOGGING, None);
        assert_eq!(logging.status, Status::EvidenceGap);
        assert!(
            logging
                .reason
                .contains("apigateway:GetAccount failed with AccessDeniedException")
        );
        // Only logging reads the account.
        assert_eq!(cache_views(&out), (Status::Pass, Status::Pass));
    }

    #[test]
    fn an_entry_without_a_logging_level_is_unknown_not_off() {
        let a = api(&[("/orders", "GET", "AWS_IAM")]);
        let mut unreported = setting(true, true);
        unreported.logging_level = None;
        let out = run(&a, &stage(true, &[("*/*", unreported)]));
        let logging = finding(&out, APIGW_LOGGING, None);
        assert_eq!(logging.status, Status::EvidenceGap, "{}", logging.reason);
        assert!(
            logging
                .reason
                .contains("loggingLevel not reported for stage-wide */*")
        );
    }

    #[test]
    fn full_request_and_response_logging_is_an_observation() {
        let a = api(&[("/orders", "GET", "AWS_IAM")]);
        let mut traced = setting(true, true);
        traced.data_trace_enabled = Some(true);
        let out = run(&a, &stage(true, &[("*/*", traced)]));
        let logging = finding(&out, APIGW_LOGGING, None);
        assert_eq!(logging.status, Status::Pass);
        assert!(
            logging
                .reason
                .contains("Observation: dataTraceEnabled on stage-wide */*"),
            "{}",
            logging.reason
        );
    }

    #[test]
    fn open_methods_are_listed_as_context() {
        let a = api(&[
            ("/health", "GET", "NONE"),
            ("/orders", "GET", "COGNITO_USER_POOLS"),
        ]);
        let s = stage(true, &[("*/*", setting(true, true))]);
        let out = run(&a, &s);
        assert_eq!(out.stages[0].open_methods, vec!["GET /health".to_string()]);
    }

    #[test]
    fn an_api_whose_stages_could_not_be_read_is_a_gap_not_no_resources() {
        let gaps = vec![EvidenceGap {
            account_id: "111111111111".into(),
            region: Some("eu-central-1".into()),
            service: "apigateway".into(),
            api: "GetStages".into(),
            resource: Some("restapis/a1b2c3".into()),
            error_code: "AccessDeniedException".into(),
            message: "not authorized".into(),
        }];
        let scope = RegionScope::new("111111111111", "eu-central-1", &gaps);
        let mut out = Evaluation::default();
        let mut unreadable = api(&[("/orders", "GET", "AWS_IAM")]);
        unreadable.api.id = "a1b2c3".into();
        unreadable.stages.clear();
        let evidence = ApiGatewayEvidence {
            rest_apis: vec![unreadable],
            account: Some(account_with_role()),
            v2_apis: Some(Vec::new()),
            extra: Default::default(),
        };
        evaluate_region(
            &scope,
            Some(&evidence),
            &RegionHistory::default(),
            &Replay::unchanged(&test_period()),
            &mut out,
        );
        assert_eq!(out.findings.len(), 3, "{:?}", out.findings);
        assert!(out.findings.iter().all(|f| f.status == Status::EvidenceGap));
        assert!(out.findings[0].resource.contains("a1b2c3"));
        assert!(out.findings[0].reason.contains("GetStages"));
    }

    #[test]
    fn region_without_apis_says_no_resources_and_missing_evidence_says_gap() {
        let gaps = vec![EvidenceGap {
            account_id: "111111111111".into(),
            region: Some("eu-central-1".into()),
            service: "apigateway".into(),
            api: "GetRestApis".into(),
            resource: None,
            error_code: "AccessDenied".into(),
            message: "not authorized".into(),
        }];
        let scope = RegionScope::new("111111111111", "eu-central-1", &gaps);
        let mut out = Evaluation::default();
        evaluate_region(
            &scope,
            None,
            &RegionHistory::default(),
            &Replay::unchanged(&test_period()),
            &mut out,
        );
        assert!(out.findings.iter().all(|f| f.status == Status::EvidenceGap));
        assert!(
            out.findings[0]
                .reason
                .contains("apigateway:GetRestApis failed with AccessDenied")
        );

        let no_gaps: Vec<EvidenceGap> = Vec::new();
        let scope = RegionScope::new("111111111111", "eu-central-1", &no_gaps);
        let mut out = Evaluation::default();
        let empty = ApiGatewayEvidence {
            rest_apis: Vec::new(),
            account: Some(account_with_role()),
            v2_apis: Some(Vec::new()),
            extra: Default::default(),
        };
        evaluate_region(
            &scope,
            Some(&empty),
            &RegionHistory::default(),
            &Replay::unchanged(&test_period()),
            &mut out,
        );
        assert_eq!(out.findings.len(), 3);
        assert!(out.findings.iter().all(|f| f.status == Status::NoResources));
    }

    fn v2_api(id: &str, protocol: &str) -> ApiV2 {
        ApiV2 {
            stages: None,
            routes: None,
            api_id: id.into(),
            name: Some(format!("{protocol} api")),
            protocol_type: Some(protocol.into()),
            extra: Default::default(),
        }
    }

    #[test]
    fn v2_apis_are_listed_outside_the_cache_control_not_as_no_apis() {
        let no_gaps: Vec<EvidenceGap> = Vec::new();
        let scope = RegionScope::new("111111111111", "eu-central-1", &no_gaps);
        let mut out = Evaluation::default();
        let evidence = ApiGatewayEvidence {
            rest_apis: Vec::new(),
            account: Some(account_with_role()),
            v2_apis: Some(vec![v2_api("h1", "HTTP"), v2_api("w1", "WEBSOCKET")]),
            extra: Default::default(),
        };
        evaluate_region(
            &scope,
            Some(&evidence),
            &RegionHistory::default(),
            &Replay::unchanged(&test_period()),
            &mut out,
        );
        assert!(
            out.findings.iter().all(|f| f.status != Status::NoResources),
            "{:?}",
            out.findings
        );
        let of = |id: &str, control: &str| -> Vec<Status> {
            out.findings
                .iter()
                .filter(|f| f.resource.contains(id) && f.control_id == control)
                .map(|f| f.status)
                .collect()
        };
        for id in ["(h1) v2 HTTP API", "(w1) v2 WEBSOCKET API"] {
            assert_eq!(
                of(id, APIGW_CACHE_ENCRYPTION),
                [Status::NotApplicable, Status::NotApplicable],
                "{id}"
            );
        }
        assert_eq!(of("h1", APIGW_LOGGING), [Status::NotApplicable]);
        // APIGateway.1 covers WebSocket stages, which are not collected: said, not passed.
        assert_eq!(of("w1", APIGW_LOGGING), [Status::EvidenceGap]);
        assert!(
            out.findings
                .iter()
                .any(|f| f.reason.contains("have no cache"))
        );
    }

    #[test]
    fn a_failed_v2_listing_leaves_websocket_logging_unknown_and_the_cache_rows_alone() {
        let gaps = vec![EvidenceGap {
            account_id: "111111111111".into(),
            region: Some("eu-central-1".into()),
            service: "apigatewayv2".into(),
            api: "GetApis".into(),
            resource: None,
            error_code: "AccessDeniedException".into(),
            message: "not authorized".into(),
        }];
        let scope = RegionScope::new("111111111111", "eu-central-1", &gaps);
        let mut out = Evaluation::default();
        let evidence = ApiGatewayEvidence {
            rest_apis: Vec::new(),
            account: Some(account_with_role()),
            v2_apis: None,
            extra: Default::default(),
        };
        evaluate_region(
            &scope,
            Some(&evidence),
            &RegionHistory::default(),
            &Replay::unchanged(&test_period()),
            &mut out,
        );
        let logging: Vec<&Finding> = out
            .findings
            .iter()
            .filter(|f| f.control_id == APIGW_LOGGING && f.status == Status::EvidenceGap)
            .collect();
        assert_eq!(logging.len(), 1, "{:?}", out.findings);
        assert!(logging[0].reason.contains("apigatewayv2:GetApis failed"));
        assert!(
            out.findings
                .iter()
                .filter(|f| f.control_id == APIGW_CACHE_ENCRYPTION)
                .all(|f| f.status == Status::NoResources)
        );
    }
}
