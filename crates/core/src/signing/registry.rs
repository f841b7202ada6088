//! The signer registry QA keeps: a JSON file that binds each signing key (its `SHA256:`
//! fingerprint, or an AWS KMS key ARN) to one person — user id, printed name and role — with
//! the time the key was issued and, once it is withdrawn, revoked (21 CFR 11.100(a), 11.100(b),
//! 11.300(b); Annex 11 §12.1, §14). A valid signature shows that a key signed; the registry
//! shows whose key it was at that time. Loading collects every problem with
//! `file:line:column` before failing, like the evidence loader; `SignerRegistry::check` is the
//! one identity rule `sign` (before it signs) and `verify` (for every sign-off) apply.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use chrono::{NaiveDate, Utc};
use serde::Deserialize;
use serde_json::Value;

use super::{KeyInfo, is_fingerprint};
use crate::evidence::Problem;
use crate::evidence::Timestamp;
use crate::evidence::json_position::{PathSegment, line_column};
use crate::evidence::load::{Problems, duplicate_key_problem};
use crate::package::signoff::check_identity_field;
use crate::report::format::visible;

pub const SIGNERS_FORMAT: u32 = 1;

/// One key's binding to a person, as the registry states it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignerBinding {
    /// `SHA256:<hex>` or `arn:aws…:kms:…:key/…`, as written in the registry.
    pub key: String,
    pub user_id: String,
    pub printed_name: String,
    pub role: String,
    pub issued: Timestamp,
    pub revoked: Option<Timestamp>,
    pub revocation_reason: Option<String>,
    /// Where the entry starts in the registry file, for messages.
    pub line: usize,
}

impl SignerBinding {
    /// `alice (Alice Author, Validation Engineer)`.
    pub fn describe(&self) -> String {
        format!(
            "{} ({}, {})",
            visible(&self.user_id),
            visible(&self.printed_name),
            visible(&self.role)
        )
    }

    fn revocation(&self) -> String {
        match (&self.revoked, &self.revocation_reason) {
            (Some(at), Some(reason)) => format!("{}: {}", at.display_utc(), visible(reason)),
            (Some(at), None) => at.display_utc(),
            (None, _) => String::new(),
        }
    }
}

/// Who a sign-off says signed: what `sign --name/--user-id/--role` gives and a record holds.
#[derive(Debug, Clone, Copy)]
pub struct ClaimedIdentity<'a> {
    pub user_id: &'a str,
    pub printed_name: &'a str,
    pub role: &'a str,
}

/// How a signature's claimed identity, key or time disagrees with the registry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityProblem {
    #[error("key {key} is not in the signer registry")]
    UnknownKey { key: String },
    #[error("the user id is {claimed}, but the registry binds key {key} to {bound}")]
    UserId {
        claimed: String,
        key: String,
        bound: String,
    },
    #[error("the printed name is {claimed}, but the registry binds key {key} to {bound}")]
    PrintedName {
        claimed: String,
        key: String,
        bound: String,
    },
    #[error("the role is {claimed}, but the registry binds key {key} to {bound}")]
    Role {
        claimed: String,
        key: String,
        bound: String,
    },
    #[error("signed at {at}, before key {key} was issued ({issued})")]
    BeforeIssue {
        at: String,
        key: String,
        issued: String,
    },
    #[error("signed at {at}, after key {key} was revoked ({revoked})")]
    Revoked {
        at: String,
        key: String,
        revoked: String,
    },
}

/// The registry, loaded and validated: each key bound once.
#[derive(Debug, Clone)]
pub struct SignerRegistry {
    file: String,
    /// Key (fingerprint or KMS key ARN) → binding.
    bindings: BTreeMap<String, SignerBinding>,
}

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("cannot read signer registry {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}", RenderProblems(file, problems))]
    Invalid {
        file: String,
        problems: Vec<Problem>,
    },
}

struct RenderProblems<'a>(&'a str, &'a [Problem]);

impl fmt::Display for RenderProblems<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (file, problems) = (self.0, self.1);
        write!(
            f,
            "signer registry {file} is not valid ({} problem{}):",
            problems.len(),
            if problems.len() == 1 { "" } else { "s" }
        )?;
        for p in problems {
            write!(
                f,
                "\n  {file}:{}:{}: {}: {}",
                p.line, p.column, p.path, p.message
            )?;
        }
        Ok(())
    }
}

/// An entry as written; times are checked by hand so a date alone can be given.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    key: String,
    user_id: String,
    printed_name: String,
    role: String,
    issued: String,
    #[serde(default)]
    revoked: Option<String>,
    #[serde(default)]
    revocation_reason: Option<String>,
}

