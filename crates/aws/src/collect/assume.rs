//! Reaching a member account through its role. The role is assumed once with the caller's
//! credentials before anything is collected, so a refusal (no such role, a trust policy that
//! does not name the caller, a wrong external id) becomes that account's evidence gap with
//! STS's own error code. The account's SDK configuration then gets aws-config's
//! `AssumeRoleProvider`, which the SDK's identity cache asks again before the credentials
//! expire: a collection may outlast one role session (LookupEvents of a busy account can take
//! an hour, and a caller that is itself an assumed role can only get one-hour sessions, so no
//! fixed duration would be long enough).

use aws_config::SdkConfig;
use aws_config::sts::AssumeRoleProvider;
use aws_sdk_sts::config::SharedCredentialsProvider;

use gxp_evidence_core::evidence::{CallerIdentity, EvidenceGap};

use super::accounts::AccountTarget;
use super::{AccountFailure, CollectError, caller_identity_as, sdk};

/// A member account's SDK configuration, with credentials of its role that renew themselves,
/// and who those credentials are.
pub(crate) struct AssumedRole {
    pub sdk: SdkConfig,
    pub identity: CallerIdentity,
}

/// Assumes `target`'s role in `partition` with `caller`'s credentials.
pub(crate) async fn assume(
    caller: &SdkConfig,
    target: &AccountTarget,
    partition: &str,
    session_name: &str,
) -> Result<AssumedRole, AccountFailure> {
    let role_arn = target.role_arn(partition);
    aws_sdk_sts::Client::new(caller)
        .assume_role()
        .role_arn(&role_arn)
        .role_session_name(session_name)
        .set_external_id(target.external_id.clone())
        .send()
        .await
        .map_err(|err| {
            let failure = sdk::call_failure(&err);
            if failure.kind == sdk::FailureKind::Credentials {
                // The caller's own credentials failed, not the member account's role.
                AccountFailure::Run(CollectError::credentials("sts:AssumeRole", &failure))
            } else {
                AccountFailure::Gap(role_gap(target, "AssumeRole", &role_arn, &failure))
            }
        })?;

    let mut provider = AssumeRoleProvider::builder(role_arn.clone()).session_name(session_name);
    if let Some(external_id) = &target.external_id {
        provider = provider.external_id(external_id.clone());
    }
    let provider = provider.configure(caller).build().await;
    let sdk = caller
        .to_builder()
        .credentials_provider(SharedCredentialsProvider::new(provider))
        .build();
    // The identity the account's calls are made as, read with the renewing credentials
    // (which this first call obtains and the identity cache keeps for the collection). Its
    // failure is the role's: the caller's credentials have just been accepted by AssumeRole.
    let identity = caller_identity_as(&sdk).await.map_err(|failure| {
        AccountFailure::Gap(role_gap(target, "GetCallerIdentity", &role_arn, &failure))
    })?;
    if identity.account.as_deref() != Some(target.account_id.as_str()) {
        return Err(AccountFailure::Gap(EvidenceGap {
            account_id: target.account_id.clone(),
            region: None,
            service: "sts".to_string(),
            api: "GetCallerIdentity".to_string(),
            resource: None,
            error_code: "WrongAccount".to_string(),
            message: format!(
                "the credentials of role {role_arn} belong to account {}, not to {}: nothing was collected for this account",
                identity.account.as_deref().unwrap_or("(none named)"),
                target.account_id
            ),
        }));
    }
    Ok(AssumedRole { sdk, identity })
}

/// The evidence gap of an account whose role could not be used: no region of the account was
/// collected. Region and resource stay empty so that every service of every region of the
/// account reads it as its own gap (`RegionScope::service_gaps`).
fn role_gap(
    target: &AccountTarget,
    api: &str,
    role_arn: &str,
    failure: &sdk::CallFailure,
) -> EvidenceGap {
    EvidenceGap {
        account_id: target.account_id.clone(),
        region: None,
        service: "sts".to_string(),
        api: api.to_string(),
        resource: None,
        error_code: failure.code.clone(),
        message: format!(
            "role {role_arn} could not be assumed, nothing was collected for this account: {}",
            if failure.message.is_empty() {
                "(no message)"
            } else {
                failure.message.as_str()
            }
        ),
    }
}
