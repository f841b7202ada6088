//! The evidence snapshot: one schema-versioned JSON document holding everything collected for
//! a reporting period. Field names inside the AWS objects follow the AWS API shapes (camelCase
//! for API Gateway, PascalCase for KMS and CloudTrail); unknown fields are kept in `extra` so a
//! snapshot survives a load/save round trip unchanged.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::timestamp::Timestamp;
use crate::log_integrity::{IntegrityReport, PublicKeyList, TimeRange};

/// The snapshot format this build reads and writes.
pub const SCHEMA_VERSION: u32 = 1;

/// Fields this version of the model does not know, kept verbatim.
pub type Extra = BTreeMap<String, Value>;

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvidenceSnapshot {
    pub schema_version: u32,
    pub tool: ToolInfo,
    /// The regulated system the evidence is about (shown on every report page).
    pub system_name: String,
    pub collected_at: Timestamp,
    pub period: Period,
    /// How long after the period's end collection waited at least, in minutes, for CloudTrail
    /// to deliver the period's last events (their delivery is typically minutes, not
    /// guaranteed). `None` in snapshots of earlier versions.
    #[serde(default)]
    pub settle_minutes: Option<u32>,
    pub scope: Scope,
    #[serde(default)]
    pub policy: Policy,
    pub accounts: Vec<AccountEvidence>,
    /// Every call that could not be made. An empty list is a claim that nothing was missed.
    #[serde(default)]
    pub gaps: Vec<EvidenceGap>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolInfo {
    pub name: String,
    pub version: String,
    #[serde(flatten)]
    pub extra: Extra,
}

/// Half-open reporting period `[start, end)` in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Period {
    pub start: Timestamp,
    pub end: Timestamp,
}

impl Period {
    pub fn contains(&self, at: Timestamp) -> bool {
        self.start <= at && at < self.end
    }

