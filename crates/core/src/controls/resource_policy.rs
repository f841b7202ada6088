//! Reading a resource policy for who it opens the resource to: which `Allow` statements open
//! it to everyone (a `"*"` principal, or `NotPrincipal`) without a condition that limits the
//! callers to known accounts, organizations, principals or networks. One reading serves
//! `kms-key-exposure` (key policies: the collected GetKeyPolicy text, the policy a
//! PutKeyPolicy or CreateKey record carries, and the classification of those events) and
//! `cloudtrail-bucket-protection` (the trail bucket's policy: GetBucketPolicy and
//! PutBucketPolicy records), so the uses cannot disagree; only the condition keys that limit
//! differ by service (`PolicyKind`). docs/controls.md "kms-key-exposure" and
//! "cloudtrail-bucket-protection" give each rule its source.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What kind of resource policy is read: its name in reasons and the condition keys and
/// operators that limit a `"*"` statement to known callers.
#[derive(Debug, Clone, Copy)]
pub struct PolicyKind {
    /// `key policy`, `bucket policy`.
    pub document: &'static str,
    /// Lower case, because condition key names are case-insensitive.
    pub limiting_keys: &'static [&'static str],
    pub limiting_operators: &'static [&'static str],
}

/// Condition keys that name who calls (AWS account, organization, principal, or the resource a
/// service acts for): with a positive operator and fixed values they limit a `"*"` statement to
/// known callers (KMS developer guide "AWS KMS condition keys" for `kms:CallerAccount`; IAM
/// user guide "AWS global condition context keys" for the `aws:` keys). `kms:ViaService` is not
/// one: every account's principals can call through the named service.
pub const LIMITING_KEYS: &[&str] = &[
    "kms:calleraccount",
    "aws:principalaccount",
    "aws:principalorgid",
    "aws:principalarn",
    "aws:sourceaccount",
    "aws:sourcearn",
    "aws:sourceowner",
];

/// Operators that only let the named values through. Negated operators (`StringNotEquals`)
/// let everyone else through; `…IfExists` and the `ForAllValues:`/`ForAnyValue:` set
/// qualifiers match when the key is absent or are not meant for single-valued keys, so none of
/// them limits anything (IAM user guide "IAM JSON policy elements: Condition operators").
const LIMITING_OPERATORS: &[&str] = &[
    "stringequals",
    "stringequalsignorecase",
    "stringlike",
    "arnequals",
    "arnlike",
];

/// A KMS key policy (`kms-key-exposure`).
pub const KEY_POLICY: PolicyKind = PolicyKind {
    document: "key policy",
    limiting_keys: LIMITING_KEYS,
    limiting_operators: LIMITING_OPERATORS,
};

/// The condition keys with which Amazon S3 itself counts a bucket policy as not public when
/// their values are fixed (S3 user guide "Blocking public access to your Amazon S3 storage",
/// "The meaning of public"; the S3 API reference PublicAccessBlockConfiguration repeats the
/// list): `aws:SourceIp` (a set of CIDRs), `aws:SourceArn`, `aws:SourceVpc`, `aws:SourceVpce`,
/// `aws:SourceOwner`, `aws:SourceAccount`, `s3:x-amz-server-side-encryption-aws-kms-key-id`
/// and `aws:userid`. Keys outside that list (`aws:PrincipalOrgID` among them) do not make the
/// policy non-public in S3's reading, so they do not here either.
pub const BUCKET_LIMITING_KEYS: &[&str] = &[
    "aws:sourceip",
    "aws:sourcearn",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:sourceowner",
    "aws:sourceaccount",
    "s3:x-amz-server-side-encryption-aws-kms-key-id",
    "aws:userid",
];

/// An S3 bucket policy (`cloudtrail-bucket-protection`): S3's own meaning of public, with
/// `IpAddress` for `aws:SourceIp`.
pub const BUCKET_POLICY: PolicyKind = PolicyKind {
    document: "bucket policy",
    limiting_keys: BUCKET_LIMITING_KEYS,
    limiting_operators: &[
        "stringequals",
        "stringequalsignorecase",
        "stringlike",
        "arnequals",
        "arnlike",
        "ipaddress",
    ],
};

/// How long a quoted statement may get in a reason before it is cut.
const QUOTE_CHARS: usize = 300;

/// What a resource policy allows everyone. Compared across versions by the period rule, so it
/// holds what the verdict depends on and nothing about formatting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "exposure", rename_all = "snake_case")]
pub enum Exposure {
    /// No statement opens the key to everyone. `limited` quotes the `"*"` statements that a
    /// condition limits, with the limiting keys, so the reader sees why they do not count.
    Closed { limited: Vec<String> },
    /// The `Allow` statements open to everyone, each quoted.
    Open { statements: Vec<String> },
    /// The policy cannot be judged: unreadable, or not collected. `why` says which.
    Unknown { why: String },
}

