//! The rules table of change events: for each write event the change register judges, its
//! source, its name, how the collector's LookupEvents plan finds it, how it is classified
//! (a fixed class, or a reader of its request) and the part it plays in logging continuity.
//! The collector builds its query plan from this table and the classifier reads it, so a KMS
//! event the classifier knows is always queried, and every event queried by name is known.

use serde_json::Value;

use super::ChangeClass;
use crate::evidence::{LookupEvent, Policy};

pub const APIGATEWAY: &str = "apigateway.amazonaws.com";
pub const KMS: &str = "kms.amazonaws.com";
pub const CLOUDTRAIL: &str = "cloudtrail.amazonaws.com";

/// The reason of a change that touches no setting the controls judge.
pub const NO_EFFECT: &str = "no security-relevant setting changed";

/// A classification and the reason the register shows for it.
pub type Classification = (ChangeClass, String);

/// Reads a write event's request parameters (absent or null when the record has none).
pub type Reader = fn(Option<&Value>, &Policy) -> Classification;

/// How LookupEvents finds an event (one lookup attribute a query).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueriedBy {
    /// Every write event of the source (low-volume sources). All rules of a source share it.
    EventSource,
    /// One query for the event name, keeping only events of the rule's source: KMS, whose
    /// source query would also return every Encrypt, Decrypt and GenerateDataKey call.
    EventName,
}

impl QueriedBy {
    /// The LookupEvents `AttributeKey`.
    pub fn attribute_key(self) -> &'static str {
        match self {
            QueriedBy::EventSource => "EventSource",
            QueriedBy::EventName => "EventName",
        }
    }
}

/// How an event is classified.
#[derive(Clone, Copy)]
pub enum Read {
    /// Always the same class and reason.
    Fixed(ChangeClass, &'static str),
    /// Judged by its request: a record without `requestParameters` cannot be read (an
    /// evidence gap, never a neutral change).
    Request(Reader),
    /// Judged by its request where there is one; the reader handles its absence.
    RequestIfAny(Reader),
}

/// The part an event plays in a trail's logging continuity (`cloudtrail::logging_gaps`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Continuity {
    /// Opens a logging gap; the event name is the gap's cause.
    Stops,
    /// Closes the open logging gap.
    Resumes,
}

/// One row of the rules table.
#[derive(Clone, Copy)]
pub struct EventRule {
    pub source: &'static str,
    pub name: &'static str,
    pub queried_by: QueriedBy,
    pub read: Read,
    pub continuity: Option<Continuity>,
}

impl EventRule {
    /// The classification of one event of this rule.
    pub fn classify(&self, params: Option<&Value>, policy: &Policy) -> Classification {
        match self.read {
            Read::Fixed(class, why) => (class, why.to_string()),
            Read::Request(reader) | Read::RequestIfAny(reader) => reader(params, policy),
        }
    }

    /// Whether the event is judged by a request it must carry.
    pub fn needs_request(&self) -> bool {
        matches!(self.read, Read::Request(_))
    }
}

/// How each source is queried: KMS by event name, the others by event source.
const fn queried_by(source: &str) -> QueriedBy {
    let (source, kms) = (source.as_bytes(), KMS.as_bytes());
    if source.len() != kms.len() {
        return QueriedBy::EventSource;
    }
    let mut i = 0;
    while i < kms.len() {
        if source[i] != kms[i] {
            return QueriedBy::EventSource;
        }
        i += 1;
    }
    QueriedBy::EventName
}

const fn rule(source: &'static str, name: &'static str, read: Read) -> EventRule {
    EventRule {
        source,
        name,
        queried_by: queried_by(source),
        read,
        continuity: None,
    }
}

const fn fixed(
    source: &'static str,
    name: &'static str,
    class: ChangeClass,
    why: &'static str,
) -> EventRule {
    rule(source, name, Read::Fixed(class, why))
}

const fn neutral(source: &'static str, name: &'static str) -> EventRule {
    fixed(source, name, ChangeClass::Neutral, NO_EFFECT)
}

const fn continuity(rule: EventRule, role: Continuity) -> EventRule {
    EventRule {
        continuity: Some(role),
        ..rule
    }
}

