//! No principal that is not an owner of a subscription can make itself one. What a role lets its
//! holder do comes from the role's definition through the Azure RBAC model (`reach::azure`),
//! which also composes the chains: assign itself (or a group it belongs to) a role that does
//! everything, or one that assigns or defines roles and go on from there; rewrite a custom role it
//! holds, or can assign itself, with `Microsoft.Authorization/roleDefinitions/write` reaching every
//! scope the role is assignable at; create a role and assign it to itself.
//!
//! Only assignments over the whole subscription count (at it, a management group above it or the
//! root). Conditions (the assignment's and the role block's) are read by
//! `policy::azure_condition`; one this reader cannot decide leaves the principal not evaluated,
//! and so does a held role whose definition was not read (naming it).

use std::collections::BTreeMap;

use crate::checks::Cx;
use crate::finding::Resource;
use crate::inventory::azure::{AzureRoleAssignment, AzureSubscription, AzureTenant};
use crate::inventory::{Dataset, Missing};
use crate::policy::azure_condition::Truth;
use crate::reach::azure::{covers, subscription_chain, Asker, AzureRbac, Capability, Held};

use super::azure_rbac_guest_privileged_role_absent::subscription_resource;
use super::{at_subscription_or_above, how, subscription_assignments};

pub const DATASETS: &[Dataset] = &[
    Dataset::AzureRoleAssignments,
    Dataset::AzureRoleEligibility,
    Dataset::AzureRoleDefinitions,
    Dataset::AzureScopes,
    Dataset::AzureUsers,
    Dataset::AzureServicePrincipals,
    Dataset::AzureGroupMembers,
];
pub const PARAMS: &[&str] = &[];

/// The groups a principal belongs to or may activate (PIM for Groups): it may assign a role to
/// one of them instead of itself.
fn groups_of(t: &AzureTenant, principal: &str) -> Vec<String> {
    let Some(groups) = t.group_members.get() else { return Vec::new() };
    groups
        .iter()
        .filter(|g| g.all_members().iter().any(|m| m.id == principal) || g.eligible.get().is_some_and(|e| e.iter().any(|m| m.id == principal)))
        .map(|g| g.group_id.clone())
        .collect()
}

pub fn run<'a>(sub: &'a AzureSubscription, t: &'a AzureTenant, cx: &mut Cx<'_, 'a>) -> Result<(), Missing> {
    let (assignments, gap) = subscription_assignments(sub)?;
    let rbac = AzureRbac::new(sub);
    let chain = subscription_chain(t, sub);
    // A management group off the subscription's path (when the path is known) grants nothing in
    // it. A group the tree that was read does not hold at all cannot be placed: the listing of the
    // subscription's assignments returned it, so it counts as on the path.
    const GROUPS: &str = "/providers/microsoft.management/managementgroups/";
    let in_tree: std::collections::BTreeSet<String> = t
        .scopes
        .get()
        .into_iter()
        .flatten()
        .filter(|n| n.kind != crate::inventory::ScopeKind::AzureSubscription)
        .map(|n| format!("{GROUPS}{}", n.id.to_ascii_lowercase()))
        .collect();
    let on_path = |scope: &str| {
        let s = scope.trim_end_matches('/').to_ascii_lowercase();
        !s.starts_with(GROUPS) || chain.as_ref().is_none_or(|c| c.contains(&s)) || !in_tree.contains(&s)
    };
    let whole: Vec<&(&AzureRoleAssignment, bool)> = assignments.iter().filter(|(a, _)| at_subscription_or_above(&a.scope, sub) && on_path(&a.scope)).collect();

    let mut by_principal: BTreeMap<&str, Vec<&(&AzureRoleAssignment, bool)>> = BTreeMap::new();
    for a in &whole {
        by_principal.entry(a.0.principal_id.as_str()).or_default().push(a);
    }
    let reach = |at: &str, assignable: &str| covers(at, assignable, sub, chain.as_deref());
    let (mut failed, mut undecided, mut assigners) = (0, 0, 0);
    for (principal, held) in by_principal {
        let kind = held.iter().find_map(|(a, _)| a.principal_type.as_deref());
        let controls = groups_of(t, principal);
        let asker = Asker { id: principal, kind, controls: &controls };
        // An owner already has everything: a role that does everything, with no condition.
        if held.iter().any(|(a, _)| a.condition.is_none() && rbac.grant(&a.role_definition_id, &a.scope, None, asker).is_ok_and(|g| g.owner() == Truth::True)) {
            continue;
        }
        let mut unread = Vec::new();
        let mut steps = Vec::new();
        let mut rights = Vec::new();
        for (a, eligible) in &held {
            match rbac.role(&a.role_definition_id) {
                Err(m) => unread.push(format!("{} role {} at {}: {m}", how(*eligible), a.role_guid(), a.scope)),
                Ok(r) => {
                    let holds = format!("{} {} at {}", how(*eligible), r.name(), a.scope);
                    if r.statically(Capability::WriteRoleAssignments) || r.statically(Capability::WriteRoleDefinitions) {
                        rights.push(holds.clone());
                    }
                    steps.push(Held { role_id: &a.role_definition_id, scope: &a.scope, condition: a.condition.as_deref(), how: holds });
                }
            }
        }
        let e = rbac.escalation(&steps, asker, &reach);
        if e.paths.is_empty() && e.undecided.is_empty() && unread.is_empty() && rights.is_empty() {
            continue;
        }
        assigners += 1;
        let res = principal_resource(t, principal);
        let who = res_name(t, principal, kind);
        if !e.paths.is_empty() {
            failed += 1;
            let n = e.paths.len() as i64;
            let shown: Vec<&str> = e.paths.iter().take(3).map(String::as_str).collect();
            let more = if e.paths.len() > 3 { format!("; and {} more", e.paths.len() - 3) } else { String::new() };
            cx.fail(res, format!("{who} is not an owner of {} and can make itself one: {}{more}", sub_name(sub), shown.join("; ")))
                .with("paths", n)
                .with("subscription", sub.subscription_id.as_str());
        } else if !e.undecided.is_empty() || !unread.is_empty() {
            undecided += 1;
            let mut why: Vec<String> = unread;
            why.extend(e.undecided.iter().take(3).map(|u| format!("{u}, if the conditions allow")));
            let conds: Vec<&str> = held.iter().filter_map(|(a, _)| a.condition.as_deref()).collect();
            if !e.undecided.is_empty() && !conds.is_empty() {
                why.push(format!("conditions that cannot be decided: {}", conds.join(" | ")));
            }
            cx.not_evaluated(res, format!("{who} may be able to make itself an owner of {}: {}", sub_name(sub), why.join("; ")));
        } else {
            cx.pass(res, format!("{who} may assign or define roles in {}, but cannot make itself an owner: {}", sub_name(sub), rights.join("; ")));
        }
    }
    if let Some(m) = gap {
        cx.missing(subscription_resource(sub), &m);
    } else if failed == 0 && undecided == 0 {
        let others = match assigners {
            0 => "no one else may assign roles or change role definitions".to_string(),
            n => format!("{n} other principal(s) may assign or define roles, each constrained"),
        };
        cx.pass(subscription_resource(sub), format!("no principal that is not an owner of {} can make itself one: {others}", sub_name(sub)));
    }
    Ok(())
}

