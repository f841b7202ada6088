//! Which AWS accounts a collection covers: the caller's own account, a listed set reached by
//! assuming a role in each, or every active account of the organization.

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
