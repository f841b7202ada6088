//! Live collection from AWS: the only module that talks to the AWS SDK. It resolves the
//! accounts (the caller's own, listed ones or the organization's, each other account through
//! its role) and their regions, collects API Gateway, KMS, ElastiCache and CloudTrail evidence
//! for every account-region concurrently (bounded), records every call that failed, and every account
//! whose role could not be used, as an evidence gap, and returns one evidence snapshot.
//! Missing or expired credentials of the caller stop the collection with an error.

pub mod accounts;
mod apigateway;
mod assume;
pub mod athena;
mod cloudtrail;
mod cloudwatch_logs;
mod elasticache;
mod kms;
pub mod named_profile;
mod organization;
pub mod pacing;
pub mod period;
pub mod progress;
mod s3;
mod s3_buckets;
pub(crate) mod sdk;
mod trail_integrity;
pub mod trail_log_store;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use accounts::Reach;
pub use accounts::{AccountSelection, AccountTarget};
use gxp_evidence_core::evidence::{
    self, AccountEvidence, CallerIdentity, EvidenceGap, EvidenceSnapshot, Extra, Period, Policy,
    RegionEvidence, S3Bucket, Scope, Timestamp, ToolInfo,
};
use progress::{Progress, RegionProgress};
pub use sdk::CallFailure;
pub use trail_log_store::{TrailLogSource, TrailLogSourceError, TrailLogStore};

/// Every IAM action the collector needs (sts:GetCallerIdentity needs none). The least-privilege
/// policy in docs/iam-policy.json grants exactly these; a unit test keeps the two in step.
pub const REQUIRED_PERMISSIONS: &[&str] = &[
    "account:ListRegions",
    "apigateway:GET",
    // `--athena` only, by the caller (docs/controls.md, "Collecting the change events with
    // Athena").
    "athena:GetQueryExecution",
    "athena:GetQueryResults",
    "athena:StartQueryExecution",
    "cloudtrail:DescribeTrails",
    "cloudtrail:GetEventSelectors",
    "cloudtrail:GetTrailStatus",
    "cloudtrail:ListPublicKeys",
    "cloudtrail:LookupEvents",
    "elasticache:DescribeReplicationGroups",
    "kms:DescribeKey",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListAliases",
    "kms:ListKeyRotations",
    "kms:ListKeys",
    "logs:DescribeLogGroups",
    "s3:GetAccountPublicAccessBlock",
    "s3:GetBucketAcl",
    "s3:GetBucketLocation",
    "s3:GetBucketLogging",
    "s3:GetBucketObjectLockConfiguration",
    "s3:GetBucketPolicy",
    "s3:GetBucketPublicAccessBlock",
    "s3:GetBucketVersioning",
    "s3:GetLifecycleConfiguration",
    "s3:ListAllMyBuckets",
];

/// What a caller collecting other accounts needs beyond `REQUIRED_PERMISSIONS` (which its own
/// account and every member account's role need): assuming the member roles, and listing the
/// organization's accounts for `AccountSelection::Organization`. docs/iam-policy-multi-account-caller.json
/// grants exactly these; a unit test keeps the two in step.
pub const MULTI_ACCOUNT_CALLER_PERMISSIONS: &[&str] =
    &["organizations:ListAccounts", "sts:AssumeRole"];

/// Account-regions collected at the same time by default. AWS limits LookupEvents (2 calls/s)
/// and the other control-plane calls per account and region, so account-regions do not slow
/// each other down: with every one of 20 accounts x 4 regions at once, a collection takes
/// about as long as its slowest account-region (scripts/bench, "accounts"); the bound only
/// keeps an organization of hundreds of accounts from opening thousands of connections.
pub const DEFAULT_MAX_PARALLEL_REGIONS: usize = 128;

/// How the regions to collect are chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegionSelection {
    /// The region of the AWS configuration (AWS_REGION, the profile's region).
    Configured,
    /// Every region enabled for the account (account:ListRegions).
    AllEnabled,
    Listed(Vec<String>),
}

impl RegionSelection {
    /// Parses `--regions`: `all` or a comma-separated list of region names.
    pub fn parse(text: &str) -> Result<Self, NotARegion> {
        if text.trim() == "all" {
            return Ok(RegionSelection::AllEnabled);
        }
        let mut regions = BTreeSet::new();
        for name in text.split(',').map(str::trim) {
            if !evidence::is_region_name(name) {
                return Err(NotARegion(name.to_string()));
            }
            regions.insert(name.to_string());
        }
        Ok(RegionSelection::Listed(regions.into_iter().collect()))
    }
}

/// A `--regions` entry that is not a region name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an AWS region name (expected e.g. eu-west-1, or `all`)")]
pub struct NotARegion(pub String);

/// Where the SDK finds credentials and endpoints.
#[derive(Debug, Clone, Default)]
pub struct AwsSettings {
    /// A named profile of the shared config files (else the standard chain decides).
    pub profile: Option<String>,
    /// One endpoint for every service (moto, a stub, a private endpoint).
    pub endpoint_url: Option<String>,
}

