//! Which AWS accounts a collection covers: the caller's own account, a listed set reached by
//! assuming a role in each, or every active account of the organization. Owns the rules of the
//! selection's inputs (account ids, role names, external ids), the role's ARN and the STS
//! session name the collection's calls are recorded under in each account's CloudTrail.

use std::collections::BTreeMap;

use gxp_evidence_core::evidence::Period;

/// The accounts to collect.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum AccountSelection {
    /// The account the credentials belong to.
    #[default]
    Caller,
    /// These accounts, each reached by assuming its role with the caller's credentials.
    Listed(Vec<AccountTarget>),
    /// Every ACTIVE account of the organization (organizations:ListAccounts, called from the
    /// management or a delegated administrator account), each through `role_name`.
    Organization {
        role_name: String,
        external_id: Option<String>,
    },
}

/// One account of a listed selection and the role assumed in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountTarget {
    /// Twelve digits.
    pub account_id: String,
    /// The role's name (with its path, if any): `arn:<partition>:iam::<account>:role/<name>`.
    pub role_name: String,
    /// The external id the role's trust policy asks for, if any.
    pub external_id: Option<String>,
}

impl AccountTarget {
    /// The role's ARN in the caller's partition (a role is assumed within one partition).
    pub fn role_arn(&self, partition: &str) -> String {
        format!(
            "arn:{partition}:iam::{}:role/{}",
            self.account_id,
            self.role_name.trim_start_matches('/')
        )
    }
}

/// How the collection reaches one account of its scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reach {
    /// The caller's own account, with the caller's credentials: it is never reached by
    /// assuming a role in itself. The management account of an organization has no
    /// OrganizationAccountAccessRole (Organizations creates it in member accounts only), and a
    /// role the caller could assume in its own account would only stand in for the
    /// permissions the caller already needs to list the organization.
    Own(String),
    /// Another account, through its role.
    Role(AccountTarget),
}

impl Reach {
    pub fn account_id(&self) -> &str {
        match self {
            Reach::Own(account_id) => account_id,
            Reach::Role(target) => &target.account_id,
        }
    }

    /// The accounts of `selection` other than the caller's own through their role, the
    /// caller's own directly; one entry per account, ordered by account id.
    pub fn plan(
        caller_account: &str,
        selection: &AccountSelection,
        organization_accounts: &[String],
    ) -> Vec<Reach> {
        let targets: Vec<AccountTarget> = match selection {
            AccountSelection::Caller => return vec![Reach::Own(caller_account.to_string())],
            AccountSelection::Listed(targets) => targets.clone(),
            AccountSelection::Organization {
                role_name,
                external_id,
            } => organization_accounts
                .iter()
                .map(|account_id| AccountTarget {
                    account_id: account_id.clone(),
                    role_name: role_name.clone(),
                    external_id: external_id.clone(),
                })
                .collect(),
        };
        let mut by_account: BTreeMap<String, Reach> = BTreeMap::new();
        for target in targets {
            let reach = if target.account_id == caller_account {
                Reach::Own(target.account_id.clone())
            } else {
                Reach::Role(target.clone())
            };
            by_account.entry(target.account_id).or_insert(reach);
        }
        by_account.into_values().collect()
    }
}

/// An AWS account id: exactly twelve ASCII digits.
pub fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

/// The account ids of `--accounts`, sorted and without repeats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountIds(pub Vec<String>);

impl AccountIds {
    /// Parses a comma-separated list of 12-digit account ids.
    pub fn parse(text: &str) -> Result<Self, SelectionError> {
        let mut ids = std::collections::BTreeSet::new();
        for id in text.split(',').map(str::trim) {
            if !is_account_id(id) {
                return Err(SelectionError::AccountId(id.to_string()));
            }
            ids.insert(id.to_string());
        }
        Ok(AccountIds(ids.into_iter().collect()))
    }
}

/// IAM's characters for role names and paths, and STS's for session names and external ids
/// (`[\w+=,.@-]`, `/` in paths, `:` and `/` in external ids).
fn is_iam_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_+=,.@-".contains(c)
}

/// Checks a role name as IAM accepts it: `NAME` or `PATH/NAME`, the name 1–64 characters.
pub fn parse_role_name(text: &str) -> Result<String, SelectionError> {
    let name = text.rsplit('/').next().unwrap_or_default();
    let valid = !name.is_empty()
        && name.chars().count() <= 64
        && text.len() <= 512
        && text.chars().all(|c| c == '/' || is_iam_name_char(c));
    if valid {
        Ok(text.to_string())
    } else {
        Err(SelectionError::RoleName(text.to_string()))
    }
}

/// Checks an external id as STS accepts it: 2–1224 characters of `[\w+=,.@:/-]`.
pub fn parse_external_id(text: &str) -> Result<String, SelectionError> {
    let valid = (2..=1224).contains(&text.chars().count())
        && text
            .chars()
            .all(|c| c == ':' || c == '/' || is_iam_name_char(c));
    if valid {
        Ok(text.to_string())
    } else {
        Err(SelectionError::ExternalId)
    }
}

/// An input of the account selection that AWS would refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectionError {
    #[error("{0:?} is not an AWS account id (12 digits, e.g. 111111111111)")]
    AccountId(String),
    #[error(
        "{0:?} is not an IAM role name (1-64 characters of letters, digits and _+=,.@- after an optional /path/)"
    )]
    RoleName(String),
    #[error("the external id must be 2-1224 characters of letters, digits and _+=,.@:/-")]
    ExternalId,
}

