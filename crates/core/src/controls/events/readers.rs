//! The request readers of the rules table: each reads the `requestParameters` of one kind of
//! write event and says whether the change weakened, strengthened or left alone a setting the
//! controls judge. Where a record cannot rule out a weakening (a key policy that does not
//! parse, a stage cache whose encryption at that moment is not in the event), the change is
//! WEAKENING and its reason says what is unknown: a weakening change needs a change record, so
//! a doubt costs a review, never a missed finding.

use serde_json::Value;

use super::{Classification, NO_EFFECT};
use crate::controls::ChangeClass::{Neutral, Strengthening, Weakening};
use crate::controls::resource_policy::Exposure;
use crate::controls::s3::{self, BucketChange};
use crate::evidence::Policy;

/// What one change did: any weakening makes it WEAKENING, else any strengthening
/// STRENGTHENING, else NEUTRAL.
#[derive(Default)]
struct Effects {
    weakening: Vec<String>,
    strengthening: Vec<String>,
}

impl Effects {
    fn weakens(&mut self, why: impl Into<String>) {
        self.weakening.push(why.into());
    }

    fn strengthens(&mut self, why: impl Into<String>) {
        self.strengthening.push(why.into());
    }

    fn classification(self) -> Classification {
        self.classification_or(NO_EFFECT)
    }

    fn classification_or(self, neutral_reason: &str) -> Classification {
        if !self.weakening.is_empty() {
            (Weakening, self.weakening.join("; "))
        } else if !self.strengthening.is_empty() {
            (Strengthening, self.strengthening.join("; "))
        } else {
            (Neutral, neutral_reason.to_string())
        }
    }
}

pub(crate) fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A request field, at the top of the request or one level down: API Gateway wraps inputs
/// (`updateStageInput`, `createStageInput`, `putMethodInput`).
pub(crate) fn request_field<'a>(params: Option<&'a Value>, name: &str) -> Option<&'a Value> {
    let params = params?;
    params.get(name).or_else(|| {
        params
            .as_object()?
            .values()
            .find_map(|inner| inner.get(name))
    })
}