#[derive(Debug, Clone)]
pub struct CollectRequest {
    pub period: Period,
    /// The accounts collected (the caller's own by default).
    pub accounts: AccountSelection,
    pub regions: RegionSelection,
    pub system_name: Option<String>,
    pub policy: Policy,
    /// How long after the period's end the collection waited at least (`period::resolve`
    /// checks it), recorded in the snapshot.
    pub settle_minutes: u32,
    /// Account-regions collected at the same time.
    pub max_parallel_regions: usize,
    /// Calls in flight at once within one account-region (LookupEvents is paced separately).
    pub calls_per_region: usize,
    /// Read the change events from the trail's log files here instead of LookupEvents
    /// (`collect --trail-logs DIR|s3://BUCKET/PREFIX`): the settings still come from AWS.
    pub trail_logs: Option<TrailLogSource>,
    /// Read the change events with one Athena query over the trail's table instead
    /// (`collect --athena WORKGROUP --athena-table DB.TABLE`; exclusive with `trail_logs`).
    pub athena: Option<athena::AthenaSource>,
}

#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error(
        "AWS credentials are missing, invalid or expired ({context}): {code}: {message}. Nothing was written. Refresh the credentials (e.g. `aws sso login`, or set AWS_PROFILE / AWS_ACCESS_KEY_ID) and run again."
    )]
    Credentials {
        context: String,
        code: String,
        message: String,
    },
    #[error(
        "{context}: {message}. Nothing was written. Sign in (e.g. `aws sso login --profile NAME`), name a profile that has credentials with --profile or AWS_PROFILE, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, and run again."
    )]
    NoCredentials { context: String, message: String },
    #[error(
        "cannot connect to {endpoint} ({reason}) for {context}. Nothing was written. Check the network connection, the proxy settings and the endpoint (--endpoint-url, AWS_ENDPOINT_URL), and run again."
    )]
    Unreachable {
        context: String,
        endpoint: String,
        reason: String,
    },
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error(
        "no AWS region configured: pass --regions (e.g. --regions eu-west-1 or --regions all) or set AWS_REGION"
    )]
    NoRegion,
    #[error(
        "could not list the account's enabled regions (account:ListRegions failed with {code}: {message}); pass the regions explicitly with --regions"
    )]
    Regions { code: String, message: String },
    #[error("the collected evidence has no region to report on")]
    EmptyScope,
    #[error(
        "organizations:ListAccounts was refused ({code}: {message}). Nothing was written. --organization lists the accounts with the credentials of the organization's management account or of a delegated administrator account: run it there, or name the accounts with --accounts."
    )]
    Organization { code: String, message: String },
    #[error(
        "the account selection names no account (an organization without an active account?). Nothing was written."
    )]
    NoAccounts,
    #[error(
        "no account could be reached, so no region could be listed ({gaps}). Nothing was written. Fix the roles, or pass the regions with --regions to report every account as an evidence gap."
    )]
    NoAccountReached { gaps: String },
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
}

impl CollectError {
    fn credentials(context: &str, failure: &CallFailure) -> Self {
        if failure.code == sdk::NO_CREDENTIALS_CODE {
            return CollectError::NoCredentials {
                context: context.to_string(),
                message: failure.message.clone(),
            };
        }
        CollectError::Credentials {
            context: context.to_string(),
            code: failure.code.clone(),
            message: failure.message.clone(),
        }
    }
}

/// The credentials stopped working part-way: the whole collection is abandoned.
#[derive(Debug)]
pub(crate) struct CredentialsFailed {
    context: String,
    failure: CallFailure,
}

impl From<CredentialsFailed> for CollectError {
    fn from(value: CredentialsFailed) -> Self {
        CollectError::credentials(&value.context, &value.failure)
    }
}

/// Loads the AWS configuration through the standard chain (environment, profiles, SSO,
/// assume-role, container and instance credentials), with the project's retry and timeouts,
/// once a profile the user named is known to exist.
pub async fn load_sdk_config(settings: &AwsSettings) -> Result<SdkConfig, SettingsError> {
    check_endpoint_settings(settings)?;
    named_profile::check(settings).await?;
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(sdk::standard_retry())
        .timeout_config(sdk::timeouts());
    if let Some(profile) = &settings.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(url) = &settings.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    Ok(loader.load().await)
}

/// Why the AWS settings cannot be used, found before any call.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error(transparent)]
    Profile(#[from] named_profile::ProfileError),
    #[error(
        "{source_of_url} {shown}: {reason}. Nothing was written. Give the endpoint as http:// or https://, a host and an optional port and path, e.g. https://kms.eu-west-1.amazonaws.com or http://127.0.0.1:5000"
    )]
    EndpointUrl {
        source_of_url: &'static str,
        /// The URL without anything that could be a secret (`without_secrets`).
        shown: String,
        reason: &'static str,
    },
}

/// The endpoint URL (--endpoint-url, else AWS_ENDPOINT_URL) is one the SDK can use. A
/// malformed one would otherwise fail inside the SDK with an error that quotes the URL, user
/// name and password included, and a dump of the request, and blames the credentials.
fn check_endpoint_settings(settings: &AwsSettings) -> Result<(), SettingsError> {
    let from_env = std::env::var("AWS_ENDPOINT_URL")
        .ok()
        .filter(|url| !url.is_empty());
    let (url, source_of_url) = match (&settings.endpoint_url, &from_env) {
        (Some(url), _) => (url.as_str(), "--endpoint-url"),
        (None, Some(url)) => (url.as_str(), "AWS_ENDPOINT_URL"),
        (None, None) => return Ok(()),
    };
    match endpoint_url_problem(url) {
        Some(reason) => Err(SettingsError::EndpointUrl {
            source_of_url,
            shown: gxp_evidence_core::report::format::visible(&without_secrets(url)),
            reason,
        }),
        None => Ok(()),
    }
}

