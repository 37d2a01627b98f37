//! One authenticated REST client for Resource Manager and one for Microsoft Graph, both on the
//! `azure_core` pipeline (bearer-token policy, retries with `Retry-After` on 429 and 5xx). Lists
//! follow every spelling of the next-page link (`nextLink`, `@nextLink`, `@odata.nextLink`), and
//! only to the host the request went to: a token is never sent elsewhere.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use azure_core::credentials::TokenCredential;
use azure_core::http::policies::auth::BearerTokenAuthorizationPolicy;
use azure_core::http::policies::Policy;
use azure_core::http::{ClientOptions, Context, Method, Pipeline, PipelineSendOptions, Request, Url};
use serde_json::Value;

/// How long one request (with its retries) may take before it counts as failed.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Arm,
    Graph,
}

/// Why a read failed, classified for coverage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// 403 (or 401 after a fresh token): the principal lacks the permission.
    Denied { code: String, message: String },
    /// A feature the tenant is not licensed for (Graph's `…NonPremiumTenant…`).
    Unlicensed { code: String, message: String },
    /// 404 / resource not found (a subscription that went away, a provider not registered).
    NotFound { message: String },
    /// Anything else: transport, 5xx or 429 past the retries, a malformed answer, a timeout.
    Failed { message: String },
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiError::Denied { code, message } | ApiError::Unlicensed { code, message } => write!(f, "{code}: {message}"),
            ApiError::NotFound { message } | ApiError::Failed { message } => f.write_str(message),
        }
    }
}

pub struct Client {
    pipeline: Pipeline,
    /// The origin and path prefix every request goes to (`https://management.azure.com`,
    /// `https://graph.microsoft.com/v1.0`).
    base: Url,
    service: Service,
    calls: Arc<AtomicUsize>,
}

impl Client {
    pub fn new(service: Service, base: Url, credential: Arc<dyn TokenCredential>) -> Self {
        // The token audience is the endpoint's origin: management.azure.com, graph.microsoft.com,
        // and their sovereign-cloud counterparts alike.
        let scope = format!("{}/.default", base.origin().ascii_serialization());
        let auth: Arc<dyn Policy> = Arc::new(BearerTokenAuthorizationPolicy::new(credential, [scope]));
        let pipeline = Pipeline::new(
            Some("portcullis"),
            Some(env!("CARGO_PKG_VERSION")),
            ClientOptions::default(),
            Vec::new(),
            vec![auth],
            None,
        );
        Client { pipeline, base, service, calls: Arc::new(AtomicUsize::new(0)) }
    }

    /// The same service, pipeline (token cache) and call counter at another API version of the
    /// same origin (Graph `beta` beside `v1.0`): the last path segment of the base is replaced.
    pub fn sibling(&self, version: &str) -> Result<Client, ApiError> {
        let mut base = self.base.clone();
        base.path_segments_mut()
            .map_err(|_| ApiError::Failed { message: format!("{} cannot take a version", self.base) })?
            .pop_if_empty()
            .pop()
            .push(version);
        Ok(Client { pipeline: self.pipeline.clone(), base, service: self.service, calls: self.calls.clone() })
    }