/// The patch operations of an API Gateway update (op, path, value).
pub(crate) fn patch_operations(params: Option<&Value>) -> Vec<(String, String, String)> {
    request_field(params, "patchOperations")
        .and_then(Value::as_array)
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

fn is_false(value: &str) -> bool {
    value.eq_ignore_ascii_case("false")
}

fn is_true(value: &str) -> bool {
    value.eq_ignore_ascii_case("true")
}

fn flag(value: Option<&Value>) -> Option<bool> {
    match value? {
        Value::Bool(b) => Some(*b),
        Value::String(s) if is_true(s) => Some(true),
        Value::String(s) if is_false(s) => Some(false),
        _ => None,
    }
}

pub(super) fn read_patch(params: Option<&Value>, _: &Policy) -> Classification {
    classify_patch(&patch_operations(params))
}

/// Classifies an API Gateway UpdateStage / UpdateMethod patch.
fn classify_patch(ops: &[(String, String, String)]) -> Classification {
    let mut effects = Effects::default();
    let encrypted_prefixes: Vec<&str> = ops
        .iter()
        .filter(|(_, path, value)| path.ends_with("/caching/dataEncrypted") && is_true(value))
        .map(|(_, path, _)| path.trim_end_matches("/caching/dataEncrypted"))
        .collect();
    for (op, path, value) in ops {
        let removing = op == "remove";
        if path.ends_with("/caching/dataEncrypted") {
            if is_false(value) || removing {
                effects.weakens(format!("cache encryption turned off ({path})"));
            } else {
                effects.strengthens(format!("cache encryption turned on ({path})"));
            }
        } else if path.ends_with("/caching/enabled") && is_true(value) {
            let prefix = path.trim_end_matches("/caching/enabled");
            if !encrypted_prefixes.contains(&prefix) {
                effects.weakens(format!(
                    "caching enabled without enabling encryption in the same change ({path})"
                ));
            }
        } else if path == "/cacheClusterEnabled" && is_true(value) {
            // The cluster makes the methods' cache settings take effect. Which methods cache
            // unencrypted at that moment is not in the event (the stage's method settings are
            // not part of it): only a stage-wide encryption in the same call rules it out.
            if encrypted_prefixes.contains(&"/*/*") {
                effects.strengthens("cache cluster enabled with stage-wide cache encryption");
            } else {
                effects.weakens(
                    "cache cluster enabled without turning on stage-wide cache encryption \
                     (/*/*/caching/dataEncrypted) in the same change: whether the methods it \
                     caches encrypt is not in the event, and GET methods cache unencrypted by \
                     default",
                );
            }
        } else if path.ends_with("/logging/loglevel") {
            if value.eq_ignore_ascii_case("OFF") || removing {
                effects.weakens(format!("execution logging turned off ({path})"));
            } else {
                effects.strengthens(format!("execution logging set to {value} ({path})"));
            }
        } else if path.starts_with("/accessLogSettings") {
            if removing {
                effects.weakens("access logging removed");
            } else {
                effects.strengthens("access logging configured");
            }
        } else if path == "/clientCertificateId" && (removing || value.is_empty()) {
            effects.weakens("client certificate removed");
        } else if path == "/authorizationType" && value.eq_ignore_ascii_case("NONE") {
            effects.weakens("method authorization set to NONE");
        } else if path == "/apiKeyRequired" && is_false(value) {
            effects.weakens("API key no longer required");
        }
    }
    effects.classification()
}

/// Whether a request names an HTTP or WebSocket API (API Gateway v2, `apiId`) rather than a
/// REST API (`restApiId`): both share the source and names like CreateStage.
pub(crate) fn names_v2_api(params: Option<&Value>) -> bool {
    request_field(params, "restApiId").is_none() && request_field(params, "apiId").is_some()
}

/// UpdateStage: a REST API stage's patch operations, or an HTTP or WebSocket API stage's
/// `accessLogSettings` (API Gateway v2 UpdateStage has no patch operations).
pub(super) fn read_update_stage(params: Option<&Value>, policy: &Policy) -> Classification {
    if !names_v2_api(params) {
        return read_patch(params, policy);
    }
    match request_field(params, "accessLogSettings") {
        None | Some(Value::Null) => (Neutral, NO_EFFECT.to_string()),
        Some(settings) => match text(settings.get("destinationArn")) {
            Some(arn) if !arn.is_empty() => {
                (Strengthening, format!("access logging to {arn} configured"))
            }
            _ => (
                Weakening,
                "access log settings without a destination in the record: whether the stage \
                 still writes access logs is unknown"
                    .to_string(),
            ),
        },
    }
}

pub(super) fn read_create_stage(params: Option<&Value>, _: &Policy) -> Classification {
    if names_v2_api(params) {
        let destination = request_field(params, "accessLogSettings")
            .and_then(|settings| text(settings.get("destinationArn")))
            .filter(|arn| !arn.is_empty());
        return match destination {
            Some(arn) => (
                Neutral,
                format!("stage created with access logging to {arn}"),
            ),
            None => (
                Weakening,
                "HTTP or WebSocket API stage created without access logging".to_string(),
            ),
        };
    }
    match flag(request_field(params, "cacheClusterEnabled")) {
        // A new stage has no method settings: its GET methods cache by default, and
        // cacheDataEncrypted defaults to false (API Gateway caching guide).
        Some(true) => (
            Weakening,
            "stage created with a cache cluster: a new stage has no method settings, so its \
             GET methods cache by default without encryption"
                .to_string(),
        ),
        _ => (Neutral, "stage created".to_string()),
    }
}

/// An `authorizationType` NONE method or route without a required API key: anyone can call it.
fn open_to_anyone(authorization: Option<&str>, params: Option<&Value>) -> bool {
    authorization.is_some_and(|a| a.eq_ignore_ascii_case("NONE"))
        && flag(request_field(params, "apiKeyRequired")) != Some(true)
}

pub(super) fn read_put_method(params: Option<&Value>, _: &Policy) -> Classification {
    let authorization = text(request_field(params, "authorizationType"));
    if open_to_anyone(authorization.as_deref(), params) {
        let method = text(request_field(params, "httpMethod"))
            .map(|verb| format!("{verb} "))
            .unwrap_or_default();
        (
            Weakening,
            format!(
                "method {method}put with authorization NONE and no API key: open to anyone \
                 once deployed"
            ),
        )
    } else {
        (Neutral, NO_EFFECT.to_string())
    }
}

/// API Gateway V2 CreateRoute: a route without `authorizationType` gets NONE (the default).
pub(super) fn read_create_route(params: Option<&Value>, _: &Policy) -> Classification {
    let authorization =
        text(request_field(params, "authorizationType")).unwrap_or_else(|| "NONE".to_string());
    if open_to_anyone(Some(&authorization), params) {
        (
            Weakening,
            "route created with authorization NONE and no API key: open to anyone".to_string(),
        )
    } else {
        (Neutral, NO_EFFECT.to_string())
    }
}

/// API Gateway V2 UpdateRoute: only an `authorizationType` in the request changes it.
pub(super) fn read_update_route(params: Option<&Value>, _: &Policy) -> Classification {
    let authorization = text(request_field(params, "authorizationType"));
    if open_to_anyone(authorization.as_deref(), params) {
        (
            Weakening,
            "route authorization set to NONE without an API key: open to anyone".to_string(),
        )
    } else {
        (Neutral, NO_EFFECT.to_string())
    }
}

/// PutRestApi replaces (`overwrite`) or merges into (`merge`, the default) the API definition.
pub(super) fn read_put_rest_api(params: Option<&Value>, _: &Policy) -> Classification {
    match text(request_field(params, "mode")) {
        Some(mode) if mode.eq_ignore_ascii_case("overwrite") => (
            Weakening,
            "API definition overwritten: every method, its authorization and its settings may \
             have changed, and the new definition is not in the event"
                .to_string(),
        ),
        _ => (
            Neutral,
            "API definition merged into the existing one".to_string(),
        ),
    }
}

/// API Gateway UpdateAccount: without the account's CloudWatch role no stage can write
/// execution or access logs.
pub(super) fn read_update_account(params: Option<&Value>, _: &Policy) -> Classification {
    let mut effects = Effects::default();
    for (op, path, value) in patch_operations(params) {
        if path == "/cloudwatchRoleArn" {
            if op == "remove" || value.is_empty() {
                effects.weakens(
                    "the account's CloudWatch role removed: API Gateway can no longer write \
                     execution or access logs",
                );
            } else {
                effects.strengthens(format!("the account's CloudWatch role set to {value}"));
            }
        }
    }
    effects.classification()
}

pub(super) fn read_enable_key_rotation(params: Option<&Value>, policy: &Policy) -> Classification {
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
        None => (Strengthening, "automatic rotation enabled".to_string()),
    }
}

