//! Turning SDK errors into coverage: denied (naming the action), or failed.
//!
//! AccessDenied is recognised by its error code and, because some answers carry a body the SDK
//! cannot parse (moto's XML 403 for JSON-protocol services, a proxy's HTML page), by HTTP 403 alone.
//! A 403 that says the credentials themselves are bad is a failure, not a missing permission.

use std::error::Error as StdError;

use aws_sdk_iam::config::http::HttpResponse;
use aws_sdk_iam::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use crate::inventory::Collected;

/// One failed API call, classified.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// `service:Operation`, the IAM action the call needs.
    pub action: &'static str,
    pub kind: ErrorKind,
    /// The error code the service returned, if it returned one.
    pub code: Option<String>,
    pub message: String,
    /// Why the request never got an answer, when it did not.
    pub transport: Option<Transport>,
}

/// A request that got no answer from the service, in words a person acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    /// The credential chain found nothing (or every source failed).
    NoCredentials,
    ConnectionRefused,
    /// The host name does not resolve.
    UnknownHost,
    TimedOut,
    Other(String),
}

impl std::fmt::Display for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Transport::NoCredentials => f.write_str("no AWS credentials found (environment, profile, SSO, web identity, container or instance role)"),
            Transport::ConnectionRefused => f.write_str("connection refused"),
            Transport::UnknownHost => f.write_str("the host name does not resolve"),
            Transport::TimedOut => f.write_str("timed out"),
            Transport::Other(m) => f.write_str(m),
        }
    }
}

