#!/usr/bin/env python3
"""Writes samples/demo-evidence.json: the embedded sample evidence snapshot.

A fictional LIMS (laboratory information management system) of a fictional company, in two
AWS accounts and two regions, for October 2026. Every scenario samples/README.md lists is
built here on purpose. Deterministic: the same script always writes the same bytes.
Shapes follow the AWS API responses (see ../shared/data) and the CloudTrail record format.

Usage: python3 scripts/make-demo-evidence.py [OUT]
"""
import base64
import hashlib
import json
import sys
import uuid
from pathlib import Path

PROD = "111122223333"
DR = "444455556666"
CENTRAL = "eu-central-1"
WEST = "eu-west-1"
NAMESPACE = uuid.UUID("6f1c2f4e-8a51-4a52-9d1e-2b7f0c9e5a10")


def uid(*parts):
    return str(uuid.uuid5(NAMESPACE, "/".join(parts)))


def key_arn(account, region, key_id):
    return f"arn:aws:kms:{region}:{account}:key/{key_id}"


# ---------------------------------------------------------------------------------------------
# API Gateway

def setting(caching, encrypted, level="INFO", ttl=300):
    return {
        "metricsEnabled": True,
        "loggingLevel": level,
        "dataTraceEnabled": False,
        "throttlingBurstLimit": 5000,
        "throttlingRateLimit": 10000.0,
        "cachingEnabled": caching,
        "cacheTtlInSeconds": ttl,
        "cacheDataEncrypted": encrypted,
        "requireAuthorizationForCacheControl": True,
        "unauthorizedCacheControlHeaderStrategy": "SUCCEED_WITH_RESPONSE_HEADER",
    }


def resources(api_id, spec):
    """spec: list of (path, {METHOD: (authorizationType, apiKeyRequired)})"""
    out = []
    for n, (path, methods) in enumerate(spec):
        rid = uid(api_id, path)[:10].replace("-", "")
        item = {"id": rid, "path": path}
        if path != "/":
            item["parentId"] = uid(api_id, path.rsplit("/", 1)[0] or "/")[:10].replace("-", "")
            item["pathPart"] = path.rsplit("/", 1)[1]
        if methods:
            item["resourceMethods"] = {
                verb: {"httpMethod": verb, "authorizationType": auth, "apiKeyRequired": key}
                for verb, (auth, key) in methods.items()
            }
        out.append(item)
    return out


def stage(name, deployment, cluster, settings, *, size="0.5", tracing=False, waf=None, access_log=None,
          client_cert=None, created="2025-03-11T08:00:00Z", updated="2026-10-07T10:31:00Z"):
    s = {
        "stageName": name,
        "deploymentId": deployment,
        "cacheClusterEnabled": cluster,
        "cacheClusterStatus": "AVAILABLE" if cluster else "NOT_AVAILABLE",
        "methodSettings": settings,
        "tracingEnabled": tracing,
        "createdDate": created,
        "lastUpdatedDate": updated,
        "variables": {"environment": name},
        "tags": {"system": "lims", "gxp": "true"},
    }
    if cluster or size:
        s["cacheClusterSize"] = size
    if waf:
        s["webAclArn"] = waf
    if access_log:
        s["accessLogSettings"] = {
            "format": '{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","caller":"$context.identity.caller","user":"$context.identity.user","requestTime":"$context.requestTime","httpMethod":"$context.httpMethod","resourcePath":"$context.resourcePath","status":"$context.status"}',
            "destinationArn": access_log,
        }
    if client_cert:
        s["clientCertificateId"] = client_cert
    return s


def rest_api(api_id, name, description, stages, resource_spec, created):
    return {
        "api": {
            "id": api_id,
            "name": name,
            "description": description,
            "createdDate": created,
            "apiKeySource": "HEADER",
            "endpointConfiguration": {"types": ["REGIONAL"]},
            "disableExecuteApiEndpoint": False,
            "tags": {"system": "lims"},
        },
        "stages": stages,
        # GetDeployment embed=apisummary for each deployment a stage serves: what is deployed,
        # not the API's current (undeployed) definition.
        "deployments": [
            {"id": dep, "description": "release", "createdDate": created,
             "apiSummary": {path: {verb: {"authorizationType": auth, "apiKeyRequired": key}
                                   for verb, (auth, key) in methods.items()}
                            for path, methods in resource_spec if methods}}
            for dep in sorted({st["deploymentId"] for st in stages})
        ],
    }


def apigateway(account, rest_apis, v2_apis=()):
    """GetRestApis with stages and deployments, GetAccount (the CloudWatch role), GetApis (v2)."""
    return {"rest_apis": list(rest_apis),
            "account": {"cloudwatchRoleArn": f"arn:aws:iam::{account}:role/ApiGatewayCloudWatchLogs",
                        "throttleSettings": {"burstLimit": 5000, "rateLimit": 10000.0}},
            "v2_apis": list(v2_apis)}


WAF = "arn:aws:wafv2:eu-central-1:111122223333:regional/webacl/lims-api-protection/5f3c1a2b-7d4e-4f6a-9b8c-0d1e2f3a4b5c"

results_api = rest_api(
    "k7x2m9p4qa", "lims-results-api", "Sample results for QC release (GxP)",
    [
        stage("prod", "dep7a1", True, {
            "*/*": setting(True, True),
            # The one override whose cache is not encrypted: lenient FAIL names exactly this method.
            "~1samples~1{sampleId}/GET": setting(True, False, ttl=3600),
        }, tracing=True, waf=WAF,
            access_log="arn:aws:logs:eu-central-1:111122223333:log-group:/aws/apigateway/lims-results-api/prod",
            client_cert="x7c9d2"),
        stage("uat", "dep6f3", False, {"*/*": setting(False, False, level="ERROR")}, size=None,
              access_log=None, updated="2026-09-20T14:02:00Z"),
    ],
    [
        ("/", {"GET": ("AWS_IAM", False)}),
        ("/health", {"GET": ("NONE", False)}),
        ("/samples", {"GET": ("COGNITO_USER_POOLS", False), "POST": ("COGNITO_USER_POOLS", False)}),
        ("/samples/{sampleId}", {"GET": ("COGNITO_USER_POOLS", False), "PUT": ("COGNITO_USER_POOLS", False)}),
        ("/samples/{sampleId}/results", {"GET": ("COGNITO_USER_POOLS", False)}),
    ],
    "2025-03-10T09:15:00Z",
)

instrument_api = rest_api(
    "b3n8v1c6rt", "lims-instrument-gateway", "Instrument readings ingestion",
    [
        stage("prod", "dep2c8", True, {"*/*": setting(True, True, level="ERROR")}, size="1.6",
              access_log="arn:aws:logs:eu-central-1:111122223333:log-group:/aws/apigateway/lims-instrument-gateway/prod"),
    ],
    [
        ("/", {}),
        ("/instruments", {"GET": ("AWS_IAM", False)}),
        ("/instruments/{instrumentId}", {"GET": ("AWS_IAM", False)}),
        ("/instruments/{instrumentId}/readings", {"POST": ("AWS_IAM", True)}),
    ],
    "2025-05-02T11:40:00Z",
)

reporting_api = rest_api(
    "q9w4e7r2ty", "lims-reporting-api", "Batch record reports (read-only)",
    [
        # Caching enabled in method settings while the cluster is off: caching not in effect.
        stage("prod", "dep9d4", False, {"*/*": setting(True, True)}, size="0.5",
              access_log="arn:aws:logs:eu-west-1:111122223333:log-group:/aws/apigateway/lims-reporting-api/prod"),
        # Execution logging turned off and no access logging: logging FAIL.
        stage("dev", "dep9d1", False, {"*/*": setting(False, False, level="OFF")}, size=None),
    ],
    [
        ("/", {}),
        ("/reports", {"GET": ("NONE", False)}),
        ("/reports/{batchId}", {"GET": ("AWS_IAM", False)}),
    ],
    "2025-06-18T07:05:00Z",
)

dr_api = rest_api(
    "m2h6j8k1zx", "lims-results-api-dr", "Disaster-recovery copy of the results API",
    [stage("dr", "depdr1", True, {"*/*": setting(True, True)},
           access_log="arn:aws:logs:eu-central-1:444455556666:log-group:/aws/apigateway/lims-results-api-dr/dr")],
    [
        ("/", {"GET": ("AWS_IAM", False)}),
        ("/samples", {"GET": ("AWS_IAM", False)}),
        ("/samples/{sampleId}", {"GET": ("AWS_IAM", False)}),
    ],
    "2025-09-01T12:00:00Z",
)

# ---------------------------------------------------------------------------------------------
# KMS