/// CreateKey: without a `policy` the key gets the default key policy (its account only).
pub(super) fn read_create_key(params: Option<&Value>, _: &Policy) -> Classification {
    match params.and_then(|p| p.get("policy")) {
        None | Some(Value::Null) => (
            Neutral,
            "key created with the default key policy".to_string(),
        ),
        Some(policy) => judge_key_policy(policy),
    }
}

/// PutKeyPolicy: the record carries the new policy as a JSON string.
pub(super) fn read_put_key_policy(params: Option<&Value>, _: &Policy) -> Classification {
    match params.and_then(|p| p.get("policy")) {
        None | Some(Value::Null) => (
            Weakening,
            "the key policy is not in the record, so whether it opens the key to anyone is \
             unknown"
                .to_string(),
        ),
        Some(policy) => judge_key_policy(policy),
    }
}

/// WEAKENING if the policy opens the key to everyone (`kms-key-exposure`'s own reading, in
/// `resource_policy`), naming the statements; an unreadable policy is WEAKENING too, since whether
/// it opens the key is unknown.
fn judge_key_policy(policy: &Value) -> Classification {
    match Exposure::of_request(policy) {
        Exposure::Closed { .. } => (
            Neutral,
            "key policy set; no statement opens the key to everyone".to_string(),
        ),
        Exposure::Open { statements } => (
            Weakening,
            format!(
                "key policy opens the key to everyone without a condition limiting the callers: {}",
                statements.join("; ")
            ),
        ),
        Exposure::Unknown { why } => (
            Weakening,
            format!("{why}; whether it opens the key to everyone is unknown"),
        ),
    }
}

