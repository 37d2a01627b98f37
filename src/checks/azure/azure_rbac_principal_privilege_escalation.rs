//! No principal that is not an owner of a subscription can make itself one: by assigning itself
//! Owner (or a role that can assign Owner) with `Microsoft.Authorization/roleAssignments/write`,
//! or by rewriting a custom role it holds with `Microsoft.Authorization/roleDefinitions/write`.
//!
//! Only assignments over the whole subscription count (at it, a management group above it or the
//! root). A role-assignment condition is read (`policy::azure_condition`) for the roles it lets the
//! holder assign to itself; one this reader cannot decide leaves the principal not evaluated.

use std::collections::BTreeMap;

use crate::checks::Cx;
use crate::finding::Resource;
use crate::inventory::azure::{role_guid, AzureRoleAssignment, AzureRoleDefinition, AzureSubscription, AzureTenant};
use crate::inventory::{Dataset, Missing};
use crate::policy::azure_condition::{allows, AssignmentRequest, Truth};

use super::azure_rbac_guest_privileged_role_absent::subscription_resource;
use super::{at_subscription_or_above, how, subscription_assignments, OWNER, RBAC_ADMINISTRATOR, USER_ACCESS_ADMINISTRATOR};

pub const DATASETS: &[Dataset] = &[
    Dataset::AzureRoleAssignments,
    Dataset::AzureRoleEligibility,
    Dataset::AzureRoleDefinitions,
    Dataset::AzureScopes,
    Dataset::AzureUsers,
    Dataset::AzureServicePrincipals,
];
pub const PARAMS: &[&str] = &[];

const ASSIGN: &str = "Microsoft.Authorization/roleAssignments/write";
const DEFINE: &str = "Microsoft.Authorization/roleDefinitions/write";

/// Built-in roles by what they grant, for when the definitions were not read: Owner everything,
/// User Access Administrator `Microsoft.Authorization/*`, RBAC Administrator role assignments
/// only, Contributor and Reader neither.
fn builtin_grants(guid: &str, action: &str) -> Option<bool> {
    match guid {
        OWNER | USER_ACCESS_ADMINISTRATOR => Some(true),
        RBAC_ADMINISTRATOR => Some(action == ASSIGN),
        super::CONTRIBUTOR | "acdd72a7-3385-48ef-bd42-f606fba81ae7" => Some(false),
        _ => None,
    }
}

struct Roles<'a> {
    defs: Option<&'a [AzureRoleDefinition]>,
    missing: Option<Missing>,
}

impl<'a> Roles<'a> {
    fn def(&self, guid: &str) -> Option<&'a AzureRoleDefinition> {
        self.defs?.iter().find(|d| role_guid(&d.id) == guid)
    }

    /// Does the role grant `action` (its actions match and its notActions do not)? `None` when
    /// the role's definition is unknown.
    fn grants(&self, guid: &str, action: &str) -> Option<bool> {
        match self.def(guid) {
            Some(d) => Some(d.grants(action)),
            None => builtin_grants(guid, action),
        }
    }

    /// Owner or as strong: every action, nothing taken back from `Microsoft.Authorization`.
    fn is_owner(&self, guid: &str) -> bool {
        guid == OWNER || self.def(guid).is_some_and(AzureRoleDefinition::grants_everything)
    }

    fn name(&self, guid: &str) -> String {
        if let Some(d) = self.def(guid) {
            return d.role_name.clone();
        }
        match guid {
            OWNER => "Owner".into(),
            USER_ACCESS_ADMINISTRATOR => "User Access Administrator".into(),
            RBAC_ADMINISTRATOR => "Role Based Access Control Administrator".into(),
            _ => format!("role {guid}"),
        }
    }

    /// The roles that lead to Owner when assigned: Owner, the built-in roles that assign roles,
    /// and every role read that grants role assignments.
    fn targets(&self) -> Vec<String> {
        let mut t: Vec<String> = [OWNER, USER_ACCESS_ADMINISTRATOR, RBAC_ADMINISTRATOR].iter().map(|s| s.to_string()).collect();
        for d in self.defs.unwrap_or_default() {
            let g = role_guid(&d.id);
            if !t.contains(&g) && self.grants(&g, ASSIGN) == Some(true) {
                t.push(g);
            }
        }
        t
    }
}

