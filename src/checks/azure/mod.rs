//! Azure checks: one file per check; shared knowledge of roles and principals here.
//!
//! Privilege is judged from role ids, which are the same in every tenant for built-in roles (the
//! names can be localised or duplicated by custom roles), and from the actions of custom roles.
//! A role given to a group is held by each of the group's members; a principal the inventory
//! cannot resolve is `not_evaluated`, never assumed harmless.

pub mod azure_entra_app_credential_lifetime_limited;
pub mod azure_entra_privileged_role_holder_recently_active;
pub mod azure_entra_privileged_role_mfa_registered;
pub mod azure_entra_user_mfa_registered;
pub mod azure_lighthouse_delegation_restricted;
pub mod azure_monitor_activity_log_exported;
pub mod azure_rbac_custom_role_no_wildcard;
pub mod azure_rbac_guest_privileged_role_absent;
pub mod azure_rbac_principal_privilege_escalation;
pub mod azure_rbac_subscription_owner_count_limited;

use std::collections::BTreeMap;

use crate::finding::Resource;
use crate::inventory::azure::{
    role_guid, AzureRoleAssignment, AzureRoleDefinition, AzureSubscription, AzureTenant, DirectoryRoleAssignment, EntraUser,
};
use crate::inventory::{Dataset, Missing};

/// Built-in directory roles that can take over the tenant or its identities (template ids).
pub const PRIVILEGED_DIRECTORY_ROLES: &[(&str, &str)] = &[
    ("62e90394-69f5-4237-9190-012177145e10", "Global Administrator"),
    ("e8611ab8-c189-46e8-94e1-60213ab1f814", "Privileged Role Administrator"),
    ("7be44c8a-adaf-4e2a-84d6-ab2649e08a13", "Privileged Authentication Administrator"),
    ("194ae4cb-b126-40b2-bd5b-6091b380977d", "Security Administrator"),
    ("9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3", "Application Administrator"),
    ("158c047a-c907-4556-b7ef-446551a6b5f7", "Cloud Application Administrator"),
    ("fe930be7-5e62-47db-91af-98c3a49a38b1", "User Administrator"),
    ("c4e39bd9-1100-46d3-8c65-fb160da0071f", "Authentication Administrator"),
    ("b1be1c3e-b65d-4f19-8427-f6fa0d97feb9", "Conditional Access Administrator"),
    ("8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2", "Hybrid Identity Administrator"),
    ("729827e3-9c14-49f7-bb1b-9608f156bbb8", "Helpdesk Administrator"),
    ("29232cdf-9323-42fd-ade2-1d097af3e4de", "Exchange Administrator"),
    ("f28a1f50-f6e7-4571-818b-6a12f2af6b6c", "SharePoint Administrator"),
    ("3a2c62db-5318-420d-8d74-23affee5d9d5", "Intune Administrator"),
    ("e00e864a-17c5-4a4b-9c06-f5b95a8d5bd8", "Partner Tier2 Support"),
];

pub const OWNER: &str = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635";
pub const CONTRIBUTOR: &str = "b24988ac-6180-42a0-ab88-20f7382dd24c";
pub const USER_ACCESS_ADMINISTRATOR: &str = "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9";
pub const RBAC_ADMINISTRATOR: &str = "f58310d9-a9f6-439a-9e8d-f62e7b41a168";

/// Built-in Azure roles that control the subscription or who has access to it.
pub const PRIVILEGED_AZURE_ROLES: &[(&str, &str)] = &[
    (OWNER, "Owner"),
    (CONTRIBUTOR, "Contributor"),
    (USER_ACCESS_ADMINISTRATOR, "User Access Administrator"),
    (RBAC_ADMINISTRATOR, "Role Based Access Control Administrator"),
];

pub fn directory_role_name(template: &str) -> Option<&'static str> {
    PRIVILEGED_DIRECTORY_ROLES.iter().find(|(id, _)| id.eq_ignore_ascii_case(template)).map(|(_, n)| *n)
}

/// Is this Azure role privileged, and what is it called? Built-in privileged roles by id; a
/// custom role when its actions include `*` or writing role assignments.
pub fn azure_role_privilege(guid: &str, definitions: Option<&[AzureRoleDefinition]>) -> Option<String> {
    let guid = guid.to_ascii_lowercase();
    if let Some((_, n)) = PRIVILEGED_AZURE_ROLES.iter().find(|(id, _)| *id == guid) {
        return Some((*n).to_string());
    }
    let d = definitions?.iter().find(|d| role_guid(&d.id) == guid && d.is_custom())?;
    custom_role_is_privileged(d).then(|| d.role_name.clone())
}

/// Actions that make a role an administrator: everything (`*`, whatever it leaves out), or
/// writing role assignments (granting any role to anyone) that `notActions` does not take back.
pub fn custom_role_is_privileged(d: &AzureRoleDefinition) -> bool {
    const GRANT: &str = "Microsoft.Authorization/roleAssignments/write";
    d.actions.iter().any(|a| a.trim() == "*") || d.grants(GRANT)
}