/// What is wrong with an endpoint URL, if anything.
fn endpoint_url_problem(url: &str) -> Option<&'static str> {
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some("it contains spaces or control characters");
    }
    let lower = url.to_ascii_lowercase();
    let Some(rest) = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
    else {
        return Some("it does not start with http:// or https://");
    };
    if url.contains(['?', '#']) {
        return Some("an endpoint has no query or fragment (they could carry secrets into logs)");
    }
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.contains('@') {
        return Some(
            "an endpoint carries no user name or password (AWS requests are signed, not logged in)",
        );
    }
    let (host, port) = match authority.strip_prefix('[') {
        Some(bracketed) => match bracketed.split_once(']') {
            Some((host, after)) => (host, after.strip_prefix(':')),
            None => return Some("its IPv6 address has no closing ]"),
        },
        None => match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        },
    };
    if host.is_empty() {
        return Some("it names no host");
    }
    if port.is_some_and(|port| port.is_empty() || port.parse::<u16>().is_err()) {
        return Some("its port is not a number from 0 to 65535");
    }
    None
}

/// The URL a service's calls go to, for "cannot connect to URL": the configured endpoint
/// without user name, password, query or fragment (they can hold secrets), else the
/// service's regional AWS endpoint.
fn endpoint_named(sdk: &SdkConfig, service_host: &str) -> String {
    endpoint_in_region(sdk, service_host, None)
}

/// `endpoint_named` for a client whose region overrides the configuration's (`sign
/// --region`).
pub(crate) fn endpoint_in_region(
    sdk: &SdkConfig,
    service_host: &str,
    region: Option<&str>,
) -> String {
    match sdk.endpoint_url() {
        Some(url) => without_secrets(url),
        None => {
            let region = region.unwrap_or_else(|| sdk.region().map_or("us-east-1", |r| r.as_ref()));
            format!("https://{service_host}.{region}.amazonaws.com")
        }
    }
}

/// `scheme://user:password@host:port/path?query#fragment` → `scheme://host:port/path`.
fn without_secrets(url: &str) -> String {
    let url = url.split(['?', '#']).next().unwrap_or_default();
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    if scheme.is_empty() {
        format!("{host}{path}")
    } else {
        format!("{scheme}://{host}{path}")
    }
}

#[cfg(test)]
mod endpoint_tests {
    use super::{endpoint_url_problem, without_secrets};

    #[test]
    fn malformed_endpoint_urls_are_named_before_any_call() {
        for good in [
            "http://127.0.0.1:5000",
            "https://vpce-1.kms.eu-west-1.vpce.amazonaws.com",
            "http://[::1]:9/base",
            "HTTPS://Host.example",
        ] {
            assert_eq!(endpoint_url_problem(good), None, "{good}");
        }
        for bad in [
            "user:s3cr3t@127.0.0.1:9",
            "http://user:s3cr3t@127.0.0.1:9",
            "http://user:s3cr3t@127.0.0.1:9 x",
            "http://user:s3cr3t@[::1:9",
            "http://127.0.0.1:9/?token=s3cr3t",
            "http://:9",
            "http://127.0.0.1:99999",
            "ftp://127.0.0.1",
        ] {
            assert!(endpoint_url_problem(bad).is_some(), "{bad}");
        }
    }

    /// A user name, password or query in an endpoint URL never reaches a message.
    #[test]
    fn endpoint_urls_lose_user_info_query_and_fragment() {
        for (url, shown) in [
            ("http://127.0.0.1:9", "http://127.0.0.1:9"),
            (
                "https://qa:hunter2@vpce.example:443/p?X-Amz-Signature=s#f",
                "https://vpce.example:443/p",
            ),
            ("http://token@127.0.0.1:9/", "http://127.0.0.1:9/"),
            ("127.0.0.1:9?a=b", "127.0.0.1:9"),
        ] {
            assert_eq!(without_secrets(url), shown);
        }
    }
}

impl CollectError {
    fn unreachable(
        sdk: &SdkConfig,
        service_host: &str,
        context: &str,
        failure: CallFailure,
    ) -> Self {
        CollectError::Unreachable {
            context: context.to_string(),
            endpoint: endpoint_named(sdk, service_host),
            reason: failure.message,
        }
    }
}

/// Everything one account-region task needs: who and where, where to record gaps, how many
/// calls may be in flight, and its progress line.
pub(crate) struct RegionContext {
    pub account_id: String,
    pub region: String,
    /// All regions collected in the account, so a region can tell whether a shadow trail's
    /// home region is collected too.
    pub scope_regions: Vec<String>,
    pub sdk: SdkConfig,
    pub calls: Semaphore,
    pub progress: RegionProgress,
    gaps: Mutex<Vec<EvidenceGap>>,
    /// Set when the region rejected credentials that STS accepted: it is not enabled for the
    /// account, so the remaining LookupEvents queries are not sent one by one to fail.
    region_rejected: std::sync::atomic::AtomicBool,
    /// Where the change events are read instead of LookupEvents, if anywhere (opened once,
    /// with the caller's credentials, for every account-region).
    pub trail_logs: Option<TrailLogStore>,
    /// The Athena source of the change events, if any (filled in after every region).
    pub athena: Option<athena::AthenaSource>,
}

