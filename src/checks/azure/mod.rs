//! Azure checks: one file per check; shared knowledge of roles and principals here.
//!
//! Azure RBAC privilege comes from the role definitions' permissions, through one model
//! ([`crate::reach::azure`]); no check keeps a list of privileged Azure roles.
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
    AzureRoleAssignment, AzureSubscription, AzureTenant, DirectoryRoleAssignment, EntraServicePrincipal, EntraUser,
    GroupMembers,
};
use crate::inventory::{Collected, Dataset, Missing};
use crate::policy::azure_condition::Truth;
use crate::reach::azure::{Asker, AzureRbac};
use crate::reach::entra::{EntraRoles, Source, Verdict};

/// What an Azure role assignment's role lets its holder do, from the Azure RBAC model
/// ([`crate::reach::azure`]): `Ok(None)` when nothing privileged; `Ok(Some((label, decided)))`
/// with the role's name (from its definition) and what it can do, `decided` false when only an
/// undecidable condition stands between the holder and a privileged role; `Err` naming the role
/// when its definition was not read.
pub fn azure_privilege(rbac: &AzureRbac<'_>, a: &AzureRoleAssignment) -> Result<Option<(String, bool)>, Missing> {
    let asker = Asker { id: &a.principal_id, kind: a.principal_type.as_deref(), controls: &[] };
    let g = rbac.grant(&a.role_definition_id, &a.scope, a.condition.as_deref(), asker)?;
    Ok(match g.privileged() {
        Truth::False => None,
        Truth::True => Some((format!("{} (which {})", g.role.name(), g.summary(Truth::True)), true)),
        Truth::Unknown => Some((format!("{} (which {} if its condition allows)", g.role.name(), g.summary(Truth::Unknown)), false)),
    })
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

/// What a role assignment's principal resolves to, for checks about people.
pub enum Resolved<'a> {
    Users(Vec<Holder<'a>>),
    /// A service principal, managed identity or other non-person.
    NotAPerson,
    /// Cannot tell: the reason (group members not read, principal not in the directory read).
    Unknown(String),
}

/// A principal that holds a role: a user or a service principal (managed identities included).
#[derive(Clone, Copy)]
pub enum Member<'a> {
    User(&'a EntraUser),
    ServicePrincipal(&'a EntraServicePrincipal),
}

/// One principal's hold on a role, directly or through a group.
pub struct MemberHold<'a> {
    pub member: Member<'a>,
    /// The group the role was given to, when it came through one.
    pub via_group: Option<&'a str>,
    /// Holds it only on activating a PIM for Groups eligibility for that group.
    pub eligible_in_group: bool,
}

/// Everyone a role assignment's principal stands for: every member type of a group (users and
/// service principals) and those eligible for the group through PIM for Groups.
#[derive(Default)]
pub struct Resolution<'a> {
    pub holders: Vec<MemberHold<'a>>,
    /// Principals that may hold the role but cannot be told apart (not in the directory read, a
    /// group's eligibility not read, …): one reason each. A check about people reports these.
    pub unknown: Vec<String>,
    /// What is unknown only about non-people (a service principal not in the list read, a
    /// group whose non-user members were not read): a check about outside identities reports
    /// these too.
    pub non_users_unknown: Vec<String>,
}

/// Resolve a principal to the users and service principals that hold its roles.
pub struct Directory<'a> {
    tenant_id: &'a str,
    users: BTreeMap<&'a str, &'a EntraUser>,
    groups: Option<BTreeMap<&'a str, &'a GroupMembers>>,
    groups_missing: Option<Missing>,
    service_principals: Option<BTreeMap<&'a str, &'a EntraServicePrincipal>>,
    service_principals_missing: Option<Missing>,
}

/// Whether a service principal is of another tenant (its application's `appOwnerOrganizationId`
/// is not this tenant): `None` when the owner was not given. Managed identities are this
/// tenant's own (Azure makes them for this tenant's resources).
pub fn service_principal_outside(sp: &EntraServicePrincipal, tenant_id: &str) -> Option<bool> {
    if sp.kind.eq_ignore_ascii_case("managed_identity") {
        return Some(false);
    }
    sp.owner_tenant_id.as_deref().map(|o| !o.trim().eq_ignore_ascii_case(tenant_id.trim()))
}

impl<'a> Directory<'a> {
    pub fn new(t: &'a AzureTenant) -> Result<Self, Missing> {
        let users = t.users.require(Dataset::AzureUsers)?.iter().map(|u| (u.id.as_str(), u)).collect();
        let (groups, groups_missing) = match t.group_members.require(Dataset::AzureGroupMembers) {
            Ok(g) => (Some(g.iter().map(|g| (g.group_id.as_str(), g)).collect()), None),
            Err(m) => (None, Some(m)),
        };
        let (service_principals, service_principals_missing) = match t.service_principals.require(Dataset::AzureServicePrincipals) {
            Ok(v) => (Some(v.iter().map(|s| (s.id.as_str(), s)).collect()), None),
            Err(m) => (None, Some(m)),
        };
        Ok(Directory { tenant_id: &t.tenant_id, users, groups, groups_missing, service_principals, service_principals_missing })
    }

