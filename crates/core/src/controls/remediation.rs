//! The fix of a FAIL finding: AWS CLI commands with the finding's own identifiers filled in
//! (account, region, API and stage, key ARN, trail ARN, replication group), their prerequisites
//! and warnings.
//! Every command skeleton lives here once; the rule modules (`apigateway`, `kms`,
//! `cloudtrail`, `changes`) decide which fix a FAIL needs and call these builders.
//!
//! Commands follow the AWS CLI reference of each operation; each names `--region`, because a
//! command run in the shell's default region would change (or fail on) another resource.

use std::fmt;

use super::ChangeRow;

/// One `aws` command line. Arguments keep their order; values a shell would expand (`*`,
/// `{id}`, `~`) are single-quoted so that the line can be pasted as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsCommand {
    words: Vec<String>,
}

impl AwsCommand {
    pub fn new(service: &str, operation: &str) -> Self {
        AwsCommand {
            words: vec!["aws".into(), service.into(), operation.into()],
        }
    }

    pub fn arg(mut self, name: &str, value: &str) -> Self {
        self.words.push(name.to_string());
        self.words.push(shell_word(value));
        self
    }

    pub fn flag(mut self, name: &str) -> Self {
        self.words.push(name.to_string());
        self
    }

    /// `--patch-operations` with `op=replace` operations, in order (API Gateway PATCH).
    pub fn replace_patches(mut self, patches: &[Patch]) -> Self {
        if patches.is_empty() {
            return self;
        }
        self.words.push("--patch-operations".to_string());
        for patch in patches {
            self.words.push(shell_word(&format!(
                "op=replace,path={},value={}",
                patch.path, patch.value
            )));
        }
        self
    }
}

impl fmt::Display for AwsCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.words.join(" "))
    }
}

/// A value as one shell word: quoted when it holds a character the shell would interpret.
fn shell_word(value: &str) -> String {
    const SPECIAL: &[char] = &[
        '*', '?', '[', ']', '{', '}', '~', '$', '`', '"', '\\', ' ', ';', '&', '|', '<', '>', '(',
        ')', '!', '#',
    ];
    if value.contains(SPECIAL) {
        format!("'{}'", value.replace('\'', r"'\''"))
    } else {
        value.to_string()
    }
}

/// One API Gateway `op=replace` patch operation.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Patch {
    pub path: String,
    pub value: String,
}

impl Patch {
    pub fn new(path: impl Into<String>, value: impl Into<String>) -> Self {
        Patch {
            path: path.into(),
            value: value.into(),
        }
    }
}

/// Patches, each once, in the order first asked for.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Patches(Vec<Patch>);

