//! The rules table of change events: for each write event of API Gateway (REST, HTTP and
//! WebSocket APIs), KMS, ElastiCache and CloudTrail, its source, its name, how it is classified
//! (a fixed class, or a reader of its request, in `readers`) and the part it plays in logging
//! continuity; and the LookupEvents plan built from it. The collector runs that plan and the
//! classifier reads the same table, so every event the classifier knows is queried, and every
//! event queried by name is known.

mod readers;

use serde_json::Value;

use super::ChangeClass;
use crate::evidence::{LookupEvent, Policy};

pub(crate) use readers::{names_v2_api, patch_operations, request_field, text};

pub const APIGATEWAY: &str = "apigateway.amazonaws.com";
pub const KMS: &str = "kms.amazonaws.com";
pub const CLOUDTRAIL: &str = "cloudtrail.amazonaws.com";
pub const ELASTICACHE: &str = "elasticache.amazonaws.com";

/// S3 records its bucket-level management calls, and the s3control account-level Block Public
/// Access calls, with this source (S3 user guide "Amazon S3 CloudTrail events").
pub const S3: &str = "s3.amazonaws.com";

/// CloudWatch Logs records its management calls (log group settings among them) with this
/// source (CloudWatch Logs user guide "Logging Amazon CloudWatch Logs API and console calls
/// with AWS CloudTrail").
pub const LOGS: &str = "logs.amazonaws.com";

/// The sources, in the order of the query plan.
pub const SOURCES: [&str; 6] = [APIGATEWAY, CLOUDTRAIL, ELASTICACHE, KMS, LOGS, S3];

/// The reason of a change that touches no setting the controls judge.
pub const NO_EFFECT: &str = "no security-relevant setting changed";

/// A classification and the reason the register shows for it.
pub type Classification = (ChangeClass, String);

/// Reads a write event's request parameters (absent or null when the record has none).
pub type Reader = fn(Option<&Value>, &Policy) -> Classification;

/// How a LookupEvents query finds events (one lookup attribute a query).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueriedBy {
    /// Every event of a source, read and write: one page only (`SOURCE_PROBE_PAGES`). If that
    /// page is the last, the source was searched completely, events of names outside the table
    /// included; otherwise the source is searched by event name.
    EventSource,
    /// One event name of one source, whatever the read volume of the source.
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

/// How many pages (50 events each) an `EventSource` query reads before the collector gives up
/// on it and searches the source by event name. Read events (scanners, consoles, this tool;
/// Encrypt and Decrypt for KMS) can be tens of thousands a month; one page keeps a region's
/// LookupEvents calls at most the plan's queries plus its changes / 50, whatever the read
/// volume, and still searches a quiet source completely in one call.
pub const SOURCE_PROBE_PAGES: u64 = 1;

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

