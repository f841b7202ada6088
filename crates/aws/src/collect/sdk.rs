//! The seam between the AWS SDK and the evidence model: what a failed call means (evidence
//! gap, retryable fault or fatal credential problem), timestamp conversion, and the client
//! settings every service shares.

use std::error::Error as StdError;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_kms::config::http::HttpResponse;
use aws_sdk_kms::error::{ProvideErrorMetadata, SdkError};
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
/// The continuation tokens of one paged listing. A service that answers a token it gave
/// before would be paged forever: that is stopped and said as a `PaginationLoop` failure (the
/// listing is then incomplete, so an evidence gap).
#[derive(Debug, Default)]
pub struct PageTokens {
    seen: std::collections::BTreeSet<String>,
}

impl PageTokens {
    /// The token to ask the next page with: `Ok(None)` after the last page (no token, or an
    /// empty one), `Err` when the token was seen before.
    pub fn next(&mut self, api: &str, token: Option<&str>) -> Result<Option<String>, CallFailure> {
        match token.filter(|t| !t.is_empty()) {
            None => Ok(None),
            Some(token) if self.seen.insert(token.to_string()) => Ok(Some(token.to_string())),
            Some(token) => Err(CallFailure {
                code: "PaginationLoop".to_string(),
                message: format!("{api}: next token {token:?} repeated; stopped paging"),
                http_status: None,
                kind: FailureKind::Service,
            }),
        }
    }
}

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
            message: reasons(error),
            http_status,
            kind: if http_status.is_some_and(|s| s >= 500) {
                FailureKind::Transient
            } else {
                FailureKind::Service
            },
        },
        SdkError::DispatchFailure(_) | SdkError::ConstructionFailure(_)
            if no_credentials(error) =>
        {
            CallFailure {
                code: NO_CREDENTIALS_CODE.to_string(),
                message: format!(
                    "no AWS credentials found; tried {}",
                    tried_credential_chain()
                ),
                http_status,
                kind: FailureKind::Credentials,
            }
        }
        SdkError::DispatchFailure(failure) => {
            let message = reasons(error);
            if failure.is_io() || failure.is_timeout() {
                // The connector's own errors: the request never reached a server.
                CallFailure {
                    code: "ConnectFailure".to_string(),
                    message: connect_reason(error),
                    http_status,
                    kind: FailureKind::Unreachable,
                }
            } else {
                CallFailure {
                    code: "DispatchFailure".to_string(),
                    kind: if failure.is_user() || mentions_credentials(&message) {
                        FailureKind::Credentials
                    } else {
                        FailureKind::Transient
                    },
                    message,
                    http_status,
                }
            }
        }
        _ => {
            let message = reasons(error);
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

/// The code of a `CallFailure` that found no credentials at all (nothing to refresh: the
/// credential chain came up empty).
pub const NO_CREDENTIALS_CODE: &str = "NoCredentials";

/// The errors an error was caused by, outermost first (its own included).
fn causes<'a>(
    error: &'a (dyn StdError + 'static),
) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    std::iter::successors(Some(error), |&e| e.source())
}

/// A person's reading of an SDK error: each cause's Display once, joined by `: `. Not the
/// SDK's `DisplayErrorContext`, which appends a Debug dump of the whole error (`DispatchFailure(
/// DispatchFailure { source: ConnectorError { … } })`) that tells a QA user nothing.
fn reasons(error: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in causes(error) {
        let text = cause.to_string();
        let text = text.trim();
        if !text.is_empty() && !parts.iter().any(|seen| seen.contains(text)) {
            parts.push(text.to_string());
        }
    }
    parts.join(": ")
}