def kms_key(account, region, key_id, description, *, manager="CUSTOMER", state="Enabled", spec="SYMMETRIC_DEFAULT",
            usage="ENCRYPT_DECRYPT", origin="AWS_KMS", created="2025-02-03T10:00:00Z", aliases=(), rotation=None,
            rotation_error=None, rotations=None, deletion=None, extra=None, policy=None):
    metadata = {
        "AWSAccountId": account,
        "KeyId": key_id,
        "Arn": key_arn(account, region, key_id),
        "CreationDate": created,
        "Enabled": state == "Enabled",
        "Description": description,
        "KeyUsage": usage,
        "KeyState": state,
        "Origin": origin,
        "KeyManager": manager,
        "CustomerMasterKeySpec": spec,
        "KeySpec": spec,
        "MultiRegion": False,
    }
    if usage == "ENCRYPT_DECRYPT":
        metadata["EncryptionAlgorithms"] = ["SYMMETRIC_DEFAULT"] if spec == "SYMMETRIC_DEFAULT" else ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"]
    elif usage == "SIGN_VERIFY":
        metadata["SigningAlgorithms"] = ["RSASSA_PKCS1_V1_5_SHA_256", "RSASSA_PSS_SHA_256"]
    elif usage == "GENERATE_VERIFY_MAC":
        metadata["MacAlgorithms"] = ["HMAC_SHA_256"]
    if deletion:
        metadata["DeletionDate"] = deletion
        metadata["PendingDeletionWindowInDays"] = 30
    if extra:
        metadata.update(extra)
    key = {
        "metadata": metadata,
        "aliases": [
            {"AliasName": a, "AliasArn": f"arn:aws:kms:{region}:{account}:{a}", "TargetKeyId": key_id}
            for a in aliases
        ],
    }
    if rotation is not None:
        key["rotation_status"] = dict(rotation, KeyId=key_arn(account, region, key_id))
    if rotation_error is not None:
        key["rotation_status_error"] = rotation_error
    key["rotations"] = rotations if rotations is not None else []
    if manager == "CUSTOMER":
        # GetKeyPolicy: customer managed keys only (kms-key-exposure); KMS returns the text as set.
        key["key_policy"] = json.dumps(policy or default_key_policy(account), indent=2)
    return key


def default_key_policy(account):
    """The default key policy KMS gives a key created without one: the account only."""
    return {"Version": "2012-10-17", "Id": "key-default-1", "Statement": [root_statement(account)]}


def root_statement(account):
    return {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "kms:*", "Resource": "*"}


def rds_key_policy(account):
    """Everyone, limited to this account's callers through RDS: "*" that a condition limits."""
    return {"Version": "2012-10-17", "Id": "key-consolepolicy-3", "Statement": [
        root_statement(account),
        {"Sid": "Allow access through RDS for all principals in the account", "Effect": "Allow",
         "Principal": {"AWS": "*"},
         "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:CreateGrant",
                    "kms:ListGrants", "kms:DescribeKey"],
         "Resource": "*",
         "Condition": {"StringEquals": {"kms:CallerAccount": account,
                                        "kms:ViaService": "rds.eu-central-1.amazonaws.com"}}}]}


def opened_key_policy(account):
    """The audit archive key opened to every AWS account for Decrypt, without a condition."""
    return {"Version": "2012-10-17", "Id": "key-default-1", "Statement": [
        root_statement(account),
        {"Sid": "VendorArchiveReadAccess", "Effect": "Allow", "Principal": {"AWS": "*"},
         "Action": "kms:Decrypt", "Resource": "*"}]}


def ec_arn(account, region, group_id):
    return f"arn:aws:elasticache:{region}:{account}:replicationgroup:{group_id}"


def replication_group(account, region, group_id, description, *, engine, created, encrypted, kms_key=None,
                      transit_mode="required", auth_token=False, user_groups=()):
    """DescribeReplicationGroups, as the collector keeps it (elasticache-encryption-at-rest)."""
    group = {
        "ReplicationGroupId": group_id,
        "ARN": ec_arn(account, region, group_id),
        "Description": description,
        "Engine": engine,
        "Status": "available",
        "AtRestEncryptionEnabled": encrypted,
        "StorageEncryptionType": ("sse-kms" if kms_key else "sse-elasticache") if encrypted else "none",
        "TransitEncryptionEnabled": transit_mode is not None,
        "AuthTokenEnabled": auth_token,
        "UserGroupIds": list(user_groups),
        "ReplicationGroupCreateTime": created,
        "CacheNodeType": "cache.r7g.large",
        "ClusterEnabled": False,
        "ClusterMode": "disabled",
        "MultiAZ": "enabled",
        "AutomaticFailover": "enabled",
        "DataTiering": "disabled",
        "SnapshotRetentionLimit": 7,
        "MemberClusters": [f"{group_id}-001", f"{group_id}-002"],
    }
    if kms_key:
        group["KmsKeyId"] = kms_key
    if transit_mode is not None:
        group["TransitEncryptionMode"] = transit_mode
    return group


def rotation_entry(account, region, key_id, date, kind):
    return {"KeyId": key_arn(account, region, key_id), "RotationDate": date, "RotationType": kind}


K_DB = "7d2f4c1a-3b6e-4e8d-9a0f-1c2b3d4e5f60"
K_BACKUP = "0a9b8c7d-6e5f-4a3b-8c1d-2e3f4a5b6c7d"
K_AUDIT = "5e4d3c2b-1a0f-4e9d-8c7b-6a5f4e3d2c1b"
K_LEGACY = "c3d4e5f6-a7b8-4c9d-8e0f-1a2b3c4d5e6f"
K_SIGN = "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a"
K_HMAC = "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e"
K_IMPORTED = "e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b"
K_MIGRATION = "4c5d6e7f-8a9b-4c0d-9e1f-2a3b4c5d6e7f"
K_OLD_ETL = "8b7a6f5e-4d3c-4b2a-9180-7f6e5d4c3b2a"
K_AWS_S3 = "2f3e4d5c-6b7a-4899-8a7b-6c5d4e3f2a1b"
K_DR_DB = "6a7b8c9d-0e1f-4a2b-9c3d-4e5f6a7b8c9d"
K_DR_AWS = "3c2b1a0f-9e8d-4c7b-8a6f-5e4d3c2b1a0f"

prod_keys = [
    kms_key(PROD, CENTRAL, K_DB, "LIMS database (Aurora) encryption", aliases=["alias/lims-db"],
            rotation={"KeyRotationEnabled": True, "RotationPeriodInDays": 365, "NextRotationDate": "2027-10-14T03:12:09Z"},
            rotations=[rotation_entry(PROD, CENTRAL, K_DB, "2025-10-14T03:12:09Z", "AUTOMATIC"),
                       rotation_entry(PROD, CENTRAL, K_DB, "2026-10-14T03:12:09Z", "AUTOMATIC")],
            created="2024-10-14T03:12:09Z", policy=rds_key_policy(PROD)),
    kms_key(PROD, CENTRAL, K_BACKUP, "LIMS backup vault encryption", aliases=["alias/lims-backup"],
            rotation={"KeyRotationEnabled": False}, created="2025-01-20T16:45:00Z"),
    kms_key(PROD, CENTRAL, K_AUDIT, "LIMS audit-trail archive", aliases=["alias/lims-audit-archive"],
            rotation={"KeyRotationEnabled": True, "RotationPeriodInDays": 90, "NextRotationDate": "2027-01-07T11:20:00Z",
                      "OnDemandRotationStartDate": "2026-10-09T11:20:00Z"},
            rotations=[rotation_entry(PROD, CENTRAL, K_AUDIT, "2026-07-11T11:20:00Z", "AUTOMATIC"),
                       rotation_entry(PROD, CENTRAL, K_AUDIT, "2026-10-09T11:20:31Z", "ON_DEMAND")],
            created="2026-04-12T11:20:00Z", policy=opened_key_policy(PROD)),
    kms_key(PROD, CENTRAL, K_LEGACY, "Legacy LIMS v5 export files", aliases=["alias/lims-legacy-export"],
            rotation={"KeyRotationEnabled": True, "RotationPeriodInDays": 730, "NextRotationDate": "2028-10-21T08:00:00Z"},
            created="2023-06-01T08:00:00Z"),
    kms_key(PROD, CENTRAL, K_SIGN, "Batch certificate signing (Qualified Person release)", aliases=["alias/lims-batch-signing"],
            spec="RSA_2048", usage="SIGN_VERIFY", rotation_error={"code": "UnsupportedOperationException",
            "message": f"{key_arn(PROD, CENTRAL, K_SIGN)} origin is AWS_KMS which is not valid for this operation."}),
    kms_key(PROD, CENTRAL, K_HMAC, "Session token MAC", aliases=["alias/lims-token-mac"], spec="HMAC_256",
            usage="GENERATE_VERIFY_MAC", rotation_error={"code": "UnsupportedOperationException",
            "message": "This operation is not supported for HMAC keys."}),
    kms_key(PROD, CENTRAL, K_IMPORTED, "Imported key material for instrument vendor exchange", aliases=["alias/lims-vendor-byok"],
            origin="EXTERNAL", rotation_error={"code": "UnsupportedOperationException",
            "message": f"{key_arn(PROD, CENTRAL, K_IMPORTED)} origin is EXTERNAL which is not valid for this operation."},
            extra={"ExpirationModel": "KEY_MATERIAL_DOES_NOT_EXPIRE"}),
    kms_key(PROD, CENTRAL, K_MIGRATION, "LIMS v5 to v6 data migration (retired)", aliases=["alias/lims-migration"],
            state="PendingDeletion", deletion="2026-11-21T15:30:00Z", rotation_error={"code": "KMSInvalidStateException",
            "message": f"{key_arn(PROD, CENTRAL, K_MIGRATION)} is pending deletion."}),
    kms_key(PROD, CENTRAL, K_OLD_ETL, "Old ETL staging bucket", aliases=["alias/lims-etl-staging-old"], state="Disabled",
            rotation={"KeyRotationEnabled": True, "RotationPeriodInDays": 365}),
    kms_key(PROD, CENTRAL, K_AWS_S3, "Default key that protects my S3 objects when no other key is defined",
            manager="AWS", aliases=["alias/aws/s3"], created="2024-02-01T09:00:00Z",
            rotation={"KeyRotationEnabled": True, "RotationPeriodInDays": 365, "NextRotationDate": "2027-02-01T09:00:00Z"}),
]