    pub fn user(&self, id: &str) -> Option<&'a EntraUser> {
        self.users.get(id).copied()
    }

    pub fn tenant_id(&self) -> &'a str {
        self.tenant_id
    }

    fn service_principal(&self, id: &str) -> Option<&'a EntraServicePrincipal> {
        self.service_principals.as_ref()?.get(id).copied()
    }

    fn sp_unknown(&self, id: &str) -> String {
        match &self.service_principals_missing {
            Some(m) => format!("service principal {id} cannot be told apart: {m}"),
            None => format!("service principal {id} is not among the service principals read"),
        }
    }

    /// For checks about people: the users that hold the principal's roles (actively; a gap, such
    /// as a group's PIM eligibility not read, makes it `Unknown`). `kind` is the principal type
    /// the assignment gave, if any (`User`, `Group`, `user`, …).
    pub fn resolve(&self, id: &'a str, kind: Option<&str>) -> Resolved<'a> {
        let r = self.resolve_all(id, kind);
        if !r.unknown.is_empty() {
            return Resolved::Unknown(r.unknown.join("; "));
        }
        let is_group = self.groups.as_ref().is_some_and(|g| g.contains_key(id));
        let users: Vec<Holder<'a>> = r
            .holders
            .iter()
            .filter(|h| !h.eligible_in_group)
            .filter_map(|h| match h.member {
                Member::User(u) => Some(Holder { user: u, via_group: h.via_group }),
                Member::ServicePrincipal(_) => None,
            })
            .collect();
        if users.is_empty() && !is_group {
            return Resolved::NotAPerson;
        }
        Resolved::Users(users)
    }

    /// Everyone the principal stands for: itself, or every member of a group (users, service
    /// principals) and every principal eligible for the group; what cannot be told is named.
    pub fn resolve_all(&self, id: &'a str, kind: Option<&str>) -> Resolution<'a> {
        let mut r = Resolution::default();
        let kind = kind.map(|k| k.to_ascii_lowercase());
        if let Some(u) = self.users.get(id) {
            r.holders.push(MemberHold { member: Member::User(u), via_group: None, eligible_in_group: false });
            return r;
        }
        if let Some(sp) = self.service_principal(id) {
            r.holders.push(MemberHold { member: Member::ServicePrincipal(sp), via_group: None, eligible_in_group: false });
            return r;
        }
        match kind.as_deref() {
            Some("serviceprincipal" | "msi") => {
                r.non_users_unknown.push(self.sp_unknown(id));
                return r;
            }
            Some("device") => return r,
            Some("user") => {
                r.unknown.push(format!("user {id} is not in the directory that was read (deleted, or from another tenant)"));
                return r;
            }
            Some("foreigngroup") => {
                r.unknown.push(format!("{id} is a group from another tenant; its members cannot be read from here"));
                return r;
            }
            _ => {}
        }
        if let Some(g) = self.groups.as_ref().and_then(|g| g.get(id)) {
            self.expand_group(id, g, &mut r);
            return r;
        }
        if kind.as_deref() == Some("group") {
            r.unknown.push(match &self.groups_missing {
                Some(m) => format!("the members of group {id} are unknown: {m}"),
                None => format!("the members of group {id} were not read"),
            });
            return r;
        }
        r.unknown.push(format!("principal {id} is not a user, group or service principal the scan read"));
        r
    }

    fn expand_group(&self, gid: &'a str, g: &'a GroupMembers, r: &mut Resolution<'a>) {
        let add = |r: &mut Resolution<'a>, mid: &str, kind: &str, eligible: bool| {
            let what = if eligible { "eligible for" } else { "a member of" };
            if let Some(u) = self.users.get(mid) {
                r.holders.push(MemberHold { member: Member::User(u), via_group: Some(gid), eligible_in_group: eligible });
            } else if let Some(sp) = self.service_principal(mid) {
                r.holders.push(MemberHold { member: Member::ServicePrincipal(sp), via_group: Some(gid), eligible_in_group: eligible });
            } else if kind.eq_ignore_ascii_case("user") {
                r.unknown.push(format!("user {mid}, {what} group {gid}, is not in the directory that was read"));
            } else if kind.eq_ignore_ascii_case("servicePrincipal") {
                r.non_users_unknown.push(format!("{}, {what} group {gid}", self.sp_unknown(mid)));
            } else if eligible {
                // PIM for Groups does not say what the principal is.
                r.unknown.push(format!("principal {mid}, {what} group {gid}, is not a user or service principal the scan read"));
            }
            // Nested groups are flattened by `transitiveMembers`; devices and contacts hold nothing.
        };
        for m in g.all_members() {
            add(r, &m.id, &m.kind, false);
        }
        if g.members.is_none() {
            r.non_users_unknown.push(format!("only the user members of group {gid} were read; its service principals are unknown"));
        }
        match &g.eligible {
            Collected::Collected(v) => {
                for e in v {
                    add(r, &e.id, &e.kind, true);
                }
            }
            other => {
                let why = other.require(Dataset::AzureGroupMembers).err().map(|m| m.to_string()).unwrap_or_default();
                r.unknown.push(format!("who is eligible for group {gid} through PIM for Groups was not read ({why})"));
            }
        }
    }
}

