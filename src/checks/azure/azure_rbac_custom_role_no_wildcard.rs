//! No custom role usable at subscription scope or above grants every action (`*`), or any
//! action or data action with a wildcard where the provider goes, in any of its permission blocks.
//! The role is read whole by the Azure RBAC model (`reach::azure`), which also says what such a
//! role can do.

use crate::checks::Cx;
use crate::finding::Resource;
use crate::inventory::azure::{AzureSubscription, AzureTenant};
use crate::inventory::{Dataset, Missing};
use crate::reach::azure::AzureRbac;

use super::azure_rbac_guest_privileged_role_absent::subscription_resource;
use super::at_subscription_or_above;

pub const DATASETS: &[Dataset] = &[Dataset::AzureRoleDefinitions];
pub const PARAMS: &[&str] = &[];

pub fn run<'a>(sub: &'a AzureSubscription, _t: &'a AzureTenant, cx: &mut Cx<'_, 'a>) -> Result<(), Missing> {
    let defs = sub.role_definitions.require(Dataset::AzureRoleDefinitions)?;
    let rbac = AzureRbac::new(sub);
    let mut custom = 0;
    for d in defs.iter().filter(|d| d.is_custom()) {
        let Ok(role) = rbac.role(&d.id) else { continue };
        custom += 1;
        let broad: Vec<&str> = d.assignable_scopes.iter().filter(|s| at_subscription_or_above(s, sub) || is_other_subscription(s)).map(String::as_str).collect();
        let res = Resource { id: d.id.as_str().into(), name: d.role_name.as_str().into(), kind: "azure_role_definition" };
        let every = role.provider_wildcards();
        if !every.is_empty() && !broad.is_empty() {
            let can = match role.summary() {
                s if s.is_empty() => String::new(),
                s => format!("; it {s}"),
            };
            cx.fail(res, format!("custom role {:?} grants {} on every resource provider and is assignable at {}{can}", d.role_name, every.join(", "), broad.join(", ")))
                .with("not_actions", d.blocks().iter().flat_map(|b| b.not_actions.clone()).collect::<Vec<_>>().join(", "));
        } else {
            cx.pass(res, format!("custom role {:?} does not grant `*` at subscription scope or above", d.role_name));
        }
    }
    if custom == 0 {
        cx.pass(subscription_resource(sub), "no custom role definitions");
    }
    Ok(())
}

/// A whole subscription (any), which is subscription scope too.
fn is_other_subscription(scope: &str) -> bool {
    let parts: Vec<&str> = scope.trim_matches('/').split('/').collect();
    parts.len() == 2 && parts[0].eq_ignore_ascii_case("subscriptions")
}