dr_keys = [
    kms_key(DR, CENTRAL, K_DR_DB, "LIMS DR database encryption", aliases=["alias/lims-dr-db"],
            rotation={"KeyRotationEnabled": True, "RotationPeriodInDays": 365, "NextRotationDate": "2027-03-02T10:00:00Z"},
            rotations=[rotation_entry(DR, CENTRAL, K_DR_DB, "2026-03-02T10:00:00Z", "AUTOMATIC")],
            created="2025-03-02T10:00:00Z"),
    kms_key(DR, CENTRAL, K_DR_AWS, "Default key that protects my RDS database volumes when no other key is defined",
            manager="AWS", aliases=["alias/aws/rds"],
            rotation={"KeyRotationEnabled": True, "RotationPeriodInDays": 365}),
]

# ---------------------------------------------------------------------------------------------
# CloudTrail trails

ORG_TRAIL_ARN = f"arn:aws:cloudtrail:{CENTRAL}:{PROD}:trail/lims-org-audit"
DEBUG_TRAIL_ARN = f"arn:aws:cloudtrail:{WEST}:{PROD}:trail/lims-app-debug"
DR_TRAIL_ARN = f"arn:aws:cloudtrail:{CENTRAL}:{DR}:trail/lims-dr-audit"

ALL_MANAGEMENT = {"EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": True, "DataResources": [],
                                      "ExcludeManagementEventSources": []}]}


def log_group_arn(account, region, name):
    return f"arn:aws:logs:{region}:{account}:log-group:{name}:*"


def trail(name, arn, home, multi, validation, kms, bucket, *, status, selectors, org=False, log_group=None):
    t = {
        "Name": name,
        "S3BucketName": bucket,
        "S3KeyPrefix": "cloudtrail",
        "IncludeGlobalServiceEvents": multi,
        "IsMultiRegionTrail": multi,
        "HomeRegion": home,
        "TrailARN": arn,
        "LogFileValidationEnabled": validation,
        "HasCustomEventSelectors": False,
        "HasInsightSelectors": False,
        "IsOrganizationTrail": org,
    }
    if kms:
        t["KmsKeyId"] = kms
    if log_group:
        # Delivery to CloudWatch Logs (cloudtrail-cloudwatch-logs).
        t["CloudWatchLogsLogGroupArn"] = log_group
        t["CloudWatchLogsRoleArn"] = arn.split(":trail/")[0].replace("cloudtrail", "iam").rsplit(":", 2)[0] \
            + f"::{arn.split(':')[4]}:role/CloudTrailToCloudWatchLogs"
    return {"trail": t, "status": status, "event_selectors": dict(selectors, TrailARN=arn)}


org_trail_status = {
    "IsLogging": True,
    "LatestDeliveryTime": "2026-11-01T05:58:12Z",
    "StartLoggingTime": "2026-10-18T06:02:41Z",
    "StopLoggingTime": "2026-10-17T22:14:05Z",
    "LatestDigestDeliveryTime": "2026-11-01T05:31:40Z",
    "LatestCloudWatchLogsDeliveryTime": "2026-11-01T05:59:02Z",
    "TimeLoggingStarted": "2026-10-18T06:02:41Z",
    "TimeLoggingStopped": "2026-10-17T22:14:05Z",
    "LatestDeliveryAttemptTime": "2026-11-01T05:58:12Z",
    "LatestDeliveryAttemptSucceeded": "2026-11-01T05:58:12Z",
    "LatestNotificationAttemptTime": "",
    "LatestNotificationAttemptSucceeded": "",
}
org_trail = trail("lims-org-audit", ORG_TRAIL_ARN, CENTRAL, True, True,
                  key_arn(PROD, CENTRAL, K_AUDIT), "lims-audit-trail-111122223333",
                  status=org_trail_status, selectors=ALL_MANAGEMENT,
                  log_group=log_group_arn(PROD, CENTRAL, "CloudTrail/lims-org-audit"))
debug_trail = trail("lims-app-debug", DEBUG_TRAIL_ARN, WEST, False, False, None, "lims-app-debug-logs-111122223333",
                    status={"IsLogging": True, "LatestDeliveryTime": "2026-11-01T05:55:03Z",
                            "StartLoggingTime": "2025-06-18T07:30:00Z", "TimeLoggingStarted": "2025-06-18T07:30:00Z",
                            "TimeLoggingStopped": "", "LatestNotificationAttemptTime": "",
                            "LatestNotificationAttemptSucceeded": ""},
                    selectors={"EventSelectors": [{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True,
                                                   "DataResources": [],
                                                   "ExcludeManagementEventSources": ["kms.amazonaws.com"]}]})