const fn rule(source: &'static str, name: &'static str, read: Read) -> EventRule {
    EventRule {
        source,
        name,
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
use readers::{
    read_associate_kms_key, read_create_key, read_create_replication_group, read_create_route,
    read_create_stage, read_delete_log_group, read_disassociate_kms_key, read_enable_key_rotation,
    read_event_selectors, read_modify_replication_group, read_patch,
    read_put_account_public_access_block, read_put_bucket_acl, read_put_bucket_lifecycle,
    read_put_bucket_logging, read_put_bucket_policy, read_put_bucket_public_access_block,
    read_put_bucket_versioning, read_put_key_policy, read_put_method,
    read_put_object_lock_configuration, read_put_rest_api, read_put_retention_policy,
    read_update_account, read_update_route, read_update_stage, read_update_trail,
};

/// Every write event of the four fully listed sources (API Gateway, CloudTrail, ElastiCache,
/// KMS), and the settings events of S3's buckets and CloudWatch Logs' log groups: each operation of their API models that changes
/// something (API Gateway's REST API model and its V2 model for HTTP and WebSocket APIs share
/// the source `apigateway.amazonaws.com` and, where names coincide, one row), plus the events
/// KMS records for actions it takes itself. `tests/fixtures/aws-change-operations.json` and
/// `kms-api-operations.json` and `elasticache-api-operations.json` write the lists down from the
/// models; a unit test compares.
/// docs/controls.md "Change-event classification" gives each classification its source.
#[rustfmt::skip]
pub const RULES: &[EventRule] = &[
    // API Gateway: judged settings (stage cache, logging, client certificate, method authorization)
    rule(APIGATEWAY, "UpdateStage", Read::Request(read_update_stage)),
    rule(APIGATEWAY, "UpdateMethod", Read::Request(read_patch)),
    rule(APIGATEWAY, "CreateStage", Read::RequestIfAny(read_create_stage)),
    rule(APIGATEWAY, "PutMethod", Read::Request(read_put_method)),
    rule(APIGATEWAY, "CreateRoute", Read::Request(read_create_route)),
    rule(APIGATEWAY, "UpdateRoute", Read::Request(read_update_route)),
    rule(APIGATEWAY, "PutRestApi", Read::Request(read_put_rest_api)),
    rule(APIGATEWAY, "UpdateAccount", Read::Request(read_update_account)),
    fixed(APIGATEWAY, "DeleteStage", Weakening, "stage deleted"),
    fixed(APIGATEWAY, "DeleteRestApi", Weakening, "REST API deleted"),
    fixed(APIGATEWAY, "DeleteApi", Weakening, "HTTP or WebSocket API deleted"),
    fixed(APIGATEWAY, "DeleteAccessLogSettings", Weakening, "access logging of an HTTP or WebSocket API stage removed"),
    // API Gateway: everything else that changes an API, its stages, domains, keys or portals
    neutral(APIGATEWAY, "CreateApi"), neutral(APIGATEWAY, "CreateApiKey"),
    neutral(APIGATEWAY, "CreateApiMapping"), neutral(APIGATEWAY, "CreateAuthorizer"),
    neutral(APIGATEWAY, "CreateBasePathMapping"), neutral(APIGATEWAY, "CreateDeployment"),
    neutral(APIGATEWAY, "CreateDocumentationPart"), neutral(APIGATEWAY, "CreateDocumentationVersion"),
    neutral(APIGATEWAY, "CreateDomainName"), neutral(APIGATEWAY, "CreateDomainNameAccessAssociation"),
    neutral(APIGATEWAY, "CreateIntegration"), neutral(APIGATEWAY, "CreateIntegrationResponse"),
    neutral(APIGATEWAY, "CreateModel"), neutral(APIGATEWAY, "CreatePortal"),
    neutral(APIGATEWAY, "CreatePortalProduct"), neutral(APIGATEWAY, "CreateProductPage"),
    neutral(APIGATEWAY, "CreateProductRestEndpointPage"), neutral(APIGATEWAY, "CreateRequestValidator"),
    neutral(APIGATEWAY, "CreateResource"), neutral(APIGATEWAY, "CreateRestApi"),
    neutral(APIGATEWAY, "CreateRouteResponse"), neutral(APIGATEWAY, "CreateRoutingRule"),
    neutral(APIGATEWAY, "CreateUsagePlan"), neutral(APIGATEWAY, "CreateUsagePlanKey"),
    neutral(APIGATEWAY, "CreateVpcLink"), neutral(APIGATEWAY, "DeleteApiKey"),
    neutral(APIGATEWAY, "DeleteApiMapping"), neutral(APIGATEWAY, "DeleteAuthorizer"),
    neutral(APIGATEWAY, "DeleteBasePathMapping"), neutral(APIGATEWAY, "DeleteClientCertificate"),
    neutral(APIGATEWAY, "DeleteCorsConfiguration"), neutral(APIGATEWAY, "DeleteDeployment"),
    neutral(APIGATEWAY, "DeleteDocumentationPart"), neutral(APIGATEWAY, "DeleteDocumentationVersion"),
    neutral(APIGATEWAY, "DeleteDomainName"), neutral(APIGATEWAY, "DeleteDomainNameAccessAssociation"),
    neutral(APIGATEWAY, "DeleteGatewayResponse"), neutral(APIGATEWAY, "DeleteIntegration"),
    neutral(APIGATEWAY, "DeleteIntegrationResponse"), neutral(APIGATEWAY, "DeleteMethod"),
    neutral(APIGATEWAY, "DeleteMethodResponse"), neutral(APIGATEWAY, "DeleteModel"),
    neutral(APIGATEWAY, "DeletePortal"), neutral(APIGATEWAY, "DeletePortalProduct"),
    neutral(APIGATEWAY, "DeletePortalProductSharingPolicy"), neutral(APIGATEWAY, "DeleteProductPage"),
    neutral(APIGATEWAY, "DeleteProductRestEndpointPage"), neutral(APIGATEWAY, "DeleteRequestValidator"),
    neutral(APIGATEWAY, "DeleteResource"), neutral(APIGATEWAY, "DeleteRoute"),
    neutral(APIGATEWAY, "DeleteRouteRequestParameter"), neutral(APIGATEWAY, "DeleteRouteResponse"),
    neutral(APIGATEWAY, "DeleteRouteSettings"), neutral(APIGATEWAY, "DeleteRoutingRule"),
    neutral(APIGATEWAY, "DeleteUsagePlan"), neutral(APIGATEWAY, "DeleteUsagePlanKey"),
    neutral(APIGATEWAY, "DeleteVpcLink"), neutral(APIGATEWAY, "DisablePortal"),
    neutral(APIGATEWAY, "FlushStageAuthorizersCache"), neutral(APIGATEWAY, "FlushStageCache"),
    neutral(APIGATEWAY, "GenerateClientCertificate"), neutral(APIGATEWAY, "ImportApi"),
    neutral(APIGATEWAY, "ImportApiKeys"), neutral(APIGATEWAY, "ImportDocumentationParts"),
    neutral(APIGATEWAY, "ImportRestApi"), neutral(APIGATEWAY, "PreviewPortal"),
    neutral(APIGATEWAY, "PublishPortal"), neutral(APIGATEWAY, "PutGatewayResponse"),
    neutral(APIGATEWAY, "PutIntegration"), neutral(APIGATEWAY, "PutIntegrationResponse"),
    neutral(APIGATEWAY, "PutMethodResponse"), neutral(APIGATEWAY, "PutPortalProductSharingPolicy"),
    neutral(APIGATEWAY, "PutRoutingRule"), neutral(APIGATEWAY, "ReimportApi"),
    neutral(APIGATEWAY, "RejectDomainNameAccessAssociation"), neutral(APIGATEWAY, "ResetAuthorizersCache"),
    neutral(APIGATEWAY, "TagResource"), neutral(APIGATEWAY, "UntagResource"),
    neutral(APIGATEWAY, "UpdateApi"), neutral(APIGATEWAY, "UpdateApiKey"),
    neutral(APIGATEWAY, "UpdateApiMapping"), neutral(APIGATEWAY, "UpdateAuthorizer"),
    neutral(APIGATEWAY, "UpdateBasePathMapping"), neutral(APIGATEWAY, "UpdateClientCertificate"),
    neutral(APIGATEWAY, "UpdateDeployment"), neutral(APIGATEWAY, "UpdateDocumentationPart"),
    neutral(APIGATEWAY, "UpdateDocumentationVersion"), neutral(APIGATEWAY, "UpdateDomainName"),
    neutral(APIGATEWAY, "UpdateGatewayResponse"), neutral(APIGATEWAY, "UpdateIntegration"),
    neutral(APIGATEWAY, "UpdateIntegrationResponse"), neutral(APIGATEWAY, "UpdateMethodResponse"),
    neutral(APIGATEWAY, "UpdateModel"), neutral(APIGATEWAY, "UpdatePortal"),
    neutral(APIGATEWAY, "UpdatePortalProduct"), neutral(APIGATEWAY, "UpdateProductPage"),
    neutral(APIGATEWAY, "UpdateProductRestEndpointPage"), neutral(APIGATEWAY, "UpdateRequestValidator"),
    neutral(APIGATEWAY, "UpdateResource"), neutral(APIGATEWAY, "UpdateRestApi"),
    neutral(APIGATEWAY, "UpdateRouteResponse"), neutral(APIGATEWAY, "UpdateUsage"),
    neutral(APIGATEWAY, "UpdateUsagePlan"), neutral(APIGATEWAY, "UpdateVpcLink"),
    // KMS: every mutating operation, and the events KMS records for actions it takes itself
    // (RotateKey, DeleteKey, DeleteExpiredKeyMaterial, SynchronizeMultiRegionKey)
    fixed(KMS, "CancelKeyDeletion", Strengthening, "scheduled key deletion cancelled"),
    neutral(KMS, "ConnectCustomKeyStore"),
    neutral(KMS, "CreateAlias"),
    neutral(KMS, "CreateCustomKeyStore"),
    neutral(KMS, "CreateGrant"),
    rule(KMS, "CreateKey", Read::RequestIfAny(read_create_key)),
    neutral(KMS, "DeleteAlias"),
    neutral(KMS, "DeleteCustomKeyStore"),
    fixed(KMS, "DeleteExpiredKeyMaterial", Weakening, "expired imported key material deleted by AWS: the key cannot be used until key material is imported again"),
    fixed(KMS, "DeleteImportedKeyMaterial", Weakening, "imported key material deleted"),
    fixed(KMS, "DeleteKey", Weakening, "key deleted by AWS after its scheduled deletion"),
    fixed(KMS, "DisableKey", Weakening, "key disabled"),
    fixed(KMS, "DisableKeyRotation", Weakening, "automatic key rotation disabled"),
    neutral(KMS, "DisconnectCustomKeyStore"),
    fixed(KMS, "EnableKey", Strengthening, "key enabled"),
    rule(KMS, "EnableKeyRotation", Read::RequestIfAny(read_enable_key_rotation)),
    neutral(KMS, "ImportKeyMaterial"),
    rule(KMS, "PutKeyPolicy", Read::Request(read_put_key_policy)),
    rule(KMS, "ReplicateKey", Read::RequestIfAny(read_create_key)),
    neutral(KMS, "RetireGrant"),
    neutral(KMS, "RevokeGrant"),
    fixed(KMS, "RotateKey", Strengthening, "automatic rotation performed by AWS"),
    fixed(KMS, "RotateKeyOnDemand", Strengthening, "on-demand rotation of key material"),
    fixed(KMS, "ScheduleKeyDeletion", Weakening, "key deletion scheduled"),
    fixed(KMS, "SynchronizeMultiRegionKey", Neutral, "shared properties of a multi-Region key synchronised by AWS"),
    neutral(KMS, "TagResource"),
    neutral(KMS, "UntagResource"),
    neutral(KMS, "UpdateAlias"),
    neutral(KMS, "UpdateCustomKeyStore"),
    neutral(KMS, "UpdateKeyDescription"),
    neutral(KMS, "UpdatePrimaryRegion"),
    // ElastiCache: judged (encryption at rest; in-transit encryption and AUTH / RBAC as context)
    rule(ELASTICACHE, "CreateReplicationGroup", Read::RequestIfAny(read_create_replication_group)),
    rule(ELASTICACHE, "ModifyReplicationGroup", Read::Request(read_modify_replication_group)),
    fixed(ELASTICACHE, "DeleteReplicationGroup", Weakening, "replication group deleted"),
    // ElastiCache: everything else that changes a cluster, serverless cache, backup, user or group
    neutral(ELASTICACHE, "AddTagsToResource"), neutral(ELASTICACHE, "AuthorizeCacheSecurityGroupIngress"),
    neutral(ELASTICACHE, "BatchApplyUpdateAction"), neutral(ELASTICACHE, "BatchStopUpdateAction"),
    neutral(ELASTICACHE, "CompleteMigration"), neutral(ELASTICACHE, "CopyServerlessCacheSnapshot"),
    neutral(ELASTICACHE, "CopySnapshot"), neutral(ELASTICACHE, "CreateCacheCluster"),
    neutral(ELASTICACHE, "CreateCacheParameterGroup"), neutral(ELASTICACHE, "CreateCacheSecurityGroup"),
    neutral(ELASTICACHE, "CreateCacheSubnetGroup"), neutral(ELASTICACHE, "CreateGlobalReplicationGroup"),
    neutral(ELASTICACHE, "CreateServerlessCache"), neutral(ELASTICACHE, "CreateServerlessCacheSnapshot"),
    neutral(ELASTICACHE, "CreateSnapshot"), neutral(ELASTICACHE, "CreateUser"),
    neutral(ELASTICACHE, "CreateUserGroup"), neutral(ELASTICACHE, "DecreaseNodeGroupsInGlobalReplicationGroup"),
    neutral(ELASTICACHE, "DecreaseReplicaCount"), neutral(ELASTICACHE, "DeleteCacheCluster"),
    neutral(ELASTICACHE, "DeleteCacheParameterGroup"), neutral(ELASTICACHE, "DeleteCacheSecurityGroup"),
    neutral(ELASTICACHE, "DeleteCacheSubnetGroup"), neutral(ELASTICACHE, "DeleteGlobalReplicationGroup"),
    neutral(ELASTICACHE, "DeleteServerlessCache"), neutral(ELASTICACHE, "DeleteServerlessCacheSnapshot"),
    neutral(ELASTICACHE, "DeleteSnapshot"), neutral(ELASTICACHE, "DeleteUser"),
    neutral(ELASTICACHE, "DeleteUserGroup"), neutral(ELASTICACHE, "DisassociateGlobalReplicationGroup"),
    neutral(ELASTICACHE, "ExportServerlessCacheSnapshot"), neutral(ELASTICACHE, "FailoverGlobalReplicationGroup"),
    neutral(ELASTICACHE, "IncreaseNodeGroupsInGlobalReplicationGroup"), neutral(ELASTICACHE, "IncreaseReplicaCount"),
    neutral(ELASTICACHE, "ModifyCacheCluster"), neutral(ELASTICACHE, "ModifyCacheParameterGroup"),
    neutral(ELASTICACHE, "ModifyCacheSubnetGroup"), neutral(ELASTICACHE, "ModifyGlobalReplicationGroup"),
    neutral(ELASTICACHE, "ModifyReplicationGroupShardConfiguration"), neutral(ELASTICACHE, "ModifyServerlessCache"),
    neutral(ELASTICACHE, "ModifyUser"), neutral(ELASTICACHE, "ModifyUserGroup"),
    neutral(ELASTICACHE, "PrepareMigration"), neutral(ELASTICACHE, "PurchaseReservedCacheNodesOffering"),
    neutral(ELASTICACHE, "RebalanceSlotsInGlobalReplicationGroup"), neutral(ELASTICACHE, "RebootCacheCluster"),
    neutral(ELASTICACHE, "RemoveTagsFromResource"), neutral(ELASTICACHE, "ResetCacheParameterGroup"),
    neutral(ELASTICACHE, "RevokeCacheSecurityGroupIngress"), neutral(ELASTICACHE, "StartMigration"),
    neutral(ELASTICACHE, "StopMigration"), neutral(ELASTICACHE, "TestFailover"),
    neutral(ELASTICACHE, "TestMigration"),
    // CloudTrail
    continuity(fixed(CLOUDTRAIL, "StopLogging", Weakening, "trail logging stopped"), Continuity::Stops),
    continuity(fixed(CLOUDTRAIL, "DeleteTrail", Weakening, "trail deleted"), Continuity::Stops),
    continuity(fixed(CLOUDTRAIL, "StartLogging", Strengthening, "trail logging started"), Continuity::Resumes),
    rule(CLOUDTRAIL, "UpdateTrail", Read::Request(read_update_trail)),
    rule(CLOUDTRAIL, "PutEventSelectors", Read::Request(read_event_selectors)),
    fixed(CLOUDTRAIL, "DeleteEventDataStore", Weakening, "CloudTrail Lake event data store deleted: its events become unavailable"),
    fixed(CLOUDTRAIL, "StopEventDataStoreIngestion", Weakening, "CloudTrail Lake event data store stopped ingesting events"),
    fixed(CLOUDTRAIL, "StartEventDataStoreIngestion", Strengthening, "CloudTrail Lake event data store ingesting events again"),
    neutral(CLOUDTRAIL, "AddTags"), neutral(CLOUDTRAIL, "CreateChannel"),
    neutral(CLOUDTRAIL, "CreateDashboard"), neutral(CLOUDTRAIL, "CreateEventDataStore"),
    neutral(CLOUDTRAIL, "CreateTrail"), neutral(CLOUDTRAIL, "DeleteChannel"),
    neutral(CLOUDTRAIL, "DeleteDashboard"), neutral(CLOUDTRAIL, "DeleteResourcePolicy"),
    neutral(CLOUDTRAIL, "DeregisterOrganizationDelegatedAdmin"), neutral(CLOUDTRAIL, "DisableFederation"),
    neutral(CLOUDTRAIL, "EnableFederation"), neutral(CLOUDTRAIL, "PutEventConfiguration"),
    neutral(CLOUDTRAIL, "PutInsightSelectors"), neutral(CLOUDTRAIL, "PutResourcePolicy"),
    neutral(CLOUDTRAIL, "RegisterOrganizationDelegatedAdmin"), neutral(CLOUDTRAIL, "RemoveTags"),
    neutral(CLOUDTRAIL, "RestoreEventDataStore"), neutral(CLOUDTRAIL, "StartDashboardRefresh"),
    neutral(CLOUDTRAIL, "StartImport"), neutral(CLOUDTRAIL, "StopImport"),
    neutral(CLOUDTRAIL, "UpdateChannel"), neutral(CLOUDTRAIL, "UpdateDashboard"),
    neutral(CLOUDTRAIL, "UpdateEventDataStore"),
    // S3: the bucket settings cloudtrail-bucket-protection judges (not the whole S3 API: its
    // other management events are kept when the source query reads them all, as NEUTRAL)
    rule(S3, "PutBucketPolicy", Read::Request(read_put_bucket_policy)),
    fixed(S3, "DeleteBucketPolicy", Strengthening, "bucket policy deleted: nothing it allowed is allowed any more"),
    rule(S3, "PutBucketAcl", Read::Request(read_put_bucket_acl)),
    rule(S3, "PutBucketPublicAccessBlock", Read::Request(read_put_bucket_public_access_block)),
    fixed(S3, "DeleteBucketPublicAccessBlock", Weakening, "bucket Block Public Access removed"),
    rule(S3, "PutAccountPublicAccessBlock", Read::Request(read_put_account_public_access_block)),
    fixed(S3, "DeleteAccountPublicAccessBlock", Weakening, "account Block Public Access removed"),
    rule(S3, "PutBucketLogging", Read::Request(read_put_bucket_logging)),
    rule(S3, "PutBucketVersioning", Read::Request(read_put_bucket_versioning)),
    rule(S3, "PutObjectLockConfiguration", Read::Request(read_put_object_lock_configuration)),
    rule(S3, "PutBucketLifecycle", Read::Request(read_put_bucket_lifecycle)),
    fixed(S3, "DeleteBucketLifecycle", Strengthening, "bucket lifecycle rules deleted: no object expires"),
    fixed(S3, "DeleteBucket", Weakening, "bucket deleted"),
    neutral(S3, "CreateBucket"),
    // CloudWatch Logs: the log group settings cloudtrail-cloudwatch-logs judges (not the whole
    // API: its other management events, CreateLogStream among them, are kept as NEUTRAL when
    // the source query reads them all)
    rule(LOGS, "PutRetentionPolicy", Read::Request(read_put_retention_policy)),
    fixed(LOGS, "DeleteRetentionPolicy", Strengthening, "log group retention policy deleted: events never expire"),
    rule(LOGS, "AssociateKmsKey", Read::Request(read_associate_kms_key)),
    rule(LOGS, "DisassociateKmsKey", Read::Request(read_disassociate_kms_key)),
    rule(LOGS, "DeleteLogGroup", Read::Request(read_delete_log_group)),
    neutral(LOGS, "CreateLogGroup"),
];

/// The rule of an event, by its source and name.
pub fn find(source: &str, name: &str) -> Option<&'static EventRule> {
    RULES.iter().find(|r| r.source == source && r.name == name)
}

/// Whether an event belongs in the change register, whoever found it: a write event of one of
/// the `SOURCES` (an operation newer than the table included), or an event whose source has a
/// rule of its name. The trail's log files are filtered with it record by record; the
/// LookupEvents plan applies the same two halves query by query (`Lookup::keeps`).
pub fn in_change_register(source: &str, name: &str, read_only: Option<&str>) -> bool {
    (SOURCES.contains(&source) && is_write(read_only)) || find(source, name).is_some()
}

/// LookupEvents gives `ReadOnly` as `"true"` / `"false"`; a record without it counts as a
/// write, so nothing is dropped for lack of the flag.
fn is_write(read_only: Option<&str>) -> bool {
    read_only != Some("true")
}

/// The classification of one write event. docs/controls.md "Change-event classification"
/// lists the rules with their sources. A write event the table does not know (an operation
/// newer than the table, seen by a complete `EventSource` query) is NEUTRAL.
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
}