impl RegionContext {
    fn new(
        plan: &AccountPlan,
        region: &str,
        request: &CollectRequest,
        progress: &Progress,
        trail_logs: Option<&TrailLogStore>,
    ) -> Self {
        RegionContext {
            account_id: plan.account_id.clone(),
            region: region.to_string(),
            scope_regions: plan.regions.clone(),
            sdk: plan.sdk.clone(),
            calls: Semaphore::new(request.calls_per_region.max(1)),
            progress: progress.region(&plan.account_id, region),
            gaps: Mutex::new(Vec::new()),
            region_rejected: Default::default(),
            trail_logs: trail_logs.cloned(),
            athena: request.athena.clone(),
        }
    }

    pub fn region(&self) -> Region {
        Region::new(self.region.clone())
    }

    /// Makes one AWS call within the region's in-flight limit, reducing an error to what the
    /// evidence records.
    pub async fn call<T, E>(
        &self,
        request: impl std::future::Future<
            Output = Result<
                T,
                aws_sdk_kms::error::SdkError<E, aws_sdk_kms::config::http::HttpResponse>,
            >,
        >,
    ) -> Result<T, CallFailure>
    where
        E: aws_sdk_kms::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let _permit = self.calls.acquire().await;
        request.await.map_err(|err| sdk::call_failure(&err))
    }

    /// Turns a call's outcome into evidence: the value, or `None` with the failure recorded
    /// as an evidence gap; credential failures abort the collection.
    pub fn settle<T>(
        &self,
        service: &str,
        api: &str,
        resource: Option<&str>,
        outcome: Result<T, CallFailure>,
    ) -> Result<Option<T>, CredentialsFailed> {
        match outcome {
            Ok(value) => Ok(Some(value)),
            Err(failure) => {
                self.check_credentials(service, api, &failure)?;
                self.record_gap(service, api, resource, &failure);
                Ok(None)
            }
        }
    }

    pub fn check_credentials(
        &self,
        service: &str,
        api: &str,
        failure: &CallFailure,
    ) -> Result<(), CredentialsFailed> {
        if failure.kind == sdk::FailureKind::Credentials {
            return Err(CredentialsFailed {
                context: format!("{service}:{api} in {}", self.region),
                failure: failure.clone(),
            });
        }
        Ok(())
    }

    pub fn record_gap(
        &self,
        service: &str,
        api: &str,
        resource: Option<&str>,
        failure: &CallFailure,
    ) {
        tracing::warn!(
            account = %self.account_id,
            region = %self.region,
            "{service}:{api}{} failed: {}: {}",
            resource.map(|r| format!(" ({r})")).unwrap_or_default(),
            failure.code,
            failure.message
        );
        let message = if sdk::is_region_rejection(&failure.code) {
            self.region_rejected
                .store(true, std::sync::atomic::Ordering::Relaxed);
            format!(
                "{} (the credentials work in other regions: is {} enabled for this account?)",
                failure.message, self.region
            )
        } else {
            failure.message.clone()
        };
        let gap = EvidenceGap {
            account_id: self.account_id.clone(),
            region: Some(self.region.clone()),
            service: service.to_string(),
            api: api.to_string(),
            resource: resource.map(str::to_string),
            error_code: failure.code.clone(),
            message,
        };
        self.gaps
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(gap);
    }

    pub fn region_rejected(&self) -> bool {
        self.region_rejected
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    fn take_gaps(&self) -> Vec<EvidenceGap> {
        std::mem::take(
            &mut *self
                .gaps
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }
}

/// `collect` for callers without an async runtime (the command line): loads the AWS
/// configuration for `settings` and collects on a runtime of its own.
pub fn collect_blocking(
    settings: &AwsSettings,
    request: &CollectRequest,
    progress: &Progress,
) -> Result<EvidenceSnapshot, CollectError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(CollectError::Runtime)?;
    runtime.block_on(async {
        let sdk = load_sdk_config(settings).await?;
        collect(&sdk, request, progress).await
    })
}