/// The longest role session name STS accepts.
const MAX_SESSION_NAME: usize = 64;

/// The role session name of a collection of `period`: `gxp-evidence-2026-10`. It shows in
/// every member account's CloudTrail as the assumed role's session, so the account's owners
/// can tell which tool read their account and for which period. Characters STS refuses (the
/// `:` of a custom period's times) are dropped and the name is cut to STS's 64 characters.
pub fn session_name(period: &Period) -> String {
    let label: String = period
        .label()
        .chars()
        .filter(|c| is_iam_name_char(*c))
        .collect();
    let mut name = format!("{}-{label}", gxp_evidence_core::TOOL_NAME);
    name.truncate(MAX_SESSION_NAME);
    name
}

/// The partition of an ARN (`aws`, `aws-cn`, `aws-us-gov`, …).
pub(crate) fn partition_of(arn: &str) -> Option<&str> {
    let mut parts = arn.split(':');
    match (parts.next(), parts.next()) {
        (Some("arn"), Some(partition)) if !partition.is_empty() => Some(partition),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gxp_evidence_core::evidence::Timestamp;

    fn is_valid_session_name(name: &str) -> bool {
        (2..=MAX_SESSION_NAME).contains(&name.len()) && name.chars().all(is_iam_name_char)
    }

    fn period(start: &str, end: &str) -> Period {
        Period {
            start: Timestamp::parse(start).expect("valid"),
            end: Timestamp::parse(end).expect("valid"),
        }
    }

    #[test]
    fn the_session_name_names_the_tool_and_the_month() {
        let october = period("2026-10-01T00:00:00Z", "2026-11-01T00:00:00Z");
        assert_eq!(session_name(&october), "gxp-evidence-2026-10");
    }

    #[test]
    fn the_session_name_is_one_sts_accepts_for_every_kind_of_period_label() {
        let periods = [
            period("2026-10-01T00:00:00Z", "2026-11-01T00:00:00Z"),
            period("2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z"),
            period("2026-10-03T00:00:00Z", "2026-10-17T00:00:00Z"),
            period("2026-10-03T12:34:56Z", "2026-10-17T23:59:59Z"),
            period("2026-10-01T00:00:00Z", "2026-10-31T00:00:00Z"),
            period("0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"),
        ];
        for period in periods {
            let name = session_name(&period);
            assert!(
                is_valid_session_name(&name),
                "{:?}: {name:?} ({} characters)",
                period.label(),
                name.len()
            );
            assert!(name.starts_with("gxp-evidence-"), "{name}");
        }
        // A custom period keeps its dates (the times lose their colons).
        let custom = session_name(&period("2026-10-03T00:00:00Z", "2026-10-17T00:00:00Z"));
        assert_eq!(
            custom,
            "gxp-evidence-2026-10-03T000000Z..2026-10-17T000000Z"
        );
    }

    #[test]
    fn account_ids_are_twelve_digits_sorted_once_each() {
        assert_eq!(
            AccountIds::parse("222222222222, 111111111111,222222222222"),
            Ok(AccountIds(vec![
                "111111111111".into(),
                "222222222222".into()
            ]))
        );
        for bad in [
            "",
            "1234",
            "1111111111111",
            "11111111111a",
            "111111111111,",
            "١١١١١١١١١١١١",
        ] {
            assert!(AccountIds::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn role_names_and_external_ids_are_checked_as_aws_does() {
        assert!(parse_role_name("OrganizationAccountAccessRole").is_ok());
        assert!(parse_role_name("audit/gxp-evidence-reader").is_ok());
        assert!(parse_role_name("").is_err());
        assert!(parse_role_name("audit/").is_err());
        assert!(parse_role_name("role name").is_err());
        assert!(parse_role_name(&"r".repeat(65)).is_err());
        assert!(parse_external_id("gxp:2026/ext-id").is_ok());
        assert!(parse_external_id("x").is_err());
        assert!(parse_external_id("has space").is_err());
    }

    #[test]
    fn the_role_arn_is_in_the_callers_partition_with_the_roles_path() {
        let target = AccountTarget {
            account_id: "111111111111".into(),
            role_name: "audit/reader".into(),
            external_id: None,
        };
        assert_eq!(
            target.role_arn("aws-cn"),
            "arn:aws-cn:iam::111111111111:role/audit/reader"
        );
        assert_eq!(
            partition_of("arn:aws-us-gov:sts::111111111111:assumed-role/r/s"),
            Some("aws-us-gov")
        );
        assert_eq!(partition_of("not an arn"), None);
    }

    #[test]
    fn the_callers_own_account_is_reached_directly_and_each_account_once() {
        let target = |id: &str| AccountTarget {
            account_id: id.into(),
            role_name: "reader".into(),
            external_id: None,
        };
        let listed = AccountSelection::Listed(vec![
            target("333333333333"),
            target("111111111111"),
            target("333333333333"),
        ]);
        assert_eq!(
            Reach::plan("111111111111", &listed, &[]),
            vec![
                Reach::Own("111111111111".into()),
                Reach::Role(target("333333333333"))
            ]
        );
        let organization = AccountSelection::Organization {
            role_name: "reader".into(),
            external_id: None,
        };
        assert_eq!(
            Reach::plan(
                "111111111111",
                &organization,
                &["222222222222".into(), "111111111111".into()]
            ),
            vec![
                Reach::Own("111111111111".into()),
                Reach::Role(target("222222222222"))
            ]
        );
        assert_eq!(
            Reach::plan("111111111111", &AccountSelection::Caller, &[]),
            vec![Reach::Own("111111111111".into())]
        );
    }
}