pub(super) fn read_update_trail(params: Option<&Value>, _: &Policy) -> Classification {
    let mut effects = Effects::default();
    let get = |name: &str| params.and_then(|p| p.get(name));
    match flag(get("enableLogFileValidation")) {
        Some(false) => effects.weakens("log file validation turned off"),
        Some(true) => effects.strengthens("log file validation turned on"),
        None => {}
    }
    match get("kmsKeyId").and_then(Value::as_str) {
        Some("") => effects.weakens("log file encryption with KMS removed"),
        Some(_) => effects.strengthens("log files encrypted with KMS"),
        None => {}
    }
    match flag(get("isMultiRegionTrail")) {
        Some(false) => effects.weakens("trail reduced to a single region"),
        Some(true) => effects.strengthens("trail made multi-region"),
        None => {}
    }
    if flag(get("includeGlobalServiceEvents")) == Some(false) {
        effects.weakens("global service events excluded");
    }
    if let Some(bucket) = get("s3BucketName").and_then(Value::as_str) {
        effects.weakens(format!(
            "log files delivered to S3 bucket {bucket} (the bucket before the change is not in \
             the event: its retention and access need review)"
        ));
    }
    let cloudwatch: Vec<&str> = ["cloudWatchLogsLogGroupArn", "cloudWatchLogsRoleArn"]
        .into_iter()
        .filter_map(|name| get(name).and_then(Value::as_str))
        .collect();
    if cloudwatch.iter().any(|value| value.is_empty()) {
        effects.weakens("delivery to CloudWatch Logs removed");
    } else if !cloudwatch.is_empty() {
        effects.strengthens("delivery to CloudWatch Logs configured");
    }
    effects.classification()
}

/// A field of a selector as the record writes it (camelCase) or as the API model does.
fn field<'a>(value: &'a Value, camel: &str) -> Option<&'a Value> {
    value.get(camel).or_else(|| {
        let mut pascal = camel.to_string();
        if let Some(first) = pascal.get_mut(0..1) {
            first.make_ascii_uppercase();
        }
        value.get(&pascal)
    })
}

fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}

/// What one selector records of management events.
#[derive(Default)]
struct Coverage {
    reads: bool,
    writes: bool,
    /// How the selector limits the event sources ("excludes kms.amazonaws.com"), if it does.
    source_filter: Option<String>,
}

impl Coverage {
    fn is_full(&self) -> bool {
        self.reads && self.writes && self.source_filter.is_none()
    }
}

/// PutEventSelectors, classic (`eventSelectors`) or advanced (`advancedEventSelectors`).
/// Selectors add up: a trail records a management event if any selector does. Anything less
/// than every read and write management event of every source is WEAKENING: CloudTrail.1 and
/// `multi-region-cloudtrail-enabled` ask for read and write management events with no
/// excluded source.
pub(super) fn read_event_selectors(params: Option<&Value>, policy: &Policy) -> Classification {
    let (class, reason) = read_management_selectors(params);
    // Selectors that do not log every read and write data event of a GxP bucket weaken its
    // audit trail (`cloudtrail-s3-data-events`), whatever they keep of management events.
    let shortfalls = crate::controls::data_events::gxp_bucket_shortfalls(params, policy);
    if shortfalls.is_empty() {
        return (class, reason);
    }
    let shortfalls = shortfalls.join("; ");
    match class {
        Weakening => (Weakening, format!("{reason}; {shortfalls}")),
        _ => (Weakening, shortfalls),
    }
}