/// Collects the evidence of one period from the accounts of the request: every account-region
/// at once within `max_parallel_regions`, into one snapshot.
pub async fn collect(
    sdk: &SdkConfig,
    request: &CollectRequest,
    progress: &Progress,
) -> Result<EvidenceSnapshot, CollectError> {
    let home_region = match (&request.regions, sdk.region()) {
        (_, Some(region)) => region.clone(),
        (RegionSelection::Listed(regions), None) => match regions.first() {
            Some(first) => Region::new(first.clone()),
            None => return Err(CollectError::NoRegion),
        },
        (RegionSelection::AllEnabled, None) => Region::from_static("us-east-1"),
        (RegionSelection::Configured, None) => return Err(CollectError::NoRegion),
    };
    let sdk = sdk.to_builder().region(home_region.clone()).build();
    let identity = caller_identity(&sdk).await?;
    let caller_account = identity
        .account
        .clone()
        .ok_or_else(|| CollectError::Credentials {
            context: "sts:GetCallerIdentity".to_string(),
            code: "NoAccount".to_string(),
            message: "the response named no account".to_string(),
        })?;
    tracing::info!(account = %caller_account, arn = %identity.arn.as_deref().unwrap_or("unknown"), "collecting as");
    let organization_accounts = match &request.accounts {
        AccountSelection::Organization { .. } => organization::active_accounts(&sdk).await?,
        _ => Vec::new(),
    };
    let reaches = Reach::plan(&caller_account, &request.accounts, &organization_accounts);
    if reaches.is_empty() {
        return Err(CollectError::NoAccounts);
    }
    let scope_accounts: Vec<String> = reaches.iter().map(|r| r.account_id().to_string()).collect();
    let caller = Caller {
        partition: identity
            .arn
            .as_deref()
            .and_then(accounts::partition_of)
            .unwrap_or("aws")
            .to_string(),
        sdk,
        identity,
        session_name: accounts::session_name(&request.period),
    };
    let (plans, mut gaps) = plan_accounts(&caller, reaches, request).await?;
    let trail_logs = match &request.trail_logs {
        Some(source) => Some(source.open(&caller.sdk).await),
        None => None,
    };
    let context_for = |plan: &AccountPlan, region: &str| {
        Arc::new(RegionContext::new(
            plan,
            region,
            request,
            progress,
            trail_logs.as_ref(),
        ))
    };
    // The regions asked for, also when no account could be reached (the report then shows
    // every account as a gap); with `all`, those enabled in any account reached.
    let regions: Vec<String> = match &request.regions {
        RegionSelection::Listed(regions) => regions.clone(),
        RegionSelection::Configured => vec![home_region.to_string()],
        RegionSelection::AllEnabled => plans
            .iter()
            .flat_map(|plan| plan.regions.iter().cloned())
            .collect::<BTreeSet<String>>()
            .into_iter()
            .collect(),
    };
    if regions.is_empty() {
        return Err(match plans.is_empty() {
            true => CollectError::NoAccountReached {
                gaps: gaps.iter().map(describe_gap).collect::<Vec<_>>().join("; "),
            },
            false => CollectError::EmptyScope,
        });
    }

    let collection_started = Timestamp(chrono::Utc::now());
    let parallel = Arc::new(Semaphore::new(request.max_parallel_regions.max(1)));
    let mut tasks = JoinSet::new();
    for (index, plan) in plans.iter().enumerate() {
        for region in &plan.regions {
            let context = context_for(plan, region);
            let parallel = parallel.clone();
            let period = request.period;
            tasks.spawn(async move {
                let _turn = parallel.acquire_owned().await;
                (index, collect_region(context, period).await)
            });
        }
    }
    let mut account_regions: Vec<Vec<RegionEvidence>> = vec![Vec::new(); plans.len()];
    while let Some(joined) = tasks.join_next().await {
        let (index, outcome) = match joined {
            Ok(outcome) => outcome,
            Err(join_error) => panic!("a region collection task panicked: {join_error}"),
        };
        match outcome {
            Ok((evidence, region_gaps)) => {
                account_regions[index].push(evidence);
                gaps.extend(region_gaps);
            }
            Err(failed) => {
                tasks.abort_all();
                progress.finish();
                return Err(failed.into());
            }
        }
    }
    // Trails seen in an account's regions whose home region is outside them: their status and
    // change events are that region's (issue 13), read there.
    let mut home_tasks = JoinSet::new();
    for (index, plan) in plans.iter().enumerate() {
        let mut homes: std::collections::BTreeMap<String, BTreeSet<String>> = Default::default();
        for trail in account_regions[index]
            .iter()
            .filter_map(|r| r.cloudtrail.as_ref())
            .flat_map(|c| &c.trails)
        {
            if let (Some(home), Some(arn)) = (&trail.trail.home_region, &trail.trail.trail_arn)
                && !plan.regions.contains(home)
            {
                homes.entry(home.clone()).or_default().insert(arn.clone());
            }
        }
        for (home, arns) in homes {
            let context = context_for(plan, &home);
            let parallel = parallel.clone();
            let period = request.period;
            home_tasks.spawn(async move {
                let _turn = parallel.acquire_owned().await;
                let outcome = cloudtrail::collect_home_region(&context, period, &arns).await;
                context.progress.finish();
                let evidence = outcome.map(|cloudtrail| RegionEvidence {
                    region: home,
                    apigateway: None,
                    kms: None,
                    cloudtrail,
                    elasticache: None,
                    extra: Extra::new(),
                });
                (
                    index,
                    evidence.map(|evidence| (evidence, context.take_gaps())),
                )
            });
        }
    }
    let mut trail_home_regions: Vec<Vec<RegionEvidence>> = vec![Vec::new(); plans.len()];
    while let Some(joined) = home_tasks.join_next().await {
        let (index, outcome) = match joined {
            Ok(outcome) => outcome,
            Err(join_error) => panic!("a trail home region task panicked: {join_error}"),
        };
        match outcome {
            Ok((evidence, home_gaps)) => {
                trail_home_regions[index].push(evidence);
                gaps.extend(home_gaps);
            }
            Err(failed) => {
                home_tasks.abort_all();
                progress.finish();
                return Err(failed.into());
            }
        }
    }
    if let Some(source) = &request.athena {
        let athena_gaps = athena_changes(
            &caller,
            source,
            &plans,
            &mut account_regions,
            &mut trail_home_regions,
            request.period,
        )
        .await;
        match athena_gaps {
            Ok(athena_gaps) => gaps.extend(athena_gaps),
            Err(failed) => {
                progress.finish();
                return Err(failed);
            }
        }
    }
    // ListBuckets once per account (it lists every region's buckets), when the policy names
    // GxP buckets: `cloudtrail-s3-data-events` needs each one's owner and region.
    let mut bucket_lists: Vec<Option<Vec<S3Bucket>>> = vec![None; plans.len()];
    if !request.policy.gxp_buckets.is_empty() {
        let mut list_tasks = JoinSet::new();
        for (index, plan) in plans.iter().enumerate() {
            let Some(first_region) = plan.regions.first() else {
                continue;
            };
            let context = context_for(plan, first_region);
            let parallel = parallel.clone();
            list_tasks.spawn(async move {
                let _turn = parallel.acquire_owned().await;
                let outcome = s3_buckets::collect(&context).await;
                context.progress.finish();
                (index, outcome.map(|list| (list, context.take_gaps())))
            });
        }
        while let Some(joined) = list_tasks.join_next().await {
            let (index, outcome) = match joined {
                Ok(outcome) => outcome,
                Err(join_error) => panic!("a ListBuckets task panicked: {join_error}"),
            };
            match outcome {
                Ok((list, list_gaps)) => {
                    bucket_lists[index] = list;
                    gaps.extend(list_gaps);
                }
                Err(failed) => {
                    list_tasks.abort_all();
                    progress.finish();
                    return Err(failed.into());
                }
            }
        }
    }
    // The buckets the account's own trails and organization trails deliver to
    // (cloudtrail-bucket-protection), each read once per account.
    let mut bucket_tasks = JoinSet::new();
    for (index, plan) in plans.iter().enumerate() {
        let Some(first_region) = plan.regions.first() else {
            continue;
        };
        let buckets = s3::trail_buckets(
            account_regions[index]
                .iter()
                .chain(&trail_home_regions[index])
                .filter_map(|r| r.cloudtrail.as_ref())
                .flat_map(|c| &c.trails)
                .filter(|t| {
                    t.trail.is_organization_trail == Some(true)
                        || t.trail
                            .trail_arn
                            .as_deref()
                            .and_then(|arn| arn.split(':').nth(4))
                            == Some(plan.account_id.as_str())
                }),
        );
        let context = context_for(plan, first_region);
        let parallel = parallel.clone();
        bucket_tasks.spawn(async move {
            let _turn = parallel.acquire_owned().await;
            let outcome = s3::collect(&context, &buckets).await;
            context.progress.finish();
            (index, outcome.map(|buckets| (buckets, context.take_gaps())))
        });
    }
    let mut trail_buckets: Vec<Option<evidence::TrailBuckets>> = vec![None; plans.len()];
    while let Some(joined) = bucket_tasks.join_next().await {
        let (index, outcome) = match joined {
            Ok(outcome) => outcome,
            Err(join_error) => panic!("a trail bucket task panicked: {join_error}"),
        };
        match outcome {
            Ok((buckets, bucket_gaps)) => {
                trail_buckets[index] = Some(buckets);
                gaps.extend(bucket_gaps);
            }
            Err(failed) => {
                bucket_tasks.abort_all();
                progress.finish();
                return Err(failed.into());
            }
        }
    }
    progress.finish();
    gaps.sort();
    let accounts = plans
        .into_iter()
        .zip(bucket_lists)
        .zip(account_regions.into_iter().zip(trail_home_regions))
        .zip(trail_buckets)
        .map(
            |(((plan, s3_buckets), (mut regions, mut homes)), trail_buckets)| {
                regions.sort_by(|a, b| a.region.cmp(&b.region));
                homes.sort_by(|a, b| a.region.cmp(&b.region));
                AccountEvidence {
                    account_id: plan.account_id,
                    caller_identity: Some(plan.identity),
                    regions,
                    trail_home_regions: homes,
                    s3_buckets,
                    trail_buckets,
                    extra: Extra::new(),
                }
            },
        )
        .collect();

    Ok(EvidenceSnapshot {
        schema_version: evidence::SCHEMA_VERSION,
        tool: ToolInfo {
            name: gxp_evidence_core::TOOL_NAME.to_string(),
            version: gxp_evidence_core::TOOL_VERSION.to_string(),
            extra: Extra::new(),
        },
        system_name: request
            .system_name
            .clone()
            .unwrap_or_else(|| default_system_name(&scope_accounts)),
        // When the reading of the state began: every region's change events are read up to
        // a later time, after its settings (`CloudTrailEvidence::events_until`).
        collected_at: collection_started,
        period: request.period,
        settle_minutes: Some(request.settle_minutes),
        scope: Scope {
            // Every account of the selection, the unreachable ones too: their gaps are
            // evaluated as EVIDENCE_GAP, never left out of the report.
            accounts: scope_accounts,
            regions,
            extra: Extra::new(),
        },
        policy: request.policy.clone(),
        accounts,
        gaps,
        extra: Extra::new(),
    })
}

