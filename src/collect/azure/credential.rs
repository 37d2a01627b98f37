//! The credential chain users expect from Azure tooling (`DefaultAzureCredential` in the other
//! SDKs; `azure_identity` 1.x leaves it to the application). Steps, in order, each skipped when
//! its settings are absent:
//!
//! 1. environment client secret: `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET`;
//! 2. environment client certificate: `AZURE_CLIENT_CERTIFICATE_PATH` (a PEM file holding the
//!    private key and the certificate); the client assertion is signed here, in pure Rust;
//! 3. workload identity: `AZURE_FEDERATED_TOKEN_FILE` (AKS, GitHub Actions through azure/login);
//! 4. managed identity: App Service / Functions (`IDENTITY_ENDPOINT`) or the VM instance metadata
//!    service (tried when it answers a connection within a second);
//! 5. the Azure CLI's login (`az account get-access-token`), when `az` is on the PATH.
//!
//! A step whose settings are present is final: a wrong secret is an error, not a silent fall
//! through to another identity. `AZURE_AUTHORITY_HOST` moves the login host (sovereign clouds).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use azure_core::credentials::{Secret, TokenCredential};
use azure_core::http::{ClientMethodOptions, ClientOptions, ExponentialRetryOptions, RetryOptions};
use azure_identity::{
    AzureCliCredential, AzureCliCredentialOptions, ClientAssertion, ClientAssertionCredential,
    ClientAssertionCredentialOptions, ClientSecretCredential, ClientSecretCredentialOptions, ManagedIdentityCredential, ManagedIdentityCredentialOptions, UserAssignedId,
    WorkloadIdentityCredential, WorkloadIdentityCredentialOptions,
};
use base64::Engine;
use sha2::{Digest, Sha256};

/// Which step of the chain supplied the credential (for the sources line and `-v`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialSource {
    ClientSecret,
    ClientCertificate,
    WorkloadIdentity,
    ManagedIdentity,
    AzureCli,
}

impl CredentialSource {
    pub fn describe(self) -> &'static str {
        match self {
            CredentialSource::ClientSecret => "client secret (AZURE_CLIENT_SECRET)",
            CredentialSource::ClientCertificate => "client certificate (AZURE_CLIENT_CERTIFICATE_PATH)",
            CredentialSource::WorkloadIdentity => "workload identity (AZURE_FEDERATED_TOKEN_FILE)",
            CredentialSource::ManagedIdentity => "managed identity",
            CredentialSource::AzureCli => "Azure CLI login",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error("no Azure credentials found: set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or AZURE_CLIENT_CERTIFICATE_PATH, or AZURE_FEDERATED_TOKEN_FILE), run on a managed identity, or `az login`")]
    None,
    #[error("{source_name}: {what} is set but {missing} is not")]
    Incomplete { source_name: &'static str, what: &'static str, missing: &'static str },
    #[error("{source_name}: {message}")]
    Invalid { source_name: &'static str, message: String },
    #[error("client certificate {path}: {message}")]
    Certificate { path: String, message: String },
}

/// The environment the chain reads (a function, so tests of the chain's order need no process
/// environment).
pub struct Env<'e>(pub &'e dyn Fn(&str) -> Option<String>);

impl Env<'_> {
    fn get(&self, k: &str) -> Option<String> {
        (self.0)(k).filter(|v| !v.trim().is_empty())
    }
}