impl SignerRegistry {
    pub fn load(path: &Path) -> Result<Self, RegistryError> {
        let bytes = std::fs::read(path).map_err(|source| RegistryError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&path.display().to_string(), &bytes)
    }

    /// Parses and validates a registry; `file` names it in messages.
    pub fn parse(file: &str, bytes: &[u8]) -> Result<Self, RegistryError> {
        let invalid = |problems| RegistryError::Invalid {
            file: file.to_string(),
            problems,
        };
        let text = std::str::from_utf8(bytes).map_err(|err| {
            let (line, column) = line_column(&String::from_utf8_lossy(bytes), err.valid_up_to());
            invalid(vec![Problem {
                path: "(document)".into(),
                line,
                column,
                message: "the file is not UTF-8 text".into(),
            }])
        })?;
        let document: Value = serde_json::from_str(text).map_err(|err| {
            invalid(vec![Problem {
                path: "(document)".into(),
                line: err.line(),
                column: err.column(),
                message: format!(
                    "not valid JSON: {}",
                    err.to_string()
                        .split(" at line ")
                        .next()
                        .unwrap_or_default()
                ),
            }])
        })?;
        // JSON keeps the last of two equal keys: a second `revoked` could hide the first.
        if let Some(duplicate) = duplicate_key_problem(text) {
            return Err(invalid(vec![duplicate]));
        }
        let mut problems = Problems::new(text);
        let bindings = read_document(&document, &mut problems);
        if problems.list.is_empty() {
            Ok(Self {
                file: file.to_string(),
                bindings,
            })
        } else {
            Err(invalid(problems.list))
        }
    }

    pub fn file(&self) -> &str {
        &self.file
    }

    pub fn len(&self) -> usize {
        self.bindings.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bindings.is_empty()
    }

    /// The binding of `key`, by the fingerprint of its public key: the only name of a key that
    /// the signature itself proves. (A KMS key ARN in a sign-off is what the signer wrote;
    /// offline nothing ties it to the key material, so a key made anywhere could claim it.)
    pub fn binding(&self, key: &KeyInfo) -> Option<&SignerBinding> {
        self.bindings.get(&key.fingerprint)
    }

    /// The identity rule: `key` is in the registry, bound to exactly the claimed user id,
    /// printed name and role, and was valid at `at` (issued no later, not yet revoked).
    /// An empty list is a signature the registry vouches for.
    pub fn check(
        &self,
        key: &KeyInfo,
        claimed: ClaimedIdentity<'_>,
        at: Timestamp,
    ) -> Vec<IdentityProblem> {
        let Some(binding) = self.binding(key) else {
            return vec![IdentityProblem::UnknownKey {
                key: key.fingerprint.clone(),
            }];
        };
        let mut problems = Vec::new();
        let key_name = binding.key.clone();
        let mismatch = |claimed: &str, bound: &str| {
            (claimed != bound).then(|| (format!("`{}`", visible(claimed)), binding.describe()))
        };
        if let Some((claimed, bound)) = mismatch(claimed.user_id, &binding.user_id) {
            problems.push(IdentityProblem::UserId {
                claimed,
                key: key_name.clone(),
                bound,
            });
        }
        if let Some((claimed, bound)) = mismatch(claimed.printed_name, &binding.printed_name) {
            problems.push(IdentityProblem::PrintedName {
                claimed,
                key: key_name.clone(),
                bound,
            });
        }
        if let Some((claimed, bound)) = mismatch(claimed.role, &binding.role) {
            problems.push(IdentityProblem::Role {
                claimed,
                key: key_name.clone(),
                bound,
            });
        }
        if at < binding.issued {
            problems.push(IdentityProblem::BeforeIssue {
                at: at.display_utc(),
                key: key_name.clone(),
                issued: binding.issued.display_utc(),
            });
        }
        if binding.revoked.is_some_and(|revoked| revoked <= at) {
            problems.push(IdentityProblem::Revoked {
                at: at.display_utc(),
                key: key_name,
                revoked: binding.revocation(),
            });
        }
        problems
    }
}

fn key(name: &str) -> PathSegment {
    PathSegment::Key(name.to_string())
}

