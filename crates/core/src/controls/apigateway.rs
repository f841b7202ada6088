//! API Gateway REST API stage controls: cache encryption (Security Hub and AWS Config
//! readings, per method) and execution/access logging with context columns.

use serde::{Deserialize, Serialize};

use super::catalog::{APIGW_CACHE_ENCRYPTION, APIGW_LOGGING};
use super::history::RegionHistory;
use super::period::Replay;
use super::{Available, Evaluation, Finding, RegionScope, Status, View};
use crate::evidence::{
    ApiGatewayEvidence, ApiResource, EvidenceGap, MethodSetting, RestApi, RestApiEvidence, Stage,
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

fn deployed_methods(resources: &[ApiResource]) -> Vec<DeployedMethod> {
    let mut methods: Vec<DeployedMethod> = resources
        .iter()
        .flat_map(|resource| {
            resource
                .resource_methods
                .iter()
                .map(move |(verb, method)| DeployedMethod {
                    path: resource.path.clone(),
                    http_method: method.http_method.clone().unwrap_or_else(|| verb.clone()),
                    authorization_type: method
                        .authorization_type
                        .clone()
                        .unwrap_or_else(|| "unknown".to_string()),
                    api_key_required: method.api_key_required.unwrap_or(false),
                })
        })
        .collect();
    methods.sort_by(|a, b| (&a.path, &a.http_method).cmp(&(&b.path, &b.http_method)));
    methods
}

fn method_label(method: &DeployedMethod) -> String {
    format!("{} {}", method.http_method, method.path)
}

fn is_execution_logging_on(setting: &MethodSetting) -> bool {
    matches!(setting.logging_level.as_deref(), Some("ERROR" | "INFO"))
}

fn api_label(api: &RestApiEvidence) -> String {
    match api.api.name.as_deref() {
        Some(name) => format!("{name} ({})", api.api.id),
        None => api.api.id.clone(),
    }
}

fn stage_resource(api: &RestApiEvidence, stage: &Stage) -> String {
    format!("{} stage {}", api_label(api), stage.stage_name)
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
            extra: Default::default(),
        };
        let api = collected.unwrap_or(&gone_api);
        let skeleton = serde_json::json!({ "stageName": stage_name });
        judge_stage(scope, api, None, skeleton, stage_name, history, replay, out);
    }
    if stage_count == 0 && apis_without_stages_evidence == 0 && complete {
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
    history: &RegionHistory,
    replay: &Replay,
    out: &mut Evaluation,
) {
    let stage_history = history.stage(&api.api.id, stage_name);
    let resource = format!("{} stage {stage_name}", api_label(api));
    let findings = replay.judge(
        stage,
        skeleton,
        &stage_history,
        |version, scratch| evaluate_stage(scope, api, version, scratch),
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

/// The rows of the API Gateway controls about one scope: both cache readings and logging.
const ROWS: &[(&str, Option<View>)] = &[
    (APIGW_CACHE_ENCRYPTION, Some(View::SecurityHub)),
    (APIGW_CACHE_ENCRYPTION, Some(View::AwsConfig)),
    (APIGW_LOGGING, None),
];

/// Evaluates one stage: both cache views, logging, and one row per deployed method.
pub fn evaluate_stage(
    scope: &RegionScope,
    api: &RestApiEvidence,
    stage: &Stage,
    out: &mut Evaluation,
) {
    let resource = stage_resource(api, stage);
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

    let Some(resources) = api.resources.as_deref() else {
        let gaps = scope.resource_gaps("apigateway", &[&api.api.id]);
        let why = if gaps.is_empty() {
            "the API's resources and methods (GetResources) were not collected".to_string()
        } else {
            super::describe_gaps(&gaps)
        };
        let reason = format!("{why}; per-method settings cannot be evaluated");
        for view in View::BOTH {
            out.findings.push(scope.finding(
                APIGW_CACHE_ENCRYPTION,
                &resource,
                Some(view),
                Status::EvidenceGap,
                &reason,
            ));
        }
        let logging = match &access_log_destination {
            // Access logging is stage-wide, so it proves the control without the method list.
            Some(dest) => scope.finding(
                APIGW_LOGGING,
                &resource,
                None,
                Status::Pass,
                format!("access logging to {dest}"),
            ),
            None => scope.finding(APIGW_LOGGING, &resource, None, Status::EvidenceGap, &reason),
        };
        out.stages.push(stage_row(
            scope,
            api,
            stage,
            &stage_wide,
            access_log_destination.as_deref(),
            Vec::new(),
            logging.status,
        ));
        out.findings.push(logging);
        return;
    };

    let methods = deployed_methods(resources);
    let mut unencrypted_cached = Vec::new();
    let mut not_cached = Vec::new();
    let mut not_encrypted = Vec::new();
    let mut cached_without_cluster = Vec::new();
    let mut unknown_lenient = Vec::new();
    let mut unknown_strict = Vec::new();
    let mut logging_off = Vec::new();
    let mut open_methods = Vec::new();
    let mut cached_count = 0;
    for method in &methods {
        let (source, setting) = effective_setting(stage, &method.path, &method.http_method);
        // API Gateway's defaults (caching off, encryption off) apply where no entry exists.
        // An entry AWS returned always carries both flags, so a missing one is unknown.
        let (caching, encrypted) = match source {
            SettingSource::ApiDefault => (Some(false), Some(false)),
            _ => (setting.caching_enabled, setting.cache_data_encrypted),
        };
        let label = format!("{} ({})", method_label(method), source.describe());
        let lenient = match (caching, encrypted) {
            (Some(true), Some(false)) => {
                unencrypted_cached.push(label.clone());
                Status::Fail
            }
            (Some(false), _) | (Some(true), Some(true)) => Status::Pass,
            (None, _) | (Some(true), None) => {
                unknown_lenient.push(label.clone());
                Status::EvidenceGap
            }
        };
        if caching == Some(true) {
            cached_count += 1;
        }
        match (caching, encrypted) {
            (Some(false), _) => not_cached.push(label.clone()),
            (Some(true), Some(false)) => not_encrypted.push(label.clone()),
            (Some(true), Some(true)) => {}
            (None, _) | (Some(true), None) => unknown_strict.push(label.clone()),
        }
        let strict = if cluster_on == Some(false)
            || caching == Some(false)
            || (caching == Some(true) && encrypted == Some(false))
        {
            Status::Fail
        } else if cluster_on == Some(true) && caching == Some(true) && encrypted == Some(true) {
            Status::Pass
        } else {
            Status::EvidenceGap
        };
        let mut observation = String::new();
        if caching == Some(true) && cluster_on == Some(false) {
            cached_without_cluster.push(method_label(method));
            observation =
                "cachingEnabled is true but the stage cache cluster is off: caching not in effect"
                    .to_string();
        }
        if !is_execution_logging_on(&setting) {
            logging_off.push(method_label(method));
        }
        if method.authorization_type == "NONE" && !method.api_key_required {
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
            observation,
        });
    }

    let observation = if cached_without_cluster.is_empty() {
        String::new()
    } else {
        format!(
            " Observation: caching is enabled on {} but the cache cluster is off, so caching is not in effect.",
            list_limited(&cached_without_cluster)
        )
    };
    let total = methods.len();

    let unreported = |labels: &[String]| {
        format!(
            "cachingEnabled or cacheDataEncrypted not reported for {}: {}",
            plural_methods(labels.len()),
            list_limited(labels)
        )
    };
    let lenient = if !unencrypted_cached.is_empty() {
        scope.finding(
            APIGW_CACHE_ENCRYPTION,
            &resource,
            Some(View::SecurityHub),
            Status::Fail,
            format!(
                "{} of {total} methods cache data without encryption: {}.{observation}",
                unencrypted_cached.len(),
                list_limited(&unencrypted_cached)
            ),
        )
    } else if !unknown_lenient.is_empty() {
        scope.finding(
            APIGW_CACHE_ENCRYPTION,
            &resource,
            Some(View::SecurityHub),
            Status::EvidenceGap,
            format!("{}.{observation}", unreported(&unknown_lenient)),
        )
    } else if cached_count == 0 {
        scope.finding(
            APIGW_CACHE_ENCRYPTION,
            &resource,
            Some(View::SecurityHub),
            Status::Pass,
            format!("no method caches data ({total} methods evaluated), so no unencrypted cache.{observation}"),
        )
    } else {
        scope.finding(
            APIGW_CACHE_ENCRYPTION,
            &resource,
            Some(View::SecurityHub),
            Status::Pass,
            format!(
                "all {cached_count} caching methods of {total} encrypt the cache.{observation}"
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
    let mut strict_unknowns = Vec::new();
    if cluster_on.is_none() {
        strict_unknowns.push("GetStages did not report cacheClusterEnabled".to_string());
    }
    if !unknown_strict.is_empty() {
        strict_unknowns.push(unreported(&unknown_strict));
    }
    let strict = if !strict_problems.is_empty() {
        scope.finding(
            APIGW_CACHE_ENCRYPTION,
            &resource,
            Some(View::AwsConfig),
            Status::Fail,
            format!("{}.{observation}", strict_problems.join("; ")),
        )
    } else if !strict_unknowns.is_empty() {
        scope.finding(
            APIGW_CACHE_ENCRYPTION,
            &resource,
            Some(View::AwsConfig),
            Status::EvidenceGap,
            format!("{}.{observation}", strict_unknowns.join("; ")),
        )
    } else {
        scope.finding(
            APIGW_CACHE_ENCRYPTION,
            &resource,
            Some(View::AwsConfig),
            Status::Pass,
            format!("cache cluster on; all {total} methods cached and encrypted."),
        )
    };
    out.findings.push(lenient);
    out.findings.push(strict);

    let logging = logging_finding(
        scope,
        &resource,
        &stage_wide,
        access_log_destination.as_deref(),
        total,
        &logging_off,
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

fn plural_methods(count: usize) -> String {
    if count == 1 {
        "1 method".to_string()
    } else {
        format!("{count} methods")
    }
}

fn logging_finding(
    scope: &RegionScope,
    resource: &str,
    stage_wide: &MethodSetting,
    access_log_destination: Option<&str>,
    method_count: usize,
    logging_off: &[String],
) -> Finding {
    if let Some(dest) = access_log_destination {
        let execution = if logging_off.is_empty()
            && (method_count > 0 || is_execution_logging_on(stage_wide))
        {
            "; execution logging on for every method".to_string()
        } else {
            String::new()
        };
        return scope.finding(
            APIGW_LOGGING,
            resource,
            None,
            Status::Pass,
            format!("access logging to {dest}{execution}"),
        );
    }
    if method_count == 0 {
        return if is_execution_logging_on(stage_wide) {
            scope.finding(
                APIGW_LOGGING,
                resource,
                None,
                Status::Pass,
                "stage-wide execution logging on; the API has no methods",
            )
        } else {
            scope.finding(
                APIGW_LOGGING,
                resource,
                None,
                Status::Fail,
                "neither execution logging (*/* loggingLevel) nor access logging is configured",
            )
        };
    }
    if logging_off.is_empty() {
        scope.finding(
            APIGW_LOGGING,
            resource,
            None,
            Status::Pass,
            format!("execution logging at ERROR or INFO on all {method_count} methods"),
        )
    } else {
        scope.finding(
            APIGW_LOGGING,
            resource,
            None,
            Status::Fail,
            format!(
                "no access logging, and execution logging is off on {} of {method_count} methods: {}",
                logging_off.len(),
                list_limited(logging_off)
            ),
        )
    }
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
    use crate::evidence::{AccessLogSettings, ApiMethod, RestApi};
    use std::collections::BTreeMap;

    fn setting(caching: bool, encrypted: bool) -> MethodSetting {
        MethodSetting {
            caching_enabled: Some(caching),
            cache_data_encrypted: Some(encrypted),
            logging_level: Some("ERROR".into()),
            ..Default::default()
        }
    }

    fn stage(cluster: bool, settings: &[(&str, MethodSetting)]) -> Stage {
        serde_json::from_value::<Stage>(serde_json::json!({"stageName": "prod"}))
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

    fn api(methods: &[(&str, &str, &str)]) -> RestApiEvidence {
        let mut resources: BTreeMap<String, ApiResource> = BTreeMap::new();
        for (path, verb, auth) in methods {
            let resource = resources
                .entry(path.to_string())
                .or_insert_with(|| ApiResource {
                    id: format!("id{path}"),
                    path: path.to_string(),
                    parent_id: None,
                    path_part: None,
                    resource_methods: BTreeMap::new(),
                    extra: Default::default(),
                });
            resource.resource_methods.insert(
                verb.to_string(),
                ApiMethod {
                    http_method: Some(verb.to_string()),
                    authorization_type: Some(auth.to_string()),
                    api_key_required: Some(false),
                    ..Default::default()
                },
            );
        }
        RestApiEvidence {
            api: RestApi {
                id: "a1".into(),
                name: Some("orders".into()),
                description: None,
                created_date: None,
                extra: Default::default(),
            },
            stages: Vec::new(),
            resources: Some(resources.into_values().collect()),
            extra: Default::default(),
        }
    }

    fn run(api: &RestApiEvidence, stage: &Stage) -> Evaluation {
        let gaps: Vec<EvidenceGap> = Vec::new();
        let scope = RegionScope::new("111111111111", "eu-central-1", &gaps);
        let mut out = Evaluation::default();
        evaluate_stage(&scope, api, stage, &mut out);
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
                .contains("GET /orders/{id} (method override ~1orders~1{id}/GET)"),
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
    fn every_method_cached_and_encrypted_passes_both_views() {
        let a = api(&[
            ("/orders", "GET", "AWS_IAM"),
            ("/orders", "POST", "AWS_IAM"),
        ]);
        let s = stage(true, &[("*/*", setting(true, true))]);
        let out = run(&a, &s);
        assert_eq!(cache_views(&out), (Status::Pass, Status::Pass));
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
                row.reason
                    .contains("not reported for 1 method: GET /orders")
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

    #[test]
    fn missing_resources_is_an_evidence_gap_not_a_pass() {
        let mut a = api(&[]);
        a.resources = None;
        let s = stage(true, &[("*/*", setting(true, true))]);
        let out = run(&a, &s);
        assert_eq!(
            cache_views(&out),
            (Status::EvidenceGap, Status::EvidenceGap)
        );
        assert_eq!(status(&out, APIGW_LOGGING, None), Status::EvidenceGap);
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
    fn access_logging_alone_passes_logging() {
        let a = api(&[("/orders", "GET", "AWS_IAM")]);
        let mut s = stage(true, &[]);
        s.access_log_settings = Some(AccessLogSettings {
            format: None,
            destination_arn: Some("arn:aws:logs:eu-central-1:111111111111:log-group:api".into()),
            extra: Default::default(),
        });
        let out = run(&a, &s);
        assert_eq!(status(&out, APIGW_LOGGING, None), Status::Pass);
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
}