/// Build the first credential whose settings are present. `tenant` (from `--azure-tenant`)
/// overrides `AZURE_TENANT_ID`.
pub fn chain(env: &Env<'_>, tenant: Option<&str>) -> Result<(Arc<dyn TokenCredential>, CredentialSource), CredentialError> {
    let tenant_id = tenant.map(str::to_string).or_else(|| env.get("AZURE_TENANT_ID"));
    let client_id = env.get("AZURE_CLIENT_ID");
    let invalid = |source_name, e: azure_core::Error| CredentialError::Invalid { source_name, message: e.to_string() };

    if let Some(secret) = env.get("AZURE_CLIENT_SECRET") {
        let (t, c) = need(tenant_id, client_id, "AZURE_CLIENT_SECRET", "client secret")?;
        let cred = ClientSecretCredential::new(&t, c, Secret::new(secret), Some(ClientSecretCredentialOptions { client_options: token_client_options() })).map_err(|e| invalid("client secret", e))?;
        return Ok((cred, CredentialSource::ClientSecret));
    }
    if let Some(path) = env.get("AZURE_CLIENT_CERTIFICATE_PATH") {
        let (t, c) = need(tenant_id, client_id, "AZURE_CLIENT_CERTIFICATE_PATH", "client certificate")?;
        let assertion = CertificateAssertion::load(Path::new(&path), &c, &t, env)?;
        let cred = ClientAssertionCredential::new(t, c, assertion, Some(ClientAssertionCredentialOptions { client_options: token_client_options() })).map_err(|e| invalid("client certificate", e))?;
        return Ok((cred, CredentialSource::ClientCertificate));
    }
    if let Some(file) = env.get("AZURE_FEDERATED_TOKEN_FILE") {
        let (t, c) = need(tenant_id, client_id, "AZURE_FEDERATED_TOKEN_FILE", "workload identity")?;
        let opts = WorkloadIdentityCredentialOptions {
            client_id: Some(c),
            tenant_id: Some(t),
            token_file_path: Some(PathBuf::from(file)),
            credential_options: ClientAssertionCredentialOptions { client_options: token_client_options() },
            ..Default::default()
        };
        let cred = WorkloadIdentityCredential::new(Some(opts)).map_err(|e| invalid("workload identity", e))?;
        return Ok((cred, CredentialSource::WorkloadIdentity));
    }
    if env.get("IDENTITY_ENDPOINT").is_some() || env.get("MSI_ENDPOINT").is_some() || imds_answers() {
        let opts = ManagedIdentityCredentialOptions {
            user_assigned_id: client_id.map(UserAssignedId::ClientId),
            client_options: token_client_options(),
            ..Default::default()
        };
        let cred = ManagedIdentityCredential::new(Some(opts)).map_err(|e| invalid("managed identity", e))?;
        return Ok((cred, CredentialSource::ManagedIdentity));
    }
    if on_path("az", env) {
        let opts = AzureCliCredentialOptions { tenant_id, ..Default::default() };
        let cred = AzureCliCredential::new(Some(opts)).map_err(|e| invalid("Azure CLI", e))?;
        return Ok((cred, CredentialSource::AzureCli));
    }
    Err(CredentialError::None)
}

