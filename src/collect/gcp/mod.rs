//! Live GCP collection through Google's official Rust clients (Resource Manager v3, Cloud Asset
//! v1, IAM admin v1, Org Policy v2, Logging v2) with Application Default Credentials.
//!
//! Only reads. The IAM policies of the organization, its folders and projects come first from the
//! bulk read (Cloud Asset Inventory `searchAllIamPolicies`: a few pages for the whole
//! organization); when that is denied or the API is disabled, from `getIamPolicy` on each resource,
//! and `asset_search` in the coverage says why. Either way the set of projects is the one the
//! hierarchy listed: a refused bulk read never narrows the scan.

pub(crate) mod map;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use google_cloud_gax::options::RequestOptionsBuilder as _;
use google_cloud_gax::paginator::ItemPaginator as _;
use google_cloud_gax::retry_policy::{Aip194Strict, RetryPolicyExt, TooManyRequests};
use tokio::sync::Semaphore;

use super::Progress;
use crate::inventory::gcp::{GcpInventory, GcpNode, GcpOrganization, GcpProject, ServiceAccount};
use crate::inventory::{Cloud, Collected, Dataset, ScopeKind, ScopeNode};

/// The org-policy constraints read at each project.
pub const CONSTRAINTS: &[&str] = &[
    "iam.disableServiceAccountKeyCreation",
    "iam.disableServiceAccountKeyUpload",
    "iam.allowedPolicyMemberDomains",
    "iam.automaticIamGrantsForDefaultServiceAccounts",
    "iam.serviceAccountKeyExpiryHours",
];

#[derive(Debug, Clone)]
pub struct GcpOptions {
    /// `organizations/<number>` (or the bare number).
    pub organization: Option<String>,
    pub projects: Option<Vec<String>>,
    /// One base URL for every API (`PORTCULLIS_GCP_ENDPOINT`): private endpoints, tests.
    pub endpoint: Option<String>,
    pub concurrency: usize,
    pub deadline: Duration,
    pub datasets: BTreeSet<Dataset>,
    /// `collect --shard I/N`: read only the projects this shard owns.
    pub shard: Option<crate::inventory::shard::Shard>,
}