fn read_document(document: &Value, problems: &mut Problems) -> BTreeMap<String, SignerBinding> {
    let mut bindings: BTreeMap<String, SignerBinding> = BTreeMap::new();
    let Some(object) = document.as_object() else {
        problems.add(
            &[],
            "the registry must be a JSON object with `signers_format` and `signers`",
        );
        return bindings;
    };
    for name in object.keys() {
        if name != "signers_format" && name != "signers" {
            problems.add(
                &[key(name)],
                format!("unknown field `{name}`, expected `signers_format` or `signers`"),
            );
        }
    }
    match object.get("signers_format").and_then(Value::as_u64) {
        Some(format) if format == u64::from(SIGNERS_FORMAT) => {}
        Some(format) => problems.add(
            &[key("signers_format")],
            format!(
                "signers_format {format} is not supported (this version reads {SIGNERS_FORMAT})"
            ),
        ),
        None => problems.add(
            &[key("signers_format")],
            format!("missing or not a number: expected `\"signers_format\": {SIGNERS_FORMAT}`"),
        ),
    }
    let Some(entries) = object.get("signers").and_then(Value::as_array) else {
        problems.add(&[key("signers")], "missing or not a list of signers");
        return bindings;
    };
    if entries.is_empty() {
        problems.add(&[key("signers")], "lists no signers");
    }
    // Key → (user id, line) of its first entry, whatever else is wrong with that entry, so
    // a key listed twice is named even when one of its entries has other problems.
    let mut first_seen: BTreeMap<&str, (&str, usize)> = BTreeMap::new();
    for (index, value) in entries.iter().enumerate() {
        let path = [key("signers"), PathSegment::Index(index)];
        let entry_key = value.get("key").and_then(Value::as_str);
        let user_id = value.get("user_id").and_then(Value::as_str).unwrap_or("");
        if let Some(entry_key) = entry_key {
            let key_path = [path[0].clone(), path[1].clone(), key("key")];
            match first_seen.get(entry_key) {
                Some((first_user, line)) if *first_user != user_id => problems.add(
                    &key_path,
                    format!(
                        "key {} is bound to user id {} at line {line} already; a key belongs to one person",
                        visible(entry_key),
                        visible(first_user)
                    ),
                ),
                Some((_, line)) => problems.add(
                    &key_path,
                    format!(
                        "key {} is listed at line {line} already; list each key once",
                        visible(entry_key)
                    ),
                ),
                None => {
                    first_seen.insert(entry_key, (user_id, problems.line_of(&path)));
                }
            }
        }
        if let Some(binding) = read_entry(value, &path, problems) {
            bindings.entry(binding.key.clone()).or_insert(binding);
        }
    }
    bindings
}

fn read_entry(
    value: &Value,
    path: &[PathSegment],
    problems: &mut Problems,
) -> Option<SignerBinding> {
    let at = |field: &str| -> Vec<PathSegment> {
        path.iter().cloned().chain([key(field)]).collect::<Vec<_>>()
    };
    let entry = match Entry::deserialize(value) {
        Ok(entry) => entry,
        Err(err) => {
            // The field the error is about, when serde names one.
            let message = err.to_string();
            let field = message
                .split('`')
                .nth(1)
                .filter(|f| value.get(f).is_some())
                .map(&at)
                .unwrap_or_else(|| path.to_vec());
            problems.add(&field, message);
            return None;
        }
    };
    let before = problems.list.len();
    if is_kms_key_arn(&entry.key) {
        problems.add(
            &at("key"),
            format!(
                "`{}` is a KMS key ARN: list the key by the fingerprint of its public key (`SHA256:` + 64 hex digits, as `sign` prints it), since a sign-off's ARN is only what its signer wrote and is not bound to the key offline",
                visible(&entry.key)
            ),
        );
    } else if !is_fingerprint(&entry.key) {
        problems.add(
            &at("key"),
            format!(
                "`{}` is not a fingerprint (`SHA256:` + 64 lowercase hex digits)",
                visible(&entry.key)
            ),
        );
    }
    for (field, text) in [
        ("user_id", &entry.user_id),
        ("printed_name", &entry.printed_name),
        ("role", &entry.role),
    ] {
        if let Err(err) = check_identity_field(field, text) {
            problems.add(&at(field), err.to_string());
        }
    }
    if let Some(reason) = &entry.revocation_reason
        && let Err(err) = check_identity_field("revocation_reason", reason)
    {
        problems.add(&at("revocation_reason"), err.to_string());
    }
    let issued = parse_time(&entry.issued, &at("issued"), problems);
    let revoked = entry
        .revoked
        .as_ref()
        .and_then(|text| parse_time(text, &at("revoked"), problems));
    if let (Some(issued), Some(revoked)) = (issued, revoked)
        && revoked < issued
    {
        problems.add(
            &at("revoked"),
            format!(
                "revoked {} before it was issued ({})",
                revoked.display_utc(),
                issued.display_utc()
            ),
        );
    }
    if entry.revocation_reason.is_some() && entry.revoked.is_none() {
        problems.add(
            &at("revocation_reason"),
            "a revocation reason without `revoked`: give the time the key was revoked",
        );
    }
    if problems.list.len() > before {
        return None;
    }
    Some(SignerBinding {
        key: entry.key,
        user_id: entry.user_id,
        printed_name: entry.printed_name,
        role: entry.role,
        issued: issued?,
        revoked,
        revocation_reason: entry.revocation_reason,
        line: problems.line_of(path),
    })
}

