"""Seeds a moto server with the live-collection scenarios and prints what it made as JSON.

Usage: seed.py ENDPOINT SCENARIO [ARGS]
  scenarios REGION...   every scenario of DESIGN.md in each region (trails homed in the first; the
                        API Gateway CloudWatch role set there only; an HTTP and a WebSocket API each)
  compliant REGION      a compliant REST API stage, HTTP API, rotating key and multi-region trail
  recorded-trails REGION   the trails the recorded CloudTrail events (tests/fixtures/cloudtrail) act on
  scale APIS STAGES KEYS REGION   many REST APIs, stages and keys for the benchmark
  signing-keys REGION   asymmetric SIGN_VERIFY keys: ECC_NIST_P256 and RSA_2048, with aliases
  trail-bucket REGION BUCKET PREFIX DIR   a trail bucket holding every file under DIR at PREFIX/
                        (its path below DIR); a KEY.metadata.json sidecar is KEY's user metadata
  delete-object REGION BUCKET KEY   deletes one object
Run by the Rust tests (tests/live.rs) and scripts/bench with moto's Python; talks only to ENDPOINT.
"""
import json
import sys

import boto3


def client(endpoint, service, region):
    return boto3.client(service, endpoint_url=endpoint, region_name=region,
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def rest_api(ag, name, methods, stage, cluster, stage_wide, overrides=(), access_log=None):
    """A REST API with the given (path, verb, auth) methods deployed to one stage.

    stage_wide / overrides are method settings applied with update-stage patch operations;
    cacheDataEncrypted is always set explicitly (moto defaults it to true).
    """
    api = ag.create_rest_api(name=name)["id"]
    root = next(r["id"] for r in ag.get_resources(restApiId=api)["items"] if r["path"] == "/")
    parents = {"/": root}
    for path, verb, auth in methods:
        parent = "/"
        for part in [p for p in path.split("/") if p]:
            here = parent.rstrip("/") + "/" + part
            if here not in parents:
                parents[here] = ag.create_resource(restApiId=api, parentId=parents[parent], pathPart=part)["id"]
            parent = here
        ag.put_method(restApiId=api, resourceId=parents[path], httpMethod=verb, authorizationType=auth)
        ag.put_integration(restApiId=api, resourceId=parents[path], httpMethod=verb, type="MOCK")
    deployment = ag.create_deployment(restApiId=api)["id"]
    ag.create_stage(restApiId=api, stageName=stage, deploymentId=deployment, cacheClusterEnabled=cluster)
    ops = []
    for key, setting in [("*/*", stage_wide)] + list(overrides):
        prefix = "/" + key
        caching, encrypted, level = setting
        ops += [
            {"op": "replace", "path": f"{prefix}/caching/enabled", "value": str(caching).lower()},
            {"op": "replace", "path": f"{prefix}/caching/dataEncrypted", "value": str(encrypted).lower()},
        ]
        if level:
            ops.append({"op": "replace", "path": f"{prefix}/logging/loglevel", "value": level})
    if access_log:
        ops.append({"op": "replace", "path": "/accessLogSettings/destinationArn", "value": access_log})
    ag.update_stage(restApiId=api, stageName=stage, patchOperations=ops)
    return api


def scenarios(endpoint, regions):
    made = {}
    for region in regions:
        ag = client(endpoint, "apigateway", region)
        kms = client(endpoint, "kms", region)
        r = {}
        # API Gateway: names say what each stage demonstrates.
        r["api_encrypted"] = rest_api(ag, "encrypted-cache", [("/orders", "GET", "AWS_IAM")], "prod", True,
                                      (True, True, "INFO"))
        r["api_unencrypted"] = rest_api(ag, "unencrypted-cache", [("/payments", "GET", "AWS_IAM")], "prod", True,
                                        (True, False, "ERROR"))
        # No caching at all: Security Hub passes, AWS Config fails (cluster off, nothing cached).
        r["api_no_cache"] = rest_api(ag, "no-cache", [("/catalog", "GET", "NONE")], "v1", False,
                                     (False, False, "OFF"))
        # Stage-wide encrypted, but one method overrides it: only a per-method evaluation sees it.
        r["api_override"] = rest_api(ag, "method-override", [("/items", "GET", "AWS_IAM"), ("/items/{id}", "PUT", "AWS_IAM")],
                                     "prod", True, (True, True, "INFO"),
                                     overrides=[("~1items~1{id}/PUT", (True, False, "INFO"))])
        # API Gateway v2: no cache, listed as outside the cache control.
        v2 = client(endpoint, "apigatewayv2", region)
        r["api_http"] = v2.create_api(Name="http-api", ProtocolType="HTTP")["ApiId"]
        r["api_websocket"] = v2.create_api(Name="websocket-api", ProtocolType="WEBSOCKET",
                                           RouteSelectionExpression="$request.body.action")["ApiId"]
        # KMS: one key of every kind in DESIGN.md.
        def key(description, **kw):
            return kms.create_key(Description=description, **kw)["KeyMetadata"]["KeyId"]
        r["key_rotating"] = key("rotation on")
        kms.enable_key_rotation(KeyId=r["key_rotating"])
        kms.create_alias(AliasName=f"alias/rotating-{region}", TargetKeyId=r["key_rotating"])
        r["key_not_rotating"] = key("rotation off")
        r["key_asymmetric"] = key("signing", KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")
        r["key_hmac"] = key("hmac", KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")
        r["key_pending_deletion"] = key("to delete")
        kms.schedule_key_deletion(KeyId=r["key_pending_deletion"], PendingWindowInDays=7)
        r["key_disabled"] = key("disabled")
        kms.disable_key(KeyId=r["key_disabled"])
        r["key_external"] = key("imported", Origin="EXTERNAL")
        made[region] = r
    # CloudTrail: one multi-region trail (validation, encryption) homed in the first region,
    # and a single-region trail without either in the last.
    home, other = regions[0], regions[-1]
    cloudwatch_role(endpoint, home)
    # KMS: a multi-Region key whose rotation is off on the primary (first region); its replica
    # in the last region is judged by, and names, the primary.
    kms_home = client(endpoint, "kms", home)
    primary = kms_home.create_key(Description="multi-Region", MultiRegion=True)["KeyMetadata"]
    if other != home:
        kms_home.replicate_key(KeyId=primary["KeyId"], ReplicaRegion=other)
    made["key_multi_region"] = {"id": primary["KeyId"], "arn": primary["Arn"], "home": home, "replica": other}
    made["trail_multi_region"] = audit_trail(endpoint, home, made[home]["key_rotating"])
    if other != home:
        bucket(endpoint, other, "gxp-local-logs")
        client(endpoint, "cloudtrail", other).create_trail(Name="local-only", S3BucketName="gxp-local-logs")
    return made


def cloudwatch_role(endpoint, region):
    """Sets the region's API Gateway CloudWatch role (GetAccount cloudwatchRoleArn)."""
    arn = "arn:aws:iam::123456789012:role/apigateway-cloudwatch"
    client(endpoint, "apigateway", region).update_account(
        patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn", "value": arn}])
    return arn


def deployment_of(ag, api):
    """The deployment the API's (only) stage serves."""
    return ag.get_stages(restApiId=api)["item"][0]["deploymentId"]


def bucket(endpoint, region, name):
    s3 = client(endpoint, "s3", region)
    if region == "us-east-1":
        s3.create_bucket(Bucket=name)
    else:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})


def protected_bucket(endpoint, region, name):
    """A trail bucket cloudtrail-bucket-protection passes: Object Lock with a default retention,
    server access logging, all four Block Public Access settings."""
    s3 = client(endpoint, "s3", region)
    location = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True, **location)
    s3.put_object_lock_configuration(Bucket=name, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 400}}})
    s3.create_bucket(Bucket=name + "-access", **location)
    s3.put_bucket_acl(Bucket=name + "-access", ACL="log-delivery-write")
    s3.put_bucket_logging(Bucket=name, BucketLoggingStatus={"LoggingEnabled": {
        "TargetBucket": name + "-access", "TargetPrefix": name + "/"}})
    s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True})