use ChangeClass::{Neutral, Strengthening, Weakening};

/// Every event the register classifies by name. Write events of a source queried by
/// `EventSource` that are not listed are NEUTRAL ("no security-relevant setting changed").
/// KMS rows are every mutating KMS operation plus `RotateKey` (automatic rotation) and
/// `DeleteKey` (end of a scheduled deletion), which AWS records itself; they are kept in
/// alphabetical order, the order of the query plan.
#[rustfmt::skip]
pub const RULES: &[EventRule] = &[
    // API Gateway
    rule(APIGATEWAY, "UpdateStage", Read::Request(read_patch)),
    rule(APIGATEWAY, "UpdateMethod", Read::Request(read_patch)),
    fixed(APIGATEWAY, "DeleteStage", Weakening, "stage deleted"),
    fixed(APIGATEWAY, "DeleteRestApi", Weakening, "REST API deleted"),
    rule(APIGATEWAY, "CreateStage", Read::RequestIfAny(read_create_stage)),
    // KMS
    fixed(KMS, "CancelKeyDeletion", Strengthening, "scheduled key deletion cancelled"),
    neutral(KMS, "ConnectCustomKeyStore"),
    neutral(KMS, "CreateAlias"),
    neutral(KMS, "CreateCustomKeyStore"),
    neutral(KMS, "CreateGrant"),
    neutral(KMS, "CreateKey"),
    neutral(KMS, "DeleteAlias"),
    neutral(KMS, "DeleteCustomKeyStore"),
    fixed(KMS, "DeleteImportedKeyMaterial", Weakening, "imported key material deleted"),
    fixed(KMS, "DeleteKey", Weakening, "key deleted by AWS after its scheduled deletion"),
    fixed(KMS, "DisableKey", Weakening, "key disabled"),
    fixed(KMS, "DisableKeyRotation", Weakening, "automatic key rotation disabled"),
    neutral(KMS, "DisconnectCustomKeyStore"),
    fixed(KMS, "EnableKey", Strengthening, "key enabled"),
    rule(KMS, "EnableKeyRotation", Read::RequestIfAny(read_enable_key_rotation)),
    neutral(KMS, "ImportKeyMaterial"),
    neutral(KMS, "PutKeyPolicy"),
    neutral(KMS, "ReplicateKey"),
    neutral(KMS, "RetireGrant"),
    neutral(KMS, "RevokeGrant"),
    fixed(KMS, "RotateKey", Strengthening, "automatic rotation performed by AWS"),
    fixed(KMS, "RotateKeyOnDemand", Strengthening, "on-demand rotation of key material"),
    fixed(KMS, "ScheduleKeyDeletion", Weakening, "key deletion scheduled"),
    neutral(KMS, "TagResource"),
    neutral(KMS, "UntagResource"),
    neutral(KMS, "UpdateAlias"),
    neutral(KMS, "UpdateCustomKeyStore"),
    neutral(KMS, "UpdateKeyDescription"),
    neutral(KMS, "UpdatePrimaryRegion"),
    // CloudTrail
    continuity(fixed(CLOUDTRAIL, "StopLogging", Weakening, "trail logging stopped"), Continuity::Stops),
    continuity(fixed(CLOUDTRAIL, "DeleteTrail", Weakening, "trail deleted"), Continuity::Stops),
    continuity(fixed(CLOUDTRAIL, "StartLogging", Strengthening, "trail logging started"), Continuity::Resumes),
    rule(CLOUDTRAIL, "UpdateTrail", Read::Request(read_update_trail)),
    rule(CLOUDTRAIL, "PutEventSelectors", Read::Request(read_event_selectors)),
];

/// The rule of an event, by its source and name.
pub fn find(source: &str, name: &str) -> Option<&'static EventRule> {
    RULES.iter().find(|r| r.source == source && r.name == name)
}

/// The classification of one write event. docs/controls.md "Change-event classification"
/// lists the rules with their sources.
pub fn classify(
    source: &str,
    name: &str,
    params: Option<&Value>,
    policy: &Policy,
) -> Classification {
    match find(source, name) {
        Some(rule) => rule.classify(params, policy),
        None => (Neutral, NO_EFFECT.to_string()),
    }
}

