//! GCP part of the inventory: organization → folders → projects, IAM policies (bindings with
//! conditions, audit configs), service accounts and their user-managed keys, effective org
//! policies and log sinks. Filled by the GCP collector (a later wave); shapes follow Resource
//! Manager v3, IAM v1, Org Policy v2 and Logging v2.
//!
//! An IAM policy is stored once, on the node where it is set (`organizations/…`, `folders/…`,
//! `projects/…`); what a project inherits is computed when a check asks
//! ([`GcpInventory::effective_iam`]), and a level whose policy could not be read makes the answer
//! a gap, never a shorter list.

use serde::{Deserialize, Serialize};

use super::{merge_keyed, Cloud, Collected, CoverageEntry, CoverageState, Dataset, MergeError, Missing, ScopeNode, Timestamp};

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct GcpInventory {
    /// The organization scanned (`--gcp-organization`), with its primary domain and Workspace /
    /// Cloud Identity customer id (what `iam.allowedPolicyMemberDomains` lists).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<GcpOrganization>,
    /// Organization, folders and projects with parent links (`organizations/1`, `folders/2`,
    /// `projects/p`). A failed read of the tree is a gap, not an empty organization.
    #[serde(default, skip_serializing_if = "Collected::is_not_requested")]
    pub hierarchy: Collected<Vec<ScopeNode>>,
    /// The Cloud Asset Inventory bulk read of every IAM policy (`searchAllIamPolicies`). When it
    /// is denied or the API is disabled, the policies come from per-resource `getIamPolicy` and this
    /// records why.
    #[serde(default, skip_serializing_if = "Collected::is_not_requested")]
    pub asset_search: Collected<()>,
    /// What is set on each organization and folder (projects carry their own below).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<GcpNode>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub projects: Vec<GcpProject>,
    /// Google's predefined roles (`roles/…`) with their permissions: IAM `roles.list` without a
    /// parent and with the full view, read once per scan. Only the roles some binding read in the
    /// scan names are kept (organization, folders, projects, service accounts' own policies); the
    /// rest are counted in `predefined_roles_omitted`. A role a binding names that is not here is
    /// unknown, never "grants nothing" (`crate::reach::gcp`).
    #[serde(default, skip_serializing_if = "Collected::is_not_requested")]
    pub predefined_roles: Collected<Vec<PredefinedRole>>,
    /// Predefined roles listed but named by no binding read, so left out of `predefined_roles`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub predefined_roles_omitted: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// A predefined role's definition: the permissions its grants carry.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PredefinedRole {
    /// `roles/<id>`, as bindings name it.
    pub name: String,
    #[serde(default)]
    pub permissions: Vec<String>,
    /// `GA`, `BETA`, `ALPHA`, `DEPRECATED` or `EAP` (a deprecated role still grants).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
}

/// The scanned organization's identity.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct GcpOrganization {
    /// `organizations/<number>`.
    pub name: String,
    /// The organization's display name: its primary domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
}

/// An organization or folder and what is set on it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct GcpNode {
    /// `organizations/123` or `folders/456`.
    pub name: String,
    #[serde(default, skip_serializing_if = "Collected::is_not_requested")]
    pub iam_policy: Collected<IamPolicy>,
    /// Aggregated sinks set here (with `include_children`, they cover the projects below).
    #[serde(default, skip_serializing_if = "Collected::is_not_requested")]
    pub sinks: Collected<Vec<LogSink>>,
    /// The custom roles defined here (organizations only; folders cannot hold them), deleted
    /// ones included.
    #[serde(default, skip_serializing_if = "Collected::is_not_requested")]
    pub custom_roles: Collected<Vec<CustomRole>>,
}

impl GcpNode {
    fn merge(&mut self, o: GcpNode) -> Result<(), MergeError> {
        let GcpNode { name: _, iam_policy, sinks, custom_roles } = o;
        self.iam_policy.merge(iam_policy, &self.name, Dataset::GcpIamPolicy)?;
        self.custom_roles.merge(custom_roles, &self.name, Dataset::GcpCustomRoles)?;
        self.sinks.merge(sinks, &self.name, Dataset::GcpLogging)
    }
}

