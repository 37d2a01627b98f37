//! Azure Lighthouse delegations go only to allow-listed tenants and grant no privileged role.
//! Privileged is what the role's definition lets it do, as the Azure RBAC model reads it
//! (`reach::azure`); an authorization whose role definition was not read leaves the delegation
//! not evaluated, naming the role. The roles a User Access Administrator authorization may assign
//! to managed identities (`delegatedRoleDefinitionIds`) are judged the same way.

use crate::checks::Cx;
use crate::finding::Resource;
use crate::inventory::azure::{AzureSubscription, AzureTenant};
use crate::inventory::{Dataset, Missing};

use super::azure_rbac_guest_privileged_role_absent::subscription_resource;
use crate::policy::azure_condition::Truth;
use crate::reach::azure::{Asker, AzureRbac};

pub const DATASETS: &[Dataset] = &[Dataset::AzureLighthouse, Dataset::AzureRoleDefinitions];
pub const PARAMS: &[&str] = &[];

pub fn run<'a>(sub: &'a AzureSubscription, _t: &'a AzureTenant, cx: &mut Cx<'_, 'a>) -> Result<(), Missing> {
    let delegations = sub.lighthouse.require(Dataset::AzureLighthouse)?;
    let trusted = &cx.settings.trusted.azure_tenants;
    let rbac = AzureRbac::new(sub);
    for d in delegations {
        let tenant = d.managed_by_tenant_name.as_deref().map(|n| format!("{n} ({})", d.managed_by_tenant_id)).unwrap_or_else(|| d.managed_by_tenant_id.clone());
        let mut problems = Vec::new();
        let mut unread = Vec::new();
        if !trusted.iter().any(|t| t.eq_ignore_ascii_case(&d.managed_by_tenant_id)) {
            problems.push(format!("tenant {tenant} is not in [trust] azure_tenants"));
        }
        let scope = d.scope.clone().unwrap_or_else(|| sub.scope());
        for a in &d.authorizations {
            let who = a.principal_name.as_deref().unwrap_or(&a.principal_id);
            let how = if a.eligible { "is eligible for" } else { "holds" };
            // A principal of the managing tenant: no condition, no principal of ours it controls.
            let asker = Asker { id: &a.principal_id, kind: None, controls: &[] };
            match rbac.grant(&a.role_definition_id, &scope, None, asker) {
                Ok(g) if g.privileged() == Truth::True => problems.push(format!("{who} in {tenant} {how} {}, which {}", g.role.name(), g.summary(Truth::True))),
                Ok(g) if g.privileged() == Truth::Unknown => {
                    problems.push(format!("{who} in {tenant} {how} {}, which {} if its condition allows", g.role.name(), g.summary(Truth::Unknown)))
                }
                Ok(_) => {}
                Err(m) => unread.push(format!("{who} in {tenant} {how} role {}: {m}", a.role_definition_id)),
            }
            for r in &a.delegated_role_definition_ids {
                match rbac.role(r) {
                    Ok(role) if role.privileged() => problems.push(format!("{who} in {tenant} may assign {} to managed identities, which {}", role.name(), role.summary())),
                    Ok(_) => {}
                    Err(m) => unread.push(format!("{who} in {tenant} may assign role {r} to managed identities: {m}")),
                }
            }
        }
        let res = Resource { id: d.id.as_str().into(), name: d.definition_name.as_deref().unwrap_or(&d.id).into(), kind: "azure_lighthouse_assignment" };
        if problems.is_empty() && !unread.is_empty() {
            cx.not_evaluated(res, unread.join("; ")).with("managed_by_tenant", d.managed_by_tenant_id.as_str());
        } else if problems.is_empty() {
            cx.pass(res, format!("delegation to allow-listed tenant {tenant} grants no privileged role"));
        } else {
            problems.extend(unread);
            cx.fail(res, problems.join("; ")).with("managed_by_tenant", d.managed_by_tenant_id.as_str()).with("scope", d.scope.as_deref());
        }
    }
    if delegations.is_empty() {
        cx.pass(subscription_resource(sub), "no Azure Lighthouse delegations");
    }
    Ok(())
}