/// Active and eligible directory role assignments, each with whether it is eligible; a gap in
/// the eligible list is returned beside them.
pub fn directory_assignments(t: &AzureTenant) -> Result<(Vec<(&DirectoryRoleAssignment, bool)>, Option<Missing>), Missing> {
    let active = t.directory_roles.require(Dataset::AzureDirectoryRoles)?;
    let mut out: Vec<(&DirectoryRoleAssignment, bool)> = active.iter().map(|a| (a, false)).collect();
    let gap = match t.directory_role_eligibility.require(Dataset::AzureDirectoryRoleEligibility) {
        Ok(e) => {
            out.extend(e.iter().map(|a| (a, true)));
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
    /// Where the role's privilege was decided (for evidence): `isPrivileged`, the published list
    /// fallback, a custom role's permissions, or the Azure RBAC model.
    pub privilege_source: &'static str,
}

impl RoleHold<'_> {
    /// "holds Global Administrator through group …", "is eligible for …".
    pub fn describe(&self) -> String {
        let via = self.via_group.map(|g| format!(" through group {g}")).unwrap_or_default();
        format!("{} {} {}{via}", self.user.user_principal_name, how(self.eligible), self.role)
    }
}

/// The people among a role assignment's holders (directly, through a group, or eligible for the
/// group through PIM for Groups), enabled accounts only (a disabled one cannot sign in); what
/// cannot be resolved to people becomes a `not_evaluated` finding naming it.
#[allow(clippy::too_many_arguments)]
pub fn people_holding<'a>(
    dir: &Directory<'a>,
    principal_id: &'a str,
    principal_type: Option<&str>,
    group_name: Option<&'a str>,
    role: &str,
    eligible: bool,
    privilege_source: &'static str,
    cx: &mut crate::checks::Cx<'_, 'a>,
    out: &mut Vec<RoleHold<'a>>,
) {
    let r = dir.resolve_all(principal_id, principal_type);
    if !r.unknown.is_empty() {
        cx.not_evaluated(principal_resource(principal_id, group_name), format!("{} {role}: {}", how(eligible), r.unknown.join("; ")));
    }
    for h in r.holders {
        let Member::User(u) = h.member else { continue };
        if u.account_enabled == Some(false) {
            continue;
        }
        // The group by its name when the assignment carried one.
        let via_group = h.via_group.map(|g| group_name.unwrap_or(g));
        out.push(RoleHold { user: u, role: role.to_string(), eligible: eligible || h.eligible_in_group, via_group, privilege_source });
    }
}

/// Everyone who holds a privileged directory role, actively or as eligible, directly or through a
/// group (its members of every type, and those eligible for it through PIM for Groups), active
/// holds first. Privilege is the Entra model's ([`crate::reach::entra`]): a role whose definition
/// is unknown leaves its holders `not_evaluated`, naming the role id. A principal that cannot be
/// resolved to people becomes a `not_evaluated` finding, and so does an unreadable list of
/// eligible assignments (on the tenant), while the rest is still judged.
pub fn privileged_directory_holders<'a>(t: &'a AzureTenant, cx: &mut crate::checks::Cx<'_, 'a>) -> Result<Vec<RoleHold<'a>>, Missing> {
    let (mut assignments, gap) = directory_assignments(t)?;
    let dir = Directory::new(t)?;
    let roles = EntraRoles::new(t);
    assignments.sort_by_key(|(_, eligible)| *eligible);
    let mut out = Vec::new();
    for (a, eligible) in assignments {
        let (role, source) = match roles.judge(&a.role_definition_id) {
            Verdict::NotPrivileged { .. } => continue,
            Verdict::Unknown(why) => {
                cx.not_evaluated(principal_resource(&a.principal_id, a.principal_name.as_deref()), format!("{} directory role {}: {why}", how(eligible), a.role_definition_id))
                    .with("role_id", a.role_definition_id.as_str());
                continue;
            }
            // The fallback shows in the finding itself, not only in its evidence.
            Verdict::Privileged { name, source: Source::PublishedList, .. } => {
                (format!("{name} (privileged per Microsoft's published list: isPrivileged was not read)"), Source::PublishedList)
            }
            Verdict::Privileged { name, source, .. } => (name, source),
        };
        people_holding(&dir, &a.principal_id, a.principal_type.as_deref(), a.principal_name.as_deref(), &role, eligible, source.describe(), cx, &mut out);
    }
    if let Some(m) = gap {
        cx.missing(crate::checks::scope_resource(crate::checks::ScopeKind::AzureTenant, &t.tenant_id), &m);
    }
    Ok(out)
}