impl Lookup {
    pub fn attribute_key(&self) -> &'static str {
        self.queried_by.attribute_key()
    }

    /// Whether a returned event belongs in the change register: a write event of the queried
    /// source, or an event whose source has a rule of the queried name (names such as
    /// TagResource exist in many services, two of them here).
    pub fn keeps(&self, event: &LookupEvent) -> bool {
        match self.queried_by {
            QueriedBy::EventName => find(&event.event_source, self.value).is_some(),
            QueriedBy::EventSource => {
                event.event_source == self.value && is_write(event.read_only.as_deref())
            }
        }
    }

    /// The most pages the query reads: `SOURCE_PROBE_PAGES` for a source, all for a name.
    pub fn page_limit(&self) -> Option<u64> {
        match self.queried_by {
            QueriedBy::EventSource => Some(SOURCE_PROBE_PAGES),
            QueriedBy::EventName => None,
        }
    }

    /// Whether this `EventName` query searches `source` (the table has a rule of this name for
    /// that source).
    pub fn searches(&self, source: &str) -> bool {
        self.queried_by == QueriedBy::EventName && find(source, self.value).is_some()
    }
}

/// The LookupEvents plan of one account-region, in the order the report lists it: one
/// `EventSource` query per source (API Gateway, CloudTrail, ElastiCache, KMS), then one
/// `EventName` query per event name of the table, in alphabetical order (a name two sources
/// share, such as TagResource, once). The name queries of a source run only if its `EventSource` query did
/// not read every event of the source in `SOURCE_PROBE_PAGES`. So the calls of a region are at
/// most the plan's queries plus its changes / 50 (plus retries), whatever the number of read
/// events; what searching by name misses is a write event whose name is not in the table
/// (docs/controls.md "Collecting the change events").
pub fn lookup_plan() -> Vec<Lookup> {
    let mut names: Vec<&'static str> = RULES.iter().map(|r| r.name).collect();
    names.sort_unstable();
    names.dedup();
    SOURCES
        .iter()
        .map(|source| Lookup {
            queried_by: QueriedBy::EventSource,
            value: source,
        })
        .chain(names.into_iter().map(|name| Lookup {
            queried_by: QueriedBy::EventName,
            value: name,
        }))
        .collect()
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

    fn judged(source: &str, event: &str, params: Value) -> Classification {
        classify(source, event, Some(&params), &Policy::default())
    }

    #[test]
    fn event_selectors_that_drop_read_write_or_any_source_of_management_events_weaken() {
        use ChangeClass::*;
        let classic = |selectors: Value| {
            judged(
                CLOUDTRAIL,
                "PutEventSelectors",
                json!({"trailName": "t", "eventSelectors": selectors}),
            )
        };
        let all = json!({"readWriteType": "All", "includeManagementEvents": true});
        assert_eq!(classic(json!([all])).0, Neutral);
        assert_eq!(
            classic(json!([{"readWriteType": "ReadOnly", "includeManagementEvents": true}])).0,
            Weakening
        );
        let rdsdata = classic(
            json!([{"readWriteType": "All", "includeManagementEvents": true,
            "excludeManagementEventSources": ["rdsdata.amazonaws.com"]}]),
        );
        assert_eq!(rdsdata.0, Weakening, "{rdsdata:?}");
        assert!(rdsdata.1.contains("rdsdata.amazonaws.com"), "{rdsdata:?}");
        // Selectors add up: read-only plus write-only is everything.
        assert_eq!(
            classic(json!([{"readWriteType": "ReadOnly"}, {"readWriteType": "WriteOnly"}])).0,
            Neutral
        );
        let advanced = |selectors: Value| {
            judged(
                CLOUDTRAIL,
                "PutEventSelectors",
                json!({"trailName": "t", "advancedEventSelectors": selectors}),
            )
        };
        let management = |more: Value| {
            let mut fields = vec![json!({"field": "eventCategory", "equals": ["Management"]})];
            fields.extend(more.as_array().cloned().unwrap_or_default());
            json!({"name": "mgmt", "fieldSelectors": fields})
        };
        assert_eq!(advanced(json!([management(json!([]))])).0, Neutral);
        let read_only = advanced(json!([management(
            json!([{"field": "readOnly", "equals": ["true"]}])
        )]));
        assert_eq!(
            read_only,
            (
                Weakening,
                "advanced event selectors limited to read-only management events".to_string()
            )
        );
        let no_kms = advanced(json!([management(
            json!([{"field": "eventSource", "notEquals": ["kms.amazonaws.com"]}])
        )]));
        assert_eq!(no_kms.0, Weakening);
        assert!(
            no_kms.1.contains("excludes kms.amazonaws.com"),
            "{no_kms:?}"
        );
        let data_only = advanced(json!([{"name": "s3", "fieldSelectors": [
            {"field": "eventCategory", "equals": ["Data"]},
            {"field": "resources.type", "equals": ["AWS::S3::Object"]}]}]));
        assert_eq!(
            data_only,
            (
                Weakening,
                "advanced event selectors record no management events".to_string()
            )
        );
        // The API model's spelling is read too.
        let pascal = judged(
            CLOUDTRAIL,
            "PutEventSelectors",
            json!({"TrailName": "t",
            "AdvancedEventSelectors": [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]},
            {"Field": "readOnly", "Equals": ["false"]}]}]}),
        );
        assert_eq!(pascal.0, Weakening);
    }

    #[test]
    fn enabling_the_cache_cluster_weakens_unless_the_same_change_encrypts_the_stage_cache() {
        use ChangeClass::*;
        let cluster = json!({"op": "replace", "path": "/cacheClusterEnabled", "value": "true"});
        let alone = judged(APIGATEWAY, "UpdateStage", stage_patch(json!([cluster])));
        assert_eq!(alone.0, Weakening);
        assert!(alone.1.contains("not in the event"), "{alone:?}");
        let encrypted = stage_patch(json!([cluster,
            {"op": "replace", "path": "/*/*/caching/dataEncrypted", "value": "true"}]));
        assert_eq!(class(APIGATEWAY, "UpdateStage", encrypted), Strengthening);
        let off = json!({"op": "replace", "path": "/cacheClusterEnabled", "value": "false"});
        assert_eq!(
            class(APIGATEWAY, "UpdateStage", stage_patch(json!([off]))),
            Neutral
        );
        let created = json!({"restApiId": "a1", "createStageInput": {"stageName": "prod",
            "deploymentId": "d1", "cacheClusterEnabled": true, "cacheClusterSize": "0.5"}});
        assert_eq!(class(APIGATEWAY, "CreateStage", created), Weakening);
        let plain = json!({"restApiId": "a1", "createStageInput": {"stageName": "prod", "deploymentId": "d1"}});
        assert_eq!(class(APIGATEWAY, "CreateStage", plain), Neutral);
    }

    #[test]
    fn removing_the_accounts_cloudwatch_role_weakens() {
        use ChangeClass::*;
        let account = |op: Value| json!({"patchOperations": [op]});
        assert_eq!(
            class(
                APIGATEWAY,
                "UpdateAccount",
                account(json!({"op": "remove", "path": "/cloudwatchRoleArn"}))
            ),
            Weakening
        );
        assert_eq!(
            class(
                APIGATEWAY,
                "UpdateAccount",
                account(json!({"op": "replace", "path": "/cloudwatchRoleArn", "value": ""}))
            ),
            Weakening
        );
        assert_eq!(
            class(
                APIGATEWAY,
                "UpdateAccount",
                account(json!({"op": "replace",
                "path": "/cloudwatchRoleArn", "value": "arn:aws:iam::111111111111:role/apigw-logs"}))
            ),
            Strengthening
        );
    }

    #[test]
    fn moving_trail_delivery_to_another_bucket_or_dropping_cloudwatch_logs_weakens() {
        use ChangeClass::*;
        let moved = judged(
            CLOUDTRAIL,
            "UpdateTrail",
            json!({"name": "t", "s3BucketName": "elsewhere"}),
        );
        assert_eq!(moved.0, Weakening);
        assert!(moved.1.contains("elsewhere"), "{moved:?}");
        assert_eq!(
            class(
                CLOUDTRAIL,
                "UpdateTrail",
                json!({"name": "t", "cloudWatchLogsLogGroupArn": "", "cloudWatchLogsRoleArn": ""})
            ),
            Weakening
        );
        assert_eq!(
            class(
                CLOUDTRAIL,
                "UpdateTrail",
                json!({"name": "t",
                "cloudWatchLogsLogGroupArn": "arn:aws:logs:eu-west-1:111111111111:log-group:ct:*",
                "cloudWatchLogsRoleArn": "arn:aws:iam::111111111111:role/ct"})
            ),
            Strengthening
        );
    }

    #[test]
    fn put_rest_api_in_overwrite_mode_weakens_and_merge_does_not() {
        use ChangeClass::*;
        assert_eq!(
            class(
                APIGATEWAY,
                "PutRestApi",
                json!({"restApiId": "a1", "mode": "overwrite"})
            ),
            Weakening
        );
        assert_eq!(
            class(
                APIGATEWAY,
                "PutRestApi",
                json!({"restApiId": "a1", "mode": "merge"})
            ),
            Neutral
        );
        assert_eq!(
            class(APIGATEWAY, "PutRestApi", json!({"restApiId": "a1"})),
            Neutral
        );
    }

    #[test]
    fn methods_and_routes_open_to_anyone_weaken() {
        use ChangeClass::*;
        let put = |input: Value| {
            json!({"restApiId": "a1", "resourceId": "r1", "httpMethod": "GET",
            "putMethodInput": input})
        };
        let open = judged(
            APIGATEWAY,
            "PutMethod",
            put(json!({"authorizationType": "NONE"})),
        );
        assert_eq!(open.0, Weakening);
        assert!(open.1.contains("GET"), "{open:?}");
        assert_eq!(
            class(
                APIGATEWAY,
                "PutMethod",
                put(json!({"authorizationType": "NONE", "apiKeyRequired": true}))
            ),
            Neutral
        );
        assert_eq!(
            class(
                APIGATEWAY,
                "PutMethod",
                put(json!({"authorizationType": "AWS_IAM"}))
            ),
            Neutral
        );
        // API Gateway V2: a route without authorizationType gets NONE.
        assert_eq!(
            class(
                APIGATEWAY,
                "CreateRoute",
                json!({"apiId": "h1", "routeKey": "GET /items"})
            ),
            Weakening
        );
        assert_eq!(
            class(
                APIGATEWAY,
                "CreateRoute",
                json!({"apiId": "h1", "routeKey": "GET /items", "authorizationType": "JWT", "authorizerId": "z"})
            ),
            Neutral
        );
        assert_eq!(
            class(
                APIGATEWAY,
                "UpdateRoute",
                json!({"apiId": "h1", "routeId": "r", "authorizationType": "NONE"})
            ),
            Weakening
        );
        assert_eq!(
            class(
                APIGATEWAY,
                "UpdateRoute",
                json!({"apiId": "h1", "routeId": "r", "target": "x"})
            ),
            Neutral
        );
    }

    #[test]
    fn key_policies_that_open_the_key_to_anyone_without_a_condition_weaken() {
        use ChangeClass::*;
        let policy = |statement: Value| {
            json!({"keyId": "k1", "policyName": "default",
                "policy": json!({"Version": "2012-10-17", "Statement": statement}).to_string()})
        };
        let account_only = json!([{"Sid": "Enable IAM User Permissions", "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111111111111:root"}, "Action": "kms:*", "Resource": "*"}]);
        assert_eq!(class(KMS, "PutKeyPolicy", policy(account_only)), Neutral);
        let anyone = judged(
            KMS,
            "PutKeyPolicy",
            policy(json!([{"Sid": "Open", "Effect": "Allow",
            "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"}])),
        );
        assert_eq!(anyone.0, Weakening);
        assert!(anyone.1.contains("\"Open\""), "{anyone:?}");
        assert_eq!(
            class(
                KMS,
                "PutKeyPolicy",
                policy(json!({"Effect": "Allow",
                "Principal": {"AWS": ["arn:aws:iam::111111111111:root", "*"]}, "Action": "kms:*", "Resource": "*"}))
            ),
            Weakening
        );
        assert_eq!(
            class(
                KMS,
                "PutKeyPolicy",
                policy(json!([{"Effect": "Allow", "Principal": {"AWS": "*"},
                "Action": "kms:Decrypt", "Resource": "*",
                "Condition": {"StringEquals": {"kms:CallerAccount": "111111111111"}}}]))
            ),
            Neutral
        );
        assert_eq!(
            class(
                KMS,
                "PutKeyPolicy",
                json!({"keyId": "k1", "policyName": "default", "policy": "{not json"})
            ),
            Weakening
        );
        assert_eq!(
            class(KMS, "CreateKey", json!({"keySpec": "SYMMETRIC_DEFAULT"})),
            Neutral
        );
        assert_eq!(
            class(
                KMS,
                "CreateKey",
                json!({"policy": json!({"Statement": [{"Effect": "Allow",
                "Principal": {"AWS": "*"}, "Action": "kms:*", "Resource": "*"}]}).to_string()})
            ),
            Weakening
        );
    }

    #[test]
    fn replication_groups_created_unencrypted_and_loosened_access_weaken() {
        use ChangeClass::*;
        let create = |params: Value| class(ELASTICACHE, "CreateReplicationGroup", params);
        assert_eq!(
            create(
                json!({"replicationGroupId": "g", "engine": "redis", "atRestEncryptionEnabled": true})
            ),
            Neutral
        );
        assert_eq!(
            create(
                json!({"replicationGroupId": "g", "engine": "valkey", "atRestEncryptionEnabled": false})
            ),
            Weakening
        );
        assert_eq!(
            create(json!({"replicationGroupId": "g", "engine": "valkey"})),
            Neutral
        );
        assert_eq!(
            create(json!({"replicationGroupId": "g", "engine": "redis"})),
            Weakening
        );
        assert_eq!(create(json!({"replicationGroupId": "g"})), Weakening);
        let modify = |params: Value| judged(ELASTICACHE, "ModifyReplicationGroup", params);
        let preferred =
            modify(json!({"replicationGroupId": "g", "transitEncryptionMode": "preferred"}));
        assert_eq!(preferred.0, Weakening);
        assert!(
            preferred.1.contains("unencrypted connections"),
            "{preferred:?}"
        );
        assert_eq!(
            modify(json!({"replicationGroupId": "g", "authTokenUpdateStrategy": "DELETE"})).0,
            Weakening
        );
        assert_eq!(
            modify(json!({"replicationGroupId": "g", "userGroupIdsToRemove": ["ug1"]})).0,
            Weakening
        );
        assert_eq!(
            modify(
                json!({"replicationGroupId": "g", "transitEncryptionEnabled": true,
                "transitEncryptionMode": "required"})
            )
            .0,
            Strengthening
        );
        assert_eq!(
            modify(json!({"replicationGroupId": "g", "snapshotRetentionLimit": 7})).0,
            Neutral
        );
        assert_eq!(
            class(
                ELASTICACHE,
                "DeleteReplicationGroup",
                json!({"replicationGroupId": "g"})
            ),
            Weakening
        );
        assert_eq!(
            class(
                ELASTICACHE,
                "CreateServerlessCache",
                json!({"serverlessCacheName": "s"})
            ),
            Neutral
        );
    }

    #[test]
    fn events_kms_records_for_itself_are_classified() {
        assert_eq!(
            classify(KMS, "DeleteExpiredKeyMaterial", None, &Policy::default()).0,
            ChangeClass::Weakening
        );
        assert_eq!(
            classify(KMS, "SynchronizeMultiRegionKey", None, &Policy::default()).0,
            ChangeClass::Neutral
        );
    }

    /// The hand-written lists of the sources' operations that change something, taken
    /// from their API models (tests/fixtures/*.json, not from this table).
    fn documented_changes() -> std::collections::BTreeSet<(&'static str, String)> {
        let aws: Value = serde_json::from_str(include_str!(
            "../../../../../tests/fixtures/aws-change-operations.json"
        ))
        .expect("the fixture is JSON");
        let kms: Value = serde_json::from_str(include_str!(
            "../../../../../tests/fixtures/kms-api-operations.json"
        ))
        .expect("the fixture is JSON");
        let names = |doc: &Value, list: &str| -> Vec<String> {
            doc[list]
                .as_array()
                .expect("a list")
                .iter()
                .map(|n| n.as_str().expect("a name").to_string())
                .collect()
        };
        let mut all = std::collections::BTreeSet::new();
        for name in names(&aws, "apigateway_changes") {
            all.insert((APIGATEWAY, name));
        }
        for name in names(&aws, "cloudtrail_changes") {
            all.insert((CLOUDTRAIL, name));
        }
        for name in names(&aws, "s3_changes") {
            all.insert((S3, name));
        }
        for name in names(&aws, "logs_changes") {
            all.insert((LOGS, name));
        }
        for name in names(&kms, "changes")
            .into_iter()
            .chain(names(&kms, "recorded_by_aws"))
        {
            all.insert((KMS, name));
        }
        let elasticache: Value = serde_json::from_str(include_str!(
            "../../../../../tests/fixtures/elasticache-api-operations.json"
        ))
        .expect("the fixture is JSON");
        for name in names(&elasticache, "changes") {
            all.insert((ELASTICACHE, name));
        }
        all
    }

    #[test]
    fn the_table_names_every_change_of_the_four_apis_once() {
        let mut seen = std::collections::BTreeSet::new();
        for rule in RULES {
            assert!(SOURCES.contains(&rule.source), "{}", rule.source);
            assert!(
                seen.insert((rule.source, rule.name.to_string())),
                "{} twice",
                rule.name
            );
        }
        let documented = documented_changes();
        assert_eq!(
            seen,
            documented,
            "not in the table: {:?}; not a change of the API models: {:?}",
            documented.difference(&seen).collect::<Vec<_>>(),
            seen.difference(&documented).collect::<Vec<_>>()
        );
        for (source, name) in [
            (KMS, "DeleteExpiredKeyMaterial"),
            (KMS, "SynchronizeMultiRegionKey"),
            (APIGATEWAY, "CreateRoute"),
            (APIGATEWAY, "DeleteAccessLogSettings"),
        ] {
            assert!(find(source, name).is_some(), "{name}");
        }
    }

    #[test]
    fn the_plan_probes_each_source_then_names_every_rule_once_in_order() {
        let plan = lookup_plan();
        let probes: Vec<&str> = plan
            .iter()
            .take_while(|q| q.queried_by == QueriedBy::EventSource)
            .map(|q| q.value)
            .collect();
        assert_eq!(probes, SOURCES);
        assert!(
            plan.iter()
                .all(|q| (q.page_limit() == Some(SOURCE_PROBE_PAGES))
                    == (q.queried_by == QueriedBy::EventSource))
        );
        let names: Vec<&str> = plan
            .iter()
            .skip(SOURCES.len())
            .map(|q| {
                assert_eq!(q.queried_by, QueriedBy::EventName);
                q.value
            })
            .collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(names, sorted, "each name once, alphabetical");
        for rule in RULES {
            let searching: Vec<&Lookup> = plan
                .iter()
                .filter(|q| q.searches(rule.source) && q.value == rule.name)
                .collect();
            assert_eq!(searching.len(), 1, "{} {}", rule.source, rule.name);
        }
        // Shared names: one query keeps the events of both sources.
        let tag = plan
            .iter()
            .find(|q| q.value == "TagResource")
            .expect("TagResource");
        assert!(tag.searches(APIGATEWAY) && tag.searches(KMS) && !tag.searches(CLOUDTRAIL));
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
                "PutMethod",
                "CreateRoute",
                "UpdateRoute",
                "PutRestApi",
                "UpdateAccount",
                "PutKeyPolicy",
                "ModifyReplicationGroup",
                "UpdateTrail",
                "PutEventSelectors",
                "PutBucketPolicy",
                "PutBucketAcl",
                "PutBucketPublicAccessBlock",
                "PutAccountPublicAccessBlock",
                "PutBucketLogging",
                "PutBucketVersioning",
                "PutObjectLockConfiguration",
                "PutBucketLifecycle",
                "PutRetentionPolicy",
                "AssociateKmsKey",
                "DisassociateKmsKey",
                "DeleteLogGroup"
            ]
        );
        assert_eq!(
            classify(APIGATEWAY, "TagResource", None, &Policy::default()),
            (Neutral, NO_EFFECT.to_string())
        );
    }

    #[test]
    fn log_group_changes_are_judged_against_the_minimum_log_retention() {
        let retention = |days: Value| {
            classify(
                LOGS,
                "PutRetentionPolicy",
                Some(&json!({"logGroupName": "CloudTrail/audit", "retentionInDays": days})),
                &Policy::default(),
            )
        };
        let (short, why) = retention(json!(90));
        assert_eq!(short, ChangeClass::Weakening);
        assert!(
            why.contains("log group CloudTrail/audit keeps events 90 days"),
            "{why}"
        );
        assert_eq!(retention(json!(400)).0, ChangeClass::Neutral);
        assert_eq!(
            class(LOGS, "DisassociateKmsKey", json!({"logGroupName": "g"})),
            ChangeClass::Weakening
        );
        assert_eq!(
            class(
                LOGS,
                "DisassociateKmsKey",
                json!({"resourceIdentifier": "arn:aws:logs:us-east-1:1:query-result:*"})
            ),
            ChangeClass::Neutral
        );
        assert_eq!(
            class(
                LOGS,
                "AssociateKmsKey",
                json!({"logGroupName": "g", "kmsKeyId": "k"})
            ),
            ChangeClass::Strengthening
        );
        assert_eq!(
            class(LOGS, "DeleteLogGroup", json!({"logGroupName": "g"})),
            ChangeClass::Weakening
        );
        assert_eq!(
            classify(LOGS, "CreateLogStream", None, &Policy::default()).0,
            ChangeClass::Neutral
        );
    }
}