impl GcpInventory {
    pub fn is_empty(&self) -> bool {
        self.organization.is_none() && self.hierarchy.is_not_requested() && self.nodes.is_empty() && self.projects.is_empty() && self.predefined_roles.is_not_requested()
    }

    /// The definition of the predefined role a binding names (`roles/<id>`). `Err` when the
    /// predefined roles were not read, or this one is not among them: its grants are then unknown.
    pub fn predefined_role(&self, role: &str) -> Result<&PredefinedRole, Missing> {
        let roles = self.predefined_roles.require(Dataset::GcpPredefinedRoles)?;
        roles.iter().find(|r| r.name == role).ok_or_else(|| Missing {
            dataset: Dataset::GcpPredefinedRoles,
            state: CoverageState::Partial {
                missing: format!("the predefined role {role} is not among the {} predefined roles read (IAM roles.list without a parent, full view)", roles.len()),
            },
        })
    }

    /// Every role any binding read names: the organization's, folders', projects' and service
    /// accounts' own policies.
    pub fn roles_named(&self) -> std::collections::BTreeSet<&str> {
        let nodes = self.nodes.iter().filter_map(|n| n.iam_policy.get());
        let projects = self.projects.iter().filter_map(|p| p.iam_policy.get());
        let accounts = self.projects.iter().filter_map(|p| p.service_accounts.get()).flatten().filter_map(|a| a.iam_policy.get());
        nodes.chain(projects).chain(accounts).flat_map(|pol| pol.bindings.iter().map(|b| b.role.as_str())).collect()
    }

    /// The organizations of the hierarchy (scopes of organization checks).
    pub fn organizations(&self) -> impl Iterator<Item = &ScopeNode> {
        self.hierarchy.get().into_iter().flatten().filter(|n| n.kind == super::ScopeKind::GcpOrganization)
    }

