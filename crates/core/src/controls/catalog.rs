//! The controls catalog as data: what each control checks, which Annex 11 clauses it serves,
//! its Security Hub and AWS Config counterparts, why it matters and how to remediate.

use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Control {
    pub id: &'static str,
    pub title: &'static str,
    pub service: &'static str,
    /// EU GMP Annex 11 clauses (and 21 CFR Part 11 sections) the control provides evidence for.
    pub clauses: &'static [&'static str],
    /// Equivalent checks elsewhere: Security Hub control ids and AWS Config managed rules.
    pub cross_references: &'static [&'static str],
    /// True when the result is given twice: the lenient Security Hub and strict AWS Config view.
    pub two_views: bool,
    pub rationale: &'static str,
    pub remediation: &'static str,
}

pub const APIGW_CACHE_ENCRYPTION: &str = "apigw-cache-encryption";
pub const APIGW_LOGGING: &str = "apigw-logging";
pub const KMS_KEY_ROTATION: &str = "kms-key-rotation";
pub const KMS_KEY_DELETION: &str = "kms-key-deletion";
pub const CLOUDTRAIL_MULTI_REGION: &str = "cloudtrail-multi-region";
pub const CLOUDTRAIL_ENCRYPTION: &str = "cloudtrail-encryption";
pub const CLOUDTRAIL_LOG_VALIDATION: &str = "cloudtrail-log-validation";
pub const CLOUDTRAIL_CONTINUITY: &str = "cloudtrail-continuity";
pub const CHANGE_CONTROL: &str = "change-control";
pub const KMS_KEY_EXPOSURE: &str = "kms-key-exposure";
pub const CLOUDTRAIL_S3_DATA_EVENTS: &str = "cloudtrail-s3-data-events";
pub const APIGW_V2_ACCESS_LOGGING: &str = "apigw-v2-access-logging";
pub const APIGW_V2_ROUTE_AUTHORIZATION: &str = "apigw-v2-route-authorization";
pub const ELASTICACHE_ENCRYPTION_AT_REST: &str = "elasticache-encryption-at-rest";
pub const CLOUDTRAIL_BUCKET_PROTECTION: &str = "cloudtrail-bucket-protection";
pub const CLOUDTRAIL_CLOUDWATCH_LOGS: &str = "cloudtrail-cloudwatch-logs";
pub const CLOUDTRAIL_LOG_INTEGRITY: &str = "cloudtrail-log-integrity";

