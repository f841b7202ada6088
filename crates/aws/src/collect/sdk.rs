//! The seam between the AWS SDK and the evidence model: what a failed call means (evidence
//! gap, retryable fault or fatal credential problem), timestamp conversion, and the client
//! settings every service shares.

use std::error::Error as StdError;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_kms::config::http::HttpResponse;
use aws_sdk_kms::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_kms::primitives::DateTime;
use chrono::TimeZone;

use gxp_evidence_core::evidence::{ApiError, Timestamp};

/// SDK retries for every call except LookupEvents, which paces and retries itself.
pub const SDK_MAX_ATTEMPTS: u32 = 6;

/// How long one attempt may take before it counts as failed (and is retried).
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(60);

pub fn standard_retry() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(SDK_MAX_ATTEMPTS)
        .with_initial_backoff(Duration::from_millis(500))
        .with_max_backoff(Duration::from_secs(20))
}

pub fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(10))
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .build()
}

/// What kind of failure a call ended in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// AWS answered with an error about the request (AccessDenied, NotFound, …).
    Service,
    /// ThrottlingException and its relatives: retry later.
    Throttled,
    /// HTTP 5xx, a timeout or a broken connection: retry later.
    Transient,
    /// No connection could be made (refused, no route, name not resolved, connect timeout):
    /// retried like a transient fault, but when it is the first call of a run it means the
    /// endpoint cannot be reached, which says nothing about the credentials.
    Unreachable,
    /// The credentials are missing, invalid or expired: nothing more can be collected.
    Credentials,
}

/// A failed AWS call, reduced to what the evidence records. Never holds credentials: the SDK
/// error types carry codes and messages, not request headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallFailure {
    pub code: String,
    pub message: String,
    pub http_status: Option<u16>,
    pub kind: FailureKind,
}

impl CallFailure {
    pub fn api_error(&self) -> ApiError {
        ApiError {
            code: self.code.clone(),
            message: (!self.message.is_empty()).then(|| self.message.clone()),
        }
    }

    pub fn is_retryable(&self) -> bool {
        matches!(
            self.kind,
            FailureKind::Throttled | FailureKind::Transient | FailureKind::Unreachable
        )
    }
}

const THROTTLING_CODES: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "ThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "RequestThrottledException",
    "SlowDown",
];

/// Codes that mean the caller's credentials are unusable. `UnrecognizedClientException` and
/// `InvalidClientTokenId` are not here: once STS has accepted the credentials they mean the
/// region is not enabled for the account, which is an evidence gap for that region.
const CREDENTIAL_CODES: &[&str] = &[
    "ExpiredToken",
    "ExpiredTokenException",
    "RequestExpired",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
    "IncompleteSignature",
    "MissingAuthenticationToken",
];

/// A region answering these to credentials STS accepted is not enabled for the account.
pub fn is_region_rejection(code: &str) -> bool {
    matches!(code, "UnrecognizedClientException" | "InvalidClientTokenId")
}

/// Classifies any SDK error (every service crate re-exports the same `SdkError`).
pub fn call_failure<E>(error: &SdkError<E, HttpResponse>) -> CallFailure
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
{
    let http_status = error.raw_response().map(|r| r.status().as_u16());
    match error {
        SdkError::ServiceError(context) => {
            let service_error = context.err();
            let code =
                service_error
                    .code()
                    .map(str::to_string)
                    .unwrap_or_else(|| match http_status {
                        Some(status) => format!("HTTP{status}"),
                        None => "UnknownError".to_string(),
                    });
            let message = service_error.message().unwrap_or_default().to_string();
            let kind = if CREDENTIAL_CODES.contains(&code.as_str()) {
                FailureKind::Credentials
            } else if THROTTLING_CODES.contains(&code.as_str()) || http_status == Some(429) {
                FailureKind::Throttled
            } else if http_status.is_some_and(|s| s >= 500) {
                FailureKind::Transient
            } else {
                FailureKind::Service
            };
            CallFailure {
                code,
                message,
                http_status,
                kind,
            }
        }
        SdkError::TimeoutError(_) => CallFailure {
            code: "Timeout".to_string(),
            message: "the call timed out".to_string(),
            http_status,
            kind: FailureKind::Transient,
        },
        SdkError::ResponseError(_) => CallFailure {
            code: "ResponseError".to_string(),
            message: DisplayErrorContext(error).to_string(),
            http_status,
            kind: if http_status.is_some_and(|s| s >= 500) {
                FailureKind::Transient
            } else {
                FailureKind::Service
            },
        },
        SdkError::DispatchFailure(failure) => {
            let message = DisplayErrorContext(error).to_string();
            let kind = if failure.is_user() || mentions_credentials(&message) {
                FailureKind::Credentials
            } else if failure.is_io() || failure.is_timeout() {
                // The connector's own errors: the request never reached a server.
                FailureKind::Unreachable
            } else {
                FailureKind::Transient
            };
            CallFailure {
                code: "DispatchFailure".to_string(),
                message,
                http_status,
                kind,
            }
        }
        _ => {
            let message = DisplayErrorContext(error).to_string();
            CallFailure {
                code: "ConstructionFailure".to_string(),
                kind: if mentions_credentials(&message) {
                    FailureKind::Credentials
                } else {
                    FailureKind::Service
                },
                message,
                http_status,
            }
        }
    }
}

fn mentions_credentials(message: &str) -> bool {
    let lower = message.to_ascii_lowercase();
    lower.contains("credentials") || lower.contains("identity resolver")
}

pub fn timestamp(value: &DateTime) -> Option<Timestamp> {
    chrono::Utc
        .timestamp_opt(value.secs(), value.subsec_nanos())
        .single()
        .map(Timestamp)
}

pub fn sdk_datetime(value: Timestamp) -> DateTime {
    DateTime::from_secs(value.0.timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_convert_both_ways_at_second_precision() {
        let at = Timestamp::parse("2026-10-01T00:00:00Z").expect("valid");
        let round = timestamp(&sdk_datetime(at)).expect("in range");
        assert_eq!(round, at);
        let with_millis = DateTime::from_millis(1_696_118_400_250);
        assert_eq!(
            timestamp(&with_millis)
                .expect("in range")
                .0
                .timestamp_millis(),
            1_696_118_400_250
        );
    }
}