def audit_trail(endpoint, home, key_id):
    """A compliant multi-region trail: logging, read+write management events, validation, KMS,
    delivering also to a KMS-encrypted CloudWatch Logs group kept 400 days."""
    protected_bucket(endpoint, home, "gxp-trail-logs")
    ct = client(endpoint, "cloudtrail", home)
    key_arn = client(endpoint, "kms", home).describe_key(KeyId=key_id)["KeyMetadata"]["Arn"]
    logs = client(endpoint, "logs", home)
    logs.create_log_group(logGroupName="CloudTrail/org-audit", kmsKeyId=key_arn)
    logs.put_retention_policy(logGroupName="CloudTrail/org-audit", retentionInDays=400)
    trail = ct.create_trail(Name="org-audit", S3BucketName="gxp-trail-logs", IsMultiRegionTrail=True,
                            EnableLogFileValidation=True, KmsKeyId=key_arn,
                            CloudWatchLogsLogGroupArn=f"arn:aws:logs:{home}:123456789012:log-group:CloudTrail/org-audit:*",
                            CloudWatchLogsRoleArn="arn:aws:iam::123456789012:role/CloudTrailToCloudWatchLogs")
    ct.start_logging(Name="org-audit")
    ct.put_event_selectors(TrailName="org-audit", EventSelectors=[
        {"ReadWriteType": "All", "IncludeManagementEvents": True}])
    return trail["TrailARN"]