/// Everyone who holds a privileged Azure role over a whole subscription (privileged as the Azure
/// RBAC model reads the role's definition: any capability of [`crate::reach::azure`]), actively
/// or as eligible, directly or through a group. Subscriptions whose assignments cannot be read,
/// roles whose definitions were not read, and principals that cannot be resolved, become
/// `not_evaluated` findings.
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
        let rbac = AzureRbac::new(sub);
        for (a, eligible) in assignments.into_iter().filter(|(a, _)| at_subscription_or_above(&a.scope, sub)) {
            let role = match azure_privilege(&rbac, a) {
                Ok(Some((role, true))) => role,
                Ok(None) => continue,
                Ok(Some((role, false))) => {
                    cx.not_evaluated(principal_resource(&a.principal_id, None), format!("{} {role} of {name}: {}", how(eligible), a.condition.as_deref().unwrap_or_default()))
                        .with("role_id", a.role_guid());
                    continue;
                }
                Err(m) => {
                    cx.not_evaluated(principal_resource(&a.principal_id, None), format!("{} role {} of {name}: {m}", how(eligible), a.role_guid()))
                        .with("role_id", a.role_guid());
                    continue;
                }
            };
            people_holding(&dir, &a.principal_id, a.principal_type.as_deref(), None, &format!("{role} of {name}"), eligible, "the Azure RBAC role model", cx, &mut out);
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

#[cfg(test)]
mod directory_tests {
    use super::*;
    use crate::inventory::azure::GroupMember;

    fn tenant() -> AzureTenant {
        let mut t = AzureTenant::new("3f2e1d0c-aaaa-4bbb-8ccc-000000000001");
        t.users = Collected::Collected(vec![EntraUser {
            id: "u1".into(),
            user_principal_name: "ana@contoso.example".into(),
            account_enabled: Some(true),
            user_type: Some("Member".into()),
            created: None,
            creation_type: None,
        }]);
        t.service_principals = Collected::Collected(vec![EntraServicePrincipal {
            id: "sp1".into(),
            app_id: "a1".into(),
            display_name: "Vendor app".into(),
            kind: "service_principal".into(),
            owner_tenant_id: Some("99999999-0000-4000-8000-000000000099".into()),
            credentials: Vec::new(),
            account_enabled: Some(true),
            created: None,
        }]);
        let member = |id: &str, kind: &str| GroupMember { id: id.into(), kind: kind.into(), access: None };
        t.group_members = Collected::Collected(vec![
            GroupMembers { group_id: "g1".into(), user_ids: Vec::new(), members: Some(vec![member("u1", "user"), member("sp1", "servicePrincipal")]), eligible: Collected::Collected(Vec::new()) },
            GroupMembers { group_id: "g2".into(), user_ids: vec!["u1".into()], members: None, eligible: Collected::NotRequested },
        ]);
        t
    }

    #[test]
    fn a_group_holds_its_service_principals_too_and_they_can_be_outside() {
        let t = tenant();
        let dir = Directory::new(&t).unwrap();
        let r = dir.resolve_all("g1", Some("group"));
        assert!(r.unknown.is_empty() && r.non_users_unknown.is_empty());
        let sps: Vec<_> = r.holders.iter().filter_map(|h| if let Member::ServicePrincipal(sp) = h.member { Some(sp) } else { None }).collect();
        assert_eq!(sps.len(), 1);
        assert_eq!(service_principal_outside(sps[0], dir.tenant_id()), Some(true));
    }

    #[test]
    fn unread_eligibility_and_unread_member_types_are_gaps_not_absence() {
        let t = tenant();
        let dir = Directory::new(&t).unwrap();
        let r = dir.resolve_all("g2", None);
        assert!(r.unknown.iter().any(|w| w.contains("PIM for Groups")), "{:?}", r.unknown);
        assert!(r.non_users_unknown.iter().any(|w| w.contains("only the user members")), "{:?}", r.non_users_unknown);
        assert!(matches!(dir.resolve("g2", None), Resolved::Unknown(_)));
    }
}