/// What one principal can do, step by step.
#[derive(Default)]
struct Verdict {
    /// Ways it can make itself an owner.
    paths: Vec<String>,
    /// Ways it might, depending on something undecided.
    undecided: Vec<String>,
    /// Role-assignment rights that were read and do not lead to Owner.
    constrained: Vec<String>,
}

fn subscription_chain(t: &AzureTenant, sub: &AzureSubscription) -> Option<Vec<String>> {
    let mut chain = t.ancestors(&sub.subscription_id)?;
    chain.push(sub.scope());
    Some(chain.into_iter().map(|s| s.to_ascii_lowercase()).collect())
}

/// Does a write right at `at` (over the whole subscription) reach the assignable scope `a`?
fn covers(at: &str, a: &str, sub: &AzureSubscription, chain: Option<&[String]>) -> Truth {
    let at = at.trim_end_matches('/').to_ascii_lowercase();
    let a = a.trim_end_matches('/').to_ascii_lowercase();
    let under = |outer: &str, inner: &str| inner == outer || inner.starts_with(&format!("{outer}/"));
    if at.is_empty() || under(&at, &a) || under(&sub.scope().to_ascii_lowercase(), &a) {
        return Truth::True;
    }
    match chain {
        // A management group on the subscription's path: reached when the right sits at it or above.
        Some(chain) if chain.contains(&a) => {
            let pos = |s: &str| chain.iter().position(|c| c == s);
            match (pos(&at), pos(&a)) {
                (Some(i), Some(j)) if i <= j => Truth::True,
                _ => Truth::False,
            }
        }
        _ if a.starts_with("/providers/microsoft.management/managementgroups/") => Truth::Unknown,
        _ => Truth::False,
    }
}