def compliant(endpoint, home):
    """A compliant account with one resource of each kind, so that every collection call is made:
    a REST API stage caching encrypted with execution logging, an HTTP API stage with access
    logging and an IAM-authorized route, a rotating key protecting a compliant multi-region trail."""
    ag = client(endpoint, "apigateway", home)
    api = rest_api(ag, "encrypted-cache", [("/orders", "GET", "AWS_IAM")], "prod", True, (True, True, "INFO"))
    cloudwatch_role(endpoint, home)
    kms = client(endpoint, "kms", home)
    key_id = kms.create_key(Description="trail key")["KeyMetadata"]["KeyId"]
    kms.enable_key_rotation(KeyId=key_id)
    # An HTTP API whose stage writes access logs and whose route requires IAM authorization.
    v2 = client(endpoint, "apigatewayv2", home)
    http_api = v2.create_api(Name="compliant-http", ProtocolType="HTTP")["ApiId"]
    v2.create_stage(ApiId=http_api, StageName="prod", AccessLogSettings={
        "DestinationArn": f"arn:aws:logs:{home}:123456789012:log-group:compliant-http-access",
        "Format": "$context.requestId $context.status"})
    v2.create_route(ApiId=http_api, RouteKey="GET /orders", AuthorizationType="AWS_IAM")
    return {"api": api, "deployment": deployment_of(ag, api), "key": key_id,
            "trail": audit_trail(endpoint, home, key_id), "http_api": http_api}


# The trails the recorded events act on: StopLogging x3 and StartLogging x3 on ct-stop-trail,
# all refused with TrailNotFoundException; CreateTrail, an effective StartLogging and an
# effective DeleteTrail on ctlr-trail.
RECORDED_TRAILS = ["stratus-red-team-ct-stop-trail-qzbgnfqisx", "stratus-red-team-ctlr-trail-zqfsvooxqj"]


def recorded_trails(endpoint, region):
    """The recorded events' trails, single-region and logging, so that the continuity of each can be
    evaluated against the recorded StopLogging / StartLogging / DeleteTrail events."""
    bucket(endpoint, region, "gxp-recorded-trail-logs")
    ct = client(endpoint, "cloudtrail", region)
    made = {}
    for name in RECORDED_TRAILS:
        made[name] = ct.create_trail(Name=name, S3BucketName="gxp-recorded-trail-logs")["TrailARN"]
        ct.start_logging(Name=name)
    return made