    /// The IAM policies that apply to a project: its own, then each folder and the organization
    /// above it, each with the resource it is set on. `Err` when the hierarchy or any level's
    /// policy was not read: a partial list would hide inherited grants.
    pub fn effective_iam<'a>(&'a self, project: &'a GcpProject) -> Result<Vec<(&'a str, &'a IamPolicy)>, Missing> {
        match self.effective_iam_known(project) {
            (levels, None) => Ok(levels),
            (_, Some(gap)) => Err(gap),
        }
    }

    /// The levels of [`GcpInventory::effective_iam`] that could be read, from the project up, and
    /// the gap that stopped the walk, if any: what a check sees on them is known (a grant found
    /// there fails whatever sits above), what it does not see is not a pass.
    ///
    /// The walk follows the hierarchy that was read, from the project's own node: a project the
    /// tree does not hold, a parent the project and the tree disagree on, a level missing from the
    /// tree, a folder without a parent link and a loop are gaps, never the top of the tree.
    pub fn effective_iam_known<'a>(&'a self, project: &'a GcpProject) -> (Vec<(&'a str, &'a IamPolicy)>, Option<Missing>) {
        let mut out = Vec::new();
        match project.iam_policy.require(Dataset::GcpIamPolicy) {
            Ok(p) => out.push((project.name.as_str(), p)),
            Err(m) => return (out, Some(m)),
        }
        let tree = match self.hierarchy.require(Dataset::GcpHierarchy) {
            Ok(t) => t,
            Err(m) => return (out, Some(m)),
        };
        let gap = |missing: String| Some(Missing { dataset: Dataset::GcpHierarchy, state: CoverageState::Partial { missing } });
        let Some(me) = tree.iter().find(|n| n.kind == super::ScopeKind::GcpProject && (n.id == project.name || n.name.as_deref() == Some(project.project_id.as_str()))) else {
            return (out, gap(format!("project {} is not in the hierarchy that was read: the folders and organization above it are unknown", project.project_id)));
        };
        if project.parent.is_some() && project.parent != me.parent {
            return (out, gap(format!("project {} names {} as its parent and the hierarchy {}", project.project_id, project.parent.as_deref().unwrap_or("none"), me.parent.as_deref().unwrap_or("none"))));
        }
        let mut parent = me.parent.clone();
        let mut seen: Vec<String> = Vec::new();
        while let Some(p) = parent {
            if seen.contains(&p) || seen.len() > 64 {
                return (out, gap(format!("the hierarchy above {} loops at {p}", project.project_id)));
            }
            let Some(node) = self.nodes.iter().find(|n| n.name == p) else {
                let missing = format!("no IAM policy was read for {p}, above {}", project.project_id);
                return (out, Some(Missing { dataset: Dataset::GcpIamPolicy, state: CoverageState::Partial { missing } }));
            };
            match node.iam_policy.require(Dataset::GcpIamPolicy) {
                Ok(pol) => out.push((node.name.as_str(), pol)),
                Err(m) => return (out, Some(m)),
            }
            // A level missing from the tree, or a folder without a parent, is not the top: what
            // sits above it (and what it grants) is unknown.
            let Some(at) = tree.iter().find(|n| n.id == p) else {
                return (out, gap(format!("{p}, above {}, is not in the hierarchy that was read: the levels above it are unknown", project.project_id)));
            };
            if at.parent.is_none() && at.kind != super::ScopeKind::GcpOrganization {
                return (out, gap(format!("the parent of {p}, above {}, is unknown", project.project_id)));
            }
            seen.push(p);
            parent = at.parent.clone();
        }
        (out, None)
    }

    /// The definition of the custom role a binding names (`projects/<id>/roles/<r>` or
    /// `organizations/<n>/roles/<r>`). `Err` when the roles of the project or organization that
    /// defines it were not read, or it is not among them: its grants are then unknown.
    pub fn custom_role(&self, role: &str) -> Result<&CustomRole, Missing> {
        let owner = role.rsplit_once("/roles/").map(|(o, _)| o).unwrap_or(role);
        let partial = |missing: String| Missing { dataset: Dataset::GcpCustomRoles, state: CoverageState::Partial { missing } };
        let roles = if let Some(id) = owner.strip_prefix("projects/") {
            match self.projects.iter().find(|p| p.project_id == id) {
                Some(p) => p.custom_roles.require(Dataset::GcpCustomRoles)?,
                None => return Err(partial(format!("the custom role {role} is defined in project {id}, which the scan did not read"))),
            }
        } else {
            match self.nodes.iter().find(|n| n.name == owner) {
                Some(n) => n.custom_roles.require(Dataset::GcpCustomRoles)?,
                None => return Err(partial(format!("the custom role {role} is defined in {owner}, which the scan did not read"))),
            }
        };
        roles.iter().find(|r| r.name == role).ok_or_else(|| partial(format!("the custom role {role} is not among the {} custom roles read from {owner}", roles.len())))
    }

    pub(crate) fn coverage(&self, out: &mut Vec<CoverageEntry>) {
        let push = |out: &mut Vec<CoverageEntry>, scope: &str, dataset: Dataset, state: CoverageState| {
            out.push(CoverageEntry { cloud: Cloud::Gcp, scope: scope.to_string(), service: dataset.service().to_string(), dataset, state });
        };
        if !self.hierarchy.is_not_requested() {
            push(out, "hierarchy", Dataset::GcpHierarchy, self.hierarchy.state());
        }
        if !self.asset_search.is_not_requested() {
            push(out, "organization", Dataset::GcpAssetSearch, self.asset_search.state());
        }
        if !self.predefined_roles.is_not_requested() {
            push(out, "predefined roles", Dataset::GcpPredefinedRoles, self.predefined_roles.state());
        }
        for n in &self.nodes {
            let GcpNode { name, iam_policy, sinks, custom_roles } = n;
            push(out, name, Dataset::GcpIamPolicy, iam_policy.state());
            push(out, name, Dataset::GcpLogging, sinks.state());
            push(out, name, Dataset::GcpCustomRoles, custom_roles.state());
        }
        for p in &self.projects {
            let GcpProject { project_id, name: _, parent: _, iam_policy, service_accounts, org_policies, sinks, custom_roles } = p;
            push(out, project_id, Dataset::GcpIamPolicy, iam_policy.state());
            push(out, project_id, Dataset::GcpServiceAccounts, service_accounts.state());
            push(out, project_id, Dataset::GcpCustomRoles, custom_roles.state());
            push(out, project_id, Dataset::GcpOrgPolicies, org_policies.state());
            push(out, project_id, Dataset::GcpLogging, sinks.state());
        }
    }

    /// The merge rule of every cloud: scopes matched by id, each dataset merged on its own.
    /// Forget every dataset not in `keep`.
    pub(crate) fn retain_datasets(&mut self, keep: &std::collections::BTreeSet<Dataset>) {
        fn drop<T>(c: &mut Collected<T>, d: Dataset, keep: &std::collections::BTreeSet<Dataset>) {
            if !keep.contains(&d) {
                *c = Collected::NotRequested;
            }
        }
        drop(&mut self.hierarchy, Dataset::GcpHierarchy, keep);
        drop(&mut self.asset_search, Dataset::GcpAssetSearch, keep);
        drop(&mut self.predefined_roles, Dataset::GcpPredefinedRoles, keep);
        if !keep.contains(&Dataset::GcpPredefinedRoles) {
            self.predefined_roles_omitted = 0;
        }
        for n in &mut self.nodes {
            drop(&mut n.iam_policy, Dataset::GcpIamPolicy, keep);
            drop(&mut n.sinks, Dataset::GcpLogging, keep);
            drop(&mut n.custom_roles, Dataset::GcpCustomRoles, keep);
        }
        for p in &mut self.projects {
            drop(&mut p.iam_policy, Dataset::GcpIamPolicy, keep);
            drop(&mut p.service_accounts, Dataset::GcpServiceAccounts, keep);
            drop(&mut p.org_policies, Dataset::GcpOrgPolicies, keep);
            drop(&mut p.sinks, Dataset::GcpLogging, keep);
            drop(&mut p.custom_roles, Dataset::GcpCustomRoles, keep);
        }
    }

    /// Predefined roles are one catalogue for every scan: two reads (shards, or scans of other
    /// projects) unite, each having kept the roles its own bindings name. A gap in either makes
    /// the whole a gap (a role only the other side kept would be missing unseen).
    fn unite_predefined_roles(&mut self, other: Collected<Vec<PredefinedRole>>, other_omitted: u32) {
        let listed = |c: &Collected<Vec<PredefinedRole>>, omitted: u32| c.get().map_or(0, |r| r.len() as u32) + omitted;
        let total = listed(&self.predefined_roles, self.predefined_roles_omitted).max(listed(&other, other_omitted));
        match (&mut self.predefined_roles, other) {
            (_, Collected::NotRequested) => {}
            (Collected::Collected(mine), Collected::Collected(theirs)) => {
                for r in theirs {
                    if !mine.iter().any(|m| m.name == r.name) {
                        mine.push(r);
                    }
                }
                mine.sort_by(|a, b| a.name.cmp(&b.name));
                self.predefined_roles_omitted = total.saturating_sub(mine.len() as u32);
            }
            (Collected::NotRequested, theirs) => {
                self.predefined_roles = theirs;
                self.predefined_roles_omitted = other_omitted;
            }
            (Collected::Collected(_), gap) => {
                self.predefined_roles = gap;
                self.predefined_roles_omitted = 0;
            }
            (_, _) => {}
        }
    }

    pub(crate) fn merge(&mut self, other: GcpInventory) -> Result<(), MergeError> {
        let GcpInventory { organization, hierarchy, asset_search, nodes, projects, predefined_roles, predefined_roles_omitted } = other;
        if self.organization.is_none() {
            self.organization = organization;
        }
        self.hierarchy.merge(hierarchy, "hierarchy", Dataset::GcpHierarchy)?;
        self.asset_search.merge(asset_search, "organization", Dataset::GcpAssetSearch)?;
        self.unite_predefined_roles(predefined_roles, predefined_roles_omitted);
        merge_keyed(&mut self.nodes, nodes, |n| n.name.clone(), GcpNode::merge)?;
        merge_keyed(&mut self.projects, projects, |p| p.project_id.clone(), GcpProject::merge)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct GcpProject {
    pub project_id: String,
    /// `projects/123456789012`.
    pub name: String,
    /// `folders/…` or `organizations/…`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// The policy set on the project itself (inheritance: [`GcpInventory::effective_iam`]).
    #[serde(default, skip_serializing_if = "Collected::is_not_requested")]
    pub iam_policy: Collected<IamPolicy>,
    #[serde(default, skip_serializing_if = "Collected::is_not_requested")]
    pub service_accounts: Collected<Vec<ServiceAccount>>,
    /// Effective org policies (Org Policy `getEffectivePolicy` already applies inheritance).
    #[serde(default, skip_serializing_if = "Collected::is_not_requested")]
    pub org_policies: Collected<Vec<OrgPolicy>>,
    #[serde(default, skip_serializing_if = "Collected::is_not_requested")]
    pub sinks: Collected<Vec<LogSink>>,
    /// The custom roles defined in the project, deleted ones included.
    #[serde(default, skip_serializing_if = "Collected::is_not_requested")]
    pub custom_roles: Collected<Vec<CustomRole>>,
}

impl GcpProject {
    /// A project none of whose requested datasets could be read, each recording `gap`.
    pub fn unread(id: &str, gap: &Collected<()>, want: &std::collections::BTreeSet<Dataset>) -> Self {
        fn g<T>(gap: &Collected<()>, d: Dataset, want: &std::collections::BTreeSet<Dataset>) -> Collected<T> {
            if want.contains(&d) { gap.gap() } else { Collected::NotRequested }
        }
        GcpProject {
            project_id: id.to_string(),
            name: format!("projects/{id}"),
            parent: None,
            iam_policy: g(gap, Dataset::GcpIamPolicy, want),
            service_accounts: g(gap, Dataset::GcpServiceAccounts, want),
            org_policies: g(gap, Dataset::GcpOrgPolicies, want),
            sinks: g(gap, Dataset::GcpLogging, want),
            custom_roles: g(gap, Dataset::GcpCustomRoles, want),
        }
    }

    fn merge(&mut self, o: GcpProject) -> Result<(), MergeError> {
        let id = self.project_id.clone();
        let GcpProject { project_id: _, name: _, parent, iam_policy, service_accounts, org_policies, sinks, custom_roles } = o;
        if self.parent.is_none() {
            self.parent = parent;
        }
        self.iam_policy.merge(iam_policy, &id, Dataset::GcpIamPolicy)?;
        self.service_accounts.merge(service_accounts, &id, Dataset::GcpServiceAccounts)?;
        self.org_policies.merge(org_policies, &id, Dataset::GcpOrgPolicies)?;
        self.custom_roles.merge(custom_roles, &id, Dataset::GcpCustomRoles)?;
        self.sinks.merge(sinks, &id, Dataset::GcpLogging)
    }
}

/// An allow policy as set on one resource: bindings and audit configs.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct IamPolicy {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bindings: Vec<IamBinding>,
    /// Audit configs set here: service (or `allServices`) → enabled log types.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub audit_configs: Vec<AuditConfig>,
    /// The policy came from the Cloud Asset search, which returns bindings only: its audit
    /// configuration is unknown, not empty.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub audit_configs_unread: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AuditConfig {
    pub service: String,
    /// `ADMIN_READ`, `DATA_READ`, `DATA_WRITE`.
    #[serde(default)]
    pub log_types: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exempted_members: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct IamBinding {
    pub role: String,
    pub members: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition_expression: Option<String>,
}

/// A custom role's definition (IAM `roles.list` with the full view): the permissions it grants.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CustomRole {
    /// `projects/<id>/roles/<role>` or `organizations/<number>/roles/<role>`, as bindings name it.
    pub name: String,
    #[serde(default)]
    pub permissions: Vec<String>,
    /// `GA`, `BETA`, `ALPHA`, `DEPRECATED`, `EAP` or `DISABLED`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
}

