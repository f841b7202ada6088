"""Seeds an organization with member accounts in a moto server and prints what it made as JSON.

Usage: organization.py ENDPOINT ROLE EXTERNAL_ID REGION

moto's default account (123456789012, the caller of the tests) creates an organization and four
member accounts; Organizations creates the role ROLE in each, trusting the management account:
  compliant    ROLE asks for EXTERNAL_ID; a REST API stage caching encrypted with logging and a
               rotating key in REGION
  noncompliant ROLE asks for EXTERNAL_ID; a REST API stage caching unencrypted and a key without
               rotation in REGION
  no_role      ROLE deleted: AssumeRole is refused (server.py --require-existing-roles)
  closed       closed (SUSPENDED): not an active account, outside the scope
The management account gets one key without rotation in REGION. A member account's resources are
made in that account through moto's x-moto-account-id header, not through the role, so that the
role's refusals are only the collector's. Run by tests/accounts.rs; talks only to ENDPOINT.
"""
import json
import os
import sys

import boto3

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from seed import rest_api  # noqa: E402


def client(endpoint, service, region, account=None):
    made = boto3.client(service, endpoint_url=endpoint, region_name=region,
                        aws_access_key_id="testing", aws_secret_access_key="testing")
    if account:
        def in_account(request, **_):
            request.headers["x-moto-account-id"] = account
        made.meta.events.register("before-sign", in_account)
    return made


def trust_with_external_id(management, external_id):
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{management}:root"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": external_id}},
        }],
    })


def organization(endpoint, role, external_id, region):
    org = client(endpoint, "organizations", "us-east-1")
    management = org.create_organization(FeatureSet="ALL")["Organization"]["MasterAccountId"]
    made = {"management": management}
    for name in ["compliant", "noncompliant", "no_role", "closed"]:
        status = org.create_account(AccountName=name, Email=f"{name}@example.com", RoleName=role)
        made[name] = status["CreateAccountStatus"]["AccountId"]
    for name in ["compliant", "noncompliant"]:
        client(endpoint, "iam", region, made[name]).update_assume_role_policy(
            RoleName=role, PolicyDocument=trust_with_external_id(management, external_id))
    client(endpoint, "iam", region, made["no_role"]).delete_role(RoleName=role)
    org.close_account(AccountId=made["closed"])

    ag = client(endpoint, "apigateway", region, made["compliant"])
    made["compliant_api"] = rest_api(ag, "member-encrypted-cache", [("/orders", "GET", "AWS_IAM")],
                                     "prod", True, (True, True, "INFO"))
    kms = client(endpoint, "kms", region, made["compliant"])
    made["compliant_key"] = kms.create_key(Description="member rotating")["KeyMetadata"]["KeyId"]
    kms.enable_key_rotation(KeyId=made["compliant_key"])

    ag = client(endpoint, "apigateway", region, made["noncompliant"])
    made["noncompliant_api"] = rest_api(ag, "member-unencrypted-cache", [("/payments", "GET", "AWS_IAM")],
                                        "prod", True, (True, False, "ERROR"))
    kms = client(endpoint, "kms", region, made["noncompliant"])
    made["noncompliant_key"] = kms.create_key(Description="member not rotating")["KeyMetadata"]["KeyId"]

    kms = client(endpoint, "kms", region)
    made["management_key"] = kms.create_key(Description="management not rotating")["KeyMetadata"]["KeyId"]
    return made


if __name__ == "__main__":
    endpoint, role, external_id, region = sys.argv[1:]
    print(json.dumps(organization(endpoint, role, external_id, region)))