fn read_management_selectors(params: Option<&Value>) -> Classification {
    let params = params.unwrap_or(&Value::Null);
    let (coverage, kind) = if let Some(list) =
        field(params, "eventSelectors").and_then(Value::as_array)
    {
        (
            list.iter().map(classic_coverage).collect::<Vec<_>>(),
            "event selectors",
        )
    } else if let Some(list) = field(params, "advancedEventSelectors").and_then(Value::as_array) {
        (
            list.iter().filter_map(advanced_coverage).collect(),
            "advanced event selectors",
        )
    } else {
        return (
            Weakening,
            "the record names neither eventSelectors nor advancedEventSelectors, so which \
             management events the trail still records is unknown"
                .to_string(),
        );
    };
    let covering: Vec<&Coverage> = coverage.iter().filter(|c| c.reads || c.writes).collect();
    if covering.iter().any(|c| c.is_full()) {
        return (Neutral, format!("{kind} keep all management events"));
    }
    let mut effects = Effects::default();
    if covering.is_empty() {
        effects.weakens(format!("{kind} record no management events"));
    } else {
        if !covering.iter().any(|c| c.reads) {
            effects.weakens(format!("{kind} limited to write-only management events"));
        }
        if !covering.iter().any(|c| c.writes) {
            effects.weakens(format!("{kind} limited to read-only management events"));
        }
        let filters: Vec<&str> = covering
            .iter()
            .filter_map(|c| c.source_filter.as_deref())
            .collect();
        if filters.len() == covering.len() {
            effects.weakens(format!(
                "{kind} filter management event sources ({})",
                filters.join("; ")
            ));
        }
    }
    effects.classification_or(&format!("{kind} keep all management events"))
}

fn classic_coverage(selector: &Value) -> Coverage {
    if flag(field(selector, "includeManagementEvents")) == Some(false) {
        return Coverage::default();
    }
    let kind = field(selector, "readWriteType")
        .and_then(Value::as_str)
        .unwrap_or("All");
    let excluded = strings(field(selector, "excludeManagementEventSources"));
    Coverage {
        reads: kind != "WriteOnly",
        writes: kind != "ReadOnly",
        source_filter: (!excluded.is_empty()).then(|| format!("excludes {}", excluded.join(", "))),
    }
}

/// The coverage of an advanced selector of management events; `None` for other selectors
/// (data, network activity, Insights). For management events AWS documents the fields
/// `eventCategory`, `eventSource` and `readOnly`; any other field is taken as a filter too.
fn advanced_coverage(selector: &Value) -> Option<Coverage> {
    let fields: Vec<&Value> = field(selector, "fieldSelectors")
        .and_then(Value::as_array)
        .map(|list| list.iter().collect())
        .unwrap_or_default();
    let named = |name: &str| {
        fields
            .iter()
            .copied()
            .find(|f| field(f, "field").and_then(Value::as_str) == Some(name))
    };
    let category = named("eventCategory").map(|f| strings(field(f, "equals")))?;
    if !category.iter().any(|c| c == "Management") {
        return None;
    }
    let read_only = named("readOnly").map(|f| strings(field(f, "equals")));
    let (reads, writes) = match read_only.as_deref() {
        Some([only]) if is_true(only) => (true, false),
        Some([only]) if is_false(only) => (false, true),
        _ => (true, true),
    };
    let mut filters = Vec::new();
    if let Some(source) = named("eventSource") {
        let (equals, not_equals) = (
            strings(field(source, "equals")),
            strings(field(source, "notEquals")),
        );
        if !not_equals.is_empty() {
            filters.push(format!("excludes {}", not_equals.join(", ")));
        }
        if !equals.is_empty() {
            filters.push(format!("only {}", equals.join(", ")));
        }
    }
    for other in &fields {
        let name = field(other, "field").and_then(Value::as_str).unwrap_or("?");
        if !matches!(name, "eventCategory" | "readOnly" | "eventSource") {
            filters.push(format!("filters on {name}"));
        }
    }
    let name = text(field(selector, "name"))
        .map(|n| format!("selector \"{n}\" "))
        .unwrap_or_default();
    Some(Coverage {
        reads,
        writes,
        source_filter: (!filters.is_empty()).then(|| format!("{name}{}", filters.join(", "))),
    })
}