/// The part an event plays in logging continuity, if any.
pub fn continuity_role(source: &str, name: &str) -> Option<Continuity> {
    find(source, name).and_then(|r| r.continuity)
}

// ---------------------------------------------------------------------------------------------
// The LookupEvents plan

/// One LookupEvents query of the plan: a single lookup attribute, as LookupEvents requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lookup {
    pub queried_by: QueriedBy,
    /// The attribute value: an event source or an event name.
    pub value: &'static str,
    /// The source whose events the query keeps.
    pub source: &'static str,
}

impl Lookup {
    pub fn attribute_key(&self) -> &'static str {
        self.queried_by.attribute_key()
    }

    /// Whether a returned event belongs in the change register.
    pub fn keeps(&self, event: &LookupEvent) -> bool {
        match self.queried_by {
            // Names such as TagResource exist in many services.
            QueriedBy::EventName => event.event_source == self.source,
            QueriedBy::EventSource => {
                event.event_source == self.source && event.read_only.as_deref() != Some("true")
            }
        }
    }
}

/// The LookupEvents plan of one account-region, in the order the report lists it: one
/// `EventSource` query per source queried by source (in table order), then one `EventName`
/// query per rule queried by name (in table order).
pub fn lookup_plan() -> Vec<Lookup> {
    let mut plan: Vec<Lookup> = Vec::new();
    for rule in RULES
        .iter()
        .filter(|r| r.queried_by == QueriedBy::EventSource)
    {
        if !plan.iter().any(|q| q.value == rule.source) {
            plan.push(Lookup {
                queried_by: QueriedBy::EventSource,
                value: rule.source,
                source: rule.source,
            });
        }
    }
    plan.extend(
        RULES
            .iter()
            .filter(|r| r.queried_by == QueriedBy::EventName)
            .map(|r| Lookup {
                queried_by: QueriedBy::EventName,
                value: r.name,
                source: r.source,
            }),
    );
    plan
}

const fn queried_by_name_count() -> usize {
    let mut count = 0;
    let mut i = 0;
    while i < RULES.len() {
        if matches!(RULES[i].queried_by, QueriedBy::EventName) {
            count += 1;
        }
        i += 1;
    }
    count
}

/// The names of the `EventName` queries (today: KMS's), in plan order.
pub const QUERIED_BY_NAME: [&str; queried_by_name_count()] = {
    let mut names = [""; queried_by_name_count()];
    let (mut i, mut n) = (0, 0);
    while i < RULES.len() {
        if matches!(RULES[i].queried_by, QueriedBy::EventName) {
            names[n] = RULES[i].name;
            n += 1;
        }
        i += 1;
    }
    names
};