impl Exposure {
    /// Reads a key policy document as GetKeyPolicy returns it.
    pub fn of_text(text: &str) -> Exposure {
        Exposure::of_text_as(text, &KEY_POLICY)
    }

    /// Reads the `policy` request parameter of a KMS CloudTrail record.
    pub fn of_request(policy: &Value) -> Exposure {
        Exposure::of_request_as(policy, &KEY_POLICY)
    }

    /// Reads a policy document of `kind` as its Get call returns it.
    pub fn of_text_as(text: &str, kind: &PolicyKind) -> Exposure {
        match serde_json::from_str::<Value>(text) {
            Ok(document) => Exposure::of_document(&document, kind),
            Err(error) => Exposure::Unknown {
                why: format!(
                    "the {} is not JSON ({error}), so who it allows cannot be read",
                    kind.document
                ),
            },
        }
    }

    /// Reads the policy a CloudTrail record carries: the document as a JSON string (as the
    /// API takes it), or already parsed.
    pub fn of_request_as(policy: &Value, kind: &PolicyKind) -> Exposure {
        match policy {
            Value::String(text) => Exposure::of_text_as(text, kind),
            Value::Object(_) => Exposure::of_document(policy, kind),
            other => Exposure::Unknown {
                why: format!(
                    "the {} in the record is {other}, not a policy document",
                    kind.document
                ),
            },
        }
    }

    fn of_document(document: &Value, kind: &PolicyKind) -> Exposure {
        let statements: Vec<&Value> = match document.get("Statement") {
            Some(Value::Array(list)) => list.iter().collect(),
            Some(one @ Value::Object(_)) => vec![one],
            _ => {
                return Exposure::Unknown {
                    why: format!(
                        "the {} has no Statement list, so who it allows cannot be read",
                        kind.document
                    ),
                };
            }
        };
        let mut open = Vec::new();
        let mut limited = Vec::new();
        for (index, statement) in statements.iter().enumerate() {
            if statement.get("Effect").and_then(Value::as_str) != Some("Allow") {
                continue; // A Deny never opens anything.
            }
            let everyone = statement.get("NotPrincipal").is_some()
                || statement.get("Principal").is_some_and(is_everyone);
            if !everyone {
                continue;
            }
            let quoted = quote(statement, index);
            match limiting_keys(statement.get("Condition"), kind) {
                keys if keys.is_empty() => open.push(quoted),
                keys => limited.push(format!("{quoted} (limited by {})", keys.join(", "))),
            }
        }
        if open.is_empty() {
            Exposure::Closed { limited }
        } else {
            Exposure::Open { statements: open }
        }
    }

    /// The short form the key table shows.
    pub fn summary(&self) -> String {
        match self {
            Exposure::Closed { limited } if limited.is_empty() => {
                "named principals only".to_string()
            }
            Exposure::Closed { limited } => format!(
                "\"*\" limited by a condition ({} statement(s))",
                limited.len()
            ),
            Exposure::Open { statements } => {
                format!("EVERYONE ({} statement(s))", statements.len())
            }
            Exposure::Unknown { .. } => "unknown".to_string(),
        }
    }
}

/// `"*"`, or a principal map whose values (AWS, Service, Federated, CanonicalUser) hold a
/// value with a wildcard. IAM accepts no wildcard in a principal other than `"*"` itself; any
/// other wildcard is read as everyone, as AWS Config's kms-key-policy-no-public-access counts
/// only fixed values as non-public.
fn is_everyone(principal: &Value) -> bool {
    match principal {
        Value::String(s) => s.contains('*'),
        Value::Array(list) => list.iter().any(is_everyone),
        Value::Object(map) => map.values().any(is_everyone),
        _ => false,
    }
}

/// The condition keys of a statement that limit its callers (empty: none does).
fn limiting_keys(condition: Option<&Value>, kind: &PolicyKind) -> Vec<String> {
    let Some(Value::Object(operators)) = condition else {
        return Vec::new();
    };
    let mut keys = Vec::new();
    for (operator, entries) in operators {
        let operator = operator.to_ascii_lowercase();
        if !kind.limiting_operators.contains(&operator.as_str()) {
            continue;
        }
        let Value::Object(entries) = entries else {
            continue;
        };
        for (key, values) in entries {
            if kind
                .limiting_keys
                .contains(&key.to_ascii_lowercase().as_str())
                && all_fixed(values)
                && (operator != "ipaddress" || !any_address(values))
            {
                keys.push(key.clone());
            }
        }
    }
    keys.sort();
    keys.dedup();
    keys
}