impl CustomRole {
    /// The permissions its grants carry today: none when the role is deleted or disabled (its
    /// bindings stay in policies but grant nothing until an administrator restores it).
    pub fn effective_permissions(&self) -> &[String] {
        if self.deleted || self.stage.as_deref().is_some_and(|s| s.eq_ignore_ascii_case("DISABLED")) {
            &[]
        } else {
            &self.permissions
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ServiceAccount {
    pub email: String,
    pub unique_id: String,
    #[serde(default)]
    pub disabled: bool,
    #[serde(default)]
    pub keys: Vec<ServiceAccountKey>,
    /// The service account's own IAM policy: who may act as it (token creator, user, workload
    /// identity user).
    #[serde(default, skip_serializing_if = "Collected::is_not_requested")]
    pub iam_policy: Collected<IamPolicy>,
}

/// A service-account key's metadata (never the private key).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ServiceAccountKey {
    pub name: String,
    /// "USER_MANAGED" or "SYSTEM_MANAGED".
    pub key_type: String,
    /// `GOOGLE_PROVIDED` or `USER_PROVIDED` (uploaded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_origin: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_after: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_before: Option<Timestamp>,
    #[serde(default)]
    pub disabled: bool,
}

/// An effective org policy for one constraint.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OrgPolicy {
    pub constraint: String,
    /// For boolean constraints: whether enforced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enforced: Option<bool>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_values: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub denied_values: Vec<String>,
    /// Conditional rules that loosen the constraint where their condition holds (`enforce: false`,
    /// `allowAll`, extra allowed values), each as "<what> when <CEL condition>": enforcement with
    /// a carve-out is not enforcement everywhere.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditional_exceptions: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LogSink {
    pub name: String,
    pub destination: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    #[serde(default)]
    pub disabled: bool,
    #[serde(default)]
    pub include_children: bool,
    /// The sink's enabled exclusions (their filters): log entries they match are not exported.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclusions: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inv(folder_policy: Collected<IamPolicy>) -> GcpInventory {
        let node = |id: &str, kind, parent: Option<&str>| ScopeNode { id: id.into(), name: None, kind, parent: parent.map(str::to_string), state: None };
        let policy = |role: &str| IamPolicy { bindings: vec![IamBinding { role: role.into(), members: vec!["user:a@example.com".into()], condition_expression: None }], audit_configs: vec![], audit_configs_unread: false };
        GcpInventory {
            organization: None,
            asset_search: Collected::NotRequested,
            hierarchy: Collected::Collected(vec![
                node("organizations/1", super::super::ScopeKind::GcpOrganization, None),
                node("folders/2", super::super::ScopeKind::GcpFolder, Some("organizations/1")),
                node("projects/9", super::super::ScopeKind::GcpProject, Some("folders/2")),
            ]),
            nodes: vec![
                GcpNode { name: "organizations/1".into(), iam_policy: Collected::Collected(policy("roles/owner")), sinks: Collected::NotRequested, custom_roles: Collected::NotRequested },
                GcpNode { name: "folders/2".into(), iam_policy: folder_policy, sinks: Collected::NotRequested, custom_roles: Collected::NotRequested },
            ],
            projects: vec![GcpProject {
                project_id: "p".into(),
                name: "projects/9".into(),
                parent: Some("folders/2".into()),
                iam_policy: Collected::Collected(policy("roles/viewer")),
                service_accounts: Collected::NotRequested,
                org_policies: Collected::NotRequested,
                sinks: Collected::NotRequested,
                custom_roles: Collected::NotRequested,
            }],
            predefined_roles: Collected::NotRequested,
            predefined_roles_omitted: 0,
        }
    }

