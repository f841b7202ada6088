//! Keys and signatures, independent of any package: the public-key description stored with
//! every signature (algorithm, SHA-256 fingerprint, SubjectPublicKeyInfo), the canonical
//! encoding of what is signed, offline verification of Ed25519, ECDSA P-256/SHA-256 and
//! RSASSA-PSS/SHA-256 (salt 32, as AWS KMS signs), and the signers: a local Ed25519 key
//! (`keygen`) or an AWS KMS asymmetric key.

pub mod local;
pub mod registry;
pub mod timestamp;
pub mod trusted;

use std::fmt;

use base64ct::{Base64, Encoding};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::evidence::sha256_hex;

/// The largest message AWS KMS signs in RAW mode; every statement stays below it.
pub const MAX_STATEMENT_BYTES: usize = 4096;

/// A signature algorithm the package format knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Algorithm {
    /// Ed25519 (RFC 8032, pure: the message itself is signed).
    #[serde(rename = "ed25519")]
    Ed25519,
    /// ECDSA over NIST P-256 with SHA-256; DER-encoded signature (AWS KMS `ECDSA_SHA_256`).
    #[serde(rename = "ecdsa-p256-sha256")]
    EcdsaP256Sha256,
    /// RSASSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt (AWS KMS `RSASSA_PSS_SHA_256`).
    #[serde(rename = "rsassa-pss-sha256")]
    RsaPssSha256,
}

impl Algorithm {
    pub fn label(self) -> &'static str {
        match self {
            Algorithm::Ed25519 => "Ed25519",
            Algorithm::EcdsaP256Sha256 => "ECDSA P-256 SHA-256",
            Algorithm::RsaPssSha256 => "RSASSA-PSS SHA-256",
        }
    }
}

/// Where the private key lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeySource {
    /// A PKCS#8 file on the signer's machine (`gxp-evidence keygen`).
    Local,
    /// An AWS KMS asymmetric key; the private key never leaves KMS.
    AwsKms,
}

/// The public half of a signing key as a package stores it, so a signature can be checked
/// years later with no access to the signer's machine or to AWS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyInfo {
    pub source: KeySource,
    pub algorithm: Algorithm,
    /// `SHA256:` and the lowercase hex SHA-256 of the DER SubjectPublicKeyInfo.
    pub fingerprint: String,
    /// The DER SubjectPublicKeyInfo, base64.
    pub public_key: String,
    /// The KMS key's ARN, for keys held in AWS KMS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key_arn: Option<String>,
}

impl KeyInfo {
    pub fn new(
        source: KeySource,
        algorithm: Algorithm,
        spki_der: &[u8],
        kms_key_arn: Option<String>,
    ) -> Self {
        Self {
            source,
            algorithm,
            fingerprint: fingerprint(spki_der),
            public_key: Base64::encode_string(spki_der),
            kms_key_arn,
        }
    }

    /// The kind of key: algorithm and where it lives (`Ed25519 local key`,
    /// `ECDSA P-256 SHA-256 AWS KMS key arn:…`).
    pub fn kind(&self) -> String {
        match &self.kms_key_arn {
            Some(arn) => format!("{} AWS KMS key {arn}", self.algorithm.label()),
            None => format!("{} local key", self.algorithm.label()),
        }
    }

    /// How a person reads the key: its kind and fingerprint.
    pub fn describe(&self) -> String {
        format!("{} {}", self.kind(), self.fingerprint)
    }

    /// Checks `signature` over `message` with this key, offline. The stored fingerprint must
    /// be the fingerprint of the stored public key, so neither can be swapped alone.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), SignatureProblem> {
        let der = Base64::decode_vec(&self.public_key).map_err(|_| {
            SignatureProblem::PublicKey("the public key is not valid base64".into())
        })?;
        if fingerprint(&der) != self.fingerprint {
            return Err(SignatureProblem::FingerprintMismatch);
        }
        verify_with_spki(self.algorithm, &der, message, signature)
    }
}

/// Why a signature was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureProblem {
    #[error("the stored fingerprint is not the fingerprint of the stored public key")]
    FingerprintMismatch,
    #[error("the public key cannot be read: {0}")]
    PublicKey(String),
    #[error("the signature is not valid base64")]
    Encoding,
    #[error("the signature is malformed for {0}")]
    Malformed(&'static str),
    #[error("the signature does not verify")]
    Invalid,
}

/// `SHA256:` followed by the lowercase hex SHA-256 of a DER SubjectPublicKeyInfo — the same
/// bytes `openssl pkey -pubin -outform DER | sha256sum` hashes.
pub fn fingerprint(spki_der: &[u8]) -> String {
    format!("SHA256:{}", sha256_hex(spki_der))
}

