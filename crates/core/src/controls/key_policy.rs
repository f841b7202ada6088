//! Reading a KMS key policy for `kms-key-exposure`: which `Allow` statements open the key to
//! everyone (a `"*"` principal, or `NotPrincipal`) without a condition that limits the callers
//! to known accounts, organizations or principals. One reading serves the control (the
//! collected GetKeyPolicy text), the period rule (the policy a PutKeyPolicy or CreateKey
//! record carries) and the classification of those events, so the three cannot disagree.
//! docs/controls.md "kms-key-exposure" gives each rule its source.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Condition keys that name who calls (AWS account, organization, principal, or the resource a
/// service acts for): with a positive operator and fixed values they limit a `"*"` statement to
/// known callers (KMS developer guide "AWS KMS condition keys" for `kms:CallerAccount`; IAM
/// user guide "AWS global condition context keys" for the `aws:` keys). `kms:ViaService` is not
/// one: every account's principals can call through the named service. Lower case, because
/// condition key names are case-insensitive.
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

/// How long a quoted statement may get in a reason before it is cut.
const QUOTE_CHARS: usize = 300;

/// What a key policy allows everyone. Compared across versions by the period rule, so it
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
        match serde_json::from_str::<Value>(text) {
            Ok(document) => Exposure::of_document(&document),
            Err(error) => Exposure::Unknown {
                why: format!(
                    "the key policy is not JSON ({error}), so who it allows cannot be read"
                ),
            },
        }
    }

    /// Reads the `policy` request parameter of a CloudTrail record: the document as a JSON
    /// string (as the API takes it), or already parsed.
    pub fn of_request(policy: &Value) -> Exposure {
        match policy {
            Value::String(text) => Exposure::of_text(text),
            Value::Object(_) => Exposure::of_document(policy),
            other => Exposure::Unknown {
                why: format!("the key policy in the record is {other}, not a policy document"),
            },
        }
    }

    fn of_document(document: &Value) -> Exposure {
        let statements: Vec<&Value> = match document.get("Statement") {
            Some(Value::Array(list)) => list.iter().collect(),
            Some(one @ Value::Object(_)) => vec![one],
            _ => {
                return Exposure::Unknown {
                    why: "the key policy has no Statement list, so who it allows cannot be read"
                        .to_string(),
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
            match limiting_keys(statement.get("Condition")) {
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
fn limiting_keys(condition: Option<&Value>) -> Vec<String> {
    let Some(Value::Object(operators)) = condition else {
        return Vec::new();
    };
    let mut keys = Vec::new();
    for (operator, entries) in operators {
        if !LIMITING_OPERATORS.contains(&operator.to_ascii_lowercase().as_str()) {
            continue;
        }
        let Value::Object(entries) = entries else {
            continue;
        };
        for (key, values) in entries {
            if LIMITING_KEYS.contains(&key.to_ascii_lowercase().as_str()) && all_fixed(values) {
                keys.push(key.clone());
            }
        }
    }
    keys.sort();
    keys.dedup();
    keys
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
}