/// The change events of every account-region waiting for the Athena query: one query over
/// all of them, run now that every region's settings were read, split per account-region
/// (a trail's home region outside the scope keeps the CloudTrail, CloudWatch Logs and S3
/// events, as `cloudtrail::collect_home_region` asks for).
async fn athena_changes(
    caller: &Caller,
    source: &athena::AthenaSource,
    plans: &[AccountPlan],
    account_regions: &mut [Vec<RegionEvidence>],
    trail_home_regions: &mut [Vec<RegionEvidence>],
    period: Period,
) -> Result<Vec<EvidenceGap>, CollectError> {
    let waiting = |regions: &[RegionEvidence]| -> Vec<String> {
        regions
            .iter()
            .filter(|r| r.cloudtrail.as_ref().is_some_and(athena::is_pending))
            .map(|r| r.region.clone())
            .collect()
    };
    let mut accounts = BTreeSet::new();
    let mut regions = BTreeSet::new();
    for (index, plan) in plans.iter().enumerate() {
        let found: Vec<String> = waiting(&account_regions[index])
            .into_iter()
            .chain(waiting(&trail_home_regions[index]))
            .collect();
        if !found.is_empty() {
            accounts.insert(plan.account_id.clone());
            regions.extend(found);
        }
    }
    if accounts.is_empty() {
        return Ok(Vec::new());
    }
    let outcome = athena::run(&caller.sdk, source, &accounts, &regions, period)
        .await
        .map_err(|refused| {
            CollectError::credentials(&format!("athena:{}", refused.api), &refused.failure)
        })?;
    let mut gaps = Vec::new();
    let home_sources = [
        gxp_evidence_core::controls::events::CLOUDTRAIL,
        gxp_evidence_core::controls::events::LOGS,
        gxp_evidence_core::controls::events::S3,
    ];
    for (index, plan) in plans.iter().enumerate() {
        let scoped = account_regions[index]
            .iter_mut()
            .map(|r| (r, &gxp_evidence_core::controls::events::SOURCES[..]));
        let homes = trail_home_regions[index]
            .iter_mut()
            .map(|r| (r, &home_sources[..]));
        for (region, sources) in scoped.chain(homes) {
            if let Some(cloudtrail) = region.cloudtrail.as_mut().filter(|c| athena::is_pending(c)) {
                gaps.extend(athena::apply(
                    &outcome,
                    &plan.account_id,
                    &region.region,
                    sources,
                    period,
                    cloudtrail,
                ));
            }
        }
    }
    Ok(gaps)
}