/// Does an assignment at `scope` apply to the whole subscription (it, a management group above
/// it, or the tenant root)? Resource-group and resource assignments do not.
pub fn at_subscription_or_above(scope: &str, sub: &AzureSubscription) -> bool {
    let s = scope.trim_end_matches('/').to_ascii_lowercase();
    s.is_empty() || s.starts_with("/providers/microsoft.management/managementgroups/") || s == sub.scope().to_ascii_lowercase()
}

/// A user principal, as the findings show it.
pub fn user_resource(u: &EntraUser) -> Resource<'_> {
    Resource { id: u.id.as_str().into(), name: u.user_principal_name.as_str().into(), kind: "azure_entra_user" }
}

/// A principal known only by id.
pub fn principal_resource<'a>(id: &'a str, name: Option<&'a str>) -> Resource<'a> {
    Resource { id: id.into(), name: name.unwrap_or(id).into(), kind: "azure_entra_principal" }
}

/// One person who holds a role, with the path they hold it by.
pub struct Holder<'a> {
    pub user: &'a EntraUser,
    /// The group the role was given to, when it came through one.
    pub via_group: Option<&'a str>,
}

/// What a role assignment's principal resolves to.
pub enum Resolved<'a> {
    Users(Vec<Holder<'a>>),
    /// A service principal, managed identity or other non-person.
    NotAPerson,
    /// Cannot tell: the reason (group members not read, principal not in the directory read).
    Unknown(String),
}

/// Resolve a principal to the users that hold its roles.
pub struct Directory<'a> {
    users: BTreeMap<&'a str, &'a EntraUser>,
    groups: Option<BTreeMap<&'a str, &'a [String]>>,
    groups_missing: Option<Missing>,
    service_principals: Option<std::collections::BTreeSet<&'a str>>,
}

impl<'a> Directory<'a> {
    pub fn new(t: &'a AzureTenant) -> Result<Self, Missing> {
        let users = t.users.require(Dataset::AzureUsers)?.iter().map(|u| (u.id.as_str(), u)).collect();
        let (groups, groups_missing) = match t.group_members.require(Dataset::AzureGroupMembers) {
            Ok(g) => (Some(g.iter().map(|g| (g.group_id.as_str(), g.user_ids.as_slice())).collect()), None),
            Err(m) => (None, Some(m)),
        };
        let service_principals = t.service_principals.get().map(|v| v.iter().map(|s| s.id.as_str()).collect());
        Ok(Directory { users, groups, groups_missing, service_principals })
    }

    pub fn user(&self, id: &str) -> Option<&'a EntraUser> {
        self.users.get(id).copied()
    }

    /// `kind` is the principal type the assignment gave, if any (`User`, `Group`, `user`, …).
    pub fn resolve(&self, id: &'a str, kind: Option<&str>) -> Resolved<'a> {
        let kind = kind.map(|k| k.to_ascii_lowercase());
        if let Some(u) = self.users.get(id) {
            return Resolved::Users(vec![Holder { user: u, via_group: None }]);
        }
        match kind.as_deref() {
            Some("serviceprincipal" | "device" | "msi") => return Resolved::NotAPerson,
            Some("user") => return Resolved::Unknown(format!("user {id} is not in the directory that was read (deleted, or from another tenant)")),
            Some("foreigngroup") => return Resolved::Unknown(format!("{id} is a group from another tenant; its members cannot be read from here")),
            _ => {}
        }
        if let Some(groups) = &self.groups {
            if let Some(members) = groups.get(id) {
                return Resolved::Users(
                    members.iter().filter_map(|m| self.users.get(m.as_str())).map(|u| Holder { user: u, via_group: Some(id) }).collect(),
                );
            }
        }
        if self.service_principals.as_ref().is_some_and(|s| s.contains(id)) {
            return Resolved::NotAPerson;
        }
        if kind.as_deref() == Some("group") {
            let why = match &self.groups_missing {
                Some(m) => format!("the members of group {id} are unknown: {m}"),
                None => format!("the members of group {id} were not read"),
            };
            return Resolved::Unknown(why);
        }
        Resolved::Unknown(format!("principal {id} is not a user, group or service principal the scan read"))
    }
}

/// Active and eligible directory role assignments for privileged roles; a gap in either list is
/// returned beside the assignments that could be read.
pub fn privileged_directory_assignments(t: &AzureTenant) -> Result<(Vec<(&DirectoryRoleAssignment, bool)>, Option<Missing>), Missing> {
    let active = t.directory_roles.require(Dataset::AzureDirectoryRoles)?;
    let mut out: Vec<(&DirectoryRoleAssignment, bool)> =
        active.iter().filter(|a| directory_role_name(&a.role_definition_id).is_some()).map(|a| (a, false)).collect();
    let gap = match t.directory_role_eligibility.require(Dataset::AzureDirectoryRoleEligibility) {
        Ok(e) => {
            out.extend(e.iter().filter(|a| directory_role_name(&a.role_definition_id).is_some()).map(|a| (a, true)));
            None
        }
        Err(m) => Some(m),
    };
    Ok((out, gap))
}

