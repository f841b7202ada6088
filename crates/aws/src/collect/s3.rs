//! The trails' S3 buckets (`cloudtrail-bucket-protection`): for each distinct bucket the
//! account's trails deliver to, GetBucketLocation (asked in the trail's home region), then in
//! the bucket's region GetBucketPolicy, GetBucketAcl, GetPublicAccessBlock, GetBucketLogging,
//! GetObjectLockConfiguration, GetBucketVersioning and GetBucketLifecycleConfiguration; once
//! per account, s3control GetPublicAccessBlock. The "not configured" answers of the S3 API
//! reference (NoSuchBucketPolicy, NoSuchPublicAccessBlockConfiguration,
//! ObjectLockConfigurationNotFoundError, NoSuchLifecycleConfiguration) are kept as such; every
//! other failure (AccessDenied on another account's bucket included) is kept as the setting's
//! failure and recorded as a snapshot gap, so the control reads it as unknown.

use std::collections::BTreeMap;

use aws_sdk_s3::Client;
use gxp_evidence_core::evidence::{
    AclGrant, BucketAcl, BucketVersioning, DefaultRetention, Extra, LifecycleRule, LoggingEnabled,
    ObjectLockConfiguration, PublicAccessBlock, S3Answer, TrailBucketEvidence, TrailBuckets,
    TrailEvidence,
};

use super::sdk::{self, CallFailure};
use super::{CredentialsFailed, RegionContext};

const SERVICE: &str = "s3";

/// The error codes with which S3 says a configuration does not exist (S3 API reference,
/// "Error responses" and each Get operation).
const NOT_CONFIGURED: &[&str] = &[
    "NoSuchBucketPolicy",
    "NoSuchPublicAccessBlockConfiguration",
    "ObjectLockConfigurationNotFoundError",
    "NoSuchLifecycleConfiguration",
];

/// The distinct buckets of `trails`, each with the home region of a trail that delivers to it
/// (where GetBucketLocation is asked).
pub fn trail_buckets<'a>(
    trails: impl IntoIterator<Item = &'a TrailEvidence>,
) -> BTreeMap<String, Option<String>> {
    let mut buckets = BTreeMap::new();
    for trail in trails {
        if let Some(bucket) = trail
            .trail
            .s3_bucket_name
            .as_deref()
            .filter(|b| !b.is_empty())
        {
            let entry = buckets.entry(bucket.to_string()).or_insert(None);
            if entry.is_none() {
                *entry = trail.trail.home_region.clone();
            }
        }
    }
    buckets
}

/// Reads every bucket of `buckets` and the account's Block Public Access. `context` is the
/// account's context in its first collected region.
pub async fn collect(
    context: &RegionContext,
    buckets: &BTreeMap<String, Option<String>>,
) -> Result<TrailBuckets, CredentialsFailed> {
    let account_public_access_block = Some(account_block(context).await?);
    let mut collected = Vec::new();
    for (name, home) in buckets {
        collected.push(collect_bucket(context, name, home.as_deref()).await?);
    }
    Ok(TrailBuckets {
        account_public_access_block,
        buckets: collected,
        extra: Extra::new(),
    })
}

fn client(context: &RegionContext, region: &str) -> Client {
    Client::from_conf(
        aws_sdk_s3::config::Builder::from(&context.sdk)
            .region(aws_sdk_s3::config::Region::new(region.to_string()))
            .build(),
    )
}

/// A failure as evidence: "not configured" for the codes that mean it, else the failure,
/// recorded as a gap (credential failures stop the collection).
fn settle<T>(
    context: &RegionContext,
    api: &str,
    resource: &str,
    outcome: Result<Option<T>, CallFailure>,
) -> Result<S3Answer<T>, CredentialsFailed> {
    match outcome {
        Ok(Some(value)) => Ok(S3Answer::Configured(value)),
        Ok(None) => Ok(S3Answer::NotConfigured("absent".to_string())),
        Err(failure) if NOT_CONFIGURED.contains(&failure.code.as_str()) => {
            Ok(S3Answer::NotConfigured(failure.code))
        }
        Err(failure) => {
            context.check_credentials(SERVICE, api, &failure)?;
            context.record_gap(SERVICE, api, Some(resource), &failure);
            Ok(S3Answer::Failed(failure.api_error()))
        }
    }
}

