//! Live Azure collection: Resource Manager and Microsoft Graph through the Azure SDK for Rust
//! (`azure_core` pipeline, `azure_identity` credentials; see `credential` for the chain).
//!
//! Only reads: GET on ARM list endpoints and Graph collections, bulk (a page of up to 999 users
//! per call, never a call per user). Subscriptions are read concurrently up to `--concurrency`,
//! and within a subscription every dataset at once; Graph is read alongside ARM. Every dataset
//! records its own outcome: a denied permission or a missing licence is named, and only the
//! checks that need that dataset become `not_evaluated`.

mod client;
pub mod credential;
pub(crate) mod map;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use azure_core::http::Url;
use base64::Engine;
use serde_json::Value;
use tokio::sync::Semaphore;

pub use client::{ApiError, Client, Service};
pub use credential::{CredentialError, CredentialSource};

use super::Progress;
use crate::inventory::azure::{AzureInventory, AzureSubscription, AzureTenant, DirectoryObject, DirectoryRead, GroupMembers};
use crate::inventory::{Cloud, Collected, Dataset};

pub const DEFAULT_ARM_ENDPOINT: &str = "https://management.azure.com";
pub const DEFAULT_GRAPH_ENDPOINT: &str = "https://graph.microsoft.com";

const API_SUBSCRIPTIONS: &str = "2022-12-01";
const API_MANAGEMENT_GROUPS: &str = "2021-04-01";
const API_AUTHORIZATION: &str = "2022-04-01";
/// Role definitions: the version whose permission blocks carry their ABAC `condition`.
const API_ROLE_DEFINITIONS: &str = "2022-05-01-preview";
const API_PIM: &str = "2020-10-01";
const API_POLICY: &str = "2023-04-01";
const API_DIAGNOSTICS: &str = "2021-05-01-preview";
const API_MANAGED_SERVICES: &str = "2022-10-01";

#[derive(Debug, Clone)]
pub struct AzureOptions {
    /// The tenant to scan (`--azure-tenant`; else `AZURE_TENANT_ID`; else the token's tenant).
    pub tenant: Option<String>,
    /// `None`: every subscription the credential can see in the tenant.
    pub subscriptions: Option<Vec<String>>,
    pub arm_endpoint: String,
    pub graph_endpoint: String,
    /// Subscriptions read at once.
    pub concurrency: usize,
    pub deadline: Duration,
    pub datasets: BTreeSet<Dataset>,
    /// With `Dataset::AzureDirectoryReads`: the principals an incident names (object ids, appIds
    /// or UPNs), each read by itself.
    pub principals: Vec<String>,
    /// `collect --shard I/N`: read only the subscriptions this shard owns.
    pub shard: Option<crate::inventory::shard::Shard>,
    /// May Graph beta be read? Only for the directory role definitions, whose `isPrivileged`
    /// only beta returns. `false` (`--azure-graph-v1-only`): v1.0 alone, and directory-role
    /// privilege falls back, visibly, to Microsoft's published list of privileged roles.
    pub graph_beta: bool,
}