pub const CATALOG: &[Control] = &[
    Control {
        id: APIGW_CACHE_ENCRYPTION,
        title: "API Gateway stage cache data is encrypted",
        service: "apigateway",
        clauses: &[
            "Annex 11 §7.1 (data storage)",
            "Annex 11 §12 (security)",
            "21 CFR 11.10(c)",
        ],
        cross_references: &[
            "Security Hub APIGateway.5",
            "AWS Config api-gw-cache-enabled-and-encrypted",
        ],
        two_views: true,
        rationale: "Cached API responses are copies of GxP records held outside the system of record. \
            Annex 11 §7.1 requires data to be secured against damage and unauthorised access; an \
            unencrypted response cache stores record content in clear. Security Hub fails only methods \
            that cache without encryption; AWS Config also fails stages without an active, fully \
            encrypted cache. Both readings are reported so QA can state which one the validation plan uses.",
        remediation: "Encrypt the cache for every method, stage-wide and in each per-method override:\n\
            aws apigateway update-stage --rest-api-id API_ID --stage-name STAGE --patch-operations \
            op=replace,path=/*/*/caching/dataEncrypted,value=true\n\
            For a per-method override (resource path '/' written as '~1'):\n\
            aws apigateway update-stage --rest-api-id API_ID --stage-name STAGE --patch-operations \
            op=replace,path=/~1orders~1{id}/GET/caching/dataEncrypted,value=true\n\
            For the strict reading also enable the cluster and caching: \
            op=replace,path=/cacheClusterEnabled,value=true op=replace,path=/*/*/caching/enabled,value=true",
    },
    Control {
        id: APIGW_LOGGING,
        title: "API Gateway stage execution logging is enabled",
        service: "apigateway",
        clauses: &[
            "Annex 11 §9 (audit trails)",
            "Annex 11 §12.4 (security: record of access)",
        ],
        cross_references: &[
            "Security Hub APIGateway.1",
            "AWS Config api-gw-execution-logging-enabled",
        ],
        two_views: false,
        rationale: "Without execution logs there is no record of who called a GxP interface and what \
            happened. As both cited rules require, every stage logs at ERROR or INFO for all its methods \
            (per-method overrides count), and API Gateway can only write the logs when the region's \
            CloudWatch role is set. Access logging, X-Ray tracing, WAF, client certificates, full \
            request/response logging (dataTraceEnabled) and methods open without authorisation or API \
            key are listed as context for the reviewer.",
        remediation: "aws apigateway update-account --patch-operations \
            op=replace,path=/cloudwatchRoleArn,value=ROLE_ARN (once per region)\n\
            aws apigateway update-stage --rest-api-id API_ID --stage-name STAGE --patch-operations \
            op=replace,path=/*/*/logging/loglevel,value=ERROR\n\
            and the same for every per-method override that sets OFF",
    },
    Control {
        id: KMS_KEY_ROTATION,
        title: "KMS customer managed keys rotate within the policy period",
        service: "kms",
        clauses: &["Annex 11 §7.1 (data storage)", "Annex 11 §12 (security)"],
        cross_references: &[
            "Security Hub KMS.4",
            "AWS Config cmk-backing-key-rotation-enabled",
        ],
        two_views: false,
        rationale: "Regular rotation limits the amount of GxP data protected by one key version. \
            Enabled symmetric encryption keys with AWS_KMS key material in the default key store rotate \
            automatically; symmetric keys with imported (EXTERNAL) material rotate only on demand, so the \
            age of their key material is judged against the policy; a multi-Region replica rotates with \
            its primary key, which the result names. Keys whose material cannot rotate (asymmetric, HMAC, \
            custom key store) are listed as not applicable with the reason and the manual-rotation \
            evidence to attach, never dropped.",
        remediation: "aws kms enable-key-rotation --key-id KEY_ID --rotation-period-in-days 365\n\
            (the period must not exceed the policy's max_rotation_days; for a multi-Region replica run it \
            on the primary key named in the result, in the primary's region)\n\
            Imported key material: import new material with ImportType NEW_KEY_MATERIAL, then \
            aws kms rotate-key-on-demand --key-id KEY_ID; attach ListKeyRotations \
            (--include-key-material ALL_KEY_MATERIAL) and the ImportKeyMaterial / RotateKeyOnDemand events.\n\
            Asymmetric, HMAC and custom key store keys: create a new key, move the alias to it and attach \
            the CreateKey and UpdateAlias events.",
    },
    Control {
        id: KMS_KEY_DELETION,
        title: "KMS keys are not scheduled for deletion and their imported key material does not expire",
        service: "kms",
        clauses: &[
            "Annex 11 §7.1 (data storage: data remains readable)",
            "Annex 11 §17 (archiving: accessibility and readability)",
            "21 CFR 11.10(c)",
        ],
        cross_references: &[
            "Security Hub KMS.3",
            "AWS Config kms-cmk-not-scheduled-for-deletion",
        ],
        two_views: false,
        rationale: "Data encrypted under a deleted KMS key cannot be decrypted again, so GxP records \
            protected by a key scheduled for deletion are about to become unreadable. Imported key \
            material that expires makes the key unusable the same way until the material is re-imported; \
            material that expires within the period or before the end of the next report's period (one \
            period length after this one) fails with its date. A multi-Region primary waiting for its \
            replicas to be deleted (PendingReplicaDeletion) is scheduled for deletion too.",
        remediation: "If the key is still needed: aws kms cancel-key-deletion --key-id KEY_ID, then \
            aws kms enable-key (cancelling leaves the key disabled). Restrict kms:ScheduleKeyDeletion and \
            document every intended deletion in a change record that shows no data still depends on the key.\n\
            Expiring imported material: re-import the same key material with a later ValidTo or with \
            --expiration-model KEY_MATERIAL_DOES_NOT_EXPIRE before it expires.",
    },
    Control {
        id: CLOUDTRAIL_MULTI_REGION,
        title: "A multi-region CloudTrail trail logs read and write management events",
        service: "cloudtrail",
        clauses: &["Annex 11 §9 (audit trails)", "21 CFR 11.10(e)"],
        cross_references: &[
            "Security Hub CloudTrail.1",
            "AWS Config multi-region-cloudtrail-enabled",
        ],
        two_views: false,
        rationale: "The trail is the audit trail of every configuration change to the system's AWS \
            resources. It must cover all regions, record both read and write management events and be \
            logging. A trail that excludes kms.amazonaws.com events misses key changes.",
        remediation: "aws cloudtrail update-trail --name TRAIL --is-multi-region-trail\n\
            aws cloudtrail put-event-selectors --trail-name TRAIL --event-selectors \
            '[{\"ReadWriteType\":\"All\",\"IncludeManagementEvents\":true}]'\n\
            aws cloudtrail start-logging --name TRAIL",
    },
    Control {
        id: CLOUDTRAIL_ENCRYPTION,
        title: "CloudTrail log files are encrypted with KMS",
        service: "cloudtrail",
        clauses: &["Annex 11 §7.1 (data storage)", "Annex 11 §9 (audit trails)"],
        cross_references: &[
            "Security Hub CloudTrail.2",
            "AWS Config cloud-trail-encryption-enabled",
        ],
        two_views: false,
        rationale: "Audit trail records must be protected against unauthorised access.",
        remediation: "aws cloudtrail update-trail --name TRAIL --kms-key-id KEY_ARN",
    },
    Control {
        id: CLOUDTRAIL_LOG_VALIDATION,
        title: "CloudTrail log file validation is enabled",
        service: "cloudtrail",
        clauses: &["Annex 11 §9 (audit trails)", "21 CFR 11.10(e)"],
        cross_references: &[
            "Security Hub CloudTrail.4",
            "AWS Config cloud-trail-log-file-validation-enabled",
        ],
        two_views: false,
        rationale: "Digest files make any later change or deletion of a log file detectable, which is \
            what makes the trail trustworthy as an audit trail.",
        remediation: "aws cloudtrail update-trail --name TRAIL --enable-log-file-validation",
    },
    Control {
        id: CLOUDTRAIL_CONTINUITY,
        title: "CloudTrail logging was continuous during the period",
        service: "cloudtrail",
        clauses: &["Annex 11 §9 (audit trails)"],
        cross_references: &["StopLogging / DeleteTrail events of the period"],
        two_views: false,
        rationale: "Changes made while a trail was stopped are not in the audit trail. Each logging gap \
            is reported with its start, end and the people who stopped and restarted logging.",
        remediation: "Restrict cloudtrail:StopLogging and cloudtrail:DeleteTrail (e.g. an SCP), document \
            each gap in a deviation and review the changes made during it from other sources.",
    },
    Control {
        id: CLOUDTRAIL_S3_DATA_EVENTS,
        title: "A trail logs the read and write data events of the S3 buckets holding GxP records",
        service: "cloudtrail",
        clauses: &[
            "Annex 11 §9 (audit trails)",
            "Annex 11 §12.4 (security: record of access)",
            "21 CFR 11.10(e)",
        ],
        cross_references: &[
            "AWS Config cloudtrail-s3-dataevents-enabled (S3BucketNames)",
            "Security Hub S3.22 (write data events)",
            "Security Hub S3.23 (read data events)",
        ],
        two_views: false,
        rationale: "Management events say who changed a bucket's settings, not who read, wrote or \
            deleted the GxP records in it; only S3 data events do. For each bucket the policy lists \
            (gxp_buckets), the account that owns it (by its ListBuckets) must have, at every moment of \
            the period, a logging trail (its own or an organization trail) covering the bucket's region \
            whose classic or advanced event selectors select every object of the bucket for read and for \
            write events. Selectors limited to a prefix, to some event names or other fields log the \
            bucket only in part and fail; a bucket no account of the scope owns is an evidence gap.",
        remediation: "Add an advanced event selector for the bucket to a multi-region trail of the owner \
            account (put-event-selectors replaces all selectors: carry the existing ones over):\n\
            aws cloudtrail put-event-selectors --trail-name TRAIL --advanced-event-selectors \
            '[{\"FieldSelectors\":[{\"Field\":\"eventCategory\",\"Equals\":[\"Management\"]}]},\
            {\"FieldSelectors\":[{\"Field\":\"eventCategory\",\"Equals\":[\"Data\"]},\
            {\"Field\":\"resources.type\",\"Equals\":[\"AWS::S3::Object\"]},\
            {\"Field\":\"resources.ARN\",\"StartsWith\":[\"arn:aws:s3:::BUCKET/\"]}]}]'",
    },
    Control {
        id: CHANGE_CONTROL,
        title: "Security-weakening changes are under documented change control",
        service: "apigateway, kms, cloudtrail, elasticache, s3",
        clauses: &[
            "Annex 11 §10 (change and configuration management)",
            "Annex 11 §9 (audit trails)",
        ],
        cross_references: &["CloudTrail management events of the period"],
        two_views: false,
        rationale: "Every change that weakens encryption, key rotation, access control or the audit trail \
            (its trail, its S3 bucket, the data events of the GxP buckets) is listed as a finding. Each \
            must be traceable to an approved change record; failed attempts are listed in the change \
            register but change nothing.",
        remediation: "Link each weakening change to its change record (or raise a deviation) and restore \
            the setting if the change was not approved.",
    },
    Control {
        id: KMS_KEY_EXPOSURE,
        title: "KMS customer managed key policies do not allow access to everyone",
        service: "kms",
        clauses: &[
            "Annex 11 §12 (security: access restricted to authorised persons)",
            "Annex 11 §7.1 (data storage: secured against unauthorised access)",
            "21 CFR 11.10(d)",
        ],
        cross_references: &[
            "Security Hub KMS.5",
            "AWS Config kms-key-policy-no-public-access",
        ],
        two_views: false,
        rationale: "A key policy statement that allows everyone (Principal \"*\", {\"AWS\": \"*\"}, or \
            Allow with NotPrincipal) lets principals of every AWS account use the key, e.g. decrypt the GxP \
            records it protects, unless a condition limits the callers to named accounts, organizations or \
            principals (kms:CallerAccount, aws:PrincipalAccount, aws:PrincipalOrgID, aws:PrincipalArn, \
            aws:SourceAccount, aws:SourceArn, aws:SourceOwner, with a positive operator and fixed values). \
            The result quotes each open statement. AWS managed keys have policies set by AWS and are \
            listed as not applicable. A policy opened at any time of the period fails for that interval \
            even when it was closed again before collection (Prowler kms_key_not_publicly_accessible is \
            the peer check).",
        remediation: "Remove the open statement or add a condition that limits it to known callers, e.g. \
            \"Condition\": {\"StringEquals\": {\"kms:CallerAccount\": \"ACCOUNT_ID\"}}:\n\
            aws kms get-key-policy --key-id KEY_ID --policy-name default --query Policy --output text > policy.json\n\
            (edit policy.json)\n\
            aws kms put-key-policy --key-id KEY_ID --policy-name default --policy file://policy.json\n\
            Then review CloudTrail for use of the key by other accounts while it was open.",
    },
    Control {
        id: APIGW_V2_ACCESS_LOGGING,
        title: "API Gateway v2 (HTTP and WebSocket API) stages write access logs",
        service: "apigatewayv2",
        clauses: &[
            "Annex 11 §9 (audit trails)",
            "Annex 11 §12.4 (security: record of access)",
        ],
        cross_references: &[
            "Security Hub APIGateway.9",
            "AWS Config api-gwv2-access-logs-enabled",
        ],
        two_views: false,
        rationale: "HTTP APIs have no execution logging, so a stage's access log is the only record of \
            who called a GxP interface, when, and with what result. As both cited rules, every stage of \
            every HTTP and WebSocket API must have access log settings; the tool reads them as the \
            destination the settings name (a log group or Firehose stream). A stage without them at any \
            time of the period fails for that interval.",
        remediation: "aws apigatewayv2 update-stage --api-id API_ID --stage-name STAGE --access-log-settings \
            'DestinationArn=LOG_GROUP_ARN,Format=$context.requestId $context.identity.sourceIp \
            $context.requestTime $context.routeKey $context.status'\n\
            (the format must include $context.requestId; a stage without auto-deploy needs a new deployment)",
    },
    Control {
        id: APIGW_V2_ROUTE_AUTHORIZATION,
        title: "API Gateway v2 (HTTP and WebSocket API) routes specify an authorization type",
        service: "apigatewayv2",
        clauses: &[
            "Annex 11 §12 (security: access restricted to authorised persons)",
            "Annex 11 §12.4 (security: record of access)",
            "21 CFR 11.10(d)",
        ],
        cross_references: &[
            "Security Hub APIGateway.8",
            "AWS Config api-gwv2-authorization-type-configured",
        ],
        two_views: false,
        rationale: "A route with authorization type NONE lets anyone who can reach the API call it, so \
            the caller is neither restricted nor identified. As both cited rules (without their optional \
            authorizationType parameter), a route fails with NONE and passes with AWS_IAM, CUSTOM or \
            JWT; an API key is not authorization. A WebSocket API authorizes connections on its $connect \
            route only, so its other routes are not applicable while it has one, and fail when it has none.",
        remediation: "aws apigatewayv2 update-route --api-id API_ID --route-id ROUTE_ID \
            --authorization-type AWS_IAM (or CUSTOM / JWT with --authorizer-id AUTHORIZER_ID), then deploy \
            the API unless its stage deploys automatically. A WebSocket API without $connect: \
            aws apigatewayv2 create-route --api-id API_ID --route-key '$connect' --authorization-type AWS_IAM",
    },
    Control {
        id: ELASTICACHE_ENCRYPTION_AT_REST,
        title: "ElastiCache replication groups are encrypted at rest",
        service: "elasticache",
        clauses: &[
            "Annex 11 §7.1 (data storage: secured against unauthorised access)",
            "Annex 11 §12 (security)",
            "21 CFR 11.10(c)",
        ],
        cross_references: &[
            "Security Hub ElastiCache.4",
            "AWS Config elasticache-repl-grp-encrypted-at-rest",
        ],
        two_views: false,
        rationale: "A Valkey or Redis OSS replication group that caches GxP records writes them to \
            disk during sync, backup and swap, and its backups are stored in S3; without encryption at \
            rest those copies are in clear. As both cited rules do, a replication group passes when \
            AtRestEncryptionEnabled is true; the KMS key (customer managed, or the ElastiCache service \
            managed default), in-transit encryption and AUTH / RBAC are shown beside it for the reviewer, \
            not judged. The flag is set when the group is created and cannot be changed, so a group \
            created unencrypted during the period fails from its creation; a group deleted before \
            collection that existed before the period cannot be judged. Memcached clusters and \
            serverless caches are not replication groups and are not in scope.",
        remediation: "Encryption at rest cannot be switched on for an existing replication group, for any \
            engine or version: back the group up, create a new replication group from the backup with \
            encryption at rest (and, preferably, a customer managed key), move the clients, then delete \
            the old group:\n\
            aws elasticache create-snapshot --replication-group-id GROUP --snapshot-name GROUP-pre-encryption\n\
            aws elasticache create-replication-group --replication-group-id GROUP-encrypted \
            --replication-group-description DESCRIPTION --snapshot-name GROUP-pre-encryption \
            --at-rest-encryption-enabled --kms-key-id KEY_ARN (plus the node type, engine, subnet \
            group and security groups of the old group)\n\
            aws elasticache delete-replication-group --replication-group-id GROUP (after the move, \
            under change control)",
    },
    Control {
        id: CLOUDTRAIL_BUCKET_PROTECTION,
        title: "The S3 buckets of the audit trail are not public, are access-logged and keep their log files",
        service: "s3",
        clauses: &[
            "Annex 11 §9 (audit trails)",
            "Annex 11 §7.1 (data storage: secured against damage and unauthorised access)",
            "Annex 11 §12 (security)",
            "21 CFR 11.10(c), 11.10(e)",
        ],
        cross_references: &[
            "Security Hub CloudTrail.6",
            "Security Hub CloudTrail.7",
            "AWS Config cloudtrail-s3-bucket-public-access-prohibited",
            "AWS Config s3-bucket-logging-enabled (on the trail buckets)",
        ],
        two_views: false,
        rationale: "The audit trail is only as trustworthy as the bucket that keeps it. For each bucket \
            a counted trail delivers to: not public (a bucket policy statement open to everyone without a \
            limiting condition, unless RestrictPublicBuckets is on at bucket or account level; an ACL grant \
            to AllUsers or AuthenticatedUsers, unless IgnorePublicAcls is on), server access logging on \
            (who read or deleted log files), log files kept from deletion (Object Lock with a default \
            retention, or MFA delete), and no lifecycle rule that expires the trail's log files before the \
            minimum log retention. Each failing aspect is named; a bucket whose settings cannot be read \
            (another account's central logging bucket) is an evidence gap. A setting changed during the \
            period fails for the interval it did not hold (Prowler's cloudtrail bucket checks are peers).",
        remediation: "aws s3api put-public-access-block --bucket BUCKET --public-access-block-configuration \
            BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true\n\
            aws s3api put-bucket-logging --bucket BUCKET --bucket-logging-status \
            '{\"LoggingEnabled\":{\"TargetBucket\":\"LOG_BUCKET\",\"TargetPrefix\":\"BUCKET/\"}}'\n\
            aws s3api put-object-lock-configuration --bucket BUCKET --object-lock-configuration \
            '{\"ObjectLockEnabled\":\"Enabled\",\"Rule\":{\"DefaultRetention\":{\"Mode\":\"GOVERNANCE\",\"Days\":365}}}'\n\
            Then shorten no lifecycle expiration below the retention (aws s3api get-bucket-lifecycle-configuration).",
    },
    Control {
        id: CLOUDTRAIL_CLOUDWATCH_LOGS,
        title: "CloudTrail trails deliver to a retained, KMS-encrypted CloudWatch Logs group",
        service: "cloudtrail",
        clauses: &[
            "Annex 11 §9 (audit trails)",
            "Annex 11 §7.1 (data storage: secured against damage and unauthorised access)",
            "Annex 11 §12.4 (security: record of access)",
            "21 CFR 11.10(e)",
        ],
        cross_references: &[
            "Security Hub CloudTrail.5",
            "AWS Config cloud-trail-cloud-watch-logs-enabled (expectedDeliveryWindowAge)",
            "AWS Config cw-loggroup-retention-period-check (Security Hub CloudWatch.16)",
            "AWS Config cloudwatch-log-group-encrypted",
        ],
        two_views: true,
        rationale: "A second, independently retained copy of the audit trail in CloudWatch Logs is \
            where changes are alerted on and searched; it must exist for the whole period, keep its \
            events at least as long as the policy's minimum log retention and be encrypted with a KMS \
            key. Security Hub (CloudTrail.5) fails only a trail that names no log group; the AWS \
            Config reading also fails a log group that is missing, kept shorter than the minimum \
            retention or not encrypted with a KMS key, a trail that was not logging, and a trail \
            whose most recent delivery to the group is older than the policy's maximum delivery age \
            or failed. Both readings are reported, per trail, over the period: the trail's log group \
            and logging and the group's settings are replayed from their change events.",
        remediation: "aws logs create-log-group --log-group-name CloudTrail/TRAIL --kms-key-id KMS_KEY_ARN\n\
            aws logs put-retention-policy --log-group-name CloudTrail/TRAIL --retention-in-days DAYS \
            (at least the policy's minimum log retention)\n\
            aws cloudtrail update-trail --name TRAIL --cloud-watch-logs-log-group-arn LOG_GROUP_ARN \
            --cloud-watch-logs-role-arn ROLE_ARN (a role CloudTrail can assume, allowed \
            logs:CreateLogStream and logs:PutLogEvents on the group)",
    },
    Control {
        id: CLOUDTRAIL_LOG_INTEGRITY,
        title: "CloudTrail log files of the period are complete and unaltered (digest chain validated)",
        service: "cloudtrail",
        clauses: &[
            "Annex 11 §9 (audit trails)",
            "Annex 11 §7.1 (data storage: data integrity)",
            "21 CFR 11.10(e)",
        ],
        cross_references: &[
            "Security Hub CloudTrail.4 and AWS Config cloud-trail-log-file-validation-enabled judge \
             the setting (control cloudtrail-log-validation); this control validates the files",
        ],
        two_views: false,
        rationale: "The trail's log files are the audit trail the change register is built from; \
            CloudTrail's hourly digest files, signed with CloudTrail's key and chained to each other, \
            are the only proof that those files are complete and unaltered. Per trail and \
            account-region the digest chain of the whole period is validated offline with the \
            algorithm of aws cloudtrail validate-logs: every digest's SHA256withRSA signature with \
            CloudTrail's public key of its time (ListPublicKeys), the chain unbroken, every hour \
            covered by a digest, every listed log file present with its recorded SHA-256, and no \
            unlisted log file. Any finding fails the trail, naming the hours it concerns; a chain \
            that was not validated (events from LookupEvents, validation disabled, no digest files, \
            ListPublicKeys or the bucket unreadable) is an evidence gap, never a pass. The digests \
            and keys are kept in the snapshot so verify re-checks every signature offline.",
        remediation: "Find out what happened to the files of the hours named (S3 server access \
            logs or CloudTrail data events of the bucket, the bucket's versioning history): \
            restore altered or deleted objects from their previous versions, and record the \
            incident in the change record system.\n\
            aws cloudtrail validate-logs --trail-arn TRAIL_ARN --start-time START --end-time END \
            --verbose (for the hours named)\n\
            Protect the bucket: versioning and S3 Object Lock (control cloudtrail-bucket-protection); \
            keep log file validation on: aws cloudtrail update-trail --name TRAIL_ARN \
            --enable-log-file-validation",
    },
];

pub fn find(id: &str) -> Option<&'static Control> {
    CATALOG.iter().find(|control| control.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_every_control_is_documented() {
        let mut ids: Vec<&str> = CATALOG.iter().map(|c| c.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), CATALOG.len());
        for control in CATALOG {
            assert!(!control.clauses.is_empty(), "{}", control.id);
            assert!(
                control.clauses.iter().any(|c| c.starts_with("Annex 11")),
                "{}",
                control.id
            );
            assert!(!control.rationale.is_empty() && !control.remediation.is_empty());
        }
    }
}
