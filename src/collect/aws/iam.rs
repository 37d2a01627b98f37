//! IAM, read in bulk: one paginated `GetAccountAuthorizationDetails`, the credential report, the
//! account summary and password policy, virtual MFA devices, and the identity providers. The number
//! of calls does not grow with the number of users or roles.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_iam::types::{
    AttachedPermissionsBoundary, AttachedPolicy as SdkAttached, PolicyDetail, ReportStateType, Tag,
};
use aws_sdk_iam::Client;

use super::error::{Api, ApiError};
use super::ts;
use crate::import::aws_authorization_details::name_from_arn;
use crate::import::aws_credential_report::parse_csv;
use crate::inventory::aws::{
    AccountSummary, AttachedPolicy, AuthorizationDetails, CredentialReport, IamGroup, IamRole, IamUser,
    IdentityProviders, InlinePolicy, ManagedPolicy, OidcProvider, PasswordPolicy, SamlProvider, UserCredential,
    UserCredentials, VirtualMfaDevice,
};
use crate::inventory::aws::default_version;
use crate::inventory::Timestamp;
use crate::policy::PolicyDocument;

const AUTH_DETAILS: &str = "iam:GetAccountAuthorizationDetails";

pub async fn authorization_details(client: &Client) -> Result<AuthorizationDetails, ApiError> {
    let mut out = AuthorizationDetails::default();
    let mut pages = client.get_account_authorization_details().max_items(1000).into_paginator().send();
    let mut n = 0;
    let mut listed = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.api(AUTH_DETAILS)?;
        n += 1;
        for u in page.user_detail_list() {
            out.users.push(IamUser {
                name: u.user_name().unwrap_or_default().to_string(),
                id: u.user_id().unwrap_or_default().to_string(),
                arn: u.arn().unwrap_or_default().to_string(),
                path: path(u.path()),
                created: u.create_date().and_then(ts),
                groups: u.group_list().to_vec(),
                attached_policies: attached(u.attached_managed_policies()),
                inline_policies: inline(u.user_policy_list(), "user", u.user_name()),
                permissions_boundary: boundary(u.permissions_boundary()),
                tags: tags(u.tags()),
            });
        }
        for g in page.group_detail_list() {
            out.groups.push(IamGroup {
                name: g.group_name().unwrap_or_default().to_string(),
                id: g.group_id().unwrap_or_default().to_string(),
                arn: g.arn().unwrap_or_default().to_string(),
                path: path(g.path()),
                created: g.create_date().and_then(ts),
                attached_policies: attached(g.attached_managed_policies()),
                inline_policies: inline(g.group_policy_list(), "group", g.group_name()),
            });
        }
        for r in page.role_detail_list() {
            let name = r.role_name().unwrap_or_default();
            // One malformed or missing trust document is that role's gap, not the account's.
            let (trust_policy, trust_policy_error) = match r.assume_role_policy_document() {
                None => (None, Some(format!("role {name}: the API returned no trust policy document"))),
                Some(t) => match PolicyDocument::parse_str(t) {
                    Ok(d) => (Some(d), None),
                    Err(e) => (None, Some(format!("role {name}: trust policy: {e}"))),
                },
            };
            let last = r.role_last_used();
            out.roles.push(IamRole {
                name: name.to_string(),
                id: r.role_id().unwrap_or_default().to_string(),
                arn: r.arn().unwrap_or_default().to_string(),
                path: path(r.path()),
                created: r.create_date().and_then(ts),
                trust_policy,
                trust_policy_error,
                attached_policies: attached(r.attached_managed_policies()),
                inline_policies: inline(r.role_policy_list(), "role", Some(name)),
                permissions_boundary: boundary(r.permissions_boundary()),
                last_used: last.and_then(|l| l.last_used_date()).and_then(ts),
                last_used_region: last.and_then(|l| l.region()).map(str::to_string),
                instance_profiles: r.instance_profile_list().iter().map(|p| p.arn().to_string()).collect(),
                tags: tags(r.tags()),
            });
        }
        for p in page.policies() {
            let arn = p.arn().unwrap_or_default().to_string();
            let default_version_id = p.default_version_id();
            let document = default_version(p.policy_version_list(), default_version_id, |v| v.is_default_version(), |v| v.version_id())
                .and_then(|v| v.document())
                .map(str::to_string);
            let policy = ManagedPolicy {
                name: p.policy_name().map(str::to_string).unwrap_or_else(|| name_from_arn(&arn)),
                id: p.policy_id().map(str::to_string),
                default_version_id: default_version_id.map(str::to_string),
                path: path(p.path()),
                attachment_count: p.attachment_count().and_then(|c| u32::try_from(c).ok()),
                is_attachable: p.is_attachable(),
                document: None,
                document_error: None,
                arn,
            };
            listed.push((policy, document));
        }
    }
    // The policies' documents are parsed once every page is in: an AWS managed policy that nothing
    // in the account uses is left out unparsed (users, groups and roles may come on later pages).
    let in_use = out.policies_in_use();
    let (mut kept, mut omitted) = (Vec::new(), 0u32);
    for (mut policy, document) in listed {
        if AuthorizationDetails::is_unused_aws_managed(&policy.arn, policy.attachment_count, &in_use) {
            omitted += 1;
            continue;
        }
        match document.as_deref().map(PolicyDocument::parse_str) {
            Some(Ok(d)) => policy.document = Some(d),
            Some(Err(e)) => policy.document_error = Some(format!("policy {}: {e}", policy.arn)),
            None => {}
        }
        kept.push(policy);
    }
    out.policies.extend(kept);
    out.unused_aws_managed_omitted = omitted;
    tracing::debug!(pages = n, users = out.users.len(), roles = out.roles.len(), policies = out.policies.len(), unused_aws_managed_omitted = out.unused_aws_managed_omitted, "authorization details");
    Ok(out)
}