    /// `2026-10` for a calendar month, else `2026-10-03..2026-10-17`.
    pub fn label(&self) -> String {
        use chrono::{Datelike, Months, Timelike};
        let start = self.start.0;
        let is_month_start = start.day() == 1
            && start.hour() == 0
            && start.minute() == 0
            && start.second() == 0
            && start.nanosecond() == 0;
        if is_month_start && start.checked_add_months(Months::new(1)) == Some(self.end.0) {
            return start.format("%Y-%m").to_string();
        }
        format!(
            "{}..{}",
            self.start.0.format("%Y-%m-%dT%H:%M:%SZ"),
            self.end.0.format("%Y-%m-%dT%H:%M:%SZ")
        )
    }
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scope {
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// Policy values the evaluation depends on; recorded in the snapshot so that re-evaluation
/// years later gives the same result.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    #[serde(default = "Policy::default_max_rotation_days")]
    pub max_rotation_days: u32,
    /// The longest time a logging trail may go without delivering a log file before the
    /// evaluation counts it as not logging since its last delivery; `None` (snapshots of
    /// earlier versions) means `DEFAULT_MAX_DELIVERY_AGE_HOURS`.
    #[serde(default)]
    pub max_delivery_age_hours: Option<u32>,
    /// The shortest time the audit trail's log files must be kept, in days: lifecycle rules of
    /// the trail's S3 bucket and the retention of its CloudWatch Logs group are judged against
    /// it. `None` (snapshots of earlier versions) means `DEFAULT_MIN_LOG_RETENTION_DAYS`.
    #[serde(default)]
    pub min_log_retention_days: Option<u32>,
    /// The S3 buckets that hold GxP records, whose data events a trail must log (Annex 11 §9,
    /// §12.4). Empty: none listed, so that control has nothing in scope.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gxp_buckets: Vec<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

impl Policy {
    pub const DEFAULT_MAX_ROTATION_DAYS: u32 = 365;
    /// One day: the CIS AWS Foundations Benchmark checks that a trail delivered within the
    /// last day; CloudTrail delivers about every 5 minutes while there are events.
    pub const DEFAULT_MAX_DELIVERY_AGE_HOURS: u32 = 24;
    /// One year: the default minimum of Security Hub CloudWatch.16 and of the AWS Config rule
    /// cw-loggroup-retention-period-check (`MinRetentionTime`, 365 days). A GxP record
    /// retention policy is usually longer; set it with `--min-log-retention-days`.
    pub const DEFAULT_MIN_LOG_RETENTION_DAYS: u32 = 365;
    fn default_max_rotation_days() -> u32 {
        Self::DEFAULT_MAX_ROTATION_DAYS
    }

    pub fn max_delivery_age_hours(&self) -> u32 {
        self.max_delivery_age_hours
            .unwrap_or(Self::DEFAULT_MAX_DELIVERY_AGE_HOURS)
    }

    /// The policy with these GxP buckets, kept as the snapshot keeps them: sorted, each once.
    pub fn with_gxp_buckets(mut self, names: impl IntoIterator<Item = String>) -> Self {
        let unique: std::collections::BTreeSet<String> = names.into_iter().collect();
        self.gxp_buckets = unique.into_iter().collect();
        self
    }

    pub fn min_log_retention_days(&self) -> u32 {
        self.min_log_retention_days
            .unwrap_or(Self::DEFAULT_MIN_LOG_RETENTION_DAYS)
    }
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            max_rotation_days: Self::DEFAULT_MAX_ROTATION_DAYS,
            max_delivery_age_hours: None,
            min_log_retention_days: None,
            gxp_buckets: Vec::new(),
            extra: Extra::new(),
        }
    }
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountEvidence {
    pub account_id: String,
    /// STS GetCallerIdentity: who collected the evidence.
    #[serde(default)]
    pub caller_identity: Option<CallerIdentity>,
    pub regions: Vec<RegionEvidence>,
    /// CloudTrail evidence of regions outside the scope that are home to a trail seen in it:
    /// those trails' status and selectors (read in their home region) and the region's
    /// CloudTrail change events. Only the CloudTrail controls read them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trail_home_regions: Vec<RegionEvidence>,
    /// S3 ListBuckets (one call for the whole account: it lists the buckets of every region),
    /// collected when the policy names GxP buckets: which account owns each and where.
    /// `None`: not collected.
    #[serde(default)]
    pub s3_buckets: Option<Vec<S3Bucket>>,
    /// The S3 buckets the account's trails deliver to, each read once, and the account's
    /// S3 Block Public Access (`cloudtrail-bucket-protection`). `None`: not collected (snapshots
    /// of earlier versions), which that control reports as an evidence gap.
    #[serde(default)]
    pub trail_buckets: Option<TrailBuckets>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// One bucket as S3 ListBuckets gives it.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct S3Bucket {
    pub name: String,
    /// The bucket's region (`BucketRegion`).
    #[serde(default)]
    pub bucket_region: Option<String>,
    #[serde(default)]
    pub creation_date: Option<Timestamp>,
    #[serde(flatten)]
    pub extra: Extra,
}

impl S3Bucket {
    /// The `service` of S3 gaps (a failed ListBuckets).
    pub const GAP_SERVICE: &'static str = "s3";
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CallerIdentity {
    pub user_id: Option<String>,
    pub account: Option<String>,
    pub arn: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// What was collected in one account and region. A service that is `None` was not collected
/// at all; the evaluation reports it as an evidence gap.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegionEvidence {
    pub region: String,
    #[serde(default)]
    pub apigateway: Option<ApiGatewayEvidence>,
    #[serde(default)]
    pub kms: Option<KmsEvidence>,
    #[serde(default)]
    pub cloudtrail: Option<CloudTrailEvidence>,
    /// ElastiCache DescribeReplicationGroups. `None`: not collected (the call failed, or the
    /// snapshot predates its collection), so `elasticache-encryption-at-rest` is an evidence gap.
    #[serde(default)]
    pub elasticache: Option<ElastiCacheEvidence>,
    #[serde(flatten)]
    pub extra: Extra,
}

// ---------------------------------------------------------------------------------------------
// API Gateway (REST APIs, v1). Shapes follow GetRestApis / GetStages / GetDeployment /
// GetAccount, and GetApis of API Gateway v2 (HTTP and WebSocket APIs).

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiGatewayEvidence {
    pub rest_apis: Vec<RestApiEvidence>,
    /// GetAccount: the region's API Gateway account settings. `None`: not collected (the call
    /// failed, or the snapshot predates its collection), so the CloudWatch role is unknown.
    #[serde(default)]
    pub account: Option<ApiGatewayAccount>,
    /// API Gateway v2 GetApis (HTTP and WebSocket APIs). `None`: not collected.
    #[serde(default)]
    pub v2_apis: Option<Vec<ApiV2>>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// GetAccount. Without `cloudwatchRoleArn` API Gateway cannot write execution logs in this
/// region (the role is set per account and region).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiGatewayAccount {
    #[serde(default)]
    pub cloudwatch_role_arn: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

impl ApiGatewayAccount {
    /// The `resource` of a failed GetAccount in the snapshot's gaps: only the logging control
    /// reads the account, so its failure must not make the whole region's evidence partial.
    pub const GAP_RESOURCE: &'static str = "account";
}

impl ApiV2 {
    /// The `service` of API Gateway v2 gaps, so that a failed GetApis (HTTP and WebSocket APIs
    /// have no cache) leaves the REST API rows complete.
    pub const GAP_SERVICE: &'static str = "apigatewayv2";
}

/// One API of API Gateway v2 as GetApis returns it.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiV2 {
    pub api_id: String,
    #[serde(default)]
    pub name: Option<String>,
    /// `HTTP` or `WEBSOCKET`.
    #[serde(default)]
    pub protocol_type: Option<String>,
    /// GetStages of the API, every page. `None`: not collected (the call failed and is a gap,
    /// or the snapshot predates their collection), so its stages are unknown.
    #[serde(default)]
    pub stages: Option<Vec<StageV2>>,
    /// GetRoutes of the API, every page. `None`: not collected, as for `stages`.
    #[serde(default)]
    pub routes: Option<Vec<RouteV2>>,
    #[serde(flatten)]
    pub extra: Extra,
}

impl ApiV2 {
    /// The `resource` of the gaps about one API's stages or routes (`apis/<apiId>`).
    pub fn gap_resource(api_id: &str) -> String {
        format!("apis/{api_id}")
    }
}

/// One stage of an API Gateway v2 API as GetStages returns it (raw `accessLogSettings`).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StageV2 {
    pub stage_name: String,
    /// Absent: the stage writes no access log (API Gateway v2 Stage, `accessLogSettings`).
    #[serde(default)]
    pub access_log_settings: Option<AccessLogSettings>,
    #[serde(default)]
    pub created_date: Option<Timestamp>,
    #[serde(default)]
    pub last_updated_date: Option<Timestamp>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// One route of an API Gateway v2 API as GetRoutes returns it.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteV2 {
    pub route_id: String,
    /// `GET /items`, `$default`; for WebSocket APIs `$connect`, `$disconnect`, `$default` or a
    /// custom key.
    #[serde(default)]
    pub route_key: Option<String>,
    /// `NONE`, `AWS_IAM`, `CUSTOM` or `JWT`. Absent: not known (never read as NONE).
    #[serde(default)]
    pub authorization_type: Option<String>,
    #[serde(default)]
    pub authorizer_id: Option<String>,
    #[serde(default)]
    pub api_key_required: Option<bool>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RestApiEvidence {
    pub api: RestApi,
    pub stages: Vec<Stage>,
    /// GetResources with `embed=methods`, kept only in snapshots of earlier versions: it is the
    /// API's current (possibly undeployed) definition, so the evaluation never reads it.
    #[serde(default)]
    pub resources: Option<Vec<ApiResource>>,
    /// GetDeployment with `embed=apisummary` for every deployment a stage serves (its
    /// `deploymentId` and its canary's). `None`: the snapshot predates their collection, so
    /// what is deployed is unknown. A deployment that could not be read is absent from the list
    /// and recorded as a gap.
    #[serde(default)]
    pub deployments: Option<Vec<Deployment>>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// GetDeployment with `embed=apisummary`: what a deployment serves.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Deployment {
    pub id: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub created_date: Option<Timestamp>,
    /// Resource path → HTTP method → method snapshot, as the API was when the deployment was
    /// made. `None` when the answer had no summary.
    #[serde(default)]
    pub api_summary: Option<BTreeMap<String, BTreeMap<String, MethodSnapshot>>>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MethodSnapshot {
    #[serde(default)]
    pub authorization_type: Option<String>,
    #[serde(default)]
    pub api_key_required: Option<bool>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RestApi {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub created_date: Option<Timestamp>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Stage {
    pub stage_name: String,
    #[serde(default)]
    pub deployment_id: Option<String>,
    #[serde(default)]
    pub cache_cluster_enabled: Option<bool>,
    /// A string in the API (`"0.5"`); may be present while the cluster is disabled.
    #[serde(default)]
    pub cache_cluster_size: Option<String>,
    #[serde(default)]
    pub cache_cluster_status: Option<String>,
    /// Keyed by `<resource path>/<HTTP method>`, paths escaped with `~1`, `*/*` stage-wide.
    #[serde(default)]
    pub method_settings: BTreeMap<String, MethodSetting>,
    #[serde(default)]
    pub tracing_enabled: Option<bool>,
    #[serde(default)]
    pub web_acl_arn: Option<String>,
    #[serde(default)]
    pub client_certificate_id: Option<String>,
    #[serde(default)]
    pub access_log_settings: Option<AccessLogSettings>,
    #[serde(default)]
    pub created_date: Option<Timestamp>,
    #[serde(default)]
    pub last_updated_date: Option<Timestamp>,
    /// A canary release: part of the traffic goes to another deployment.
    #[serde(default)]
    pub canary_settings: Option<CanarySettings>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CanarySettings {
    #[serde(default)]
    pub percent_traffic: Option<f64>,
    /// The deployment the canary's requests are served by.
    #[serde(default)]
    pub deployment_id: Option<String>,
    #[serde(default)]
    pub stage_variable_overrides: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub use_stage_cache: Option<bool>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MethodSetting {
    #[serde(default)]
    pub logging_level: Option<String>,
    #[serde(default)]
    pub data_trace_enabled: Option<bool>,
    #[serde(default)]
    pub metrics_enabled: Option<bool>,
    #[serde(default)]
    pub caching_enabled: Option<bool>,
    #[serde(default)]
    pub cache_data_encrypted: Option<bool>,
    #[serde(default)]
    pub cache_ttl_in_seconds: Option<i64>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessLogSettings {
    #[serde(default)]
    pub format: Option<String>,
    #[serde(default)]
    pub destination_arn: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiResource {
    pub id: String,
    pub path: String,
    #[serde(default)]
    pub parent_id: Option<String>,
    #[serde(default)]
    pub path_part: Option<String>,
    /// AWS omits the member for resources without methods.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub resource_methods: BTreeMap<String, ApiMethod>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiMethod {
    #[serde(default)]
    pub http_method: Option<String>,
    #[serde(default)]
    pub authorization_type: Option<String>,
    #[serde(default)]
    pub api_key_required: Option<bool>,
    #[serde(default)]
    pub authorizer_id: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

// ---------------------------------------------------------------------------------------------
// KMS. Shapes follow DescribeKey / ListAliases / GetKeyRotationStatus / ListKeyRotations.

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KmsEvidence {
    pub keys: Vec<KmsKeyEvidence>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KmsKeyEvidence {
    pub metadata: KeyMetadata,
    #[serde(default)]
    pub aliases: Vec<AliasEntry>,
    /// GetKeyRotationStatus; `None` when the call was not made or failed.
    #[serde(default)]
    pub rotation_status: Option<KeyRotationStatus>,
    /// Why GetKeyRotationStatus failed. `UnsupportedOperationException` is evidence that the
    /// key cannot rotate automatically; `KMSInvalidStateException` on a key whose metadata says
    /// it can rotate is not (docs/controls.md D11).
    #[serde(default)]
    pub rotation_status_error: Option<ApiError>,
    /// ListKeyRotations; `None` when not collected.
    #[serde(default)]
    pub rotations: Option<Vec<KeyRotation>>,
    /// GetKeyPolicy (policy name `default`) `Policy`: the key policy text as KMS returns it,
    /// collected for customer managed keys only. `None` in snapshots from before it was
    /// collected, for AWS managed keys, and when the call failed (`key_policy_error`).
    #[serde(default)]
    pub key_policy: Option<String>,
    /// Why GetKeyPolicy failed (AccessDenied included): the exposure is then an evidence gap.
    #[serde(default)]
    pub key_policy_error: Option<ApiError>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyMetadata {
    pub key_id: String,
    #[serde(default, rename = "AWSAccountId")]
    pub aws_account_id: Option<String>,
    #[serde(default)]
    pub arn: Option<String>,
    #[serde(default)]
    pub creation_date: Option<Timestamp>,
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub key_usage: Option<String>,
    #[serde(default)]
    pub key_state: Option<String>,
    #[serde(default)]
    pub deletion_date: Option<Timestamp>,
    #[serde(default)]
    pub origin: Option<String>,
    #[serde(default)]
    pub custom_key_store_id: Option<String>,
    #[serde(default)]
    pub key_manager: Option<String>,
    #[serde(default)]
    pub customer_master_key_spec: Option<String>,
    #[serde(default)]
    pub key_spec: Option<String>,
    #[serde(default)]
    pub multi_region: Option<bool>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AliasEntry {
    pub alias_name: String,
    #[serde(default)]
    pub alias_arn: Option<String>,
    #[serde(default)]
    pub target_key_id: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyRotationStatus {
    pub key_rotation_enabled: bool,
    #[serde(default)]
    pub rotation_period_in_days: Option<u32>,
    #[serde(default)]
    pub next_rotation_date: Option<Timestamp>,
    #[serde(default)]
    pub on_demand_rotation_start_date: Option<Timestamp>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyRotation {
    pub rotation_date: Timestamp,
    /// `AUTOMATIC` or `ON_DEMAND`.
    #[serde(default)]
    pub rotation_type: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// An AWS error response kept as evidence.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiError {
    pub code: String,
    #[serde(default)]
    pub message: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// ElastiCache. Shapes follow DescribeReplicationGroups (Valkey and Redis OSS replication groups;
// Memcached clusters and serverless caches are not replication groups).

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ElastiCacheEvidence {
    /// Every replication group of the region, every page, sorted by id.
    pub replication_groups: Vec<ReplicationGroup>,
    #[serde(flatten)]
    pub extra: Extra,
}

impl ElastiCacheEvidence {
    /// The `service` of ElastiCache gaps.
    pub const GAP_SERVICE: &'static str = "elasticache";
}

/// One replication group as DescribeReplicationGroups returns it. Fields the evaluation does
/// not read (node groups, endpoints, log delivery, …) are kept raw in `extra`.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReplicationGroup {
    pub replication_group_id: String,
    #[serde(default, rename = "ARN")]
    pub arn: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// `valkey` or `redis` (older answers omit it).
    #[serde(default)]
    pub engine: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    /// Set when the group is created and never changed after (ModifyReplicationGroup has no
    /// such parameter).
    #[serde(default)]
    pub at_rest_encryption_enabled: Option<bool>,
    /// `none`, `sse-elasticache` (service managed key) or `sse-kms` (customer managed key):
    /// the effective state, which AWS says may be encrypted while the flag is false.
    #[serde(default)]
    pub storage_encryption_type: Option<String>,
    /// The customer managed KMS key encrypting the disks; absent with the default
    /// (service managed) key.
    #[serde(default)]
    pub kms_key_id: Option<String>,
    #[serde(default)]
    pub transit_encryption_enabled: Option<bool>,
    /// `preferred` (unencrypted connections still accepted) or `required`.
    #[serde(default)]
    pub transit_encryption_mode: Option<String>,
    #[serde(default)]
    pub auth_token_enabled: Option<bool>,
    /// RBAC user groups associated with the group.
    #[serde(default)]
    pub user_group_ids: Option<Vec<String>>,
    #[serde(default)]
    pub replication_group_create_time: Option<Timestamp>,
    #[serde(flatten)]
    pub extra: Extra,
}

// ---------------------------------------------------------------------------------------------
// S3: the trails' buckets. Shapes follow GetBucketLocation, GetBucketPolicy, GetBucketAcl,
// GetPublicAccessBlock (bucket, and s3control for the account), GetBucketLogging,
// GetObjectLockConfiguration, GetBucketVersioning and GetBucketLifecycleConfiguration.

/// What one S3 read answered: the configuration, AWS's answer that there is none (the error
/// code, e.g. NoSuchBucketPolicy, or `absent` when the response holds no configuration), or
/// the failure (AccessDenied included), which leaves the setting unknown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum S3Answer<T> {
    Configured(T),
    NotConfigured(String),
    Failed(ApiError),
}

/// The account's trail buckets as collected by the account's credentials.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrailBuckets {
    /// s3control GetPublicAccessBlock for the account (`None`: not read).
    #[serde(default)]
    pub account_public_access_block: Option<S3Answer<PublicAccessBlock>>,
    /// One entry per distinct bucket, sorted by name.
    pub buckets: Vec<TrailBucketEvidence>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// One trail bucket. A field that is `None` was not read.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrailBucketEvidence {
    pub name: String,
    /// GetBucketLocation, as a region name (an empty `LocationConstraint` is us-east-1, `EU`
    /// eu-west-1).
    #[serde(default)]
    pub region: Option<S3Answer<String>>,
    /// GetBucketPolicy `Policy` text.
    #[serde(default)]
    pub policy: Option<S3Answer<String>>,
    #[serde(default)]
    pub acl: Option<S3Answer<BucketAcl>>,
    #[serde(default)]
    pub public_access_block: Option<S3Answer<PublicAccessBlock>>,
    /// GetBucketLogging `LoggingEnabled`.
    #[serde(default)]
    pub logging: Option<S3Answer<LoggingEnabled>>,
    #[serde(default)]
    pub object_lock: Option<S3Answer<ObjectLockConfiguration>>,
    #[serde(default)]
    pub versioning: Option<S3Answer<BucketVersioning>>,
    /// GetBucketLifecycleConfiguration `Rules`.
    #[serde(default)]
    pub lifecycle: Option<S3Answer<Vec<LifecycleRule>>>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// The four Block Public Access flags; an omitted flag is off.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PublicAccessBlock {
    #[serde(default)]
    pub block_public_acls: bool,
    #[serde(default)]
    pub ignore_public_acls: bool,
    #[serde(default)]
    pub block_public_policy: bool,
    #[serde(default)]
    pub restrict_public_buckets: bool,
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct BucketAcl {
    #[serde(default, rename = "OwnerID")]
    pub owner_id: Option<String>,
    #[serde(default)]
    pub grants: Vec<AclGrant>,
}

/// One ACL grant: the grantee's `Type` (CanonicalUser, Group, AmazonCustomerByEmail), its
/// group `URI` or canonical `ID`, and the permission.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AclGrant {
    #[serde(default)]
    pub grantee_type: Option<String>,
    #[serde(default, rename = "URI")]
    pub uri: Option<String>,
    #[serde(default, rename = "ID")]
    pub id: Option<String>,
    #[serde(default)]
    pub permission: Option<String>,
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LoggingEnabled {
    #[serde(default)]
    pub target_bucket: Option<String>,
    #[serde(default)]
    pub target_prefix: Option<String>,
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ObjectLockConfiguration {
    /// `Enabled` when Object Lock is on for the bucket.
    #[serde(default)]
    pub object_lock_enabled: Option<String>,
    /// The default retention (`Rule.DefaultRetention`): without one, a new log object has no
    /// retention and can be deleted.
    #[serde(default)]
    pub default_retention: Option<DefaultRetention>,
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DefaultRetention {
    /// GOVERNANCE or COMPLIANCE.
    #[serde(default)]
    pub mode: Option<String>,
    #[serde(default)]
    pub days: Option<i64>,
    #[serde(default)]
    pub years: Option<i64>,
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct BucketVersioning {
    /// Enabled, Suspended, or absent (never enabled).
    #[serde(default)]
    pub status: Option<String>,
    /// `Enabled` or `Disabled`; absent when never configured.
    #[serde(default)]
    pub mfa_delete: Option<String>,
}

/// One lifecycle rule, with what decides whether it deletes log files: its status, the prefix
/// it applies to (`Filter.Prefix`, `Filter.And.Prefix` or the legacy `Prefix`), whether its
/// filter also needs tags (CloudTrail writes untagged objects), and its expirations.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LifecycleRule {
    #[serde(default, rename = "ID")]
    pub id: Option<String>,
    /// Enabled or Disabled.
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub prefix: Option<String>,
    #[serde(default)]
    pub needs_tags: bool,
    #[serde(default)]
    pub expiration_days: Option<i64>,
    #[serde(default)]
    pub expiration_date: Option<Timestamp>,
    #[serde(default)]
    pub noncurrent_days: Option<i64>,
}

// ---------------------------------------------------------------------------------------------
// CloudTrail. Shapes follow DescribeTrails / GetTrailStatus / GetEventSelectors / LookupEvents.

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CloudTrailEvidence {
    pub trails: Vec<TrailEvidence>,
    /// Write management events of the period (LookupEvents shape, `CloudTrailEvent` kept raw).
    pub events: Vec<LookupEvent>,
    /// What was searched: one entry per LookupEvents query.
    #[serde(default)]
    pub lookup_queries: Vec<LookupQuery>,
    /// Write management events after the period, up to `events_until`: replayed over the
    /// collected state to rebuild the period's (the period rule), never listed as the
    /// period's changes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events_after_period: Vec<LookupEvent>,
    /// Where the LookupEvents window ended: the time the changes were read up to, after the
    /// state was read. `None` in snapshots of earlier versions, whose events stop at the
    /// period end.
    #[serde(default)]
    pub events_until: Option<Timestamp>,
    /// Where `events` and `events_after_period` came from when not from LookupEvents (whose
    /// `lookup_queries` say what was searched): absent in LookupEvents snapshots and in those
    /// of earlier versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events_from: Option<EventsFrom>,
    /// The digest-chain validation of each trail that logs this account-region
    /// (`cloudtrail-log-integrity`), done when the change events came from the trail's log
    /// files. `None`: not attempted (events from LookupEvents, or a snapshot of an earlier
    /// version).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_integrity: Option<Vec<TrailIntegrity>>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// One trail's log file integrity in one account-region: the validation's full result with
/// the public keys it used (so `verify` can re-check every digest signature offline), or why
/// the trail's digest chain was not validated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrailIntegrity {
    /// The trail's name and ARN as DescribeTrails gave them.
    pub trail: String,
    #[serde(default)]
    pub trail_arn: Option<String>,
    /// The hours the validation was asked to cover (half-open).
    pub range: TimeRange,
    pub result: IntegrityResult,
}

/// The outcome of validating one trail's digest chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntegrityResult {
    /// Validated: the report (scope, counts, findings, the chain of digests) and CloudTrail's
    /// public keys for the region, as ListPublicKeys returned them.
    Validated {
        report: Box<IntegrityReport>,
        public_keys: PublicKeyList,
    },
    /// Not validated: `code` (`LogFileValidationDisabled`, `NoTrailBucket`, `NoDigestFiles`,
    /// `ListPublicKeysFailed`, `StoreError`) and the particulars.
    NotValidated { code: String, message: String },
}

/// A source of a region's change events other than LookupEvents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventsFrom {
    /// The trail's `.json.gz` log files (`trail_logs`), read from a directory.
    TrailLogFiles(TrailLogFilesRead),
    /// One Athena query over the trail's table (`collect --athena`), shared by every
    /// account-region of the collection: each region records the same query.
    Athena(Box<AthenaQuery>),
}

/// The `api` of the evidence gaps of the Athena source (`EventsFrom::Athena`): with
/// `LookupEvents` and the log files', the gaps that leave a region's change events incomplete.
pub const ATHENA_EVIDENCE_GAP_API: &str = "AthenaQuery";

/// The Athena query the change events of an account-region came from: what was asked, of
/// which table, and a checksum of what was answered, so the evidence names its source
/// exactly. A query that failed keeps its SQL and the state it ended in; its account-regions
/// carry an evidence gap.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AthenaQuery {
    /// The workgroup the query ran in (`--athena`).
    pub workgroup: String,
    /// The trail's table, `DATABASE.TABLE` (`--athena-table`).
    pub table: String,
    /// Athena's id of the query; `None` when it could not be started.
    #[serde(default)]
    pub query_execution_id: Option<String>,
    /// The SQL sent, with its `?` placeholders; `execution_parameters` fills them in order.
    pub sql: String,
    /// The values of the placeholders, as sent (SQL literals).
    #[serde(default)]
    pub execution_parameters: Vec<String>,
    /// The state the query ended in: `SUCCEEDED`, `FAILED`, `CANCELLED`, or why it was not
    /// known (`TIMED_OUT`, `NOT_STARTED`).
    pub state: String,
    /// SHA-256 (hex) over the result rows as received, in order, header row included: each
    /// row as the JSON array of its values (`null` for a NULL) and a line feed.
    #[serde(default)]
    pub result_sha256: Option<String>,
    /// Result rows of the whole query (every account-region), the header row not counted.
    pub rows: u64,
    /// Rows of this account-region kept for the change register, before the period split
    /// and the removal of copies.
    pub records_kept: u64,
    /// What Athena reports it scanned (and bills for).
    #[serde(default)]
    pub data_scanned_bytes: Option<u64>,
    /// The second query, run when the first succeeded: which days of which account-region the
    /// table holds any record of, so a day (or an account or region) the table does not cover
    /// is a gap rather than a day without changes.
    #[serde(default)]
    pub coverage: Option<AthenaCoverage>,
    /// Days of this account-region from the period's first to the one before `events_until`'s
    /// that hold at least one record in the table (by the `timestamp` partition).
    #[serde(default)]
    pub days_with_records: u64,
    #[serde(flatten)]
    pub extra: Extra,
}

/// The coverage query of `AthenaQuery::coverage`: records per account, region and day.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AthenaCoverage {
    #[serde(default)]
    pub query_execution_id: Option<String>,
    pub sql: String,
    #[serde(default)]
    pub execution_parameters: Vec<String>,
    pub state: String,
    /// As `AthenaQuery::result_sha256`, over this query's rows.
    #[serde(default)]
    pub result_sha256: Option<String>,
    #[serde(default)]
    pub data_scanned_bytes: Option<u64>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// What was read of the trail's log files for one account-region.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrailLogFilesRead {
    /// Where the files were read: the directory given to `collect --trail-logs`.
    pub location: String,
    /// Log files of the account-region's day folders read (one extra day each side).
    pub files_read: u64,
    /// Records in those files (every event, read ones included).
    pub records_read: u64,
    /// Records kept for the change register, before the period split and the removal of copies.
    pub records_kept: u64,
    #[serde(flatten)]
    pub extra: Extra,
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrailEvidence {
    pub trail: Trail,
    #[serde(default)]
    pub status: Option<TrailStatus>,
    #[serde(default)]
    pub event_selectors: Option<EventSelectors>,
    /// The CloudWatch Logs group of `CloudWatchLogsLogGroupArn`, read in the trail's home
    /// region with the owner account's credentials. `None`: not read (the trail delivers to no
    /// log group, the group is in an account or region not collected, or the snapshot predates
    /// this field).
    #[serde(default)]
    pub log_group: Option<LogGroupAnswer>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Trail {
    pub name: String,
    #[serde(default, rename = "TrailARN")]
    pub trail_arn: Option<String>,
    #[serde(default)]
    pub home_region: Option<String>,
    #[serde(default)]
    pub is_multi_region_trail: Option<bool>,
    #[serde(default)]
    pub is_organization_trail: Option<bool>,
    #[serde(default)]
    pub log_file_validation_enabled: Option<bool>,
    #[serde(default)]
    pub kms_key_id: Option<String>,
    #[serde(default)]
    pub s3_bucket_name: Option<String>,
    #[serde(default)]
    pub include_global_service_events: Option<bool>,
    /// The CloudWatch Logs group the trail also delivers its events to; absent or empty when
    /// it delivers to none.
    #[serde(default)]
    pub cloud_watch_logs_log_group_arn: Option<String>,
    /// The role CloudTrail assumes to write to that log group.
    #[serde(default)]
    pub cloud_watch_logs_role_arn: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TrailStatus {
    #[serde(default)]
    pub is_logging: Option<bool>,
    #[serde(default)]
    pub start_logging_time: Option<Timestamp>,
    #[serde(default)]
    pub stop_logging_time: Option<Timestamp>,
    #[serde(default)]
    pub latest_delivery_time: Option<Timestamp>,
    #[serde(default)]
    pub latest_delivery_error: Option<String>,
    /// The most recent delivery of events to the trail's CloudWatch Logs group.
    #[serde(default)]
    pub latest_cloud_watch_logs_delivery_time: Option<Timestamp>,
    /// The error CloudTrail met when it last tried to deliver to CloudWatch Logs.
    #[serde(default)]
    pub latest_cloud_watch_logs_delivery_error: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// What DescribeLogGroups answered about a trail's log group: the group, no group of that
/// name, or the failure (which leaves its settings unknown).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogGroupAnswer {
    Found(LogGroup),
    NotFound,
    Failed(ApiError),
}

/// One DescribeLogGroups entry (CloudWatch Logs API Reference, `LogGroup`).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogGroup {
    pub log_group_name: String,
    #[serde(default)]
    pub arn: Option<String>,
    /// Days the events are kept; absent: never expire.
    #[serde(default)]
    pub retention_in_days: Option<i64>,
    /// The KMS key the group's data is encrypted with; absent: CloudWatch Logs' own
    /// encryption, no customer managed key.
    #[serde(default)]
    pub kms_key_id: Option<String>,
    /// Milliseconds since the epoch.
    #[serde(default)]
    pub creation_time: Option<i64>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// GetEventSelectors returns either classic `EventSelectors` or `AdvancedEventSelectors`.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EventSelectors {
    #[serde(default)]
    pub event_selectors: Option<Vec<EventSelector>>,
    #[serde(default)]
    pub advanced_event_selectors: Option<Vec<AdvancedEventSelector>>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EventSelector {
    #[serde(default)]
    pub read_write_type: Option<String>,
    #[serde(default)]
    pub include_management_events: Option<bool>,
    #[serde(default)]
    pub exclude_management_event_sources: Vec<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AdvancedEventSelector {
    #[serde(default)]
    pub name: Option<String>,
    pub field_selectors: Vec<FieldSelector>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FieldSelector {
    pub field: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub equals: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_equals: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub starts_with: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_starts_with: Vec<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LookupEvent {
    pub event_id: String,
    pub event_name: String,
    pub event_source: String,
    pub event_time: Timestamp,
    /// LookupEvents gives `"true"` / `"false"` as strings.
    #[serde(default)]
    pub read_only: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub access_key_id: Option<String>,
    #[serde(default)]
    pub resources: Vec<Value>,
    /// The full CloudTrail record as the JSON string AWS returns.
    pub cloud_trail_event: String,
    #[serde(flatten)]
    pub extra: Extra,
}

/// One LookupEvents query of the collection plan and what it returned.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LookupQuery {
    pub attribute_key: String,
    pub attribute_value: String,
    pub calls: u64,
    pub events_returned: u64,
    pub events_kept: u64,
    /// Set on an `EventSource` query the collector stopped after this many pages because the
    /// source had more events than that (read events, mostly): the source was then searched
    /// by event name, one query per event of the rules table.
    pub stopped_after_pages: Option<u64>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A call that could not be made: the evidence it would have produced is missing.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EvidenceGap {
    pub account_id: String,
    #[serde(default)]
    pub region: Option<String>,
    /// `apigateway`, `kms`, `cloudtrail`, `sts`.
    pub service: String,
    /// The API operation, e.g. `ListKeys`.
    pub api: String,
    /// The resource the call was about, when it was about one.
    #[serde(default)]
    pub resource: Option<String>,
    pub error_code: String,
    #[serde(default)]
    pub message: String,
}