/// The system name when none is given: the account, or the accounts of the scope.
fn default_system_name(accounts: &[String]) -> String {
    match accounts {
        [one] => format!("AWS account {one}"),
        few if few.len() <= 3 => format!("AWS accounts {}", few.join(", ")),
        many => format!("{} AWS accounts", many.len()),
    }
}

fn describe_gap(gap: &EvidenceGap) -> String {
    format!(
        "account {}: {}:{} {}",
        gap.account_id, gap.service, gap.api, gap.error_code
    )
}

/// The caller of the collection: its configuration (in the home region) and identity, and
/// what it assumes roles with.
#[derive(Clone)]
struct Caller {
    sdk: SdkConfig,
    identity: CallerIdentity,
    partition: String,
    session_name: String,
}

/// One account of the scope, ready to collect.
struct AccountPlan {
    account_id: String,
    sdk: SdkConfig,
    identity: CallerIdentity,
    regions: Vec<String>,
}

/// Why an account cannot be collected.
pub(crate) enum AccountFailure {
    /// Its role could not be used: the account is an evidence gap, the others are collected.
    Gap(EvidenceGap),
    /// The caller's own credentials or configuration failed: the collection stops.
    Run(CollectError),
}

/// Reaches every account (the role assumed, the regions listed) at once, within the bound of
/// account-regions collected at the same time: the accounts that can be collected, sorted by
/// id, and the gaps of those that cannot.
async fn plan_accounts(
    caller: &Caller,
    reaches: Vec<Reach>,
    request: &CollectRequest,
) -> Result<(Vec<AccountPlan>, Vec<EvidenceGap>), CollectError> {
    let parallel = Arc::new(Semaphore::new(request.max_parallel_regions.max(1)));
    let mut tasks = JoinSet::new();
    for reach in reaches {
        let parallel = parallel.clone();
        let caller = caller.clone();
        let regions = request.regions.clone();
        tasks.spawn(async move {
            let _turn = parallel.acquire_owned().await;
            plan_account(&caller, reach, &regions).await
        });
    }
    let (mut plans, mut gaps) = (Vec::new(), Vec::new());
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(Ok(plan)) => plans.push(plan),
            Ok(Err(AccountFailure::Gap(gap))) => {
                tracing::warn!(account = %gap.account_id, "{}:{} failed: {}: {}", gap.service, gap.api, gap.error_code, gap.message);
                gaps.push(gap);
            }
            Ok(Err(AccountFailure::Run(error))) => {
                tasks.abort_all();
                return Err(error);
            }
            Err(join_error) => panic!("an account task panicked: {join_error}"),
        }
    }
    plans.sort_by(|a, b| a.account_id.cmp(&b.account_id));
    Ok((plans, gaps))
}

/// The credentials, identity and regions of one account. The caller's own account's failures
/// are the run's; another account's are that account's gap.
async fn plan_account(
    caller: &Caller,
    reach: Reach,
    regions: &RegionSelection,
) -> Result<AccountPlan, AccountFailure> {
    let (sdk, identity) = match &reach {
        Reach::Own(_) => (caller.sdk.clone(), caller.identity.clone()),
        Reach::Role(target) => {
            let assumed =
                assume::assume(&caller.sdk, target, &caller.partition, &caller.session_name)
                    .await?;
            (assumed.sdk, assumed.identity)
        }
    };
    let account_id = reach.account_id().to_string();
    let regions = match regions {
        RegionSelection::Listed(regions) => regions.clone(),
        RegionSelection::Configured => sdk
            .region()
            .map(|region| vec![region.to_string()])
            .unwrap_or_default(),
        RegionSelection::AllEnabled => match (enabled_regions(&sdk).await, &reach) {
            (Ok(regions), _) => regions,
            (Err(failure), Reach::Own(_)) => {
                return Err(AccountFailure::Run(
                    if failure.kind == sdk::FailureKind::Credentials {
                        CollectError::credentials("account:ListRegions", &failure)
                    } else {
                        CollectError::Regions {
                            code: failure.code,
                            message: failure.message,
                        }
                    },
                ));
            }
            (Err(failure), Reach::Role(_)) => {
                return Err(AccountFailure::Gap(EvidenceGap {
                    account_id,
                    region: None,
                    service: "account".to_string(),
                    api: "ListRegions".to_string(),
                    resource: None,
                    error_code: failure.code,
                    message: format!(
                        "the account's enabled regions could not be listed, nothing was collected for this account: {}",
                        failure.message
                    ),
                }));
            }
        },
    };
    tracing::info!(account = %account_id, arn = %identity.arn.as_deref().unwrap_or("unknown"), regions = %regions.join(","), "account reached");
    Ok(AccountPlan {
        account_id,
        sdk,
        identity,
        regions,
    })
}