use crate::inventory::aws::iam_path as path;

fn attached(list: &[SdkAttached]) -> Vec<AttachedPolicy> {
    list.iter()
        .map(|a| {
            let arn = a.policy_arn().unwrap_or_default().to_string();
            AttachedPolicy { name: a.policy_name().map(str::to_string).unwrap_or_else(|| name_from_arn(&arn)), arn }
        })
        .collect()
}

fn inline(list: &[PolicyDetail], kind: &str, owner: Option<&str>) -> Vec<InlinePolicy> {
    list.iter()
        .map(|p| {
            let name = p.policy_name().unwrap_or_default().to_string();
            let parsed = p.policy_document().map(PolicyDocument::parse_str);
            let where_ = || format!("{kind} {} inline policy {name}", owner.unwrap_or("?"));
            match parsed {
                Some(Ok(d)) => InlinePolicy { name, document: Some(d), error: None },
                Some(Err(e)) => InlinePolicy { error: Some(format!("{}: {e}", where_())), name, document: None },
                None => InlinePolicy { error: Some(format!("{}: no document", where_())), name, document: None },
            }
        })
        .collect()
}

fn boundary(b: Option<&AttachedPermissionsBoundary>) -> Option<String> {
    b.and_then(|b| b.permissions_boundary_arn()).map(str::to_string)
}

fn tags(list: &[Tag]) -> BTreeMap<String, String> {
    list.iter().map(|t| (t.key().to_string(), t.value().to_string())).collect()
}

/// Generate the credential report, poll with backoff until it is ready, and read it.
pub async fn credential_report(client: &Client) -> Result<CredentialReport, ApiError> {
    const GENERATE: &str = "iam:GenerateCredentialReport";
    const GET: &str = "iam:GetCredentialReport";
    let mut delay = Duration::from_millis(200);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(300);
    loop {
        let state = client.generate_credential_report().send().await.api(GENERATE)?;
        if state.state() == Some(&ReportStateType::Complete) {
            break;
        }
        if tokio::time::Instant::now() + delay > deadline {
            return Err(ApiError::failed(GENERATE, "the credential report was not ready after 5 minutes"));
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(5));
    }
    let out = client.get_credential_report().send().await.api(GET)?;
    let content = out.content().map(|b| b.as_ref()).unwrap_or_default();
    let text = std::str::from_utf8(content).map_err(|_| ApiError::failed(GET, "the report is not UTF-8"))?;
    let (rows, missing_columns) = parse_csv(text, "credential report").map_err(|e| ApiError::failed(GET, e.to_string()))?;
    Ok(CredentialReport { generated_at: out.generated_time().and_then(ts), rows, read_at: Some(Timestamp::now()), missing_columns })
}

pub async fn account_summary(client: &Client) -> Result<AccountSummary, ApiError> {
    let out = client.get_account_summary().send().await.api("iam:GetAccountSummary")?;
    let map = out
        .summary_map()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.as_str().to_string(), i64::from(*v)))
        .collect();
    Ok(AccountSummary(map))
}