/// Is `text` a well-formed fingerprint (`SHA256:` and 64 lowercase hex digits)?
pub fn is_fingerprint(text: &str) -> bool {
    text.strip_prefix("SHA256:").is_some_and(|hex| {
        hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

pub fn encode_signature(signature: &[u8]) -> String {
    Base64::encode_string(signature)
}

pub fn decode_signature(text: &str) -> Result<Vec<u8>, SignatureProblem> {
    Base64::decode_vec(text).map_err(|_| SignatureProblem::Encoding)
}

fn verify_with_spki(
    algorithm: Algorithm,
    spki_der: &[u8],
    message: &[u8],
    signature: &[u8],
) -> Result<(), SignatureProblem> {
    use ed25519_dalek::Verifier;
    use p256::pkcs8::DecodePublicKey;
    let key_error = |err: &dyn fmt::Display| SignatureProblem::PublicKey(err.to_string());
    match algorithm {
        Algorithm::Ed25519 => {
            let key = ed25519_dalek::VerifyingKey::from_public_key_der(spki_der)
                .map_err(|e| key_error(&e))?;
            let signature = ed25519_dalek::Signature::from_slice(signature)
                .map_err(|_| SignatureProblem::Malformed("Ed25519"))?;
            key.verify_strict(message, &signature)
                .map_err(|_| SignatureProblem::Invalid)
        }
        Algorithm::EcdsaP256Sha256 => {
            let key = p256::ecdsa::VerifyingKey::from_public_key_der(spki_der)
                .map_err(|e| key_error(&e))?;
            let signature = p256::ecdsa::DerSignature::try_from(signature)
                .map_err(|_| SignatureProblem::Malformed("ECDSA P-256"))?;
            key.verify(message, &signature)
                .map_err(|_| SignatureProblem::Invalid)
        }
        Algorithm::RsaPssSha256 => {
            let key = rsa::PublicKey::from_public_key_der(spki_der).map_err(|e| key_error(&e))?;
            if rsa::traits::PublicKeyParts::size(&key) < 256 {
                return Err(SignatureProblem::PublicKey(
                    "RSA keys shorter than 2048 bits are not accepted".into(),
                ));
            }
            let verifier = rsa::pss::VerifyingKey::<sha2::Sha256>::new_with_salt_len(key, 32);
            let signature = rsa::pss::Signature::try_from(signature)
                .map_err(|_| SignatureProblem::Malformed("RSASSA-PSS"))?;
            verifier
                .verify(message, &signature)
                .map_err(|_| SignatureProblem::Invalid)
        }
    }
}

/// The bytes a signature covers: `value` as canonical JSON — object keys sorted by their
/// UTF-8 bytes, no whitespace, strings escaped by serde_json (for the strings, integers and
/// nulls used here this is RFC 8785 JSON Canonicalization).
pub fn canonical_json<T: Serialize>(value: &T) -> Vec<u8> {
    let value = serde_json::to_value(value).expect("signed records always serialize");
    let mut out = Vec::new();
    write_canonical(&value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push(b'{');
            for (index, (key, item)) in entries.into_iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                serde_json::to_writer(&mut *out, key).expect("writing to a Vec cannot fail");
                out.push(b':');
                write_canonical(item, out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                write_canonical(item, out);
            }
            out.push(b']');
        }
        scalar => serde_json::to_writer(&mut *out, scalar).expect("writing to a Vec cannot fail"),
    }
}

/// Why signing failed.
#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    #[error("{0}")]
    Key(String),
    #[error("key file {}: wrong passphrase (or the file is damaged)", .0.display())]
    WrongPassphrase(std::path::PathBuf),
    #[error(
        "key file {} is not encrypted: a signature needs the key and its passphrase (21 CFR 11.200(a)(1)); \
         protect it with a passphrase (keygen makes encrypted keys), or give --unencrypted-key-reason \"why\" \
         (recorded in the sign-off)",
        .0.display()
    )]
    UnencryptedKey(std::path::PathBuf),
    #[error("AWS KMS {operation} failed for key {key}: {code}: {message}")]
    Kms {
        operation: &'static str,
        key: String,
        code: String,
        message: String,
    },
    #[error("the statement to sign is {0} bytes; at most {MAX_STATEMENT_BYTES} can be signed")]
    TooLong(usize),
    #[error("the signature made with {key} does not verify with its own public key ({problem})")]
    SelfCheck {
        key: String,
        problem: SignatureProblem,
    },
}

/// A key that makes signatures: a local Ed25519 key (`local::LocalKey`) here, an AWS KMS key
/// in the AWS adapter. The core never needs to know where a key lives.
pub trait SigningKey {
    /// The key's public half, algorithm and source, as the package records it.
    fn info(&self) -> &KeyInfo;
    /// The raw signature of `statement` with this key's algorithm.
    fn sign_statement(&self, statement: &[u8]) -> Result<Vec<u8>, SigningError>;
    /// Why the key was used without its second identification component (a local key file
    /// without a passphrase); none for an encrypted key or a KMS key.
    fn unencrypted_reason(&self) -> Option<&str> {
        None
    }
}

