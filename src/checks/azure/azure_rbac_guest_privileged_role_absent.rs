//! No outside identity holds a privileged Azure role over a whole subscription, actively or as an
//! eligible (PIM) assignment. Privileged is what the role's definition lets it do, as the Azure
//! RBAC model reads it (`reach::azure`): write role assignments or definitions, do everything,
//! act on Key Vault secrets and keys, run code as a workload identity, manage the subscription.
//! Outside is every identity not proven ours: a user that `userType`/`creationType` make a guest
//! or invited user (never judged by the `#EXT#` shape of the UPN), a group of another tenant, and
//! a service principal whose application belongs to another tenant (`appOwnerOrganizationId`),
//! directly or as a member of, or eligible (PIM for Groups) for, a role-holding group. What
//! cannot be told is `not_evaluated`.

use crate::checks::Cx;
use crate::inventory::azure::{AzureSubscription, AzureTenant};
use crate::inventory::{Dataset, Missing};

use super::{
    at_subscription_or_above, azure_privilege, how, principal_resource, service_principal_outside, subscription_assignments, user_resource, Directory, Member,
};
use crate::inventory::azure::Membership;
use crate::reach::azure::AzureRbac;

pub const DATASETS: &[Dataset] = &[
    Dataset::AzureRoleAssignments,
    Dataset::AzureRoleEligibility,
    Dataset::AzureRoleDefinitions,
    Dataset::AzureUsers,
    Dataset::AzureServicePrincipals,
    Dataset::AzureGroupMembers,
];
pub const PARAMS: &[&str] = &[];

pub fn run<'a>(sub: &'a AzureSubscription, t: &'a AzureTenant, cx: &mut Cx<'_, 'a>) -> Result<(), Missing> {
    let (assignments, gap) = subscription_assignments(sub)?;
    let rbac = AzureRbac::new(sub);
    let dir = Directory::new(t)?;
    let mut guests = 0;
    let mut unknown = 0;
    for (a, eligible) in assignments.iter().filter(|(a, _)| at_subscription_or_above(&a.scope, sub)) {
        // Privilege from the role's definition, through the Azure RBAC model; a role whose
        // definition was not read could be as strong as Owner.
        let (role, decided) = match azure_privilege(&rbac, a) {
            Ok(Some(p)) => p,
            Ok(None) => continue,
            Err(m) => {
                unknown += 1;
                cx.not_evaluated(principal_resource(&a.principal_id, None), format!("{} role {} at {}: {m}", how(*eligible), a.role_guid(), a.scope))
                    .with("role_id", a.role_guid());
                continue;
            }
        };
        if !decided {
            unknown += 1;
        }
        if a.principal_type.as_deref().is_some_and(|p| p.eq_ignore_ascii_case("ForeignGroup")) {
            guests += 1;
            let (res, msg) = (principal_resource(&a.principal_id, None), format!("a group from another tenant {} {role} at {}", how(*eligible), a.scope));
            if decided { cx.fail(res, msg) } else { cx.not_evaluated(res, msg) }
                .with("role", role.clone())
                .with("scope", a.scope.as_str())
                // One finding per hold: the same principal may hold several roles, in several
                // subscriptions; each keeps its own fingerprint.
                .detail(format!("{} {}", a.scope.to_ascii_lowercase(), a.role_guid()))
                .with("eligible", *eligible);
            continue;
        }
        // Every member type and PIM for Groups eligibility count; an outside identity is a guest
        // or invited user, or a service principal whose application belongs to another tenant.
        let r = dir.resolve_all(&a.principal_id, a.principal_type.as_deref());
        for why in r.unknown.iter().chain(&r.non_users_unknown) {
            unknown += 1;
            cx.not_evaluated(principal_resource(&a.principal_id, None), format!("{} {role} at {}: {why}", how(*eligible), a.scope));
        }
        for h in &r.holders {
            let eligible = *eligible || h.eligible_in_group;
            let via = h.via_group.map(|g| format!(" through group {g}")).unwrap_or_default();
            let (resource, who, outside) = match h.member {
                Member::User(u) => {
                    let who = u.user_principal_name.as_str();
                    match u.membership() {
                        Membership::Member => continue,
                        Membership::Outside(why) => (user_resource(u), format!("outside identity {who} ({why})"), why.to_string()),
                        Membership::Unknown => {
                            unknown += 1;
                            cx.not_evaluated(user_resource(u), format!("{who} {} {role} at {}{via}, and neither userType nor creationType says whether it is a guest", how(eligible), a.scope));
                            continue;
                        }
                    }
                }
                Member::ServicePrincipal(sp) => {
                    let res = principal_resource(&sp.id, Some(&sp.display_name));
                    match service_principal_outside(sp, dir.tenant_id()) {
                        Some(false) => continue,
                        Some(true) => {
                            let owner = sp.owner_tenant_id.as_deref().unwrap_or("?");
                            (res, format!("service principal {} of another tenant ({owner})", sp.display_name), format!("appOwnerOrganizationId {owner}"))
                        }
                        None => {
                            unknown += 1;
                            cx.not_evaluated(res, format!("service principal {} {} {role} at {}{via}, and the tenant that owns its application was not read", sp.display_name, how(eligible), a.scope));
                            continue;
                        }
                    }
                }
            };
            guests += 1;
            let msg = format!("{who} {} {role} at {}{via}", how(eligible), a.scope);
            if decided { cx.fail(resource, msg) } else { cx.not_evaluated(resource, msg) }
                .with("role", role.clone())
                .with("scope", a.scope.as_str())
                // One finding per hold: the same principal may hold several roles, in several
                // subscriptions; each keeps its own fingerprint.
                .detail(format!("{} {}", a.scope.to_ascii_lowercase(), a.role_guid()))
                .with("eligible", eligible)
                .with("via_group", h.via_group)
                .with("outside_because", outside);
        }
    }
    if let Some(m) = gap {
        cx.missing(subscription_resource(sub), &m);
    } else if guests == 0 && unknown == 0 {
        cx.pass(subscription_resource(sub), "no guest or other outside identity (a user of another organization, a service principal of another tenant) holds a privileged role over the subscription, actively or as eligible");
    }
    Ok(())
}

pub fn subscription_resource(sub: &AzureSubscription) -> crate::finding::Resource<'_> {
    crate::finding::Resource {
        id: std::borrow::Cow::Owned(sub.scope()),
        name: sub.display_name.as_deref().unwrap_or(&sub.subscription_id).into(),
        kind: "azure_subscription",
    }
}
