//! Azure Lighthouse delegations go only to allow-listed tenants and grant no privileged role.

use crate::checks::Cx;
use crate::finding::Resource;
use crate::inventory::azure::{AzureSubscription, AzureTenant};
use crate::inventory::{Dataset, Missing};

use super::azure_rbac_guest_privileged_role_absent::subscription_resource;
use super::PRIVILEGED_AZURE_ROLES;

pub const DATASETS: &[Dataset] = &[Dataset::AzureLighthouse];
pub const PARAMS: &[&str] = &[];

pub fn run<'a>(sub: &'a AzureSubscription, _t: &'a AzureTenant, cx: &mut Cx<'_, 'a>) -> Result<(), Missing> {
    let delegations = sub.lighthouse.require(Dataset::AzureLighthouse)?;
    let trusted = &cx.settings.trusted.azure_tenants;
    for d in delegations {
        let tenant = d.managed_by_tenant_name.as_deref().map(|n| format!("{n} ({})", d.managed_by_tenant_id)).unwrap_or_else(|| d.managed_by_tenant_id.clone());
        let mut problems = Vec::new();
        if !trusted.iter().any(|t| t.eq_ignore_ascii_case(&d.managed_by_tenant_id)) {
            problems.push(format!("tenant {tenant} is not in [trust] azure_tenants"));
        }
        for a in &d.authorizations {
            if let Some((_, role)) = PRIVILEGED_AZURE_ROLES.iter().find(|(id, _)| a.role_definition_id.eq_ignore_ascii_case(id)) {
                let who = a.principal_name.as_deref().unwrap_or(&a.principal_id);
                let how = if a.eligible { "is eligible for" } else { "holds" };
                problems.push(format!("{who} in {tenant} {how} {role}"));
            }
        }
        let res = Resource { id: d.id.as_str().into(), name: d.definition_name.as_deref().unwrap_or(&d.id).into(), kind: "azure_lighthouse_assignment" };
        if problems.is_empty() {
            cx.pass(res, format!("delegation to allow-listed tenant {tenant} grants no privileged role"));
        } else {
            cx.fail(res, problems.join("; ")).with("managed_by_tenant", d.managed_by_tenant_id.as_str()).with("scope", d.scope.as_deref());
        }
    }
    if delegations.is_empty() {
        cx.pass(subscription_resource(sub), "no Azure Lighthouse delegations");
    }
    Ok(())
}