fn sub_name(sub: &AzureSubscription) -> &str {
    sub.display_name.as_deref().unwrap_or(&sub.subscription_id)
}

/// The principal's name where the directory read has it, else its type and id.
fn res_name(t: &AzureTenant, id: &str, kind: Option<&str>) -> String {
    if let Some(u) = t.users.get().and_then(|u| u.iter().find(|u| u.id == id)) {
        return u.user_principal_name.clone();
    }
    if let Some(s) = t.service_principals.get().and_then(|s| s.iter().find(|s| s.id == id)) {
        return format!("service principal {:?}", s.display_name);
    }
    format!("{} {id}", kind.map(str::to_ascii_lowercase).unwrap_or_else(|| "principal".into()))
}

fn principal_resource<'a>(t: &'a AzureTenant, id: &'a str) -> Resource<'a> {
    if let Some(u) = t.users.get().and_then(|u| u.iter().find(|u| u.id == id)) {
        return super::user_resource(u);
    }
    super::principal_resource(id, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sub() -> AzureSubscription {
        AzureSubscription::new("a1000000-0000-4000-8000-000000000001")
    }

    #[test]
    fn definition_rights_reach_scopes_below_them_and_on_the_subscriptions_path() {
        let s = sub();
        let chain: Vec<String> = ["/providers/microsoft.management/managementgroups/root", "/providers/microsoft.management/managementgroups/prod", "/subscriptions/a1000000-0000-4000-8000-000000000001"]
            .iter()
            .map(|x| x.to_string())
            .collect();
        let at_sub = "/subscriptions/a1000000-0000-4000-8000-000000000001";
        assert_eq!(covers(at_sub, "/subscriptions/A1000000-0000-4000-8000-000000000001/resourceGroups/rg", &s, Some(&chain)), Truth::True);
        assert_eq!(covers(at_sub, "/subscriptions/b2000000-0000-4000-8000-000000000002", &s, Some(&chain)), Truth::False);
        assert_eq!(covers(at_sub, "/providers/Microsoft.Management/managementGroups/prod", &s, Some(&chain)), Truth::False);
        let at_root = "/providers/Microsoft.Management/managementGroups/root";
        assert_eq!(covers(at_root, "/providers/Microsoft.Management/managementGroups/prod", &s, Some(&chain)), Truth::True);
        assert_eq!(covers(at_root, "/providers/Microsoft.Management/managementGroups/elsewhere", &s, Some(&chain)), Truth::Unknown);
        assert_eq!(covers("/", "/providers/Microsoft.Management/managementGroups/elsewhere", &s, None), Truth::True);
    }
}