/// Active and eligible Azure role assignments of a subscription, each with whether it is eligible.
pub fn subscription_assignments(sub: &AzureSubscription) -> Result<(Vec<(&AzureRoleAssignment, bool)>, Option<Missing>), Missing> {
    let active = sub.role_assignments.require(Dataset::AzureRoleAssignments)?;
    let mut out: Vec<(&AzureRoleAssignment, bool)> = active.iter().map(|a| (a, false)).collect();
    let gap = match sub.role_eligibility.require(Dataset::AzureRoleEligibility) {
        Ok(e) => {
            out.extend(e.iter().map(|a| (a, true)));
            None
        }
        Err(m) => Some(m),
    };
    Ok((out, gap))
}

/// One person's hold on a privileged directory role.
pub struct RoleHold<'a> {
    pub user: &'a EntraUser,
    /// The role, and for Azure roles where it is held ("Owner of contoso-prod").
    pub role: String,
    pub eligible: bool,
    pub via_group: Option<&'a str>,
}

impl RoleHold<'_> {
    /// "holds Global Administrator through group …", "is eligible for …".
    pub fn describe(&self) -> String {
        let via = self.via_group.map(|g| format!(" through group {g}")).unwrap_or_default();
        format!("{} {} {}{via}", self.user.user_principal_name, how(self.eligible), self.role)
    }
}

/// Everyone who holds a privileged directory role, actively or as eligible, directly or through a
/// group, active holds first; disabled accounts are left out (they cannot sign in). A principal
/// that cannot be resolved to people becomes a `not_evaluated` finding, and so does an unreadable
/// list of eligible assignments (on the tenant), while the rest is still judged.
pub fn privileged_directory_holders<'a>(t: &'a AzureTenant, cx: &mut crate::checks::Cx<'_, 'a>) -> Result<Vec<RoleHold<'a>>, Missing> {
    let (mut assignments, gap) = privileged_directory_assignments(t)?;
    let dir = Directory::new(t)?;
    assignments.sort_by_key(|(_, eligible)| *eligible);
    let mut out = Vec::new();
    for (a, eligible) in assignments {
        let role = directory_role_name(&a.role_definition_id).unwrap_or("a privileged role");
        match dir.resolve(&a.principal_id, a.principal_type.as_deref()) {
            Resolved::NotAPerson => {}
            Resolved::Unknown(why) => {
                cx.not_evaluated(principal_resource(&a.principal_id, a.principal_name.as_deref()), format!("{} {role}: {why}", how(eligible)));
            }
            Resolved::Users(holders) => out.extend(
                holders
                    .into_iter()
                    .filter(|h| h.user.account_enabled != Some(false))
                    // The group by its name when the assignment carried one.
                    .map(|h| RoleHold { user: h.user, role: role.to_string(), eligible, via_group: h.via_group.map(|g| a.principal_name.as_deref().unwrap_or(g)) }),
            ),
        }
    }
    if let Some(m) = gap {
        cx.missing(crate::checks::scope_resource(crate::checks::ScopeKind::AzureTenant, &t.tenant_id), &m);
    }
    Ok(out)
}

/// Everyone who holds a privileged Azure role (Owner, Contributor, User Access Administrator,
/// RBAC Administrator, or a custom role as strong) over a whole subscription, actively or as
/// eligible, directly or through a group. Subscriptions whose assignments cannot be read, and
/// principals that cannot be resolved, become `not_evaluated` findings.
pub fn privileged_subscription_holders<'a>(t: &'a AzureTenant, cx: &mut crate::checks::Cx<'_, 'a>) -> Result<Vec<RoleHold<'a>>, Missing> {
    let dir = Directory::new(t)?;
    let mut out = Vec::new();
    for sub in &t.subscriptions {
        let name = sub.display_name.as_deref().unwrap_or(&sub.subscription_id);
        let (assignments, gap) = match subscription_assignments(sub) {
            Ok(v) => v,
            Err(m) => {
                cx.missing(azure_rbac_guest_privileged_role_absent::subscription_resource(sub), &m);
                continue;
            }
        };
        if let Some(m) = gap {
            cx.missing(azure_rbac_guest_privileged_role_absent::subscription_resource(sub), &m);
        }
        let defs = sub.role_definitions.get().map(Vec::as_slice);
        for (a, eligible) in assignments.into_iter().filter(|(a, _)| at_subscription_or_above(&a.scope, sub)) {
            let Some(role) = azure_role_privilege(&a.role_guid(), defs) else { continue };
            match dir.resolve(&a.principal_id, a.principal_type.as_deref()) {
                Resolved::NotAPerson => {}
                Resolved::Unknown(why) => {
                    cx.not_evaluated(principal_resource(&a.principal_id, None), format!("{} {role} of {name}: {why}", how(eligible)));
                }
                Resolved::Users(holders) => out.extend(
                    holders
                        .into_iter()
                        .filter(|h| h.user.account_enabled != Some(false))
                        .map(|h| RoleHold { user: h.user, role: format!("{role} of {name}"), eligible, via_group: h.via_group }),
                ),
            }
        }
    }
    Ok(out)
}

pub fn how(eligible: bool) -> &'static str {
    if eligible {
        "is eligible for"
    } else {
        "holds"
    }
}