/// Why no connection could be made, in the words of `ss`/`curl` (connection refused, timed
/// out, name not resolved), from the innermost I/O error of the chain.
fn connect_reason(error: &(dyn StdError + 'static)) -> String {
    use std::io::ErrorKind;
    let io_error = causes(error)
        .filter_map(|cause| cause.downcast_ref::<std::io::Error>())
        .last();
    match io_error {
        Some(io) => match io.kind() {
            ErrorKind::ConnectionRefused => "connection refused".to_string(),
            ErrorKind::TimedOut => "connection timed out".to_string(),
            ErrorKind::ConnectionReset => "connection reset".to_string(),
            ErrorKind::ConnectionAborted => "connection aborted".to_string(),
            ErrorKind::HostUnreachable => "host unreachable".to_string(),
            ErrorKind::NetworkUnreachable => "network unreachable".to_string(),
            ErrorKind::AddrNotAvailable => "address not available".to_string(),
            _ => io.to_string(),
        },
        None if causes(error).any(|cause| {
            cause
                .downcast_ref::<aws_sdk_kms::error::ConnectorError>()
                .is_some_and(|c| c.is_timeout())
        }) =>
        {
            "connection timed out".to_string()
        }
        None => reasons(error),
    }
}

/// The credential chain found nothing (as opposed to credentials it found and AWS refused).
fn no_credentials(error: &(dyn StdError + 'static)) -> bool {
    causes(error).any(|cause| {
        matches!(
            cause.downcast_ref::<CredentialsError>(),
            Some(CredentialsError::CredentialsNotLoaded(_))
        )
    })
}

/// The places aws-config's default credential chain looks, in its order, as this process
/// sees them, for a message that lets the user see which one they meant to use.
pub fn tried_credential_chain() -> String {
    let home_file = |var: &str, file: &str| match std::env::var_os(var) {
        Some(path) if !path.is_empty() => format!("{} ({var})", path.to_string_lossy()),
        _ => format!("~/.aws/{file}"),
    };
    let profile = match std::env::var("AWS_PROFILE") {
        Ok(name) if !name.is_empty() => format!("profile {name} (AWS_PROFILE)"),
        _ => "profile `default` (or the one --profile names)".to_string(),
    };
    let imds = if std::env::var("AWS_EC2_METADATA_DISABLED")
        .is_ok_and(|v| v.eq_ignore_ascii_case("true"))
    {
        "EC2 instance metadata (disabled by AWS_EC2_METADATA_DISABLED)"
    } else {
        "EC2 instance metadata"
    };
    format!(
        "the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), {profile} in {} and {}, web identity (AWS_WEB_IDENTITY_TOKEN_FILE), ECS container credentials (AWS_CONTAINER_CREDENTIALS_*), {imds}",
        home_file("AWS_CONFIG_FILE", "config"),
        home_file("AWS_SHARED_CREDENTIALS_FILE", "credentials"),
    )
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
    use aws_sdk_kms::error::ConnectorError;

    #[test]
    fn a_repeated_page_token_stops_paging_as_a_pagination_loop() {
        let mut tokens = PageTokens::default();
        assert_eq!(tokens.next("GetApis", Some("a")), Ok(Some("a".to_string())));
        assert_eq!(tokens.next("GetApis", Some("b")), Ok(Some("b".to_string())));
        assert_eq!(tokens.next("GetApis", Some("")), Ok(None));
        assert_eq!(tokens.next("GetApis", None), Ok(None));
        let looped = tokens.next("GetApis", Some("a")).expect_err("a loop");
        assert_eq!(looped.code, "PaginationLoop");
        assert!(
            looped.message.starts_with("GetApis: next token"),
            "{}",
            looped.message
        );
    }
    use aws_sdk_kms::operation::sign::SignError;

    fn dispatch_failure(connector: ConnectorError) -> SdkError<SignError, HttpResponse> {
        SdkError::dispatch_failure(connector)
    }

    /// Issue 17: a refused connection reads "connection refused", not the SDK's Debug dump.
    #[test]
    fn a_refused_connection_is_unreachable_in_plain_words() {
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let failure = call_failure(&dispatch_failure(ConnectorError::io(Box::new(refused))));
        assert_eq!(failure.kind, FailureKind::Unreachable);
        assert_eq!(failure.message, "connection refused");
    }

    /// Issue 17: an empty credential chain is told apart from refused credentials.
    #[test]
    fn an_empty_credential_chain_is_no_credentials_naming_the_chain() {
        let not_loaded = CredentialsError::not_loaded("no credentials found in chain");
        let failure = call_failure(&dispatch_failure(ConnectorError::other(
            Box::new(not_loaded),
            None,
        )));
        assert_eq!(failure.kind, FailureKind::Credentials);
        assert_eq!(failure.code, NO_CREDENTIALS_CODE);
        assert!(
            failure
                .message
                .starts_with("no AWS credentials found; tried the environment")
        );
        assert!(!failure.message.contains('{'), "{}", failure.message);
    }

    #[test]
    fn other_dispatch_failures_read_as_their_causes_once() {
        let failure = call_failure(&dispatch_failure(ConnectorError::other(
            "proxy refused the tunnel".into(),
            None,
        )));
        assert_eq!(failure.kind, FailureKind::Transient);
        assert_eq!(
            failure.message,
            "dispatch failure: other: proxy refused the tunnel"
        );
    }

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