/// CreateReplicationGroup (ElastiCache): a group created without encryption at rest is
/// WEAKENING (`elasticache-encryption-at-rest` fails it from its creation, and the setting
/// cannot be changed after). Without `atRestEncryptionEnabled` the engine's documented default
/// decides (true for Valkey, false for Redis OSS); a request that names neither, or restores a
/// backup, cannot rule the weakening out.
pub(super) fn read_create_replication_group(params: Option<&Value>, _: &Policy) -> Classification {
    let engine = text(params.and_then(|p| p.get("engine"))).map(|e| e.to_ascii_lowercase());
    match (
        flag(params.and_then(|p| p.get("atRestEncryptionEnabled"))),
        engine.as_deref(),
    ) {
        (Some(true), _) => (
            Neutral,
            "replication group created encrypted at rest".to_string(),
        ),
        (Some(false), _) => (
            Weakening,
            "replication group created without encryption at rest (atRestEncryptionEnabled false)"
                .to_string(),
        ),
        (None, Some("valkey")) => (
            Neutral,
            "Valkey replication group created with the default encryption at rest".to_string(),
        ),
        (None, Some("redis")) => (
            Weakening,
            "Redis OSS replication group created without atRestEncryptionEnabled: not encrypted at rest (the default)"
                .to_string(),
        ),
        (None, _) => (
            Weakening,
            "replication group created without atRestEncryptionEnabled and without an engine whose default is known: whether it is encrypted at rest is not in the request"
                .to_string(),
        ),
    }
}

/// ModifyReplicationGroup (ElastiCache): encryption at rest cannot be changed by it, but the
/// settings shown beside it can: in-transit encryption turned off or set to `preferred`
/// (unencrypted connections accepted), the AUTH token deleted, RBAC user groups removed are
/// WEAKENING; the reverse is STRENGTHENING.
pub(super) fn read_modify_replication_group(params: Option<&Value>, _: &Policy) -> Classification {
    let mut effects = Effects::default();
    let get = |name: &str| params.and_then(|p| p.get(name));
    match flag(get("transitEncryptionEnabled")) {
        Some(false) => effects.weakens("in-transit encryption turned off"),
        Some(true) => effects.strengthens("in-transit encryption turned on"),
        None => {}
    }
    match text(get("transitEncryptionMode")).as_deref() {
        Some("preferred") => effects.weakens(
            "in-transit encryption mode set to preferred: unencrypted connections are accepted",
        ),
        Some("required") => effects.strengthens("in-transit encryption required"),
        _ => {}
    }
    match text(get("authTokenUpdateStrategy"))
        .map(|s| s.to_ascii_uppercase())
        .as_deref()
    {
        Some("DELETE") => effects.weakens("AUTH token deleted"),
        Some(strategy @ ("SET" | "ROTATE")) => {
            effects.strengthens(format!("AUTH token {}", strategy.to_ascii_lowercase()))
        }
        _ => {}
    }
    if flag(get("removeUserGroups")) == Some(true) {
        effects.weakens("all RBAC user groups removed");
    }
    let removed = strings(get("userGroupIdsToRemove"));
    if !removed.is_empty() {
        effects.weakens(format!("RBAC user group(s) {} removed", removed.join(", ")));
    }
    let added = strings(get("userGroupIdsToAdd"));
    if !added.is_empty() {
        effects.strengthens(format!("RBAC user group(s) {} added", added.join(", ")));
    }
    effects.classification()
}