def scale(endpoint, apis, stages, keys, region):
    ag = client(endpoint, "apigateway", region)
    kms = client(endpoint, "kms", region)
    per_api = max(1, stages // apis)
    made_stages = 0
    for i in range(apis):
        api = ag.create_rest_api(name=f"api-{i:04d}")["id"]
        root = ag.get_resources(restApiId=api)["items"][0]["id"]
        res = ag.create_resource(restApiId=api, parentId=root, pathPart="items")["id"]
        ag.put_method(restApiId=api, resourceId=res, httpMethod="GET", authorizationType="AWS_IAM")
        ag.put_integration(restApiId=api, resourceId=res, httpMethod="GET", type="MOCK")
        deployment = ag.create_deployment(restApiId=api)["id"]
        count = per_api + (1 if i < stages - per_api * apis else 0)
        for s in range(count):
            ag.create_stage(restApiId=api, stageName=f"s{s}", deploymentId=deployment, cacheClusterEnabled=True)
            ag.update_stage(restApiId=api, stageName=f"s{s}", patchOperations=[
                {"op": "replace", "path": "/*/*/caching/enabled", "value": "true"},
                {"op": "replace", "path": "/*/*/caching/dataEncrypted", "value": "true"}])
            made_stages += 1
    for i in range(keys):
        key_id = kms.create_key(Description=f"key {i}")["KeyMetadata"]["KeyId"]
        if i % 2 == 0:
            kms.enable_key_rotation(KeyId=key_id)
    return {"apis": apis, "stages": made_stages, "keys": keys}


def signing_keys(endpoint, region):
    """Keys for kms:Sign: alias/gxp-qa-signing (ECC_NIST_P256), alias/gxp-qa-signing-rsa
    (RSA_2048) and alias/gxp-encryption (a symmetric key, which cannot sign)."""
    kms = client(endpoint, "kms", region)
    made = {}
    for alias, spec, usage in [("gxp-qa-signing", "ECC_NIST_P256", "SIGN_VERIFY"),
                               ("gxp-qa-signing-rsa", "RSA_2048", "SIGN_VERIFY"),
                               ("gxp-encryption", "SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT")]:
        arn = kms.create_key(KeySpec=spec, KeyUsage=usage, Description=alias)["KeyMetadata"]["Arn"]
        kms.create_alias(AliasName=f"alias/{alias}", TargetKeyId=arn)
        made[alias] = arn
    return made


def trail_bucket(endpoint, region, bucket, prefix, root):
    import os
    s3 = client(endpoint, "s3", region)
    try:
        if region == "us-east-1":
            s3.create_bucket(Bucket=bucket)
        else:
            s3.create_bucket(Bucket=bucket,
                             CreateBucketConfiguration={"LocationConstraint": region})
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass  # made by another scenario (validated-trails)
    sidecar = ".metadata.json"
    keys = []
    for folder, _, files in os.walk(root):
        for name in sorted(files):
            if name.endswith(sidecar):
                continue
            path = os.path.join(folder, name)
            relative = os.path.relpath(path, root).replace(os.sep, "/")
            key = f"{prefix}/{relative}" if prefix else relative
            metadata = {}
            if os.path.exists(path + sidecar):
                with open(path + sidecar) as f:
                    metadata = json.load(f)
            with open(path, "rb") as f:
                s3.put_object(Bucket=bucket, Key=key, Body=f.read(), Metadata=metadata)
            keys.append(key)
    return {"bucket": bucket, "keys": len(keys)}


def validated_trails(endpoint, region, bucket_name, prefix, trails):
    """Logging single-region trails with log file validation on, delivering to one bucket below
    `prefix` (cloudtrail-log-integrity); the last argument says per trail whether validation is
    on (name=on|off)."""
    bucket(endpoint, region, bucket_name)
    ct = client(endpoint, "cloudtrail", region)
    made = {}
    for spec in trails:
        name, validation = spec.split("=")
        made[name] = ct.create_trail(Name=name, S3BucketName=bucket_name, S3KeyPrefix=prefix,
                                     EnableLogFileValidation=(validation == "on"))["TrailARN"]
        ct.start_logging(Name=name)
    return made


if __name__ == "__main__":
    endpoint, scenario, *args = sys.argv[1:]
    if scenario == "scenarios":
        print(json.dumps(scenarios(endpoint, args)))
    elif scenario == "compliant":
        print(json.dumps(compliant(endpoint, args[0])))
    elif scenario == "recorded-trails":
        print(json.dumps(recorded_trails(endpoint, args[0])))
    elif scenario == "scale":
        print(json.dumps(scale(endpoint, int(args[0]), int(args[1]), int(args[2]), args[3])))
    elif scenario == "validated-trails":
        print(json.dumps(validated_trails(endpoint, args[0], args[1], args[2], args[3:])))
    elif scenario == "signing-keys":
        print(json.dumps(signing_keys(endpoint, args[0])))
    elif scenario == "delete-object":
        client(endpoint, "s3", args[0]).delete_object(Bucket=args[1], Key=args[2])
        print(json.dumps({"deleted": args[2]}))
    elif scenario == "trail-bucket":
        print(json.dumps(trail_bucket(endpoint, *args)))
    else:
        sys.exit(f"unknown scenario {scenario}")