    #[test]
    fn inherited_bindings_are_computed_and_a_missing_level_is_a_gap() {
        let ok = inv(Collected::Collected(IamPolicy::default()));
        let levels: Vec<&str> = ok.effective_iam(&ok.projects[0]).unwrap().iter().map(|(l, _)| *l).collect();
        assert_eq!(levels, ["projects/9", "folders/2", "organizations/1"]);
        let denied = inv(Collected::Denied { action: "resourcemanager.folders.getIamPolicy".into(), message: None });
        let e = denied.effective_iam(&denied.projects[0]).unwrap_err();
        assert!(e.to_string().contains("resourcemanager.folders.getIamPolicy"), "{e}");
    }

    #[test]
    fn a_level_missing_from_the_tree_is_a_gap_not_the_top() {
        // The folder's policy was read, but the folder is not in the tree: the walk used to end
        // there as if it were the organization, dropping the organization's grants.
        let mut lost = inv(Collected::Collected(IamPolicy::default()));
        if let Collected::Collected(tree) = &mut lost.hierarchy {
            tree.retain(|n| n.id != "folders/2");
        }
        let e = lost.effective_iam(&lost.projects[0]).unwrap_err();
        assert!(e.to_string().contains("folders/2"), "{e}");
        // A folder whose parent link is missing is not the top either.
        let mut orphan = inv(Collected::Collected(IamPolicy::default()));
        if let Collected::Collected(tree) = &mut orphan.hierarchy {
            tree.iter_mut().filter(|n| n.id == "folders/2").for_each(|n| n.parent = None);
        }
        assert!(orphan.effective_iam(&orphan.projects[0]).is_err());
        // A loop is a gap, not a shorter chain.
        let mut cycle = inv(Collected::Collected(IamPolicy::default()));
        if let Collected::Collected(tree) = &mut cycle.hierarchy {
            tree.iter_mut().filter(|n| n.id == "folders/2").for_each(|n| n.parent = Some("folders/2".into()));
        }
        assert!(cycle.effective_iam(&cycle.projects[0]).is_err());
        // The project's own place comes from the tree: absent there, or without a parent link
        // while the tree gives it one, it is not the top either.
        let mut unplaced = inv(Collected::Collected(IamPolicy::default()));
        if let Collected::Collected(tree) = &mut unplaced.hierarchy {
            tree.retain(|n| n.id != "projects/9");
        }
        let (known, gap) = unplaced.effective_iam_known(&unplaced.projects[0]);
        assert_eq!(known.len(), 1, "the project's own policy is still known");
        assert!(gap.is_some());
        let mut no_parent = inv(Collected::Collected(IamPolicy::default()));
        no_parent.projects[0].parent = None;
        let levels: Vec<&str> = no_parent.effective_iam(&no_parent.projects[0]).unwrap().iter().map(|(l, _)| *l).collect();
        assert_eq!(levels, ["projects/9", "folders/2", "organizations/1"], "the tree's parent is used");
        let mut disagree = inv(Collected::Collected(IamPolicy::default()));
        disagree.projects[0].parent = Some("organizations/1".into());
        assert!(disagree.effective_iam(&disagree.projects[0]).is_err());
    }