// ---------------------------------------------------------------------------------------------
// S3: the bucket settings of cloudtrail-bucket-protection, read by `s3::bucket_change` (the
// reading the period rule replays), classified here.

pub(super) fn read_put_bucket_policy(params: Option<&Value>, policy: &Policy) -> Classification {
    classify_bucket_change("PutBucketPolicy", params, policy)
}

pub(super) fn read_put_bucket_acl(params: Option<&Value>, policy: &Policy) -> Classification {
    classify_bucket_change("PutBucketAcl", params, policy)
}

pub(super) fn read_put_bucket_public_access_block(
    params: Option<&Value>,
    policy: &Policy,
) -> Classification {
    classify_bucket_change("PutBucketPublicAccessBlock", params, policy)
}

pub(super) fn read_put_account_public_access_block(
    params: Option<&Value>,
    policy: &Policy,
) -> Classification {
    classify_bucket_change("PutAccountPublicAccessBlock", params, policy)
}

pub(super) fn read_put_bucket_logging(params: Option<&Value>, policy: &Policy) -> Classification {
    classify_bucket_change("PutBucketLogging", params, policy)
}

pub(super) fn read_put_bucket_versioning(
    params: Option<&Value>,
    policy: &Policy,
) -> Classification {
    classify_bucket_change("PutBucketVersioning", params, policy)
}

pub(super) fn read_put_object_lock_configuration(
    params: Option<&Value>,
    policy: &Policy,
) -> Classification {
    classify_bucket_change("PutObjectLockConfiguration", params, policy)
}

pub(super) fn read_put_bucket_lifecycle(params: Option<&Value>, policy: &Policy) -> Classification {
    classify_bucket_change("PutBucketLifecycle", params, policy)
}

/// WEAKENING for a change that opens a bucket, turns a protection off, or that the record does
/// not tell (a doubt costs a review); STRENGTHENING for one that turns a protection on.
fn classify_bucket_change(name: &str, params: Option<&Value>, policy: &Policy) -> Classification {
    let Some(BucketChange { field, value, .. }) = s3::bucket_change(name, params) else {
        return (Neutral, NO_EFFECT.to_string());
    };
    let value = match value {
        Ok(value) => value,
        Err(why) => {
            return (
                Weakening,
                format!("{why}; whether it weakens the trail bucket's protection is unknown"),
            );
        }
    };
    let names = |value: &Value| -> Vec<String> {
        value
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect()
    };
    match field {
        s3::field::POLICY => match names(&value) {
            open if open.is_empty() => (
                Neutral,
                "bucket policy set; no statement opens the bucket to everyone".to_string(),
            ),
            open => (
                Weakening,
                format!(
                    "bucket policy opens the bucket to everyone without a limiting condition: {}",
                    open.join(", ")
                ),
            ),
        },
        s3::field::ACL => match names(&value) {
            grants if grants.is_empty() => (Neutral, "bucket ACL set; no public grant".to_string()),
            grants => (
                Weakening,
                format!("bucket ACL grants {}", grants.join(", ")),
            ),
        },
        s3::field::BUCKET_BLOCK | s3::field::ACCOUNT_BLOCK => {
            let level = if field == s3::field::BUCKET_BLOCK {
                "bucket"
            } else {
                "account"
            };
            let off: Vec<&str> = [
                "BlockPublicAcls",
                "IgnorePublicAcls",
                "BlockPublicPolicy",
                "RestrictPublicBuckets",
            ]
            .into_iter()
            .filter(|flag| value.get(*flag).and_then(Value::as_bool) != Some(true))
            .collect();
            if off.is_empty() {
                (
                    Strengthening,
                    format!("{level} Block Public Access: all four settings on"),
                )
            } else {
                (
                    Weakening,
                    format!(
                        "{level} Block Public Access set with {} off",
                        off.join(", ")
                    ),
                )
            }
        }
        s3::field::LOGGING => match value.as_bool() {
            Some(true) => (Strengthening, "server access logging enabled".to_string()),
            _ => (Weakening, "server access logging disabled".to_string()),
        },
        s3::field::MFA_DELETE => match value.as_bool() {
            Some(true) => (Strengthening, "MFA delete enabled".to_string()),
            _ => (Weakening, "MFA delete disabled".to_string()),
        },
        s3::field::OBJECT_LOCK => match value.as_str() {
            Some(state) if s3::lock_protects(state) => (
                Strengthening,
                format!("Object Lock default retention {state}"),
            ),
            state => (
                Weakening,
                format!(
                    "Object Lock {}: new log files can be deleted",
                    state.unwrap_or("unknown")
                ),
            ),
        },
        s3::field::LIFECYCLE => {
            let rules: Vec<crate::evidence::LifecycleRule> =
                serde_json::from_value(value).unwrap_or_default();
            let every_path = [String::new()];
            let expiring: Vec<String> = rules
                .iter()
                .filter_map(|rule| {
                    s3::expiring_rule(rule, &every_path, policy.min_log_retention_days())
                })
                .collect();
            if expiring.is_empty() {
                (
                    Neutral,
                    "lifecycle rules set; none expires objects before the minimum log retention"
                        .to_string(),
                )
            } else {
                (
                    Weakening,
                    format!(
                        "{} (before the minimum log retention of {} days; CloudTrail log files under that prefix are deleted)",
                        expiring.join("; "),
                        policy.min_log_retention_days()
                    ),
                )
            }
        }
        _ => (Neutral, NO_EFFECT.to_string()),
    }
}

