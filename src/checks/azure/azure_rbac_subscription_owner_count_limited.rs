//! At most N principals own a subscription (active or eligible, over the whole subscription).
//! An owner is decided by capability, through the Azure RBAC model (`reach::azure`): a role that
//! does everything, or that writes role assignments with nothing stopping it from assigning Owner
//! (it can make itself owner), whatever its name. Every member of a group holding it counts,
//! service principals and PIM for Groups eligibles included. A holder whose role definition was not read is not evaluated, naming the role.

use std::collections::BTreeSet;

use crate::checks::Cx;
use crate::inventory::azure::{AzureSubscription, AzureTenant};
use crate::inventory::{Dataset, Missing};
use crate::policy::azure_condition::Truth;
use crate::reach::azure::{Asker, AzureRbac};

use super::azure_rbac_guest_privileged_role_absent::subscription_resource;
use super::{at_subscription_or_above, subscription_assignments, Directory, Member};

pub const DATASETS: &[Dataset] = &[
    Dataset::AzureRoleAssignments,
    Dataset::AzureRoleEligibility,
    Dataset::AzureRoleDefinitions,
    Dataset::AzureUsers,
    Dataset::AzureServicePrincipals,
    Dataset::AzureGroupMembers,
];
pub const PARAMS: &[&str] = &["max_owners"];

pub fn run<'a>(sub: &'a AzureSubscription, t: &'a AzureTenant, cx: &mut Cx<'_, 'a>) -> Result<(), Missing> {
    let limit = cx.param("max_owners");
    let (assignments, gap) = subscription_assignments(sub)?;
    let dir = Directory::new(t)?;
    let rbac = AzureRbac::new(sub);
    let mut owners: BTreeSet<String> = BTreeSet::new();
    let mut roles: BTreeSet<String> = BTreeSet::new();
    let mut unknown = Vec::new();
    for (a, _) in assignments.iter().filter(|(a, _)| at_subscription_or_above(&a.scope, sub)) {
        let asker = Asker { id: &a.principal_id, kind: a.principal_type.as_deref(), controls: &[] };
        match rbac.grant(&a.role_definition_id, &a.scope, a.condition.as_deref(), asker) {
            Ok(g) => match g.owner_in_effect() {
                Truth::False => continue,
                Truth::Unknown => {
                    unknown.push(format!("{} holds {}, whose condition may or may not leave it writing role assignments", a.principal_id, g.role.name()));
                    continue;
                }
                Truth::True => {
                    roles.insert(g.role.name().to_string());
                }
            },
            Err(m) => {
                unknown.push(format!("{} holds role {}: {m}", a.principal_id, a.role_guid()));
                continue;
            }
        }
        // Every member of a group holds its role, service principals and PIM for Groups
        // eligibles included; a member that cannot be told apart leaves the count unknown.
        let r = dir.resolve_all(&a.principal_id, a.principal_type.as_deref());
        for h in &r.holders {
            owners.insert(match h.member {
                Member::User(u) => u.user_principal_name.clone(),
                Member::ServicePrincipal(sp) => format!("{} ({})", sp.display_name, sp.id),
            });
        }
        let direct_sp = a.principal_type.as_deref().is_some_and(|k| k.eq_ignore_ascii_case("ServicePrincipal") || k.eq_ignore_ascii_case("msi"));
        if direct_sp && r.holders.is_empty() {
            // A service principal owns it as much as a person does, whether its name was read or not.
            owners.insert(a.principal_id.clone());
        } else {
            unknown.extend(r.unknown);
            unknown.extend(r.non_users_unknown);
        }
    }
    let n = owners.len() as i64;
    let list: Vec<String> = owners.into_iter().collect();
    let roles: Vec<String> = roles.into_iter().collect();
    if n > limit {
        cx.fail(subscription_resource(sub), format!("{n} principals own the subscription (limit {limit}), by {}", roles.join(", ")))
            .with("owners", list.join(", "))
            .with("roles", roles.join(", "));
    } else if let Some(m) = gap {
        cx.missing(subscription_resource(sub), &m);
    } else if !unknown.is_empty() {
        cx.not_evaluated(subscription_resource(sub), format!("{n} known owner(s), and some cannot be counted: {}", unknown.join("; ")));
    } else {
        cx.pass(subscription_resource(sub), format!("{n} principal(s) own the subscription (limit {limit})")).with("owners", list.join(", "));
    }
    Ok(())
}
