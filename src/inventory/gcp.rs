//! GCP part of the inventory: organization → folders → projects, IAM bindings (with conditions),
//! service accounts and their user-managed keys, effective org policies, audit configs and log
//! sinks. Filled by the GCP collector (a later wave); shapes follow Resource Manager v3, IAM v1,
//! Org Policy v2 and Logging v2.

use serde::{Deserialize, Serialize};

use super::{Cloud, Collected, CoverageEntry, Dataset, MergeError, ScopeNode, Timestamp};

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct GcpInventory {
    /// Organization, folders and projects with parent links.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<ScopeNode>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub projects: Vec<GcpProject>,
}

impl GcpInventory {
    pub fn is_empty(&self) -> bool {
        self.scopes.is_empty() && self.projects.is_empty()
    }

    pub(crate) fn coverage(&self, out: &mut Vec<CoverageEntry>) {
        for p in &self.projects {
            for (dataset, state) in [
                (Dataset::GcpIamPolicy, p.iam_policy.state()),
                (Dataset::GcpServiceAccounts, p.service_accounts.state()),
                (Dataset::GcpOrgPolicies, p.org_policies.state()),
                (Dataset::GcpLogging, p.logging.state()),
            ] {
                out.push(CoverageEntry {
                    cloud: Cloud::Gcp,
                    scope: p.project_id.clone(),
                    service: dataset.service().to_string(),
                    dataset,
                    state,
                });
            }
        }
    }

    pub(crate) fn merge(&mut self, other: GcpInventory) -> Result<(), MergeError> {
        self.scopes.extend(other.scopes);
        for p in other.projects {
            if self.projects.iter().any(|m| m.project_id == p.project_id) {
                return Err(MergeError { scope: p.project_id, dataset: Dataset::GcpIamPolicy });
            }
            self.projects.push(p);
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct GcpProject {
    pub project_id: String,
    /// `projects/123456789012`.
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// The project's own IAM policy plus the policies it inherits from folders and the organization.
    #[serde(default, skip_serializing_if = "Collected::is_not_requested")]
    pub iam_policy: Collected<Vec<IamBinding>>,
    #[serde(default, skip_serializing_if = "Collected::is_not_requested")]
    pub service_accounts: Collected<Vec<ServiceAccount>>,
    #[serde(default, skip_serializing_if = "Collected::is_not_requested")]
    pub org_policies: Collected<Vec<OrgPolicy>>,
    #[serde(default, skip_serializing_if = "Collected::is_not_requested")]
    pub logging: Collected<GcpLogging>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct IamBinding {
    /// Where the binding is set: `projects/…`, `folders/…` or `organizations/…`.
    pub resource: String,
    pub role: String,
    pub members: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition_expression: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ServiceAccount {
    pub email: String,
    pub unique_id: String,
    #[serde(default)]
    pub disabled: bool,
    #[serde(default)]
    pub keys: Vec<ServiceAccountKey>,
}

/// A service-account key's metadata (never the private key).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ServiceAccountKey {
    pub name: String,
    /// "USER_MANAGED" or "SYSTEM_MANAGED".
    pub key_type: String,
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

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct GcpLogging {
    /// Effective audit configs (service → enabled log types), inheritance applied.
    #[serde(default)]
    pub audit_configs: Vec<(String, Vec<String>)>,
    #[serde(default)]
    pub sinks: Vec<LogSink>,
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