// ---------------------------------------------------------------------------------------------
// CloudWatch Logs: the log group settings `cloudtrail-cloudwatch-logs` judges. Every log group
// of the account is classified alike (the register names the group): the rules table does not
// know which groups are trails' log groups.

fn log_group_label(params: Option<&Value>) -> String {
    params
        .and_then(|p| {
            p.get("logGroupName")
                .or_else(|| p.get("resourceIdentifier"))
        })
        .and_then(Value::as_str)
        .map_or_else(
            || "a log group the record does not name".to_string(),
            |g| format!("log group {g}"),
        )
}

pub(super) fn read_put_retention_policy(params: Option<&Value>, policy: &Policy) -> Classification {
    let group = log_group_label(params);
    let days = params
        .and_then(|p| p.get("retentionInDays"))
        .and_then(|d| d.as_i64().or_else(|| d.as_str()?.parse().ok()));
    let minimum = policy.min_log_retention_days();
    match days {
        Some(days) if days < i64::from(minimum) => (
            Weakening,
            format!("{group} keeps events {days} days, less than the policy's {minimum}"),
        ),
        Some(days) => (
            Neutral,
            format!("{group} keeps events {days} days (the policy asks at least {minimum})"),
        ),
        None => (
            Weakening,
            format!("{group}: retention set, the record does not say to how many days"),
        ),
    }
}

pub(super) fn read_associate_kms_key(params: Option<&Value>, _: &Policy) -> Classification {
    if is_query_results(params) {
        return (Neutral, NO_EFFECT.to_string());
    }
    (
        Strengthening,
        format!("{} encrypted with a KMS key", log_group_label(params)),
    )
}

pub(super) fn read_disassociate_kms_key(params: Option<&Value>, _: &Policy) -> Classification {
    if is_query_results(params) {
        return (Neutral, NO_EFFECT.to_string());
    }
    (
        Weakening,
        format!("{}: KMS key encryption removed", log_group_label(params)),
    )
}

pub(super) fn read_delete_log_group(params: Option<&Value>, _: &Policy) -> Classification {
    (
        Weakening,
        format!("{} deleted with all its events", log_group_label(params)),
    )
}

/// AssociateKmsKey and DisassociateKmsKey also set the key of query results
/// (`resourceIdentifier` `arn:...:query-result:*`), which holds no log group's events.
fn is_query_results(params: Option<&Value>) -> bool {
    params
        .and_then(|p| p.get("resourceIdentifier"))
        .and_then(Value::as_str)
        .is_some_and(|r| r.contains(":query-result:"))
}