impl Patches {
    pub fn push(&mut self, patch: Patch) {
        if !self.0.contains(&patch) {
            self.0.push(patch);
        }
    }
    pub fn extend(&mut self, other: &Patches) {
        for patch in &other.0 {
            self.push(patch.clone());
        }
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The stage-wide `methodSettings` key.
pub const STAGE_WIDE: &str = "*/*";

/// The UpdateStage patch path of one method setting: `/*/*/caching/dataEncrypted` for the
/// stage-wide entry, `/~1samples~1{sampleId}/GET/caching/dataEncrypted` for a method (the
/// `methodSettings` key, in which `/` of the resource path is written `~1`).
pub fn method_setting_path(settings_key: &str, setting: &str) -> String {
    format!("/{settings_key}/{setting}")
}

/// API Gateway `update-stage` on one stage.
pub fn apigateway_update_stage(
    api_id: &str,
    stage: &str,
    region: &str,
    patches: &Patches,
) -> AwsCommand {
    AwsCommand::new("apigateway", "update-stage")
        .arg("--rest-api-id", api_id)
        .arg("--stage-name", stage)
        .arg("--region", region)
        .replace_patches(&patches.0)
}

/// API Gateway writes execution logs only with a CloudWatch Logs role set for the account in
/// the region (GetAccount `cloudwatchRoleArn`); the role ARN is the operator's to choose.
pub fn apigateway_cloudwatch_role(region: &str) -> String {
    let command = AwsCommand::new("apigateway", "update-account")
        .arg("--region", region)
        .replace_patches(&[Patch::new("/cloudwatchRoleArn", "<role-arn>")]);
    format!(
        "Prerequisite (once per account and region): a CloudWatch Logs role for API Gateway \
         (trusting apigateway.amazonaws.com, with AmazonAPIGatewayPushToCloudWatchLogs): \
         {command}"
    )
}

/// `apigw-v2-access-logging`: the stage writes access logs to a CloudWatch Logs log group
/// (API Gateway v2 UpdateStage `accessLogSettings`; the format must include
/// `$context.requestId`). The log group is the operator's to choose.
pub fn apigatewayv2_access_logging(api_id: &str, stage: &str, region: &str) -> String {
    let command = AwsCommand::new("apigatewayv2", "update-stage")
        .arg("--api-id", api_id)
        .arg("--stage-name", stage)
        .arg("--region", region)
        .arg(
            "--access-log-settings",
            "DestinationArn=<log-group-arn>,Format=$context.requestId $context.identity.sourceIp \
             $context.requestTime $context.routeKey $context.status",
        );
    format!("{command} (an HTTP API stage without auto-deploy also needs a new deployment)")
}

/// `apigw-v2-route-authorization`: the route requires IAM, a Lambda authorizer or (HTTP APIs)
/// a JWT authorizer; which one is the system's design decision.
pub fn apigatewayv2_route_authorization(api_id: &str, route_id: &str, region: &str) -> String {
    let command = AwsCommand::new("apigatewayv2", "update-route")
        .arg("--api-id", api_id)
        .arg("--route-id", route_id)
        .arg("--region", region)
        .arg("--authorization-type", "AWS_IAM");
    format!(
        "{command} (or CUSTOM or JWT with --authorizer-id <authorizer-id>); then deploy the API \
         unless its stage deploys automatically"
    )
}

/// `apigw-v2-route-authorization` for a WebSocket API without `$connect`: authorization is
/// configured on a `$connect` route, which has to be created.
pub fn apigatewayv2_connect_route(api_id: &str, region: &str) -> String {
    let command = AwsCommand::new("apigatewayv2", "create-route")
        .arg("--api-id", api_id)
        .arg("--route-key", "$connect")
        .arg("--region", region)
        .arg("--authorization-type", "AWS_IAM");
    format!("{command} (or CUSTOM with --authorizer-id <authorizer-id>); then deploy the API")
}

/// `aws kms <operation> --key-id <key> …` in the key's region.
pub fn kms(operation: &str, key_arn: &str, region: &str) -> AwsCommand {
    AwsCommand::new("kms", operation)
        .arg("--key-id", key_arn)
        .arg("--region", region)
}

/// KMS accepts rotation periods of 90 to 2560 days (EnableKeyRotation).
pub fn kms_enable_rotation(key_arn: &str, region: &str, max_days: u32) -> String {
    kms("enable-key-rotation", key_arn, region)
        .arg(
            "--rotation-period-in-days",
            &max_days.clamp(90, 2560).to_string(),
        )
        .to_string()
}

/// Cancelling a deletion leaves the key disabled (KMS developer guide, "Deleting keys").
pub fn kms_cancel_deletion(key_arn: &str, region: &str) -> String {
    format!(
        "If the key is still needed: {}, then {} (cancelling leaves the key disabled). If the \
         deletion is intended, record it in change control with the evidence that no data still \
         depends on the key",
        kms("cancel-key-deletion", key_arn, region),
        kms("enable-key", key_arn, region)
    )
}

/// Wrapping the key material is done offline with the public key GetParametersForImport returns.
fn kms_import_parameters(key_arn: &str, region: &str) -> String {
    format!(
        "Prerequisite: {} (wrap the key material offline with the public key it returns, into \
         EncryptedKeyMaterial.bin; keep ImportToken.bin)",
        kms("get-parameters-for-import", key_arn, region)
            .arg("--wrapping-algorithm", "RSAES_OAEP_SHA_256")
            .arg("--wrapping-key-spec", "RSA_4096")
    )
}

fn kms_import(key_arn: &str, region: &str, new_material: bool) -> AwsCommand {
    let command = kms("import-key-material", key_arn, region);
    let command = if new_material {
        command.arg("--import-type", "NEW_KEY_MATERIAL")
    } else {
        command
    };
    command
        .arg(
            "--encrypted-key-material",
            "fileb://EncryptedKeyMaterial.bin",
        )
        .arg("--import-token", "fileb://ImportToken.bin")
        .arg("--expiration-model", "KEY_MATERIAL_DOES_NOT_EXPIRE")
}

/// Imported key material rotates only on demand, after new material is imported.
pub fn kms_rotate_imported(key_arn: &str, region: &str) -> String {
    format!(
        "{}; then {}, then {}",
        kms_import_parameters(key_arn, region),
        kms_import(key_arn, region, true),
        kms("rotate-key-on-demand", key_arn, region)
    )
}

/// Expiring imported material: a KMS key accepts only the material it had, so the same
/// material is re-imported, now without expiry.
pub fn kms_reimport_without_expiry(key_arn: &str, region: &str) -> String {
    format!(
        "Re-import the same key material without expiry. {}; then {}",
        kms_import_parameters(key_arn, region),
        kms_import(key_arn, region, false)
    )
}

/// `kms-key-exposure`: the open statements are edited out of the key policy, or limited to the
/// key's account; then the key's use by others while it was open is reviewed (Annex 11 §12).
pub fn kms_close_key_policy(
    key_arn: &str,
    region: &str,
    account_id: &str,
    open: &[String],
) -> String {
    let get = kms("get-key-policy", key_arn, region)
        .arg("--policy-name", "default")
        .arg("--query", "Policy")
        .arg("--output", "text");
    let put = kms("put-key-policy", key_arn, region)
        .arg("--policy-name", "default")
        .arg("--policy", "file://policy.json");
    format!(
        "{get} > policy.json; in policy.json remove {} or add \"Condition\": {{\"StringEquals\": \
         {{\"kms:CallerAccount\": \"{account_id}\"}}}} to it; then {put}. Review the key's CloudTrail \
         events from other accounts while it was open",
        open.join(", ")
    )
}

/// `elasticache-encryption-at-rest`: encryption at rest cannot be switched on for an existing
/// replication group (ModifyReplicationGroup has no such parameter; ElastiCache user guide,
/// "At-Rest Encryption in ElastiCache"), so the documented way is a backup restored into a new,
/// encrypted group, the clients moved, then the old group deleted.
pub fn elasticache_encrypted_copy(group_id: &str, region: &str) -> String {
    let backup = format!("{group_id}-before-encryption");
    let snapshot = AwsCommand::new("elasticache", "create-snapshot")
        .arg("--replication-group-id", group_id)
        .arg("--snapshot-name", &backup)
        .arg("--region", region);
    let create = AwsCommand::new("elasticache", "create-replication-group")
        .arg("--replication-group-id", &format!("{group_id}-encrypted"))
        .arg("--replication-group-description", "<description>")
        .arg("--snapshot-name", &backup)
        .flag("--at-rest-encryption-enabled")
        .arg("--kms-key-id", "<customer-managed-key-arn>")
        .arg("--region", region);
    let delete = AwsCommand::new("elasticache", "delete-replication-group")
        .arg("--replication-group-id", group_id)
        .arg("--region", region);
    format!(
        "Encryption at rest cannot be enabled on an existing replication group: {snapshot}; then \
         {create} (with the old group's node type, engine version, subnet group and security \
         groups); move the clients to the new group's endpoint, then, under change control, {delete}"
    )
}

/// `aws s3api <operation> --bucket <bucket> --region <region>`.
pub fn s3api(operation: &str, bucket: &str, region: &str) -> AwsCommand {
    AwsCommand::new("s3api", operation)
        .arg("--bucket", bucket)
        .arg("--region", region)
}

/// `cloudtrail-bucket-protection`, public: all four Block Public Access flags on the bucket
/// make a public policy and public ACL grants ineffective (S3 user guide "Blocking public
/// access to your Amazon S3 storage"); the open statement or grant is then removed.
pub fn s3_block_public_access(bucket: &str, region: &str) -> String {
    let block = s3api("put-public-access-block", bucket, region).arg(
        "--public-access-block-configuration",
        "BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true",
    );
    format!(
        "{block}; then remove the open bucket policy statement or public ACL grant. CloudTrail \
         delivers through its service principal, which Block Public Access does not stop"
    )
}

/// `cloudtrail-bucket-protection`, CloudTrail.7: server access logging to another bucket.
pub fn s3_access_logging(bucket: &str, region: &str) -> String {
    s3api("put-bucket-logging", bucket, region)
        .arg(
            "--bucket-logging-status",
            &format!(
                "{{\"LoggingEnabled\":{{\"TargetBucket\":\"ACCESS_LOG_BUCKET\",\"TargetPrefix\":\"{bucket}/\"}}}}"
            ),
        )
        .to_string()
}

/// `cloudtrail-bucket-protection`, deletion: Object Lock with a default retention of at least
/// the log retention (Object Lock can be enabled on an existing versioned bucket).
pub fn s3_object_lock_retention(bucket: &str, region: &str, days: u32) -> String {
    let versioning = s3api("put-bucket-versioning", bucket, region)
        .arg("--versioning-configuration", "Status=Enabled");
    let lock = s3api("put-object-lock-configuration", bucket, region).arg(
        "--object-lock-configuration",
        &format!(
            "{{\"ObjectLockEnabled\":\"Enabled\",\"Rule\":{{\"DefaultRetention\":{{\"Mode\":\"GOVERNANCE\",\"Days\":{days}}}}}}}"
        ),
    );
    format!("{versioning}; {lock} (or enable MFA delete with the root user's MFA device)")
}

/// `cloudtrail-bucket-protection`, lifecycle: the expiring rule is lengthened or removed.
pub fn s3_lifecycle_review(bucket: &str, region: &str, days: u32) -> String {
    let get = s3api("get-bucket-lifecycle-configuration", bucket, region);
    let put = s3api("put-bucket-lifecycle-configuration", bucket, region)
        .arg("--lifecycle-configuration", "file://lifecycle.json");
    format!(
        "{get} > lifecycle.json; in lifecycle.json raise the expiration of the rules covering the \
         trail's AWSLogs/ prefix to at least {days} days (or remove them); then {put}"
    )
}

/// A multi-Region replica's rotation and material follow its primary: the fix runs there.
pub fn on_primary(primary_arn: &str, primary_region: &str, fix: &str) -> String {
    format!(
        "On the primary key {primary_arn} in {primary_region} (a replica follows its primary): {fix}"
    )
}

/// `aws cloudtrail <operation> --name <trail ARN> --region <home region>`.
pub fn cloudtrail(operation: &str, trail: &str, home_region: &str) -> AwsCommand {
    AwsCommand::new("cloudtrail", operation)
        .arg("--name", trail)
        .arg("--region", home_region)
}

/// The fix of a trail whose log files failed digest validation: find out and restore (S3
/// versioning), confirm with `validate-logs` over the hours named, keep validation on.
pub fn cloudtrail_log_integrity(
    trail_arn: &str,
    home_region: &str,
    hours: &str,
    span: crate::log_integrity::TimeRange,
) -> String {
    let time =
        |at: chrono::DateTime<chrono::Utc>| at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    format!(
        "Investigate the hours named ({hours}): the bucket's S3 server access logs or data \
         events and its object versions; restore altered or deleted log and digest files from \
         their previous versions and record the incident. Confirm with: {}\n\
         Protect the bucket with versioning and S3 Object Lock (cloudtrail-bucket-protection) and \
         keep log file validation on: {}",
        AwsCommand::new("cloudtrail", "validate-logs")
            .arg("--trail-arn", trail_arn)
            .arg("--start-time", &time(span.start))
            .arg("--end-time", &time(span.end))
            .arg("--region", home_region)
            .flag("--verbose"),
        cloudtrail("update-trail", trail_arn, home_region).flag("--enable-log-file-validation")
    )
}

/// Member accounts cannot change an organization trail (CloudTrail User Guide, "Creating a
/// trail for an organization"): the fix runs in the account that owns it.
pub fn in_owner_account(owner_account: &str, fix: &str) -> String {
    format!(
        "In the organization trail's owner account {owner_account} (the management account or \
         CloudTrail's delegated administrator; member accounts cannot change it): {fix}"
    )
}

/// The key policy statement CloudTrail needs before it can encrypt with a key (CloudTrail User
/// Guide, "Configure AWS KMS key policies for CloudTrail"): without it delivery stops.
pub fn cloudtrail_kms_encryption(trail_arn: &str, home_region: &str, account: &str) -> String {
    format!(
        "Prerequisite: a symmetric KMS key in {home_region} whose key policy lets CloudTrail use \
         it, keeping every existing statement: Allow Principal Service cloudtrail.amazonaws.com \
         Action kms:GenerateDataKey* with Condition StringEquals aws:SourceArn {trail_arn} and \
         StringLike kms:EncryptionContext:aws:cloudtrail:arn arn:aws:cloudtrail:*:{account}:trail/*, \
         and kms:DescribeKey for the same principal; readers of the logs need kms:Decrypt. \
         Then: {}",
        cloudtrail("update-trail", trail_arn, home_region).arg("--kms-key-id", "<key-arn>")
    )
}

/// A new trail that satisfies the CloudTrail controls at once; bucket and key are the
/// operator's to choose (the bucket policy must let CloudTrail write, the key policy as in
/// [`cloudtrail_kms_encryption`]).
pub fn cloudtrail_create_trail(region: &str) -> String {
    format!(
        "Prerequisite: an S3 bucket whose policy lets cloudtrail.amazonaws.com write, and a KMS \
         key whose policy lets it encrypt. Then: {}; then {}",
        AwsCommand::new("cloudtrail", "create-trail")
            .arg("--name", "<trail-name>")
            .arg("--s3-bucket-name", "<bucket>")
            .flag("--is-multi-region-trail")
            .flag("--enable-log-file-validation")
            .arg("--kms-key-id", "<key-arn>")
            .arg("--region", region),
        cloudtrail("start-logging", "<trail-name>", region)
    )
}

/// PutEventSelectors replaces every selector of the trail, so data event selectors not
/// repeated in it are lost.
pub fn cloudtrail_all_management_events(trail_arn: &str, home_region: &str) -> String {
    format!(
        "Warning: put-event-selectors REPLACES all of the trail's selectors; run {} first and \
         carry its data event selectors over. Then: {}",
        AwsCommand::new("cloudtrail", "get-event-selectors")
            .arg("--trail-name", trail_arn)
            .arg("--region", home_region),
        AwsCommand::new("cloudtrail", "put-event-selectors")
            .arg("--trail-name", trail_arn)
            .arg("--region", home_region)
            .arg(
                "--event-selectors",
                r#"[{"ReadWriteType":"All","IncludeManagementEvents":true,"ExcludeManagementEventSources":[]}]"#
            )
    )
}

/// Logs every read and write data event of one GxP bucket on a trail, keeping its management
/// events; put-event-selectors replaces the trail's selectors, so others must be carried over.
pub fn s3_data_events(bucket: &str, trail_arn: &str, home_region: &str) -> String {
    let selectors = format!(
        r#"[{{"Name":"Management events","FieldSelectors":[{{"Field":"eventCategory","Equals":["Management"]}}]}},{{"Name":"GxP bucket {bucket}","FieldSelectors":[{{"Field":"eventCategory","Equals":["Data"]}},{{"Field":"resources.type","Equals":["AWS::S3::Object"]}},{{"Field":"resources.ARN","StartsWith":["arn:aws:s3:::{bucket}/"]}}]}}]"#
    );
    format!(
        "Warning: put-event-selectors REPLACES all of the trail's selectors; run {} first and \
         carry its other selectors over (as advanced selectors). Then, on a multi-region trail of \
         the bucket's owner account: {}",
        AwsCommand::new("cloudtrail", "get-event-selectors")
            .arg("--trail-name", trail_arn)
            .arg("--region", home_region),
        AwsCommand::new("cloudtrail", "put-event-selectors")
            .arg("--trail-name", trail_arn)
            .arg("--region", home_region)
            .arg("--advanced-event-selectors", &selectors)
    )
}

/// The strict reading's note for write methods it fails because they are not cached.
pub fn write_methods_left_uncached(api_id: &str, stage: &str, methods: &str) -> String {
    format!(
        "Not proposed: caching for the write methods {methods} of REST API {api_id} stage \
         {stage}. A cached response to a write \
         would answer later requests without reaching the backend; record a justified \
         exception for them in the validation file, or judge the stage by the Security Hub \
         reading (report --verdict-reading lenient)."
    )
}

/// Text for a FAIL whose failing state ended before collection: there is nothing to run, but
/// the interval is a deviation to record (Annex 11 §13).
pub fn corrected_before_collection(resource: &str) -> String {
    format!(
        "No command to run: {resource} passes as collected (corrected before collection). \
         Record the failing interval(s) as a deviation in the quality system"
    )
}

/// A weakening change without a change record (Annex 11 §10): either its record is made, or
/// the change is undone.
pub fn change_control(revert: &str) -> String {
    format!("Record the change in change control or revert: {revert}")
}

/// [`change_control`] for one applied weakening change, with the call that undoes it.
pub fn change_control_fix(change: &ChangeRow, max_rotation_days: u32) -> String {
    change_control(&revert(change, max_rotation_days))
}

/// The call that undoes a weakening change, from its event and request. A value the event does
/// not hold (the previous policy, authorization type or deployment) is a `<placeholder>`.
fn revert(change: &ChangeRow, max_rotation_days: u32) -> String {
    let region = change.region.as_str();
    let target = change.resource.as_str();
    let words: Vec<&str> = target.split_whitespace().collect();
    match (change.event_name.as_str(), words.as_slice()) {
        ("DisableKeyRotation" | "EnableKeyRotation", _) => {
            kms_enable_rotation(target, region, max_rotation_days)
        }
        ("DisableKey", _) => kms("enable-key", target, region).to_string(),
        ("ScheduleKeyDeletion", _) => kms_cancel_deletion(target, region),
        ("PutKeyPolicy", _) => format!(
            "{} (the policy in force before the change)",
            kms("put-key-policy", target, region)
                .arg("--policy-name", "default")
                .arg("--policy", "file://previous-key-policy.json")
        ),
        ("StopLogging", _) => cloudtrail("start-logging", target, region).to_string(),
        ("UpdateTrail", _) => update_trail_revert(change),
        ("PutEventSelectors", _) => cloudtrail_all_management_events(target, region),
        ("UpdateStage", ["restapi", api, "stage", stage]) => {
            let patches = stage_patch_reverts(&change.request_summary);
            if patches.is_empty() {
                format!("the inverse UpdateStage of {api} stage {stage} in {region}")
            } else {
                apigateway_update_stage(api, stage, region, &patches).to_string()
            }
        }
        ("UpdateMethod", ["restapi", api, "resource", resource, method])
        | ("UpdateMethod", ["restapi", api, method, _, "(resource", resource]) => {
            let resource = resource.trim_end_matches(')');
            AwsCommand::new("apigateway", "update-method")
                .arg("--rest-api-id", api)
                .arg("--resource-id", resource)
                .arg("--http-method", method)
                .arg("--region", region)
                .replace_patches(&[Patch::new("/authorizationType", "<previous-type>")])
                .to_string()
        }
        ("DeleteStage", ["restapi", api, "stage", stage]) => {
            AwsCommand::new("apigateway", "create-stage")
                .arg("--rest-api-id", api)
                .arg("--stage-name", stage)
                .arg("--deployment-id", "<deployment-id>")
                .arg("--region", region)
                .to_string()
        }
        // CloudWatch Logs: the log group's retention and key (the previous retention is not in
        // the event: the policy's minimum is the floor).
        ("PutRetentionPolicy", [group]) => format!(
            "aws logs put-retention-policy --region {region} --log-group-name {group} \
             --retention-in-days <previous-days> (or aws logs delete-retention-policy: never expire)"
        ),
        ("DisassociateKmsKey", [group]) => format!(
            "aws logs associate-kms-key --region {region} --log-group-name {group} --kms-key-id <previous-key-arn>"
        ),
        ("DeleteLogGroup", [group]) => format!(
            "aws logs create-log-group --region {region} --log-group-name {group} --kms-key-id KMS_KEY_ARN \
             (the deleted events cannot be restored: record their loss as a deviation)"
        ),
        (name, _) => format!("the call that undoes {name} on {target} in {region}"),
    }
}

/// The patches that undo the weakening operations of an UpdateStage request summary
/// (`replace /*/*/caching/dataEncrypted=false; …`, as the change register writes it).
fn stage_patch_reverts(summary: &str) -> Patches {
    let mut patches = Patches::default();
    for operation in summary.split("; ") {
        let Some((_, assignment)) = operation.split_once(' ') else {
            continue;
        };
        let (path, value) = assignment.split_once('=').unwrap_or((assignment, ""));
        let undo = if path.ends_with("/caching/dataEncrypted") && value == "false" {
            Some(Patch::new(path, "true"))
        } else if path.ends_with("/caching/enabled") && value == "true" {
            // Caching switched on without encryption: encryption is what is missing.
            path.strip_suffix("/enabled")
                .map(|prefix| Patch::new(format!("{prefix}/dataEncrypted"), "true"))
        } else if path.ends_with("/logging/loglevel") && value == "OFF" {
            Some(Patch::new(path, "ERROR"))
        } else if path == "/cacheClusterEnabled" && value == "false" {
            Some(Patch::new(path, "true"))
        } else {
            None
        };
        if let Some(patch) = undo {
            patches.push(patch);
        }
    }
    patches
}

/// UpdateTrail's weakening parameters and the flags that undo them.
fn update_trail_revert(change: &ChangeRow) -> String {
    let request: serde_json::Value =
        serde_json::from_str(&change.request_summary).unwrap_or_default();
    let mut command = cloudtrail("update-trail", &change.resource, &change.region);
    let mut undone = false;
    for (field, flag) in [
        ("enableLogFileValidation", "--enable-log-file-validation"),
        ("isMultiRegionTrail", "--is-multi-region-trail"),
        (
            "includeGlobalServiceEvents",
            "--include-global-service-events",
        ),
    ] {
        if request.get(field).and_then(serde_json::Value::as_bool) == Some(false) {
            command = command.flag(flag);
            undone = true;
        }
    }
    if request.get("kmsKeyId").and_then(serde_json::Value::as_str) == Some("") {
        command = command.arg("--kms-key-id", "<key-arn>");
        undone = true;
    }
    if undone {
        command.to_string()
    } else {
        format!("{command} with the settings in force before the change")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_operations_are_quoted_for_the_shell_and_keep_their_order() {
        let mut patches = Patches::default();
        patches.push(Patch::new(
            method_setting_path("~1samples~1{sampleId}/GET", "caching/dataEncrypted"),
            "true",
        ));
        patches.push(Patch::new("/cacheClusterEnabled", "true"));
        patches.push(Patch::new("/cacheClusterEnabled", "true"));
        assert_eq!(
            apigateway_update_stage("k7x2m9p4qa", "prod", "eu-central-1", &patches).to_string(),
            "aws apigateway update-stage --rest-api-id k7x2m9p4qa --stage-name prod \
             --region eu-central-1 --patch-operations \
             'op=replace,path=/~1samples~1{sampleId}/GET/caching/dataEncrypted,value=true' \
             op=replace,path=/cacheClusterEnabled,value=true"
        );
    }

    fn change(event_name: &str, resource: &str, request_summary: &str) -> ChangeRow {
        ChangeRow {
            event_time: crate::evidence::Timestamp::parse("2026-10-02T13:24:02Z").unwrap(),
            account_id: "111111111111".into(),
            region: "eu-central-1".into(),
            event_source: String::new(),
            event_name: event_name.into(),
            event_id: "e1".into(),
            actor: String::new(),
            actor_type: String::new(),
            invoked_by: String::new(),
            session_issuer: String::new(),
            source_ip: String::new(),
            user_agent: String::new(),
            resource: resource.into(),
            request_summary: request_summary.into(),
            error_code: String::new(),
            error_message: String::new(),
            classification: super::super::ChangeClass::Weakening,
            classification_reason: String::new(),
            change_record: None,
        }
    }

    #[test]
    fn a_weakening_change_is_recorded_or_reverted_with_the_inverse_call() {
        let stage = change(
            "UpdateStage",
            "restapi k7x2m9p4qa stage prod",
            "replace /~1samples~1{sampleId}/GET/caching/dataEncrypted=false; \
             replace /*/*/logging/loglevel=OFF; replace /*/*/metrics/enabled=false",
        );
        assert_eq!(
            change_control_fix(&stage, 365),
            "Record the change in change control or revert: aws apigateway update-stage \
             --rest-api-id k7x2m9p4qa --stage-name prod --region eu-central-1 --patch-operations \
             'op=replace,path=/~1samples~1{sampleId}/GET/caching/dataEncrypted,value=true' \
             'op=replace,path=/*/*/logging/loglevel,value=ERROR'"
        );
        let trail = change(
            "UpdateTrail",
            "lims-app-debug",
            r#"{"name":"lims-app-debug","enableLogFileValidation":false,"isMultiRegionTrail":false}"#,
        );
        assert_eq!(
            change_control_fix(&trail, 365),
            "Record the change in change control or revert: aws cloudtrail update-trail --name \
             lims-app-debug --region eu-central-1 --enable-log-file-validation \
             --is-multi-region-trail"
        );
        let rotation = change("DisableKeyRotation", "k1", "");
        assert_eq!(
            change_control_fix(&rotation, 180),
            "Record the change in change control or revert: aws kms enable-key-rotation --key-id \
             k1 --region eu-central-1 --rotation-period-in-days 180"
        );
    }

    #[test]
    fn rotation_periods_outside_what_kms_accepts_are_clamped() {
        assert!(kms_enable_rotation("k", "r", 30).ends_with("--rotation-period-in-days 90"));
        assert!(kms_enable_rotation("k", "r", 5000).ends_with("--rotation-period-in-days 2560"));
    }
}
