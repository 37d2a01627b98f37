//! Azure part of the inventory: tenant → management groups → subscriptions, Entra ID principals and
//! their credentials, role assignments, Lighthouse delegations, Azure Policy assignments and
//! subscription diagnostic settings. Filled by the Azure collector (a later wave); the shapes follow
//! the ARM and Microsoft Graph responses they come from.

use serde::{Deserialize, Serialize};

use super::{Cloud, Collected, CoverageEntry, Dataset, MergeError, ScopeNode, Timestamp};

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct AzureInventory {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tenants: Vec<AzureTenant>,
}

impl AzureInventory {
    pub fn is_empty(&self) -> bool {
        self.tenants.is_empty()
    }

    pub(crate) fn coverage(&self, out: &mut Vec<CoverageEntry>) {
        for t in &self.tenants {
            entry(out, &t.tenant_id, Dataset::AzureDirectory, &t.directory);
            for s in &t.subscriptions {
                let id = &s.subscription_id;
                entry(out, id, Dataset::AzureRoleAssignments, &s.role_assignments);
                entry(out, id, Dataset::AzurePolicyAssignments, &s.policy_assignments);
                entry(out, id, Dataset::AzureDiagnosticSettings, &s.diagnostic_settings);
                entry(out, id, Dataset::AzureLighthouse, &s.lighthouse);
            }
        }
    }

    pub(crate) fn merge(&mut self, other: AzureInventory) -> Result<(), MergeError> {
        for t in other.tenants {
            match self.tenants.iter_mut().find(|m| m.tenant_id == t.tenant_id) {
                Some(_) => {
                    return Err(MergeError { scope: t.tenant_id, dataset: Dataset::AzureDirectory })
                }
                None => self.tenants.push(t),
            }
        }
        Ok(())
    }
}

fn entry<T>(out: &mut Vec<CoverageEntry>, scope: &str, dataset: Dataset, c: &Collected<T>) {
    out.push(CoverageEntry {
        cloud: Cloud::Azure,
        scope: scope.to_string(),
        service: dataset.service().to_string(),
        dataset,
        state: c.state(),
    });
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AzureTenant {
    pub tenant_id: String,
    /// Management groups and subscriptions, with parent links.
    #[serde(default)]
    pub scopes: Vec<ScopeNode>,
    #[serde(default, skip_serializing_if = "Collected::is_not_requested")]
    pub directory: Collected<EntraDirectory>,
    #[serde(default)]
    pub subscriptions: Vec<AzureSubscription>,
}

/// Entra ID objects read from Microsoft Graph.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct EntraDirectory {
    #[serde(default)]
    pub users: Vec<EntraUser>,
    /// Applications and service principals both carry credentials; `kind` tells them apart.
    #[serde(default)]
    pub service_principals: Vec<EntraServicePrincipal>,
    /// Directory role assignments (Global Administrator, …): principal id → role template id.
    #[serde(default)]
    pub directory_role_assignments: Vec<DirectoryRoleAssignment>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EntraUser {
    pub id: String,
    pub user_principal_name: String,
    #[serde(default)]
    pub account_enabled: bool,
    /// "Member" or "Guest".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_sign_in: Option<Timestamp>,
    /// From the authentication-methods registration report; `None` when that report was not read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mfa_registered: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EntraServicePrincipal {
    /// Object id (of the application or the service principal).
    pub id: String,
    pub app_id: String,
    pub display_name: String,
    /// "application", "service_principal" or "managed_identity".
    pub kind: String,
    #[serde(default)]
    pub credentials: Vec<AzureCredential>,
}

/// A client secret (`passwordCredentials`) or certificate (`keyCredentials`). The secret value is
/// never read or kept; only its metadata.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AzureCredential {
    pub key_id: String,
    /// "secret" or "certificate".
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<Timestamp>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DirectoryRoleAssignment {
    pub principal_id: String,
    pub role_definition_id: String,
    #[serde(default = "tenant_root")]
    pub directory_scope_id: String,
}

fn tenant_root() -> String {
    "/".to_string()
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AzureSubscription {
    pub subscription_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Collected::is_not_requested")]
    pub role_assignments: Collected<Vec<AzureRoleAssignment>>,
    #[serde(default, skip_serializing_if = "Collected::is_not_requested")]
    pub policy_assignments: Collected<Vec<AzurePolicyAssignment>>,
    #[serde(default, skip_serializing_if = "Collected::is_not_requested")]
    pub diagnostic_settings: Collected<Vec<DiagnosticSetting>>,
    #[serde(default, skip_serializing_if = "Collected::is_not_requested")]
    pub lighthouse: Collected<Vec<LighthouseDelegation>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AzureRoleAssignment {
    pub id: String,
    pub scope: String,
    pub role_definition_id: String,
    pub principal_id: String,
    /// "User", "Group", "ServicePrincipal", "ForeignGroup", "Device".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal_type: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AzurePolicyAssignment {
    pub id: String,
    pub scope: String,
    pub policy_definition_id: String,
    /// "Default" or "DoNotEnforce".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enforcement_mode: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DiagnosticSetting {
    pub id: String,
    pub name: String,
    /// Log categories (Administrative, Security, Policy, …) that are enabled.
    #[serde(default)]
    pub enabled_categories: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_account_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_hub_authorization_rule_id: Option<String>,
}

/// An Azure Lighthouse registration assignment: another tenant managing this subscription.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LighthouseDelegation {
    pub id: String,
    pub managed_by_tenant_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managed_by_tenant_name: Option<String>,
    /// (principal id, role definition id) pairs granted to the managing tenant.
    #[serde(default)]
    pub authorizations: Vec<(String, String)>,
}