/// The users of this account that own the access keys `keys`, by `iam:GetAccessKeyLastUsed` (one
/// read per key). A key of another account is `NoSuchEntity` (or, for some, AccessDenied) and is
/// left out; a refusal is the error.
pub async fn key_owners(client: &Client, keys: &[String]) -> Result<Vec<String>, ApiError> {
    let mut owners = Vec::new();
    for key in keys {
        match client.get_access_key_last_used().access_key_id(key).send().await.api("iam:GetAccessKeyLastUsed") {
            Ok(out) => {
                if let Some(user) = out.user_name().filter(|u| !u.is_empty()) {
                    if !owners.iter().any(|o| o == user) {
                        owners.push(user.to_string());
                    }
                }
            }
            Err(e) if e.is_code("NoSuchEntity") || e.is_code("ValidationError") => {}
            Err(e) => return Err(e),
        }
    }
    Ok(owners)
}

/// Users' credentials, read user by user: every layer for the `full` users (`verify`'s compromised
/// and restored ones), access keys, login profile and MFA devices for the `light` ones (every other
/// user, when the credential report predates the containment). Eight users at a time. A user IAM
/// does not know is recorded as not existing.
pub async fn user_credentials(client: &Client, full: &[String], light: &[String]) -> Result<Vec<UserCredentials>, ApiError> {
    use futures::stream::{self, StreamExt};
    let mut jobs: Vec<(String, bool)> = full.iter().map(|n| (n.clone(), true)).collect();
    for n in light {
        if !full.contains(n) {
            jobs.push((n.clone(), false));
        }
    }
    let futures: Vec<_> = jobs.into_iter().map(|(name, deep)| one_user(client, name, deep)).collect();
    let out: Vec<UserCredentials> = stream::iter(futures).buffered(8).collect().await;
    Ok(out)
}

async fn one_user(client: &Client, name: String, deep: bool) -> UserCredentials {
    use crate::inventory::Collected;
    fn part<T>(r: Result<T, ApiError>) -> Collected<T> {
        match r {
            Ok(v) => Collected::Collected(v),
            Err(e) => e.into_collected::<T>(),
        }
    }
    let keys = async {
        let mut v = Vec::new();
        let mut pages = client.list_access_keys().user_name(&name).into_paginator().send();
        while let Some(page) = pages.next().await {
            for k in page.api("iam:ListAccessKeys")?.access_key_metadata() {
                v.push(UserCredential {
                    id: k.access_key_id().unwrap_or_default().to_string(),
                    active: k.status().is_none_or(|s| usable(s.as_str())),
                    created: k.create_date().and_then(ts),
                    service: None,
                });
            }
        }
        Ok::<_, ApiError>(v)
    }
    .await;
    if keys.as_ref().err().is_some_and(|e| e.is_code("NoSuchEntity")) {
        return UserCredentials {
            user: name,
            exists: false,
            read_at: Some(Timestamp::now()),
            access_keys: Collected::Collected(Vec::new()),
            login_profile: Collected::Collected(None),
            signing_certificates: Collected::Collected(Vec::new()),
            service_specific: Collected::Collected(Vec::new()),
            mfa_devices: Collected::Collected(Vec::new()),
            mfa_enabled: Collected::Collected(Vec::new()),
        };
    }
    let login = match client.get_login_profile().user_name(&name).send().await.api("iam:GetLoginProfile") {
        Ok(o) => Ok(o.login_profile().and_then(|p| ts(p.create_date())).or(Some(Timestamp::now()))),
        Err(e) if e.is_code("NoSuchEntity") => Ok(None),
        Err(e) => Err(e),
    };
    // Every user's devices, with the date each was enabled: a console user needs one, and a device
    // enabled inside an incident's window (on any user) is the attacker's way back in.
    let devices: Result<Vec<UserCredential>, ApiError> = async {
        let mut v = Vec::new();
        let mut pages = client.list_mfa_devices().user_name(&name).into_paginator().send();
        while let Some(page) = pages.next().await {
            for d in page.api("iam:ListMFADevices")?.mfa_devices() {
                v.push(UserCredential { id: d.serial_number().to_string(), active: true, created: ts(d.enable_date()), service: None });
            }
        }
        Ok(v)
    }
    .await;
    let mfa = part(devices.as_ref().map(|v| v.iter().map(|d| d.id.clone()).collect()).map_err(Clone::clone));
    let mfa_enabled = part(devices);
    let (certs, specific) = if deep {
        let certs = client.list_signing_certificates().user_name(&name).send().await.api("iam:ListSigningCertificates").map(|o| {
            o.certificates()
                .iter()
                .map(|c| UserCredential { id: c.certificate_id().to_string(), active: usable(c.status().as_str()), created: c.upload_date().and_then(ts), service: None })
                .collect()
        });
        let specific = client.list_service_specific_credentials().user_name(&name).send().await.api("iam:ListServiceSpecificCredentials").map(|o| {
            o.service_specific_credentials()
                .iter()
                .map(|c| UserCredential {
                    id: c.service_specific_credential_id().to_string(),
                    active: usable(c.status().as_str()),
                    created: ts(c.create_date()),
                    service: Some(c.service_name().to_string()),
                })
                .collect()
        });
        (part(certs), part(specific))
    } else {
        (Collected::NotRequested, Collected::NotRequested)
    };
    UserCredentials { user: name, exists: true, read_at: Some(Timestamp::now()), access_keys: part(keys), login_profile: part(login), signing_certificates: certs, service_specific: specific, mfa_devices: mfa, mfa_enabled }
}