fn block(
    configuration: Option<&aws_sdk_s3::types::PublicAccessBlockConfiguration>,
) -> Option<PublicAccessBlock> {
    configuration.map(|c| PublicAccessBlock {
        block_public_acls: c.block_public_acls().unwrap_or(false),
        ignore_public_acls: c.ignore_public_acls().unwrap_or(false),
        block_public_policy: c.block_public_policy().unwrap_or(false),
        restrict_public_buckets: c.restrict_public_buckets().unwrap_or(false),
    })
}

/// s3control GetPublicAccessBlock for the account. AWS's endpoint rules put the account id in
/// front of the host; a custom endpoint that is an IP address or localhost (moto, a stub)
/// cannot take that prefix, so there the URL is used as given.
async fn account_block(
    context: &RegionContext,
) -> Result<S3Answer<PublicAccessBlock>, CredentialsFailed> {
    let mut config =
        aws_sdk_s3control::config::Builder::from(&context.sdk).region(context.region());
    if let Some(url) = context.sdk.endpoint_url().filter(|url| is_local(url)) {
        config = config.endpoint_resolver(AsGiven(url.to_string()));
    }
    let client = aws_sdk_s3control::Client::from_conf(config.build());
    let _permit = context.calls.acquire().await;
    let outcome = client
        .get_public_access_block()
        .account_id(&context.account_id)
        .send()
        .await
        .map_err(|err| sdk::call_failure(&err))
        .map(|out| {
            // s3control has a type of its own for the same four flags.
            out.public_access_block_configuration()
                .map(|c| PublicAccessBlock {
                    block_public_acls: c.block_public_acls().unwrap_or(false),
                    ignore_public_acls: c.ignore_public_acls().unwrap_or(false),
                    block_public_policy: c.block_public_policy().unwrap_or(false),
                    restrict_public_buckets: c.restrict_public_buckets().unwrap_or(false),
                })
        });
    drop(_permit);
    let resource = format!("account {}", context.account_id);
    match outcome {
        Err(failure) if NOT_CONFIGURED.contains(&failure.code.as_str()) => {
            Ok(S3Answer::NotConfigured(failure.code))
        }
        Err(failure) => {
            context.check_credentials("s3control", "GetPublicAccessBlock", &failure)?;
            context.record_gap(
                "s3control",
                "GetPublicAccessBlock",
                Some(&resource),
                &failure,
            );
            Ok(S3Answer::Failed(failure.api_error()))
        }
        Ok(Some(value)) => Ok(S3Answer::Configured(value)),
        Ok(None) => Ok(S3Answer::NotConfigured("absent".to_string())),
    }
}

fn is_local(url: &str) -> bool {
    let host = url
        .split("://")
        .nth(1)
        .unwrap_or(url)
        .split(['/', ':'])
        .next()
        .unwrap_or_default();
    host == "localhost" || host.starts_with('[') || host.parse::<std::net::Ipv4Addr>().is_ok()
}

/// An endpoint resolver that answers the configured URL unchanged.
#[derive(Debug)]
struct AsGiven(String);

impl aws_sdk_s3control::config::endpoint::ResolveEndpoint for AsGiven {
    fn resolve_endpoint<'a>(
        &'a self,
        _: &'a aws_sdk_s3control::config::endpoint::Params,
    ) -> aws_sdk_s3control::config::endpoint::EndpointFuture<'a> {
        aws_sdk_s3control::config::endpoint::EndpointFuture::ready(Ok(
            aws_sdk_s3control::config::endpoint::Endpoint::builder()
                .url(self.0.clone())
                .build(),
        ))
    }
}

/// GetBucketLocation's `LocationConstraint` as a region: empty is us-east-1, `EU` eu-west-1
/// (S3 API reference GetBucketLocation).
fn location_region(constraint: Option<&str>) -> String {
    match constraint {
        None | Some("") => "us-east-1".to_string(),
        Some("EU") => "eu-west-1".to_string(),
        Some(region) => region.to_string(),
    }
}

