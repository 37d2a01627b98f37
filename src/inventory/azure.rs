//! Azure part of the inventory: tenant → management groups → subscriptions, Entra ID principals and
//! their credentials, role assignments, Lighthouse delegations, Azure Policy assignments and
//! subscription diagnostic settings. Filled by the Azure collector (a later wave); the shapes follow
//! the ARM and Microsoft Graph responses they come from.
//!
//! Entra is split into one dataset per Graph permission (users, registration details,
//! applications, service principals, directory roles), so a tenant that grants some of them is
//! evaluated for what it grants and reported as a gap for the rest. The scope tree is `Collected`
//! too: a failed management-group read is not an empty tree.

use serde::{Deserialize, Serialize};

use super::{merge_keyed, Cloud, Collected, CoverageEntry, Dataset, MergeError, ScopeNode, Timestamp};

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
            let AzureTenant { tenant_id, scopes, users, registration_details, applications, service_principals, directory_roles, subscriptions } = t;
            entry(out, tenant_id, Dataset::AzureScopes, scopes);
            entry(out, tenant_id, Dataset::AzureUsers, users);
            entry(out, tenant_id, Dataset::AzureRegistrationDetails, registration_details);
            entry(out, tenant_id, Dataset::AzureApplications, applications);
            entry(out, tenant_id, Dataset::AzureServicePrincipals, service_principals);
            entry(out, tenant_id, Dataset::AzureDirectoryRoles, directory_roles);
            for s in subscriptions {
                let AzureSubscription { subscription_id: id, display_name: _, state: _, role_assignments, policy_assignments, diagnostic_settings, lighthouse } = s;
                entry(out, id, Dataset::AzureRoleAssignments, role_assignments);
                entry(out, id, Dataset::AzurePolicyAssignments, policy_assignments);
                entry(out, id, Dataset::AzureDiagnosticSettings, diagnostic_settings);
                entry(out, id, Dataset::AzureLighthouse, lighthouse);
            }
        }
    }

    /// The merge rule of every cloud: scopes matched by id, each dataset merged on its own (a
    /// value wins over a gap; two values for one dataset conflict).
    pub(crate) fn merge(&mut self, other: AzureInventory) -> Result<(), MergeError> {
        merge_keyed(&mut self.tenants, other.tenants, |t| t.tenant_id.clone(), AzureTenant::merge)
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
    #[serde(default, skip_serializing_if = "Collected::is_not_requested")]
    pub scopes: Collected<Vec<ScopeNode>>,
    /// Graph `User.Read.All`.
    #[serde(default, skip_serializing_if = "Collected::is_not_requested")]
    pub users: Collected<Vec<EntraUser>>,
    /// Graph `AuditLog.Read.All` (`userRegistrationDetails`): who registered which MFA methods.
    #[serde(default, skip_serializing_if = "Collected::is_not_requested")]
    pub registration_details: Collected<Vec<RegistrationDetail>>,
    /// Graph `Application.Read.All`: app registrations and their credentials.
    #[serde(default, skip_serializing_if = "Collected::is_not_requested")]
    pub applications: Collected<Vec<EntraServicePrincipal>>,
    /// Graph `Application.Read.All`: service principals and managed identities.
    #[serde(default, skip_serializing_if = "Collected::is_not_requested")]
    pub service_principals: Collected<Vec<EntraServicePrincipal>>,
    /// Graph `RoleManagement.Read.Directory`: Global Administrator and the other directory roles.
    #[serde(default, skip_serializing_if = "Collected::is_not_requested")]
    pub directory_roles: Collected<Vec<DirectoryRoleAssignment>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subscriptions: Vec<AzureSubscription>,
}

impl AzureTenant {
    pub fn new(tenant_id: impl Into<String>) -> Self {
        AzureTenant {
            tenant_id: tenant_id.into(),
            scopes: Collected::NotRequested,
            users: Collected::NotRequested,
            registration_details: Collected::NotRequested,
            applications: Collected::NotRequested,
            service_principals: Collected::NotRequested,
            directory_roles: Collected::NotRequested,
            subscriptions: Vec::new(),
        }
    }

    fn merge(&mut self, o: AzureTenant) -> Result<(), MergeError> {
        let id = self.tenant_id.clone();
        let AzureTenant { tenant_id: _, scopes, users, registration_details, applications, service_principals, directory_roles, subscriptions } = o;
        self.scopes.merge(scopes, &id, Dataset::AzureScopes)?;
        self.users.merge(users, &id, Dataset::AzureUsers)?;
        self.registration_details.merge(registration_details, &id, Dataset::AzureRegistrationDetails)?;
        self.applications.merge(applications, &id, Dataset::AzureApplications)?;
        self.service_principals.merge(service_principals, &id, Dataset::AzureServicePrincipals)?;
        self.directory_roles.merge(directory_roles, &id, Dataset::AzureDirectoryRoles)?;
        merge_keyed(&mut self.subscriptions, subscriptions, |s| s.subscription_id.clone(), AzureSubscription::merge)
    }
}

/// One user's registered authentication methods (`userRegistrationDetails`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RegistrationDetail {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_principal_name: Option<String>,
    #[serde(default)]
    pub is_mfa_registered: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub methods_registered: Vec<String>,
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

impl AzureSubscription {
    fn merge(&mut self, o: AzureSubscription) -> Result<(), MergeError> {
        let id = self.subscription_id.clone();
        let AzureSubscription { subscription_id: _, display_name, state, role_assignments, policy_assignments, diagnostic_settings, lighthouse } = o;
        if self.display_name.is_none() {
            self.display_name = display_name;
        }
        if self.state.is_none() {
            self.state = state;
        }
        self.role_assignments.merge(role_assignments, &id, Dataset::AzureRoleAssignments)?;
        self.policy_assignments.merge(policy_assignments, &id, Dataset::AzurePolicyAssignments)?;
        self.diagnostic_settings.merge(diagnostic_settings, &id, Dataset::AzureDiagnosticSettings)?;
        self.lighthouse.merge(lighthouse, &id, Dataset::AzureLighthouse)
    }
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