/// Whoever is signing: any `SigningKey`, with the checks every signature goes through.
pub struct Signer(Box<dyn SigningKey>);

impl Signer {
    pub fn new(key: impl SigningKey + 'static) -> Self {
        Self(Box::new(key))
    }

    pub fn key_info(&self) -> &KeyInfo {
        self.0.info()
    }

    pub fn unencrypted_reason(&self) -> Option<&str> {
        self.0.unencrypted_reason()
    }

    /// Signs `statement` and checks the signature with the stored public key before handing
    /// it out, so a package never receives a signature an offline verifier would reject.
    pub fn sign(&self, statement: &[u8]) -> Result<Vec<u8>, SigningError> {
        if statement.len() > MAX_STATEMENT_BYTES {
            return Err(SigningError::TooLong(statement.len()));
        }
        let signature = self.0.sign_statement(statement)?;
        let info = self.key_info();
        info.verify(statement, &signature)
            .map_err(|problem| SigningError::SelfCheck {
                key: info.describe(),
                problem,
            })?;
        Ok(signature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_sorts_keys_at_every_level_and_has_no_whitespace() {
        let value = serde_json::json!({"b": 1, "a": {"d": "x\n\"y\"", "c": null}, "é": [2, {"z": 0, "y": true}]});
        assert_eq!(
            String::from_utf8(canonical_json(&value)).unwrap(),
            r#"{"a":{"c":null,"d":"x\n\"y\""},"b":1,"é":[2,{"y":true,"z":0}]}"#
        );
    }

    #[test]
    fn fingerprints_are_recognised() {
        assert!(is_fingerprint(&fingerprint(b"key")));
        assert!(!is_fingerprint("SHA256:ABC"));
        assert!(!is_fingerprint(&fingerprint(b"key").to_uppercase()));
    }

    /// Signatures made by Python `cryptography` (tests/fixtures/signing/make_vectors.py) in
    /// the shapes AWS KMS returns, checked with the Rust verifiers.
    #[test]
    fn kms_shaped_signatures_from_another_implementation_verify_with_the_exact_parameters() {
        let vectors: Value = serde_json::from_str(include_str!(
            "../../../../tests/fixtures/signing/vectors.json"
        ))
        .unwrap();
        let text = |pointer: &str| vectors.pointer(pointer).unwrap().as_str().unwrap();
        let message = Base64::decode_vec(text("/message")).unwrap();
        let key = |algorithm, pointer: &str| {
            let der = Base64::decode_vec(text(pointer)).unwrap();
            KeyInfo::new(
                KeySource::AwsKms,
                algorithm,
                &der,
                Some("arn:aws:kms:eu-west-1:111122223333:key/test".into()),
            )
        };
        let signature = |pointer: &str| decode_signature(text(pointer)).unwrap();

        let rsa = key(Algorithm::RsaPssSha256, "/rsa_2048/public_key");
        assert_eq!(
            rsa.verify(&message, &signature("/rsa_2048/pss_sha256_salt32")),
            Ok(())
        );
        // Same key and message, but a salt length AWS KMS does not use: rejected.
        assert_eq!(
            rsa.verify(&message, &signature("/rsa_2048/pss_sha256_salt_max")),
            Err(SignatureProblem::Invalid)
        );
        assert_eq!(
            rsa.verify(
                b"another message",
                &signature("/rsa_2048/pss_sha256_salt32")
            ),
            Err(SignatureProblem::Invalid)
        );

        let ecdsa = key(Algorithm::EcdsaP256Sha256, "/ecc_nist_p256/public_key");
        let der = signature("/ecc_nist_p256/ecdsa_sha256_der");
        assert_eq!(ecdsa.verify(&message, &der), Ok(()));
        assert_eq!(
            ecdsa.verify(b"another message", &der),
            Err(SignatureProblem::Invalid)
        );
        // A key of one kind never verifies as another.
        let confused = key(Algorithm::Ed25519, "/ecc_nist_p256/public_key");
        assert!(matches!(
            confused.verify(&message, &der),
            Err(SignatureProblem::PublicKey(_))
        ));
    }

    #[test]
    fn a_key_info_with_a_swapped_fingerprint_is_rejected() {
        let key = local::LocalKey::from_secret([7; 32]);
        let signature = key.sign(b"message");
        let mut info = key.info.clone();
        assert_eq!(info.verify(b"message", &signature), Ok(()));
        assert_eq!(
            info.verify(b"messagf", &signature),
            Err(SignatureProblem::Invalid)
        );
        info.fingerprint = fingerprint(b"another key");
        assert_eq!(
            info.verify(b"message", &signature),
            Err(SignatureProblem::FingerprintMismatch)
        );
    }
}