/// Token requests retry briefly: a login host that refuses TLS or the connection will not fix
/// itself within the SDK's default minute of retries.
fn token_client_options() -> ClientOptions {
    ClientOptions {
        retry: RetryOptions::exponential(ExponentialRetryOptions {
            max_retries: 3,
            max_total_elapsed: azure_core::time::Duration::seconds(15),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn need(
    tenant: Option<String>,
    client: Option<String>,
    what: &'static str,
    source_name: &'static str,
) -> Result<(String, String), CredentialError> {
    let t = tenant.ok_or(CredentialError::Incomplete { source_name, what, missing: "AZURE_TENANT_ID (or --azure-tenant)" })?;
    let c = client.ok_or(CredentialError::Incomplete { source_name, what, missing: "AZURE_CLIENT_ID" })?;
    Ok((t, c))
}

/// The instance metadata service, as the other SDKs probe it: a connection within a second.
fn imds_answers() -> bool {
    let addr = std::net::SocketAddr::from(([169, 254, 169, 254], 80));
    std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_secs(1)).is_ok()
}

fn on_path(program: &str, env: &Env<'_>) -> bool {
    let Some(path) = env.get("PATH") else { return false };
    std::env::split_paths(&path).any(|dir| {
        let p = dir.join(program);
        p.is_file() || p.with_extension("cmd").is_file()
    })
}

/// A client assertion signed with the certificate's private key (RS256), as Entra ID documents
/// it: header `alg`, `typ`, `x5t#S256` (the certificate's SHA-256 thumbprint); claims `aud` (the
/// token endpoint), `iss` = `sub` = the client id, `jti`, `nbf`, `exp`. No OpenSSL: the key is
/// read and the signature made by the `rsa` crate.
pub struct CertificateAssertion {
    key: rsa::pkcs1v15::SigningKey<Sha256>,
    thumbprint: String,
    client_id: String,
    audience: String,
}

impl std::fmt::Debug for CertificateAssertion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key.
        f.debug_struct("CertificateAssertion").field("thumbprint", &self.thumbprint).finish_non_exhaustive()
    }
}

impl CertificateAssertion {
    pub fn load(path: &Path, client_id: &str, tenant_id: &str, env: &Env<'_>) -> Result<Self, CredentialError> {
        let err = |message: String| CredentialError::Certificate { path: path.display().to_string(), message };
        let text = std::fs::read_to_string(path).map_err(|e| {
            err(if e.kind() == std::io::ErrorKind::InvalidData {
                "not a PEM file (PKCS#12 / .pfx files are not supported: convert with `openssl pkcs12 -nodes`)".into()
            } else {
                e.to_string()
            })
        })?;
        Self::from_pem(&text, client_id, tenant_id, env).map_err(err)
    }

    pub fn from_pem(text: &str, client_id: &str, tenant_id: &str, env: &Env<'_>) -> Result<Self, String> {
        use rsa::pkcs1::DecodeRsaPrivateKey;
        use rsa::pkcs8::DecodePrivateKey;
        let mut key = None;
        let mut cert = None;
        for block in pem_blocks(text) {
            match block.0.as_str() {
                "PRIVATE KEY" => {
                    key = Some(rsa::RsaPrivateKey::from_pkcs8_der(&block.1).map_err(|e| format!("the PRIVATE KEY block is not an RSA PKCS#8 key: {e}"))?)
                }
                "RSA PRIVATE KEY" => {
                    key = Some(rsa::RsaPrivateKey::from_pkcs1_der(&block.1).map_err(|e| format!("the RSA PRIVATE KEY block is not valid: {e}"))?)
                }
                "ENCRYPTED PRIVATE KEY" => return Err("the private key is encrypted; give an unencrypted PEM".into()),
                "CERTIFICATE" if cert.is_none() => cert = Some(block.1),
                _ => {}
            }
        }
        let key = key.ok_or("no PRIVATE KEY or RSA PRIVATE KEY block")?;
        let cert = cert.ok_or("no CERTIFICATE block")?;
        let thumbprint = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(&cert));
        let authority = env.get("AZURE_AUTHORITY_HOST").unwrap_or_else(|| "https://login.microsoftonline.com".into());
        let audience = format!("{}/{tenant_id}/oauth2/v2.0/token", authority.trim_end_matches('/'));
        Ok(CertificateAssertion { key: rsa::pkcs1v15::SigningKey::<Sha256>::new(key), thumbprint, client_id: client_id.to_string(), audience })
    }

    /// The signed JWT, valid for ten minutes from `now` (Unix seconds).
    pub fn sign(&self, now: i64) -> String {
        use rsa::signature::{SignatureEncoding, Signer};
        let b64 = |v: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
        let header = serde_json::json!({ "alg": "RS256", "typ": "JWT", "x5t#S256": self.thumbprint });
        let mut jti = [0u8; 16];
        let seed = Sha256::digest(format!("{now}{:?}{}", std::time::Instant::now(), std::process::id()));
        jti.copy_from_slice(&seed[..16]);
        let claims = serde_json::json!({
            "aud": self.audience,
            "iss": self.client_id,
            "sub": self.client_id,
            "jti": hex(&jti),
            "nbf": now - 60,
            "iat": now,
            "exp": now + 600,
        });
        let signing_input = format!("{}.{}", b64(header.to_string().as_bytes()), b64(claims.to_string().as_bytes()));
        let sig = self.key.sign(signing_input.as_bytes()).to_bytes();
        format!("{signing_input}.{}", b64(&sig))
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[async_trait::async_trait]
impl ClientAssertion for CertificateAssertion {
    async fn secret(&self, _options: Option<ClientMethodOptions<'_>>) -> azure_core::Result<String> {
        Ok(self.sign(time::OffsetDateTime::now_utc().unix_timestamp()))
    }
}

/// `-----BEGIN X-----` … `-----END X-----` blocks, decoded; undecodable blocks are skipped.
fn pem_blocks(text: &str) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut cur: Option<(String, String)> = None;
    for line in text.lines() {
        let line = line.trim();
        if let Some(label) = line.strip_prefix("-----BEGIN ").and_then(|l| l.strip_suffix("-----")) {
            cur = Some((label.to_string(), String::new()));
        } else if line.starts_with("-----END ") {
            if let Some((label, body)) = cur.take() {
                if let Ok(der) = base64::engine::general_purpose::STANDARD.decode(body) {
                    out.push((label, der));
                }
            }
        } else if let Some((_, body)) = cur.as_mut() {
            if !line.contains(':') {
                body.push_str(line);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let v: Vec<(String, String)> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| v.iter().find(|(n, _)| n == k).map(|(_, x)| x.clone())
    }

    #[test]
    fn secret_comes_first_and_needs_tenant_and_client() {
        let e = env(&[("AZURE_TENANT_ID", "t"), ("AZURE_CLIENT_ID", "c"), ("AZURE_CLIENT_SECRET", "s"), ("AZURE_FEDERATED_TOKEN_FILE", "/x")]);
        let (_, src) = chain(&Env(&e), None).unwrap();
        assert_eq!(src, CredentialSource::ClientSecret);
        let e = env(&[("AZURE_CLIENT_ID", "c"), ("AZURE_CLIENT_SECRET", "s")]);
        let err = chain(&Env(&e), None).err().unwrap().to_string();
        assert!(err.contains("AZURE_TENANT_ID"), "{err}");
        // --azure-tenant fills the tenant.
        assert!(chain(&Env(&e), Some("t")).is_ok());
    }

    #[test]
    fn workload_identity_when_only_a_token_file() {
        let token = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(token.path(), "header.payload.signature").unwrap();
        let path = token.path().to_str().unwrap().to_string();
        let e = env(&[("AZURE_TENANT_ID", "t"), ("AZURE_CLIENT_ID", "c"), ("AZURE_FEDERATED_TOKEN_FILE", &path)]);
        assert_eq!(chain(&Env(&e), None).unwrap().1, CredentialSource::WorkloadIdentity);
    }

    #[test]
    fn a_bad_certificate_file_is_an_error_not_a_fall_through() {
        let e = env(&[("AZURE_TENANT_ID", "t"), ("AZURE_CLIENT_ID", "c"), ("AZURE_CLIENT_CERTIFICATE_PATH", "/nonexistent/cert.pem"), ("PATH", "/usr/bin")]);
        let err = chain(&Env(&e), None).err().unwrap().to_string();
        assert!(err.contains("/nonexistent/cert.pem"), "{err}");
        assert!(CertificateAssertion::from_pem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "c", "t", &Env(&e)).is_err());
    }

    #[test]
    fn pem_blocks_skip_headers_and_garbage() {
        let b = pem_blocks("junk\n-----BEGIN CERTIFICATE-----\nProc-Type: x\nAAEC\n-----END CERTIFICATE-----\n-----BEGIN X-----\n!!!\n-----END X-----\n");
        assert_eq!(b, vec![("CERTIFICATE".to_string(), vec![0, 1, 2])]);
    }
}
