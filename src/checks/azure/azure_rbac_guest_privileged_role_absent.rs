//! No guest holds Owner, Contributor, User Access Administrator (or a custom role as strong) over
//! a whole subscription, actively or as an eligible (PIM) assignment.

use crate::checks::Cx;
use crate::inventory::azure::{AzureSubscription, AzureTenant};
use crate::inventory::{Dataset, Missing};

use super::{at_subscription_or_above, azure_role_privilege, how, principal_resource, subscription_assignments, user_resource, Directory, Resolved};

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
    let defs = sub.role_definitions.get().map(Vec::as_slice);
    let dir = Directory::new(t)?;
    let mut guests = 0;
    let mut unknown = 0;
    for (a, eligible) in assignments.iter().filter(|(a, _)| at_subscription_or_above(&a.scope, sub)) {
        let Some(role) = azure_role_privilege(&a.role_guid(), defs) else {
            if defs.is_none() && !super::PRIVILEGED_AZURE_ROLES.iter().any(|(id, _)| *id == a.role_guid()) {
                // A custom role that was not read could be as strong as Owner.
                let m = sub.role_definitions.require(Dataset::AzureRoleDefinitions).err();
                if let Some(m) = m {
                    unknown += 1;
                    cx.not_evaluated(principal_resource(&a.principal_id, None), format!("role {} at {}: {m}", a.role_guid(), a.scope));
                }
            }
            continue;
        };
        if a.principal_type.as_deref().is_some_and(|p| p.eq_ignore_ascii_case("ForeignGroup")) {
            guests += 1;
            cx.fail(principal_resource(&a.principal_id, None), format!("a group from another tenant {} {role} at {}", how(*eligible), a.scope))
                .with("role", role.clone())
                .with("scope", a.scope.as_str())
                .with("eligible", *eligible);
            continue;
        }
        match dir.resolve(&a.principal_id, a.principal_type.as_deref()) {
            Resolved::NotAPerson => {}
            Resolved::Unknown(why) => {
                unknown += 1;
                cx.not_evaluated(principal_resource(&a.principal_id, None), format!("{} {role} at {}: {why}", how(*eligible), a.scope));
            }
            Resolved::Users(holders) => {
                for h in holders.iter().filter(|h| h.user.is_guest()) {
                    guests += 1;
                    let via = h.via_group.map(|g| format!(" through group {g}")).unwrap_or_default();
                    cx.fail(user_resource(h.user), format!("guest {} {} {role} at {}{via}", h.user.user_principal_name, how(*eligible), a.scope))
                        .with("role", role.clone())
                        .with("scope", a.scope.as_str())
                        .with("eligible", *eligible)
                        .with("via_group", h.via_group);
                }
            }
        }
    }
    if let Some(m) = gap {
        cx.missing(subscription_resource(sub), &m);
    } else if guests == 0 && unknown == 0 {
        cx.pass(subscription_resource(sub), "no guest holds a privileged role over the subscription, actively or as eligible");
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