pub fn run<'a>(sub: &'a AzureSubscription, t: &'a AzureTenant, cx: &mut Cx<'_, 'a>) -> Result<(), Missing> {
    let (assignments, gap) = subscription_assignments(sub)?;
    let roles = Roles { defs: sub.role_definitions.get().map(Vec::as_slice), missing: sub.role_definitions.require(Dataset::AzureRoleDefinitions).err() };
    let chain = subscription_chain(t, sub);
    let targets = roles.targets();
    // A management group off the subscription's path (when the path is known) grants nothing in it.
    let on_path = |scope: &str| {
        let s = scope.trim_end_matches('/').to_ascii_lowercase();
        !s.starts_with("/providers/microsoft.management/managementgroups/") || chain.as_ref().is_none_or(|c| c.contains(&s))
    };
    let whole: Vec<&(&AzureRoleAssignment, bool)> = assignments.iter().filter(|(a, _)| at_subscription_or_above(&a.scope, sub) && on_path(&a.scope)).collect();

    let mut by_principal: BTreeMap<&str, Vec<&(&AzureRoleAssignment, bool)>> = BTreeMap::new();
    for a in &whole {
        by_principal.entry(a.0.principal_id.as_str()).or_default().push(a);
    }
    let (mut failed, mut undecided, mut assigners) = (0, 0, 0);
    for (principal, held) in by_principal {
        // An owner already has everything; an unconditioned Owner assignment (active or eligible).
        if held.iter().any(|(a, _)| a.condition.is_none() && roles.is_owner(&a.role_guid())) {
            continue;
        }
        let kind = held.iter().find_map(|(a, _)| a.principal_type.as_deref());
        let mut v = Verdict::default();
        for (a, eligible) in &held {
            let guid = a.role_guid();
            let role = roles.name(&guid);
            let holds = format!("{} {role} at {}", how(*eligible), a.scope);
            match roles.grants(&guid, ASSIGN) {
                None => {
                    let why = roles.missing.as_ref().map(|m| m.to_string()).unwrap_or_else(|| "its definition is not among those read".into());
                    v.undecided.push(format!("{holds}: what the role grants is unknown ({why})"));
                }
                Some(false) => {}
                Some(true) => match &a.condition {
                    None => v.paths.push(format!("{holds}, which grants {ASSIGN} without a condition: it can assign itself Owner")),
                    Some(cond) => {
                        let mut allowed = Vec::new();
                        let mut unsure = Vec::new();
                        for g in &targets {
                            let req = AssignmentRequest { action: ASSIGN, role_definition_id: g, principal_id: principal, principal_type: kind };
                            match allows(cond, &req) {
                                Truth::True => allowed.push(if g == OWNER { roles.name(g) } else { format!("{} (which can assign Owner)", roles.name(g)) }),
                                Truth::Unknown => unsure.push(roles.name(g)),
                                Truth::False => {}
                            }
                        }
                        if !allowed.is_empty() {
                            v.paths.push(format!("{holds}, whose condition still lets it assign itself {}", allowed.join(", ")));
                        } else if !unsure.is_empty() {
                            v.undecided.push(format!("{holds}, with a condition that cannot be decided for {}: {cond}", unsure.join(", ")));
                        } else {
                            v.constrained.push(format!("{holds}, with a condition that refuses Owner and every role that assigns roles"));
                        }
                    }
                },
            }
            if guid == OWNER || roles.grants(&guid, DEFINE) != Some(true) {
                continue;
            }
            // Rewriting a custom role it holds over the whole subscription.
            for (h, h_eligible) in &held {
                let Some(d) = roles.def(&h.role_guid()).filter(|d| d.is_custom()) else { continue };
                if d.assignable_scopes.is_empty() {
                    continue;
                }
                let reach = d.assignable_scopes.iter().map(|s| covers(&a.scope, s, sub, chain.as_deref())).fold(Truth::True, |x, y| match (x, y) {
                    (Truth::False, _) | (_, Truth::False) => Truth::False,
                    (Truth::Unknown, _) | (_, Truth::Unknown) => Truth::Unknown,
                    _ => Truth::True,
                });
                let what = format!(
                    "{holds}, which grants {DEFINE}: it can rewrite custom role {:?} to grant every action, and it {} that role at {}",
                    d.role_name,
                    how(*h_eligible),
                    h.scope
                );
                match (reach, a.condition.is_some()) {
                    (Truth::True, false) => v.paths.push(what),
                    (Truth::False, _) => {}
                    (_, cond) => v.undecided.push(format!(
                        "{what}{}",
                        if cond { " (the assignment has a condition)" } else { "; whether the right reaches every scope the role is assignable at is unknown" }
                    )),
                }
            }
        }
        if v.paths.is_empty() && v.undecided.is_empty() && v.constrained.is_empty() {
            continue;
        }
        assigners += 1;
        let res = principal_resource(t, principal);
        if !v.paths.is_empty() {
            failed += 1;
            let n = v.paths.len() as i64;
            cx.fail(res, format!("{} is not an owner of {} and can make itself one: {}", res_name(t, principal, kind), sub_name(sub), v.paths.join("; ")))
                .with("paths", n)
                .with("subscription", sub.subscription_id.as_str());
        } else if !v.undecided.is_empty() {
            undecided += 1;
            cx.not_evaluated(res, format!("{} may be able to make itself an owner of {}: {}", res_name(t, principal, kind), sub_name(sub), v.undecided.join("; ")));
        } else {
            cx.pass(res, format!("{} may assign roles in {}, but not Owner to itself: {}", res_name(t, principal, kind), sub_name(sub), v.constrained.join("; ")));
        }
    }
    if let Some(m) = gap {
        cx.missing(subscription_resource(sub), &m);
    } else if failed == 0 && undecided == 0 {
        let others = match assigners {
            0 => "no one else may assign roles or change role definitions".to_string(),
            n => format!("{n} other principal(s) may assign roles, each constrained"),
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