async fn caller_identity(sdk: &SdkConfig) -> Result<CallerIdentity, CollectError> {
    caller_identity_as(sdk).await.map_err(|failure| {
        // The first call of a run: any other failure means the credentials are not accepted.
        match failure.kind {
            sdk::FailureKind::Unreachable => {
                CollectError::unreachable(sdk, "sts", "sts:GetCallerIdentity", failure)
            }
            _ => CollectError::credentials("sts:GetCallerIdentity", &failure),
        }
    })
}

/// Who the credentials of `sdk` are (sts:GetCallerIdentity needs no permission).
pub(crate) async fn caller_identity_as(sdk: &SdkConfig) -> Result<CallerIdentity, CallFailure> {
    let client = aws_sdk_sts::Client::new(sdk);
    let output = client
        .get_caller_identity()
        .send()
        .await
        .map_err(|err| sdk::call_failure(&err))?;
    Ok(CallerIdentity {
        user_id: output.user_id().map(str::to_string),
        account: output.account().map(str::to_string),
        arn: output.arn().map(str::to_string),
        extra: Extra::new(),
    })
}

/// The regions enabled for the account: opted-in regions and those enabled by default.
async fn enabled_regions(sdk: &SdkConfig) -> Result<Vec<String>, CallFailure> {
    use aws_sdk_account::types::RegionOptStatus;
    let client = aws_sdk_account::Client::new(sdk);
    let listed = client
        .list_regions()
        .region_opt_status_contains(RegionOptStatus::Enabled)
        .region_opt_status_contains(RegionOptStatus::EnabledByDefault)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|err| sdk::call_failure(&err))?;
    let regions: BTreeSet<String> = listed
        .iter()
        .filter_map(|r| r.region_name().map(str::to_string))
        .collect();
    Ok(regions.into_iter().collect())
}

async fn collect_region(
    context: Arc<RegionContext>,
    period: Period,
) -> Result<(RegionEvidence, Vec<EvidenceGap>), CredentialsFailed> {
    tracing::info!(region = %context.region, "collecting region");
    // The settings first, then the change events up to after they were read: the period
    // rule replays every change between the period start and the state it rebuilds from.
    let (apigateway, kms, elasticache) = tokio::join!(
        apigateway::collect(&context),
        kms::collect(context.clone()),
        elasticache::collect(&context),
    );
    let (apigateway, kms, elasticache) = (apigateway?, kms?, elasticache?);
    let cloudtrail = cloudtrail::collect(&context, period).await?;
    let evidence = RegionEvidence {
        region: context.region.clone(),
        apigateway,
        kms,
        cloudtrail,
        elasticache,
        extra: Extra::new(),
    };
    context.progress.finish();
    Ok((evidence, context.take_gaps()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The actions a policy document allows.
    fn granted_actions(policy: &str) -> BTreeSet<String> {
        let policy: serde_json::Value = serde_json::from_str(policy).expect("valid JSON");
        let mut granted = BTreeSet::new();
        for statement in policy["Statement"].as_array().expect("statements") {
            assert_eq!(statement["Effect"], "Allow");
            match &statement["Action"] {
                serde_json::Value::String(action) => {
                    granted.insert(action.clone());
                }
                serde_json::Value::Array(actions) => {
                    granted.extend(
                        actions
                            .iter()
                            .filter_map(|a| a.as_str().map(str::to_string)),
                    );
                }
                other => panic!("unexpected Action {other}"),
            }
        }
        granted
    }

    fn set(actions: &[&str]) -> BTreeSet<String> {
        actions.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_documented_iam_policy_grants_exactly_the_calls_made() {
        assert_eq!(
            granted_actions(include_str!("../../../../docs/iam-policy.json")),
            set(REQUIRED_PERMISSIONS)
        );
    }

    #[test]
    fn the_documented_multi_account_caller_policy_grants_exactly_the_calls_it_adds() {
        assert_eq!(
            granted_actions(include_str!(
                "../../../../docs/iam-policy-multi-account-caller.json"
            )),
            set(MULTI_ACCOUNT_CALLER_PERMISSIONS)
        );
        let trust: serde_json::Value = serde_json::from_str(include_str!(
            "../../../../docs/iam-trust-policy-member-role.json"
        ))
        .expect("valid JSON");
        assert_eq!(trust["Statement"][0]["Action"], "sts:AssumeRole");
        assert!(trust["Statement"][0]["Condition"]["StringEquals"]["sts:ExternalId"].is_string());
    }

    #[test]
    fn regions_flag_accepts_all_or_a_list_of_region_names() {
        assert_eq!(
            RegionSelection::parse("all"),
            Ok(RegionSelection::AllEnabled)
        );
        assert_eq!(
            RegionSelection::parse("us-east-1, eu-west-1,eu-west-1"),
            Ok(RegionSelection::Listed(vec![
                "eu-west-1".into(),
                "us-east-1".into()
            ]))
        );
        assert!(RegionSelection::parse("europe").is_err());
        assert!(RegionSelection::parse("").is_err());
    }
}