async fn collect_bucket(
    context: &RegionContext,
    name: &str,
    home: Option<&str>,
) -> Result<TrailBucketEvidence, CredentialsFailed> {
    let resource = format!("arn:aws:s3:::{name}");
    let asked_in = home.map_or_else(|| context.region.clone(), str::to_string);
    let location = context
        .call(
            client(context, &asked_in)
                .get_bucket_location()
                .bucket(name)
                .send(),
        )
        .await
        .map(|out| {
            Some(location_region(
                out.location_constraint().map(|c| c.as_str()),
            ))
        });
    let region = settle(context, "GetBucketLocation", &resource, location)?;
    let in_region = match &region {
        S3Answer::Configured(region) => region.clone(),
        _ => asked_in,
    };
    let client = client(context, &in_region);

    let policy = context
        .call(client.get_bucket_policy().bucket(name).send())
        .await
        .map(|out| out.policy().map(str::to_string));
    let acl = context
        .call(client.get_bucket_acl().bucket(name).send())
        .await
        .map(|out| {
            Some(BucketAcl {
                owner_id: out.owner().and_then(|o| o.id()).map(str::to_string),
                grants: out
                    .grants()
                    .iter()
                    .map(|grant| AclGrant {
                        grantee_type: grant.grantee().map(|g| g.r#type().as_str().to_string()),
                        uri: grant.grantee().and_then(|g| g.uri()).map(str::to_string),
                        id: grant.grantee().and_then(|g| g.id()).map(str::to_string),
                        permission: grant.permission().map(|p| p.as_str().to_string()),
                    })
                    .collect(),
            })
        });
    let public_access_block = context
        .call(client.get_public_access_block().bucket(name).send())
        .await
        .map(|out| block(out.public_access_block_configuration()));
    let logging = context
        .call(client.get_bucket_logging().bucket(name).send())
        .await
        .map(|out| {
            out.logging_enabled().map(|l| LoggingEnabled {
                target_bucket: Some(l.target_bucket().to_string()),
                target_prefix: Some(l.target_prefix().to_string()),
            })
        });
    let object_lock = context
        .call(client.get_object_lock_configuration().bucket(name).send())
        .await
        .map(|out| {
            out.object_lock_configuration()
                .map(|c| ObjectLockConfiguration {
                    object_lock_enabled: c.object_lock_enabled().map(|e| e.as_str().to_string()),
                    default_retention: c.rule().and_then(|r| r.default_retention()).map(|d| {
                        DefaultRetention {
                            mode: d.mode().map(|m| m.as_str().to_string()),
                            days: d.days().map(i64::from),
                            years: d.years().map(i64::from),
                        }
                    }),
                })
        });
    let versioning = context
        .call(client.get_bucket_versioning().bucket(name).send())
        .await
        .map(|out| {
            Some(BucketVersioning {
                status: out.status().map(|s| s.as_str().to_string()),
                mfa_delete: out.mfa_delete().map(|m| m.as_str().to_string()),
            })
        });
    let lifecycle = context
        .call(
            client
                .get_bucket_lifecycle_configuration()
                .bucket(name)
                .send(),
        )
        .await
        .map(|out| Some(out.rules().iter().map(lifecycle_rule).collect::<Vec<_>>()));

    Ok(TrailBucketEvidence {
        name: name.to_string(),
        region: Some(region),
        policy: Some(settle(context, "GetBucketPolicy", &resource, policy)?),
        acl: Some(settle(context, "GetBucketAcl", &resource, acl)?),
        public_access_block: Some(settle(
            context,
            "GetPublicAccessBlock",
            &resource,
            public_access_block,
        )?),
        logging: Some(settle(context, "GetBucketLogging", &resource, logging)?),
        object_lock: Some(settle(
            context,
            "GetObjectLockConfiguration",
            &resource,
            object_lock,
        )?),
        versioning: Some(settle(
            context,
            "GetBucketVersioning",
            &resource,
            versioning,
        )?),
        lifecycle: Some(settle(
            context,
            "GetBucketLifecycleConfiguration",
            &resource,
            lifecycle,
        )?),
        extra: Extra::new(),
    })
}

fn lifecycle_rule(rule: &aws_sdk_s3::types::LifecycleRule) -> LifecycleRule {
    let filter = rule.filter();
    let and = filter.and_then(|f| f.and());
    #[allow(deprecated)] // The legacy top-level Prefix still applies to rules written with it.
    let legacy_prefix = rule.prefix();
    let prefix = filter
        .and_then(|f| f.prefix())
        .or_else(|| and.and_then(|a| a.prefix()))
        .or(legacy_prefix)
        .filter(|p| !p.is_empty())
        .map(str::to_string);
    let needs_tags =
        filter.is_some_and(|f| f.tag().is_some()) || and.is_some_and(|a| !a.tags().is_empty());
    let expiration = rule.expiration();
    LifecycleRule {
        id: rule.id().map(str::to_string),
        status: Some(rule.status().as_str().to_string()),
        prefix,
        needs_tags,
        expiration_days: expiration.and_then(|e| e.days()).map(i64::from),
        expiration_date: expiration.and_then(|e| e.date()).and_then(sdk::timestamp),
        noncurrent_days: rule
            .noncurrent_version_expiration()
            .and_then(|e| e.noncurrent_days())
            .map(i64::from),
    }
}