dr_trail = trail("lims-dr-audit", DR_TRAIL_ARN, CENTRAL, True, True, key_arn(DR, CENTRAL, K_DR_DB),
                 "lims-dr-audit-trail-444455556666",
                 log_group=log_group_arn(DR, CENTRAL, "CloudTrail/lims-dr-audit"),
                 status={"IsLogging": True, "LatestDeliveryTime": "2026-11-01T05:57:44Z",
                         "LatestCloudWatchLogsDeliveryTime": "2026-11-01T05:58:30Z",
                         "StartLoggingTime": "2025-09-01T12:30:00Z", "TimeLoggingStarted": "2025-09-01T12:30:00Z",
                         "TimeLoggingStopped": "", "LatestNotificationAttemptTime": "",
                         "LatestNotificationAttemptSucceeded": ""},
                 selectors={"AdvancedEventSelectors": [{"Name": "All management events", "FieldSelectors": [
                     {"Field": "eventCategory", "Equals": ["Management"]}]},
                     # The DR records bucket's object reads and writes (cloudtrail-s3-data-events PASS).
                     {"Name": "GxP records: S3 data events", "FieldSelectors": [
                         {"Field": "eventCategory", "Equals": ["Data"]},
                         {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
                         {"Field": "resources.ARN", "StartsWith": [f"arn:aws:s3:::lims-dr-records-{DR}/"]}]}]})

# ---------------------------------------------------------------------------------------------
# CloudTrail events of the period (LookupEvents shape, record kept as a JSON string)

IDENTITIES = {
    "deploy": lambda acct: {
        "type": "AssumedRole",
        "principalId": "AROAEXAMPLEDEPLOY01:j.meier@example-pharma.eu",
        "arn": f"arn:aws:sts::{acct}:assumed-role/LimsDevOpsDeploy/j.meier@example-pharma.eu",
        "accountId": acct,
        "accessKeyId": "ASIAEXAMPLEDEPLOY001",
        "sessionContext": {
            "sessionIssuer": {"type": "Role", "principalId": "AROAEXAMPLEDEPLOY01",
                              "arn": f"arn:aws:iam::{acct}:role/LimsDevOpsDeploy", "accountId": acct,
                              "userName": "LimsDevOpsDeploy"},
            "attributes": {"creationDate": "2026-10-01T07:55:00Z", "mfaAuthenticated": "true"},
        },
    },
    "ops": lambda acct: {
        "type": "AssumedRole",
        "principalId": "AROAEXAMPLEOPSADM01:m.kowalski@example-pharma.eu",
        "arn": f"arn:aws:sts::{acct}:assumed-role/LimsOpsAdmin/m.kowalski@example-pharma.eu",
        "accountId": acct,
        "accessKeyId": "ASIAEXAMPLEOPSADM001",
        "sessionContext": {
            "sessionIssuer": {"type": "Role", "principalId": "AROAEXAMPLEOPSADM01",
                              "arn": f"arn:aws:iam::{acct}:role/LimsOpsAdmin", "accountId": acct,
                              "userName": "LimsOpsAdmin"},
            "attributes": {"creationDate": "2026-10-01T08:00:00Z", "mfaAuthenticated": "true"},
        },
    },
    "security": lambda acct: {
        "type": "AssumedRole",
        "principalId": "AROAEXAMPLESECENG01:a.dubois@example-pharma.eu",
        "arn": f"arn:aws:sts::{acct}:assumed-role/LimsSecurityEngineer/a.dubois@example-pharma.eu",
        "accountId": acct,
        "accessKeyId": "ASIAEXAMPLESECENG001",
        "sessionContext": {
            "sessionIssuer": {"type": "Role", "principalId": "AROAEXAMPLESECENG01",
                              "arn": f"arn:aws:iam::{acct}:role/LimsSecurityEngineer", "accountId": acct,
                              "userName": "LimsSecurityEngineer"},
            "attributes": {"creationDate": "2026-10-01T08:10:00Z", "mfaAuthenticated": "true"},
        },
    },
    "contractor": lambda acct: {
        "type": "IAMUser",
        "principalId": "AIDAEXAMPLECONTRACT1",
        "arn": f"arn:aws:iam::{acct}:user/contractor.b.nowak",
        "accountId": acct,
        "accessKeyId": "AKIAEXAMPLECONTRACT1",
        "userName": "contractor.b.nowak",
    },
    "pipeline": lambda acct: {
        "type": "IAMUser",
        "principalId": "AIDAEXAMPLEPIPELINE1",
        "arn": f"arn:aws:iam::{acct}:user/lims-ci-pipeline",
        "accountId": acct,
        "accessKeyId": "AKIAEXAMPLEPIPELINE1",
        "userName": "lims-ci-pipeline",
    },
    "root": lambda acct: {
        "type": "Root",
        "principalId": acct,
        "arn": f"arn:aws:iam::{acct}:root",
        "accountId": acct,
        "accessKeyId": "ASIAEXAMPLEROOTSESS1",
        "sessionContext": {"attributes": {"creationDate": "2026-10-22T13:40:00Z", "mfaAuthenticated": "true"}},
    },
    "backup-service": lambda acct: {"type": "AWSService", "invokedBy": "backup.amazonaws.com"},
    "kms-service": lambda acct: {"accountId": acct, "invokedBy": "kms.amazonaws.com"},
}

USER_AGENTS = {
    "deploy": "APN/1.0 HashiCorp/1.0 Terraform/1.9.5 (+https://www.terraform.io) terraform-provider-aws/5.72.1",
    "ops": "aws-cli/2.17.61 md/awscrt#0.21.2 ua/2.0 os/linux#6.8.0 md/arch#x86_64 lang/python#3.12.6 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#ubuntu.24 command/cloudtrail.stop-logging",
    "security": "console.amazonaws.com",
    "contractor": "aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/windows#10 md/arch#amd64 lang/python#3.11.8",
    "pipeline": "aws-sdk-go-v2/1.30.5 os/linux lang/go#1.22.7 md/GOOS#linux md/GOARCH#amd64 api/apigateway#1.25.6",
    "root": "console.amazonaws.com",
    "backup-service": "backup.amazonaws.com",
    "kms-service": "kms.amazonaws.com",
}

SOURCE_IPS = {
    "deploy": "203.0.113.24", "ops": "198.51.100.17", "security": "192.0.2.45", "contractor": "203.0.113.200",
    "pipeline": "198.51.100.60", "root": "192.0.2.10", "backup-service": "backup.amazonaws.com",
    "kms-service": "kms.amazonaws.com",
}

events = {}  # (account, region) -> list


def event(account, region, when, source, name, who, params, *, response=None, error=None, resources=(), username=None,
          service_event=False):
    event_id = uid(account, region, when, name)
    identity = IDENTITIES[who](account)
    record = {
        "eventVersion": "1.10" if not service_event else "1.08",
        "userIdentity": identity,
        "eventTime": when,
        "eventSource": source,
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": SOURCE_IPS[who],
        "userAgent": USER_AGENTS[who],
    }
    if error:
        record["errorCode"] = error[0]
        record["errorMessage"] = error[1]
    record["requestParameters"] = params
    record["responseElements"] = response
    record["requestID"] = uid("request", event_id)
    record["eventID"] = event_id
    record["readOnly"] = False
    if resources:
        record["resources"] = [{"accountId": account, "type": t, "ARN": arn} for t, arn in resources]
    record["eventType"] = "AwsServiceEvent" if service_event else "AwsApiCall"
    record["managementEvent"] = True
    record["recipientAccountId"] = account
    record["eventCategory"] = "Management"
    if not service_event and who not in ("backup-service",):
        record["tlsDetails"] = {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
                                "clientProvidedHostHeader": f"{source.split('.')[0]}.{region}.amazonaws.com"}
    if who in ("security", "root"):
        record["sessionCredentialFromConsole"] = "true"
    if service_event:
        del record["sourceIPAddress"], record["userAgent"], record["requestParameters"], record["responseElements"]
        record["readOnly"] = False
        record["serviceEventDetails"] = params
    lookup = {
        "EventId": event_id,
        "EventName": name,
        "ReadOnly": "false",
        "EventTime": when,
        "EventSource": source,
        "Username": username or identity.get("userName") or identity.get("arn", "").rsplit("/", 1)[-1] or identity.get("invokedBy"),
        "Resources": [{"ResourceType": t, "ResourceName": arn} for t, arn in resources],
        "CloudTrailEvent": json.dumps(record, separators=(",", ":")),
    }
    if "accessKeyId" in identity:
        lookup["AccessKeyId"] = identity["accessKeyId"]
    events.setdefault((account, region), []).append(lookup)


def stage_patch(api, stage_name, ops):
    return {"restApiId": api, "stageName": stage_name,
            "updateStageInput": {"patchOperations": [{"op": "replace", "path": p, "value": v} for p, v in ops]},
            "template": False}


AG = "apigateway.amazonaws.com"
KMS = "kms.amazonaws.com"
CT = "cloudtrail.amazonaws.com"
EC = "elasticache.amazonaws.com"
S3 = "s3.amazonaws.com"
LOGS = "logs.amazonaws.com"
DENIED = lambda action, arn: ("AccessDenied", f"User: arn:aws:iam::{PROD}:user/contractor.b.nowak is not authorized to perform: {action} on resource: {arn} because no identity-based policy allows the {action} action")

# API Gateway, production account
for n, (day, api, stage_name) in enumerate([("2026-10-01T09:05:12Z", "k7x2m9p4qa", "prod"),
                                            ("2026-10-08T09:04:51Z", "k7x2m9p4qa", "prod"),
                                            ("2026-10-15T09:06:30Z", "k7x2m9p4qa", "prod"),
                                            ("2026-10-22T09:05:02Z", "k7x2m9p4qa", "prod"),
                                            ("2026-10-29T09:07:44Z", "k7x2m9p4qa", "prod")]):
    event(PROD, CENTRAL, day, AG, "CreateDeployment", "pipeline",
          {"restApiId": api, "createDeploymentInput": {"stageName": stage_name, "description": f"release 6.4.{n}"}, "template": False},
          response={"id": f"dep7a{n}", "createdDate": "Oct 1, 2026 9:05:12 AM"},
          resources=[("AWS::ApiGateway::RestApi", api)])
event(PROD, CENTRAL, "2026-10-02T13:21:40Z", AG, "UpdateStage", "deploy",
      stage_patch("k7x2m9p4qa", "prod", [("/~1samples~1{sampleId}/GET/caching/enabled", "true"),
                                         ("/~1samples~1{sampleId}/GET/caching/ttlInSeconds", "3600")]),
      resources=[("AWS::ApiGateway::Stage", "k7x2m9p4qa/prod")])
event(PROD, CENTRAL, "2026-10-02T13:24:02Z", AG, "UpdateStage", "deploy",
      stage_patch("k7x2m9p4qa", "prod", [("/~1samples~1{sampleId}/GET/caching/dataEncrypted", "false")]),
      resources=[("AWS::ApiGateway::Stage", "k7x2m9p4qa/prod")])
event(PROD, CENTRAL, "2026-10-06T16:48:19Z", AG, "UpdateStage", "ops",
      stage_patch("b3n8v1c6rt", "prod", [("/*/*/caching/dataEncrypted", "false")]),
      resources=[("AWS::ApiGateway::Stage", "b3n8v1c6rt/prod")])
# Encryption off again on 14 October and only restored after the period (before collection):
# encrypted when collected, yet not throughout October (the period rule's FAIL with intervals).
event(PROD, CENTRAL, "2026-10-14T09:12:08Z", AG, "UpdateStage", "deploy",
      stage_patch("b3n8v1c6rt", "prod", [("/*/*/caching/dataEncrypted", "false")]),
      resources=[("AWS::ApiGateway::Stage", "b3n8v1c6rt/prod")])
event(PROD, CENTRAL, "2026-11-01T03:41:55Z", AG, "UpdateStage", "security",
      stage_patch("b3n8v1c6rt", "prod", [("/*/*/caching/dataEncrypted", "true")]),
      resources=[("AWS::ApiGateway::Stage", "b3n8v1c6rt/prod")])
event(PROD, CENTRAL, "2026-10-07T10:31:00Z", AG, "UpdateStage", "security",
      stage_patch("b3n8v1c6rt", "prod", [("/*/*/caching/dataEncrypted", "true")]),
      resources=[("AWS::ApiGateway::Stage", "b3n8v1c6rt/prod")])
event(PROD, CENTRAL, "2026-10-09T08:12:55Z", AG, "UpdateStage", "contractor",
      stage_patch("k7x2m9p4qa", "prod", [("/*/*/caching/dataEncrypted", "false")]),
      error=DENIED("apigateway:PATCH", "arn:aws:apigateway:eu-central-1::/restapis/k7x2m9p4qa/stages/prod"),
      resources=[("AWS::ApiGateway::Stage", "k7x2m9p4qa/prod")])
event(PROD, CENTRAL, "2026-10-12T11:02:37Z", AG, "UpdateStage", "deploy",
      stage_patch("k7x2m9p4qa", "prod", [("/tracingEnabled", "true")]),
      resources=[("AWS::ApiGateway::Stage", "k7x2m9p4qa/prod")])
event(PROD, CENTRAL, "2026-10-13T15:40:10Z", AG, "UpdateMethod", "deploy",
      {"restApiId": "k7x2m9p4qa", "resourceId": uid("k7x2m9p4qa", "/health")[:10].replace("-", ""), "httpMethod": "GET",
       "updateMethodInput": {"patchOperations": [{"op": "replace", "path": "/authorizationType", "value": "NONE"}]},
       "template": False},
      resources=[("AWS::ApiGateway::Method", "k7x2m9p4qa/health/GET")])
event(PROD, CENTRAL, "2026-10-20T07:55:31Z", AG, "TagResource", "deploy",
      {"resourceArn": "arn:aws:apigateway:eu-central-1::/restapis/k7x2m9p4qa/stages/prod",
       "tagResourceInput": {"tags": {"cost-centre": "QC-4711"}}, "template": False})
# API Gateway, production account, eu-west-1
event(PROD, WEST, "2026-10-05T10:15:44Z", AG, "UpdateStage", "deploy",
      stage_patch("q9w4e7r2ty", "dev", [("/*/*/logging/loglevel", "OFF")]),
      resources=[("AWS::ApiGateway::Stage", "q9w4e7r2ty/dev")])
event(PROD, WEST, "2026-10-14T14:03:09Z", AG, "DeleteStage", "deploy",
      {"restApiId": "q9w4e7r2ty", "stageName": "perf-test", "template": False},
      resources=[("AWS::ApiGateway::Stage", "q9w4e7r2ty/perf-test")])
event(PROD, WEST, "2026-10-14T14:05:51Z", AG, "CreateDeployment", "pipeline",
      {"restApiId": "q9w4e7r2ty", "createDeploymentInput": {"stageName": "prod", "description": "reports 2.8.1"}, "template": False},
      response={"id": "dep9d4", "createdDate": "Oct 14, 2026 2:05:51 PM"})
event(PROD, WEST, "2026-10-21T09:30:00Z", AG, "UpdateStage", "ops",
      stage_patch("q9w4e7r2ty", "prod", [("/*/*/caching/enabled", "true"), ("/*/*/caching/dataEncrypted", "true")]),
      resources=[("AWS::ApiGateway::Stage", "q9w4e7r2ty/prod")])

# KMS, production account
event(PROD, CENTRAL, "2026-10-03T09:41:27Z", KMS, "DisableKeyRotation", "ops", {"keyId": K_BACKUP},
      resources=[("AWS::KMS::Key", key_arn(PROD, CENTRAL, K_BACKUP))])
event(PROD, CENTRAL, "2026-10-03T09:50:02Z", KMS, "DisableKeyRotation", "contractor", {"keyId": K_DB},
      error=("AccessDeniedException", f"User: arn:aws:iam::{PROD}:user/contractor.b.nowak is not authorized to perform: kms:DisableKeyRotation on resource: {key_arn(PROD, CENTRAL, K_DB)} because no identity-based policy allows the kms:DisableKeyRotation action"),
      resources=[("AWS::KMS::Key", key_arn(PROD, CENTRAL, K_DB))])
event(PROD, CENTRAL, "2026-10-04T11:18:45Z", KMS, "EnableKeyRotation", "security", {"keyId": K_AUDIT, "rotationPeriodInDays": 90},
      resources=[("AWS::KMS::Key", key_arn(PROD, CENTRAL, K_AUDIT))])
event(PROD, CENTRAL, "2026-10-09T11:20:30Z", KMS, "RotateKeyOnDemand", "security", {"keyId": K_AUDIT},
      response={"keyId": key_arn(PROD, CENTRAL, K_AUDIT)}, resources=[("AWS::KMS::Key", key_arn(PROD, CENTRAL, K_AUDIT))])
event(PROD, CENTRAL, "2026-10-14T03:12:09Z", KMS, "RotateKey", "kms-service",
      {"keyId": key_arn(PROD, CENTRAL, K_DB), "rotationType": "AUTOMATIC"}, service_event=True,
      resources=[("AWS::KMS::Key", key_arn(PROD, CENTRAL, K_DB))], username="kms.amazonaws.com")
event(PROD, CENTRAL, "2026-10-16T08:00:12Z", KMS, "EnableKeyRotation", "ops", {"keyId": K_LEGACY, "rotationPeriodInDays": 730},
      resources=[("AWS::KMS::Key", key_arn(PROD, CENTRAL, K_LEGACY))])
event(PROD, CENTRAL, "2026-10-22T15:30:00Z", KMS, "ScheduleKeyDeletion", "security", {"keyId": K_MIGRATION, "pendingWindowInDays": 30},
      response={"keyId": key_arn(PROD, CENTRAL, K_MIGRATION), "deletionDate": "Nov 21, 2026, 3:30:00 PM",
                "keyState": "PendingDeletion", "pendingWindowInDays": 30},
      resources=[("AWS::KMS::Key", key_arn(PROD, CENTRAL, K_MIGRATION))])
event(PROD, CENTRAL, "2026-10-23T10:02:44Z", KMS, "DisableKey", "ops", {"keyId": K_OLD_ETL},
      resources=[("AWS::KMS::Key", key_arn(PROD, CENTRAL, K_OLD_ETL))])
event(PROD, CENTRAL, "2026-10-24T09:12:00Z", KMS, "ScheduleKeyDeletion", "contractor", {"keyId": K_BACKUP, "pendingWindowInDays": 7},
      error=("AccessDeniedException", f"User: arn:aws:iam::{PROD}:user/contractor.b.nowak is not authorized to perform: kms:ScheduleKeyDeletion on resource: {key_arn(PROD, CENTRAL, K_BACKUP)}"),
      resources=[("AWS::KMS::Key", key_arn(PROD, CENTRAL, K_BACKUP))])
event(PROD, CENTRAL, "2026-10-26T13:14:15Z", KMS, "CreateGrant", "backup-service",
      {"keyId": key_arn(PROD, CENTRAL, K_BACKUP), "granteePrincipal": "backup.amazonaws.com",
       "operations": ["Decrypt", "GenerateDataKeyWithoutPlaintext", "ReEncryptFrom", "ReEncryptTo", "DescribeKey"],
       "retiringPrincipal": "backup.amazonaws.com"},
      response={"grantId": "f1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e"},
      resources=[("AWS::KMS::Key", key_arn(PROD, CENTRAL, K_BACKUP))], username="backup.amazonaws.com")
event(PROD, CENTRAL, "2026-10-27T10:45:00Z", KMS, "CreateKey", "security",
      {"description": "QP batch certificate signing 2027", "keySpec": "ECC_NIST_P256", "keyUsage": "SIGN_VERIFY",
       "origin": "AWS_KMS", "multiRegion": False, "bypassPolicyLockoutSafetyCheck": False},
      response={"keyMetadata": {"keyId": "d9c8b7a6-f5e4-4d3c-b2a1-0f9e8d7c6b5a", "keyState": "Enabled"}})
event(PROD, CENTRAL, "2026-10-27T10:46:10Z", KMS, "CreateAlias", "security",
      {"aliasName": "alias/lims-qp-signing-2027", "targetKeyId": "d9c8b7a6-f5e4-4d3c-b2a1-0f9e8d7c6b5a"})
event(PROD, CENTRAL, "2026-10-28T16:20:33Z", KMS, "PutKeyPolicy", "security",
      {"keyId": K_AUDIT, "policyName": "default", "bypassPolicyLockoutSafetyCheck": False,
       "policy": json.dumps(opened_key_policy(PROD), indent=2)},
      resources=[("AWS::KMS::Key", key_arn(PROD, CENTRAL, K_AUDIT))])
event(PROD, CENTRAL, "2026-10-29T08:00:00Z", KMS, "TagResource", "security",
      {"keyId": K_DB, "tags": [{"tagKey": "data-classification", "tagValue": "GxP-critical"}]},
      resources=[("AWS::KMS::Key", key_arn(PROD, CENTRAL, K_DB))])

# ElastiCache, production account: the results cache was created during the period as Redis OSS without
# atRestEncryptionEnabled (unencrypted: the Redis OSS default), so elasticache-encryption-at-rest fails it from then on.
event(PROD, CENTRAL, "2026-10-20T14:05:00Z", EC, "CreateReplicationGroup", "deploy",
      {"replicationGroupId": "lims-results-cache", "replicationGroupDescription": "LIMS result lookup cache",
       "engine": "redis", "engineVersion": "7.1", "cacheNodeType": "cache.r7g.large", "numCacheClusters": 2,
       "automaticFailoverEnabled": True, "multiAZEnabled": True, "cacheSubnetGroupName": "lims-private",
       "transitEncryptionEnabled": True, "transitEncryptionMode": "preferred", "authToken": "HIDDEN_DUE_TO_SECURITY_REASONS"},
      response={"replicationGroupId": "lims-results-cache", "status": "creating", "atRestEncryptionEnabled": False,
                "transitEncryptionEnabled": True, "authTokenEnabled": True},
      resources=[("AWS::ElastiCache::ReplicationGroup", ec_arn(PROD, CENTRAL, "lims-results-cache"))])

# CloudTrail, production account
event(PROD, CENTRAL, "2026-10-11T19:02:10Z", CT, "StopLogging", "contractor", {"name": ORG_TRAIL_ARN},
      error=DENIED("cloudtrail:StopLogging", ORG_TRAIL_ARN), resources=[("AWS::CloudTrail::Trail", ORG_TRAIL_ARN)])
event(PROD, CENTRAL, "2026-10-17T22:14:05Z", CT, "StopLogging", "ops", {"name": ORG_TRAIL_ARN},
      resources=[("AWS::CloudTrail::Trail", ORG_TRAIL_ARN)])
event(PROD, CENTRAL, "2026-10-18T06:02:41Z", CT, "StartLogging", "ops", {"name": ORG_TRAIL_ARN},
      resources=[("AWS::CloudTrail::Trail", ORG_TRAIL_ARN)])
event(PROD, WEST, "2026-10-19T12:30:00Z", CT, "UpdateTrail", "deploy",
      {"name": "lims-app-debug", "enableLogFileValidation": False},
      response={"name": "lims-app-debug", "trailARN": DEBUG_TRAIL_ARN, "logFileValidationEnabled": False,
                "isMultiRegionTrail": False, "s3BucketName": "lims-app-debug-logs-111122223333"},
      resources=[("AWS::CloudTrail::Trail", DEBUG_TRAIL_ARN)])
event(PROD, WEST, "2026-10-19T12:31:12Z", CT, "PutEventSelectors", "deploy",
      {"trailName": "lims-app-debug", "eventSelectors": [{"readWriteType": "WriteOnly", "includeManagementEvents": True,
                                                          "excludeManagementEventSources": ["kms.amazonaws.com"]}]},
      resources=[("AWS::CloudTrail::Trail", DEBUG_TRAIL_ARN)])
# CloudWatch Logs, production account: the org trail's log group retention cut to 90 days.
event(PROD, CENTRAL, "2026-10-22T16:40:12Z", LOGS, "PutRetentionPolicy", "ops",
      {"logGroupName": "CloudTrail/lims-org-audit", "retentionInDays": 90})
event(PROD, CENTRAL, "2026-10-25T10:00:00Z", CT, "AddTags", "security",
      {"resourceId": ORG_TRAIL_ARN, "tagsList": [{"key": "gxp", "value": "true"}]},
      resources=[("AWS::CloudTrail::Trail", ORG_TRAIL_ARN)])

# Disaster-recovery account
for day in ("2026-10-01T09:20:00Z", "2026-10-15T09:21:13Z", "2026-10-29T09:22:40Z"):
    event(DR, CENTRAL, day, AG, "CreateDeployment", "pipeline",
          {"restApiId": "m2h6j8k1zx", "createDeploymentInput": {"stageName": "dr", "description": "dr sync"}, "template": False},
          response={"id": "depdr1", "createdDate": "Oct 1, 2026 9:20:00 AM"})
event(DR, CENTRAL, "2026-10-08T14:10:00Z", AG, "UpdateStage", "ops",
      stage_patch("m2h6j8k1zx", "dr", [("/tracingEnabled", "true")]),
      resources=[("AWS::ApiGateway::Stage", "m2h6j8k1zx/dr")])
# The DR account is the compliant example: its changes touch no judged setting.
event(DR, CENTRAL, "2026-10-22T13:45:21Z", CT, "AddTags", "root",
      {"resourceId": DR_TRAIL_ARN, "tagsList": [{"key": "gxp", "value": "true"}, {"key": "dr", "value": "true"}]},
      resources=[("AWS::CloudTrail::Trail", DR_TRAIL_ARN)])
event(DR, CENTRAL, "2026-10-30T17:05:00Z", KMS, "PutKeyPolicy", "root",
      {"keyId": K_DR_DB, "policyName": "default", "bypassPolicyLockoutSafetyCheck": False},
      error=("MalformedPolicyDocumentException", "The new key policy will not allow you to update the key policy in the future."),
      resources=[("AWS::KMS::Key", key_arn(DR, CENTRAL, K_DR_DB))])

# LookupEvents query plan actually made, per account-region (DESIGN.md "LookupEvents query plan").
KMS_EVENT_NAMES = ["CancelKeyDeletion", "ConnectCustomKeyStore", "CreateAlias", "CreateCustomKeyStore", "CreateGrant",
                   "CreateKey", "DeleteAlias", "DeleteCustomKeyStore", "DeleteImportedKeyMaterial", "DeleteKey",
                   "DisableKey", "DisableKeyRotation", "DisconnectCustomKeyStore", "EnableKey", "EnableKeyRotation",
                   "ImportKeyMaterial", "PutKeyPolicy", "ReplicateKey", "RetireGrant", "RevokeGrant", "RotateKey",
                   "RotateKeyOnDemand", "ScheduleKeyDeletion", "TagResource", "UntagResource", "UpdateAlias",
                   "UpdateCustomKeyStore", "UpdateKeyDescription", "UpdatePrimaryRegion"]


def lookup_queries(account, region):
    kept = events.get((account, region), [])
    queries = []
    for key, value, source in [("EventSource", AG, AG), ("EventSource", CT, CT), ("EventSource", EC, EC),
                               ("EventSource", LOGS, LOGS), ("EventSource", S3, S3)]:
        n = sum(1 for e in kept if e["EventSource"] == source)
        reads = {AG: 4120, CT: 310, EC: 0, LOGS: 38, S3: 12}[source]
        returned = n + reads
        queries.append({"attribute_key": key, "attribute_value": value, "calls": returned // 50 + 1,
                        "events_returned": returned, "events_kept": n})
    for name in KMS_EVENT_NAMES:
        n = sum(1 for e in kept if e["EventSource"] == KMS and e["EventName"] == name)
        queries.append({"attribute_key": "EventName", "attribute_value": name, "calls": 1,
                        "events_returned": n, "events_kept": n})
    return queries


PERIOD_END = "2026-11-01T00:00:00Z"
# The settings were read from 06:00 (collected_at); the events up to after that.
EVENTS_UNTIL = "2026-11-01T06:04:10Z"


def cloudtrail(account, region, trails, integrity=None):
    evs = sorted(events.get((account, region), []), key=lambda e: e["EventTime"], reverse=True)
    evidence = {"trails": trails,
                "events": [e for e in evs if e["EventTime"] < PERIOD_END],
                "lookup_queries": lookup_queries(account, region)}
    later = [e for e in evs if e["EventTime"] >= PERIOD_END]
    if later:
        evidence["events_after_period"] = later
    evidence["events_until"] = EVENTS_UNTIL
    if integrity is not None:
        evidence["log_integrity"] = integrity
    return evidence


# ---------------------------------------------------------------------------------------------
# Log file integrity (cloudtrail-log-integrity): the digest-chain validation of each region's
# trail over the period. The production trail's chain has a three-hour gap (its digests of
# 14 October 02:01-05:01 were deleted) and one modified log file: FAIL. The DR trail's is intact:
# PASS, in both regions. The production account's eu-west-1 shows none (its events came from
# LookupEvents: EVIDENCE_GAP).
# The demo keeps the findings and counts, not the 745 chain entries a month has, and stands in
# for CloudTrail's eu-central-1 key with the public key of the tests' signing key
# (tests/fixtures/trail-digests/test-signing-key.pem).
DEMO_PUBLIC_KEY = "MIIBCgKCAQEAhvsU2MV8d/pO5cjYoeWmODutjA7Rn6tYSpcKXdFTfND21nSWV/ptTtGWBKch23VF2+y9/zN33kre2HNZRmADrkyDCTNk/sLG5Ml658JzlQ7ljateFCtGXAeXUdbr4NAttbFNFbva+ZdyIeJQPNhatH6DpVH0mle73kcICLNzDL4iIcIytWXD2nLCZVLF1J24BLj/yCtDP1f4i3vv9cLpmHN276EQQRluw2efbLKvgrl7WfL5PUKUAUVziQdd4dpIOw1hJcgphuyCCqVXD5A0YC1Y2G/dhqqoFhSDBPvJzUgBlE+Sek14OFQ5UaU2CVe2ehLAX+xk/obGIY17znObIwIDAQAB"


def public_keys():
    der = base64.b64decode(DEMO_PUBLIC_KEY)
    return {"PublicKeyList": [{"Value": DEMO_PUBLIC_KEY, "ValidityStartTime": "2026-06-01T00:00:00Z",
                               "ValidityEndTime": None,
                               "Fingerprint": hashlib.md5(der).hexdigest()}]}


def digest_key(account, region, trail, end):
    """A digest's key; the demo's validated trails are homed in eu-central-1."""
    day = f"{end[0:4]}/{end[4:6]}/{end[6:8]}"
    return (f"cloudtrail/AWSLogs/{account}/CloudTrail-Digest/{region}/{day}/"
            f"{account}_CloudTrail-Digest_{region}_{trail}_{CENTRAL}_{end}.json.gz")


def log_integrity(account, region, trail, bucket, log_files, findings):
    period = {"start": "2026-10-01T00:00:00Z", "end": PERIOD_END}
    missing_digests = sum(1 for f in findings if f["kind"] == "DigestGap") * 3
    return [{
        "trail": trail,
        "trail_arn": f"arn:aws:cloudtrail:{CENTRAL}:{account}:trail/{trail}",
        "range": period,
        "result": {"validated": {
            "report": {
                "bucket": bucket,
                "location": {"prefix": "cloudtrail", "organization_id": None, "account": account, "region": region},
                "trail": trail,
                "range": period,
                # Digests ending in (start, end + 1 hour]: 745 for October.
                "digests_checked": 745 - missing_digests,
                "log_files_checked": log_files,
                "findings": findings,
                "chain": [],
            },
            "public_keys": public_keys(),
        }},
    }]


def prod_integrity():
    trail, bucket = "lims-org-audit", f"lims-audit-trail-{PROD}"
    modified = (f"cloudtrail/AWSLogs/{PROD}/CloudTrail/{CENTRAL}/2026/10/22/"
                f"{PROD}_CloudTrail_{CENTRAL}_20261022T1310Z_x3Fq9LmT2aP0bV7c.json.gz")
    listing = digest_key(PROD, CENTRAL, trail, "20261022T140131Z")
    return log_integrity(PROD, CENTRAL, trail, bucket, 8912, [
        {"covers": {"start": "2026-10-14T02:01:31Z", "end": "2026-10-14T05:01:31Z"}, "kind": "DigestGap",
         "file": digest_key(PROD, CENTRAL, trail, "20261014T060131Z"),
         "detail": "no digest file covers these hours (this is the next digest file); "
                   "36 log files of these hours are listed in no digest and unproven"},
        {"covers": {"start": "2026-10-22T13:05:12Z", "end": "2026-10-22T13:09:48Z"}, "kind": "Modified",
         "file": modified,
         "detail": "SHA-256 of its content is 5d2a0c3e8f71b94a6e1d0c2b7a9f8e3d4c5b6a7f8e9d0c1b2a3f4e5d6c7b8a90, "
                   f"{listing} recorded 0b7c4e9a1f3d5b8e2a6c0d4f7b1e9a3c5d8f2b6e0a4c7d1f9b3e5a8c2d6f0b4e"},
    ])


def dr_integrity(region, log_files):
    return log_integrity(DR, region, "lims-dr-audit", f"lims-dr-audit-trail-{DR}", log_files, [])


def caller(account):
    return {"UserId": f"AROAEXAMPLECOLLECT{account[-2:]}:gxp-evidence-2026-11",
            "Account": account,
            "Arn": f"arn:aws:sts::{account}:assumed-role/GxpEvidenceCollector/gxp-evidence-2026-11"}


def s3_bucket(name, region, created):
    """One bucket as S3 ListBuckets gives it."""
    return {"Name": name, "BucketRegion": region, "CreationDate": created}


# ---------------------------------------------------------------------------------------------
# The trails' S3 buckets (cloudtrail-bucket-protection): the production audit bucket and the DR
# bucket are protected; the debug trail's bucket has no access logging and a lifecycle rule that
# deletes log files after 90 days (the minimum log retention is 365 days).

def cloudtrail_bucket_policy(bucket, account):
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "AWSCloudTrailAclCheck", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:GetBucketAcl", "Resource": f"arn:aws:s3:::{bucket}",
         "Condition": {"StringEquals": {"aws:SourceAccount": account}}},
        {"Sid": "AWSCloudTrailWrite", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/cloudtrail/AWSLogs/{account}/*",
         "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control",
                                        "aws:SourceAccount": account}}},
        {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
         "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]})


ALL_BLOCKED = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
               "RestrictPublicBuckets": True}


def owner_acl(account):
    canonical = uid("canonical", account) * 2
    return {"OwnerID": canonical, "Grants": [{"GranteeType": "CanonicalUser", "ID": canonical,
                                              "Permission": "FULL_CONTROL"}]}


def trail_bucket(name, region, account, *, logging, lock, versioning, lifecycle):
    return {
        "name": name,
        "region": {"configured": region},
        "policy": {"configured": cloudtrail_bucket_policy(name, account)},
        "acl": {"configured": owner_acl(account)},
        "public_access_block": {"configured": ALL_BLOCKED},
        "logging": logging,
        "object_lock": lock,
        "versioning": {"configured": versioning},
        "lifecycle": lifecycle,
    }


prod_trail_buckets = {
    "account_public_access_block": {"configured": ALL_BLOCKED},
    "buckets": [
        trail_bucket("lims-app-debug-logs-111122223333", WEST, PROD,
                     logging={"not_configured": "absent"},
                     lock={"not_configured": "ObjectLockConfigurationNotFoundError"},
                     versioning={"Status": "Enabled", "MfaDelete": "Disabled"},
                     lifecycle={"configured": [{"ID": "expire-debug-logs", "Status": "Enabled",
                                                "NeedsTags": False, "ExpirationDays": 90}]}),
        trail_bucket("lims-audit-trail-111122223333", CENTRAL, PROD,
                     logging={"configured": {"TargetBucket": "lims-s3-access-logs-111122223333",
                                             "TargetPrefix": "lims-audit-trail/"}},
                     lock={"configured": {"ObjectLockEnabled": "Enabled",
                                          "DefaultRetention": {"Mode": "COMPLIANCE", "Years": 10}}},
                     versioning={"Status": "Enabled"},
                     lifecycle={"configured": [{"ID": "archive-then-expire-after-10-years", "Status": "Enabled",
                                                "Prefix": "cloudtrail/", "NeedsTags": False,
                                                "ExpirationDays": 3660}]}),
    ],
}
dr_trail_buckets = {
    "account_public_access_block": {"not_configured": "NoSuchPublicAccessBlockConfiguration"},
    "buckets": [
        trail_bucket("lims-dr-audit-trail-444455556666", CENTRAL, DR,
                     logging={"configured": {"TargetBucket": "lims-dr-s3-access-logs-444455556666",
                                             "TargetPrefix": "lims-dr-audit-trail/"}},
                     lock={"not_configured": "ObjectLockConfigurationNotFoundError"},
                     versioning={"Status": "Enabled", "MfaDelete": "Enabled"},
                     lifecycle={"not_configured": "NoSuchLifecycleConfiguration"}),
    ],
}

org_shadow = json.loads(json.dumps(org_trail))  # the multi-region trail as seen from eu-west-1
dr_shadow = json.loads(json.dumps(dr_trail))
# The trails' CloudWatch Logs groups, read in their home region (DescribeLogGroups shape). The production
# group's retention was cut to 90 days during the period (the PutRetentionPolicy event below), less than the
# policy's 365: cloudtrail-cloudwatch-logs fails it in the AWS Config reading from then on. The DR group keeps
# its events forever, encrypted with the DR key: PASS.
org_trail["log_group"] = {"found": {
    "logGroupName": "CloudTrail/lims-org-audit", "arn": log_group_arn(PROD, CENTRAL, "CloudTrail/lims-org-audit"),
    "retentionInDays": 90, "kmsKeyId": key_arn(PROD, CENTRAL, K_AUDIT), "creationTime": 1718697000000,
    "metricFilterCount": 3, "storedBytes": 48213377021, "logGroupClass": "STANDARD"}}
dr_trail["log_group"] = {"found": {
    "logGroupName": "CloudTrail/lims-dr-audit", "arn": log_group_arn(DR, CENTRAL, "CloudTrail/lims-dr-audit"),
    "kmsKeyId": key_arn(DR, CENTRAL, K_DR_DB), "creationTime": 1756729800000,
    "metricFilterCount": 3, "storedBytes": 3912044170, "logGroupClass": "STANDARD"}}

snapshot = {
    "schema_version": 1,
    "tool": {"name": "gxp-evidence", "version": "0.1.0"},
    "system_name": "LIMS Production — Qualitätskontrolle Zürich & Łódź",
    "collected_at": "2026-11-01T06:00:00Z",
    "period": {"start": "2026-10-01T00:00:00Z", "end": "2026-11-01T00:00:00Z"},
    "scope": {"accounts": [PROD, DR], "regions": [CENTRAL, WEST]},
    # The buckets holding GxP records: the production one's data events are not logged (FAIL),
    # the DR one's are (PASS).
    "policy": {"max_rotation_days": 365,
               "gxp_buckets": [f"lims-dr-records-{DR}", f"lims-records-{PROD}"]},
    "accounts": [
        {
            "account_id": PROD,
            "caller_identity": caller(PROD),
            "regions": [
                {
                    "region": CENTRAL,
                    "apigateway": apigateway(PROD, [results_api, instrument_api], [
                        {"apiId": "h8t2w5x9pq", "name": "lims-instrument-webhooks", "protocolType": "HTTP",
                         "apiEndpoint": "https://h8t2w5x9pq.execute-api.eu-central-1.amazonaws.com",
                         "createdDate": "2025-09-02T10:00:00Z",
                         # GetStages: the quick-create $default stage never got access logging
                         # (apigw-v2-access-logging FAIL); prod logs to its log group (PASS).
                         "stages": [
                             {"stageName": "$default", "autoDeploy": True, "apiGatewayManaged": True,
                              "createdDate": "2025-09-02T10:00:00Z", "lastUpdatedDate": "2025-09-02T10:00:00Z"},
                             {"stageName": "prod", "autoDeploy": False, "deploymentId": "d7k2m4",
                              "accessLogSettings": {
                                  "destinationArn": f"arn:aws:logs:{CENTRAL}:{PROD}:log-group:/aws/apigateway/lims-instrument-webhooks",
                                  "format": "$context.requestId $context.identity.sourceIp $context.requestTime $context.routeKey $context.status"},
                              "createdDate": "2025-09-03T08:00:00Z", "lastUpdatedDate": "2025-09-03T08:00:00Z"}],
                         # GetRoutes: the instrument callback is open (apigw-v2-route-authorization
                         # FAIL); the status route requires IAM (PASS).
                         "routes": [
                             {"routeId": "r4p8q2z", "routeKey": "GET /status", "authorizationType": "AWS_IAM",
                              "apiKeyRequired": False, "target": "integrations/i3n5v7"},
                             {"routeId": "r9t1c6w", "routeKey": "POST /instrument-results",
                              "authorizationType": "NONE", "apiKeyRequired": False, "target": "integrations/i3n5v7"}]}]),
                    "kms": {"keys": prod_keys},
                    "cloudtrail": cloudtrail(PROD, CENTRAL, [org_trail], prod_integrity()),
                    "elasticache": {"replication_groups": [
                        # Created on 20 October without encryption at rest (see the CreateReplicationGroup event): FAIL.
                        replication_group(PROD, CENTRAL, "lims-results-cache", "LIMS result lookup cache",
                                          engine="redis", created="2026-10-20T14:05:00Z", encrypted=False,
                                          transit_mode="preferred", auth_token=True),
                    ]},
                },
                {
                    "region": WEST,
                    "apigateway": apigateway(PROD, [reporting_api]),
                    # No "kms": ListKeys was denied (see gaps), so there is no KMS evidence here.
                    "cloudtrail": cloudtrail(PROD, WEST, [org_shadow, debug_trail]),
                    "elasticache": {"replication_groups": []},
                },
            ],
            "s3_buckets": [
                s3_bucket(f"lims-app-debug-logs-{PROD}", WEST, "2025-06-18T07:25:00Z"),
                s3_bucket(f"lims-audit-trail-{PROD}", CENTRAL, "2024-03-04T09:00:00Z"),
                s3_bucket(f"lims-records-{PROD}", CENTRAL, "2024-03-04T09:10:00Z"),
            ],
            "trail_buckets": prod_trail_buckets,
        },
        {
            "account_id": DR,
            "caller_identity": caller(DR),
            "regions": [
                {
                    "region": CENTRAL,
                    # A compliant HTTP API: its stage writes access logs, its route requires IAM.
                    "apigateway": apigateway(DR, [dr_api], [
                        {"apiId": "m3d8r2k6wz", "name": "lims-dr-instrument-webhooks", "protocolType": "HTTP",
                         "apiEndpoint": "https://m3d8r2k6wz.execute-api.eu-central-1.amazonaws.com",
                         "createdDate": "2025-11-12T09:00:00Z",
                         "stages": [
                             {"stageName": "dr", "autoDeploy": False, "deploymentId": "e2p9s5",
                              "accessLogSettings": {
                                  "destinationArn": f"arn:aws:logs:{CENTRAL}:{DR}:log-group:/aws/apigateway/lims-dr-instrument-webhooks",
                                  "format": "$context.requestId $context.identity.sourceIp $context.requestTime $context.routeKey $context.status"},
                              "createdDate": "2025-11-12T09:30:00Z", "lastUpdatedDate": "2025-11-12T09:30:00Z"}],
                         "routes": [
                             {"routeId": "r2w6x8y", "routeKey": "POST /instrument-results", "authorizationType": "AWS_IAM",
                              "apiKeyRequired": False, "target": "integrations/i8b4n1"}]}]),
                    "kms": {"keys": dr_keys},
                    "cloudtrail": cloudtrail(DR, CENTRAL, [dr_trail], dr_integrity(CENTRAL, 6120)),
                    "elasticache": {"replication_groups": [
                        # Encrypted at rest with the DR database's customer managed key: PASS.
                        replication_group(DR, CENTRAL, "lims-dr-session-cache", "LIMS DR web session store",
                                          engine="valkey", created="2025-11-12T09:30:00Z", encrypted=True,
                                          kms_key=key_arn(DR, CENTRAL, K_DR_DB), user_groups=["lims-dr-app-users"]),
                    ]},
                },
                {
                    "region": WEST,
                    "apigateway": apigateway(DR, []),
                    "kms": {"keys": []},
                    "cloudtrail": cloudtrail(DR, WEST, [dr_shadow], dr_integrity(WEST, 2211)),
                    "elasticache": {"replication_groups": []},
                },
            ],
            "s3_buckets": [
                s3_bucket(f"lims-dr-audit-trail-{DR}", CENTRAL, "2025-09-01T12:00:00Z"),
                s3_bucket(f"lims-dr-records-{DR}", CENTRAL, "2025-09-01T12:05:00Z"),
            ],
            "trail_buckets": dr_trail_buckets,
        },
    ],
    "gaps": [
        {
            "account_id": PROD,
            "region": WEST,
            "service": "kms",
            "api": "ListKeys",
            "error_code": "AccessDeniedException",
            "message": f"User: arn:aws:sts::{PROD}:assumed-role/GxpEvidenceCollector/gxp-evidence-2026-11 is not authorized to perform: kms:ListKeys on resource: * with an explicit deny in a service control policy",
        }
    ],
}

out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent / "samples" / "demo-evidence.json"
out.write_text(json.dumps(snapshot, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
total = sum(len(v) for v in events.values())
print(f"wrote {out} with {total} change events")
