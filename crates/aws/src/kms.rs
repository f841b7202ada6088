//! Signing with an AWS KMS asymmetric key: GetPublicKey once (the public key goes into the
//! package, so verification never needs AWS), then kms:Sign in RAW mode for each statement.
//! ECC_NIST_P256 keys sign with ECDSA_SHA_256, RSA keys with RSASSA_PSS_SHA_256. Permissions:
//! kms:GetPublicKey and kms:Sign (kms:DescribeKey only where GetPublicKey names no ARN).

use aws_sdk_kms::Client;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{KeySpec, KeyUsageType, MessageType, SigningAlgorithmSpec};

use crate::collect::sdk::{FailureKind, call_failure};
use crate::collect::{AwsSettings, load_sdk_config};
use gxp_evidence_core::signing::{Algorithm, KeyInfo, KeySource, SigningError, SigningKey};

/// A KMS key ready to sign: the key is addressed by the ARN GetPublicKey returned, so an
/// alias moved to another key halfway through cannot mix two keys in one package.
pub struct KmsKey {
    pub info: KeyInfo,
    key_arn: String,
    signing_algorithm: SigningAlgorithmSpec,
    client: Client,
    /// Where the calls go, named when they cannot get there (no secrets in it).
    endpoint: String,
    runtime: tokio::runtime::Runtime,
}

impl KmsKey {
    /// Looks the key up (`key_id`: key id, key ARN, alias name or alias ARN) and checks it
    /// can sign with an algorithm the package format verifies offline.
    pub fn connect(
        settings: &AwsSettings,
        region: Option<&str>,
        key_id: &str,
    ) -> Result<Self, SigningError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|err| SigningError::Key(format!("cannot start the async runtime: {err}")))?;
        let sdk = runtime
            .block_on(load_sdk_config(settings))
            .map_err(|err| SigningError::Key(err.to_string()))?;
        let mut config = aws_sdk_kms::config::Builder::from(&sdk);
        if let Some(region) = region {
            config = config.region(aws_sdk_kms::config::Region::new(region.to_string()));
        }
        let client = Client::from_conf(config.build());
        let endpoint = crate::collect::endpoint_in_region(&sdk, "kms", region);
        let output = runtime
            .block_on(client.get_public_key().key_id(key_id).send())
            .map_err(|err| kms_error("GetPublicKey", key_id, &endpoint, &err))?;
        let unsuitable = |why: String| SigningError::Key(format!("AWS KMS key {key_id}: {why}"));
        if output.key_usage() != Some(&KeyUsageType::SignVerify) {
            return Err(unsuitable(format!(
                "key usage is {}, not SIGN_VERIFY",
                output.key_usage().map_or("unknown", |u| u.as_str())
            )));
        }
        // KeySpec, or the older CustomerMasterKeySpec that some endpoints still send alone
        // (deprecated in the SDK, still part of the API's answer).
        #[allow(deprecated)]
        let key_spec = output
            .key_spec()
            .map(KeySpec::as_str)
            .or(output.customer_master_key_spec().map(|s| s.as_str()));
        let (algorithm, signing_algorithm) = match key_spec {
            Some("ECC_NIST_P256") => (
                Algorithm::EcdsaP256Sha256,
                SigningAlgorithmSpec::EcdsaSha256,
            ),
            Some("RSA_2048" | "RSA_3072" | "RSA_4096") => (
                Algorithm::RsaPssSha256,
                SigningAlgorithmSpec::RsassaPssSha256,
            ),
            other => {
                return Err(unsuitable(format!(
                    "key spec {} is not supported; use ECC_NIST_P256 (ECDSA_SHA_256) or RSA_2048/3072/4096 (RSASSA_PSS_SHA_256)",
                    other.unwrap_or("unknown")
                )));
            }
        };
        if !output.signing_algorithms().contains(&signing_algorithm) {
            return Err(unsuitable(format!(
                "the key does not offer {}",
                signing_algorithm.as_str()
            )));
        }
        let returned_id = output
            .key_id()
            .ok_or_else(|| unsuitable("GetPublicKey returned no key id".to_string()))?;
        let key_arn = if returned_id.starts_with("arn:") {
            returned_id.to_string()
        } else {
            // AWS returns the key ARN; an endpoint that answers with the bare key id is asked
            // for the ARN, so the package always names the key unambiguously.
            let described = runtime
                .block_on(client.describe_key().key_id(returned_id).send())
                .map_err(|err| kms_error("DescribeKey", key_id, &endpoint, &err))?;
            described
                .key_metadata()
                .and_then(|m| m.arn())
                .ok_or_else(|| unsuitable("DescribeKey returned no key ARN".to_string()))?
                .to_string()
        };
        let public_key = output
            .public_key()
            .ok_or_else(|| unsuitable("GetPublicKey returned no public key".to_string()))?;
        let info = KeyInfo::new(
            KeySource::AwsKms,
            algorithm,
            public_key.as_ref(),
            Some(key_arn.clone()),
        );
        Ok(Self {
            info,
            key_arn,
            signing_algorithm,
            client,
            endpoint,
            runtime,
        })
    }
}

impl SigningKey for KmsKey {
    fn info(&self) -> &KeyInfo {
        &self.info
    }

    fn sign_statement(&self, message: &[u8]) -> Result<Vec<u8>, SigningError> {
        let request = self
            .client
            .sign()
            .key_id(&self.key_arn)
            .message(Blob::new(message))
            .message_type(MessageType::Raw)
            .signing_algorithm(self.signing_algorithm.clone())
            .send();
        let output = self
            .runtime
            .block_on(request)
            .map_err(|err| kms_error("Sign", self.key_arn.clone(), &self.endpoint, &err))?;
        output
            .signature()
            .map(|blob| blob.as_ref().to_vec())
            .ok_or_else(|| SigningError::Kms {
                operation: "Sign",
                key: self.key_arn.clone(),
                code: "NoSignature".to_string(),
                message: "the response carried no signature".to_string(),
            })
    }
}

fn kms_error<E>(
    operation: &'static str,
    key: impl Into<String>,
    endpoint: &str,
    error: &aws_sdk_kms::error::SdkError<E, aws_sdk_kms::config::http::HttpResponse>,
) -> SigningError
where
    E: aws_sdk_kms::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let failure = call_failure(error);
    let message = match failure.kind {
        // Said as the collection says it: the request never reached a server.
        FailureKind::Unreachable => format!("cannot connect to {endpoint} ({})", failure.message),
        _ => failure.message,
    };
    SigningError::Kms {
        operation,
        key: key.into(),
        code: failure.code,
        message,
    }
}
