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
        self.organization.is_none() && self.hierarchy.is_not_requested() && self.nodes.is_empty() && self.projects.is_empty()
    }

    /// The organizations of the hierarchy (scopes of organization checks).
    pub fn organizations(&self) -> impl Iterator<Item = &ScopeNode> {
        self.hierarchy.get().into_iter().flatten().filter(|n| n.kind == super::ScopeKind::GcpOrganization)
    }

    /// The IAM policies that apply to a project: its own, then each folder and the organization
    /// above it, each with the resource it is set on. `Err` when the hierarchy or any level's
    /// policy was not read: a partial list would hide inherited grants.
    pub fn effective_iam<'a>(&'a self, project: &'a GcpProject) -> Result<Vec<(&'a str, &'a IamPolicy)>, Missing> {
        let mut out = vec![(project.name.as_str(), project.iam_policy.require(Dataset::GcpIamPolicy)?)];
        let tree = self.hierarchy.require(Dataset::GcpHierarchy)?;
        let mut parent = project.parent.clone();
        let mut guard = 0;
        while let Some(p) = parent {
            guard += 1;
            if guard > 64 {
                break; // a malformed snapshot with a parent cycle
            }
            let node = self.nodes.iter().find(|n| n.name == p).ok_or_else(|| Missing {
                dataset: Dataset::GcpIamPolicy,
                state: CoverageState::Partial { missing: format!("no IAM policy was read for {p}, above {}", project.project_id) },
            })?;
            out.push((node.name.as_str(), node.iam_policy.require(Dataset::GcpIamPolicy)?));
            parent = tree.iter().find(|n| n.id == p).and_then(|n| n.parent.clone());
        }
        Ok(out)
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

    pub(crate) fn merge(&mut self, other: GcpInventory) -> Result<(), MergeError> {
        let GcpInventory { organization, hierarchy, asset_search, nodes, projects } = other;
        if self.organization.is_none() {
            self.organization = organization;
        }
        self.hierarchy.merge(hierarchy, "hierarchy", Dataset::GcpHierarchy)?;
        self.asset_search.merge(asset_search, "organization", Dataset::GcpAssetSearch)?;
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