/// Classify an SDK error that never reached the service by walking its cause chain: the chain's
/// own text (the SDK's debug rendering) goes to the log at `-vv`, not to the person.
fn transport<E: StdError + 'static>(err: &SdkError<E, HttpResponse>) -> Option<Transport> {
    if matches!(err, SdkError::ServiceError(_)) {
        return None;
    }
    tracing::debug!("SDK error detail: {}", DisplayErrorContext(err));
    if matches!(err, SdkError::TimeoutError(_)) {
        return Some(Transport::TimedOut);
    }
    let mut chain: Vec<&(dyn StdError + 'static)> = vec![err];
    while let Some(next) = chain.last().copied().and_then(|e| e.source()) {
        if chain.len() > 32 {
            break;
        }
        chain.push(next);
    }
    let text = chain.iter().map(|e| e.to_string()).collect::<Vec<_>>().join(": ");
    if let Some(io) = chain.iter().find_map(|e| e.downcast_ref::<std::io::Error>()) {
        match io.kind() {
            std::io::ErrorKind::ConnectionRefused => return Some(Transport::ConnectionRefused),
            std::io::ErrorKind::TimedOut => return Some(Transport::TimedOut),
            _ => {}
        }
    }
    let lower = text.to_ascii_lowercase();
    Some(if lower.contains("no credentials") || lower.contains("credential provider was not enabled") || lower.contains("loading credentials") {
        Transport::NoCredentials
    } else if lower.contains("connection refused") {
        Transport::ConnectionRefused
    } else if lower.contains("dns error") || lower.contains("failed to lookup address") || lower.contains("name or service not known") {
        Transport::UnknownHost
    } else if lower.contains("timed out") || lower.contains("timeout") {
        Transport::TimedOut
    } else {
        // The deepest cause is usually the one that says what happened.
        Transport::Other(chain.last().map(|e| e.to_string()).unwrap_or(text))
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    Denied,
    Failed,
}

const DENIED_CODES: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnauthorizedAccess",
    "AuthorizationError",
    "AccessDeniedForDependencyException",
];

/// 403s that are about the credentials, not about a permission.
const CREDENTIAL_CODES: &[&str] = &[
    "InvalidClientTokenId",
    "ExpiredToken",
    "ExpiredTokenException",
    "SignatureDoesNotMatch",
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "IncompleteSignature",
    "MissingAuthenticationToken",
];

impl ApiError {
    pub fn from_sdk<E>(action: &'static str, err: SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
    {
        let status = err.raw_response().map(|r| r.status().as_u16());
        let transport = transport(&err);
        let code = err.code().map(str::to_string);
        let kind = classify(code.as_deref(), status);
        let message = match (&err, err.message(), &code) {
            (SdkError::ServiceError(_), Some(m), Some(c)) => format!("{c}: {m}"),
            (SdkError::ServiceError(_), Some(m), None) => m.to_string(),
            (SdkError::ServiceError(_), None, Some(c)) => c.clone(),
            // An answer the SDK could not parse (an HTML error page, a proxy, an emulator gap):
            // the status says enough, and the raw answer's headers stay out of reports.
            (SdkError::ServiceError(_), None, None) => match status {
                Some(s) => format!("HTTP {s} with a body that is not this API's error format"),
                None => "an error the SDK could not parse".to_string(),
            },
            // Timeouts, connection failures, credential errors: said plainly.
            _ => transport.as_ref().map(ToString::to_string).unwrap_or_else(|| DisplayErrorContext(&err).to_string()),
        };
        ApiError { action, kind, code, message: truncate(message), transport }
    }

    /// An error of our own making (a malformed answer, a timeout) attributed to one action.
    pub fn failed(action: &'static str, message: impl Into<String>) -> Self {
        ApiError { action, kind: ErrorKind::Failed, code: None, message: truncate(message.into()), transport: None }
    }

    pub fn is_code(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }

    /// The coverage value for a dataset this error kept from being read.
    pub fn into_collected<T>(self) -> Collected<T> {
        match self.kind {
            ErrorKind::Denied => Collected::Denied { action: self.action.to_string(), message: Some(self.message) },
            ErrorKind::Failed => Collected::Failed { error: format!("{}: {}", self.action, self.message) },
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.kind {
            ErrorKind::Denied => write!(f, "{} denied: {}", self.action, self.message),
            ErrorKind::Failed => write!(f, "{} failed: {}", self.action, self.message),
        }
    }
}

pub fn classify(code: Option<&str>, status: Option<u16>) -> ErrorKind {
    match code {
        Some(c) if DENIED_CODES.contains(&c) => ErrorKind::Denied,
        Some(c) if CREDENTIAL_CODES.contains(&c) => ErrorKind::Failed,
        _ if status == Some(403) => ErrorKind::Denied,
        _ => ErrorKind::Failed,
    }
}

/// Error messages come from the network: keep them to one readable line.
fn truncate(s: String) -> String {
    let one_line: String = s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    if one_line.chars().count() > 400 {
        let mut t: String = one_line.chars().take(400).collect();
        t.push('…');
        t
    } else {
        one_line
    }
}

/// Convert any SDK result, naming the action.
pub trait Api<T> {
    fn api(self, action: &'static str) -> Result<T, ApiError>;
}

impl<T, E> Api<T> for Result<T, SdkError<E, HttpResponse>>
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
{
    fn api(self, action: &'static str) -> Result<T, ApiError> {
        self.map_err(|e| ApiError::from_sdk(action, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_bare_403s_are_denied_but_bad_credentials_are_not() {
        assert_eq!(classify(Some("AccessDenied"), Some(403)), ErrorKind::Denied);
        assert_eq!(classify(Some("UnauthorizedOperation"), Some(403)), ErrorKind::Denied);
        assert_eq!(classify(None, Some(403)), ErrorKind::Denied);
        assert_eq!(classify(Some("ExpiredToken"), Some(403)), ErrorKind::Failed);
        assert_eq!(classify(Some("Throttling"), Some(400)), ErrorKind::Failed);
        assert_eq!(classify(None, Some(500)), ErrorKind::Failed);
        assert_eq!(classify(None, None), ErrorKind::Failed);
    }

    #[test]
    fn messages_are_one_bounded_line() {
        let e = ApiError::failed("iam:GetAccountSummary", format!("a\nb\u{1b}[31m{}", "x".repeat(1000)));
        assert!(!e.message.contains('\n') && !e.message.contains('\u{1b}'));
        assert!(e.message.chars().count() <= 401);
    }
}
