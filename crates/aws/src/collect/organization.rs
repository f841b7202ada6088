//! The accounts of the caller's AWS organization: organizations:ListAccounts (only the
//! management account and a delegated administrator may call it), every page, ACTIVE
//! accounts only.

use aws_config::SdkConfig;
use aws_sdk_organizations::types::{Account, AccountState, AccountStatus};

use super::{CollectError, sdk};

/// The ids of the organization's active accounts, sorted.
pub(crate) async fn active_accounts(caller: &SdkConfig) -> Result<Vec<String>, CollectError> {
    let client = aws_sdk_organizations::Client::new(caller);
    let pages: Vec<_> = client
        .list_accounts()
        .into_paginator()
        .send()
        .try_collect()
        .await
        .map_err(|err| {
            let failure = sdk::call_failure(&err);
            match failure.kind {
                sdk::FailureKind::Credentials => {
                    CollectError::credentials("organizations:ListAccounts", &failure)
                }
                sdk::FailureKind::Unreachable => CollectError::unreachable(
                    caller,
                    "organizations",
                    "organizations:ListAccounts",
                    failure,
                ),
                _ => CollectError::Organization {
                    code: failure.code,
                    message: failure.message,
                },
            }
        })?;
    let mut active: Vec<String> = pages
        .iter()
        .flat_map(|page| page.accounts())
        .filter(|account| is_active(account))
        .filter_map(|account| account.id().map(str::to_string))
        .collect();
    active.sort();
    active.dedup();
    Ok(active)
}

/// Whether the account can be read: `State` ACTIVE. `Status`, which `State` replaced (AWS
/// retired it on 9 September 2026), decides only for an answer without `State`. Suspended,
/// closed, and pending accounts are not in scope: their roles cannot be assumed, and an
/// account on its way out of the organization is not part of the regulated system.
fn is_active(account: &Account) -> bool {
    match (account.state(), account.status()) {
        (Some(state), _) => *state == AccountState::Active,
        (None, Some(status)) => *status == AccountStatus::Active,
        (None, None) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(state: Option<AccountState>, status: Option<AccountStatus>) -> Account {
        Account::builder()
            .id("111111111111")
            .set_state(state)
            .set_status(status)
            .build()
    }

    #[test]
    fn only_active_accounts_are_collected_and_state_decides_over_the_retired_status() {
        assert!(is_active(&account(Some(AccountState::Active), None)));
        assert!(is_active(&account(None, Some(AccountStatus::Active))));
        assert!(!is_active(&account(
            Some(AccountState::Suspended),
            Some(AccountStatus::Active)
        )));
        for state in [
            AccountState::Closed,
            AccountState::PendingActivation,
            AccountState::PendingClosure,
            AccountState::Suspended,
        ] {
            assert!(!is_active(&account(Some(state.clone()), None)), "{state:?}");
        }
        assert!(!is_active(&account(None, Some(AccountStatus::Suspended))));
        assert!(!is_active(&account(None, None)));
    }
}
