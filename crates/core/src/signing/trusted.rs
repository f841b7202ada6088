//! The auditor's list of keys allowed to sign: a text file of `SHA256:<hex>` fingerprint lines
//! (optionally followed by a label) and/or `-----BEGIN PUBLIC KEY-----` PEM blocks (a `.pub`
//! file from `keygen`, or a KMS public key), with `#` comments.

use std::collections::BTreeMap;
use std::path::Path;

use base64ct::{Base64, Encoding};

use super::{fingerprint, is_fingerprint};

#[derive(Debug, Clone, Default)]
pub struct TrustedKeys {
    /// Fingerprint → label (the rest of a fingerprint line, or "public key at line N").
    keys: BTreeMap<String, String>,
}

#[derive(Debug, thiserror::Error)]
#[error("trusted keys file {file}, line {line}: {message}")]
pub struct TrustedKeysError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

const PEM_BEGIN: &str = "-----BEGIN PUBLIC KEY-----";
const PEM_END: &str = "-----END PUBLIC KEY-----";

impl TrustedKeys {
    pub fn load(path: &Path) -> Result<Self, TrustedKeysError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|err| TrustedKeysError {
            file: file.clone(),
            line: 0,
            message: err.to_string(),
        })?;
        Self::parse(&file, &text)
    }

    pub fn parse(file: &str, text: &str) -> Result<Self, TrustedKeysError> {
        let error = |line: usize, message: String| TrustedKeysError {
            file: file.to_string(),
            line,
            message,
        };
        let mut keys = BTreeMap::new();
        let mut pem: Option<(usize, String)> = None;
        for (index, raw) in text.lines().enumerate() {
            let number = index + 1;
            let line = raw.trim();
            if let Some((start, body)) = pem.as_mut() {
                if line == PEM_END {
                    let der = Base64::decode_vec(body).map_err(|_| {
                        error(
                            *start,
                            "the PUBLIC KEY block is not valid base64".to_string(),
                        )
                    })?;
                    keys.insert(fingerprint(&der), format!("public key at line {start}"));
                    pem = None;
                } else {
                    body.push_str(line);
                }
                continue;
            }
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if line == PEM_BEGIN {
                pem = Some((number, String::new()));
                continue;
            }
            let (first, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
            if !is_fingerprint(first) {
                return Err(error(
                    number,
                    format!(
                        "expected a fingerprint `SHA256:` + 64 lowercase hex digits, or a `{PEM_BEGIN}` block; found `{}`",
                        first.chars().take(80).collect::<String>()
                    ),
                ));
            }
            keys.insert(first.to_string(), rest.trim().to_string());
        }
        if let Some((start, _)) = pem {
            return Err(error(
                start,
                format!("PUBLIC KEY block without `{PEM_END}`"),
            ));
        }
        if keys.is_empty() {
            return Err(error(0, "lists no keys".to_string()));
        }
        Ok(Self { keys })
    }

    pub fn contains(&self, fingerprint: &str) -> bool {
        self.keys.contains_key(fingerprint)
    }

    pub fn label(&self, fingerprint: &str) -> Option<&str> {
        self.keys
            .get(fingerprint)
            .map(String::as_str)
            .filter(|l| !l.is_empty())
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_lines_and_pem_blocks_are_both_read() {
        let der = b"not really DER but hashed the same";
        let text = format!(
            "# QA signers\nSHA256:{}  Jane Roe, QA lead\n\n{PEM_BEGIN}\n{}\n{PEM_END}\n",
            "a".repeat(64),
            Base64::encode_string(der)
        );
        let keys = TrustedKeys::parse("keys.txt", &text).unwrap();
        assert_eq!(keys.len(), 2);
        assert_eq!(
            keys.label(&format!("SHA256:{}", "a".repeat(64))),
            Some("Jane Roe, QA lead")
        );
        assert!(keys.contains(&fingerprint(der)));
    }

    #[test]
    fn bad_lines_are_named() {
        let err = TrustedKeys::parse("keys.txt", "# ok\nSHA256:xyz\n").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.to_string().contains("keys.txt, line 2"), "{err}");
        let err = TrustedKeys::parse("keys.txt", &format!("{PEM_BEGIN}\nAAAA\n")).unwrap_err();
        assert_eq!(err.line, 1);
        let err = TrustedKeys::parse("keys.txt", "# nothing\n").unwrap_err();
        assert!(err.to_string().contains("lists no keys"));
    }
}