impl Default for AzureOptions {
    fn default() -> Self {
        AzureOptions {
            tenant: None,
            subscriptions: None,
            arm_endpoint: DEFAULT_ARM_ENDPOINT.into(),
            graph_endpoint: DEFAULT_GRAPH_ENDPOINT.into(),
            concurrency: 8,
            deadline: Duration::from_secs(3600),
            datasets: Dataset::ALL.iter().copied().filter(|d| d.cloud() == Cloud::Azure).collect(),
            principals: Vec::new(),
            shard: None,
            graph_beta: true,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AzureCollectError {
    #[error(transparent)]
    Credential(#[from] CredentialError),
    #[error("{option}: {value:?} is not an https:// URL ({why})")]
    Endpoint { option: &'static str, value: String, why: String },
    #[error("the {source_name} credential could not get a token for {audience}: {message}")]
    Token { source_name: &'static str, audience: String, message: String },
    #[error("cannot tell which tenant to scan: give --azure-tenant or AZURE_TENANT_ID")]
    NoTenant,
    #[error("--azure-subscriptions: {0:?} is not a subscription id (a GUID)")]
    BadSubscription(String),
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
}

/// Where the collection ran, and what it cost.
#[derive(Debug, Clone)]
pub struct AzureIdentity {
    pub tenant_id: String,
    pub credential: CredentialSource,
    pub arm_calls: usize,
    pub graph_calls: usize,
    /// Every subscription the collection was to cover before a shard took its share.
    pub listed_subscriptions: Vec<String>,
}

/// Parse an endpoint option: HTTPS only (the SDK refuses to send a token anywhere else).
pub fn endpoint(option: &'static str, value: &str) -> Result<Url, AzureCollectError> {
    let err = |why: String| AzureCollectError::Endpoint { option, value: value.to_string(), why };
    let url = Url::parse(value.trim()).map_err(|e| err(e.to_string()))?;
    if url.scheme() != "https" {
        return Err(err("tokens are only sent over TLS".into()));
    }
    if url.host_str().is_none() {
        return Err(err("no host".into()));
    }
    Ok(url)
}

pub use crate::inventory::azure::is_guid;

pub fn collect(opts: &AzureOptions, progress: &Progress) -> Result<(AzureInventory, AzureIdentity), AzureCollectError> {
    let rt = super::runtime().map_err(AzureCollectError::Runtime)?;
    rt.block_on(collect_async(opts, progress))
}

async fn collect_async(opts: &AzureOptions, progress: &Progress) -> Result<(AzureInventory, AzureIdentity), AzureCollectError> {
    if let Some(bad) = opts.subscriptions.iter().flatten().find(|s| !is_guid(s)) {
        return Err(AzureCollectError::BadSubscription(bad.clone()));
    }
    let arm_url = endpoint("PORTCULLIS_AZURE_ARM_ENDPOINT", &opts.arm_endpoint)?;
    let graph_base = endpoint("PORTCULLIS_AZURE_GRAPH_ENDPOINT", &opts.graph_endpoint)?;
    let graph_url = Url::parse(&format!("{}/v1.0", graph_base.as_str().trim_end_matches('/')))
        .map_err(|e| AzureCollectError::Endpoint { option: "PORTCULLIS_AZURE_GRAPH_ENDPOINT", value: opts.graph_endpoint.clone(), why: e.to_string() })?;

    let env = |k: &str| std::env::var(k).ok();
    let (credential, source) = credential::chain(&credential::Env(&env), opts.tenant.as_deref())?;
    tracing::info!(credential = source.describe(), "azure credential chosen");

    let wants = |d: Dataset| opts.datasets.contains(&d);
    let graph_sets = [
        Dataset::AzureUsers,
        Dataset::AzureSignInActivity,
        Dataset::AzureRegistrationDetails,
        Dataset::AzureApplications,
        Dataset::AzureServicePrincipals,
        Dataset::AzureDirectoryRoles,
        Dataset::AzureDirectoryRoleEligibility,
        Dataset::AzureDirectoryRoleDefinitions,
        Dataset::AzureGroupMembers,
        Dataset::AzureDirectoryReads,
    ];
    let use_graph = graph_sets.iter().any(|d| wants(*d));
    let use_arm = opts.datasets.iter().any(|d| d.cloud() == Cloud::Azure && !graph_sets.contains(d));

    // One token up front: a refused credential is one clear error, not a gap in every dataset;
    // and it names the tenant when nothing else does.
    progress.set_message("getting an Azure token");
    let first = if use_arm || !use_graph { &arm_url } else { &graph_base };
    let audience = format!("{}/.default", first.origin().ascii_serialization());
    let token = credential
        .get_token(&[audience.as_str()], None)
        .await
        .map_err(|e| AzureCollectError::Token { source_name: source.describe(), audience: audience.clone(), message: one_line(&client::transport_message(&e)) })?;
    let tenant_id = opts
        .tenant
        .clone()
        .or_else(|| std::env::var("AZURE_TENANT_ID").ok().filter(|t| !t.trim().is_empty()))
        .or_else(|| token_tenant(token.token.secret()))
        .ok_or(AzureCollectError::NoTenant)?;
    drop(token);

    let arm = Client::new(Service::Arm, arm_url, credential.clone());
    let graph = Client::new(Service::Graph, graph_url, credential.clone());
    let deadline = tokio::time::Instant::now() + opts.deadline;

    let mut tenant = AzureTenant::new(tenant_id.clone());
    let (graph_part, (scopes, subscriptions, listed)) = tokio::join!(
        async {
            if use_graph {
                bounded(deadline, read_graph(&graph, opts), GraphPart::gap).await
            } else {
                GraphPart::default()
            }
        },
        async {
            if use_arm {
                read_arm(&arm, &tenant_id, opts, deadline, progress).await
            } else {
                (Collected::NotRequested, Vec::new(), Vec::new())
            }
        }
    );
    tenant.scopes = scopes;
    tenant.subscriptions = subscriptions;
    graph_part.apply(&mut tenant);
    if wants(Dataset::AzureGroupMembers) {
        tenant.group_members = bounded(deadline, read_group_members(&graph, &tenant, opts.concurrency), |e| Collected::Failed { error: e }).await;
    }
    if wants(Dataset::AzureDirectoryReads) {
        tenant.directory_reads = bounded(deadline, read_directory(&graph, &tenant, &opts.principals), |e| Collected::Failed { error: e }).await;
    }
    let identity = AzureIdentity { tenant_id, credential: source, arm_calls: arm.calls(), graph_calls: graph.calls(), listed_subscriptions: listed };
    tracing::info!(arm_calls = identity.arm_calls, graph_calls = identity.graph_calls, "azure collection done");
    progress.finish();
    Ok((AzureInventory { tenants: vec![tenant] }, identity))
}

use super::one_line;

/// The `tid` claim of a JWT access token (read, not verified: it only picks the default tenant).
fn token_tenant(token: &str) -> Option<String> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let v: Value = serde_json::from_slice(&bytes).ok()?;
    v.get("tid").and_then(Value::as_str).filter(|t| is_guid(t)).map(str::to_string)
}

/// Run `f` until the deadline; past it, every dataset it was reading is a failure that says so.
async fn bounded<T>(deadline: tokio::time::Instant, f: impl std::future::Future<Output = T>, gap: impl FnOnce(String) -> T) -> T {
    match tokio::time::timeout_at(deadline, f).await {
        Ok(v) => v,
        Err(_) => gap(super::DEADLINE_PASSED.into()),
    }
}

/// A failed read as coverage: the permission (or licence) that was missing is named.
fn gap<T>(e: ApiError, permission: &str, licence: &str) -> Collected<T> {
    match e {
        ApiError::Denied { code, message } => Collected::Denied { action: permission.to_string(), message: Some(format!("{code}: {}", one_line(&message))) },
        ApiError::Unlicensed { code, message } => Collected::Unlicensed { licence: licence.to_string(), message: Some(format!("{code}: {}", one_line(&message))) },
        ApiError::NotFound { message } | ApiError::Failed { message } => Collected::Failed { error: one_line(&message) },
    }
}

fn mapped<T>(r: Result<T, String>) -> Collected<T> {
    match r {
        Ok(v) => Collected::Collected(v),
        Err(e) => Collected::Failed { error: format!("malformed answer: {e}") },
    }
}

// ---- Microsoft Graph -------------------------------------------------------------------------

#[derive(Default)]
struct GraphPart {
    users: Collected<Vec<crate::inventory::azure::EntraUser>>,
    sign_in: Collected<Vec<crate::inventory::azure::SignInActivity>>,
    registration: Collected<Vec<crate::inventory::azure::RegistrationDetail>>,
    applications: Collected<Vec<crate::inventory::azure::EntraServicePrincipal>>,
    service_principals: Collected<Vec<crate::inventory::azure::EntraServicePrincipal>>,
    directory_roles: Collected<Vec<crate::inventory::azure::DirectoryRoleAssignment>>,
    eligibility: Collected<Vec<crate::inventory::azure::DirectoryRoleAssignment>>,
    role_definitions: Collected<Vec<crate::inventory::azure::DirectoryRoleDefinition>>,
}

impl GraphPart {
    fn gap(error: String) -> Self {
        let f: Collected<()> = Collected::Failed { error };
        GraphPart {
            users: f.gap(),
            sign_in: f.gap(),
            registration: f.gap(),
            applications: f.gap(),
            service_principals: f.gap(),
            directory_roles: f.gap(),
            eligibility: f.gap(),
            role_definitions: f.gap(),
        }
    }

    fn apply(self, t: &mut AzureTenant) {
        t.users = self.users;
        t.sign_in_activity = self.sign_in;
        t.registration_details = self.registration;
        t.applications = self.applications;
        t.service_principals = self.service_principals;
        t.directory_roles = self.directory_roles;
        t.directory_role_eligibility = self.eligibility;
        t.directory_role_definitions = self.role_definitions;
    }
}

const P1: &str = "Microsoft Entra ID P1 (or P2)";
const P2: &str = "Microsoft Entra ID P2 (Privileged Identity Management)";

async fn read_graph(graph: &Client, opts: &AzureOptions) -> GraphPart {
    let wants = |d: Dataset| opts.datasets.contains(&d);
    let started = std::time::Instant::now();
    let (users, registration, applications, service_principals, directory_roles, eligibility, role_definitions) = tokio::join!(
        async {
            if wants(Dataset::AzureUsers) || wants(Dataset::AzureSignInActivity) {
                read_users(graph, wants(Dataset::AzureSignInActivity)).await
            } else {
                (Collected::NotRequested, Collected::NotRequested)
            }
        },
        when(wants(Dataset::AzureRegistrationDetails), async {
            // The authentication-methods report: one row per user, paged like the user list.
            match graph.list("/reports/authenticationMethods/userRegistrationDetails?$select=id,userPrincipalName,isMfaRegistered,methodsRegistered&$top=999").await {
                Ok(v) => mapped(map::registration_details(&v)),
                Err(e) => gap(e, "AuditLog.Read.All", P1),
            }
        }),
        when(wants(Dataset::AzureApplications), async {
            match graph.list("/applications?$select=id,appId,displayName,createdDateTime,passwordCredentials,keyCredentials&$top=999").await {
                Ok(v) => mapped(map::apps(&v, false)),
                Err(e) => gap(e, "Application.Read.All", P1),
            }
        }),
        when(wants(Dataset::AzureServicePrincipals), async {
            match graph
                .list("/servicePrincipals?$select=id,appId,displayName,servicePrincipalType,appOwnerOrganizationId,accountEnabled,passwordCredentials,keyCredentials&$top=999")
                .await
            {
                Ok(v) => mapped(map::apps(&v, true)),
                Err(e) => gap(e, "Application.Read.All", P1),
            }
        }),
        when(wants(Dataset::AzureDirectoryRoles), async {
            match expanded(graph, "/roleManagement/directory/roleAssignments").await {
                Ok(v) => mapped(map::directory_roles(&v)),
                Err(e) => gap(e, "RoleManagement.Read.Directory", P1),
            }
        }),
        when(wants(Dataset::AzureDirectoryRoleEligibility), async {
            match expanded(graph, "/roleManagement/directory/roleEligibilityScheduleInstances").await {
                Ok(v) => mapped(map::directory_roles(&v)),
                Err(e) => gap(e, "RoleEligibilitySchedule.Read.Directory", P2),
            }
        }),
        when(wants(Dataset::AzureDirectoryRoleDefinitions), read_role_definitions(graph, opts.graph_beta)),
    );
    tracing::info!(elapsed_ms = started.elapsed().as_millis() as u64, calls = graph.calls(), "graph read");
    GraphPart { users: users.0, sign_in: users.1, registration, applications, service_principals, directory_roles, eligibility, role_definitions }
}

/// Every directory role definition, in bulk. From Graph beta when it may be used (only beta gives
/// `isPrivileged`); from v1.0 when it may not, or when beta does not answer the list (a cloud
/// without it): the definitions then carry no `isPrivileged`, and the privilege model falls back
/// to Microsoft's published list, saying so in each finding.
async fn read_role_definitions(graph: &Client, beta: bool) -> Collected<Vec<crate::inventory::azure::DirectoryRoleDefinition>> {
    const FIELDS: &str = "id,templateId,displayName,isBuiltIn,isEnabled,rolePermissions";
    let path = "/roleManagement/directory/roleDefinitions";
    if beta {
        let read = match graph.sibling("beta") {
            Ok(b) => b.list(&format!("{path}?$select={FIELDS},isPrivileged")).await,
            Err(e) => Err(e),
        };
        match read {
            Ok(v) => return mapped(map::directory_role_definitions(&v)),
            Err(e @ (ApiError::Denied { .. } | ApiError::Unlicensed { .. })) => return gap(e, "RoleManagement.Read.Directory", P1),
            Err(e) => tracing::warn!(error = %e, "Graph beta did not list the directory role definitions; reading v1.0 (without isPrivileged)"),
        }
    }
    match graph.list(&format!("{path}?$select={FIELDS}")).await {
        Ok(v) => mapped(map::directory_role_definitions(&v)),
        Err(e) => gap(e, "RoleManagement.Read.Directory", P1),
    }
}

/// A role list with each principal expanded (its type tells users from groups); where the service
/// refuses the expansion (HTTP 400), the plain list: principals are then resolved against the
/// users, groups and service principals read.
async fn expanded(graph: &Client, path: &str) -> Result<Vec<Value>, ApiError> {
    match graph.list(&format!("{path}?$expand=principal")).await {
        Err(ApiError::Failed { message }) if message.starts_with("HTTP 400") => {
            tracing::info!(path, "the service refused $expand=principal; reading without it");
            graph.list(path).await
        }
        other => other,
    }
}

async fn when<T>(wanted: bool, f: impl std::future::Future<Output = Collected<T>>) -> Collected<T> {
    if wanted {
        f.await
    } else {
        Collected::NotRequested
    }
}

type Users = (Collected<Vec<crate::inventory::azure::EntraUser>>, Collected<Vec<crate::inventory::azure::SignInActivity>>);

/// Users in one bulk read, with `signInActivity` when a check needs it. That property needs
/// `AuditLog.Read.All` and an Entra ID P1 licence; when either is missing the users are read
/// again without it, so only the sign-in checks lose their data.
async fn read_users(graph: &Client, sign_in: bool) -> Users {
    const BASE: &str = "/users?$top=999&$select=id,userPrincipalName,userType,creationType,accountEnabled,createdDateTime";
    if sign_in {
        match graph.list(&format!("{BASE},signInActivity")).await {
            Ok(v) => {
                return match map::users(&v) {
                    Ok((u, s)) => (Collected::Collected(u), Collected::Collected(s)),
                    Err(e) => (mapped::<Vec<_>>(Err(e.clone())), mapped::<Vec<_>>(Err(e))),
                }
            }
            Err(e @ (ApiError::Denied { .. } | ApiError::Unlicensed { .. })) => {
                let activity = gap(e, "AuditLog.Read.All", P1);
                return match graph.list(BASE).await {
                    Ok(v) => (mapped(map::users(&v).map(|(u, _)| u)), activity),
                    // The users themselves are refused: that, not the sign-in permission, is
                    // what keeps both from being read.
                    Err(e) => {
                        let users: Collected<Vec<crate::inventory::azure::EntraUser>> = gap(e, "User.Read.All", P1);
                        let activity = users.gap();
                        (users, activity)
                    }
                };
            }
            Err(e) => {
                let message = e.to_string();
                return (gap(e, "User.Read.All", P1), Collected::Failed { error: message });
            }
        }
    }
    let users = match graph.list(BASE).await {
        Ok(v) => mapped(map::users(&v).map(|(u, _)| u)),
        Err(e) => gap(e, "User.Read.All", P1),
    };
    (users, Collected::NotRequested)
}

/// Members of every group that holds a directory role or an Azure role at subscription scope or
/// above: a role given to a group is held by each of its (transitive) members.
async fn read_group_members(graph: &Client, t: &AzureTenant, concurrency: usize) -> Collected<Vec<GroupMembers>> {
    let mut groups = BTreeSet::new();
    for list in [&t.directory_roles, &t.directory_role_eligibility] {
        if let Some(v) = list.get() {
            groups.extend(v.iter().filter(|a| a.principal_type.as_deref() == Some("group")).map(|a| a.principal_id.clone()));
        }
    }
    for s in &t.subscriptions {
        for list in [&s.role_assignments, &s.role_eligibility] {
            if let Some(v) = list.get() {
                groups.extend(v.iter().filter(|a| a.principal_type.as_deref().is_some_and(|p| p.eq_ignore_ascii_case("group"))).map(|a| a.principal_id.clone()));
            }
        }
    }
    let sem = Arc::new(Semaphore::new(concurrency.max(1)));
    let reads = groups.into_iter().map(|g| {
        let sem = sem.clone();
        async move {
            let _permit = sem.acquire().await;
            if !is_guid(&g) {
                return Err(ApiError::Failed { message: format!("group id {g:?} is not a GUID") });
            }
            // Every member type: users, and service principals too (an application of another
            // tenant in a role-holding group holds the role).
            let items = graph.list(&format!("/groups/{g}/transitiveMembers?$select=id&$top=999")).await?;
            let members = map::members(&items).map_err(|message| ApiError::Failed { message })?;
            // PIM for Groups: who may activate membership (or ownership) of the group. Its own
            // permission and licence: a refusal is this group's gap, not the members'.
            let filter = segment_query(&format!("groupId eq '{g}'"));
            let eligible = match graph.list(&format!("/identityGovernance/privilegedAccess/group/eligibilityScheduleInstances?$filter={filter}&$expand=principal")).await {
                Ok(v) => mapped(map::group_eligibility(&v)),
                Err(ApiError::Failed { message }) if message.starts_with("HTTP 400") => {
                    match graph.list(&format!("/identityGovernance/privilegedAccess/group/eligibilityScheduleInstances?$filter={filter}")).await {
                        Ok(v) => mapped(map::group_eligibility(&v)),
                        Err(e) => gap(e, "PrivilegedEligibilitySchedule.Read.AzureADGroup", P2),
                    }
                }
                Err(e) => gap(e, "PrivilegedEligibilitySchedule.Read.AzureADGroup", P2),
            };
            Ok(GroupMembers { group_id: g, user_ids: Vec::new(), members: Some(members), eligible })
        }
    });
    let mut out = Vec::new();
    for r in futures::future::join_all(reads).await {
        match r {
            Ok(m) => out.push(m),
            Err(e) => return gap(e, "GroupMember.Read.All", P1),
        }
    }
    Collected::Collected(out)
}

/// Each principal an incident names, read by itself (a bounded number of reads: `verify` only).
/// A user by `GET /users/{id | upn}` (with `signInSessionsValidFromDateTime`, which lists do not
/// give); otherwise an application or service principal from the lists, with its app
/// registration's federated credentials; otherwise a soft-deleted object; otherwise not found.
async fn read_directory(graph: &Client, t: &AzureTenant, principals: &[String]) -> Collected<Vec<DirectoryRead>> {
    let mut out = Vec::new();
    for q in principals {
        let query = q.trim().to_ascii_lowercase();
        let found = read_one(graph, t, &query).await;
        out.push(DirectoryRead { query, found });
    }
    Collected::Collected(out)
}

/// A query value: unreserved characters kept, everything else percent-encoded.
fn segment_query(s: &str) -> String {
    segment(s)
}

/// A path segment: unreserved characters kept, everything else percent-encoded (`#EXT#` UPNs).
fn segment(s: &str) -> String {
    use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
    const SEGMENT: &percent_encoding::AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');
    utf8_percent_encode(s, SEGMENT).to_string()
}

async fn read_one(graph: &Client, t: &AzureTenant, q: &str) -> DirectoryObject {
    let unreadable = |e: ApiError, permission: &str| DirectoryObject::Unreadable {
        error: match e {
            ApiError::Denied { code, message } => format!("denied ({code}: {}): needs the Graph permission {permission}", one_line(&message)),
            other => one_line(&other.to_string()),
        },
    };
    let select = "$select=id,userPrincipalName,accountEnabled,signInSessionsValidFromDateTime,userType,creationType,lastPasswordChangeDateTime";
    let url = match graph.url(&format!("/users/{}?{select}", segment(q))) {
        Ok(u) => u,
        Err(e) => return unreadable(e, "User.Read.All"),
    };
    match graph.get(url).await {
        Ok(v) => {
            let mut found = match map::user_read(&v) {
                Ok(found) => found,
                Err(e) => return DirectoryObject::Unreadable { error: format!("malformed answer: {e}") },
            };
            // What the user owns (an owner of an app can add credentials to it), the app roles
            // it holds and the delegated grants it consented to: each its own read, and its own
            // gap when refused.
            if let DirectoryObject::User { id, owned_objects, app_role_assignments, oauth2_permission_grants, .. } = &mut found {
                let id = segment(id);
                let (owned, roles, grants) = tokio::join!(
                    read_list(graph, format!("/users/{id}/ownedObjects"), "Directory.Read.All", |v| map::directory_refs(v, None)),
                    read_list(graph, format!("/users/{id}/appRoleAssignments"), "Directory.Read.All", map::app_role_grants),
                    read_list(graph, format!("/users/{id}/oauth2PermissionGrants"), "Directory.Read.All", map::delegated_grants),
                );
                (*owned_objects, *app_role_assignments, *oauth2_permission_grants) = (owned, roles, grants);
            }
            return found;
        }
        Err(ApiError::NotFound { .. }) => {}
        Err(e) => return unreadable(e, "User.Read.All"),
    }
    if !is_guid(q) {
        return DirectoryObject::NotFound;
    }
    // An application or service principal: by object id or appId, in the lists just read.
    let lists = [&t.applications, &t.service_principals];
    let hit = lists.iter().filter_map(|l| l.get()).flatten().find(|a| a.id.eq_ignore_ascii_case(q) || a.app_id.eq_ignore_ascii_case(q));
    if let Some(hit) = hit {
        let app_id = hit.app_id.clone();
        let federated = match t.applications.get() {
            None => Collected::Failed { error: "the app registrations were not read".into() },
            Some(apps) => {
                let mut all = Vec::new();
                let mut failed = None;
                for app in apps.iter().filter(|a| a.app_id.eq_ignore_ascii_case(&app_id)) {
                    match graph.list(&format!("/applications/{}/federatedIdentityCredentials", segment(&app.id))).await {
                        Ok(items) => match map::federated_credentials(&items) {
                            Ok(v) => all.extend(v),
                            Err(e) => failed = Some(Collected::Failed { error: format!("malformed answer: {e}") }),
                        },
                        Err(e) => failed = Some(gap(e, "Application.Read.All", P1)),
                    }
                }
                failed.unwrap_or(Collected::Collected(all))
            }
        };
        let (owners, owned_objects, app_role_assignments, oauth2_permission_grants) = read_app_relations(graph, t, &app_id).await;
        return DirectoryObject::App { app_id, federated_credentials: federated, owners, owned_objects, app_role_assignments, oauth2_permission_grants };
    }
    let url = match graph.url(&format!("/directory/deletedItems/{}", segment(q))) {
        Ok(u) => u,
        Err(e) => return unreadable(e, "Directory.Read.All"),
    };
    match graph.get(url).await {
        Ok(v) => DirectoryObject::Deleted { odata_type: v.get("@odata.type").and_then(Value::as_str).map(str::to_string) },
        Err(ApiError::NotFound { .. }) => DirectoryObject::NotFound,
        Err(e) => unreadable(e, "Directory.Read.All"),
    }
}

/// One Graph list mapped, or its gap (the permission named when refused).
async fn read_list<T>(graph: &Client, path: String, permission: &str, f: impl Fn(&[Value]) -> map::MapResult<Vec<T>>) -> Collected<Vec<T>> {
    match graph.list(&path).await {
        Ok(items) => mapped(f(&items)),
        Err(e) => gap(e, permission, P1),
    }
}

/// Several reads of one kind, together: every list, or the first gap (one refused read leaves
/// the whole unknown).
fn all_of<T>(parts: Vec<Collected<Vec<T>>>) -> Collected<Vec<T>> {
    let mut out = Vec::new();
    for p in parts {
        match p {
            Collected::Collected(mut v) => out.append(&mut v),
            other => return other,
        }
    }
    Collected::Collected(out)
}

type AppRelations = (
    Collected<Vec<crate::inventory::azure::DirectoryRef>>,
    Collected<Vec<crate::inventory::azure::DirectoryRef>>,
    Collected<Vec<crate::inventory::azure::AppRoleGrant>>,
    Collected<Vec<crate::inventory::azure::DelegatedGrant>>,
);

/// For an application (by appId): the owners of its registration and of its service principals,
/// what its service principals own, the app roles they hold (application permissions) and the
/// delegated grants made to them as clients. A list that was not read leaves its part a gap.
async fn read_app_relations(graph: &Client, t: &AzureTenant, app_id: &str) -> AppRelations {
    let unread = |what: &str, c: &Collected<Vec<crate::inventory::azure::EntraServicePrincipal>>| -> Collected<()> {
        match c {
            Collected::NotRequested => Collected::Failed { error: format!("the {what} were not read") },
            other => other.gap(),
        }
    };
    let mut owners = Vec::new();
    match t.applications.get() {
        Some(apps) => {
            for a in apps.iter().filter(|a| a.app_id.eq_ignore_ascii_case(app_id)) {
                let of = a.id.clone();
                owners.push(read_list(graph, format!("/applications/{}/owners", segment(&a.id)), "Application.Read.All", move |v| map::directory_refs(v, Some(&of))).await);
            }
        }
        None => owners.push(unread("app registrations", &t.applications).gap()),
    }
    let (mut owned, mut roles, mut grants) = (Vec::new(), Vec::new(), Vec::new());
    match t.service_principals.get() {
        Some(sps) => {
            for sp in sps.iter().filter(|s| s.app_id.eq_ignore_ascii_case(app_id)) {
                let id = segment(&sp.id);
                let of = sp.id.clone();
                let (o, w, r, g) = tokio::join!(
                    read_list(graph, format!("/servicePrincipals/{id}/owners"), "Application.Read.All", move |v| map::directory_refs(v, Some(&of))),
                    read_list(graph, format!("/servicePrincipals/{id}/ownedObjects"), "Application.Read.All", |v| map::directory_refs(v, None)),
                    read_list(graph, format!("/servicePrincipals/{id}/appRoleAssignments"), "Application.Read.All", map::app_role_grants),
                    read_list(graph, format!("/servicePrincipals/{id}/oauth2PermissionGrants"), "Directory.Read.All", map::delegated_grants),
                );
                owners.push(o);
                owned.push(w);
                roles.push(r);
                grants.push(g);
            }
        }
        None => {
            let gap = unread("service principals", &t.service_principals);
            owners.push(gap.gap());
            owned.push(gap.gap());
            roles.push(gap.gap());
            grants.push(gap.gap());
        }
    }
    (all_of(owners), all_of(owned), all_of(roles), all_of(grants))
}

// ---- Resource Manager ------------------------------------------------------------------------

/// The management-group tree, the subscriptions read, and every subscription listed (before a
/// shard took its share).
type Arm = (Collected<Vec<crate::inventory::ScopeNode>>, Vec<AzureSubscription>, Vec<String>);

async fn read_arm(arm: &Client, tenant_id: &str, opts: &AzureOptions, deadline: tokio::time::Instant, progress: &Progress) -> Arm {
    let wants = |d: Dataset| opts.datasets.contains(&d);
    let started = std::time::Instant::now();
    let subs_path = format!("/subscriptions?api-version={API_SUBSCRIPTIONS}");
    let listing = async { tokio::join!(
        arm.list(&subs_path),
        when(wants(Dataset::AzureScopes), async {
            let url = match arm.url(&format!(
                "/providers/Microsoft.Management/managementGroups/{tenant_id}?api-version={API_MANAGEMENT_GROUPS}&$expand=children&$recurse=true"
            )) {
                Ok(u) => u,
                Err(e) => return gap(e, "Microsoft.Management/managementGroups/read", ""),
            };
            match arm.get(url).await {
                Ok(root) => mapped(map::management_tree(&root)),
                Err(e) => gap(e, "Microsoft.Management/managementGroups/read", ""),
            }
        })
    ) };
    let late = super::DEADLINE_PASSED;
    let (subs, tree) = match tokio::time::timeout_at(deadline, listing).await {
        Ok(v) => v,
        Err(_) => (Err(ApiError::Failed { message: late.to_string() }), Collected::Failed { error: late.to_string() }),
    };
    // The subscriptions to read: those listed for this tenant, narrowed by --azure-subscriptions.
    let listed = subs.and_then(|v| map::subscriptions(&v).map_err(|m| ApiError::Failed { message: format!("malformed subscription list: {m}") }));
    let subscriptions: Vec<AzureSubscription> = match (&listed, &opts.subscriptions) {
        (Ok(all), wanted) => all
            .iter()
            .filter(|(_, _, _, tenant)| tenant.as_deref().is_none_or(|t| t.eq_ignore_ascii_case(tenant_id)))
            .filter(|(id, ..)| wanted.as_ref().is_none_or(|w| w.iter().any(|x| x.eq_ignore_ascii_case(id))))
            .map(|(id, name, state, _)| {
                let mut s = AzureSubscription::new(id.to_ascii_lowercase());
                s.display_name = name.clone();
                s.state = state.clone();
                s
            })
            .collect(),
        // Named subscriptions are read even when the list is refused.
        (Err(_), Some(wanted)) => wanted.iter().map(|id| AzureSubscription::new(id.to_ascii_lowercase())).collect(),
        (Err(e), None) => {
            progress.println(format!("warning: cannot list the Azure subscriptions ({e}); no subscription is scanned. Grant Reader at the tenant root management group, or name them with --azure-subscriptions"));
            Vec::new()
        }
    };
    let mut unreadable = Vec::new();
    if let (Ok(all), Some(wanted)) = (&listed, &opts.subscriptions) {
        for w in wanted {
            if !all.iter().any(|(id, ..)| id.eq_ignore_ascii_case(w)) {
                progress.println(format!("warning: subscription {w} is not visible to this credential in tenant {tenant_id}; it is reported as failed"));
                let mut s = AzureSubscription::new(w.to_ascii_lowercase());
                mark_all(&mut s, "not visible to the credential (no role in it, or another tenant)", opts);
                unreadable.push(s);
            }
        }
    }
    let scopes = tree;
    let listed: Vec<String> = subscriptions.iter().chain(&unreadable).map(|s| s.subscription_id.clone()).collect();
    let (subscriptions, unreadable) = match opts.shard {
        Some(sh) => {
            let mine = |s: &AzureSubscription| sh.owns(crate::inventory::Cloud::Azure, &s.subscription_id);
            (subscriptions.into_iter().filter(mine).collect::<Vec<_>>(), unreadable.into_iter().filter(mine).collect::<Vec<_>>())
        }
        None => (subscriptions, unreadable),
    };

    progress.start(subscriptions.len() as u64, "subscriptions");
    let sem = Arc::new(Semaphore::new(opts.concurrency.max(1)));
    let reads = subscriptions.into_iter().map(|mut s| {
        let sem = sem.clone();
        async move {
            let _permit = sem.acquire().await;
            progress.begin(&s.subscription_id);
            let id = s.subscription_id.clone();
            let read = read_subscription(arm, &mut s, opts);
            if tokio::time::timeout_at(deadline, read).await.is_err() {
                mark_all(&mut s, super::DEADLINE_PASSED, opts);
            }
            progress.end(&id);
            s
        }
    });
    let mut subscriptions = futures::future::join_all(reads).await;
    subscriptions.extend(unreadable);
    tracing::info!(elapsed_ms = started.elapsed().as_millis() as u64, subscriptions = subscriptions.len(), calls = arm.calls(), "arm read");
    (scopes, subscriptions, listed)
}

fn mark_all(s: &mut AzureSubscription, error: &str, opts: &AzureOptions) {
    let mut unread = AzureSubscription::unread(&s.subscription_id, &Collected::Failed { error: error.to_string() }, &opts.datasets);
    unread.display_name = s.display_name.take();
    unread.state = s.state.take();
    *s = unread;
}

/// A subscription's assignments from two reads merged by id: the plain list (at and below the
/// subscription) and `$filter=atScope()` (at and above it: management groups and the tenant root).
/// The documentation is loose about whether the plain list includes inherited assignments; an
/// Owner granted at a management group must not be missed because of it.
async fn both_views(arm: &Client, path: String) -> Result<Vec<Value>, ApiError> {
    let above = format!("{path}&$filter=atScope()");
    let (plain, at_scope) = tokio::join!(arm.list(&path), arm.list(&above));
    let mut items = plain?;
    let mut seen: BTreeSet<String> = items.iter().filter_map(|v| v.get("id").and_then(Value::as_str)).map(str::to_ascii_lowercase).collect();
    for v in at_scope? {
        let id = v.get("id").and_then(Value::as_str).map(str::to_ascii_lowercase);
        if id.as_ref().is_none_or(|i| seen.insert(i.clone())) {
            items.push(v);
        }
    }
    Ok(items)
}

async fn read_subscription(arm: &Client, s: &mut AzureSubscription, opts: &AzureOptions) {
    let wants = |d: Dataset| opts.datasets.contains(&d);
    let base = format!("/subscriptions/{}/providers", s.subscription_id);
    let list = |path: String| async move { arm.list(&path).await };
    let (ra, re, rd, pa, ds, lh) = tokio::join!(
        when(wants(Dataset::AzureRoleAssignments), async {
            match both_views(arm, format!("{base}/Microsoft.Authorization/roleAssignments?api-version={API_AUTHORIZATION}")).await {
                Ok(v) => mapped(map::role_assignments(&v)),
                Err(e) => gap(e, "Microsoft.Authorization/roleAssignments/read", ""),
            }
        }),
        when(wants(Dataset::AzureRoleEligibility), async {
            match both_views(arm, format!("{base}/Microsoft.Authorization/roleEligibilityScheduleInstances?api-version={API_PIM}")).await {
                Ok(v) => mapped(map::role_assignments(&v)),
                Err(e) => gap(e, "Microsoft.Authorization/roleEligibilityScheduleInstances/read", P2),
            }
        }),
        when(wants(Dataset::AzureRoleDefinitions), async {
            match list(format!("{base}/Microsoft.Authorization/roleDefinitions?api-version={API_ROLE_DEFINITIONS}")).await {
                Ok(v) => mapped(map::role_definitions(&v)),
                Err(e) => gap(e, "Microsoft.Authorization/roleDefinitions/read", ""),
            }
        }),
        when(wants(Dataset::AzurePolicyAssignments), async {
            match list(format!("{base}/Microsoft.Authorization/policyAssignments?api-version={API_POLICY}")).await {
                Ok(v) => mapped(map::policy_assignments(&v)),
                Err(e) => gap(e, "Microsoft.Authorization/policyAssignments/read", ""),
            }
        }),
        when(wants(Dataset::AzureDiagnosticSettings), async {
            match list(format!("{base}/Microsoft.Insights/diagnosticSettings?api-version={API_DIAGNOSTICS}")).await {
                Ok(v) => mapped(map::diagnostic_settings(&v)),
                Err(e) => gap(e, "Microsoft.Insights/diagnosticSettings/read", ""),
            }
        }),
        when(wants(Dataset::AzureLighthouse), async {
            match list(format!(
                "{base}/Microsoft.ManagedServices/registrationAssignments?api-version={API_MANAGED_SERVICES}&$expandRegistrationDefinition=true"
            ))
            .await
            {
                Ok(v) => mapped(map::lighthouse(&v)),
                // The resource provider was never registered: no delegation can exist.
                Err(ApiError::Failed { message }) if message.contains("MissingSubscriptionRegistration") => Collected::Collected(Vec::new()),
                Err(e) => gap(e, "Microsoft.ManagedServices/registrationAssignments/read", ""),
            }
        }),
    );
    let mut rd = rd;
    if let Collected::Collected(defs) = &mut rd {
        read_referenced_definitions(arm, &s.subscription_id, defs, [&ra, &re], &lh).await;
    }
    s.role_assignments = ra;
    s.role_eligibility = re;
    s.role_definitions = rd;
    s.policy_assignments = pa;
    s.diagnostic_settings = ds;
    s.lighthouse = lh;
}

/// The subscription's list holds the built-in roles and the custom roles assignable at it; a
/// custom role assignable only below it (a resource group) or defined elsewhere can still be
/// referred to by an assignment, an eligibility or a Lighthouse authorization. Each such role is
/// read by itself; one that cannot be read stays absent, and the privilege model names it
/// (its holders are not evaluated).
async fn read_referenced_definitions(
    arm: &Client,
    subscription: &str,
    defs: &mut Vec<crate::inventory::azure::AzureRoleDefinition>,
    assignments: [&Collected<Vec<crate::inventory::azure::AzureRoleAssignment>>; 2],
    lighthouse: &Collected<Vec<crate::inventory::azure::LighthouseDelegation>>,
) {
    use crate::inventory::azure::role_guid;
    let have: BTreeSet<String> = defs.iter().map(|d| role_guid(&d.id)).collect();
    let mut wanted: std::collections::BTreeMap<String, String> = std::collections::BTreeMap::new();
    for list in assignments.into_iter().filter_map(Collected::get) {
        for a in list {
            wanted.entry(role_guid(&a.role_definition_id)).or_insert_with(|| a.role_definition_id.clone());
        }
    }
    for d in lighthouse.get().into_iter().flatten() {
        for a in &d.authorizations {
            for id in std::iter::once(&a.role_definition_id).chain(&a.delegated_role_definition_ids) {
                wanted.entry(role_guid(id)).or_insert_with(|| id.clone());
            }
        }
    }
    let paths: Vec<String> = wanted
        .into_iter()
        .filter(|(guid, _)| !have.contains(guid) && is_guid(guid))
        .take(500)
        .map(|(guid, id)| definition_path(subscription, &guid, &id))
        .collect();
    let reads = paths.iter().map(|p| async move {
        let url = arm.url(&format!("{p}?api-version={API_ROLE_DEFINITIONS}"))?;
        arm.get(url).await
    });
    for r in futures::future::join_all(reads).await {
        match r.map(|v| map::role_definitions(&[v])) {
            Ok(Ok(mut d)) => defs.append(&mut d),
            Ok(Err(e)) => tracing::warn!(error = %e, "a role definition read by id was malformed"),
            Err(e) => tracing::warn!(error = %e, "a role definition referred to was not readable"),
        }
    }
}

/// Where to read one role definition: at the scope its id names when that id is well formed,
/// else at the subscription.
fn definition_path(subscription: &str, guid: &str, id: &str) -> String {
    let suffix = format!("/providers/microsoft.authorization/roledefinitions/{guid}");
    let lower = id.to_ascii_lowercase();
    let safe = id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_' | b'.' | b'(' | b')'));
    let scope = lower.strip_suffix(&suffix).map(|s| &id[..s.len()]);
    match scope {
        Some(scope) if safe && !id.contains("//") && !id.contains("..") && (scope.is_empty() || scope.starts_with('/')) => {
            format!("{scope}/providers/Microsoft.Authorization/roleDefinitions/{guid}")
        }
        _ => format!("/subscriptions/{subscription}/providers/Microsoft.Authorization/roleDefinitions/{guid}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_referenced_definition_is_read_where_its_id_says_or_at_the_subscription() {
        let g = "c9000000-0000-4000-8000-000000000009";
        assert_eq!(
            definition_path("s1", g, &format!("/subscriptions/s1/resourceGroups/rg-1/providers/Microsoft.Authorization/roleDefinitions/{g}")),
            format!("/subscriptions/s1/resourceGroups/rg-1/providers/Microsoft.Authorization/roleDefinitions/{g}")
        );
        assert_eq!(definition_path("s1", g, g), format!("/subscriptions/s1/providers/Microsoft.Authorization/roleDefinitions/{g}"));
        assert_eq!(definition_path("s1", g, &format!("/../x/providers/Microsoft.Authorization/roleDefinitions/{g}")), format!("/subscriptions/s1/providers/Microsoft.Authorization/roleDefinitions/{g}"));
        assert_eq!(definition_path("s1", g, &format!("https://evil/providers/Microsoft.Authorization/roleDefinitions/{g}")), format!("/subscriptions/s1/providers/Microsoft.Authorization/roleDefinitions/{g}"));
    }

    #[test]
    fn endpoints_must_be_https() {
        assert!(endpoint("X", "http://127.0.0.1:1").is_err());
        assert!(endpoint("X", "not a url").is_err());
        assert!(endpoint("X", "https://management.usgovcloudapi.net").is_ok());
    }

    #[test]
    fn guid_shape() {
        assert!(is_guid("0b1f6471-1bf0-4dda-aec3-cb9272f09590"));
        assert!(!is_guid("0b1f6471-1bf0-4dda-aec3-cb9272f0959"));
        assert!(!is_guid("../../etc/passwd-aaaa-bbbb-cccc-dddddddddd"));
    }

    #[test]
    fn tenant_from_token() {
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"tid":"0b1f6471-1bf0-4dda-aec3-cb9272f09590"}"#);
        assert_eq!(token_tenant(&format!("x.{payload}.y")).as_deref(), Some("0b1f6471-1bf0-4dda-aec3-cb9272f09590"));
        assert_eq!(token_tenant("opaque"), None);
    }
}