impl Default for GcpOptions {
    fn default() -> Self {
        GcpOptions {
            organization: None,
            projects: None,
            endpoint: None,
            concurrency: 8,
            deadline: Duration::from_secs(3600),
            datasets: Dataset::ALL.iter().copied().filter(|d| d.cloud() == Cloud::Gcp).collect(),
            shard: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GcpCollectError {
    #[error("no GCP credentials: {0} (set GOOGLE_APPLICATION_CREDENTIALS to a service-account key or run `gcloud auth application-default login`)")]
    Credentials(String),
    #[error("--gcp-endpoint / PORTCULLIS_GCP_ENDPOINT: {value:?} is not an https:// URL")]
    Endpoint { value: String },
    #[error("give --gcp-organization ID or --gcp-projects p1,p2")]
    NoScope,
    #[error("cannot read {name}: {message}")]
    Organization { name: String, message: String },
    #[error("cannot build the {api} client: {message}")]
    Client { api: &'static str, message: String },
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
}

/// What the collection cost and which path the IAM policies took.
#[derive(Debug, Clone)]
pub struct GcpIdentity {
    pub scope: String,
    /// Every project the collection was to cover before a shard took its share.
    pub listed_projects: Vec<String>,
    /// API calls made (a paged list counts once).
    pub calls: usize,
    pub bulk_iam: bool,
}

struct Clients {
    organizations: google_cloud_resourcemanager_v3::client::Organizations,
    folders: google_cloud_resourcemanager_v3::client::Folders,
    projects: google_cloud_resourcemanager_v3::client::Projects,
    asset: google_cloud_asset_v1::client::AssetService,
    iam: google_cloud_iam_admin_v1::client::Iam,
    org_policy: google_cloud_orgpolicy_v2::client::OrgPolicy,
    logging: google_cloud_logging_v2::client::ConfigServiceV2,
    /// Calls made (a paged list counts once; retries not counted): for `-v`.
    calls: AtomicUsize,
}

impl Clients {
    fn count(&self) {
        self.calls.fetch_add(1, Ordering::Relaxed);
    }
}

macro_rules! build {
    ($api:literal, $client:ty, $creds:expr, $endpoint:expr) => {{
        let mut b = <$client>::builder()
            .with_credentials($creds.clone())
            .with_retry_policy(TooManyRequests::new(Aip194Strict).with_attempt_limit(6));
        if let Some(e) = $endpoint {
            b = b.with_endpoint(e.to_string());
        }
        b.build().await.map_err(|e| GcpCollectError::Client { api: $api, message: e.to_string() })?
    }};
}

async fn clients(endpoint: Option<&str>) -> Result<Clients, GcpCollectError> {
    let creds = google_cloud_auth::credentials::Builder::default().build().map_err(|e| GcpCollectError::Credentials(e.to_string()))?;
    Ok(Clients {
        organizations: build!("Resource Manager", google_cloud_resourcemanager_v3::client::Organizations, creds, endpoint),
        folders: build!("Resource Manager", google_cloud_resourcemanager_v3::client::Folders, creds, endpoint),
        projects: build!("Resource Manager", google_cloud_resourcemanager_v3::client::Projects, creds, endpoint),
        asset: build!("Cloud Asset", google_cloud_asset_v1::client::AssetService, creds, endpoint),
        iam: build!("IAM", google_cloud_iam_admin_v1::client::Iam, creds, endpoint),
        org_policy: build!("Org Policy", google_cloud_orgpolicy_v2::client::OrgPolicy, creds, endpoint),
        logging: build!("Logging", google_cloud_logging_v2::client::ConfigServiceV2, creds, endpoint),
        calls: AtomicUsize::new(0),
    })
}

pub fn collect(opts: &GcpOptions, progress: &Progress) -> Result<(GcpInventory, GcpIdentity), GcpCollectError> {
    let rt = super::runtime().map_err(GcpCollectError::Runtime)?;
    rt.block_on(collect_async(opts, progress))
}

/// `organizations/123`, from `123` or `organizations/123`.
pub fn organization_name(s: &str) -> Option<String> {
    let n = s.trim().trim_start_matches("organizations/");
    (!n.is_empty() && n.chars().all(|c| c.is_ascii_digit())).then(|| format!("organizations/{n}"))
}

/// A project id as GCP allows them: 6 to 30 lower-case letters, digits and hyphens.
pub fn is_project_id(s: &str) -> bool {
    (6..=30).contains(&s.len())
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.ends_with('-')
}

async fn collect_async(opts: &GcpOptions, progress: &Progress) -> Result<(GcpInventory, GcpIdentity), GcpCollectError> {
    if let Some(e) = &opts.endpoint {
        if !e.trim().starts_with("https://") {
            return Err(GcpCollectError::Endpoint { value: e.clone() });
        }
    }
    let c = clients(opts.endpoint.as_deref().map(|e| e.trim().trim_end_matches('/'))).await?;
    let deadline = tokio::time::Instant::now() + opts.deadline;
    let wants = |d: Dataset| opts.datasets.contains(&d);
    progress.set_message("reading the GCP hierarchy");
    let mut inv = GcpInventory::default();
    let scope;
    match (&opts.organization, &opts.projects) {
        (Some(org), _) => {
            let name = organization_name(org).ok_or(GcpCollectError::NoScope)?;
            scope = name.clone();
            c.count();
            let o = c.organizations.get_organization().set_name(&name).send().await.map_err(|e| GcpCollectError::Organization { name: name.clone(), message: map::one_line(&e) })?;
            inv.organization = Some(map::organization(&o));
            let (tree, projects) = walk_organization(&c, &name, &o.display_name).await;
            inv.hierarchy = tree;
            inv.projects = projects;
        }
        (None, Some(ids)) => {
            scope = format!("projects {}", ids.join(","));
            let (tree, projects, org) = named_projects(&c, ids).await;
            inv.hierarchy = tree;
            inv.projects = projects;
            inv.organization = org;
        }
        (None, None) => return Err(GcpCollectError::NoScope),
    }
    let listed: Vec<String> = inv.projects.iter().map(|p| p.project_id.clone()).collect();
    if let Some(s) = opts.shard {
        inv.projects.retain(|p| s.owns(crate::inventory::Cloud::Gcp, &p.project_id));
    }
    // Every organization and folder the hierarchy names gets a node for its own policy and sinks.
    if let Some(tree) = inv.hierarchy.get() {
        inv.nodes = tree
            .iter()
            .filter(|n| n.kind != ScopeKind::GcpProject)
            .map(|n| GcpNode { name: n.id.clone(), iam_policy: Collected::NotRequested, sinks: Collected::NotRequested, custom_roles: Collected::NotRequested })
            .collect();
    }

    let mut bulk = false;
    if wants(Dataset::GcpIamPolicy) {
        progress.set_message("reading IAM policies");
        let read = async {
            // The bulk read covers the whole organization: worth it for an organization scan, not
            // for a few named projects.
            let org_scan = opts.organization.is_some();
            if let Some(org) = inv.organization.as_ref().map(|o| o.name.clone()).filter(|_| org_scan) {
                match bulk_policies(&c, &org).await {
                    Ok(found) => {
                        bulk = true;
                        inv.asset_search = Collected::Collected(());
                        map::apply_bulk(&mut inv, found);
                        // The organization and folders are few: read them whole, for their audit
                        // configuration (which every project below inherits).
                        node_policies(&c, &mut inv, opts.concurrency).await;
                        return;
                    }
                    Err(e) => {
                        inv.asset_search = map::asset_gap(&e);
                        tracing::info!(reason = %map::one_line(&e), "cloud asset search unavailable; reading each IAM policy");
                    }
                }
            }
            per_resource_policies(&c, &mut inv, opts.concurrency).await;
        };
        if tokio::time::timeout_at(deadline, read).await.is_err() {
            map::deadline_gap(&mut inv);
        }
    }
    progress.start(inv.projects.len() as u64, "projects");
    let sem = Arc::new(Semaphore::new(opts.concurrency.max(1)));
    let cref = &c;
    let reads = inv.projects.iter_mut().map(|p| {
        let sem = sem.clone();
        async move {
            let _permit = sem.acquire().await;
            progress.begin(&p.project_id);
            let read = read_project(cref, p, opts);
            if tokio::time::timeout_at(deadline, read).await.is_err() {
                let late: Collected<()> = Collected::Failed { error: super::DEADLINE_PASSED.into() };
                let wants = |d: Dataset| opts.datasets.contains(&d);
                if wants(Dataset::GcpServiceAccounts) {
                    p.service_accounts = late.gap();
                }
                if wants(Dataset::GcpOrgPolicies) {
                    p.org_policies = late.gap();
                }
                if wants(Dataset::GcpLogging) {
                    p.sinks = late.gap();
                }
                if wants(Dataset::GcpCustomRoles) {
                    p.custom_roles = late.gap();
                }
            }
            progress.end(&p.project_id);
        }
    });
    futures::future::join_all(reads).await;
    if wants(Dataset::GcpLogging) {
        let sinks = futures::future::join_all(inv.nodes.iter().map(|n| list_sinks(&c, n.name.clone()))).await;
        for (n, s) in inv.nodes.iter_mut().zip(sinks) {
            n.sinks = s;
        }
    }
    if wants(Dataset::GcpCustomRoles) {
        // Custom roles are defined in projects (read with each project) and organizations.
        let orgs: Vec<usize> = (0..inv.nodes.len()).filter(|&i| inv.nodes[i].name.starts_with("organizations/")).collect();
        let roles = futures::future::join_all(orgs.iter().map(|&i| custom_roles(&c, inv.nodes[i].name.clone()))).await;
        for (i, r) in orgs.into_iter().zip(roles) {
            inv.nodes[i].custom_roles = r;
        }
    }
    if wants(Dataset::GcpPredefinedRoles) {
        // Once per scan, after every policy (service accounts' own included) is in: only the
        // predefined roles some binding names are kept.
        progress.set_message("reading the predefined roles");
        let named: BTreeSet<String> = inv.roles_named().into_iter().filter(|r| r.starts_with("roles/")).map(str::to_string).collect();
        match tokio::time::timeout_at(deadline, predefined_roles(&c, &named)).await {
            Ok((roles, omitted)) => {
                inv.predefined_roles = roles;
                inv.predefined_roles_omitted = omitted;
            }
            Err(_) => inv.predefined_roles = Collected::Failed { error: super::DEADLINE_PASSED.into() },
        }
    }
    if !wants(Dataset::GcpHierarchy) && !wants(Dataset::GcpIamPolicy) {
        // The tree was read to find the projects; keep it only when a check asked for it.
        inv.hierarchy = Collected::NotRequested;
    }
    progress.finish();
    let identity = GcpIdentity { scope, listed_projects: listed, calls: c.calls.load(Ordering::Relaxed), bulk_iam: bulk };
    tracing::info!(calls = identity.calls, bulk = identity.bulk_iam, "gcp collection done");
    Ok((inv, identity))
}

/// Breadth-first: folders and projects under the organization, then under each folder. Calls grow
/// with folders and pages, not projects.
async fn walk_organization(c: &Clients, org: &str, display: &str) -> (Collected<Vec<ScopeNode>>, Vec<GcpProject>) {
    let mut nodes = vec![ScopeNode { id: org.to_string(), name: Some(display.to_string()).filter(|d| !d.is_empty()), kind: ScopeKind::GcpOrganization, parent: None, state: None }];
    let mut projects = Vec::new();
    let mut queue = std::collections::VecDeque::from([org.to_string()]);
    while let Some(parent) = queue.pop_front() {
        if nodes.len() > 100_000 {
            break;
        }
        let mut it = c.folders.list_folders().set_parent(&parent).set_page_size(1000).by_item();
        c.count();
        while let Some(f) = it.next().await {
            match f {
                Ok(f) => {
                    queue.push_back(f.name.clone());
                    nodes.push(map::folder(&f));
                }
                Err(e) => return (map::gap(&e, "resourcemanager.folders.list"), projects),
            }
        }
        let mut it = c.projects.list_projects().set_parent(&parent).set_page_size(1000).by_item();
        c.count();
        while let Some(p) = it.next().await {
            match p {
                Ok(p) => {
                    nodes.push(ScopeNode { id: p.name.clone(), name: Some(p.project_id.clone()), kind: ScopeKind::GcpProject, parent: Some(p.parent.clone()), state: None });
                    projects.push(map::project(&p));
                }
                Err(e) => return (map::gap(&e, "resourcemanager.projects.list"), projects),
            }
        }
    }
    (Collected::Collected(nodes), projects)
}

/// `--gcp-projects`: each project, then its ancestors (for inherited policies) up to the
/// organization, whose domain then tells members inside from outside.
async fn named_projects(c: &Clients, ids: &[String]) -> (Collected<Vec<ScopeNode>>, Vec<GcpProject>, Option<GcpOrganization>) {
    let mut org = None;
    let mut nodes: Vec<ScopeNode> = Vec::new();
    let mut projects = Vec::new();
    let mut gap = None;
    for id in ids {
        c.count();
        match c.projects.get_project().set_name(format!("projects/{id}")).send().await {
            Ok(p) => {
                nodes.push(ScopeNode { id: p.name.clone(), name: Some(p.project_id.clone()), kind: ScopeKind::GcpProject, parent: Some(p.parent.clone()), state: None });
                projects.push(map::project(&p));
            }
            Err(e) => {
                let mut p = GcpProject { project_id: id.clone(), name: format!("projects/{id}"), parent: None, iam_policy: Collected::NotRequested, service_accounts: Collected::NotRequested, org_policies: Collected::NotRequested, sinks: Collected::NotRequested, custom_roles: Collected::NotRequested };
                p.iam_policy = map::gap(&e, "resourcemanager.projects.get");
                projects.push(p);
            }
        }
    }
    // Ancestors, each read once.
    let mut pending: Vec<String> = nodes.iter().filter_map(|n| n.parent.clone()).collect();
    while let Some(name) = pending.pop() {
        if nodes.iter().any(|n| n.id == name) || nodes.len() > 10_000 {
            continue;
        }
        c.count();
        if name.starts_with("folders/") {
            match c.folders.get_folder().set_name(&name).send().await {
                Ok(f) => {
                    pending.push(f.parent.clone());
                    nodes.push(map::folder(&f));
                }
                Err(e) => gap = Some(map::gap(&e, "resourcemanager.folders.get")),
            }
        } else if name.starts_with("organizations/") {
            match c.organizations.get_organization().set_name(&name).send().await {
                Ok(o) => {
                    nodes.push(ScopeNode { id: o.name.clone(), name: Some(o.display_name.clone()), kind: ScopeKind::GcpOrganization, parent: None, state: None });
                    org = Some(map::organization(&o));
                }
                Err(e) => gap = Some(map::gap(&e, "resourcemanager.organizations.get")),
            }
        }
    }
    (gap.unwrap_or(Collected::Collected(nodes)), projects, org)
}

async fn bulk_policies(c: &Clients, org: &str) -> Result<Vec<google_cloud_asset_v1::model::IamPolicySearchResult>, google_cloud_gax::error::Error> {
    let mut it = c
        .asset
        .search_all_iam_policies()
        .set_scope(org)
        .set_asset_types([
            "cloudresourcemanager.googleapis.com/Organization",
            "cloudresourcemanager.googleapis.com/Folder",
            "cloudresourcemanager.googleapis.com/Project",
        ])
        .set_page_size(500)
        .by_item();
    c.count();
    let mut out = Vec::new();
    while let Some(r) = it.next().await {
        out.push(r?);
    }
    Ok(out)
}

/// Replace the bulk-read policies of the organization and folders with full reads (bindings and
/// audit configuration); a node whose read fails keeps its bulk policy (audit config unknown).
async fn node_policies(c: &Clients, inv: &mut GcpInventory, concurrency: usize) {
    let mut copy = GcpInventory { nodes: inv.nodes.clone(), ..GcpInventory::default() };
    per_resource_policies(c, &mut copy, concurrency).await;
    for (n, full) in inv.nodes.iter_mut().zip(copy.nodes) {
        if let Collected::Collected(_) = full.iam_policy {
            n.iam_policy = full.iam_policy;
        }
    }
}

/// `getIamPolicy` on the organization, every folder and every project, `concurrency` at a time.
async fn per_resource_policies(c: &Clients, inv: &mut GcpInventory, concurrency: usize) {
    let sem = Arc::new(Semaphore::new(concurrency.max(1)));
    let get = |name: String| {
        let sem = sem.clone();
        async move {
            let _permit = sem.acquire().await;
            c.count();
            // getIamPolicy is a read sent as a POST: without `with_idempotency` the client would
            // not retry it after a 503 or a dropped connection (tests/faults.rs).
            let r = if name.starts_with("organizations/") {
                c.organizations.get_iam_policy().set_resource(&name).set_options(map::policy_options()).with_idempotency(true).send().await
            } else if name.starts_with("folders/") {
                c.folders.get_iam_policy().set_resource(&name).set_options(map::policy_options()).with_idempotency(true).send().await
            } else {
                c.projects.get_iam_policy().set_resource(&name).set_options(map::policy_options()).with_idempotency(true).send().await
            };
            let permission = format!("resourcemanager.{}.getIamPolicy", name.split('/').next().unwrap_or("projects"));
            match r {
                Ok(p) => Collected::Collected(map::policy(&p)),
                Err(e) => map::gap(&e, &permission),
            }
        }
    };
    let node_names: Vec<String> = inv.nodes.iter().map(|n| n.name.clone()).collect();
    let project_names: Vec<String> = inv.projects.iter().map(|p| p.name.clone()).collect();
    let (nodes, projects) = tokio::join!(
        futures::future::join_all(node_names.into_iter().map(&get)),
        futures::future::join_all(project_names.into_iter().map(&get))
    );
    for (n, p) in inv.nodes.iter_mut().zip(nodes) {
        n.iam_policy = p;
    }
    for (pr, p) in inv.projects.iter_mut().zip(projects) {
        if pr.iam_policy.is_not_requested() {
            pr.iam_policy = p;
        }
    }
}

async fn read_project(c: &Clients, p: &mut GcpProject, opts: &GcpOptions) {
    let wants = |d: Dataset| opts.datasets.contains(&d);
    let name = p.name.clone();
    let id = p.project_id.clone();
    let (sas, policies, sinks, roles) = tokio::join!(
        async {
            if wants(Dataset::GcpServiceAccounts) {
                service_accounts(c, &id).await
            } else {
                Collected::NotRequested
            }
        },
        async {
            if wants(Dataset::GcpOrgPolicies) {
                org_policies(c, &name).await
            } else {
                Collected::NotRequested
            }
        },
        async {
            if wants(Dataset::GcpLogging) {
                list_sinks(c, name.clone()).await
            } else {
                Collected::NotRequested
            }
        },
        async {
            if wants(Dataset::GcpCustomRoles) {
                custom_roles(c, format!("projects/{id}")).await
            } else {
                Collected::NotRequested
            }
        }
    );
    p.service_accounts = sas;
    p.org_policies = policies;
    p.sinks = sinks;
    p.custom_roles = roles;
    // The bulk search returns bindings, not audit configurations: read the project's own policy
    // for them (an exemption set there is otherwise unseen). A refused read leaves them unread.
    if let Collected::Collected(pol) = &mut p.iam_policy {
        if pol.audit_configs_unread {
            c.count();
            let r = c.projects.get_iam_policy().set_resource(&name).set_options(map::policy_options()).with_idempotency(true).send().await;
            match r {
                Ok(full) => {
                    pol.audit_configs = map::policy(&full).audit_configs;
                    pol.audit_configs_unread = false;
                }
                Err(e) => tracing::info!(project = %id, reason = %map::one_line(&e), "audit configuration not read"),
            }
        }
    }
}

async fn service_accounts(c: &Clients, project_id: &str) -> Collected<Vec<ServiceAccount>> {
    let mut it = c.iam.list_service_accounts().set_name(format!("projects/{project_id}")).set_page_size(100).by_item();
    c.count();
    let mut accounts = Vec::new();
    while let Some(a) = it.next().await {
        match a {
            Ok(a) => accounts.push(a),
            Err(e) => return map::gap(&e, "iam.serviceAccounts.list"),
        }
    }
    let reads = accounts.iter().map(|a| async move {
        c.count();
        c.count();
        let (keys, policy) = tokio::join!(
            c.iam.list_service_account_keys().set_name(&a.name).send(),
            c.iam.get_iam_policy().set_resource(&a.name).with_idempotency(true).send()
        );
        let keys = match keys {
            Ok(k) => k.keys.iter().map(map::key).collect(),
            Err(e) => return Err(map::gap::<()>(&e, "iam.serviceAccountKeys.list")),
        };
        let iam_policy = match policy {
            Ok(p) => Collected::Collected(map::policy(&p)),
            Err(e) => map::gap(&e, "iam.serviceAccounts.getIamPolicy"),
        };
        Ok(ServiceAccount { email: a.email.clone(), unique_id: a.unique_id.clone(), disabled: a.disabled, keys, iam_policy })
    });
    let mut out = Vec::new();
    for r in futures::future::join_all(reads).await {
        match r {
            Ok(sa) => out.push(sa),
            Err(gap) => return gap.gap(),
        }
    }
    Collected::Collected(out)
}

async fn org_policies(c: &Clients, project_name: &str) -> Collected<Vec<crate::inventory::gcp::OrgPolicy>> {
    let reads = CONSTRAINTS.iter().map(|k| async move {
        c.count();
        let r = c.org_policy.get_effective_policy().set_name(format!("{project_name}/policies/{k}")).send().await;
        (k, r)
    });
    let mut out = Vec::new();
    for (k, r) in futures::future::join_all(reads).await {
        match r {
            Ok(p) => out.push(map::org_policy(k, &p)),
            // Not set anywhere above: the constraint's default applies (not enforced).
            Err(e) if map::is_not_found(&e) => out.push(crate::inventory::gcp::OrgPolicy { constraint: k.to_string(), enforced: None, allowed_values: vec![], denied_values: vec![], conditional_exceptions: vec![] }),
            Err(e) => return map::gap(&e, "orgpolicy.policies.getEffectivePolicy"),
        }
    }
    Collected::Collected(out)
}

async fn list_sinks(c: &Clients, parent: String) -> Collected<Vec<crate::inventory::gcp::LogSink>> {
    let mut it = c.logging.list_sinks().set_parent(&parent).set_page_size(200).by_item();
    c.count();
    let mut out = Vec::new();
    while let Some(s) = it.next().await {
        match s {
            Ok(s) => out.push(map::sink(&s)),
            Err(e) => return map::gap(&e, "logging.sinks.list"),
        }
    }
    Collected::Collected(out)
}

/// Google's predefined roles (IAM `roles.list` without a parent) with their permissions (the full
/// view), paged; only those in `named` are kept, the others counted.
async fn predefined_roles(c: &Clients, named: &BTreeSet<String>) -> (Collected<Vec<crate::inventory::gcp::PredefinedRole>>, u32) {
    let mut it = c.iam.list_roles().set_view(google_cloud_iam_admin_v1::model::RoleView::Full).set_page_size(1000).by_item();
    c.count();
    let (mut out, mut omitted) = (Vec::new(), 0u32);
    while let Some(r) = it.next().await {
        match r {
            Ok(r) if named.contains(&r.name) => out.push(map::predefined_role(&r)),
            Ok(_) => omitted = omitted.saturating_add(1),
            Err(e) => return (map::gap(&e, "iam.roles.list"), 0),
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out.dedup_by(|a, b| a.name == b.name);
    tracing::debug!(kept = out.len(), omitted, "predefined roles");
    (Collected::Collected(out), omitted)
}

/// The custom roles defined on `parent` (`projects/<id>` or `organizations/<n>`), with their
/// permissions (the full view) and deleted ones (a deleted role can be restored for 37 days).
async fn custom_roles(c: &Clients, parent: String) -> Collected<Vec<crate::inventory::gcp::CustomRole>> {
    let mut it = c
        .iam
        .list_roles()
        .set_parent(&parent)
        .set_view(google_cloud_iam_admin_v1::model::RoleView::Full)
        .set_show_deleted(true)
        .set_page_size(1000)
        .by_item();
    c.count();
    let mut out = Vec::new();
    while let Some(r) = it.next().await {
        match r {
            Ok(r) => out.push(map::custom_role(&r)),
            Err(e) => return map::gap(&e, "iam.roles.list"),
        }
    }
    Collected::Collected(out)
}