/// A CIDR that lets every address through (`0.0.0.0/0`, `::/0`) limits nothing.
fn any_address(values: &Value) -> bool {
    let open = |value: &Value| value.as_str().is_some_and(|s| s.trim().ends_with("/0"));
    match values {
        Value::Array(list) => list.iter().any(open),
        one => open(one),
    }
}

/// Every value is fixed: no wildcard (`*`, `?`) and no policy variable (`${…}`), and there is
/// at least one (AWS Config's kms-key-policy-no-public-access: "grant access only to fixed
/// values"). A `StringLike` on `"*"` limits nothing.
fn all_fixed(values: &Value) -> bool {
    let fixed = |value: &Value| match value {
        Value::String(s) => !s.is_empty() && !s.contains(['*', '?']) && !s.contains("${"),
        Value::Number(_) => true,
        _ => false,
    };
    match values {
        Value::Array(list) => !list.is_empty() && list.iter().all(fixed),
        one => fixed(one),
    }
}

/// `statement "Sid" {compact JSON}` (or `statement #n` without a Sid), cut to a readable length.
fn quote(statement: &Value, index: usize) -> String {
    let name = match statement.get("Sid").and_then(Value::as_str) {
        Some(sid) if !sid.is_empty() => format!("statement \"{sid}\""),
        _ => format!("statement #{}", index + 1),
    };
    let json = serde_json::to_string(statement).unwrap_or_default();
    let json = match json.char_indices().nth(QUOTE_CHARS) {
        Some((cut, _)) => format!("{}…", &json[..cut]),
        None => json,
    };
    format!("{name} {json}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn policy(statement: Value) -> String {
        json!({"Version": "2012-10-17", "Statement": statement}).to_string()
    }

    fn allow(principal: Value, condition: Option<Value>) -> String {
        let mut statement = json!({"Sid": "S", "Effect": "Allow", "Principal": principal,
            "Action": "kms:Decrypt", "Resource": "*"});
        if let Some(condition) = condition {
            statement["Condition"] = condition;
        }
        policy(json!([statement]))
    }

    fn is_open(text: &str) -> bool {
        matches!(Exposure::of_text(text), Exposure::Open { .. })
    }

    #[test]
    fn every_form_of_everyone_opens_the_key_without_a_condition() {
        for principal in [
            json!("*"),
            json!({"AWS": "*"}),
            json!({"AWS": ["arn:aws:iam::111111111111:root", "*"]}),
            json!({"AWS": "arn:aws:iam::*:root"}),
        ] {
            assert!(is_open(&allow(principal.clone(), None)), "{principal}");
        }
        let not_principal = policy(json!([{"Effect": "Allow",
            "NotPrincipal": {"AWS": "arn:aws:iam::111111111111:role/x"},
            "Action": "kms:*", "Resource": "*"}]));
        assert!(is_open(&not_principal));
    }

    #[test]
    fn named_principals_and_deny_statements_do_not_open_the_key() {
        let account = allow(json!({"AWS": "arn:aws:iam::111111111111:root"}), None);
        assert_eq!(
            Exposure::of_text(&account),
            Exposure::Closed { limited: vec![] }
        );
        let deny = policy(
            json!([{"Effect": "Deny", "Principal": "*", "Action": "kms:*",
            "Resource": "*"}]),
        );
        assert!(!is_open(&deny));
    }

    #[test]
    fn each_limiting_key_with_a_positive_operator_and_fixed_values_limits_everyone() {
        for (operator, key, value) in [
            ("StringEquals", "kms:CallerAccount", json!("111111111111")),
            (
                "StringEquals",
                "aws:PrincipalAccount",
                json!(["111111111111"]),
            ),
            ("StringEquals", "aws:PrincipalOrgID", json!("o-abc123")),
            (
                "ArnLike",
                "aws:PrincipalArn",
                json!("arn:aws:iam::111111111111:role/app"),
            ),
            ("StringEquals", "aws:SourceAccount", json!("111111111111")),
            (
                "ArnEquals",
                "aws:SourceArn",
                json!("arn:aws:s3:::gxp-records"),
            ),
            ("StringEquals", "aws:SourceOwner", json!("111111111111")),
            (
                "StringEqualsIgnoreCase",
                "KMS:CALLERACCOUNT",
                json!("111111111111"),
            ),
            ("StringLike", "kms:CallerAccount", json!("111111111111")),
        ] {
            let text = allow(json!("*"), Some(json!({operator: {key: value}})));
            match Exposure::of_text(&text) {
                Exposure::Closed { limited } => {
                    assert_eq!(limited.len(), 1, "{operator} {key}");
                    assert!(
                        limited[0].contains(&format!("limited by {key}")),
                        "{limited:?}"
                    );
                }
                other => panic!("{operator} {key}: {other:?}"),
            }
        }
    }

    #[test]
    fn conditions_that_limit_nothing_leave_the_key_open() {
        for condition in [
            // Wildcards and variables are no fixed value.
            json!({"StringLike": {"kms:CallerAccount": "*"}}),
            json!({"StringLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/app"}}),
            json!({"StringEquals": {"aws:PrincipalAccount": "${aws:PrincipalAccount}"}}),
            json!({"StringEquals": {"kms:CallerAccount": []}}),
            // Negated, IfExists and set operators.
            json!({"StringNotEquals": {"kms:CallerAccount": "999999999999"}}),
            json!({"StringEqualsIfExists": {"aws:SourceAccount": "111111111111"}}),
            json!({"ForAnyValue:StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}),
            // kms:ViaService alone: any account's principals can call through the service.
            json!({"StringEquals": {"kms:ViaService": "s3.eu-central-1.amazonaws.com"}}),
            // Not about the caller.
            json!({"Bool": {"aws:SecureTransport": "true"}}),
            json!({}),
        ] {
            assert!(
                is_open(&allow(json!({"AWS": "*"}), Some(condition.clone()))),
                "{condition}"
            );
        }
        // kms:ViaService together with kms:CallerAccount: the caller account limits it.
        let both = allow(
            json!("*"),
            Some(
                json!({"StringEquals": {"kms:ViaService": "s3.eu-central-1.amazonaws.com",
                "kms:CallerAccount": "111111111111"}}),
            ),
        );
        assert!(!is_open(&both));
    }

    #[test]
    fn an_open_statement_is_quoted_with_its_sid_and_long_ones_are_cut() {
        let Exposure::Open { statements } = Exposure::of_text(&allow(json!({"AWS": "*"}), None))
        else {
            panic!("open expected");
        };
        assert_eq!(
            statements,
            [
                r#"statement "S" {"Action":"kms:Decrypt","Effect":"Allow","Principal":{"AWS":"*"},"Resource":"*","Sid":"S"}"#
            ]
        );
        let actions: Vec<String> = (0..100).map(|i| format!("kms:Action{i}")).collect();
        let long = policy(
            json!({"Effect": "Allow", "Principal": "*", "Action": actions,
            "Resource": "*"}),
        );
        let Exposure::Open { statements } = Exposure::of_text(&long) else {
            panic!("open expected");
        };
        assert!(
            statements[0].starts_with("statement #1 {"),
            "{statements:?}"
        );
        assert!(statements[0].ends_with('…'));
        assert!(statements[0].chars().count() < QUOTE_CHARS + 20);
    }

    #[test]
    fn a_policy_that_cannot_be_read_is_unknown_naming_why() {
        for (text, why) in [
            ("{not json", "not JSON"),
            (r#"{"Version":"2012-10-17"}"#, "no Statement"),
        ] {
            match Exposure::of_text(text) {
                Exposure::Unknown { why: reason } => assert!(reason.contains(why), "{reason}"),
                other => panic!("{text}: {other:?}"),
            }
        }
        assert!(matches!(
            Exposure::of_request(&json!(42)),
            Exposure::Unknown { .. }
        ));
        // A record may carry the document parsed rather than as a string.
        let parsed: Value = serde_json::from_str(&allow(json!("*"), None)).unwrap();
        assert!(matches!(
            Exposure::of_request(&parsed),
            Exposure::Open { .. }
        ));
    }

    #[test]
    fn a_bucket_policy_is_read_with_s3s_own_limiting_keys() {
        let bucket = |condition: Value| {
            let text = allow(json!("*"), Some(condition));
            Exposure::of_text_as(&text, &BUCKET_POLICY)
        };
        for limiting in [
            json!({"IpAddress": {"aws:SourceIp": "192.0.2.0/24"}}),
            json!({"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}),
            json!({"StringEquals": {"aws:SourceAccount": "111111111111"}}),
            json!({"ArnLike": {"aws:SourceArn": "arn:aws:cloudtrail:eu-central-1:111111111111:trail/t"}}),
        ] {
            assert!(
                matches!(bucket(limiting.clone()), Exposure::Closed { .. }),
                "{limiting}"
            );
        }
        for open in [
            // Not in S3's list of keys that make a policy non-public.
            json!({"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}),
            json!({"StringEquals": {"kms:CallerAccount": "111111111111"}}),
            // Every address.
            json!({"IpAddress": {"aws:SourceIp": ["192.0.2.0/24", "0.0.0.0/0"]}}),
            json!({"NotIpAddress": {"aws:SourceIp": "192.0.2.0/24"}}),
        ] {
            assert!(
                matches!(bucket(open.clone()), Exposure::Open { .. }),
                "{open}"
            );
        }
        let Exposure::Unknown { why } = Exposure::of_text_as("[", &BUCKET_POLICY) else {
            panic!("unknown expected");
        };
        assert!(why.contains("bucket policy"), "{why}");
    }
}