// ---------------------------------------------------------------------------------------------
// Request readers

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
        if !self.weakening.is_empty() {
            (Weakening, self.weakening.join("; "))
        } else if !self.strengthening.is_empty() {
            (Strengthening, self.strengthening.join("; "))
        } else {
            (Neutral, NO_EFFECT.to_string())
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

/// API Gateway wraps inputs (`updateStageInput`, `createStageInput`): find `patchOperations`
/// at the top or one level down.
pub(crate) fn patch_operations(params: Option<&Value>) -> Vec<(String, String, String)> {
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

fn is_false(value: &str) -> bool {
    value.eq_ignore_ascii_case("false")
}

fn is_true(value: &str) -> bool {
    value.eq_ignore_ascii_case("true")
}

fn read_patch(params: Option<&Value>, _: &Policy) -> Classification {
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

fn read_create_stage(params: Option<&Value>, _: &Policy) -> Classification {
    let cache = params
        .and_then(|p| p.get("createStageInput"))
        .and_then(|i| i.get("cacheClusterEnabled"))
        .and_then(Value::as_bool);
    let why = match cache {
        Some(true) => "stage created with a cache cluster (check cache encryption)",
        _ => "stage created",
    };
    (Neutral, why.to_string())
}

fn read_enable_key_rotation(params: Option<&Value>, policy: &Policy) -> Classification {
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

fn read_update_trail(params: Option<&Value>, _: &Policy) -> Classification {
    let mut effects = Effects::default();
    let get = |name: &str| params.and_then(|p| p.get(name));
    match get("enableLogFileValidation").and_then(Value::as_bool) {
        Some(false) => effects.weakens("log file validation turned off"),
        Some(true) => effects.strengthens("log file validation turned on"),
        None => {}
    }
    match get("kmsKeyId").and_then(Value::as_str) {
        Some("") => effects.weakens("log file encryption with KMS removed"),
        Some(_) => effects.strengthens("log files encrypted with KMS"),
        None => {}
    }
    match get("isMultiRegionTrail").and_then(Value::as_bool) {
        Some(false) => effects.weakens("trail reduced to a single region"),
        Some(true) => effects.strengthens("trail made multi-region"),
        None => {}
    }
    if get("includeGlobalServiceEvents").and_then(Value::as_bool) == Some(false) {
        effects.weakens("global service events excluded");
    }
    effects.classification()
}

fn read_event_selectors(params: Option<&Value>, _: &Policy) -> Classification {
    let selectors = params
        .and_then(|p| p.get("eventSelectors"))
        .and_then(Value::as_array);
    let Some(selectors) = selectors else {
        return (
            Neutral,
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
                Weakening,
                "management events excluded from the trail".to_string(),
            );
        }
        if let Some(kind) = selector
            .get("readWriteType")
            .and_then(Value::as_str)
            .filter(|k| *k != "All")
        {
            return (
                Weakening,
                format!("trail limited to {kind} management events"),
            );
        }
        let excluded = selector
            .get("excludeManagementEventSources")
            .and_then(Value::as_array)
            .is_some_and(|list| list.iter().any(|s| s.as_str() == Some(KMS)));
        if excluded {
            return (Weakening, "KMS events excluded from the trail".to_string());
        }
    }
    (
        Neutral,
        "event selectors keep all management events".to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn class(source: &str, event: &str, params: Value) -> ChangeClass {
        classify(source, event, Some(&params), &Policy::default()).0
    }

    fn stage_patch(ops: Value) -> Value {
        json!({"restApiId": "a1", "stageName": "prod", "updateStageInput": {"patchOperations": ops}})
    }

    #[test]
    fn disabling_cache_encryption_is_weakening() {
        let params = stage_patch(
            json!([{"op": "replace", "path": "/*/*/caching/dataEncrypted", "value": "false"}]),
        );
        let (class, reason) =
            classify(APIGATEWAY, "UpdateStage", Some(&params), &Policy::default());
        assert_eq!(class, ChangeClass::Weakening);
        assert!(reason.contains("/*/*/caching/dataEncrypted"));
    }

    #[test]
    fn enabling_caching_without_encryption_is_weakening_with_encryption_is_not() {
        let alone = stage_patch(
            json!([{"op": "replace", "path": "/~1orders/GET/caching/enabled", "value": "true"}]),
        );
        assert_eq!(
            class(APIGATEWAY, "UpdateStage", alone),
            ChangeClass::Weakening
        );
        let together = stage_patch(json!([
            {"op": "replace", "path": "/~1orders/GET/caching/enabled", "value": "true"},
            {"op": "replace", "path": "/~1orders/GET/caching/dataEncrypted", "value": "true"}]));
        assert_eq!(
            class(APIGATEWAY, "UpdateStage", together),
            ChangeClass::Strengthening
        );
    }

    #[test]
    fn logging_changes() {
        let off = stage_patch(
            json!([{"op": "replace", "path": "/*/*/logging/loglevel", "value": "OFF"}]),
        );
        assert_eq!(
            class(APIGATEWAY, "UpdateStage", off),
            ChangeClass::Weakening
        );
        let on = stage_patch(
            json!([{"op": "replace", "path": "/*/*/logging/loglevel", "value": "INFO"}]),
        );
        assert_eq!(
            class(APIGATEWAY, "UpdateStage", on),
            ChangeClass::Strengthening
        );
        let other = stage_patch(json!([{"op": "replace", "path": "/description", "value": "x"}]));
        assert_eq!(
            class(APIGATEWAY, "UpdateStage", other),
            ChangeClass::Neutral
        );
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
                class(KMS, weak, json!({"keyId": "k"})),
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
                class(KMS, strong, json!({"keyId": "k"})),
                ChangeClass::Strengthening,
                "{strong}"
            );
        }
        assert_eq!(
            class(
                KMS,
                "EnableKeyRotation",
                json!({"keyId": "k", "rotationPeriodInDays": 730})
            ),
            ChangeClass::Weakening
        );
        assert_eq!(
            class(KMS, "CreateAlias", json!({"aliasName": "alias/x"})),
            ChangeClass::Neutral
        );
    }

    #[test]
    fn cloudtrail_rules() {
        assert_eq!(
            class(CLOUDTRAIL, "StopLogging", json!({"name": "t"})),
            ChangeClass::Weakening
        );
        assert_eq!(
            class(CLOUDTRAIL, "DeleteTrail", json!({"name": "t"})),
            ChangeClass::Weakening
        );
        assert_eq!(
            class(CLOUDTRAIL, "StartLogging", json!({"name": "t"})),
            ChangeClass::Strengthening
        );
        assert_eq!(
            class(
                CLOUDTRAIL,
                "UpdateTrail",
                json!({"name": "t", "enableLogFileValidation": false})
            ),
            ChangeClass::Weakening
        );
        assert_eq!(
            class(
                CLOUDTRAIL,
                "UpdateTrail",
                json!({"name": "t", "kmsKeyId": ""})
            ),
            ChangeClass::Weakening
        );
        assert_eq!(
            class(
                CLOUDTRAIL,
                "UpdateTrail",
                json!({"name": "t", "enableLogFileValidation": true})
            ),
            ChangeClass::Strengthening
        );
        assert_eq!(
            class(
                CLOUDTRAIL,
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
            class(
                APIGATEWAY,
                "DeleteStage",
                json!({"restApiId": "a", "stageName": "p"})
            ),
            ChangeClass::Weakening
        );
    }

    #[test]
    fn the_table_names_each_event_once_and_queries_each_source_one_way() {
        let mut seen = std::collections::BTreeSet::new();
        for rule in RULES {
            assert!(
                [APIGATEWAY, KMS, CLOUDTRAIL].contains(&rule.source),
                "{}",
                rule.source
            );
            assert!(seen.insert((rule.source, rule.name)), "{} twice", rule.name);
            let expected = if rule.source == KMS {
                QueriedBy::EventName
            } else {
                QueriedBy::EventSource
            };
            assert_eq!(rule.queried_by, expected, "{}", rule.name);
        }
        let by_name: Vec<&str> = QUERIED_BY_NAME.to_vec();
        let mut sorted = by_name.clone();
        sorted.sort();
        assert_eq!(
            by_name, sorted,
            "KMS rows stay alphabetical, the plan's order"
        );
        let plan = lookup_plan();
        assert_eq!(
            plan.iter().map(|q| q.value).collect::<Vec<_>>(),
            [APIGATEWAY, CLOUDTRAIL]
                .into_iter()
                .chain(QUERIED_BY_NAME)
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn continuity_roles_and_requests_are_those_of_the_rules() {
        assert_eq!(
            continuity_role(CLOUDTRAIL, "StopLogging"),
            Some(Continuity::Stops)
        );
        assert_eq!(
            continuity_role(CLOUDTRAIL, "DeleteTrail"),
            Some(Continuity::Stops)
        );
        assert_eq!(
            continuity_role(CLOUDTRAIL, "StartLogging"),
            Some(Continuity::Resumes)
        );
        assert_eq!(continuity_role(KMS, "StopLogging"), None);
        let needing: Vec<&str> = RULES
            .iter()
            .filter(|r| r.needs_request())
            .map(|r| r.name)
            .collect();
        assert_eq!(
            needing,
            [
                "UpdateStage",
                "UpdateMethod",
                "UpdateTrail",
                "PutEventSelectors"
            ]
        );
        assert_eq!(
            classify(APIGATEWAY, "TagResource", None, &Policy::default()),
            (Neutral, NO_EFFECT.to_string())
        );
    }
}