/// An RFC 3339 time (`2026-01-15T09:00:00Z`), or a date alone for the start of that day, UTC.
fn parse_time(text: &str, path: &[PathSegment], problems: &mut Problems) -> Option<Timestamp> {
    if let Ok(time) = chrono::DateTime::parse_from_rfc3339(text) {
        return Some(Timestamp(time.with_timezone(&Utc)));
    }
    if let Some(midnight) = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|date| date.and_hms_opt(0, 0, 0))
    {
        return Some(Timestamp(midnight.and_utc()));
    }
    problems.add(
        path,
        format!(
            "`{}` is not an RFC 3339 time (2026-01-15T09:00:00Z) or a date (2026-01-15)",
            visible(text)
        ),
    );
    None
}

/// `arn:<partition>:kms:<region>:<account>:key/<id>` — the form a sign-off records.
fn is_kms_key_arn(text: &str) -> bool {
    let parts: Vec<&str> = text.splitn(6, ':').collect();
    matches!(parts.as_slice(),
        ["arn", partition, "kms", region, account, resource]
            if partition.starts_with("aws")
                && !region.is_empty()
                && account.len() == 12
                && account.bytes().all(|b| b.is_ascii_digit())
                && resource.strip_prefix("key/").is_some_and(|id| !id.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signing::local::LocalKey;

    fn registry_text(fingerprint: &str) -> String {
        let bob = LocalKey::from_secret([9; 32]).info.fingerprint;
        format!(
            r#"{{
  "signers_format": 1,
  "signers": [
    {{
      "key": "{fingerprint}",
      "user_id": "jroe",
      "printed_name": "Jane Roe",
      "role": "QA Lead",
      "issued": "2026-01-15",
      "revoked": "2026-12-01T00:00:00Z",
      "revocation_reason": "left the company"
    }},
    {{
      "key": "{bob}",
      "user_id": "bob",
      "printed_name": "Bob Approver",
      "role": "QA Manager",
      "issued": "2026-01-15T09:00:00Z"
    }}
  ]
}}
"#
        )
    }

    fn at(text: &str) -> Timestamp {
        Timestamp::parse(text).unwrap()
    }

    const JANE: ClaimedIdentity<'static> = ClaimedIdentity {
        user_id: "jroe",
        printed_name: "Jane Roe",
        role: "QA Lead",
    };

    #[test]
    fn a_sign_off_matches_its_binding_in_identity_and_time() {
        let key = LocalKey::from_secret([3; 32]);
        let registry = SignerRegistry::parse(
            "signers.json",
            registry_text(&key.info.fingerprint).as_bytes(),
        )
        .unwrap();
        assert_eq!(registry.len(), 2);
        assert_eq!(registry.binding(&key.info).unwrap().line, 4);
        assert_eq!(
            registry.check(&key.info, JANE, at("2026-11-02T09:00:00Z")),
            vec![]
        );
        let problems = registry.check(
            &key.info,
            ClaimedIdentity {
                user_id: "jdoe",
                printed_name: "Jane Doe",
                role: "QA Lead",
            },
            at("2026-01-14T23:59:59Z"),
        );
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert_eq!(
            problems[0].to_string(),
            format!(
                "the user id is `jdoe`, but the registry binds key {} to jroe (Jane Roe, QA Lead)",
                key.info.fingerprint
            )
        );
        assert!(matches!(problems[2], IdentityProblem::BeforeIssue { .. }));
        let revoked = registry.check(&key.info, JANE, at("2026-12-01T00:00:00Z"));
        assert_eq!(
            revoked[0].to_string(),
            format!(
                "signed at 2026-12-01 00:00:00 UTC, after key {} was revoked (2026-12-01 00:00:00 UTC: left the company)",
                key.info.fingerprint
            )
        );
        let stranger = LocalKey::from_secret([4; 32]);
        assert!(matches!(
            registry.check(&stranger.info, JANE, at("2026-11-02T09:00:00Z"))[..],
            [IdentityProblem::UnknownKey { .. }]
        ));
        // A key that claims a KMS ARN is still found only by its own fingerprint: the ARN is
        // what the signer wrote.
        let claims_arn = KeyInfo {
            kms_key_arn: Some(
                "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
                    .into(),
            ),
            ..stranger.info.clone()
        };
        assert!(registry.binding(&claims_arn).is_none());
        let bob = LocalKey::from_secret([9; 32]).info;
        assert_eq!(registry.binding(&bob).unwrap().user_id, "bob");
    }

    #[test]
    fn every_problem_of_the_file_is_named_with_its_position() {
        let fingerprint = LocalKey::from_secret([3; 32]).info.fingerprint;
        let eve1 = LocalKey::from_secret([5; 32]).info.fingerprint;
        let text = format!(
            r#"{{
  "signers_format": 1,
  "signers": [
    {{"key": "{fingerprint}", "user_id": "jroe", "printed_name": "Jane Roe", "role": "QA", "issued": "2026-01-15"}},
    {{"key": "{fingerprint}", "user_id": "bob", "printed_name": "Bob", "role": "QA", "issued": "2026-01-15"}},
    {{"key": "{fingerprint}", "user_id": "jroe", "printed_name": "Jane Roe", "role": "QA", "issued": "2026-01-15"}},
    {{"key": "SHA256:abc", "user_id": " bob", "printed_name": "Bob", "role": "QA", "issued": "soon"}},
    {{"key": "{eve1}", "user_id": "eve", "printed_name": "Eve", "role": "QA",
      "issued": "2026-02-01", "revoked": "2026-01-01"}},
    {{"key": "arn:aws:kms:eu-west-1:111122223333:key/k2", "user_id": "eve2", "printed_name": "Eve", "role": "QA",
      "issued": "2026-02-01", "revocation_reason": "lost"}},
    {{"key": "arn:aws:kms:eu-west-1:111122223333:key/k3", "user_id": "eve3", "printed_name": "Eve", "role": "QA",
      "issued": "2026-02-01", "colour": "red"}}
  ]
}}"#
        );
        let err = SignerRegistry::parse("signers.json", text.as_bytes()).unwrap_err();
        let RegistryError::Invalid { problems, .. } = &err else {
            panic!("{err}");
        };
        let found: Vec<(usize, &str)> =
            problems.iter().map(|p| (p.line, p.path.as_str())).collect();
        assert_eq!(
            found,
            vec![
                (5, "signers[1].key"),
                (6, "signers[2].key"),
                (7, "signers[3].key"),
                (7, "signers[3].user_id"),
                (7, "signers[3].issued"),
                (9, "signers[4].revoked"),
                (10, "signers[5].key"),
                (11, "signers[5].revocation_reason"),
                (13, "signers[6].colour"),
            ],
            "{err}"
        );
        let message = err.to_string();
        assert!(message.contains("9 problems"), "{message}");
        let twice = format!(
            r#"{{"signers_format": 1, "signers": [{{"key": "{fingerprint}", "user_id": "jroe",
  "printed_name": "Jane Roe", "role": "QA", "issued": "2026-01-15",
  "revoked": "2026-02-01", "revocation_reason": "key lost", "revoked": "2099-01-01"}}]}}"#
        );
        let err = SignerRegistry::parse("signers.json", twice.as_bytes()).unwrap_err();
        assert!(
            err.to_string()
                .contains("signers.json:3:69: signers[0]: the key `revoked` appears twice"),
            "{err}"
        );
        assert!(message.contains("is a KMS key ARN"), "{message}");
        assert!(
            message.contains("is bound to user id jroe at line 4 already"),
            "{message}"
        );
        assert!(message.contains("revoked 2026-01-01 00:00:00 UTC before it was issued"));
        assert!(message.contains("unknown field `colour`"), "{message}");

        let err =
            SignerRegistry::parse("signers.json", b"{\"signers_format\": 1,\n \"signers\": [}")
                .unwrap_err()
                .to_string();
        assert!(
            err.contains("signers.json:2:14: (document): not valid JSON"),
            "{err}"
        );
        let err =
            SignerRegistry::parse("signers.json", b"{\"signers_format\": 2, \"signers\": []}")
                .unwrap_err()
                .to_string();
        assert!(
            err.contains("not supported") && err.contains("lists no signers"),
            "{err}"
        );
    }
}