    #[test]
    fn predefined_roles_unite_across_merges_and_a_gap_stays_a_gap() {
        let role = |n: &str| PredefinedRole { name: n.into(), permissions: vec!["resourcemanager.projects.get".into()], stage: None };
        let part = |roles: Vec<PredefinedRole>, omitted: u32| GcpInventory { predefined_roles: Collected::Collected(roles), predefined_roles_omitted: omitted, ..Default::default() };
        // Two shards of one catalogue of 10 roles, each keeping the ones its bindings name.
        let mut a = part(vec![role("roles/viewer"), role("roles/editor")], 8);
        a.merge(part(vec![role("roles/viewer"), role("roles/owner")], 8)).unwrap();
        let names: Vec<&str> = a.predefined_roles.get().unwrap().iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["roles/editor", "roles/owner", "roles/viewer"]);
        assert_eq!(a.predefined_roles_omitted, 7);
        assert!(a.predefined_role("roles/owner").is_ok());
        assert!(a.predefined_role("roles/iam.roleAdmin").unwrap_err().to_string().contains("roles/iam.roleAdmin"));
        // A shard whose read failed: unknown, never the other shard's shorter list.
        let mut b = part(vec![role("roles/viewer")], 9);
        b.merge(GcpInventory { predefined_roles: Collected::Failed { error: "deadline".into() }, ..Default::default() }).unwrap();
        assert!(b.predefined_roles.get().is_none());
        assert!(b.predefined_role("roles/viewer").is_err());
    }

    #[test]
    fn merge_follows_the_one_rule() {
        let mut a = inv(Collected::NotRequested);
        let mut b = inv(Collected::Collected(IamPolicy::default()));
        b.hierarchy = Collected::NotRequested;
        b.nodes.retain(|n| n.name == "folders/2");
        b.projects[0].iam_policy = Collected::NotRequested;
        a.merge(b).unwrap();
        assert!(a.nodes.iter().all(|n| n.iam_policy.get().is_some()), "a value fills a gap");
        let c = inv(Collected::NotRequested);
        assert!(a.merge(c).is_err(), "two values for one dataset conflict");
    }
}