/// A credential status that may still authenticate: anything but `Inactive` and `Expired` (a status
/// this version does not know is taken as usable, never as locked).
fn usable(status: &str) -> bool {
    !matches!(status, "Inactive" | "Expired")
}

/// `None` when the account has no password policy (the API answers NoSuchEntity).
pub async fn password_policy(client: &Client) -> Result<Option<PasswordPolicy>, ApiError> {
    let out = match client.get_account_password_policy().send().await.api("iam:GetAccountPasswordPolicy") {
        Ok(o) => o,
        Err(e) if e.is_code("NoSuchEntity") => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok(out.password_policy().map(|p| PasswordPolicy {
        minimum_password_length: p.minimum_password_length().and_then(|v| u32::try_from(v).ok()),
        require_symbols: p.require_symbols(),
        require_numbers: p.require_numbers(),
        require_uppercase_characters: p.require_uppercase_characters(),
        require_lowercase_characters: p.require_lowercase_characters(),
        allow_users_to_change_password: p.allow_users_to_change_password(),
        expire_passwords: p.expire_passwords(),
        max_password_age: p.max_password_age().and_then(|v| u32::try_from(v).ok()),
        password_reuse_prevention: p.password_reuse_prevention().and_then(|v| u32::try_from(v).ok()),
        hard_expiry: p.hard_expiry().unwrap_or(false),
    }))
}

pub async fn mfa_devices(client: &Client) -> Result<Vec<VirtualMfaDevice>, ApiError> {
    let mut out = Vec::new();
    let mut pages = client.list_virtual_mfa_devices().into_paginator().send();
    while let Some(page) = pages.next().await {
        for d in page.api("iam:ListVirtualMFADevices")?.virtual_mfa_devices() {
            out.push(VirtualMfaDevice {
                serial_number: d.serial_number().to_string(),
                user_arn: d.user().map(|u| u.arn().to_string()),
                enabled: d.enable_date().and_then(ts),
            });
        }
    }
    Ok(out)
}

/// OIDC providers need one `GetOpenIDConnectProvider` each (for the URL and audiences); accounts
/// have a handful, so this does not grow with users either.
pub async fn identity_providers(client: &Client) -> Result<IdentityProviders, ApiError> {
    let mut out = IdentityProviders::default();
    let list = client.list_open_id_connect_providers().send().await.api("iam:ListOpenIDConnectProviders")?;
    for p in list.open_id_connect_provider_list() {
        let Some(arn) = p.arn() else { continue };
        let d = client.get_open_id_connect_provider().open_id_connect_provider_arn(arn).send().await.api("iam:GetOpenIDConnectProvider")?;
        out.oidc.push(OidcProvider {
            arn: arn.to_string(),
            url: d.url().map(str::to_string),
            client_ids: d.client_id_list().to_vec(),
            created: d.create_date().and_then(ts),
        });
    }
    let saml = client.list_saml_providers().send().await.api("iam:ListSAMLProviders")?;
    for p in saml.saml_provider_list() {
        out.saml.push(SamlProvider {
            arn: p.arn().unwrap_or_default().to_string(),
            valid_until: p.valid_until().and_then(ts),
            created: p.create_date().and_then(ts),
        });
    }
    Ok(out)
}