    /// Requests sent so far (pages, not items; retries not counted).
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::Relaxed)
    }

    /// `path` (with its query) joined to the base URL.
    pub fn url(&self, path_and_query: &str) -> Result<Url, ApiError> {
        let base = self.base.as_str().trim_end_matches('/');
        Url::parse(&format!("{base}{path_and_query}")).map_err(|e| ApiError::Failed { message: format!("bad URL {path_and_query}: {e}") })
    }

    /// GET one JSON document.
    pub async fn get(&self, url: Url) -> Result<Value, ApiError> {
        if url.origin() != self.base.origin() {
            return Err(ApiError::Failed { message: format!("refusing to follow a link to another host: {}", url.origin().ascii_serialization()) });
        }
        self.calls.fetch_add(1, Ordering::Relaxed);
        let mut req = Request::new(url.clone(), Method::Get);
        req.insert_header("accept", "application/json");
        let ctx = Context::new();
        let send = self.pipeline.send(&ctx, &mut req, Some(PipelineSendOptions { skip_checks: true, ..Default::default() }));
        let resp = match tokio::time::timeout(REQUEST_TIMEOUT, send).await {
            Err(_) => return Err(ApiError::Failed { message: format!("no answer within {} s from {}", REQUEST_TIMEOUT.as_secs(), url.path()) }),
            Ok(Err(e)) => return Err(ApiError::Failed { message: transport_message(&e) }),
            Ok(Ok(r)) => r,
        };
        let status = u16::from(resp.status());
        let body: &[u8] = resp.body().as_ref();
        if (200..300).contains(&status) {
            return serde_json::from_slice(body)
                .map_err(|e| ApiError::Failed { message: format!("{} answered HTTP {status} with a body that is not JSON ({e})", url.path()) });
        }
        Err(classify(self.service, status, body))
    }

    /// GET every page of a list and return its items (`value` arrays, concatenated).
    pub async fn list(&self, path_and_query: &str) -> Result<Vec<Value>, ApiError> {
        let mut url = self.url(path_and_query)?;
        let mut items = Vec::new();
        for _page in 0..100_000 {
            let doc = self.get(url).await?;
            match doc.get("value") {
                Some(Value::Array(v)) => items.extend(v.iter().cloned()),
                None | Some(Value::Null) => {}
                Some(_) => return Err(ApiError::Failed { message: format!("{path_and_query}: `value` is not a list") }),
            }
            let next = ["@odata.nextLink", "nextLink", "@nextLink"].iter().find_map(|k| doc.get(*k).and_then(Value::as_str)).filter(|s| !s.is_empty());
            match next {
                None => return Ok(items),
                Some(n) => {
                    url = Url::parse(n).map_err(|e| ApiError::Failed { message: format!("{path_and_query}: next-page link {n:?} is not a URL: {e}") })?;
                }
            }
        }
        Err(ApiError::Failed { message: format!("{path_and_query}: more than 100,000 pages; stopped") })
    }
}

/// A transport error with its causes, without the request's headers.
pub fn transport_message(e: &azure_core::Error) -> String {
    crate::collect::with_sources(e.to_string(), e)
}

/// Turn an error answer into an [`ApiError`]: the `error.code` decides between denied, licence
/// missing and not found.
pub fn classify(service: Service, status: u16, body: &[u8]) -> ApiError {
    let doc: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let err = doc.get("error").unwrap_or(&Value::Null);
    let code = err.get("code").and_then(Value::as_str).unwrap_or("").to_string();
    let mut message = err.get("message").and_then(Value::as_str).unwrap_or("").to_string();
    if message.is_empty() {
        message = format!("HTTP {status}");
    }
    message = message.chars().take(500).collect();
    let licence = code.contains("NonPremiumTenant") || (service == Service::Graph && message.to_ascii_lowercase().contains("premium license"));
    if licence {
        return ApiError::Unlicensed { code, message };
    }
    match status {
        401 | 403 => ApiError::Denied { code: if code.is_empty() { format!("HTTP {status}") } else { code }, message },
        404 => ApiError::NotFound { message: if code.is_empty() { message } else { format!("{code}: {message}") } },
        _ => ApiError::Failed { message: if code.is_empty() { format!("HTTP {status}: {message}") } else { format!("HTTP {status} {code}: {message}") } },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_decide_the_kind() {
        let lic = br#"{"error":{"code":"Authentication_RequestFromNonPremiumTenantOrB2CTenant","message":"Neither tenant is B2C or tenant doesn't have premium license"}}"#;
        assert!(matches!(classify(Service::Graph, 403, lic), ApiError::Unlicensed { .. }));
        let denied = br#"{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges to complete the operation."}}"#;
        assert!(matches!(classify(Service::Graph, 403, denied), ApiError::Denied { .. }));
        let arm = br#"{"error":{"code":"AuthorizationFailed","message":"does not have authorization to perform action 'Microsoft.Authorization/roleAssignments/read'"}}"#;
        assert!(matches!(classify(Service::Arm, 403, arm), ApiError::Denied { .. }));
        assert!(matches!(classify(Service::Arm, 404, b"not json"), ApiError::NotFound { .. }));
        match classify(Service::Arm, 500, b"") {
            ApiError::Failed { message } => assert!(message.contains("500")),
            other => panic!("{other:?}"),
        }
    }
}
